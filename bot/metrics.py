"""Prometheus metrics of the running bot (``GET /metrics``, :mod:`bot.web`).

Counters live in one registry of this process (:data:`REGISTRY`); the gauges of the
archive (open and overdue steps) are read from the database when scraped, through an
index, so a scrape costs the same however large the archive is.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from telegram.error import TelegramError
from telegram.request import HTTPXRequest

from sop.events import Event, observe

REGISTRY = CollectorRegistry()

UPDATES = Counter(
    "ppidbot_updates_handled_total", "Telegram updates the bot took in.", registry=REGISTRY
)
UPDATES_FAILED = Counter(
    "ppidbot_updates_failed_total",
    "Updates whose handling ended in an unexpected error.",
    registry=REGISTRY,
)
STEPS_COMPLETED = Counter(
    "ppidbot_steps_completed_total",
    "SOP steps completed, by step (1 produce, 2 hand over, 3 receive).",
    ["step"],
    registry=REGISTRY,
)
RETURNS = Counter(
    "ppidbot_returns_total", "Records returned to an earlier step.", registry=REGISTRY
)
REMINDERS = Counter(
    "ppidbot_reminders_sent_total",
    "Reminders and escalations sent, by kind.",
    ["kind"],
    registry=REGISTRY,
)
REMINDER_LATENESS = Histogram(
    "ppidbot_reminder_lateness_seconds",
    "How long after its planned time a reminder or escalation went out.",
    buckets=(1, 5, 15, 30, 60, 300, 900, 3600, 6 * 3600, 24 * 3600),
    registry=REGISTRY,
)
BOT_API_ERRORS = Counter(
    "ppidbot_bot_api_errors_total",
    "Bot API requests that failed, by kind (Forbidden, BadRequest, RetryAfter, TimedOut, ...).",
    ["kind"],
    registry=REGISTRY,
)
INGEST_BYTES = Counter(
    "ppidbot_ingest_bytes_total", "Bytes of softcopies stored (uploads, merges).", registry=REGISTRY
)
OVERDUE_STEPS = Gauge(
    "ppidbot_overdue_steps", "Open steps past their due time (read at scrape).", registry=REGISTRY
)

_STEP_ACTIONS = {"step1.done": "1", "step2.done": "2", "step3.done": "3"}


def count_event(event: Event) -> None:
    """Count a committed business event (an observer of :mod:`sop.events`)."""
    step = _STEP_ACTIONS.get(event.action)
    if step is not None:
        STEPS_COMPLETED.labels(step=step).inc()
    elif event.action == "record.returned":
        RETURNS.inc()
    elif event.action == "file.merged" or (
        event.action == "file.stored" and event.details.get("area") == "divisi"
    ):  # an upload or a merge of photos; not step 3's PPID copies
        size = event.details.get("size")
        if isinstance(size, int) and size > 0:
            INGEST_BYTES.inc(size)


observe(count_event)


def reminder_sent(kind: str, lateness_seconds: float) -> None:
    REMINDERS.labels(kind=kind).inc()
    REMINDER_LATENESS.observe(max(lateness_seconds, 0.0))


#: The Bot API's answers that are errors, by HTTP status, named as python-telegram-bot
#: raises them.
_ERROR_KINDS = {
    400: "BadRequest",
    401: "InvalidToken",
    403: "Forbidden",
    404: "InvalidToken",
    409: "Conflict",
    429: "RetryAfter",
}


def error_kind(status: int) -> str:
    return _ERROR_KINDS.get(status, "ServerError" if status >= 500 else f"HTTP{status}")


class CountingRequest(HTTPXRequest):
    """python-telegram-bot's HTTP request, counting the Bot API's errors by kind: the
    answers that are errors (by status) and the requests that got no answer."""

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        try:
            status, body = await super().do_request(*args, **kwargs)
        except TelegramError as exc:  # TimedOut, NetworkError: no answer at all
            BOT_API_ERRORS.labels(kind=type(exc).__name__).inc()
            raise
        if status >= 400:
            BOT_API_ERRORS.labels(kind=error_kind(status)).inc()
        return status, body
