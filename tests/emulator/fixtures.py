"""Pytest fixtures; import them into a conftest.py::

from tests.emulator.fixtures import emulator  # noqa: F401
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from .server import BotApiEmulator


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    """A started Bot API emulator, stopped after the test."""
    async with BotApiEmulator() as emu:
        yield emu
