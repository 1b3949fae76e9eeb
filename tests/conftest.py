"""Shared fixtures: a migrated database on SQLite and on a real PostgreSQL server, the
service with a manual clock, and the people of a PPID office."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.migrate import upgrade
from db.session import create_engine, create_sessionmaker
from sop.clock import ManualClock
from sop.model import Actor, ExemptionPeriod, PeriodKind, RecordFields, Role
from sop.service import PpidService
from storage import DocumentStorage, LocalStorage

pytest_plugins = ["tests.support.pg_fixtures", "tests.support.seaweedfs"]

# Monday 23 November 2026, 08:00 WIB.
START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every database test runs twice: on an SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'ppidbot.sqlite3'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(db_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def storage(tmp_path: Path) -> DocumentStorage:
    return LocalStorage(tmp_path / "storage", max_size=1024 * 1024)


@pytest.fixture
def service(engine: AsyncEngine, storage: DocumentStorage, clock: ManualClock) -> PpidService:
    return PpidService(
        create_sessionmaker(engine), storage, clock=clock, step_deadline=timedelta(hours=1)
    )


@dataclass
class Office:
    """The people of a small PPID office."""

    admin: Actor
    petugas: Actor  # Petugas PPID, division 1
    petugas_other: Actor  # Petugas PPID, division 2
    dokumentasi: Actor
    pejabat: Actor
    pejabat2: Actor


@pytest.fixture
async def office(service: PpidService) -> Office:
    return await office_of(service)


async def office_of(service: PpidService) -> Office:
    """The people of a small PPID office, registered with ``service``."""
    await service.ensure_admins([900])
    admin = await service.actor_by_telegram(900)
    assert admin is not None
    return Office(
        admin=admin,
        petugas=await service.add_person(101, "Rina Petugas", Role.PETUGAS_PPID, division_id=1),
        petugas_other=await service.add_person(
            102, "Budi Petugas", Role.PETUGAS_PPID, division_id=2
        ),
        dokumentasi=await service.add_person(201, "Sari Dokumentasi", Role.PETUGAS_DOKUMENTASI),
        pejabat=await service.add_person(301, "Andi Pejabat", Role.PEJABAT_PPID),
        pejabat2=await service.add_person(302, "Dewi Pejabat", Role.PEJABAT_PPID),
    )


def sample_fields(division_id: int = 1, **overrides: object) -> RecordFields:
    values: dict[str, object] = {
        "title": "Data pribadi pemilih disabilitas",
        "division_id": division_id,
        "description": "Daftar nama dan alamat pemilih disabilitas hasil pemutakhiran.",
        "pasal17": ("h",),
        "other_legal_basis": None,
        "consequence": "Membuka rahasia pribadi; merugikan pemilih bila dibuka.",
        "period": ExemptionPeriod(PeriodKind.PERMANENT),
        "classified_by": "Andi Pejabat",
        "classified_place": "Padang",
        "classified_date": date(2026, 11, 20),
        # The consequence test's full parts (step 3 needs them; see sop.papers).
        "harm_if_opened": "Pemilih dapat menjadi sasaran penipuan atau intimidasi.",
        "public_interest": "Publik berkepentingan atas akurasi daftar pemilih, bukan data pribadi.",
        "weighing": "Kerugian bagi pemilih lebih besar daripada manfaat membuka data pribadinya.",
    }
    values.update(overrides)
    return RecordFields(**values)  # type: ignore[arg-type]


async def chunks_of(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
