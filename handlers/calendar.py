"""/libur: the office calendar's closed days; admins add and remove office closures."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import Message, Update
from telegram.ext import Application, CommandHandler

from bot.context import PpidContext
from bot.texts import calendar as t
from bot.texts import h
from sop.errors import SopError
from sop.validation import parse_date

log = logging.getLogger(__name__)

UPCOMING_DAYS = 60
#: How often the bot re-reads the closures (changes made with ``ppidbot calendar``).
REFRESH_INTERVAL = timedelta(minutes=1)


async def libur(update: Update, context: PpidContext) -> None:
    """/libur [tambah|hapus ...]: the closed days ahead; admins add or remove a closure."""
    message = update.message
    assert message is not None
    parts = (message.text or "").split(maxsplit=3)
    if len(parts) == 1:
        await _list(message, context)
        return
    action = parts[1].lower()
    if action not in {"tambah", "hapus"}:
        await message.reply_text(t.USAGE)
        return
    if not context.actor.is_admin:
        await message.reply_text(t.ADMIN_ONLY)
        return
    if len(parts) < 3:
        await message.reply_text(t.ADD_USAGE if action == "tambah" else t.REMOVE_USAGE)
        return
    calendar = context.runtime.calendar_service
    try:
        day = parse_date(parts[2])
        if action == "tambah":
            if len(parts) < 4:
                await message.reply_text(t.NO_DESCRIPTION.format(day=h(parts[2])))
                return
            change = await calendar.add_closure(day, parts[3], by=context.actor)
            await message.reply_text(t.added(change))
        else:
            change = await calendar.remove_closure(day, by=context.actor)
            await message.reply_text(t.removed(change))
    except SopError as exc:
        await message.reply_text(h(exc.message))


async def _list(message: Message, context: PpidContext) -> None:
    calendar = context.runtime.calendar_service
    today = context.service.today()
    text = t.listing(
        calendar.upcoming(UPCOMING_DAYS),
        calendar.hours,
        today,
        today + timedelta(days=UPCOMING_DAYS),
        admin=context.actor.is_admin,
        standard=context.service.step_deadline,
    )
    await message.reply_text(text)


async def refresh_closures(context: PpidContext) -> None:
    """Every minute: pick up closures changed outside the bot (``ppidbot calendar``)."""
    try:
        if await context.runtime.calendar_service.refresh(announce=True):
            log.info("office closures changed outside the bot; calendar refreshed")
    except Exception:  # a failed refresh is retried next minute; the bot keeps running
        log.exception("could not refresh the office closures")


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("libur", libur))
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            refresh_closures,
            interval=REFRESH_INTERVAL,
            first=REFRESH_INTERVAL,
            name="calendar:refresh",
        )
