"""When an exemption ends (UU 14/2008 Pasal 20): the Pejabat PPID hears 30 days before,
7 days before and on the day, once each, that the information must be reviewed and, if
it stays closed, tested again, or else announced as open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy.exc import IntegrityError

from sop.model import Actor, RecordView, Role
from sop.service import PpidService

#: A claim older than this whose sending never finished was lost with its process.
STALE_CLAIM = timedelta(minutes=10)


class NoticeKind(StrEnum):
    DAYS_30 = "30d"
    DAYS_7 = "7d"
    ON_THE_DAY = "0d"


#: Most urgent first: a notice is due once fewer than this many days are left.
THRESHOLDS: tuple[tuple[NoticeKind, int], ...] = (
    (NoticeKind.ON_THE_DAY, 0),
    (NoticeKind.DAYS_7, 7),
    (NoticeKind.DAYS_30, 30),
)


def notice_due(end: date, today: date) -> NoticeKind | None:
    """The notice that fits ``today``: only the most urgent one, so a record stored five
    days before its end gets the 7-day notice and never a late 30-day one."""
    days_left = (end - today).days
    for kind, days in THRESHOLDS:
        if days_left <= days:
            return kind
    return None


@dataclass(frozen=True, slots=True)
class ExpiryNotice:
    """A notice claimed for sending; finish it with ``ExpiryService.delivered``."""

    notice_id: int
    record: RecordView
    kind: NoticeKind
    ends_on: date
    days_left: int  # 0 on the day, negative when the period ended before


class ExpiryService:
    """Which expiry notices are due now, claimed exactly once per record and kind."""

    def __init__(self, service: PpidService) -> None:
        self.service = service

    async def due(self) -> list[tuple[RecordView, NoticeKind, date]]:
        """Every notice due today that nobody has claimed yet (nothing is claimed). Reads
        only the records ending within the widest threshold that still have a notice to
        give (by the index on their end day), not every exempted record."""
        today = self.service.today()
        widest = max(days for _, days in THRESHOLDS)
        async with self.service.transaction() as repo:
            rows = await repo.expiry_candidates(
                today + timedelta(days=widest), NoticeKind.ON_THE_DAY.value
            )
            sent = {(n.record_id, n.kind) for n in await repo.expiry_notices([r.id for r in rows])}
            due = []
            for row in rows:
                end = row.ends_on
                kind = notice_due(end, today) if end else None
                if end is not None and kind is not None and (row.id, kind.value) not in sent:
                    due.append((await self.service.view(repo, row), kind, end))
            return due

    async def claim_due(self) -> list[ExpiryNotice]:
        """Claim every notice due today; a notice already claimed (by an earlier check, or
        one running at the same moment) is not returned again."""
        today = self.service.today()
        claimed: list[ExpiryNotice] = []
        for record, kind, end in await self.due():
            notice_id = await self._claim(record.id, kind, end)
            if notice_id is not None:
                claimed.append(ExpiryNotice(notice_id, record, kind, end, (end - today).days))
        claimed.extend(await self._reclaim_lost(today))
        return claimed

    async def _claim(self, record_id: int, kind: NoticeKind, end: date) -> int | None:
        try:
            async with self.service.transaction() as repo:
                return await repo.claim_expiry_notice(record_id, kind, end, self.service.now())
        except IntegrityError:
            return None

    async def _reclaim_lost(self, today: date) -> list[ExpiryNotice]:
        """Claims whose process stopped before sending finished are taken over once."""
        now = self.service.now()
        lost: list[ExpiryNotice] = []
        async with self.service.transaction() as repo:
            for notice in await repo.unfinished_expiry_notices(now - STALE_CLAIM):
                if not await repo.reclaim_expiry_notice(notice.id, notice.sent_at, now):
                    continue
                row = await repo.record(notice.record_id)
                if row is None or row.opened_on is not None or row.state == "cancelled":
                    await repo.finish_expiry_notice(notice.id, 0)
                    continue
                view = await self.service.view(repo, row)
                kind = NoticeKind(notice.kind)
                lost.append(
                    ExpiryNotice(
                        notice.id, view, kind, notice.ends_on, (notice.ends_on - today).days
                    )
                )
        return lost

    async def recipients(self) -> list[Actor]:
        """Who reviews ending exemptions: every active Pejabat PPID."""
        return [
            actor
            for actor in await self.service.people()
            if actor.active and actor.has(Role.PEJABAT_PPID)
        ]

    async def delivered(self, notice: ExpiryNotice, recipients: int) -> None:
        """Finish a claim: audited when someone received it; given back when nobody did, so
        the next check tries again (for instance once a Pejabat PPID is registered)."""
        async with self.service.transaction() as repo:
            if recipients == 0:
                await repo.release_expiry_notice(notice.notice_id)
                return
            await repo.finish_expiry_notice(notice.notice_id, recipients)
            await self.service.audit(
                repo,
                "expiry.notified",
                actor_id=None,
                record_id=notice.record.id,
                details={
                    "kind": notice.kind.value,
                    "ends_on": notice.ends_on.isoformat(),
                    "recipients": recipients,
                },
            )


__all__ = ["THRESHOLDS", "ExpiryNotice", "ExpiryService", "NoticeKind", "notice_due"]
