"""The text of softcopies at archive scale: /cari over 100,000 read documents (two pages
each, Indonesian-like words) on SQLite, each figure against a floor measured in the same
run, and the reading itself (a born-digital PDF, one photographed page by OCR).

    .venv/bin/python -m bench.texts                 # 100,000 documents
    .venv/bin/python -m bench.texts --documents 5000 --no-ocr

* ``/cari``: ``RegisterService.search`` as a Pejabat PPID runs it (the records' and the
  pages' full-text indexes, the page of results, the snippets of the records shown), for a
  rare word (one document), a word in 1 % of them and one in every document; floor: the
  bare FTS5 query of the pages' index for the same word (``text()``, count and first page).
* ``read``: ``sop.text_reading.read_document`` on a two-page text PDF and on one phone photo
  of a printed page (Tesseract, one thread); floor: pypdf's own ``extract_text`` and the bare
  ``tesseract`` binary on the same picture.

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text

from db.migrate import upgrade
from db.models import DocumentPageRow, DocumentTextRow, RecordFileRow, RecordRow
from db.session import create_engine, create_sessionmaker
from sop.clock import ManualClock
from sop.model import Role
from sop.register import RegisterService
from sop.service import PpidService
from sop.text_reading import read_document
from storage import LocalStorage
from tests.conftest import sample_fields

WORDS = [
    "pemilih",
    "daftar",
    "kelurahan",
    "kecamatan",
    "rekapitulasi",
    "berita",
    "acara",
    "rapat",
    "pleno",
    "anggaran",
    "surat",
    "keputusan",
    "pemutakhiran",
    "data",
    "penduduk",
    "alamat",
    "jalan",
    "nomor",
    "tahun",
    "komisi",
    "umum",
    "provinsi",
    "kota",
    "kabupaten",
    "hasil",
    "suara",
    "calon",
    "partai",
    "saksi",
    "panitia",
    "pengawas",
    "laporan",
]
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def page_text(rng: random.Random, number: int, rare: int) -> str:
    """A page of 180 words; ``number`` 0: a first page (neither marked word)."""
    words = [rng.choice(WORDS) for _ in range(180)]
    if number and number % 100 == 0:
        words.insert(40, "tunarungu")  # in 1 % of the documents
    if number == rare:
        words.insert(90, "tunanetra")  # in one
    return " ".join(words)


async def seed(url: str, storage_dir: Path, documents: int) -> tuple[PpidService, Any, Any]:
    engine = create_engine(url)
    await upgrade(engine)
    service = PpidService(
        create_sessionmaker(engine),
        LocalStorage(storage_dir, max_size=1 << 20),
        clock=ManualClock(NOW),
    )
    await service.ensure_admins([900])
    pejabat = await service.add_person(301, "Andi Pejabat", Role.PEJABAT_PPID)
    petugas = await service.add_person(101, "Rina", Role.PETUGAS_PPID, division_id=1)
    template = await service.create_draft(petugas, sample_fields())
    rng = random.Random(1)
    started = time.perf_counter()
    async with engine.begin() as connection:
        columns = (
            "division_id, description, pasal17, other_legal_basis, consequence, period_kind, "
            "period_until, period_amount, period_unit, period_condition, classified_by, "
            "classified_place, classified_date, state, version, created_by, created_at, updated_at"
        )
        await connection.execute(
            text(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count) "
                f"INSERT INTO records (title, {columns}) SELECT 'Arsip nomor ' || n.i, "
                f"{columns} FROM records, n WHERE records.id = :template"
            ),
            {"count": documents, "template": template.id},
        )
        ids = (
            (await connection.execute(select(RecordRow.id).where(RecordRow.id != template.id)))
            .scalars()
            .all()
        )
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            await connection.execute(
                insert(RecordFileRow),
                [
                    {
                        "record_id": rid,
                        "area": "divisi",
                        "path": f"divisi/x/{rid}.pdf",
                        "original_name": f"arsip-{rid}.pdf",
                        "mime_type": "application/pdf",
                        "size": 1000,
                        "sha256": f"{rid:064d}",
                        "uploaded_by": petugas.user_id,
                        "created_at": NOW,
                    }
                    for rid in chunk
                ],
            )
            await connection.execute(
                insert(DocumentTextRow),
                [
                    {
                        "sha256": f"{rid:064d}",
                        "status": "done",
                        "method": "ocr",
                        "page_count": 2,
                        "unread_pages": 0,
                        "attempts": 1,
                        "queued_at": NOW,
                    }
                    for rid in chunk
                ],
            )
            text_ids = dict(
                (
                    await connection.execute(
                        select(DocumentTextRow.sha256, DocumentTextRow.id).where(
                            DocumentTextRow.sha256.in_([f"{rid:064d}" for rid in chunk])
                        )
                    )
                ).all()
            )
            await connection.execute(
                insert(DocumentPageRow),
                [
                    {
                        "text_id": text_ids[f"{rid:064d}"],
                        "page": page,
                        "text": page_text(
                            rng, index + start + 1 if page == 2 else 0, documents // 2
                        ),
                    }
                    for index, rid in enumerate(chunk)
                    for page in (1, 2)
                ],
            )
    print(
        f"  seeded {documents:,} documents (2 pages each) in {time.perf_counter() - started:.0f} s"
    )
    return service, pejabat, engine


async def timed(call: Callable[[], Awaitable[Any]], repeat: int = 5) -> float:
    await call()
    started = time.perf_counter()
    for _ in range(repeat):
        await call()
    return (time.perf_counter() - started) / repeat


async def search(service: PpidService, pejabat: Any, engine: Any) -> None:
    register = RegisterService(service)
    for word, share in (("tunanetra", "1 document"), ("tunarungu", "1 %"), ("rekapitulasi", "all")):
        found = await register.search(pejabat, word)
        took = await timed(lambda w=word: register.search(pejabat, w))

        async def floor(w: str = word) -> None:
            async with engine.connect() as connection:
                await connection.execute(
                    text(
                        "SELECT count(*) FROM document_pages_fts WHERE document_pages_fts MATCH :q"
                    ),
                    {"q": f'"{w}"*'},
                )
                await connection.execute(
                    text(
                        "SELECT rowid FROM document_pages_fts WHERE document_pages_fts MATCH :q "
                        "ORDER BY rowid DESC LIMIT 20"
                    ),
                    {"q": f'"{w}"*'},
                )

        bare = await timed(floor)
        hit = found.items[0].text_hit if found.items else None
        print(
            f"  /cari {word!r} (in {share}): {took * 1000:.1f} ms, {found.total:,} found, "
            f"page {hit.page if hit else '-'}; floor (bare FTS5) {bare * 1000:.1f} ms"
        )


def reading(ocr: bool) -> None:
    from sop.extraction import OcrConfig
    from tests.support.pages import fonts, jpeg_bytes, photographed, printed_page, text_pdf

    with tempfile.TemporaryDirectory() as work:
        pdf = Path(work) / "nota.pdf"
        pdf.write_bytes(text_pdf([WORDS[:20], WORDS[20:]]))
        read_document(pdf, "application/pdf", None)  # imports done
        started = time.perf_counter()
        read_document(pdf, "application/pdf", None)
        took = time.perf_counter() - started
        from pypdf import PdfReader

        started = time.perf_counter()
        for page in PdfReader(pdf).pages:
            page.extract_text()
        floor = time.perf_counter() - started
        print(
            f"  read a 2-page text PDF: {took * 1000:.1f} ms; floor (pypdf) {floor * 1000:.1f} ms"
        )
        binary = shutil.which("tesseract")
        if not ocr or binary is None:
            print("  OCR: skipped (--no-ocr, or tesseract not installed)")
            return
        photo = Path(work) / "foto.jpg"
        photo.write_bytes(
            jpeg_bytes(
                photographed(
                    printed_page([" ".join(WORDS[i : i + 6]) for i in range(0, 36, 6)], fonts()[0]),
                    turn=90.0,
                )
            )
        )
        started = time.perf_counter()
        read_document(photo, "image/jpeg", OcrConfig(binary, "ind+eng"))
        took = time.perf_counter() - started
        started = time.perf_counter()
        subprocess.run(
            [binary, str(photo), "stdout", "-l", "ind+eng"],
            capture_output=True,
            check=True,
            env={"OMP_THREAD_LIMIT": "1"},
        )
        print(
            f"  OCR of one phone photo (turned upright, ind+eng): {took:.1f} s; floor (bare "
            f"tesseract, no orientation pass) {time.perf_counter() - started:.1f} s"
        )


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as work:
        url = f"sqlite+aiosqlite:///{work}/bench.sqlite3"
        print(f"/cari over the text of softcopies (SQLite, {args.documents:,} documents)")
        service, pejabat, engine = await seed(url, Path(work) / "storage", args.documents)
        await search(service, pejabat, engine)
        await engine.dispose()
    print("reading softcopies")
    reading(args.ocr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--no-ocr", dest="ocr", action="store_false")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
