"""Queries, one method each. Repositories never commit: the service owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    AuditHeadRow,
    AuditRow,
    DivisionRow,
    InvitationRow,
    KeyValueRow,
    RecordFileRow,
    RecordRow,
    RegisterCounterRow,
    StepRunRow,
    UserRoleRow,
    UserRow,
)


class Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- divisions ---------------------------------------------------------------------
    async def divisions(self, *, include_inactive: bool = False) -> Sequence[DivisionRow]:
        query = select(DivisionRow).order_by(DivisionRow.id)
        if not include_inactive:
            query = query.where(DivisionRow.active.is_(True))
        return (await self.session.scalars(query)).all()

    async def division(self, division_id: int) -> DivisionRow | None:
        return await self.session.get(DivisionRow, division_id)

    async def division_by_name(self, name: str) -> DivisionRow | None:
        query = select(DivisionRow).where(func.lower(DivisionRow.name) == name.lower())
        return await self.session.scalar(query)

    async def add_division(self, name: str, slug: str, at: datetime) -> DivisionRow:
        row = DivisionRow(name=name, slug=slug, active=True, created_at=at)
        self.session.add(row)
        await self.session.flush()
        return row

    # -- users and roles ---------------------------------------------------------------
    async def user(self, user_id: int) -> UserRow | None:
        return await self.session.get(UserRow, user_id)

    async def user_by_telegram(self, telegram_id: int) -> UserRow | None:
        return await self.session.scalar(select(UserRow).where(UserRow.telegram_id == telegram_id))

    async def add_user(
        self, telegram_id: int, full_name: str, username: str | None, at: datetime
    ) -> UserRow:
        row = UserRow(
            telegram_id=telegram_id, full_name=full_name, username=username, created_at=at
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def roles_of(self, user_id: int) -> set[str]:
        query = select(UserRoleRow.role).where(UserRoleRow.user_id == user_id)
        return set((await self.session.scalars(query)).all())

    async def grant_role(self, user_id: int, role: str, at: datetime, by: int | None) -> bool:
        """Grant ``role``; False if the user already had it."""
        if role in await self.roles_of(user_id):
            return False
        self.session.add(UserRoleRow(user_id=user_id, role=role, granted_at=at, granted_by=by))
        await self.session.flush()
        return True

    async def revoke_role(self, user_id: int, role: str) -> bool:
        result = await self.session.execute(
            delete(UserRoleRow).where(UserRoleRow.user_id == user_id, UserRoleRow.role == role)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def users_with_role(
        self, role: str, *, division_id: int | None = None
    ) -> Sequence[UserRow]:
        query = (
            select(UserRow)
            .join(UserRoleRow, UserRoleRow.user_id == UserRow.id)
            .where(UserRoleRow.role == role, UserRow.active.is_(True))
            .order_by(UserRow.id)
        )
        if division_id is not None:
            query = query.where(UserRow.division_id == division_id)
        return (await self.session.scalars(query)).all()

    async def users(self) -> Sequence[UserRow]:
        return (await self.session.scalars(select(UserRow).order_by(UserRow.id))).all()

    async def all_roles(self) -> dict[int, set[str]]:
        result: dict[int, set[str]] = {}
        for user_id, role in (
            await self.session.execute(select(UserRoleRow.user_id, UserRoleRow.role))
        ).all():
            result.setdefault(user_id, set()).add(role)
        return result

    # -- invitations -------------------------------------------------------------------
    async def add_invitation(self, row: InvitationRow) -> InvitationRow:
        self.session.add(row)
        await self.session.flush()
        return row

    async def claim_invitation(self, code: str, user_id: int, at: datetime) -> InvitationRow | None:
        """Mark an unused, unexpired invitation as used by ``user_id``; None if not claimable.

        A single conditional UPDATE, so two people opening the same link at once cannot
        both succeed.
        """
        result = await self.session.execute(
            update(InvitationRow)
            .where(
                InvitationRow.code == code,
                InvitationRow.used_at.is_(None),
                InvitationRow.expires_at > at,
            )
            .values(used_by=user_id, used_at=at)
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            return None
        return await self.session.scalar(select(InvitationRow).where(InvitationRow.code == code))

    async def invitation(self, code: str) -> InvitationRow | None:
        return await self.session.scalar(select(InvitationRow).where(InvitationRow.code == code))

    # -- records -----------------------------------------------------------------------
    async def add_record(self, row: RecordRow) -> RecordRow:
        self.session.add(row)
        await self.session.flush()
        return row

    async def record(self, record_id: int, *, lock: bool = False) -> RecordRow | None:
        """A record; ``lock`` takes its row lock first, so every change to one record
        queues behind the others in the same order (no deadlocks, no lost updates)."""
        return await self.session.get(
            RecordRow, record_id, populate_existing=True, with_for_update=lock or None
        )

    async def record_by_number(self, number: str) -> RecordRow | None:
        return await self.session.scalar(
            select(RecordRow).where(RecordRow.register_number == number)
        )

    async def compare_and_set(self, record_id: int, version: int, **values: object) -> bool:
        """Update a record only if nobody changed it since ``version`` was read.

        This is how two officials pressing at the same moment resolve: one UPDATE
        matches, the other finds a newer version and changes nothing.
        """
        result = await self.session.execute(
            update(RecordRow)
            .where(RecordRow.id == record_id, RecordRow.version == version)
            .values(version=RecordRow.version + 1, **values)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def records_in_states(
        self, states: Sequence[str], *, division_id: int | None = None
    ) -> Sequence[RecordRow]:
        query = select(RecordRow).where(RecordRow.state.in_(states)).order_by(RecordRow.id)
        if division_id is not None:
            query = query.where(RecordRow.division_id == division_id)
        return (await self.session.scalars(query)).all()

    async def records(
        self,
        *,
        division_id: int | None = None,
        states: Sequence[str] | None = None,
        text: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Sequence[RecordRow]:
        query = select(RecordRow).order_by(RecordRow.id.desc()).limit(limit).offset(offset)
        if division_id is not None:
            query = query.where(RecordRow.division_id == division_id)
        if states:
            query = query.where(RecordRow.state.in_(states))
        if text:
            pattern = f"%{text.lower()}%"
            query = query.where(
                or_(
                    func.lower(RecordRow.title).like(pattern),
                    func.lower(RecordRow.description).like(pattern),
                )
            )
        return (await self.session.scalars(query)).all()

    # -- files -------------------------------------------------------------------------
    async def add_file(self, row: RecordFileRow) -> RecordFileRow:
        self.session.add(row)
        await self.session.flush()
        return row

    async def files_of(self, record_id: int, *, area: str | None = None) -> Sequence[RecordFileRow]:
        query = (
            select(RecordFileRow)
            .where(RecordFileRow.record_id == record_id, RecordFileRow.removed_at.is_(None))
            .order_by(RecordFileRow.id)
        )
        if area is not None:
            query = query.where(RecordFileRow.area == area)
        return (await self.session.scalars(query)).all()

    async def file(self, file_id: int) -> RecordFileRow | None:
        return await self.session.get(RecordFileRow, file_id)

    async def files_with_hash(self, sha256: str, *, area: str) -> Sequence[RecordFileRow]:
        query = select(RecordFileRow).where(
            RecordFileRow.sha256 == sha256,
            RecordFileRow.area == area,
            RecordFileRow.removed_at.is_(None),
        )
        return (await self.session.scalars(query)).all()

    async def mark_file_removed(self, file_id: int, at: datetime) -> None:
        await self.session.execute(
            update(RecordFileRow).where(RecordFileRow.id == file_id).values(removed_at=at)
        )

    async def all_files(self) -> Sequence[RecordFileRow]:
        return (await self.session.scalars(select(RecordFileRow).order_by(RecordFileRow.id))).all()

    # -- step runs ---------------------------------------------------------------------
    async def open_run(
        self, record_id: int, step: int, started_at: datetime, due_at: datetime
    ) -> StepRunRow:
        attempts = await self.session.scalar(
            select(func.count())
            .select_from(StepRunRow)
            .where(StepRunRow.record_id == record_id, StepRunRow.step == step)
        )
        row = StepRunRow(
            record_id=record_id,
            step=step,
            attempt=(attempts or 0) + 1,
            started_at=started_at,
            due_at=due_at,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def open_run_of(self, record_id: int) -> StepRunRow | None:
        return await self.session.scalar(
            select(StepRunRow).where(
                StepRunRow.record_id == record_id, StepRunRow.completed_at.is_(None)
            )
        )

    async def close_run(self, run_id: int, at: datetime, by: int | None, outcome: str) -> None:
        await self.session.execute(
            update(StepRunRow)
            .where(StepRunRow.id == run_id)
            .values(completed_at=at, completed_by=by, outcome=outcome)
        )

    async def runs_of(self, record_id: int) -> Sequence[StepRunRow]:
        query = (
            select(StepRunRow)
            .where(StepRunRow.record_id == record_id)
            .order_by(StepRunRow.id)
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(query)).all()

    async def open_runs(self) -> Sequence[StepRunRow]:
        query = (
            select(StepRunRow).where(StepRunRow.completed_at.is_(None)).order_by(StepRunRow.due_at)
        )
        return (await self.session.scalars(query)).all()

    async def mark_overdue(self, run_id: int, at: datetime) -> bool:
        result = await self.session.execute(
            update(StepRunRow)
            .where(
                StepRunRow.id == run_id,
                StepRunRow.completed_at.is_(None),
                StepRunRow.overdue_at.is_(None),
            )
            .values(overdue_at=at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # -- audit -------------------------------------------------------------------------
    async def lock_audit_head(self) -> AuditHeadRow:
        """Lock the chain head for this transaction (row lock on PostgreSQL; SQLite's
        writes are already serialised by BEGIN IMMEDIATE)."""
        head = await self.session.scalar(
            select(AuditHeadRow)
            .where(AuditHeadRow.id == 1)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if head is None:
            raise RuntimeError("audit_head row missing: run `ppidbot db upgrade`")
        return head

    async def append_audit(self, row: AuditRow, head: AuditHeadRow) -> None:
        self.session.add(row)
        head.last_seq = row.seq
        head.last_hash = row.hash
        await self.session.flush()

    async def audit_entries(
        self, *, record_id: int | None = None, after_seq: int = 0, limit: int | None = None
    ) -> Sequence[AuditRow]:
        query = select(AuditRow).where(AuditRow.seq > after_seq).order_by(AuditRow.seq)
        if record_id is not None:
            query = query.where(AuditRow.record_id == record_id)
        if limit is not None:
            query = query.limit(limit)
        return (await self.session.scalars(query)).all()

    async def audit_head(self) -> AuditHeadRow | None:
        return await self.session.get(AuditHeadRow, 1, populate_existing=True)

    # -- register numbers --------------------------------------------------------------
    async def next_register_number(self, year: int) -> int:
        """Take the next number of ``year`` inside this transaction.

        The increment is done by the database (not read-modify-write in Python), and a
        rolled-back transaction gives its number back, so numbers stay gap-free.
        """
        exists = await self.session.scalar(
            select(RegisterCounterRow.year).where(RegisterCounterRow.year == year)
        )
        if exists is None:
            dialect = self.session.bind.dialect.name
            if dialect == "postgresql":
                from sqlalchemy.dialects.postgresql import insert as pg_insert

                await self.session.execute(
                    pg_insert(RegisterCounterRow)
                    .values(year=year, last_number=0)
                    .on_conflict_do_nothing()
                )
            elif dialect == "sqlite":
                from sqlalchemy.dialects.sqlite import insert as sqlite_insert

                await self.session.execute(
                    sqlite_insert(RegisterCounterRow)
                    .values(year=year, last_number=0)
                    .on_conflict_do_nothing()
                )
            else:
                await self.session.execute(
                    insert(RegisterCounterRow).values(year=year, last_number=0)
                )
        number = await self.session.scalar(
            update(RegisterCounterRow)
            .where(RegisterCounterRow.year == year)
            .values(last_number=RegisterCounterRow.last_number + 1)
            .returning(RegisterCounterRow.last_number)
        )
        assert number is not None
        return number

    # -- key/value (bot persistence) ---------------------------------------------------
    async def kv_all(self, namespace: str) -> Sequence[KeyValueRow]:
        return (
            await self.session.scalars(
                select(KeyValueRow).where(KeyValueRow.namespace == namespace)
            )
        ).all()

    async def kv_put(self, namespace: str, key: str, data: str, at: datetime) -> None:
        row = await self.session.get(KeyValueRow, (namespace, key))
        if row is None:
            self.session.add(KeyValueRow(namespace=namespace, key=key, data=data, updated_at=at))
        else:
            row.data = data
            row.updated_at = at
        await self.session.flush()

    async def kv_delete(self, namespace: str, key: str) -> None:
        await self.session.execute(
            delete(KeyValueRow).where(KeyValueRow.namespace == namespace, KeyValueRow.key == key)
        )
