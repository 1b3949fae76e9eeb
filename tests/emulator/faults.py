"""Fault injection for the Bot API emulator: flood limits, dropped and slowed calls, broken
downloads, and watches a test awaits instead of sleeping.

The emulator (:class:`~tests.emulator.server.BotApiEmulator`) creates these objects; tests
get them back from its methods (``flood_limits``, ``drop_connection``, ``slow_down``,
``watch_call``, ``drop_download``, ``truncate_download``, ``slow_download``,
``watch_download``) and await or release them.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Literal

from .models import ApiCall

#: Methods whose successful calls count against the flood limits: every way of putting a
#: message into a chat, and edits (Telegram limits edits of a chat's messages as well).
FLOOD_LIMITED_METHODS = frozenset(
    {
        "sendmessage",
        "senddocument",
        "sendphoto",
        "sendmediagroup",
        "copymessage",
        "forwardmessage",
        "editmessagetext",
        "editmessagecaption",
        "editmessagereplymarkup",
    }
)


@dataclass(frozen=True)
class Rate:
    """``count`` messages per ``per`` seconds, of which up to ``burst`` may go at once.

    ``burst`` defaults to ``count`` (at least 1): 20 per minute allows 20 at once, then one
    every 3 seconds.
    """

    count: float
    per: float = 1.0
    burst: int | None = None

    def __post_init__(self) -> None:
        if self.count <= 0 or self.per <= 0:
            raise ValueError("a rate needs a positive count and period")
        if self.burst is not None and self.burst < 1:
            raise ValueError("a burst is at least 1")

    @property
    def per_second(self) -> float:
        return self.count / self.per

    @property
    def capacity(self) -> int:
        return self.burst if self.burst is not None else max(1, math.floor(self.count))


#: About what Telegram enforces (core.telegram.org/bots/faq#broadcasting-to-users): one
#: message a second in a chat (short bursts pass), 20 a minute in a group, 30 a second overall.
TELEGRAM_PER_CHAT = Rate(1, 1.0, burst=3)
TELEGRAM_PER_GROUP = Rate(20, 60.0)
TELEGRAM_OVERALL = Rate(30, 1.0)


class _Bucket:
    """A token bucket that may go into debt: a call passes while at least one token is
    left and then pays its whole cost (an album of 10 passes, and the next call waits)."""

    def __init__(self, rate: Rate, now: float) -> None:
        self.rate = rate
        self.level = float(rate.capacity)
        self.updated = now

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated)
        self.level = min(float(self.rate.capacity), self.level + elapsed * self.rate.per_second)
        self.updated = now

    def wait(self, now: float) -> float:
        """Seconds until a call may pass (0: now)."""
        self._refill(now)
        return 0.0 if self.level >= 1.0 else (1.0 - self.level) / self.rate.per_second

    def charge(self, now: float, cost: int) -> None:
        self._refill(now)
        self.level -= cost


class FloodLimiter:
    """Telegram's flood control, per chat, per group and overall, on the emulator's clock.

    A private chat and a group both count against ``per_chat``; a group (negative chat id)
    also against ``per_group``. Every item of a ``sendMediaGroup`` album counts as one
    message (Telegram shows each as its own message); refused calls cost nothing.
    """

    def __init__(
        self,
        *,
        per_chat: Rate | None,
        per_group: Rate | None,
        overall: Rate | None,
        methods: frozenset[str],
    ) -> None:
        self.per_chat = per_chat
        self.per_group = per_group
        self.overall = overall
        self.methods = frozenset(method.lower() for method in methods)
        self._buckets: dict[tuple[str, int], _Bucket] = {}

    def _buckets_for(self, chat_id: int, now: float) -> list[_Bucket]:
        scopes: list[tuple[str, int, Rate]] = []
        if self.overall is not None:
            scopes.append(("overall", 0, self.overall))
        if self.per_chat is not None:
            scopes.append(("chat", chat_id, self.per_chat))
        if self.per_group is not None and chat_id < 0:
            scopes.append(("group", chat_id, self.per_group))
        buckets = []
        for kind, key, rate in scopes:
            bucket = self._buckets.get((kind, key))
            if bucket is None:
                bucket = self._buckets[(kind, key)] = _Bucket(rate, now)
            buckets.append(bucket)
        return buckets

    def counts(self, call: ApiCall) -> bool:
        chat_id = call.params.get("chat_id")
        return (
            call.method.lower() in self.methods
            and isinstance(chat_id, int)
            and not isinstance(chat_id, bool)
        )

    def retry_after(self, call: ApiCall, now: float) -> int | None:
        """Whole seconds to wait (as Telegram says them) if ``call`` must be refused now."""
        if not self.counts(call):
            return None
        wait = max((b.wait(now) for b in self._buckets_for(call.params["chat_id"], now)), default=0)
        return None if wait <= 0 else max(1, math.ceil(wait))

    def charge(self, call: ApiCall, now: float) -> None:
        if not self.counts(call):
            return
        cost = len(call.result) if isinstance(call.result, list) else 1
        for bucket in self._buckets_for(call.params["chat_id"], now):
            bucket.charge(now, cost)


# -- calls ------------------------------------------------------------------------------------


CallEffect = Literal["watch", "drop", "slow"]


class CallRule:
    """What ``drop_connection``, ``slow_down`` and ``watch_call`` return: the calls it
    caught (``calls``), an event set on the first one (``arrived``) and, once that call was
    answered or dropped, ``answered``.

    ``await rule.wait()`` gives the first call caught (AssertionError after ``timeout``).
    """

    def __init__(
        self,
        effect: CallEffect,
        method: str,
        *,
        chat_id: int | None,
        match: Callable[[ApiCall], bool] | None,
        times: int | None,
        after: bool = False,
        seconds: float = 0.0,
    ) -> None:
        if times is not None and times < 1:
            raise ValueError("times is at least 1 (or None: every call)")
        self.effect = effect
        self.method = method.lower()
        self.chat_id = chat_id
        self.match = match
        self.remaining = times
        self.after = after
        self.seconds = seconds
        self.calls: list[ApiCall] = []
        self.arrived = asyncio.Event()
        self.answered = asyncio.Event()
        self._released = asyncio.Event()

    @property
    def active(self) -> bool:
        return self.remaining is None or self.remaining > 0

    def matches(self, call: ApiCall) -> bool:
        if not self.active or call.method.lower() != self.method:
            return False
        if self.chat_id is not None and call.params.get("chat_id") != self.chat_id:
            return False
        return self.match is None or bool(self.match(call))

    def take(self, call: ApiCall) -> None:
        """``call`` is caught by this rule."""
        if self.remaining is not None:
            self.remaining -= 1
        self.calls.append(call)
        self.arrived.set()

    def done(self, call: ApiCall) -> None:
        if self.calls and call is self.calls[0]:
            self.answered.set()

    async def hold(self) -> None:
        """Wait ``seconds`` (or until :meth:`release`)."""
        if self._released.is_set():
            return
        with contextlib.suppress(TimeoutError):
            timeout = None if math.isinf(self.seconds) else self.seconds
            await asyncio.wait_for(self._released.wait(), timeout)

    def release(self) -> None:
        """Let held calls go on now and catch no more."""
        self.remaining = 0
        self._released.set()

    def cancel(self) -> None:
        """Catch no more calls (held ones stay held until their time is up)."""
        self.remaining = 0

    async def wait(self, timeout: float = 10.0) -> ApiCall:  # noqa: ASYNC109
        try:
            await asyncio.wait_for(self.arrived.wait(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"the bot made no {self.method} call{self._where()} within {timeout}s"
            ) from None
        return self.calls[0]

    async def wait_answered(self, timeout: float = 10.0) -> ApiCall:  # noqa: ASYNC109
        call = await self.wait(timeout)
        try:
            await asyncio.wait_for(self.answered.wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"{call} was not answered within {timeout}s") from None
        return call

    def __await__(self) -> Generator[Any, None, ApiCall]:
        return self.wait().__await__()

    def _where(self) -> str:
        return f" to chat {self.chat_id}" if self.chat_id is not None else ""

    def __repr__(self) -> str:
        return f"CallRule({self.effect} {self.method}{self._where()}, caught {len(self.calls)})"


# -- downloads --------------------------------------------------------------------------------


DownloadEffect = Literal["watch", "drop", "truncate", "slow"]
ContentLength = Literal["partial", "absent", "full"]


@dataclass
class Download:
    """One request to the file server (``/file/bot<token>/<file_path>``)."""

    file_id: str
    file_path: str
    size: int  # the whole file, as getFile reported it
    body_size: int  # what the server meant to send
    sent: int = 0  # bytes written so far
    outcome: str = "pending"  # complete | truncated | dropped | client gone
    started: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    finished: asyncio.Event = field(default_factory=asyncio.Event, repr=False)


class DownloadRule:
    """What the download faults and ``watch_download`` return: the downloads caught
    (``downloads``), ``started`` (set when the first one began sending) and ``finished``.

    ``await rule.wait()`` gives the first download once it started sending."""

    def __init__(
        self,
        effect: DownloadEffect,
        file_id: str | None,
        *,
        times: int | None,
        keep: int | float = 0.5,
        content_length: ContentLength = "partial",
        bytes_per_second: int = 0,
    ) -> None:
        if times is not None and times < 1:
            raise ValueError("times is at least 1 (or None: every download)")
        if effect == "slow" and bytes_per_second < 1:
            raise ValueError("bytes_per_second is at least 1")
        if isinstance(keep, float) and not 0.0 <= keep < 1.0:
            raise ValueError("keep as a fraction is in [0, 1)")
        self.effect = effect
        self.file_id = file_id
        self.remaining = times
        self.keep = keep
        self.content_length = content_length
        self.bytes_per_second = bytes_per_second
        self.downloads: list[Download] = []
        self.started = asyncio.Event()
        self.finished = asyncio.Event()
        self._released = False

    @property
    def active(self) -> bool:
        return self.remaining is None or self.remaining > 0

    def matches(self, file_id: str) -> bool:
        return self.active and self.file_id in (None, file_id)

    def take(self, download: Download) -> None:
        if self.remaining is not None:
            self.remaining -= 1
        self.downloads.append(download)

    def body_size(self, size: int) -> int:
        if self.effect != "truncate":
            return size
        kept = int(size * self.keep) if isinstance(self.keep, float) else self.keep
        return max(0, min(kept, size - 1))

    @property
    def released(self) -> bool:
        return self._released

    def release(self) -> None:
        """Send the rest of slowed downloads at full speed, and catch no more."""
        self.remaining = 0
        self._released = True

    def cancel(self) -> None:
        self.remaining = 0

    def began(self, download: Download) -> None:
        if self.downloads and download is self.downloads[0]:
            self.started.set()

    def ended(self, download: Download) -> None:
        if self.downloads and download is self.downloads[0]:
            self.finished.set()

    async def wait(self, timeout: float = 10.0) -> Download:  # noqa: ASYNC109
        try:
            await asyncio.wait_for(self.started.wait(), timeout)
        except TimeoutError:
            what = f"file {self.file_id}" if self.file_id else "any file"
            raise AssertionError(f"the bot did not download {what} within {timeout}s") from None
        return self.downloads[0]

    async def wait_finished(self, timeout: float = 10.0) -> Download:  # noqa: ASYNC109
        download = await self.wait(timeout)
        try:
            await asyncio.wait_for(self.finished.wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"{download} did not end within {timeout}s") from None
        return download

    def __await__(self) -> Generator[Any, None, Download]:
        return self.wait().__await__()

    def __repr__(self) -> str:
        return f"DownloadRule({self.effect} {self.file_id or '*'}, caught {len(self.downloads)})"
