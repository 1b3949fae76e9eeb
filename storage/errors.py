"""Exceptions raised by the document storage.

Every exception carries a ``message`` in plain English that a handler may show
(or translate) for the user; the extra attributes are for logs and callers.
"""

from __future__ import annotations


class StorageError(Exception):
    """Base class of every error raised by :mod:`storage`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class FileTooLarge(StorageError):
    """The streamed document exceeded the configured size limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"The file is larger than the allowed maximum of {_human_size(limit)}.")
        self.limit = limit


class EmptyFile(StorageError):
    """The document has no content (0 bytes)."""

    def __init__(self) -> None:
        super().__init__("The file is empty.")


class ChecksumMismatch(StorageError):
    """A SHA-256 checksum did not match the expected value."""

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(
            f"The file's SHA-256 checksum {actual} does not match the expected {expected}."
        )
        self.expected = expected
        self.actual = actual


class StoredFileMissing(StorageError):
    """A stored file that should exist does not."""

    def __init__(self, path: str) -> None:
        super().__init__(f"The stored file {path!r} does not exist.")
        self.path = path


class StorageFull(StorageError):
    """The disk (or the bot user's quota) is full: ``ENOSPC`` or ``EDQUOT``. Nothing of the
    file was kept."""

    def __init__(self, errno: int) -> None:
        super().__init__("The storage is full (no space left on the device or quota).")
        self.errno = errno


class WriteFailed(StorageError):
    """Writing a file failed for another operating-system reason (``EIO``, ``EACCES``...).
    Nothing of the file was kept."""

    def __init__(self, errno: int | None, reason: str) -> None:
        super().__init__(f"Writing the file failed: {reason}.")
        self.errno = errno
        self.reason = reason


class ReadFailed(StorageError):
    """Reading or listing the storage failed (an S3 server unreachable or answering with an
    error); nothing was changed."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Reading the storage failed: {reason}.")
        self.reason = reason


class PathTaken(StorageError):
    """The planned final path of a file already exists; it is never overwritten."""

    def __init__(self, path: str) -> None:
        super().__init__(f"The path {path!r} already exists; it is never overwritten.")
        self.path = path


class UnsafePath(StorageError):
    """A relative path is absolute, escapes the storage root, or is otherwise malformed."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"The path {path!r} is not allowed: {reason}.")
        self.path = path
        self.reason = reason


def _human_size(size: int) -> str:
    if size >= 1024 * 1024 and size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MB"
    if size >= 1024 and size % 1024 == 0:
        return f"{size // 1024} KB"
    return f"{size} bytes"
