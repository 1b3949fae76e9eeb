"""Streamed, hashed, atomic document storage (no Telegram, no database)."""

from storage.documents import (
    DIR_MODE,
    FILE_MODE,
    TEMP_DIR_NAME,
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
    "ChecksumMismatch",
    "DocumentStorage",
    "EmptyFile",
    "FileTooLarge",
    "Inspector",
    "PathTaken",
    "PlannedFile",
    "StorageError",
    "StorageFull",
    "StoredFile",
    "StoredFileMissing",
    "UnsafePath",
    "WriteFailed",
    "sanitize_filename",
    "slugify",
    "storage_error",
]
