"""The daily check of ending exemptions: at 08:00 office time, and once at start, every
Pejabat PPID hears of exemptions that end in 30 days, in 7 days or today (each once)."""

from __future__ import annotations

import logging
from datetime import time
from typing import Any

from telegram import Bot
from telegram.ext import Application

from bot.context import PpidContext
from bot.notify import open_button, send_safely
from bot.texts import register as t
from sop.expiry import ExpiryService
from sop.service import PpidService

log = logging.getLogger(__name__)

DAILY_JOB = "expiry:daily"
START_JOB = "expiry:start"
#: 08:00 in the configured time zone, when the office opens.
CHECK_TIME = time(8, 0)
#: A check that fires late (the machine slept) still runs; the database decides what is due.
_JOB_KWARGS: dict[str, Any] = {"misfire_grace_time": None, "coalesce": True}


async def send_expiry_notices(bot: Bot, service: PpidService) -> int:
    """Claim every notice due now and send it to each Pejabat PPID; returns how many
    notices reached someone. A notice nobody received is given back for the next check."""
    expiry = ExpiryService(service)
    notices = await expiry.claim_due()
    if not notices:
        return 0
    recipients = await expiry.recipients()
    sent = 0
    for notice in notices:
        delivered = await send_safely(
            bot, recipients, t.expiry_notice(notice), open_button(notice.record)
        )
        await expiry.delivered(notice, len(delivered))
        if delivered:
            sent += 1
        else:
            log.warning(
                "expiry notice %s for record %s reached no Pejabat PPID; will retry",
                notice.kind,
                notice.record.id,
            )
    return sent


async def check_expiry(context: PpidContext) -> None:
    """The job fired (daily, and at start): tell the Pejabat PPID what ends soon."""
    sent = await send_expiry_notices(context.bot, context.service)
    if sent:
        log.info("sent %d exemption-expiry notice(s)", sent)


def schedule_expiry_checks(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """(Re)schedule the daily check and one check at start; older jobs of the same names
    are removed first, so calling this twice is harmless."""
    job_queue = application.job_queue
    if job_queue is None:
        raise RuntimeError("the JobQueue is missing: install python-telegram-bot[job-queue]")
    for name in (DAILY_JOB, START_JOB):
        for job in job_queue.get_jobs_by_name(name):
            job.schedule_removal()
    tz = application.bot_data.runtime.settings.tz
    job_queue.run_daily(
        check_expiry,
        time=CHECK_TIME.replace(tzinfo=tz),
        name=DAILY_JOB,
        job_kwargs=_JOB_KWARGS,
    )
    job_queue.run_once(check_expiry, when=1, name=START_JOB, job_kwargs=_JOB_KWARGS)


__all__ = ["check_expiry", "schedule_expiry_checks", "send_expiry_notices"]
