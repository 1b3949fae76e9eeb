"""Telling people things: the two calls the rest of the bot uses.

- ``announce(bot, outcome, actor)`` after an action of the SOP: sends the notices the
  action wrote into the outbox in its own transaction, waits for them (bounded by
  ``NOTICE_WAIT``) and returns a ``Delivery`` saying who was reached, who could not be
  (and why) and who is still being sent to. Say "sudah diberi tahu" only of
  ``delivery.reached``.
- ``send_safely(bot, recipients, text, markup)`` for a plain message outside the outbox:
  sent through the same rate-limited bot; a failure is recorded and reported like an
  undelivered notice. Returns the Telegram ids it reached.

Both go through the ``NoticeDispatcher`` the application registered for its bot; without
one (a bare ``Bot`` in a unit test) ``send_safely`` sends directly and ``announce``
sends nothing.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Iterable

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import TelegramError

from bot.dispatch import Delivery, NoticeDispatcher, open_button, queue_for
from sop.model import Actor
from sop.service import Outcome

log = logging.getLogger(__name__)

_dispatchers: dict[int, tuple[weakref.ref[Bot], NoticeDispatcher]] = {}


def register_dispatcher(bot: Bot, dispatcher: NoticeDispatcher) -> None:
    """Make ``announce``/``send_safely`` with ``bot`` go through ``dispatcher``."""
    for key, (ref, _) in list(_dispatchers.items()):
        if ref() is None:
            del _dispatchers[key]
    _dispatchers[id(bot)] = (weakref.ref(bot), dispatcher)


def dispatcher_for(bot: Bot) -> NoticeDispatcher | None:
    entry = _dispatchers.get(id(bot))
    if entry is None or entry[0]() is not bot:
        return None
    return entry[1]


async def send_safely(
    bot: Bot, recipients: Iterable[Actor], text: str, markup: InlineKeyboardMarkup | None
) -> list[int]:
    """Send to each recipient; one blocked or failing chat never stops the others.

    Returns the Telegram ids that received the message.
    """
    people = list(recipients)
    dispatcher = dispatcher_for(bot)
    if dispatcher is not None:
        results = await asyncio.gather(
            *(dispatcher.send_direct(actor, text, markup) for actor in people)
        )
        return [actor.telegram_id for actor, ok in zip(people, results, strict=True) if ok]
    delivered = []
    for actor in people:
        try:
            await bot.send_message(actor.telegram_id, text, reply_markup=markup)
            delivered.append(actor.telegram_id)
        except TelegramError as exc:
            log.warning("message to user %s not delivered: %s", actor.telegram_id, exc)
    return delivered


async def announce(bot: Bot, outcome: Outcome, actor: Actor) -> Delivery:
    """Send the notices of ``actor``'s action and say how they went (see the module)."""
    dispatcher = dispatcher_for(bot)
    if dispatcher is None:
        return Delivery()
    notices = outcome.notices or await queue_for(dispatcher.outbox, outcome, actor)
    return await dispatcher.deliver(notices)


__all__ = [
    "Delivery",
    "announce",
    "dispatcher_for",
    "open_button",
    "register_dispatcher",
    "send_safely",
]
