"""``ppidbot verify``, ``publish``, ``anchor``, ``check --anchor`` and ``evidence``, run
in-process against an SQLite site (as ``tests/test_cli_integrity.py`` does)."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import zipfile
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


def test_anchor_and_check_anchor(env: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    store_a_record(env)
    status, out, _ = run(capsys, "anchor")
    assert status == 0
    assert "recorded; not sent (TELEGRAM_BOT_TOKEN is not set)" in out
    anchor = out.splitlines()[0].removeprefix("anchor ")
    seq, digest = anchor.split(":")
    status, out, _ = run(capsys, "check", "--anchor", anchor)
    assert status == 0, out
    assert f"anchor {anchor}: OK, the audit chain still holds it" in out
    wrong = f"{seq}:{'0' * 64}"
    status, out, _ = run(capsys, "check", "--anchor", wrong)
    assert status == 1
    assert f"anchor {wrong}: FAILED" in out and f"entry {seq} has hash {digest}" in out
    status, _, err = run(capsys, "check", "--anchor", "12:abc")
    assert status == 1 and "Jangkar tidak dikenali" in err


def test_publish_and_the_internal_mark(env: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    store_a_record(env)
    status, out, _ = run(capsys, "publish", str(env / "publik"))
    assert status == 0 and "1 records (1 exempted, 0 opened)" in out
    assert "Data pribadi pemilih disabilitas" in (env / "publik" / "index.html").read_text()
    status, out, _ = run(capsys, "record", "internal", "DIK-2026-0001", "yes")
    assert (status, out.strip()) == (0, "DIK-2026-0001 is internal (left out of the public list)")
    run(capsys, "publish", str(env / "publik"))
    assert "Data pribadi" not in (env / "publik" / "index.html").read_text()
    status, out, _ = run(capsys, "record", "internal", "DIK-2026-0001", "yes")
    assert out.strip().endswith("already; nothing changed")


def test_the_evidence_pack_verifies_by_its_own_instructions(
    env: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    store_a_record(env)
    run(capsys, "anchor")
    # The first pack issues the record's papers: those entries follow the anchor.
    status, out, err = run(capsys, "evidence", "DIK-2026-0001", str(env / "bukti.zip"))
    assert status == 0, err
    assert "note: the proof's last segment ends at the chain's head" in out
    run(capsys, "anchor")
    # Made again after an anchor: the same papers (no new entries), every segment anchored.
    status, out, err = run(
        capsys, "evidence", "DIK-2026-0001", str(env / "bukti.zip"), "--with-files"
    )
    assert status == 0, err
    assert "4 paper(s)" in out and "note:" not in out
    unpacked = tmp_path / "bukti"
    with zipfile.ZipFile(env / "bukti.zip") as pack:
        names = set(pack.namelist())
        pack.extractall(unpacked)
    assert {"README.txt", "SHA256SUMS", "verifikasi.py", "audit/rantai.json"} <= names
    assert sum(name.startswith("dokumen/") and name.endswith(".pdf") for name in names) == 4
    assert sum(name.startswith("softcopy/") for name in names) == 2
    readme = (unpacked / "README.txt").read_text(encoding="utf-8")
    assert "sha256sum -c SHA256SUMS" in readme and "python3 verifikasi.py" in readme

    def verify(*flags: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-I", "verifikasi.py", *flags],
            cwd=unpacked,
            capture_output=True,
            text=True,
            timeout=60,
        )

    if shutil.which("sha256sum"):
        sums = subprocess.run(
            ["sha256sum", "-c", "SHA256SUMS"], cwd=unpacked, capture_output=True, text=True
        )
        assert sums.returncode == 0, sums.stdout + sums.stderr
    result = verify("--with-files")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "HASIL: COCOK" in result.stdout

    softcopy = next((unpacked / "softcopy" / "ppid").iterdir())
    softcopy.write_bytes(b"%PDF-1.4 diganti\n")
    result = verify("--with-files")
    assert result.returncode == 1 and "SHA-256 softcopy tidak cocok" in result.stdout
    chain = json.loads((unpacked / "audit" / "rantai.json").read_text(encoding="utf-8"))
    chain["segments"][0]["entries"][0]["details"] = '{"title":"palsu"}'
    (unpacked / "audit" / "rantai.json").write_text(json.dumps(chain), encoding="utf-8")
    result = verify()
    assert result.returncode == 1
    assert "isi tidak cocok dengan hash-nya" in result.stdout
