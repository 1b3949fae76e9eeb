"""The register of exempted information: /daftar (paged, with filter buttons), /cari,
/laporan (XLSX workbook, chart, CSV on request), /kedaluwarsa and /dibuka."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import ClassVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ChatAction
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import reports, texts
from bot.context import PpidContext
from bot.texts import register as t
from bot.texts.fitting import button_text
from handlers.callback_data import CallbackData, OpenRecord
from sop.errors import SopError
from sop.model import PASAL17, Actor
from sop.register import (
    EXPIRY_WINDOW_DAYS,
    FILTER_STATUSES,
    SEES_ALL,
    RegisterEntry,
    RegisterFilter,
    RegisterPage,
    RegisterService,
)
from sop.validation import parse_date

PAGE = "p"
MENUS = {"ms": "status", "md": "division", "ml": "letter", "my": "year"}
CSV = "csv"  # the DIK as CSV separated by ","
CSV_ID = "csvid"  # ... by ";", for Excel with Indonesian settings
CSV_DELIMITERS = {CSV: ",", CSV_ID: ";"}


@dataclass(frozen=True)
class RegisterNav(CallbackData):
    """A press on /daftar's buttons (a page, a filter menu) or on /laporan's CSV buttons.
    The whole view travels in the data, so an old list keeps working after a restart."""

    prefix: ClassVar[str] = "dik"
    action: str  # PAGE, a key of MENUS, CSV or CSV_ID
    page: int
    status: str  # "" for any, else a RegisterStatus value
    division: int  # 0 for any
    letter: str  # "" for any
    year: int  # 0 for any

    @classmethod
    def of(cls, action: str, page: int, filters: RegisterFilter) -> RegisterNav:
        return cls(
            action,
            page,
            filters.status.value if filters.status else "",
            filters.division_id or 0,
            filters.letter or "",
            filters.year or 0,
        )

    def filters(self) -> RegisterFilter | None:
        """The filters, or None when the data holds values no button ever carries."""
        statuses = {status.value: status for status in FILTER_STATUSES}
        if self.status and self.status not in statuses:
            return None
        if self.letter and self.letter not in PASAL17:
            return None
        if self.year and not 1900 < self.year < 3000:
            return None
        return RegisterFilter(
            status=statuses[self.status] if self.status else None,
            division_id=self.division or None,
            letter=self.letter or None,
            year=self.year or None,
        )


@dataclass(frozen=True)
class OpenedChoice(CallbackData):
    """The answer to "mark this record as opened on this day?"."""

    prefix: ClassVar[str] = "dikbuka"
    answer: str  # "ya" or "tidak"
    record_id: int
    day: int  # YYYYMMDD


def _register(context: PpidContext) -> RegisterService:
    return RegisterService(context.service)


def _sees_all(actor: Actor) -> bool:
    return any(actor.has(role) for role in SEES_ALL)


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(button_text(text), callback_data=data.pack())


def _open_buttons(
    entries: Sequence[RegisterEntry], first: int = 1
) -> list[list[InlineKeyboardButton]]:
    """Numbered buttons (from ``first``, as the lines are), five to a row, each opening
    the record of that line."""
    buttons = [
        _button(str(index), OpenRecord(entry.record.id))
        for index, entry in enumerate(entries, start=first)
    ]
    return [buttons[start : start + 5] for start in range(0, len(buttons), 5)]


# -- /daftar -------------------------------------------------------------------------------
def _page_keyboard(page: RegisterPage, restricted: bool, shown: int) -> InlineKeyboardMarkup:
    filters = page.filters
    rows = _open_buttons(page.items[:shown], page.first_number)
    nav = []
    if page.page > 1:
        nav.append(_button(t.BUTTON_PREVIOUS, RegisterNav.of(PAGE, page.page - 1, filters)))
    if page.page < page.pages:
        nav.append(_button(t.BUTTON_NEXT, RegisterNav.of(PAGE, page.page + 1, filters)))
    if nav:
        rows.append(nav)
    menus = [(t.BUTTON_STATUS, "ms"), (t.BUTTON_LETTER, "ml"), (t.BUTTON_YEAR, "my")]
    if not restricted:
        menus.insert(1, (t.BUTTON_DIVISION, "md"))
    rows.append([_button(label, RegisterNav.of(menu, page.page, filters)) for label, menu in menus])
    if filters.any:
        rows.append([_button(t.BUTTON_CLEAR, RegisterNav.of(PAGE, 1, RegisterFilter()))])
    return InlineKeyboardMarkup(rows)


async def _divisions(context: PpidContext) -> dict[int, str]:
    return {d.id: d.name for d in await context.service.divisions(include_inactive=True)}


async def _render_page(
    context: PpidContext, filters: RegisterFilter, page_number: int
) -> tuple[str, InlineKeyboardMarkup]:
    actor = context.actor
    page = await _register(context).register(actor, filters, page_number)
    restricted = not _sees_all(actor)
    service = context.service
    text, shown = t.register_page(
        page,
        await _divisions(context),
        restricted=restricted,
        now=service.clock.now(),
        tz=service.tz,
    )
    return text, _page_keyboard(page, restricted, shown)


async def daftar(update: Update, context: PpidContext) -> None:
    """/daftar: the register, newest first, with page and filter buttons."""
    assert update.message is not None
    try:
        text, markup = await _render_page(context, RegisterFilter(), 1)
    except SopError as exc:
        await update.message.reply_text(exc.message)
        return
    await update.message.reply_text(text, reply_markup=markup)


async def _menu_keyboard(
    context: PpidContext, nav: RegisterNav, filters: RegisterFilter
) -> InlineKeyboardMarkup | None:
    """The choices of one filter; each shows page 1 with that choice applied."""
    menu = MENUS[nav.action]
    options: list[tuple[str, RegisterFilter]] = []
    per_row = 1
    if menu == "status":
        options = [(t.STATUS_NAMES[s], replace(filters, status=s)) for s in FILTER_STATUSES]
        options.append((t.BUTTON_ANY_STATUS, replace(filters, status=None)))
        chosen = [filters.status == s for s in FILTER_STATUSES] + [filters.status is None]
    elif menu == "division":
        if not _sees_all(context.actor):
            return None
        divisions = await _divisions(context)
        options = [(name, replace(filters, division_id=i)) for i, name in divisions.items()]
        options.append((t.BUTTON_ANY_DIVISION, replace(filters, division_id=None)))
        chosen = [filters.division_id == i for i in divisions] + [filters.division_id is None]
    elif menu == "letter":
        per_row = 2
        options = [(t.letter_button(x), replace(filters, letter=x)) for x in PASAL17]
        options.append((t.BUTTON_ANY_LETTER, replace(filters, letter=None)))
        chosen = [filters.letter == x for x in PASAL17] + [filters.letter is None]
    else:
        per_row = 3
        years = await _register(context).years(context.actor)
        if filters.year is not None and filters.year not in years:
            years.append(filters.year)
        options = [(str(y), replace(filters, year=y)) for y in years]
        options.append((t.BUTTON_ANY_YEAR, replace(filters, year=None)))
        chosen = [filters.year == y for y in years] + [filters.year is None]
    buttons = [
        _button((t.CHOSEN if is_chosen else "") + label, RegisterNav.of(PAGE, 1, choice))
        for (label, choice), is_chosen in zip(options, chosen, strict=True)
    ]
    rows = [buttons[start : start + per_row] for start in range(0, len(buttons), per_row)]
    rows.append([_button(t.BUTTON_BACK, RegisterNav.of(PAGE, nav.page, filters))])
    return InlineKeyboardMarkup(rows)


async def register_button(update: Update, context: PpidContext) -> None:
    """A /daftar button (page, filter menu, filter choice) or one of /laporan's CSVs."""
    query = update.callback_query
    assert query is not None
    nav = RegisterNav.parse(query.data)
    filters = nav.filters() if nav is not None else None
    if nav is None or filters is None or nav.action not in {PAGE, *CSV_DELIMITERS, *MENUS}:
        await query.answer(texts.STALE_BUTTON, show_alert=True)
        return
    if nav.action in CSV_DELIMITERS:
        await _send_csv(update, context, CSV_DELIMITERS[nav.action])
        return
    try:
        if nav.action == PAGE:
            text, markup = await _render_page(context, filters, nav.page)
        else:
            menu = await _menu_keyboard(context, nav, filters)
    except SopError as exc:
        await query.answer(exc.message[:200], show_alert=True)
        return
    if nav.action == PAGE:
        await query.answer()
        await query.edit_message_text(text, reply_markup=markup)
        return
    if menu is None:
        await query.answer(texts.STALE_BUTTON, show_alert=True)
        return
    await query.answer()
    await query.edit_message_reply_markup(menu)


# -- /cari ---------------------------------------------------------------------------------
async def cari(update: Update, context: PpidContext) -> None:
    """/cari <kata>: records whose title or description contains the words, newest first."""
    assert update.message is not None
    words = " ".join(context.args or []).strip()
    if not words:
        await update.message.reply_text(t.SEARCH_USAGE)
        return
    try:
        found = await _register(context).search(context.actor, words)
    except SopError as exc:
        await update.message.reply_text(exc.message)
        return
    if not found.items:
        await update.message.reply_text(t.SEARCH_NONE.format(words=texts.h(words)))
        return
    service = context.service
    text, shown = t.search_results(words, found, service.clock.now(), service.tz)
    await update.message.reply_text(
        text, reply_markup=InlineKeyboardMarkup(_open_buttons(found.items[:shown]))
    )


# -- /laporan ------------------------------------------------------------------------------
async def laporan(update: Update, context: PpidContext) -> None:
    """/laporan: the register as an XLSX workbook (with buttons for the DIK as CSV, comma-
    or semicolon-separated) and a chart."""
    message = update.message
    assert message is not None
    service = context.service
    try:
        data = await _register(context).report_data(context.actor)
    except SopError as exc:
        await message.reply_text(exc.message)
        return
    await context.bot.send_chat_action(message.chat_id, ChatAction.UPLOAD_DOCUMENT)
    workbook = await asyncio.to_thread(reports.workbook_bytes, data)
    standard = reports.standard_text(data.standard)
    caption = t.REPORT_CAPTION.format(
        when=texts.wib(data.generated_at, service.tz),
        stored=len(reports.stored(data)),
        open=len(reports.in_progress(data)),
        scope="" if _sees_all(context.actor) else t.REPORT_SCOPE_DIVISION,
        standard=standard,
    )
    csv_buttons = [
        [_button(t.BUTTON_CSV, RegisterNav.of(CSV, 0, RegisterFilter()))],
        [_button(t.BUTTON_CSV_ID, RegisterNav.of(CSV_ID, 0, RegisterFilter()))],
    ]
    await message.reply_document(
        InputFile(workbook, filename=t.report_filename(service.today(), "xlsx")),
        caption=caption,
        reply_markup=InlineKeyboardMarkup(csv_buttons),
    )
    chart = await asyncio.to_thread(reports.chart_png, data)
    if chart is None:
        await message.reply_text(t.REPORT_NO_CHART)
        return
    await message.reply_photo(
        InputFile(chart, filename="ketepatan-waktu.png"),
        caption=t.REPORT_CHART_CAPTION.format(standard=standard),
    )


async def _send_csv(update: Update, context: PpidContext, delimiter: str) -> None:
    """The DIK as CSV, separated by ``delimiter``."""
    query = update.callback_query
    assert query is not None
    service = context.service
    try:
        data = await _register(context).report_data(context.actor)
    except SopError as exc:
        await query.answer(exc.message[:200], show_alert=True)
        return
    await query.answer()
    await context.bot.send_document(
        context.actor.telegram_id,
        InputFile(
            reports.dik_csv_bytes(data, delimiter),
            filename=t.report_filename(service.today(), "csv"),
        ),
        caption=t.CSV_CAPTION.format(
            when=texts.wib(data.generated_at, service.tz),
            separator=t.CSV_SEPARATORS[delimiter],
        ),
    )


# -- /kedaluwarsa --------------------------------------------------------------------------
async def kedaluwarsa(update: Update, context: PpidContext) -> None:
    """/kedaluwarsa: exemptions that end within 90 days (or ended and are not opened yet)."""
    assert update.message is not None
    try:
        found = await _register(context).expiring(context.actor, EXPIRY_WINDOW_DAYS)
    except SopError as exc:
        await update.message.reply_text(exc.message)
        return
    if not found.items:
        await update.message.reply_text(t.EXPIRING_NONE.format(days=EXPIRY_WINDOW_DAYS))
        return
    text, shown = t.expiring_list(found, EXPIRY_WINDOW_DAYS)
    buttons = _open_buttons([item.entry for item in found.items[:shown]])
    await update.message.reply_text(text, reply_markup=InlineKeyboardMarkup(buttons))


# -- /dibuka -------------------------------------------------------------------------------
def _day_number(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def _day_of(number: int) -> date | None:
    try:
        return date(number // 10000, number // 100 % 100, number % 100)
    except ValueError:
        return None


async def dibuka(update: Update, context: PpidContext) -> None:
    """/dibuka <nomor> [tanggal]: asks the Pejabat PPID to confirm marking a record opened."""
    message = update.message
    assert message is not None
    args = context.args or []
    if not args:
        await message.reply_text(t.OPENED_USAGE)
        return
    actor = context.actor
    service = context.service
    try:
        RegisterService.require_opener(actor)
        day = parse_date(" ".join(args[1:])) if args[1:] else service.today()
        record = await service.record(actor, args[0])
        entry = await _register(context).check_opening(actor, record.id, day)
    except SopError as exc:
        await message.reply_text(exc.message)
        return
    number = _day_number(day)
    buttons = [
        _button(t.BUTTON_OPENED_YES, OpenedChoice("ya", record.id, number)),
        _button(t.BUTTON_OPENED_NO, OpenedChoice("tidak", record.id, number)),
    ]
    await message.reply_text(
        t.OPENED_CONFIRM.format(
            number=texts.h(entry.record.number),
            title=texts.h(entry.record.fields.title),
            day=texts.tanggal(day),
        ),
        reply_markup=InlineKeyboardMarkup([buttons]),
    )


async def opened_choice(update: Update, context: PpidContext) -> None:
    """The confirmation of /dibuka: mark the record opened, or leave everything as it was."""
    query = update.callback_query
    assert query is not None
    choice = OpenedChoice.parse(query.data)
    day = _day_of(choice.day) if choice is not None else None
    if choice is None or day is None or choice.answer not in {"ya", "tidak"}:
        await query.answer(texts.STALE_BUTTON, show_alert=True)
        return
    if choice.answer == "tidak":
        await query.answer()
        await query.edit_message_text(texts.CANCELLED)
        return
    try:
        entry = await _register(context).mark_opened(context.actor, choice.record_id, day)
    except SopError as exc:
        await query.answer(exc.message[:200], show_alert=True)
        return
    await query.answer()
    await query.edit_message_text(
        t.OPENED_DONE.format(
            number=texts.h(entry.record.number),
            title=texts.h(entry.record.fields.title),
            day=texts.tanggal(day),
        )
    )


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("daftar", daftar))
    application.add_handler(CommandHandler("cari", cari))
    application.add_handler(CommandHandler("laporan", laporan))
    application.add_handler(CommandHandler("kedaluwarsa", kedaluwarsa))
    application.add_handler(CommandHandler("dibuka", dibuka))
    application.add_handler(CallbackQueryHandler(register_button, pattern=RegisterNav.regex()))
    application.add_handler(CallbackQueryHandler(opened_choice, pattern=OpenedChoice.regex()))


__all__ = ["OpenedChoice", "RegisterNav", "register"]
