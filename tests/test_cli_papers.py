"""``ppidbot verify``, ``publish``, ``anchor``, ``check --anchor`` and ``evidence``, run
in-process against an SQLite site (as ``tests/test_cli_integrity.py`` does)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from bot.papers.pdf import renderer
from db.session import create_engine, create_sessionmaker
from sop.clock import ManualClock
from sop.papers import DocumentKind
from sop.service import PpidService
from sop.verification import IssuedPaper, PapersService, format_code
from storage import LocalStorage
from tests.conftest import START
from tests.test_cli_integrity import env, run, store_a_record  # noqa: F401  (fixture)

T = TypeVar("T")


def with_service(root: Path, action: Callable[[PpidService], Awaitable[T]]) -> T:
    async def go() -> T:
        engine = create_engine(f"sqlite+aiosqlite:///{root / 'site' / 'ppidbot.sqlite3'}")
        try:
            service = PpidService(
                create_sessionmaker(engine),
                LocalStorage(root / "site" / "storage", max_size=1024 * 1024),
                clock=ManualClock(START),
            )
            return await action(service)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def issue(root: Path, kind: DocumentKind) -> IssuedPaper:
    return with_service(root, lambda s: PapersService(s, renderer()).issue(None, 1, kind))


def test_verify_a_code_and_a_pdf(env: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    files = store_a_record(env)
    paper = issue(env, DocumentKind.HANDOVER_STEP3)
    code = format_code(paper.code)

    status, out, err = run(capsys, "verify", code.lower())
    assert (status, err) == (0, "")
    assert f"verification code {code}: handover record of step 3 of DIK-2026-0001" in out
    assert "result: MATCHES the register" in out
    assert "files: 1 checked, every checksum matches" in out

    pdf = env / "berita-acara.pdf"
    pdf.write_bytes(paper.pdf)
    status, out, _ = run(capsys, "verify", str(pdf))
    assert status == 0 and "pdf: identical to the issued file" in out

    pdf.write_bytes(paper.pdf.replace(b"/Creator", b"/Kreator", 1))
    status, out, _ = run(capsys, "verify", str(pdf))
    assert status == 2, out
    assert "this PDF is NOT the file that was issued" in out

    ppid_path = next(path for path, _ in files if path.startswith("ppid/"))
    (env / "site" / "storage" / ppid_path).write_bytes(b"%PDF-1.4 lain\n")
    status, out, _ = run(capsys, "verify", code)
    assert status == 1
    assert "result: CHANGED since it was issued" in out
    assert "file surat.pdf" in out and ": altered" in out

    status, out, _ = run(capsys, "verify", "ZZZZZ-ZZZZZ")
    assert status == 1 and "UNKNOWN" in out
    status, _, err = run(capsys, "verify", "bukan-kode")
    assert status == 1 and "Kode verifikasi tidak dikenali" in err
    status, _, err = run(capsys, "verify", str(env / "tidak-ada.pdf"))
    assert status == 1 and "cannot read" in err
