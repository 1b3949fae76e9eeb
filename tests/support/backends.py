"""The storage backends side by side, for tests that run on both.

A :class:`Backend` makes a storage of its kind and reaches under it: what is really there
(files and temp files on disk, objects and unfinished multipart uploads in the bucket), and
bytes put or removed behind the storage's back (damage for ``ppidbot check`` to find).
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from storage import DocumentStorage, LocalStorage
from storage.local import TEMP_DIR_NAME
from storage.s3 import MIN_PART_SIZE, S3Storage
from tests.support.seaweedfs import SeaweedServer, unique_prefix

__all__ = ["BACKENDS", "Backend", "LocalBackend", "S3Backend", "backend_for", "stored_paths"]

#: The parameter values of a test that runs on each backend.
BACKENDS = ["local", "s3"]


async def stored_paths(storage: DocumentStorage) -> list[str]:
    return [path async for path in storage.iter_paths()]


def backend_for(name: str, request: pytest.FixtureRequest, root: Path) -> Backend:
    """The backend ``name`` for a test: a directory at ``root``, or a new prefix of the
    session's SeaweedFS server (its fixture skips the test, saying why, without one)."""
    if name == "local":
        return LocalBackend(root)
    server = request.getfixturevalue("seaweedfs")
    return S3Backend(server, unique_prefix(request.node.name))


class Backend(ABC):
    name: str

    @abstractmethod
    def make(self, *, max_size: int, chunk_size: int = 64 * 1024) -> DocumentStorage: ...

    @abstractmethod
    async def raw_paths(self, storage: Any) -> list[str]:
        """Everything under the storage (temp files included), relative, sorted."""

    @abstractmethod
    async def in_progress(self, storage: Any) -> list[str]:
        """Writes not finished: temp files, unfinished multipart uploads."""

    @abstractmethod
    async def put_raw(self, storage: Any, path: str, data: bytes) -> None:
        """Put ``data`` at ``path`` behind the storage's back (overwriting)."""

    @abstractmethod
    async def remove_raw(self, storage: Any, path: str) -> None: ...


@dataclass
class LocalBackend(Backend):
    root: Path
    name: str = "local"

    def make(self, *, max_size: int, chunk_size: int = 64 * 1024) -> LocalStorage:
        return LocalStorage(self.root, max_size=max_size, chunk_size=chunk_size)

    async def raw_paths(self, storage: LocalStorage) -> list[str]:
        root = storage.root
        if not root.exists():
            return []
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())

    async def in_progress(self, storage: LocalStorage) -> list[str]:
        temp = storage.root / TEMP_DIR_NAME
        return sorted(p.name for p in temp.iterdir()) if temp.is_dir() else []

    async def put_raw(self, storage: LocalStorage, path: str, data: bytes) -> None:
        target = storage.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(target.write_bytes, data)

    async def remove_raw(self, storage: LocalStorage, path: str) -> None:
        (storage.root / path).unlink()


@dataclass
class S3Backend(Backend):
    server: SeaweedServer
    prefix: str
    name: str = "s3"

    def make(self, *, max_size: int, chunk_size: int = 64 * 1024) -> S3Storage:
        options = self.server.options
        return S3Storage(
            self.server.bucket,
            self.prefix,
            max_size=max_size,
            chunk_size=chunk_size,
            part_size=MIN_PART_SIZE,
            endpoint_url=options.endpoint_url,
            access_key_id=options.access_key_id,
            secret_access_key=options.secret_access_key,
            region=options.region,
        )

    async def raw_paths(self, storage: S3Storage) -> list[str]:
        client = await storage._client()
        found: list[str] = []
        paginator = client.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=storage.bucket, Prefix=storage.prefix):
            found.extend(item["Key"][len(storage.prefix) :] for item in page.get("Contents", []))
        return sorted(found)

    async def in_progress(self, storage: S3Storage) -> list[str]:
        return await storage.unfinished_uploads()

    async def put_raw(self, storage: S3Storage, path: str, data: bytes) -> None:
        client = await storage._client()
        await client.put_object(Bucket=storage.bucket, Key=storage.prefix + path, Body=data)

    async def remove_raw(self, storage: S3Storage, path: str) -> None:
        client = await storage._client()
        await client.delete_object(Bucket=storage.bucket, Key=storage.prefix + path)
