"""The Application of ppidbot: PTB's, with its persistence written after every update.

PTB writes conversations and user data in intervals; a crash between a change in the
database (a draft created) and the next interval rolled the conversation back. Here the
conversation state, the user data and the id of the update are committed in one
transaction as soon as the update is handled, and an update Telegram delivers again
(the bot died before confirming it) is recognised by its id and not handled twice.

Updates of different people run at the same time (``bot.updates``); the commit after one
update writes only what PTB marked as done (the data of people whose update finished,
conversation states set by finished handlers), so another person's update in progress
is never saved half-way.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.persistence import DatabasePersistence

log = logging.getLogger(__name__)


class PpidApplication(Application[Any, Any, Any, Any, Any, Any]):
    #: Called first when the application stops (before the JobQueue and the updates):
    #: background work that must not outlive the bot's connection to Telegram.
    on_stop: list[Callable[[], Awaitable[None]]]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.on_stop = []

    async def stop(self) -> None:
        for callback in self.on_stop:
            try:
                await callback()
            except Exception:
                log.exception("stopping %s failed", callback)
        await super().stop()

    @property
    def _database(self) -> DatabasePersistence | None:
        persistence = self.persistence
        return persistence if isinstance(persistence, DatabasePersistence) else None

    async def initialize(self) -> None:
        await super().initialize()
        if self._database is not None:
            await self._database.load_handled()

    async def process_update(self, update: object) -> None:
        database = self._database
        if database is None or not isinstance(update, Update):
            await super().process_update(update)
            return
        if database.was_handled(update.update_id):
            log.info("update %s was handled before a restart; not handled again", update.update_id)
            return
        try:
            await super().process_update(update)
        finally:
            database.handled(update.update_id)
            try:
                await self.update_persistence()
            except Exception:  # kept pending: the next update or interval writes it
                log.exception("could not save the conversations after update %s", update.update_id)

    async def update_persistence(self) -> None:
        await super().update_persistence()
        if self._database is not None:
            await self._database.commit()
