"""The daily backup: with ``BACKUP_DIR`` set, the bot backs itself up every night into a
dated directory there and keeps the newest ``BACKUP_KEEP`` (:func:`sop.backup.backup_into`);
a backup that fails is logged and the admins are told."""

from __future__ import annotations

import logging
from datetime import time
from typing import Any

from telegram.ext import Application, Job

from bot.context import PpidContext
from bot.notify import send_safely
from bot.runtime import Runtime
from bot.texts import backup as texts
from sop.backup import Backups, BackupSummary, backup_into

log = logging.getLogger(__name__)

JOB_NAME = "backup:daily"
#: 01:30 in the configured time zone: the office is closed, the weekly check not yet due.
BACKUP_TIME = time(1, 30)


def backups_for(runtime: Runtime) -> Backups:
    return Backups(runtime.engine, runtime.settings.database_url, runtime.storage, runtime.clock)


async def run_daily_backup(runtime: Runtime) -> BackupSummary:
    settings = runtime.settings
    assert settings.backup_dir is not None
    summary = await backup_into(
        backups_for(runtime), settings.backup_dir, keep=settings.backup_keep
    )
    log.info("daily backup: %s", summary.render_text("backed up"))
    return summary


async def daily_backup(context: PpidContext) -> None:
    """The job fired: back up; a failure is a problem the admins must hear about."""
    try:
        await run_daily_backup(context.runtime)
    except Exception:
        log.exception("the daily backup failed")
        admins = [a for a in await context.service.people() if a.is_admin and a.active]
        await send_safely(context.bot, admins, texts.BACKUP_FAILED, None)


def schedule_daily_backup(
    application: Application[Any, Any, Any, Any, Any, Any],
) -> Job[Any] | None:
    """Schedule the daily backup when ``BACKUP_DIR`` is set (an older job is replaced)."""
    job_queue = application.job_queue
    if job_queue is None:
        raise RuntimeError("the JobQueue is missing: install python-telegram-bot[job-queue]")
    for job in job_queue.get_jobs_by_name(JOB_NAME):
        job.schedule_removal()
    runtime: Runtime = application.bot_data.runtime
    if runtime.settings.backup_dir is None:
        return None
    return job_queue.run_daily(
        daily_backup, time=BACKUP_TIME.replace(tzinfo=runtime.settings.tz), name=JOB_NAME
    )
