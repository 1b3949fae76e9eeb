"""The storage interface: what every backend (a local directory, an S3 bucket) offers.

Paths are POSIX paths relative to the storage's root, always inside one of the two areas::

    divisi/<folder>/<YYYY>/<MM>/<uuid12>-<safe_name>   the divisions' documents
    ppid/<folder>/<YYYY>/<MM>/<uuid12>-<safe_name>     the PPID's internal copies

The write protocol is the same on every backend. The final path is decided first
(:meth:`DocumentStorage.plan`), so a caller can record it before a byte is written (an
intent row, see ``sop.files``). Then the chunks are streamed while being hashed (SHA-256)
and counted; a file larger than ``max_size``, an empty one, one that ``inspect`` refuses or
one whose checksum is not the expected one is never kept; the file appears at exactly the
planned path only whole, never over an existing one (:class:`PathTaken`); and any failure
(an exception from the chunk source, a full disk, cancellation) leaves nothing behind, or
only what the caller's intent row names. What a killed process leaves of a write in
progress (a temp file, an unfinished multipart upload) is removed by
:meth:`DocumentStorage.cleanup_temp`.

Operating-system failures of a write are raised as :class:`StorageFull` (``ENOSPC``,
``EDQUOT``, a bucket's quota) or :class:`WriteFailed` (anything else).
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import errno
import hashlib
import re
import uuid
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Sequence,
)
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Any, BinaryIO, TypeVar

from storage.errors import StorageError, StorageFull, UnsafePath, WriteFailed
from storage.names import sanitize_filename, slugify

__all__ = [
    "Area",
    "DocumentStorage",
    "Inspector",
    "PlannedFile",
    "StoredFile",
    "check_path",
    "storage_error",
]

UNIQUE_PREFIX_LEN = 12
UNIQUE_PREFIX = re.compile(rf"^[0-9a-f]{{{UNIQUE_PREFIX_LEN}}}-")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
#: Errors that mean "the disk or the quota is full".
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})

#: Looks at a written file (opened for reading, seekable) before it is kept; raising
#: refuses it and nothing is kept.
Inspector = Callable[[BinaryIO], None]

_T = TypeVar("_T")


class Area(StrEnum):
    """The two separate storage trees under the root."""

    DIVISION = "divisi"  # the divisions' storage tree
    PPID = "ppid"  # the PPID internal storage tree (separate)


@dataclass(frozen=True, slots=True)
class PlannedFile:
    """Where a file will be written, decided before any byte is (see :meth:`plan`)."""

    path: str  # POSIX path relative to the storage root
    area: Area
    safe_name: str
    original_name: str


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A document that has been written completely and is in place."""

    path: str  # POSIX path relative to the storage root
    area: Area
    size: int
    sha256: str  # lowercase hex
    original_name: str  # the name the user gave (metadata only)
    safe_name: str  # the neutralised name used on disk (after the unique prefix)


def _utcnow() -> datetime:
    """The clock used for the <YYYY>/<MM> level (a function so tests can replace it)."""
    return datetime.now(UTC)


def check_path(path: str) -> list[str]:
    """Validate a stored-file path; return its components. Raises UnsafePath."""
    if not isinstance(path, str):
        raise TypeError(f"path must be str, not {type(path).__name__}")
    if not path:
        raise UnsafePath(path, "it is empty")
    if "\x00" in path:
        raise UnsafePath(path, "it contains a NUL character")
    if "\\" in path:
        raise UnsafePath(path, "it contains a backslash")
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        raise UnsafePath(path, "it is absolute")
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise UnsafePath(path, "it contains an empty, '.' or '..' component")
    if parts[0] not in {area.value for area in Area}:
        raise UnsafePath(path, "it is not inside a storage area")
    return parts


def check_sha256(value: str) -> str:
    """The lowercase form of a SHA-256 hex digest; ValueError for anything else."""
    expected = value.strip().lower()
    if not SHA256_HEX.fullmatch(expected):
        raise ValueError(f"expected_sha256 is not a SHA-256 hex digest: {value!r}")
    return expected


def storage_error(exc: OSError) -> StorageError:
    """The storage's error for an operating-system failure while writing."""
    if exc.errno in FULL_ERRNOS:
        return StorageFull(exc.errno or errno.ENOSPC)
    return WriteFailed(exc.errno, exc.strerror or str(exc))


class DocumentStorage(abc.ABC):
    """Streamed, hashed, atomic document storage; see the module docstring for the protocol.

    Backends: :class:`storage.local.LocalStorage` (a directory) and
    :class:`storage.s3.S3Storage` (an S3 bucket); :func:`storage.open_storage` picks one
    from ``STORAGE_URL``.
    """

    def __init__(self, *, max_size: int, chunk_size: int = 64 * 1024) -> None:
        if max_size <= 0:
            raise ValueError(f"max_size must be positive, got {max_size}")
        if chunk_size <= 0:
            raise ValueError(f"chunk_size must be positive, got {chunk_size}")
        self.max_size = max_size
        self.chunk_size = chunk_size

    @property
    @abc.abstractmethod
    def location(self) -> str:
        """Where the documents are, for the operator (a directory, ``s3://bucket/prefix``)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.location!r})"

    # ------------------------------------------------------------------ planning

    def plan(self, area: Area, folder: str, original_name: str | bytes) -> PlannedFile:
        """Decide the final path of a new file:
        ``<area>/<slug(folder)>/<YYYY>/<MM>/<uuid12>-<safe_name>``. Nothing is written."""
        area = Area(area)
        safe_name = sanitize_filename(original_name)
        unique = uuid.uuid4().hex[:UNIQUE_PREFIX_LEN]
        now = _utcnow().astimezone(UTC)
        rel = PurePosixPath(area.value, slugify(folder), f"{now.year:04d}", f"{now.month:02d}") / (
            f"{unique}-{safe_name}"
        )
        return PlannedFile(rel.as_posix(), area, safe_name, _decode_original(original_name))

    def plan_copy(self, source: str, area: Area, folder: str) -> PlannedFile:
        """The final path of a copy of the stored file ``source`` into ``area``/``folder``;
        the copy keeps the source's safe name."""
        name = self._checked(source)[-1]
        safe_name = sanitize_filename(UNIQUE_PREFIX.sub("", name))
        return self.plan(area, folder, safe_name)

    def planned_at(self, path: str) -> PlannedFile:
        """A :class:`PlannedFile` for an exact path chosen before (an export, a backup)."""
        parts = self._checked(path)
        name = UNIQUE_PREFIX.sub("", parts[-1])
        return PlannedFile(path, Area(parts[0]), name, name)

    # ------------------------------------------------------------------ writing

    async def write(
        self,
        planned: PlannedFile,
        chunks: AsyncIterable[bytes],
        *,
        inspect: Inspector | None = None,
    ) -> StoredFile:
        """Stream ``chunks`` into exactly ``planned.path``.

        Raises FileTooLarge as soon as more than ``max_size`` bytes arrived, EmptyFile for a
        0-byte document, what ``inspect`` raises for content it refuses, PathTaken if the
        path exists, StorageFull or WriteFailed for a failure of the storage; on any failure
        nothing is kept. The chunk source is closed (``aclose``) when saving stops early.
        """
        size, digest = await self._write_atomic(
            planned.path, chunks, limit=self.max_size, inspect=inspect
        )
        return _stored(planned, size, digest)

    async def place(
        self, path: str, chunks: AsyncIterable[bytes], *, expected_sha256: str | None = None
    ) -> StoredFile:
        """Write a file that was stored before (from an export or a backup) at exactly
        ``path``: no size limit, no inspection; with ``expected_sha256`` nothing is kept
        unless the content has that checksum (ChecksumMismatch)."""
        expected = check_sha256(expected_sha256) if expected_sha256 is not None else None
        size, digest = await self._write_atomic(path, chunks, limit=None, expected_sha256=expected)
        return _stored(self.planned_at(path), size, digest)

    async def save(
        self,
        area: Area,
        folder: str,
        chunks: AsyncIterable[bytes],
        original_name: str | bytes,
        *,
        inspect: Inspector | None = None,
    ) -> StoredFile:
        """:meth:`plan` and :meth:`write` in one (for callers that record nothing first)."""
        return await self.write(self.plan(area, folder, original_name), chunks, inspect=inspect)

    async def save_bytes(
        self, area: Area, folder: str, data: bytes, original_name: str | bytes
    ) -> StoredFile:
        """:meth:`save` for content that is already in memory."""
        # One chunk: the writer slices it into chunk_size writes without copying.
        return await self.save(area, folder, _single_chunk(data), original_name)

    async def copy(
        self, source: str, area: Area, folder: str, *, expected_sha256: str
    ) -> StoredFile:
        """:meth:`plan_copy` and :meth:`copy_to` in one."""
        return await self.copy_to(
            source, self.plan_copy(source, area, folder), expected_sha256=expected_sha256
        )

    @abc.abstractmethod
    async def copy_to(
        self, source: str, planned: PlannedFile, *, expected_sha256: str
    ) -> StoredFile:
        """Copy the stored file ``source`` to ``planned.path`` and prove it by checksum.

        The copy is read back and hashed after it is in place; unless it is exactly
        ``expected_sha256`` (and the source's size), it is deleted and ChecksumMismatch is
        raised. A missing source raises StoredFileMissing. ``max_size`` is not applied: the
        source was accepted when it was saved.
        """

    @abc.abstractmethod
    async def _write_atomic(
        self,
        rel_path: str,
        chunks: AsyncIterable[bytes],
        *,
        limit: int | None,
        expected_sha256: str | None = None,
        inspect: Inspector | None = None,
    ) -> tuple[int, str]:
        """Run the write protocol into ``rel_path``; return ``(size, sha256)``."""

    # ------------------------------------------------------------------ reading

    @abc.abstractmethod
    def read_chunks(self, path: str) -> AsyncGenerator[bytes, None]:
        """Yield the stored file in chunks of at most ``chunk_size`` bytes; a missing file
        raises StoredFileMissing (when iterated)."""

    async def read_bytes(self, path: str) -> bytes:
        """Return the whole stored file (meant for small files; prefer :meth:`read_chunks`)."""
        chunks = self.read_chunks(path)
        async with contextlib.aclosing(chunks):
            return b"".join([chunk async for chunk in chunks])

    async def digest(self, path: str) -> tuple[int, str]:
        """Return ``(size, sha256 hex)`` of the stored file by streaming it."""
        hasher = hashlib.sha256()
        size = 0
        chunks = self.read_chunks(path)
        async with contextlib.aclosing(chunks):
            async for chunk in chunks:
                size += len(chunk)
                hasher.update(chunk)
        return size, hasher.hexdigest()

    @abc.abstractmethod
    async def exists(self, path: str) -> bool:
        """Whether a stored file is at ``path``."""

    @abc.abstractmethod
    def iter_paths(self) -> AsyncGenerator[str, None]:
        """Every stored file of both areas as a relative POSIX path, sorted; files being
        written (and anything else outside the area trees) are never listed."""

    # ------------------------------------------------------------------ housekeeping

    @abc.abstractmethod
    async def delete(self, path: str) -> None:
        """Remove the stored file; a missing file is fine (idempotent)."""

    async def tidy(self, paths: Sequence[str]) -> None:  # noqa: B027 (optional hook)
        """Remove what deleting ``paths`` left empty (directories); nothing by default."""

    @abc.abstractmethod
    async def cleanup_temp(self, *, min_age: float = 0.0) -> int:
        """Remove what interrupted writes left (temp files, unfinished uploads); return how
        many. Writes this instance is running are kept; those of another process cannot be
        told apart, so call this at start-up, or with ``min_age`` (seconds) longer than any
        write takes."""

    @abc.abstractmethod
    async def probe(self) -> None:
        """Write and remove a few bytes beside the documents (the health check); raises
        StorageFull, WriteFailed or ReadFailed when the storage does not take them."""

    async def secure(self) -> None:  # noqa: B027 (optional hook)
        """Make sure nobody but the bot reaches a document (nothing to do by default)."""

    async def close(self) -> None:  # noqa: B027 (optional hook)
        """Release connections (nothing to do by default)."""

    def _checked(self, path: str) -> list[str]:
        """Validate ``path`` for this backend; return its components."""
        return check_path(path)


async def settled(awaitable: Awaitable[_T]) -> _T:
    """Await an operation that runs in a worker thread, even across a cancellation.

    A worker thread cannot be interrupted: when the caller is cancelled, wait for the thread
    to finish before re-raising CancelledError, so that the caller's cleanup sees the final
    state of the filesystem (e.g. a rename that did happen) instead of racing with it.
    """
    task = asyncio.ensure_future(awaitable)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        # Retrieve the outcome even if we are cancelled again while waiting.
        task.add_done_callback(_consume_outcome)
        with contextlib.suppress(Exception):
            await task
        raise


def _consume_outcome(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


class SourceFailed(Exception):
    """Carries an OSError of the chunk source past the mapping of the disk's OSErrors."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


def _stored(planned: PlannedFile, size: int, digest: str) -> StoredFile:
    return StoredFile(
        path=planned.path,
        area=planned.area,
        size=size,
        sha256=digest,
        original_name=planned.original_name,
        safe_name=planned.safe_name,
    )


async def _single_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _decode_original(name: str | bytes) -> str:
    if isinstance(name, bytes | bytearray | memoryview):
        return bytes(name).decode("utf-8", errors="replace")
    return name
