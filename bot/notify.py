"""Telling people that a record waits on them, was returned, or is stored."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import Forbidden, TelegramError

from bot import texts
from bot.texts import notices, records
from bot.texts import steps as step_texts
from handlers.callback_data import OpenRecord
from handlers.full_text import with_full_text
from sop.errors import SopError
from sop.model import Actor, RecordView, State
from sop.service import Outcome, PpidService
from storage import StorageError

log = logging.getLogger(__name__)


def open_button(record: RecordView) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    records.BUTTON_OPEN.format(number=record.number),
                    callback_data=OpenRecord(record.id).pack(),
                )
            ]
        ]
    )


async def send_safely(
    bot: Bot, recipients: Iterable[Actor], text: str, markup: InlineKeyboardMarkup | None
) -> list[int]:
    """Send to each recipient; one blocked or failing chat never stops the others.

    Returns the Telegram ids that received the message.
    """
    delivered = []
    for actor in recipients:
        try:
            await bot.send_message(actor.telegram_id, text, reply_markup=markup)
            delivered.append(actor.telegram_id)
        except Forbidden:
            log.warning("user %s has blocked the bot; notice not delivered", actor.telegram_id)
        except TelegramError:
            log.exception("could not notify user %s", actor.telegram_id)
    return delivered


def next_step_text(record: RecordView) -> str:
    run = record.current_run
    assert run is not None
    return notices.NEXT_STEP.format(
        number=texts.h(record.number),
        title=texts.h(record.fields.title),
        step=texts.STEP_NAMES[run.step],
        due=texts.wib(run.due_at),
    )


async def announce(
    bot: Bot, outcome: Outcome, actor: Actor, *, service: PpidService | None = None
) -> None:
    """Tell the right people what ``actor``'s action means for them.

    With ``service``, a hand-over (step 2 done) reaches each Pejabat PPID as the full
    package: the summary with the accept/return buttons, then the softcopies.
    """
    record = outcome.record
    others = [a for a in outcome.notify if a.user_id != actor.user_id]
    if record.state is State.REGISTERED and service is not None:
        for recipient in others:
            await _send_for_receipt(bot, service, record, recipient, actor)
        return
    if record.state is State.STORED:
        text = notices.STORED.format(
            number=texts.h(record.number),
            title=texts.h(record.fields.title),
            who=texts.h(actor.full_name),
        )
        await send_safely(bot, others, text, open_button(record))
        return
    run = record.current_run
    if run is None:
        return
    if record.return_reason and run.attempt > 1 and _was_returned(record):
        text = notices.RETURNED.format(
            number=texts.h(record.number),
            step=texts.STEP_NAMES[run.step],
            who=texts.h(actor.full_name),
            reason=texts.h(record.return_reason),
            due=texts.wib(run.due_at),
        )
    else:
        text = next_step_text(record)
    await send_safely(bot, others, text, open_button(record))


async def _send_for_receipt(
    bot: Bot, service: PpidService, record: RecordView, recipient: Actor, actor: Actor
) -> None:
    """One Pejabat PPID's step-3 notice: the card with buttons, then each softcopy."""
    from handlers.records import record_keyboard  # handlers import this module

    text = step_texts.receive_notice(record, actor.full_name, service.tz)
    markup = with_full_text(record_keyboard(service, recipient, record), record, text)
    if not await send_safely(bot, [recipient], text, markup):
        return
    for file in step_texts.division_files(record):
        try:
            # Read as the recipient: the audit log shows who received which softcopy.
            view, chunks = await service.read_file(recipient, file.id)
            data = b"".join([chunk async for chunk in chunks])
            await bot.send_document(
                recipient.telegram_id,
                InputFile(data, filename=view.original_name[:200] or "berkas"),
                caption=step_texts.file_caption(record, view),
            )
        except (SopError, StorageError, TelegramError, OSError):
            log.exception("could not send file %s to user %s", file.id, recipient.telegram_id)
            await send_safely(
                bot,
                [recipient],
                step_texts.FILE_NOT_SENT.format(
                    name=texts.h(file.original_name[:200]), number=texts.h(record.number)
                ),
                None,
            )


def _was_returned(record: RecordView) -> bool:
    """Whether the latest finished run was a return (rather than a completion)."""
    finished = [r for r in record.runs if r.completed_at is not None]
    return bool(finished) and finished[-1].outcome == "returned"


__all__ = ["announce", "next_step_text", "open_button", "send_safely"]
