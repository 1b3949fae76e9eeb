"""Helpers of the papers tests: a record taken through the SOP, PDF text and QR reading
with the real tools (pypdf; Debian's pdftoppm and zbarimg, skipped with a reason when
absent)."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from sop.clock import ManualClock
from sop.model import RecordView
from sop.service import PpidService
from tests.conftest import PDF_BYTES, Office, chunks_of, sample_fields

CONSEQUENCE = {
    "harm_if_opened": "Alamat pemilih disabilitas terbuka; keselamatan mereka terancam.",
    "public_interest": "Masyarakat dapat memeriksa akurasi daftar pemilih.",
    "weighing": "Akurasi dapat diperiksa lewat rekapitulasi; perlindungan pribadi lebih besar.",
}


async def stored_record(
    service: PpidService, office: Office, clock: ManualClock, **fields: object
) -> RecordView:
    """A record through the three steps (ten minutes each), with one softcopy."""
    draft = await service.create_draft(office.petugas, sample_fields(**fields))
    await service.attach_file(
        office.petugas, draft.id, chunks_of(PDF_BYTES), "daftar-pemilih.pdf", "application/pdf"
    )
    clock.advance(timedelta(minutes=10))
    await service.complete_produce(office.petugas, draft.id, verified=True)
    clock.advance(timedelta(minutes=10))
    await service.complete_handover(office.dokumentasi, draft.id)
    clock.advance(timedelta(minutes=10))
    return (await service.complete_receive(office.pejabat, draft.id)).record


def pdf_text(data: bytes) -> str:
    """The PDF's text as pypdf extracts it, whitespace collapsed."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def need(*tools: str) -> None:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        pytest.skip(
            f"needs {', '.join(missing)} (Debian packages poppler-utils, zbar-tools; "
            ".ci/run installs them)"
        )


def qr_codes(pdf: bytes, tmp_path: Path) -> list[str]:
    """What zbarimg reads from the QR codes of the PDF's first page, rendered at 150 dpi
    (as a scanner or a phone camera sees a printed page)."""
    need("pdftoppm", "zbarimg")
    source = tmp_path / "paper.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", str(source), str(tmp_path / "p")],
        check=True,
        timeout=60,
    )
    [page] = sorted(tmp_path.glob("p-*.png"))
    found = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(page)], capture_output=True, text=True, timeout=60
    )
    return found.stdout.split()
