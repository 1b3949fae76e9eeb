"""The register of exempted information (Daftar Informasi yang Dikecualikan, DIK): the
records after the three steps, filtered and paged per viewer, each with the day its
exemption ends and, once announced public, the day it was opened."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from db.models import RecordRow
from db.repositories import Repository
from db.texts import TextHit, text_hits
from sop.deadlines import Calendar
from sop.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from sop.model import PASAL17, Actor, RecordView, Role, State, StepRunView
from sop.service import PpidService
from sop.stemming import roots
from sop.validation import clean_text

#: Who sees the whole register; a Petugas PPID sees their division's records only.
SEES_ALL = frozenset({Role.PEJABAT_PPID, Role.PETUGAS_DOKUMENTASI, Role.ADMIN})
#: Who may mark stored information as opened (announced public).
MAY_OPEN = frozenset({Role.PEJABAT_PPID, Role.ADMIN})

PAGE_SIZE = 10
SEARCH_LIMIT = 20
SEARCH_MIN = 2
#: At most this many words of a search are looked up (each narrows the result).
SEARCH_WORDS = 10
EXPIRY_WINDOW_DAYS = 90
#: How many ending exemptions /kedaluwarsa reads and lists.
EXPIRING_LIMIT = 30
#: How many records the report reads the runs of at once.
REPORT_BATCH = 500
#: How many of a record's latest audit entries its card shows.
TRAIL_LIMIT = 10


class RegisterStatus(StrEnum):
    """A record's place in the register (coarser than ``State``)."""

    IN_PROGRESS = "proses"  # one of the three steps is still due
    STORED = "tersimpan"  # step 3 done: registered and still exempted
    OPENED = "dibuka"  # stored, later announced as open information
    CANCELLED = "batal"  # a draft withdrawn before submission: not in the register


#: The statuses the register can be narrowed to (withdrawn drafts are not in it).
FILTER_STATUSES = (RegisterStatus.IN_PROGRESS, RegisterStatus.STORED, RegisterStatus.OPENED)
_IN_PROGRESS = [State.DRAFT.value, State.SUBMITTED.value, State.REGISTERED.value]
_STATUS_QUERY: dict[RegisterStatus | None, dict[str, Any]] = {
    None: {"states": [*_IN_PROGRESS, State.STORED.value]},
    RegisterStatus.IN_PROGRESS: {"states": _IN_PROGRESS},
    RegisterStatus.STORED: {"states": [State.STORED.value], "opened": False},
    RegisterStatus.OPENED: {"states": [State.STORED.value], "opened": True},
}


@dataclass(frozen=True, slots=True)
class RegisterFilter:
    """What the register is narrowed to; None means "any". ``year`` is the year the
    information was classified (the date on the classification decision)."""

    status: RegisterStatus | None = None
    division_id: int | None = None
    letter: str | None = None
    year: int | None = None

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.status, self.division_id, self.letter, self.year))

    def query(self) -> dict[str, Any]:
        if self.letter is not None and self.letter not in PASAL17:
            raise InvalidInput("Huruf Pasal 17 tidak dikenal (pilih a–j).")
        if self.year is not None and not 1900 < self.year < 3000:
            raise InvalidInput("Tahun tidak valid.")
        if self.status is not None and self.status not in FILTER_STATUSES:
            raise InvalidInput("Berkas yang dibatalkan tidak termasuk dalam daftar.")
        query: dict[str, Any] = dict(_STATUS_QUERY[self.status])
        query["division_id"] = self.division_id
        query["letter"] = self.letter
        if self.year is not None:
            query["classified_from"] = date(self.year, 1, 1)
            query["classified_before"] = date(self.year + 1, 1, 1)
        return query


@dataclass(frozen=True, slots=True)
class RegisterEntry:
    """One line of the register."""

    record: RecordView
    opened_on: date | None
    ends_on: date | None  # the exemption's last day, when the period is a date or duration
    holders: tuple[str, ...] = ()  # who the open step waits on (names), if one is open
    text_hit: TextHit | None = None  # /cari: where in the softcopies the words are

    @property
    def status(self) -> RegisterStatus:
        if self.record.state is State.CANCELLED:
            return RegisterStatus.CANCELLED
        if self.record.state is State.STORED:
            return RegisterStatus.OPENED if self.opened_on else RegisterStatus.STORED
        return RegisterStatus.IN_PROGRESS


@dataclass(frozen=True, slots=True)
class RegisterPage:
    items: tuple[RegisterEntry, ...]
    total: int
    page: int  # 1-based, clamped to the pages there are
    pages: int  # at least 1
    filters: RegisterFilter
    page_size: int = PAGE_SIZE

    @property
    def first_number(self) -> int:
        """The list number of this page's first line (11 on page 2 of ten a page)."""
        return (self.page - 1) * self.page_size + 1


@dataclass(frozen=True, slots=True)
class ExpiringEntry:
    entry: RegisterEntry
    ends_on: date
    days_left: int  # negative: the period has already ended


@dataclass(frozen=True, slots=True)
class ExpiringList:
    items: tuple[ExpiringEntry, ...]  # soonest first, at most the limit asked for
    total: int  # how many end within the window (or ended), however many are listed


@dataclass(frozen=True, slots=True)
class StepTime:
    """How long one run of a step took, against its time standard."""

    working: timedelta  # office working time (the calendar's), or wall clock without one
    wall: timedelta  # plain elapsed time
    finished: bool  # done or returned (a cancelled draft's run is not a finished step)
    on_time: bool | None  # None: still running within its due time, or not applicable

    @property
    def overdue(self) -> bool:
        """Still running and already past its due time: it counts as late."""
        return not self.finished and self.on_time is False

    @property
    def counted(self) -> bool:
        """Whether SOP compliance counts it: finished, or open and already overdue."""
        return self.finished or self.overdue


@dataclass(frozen=True, slots=True)
class TrailEntry:
    seq: int
    at: datetime
    actor_name: str | None
    action: str
    details: dict[str, object]


@dataclass(frozen=True, slots=True)
class RecordDetails:
    """What a record's full card adds to ``RecordView``."""

    opened_on: date | None
    ends_on: date | None
    times: dict[tuple[int, int], StepTime]  # by (step, attempt) of ``record.runs``
    trail: tuple[TrailEntry, ...]  # the latest entries, oldest first
    trail_total: int
    holders: tuple[str, ...] = ()  # who the open step waits on (names)

    def time_of(self, run: StepRunView) -> StepTime | None:
        return self.times.get((int(run.step), run.attempt))


@dataclass(frozen=True, slots=True)
class ReportRecord:
    entry: RegisterEntry
    times: tuple[StepTime, ...]  # one per ``entry.record.runs``


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything the workbook, the CSV and the chart are made from; plain data."""

    records: tuple[ReportRecord, ...]
    generated_at: datetime
    standard: timedelta
    tz: ZoneInfo


def measure(run: StepRunView, calendar: Calendar, now: datetime) -> StepTime:
    """A run's working and wall-clock time (until ``now`` while it runs) and whether it
    kept its due time. A finished run's working time is the one kept when it finished; an
    open run's is counted by the calendar until ``now``."""
    end = run.completed_at or now
    wall = max(end - run.started_at, timedelta(0))
    if run.completed_at is not None and run.working is not None:
        working = run.working
    else:
        between = getattr(calendar, "working_time_between", None)
        working = max(between(run.started_at, end), timedelta(0)) if callable(between) else wall
    finished = run.completed_at is not None and run.outcome in {"done", "returned"}
    if finished:
        assert run.completed_at is not None
        on_time: bool | None = run.completed_at <= run.due_at
    elif run.completed_at is None and now > run.due_at:
        on_time = False
    else:
        on_time = None
    return StepTime(working=working, wall=wall, finished=finished, on_time=on_time)


def ends_on(record: RecordView) -> date | None:
    return record.fields.period.end_date(record.fields.classified_date)


def _by_primary_key(query: dict[str, Any]) -> dict[str, Any]:
    """A page's query with several states said the other way round (``not_states``), so
    that it walks the primary key newest first instead of sorting every matching row."""
    states = query.get("states")
    if states is None or len(states) < 2:
        return query
    others = [state.value for state in State if state.value not in states]
    return {**query, "states": None, "not_states": others}


def search_words(text: str) -> list[str]:
    """The words of a search, as the full-text index splits them: runs of letters and
    digits, lower case ("100%" is "100"; "DIK-2026-0001" is "dik", "2026" and "0001")."""
    return re.findall(r"[^\W_]+", text.lower())[:SEARCH_WORDS]


class RegisterService:
    """The register's queries and the "opened" mark; a thin companion of ``PpidService``
    that shares its transactions, clock and rules of visibility."""

    def __init__(self, service: PpidService) -> None:
        self.service = service

    # -- visibility ----------------------------------------------------------------------
    @staticmethod
    def _scope(actor: Actor) -> dict[str, Any]:
        """The query restriction for ``actor``: nothing for those who see everything."""
        if any(actor.has(role) for role in SEES_ALL):
            return {}
        if actor.has(Role.PETUGAS_PPID):
            return {"visible_to": (actor.division_id, actor.user_id)}
        raise PermissionDenied("Anda tidak memiliki peran untuk melihat daftar ini.")

    async def _entry(self, repo: Repository, row: RecordRow) -> RegisterEntry:
        [entry] = await self._entries(repo, [row])
        return entry

    async def _entries(self, repo: Repository, rows: Sequence[RecordRow]) -> list[RegisterEntry]:
        """Lines of a list from their rows, with a constant number of queries whatever the
        page's length (``PpidService.list_views``, and the staff: who the open steps wait
        on). Files are not read."""
        if not rows:
            return []
        views = await self.service.list_views(repo, rows)
        staff = await self.service.staff(repo)
        return [
            RegisterEntry(view, row.opened_on, ends_on(view), self._holders(view, staff))
            for row, view in zip(rows, views, strict=True)
        ]

    def _holders(self, record: RecordView, staff: Sequence[Actor]) -> tuple[str, ...]:
        """The names of the people ``record``'s open step waits on (its creator first)."""
        if record.current_run is None:
            return ()
        people = [actor for actor in staff if self.service.may_act(actor, record)]
        people.sort(key=lambda actor: actor.user_id != record.created_by)
        return tuple(actor.full_name for actor in people)

    # -- the register ----------------------------------------------------------------------
    async def register(
        self,
        actor: Actor,
        filters: RegisterFilter | None = None,
        page: int = 1,
        page_size: int = PAGE_SIZE,
    ) -> RegisterPage:
        """One page of the register, newest first, of what ``actor`` may see."""
        filters = filters or RegisterFilter()
        query = filters.query()
        async with self.service.reading() as repo:
            actor = await self.service.fresh_actor(repo, actor)
            query.update(self._scope(actor))
            total = await repo.register_count(**query)
            pages = max(1, math.ceil(total / page_size))
            page = min(max(page, 1), pages)
            rows = await repo.register_rows(
                limit=page_size, offset=(page - 1) * page_size, **_by_primary_key(query)
            )
            items = tuple(await self._entries(repo, rows))
        return RegisterPage(items, total, page, pages, filters, page_size)

    async def search(self, actor: Actor, text: str, limit: int = SEARCH_LIMIT) -> RegisterPage:
        """Records whose title or description has every word of ``text`` (any case; a word
        also finds the longer words it begins: "notul" finds "notulen"), or whose attached
        softcopies have a page with them all (then with that page and a snippet), newest
        first, through the full-text indexes."""
        words = clean_text(text).replace("\n", " ")
        if len(words) < SEARCH_MIN:
            raise InvalidInput(f"Kata pencarian terlalu pendek: minimal {SEARCH_MIN} karakter.")
        if len(words) > 100:
            raise InvalidInput("Kata pencarian terlalu panjang: maksimal 100 karakter.")
        async with self.service.reading() as repo:
            actor = await self.service.fresh_actor(repo, actor)
            found = search_words(words)
            query = {
                **_STATUS_QUERY[None],
                "text": found,
                "text_roots": roots(found),
                **self._scope(actor),
            }
            total = await repo.register_count(**query)
            rows = await repo.register_rows(limit=limit, **query)
            items = tuple(await self._entries(repo, rows))
            hits = await text_hits(
                repo.session, [row.id for row in rows], query["text"], query["text_roots"]
            )
        items = tuple(replace(item, text_hit=hits.get(item.record.id)) for item in items)
        return RegisterPage(items, total, 1, 1, RegisterFilter(), max(limit, 1))

    async def years(self, actor: Actor) -> list[int]:
        """The classification years present in what ``actor`` sees, newest first."""
        async with self.service.reading() as repo:
            actor = await self.service.fresh_actor(repo, actor)
            days = await repo.register_classified_dates(states=None, **self._scope(actor))
        return sorted({day.year for day in days}, reverse=True)

    async def expiring(
        self, actor: Actor, within_days: int = EXPIRY_WINDOW_DAYS, limit: int = EXPIRING_LIMIT
    ) -> ExpiringList:
        """Exemptions (not yet opened) that end within ``within_days``, or already ended,
        soonest first: the first ``limit`` of them and how many there are."""
        today = self.service.today()
        until = today + timedelta(days=within_days)
        async with self.service.reading() as repo:
            actor = await self.service.fresh_actor(repo, actor)
            scope = self._scope(actor)
            total = await repo.ending_count(until, **scope)
            rows = await repo.ending_rows(until, limit=limit, **scope)
            items = tuple(
                ExpiringEntry(entry, entry.ends_on, (entry.ends_on - today).days)
                for entry in await self._entries(repo, rows)
                if entry.ends_on is not None
            )
        return ExpiringList(items, total)

    async def entry(self, actor: Actor, record_id: int) -> RegisterEntry:
        """One record as a line of the register, for those allowed to see it."""
        async with self.service.reading() as repo:
            actor = await self.service.fresh_actor(repo, actor)
            return await self._entry(repo, await self.service.load(repo, actor, record_id))

    @staticmethod
    def require_opener(actor: Actor) -> None:
        """Refuse anyone who may not mark information as opened."""
        if not any(actor.has(role) for role in MAY_OPEN):
            raise PermissionDenied(
                "Hanya Pejabat PPID atau admin yang dapat menandai informasi sebagai dibuka."
            )

    def _check_opening(self, actor: Actor, row: RecordRow, opened_on: date) -> None:
        self.require_opener(actor)
        if State(row.state) is not State.STORED:
            raise InvalidTransition(
                "Hanya informasi yang sudah tersimpan di register (langkah 3 selesai) "
                "yang dapat ditandai dibuka."
            )
        if row.opened_on is not None:
            raise InvalidInput(
                f"Informasi ini sudah ditandai dibuka sejak {row.opened_on:%d-%m-%Y}."
            )
        if opened_on > self.service.today():
            raise InvalidInput("Tanggal dibuka tidak boleh di masa depan.")
        if opened_on < row.classified_date:
            raise InvalidInput("Tanggal dibuka tidak boleh sebelum tanggal penetapan.")

    async def check_opening(self, actor: Actor, record_id: int, opened_on: date) -> RegisterEntry:
        """What ``mark_opened`` would refuse, refused now (before asking to confirm)."""
        async with self.service.reading() as repo:
            actor = await self.service.fresh_actor(repo, actor)
            row = await self.service.load(repo, actor, record_id)
            self._check_opening(actor, row, opened_on)
            return await self._entry(repo, row)

    async def mark_opened(self, actor: Actor, record_id: int, opened_on: date) -> RegisterEntry:
        """Record that stored exempted information was announced open on ``opened_on``
        (its period ended, or a new consequence test found it should be public)."""
        async with self.service.transaction() as repo:
            actor = await self.service.fresh_actor(repo, actor)
            row = await self.service.load(repo, actor, record_id, lock=True)
            self._check_opening(actor, row, opened_on)
            if not await repo.set_opened(record_id, opened_on, self.service.now()):
                raise InvalidInput("Informasi ini sudah ditandai dibuka.")
            fresh = await repo.record(record_id)
            if fresh is None:
                raise NotFound()
            entry = await self._entry(repo, fresh)
            await self.service.audit(
                repo,
                "record.opened",
                actor_id=actor.user_id,
                record_id=record_id,
                details={
                    "opened_on": opened_on.isoformat(),
                    "ends_on": entry.ends_on.isoformat() if entry.ends_on else None,
                },
            )
        return entry

    # -- a record's full card ------------------------------------------------------------
    async def details(
        self, actor: Actor, record: RecordView, trail_limit: int = TRAIL_LIMIT
    ) -> RecordDetails:
        """Opened day, end of the exemption, time per step run and the latest audit
        entries of a record ``actor`` may see."""
        now = self.service.clock.now()
        async with self.service.reading() as repo:
            actor = await self.service.fresh_actor(repo, actor)
            row = await self.service.load(repo, actor, record.id)
            entries = await repo.audit_entries(record_id=record.id)
            latest = entries[-trail_limit:] if trail_limit else []
            # Entries keep their actor's name as it was; older ones without it: today's.
            names = await repo.user_names(
                sorted({e.actor_user_id for e in latest if e.actor_user_id and not e.actor_name})
            )
            opened = row.opened_on
            holders = self._holders(record, await self.service.staff(repo))
        trail = tuple(
            TrailEntry(
                seq=e.seq,
                at=e.at,
                actor_name=(
                    e.actor_name or names.get(e.actor_user_id, "?") if e.actor_user_id else None
                ),
                action=e.action,
                details=json.loads(e.details),
            )
            for e in latest
        )
        calendar = self.service.calendar
        times = {(int(run.step), run.attempt): measure(run, calendar, now) for run in record.runs}
        return RecordDetails(opened, ends_on(record), times, trail, len(entries), holders)

    # -- reports ---------------------------------------------------------------------------
    async def report_data(self, actor: Actor | None = None) -> ReportData:
        """The register with each step run measured, for the workbook; ``actor`` None is
        the operator on the command line (everything)."""
        now = self.service.clock.now()
        calendar = self.service.calendar
        records: list[ReportRecord] = []
        async with self.service.reading() as repo:
            query: dict[str, Any] = dict(_STATUS_QUERY[None])
            if actor is not None:
                actor = await self.service.fresh_actor(repo, actor)
                query.update(self._scope(actor))
            # Oldest first, a batch at a time by the primary key; the rows of a batch are
            # let go once measured (the session would keep every row read until the end).
            after = 0
            while rows := await repo.register_rows_after(after, REPORT_BATCH, **query):
                after = rows[-1].id
                for entry in await self._entries(repo, rows):
                    times = tuple(measure(run, calendar, now) for run in entry.record.runs)
                    records.append(ReportRecord(entry, times))
                repo.session.expunge_all()
        return ReportData(tuple(records), now, self.service.step_deadline, self.service.tz)


__all__ = [
    "FILTER_STATUSES",
    "ExpiringEntry",
    "ExpiringList",
    "RecordDetails",
    "RegisterEntry",
    "RegisterFilter",
    "RegisterPage",
    "RegisterService",
    "RegisterStatus",
    "ReportData",
    "ReportRecord",
    "StepTime",
    "TrailEntry",
    "ends_on",
    "measure",
]
