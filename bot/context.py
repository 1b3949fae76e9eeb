"""A typed CallbackContext: handlers reach the service and the current person by property."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ExtBot

from sop.model import Actor
from sop.service import PpidService

if TYPE_CHECKING:
    from bot.cards import CardTracker
    from bot.dispatch import NoticeDispatcher
    from bot.runtime import Runtime


class BotData:
    """Application-wide services (not persisted)."""

    runtime: Runtime
    notices: NoticeDispatcher
    cards: CardTracker


class PpidContext(CallbackContext[ExtBot[None], dict[str, Any], dict[str, Any], BotData]):
    """Set per update by the access guard: ``actor`` is the registered person or None."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self._actor: Actor | None = None

    @property
    def runtime(self) -> Runtime:
        return self.bot_data.runtime

    @property
    def service(self) -> PpidService:
        return self.bot_data.runtime.service

    @property
    def notices(self) -> NoticeDispatcher:
        """Sends the outbox; ``bot.notify.announce`` is the usual way to use it."""
        return self.bot_data.notices

    @property
    def cards(self) -> CardTracker:
        """Follows the record cards sent, so they are edited when the record moves on."""
        return self.bot_data.cards

    @property
    def actor(self) -> Actor:
        """The registered person behind this update; the guard refused everyone else."""
        if self._actor is None:
            raise RuntimeError("no actor: the access guard did not run for this update")
        return self._actor

    @property
    def maybe_actor(self) -> Actor | None:
        return self._actor

    def set_actor(self, actor: Actor | None) -> None:
        self._actor = actor
