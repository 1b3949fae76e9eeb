"""The outbox as the domain sees it: claiming notices, recording what came of them, who
can be reached, the cards that follow a record, and what the admins are told.

A companion of ``PpidService`` (its transaction, views and audit chain). The bot's
dispatcher renders and sends; everything it learns comes back here, so the database
says, for every notice, whether it reached its recipient and, if not, why.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from db.models import NoticeRow, RecordCardRow, UserRow
from db.outbox import (
    DELIVERED,
    PENDING,
    SENDING,
    SUPERSEDED,
    UNDELIVERED,
    OutboxRepository,
)
from db.repositories import Repository
from sop.errors import PermissionDenied
from sop.model import Actor, FileView, RecordView, Role
from sop.notices import (
    ACTIONABLE,
    PERSONAL,
    RESENDABLE,
    NoticeKind,
    Reason,
    queue_notices,
)
from sop.service import PROVISIONAL_PREFIX, PpidService

log = logging.getLogger(__name__)

#: A sender that has said nothing for this long is taken for dead; its notice is sent
#: again. A live sender renews its claims well within it (``renew``).
DEFAULT_LEASE = timedelta(minutes=1)
#: Transient failures (Telegram unreachable) are retried this many times, spaced out.
MAX_ATTEMPTS = 6
RETRY_BASE = timedelta(minutes=1)
#: How many cards of one record a chat keeps with live buttons (the latest ones).
CARDS_PER_CHAT = 3


@dataclass(frozen=True, slots=True)
class ClaimedNotice:
    """A notice this worker holds and must send (then ``finish``)."""

    id: int
    token: str
    kind: NoticeKind
    recipient: Actor
    record: RecordView | None
    actor_id: int | None
    params: dict[str, Any]
    attempts: int
    message_id: int | None = None  # its main message went out before (a resumed send)


@dataclass(frozen=True, slots=True)
class Sent:
    """What came of sending one notice."""

    delivered: bool
    message_id: int | None = None
    reason: Reason | None = None
    detail: str | None = None
    transient: bool = False  # worth another try later (Telegram was unreachable)
    note: str | None = None  # e.g. softcopies of a package that did not go


@dataclass(frozen=True, slots=True)
class NoticeResult:
    """A notice as its actor or an admin sees it afterwards."""

    id: int
    kind: NoticeKind
    status: str
    recipient_id: int
    recipient_name: str
    reason: Reason | None
    record_id: int | None
    record_number: str | None
    created_at: datetime
    actor_id: int | None = None

    @property
    def delivered(self) -> bool:
        return self.status == DELIVERED

    @property
    def undelivered(self) -> bool:
        return self.status == UNDELIVERED

    @property
    def in_progress(self) -> bool:
        return self.status in (PENDING, SENDING)


@dataclass(frozen=True, slots=True)
class Reach:
    """Whether a person can be reached by the bot."""

    opened: bool  # has ever written to the bot or received a message from it
    unreachable: Reason | None = None  # why messages to them fail now


@dataclass(frozen=True, slots=True)
class Card:
    """A message showing a record's card with the buttons of one person."""

    id: int
    record_id: int
    viewer: Actor | None  # None: the person is gone (no role, inactive)
    chat_id: int
    message_id: int
    version: int  # the record's version the card shows
    note: str | None


@dataclass
class Failures:
    """Undelivered notices nobody has settled, for the admins."""

    total: int
    latest: list[NoticeResult] = field(default_factory=list)


class OutboxService:
    def __init__(
        self,
        service: PpidService,
        *,
        lease: timedelta = DEFAULT_LEASE,
        max_attempts: int = MAX_ATTEMPTS,
        retry_base: timedelta = RETRY_BASE,
    ) -> None:
        self._service = service
        self.lease = lease
        self.max_attempts = max_attempts
        self.retry_base = retry_base

    @property
    def service(self) -> PpidService:
        return self._service

    def now(self) -> datetime:
        return self._service.now()

    @staticmethod
    def new_token() -> str:
        return secrets.token_hex(8)

    # -- sending -----------------------------------------------------------------------
    async def due(self, limit: int = 200) -> list[int]:
        """Notices to send now (pending, or left behind by a sender that went silent)."""
        return [notice for notice, _ in await self.due_by_recipient(limit)]

    async def due_by_recipient(self, limit: int = 200) -> list[tuple[int, int]]:
        """The same, each with its recipient (their notices go out in this order)."""
        now = self.now()
        async with self._service.transaction() as repo:
            return await OutboxRepository(repo.session).due(now, now - self.lease, limit)

    async def renew(self, tokens: Collection[str]) -> None:
        """Keep the claims of notices still being sent (a long flood wait) from being
        taken for those of a dead sender."""
        async with self._service.transaction() as repo:
            await OutboxRepository(repo.session).renew(tokens, self.now())

    async def claim(self, notice_id: int, token: str) -> ClaimedNotice | None:
        """Take a notice to send, or None when another worker has it or it is finished.

        A notice asking someone to act on a record that has changed since, or meant for a
        person who may no longer see the record, is settled here as superseded, unsent.
        """
        service = self._service
        now = self.now()
        async with service.transaction() as repo:
            outbox = OutboxRepository(repo.session)
            row = await outbox.claim(notice_id, token, now, now - self.lease)
            if row is None:
                return None
            kind = NoticeKind(row.kind)
            params = json.loads(row.params)
            user = await repo.user(row.recipient_id)
            recipient = await service.actor_of(repo, user) if user is not None else None
            record: RecordView | None = None
            if row.record_id is not None:
                record_row = await repo.record(row.record_id)
                if record_row is not None:
                    record = await service.view(repo, record_row)
            stale = (
                recipient is None
                or not recipient.active
                or not recipient.roles
                or (row.record_id is not None and record is None)
                or (record is not None and not service.can_view(recipient, record))
                or (
                    kind in ACTIONABLE
                    and record is not None
                    and record.version != params.get("version")
                )
            )
            if stale:
                await outbox.finish(
                    notice_id, token, status=SUPERSEDED, finished_at=now, actor_informed=True
                )
                return None
            assert recipient is not None
            return ClaimedNotice(
                row.id,
                token,
                kind,
                recipient,
                record,
                row.actor_id,
                params,
                row.attempts,
                row.message_id,
            )

    async def progress(self, notice: ClaimedNotice, message_id: int) -> None:
        """The notice's main message went out (its softcopies follow): a sender that takes
        the notice over after a crash goes on from there instead of sending it again."""
        async with self._service.transaction() as repo:
            await OutboxRepository(repo.session).finish_part(notice.id, notice.token, message_id)

    async def finish(self, notice: ClaimedNotice, sent: Sent) -> tuple[int, ...]:
        """Record what came of a claimed notice. A transient failure is tried again later
        (up to ``max_attempts``); a final failure makes the person unreachable (when it is
        about them) and tells the admins once. Returns the ids of notices this queued
        (the admins' alerts), for the caller to send."""
        now = self.now()
        async with self._service.transaction() as repo:
            outbox = OutboxRepository(repo.session)
            if sent.delivered:
                await outbox.finish(
                    notice.id,
                    notice.token,
                    status=DELIVERED,
                    finished_at=now,
                    message_id=sent.message_id,
                    reason=None,
                    detail=sent.note,
                )
                await outbox.mark_reached(notice.recipient.user_id, now)
                return ()
            if sent.transient and notice.attempts < self.max_attempts:
                wait = self.retry_base * 2 ** (notice.attempts - 1)
                await outbox.finish(
                    notice.id,
                    notice.token,
                    status=PENDING,
                    next_at=now + wait,
                    reason=sent.reason,
                    detail=sent.detail,
                )
                log.info("notice %s will be tried again at %s", notice.id, now + wait)
                return ()
            reason = sent.reason or Reason.FAILED
            if not await outbox.finish(
                notice.id,
                notice.token,
                status=UNDELIVERED,
                finished_at=now,
                reason=reason,
                detail=sent.detail,
            ):
                return ()
            log.warning(
                "notice %s (%s) to user %s not delivered: %s %s",
                notice.id,
                notice.kind,
                notice.recipient.user_id,
                reason,
                sent.detail or "",
            )
            return await self._after_failure(
                repo, notice.recipient, reason, notice.kind, notice.record, now
            )

    async def record_failure(
        self,
        recipient: Actor,
        reason: Reason,
        detail: str | None,
        *,
        kind: NoticeKind,
        record: RecordView | None = None,
        actor_id: int | None = None,
        params: dict[str, Any] | None = None,
    ) -> tuple[int, ...]:
        """A message sent directly (a reminder, a plain message) did not arrive: it is
        recorded like an undelivered notice, with the same consequences."""
        now = self.now()
        async with self._service.transaction() as repo:
            row = NoticeRow(
                kind=kind,
                record_id=record.id if record is not None else None,
                recipient_id=recipient.user_id,
                actor_id=actor_id,
                params=json.dumps(params or {}, ensure_ascii=False, sort_keys=True),
                status=UNDELIVERED,
                attempts=1,
                created_at=now,
                finished_at=now,
                reason=reason,
                detail=detail,
                actor_informed=True,
            )
            await OutboxRepository(repo.session).add([row])
            return await self._after_failure(repo, recipient, reason, kind, record, now)

    async def reached(self, user_id: int) -> None:
        """A message sent directly reached the person."""
        async with self._service.transaction() as repo:
            await OutboxRepository(repo.session).mark_reached(user_id, self.now())

    async def _after_failure(
        self,
        repo: Repository,
        person: Actor,
        reason: Reason,
        kind: NoticeKind,
        record: RecordView | None,
        now: datetime,
    ) -> tuple[int, ...]:
        """The person cannot be reached (when the reason is theirs); the admins are told,
        once per spell of unreachability (or once per failed notice for other reasons,
        but never about a failed alert or report, so alerts cannot feed themselves)."""
        outbox = OutboxRepository(repo.session)
        if reason in PERSONAL:
            await outbox.mark_unreachable(person.user_id, now, reason)
            if not await outbox.claim_alert(person.user_id):
                return ()
        elif kind in (NoticeKind.UNREACHABLE, NoticeKind.REPORT):
            return ()
        admins = [
            await self._service.actor_of(repo, user)
            for user in await repo.users_with_role(Role.ADMIN)
            if user.id != person.user_id
        ]
        return await queue_notices(
            repo,
            NoticeKind.UNREACHABLE,
            admins,
            now=now,
            record_id=record.id if record is not None else None,
            params={
                "who": person.full_name,
                "user_id": person.user_id,
                "reason": reason,
                "about": kind,
            },
        )

    # -- what the actor and the admins learn -------------------------------------------
    async def results(self, notice_ids: Collection[int]) -> list[NoticeResult]:
        async with self._service.transaction() as repo:
            rows = await OutboxRepository(repo.session).notices(notice_ids)
            return await self._results(repo, rows)

    async def claim_reports(self, notice_ids: Collection[int]) -> list[NoticeResult]:
        """Of ``notice_ids``, the finished ones whose actor has not heard how they went;
        whoever calls this tells the actor (so nobody tells them twice)."""
        async with self._service.transaction() as repo:
            outbox = OutboxRepository(repo.session)
            claimed = await outbox.claim_reports(notice_ids)
            return await self._results(repo, await outbox.notices(claimed))

    async def queue_report(self, actor_id: int, failed: Sequence[NoticeResult]) -> tuple[int, ...]:
        """Tell an actor, in a notice of its own, which of their notices did not arrive."""
        if not failed:
            return ()
        async with self._service.transaction() as repo:
            user = await repo.user(actor_id)
            if user is None:
                return ()
            actor = await self._service.actor_of(repo, user)
            return await queue_notices(
                repo,
                NoticeKind.REPORT,
                [actor],
                now=self.now(),
                record_id=failed[0].record_id,
                params={
                    "failed": [
                        {"who": r.recipient_name, "reason": r.reason, "number": r.record_number}
                        for r in failed
                    ]
                },
            )

    async def unreported_failures(
        self, *, older_than: timedelta = timedelta(0), limit: int = 200
    ) -> dict[int, list[NoticeResult]]:
        """Undelivered notices whose actor was never told (the action no longer waited,
        or the bot stopped before it could) and that failed more than ``older_than`` ago,
        claimed and grouped by actor."""
        async with self._service.transaction() as repo:
            outbox = OutboxRepository(repo.session)
            rows = await outbox.unreported_failures(self.now() - older_than, limit)
            claimed = set(await outbox.claim_reports([row.id for row in rows]))
            results = await self._results(repo, [row for row in rows if row.id in claimed])
        grouped: dict[int, list[NoticeResult]] = {}
        for result in results:
            if result.actor_id is not None:
                grouped.setdefault(result.actor_id, []).append(result)
        return grouped

    async def open_failures(self, by: Actor, limit: int = 10) -> Failures:
        """Undelivered notices not yet settled (admins only), the latest first."""
        async with self._service.transaction() as repo:
            by = await self._service.fresh_actor(repo, by)
            if not by.is_admin:
                raise PermissionDenied("Hanya admin yang dapat melihat pemberitahuan yang gagal.")
            total, rows = await OutboxRepository(repo.session).open_failures(limit)
            return Failures(total, await self._results(repo, rows))

    async def _results(self, repo: Repository, rows: Sequence[NoticeRow]) -> list[NoticeResult]:
        names = await repo.user_names(sorted({row.recipient_id for row in rows}))
        numbers = await OutboxRepository(repo.session).record_numbers(
            {r.record_id for r in rows if r.record_id}, PROVISIONAL_PREFIX
        )
        return [
            NoticeResult(
                id=row.id,
                kind=NoticeKind(row.kind),
                status=row.status,
                recipient_id=row.recipient_id,
                recipient_name=names.get(row.recipient_id, "?"),
                reason=Reason(row.reason) if row.reason else None,
                record_id=row.record_id,
                record_number=numbers.get(row.record_id) if row.record_id else None,
                created_at=row.created_at,
                actor_id=row.actor_id,
            )
            for row in rows
        ]

    # -- reachability ------------------------------------------------------------------
    async def contacted(self, telegram_id: int) -> bool:
        """The person wrote to the bot. If that is news (first contact, or back after
        failures), their undelivered notices go out again; True when some were queued."""
        now = self.now()
        async with self._service.transaction() as repo:
            outbox = OutboxRepository(repo.session)
            user_id = await outbox.mark_contacted(telegram_id, now)
            if user_id is None:
                return False
            return await outbox.requeue_failures(user_id, RESENDABLE, now) > 0

    async def known(self, telegram_id: int) -> bool:
        """Whether the person is registered and known to have opened the bot, reachable."""
        async with self._service.transaction() as repo:
            user = await repo.user_by_telegram(telegram_id)
            return bool(user and user.contacted_at is not None and user.unreachable_at is None)

    async def blocked(self, telegram_id: int) -> None:
        """Telegram says the person blocked the bot."""
        async with self._service.transaction() as repo:
            user = await repo.user_by_telegram(telegram_id)
            if user is not None:
                await OutboxRepository(repo.session).mark_unreachable(
                    user.id, self.now(), Reason.BLOCKED
                )

    async def reachability(self, user_ids: Collection[int]) -> dict[int, Reach]:
        async with self._service.transaction() as repo:
            rows = await OutboxRepository(repo.session).reachability(user_ids)
            return {row.id: _reach(row) for row in rows}

    # -- record cards ------------------------------------------------------------------
    async def track_card(
        self,
        record: RecordView,
        viewer: Actor,
        chat_id: int,
        message_id: int,
        note: str | None = None,
    ) -> list[Card]:
        """Remember a card showing ``record`` sent to ``viewer``. A chat keeps its
        ``CARDS_PER_CHAT`` latest cards of a record followed (all with live buttons); older
        ones stop being followed and are returned, so the caller takes their buttons off."""
        record_id = record.id
        now = self.now()
        async with self._service.transaction() as repo:
            outbox = OutboxRepository(repo.session)
            existing = await outbox.card(chat_id, message_id)
            if existing is None:
                await outbox.add_card(
                    RecordCardRow(
                        record_id=record_id,
                        user_id=viewer.user_id,
                        chat_id=chat_id,
                        message_id=message_id,
                        version=record.version,
                        note=note,
                        active=True,
                        created_at=now,
                        updated_at=now,
                    )
                )
            elif existing.record_id == record_id and existing.version > record.version:
                # The card already shows a later state: the button pressed on it was
                # handled (and the card closed, perhaps retired) before the notice that
                # sent it got here to be tracked. Going back would edit it again.
                return []
            else:
                existing.record_id, existing.user_id = record_id, viewer.user_id
                existing.active, existing.updated_at = True, now
                existing.version = record.version
                if note is not None:
                    existing.note = note
                await repo.session.flush()
            followed = sorted(
                await outbox.active_cards(record_id, chat_id=chat_id),
                key=lambda card: card.message_id,
                reverse=True,  # message ids grow in a chat: the latest first
            )
            older = followed[CARDS_PER_CHAT:]
            await outbox.deactivate_cards([card.id for card in older], now)
            return [await self._card(repo, card) for card in older]

    async def cards(self, record_id: int) -> list[Card]:
        """The cards of the record still followed, with their viewers as they are now."""
        async with self._service.transaction() as repo:
            rows = await OutboxRepository(repo.session).active_cards(record_id)
            return [await self._card(repo, row) for row in rows]

    async def retire_cards(self, card_ids: Collection[int]) -> None:
        """Stop following cards (the record is finished, or the message is gone)."""
        async with self._service.transaction() as repo:
            await OutboxRepository(repo.session).deactivate_cards(card_ids, self.now())

    async def _card(self, repo: Repository, row: RecordCardRow) -> Card:
        user = await repo.user(row.user_id)
        viewer = await self._service.actor_of(repo, user) if user is not None else None
        if viewer is not None and not (viewer.active and viewer.roles):
            viewer = None
        return Card(
            row.id, row.record_id, viewer, row.chat_id, row.message_id, row.version, row.note
        )

    async def card_shows(self, card_id: int, version: int) -> None:
        """The card was edited to show the record at ``version``."""
        async with self._service.transaction() as repo:
            await OutboxRepository(repo.session).set_card_version(card_id, version, self.now())

    # -- files the bot pushes ----------------------------------------------------------
    def file_chunks(self, file: FileView) -> AsyncIterator[bytes]:
        """A softcopy's bytes, for sending it with a notice whose recipient may see the
        record (``claim`` checked that). Not audited as a read: ``audit_sent`` records it
        once it has gone."""
        return self._service.storage.read_chunks(file.path)

    async def files_sent(self, recipient: Actor, record_id: int) -> set[int]:
        """The softcopies of the record the bot has already sent to ``recipient``."""
        async with self._service.transaction() as repo:
            entries = await repo.audit_entries(record_id=record_id)
        sent = set()
        for entry in entries:
            if entry.action == "file.sent":
                details = json.loads(entry.details)
                if details.get("to") == recipient.user_id:
                    sent.add(int(details["file"]))
        return sent

    async def audit_sent(self, recipient: Actor, record_id: int, files: Sequence[FileView]) -> None:
        """The bot sent these softcopies to ``recipient``: "dikirim ke" in the audit log."""
        async with self._service.transaction() as repo:
            for file in files:
                await self._service.audit(
                    repo,
                    "file.sent",
                    actor_id=None,
                    record_id=record_id,
                    details={
                        "file": file.id,
                        "name": file.original_name,
                        "sha256": file.sha256,
                        "to": recipient.user_id,
                        "to_name": recipient.full_name,
                    },
                )


def _reach(row: UserRow) -> Reach:
    reason = Reason(row.unreachable_reason) if row.unreachable_reason else None
    return Reach(opened=row.contacted_at is not None, unreachable=reason)


__all__ = [
    "Card",
    "ClaimedNotice",
    "Failures",
    "NoticeResult",
    "OutboxService",
    "Reach",
    "Sent",
]
