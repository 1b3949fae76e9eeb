"""The document texts on both databases (sop.document_text): a stored softcopy is queued in
the transaction that records it, a worker claims and saves it, the result is audited
without any text, the sender is told once the record's last softcopy is read, failures are
retried and then given up (the file stays), claimed work resumes after a restart, and only
people who may see the record see its texts' state and hints."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.text_jobs import private_copy
from db.models import AuditRow, DocumentTextRow
from db.session import create_sessionmaker
from db.texts import TextStatus, Work
from sop.document_text import MAX_ATTEMPTS, TextService
from sop.errors import NotFound
from sop.extraction import Method
from sop.pii import PiiKind
from sop.service import PpidService
from sop.text_reading import ReadResult, read_document
from tests.conftest import Office, chunks_of, sample_fields
from tests.support.pages import text_pdf

NIK = "1371015708900001"


def page_pdf(*lines: str) -> bytes:
    return text_pdf([["Daftar pemilih disabilitas"], list(lines)])


async def attach(
    service: PpidService, office: Office, record_id: int, data: bytes, name: str
) -> int:
    file = await service.attach_file(
        office.petugas, record_id, chunks_of(data), name, "application/pdf"
    )
    return file.id


async def read(service: PpidService, work: Work) -> ReadResult:
    """What a reader process does (here, without OCR), on a private copy of the file."""
    assert work.path is not None
    async with private_copy(service.storage, work.path) as path:
        return read_document(path, work.mime_type, None)


async def read_all(texts: TextService, service: PpidService) -> int:
    """What the worker does, in this process: claim, read, save."""
    done = 0
    while work := await texts.claim(2):
        for item in work:
            await texts.save(item, await read(service, item))
            done += 1
    return done


async def statuses(engine: AsyncEngine) -> list[str]:
    async with create_sessionmaker(engine)() as session:
        rows = await session.scalars(select(DocumentTextRow).order_by(DocumentTextRow.id))
        return [row.status for row in rows]


async def test_a_stored_softcopy_is_read_audited_without_text_and_its_sender_told(
    service: PpidService, office: Office, engine: AsyncEngine
) -> None:
    texts = TextService(service)
    record = await service.create_draft(office.petugas, sample_fields())
    await attach(service, office, record.id, page_pdf(f"NIK {NIK}", "Telp 0812 6634 7781"), "a.pdf")
    assert await statuses(engine) == [TextStatus.PENDING]
    shown = await texts.record_texts(office.petugas, record.id)
    assert [d.waiting for d in shown] == [True]

    assert await read_all(texts, service) == 1

    [document] = await texts.record_texts(office.dokumentasi, record.id)
    assert document.status == TextStatus.READY and document.method is Method.TEXT_LAYER
    assert document.pages == 2 and document.problem is None
    assert document.hints is not None
    nik = document.hints.finding(PiiKind.NIK)
    assert (
        nik is not None
        and nik.pages == (2,)
        and [s.text for s in nik.samples] == ["1371********0001"]
    )
    async with create_sessionmaker(engine)() as session:
        audit = (
            await session.scalars(select(AuditRow).where(AuditRow.action == "file.text_read"))
        ).all()
    assert [a.record_id for a in audit] == [record.id]
    assert NIK not in audit[0].details and "0812" not in audit[0].details
    assert '"hints":{"nik":1,"phone":1}' in audit[0].details

    [notice] = await texts.notices()
    assert notice.user_id == office.petugas.user_id and notice.record_id == record.id
    assert [d.name for d in notice.documents] == ["a.pdf"]
    await texts.told(notice.text_ids)
    assert await texts.notices() == []
    assert await statuses(engine) == [TextStatus.DONE]


async def test_the_sender_is_told_once_the_last_softcopy_of_the_record_is_read(
    service: PpidService, office: Office
) -> None:
    texts = TextService(service)
    record = await service.create_draft(office.petugas, sample_fields())
    await attach(service, office, record.id, page_pdf("satu"), "a.pdf")
    await attach(service, office, record.id, page_pdf("dua"), "b.pdf")
    [first] = await texts.claim(1)
    await texts.save(first, await read(service, first))
    assert await texts.notices() == []  # b.pdf is still waiting
    await read_all(texts, service)
    [notice] = await texts.notices()
    assert sorted(d.name for d in notice.documents) == ["a.pdf", "b.pdf"]


async def test_the_same_content_is_read_once(service: PpidService, office: Office) -> None:
    texts = TextService(service)
    one = await service.create_draft(office.petugas, sample_fields())
    two = await service.create_draft(office.petugas, sample_fields(title="Salinan kedua"))
    data = page_pdf("sama")
    await attach(service, office, one.id, data, "a.pdf")
    await attach(service, office, two.id, data, "a.pdf")
    assert await read_all(texts, service) == 1
    assert {n.record_id for n in await texts.notices()} == {one.id, two.id}


async def test_a_failing_document_is_retried_then_given_up_and_still_stored(
    service: PpidService, office: Office, engine: AsyncEngine
) -> None:
    texts = TextService(service)
    record = await service.create_draft(office.petugas, sample_fields())
    file_id = await attach(service, office, record.id, page_pdf("x"), "a.pdf")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        [work] = await texts.claim(1)
        assert work.attempts == attempt
        await texts.fail(work, "TimeoutExpired")
    assert await texts.claim(1) == []
    [document] = await texts.record_texts(office.petugas, record.id)
    assert document.problem == "failed" and document.read
    [notice] = await texts.notices()
    assert notice.documents[0].file_id == file_id
    view, chunks = await service.read_file(office.petugas, file_id)
    assert b"".join([chunk async for chunk in chunks]).startswith(b"%PDF")
    assert view.original_name == "a.pdf"


async def test_work_claimed_before_a_stop_is_resumed_at_start(
    service: PpidService, office: Office, engine: AsyncEngine
) -> None:
    texts = TextService(service)
    record = await service.create_draft(office.petugas, sample_fields())
    await attach(service, office, record.id, page_pdf("x"), "a.pdf")
    [claimed] = await texts.claim(1)
    assert await statuses(engine) == [TextStatus.RUNNING]
    await TextService(service).start(ocr_enabled=False)  # the bot started again
    assert await statuses(engine) == [TextStatus.PENDING]
    await texts.save(claimed, await read(service, claimed))
    assert await statuses(engine) == [TextStatus.PENDING]  # the stale run saves nothing
    assert await read_all(texts, service) == 1


async def test_a_scan_read_without_ocr_waits_for_ocr_to_be_turned_on(
    service: PpidService, office: Office, engine: AsyncEngine
) -> None:
    from tests.support import documents

    texts = TextService(service)
    record = await service.create_draft(office.petugas, sample_fields())
    await attach(service, office, record.id, documents.pdf(), "pindaian.pdf")
    await read_all(texts, service)
    [notice] = await texts.notices()
    assert notice.documents[0].problem == "needs_ocr"
    await texts.told(notice.text_ids)
    assert await statuses(engine) == [TextStatus.SKIPPED]
    await texts.start(ocr_enabled=False)
    assert await statuses(engine) == [TextStatus.SKIPPED]
    await texts.start(ocr_enabled=True)
    assert await statuses(engine) == [TextStatus.PENDING]


async def test_only_those_who_may_see_the_record_see_its_texts(
    service: PpidService, office: Office
) -> None:
    texts = TextService(service)
    record = await service.create_draft(office.petugas, sample_fields())
    await attach(service, office, record.id, page_pdf(f"NIK {NIK}"), "a.pdf")
    with pytest.raises(NotFound):
        await texts.record_texts(office.petugas_other, record.id)
