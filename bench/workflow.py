"""How fast records move through the three SOP steps, and how much memory that takes.

Runs the real service on an SQLite file in a temporary directory (or on DATABASE_URL
when given), with files of a chosen size. Prints figures; asserts nothing.

    .venv/bin/python bench/workflow.py --records 200 --file-kb 256
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from db.migrate import upgrade
from db.session import create_engine, create_sessionmaker
from sop.clock import ManualClock
from sop.model import ExemptionPeriod, PeriodKind, RecordFields, Role
from sop.service import PpidService
from storage import DocumentStorage


async def _chunks(seed: int, size: int) -> object:
    block = (seed.to_bytes(8, "big") * 8192)[:65536]
    sent = 0
    while sent < size:
        piece = block[: min(len(block), size - sent)]
        sent += len(piece)
        yield piece


async def run(records: int, file_kb: int, url: str | None, concurrency: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="ppidbot-bench-"))
    url = url or f"sqlite+aiosqlite:///{workdir / 'bench.sqlite3'}"
    engine = create_engine(url)
    await upgrade(engine)
    clock = ManualClock(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))
    storage = DocumentStorage(workdir / "storage", max_size=1 << 30)
    service = PpidService(create_sessionmaker(engine), storage, clock=clock)
    petugas = await service.add_person(1, "Petugas", Role.PETUGAS_PPID, division_id=1)
    dokumentasi = await service.add_person(2, "Dokumentasi", Role.PETUGAS_DOKUMENTASI)
    pejabat = await service.add_person(3, "Pejabat", Role.PEJABAT_PPID)
    fields = RecordFields(
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
    )
    semaphore = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        async with semaphore:
            record = await service.create_draft(petugas, fields)
            await service.attach_file(
                petugas, record.id, _chunks(index, file_kb * 1024), f"dok-{index}.pdf", None
            )
            await service.complete_produce(petugas, record.id, verified=True)
            await service.complete_handover(dokumentasi, record.id)
            await service.complete_receive(pejabat, record.id)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(records)))
    elapsed = time.perf_counter() - started
    chain_started = time.perf_counter()
    problems = await service.verify_audit_chain()
    chain_elapsed = time.perf_counter() - chain_started
    await engine.dispose()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    backend = url.split(":", 1)[0]
    print(f"database            {backend}")
    print(f"records             {records} through all three steps, {file_kb} KB file each")
    print(f"concurrency         {concurrency}")
    print(f"total               {elapsed:.2f} s")
    print(f"per record          {elapsed / records * 1000:.1f} ms")
    print(f"records per second  {records / elapsed:.1f}")
    print(f"audit chain verify  {chain_elapsed * 1000:.0f} ms ({problems or 'ok'})")
    print(f"peak RSS            {rss_mb:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100)
    parser.add_argument("--file-kb", type=int, default=256)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args()
    asyncio.run(run(args.records, args.file_kb, args.url, args.concurrency))


if __name__ == "__main__":
    main()
