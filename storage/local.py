"""The local backend: documents in a directory on this machine's disk.

Layout under ``root``::

    divisi/<folder>/<YYYY>/<MM>/<uuid12>-<safe_name>   the divisions' documents
    ppid/<folder>/<YYYY>/<MM>/<uuid12>-<safe_name>     the PPID's internal copies
    .tmp/<uuid>.part                                   files being written (same filesystem)

The write protocol (:mod:`storage.base`) on a disk: the chunks are streamed into a fresh temp
file under ``.tmp`` while hashing them (SHA-256) and counting the size, the file is
``fsync``-ed, optionally inspected (is the content what its type says?), ``os.replace``-d to
exactly the planned path (never over an existing file), and the directories whose entries
changed are ``fsync``-ed. Any failure (an exception from the chunk source, a full disk,
cancellation) removes the temp file, or the final file if the rename already happened,
before the exception propagates. A killed process can leave a ``.tmp/*.part`` file behind,
which :meth:`LocalStorage.cleanup_temp` removes, or a file at its planned path, which the
caller's intent row names.

Files are created ``0600`` and directories ``0700``: only the bot's user reads the documents.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterable, Sequence
from pathlib import Path, PurePosixPath

import aiofiles
import aiofiles.os

from storage import faults
from storage.base import (
    Area,
    DocumentStorage,
    Inspector,
    PlannedFile,
    SourceFailed,
    StoredFile,
    check_path,
    check_sha256,
    settled,
    storage_error,
)
from storage.errors import (
    ChecksumMismatch,
    EmptyFile,
    FileTooLarge,
    PathTaken,
    StoredFileMissing,
    UnsafePath,
)

__all__ = ["DIR_MODE", "FILE_MODE", "TEMP_DIR_NAME", "LocalStorage"]

#: Directory (directly under the root) that holds files still being written.
TEMP_DIR_NAME = ".tmp"
_TEMP_SUFFIX = ".part"
#: Permissions of stored files and of the directories holding them (the bot's user only).
FILE_MODE = 0o600
DIR_MODE = 0o700


class LocalStorage(DocumentStorage):
    """Document storage in the directory ``root``; see the module docstring."""

    def __init__(self, root: Path, *, max_size: int, chunk_size: int = 64 * 1024) -> None:
        super().__init__(max_size=max_size, chunk_size=chunk_size)
        self.root: Path = Path(root).absolute()
        # Names of the temp files this instance is writing right now (kept by cleanup_temp).
        self._active_temp: set[str] = set()

    @property
    def location(self) -> str:
        return str(self.root)

    @property
    def temp_dir(self) -> Path:
        return self.root / TEMP_DIR_NAME

    # ------------------------------------------------------------------ copying

    async def copy_to(
        self, source: str, planned: PlannedFile, *, expected_sha256: str
    ) -> StoredFile:
        """See :meth:`DocumentStorage.copy_to`. On a disk the source is hashed while it is
        streamed into a temp file; if its SHA-256 is not ``expected_sha256`` nothing is
        renamed into the target. After the rename the page cache of the copy is dropped and
        the copy is read back from the disk and hashed again."""
        expected = check_sha256(expected_sha256)
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
            await settled(asyncio.to_thread(_drop_page_cache, self.root / planned.path))
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
        target = self._resolve(path)
        try:
            handle = await settled(aiofiles.open(target, "rb"))
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise StoredFileMissing(path) from exc
        try:
            while chunk := await handle.read(self.chunk_size):
                yield chunk
        finally:
            await settled(handle.close())

    async def read_bytes(self, path: str) -> bytes:
        target = self._resolve(path)
        try:
            handle = await settled(aiofiles.open(target, "rb"))
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise StoredFileMissing(path) from exc
        try:
            return await handle.read()
        finally:
            await settled(handle.close())

    async def exists(self, path: str) -> bool:
        return self._resolve(path).is_file()

    def absolute(self, path: str) -> Path:
        """The absolute path of a stored file (this backend only; tests and tools);
        raises UnsafePath rather than leave the root."""
        return self._resolve(path)

    async def iter_paths(self) -> AsyncGenerator[str, None]:
        """Symlinks are never listed."""
        for path in await asyncio.to_thread(self._list_paths):
            yield path

    def _list_paths(self) -> list[str]:
        found: list[str] = []
        for area in Area:
            area_dir = self.root / area.value
            for dirpath, _dirnames, filenames in os.walk(area_dir):
                current = Path(dirpath)
                for filename in filenames:
                    candidate = current / filename
                    if candidate.is_file() and not candidate.is_symlink():
                        found.append(candidate.relative_to(self.root).as_posix())
        return sorted(found)

    # ------------------------------------------------------------------ housekeeping

    async def delete(self, path: str) -> None:
        target = self._resolve(path)
        await settled(asyncio.to_thread(_remove_quietly, target))

    async def tidy(self, paths: Sequence[str]) -> None:
        """Remove the directories that held ``paths`` if they are empty now (up to, not
        including, the root), and an empty temp directory."""
        await asyncio.to_thread(self._prune_empty_dirs, [self._resolve(p) for p in paths])

    def _prune_empty_dirs(self, files: list[Path]) -> None:
        for file in files:
            parent = file.parent
            while parent != self.root and self.root in parent.parents:
                try:
                    parent.rmdir()
                except OSError:
                    break
                parent = parent.parent
        with contextlib.suppress(OSError):
            self.temp_dir.rmdir()

    async def cleanup_temp(self, *, min_age: float = 0.0) -> int:
        """Remove leftover temp files (from a crash); return how many were removed.

        Temp files this instance is writing right now are kept. Files of *another* process
        writing into the same root cannot be told apart, so call this at start-up, before
        the bot accepts uploads, or with ``min_age`` (seconds since the file last changed)
        longer than any write takes.
        """
        try:
            names = await settled(asyncio.to_thread(os.listdir, self.temp_dir))
        except (FileNotFoundError, NotADirectoryError):
            return 0
        # Filter on the event loop, after listing: a save that starts now creates a name that
        # is not in the listing; a save that was active when listed is still in the set.
        leftovers = [self.temp_dir / name for name in names if name not in self._active_temp]
        if min_age > 0:
            leftovers = await settled(asyncio.to_thread(_older_than, leftovers, min_age))
        return await settled(asyncio.to_thread(_remove_all, leftovers))

    async def secure(self) -> None:
        """Make the root, the temp directory and both area trees ``0700`` (those that exist),
        so nobody but the bot's user can reach a document, even one stored before."""
        await settled(asyncio.to_thread(self._secure))

    def _secure(self) -> None:
        for directory in (self.root, self.temp_dir, *(self.root / a.value for a in Area)):
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                if directory.is_dir() and not directory.is_symlink():
                    directory.chmod(DIR_MODE)

    # ------------------------------------------------------------------ internals

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
                    await settled(asyncio.to_thread(_inspect_file, temp, inspect))
                changed_dirs = await settled(asyncio.to_thread(self._make_dirs, rel_dir))
                await settled(asyncio.to_thread(_rename_into, temp, final, committed))
                for directory in dict.fromkeys([final.parent, *changed_dirs]):
                    await settled(asyncio.to_thread(_fsync_dir, directory))
                await faults.reached("storage.written")
            except BaseException:
                # One worker call, so a second cancellation cannot split the cleanup.
                await settled(asyncio.to_thread(_remove_all, [temp, *committed]))
                raise
            finally:
                self._active_temp.discard(temp.name)
        except SourceFailed as failed:
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
            await settled(asyncio.to_thread(self._make_temp_dir))
            handle = await settled(aiofiles.open(temp, "xb", opener=_private_opener))
            try:
                while True:
                    try:
                        chunk = await anext(iterator)
                    except StopAsyncIteration:
                        break
                    except OSError as exc:  # the source's own failure, not the disk's
                        raise SourceFailed(exc) from exc
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
                                await settled(handle.write(piece))
                            finally:
                                # The executor may still reference the slice for a moment;
                                # releasing it frees the caller's buffer right now.
                                with contextlib.suppress(BufferError):
                                    piece.release()
                await handle.flush()
                await settled(asyncio.to_thread(os.fsync, handle.fileno()))
            finally:
                await settled(handle.close())
        finally:
            # Release the source early (e.g. an HTTP download) when stopping before its end.
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                await aclose()
        return size, hasher.hexdigest()

    async def probe(self) -> None:
        try:
            await asyncio.to_thread(self._probe)
        except OSError as exc:
            raise storage_error(exc) from exc

    def _probe(self) -> None:
        self._make_temp_dir()
        probe = self.temp_dir / f"probe-{uuid.uuid4().hex}{_TEMP_SUFFIX}"
        try:
            with open(probe, "xb", opener=_private_opener) as handle:
                handle.write(b"ppidbot")
        finally:
            _remove_quietly(probe)

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

    def _checked(self, path: str) -> list[str]:
        self._resolve(path)  # symlinks that leave the root are refused too
        return check_path(path)

    def _resolve(self, path: str) -> Path:
        """Validate a stored-file path and return it as an absolute path under the root."""
        parts = check_path(path)
        candidate = self.root.joinpath(*parts)
        try:
            inside = candidate.resolve().is_relative_to(self.root.resolve())
        except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
            raise UnsafePath(path, "it cannot be resolved") from exc
        if not inside:
            raise UnsafePath(path, "it resolves outside the storage root (symlink)")
        return candidate


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
