"""`ppidbot check`: each kind of damage is found, on SQLite and PostgreSQL; and the weekly
self-check inside the bot tells the admins."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.ext import Application

from bot.app import build_application
from bot.integrity_job import JOB_NAME, run_check_and_notify, schedule_weekly_check
from bot.texts import integrity as integrity_texts
from db.session import create_sessionmaker
from sop.clock import ManualClock
from sop.integrity import (
    AuditProblem,
    HashMismatch,
    IntegrityChecker,
    IntegrityReport,
    MissingFile,
    OrphanFile,
    OverdueStep,
    SizeMismatch,
)
from sop.model import FileView, RecordView, Role, Step
from sop.service import PpidService
from storage import Area, DocumentStorage
from tests.conftest import PDF_BYTES, Office, chunks_of, sample_fields
from tests.e2e.harness import ADMIN_ID, BotHarness
from tests.e2e.test_steps import notice_rows, settled
from tests.emulator import BotApiEmulator, FakeUser
from tests.emulator.fixtures import emulator  # noqa: F401
from tests.support.backends import BACKENDS, Backend, backend_for
from tests.support.documents import minimal_pdf


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def stored_record(service: PpidService, office: Office, content: bytes) -> RecordView:
    """A record taken through all three steps (so it has a division file and a PPID copy)."""
    draft = await service.create_draft(office.petugas, sample_fields())
    await service.attach_file(
        office.petugas, draft.id, chunks_of(content), "surat.pdf", "application/pdf"
    )
    await service.complete_produce(office.petugas, draft.id, verified=True)
    await service.complete_handover(office.dokumentasi, draft.id)
    return (await service.complete_receive(office.pejabat, draft.id)).record


def file_in(record: RecordView, area: Area) -> FileView:
    [found] = [f for f in record.files if f.area == area]
    return found


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return backend_for(request.param, request, tmp_path / "storage")


@pytest.fixture
async def storage(backend: Backend) -> AsyncIterator[DocumentStorage]:
    """The check runs on each backend (``tests/conftest.py``'s is the local one only)."""
    store = backend.make(max_size=1024 * 1024)
    yield store
    await store.close()


@pytest.fixture
def checker(engine: AsyncEngine, storage: DocumentStorage, clock: ManualClock) -> IntegrityChecker:
    return IntegrityChecker(create_sessionmaker(engine), storage, clock)


async def test_clean_state_is_ok(
    service: PpidService,
    office: Office,
    checker: IntegrityChecker,
    storage: DocumentStorage,
    backend: Backend,
) -> None:
    record = await stored_record(service, office, PDF_BYTES)
    draft = await service.create_draft(office.petugas, sample_fields())
    kept = await service.attach_file(
        office.petugas,
        draft.id,
        chunks_of(minimal_pdf("lampiran tetap")),
        "a.pdf",
        "application/pdf",
    )
    detached = await service.attach_file(
        office.petugas,
        draft.id,
        chunks_of(minimal_pdf("lampiran dilepas")),
        "b.pdf",
        "application/pdf",
    )
    await service.remove_file(office.petugas, draft.id, detached.id)
    # A file being written (temp area) and anything beside the two trees are not documents.
    await backend.put_raw(storage, ".tmp/upload.part", b"half")
    await backend.put_raw(storage, "README.txt", b"catatan operator")

    report = await checker.check()

    assert report.ok, report.render_text()
    assert report.problem_count == 0
    assert report.files_checked == 4  # division file + PPID copy + kept + detached
    assert report.audit_entries_checked > 0
    assert await storage.exists(detached.path) and await storage.exists(kept.path)
    assert record.register_number == "DIK-2026-0001"
    rendered = report.render_text()
    assert "OK: no problems found" in rendered
    assert "stored files checked: 4" in rendered


async def test_deleted_file_is_missing(
    service: PpidService,
    office: Office,
    checker: IntegrityChecker,
    storage: DocumentStorage,
    backend: Backend,
) -> None:
    record = await stored_record(service, office, PDF_BYTES)
    copy = file_in(record, Area.PPID)
    await backend.remove_raw(storage, copy.path)

    report = await checker.check()

    assert not report.ok
    assert report.missing_files == [MissingFile(copy.id, "DIK-2026-0001", copy.path)]
    assert report.size_mismatches == []
    assert report.checksum_mismatches == []
    assert report.orphan_files == []
    assert report.audit_problems == []
    assert report.damaged_files == 1
    assert f"{copy.path} (file #{copy.id}, DIK-2026-0001): not on disk" in report.render_text()


async def test_altered_byte_is_a_checksum_mismatch(
    service: PpidService,
    office: Office,
    checker: IntegrityChecker,
    storage: DocumentStorage,
    backend: Backend,
) -> None:
    record = await stored_record(service, office, PDF_BYTES)
    original = file_in(record, Area.DIVISION)
    damaged = bytearray(PDF_BYTES)
    damaged[3] ^= 0x01
    await backend.put_raw(storage, original.path, bytes(damaged))

    report = await checker.check()

    assert not report.ok
    assert report.checksum_mismatches == [
        HashMismatch(original.id, "DIK-2026-0001", original.path, sha(PDF_BYTES), sha(damaged))
    ]
    assert report.size_mismatches == []  # same length
    assert report.missing_files == []
    assert report.problem_count == 1


async def test_changed_length_is_a_size_and_checksum_mismatch(
    service: PpidService,
    office: Office,
    checker: IntegrityChecker,
    storage: DocumentStorage,
    backend: Backend,
) -> None:
    record = await stored_record(service, office, PDF_BYTES)
    copy = file_in(record, Area.PPID)
    longer = PDF_BYTES + b"x"
    await backend.put_raw(storage, copy.path, longer)

    report = await checker.check()

    assert report.size_mismatches == [
        SizeMismatch(copy.id, "DIK-2026-0001", copy.path, len(PDF_BYTES), len(longer))
    ]
    assert report.checksum_mismatches == [
        HashMismatch(copy.id, "DIK-2026-0001", copy.path, sha(PDF_BYTES), sha(longer))
    ]
    assert report.damaged_files == 1
    assert f"expected {len(PDF_BYTES)} bytes, found {len(longer)}" in report.render_text()


async def test_unreferenced_file_is_an_orphan(
    service: PpidService,
    office: Office,
    checker: IntegrityChecker,
    storage: DocumentStorage,
    backend: Backend,
) -> None:
    await stored_record(service, office, PDF_BYTES)
    stray = "ppid/keuangan/2026/11/0123456789ab-stray.pdf"
    await backend.put_raw(storage, stray, b"dropped here by hand")

    report = await checker.check()

    assert report.orphan_files == [OrphanFile("ppid/keuangan/2026/11/0123456789ab-stray.pdf")]
    assert report.missing_files == report.checksum_mismatches == []
    assert not report.ok


async def test_tampered_audit_row_breaks_the_chain(
    service: PpidService, office: Office, checker: IntegrityChecker, engine: AsyncEngine
) -> None:
    record = await stored_record(service, office, PDF_BYTES)
    async with engine.begin() as connection:
        seq = await connection.scalar(
            text("SELECT MIN(seq) FROM audit_log WHERE action = 'record.created'")
        )
        await connection.execute(
            text("UPDATE audit_log SET details = :details WHERE seq = :seq"),
            {"details": '{"division":1,"title":"judul lain"}', "seq": seq},
        )

    report = await checker.check()

    assert report.audit_problems == [AuditProblem(seq, "content does not match its hash")]
    assert report.missing_files == report.orphan_files == []
    assert not report.ok
    assert record.id > 0
    assert f"entry {seq}: content does not match its hash" in report.render_text()


async def test_deleted_last_audit_row_is_found(
    service: PpidService, office: Office, checker: IntegrityChecker, engine: AsyncEngine
) -> None:
    await stored_record(service, office, PDF_BYTES)
    async with engine.begin() as connection:
        last = await connection.scalar(text("SELECT MAX(seq) FROM audit_log"))
        await connection.execute(text("DELETE FROM audit_log WHERE seq = :seq"), {"seq": last})

    report = await checker.check()

    assert report.audit_problems == [
        AuditProblem(last - 1, f"chain head says entry {last}, log ends at {last - 1}")
    ]


async def test_open_step_past_due_is_overdue(
    service: PpidService, office: Office, checker: IntegrityChecker, clock: ManualClock
) -> None:
    draft = await service.create_draft(office.petugas, sample_fields())
    await service.attach_file(
        office.petugas, draft.id, chunks_of(PDF_BYTES), "a.pdf", "application/pdf"
    )
    await service.complete_produce(office.petugas, draft.id, verified=True)
    assert (await checker.check()).ok  # step 2 is due in an hour: not late yet

    clock.advance(timedelta(hours=1, minutes=30))
    report = await checker.check()

    due = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert report.overdue_steps == [
        OverdueStep(draft.id, f"BRK-{draft.id}", Step.HANDOVER, 1, due, timedelta(minutes=30))
    ]
    assert report.problem_count == 1
    assert f"BRK-{draft.id}: step 2 (attempt 1) was due 2026-11-23 09:00 WIB, 30m late" in (
        report.render_text()
    )


def test_indonesian_summary_names_each_problem() -> None:
    report = IntegrityReport(
        checked_at=datetime(2026, 11, 30, 0, 0, tzinfo=UTC),
        missing_files=[MissingFile(1, "DIK-2026-0001", "ppid/a")],
        size_mismatches=[SizeMismatch(2, "BRK-2", "divisi/b", 10, 11)],
        checksum_mismatches=[HashMismatch(2, "BRK-2", "divisi/b", "0" * 64, "1" * 64)],
        orphan_files=[OrphanFile("divisi/c"), OrphanFile("divisi/d")],
        overdue_steps=[
            OverdueStep(
                3, "BRK-3", Step.RECEIVE, 2, datetime(2026, 11, 29, tzinfo=UTC), timedelta(hours=2)
            )
        ],
        audit_problems=[AuditProblem(7, "content does not match its hash")],
    )

    summary = integrity_texts.summary(report)

    assert "Senin, 30 November 2026 07.00 WIB" in summary
    assert "• 1 berkas tersimpan hilang dari penyimpanan" in summary
    assert "• 1 berkas tersimpan berubah isinya" in summary
    assert "• 2 berkas di penyimpanan tidak tercatat" in summary
    assert "• 1 langkah melewati batas waktu: BRK-3 (langkah 3, terlambat 2 jam)" in summary
    assert "Rantai hash log audit rusak (1 masalah)" in summary
    assert "<code>ppidbot check</code>" in summary
    assert integrity_texts.ONLY_LATE not in summary
    assert (report.damaged, report.only_late, report.exit_code) == (True, False, 1)


def test_indonesian_summary_names_at_most_five_overdue_records() -> None:
    at = datetime(2026, 11, 30, tzinfo=UTC)
    report = IntegrityReport(
        checked_at=at,
        overdue_steps=[
            OverdueStep(n, f"BRK-{n}", Step.PRODUCE, 1, at, timedelta(minutes=n))
            for n in range(1, 8)
        ],
    )
    summary = integrity_texts.summary(report)
    assert (report.damaged, report.only_late, report.exit_code) == (False, True, 2)
    assert integrity_texts.ONLY_LATE in summary  # the weekly message keeps lateness, and says so
    assert "• 7 langkah melewati batas waktu" in summary
    assert "BRK-5 (langkah 1, terlambat 5 menit) dan 2 lainnya" in summary
    assert "BRK-6" not in summary


# -- the weekly self-check inside the bot -----------------------------------------------------


@pytest.fixture
async def harness(
    emulator: BotApiEmulator,  # noqa: F811
    tmp_path: Path,
    clock: ManualClock,
) -> AsyncIterator[BotHarness]:
    harness = BotHarness(emulator, tmp_path, clock)
    await harness.start()
    yield harness
    await harness.close()


@pytest.fixture
async def application(
    harness: BotHarness,
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """A second Application on the harness's runtime, initialised but not polling."""
    app = build_application(await harness.runtime())
    async with app:
        yield app


async def stored_via_harness(harness: BotHarness) -> tuple[RecordView, FakeUser]:
    """A stored record made through the service; returns it and the Pejabat PPID's phone."""
    _, petugas = await harness.person(101, "Rina", Role.PETUGAS_PPID, division_id=1)
    _, dokumentasi = await harness.person(201, "Sari", Role.PETUGAS_DOKUMENTASI)
    pejabat_phone, pejabat = await harness.person(301, "Andi", Role.PEJABAT_PPID)
    service = (await harness.runtime()).service
    draft = await service.create_draft(petugas, sample_fields())
    await service.attach_file(
        petugas, draft.id, chunks_of(PDF_BYTES), "surat.pdf", "application/pdf"
    )
    await service.complete_produce(petugas, draft.id, verified=True)
    await service.complete_handover(dokumentasi, draft.id)
    stored = (await service.complete_receive(pejabat, draft.id)).record
    # The notices of the steps go out in the background: wait until they have.
    await settled(harness, tuple(row.id for row in await notice_rows(harness)))
    return stored, pejabat_phone


async def test_weekly_check_tells_admins_when_a_file_is_gone(
    harness: BotHarness, application: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    record, pejabat_phone = await stored_via_harness(harness)
    runtime = await harness.runtime()
    runtime.storage.absolute(file_in(record, Area.PPID).path).unlink()
    admin = harness.emulator.user(ADMIN_ID, "Kepala Admin")
    second_admin, _ = await harness.person(902, "Admin Kedua", Role.ADMIN)
    pejabat_seen = len(pejabat_phone.inbox)
    admin.mark()
    second_admin.mark()

    report = await run_check_and_notify(application.bot, runtime)

    assert [p.record for p in report.missing_files] == ["DIK-2026-0001"]
    for phone in (admin, second_admin):
        message = await phone.wait_for("Pemeriksaan integritas mingguan menemukan masalah")
        assert "1 berkas tersimpan hilang dari penyimpanan" in message.text
        assert "ppidbot check" in message.text
    assert len(pejabat_phone.inbox) == pejabat_seen  # admins only
    assert harness.emulator.failed_calls() == []


async def test_weekly_check_is_silent_when_all_is_well(
    harness: BotHarness, application: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    await stored_via_harness(harness)
    runtime = await harness.runtime()
    sent_before = len(harness.emulator.calls_to("sendMessage"))

    report = await run_check_and_notify(application.bot, runtime)

    assert report.ok
    assert report.files_checked == 2
    assert len(harness.emulator.calls_to("sendMessage")) == sent_before


async def test_weekly_job_is_scheduled_once_for_monday_morning_and_runs(
    harness: BotHarness, application: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    record, _ = await stored_via_harness(harness)
    runtime = await harness.runtime()
    assert application.job_queue is not None
    await application.job_queue.start()
    try:
        schedule_weekly_check(application)
        job = schedule_weekly_check(application)  # again: the old job is replaced
        jobs = [j for j in application.job_queue.get_jobs_by_name(JOB_NAME) if not j.removed]
        assert jobs == [job]
        assert job.next_t is not None
        local = job.next_t.astimezone(runtime.settings.tz)
        assert (local.weekday(), local.hour, local.minute) == (0, 7, 0)  # Monday 07:00 WIB

        runtime.storage.absolute(file_in(record, Area.DIVISION).path).write_bytes(b"rusak")
        admin = harness.emulator.user(ADMIN_ID, "Kepala Admin")
        admin.mark()
        await job.run(application)  # what the JobQueue does on Monday morning
        message = await admin.wait_for("Pemeriksaan integritas mingguan")
        assert "1 berkas tersimpan berubah isinya" in message.text
    finally:
        await application.job_queue.stop()
    assert harness.emulator.failed_calls() == []


async def test_weekly_job_that_cannot_run_tells_admins(
    harness: BotHarness,
    application: Application[Any, Any, Any, Any, Any, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(self: IntegrityChecker) -> IntegrityReport:
        raise OSError("storage unreadable")

    monkeypatch.setattr(IntegrityChecker, "check", broken)
    assert application.job_queue is not None
    [job] = application.job_queue.get_jobs_by_name(JOB_NAME)
    admin = harness.emulator.user(ADMIN_ID, "Kepala Admin")
    admin.mark()

    await job.run(application)

    message = await admin.wait_for("Pemeriksaan integritas mingguan gagal dijalankan")
    assert "ppidbot check" in message.text
    assert harness.emulator.failed_calls() == []
