"""Steps 2 and 3 in Telegram: /serahkan, the hand-over and receive buttons, returning a
record with a reason, and the Petugas Dokumentasi's correction of metadata.

Every press is checked again by the domain (role, state, four-eyes, and the version the
button was made for), so a stale, repeated, forged or simultaneous press changes nothing.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import IntEnum
from functools import partial
from typing import Any, ClassVar, TypeVar

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot import texts
from bot.context import PpidContext
from bot.notify import announce
from bot.texts import records as record_texts
from bot.texts import steps as t
from handlers.callback_data import CallbackData, OpenRecord, RecordAction
from handlers.papers import deliver_handover
from handlers.records import show_record
from sop.errors import (
    FourEyesViolation,
    InvalidInput,
    PermissionDenied,
    SopError,
    StaleAction,
)
from sop.model import RecordView, Role, State, Step
from sop.notices import NoticeKind
from sop.papers import missing_for_consequence_test
from sop.service import Outcome
from sop.validation import validate_reason
from storage import Area

log = logging.getLogger(__name__)
D = TypeVar("D", bound=CallbackData)

LIST_LIMIT = 20
RETURN_KEY = "steps_return"  # user_data: the return in progress (JSON values only)
FIX_KEY = "steps_fix"  # user_data: the correction in progress (JSON values only)
RETURN_FLOW, FIX_FLOW = "ret", "fix"
FLOW_KEYS = {RETURN_FLOW: RETURN_KEY, FIX_FLOW: FIX_KEY}


class Stage(IntEnum):
    """The states of the "kembalikan" conversation: a return with a reason, or the step-2
    correction. One conversation for both, so a person has one open question at a time
    and a typed answer can never land in the other flow."""

    RETURN_TARGET = 0
    RETURN_REASON = 1
    FIX_FIELD = 2
    FIX_VALUE = 3
    FIX_DIVISION = 4


# -- callback data ("stp" family) ------------------------------------------------------
@dataclass(frozen=True)
class ReturnTarget(CallbackData):
    """The step a record goes back to, chosen in the return conversation."""

    prefix: ClassVar[str] = "stp:ret"
    record_id: int
    step: int


@dataclass(frozen=True)
class FixField(CallbackData):
    """The field the Petugas Dokumentasi corrects."""

    prefix: ClassVar[str] = "stp:fix"
    record_id: int
    field: str


@dataclass(frozen=True)
class FixDivision(CallbackData):
    """The division a record is moved to in the step-2 correction (its files move along)."""

    prefix: ClassVar[str] = "stp:div"
    record_id: int
    division_id: int


@dataclass(frozen=True)
class StepCancel(CallbackData):
    """The cancel button of the return ("ret") or correction ("fix") question."""

    prefix: ClassVar[str] = "stp:stop"
    flow: str


def _action_pattern(action: str) -> str:
    """The exact shape of ``RecordAction(action, record_id, version)``."""
    return rf"^{RecordAction.prefix}:{action}:\d{{1,12}}:\d{{1,12}}$"


# -- shared pieces ---------------------------------------------------------------------
def _pressed_data(update: Update, family: type[D]) -> tuple[CallbackQuery, D | None]:
    """The query and its parsed data; None when the data is not exactly this family's
    (PTB hands empty callback data to every pattern)."""
    query = update.callback_query
    assert query is not None
    return query, family.parse(query.data)


def _user_data(context: PpidContext) -> dict[str, Any]:
    """The person's persisted data (every update here comes from a person)."""
    data = context.user_data
    assert data is not None
    return data


async def _malformed(query: CallbackQuery) -> None:
    await query.answer(texts.STALE_BUTTON, show_alert=True)


async def _refuse(query: CallbackQuery, error: SopError) -> None:
    """Answer a press the domain refused; nothing was changed."""
    await query.answer(error.message[:200], show_alert=True)


def _now_text(context: PpidContext) -> str:
    service = context.service
    return texts.wib(service.clock.now(), service.tz)


async def _close_card(
    context: PpidContext,
    chat_id: int,
    message_id: int | None,
    record: RecordView,
    status: str,
    *,
    buttons: bool = True,
) -> None:
    """Re-render the card a button was pressed on with what happened (kept on the card
    when it is edited later) and the person's buttons for the record as it is now
    (``buttons=False``: none, a newer card follows).

    If the card cannot be edited (too old, deleted), the status is sent as a new message.
    """
    if message_id is not None and await context.cards.close(
        record, context.actor, chat_id, message_id, status, buttons=buttons
    ):
        return
    await context.bot.send_message(chat_id, status)


def _query(update: Update) -> CallbackQuery:
    query = update.callback_query
    assert query is not None
    return query


def _pressed(query: CallbackQuery) -> int | None:
    """The id of the message whose button was pressed, if the bot can still edit it."""
    return query.message.message_id if isinstance(query.message, Message) else None


async def _drop_buttons(context: PpidContext, chat_id: int, message_id: int | None) -> None:
    """Remove the buttons of a conversation's question (it is answered or abandoned)."""
    if message_id is None:
        return
    try:
        await context.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
    except BadRequest as exc:
        log.info("could not remove buttons of %s in chat %s: %s", message_id, chat_id, exc)


def _cancel_row(flow: str) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(t.BUTTON_CANCEL, callback_data=StepCancel(flow).pack())]


# -- /serahkan -------------------------------------------------------------------------
async def serahkan(update: Update, context: PpidContext) -> None:
    """/serahkan: a Petugas Dokumentasi sees the records awaiting hand-over, with open buttons."""
    assert update.message is not None
    actor = context.actor
    if not actor.has(Role.PETUGAS_DOKUMENTASI):
        await update.message.reply_text(t.SERAHKAN_ONLY_DOKUMENTASI)
        return
    service = context.service
    waiting, total = await service.waiting_for_step(actor, Step.HANDOVER, limit=LIST_LIMIT)
    if not waiting:
        await update.message.reply_text(t.SERAHKAN_EMPTY)
        return
    text, shown = t.waiting_list(waiting, service.clock.now(), LIST_LIMIT, service.tz, total=total)
    buttons = [
        [
            InlineKeyboardButton(
                record_texts.BUTTON_OPEN.format(number=record.number),
                callback_data=OpenRecord(record.id).pack(),
            )
        ]
        for record in shown
    ]
    await update.message.reply_text(text, reply_markup=InlineKeyboardMarkup(buttons))


async def _complete_pressed(
    update: Update, complete: Callable[..., Awaitable[Outcome]]
) -> tuple[CallbackQuery, Outcome] | None:
    """Run a step's completion for a pressed button, bound to the button's version; a
    malformed, stale or refused press is answered here and gives None."""
    query, data = _pressed_data(update, RecordAction)
    if data is None:
        await _malformed(query)
        return None
    try:
        return query, await complete(data.record_id, expected_version=data.version)
    except SopError as exc:
        await _refuse(query, exc)
        return None


# -- step 2: hand over -----------------------------------------------------------------
async def handover(update: Update, context: PpidContext) -> None:
    """The hand-over button: step 2 is done, the card closes and the Pejabat PPID are told."""
    actor = context.actor
    complete = partial(context.service.complete_handover, actor)
    async with context.cards.holding(actor.telegram_id, _pressed(_query(update))):
        pressed = await _complete_pressed(update, complete)
        if pressed is None:
            return
        query, outcome = pressed
        await query.answer(t.ANSWER_HANDED_OVER)
        delivery = await announce(context.bot, outcome, actor)
        lines = [t.HANDED_OVER.format(who=texts.h(actor.full_name), when=_now_text(context))]
        if not [a for a in outcome.notify if a.user_id != actor.user_id]:
            lines.append(t.NO_PEJABAT)
        elif delivery.reached:
            lines.append(t.PEJABAT_TOLD.format(names=t.names(delivery.reached)))
        lines += delivery.lines()
        status = "\n".join(lines)
        await _close_card(context, actor.telegram_id, _pressed(query), outcome.record, status)
        await deliver_handover(context, actor, outcome.record)


# -- step 3: receive -------------------------------------------------------------------
async def accept(update: Update, context: PpidContext) -> None:
    """The accept button: the softcopy is copied into PPID storage, verified and numbered."""
    actor = context.actor
    complete = partial(context.service.complete_receive, actor)
    async with context.cards.holding(actor.telegram_id, _pressed(_query(update))):
        pressed = await _complete_pressed(update, complete)
        if pressed is None:
            return
        query, outcome = pressed
        record = outcome.record
        number = record.register_number or record.number
        await query.answer(t.ANSWER_STORED.format(number=number))
        delivery = await announce(context.bot, outcome, actor)
        lines = [
            t.STORED.format(
                who=texts.h(actor.full_name),
                when=_now_text(context),
                number=texts.h(number),
                copies=sum(1 for f in record.files if f.area == Area.PPID),
            )
        ]
        if delivery.reached:
            lines.append(t.TOLD.format(names=t.names(delivery.reached)))
        lines += delivery.lines()
        await _close_card(context, actor.telegram_id, _pressed(query), record, "\n".join(lines))
        await deliver_handover(context, actor, record)


# -- returning a record (steps 2 and 3) ------------------------------------------------
def _check_returnable(context: PpidContext, record: RecordView, version: int) -> None:
    """Refuse early what the domain would refuse at the end (it checks again then)."""
    actor = context.actor
    if record.version != version or record.state not in (State.SUBMITTED, State.REGISTERED):
        raise StaleAction()
    if context.service.may_act(actor, record):
        return
    if not actor.has(Role.PEJABAT_PPID):
        raise PermissionDenied()
    if record.state is State.REGISTERED:
        raise FourEyesViolation()  # a Pejabat PPID who may not act at step 3 handed it over
    # At step 2 the domain lets the Pejabat PPID return a record as well.


async def return_start(update: Update, context: PpidContext) -> int | None:
    """The return button: check the record may be returned, ask to which step."""
    query, data = _pressed_data(update, RecordAction)
    if data is None:
        await _malformed(query)
        return None
    try:
        record = await context.service.record(context.actor, data.record_id)
        _check_returnable(context, record, data.version)
    except SopError as exc:
        await _refuse(query, exc)
        return None  # whatever conversation was going on stays as it was
    await query.answer()
    await _abandon_all(context)
    targets = [Step.PRODUCE] + ([Step.HANDOVER] if record.state is State.REGISTERED else [])
    buttons = [
        [
            InlineKeyboardButton(
                t.RETURN_TARGETS[step],
                callback_data=ReturnTarget(record.id, int(step)).pack(),
            )
        ]
        for step in targets
    ]
    prompt = await context.bot.send_message(
        context.actor.telegram_id,
        t.RETURN_CHOOSE.format(number=texts.h(record.number), title=texts.h(record.fields.title)),
        reply_markup=InlineKeyboardMarkup([*buttons, _cancel_row(RETURN_FLOW)]),
    )
    _user_data(context)[RETURN_KEY] = {
        "record_id": record.id,
        "number": record.number,
        "version": record.version,
        "current": int(record.due_step or 0),
        "target": None,
        "card": _pressed(query),
        "prompt": prompt.message_id,
    }
    return Stage.RETURN_TARGET


async def return_target(update: Update, context: PpidContext) -> int | None:
    """A step was chosen: ask for the reason."""
    query, data = _pressed_data(update, ReturnTarget)
    if data is None:
        await _malformed(query)
        return None
    pending = _user_data(context).get(RETURN_KEY)
    if (
        not pending
        or pending["record_id"] != data.record_id
        or data.step not in {int(s) for s in t.RETURN_TARGETS}
        or data.step >= pending["current"]
    ):
        await query.answer(texts.STALE_BUTTON, show_alert=True)
        return None
    await query.answer()
    target = t.RETURN_TARGETS[Step(data.step)]
    _user_data(context)[RETURN_KEY] = {**pending, "target": data.step, "prompt": None}
    record_number = texts.h(pending["number"])
    try:
        await query.edit_message_text(
            t.RETURN_ASK_REASON.format(number=record_number, target=target), reply_markup=None
        )
    except BadRequest as exc:
        log.info("could not edit the return question: %s", exc)
        await context.bot.send_message(
            context.actor.telegram_id,
            t.RETURN_ASK_REASON.format(number=record_number, target=target),
        )
    return Stage.RETURN_REASON


async def return_reason(update: Update, context: PpidContext) -> int | None:
    """The reason was written: the record goes back, the card closes, the step's people hear."""
    message = update.message
    assert message is not None and message.text is not None
    pending = _user_data(context).get(RETURN_KEY)
    if not pending or pending.get("target") is None:
        _user_data(context).pop(RETURN_KEY, None)
        await message.reply_text(t.RETURN_ABANDONED)
        return ConversationHandler.END
    try:
        reason = validate_reason(message.text)
    except InvalidInput as exc:
        await message.reply_text(f"{exc.message}\n{t.RETURN_REASON_RETRY}")
        return None
    async with context.cards.holding(context.actor.telegram_id, pending.get("card")):
        return await _return(message, context, pending, Step(pending["target"]), reason)


async def _return(
    message: Message, context: PpidContext, pending: dict[str, Any], target: Step, reason: str
) -> int | None:
    actor = context.actor
    try:
        outcome = await context.service.return_record(
            actor, pending["record_id"], target, reason, expected_version=pending["version"]
        )
    except InvalidInput as exc:
        await message.reply_text(f"{exc.message}\n{t.RETURN_REASON_RETRY}")
        return None
    except SopError as exc:
        _user_data(context).pop(RETURN_KEY, None)
        await message.reply_text(exc.message)
        return ConversationHandler.END
    _user_data(context).pop(RETURN_KEY, None)
    record = outcome.record
    delivery = await announce(context.bot, outcome, actor)
    lines = [t.RETURNED_DONE.format(number=texts.h(record.number), target=t.RETURN_TARGETS[target])]
    told = delivery.reached_of(NoticeKind.RETURNED)
    if not outcome.notify:
        lines.append(t.RETURNED_NOBODY)
    elif told:
        lines.append(t.RETURNED_TOLD.format(names=t.names(told)))
    also = delivery.reached_of(NoticeKind.RETURN_INFO)
    if also:
        lines.append(t.ALSO_TOLD.format(names=t.names(also)))
    lines += delivery.lines()
    await message.reply_text("\n".join(lines))
    status = t.RETURNED_STATUS.format(
        target=t.RETURN_TARGETS[target],
        who=texts.h(actor.full_name),
        when=_now_text(context),
        reason=texts.h(reason),
    )
    if pending.get("card") is not None:
        await _close_card(context, actor.telegram_id, pending["card"], record, status)
    return ConversationHandler.END


async def return_use_buttons(update: Update, context: PpidContext) -> None:
    """Text or a file while the return waits for a step button: say so, keep waiting."""
    assert update.message is not None
    await update.message.reply_text(t.RETURN_USE_BUTTONS)


async def return_reason_as_text(update: Update, context: PpidContext) -> None:
    """A file or sticker while the return waits for a reason: ask for text, keep waiting."""
    assert update.message is not None
    await update.message.reply_text(t.RETURN_REASON_AS_TEXT)


# -- correcting metadata at step 2 -----------------------------------------------------
async def fix_start(update: Update, context: PpidContext) -> int | None:
    """The correct button on a step-2 card: ask which field to correct."""
    query, data = _pressed_data(update, RecordAction)
    if data is None:
        await _malformed(query)
        return None
    actor = context.actor
    try:
        record = await context.service.record(actor, data.record_id)
        if record.version != data.version or record.state is not State.SUBMITTED:
            raise StaleAction()
        if not actor.has(Role.PETUGAS_DOKUMENTASI):
            raise PermissionDenied(t.FIX_ONLY_DOKUMENTASI)
    except SopError as exc:
        await _refuse(query, exc)
        return None
    await query.answer()
    await _abandon_all(context)
    buttons = [
        [InlineKeyboardButton(label, callback_data=FixField(record.id, field).pack())]
        for field, label in t.FIX_FIELDS.items()
    ]
    prompt = await context.bot.send_message(
        actor.telegram_id,
        t.FIX_CHOOSE.format(number=texts.h(record.number), title=texts.h(record.fields.title)),
        reply_markup=InlineKeyboardMarkup([*buttons, _cancel_row(FIX_FLOW)]),
    )
    _user_data(context)[FIX_KEY] = {
        "record_id": record.id,
        "version": record.version,
        "field": None,
        "fields": list(t.FIX_FIELDS),
        "card": _pressed(query),
        "prompt": prompt.message_id,
    }
    return Stage.FIX_FIELD


def _test_parts(record: RecordView) -> str:
    missing = set(missing_for_consequence_test(record))
    return "\n".join(
        (t.TEST_PART_MISSING if field in missing else t.TEST_PART_FILLED).format(label=label)
        for field, label in t.TEST_FIELDS.items()
    )


async def test_start(update: Update, context: PpidContext) -> int | None:
    """The "complete the consequence test" button on a card at step 2 (Petugas
    Dokumentasi) or step 3 (Pejabat PPID): ask which part to fill, the missing ones marked."""
    query, data = _pressed_data(update, RecordAction)
    if data is None:
        await _malformed(query)
        return None
    actor = context.actor
    try:
        record = await context.service.record(actor, data.record_id)
        if record.version != data.version or record.state not in {
            State.SUBMITTED,
            State.REGISTERED,
        }:
            raise StaleAction()
        role = Role.PETUGAS_DOKUMENTASI if record.state is State.SUBMITTED else Role.PEJABAT_PPID
        if not actor.has(role):
            raise PermissionDenied(t.TEST_ONLY)
    except SopError as exc:
        await _refuse(query, exc)
        return None
    await query.answer()
    await _abandon_all(context)
    buttons = [
        [InlineKeyboardButton(label, callback_data=FixField(record.id, field).pack())]
        for field, label in t.TEST_FIELDS.items()
    ]
    prompt = await context.bot.send_message(
        actor.telegram_id,
        t.TEST_CHOOSE.format(
            number=texts.h(record.number),
            title=texts.h(record.fields.title),
            parts=_test_parts(record),
        ),
        reply_markup=InlineKeyboardMarkup([*buttons, _cancel_row(FIX_FLOW)]),
    )
    _user_data(context)[FIX_KEY] = {
        "record_id": record.id,
        "version": record.version,
        "field": None,
        "fields": list(t.TEST_FIELDS),
        "card": _pressed(query),
        "prompt": prompt.message_id,
    }
    return Stage.FIX_FIELD


async def fix_field(update: Update, context: PpidContext) -> int | None:
    """A field was chosen: show its current value and ask for the new one."""
    query, data = _pressed_data(update, FixField)
    if data is None:
        await _malformed(query)
        return None
    pending = _user_data(context).get(FIX_KEY)
    if (
        not pending
        or pending["record_id"] != data.record_id
        or data.field not in pending.get("fields", t.FIX_FIELDS)
    ):
        await query.answer(texts.STALE_BUTTON, show_alert=True)
        return None
    try:
        record = await context.service.record(context.actor, data.record_id)
    except SopError as exc:
        await _refuse(query, exc)
        return None
    await query.answer()
    label = t.EDIT_FIELD_LABELS[data.field]
    _user_data(context)[FIX_KEY] = {**pending, "field": data.field, "prompt": None}
    if data.field == t.FIX_DIVISION_FIELD:
        return await _ask_division(context, query, record)
    current = getattr(record.fields, data.field)
    question = t.FIX_ASK_VALUE.format(
        label=label,
        label_lower=label.lower(),
        number=texts.h(record.number),
        current=texts.h(current) if current else t.NOT_FILLED,
    )
    if data.field in t.TEST_ASK_HINT:
        question = f"{t.TEST_ASK_HINT[data.field]}\n{question}"
    try:
        await query.edit_message_text(question, reply_markup=None)
    except BadRequest as exc:
        log.info("could not edit the correction question: %s", exc)
        await context.bot.send_message(context.actor.telegram_id, question)
    return Stage.FIX_VALUE


async def fix_value(update: Update, context: PpidContext) -> int | None:
    """The new value was written: save it (validated by the domain) and show the new card."""
    message = update.message
    assert message is not None and message.text is not None
    pending = _user_data(context).get(FIX_KEY)
    if not pending or pending.get("field") not in t.EDIT_FIELD_LABELS:
        _user_data(context).pop(FIX_KEY, None)
        await message.reply_text(texts.CANCELLED)
        return ConversationHandler.END
    async with context.cards.holding(context.actor.telegram_id, pending.get("card")):
        return await _fix(update, message, context, pending)


async def _fix(
    update: Update, message: Message, context: PpidContext, pending: dict[str, Any]
) -> int | None:
    field = pending["field"]
    label = t.EDIT_FIELD_LABELS[field]
    actor = context.actor
    try:
        record = await context.service.update_fields(
            actor,
            pending["record_id"],
            {field: message.text},
            expected_version=pending.get("version"),
        )
    except InvalidInput as exc:
        await message.reply_text(f"{exc.message}\n{t.FIX_RETRY}")
        return None
    except SopError as exc:
        _user_data(context).pop(FIX_KEY, None)
        await message.reply_text(exc.message)
        return ConversationHandler.END
    _user_data(context).pop(FIX_KEY, None)
    await message.reply_text(t.FIX_DONE.format(label=label, number=texts.h(record.number)))
    if pending.get("card") is not None:
        status = t.FIX_STATUS.format(
            label=label, who=texts.h(actor.full_name), when=_now_text(context)
        )
        # The corrected record gets a new card below; this one keeps no buttons.
        await _close_card(
            context, actor.telegram_id, pending["card"], record, status, buttons=False
        )
    await show_record(update, context, record)
    return ConversationHandler.END


async def _ask_division(context: PpidContext, query: CallbackQuery, record: RecordView) -> int:
    """The division question of the correction: one button per other active division."""
    divisions = [d for d in await context.service.divisions() if d.id != record.fields.division_id]
    buttons = [
        [InlineKeyboardButton(d.name, callback_data=FixDivision(record.id, d.id).pack())]
        for d in divisions
    ]
    question = t.FIX_ASK_DIVISION.format(
        number=texts.h(record.number), current=texts.h(record.division_name)
    )
    markup = InlineKeyboardMarkup([*buttons, _cancel_row(FIX_FLOW)])
    try:
        await query.edit_message_text(question, reply_markup=markup)
    except BadRequest as exc:
        log.info("could not edit the correction question: %s", exc)
        await context.bot.send_message(context.actor.telegram_id, question, reply_markup=markup)
    return Stage.FIX_DIVISION


async def fix_division(update: Update, context: PpidContext) -> int | None:
    """A division was chosen: the record moves there, its softcopies with it."""
    query, data = _pressed_data(update, FixDivision)
    if data is None:
        await _malformed(query)
        return None
    pending = _user_data(context).get(FIX_KEY)
    if (
        not pending
        or pending["record_id"] != data.record_id
        or pending.get("field") != t.FIX_DIVISION_FIELD
    ):
        await query.answer(texts.STALE_BUTTON, show_alert=True)
        return None
    async with context.cards.holding(context.actor.telegram_id, pending.get("card")):
        return await _move(update, query, context, pending, data.division_id)


async def _move(
    update: Update,
    query: CallbackQuery,
    context: PpidContext,
    pending: dict[str, Any],
    division_id: int,
) -> int | None:
    actor = context.actor
    try:
        record = await context.service.update_fields(
            actor,
            pending["record_id"],
            {"division_id": division_id},
            expected_version=pending.get("version"),
        )
    except InvalidInput as exc:
        await _refuse(query, exc)
        return None
    except SopError as exc:
        _user_data(context).pop(FIX_KEY, None)
        await _refuse(query, exc)
        await _drop_buttons(context, actor.telegram_id, _pressed(query))
        return ConversationHandler.END
    await query.answer()
    _user_data(context).pop(FIX_KEY, None)
    label = t.FIX_FIELDS[t.FIX_DIVISION_FIELD]
    moved = t.FIX_DIVISION_DONE.format(
        number=texts.h(record.number),
        name=texts.h(record.division_name),
        files=len(t.division_files(record)),
    )
    try:
        await query.edit_message_text(moved, reply_markup=None)
    except BadRequest as exc:
        log.info("could not edit the division question: %s", exc)
        await context.bot.send_message(actor.telegram_id, moved)
    if pending.get("card") is not None:
        status = t.FIX_STATUS.format(
            label=label, who=texts.h(actor.full_name), when=_now_text(context)
        )
        # The moved record gets a new card below; this one keeps no buttons.
        await _close_card(
            context, actor.telegram_id, pending["card"], record, status, buttons=False
        )
    await show_record(update, context, record)
    return ConversationHandler.END


async def fix_use_buttons(update: Update, context: PpidContext) -> None:
    """Text or a file while the correction waits for a field button: say so, keep waiting."""
    assert update.message is not None
    await update.message.reply_text(t.FIX_USE_BUTTONS)


async def fix_value_as_text(update: Update, context: PpidContext) -> None:
    """A file or sticker while the correction waits for the new value: ask for text."""
    assert update.message is not None
    await update.message.reply_text(t.FIX_VALUE_AS_TEXT)


# -- leaving either conversation -------------------------------------------------------
async def _abandon_all(context: PpidContext) -> None:
    """Forget any pending return or correction and remove the buttons of its question."""
    for key in FLOW_KEYS.values():
        pending: dict[str, Any] | None = _user_data(context).pop(key, None)
        if pending:
            await _drop_buttons(context, context.actor.telegram_id, pending.get("prompt"))


async def cancel_command(update: Update, context: PpidContext) -> int:
    """/batal during a return or a correction: nothing changes."""
    assert update.message is not None
    await _abandon_all(context)
    await update.message.reply_text(texts.CANCELLED)
    return ConversationHandler.END


async def cancel_button(update: Update, context: PpidContext) -> int | None:
    """The cancel button of a return or correction question: nothing changes."""
    query, data = _pressed_data(update, StepCancel)
    if data is None:
        await _malformed(query)
        return None
    await query.answer()
    key = FLOW_KEYS.get(data.flow)
    if key is not None:
        _user_data(context).pop(key, None)
    try:
        await query.edit_message_text(texts.CANCELLED, reply_markup=None)
    except BadRequest as exc:
        log.info("could not edit the cancelled question: %s", exc)
    return ConversationHandler.END


# -- wiring ----------------------------------------------------------------------------
_NOT_TEXT = filters.ALL & ~filters.TEXT & ~filters.COMMAND & ~filters.StatusUpdate.ALL
_TEXT = filters.TEXT & ~filters.COMMAND


def _conversation() -> ConversationHandler:  # type: ignore[type-arg]
    cancel: BaseHandler[Update, PpidContext, object] = CallbackQueryHandler(
        cancel_button, pattern=StepCancel.regex()
    )
    # Buttons are tracked per chat and user, not per message: a question's buttons act on
    # the conversation in progress, and each checks it still matches the record.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*per_message=False", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=[
                CallbackQueryHandler(return_start, pattern=_action_pattern("return")),
                CallbackQueryHandler(fix_start, pattern=_action_pattern("fix")),
                CallbackQueryHandler(test_start, pattern=_action_pattern("test")),
            ],
            states={
                Stage.RETURN_TARGET: [
                    CallbackQueryHandler(return_target, pattern=ReturnTarget.regex()),
                    cancel,
                    MessageHandler(_TEXT | _NOT_TEXT, return_use_buttons),
                ],
                Stage.RETURN_REASON: [
                    MessageHandler(_TEXT, return_reason),
                    MessageHandler(_NOT_TEXT, return_reason_as_text),
                ],
                Stage.FIX_FIELD: [
                    CallbackQueryHandler(fix_field, pattern=FixField.regex()),
                    cancel,
                    MessageHandler(_TEXT | _NOT_TEXT, fix_use_buttons),
                ],
                Stage.FIX_VALUE: [
                    MessageHandler(_TEXT, fix_value),
                    MessageHandler(_NOT_TEXT, fix_value_as_text),
                ],
                Stage.FIX_DIVISION: [
                    CallbackQueryHandler(fix_division, pattern=FixDivision.regex()),
                    cancel,
                    MessageHandler(_TEXT | _NOT_TEXT, fix_use_buttons),
                ],
            },
            fallbacks=[CommandHandler("batal", cancel_command)],
            allow_reentry=True,
            name="kembalikan",
            persistent=True,
        )


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("serahkan", serahkan))
    application.add_handler(CallbackQueryHandler(handover, pattern=_action_pattern("handover")))
    application.add_handler(CallbackQueryHandler(accept, pattern=_action_pattern("accept")))
    application.add_handler(_conversation())
    # A cancel button pressed after its conversation ended (e.g. an old question).
    application.add_handler(CallbackQueryHandler(cancel_button, pattern=StepCancel.regex()))


__all__ = ["FixDivision", "FixField", "ReturnTarget", "StepCancel", "register"]
