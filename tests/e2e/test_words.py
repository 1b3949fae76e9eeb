"""Words that depend on the office's settings, end to end: /bantuan and /libur state the
time standard as configured (STEP_DEADLINE), not a fixed hour."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sop.clock import ManualClock
from sop.model import Role
from tests.e2e.harness import ADMIN_ID, BotHarness
from tests.e2e.words import assert_house_style
from tests.emulator import BotApiEmulator


@pytest.fixture
async def harness(
    emulator: BotApiEmulator, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BotHarness]:
    harness = BotHarness(
        emulator,
        tmp_path,
        clock,
        step_deadline="45m",
        working_hours="senin-kamis 07:30-16:00; jumat 07:30-16:30",
    )
    await harness.start()
    yield harness
    await harness.close()


async def test_help_and_the_calendar_state_the_configured_time_standard(
    harness: BotHarness,
) -> None:
    admin = harness.emulator.user(ADMIN_ID, "Kepala Admin")
    rina, _ = await harness.person(101, "Rina Petugas", Role.PETUGAS_PPID, division_id=1)
    for phone in (admin, rina):
        await phone.send_command("bantuan")
        help_text = await phone.wait_for("Bantuan ppidbot")
        assert "setiap langkah memiliki standar waktu 45 menit." in help_text.text
        assert "1 jam" not in help_text.text
    await rina.send_command("libur")
    listing = await rina.wait_for("Jam kerja")
    assert "Standar waktu SOP (45 menit per langkah) hanya berjalan pada jam kerja" in listing.text
    # Everyone may read /kedaluwarsa, as the README says; only some may mark /dibuka.
    assert "/kedaluwarsa" in help_text.text and "/dibuka" not in help_text.text
    assert_house_style(admin, rina)
