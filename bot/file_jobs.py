"""The bot's side of crash-consistent files: one alert to the admins while the disk is full,
and, at start, a message to everyone whose upload a crash cut short."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import Bot
from telegram.ext import Application

from bot.context import PpidContext
from bot.notify import send_safely
from bot.runtime import Runtime
from bot.texts import files as texts
from db.repositories import Repository
from db.session import create_sessionmaker
from sop.files import FileRecovery
from sop.service import StorageFullEvent

log = logging.getLogger(__name__)

#: While the disk stays full, the admins hear of it at most this often.
ALERT_EVERY = timedelta(hours=1)
ALERT_KEY = "storage_full"
INTERRUPTED_JOB = "files:interrupted"
#: APScheduler skips a job that runs more than a second late (a start waiting for Telegram):
#: these must run however late.
NEVER_MISSED: dict[str, Any] = {"misfire_grace_time": None}


class StorageFullAlarm:
    """Tells the admins that the storage is full, once per :data:`ALERT_EVERY`.

    The claim lives in the database (so a restart or a second process does not repeat it);
    if the database cannot be written either (it may sit on the same full disk), the last
    alert time of this process decides.
    """

    def __init__(self, bot: Bot, runtime: Runtime) -> None:
        self.bot = bot
        self.runtime = runtime
        self._sessions = create_sessionmaker(runtime.engine)
        self._last_local: datetime | None = None

    async def __call__(self, event: StorageFullEvent) -> bool:
        """Alert if it is time; True when the admins know (now or within the hour)."""
        log.error(
            "storage full while %s (record %s, user %s)",
            event.operation,
            event.record_id,
            event.actor.user_id,
        )
        now = event.at.astimezone(UTC)
        if not await self._claim(now):
            return True  # alerted within the hour
        admins = [a for a in await self.runtime.service.people() if a.is_admin and a.active]
        number = f"BRK-{event.record_id}" if event.record_id is not None else None
        text = texts.storage_full_alert(event.operation, event.actor.full_name, number, now)
        return bool(await send_safely(self.bot, admins, text, None))

    async def _claim(self, now: datetime) -> bool:
        try:
            async with self._sessions() as session, session.begin():
                claimed = await Repository(session).claim_alert(ALERT_KEY, now, ALERT_EVERY)
        except Exception:
            log.warning("could not record the storage-full alert; deciding in memory")
            claimed = self._last_local is None or now - self._last_local >= ALERT_EVERY
        if claimed:
            self._last_local = now
        return claimed


async def tell_interrupted_uploads(context: PpidContext) -> None:
    """Once at start: everyone whose softcopy a crash cut short hears it was not stored."""
    runtime = context.runtime
    recovery = FileRecovery(create_sessionmaker(runtime.engine), runtime.storage, runtime.clock)
    for upload in await recovery.interrupted_uploads():
        actor = (
            await runtime.service.actor_by_telegram(upload.telegram_id)
            if upload.telegram_id is not None
            else None
        )
        if actor is not None:
            text = texts.interrupted_upload(
                upload.original_name, upload.record_number, upload.started_at
            )
            if not await send_safely(context.bot, [actor], text, None):
                continue  # not delivered: the next start tries again
            log.info("told user %s that %r was not stored", actor.telegram_id, upload.original_name)
        await recovery.settle(upload.intent_id)


def install(application: Application[Any, Any, Any, Any, Any, Any], runtime: Runtime) -> None:
    """Alert the admins on a full disk; tell interrupted senders once the JobQueue starts."""
    runtime.service.on_storage_full(StorageFullAlarm(application.bot, runtime))
    if application.job_queue is None:
        raise RuntimeError("the JobQueue is missing: install python-telegram-bot[job-queue]")
    application.job_queue.run_once(
        tell_interrupted_uploads, when=0, name=INTERRUPTED_JOB, job_kwargs=NEVER_MISSED
    )
