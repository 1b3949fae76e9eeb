"""The buttons of a record's card, computed for one person from the record as it is now.

Used for the cards people open and for every card the bot edits when the record moves on
(``bot/cards.py``), so each viewer always sees exactly the buttons they may press."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.texts import records as t
from bot.texts import steps as step_texts
from handlers.callback_data import RecordAction
from sop.model import Actor, RecordView, State
from sop.papers import missing_for_consequence_test
from sop.service import PpidService
from storage import Area


def record_keyboard(
    service: PpidService, actor: Actor, record: RecordView
) -> InlineKeyboardMarkup | None:
    """The buttons this person may press on this record right now."""
    rows: list[list[InlineKeyboardButton]] = []
    act = lambda action: RecordAction(action, record.id, record.version).pack()  # noqa: E731
    may_act = service.may_act(actor, record)
    if record.state is State.DRAFT and may_act:
        rows.append([InlineKeyboardButton(t.BUTTON_REDO, callback_data=act("redo"))])
    if service.may_cancel(actor, record):
        from handlers import withdraw  # it imports bot.notify, which imports this module

        rows.append([withdraw.button(record)])
    test_missing = bool(missing_for_consequence_test(record))
    if record.state is State.SUBMITTED and may_act:
        rows.append([InlineKeyboardButton(t.BUTTON_HANDOVER, callback_data=act("handover"))])
        rows.append([InlineKeyboardButton(step_texts.BUTTON_FIX, callback_data=act("fix"))])
        if test_missing:
            rows.append([InlineKeyboardButton(step_texts.BUTTON_TEST, callback_data=act("test"))])
        rows.append([InlineKeyboardButton(t.BUTTON_RETURN, callback_data=act("return"))])
    if record.state is State.REGISTERED and may_act:
        if test_missing:  # step 3 cannot complete before the consequence test is
            rows.append([InlineKeyboardButton(step_texts.BUTTON_TEST, callback_data=act("test"))])
        rows.append(
            [
                InlineKeyboardButton(t.BUTTON_ACCEPT, callback_data=act("accept")),
                InlineKeyboardButton(t.BUTTON_RETURN, callback_data=act("return")),
            ]
        )
    if any(f.area == Area.DIVISION for f in record.files):
        rows.append([InlineKeyboardButton(t.BUTTON_FILES, callback_data=act("files"))])
    return InlineKeyboardMarkup(rows) if rows else None


__all__ = ["record_keyboard"]
