"""The update processor: concurrent across people, in order within one, bounded."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from telegram import Chat, Message, Update, User

from bot.updates import OrderedUpdateProcessor, order_keys

_ids = iter(range(1, 10_000))


def update(user_id: int, chat_id: int | None = None) -> Update:
    chat = Chat(
        chat_id if chat_id is not None else user_id, "private" if chat_id is None else "group"
    )
    user = User(user_id, f"u{user_id}", is_bot=False)
    message = Message(next(_ids), dt.datetime.now(dt.UTC), chat, from_user=user, text="x")
    return Update(next(_ids), message=message)


class Work:
    """Updates whose processing ends when the test says so; records start and end."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.gates: dict[str, asyncio.Event] = {}

    async def run(self, name: str) -> None:
        self.log.append(f"start {name}")
        gate = self.gates.setdefault(name, asyncio.Event())
        await gate.wait()
        self.log.append(f"end {name}")

    def release(self, name: str) -> None:
        self.gates.setdefault(name, asyncio.Event()).set()


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_keys_are_the_sender_and_the_chat() -> None:
    assert order_keys(update(7)) == (7,)
    assert order_keys(update(7, -100)) == (7, -100)
    assert order_keys(object()) == ()


async def test_people_run_at_once_and_one_persons_updates_in_order() -> None:
    processor = OrderedUpdateProcessor(8)
    work = Work()
    a1, a2, b1 = update(1), update(1), update(2)
    tasks = [
        asyncio.create_task(processor.process_update(u, work.run(name)))
        for u, name in ((a1, "a1"), (a2, "a2"), (b1, "b1"))
    ]
    await settle()
    assert work.log == ["start a1", "start b1"]  # b1 does not wait for a1; a2 does
    work.release("b1")
    await settle()
    assert work.log[-1] == "end b1"
    work.release("a2")  # released early: still waits for a1
    await settle()
    assert "start a2" not in work.log
    work.release("a1")
    await asyncio.gather(*tasks)
    assert work.log[2:] == ["end b1", "end a1", "start a2", "end a2"]
    assert processor.waiting_keys == 0


async def test_a_group_message_waits_for_its_sender_and_its_chat() -> None:
    processor = OrderedUpdateProcessor(8)
    work = Work()
    first_of_sender, first_in_chat, group = update(1), update(2, -100), update(1, -100)
    tasks = [
        asyncio.create_task(processor.process_update(u, work.run(name)))
        for u, name in ((first_of_sender, "s"), (first_in_chat, "c"), (group, "g"))
    ]
    await settle()
    work.release("s")
    await settle()
    assert "start g" not in work.log  # the chat's earlier update still runs
    work.release("c")
    work.release("g")
    await asyncio.gather(*tasks)
    assert work.log.index("start g") > work.log.index("end c")


async def test_at_most_max_running_at_once() -> None:
    processor = OrderedUpdateProcessor(2)
    work = Work()
    tasks = [
        asyncio.create_task(processor.process_update(update(n), work.run(str(n))))
        for n in range(1, 5)
    ]
    await settle()
    assert work.log == ["start 1", "start 2"]
    work.release("3")
    work.release("1")
    await settle()
    assert work.log == ["start 1", "start 2", "end 1", "start 3", "end 3", "start 4"]
    work.release("2")
    work.release("4")
    await asyncio.gather(*tasks)


async def test_a_cancelled_update_lets_the_next_one_run() -> None:
    processor = OrderedUpdateProcessor(4)
    work = Work()
    first = asyncio.create_task(processor.process_update(update(1), work.run("first")))
    waiting = asyncio.create_task(processor.process_update(update(1), work.run("waiting")))
    last = asyncio.create_task(processor.process_update(update(1), work.run("last")))
    await settle()
    waiting.cancel()
    work.release("first")
    work.release("last")
    await asyncio.gather(first, last)
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert work.log == ["start first", "end first", "start last", "end last"]
    assert processor.waiting_keys == 0


def test_max_running_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        OrderedUpdateProcessor(0)
