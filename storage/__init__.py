"""Streamed, hashed, atomic document storage (no Telegram, no database)."""

from storage.documents import TEMP_DIR_NAME, Area, DocumentStorage, StoredFile
from storage.errors import (
    ChecksumMismatch,
    EmptyFile,
    FileTooLarge,
    StorageError,
    StoredFileMissing,
    UnsafePath,
)
from storage.names import sanitize_filename, slugify

__all__ = [
    "TEMP_DIR_NAME",
    "Area",
    "ChecksumMismatch",
    "DocumentStorage",
    "EmptyFile",
    "FileTooLarge",
    "StorageError",
    "StoredFile",
    "StoredFileMissing",
    "UnsafePath",
    "sanitize_filename",
    "slugify",
]
