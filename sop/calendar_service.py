"""Office closures (cuti bersama and other days the office is closed): admins add and
remove them, every change is audited, the calendar is refreshed from the database, and
the due times of open steps follow the change.

The closures live in the database (the source of truth); the calendar keeps a copy in
memory for the synchronous ``add``/``subtract`` of due times. It is loaded at start,
replaced after each change made here, and ``refresh()`` picks up changes made by another
process (the ``ppidbot calendar`` command while the bot runs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError

from db.models import OfficeClosureRow
from db.repositories import Repository
from sop.calendar import ClosedDay, OfficeCalendar, WorkingHours
from sop.errors import InvalidInput, NotFound, PermissionDenied
from sop.model import Actor, RecordView
from sop.service import PpidService
from sop.validation import validate_text

DESCRIPTION_MAX = 200
#: How far from today a closure may be recorded (a past one still counts for reports).
PAST_LIMIT = timedelta(days=366)
FUTURE_LIMIT = timedelta(days=2 * 366)


@dataclass(frozen=True, slots=True)
class Closure:
    day: date
    description: str
    created_by_name: str | None  # None: added on the command line
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ClosureChange:
    """What adding or removing a closure did."""

    closure: Closure
    rescheduled: int  # open steps whose due time moved


class CalendarService:
    """Closures on top of ``PpidService``: it shares the service's transactions, audit
    chain, actor checks and listeners on purpose (one audit writer, one set of listeners)."""

    def __init__(self, service: PpidService, calendar: OfficeCalendar) -> None:
        self._service = service
        self.calendar = calendar

    @property
    def hours(self) -> WorkingHours:
        return self.calendar.hours

    # -- reading -----------------------------------------------------------------------
    async def refresh(self, *, announce: bool = False) -> bool:
        """Load the closures from the database into the calendar; True if they changed.

        With ``announce``, a change is passed to the service's listeners for every open
        record, so that jobs derived from due times (reminders) are rebuilt.
        """
        async with self._service.transaction() as repo:
            closures = await self._closure_map(repo)
        if closures == self.calendar.closures:
            return False
        self.calendar.set_closures(closures)
        if announce:
            async with self._service.transaction() as repo:
                views = [
                    await self._record_view(repo, run.record_id) for run in await repo.open_runs()
                ]
            for view in views:
                if view is not None:
                    await self._service.emit(view)
        return True

    async def closures(self) -> list[Closure]:
        """Every office closure, earliest first."""
        async with self._service.transaction() as repo:
            return [await self._closure(repo, row) for row in await repo.closures()]

    def upcoming(self, days: int = 60) -> list[ClosedDay]:
        """National holidays and office closures from today for ``days`` days."""
        today = self._service.today()
        return self.calendar.closed_days(today, today + timedelta(days=days))

    # -- changing ----------------------------------------------------------------------
    async def add_closure(
        self, day: date, description: str, *, by: Actor | None = None
    ) -> ClosureChange:
        """Close the office on ``day`` (admins; ``by=None`` is the operator's CLI)."""
        try:
            async with self._service.transaction() as repo:
                actor_id = await self._admin_id(repo, by)
                description = validate_text(
                    description, label="Keterangan", minimum=3, maximum=DESCRIPTION_MAX
                ).replace("\n", " ")
                self._check_day(day)
                existing = await repo.closure(day)
                if existing is not None:
                    raise InvalidInput(
                        f"Tanggal itu sudah tercatat sebagai libur kantor: {existing.description}."
                    )
                row = await repo.add_closure(
                    OfficeClosureRow(
                        day=day,
                        description=description,
                        created_by=actor_id,
                        created_at=self._service.now(),
                    )
                )
                closure = await self._closure(repo, row)
                closures, moved = await self._apply(repo)
                await self._service.audit(
                    repo,
                    "calendar.closure_added",
                    actor_id=actor_id,
                    details={
                        "date": day.isoformat(),
                        "description": description,
                        "rescheduled": len(moved),
                    },
                )
        except IntegrityError as exc:  # the same day added twice at once
            raise InvalidInput("Tanggal itu sudah tercatat sebagai libur kantor.") from exc
        await self._after_change(closures, moved)
        return ClosureChange(closure, len(moved))

    async def remove_closure(self, day: date, *, by: Actor | None = None) -> ClosureChange:
        """Open the office again on ``day`` (admins; ``by=None`` is the operator's CLI)."""
        async with self._service.transaction() as repo:
            actor_id = await self._admin_id(repo, by)
            row = await repo.closure(day)
            if row is None:
                national = self.calendar.national_holiday(day)
                if national:
                    raise NotFound(
                        f"Tanggal itu libur nasional ({national}) dari kalender resmi, bukan "
                        "libur kantor; tidak dapat dihapus."
                    )
                raise NotFound("Tanggal itu tidak tercatat sebagai libur kantor.")
            closure = await self._closure(repo, row)
            await repo.delete_closure(day)
            closures, moved = await self._apply(repo)
            await self._service.audit(
                repo,
                "calendar.closure_removed",
                actor_id=actor_id,
                details={
                    "date": day.isoformat(),
                    "description": closure.description,
                    "rescheduled": len(moved),
                },
            )
        await self._after_change(closures, moved)
        return ClosureChange(closure, len(moved))

    # -- plumbing ----------------------------------------------------------------------
    def _check_day(self, day: date) -> None:
        """A closure is a working day within reach that is not already a holiday."""
        today = self._service.today()
        if day < today - PAST_LIMIT:
            raise InvalidInput("Tanggal itu sudah lebih dari setahun yang lalu.")
        if day > today + FUTURE_LIMIT:
            raise InvalidInput("Tanggal itu terlalu jauh ke depan (paling lama dua tahun).")
        if not self.hours.is_always and not self.hours.intervals(day.weekday()):
            raise InvalidInput(
                "Tanggal itu memang bukan hari kerja menurut jam kerja kantor; tidak perlu "
                "dicatat sebagai libur kantor."
            )
        national = self.calendar.national_holiday(day)
        if national:
            raise InvalidInput(
                f"Tanggal itu sudah libur nasional ({national}); tidak perlu dicatat lagi."
            )

    async def _admin_id(self, repo: Repository, by: Actor | None) -> int | None:
        if by is None:
            return None
        actor = await self._service.fresh_actor(repo, by)
        if not actor.is_admin:
            raise PermissionDenied("Maaf, hanya admin PPID yang dapat mengubah hari libur kantor.")
        return actor.user_id

    async def _apply(self, repo: Repository) -> tuple[dict[date, str], list[int]]:
        """Recompute the due times of open steps that are not yet due with the closures as
        they now are in this transaction; return those closures and the moved records."""
        closures = await self._closure_map(repo)
        calendar = self.calendar.with_closures(closures)
        now = self._service.now()
        moved: list[int] = []
        for run in await repo.open_runs():
            if run.overdue_at is not None or run.due_at <= now:
                continue  # already due: its escalation is history, not moved afterwards
            due = calendar.add(run.started_at, self._service.step_deadline)
            if due != run.due_at:
                await repo.set_due(run.id, due)
                moved.append(run.record_id)
        return closures, moved

    async def _after_change(self, closures: dict[date, str], moved: list[int]) -> None:
        """After the commit: the calendar follows, and listeners hear of moved due times."""
        self.calendar.set_closures(closures)
        if not moved:
            return
        async with self._service.transaction() as repo:
            views = [await self._record_view(repo, record_id) for record_id in moved]
        for view in views:
            if view is not None:
                await self._service.emit(view)

    @staticmethod
    async def _closure_map(repo: Repository) -> dict[date, str]:
        return {row.day: row.description for row in await repo.closures()}

    async def _record_view(self, repo: Repository, record_id: int) -> RecordView | None:
        row = await repo.record(record_id)
        return await self._service.view(repo, row) if row is not None else None

    @staticmethod
    async def _closure(repo: Repository, row: OfficeClosureRow) -> Closure:
        name = None
        if row.created_by is not None:
            user = await repo.user(row.created_by)
            name = user.full_name if user else "?"
        return Closure(row.day, row.description, name, row.created_at)
