"""A complete, self-describing export of the database and the stored files, and its import
into an empty database and storage (the operator's backup and move between servers).

An export directory holds::

    manifest.json      format, created_at, app version, alembic revision, every table's
                       rows (JSON; datetimes as ISO strings) and every file's path/size/sha256
    files/<path>       each stored file, at the same relative path as in the storage

Every table of the models is exported, in dependency order, so a table added later is never
silently left out; an export refuses a database holding a table the models do not know.
Open invitations (not used, revoked or expired) are left out: their codes would register
whoever reads the export.
Files are streamed (never read whole into memory) and hashed on the way, in both directions;
the manifest is written last, so a directory without one is not an export. Like the storage,
an export is readable by the bot's user only: files ``0600``, directories ``0700``.

An import refuses a target that is not empty (people, records, files or audit entries), or
whose schema is at another alembic revision. Files are written and verified first; then the
rows go in inside one transaction, primary keys kept (the audit hashes are stored, not
recomputed, so the chain verifies as before). On any failure nothing is left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import Table, TypeDecorator
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import (
    SEARCH_INDEX_NAMES,
    AuditRow,
    Base,
    InvitationRow,
    RecordFileRow,
    RecordRow,
    UserRow,
)
from db.repositories import Repository
from sop.clock import Clock
from storage import (
    DIR_MODE,
    FILE_MODE,
    Area,
    ChecksumMismatch,
    DocumentStorage,
    LocalStorage,
    StorageError,
)

FORMAT = "ppidbot-export"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
FILES_DIR = "files"
#: Tables that alembic keeps for itself, and the full-text index of /cari (rebuilt from
#: the records by its triggers as they are imported); never exported.
IGNORED_TABLES = frozenset({"alembic_version"}) | SEARCH_INDEX_NAMES
#: Rows in any of these make a database "not empty" (migrations seed none of them).
CONTENT_TABLES = tuple(
    Base.metadata.tables[model.__tablename__]
    for model in (UserRow, RecordRow, RecordFileRow, AuditRow)
)
_CHUNK = 64 * 1024


class TransferError(Exception):
    """The export or import was refused or failed; ``message`` is for the operator."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class TransferSummary:
    directory: Path
    revision: str | None
    rows: dict[str, int]
    files: int
    total_bytes: int

    def render_text(self, verb: str) -> str:
        total = sum(self.rows.values())
        tables = ", ".join(f"{name} {count}" for name, count in self.rows.items() if count)
        return (
            f"{verb} {total} rows ({tables or 'none'}) and {self.files} files "
            f"({self.total_bytes} bytes); schema revision {self.revision or '-'}; "
            f"directory {self.directory}"
        )


def app_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ppidbot")
    except PackageNotFoundError:
        return "unknown"


def _tables() -> list[Table]:
    return list(Base.metadata.sorted_tables)


class Transfer:
    """Export from, or import into, the database behind ``sessions`` and ``storage``."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        storage: DocumentStorage,
        clock: Clock,
    ) -> None:
        self._sessions = sessions
        self.storage = storage
        self.clock = clock

    # ------------------------------------------------------------------ export

    async def export_to(self, directory: Path) -> TransferSummary:
        """Write a complete export into ``directory`` (which must not exist, or be empty)."""
        directory = await asyncio.to_thread(absolute_directory, directory)
        created = await asyncio.to_thread(prepare_directory, directory)
        try:
            return await self._export(directory)
        except BaseException:
            await asyncio.to_thread(clear_directory, directory, remove_dir=created)
            raise

    async def _export(self, directory: Path) -> TransferSummary:
        tables = _tables()
        async with self._sessions() as session, session.begin():
            repo = Repository(session)
            await repo.use_snapshot()
            _check_tables(await repo.database_tables(), tables)
            revision = await repo.schema_revision()
            dumped = {table.name: await repo.table_rows(table) for table in tables}
        # An open invitation's code registers whoever has it: it stays out of the export
        # (the link simply stops working after a move; used and expired ones are history).
        now = self.clock.now()
        dumped[InvitationRow.__tablename__] = [
            row for row in dumped[InvitationRow.__tablename__] if not _open_invitation(row, now)
        ]

        target = LocalStorage(directory / FILES_DIR, max_size=self.storage.max_size)
        await asyncio.to_thread(target.root.mkdir, mode=DIR_MODE)
        files: list[dict[str, Any]] = []
        total = 0
        for row in dumped[RecordFileRow.__tablename__]:
            path = row["path"]
            try:
                _check_area_path(path)
                copied = await target.place(path, self.storage.read_chunks(path))
                size, sha256 = copied.size, copied.sha256
            except StorageError as exc:
                raise TransferError(
                    f"cannot export file #{row['id']} {path}: {exc.message} "
                    "Run `ppidbot check` and repair the storage first."
                ) from exc
            if size != row["size"] or sha256 != row["sha256"]:
                raise TransferError(
                    f"cannot export file #{row['id']} {path}: it is {size} bytes with sha256 "
                    f"{sha256}, the database says {row['size']} bytes with sha256 "
                    f"{row['sha256']}. Run `ppidbot check` and repair the storage first."
                )
            files.append({"path": path, "size": size, "sha256": sha256})
            total += size
        await target.tidy([])  # the temp directory the copies used

        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": self.clock.now().astimezone(UTC).isoformat(),
            "app_version": app_version(),
            "alembic_revision": revision,
            "tables": {
                table.name: {
                    "columns": [column.name for column in table.columns],
                    "primary_key": [column.name for column in table.primary_key.columns],
                    "rows": [_encode_row(row) for row in dumped[table.name]],
                }
                for table in tables
            },
            "files": files,
        }
        await asyncio.to_thread(write_json_atomic, directory / MANIFEST_NAME, manifest)
        return TransferSummary(
            directory,
            revision,
            {name: len(rows) for name, rows in dumped.items()},
            len(files),
            total,
        )

    # ------------------------------------------------------------------ import

    async def import_from(self, directory: Path) -> TransferSummary:
        """Load the export in ``directory`` into this (empty) database and storage."""
        directory = await asyncio.to_thread(absolute_directory, directory)
        manifest = await asyncio.to_thread(_read_manifest, directory)
        tables = _tables()
        async with self._sessions() as session, session.begin():
            repo = Repository(session)
            revision = await repo.schema_revision()
            _check_tables(await repo.database_tables(), tables)
            await self._refuse_if_not_empty(repo)
        if manifest["alembic_revision"] != revision:
            raise TransferError(
                f"the export is at schema revision {manifest['alembic_revision']}, this "
                f"database at {revision}: import with the ppidbot version that made the export"
            )
        rows = _decode_tables(manifest, tables)
        files = _checked_files(manifest, rows[RecordFileRow.__tablename__])

        source = LocalStorage(directory / FILES_DIR, max_size=self.storage.max_size)
        written: list[str] = []
        total = 0
        try:
            for entry in files:
                path = entry["path"]
                try:
                    placed = await self.storage.place(
                        path, source.read_chunks(path), expected_sha256=entry["sha256"]
                    )
                except ChecksumMismatch as exc:
                    raise TransferError(
                        f"cannot import {path}: its sha256 is {exc.actual}, the manifest says "
                        f"{exc.expected} (the export is damaged)"
                    ) from exc
                except StorageError as exc:
                    raise TransferError(f"cannot import {path}: {exc.message}") from exc
                size = placed.size
                written.append(path)
                if size != entry["size"]:
                    raise TransferError(
                        f"cannot import {path}: it is {size} bytes, the manifest says "
                        f"{entry['size']}"
                    )
                total += size
            try:
                async with self._sessions() as session, session.begin():
                    repo = Repository(session)
                    await self._refuse_if_not_empty(repo, check_storage=False)
                    # What the migrations seeded (divisions, the audit head) gives way to
                    # the export's rows, children first.
                    for table in reversed(tables):
                        await repo.delete_all_rows(table)
                    for table in tables:
                        await repo.insert_rows(table, rows[table.name])
                    await repo.reset_sequences(tables)
            except SQLAlchemyError as exc:
                reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:300]
                raise TransferError(
                    f"the database refused the export's rows, nothing was imported: {reason}"
                ) from exc
        except BaseException:
            await self._remove_written(written)
            raise
        return TransferSummary(
            directory,
            revision,
            {table.name: len(rows[table.name]) for table in tables},
            len(files),
            total,
        )

    async def _refuse_if_not_empty(self, repo: Repository, *, check_storage: bool = True) -> None:
        for table in CONTENT_TABLES:
            count = await repo.row_count(table)
            if count:
                raise TransferError(
                    f"the target database is not empty ({count} rows in {table.name}): "
                    "import only into a new database"
                )
        if check_storage:
            stored = await first_path(self.storage)
            if stored is not None:
                raise TransferError(
                    f"the target storage {self.storage.location} is not empty (e.g. {stored}): "
                    "import only into a new storage directory"
                )

    async def _remove_written(self, paths: list[str]) -> None:
        for path in paths:
            await self.storage.delete(path)
        await self.storage.tidy(paths)


# ---------------------------------------------------------------------- files


async def first_path(storage: DocumentStorage) -> str | None:
    """A stored file of ``storage``, or None when it holds none."""
    paths = storage.iter_paths()
    async with contextlib.aclosing(paths):
        async for path in paths:
            return path
    return None


def _private_opener(path: str, flags: int) -> int:
    return os.open(path, flags, FILE_MODE)


def _check_area_path(path: str) -> None:
    parts = PurePosixPath(path).parts
    if len(parts) < 2 or parts[0] not in {area.value for area in Area}:
        raise TransferError(f"refusing file path {path!r}: not under divisi/ or ppid/")


# ---------------------------------------------------------------------- directory


def absolute_directory(directory: Path | str) -> Path:
    return Path(directory).absolute()


def prepare_directory(directory: Path) -> bool:
    """Make sure ``directory`` is new or empty; True if it was created here."""
    if directory.exists():
        if not directory.is_dir():
            raise TransferError(f"{directory} exists and is not a directory")
        if any(directory.iterdir()):
            raise TransferError(f"{directory} is not empty: export into a new directory")
        directory.chmod(DIR_MODE)  # what goes in is confidential
        return False
    directory.parent.mkdir(parents=True, exist_ok=True)
    directory.mkdir(mode=DIR_MODE)
    return True


def clear_directory(directory: Path, *, remove_dir: bool) -> None:
    """Undo a failed export (the directory was empty or new, so all of it is ours)."""
    if remove_dir:
        shutil.rmtree(directory, ignore_errors=True)
        return
    for child in directory.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def write_json_atomic(path: Path, document: dict[str, Any]) -> None:
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    try:
        with open(temp, "x", encoding="utf-8", opener=_private_opener) as handle:
            json.dump(document, handle, ensure_ascii=False, indent=1)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST_NAME
    try:
        with path.open(encoding="utf-8") as handle:
            manifest = json.load(handle)
    except FileNotFoundError:
        raise TransferError(f"{path} not found: {directory} is not a ppidbot export") from None
    except (OSError, ValueError) as exc:
        raise TransferError(f"{path} cannot be read: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise TransferError(f"{path} is not a ppidbot export manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise TransferError(
            f"{path} has format version {manifest.get('format_version')}; "
            f"this ppidbot reads version {FORMAT_VERSION}"
        )
    for key, kind in (("tables", dict), ("files", list)):
        if not isinstance(manifest.get(key), kind):
            raise TransferError(f"{path} has no valid {key!r}")
    return manifest


# ---------------------------------------------------------------------- rows


def _check_tables(in_database: set[str], tables: list[Table]) -> None:
    known = {table.name for table in tables}
    unknown = sorted(in_database - known - IGNORED_TABLES)
    if unknown:
        raise TransferError(
            f"the database has tables the models do not describe ({', '.join(unknown)}); "
            "they would be lost, so nothing was done"
        )
    missing = sorted(known - in_database)
    if missing:
        raise TransferError(
            f"the database lacks tables {', '.join(missing)}: run `ppidbot db upgrade`"
        )


def _open_invitation(row: dict[str, Any], now: datetime) -> bool:
    return row["used_at"] is None and row["revoked_at"] is None and row["expires_at"] > now


def _encode_value(value: object) -> object:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TransferError(f"naive datetime {value!r} in the database")
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TransferError(f"cannot export a value of type {type(value).__name__}")


def _encode_row(row: dict[str, Any]) -> dict[str, object]:
    return {name: _encode_value(value) for name, value in row.items()}


def _decoder(table: Table, name: str) -> Any:
    column_type = table.columns[name].type
    while isinstance(column_type, TypeDecorator):  # e.g. UTCDateTime: decode as its impl
        column_type = column_type.impl_instance
    try:
        python_type = column_type.python_type
    except NotImplementedError:
        return lambda value: value
    if python_type is datetime:
        return lambda value: None if value is None else datetime.fromisoformat(value)
    if python_type is date:
        return lambda value: None if value is None else date.fromisoformat(value)
    return lambda value: value


def _decode_tables(manifest: dict[str, Any], tables: list[Table]) -> dict[str, list[dict]]:
    exported = manifest["tables"]
    names = {table.name for table in tables}
    unknown = sorted(set(exported) - names)
    if unknown:
        raise TransferError(f"the export has tables this ppidbot does not know: {unknown}")
    decoded: dict[str, list[dict]] = {}
    for table in tables:
        entry = exported.get(table.name)
        if not isinstance(entry, dict) or not isinstance(entry.get("rows"), list):
            raise TransferError(f"the export lacks the rows of table {table.name}")
        columns = set(table.columns.keys())
        if set(entry.get("columns", [])) != columns:
            raise TransferError(f"the export's columns of {table.name} differ from the schema")
        decoders = {name: _decoder(table, name) for name in columns}
        rows = []
        for row in entry["rows"]:
            if not isinstance(row, dict) or set(row) != columns:
                raise TransferError(f"a row of {table.name} does not match its columns")
            try:
                rows.append({name: decoders[name](value) for name, value in row.items()})
            except (TypeError, ValueError) as exc:
                raise TransferError(f"a row of {table.name} cannot be read: {exc}") from exc
        decoded[table.name] = rows
    return decoded


def _checked_files(manifest: dict[str, Any], file_rows: list[dict]) -> list[dict[str, Any]]:
    """The manifest's file list, checked against the record_files rows (same paths, sizes,
    checksums), so the rows and the bytes cannot disagree after the import."""
    files = manifest["files"]
    by_path: dict[str, dict[str, Any]] = {}
    for entry in files:
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("path"), str)
            and isinstance(entry.get("size"), int)
            and isinstance(entry.get("sha256"), str)
        ):
            raise TransferError(f"a file entry of the manifest is malformed: {entry!r}")
        _check_area_path(entry["path"])
        by_path[entry["path"]] = entry
    rows_by_path = {row["path"]: row for row in file_rows}
    if set(by_path) != set(rows_by_path):
        differing = sorted(set(by_path) ^ set(rows_by_path))
        raise TransferError(f"the manifest's files and record_files rows differ: {differing}")
    for path, entry in by_path.items():
        row = rows_by_path[path]
        if (entry["size"], entry["sha256"]) != (row["size"], row["sha256"]):
            raise TransferError(f"the manifest and record_files disagree about {path}")
    return [by_path[path] for path in sorted(by_path)]
