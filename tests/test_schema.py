"""The models and the migrations describe the same schema (the migrations make it), on
SQLite and PostgreSQL: a column or index added to one but not the other fails here; and
the data migrations fill in what they promise."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.migrate import alembic_config, upgrade
from db.models import Base, outside_search_index
from sop.calendar import OfficeCalendar, WorkingHours
from sop.clock import ManualClock
from sop.model import DurationUnit, ExemptionPeriod, PeriodKind, State
from sop.service import PpidService
from tests.conftest import office_of
from tests.test_register import make_record


async def test_migrations_make_the_schema_the_models_describe(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        differences = await connection.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(
                    sync, opts={"compare_type": True, "include_name": outside_search_index}
                ),
                Base.metadata,
            )
        )
    assert differences == []


async def downgrade_to(engine: AsyncEngine, revision: str) -> None:
    def run(connection: object) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def test_the_working_time_migration_fills_in_finished_runs(
    engine: AsyncEngine, service: PpidService, clock: ManualClock
) -> None:
    """Revision 0010 gives each run finished before it the working time the office
    calendar counts (the bot's calendar when it passes one, else the default office hours
    in WIB), with the office closures recorded so far."""
    office = await office_of(service)
    clock.set(datetime(2026, 11, 23, 8, 50, tzinfo=UTC))  # Monday 15.50 WIB
    record = await make_record(service, office, State.DRAFT)
    clock.set(datetime(2026, 11, 24, 1, 0, tzinfo=UTC))  # Tuesday 08.00 WIB
    await service.complete_produce(office.petugas, record, verified=True)

    async def downgrade() -> None:
        await downgrade_to(engine, "0009")

    async def working_minutes() -> list[float | None]:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT working_seconds FROM step_runs ORDER BY id")
            )
            return [None if s is None else s / 60 for (s,) in rows.all()]

    # The default office hours: 15.50-16.00 on Monday and 07.30-08.00 on Tuesday.
    await downgrade()
    await upgrade(engine)
    assert await working_minutes() == [40.0, None]  # step 2 is still open
    # The bot's calendar (here the plain wall clock) when it passes one.
    await downgrade()
    await upgrade(engine, calendar=OfficeCalendar(WorkingHours.always(), ZoneInfo("Asia/Jakarta")))
    assert await working_minutes() == [16 * 60 + 10.0, None]
    # A closure recorded on Tuesday: only Monday's ten minutes count.
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO office_closures (date, description, created_at) "
                "VALUES (:day, 'Cuti bersama', :at)"
            ),
            {"day": date(2026, 11, 24), "at": datetime(2026, 11, 20, tzinfo=UTC)},
        )
    await downgrade()
    await upgrade(engine)
    assert await working_minutes() == [10.0, None]
    assert timedelta(minutes=10) == (await service.record(office.admin, record)).runs[0].working


async def test_the_exemption_end_migration_fills_in_each_records_end(
    engine: AsyncEngine, service: PpidService
) -> None:
    """Revision 0011 keeps each record's last day of exemption, from its period."""
    office = await office_of(service)
    until = ExemptionPeriod(PeriodKind.UNTIL_DATE, until=date(2027, 1, 31))
    months = ExemptionPeriod(PeriodKind.DURATION, amount=4, unit=DurationUnit.MONTHS)
    made = [
        await make_record(service, office, State.DRAFT, pasal17=("a",), period=until),
        # Classified 31 October 2026 for 4 months: to 28 February 2027 (a shorter month).
        await make_record(
            service, office, pasal17=("b",), period=months, classified_date=date(2026, 10, 31)
        ),
        await make_record(service, office),  # permanent
    ]

    async def ends() -> list[date | None]:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT ends_on FROM records ORDER BY id"))
            return [_day(value) for (value,) in rows.all()]

    expected = [date(2027, 1, 31), date(2027, 2, 28), None]
    assert await ends() == expected  # kept as the records were written
    await downgrade_to(engine, "0010")
    await upgrade(engine)
    assert await ends() == expected
    assert len(made) == 3


def _day(value: object) -> date | None:
    """A DATE as the driver returns it (SQLite through text(): an ISO string)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
