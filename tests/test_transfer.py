"""`ppidbot export` / `ppidbot import`: a round trip reproduces every row, file and checksum,
on SQLite and PostgreSQL; an import is all or nothing and only into an empty target."""

from __future__ import annotations

import hashlib
import json
import stat
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.migrate import upgrade
from db.models import Base, KeyValueRow
from db.repositories import Repository
from db.session import create_engine, create_sessionmaker
from sop.clock import ManualClock
from sop.integrity import IntegrityChecker
from sop.model import Role, State, Step
from sop.service import PpidService
from sop.transfer import FORMAT, FORMAT_VERSION, Transfer, TransferError
from storage import Area, DocumentStorage, LocalStorage
from tests.conftest import PDF_BYTES, Office, chunks_of, sample_fields
from tests.support.backends import Backend, backend_for
from tests.support.documents import minimal_pdf
from tests.support.pg_fixtures import unique_db_name


@pytest.fixture
def target_url(db_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A second, new database of the same kind as the source."""
    if db_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'target.sqlite3'}"
        return
    server = request.getfixturevalue("postgres_server")
    name = unique_db_name("target")
    url = server.create_database(name)
    yield url
    server.drop_database(name)


@pytest.fixture
async def target_engine(target_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(target_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


#: Export from one backend, import into the other: both are exported from and imported into.
DIRECTIONS = {"local-to-s3": ("local", "s3"), "s3-to-local": ("s3", "local")}


@pytest.fixture(params=list(DIRECTIONS))
def backends(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Backend, Backend]:
    source_kind, target_kind = DIRECTIONS[request.param]
    return (
        backend_for(source_kind, request, tmp_path / "storage"),
        backend_for(target_kind, request, tmp_path / "target-storage"),
    )


@pytest.fixture
async def storage(backends: tuple[Backend, Backend]) -> AsyncIterator[DocumentStorage]:
    """The exporting office's storage (``tests/conftest.py``'s is the local one only)."""
    store = backends[0].make(max_size=1024 * 1024)
    yield store
    await store.close()


@pytest.fixture
async def target_storage(backends: tuple[Backend, Backend]) -> AsyncIterator[DocumentStorage]:
    store = backends[1].make(max_size=1024 * 1024)
    yield store
    await store.close()


@pytest.fixture
def source(engine: AsyncEngine, storage: DocumentStorage, clock: ManualClock) -> Transfer:
    return Transfer(create_sessionmaker(engine), storage, clock)


@pytest.fixture
def target(
    target_engine: AsyncEngine, target_storage: DocumentStorage, clock: ManualClock
) -> Transfer:
    return Transfer(create_sessionmaker(target_engine), target_storage, clock)


@pytest.fixture
def target_service(
    target_engine: AsyncEngine, target_storage: DocumentStorage, clock: ManualClock
) -> PpidService:
    return PpidService(
        create_sessionmaker(target_engine),
        target_storage,
        clock=clock,
        step_deadline=timedelta(hours=1),
    )


async def busy_office(service: PpidService, office: Office, engine: AsyncEngine) -> list[int]:
    """An office with a bit of everything: stored, returned, cancelled and draft records,
    detached files, invitations, a revoked role, divisions and persisted bot data."""
    stored = await service.create_draft(office.petugas, sample_fields(title="Tersimpan"))
    for name, content in (("a.pdf", PDF_BYTES), ("b.pdf", minimal_pdf("lampiran kedua " * 500))):
        await service.attach_file(
            office.petugas, stored.id, chunks_of(content), name, "application/pdf"
        )
    await service.complete_produce(office.petugas, stored.id, verified=True)
    await service.complete_handover(office.dokumentasi, stored.id)
    await service.complete_receive(office.pejabat, stored.id)

    returned = await service.create_draft(office.petugas, sample_fields(title="Dikembalikan"))
    await service.attach_file(
        office.petugas,
        returned.id,
        chunks_of(minimal_pdf("versi pertama")),
        "c.pdf",
        "application/pdf",
    )
    await service.complete_produce(office.petugas, returned.id, verified=True)
    await service.complete_handover(office.dokumentasi, returned.id)
    await service.return_record(
        office.pejabat, returned.id, Step.PRODUCE, "Tanggal penetapan keliru; mohon perbaiki."
    )

    cancelled = await service.create_draft(office.petugas, sample_fields(title="Dibatalkan"))
    await service.cancel_draft(office.petugas, cancelled.id, "Salah input, dibuat ulang.")

    draft = await service.create_draft(office.petugas_other, sample_fields(2, title="Draf"))
    detached = await service.attach_file(
        office.petugas_other,
        draft.id,
        chunks_of(minimal_pdf("salah lampir")),
        "d.pdf",
        "application/pdf",
    )
    await service.remove_file(office.petugas_other, draft.id, detached.id)
    _, chunks = await service.read_file(office.pejabat, detached.id)
    assert b"".join([chunk async for chunk in chunks]) == minimal_pdf("salah lampir")

    invitation = await service.create_invitation(office.admin, Role.PEJABAT_PPID)
    await service.redeem_invitation(invitation.code, 303, "Rudi Pejabat", "rudi")
    await service.create_invitation(office.admin, Role.PETUGAS_PPID, 3)
    await service.revoke_role(office.pejabat2.user_id, Role.PEJABAT_PPID)
    division = await service.add_division("Sekretariat Khusus")
    await service.set_division_active(division.id, False)
    async with create_sessionmaker(engine)() as session, session.begin():
        await Repository(session).kv_put(
            "user_data", "101", json.dumps({"draft": stored.id}), service.clock.now()
        )
    return [stored.id, returned.id, cancelled.id, draft.id]


async def all_rows(engine: AsyncEngine) -> dict[str, list[dict]]:
    async with create_sessionmaker(engine)() as session, session.begin():
        repo = Repository(session)
        return {t.name: await repo.table_rows(t) for t in Base.metadata.sorted_tables}


async def stored_paths(storage: DocumentStorage) -> list[str]:
    return [path async for path in storage.iter_paths()]


async def test_round_trip_reproduces_everything(
    service: PpidService,
    office: Office,
    engine: AsyncEngine,
    storage: DocumentStorage,
    source: Transfer,
    target: Transfer,
    target_engine: AsyncEngine,
    target_storage: DocumentStorage,
    target_service: PpidService,
    clock: ManualClock,
    tmp_path: Path,
) -> None:
    record_ids = await busy_office(service, office, engine)
    export_dir = tmp_path / "export"

    exported = await source.export_to(export_dir)

    manifest = json.loads((export_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format"] == FORMAT
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["created_at"] == clock.now().isoformat()
    assert manifest["alembic_revision"] == exported.revision is not None
    assert list(manifest["tables"]) == [t.name for t in Base.metadata.sorted_tables]
    source_rows = await all_rows(engine)
    # The open invitation's code stays out of the export; the used one is history.
    [used, open_invitation] = source_rows["invitations"]
    assert used["used_at"] is not None and open_invitation["used_at"] is None
    assert open_invitation["code"] not in (export_dir / "manifest.json").read_text("utf-8")
    source_rows["invitations"] = [used]
    for name, rows in source_rows.items():
        assert len(manifest["tables"][name]["rows"]) == len(rows), name
    assert exported.rows["records"] == 4
    file_rows = source_rows["record_files"]
    assert exported.files == len(file_rows) == 6  # a, b, their 2 copies, c, detached d
    assert sorted(f["path"] for f in manifest["files"]) == sorted(r["path"] for r in file_rows)
    for entry in manifest["files"]:
        data = (export_dir / "files" / entry["path"]).read_bytes()
        assert len(data) == entry["size"]
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    assert not (export_dir / "files" / ".tmp").exists()

    imported = await target.import_from(export_dir)

    assert imported.rows == exported.rows
    assert imported.files == exported.files
    assert imported.total_bytes == exported.total_bytes
    # Every row of every table, primary keys and stored audit hashes included.
    assert await all_rows(target_engine) == source_rows
    # Every file: the same bytes at the same path.
    assert await stored_paths(target_storage) == await stored_paths(storage)
    for row in file_rows:
        data = await target_storage.read_bytes(row["path"])
        assert data == await storage.read_bytes(row["path"])
        assert hashlib.sha256(data).hexdigest() == row["sha256"]
    # Every record as the service shows it, and each audit trail.
    admin = await target_service.actor_by_telegram(900)
    assert admin is not None
    for record_id in record_ids:
        assert await target_service.record(admin, record_id) == await service.record(
            office.admin, record_id
        )
        assert await target_service.audit_trail(admin, record_id) == await service.audit_trail(
            office.admin, record_id
        )
    assert await target_service.verify_audit_chain() == []
    report = await IntegrityChecker(
        create_sessionmaker(target_engine), target_storage, clock
    ).check()
    assert report.ok, report.render_text()
    assert report.files_checked == 6

    # Life goes on in the imported office: new ids, register numbers and audit entries
    # continue where the export stopped (PostgreSQL's sequences were moved past them).
    rina = await target_service.actor_by_telegram(office.petugas.telegram_id)
    sari = await target_service.actor_by_telegram(office.dokumentasi.telegram_id)
    andi = await target_service.actor_by_telegram(office.pejabat.telegram_id)
    assert rina and sari and andi
    fresh = await target_service.create_draft(rina, sample_fields(title="Sesudah impor"))
    assert fresh.id == max(record_ids) + 1
    await target_service.attach_file(
        rina, fresh.id, chunks_of(minimal_pdf("dokumen baru")), "e.pdf", "application/pdf"
    )
    await target_service.complete_produce(rina, fresh.id, verified=True)
    await target_service.complete_handover(sari, fresh.id)
    done = (await target_service.complete_receive(andi, fresh.id)).record
    assert done.state is State.STORED
    assert done.register_number == "DIK-2026-0002"
    assert min(f.id for f in done.files) == max(r["id"] for r in file_rows) + 1
    await target_service.add_person(404, "Orang Baru", Role.PETUGAS_DOKUMENTASI)
    await target_service.add_division("Bagian Baru")
    assert await target_service.verify_audit_chain() == []


async def test_import_refuses_a_database_that_is_not_empty(
    service: PpidService,
    office: Office,
    engine: AsyncEngine,
    source: Transfer,
    tmp_path: Path,
) -> None:
    await busy_office(service, office, engine)
    await source.export_to(tmp_path / "export")
    before = await all_rows(engine)

    with pytest.raises(TransferError, match="not empty"):
        await source.import_from(tmp_path / "export")

    assert await all_rows(engine) == before


async def test_import_refuses_a_storage_that_is_not_empty(
    service: PpidService,
    office: Office,
    engine: AsyncEngine,
    source: Transfer,
    target: Transfer,
    target_engine: AsyncEngine,
    target_storage: DocumentStorage,
    tmp_path: Path,
) -> None:
    await busy_office(service, office, engine)
    await source.export_to(tmp_path / "export")
    leftover = await target_storage.save_bytes(Area.DIVISION, "lama", b"lama", "lama.pdf")
    before = await all_rows(target_engine)

    with pytest.raises(TransferError, match=r"storage .* is not empty"):
        await target.import_from(tmp_path / "export")

    assert await all_rows(target_engine) == before
    assert await stored_paths(target_storage) == [leftover.path]


async def test_corrupted_export_file_leaves_nothing_behind(
    service: PpidService,
    office: Office,
    engine: AsyncEngine,
    source: Transfer,
    target: Transfer,
    target_engine: AsyncEngine,
    target_storage: DocumentStorage,
    tmp_path: Path,
    backends: tuple[Backend, Backend],
) -> None:
    await busy_office(service, office, engine)
    export_dir = tmp_path / "export"
    await source.export_to(export_dir)
    manifest = json.loads((export_dir / "manifest.json").read_text(encoding="utf-8"))
    # Damage the last file, so the ones before it have already been written when it fails.
    victim = sorted(f["path"] for f in manifest["files"])[-1]
    damaged = bytearray((export_dir / "files" / victim).read_bytes())
    damaged[0] ^= 0xFF
    (export_dir / "files" / victim).write_bytes(bytes(damaged))
    before = await all_rows(target_engine)

    with pytest.raises(TransferError, match=f"cannot import {victim}: its sha256 is"):
        await target.import_from(export_dir)

    assert await all_rows(target_engine) == before
    assert before["users"] == [] and len(before["divisions"]) == 4
    assert await stored_paths(target_storage) == []
    assert await backends[1].raw_paths(target_storage) == []
    assert await backends[1].in_progress(target_storage) == []


async def test_rows_the_database_refuses_leave_nothing_behind(
    service: PpidService,
    office: Office,
    engine: AsyncEngine,
    source: Transfer,
    target: Transfer,
    target_engine: AsyncEngine,
    target_storage: DocumentStorage,
    tmp_path: Path,
) -> None:
    await busy_office(service, office, engine)
    export_dir = tmp_path / "export"
    await source.export_to(export_dir)
    manifest_path = export_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    users = manifest["tables"]["users"]["rows"]
    users.append({**users[-1], "id": 999})  # the same telegram_id twice: a unique violation
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    before = await all_rows(target_engine)

    with pytest.raises(TransferError, match="the database refused the export's rows"):
        await target.import_from(export_dir)

    assert await all_rows(target_engine) == before  # one transaction: seeds still there
    assert await stored_paths(target_storage) == []


async def test_import_refuses_another_schema_revision(
    service: PpidService,
    office: Office,
    engine: AsyncEngine,
    source: Transfer,
    target: Transfer,
    target_storage: DocumentStorage,
    tmp_path: Path,
) -> None:
    await busy_office(service, office, engine)
    export_dir = tmp_path / "export"
    await source.export_to(export_dir)
    manifest_path = export_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["alembic_revision"] = "0000_older"
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")

    with pytest.raises(TransferError, match="schema revision 0000_older"):
        await target.import_from(export_dir)
    assert await stored_paths(target_storage) == []


async def test_export_refuses_a_directory_that_is_not_empty(
    source: Transfer, office: Office, tmp_path: Path
) -> None:
    export_dir = tmp_path / "export"
    export_dir.mkdir()
    (export_dir / "catatan.txt").write_text("jangan ditimpa")

    with pytest.raises(TransferError, match="not empty"):
        await source.export_to(export_dir)

    assert [p.name for p in export_dir.iterdir()] == ["catatan.txt"]


async def test_export_refuses_a_damaged_storage_and_cleans_up(
    service: PpidService,
    office: Office,
    engine: AsyncEngine,
    storage: DocumentStorage,
    source: Transfer,
    tmp_path: Path,
    backends: tuple[Backend, Backend],
) -> None:
    await busy_office(service, office, engine)
    rows = await all_rows(engine)
    lost = rows["record_files"][0]
    await backends[0].remove_raw(storage, lost["path"])
    export_dir = tmp_path / "export"

    with pytest.raises(TransferError, match=f"cannot export file #{lost['id']}"):
        await source.export_to(export_dir)

    assert not export_dir.exists()


async def test_export_refuses_a_table_the_models_do_not_know(
    engine: AsyncEngine, office: Office, source: Transfer, tmp_path: Path
) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE catatan_lain (id INTEGER PRIMARY KEY)"))

    with pytest.raises(TransferError, match="catatan_lain"):
        await source.export_to(tmp_path / "export")

    assert not (tmp_path / "export").exists()


async def test_import_needs_a_manifest(target: Transfer, tmp_path: Path) -> None:
    (tmp_path / "bukan-ekspor").mkdir()
    with pytest.raises(TransferError, match="not a ppidbot export"):
        await target.import_from(tmp_path / "bukan-ekspor")


async def test_import_refuses_a_path_outside_the_storage_trees(
    service: PpidService,
    office: Office,
    engine: AsyncEngine,
    source: Transfer,
    target: Transfer,
    target_storage: DocumentStorage,
    tmp_path: Path,
) -> None:
    await busy_office(service, office, engine)
    export_dir = tmp_path / "export"
    await source.export_to(export_dir)
    manifest_path = export_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["files"][0]["path"] = "../../etc/cron.d/evil"
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")

    with pytest.raises(TransferError, match="not under divisi/ or ppid/"):
        await target.import_from(export_dir)
    assert await stored_paths(target_storage) == []
    assert KeyValueRow.__tablename__ in manifest["tables"]


async def test_exports_and_imports_are_readable_by_the_bot_user_only(
    service: PpidService,
    office: Office,
    engine: AsyncEngine,
    source: Transfer,
    target: Transfer,
    target_storage: DocumentStorage,
    tmp_path: Path,
) -> None:
    await busy_office(service, office, engine)
    export_dir = tmp_path / "export"
    await source.export_to(export_dir)
    await target.import_from(export_dir)

    roots = [export_dir]
    if isinstance(target_storage, LocalStorage):
        roots.append(target_storage.root)
    for root in roots:
        files = [p for p in root.rglob("*") if p.is_file()]
        directories = [root, *(p for p in root.rglob("*") if p.is_dir())]
        assert files and len(directories) > 3
        assert {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o600}, root
        assert {stat.S_IMODE(p.stat().st_mode) for p in directories} == {0o700}, root
