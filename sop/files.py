"""Crash-consistent file writes: intent rows, and their reconciliation after a crash.

Every write into the storage follows one rule. Its final path is decided first and
committed as a ``file_intents`` row; then the bytes are written; then the transaction that
records them (a new record_files row, or a row pointed at a moved copy) deletes the intent.
A file that must go (the old copy of a moved file) gets a ``discard`` intent in that same
transaction and is removed after the commit. So after a crash at any point, every path that
could hold an unrecorded file is named by an intent, and reconciling is simple: a path that
no record_files row refers to is removed, and its intent settled.

An upload cut short (the bot died while the file was downloaded from Telegram) is not
forgotten: its intent stays, marked ``interrupted``, until the sender has been told that the
file was not stored (:meth:`FileRecovery.interrupted_uploads`, :meth:`FileRecovery.settle`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import FileIntentRow
from db.repositories import Repository
from sop.clock import Clock
from storage import DocumentStorage, PlannedFile, StorageError

log = logging.getLogger(__name__)

PROVISIONAL_PREFIX = "BRK-"  # sop.service.PROVISIONAL_PREFIX (not imported: no cycle)

#: An intent older than this cannot belong to a write still running (an upload is at most
#: 20 MB with a two-minute read timeout; a step-3 copy is local): ``ppidbot check`` and the
#: weekly check reconcile these while the bot runs; younger ones are writes in progress.
STALE_INTENT_AGE = timedelta(hours=1)


class Purpose(StrEnum):
    UPLOAD = "upload"  # a softcopy sent by a person, downloaded from Telegram
    MERGE = "merge"  # page photos joined into one PDF
    COPY = "copy"  # step 3: the copy into the PPID internal storage
    MOVE = "move"  # the copy of a file into another division's storage
    DISCARD = "discard"  # a file that must go once its transaction committed


def intent_row(
    planned: PlannedFile,
    purpose: Purpose,
    at: datetime,
    *,
    record_id: int | None = None,
    user_id: int | None = None,
    original_name: str | None = None,
) -> FileIntentRow:
    return FileIntentRow(
        path=planned.path,
        purpose=purpose,
        record_id=record_id,
        user_id=user_id,
        original_name=(original_name or planned.original_name)[:500],
        created_at=at,
    )


def discard_row(path: str, at: datetime, *, record_id: int | None = None) -> FileIntentRow:
    return FileIntentRow(path=path, purpose=Purpose.DISCARD, record_id=record_id, created_at=at)


@dataclass(frozen=True, slots=True)
class InterruptedUpload:
    """A softcopy whose download a crash cut short: its sender must hear it was not stored."""

    intent_id: int
    telegram_id: int | None
    record_id: int | None
    record_number: str | None
    original_name: str
    started_at: datetime


@dataclass(frozen=True, slots=True)
class Reconciled:
    """What reconciling found: files removed, intents settled, uploads now interrupted."""

    removed: list[str] = field(default_factory=list)
    settled: int = 0
    interrupted: int = 0
    in_progress: list[str] = field(default_factory=list)


class FileRecovery:
    """Reconciles the storage with the database from the intent rows (see module)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        storage: DocumentStorage,
        clock: Clock,
    ) -> None:
        self._sessions = sessions
        self.storage = storage
        self.clock = clock

    async def reconcile(self, *, min_age: timedelta | None = None) -> Reconciled:
        """Remove every unrecorded file an intent names and settle the intent.

        Without ``min_age`` every intent is reconciled: call it so only when no write can be
        running (at start, before the bot takes updates). With ``min_age`` only intents older
        than that; the younger ones are listed as ``in_progress`` and left alone.
        """
        now = self.clock.now().astimezone(UTC)
        async with self._sessions() as session, session.begin():
            repo = Repository(session)
            everything = await repo.unsettled_intents()
            cutoff = now - min_age if min_age is not None else None
            due = [i for i in everything if cutoff is None or i.created_at < cutoff]
            young = [i.path for i in everything if cutoff is not None and i.created_at >= cutoff]
            recorded = await repo.known_file_paths([i.path for i in due])
            pending = [(i.id, i.path, i.purpose, i.user_id) for i in due]
        removed: list[str] = []
        for _, path, _, _ in pending:
            if path in recorded:
                continue
            try:
                if await self.storage.exists(path):
                    removed.append(path)
                await self.storage.delete(path)
            except StorageError as exc:  # an unsafe path in the table: leave the disk alone
                log.warning("not removing intent path %r: %s", path, exc.message)
        interrupted = [
            intent_id
            for intent_id, path, purpose, user_id in pending
            if purpose == Purpose.UPLOAD and user_id is not None and path not in recorded
        ]
        settled = [intent_id for intent_id, *_ in pending if intent_id not in set(interrupted)]
        async with self._sessions() as session, session.begin():
            repo = Repository(session)
            await repo.mark_intents_interrupted(interrupted, now)
            await repo.delete_intents_by_id(settled)
        if removed:
            log.warning("removed %d file(s) left by interrupted writes: %s", len(removed), removed)
        return Reconciled(removed, len(settled), len(interrupted), young)

    async def interrupted_uploads(self) -> list[InterruptedUpload]:
        """Uploads a crash cut short whose senders were not told yet."""
        async with self._sessions() as session, session.begin():
            repo = Repository(session)
            result = []
            for row in await repo.interrupted_intents():
                user = await repo.user(row.user_id) if row.user_id is not None else None
                record = await repo.record(row.record_id) if row.record_id is not None else None
                number = None
                if record is not None:
                    number = record.register_number or f"{PROVISIONAL_PREFIX}{record.id}"
                result.append(
                    InterruptedUpload(
                        intent_id=row.id,
                        telegram_id=user.telegram_id if user is not None else None,
                        record_id=row.record_id,
                        record_number=number,
                        original_name=row.original_name or "berkas",
                        started_at=row.created_at,
                    )
                )
            return result

    async def settle(self, intent_id: int) -> None:
        """The sender of an interrupted upload was told (or cannot be): forget it."""
        async with self._sessions() as session, session.begin():
            await Repository(session).delete_intents_by_id([intent_id])
