from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sop.clock import ManualClock
from tests.e2e.harness import BotHarness
from tests.emulator import BotApiEmulator
from tests.emulator.fixtures import emulator  # noqa: F401


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
