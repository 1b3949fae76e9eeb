"""The S3 backend: documents as objects in a bucket of an S3-compatible object store.

A stored file's path is its key under the configured prefix
(``s3://bucket/prefix`` + ``divisi/…`` or ``ppid/…``). The client is aiobotocore (the
asyncio port of botocore, the AWS SDK's own core, kept by aio-libs): every request is
signed, retried and parsed by botocore itself, and aiohttp streams the bodies.

The write protocol (:mod:`storage.base`) on S3:

- The chunks are hashed (SHA-256) and counted as they arrive, and collected into parts of
  ``part_size`` bytes (8 MiB; S3's minimum is 5 MiB), one part in memory at a time, so the
  memory a write needs does not grow with the file.
- A file that fits in one part is checked (size, checksum, ``inspect``) in memory and sent
  with one ``PutObject`` carrying its full ``x-amz-checksum-sha256``: the server refuses the
  body unless it hashes to the same SHA-256 and keeps that checksum with the object.
- A larger file becomes a multipart upload. Each part carries its own SHA-256, which the
  server checks on receipt. The upload is completed only after the whole stream has arrived
  and passed the size and checksum checks; before that nothing is visible under the key,
  and on any failure (the source, the limit, the server, a cancellation) the upload is
  aborted. The completed object's composite checksum (the SHA-256 of the parts' SHA-256s)
  must be the one computed here. ``inspect`` then reads the object through ranged GETs; a
  refused object is deleted.
- The key is written with ``If-None-Match: *``: an existing object is never overwritten
  (PathTaken).
- A server that keeps no checksums is answered by reading the object back and hashing it.

The step-3 copy is a server-side ``CopyObject`` (the bytes do not travel through the bot),
then proven by reading the copy back and hashing it; a mismatch deletes it. A killed process
leaves at most an unfinished multipart upload (invisible, but holding space), which
:meth:`S3Storage.cleanup_temp` aborts, or a complete object at its planned key, which the
caller's intent row names.

Objects are written without an ACL: they are as private as the bucket (keep it private).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import errno
import hashlib
import io
import uuid
from collections.abc import AsyncGenerator, AsyncIterable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, BinaryIO

import aiohttp
from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from storage import faults
from storage.base import (
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
    ReadFailed,
    StorageError,
    StorageFull,
    StoredFileMissing,
    UnsafePath,
    WriteFailed,
)

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

__all__ = ["MIN_PART_SIZE", "S3Storage"]

MIB = 1024 * 1024
#: S3's smallest part (all but the last part of a multipart upload).
MIN_PART_SIZE = 5 * MIB
DEFAULT_PART_SIZE = 8 * MIB
#: Ranged reads of an inspector are buffered this much.
_INSPECT_BUFFER = 1 * MIB
#: Error codes with which S3-compatible servers say the space or a quota is exhausted.
_FULL_CODES = frozenset(
    {
        "QuotaExceeded",
        "InsufficientStorage",
        "StorageFull",
        "XMinioStorageFull",
        "XMinioAdminBucketQuotaExceeded",
    }
)
_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


class S3Storage(DocumentStorage):
    """Document storage in ``bucket`` under ``prefix`` (see the module docstring)."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        max_size: int,
        chunk_size: int = 64 * 1024,
        part_size: int = DEFAULT_PART_SIZE,
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        region: str | None = None,
    ) -> None:
        super().__init__(max_size=max_size, chunk_size=chunk_size)
        if not bucket:
            raise ValueError("an S3 storage needs a bucket")
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE}, got {part_size}")
        self.bucket = bucket
        self.prefix = _normal_prefix(prefix)
        self.part_size = part_size
        self.endpoint_url = endpoint_url
        self._credentials = (access_key_id, secret_access_key)
        self.region = region or "us-east-1"
        self._client_context: Any = None
        self._client_object: S3Client | None = None
        self._client_lock = asyncio.Lock()
        # Multipart uploads this instance is running now (kept by cleanup_temp).
        self._active_uploads: set[str] = set()

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    # ------------------------------------------------------------------ the client

    async def _client(self) -> S3Client:
        if self._client_object is not None:
            return self._client_object
        async with self._client_lock:
            if self._client_object is None:
                key_id, secret = self._credentials
                config = Config(
                    # Path-style addressing for a self-hosted endpoint (no wildcard DNS).
                    s3={"addressing_style": "path" if self.endpoint_url else "auto"},
                    # The SHA-256 checksums are set explicitly; no extra CRC trailers, which
                    # many S3-compatible servers do not accept.
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                    retries={"max_attempts": 4, "mode": "standard"},
                    connect_timeout=10,
                    read_timeout=120,
                )
                context = _session().create_client(
                    "s3",
                    endpoint_url=self.endpoint_url,
                    aws_access_key_id=key_id,
                    aws_secret_access_key=secret,
                    region_name=self.region,
                    config=config,
                )
                self._client_object = await context.__aenter__()
                self._client_context = context
        assert self._client_object is not None
        return self._client_object

    async def close(self) -> None:
        context, self._client_context, self._client_object = self._client_context, None, None
        if context is not None:
            await context.__aexit__(None, None, None)

    def _key(self, path: str) -> str:
        return self.prefix + path

    # ------------------------------------------------------------------ writing

    async def _write_atomic(
        self,
        rel_path: str,
        chunks: AsyncIterable[bytes],
        *,
        limit: int | None,
        expected_sha256: str | None = None,
        inspect: Inspector | None = None,
    ) -> tuple[int, str]:
        check_path(rel_path)
        client = await self._client()
        key = self._key(rel_path)
        upload = _Upload(self, client, key)
        try:
            try:
                size, digest, rest = await self._stream_parts(upload, chunks, limit)
                if size == 0:
                    raise EmptyFile()
                if expected_sha256 is not None and digest != expected_sha256:
                    raise ChecksumMismatch(expected_sha256, digest)
                if upload.upload_id is None:
                    if inspect is not None:
                        await settled(asyncio.to_thread(inspect, io.BytesIO(rest)))
                    await upload.put_whole(rest, digest)
                else:
                    if rest:
                        await upload.part(rest)
                    del rest
                    await upload.complete()
                await self._confirm(key, size, digest, upload.checksum)
                if inspect is not None and upload.upload_id is not None:
                    await settled(self._inspect_object(key, size, inspect))
                await faults.reached("storage.written")
            except BaseException:
                await settled(upload.undo())
                raise
        except SourceFailed as failed:
            raise failed.error from None
        except OSError as exc:
            raise storage_error(exc) from exc
        except ClientError as exc:
            raise _write_error(exc, rel_path) from exc
        except _NETWORK_ERRORS as exc:
            raise WriteFailed(None, _describe(exc)) from exc
        return size, digest

    async def _stream_parts(
        self, upload: _Upload, chunks: AsyncIterable[bytes], limit: int | None
    ) -> tuple[int, str, bytearray]:
        """Hash and count the chunks, sending each full part; return the size, the SHA-256
        and what is left for the last part (the whole file if it fits in one)."""
        hasher = hashlib.sha256()
        size = 0
        buffer = bytearray()
        iterator = aiter(chunks)
        try:
            while True:
                try:
                    chunk = await anext(iterator)
                except StopAsyncIteration:
                    break
                except OSError as exc:  # the source's own failure, not the storage's
                    raise SourceFailed(exc) from exc
                # As on a disk: big chunks are taken in chunk_size slices, so the overshoot
                # past the limit never exceeds chunk_size, and no view outlives the chunk.
                with memoryview(chunk) as view, view.cast("B") as data:
                    total = data.nbytes
                    for start in range(0, total, self.chunk_size):
                        end = min(start + self.chunk_size, total)
                        size += end - start
                        if limit is not None and size > limit:
                            raise FileTooLarge(limit)
                        await faults.reached("storage.chunk")
                        with data[start:end] as piece:
                            hasher.update(piece)
                            buffer += piece
                if len(buffer) >= self.part_size:
                    await upload.part(buffer)
                    buffer = bytearray()
        finally:
            # Release the source early (e.g. an HTTP download) when stopping before its end.
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                await aclose()
        return size, hasher.hexdigest(), buffer

    async def _confirm(self, key: str, size: int, digest: str, checksum: str | None) -> None:
        """Make sure the object under ``key`` is what was sent: its size, and the checksum the
        server keeps (or, where it keeps none, the SHA-256 of the object read back)."""
        client = await self._client()
        head = await client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        stored = head.get("ChecksumSHA256")
        if head.get("ContentLength") != size:
            raise ChecksumMismatch(digest, f"an object of {head.get('ContentLength')} bytes")
        if stored is not None and checksum is not None:
            if stored != checksum:
                raise ChecksumMismatch(digest, f"the server's checksum {stored}")
            return
        read_size, read_digest = await self._digest_key(key)
        if (read_size, read_digest) != (size, digest):
            raise ChecksumMismatch(digest, read_digest)

    async def _inspect_object(self, key: str, size: int, inspect: Inspector) -> None:
        loop = asyncio.get_running_loop()

        def fetch(start: int, length: int) -> bytes:
            future = asyncio.run_coroutine_threadsafe(self._read_range(key, start, length), loop)
            return future.result()

        handle = io.BufferedReader(_RangeFile(fetch, size), buffer_size=_INSPECT_BUFFER)
        await asyncio.to_thread(_inspect_and_close, handle, inspect)

    async def _read_range(self, key: str, start: int, length: int) -> bytes:
        client = await self._client()
        response = await client.get_object(
            Bucket=self.bucket, Key=key, Range=f"bytes={start}-{start + length - 1}"
        )
        async with response["Body"] as body:
            return await body.read()

    # ------------------------------------------------------------------ copying

    async def copy_to(
        self, source: str, planned: PlannedFile, *, expected_sha256: str
    ) -> StoredFile:
        """See :meth:`DocumentStorage.copy_to`: a server-side copy, read back and hashed."""
        expected = check_sha256(expected_sha256)
        check_path(source)
        check_path(planned.path)
        client = await self._client()
        target = self._key(planned.path)
        try:
            try:
                head = await client.head_object(Bucket=self.bucket, Key=self._key(source))
            except ClientError as exc:
                if _missing(exc):
                    raise StoredFileMissing(source) from exc
                raise
            size = head["ContentLength"]
            await faults.reached("storage.chunk")  # the copy is the one write
            copied = False
            try:
                await settled(
                    client.copy_object(
                        Bucket=self.bucket,
                        Key=target,
                        CopySource={"Bucket": self.bucket, "Key": self._key(source)},
                        IfNoneMatch="*",
                    )
                )
                copied = True
                copied_size, copied_digest = await self.digest(planned.path)
                if copied_digest != expected or copied_size != size:
                    raise ChecksumMismatch(expected, copied_digest)
                await faults.reached("storage.written")
            except BaseException:
                if copied:
                    await settled(self._delete_key(target))
                raise
        except OSError as exc:
            raise storage_error(exc) from exc
        except ClientError as exc:
            if _missing(exc):
                raise StoredFileMissing(source) from exc
            raise _write_error(exc, planned.path) from exc
        except _NETWORK_ERRORS as exc:
            raise WriteFailed(None, _describe(exc)) from exc
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
        check_path(path)
        chunks = self._key_chunks(self._key(path), path)
        async with contextlib.aclosing(chunks):
            async for chunk in chunks:
                yield chunk

    async def _key_chunks(self, key: str, path: str) -> AsyncGenerator[bytes, None]:
        client = await self._client()
        try:
            response = await client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _missing(exc):
                raise StoredFileMissing(path) from exc
            raise ReadFailed(_describe(exc)) from exc
        except _NETWORK_ERRORS as exc:
            raise ReadFailed(_describe(exc)) from exc
        body = response["Body"]
        pending = bytearray()
        try:
            while True:
                try:
                    data = await body.read(self.chunk_size)
                except _NETWORK_ERRORS as exc:
                    raise ReadFailed(_describe(exc)) from exc
                if not data:
                    break
                pending += data
                while len(pending) >= self.chunk_size:
                    yield bytes(pending[: self.chunk_size])
                    del pending[: self.chunk_size]
            if pending:
                yield bytes(pending)
        finally:
            body.close()

    async def _digest_key(self, key: str) -> tuple[int, str]:
        hasher = hashlib.sha256()
        size = 0
        chunks = self._key_chunks(key, key)
        async with contextlib.aclosing(chunks):
            async for chunk in chunks:
                size += len(chunk)
                hasher.update(chunk)
        return size, hasher.hexdigest()

    async def exists(self, path: str) -> bool:
        check_path(path)
        client = await self._client()
        try:
            await client.head_object(Bucket=self.bucket, Key=self._key(path))
        except ClientError as exc:
            if _missing(exc):
                return False
            raise ReadFailed(_describe(exc)) from exc
        except _NETWORK_ERRORS as exc:
            raise ReadFailed(_describe(exc)) from exc
        return True

    async def iter_paths(self) -> AsyncGenerator[str, None]:
        """Keys that are no valid stored-file path (a folder marker, ``a//b``) are skipped."""
        client = await self._client()
        found: list[str] = []
        try:
            for area in ("divisi/", "ppid/"):
                paginator = client.get_paginator("list_objects_v2")
                async for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + area):
                    for item in page.get("Contents", []):
                        path = item["Key"][len(self.prefix) :]
                        with contextlib.suppress(UnsafePath):
                            check_path(path)
                            found.append(path)
        except ClientError as exc:
            raise ReadFailed(_describe(exc)) from exc
        except _NETWORK_ERRORS as exc:
            raise ReadFailed(_describe(exc)) from exc
        # S3 lists in UTF-8 byte order, but not every compatible server does.
        for path in sorted(found):
            yield path

    # ------------------------------------------------------------------ housekeeping

    async def delete(self, path: str) -> None:
        check_path(path)
        await settled(self._delete_key(self._key(path)))

    async def _delete_key(self, key: str) -> None:
        client = await self._client()
        try:
            await client.delete_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if not _missing(exc):
                raise _write_error(exc, key) from exc
        except _NETWORK_ERRORS as exc:
            raise WriteFailed(None, _describe(exc)) from exc

    async def cleanup_temp(self, *, min_age: float = 0.0) -> int:
        """Abort the unfinished multipart uploads under the prefix (older than ``min_age``
        seconds by the time they were started) that this instance is not running."""
        client = await self._client()
        cutoff = datetime.now(UTC) - timedelta(seconds=min_age)
        leftovers: list[tuple[str, str]] = []
        try:
            paginator = client.get_paginator("list_multipart_uploads")
            async for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for item in page.get("Uploads", []):
                    upload_id, started = item["UploadId"], item.get("Initiated")
                    if upload_id in self._active_uploads:
                        continue
                    if min_age > 0 and started is not None and started > cutoff:
                        continue
                    leftovers.append((item["Key"], upload_id))
            removed = 0
            for key, upload_id in leftovers:
                try:
                    await client.abort_multipart_upload(
                        Bucket=self.bucket, Key=key, UploadId=upload_id
                    )
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") != "NoSuchUpload":
                        raise
                    continue
                removed += 1
        except ClientError as exc:
            raise ReadFailed(_describe(exc)) from exc
        except _NETWORK_ERRORS as exc:
            raise ReadFailed(_describe(exc)) from exc
        return removed

    async def probe(self) -> None:
        """Put and delete a tiny object under ``<prefix>.probe/`` (never listed as a file)."""
        client = await self._client()
        key = f"{self.prefix}.probe/{uuid.uuid4().hex}"
        try:
            await client.put_object(Bucket=self.bucket, Key=key, Body=b"ppidbot")
            await client.delete_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            raise _write_error(exc, key) from exc
        except _NETWORK_ERRORS as exc:
            raise WriteFailed(None, _describe(exc)) from exc

    async def unfinished_uploads(self) -> list[str]:
        """The keys of the multipart uploads under the prefix not completed or aborted."""
        client = await self._client()
        keys: list[str] = []
        paginator = client.get_paginator("list_multipart_uploads")
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            keys.extend(item["Key"][len(self.prefix) :] for item in page.get("Uploads", []))
        return sorted(keys)


_SESSIONS: list[Any] = []


def _session() -> Any:
    """One botocore session per process: it loads the service model (JSON) once."""
    if not _SESSIONS:
        _SESSIONS.append(get_session())
    return _SESSIONS[0]


class _Upload:
    """One object being written: a single PutObject, or a multipart upload."""

    def __init__(self, storage: S3Storage, client: S3Client, key: str) -> None:
        self.storage = storage
        self.client = client
        self.key = key
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []
        self.part_digests: list[bytes] = []
        self.checksum: str | None = None  # what the server must keep with the object
        self.placed = False  # the object is in place: undo deletes it

    async def part(self, data: bytearray) -> None:
        bucket = self.storage.bucket
        if self.upload_id is None:
            created = await self.client.create_multipart_upload(
                Bucket=bucket, Key=self.key, ChecksumAlgorithm="SHA256"
            )
            self.upload_id = created["UploadId"]
            self.storage._active_uploads.add(self.upload_id)
        digest = hashlib.sha256(data).digest()
        number = len(self.parts) + 1
        answer = await self.client.upload_part(
            Bucket=bucket,
            Key=self.key,
            UploadId=self.upload_id,
            PartNumber=number,
            Body=_BufferFile(data),
            ChecksumSHA256=_b64(digest),
        )
        self.parts.append(
            {"PartNumber": number, "ETag": answer["ETag"], "ChecksumSHA256": _b64(digest)}
        )
        self.part_digests.append(digest)

    async def put_whole(self, data: bytearray, digest: str) -> None:
        checksum = _b64(bytes.fromhex(digest))
        try:
            await settled(
                self.client.put_object(
                    Bucket=self.storage.bucket,
                    Key=self.key,
                    Body=_BufferFile(data),
                    ChecksumSHA256=checksum,
                    IfNoneMatch="*",
                )
            )
        except ClientError as exc:
            if _precondition_failed(exc):
                raise PathTaken(self.key) from exc
            raise
        self.placed = True
        self.checksum = checksum

    async def complete(self) -> None:
        assert self.upload_id is not None
        composite = hashlib.sha256(b"".join(self.part_digests)).digest()
        try:
            await settled(
                self.client.complete_multipart_upload(
                    Bucket=self.storage.bucket,
                    Key=self.key,
                    UploadId=self.upload_id,
                    MultipartUpload={"Parts": self.parts},  # type: ignore[typeddict-item]
                    IfNoneMatch="*",
                )
            )
        except ClientError as exc:
            if _precondition_failed(exc):
                raise PathTaken(self.key) from exc
            raise
        self.storage._active_uploads.discard(self.upload_id)
        self.placed = True
        self.checksum = f"{_b64(composite)}-{len(self.parts)}"

    async def undo(self) -> None:
        """Leave nothing: abort an unfinished upload, delete a placed object."""
        try:
            if self.placed:
                await self.storage._delete_key(self.key)
            elif self.upload_id is not None:
                with contextlib.suppress(ClientError):
                    await self.client.abort_multipart_upload(
                        Bucket=self.storage.bucket, Key=self.key, UploadId=self.upload_id
                    )
        finally:
            if self.upload_id is not None:
                self.storage._active_uploads.discard(self.upload_id)


class _BufferFile(io.RawIOBase):
    """A request body read from the part buffer in place: aiohttp then sends it in small
    pieces instead of copying the whole part (into a payload, then into the socket's send
    buffer)."""

    def __init__(self, data: bytearray) -> None:
        super().__init__()
        self._data = data
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: len(self._data)}
        self._position = max(0, base[whence] + offset)
        return self._position

    def readinto(self, buffer: Any) -> int:
        with memoryview(self._data) as view:
            piece = view[self._position : self._position + len(buffer)]
            size = piece.nbytes
            buffer[:size] = piece
            piece.release()
        self._position += size
        return size


class _RangeFile(io.RawIOBase):
    """A read-only, seekable file over an object, read through ranged GETs (for inspectors,
    which run in a worker thread)."""

    def __init__(self, fetch: Callable[[int, int], bytes], size: int) -> None:
        super().__init__()
        self._fetch = fetch
        self._size = size
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._position = base + offset
        return self._position

    def readall(self) -> bytes:
        """The rest in one ranged GET (the default reads 8 KiB a request)."""
        length = self._size - self._position
        if length <= 0:
            return b""
        data = self._fetch(self._position, length)
        self._position += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        length = min(len(buffer), self._size - self._position)
        if length <= 0:
            return 0
        data = self._fetch(self._position, length)
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)


def _inspect_and_close(handle: BinaryIO, inspect: Inspector) -> None:
    with handle:
        inspect(handle)


def _normal_prefix(prefix: str) -> str:
    prefix = prefix.strip("/")
    if not prefix:
        return ""
    parts = prefix.split("/")
    if any(part in ("", ".", "..") for part in parts) or "\\" in prefix or "\x00" in prefix:
        raise ValueError(f"invalid S3 key prefix {prefix!r}")
    return prefix + "/"


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def _missing(exc: ClientError) -> bool:
    return _code(exc) in _MISSING_CODES or _status(exc) == 404


def _precondition_failed(exc: ClientError) -> bool:
    return _code(exc) in {"PreconditionFailed", "412"} or _status(exc) == 412


def _write_error(exc: ClientError, path: str) -> StorageError:
    if _precondition_failed(exc):
        return PathTaken(path)
    if _code(exc) in _FULL_CODES or _status(exc) == 507:
        return StorageFull(errno.ENOSPC)
    return WriteFailed(None, _describe(exc))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"S3 answered {error.get('Code', '?')}: {error.get('Message', '')}".strip()
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


#: Failures to reach the server or to read its answer (botocore retried them already).
_NETWORK_ERRORS = (BotoCoreError, aiohttp.ClientError, TimeoutError)
