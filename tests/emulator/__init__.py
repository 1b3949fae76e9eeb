"""A local Telegram Bot API emulator for end-to-end tests of the bot.

Usage::

    async with BotApiEmulator() as emu:
        alice = emu.user(1001, "Alice")
        app = application_builder(emu).build()
        ...  # add handlers
        async with running(app):
            await alice.send_command("start")
            reply = await alice.wait_for()

Faults (see tests/emulator/faults.py): ``emu.fail_next``/``flood_wait`` (error answers),
``emu.flood_limits`` (Telegram's 429 flood control), ``emu.drop_connection`` and
``emu.slow_down`` (calls), ``emu.drop_download``, ``emu.truncate_download`` and
``emu.slow_download`` (the file server), and ``emu.watch_call``/``emu.watch_download``
to await what the bot does instead of sleeping.
"""

from .faults import (
    TELEGRAM_OVERALL,
    TELEGRAM_PER_CHAT,
    TELEGRAM_PER_GROUP,
    CallRule,
    Download,
    DownloadRule,
    FloodLimiter,
    Rate,
)
from .models import ApiCall, ApiError, BotMessage, CallbackQueryRecord, StoredFile, UploadedFile
from .ptb import application_builder, running
from .server import BotApiEmulator
from .users import FakeChat, FakeGroup, FakeUser

__all__ = [
    "TELEGRAM_OVERALL",
    "TELEGRAM_PER_CHAT",
    "TELEGRAM_PER_GROUP",
    "ApiCall",
    "ApiError",
    "BotApiEmulator",
    "BotMessage",
    "CallRule",
    "CallbackQueryRecord",
    "Download",
    "DownloadRule",
    "FakeChat",
    "FakeGroup",
    "FakeUser",
    "FloodLimiter",
    "Rate",
    "StoredFile",
    "UploadedFile",
    "application_builder",
    "running",
]
