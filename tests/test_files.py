"""Softcopies in the domain, on SQLite and PostgreSQL: crash-consistent writes (intents),
full disks, division changes that move the files, merges and their audit entries."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import FileIntentRow
from db.session import create_sessionmaker
from sop.clock import ManualClock
from sop.errors import (
    DiskFull,
    IntegrityFailure,
    InvalidInput,
    NotFound,
    PermissionDenied,
    StaleAction,
)
from sop.files import STALE_INTENT_AGE, FileRecovery, Purpose
from sop.integrity import IntegrityChecker
from sop.model import Role, State, Step
from sop.service import PpidService, StorageFullEvent
from sop.softcopy import ContentMismatch
from storage import Area, DocumentStorage, LocalStorage, faults
from tests.conftest import PDF_BYTES, Office, chunks_of, sample_fields
from tests.support import documents
from tests.support.backends import stored_paths
from tests.support.documents import minimal_pdf


@pytest.fixture(autouse=True)
def no_faults() -> AsyncIterator[None]:
    yield
    faults.disarm()


async def intents(engine: AsyncEngine) -> list[FileIntentRow]:
    async with create_sessionmaker(engine)() as session:
        return list((await session.scalars(select(FileIntentRow))).all())


def checker(engine: AsyncEngine, service: PpidService) -> IntegrityChecker:
    return IntegrityChecker(create_sessionmaker(engine), service.storage, service.clock)


def recovery(engine: AsyncEngine, service: PpidService) -> FileRecovery:
    return FileRecovery(create_sessionmaker(engine), service.storage, service.clock)


async def draft(service: PpidService, office: Office, *contents: bytes) -> int:
    record = await service.create_draft(office.petugas, sample_fields())
    for index, content in enumerate(contents):
        await service.attach_file(
            office.petugas, record.id, chunks_of(content), f"f{index}.pdf", "application/pdf"
        )
    return record.id


async def on_disk(service: PpidService, area: Area | None = None) -> list[str]:
    paths = await stored_paths(service.storage)
    return [p for p in paths if area is None or p.startswith(area.value + "/")]


# -- intents ---------------------------------------------------------------------------------
async def test_an_upload_leaves_no_intent_and_its_file_recorded(
    service: PpidService, office: Office, engine: AsyncEngine
) -> None:
    record_id = await draft(service, office, PDF_BYTES)
    assert await intents(engine) == []
    [file] = (await service.record(office.petugas, record_id)).files
    assert await on_disk(service) == [file.path]
    assert (await checker(engine, service).check()).ok


async def test_an_intent_names_the_path_before_the_bytes_arrive(
    service: PpidService, office: Office, engine: AsyncEngine
) -> None:
    record = await service.create_draft(office.petugas, sample_fields())
    seen: list[list[FileIntentRow]] = []

    async def watched() -> AsyncIterator[bytes]:
        seen.append(await intents(engine))  # the download has not started yet
        yield PDF_BYTES

    file = await service.attach_file(office.petugas, record.id, watched(), "a.pdf", None)
    [[intent]] = seen
    assert (intent.path, intent.purpose, intent.record_id) == (file.path, "upload", record.id)
    assert intent.user_id == office.petugas.user_id and intent.original_name == "a.pdf"
    assert await intents(engine) == []


async def test_reconciling_removes_unrecorded_files_and_keeps_uploads_to_tell(
    service: PpidService, office: Office, engine: AsyncEngine, clock: ManualClock
) -> None:
    """What a kill -9 leaves (an intent, a file at its path, no row) is removed at start;
    the sender of the cut upload is remembered until told."""
    record_id = await draft(service, office, PDF_BYTES)
    storage = service.storage
    planned = storage.plan(Area.DIVISION, "keuangan", "setengah.pdf")
    await storage.write(planned, chunks_of(minimal_pdf("setengah")))
    copy = storage.plan(Area.PPID, "keuangan", "salinan.pdf")
    await storage.write(copy, chunks_of(minimal_pdf("salinan")))
    async with service.transaction() as repo:
        await repo.add_intents(
            [
                FileIntentRow(
                    path=planned.path,
                    purpose=Purpose.UPLOAD,
                    record_id=record_id,
                    user_id=office.petugas.user_id,
                    original_name="setengah.pdf",
                    created_at=clock.now(),
                ),
                FileIntentRow(path=copy.path, purpose=Purpose.COPY, created_at=clock.now()),
            ]
        )
    # While the bot may be writing, check leaves young intents alone: not orphans.
    report = await checker(engine, service).check()
    assert report.ok, report.render_text()
    assert sorted(report.writes_in_progress) == sorted([planned.path, copy.path])

    reconciled = await recovery(engine, service).reconcile()  # at start
    assert sorted(reconciled.removed) == sorted([planned.path, copy.path])
    assert (reconciled.settled, reconciled.interrupted) == (1, 1)
    assert not await storage.exists(planned.path) and not await storage.exists(copy.path)
    [upload] = await recovery(engine, service).interrupted_uploads()
    assert (upload.telegram_id, upload.record_number, upload.original_name) == (
        office.petugas.telegram_id,
        f"BRK-{record_id}",
        "setengah.pdf",
    )
    assert (await recovery(engine, service).reconcile()).removed == []  # idempotent
    await recovery(engine, service).settle(upload.intent_id)
    assert await intents(engine) == []
    report = await checker(engine, service).check()
    assert report.ok and report.files_checked == 1


async def test_check_reconciles_intents_older_than_any_write(
    service: PpidService, office: Office, engine: AsyncEngine, clock: ManualClock
) -> None:
    planned = service.storage.plan(Area.DIVISION, "umum", "lama.pdf")
    await service.storage.write(planned, chunks_of(minimal_pdf("lama")))
    async with service.transaction() as repo:
        await repo.add_intents(
            [FileIntentRow(path=planned.path, purpose=Purpose.MERGE, created_at=clock.now())]
        )
    clock.advance(STALE_INTENT_AGE + timedelta(minutes=1))
    report = await checker(engine, service).check()
    assert report.ok and report.removed_leftovers == [planned.path]
    assert "reconciled: removed 1 file(s) left by interrupted writes" in report.render_text()
    assert await on_disk(service) == [] and await intents(engine) == []


async def test_a_file_without_row_or_intent_is_still_an_orphan(
    service: PpidService, office: Office, engine: AsyncEngine
) -> None:
    stray = await service.storage.save_bytes(Area.DIVISION, "umum", b"stray", "x.pdf")
    report = await checker(engine, service).check()
    assert [o.path for o in report.orphan_files] == [stray.path]
    assert report.exit_code == 1


# -- full disk -------------------------------------------------------------------------------
@pytest.fixture
def alarms(service: PpidService) -> list[StorageFullEvent]:
    heard: list[StorageFullEvent] = []

    async def listener(event: StorageFullEvent) -> bool:
        heard.append(event)
        return True

    service.on_storage_full(listener)
    return heard


@pytest.mark.parametrize(
    ("point", "action"),
    [("storage.chunk", "enospc"), ("storage.written", "enospc"), ("storage.chunk", "edquot")],
)
async def test_a_full_disk_during_an_upload_keeps_nothing_and_says_so(
    service: PpidService,
    office: Office,
    engine: AsyncEngine,
    alarms: list[StorageFullEvent],
    point: str,
    action: str,
) -> None:
    record = await service.create_draft(office.petugas, sample_fields())
    faults.arm(point, action)
    with pytest.raises(DiskFull) as caught:
        await service.attach_file(
            office.petugas, record.id, chunks_of(PDF_BYTES * 50), "surat.pdf", None
        )
    assert "surat.pdf TIDAK tersimpan" in caught.value.message
    assert "penyimpanan server penuh" in caught.value.message
    assert "Admin sudah diberi tahu" in caught.value.message
    assert "tidak hilang" not in caught.value.message
    assert [(e.operation, e.record_id) for e in alarms] == [("upload", record.id)]
    assert await on_disk(service) == [] and await intents(engine) == []
    assert (await service.record(office.petugas, record.id)).files == ()

    faults.disarm()  # space was freed: the same upload now works
    await service.attach_file(office.petugas, record.id, chunks_of(PDF_BYTES), "surat.pdf", None)
    assert (await checker(engine, service).check()).ok


async def test_a_full_database_disk_before_the_upload_is_the_same_message(
    service: PpidService,
    office: Office,
    engine: AsyncEngine,
    alarms: list[StorageFullEvent],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record = await service.create_draft(office.petugas, sample_fields())

    async def full(*args: object, **kwargs: object) -> None:
        raise OperationalError("INSERT", {}, Exception("database or disk is full"))

    monkeypatch.setattr("db.repositories.Repository.add_intents", full)
    with pytest.raises(DiskFull, match="TIDAK tersimpan"):
        await service.attach_file(office.petugas, record.id, chunks_of(PDF_BYTES), "a.pdf", None)
    assert len(alarms) == 1 and await on_disk(service) == []


async def test_without_a_listener_the_person_is_asked_to_tell_the_admins(
    service: PpidService, office: Office
) -> None:
    record = await service.create_draft(office.petugas, sample_fields())
    faults.arm("storage.chunk", "enospc")
    with pytest.raises(DiskFull, match="Mohon beri tahu admin PPID"):
        await service.attach_file(office.petugas, record.id, chunks_of(PDF_BYTES), "a.pdf", None)


async def test_accepting_on_a_full_disk_leaves_the_record_at_step_three(
    service: PpidService, office: Office, engine: AsyncEngine, alarms: list[StorageFullEvent]
) -> None:
    record_id = await draft(service, office, minimal_pdf("satu"), minimal_pdf("dua"))
    await service.complete_produce(office.petugas, record_id, verified=True)
    await service.complete_handover(office.dokumentasi, record_id)
    faults.arm("storage.chunk", "enospc")
    with pytest.raises(DiskFull) as caught:
        await service.complete_receive(office.pejabat, record_id)
    assert "berkas tetap di langkah 3" in caught.value.message
    assert len(caught.value.message) <= 200  # it is shown as a button alert
    record = await service.record(office.pejabat, record_id)
    assert (record.state, record.due_step) == (State.REGISTERED, Step.RECEIVE)
    assert await on_disk(service, Area.PPID) == [] and await intents(engine) == []
    assert [e.operation for e in alarms] == ["receive"]
    actions = [e.action for e in await service.audit_trail(office.admin, record_id)]
    assert "integrity.failed" not in actions  # a full disk is no checksum failure

    faults.disarm()
    outcome = await service.complete_receive(office.pejabat, record_id)
    assert outcome.record.state is State.STORED
    assert len(await on_disk(service, Area.PPID)) == 2
    assert (await checker(engine, service).check()).ok


async def test_a_full_disk_between_the_copies_and_the_commit_keeps_no_copy(
    service: PpidService, office: Office, engine: AsyncEngine, alarms: list[StorageFullEvent]
) -> None:
    record_id = await draft(service, office, PDF_BYTES)
    await service.complete_produce(office.petugas, record_id, verified=True)
    await service.complete_handover(office.dokumentasi, record_id)
    faults.arm("receive.copied", "enospc")
    with pytest.raises(DiskFull):
        await service.complete_receive(office.pejabat, record_id)
    assert await on_disk(service, Area.PPID) == [] and await intents(engine) == []


# -- content ---------------------------------------------------------------------------------
async def test_content_that_does_not_match_its_type_is_not_stored(
    service: PpidService, office: Office, engine: AsyncEngine
) -> None:
    record = await service.create_draft(office.petugas, sample_fields())
    with pytest.raises(ContentMismatch, match=r"nota\.docx bukan dokumen Word"):
        await service.attach_file(
            office.petugas, record.id, chunks_of(b"PK\x03\x04 hello"), "nota.docx", None
        )
    assert await on_disk(service) == [] and await intents(engine) == []
    for extension, (data, mime) in documents.EVERY_TYPE.items():
        await service.attach_file(
            office.petugas, record.id, chunks_of(data), f"berkas{extension}", mime
        )
    stored = (await service.record(office.petugas, record.id)).files
    assert len(stored) == len(documents.EVERY_TYPE)


# -- merges and detaching, as the audit trail says them --------------------------------------
async def test_a_merge_is_audited_as_one_merge_naming_the_photos(
    service: PpidService, office: Office, engine: AsyncEngine
) -> None:
    record = await service.create_draft(office.petugas, sample_fields())
    photos = [
        await service.attach_file(
            office.petugas, record.id, chunks_of(documents.jpeg(color)), f"hal-{i}.jpg", None
        )
        for i, color in enumerate([(255, 0, 0), (0, 0, 255)], start=1)
    ]
    merged = await service.combine_photos(
        office.petugas, record.id, [p.id for p in photos], "gabungan.pdf"
    )
    trail = await service.audit_trail(office.admin, record.id)
    assert [e.action for e in trail][-1] == "file.merged"
    details = trail[-1].details
    assert (details["file"], details["name"], details["sha256"]) == (
        merged.id,
        "gabungan.pdf",
        merged.sha256,
    )
    assert [(p["file"], p["name"]) for p in details["photos"]] == [
        (photos[0].id, "hal-1.jpg"),
        (photos[1].id, "hal-2.jpg"),
    ]
    assert "file.read" not in [e.action for e in trail]  # nobody downloaded anything
    assert "file.detached" not in [e.action for e in trail]
    assert [f.id for f in (await service.record(office.petugas, record.id)).files] == [merged.id]
    assert len(await on_disk(service)) == 3 and await intents(engine) == []  # photos kept


async def test_a_merge_on_a_full_disk_keeps_the_photos_attached(
    service: PpidService, office: Office, engine: AsyncEngine, alarms: list[StorageFullEvent]
) -> None:
    record = await service.create_draft(office.petugas, sample_fields())
    ids = [
        (
            await service.attach_file(
                office.petugas, record.id, chunks_of(documents.jpeg(c)), f"{i}.jpg", None
            )
        ).id
        for i, c in enumerate([(1, 1, 1), (9, 9, 9)])
    ]
    faults.arm("storage.written", "enospc")
    with pytest.raises(DiskFull, match="Foto tidak digabung"):
        await service.combine_photos(office.petugas, record.id, ids, "gabungan.pdf")
    assert [f.id for f in (await service.record(office.petugas, record.id)).files] == ids
    assert len(await on_disk(service)) == 2 and await intents(engine) == []


async def test_detaching_names_the_file(service: PpidService, office: Office) -> None:
    record_id = await draft(service, office, PDF_BYTES)
    [file] = (await service.record(office.petugas, record_id)).files
    await service.remove_file(office.petugas, record_id, file.id)
    entry = (await service.audit_trail(office.admin, record_id))[-1]
    assert entry.action == "file.detached"
    assert entry.details == {"file": file.id, "name": "f0.pdf", "sha256": file.sha256}


# -- division changes move the files ---------------------------------------------------------
async def test_petugas_moves_a_draft_to_another_division_with_its_files(
    service: PpidService, office: Office, engine: AsyncEngine
) -> None:
    record_id = await draft(service, office, minimal_pdf("satu"), minimal_pdf("dua"))
    before = (await service.record(office.petugas, record_id)).files
    [detached] = [f for f in before if f.original_name == "f1.pdf"]
    await service.remove_file(office.petugas, record_id, detached.id)

    moved = await service.update_fields(office.petugas, record_id, {"division_id": 3})

    assert moved.fields.division_id == 3
    assert moved.division_name == "Hukum dan Sumber Daya Manusia"
    paths = sorted(await on_disk(service))
    assert len(paths) == 2  # the attached and the detached file, nothing else left
    assert all(p.startswith("divisi/hukum-dan-sumber-daya-manusia/") for p in paths)
    [kept] = moved.files
    assert kept.path.startswith("divisi/hukum-dan-sumber-daya-manusia/")
    assert await service.storage.read_bytes(kept.path) == minimal_pdf("satu")
    trail = await service.audit_trail(office.admin, record_id)
    moves = [e.details for e in trail if e.action == "file.moved"]
    assert sorted(m["name"] for m in moves) == ["f0.pdf", "f1.pdf"]
    assert all(m["from"].startswith("divisi/keuangan") for m in moves)
    updated = [e.details for e in trail if e.action == "record.updated"][-1]
    assert updated["changes"]["division_id"] == {
        "old": {"id": 1, "name": "Keuangan, Umum dan Logistik"},
        "new": {"id": 3, "name": "Hukum dan Sumber Daya Manusia"},
    }
    assert await intents(engine) == []
    report = await checker(engine, service).check()
    assert report.ok, report.render_text()

    # The creator still edits it; the new division's Petugas PPID now may too.
    await service.update_fields(office.petugas, record_id, {"title": "Judul dikoreksi"})
    assert await service.responsible(record_id)


async def test_dokumentasi_moves_a_record_in_step_two(
    service: PpidService, office: Office, engine: AsyncEngine
) -> None:
    record_id = await draft(service, office, PDF_BYTES)
    await service.complete_produce(office.petugas, record_id, verified=True)
    current = await service.record(office.dokumentasi, record_id)
    moved = await service.update_fields(
        office.dokumentasi, record_id, {"division_id": 2}, expected_version=current.version
    )
    assert moved.fields.division_id == 2 and moved.state is State.SUBMITTED
    [path] = await on_disk(service)
    assert path.startswith("divisi/teknis-penyelenggaraan-pemilu-")
    assert hashlib.sha256(await service.storage.read_bytes(moved.files[0].path)).hexdigest() == (
        hashlib.sha256(PDF_BYTES).hexdigest()
    )
    with pytest.raises(StaleAction):  # the button was made for the old version
        await service.update_fields(
            office.dokumentasi, record_id, {"division_id": 3}, expected_version=current.version
        )
    await service.complete_handover(office.dokumentasi, record_id)
    outcome = await service.complete_receive(office.pejabat, record_id)
    assert outcome.record.state is State.STORED
    assert (await checker(engine, service).check()).ok


async def test_who_may_move_a_record_and_where(service: PpidService, office: Office) -> None:
    record_id = await draft(service, office, PDF_BYTES)
    with pytest.raises(NotFound):  # another division's Petugas PPID does not even see it
        await service.update_fields(office.petugas_other, record_id, {"division_id": 2})
    with pytest.raises(PermissionDenied):
        await service.update_fields(office.dokumentasi, record_id, {"division_id": 2})
    with pytest.raises(InvalidInput, match="Bagian tidak dikenal"):
        await service.update_fields(office.petugas, record_id, {"division_id": 99})
    division = await service.add_division("Bagian Lama")
    await service.set_division_active(division.id, False)
    with pytest.raises(InvalidInput, match="Bagian tidak dikenal"):
        await service.update_fields(office.petugas, record_id, {"division_id": division.id})
    same = await service.update_fields(office.petugas, record_id, {"division_id": 1})
    assert same.fields.division_id == 1 and len(await on_disk(service)) == 1


async def test_a_full_disk_while_moving_keeps_the_record_where_it_was(
    service: PpidService, office: Office, engine: AsyncEngine, alarms: list[StorageFullEvent]
) -> None:
    record_id = await draft(service, office, PDF_BYTES)
    before = await on_disk(service)
    faults.arm("move.copied", "enospc")
    with pytest.raises(DiskFull, match="Bagian tidak diubah"):
        await service.update_fields(office.petugas, record_id, {"division_id": 3})
    record = await service.record(office.petugas, record_id)
    assert record.fields.division_id == 1
    assert await on_disk(service) == before and await intents(engine) == []
    assert [e.operation for e in alarms] == ["move"]


async def test_a_changed_source_fails_the_move_by_checksum(
    service: PpidService, office: Office, engine: AsyncEngine
) -> None:
    record_id = await draft(service, office, PDF_BYTES)
    [file] = (await service.record(office.petugas, record_id)).files
    service.storage.absolute(file.path).write_bytes(PDF_BYTES + b"tampered")
    with pytest.raises(IntegrityFailure, match="pemeriksaan checksum"):
        await service.update_fields(office.petugas, record_id, {"division_id": 3})
    assert (await service.record(office.petugas, record_id)).fields.division_id == 1
    assert await on_disk(service) == [file.path] and await intents(engine) == []


# -- a real full disk: a tiny filesystem -------------------------------------------------------
@pytest.fixture
def tiny_storage(tmp_path: Path) -> Iterator[DocumentStorage]:
    """The storage on a 256 KB tmpfs: a disk that really fills up (needs root to mount)."""
    root = tmp_path / "tiny"
    root.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tiny tmpfs here: {mounted.stderr.strip() or 'not root'}")
    try:
        yield LocalStorage(root, max_size=1024 * 1024)
    finally:
        subprocess.run(["umount", "-l", str(root)], check=False)


async def test_a_really_full_disk_keeps_nothing_and_the_next_small_file_fits(
    engine: AsyncEngine, tiny_storage: DocumentStorage, clock: ManualClock
) -> None:
    service = PpidService(create_sessionmaker(engine), tiny_storage, clock=clock)
    petugas = await service.add_person(101, "Rina Petugas", Role.PETUGAS_PPID, division_id=1)
    record = await service.create_draft(petugas, sample_fields())
    big = minimal_pdf("x" * (600 * 1024))  # larger than the whole filesystem
    with pytest.raises(DiskFull, match="TIDAK tersimpan"):
        await service.attach_file(petugas, record.id, chunks_of(big, 64 * 1024), "besar.pdf", None)
    assert await stored_paths(tiny_storage) == []
    assert list(tiny_storage.temp_dir.iterdir()) == []  # no half file left in .tmp either
    assert await intents(engine) == []
    small = await service.attach_file(
        petugas, record.id, chunks_of(minimal_pdf("kecil")), "kecil.pdf", None
    )
    assert await stored_paths(tiny_storage) == [small.path]
    report = await IntegrityChecker(create_sessionmaker(engine), tiny_storage, clock).check()
    assert report.ok, report.render_text()
