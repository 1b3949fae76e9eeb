"""Softcopies sent before their record exists (sop.staging), on SQLite and PostgreSQL:
stored at once by the rules of every write, known to the database (no orphan, kept by a
restart's reconciling), attached without a second copy, or removed when declined."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import FileIntentRow, StagedFileRow
from db.session import create_sessionmaker
from sop.errors import DiskFull, DuplicateDocument, NotFound, PermissionDenied
from sop.files import FileRecovery
from sop.integrity import IntegrityChecker
from sop.service import PpidService
from sop.staging import StagingService
from storage import faults
from tests.conftest import PDF_BYTES, Office, chunks_of, sample_fields

SOFTCOPY = PDF_BYTES + b"% sent before /baru\n"


async def rows(engine: AsyncEngine) -> tuple[list[StagedFileRow], list[FileIntentRow]]:
    async with create_sessionmaker(engine)() as session:
        staged = list((await session.scalars(select(StagedFileRow))).all())
        intents = list((await session.scalars(select(FileIntentRow))).all())
        return staged, intents


async def report_ok(engine: AsyncEngine, service: PpidService) -> None:
    report = await IntegrityChecker(
        create_sessionmaker(engine), service.storage, service.clock
    ).check()
    assert report.ok, report.render_text()


async def test_a_staged_softcopy_is_on_disk_survives_reconciling_and_becomes_the_drafts(
    engine: AsyncEngine, service: PpidService, office: Office
) -> None:
    staging = StagingService(service)
    staged = await staging.stage(
        office.petugas, chunks_of(SOFTCOPY), "surat.pdf", "application/pdf"
    )
    [row], intents = await rows(engine)
    assert intents == [] and row.user_id == office.petugas.user_id
    assert await service.storage.read_bytes(row.path) == SOFTCOPY
    # A restart reconciles every write; the staged copy is recorded, so it stays.
    await FileRecovery(create_sessionmaker(engine), service.storage, service.clock).reconcile()
    assert await service.storage.exists(row.path)
    await report_ok(engine, service)

    draft = await service.create_draft(office.petugas, sample_fields(1))
    attached = await staging.attach(office.petugas, draft.id, staged.id)
    assert (attached.path, attached.sha256) == (row.path, staged.sha256)  # not copied
    assert await rows(engine) == ([], [])
    record = await service.record(office.petugas, draft.id)
    assert [f.original_name for f in record.files] == ["surat.pdf"]
    trail = await service.audit_trail(office.admin, draft.id)
    assert "file.stored" in [entry.action for entry in trail]
    await report_ok(engine, service)
    with pytest.raises(NotFound):  # attached once only
        await staging.attach(office.petugas, draft.id, staged.id)


async def test_a_draft_in_another_division_gets_a_copy_in_its_storage(
    engine: AsyncEngine, service: PpidService, office: Office
) -> None:
    staging = StagingService(service)
    staged = await staging.stage(office.petugas, chunks_of(SOFTCOPY), "surat.pdf", None)
    [row], _ = await rows(engine)
    draft = await service.create_draft(office.petugas, sample_fields(2))
    attached = await staging.attach(office.petugas, draft.id, staged.id)
    assert attached.path != row.path and attached.sha256 == staged.sha256
    assert not await service.storage.exists(row.path)
    assert await service.storage.read_bytes(attached.path) == SOFTCOPY
    assert await rows(engine) == ([], [])
    await report_ok(engine, service)


async def test_the_same_content_twice_is_refused_and_declined_ones_are_removed(
    engine: AsyncEngine, service: PpidService, office: Office
) -> None:
    staging = StagingService(service)
    first = await staging.stage(office.petugas, chunks_of(SOFTCOPY), "a.pdf", None)
    second = await staging.stage(office.petugas, chunks_of(SOFTCOPY), "b.pdf", None)
    draft = await service.create_draft(office.petugas, sample_fields(1))
    await staging.attach(office.petugas, draft.id, first.id)
    with pytest.raises(DuplicateDocument):
        await staging.attach(office.petugas, draft.id, second.id)
    assert (await rows(engine))[0] == []  # the record holds the content: nothing lost

    declined = await staging.stage(office.petugas, chunks_of(SOFTCOPY + b"%x\n"), "c.pdf", None)
    [row], _ = await rows(engine)
    # Someone else's staged softcopy is neither theirs to attach nor to drop.
    other_draft = await service.create_draft(office.petugas_other, sample_fields(2))
    with pytest.raises(NotFound):
        await staging.attach(office.petugas_other, other_draft.id, declined.id)
    assert await staging.drop(office.petugas_other, [declined.id]) == 0
    assert await staging.drop(office.petugas, [declined.id]) == 1
    assert not await service.storage.exists(row.path)
    assert await rows(engine) == ([], [])
    await report_ok(engine, service)


async def test_only_a_petugas_ppid_stages_and_a_full_disk_keeps_nothing(
    engine: AsyncEngine, service: PpidService, office: Office
) -> None:
    staging = StagingService(service)
    with pytest.raises(PermissionDenied):
        await staging.stage(office.dokumentasi, chunks_of(SOFTCOPY), "surat.pdf", None)
    faults.arm("storage.chunk", "enospc")
    try:
        with pytest.raises(DiskFull):
            await staging.stage(office.petugas, chunks_of(SOFTCOPY), "surat.pdf", None)
    finally:
        faults.disarm()
    assert await rows(engine) == ([], [])
    await report_ok(engine, service)
    assert (await staging.stage(office.petugas, chunks_of(SOFTCOPY), "surat.pdf", None)).size
