"""Queries of the outbox (notices), the tracked record cards and people's reachability.

Like ``db.repositories.Repository``: one method per query, never a commit; the service
that opened the transaction owns it. Claims are conditional updates, so of two workers
(two jobs, or two instances of the bot on one database) exactly one gets a notice.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import NoticeRow, RecordCardRow, RecordRow, StepRunRow, UserRow

PENDING, SENDING, DELIVERED, UNDELIVERED, SUPERSEDED = (
    "pending",
    "sending",
    "delivered",
    "undelivered",
    "superseded",
)
FINISHED = (DELIVERED, UNDELIVERED, SUPERSEDED)


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- notices -----------------------------------------------------------------------
    async def add(self, rows: Sequence[NoticeRow]) -> list[int]:
        self.session.add_all(rows)
        await self.session.flush()
        return [row.id for row in rows]

    async def claim(
        self, notice_id: int, token: str, now: datetime, stale_before: datetime
    ) -> NoticeRow | None:
        """Take a notice to send: a pending one that is due, or one whose sender went
        silent before ``stale_before`` (a crashed instance). None: someone else has it,
        or it is finished."""
        result = await self.session.execute(
            update(NoticeRow)
            .where(
                NoticeRow.id == notice_id,
                or_(
                    and_(
                        NoticeRow.status == PENDING,
                        or_(NoticeRow.next_at.is_(None), NoticeRow.next_at <= now),
                    ),
                    and_(NoticeRow.status == SENDING, NoticeRow.claimed_at < stale_before),
                ),
            )
            .values(status=SENDING, claim=token, claimed_at=now, attempts=NoticeRow.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if _count(result) != 1:
            return None
        return await self.session.get(NoticeRow, notice_id, populate_existing=True)

    async def finish(self, notice_id: int, token: str, **values: object) -> bool:
        """Record the result of a claimed notice; False if the claim was lost meanwhile."""
        result = await self.session.execute(
            update(NoticeRow)
            .where(NoticeRow.id == notice_id, NoticeRow.claim == token)
            .values(claim=None, **values)
            .execution_options(synchronize_session=False)
        )
        return _count(result) == 1

    async def renew(self, tokens: Collection[str], now: datetime) -> None:
        """The senders holding these claims are alive: their lease starts again."""
        if tokens:
            await self.session.execute(
                update(NoticeRow)
                .where(NoticeRow.claim.in_(list(tokens)), NoticeRow.status == SENDING)
                .values(claimed_at=now)
                .execution_options(synchronize_session=False)
            )

    async def finish_part(self, notice_id: int, token: str, message_id: int) -> None:
        """Keep the id of a claimed notice's first message (the rest is still to go)."""
        await self.session.execute(
            update(NoticeRow)
            .where(NoticeRow.id == notice_id, NoticeRow.claim == token)
            .values(message_id=message_id)
            .execution_options(synchronize_session=False)
        )

    async def notices(self, ids: Collection[int]) -> Sequence[NoticeRow]:
        if not ids:
            return ()
        query = (
            select(NoticeRow)
            .where(NoticeRow.id.in_(list(ids)))
            .order_by(NoticeRow.id)
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(query)).all()

    async def due(self, now: datetime, stale_before: datetime, limit: int) -> list[tuple[int, int]]:
        """(notice, recipient) to send now, oldest first: pending and due, or left behind
        by a sender that went silent."""
        query = (
            select(NoticeRow.id, NoticeRow.recipient_id)
            .where(
                or_(
                    and_(
                        NoticeRow.status == PENDING,
                        or_(NoticeRow.next_at.is_(None), NoticeRow.next_at <= now),
                    ),
                    and_(NoticeRow.status == SENDING, NoticeRow.claimed_at < stale_before),
                )
            )
            .order_by(NoticeRow.id)
            .limit(limit)
        )
        return [(notice, recipient) for notice, recipient in (await self.session.execute(query))]

    async def claim_reports(self, ids: Collection[int]) -> list[int]:
        """Of finished notices among ``ids``, those whose actor has not been told how they
        went; marked as told now (whoever gets them tells the actor)."""
        if not ids:
            return []
        query = select(NoticeRow.id).where(
            NoticeRow.id.in_(list(ids)),
            NoticeRow.status.in_(FINISHED),
            NoticeRow.actor_informed.is_(False),
        )
        candidates = list((await self.session.scalars(query)).all())
        claimed = []
        for notice_id in candidates:
            result = await self.session.execute(
                update(NoticeRow)
                .where(NoticeRow.id == notice_id, NoticeRow.actor_informed.is_(False))
                .values(actor_informed=True)
                .execution_options(synchronize_session=False)
            )
            if _count(result) == 1:
                claimed.append(notice_id)
        return claimed

    async def unreported_failures(
        self, finished_before: datetime, limit: int
    ) -> Sequence[NoticeRow]:
        """Undelivered notices with an actor who has not been told how they went."""
        query = (
            select(NoticeRow)
            .where(
                NoticeRow.status == UNDELIVERED,
                NoticeRow.actor_informed.is_(False),
                NoticeRow.actor_id.is_not(None),
                NoticeRow.finished_at <= finished_before,
            )
            .order_by(NoticeRow.id)
            .limit(limit)
        )
        return (await self.session.scalars(query)).all()

    async def open_failures(self, limit: int) -> tuple[int, Sequence[NoticeRow]]:
        """How many notices are undelivered and unsettled, and the latest ``limit``."""
        where = (NoticeRow.status == UNDELIVERED, NoticeRow.resolved_at.is_(None))
        total = await self.session.scalar(select(func.count()).select_from(NoticeRow).where(*where))
        rows = (
            await self.session.scalars(
                select(NoticeRow).where(*where).order_by(NoticeRow.id.desc()).limit(limit)
            )
        ).all()
        return int(total or 0), rows

    async def requeue_failures(self, user_id: int, kinds: Collection[str], now: datetime) -> int:
        """The person is reachable again: their undelivered notices of ``kinds`` are sent
        again (they are settled by that); the others are settled as they are."""
        where = (
            NoticeRow.recipient_id == user_id,
            NoticeRow.status == UNDELIVERED,
            NoticeRow.resolved_at.is_(None),
        )
        result = await self.session.execute(
            update(NoticeRow)
            .where(*where, NoticeRow.kind.in_(list(kinds)))
            .values(status=PENDING, next_at=None, reason=None, detail=None, actor_informed=True)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(
            update(NoticeRow)
            .where(*where, NoticeRow.kind.not_in(list(kinds)))
            .values(resolved_at=now)
            .execution_options(synchronize_session=False)
        )
        return _count(result)

    async def resolve(self, notice_ids: Collection[int], now: datetime) -> None:
        if notice_ids:
            await self.session.execute(
                update(NoticeRow)
                .where(NoticeRow.id.in_(list(notice_ids)), NoticeRow.resolved_at.is_(None))
                .values(resolved_at=now)
                .execution_options(synchronize_session=False)
            )

    async def record_numbers(self, record_ids: Collection[int], prefix: str) -> dict[int, str]:
        """The number people know each record by: its register number, else ``prefix`` + id."""
        if not record_ids:
            return {}
        query = select(RecordRow.id, RecordRow.register_number).where(
            RecordRow.id.in_(list(record_ids))
        )
        return {
            record_id: number or f"{prefix}{record_id}"
            for record_id, number in (await self.session.execute(query)).all()
        }

    # -- reachability ------------------------------------------------------------------
    async def mark_contacted(self, telegram_id: int, now: datetime) -> int | None:
        """The person wrote to the bot: they have opened it and can be reached. Returns
        their user id when that changed anything (first contact, or back after failures)."""
        user_id = await self.session.scalar(
            select(UserRow.id).where(UserRow.telegram_id == telegram_id)
        )
        if user_id is None:
            return None
        return user_id if await self.mark_reached(user_id, now) else None

    async def mark_reached(self, user_id: int, now: datetime) -> bool:
        """A message reached the person, or they wrote: reachable. True if that is news."""
        result = await self.session.execute(
            update(UserRow)
            .where(
                UserRow.id == user_id,
                or_(UserRow.contacted_at.is_(None), UserRow.unreachable_at.is_not(None)),
            )
            .values(
                contacted_at=func.coalesce(UserRow.contacted_at, now),
                unreachable_at=None,
                unreachable_reason=None,
                unreachable_alerted=False,
            )
            .execution_options(synchronize_session=False)
        )
        return _count(result) == 1

    async def mark_unreachable(self, user_id: int, now: datetime, reason: str) -> None:
        await self.session.execute(
            update(UserRow)
            .where(UserRow.id == user_id)
            .values(
                unreachable_at=func.coalesce(UserRow.unreachable_at, now), unreachable_reason=reason
            )
            .execution_options(synchronize_session=False)
        )

    async def claim_alert(self, user_id: int) -> bool:
        """True once per spell of unreachability: whoever gets it tells the admins."""
        result = await self.session.execute(
            update(UserRow)
            .where(UserRow.id == user_id, UserRow.unreachable_alerted.is_(False))
            .values(unreachable_alerted=True)
            .execution_options(synchronize_session=False)
        )
        return _count(result) == 1

    async def reachability(self, user_ids: Collection[int]) -> Sequence[UserRow]:
        if not user_ids:
            return ()
        query = select(UserRow).where(UserRow.id.in_(list(user_ids)))
        return (await self.session.scalars(query)).all()

    # -- record cards ------------------------------------------------------------------
    async def add_card(self, row: RecordCardRow) -> RecordCardRow:
        self.session.add(row)
        await self.session.flush()
        return row

    async def card(self, chat_id: int, message_id: int) -> RecordCardRow | None:
        return await self.session.scalar(
            select(RecordCardRow).where(
                RecordCardRow.chat_id == chat_id, RecordCardRow.message_id == message_id
            )
        )

    async def active_cards(
        self, record_id: int, *, chat_id: int | None = None
    ) -> Sequence[RecordCardRow]:
        query = select(RecordCardRow).where(
            RecordCardRow.record_id == record_id, RecordCardRow.active.is_(True)
        )
        if chat_id is not None:
            query = query.where(RecordCardRow.chat_id == chat_id)
        return (await self.session.scalars(query.order_by(RecordCardRow.id))).all()

    async def set_card_version(self, card_id: int, version: int, now: datetime) -> None:
        await self.session.execute(
            update(RecordCardRow)
            .where(RecordCardRow.id == card_id)
            .values(version=version, updated_at=now)
            .execution_options(synchronize_session=False)
        )

    async def deactivate_cards(self, card_ids: Collection[int], now: datetime) -> None:
        if card_ids:
            await self.session.execute(
                update(RecordCardRow)
                .where(RecordCardRow.id.in_(list(card_ids)))
                .values(active=False, updated_at=now)
                .execution_options(synchronize_session=False)
            )

    # -- the overview (/ringkasan) -----------------------------------------------------
    async def open_runs_by_step_and_division(
        self, now: datetime
    ) -> list[tuple[int, int, int, int]]:
        """(step, division, open runs, of them overdue) over every open step."""
        overdue = func.sum(case((StepRunRow.due_at < now, 1), else_=0))
        query = (
            select(StepRunRow.step, RecordRow.division_id, func.count(), overdue)
            .join(RecordRow, RecordRow.id == StepRunRow.record_id)
            .where(StepRunRow.completed_at.is_(None))
            .group_by(StepRunRow.step, RecordRow.division_id)
        )
        return [
            (int(step), int(division), int(count), int(late or 0))
            for step, division, count, late in (await self.session.execute(query)).all()
        ]

    async def receive_exclusions(self, now: datetime) -> list[tuple[int, int, int]]:
        """(person, open step-3 runs they handed over, of them overdue): the four-eyes
        rule keeps those from them."""
        handed = (
            select(StepRunRow.record_id, func.max(StepRunRow.id).label("run_id"))
            .where(StepRunRow.step == 2, StepRunRow.outcome == "done")
            .group_by(StepRunRow.record_id)
            .subquery()
        )
        handover = StepRunRow.__table__.alias("handover")
        receive = StepRunRow.__table__.alias("receive")
        overdue = func.sum(case((receive.c.due_at < now, 1), else_=0))
        query = (
            select(handover.c.completed_by, func.count(), overdue)
            .select_from(receive)
            .join(handed, handed.c.record_id == receive.c.record_id)
            .join(handover, handover.c.id == handed.c.run_id)
            .where(receive.c.completed_at.is_(None), receive.c.step == 3)
            .group_by(handover.c.completed_by)
        )
        return [
            (int(user), int(count), int(late or 0))
            for user, count, late in (await self.session.execute(query)).all()
            if user is not None
        ]

    async def overdue_runs(
        self, now: datetime, limit: int
    ) -> Sequence[tuple[StepRunRow, RecordRow]]:
        """The open steps longest past their due time, with their records."""
        query = (
            select(StepRunRow, RecordRow)
            .join(RecordRow, RecordRow.id == StepRunRow.record_id)
            .where(StepRunRow.completed_at.is_(None), StepRunRow.due_at < now)
            .order_by(StepRunRow.due_at)
            .limit(limit)
        )
        return [(run, record) for run, record in (await self.session.execute(query)).all()]
