"""Updates of different people at the same time, those of one person in order.

python-telegram-bot processes updates one at a time unless told otherwise; then a
button press waits for another person's 20 MB upload. With ``concurrent_updates`` it runs
them all at once, and a person's second message may overtake the first (PTB's docs warn
that a ``ConversationHandler`` then sees its states out of order).
:class:`OrderedUpdateProcessor` sits in between: an update waits only for the updates
before it that concern the same person or chat, and at most ``max_running`` updates run at
a time.

Order is kept by a chain per key (the user's and the chat's id): when PTB hands an update
over, and before anything is awaited, it takes its place at the end of the chain of each
of its keys; it runs when the updates before it in those chains are done. PTB hands
updates over in the order they arrived (one task each, started in that order), so the
chains are in arrival order. The persistence stays correct: PTB marks a person's data for
saving only once their update is done, and the next update of the same person starts
after that (``bot.application.PpidApplication`` commits it with the update's id).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)

#: Updates of different people processed at the same time.
DEFAULT_MAX_RUNNING = 16
#: Updates taken from PTB's queue at most, running or waiting for their turn; beyond
#: that, PTB holds the rest in its queue.
DEFAULT_MAX_WAITING = 1024
CREATED = inspect.CORO_CREATED


def order_keys(update: object) -> tuple[int, ...]:
    """What an update must stay in order with: its sender and its chat (one key in a
    private chat, where both are the same id; none for what is not a Telegram update)."""
    if not isinstance(update, Update):
        return ()
    keys: list[int] = []
    if update.effective_user is not None:
        keys.append(update.effective_user.id)
    if update.effective_chat is not None and update.effective_chat.id not in keys:
        keys.append(update.effective_chat.id)
    return tuple(keys)


class OrderedUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across people and chats, in order within each, bounded."""

    __slots__ = ("_running", "_tails")

    def __init__(
        self, max_running: int = DEFAULT_MAX_RUNNING, *, max_waiting: int = DEFAULT_MAX_WAITING
    ) -> None:
        if max_running < 1:
            raise ValueError("max_running must be at least 1")
        super().__init__(max(max_waiting, max_running, 2))
        self._running = asyncio.BoundedSemaphore(max_running)
        #: key -> the future of the last update of that key, done when it is processed.
        self._tails: dict[int, asyncio.Future[None]] = {}

    @property
    def waiting_keys(self) -> int:
        """How many people or chats have an update in processing or waiting (for tests and
        health: 0 when idle, so nothing is kept for people who went quiet)."""
        return len(self._tails)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        keys = order_keys(update)
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        before = [tail for key in keys if (tail := self._tails.get(key)) is not None]
        for key in keys:  # taken before the first await: the chains keep arrival order
            self._tails[key] = done
        try:
            for tail in before:
                await asyncio.shield(tail)
            async with self._running:
                await coroutine
        finally:
            if inspect.iscoroutine(coroutine) and inspect.getcoroutinestate(coroutine) == CREATED:
                coroutine.close()  # cancelled before its turn: never started
            done.set_result(None)
            for key in keys:
                if self._tails.get(key) is done:
                    del self._tails[key]

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free: PTB waits for the updates in processing before this."""
