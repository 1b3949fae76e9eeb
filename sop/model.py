"""The SOP's vocabulary: roles, states, steps, exemption periods and plain views."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import IntEnum, StrEnum


class Role(StrEnum):
    PETUGAS_PPID = "petugas_ppid"
    PETUGAS_DOKUMENTASI = "petugas_dokumentasi"
    PEJABAT_PPID = "pejabat_ppid"
    ADMIN = "admin"


class State(StrEnum):
    """A record's place in the SOP; it moves only in this order (or back by a return)."""

    DRAFT = "draft"  # step 1 is due
    SUBMITTED = "submitted"  # step 1 done, step 2 due
    REGISTERED = "registered"  # step 2 done, step 3 due
    STORED = "stored"  # step 3 done
    CANCELLED = "cancelled"  # a draft withdrawn before it was ever submitted


class Step(IntEnum):
    PRODUCE = 1  # Petugas PPID: produce and store, verified
    HANDOVER = 2  # Petugas Dokumentasi: hand over and register the softcopy
    RECEIVE = 3  # Pejabat PPID: receive and store in the PPID internal storage


#: The SOP's actor per step (sop.md: our reading of the flowchart columns).
STEP_ROLES: dict[Step, Role] = {
    Step.PRODUCE: Role.PETUGAS_PPID,
    Step.HANDOVER: Role.PETUGAS_DOKUMENTASI,
    Step.RECEIVE: Role.PEJABAT_PPID,
}

#: The step that is due in each state.
DUE_STEP: dict[State, Step | None] = {
    State.DRAFT: Step.PRODUCE,
    State.SUBMITTED: Step.HANDOVER,
    State.REGISTERED: Step.RECEIVE,
    State.STORED: None,
    State.CANCELLED: None,
}

#: The state a record is in after a step is done, and the state that reopens a step.
STATE_AFTER: dict[Step, State] = {
    Step.PRODUCE: State.SUBMITTED,
    Step.HANDOVER: State.REGISTERED,
    Step.RECEIVE: State.STORED,
}
STATE_FOR_STEP: dict[Step, State] = {
    Step.PRODUCE: State.DRAFT,
    Step.HANDOVER: State.SUBMITTED,
    Step.RECEIVE: State.REGISTERED,
}

#: UU 14/2008 Pasal 17: the letters under which information may be exempted.
PASAL17: dict[str, str] = {
    "a": "menghambat proses penegakan hukum",
    "b": "mengganggu hak kekayaan intelektual dan persaingan usaha tidak sehat",
    "c": "membahayakan pertahanan dan keamanan negara",
    "d": "mengungkapkan kekayaan alam Indonesia",
    "e": "merugikan ketahanan ekonomi nasional",
    "f": "merugikan kepentingan hubungan luar negeri",
    "g": "mengungkapkan isi akta otentik yang bersifat pribadi dan wasiat",
    "h": "mengungkap rahasia pribadi",
    "i": "memorandum atau surat antar/intra badan publik yang dirahasiakan",
    "j": "informasi yang tidak boleh diungkapkan berdasarkan undang-undang",
}
#: Pasal 20: exemptions under these letters are not permanent.
TEMPORARY_LETTERS = frozenset("abcdef")


class PeriodKind(StrEnum):
    UNTIL_DATE = "until_date"
    DURATION = "duration"
    CONDITION = "condition"
    PERMANENT = "permanent"


class DurationUnit(StrEnum):
    DAYS = "hari"
    MONTHS = "bulan"
    YEARS = "tahun"


@dataclass(frozen=True, slots=True)
class ExemptionPeriod:
    kind: PeriodKind
    until: date | None = None
    amount: int | None = None
    unit: DurationUnit | None = None
    condition: str | None = None

    def end_date(self, classified: date) -> date | None:
        """The day the exemption ends, when it is a date or a duration."""
        if self.kind is PeriodKind.UNTIL_DATE:
            return self.until
        if self.kind is PeriodKind.DURATION and self.amount is not None:
            if self.unit is DurationUnit.DAYS:
                return classified + timedelta(days=self.amount)
            months = self.amount * (12 if self.unit is DurationUnit.YEARS else 1)
            return add_months(classified, months)
        return None


def add_months(start: date, months: int) -> date:
    """``start`` plus whole months, clamped to the end of a shorter month."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    for day in range(start.day, 27, -1):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    return date(year, month, min(start.day, 28))


@dataclass(frozen=True, slots=True)
class RecordFields:
    """What the law asks to be recorded about one piece of exempted information."""

    title: str
    division_id: int
    description: str
    pasal17: tuple[str, ...]
    other_legal_basis: str | None
    consequence: str
    period: ExemptionPeriod
    classified_by: str
    classified_place: str
    classified_date: date
    # The consequence test's parts that ``consequence`` (one short text, the DIK column)
    # does not spell out: PKPU 22/2023 Pasal 25 ayat (3) huruf b, d and e, Perki 1/2021
    # Pasal 49 ayat (2). Optional until step 3 requires them (see sop.papers).
    harm_if_opened: str | None = None  # the potential harm if the information is opened
    public_interest: str | None = None  # the public's interest in having it opened
    weighing: str | None = None  # the balance: why closing protects the greater interest
    #: The record itself is not listed in the public DIK (``ppidbot publish``).
    internal: bool = False


@dataclass(frozen=True, slots=True)
class Actor:
    """A registered person as the domain sees them."""

    user_id: int
    telegram_id: int
    full_name: str
    username: str | None
    roles: frozenset[Role]
    division_id: int | None
    active: bool = True
    telegram_name: str | None = None  # as last seen; ``full_name`` is the official name

    @property
    def other_telegram_name(self) -> str | None:
        """The Telegram name when it differs from the name shown, else None."""
        if self.telegram_name and self.telegram_name != self.full_name:
            return self.telegram_name
        return None

    def has(self, role: Role) -> bool:
        return self.active and role in self.roles

    @property
    def is_admin(self) -> bool:
        return self.has(Role.ADMIN)


@dataclass(frozen=True, slots=True)
class Division:
    id: int
    name: str
    slug: str
    active: bool


@dataclass(frozen=True, slots=True)
class FileView:
    id: int
    area: str
    path: str
    original_name: str
    mime_type: str | None
    size: int
    sha256: str
    uploaded_by: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StepRunView:
    step: Step
    attempt: int
    started_at: datetime
    due_at: datetime
    completed_at: datetime | None
    completed_by: int | None
    completed_by_name: str | None
    outcome: str | None
    overdue_at: datetime | None
    working: timedelta | None = None  # office working time it took, kept when it finished
    reason: str | None = None  # why the run was returned

    def lateness(self, now: datetime) -> timedelta:
        """How far past its due time the step finished (or is, while open); zero if on time."""
        end = self.completed_at or now
        return max(end - self.due_at, timedelta(0))


@dataclass(frozen=True, slots=True)
class RecordView:
    """A record as plain data, safe to hand to any layer."""

    id: int
    number: str  # register number once stored, else a provisional reference
    register_number: str | None
    fields: RecordFields
    division_name: str
    state: State
    version: int
    created_by: int
    created_by_name: str
    created_at: datetime
    updated_at: datetime
    return_reason: str | None
    current_run: StepRunView | None
    files: tuple[FileView, ...] = ()
    runs: tuple[StepRunView, ...] = ()

    @property
    def due_step(self) -> Step | None:
        return DUE_STEP[self.state]

    def completer(self, step: Step) -> int | None:
        """Who completed the latest successful run of ``step``."""
        done = [r for r in self.runs if r.step is step and r.outcome == "done"]
        return done[-1].completed_by if done else None


@dataclass(frozen=True, slots=True)
class Invitation:
    code: str
    role: Role
    division_id: int | None
    expires_at: datetime
    id: int = 0
    name: str | None = None  # the official name the admin gave, if any


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: datetime
    actor_user_id: int | None
    action: str
    record_id: int | None
    details: dict[str, object] = field(default_factory=dict)
    prev_hash: str = ""
    hash: str = ""
    actor_name: str | None = None  # as it was when they acted (None before revision 0005)


@dataclass(frozen=True, slots=True)
class Task:
    """One step waiting on someone."""

    record: RecordView
    step: Step
    due_at: datetime
    overdue: bool
    late_working: timedelta = timedelta(0)  # office time past the due time
    late_wall: timedelta = timedelta(0)  # wall-clock time past the due time
