"""Step 1 for the Petugas PPID: ``/baru`` walks through a record, stores its softcopies in
the division's storage and completes the step once the officer confirms the SOP's
requirement "data sudah diperbarui dan terverifikasi".

A softcopy sent outside any conversation (or during the questions, before the draft
exists) is kept as its Telegram message and attached, through the usual upload, as soon
as the draft exists; outside a conversation the bot offers to start /baru with it.

The "Perbaiki" button of a draft (returned to step 1, or left unfinished) enters the same
conversation at the files: add or detach softcopies, correct the data, confirm again.

The answers given before the draft exists live in ``user_data`` (JSON only, persisted);
from the moment the draft is created the database holds everything and ``user_data`` keeps
only its id. Every softcopy is streamed from Telegram into storage and attached as it
arrives, so nothing sent is lost, whatever happens to the conversation afterwards.
"""

from __future__ import annotations

import logging
import secrets
import warnings
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from datetime import date
from enum import IntEnum
from pathlib import PurePosixPath
from typing import Any, ClassVar, TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    JobQueue,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.context import PpidContext
from bot.downloads import telegram_chunks
from bot.notify import announce
from bot.texts import h, period_text, tanggal
from bot.texts import new_record as t
from bot.texts import pii as pii_texts
from bot.texts.fitting import button_text, was_shortened
from handlers.callback_data import CallbackData, RecordAction
from handlers.document_texts import block_of, documents_of, suggestion_for
from handlers.full_text import full_text_row
from sop.errors import InvalidInput, SopError
from sop.model import (
    PASAL17,
    DurationUnit,
    ExemptionPeriod,
    FileView,
    PeriodKind,
    RecordFields,
    RecordView,
    Role,
    State,
)
from sop.softcopy import ACCEPTED, EXTENSION_OF
from sop.staging import StagedFile, StagingService
from sop.validation import (
    CONSEQUENCE_PART_LABELS,
    CONSEQUENCE_PART_MAX,
    parse_date,
    parse_period_duration,
    permanent_allowed,
    validate_classified_date,
    validate_condition,
    validate_period,
    validate_text,
    validate_title,
)

log = logging.getLogger(__name__)
_T = TypeVar("_T")

KEY = "baru"  # this conversation's part of user_data

PERIOD_KINDS = [
    PeriodKind.UNTIL_DATE,
    PeriodKind.DURATION,
    PeriodKind.CONDITION,
    PeriodKind.PERMANENT,
]
LETTERS = list(PASAL17)


class Stage(IntEnum):
    """Where the conversation waits. Persisted as numbers: never renumber."""

    TITLE = 1
    DIVISION = 2
    DESCRIPTION = 3
    PASAL = 4
    OTHER_BASIS = 5
    CONSEQUENCE = 6
    PERIOD_KIND = 7
    PERIOD_VALUE = 8
    CLASSIFIED_BY = 9
    CLASSIFIED_AT = 10
    FILES = 11
    COMBINE = 12
    CONFIRM = 13
    EDIT_MENU = 14
    HARM = 15  # the consequence test's parts, asked from "Ubah data" (optional in step 1)
    PUBLIC_INTEREST = 16
    WEIGHING = 17


#: The questions of a new record, in order (sub-questions are reached from their parent).
ORDER = [
    Stage.TITLE,
    Stage.DIVISION,
    Stage.DESCRIPTION,
    Stage.PASAL,
    Stage.CONSEQUENCE,
    Stage.PERIOD_KIND,
    Stage.CLASSIFIED_BY,
    Stage.CLASSIFIED_AT,
]

#: What can be corrected on a draft: key, first question, the fields it changes.
EDITABLE: list[tuple[str, Stage, tuple[str, ...]]] = [
    ("title", Stage.TITLE, ("title",)),
    ("division", Stage.DIVISION, ("division_id",)),
    ("description", Stage.DESCRIPTION, ("description",)),
    ("basis", Stage.PASAL, ("pasal17", "other_legal_basis")),
    ("consequence", Stage.CONSEQUENCE, ("consequence",)),
    ("period", Stage.PERIOD_KIND, ("period",)),
    ("classified", Stage.CLASSIFIED_BY, ("classified_by", "classified_place", "classified_date")),
    ("harm_if_opened", Stage.HARM, ("harm_if_opened",)),
    ("public_interest", Stage.PUBLIC_INTEREST, ("public_interest",)),
    ("weighing", Stage.WEIGHING, ("weighing",)),
]

#: The consequence test's parts beyond its short form: the field each stage asks for. The
#: Petugas PPID may fill them in step 1 or leave them to the Pejabat PPID (step 3 needs
#: them; see sop.papers.missing_for_consequence_test).
TEST_PARTS = {
    Stage.HARM: "harm_if_opened",
    Stage.PUBLIC_INTEREST: "public_interest",
    Stage.WEIGHING: "weighing",
}


@dataclass(frozen=True)
class NewRecordChoice(CallbackData):
    """A button of the /baru conversation; it only acts in the question that showed it."""

    prefix: ClassVar[str] = "baru"
    choice: str
    value: int = 0


def _button(text: str, choice: str, value: int = 0) -> InlineKeyboardButton:
    """A button of this conversation; a long label (a division, a name, a file name) is
    cut at a word boundary to what Telegram shows."""
    return InlineKeyboardButton(
        button_text(text), callback_data=NewRecordChoice(choice, value).pack()
    )


def _on(*choices: str) -> str:
    """The pattern of this family's buttons with one of ``choices``."""
    return rf"^{NewRecordChoice.prefix}:({'|'.join(choices)}):\d{{1,12}}$"


REDO_PATTERN = r"^act:redo:\d{1,12}:\d{1,12}$"


# -- the conversation's data (JSON only) -------------------------------------------------
def _data(context: PpidContext) -> dict[str, Any]:
    assert context.user_data is not None
    return context.user_data.setdefault(KEY, {})


def _fields(context: PpidContext) -> dict[str, Any]:
    return _data(context).setdefault("fields", {})


def _to_json(fields: RecordFields) -> dict[str, Any]:
    period = fields.period
    return {
        "title": fields.title,
        "division_id": fields.division_id,
        "description": fields.description,
        "pasal17": list(fields.pasal17),
        "other_legal_basis": fields.other_legal_basis,
        "consequence": fields.consequence,
        "period": _period_json(period),
        "classified_by": fields.classified_by,
        "classified_place": fields.classified_place,
        "classified_date": fields.classified_date.isoformat(),
        "harm_if_opened": fields.harm_if_opened,
        "public_interest": fields.public_interest,
        "weighing": fields.weighing,
    }


def _period_json(period: ExemptionPeriod) -> dict[str, Any]:
    return {
        "kind": period.kind.value,
        "until": period.until.isoformat() if period.until else None,
        "amount": period.amount,
        "unit": period.unit.value if period.unit else None,
        "condition": period.condition,
    }


def _period_of(data: dict[str, Any]) -> ExemptionPeriod:
    return ExemptionPeriod(
        kind=PeriodKind(data["kind"]),
        until=date.fromisoformat(data["until"]) if data.get("until") else None,
        amount=data.get("amount"),
        unit=DurationUnit(data["unit"]) if data.get("unit") else None,
        condition=data.get("condition"),
    )


def _from_json(data: dict[str, Any]) -> RecordFields:
    return RecordFields(
        title=data["title"],
        division_id=int(data["division_id"]),
        description=data["description"],
        pasal17=tuple(data.get("pasal17") or ()),
        other_legal_basis=data.get("other_legal_basis"),
        consequence=data["consequence"],
        period=_period_of(data["period"]),
        classified_by=data["classified_by"],
        classified_place=data["classified_place"],
        classified_date=date.fromisoformat(data["classified_date"]),
        harm_if_opened=data.get("harm_if_opened"),
        public_interest=data.get("public_interest"),
        weighing=data.get("weighing"),
    )


def _letters(context: PpidContext) -> tuple[str, ...]:
    return tuple(_fields(context).get("pasal17") or ())


def _editing(context: PpidContext) -> str | None:
    return _data(context).get("editing")


def _finish(context: PpidContext) -> int:
    assert context.user_data is not None
    context.user_data.pop(KEY, None)
    return ConversationHandler.END


# -- asking ------------------------------------------------------------------------------
async def _question(context: PpidContext, stage: Stage) -> tuple[str, InlineKeyboardMarkup | None]:
    """The text and buttons of the question asked in ``stage``."""
    data, fields = _data(context), _fields(context)
    service = context.service
    rows: list[list[InlineKeyboardButton]] = []
    editing = _editing(context) is not None
    text = ""
    if stage is Stage.TITLE:
        if editing:
            text = f"{t.ASK_TITLE}\n{t.current(fields['title'])}"
        else:
            text = f"{t.NEW_RECORD}\n{t.ASK_TITLE}\n\n{t.STOP_ANYTIME}"
    elif stage is Stage.DIVISION:
        divisions = await service.divisions()
        preset = next((d for d in divisions if d.id == fields.get("division_id")), None)
        own = next((d for d in divisions if d.id == context.actor.division_id), None)
        if editing:
            current = preset.name if preset is not None else "?"
            text = t.ASK_DIVISION_EDIT.format(name=h(current))
            rows = [[_button(d.name, "div", d.id)] for d in divisions if d is not preset]
        elif preset is not None and not data.get("pick_division"):
            text = t.ASK_DIVISION.format(name=h(preset.name))
            rows = [
                [_button(t.BUTTON_DIVISION_OK, "div", preset.id)],
                [_button(t.BUTTON_DIVISION_CHANGE, "div_change")],
            ]
        else:
            text = t.PICK_DIVISION
            if own is not None:
                text += "\n" + t.OWN_DIVISION_DEFAULT.format(name=h(own.name))
            rows = [[_button(d.name, "div", d.id)] for d in divisions]
    elif stage is Stage.DESCRIPTION:
        text = t.ASK_DESCRIPTION
        if editing:
            text += "\n" + t.current(fields["description"])
    elif stage is Stage.PASAL:
        letters = list(_letters(context))
        other = fields.get("other_legal_basis")
        text = t.pasal_question(letters, other)
        buttons = [
            _button(t.letter_button(letter, letter in letters), "letter", index)
            for index, letter in enumerate(LETTERS)
        ]
        rows = [buttons[:5], buttons[5:]]
        other_label = t.BUTTON_OTHER_BASIS_CHANGE if other else t.BUTTON_OTHER_BASIS
        rows.append([_button(other_label, "other")])
        rows.append([_button(t.BUTTON_NEXT, "pasal_next")])
    elif stage is Stage.OTHER_BASIS:
        text = t.ASK_OTHER_BASIS
        if fields.get("other_legal_basis"):
            text += "\n" + t.current(fields["other_legal_basis"])
            rows = [[_button(t.BUTTON_NO_OTHER_BASIS, "no_other")]]
    elif stage is Stage.CONSEQUENCE:
        text = t.ASK_CONSEQUENCE
        if editing:
            text += "\n" + t.current(fields["consequence"])
    elif stage is Stage.PERIOD_KIND:
        text = t.ASK_PERIOD
        if editing:
            text += "\n" + t.period_now(_period_of(fields["period"]))
        # Pasal 20: "Permanen" is not even offered for letters a-f (and refused if forced).
        allowed = permanent_allowed(_letters(context))
        kinds = [
            _button(t.BUTTON_PERIOD[kind], "period", index)
            for index, kind in enumerate(PERIOD_KINDS)
            if allowed or kind is not PeriodKind.PERMANENT
        ]
        rows = [kinds[:2], kinds[2:]]
    elif stage is Stage.PERIOD_VALUE:
        text = t.ASK_PERIOD_VALUE[PeriodKind(data["period_kind"])]
        rows = [[_button(t.BUTTON_PERIOD_BACK, "period_back")]]
    elif stage is Stage.CLASSIFIED_BY:
        text = t.ASK_CLASSIFIED_BY
        if editing:
            text += "\n" + t.current(fields["classified_by"])
        rows = [[_button(t.me_button(context.actor.full_name), "me")]]
    elif stage is Stage.CLASSIFIED_AT:
        today = service.today()
        text = t.ASK_CLASSIFIED_AT.format(example=t.classified_example(today))
        if editing:
            day = date.fromisoformat(fields["classified_date"])
            text += "\n" + t.current(f"{fields['classified_place']}, {tanggal(day)}")
        rows = [[_button(t.here_button(today), "here")]]
    elif stage is Stage.FILES:
        record = await service.record(context.actor, data["record_id"])
        text = t.files_prompt(record, context.runtime.settings.max_file_size)
        rows = _files_rows(record)
    elif stage is Stage.COMBINE:
        text = t.ASK_COMBINE.format(count=len(data.get("photos", [])))
        rows = [[_button(t.BUTTON_COMBINE, "combine", 1)], [_button(t.BUTTON_SEPARATE, "combine")]]
    elif stage is Stage.CONFIRM:
        record = await service.record(context.actor, data["record_id"])
        documents = await documents_of(context, record)
        text = t.confirm_card(record, block_of(documents))
        rows = [
            [
                _button(t.BUTTON_VERIFIED, "verified", record.version),
                _button(t.BUTTON_NOT_YET, "not_yet"),
            ],
            [_button(t.BUTTON_EDIT, "edit")],
        ]
        if suggestion_for(record, documents) is not None:
            rows.insert(1, [_button(pii_texts.BUTTON_USE_SUGGESTION, "use_hint", record.version)])
        if was_shortened(text):
            rows.append(full_text_row(record))
    elif stage in TEST_PARTS:
        value = fields.get(TEST_PARTS[stage])
        text = t.ASK_TEST_PART[TEST_PARTS[stage]]
        text += "\n" + (t.current(value) if value else t.NOT_FILLED)
    elif stage is Stage.EDIT_MENU:
        text = t.ASK_EDIT
        labels = [_button(t.EDIT_LABELS[key], "field", i) for i, (key, _, _) in enumerate(EDITABLE)]
        rows = [labels[i : i + 2] for i in range(0, len(labels), 2)]
        rows.append([_button(t.BUTTON_BACK, "back")])
    if editing and stage in {
        Stage.TITLE,
        Stage.DIVISION,
        Stage.DESCRIPTION,
        Stage.PASAL,
        Stage.CONSEQUENCE,
        Stage.PERIOD_KIND,
        Stage.CLASSIFIED_BY,
        Stage.CLASSIFIED_AT,
        *TEST_PARTS,
    }:
        rows.append([_button(t.BUTTON_KEEP, "keep")])
    return text, InlineKeyboardMarkup(rows) if rows else None


def _files_rows(record: RecordView | None = None) -> list[list[InlineKeyboardButton]]:
    """The files buttons: with the record also "Lepas" per softcopy and "Ubah data"."""
    rows: list[list[InlineKeyboardButton]] = []
    if record is not None:
        rows = [
            [_button(t.detach_button(f.original_name), "detach", f.id)]
            for f in t.division_files(record)
        ]
        rows.append([_button(t.BUTTON_EDIT, "edit")])
    rows.append([_button(t.BUTTON_FILES_DONE, "files_done")])
    return rows


async def _ask(update: Update, context: PpidContext, stage: Stage, note: str | None = None) -> int:
    """Ask the question of ``stage`` (after ``note``, if any) and wait there."""
    _data(context)["stage"] = int(stage)
    text, markup = await _question(context, stage)
    if note:
        text = f"{note}\n\n{text}"
    assert update.effective_chat is not None
    await context.bot.send_message(update.effective_chat.id, text, reply_markup=markup)
    return int(stage)


async def _nudge(update: Update, context: PpidContext, stage: Stage, text: str) -> int:
    """Say what is wrong with an answer, with the question's buttons; the stage stays."""
    markup: InlineKeyboardMarkup | None = None
    if stage is Stage.FILES:
        markup = InlineKeyboardMarkup(_files_rows())
    elif stage in _BUTTON_STAGES:
        _, markup = await _question(context, stage)
    assert update.effective_chat is not None
    await context.bot.send_message(update.effective_chat.id, text, reply_markup=markup)
    return int(stage)


#: Questions whose buttons are worth repeating under a hint.
_BUTTON_STAGES = {
    Stage.DIVISION,
    Stage.PASAL,
    Stage.OTHER_BASIS,
    Stage.PERIOD_KIND,
    Stage.PERIOD_VALUE,
    Stage.CLASSIFIED_BY,
    Stage.CLASSIFIED_AT,
    Stage.COMBINE,
    Stage.CONFIRM,
    Stage.EDIT_MENU,
}


async def _answered(update: Update, context: PpidContext, stage: Stage) -> int:
    """Move on once ``stage`` is answered: the next question, or save what was corrected."""
    editing = _editing(context)
    if editing is not None:
        if stage is Stage.CLASSIFIED_BY:
            return await _ask(update, context, Stage.CLASSIFIED_AT)
        return await _save_correction(update, context, stage, editing)
    if stage is Stage.CLASSIFIED_AT:
        return await _create_draft(update, context)
    return await _ask(update, context, ORDER[ORDER.index(stage) + 1])


async def _create_draft(update: Update, context: PpidContext) -> int:
    """All fields are known: the draft is created, then the softcopies are asked for."""
    data = _data(context)
    try:
        record = await context.service.create_draft(
            context.actor, _from_json(data["fields"]), origin_key=data.get("origin")
        )
    except SopError as exc:
        return await _nudge(update, context, Stage.CLASSIFIED_AT, exc.message)
    data["record_id"] = record.id
    data.pop("fields", None)
    await _attach_pending(context)
    return await _ask(update, context, Stage.FILES, note=t.draft_created(record))


async def _reconciled(context: PpidContext) -> RecordView | None:
    """The draft this conversation already created although its state does not know it
    (the bot stopped between the commit and saving the conversation); the conversation
    then goes on from the database's state: at the softcopies."""
    data = _data(context)
    origin = data.get("origin")
    if origin is None or data.get("record_id") is not None:
        return None
    record = await context.service.draft_of_origin(context.actor, origin)
    if record is not None:
        data["record_id"] = record.id
        data.pop("fields", None)
        data["stage"] = int(Stage.FILES)
    return record


async def _save_correction(update: Update, context: PpidContext, stage: Stage, key: str) -> int:
    """Corrected data of a draft is saved; back where "Ubah data" was pressed."""
    data = _data(context)
    names = next(names for k, _, names in EDITABLE if k == key)
    fields = _from_json(data["fields"])
    changes = {name: getattr(fields, name) for name in names}
    try:
        await context.service.update_fields(context.actor, data["record_id"], changes)
    except SopError as exc:
        return await _nudge(update, context, stage, exc.message)
    data.pop("editing", None)
    data.pop("fields", None)
    return await _back_from_edit(update, context, note=t.CORRECTED)


async def _back_from_edit(update: Update, context: PpidContext, note: str | None = None) -> int:
    """After a correction (or none): back where "Ubah data" was pressed, the summary or
    the softcopies."""
    origin = _data(context).pop("edit_from", int(Stage.FILES))
    stage = Stage.CONFIRM if origin == Stage.CONFIRM else Stage.FILES
    return await _ask(update, context, stage, note=note)


async def _close(update: Update, text: str) -> None:
    """Replace an answered question by its answer (its buttons go away)."""
    query = update.callback_query
    assert query is not None
    try:
        await query.edit_message_text(text)
    except BadRequest as exc:  # too old, deleted, or shown already (a repeated press)
        log.info("could not close the answered question: %s", exc)


def _choice(update: Update) -> NewRecordChoice:
    assert update.callback_query is not None
    choice = NewRecordChoice.parse(update.callback_query.data)
    assert choice is not None  # the handler's pattern matched
    return choice


# -- entry points --------------------------------------------------------------------------
async def start_new(update: Update, context: PpidContext) -> int:
    """/baru, or "Mulai berkas baru" under a softcopy sent before: a Petugas PPID starts a
    record (with the softcopies sent before, if any); the bot asks for its title."""
    actor = context.actor
    query = update.callback_query
    assert context.user_data is not None
    if not actor.has(Role.PETUGAS_PPID):
        if query is not None:
            await query.answer(t.ONLY_PETUGAS, show_alert=True)
        elif update.message is not None:
            await update.message.reply_text(t.ONLY_PETUGAS)
        return ConversationHandler.END
    if query is not None:
        if not context.user_data.get(OFFERED):
            await query.answer(t.STALE_BUTTON, show_alert=True)
            return ConversationHandler.END
        await query.answer()
        await _drop_markup(update)
    pending: list[dict[str, Any]] = context.user_data.pop(OFFERED, [])
    staged: dict[str, int] = context.user_data.pop(STAGED, {})
    context.user_data[KEY] = {
        "fields": {"division_id": actor.division_id, "pasal17": [], "other_legal_basis": None},
        "photos": [],
        # This conversation's idempotency key, stored with the draft it creates.
        "origin": secrets.token_hex(16),
        # Softcopies sent before /baru: attached as soon as the draft exists (their
        # messages; the copies already stored, by message id).
        "pending": pending,
        "staged": staged,
    }
    note = t.pending_files(len(pending)) if pending else None
    return await _ask(update, context, Stage.TITLE, note=note)


async def _drop_markup(update: Update) -> None:
    query = update.callback_query
    assert query is not None
    try:
        await query.edit_message_reply_markup(None)
    except BadRequest as exc:
        log.info("could not remove the buttons of the offer: %s", exc)


# -- a softcopy sent outside any conversation ---------------------------------------------
#: user_data: softcopies a Petugas PPID sent before any /baru (their messages, as JSON),
#: and the copies of them already stored (staged files, by message id).
OFFERED = "baru_offered"
STAGED = "baru_staged"
MAX_OFFERED = 10


async def offer_new_record(update: Update, context: PpidContext) -> None:
    """A document or photo outside any conversation: stored at once (not only as a
    Telegram reference), and /baru is offered with it."""
    message = update.message
    assert message is not None and context.user_data is not None
    if not context.actor.has(Role.PETUGAS_PPID):
        await message.reply_text(t.FILE_NOT_EXPECTED)
        return
    offered: list[dict[str, Any]] = context.user_data.setdefault(OFFERED, [])
    if len(offered) >= MAX_OFFERED:
        await message.reply_text(t.TOO_MANY_OFFERED.format(count=len(offered)))
        return
    try:
        staged = await _stage_softcopy(context, message)
    except _Refused as refused:
        await message.reply_text(refused.text)
        return
    context.user_data.setdefault(STAGED, {})[str(message.message_id)] = staged.id
    group = message.media_group_id
    album_offered = group is not None and any(m.get("media_group_id") == group for m in offered)
    offered.append(message.to_dict())
    if album_offered:
        return  # one offer for an album; every item is kept
    name = message.document.file_name if message.document else None
    await message.reply_text(
        t.offer(name or t.PHOTO, len(offered)),
        reply_markup=InlineKeyboardMarkup(
            [
                [_button(t.BUTTON_START_WITH_FILES, "with_files")],
                [_button(t.BUTTON_DROP_OFFERED, "drop_offered")],
            ]
        ),
    )


async def drop_offered(update: Update, context: PpidContext) -> None:
    """ "Abaikan" under an offer: the softcopies sent before are not used."""
    query = update.callback_query
    assert query is not None and context.user_data is not None
    offered = context.user_data.pop(OFFERED, None)
    staged = context.user_data.pop(STAGED, None)
    if not offered:
        await query.answer(t.STALE_BUTTON, show_alert=True)
        return
    await query.answer()
    await _drop_staged(context, staged)
    await _drop_markup(update)
    await context.bot.send_message(
        context.actor.telegram_id, t.OFFER_DROPPED.format(count=len(offered))
    )


async def _attach_pending(context: PpidContext) -> None:
    """The softcopies sent before /baru go into the draft, through the usual upload."""
    data = _data(context)
    for raw in data.get("pending", []):
        message = Message.de_json(raw, context.bot)
        await got_file(Update(update_id=0, message=message), context)
    data.pop("pending", None)


async def start_redo(update: Update, context: PpidContext) -> int:
    """The "Perbaiki" button of a draft: the bot shows the reason and the softcopies."""
    query = update.callback_query
    assert query is not None
    action = RecordAction.parse(query.data)
    assert action is not None  # the entry point's pattern matched
    service = context.service
    try:
        record = await service.record(context.actor, action.record_id)
    except SopError as exc:
        await query.answer(exc.message[:200], show_alert=True)
        return ConversationHandler.END
    if record.state is not State.DRAFT or not service.may_act(context.actor, record):
        await query.answer(t.REDO_NOT_POSSIBLE, show_alert=True)
        return ConversationHandler.END
    await query.answer()
    assert context.user_data is not None
    context.user_data[KEY] = {"record_id": record.id, "photos": []}
    return await _ask(update, context, Stage.FILES, note=t.redo_header(record))


# -- the record's fields ---------------------------------------------------------------------
async def got_title(update: Update, context: PpidContext) -> int:
    """The officer typed the title: checked (3–200 characters), then the division."""
    assert update.message is not None and update.message.text is not None
    if not update.message.text.strip():
        return await _nudge(update, context, Stage.TITLE, t.EMPTY_TITLE)
    try:
        title = validate_title(update.message.text)
    except InvalidInput as exc:
        return await _nudge(update, context, Stage.TITLE, t.RETRY.format(error=exc.message))
    _fields(context)["title"] = title
    return await _answered(update, context, Stage.TITLE)


async def division_change(update: Update, context: PpidContext) -> int:
    """The officer pressed "Ganti bagian"; the bot lists the active divisions."""
    assert update.callback_query is not None
    await update.callback_query.answer()
    _data(context)["pick_division"] = True
    text, markup = await _question(context, Stage.DIVISION)
    await update.callback_query.edit_message_text(text, reply_markup=markup)
    return Stage.DIVISION


async def division_chosen(update: Update, context: PpidContext) -> int:
    """The officer confirmed or picked the division; the bot asks for the description."""
    query = update.callback_query
    assert query is not None
    division_id = _choice(update).value
    division = next((d for d in await context.service.divisions() if d.id == division_id), None)
    if division is None:
        await query.answer(t.STALE_BUTTON, show_alert=True)
        return Stage.DIVISION
    await query.answer()
    _fields(context)["division_id"] = division.id
    _data(context).pop("pick_division", None)
    chosen = t.CHOSEN_DIVISION.format(name=h(division.name))
    if division.id != context.actor.division_id:  # filed elsewhere than the officer's own
        chosen += "\n" + t.OTHER_DIVISION_NOTE.format(name=h(division.name))
    if _editing(context) is not None:
        chosen += "\n" + t.FILES_MOVE_ALONG
    await _close(update, chosen)
    return await _answered(update, context, Stage.DIVISION)


async def got_description(update: Update, context: PpidContext) -> int:
    """The officer typed the description; the bot shows the Pasal 17 letters."""
    assert update.message is not None and update.message.text is not None
    try:
        description = validate_text(update.message.text, label="Uraian")
    except InvalidInput as exc:
        return await _nudge(update, context, Stage.DESCRIPTION, t.RETRY.format(error=exc.message))
    _fields(context)["description"] = description
    return await _answered(update, context, Stage.DESCRIPTION)


async def toggle_letter(update: Update, context: PpidContext) -> int:
    """A Pasal 17 letter was pressed: it is marked (or unmarked) in place."""
    query = update.callback_query
    assert query is not None
    index = _choice(update).value
    if index >= len(LETTERS):
        await query.answer(t.STALE_BUTTON, show_alert=True)
        return Stage.PASAL
    await query.answer()
    letters = set(_letters(context)) ^ {LETTERS[index]}
    _fields(context)["pasal17"] = sorted(letters)
    text, markup = await _question(context, Stage.PASAL)
    await query.edit_message_text(text, reply_markup=markup)
    return Stage.PASAL


async def ask_other_basis(update: Update, context: PpidContext) -> int:
    """The officer pressed "Dasar hukum lain"; the bot asks for it."""
    assert update.callback_query is not None
    await update.callback_query.answer()
    return await _ask(update, context, Stage.OTHER_BASIS)


async def got_other_basis(update: Update, context: PpidContext) -> int:
    """The officer typed another legal basis; the letters are shown again to go on."""
    assert update.message is not None and update.message.text is not None
    try:
        other = validate_text(update.message.text, label="Dasar hukum lain", maximum=500)
    except InvalidInput as exc:
        return await _nudge(update, context, Stage.OTHER_BASIS, t.RETRY.format(error=exc.message))
    _fields(context)["other_legal_basis"] = other
    return await _ask(update, context, Stage.PASAL)


async def drop_other_basis(update: Update, context: PpidContext) -> int:
    """The officer pressed "Tanpa dasar hukum lain"; it is cleared, back to the letters."""
    assert update.callback_query is not None
    await update.callback_query.answer()
    _fields(context)["other_legal_basis"] = None
    return await _ask(update, context, Stage.PASAL)


async def pasal_done(update: Update, context: PpidContext) -> int:
    """The officer pressed "Lanjut" under the letters; with a basis, the consequence test."""
    query = update.callback_query
    assert query is not None
    letters, other = _letters(context), _fields(context).get("other_legal_basis")
    if not letters and not other:
        await query.answer(t.NEED_BASIS, show_alert=True)
        return Stage.PASAL
    await query.answer()
    await _close(update, t.chosen_basis(letters, other))
    return await _answered(update, context, Stage.PASAL)


async def got_consequence(update: Update, context: PpidContext) -> int:
    """The officer typed the consequence test; the bot asks for the exemption period."""
    assert update.message is not None and update.message.text is not None
    try:
        consequence = validate_text(update.message.text, label="Uji konsekuensi", maximum=1000)
    except InvalidInput as exc:
        return await _nudge(update, context, Stage.CONSEQUENCE, t.RETRY.format(error=exc.message))
    _fields(context)["consequence"] = consequence
    return await _answered(update, context, Stage.CONSEQUENCE)


async def got_test_part(update: Update, context: PpidContext) -> int:
    """The officer typed a part of the consequence test (from "Ubah data"); it is saved."""
    assert update.message is not None and update.message.text is not None
    stage = Stage(_data(context)["stage"])
    name = TEST_PARTS[stage]
    try:
        value = validate_text(
            update.message.text,
            label=CONSEQUENCE_PART_LABELS[name],
            maximum=CONSEQUENCE_PART_MAX,
        )
    except InvalidInput as exc:
        return await _nudge(update, context, stage, t.RETRY.format(error=exc.message))
    _fields(context)[name] = value
    return await _answered(update, context, stage)


async def period_chosen(update: Update, context: PpidContext) -> int:
    """A kind of period was pressed: permanent is checked at once, the others ask a value."""
    query = update.callback_query
    assert query is not None
    index = _choice(update).value
    if index >= len(PERIOD_KINDS):
        await query.answer(t.STALE_BUTTON, show_alert=True)
        return Stage.PERIOD_KIND
    kind = PERIOD_KINDS[index]
    await query.answer()
    if kind is PeriodKind.PERMANENT:
        period = ExemptionPeriod(PeriodKind.PERMANENT)
        try:
            validate_period(period, _letters(context), context.service.today())
        except InvalidInput as exc:
            return await _nudge(update, context, Stage.PERIOD_KIND, exc.message)
        _fields(context)["period"] = _period_json(period)
        await _close(update, t.CHOSEN_PERIOD.format(period=period_text(period)))
        return await _answered(update, context, Stage.PERIOD_KIND)
    _data(context)["period_kind"] = kind.value
    await _close(update, t.CHOSEN_PERIOD_KIND.format(kind=t.PERIOD_KIND_NAMES[kind]))
    return await _ask(update, context, Stage.PERIOD_VALUE)


async def period_back(update: Update, context: PpidContext) -> int:
    """The officer pressed "Pilih jenis lain"; back to the kinds of period."""
    assert update.callback_query is not None
    await update.callback_query.answer()
    return await _ask(update, context, Stage.PERIOD_KIND)


async def got_period_value(update: Update, context: PpidContext) -> int:
    """The officer typed the date, duration or condition; a date must lie in the future."""
    assert update.message is not None and update.message.text is not None
    text = update.message.text
    kind = PeriodKind(_data(context)["period_kind"])
    try:
        if kind is PeriodKind.UNTIL_DATE:
            period = ExemptionPeriod(kind, until=parse_date(text))
        elif kind is PeriodKind.DURATION:
            amount, unit = parse_period_duration(text)
            period = ExemptionPeriod(kind, amount=amount, unit=unit)
        else:
            period = ExemptionPeriod(kind, condition=validate_condition(text))
        validate_period(period, _letters(context), context.service.today())
    except InvalidInput as exc:
        return await _nudge(update, context, Stage.PERIOD_VALUE, t.RETRY.format(error=exc.message))
    _fields(context)["period"] = _period_json(period)
    _data(context).pop("period_kind", None)
    return await _answered(update, context, Stage.PERIOD_KIND)


async def got_classified_by(update: Update, context: PpidContext) -> int:
    """The officer typed (or chose themself as) the official who set the classification."""
    query = update.callback_query
    if query is not None:
        await query.answer()
        raw = context.actor.full_name
    else:
        assert update.message is not None and update.message.text is not None
        raw = update.message.text
    try:
        name = validate_text(raw, label="Nama pejabat", maximum=200)
    except InvalidInput as exc:
        return await _nudge(update, context, Stage.CLASSIFIED_BY, t.RETRY.format(error=exc.message))
    _fields(context)["classified_by"] = name
    if query is not None:
        await _close(update, t.CHOSEN_CLASSIFIED_BY.format(name=h(name)))
    return await _answered(update, context, Stage.CLASSIFIED_BY)


async def got_classified_at(update: Update, context: PpidContext) -> int:
    """The officer typed "place, date" (or took Padang, today); the draft is then created."""
    query = update.callback_query
    today = context.service.today()
    if query is not None:
        await query.answer()
        place, day = t.DEFAULT_PLACE, today
    else:
        assert update.message is not None and update.message.text is not None
        place_text, comma, date_text = update.message.text.rpartition(",")
        if not comma:
            return await _nudge(
                update,
                context,
                Stage.CLASSIFIED_AT,
                t.PLACE_AND_DATE.format(example=t.classified_example(today)),
            )
        try:
            place = validate_text(place_text, label="Tempat", maximum=200)
            day = validate_classified_date(parse_date(date_text), today)
        except InvalidInput as exc:
            return await _nudge(
                update, context, Stage.CLASSIFIED_AT, t.RETRY.format(error=exc.message)
            )
    fields = _fields(context)
    fields["classified_place"], fields["classified_date"] = place, day.isoformat()
    if query is not None:
        await _close(update, t.CHOSEN_CLASSIFIED_AT.format(place=h(place), day=tanggal(day)))
    return await _answered(update, context, Stage.CLASSIFIED_AT)


# -- softcopies ------------------------------------------------------------------------------
class _Refused(Exception):
    """A softcopy that was not stored, with what to tell the officer (HTML)."""

    def __init__(self, name: str, text: str) -> None:
        super().__init__(text)
        self.name = name
        self.text = text


async def got_file(update: Update, context: PpidContext) -> int:
    """A document or photo arrived: checked, streamed into storage and attached at once. An
    album's items are stored one by one and acknowledged together, in one summary."""
    message = update.message
    assert message is not None
    group = message.media_group_id
    if group is not None:  # no summary while one of the album's items is being stored
        _hold_album_summary(context, message.chat_id, group)
    try:
        stored = await _store_softcopy(update, context)
    except _Refused as refused:
        if group is None:
            return await _nudge(update, context, Stage.FILES, refused.text)
        line = t.refused_line(refused.name, refused.text)
        await _album_item(context, message.chat_id, message.message_id, group, False, line)
        return Stage.FILES
    service, actor = context.service, context.actor
    also_in = await service.records_with_same_content(actor, stored.id)
    if group is not None:
        line = t.stored_line(stored, also_in)
        await _album_item(context, message.chat_id, message.message_id, group, True, line)
        return Stage.FILES
    record = await service.record(actor, _data(context)["record_id"])
    await message.reply_text(
        t.file_stored(stored, len(t.division_files(record)), also_in),
        reply_markup=InlineKeyboardMarkup(_files_rows()),
    )
    return Stage.FILES


@dataclass(frozen=True)
class _Softcopy:
    """What a message's softcopy is, before it is downloaded."""

    name: str
    file_id: str
    size: int | None
    mime: str
    is_photo: bool


def _softcopy_of(message: Message, limit: int) -> _Softcopy:
    """The message's document or photo, checked by its name and size; _Refused says why
    it cannot be stored."""
    if message.document is not None:
        document = message.document
        name = document.file_name or ""
        extension = PurePosixPath(name).suffix.lower()
        if not extension and document.mime_type in EXTENSION_OF:
            extension = EXTENSION_OF[document.mime_type]
            name = f"dokumen{extension}"
        if extension not in ACCEPTED:
            kind = extension or document.mime_type or "tanpa nama"
            raise _Refused(name or kind, t.unsupported_file(kind))
        softcopy = _Softcopy(name, document.file_id, document.file_size, ACCEPTED[extension], False)
    else:
        photo = message.photo[-1]
        name = t.photo_name(message.message_id)
        softcopy = _Softcopy(name, photo.file_id, photo.file_size, "image/jpeg", True)
    if softcopy.size is not None and softcopy.size > limit:
        raise _Refused(softcopy.name, t.too_big(softcopy.name, softcopy.size, limit))
    return softcopy


async def _download(context: PpidContext, softcopy: _Softcopy) -> AsyncIterator[bytes]:
    """The softcopy's bytes from Telegram, as they come; _Refused if they cannot come."""
    name = softcopy.name
    try:
        telegram_file = await context.bot.get_file(softcopy.file_id)
    except BadRequest as exc:
        if "too big" in exc.message.lower():  # the Bot API's own 20 MB download limit
            raise _Refused(name, t.TOO_BIG_FOR_TELEGRAM.format(name=h(name))) from exc
        raise _Refused(name, t.DOWNLOAD_FAILED) from exc
    except TelegramError as exc:
        raise _Refused(name, t.DOWNLOAD_FAILED) from exc
    if not telegram_file.file_path:
        raise _Refused(name, t.DOWNLOAD_FAILED)
    # What Telegram says the file holds: a shorter (or longer) download is not stored.
    expected = telegram_file.file_size or softcopy.size
    return telegram_chunks(telegram_file.file_path, expected_size=expected)


async def _storing(name: str, store: Awaitable[_T]) -> _T:
    """Run a store of softcopy ``name``; whatever fails is a _Refused saying so."""
    try:
        return await store
    except SopError as exc:
        raise _Refused(name, h(exc.message)) from exc
    except Exception as exc:
        # Whatever failed, the file was not kept: say so (the global apology would say
        # "Data Anda tidak hilang", which is untrue of this file).
        reference = secrets.token_hex(4).upper()
        log.exception("storing softcopy %r failed [ref %s]", name, reference)
        raise _Refused(name, t.NOT_STORED_ERROR.format(name=h(name), ref=reference)) from exc


async def _store_softcopy(update: Update, context: PpidContext) -> FileView:
    """Check, download and attach the message's softcopy (or the copy stored when it was
    sent before the record was started); _Refused says why it was not."""
    message = update.message
    assert message is not None
    data = _data(context)
    softcopy = _softcopy_of(message, context.runtime.settings.max_file_size)
    staged = data.get("staged", {}).pop(str(message.message_id), None)
    if staged is not None:
        stored = await _storing(
            softcopy.name,
            StagingService(context.service).attach(context.actor, data["record_id"], staged),
        )
    else:
        chunks = await _download(context, softcopy)
        stored = await _storing(
            softcopy.name,
            context.service.attach_file(
                context.actor, data["record_id"], chunks, softcopy.name, softcopy.mime
            ),
        )
    if softcopy.is_photo:
        data.setdefault("photos", []).append(stored.id)
    return stored


async def _stage_softcopy(context: PpidContext, message: Message) -> StagedFile:
    """Store a softcopy sent before its record exists; _Refused says why it was not."""
    softcopy = _softcopy_of(message, context.runtime.settings.max_file_size)
    chunks = await _download(context, softcopy)
    return await _storing(
        softcopy.name,
        StagingService(context.service).stage(context.actor, chunks, softcopy.name, softcopy.mime),
    )


async def _drop_staged(context: PpidContext, staged: dict[str, int] | None) -> None:
    """The softcopies sent before /baru will not be used: their stored copies go."""
    if staged:
        await StagingService(context.service).drop(context.actor, list(staged.values()))


# -- albums: one acknowledgement for all the items of a media group --------------------------
#: How long after an album's last item the summary waits for more (Telegram delivers an
#: album as separate messages, usually within a second).
ALBUM_WAIT = 1.5
ALBUMS_START_JOB = "albums:pending"
#: APScheduler skips a job that runs more than a second late unless told otherwise.
NEVER_MISSED: dict[str, Any] = {"misfire_grace_time": None}


def _album_job_name(chat_id: int, group: str) -> str:
    return f"album:{chat_id}:{group}"


def _hold_album_summary(context: PpidContext, chat_id: int, group: str) -> None:
    assert context.job_queue is not None
    for job in context.job_queue.get_jobs_by_name(_album_job_name(chat_id, group)):
        job.schedule_removal()


def _schedule_album_summary(
    job_queue: JobQueue[Any], chat_id: int, group: str, when: float = ALBUM_WAIT
) -> None:
    name = _album_job_name(chat_id, group)
    for job in job_queue.get_jobs_by_name(name):
        job.schedule_removal()
    job_queue.run_once(
        send_album_summary,
        when=when,
        data={"chat": chat_id, "group": group},
        name=name,
        job_kwargs=NEVER_MISSED,  # late is fine, skipped is not
    )


async def _album_item(
    context: PpidContext, chat_id: int, message_id: int, group: str, stored: bool, line: str
) -> None:
    """Keep what happened to one album item (in the database, so a restart loses nothing)
    and (re)start the wait for the album's summary."""
    assert context.job_queue is not None
    await context.runtime.albums.add(
        chat_id,
        group,
        message_id,
        context.actor.user_id,
        _data(context)["record_id"],
        stored,
        line,
    )
    _schedule_album_summary(context.job_queue, chat_id, group)


async def send_album_summary(context: PpidContext) -> None:
    """The album's items are all in: one message says what was stored and what was not."""
    assert context.job is not None
    job_data: dict[str, Any] = context.job.data  # type: ignore[assignment]
    chat_id, group = int(job_data["chat"]), str(job_data["group"])
    albums, service = context.runtime.albums, context.service
    items = await albums.items(chat_id, group)
    if not items:
        return
    count: int | None = None
    actor = await service.actor_by_telegram(chat_id)  # the officer's private chat
    if actor is not None:
        try:
            count = len(t.division_files(await service.record(actor, items[-1].record_id)))
        except SopError:
            count = None
    text = t.album_summary([item.line for item in items], sum(i.stored for i in items), count)
    try:
        await context.bot.send_message(
            chat_id, text, reply_markup=InlineKeyboardMarkup(_files_rows())
        )
    except TelegramError:
        log.exception("could not send the summary of album %s to chat %s", group, chat_id)
        return  # kept: the next start sends it
    await albums.forget([item.id for item in items])


async def _resume_album_summaries(context: PpidContext) -> None:
    """At start: albums whose summary a restart interrupted get it now."""
    assert context.job_queue is not None
    for chat_id, group in await context.runtime.albums.pending():
        _schedule_album_summary(context.job_queue, chat_id, group, when=0)


async def detach(update: Update, context: PpidContext) -> int:
    """A "Lepas" button: the softcopy leaves the draft (its bytes stay stored)."""
    query = update.callback_query
    assert query is not None
    file_id = _choice(update).value
    data = _data(context)
    service = context.service
    try:
        record = await service.record(context.actor, data["record_id"])
        file = next((f for f in t.division_files(record) if f.id == file_id), None)
        if file is None:
            await query.answer(t.STALE_BUTTON, show_alert=True)
            return Stage.FILES
        await service.remove_file(context.actor, record.id, file_id)
    except SopError as exc:
        await query.answer(exc.message[:200], show_alert=True)
        return Stage.FILES
    await query.answer()
    await query.edit_message_reply_markup(None)
    if file_id in data.get("photos", []):
        data["photos"].remove(file_id)
    return await _ask(
        update, context, Stage.FILES, note=t.DETACHED.format(name=h(file.original_name))
    )


async def files_done(update: Update, context: PpidContext) -> int:
    """The officer pressed "Selesai melampirkan"; one PDF is offered for photos, else the card."""
    query = update.callback_query
    assert query is not None
    data = _data(context)
    record = await context.service.record(context.actor, data["record_id"])
    files = t.division_files(record)
    if not files:
        await query.answer(t.NO_FILES_YET, show_alert=True)
        return Stage.FILES
    await query.answer()
    await query.edit_message_reply_markup(None)
    attached = {f.id for f in files}
    data["photos"] = [fid for fid in data.get("photos", []) if fid in attached]
    if len(data["photos"]) >= 2:
        return await _ask(update, context, Stage.COMBINE)
    return await _ask(update, context, Stage.CONFIRM)


async def combine_chosen(update: Update, context: PpidContext) -> int:
    """Combine the page photos into one PDF (photos detached, kept), or leave them."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_reply_markup(None)
    data = _data(context)
    photos: list[int] = data.get("photos", [])
    data["photos"] = []
    if not _choice(update).value:
        return await _ask(update, context, Stage.CONFIRM)
    service, actor, record_id = context.service, context.actor, data["record_id"]
    record = await service.record(actor, record_id)
    try:
        stored = await service.combine_photos(
            actor, record_id, photos, t.combined_name(record.fields.title, len(photos))
        )
    except SopError as exc:
        return await _ask(update, context, Stage.CONFIRM, note=exc.message)
    return await _ask(update, context, Stage.CONFIRM, note=t.combined(stored, len(photos)))


# -- confirmation --------------------------------------------------------------------------
async def verified(update: Update, context: PpidContext) -> int:
    """The officer confirmed "Ya, sudah"; step 1 is done and the Petugas Dokumentasi told."""
    query = update.callback_query
    assert query is not None
    version = _choice(update).value
    data = _data(context)
    service, actor = context.service, context.actor
    try:
        outcome = await service.complete_produce(
            actor, data["record_id"], verified=True, expected_version=version
        )
    except SopError as exc:
        await query.answer()
        await query.edit_message_reply_markup(None)
        record = await service.record(actor, data["record_id"])
        if record.state is State.DRAFT:  # e.g. no softcopy left: back to the files
            return await _ask(update, context, Stage.FILES, note=exc.message)
        assert update.effective_chat is not None  # someone else finished step 1 meanwhile
        await context.bot.send_message(update.effective_chat.id, exc.message)
        return _finish(context)
    await query.answer()
    await query.edit_message_reply_markup(None)
    delivery = await announce(context.bot, outcome, actor)
    others = [a for a in outcome.notify if a.user_id != actor.user_id]
    assert update.effective_chat is not None
    await context.bot.send_message(
        update.effective_chat.id,
        t.done(outcome.record, delivery.reached, anyone=bool(others), more=delivery.lines()),
    )
    return _finish(context)


async def use_suggestion(update: Update, context: PpidContext) -> int:
    """The officer takes over the personal-data suggestion: letter h and the consequence
    sentence go into the record (a correction like any other, audited); the confirmation
    is asked again."""
    query = update.callback_query
    assert query is not None
    version = _choice(update).value
    service, actor = context.service, context.actor
    record_id = _data(context)["record_id"]
    record = await service.record(actor, record_id)
    suggested = suggestion_for(record, await documents_of(context, record))
    if suggested is None or record.version != version:
        await query.answer(t.STALE_BUTTON, show_alert=True)
        return Stage.CONFIRM
    changes: dict[str, object] = {
        "pasal17": suggested.pasal17,
        "consequence": suggested.consequence,
    }
    try:
        await service.update_fields(actor, record_id, changes, expected_version=version)
    except SopError as exc:
        await query.answer(exc.message[:200], show_alert=True)
        return Stage.CONFIRM
    await query.answer()
    await query.edit_message_reply_markup(None)
    note = pii_texts.SUGGESTION_REPLACED if suggested.replaced else pii_texts.SUGGESTION_USED
    return await _ask(update, context, Stage.CONFIRM, note=note)


async def not_yet(update: Update, context: PpidContext) -> int:
    """The officer answered "Belum"; the draft stays and the bot says when step 1 is due."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_reply_markup(None)
    record = await context.service.record(context.actor, _data(context)["record_id"])
    assert update.effective_chat is not None
    await context.bot.send_message(update.effective_chat.id, t.kept_as_draft(record))
    return _finish(context)


# -- corrections -----------------------------------------------------------------------------
async def edit_menu(update: Update, context: PpidContext) -> int:
    """The officer pressed "Ubah data"; the bot asks which data to correct."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_reply_markup(None)
    _data(context)["edit_from"] = int(_stage(context))
    return await _ask(update, context, Stage.EDIT_MENU)


async def edit_field(update: Update, context: PpidContext) -> int:
    """A part to correct was chosen; its question is asked, showing the current value."""
    query = update.callback_query
    assert query is not None
    index = _choice(update).value
    if index >= len(EDITABLE):
        await query.answer(t.STALE_BUTTON, show_alert=True)
        return Stage.EDIT_MENU
    data = _data(context)
    try:
        record = await context.service.record(context.actor, data["record_id"])
    except SopError as exc:
        await query.answer(exc.message[:200], show_alert=True)
        return Stage.EDIT_MENU
    await query.answer()
    key, stage, _ = EDITABLE[index]
    data["fields"] = _to_json(record.fields)
    data["editing"] = key
    await _close(update, f"✏️ {t.EDIT_LABELS[key]}")
    return await _ask(update, context, stage)


async def edit_back(update: Update, context: PpidContext) -> int:
    """The officer pressed "Kembali" in the corrections; back to the summary or the files."""
    assert update.callback_query is not None
    await update.callback_query.answer()
    await update.callback_query.edit_message_reply_markup(None)
    return await _back_from_edit(update, context)


async def keep_value(update: Update, context: PpidContext) -> int | None:
    """The officer pressed "Tidak jadi mengubah"; nothing changes, back where they were."""
    query = update.callback_query
    assert query is not None
    data = _data(context)
    if data.get("editing") is None:
        await query.answer(t.STALE_BUTTON, show_alert=True)
        return None
    await query.answer()
    await query.edit_message_reply_markup(None)
    data.pop("editing", None)
    data.pop("fields", None)
    data.pop("period_kind", None)
    return await _back_from_edit(update, context)


# -- anything else, at any question ------------------------------------------------------------
async def cancel(update: Update, context: PpidContext) -> int:
    """/batal: the conversation stops; a draft already made stays, nothing is lost."""
    assert update.message is not None
    await _reconciled(context)
    record_id = _data(context).get("record_id")
    if record_id is None:  # the softcopies sent for the record that was not made go
        await _drop_staged(context, _data(context).get("staged"))
    _finish(context)
    if record_id is None:
        await update.message.reply_text(t.CANCELLED_NOTHING)
        return ConversationHandler.END
    try:
        record = await context.service.record(context.actor, record_id)
    except SopError:
        await update.message.reply_text(t.CANCELLED)
        return ConversationHandler.END
    text = t.cancelled_kept(record) if record.state is State.DRAFT else t.CANCELLED
    await update.message.reply_text(text)
    return ConversationHandler.END


def _stage(context: PpidContext) -> Stage:
    return Stage(_data(context).get("stage", Stage.TITLE))


async def busy(update: Update, context: PpidContext) -> None:
    """/baru while a record is being filled in: the bot says to finish or /batal first."""
    assert update.message is not None
    await update.message.reply_text(t.BUSY)


async def busy_button(update: Update, context: PpidContext) -> None:
    """The officer pressed "Perbaiki" while filling in a record: finish or /batal first."""
    assert update.callback_query is not None
    await update.callback_query.answer(t.BUSY_ALERT, show_alert=True)


async def command_here(update: Update, context: PpidContext) -> int | None:
    """Another command in the middle of the questions: not now; the question stays."""
    reconciled = await _reconciled(context) is not None
    await _nudge(update, context, _stage(context), t.UNKNOWN_COMMAND)
    return Stage.FILES if reconciled else None


async def wrong_input(update: Update, context: PpidContext) -> int | None:
    """Something other than the answer the question asks for: a hint; the question stays."""
    message = update.message
    assert message is not None
    draft = await _reconciled(context)
    if draft is not None and (message.document is not None or message.photo):
        return await got_file(update, context)  # the softcopy the draft now waits for
    if draft is not None:
        return await _ask(update, context, Stage.FILES, note=t.draft_created(draft))
    stage = _stage(context)
    if stage is Stage.FILES:
        hint = t.WANT_FILE if message.text else t.UNSUPPORTED_MEDIA
    elif stage is Stage.TITLE:
        hint = t.HINT_TITLE
    elif stage is Stage.PASAL:
        hint = t.HINT_PASAL
    elif stage in _TEXT_OR_BUTTON or stage not in _BUTTON_STAGES:
        hint = t.HINT_TEXT
    else:
        hint = t.HINT_BUTTONS
    data = _data(context)
    is_file = message.document is not None or bool(message.photo)
    if is_file and data.get("record_id") is None and len(data.get("pending", [])) < MAX_OFFERED:
        # Sent before the draft exists: stored now, attached as soon as the draft exists.
        try:
            staged = await _stage_softcopy(context, message)
        except _Refused as refused:
            hint = f"{refused.text}\n{hint}"
        else:
            data.setdefault("staged", {})[str(message.message_id)] = staged.id
            data.setdefault("pending", []).append(message.to_dict())
            hint = f"{t.pending_files(len(data['pending']))}\n{hint}"
    await _nudge(update, context, stage, hint)
    return None


#: Questions answered by typing, where a button offers a default.
_TEXT_OR_BUTTON = {Stage.OTHER_BASIS, Stage.PERIOD_VALUE, Stage.CLASSIFIED_BY, Stage.CLASSIFIED_AT}

#: Commands that keep working in the middle of the questions (they only show things).
_PASS_THROUGH = filters.Regex(r"^/(tugas|berkas|bantuan|help|start)(@\w+)?(\s|$)")


def build_conversation() -> ConversationHandler[PpidContext]:
    """The /baru conversation, persisted under the name "baru"."""
    text = filters.TEXT & ~filters.COMMAND
    files = filters.Document.ALL | filters.PHOTO
    button = CallbackQueryHandler
    states: dict[object, list[Any]] = {
        Stage.TITLE: [MessageHandler(text, got_title)],
        Stage.DIVISION: [
            button(division_chosen, pattern=_on("div")),
            button(division_change, pattern=_on("div_change")),
        ],
        Stage.DESCRIPTION: [MessageHandler(text, got_description)],
        Stage.PASAL: [
            button(toggle_letter, pattern=_on("letter")),
            button(ask_other_basis, pattern=_on("other")),
            button(pasal_done, pattern=_on("pasal_next")),
        ],
        Stage.OTHER_BASIS: [
            MessageHandler(text, got_other_basis),
            button(drop_other_basis, pattern=_on("no_other")),
        ],
        Stage.CONSEQUENCE: [MessageHandler(text, got_consequence)],
        **{stage: [MessageHandler(text, got_test_part)] for stage in TEST_PARTS},
        Stage.PERIOD_KIND: [button(period_chosen, pattern=_on("period"))],
        Stage.PERIOD_VALUE: [
            MessageHandler(text, got_period_value),
            button(period_back, pattern=_on("period_back")),
        ],
        Stage.CLASSIFIED_BY: [
            MessageHandler(text, got_classified_by),
            button(got_classified_by, pattern=_on("me")),
        ],
        Stage.CLASSIFIED_AT: [
            MessageHandler(text, got_classified_at),
            button(got_classified_at, pattern=_on("here")),
        ],
        Stage.FILES: [
            MessageHandler(files, got_file),
            button(files_done, pattern=_on("files_done")),
            button(detach, pattern=_on("detach")),
            button(edit_menu, pattern=_on("edit")),
        ],
        Stage.COMBINE: [button(combine_chosen, pattern=_on("combine"))],
        Stage.CONFIRM: [
            button(verified, pattern=_on("verified")),
            button(not_yet, pattern=_on("not_yet")),
            button(edit_menu, pattern=_on("edit")),
            button(use_suggestion, pattern=_on("use_hint")),
        ],
        Stage.EDIT_MENU: [
            button(edit_field, pattern=_on("field")),
            button(edit_back, pattern=_on("back")),
        ],
    }
    with warnings.catch_warnings():
        # Buttons are tracked per chat, not per message, on purpose: the conversation is
        # one per person, and every button is checked against the stage it belongs to.
        warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=[
                CommandHandler("baru", start_new),
                button(start_new, pattern=_on("with_files")),
                button(start_redo, pattern=REDO_PATTERN),
            ],
            states=states,
            fallbacks=[
                CommandHandler("batal", cancel),
                CommandHandler("baru", busy),
                button(busy_button, pattern=REDO_PATTERN),
                button(busy_button, pattern=_on("with_files")),
                button(keep_value, pattern=_on("keep")),
                MessageHandler(filters.COMMAND & ~_PASS_THROUGH, command_here),
                MessageHandler(~filters.COMMAND & ~filters.StatusUpdate.ALL, wrong_input),
            ],
            name="baru",
            persistent=True,
        )


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(build_conversation())
    if application.job_queue is not None:  # album summaries a restart interrupted
        application.job_queue.run_once(
            _resume_album_summaries, when=0, name=ALBUMS_START_JOB, job_kwargs=NEVER_MISSED
        )


def register_fallbacks(application: Application) -> None:  # type: ignore[type-arg]
    """After every conversation: a softcopy none of them took is kept and /baru offered."""
    application.add_handler(
        MessageHandler((filters.Document.ALL | filters.PHOTO) & ~filters.COMMAND, offer_new_record)
    )
    application.add_handler(CallbackQueryHandler(drop_offered, pattern=_on("drop_offered")))


__all__ = ["NewRecordChoice", "Stage", "build_conversation", "register", "telegram_chunks"]
