"""Reminders and escalations as the database sees them: what is due, claimed exactly once.

The database is the source of truth. Open step runs and their due times say which
notices exist (``sop.reminders.plan``); the ``reminders_sent`` table says which went out.
A scheduler only decides *when to ask*: whatever asks, however often, a notice is
claimed once, because the claim is a row under a unique key (run, kind, offset).

The database is also the schedule: each open run keeps when it must be looked at next
(``step_runs.next_notice_at``: its start until planned, then its next notice not sent,
None when nothing is left). What is due is read from that index a page at a time, so the
cost follows the notices falling due, not the number of open steps, and the scheduler
needs a single wake-up at the earliest of these moments.

This is a companion of ``PpidService`` inside ``sop/``: it shares the service's
transaction, record view and audit plumbing, so a claim and its audit entry are written
in one transaction and look like every other entry of the chain.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError

from db.models import ReminderSentRow, StepRunRow
from db.repositories import Repository
from sop.clock import Clock
from sop.model import Actor, RecordView, Role, Step
from sop.reminders import Notice, NoticeKind, QuietHours, due_now, plan
from sop.service import PpidService

log = logging.getLogger(__name__)

DEFAULT_OFFSETS = (timedelta(minutes=30), timedelta(minutes=10))
#: A notice sent more than this after its planned time counts as late.
LATE_AFTER = timedelta(minutes=1)
#: Open runs read per statement when looking for due notices (bounded IN lists).
PAGE = 200
PLAN_NAMESPACE = "reminders"
PLAN_KEY = "plan"


@dataclass(frozen=True, slots=True)
class DueNotice:
    """A notice whose time has come and that nobody has sent yet."""

    run_id: int
    notice: Notice
    late: bool


@dataclass(frozen=True, slots=True)
class _Look:
    """One open run looked at: its notice due now, if any, and when to look again."""

    run_id: int
    seen: datetime  # its next_notice_at as read
    due: DueNotice | None
    next_at: datetime | None


@dataclass(frozen=True, slots=True)
class Delivery:
    """A claimed notice, with everything needed to tell the people concerned."""

    claim_id: int
    notice: Notice
    late: bool
    record: RecordView
    actors: tuple[Actor, ...]  # the people the step waits on
    escalation: tuple[Actor, ...]  # overdue only: Pejabat PPID and admins who are not actors


class ReminderService:
    def __init__(
        self,
        service: PpidService,
        *,
        offsets: Sequence[timedelta] = DEFAULT_OFFSETS,
        quiet_hours: QuietHours | None = None,
        late_after: timedelta = LATE_AFTER,
        page: int = PAGE,
    ) -> None:
        self._service = service
        self.page = max(page, 1)
        self.offsets = tuple(sorted(set(offsets), reverse=True))
        self.quiet_hours = quiet_hours
        self.late_after = late_after

    @property
    def clock(self) -> Clock:
        return self._service.clock

    def now(self) -> datetime:
        return self._service.clock.now().astimezone(UTC)

    # -- planning ----------------------------------------------------------------------
    def _plan(
        self, record_id: int, step: Step, started_at: datetime, due_at: datetime
    ) -> list[Notice]:
        return plan(
            record_id,
            step,
            started_at,
            due_at,
            self.offsets,
            calendar=self._service.calendar,
            quiet=self.quiet_hours,
        )

    def _plan_run(self, run: StepRunRow) -> list[Notice]:
        return self._plan(run.record_id, Step(run.step), run.started_at, run.due_at)

    def plan_for(self, record: RecordView) -> list[Notice]:
        """The notices of the record's open step (none once it is stored or cancelled)."""
        run = record.current_run
        if run is None:
            return []
        return self._plan(record.id, run.step, run.started_at, run.due_at)

    def _next_after(
        self, planned: list[Notice], sent: set[tuple[NoticeKind, int]], now: datetime
    ) -> datetime | None:
        """When a run must be looked at again after ``now``: its next notice not sent yet,
        or the end of the quiet hours holding a reminder due now; None: nothing left."""
        later = [n.at for n in planned if n.at > now and n.key not in sent]
        ready = [n for n in planned if n.at <= now]
        if ready and self.quiet_hours is not None and self.quiet_hours.contains(now):
            latest = max(ready, key=lambda n: (n.kind is NoticeKind.OVERDUE, n.at))
            if latest.kind is NoticeKind.REMIND and latest.key not in sent:
                later.append(self.quiet_hours.release(now))
        return min(later, default=None)

    async def _look(
        self, now: datetime, after: tuple[datetime, int] | None, limit: int
    ) -> list[_Look]:
        """One page of the open runs whose next notice is due at ``now``: what each has
        due (at most one notice) and when to look at it again."""
        async with self._service.transaction() as repo:
            runs = await repo.runs_to_look_at(now, limit, after)
            sent: dict[int, set[tuple[NoticeKind, int]]] = defaultdict(set)
            for row in await repo.reminders_sent_for([run.id for run in runs]):
                sent[row.run_id].add((NoticeKind(row.kind), row.offset_seconds))
        looks = []
        for run in runs:
            planned = self._plan_run(run)
            notice = due_now(planned, sent[run.id], now, quiet=self.quiet_hours)
            after_this = sent[run.id] | ({notice.key} if notice is not None else set())
            due = None
            if notice is not None:
                due = DueNotice(run.id, notice, now - notice.at > self.late_after)
            assert run.next_notice_at is not None  # the query's condition
            looks.append(
                _Look(run.id, run.next_notice_at, due, self._next_after(planned, after_this, now))
            )
        return looks

    async def next_due(self) -> datetime | None:
        """The earliest moment an open run has a notice due (or must be planned)."""
        async with self._service.transaction() as repo:
            return await repo.next_notice_at()

    def plan_signature(self) -> str:
        """What the planning of notices depends on besides each run (offsets, quiet
        hours, office hours): stored, so a change is noticed at the next start."""
        offsets = ",".join(str(int(o.total_seconds())) for o in self.offsets)
        calendar = self._service.calendar
        hours, tz = getattr(calendar, "hours", None), getattr(calendar, "tz", None)
        return f"offsets={offsets};quiet={self.quiet_hours or ''};hours={hours};tz={tz}"

    async def plan_again_if_changed(self) -> int:
        """At start: if the planning settings changed since the last start, every open
        run is planned again at its next look; returns how many."""
        signature = self.plan_signature()
        async with self._service.transaction() as repo:
            stored = await repo.kv_get(PLAN_NAMESPACE, PLAN_KEY)
            if stored is not None and stored.data == signature:
                return 0
            moved = await repo.plan_open_runs_again()
            await repo.kv_put(PLAN_NAMESPACE, PLAN_KEY, signature, self.now())
            return moved

    # -- what is due -------------------------------------------------------------------
    async def pending(self, now: datetime | None = None) -> list[DueNotice]:
        """Notices whose time has come at ``now``, not yet recorded as sent, of steps still
        open; at most one per step run (see ``sop.reminders.due_now``). Reads only the runs
        whose next notice is due, a page at a time."""
        now = now or self.now()
        due: list[DueNotice] = []
        after: tuple[datetime, int] | None = None
        while True:
            looks = await self._look(now, after, self.page)
            due.extend(look.due for look in looks if look.due is not None)
            if len(looks) < self.page:
                return due
            after = (looks[-1].seen, looks[-1].run_id)

    async def mark_sent(
        self, run_id: int, kind: NoticeKind, offset_seconds: int, at: datetime, late: bool
    ) -> int | None:
        """Record a notice as sent (claimed), with its audit entry, in one transaction.

        Returns the claim's id, or None when the notice was already recorded (by another
        job, a sweep, a previous run of the bot) or its step is no longer open. Recording
        an escalation also marks the step run overdue.
        """
        try:
            async with self._service.transaction() as repo:
                run = await repo.run(run_id)
                if run is None:
                    return None
                # The record's lock is the one every step change takes: a claim and a
                # completion of the same record queue behind each other.
                await repo.record(run.record_id, lock=True)
                return await self._claim(repo, run_id, kind, offset_seconds, at, late)
        except IntegrityError:  # a concurrent claim of the same notice won
            log.info("notice %s/%s/%s already claimed", run_id, kind, offset_seconds)
            return None

    async def _claim(
        self,
        repo: Repository,
        run_id: int,
        kind: NoticeKind,
        offset_seconds: int,
        at: datetime,
        late: bool,
    ) -> int | None:
        """The claim itself, in the caller's transaction, the record's lock held."""
        run = await repo.run(run_id)
        if run is None or run.completed_at is not None:
            return None
        if await repo.reminder_sent(run_id, kind, offset_seconds) is not None:
            return None
        row = await repo.add_reminder_sent(
            ReminderSentRow(
                run_id=run_id, kind=kind, offset_seconds=offset_seconds, sent_at=at, late=late
            )
        )
        if kind is NoticeKind.OVERDUE:
            await repo.mark_overdue(run_id, at)
        await self._service.audit(
            repo,
            "step.overdue" if kind is NoticeKind.OVERDUE else "reminder.sent",
            actor_id=None,
            record_id=run.record_id,
            details={
                "step": run.step,
                "attempt": run.attempt,
                "offset_seconds": offset_seconds,
                "late": late,
            },
        )
        return row.id

    async def _claim_page(
        self, looks: list[_Look], now: datetime, catch_up: bool
    ) -> list[Delivery]:
        """Claim the page's due notices and read who hears of each, in one transaction;
        the runs looked at get their next moment in it too. The records' locks are all
        taken first, in id order, before any audit entry (whose head every step change
        locks after its record): no lock is ever waited for in the other order."""
        due = [look for look in looks if look.due is not None]
        claimed: list[tuple[int, _Look, bool]] = []
        deliveries = []
        try:
            async with self._service.transaction() as repo:
                for record_id in sorted({look.due.notice.record_id for look in due if look.due}):
                    await repo.record(record_id, lock=True)
                for look in due:
                    assert look.due is not None
                    notice, late = look.due.notice, catch_up or look.due.late
                    claim_id = await self._claim(
                        repo, look.run_id, notice.kind, notice.offset_seconds, now, late
                    )
                    if claim_id is not None:
                        claimed.append((claim_id, look, late))
                for claim_id, look, late in claimed:
                    assert look.due is not None
                    delivery = await self._delivery_in(
                        repo, claim_id, look.run_id, look.due.notice, late
                    )
                    if delivery is None:
                        await repo.mark_reminder_delivered(claim_id, self.now(), 0, late=None)
                    else:
                        deliveries.append(delivery)
                await repo.set_next_notices([(k.run_id, k.seen, k.next_at) for k in looks])
        except IntegrityError:  # another process claimed one of them: one at a time
            log.info("a notice of this page was claimed meanwhile; claiming one by one")
            return await self._claim_singly(looks, now, catch_up)
        return deliveries

    async def _claim_singly(
        self, looks: list[_Look], now: datetime, catch_up: bool
    ) -> list[Delivery]:
        deliveries = []
        for look in looks:
            if look.due is None:
                continue
            notice, late = look.due.notice, catch_up or look.due.late
            claim_id = await self.mark_sent(
                look.run_id, notice.kind, notice.offset_seconds, now, late
            )
            if claim_id is None:
                continue
            delivery = await self._delivery(claim_id, look.run_id, notice, late)
            if delivery is None:
                await self.confirm(claim_id, 0)
            else:
                deliveries.append(delivery)
        async with self._service.transaction() as repo:
            await repo.set_next_notices([(k.run_id, k.seen, k.next_at) for k in looks])
        return deliveries

    async def claim_due(
        self, now: datetime | None = None, *, catch_up: bool = False
    ) -> list[Delivery]:
        """Claim every pending notice and say who must hear of it.

        ``catch_up`` (the bot's start) marks every claim late: its time passed while
        the bot was down.
        """
        return [d async for page in self.claim_pages(now, catch_up=catch_up) for d in page]

    async def claim_pages(
        self, now: datetime | None = None, *, catch_up: bool = False
    ) -> AsyncIterator[list[Delivery]]:
        """``claim_due`` a page of runs at a time, each page's deliveries as soon as they
        are claimed (so sending starts while the next page is claimed); each run looked
        at gets its next moment."""
        now = now or self.now()
        after: tuple[datetime, int] | None = None
        while True:
            looks = await self._look(now, after, self.page)
            deliveries = await self._claim_page(looks, now, catch_up) if looks else []
            if deliveries:
                yield deliveries
            if len(looks) < self.page:
                return
            after = (looks[-1].seen, looks[-1].run_id)

    async def unconfirmed(self) -> list[Delivery]:
        """Claims whose sending never finished, because the bot stopped in between; for its
        next start. Those of steps that have closed meanwhile are settled, unsent."""
        async with self._service.transaction() as repo:
            rows = list(await repo.undelivered_reminders())
            runs = {row.run_id: await repo.run(row.run_id) for row in rows}
        deliveries = []
        for row in rows:
            run = runs[row.run_id]
            if run is None or run.completed_at is not None:
                await self.confirm(row.id, 0)
                continue
            key = (NoticeKind(row.kind), row.offset_seconds)
            notice = next((n for n in self._plan_run(run) if n.key == key), None)
            if notice is None:  # the offsets were reconfigured since the claim
                offset = timedelta(seconds=row.offset_seconds)
                notice = Notice(
                    run.record_id,
                    Step(run.step),
                    NoticeKind(row.kind),
                    offset,
                    run.due_at - offset,
                    run.due_at,
                )
            delivery = await self._delivery(row.id, run.id, notice, True)
            if delivery is None:
                await self.confirm(row.id, 0)
            else:
                deliveries.append(delivery)
        return deliveries

    async def confirm(self, claim_id: int, recipients: int, *, late: bool | None = None) -> None:
        """Sending a claimed notice is over: ``recipients`` people received it (``late``:
        a claim re-sent after a restart is late, whatever it was when claimed)."""
        async with self._service.transaction() as repo:
            await repo.mark_reminder_delivered(claim_id, self.now(), recipients, late=late)

    # -- who hears of it ---------------------------------------------------------------
    async def _delivery(
        self, claim_id: int, run_id: int, notice: Notice, late: bool
    ) -> Delivery | None:
        async with self._service.transaction() as repo:
            return await self._delivery_in(repo, claim_id, run_id, notice, late)

    async def _delivery_in(
        self, repo: Repository, claim_id: int, run_id: int, notice: Notice, late: bool
    ) -> Delivery | None:
        service = self._service
        run = await repo.run(run_id)
        row = await repo.record(notice.record_id)
        if run is None or row is None or run.completed_at is not None:
            return None
        record = await service.view(repo, row)
        actors = await service.responsible_in(repo, record)
        escalation: tuple[Actor, ...] = ()
        if notice.kind is NoticeKind.OVERDUE:
            escalation = await self._escalation(repo, {a.user_id for a in actors})
        return Delivery(claim_id, notice, late, record, actors, escalation)

    async def _escalation(self, repo: Repository, skip: set[int]) -> tuple[Actor, ...]:
        """Every active Pejabat PPID and admin, once each, except those in ``skip``."""
        people: list[Actor] = []
        seen = set(skip)
        for role in (Role.PEJABAT_PPID, Role.ADMIN):
            for user in await repo.users_with_role(role):
                if user.id not in seen:
                    seen.add(user.id)
                    people.append(await self._service.actor_of(repo, user))
        return tuple(people)
