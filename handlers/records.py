"""Looking at records: /tugas, /berkas, the "open" button and file downloads."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.context import PpidContext
from bot.texts import overview as overview_texts
from bot.texts import records as t
from bot.texts.fitting import telegram_length
from handlers.callback_data import GetFile, OpenRecord, RecordAction
from handlers.keyboards import record_keyboard
from sop.errors import SopError
from sop.model import RecordView
from sop.outbox import Failures
from sop.overview import OverviewService
from storage import Area


async def show_record(update: Update, context: PpidContext, record: RecordView) -> None:
    """Send a record's card with the buttons its viewer may press; the card is followed,
    so it is edited when the record moves on."""
    text, markup = await context.cards.render(context.actor, record)
    chat_id = update.effective_chat.id if update.effective_chat else context.actor.telegram_id
    message = await context.bot.send_message(chat_id, text, reply_markup=markup)
    await context.cards.follow(record, context.actor, chat_id, message.message_id)


async def tugas(update: Update, context: PpidContext) -> None:
    """/tugas: the person sees what waits on them, soonest due first; an admin also sees
    the notices that did not reach their recipient."""
    assert update.message is not None
    service = context.service
    actor = context.actor
    tasks, total = await service.task_page(actor, limit=t.MAX_TASKS_SHOWN)
    failed = overview_texts.failures(
        await context.notices.outbox.open_failures(actor) if actor.is_admin else Failures(0),
        service.tz,
    )
    if not tasks:
        text = "\n\n".join([t.NO_TASKS, "\n".join(failed)]) if failed else t.NO_TASKS
        await update.message.reply_text(text)
        return
    now = service.clock.now()
    lines = [t.TASKS_HEADER.format(count=total)]
    budget = t.TASKS_TEXT_BUDGET - sum(telegram_length(x) + 1 for x in failed)
    shown = []
    for task in tasks:
        line = t.task_line(task, now, service.tz)
        if sum(telegram_length(x) + 1 for x in lines) + telegram_length(line) > budget:
            break
        lines.append(line)
        shown.append(task)
    if len(shown) < total:
        lines.append(t.MORE_TASKS.format(count=total - len(shown)))
    if failed:
        lines += ["", *failed]
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


async def ringkasan(update: Update, context: PpidContext) -> None:
    """/ringkasan: an admin sees the open steps per step and per person, the overdue ones
    first, and the notices that did not arrive; others a polite refusal."""
    assert update.message is not None
    if not context.actor.is_admin:
        await update.message.reply_text(overview_texts.ADMIN_ONLY)
        return
    service = context.service
    try:
        view = await OverviewService(service).overview(context.actor)
    except SopError as exc:
        await update.message.reply_text(exc.message)
        return
    await update.message.reply_text(overview_texts.overview(view, service.clock.now(), service.tz))


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
    application.add_handler(CommandHandler("ringkasan", ringkasan))
    application.add_handler(CallbackQueryHandler(open_record, pattern=OpenRecord.regex()))
    application.add_handler(CallbackQueryHandler(get_file, pattern=GetFile.regex()))
    files_pattern = r"^act:files:\d{1,12}:\d{1,12}$"
    application.add_handler(CallbackQueryHandler(send_files, pattern=files_pattern))


__all__ = ["record_keyboard", "register", "show_record"]
