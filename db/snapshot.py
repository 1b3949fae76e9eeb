"""A consistent copy of the whole database while the bot runs, and putting one back.

- SQLite: the online backup API (``sqlite3.Connection.backup``) copies the database page
  by page into a new file; what it copies is one consistent state, whatever the bot writes
  meanwhile (WAL mode).
- PostgreSQL: ``pg_dump --format=custom`` (and ``pg_restore`` back). The dump runs on a
  snapshot exported from a REPEATABLE READ transaction of ours (``pg_export_snapshot()``),
  so the rows read beside it (the stored files' list) are exactly the dump's.

The client binaries are found on ``PATH``, else in the highest ``/usr/lib/postgresql/*/bin``
(Debian's layout); ``pg_dump`` must not be older than the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import re
import shutil
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.models import Base, RecordFileRow
from db.repositories import Repository
from db.session import create_sessionmaker

__all__ = [
    "DatabaseSnapshot",
    "SnapshotError",
    "dump_file_name",
    "engine_kind",
    "restore_database",
    "snapshot_database",
]

PG_LIB_ROOT = Path("/usr/lib/postgresql")
_SQLITE_NAME = "database.sqlite3"
_PG_NAME = "database.pgdump"


class SnapshotError(Exception):
    """The copy or the restore could not be made; ``message`` is for the operator."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class DatabaseSnapshot:
    kind: str  # "sqlite" or "postgresql"
    path: Path  # the copy (an SQLite file or a pg_dump archive)
    revision: str | None  # the alembic revision of the copy
    files: list[dict[str, Any]]  # the record_files rows of the copy


def engine_kind(url: str) -> str:
    name = make_url(url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise SnapshotError(f"backups support SQLite and PostgreSQL, not {name}")
    return name


def dump_file_name(kind: str) -> str:
    return _SQLITE_NAME if kind == "sqlite" else _PG_NAME


async def snapshot_database(engine: AsyncEngine, url: str, directory: Path) -> DatabaseSnapshot:
    """Copy the database behind ``engine`` (``url``) into ``directory``; return the copy."""
    kind = engine_kind(url)
    target = directory / dump_file_name(kind)
    if kind == "sqlite":
        source = _sqlite_path(url)
        await asyncio.to_thread(_sqlite_copy, source, target)
        revision, files = await asyncio.to_thread(_sqlite_contents, target)
        return DatabaseSnapshot(kind, target, revision, files)
    async with _reading(create_sessionmaker(engine)) as repo:
        snapshot_id = str(await repo.session.scalar(text("SELECT pg_export_snapshot()")))
        revision = await repo.schema_revision()
        files = await repo.table_rows(Base.metadata.tables[RecordFileRow.__tablename__])
        # The dump reads the same snapshot while this transaction holds it.
        await _run(
            "pg_dump",
            "--format=custom",
            f"--snapshot={snapshot_id}",
            f"--file={target}",
            url=url,
        )
    await asyncio.to_thread(os.chmod, target, 0o600)
    return DatabaseSnapshot(kind, target, revision, files)


async def restore_database(engine: AsyncEngine, url: str, dump: Path, kind: str) -> None:
    """Replace the (empty) database behind ``engine`` with the copy ``dump`` of ``kind``.

    The caller made sure the target holds no content; the engine's connections are closed
    first (an SQLite file is overwritten page by page through the backup API)."""
    target_kind = engine_kind(url)
    if target_kind != kind:
        raise SnapshotError(
            f"the backup is of a {kind} database, this one is {target_kind}: restore into "
            f"{kind}, or move between engines with `ppidbot export` / `ppidbot import`"
        )
    await engine.dispose()
    if kind == "sqlite":
        await asyncio.to_thread(_sqlite_copy, dump, _sqlite_path(url))
        return
    # --clean --if-exists: what migrations made in the empty target gives way to the dump;
    # one transaction: a failing restore leaves the target as it was.
    await _run(
        "pg_restore",
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        "--exit-on-error",
        str(dump),
        url=url,
    )


@contextlib.asynccontextmanager
async def _reading(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Repository]:
    async with sessions() as session, session.begin():
        repo = Repository(session)
        await repo.use_snapshot()
        yield repo


# ---------------------------------------------------------------------- SQLite


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise SnapshotError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _sqlite_copy(source: Path, target: Path) -> None:
    """The online backup API: ``source`` as one consistent state into ``target``."""
    if not source.exists():
        raise SnapshotError(f"the SQLite database {source} does not exist")
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # the copy is one self-contained file
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise SnapshotError(f"copying the SQLite database failed: {exc}") from exc
    finally:
        src.close()
    with contextlib.suppress(OSError):
        os.chmod(target, 0o600)


def _sqlite_contents(copy: Path) -> tuple[str | None, list[dict[str, Any]]]:
    """The alembic revision and the stored files' rows of an SQLite copy (read with the
    standard library: the copy is a plain file, not a database the bot runs on)."""
    connection = sqlite3.connect(copy)
    try:
        connection.row_factory = sqlite3.Row
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        revision = None
        if "alembic_version" in tables:
            found = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = found[0] if found else None
        if RecordFileRow.__tablename__ not in tables:
            return revision, []
        rows = connection.execute(
            f"SELECT id, path, size, sha256 FROM {RecordFileRow.__tablename__} ORDER BY id"
        ).fetchall()
        return revision, [dict(row) for row in rows]
    except sqlite3.Error as exc:
        raise SnapshotError(f"reading the SQLite copy failed: {exc}") from exc
    finally:
        connection.close()


# ---------------------------------------------------------------------- PostgreSQL


def find_pg_tool(name: str) -> Path | None:
    """``pg_dump``/``pg_restore`` on PATH, else in the highest Debian cluster directory."""
    found = shutil.which(name)
    if found:
        return Path(found)
    candidates = [Path(p) for p in glob.glob(str(PG_LIB_ROOT / "*" / "bin" / name))]
    if not candidates:
        return None
    return max(candidates, key=lambda p: _version_key(p.parent.parent.name))


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", name)) or (0,)


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The connection string and environment for libpq tools (the password in PGPASSWORD,
    never on the command line)."""
    parsed: URL = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None, query={})
    return plain.render_as_string(hide_password=False), env


async def _run(tool: str, *args: str, url: str) -> None:
    executable = find_pg_tool(tool)
    if executable is None:
        raise SnapshotError(
            f"{tool} not found: install the PostgreSQL client (Debian package "
            "'postgresql-client') of the server's version or newer"
        )
    conninfo, env = _libpq(url)
    process = await asyncio.create_subprocess_exec(
        str(executable),
        *args,
        f"--dbname={conninfo}",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    _, stderr = await process.communicate()
    if process.returncode != 0:
        reason = stderr.decode(errors="replace").strip().splitlines()
        raise SnapshotError(
            f"{tool} failed (exit {process.returncode}): {' / '.join(reason[-3:]) or '?'}"
        )
