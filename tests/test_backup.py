"""Backups and restores: a consistent copy while the bot works, on SQLite and PostgreSQL,
with the files of a local directory or an S3 bucket; the round trip passes ``ppidbot
check`` and reproduces every row, file and checksum."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.ext import Application

from bot.app import build_application
from bot.backup_job import JOB_NAME as BACKUP_JOB
from db.migrate import upgrade
from db.models import Base
from db.repositories import Repository
from db.session import create_engine, create_sessionmaker
from sop.backup import MANIFEST_NAME, BackupError, Backups, backup_into, backups_in
from sop.clock import ManualClock
from sop.integrity import IntegrityChecker
from sop.service import PpidService
from storage import DocumentStorage
from tests.conftest import PDF_BYTES, Office, chunks_of, sample_fields
from tests.e2e.harness import ADMIN_ID, BotHarness
from tests.emulator import BotApiEmulator
from tests.emulator.fixtures import emulator  # noqa: F401
from tests.support.backends import Backend, backend_for, stored_paths
from tests.support.documents import minimal_pdf
from tests.support.pg_fixtures import unique_db_name


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return backend_for(request.param, request, tmp_path / "storage")


@pytest.fixture
async def storage(backend: Backend) -> AsyncIterator[DocumentStorage]:
    store = backend.make(max_size=1024 * 1024)
    yield store
    await store.close()


@pytest.fixture
def target_url(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A second, empty database of the same engine: where the backup is restored."""
    if db_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'restored' / 'ppidbot.sqlite3'}"
        return
    server = request.getfixturevalue("postgres_server")
    name = unique_db_name("restored")
    url = str(server.create_database(name))
    yield url
    server.drop_database(name)


@pytest.fixture
async def target(
    target_url: str, backend: Backend, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[AsyncEngine, DocumentStorage]]:
    """The empty database (migrated, as a first start leaves it) and storage to restore to."""
    engine = create_engine(target_url)
    await upgrade(engine)
    store = backend_for(backend.name, request, tmp_path / "restored-storage").make(
        max_size=1024 * 1024
    )
    yield engine, store
    await store.close()
    await engine.dispose()


async def stored_record(service: PpidService, office: Office, content: bytes) -> int:
    draft = await service.create_draft(office.petugas, sample_fields())
    await service.attach_file(
        office.petugas, draft.id, chunks_of(content), "surat.pdf", "application/pdf"
    )
    await service.complete_produce(office.petugas, draft.id, verified=True)
    await service.complete_handover(office.dokumentasi, draft.id)
    await service.complete_receive(office.pejabat, draft.id)
    return draft.id


async def everything(engine: AsyncEngine) -> dict[str, list[dict[str, Any]]]:
    async with create_sessionmaker(engine)() as session, session.begin():
        repo = Repository(session)
        return {t.name: await repo.table_rows(t) for t in Base.metadata.sorted_tables}


async def check(engine: AsyncEngine, storage: DocumentStorage, clock: ManualClock) -> None:
    report = await IntegrityChecker(create_sessionmaker(engine), storage, clock).check()
    assert report.ok, report.render_text()


async def test_round_trip_reproduces_every_row_file_and_checksum(
    service: PpidService,
    office: Office,
    engine: AsyncEngine,
    db_url: str,
    storage: DocumentStorage,
    target: tuple[AsyncEngine, DocumentStorage],
    clock: ManualClock,
    tmp_path: Path,
) -> None:
    await stored_record(service, office, PDF_BYTES)
    await stored_record(service, office, minimal_pdf("kedua"))
    draft = await service.create_draft(office.petugas, sample_fields(division_id=2))
    await service.attach_file(
        office.petugas, draft.id, chunks_of(minimal_pdf("draf")), "draf.pdf", "application/pdf"
    )
    before = await everything(engine)

    summary = await Backups(engine, db_url, storage, clock).backup_to(tmp_path / "backup")
    assert summary.files == 5  # two records with a division file and a PPID copy, a draft
    manifest = json.loads((tmp_path / "backup" / MANIFEST_NAME).read_text())
    assert manifest["database"]["engine"] == ("sqlite" if "sqlite" in db_url else "postgresql")
    assert sorted(f["path"] for f in manifest["files"]) == await stored_paths(storage)
    modes = {p.stat().st_mode & 0o777 for p in (tmp_path / "backup").rglob("*") if p.is_file()}
    assert modes == {0o600}

    target_engine, target_storage = target
    url = target_engine.url.render_as_string(hide_password=False)
    restored = await Backups(target_engine, url, target_storage, clock).restore_from(
        tmp_path / "backup"
    )
    assert restored.files == 5
    assert await everything(target_engine) == before
    assert await stored_paths(target_storage) == await stored_paths(storage)
    for path in await stored_paths(storage):
        assert await target_storage.digest(path) == await storage.digest(path)
    await check(target_engine, target_storage, clock)

    # Restoring again is refused: the database and the storage are no longer empty.
    with pytest.raises(BackupError, match="target database is not empty"):
        await Backups(target_engine, url, target_storage, clock).restore_from(tmp_path / "backup")


async def test_a_backup_while_files_arrive_is_consistent(
    service: PpidService,
    office: Office,
    engine: AsyncEngine,
    db_url: str,
    storage: DocumentStorage,
    target: tuple[AsyncEngine, DocumentStorage],
    clock: ManualClock,
    tmp_path: Path,
) -> None:
    """The bot keeps working during a backup: what the backup holds is one state of it."""
    await stored_record(service, office, PDF_BYTES)
    draft = await service.create_draft(office.petugas, sample_fields())
    started = asyncio.Event()

    async def uploads() -> int:
        count = 0
        for n in range(12):
            await service.attach_file(
                office.petugas,
                draft.id,
                chunks_of(minimal_pdf(f"lampiran {n}")),
                f"l{n}.pdf",
                "application/pdf",
            )
            count += 1
            started.set()
        return count

    async def backup() -> None:
        await started.wait()
        await Backups(engine, db_url, storage, clock).backup_to(tmp_path / "backup")

    attached, _ = await asyncio.gather(uploads(), backup())
    manifest = json.loads((tmp_path / "backup" / MANIFEST_NAME).read_text())
    assert 3 <= len(manifest["files"]) <= 2 + attached

    target_engine, target_storage = target
    url = target_engine.url.render_as_string(hide_password=False)
    await Backups(target_engine, url, target_storage, clock).restore_from(tmp_path / "backup")
    await check(target_engine, target_storage, clock)


async def test_a_damaged_backup_restores_nothing(
    service: PpidService,
    office: Office,
    engine: AsyncEngine,
    db_url: str,
    storage: DocumentStorage,
    target: tuple[AsyncEngine, DocumentStorage],
    clock: ManualClock,
    tmp_path: Path,
) -> None:
    await stored_record(service, office, PDF_BYTES)
    await Backups(engine, db_url, storage, clock).backup_to(tmp_path / "backup")
    target_engine, target_storage = target
    url = target_engine.url.render_as_string(hide_password=False)
    restore = Backups(target_engine, url, target_storage, clock)

    manifest = json.loads((tmp_path / "backup" / MANIFEST_NAME).read_text())
    victim = tmp_path / "backup" / "files" / manifest["files"][-1]["path"]
    original = victim.read_bytes()
    victim.write_bytes(original[:-1] + b"?")
    with pytest.raises(BackupError, match="the backup is damaged"):
        await restore.restore_from(tmp_path / "backup")
    assert await stored_paths(target_storage) == []  # the files before it were removed
    victim.write_bytes(original)

    unknown = dict(manifest, alembic_revision="9999")
    (tmp_path / "backup" / MANIFEST_NAME).write_text(json.dumps(unknown))
    with pytest.raises(BackupError, match="schema revision 9999, which this ppidbot does not"):
        await restore.restore_from(tmp_path / "backup")
    (tmp_path / "backup" / MANIFEST_NAME).write_text(json.dumps(manifest))

    dump = tmp_path / "backup" / manifest["database"]["file"]
    dump.write_bytes(dump.read_bytes() + b"x")
    with pytest.raises(BackupError, match="the backup is damaged"):
        await restore.restore_from(tmp_path / "backup")
    assert await stored_paths(target_storage) == []
    async with create_sessionmaker(target_engine)() as session:
        assert await Repository(session).row_count(Base.metadata.tables["records"]) == 0


async def test_a_file_that_differs_from_the_database_fails_the_backup(
    service: PpidService,
    office: Office,
    engine: AsyncEngine,
    db_url: str,
    storage: DocumentStorage,
    backend: Backend,
    clock: ManualClock,
    tmp_path: Path,
) -> None:
    await stored_record(service, office, PDF_BYTES)
    [path, *_] = await stored_paths(storage)
    await backend.put_raw(storage, path, b"rusak")
    with pytest.raises(BackupError, match="run `ppidbot check`"):
        await Backups(engine, db_url, storage, clock).backup_to(tmp_path / "backup")
    assert not (tmp_path / "backup").exists()  # nothing half-made is left


@pytest.mark.parametrize("backend", ["local"], indirect=True)
async def test_dated_backups_keep_the_newest(
    service: PpidService,
    office: Office,
    engine: AsyncEngine,
    db_url: str,
    storage: DocumentStorage,
    clock: ManualClock,
    tmp_path: Path,
) -> None:
    backups = Backups(engine, db_url, storage, clock)
    parent = tmp_path / "backups"
    (parent / "catatan-operator").mkdir(parents=True)  # not a backup: never touched
    made = []
    for day in range(4):
        await stored_record(service, office, minimal_pdf(f"hari {day}"))
        made.append((await backup_into(backups, parent, keep=2)).directory)
        clock.advance(timedelta(days=1))
    assert backups_in(parent) == made[-2:]
    assert (parent / "catatan-operator").is_dir()
    assert all(os.path.basename(p).startswith("ppidbot-2026112") for p in made)


# -- the daily backup inside the bot ----------------------------------------------------------


@pytest.fixture
async def harness(
    emulator: BotApiEmulator,  # noqa: F811
    tmp_path: Path,
    clock: ManualClock,
) -> AsyncIterator[BotHarness]:
    harness = BotHarness(emulator, tmp_path, clock, backup_dir=tmp_path / "backups", backup_keep=2)
    await harness.start()
    yield harness
    await harness.close()


@pytest.fixture
async def application(
    harness: BotHarness,
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    app = build_application(await harness.runtime())
    async with app:
        yield app


async def test_the_daily_backup_runs_at_night_and_keeps_the_newest(
    harness: BotHarness,
    application: Application[Any, Any, Any, Any, Any, Any],
    clock: ManualClock,
    tmp_path: Path,
) -> None:
    runtime = await harness.runtime()
    assert application.job_queue is not None
    [job] = application.job_queue.get_jobs_by_name(BACKUP_JOB)
    await application.job_queue.start()
    try:
        assert job.next_t is not None
        local = job.next_t.astimezone(runtime.settings.tz)
        assert (local.hour, local.minute) == (1, 30)
        for _ in range(3):
            await job.run(application)  # what the JobQueue does every night
            clock.advance(timedelta(days=1))
    finally:
        await application.job_queue.stop()
    kept = backups_in(tmp_path / "backups")
    assert [p.name for p in kept] == ["ppidbot-20261124-010000", "ppidbot-20261125-010000"]
    manifest = json.loads((kept[-1] / MANIFEST_NAME).read_text())
    assert manifest["database"]["engine"] == "sqlite"


async def test_a_daily_backup_that_fails_tells_the_admins(
    harness: BotHarness,
    application: Application[Any, Any, Any, Any, Any, Any],
    tmp_path: Path,
) -> None:
    (tmp_path / "backups").write_text("not a directory")
    assert application.job_queue is not None
    [job] = application.job_queue.get_jobs_by_name(BACKUP_JOB)
    admin = harness.emulator.user(ADMIN_ID, "Kepala Admin")
    admin.mark()
    await job.run(application)
    message = await admin.wait_for("Cadangan harian gagal dibuat")
    assert "ppidbot backup" in message.text
    assert harness.emulator.failed_calls() == []


async def test_without_backup_dir_there_is_no_daily_backup(
    emulator: BotApiEmulator,  # noqa: F811
    tmp_path: Path,
    clock: ManualClock,
) -> None:
    harness = BotHarness(emulator, tmp_path, clock)
    await harness.start()
    try:
        app = build_application(await harness.runtime())
        assert app.job_queue is not None
        assert app.job_queue.get_jobs_by_name(BACKUP_JOB) == ()
    finally:
        await harness.close()
