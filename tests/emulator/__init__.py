"""A local Telegram Bot API emulator for end-to-end tests of the bot.

Usage::

    async with BotApiEmulator() as emu:
        alice = emu.user(1001, "Alice")
        app = application_builder(emu).build()
        ...  # add handlers
        async with running(app):
            await alice.send_command("start")
            reply = await alice.wait_for()
"""

from .models import ApiCall, ApiError, BotMessage, CallbackQueryRecord, StoredFile, UploadedFile
from .ptb import application_builder, running
from .server import BotApiEmulator
from .users import FakeChat, FakeGroup, FakeUser

__all__ = [
    "ApiCall",
    "ApiError",
    "BotApiEmulator",
    "BotMessage",
    "CallbackQueryRecord",
    "FakeChat",
    "FakeGroup",
    "FakeUser",
    "StoredFile",
    "UploadedFile",
    "application_builder",
    "running",
]
