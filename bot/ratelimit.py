"""Every request to Telegram within its flood limits, retried instead of dropped.

python-telegram-bot's ``AIORateLimiter`` keeps the bot under the overall limit (about 30
messages a second) and the per-group limit (20 a minute). This subclass adds what a bot
that talks to people one by one needs as well:

- a limit per private chat (Telegram: about one message a second, sustained) that allows
  a short burst, so an interactive answer (edit the card, say what happened) is not held
  back while a long run of notices to the same person is paced;
- a flood wait (429 with ``retry_after``) that pauses only the chat it came from, then
  retries the request, instead of stopping every chat or giving up;
- retries with exponential back-off of transient failures (a 5xx answer, a dropped
  connection, a timeout) of what tells someone something (messages, edits, answers to
  button presses), so a reply is not lost to a hiccup. Other requests (getMe at start,
  file downloads, menus) fail at once: their callers have their own policy;
- an answer to a button press that came too late to be answered (Telegram: "query is too
  old", after a downtime or a redelivery at restart) is not an error: the press is still
  handled, only its toast is gone.

What is still refused after that (a blocked chat, a bad request, a flood that does not
end, a network down for good) is raised to the caller, which reports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import AIORateLimiter
from telegram.warnings import PTBDeprecationWarning

log = logging.getLogger(__name__)

Callback = Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]]
Sleep = Callable[[float], Awaitable[None]]

#: Telegram's refusal to answer a callback query that expired or was answered already.
_QUERY_GONE = "query is too old"
#: Forget the limiters of idle chats (back at full burst) once there are more than this.
_PRUNE_ABOVE = 512


class _OursToRetry(logging.Filter):
    """The base class logs every 429 as an error ("Rate limit hit after maximum of 0
    retries") because it is told to retry nothing; this class retries, and logs that."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Rate limit hit after maximum of 0 retries")


logging.getLogger("telegram.ext.AIORateLimiter").addFilter(_OursToRetry())


class PpidRateLimiter(AIORateLimiter):
    """``AIORateLimiter`` with a per-private-chat limit, per-chat flood waits and retries."""

    def __init__(
        self,
        *,
        overall_per_second: float = 30,
        group_per_minute: float = 20,
        chat_per_second: float = 1,
        chat_burst: int = 3,
        flood_retries: int = 20,
        transient_retries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        # The base class retries nothing: this class decides (per chat, with back-off).
        super().__init__(
            overall_max_rate=overall_per_second,
            overall_time_period=1,
            group_max_rate=group_per_minute,
            group_time_period=60,
            max_retries=0,
        )
        self.chat_per_second = chat_per_second
        self.chat_burst = max(int(chat_burst), 1)
        self.flood_retries = flood_retries
        self.transient_retries = transient_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._sleep = sleep
        self._chat_limiters: dict[int, AsyncLimiter] = {}
        self._paused_until: dict[int, float] = {}

    # -- the per-chat limit ------------------------------------------------------------
    def _chat_limiter(self, chat_id: int) -> AsyncLimiter | None:
        if self.chat_per_second <= 0:
            return None
        if len(self._chat_limiters) > _PRUNE_ABOVE:
            for key, limiter in list(self._chat_limiters.items()):
                if key != chat_id and limiter.has_capacity(limiter.max_rate):
                    del self._chat_limiters[key]
        found = self._chat_limiters.get(chat_id)
        if found is None:
            # A leaky bucket holding ``burst`` messages that drains at the sustained rate.
            found = AsyncLimiter(self.chat_burst, self.chat_burst / self.chat_per_second)
            self._chat_limiters[chat_id] = found
        return found

    async def _wait_out_flood(self, chat_id: int) -> None:
        """Wait while Telegram told this chat to hold on (a 429's ``retry_after``)."""
        loop = asyncio.get_running_loop()
        while True:
            until = self._paused_until.get(chat_id)
            if until is None:
                return
            left = until - loop.time()
            if left <= 0:
                self._paused_until.pop(chat_id, None)
                return
            await self._sleep(left)

    async def _within_chat_limit(
        self, chat_id: int, amount: int, call: Callable[[], Awaitable[Any]]
    ) -> Any:
        await self._wait_out_flood(chat_id)
        limiter = self._chat_limiter(chat_id)
        if limiter is not None:
            await limiter.acquire(min(amount, self.chat_burst))
        result = await call()
        if limiter is not None and amount > self.chat_burst:
            # An album counts as its items: what the burst could not hold is waited off.
            loop = asyncio.get_running_loop()
            debt = (amount - self.chat_burst) / self.chat_per_second
            until = loop.time() + debt
            self._paused_until[chat_id] = max(self._paused_until.get(chat_id, 0), until)
        return result

    # -- BaseRateLimiter ---------------------------------------------------------------
    async def process_request(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Send within the limits; wait out flood limits and retry transient failures."""
        chat_id = _private_chat(data)
        # An album is as many messages as it has items (within the burst).
        amount = len(data.get("media") or ()) if endpoint == "sendMediaGroup" else 1

        async def once() -> bool | dict[str, Any] | list[dict[str, Any]]:
            return await AIORateLimiter.process_request(
                self, callback, args, kwargs, endpoint, data, None
            )

        floods = transient = 0
        while True:
            try:
                if chat_id is None:
                    return await once()
                return await self._within_chat_limit(chat_id, max(amount, 1), once)  # type: ignore[no-any-return]
            except RetryAfter as exc:
                floods += 1
                wait = _retry_after_seconds(exc) + 0.1
                if floods > self.flood_retries:
                    log.error(
                        "%s to chat %s still flood-limited after %d waits; giving up",
                        endpoint,
                        chat_id,
                        floods - 1,
                    )
                    raise
                log.info("%s to chat %s: flood limit, retrying in %.1fs", endpoint, chat_id, wait)
                if chat_id is None:
                    await self._sleep(wait)
                else:
                    loop = asyncio.get_running_loop()
                    until = loop.time() + wait
                    self._paused_until[chat_id] = max(self._paused_until.get(chat_id, 0), until)
            except BadRequest as exc:
                if endpoint == "answerCallbackQuery" and _QUERY_GONE in exc.message.lower():
                    # The press came too late to answer (the bot was down for a while, or
                    # the update was delivered again after a restart): the toast cannot be
                    # shown any more, but what the press does must still be done.
                    log.info(
                        "the button press %s is too old to answer", data.get("callback_query_id")
                    )
                    return True
                raise  # a request Telegram refuses is refused again: not transient
            except NetworkError as exc:  # a 5xx, a dropped connection, a timeout
                if not _delivers(endpoint, data):
                    raise  # start-up, downloads, menus: their callers decide
                transient += 1
                if transient > self.transient_retries:
                    log.warning(
                        "%s to chat %s failed %d times (%s); giving up",
                        endpoint,
                        chat_id,
                        transient,
                        exc,
                    )
                    raise
                wait = min(self.backoff * 2 ** (transient - 1), self.max_backoff)
                log.info(
                    "%s to chat %s failed (%s); retrying in %.1fs", endpoint, chat_id, exc, wait
                )
                await self._sleep(wait)


def _delivers(endpoint: str, data: dict[str, Any]) -> bool:
    """Whether the request tells someone something (a message, an edit, a callback
    answer): those are retried after a transient failure, nothing else is."""
    return data.get("chat_id") is not None or endpoint == "answerCallbackQuery"


def _private_chat(data: dict[str, Any]) -> int | None:
    """The chat id of a request to a private chat (positive ids), else None."""
    chat_id = data.get("chat_id")
    with contextlib.suppress(TypeError, ValueError):
        chat_id = int(chat_id)  # type: ignore[arg-type]
    return chat_id if isinstance(chat_id, int) and chat_id > 0 else None


def _retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


__all__ = ["PpidRateLimiter"]
