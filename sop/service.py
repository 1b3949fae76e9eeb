"""The SOP as a service: every action checks role, state and the four-eyes rule, writes
its audit entry and the next step's due time in one transaction, and returns plain data."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
    Sequence,
)
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import img2pdf
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import AuditRow, InvitationRow, RecordFileRow, RecordRow, StepRunRow, UserRow
from db.repositories import Repository
from db.session import READ_ONLY
from db.texts import TextRepository
from sop.audit import ChainProblem, canonical_details, chain_entry, entry_hash, verify_chain
from sop.clock import Clock
from sop.deadlines import Calendar, WallClockCalendar
from sop.errors import (
    DiskFull,
    DuplicateDocument,
    FileRejected,
    FourEyesViolation,
    IntegrityFailure,
    InvalidInput,
    InvalidTransition,
    InvitationInvalid,
    NotFound,
    NotRegistered,
    PermissionDenied,
    SopError,
    StaleAction,
)
from sop.events import Event, log_committed
from sop.files import Purpose, discard_row, intent_row
from sop.four_eyes import FourEyes, receive_problem
from sop.model import (
    DUE_STEP,
    STATE_AFTER,
    STATE_FOR_STEP,
    STEP_ROLES,
    Actor,
    AuditEntry,
    Division,
    DurationUnit,
    ExemptionPeriod,
    FileView,
    Invitation,
    PeriodKind,
    RecordFields,
    RecordView,
    Role,
    State,
    Step,
    StepRunView,
    Task,
)
from sop.notices import NoticeKind, queue_notices
from sop.papers import CONSEQUENCE_TEST_FIELDS, missing_for_consequence_test
from sop.softcopy import softcopy_type
from sop.validation import (
    consequence_test_incomplete,
    validate_fields,
    validate_name,
    validate_reason,
    validate_text,
)
from storage import (
    Area,
    DocumentStorage,
    EmptyFile,
    FileTooLarge,
    StorageError,
    StorageFull,
    StoredFile,
    faults,
    slugify,
    storage_error,
)

log = logging.getLogger(__name__)

INVITATION_TTL = timedelta(hours=24)
_EVENTS = "ppidbot.audit_events"  # session.info key: the transaction's audit entries
PROVISIONAL_PREFIX = "BRK-"
REGISTER_PREFIX = "DIK"


Listener = Callable[[RecordView], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class StorageFullEvent:
    """A write failed because the disk (or quota) is full; nothing of it was kept."""

    actor: Actor
    record_id: int | None
    operation: str  # upload, merge, receive, move
    at: datetime


#: Told of a full disk; returns whether the admins know (alerted now or recently).
StorageFullListener = Callable[[StorageFullEvent], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an action changed, who should hear about it, and the notices (outbox rows,
    written in the action's transaction) that tell them."""

    record: RecordView
    notify: tuple[Actor, ...]
    notices: tuple[int, ...] = ()


def register_number(year: int, number: int) -> str:
    return f"{REGISTER_PREFIX}-{year}-{number:04d}"


def format_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB".replace(".", ",")
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} B"


class PpidService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        storage: DocumentStorage,
        *,
        clock: Clock,
        step_deadline: timedelta = timedelta(hours=1),
        calendar: Calendar | None = None,
        timezone: ZoneInfo | None = None,
        four_eyes: FourEyes = FourEyes.STRICT,
    ) -> None:
        self._sessions = sessions
        self.four_eyes = four_eyes
        self.storage = storage
        self.clock = clock
        self.step_deadline = step_deadline
        self.calendar: Calendar = calendar or WallClockCalendar()
        self.tz = timezone or ZoneInfo("Asia/Jakarta")
        self._listeners: list[Listener] = []
        self._storage_full_listeners: list[StorageFullListener] = []
        self._text_listeners: list[Callable[[], None]] = []

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener`` after every committed change of a record's step (a new draft,
        a step done, a return, a cancellation): the scheduler derives its jobs from it."""
        self._listeners.append(listener)

    async def emit(self, record: RecordView) -> None:
        for listener in self._listeners:
            try:
                await listener(record)
            except Exception:  # a listener never undoes a committed step
                log.exception("listener failed for record %s", record.id)

    # -- building blocks, shared with the sibling services (register, reminders, calendar,
    # expiry) so there is one transaction style, one audit chain and one set of listeners.
    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Repository]:
        """One database transaction; the repository never commits on its own. Once it
        has committed, its audit entries are echoed to the log (``sop.events``)."""
        async with self._sessions() as session:
            async with session.begin():
                yield Repository(session)
            log_committed(session.info.pop(_EVENTS, []))

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Repository]:
        """A transaction that only reads: on SQLite it does not take the write lock (a
        long list never keeps a step from being recorded). Nothing may be written in it."""
        async with self._sessions() as session, session.begin():
            await session.connection(execution_options=READ_ONLY)
            yield Repository(session)

    def now(self) -> datetime:
        now = self.clock.now()
        if now.tzinfo is None:
            raise ValueError("the clock returned a naive datetime")
        return now.astimezone(UTC)

    def today(self) -> date:
        return self.now().astimezone(self.tz).date()

    async def audit(
        self,
        repo: Repository,
        action: str,
        *,
        actor_id: int | None,
        record_id: int | None = None,
        details: dict[str, object] | None = None,
    ) -> None:
        # The actor's name as it is now: a later rename does not rewrite who did what.
        user = await repo.user(actor_id) if actor_id is not None else None
        actor_name = user.full_name if user is not None else None
        head = await repo.lock_audit_head()
        at = self.now()
        seq = head.last_seq + 1
        details_json = canonical_details(details or {})
        digest = entry_hash(
            head.last_hash, seq, at, actor_id, action, record_id, details_json, actor_name
        )
        row = AuditRow(
            seq=seq,
            at=at,
            actor_user_id=actor_id,
            actor_name=actor_name,
            action=action,
            record_id=record_id,
            details=details_json,
            prev_hash=head.last_hash,
            hash=digest,
        )
        await repo.append_audit(row, head)
        repo.session.info.setdefault(_EVENTS, []).append(
            Event(action, actor_id, actor_name, record_id, details or {})
        )

    async def actor_of(self, repo: Repository, user: UserRow) -> Actor:
        return _actor(user, await repo.roles_of(user.id))

    async def fresh_actor(self, repo: Repository, actor: Actor) -> Actor:
        """Re-read the actor inside the transaction: roles may have been revoked."""
        user = await repo.user(actor.user_id)
        if user is None or not user.active:
            raise NotRegistered()
        fresh = await self.actor_of(repo, user)
        if not fresh.roles:
            raise NotRegistered()
        return fresh

    def _due(self, start: datetime) -> datetime:
        return self.calendar.add(start, self.step_deadline)

    async def _close_run(
        self,
        repo: Repository,
        run: StepRunRow,
        now: datetime,
        by: int | None,
        outcome: str,
        *,
        reason: str | None = None,
    ) -> None:
        """Close a step run, keeping the working time it took by today's office calendar
        (``reason``: why it was returned)."""
        working = self.calendar.working_time_between(run.started_at, now)
        seconds = max(round(working.total_seconds()), 0)
        await repo.close_run(run.id, now, by, outcome, working_seconds=seconds, reason=reason)

    # -- people ------------------------------------------------------------------------
    async def actor_by_telegram(self, telegram_id: int) -> Actor | None:
        """The registered person behind a Telegram account, or None (no role, no access)."""
        async with self.transaction() as repo:
            user = await repo.user_by_telegram(telegram_id)
            if user is None or not user.active:
                return None
            actor = await self.actor_of(repo, user)
            return actor if actor.roles else None

    async def touch_user(
        self, telegram_id: int, telegram_name: str, username: str | None
    ) -> Actor | None:
        """Keep a known person's Telegram name and @username current. An official name
        (given by an admin) is never replaced; a name taken from Telegram follows it."""
        telegram_name = telegram_name[:200]
        async with self.transaction() as repo:
            user = await repo.user_by_telegram(telegram_id)
            if user is None:
                return None
            if user.telegram_name != telegram_name or user.username != username:
                user.telegram_name = telegram_name
                user.username = username
            if not user.name_official and telegram_name and user.full_name != telegram_name:
                user.full_name = telegram_name
            return await self.actor_of(repo, user)

    async def ensure_admins(self, telegram_ids: list[int]) -> None:
        """Make sure the bootstrap admins from the configuration exist and are admins."""
        async with self.transaction() as repo:
            for telegram_id in telegram_ids:
                user = await repo.user_by_telegram(telegram_id)
                if user is None:  # a placeholder name until they open the bot
                    user = await repo.add_user(
                        telegram_id, f"Admin {telegram_id}", None, self.now()
                    )
                if await repo.grant_role(user.id, Role.ADMIN, self.now(), None):
                    await self.audit(
                        repo,
                        "role.granted",
                        actor_id=None,
                        details={
                            "user": user.id,
                            "name": user.full_name,
                            "role": Role.ADMIN,
                            "by": "configuration",
                        },
                    )

    async def add_person(
        self,
        telegram_id: int,
        full_name: str,
        role: Role,
        *,
        division_id: int | None = None,
        by: Actor | None = None,
    ) -> Actor:
        """Register someone with a role (command line, or an admin); ``full_name`` becomes
        their official name, also for someone already known."""
        full_name = validate_name(full_name)
        async with self.transaction() as repo:
            if by is not None:
                by = await self.fresh_actor(repo, by)
                if not by.is_admin:
                    raise PermissionDenied("Hanya admin yang dapat menambah pengguna.")
            if role is Role.PETUGAS_PPID and division_id is None:
                raise InvalidInput("Petugas PPID harus punya bagian (divisi).")
            if division_id is not None and await repo.division(division_id) is None:
                raise InvalidInput("Bagian tidak dikenal.")
            user = await repo.user_by_telegram(telegram_id)
            if user is None:
                user = await repo.add_user(
                    telegram_id, full_name, None, self.now(), name_official=True
                )
            elif user.full_name != full_name or not user.name_official:
                await self.audit(
                    repo,
                    "user.renamed",
                    actor_id=by.user_id if by else None,
                    details={"user": user.id, "old": user.full_name, "new": full_name},
                )
                user.full_name = full_name
                user.name_official = True
            if division_id is not None:
                user.division_id = division_id
            user.active = True
            await repo.grant_role(user.id, role, self.now(), by.user_id if by else None)
            await self.audit(
                repo,
                "role.granted",
                actor_id=by.user_id if by else None,
                details={
                    "user": user.id,
                    "name": user.full_name,
                    "role": role,
                    "division": division_id,
                },
            )
            return await self.actor_of(repo, user)

    async def people(self, by: Actor | None = None) -> list[Actor]:
        """Everyone registered, with roles; admins only (None: the operator's CLI)."""
        async with self.transaction() as repo:
            if by is not None:
                by = await self.fresh_actor(repo, by)
                if not by.is_admin:
                    raise PermissionDenied("Hanya admin yang dapat melihat daftar pengguna.")
            roles = await repo.all_roles()
            return [_actor(user, roles.get(user.id, set())) for user in await repo.users()]

    async def revoke_role(self, user_id: int, role: Role, *, by: Actor | None = None) -> None:
        async with self.transaction() as repo:
            if by is not None:
                by = await self.fresh_actor(repo, by)
                if not by.is_admin:
                    raise PermissionDenied("Hanya admin yang dapat mencabut peran.")
            if role is Role.ADMIN and len(await repo.users_with_role(Role.ADMIN)) <= 1:
                roles = await repo.roles_of(user_id)
                if Role.ADMIN in roles:
                    raise InvalidInput("Admin terakhir tidak dapat dicabut.")
            if not await repo.revoke_role(user_id, role):
                raise NotFound("Pengguna tidak memiliki peran tersebut.")
            user = await repo.user(user_id)
            await self.audit(
                repo,
                "role.revoked",
                actor_id=by.user_id if by else None,
                details={"user": user_id, "name": user.full_name if user else None, "role": role},
            )

    async def create_invitation(
        self, by: Actor, role: Role, division_id: int | None = None, *, name: str | None = None
    ) -> Invitation:
        """A one-time code, valid 24 hours, that registers whoever opens it with ``role``
        (and ``name`` as their official name, when the admin gives one)."""
        name = validate_name(name) if name is not None else None
        async with self.transaction() as repo:
            by = await self.fresh_actor(repo, by)
            if not by.is_admin:
                raise PermissionDenied("Hanya admin yang dapat membuat undangan.")
            if role is Role.PETUGAS_PPID and division_id is None:
                raise InvalidInput("Pilih bagian untuk Petugas PPID.")
            if division_id is not None and await repo.division(division_id) is None:
                raise InvalidInput("Bagian tidak dikenal.")
            now = self.now()
            row = await repo.add_invitation(
                InvitationRow(
                    code=secrets.token_urlsafe(18),
                    role=role,
                    division_id=division_id,
                    created_by=by.user_id,
                    created_at=now,
                    expires_at=now + INVITATION_TTL,
                    name=name,
                )
            )
            await self.audit(
                repo,
                "invitation.created",
                actor_id=by.user_id,
                details={
                    "role": role,
                    "division": division_id,
                    "invitation": row.id,
                    "name": name,
                },
            )
            return Invitation(
                row.code, Role(row.role), row.division_id, row.expires_at, row.id, row.name
            )

    async def redeem_invitation(
        self, code: str, telegram_id: int, full_name: str, username: str | None
    ) -> tuple[Actor, Role]:
        """Register the person opening an invitation link; a code works exactly once."""
        if not code or len(code) > 64:
            raise InvitationInvalid()
        try:
            async with self.transaction() as repo:
                now = self.now()
                user = await repo.user_by_telegram(telegram_id)
                if user is None:
                    user = await repo.add_user(
                        telegram_id,
                        full_name[:200] or f"Pengguna {telegram_id}",
                        username,
                        now,
                        telegram_name=full_name[:200] or None,
                    )
                else:
                    user.telegram_name = full_name[:200] or user.telegram_name
                    user.username = username
                invitation = await repo.claim_invitation(code, user.id, now)
                if invitation is None:
                    raise InvitationInvalid()
                role = Role(invitation.role)
                if invitation.name:  # the admin's name for them is their official name
                    user.full_name = invitation.name
                    user.name_official = True
                if invitation.division_id is not None:
                    user.division_id = invitation.division_id
                user.active = True
                user.contacted_at = user.contacted_at or now  # they wrote to the bot
                await repo.grant_role(user.id, role, now, invitation.created_by)
                await self.audit(
                    repo,
                    "invitation.redeemed",
                    actor_id=user.id,
                    details={"invitation": invitation.id, "role": role},
                )
                return await self.actor_of(repo, user), role
        except IntegrityError as exc:  # the same person redeeming twice at once
            raise InvitationInvalid() from exc

    # -- divisions ---------------------------------------------------------------------
    async def divisions(self, *, include_inactive: bool = False) -> list[Division]:
        async with self.transaction() as repo:
            return [
                Division(row.id, row.name, row.slug, row.active)
                for row in await repo.divisions(include_inactive=include_inactive)
            ]

    async def add_division(self, name: str, *, by: Actor | None = None) -> Division:
        name = validate_text(name, label="Nama bagian", maximum=200)
        async with self.transaction() as repo:
            if by is not None:
                by = await self.fresh_actor(repo, by)
                if not by.is_admin:
                    raise PermissionDenied("Hanya admin yang dapat mengubah bagian.")
            if await repo.division_by_name(name):
                raise InvalidInput("Bagian dengan nama itu sudah ada.")
            row = await repo.add_division(name, slugify(name), self.now())
            await self.audit(
                repo,
                "division.added",
                actor_id=by.user_id if by else None,
                details={"division": row.id, "name": name},
            )
            return Division(row.id, row.name, row.slug, row.active)

    async def set_division_active(
        self, division_id: int, active: bool, *, by: Actor | None = None
    ) -> None:
        async with self.transaction() as repo:
            if by is not None:
                by = await self.fresh_actor(repo, by)
                if not by.is_admin:
                    raise PermissionDenied("Hanya admin yang dapat mengubah bagian.")
            row = await repo.division(division_id)
            if row is None:
                raise NotFound("Bagian tidak ditemukan.")
            row.active = active
            await self.audit(
                repo,
                "division.changed",
                actor_id=by.user_id if by else None,
                details={"division": division_id, "active": active},
            )

    # -- viewing -----------------------------------------------------------------------
    @staticmethod
    def can_view(actor: Actor, record: RecordRow | RecordView) -> bool:
        """Confidential by law: only people with a role in the record's path see it."""
        if not actor.active:
            return False
        if actor.roles & {Role.ADMIN, Role.PEJABAT_PPID, Role.PETUGAS_DOKUMENTASI}:
            return True
        created_by = record.created_by
        division_id = (
            record.division_id if isinstance(record, RecordRow) else record.fields.division_id
        )
        return actor.has(Role.PETUGAS_PPID) and (
            actor.division_id == division_id or actor.user_id == created_by
        )

    async def view(self, repo: Repository, row: RecordRow) -> RecordView:
        division = await repo.division(row.division_id)
        creator = await repo.user(row.created_by)
        runs = await repo.runs_of(row.id)
        # Runs finished before names were kept per run (none since): today's names.
        unnamed = {r.completed_by for r in runs if r.completed_by and not r.completed_by_name}
        names = await repo.user_names(sorted(unnamed))
        return record_view(
            row,
            runs=runs,
            division_name=division.name if division else "?",
            creator_name=creator.full_name if creator else "?",
            names=names,
            files=await repo.files_of(row.id),
        )

    async def staff(self, repo: Repository) -> list[Actor]:
        """Everyone active with a role, in one query: whom a step may wait on."""
        return [_actor(user, roles) for user, roles in await repo.staff()]

    @staticmethod
    def _run_view(run: StepRunRow, names: Mapping[int, str]) -> StepRunView:
        return StepRunView(
            step=Step(run.step),
            attempt=run.attempt,
            started_at=run.started_at,
            due_at=run.due_at,
            completed_at=run.completed_at,
            completed_by=run.completed_by,
            completed_by_name=(
                run.completed_by_name or names.get(run.completed_by, "?")
                if run.completed_by
                else None
            ),
            outcome=run.outcome,
            overdue_at=run.overdue_at,
            working=(
                timedelta(seconds=run.working_seconds) if run.working_seconds is not None else None
            ),
            reason=run.reason,
        )

    @staticmethod
    def parse_reference(reference: str) -> tuple[str, int | str]:
        """``DIK-2026-0001`` (register number), ``BRK-12``, ``#12`` or ``12`` (record id)."""
        text = reference.strip().upper()
        if text.startswith(REGISTER_PREFIX + "-"):
            return "number", text
        for prefix in (PROVISIONAL_PREFIX, "#"):
            if text.startswith(prefix):
                text = text[len(prefix) :]
        if text.isdigit() and len(text) < 10:
            return "id", int(text)
        raise InvalidInput("Nomor berkas tidak dikenali. Contoh: DIK-2026-0001 atau BRK-12.")

    async def load(
        self, repo: Repository, actor: Actor, record_id: int, *, lock: bool = False
    ) -> RecordRow:
        row = await repo.record(record_id, lock=lock)
        if row is None or not self.can_view(actor, row):
            raise NotFound()
        return row

    async def record(self, actor: Actor, reference: str | int) -> RecordView:
        """One record, for those allowed to see it (others learn nothing, not even existence)."""
        async with self.transaction() as repo:
            actor = await self.fresh_actor(repo, actor)
            if isinstance(reference, int):
                row = await repo.record(reference)
            else:
                kind, key = self.parse_reference(reference)
                row = (
                    await repo.record_by_number(str(key))
                    if kind == "number"
                    else await repo.record(int(key))
                )
            if row is None or not self.can_view(actor, row):
                raise NotFound()
            return await self.view(repo, row)

    async def audit_trail(self, actor: Actor, record_id: int) -> list[AuditEntry]:
        async with self.transaction() as repo:
            actor = await self.fresh_actor(repo, actor)
            await self.load(repo, actor, record_id)
            return [_audit_view(row) for row in await repo.audit_entries(record_id=record_id)]

    async def tasks(
        self, actor: Actor, *, step: Step | None = None, limit: int | None = None
    ) -> list[Task]:
        """What waits on ``actor`` (at ``step`` only, if given), soonest due first."""
        tasks, _total = await self.task_page(actor, step=step, limit=limit)
        return tasks

    async def task_page(
        self, actor: Actor, *, step: Step | None = None, limit: int | None = None
    ) -> tuple[list[Task], int]:
        """The first ``limit`` tasks of ``actor`` and how many there are in all: one
        range of an index each (``records.due_step``), whatever the archive's size."""
        async with self.reading() as repo:
            actor = await self.fresh_actor(repo, actor)
            scope = self._task_scope(actor, step)
            rows = await repo.task_rows(limit=limit, **scope)
            total = (
                len(rows) if limit is None or len(rows) < limit else await repo.task_count(**scope)
            )
            views = await self.list_views(repo, rows)
        now = self.now()
        tasks = []
        for view in views:
            run = view.current_run
            if run is None:  # moved on between the two reads: not waiting any more
                continue
            overdue = now > run.due_at
            tasks.append(
                Task(
                    view,
                    run.step,
                    run.due_at,
                    overdue,
                    late_working=(
                        self.calendar.working_time_between(run.due_at, now)
                        if overdue
                        else timedelta(0)
                    ),
                    late_wall=now - run.due_at if overdue else timedelta(0),
                )
            )
        return tasks, total

    def _task_scope(self, actor: Actor, step: Step | None) -> dict[str, object]:
        """``Repository.task_rows``' description of the steps that wait on ``actor`` (the
        same rule as ``may_act``, as a query)."""
        scope: dict[str, object] = {"step": int(step) if step is not None else None}
        if actor.has(STEP_ROLES[Step.PRODUCE]):
            scope["produce"] = (actor.division_id, actor.user_id)
        if actor.has(STEP_ROLES[Step.HANDOVER]):
            scope["handover"] = True
        if actor.has(STEP_ROLES[Step.RECEIVE]):
            scope["receive"] = (actor.user_id, self.four_eyes is FourEyes.STRICT)
        return scope

    async def list_views(self, repo: Repository, rows: Sequence[RecordRow]) -> list[RecordView]:
        """Views of a list's records (without their files) in a constant number of
        queries, whatever the list's length: the runs of all of them, the names and
        the divisions, each read once."""
        if not rows:
            return []
        runs: dict[int, list[StepRunRow]] = {row.id: [] for row in rows}
        for run in await repo.runs_of_records(list(runs)):
            runs[run.record_id].append(run)
        wanted = {row.created_by for row in rows} | {
            run.completed_by
            for record_runs in runs.values()
            for run in record_runs
            if run.completed_by and not run.completed_by_name
        }
        names = await repo.user_names(sorted(wanted))
        divisions = {d.id: d.name for d in await repo.divisions(include_inactive=True)}
        return [
            record_view(
                row,
                runs=runs[row.id],
                division_name=divisions.get(row.division_id, "?"),
                creator_name=names.get(row.created_by, "?"),
                names=names,
            )
            for row in rows
        ]

    def may_act(self, actor: Actor, record: RecordView) -> bool:
        """Whether ``actor`` is one of the people the due step waits on."""
        step = record.due_step
        if step is None or not actor.has(STEP_ROLES[step]):
            return False
        if step is Step.PRODUCE:
            return actor.division_id == record.fields.division_id or (
                actor.user_id == record.created_by
            )
        if step is Step.RECEIVE:
            return self._four_eyes_problem(actor, record) is None
        return True

    async def waiting_for_step(
        self, actor: Actor, step: Step, *, limit: int | None = None
    ) -> tuple[list[RecordView], int]:
        """Records whose ``step`` is due, for someone holding that step's role (the first
        ``limit``, soonest due first), and how many there are."""
        tasks, total = await self.task_page(actor, step=step, limit=limit)
        return [task.record for task in tasks], total

    async def responsible(self, record_id: int) -> list[Actor]:
        """The people the record's due step waits on (for notices and reminders)."""
        async with self.transaction() as repo:
            row = await repo.record(record_id)
            if row is None:
                return []
            return list(await self.responsible_in(repo, await self.view(repo, row)))

    async def responsible_in(self, repo: Repository, record: RecordView) -> tuple[Actor, ...]:
        """The people the record's due step waits on (its creator first), from the staff
        read in one query."""
        step = record.due_step
        if step is None:
            return ()
        people = [actor for actor in await self.staff(repo) if self.may_act(actor, record)]
        people.sort(key=lambda actor: (actor.user_id != record.created_by, actor.user_id))
        return tuple(people)

    async def _involved(self, repo: Repository, record: RecordView) -> tuple[Actor, ...]:
        """Everyone active with a role who completed a step of the record, and its
        creator (one query: the staff)."""
        ids = {record.created_by} | {r.completed_by for r in record.runs if r.completed_by}
        return tuple(actor for actor in await self.staff(repo) if actor.user_id in ids)

    # -- step 1: Petugas PPID ----------------------------------------------------------
    async def create_draft(
        self, actor: Actor, fields: RecordFields, *, origin_key: str | None = None
    ) -> RecordView:
        """Start a record in the actor's division; step 1's clock starts now.

        ``origin_key`` identifies the conversation that asks (one /baru): asked again with
        the same key (an answer repeated after a crash, an update delivered twice), the
        draft it created is returned and nothing new is made."""
        if origin_key is not None:
            made = await self.draft_of_origin(actor, origin_key)
            if made is not None:
                return made
        fields = validate_fields(fields, self.today())
        try:
            draft = await self._create_draft(actor, fields, origin_key)
        except IntegrityError:
            # The same conversation won a race for its key: what it made is the answer.
            made = await self.draft_of_origin(actor, origin_key) if origin_key else None
            if made is None:
                raise
            return made
        await self.emit(draft)
        return draft

    async def draft_of_origin(self, actor: Actor, origin_key: str) -> RecordView | None:
        """The record the conversation ``origin_key`` of ``actor`` created, if any."""
        async with self.transaction() as repo:
            actor = await self.fresh_actor(repo, actor)
            row = await repo.record_by_origin(origin_key)
            if row is None or row.created_by != actor.user_id:
                return None
            return await self.view(repo, row)

    async def _create_draft(
        self, actor: Actor, fields: RecordFields, origin_key: str | None
    ) -> RecordView:
        async with self.transaction() as repo:
            actor = await self.fresh_actor(repo, actor)
            if not actor.has(Role.PETUGAS_PPID):
                raise PermissionDenied("Hanya Petugas PPID yang dapat membuat berkas baru.")
            division = await repo.division(fields.division_id)
            if division is None or not division.active:
                raise InvalidInput("Bagian tidak dikenal.")
            now = self.now()
            row = await repo.add_record(
                RecordRow(
                    **_columns_of(fields),
                    state=State.DRAFT,
                    version=1,
                    created_by=actor.user_id,
                    created_at=now,
                    updated_at=now,
                    origin_key=origin_key,
                )
            )
            await repo.open_run(row.id, Step.PRODUCE, now, self._due(now))
            await self.audit(
                repo,
                "record.created",
                actor_id=actor.user_id,
                record_id=row.id,
                details={"title": fields.title, "division": fields.division_id},
            )
            return await self.view(repo, row)

    def _check_editor(
        self, actor: Actor, row: RecordRow, fields: Iterable[str] | None = None
    ) -> None:
        """Who may change a record's content: its division's Petugas PPID during step 1,
        the Petugas Dokumentasi during step 2 (correcting metadata), and during step 3 the
        Pejabat PPID who may receive it, only the consequence test's parts (``fields``)."""
        state = State(row.state)
        if (
            state is State.REGISTERED
            and fields is not None
            and set(fields) <= set(CONSEQUENCE_TEST_FIELDS)
            and actor.has(Role.PEJABAT_PPID)
        ):
            return
        if state is State.DRAFT:
            if not actor.has(Role.PETUGAS_PPID) or not (
                actor.division_id == row.division_id or actor.user_id == row.created_by
            ):
                raise PermissionDenied("Hanya Petugas PPID bagian ini yang dapat mengubah berkas.")
        elif state is State.SUBMITTED:
            if not actor.has(Role.PETUGAS_DOKUMENTASI):
                raise PermissionDenied(
                    "Pada langkah 2 hanya Petugas Dokumentasi yang dapat memperbaiki data."
                )
        else:
            raise InvalidTransition("Berkas yang sudah diserahkan tidak dapat diubah lagi.")

    async def update_fields(
        self,
        actor: Actor,
        record_id: int,
        changes: dict[str, object],
        *,
        expected_version: int | None = None,
    ) -> RecordView:
        """Correct metadata (step 1 by its author's division, step 2 by Dokumentasi).

        With ``expected_version``, a correction based on a record that changed meanwhile
        (another correction, a hand-over) is refused instead of overwriting it."""
        allowed = set(RecordFields.__slots__)  # type: ignore[attr-defined]
        unknown = set(changes) - allowed
        if unknown:
            raise InvalidInput(f"Kolom tidak dikenal: {', '.join(sorted(unknown))}")
        if "division_id" in changes:  # the files move with it, in steps of their own
            moved = await self._change_division(
                actor, record_id, changes["division_id"], expected_version
            )
            changes = {name: value for name, value in changes.items() if name != "division_id"}
            if not changes:
                return moved
            expected_version = moved.version if expected_version is not None else None
        async with self.transaction() as repo:
            actor = await self.fresh_actor(repo, actor)
            row = await self.load(repo, actor, record_id, lock=True)
            if expected_version is not None and row.version != expected_version:
                raise StaleAction(
                    "Berkas ini sudah diubah orang lain sejak Anda membukanya. Buka lagi "
                    "berkasnya untuk melihat data terbaru; tidak ada yang diubah."
                )
            self._check_editor(actor, row, changes)
            before = fields_of(row)
            fields = validate_fields(replace(before, **changes), self.today())  # type: ignore[arg-type]
            changed = await field_changes(repo, before, fields)
            for column, value in _columns_of(fields).items():
                setattr(row, column, value)
            row.updated_at = self.now()
            row.version += 1
            await self.audit(
                repo,
                "record.updated",
                actor_id=actor.user_id,
                record_id=row.id,
                details={"fields": sorted(changes), "changes": changed},
            )
            updated = await self.view(repo, row)
            # Those who acted on the record hear of a correction made by someone else.
            await queue_notices(
                repo,
                NoticeKind.CORRECTED,
                await self._involved(repo, updated),
                now=row.updated_at,
                record_id=row.id,
                actor=actor,
                params={
                    "version": updated.version,
                    "who": actor.full_name,
                    "fields": sorted(changes),
                },
            )
        await self.emit(updated)
        return updated

    async def _change_division(
        self, actor: Actor, record_id: int, division_id: object, expected_version: int | None
    ) -> RecordView:
        """Move a record (step 1 or 2) to another division, its softcopies with it.

        Crash-consistent and checksummed: each file is copied into the new division's
        storage (intents first, SHA-256 proven), the transaction that points the rows at the
        copies turns the old copies into discard intents, and they are removed after it.
        """
        if not isinstance(division_id, int) or isinstance(division_id, bool):
            raise InvalidInput("Bagian tidak dikenal.")
        async with self.transaction() as repo:
            actor = await self.fresh_actor(repo, actor)
            row = await self.load(repo, actor, record_id, lock=True)
            if expected_version is not None and row.version != expected_version:
                raise StaleAction(
                    "Berkas ini sudah diubah orang lain sejak Anda membukanya. Buka lagi "
                    "berkasnya untuk melihat data terbaru; tidak ada yang diubah."
                )
            self._check_editor(actor, row)
            if division_id == row.division_id:
                return await self.view(repo, row)
            target = await repo.division(division_id)
            if target is None or not target.active:
                raise InvalidInput("Bagian tidak dikenal.")
            seen_version = row.version
            files = list(await repo.files_in_area(record_id, Area.DIVISION))
            seen_files = [(f.id, f.path) for f in files]
            plans = [self.storage.plan_copy(f.path, Area.DIVISION, target.slug) for f in files]
            await repo.add_intents(
                [
                    intent_row(
                        planned,
                        Purpose.MOVE,
                        self.now(),
                        record_id=record_id,
                        user_id=actor.user_id,
                    )
                    for planned in plans
                ]
            )
        paths = [planned.path for planned in plans]
        try:
            for file, planned in zip(files, plans, strict=True):
                await self.storage.copy_to(file.path, planned, expected_sha256=file.sha256)
            await faults.reached("move.copied")
        except BaseException as exc:
            await self._drop_written(paths)
            if isinstance(exc, OSError):
                exc = storage_error(exc)
            if isinstance(exc, StorageFull):
                raise await self._disk_full(actor, record_id, "move") from exc
            if isinstance(exc, StorageError):
                async with self.transaction() as repo:
                    await self.audit(
                        repo,
                        "integrity.failed",
                        actor_id=actor.user_id,
                        record_id=record_id,
                        details={"error": str(exc), "while": "move"},
                    )
                raise IntegrityFailure(
                    "Bagian tidak diubah: softcopy tidak dapat dipindah (pemeriksaan checksum "
                    "gagal). Silakan coba lagi atau hubungi admin."
                ) from exc
            raise
        try:
            async with self.transaction() as repo:
                actor = await self.fresh_actor(repo, actor)
                row = await self.load(repo, actor, record_id, lock=True)
                current = [
                    (f.id, f.path) for f in await repo.files_in_area(record_id, Area.DIVISION)
                ]
                if row.version != seen_version or current != seen_files:
                    raise StaleAction()
                self._check_editor(actor, row)
                before = fields_of(row)
                now = self.now()
                row.division_id = division_id
                row.updated_at = now
                row.version += 1
                for file, planned in zip(files, plans, strict=True):
                    await repo.set_file_path(file.id, planned.path)
                    await self.audit(
                        repo,
                        "file.moved",
                        actor_id=actor.user_id,
                        record_id=record_id,
                        details={
                            "file": file.id,
                            "name": file.original_name,
                            "sha256": file.sha256,
                            "from": file.path,
                            "to": planned.path,
                        },
                    )
                await repo.delete_intents(paths)
                await repo.add_intents(
                    [discard_row(path, now, record_id=record_id) for _, path in seen_files]
                )
                await self.audit(
                    repo,
                    "record.updated",
                    actor_id=actor.user_id,
                    record_id=record_id,
                    details={
                        "fields": ["division_id"],
                        "changes": await field_changes(repo, before, fields_of(row)),
                        "files_moved": len(files),
                    },
                )
                moved = await self.view(repo, row)
        except BaseException as exc:
            await self._drop_written(paths)
            if isinstance(exc, DBAPIError) and _database_full(exc):
                raise await self._disk_full(actor, record_id, "move") from exc
            raise
        await faults.reached("move.committed")
        await self._drop_written([path for _, path in seen_files])
        return moved

    async def attach_file(
        self,
        actor: Actor,
        record_id: int,
        chunks: AsyncIterable[bytes],
        original_name: str,
        mime_type: str | None,
    ) -> FileView:
        """Stream a softcopy into the division's storage and attach it to a draft.

        Crash-consistent (see :mod:`sop.files`): the final path is committed as an intent
        before the download starts, and the row that records the file settles it. The
        content must match the type (:mod:`sop.softcopy`); the same content twice in one
        record is refused (in another record it is attached: each keeps its evidence).
        """
        kind = softcopy_type(original_name, mime_type)
        name = _printable_name(original_name)
        try:
            async with self.transaction() as repo:
                actor = await self.fresh_actor(repo, actor)
                row = await self.load(repo, actor, record_id, lock=True)
                if State(row.state) is not State.DRAFT:
                    raise InvalidTransition("Berkas hanya dapat dilampirkan pada langkah 1.")
                self._check_editor(actor, row)
                division = await repo.division(row.division_id)
                planned = self.storage.plan(
                    Area.DIVISION, division.slug if division else "lainnya", original_name
                )
                await repo.add_intents(
                    [
                        intent_row(
                            planned,
                            Purpose.UPLOAD,
                            self.now(),
                            record_id=record_id,
                            user_id=actor.user_id,
                            original_name=name,
                        )
                    ]
                )
        except DBAPIError as exc:
            if not _database_full(exc):
                raise
            raise await self._disk_full(actor, record_id, "upload", name) from exc
        await faults.reached("upload.intent")
        try:
            stored = await self.storage.write(planned, chunks, inspect=kind.inspector(name))
        except BaseException as exc:
            await self._forget_intents([planned.path])
            if isinstance(exc, StorageError):
                raise await self._file_refusal(exc, actor, record_id, "upload", name) from exc
            raise
        try:
            async with self.transaction() as repo:
                actor = await self.fresh_actor(repo, actor)
                row = await self.load(repo, actor, record_id, lock=True)
                if State(row.state) is not State.DRAFT:
                    raise StaleAction()
                for other in await repo.files_with_hash(stored.sha256, area=Area.DIVISION):
                    if other.record_id == record_id:
                        raise DuplicateDocument(
                            f"Dokumen yang sama persis ({other.original_name}) sudah "
                            "dilampirkan pada berkas ini; tidak disimpan dua kali."
                        )
                file_row = await repo.add_file(
                    _file_row(
                        record_id, stored, mime_type or kind.mime_type, actor.user_id, self.now()
                    )
                )
                await repo.delete_intents([planned.path])
                await self._queue_text(repo, stored.sha256)
                row.updated_at = self.now()
                await self.audit(
                    repo,
                    "file.stored",
                    actor_id=actor.user_id,
                    record_id=record_id,
                    details=_file_details(stored),
                )
                return _file_view(file_row)
        except BaseException as exc:
            await self.storage.delete(stored.path)
            await self._forget_intents([stored.path])
            if isinstance(exc, DBAPIError) and _database_full(exc):
                raise await self._disk_full(actor, record_id, "upload", name) from exc
            raise

    async def records_with_same_content(self, actor: Actor, file_id: int) -> list[str]:
        """The other records whose softcopies hold exactly the content of ``file_id``, as
        their numbers: only those ``actor`` may see (the others are not even hinted at)."""
        async with self.transaction() as repo:
            actor = await self.fresh_actor(repo, actor)
            file_row = await repo.file(file_id)
            if file_row is None:
                raise NotFound()
            await self.load(repo, actor, file_row.record_id)
            numbers: list[str] = []
            for other in await repo.files_with_hash(file_row.sha256, area=Area.DIVISION):
                if other.record_id == file_row.record_id:
                    continue
                owner = await repo.record(other.record_id)
                if owner is None or not self.can_view(actor, owner):
                    continue
                number = owner.register_number or f"{PROVISIONAL_PREFIX}{owner.id}"
                if number not in numbers:
                    numbers.append(number)
            return numbers

    def on_text_queued(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` once a stored softcopy's text is queued and committed (the
        text worker wakes up; :mod:`sop.document_text`)."""
        self._text_listeners.append(listener)

    async def _queue_text(self, repo: Repository, sha256: str) -> None:
        await TextRepository(repo.session).queue(sha256, self.now(), on_commit=self._text_listeners)

    def on_storage_full(self, listener: StorageFullListener) -> None:
        """Call ``listener`` whenever a write fails because the disk (or quota) is full; it
        returns whether the admins know (told now, or recently)."""
        self._storage_full_listeners.append(listener)

    async def _disk_full(
        self, actor: Actor, record_id: int | None, operation: str, name: str | None = None
    ) -> DiskFull:
        """Tell the listeners (the admins' alert), then the error for the person."""
        event = StorageFullEvent(actor, record_id, operation, self.now())
        told = False
        for listener in self._storage_full_listeners:
            try:
                told = await listener(event) or told
            except Exception:  # the person still gets the truth
                log.exception("storage-full listener failed")
        admins = "Admin sudah diberi tahu." if told else "Mohon beri tahu admin PPID."
        if operation == "receive":
            return DiskFull(
                "Berkas belum diterima: ruang penyimpanan server penuh, salinan tidak dibuat "
                f"dan berkas tetap di langkah 3. {admins} Coba lagi nanti."
            )
        if operation == "move":
            return DiskFull(
                "Bagian tidak diubah: ruang penyimpanan server penuh, softcopy tidak dipindah. "
                f"{admins} Coba lagi nanti."
            )
        if operation == "merge":
            return DiskFull(
                "Foto tidak digabung: ruang penyimpanan server penuh; foto tetap terlampir "
                f"terpisah. {admins} Coba lagi nanti."
            )
        return DiskFull(
            f"Softcopy {name or ''} TIDAK tersimpan: ruang penyimpanan server penuh. "
            f"{admins} Mohon kirim lagi nanti, setelah ruang dikosongkan."
        )

    async def _file_refusal(
        self,
        exc: StorageError,
        actor: Actor,
        record_id: int | None,
        operation: str,
        name: str | None = None,
    ) -> SopError:
        """The person's message for a write the storage refused; nothing was kept."""
        if isinstance(exc, StorageFull):
            return await self._disk_full(actor, record_id, operation, name)
        if isinstance(exc, FileTooLarge):
            return FileRejected(
                f"Berkas terlalu besar: batasnya {format_size(exc.limit)}. "
                "Perkecil atau bagi berkasnya, lalu kirim lagi."
            )
        if isinstance(exc, EmptyFile):
            return FileRejected("Berkas kosong (0 byte) tidak dapat disimpan.")
        log.error("storage failed while writing %r: %s", name, exc.message)
        return FileRejected("Penyimpanan gagal; berkas tidak disimpan. Silakan kirim lagi.")

    async def _forget_intents(self, paths: list[str]) -> None:
        """Settle the intents of writes that failed (their files are already removed). If
        even that fails (the database is down or full), reconciling does it later."""
        try:
            async with self.transaction() as repo:
                await repo.delete_intents(paths)
        except Exception:
            log.exception("could not settle the intents of %s; reconciling will", paths)

    async def remove_file(self, actor: Actor, record_id: int, file_id: int) -> None:
        """Detach a softcopy from a draft; the bytes are kept (nothing is ever lost)."""
        async with self.transaction() as repo:
            actor = await self.fresh_actor(repo, actor)
            row = await self.load(repo, actor, record_id, lock=True)
            if State(row.state) is not State.DRAFT:
                raise InvalidTransition("Lampiran hanya dapat dihapus pada langkah 1.")
            self._check_editor(actor, row)
            file_row = await repo.file(file_id)
            if file_row is None or file_row.record_id != record_id or file_row.removed_at:
                raise NotFound("Lampiran tidak ditemukan.")
            await repo.mark_file_removed(file_id, self.now())
            await self.audit(
                repo,
                "file.detached",
                actor_id=actor.user_id,
                record_id=record_id,
                details={
                    "file": file_id,
                    "name": file_row.original_name,
                    "sha256": file_row.sha256,
                },
            )

    async def read_file(self, actor: Actor, file_id: int) -> tuple[FileView, AsyncIterator[bytes]]:
        """A stored softcopy's bytes, for those allowed to see its record; logged."""
        async with self.transaction() as repo:
            actor = await self.fresh_actor(repo, actor)
            file_row = await repo.file(file_id)
            if file_row is None:
                raise NotFound()
            await self.load(repo, actor, file_row.record_id)
            await self.audit(
                repo,
                "file.read",
                actor_id=actor.user_id,
                record_id=file_row.record_id,
                details={
                    "file": file_id,
                    "name": file_row.original_name,
                    "sha256": file_row.sha256,
                },
            )
            view = _file_view(file_row)
        return view, self.storage.read_chunks(view.path)

    async def combine_photos(
        self, actor: Actor, record_id: int, file_ids: list[int], name: str
    ) -> FileView:
        """Join page photos of a draft into one PDF; the photos are detached (bytes kept).

        One audited merge ("which photos into which PDF"), crash-consistent like an upload.
        """
        async with self.transaction() as repo:
            actor = await self.fresh_actor(repo, actor)
            row = await self.load(repo, actor, record_id, lock=True)
            if State(row.state) is not State.DRAFT:
                raise InvalidTransition("Berkas hanya dapat diubah pada langkah 1.")
            self._check_editor(actor, row)
            photos = self._attached(await repo.files_of(record_id, area=Area.DIVISION), file_ids)
            division = await repo.division(row.division_id)
            planned = self.storage.plan(
                Area.DIVISION, division.slug if division else "lainnya", name
            )
            await repo.add_intents(
                [
                    intent_row(
                        planned,
                        Purpose.MERGE,
                        self.now(),
                        record_id=record_id,
                        user_id=actor.user_id,
                    )
                ]
            )
        try:
            pages = [await self.storage.read_bytes(photo.path) for photo in photos]
            try:
                pdf = await asyncio.to_thread(img2pdf.convert, pages)
            except Exception as exc:  # img2pdf refuses an image it cannot embed
                log.warning("combining %d photos of record %s failed", len(pages), record_id)
                raise FileRejected(
                    "Foto tidak dapat digabungkan menjadi PDF; foto tetap terlampir terpisah."
                ) from exc
            stored = await self.storage.write(
                planned, _single(pdf), inspect=softcopy_type(name, None).inspector(name)
            )
        except BaseException as exc:
            await self._forget_intents([planned.path])
            if isinstance(exc, StorageError):
                raise await self._file_refusal(exc, actor, record_id, "merge") from exc
            raise
        try:
            async with self.transaction() as repo:
                actor = await self.fresh_actor(repo, actor)
                row = await self.load(repo, actor, record_id, lock=True)
                if State(row.state) is not State.DRAFT:
                    raise StaleAction()
                photos = self._attached(
                    await repo.files_of(record_id, area=Area.DIVISION), file_ids
                )
                now = self.now()
                file_row = await repo.add_file(
                    _file_row(record_id, stored, "application/pdf", actor.user_id, now)
                )
                for photo in photos:
                    await repo.mark_file_removed(photo.id, now)
                await repo.delete_intents([planned.path])
                await self._queue_text(repo, stored.sha256)
                row.updated_at = now
                await self.audit(
                    repo,
                    "file.merged",
                    actor_id=actor.user_id,
                    record_id=record_id,
                    details={
                        **_file_details(stored),
                        "file": file_row.id,
                        "photos": [
                            {"file": p.id, "name": p.original_name, "sha256": p.sha256}
                            for p in photos
                        ],
                    },
                )
                return _file_view(file_row)
        except BaseException:
            await self.storage.delete(stored.path)
            await self._forget_intents([stored.path])
            raise

    @staticmethod
    def _attached(files: Sequence[RecordFileRow], file_ids: list[int]) -> list[RecordFileRow]:
        """The photos ``file_ids`` among a draft's attached files, in the given order."""
        by_id = {f.id: f for f in files}
        if (
            len(file_ids) < 2
            or len(set(file_ids)) != len(file_ids)
            or not set(file_ids) <= set(by_id)
        ):
            raise InvalidInput("Pilih minimal dua foto yang terlampir pada berkas ini.")
        return [by_id[file_id] for file_id in file_ids]

    async def complete_produce(
        self, actor: Actor, record_id: int, *, verified: bool, expected_version: int | None = None
    ) -> Outcome:
        """Step 1 done: the document exists, is stored and the data is up to date and verified."""
        if not verified:
            raise InvalidInput(
                "Syarat SOP: data harus sudah diperbarui dan terverifikasi sebelum diserahkan."
            )
        async with self.transaction() as repo:
            actor = await self.fresh_actor(repo, actor)
            row = await self.load(repo, actor, record_id, lock=True)
            view = await self.view(repo, row)
            self._check_step(actor, view, Step.PRODUCE, expected_version)
            if not await repo.files_of(record_id, area=Area.DIVISION):
                raise InvalidInput("Lampirkan minimal satu softcopy dokumen terlebih dahulu.")
            validate_fields(view.fields, self.today())
            outcome = await self._advance(repo, actor, view, Step.PRODUCE, {"verified": True})
        await self.emit(outcome.record)
        return outcome

    # -- step 2: Petugas Dokumentasi ---------------------------------------------------
    async def complete_handover(
        self, actor: Actor, record_id: int, *, expected_version: int | None = None
    ) -> Outcome:
        """Step 2 done: the softcopy is registered and handed over to the Pejabat PPID."""
        async with self.transaction() as repo:
            actor = await self.fresh_actor(repo, actor)
            row = await self.load(repo, actor, record_id, lock=True)
            view = await self.view(repo, row)
            self._check_step(actor, view, Step.HANDOVER, expected_version)
            outcome = await self._advance(repo, actor, view, Step.HANDOVER, {})
        await self.emit(outcome.record)
        return outcome

    # -- step 3: Pejabat PPID ----------------------------------------------------------
    async def complete_receive(
        self, actor: Actor, record_id: int, *, expected_version: int | None = None
    ) -> Outcome:
        """Step 3 done: copies into the PPID internal storage, proven by SHA-256, numbered.

        Crash-consistent: the copies' paths are committed as intents first and settled by
        the transaction that completes the step. A full disk leaves the record at step 3.
        """
        async with self.transaction() as repo:
            actor = await self.fresh_actor(repo, actor)
            row = await self.load(repo, actor, record_id, lock=True)
            view = await self.view(repo, row)
            self._check_step(actor, view, Step.RECEIVE, expected_version)
            missing = missing_for_consequence_test(view.fields)
            if missing:
                raise InvalidTransition(consequence_test_incomplete(missing))
            seen_version = view.version
            sources = list(await repo.files_of(record_id, area=Area.DIVISION))
            division = await repo.division(row.division_id)
            folder = division.slug if division else "lainnya"
            plans = [self.storage.plan_copy(f.path, Area.PPID, folder) for f in sources]
            now = self.now()
            await repo.add_intents(
                [
                    intent_row(
                        planned, Purpose.COPY, now, record_id=record_id, user_id=actor.user_id
                    )
                    for planned in plans
                ]
            )
        paths = [planned.path for planned in plans]
        copies: list[tuple[RecordFileRow, StoredFile]] = []
        try:
            for source, planned in zip(sources, plans, strict=True):
                stored = await self.storage.copy_to(
                    source.path, planned, expected_sha256=source.sha256
                )
                copies.append((source, stored))
            await faults.reached("receive.copied")
        except BaseException as exc:
            await self._drop_written(paths)
            if isinstance(exc, OSError):  # from a fault point or the filesystem itself
                exc = storage_error(exc)
            if isinstance(exc, StorageFull):
                raise await self._disk_full(actor, record_id, "receive") from exc
            if isinstance(exc, StorageError):
                async with self.transaction() as repo:
                    await self.audit(
                        repo,
                        "integrity.failed",
                        actor_id=actor.user_id,
                        record_id=record_id,
                        details={"error": str(exc)},
                    )
                raise IntegrityFailure() from exc
            raise
        try:
            async with self.transaction() as repo:
                actor = await self.fresh_actor(repo, actor)
                row = await self.load(repo, actor, record_id, lock=True)
                view = await self.view(repo, row)
                # Anything that happened while the files were copied makes this press stale.
                self._check_step(actor, view, Step.RECEIVE, seen_version)
                now = self.now()
                for source, stored in copies:
                    await repo.add_file(
                        _file_row(
                            record_id,
                            stored,
                            source.mime_type,
                            actor.user_id,
                            now,
                            source_file_id=source.id,
                            original_name=source.original_name,
                        )
                    )
                    await self.audit(
                        repo,
                        "file.stored",
                        actor_id=actor.user_id,
                        record_id=record_id,
                        details={
                            **_file_details(stored),
                            "name": source.original_name,
                            "verified_copy_of": source.id,
                        },
                    )
                await repo.delete_intents(paths)
                year = now.astimezone(self.tz).year
                number = register_number(year, await repo.next_register_number(year))
                outcome = await self._advance(
                    repo,
                    actor,
                    view,
                    Step.RECEIVE,
                    {"register_number": number, "files": len(copies)},
                    extra={"register_number": number},
                )
        except BaseException as exc:
            await self._drop_written(paths)
            if isinstance(exc, DBAPIError) and _database_full(exc):
                raise await self._disk_full(actor, record_id, "receive") from exc
            raise
        await self.emit(outcome.record)
        return outcome

    async def _drop_written(self, paths: list[str]) -> None:
        """Undo copies whose transaction did not commit: the files, then their intents."""
        for path in paths:
            await self.storage.delete(path)
        await self._forget_intents(paths)

    # -- returns and cancellation ------------------------------------------------------
    async def return_record(
        self,
        actor: Actor,
        record_id: int,
        to_step: Step,
        reason: str,
        *,
        expected_version: int | None = None,
    ) -> Outcome:
        """Send a record back to an earlier step with a reason; that step runs again."""
        reason = validate_reason(reason)
        async with self.transaction() as repo:
            actor = await self.fresh_actor(repo, actor)
            row = await self.load(repo, actor, record_id, lock=True)
            view = await self.view(repo, row)
            current = view.due_step
            if expected_version is not None and view.version != expected_version:
                raise StaleAction()
            if current is None:
                raise StaleAction("Berkas sudah selesai atau dibatalkan; tidak dapat dikembalikan.")
            if to_step >= current:
                raise InvalidTransition("Berkas hanya dapat dikembalikan ke langkah sebelumnya.")
            if current is Step.RECEIVE:
                if not actor.has(Role.PEJABAT_PPID):
                    raise PermissionDenied("Hanya Pejabat PPID yang dapat mengembalikan berkas.")
                problem = self._four_eyes_problem(actor, view)
                if problem is not None:
                    raise FourEyesViolation(problem)
            elif current is Step.HANDOVER:
                if not actor.roles & {Role.PEJABAT_PPID, Role.PETUGAS_DOKUMENTASI}:
                    raise PermissionDenied(
                        "Hanya Petugas Dokumentasi atau Pejabat PPID yang dapat "
                        "mengembalikan berkas."
                    )
            else:
                raise InvalidTransition("Berkas pada langkah 1 tidak dapat dikembalikan.")
            now = self.now()
            assert view.current_run is not None
            open_run = await repo.open_run_of(record_id)
            assert open_run is not None
            await self._close_run(repo, open_run, now, actor.user_id, "returned", reason=reason)
            if not await repo.compare_and_set(
                record_id,
                view.version,
                state=STATE_FOR_STEP[to_step],
                return_reason=reason,
                updated_at=now,
            ):
                raise StaleAction()
            await repo.open_run(record_id, to_step, now, self._due(now))
            await self.audit(
                repo,
                "record.returned",
                actor_id=actor.user_id,
                record_id=record_id,
                details={"from_step": int(current), "to_step": int(to_step), "reason": reason},
            )
            fresh = await self.view(repo, await self.load(repo, actor, record_id, lock=True))
            responsible = await self.responsible_in(repo, fresh)
            params = {
                "version": fresh.version,
                "who": actor.full_name,
                "reason": reason,
                "from_step": int(current),
                "to_step": int(to_step),
            }
            notices = await queue_notices(
                repo,
                NoticeKind.RETURNED,
                responsible,
                now=now,
                record_id=record_id,
                actor=actor,
                params=params,
            )
            # Everyone else who acted on the record hears of it too.
            told = {a.user_id for a in responsible}
            notices += await queue_notices(
                repo,
                NoticeKind.RETURN_INFO,
                [a for a in await self._involved(repo, fresh) if a.user_id not in told],
                now=now,
                record_id=record_id,
                actor=actor,
                params=params,
            )
            outcome = Outcome(fresh, responsible, notices)
        await self.emit(outcome.record)
        return outcome

    @staticmethod
    def check_cancel(actor: Actor, record: RecordView) -> None:
        """Refuse unless ``actor`` may withdraw ``record``: a draft that was never
        submitted, by a Petugas PPID who may act on it (its division's, or its creator) or
        an admin."""
        if record.state is not State.DRAFT or _ever_submitted(record):
            raise InvalidTransition(
                "Hanya draf yang belum pernah diserahkan yang dapat dibatalkan."
            )
        if actor.is_admin:
            return
        if not actor.has(Role.PETUGAS_PPID) or not (
            actor.division_id == record.fields.division_id or actor.user_id == record.created_by
        ):
            raise PermissionDenied(
                "Hanya Petugas PPID bagian ini atau admin yang dapat membatalkan draf."
            )

    @classmethod
    def may_cancel(cls, actor: Actor, record: RecordView) -> bool:
        """Whether ``actor`` may withdraw ``record`` (see ``check_cancel``)."""
        try:
            cls.check_cancel(actor, record)
        except SopError:
            return False
        return True

    async def cancel_draft(
        self,
        actor: Actor | None,
        record_id: int,
        reason: str,
        *,
        expected_version: int | None = None,
    ) -> Outcome:
        """Withdraw a draft that was never submitted: its step closes (no more reminders or
        escalations), it leaves the register; its files and audit trail stay. ``actor``
        None is the operator on the command line. ``notify``: the people the draft was
        waiting on and its creator."""
        reason = validate_reason(reason)
        async with self.transaction() as repo:
            if actor is not None:
                actor = await self.fresh_actor(repo, actor)
                row = await self.load(repo, actor, record_id, lock=True)
            else:
                found = await repo.record(record_id, lock=True)
                if found is None:
                    raise NotFound()
                row = found
            view = await self.view(repo, row)
            if expected_version is not None and view.version != expected_version:
                raise StaleAction()
            if actor is not None:
                self.check_cancel(actor, view)
            elif view.state is not State.DRAFT or _ever_submitted(view):
                raise InvalidTransition(
                    "Hanya draf yang belum pernah diserahkan yang dapat dibatalkan."
                )
            waiting = {a.user_id: a for a in await self.responsible_in(repo, view)}
            for person in await self._involved(repo, view):
                waiting.setdefault(person.user_id, person)
            now = self.now()
            by = actor.user_id if actor is not None else None
            open_run = await repo.open_run_of(record_id)
            if open_run is not None:
                await self._close_run(repo, open_run, now, by, "cancelled")
            if not await repo.compare_and_set(
                record_id, view.version, state=State.CANCELLED, return_reason=reason, updated_at=now
            ):
                raise StaleAction()
            details: dict[str, object] = {"reason": reason}
            if actor is None:
                details["by"] = "command line"
            await self.audit(
                repo, "record.cancelled", actor_id=by, record_id=record_id, details=details
            )
            fresh = await repo.record(record_id)
            assert fresh is not None
            cancelled = await self.view(repo, fresh)
            outcome = Outcome(cancelled, tuple(waiting.values()))
        await self.emit(cancelled)
        return outcome

    # -- the state machine's guard and move --------------------------------------------
    def _four_eyes_problem(self, actor: Actor, record: RecordView) -> str | None:
        """SOP "minimal 2 orang" at step 3 (sop.four_eyes): why ``actor`` may not receive."""
        return receive_problem(actor.user_id, record, self.four_eyes)

    def _check_step(
        self, actor: Actor, record: RecordView, step: Step, expected_version: int | None
    ) -> None:
        if expected_version is not None and record.version != expected_version:
            raise StaleAction()
        due = record.due_step
        if due is not step:
            if due is None or due > step:
                raise StaleAction()
            raise InvalidTransition(
                f"Langkah {int(step)} belum dapat dilakukan: langkah {int(due)} belum selesai."
            )
        role = STEP_ROLES[step]
        if not actor.has(role):
            raise PermissionDenied(_ROLE_REFUSALS[step])
        if step is Step.PRODUCE and not (
            actor.division_id == record.fields.division_id or actor.user_id == record.created_by
        ):
            raise PermissionDenied(
                "Hanya Petugas PPID bagian ini yang dapat menyelesaikan langkah 1."
            )
        if step is Step.RECEIVE:
            problem = self._four_eyes_problem(actor, record)
            if problem is not None:
                raise FourEyesViolation(problem)

    async def _advance(
        self,
        repo: Repository,
        actor: Actor,
        record: RecordView,
        step: Step,
        details: dict[str, object],
        *,
        extra: dict[str, object] | None = None,
    ) -> Outcome:
        now = self.now()
        open_run = await repo.open_run_of(record.id)
        if open_run is None or open_run.step != step:
            raise StaleAction()
        await self._close_run(repo, open_run, now, actor.user_id, "done")
        new_state = STATE_AFTER[step]
        if not await repo.compare_and_set(
            record.id,
            record.version,
            state=new_state,
            updated_at=now,
            return_reason=None,
            **(extra or {}),
        ):
            raise StaleAction()
        next_step = DUE_STEP[new_state]
        if next_step is not None:
            await repo.open_run(record.id, next_step, now, self._due(now))
        await self.audit(
            repo,
            f"step{int(step)}.done",
            actor_id=actor.user_id,
            record_id=record.id,
            details={"state": new_state, **details},
        )
        row = await repo.record(record.id)
        assert row is not None
        fresh = await self.view(repo, row)
        notify = (
            await self._involved(repo, fresh)
            if next_step is None
            else await self.responsible_in(repo, fresh)
        )
        notices = await queue_notices(
            repo,
            _NOTICE_AFTER[step],
            notify,
            now=now,
            record_id=record.id,
            actor=actor,
            params={"version": fresh.version, "who": actor.full_name, "step": int(step)},
        )
        return Outcome(fresh, notify, notices)

    # -- integrity ---------------------------------------------------------------------
    async def verify_audit_chain(self) -> list[ChainProblem]:
        async with self.transaction() as repo:
            head = await repo.audit_head()
            return verify_chain(
                (chain_entry(row) for row in await repo.audit_entries()),
                head_seq=head.last_seq if head else None,
                head_hash=head.last_hash if head else None,
            )


def _ever_submitted(record: RecordView) -> bool:
    """Whether step 1 of ``record`` was ever completed (a returned record was)."""
    return any(r.step is Step.PRODUCE and r.outcome == "done" for r in record.runs)


#: What the people after a step hear: the next step waits on them; step 3 is the package
#: with the accept and return buttons; a stored record is news for everyone involved.
_NOTICE_AFTER = {
    Step.PRODUCE: NoticeKind.NEXT_STEP,
    Step.HANDOVER: NoticeKind.RECEIVE,
    Step.RECEIVE: NoticeKind.STORED,
}

_ROLE_REFUSALS = {
    Step.PRODUCE: "Langkah 1 hanya dapat diselesaikan oleh Petugas PPID.",
    Step.HANDOVER: "Langkah 2 (penyerahan) hanya dapat dilakukan oleh Petugas Dokumentasi.",
    Step.RECEIVE: "Langkah 3 (penerimaan) hanya dapat dilakukan oleh Pejabat PPID.",
}


def _actor(user: UserRow, roles: set[str]) -> Actor:
    return Actor(
        user_id=user.id,
        telegram_id=user.telegram_id,
        full_name=user.full_name,
        username=user.username,
        roles=frozenset(Role(r) for r in roles),
        division_id=user.division_id,
        active=user.active,
        telegram_name=user.telegram_name,
    )


def record_view(
    row: RecordRow,
    *,
    runs: Sequence[StepRunRow],
    division_name: str,
    creator_name: str,
    names: Mapping[int, str],
    files: Sequence[RecordFileRow] = (),
) -> RecordView:
    """A record as plain data from rows already read (``names``: today's names of people
    whose runs do not keep one). Lists read the rows of a whole page at once."""
    run_views = tuple(PpidService._run_view(run, names) for run in runs)
    open_runs = [
        r for r, row_run in zip(run_views, runs, strict=True) if row_run.completed_at is None
    ]
    return RecordView(
        id=row.id,
        number=row.register_number or f"{PROVISIONAL_PREFIX}{row.id}",
        register_number=row.register_number,
        fields=fields_of(row),
        division_name=division_name,
        state=State(row.state),
        version=row.version,
        created_by=row.created_by,
        created_by_name=creator_name,
        created_at=row.created_at,
        updated_at=row.updated_at,
        return_reason=row.return_reason,
        current_run=open_runs[0] if open_runs else None,
        files=tuple(_file_view(f) for f in files),
        runs=run_views,
    )


def fields_of(row: RecordRow) -> RecordFields:
    return RecordFields(
        title=row.title,
        division_id=row.division_id,
        description=row.description,
        pasal17=tuple(letter for letter in row.pasal17.split(",") if letter),
        other_legal_basis=row.other_legal_basis,
        consequence=row.consequence,
        period=ExemptionPeriod(
            kind=PeriodKind(row.period_kind),
            until=row.period_until,
            amount=row.period_amount,
            unit=DurationUnit(row.period_unit) if row.period_unit else None,
            condition=row.period_condition,
        ),
        classified_by=row.classified_by,
        classified_place=row.classified_place,
        classified_date=row.classified_date,
        harm_if_opened=row.harm_if_opened,
        public_interest=row.public_interest,
        weighing=row.weighing,
        internal=row.internal,
    )


async def field_changes(
    repo: Repository, before: RecordFields, after: RecordFields
) -> dict[str, dict[str, object]]:
    """Each field that differs, with its old and new value as plain JSON (a division as
    its id and name, a period as its parts, a date as ISO text): what the audit keeps."""
    changes: dict[str, dict[str, object]] = {}
    for name in RecordFields.__slots__:  # type: ignore[attr-defined]
        old, new = getattr(before, name), getattr(after, name)
        if old == new:
            continue
        if name == "division_id":
            changes[name] = {
                "old": await _division_value(repo, old),
                "new": await _division_value(repo, new),
            }
        else:
            changes[name] = {"old": _plain(old), "new": _plain(new)}
    return changes


async def _division_value(repo: Repository, division_id: int) -> dict[str, object]:
    division = await repo.division(division_id)
    return {"id": division_id, "name": division.name if division else None}


def _plain(value: object) -> object:
    if isinstance(value, ExemptionPeriod):
        parts = {
            "kind": value.kind.value,
            "until": value.until,
            "amount": value.amount,
            "unit": value.unit.value if value.unit else None,
            "condition": value.condition,
        }
        return {key: _plain(part) for key, part in parts.items() if part is not None}
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def _columns_of(fields: RecordFields) -> dict[str, object]:
    period = fields.period
    return {
        "title": fields.title,
        "division_id": fields.division_id,
        "description": fields.description,
        "pasal17": ",".join(fields.pasal17),
        "other_legal_basis": fields.other_legal_basis,
        "consequence": fields.consequence,
        "period_kind": period.kind,
        "period_until": period.until if period.kind is PeriodKind.UNTIL_DATE else None,
        "period_amount": period.amount if period.kind is PeriodKind.DURATION else None,
        "period_unit": period.unit if period.kind is PeriodKind.DURATION else None,
        "period_condition": period.condition if period.kind is PeriodKind.CONDITION else None,
        "classified_by": fields.classified_by,
        "classified_place": fields.classified_place,
        "classified_date": fields.classified_date,
        "ends_on": period.end_date(fields.classified_date),
        "harm_if_opened": fields.harm_if_opened,
        "public_interest": fields.public_interest,
        "weighing": fields.weighing,
        "internal": fields.internal,
    }


def _file_row(
    record_id: int,
    stored: StoredFile,
    mime_type: str | None,
    user_id: int,
    at: datetime,
    *,
    source_file_id: int | None = None,
    original_name: str | None = None,
) -> RecordFileRow:
    return RecordFileRow(
        record_id=record_id,
        area=stored.area,
        path=stored.path,
        original_name=_printable_name(original_name or stored.original_name),
        mime_type=(mime_type or None) and mime_type[:128],
        size=stored.size,
        sha256=stored.sha256,
        source_file_id=source_file_id,
        uploaded_by=user_id,
        created_at=at,
    )


async def _single(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _database_full(exc: DBAPIError) -> bool:
    """Whether the database refused a write because its disk is full (SQLite's "database
    or disk is full", PostgreSQL's SQLSTATE 53100 disk_full)."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == "53100" or getattr(orig, "pgcode", None) == "53100":
        return True
    return "disk is full" in str(orig).lower() or "no space left" in str(orig).lower()


def _printable_name(name: str) -> str:
    """The user's file name as metadata: kept, minus what a database column cannot hold
    (NUL, control characters, lone surrogates)."""
    cleaned = "".join(ch for ch in name if ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF)
    return cleaned[:500] or "berkas"


def _file_details(stored: StoredFile) -> dict[str, object]:
    return {
        "path": stored.path,
        "area": stored.area,
        "sha256": stored.sha256,
        "size": stored.size,
        "name": _printable_name(stored.original_name),
    }


def _file_view(row: RecordFileRow) -> FileView:
    return FileView(
        id=row.id,
        area=row.area,
        path=row.path,
        original_name=row.original_name,
        mime_type=row.mime_type,
        size=row.size,
        sha256=row.sha256,
        uploaded_by=row.uploaded_by,
        created_at=row.created_at,
    )


def _audit_view(row: AuditRow) -> AuditEntry:
    import json

    return AuditEntry(
        seq=row.seq,
        at=row.at,
        actor_user_id=row.actor_user_id,
        actor_name=row.actor_name,
        action=row.action,
        record_id=row.record_id,
        details=json.loads(row.details),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )
