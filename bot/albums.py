"""The items of albums (Telegram media groups) waiting for their one acknowledgement.

Each item of an album is stored as it arrives; what happened to it (stored, or refused and
why) is kept here, in the database, until the album's summary was sent, so a restart in
between loses no item and the summary still comes.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import AlbumItemRow
from db.repositories import Repository
from sop.clock import Clock


@dataclass(frozen=True, slots=True)
class AlbumItem:
    id: int
    message_id: int
    record_id: int
    stored: bool
    line: str


class AlbumBook:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def add(
        self,
        chat_id: int,
        group: str,
        message_id: int,
        user_id: int,
        record_id: int,
        stored: bool,
        line: str,
    ) -> None:
        """Keep one item's outcome; the same message twice is kept once."""
        try:
            async with self._sessions() as session, session.begin():
                await Repository(session).add_album_item(
                    AlbumItemRow(
                        chat_id=chat_id,
                        media_group_id=group[:64],
                        message_id=message_id,
                        user_id=user_id,
                        record_id=record_id,
                        stored=stored,
                        line=line,
                        created_at=self._clock.now(),
                    )
                )
        except IntegrityError:
            pass  # this message's outcome is already kept

    async def items(self, chat_id: int, group: str) -> list[AlbumItem]:
        """The album's items not yet acknowledged, in the order they were sent."""
        async with self._sessions() as session, session.begin():
            rows = await Repository(session).album_items(chat_id, group[:64])
            return [AlbumItem(r.id, r.message_id, r.record_id, r.stored, r.line) for r in rows]

    async def forget(self, item_ids: list[int]) -> None:
        """The summary naming these items was sent."""
        async with self._sessions() as session, session.begin():
            await Repository(session).delete_album_items(item_ids)

    async def pending(self) -> list[tuple[int, str]]:
        async with self._sessions() as session, session.begin():
            return await Repository(session).pending_albums()
