"""Streamed, hashed, atomic document storage (no Telegram, no database).

One interface (:class:`DocumentStorage`, :mod:`storage.base`), two backends: a local
directory (:class:`LocalStorage`) and an S3 bucket (:class:`storage.s3.S3Storage`, imported
only when used); :func:`open_storage` picks one from ``STORAGE_URL``.
"""

from storage.base import (
    Area,
    DocumentStorage,
    Inspector,
    PlannedFile,
    StoredFile,
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
from storage.local import DIR_MODE, FILE_MODE, TEMP_DIR_NAME, LocalStorage
from storage.location import S3Options, StorageLocation, open_storage, parse_location
from storage.names import sanitize_filename, slugify

__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "TEMP_DIR_NAME",
    "Area",
    "ChecksumMismatch",
    "DocumentStorage",
    "EmptyFile",
    "FileTooLarge",
    "Inspector",
    "LocalStorage",
    "PathTaken",
    "PlannedFile",
    "ReadFailed",
    "S3Options",
    "StorageError",
    "StorageFull",
    "StorageLocation",
    "StoredFile",
    "StoredFileMissing",
    "UnsafePath",
    "WriteFailed",
    "open_storage",
    "parse_location",
    "sanitize_filename",
    "slugify",
    "storage_error",
]
