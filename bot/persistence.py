"""PTB persistence in the database: conversations and per-user data survive a restart.

Only JSON goes in (conversation states are ints, user data plain JSON values), so what
is stored stays readable and is never unpickled.

What PTB hands over is kept and written in one transaction by ``commit``: after every
update (``bot.application.PpidApplication``), together with the ids of the updates that
were handled, so that after a crash the conversations are exactly as the last handled
update left them and an update Telegram delivers again is recognised and skipped.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from db.repositories import Repository
from sop.clock import Clock

USER_DATA = "user_data"
CONVERSATION = "conv:"
BOT = "bot"
HANDLED_UPDATES = "handled_updates"
#: How many handled update ids are remembered (Telegram redelivers only the latest ones).
HANDLED_KEPT = 200


class DatabasePersistence(BasePersistence[dict[str, Any], dict[str, Any], Any]):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        update_interval: float = 60.0,
    ) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self._sessions = sessions
        self._clock = clock
        #: Writes handed over by PTB and not committed yet: (namespace, key) -> JSON or None.
        self._pending: dict[tuple[str, str], str | None] = {}
        self._handled: list[int] = []
        self._handled_dirty = False
        self._lock = asyncio.Lock()

    # -- the one transaction ---------------------------------------------------------
    async def commit(self) -> None:
        """Write everything handed over so far, and the handled update ids, at once."""
        async with self._lock:
            await self._commit()

    async def _commit(self) -> None:
        if not self._pending and not self._handled_dirty:
            return
        pending = dict(self._pending)
        handled = list(self._handled)
        async with self._sessions() as session, session.begin():
            repo = Repository(session)
            now = self._clock.now()
            for (namespace, key), data in pending.items():
                if data is None:
                    await repo.kv_delete(namespace, key)
                else:
                    await repo.kv_put(namespace, key, data, now)
            if self._handled_dirty:
                await repo.kv_put(BOT, HANDLED_UPDATES, json.dumps(handled), now)
        for item, data in pending.items():
            if item in self._pending and self._pending[item] == data:  # unchanged meanwhile
                del self._pending[item]
        if self._handled == handled:
            self._handled_dirty = False

    def _stage(self, namespace: str, key: str, value: object | None) -> None:
        self._pending[(namespace, key)] = (
            None if value is None else json.dumps(value, ensure_ascii=False)
        )

    async def _all(self, namespace: str) -> dict[str, Any]:
        async with self._sessions() as session, session.begin():
            rows = await Repository(session).kv_all(namespace)
            return {row.key: json.loads(row.data) for row in rows}

    # -- handled updates ---------------------------------------------------------------
    async def load_handled(self) -> None:
        stored = (await self._all(BOT)).get(HANDLED_UPDATES)
        self._handled = [int(i) for i in stored] if isinstance(stored, list) else []

    def was_handled(self, update_id: int) -> bool:
        return update_id in self._handled

    def handled(self, update_id: int) -> None:
        """``update_id`` was handled; committed with the next ``commit``."""
        self._handled = [*self._handled, update_id][-HANDLED_KEPT:]
        self._handled_dirty = True

    # -- user data -------------------------------------------------------------------
    async def get_user_data(self) -> dict[int, dict[str, Any]]:
        stored = await self._all(USER_DATA)
        return defaultdict(dict, {int(key): value for key, value in stored.items()})

    async def update_user_data(self, user_id: int, data: dict[str, Any]) -> None:
        self._stage(USER_DATA, str(user_id), data or None)

    async def drop_user_data(self, user_id: int) -> None:
        self._stage(USER_DATA, str(user_id), None)

    async def refresh_user_data(self, user_id: int, user_data: dict[str, Any]) -> None:
        """The bot is the only writer; nothing to refresh."""

    # -- conversations -----------------------------------------------------------------
    async def get_conversations(self, name: str) -> ConversationDict:
        stored = await self._all(CONVERSATION + name)
        return {tuple(json.loads(key)): state for key, state in stored.items()}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        self._stage(CONVERSATION + name, json.dumps(list(key)), new_state)

    # -- not persisted: chat data, bot data, callback data -----------------------------
    async def get_chat_data(self) -> dict[int, dict[str, Any]]:
        return defaultdict(dict)

    async def update_chat_data(self, chat_id: int, data: dict[str, Any]) -> None:
        """Chat data is not used by ppidbot."""

    async def drop_chat_data(self, chat_id: int) -> None:
        """Chat data is not used by ppidbot."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[str, Any]) -> None:
        """Chat data is not used by ppidbot."""

    async def get_bot_data(self) -> Any:
        return {}

    async def update_bot_data(self, data: Any) -> None:
        """Bot data holds live services only; never persisted."""

    async def refresh_bot_data(self, bot_data: Any) -> None:
        """Bot data holds live services only; never persisted."""

    async def get_callback_data(self) -> CDCData | None:
        return None

    async def update_callback_data(self, data: CDCData) -> None:
        """Callback data is small typed strings, not arbitrary objects."""

    async def flush(self) -> None:
        """At shutdown: whatever is still pending is written."""
        await self.commit()
