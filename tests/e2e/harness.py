"""Runs the real ppidbot (``bot.cli.serve``) against the Bot API emulator over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from bot.cli import serve
from bot.config import Settings
from bot.runtime import Runtime
from sop.clock import Clock
from sop.model import Actor, Role
from tests.emulator import BotApiEmulator, FakeUser

ADMIN_ID = 900
#: Telegram's flood limits as ppidbot assumes them by default (bot/config.py).
FLOOD_LIMITS: dict[str, Any] = {
    "send_rate_per_chat": 1,
    "send_burst_per_chat": 3,
    "send_rate_overall": 30,
    "send_rate_per_group": 20,
}


class BotHarness:
    """Start, stop and restart the bot; reach its database through a second runtime."""

    def __init__(
        self, emulator: BotApiEmulator, workdir: Path, clock: Clock, **overrides: Any
    ) -> None:
        self.emulator = emulator
        self.clock = clock
        values: dict[str, Any] = {
            "telegram_bot_token": emulator.token,
            "telegram_base_url": emulator.base_url,
            "telegram_base_file_url": emulator.base_file_url,
            "database_url": f"sqlite+aiosqlite:///{workdir / 'ppidbot.sqlite3'}",
            "storage_dir": workdir / "storage",
            "admin_telegram_ids": [ADMIN_ID],
            "max_file_size": 2 * 1024 * 1024,
            # The wall clock, so tests on the system clock pass at any hour; a test of the
            # office calendar passes working_hours=... itself.
            "working_hours": "always",
            # No text worker (its notices arrive at their own pace); the tests of the
            # document texts turn it on.
            "document_texts": False,
            # Telegram's per-chat pace would only slow tests that play a person's burst of
            # messages; the flood tests pass the real figures (FLOOD_LIMITS) themselves.
            "send_rate_per_chat": 1000,
            "send_burst_per_chat": 1000,
            "send_rate_overall": 10000,
            "send_rate_per_group": 100000,
        }
        values.update(overrides)
        self.settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._runtime: Runtime | None = None

    async def start(self) -> None:
        # Started: polling Telegram, or (webhook mode) the webhook set and its server up.
        method = "setWebhook" if self.settings.webhook_url else "getUpdates"
        polls_before = len(self.emulator.calls_to(method))
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(
            serve(
                self.settings,
                stop=self._stop,
                clock=self.clock,
                handle_signals=False,
                poll_timeout=1,
            )
        )
        for _ in range(500):
            if self._task.done():
                self._task.result()  # raises what made the start fail
            if len(self.emulator.calls_to(method)) > polls_before and (
                method == "getUpdates" or await self._webhook_server_answers()
            ):
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"the bot did not start ({method}) within 5 seconds")

    async def _webhook_server_answers(self) -> bool:
        """Whether the webhook server listens yet (setWebhook is called just before)."""
        import aiohttp

        url = f"http://{self.settings.webhook_listen}:{self.settings.webhook_port}/healthz"
        try:
            async with aiohttp.ClientSession() as session, session.get(url) as response:
                return response.status in (200, 503)
        except aiohttp.ClientError:
            return False

    async def stop(self) -> None:
        if self._task is None:
            return
        self._stop.set()
        await asyncio.wait_for(self._task, timeout=15)
        self._task = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def runtime(self) -> Runtime:
        if self._runtime is None:
            self._runtime = await Runtime.open(self.settings, clock=self.clock)
        return self._runtime

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.stop()
        if self._runtime is not None:
            await self._runtime.close()

    async def person(
        self,
        telegram_id: int,
        name: str,
        *roles: Role,
        division_id: int | None = None,
    ) -> tuple[FakeUser, Actor]:
        """A registered person (as the CLI would add them) and their phone."""
        runtime = await self.runtime()
        actor: Actor | None = None
        for role in roles:
            actor = await runtime.service.add_person(
                telegram_id,
                name,
                role,
                division_id=division_id if role is Role.PETUGAS_PPID else None,
            )
        assert actor is not None
        return self.emulator.user(telegram_id, name), actor
