"""/cari finds the words of a record's softcopies (the text the worker read), on both
databases through their full-text indexes: with the page and a snippet, for those who may
see the record only, not in a softcopy taken off the record; every word on one page."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.text_jobs import private_copy
from bot.texts.register import text_hit_line
from db.texts import HIT_END, HIT_START
from sop.document_text import TextService
from sop.register import RegisterService
from sop.service import PpidService
from sop.stemming import page_stems, roots
from sop.text_reading import read_document
from tests.conftest import Office, chunks_of, sample_fields
from tests.support.pages import text_pdf

NIK = "1371015708900001"


async def read_all(service: PpidService) -> None:
    texts = TextService(service)
    while work := await texts.claim(5):
        for item in work:
            assert item.path is not None
            async with private_copy(service.storage, item.path) as path:
                result = read_document(Path(path), item.mime_type, None)
            await texts.save(item, result)


async def record_with(service: PpidService, office: Office, *pages: list[str]) -> tuple[int, int]:
    record = await service.create_draft(office.petugas, sample_fields(title="Berkas pemilih"))
    file = await service.attach_file(
        office.petugas, record.id, chunks_of(text_pdf(list(pages))), "daftar.pdf", None
    )
    await read_all(service)
    return record.id, file.id


async def test_cari_finds_a_word_on_page_two_with_its_page_and_a_snippet(
    service: PpidService, office: Office, engine: AsyncEngine
) -> None:
    record_id, _ = await record_with(
        service,
        office,
        ["Berita acara rapat pleno"],
        ["Daftar pemilih tunanetra Kelurahan Jati", f"NIK {NIK} Siti Rahmawati"],
    )
    register = RegisterService(service)

    found = await register.search(office.dokumentasi, "tunanetra")

    assert [e.record.id for e in found.items] == [record_id]
    hit = found.items[0].text_hit
    assert hit is not None and hit.page == 2 and hit.file_name == "daftar.pdf"
    assert f"{HIT_START}tunanetra{HIT_END}" in hit.snippet.lower()
    line = text_hit_line(hit)
    assert line.startswith("📄 daftar.pdf, hlm. 2: ") and "<b>tunanetra</b>" in line.lower()
    # Both words on one page, a word's beginning too.
    found = await register.search(office.dokumentasi, "pemilih tunanet")
    assert [e.record.id for e in found.items] == [record_id]
    assert await register.search(office.dokumentasi, "tunanetra pleno") is not None
    assert (await register.search(office.dokumentasi, "tunanetra pleno")).items == ()


async def test_a_snippet_never_shows_a_nik(service: PpidService, office: Office) -> None:
    await record_with(service, office, [f"Siti Rahmawati NIK {NIK} pemilih tunanetra"])
    found = await RegisterService(service).search(office.dokumentasi, "rahmawati")
    hit = found.items[0].text_hit
    assert hit is not None and NIK in hit.snippet  # the stored text is whole
    line = text_hit_line(hit)
    assert NIK not in line and "1371****" in line


async def test_the_text_is_searched_for_those_who_may_see_the_record_only(
    service: PpidService, office: Office
) -> None:
    record_id, _ = await record_with(service, office, ["Pemilih tunanetra"])
    register = RegisterService(service)
    assert (await register.search(office.petugas_other, "tunanetra")).items == ()
    assert [e.record.id for e in (await register.search(office.petugas, "tunanetra")).items] == [
        record_id
    ]


async def test_a_softcopy_taken_off_the_record_is_not_found(
    service: PpidService, office: Office
) -> None:
    record_id, file_id = await record_with(service, office, ["Pemilih tunanetra"])
    await service.remove_file(office.petugas, record_id, file_id)
    assert (await RegisterService(service).search(office.dokumentasi, "tunanetra")).items == ()


async def bulk_texts(engine: AsyncEngine, file_id: int, count: int = 3000) -> None:
    """``count`` more softcopies with a page of text each, so PostgreSQL's planner prices
    the tables as an archive (then ANALYZE); the triggers index the pages on SQLite."""
    numbers = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count) "
    async with engine.begin() as connection:
        await connection.execute(
            text(
                numbers + "INSERT INTO record_files (record_id, area, path, original_name, "
                "mime_type, size, sha256, uploaded_by, created_at) SELECT record_id, area, "
                "path || '-' || n.i, original_name, mime_type, size, 'arsip' || n.i, "
                "uploaded_by, created_at FROM record_files, n WHERE record_files.id = :file"
            ),
            {"count": count, "file": file_id},
        )
        await connection.execute(
            text(
                "INSERT INTO document_texts (sha256, status, unread_pages, attempts, queued_at) "
                "SELECT f.sha256, 'done', 0, 0, f.created_at FROM record_files f "
                "WHERE f.sha256 LIKE 'arsip%'"
            )
        )
        await connection.execute(
            text(
                "INSERT INTO document_pages (text_id, page, text) SELECT t.id, 1, "
                "'Arsip lama nomor ' || t.id FROM document_texts t WHERE t.sha256 LIKE 'arsip%'"
            )
        )
    if engine.dialect.name == "postgresql":
        async with engine.connect() as connection:
            await connection.execute(text("ANALYZE"))
            await connection.commit()


async def test_cari_reads_the_softcopies_text_through_indexes(
    service: PpidService, office: Office, engine: AsyncEngine
) -> None:
    """The words are looked up in the pages' full-text index and a snippet made only for
    the records shown: no statement of /cari reads a whole archive table."""
    from tests.test_query_plans import explained, full_scans

    _, file_id = await record_with(service, office, ["Pemilih tunanetra"])
    await bulk_texts(engine, file_id)
    plans = await explained(
        engine, lambda: RegisterService(service).search(office.pejabat, "tunanetra")
    )
    texts = [(s, p) for s, p in plans if "document_pages" in s]
    assert len(texts) >= 2  # the match (with the count) and the snippets
    index = "document_pages_fts" if engine.dialect.name == "sqlite" else "ix_document_pages_search"
    for statement, plan in texts:
        assert full_scans(statement, plan) == [], plan
        if "snippet" not in statement and "ts_headline" not in statement:
            assert any(index in line for line in plan), plan


async def test_cari_finds_the_other_forms_of_an_indonesian_word(
    service: PpidService, office: Office
) -> None:
    record = await service.create_draft(office.petugas, sample_fields(title="Berita acara"))
    await service.attach_file(
        office.petugas,
        record.id,
        chunks_of(text_pdf([["Rapat pleno"], ["Warga yang memilih di TPS 03 Kelurahan Jati"]])),
        "tps.pdf",
        None,
    )
    await read_all(service)
    register = RegisterService(service)

    # "pemilih", "pilihan" and "dipilih" share the root "pilih" with "memilih".
    for word in ("pemilih", "pilihan", "dipilih", "memilih"):
        found = await register.search(office.dokumentasi, word)
        assert [e.record.id for e in found.items] == [record.id], word
        hit = found.items[0].text_hit
        assert hit is not None and hit.page == 2 and hit.file_name == "tps.pdf"
    # With another word of the page, every word (or its root) on one page.
    assert (await register.search(office.dokumentasi, "pemilih kelurahan")).total == 1
    assert (await register.search(office.dokumentasi, "pemilih pleno")).items == ()
    # A root is not a prefix: "pilot" shares no root with "memilih".
    assert (await register.search(office.dokumentasi, "pilot")).items == ()


def test_page_stems_keep_the_roots_that_differ_from_the_words() -> None:
    assert roots(["pemilih", "memilih", "tunanetra", "2026"]) == [
        "pilih",
        "pilih",
        "tunanetra",
        "2026",
    ]
    assert page_stems("Pemilih memilih; pemutakhiran DATA 2026") == "pilih mutakhir"
