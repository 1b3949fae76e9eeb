"""ppidbot with a national archive: 100,000 open records (bench/seed.py), each figure
against a floor measured in the same run.

Sections (``--only`` picks some):

* ``startup``: the bot process from spawn to ready (first poll, start-up reminder rebuild
  done, a /start answered), its RSS, and the scheduler jobs it created, on archives
  whose open steps all have their reminders still to come; floor: the bare PTB bot's
  start on the same emulator. A start that is not ready within ``--start-cap`` seconds
  is stopped and reported with the jobs created until then.
* ``queries``: in this process, the service behind /daftar, /cari, /kedaluwarsa,
  /tugas, a step-2 button and the reminder jobs, on the archive; floor: the same answer
  as bare SQL (SQLAlchemy ``text()``), and for /cari also an FTS5 index (not in the
  product). Also the number of statements each answer runs and the database's plan of
  each (``EXPLAIN QUERY PLAN`` / ``EXPLAIN``); ``--postgres`` repeats it on a throwaway
  PostgreSQL server (tests/support/postgres.py) seeded the same way.
* ``report``: ``ppidbot report --format xlsx`` as a process: time and peak RSS; floor: a
  process that reads the same rows with bare SQL and writes them with openpyxl's
  write-only mode.
* ``burst``: 1,000 reminders falling due within one minute (to 100 chats), on top of an
  archive of settled open records: each reminder's lateness (arrival at the emulator
  minus its planned time); floor: a bare PTB JobQueue sending the same 1,000 messages
  at the same moments.

    .venv/bin/python -m bench.scale                    # all, at 100,000 open records
    .venv/bin/python -m bench.scale --quick            # all, at 1,000 (a minute or two)
    .venv/bin/python -m bench.scale --only queries --postgres --plans /tmp/plans.txt

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.common import (
    BotProcess,
    median,
    print_machine,
    quantile,
    quiet,
    ratio,
    read_rss,
    summary,
)
from bench.plans import capture, explain, uses_scan
from bench.seed import (
    ADMIN,
    ANCHOR,
    DOKUMENTASI,
    PEJABAT,
    Archive,
    SeedSpec,
    cached_archive,
    seed,
    working_copy,
)
from tests.emulator import BotApiEmulator

ROOT = Path(__file__).resolve().parent.parent


def _bot_env(archive: Archive) -> dict[str, str]:
    return {
        "DATABASE_URL": archive.url,
        "STORAGE_DIR": str(archive.storage),
        "ADMIN_TELEGRAM_IDS": str(ADMIN),
        "BENCH_ANCHOR": ANCHOR.isoformat(),
    }


def _people(emulator: BotApiEmulator, divisions: int) -> None:
    from bench.seed import PETUGAS_BASE, UPLOADER

    emulator.user(ADMIN, "Admin PPID")
    for d in range(1, divisions + 1):
        emulator.user(PETUGAS_BASE + d, f"Petugas {d:03d}")
    emulator.user(UPLOADER, "Petugas Pengunggah")
    for telegram_id in (*DOKUMENTASI, *PEJABAT):
        emulator.user(telegram_id, str(telegram_id))


# -- start-up ------------------------------------------------------------------------------
async def startup(args: argparse.Namespace) -> None:
    print("\n== start-up: spawn -> ready, with every open step's reminders still to come ==")
    echo_polls: list[float] = []
    echo_rss: list[float] = []
    for size in args.startup_sizes:
        # The floor, started right before, on its own emulator.
        emulator = BotApiEmulator()
        await emulator.start()
        workdir = Path(tempfile.mkdtemp(prefix="ppidbot-bench-start-echo-"))
        echo = BotProcess("echo", emulator, workdir)
        echo.start()
        try:
            echo_polls.append(await echo.wait_polling(0, 120))
            user = emulator.user(DOKUMENTASI[0], "Dokumentasi")
            await user.send_command("start")
            await user.wait_for(timeout=30)
            echo_rss.append(read_rss(echo.pid)[0])
        finally:
            await echo.stop()
            await emulator.stop()

        archive = await cached_archive(
            SeedSpec(size, size // 5, "pending"), args.cache_dir, log=print
        )
        workdir = Path(tempfile.mkdtemp(prefix=f"ppidbot-bench-start-{size}-"))
        copy = working_copy(archive, workdir / "data")
        emulator = BotApiEmulator()
        await emulator.start()
        _people(emulator, archive.summary.spec["divisions"])
        profile = Path(args.profile) / f"startup-{size}.txt" if args.profile else None
        bot = BotProcess("ppid", emulator, workdir, env=_bot_env(copy), profile=profile)
        bot.start()
        cap = args.start_cap
        try:
            polling = await bot.wait_polling(0, cap)
            done = await bot.wait_stat(["rebuild_done", "rebuild_failed"], cap - polling)
            rss, peak = read_rss(bot.pid)
            if done is None:
                jobs = [s for s in bot.stats() if s["event"] in ("jobs", "rebuild_started")]
                created = jobs[-1]["created"] if jobs else 0
                await bot.dump_profile()
                print(
                    f"  {size:>7,} open: NOT READY after {cap:.0f} s (polling after "
                    f"{polling:.1f} s); {created:,} scheduler jobs created so far, "
                    f"RSS {rss:.0f} MB (peak {peak:.0f} MB)"
                )
                _print_job_progress(bot)
                continue
            user = emulator.chat(DOKUMENTASI[0])
            asked = time.monotonic()
            await user.send_command("start")  # type: ignore[attr-defined]
            await user.wait_for(timeout=cap)
            answered = time.monotonic() - bot.spawned_at
            ready = max(done["t"] - bot.spawned_at, answered)
            await quiet(emulator, 0.5, timeout=120)
            print(
                f"  {size:>7,} open: ready after {ready:6.1f} s (polling {polling:.1f} s, "
                f"rebuild done {done['t'] - bot.spawned_at:.1f} s [{done['event']}], "
                f"/start answered {time.monotonic() - asked:.2f} s after asking); "
                f"{done.get('created', 0):,} jobs created, {done.get('jobs', '?')} queued; "
                f"RSS {rss:.0f} MB (peak {peak:.0f} MB)"
            )
            print(
                f"           floor (bare PTB bot): polling after {echo_polls[-1]:.1f} s, "
                f"RSS {echo_rss[-1]:.0f} MB -> {ratio(ready, echo_polls[-1])} the time, "
                f"{ratio(rss, echo_rss[-1])} the memory"
            )
            if done["event"] == "rebuild_failed":
                print(f"           rebuild failed: {done.get('error')}")
            await bot.dump_profile()
        finally:
            await bot.stop()
            await emulator.stop()


def _print_job_progress(bot: BotProcess) -> None:
    progress = [s for s in bot.stats() if s["event"] == "jobs"]
    if progress:
        points = ", ".join(
            f"{p['created']:,} at {p['t'] - bot.spawned_at:.0f} s" for p in progress[-4:]
        )
        print(f"           jobs created over time: {points}")


# -- answers in the database ---------------------------------------------------------------
class Answers:
    """The services behind the bot's answers, on one database, with a clock at ANCHOR."""

    def __init__(self, url: str, storage: Path) -> None:
        self.url = url
        self.storage = storage

    async def open(self) -> None:
        from bot.config import Settings
        from bot.runtime import Runtime
        from sop.clock import ManualClock
        from sop.register import RegisterService
        from sop.reminder_service import ReminderService

        settings = Settings(_env_file=None, database_url=self.url, storage_dir=self.storage)  # type: ignore[call-arg]
        self.clock = ManualClock(ANCHOR + timedelta(minutes=1))
        self.runtime = await Runtime.open(settings, clock=self.clock)
        self.service = self.runtime.service
        self.register = RegisterService(self.service)
        self.reminders = ReminderService(self.service, offsets=settings.reminder_offsets)
        self.engine = self.runtime.engine

        async def actor(telegram_id: int) -> Any:
            found = await self.service.actor_by_telegram(telegram_id)
            assert found is not None
            return found

        self.pejabat = await actor(PEJABAT[0])
        self.dokumentasi = await actor(DOKUMENTASI[1])

    async def close(self) -> None:
        await self.runtime.close()

    async def bare(self, sql: str, **params: Any) -> int:
        """The floor: one statement as bare SQL, all rows fetched."""
        from sqlalchemy import text

        async with self.engine.connect() as connection:
            result = await connection.execute(text(sql), params)
            return len(result.all())


async def _timed(call: Callable[[], Awaitable[Any]], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return times


async def queries(args: argparse.Namespace, archive: Archive, backend: str) -> list[str]:
    """Each answer's time against its floor, statement counts and plans."""
    answers = Answers(archive.url, archive.storage)
    await answers.open()
    plans_out: list[str] = []
    repeat = args.repeat
    submitted = archive.summary.sample_ids["submitted"]
    size = archive.summary.spec["open_records"]
    open_states = ("draft", "submitted", "registered")
    all_states = (*open_states, "stored")
    in_states = ", ".join(f"'{s}'" for s in all_states)
    today = ANCHOR.date()
    print(f"\n== answers in the database: {backend}, {size:,} open records ==")

    async def handover_and_back() -> None:
        from sop.model import Step

        record = await answers.service.record(answers.pejabat, submitted[0])
        await answers.service.complete_handover(
            answers.dokumentasi, submitted[0], expected_version=record.version
        )
        await answers.service.return_record(
            answers.pejabat, submitted[0], Step.HANDOVER, "Dikembalikan oleh pengukuran kinerja."
        )

    bare_handover = f"""
        SELECT id, version, state FROM records WHERE id = {submitted[0]}
    """
    cases: list[tuple[str, Callable[[], Awaitable[Any]], Callable[[], Awaitable[Any]], str]] = [
        (
            "/daftar page 1",
            lambda: answers.register.register(answers.pejabat),
            lambda: _both(
                answers.bare(
                    f"SELECT * FROM records WHERE state IN ({in_states}) ORDER BY id DESC LIMIT 10"
                ),
                answers.bare(f"SELECT count(*) FROM records WHERE state IN ({in_states})"),
            ),
            "same SQL (page + count)",
        ),
        (
            "/daftar page 500",
            lambda: answers.register.register(answers.pejabat, page=500),
            lambda: _both(
                answers.bare(
                    f"SELECT * FROM records WHERE state IN ({in_states}) "
                    "ORDER BY id DESC LIMIT 10 OFFSET 4990"
                ),
                answers.bare(f"SELECT count(*) FROM records WHERE state IN ({in_states})"),
            ),
            "same SQL (page + count)",
        ),
        (
            "/cari pesisir (many hits)",
            lambda: answers.register.search(answers.pejabat, "pesisir"),
            lambda: _both(
                answers.bare(
                    f"SELECT * FROM records WHERE state IN ({in_states}) AND "
                    "(lower(title) LIKE '%pesisir%' OR lower(description) LIKE '%pesisir%') "
                    "ORDER BY id DESC LIMIT 20"
                ),
                answers.bare(
                    f"SELECT count(*) FROM records WHERE state IN ({in_states}) AND "
                    "(lower(title) LIKE '%pesisir%' OR lower(description) LIKE '%pesisir%')"
                ),
            ),
            "same SQL (page + count)",
        ),
        (
            "/cari 'nomor 54321' (one hit)",
            lambda: answers.register.search(answers.pejabat, "nomor 54321"),
            lambda: _both(
                answers.bare(
                    f"SELECT * FROM records WHERE state IN ({in_states}) AND "
                    "(lower(title) LIKE '%nomor 54321%' OR lower(description) LIKE "
                    "'%nomor 54321%') ORDER BY id DESC LIMIT 20"
                ),
                answers.bare(
                    f"SELECT count(*) FROM records WHERE state IN ({in_states}) AND "
                    "(lower(title) LIKE '%nomor 54321%' OR lower(description) LIKE "
                    "'%nomor 54321%')"
                ),
            ),
            "same SQL (page + count)",
        ),
        (
            "/kedaluwarsa",
            lambda: answers.register.expiring(answers.pejabat),
            lambda: answers.bare(
                "SELECT * FROM records WHERE period_kind = 'until_date' AND opened_on IS NULL "
                f"AND state = 'stored' AND period_until <= '{today + timedelta(days=90)}'"
            ),
            "SQL of the rows shown (until_date only)",
        ),
        (
            "step-2 button (hand over, then the bench returns it)",
            handover_and_back,
            lambda: answers.bare(bare_handover),
            "reading the record once",
        ),
        (
            "reminder job: what is due now (pending)",
            lambda: answers.reminders.pending(),
            lambda: answers.bare(
                "SELECT * FROM step_runs WHERE completed_at IS NULL AND ("
                "(due_at > :now AND due_at <= :soon) OR (overdue_at IS NULL AND due_at <= :now))",
                now=_db_time(ANCHOR + timedelta(minutes=1), backend),
                soon=_db_time(ANCHOR + timedelta(minutes=31), backend),
            ),
            "the open runs that may have a notice due (index range on due_at)",
        ),
    ]
    if size <= args.tasks_max:
        cases.insert(
            0,
            (
                "/tugas (Petugas Dokumentasi: the first 20 and the total, as the bot asks)",
                lambda: answers.service.task_page(answers.dokumentasi, limit=20),
                lambda: answers.bare(
                    "SELECT r.* FROM records r JOIN step_runs s ON s.record_id = r.id "
                    "WHERE s.completed_at IS NULL AND r.state = 'submitted' "
                    "ORDER BY s.due_at LIMIT 20"
                ),
                "one join of what is shown",
            ),
        )
    else:
        print(f"  (/tugas skipped above {args.tasks_max:,} records: see bench/interaction.py)")
    for name, call, floor, floor_label in cases:
        repeat_here = 1 if size >= 50_000 and "tugas" in name else repeat
        try:
            await call()  # warm the caches once
        except Exception as exc:  # a fault of the product at this size: say so, go on
            message = " ".join(str(exc).split())[:300]
            print(f"  {name}\n      FAILED: {type(exc).__name__}: {message}")
            plans_out.append(f"### {name} ({backend}, {size:,} open records)\nFAILED: {message}\n")
            continue
        times = await _timed(call, repeat_here)
        floors = await _timed(floor, max(repeat, 3))
        with capture(answers.engine) as captured:
            await call()
        print(f"  {name}")
        print(f"      ppidbot {summary(times)}; {captured.count} statements")
        print(f"      floor   {summary(floors)}  ({floor_label})")
        print(f"      ratio   {ratio(median(times), median(floors))}")
        plans_out.append(f"### {name} ({backend}, {size:,} open records)")
        plans_out.append(f"{captured.count} statements; by shape (count x statement):")
        for shape, count in captured.shapes().most_common():
            plans_out.append(f"  {count:>6} x {shape[:300]}")
        for sql, params in captured.distinct():
            plan = await explain(answers.engine, sql, params)
            flag = (
                "  <-- SCAN (a walk of the whole table unless a LIMIT stops it)"
                if uses_scan(plan)
                else ""
            )
            plans_out.append(f"  {' '.join(sql.split())[:200]}{flag}")
            plans_out.extend(f"      {line}" for line in plan)
        plans_out.append("")
        if args.profile:
            await _profile(call, Path(args.profile) / f"{backend}-{_slug(name)}.txt")
    if backend == "sqlite":
        await _fts_floor(archive)
    await answers.close()
    return plans_out


def _db_time(moment: Any, backend: str) -> Any:
    """A UTC time as the column stores it (SQLite: naive text, PostgreSQL: timestamptz)."""
    return moment.replace(tzinfo=None) if backend == "sqlite" else moment


async def _both(*calls: Awaitable[Any]) -> None:
    for call in calls:
        await call


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-")[:40]


async def _profile(call: Callable[[], Awaitable[Any]], path: Path) -> None:
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001, async_mode="enabled")
    profiler.start()
    await call()
    profiler.stop()
    await asyncio.to_thread(path.write_text, profiler.output_text(unicode=False))


async def _fts_floor(archive: Archive) -> None:
    """What a full-text index would give /cari (SQLite FTS5, on a copy; not the product)."""

    def build_and_query() -> tuple[float, float, float]:
        connection = sqlite3.connect(archive.database)
        try:
            started = time.perf_counter()
            connection.execute("DROP TABLE IF EXISTS bench_fts")
            connection.execute(
                "CREATE VIRTUAL TABLE bench_fts USING fts5(title, description, content='records', "
                "content_rowid='id')"
            )
            connection.execute(
                "INSERT INTO bench_fts(rowid, title, description) "
                "SELECT id, title, description FROM records"
            )
            connection.commit()
            built = time.perf_counter() - started
            timings = []
            for term in ("pesisir", '"nomor 54321"'):
                started = time.perf_counter()
                for _ in range(5):
                    connection.execute(
                        "SELECT r.* FROM bench_fts JOIN records r ON r.id = bench_fts.rowid "
                        "WHERE bench_fts MATCH ? ORDER BY r.id DESC LIMIT 20",
                        (term,),
                    ).fetchall()
                    connection.execute(
                        "SELECT count(*) FROM bench_fts WHERE bench_fts MATCH ?", (term,)
                    ).fetchall()
                timings.append((time.perf_counter() - started) / 5)
            connection.execute("DROP TABLE bench_fts")
            connection.commit()
            return built, timings[0], timings[1]
        finally:
            connection.close()

    built, common, rare = await asyncio.to_thread(build_and_query)
    print(
        f"  /cari floor with an FTS5 index (not in the product; built in {built:.1f} s): "
        f"'pesisir' {common * 1000:.1f} ms, 'nomor 54321' {rare * 1000:.1f} ms (page + count)"
    )


async def postgres_queries(args: argparse.Namespace, spec: SeedSpec) -> list[str]:
    """The same answers on a throwaway PostgreSQL server seeded with the same spec."""
    from tests.support.postgres import start_postgres

    server = await asyncio.to_thread(start_postgres)
    try:
        storage = Path(tempfile.mkdtemp(prefix="ppidbot-bench-pg-storage-"))
        started = time.perf_counter()
        summary = await seed(server.url, storage, spec)
        print(f"\n(PostgreSQL: seeded {spec.key} in {time.perf_counter() - started:.0f} s)")
        archive = Archive(Path("/nonexistent"), storage, summary, database_url=server.url)
        return await queries(args, archive, "postgresql")
    finally:
        await asyncio.to_thread(server.stop)


# -- the report ------------------------------------------------------------------------------
def _run_measured(
    command: list[str], env: dict[str, str], timeout: float
) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MB, exit code) of a child process. The peak is the child's
    own VmHWM, polled (``ru_maxrss`` from wait4 would count this process's size at fork)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    peak = 0.0
    deadline = started + timeout
    while process.poll() is None:
        hwm = read_rss(process.pid)[1]
        if hwm == hwm:  # not NaN: the process is still there
            peak = max(peak, hwm)
        if time.perf_counter() > deadline:
            process.kill()
            process.wait()
            return float("inf"), peak, -9
        time.sleep(0.1)
    return time.perf_counter() - started, peak, process.returncode


async def report(args: argparse.Namespace, archive: Archive) -> None:
    size = archive.summary.spec["open_records"]
    stored = archive.summary.spec["stored_records"]
    print(f"\n== ppidbot report --format xlsx: {size:,} open + {stored:,} stored records ==")
    out = Path(tempfile.mkdtemp(prefix="ppidbot-bench-report-"))
    env = {
        **os.environ,
        "DATABASE_URL": archive.url,
        "STORAGE_DIR": str(archive.storage),
        "LOG_LEVEL": "WARNING",
    }
    floor = await asyncio.to_thread(
        _run_measured,
        [sys.executable, "-m", "bench.scale", "--report-floor", str(archive.database),
         str(out / "floor.xlsx")],
        env,
        args.report_timeout,
    )  # fmt: skip
    product = await asyncio.to_thread(
        _run_measured,
        [sys.executable, "-m", "bot.cli", "report", "--format", "xlsx", "--out",
         str(out / "dik.xlsx")],
        env,
        args.report_timeout,
    )  # fmt: skip
    what = "NOT DONE " if product[2] != 0 else ""
    stopped = ", stopped at the timeout" if product[2] == -9 else ""
    print(f"  ppidbot report {product[0]:8.1f} s, peak RSS {product[1]:6.0f} MB "
          f"{what}(exit {product[2]}{stopped})")  # fmt: skip
    print(f"  floor          {floor[0]:8.1f} s, peak RSS {floor[1]:6.0f} MB "
          "(bare SQL rows -> openpyxl write-only, same sheets and row counts)")  # fmt: skip
    print(f"  ratio          {ratio(product[0], floor[0])} the time, "
          f"{ratio(product[1], floor[1])} the memory")  # fmt: skip


def report_floor(database: str, out: str) -> None:
    """A workbook with the report's sheets and row counts, from bare SQL, write-only."""
    from openpyxl import Workbook

    connection = sqlite3.connect(database)
    book = Workbook(write_only=True)
    dik = book.create_sheet("DIK")
    dik.append(["No", "Informasi", "Penanggung jawab", "Dasar hukum", "Jangka waktu", "Ket"])
    records = connection.execute(
        "SELECT r.id, r.title, d.name, r.pasal17, r.period_kind, r.register_number, r.state, "
        "r.created_at FROM records r JOIN divisions d ON d.id = r.division_id "
        "WHERE r.state IN ('draft','submitted','registered','stored') ORDER BY r.id"
    )
    for row in records:
        dik.append([row[0], row[1], row[2], f"Pasal 17 huruf {row[3]}", row[4], row[6]])
    compliance = book.create_sheet("Kepatuhan SOP")
    compliance.append([f"c{i}" for i in range(13)])
    for run in connection.execute(
        "SELECT s.record_id, s.step, s.attempt, s.started_at, s.due_at, s.completed_at, "
        "s.outcome FROM step_runs s ORDER BY s.record_id, s.id"
    ):
        compliance.append([*run, None, None, None, None, None, None])
    summary_sheet = book.create_sheet("Ringkasan")
    summary_sheet.append(["Bagian", "Bulan"])
    book.save(out)
    connection.close()


# -- the reminder burst ----------------------------------------------------------------------
async def burst(args: argparse.Namespace) -> None:
    background = args.burst_background
    spec = SeedSpec(
        background, background // 5, "settled", burst=1000, burst_after_s=args.burst_after
    )
    archive = await cached_archive(spec, args.cache_dir, log=print)
    first_id = spec.open_records + spec.stored_records + 1
    planned = {
        first_id + i: ANCHOR + timedelta(seconds=spec.burst_after_s + 60 * i / spec.burst)
        for i in range(spec.burst)
    }
    limits = "with Telegram's flood limits" if args.flood else "no flood limits"
    print(f"\n== 1,000 reminders due within one minute, 100 chats, {background:,} settled open "
          f"records besides, {limits} ==")  # fmt: skip

    # The floor: a bare JobQueue sending the same messages at the same moments.
    emulator = BotApiEmulator()
    await emulator.start()
    if args.flood:
        emulator.flood_limits()  # Telegram's: 1/s per chat (burst 3), 30/s overall
    _people(emulator, spec.divisions)
    workdir = Path(tempfile.mkdtemp(prefix="ppidbot-bench-burst-floor-"))
    plan_file = workdir / "burst.json"
    plan_file.write_text(json.dumps([
        [(at - ANCHOR).total_seconds(), 10_000 + 1 + (rid - first_id) % spec.divisions,
         f"⏰ Pengingat BRK-{rid}"]
        for rid, at in planned.items()
    ]))  # fmt: skip
    floor_bot = BotProcess("burst", emulator, workdir, env={"BENCH_BURST": str(plan_file)})
    floor_bot.start()
    try:
        floor_late = await _lateness(emulator, floor_bot, planned, spec, args)
    finally:
        await floor_bot.stop()
        await emulator.stop()

    copy = working_copy(archive, Path(tempfile.mkdtemp(prefix="ppidbot-bench-burst-")) / "data")
    emulator = BotApiEmulator()
    await emulator.start()
    if args.flood:
        emulator.flood_limits()
    _people(emulator, spec.divisions)
    workdir = copy.database.parent.parent
    profile = Path(args.profile) / f"burst-{background}.txt" if args.profile else None
    bot = BotProcess("ppid", emulator, workdir, env=_bot_env(copy), profile=profile)
    bot.start()
    try:
        polling = await bot.wait_polling(0, args.start_cap)
        done = await bot.wait_stat(["rebuild_done", "rebuild_failed"], args.start_cap)
        ready = (done["t"] - bot.spawned_at) if done else float("nan")
        print(f"  ppidbot ready after {ready:.1f} s (polling {polling:.1f} s); the burst starts "
              f"{spec.burst_after_s} s after the start")  # fmt: skip
        late = await _lateness(emulator, bot, planned, spec, args)
        await bot.dump_profile()
    finally:
        await bot.stop()
        await emulator.stop()
    _print_lateness("ppidbot", late, spec.burst)
    _print_lateness("floor  ", floor_late, spec.burst)
    if late["delivered"] and floor_late["delivered"]:
        print(f"  ratio   p99 lateness {ratio(late['p99'], floor_late['p99'])}")


async def _lateness(
    emulator: BotApiEmulator,
    bot: BotProcess,
    planned: dict[int, Any],
    spec: SeedSpec,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Wait for the burst's messages (until ``--burst-wait`` s after its minute) and say
    how late each arrived."""
    await bot.wait_polling(0, args.start_cap)
    started = bot.started_at()
    end = started + spec.burst_after_s + 60 + args.burst_wait
    found: dict[int, float] = {}
    while time.monotonic() < end and len(found) < len(planned):
        await asyncio.sleep(0.5)
        for call in emulator.calls:
            if call.method.lower() != "sendmessage" or not call.ok:
                continue
            text = str(call.params.get("text", ""))
            for token in text.replace("<b>", " ").replace("</b>", " ").split():
                if token.startswith("BRK-"):
                    digits = "".join(ch for ch in token[4:] if ch.isdigit())
                    if digits and int(digits) in planned and int(digits) not in found:
                        found[int(digits)] = call.time
    lateness = sorted(
        found[rid] - (started + (planned[rid] - ANCHOR).total_seconds()) for rid in found
    )
    arrivals = sorted(found.values())
    rate = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]) if len(arrivals) > 1 else 0.0
    return {
        "delivered": len(found),
        "p50": quantile(lateness, 0.5),
        "p99": quantile(lateness, 0.99),
        "max": lateness[-1] if lateness else float("nan"),
        "rate": rate,
        "failed": len(emulator.failed_calls()),
        "refused": len(emulator.flood_refused),
    }


def _print_lateness(label: str, late: dict[str, Any], total: int) -> None:
    print(
        f"  {label} delivered {late['delivered']:>4} of {total}; lateness p50 "
        f"{late['p50']:6.2f} s, p99 {late['p99']:6.2f} s, max {late['max']:6.2f} s; "
        f"{late['rate']:.0f} messages/s; {late['failed']} failed API calls "
        f"({late['refused']} refused by the flood limits)"
    )


# -- main ----------------------------------------------------------------------------------
async def run(args: argparse.Namespace) -> None:
    print("ppidbot scale benchmark (bench/scale.py)")
    print_machine()
    print(f"  ru_maxrss of this bench process at start: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")  # fmt: skip
    plans: list[str] = []
    size = args.size
    if "startup" in args.only:
        await startup(args)
    if {"queries", "report"} & set(args.only):
        spec = SeedSpec(size, size // 5, "settled")
        archive = await cached_archive(spec, args.cache_dir, log=print)
        copy = working_copy(archive, Path(tempfile.mkdtemp(prefix="ppidbot-bench-q-")) / "data")
        if "queries" in args.only:
            plans += await queries(args, copy, "sqlite")
            if args.postgres:
                plans += await postgres_queries(args, spec)
        if "report" in args.only:
            await report(args, copy)
    if "burst" in args.only:
        await burst(args)
    if args.plans and plans:
        await asyncio.to_thread(Path(args.plans).write_text, "\n".join(plans) + "\n")
        print(f"\nstatements and query plans written to {args.plans}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 records, fewer samples")
    parser.add_argument(
        "--only", nargs="+", default=["startup", "queries", "report", "burst"],
        choices=["startup", "queries", "report", "burst"],
    )  # fmt: skip
    parser.add_argument("--size", type=int, default=None, help="open records (queries, report)")
    parser.add_argument("--startup-sizes", type=int, nargs="+", default=None)
    parser.add_argument("--start-cap", type=float, default=600)
    parser.add_argument("--burst-background", type=int, default=None)
    parser.add_argument("--burst-after", type=int, default=300, help="seconds after the start")
    parser.add_argument("--burst-wait", type=float, default=180)
    parser.add_argument(
        "--no-flood",
        dest="flood",
        action="store_false",
        help="burst without the emulator's Telegram flood limits (429 + retry_after)",
    )
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--tasks-max", type=int, default=1_000_000)
    parser.add_argument("--report-timeout", type=float, default=1800)
    parser.add_argument("--postgres", action="store_true", help="queries also on PostgreSQL")
    parser.add_argument("--plans", help="write statements and query plans to this file")
    parser.add_argument("--profile", help="directory for pyinstrument profiles")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--report-floor", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.report_floor:
        report_floor(*args.report_floor)
        return
    quick = args.quick
    args.size = args.size or (1000 if quick else 100_000)
    args.startup_sizes = args.startup_sizes or ([1000] if quick else [1000, 10_000, 100_000])
    args.burst_background = args.burst_background if args.burst_background is not None else (
        1000 if quick else 100_000
    )  # fmt: skip
    if quick:
        args.burst_after = min(args.burst_after, 60)
        args.burst_wait = min(args.burst_wait, 60)
    args.repeat = args.repeat or (3 if quick else 10)
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
