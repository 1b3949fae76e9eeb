"""Reminders and escalations as the database sees them: what is due, claimed exactly once.

The database is the source of truth. Open step runs and their due times say which
notices exist (``sop.reminders.plan``); the ``reminders_sent`` table says which went out.
A scheduler only decides *when to ask*: whatever asks, however often, a notice is
claimed once, because the claim is a row under a unique key (run, kind, offset).

This is a companion of ``PpidService`` inside ``sop/``: it shares the service's
transaction, record view and audit plumbing, so a claim and its audit entry are written
in one transaction and look like every other entry of the chain.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
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


@dataclass(frozen=True, slots=True)
class DueNotice:
    """A notice whose time has come and that nobody has sent yet."""

    run_id: int
    notice: Notice
    late: bool


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
    ) -> None:
        self._service = service
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

    async def upcoming(self, now: datetime | None = None) -> list[Notice]:
        """Every notice of an open step that is still to come, soonest first."""
        now = now or self.now()
        async with self._service.transaction() as repo:
            runs = await repo.open_runs()
        notices = [n for run in runs for n in self._plan_run(run) if n.at > now]
        return sorted(notices, key=lambda n: n.at)

    # -- what is due -------------------------------------------------------------------
    async def pending(self, now: datetime | None = None) -> list[DueNotice]:
        """Notices whose time has come at ``now``, not yet recorded as sent, of steps still
        open; at most one per step run (see ``sop.reminders.due_now``)."""
        now = now or self.now()
        async with self._service.transaction() as repo:
            runs = await repo.open_runs()
            sent: dict[int, set[tuple[NoticeKind, int]]] = defaultdict(set)
            for row in await repo.reminders_sent_for([run.id for run in runs]):
                sent[row.run_id].add((NoticeKind(row.kind), row.offset_seconds))
        due: list[DueNotice] = []
        for run in runs:
            notice = due_now(self._plan_run(run), sent[run.id], now, quiet=self.quiet_hours)
            if notice is not None:
                due.append(DueNotice(run.id, notice, now - notice.at > self.late_after))
        return due

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
                run = await repo.run(run_id)
                if run is None or run.completed_at is not None:
                    return None
                if await repo.reminder_sent(run_id, kind, offset_seconds) is not None:
                    return None
                row = await repo.add_reminder_sent(
                    ReminderSentRow(
                        run_id=run_id,
                        kind=kind,
                        offset_seconds=offset_seconds,
                        sent_at=at,
                        late=late,
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
        except IntegrityError:  # a concurrent claim of the same notice won
            log.info("notice %s/%s/%s already claimed", run_id, kind, offset_seconds)
            return None

    async def claim_due(
        self, now: datetime | None = None, *, catch_up: bool = False
    ) -> list[Delivery]:
        """Claim every pending notice and say who must hear of it.

        ``catch_up`` (the bot's start) marks every claim late: its time passed while
        the bot was down.
        """
        now = now or self.now()
        deliveries = []
        for due in await self.pending(now):
            late = catch_up or due.late
            notice = due.notice
            claim_id = await self.mark_sent(
                due.run_id, notice.kind, notice.offset_seconds, now, late
            )
            if claim_id is None:
                continue
            delivery = await self._delivery(claim_id, due.run_id, notice, late)
            if delivery is None:
                await self.confirm(claim_id, 0)
            else:
                deliveries.append(delivery)
        return deliveries

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
        service = self._service
        async with service.transaction() as repo:
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
