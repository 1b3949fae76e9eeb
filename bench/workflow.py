"""How fast records go through the three SOP steps at service level, against the same
steps done as bare SQL with the same storage (the floor), on SQLite and PostgreSQL.

Each cycle: a draft, a softcopy attached (streamed, hashed, fsynced), step 1, step 2,
step 3 (copied into the PPID storage and verified, register number). The floor runs the
same writes per cycle (record, step runs, files, audit entries in the hash chain, the
register counter) as hand-written SQL through SQLAlchemy ``text()``, on the same kind of
database and the same ``DocumentStorage``, with the same concurrency; both in this run.
PostgreSQL is a throwaway server (tests/support/postgres.py), or BENCH_DATABASE_URL.

    .venv/bin/python -m bench.workflow                      # SQLite and PostgreSQL
    .venv/bin/python -m bench.workflow --records 50 --quick
    .venv/bin/python -m bench.workflow --profile /tmp/workflow.txt

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.migrate import upgrade
from db.session import create_engine, create_sessionmaker
from sop.audit import canonical_details, entry_hash
from sop.clock import ManualClock
from sop.model import ExemptionPeriod, PeriodKind, RecordFields, Role
from sop.service import PpidService
from storage import Area, DocumentStorage, LocalStorage

START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


async def _chunks(seed: int, size: int) -> AsyncIterator[bytes]:
    block = (seed.to_bytes(8, "big") * 8192)[:65536]
    first = b"%PDF-1.4\n" + block[9:]  # PDF-headed: the softcopy content check accepts it
    sent = 0
    while sent < size:
        piece = (first if sent == 0 else block)[: min(len(block), size - sent)]
        sent += len(piece)
        yield piece


FIELDS = RecordFields(
    title="Dokumen uji",
    division_id=1,
    description="Dokumen untuk pengukuran kinerja.",
    pasal17=("h",),
    other_legal_basis=None,
    consequence="Membuka rahasia pribadi.",
    period=ExemptionPeriod(PeriodKind.PERMANENT),
    classified_by="Pejabat",
    classified_place="Padang",
    classified_date=date(2026, 11, 20),
    harm_if_opened="Data pribadi terbuka.",  # the whole consequence test: step 3 needs it
    public_interest="Tidak ada kepentingan publik atas data pribadi.",
    weighing="Perlindungan pribadi lebih besar.",
)


async def _service_cycles(
    engine: AsyncEngine, storage: DocumentStorage, records: int, file_kb: int, concurrency: int
) -> tuple[float, Callable[[], Awaitable[Any]]]:
    clock = ManualClock(START)
    service = PpidService(create_sessionmaker(engine), storage, clock=clock)
    petugas = await service.add_person(1, "Petugas", Role.PETUGAS_PPID, division_id=1)
    dokumentasi = await service.add_person(2, "Dokumentasi", Role.PETUGAS_DOKUMENTASI)
    pejabat = await service.add_person(3, "Pejabat", Role.PEJABAT_PPID)
    semaphore = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        async with semaphore:
            record = await service.create_draft(petugas, FIELDS)
            await service.attach_file(
                petugas, record.id, _chunks(index, file_kb * 1024), f"dok-{index}.pdf", None
            )
            await service.complete_produce(petugas, record.id, verified=True)
            await service.complete_handover(dokumentasi, record.id)
            await service.complete_receive(pejabat, record.id)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(records)))
    elapsed = time.perf_counter() - started
    return elapsed, service.verify_audit_chain


class _Floor:
    """The same writes as a full cycle, as bare SQL: the least a cycle costs here."""

    def __init__(self, engine: AsyncEngine, storage: DocumentStorage) -> None:
        self.engine = engine
        self.storage = storage
        self.sqlite = engine.dialect.name == "sqlite"

    def ts(self, moment: datetime) -> Any:
        return moment.replace(tzinfo=None) if self.sqlite else moment

    async def audit(
        self, conn: AsyncConnection, action: str, record_id: int, details: dict[str, object]
    ) -> None:
        lock = "" if self.sqlite else " FOR UPDATE"
        head = (
            await conn.execute(
                text(f"SELECT last_seq, last_hash FROM audit_head WHERE id = 1{lock}")
            )
        ).one()
        at = datetime.now(UTC)
        seq = head[0] + 1
        details_json = canonical_details(details)
        digest = entry_hash(head[1], seq, at, 1, action, record_id, details_json, "Petugas")
        await conn.execute(
            text(
                "INSERT INTO audit_log (seq, at, actor_user_id, actor_name, action, record_id, "
                "details, prev_hash, hash) VALUES (:seq, :at, 1, 'Petugas', :action, :rid, "
                ":details, :prev, :hash)"
            ),
            {
                "seq": seq,
                "at": self.ts(at),
                "action": action,
                "rid": record_id,
                "details": details_json,
                "prev": head[1],
                "hash": digest,
            },
        )
        await conn.execute(
            text("UPDATE audit_head SET last_seq = :seq, last_hash = :hash WHERE id = 1"),
            {"seq": seq, "hash": digest},
        )

    async def step(self, conn: AsyncConnection, record_id: int, step: int, state: str) -> None:
        now = self.ts(datetime.now(UTC))
        await conn.execute(
            text(
                "UPDATE step_runs SET completed_at = :now, completed_by = 1, outcome = 'done' "
                "WHERE record_id = :rid AND completed_at IS NULL"
            ),
            {"now": now, "rid": record_id},
        )
        await conn.execute(
            text(
                "UPDATE records SET state = :state, version = version + 1, updated_at = :now "
                "WHERE id = :rid"
            ),
            {"state": state, "now": now, "rid": record_id},
        )
        if step < 3:
            await self.open_run(conn, record_id, step + 1)
        await self.audit(conn, f"step{step}.done", record_id, {"state": state})

    async def open_run(self, conn: AsyncConnection, record_id: int, step: int) -> None:
        now = datetime.now(UTC)
        await conn.execute(
            text(
                "INSERT INTO step_runs (record_id, step, attempt, started_at, due_at) "
                "VALUES (:rid, :step, 1, :now, :due)"
            ),
            {
                "rid": record_id,
                "step": step,
                "now": self.ts(now),
                "due": self.ts(now + timedelta(hours=1)),
            },
        )

    async def add_file(self, conn: AsyncConnection, record_id: int, stored: Any) -> None:
        await conn.execute(
            text(
                "INSERT INTO record_files (record_id, area, path, original_name, size, sha256, "
                "uploaded_by, created_at) VALUES (:rid, :area, :path, :name, :size, :sha, 1, "
                ":now)"
            ),
            {
                "rid": record_id,
                "area": stored.area.value,
                "path": stored.path,
                "name": stored.original_name,
                "size": stored.size,
                "sha": stored.sha256,
                "now": self.ts(datetime.now(UTC)),
            },
        )
        await self.audit(conn, "file.stored", record_id, {"path": stored.path})

    async def cycle(self, index: int, file_kb: int) -> None:
        now = datetime.now(UTC)
        async with self.engine.begin() as conn:
            record_id = (
                await conn.execute(
                    text(
                        "INSERT INTO records (title, division_id, description, pasal17, "
                        "consequence, period_kind, classified_by, classified_place, "
                        "classified_date, state, version, created_by, created_at, updated_at) "
                        "VALUES ('Dokumen uji', 1, 'Dokumen untuk pengukuran kinerja.', 'h', "
                        "'Membuka rahasia pribadi.', 'permanent', 'Pejabat', 'Padang', "
                        ":day, 'draft', 1, 1, :now, :now) RETURNING id"
                    ),
                    {"day": date(2026, 11, 20), "now": self.ts(now)},
                )
            ).scalar_one()
            await self.open_run(conn, record_id, 1)
            await self.audit(conn, "record.created", record_id, {"title": "Dokumen uji"})
        stored = await self.storage.save(
            Area.DIVISION, "floor", _chunks(index, file_kb * 1024), f"dok-{index}.pdf"
        )
        async with self.engine.begin() as conn:
            await self.add_file(conn, record_id, stored)
        async with self.engine.begin() as conn:
            await self.step(conn, record_id, 1, "submitted")
        async with self.engine.begin() as conn:
            await self.step(conn, record_id, 2, "registered")
        copied = await self.storage.copy(
            stored.path, Area.PPID, "floor", expected_sha256=stored.sha256
        )
        async with self.engine.begin() as conn:
            await self.add_file(conn, record_id, copied)
            await conn.execute(
                text("UPDATE register_counters SET last_number = last_number + 1 WHERE year = 2026")
            )
            await self.step(conn, record_id, 3, "stored")


async def _floor_cycles(
    engine: AsyncEngine, storage: DocumentStorage, records: int, file_kb: int, concurrency: int
) -> float:
    floor = _Floor(engine, storage)
    setup = PpidService(create_sessionmaker(engine), storage, clock=ManualClock(START))
    await setup.add_person(1, "Petugas", Role.PETUGAS_PPID, division_id=1)  # not timed
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO register_counters (year, last_number) VALUES (2026, 0)")
        )
    semaphore = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        async with semaphore:
            await floor.cycle(index, file_kb)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(records)))
    return time.perf_counter() - started


async def _fresh(url: str | None, workdir: Path, name: str) -> tuple[AsyncEngine, str]:
    url = url or f"sqlite+aiosqlite:///{workdir / (name + '.sqlite3')}"
    engine = create_engine(url)
    await upgrade(engine)
    return engine, url


async def measure(label: str, args: argparse.Namespace) -> None:
    """On SQLite: a fresh database file per run."""
    workdir = Path(tempfile.mkdtemp(prefix="ppidbot-bench-workflow-"))
    product_rates: list[float] = []
    floor_rates: list[float] = []
    chain_ms = 0.0
    for round_ in range(args.rounds):
        # Alternate which goes first, so neither always gets the warmer machine.
        order = ["floor", "service"] if round_ % 2 else ["service", "floor"]
        for which in order:
            name = f"{which}-{round_}"
            engine, _ = await _fresh(None, workdir, name)
            storage = LocalStorage(workdir / name, max_size=1 << 30)
            try:
                if which == "service":
                    if args.profile and round_ == 0:
                        from pyinstrument import Profiler

                        profiler = Profiler(interval=0.001, async_mode="enabled")
                        profiler.start()
                    elapsed, verify = await _service_cycles(
                        engine, storage, args.records, args.file_kb, args.concurrency
                    )
                    if args.profile and round_ == 0:
                        profiler.stop()
                        path = Path(args.profile).with_suffix(f".{label}.txt")
                        await asyncio.to_thread(
                            path.write_text, profiler.output_text(unicode=False)
                        )
                    product_rates.append(args.records / elapsed)
                    started = time.perf_counter()
                    problems = await verify()
                    chain_ms = (time.perf_counter() - started) * 1000
                    if problems:
                        print(f"  audit chain problems: {problems[:3]}")
                else:
                    elapsed = await _floor_cycles(
                        engine, storage, args.records, args.file_kb, args.concurrency
                    )
                    floor_rates.append(args.records / elapsed)
            finally:
                await engine.dispose()
    product = sorted(product_rates)[len(product_rates) // 2]
    floor = sorted(floor_rates)[len(floor_rates) // 2]
    spread = lambda rates: ", ".join(f"{r:.1f}" for r in rates)  # noqa: E731
    print(f"  {label:<11} ppidbot {product:6.1f} cycles/s   floor {floor:6.1f} cycles/s   "
          f"-> {product / floor:.2f}x of the floor")  # fmt: skip
    print(f"              rounds: ppidbot {spread(product_rates)}; floor {spread(floor_rates)}; "
          f"audit chain verify {chain_ms:.0f} ms")  # fmt: skip


async def run(args: argparse.Namespace) -> None:
    print("ppidbot workflow benchmark (bench/workflow.py)")
    from bench.common import print_machine

    print_machine()
    print(f"  {args.records} records per run, {args.file_kb} KB file each, concurrency "
          f"{args.concurrency}, {args.rounds} rounds (median shown)")  # fmt: skip
    await measure("SQLite", args)
    if args.sqlite_only:
        return
    external = os.environ.get("BENCH_DATABASE_URL")
    if external:
        print("  (PostgreSQL from BENCH_DATABASE_URL: each run uses a fresh database in it)")
    from tests.support.postgres import PostgresServer, PostgresStartError, start_postgres

    try:
        server = (
            PostgresServer.external(external)
            if external
            else await asyncio.to_thread(start_postgres)
        )
    except PostgresStartError as exc:
        print(f"  PostgreSQL skipped: {str(exc).splitlines()[0]}")
        return
    try:
        names = iter(range(1000))

        def url() -> str:  # one fresh database per run
            return server.create_database(f"bench_{next(names)}")

        await measure_pg(server, url, args)
    finally:
        await asyncio.to_thread(server.stop)


async def measure_pg(server: Any, url: Callable[[], str], args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="ppidbot-bench-workflow-pg-"))
    product_rates: list[float] = []
    floor_rates: list[float] = []
    for round_ in range(args.rounds):
        order = ["floor", "service"] if round_ % 2 else ["service", "floor"]
        for which in order:
            database = await asyncio.to_thread(url)
            engine = create_engine(database)
            await upgrade(engine)
            storage = LocalStorage(workdir / f"{which}-{round_}", max_size=1 << 30)
            try:
                if which == "service":
                    elapsed, _ = await _service_cycles(
                        engine, storage, args.records, args.file_kb, args.concurrency
                    )
                    product_rates.append(args.records / elapsed)
                else:
                    elapsed = await _floor_cycles(
                        engine, storage, args.records, args.file_kb, args.concurrency
                    )
                    floor_rates.append(args.records / elapsed)
            finally:
                await engine.dispose()
    product = sorted(product_rates)[len(product_rates) // 2]
    floor = sorted(floor_rates)[len(floor_rates) // 2]
    spread = lambda rates: ", ".join(f"{r:.1f}" for r in rates)  # noqa: E731
    print(f"  {'PostgreSQL':<11} ppidbot {product:6.1f} cycles/s   floor {floor:6.1f} cycles/s   "
          f"-> {product / floor:.2f}x of the floor")  # fmt: skip
    print(f"              rounds: ppidbot {spread(product_rates)}; floor {spread(floor_rates)}")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak RSS of this process {rss_mb:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100)
    parser.add_argument("--file-kb", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="30 records, one round")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--profile", help="pyinstrument profile of the first service run")
    args = parser.parse_args()
    if args.quick:
        args.records, args.rounds = min(args.records, 30), 1
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
