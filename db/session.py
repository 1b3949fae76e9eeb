"""Engine and session factory. SQLite gets WAL, foreign keys and serialised writes;
reads (``READ_ONLY``) run beside them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

#: The connection execution option of a transaction that only reads (``READ_ONLY``).
READ_ONLY_OPTION = "ppidbot_read_only"
#: Execution options of a read-only transaction. On SQLite it does not take the write
#: lock; on PostgreSQL plain reads never block writers, so nothing changes there.
READ_ONLY = {READ_ONLY_OPTION: True}


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine for ``url``; creates the SQLite file's folder if needed."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
        engine = create_async_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs["pool_pre_ping"] = True
    return create_async_engine(url, **kwargs)


def _configure_sqlite(engine: AsyncEngine) -> None:
    """Take the write lock at BEGIN, so concurrent transactions queue instead of failing.

    This is SQLAlchemy's documented recipe for pysqlite's transaction handling.
    """
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A read (``READ_ONLY``) begins deferred: it reads a WAL snapshot beside a writer
        # instead of holding the write lock for as long as it reads.
        read_only = connection.get_execution_options().get(READ_ONLY_OPTION)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
