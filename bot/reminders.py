"""Deadlines on Telegram: reminder and escalation jobs on PTB's JobQueue (APScheduler).

The database is the source of truth and the scheduler only triggers. Jobs are derived
from the open steps' due times and named deterministically (``remind:<record>:<step>:
<offset_s>``, ``overdue:<record>:<step>``); an old job of the same name is removed before
scheduling, so repeating a schedule is harmless. A job that fires does not carry its
notice: it asks the database what is due now and sends that (``deliver_due``), so a job
firing twice, a periodic check and a start-up rebuild racing each other still send each
notice once.
"""

from __future__ import annotations

import asyncio
import logging
import math
import warnings
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError
from telegram.ext import Application, JobQueue
from telegram.warnings import PTBDeprecationWarning

from bot import metrics
from bot.context import PpidContext
from bot.notify import open_button
from bot.runtime import Runtime
from bot.texts import WIB
from bot.texts import reminders as t
from sop.model import Actor, RecordView
from sop.reminder_service import Delivery, ReminderService
from sop.reminders import NOTICE_JOB_PATTERN, Notice, NoticeKind, record_job_pattern

log = logging.getLogger(__name__)

START_JOB = "reminders:start"
CHECK_JOB = "reminders:check"
NOW_JOB = "reminders:now"
QUIET_END_JOB = "reminders:quiet-end"
#: APScheduler skips a job that fires more than a second late unless told otherwise; a
#: late reminder is still a reminder (the database decides whether it is still due).
_JOB_KWARGS: dict[str, Any] = {"misfire_grace_time": None, "coalesce": True}


class ReminderSender:
    """Sends what the database says is due, each notice once.

    The order is claim, send, confirm. Claiming first (a row under a unique key, in the
    same transaction as its audit entry) is what makes duplicates impossible: of two
    jobs, or a job and a rebuild, only one wins the claim and sends. Claiming first could
    lose a notice if the bot stopped between the claim and the send, so a claim is
    confirmed only when sending is over, and the next start re-sends the claims left
    unconfirmed (for steps still open). The one repeat possible is thus a message to
    someone who had already received it when the process died mid-send: we prefer that
    to a lost escalation.
    """

    def __init__(
        self,
        bot: Bot,
        reminders: ReminderService,
        *,
        attempts: int = 3,
        backoff: float = 1.0,
        max_wait: float = 60.0,
        concurrency: int = 8,
        tz: ZoneInfo = WIB,
    ) -> None:
        self.bot = bot
        self.reminders = reminders
        self.attempts = max(attempts, 1)
        self.backoff = backoff
        self.max_wait = max_wait
        self.tz = tz
        self._slots = asyncio.Semaphore(concurrency)

    async def deliver_due(self, *, catch_up: bool = False) -> int:
        """Send every notice due now; ``catch_up`` (at start) first re-sends claims a
        stopped bot left unsent, and marks what is due as late. Returns how many notices
        were sent (to however many people)."""
        deliveries: list[Delivery] = []
        if catch_up:
            deliveries.extend(await self.reminders.unconfirmed())
        deliveries.extend(await self.reminders.claim_due(catch_up=catch_up))
        # All at once: one recipient's retries never hold up another's notice.
        await asyncio.gather(*(self._deliver(delivery) for delivery in deliveries))
        return len(deliveries)

    def messages(self, delivery: Delivery, now: datetime) -> list[tuple[Actor, str]]:
        """Who is told what about one notice."""
        notice, record = delivery.notice, delivery.record
        if notice.kind is NoticeKind.REMIND:
            since = now if delivery.late else notice.at
            left = _whole_seconds(notice.due_at - since)
            text = t.reminder(
                record, notice.step, notice.due_at, left, late=delivery.late, tz=self.tz
            )
            return [(actor, text) for actor in delivery.actors]
        to_actors = t.overdue_actor(record, notice.step, notice.due_at, self.tz)
        to_officials = t.escalation(record, notice.step, notice.due_at, delivery.actors, self.tz)
        return [(actor, to_actors) for actor in delivery.actors] + [
            (official, to_officials) for official in delivery.escalation
        ]

    async def _deliver(self, delivery: Delivery) -> None:
        markup = open_button(delivery.record)
        messages = self.messages(delivery, self.reminders.now())
        results = await asyncio.gather(
            *(self.send(actor.telegram_id, text, markup) for actor, text in messages)
        )
        await self.reminders.confirm(delivery.claim_id, sum(results), late=delivery.late)
        lateness = self.reminders.now() - delivery.notice.at
        metrics.reminder_sent(delivery.notice.kind.value, lateness.total_seconds())
        log.info(
            "%s sent to %d of %d people%s",
            delivery.notice.job_name,
            sum(results),
            len(messages),
            " (late)" if delivery.late else "",
        )

    async def send(self, chat_id: int, text: str, markup: InlineKeyboardMarkup | None) -> bool:
        """Send one message, retrying transient failures with exponential back-off a
        bounded number of times; a blocked chat or a refused request is logged, not
        retried. Never raises."""
        for attempt in range(1, self.attempts + 1):
            try:
                async with self._slots:
                    await self.bot.send_message(chat_id, text, reply_markup=markup)
                return True
            except Forbidden:
                log.warning("user %s has blocked the bot; reminder not delivered", chat_id)
                return False
            except (BadRequest, InvalidToken) as exc:
                log.warning("reminder to %s refused by Telegram: %s", chat_id, exc)
                return False
            except RetryAfter as exc:
                wait = min(_retry_after_seconds(exc), self.max_wait)
                error: Exception = exc
            except TelegramError as exc:
                wait = min(self.backoff * 2 ** (attempt - 1), self.max_wait)
                error = exc
            except Exception:
                log.exception("reminder to %s failed", chat_id)
                return False
            if attempt == self.attempts:
                log.error(
                    "reminder to %s not delivered after %d attempts: %s", chat_id, attempt, error
                )
                return False
            log.info("reminder to %s failed (%s); retrying in %.1fs", chat_id, error, wait)
            await asyncio.sleep(wait)
        return False


class ReminderScheduler:
    """Keeps the JobQueue's notice jobs in line with the open steps in the database."""

    def __init__(
        self,
        job_queue: JobQueue[Any],
        sender: ReminderSender,
        reminders: ReminderService,
        *,
        check_interval: timedelta = timedelta(minutes=1),
    ) -> None:
        self.job_queue = job_queue
        self.sender = sender
        self.reminders = reminders
        self.check_interval = check_interval

    def start(self) -> None:
        """Queue the start-up rebuild and the periodic check; they run as soon as the
        Application's JobQueue starts."""
        self.job_queue.run_once(self._startup, when=0, name=START_JOB, job_kwargs=_JOB_KWARGS)
        self.job_queue.run_repeating(
            self._check,
            interval=self.check_interval,
            first=self.check_interval,
            name=CHECK_JOB,
            job_kwargs=_JOB_KWARGS,
        )

    # -- following the database --------------------------------------------------------
    async def on_change(self, record: RecordView) -> None:
        """The service committed a change of ``record``'s step: re-derive its jobs."""
        self.sync(record)

    def sync(self, record: RecordView) -> None:
        """Remove every job of ``record``, then schedule those of its open step, if any.

        A completed, returned or cancelled step thus loses its pending reminders at once;
        a returned record's reopened step gets fresh ones.
        """
        for job in self.job_queue.jobs(record_job_pattern(record.id)):
            job.schedule_removal()
        now = self.reminders.now()
        for notice in self.reminders.plan_for(record):
            if notice.at > now:
                self._schedule(notice, now)
            else:  # already due (a very short deadline): ask the database right away
                self._run_soon()

    async def rebuild(self) -> None:
        """At start: send what fell due while the bot was down (once, marked late), then
        schedule what is still to come."""
        await self.sender.deliver_due(catch_up=True)
        await self.reconcile()

    async def reconcile(self) -> None:
        """Make the notice jobs exactly those of the open steps' notices still to come,
        then send anything due (a safety net for changes made outside this process)."""
        now = self.reminders.now()
        wanted = {notice.job_name: notice for notice in await self.reminders.upcoming(now)}
        for job in self.job_queue.jobs(NOTICE_JOB_PATTERN):
            notice = wanted.get(job.name or "")
            if notice is not None and job.data == notice.at:
                del wanted[notice.job_name]  # already scheduled for that moment
            else:
                job.schedule_removal()
        for notice in wanted.values():
            self._schedule(notice, now)
        quiet = self.reminders.quiet_hours
        if quiet is not None and quiet.contains(now):
            end = quiet.release(now)
            self._replace(QUIET_END_JOB, end, now)
        await self.sender.deliver_due()

    # -- jobs --------------------------------------------------------------------------
    def _schedule(self, notice: Notice, now: datetime) -> None:
        self._replace(notice.job_name, notice.at, now)

    def _replace(self, name: str, at: datetime, now: datetime) -> None:
        """Schedule a delivery at ``at`` (the service's clock) under ``name``, replacing a
        job of that name. The delay is taken from the service's clock, the firing from
        the scheduler's, so an injected clock stays consistent."""
        for job in self.job_queue.get_jobs_by_name(name):
            job.schedule_removal()
        delay = max((at - now).total_seconds(), 0.0)
        self.job_queue.run_once(self._fire, when=delay, name=name, data=at, job_kwargs=_JOB_KWARGS)

    def _run_soon(self) -> None:
        if not self.job_queue.get_jobs_by_name(NOW_JOB):
            self.job_queue.run_once(self._fire, when=0, name=NOW_JOB, job_kwargs=_JOB_KWARGS)

    async def _fire(self, context: PpidContext) -> None:
        """A notice's moment came: the database says what is due now, and that is sent."""
        await self.sender.deliver_due()

    async def _check(self, context: PpidContext) -> None:
        """Periodically: re-derive the jobs from the database and send anything due."""
        await self.reconcile()

    async def _startup(self, context: PpidContext) -> None:
        """The bot started: catch up on what was missed and schedule the rest."""
        await self.rebuild()


def install(
    application: Application[Any, Any, Any, Any, Any, Any], runtime: Runtime
) -> ReminderScheduler:
    """Wire reminders into the Application: the service's changes re-derive the jobs;
    the rebuild from the database and the periodic check run once the JobQueue starts."""
    settings = runtime.settings
    if application.job_queue is None:
        raise RuntimeError("python-telegram-bot's JobQueue is missing: install the job-queue extra")
    reminders = ReminderService(
        runtime.service, offsets=settings.reminder_offsets, quiet_hours=settings.quiet_period
    )
    sender = ReminderSender(application.bot, reminders, tz=settings.tz)
    scheduler = ReminderScheduler(
        application.job_queue, sender, reminders, check_interval=settings.reminder_check_interval
    )
    runtime.service.subscribe(scheduler.on_change)
    scheduler.start()
    return scheduler


def _whole_seconds(delta: timedelta) -> timedelta:
    """Round up to a whole second, so a reminder sent a moment after its planned time
    still says "sisa 10 menit", not "9 menit"."""
    return timedelta(seconds=max(math.ceil(delta.total_seconds() - 0.001), 0))


def _retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


__all__ = ["ReminderScheduler", "ReminderSender", "install"]
