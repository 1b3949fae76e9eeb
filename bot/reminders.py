"""Deadlines on Telegram: one wake-up job on PTB's JobQueue (APScheduler) sends them.

The database is the source of truth and the schedule (``sop.reminder_service``): each
open step run keeps when its next notice is due. The scheduler holds a single job that
fires at the earliest of those moments (or after the check interval at the latest),
claims what is due a page at a time and hands it to the sender. A wake-up does not carry
its notices: it asks the database what is due now, so a wake-up twice, or two processes
waking at once, still send each notice once (the claim is a unique row).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.jobstores.base import JobLookupError
from telegram import Bot, InlineKeyboardMarkup
from telegram.ext import Application, Job, JobQueue

from bot import metrics
from bot.application import PpidApplication
from bot.context import PpidContext
from bot.dispatch import NoticeDispatcher, open_button, send_text
from bot.runtime import Runtime
from bot.texts import WIB
from bot.texts import reminders as t
from sop.model import Actor, RecordView
from sop.notices import NoticeKind as OutboxKind
from sop.reminder_service import Delivery, ReminderService
from sop.reminders import NoticeKind

log = logging.getLogger(__name__)

START_JOB = "reminders:start"
WAKE_JOB = "reminders:wake"
#: Seconds the messages being sent get to go out when the bot stops.
STOP_WAIT = 5.0
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

    Messages go through the bot's rate limiter (Telegram's flood limits, retries of
    flood waits and transient failures); with a ``dispatcher``, one that still fails is
    recorded and reported like an undelivered notice (the admins hear of it, once).
    """

    def __init__(
        self,
        bot: Bot,
        reminders: ReminderService,
        *,
        dispatcher: NoticeDispatcher | None = None,
        tz: ZoneInfo = WIB,
    ) -> None:
        self.bot = bot
        self.reminders = reminders
        self.dispatcher = dispatcher
        self.tz = tz

    async def deliver_due(self, *, catch_up: bool = False) -> int:
        """Send every notice due now; ``catch_up`` (at start) first re-sends claims a
        stopped bot left unsent, and marks what is due as late. Returns how many notices
        were sent (to however many people)."""
        deliveries: list[Delivery] = []
        if catch_up:
            deliveries.extend(await self.reminders.unconfirmed())
        deliveries.extend(await self.reminders.claim_due(catch_up=catch_up))
        await self.deliver(deliveries)
        return len(deliveries)

    async def deliver(self, deliveries: list[Delivery]) -> None:
        """Send claimed notices and confirm each once its messages are out."""
        # All at once: the rate limiter paces each chat; one chat never holds up another.
        await asyncio.gather(*(self._deliver(delivery) for delivery in deliveries))

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
            *(self.send(actor, text, markup, delivery.record) for actor, text in messages)
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

    async def send(
        self, actor: Actor, text: str, markup: InlineKeyboardMarkup | None, record: RecordView
    ) -> bool:
        """Send one message; True if it arrived. Never raises."""
        if self.dispatcher is not None:
            return await self.dispatcher.send_direct(
                actor, text, markup, kind=OutboxKind.REMINDER, record=record
            )
        sent = await send_text(self.bot, actor.telegram_id, text, markup)
        if not sent.delivered:
            log.warning("reminder to %s not delivered: %s", actor.telegram_id, sent.detail)
        return sent.delivered


class ReminderScheduler:
    """Wakes when the database says the next notice is due, and sends what is due then.

    One job on the JobQueue, whatever the number of open steps: it runs at the earliest
    ``next_notice_at`` of the open runs, or after ``check_interval`` at the latest (a
    safety net for changes made outside this process, e.g. the CLI, and the window a
    clock moved by a test is noticed in), claims what is due a page at a time, hands each
    page to the sender without waiting for it (the rate limiter paces the messages), and
    plans the next wake-up. A step that changes in this process wakes it at once.
    """

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
        self._job: Job[Any] | None = None
        self._started = False
        self._busy = asyncio.Lock()
        self._again = False
        self._sending: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        """Queue the start-up catch-up; it runs as soon as the Application's JobQueue
        starts, and then keeps the one wake-up job going."""
        self.job_queue.run_once(self._startup, when=0, name=START_JOB, job_kwargs=_JOB_KWARGS)

    @property
    def jobs(self) -> int:
        """How many scheduler jobs this scheduler holds (one, once started)."""
        return 0 if self._job is None or self._job.removed else 1

    # -- following the database --------------------------------------------------------
    async def on_change(self, record: RecordView) -> None:
        """The service committed a change of ``record``'s step: its new run (if any) is
        due for a look at once, a closed run has nothing due anymore; wake up now."""
        if self._started:
            self._wake_in(0.0)

    async def rebuild(self) -> None:
        """At start: plan every open run again if the reminder settings changed, send
        what fell due while the bot was down (once, marked late), then keep waking."""
        moved = await self.reminders.plan_again_if_changed()
        if moved:
            log.info("reminder settings changed: the notices of %d open steps planned again", moved)
        async with self._busy:
            self._send(await self.reminders.unconfirmed())
            async for page in self.reminders.claim_pages(catch_up=True):
                self._send(page)
        self._started = True
        await self.wake()

    async def wake(self) -> None:
        """Send everything due now, then sleep until the next notice is due. Never runs
        twice at once: a wake asked for meanwhile runs again right after."""
        if self._busy.locked():
            self._again = True
            return
        async with self._busy:
            try:
                while True:
                    self._again = False
                    async for page in self.reminders.claim_pages():
                        self._send(page)
                    if not self._again:
                        break
            finally:
                await self._plan_next()

    async def stop(self) -> None:
        """The bot stops: no more wake-ups; the messages being sent get ``STOP_WAIT``
        seconds to go out and be confirmed. What is still unsent then stays claimed and
        unconfirmed, and the next start sends it (late)."""
        self._started = False
        self._drop_job()
        if self._sending:
            await asyncio.wait(set(self._sending), timeout=STOP_WAIT)
        for task in list(self._sending):
            task.cancel()
        await asyncio.gather(*self._sending, return_exceptions=True)

    # -- the one job -------------------------------------------------------------------
    def _send(self, deliveries: list[Delivery]) -> None:
        if not deliveries:
            return
        task = asyncio.create_task(self.sender.deliver(deliveries))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def wake_delay(self) -> float:
        """Seconds until the next wake-up: the next notice due, at most the interval."""
        now = self.reminders.now()
        delay = self.check_interval.total_seconds()
        due = await self.reminders.next_due()
        if due is not None:
            delay = min(delay, max((due - now).total_seconds(), 0.0))
        return delay

    async def _plan_next(self) -> None:
        try:
            delay = await self.wake_delay()
        except Exception:  # the database is away: try again after the interval
            log.exception("could not read when the next notice is due")
            delay = self.check_interval.total_seconds()
        self._wake_in(delay)

    def _wake_in(self, seconds: float) -> None:
        """(Re)schedule the one wake-up job; O(1), whatever else the JobQueue holds."""
        if not self._started:
            return  # stopping, or the start-up catch-up has not run yet
        self._drop_job()
        self._job = self.job_queue.run_once(
            self._fire, when=seconds, name=WAKE_JOB, job_kwargs=_JOB_KWARGS
        )

    def _drop_job(self) -> None:
        job, self._job = self._job, None
        if job is not None and not job.removed:
            with contextlib.suppress(JobLookupError):  # it ran (a one-off leaves the store)
                job.schedule_removal()

    async def _fire(self, context: PpidContext) -> None:
        await self.wake()

    async def _startup(self, context: PpidContext) -> None:
        """The bot started: catch up on what was missed and schedule the rest."""
        await self.rebuild()


def install(
    application: Application[Any, Any, Any, Any, Any, Any], runtime: Runtime
) -> ReminderScheduler:
    """Wire reminders into the Application: the service's changes wake the scheduler;
    the catch-up from the database runs once the JobQueue starts."""
    settings = runtime.settings
    if application.job_queue is None:
        raise RuntimeError("python-telegram-bot's JobQueue is missing: install the job-queue extra")
    reminders = ReminderService(
        runtime.service, offsets=settings.reminder_offsets, quiet_hours=settings.quiet_period
    )
    sender = ReminderSender(
        application.bot, reminders, dispatcher=application.bot_data.notices, tz=settings.tz
    )
    scheduler = ReminderScheduler(
        application.job_queue, sender, reminders, check_interval=settings.reminder_check_interval
    )
    runtime.service.subscribe(scheduler.on_change)
    if isinstance(application, PpidApplication):
        application.on_stop.append(scheduler.stop)
    scheduler.start()
    return scheduler


def _whole_seconds(delta: timedelta) -> timedelta:
    """Round up to a whole second, so a reminder sent a moment after its planned time
    still says "sisa 10 menit", not "9 menit"."""
    return timedelta(seconds=max(math.ceil(delta.total_seconds() - 0.001), 0))


__all__ = ["ReminderScheduler", "ReminderSender", "install"]
