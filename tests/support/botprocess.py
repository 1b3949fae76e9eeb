"""ppidbot as a separate OS process, pointed at an in-test Bot API emulator.

For crash tests: the bot runs as ``ppidbot run`` (the console script of this venv), a test
SIGKILLs it at a chosen moment (see the emulator's ``slow_down``/``slow_download``/
``watch_call``), starts it again with the same settings and runs ``ppidbot check``::

    process = BotProcess(emulator, tmp_path)
    await process.start()                       # returns once the bot polls getUpdates
    held = emulator.slow_down("sendMessage", chat_id=ADMIN_ID)
    await admin.send_command("start")
    await held.wait()                           # the answer is on its way...
    await process.kill()                        # ...and the bot dies (SIGKILL)
    await process.start()
    assert (await process.cli("check")).returncode == 0

The process runs on the system clock (a ManualClock cannot cross a process boundary), so
the defaults set ``WORKING_HOURS=always``. Its stdout and stderr are kept per run in
``<workdir>/botprocess/``; ``output`` has them all, and every failure message of this
module ends with the latest lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest_asyncio

from bot.config import Settings
from tests.emulator import BotApiEmulator

if TYPE_CHECKING:
    from bot.runtime import Runtime

ADMIN_ID = 900
START_TIMEOUT = 20.0


def ppidbot_command() -> list[str]:
    """How to run ``ppidbot``: the console script next to this Python, else ``-m bot.cli``."""
    script = Path(sys.executable).parent / "ppidbot"  # not resolved: a venv's python is a link
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "bot.cli"]


@dataclass(frozen=True)
class CliResult:
    """The outcome of one ``ppidbot`` command."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __str__(self) -> str:
        return (
            f"ppidbot {' '.join(self.args)} exited {self.returncode}\n"
            f"--- stdout ---\n{self.stdout}--- stderr ---\n{self.stderr}"
        )


#: Sending limits high enough that the bot never waits on them.
FAST_PACE = {
    "SEND_RATE_PER_CHAT": "1000",
    "SEND_BURST_PER_CHAT": "1000",
    "SEND_RATE_OVERALL": "10000",
    "SEND_RATE_PER_GROUP": "100000",
}
#: Telegram's flood limits as ppidbot assumes them by default (bot/config.py).
REAL_PACE = {
    "SEND_RATE_PER_CHAT": "1",
    "SEND_BURST_PER_CHAT": "3",
    "SEND_RATE_OVERALL": "30",
    "SEND_RATE_PER_GROUP": "20",
}


class BotProcess:
    """Start, kill, terminate and restart ``ppidbot run``; run other ``ppidbot`` commands
    with the same settings.

    ``env`` adds or overrides settings by their environment names (``{"STEP_DEADLINE":
    "2h"}``); variables of the test's own environment that ppidbot reads are never
    passed on, so a developer's shell cannot leak a real token or database into a test.
    """

    def __init__(
        self,
        emulator: BotApiEmulator,
        workdir: Path,
        *,
        admin_ids: Sequence[int] = (ADMIN_ID,),
        database_url: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.emulator = emulator
        self.workdir = workdir
        self.logdir = workdir / "botprocess"
        self.logdir.mkdir(parents=True, exist_ok=True)
        self.settings_env: dict[str, str] = {
            "TELEGRAM_BOT_TOKEN": emulator.token,
            "TELEGRAM_BASE_URL": emulator.base_url,
            "TELEGRAM_BASE_FILE_URL": emulator.base_file_url,
            "DATABASE_URL": database_url or f"sqlite+aiosqlite:///{workdir / 'ppidbot.sqlite3'}",
            "STORAGE_DIR": str(workdir / "storage"),
            "ADMIN_TELEGRAM_IDS": ",".join(str(i) for i in admin_ids),
            "MAX_FILE_SIZE": "2MB",
            "WORKING_HOURS": "always",
            "LOG_LEVEL": "INFO",
            "DOCUMENT_TEXTS": "false",  # no text worker's notices amid the crash tests
            # Telegram's per-chat pace (1 a second after a burst of 3) would make every
            # question of a conversation wait a second; tests of the pace itself pass the
            # real figures (REAL_PACE) in ``env``, as the in-process harness's flood tests do.
            **FAST_PACE,
            **(env or {}),
        }
        self._process: asyncio.subprocess.Process | None = None
        self._processes: list[asyncio.subprocess.Process] = []
        self._runs: list[tuple[Path, Path]] = []

    # -- configuration ------------------------------------------------------------------------

    def environment(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The child's whole environment: this process's, minus ppidbot's settings, plus
        :attr:`settings_env` (and ``extra``)."""
        own = {name.upper() for name in Settings.model_fields}
        environment = {k: v for k, v in os.environ.items() if k.upper() not in own}
        environment.update(self.settings_env)
        environment.update(extra or {})
        environment["PYTHONUNBUFFERED"] = "1"  # a SIGKILL must not swallow buffered output
        return environment

    def settings(self) -> Settings:
        """The same settings as a :class:`bot.config.Settings`, for code in the test."""
        values = {
            name.lower(): value
            for name, value in self.settings_env.items()
            if name.lower() in Settings.model_fields
        }
        return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]

    @contextlib.asynccontextmanager
    async def runtime(self) -> AsyncIterator[Runtime]:
        """The bot's database and storage opened in this process (migrated; configured
        admins added). It reconciles nothing (only the bot's own start does), so it is safe
        beside a running bot."""
        from bot.runtime import Runtime

        runtime = await Runtime.open(self.settings())
        try:
            yield runtime
        finally:
            await runtime.close()

    # -- the bot ------------------------------------------------------------------------------

    @property
    def returncodes(self) -> list[int]:
        """Exit statuses of the runs that ended, in order (-9: killed by SIGKILL)."""
        return [p.returncode for p in self._processes if p.returncode is not None]

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("the bot was never started")
        return self._process.pid

    async def start(
        self,
        timeout: float = START_TIMEOUT,  # noqa: ASYNC109
        *,
        ready: str | None = None,
    ) -> None:
        """Start ``ppidbot run`` and return once it polls the emulator for updates (or,
        with ``ready``, once its output has that text: a standby instance never polls)."""
        if self.running:
            raise RuntimeError("the bot is already running")
        run = len(self._runs) + 1
        out, err = self.logdir / f"run-{run}.stdout", self.logdir / f"run-{run}.stderr"
        self._runs.append((out, err))
        polling = self.emulator.watch_call("getUpdates")
        with out.open("wb") as stdout, err.open("wb") as stderr:
            self._process = await asyncio.create_subprocess_exec(
                *ppidbot_command(),
                "run",
                cwd=self.workdir,
                env=self.environment(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,  # a Ctrl+C in the test's terminal is not the bot's
            )
        process = self._process
        self._processes.append(process)
        if ready is not None:
            polling.cancel()
            await self.wait_for_output(ready, timeout)
            return
        polled = asyncio.ensure_future(polling.wait(timeout))
        exited = asyncio.ensure_future(process.wait())
        try:
            await asyncio.wait({polled, exited}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (polled, exited):
                task.cancel()
        if process.returncode is not None:
            raise AssertionError(
                f"ppidbot run exited {process.returncode} before polling\n{self.tail()}"
            )
        if not polling.arrived.is_set():
            await self.kill()
            raise AssertionError(f"ppidbot run did not poll within {timeout}s\n{self.tail()}")

    async def kill(self) -> int:
        """SIGKILL the bot (no clean-up of any kind) and return its exit status (-9)."""
        return await self._end(signal.SIGKILL, timeout=10.0)

    async def terminate(self, timeout: float = 15.0) -> int:  # noqa: ASYNC109
        """SIGTERM the bot, as systemd or Ctrl+C would stop it; its exit status (0 when it
        stopped cleanly). Not stopped within ``timeout``: SIGKILL and AssertionError."""
        return await self._end(signal.SIGTERM, timeout=timeout)

    async def restart(self) -> None:
        """Stop the bot if it runs (SIGTERM) and start it again with the same settings."""
        if self.running:
            await self.terminate()
        await self.start()

    async def _end(self, signum: signal.Signals, *, timeout: float) -> int:  # noqa: ASYNC109
        process = self._process
        if process is None:
            raise RuntimeError("the bot was never started")
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signum)
            try:
                await asyncio.wait_for(process.wait(), timeout)
            except TimeoutError:
                process.kill()
                await process.wait()
                raise AssertionError(
                    f"ppidbot run did not stop within {timeout}s of {signum.name}\n{self.tail()}"
                ) from None
        assert process.returncode is not None
        return process.returncode

    async def close(self) -> None:
        """Kill the bot if it still runs, and print its output (pytest shows it when the
        test failed)."""
        if self.running:
            await self.kill()
        if self._runs:
            print(self.output)

    # -- its output ---------------------------------------------------------------------------

    @property
    def stdout(self) -> str:
        """Standard output of the latest run."""
        return self._read(self._runs[-1][0]) if self._runs else ""

    @property
    def stderr(self) -> str:
        """Standard error (the log) of the latest run."""
        return self._read(self._runs[-1][1]) if self._runs else ""

    @property
    def output(self) -> str:
        """stdout and stderr of every run so far, each headed by its run number."""
        parts = []
        for run, (out, err) in enumerate(self._runs, start=1):
            parts.append(f"--- ppidbot run #{run} stdout ---\n{self._read(out)}")
            parts.append(f"--- ppidbot run #{run} stderr ---\n{self._read(err)}")
        return "\n".join(parts)

    def tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the latest run's output, for failure messages."""
        text = (self.stdout + self.stderr).splitlines()[-lines:]
        return f"--- last {len(text)} lines of ppidbot run #{len(self._runs)} ---\n" + "\n".join(
            text
        )

    async def wait_for_output(self, needle: str, timeout: float = 10.0) -> str:  # noqa: ASYNC109
        """The first line of the latest run's output containing ``needle``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for line in (self.stdout + self.stderr).splitlines():
                if needle in line:
                    return line
            if loop.time() >= deadline or not self.running:
                raise AssertionError(f"ppidbot never wrote {needle!r}\n{self.tail()}")
            await asyncio.sleep(0.05)

    @staticmethod
    def _read(path: Path) -> str:
        return path.read_text(errors="replace") if path.exists() else ""

    # -- other commands -----------------------------------------------------------------------

    async def cli(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        timeout: float = 60.0,  # noqa: ASYNC109
    ) -> CliResult:
        """Run ``ppidbot <args>`` with the bot's settings (``env`` adds to them)."""
        process = await asyncio.create_subprocess_exec(
            *ppidbot_command(),
            *args,
            cwd=self.workdir,
            env=self.environment(env),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise AssertionError(f"ppidbot {' '.join(args)} took over {timeout}s") from None
        assert process.returncode is not None
        return CliResult(
            tuple(args),
            process.returncode,
            stdout.decode(errors="replace"),
            stderr.decode(errors="replace"),
        )


@pytest_asyncio.fixture
async def bot_process(emulator: BotApiEmulator, tmp_path: Path) -> AsyncIterator[BotProcess]:
    """A :class:`BotProcess` on the ``emulator`` fixture, not started yet; killed after the
    test. Import it with the emulator fixture::

        from tests.emulator.fixtures import emulator  # noqa: F401
        from tests.support.botprocess import bot_process  # noqa: F401
    """
    process = BotProcess(emulator, tmp_path)
    yield process
    await process.close()
