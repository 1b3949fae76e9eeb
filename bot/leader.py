"""One active instance per database: who polls Telegram and runs the scheduler.

Several ``ppidbot run`` processes may share one PostgreSQL database (one active, others
on standby, on other machines). The active one holds a PostgreSQL advisory lock on a
connection of its own, kept for as long as the process lives: the server lets go of the
lock the moment that connection ends, so when the process dies (even kill -9, or its
machine: TCP keepalives end the connection), a standby trying the lock every
``retry`` seconds takes over. Only the holder polls ``getUpdates`` (two pollers make
Telegram answer 409 to one of them) and runs the reminders, escalations, expiry notices
and other jobs; the claims in the database make each notice go out once even across a
takeover.

On SQLite the database is a file on this machine and two bots on it would compete for
its write lock and both poll: a second ``ppidbot run`` on the same file is refused at
start (an exclusive ``flock`` on ``<database>.lock``, released by the OS when the process
ends, however it ends).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import IO

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

log = logging.getLogger(__name__)

#: The advisory lock of the active instance (an arbitrary 64-bit key: "ppidbot" in ASCII).
LOCK_KEY = 0x7070_6964_626F_74
#: Seconds between a standby's attempts at the lock, and between checks that the
#: holder's connection still lives.
DEFAULT_RETRY = 2.0
#: The lock's connection notices a vanished peer within about idle + interval * count s.
_KEEPALIVES = {
    "tcp_keepalives_idle": "5",
    "tcp_keepalives_interval": "2",
    "tcp_keepalives_count": "3",
}


class AlreadyRunning(Exception):
    """Another ppidbot runs on this SQLite database; one line for the operator."""


class LeadershipLost(Exception):
    """The instance lock ended while this instance was active; one line."""


class Leadership(ABC):
    """Held by the one active instance; ``lost`` is set if its hold ends while running."""

    def __init__(self) -> None:
        self.lost = asyncio.Event()

    @property
    def role(self) -> str:
        return "standby" if not self.held else "active"

    @property
    @abstractmethod
    def held(self) -> bool: ...

    @abstractmethod
    async def acquire(self, stop: asyncio.Event) -> bool:
        """Wait until this instance may be the active one (True), or ``stop`` is set."""

    @abstractmethod
    async def release(self) -> None: ...


class FileLeadership(Leadership):
    """SQLite: this process alone runs on the database file, or it does not start."""

    def __init__(self, database: Path) -> None:
        super().__init__()
        self.path = database.with_name(database.name + ".lock")
        self._file: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._file is not None

    async def acquire(self, stop: asyncio.Event) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            handle.close()
            raise AlreadyRunning(
                f"another ppidbot is already running on {self.path.with_suffix('')} "
                f"(pid {holder}); stop it first (one bot per SQLite database)"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        return True

    async def release(self) -> None:
        handle, self._file = self._file, None
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.seek(0)
                handle.truncate()
            handle.close()  # closing the file releases the lock


class AdvisoryLeadership(Leadership):
    """PostgreSQL: ``pg_try_advisory_lock`` on a connection kept for the purpose."""

    def __init__(self, url: str, *, retry: float = DEFAULT_RETRY, key: int = LOCK_KEY) -> None:
        super().__init__()
        self.retry = retry
        self.key = key
        # Its own engine, one connection outside the bot's pool, with keepalives.
        self._engine: AsyncEngine = create_async_engine(
            url,
            pool_size=1,
            max_overflow=0,
            connect_args={"server_settings": {**_KEEPALIVES, "application_name": "ppidbot"}},
        )
        self._connection: AsyncConnection | None = None
        self._watch: asyncio.Task[None] | None = None

    @property
    def held(self) -> bool:
        return self._connection is not None and not self.lost.is_set()

    async def acquire(self, stop: asyncio.Event) -> bool:
        told = False
        while not stop.is_set():
            if await self._try():
                if told:
                    log.info("the active instance is gone: this instance takes over")
                self._watch = asyncio.create_task(self._keep())
                return True
            if not told:
                log.info(
                    "another ppidbot instance is active on this database: "
                    "standing by (trying again every %gs)",
                    self.retry,
                )
                told = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.retry)
        return False

    async def _try(self) -> bool:
        try:
            connection = await self._engine.connect()
        except Exception as exc:  # the database is away: a standby keeps trying
            log.warning("could not reach the database for the instance lock: %s", exc)
            return False
        try:
            got = await connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
            )
            await connection.commit()  # no transaction left open; the lock is the session's
        except Exception:
            await connection.close()
            raise
        if got:
            self._connection = connection
            return True
        await connection.close()
        return False

    async def _keep(self) -> None:
        """While active: check every ``retry`` seconds that the lock's connection lives;
        if it died, the lock is gone and another instance may take over: say so."""
        assert self._connection is not None
        while True:
            await asyncio.sleep(self.retry)
            try:
                await self._connection.scalar(text("SELECT 1"))
                await self._connection.commit()
            except Exception as exc:
                log.error("lost the instance lock's database connection (%s)", exc)
                self.lost.set()
                return

    async def release(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
            self._watch = None
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.scalar(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
                await connection.commit()
            with contextlib.suppress(Exception):
                await connection.close()
        await self._engine.dispose()


def leadership_for(database_url: str, *, retry: float = DEFAULT_RETRY) -> Leadership:
    """The instance lock that fits the database: a file lock beside a SQLite database,
    an advisory lock on PostgreSQL."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        database = url.database
        if not database or database == ":memory:":
            return _NoLeadership()
        return FileLeadership(Path(database).resolve())
    return AdvisoryLeadership(database_url, retry=retry)


class _NoLeadership(Leadership):
    """An in-memory database belongs to its process: nothing to share."""

    def __init__(self) -> None:
        super().__init__()
        self._held = False

    @property
    def held(self) -> bool:
        return self._held

    async def acquire(self, stop: asyncio.Event) -> bool:
        self._held = True
        return True

    async def release(self) -> None:
        self._held = False
