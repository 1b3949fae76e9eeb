"""Run the alembic migrations: the only way ppidbot's schema is made."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


#: ``Config.attributes`` key of the office calendar a data migration measures with.
CALENDAR = "office_calendar"


async def upgrade(
    engine: AsyncEngine, revision: str = "head", *, calendar: object | None = None
) -> None:
    """Bring the database behind ``engine`` to ``revision`` (from inside a running loop).

    ``calendar``: the configured office calendar (``sop.calendar.OfficeCalendar``), for
    migrations that fill in working times; without one they use the default calendar."""

    def _upgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        if calendar is not None:
            config.attributes[CALENDAR] = calendar
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


async def current_revision(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    def _current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(_current)


def is_known_revision(revision: str) -> bool:
    """Whether ``revision`` is one of this version's migrations."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False
