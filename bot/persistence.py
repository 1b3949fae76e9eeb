"""PTB persistence in the database: conversations and per-user data survive a restart.

Only JSON goes in (conversation states are ints, user data plain JSON values), so what
is stored stays readable and is never unpickled.
"""

from __future__ import annotations

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


class DatabasePersistence(BasePersistence[dict[str, Any], dict[str, Any], Any]):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        update_interval: float = 1.0,
    ) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self._sessions = sessions
        self._clock = clock

    async def _put(self, namespace: str, key: str, value: object) -> None:
        async with self._sessions() as session, session.begin():
            await Repository(session).kv_put(
                namespace, key, json.dumps(value, ensure_ascii=False), self._clock.now()
            )

    async def _delete(self, namespace: str, key: str) -> None:
        async with self._sessions() as session, session.begin():
            await Repository(session).kv_delete(namespace, key)

    async def _all(self, namespace: str) -> dict[str, Any]:
        async with self._sessions() as session, session.begin():
            rows = await Repository(session).kv_all(namespace)
            return {row.key: json.loads(row.data) for row in rows}

    # -- user data -------------------------------------------------------------------
    async def get_user_data(self) -> dict[int, dict[str, Any]]:
        stored = await self._all(USER_DATA)
        return defaultdict(dict, {int(key): value for key, value in stored.items()})

    async def update_user_data(self, user_id: int, data: dict[str, Any]) -> None:
        if data:
            await self._put(USER_DATA, str(user_id), data)
        else:
            await self._delete(USER_DATA, str(user_id))

    async def drop_user_data(self, user_id: int) -> None:
        await self._delete(USER_DATA, str(user_id))

    async def refresh_user_data(self, user_id: int, user_data: dict[str, Any]) -> None:
        """Data is written through on every update; nothing to refresh."""

    # -- conversations -----------------------------------------------------------------
    async def get_conversations(self, name: str) -> ConversationDict:
        stored = await self._all(CONVERSATION + name)
        return {tuple(json.loads(key)): state for key, state in stored.items()}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        encoded = json.dumps(list(key))
        if new_state is None:
            await self._delete(CONVERSATION + name, encoded)
        else:
            await self._put(CONVERSATION + name, encoded, new_state)

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
        """Everything is written through already."""
