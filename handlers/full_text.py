"""The "Lihat teks lengkap" button of a card whose texts had to be shortened to fit in a
Telegram message: every field of the record in full, in as many messages as needed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler

from bot import texts
from bot.context import PpidContext
from bot.texts import fitting
from handlers.callback_data import CallbackData
from sop.errors import SopError
from sop.model import RecordView


@dataclass(frozen=True)
class FullText(CallbackData):
    """Send a record's fields in full."""

    prefix: ClassVar[str] = "full"
    record_id: int


def full_text_row(record: RecordView) -> list[InlineKeyboardButton]:
    return [
        InlineKeyboardButton(fitting.BUTTON_FULL_TEXT, callback_data=FullText(record.id).pack())
    ]


def with_full_text(
    markup: InlineKeyboardMarkup | None, record: RecordView, text: str
) -> InlineKeyboardMarkup | None:
    """``markup`` with a "Lihat teks lengkap" row when ``text`` (a card of ``record``) was
    shortened to fit."""
    if not fitting.was_shortened(text):
        return markup
    rows = [list(row) for row in markup.inline_keyboard] if markup is not None else []
    return InlineKeyboardMarkup([*rows, full_text_row(record)])


async def send_full_text(update: Update, context: PpidContext) -> None:
    """The button: the fields in full, for those who may see the record (others learn
    nothing)."""
    query = update.callback_query
    assert query is not None
    data = FullText.parse(query.data)
    if data is None:
        await query.answer(texts.STALE_BUTTON, show_alert=True)
        return
    try:
        record = await context.service.record(context.actor, data.record_id)
    except SopError as exc:
        await query.answer(exc.message[:200], show_alert=True)
        return
    await query.answer()
    for text in fitting.full_text(record):
        await context.bot.send_message(context.actor.telegram_id, text)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CallbackQueryHandler(send_full_text, pattern=FullText.regex()))
