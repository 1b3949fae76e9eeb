"""``ppidbot check``, ``ppidbot export DIR`` and ``ppidbot import DIR``, run in-process
against SQLite files (``main()`` runs its own event loop, so these tests are plain functions).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import Settings
from db.migrate import upgrade
from db.session import create_engine, create_sessionmaker
from sop.clock import ManualClock
from sop.model import Role
from sop.service import PpidService
from storage import Area, LocalStorage
from tests.conftest import PDF_BYTES, START, chunks_of, sample_fields
from tests.support.backends import S3Backend
from tests.support.seaweedfs import SeaweedServer, unique_prefix


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A clean environment: no .env file, no inherited settings, a database in tmp_path."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    use_site(monkeypatch, tmp_path, "site")
    return tmp_path


def use_site(monkeypatch: pytest.MonkeyPatch, root: Path, name: str) -> None:
    """Point DATABASE_URL and STORAGE_DIR at ``root/name``."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{root / name / 'ppidbot.sqlite3'}")
    monkeypatch.setenv("STORAGE_DIR", str(root / name / "storage"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of one ``ppidbot`` invocation."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def store_a_record(root: Path) -> list[tuple[str, str]]:
    """Take one record through the three steps in the site's database; its files'
    (path, sha256)."""

    async def go() -> list[tuple[str, str]]:
        engine = create_engine(f"sqlite+aiosqlite:///{root / 'site' / 'ppidbot.sqlite3'}")
        try:
            await upgrade(engine)
            service = PpidService(
                create_sessionmaker(engine),
                LocalStorage(root / "site" / "storage", max_size=1024 * 1024),
                clock=ManualClock(START),
            )
            petugas = await service.add_person(101, "Rina", Role.PETUGAS_PPID, division_id=1)
            dokumentasi = await service.add_person(201, "Sari", Role.PETUGAS_DOKUMENTASI)
            pejabat = await service.add_person(301, "Andi", Role.PEJABAT_PPID)
            draft = await service.create_draft(petugas, sample_fields())
            await service.attach_file(
                petugas, draft.id, chunks_of(PDF_BYTES), "surat.pdf", "application/pdf"
            )
            await service.complete_produce(petugas, draft.id, verified=True)
            await service.complete_handover(dokumentasi, draft.id)
            stored = (await service.complete_receive(pejabat, draft.id)).record
            return [(f.path, f.sha256) for f in stored.files]
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_check_exit_codes(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check")
    assert (code, err) == (0, "")
    assert "OK: no problems found" in out

    files = store_a_record(env)
    code, out, _ = run(capsys, "check")
    assert code == 0
    assert "stored files checked: 2" in out

    ppid_path = next(path for path, _ in files if path.startswith(Area.PPID.value))
    (env / "site" / "storage" / ppid_path).unlink()
    code, out, _ = run(capsys, "check")
    assert code == 1
    assert "DAMAGE FOUND: 1 problem(s)" in out
    assert "missing files (1):" in out
    assert f"  - {ppid_path} (file #2, DIK-2026-0001): not on disk" in out


def test_check_exits_2_when_steps_are_only_late(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Lateness is not damage: exit 2, and the output says there is no damage."""
    files = store_a_record(env)
    start_a_draft(env, datetime(2026, 1, 5, 1, 0, tzinfo=UTC))  # long overdue by now
    code, out, _ = run(capsys, "check")
    assert code == 2, out
    assert "LATENESS ONLY: 1 overdue step(s); no damage found" in out
    assert "overdue steps (1):" in out

    ppid_path = next(path for path, _ in files if path.startswith(Area.PPID.value))
    (env / "site" / "storage" / ppid_path).unlink()
    code, out, _ = run(capsys, "check")
    assert code == 1  # damage wins
    assert "DAMAGE FOUND: 1 problem(s), and 1 overdue step(s)" in out


def start_a_draft(root: Path, at: datetime) -> None:
    async def go() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{root / 'site' / 'ppidbot.sqlite3'}")
        try:
            service = PpidService(
                create_sessionmaker(engine),
                LocalStorage(root / "site" / "storage", max_size=1024 * 1024),
                clock=ManualClock(at),
            )
            petugas = await service.actor_by_telegram(101)
            assert petugas is not None
            await service.create_draft(petugas, sample_fields(classified_date=date(2026, 1, 2)))
        finally:
            await engine.dispose()

    asyncio.run(go())


def test_export_import_round_trip(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    files = store_a_record(env)
    export_dir = env / "export"

    code, out, err = run(capsys, "export", str(export_dir))
    assert (code, err) == (0, "")
    assert out.startswith("exported ")
    assert "and 2 files" in out
    manifest = json.loads((export_dir / "manifest.json").read_text(encoding="utf-8"))
    assert sorted((f["path"], f["sha256"]) for f in manifest["files"]) == sorted(files)

    # A new server: empty database and storage; configured admins must not make the
    # database "not empty" before the import.
    use_site(monkeypatch, env, "new-site")
    monkeypatch.setenv("ADMIN_TELEGRAM_IDS", "900")
    code, out, err = run(capsys, "import", str(export_dir))
    assert (code, err) == (0, "")
    assert out.startswith("imported ")
    assert "now run `ppidbot check`" in out
    for path, sha256 in files:
        data = (env / "new-site" / "storage" / path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha256
        assert data == PDF_BYTES

    code, out, _ = run(capsys, "check")
    assert code == 0, out
    assert "stored files checked: 2" in out

    code, out, _ = run(capsys, "user", "list")
    assert code == 0
    assert "101\tRina" in out and "301\tAndi" in out

    # Importing twice is refused: the database is no longer empty.
    code, out, err = run(capsys, "import", str(export_dir))
    assert code == 1
    assert "not empty" in err
    # Exporting into a directory that holds something is refused too.
    code, out, err = run(capsys, "export", str(export_dir))
    assert code == 1
    assert "is not empty" in err


def test_import_of_a_damaged_export_fails(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    files = store_a_record(env)
    export_dir = env / "export"
    assert run(capsys, "export", str(export_dir))[0] == 0
    victim = export_dir / "files" / files[0][0]
    victim.write_bytes(victim.read_bytes()[:-1] + b"?")

    use_site(monkeypatch, env, "new-site")
    code, _, err = run(capsys, "import", str(export_dir))

    assert code == 1
    assert f"ppidbot import: cannot import {files[0][0]}: its sha256 is" in err
    code, out, _ = run(capsys, "user", "list")
    assert (code, out) == (0, "no users yet\n")
    assert [p for p in (env / "new-site" / "storage").rglob("*") if p.is_file()] == []


def test_import_into_s3_storage_and_check_it(
    env: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    seaweedfs: SeaweedServer,
) -> None:
    """STORAGE_URL=s3://... with the S3_* settings: import, check and export go through the
    S3 backend; a removed object is damage that ``check`` finds."""
    files = store_a_record(env)
    export_dir = env / "export"
    assert run(capsys, "export", str(export_dir))[0] == 0

    use_site(monkeypatch, env, "s3-site")
    monkeypatch.delenv("STORAGE_DIR")
    prefix = unique_prefix("cli-s3")
    for name, value in seaweedfs.environment(prefix).items():
        monkeypatch.setenv(name, value)
    code, out, err = run(capsys, "import", str(export_dir))
    assert (code, err) == (0, ""), err
    code, out, _ = run(capsys, "check")
    assert code == 0, out
    assert "stored files checked: 2" in out

    storage = S3Backend(seaweedfs, prefix)
    again = env / "export-from-s3"
    assert run(capsys, "export", str(again))[0] == 0
    for path, sha256 in files:
        assert hashlib.sha256((again / "files" / path).read_bytes()).hexdigest() == sha256

    async def remove(path: str) -> None:
        store = storage.make(max_size=1024 * 1024)
        try:
            await storage.remove_raw(store, path)
        finally:
            await store.close()

    ppid_path = next(path for path, _ in files if path.startswith(Area.PPID.value))
    asyncio.run(remove(ppid_path))
    code, out, _ = run(capsys, "check")
    assert code == 1
    assert f"  - {ppid_path} (file #2, DIK-2026-0001): not on disk" in out


def test_backup_restore_round_trip(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    files = store_a_record(env)
    backup_dir = env / "backup"
    code, out, err = run(capsys, "backup", str(backup_dir))
    assert (code, err) == (0, ""), err
    assert out.startswith("backed up the sqlite database")
    assert "and 2 files" in out
    manifest = json.loads((backup_dir / "backup.json").read_text(encoding="utf-8"))
    assert sorted((f["path"], f["sha256"]) for f in manifest["files"]) == sorted(files)

    use_site(monkeypatch, env, "new-site")
    code, out, err = run(capsys, "restore", str(backup_dir))
    assert (code, err) == (0, ""), err
    assert "now run `ppidbot check`" in out
    code, out, _ = run(capsys, "check")
    assert code == 0, out
    assert "stored files checked: 2" in out
    code, out, _ = run(capsys, "user", "list")
    assert "101\tRina" in out and "301\tAndi" in out

    code, _, err = run(capsys, "restore", str(backup_dir))  # not into a database in use
    assert code == 1
    assert "ppidbot restore: the target database is not empty" in err
    code, _, err = run(capsys, "restore", str(env / "nowhere"))
    assert code == 1 and "is not a ppidbot backup" in err
