"""Streaming a file a user sent out of Telegram, chunk by chunk, never whole in memory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from urllib.parse import urlparse

import aiofiles
import httpx

from bot.texts.files import truncated
from bot.texts.new_record import DOWNLOAD_FAILED
from sop.errors import FileRejected

log = logging.getLogger(__name__)

CHUNK_SIZE = 256 * 1024


async def telegram_chunks(
    file_path: str, chunk_size: int = CHUNK_SIZE, *, expected_size: int | None = None
) -> AsyncIterator[bytes]:
    """The bytes of a Telegram file in chunks, never whole in memory: over HTTP from the Bot
    API's file URL, or from disk when a local Bot API server (local mode) gives a path.

    With ``expected_size`` (Telegram's ``file_size``), a download that ends shorter or runs
    longer is refused (FileRejected): a server answering 200 with half a body must not make
    half a file look stored."""
    received = 0
    try:
        if urlparse(file_path).scheme in {"http", "https"}:
            timeout = httpx.Timeout(30.0, read=120.0)
            async with (
                httpx.AsyncClient(timeout=timeout) as client,
                client.stream("GET", file_path) as response,
            ):
                response.raise_for_status()
                async for chunk in response.aiter_bytes(chunk_size):
                    received += len(chunk)
                    _check_not_longer(received, expected_size)
                    yield chunk
        else:
            path = file_path.removeprefix("file://")
            async with aiofiles.open(path, "rb") as handle:
                while chunk := await handle.read(chunk_size):
                    received += len(chunk)
                    _check_not_longer(received, expected_size)
                    yield chunk
    except (httpx.HTTPError, OSError) as exc:
        # The URL holds the bot token: log the kind of failure, never the address.
        log.warning("downloading a Telegram file failed: %s", type(exc).__name__)
        raise FileRejected(DOWNLOAD_FAILED) from exc
    if expected_size is not None and received != expected_size:
        log.warning("a Telegram download ended at %d of %d bytes", received, expected_size)
        raise FileRejected(truncated(received, expected_size))


def _check_not_longer(received: int, expected_size: int | None) -> None:
    if expected_size is not None and received > expected_size:
        log.warning("a Telegram download ran past its file_size of %d bytes", expected_size)
        raise FileRejected(truncated(received, expected_size))
