"""The office calendar end to end: /libur over HTTP, and a reminder held over a closure.

The /libur tests run the bot with the civil-service week on a manual clock. The last
test compresses the office calendar into seconds: a clock that runs in real time from a
fixed Tuesday morning, office hours that close for a few seconds, and the real scheduler
sending the reminder only once the office is open again.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sop.calendar import DEFAULT_WORKING_HOURS
from sop.clock import ManualClock
from sop.model import Role
from tests.conftest import sample_fields
from tests.e2e.harness import ADMIN_ID, BotHarness
from tests.emulator import BotApiEmulator, FakeUser

WIB = ZoneInfo("Asia/Jakarta")


def wib(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=WIB)  # type: ignore[misc]


def admin_of(harness: BotHarness) -> FakeUser:
    """The bootstrap admin's phone (made by the fixture, before the bot started)."""
    admin = harness.emulator.chat(ADMIN_ID)
    assert isinstance(admin, FakeUser)
    return admin


@pytest.fixture
async def office(
    emulator: BotApiEmulator, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BotHarness]:
    """The bot with the default civil-service week, on a manual clock."""
    emulator.user(ADMIN_ID, "Kepala Admin")  # exists before the bot publishes its menu
    harness = BotHarness(emulator, tmp_path, clock, working_hours=DEFAULT_WORKING_HOURS)
    await harness.start()
    yield harness
    await harness.close()


async def test_admin_adds_lists_and_removes_an_office_closure(
    office: BotHarness, clock: ManualClock
) -> None:
    emulator = office.emulator
    admin = admin_of(office)
    rina, rina_actor = await office.person(101, "Rina", Role.PETUGAS_PPID, division_id=1)
    await admin.send_command("start")
    await admin.wait_for("Selamat datang")
    await admin.send_command("bantuan")  # answered once /start's handler (the menu) is done
    await admin.wait_for("Bantuan")
    menu = [c["command"] for c in emulator.commands_for({"type": "chat", "chat_id": ADMIN_ID})]
    assert "libur" in menu

    # Wednesday 23 December 15:30: a step started now is due Thursday 08:00.
    clock.set(wib(2026, 12, 23, 15, 30))
    service = (await office.runtime()).service
    draft = await service.create_draft(rina_actor, sample_fields())
    rina.mark()
    await rina.send_command("tugas")
    assert "batas Kamis, 24 Desember 2026 08.00 WIB" in (await rina.wait_for()).text

    admin.mark()
    await admin.send_command("libur")
    listing = await admin.wait_for()
    assert listing.text.startswith("Hari libur 23 Desember 2026 – 21 Februari 2027")
    assert "Jam kerja: Senin–Kamis 07.30–16.00; Jumat 07.30–16.30 WIB" in listing.text
    assert "• Jumat, 25 Desember 2026 — Hari Raya Natal (libur nasional)" in listing.text
    assert "• Jumat, 1 Januari 2027 — Tahun Baru Masehi (libur nasional)" in listing.text
    assert "Kamis, 24 Desember 2026" not in listing.text
    assert "/libur tambah" in listing.text

    admin.mark()
    await admin.send_text("/libur tambah 24-12-2026 Cuti bersama <Natal> & Tahun Baru")
    added = await admin.wait_for()
    assert added.text == (
        "✅ Kamis, 24 Desember 2026 dicatat sebagai libur kantor: "
        "Cuti bersama <Natal> & Tahun Baru.\n"
        "Standar waktu SOP tidak berjalan pada hari itu.\n"
        "Batas waktu 1 langkah yang sedang berjalan telah disesuaikan."
    )
    # The closure moved the open step: Thursday closed, Friday Christmas, the weekend.
    rina.mark()
    await rina.send_command("tugas")
    assert "batas Senin, 28 Desember 2026 08.00 WIB" in (await rina.wait_for()).text
    await rina.send_command("berkas", draft.number)
    card = await rina.wait_for("Status:")
    assert "Batas waktu: Senin, 28 Desember 2026 08.00 WIB" in card.text

    # Everyone with a role may look; the office closure is listed with its kind.
    rina.mark()
    await rina.send_command("libur")
    seen = await rina.wait_for()
    assert (
        "• Kamis, 24 Desember 2026 — Cuti bersama <Natal> & Tahun Baru (libur kantor)" in seen.text
    )
    assert "/libur tambah" not in seen.text

    admin.mark()
    await admin.send_command("libur", "hapus 2026-12-24")
    removed = await admin.wait_for()
    assert removed.text.startswith(
        "✅ Libur kantor Kamis, 24 Desember 2026 (Cuti bersama <Natal> & Tahun Baru) dihapus"
    )
    rina.mark()
    await rina.send_command("tugas")
    assert "batas Kamis, 24 Desember 2026 08.00 WIB" in (await rina.wait_for()).text

    trail = [e.action for e in await service.audit_trail(rina_actor, draft.id)]
    assert "record.created" in trail
    assert emulator.failed_calls() == []


async def test_only_admins_change_the_calendar(office: BotHarness) -> None:
    rina, _ = await office.person(101, "Rina", Role.PETUGAS_PPID, division_id=1)
    andi, _ = await office.person(301, "Andi", Role.PEJABAT_PPID)
    for person, text in [
        (rina, "/libur tambah 24-12-2026 Cuti bersama"),
        (andi, "/libur hapus 25-12-2026"),
        (andi, "/libur tambah"),
    ]:
        person.mark()
        await person.send_text(text)
        reply = await person.wait_for()
        assert reply.text == "Maaf, hanya admin PPID yang dapat mengubah hari libur kantor."
    runtime = await office.runtime()
    assert await runtime.calendar_service.closures() == []
    assert office.emulator.failed_calls() == []


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("/libur tambah 31-02-2026 Cuti", "Tanggal tidak ada di kalender. Contoh: 31-12-2027."),
        ("/libur tambah besok Cuti", "Format tanggal tidak dikenali. Tulis seperti 31-12-2027."),
        ("/libur tambah 24-12-2026", "Keterangan libur belum ditulis. Contoh:"),
        ("/libur tambah", "Tulis tanggal dan keterangannya, misalnya:"),
        ("/libur hapus", "Tulis tanggalnya, misalnya: /libur hapus 24-12-2026"),
        ("/libur ubah 24-12-2026", "Perintah /libur:"),
        ("/libur tambah 28-11-2026 Sabtu", "Tanggal itu memang bukan hari kerja"),
        ("/libur tambah 25-12-2026 Natal", "sudah libur nasional (Hari Raya Natal)"),
        ("/libur hapus 25-12-2026", "libur nasional (Hari Raya Natal) dari kalender resmi"),
        ("/libur hapus 24-12-2026", "Tanggal itu tidak tercatat sebagai libur kantor."),
        ("/libur tambah 24-12-2026 ab", "Keterangan terlalu pendek: minimal 3 karakter."),
    ],
)
async def test_bad_input_is_answered_clearly(office: BotHarness, text: str, answer: str) -> None:
    admin = admin_of(office)
    admin.mark()
    await admin.send_text(text)
    reply = await admin.wait_for()
    assert answer in reply.text
    runtime = await office.runtime()
    assert await runtime.calendar_service.closures() == []
    assert office.emulator.failed_calls() == []


# -- a compressed calendar on a running clock ------------------------------------------
class RunningClock:
    """Real time passing from a chosen moment, so the test runs on the same Tuesday
    (a working day, no holiday) whatever the date and hour it is run."""

    def __init__(self, start: datetime) -> None:
        self._start = start.astimezone(UTC)
        self._origin = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._origin)

    def monotonic_at(self, moment: datetime) -> float:
        """The ``time.monotonic()`` reading at which this clock shows ``moment``."""
        return self._origin + (moment - self._start).total_seconds()


async def test_a_reminder_is_held_over_a_closed_period(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    # Tuesday 24 November 2026: the office opens at 10:00:00 for one second, closes,
    # and opens again at 10:00:04. A step of two working seconds started before 10:00
    # runs 10:00:00-10:00:01 and 10:00:04-10:00:05: on the wall clock it would be
    # overdue while the office is closed; here its reminder (one working second before
    # the deadline) waits for the office to open again.
    clock = RunningClock(wib(2026, 11, 24, 9, 59, 58))
    opens, closes, reopens = (
        wib(2026, 11, 24, 10, 0, 0),
        wib(2026, 11, 24, 10, 0, 1),
        wib(2026, 11, 24, 10, 0, 4),
    )
    harness = BotHarness(
        emulator,
        tmp_path,
        clock,
        working_hours="selasa 10:00:00-10:00:01, 10:00:04-16:00",
        step_deadline=timedelta(seconds=2),
        reminder_offsets=[timedelta(seconds=1)],
        reminder_check_interval=timedelta(milliseconds=200),
    )
    emulator.user(ADMIN_ID, "Kepala Admin")
    await harness.start()
    try:
        rina, rina_actor = await harness.person(101, "Rina", Role.PETUGAS_PPID, division_id=1)
        andi, _ = await harness.person(301, "Andi", Role.PEJABAT_PPID)
        runtime = await harness.runtime()
        record = await runtime.service.create_draft(rina_actor, sample_fields())
        run = record.current_run
        assert run is not None
        calendar = runtime.service.calendar
        assert run.due_at == calendar.add(run.started_at, timedelta(seconds=2))
        assert run.due_at >= reopens + timedelta(seconds=1)
        assert run.due_at > run.started_at + timedelta(seconds=2)  # later than the wall clock
        reminder_at = calendar.subtract(run.due_at, timedelta(seconds=1))
        assert reminder_at >= reopens

        reminder = await rina.wait_for("Pengingat", timeout=20)
        assert record.number in reminder.text and "sisa 1 detik" in reminder.text
        await rina.wait_for("Batas waktu terlewati", timeout=20)
        await andi.wait_for("Terlambat", timeout=20)

        sent = [
            call
            for call in emulator.calls_to("sendMessage")
            if call.ok and call.params.get("chat_id") == rina.id
        ]
        [held] = [call for call in sent if "Pengingat" in call.params["text"]]
        [late] = [call for call in sent if "Batas waktu terlewati" in call.params["text"]]
        # Nothing went out while the office was closed; the reminder came once it reopened,
        # the overdue notice at the working-time deadline.
        assert opens < closes < reopens
        assert held.time >= clock.monotonic_at(reminder_at)
        assert all(call.time >= clock.monotonic_at(reopens) for call in sent)
        assert late.time >= clock.monotonic_at(run.due_at) > held.time
        assert emulator.failed_calls() == []
    finally:
        await harness.close()
