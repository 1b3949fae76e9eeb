"""Seed a large, valid ppidbot archive with bulk SQL, and cache it between runs.

The records are what the product itself would have written: every record has its step
runs (due times from the office calendar), a softcopy on disk with its real SHA-256,
the PPID copy once stored, register numbers without gaps, the reminders already sent,
and an audit chain that verifies. ``ppidbot check`` passes on a seeded archive except
for the overdue steps it rightly reports.

Time is virtual: everything is seeded around ``ANCHOR`` (Monday 23 November 2026,
10:00 WIB). A bot started on a seeded archive runs with a clock that starts at
``ANCHOR`` (``bench/botproc.py``), so a cached archive stays valid however long ago it
was seeded.

Two kinds of open records (``reminders=``):

* ``pending``: every open step started in the 30 minutes before ``ANCHOR``, so all of its
  notices (reminders at 30 and 10 minutes before the due time, the escalation at it)
  are still to come: 3 scheduler jobs per open record at start.
* ``settled``: every open step started on an earlier day and is overdue; its reminders
  and escalation were sent and delivered. A bot starts on it without sending anything.

``burst=K`` adds K drafts (one per division, round robin) whose first reminder falls
in the minute that starts ``burst_after`` after ``ANCHOR``.

    .venv/bin/python -m bench.seed --open 100000 --stored 20000 --reminders pending
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import shutil
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from db.migrate import upgrade
from db.models import (
    AuditHeadRow,
    AuditRow,
    DivisionRow,
    RecordFileRow,
    RecordRow,
    RegisterCounterRow,
    ReminderSentRow,
    StepRunRow,
    UserRoleRow,
    UserRow,
)
from db.session import create_engine
from sop.audit import GENESIS_HASH, canonical_details, entry_hash
from sop.calendar import DEFAULT_WORKING_HOURS, OfficeCalendar, WorkingHours
from sop.model import ExemptionPeriod, PeriodKind, RecordFields, Role, State, Step
from sop.reminders import NoticeKind, plan
from sop.service import _columns_of, register_number
from sop.validation import validate_fields
from storage import Area, slugify

#: The seeded "now": Monday 23 November 2026, 10:00 WIB (a working day).
ANCHOR = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
WIB = ZoneInfo("Asia/Jakarta")
STEP_DEADLINE = timedelta(hours=1)
OFFSETS = (timedelta(minutes=30), timedelta(minutes=10))
#: Bump when the seeded content changes, so cached archives are rebuilt.
SEED_VERSION = 5

ADMIN = 900
PETUGAS_BASE = 10_000  # the Petugas PPID of division d has Telegram id 10_000 + d
UPLOADER = 10_999  # a second Petugas PPID of division 1 (the one who uploads in benches)
DOKUMENTASI = (20_001, 20_002)
PEJABAT = (30_001, 30_002)

TOPICS = [
    "Data pribadi pemilih disabilitas",
    "Hasil pemeriksaan kesehatan calon anggota",
    "Rekam jejak pelanggaran kode etik",
    "Dokumen pengadaan logistik yang masih dievaluasi",
    "Catatan rapat pleno tertutup",
    "Berkas pemeriksaan sengketa proses",
    "Salinan KTP elektronik anggota PPK",
    "Laporan audit investigatif internal",
    "Rincian rekening penerima honorarium",
    "Hasil uji konsekuensi permohonan informasi",
    "Data NIK pendukung calon perseorangan",
    "Nota dinas pengamanan gudang logistik",
]
PLACES = [
    "Kota Padang", "Kabupaten Agam", "Kota Bukittinggi", "Kabupaten Pesisir Selatan",
    "Kabupaten Solok", "Kota Payakumbuh", "Kabupaten Tanah Datar", "Kota Pariaman",
    "Kabupaten Pasaman Barat", "Kabupaten Dharmasraya", "Kota Sawahlunto",
    "Kabupaten Kepulauan Mentawai", "Kabupaten Sijunjung", "Kota Padang Panjang",
    "Kabupaten Lima Puluh Kota", "Kabupaten Padang Pariaman", "Kabupaten Pasaman",
    "Kota Solok", "Kabupaten Solok Selatan",
]  # fmt: skip
LETTERS = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]


@dataclass(frozen=True, slots=True)
class SeedSpec:
    """What to seed. ``open_records`` have an open step (draft, submitted, registered in
    4:3:3), ``stored_records`` went through all three steps."""

    open_records: int
    stored_records: int
    reminders: Literal["pending", "settled"] = "settled"
    burst: int = 0
    burst_after_s: int = 300
    divisions: int = 100
    seed: int = 15

    @property
    def key(self) -> str:
        return (
            f"{self.reminders}-o{self.open_records}-s{self.stored_records}-b{self.burst}"
            f"at{self.burst_after_s}-d{self.divisions}-r{self.seed}"
        )


@dataclass
class SeedSummary:
    spec: dict[str, Any]
    revision: str
    seed_version: int
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)
    #: Records by state, and the ids of a few of each (for benches that press buttons).
    states: dict[str, int] = field(default_factory=dict)
    sample_ids: dict[str, list[int]] = field(default_factory=dict)
    burst_window: list[str] = field(default_factory=list)  # ISO times, UTC


def head_revision() -> str:
    """The alembic head the seeded schema is at (part of the cache key)."""
    from alembic.script import ScriptDirectory

    from db.migrate import alembic_config

    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    return "+".join(sorted(heads))


def office_calendar() -> OfficeCalendar:
    """The calendar a bot with default settings uses (no office closures)."""
    return OfficeCalendar(WorkingHours.parse(DEFAULT_WORKING_HOURS), WIB)


# -- building the rows ---------------------------------------------------------------------
@dataclass
class _Event:
    at: datetime
    order: int
    actor: int | None
    action: str
    record_id: int | None
    details: dict[str, object]


class _Builder:
    def __init__(self, spec: SeedSpec, storage_dir: Path) -> None:
        self.spec = spec
        self.storage_dir = storage_dir
        self.rng = random.Random(spec.seed)
        self.calendar = office_calendar()
        self.rows: dict[str, list[dict[str, Any]]] = {
            name: []
            for name in (
                "divisions",
                "users",
                "user_roles",
                "records",
                "record_files",
                "step_runs",
                "reminders_sent",
            )
        }
        self.events: list[_Event] = []
        self._order = 0
        self._file_id = 0
        self._run_id = 0
        self._claim_id = 0
        self.user_ids: dict[int, int] = {}  # telegram id -> users.id
        self.names: dict[int, str] = {}  # users.id -> full name
        self.slugs: dict[int, str] = {}
        self.stored: list[tuple[datetime, int]] = []  # (step 3 done, record id)
        self.samples: dict[str, list[int]] = {s.value: [] for s in State}
        self.states: dict[str, int] = {}
        self.files: list[tuple[str, bytes]] = []

    def event(
        self,
        at: datetime,
        actor: int | None,
        action: str,
        record_id: int | None,
        details: dict[str, object],
    ) -> None:
        self._order += 1
        self.events.append(_Event(at, self._order, actor, action, record_id, details))

    # -- people and divisions --------------------------------------------------------------
    def office(self) -> None:
        setup = ANCHOR - timedelta(days=400)
        default_divisions = 4  # made by the initial migration
        for division_id in range(1, self.spec.divisions + 1):
            if division_id <= default_divisions:
                continue
            name = f"Satuan Kerja {division_id:03d}"
            self.rows["divisions"].append(
                {
                    "id": division_id,
                    "name": name,
                    "slug": slugify(name),
                    "active": True,
                    "created_at": setup,
                }
            )
            self.event(setup, None, "division.added", None, {"division": division_id, "name": name})
        people: list[tuple[int, str, Role, int | None]] = [(ADMIN, "Admin PPID", Role.ADMIN, None)]
        people += [
            (PETUGAS_BASE + d, f"Petugas {d:03d}", Role.PETUGAS_PPID, d)
            for d in range(1, self.spec.divisions + 1)
        ]
        people.append((UPLOADER, "Petugas Pengunggah", Role.PETUGAS_PPID, 1))
        people += [
            (tid, f"Dokumentasi {n}", Role.PETUGAS_DOKUMENTASI, None)
            for n, tid in enumerate(DOKUMENTASI, 1)
        ]
        people += [
            (tid, f"Pejabat {n}", Role.PEJABAT_PPID, None) for n, tid in enumerate(PEJABAT, 1)
        ]
        for user_id, (telegram_id, name, role, division) in enumerate(people, 1):
            self.user_ids[telegram_id] = user_id
            self.names[user_id] = name
            self.rows["users"].append(
                {
                    "id": user_id,
                    "telegram_id": telegram_id,
                    "full_name": name,
                    "name_official": True,  # given on the command line
                    "telegram_name": None,
                    "username": None,
                    "division_id": division,
                    "active": True,
                    "created_at": setup,
                }
            )
            self.rows["user_roles"].append(
                {"user_id": user_id, "role": role.value, "granted_at": setup, "granted_by": None}
            )
            details: dict[str, object] = {"user": user_id, "role": role.value}
            details.update(
                {"by": "configuration"} if role is Role.ADMIN else {"division": division}
            )
            self.event(setup, None, "role.granted", None, details)

    def slug(self, division_id: int) -> str:
        if division_id not in self.slugs:
            name = (
                DEFAULT_DIVISION_NAMES[division_id - 1]
                if division_id <= len(DEFAULT_DIVISION_NAMES)
                else f"Satuan Kerja {division_id:03d}"
            )
            self.slugs[division_id] = slugify(name)
        return self.slugs[division_id]

    # -- one record ------------------------------------------------------------------------
    def fields(self, record_id: int, division_id: int, created: datetime) -> RecordFields:
        rng = self.rng
        topic = TOPICS[record_id % len(TOPICS)]
        place = PLACES[(record_id // len(TOPICS)) % len(PLACES)]
        classified = created.astimezone(WIB).date() - timedelta(days=3)
        roll = rng.random()
        if roll < 0.4:
            period = ExemptionPeriod(PeriodKind.PERMANENT)
        elif roll < 0.7:
            period = ExemptionPeriod(PeriodKind.DURATION, amount=5, unit=_years())
        elif roll < 0.9:
            period = ExemptionPeriod(
                PeriodKind.UNTIL_DATE, until=date(2028 + rng.randrange(8), 12, 31)
            )
        else:
            period = ExemptionPeriod(
                PeriodKind.CONDITION, condition="Sampai putusan sengketa berkekuatan hukum tetap"
            )
        if period.kind is PeriodKind.PERMANENT:
            # Pasal 20: an exemption under any of the letters a-f is never permanent.
            chosen = {LETTERS[6 + record_id % 4], LETTERS[6 + (record_id // 4) % 4]}
        else:
            chosen = {LETTERS[record_id % 10], LETTERS[(record_id // 10) % 10]}
        letters = tuple(sorted(chosen))
        return RecordFields(
            title=f"{topic} {place} nomor {record_id}",
            division_id=division_id,
            description=(
                f"Dokumen {topic.lower()} di {place}, dikumpulkan oleh bagian "
                f"{division_id} untuk arsip nomor {record_id}."
            ),
            pasal17=letters,
            other_legal_basis=None,
            consequence="Membuka informasi ini dapat merugikan hak pribadi dan proses hukum.",
            period=period,
            classified_by="Pejabat 1, Ketua PPID",
            classified_place="Padang",
            classified_date=classified,
            harm_if_opened="Data pribadi dan proses hukum dapat dirugikan bila dibuka.",
            public_interest="Publik dapat memeriksa kinerja lembaga dari rekapitulasi.",
            weighing="Perlindungan pribadi dan proses hukum lebih besar daripada manfaatnya.",
        )

    def record(
        self,
        record_id: int,
        state: State,
        division_id: int,
        open_started: datetime,
        *,
        step_minutes: Sequence[int],
        expiring: bool = False,
    ) -> None:
        """A record whose current step (or, when stored, its step 3) started at
        ``open_started``; the steps before took ``step_minutes`` each."""
        done_steps = {State.DRAFT: 0, State.SUBMITTED: 1, State.REGISTERED: 2, State.STORED: 3}[
            state
        ]
        # Start times of the runs, oldest first; the last run is the open one (or step 3).
        starts = [open_started]
        for minutes in reversed(step_minutes[: min(done_steps, 2)]):
            starts.insert(0, starts[0] - timedelta(minutes=minutes))
        created = starts[0]
        creator_tid = PETUGAS_BASE + division_id
        creator = self.user_ids[creator_tid]
        fields = self.fields(record_id, division_id, created)
        if expiring:
            fields = _with_end(fields, ANCHOR.astimezone(WIB).date() + timedelta(days=40))
        validate_fields(fields, created.astimezone(WIB).date())
        self.event(
            created,
            creator,
            "record.created",
            record_id,
            {"title": fields.title, "division": division_id},
        )
        source = self.file(
            record_id, Area.DIVISION, division_id, created + timedelta(seconds=20), by=creator
        )
        self.event(
            created + timedelta(seconds=20),
            creator,
            "file.stored",
            record_id,
            source["details"],
        )
        actors = [
            creator,
            self.user_ids[DOKUMENTASI[record_id % 2]],
            self.user_ids[PEJABAT[record_id % 2]],
        ]
        updated = created + timedelta(seconds=20)
        register = None
        open_step: int | None = None  # the open run's step and due time, kept on the record
        open_due: datetime | None = None
        for index, step in enumerate(Step):
            if index >= len(starts):
                break
            started = starts[index]
            due = self.calendar.add(started, STEP_DEADLINE)
            finished = index < done_steps
            if finished:
                completed = (
                    starts[index + 1]
                    if index + 1 < len(starts)
                    else started + timedelta(minutes=step_minutes[2])
                )
                self.run(record_id, step, started, due, completed, actors[index])
                next_state = [State.SUBMITTED, State.REGISTERED, State.STORED][index]
                details: dict[str, object] = {"state": next_state.value}
                if step is Step.PRODUCE:
                    details["verified"] = True
                if step is Step.RECEIVE:
                    copy = self.file(
                        record_id,
                        Area.PPID,
                        division_id,
                        completed,
                        by=actors[index],
                        source=source,
                    )
                    self.event(
                        completed,
                        actors[index],
                        "file.stored",
                        record_id,
                        {**copy["details"], "verified_copy_of": source["id"]},
                    )
                    self.stored.append((completed, record_id))
                    details.update({"register_number": "?", "files": 1})
                self.event(completed, actors[index], f"step{int(step)}.done", record_id, details)
                updated = completed
            else:
                run_id = self.run(record_id, step, started, due, None, None)
                self.notices(run_id, record_id, step, started, due)
                open_step, open_due = int(step), due
        self.rows["records"].append(
            {
                "id": record_id,
                **_columns_of(fields),
                "state": state.value,
                "version": 1 + done_steps,
                "register_number": register,
                "return_reason": None,
                "created_by": creator,
                "created_at": created,
                "updated_at": updated,
                "opened_on": None,
                "due_step": open_step,
                "due_at": open_due,
            }
        )
        self.states[state.value] = self.states.get(state.value, 0) + 1
        if len(self.samples[state.value]) < 50:
            self.samples[state.value].append(record_id)

    def file(
        self,
        record_id: int,
        area: Area,
        division_id: int,
        at: datetime,
        *,
        by: int,
        source: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        self._file_id += 1
        if source is None:
            content = (
                f"%PDF-1.4\n% ppidbot bench softcopy of record {record_id}\n"
                f"1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
            ).encode()
            name = f"softcopy-{record_id}.pdf"
        else:
            content = source["content"]
            name = source["name"]
        unique = hashlib.sha1(f"{area}:{record_id}:{self._file_id}".encode()).hexdigest()[:12]
        local = at.astimezone(UTC)
        path = f"{area.value}/{self.slug(division_id)}/{local:%Y}/{local:%m}/{unique}-{name}"
        sha = hashlib.sha256(content).hexdigest()
        self.files.append((path, content))
        self.rows["record_files"].append(
            {
                "id": self._file_id,
                "record_id": record_id,
                "area": area.value,
                "path": path,
                "original_name": name,
                "mime_type": "application/pdf",
                "size": len(content),
                "sha256": sha,
                "source_file_id": source["id"] if source else None,
                "uploaded_by": by,
                "created_at": at,
                "removed_at": None,
            }
        )
        row = self.rows["record_files"][-1]
        details = {"path": path, "area": area.value, "sha256": sha, "size": len(content)}
        details["name"] = name
        return {"id": self._file_id, "content": content, "name": name, "details": details, **row}

    def run(
        self,
        record_id: int,
        step: Step,
        started: datetime,
        due: datetime,
        completed: datetime | None,
        by: int | None,
    ) -> int:
        self._run_id += 1
        self.rows["step_runs"].append(
            {
                "id": self._run_id,
                "record_id": record_id,
                "step": int(step),
                "attempt": 1,
                "started_at": started,
                "due_at": due,
                "completed_at": completed,
                "completed_by": by,
                "completed_by_name": self.names[by] if by is not None else None,
                "outcome": "done" if completed else None,
                "overdue_at": None,
                # Open runs are looked at from their start, as the service opens them.
                "next_notice_at": None if completed else started,
                # Kept when a run finishes, as the service does.
                "working_seconds": (
                    round(self.calendar.working_time_between(started, completed).total_seconds())
                    if completed
                    else None
                ),
            }
        )
        return self._run_id

    def notices(
        self, run_id: int, record_id: int, step: Step, started: datetime, due: datetime
    ) -> None:
        """The open run's notices whose time passed before ANCHOR: sent and delivered."""
        run_row = self.rows["step_runs"][-1]
        for notice in plan(record_id, step, started, due, OFFSETS, calendar=self.calendar):
            if notice.at >= ANCHOR:
                continue
            sent = notice.at + timedelta(seconds=2)
            self._claim_id += 1
            self.rows["reminders_sent"].append(
                {
                    "id": self._claim_id,
                    "run_id": run_id,
                    "kind": notice.kind.value,
                    "offset_seconds": notice.offset_seconds,
                    "sent_at": sent,
                    "late": False,
                    "delivered_at": sent + timedelta(seconds=1),
                    "recipients": 1,
                }
            )
            overdue = notice.kind is NoticeKind.OVERDUE
            if overdue:
                run_row["overdue_at"] = sent
            self.event(
                sent,
                None,
                "step.overdue" if overdue else "reminder.sent",
                record_id,
                {
                    "step": int(step),
                    "attempt": 1,
                    "offset_seconds": notice.offset_seconds,
                    "late": False,
                },
            )

    # -- the whole archive -----------------------------------------------------------------
    def build(self) -> None:
        spec, rng = self.spec, self.rng
        self.office()
        record_id = 0
        # Stored records: created on earlier days of the year, each step 5-25 minutes.
        for _ in range(spec.stored_records):
            record_id += 1
            day = ANCHOR - timedelta(days=1 + rng.randrange(300))
            started = day - timedelta(minutes=rng.randrange(60, 300))
            self.record(
                record_id,
                State.STORED,
                1 + record_id % spec.divisions,
                started,
                step_minutes=[rng.randrange(5, 25) for _ in range(3)],
                expiring=record_id % 100 == 7,
            )
        cycle = [State.DRAFT] * 4 + [State.SUBMITTED] * 3 + [State.REGISTERED] * 3
        for index in range(spec.open_records):
            record_id += 1
            if spec.reminders == "pending":
                # All three notices still to come: the step started < 30 minutes ago.
                started = ANCHOR - timedelta(seconds=rng.randrange(60, 29 * 60))
            else:
                day = ANCHOR - timedelta(days=1 + rng.randrange(60))
                started = day - timedelta(minutes=rng.randrange(60, 300))
            self.record(
                record_id,
                cycle[index % len(cycle)],
                1 + record_id % spec.divisions,
                started,
                step_minutes=[rng.randrange(5, 25) for _ in range(3)],
            )
        # The burst: drafts whose first reminder (30 min before the due time) falls in
        # one minute, spread evenly over it, one division after the other.
        first = ANCHOR + timedelta(seconds=spec.burst_after_s)
        for index in range(spec.burst):
            record_id += 1
            reminder_at = first + timedelta(seconds=60 * index / max(spec.burst, 1))
            started = reminder_at - OFFSETS[0]
            self.record(
                record_id, State.DRAFT, 1 + index % spec.divisions, started, step_minutes=[]
            )

    def numbers(self) -> dict[int, str]:
        """Register numbers in the order step 3 was completed, per WIB year, no gaps."""
        counters: dict[int, int] = {}
        numbers: dict[int, str] = {}
        for completed, record_id in sorted(self.stored):
            year = completed.astimezone(WIB).year
            counters[year] = counters.get(year, 0) + 1
            numbers[record_id] = register_number(year, counters[year])
        self.counters = counters
        return numbers

    def chain(self, numbers: dict[int, str]) -> list[dict[str, Any]]:
        """The audit log in time order, each entry hashed over the one before."""
        rows = []
        previous = GENESIS_HASH
        for seq, event in enumerate(sorted(self.events, key=lambda e: (e.at, e.order)), 1):
            details = event.details
            if event.action == "step3.done" and event.record_id is not None:
                details = {**details, "register_number": numbers[event.record_id]}
            text = canonical_details(details)
            name = self.names.get(event.actor) if event.actor is not None else None
            digest = entry_hash(
                previous, seq, event.at, event.actor, event.action, event.record_id, text, name
            )
            rows.append(
                {
                    "seq": seq,
                    "at": event.at,
                    "actor_user_id": event.actor,
                    "actor_name": name,
                    "action": event.action,
                    "record_id": event.record_id,
                    "details": text,
                    "prev_hash": previous,
                    "hash": digest,
                }
            )
            previous = digest
        return rows


DEFAULT_DIVISION_NAMES = [
    "Keuangan, Umum dan Logistik",
    "Teknis Penyelenggaraan Pemilu, Partisipasi dan Hubungan Masyarakat",
    "Hukum dan Sumber Daya Manusia",
    "Perencanaan, Data dan Informasi",
]


def _years() -> Any:
    from sop.model import DurationUnit

    return DurationUnit.YEARS


def _with_end(fields: RecordFields, until: date) -> RecordFields:
    from dataclasses import replace

    return replace(fields, period=ExemptionPeriod(PeriodKind.UNTIL_DATE, until=until))


def _chunks(rows: list[dict[str, Any]], size: int = 5000) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


async def _insert(connection: AsyncConnection, table: Any, rows: list[dict[str, Any]]) -> None:
    for chunk in _chunks(rows):
        await connection.execute(insert(table), chunk)


async def seed(url: str, storage_dir: Path, spec: SeedSpec) -> SeedSummary:
    """Seed an empty database at ``url`` (migrated here) and ``storage_dir``."""
    started = time.perf_counter()
    builder = _Builder(spec, storage_dir)
    builder.build()
    numbers = builder.numbers()
    for row in builder.rows["records"]:
        row["register_number"] = numbers.get(row["id"])
    audit = builder.chain(numbers)
    await asyncio.to_thread(_write_files, storage_dir, builder.files)

    engine = create_engine(url)
    try:
        await upgrade(engine)
        async with engine.begin() as connection:
            for table, name in (
                (DivisionRow, "divisions"),
                (UserRow, "users"),
                (UserRoleRow, "user_roles"),
                (RecordRow, "records"),
                (RecordFileRow, "record_files"),
                (StepRunRow, "step_runs"),
                (ReminderSentRow, "reminders_sent"),
            ):
                await _insert(connection, table.__table__, builder.rows[name])
            await _insert(connection, AuditRow.__table__, audit)
            last = audit[-1]
            await connection.execute(
                update(AuditHeadRow.__table__)
                .where(AuditHeadRow.id == 1)
                .values(last_seq=last["seq"], last_hash=last["hash"])
            )
            counters = [{"year": y, "last_number": n} for y, n in builder.counters.items()]
            if counters:
                await connection.execute(insert(RegisterCounterRow.__table__), counters)
        async with engine.begin() as connection:
            await _after_bulk(connection)
    finally:
        await engine.dispose()
    rows = {name: len(values) for name, values in builder.rows.items()}
    rows["audit_log"] = len(audit)
    first = ANCHOR + timedelta(seconds=spec.burst_after_s)
    return SeedSummary(
        spec=asdict(spec),
        revision=head_revision(),
        seed_version=SEED_VERSION,
        seconds=time.perf_counter() - started,
        rows=rows,
        states=builder.states,
        sample_ids=builder.samples,
        burst_window=(
            [first.isoformat(), (first + timedelta(minutes=1)).isoformat()] if spec.burst else []
        ),
    )


async def _after_bulk(connection: AsyncConnection) -> None:
    """Move PostgreSQL's sequences past the explicit ids; let both planners see the data."""
    from sqlalchemy import text

    if connection.dialect.name == "postgresql":
        for table, column in (
            ("divisions", "id"),
            ("users", "id"),
            ("records", "id"),
            ("record_files", "id"),
            ("step_runs", "id"),
            ("reminders_sent", "id"),
        ):
            await connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                    f"(SELECT coalesce(max({column}), 0) + 1 FROM {table}), false)"
                )
            )
        await connection.execute(text("ANALYZE"))
    else:
        await connection.execute(text("ANALYZE"))


def _write_files(root: Path, files: list[tuple[str, bytes]]) -> None:
    made: set[Path] = set()
    for path, content in files:
        target = root / path
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        with open(target, "wb") as handle:
            handle.write(content)


# -- the cache -----------------------------------------------------------------------------
def default_cache_dir() -> Path:
    base = os.environ.get("BENCH_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "ppidbot-bench"
    )
    return Path(base)


@dataclass(frozen=True, slots=True)
class Archive:
    """A seeded SQLite archive: the database file, the storage root, and what is in it."""

    database: Path
    storage: Path
    summary: SeedSummary
    database_url: str | None = None  # another database than the SQLite file (PostgreSQL)

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.database}"


def _summary_of(path: Path) -> SeedSummary | None:
    try:
        data = json.loads(path.read_text())
        return SeedSummary(**data)
    except (OSError, ValueError, TypeError):
        return None


async def cached_archive(
    spec: SeedSpec, cache_dir: Path | None = None, *, log: Any = print
) -> Archive:
    """The seeded SQLite archive for ``spec``, from the cache when its schema revision and
    seed version match, else seeded now (and cached)."""
    cache = (cache_dir or default_cache_dir()) / spec.key
    summary_path = cache / "summary.json"
    summary = _summary_of(summary_path)
    revision = head_revision()
    if (
        summary is not None
        and summary.revision == revision
        and summary.seed_version == SEED_VERSION
        and (cache / "ppidbot.sqlite3").is_file()
    ):
        return Archive(cache / "ppidbot.sqlite3", cache / "storage", summary)
    if cache.exists():
        shutil.rmtree(cache)
    cache.mkdir(parents=True)
    log(f"seeding {spec.key} into {cache} (schema {revision}) ...")
    database = cache / "ppidbot.sqlite3"
    summary = await seed(f"sqlite+aiosqlite:///{database}", cache / "storage", spec)
    _checkpoint(database)
    summary_path.write_text(json.dumps(asdict(summary), indent=1))
    log(f"seeded in {summary.seconds:.0f} s: {summary.rows}")
    return Archive(database, cache / "storage", summary)


def _checkpoint(database: Path) -> None:
    """Fold the WAL into the main file, so copying the file alone copies everything."""
    connection = sqlite3.connect(database)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode=DELETE")
    finally:
        connection.close()


def working_copy(archive: Archive, directory: Path) -> Archive:
    """A copy of ``archive`` in ``directory`` that a bench may change: the database file
    is copied, the storage tree hard-linked (stored files are never modified in place,
    only written anew and renamed, so the cached files stay as they are)."""
    directory.mkdir(parents=True, exist_ok=True)
    _checkpoint(archive.database)  # a `ppidbot check` on the cache may have left a WAL
    database = directory / "ppidbot.sqlite3"
    shutil.copyfile(archive.database, database)
    storage = directory / "storage"
    if storage.exists():
        shutil.rmtree(storage)
    if archive.storage.exists():
        shutil.copytree(archive.storage, storage, copy_function=os.link)
    else:
        storage.mkdir()
    return Archive(database, storage, archive.summary)


async def check_at_anchor(archive: Archive) -> str:
    """``ppidbot check`` as the bot sees the archive (its clock at ANCHOR): re-hashes every
    file, verifies the audit chain, lists overdue steps."""
    from db.session import create_sessionmaker
    from sop.clock import ManualClock
    from sop.integrity import IntegrityChecker
    from storage import LocalStorage

    engine = create_engine(archive.url)
    try:
        checker = IntegrityChecker(
            create_sessionmaker(engine),
            LocalStorage(archive.storage, max_size=1 << 30),
            ManualClock(ANCHOR),
        )
        report = await checker.check()
    finally:
        await engine.dispose()
    lines = report.render_text(WIB).splitlines()
    return "\n".join(
        lines[:8] + ([f"  ... ({len(lines) - 8} more lines)"] if len(lines) > 8 else [])
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--open", type=int, default=1000, dest="open_records")
    parser.add_argument("--stored", type=int, default=200, dest="stored_records")
    parser.add_argument("--reminders", choices=["pending", "settled"], default="settled")
    parser.add_argument("--burst", type=int, default=0)
    parser.add_argument("--divisions", type=int, default=100)
    parser.add_argument(
        "--url", help="seed this empty database instead of the cache (e.g. PostgreSQL)"
    )
    parser.add_argument("--storage", type=Path, help="storage root for --url")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument(
        "--check",
        action="store_true",
        help="run ppidbot's integrity check on the archive with the clock at the seeded now",
    )
    args = parser.parse_args()
    spec = SeedSpec(
        args.open_records,
        args.stored_records,
        args.reminders,
        burst=args.burst,
        divisions=args.divisions,
    )
    if args.url:
        if args.storage is None:
            parser.error("--url needs --storage")
        summary = asyncio.run(seed(args.url, args.storage, spec))
        print(json.dumps(asdict(summary), indent=1))
        return
    archive = asyncio.run(cached_archive(spec, args.cache_dir))
    if args.check:
        print(asyncio.run(check_at_anchor(archive)))
    print(f"database {archive.database}")
    print(f"storage  {archive.storage}")
    print(f"rows     {archive.summary.rows}")
    print(f"states   {archive.summary.states}")


if __name__ == "__main__":
    main()
