"""The bot's log: one line per event, times in the office's time zone, never a token.

- Every line starts with its time and UTC offset (``2026-11-23T08:00:00.123+07:00``).
- The bot token is replaced by ``<token>`` wherever it would appear: messages, their
  arguments, tracebacks (PTB's ``InvalidToken`` names the token) and URLs (httpx logs the
  Bot API URL, which holds it), whichever library logs them.
- A network failure (Telegram or the connection to it unreachable, a timeout) is one
  WARNING line naming the error; its traceback is kept only at ``LOG_LEVEL=DEBUG``.
- Libraries' routine lines stay out: APScheduler's, httpx's and alembic's below WARNING
  (at DEBUG they are all there).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TextIO
from zoneinfo import ZoneInfo

import httpx
from telegram.error import BadRequest, NetworkError

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "<token>"
#: A Bot API token anywhere (``123456789:AAE…``), also inside ``/bot<token>/`` URLs.
TOKEN_PATTERN = re.compile(r"\b\d{5,12}:[A-Za-z0-9_-]{30,}")
#: Libraries whose routine lines are noise at INFO; at DEBUG they say everything.
QUIET_LOGGERS = ("httpx", "httpcore", "apscheduler", "alembic")


class ZonedFormatter(logging.Formatter):
    """ISO 8601 times with milliseconds and the zone's offset."""

    def __init__(self, tz: ZoneInfo, fmt: str = FORMAT) -> None:
        super().__init__(fmt)
        self.tz = tz

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, self.tz)
        return moment.isoformat(timespec="milliseconds")


class JsonFormatter(ZonedFormatter):
    """One JSON object per line: timestamp, level, logger, message, the record id where the
    line is about one, and the traceback (redacted like the text) where there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "timestamp": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        record_id = getattr(record, "record_id", None)
        if record_id is not None:
            entry["record_id"] = record_id
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


class RedactSecrets(logging.Filter):
    """Replace secrets (and anything shaped like a bot token) in every part of a record."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._traceback = logging.Formatter()

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return TOKEN_PATTERN.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._traceback.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def network_error(exc: BaseException | None) -> bool:
    """A failure to reach Telegram: a connection error or timeout, not a refused request."""
    if isinstance(exc, NetworkError):
        return not isinstance(exc, BadRequest)  # BadRequest is Telegram answering "no"
    return isinstance(exc, httpx.TransportError)


def describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class QuietNetworkErrors(logging.Filter):
    """A record carrying a network failure becomes one WARNING line; the traceback stays
    only when ``verbose()`` says DEBUG is on."""

    def __init__(self, verbose: bool) -> None:
        super().__init__()
        self.verbose = verbose

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not network_error(exc):
            return True
        assert exc is not None
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        if not self.verbose:
            record.msg, record.args = f"{record.getMessage()} ({describe(exc)})", None
            record.exc_info, record.exc_text = None, None
        return True


class _StandardError(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (as ``logging.lastResort`` does)."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


def setup_logging(
    level: str | int,
    tz: ZoneInfo,
    *,
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
    json_lines: bool = False,
) -> logging.Handler:
    """Send the log to standard error (or ``stream``) as described above; a second call
    replaces the handler of the first. Returns the handler."""
    numeric = logging.getLevelName(level) if isinstance(level, str) else level
    handler: logging.Handler = (
        logging.StreamHandler(stream) if stream is not None else _StandardError()
    )
    handler.setFormatter(JsonFormatter(tz) if json_lines else ZonedFormatter(tz))
    # Network errors first: a traceback they drop need not be redacted.
    handler.addFilter(QuietNetworkErrors(verbose=numeric <= logging.DEBUG))
    handler.addFilter(RedactSecrets(secrets))
    handler._ppidbot = True  # type: ignore[attr-defined]
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_ppidbot", False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(numeric if numeric <= logging.DEBUG else logging.WARNING)
    return handler


@contextlib.contextmanager
def logging_to_stderr(
    level: str | int, tz: ZoneInfo, *, secrets: Iterable[str] = (), json_lines: bool = False
) -> Iterator[logging.Handler]:
    """``setup_logging`` for the length of a command; afterwards the root logger is as
    it was (``ppidbot``'s ``main`` runs more than once in one test process)."""
    root = logging.getLogger()
    level_before = root.level
    quiet_before = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    handler = setup_logging(level, tz, secrets=secrets, json_lines=json_lines)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level_before)
        for name, quiet in quiet_before.items():
            logging.getLogger(name).setLevel(quiet)


__all__ = [
    "REDACTED",
    "JsonFormatter",
    "QuietNetworkErrors",
    "RedactSecrets",
    "ZonedFormatter",
    "describe",
    "logging_to_stderr",
    "network_error",
    "setup_logging",
]
