"""Cards that follow their record: every card with buttons the bot sent for a record is
edited to the record's new state after each committed change, with each viewer's buttons
recomputed for them, so nobody keeps a stale "Terima & simpan" on a record that was
returned or accepted.

The cards are tracked in the database (chat, message, for whom); the service's
``subscribe`` listener is the hook. A record's cards are edited one record at a time
(a lock per record), so an edit with the actor's status line ("Diserahkan oleh …") and
the refresh after the same change never overwrite each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.dispatch import Spawn, background
from bot.texts import WIB
from bot.texts import records as record_texts
from bot.texts import steps as step_texts
from bot.texts.fitting import fit_record
from handlers.full_text import with_full_text
from handlers.keyboards import record_keyboard
from sop.document_text import TextService
from sop.errors import SopError
from sop.model import Actor, RecordView, State
from sop.outbox import Card, OutboxService
from sop.register import RegisterService

log = logging.getLogger(__name__)

#: After this state nothing changes on a card any more: it is edited once, then let go.
FINAL_STATES = frozenset({State.STORED, State.CANCELLED})
_GONE = ("message to edit not found", "message can't be edited", "message_id_invalid")


class CardTracker:
    def __init__(
        self,
        bot: Bot,
        outbox: OutboxService,
        *,
        tz: ZoneInfo = WIB,
        spawn: Spawn | None = None,
        document_texts: bool = False,
    ) -> None:
        self.bot = bot
        self.outbox = outbox
        self.service = outbox.service
        self.tz = tz
        self.document_texts = document_texts  # cards show the softcopies' text state
        self._spawn: Spawn = spawn or background()
        self._locks: dict[int, asyncio.Lock] = {}
        self._refreshing: dict[int, asyncio.Task[None]] = {}
        self._again: set[int] = set()
        self._held: dict[tuple[int, int], int] = {}

    # -- what a card shows -------------------------------------------------------------
    async def render(
        self, viewer: Actor, record: RecordView, note: str | None = None
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        """The card's text and this viewer's buttons; with ``note``, what happened on it
        (kept below the card)."""
        now = self.service.clock.now()
        markup = record_keyboard(self.service, viewer, record)
        if note:
            text = step_texts.closed_card(record, now, note, self.tz)
            return text, with_full_text(markup, record, text)
        from handlers.document_texts import block_of  # handlers import the bot's modules
        from handlers.papers import papers_lines

        details = await RegisterService(self.service).details(viewer, record)
        papers = await papers_lines(self.service, viewer, record)
        extra = ""
        if self.document_texts:  # the softcopies' text state and personal-data hints
            extra = block_of(await TextService(self.service).record_texts(viewer, record.id))
        text = fit_record(
            record,
            lambda shown: record_texts.card(shown, now, self.tz, details=details) + extra + papers,
            complete=lambda text: not details.trail or record_texts.TRAIL_TITLE in text,
        )
        return text, with_full_text(markup, record, text)

    # -- following cards ---------------------------------------------------------------
    async def follow(
        self, record: RecordView, viewer: Actor, chat_id: int, message_id: int
    ) -> None:
        """Follow a card just sent; cards of the record in that chat beyond the latest
        few lose their buttons (they are no longer followed)."""
        older = await self.outbox.track_card(record, viewer, chat_id, message_id)
        for card in older:
            await self._strip(card)
        current = await self._current(viewer, record.id)
        if current is not None and current.version != record.version:
            self.schedule(record.id)  # the record moved on while the card was on its way

    @contextlib.asynccontextmanager
    async def holding(self, chat_id: int, message_id: int | None) -> AsyncIterator[None]:
        """While a button's handler works on the card it was pressed on (and will
        ``close`` it), refreshes leave that card alone: it is edited once, by the handler."""
        if message_id is None:
            yield
            return
        key = (chat_id, message_id)
        self._held[key] = self._held.get(key, 0) + 1
        try:
            yield
        finally:
            self._held[key] -= 1
            if not self._held[key]:
                del self._held[key]

    async def close(
        self,
        record: RecordView,
        viewer: Actor,
        chat_id: int,
        message_id: int,
        note: str,
        *,
        buttons: bool = True,
    ) -> bool:
        """The card a button was pressed on: show what happened (``note``, kept on later
        edits) with the viewer's buttons for the record as it is now (``buttons=False``:
        none, and the card is no longer followed, because a newer card replaces it).
        False if the message cannot be edited any more."""
        async with self._lock(record.id):
            current = await self._current(viewer, record.id) or record
            await self.outbox.track_card(current, viewer, chat_id, message_id, note=note)
            text, markup = await self.render(viewer, current, note)
            if not buttons:  # only the full text, when the card had to be shortened
                markup = with_full_text(None, current, text)
            done = await self._edit(chat_id, message_id, text, markup)
            if current.state in FINAL_STATES or not done or not buttons:
                await self._retire_message(record.id, chat_id, message_id)
            return done

    async def on_change(self, record: RecordView) -> None:
        """The service committed a change of ``record``: edit its cards (in the background)."""
        self.schedule(record.id)

    def schedule(self, record_id: int) -> None:
        task = self._refreshing.get(record_id)
        if task is not None and not task.done():
            self._again.add(record_id)
            return
        self._refreshing[record_id] = self._spawn(self._refresh_until_quiet(record_id))

    async def _refresh_until_quiet(self, record_id: int) -> None:
        try:
            while True:
                self._again.discard(record_id)
                await self.refresh(record_id)
                if record_id not in self._again:
                    return
        finally:
            self._refreshing.pop(record_id, None)

    async def refresh(self, record_id: int) -> int:
        """Edit every followed card of the record to its current state; returns how many."""
        edited = 0
        async with self._lock(record_id):
            retire: list[int] = []
            for card in await self.outbox.cards(record_id):
                if (card.chat_id, card.message_id) in self._held:
                    continue  # its handler edits it
                record = await self._current(card.viewer, record_id) if card.viewer else None
                if record is None:  # the viewer may not see it any more
                    await self._strip(card)
                    retire.append(card.id)
                    continue
                if record.version == card.version:
                    continue  # it shows the record as it is
                text, markup = await self.render(card.viewer, record, card.note)  # type: ignore[arg-type]
                if not await self._edit(card.chat_id, card.message_id, text, markup):
                    retire.append(card.id)
                    continue
                await self.outbox.card_shows(card.id, record.version)
                edited += 1
                if record.state in FINAL_STATES:
                    retire.append(card.id)
            await self.outbox.retire_cards(retire)
        return edited

    # -- helpers -----------------------------------------------------------------------
    def _lock(self, record_id: int) -> asyncio.Lock:
        lock = self._locks.get(record_id)
        if lock is None:
            if len(self._locks) > 1024:
                self._locks = {k: v for k, v in self._locks.items() if v.locked()}
            lock = self._locks[record_id] = asyncio.Lock()
        return lock

    async def _current(self, viewer: Actor | None, record_id: int) -> RecordView | None:
        if viewer is None:
            return None
        try:
            return await self.service.record(viewer, record_id)
        except SopError:
            return None

    async def _edit(
        self, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None
    ) -> bool:
        """Edit a card; False when the message is gone or cannot be edited any more."""
        try:
            await self.bot.edit_message_text(
                text, chat_id=chat_id, message_id=message_id, reply_markup=markup
            )
        except BadRequest as exc:
            message = exc.message.lower()
            if "not modified" in message:
                return True
            log.info("card %s in chat %s not edited: %s", message_id, chat_id, exc.message)
            return not any(gone in message for gone in _GONE)
        except Forbidden:
            return False
        except TelegramError as exc:  # still failing after the rate limiter's retries
            log.warning("card %s in chat %s not edited: %s", message_id, chat_id, exc)
        return True

    async def _strip(self, card: Card) -> None:
        """Take the buttons off a card that is no longer followed."""
        try:
            await self.bot.edit_message_reply_markup(
                chat_id=card.chat_id, message_id=card.message_id, reply_markup=None
            )
        except TelegramError as exc:
            log.info("buttons of card %s not removed: %s", card.message_id, exc)

    async def _retire_message(self, record_id: int, chat_id: int, message_id: int) -> None:
        cards = [
            card.id
            for card in await self.outbox.cards(record_id)
            if (card.chat_id, card.message_id) == (chat_id, message_id)
        ]
        await self.outbox.retire_cards(cards)


__all__ = ["CardTracker"]
