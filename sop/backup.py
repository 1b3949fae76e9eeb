"""Backups of a running bot, and restoring one into an empty database and storage.

A backup directory holds::

    backup.json             format, created_at, app version, alembic revision, the database
                            copy's engine, name, size and SHA-256, and every stored file's
                            path, size and SHA-256
    database.sqlite3        SQLite: the online backup API's copy (or database.pgdump:
                            PostgreSQL's pg_dump archive), see :mod:`db.snapshot`
    files/<path>            each stored file, at its path in the storage

The database is copied first, as one consistent state while the bot keeps working; the files
listed in that copy are then streamed out of the storage (a local directory or S3), each
proven against the SHA-256 the database holds. A committed file is never changed or removed
(paths are unique, files are written once), so the copy and the files always match. The
manifest is written last: a directory without one is no backup. Like the storage, a backup
is readable by the bot's user only (files ``0600``, directories ``0700``).

A restore checks the manifest and every checksum, refuses a database or storage that holds
anything, writes the files (each proven by its checksum), then puts the database back
(SQLite's backup API, ``pg_restore`` in one transaction); on any failure it removes what it
wrote. ``ppidbot check`` then passes: the audit chain, every record and file are as they were.

:func:`backup_into` makes a dated backup in a parent directory and keeps only the newest
``keep`` (the bot's daily backup, ``BACKUP_DIR``/``BACKUP_KEEP``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from db.migrate import is_known_revision
from db.repositories import Repository
from db.session import create_sessionmaker
from db.snapshot import SnapshotError, dump_file_name, restore_database, snapshot_database
from sop.clock import Clock
from sop.transfer import (
    CONTENT_TABLES,
    absolute_directory,
    app_version,
    clear_directory,
    first_path,
    prepare_directory,
    write_json_atomic,
)
from storage import ChecksumMismatch, DocumentStorage, LocalStorage, StorageError

__all__ = ["BackupError", "BackupSummary", "Backups", "backup_into", "backups_in"]

FORMAT = "ppidbot-backup"
FORMAT_VERSION = 1
MANIFEST_NAME = "backup.json"
FILES_DIR = "files"
#: Name of a dated backup made by :func:`backup_into` (sorts by time).
DATED_PREFIX = "ppidbot-"
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """The backup or restore was refused or failed; ``message`` is for the operator."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class BackupSummary:
    directory: Path
    engine: str
    revision: str | None
    files: int
    total_bytes: int
    database_bytes: int

    def render_text(self, verb: str) -> str:
        return (
            f"{verb} the {self.engine} database ({self.database_bytes} bytes, schema revision "
            f"{self.revision or '-'}) and {self.files} files ({self.total_bytes} bytes); "
            f"directory {self.directory}"
        )


class Backups:
    """Back up, or restore into, the database at ``url`` (``engine``) and ``storage``."""

    def __init__(
        self, engine: AsyncEngine, url: str, storage: DocumentStorage, clock: Clock
    ) -> None:
        self.engine = engine
        self.url = url
        self.storage = storage
        self.clock = clock

    # ------------------------------------------------------------------ backup

    async def backup_to(self, directory: Path) -> BackupSummary:
        """Write a complete backup into ``directory`` (new, or empty)."""
        directory = await asyncio.to_thread(absolute_directory, directory)
        created = await asyncio.to_thread(prepare_directory, directory)
        try:
            return await self._backup(directory)
        except BaseException:
            await asyncio.to_thread(clear_directory, directory, remove_dir=created)
            raise

    async def _backup(self, directory: Path) -> BackupSummary:
        try:
            snapshot = await snapshot_database(self.engine, self.url, directory)
        except SnapshotError as exc:
            raise BackupError(exc.message) from exc
        database_size, database_sha = await asyncio.to_thread(_file_digest, snapshot.path)

        target = LocalStorage(directory / FILES_DIR, max_size=self.storage.max_size)
        files: list[dict[str, Any]] = []
        total = 0
        for row in snapshot.files:
            path = row["path"]
            try:
                placed = await target.place(
                    path, self.storage.read_chunks(path), expected_sha256=row["sha256"]
                )
            except ChecksumMismatch as exc:
                raise BackupError(
                    f"file #{row['id']} {path} has sha256 {exc.actual}, the database says "
                    f"{exc.expected}: run `ppidbot check` and repair the storage first"
                ) from exc
            except StorageError as exc:
                raise BackupError(
                    f"cannot back up file #{row['id']} {path}: {exc.message} "
                    "Run `ppidbot check` and repair the storage first."
                ) from exc
            if placed.size != row["size"]:
                raise BackupError(
                    f"file #{row['id']} {path} is {placed.size} bytes, the database says "
                    f"{row['size']}: run `ppidbot check` and repair the storage first"
                )
            files.append({"path": path, "size": placed.size, "sha256": placed.sha256})
            total += placed.size
        await target.tidy([])

        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": self.clock.now().astimezone(UTC).isoformat(),
            "app_version": app_version(),
            "alembic_revision": snapshot.revision,
            "database": {
                "engine": snapshot.kind,
                "file": snapshot.path.name,
                "size": database_size,
                "sha256": database_sha,
            },
            "files": files,
        }
        await asyncio.to_thread(write_json_atomic, directory / MANIFEST_NAME, manifest)
        return BackupSummary(
            directory, snapshot.kind, snapshot.revision, len(files), total, database_size
        )

    # ------------------------------------------------------------------ restore

    async def restore_from(self, directory: Path) -> BackupSummary:
        """Put the backup in ``directory`` into this empty database and storage."""
        directory = await asyncio.to_thread(absolute_directory, directory)
        manifest = await asyncio.to_thread(read_manifest, directory)
        database = manifest["database"]
        dump = directory / database["file"]
        size, sha256 = await asyncio.to_thread(_file_digest, dump)
        if (size, sha256) != (database["size"], database["sha256"]):
            raise BackupError(
                f"{dump} is {size} bytes with sha256 {sha256}, the manifest says "
                f"{database['size']} bytes with sha256 {database['sha256']} (the backup is "
                "damaged)"
            )
        revision = manifest["alembic_revision"]
        if revision is not None and not is_known_revision(revision):
            raise BackupError(
                f"the backup is at schema revision {revision}, which this ppidbot does not "
                "know: restore with the version that made it, or a newer one"
            )
        await self._refuse_if_not_empty()

        source = LocalStorage(directory / FILES_DIR, max_size=self.storage.max_size)
        written: list[str] = []
        total = 0
        try:
            for entry in manifest["files"]:
                path = entry["path"]
                try:
                    placed = await self.storage.place(
                        path, source.read_chunks(path), expected_sha256=entry["sha256"]
                    )
                except ChecksumMismatch as exc:
                    raise BackupError(
                        f"cannot restore {path}: its sha256 is {exc.actual}, the manifest "
                        f"says {exc.expected} (the backup is damaged)"
                    ) from exc
                except StorageError as exc:
                    raise BackupError(f"cannot restore {path}: {exc.message}") from exc
                written.append(path)
                total += placed.size
            try:
                await restore_database(self.engine, self.url, dump, database["engine"])
            except SnapshotError as exc:
                raise BackupError(f"{exc.message}; nothing was restored") from exc
        except BaseException:
            for path in written:
                await self.storage.delete(path)
            await self.storage.tidy(written)
            raise
        return BackupSummary(
            directory, database["engine"], revision, len(written), total, database["size"]
        )

    async def _refuse_if_not_empty(self) -> None:
        async with create_sessionmaker(self.engine)() as session, session.begin():
            repo = Repository(session)
            existing = await repo.database_tables()
            for table in CONTENT_TABLES:
                count = await repo.row_count(table) if table.name in existing else 0
                if count:
                    raise BackupError(
                        f"the target database is not empty ({count} rows in {table.name}): "
                        "restore only into a new database"
                    )
        stored = await first_path(self.storage)
        if stored is not None:
            raise BackupError(
                f"the target storage {self.storage.location} is not empty (e.g. {stored}): "
                "restore only into a new storage"
            )


# ---------------------------------------------------------------------- dated backups


def backups_in(parent: Path) -> list[Path]:
    """The complete dated backups in ``parent``, oldest first."""
    if not parent.is_dir():
        return []
    return sorted(
        child
        for child in parent.iterdir()
        if child.is_dir()
        and child.name.startswith(DATED_PREFIX)
        and (child / MANIFEST_NAME).is_file()
    )


async def backup_into(backups: Backups, parent: Path, *, keep: int) -> BackupSummary:
    """A new backup ``parent/ppidbot-<YYYYmmdd-HHMMSS>`` (UTC); then only the newest
    ``keep`` complete backups stay (a failed one leaves nothing, older ones stay)."""
    if keep < 1:
        raise ValueError(f"keep must be at least 1, got {keep}")
    stamp = backups.clock.now().astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    directory = parent / f"{DATED_PREFIX}{stamp}"
    if directory.exists():  # two backups within one second: the second waits its turn
        raise BackupError(f"{directory} exists already")
    await asyncio.to_thread(parent.mkdir, parents=True, exist_ok=True, mode=0o700)
    summary = await backups.backup_to(directory)
    existing = await asyncio.to_thread(backups_in, parent)
    for old in existing[: max(0, len(existing) - keep)]:
        await asyncio.to_thread(shutil.rmtree, old)
    return summary


# ---------------------------------------------------------------------- manifest


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST_NAME
    try:
        with path.open(encoding="utf-8") as handle:
            manifest = json.load(handle)
    except FileNotFoundError:
        raise BackupError(f"{path} not found: {directory} is not a ppidbot backup") from None
    except (OSError, ValueError) as exc:
        raise BackupError(f"{path} cannot be read: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a ppidbot backup manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"{path} has format version {manifest.get('format_version')}; "
            f"this ppidbot reads version {FORMAT_VERSION}"
        )
    database = manifest.get("database")
    if not isinstance(database, dict) or database.get("file") != dump_file_name(
        str(database.get("engine"))
    ):
        raise BackupError(f"{path} names no valid database copy")
    files = manifest.get("files")
    if not isinstance(files, list) or not all(
        isinstance(f, dict) and {"path", "size", "sha256"} <= f.keys() for f in files
    ):
        raise BackupError(f"{path} has no valid file list")
    return manifest


def _file_digest(path: Path) -> tuple[int, str]:
    hasher = hashlib.sha256()
    size = 0
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                size += len(chunk)
                hasher.update(chunk)
    except FileNotFoundError:
        raise BackupError(f"{path} is missing (the backup is incomplete)") from None
    return size, hasher.hexdigest()
