"""Wiring python-telegram-bot's Application to the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, ApplicationBuilder

if TYPE_CHECKING:
    from .server import BotApiEmulator


def application_builder(emulator: BotApiEmulator) -> ApplicationBuilder:
    """An ApplicationBuilder whose bot talks to ``emulator`` (add handlers, then build())."""
    return (
        ApplicationBuilder()
        .token(emulator.token)
        .base_url(emulator.base_url)
        .base_file_url(emulator.base_file_url)
    )


@asynccontextmanager
async def running(
    application: Application[Any, Any, Any, Any, Any, Any], *, poll_timeout: int = 1
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """Run ``application`` with long polling for the duration of the block, then stop it."""
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.0, timeout=poll_timeout)
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()
