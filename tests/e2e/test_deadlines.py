"""Deadlines end to end: the real bot, its real scheduler, the Bot API emulator over HTTP.

With a 3-second deadline and reminders 2 and 1 seconds before it, each test checks who
received what, and in which order relative to the deadline (never tight wall-clock
bounds). The restart test uses a ManualClock: time passes while the bot is down.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import metrics
from sop.clock import ManualClock, SystemClock
from sop.model import RecordFields, Role
from tests.conftest import PDF_BYTES, START, chunks_of, sample_fields
from tests.e2e.harness import ADMIN_ID, BotHarness
from tests.emulator import BotApiEmulator
from tests.emulator.models import ApiCall
from tests.emulator.users import FakeChat

DEADLINE = timedelta(seconds=3)
OFFSETS = [timedelta(seconds=2), timedelta(seconds=1)]
WAIT = 15.0  # generous: a slow machine only makes the test slower, never wrong

REMINDER = "Pengingat"
OVERDUE = "Batas waktu terlewati"
ESCALATION = "Terlambat"


@pytest.fixture
async def fast(emulator: BotApiEmulator, tmp_path: Path) -> AsyncIterator[BotHarness]:
    """The bot on the system clock with a 3-second step deadline."""
    emulator.user(ADMIN_ID, "Kepala Admin")  # exists before the bot publishes its menu
    harness = BotHarness(
        emulator,
        tmp_path,
        SystemClock(),
        step_deadline=DEADLINE,
        reminder_offsets=OFFSETS,
        reminder_check_interval=timedelta(milliseconds=200),
    )
    await harness.start()
    yield harness
    await harness.close()


@pytest.fixture
async def manual(
    emulator: BotApiEmulator, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BotHarness]:
    """The bot on a manual clock with the SOP's 1-hour deadline (30 and 10 minutes)."""
    emulator.user(ADMIN_ID, "Kepala Admin")
    harness = BotHarness(emulator, tmp_path, clock)
    await harness.start()
    yield harness
    await harness.close()


def today_fields() -> RecordFields:
    return sample_fields(classified_date=datetime.now(ZoneInfo("Asia/Jakarta")).date())


def sends_to(emulator: BotApiEmulator, chat_id: int, needle: str) -> list[ApiCall]:
    """The bot's successful sendMessage calls to ``chat_id`` whose text has ``needle``."""
    return [
        call
        for call in emulator.calls_to("sendMessage")
        if call.ok and call.params.get("chat_id") == chat_id and needle in call.params["text"]
    ]


def count(user: FakeChat, *needles: str) -> int:
    return sum(
        1 for m in user.inbox if m.text is not None and all(needle in m.text for needle in needles)
    )


def sent_count(kind: str) -> float:
    return metrics.REGISTRY.get_sample_value("ppidbot_reminders_sent_total", {"kind": kind}) or 0.0


async def test_reminders_then_overdue_then_escalation(fast: BotHarness) -> None:
    emulator = fast.emulator
    rina, rina_actor = await fast.person(101, "Rina", Role.PETUGAS_PPID, division_id=1)
    budi, _ = await fast.person(102, "Budi", Role.PETUGAS_PPID, division_id=2)
    andi, _ = await fast.person(301, "Andi", Role.PEJABAT_PPID)
    sari, _ = await fast.person(201, "Sari", Role.PETUGAS_DOKUMENTASI)
    admin = emulator.chat(ADMIN_ID)
    service = (await fast.runtime()).service

    sent_before = {kind: sent_count(kind) for kind in ("remind", "overdue")}
    created = time.monotonic()
    record = await service.create_draft(rina_actor, today_fields())
    number = record.number

    first = await rina.wait_for(REMINDER, timeout=WAIT)
    assert number in first.text and "Langkah 1" in first.text and "sisa 2 detik" in first.text
    assert first.buttons() == [(f"Buka {number}", f"rec:{record.id}")]
    second = await rina.wait_for(REMINDER, timeout=WAIT)
    assert number in second.text and "sisa 1 detik" in second.text
    overdue = await rina.wait_for(OVERDUE, timeout=WAIT)
    assert number in overdue.text and "Langkah 1" in overdue.text
    for official in (andi, admin):
        escalation = await official.wait_for(ESCALATION, timeout=WAIT)
        assert number in escalation.text and "Menunggu: Rina" in escalation.text
        assert escalation.buttons() == [(f"Buka {number}", f"rec:{record.id}")]

    # In order, each no earlier than its moment; the escalation after the deadline.
    [r1] = sends_to(emulator, rina.id, "sisa 2 detik")
    [r2] = sends_to(emulator, rina.id, "sisa 1 detik")
    [late] = sends_to(emulator, rina.id, OVERDUE)
    assert created + 1.0 <= r1.time < r2.time < late.time
    assert late.time >= created + DEADLINE.total_seconds()
    for chat_id in (andi.id, ADMIN_ID):
        [escalated] = sends_to(emulator, chat_id, ESCALATION)
        assert escalated.time >= created + DEADLINE.total_seconds()

    # Others hear nothing: another division's Petugas, and the next step's officer.
    assert budi.inbox == [] and sari.inbox == []
    assert count(rina, REMINDER) == 2 and count(rina, OVERDUE) == 1
    assert count(andi, ESCALATION) == 1 and count(admin, ESCALATION) == 1

    # The reminder's button opens the record; /tugas shows the task as late.
    await rina.press(first, text=f"Buka {number}")
    card = await rina.wait_for("Status:", timeout=WAIT)
    assert number in card.text and "terlambat" in card.text
    rina.mark()
    await rina.send_command("tugas")
    tasks = await rina.wait_for(timeout=WAIT)
    assert number in tasks.text and "TERLAMBAT" in tasks.text
    assert emulator.failed_calls() == []
    # /metrics counts each notice once (two reminders, one escalation notice), once the
    # notice is confirmed, just after its last message went.
    expected = {"remind": sent_before["remind"] + 2, "overdue": sent_before["overdue"] + 1}
    deadline = time.monotonic() + WAIT
    while {kind: sent_count(kind) for kind in expected} != expected:
        assert time.monotonic() < deadline, {kind: sent_count(kind) for kind in expected}
        await asyncio.sleep(0.05)


async def test_completing_a_step_cancels_its_reminders(fast: BotHarness) -> None:
    emulator = fast.emulator
    rina, rina_actor = await fast.person(101, "Rina", Role.PETUGAS_PPID, division_id=1)
    sari, _ = await fast.person(201, "Sari", Role.PETUGAS_DOKUMENTASI)
    andi, _ = await fast.person(301, "Andi", Role.PEJABAT_PPID)
    service = (await fast.runtime()).service

    record = await service.create_draft(rina_actor, today_fields())
    await service.attach_file(
        rina_actor, record.id, chunks_of(PDF_BYTES), "surat.pdf", "application/pdf"
    )
    first = await rina.wait_for(REMINDER, timeout=WAIT)
    assert "sisa 2 detik" in first.text
    await service.complete_produce(rina_actor, record.id, verified=True)

    # Step 2 now runs its own clock for the Petugas Dokumentasi ...
    handover = await sari.wait_for(REMINDER, timeout=WAIT)
    assert record.number in handover.text and "Langkah 2" in handover.text
    await sari.wait_for(OVERDUE, timeout=WAIT)
    escalation = await andi.wait_for(ESCALATION, timeout=WAIT)
    assert "Langkah 2" in escalation.text and "Menunggu: Sari" in escalation.text
    # ... while step 1's remaining reminder and its escalation never came: by now,
    # step 1's deadline is long past.
    assert count(rina, REMINDER) == 1 and count(rina, OVERDUE) == 0
    assert count(andi, "Langkah 1") == 0
    assert emulator.failed_calls() == []


async def test_a_blocked_user_does_not_stop_the_others(fast: BotHarness) -> None:
    emulator = fast.emulator
    rina, rina_actor = await fast.person(101, "Rina", Role.PETUGAS_PPID, division_id=1)
    sinta, _ = await fast.person(103, "Sinta", Role.PETUGAS_PPID, division_id=1)
    andi, _ = await fast.person(301, "Andi", Role.PEJABAT_PPID)
    admin = emulator.chat(ADMIN_ID)
    emulator.block(rina.id)
    service = (await fast.runtime()).service

    record = await service.create_draft(rina_actor, today_fields())
    await sinta.wait_for(REMINDER, timeout=WAIT)
    await sinta.wait_for(REMINDER, timeout=WAIT)
    await sinta.wait_for(OVERDUE, timeout=WAIT)
    for official in (andi, admin):
        escalation = await official.wait_for(ESCALATION, timeout=WAIT)
        assert record.number in escalation.text and "Rina" in escalation.text

    # Each notice to the blocked person was tried once (403 is not retried), and
    # nothing else failed.
    failed = emulator.failed_calls()
    assert [(c.method, c.params["chat_id"], c.error_code) for c in failed] == [
        ("sendMessage", rina.id, 403)
    ] * 3
    assert rina.inbox == []


async def test_restart_sends_missed_notices_once(manual: BotHarness, clock: ManualClock) -> None:
    emulator = manual.emulator
    rina, rina_actor = await manual.person(101, "Rina", Role.PETUGAS_PPID, division_id=1)
    andi, _ = await manual.person(301, "Andi", Role.PEJABAT_PPID)
    admin = emulator.chat(ADMIN_ID)
    service = (await manual.runtime()).service

    await manual.stop()
    record = await service.create_draft(rina_actor, sample_fields())
    # Down over the 08:30 reminder: the next start sends it, saying it is late.
    clock.set(START + timedelta(minutes=35))
    await manual.start()
    reminder = await rina.wait_for(REMINDER)
    assert record.number in reminder.text and "sisa 25 menit" in reminder.text
    assert "tertunda" in reminder.text

    # Down over the 08:50 reminder and the 09:00 deadline: only the escalation is due.
    await manual.stop()
    clock.set(START + timedelta(minutes=65))
    await manual.start()
    await rina.wait_for(OVERDUE)
    for official in (andi, admin):
        escalation = await official.wait_for(ESCALATION)
        assert "sejak Senin, 23 November 2026 09.00 WIB" in escalation.text

    # Started again: the rebuild repeats nothing (it runs as the bot starts; /tugas is
    # answered after it).
    await manual.restart()
    rina.mark()
    await rina.send_command("tugas")
    tasks = await rina.wait_for()
    assert "TERLAMBAT 5 menit (batas Senin, 23 November 2026 09.00 WIB)" in tasks.text
    assert count(rina, REMINDER) == 1 and count(rina, OVERDUE) == 1
    assert count(andi, ESCALATION) == 1 and count(admin, ESCALATION) == 1
    assert emulator.failed_calls() == []
