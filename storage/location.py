"""Where the documents are: ``STORAGE_URL`` parsed, and the backend opened for it.

- a directory path (``./data/storage``, ``/srv/ppidbot/storage``) or ``file:///srv/...``:
  :class:`storage.local.LocalStorage`;
- ``s3://bucket`` or ``s3://bucket/prefix``: :class:`storage.s3.S3Storage`, with the
  endpoint, credentials and region of :class:`S3Options` (an unset key pair falls back to
  botocore's usual sources: ``AWS_*`` variables, a profile, an instance role).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from storage.base import DocumentStorage

__all__ = ["S3Options", "StorageLocation", "open_storage", "parse_location"]


@dataclass(frozen=True, slots=True)
class S3Options:
    endpoint_url: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    region: str | None = None


@dataclass(frozen=True, slots=True)
class StorageLocation:
    """A parsed ``STORAGE_URL``: a directory, or a bucket and a key prefix."""

    directory: Path | None = None
    bucket: str | None = None
    prefix: str = ""

    @property
    def is_s3(self) -> bool:
        return self.bucket is not None

    def __str__(self) -> str:
        if self.bucket is not None:
            return f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        return str(self.directory)


def parse_location(url: str | Path) -> StorageLocation:
    """Parse ``STORAGE_URL``; ValueError (one line) for anything else."""
    if isinstance(url, Path):
        return StorageLocation(directory=url)
    text = url.strip()
    if not text:
        raise ValueError("is empty: give a directory or s3://bucket/prefix")
    if "://" not in text:
        return StorageLocation(directory=Path(text))
    parts = urlsplit(text)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"file URL {text!r} names a host; use file:///path")
        return StorageLocation(directory=Path(unquote(parts.path)))
    if parts.scheme != "s3":
        raise ValueError(f"unknown scheme {parts.scheme!r}: use a directory or s3://bucket")
    if not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"{text!r} is not of the form s3://bucket/prefix")
    prefix = unquote(parts.path).strip("/")
    if any(p in ("", ".", "..") for p in prefix.split("/")) and prefix:
        raise ValueError(f"the prefix of {text!r} has an empty, '.' or '..' part")
    return StorageLocation(bucket=parts.netloc, prefix=prefix)


def open_storage(
    location: StorageLocation | str | Path,
    *,
    max_size: int,
    s3: S3Options | None = None,
) -> DocumentStorage:
    """The backend for ``location`` (nothing is contacted yet)."""
    if not isinstance(location, StorageLocation):
        location = parse_location(location)
    if location.bucket is None:
        from storage.local import LocalStorage

        assert location.directory is not None
        return LocalStorage(location.directory, max_size=max_size)
    from storage.s3 import S3Storage  # aiobotocore is imported only for an S3 storage

    options = s3 or S3Options()
    return S3Storage(
        location.bucket,
        location.prefix,
        max_size=max_size,
        endpoint_url=options.endpoint_url,
        access_key_id=options.access_key_id,
        secret_access_key=options.secret_access_key,
        region=options.region,
    )
