"""Two ``ppidbot run`` processes on one database: one active, the other standing by.

On PostgreSQL the second waits (never polls, so Telegram never answers 409) and takes
over within seconds when the active one is killed with SIGKILL in the middle of sending
200 reminders; each reminder still arrives exactly once. On SQLite the second one is
refused at start with one line.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.runtime import Runtime
from db.models import ReminderSentRow
from sop.clock import ManualClock
from sop.model import Role
from tests.conftest import sample_fields
from tests.emulator import BotApiEmulator
from tests.emulator.models import ApiCall
from tests.support.botprocess import ADMIN_ID, REAL_PACE, BotProcess

REMINDER = "Pengingat"
DIVISIONS = 20
RECORDS = 200
STANDBY = "standing by"
TAKEOVER_LIMIT = 15.0


def reminder_sends(emulator: BotApiEmulator) -> list[tuple[int, str]]:
    """(chat, record number) of every reminder Telegram accepted."""
    return [
        (call.params["chat_id"], match.group(0))
        for call in emulator.calls_to("sendMessage")
        if call.ok
        and REMINDER in call.params.get("text", "")
        and (match := re.search(r"BRK-\d+", call.params["text"]))
    ]


async def confirmed(runtime: Runtime) -> int:
    async with runtime.service.transaction() as repo:
        query = select(func.count()).where(ReminderSentRow.delivered_at.is_not(None))
        return int(await repo.session.scalar(query) or 0)


async def until(
    condition: Callable[[], Awaitable[bool]],
    timeout: float,  # noqa: ASYNC109
    what: str,
) -> None:
    """Poll an async condition (a database count the test cannot await otherwise)."""
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


async def test_kill_the_active_instance_mid_burst_the_standby_sends_the_rest_once(
    emulator: BotApiEmulator,
    tmp_path: Path,
    pg_url: str,
) -> None:
    # Telegram's real pace, so the burst lasts long enough to be cut by the kill.
    env = {"STORAGE_DIR": str(tmp_path / "storage"), "STANDBY_RETRY": "1s", **REAL_PACE}
    first = BotProcess(emulator, tmp_path / "a", database_url=pg_url, env=env)
    second = BotProcess(emulator, tmp_path / "b", database_url=pg_url, env=env)
    emulator.user(ADMIN_ID, "Admin")
    # 200 drafts whose 30-minute reminder fell due a minute ago, to 20 officers.
    settings = first.settings()
    runtime = await Runtime.open(
        settings, clock=ManualClock(datetime.now(UTC) - timedelta(minutes=31))
    )
    try:
        service = runtime.service
        officers = []
        for n in range(DIVISIONS):
            emulator.user(2000 + n, f"Petugas {n}")
            division = await service.add_division(f"Bagian uji {n}")
            officers.append(
                await service.add_person(
                    2000 + n, f"Petugas {n}", Role.PETUGAS_PPID, division_id=division.id
                )
            )
        for i in range(RECORDS):
            officer = officers[i % DIVISIONS]
            await service.create_draft(
                officer, sample_fields(officer.division_id or 1, title=f"Berkas uji {i}")
            )

        # After 50 reminders went out, the next ones are held on their way to Telegram:
        # the active instance dies with them in flight (they never arrive).
        passed = 0

        def after_fifty(call: ApiCall) -> bool:
            nonlocal passed
            if REMINDER not in call.params.get("text", ""):
                return False
            passed += 1
            return passed > 50

        held = emulator.slow_down("sendMessage", times=None, match=after_fifty)
        await first.start()
        await second.start(ready=STANDBY)
        await held.wait(timeout=20)

        # Everything Telegram accepted was confirmed before the kill, so whatever the
        # standby sends again is exactly what never arrived.
        async def all_confirmed() -> bool:
            return await confirmed(runtime) == len(reminder_sends(emulator))

        await until(all_confirmed, 10, "the active instance to confirm what was sent")
        assert len(reminder_sends(emulator)) == 50
        polled = emulator.watch_call("getUpdates")
        assert await first.kill() == -9
        killed = time.monotonic()
        held.release()  # their client is gone: they never reach Telegram
        await polled.wait(timeout=TAKEOVER_LIMIT)
        takeover = time.monotonic() - killed
        assert takeover < TAKEOVER_LIMIT
        await second.wait_for_output("takes over")

        await emulator._wait_until(lambda: len(reminder_sends(emulator)) >= RECORDS or None, 60)

        async def every_one_confirmed() -> bool:
            return await confirmed(runtime) == RECORDS

        await until(every_one_confirmed, 20, "every reminder to be confirmed")
        counts = Counter(reminder_sends(emulator))
        assert len(counts) == RECORDS and set(counts.values()) == {1}, counts.most_common(3)
        assert [c for c in emulator.failed_calls() if c.error_code == 409] == []
        print(f"takeover after {takeover:.1f}s")
    finally:
        await first.close()
        await second.close()
        await runtime.close()


async def test_a_second_bot_on_the_same_sqlite_database_is_refused(
    emulator: BotApiEmulator,
    tmp_path: Path,
) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'ppidbot.sqlite3'}"
    first = BotProcess(emulator, tmp_path / "a", database_url=database)
    second = BotProcess(emulator, tmp_path / "b", database_url=database)
    try:
        await first.start()
        refused = await second.cli("run", timeout=30)
        assert refused.returncode == 1, refused
        [line] = refused.stderr.strip().splitlines()
        assert line.startswith("ppidbot: another ppidbot is already running on "), line
        assert str(tmp_path / "ppidbot.sqlite3") in line and f"pid {first.pid}" in line
        assert first.running
        # Once the first has stopped, the file is free again.
        assert await first.terminate() == 0
        await second.start()
    finally:
        await first.close()
        await second.close()
