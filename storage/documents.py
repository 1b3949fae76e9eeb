"""Streamed, hashed, atomic document storage.

Layout under ``root``::

    divisi/<folder>/<YYYY>/<MM>/<uuid12>-<safe_name>   the divisions' documents
    ppid/<folder>/<YYYY>/<MM>/<uuid12>-<safe_name>     the PPID's internal copies
    .tmp/<uuid>.part                                   files being written (same filesystem)

Write protocol: the final path is decided first (:meth:`DocumentStorage.plan`), so a caller
can record it before a byte is written (an intent row, see ``sop.files``). Then the chunks are
streamed into a fresh temp file under ``.tmp`` while hashing them (SHA-256) and counting the
size, the file is ``fsync``-ed, optionally inspected (is the content what its type says?),
``os.replace``-d to exactly the planned path (never over an existing file), and the
directories whose entries changed are ``fsync``-ed. Any failure (an exception from the chunk
source, a full disk, cancellation) removes the temp file, or the final file if the rename
already happened, before the exception propagates. A killed process can leave a
``.tmp/*.part`` file behind, which :meth:`DocumentStorage.cleanup_temp` removes, or a file at
its planned path, which the caller's intent row names.

Operating-system failures of a write are raised as :class:`StorageFull` (``ENOSPC``,
``EDQUOT``) or :class:`WriteFailed` (anything else). Files are created ``0600`` and
directories ``0700``: only the bot's user reads the documents.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import os
import re
import time
import uuid
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterator,
)
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, TypeVar

import aiofiles
import aiofiles.os

from storage import faults
from storage.errors import (
    ChecksumMismatch,
    EmptyFile,
    FileTooLarge,
    PathTaken,
    StorageError,
    StorageFull,
    StoredFileMissing,
    UnsafePath,
    WriteFailed,
)
from storage.names import sanitize_filename, slugify

__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "TEMP_DIR_NAME",
    "Area",
    "DocumentStorage",
    "Inspector",
    "PlannedFile",
    "StoredFile",
    "storage_error",
]

#: Directory (directly under the root) that holds files still being written.
TEMP_DIR_NAME = ".tmp"
_TEMP_SUFFIX = ".part"
_UNIQUE_PREFIX_LEN = 12
_UNIQUE_PREFIX = re.compile(rf"^[0-9a-f]{{{_UNIQUE_PREFIX_LEN}}}-")
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
#: Permissions of stored files and of the directories holding them (the bot's user only).
FILE_MODE = 0o600
DIR_MODE = 0o700
#: Errors that mean "the disk or the quota is full".
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})

#: Looks at a written file (opened for reading) before it is renamed into place; raising
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
    """A document that has been written, fsynced and renamed into place."""

    path: str  # POSIX path relative to the storage root
    area: Area
    size: int
    sha256: str  # lowercase hex
    original_name: str  # the name the user gave (metadata only)
    safe_name: str  # the neutralised name used on disk (after the unique prefix)


def _utcnow() -> datetime:
    """The clock used for the <YYYY>/<MM> level (a function so tests can replace it)."""
    return datetime.now(UTC)


class DocumentStorage:
    """Document storage rooted at ``root``; see the module docstring for the protocol."""

    def __init__(self, root: Path, *, max_size: int, chunk_size: int = 64 * 1024) -> None:
        if max_size <= 0:
            raise ValueError(f"max_size must be positive, got {max_size}")
        if chunk_size <= 0:
            raise ValueError(f"chunk_size must be positive, got {chunk_size}")
        self.root: Path = Path(root).absolute()
        self.max_size = max_size
        self.chunk_size = chunk_size
        # Names of the temp files this instance is writing right now (kept by cleanup_temp).
        self._active_temp: set[str] = set()

    @property
    def temp_dir(self) -> Path:
        return self.root / TEMP_DIR_NAME

    # ------------------------------------------------------------------ writing

    def plan(self, area: Area, folder: str, original_name: str | bytes) -> PlannedFile:
        """Decide the final path of a new file:
        ``<area>/<slug(folder)>/<YYYY>/<MM>/<uuid12>-<safe_name>``. Nothing is written."""
        area = Area(area)
        safe_name = sanitize_filename(original_name)
        unique = uuid.uuid4().hex[:_UNIQUE_PREFIX_LEN]
        rel = self._target_dir(area, folder) / f"{unique}-{safe_name}"
        return PlannedFile(rel.as_posix(), area, safe_name, _decode_original(original_name))

    def plan_copy(self, source: str, area: Area, folder: str) -> PlannedFile:
        """The final path of a copy of the stored file ``source`` into ``area``/``folder``;
        the copy keeps the source's safe name."""
        source_path = self._resolve(source)
        safe_name = sanitize_filename(_UNIQUE_PREFIX.sub("", source_path.name))
        return self.plan(area, folder, safe_name)

    async def write(
        self,
        planned: PlannedFile,
        chunks: AsyncIterable[bytes],
        *,
        inspect: Inspector | None = None,
    ) -> StoredFile:
        """Stream ``chunks`` into exactly ``planned.path``.

        Raises FileTooLarge as soon as more than ``max_size`` bytes arrived, EmptyFile for a
        0-byte document, what ``inspect`` raises for content it refuses, StorageFull or
        WriteFailed for an operating-system failure; on any failure nothing is left on disk.
        The chunk source is closed (``aclose``) when saving stops early.
        """
        size, digest = await self._write_atomic(
            planned.path, chunks, limit=self.max_size, inspect=inspect
        )
        return StoredFile(
            path=planned.path,
            area=planned.area,
            size=size,
            sha256=digest,
            original_name=planned.original_name,
            safe_name=planned.safe_name,
        )

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

    async def copy_to(
        self, source: str, planned: PlannedFile, *, expected_sha256: str
    ) -> StoredFile:
        """Copy the stored file ``source`` to ``planned.path`` and prove it by checksum.

        The source is hashed while it is streamed into a temp file; if its SHA-256 is not
        ``expected_sha256`` nothing is renamed into the target and ChecksumMismatch is raised.
        After the rename the copy is read back and hashed again; on a mismatch it is deleted
        and ChecksumMismatch is raised. A missing source raises StoredFileMissing.

        ``max_size`` is not applied: the source was accepted when it was saved.
        """
        expected = expected_sha256.strip().lower()
        if not _SHA256_HEX.fullmatch(expected):
            raise ValueError(f"expected_sha256 is not a SHA-256 hex digest: {expected_sha256!r}")
        source_path = self._resolve(source)
        if not await aiofiles.os.path.isfile(source_path):
            raise StoredFileMissing(source)
        size, _ = await self._write_atomic(
            planned.path,
            self.read_chunks(source),
            limit=None,
            expected_sha256=expected,
        )
        try:
            await _settled(asyncio.to_thread(_drop_page_cache, self.root / planned.path))
            copied_size, copied_digest = await self.digest(planned.path)
            if copied_digest != expected or copied_size != size:
                raise ChecksumMismatch(expected, copied_digest)
        except BaseException:
            await self.delete(planned.path)
            raise
        return StoredFile(
            path=planned.path,
            area=planned.area,
            size=size,
            sha256=expected,
            original_name=planned.original_name,
            safe_name=planned.safe_name,
        )

    # ------------------------------------------------------------------ reading

    async def read_chunks(self, path: str) -> AsyncGenerator[bytes, None]:
        """Yield the stored file in chunks of at most ``chunk_size`` bytes."""
        target = self._resolve(path)
        try:
            handle = await _settled(aiofiles.open(target, "rb"))
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise StoredFileMissing(path) from exc
        try:
            while chunk := await handle.read(self.chunk_size):
                yield chunk
        finally:
            await _settled(handle.close())

    async def read_bytes(self, path: str) -> bytes:
        """Return the whole stored file (meant for small files; prefer :meth:`read_chunks`)."""
        target = self._resolve(path)
        try:
            handle = await _settled(aiofiles.open(target, "rb"))
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise StoredFileMissing(path) from exc
        try:
            return await handle.read()
        finally:
            await _settled(handle.close())

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

    # ------------------------------------------------------------------ housekeeping

    async def delete(self, path: str) -> None:
        """Remove the stored file; a missing file is fine (idempotent)."""
        target = self._resolve(path)
        await _settled(asyncio.to_thread(_remove_quietly, target))

    def exists(self, path: str) -> bool:
        return self._resolve(path).is_file()

    def absolute(self, path: str) -> Path:
        """The absolute path of a stored file; raises UnsafePath rather than leave the root."""
        return self._resolve(path)

    def iter_paths(self) -> Iterator[str]:
        """Every stored file of both areas as a relative POSIX path, sorted.

        Temp files (and anything else outside the area trees) are never listed, nor are
        symlinks.
        """
        found: list[str] = []
        for area in Area:
            area_dir = self.root / area.value
            for dirpath, _dirnames, filenames in os.walk(area_dir):
                current = Path(dirpath)
                for filename in filenames:
                    candidate = current / filename
                    if candidate.is_file() and not candidate.is_symlink():
                        found.append(candidate.relative_to(self.root).as_posix())
        yield from sorted(found)

    async def cleanup_temp(self, *, min_age: float = 0.0) -> int:
        """Remove leftover temp files (from a crash); return how many were removed.

        Temp files this instance is writing right now are kept. Files of *another* process
        writing into the same root cannot be told apart, so call this at start-up, before
        the bot accepts uploads, or with ``min_age`` (seconds since the file last changed)
        longer than any write takes.
        """
        try:
            names = await _settled(asyncio.to_thread(os.listdir, self.temp_dir))
        except (FileNotFoundError, NotADirectoryError):
            return 0
        # Filter on the event loop, after listing: a save that starts now creates a name that
        # is not in the listing; a save that was active when listed is still in the set.
        leftovers = [self.temp_dir / name for name in names if name not in self._active_temp]
        if min_age > 0:
            leftovers = await _settled(asyncio.to_thread(_older_than, leftovers, min_age))
        return await _settled(asyncio.to_thread(_remove_all, leftovers))

    async def secure(self) -> None:
        """Make the root, the temp directory and both area trees ``0700`` (those that exist),
        so nobody but the bot's user can reach a document, even one stored before."""
        await _settled(asyncio.to_thread(self._secure))

    def _secure(self) -> None:
        for directory in (self.root, self.temp_dir, *(self.root / a.value for a in Area)):
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                if directory.is_dir() and not directory.is_symlink():
                    directory.chmod(DIR_MODE)

    # ------------------------------------------------------------------ internals

    def _target_dir(self, area: Area, folder: str) -> PurePosixPath:
        now = _utcnow().astimezone(UTC)
        return PurePosixPath(area.value, slugify(folder), f"{now.year:04d}", f"{now.month:02d}")

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
        final = self._resolve(rel_path)
        rel_dir = PurePosixPath(rel_path).parent
        temp = self.temp_dir / f"{uuid.uuid4().hex}{_TEMP_SUFFIX}"
        # Filled by the rename worker itself, so a cancellation that arrives while the rename
        # runs still knows what to undo (_settled waits for the worker to finish).
        committed: list[Path] = []
        self._active_temp.add(temp.name)
        try:
            try:
                size, digest = await self._stream_to_file(temp, chunks, limit)
                if size == 0:
                    raise EmptyFile()
                if expected_sha256 is not None and digest != expected_sha256:
                    raise ChecksumMismatch(expected_sha256, digest)
                if inspect is not None:
                    await _settled(asyncio.to_thread(_inspect_file, temp, inspect))
                changed_dirs = await _settled(asyncio.to_thread(self._make_dirs, rel_dir))
                await _settled(asyncio.to_thread(_rename_into, temp, final, committed))
                for directory in dict.fromkeys([final.parent, *changed_dirs]):
                    await _settled(asyncio.to_thread(_fsync_dir, directory))
                await faults.reached("storage.written")
            except BaseException:
                # One worker call, so a second cancellation cannot split the cleanup.
                await _settled(asyncio.to_thread(_remove_all, [temp, *committed]))
                raise
            finally:
                self._active_temp.discard(temp.name)
        except _SourceFailed as failed:
            raise failed.error from None
        except OSError as exc:
            raise storage_error(exc) from exc
        return size, digest

    async def _stream_to_file(
        self, temp: Path, chunks: AsyncIterable[bytes], limit: int | None
    ) -> tuple[int, str]:
        hasher = hashlib.sha256()
        size = 0
        iterator = aiter(chunks)
        try:
            await _settled(asyncio.to_thread(self._make_temp_dir))
            handle = await _settled(aiofiles.open(temp, "xb", opener=_private_opener))
            try:
                while True:
                    try:
                        chunk = await anext(iterator)
                    except StopAsyncIteration:
                        break
                    except OSError as exc:  # the source's own failure, not the disk's
                        raise _SourceFailed(exc) from exc
                    # Big chunks from the caller are written in chunk_size slices (no copy), so
                    # neither a single write nor the overshoot past the limit exceeds chunk_size.
                    # The views are released before the next chunk is requested, so a source
                    # that reuses a bytearray buffer may resize it.
                    with memoryview(chunk) as view, view.cast("B") as data:
                        total = data.nbytes
                        for start in range(0, total, self.chunk_size):
                            end = min(start + self.chunk_size, total)
                            size += end - start
                            if limit is not None and size > limit:
                                raise FileTooLarge(limit)
                            await faults.reached("storage.chunk")
                            piece = data[start:end]
                            try:
                                hasher.update(piece)
                                # Settled: never close/unlink the file under an in-flight write.
                                await _settled(handle.write(piece))
                            finally:
                                # The executor may still reference the slice for a moment;
                                # releasing it frees the caller's buffer right now.
                                with contextlib.suppress(BufferError):
                                    piece.release()
                await handle.flush()
                await _settled(asyncio.to_thread(os.fsync, handle.fileno()))
            finally:
                await _settled(handle.close())
        finally:
            # Release the source early (e.g. an HTTP download) when stopping before its end.
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                await aclose()
        return size, hasher.hexdigest()

    def _make_temp_dir(self) -> None:
        self.root.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            self.temp_dir.mkdir(mode=DIR_MODE)

    def _make_dirs(self, rel_dir: PurePosixPath) -> list[Path]:
        """Create ``root/rel_dir``; return the directories that gained an entry."""
        self.root.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        changed: list[Path] = []
        current = self.root
        for part in rel_dir.parts:
            child = current / part
            try:
                child.mkdir(mode=DIR_MODE)
            except FileExistsError:
                pass
            else:
                changed.append(current)
            current = child
        return changed

    def _resolve(self, path: str) -> Path:
        """Validate a stored-file path and return it as an absolute path under the root."""
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
        candidate = self.root.joinpath(*parts)
        try:
            inside = candidate.resolve().is_relative_to(self.root.resolve())
        except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
            raise UnsafePath(path, "it cannot be resolved") from exc
        if not inside:
            raise UnsafePath(path, "it resolves outside the storage root (symlink)")
        return candidate


async def _settled(awaitable: Awaitable[_T]) -> _T:
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


async def _single_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _decode_original(name: str | bytes) -> str:
    if isinstance(name, bytes | bytearray | memoryview):
        return bytes(name).decode("utf-8", errors="replace")
    return name


class _SourceFailed(Exception):
    """Carries an OSError of the chunk source past the mapping of the disk's OSErrors."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


def storage_error(exc: OSError) -> StorageError:
    """The storage's error for an operating-system failure while writing."""
    if exc.errno in _FULL_ERRNOS:
        return StorageFull(exc.errno or errno.ENOSPC)
    return WriteFailed(exc.errno, exc.strerror or str(exc))


def _private_opener(path: str, flags: int) -> int:
    """Create files readable and writable by the bot's user only."""
    return os.open(path, flags, FILE_MODE)


def _inspect_file(path: Path, inspect: Inspector) -> None:
    with path.open("rb") as handle:
        inspect(handle)


def _rename_into(temp: Path, final: Path, committed: list[Path]) -> None:
    # os.replace would silently overwrite: never reuse a name that is taken.
    if os.path.lexists(final):
        raise PathTaken(final.name)
    os.replace(temp, final)
    committed.append(final)


def _older_than(paths: list[Path], seconds: float) -> list[Path]:
    cutoff = time.time() - seconds
    old = []
    for path in paths:
        try:
            if path.stat().st_mtime < cutoff:
                old.append(path)
        except FileNotFoundError:
            continue
    return old


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        path.unlink()


def _remove_all(paths: list[Path]) -> int:
    removed = 0
    for path in paths:
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError):
            continue
        except IsADirectoryError:
            continue  # this module never creates directories under .tmp; leave it alone
        removed += 1
    return removed


def _fsync_dir(directory: Path) -> None:
    """Make a rename/creation in ``directory`` durable, where the platform allows it."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(directory, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # e.g. EINVAL on filesystems that cannot fsync a directory
    finally:
        os.close(fd)


def _drop_page_cache(path: Path) -> None:
    """Best effort: evict the (fsynced, clean) pages so a re-read comes from the disk."""
    fadvise = getattr(os, "posix_fadvise", None)
    if fadvise is None:
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    except OSError:
        pass
    finally:
        os.close(fd)
