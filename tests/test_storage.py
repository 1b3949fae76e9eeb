"""Tests for the streamed, hashed, atomic document storage.

Tests of the storage's behaviour take ``store`` (or ``make``) and run on both backends: the
local directory and S3 (a real SeaweedFS server, ``tests/support/seaweedfs.py``). Tests of
how the local backend does it (fsync, rename, permissions, symlinks, aiofiles writes) take
``local`` and run on the local one only; the S3 backend's own are in ``test_storage_s3.py``.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import re
import signal
import stat
import sys
import threading
import time
import tracemalloc
import unicodedata
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from aiofiles.threadpool.binary import AsyncBufferedIOBase
from hypothesis import given
from hypothesis import strategies as st

import storage.base as base_module
from storage import (
    TEMP_DIR_NAME,
    Area,
    ChecksumMismatch,
    DocumentStorage,
    EmptyFile,
    FileTooLarge,
    LocalStorage,
    PathTaken,
    StorageError,
    StorageFull,
    StoredFile,
    StoredFileMissing,
    UnsafePath,
    WriteFailed,
    faults,
    sanitize_filename,
    slugify,
)
from tests.support.backends import Backend, LocalBackend, S3Backend, stored_paths
from tests.support.seaweedfs import unique_prefix

KB = 1024
MB = 1024 * KB
CHUNK = 64 * KB
PROJECT_ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------- helpers


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "root"


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, root: Path) -> Backend:
    if request.param == "local":
        return LocalBackend(root)
    return S3Backend(request.getfixturevalue("seaweedfs"), unique_prefix(request.node.name))


Maker = Callable[..., DocumentStorage]


@pytest.fixture
async def make(backend: Backend) -> AsyncIterator[Maker]:
    """Make a storage of the backend under test (closed afterwards)."""
    made: list[DocumentStorage] = []

    def factory(*, max_size: int = 10 * MB, chunk_size: int = CHUNK) -> DocumentStorage:
        made.append(backend.make(max_size=max_size, chunk_size=chunk_size))
        return made[-1]

    yield factory
    for storage in made:
        await storage.close()


@pytest.fixture
def store(make: Maker) -> DocumentStorage:
    return make()


@pytest.fixture
def local(root: Path) -> LocalStorage:
    """The local backend, for tests of how it works on a disk."""
    return LocalStorage(root, max_size=10 * MB, chunk_size=CHUNK)


@pytest.fixture
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    now = datetime(2026, 11, 5, 8, 30, tzinfo=UTC)
    monkeypatch.setattr(base_module, "_utcnow", lambda: now)
    return now


@pytest.fixture
def write_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the size of every write the storage makes through aiofiles."""
    sizes: list[int] = []
    original = AsyncBufferedIOBase.write

    async def spy(self: AsyncBufferedIOBase, data: Any) -> Any:
        sizes.append(memoryview(data).nbytes)
        return await original(self, data)

    monkeypatch.setattr(AsyncBufferedIOBase, "write", spy)
    return sizes


def all_files(root: Path) -> list[str]:
    """Every regular file under root (temp files included), relative, sorted."""
    if not root.exists():
        return []
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


async def assert_nothing_left(
    backend: Backend, store: DocumentStorage, *, except_paths: tuple[str, ...] = ()
) -> None:
    """Only ``except_paths`` are stored, nothing else is there, no write is unfinished."""
    assert await backend.raw_paths(store) == sorted(except_paths)
    assert await stored_paths(store) == sorted(except_paths)
    assert await backend.in_progress(store) == []


def assert_nothing_left_on_disk(store: LocalStorage, *, except_paths: tuple[str, ...] = ()) -> None:
    assert all_files(store.root) == sorted(except_paths)
    assert [p for p in store._list_paths()] == sorted(except_paths)
    temp_dir = store.root / TEMP_DIR_NAME
    assert not temp_dir.exists() or list(temp_dir.iterdir()) == []


class Source:
    """An async chunk source that records how far it was consumed and whether it was closed."""

    def __init__(
        self,
        count: int,
        size: int,
        *,
        fail_at: int | None = None,
        block_at: int | None = None,
    ) -> None:
        self.count = count
        self.size = size
        self.fail_at = fail_at
        self.block_at = block_at
        self.yielded = 0
        self.closed = False
        self.blocked = asyncio.Event()
        self.hasher = hashlib.sha256()

    def chunk(self, index: int) -> bytes:
        return (index.to_bytes(8, "big") * (self.size // 8 + 1))[: self.size]

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            for index in range(self.count):
                if index == self.fail_at:
                    raise RuntimeError("upload connection dropped")
                if index == self.block_at:
                    self.blocked.set()
                    await asyncio.Event().wait()  # never set: only cancellation gets out
                data = self.chunk(index)
                self.hasher.update(data)
                self.yielded += 1
                yield data
        finally:
            self.closed = True


async def collect(chunks: AsyncIterator[bytes]) -> list[bytes]:
    return [chunk async for chunk in chunks]


# ---------------------------------------------------------------------------- round trips


async def test_save_bytes_round_trip(store: DocumentStorage, fixed_now: datetime) -> None:
    data = b"%PDF-1.7\n" + bytes(range(256)) * 1000
    stored = await store.save_bytes(
        Area.DIVISION, "Keuangan, Umum dan Logistik", data, "Laporan Akhir.pdf"
    )

    assert isinstance(stored, StoredFile)
    assert stored.area is Area.DIVISION
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.original_name == "Laporan Akhir.pdf"
    assert stored.safe_name == "Laporan_Akhir.pdf"
    assert re.fullmatch(
        r"divisi/keuangan-umum-dan-logistik/2026/11/[0-9a-f]{12}-Laporan_Akhir\.pdf", stored.path
    ), stored.path

    assert await store.read_bytes(stored.path) == data
    assert b"".join(await collect(store.read_chunks(stored.path))) == data
    assert await store.digest(stored.path) == (len(data), hashlib.sha256(data).hexdigest())
    assert await store.exists(stored.path)
    assert await stored_paths(store) == [stored.path]


async def test_a_local_file_is_at_its_path_under_the_root(local: LocalStorage) -> None:
    stored = await local.save_bytes(Area.DIVISION, "umum", b"isi", "a.pdf")
    assert local.absolute(stored.path) == local.root / stored.path
    assert local.absolute(stored.path).read_bytes() == b"isi"
    assert local.location == str(local.root)


async def test_save_streamed_chunks_round_trip(store: DocumentStorage) -> None:
    source = Source(count=37, size=10_000)
    stored = await store.save(Area.PPID, "arsip", source, "rekap.xlsx")

    expected = b"".join(source.chunk(i) for i in range(37))
    assert stored.size == len(expected) == 370_000
    assert stored.sha256 == hashlib.sha256(expected).hexdigest() == source.hasher.hexdigest()
    assert await store.read_bytes(stored.path) == expected
    assert stored.path.startswith("ppid/arsip/")
    assert source.closed


async def test_year_month_level_uses_utc(
    store: DocumentStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 1 December 05:00 in Jakarta (UTC+7) is still 30 November in UTC.
    jakarta = timezone(timedelta(hours=7))
    monkeypatch.setattr(base_module, "_utcnow", lambda: datetime(2026, 12, 1, 5, 0, tzinfo=jakarta))
    stored = await store.save_bytes(Area.DIVISION, "teknis", b"x", "a.pdf")
    assert stored.path.split("/")[:4] == ["divisi", "teknis", "2026", "11"]


async def test_default_clock_is_current_utc_month(store: DocumentStorage) -> None:
    before = datetime.now(UTC)
    stored = await store.save_bytes(Area.DIVISION, "teknis", b"x", "a.pdf")
    after = datetime.now(UTC)
    year_month = tuple(stored.path.split("/")[2:4])
    assert year_month in {
        (f"{before.year:04d}", f"{before.month:02d}"),
        (f"{after.year:04d}", f"{after.month:02d}"),
    }


async def test_read_chunks_respects_chunk_size(make: Maker) -> None:
    store = make(chunk_size=1000)
    data = os.urandom(10_500)
    stored = await store.save_bytes(Area.DIVISION, "umum", data, "a.bin")
    chunks = await collect(store.read_chunks(stored.path))
    assert [len(c) for c in chunks] == [1000] * 10 + [500]
    assert b"".join(chunks) == data


# ---------------------------------------------------------------------------- streaming / memory


async def test_large_file_is_streamed_with_bounded_memory(
    root: Path, write_sizes: list[int]
) -> None:
    store = LocalStorage(root, max_size=100 * MB, chunk_size=CHUNK)
    total = 50 * MB
    source = Source(count=total // (16 * KB), size=16 * KB)  # 3200 small chunks, made lazily

    tracemalloc.start()
    try:
        stored = await store.save(Area.DIVISION, "umum", source, "besar.bin")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert stored.size == total
    assert stored.sha256 == source.hasher.hexdigest()
    assert len(write_sizes) == total // (16 * KB)
    assert max(write_sizes) <= CHUNK
    assert peak < 4 * MB, f"peak traced memory {peak} bytes for a {total} byte file"

    # Reading back is streamed too.
    tracemalloc.start()
    try:
        size, digest = await store.digest(stored.path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (size, digest) == (total, source.hasher.hexdigest())
    assert peak < 4 * MB, f"peak traced memory {peak} bytes while reading {total} bytes"


async def test_big_chunks_are_written_in_chunk_size_slices(
    root: Path, write_sizes: list[int]
) -> None:
    store = LocalStorage(root, max_size=10 * MB, chunk_size=CHUNK)
    data = os.urandom(CHUNK * 5 + 123)
    stored = await store.save_bytes(Area.DIVISION, "umum", data, "a.bin")
    assert write_sizes == [CHUNK] * 5 + [123]
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert await store.read_bytes(stored.path) == data


async def test_bytearray_source_may_reuse_its_buffer(store: DocumentStorage) -> None:
    buffer = bytearray()
    pieces = [b"a" * 1000, b"b" * 10, b"c" * 70_000]

    async def reusing() -> AsyncIterator[bytes]:
        for piece in pieces:
            buffer.clear()  # raises BufferError if the storage still holds a view on it
            buffer.extend(piece)
            yield buffer  # type: ignore[misc]

    stored = await store.save(Area.DIVISION, "umum", reusing(), "a.bin")
    assert await store.read_bytes(stored.path) == b"".join(pieces)


async def test_file_and_directory_are_fsynced(
    local: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    kinds: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        mode = os.fstat(fd).st_mode
        kinds.append("dir" if stat.S_ISDIR(mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    await local.save_bytes(Area.DIVISION, "umum", b"data", "a.pdf")
    assert kinds[0] == "file"
    assert kinds.count("file") == 1
    assert "dir" in kinds


# ---------------------------------------------------------------------------- limits


async def test_max_size_exceeded_mid_stream(make: Maker, backend: Backend) -> None:
    store = make(max_size=100_000)
    source = Source(count=1000, size=16 * KB)
    with pytest.raises(FileTooLarge) as caught:
        await store.save(Area.DIVISION, "umum", source, "besar.pdf")

    assert caught.value.limit == 100_000
    assert isinstance(caught.value, StorageError)
    assert "larger than" in caught.value.message
    # 7 * 16 KiB = 114688 is the first total over the limit: streaming stopped right there.
    assert source.yielded == 7
    assert source.closed
    await assert_nothing_left(backend, store)


async def test_max_size_exceeded_inside_one_big_chunk(root: Path, write_sizes: list[int]) -> None:
    store = LocalStorage(root, max_size=3 * CHUNK, chunk_size=CHUNK)
    with pytest.raises(FileTooLarge):
        await store.save_bytes(Area.DIVISION, "umum", b"x" * (100 * CHUNK), "a.bin")
    # Only the slices within the limit were written before stopping.
    assert write_sizes == [CHUNK] * 3
    assert_nothing_left_on_disk(store)


async def test_exactly_max_size_is_accepted(make: Maker) -> None:
    store = make(max_size=50_000)
    stored = await store.save_bytes(Area.DIVISION, "umum", b"y" * 50_000, "a.bin")
    assert stored.size == 50_000
    with pytest.raises(FileTooLarge):
        await store.save_bytes(Area.DIVISION, "umum", b"y" * 50_001, "a.bin")
    assert await stored_paths(store) == [stored.path]


@pytest.mark.parametrize("chunks", [[], [b""], [b"", b"", b""]])
async def test_empty_file_is_rejected(
    store: DocumentStorage, backend: Backend, chunks: list[bytes]
) -> None:
    async def source() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    with pytest.raises(EmptyFile) as caught:
        await store.save(Area.DIVISION, "umum", source(), "kosong.pdf")
    assert isinstance(caught.value, StorageError)
    assert caught.value.message == "The file is empty."
    await assert_nothing_left(backend, store)


# ---------------------------------------------------------------------------- failures


async def test_iterator_exception_mid_stream_leaves_nothing(
    store: DocumentStorage, backend: Backend
) -> None:
    source = Source(count=100, size=16 * KB, fail_at=5)
    with pytest.raises(RuntimeError, match="upload connection dropped"):
        await store.save(Area.DIVISION, "umum", source, "a.pdf")
    assert source.yielded == 5
    await assert_nothing_left(backend, store)


async def test_a_source_failing_after_parts_were_sent_leaves_nothing(
    make: Maker, backend: Backend
) -> None:
    """On S3 two parts are sent (an unfinished multipart upload), then it is aborted."""
    store = make(max_size=20 * MB)
    source = Source(count=1000, size=16 * KB, fail_at=700)  # 11 MiB before the failure
    with pytest.raises(RuntimeError, match="upload connection dropped"):
        await store.save(Area.DIVISION, "umum", source, "a.pdf")
    assert source.closed
    await assert_nothing_left(backend, store)


async def test_disk_full_leaves_nothing(
    local: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = AsyncBufferedIOBase.write
    calls = 0

    async def failing_write(self: AsyncBufferedIOBase, data: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return await original(self, data)

    monkeypatch.setattr(AsyncBufferedIOBase, "write", failing_write)
    source = Source(count=100, size=16 * KB)
    with pytest.raises(StorageFull) as caught:
        await local.save(Area.DIVISION, "umum", source, "a.pdf")
    assert caught.value.errno == errno.ENOSPC
    assert isinstance(caught.value, StorageError)
    assert calls == 3
    assert source.closed
    assert_nothing_left_on_disk(local)


async def test_fsync_failure_leaves_nothing(
    local: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(WriteFailed) as caught:
        await local.save_bytes(Area.DIVISION, "umum", b"data", "a.pdf")
    assert caught.value.errno == errno.EIO
    assert_nothing_left_on_disk(local)


async def test_rename_failure_leaves_nothing(
    local: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_replace(src: Any, dst: Any) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(WriteFailed) as caught:
        await local.save_bytes(Area.DIVISION, "umum", b"data", "a.pdf")
    assert caught.value.errno == errno.EXDEV
    assert_nothing_left_on_disk(local)


async def test_cancellation_mid_stream_leaves_nothing(local: LocalStorage) -> None:
    source = Source(count=100, size=16 * KB, block_at=10)
    task = asyncio.create_task(local.save(Area.DIVISION, "umum", source, "a.pdf"))
    await asyncio.wait_for(source.blocked.wait(), timeout=10)
    # The temp file with the first ten chunks is there while streaming ...
    temp_files = list((local.root / TEMP_DIR_NAME).iterdir())
    assert len(temp_files) == 1
    assert temp_files[0].name.endswith(".part")

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # ... and gone after the cancellation.
    assert source.yielded == 10
    assert source.closed
    assert_nothing_left_on_disk(local)


async def test_cancellation_of_a_write_in_progress_leaves_nothing(
    store: DocumentStorage, backend: Backend
) -> None:
    """A temp file on a disk, an unfinished multipart upload on S3 (6.4 MB were sent)."""
    source = Source(count=1000, size=16 * KB, block_at=400)
    task = asyncio.create_task(store.save(Area.DIVISION, "umum", source, "a.pdf"))
    await asyncio.wait_for(source.blocked.wait(), timeout=30)
    assert len(await backend.in_progress(store)) == 1
    assert await stored_paths(store) == []

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert source.closed
    await assert_nothing_left(backend, store)


async def test_timeout_mid_stream_leaves_nothing(store: DocumentStorage, backend: Backend) -> None:
    source = Source(count=100, size=16 * KB, block_at=3)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await store.save(Area.DIVISION, "umum", source, "a.pdf")
    await assert_nothing_left(backend, store)


async def test_cancellation_during_rename_leaves_nothing(
    local: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rename runs in a worker thread that cannot be interrupted: wait for it, then undo."""
    entered = threading.Event()
    real_replace = os.replace

    def slow_replace(src: Any, dst: Any) -> None:
        real_replace(src, dst)
        entered.set()
        time.sleep(0.3)  # the rename happened, the worker is still busy

    monkeypatch.setattr(os, "replace", slow_replace)
    task = asyncio.create_task(local.save_bytes(Area.DIVISION, "umum", b"data" * 100, "a.pdf"))
    assert await asyncio.to_thread(entered.wait, 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert_nothing_left_on_disk(local)


async def test_concurrent_saves_do_not_collide(store: DocumentStorage, backend: Backend) -> None:
    results = await asyncio.gather(
        *(
            store.save_bytes(Area.DIVISION, "umum", f"isi {i}".encode(), "sama.pdf")
            for i in range(25)
        )
    )
    paths = [r.path for r in results]
    assert len(set(paths)) == 25
    assert sorted(paths) == await stored_paths(store)
    for i, result in enumerate(results):
        assert await store.read_bytes(result.path) == f"isi {i}".encode()
    await assert_nothing_left(backend, store, except_paths=tuple(paths))


# ---------------------------------------------------------------------------- crash recovery


async def test_leftover_temp_file_is_cleaned_and_never_listed(local: LocalStorage) -> None:
    kept = await local.save_bytes(Area.DIVISION, "umum", b"ok", "a.pdf")
    leftover = local.root / TEMP_DIR_NAME / "0123456789abcdef.part"
    leftover.write_bytes(b"half a file")

    assert await stored_paths(local) == [kept.path]
    assert await local.cleanup_temp() == 1
    assert not leftover.exists()
    assert await local.cleanup_temp() == 0
    assert all_files(local.root) == [kept.path]


async def test_cleanup_temp_when_nothing_was_written(store: DocumentStorage) -> None:
    assert await store.cleanup_temp() == 0
    assert await stored_paths(store) == []


async def test_the_health_probe_writes_and_leaves_nothing(
    store: DocumentStorage, backend: Backend
) -> None:
    await store.probe()
    await store.probe()
    assert await stored_paths(store) == []
    assert [p for p in await backend.raw_paths(store) if "probe" in p] == []
    assert await backend.in_progress(store) == []


KILLED_WRITER = """
import asyncio, os, signal, sys
from storage import Area, S3Options, open_storage
from storage.s3 import MIN_PART_SIZE
async def chunks():
    for i in range(1000):
        if i == int(sys.argv[2]):
            os.kill(os.getpid(), signal.SIGKILL)
        yield bytes([i % 256]) * 16384
options = S3Options(*sys.argv[3:7]) if len(sys.argv) > 3 else None
store = open_storage(sys.argv[1], max_size=10**8, s3=options)
if hasattr(store, "part_size"):
    store.part_size = MIN_PART_SIZE
asyncio.run(store.save(Area.DIVISION, 'umum', chunks(), 'a.pdf'))
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
async def test_killed_process_leaves_only_a_write_in_progress(
    store: DocumentStorage, backend: Backend
) -> None:
    """Killed after 6.4 MB: a temp file on a disk, an unfinished multipart upload on S3;
    nothing stored; cleanup_temp removes it."""
    args = [store.location, "400"]
    if isinstance(backend, S3Backend):
        options = backend.server.options
        args = [
            backend.server.url(backend.prefix),
            "400",
            str(options.endpoint_url),
            str(options.access_key_id),
            str(options.secret_access_key),
            str(options.region),
        ]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", KILLED_WRITER, *args, cwd=PROJECT_ROOT
    )
    assert await asyncio.wait_for(process.wait(), timeout=60) == -signal.SIGKILL

    assert len(await backend.in_progress(store)) == 1
    assert await stored_paths(store) == []
    assert await store.cleanup_temp() == 1
    await assert_nothing_left(backend, store)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
async def test_killed_process_leaves_a_nonempty_temp_file(local: LocalStorage) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", KILLED_WRITER, str(local.root), "20", cwd=PROJECT_ROOT
    )
    assert await asyncio.wait_for(process.wait(), timeout=60) == -signal.SIGKILL

    leftovers = all_files(local.root)
    assert len(leftovers) == 1
    assert re.fullmatch(r"\.tmp/[0-9a-f]{32}\.part", leftovers[0])
    assert (local.root / leftovers[0]).stat().st_size > 0


async def test_cleanup_temp_keeps_writes_in_progress(
    store: DocumentStorage, backend: Backend
) -> None:
    source = Source(count=1000, size=16 * KB, block_at=400)
    task = asyncio.create_task(store.save(Area.DIVISION, "umum", source, "a.pdf"))
    await asyncio.wait_for(source.blocked.wait(), timeout=30)
    active = await backend.in_progress(store)
    assert len(active) == 1

    assert await store.cleanup_temp() == 0
    assert await backend.in_progress(store) == active  # the active one survived

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await assert_nothing_left(backend, store)


async def test_cleanup_temp_removes_stale_temp_files_beside_an_active_one(
    local: LocalStorage,
) -> None:
    source = Source(count=20, size=16 * KB, block_at=5)
    task = asyncio.create_task(local.save(Area.DIVISION, "umum", source, "a.pdf"))
    await asyncio.wait_for(source.blocked.wait(), timeout=10)
    stale = local.root / TEMP_DIR_NAME / "stale.part"
    stale.write_bytes(b"old")

    assert await local.cleanup_temp() == 1
    assert not stale.exists()
    assert len(list((local.root / TEMP_DIR_NAME).iterdir())) == 1  # the active one survived

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert_nothing_left_on_disk(local)


# ---------------------------------------------------------------------------- trees and copies


async def test_areas_are_separate_trees(store: DocumentStorage) -> None:
    division = await store.save_bytes(Area.DIVISION, "hukum", b"div", "a.pdf")
    ppid = await store.save_bytes(Area.PPID, "hukum", b"ppid", "a.pdf")

    assert division.path.startswith("divisi/hukum/")
    assert ppid.path.startswith("ppid/hukum/")
    assert await stored_paths(store) == sorted([division.path, ppid.path])
    assert [p for p in await stored_paths(store) if p.startswith("ppid/")] == [ppid.path]
    assert Area("divisi") is Area.DIVISION
    assert Area.PPID == "ppid"


async def test_areas_are_directories_on_a_disk(local: LocalStorage) -> None:
    await local.save_bytes(Area.DIVISION, "hukum", b"div", "a.pdf")
    await local.save_bytes(Area.PPID, "hukum", b"ppid", "a.pdf")
    assert (local.root / "divisi" / "hukum").is_dir()
    assert (local.root / "ppid" / "hukum").is_dir()


async def test_identical_saves_get_different_paths(store: DocumentStorage) -> None:
    first = await store.save_bytes(Area.DIVISION, "umum", b"same content", "same.pdf")
    second = await store.save_bytes(Area.DIVISION, "umum", b"same content", "same.pdf")

    assert first.path != second.path
    assert first.sha256 == second.sha256 == hashlib.sha256(b"same content").hexdigest()
    assert first.safe_name == second.safe_name == "same.pdf"
    # The caller drops the duplicate; the first one is untouched.
    await store.delete(second.path)
    assert not await store.exists(second.path)
    assert await store.read_bytes(first.path) == b"same content"
    assert await stored_paths(store) == [first.path]


async def test_copy_to_ppid_verifies_checksum(store: DocumentStorage) -> None:
    data = os.urandom(300_000)
    source = await store.save_bytes(Area.DIVISION, "keuangan", data, "Daftar Informasi.pdf")

    copied = await store.copy(
        source.path, Area.PPID, "dikecualikan", expected_sha256=source.sha256.upper()
    )

    assert copied.area is Area.PPID
    assert copied.path.startswith("ppid/dikecualikan/")
    assert copied.path != source.path
    assert copied.sha256 == source.sha256 == hashlib.sha256(data).hexdigest()
    assert copied.size == len(data)
    assert copied.safe_name == "Daftar_Informasi.pdf"
    assert copied.path.endswith("-Daftar_Informasi.pdf")
    assert await store.read_bytes(copied.path) == data
    assert await store.read_bytes(source.path) == data  # the source is kept
    assert await stored_paths(store) == sorted([source.path, copied.path])


async def test_copy_with_wrong_hash_leaves_nothing_in_target(
    store: DocumentStorage, backend: Backend
) -> None:
    source = await store.save_bytes(Area.DIVISION, "keuangan", b"original", "a.pdf")
    wrong = hashlib.sha256(b"something else").hexdigest()

    with pytest.raises(ChecksumMismatch) as caught:
        await store.copy(source.path, Area.PPID, "dikecualikan", expected_sha256=wrong)

    assert caught.value.expected == wrong
    assert caught.value.actual == source.sha256
    await assert_nothing_left(backend, store, except_paths=(source.path,))


async def test_a_copy_with_a_wrong_hash_makes_no_directory(local: LocalStorage) -> None:
    source = await local.save_bytes(Area.DIVISION, "keuangan", b"original", "a.pdf")
    with pytest.raises(ChecksumMismatch):
        await local.copy(source.path, Area.PPID, "x", expected_sha256="0" * 64)
    assert not (local.root / "ppid").exists()


async def test_copy_verification_after_rename_failure_removes_copy(
    store: DocumentStorage, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = await store.save_bytes(Area.DIVISION, "keuangan", b"original", "a.pdf")

    async def corrupted_digest(self: DocumentStorage, path: str) -> tuple[int, str]:
        return 8, "0" * 64

    monkeypatch.setattr(DocumentStorage, "digest", corrupted_digest)
    with pytest.raises(ChecksumMismatch) as caught:
        await store.copy(source.path, Area.PPID, "x", expected_sha256=source.sha256)
    assert caught.value.actual == "0" * 64
    await assert_nothing_left(backend, store, except_paths=(source.path,))


async def test_copy_missing_source(store: DocumentStorage, backend: Backend) -> None:
    with pytest.raises(StoredFileMissing) as caught:
        await store.copy(
            "divisi/umum/2026/11/000000000000-gone.pdf",
            Area.PPID,
            "x",
            expected_sha256="0" * 64,
        )
    assert caught.value.path == "divisi/umum/2026/11/000000000000-gone.pdf"
    await assert_nothing_left(backend, store)


async def test_copy_rejects_malformed_expected_hash(
    store: DocumentStorage, backend: Backend
) -> None:
    source = await store.save_bytes(Area.DIVISION, "umum", b"x", "a.pdf")
    with pytest.raises(ValueError):
        await store.copy(source.path, Area.PPID, "x", expected_sha256="not-a-hash")
    await assert_nothing_left(backend, store, except_paths=(source.path,))


async def test_place_writes_an_exact_path_proven_by_checksum(
    store: DocumentStorage, backend: Backend
) -> None:
    """What export, import, backup and restore use: the path and the checksum are given."""
    path = "ppid/umum/2026/11/0123456789ab-Nota_Dinas.pdf"
    data = os.urandom(200_000)
    wrong = hashlib.sha256(b"other").hexdigest()
    with pytest.raises(ChecksumMismatch):
        await store.place(path, collect_source(data), expected_sha256=wrong)
    await assert_nothing_left(backend, store)

    placed = await store.place(
        path, collect_source(data), expected_sha256=hashlib.sha256(data).hexdigest()
    )
    assert (placed.path, placed.area, placed.size) == (path, Area.PPID, len(data))
    assert placed.safe_name == "Nota_Dinas.pdf"
    assert await store.read_bytes(path) == data
    with pytest.raises(PathTaken):
        await store.place(path, collect_source(b"lain"))
    assert await store.read_bytes(path) == data


# ---------------------------------------------------------------------------- reading / deleting


async def test_missing_file_errors(store: DocumentStorage) -> None:
    missing = "divisi/umum/2026/11/000000000000-gone.pdf"
    with pytest.raises(StoredFileMissing) as caught:
        await collect(store.read_chunks(missing))
    assert caught.value.path == missing
    assert missing in caught.value.message
    with pytest.raises(StoredFileMissing):
        await store.read_bytes(missing)
    with pytest.raises(StoredFileMissing):
        await store.digest(missing)
    assert await store.exists(missing) is False


async def test_directory_is_not_a_stored_file(store: DocumentStorage) -> None:
    await store.save_bytes(Area.DIVISION, "umum", b"x", "a.pdf")
    assert await store.exists("divisi/umum") is False
    with pytest.raises(StoredFileMissing):
        await store.read_bytes("divisi/umum")


async def test_delete_is_idempotent(store: DocumentStorage, backend: Backend) -> None:
    stored = await store.save_bytes(Area.DIVISION, "umum", b"x", "a.pdf")
    await store.delete(stored.path)
    assert not await store.exists(stored.path)
    await store.delete(stored.path)  # missing is fine
    await store.delete("ppid/never/2026/01/000000000000-x.pdf")
    await assert_nothing_left(backend, store)


async def test_iter_paths_is_sorted_and_skips_what_is_not_stored(
    store: DocumentStorage, backend: Backend
) -> None:
    saved = [
        await store.save_bytes(Area.PPID, "b", b"1", "z.pdf"),
        await store.save_bytes(Area.DIVISION, "b", b"2", "y.pdf"),
        await store.save_bytes(Area.DIVISION, "a", b"3", "x.pdf"),
        await store.save_bytes(Area.DIVISION, "a-b", b"4", "w.pdf"),
    ]
    await backend.put_raw(store, ".tmp/abc.part", b"partial")
    await backend.put_raw(store, "unrelated.txt", b"not a stored file")
    listed = await stored_paths(store)
    assert listed == sorted(s.path for s in saved)
    assert listed[0].startswith("divisi/a-b/")  # byte order: "a-b/" before "a/"


# ---------------------------------------------------------------------------- unsafe paths

UNSAFE_PATHS = [
    "",
    "../etc/passwd",
    "divisi/../../etc/passwd",
    "divisi/umum/../../../x",
    "/etc/passwd",
    "C:/Windows/win.ini",
    "divisi\\..\\..\\win.ini",
    "divisi/a\x00b.pdf",
    "divisi//x.pdf",
    "divisi/./x.pdf",
    "divisi/x.pdf/",
    ".tmp/0123.part",
    "other/x.pdf",
    "..",
]


@pytest.mark.parametrize("path", UNSAFE_PATHS)
async def test_unsafe_paths_are_rejected(store: DocumentStorage, path: str) -> None:
    with pytest.raises(UnsafePath) as caught:
        await store.read_bytes(path)
    assert isinstance(caught.value, StorageError)
    assert caught.value.path == path
    with pytest.raises(UnsafePath):
        await collect(store.read_chunks(path))
    with pytest.raises(UnsafePath):
        await store.delete(path)
    with pytest.raises(UnsafePath):
        await store.digest(path)
    with pytest.raises(UnsafePath):
        await store.exists(path)
    with pytest.raises(UnsafePath):
        await store.copy(path, Area.PPID, "x", expected_sha256="0" * 64)
    with pytest.raises(UnsafePath):
        await store.place(path, collect_source(b"x"))


@pytest.mark.parametrize("path", UNSAFE_PATHS)
def test_unsafe_paths_have_no_local_absolute_path(local: LocalStorage, path: str) -> None:
    with pytest.raises(UnsafePath):
        local.absolute(path)


async def test_symlink_escaping_the_root_is_rejected(local: LocalStorage, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    (local.root / "divisi").mkdir(parents=True)
    (local.root / "divisi" / "link").symlink_to(outside, target_is_directory=True)
    (local.root / "divisi" / "evil.pdf").symlink_to(outside / "secret.txt")

    with pytest.raises(UnsafePath):
        local.absolute("divisi/link/secret.txt")
    with pytest.raises(UnsafePath):
        await local.read_bytes("divisi/evil.pdf")
    with pytest.raises(UnsafePath):
        await local.delete("divisi/evil.pdf")
    assert (outside / "secret.txt").read_text() == "secret"
    assert await stored_paths(local) == []


@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        ("../../etc", "etc"),
        ("/abs/olut", "abs-olut"),
        ("..", "lainnya"),
        ("", "lainnya"),
        ("a\x00b", "a-b"),
        ("Keuangan, Umum dan Logistik", "keuangan-umum-dan-logistik"),
    ],
)
async def test_folder_cannot_escape(
    store: DocumentStorage, fixed_now: datetime, folder: str, expected: str
) -> None:
    stored = await store.save_bytes(Area.DIVISION, folder, b"x", "a.pdf")
    assert stored.path.split("/")[:4] == ["divisi", expected, "2026", "11"]
    assert await stored_paths(store) == [stored.path]


def test_constructor_validates_limits(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        LocalStorage(tmp_path, max_size=0)
    with pytest.raises(ValueError):
        LocalStorage(tmp_path, max_size=10, chunk_size=0)
    assert LocalStorage(tmp_path, max_size=10).chunk_size == 64 * KB
    with pytest.raises(TypeError):
        DocumentStorage(max_size=10)  # type: ignore[abstract]


# ---------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\win.ini", "win.ini"),
        ("/abs/x.pdf", "x.pdf"),
        ("C:\\Users\\kpu\\laporan.pdf", "laporan.pdf"),
        ("C:laporan.pdf", "laporan.pdf"),
        ("a\x00b.pdf", "ab.pdf"),
        ("a" * 300 + ".pdf", "a" * 116 + ".pdf"),
        # 100 x "é" given decomposed (e + U+0301): NFC makes 2-byte characters, 58 fit.
        ("e\u0301" * 100 + ".pdf", "\u00e9" * 58 + ".pdf"),
        ("数据" * 100 + ".pdf", "数据" * 19 + ".pdf"),
        (b"\xff\xfelaporan.pdf", "laporan.pdf"),
        (b"data \xe9t\xe9.pdf", "data_t.pdf"),
        ("", "berkas"),
        (".", "berkas"),
        ("..", "berkas"),
        ("...", "berkas"),
        ("CON<>:|?*.docx", "CON_.docx"),
        (" .hidden. ", "hidden"),
        ("Laporan Keuangan (final).pdf", "Laporan_Keuangan_final.pdf"),
        ("Surat Keputusan  No. 12/2024.pdf", "2024.pdf"),
        ("berita\tacara\n.pdf", "berita_acara.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("-rf --no-preserve-root.sh", "rf_--no-preserve-root.sh"),
        ("nul", "nul_"),
        ("lpt1.tar.gz", "lpt1_.tar.gz"),
        ("Rekap – Pemilu 2024.xlsx", "Rekap_Pemilu_2024.xlsx"),
        ("x" * 150 + ".averyveryverylongextension", "x" * 120),
    ],
)
def test_sanitize_filename_table(name: str | bytes, expected: str) -> None:
    assert sanitize_filename(name) == expected


def test_sanitize_filename_multibyte_cut_never_breaks_a_character() -> None:
    name = "𝒜" * 40 + ".pdf"  # 4-byte letters
    for max_bytes in range(24, 130):
        result = sanitize_filename(name, max_bytes=max_bytes)
        encoded = result.encode("utf-8")
        assert len(encoded) <= max_bytes
        assert result.endswith(".pdf")
        assert set(result[:-4]) == {"𝒜"}


def test_sanitize_filename_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        sanitize_filename("a.pdf", max_bytes=5)
    with pytest.raises(TypeError):
        sanitize_filename(123)  # type: ignore[arg-type]


def _assert_safe_name(result: str, max_bytes: int) -> None:
    assert result
    assert result not in {".", ".."}
    assert len(result.encode("utf-8")) <= max_bytes
    assert unicodedata.normalize("NFC", result) == result
    assert not result.startswith((".", "-", "_"))
    assert not result.endswith((".", " "))
    for ch in result:
        assert ch in "-_." or unicodedata.category(ch)[0] in "LNM", repr(ch)
    assert not any(ch in result for ch in '<>:"/\\|?*\x00 ')


@given(st.one_of(st.text(max_size=400), st.binary(max_size=400)), st.integers(24, 255))
def test_sanitize_filename_properties(name: str | bytes, max_bytes: int) -> None:
    result = sanitize_filename(name, max_bytes=max_bytes)
    _assert_safe_name(result, max_bytes)
    assert sanitize_filename(result, max_bytes=max_bytes) == result


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Keuangan, Umum dan Logistik", "keuangan-umum-dan-logistik"),
        (
            "Teknis Penyelenggaraan Pemilu & Partisipasi",
            "teknis-penyelenggaraan-pemilu-partisipasi",
        ),
        ("Hukum & SDM", "hukum-sdm"),
        ("  Perencanaan, Data dan Informasi  ", "perencanaan-data-dan-informasi"),
        ("Sekretariat Ümum", "sekretariat-umum"),
        ("../../etc", "etc"),
        ("", "lainnya"),
        ("!!!", "lainnya"),
        ("Straße", "strasse"),
        ("a" * 100, "a" * 60),
        ("a" * 59 + " b", "a" * 59),
        ("keuangan-umum-dan-logistik", "keuangan-umum-dan-logistik"),
    ],
)
def test_slugify_table(text: str, expected: str) -> None:
    assert slugify(text) == expected


@given(st.text(max_size=200))
def test_slugify_properties(text: str) -> None:
    slug = slugify(text)
    assert 1 <= len(slug) <= 60
    assert not slug.startswith("-")
    assert not slug.endswith("-")
    assert "--" not in slug
    assert all(ch == "-" or ch.isalnum() for ch in slug)
    assert slugify(slug) == slug


def test_slugify_respects_max_len() -> None:
    assert slugify("Keuangan, Umum dan Logistik", max_len=12) == "keuangan-umu"
    assert slugify("Keuangan, Umum dan Logistik", max_len=9) == "keuangan"


def test_error_messages_are_plain_english() -> None:
    assert FileTooLarge(20 * MB).message == "The file is larger than the allowed maximum of 20 MB."
    mismatch = ChecksumMismatch("a" * 64, "b" * 64)
    assert (mismatch.expected, mismatch.actual) == ("a" * 64, "b" * 64)
    assert "does not match" in mismatch.message
    assert str(StoredFileMissing("divisi/x")) == "The stored file 'divisi/x' does not exist."


def test_public_api() -> None:
    import storage

    expected: set[str] = {
        "Area",
        "StoredFile",
        "StorageError",
        "FileTooLarge",
        "ChecksumMismatch",
        "StoredFileMissing",
        "UnsafePath",
        "EmptyFile",
        "sanitize_filename",
        "slugify",
        "DocumentStorage",
        "LocalStorage",
        "open_storage",
    }
    assert expected <= set(storage.__all__)
    for name in expected:
        assert hasattr(storage, name)


# ---------------------------------------------------------------------------- planned paths,
# permissions, full disks and inspection


async def test_a_planned_file_lands_exactly_at_its_path(store: DocumentStorage) -> None:
    planned = store.plan(Area.DIVISION, "Hukum dan SDM", "Nota Dinas.pdf")
    assert re.fullmatch(
        r"divisi/hukum-dan-sdm/\d{4}/\d{2}/[0-9a-f]{12}-Nota_Dinas\.pdf", planned.path
    )
    assert not await store.exists(planned.path)  # planning writes nothing
    stored = await store.write(planned, collect_source(b"isi"))
    assert stored.path == planned.path and stored.original_name == "Nota Dinas.pdf"
    assert await store.read_bytes(planned.path) == b"isi"


@pytest.mark.parametrize("size", [5, 12 * MB], ids=["one part", "multipart"])
async def test_a_planned_path_that_exists_is_never_overwritten(
    make: Maker, backend: Backend, size: int
) -> None:
    store = make(max_size=20 * MB)
    planned = store.plan(Area.DIVISION, "umum", "a.pdf")
    await store.write(planned, collect_source(b"first"))
    with pytest.raises(PathTaken):
        await store.write(planned, collect_source(b"s" * size))
    assert await store.read_bytes(planned.path) == b"first"
    await assert_nothing_left(backend, store, except_paths=(planned.path,))


async def test_files_and_directories_are_private(local: LocalStorage) -> None:
    stored = await local.save_bytes(Area.DIVISION, "umum", b"rahasia", "a.pdf")
    copy = await local.copy(
        stored.path, Area.PPID, "umum", expected_sha256=hashlib.sha256(b"rahasia").hexdigest()
    )
    for path in (stored.path, copy.path):
        assert stat.S_IMODE(local.absolute(path).stat().st_mode) == 0o600
        directory = local.absolute(path).parent
        while directory != local.root.parent:
            assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
            directory = directory.parent
    assert stat.S_IMODE(local.temp_dir.stat().st_mode) == 0o700


async def test_secure_tightens_directories_made_before(root: Path) -> None:
    (root / "divisi" / "umum").mkdir(parents=True, mode=0o755)
    os.chmod(root, 0o755)
    os.chmod(root / "divisi", 0o755)
    store = LocalStorage(root, max_size=MB)
    await store.secure()
    assert stat.S_IMODE(os.stat(root).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(root / "divisi").st_mode) == 0o700


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
async def test_a_full_disk_or_quota_at_any_point_is_storage_full(
    store: DocumentStorage, backend: Backend, code: int
) -> None:
    action = "enospc" if code == errno.ENOSPC else "edquot"
    for point in ("storage.chunk", "storage.written"):
        faults.arm(point, action)
        try:
            with pytest.raises(StorageFull) as caught:
                await store.save_bytes(Area.DIVISION, "umum", b"data" * 1000, "a.pdf")
        finally:
            faults.disarm()
        assert caught.value.errno == code
        await assert_nothing_left(backend, store)


async def test_a_full_disk_while_copying_keeps_only_the_source(
    store: DocumentStorage, backend: Backend
) -> None:
    source = await store.save_bytes(Area.DIVISION, "umum", b"data", "a.pdf")
    for point in ("storage.chunk", "storage.written"):
        faults.arm(point, "enospc")
        try:
            with pytest.raises(StorageFull):
                await store.copy(
                    source.path,
                    Area.PPID,
                    "umum",
                    expected_sha256=hashlib.sha256(b"data").hexdigest(),
                )
        finally:
            faults.disarm()
        await assert_nothing_left(backend, store, except_paths=(source.path,))


@pytest.mark.parametrize("size", [3, 11 * MB], ids=["one part", "multipart"])
async def test_an_inspector_refusal_keeps_nothing(make: Maker, backend: Backend, size: int) -> None:
    store = make(max_size=20 * MB)
    data = os.urandom(size)
    seen: list[bytes] = []

    def refuse(handle: Any) -> None:
        handle.seek(-3, os.SEEK_END)  # inspectors seek (a zip's directory is at its end)
        tail = handle.read()
        handle.seek(0)
        seen.append(handle.read())
        assert tail == data[-3:]
        raise ValueError("not what it claims to be")

    with pytest.raises(ValueError, match="not what it claims"):
        await store.save(Area.DIVISION, "umum", collect_source(data), "a.pdf", inspect=refuse)
    assert seen == [data]  # the inspector saw the whole written file
    await assert_nothing_left(backend, store)


@pytest.mark.parametrize("size", [3, 11 * MB], ids=["one part", "multipart"])
async def test_an_inspector_that_accepts_keeps_the_file(make: Maker, size: int) -> None:
    store = make(max_size=20 * MB)
    data = os.urandom(size)
    seen: list[int] = []
    stored = await store.save(
        Area.DIVISION,
        "umum",
        collect_source(data),
        "a.pdf",
        inspect=lambda handle: seen.append(len(handle.read())),
    )
    assert seen == [size]
    assert await store.digest(stored.path) == (size, hashlib.sha256(data).hexdigest())


async def test_cleanup_temp_with_a_minimum_age_keeps_fresh_files(local: LocalStorage) -> None:
    local.temp_dir.mkdir(parents=True)
    old, fresh = local.temp_dir / "old.part", local.temp_dir / "fresh.part"
    old.write_bytes(b"old")
    fresh.write_bytes(b"fresh")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    assert await local.cleanup_temp(min_age=600) == 1
    assert not old.exists() and fresh.exists()


def test_unknown_fault_actions_are_refused() -> None:
    faults.arm("x", "explode")
    try:
        with pytest.raises(ValueError, match="unknown fault action"):
            asyncio.run(faults.reached("x"))
    finally:
        faults.disarm()
    asyncio.run(faults.reached("x"))  # disarmed: nothing happens


async def collect_source(data: bytes) -> AsyncIterator[bytes]:
    yield data
