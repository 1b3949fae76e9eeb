"""Withdrawing a draft from its card ("Batalkan berkas"): the reason, a confirmation, then
the domain's ``cancel_draft`` (which checks role, state and version again).

A withdrawn draft closes its step, so its reminders and escalations stop (the reminder
scheduler follows the service's changes), and it leaves the register.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot import texts
from bot.context import PpidContext
from bot.notify import open_button, send_safely
from bot.texts import withdraw as t
from handlers import new_record
from handlers.callback_data import CallbackData, RecordAction
from sop.errors import InvalidInput, SopError, StaleAction
from sop.model import RecordView
from sop.validation import validate_reason

log = logging.getLogger(__name__)

ACTION = "withdraw"
PATTERN = rf"^{RecordAction.prefix}:{ACTION}:\d{{1,12}}:\d{{1,12}}$"
KEY = "withdraw"  # user_data: the withdrawal in progress (JSON values only)
YES, NO = "ya", "tidak"


class Stage(IntEnum):
    REASON = 0
    CONFIRM = 1


@dataclass(frozen=True)
class WithdrawChoice(CallbackData):
    """The answer to "withdraw this draft?" (or "Tidak jadi" while the reason is asked)."""

    prefix: ClassVar[str] = "wdr"
    answer: str  # YES or NO
    record_id: int


def button(record: RecordView) -> InlineKeyboardButton:
    """The card's "Batalkan berkas" button, bound to the version it was made for."""
    data = RecordAction(ACTION, record.id, record.version).pack()
    return InlineKeyboardButton(t.BUTTON_WITHDRAW, callback_data=data)


def _pending(context: PpidContext) -> dict[str, Any] | None:
    assert context.user_data is not None
    pending: dict[str, Any] | None = context.user_data.get(KEY)
    return pending


def _forget(context: PpidContext) -> dict[str, Any] | None:
    assert context.user_data is not None
    pending: dict[str, Any] | None = context.user_data.pop(KEY, None)
    return pending


def _pressed(query: CallbackQuery) -> int | None:
    return query.message.message_id if isinstance(query.message, Message) else None


async def _drop_buttons(context: PpidContext, message_id: int | None) -> None:
    if message_id is None:
        return
    try:
        await context.bot.edit_message_reply_markup(
            context.actor.telegram_id, message_id, reply_markup=None
        )
    except BadRequest as exc:
        log.info("could not remove the buttons of message %s: %s", message_id, exc)


async def _edit_or_send(context: PpidContext, message_id: int | None, text: str) -> None:
    """Replace a question with ``text`` (without buttons), or send it if that fails."""
    if message_id is not None:
        try:
            await context.bot.edit_message_text(
                text, chat_id=context.actor.telegram_id, message_id=message_id, reply_markup=None
            )
            return
        except BadRequest as exc:
            log.info("could not edit message %s: %s", message_id, exc)
    await context.bot.send_message(context.actor.telegram_id, text)


def _keep_button(record_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(t.BUTTON_KEEP, callback_data=WithdrawChoice(NO, record_id).pack())


async def start(update: Update, context: PpidContext) -> int | None:
    """The card's "Batalkan berkas": check the draft may be withdrawn, ask for the reason."""
    query = update.callback_query
    assert query is not None
    data = RecordAction.parse(query.data)
    if data is None or data.action != ACTION:
        await query.answer(texts.STALE_BUTTON, show_alert=True)
        return None
    actor = context.actor
    try:
        record = await context.service.record(actor, data.record_id)
        if record.version != data.version:
            raise StaleAction()
        context.service.check_cancel(actor, record)
    except SopError as exc:
        await query.answer(exc.message[:200], show_alert=True)
        return None
    assert context.user_data is not None
    if context.user_data.get(new_record.KEY, {}).get("record_id") == record.id:
        await query.answer(t.FILLING_IN, show_alert=True)
        return None
    await query.answer()
    earlier = _forget(context)
    if earlier:
        await _drop_buttons(context, earlier.get("prompt"))
    prompt = await context.bot.send_message(
        actor.telegram_id,
        t.ASK_REASON.format(number=texts.h(record.number), title=texts.h(record.fields.title)),
        reply_markup=InlineKeyboardMarkup([[_keep_button(record.id)]]),
    )
    context.user_data[KEY] = {
        "record_id": record.id,
        "number": record.number,
        "title": record.fields.title,
        "version": record.version,
        "card": _pressed(query),
        "prompt": prompt.message_id,
        "reason": None,
    }
    return Stage.REASON


async def got_reason(update: Update, context: PpidContext) -> int | None:
    """The reason was written: ask to confirm (nothing changes yet)."""
    message = update.message
    assert message is not None and message.text is not None
    pending = _pending(context)
    if not pending:
        await message.reply_text(t.KEPT)
        return ConversationHandler.END
    try:
        reason = validate_reason(message.text)
    except InvalidInput as exc:
        await message.reply_text(f"{exc.message}\n{t.REASON_RETRY}")
        return None
    await _drop_buttons(context, pending.get("prompt"))
    number = pending["number"]
    buttons = [
        InlineKeyboardButton(
            t.BUTTON_CONFIRM.format(number=number),
            callback_data=WithdrawChoice(YES, pending["record_id"]).pack(),
        ),
        _keep_button(pending["record_id"]),
    ]
    confirm = await message.reply_text(
        t.CONFIRM.format(
            number=texts.h(number), title=texts.h(pending["title"]), reason=texts.h(reason)
        ),
        reply_markup=InlineKeyboardMarkup([buttons]),
    )
    assert context.user_data is not None
    context.user_data[KEY] = {**pending, "reason": reason, "prompt": confirm.message_id}
    return Stage.CONFIRM


async def reason_as_text(update: Update, context: PpidContext) -> None:
    """A file or sticker while the reason is asked: ask for text, keep waiting."""
    assert update.message is not None
    await update.message.reply_text(t.REASON_AS_TEXT)


async def use_buttons(update: Update, context: PpidContext) -> None:
    """Anything but a button while the confirmation waits: say so, keep waiting."""
    assert update.message is not None
    await update.message.reply_text(t.USE_BUTTONS)


async def choice(update: Update, context: PpidContext) -> int | None:
    """ "Ya, batalkan" withdraws the draft (checked again by the domain); "Tidak jadi"
    leaves everything as it was."""
    query = update.callback_query
    assert query is not None
    data = WithdrawChoice.parse(query.data)
    pending = _pending(context)
    if (
        data is None
        or data.answer not in {YES, NO}
        or not pending
        or pending["record_id"] != data.record_id
        or (data.answer == YES and not pending.get("reason"))
    ):
        await query.answer(texts.STALE_BUTTON, show_alert=True)
        return None
    _forget(context)
    if data.answer == NO:
        await query.answer()
        await _edit_or_send(
            context, _pressed(query), t.KEPT_NUMBER.format(number=pending["number"])
        )
        return ConversationHandler.END
    async with context.cards.holding(context.actor.telegram_id, pending.get("card")):
        return await _withdraw(query, context, pending)


async def _withdraw(query: CallbackQuery, context: PpidContext, pending: dict[str, Any]) -> int:
    actor = context.actor
    try:
        outcome = await context.service.cancel_draft(
            actor, pending["record_id"], pending["reason"], expected_version=pending["version"]
        )
    except SopError as exc:
        await query.answer(exc.message[:200], show_alert=True)
        await _edit_or_send(context, _pressed(query), f"{exc.message}\n{t.KEPT}")
        return ConversationHandler.END
    record = outcome.record
    await query.answer(t.ANSWER_DONE.format(number=record.number))
    others = [a for a in outcome.notify if a.user_id != actor.user_id]
    notice = t.NOTICE.format(
        number=texts.h(record.number),
        title=texts.h(record.fields.title),
        who=texts.h(actor.full_name),
        reason=texts.h(pending["reason"]),
    )
    delivered = set(await send_safely(context.bot, others, notice, open_button(record)))
    lines = [t.DONE.format(number=texts.h(record.number))]
    told = [a.full_name for a in others if a.telegram_id in delivered]
    missed = [a.full_name for a in others if a.telegram_id not in delivered]
    if told:
        lines.append(t.TOLD.format(names=t.names(told)))
    if missed:
        lines.append(t.NOT_TOLD.format(names=t.names(missed)))
    await _edit_or_send(context, _pressed(query), "\n".join(lines))
    card = pending.get("card")
    if card is not None:
        service = context.service
        status = t.STATUS.format(
            who=texts.h(actor.full_name),
            when=texts.wib(service.clock.now(), service.tz),
            reason=texts.h(pending["reason"]),
        )
        # Through the card tracker, which follows the card: it is edited once, here.
        if not await context.cards.close(
            record, actor, actor.telegram_id, card, status, buttons=False
        ):
            log.info("could not edit the card %s", card)
    return ConversationHandler.END


async def stop(update: Update, context: PpidContext) -> int:
    """/batal while a withdrawal is asked: nothing changes."""
    assert update.message is not None
    pending = _forget(context)
    if pending:
        await _drop_buttons(context, pending.get("prompt"))
    await update.message.reply_text(t.KEPT)
    return ConversationHandler.END


async def stale_choice(update: Update, context: PpidContext) -> None:
    """A confirmation button of a withdrawal that is no longer asked."""
    assert update.callback_query is not None
    await update.callback_query.answer(texts.STALE_BUTTON, show_alert=True)


_TEXT = filters.TEXT & ~filters.COMMAND
_NOT_TEXT = filters.ALL & ~filters.TEXT & ~filters.COMMAND & ~filters.StatusUpdate.ALL


def build_conversation() -> ConversationHandler:  # type: ignore[type-arg]
    """The withdrawal, persisted under the name "batalkan"."""
    with warnings.catch_warnings():
        # Tracked per chat and user: one withdrawal is asked at a time, and every button
        # checks it belongs to the withdrawal in progress.
        warnings.filterwarnings("ignore", message=".*per_message=False", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=[CallbackQueryHandler(start, pattern=PATTERN)],
            states={
                Stage.REASON: [
                    MessageHandler(_TEXT, got_reason),
                    MessageHandler(_NOT_TEXT, reason_as_text),
                    CallbackQueryHandler(choice, pattern=WithdrawChoice.regex()),
                ],
                Stage.CONFIRM: [
                    CallbackQueryHandler(choice, pattern=WithdrawChoice.regex()),
                    MessageHandler(_TEXT | _NOT_TEXT, use_buttons),
                ],
            },
            fallbacks=[CommandHandler("batal", stop)],
            allow_reentry=True,
            name="batalkan",
            persistent=True,
        )


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Before the other conversations: while a reason is asked, the text is the reason."""
    application.add_handler(build_conversation())
    application.add_handler(CallbackQueryHandler(stale_choice, pattern=WithdrawChoice.regex()))


__all__ = ["WithdrawChoice", "button", "register"]
