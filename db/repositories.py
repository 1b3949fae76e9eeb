"""Queries, one method each. Repositories never commit: the service owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Integer,
    Table,
    and_,
    bindparam,
    column,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy import text as sql_text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.models import (
    AlbumItemRow,
    AuditHeadRow,
    AuditRow,
    DivisionRow,
    ExpiryNoticeRow,
    FileIntentRow,
    InvitationAttemptRow,
    InvitationRow,
    KeyValueRow,
    OfficeClosureRow,
    RecordFileRow,
    RecordRow,
    RegisterCounterRow,
    ReminderSentRow,
    StagedFileRow,
    StepRunRow,
    UserRoleRow,
    UserRow,
)
from db.texts import fts_query, pg_query, text_search_sql

#: The kv_store namespace of throttled alerts (when each was last sent).
ALERTS = "alerts"
#: How many values one ``IN`` list holds at most (PostgreSQL's limit is 32,767 parameters).
IN_CHUNK = 10_000
#: What /cari searches on PostgreSQL, exactly as migration 0017 indexes it (GIN): the
#: planner uses an expression index only for the same expression.
SEARCH_DOCUMENT = "to_tsvector('simple', records.title || ' ' || records.description)"


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
        self,
        telegram_id: int,
        full_name: str,
        username: str | None,
        at: datetime,
        *,
        name_official: bool = False,
        telegram_name: str | None = None,
    ) -> UserRow:
        row = UserRow(
            telegram_id=telegram_id,
            full_name=full_name,
            name_official=name_official,
            telegram_name=telegram_name,
            username=username,
            created_at=at,
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
                InvitationRow.revoked_at.is_(None),
                InvitationRow.expires_at > at,
            )
            .values(used_by=user_id, used_at=at)
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            return None
        return await self.session.scalar(select(InvitationRow).where(InvitationRow.code == code))

    async def invitation(self, code: str) -> InvitationRow | None:
        return await self.session.scalar(select(InvitationRow).where(InvitationRow.code == code))

    async def invitation_by_id(self, invitation_id: int) -> InvitationRow | None:
        return await self.session.get(InvitationRow, invitation_id, populate_existing=True)

    async def open_invitations(self, at: datetime) -> Sequence[InvitationRow]:
        """Unused, unrevoked invitations that have not expired at ``at``, soonest ending
        first (invitations live a day: the table stays small)."""
        query = (
            select(InvitationRow)
            .where(
                InvitationRow.used_at.is_(None),
                InvitationRow.revoked_at.is_(None),
                InvitationRow.expires_at > at,
            )
            .order_by(InvitationRow.expires_at, InvitationRow.id)
        )
        return (await self.session.scalars(query)).all()

    async def revoke_invitation(self, invitation_id: int, at: datetime, by: int | None) -> bool:
        """Revoke an open invitation; False if it was used, revoked or expired meanwhile."""
        result = await self.session.execute(
            update(InvitationRow)
            .where(
                InvitationRow.id == invitation_id,
                InvitationRow.used_at.is_(None),
                InvitationRow.revoked_at.is_(None),
                InvitationRow.expires_at > at,
            )
            .values(revoked_at=at, revoked_by=by)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def add_invitation_attempt(self, telegram_id: int, at: datetime) -> InvitationAttemptRow:
        row = InvitationAttemptRow(telegram_id=telegram_id, at=at, notified=False)
        self.session.add(row)
        await self.session.flush()
        return row

    async def invitation_attempts_since(
        self, telegram_id: int, since: datetime, *, limit: int
    ) -> Sequence[InvitationAttemptRow]:
        """The latest wrong-code attempts of one account after ``since``, newest first."""
        query = (
            select(InvitationAttemptRow)
            .where(InvitationAttemptRow.telegram_id == telegram_id, InvitationAttemptRow.at > since)
            .order_by(InvitationAttemptRow.at.desc(), InvitationAttemptRow.id.desc())
            .limit(limit)
        )
        return (await self.session.scalars(query)).all()

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

    async def record_by_origin(self, origin_key: str) -> RecordRow | None:
        """The record a /baru conversation created (unique index on the key)."""
        return await self.session.scalar(
            select(RecordRow).where(RecordRow.origin_key == origin_key)
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

    async def files_in_area(self, record_id: int, area: str) -> Sequence[RecordFileRow]:
        """Every file of a record in ``area``, detached ones included (they move along)."""
        query = (
            select(RecordFileRow)
            .where(RecordFileRow.record_id == record_id, RecordFileRow.area == area)
            .order_by(RecordFileRow.id)
        )
        return (await self.session.scalars(query)).all()

    async def set_file_path(self, file_id: int, path: str) -> None:
        await self.session.execute(
            update(RecordFileRow).where(RecordFileRow.id == file_id).values(path=path)
        )

    # -- file intents (crash-consistent writes) ----------------------------------------
    async def add_intents(self, rows: Sequence[FileIntentRow]) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    async def delete_intents(self, paths: Sequence[str]) -> None:
        """Settle the intents of ``paths`` (their files are recorded, or gone)."""
        if paths:
            await self.session.execute(
                delete(FileIntentRow).where(FileIntentRow.path.in_(list(paths)))
            )

    async def unsettled_intents(
        self, *, created_before: datetime | None = None
    ) -> Sequence[FileIntentRow]:
        """Intents not reconciled yet (not ``interrupted``), oldest first; with
        ``created_before`` only those older than that."""
        query = (
            select(FileIntentRow)
            .where(FileIntentRow.interrupted_at.is_(None))
            .order_by(FileIntentRow.id)
        )
        if created_before is not None:
            query = query.where(FileIntentRow.created_at < created_before)
        return (await self.session.scalars(query)).all()

    async def intent_paths(self, paths: Sequence[str]) -> set[str]:
        """Which of ``paths`` an unsettled intent names (a write in progress)."""
        if not paths:
            return set()
        query = select(FileIntentRow.path).where(
            FileIntentRow.path.in_(list(paths)), FileIntentRow.interrupted_at.is_(None)
        )
        return set((await self.session.scalars(query)).all())

    async def mark_intents_interrupted(self, intent_ids: Sequence[int], at: datetime) -> None:
        if intent_ids:
            await self.session.execute(
                update(FileIntentRow)
                .where(FileIntentRow.id.in_(list(intent_ids)))
                .values(interrupted_at=at)
            )

    async def delete_intents_by_id(self, intent_ids: Sequence[int]) -> None:
        if intent_ids:
            await self.session.execute(
                delete(FileIntentRow).where(FileIntentRow.id.in_(list(intent_ids)))
            )

    async def interrupted_intents(self) -> Sequence[FileIntentRow]:
        query = (
            select(FileIntentRow)
            .where(FileIntentRow.interrupted_at.is_not(None))
            .order_by(FileIntentRow.id)
        )
        return (await self.session.scalars(query)).all()

    # -- album items (one acknowledgement per album) -----------------------------------
    async def add_album_item(self, row: AlbumItemRow) -> None:
        self.session.add(row)
        await self.session.flush()

    async def album_items(self, chat_id: int, media_group_id: str) -> Sequence[AlbumItemRow]:
        query = (
            select(AlbumItemRow)
            .where(AlbumItemRow.chat_id == chat_id, AlbumItemRow.media_group_id == media_group_id)
            .order_by(AlbumItemRow.message_id)
        )
        return (await self.session.scalars(query)).all()

    async def delete_album_items(self, item_ids: Sequence[int]) -> None:
        if item_ids:
            await self.session.execute(
                delete(AlbumItemRow).where(AlbumItemRow.id.in_(list(item_ids)))
            )

    async def pending_albums(self) -> list[tuple[int, str]]:
        """Every (chat, media group) with items whose summary was not sent."""
        query = select(AlbumItemRow.chat_id, AlbumItemRow.media_group_id).distinct()
        return [(chat, group) for chat, group in (await self.session.execute(query)).all()]

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
            next_notice_at=started_at,  # looked at (its notices planned) at once
        )
        self.session.add(row)
        await self.session.flush()
        await self.session.execute(
            update(RecordRow)
            .where(RecordRow.id == record_id)
            .values(due_step=step, due_at=due_at)
            .execution_options(synchronize_session=False)
        )
        return row

    async def open_run_of(self, record_id: int) -> StepRunRow | None:
        return await self.session.scalar(
            select(StepRunRow).where(
                StepRunRow.record_id == record_id, StepRunRow.completed_at.is_(None)
            )
        )

    async def close_run(
        self,
        run_id: int,
        at: datetime,
        by: int | None,
        outcome: str,
        *,
        working_seconds: int,
        reason: str | None = None,
    ) -> None:
        """Finish a run (``reason``: why it was returned); the actor's name is kept as it
        is now (a later rename of the person does not rewrite who did it), and so is the
        working time it took (a later change of the office calendar does not rewrite it
        either)."""
        name = select(UserRow.full_name).where(UserRow.id == by).scalar_subquery()
        await self.session.execute(
            update(StepRunRow)
            .where(StepRunRow.id == run_id)
            .values(
                completed_at=at,
                completed_by=by,
                completed_by_name=name,
                outcome=outcome,
                working_seconds=working_seconds,
                reason=reason,
            )
        )
        await self.session.execute(
            update(RecordRow)
            .where(RecordRow.id == self._record_of_run(run_id))
            .values(due_step=None, due_at=None)
            .execution_options(synchronize_session=False)
        )

    @staticmethod
    def _record_of_run(run_id: int) -> Any:
        return select(StepRunRow.record_id).where(StepRunRow.id == run_id).scalar_subquery()

    async def runs_of(self, record_id: int) -> Sequence[StepRunRow]:
        query = (
            select(StepRunRow)
            .where(StepRunRow.record_id == record_id)
            .order_by(StepRunRow.id)
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(query)).all()

    async def open_run_count(self, step: int, *, division_id: int | None = None) -> int:
        """How many records wait on ``step`` (in ``division_id``'s records, if given)."""
        query = (
            select(func.count())
            .select_from(StepRunRow)
            .where(StepRunRow.completed_at.is_(None), StepRunRow.step == step)
        )
        if division_id is not None:
            query = query.join(RecordRow, RecordRow.id == StepRunRow.record_id).where(
                RecordRow.division_id == division_id
            )
        return int(await self.session.scalar(query) or 0)

    # -- tasks: what waits on one person (``records.due_step``, indexed) ----------------
    @staticmethod
    def _task_branches(
        *,
        produce: tuple[int | None, int] | None = None,
        handover: bool = False,
        receive: tuple[int, bool] | None = None,
        step: int | None = None,
    ) -> list[Any]:
        """The records whose open step waits on a person, as conditions each one range of
        an index (``records.due_step`` and the due time; their union is the answer).

        ``produce``: (division, user) of a Petugas PPID, whose step 1 is their division's
        records and their own; ``handover``: a Petugas Dokumentasi (every step 2);
        ``receive``: (user, strict) of a Pejabat PPID, every step 3 but those the
        four-eyes rule bars them from (``sop.four_eyes``): the latest hand-over was theirs,
        or, strict, they created the record or completed a step 1 of it. ``step``: only
        that step."""
        branches: list[Any] = []
        if produce is not None and step in (None, 1):
            division_id, user_id = produce
            if division_id is not None:
                branches.append(and_(RecordRow.due_step == 1, RecordRow.division_id == division_id))
            branches.append(and_(RecordRow.due_step == 1, RecordRow.created_by == user_id))
        if handover and step in (None, 2):
            branches.append(RecordRow.due_step == 2)
        if receive is not None and step in (None, 3):
            user_id, strict = receive
            done = aliased(StepRunRow)
            later = aliased(StepRunRow)
            latest_handover = and_(
                done.step == 2,
                ~exists().where(
                    later.record_id == done.record_id,
                    later.step == 2,
                    later.outcome == "done",
                    later.id > done.id,
                ),
            )
            barred = select(done.record_id).where(
                done.completed_by == user_id,
                done.outcome == "done",
                or_(done.step == 1, latest_handover) if strict else latest_handover,
            )
            conditions = [RecordRow.due_step == 3, RecordRow.id.not_in(barred)]
            if strict:
                conditions.append(RecordRow.created_by != user_id)
            branches.append(and_(*conditions))
        return branches

    async def task_rows(self, *, limit: int | None = None, **scope: Any) -> Sequence[RecordRow]:
        """The records waiting on a person (``_task_branches``), soonest due first: the
        first ``limit`` of each branch in its index's order, then the first ``limit`` of
        those (an OR of the branches would be sorted whole)."""
        branches = self._task_branches(**scope)
        if not branches:
            return ()
        order = (RecordRow.due_at, RecordRow.id)
        if limit is None or len(branches) == 1:
            query = select(RecordRow).where(or_(*branches)).order_by(*order).limit(limit)
        else:
            firsts = [
                select(RecordRow.id).where(branch).order_by(*order).limit(limit).subquery()
                for branch in branches
            ]
            ids = union_all(*(select(first.c.id) for first in firsts))
            query = select(RecordRow).where(RecordRow.id.in_(ids)).order_by(*order).limit(limit)
        return (await self.session.scalars(query)).all()

    async def task_count(self, **scope: Any) -> int:
        """How many records wait on a person: the sum over the branches, less the records
        of a Petugas PPID's division they created themselves (counted twice)."""
        branches = self._task_branches(**scope)
        total = 0
        for branch in branches:
            query = select(func.count()).select_from(RecordRow).where(branch)
            total += int(await self.session.scalar(query) or 0)
        produce = scope.get("produce")
        if produce is not None and produce[0] is not None and scope.get("step") in (None, 1):
            division_id, user_id = produce
            both = (
                select(func.count())
                .select_from(RecordRow)
                .where(
                    RecordRow.due_step == 1,
                    RecordRow.division_id == division_id,
                    RecordRow.created_by == user_id,
                )
            )
            total -= int(await self.session.scalar(both) or 0)
        return total

    async def open_runs(self) -> Sequence[StepRunRow]:
        query = (
            select(StepRunRow).where(StepRunRow.completed_at.is_(None)).order_by(StepRunRow.due_at)
        )
        return (await self.session.scalars(query)).all()

    async def overdue_step_count(self, now: datetime) -> int:
        """Open steps past their due time (``ix_step_runs_open``: open runs only)."""
        query = (
            select(func.count())
            .select_from(StepRunRow)
            .where(StepRunRow.completed_at.is_(None), StepRunRow.due_at < now)
        )
        return int(await self.session.scalar(query) or 0)

    async def undelivered_notice_count(self) -> int:
        """Reminders and escalations of open steps claimed but not yet confirmed sent (what
        a restart would still send): read through the open runs (``ix_step_runs_open``)
        and each run's notices (the unique key starts with ``run_id``)."""
        query = (
            select(func.count())
            .select_from(ReminderSentRow)
            .join(StepRunRow, StepRunRow.id == ReminderSentRow.run_id)
            .where(StepRunRow.completed_at.is_(None), ReminderSentRow.delivered_at.is_(None))
        )
        return int(await self.session.scalar(query) or 0)

    async def runs_to_look_at(
        self, now: datetime, limit: int, after: tuple[datetime, int] | None = None
    ) -> Sequence[StepRunRow]:
        """Open runs whose next notice is due at ``now``, soonest first, at most ``limit``,
        from just after ``after`` (a page's last (next_notice_at, id)); by the index."""
        query = select(StepRunRow).where(
            StepRunRow.completed_at.is_(None), StepRunRow.next_notice_at <= now
        )
        if after is not None:
            at, run_id = after
            query = query.where(
                or_(
                    StepRunRow.next_notice_at > at,
                    (StepRunRow.next_notice_at == at) & (StepRunRow.id > run_id),
                )
            )
        query = query.order_by(StepRunRow.next_notice_at, StepRunRow.id).limit(limit)
        return (await self.session.scalars(query)).all()

    async def next_notice_at(self) -> datetime | None:
        """The earliest next notice of any open run (the index's first entry)."""
        query = (
            select(StepRunRow.next_notice_at)
            .where(StepRunRow.completed_at.is_(None), StepRunRow.next_notice_at.is_not(None))
            .order_by(StepRunRow.next_notice_at)
            .limit(1)
        )
        return await self.session.scalar(query)

    async def set_next_notices(
        self, moves: Sequence[tuple[int, datetime | None, datetime | None]]
    ) -> None:
        """Move runs' next notice: (run id, the value read, the new one). A run whose
        value changed meanwhile (its due time moved, another instance looked) is left."""
        runs = StepRunRow.__table__
        assert isinstance(runs, Table)
        change = runs.update().values(next_notice_at=bindparam("new"))
        known = [{"rid": r, "seen": seen, "new": new} for r, seen, new in moves if seen is not None]
        unset = [{"rid": r, "new": new} for r, seen, new in moves if seen is None]
        if known:
            await self.session.execute(
                change.where(
                    runs.c.id == bindparam("rid"), runs.c.next_notice_at == bindparam("seen")
                ),
                known,
            )
        if unset:
            await self.session.execute(
                change.where(runs.c.id == bindparam("rid"), runs.c.next_notice_at.is_(None)),
                unset,
            )

    async def plan_open_runs_again(self) -> int:
        """Every open run is looked at again (the reminder settings changed)."""
        result = await self.session.execute(
            update(StepRunRow)
            .where(StepRunRow.completed_at.is_(None))
            .values(next_notice_at=StepRunRow.started_at)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

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
            dialect = self.session.get_bind().dialect.name
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

    async def kv_get(self, namespace: str, key: str) -> KeyValueRow | None:
        return await self.session.get(KeyValueRow, (namespace, key))

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

    async def claim_alert(self, key: str, at: datetime, every: timedelta) -> bool:
        """Claim the right to send the alert ``key`` now: True at most once per ``every``
        (a conditional UPDATE, or the first INSERT: two claims at once cannot both win)."""
        renewed = await self.session.execute(
            update(KeyValueRow)
            .where(
                KeyValueRow.namespace == ALERTS,
                KeyValueRow.key == key,
                KeyValueRow.updated_at <= at - every,
            )
            .values(updated_at=at)
        )
        if renewed.rowcount:  # type: ignore[attr-defined]
            return True
        if self.session.get_bind().dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert  # type: ignore[assignment]
        statement = (
            dialect_insert(KeyValueRow)
            .values(namespace=ALERTS, key=key, data="{}", updated_at=at)
            .on_conflict_do_nothing(index_elements=["namespace", "key"])
        )
        return bool((await self.session.execute(statement)).rowcount)  # type: ignore[attr-defined]

    # -- integrity checks and export/import (the operator's tools) ---------------------
    async def record_numbers(self) -> dict[int, str | None]:
        """Every record's id and register number (None until stored)."""
        rows = await self.session.execute(select(RecordRow.id, RecordRow.register_number))
        return {record_id: number for record_id, number in rows.all()}

    async def known_file_paths(self, paths: Sequence[str]) -> set[str]:
        """Which of ``paths`` some record_files row (removed or not) or a staged softcopy
        (sent before its record was started) refers to."""
        if not paths:
            return set()
        wanted = list(paths)
        query = select(RecordFileRow.path).where(RecordFileRow.path.in_(wanted))
        staged = select(StagedFileRow.path).where(StagedFileRow.path.in_(wanted))
        return set((await self.session.scalars(query.union(staged))).all())

    # -- staged softcopies (sent before /baru) -------------------------------------------
    async def add_staged(self, row: StagedFileRow) -> StagedFileRow:
        self.session.add(row)
        await self.session.flush()
        return row

    async def staged(self, staged_ids: Sequence[int], user_id: int) -> list[StagedFileRow]:
        """The person's staged softcopies among ``staged_ids``, in id order."""
        if not staged_ids:
            return []
        query = (
            select(StagedFileRow)
            .where(StagedFileRow.id.in_(list(staged_ids)), StagedFileRow.user_id == user_id)
            .order_by(StagedFileRow.id)
        )
        return list((await self.session.scalars(query)).all())

    async def delete_staged(self, staged_ids: Sequence[int]) -> None:
        if staged_ids:
            await self.session.execute(
                delete(StagedFileRow).where(StagedFileRow.id.in_(list(staged_ids)))
            )

    async def use_snapshot(self) -> None:
        """Read everything of this transaction from one snapshot (PostgreSQL; SQLite's
        BEGIN IMMEDIATE already keeps writers out). Call first in the transaction."""
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})

    async def database_tables(self) -> set[str]:
        """The names of the tables that exist in the database (not the models)."""
        from sqlalchemy import inspect

        def _names(sync_session: Any) -> set[str]:
            return set(inspect(sync_session.connection()).get_table_names())

        return await self.session.run_sync(_names)

    async def schema_revision(self) -> str | None:
        """The alembic revision the database is at (None: never migrated)."""
        from alembic.runtime.migration import MigrationContext

        def _revision(sync_session: Any) -> str | None:
            return MigrationContext.configure(sync_session.connection()).get_current_revision()

        return await self.session.run_sync(_revision)

    async def table_rows(self, table: Table) -> list[dict[str, Any]]:
        """Every row of ``table`` as a dict of column name to value, in primary-key order."""
        query = select(table).order_by(*table.primary_key.columns)
        return [dict(row) for row in (await self.session.execute(query)).mappings()]

    async def row_count(self, table: Table) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(table)) or 0)

    async def delete_all_rows(self, table: Table) -> None:
        await self.session.execute(delete(table))

    async def insert_rows(self, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        """Insert ``rows`` as given, primary keys included."""
        if rows:
            await self.session.execute(insert(table), list(rows))

    async def reset_sequences(self, tables: Sequence[Table]) -> None:
        """After inserting rows with explicit ids, move PostgreSQL's serial sequences past
        them so the next insert does not collide (SQLite needs nothing)."""
        if self.session.get_bind().dialect.name != "postgresql":
            return
        for table in tables:
            column = table.autoincrement_column
            if column is None:
                continue
            sequence = await self.session.scalar(
                select(func.pg_get_serial_sequence(table.name, column.name))
            )
            if not sequence:
                continue
            highest = await self.session.scalar(select(func.max(column)))
            await self.session.execute(select(func.setval(sequence, (highest or 0) + 1, False)))

    # -- reminders and escalations -----------------------------------------------------
    async def run(self, run_id: int, *, lock: bool = False) -> StepRunRow | None:
        return await self.session.get(
            StepRunRow, run_id, populate_existing=True, with_for_update=lock or None
        )

    async def reminders_sent_for(self, run_ids: Sequence[int]) -> Sequence[ReminderSentRow]:
        """The notices claimed for ``run_ids``, by id; asked for ``IN_CHUNK`` runs at a
        time (PostgreSQL refuses more than 32,767 parameters in one statement)."""
        found: list[ReminderSentRow] = []
        for start in range(0, len(run_ids), IN_CHUNK):
            query = select(ReminderSentRow).where(
                ReminderSentRow.run_id.in_(list(run_ids[start : start + IN_CHUNK]))
            )
            found.extend((await self.session.scalars(query)).all())
        found.sort(key=lambda row: row.id)
        return found

    async def reminder_sent(
        self, run_id: int, kind: str, offset_seconds: int
    ) -> ReminderSentRow | None:
        return await self.session.scalar(
            select(ReminderSentRow).where(
                ReminderSentRow.run_id == run_id,
                ReminderSentRow.kind == kind,
                ReminderSentRow.offset_seconds == offset_seconds,
            )
        )

    async def add_reminder_sent(self, row: ReminderSentRow) -> ReminderSentRow:
        """Insert a claim; a second claim of the same notice fails on the unique key."""
        self.session.add(row)
        await self.session.flush()
        return row

    async def mark_reminder_delivered(
        self, reminder_id: int, at: datetime, recipients: int, *, late: bool | None = None
    ) -> None:
        values: dict[str, object] = {"delivered_at": at, "recipients": recipients}
        if late is not None:
            values["late"] = late
        await self.session.execute(
            update(ReminderSentRow).where(ReminderSentRow.id == reminder_id).values(**values)
        )

    async def undelivered_reminders(self) -> Sequence[ReminderSentRow]:
        """Claims whose sending never finished (the process stopped in between)."""
        query = (
            select(ReminderSentRow)
            .where(ReminderSentRow.delivered_at.is_(None))
            .order_by(ReminderSentRow.id)
        )
        return (await self.session.scalars(query)).all()

    # -- office calendar ---------------------------------------------------------------
    async def closures(self) -> Sequence[OfficeClosureRow]:
        """Every office closure, earliest first."""
        query = select(OfficeClosureRow).order_by(OfficeClosureRow.day)
        return (await self.session.scalars(query)).all()

    async def closure(self, day: date) -> OfficeClosureRow | None:
        query = select(OfficeClosureRow).where(OfficeClosureRow.day == day)
        return await self.session.scalar(query)

    async def add_closure(self, row: OfficeClosureRow) -> OfficeClosureRow:
        self.session.add(row)
        await self.session.flush()
        return row

    async def delete_closure(self, day: date) -> bool:
        result = await self.session.execute(
            delete(OfficeClosureRow).where(OfficeClosureRow.day == day)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def set_due(self, run_id: int, due_at: datetime) -> None:
        """Move an open step run's due time (the office calendar changed)."""
        moved = await self.session.execute(
            update(StepRunRow)
            .where(StepRunRow.id == run_id, StepRunRow.completed_at.is_(None))
            .values(due_at=due_at, next_notice_at=StepRunRow.started_at)  # planned again
        )
        if not moved.rowcount:  # type: ignore[attr-defined]
            return
        await self.session.execute(
            update(RecordRow)
            .where(RecordRow.id == self._record_of_run(run_id))
            .values(due_at=due_at)
            .execution_options(synchronize_session=False)
        )

    # -- the register (DIK) and exemption expiry ---------------------------------------
    @staticmethod
    def _register_where(
        *,
        states: Sequence[str] | None = None,
        not_states: Sequence[str] | None = None,
        opened: bool | None = None,
        division_id: int | None = None,
        letter: str | None = None,
        classified_from: date | None = None,
        classified_before: date | None = None,
        visible_to: tuple[int | None, int] | None = None,
    ) -> list[Any]:
        """The WHERE conditions of a register query; ``visible_to`` is (division, user) of a
        Petugas PPID, who sees their division's records and their own. ``not_states``
        says ``states`` the other way round, for a page: no index serves it, so the page
        walks the primary key newest first (an IN list of states would be read whole from
        ``ix_records_state`` and sorted)."""
        where: list[Any] = []
        if states is not None:
            where.append(RecordRow.state.in_(list(states)))
        if not_states is not None:
            where.append(RecordRow.state.not_in(list(not_states)))
        if opened is True:
            where.append(RecordRow.opened_on.is_not(None))
        elif opened is False:
            where.append(RecordRow.opened_on.is_(None))
        if division_id is not None:
            where.append(RecordRow.division_id == division_id)
        if letter:
            where.append((literal(",") + RecordRow.pasal17 + literal(",")).like(f"%,{letter},%"))
        if classified_from is not None:
            where.append(RecordRow.classified_date >= classified_from)
        if classified_before is not None:
            where.append(RecordRow.classified_date < classified_before)
        if visible_to is not None:
            own_division, user_id = visible_to
            where.append(
                or_(RecordRow.division_id == own_division, RecordRow.created_by == user_id)
                if own_division is not None
                else RecordRow.created_by == user_id
            )
        return where

    def _search_match(self, words: Sequence[str], roots: Sequence[str] | None = None) -> Any:
        """Records whose title or description has a word beginning with each of ``words``
        (letters and digits only, lower case), or a page of whose attached softcopies has
        them all, through the full-text indexes of migrations 0017 and 0018: FTS5 on
        SQLite, GIN indexes of a ``tsvector`` on PostgreSQL. In the pages a word also finds
        its root (``roots``, Indonesian word forms: "pemilih" finds "memilih")."""
        if not words:
            return literal(False)
        if self.session.get_bind().dialect.name == "postgresql":
            query = " & ".join(f"'{word}':*" for word in words)
            # The hits first, from the GIN indexes (MATERIALIZED: the planner would rather
            # walk the primary key newest first and test every row for a rare word).
            hits = (
                sql_text(
                    f"SELECT records.id FROM records WHERE {SEARCH_DOCUMENT} "
                    "@@ to_tsquery('simple', :tsq) UNION " + text_search_sql("postgresql")
                )
                .bindparams(tsq=query, page_tsq=pg_query(words, roots))
                .columns(column("id", Integer))
                .cte("search_hits")
                .prefix_with("MATERIALIZED")
            )
            return RecordRow.id.in_(select(hits.c.id))
        query = " ".join(f'"{word}"*' for word in words)
        matching = sql_text(
            "SELECT rowid FROM records_fts WHERE records_fts MATCH :fts UNION "
            + text_search_sql("sqlite")
        ).bindparams(fts=query, page_fts=fts_query(words, roots))
        return RecordRow.id.in_(matching.columns(column("rowid", Integer)))

    def _where(
        self,
        *,
        text: Sequence[str] | None = None,
        text_roots: Sequence[str] | None = None,
        **filters: Any,
    ) -> list[Any]:
        where = self._register_where(**filters)
        if text is not None:
            where.append(self._search_match(text, text_roots))
        return where

    async def register_rows(
        self, *, limit: int | None = None, offset: int = 0, **filters: Any
    ) -> Sequence[RecordRow]:
        """One page of the register, newest first; ``text``: the words searched for.

        A Petugas PPID's page (``visible_to``) is the newest of their division's records
        and the newest of their own, each in its index's order, merged: an OR of the two
        would be read whole and sorted."""
        visible_to = filters.pop("visible_to", None)
        where = self._where(**filters)
        return await self._visible_page(
            where, visible_to, (RecordRow.id.desc(),), limit=limit, offset=offset
        )

    async def register_rows_after(
        self, after_id: int, limit: int, **filters: Any
    ) -> Sequence[RecordRow]:
        """The next ``limit`` records of the register after ``after_id``, oldest first
        (a report reads the whole register this way, a batch at a time)."""
        query = (
            select(RecordRow)
            .where(RecordRow.id > after_id, *self._where(**filters))
            .order_by(RecordRow.id)
            .limit(limit)
        )
        return (await self.session.scalars(query)).all()

    async def _visible_page(
        self,
        where: list[Any],
        visible_to: tuple[int | None, int] | None,
        order: tuple[Any, ...],
        *,
        limit: int | None,
        offset: int = 0,
    ) -> Sequence[RecordRow]:
        """Records matching ``where`` in ``order``, of what ``visible_to`` (a Petugas
        PPID's division and user) may see. Their page is the first of their division's
        records and the first of their own, each in its index's order, merged: an OR of
        the two would be read whole and sorted."""
        if limit is None or visible_to is None:
            if visible_to is not None:
                where = [*where, *self._register_where(visible_to=visible_to)]
            query = select(RecordRow).where(*where).order_by(*order).offset(offset)
            if limit is not None:
                query = query.limit(limit)
            return (await self.session.scalars(query)).all()
        own_division, user_id = visible_to
        branches = [RecordRow.created_by == user_id]
        if own_division is not None:
            branches.append(RecordRow.division_id == own_division)
        firsts = [
            select(RecordRow.id).where(*where, branch).order_by(*order).limit(offset + limit)
            for branch in branches
        ]
        ids = union_all(*(select(first.subquery().c.id) for first in firsts))
        query = (
            select(RecordRow)
            .where(RecordRow.id.in_(ids))
            .order_by(*order)
            .offset(offset)
            .limit(limit)
        )
        return (await self.session.scalars(query)).all()

    async def register_count(self, **filters: Any) -> int:
        """How many records of the register match ``filters``."""
        where = self._where(**filters)
        query = select(func.count()).select_from(RecordRow).where(*where)
        return int(await self.session.scalar(query) or 0)

    async def register_classified_dates(self, **filters: Any) -> set[date]:
        """The distinct classification dates among the matching records (for year filters)."""
        where = self._where(**filters)
        query = select(RecordRow.classified_date).where(*where).distinct()
        return set((await self.session.scalars(query)).all())

    async def set_opened(self, record_id: int, opened_on: date, at: datetime) -> bool:
        """Mark a stored record as opened (announced public); False if it already was."""
        result = await self.session.execute(
            update(RecordRow)
            .where(RecordRow.id == record_id, RecordRow.opened_on.is_(None))
            .values(opened_on=opened_on, updated_at=at, version=RecordRow.version + 1)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    @classmethod
    def _ending_where(cls, until: date, **filters: Any) -> list[Any]:
        return [
            RecordRow.ends_on <= until,
            RecordRow.opened_on.is_(None),
            RecordRow.state != "cancelled",
            *cls._register_where(**filters),
        ]

    async def ending_rows(
        self, until: date, *, limit: int | None = None, **filters: Any
    ) -> Sequence[RecordRow]:
        """Records whose exemption ends on or before ``until`` (or ended) and that are not
        opened, soonest first (by the index on ``ends_on``, for a Petugas PPID by those on
        division and ``ends_on``, creator and ``ends_on``); ``filters`` as the register's."""
        visible_to = filters.pop("visible_to", None)
        return await self._visible_page(
            self._ending_where(until, **filters),
            visible_to,
            (RecordRow.ends_on, RecordRow.id),
            limit=limit,
        )

    async def ending_count(self, until: date, **filters: Any) -> int:
        query = (
            select(func.count()).select_from(RecordRow).where(*self._ending_where(until, **filters))
        )
        return int(await self.session.scalar(query) or 0)

    async def expiry_candidates(self, until: date, last_kind: str) -> Sequence[RecordRow]:
        """Records that may have an expiry notice due: ending by ``until``, not opened, and
        not yet given their last notice (``last_kind``), so those told long ago are not
        read again every day."""
        told = select(ExpiryNoticeRow.id).where(
            ExpiryNoticeRow.record_id == RecordRow.id, ExpiryNoticeRow.kind == last_kind
        )
        query = (
            select(RecordRow)
            .where(*self._ending_where(until), ~told.exists())
            .order_by(RecordRow.ends_on, RecordRow.id)
        )
        return (await self.session.scalars(query)).all()

    async def expiry_notices(self, record_ids: Sequence[int]) -> Sequence[ExpiryNoticeRow]:
        """The expiry notices claimed for ``record_ids``, by id (``IN_CHUNK`` at a time)."""
        found: list[ExpiryNoticeRow] = []
        for start in range(0, len(record_ids), IN_CHUNK):
            query = select(ExpiryNoticeRow).where(
                ExpiryNoticeRow.record_id.in_(list(record_ids[start : start + IN_CHUNK]))
            )
            found.extend((await self.session.scalars(query)).all())
        found.sort(key=lambda row: row.id)
        return found

    async def claim_expiry_notice(
        self, record_id: int, kind: str, ends_on: date, at: datetime
    ) -> int | None:
        """Claim one notice for sending; None if it was claimed before (the unique key
        decides, so two checks at once cannot both send it)."""
        if self.session.get_bind().dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert  # type: ignore[assignment]
        statement = (
            dialect_insert(ExpiryNoticeRow)
            .values(record_id=record_id, kind=kind, ends_on=ends_on, sent_at=at)
            .on_conflict_do_nothing(index_elements=["record_id", "kind"])
            .returning(ExpiryNoticeRow.id)
        )
        return await self.session.scalar(statement)

    async def finish_expiry_notice(self, notice_id: int, recipients: int) -> None:
        await self.session.execute(
            update(ExpiryNoticeRow)
            .where(ExpiryNoticeRow.id == notice_id)
            .values(recipients=recipients)
        )

    async def unfinished_expiry_notices(
        self, claimed_before: datetime
    ) -> Sequence[ExpiryNoticeRow]:
        """Claims older than ``claimed_before`` whose sending never finished."""
        query = (
            select(ExpiryNoticeRow)
            .where(ExpiryNoticeRow.recipients.is_(None), ExpiryNoticeRow.sent_at < claimed_before)
            .order_by(ExpiryNoticeRow.id)
        )
        return (await self.session.scalars(query)).all()

    async def reclaim_expiry_notice(
        self, notice_id: int, claimed_at: datetime, at: datetime
    ) -> bool:
        """Take over a lost claim; False if another check took it first."""
        result = await self.session.execute(
            update(ExpiryNoticeRow)
            .where(
                ExpiryNoticeRow.id == notice_id,
                ExpiryNoticeRow.sent_at == claimed_at,
                ExpiryNoticeRow.recipients.is_(None),
            )
            .values(sent_at=at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def release_expiry_notice(self, notice_id: int) -> None:
        """Give a claim back (nobody received it), so the next check tries again."""
        await self.session.execute(delete(ExpiryNoticeRow).where(ExpiryNoticeRow.id == notice_id))

    async def runs_of_records(self, record_ids: Sequence[int]) -> Sequence[StepRunRow]:
        """The step runs of several records (one page of a list), in order, at once."""
        if not record_ids:
            return ()
        query = (
            select(StepRunRow)
            .where(StepRunRow.record_id.in_(list(record_ids)))
            .order_by(StepRunRow.record_id, StepRunRow.id)
        )
        return (await self.session.scalars(query)).all()

    async def staff(self) -> list[tuple[UserRow, set[str]]]:
        """Every active person with a role, with their roles, in one query (the office's
        staff: it grows with the office, not with the archive)."""
        query = (
            select(UserRow, UserRoleRow.role)
            .join(UserRoleRow, UserRoleRow.user_id == UserRow.id)
            .where(UserRow.active.is_(True))
            .order_by(UserRow.id)
        )
        people: dict[int, tuple[UserRow, set[str]]] = {}
        for user, role in (await self.session.execute(query)).all():
            people.setdefault(user.id, (user, set()))[1].add(role)
        return list(people.values())

    async def user_names(self, user_ids: Sequence[int]) -> dict[int, str]:
        if not user_ids:
            return {}
        query = select(UserRow.id, UserRow.full_name).where(UserRow.id.in_(list(user_ids)))
        return {user_id: name for user_id, name in (await self.session.execute(query)).all()}
