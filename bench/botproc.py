"""A bot as its own process, for the benches: ppidbot (``bot.cli.serve``) or the floor.

    python -m bench.botproc ppid    # the real ppidbot, settings from the environment
    python -m bench.botproc echo    # a bare python-telegram-bot Application (the floor)

The bench process runs the Bot API emulator and the simulated people; the bot runs here,
so the emulator's own CPU never counts against the bot (on 2 cores they run side by side).

Environment, besides ppidbot's settings (TELEGRAM_BOT_TOKEN, TELEGRAM_BASE_URL, ...):

* ``BENCH_ANCHOR``: ISO time; ppidbot's clock starts there at process start and runs at
  real speed (so a seeded archive is at its seeded "now"; see ``bench/seed.py``).
* ``BENCH_STATS``: a file this process appends JSON lines to: its start (monotonic
  time, shared by every process of the machine), and for ppidbot the scheduler jobs
  created and when the start-up reminder rebuild finished. Nothing of ppidbot is changed:
  the counters wrap PTB's ``JobQueue.run_once`` and ``ReminderScheduler.rebuild``.
* ``BENCH_PROFILE``: write a pyinstrument profile (text) of the main thread to this path
  on SIGUSR1 or at exit. SIGUSR1 works even while the event loop is blocked.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from datetime import datetime, timedelta
from typing import Any

STARTED = time.monotonic()


def _rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size of this process in MB."""
    values = {}
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, amount, _ = line.split()
                values[key] = int(amount) / 1024
    return values.get("VmRSS:", 0.0), values.get("VmHWM:", 0.0)


def stat(event: str, **values: Any) -> None:
    """Append one JSON line to BENCH_STATS (synchronously: works in a blocked loop)."""
    path = os.environ.get("BENCH_STATS")
    if not path:
        return
    rss, peak = _rss_mb()
    line = {"event": event, "t": time.monotonic(), "rss_mb": rss, "peak_mb": peak, **values}
    with open(path, "a") as handle:
        handle.write(json.dumps(line) + "\n")


class ShiftedClock:
    """Real time moved to start at ``anchor`` when this process started."""

    def __init__(self, anchor: datetime) -> None:
        self.anchor = anchor

    def now(self) -> datetime:
        return self.anchor + timedelta(seconds=time.monotonic() - STARTED)


def _instrument_ppidbot() -> None:
    from telegram.ext import JobQueue

    from bot import reminders

    created = {"jobs": 0}
    run_once = JobQueue.run_once

    def counting_run_once(self: Any, *args: Any, **kwargs: Any) -> Any:
        created["jobs"] += 1
        if created["jobs"] % 10_000 == 0:
            stat("jobs", created=created["jobs"])
        return run_once(self, *args, **kwargs)

    JobQueue.run_once = counting_run_once  # type: ignore[method-assign]
    rebuild = reminders.ReminderScheduler.rebuild

    async def timed_rebuild(self: Any) -> None:
        stat("rebuild_started", created=created["jobs"])
        try:
            await rebuild(self)
        except BaseException as exc:
            stat("rebuild_failed", created=created["jobs"], error=repr(exc)[:500])
            raise
        stat("rebuild_done", created=created["jobs"], jobs=len(self.job_queue.jobs()))

    reminders.ReminderScheduler.rebuild = timed_rebuild  # type: ignore[method-assign]


async def _ppidbot() -> None:
    import logging

    from bot.cli import serve
    from bot.config import load_settings

    settings = load_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    anchor = os.environ.get("BENCH_ANCHOR")
    clock = ShiftedClock(datetime.fromisoformat(anchor)) if anchor else None
    _instrument_ppidbot()
    await serve(settings, clock=clock, poll_timeout=10)


async def _echo() -> None:
    """The floor: the least a python-telegram-bot bot does to answer a command and a
    button on the same emulator (no database, no persistence)."""
    from telegram import Update
    from telegram.ext import ApplicationBuilder, CallbackQueryHandler, ContextTypes, filters
    from telegram.ext import MessageHandler as Handler

    async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text("ok")

    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer("ok")

    application = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_BASE_URL"])
        .base_file_url(os.environ["TELEGRAM_BASE_FILE_URL"])
        .build()
    )
    application.add_handler(Handler(filters.COMMAND, reply))
    application.add_handler(CallbackQueryHandler(answer))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.0, timeout=10)
        await stop.wait()
        await application.updater.stop()
        await application.stop()


async def _burst() -> None:
    """The reminder floor: a bare JobQueue that sends planned messages at planned moments
    (BENCH_BURST: a JSON list of [seconds after the start, chat id, text])."""
    from pathlib import Path

    from telegram.ext import ApplicationBuilder, ContextTypes

    plan = json.loads(await asyncio.to_thread(Path(os.environ["BENCH_BURST"]).read_text))
    application = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_BASE_URL"])
        .base_file_url(os.environ["TELEGRAM_BASE_FILE_URL"])
        .build()
    )

    async def send(context: ContextTypes.DEFAULT_TYPE) -> None:
        assert context.job is not None
        chat_id, text = context.job.data  # type: ignore[misc]
        await context.bot.send_message(chat_id, text)

    assert application.job_queue is not None
    elapsed = time.monotonic() - STARTED
    for at, chat_id, text in plan:
        application.job_queue.run_once(
            send,
            when=max(at - elapsed, 0.0),
            data=(chat_id, text),
            job_kwargs={"misfire_grace_time": None},
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.0, timeout=10)
        await stop.wait()
        await application.updater.stop()
        await application.stop()


def main() -> None:
    kind = sys.argv[1] if len(sys.argv) > 1 else "ppid"
    stat("start", kind=kind, started=STARTED, pid=os.getpid())
    profile_path = os.environ.get("BENCH_PROFILE")
    profiler: Any = None
    if profile_path:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.002, async_mode="disabled")

        def dump(*_: object) -> None:
            if profiler.is_running:
                profiler.stop()
                partial = profile_path + ".part"
                with open(partial, "w") as handle:
                    handle.write(profiler.output_text(unicode=False, show_all=False))
                os.replace(partial, profile_path)  # whole, or not there yet

        signal.signal(signal.SIGUSR1, dump)
        profiler.start()
    try:
        bots = {"ppid": _ppidbot, "echo": _echo, "burst": _burst}
        asyncio.run(bots[kind]())
    finally:
        if profiler is not None and profiler.is_running:
            dump()
        stat("exit")


if __name__ == "__main__":
    main()
