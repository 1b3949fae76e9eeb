"""Softcopies sent before a record exists: stored on disk at once, attached later.

A Petugas PPID often sends the document first and only then thinks of /baru. The bot
offers to start a record with it; until they accept (or decline) the file must not live
only as a Telegram reference. So it is downloaded and stored right away, by the rules of
every write (:mod:`sop.files`: an intent committed first, then the bytes, then the row
that records them, here a ``staged_files`` row, in the same transaction that settles the
intent). A crash in the middle leaves an interrupted upload that its sender hears about.

When the record is started, a staged file in the record's division storage becomes the
record's softcopy as it lies (the row moves, the bytes stay); one staged in another
division's storage (the officer chose another division) is copied through the usual
upload and the staged copy removed. Declining the offer removes the staged files.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import DBAPIError

from db.models import StagedFileRow
from sop.errors import DuplicateDocument, InvalidTransition, NotFound, PermissionDenied
from sop.files import Purpose, discard_row, intent_row
from sop.model import Actor, FileView, Role, State
from sop.service import (
    PpidService,
    _database_full,
    _file_details,
    _file_row,
    _file_view,
    _printable_name,
)
from sop.softcopy import softcopy_type
from storage import Area, StorageError, StoredFile, faults

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StagedFile:
    """A softcopy stored before its record exists."""

    id: int
    original_name: str
    mime_type: str | None
    size: int
    sha256: str
    created_at: datetime


def _view(row: StagedFileRow) -> StagedFile:
    return StagedFile(
        row.id, row.original_name, row.mime_type, row.size, row.sha256, row.created_at
    )


class StagingService:
    def __init__(self, service: PpidService) -> None:
        self.service = service

    async def stage(
        self,
        actor: Actor,
        chunks: AsyncIterable[bytes],
        original_name: str,
        mime_type: str | None,
    ) -> StagedFile:
        """Store a softcopy a Petugas PPID sent outside /baru in their division's storage
        (checked like any upload: its type, its size, its content)."""
        service = self.service
        kind = softcopy_type(original_name, mime_type)
        name = _printable_name(original_name)
        try:
            async with service.transaction() as repo:
                actor = await service.fresh_actor(repo, actor)
                if not actor.has(Role.PETUGAS_PPID):
                    raise PermissionDenied("Hanya Petugas PPID yang dapat mengirim softcopy.")
                division = await repo.division(actor.division_id) if actor.division_id else None
                planned = service.storage.plan(
                    Area.DIVISION, division.slug if division else "lainnya", original_name
                )
                await repo.add_intents(
                    [
                        intent_row(
                            planned,
                            Purpose.UPLOAD,
                            service.now(),
                            user_id=actor.user_id,
                            original_name=name,
                        )
                    ]
                )
        except DBAPIError as exc:
            if not _database_full(exc):
                raise
            raise await service._disk_full(actor, None, "upload", name) from exc
        await faults.reached("upload.intent")
        try:
            stored = await service.storage.write(planned, chunks, inspect=kind.inspector(name))
        except BaseException as exc:
            await service._forget_intents([planned.path])
            if isinstance(exc, StorageError):
                raise await service._file_refusal(exc, actor, None, "upload", name) from exc
            raise
        try:
            async with service.transaction() as repo:
                row = await repo.add_staged(
                    StagedFileRow(
                        user_id=actor.user_id,
                        division_id=division.id if division else None,
                        path=stored.path,
                        original_name=name,
                        mime_type=(mime_type or kind.mime_type)[:128],
                        size=stored.size,
                        sha256=stored.sha256,
                        created_at=service.now(),
                    )
                )
                await repo.delete_intents([planned.path])
                return _view(row)
        except BaseException as exc:
            await service._drop_written([stored.path])
            if isinstance(exc, DBAPIError) and _database_full(exc):
                raise await service._disk_full(actor, None, "upload", name) from exc
            raise

    async def attach(self, actor: Actor, record_id: int, staged_id: int) -> FileView:
        """Make a staged softcopy a softcopy of the actor's draft ``record_id``."""
        service = self.service
        duplicate: str | None = None
        async with service.transaction() as repo:
            actor = await service.fresh_actor(repo, actor)
            found = await repo.staged([staged_id], actor.user_id)
            if not found:
                raise NotFound("Softcopy yang dikirim sebelumnya tidak ditemukan lagi.")
            staged = found[0]
            row = await service.load(repo, actor, record_id, lock=True)
            if State(row.state) is not State.DRAFT:
                raise InvalidTransition("Berkas hanya dapat dilampirkan pada langkah 1.")
            service._check_editor(actor, row)
            moved = staged.division_id != row.division_id
            if not moved:
                for other in await repo.files_with_hash(staged.sha256, area=Area.DIVISION):
                    if other.record_id == record_id:
                        duplicate = other.original_name
                if duplicate is None:
                    stored = StoredFile(
                        staged.path,
                        Area.DIVISION,
                        staged.size,
                        staged.sha256,
                        staged.original_name,
                        staged.path.rsplit("/", 1)[-1],
                    )
                    await repo.delete_staged([staged.id])
                    file_row = await repo.add_file(
                        _file_row(record_id, stored, staged.mime_type, actor.user_id, service.now())
                    )
                    row.updated_at = service.now()
                    await service.audit(
                        repo,
                        "file.stored",
                        actor_id=actor.user_id,
                        record_id=record_id,
                        details=_file_details(stored),
                    )
                    return _file_view(file_row)
            path, name, mime = staged.path, staged.original_name, staged.mime_type
        if duplicate is not None:  # the content is in the record already: nothing is lost
            await self.drop(actor, [staged_id])
            raise DuplicateDocument(
                f"Dokumen yang sama persis ({duplicate}) sudah dilampirkan pada berkas ini; "
                "tidak disimpan dua kali."
            )
        # Staged in another division's storage: copied into the record's, like an upload.
        attached = await service.attach_file(
            actor, record_id, service.storage.read_chunks(path), name, mime
        )
        await self.drop(actor, [staged_id])
        return attached

    async def drop(self, actor: Actor, staged_ids: Sequence[int]) -> int:
        """Remove staged softcopies the person declined (or that were copied elsewhere);
        returns how many there were."""
        service = self.service
        async with service.transaction() as repo:
            rows = await repo.staged(staged_ids, actor.user_id)
            paths = [row.path for row in rows]
            await repo.delete_staged([row.id for row in rows])
            await repo.add_intents([discard_row(path, service.now()) for path in paths])
        await service._drop_written(paths)
        return len(rows)


__all__ = ["StagedFile", "StagingService"]
