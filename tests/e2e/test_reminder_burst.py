"""A thousand reminders falling due within one minute, over the emulator with flood limits:
every one arrives, once, and the scheduler holds one job throughout.

The archive is seeded with bulk SQL by ``bench.seed`` (what the product writes, fast):
1,000 drafts, one division after the other (100 divisions, a Petugas PPID each), whose
first reminder falls within the minute after ``ANCHOR`` + 60 s. The bot runs on a
ManualClock moved across that minute.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import timedelta
from pathlib import Path

from bench.seed import ANCHOR, PETUGAS_BASE, SeedSpec, seed
from sop.calendar import DEFAULT_WORKING_HOURS
from sop.clock import ManualClock
from tests.e2e.harness import BotHarness
from tests.emulator import BotApiEmulator
from tests.emulator.faults import Rate

DIVISIONS = 100
BURST = 1000
REMINDER = "Pengingat"


async def test_a_thousand_reminders_due_in_one_minute_each_arrive_once(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    clock = ManualClock(ANCHOR)
    harness = BotHarness(emulator, tmp_path, clock, working_hours=DEFAULT_WORKING_HOURS)
    await seed(
        harness.settings.database_url,
        harness.settings.storage_dir,
        SeedSpec(0, 0, burst=BURST, burst_after_s=60, divisions=DIVISIONS),
    )
    for division in range(1, DIVISIONS + 1):
        emulator.user(PETUGAS_BASE + division, f"Petugas {division:03d}")
    # Telegram's limits, ten times faster (so the test takes seconds, not a minute):
    # 300 messages a second overall, 10 a second per chat.
    emulator.flood_limits(per_chat=Rate(10, 1.0, burst=3), overall=Rate(300, 1.0))
    await harness.start()
    try:

        def reminders() -> list[tuple[int, str]]:
            return [
                (call.params["chat_id"], match.group(0))
                for call in emulator.calls_to("sendMessage")
                if call.ok
                and REMINDER in call.params["text"]
                and (match := re.search(r"BRK-\d+", call.params["text"]))
            ]

        # The minute of the burst, twenty times faster: a second of the clock every 50 ms
        # (about 17 reminders fall due each time; 340 a second against the limit's 300).
        for second in range(60, 121):
            clock.set(ANCHOR + timedelta(seconds=second))
            await asyncio.sleep(0.05)
        await emulator._wait_until(lambda: len(reminders()) >= BURST or None, 60)
        sent = reminders()
        counts = Counter(sent)
        assert len(counts) == BURST, f"{len(counts)} of {BURST} reminders arrived"
        assert set(counts.values()) == {1}, "a reminder arrived twice"
        assert len({chat for chat, _ in sent}) == DIVISIONS
        refused = [c for c in emulator.calls_to("sendMessage") if not c.ok]
        assert refused, "the flood limits never answered 429: the test proves nothing"
        await harness.stop()  # the last confirmations written
        runtime = await harness.runtime()
        async with runtime.service.transaction() as repo:
            assert list(await repo.undelivered_reminders()) == []
    finally:
        await harness.close()
