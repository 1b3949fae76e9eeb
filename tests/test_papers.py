"""The papers: handover records, the consequence-test sheet and the classification
decision built from the register, issued with a verification code, rendered to PDF (read
back with pypdf, the QR read by zbar), and verified against the register."""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from sqlalchemy import update

from bot.papers.pdf import render, renderer
from db.models import AuditRow, RecordRow
from sop.clock import ManualClock
from sop.errors import InvalidInput, InvalidTransition, NotFound
from sop.model import Role, State, Step
from sop.papers import (
    DEFAULT_BODY,
    AuditRef,
    ConsequenceTest,
    DocumentKind,
    HandoverRecord,
    PaperFile,
    PaperUnavailable,
    Party,
    RecordRef,
    content_sha256,
    from_json,
    missing_for_consequence_test,
    to_json,
)
from sop.service import PpidService
from sop.validation import validate_fields
from sop.verification import (
    FileStatus,
    PapersService,
    Verdict,
    code_in_pdf,
    format_code,
    normalize_code,
)
from storage import Area, DocumentStorage
from tests.conftest import PDF_BYTES, Office, chunks_of, sample_fields
from tests.papers_support import CONSEQUENCE, pdf_text, qr_codes, stored_record


def papers_of(service: PpidService) -> PapersService:
    return PapersService(service, renderer())


# -- the consequence test's fields ---------------------------------------------------------
#: A record whose consequence test has only its short form (as /baru makes it when the
#: Petugas PPID leaves the rest to the Pejabat PPID).
WITHOUT_TEST_PARTS: dict[str, object] = {
    "harm_if_opened": None,
    "public_interest": None,
    "weighing": None,
}


def test_missing_for_consequence_test_names_what_the_test_lacks() -> None:
    fields = sample_fields(**WITHOUT_TEST_PARTS)
    assert missing_for_consequence_test(fields) == ("harm_if_opened", "public_interest", "weighing")
    partial = replace(fields, harm_if_opened="Bahaya bagi pemilih.")
    assert missing_for_consequence_test(partial) == ("public_interest", "weighing")
    assert missing_for_consequence_test(replace(fields, **CONSEQUENCE)) == ()


def test_consequence_parts_are_optional_but_checked_when_given() -> None:
    today = datetime(2026, 11, 23).date()
    cleaned = validate_fields(sample_fields(harm_if_opened="  ", weighing=None), today)
    assert (cleaned.harm_if_opened, cleaned.weighing) == (None, None)
    with pytest.raises(InvalidInput, match="Kepentingan publik terlalu pendek"):
        validate_fields(sample_fields(public_interest="ya"), today)
    with pytest.raises(InvalidInput, match="terlalu panjang"):
        validate_fields(sample_fields(weighing="x" * 1001), today)


async def test_the_parts_and_the_internal_mark_are_stored_and_audited(
    service: PpidService, office: Office
) -> None:
    draft = await service.create_draft(office.petugas, sample_fields(**WITHOUT_TEST_PARTS))
    assert missing_for_consequence_test(draft) == CONSEQUENCE_FIELDS
    updated = await service.update_fields(
        office.petugas, draft.id, {**CONSEQUENCE, "internal": True}
    )
    assert missing_for_consequence_test(updated) == ()
    assert updated.fields.internal is True
    again = await service.record(office.pejabat, draft.id)
    assert again.fields.harm_if_opened == CONSEQUENCE["harm_if_opened"]
    [entry] = [
        e
        for e in await service.audit_trail(office.pejabat, draft.id)
        if e.action == "record.updated"
    ]
    assert entry.details["changes"]["internal"] == {"old": False, "new": True}  # type: ignore[index]


CONSEQUENCE_FIELDS = ("harm_if_opened", "public_interest", "weighing")


# -- codes ---------------------------------------------------------------------------------
async def test_step3_needs_the_whole_consequence_test_which_the_pejabat_may_complete(
    service: PpidService, office: Office
) -> None:
    draft = await service.create_draft(office.petugas, sample_fields(**WITHOUT_TEST_PARTS))
    await service.attach_file(
        office.petugas, draft.id, chunks_of(PDF_BYTES), "daftar.pdf", "application/pdf"
    )
    # The Petugas PPID gives one part in step 1 and leaves the rest to the Pejabat PPID.
    await service.update_fields(
        office.petugas, draft.id, {"harm_if_opened": CONSEQUENCE["harm_if_opened"]}
    )
    await service.complete_produce(office.petugas, draft.id, verified=True)
    await service.complete_handover(office.dokumentasi, draft.id)
    with pytest.raises(InvalidTransition) as refused:
        await service.complete_receive(office.pejabat, draft.id)
    assert refused.value.message.startswith(
        "Uji konsekuensi belum lengkap: Kepentingan publik, Pertimbangan (penyeimbangan) "
        "belum diisi."
    )
    # In step 3 the Pejabat PPID may fill the test's parts, and only those.
    with pytest.raises(InvalidTransition):
        await service.update_fields(office.pejabat, draft.id, {"title": "Judul lain"})
    with pytest.raises(InvalidTransition):
        await service.update_fields(
            office.dokumentasi, draft.id, {"weighing": CONSEQUENCE["weighing"]}
        )
    record = await service.update_fields(
        office.pejabat,
        draft.id,
        {"public_interest": CONSEQUENCE["public_interest"], "weighing": CONSEQUENCE["weighing"]},
    )
    assert missing_for_consequence_test(record) == ()
    stored = (await service.complete_receive(office.pejabat, draft.id)).record
    assert stored.state is State.STORED
    [entry] = [
        e
        for e in await service.audit_trail(office.pejabat, draft.id)
        if e.action == "record.updated" and e.actor_user_id == office.pejabat.user_id
    ]
    assert entry.details["fields"] == ["public_interest", "weighing"]
    with pytest.raises(InvalidTransition):  # stored: nothing changes any more
        await service.update_fields(office.pejabat, draft.id, {"weighing": "Pertimbangan lain."})


def test_codes_are_typed_back_forgivingly() -> None:
    assert normalize_code("abcde-fghjk") == "ABCDEFGHJK"
    assert normalize_code(" 0O1IL-22222 ") == "0011122222"
    assert format_code("ABCDEFGHJK") == "ABCDE-FGHJK"
    for wrong in ("ABCD", "ABCDE-FGHJU", "ABCDEFGHJKM"):
        with pytest.raises(InvalidInput, match="Kode verifikasi tidak dikenali"):
            normalize_code(wrong)


# -- the papers as data and as PDF ----------------------------------------------------------
def sample_handover() -> HandoverRecord:
    at = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
    return HandoverRecord(
        step=Step.RECEIVE,
        body=DEFAULT_BODY,
        record=RecordRef(7, "DIK-2026-0007", "DIK-2026-0007", "Surat rahasia pemilu", "Hukum"),
        giver=Party("Sari Dokumentasi", Role.PETUGAS_DOKUMENTASI),
        receiver=Party("Andi Pejabat", Role.PEJABAT_PPID),
        at=at,
        files=(PaperFile("surat–1 ‘asli’.pdf", 2048, "ab" * 32, Area.PPID.value),),
        audit=AuditRef(42, "cd" * 32, at, "step3.done"),
    )


def test_a_paper_round_trips_through_its_canonical_json() -> None:
    document = sample_handover()
    assert from_json(to_json(document)) == document
    assert content_sha256(document) == hashlib.sha256(to_json(document).encode()).hexdigest()


def test_the_pdf_is_reproducible_and_reads_back(tmp_path: Path) -> None:
    document = sample_handover()
    first = render(document, "ABCDEFGHJK")
    assert first.startswith(b"%PDF-")
    assert hashlib.sha256(render(document, "ABCDEFGHJK")).digest() == hashlib.sha256(first).digest()
    assert render(document, "ZZZZZZZZZZ") != first
    text = pdf_text(first)
    for expected in (
        "KOMISI PEMILIHAN UMUM PROVINSI SUMATERA BARAT",
        "BERITA ACARA SERAH TERIMA",
        "Senin, 23 November 2026 08.30 WIB",  # 01:30 UTC shown in WIB
        "Sari Dokumentasi, Petugas Dokumentasi",
        "Andi Pejabat, Pejabat PPID",
        "DIK-2026-0007",
        "Surat rahasia pemilu",
        "surat–1 ‘asli’.pdf",  # Indonesian text and typographic marks render
        "2 KB",
        "Kode verifikasi: ABCDE-FGHJK",
        "Cap",
    ):
        assert expected in text, expected
    assert "ab" * 32 in text.replace(" ", "")
    assert code_in_pdf(first) == "ABCDEFGHJK"


def test_the_qr_code_carries_the_verification_code(tmp_path: Path) -> None:
    assert qr_codes(render(sample_handover(), "Q1W2E3R4T5"), tmp_path) == ["Q1W2E-3R4T5"]


# -- issuing from the register -----------------------------------------------------------
async def test_every_paper_of_a_stored_record_is_issued_once(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    record = await stored_record(service, office, clock, **CONSEQUENCE)
    papers = papers_of(service)
    issued = await papers.issue_all(None, record.id)
    assert [paper.kind for paper in issued] == [
        DocumentKind.CONSEQUENCE_TEST,
        DocumentKind.CLASSIFICATION,
        DocumentKind.HANDOVER_STEP2,
        DocumentKind.HANDOVER_STEP3,
    ]
    assert all(paper.new for paper in issued)
    assert len({paper.code for paper in issued}) == 4
    by_kind = {paper.kind: paper for paper in issued}

    step2 = by_kind[DocumentKind.HANDOVER_STEP2].document
    step3 = by_kind[DocumentKind.HANDOVER_STEP3].document
    assert isinstance(step2, HandoverRecord) and isinstance(step3, HandoverRecord)
    assert (step2.giver.name, step2.receiver.name) == ("Rina Petugas", "Sari Dokumentasi")
    assert (step3.giver.name, step3.receiver.name) == ("Sari Dokumentasi", "Andi Pejabat")
    assert [f.area for f in step2.files] == ["divisi"] and [f.area for f in step3.files] == ["ppid"]
    assert step3.files[0].sha256 == record.files[0].sha256
    trail = await service.audit_trail(office.pejabat, record.id)
    assert step3.audit.seq == next(e.seq for e in trail if e.action == "step3.done")

    text = pdf_text(by_kind[DocumentKind.HANDOVER_STEP3].pdf)
    assert "DIK-2026-0001" in text and "Senin, 23 November 2026 08.30 WIB" in text
    assert f"Kode verifikasi: {format_code(by_kind[DocumentKind.HANDOVER_STEP3].code)}" in text

    sheet = pdf_text(by_kind[DocumentKind.CONSEQUENCE_TEST].pdf)
    for expected in (
        "LEMBAR PENGUJIAN KONSEKUENSI",
        "Pasal 17 huruf h UU 14/2008",
        CONSEQUENCE["harm_if_opened"],
        CONSEQUENCE["public_interest"],
        "daftar-pemilih.pdf",
        "Padang, 20 November 2026",
        "Andi Pejabat",
    ):
        assert expected in sheet, expected
    assert "PERHATIAN" not in sheet
    decision = pdf_text(by_kind[DocumentKind.CLASSIFICATION].pdf)
    for expected in (
        "PENETAPAN INFORMASI YANG DIKECUALIKAN",
        "Jenis klasifikasi",
        "h. mengungkap rahasia pribadi",
        "Pejabat PPID yang menetapkan Andi Pejabat",
        "Unit kerja yang menguasai informasi Keuangan, Umum dan Logistik",
        "Jangka waktu pengecualian permanen",
        "Tempat dan tanggal penetapan Padang, 20 November 2026",
    ):
        assert expected in decision, expected

    again = await papers.issue_all(None, record.id)
    assert [(p.code, p.new, p.reproduced) for p in again] == [(p.code, False, True) for p in issued]
    assert [p.pdf for p in again] == [p.pdf for p in issued]
    trail = await service.audit_trail(office.pejabat, record.id)
    assert sum(e.action == "document.issued" for e in trail) == 4


async def test_an_incomplete_sheet_says_so_and_a_draft_has_no_handover(
    service: PpidService, office: Office
) -> None:
    draft = await service.create_draft(office.petugas, sample_fields(**WITHOUT_TEST_PARTS))
    papers = papers_of(service)
    assert await papers.kinds(office.petugas, draft.id) == (
        DocumentKind.CONSEQUENCE_TEST,
        DocumentKind.CLASSIFICATION,
    )
    sheet = await papers.issue(office.petugas, draft.id, DocumentKind.CONSEQUENCE_TEST)
    assert isinstance(sheet.document, ConsequenceTest)
    assert sheet.document.missing == CONSEQUENCE_FIELDS
    text = pdf_text(sheet.pdf)
    assert "PERHATIAN: pengujian belum lengkap" in text and "belum diisi" in text
    assert "BRK-1" in text
    with pytest.raises(PaperUnavailable):
        await papers.issue(office.petugas, draft.id, DocumentKind.HANDOVER_STEP2)
    with pytest.raises(NotFound):  # another division's Petugas learns nothing
        await papers.issue(office.petugas_other, draft.id, DocumentKind.CONSEQUENCE_TEST)


# -- verification ------------------------------------------------------------------------
async def test_verify_matches_then_detects_a_changed_file(
    service: PpidService, office: Office, clock: ManualClock, storage: DocumentStorage
) -> None:
    record = await stored_record(service, office, clock)
    papers = papers_of(service)
    paper = await papers.issue(None, record.id, DocumentKind.HANDOVER_STEP3)

    result = await papers.verify(format_code(paper.code).lower())
    assert result.verdict is Verdict.MATCHES
    assert [check.status for check in result.files] == [FileStatus.OK]
    assert result.chain is not None and result.chain.ok
    assert (await papers.verify(paper.pdf)).pdf_identical is True

    ppid_file = next(f for f in record.files if f.area == Area.PPID.value)
    storage.absolute(ppid_file.path).write_bytes(b"%PDF-1.4 diganti\n%%EOF\n")
    result = await papers.verify(paper.code)
    assert result.verdict is Verdict.CHANGED
    assert [check.status for check in result.files] == [FileStatus.ALTERED]
    assert result.changes == ()  # the register itself did not change

    storage.absolute(ppid_file.path).unlink()
    result = await papers.verify(paper.code)
    assert [check.status for check in result.files] == [FileStatus.MISSING]


async def test_verify_detects_a_changed_record_and_a_repeated_step(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    draft = await service.create_draft(office.petugas, sample_fields())
    await service.attach_file(
        office.petugas, draft.id, chunks_of(b"%PDF-1.4 a"), "a.pdf", "application/pdf"
    )
    await service.complete_produce(office.petugas, draft.id, verified=True)
    await service.complete_handover(office.dokumentasi, draft.id)
    papers = papers_of(service)
    step2 = await papers.issue(None, draft.id, DocumentKind.HANDOVER_STEP2)
    decision = await papers.issue(None, draft.id, DocumentKind.CLASSIFICATION)
    assert (await papers.verify(step2.code)).verdict is Verdict.MATCHES

    # Someone edits the title in the database behind the bot's back.
    async with service.transaction() as repo:
        await repo.session.execute(
            update(RecordRow).where(RecordRow.id == draft.id).values(title="Judul lain sekali")
        )
    result = await papers.verify(decision.code)
    assert result.verdict is Verdict.CHANGED
    assert result.changes == ("record",)

    # The Pejabat PPID returns it to step 2 and it is handed over again: the old
    # handover record no longer describes the latest hand-over.
    clock.advance(timedelta(minutes=5))
    await service.return_record(office.pejabat, draft.id, Step.HANDOVER, "Periksa ulang datanya.")
    clock.advance(timedelta(minutes=5))
    await service.complete_handover(office.dokumentasi, draft.id)
    result = await papers.verify(step2.code)
    assert result.verdict is Verdict.CHANGED
    assert "audit" in result.changes and "at" in result.changes


async def test_verify_detects_a_rewritten_audit_entry(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    record = await stored_record(service, office, clock)
    papers = papers_of(service)
    paper = await papers.issue(None, record.id, DocumentKind.HANDOVER_STEP3)
    async with service.transaction() as repo:
        await repo.session.execute(
            update(AuditRow)
            .where(AuditRow.seq == paper.document.audit.seq)
            .values(details='{"state":"stored","register_number":"DIK-2026-9999"}')
        )
    result = await papers.verify(paper.code)
    assert result.verdict is Verdict.CHANGED
    assert result.chain is not None
    assert (
        f"entry {paper.document.audit.seq}: content does not match its hash"
        in result.chain.problems
    )


async def test_verify_a_pdf_file(service: PpidService, office: Office, clock: ManualClock) -> None:
    record = await stored_record(service, office, clock)
    papers = papers_of(service)
    paper = await papers.issue(None, record.id, DocumentKind.HANDOVER_STEP3)
    assert (await papers.verify(paper.pdf)).verdict is Verdict.MATCHES
    # Saved again by another program: other bytes, the same code in the metadata.
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(paper.pdf)))
    writer.add_metadata({"/Producer": "pencetak kantor"})
    buffer = io.BytesIO()
    writer.write(buffer)
    result = await papers.verify(buffer.getvalue())
    assert (result.verdict, result.code, result.pdf_identical) == (
        Verdict.PDF_DIFFERS,
        paper.code,
        False,
    )
    stranger = render(sample_handover(), "AAAAAAAAAA")
    assert (await papers.verify(stranger)).verdict is Verdict.UNKNOWN
    assert (await papers.verify(b"bukan pdf")).verdict is Verdict.UNKNOWN
    assert (await papers.verify("AAAAA-BBBBB")).verdict is Verdict.UNKNOWN
