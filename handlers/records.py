"""Looking at records: /tugas, /berkas, the "open" button and file downloads."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.context import PpidContext
from bot.texts import h
from bot.texts import papers as paper_texts
from bot.texts import records as t
from bot.texts import steps as step_texts
from bot.texts.fitting import fit_record, telegram_length
from handlers import withdraw
from handlers.callback_data import GetFile, OpenRecord, RecordAction
from handlers.document_texts import document_texts
from handlers.full_text import with_full_text
from handlers.papers import papers_of
from sop.errors import SopError
from sop.model import Actor, RecordView, State
from sop.papers import missing_for_consequence_test
from sop.register import RegisterService
from sop.service import PpidService
from sop.verification import format_code
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


async def papers_lines(context: PpidContext, record: RecordView) -> str:
    """The card's lines about the record's papers: those issued, with their codes, and
    how to get the consequence-test sheet and the decision."""
    if record.state is State.CANCELLED:
        return ""
    listed = await papers_of(context).listed(context.actor, record.id)
    latest = {kind: code for kind, code in listed}  # the latest code of each kind
    lines = ["", paper_texts.CARD_PAPERS_HINT.format(number=h(record.number))]
    if latest:
        shown = "; ".join(
            f"{paper_texts.KIND_NAMES[kind.value]} <code>{format_code(code)}</code>"
            for kind, code in latest.items()
        )
        lines.append(paper_texts.CARD_PAPERS.format(papers=shown))
    return "\n".join(lines)


async def show_record(update: Update, context: PpidContext, record: RecordView) -> None:
    """Send a record's card with the buttons its viewer may press."""
    service = context.service
    now = service.clock.now()
    details = await RegisterService(service).details(context.actor, record)
    papers = await papers_lines(context, record)
    extra = await document_texts(context, record)
    text = fit_record(
        record,
        lambda shown: t.card(shown, now, service.tz, details=details) + extra + papers,
        complete=lambda text: not details.trail or t.TRAIL_TITLE in text,
    )
    markup = with_full_text(record_keyboard(service, context.actor, record), record, text)
    chat_id = update.effective_chat.id if update.effective_chat else context.actor.telegram_id
    await context.bot.send_message(chat_id, text, reply_markup=markup)


async def tugas(update: Update, context: PpidContext) -> None:
    """/tugas: the person sees what waits on them, soonest due first."""
    assert update.message is not None
    service = context.service
    tasks = await service.tasks(context.actor)
    if not tasks:
        await update.message.reply_text(t.NO_TASKS)
        return
    now = service.clock.now()
    lines = [t.TASKS_HEADER.format(count=len(tasks))]
    shown = []
    for task in tasks[: t.MAX_TASKS_SHOWN]:
        line = t.task_line(task, now, service.tz)
        if sum(telegram_length(x) + 1 for x in lines) + telegram_length(line) > t.TASKS_TEXT_BUDGET:
            break
        lines.append(line)
        shown.append(task)
    if len(shown) < len(tasks):
        lines.append(t.MORE_TASKS.format(count=len(tasks) - len(shown)))
    buttons = [
        [
            InlineKeyboardButton(
                t.BUTTON_OPEN.format(number=task.record.number),
                callback_data=OpenRecord(task.record.id).pack(),
            )
        ]
        for task in shown
    ]
    await update.message.reply_text("\n".join(lines), reply_markup=InlineKeyboardMarkup(buttons))


async def berkas(update: Update, context: PpidContext) -> None:
    """/berkas <nomor>: one record's card, timeline and files, for those allowed to see it."""
    assert update.message is not None
    if not context.args:
        await update.message.reply_text(t.BERKAS_USAGE)
        return
    try:
        record = await context.service.record(context.actor, " ".join(context.args))
    except SopError as exc:
        await update.message.reply_text(exc.message)
        return
    await show_record(update, context, record)


async def open_record(update: Update, context: PpidContext) -> None:
    """The "open" button of a notice, reminder or list: show the record's card."""
    query = update.callback_query
    assert query is not None
    data = OpenRecord.parse(query.data)
    assert data is not None
    try:
        record = await context.service.record(context.actor, data.record_id)
    except SopError as exc:
        await query.answer(exc.message[:200], show_alert=True)
        return
    await query.answer()
    await show_record(update, context, record)


async def send_files(update: Update, context: PpidContext) -> None:
    """The download button: the division's softcopies are sent as documents (logged)."""
    query = update.callback_query
    assert query is not None
    data = RecordAction.parse(query.data)
    assert data is not None
    service = context.service
    try:
        record = await service.record(context.actor, data.record_id)
    except SopError as exc:
        await query.answer(exc.message[:200], show_alert=True)
        return
    files = [f for f in record.files if f.area == Area.DIVISION]
    if not files:
        await query.answer(t.NO_FILES, show_alert=True)
        return
    await query.answer()
    for file in files:
        await _send_file(context, context.actor.telegram_id, file.id)


async def get_file(update: Update, context: PpidContext) -> None:
    """A single file's download button."""
    query = update.callback_query
    assert query is not None
    data = GetFile.parse(query.data)
    assert data is not None
    try:
        await _send_file(context, context.actor.telegram_id, data.file_id)
    except SopError as exc:
        await query.answer(exc.message[:200], show_alert=True)
        return
    await query.answer()


async def _send_file(context: PpidContext, chat_id: int, file_id: int) -> None:
    view, chunks = await context.service.read_file(context.actor, file_id)
    data = b"".join([chunk async for chunk in chunks])
    await context.bot.send_document(
        chat_id,
        InputFile(data, filename=view.original_name[:200] or "berkas"),
        caption=f"SHA-256 {view.sha256}",
    )


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("tugas", tugas))
    application.add_handler(CommandHandler("berkas", berkas))
    application.add_handler(CallbackQueryHandler(open_record, pattern=OpenRecord.regex()))
    application.add_handler(CallbackQueryHandler(get_file, pattern=GetFile.regex()))
    files_pattern = r"^act:files:\d{1,12}:\d{1,12}$"
    application.add_handler(CallbackQueryHandler(send_files, pattern=files_pattern))


__all__ = ["record_keyboard", "register", "show_record"]
