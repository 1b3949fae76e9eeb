"""What the benches share: a bot process against the emulator, statistics, the machine."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.emulator import BotApiEmulator

ROOT = Path(__file__).resolve().parent.parent


# -- statistics --------------------------------------------------------------------------
def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def p90(values: Sequence[float]) -> float:
    return quantile(values, 0.9)


def quantile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) by linear interpolation; the value itself for one sample."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def summary(values_s: Sequence[float]) -> str:
    """``median / p90 (n)`` in milliseconds."""
    return (
        f"median {median(values_s) * 1000:8.1f} ms  p90 {p90(values_s) * 1000:8.1f} ms"
        f"  (n={len(values_s)})"
    )


def ratio(value: float, floor: float) -> str:
    return f"{value / floor:.1f}x" if floor > 0 else "n/a"


# -- the machine -------------------------------------------------------------------------
def machine() -> dict[str, str]:
    """What the figures were measured on (BENCHMARKS.md quotes it)."""
    info: dict[str, str] = {}
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        models = [
            line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line
        ]
        info["cpu"] = f"{len(models)} x {models[0]}" if models else "?"
    except OSError:
        info["cpu"] = platform.processor() or "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory"] = f"{int(line.split()[1]) / 1024 / 1024:.1f} GB"
    except OSError:
        pass
    info["python"] = platform.python_version()
    info["sqlite"] = sqlite3.sqlite_version
    try:
        import telegram

        info["python-telegram-bot"] = telegram.__version__
    except ImportError:
        pass
    try:
        load = os.getloadavg()
        info["load average at start"] = " ".join(f"{x:.2f}" for x in load)
    except OSError:
        pass
    return info


def print_machine() -> None:
    for key, value in machine().items():
        print(f"  {key:<22} {value}")


# -- a bot process -----------------------------------------------------------------------
def read_rss(pid: int) -> tuple[float, float]:
    """(current, peak) RSS of ``pid`` in MB, (nan, nan) once it is gone."""
    values: dict[str, float] = {}
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, amount, _ = line.split()
                    values[key] = int(amount) / 1024
    except OSError:
        return float("nan"), float("nan")
    return values.get("VmRSS:", float("nan")), values.get("VmHWM:", float("nan"))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class BotProcess:
    """``python -m bench.botproc <kind>`` against ``emulator``, with its own settings."""

    kind: str  # "ppid" or "echo"
    emulator: BotApiEmulator
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    profile: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    spawned_at: float = 0.0

    @property
    def stats_path(self) -> Path:
        return self.workdir / f"{self.kind}-stats.jsonl"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.kind}.log"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.stats_path.unlink(missing_ok=True)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "BENCH_"))},
            "TELEGRAM_BOT_TOKEN": self.emulator.token,
            "TELEGRAM_BASE_URL": self.emulator.base_url,
            "TELEGRAM_BASE_FILE_URL": self.emulator.base_file_url,
            "BENCH_STATS": str(self.stats_path),
            "LOG_LEVEL": "WARNING",
            **self.env,
        }
        if self.profile is not None:
            env["BENCH_PROFILE"] = str(self.profile)
        self.spawned_at = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.botproc", self.kind],
            cwd=self.workdir,
            env={**env, "PYTHONPATH": str(ROOT)},
            stdout=self.log_path.open("ab"),
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stats(self) -> list[dict[str, Any]]:
        try:
            lines = self.stats_path.read_text().splitlines()
        except OSError:
            return []
        return [json.loads(line) for line in lines if line.strip()]

    def stat(self, event: str) -> dict[str, Any] | None:
        return next((s for s in self.stats() if s["event"] == event), None)

    def started_at(self) -> float:
        """The bot process's own start (monotonic, comparable with this process)."""
        start = self.stat("start")
        return float(start["started"]) if start else self.spawned_at

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    async def wait_polling(self, polls_before: int, timeout: float) -> float:  # noqa: ASYNC109
        """Seconds from the spawn until the bot's first getUpdates reached the emulator."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            calls = self.emulator.calls_to("getUpdates")
            if len(calls) > polls_before:
                return calls[polls_before].time - self.spawned_at
            if not self.alive():
                raise RuntimeError(f"{self.kind} bot exited; see {self.log_path}")
            await asyncio.sleep(0.01)
        raise TimeoutError(f"{self.kind} bot did not poll within {timeout:.0f} s")

    async def wait_stat(self, events: Sequence[str], timeout: float) -> dict[str, Any] | None:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in events:
                found = self.stat(event)
                if found:
                    return found
            if not self.alive():
                return None
            await asyncio.sleep(0.05)
        return None

    async def dump_profile(self, timeout: float = 300) -> None:  # noqa: ASYNC109
        """Ask the bot for its profile so far and wait until it is written (rendering a
        long profile takes a while, even in a blocked event loop)."""
        if self.profile is None or not self.alive():
            return
        self.profile.unlink(missing_ok=True)
        os.kill(self.pid, signal.SIGUSR1)
        deadline = time.monotonic() + timeout
        while not self.profile.exists() and self.alive() and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.5)

    async def stop(self, timeout: float = 20) -> None:  # noqa: ASYNC109
        if self.process is None:
            return
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.process.wait, timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process.wait()


async def quiet(emulator: BotApiEmulator, idle: float = 0.3, timeout: float = 60) -> None:  # noqa: ASYNC109
    """Wait until the bot made no API call other than getUpdates for ``idle`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        others = [c for c in emulator.calls if c.method.lower() != "getupdates"]
        last = others[-1].time if others else 0.0
        if time.monotonic() - last >= idle:
            return
        await asyncio.sleep(idle / 3)
