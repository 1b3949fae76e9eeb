"""The weekly self-check: the bot runs ``ppidbot check`` by itself and tells the admins
when it finds a problem."""

from __future__ import annotations

import logging
from datetime import time
from typing import Any

from telegram import Bot
from telegram.ext import Application, Job

from bot.context import PpidContext
from bot.notify import send_safely
from bot.runtime import Runtime
from bot.texts import integrity as texts
from db.session import create_sessionmaker
from sop.integrity import IntegrityChecker, IntegrityReport

log = logging.getLogger(__name__)

JOB_NAME = "integrity:weekly"
#: Monday 07:00 in the configured time zone, before the office opens.
CHECK_TIME = time(7, 0)
CHECK_DAYS = (1,)  # python-telegram-bot counts 0 = Sunday .. 6 = Saturday


def checker_for(runtime: Runtime) -> IntegrityChecker:
    return IntegrityChecker(create_sessionmaker(runtime.engine), runtime.storage, runtime.clock)


async def run_check_and_notify(bot: Bot, runtime: Runtime) -> IntegrityReport:
    """Run the checker; if anything is wrong, send the summary to every active admin."""
    report = await checker_for(runtime).check()
    if report.ok:
        log.info("weekly integrity check: no problems (%d files)", report.files_checked)
        return report
    log.warning(
        "weekly integrity check found problems:\n%s", report.render_text(runtime.settings.tz)
    )
    admins = [actor for actor in await runtime.service.people() if actor.is_admin and actor.active]
    await send_safely(bot, admins, texts.summary(report), None)
    return report


async def weekly_check(context: PpidContext) -> None:
    """The job fired (weekly): the bot checks its storage and tells admins of problems."""
    try:
        await run_check_and_notify(context.bot, context.runtime)
    except Exception:
        # A check that cannot run is itself a problem the admins must hear about.
        log.exception("the weekly integrity check could not run")
        admins = [a for a in await context.service.people() if a.is_admin and a.active]
        await send_safely(context.bot, admins, texts.CHECK_FAILED, None)


def schedule_weekly_check(application: Application[Any, Any, Any, Any, Any, Any]) -> Job[Any]:
    """(Re)schedule the weekly check; an older job of the same name is removed first."""
    job_queue = application.job_queue
    if job_queue is None:
        raise RuntimeError("the JobQueue is missing: install python-telegram-bot[job-queue]")
    for job in job_queue.get_jobs_by_name(JOB_NAME):
        job.schedule_removal()
    runtime: Runtime = application.bot_data.runtime
    return job_queue.run_daily(
        weekly_check,
        time=CHECK_TIME.replace(tzinfo=runtime.settings.tz),
        days=CHECK_DAYS,
        name=JOB_NAME,
    )
