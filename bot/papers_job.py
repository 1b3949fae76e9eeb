"""The papers' daily jobs: the audit chain's head sent to witnesses outside the server
(the admins and the Pejabat PPID) as an anchor, and, with ``PUBLISH_DIR`` set, the public
list of exempted information written there."""

from __future__ import annotations

import logging
from datetime import time, timedelta
from typing import Any

from telegram import Bot
from telegram.ext import Application, Job

from bot.context import PpidContext
from bot.notify import send_safely
from bot.papers.public import PublishSummary, write_public_list
from bot.runtime import Runtime
from bot.texts import papers as texts
from bot.texts import wib
from sop.anchors import Anchor, AnchorService
from sop.model import Role
from sop.publish import PublishService

log = logging.getLogger(__name__)

ANCHOR_JOB = "papers:anchor"
PUBLISH_JOB = "papers:publish"
#: 07:05 in the configured time zone: after the night, before the office opens.
ANCHOR_TIME = time(7, 5)
#: 06:00: the public list as the register stood at the end of the previous day.
PUBLISH_TIME = time(6, 0)


async def send_anchor(bot: Bot, runtime: Runtime, source: str = "daily") -> Anchor:
    """Record the chain's head as an anchor and send it to every active admin and Pejabat
    PPID; who received it is recorded too (``audit.anchor_sent``)."""
    service = runtime.service
    anchors = AnchorService(service)
    anchor = await anchors.anchor(source)
    witnesses = [
        actor
        for actor in await service.people()
        if actor.active and (actor.is_admin or actor.has(Role.PEJABAT_PPID))
    ]
    text = texts.ANCHOR_MESSAGE.format(
        seq=anchor.seq, hash=anchor.hash, at=wib(anchor.at, runtime.settings.tz)
    )
    delivered = await send_safely(bot, witnesses, text, None)
    received = [actor.user_id for actor in witnesses if actor.telegram_id in delivered]
    await anchors.record_sent(anchor, received)
    log.info(
        "audit anchor %s sent to %d of %d witnesses", anchor.text, len(received), len(witnesses)
    )
    return anchor


async def daily_anchor(context: PpidContext) -> None:
    try:
        await send_anchor(context.bot, context.runtime)
    except Exception:
        log.exception("the daily audit anchor could not be made or sent")


async def publish_now(runtime: Runtime) -> PublishSummary:
    assert runtime.settings.publish_dir is not None
    publish = PublishService(runtime.service)
    summary = await write_public_list(
        runtime.settings.publish_dir, publish.entries(), publish.now(), tz=runtime.settings.tz
    )
    log.info("public list written to %s: %d records", summary.directory, summary.counts.total)
    return summary


async def daily_publish(context: PpidContext) -> None:
    try:
        await publish_now(context.runtime)
    except Exception:
        log.exception("the public list could not be written")


def schedule_papers_jobs(application: Application[Any, Any, Any, Any, Any, Any]) -> list[Job[Any]]:
    """The daily anchor, and with ``PUBLISH_DIR`` the daily public list (also once at
    start); older jobs of the same names are replaced."""
    job_queue = application.job_queue
    if job_queue is None:
        raise RuntimeError("the JobQueue is missing: install python-telegram-bot[job-queue]")
    for name in (ANCHOR_JOB, PUBLISH_JOB):
        for job in job_queue.get_jobs_by_name(name):
            job.schedule_removal()
    runtime: Runtime = application.bot_data.runtime
    tz = runtime.settings.tz
    jobs = [job_queue.run_daily(daily_anchor, time=ANCHOR_TIME.replace(tzinfo=tz), name=ANCHOR_JOB)]
    if runtime.settings.publish_dir is not None:
        jobs.append(
            job_queue.run_daily(
                daily_publish, time=PUBLISH_TIME.replace(tzinfo=tz), name=PUBLISH_JOB
            )
        )
        jobs.append(job_queue.run_once(daily_publish, when=timedelta(seconds=5), name=PUBLISH_JOB))
    return jobs
