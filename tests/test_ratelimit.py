"""The rate limiter on its own: pacing per chat with a burst, flood waits per chat, retries.

Requests are plain coroutines here (no Telegram); the end-to-end flood tests run the same
limiter inside the bot against the emulator's 429 answers."""

from __future__ import annotations

import asyncio
import warnings
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.warnings import PTBDeprecationWarning

from bot.ratelimit import PpidRateLimiter


class Requests:
    """A stand-in for the HTTP call: each call is recorded with its time; ``faults[chat]``
    lists exceptions raised (in order) before the chat's calls succeed."""

    def __init__(self, faults: dict[int, list[Exception]] | None = None) -> None:
        self.faults = faults or {}
        self.calls: list[tuple[int, float]] = []

    async def __call__(self, chat_id: int) -> dict[str, Any]:
        self.calls.append((chat_id, asyncio.get_running_loop().time()))
        pending = self.faults.get(chat_id)
        if pending:
            raise pending.pop(0)
        return {"ok": True, "chat": chat_id}

    def times(self, chat_id: int) -> list[float]:
        return [at for chat, at in self.calls if chat == chat_id]


async def send(
    limiter: PpidRateLimiter,
    requests: Requests,
    chat_id: int,
    endpoint: str = "sendMessage",
    **data: Any,
) -> Any:
    return await limiter.process_request(
        callback=requests,
        args=(chat_id,),
        kwargs={},
        endpoint=endpoint,
        data={"chat_id": chat_id, **data},
        rate_limit_args=None,
    )


def flood(milliseconds: int) -> RetryAfter:
    with warnings.catch_warnings():  # PTB 22 warns about retry_after's future type
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        return RetryAfter(timedelta(milliseconds=milliseconds))


def no_wait() -> dict[str, Any]:
    async def sleep(seconds: float) -> None:
        await asyncio.sleep(0)

    return {"backoff": 0, "sleep": sleep}


async def test_one_chat_gets_a_burst_then_the_sustained_rate_others_are_not_held() -> None:
    limiter = PpidRateLimiter(chat_per_second=20, chat_burst=3, overall_per_second=1000)
    requests = Requests()
    loop = asyncio.get_running_loop()
    start = loop.time()
    await asyncio.gather(*(send(limiter, requests, 7) for _ in range(7)))
    times = requests.times(7)
    assert len(times) == 7
    # Three at once, then one per 1/20 s: the seventh no sooner than 4/20 s after the start.
    assert times[2] - start < 0.04
    assert times[6] - start >= 4 / 20 - 0.01
    # Other chats were never paced by chat 7.
    other = loop.time()
    await asyncio.gather(*(send(limiter, requests, chat) for chat in range(100, 110)))
    assert max(requests.times(chat)[0] for chat in range(100, 110)) - other < 0.04


async def test_an_album_counts_as_its_items() -> None:
    limiter = PpidRateLimiter(chat_per_second=20, chat_burst=3, overall_per_second=1000)
    requests = Requests()
    loop = asyncio.get_running_loop()
    start = loop.time()
    await send(limiter, requests, 5, "sendMediaGroup", media=[{}] * 10)  # goes at once
    await send(limiter, requests, 5)  # waits for the 7 items the burst could not hold
    assert requests.times(5)[0] - start < 0.04
    assert requests.times(5)[1] - start >= 7 / 20 - 0.01


async def test_a_flood_wait_pauses_only_its_chat_and_the_request_is_retried() -> None:
    requests = Requests({1: [flood(300)]})
    limiter = PpidRateLimiter(chat_per_second=1000, chat_burst=100)
    loop = asyncio.get_running_loop()
    start = loop.time()
    first = asyncio.create_task(send(limiter, requests, 1))
    await asyncio.sleep(0.05)
    assert await send(limiter, requests, 2) == {"ok": True, "chat": 2}
    assert requests.times(2)[0] - start < 0.25  # chat 2 did not wait for chat 1's flood
    assert await first == {"ok": True, "chat": 1}
    tries = requests.times(1)
    assert len(tries) == 2 and tries[1] - tries[0] >= 0.3


async def test_transient_failures_are_retried_with_back_off_refusals_are_not() -> None:
    requests = Requests(
        {
            1: [NetworkError("Internal Server Error"), TimedOut(), NetworkError("Bad Gateway")],
            2: [BadRequest("Bad Request: chat not found")],
            3: [Forbidden("Forbidden: bot was blocked by the user")],
            4: [NetworkError("down")] * 10,
        }
    )
    limiter = PpidRateLimiter(
        chat_per_second=1000, chat_burst=100, transient_retries=3, **no_wait()
    )
    assert await send(limiter, requests, 1) == {"ok": True, "chat": 1}
    assert len(requests.times(1)) == 4
    with pytest.raises(BadRequest):
        await send(limiter, requests, 2)
    with pytest.raises(Forbidden):
        await send(limiter, requests, 3)
    with pytest.raises(NetworkError):
        await send(limiter, requests, 4)
    assert [len(requests.times(chat)) for chat in (2, 3, 4)] == [1, 1, 4]


async def test_an_answer_to_a_button_is_retried_a_start_up_call_is_not() -> None:
    requests = Requests({0: [NetworkError("Bad Gateway")], 1: [NetworkError("Bad Gateway")]})
    limiter = PpidRateLimiter(**no_wait())

    async def call(endpoint: str, chat: int) -> Any:
        return await limiter.process_request(
            callback=requests,
            args=(chat,),
            kwargs={},
            endpoint=endpoint,
            data={"callback_query_id": "1"} if endpoint == "answerCallbackQuery" else {},
            rate_limit_args=None,
        )

    assert await call("answerCallbackQuery", 0) == {"ok": True, "chat": 0}
    assert len(requests.times(0)) == 2
    with pytest.raises(NetworkError):  # getMe at start has its own retries (bot/cli.py)
        await call("getMe", 1)
    assert len(requests.times(1)) == 1


async def test_a_flood_that_never_ends_is_raised_after_the_bounded_waits() -> None:
    requests = Requests({1: [flood(10) for _ in range(5)]})
    limiter = PpidRateLimiter(flood_retries=2)
    with pytest.raises(RetryAfter):
        await send(limiter, requests, 1)
    assert len(requests.calls) == 3
