"""Simulated people and chats: what a test uses to act as a Telegram user."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import formatting
from .models import ApiError, BotMessage

if TYPE_CHECKING:
    from .server import BotApiEmulator

Predicate = Callable[[BotMessage], bool] | str | None


def _matcher(predicate: Predicate) -> Callable[[BotMessage], bool]:
    if predicate is None:
        return lambda message: True
    if isinstance(predicate, str):
        needle = predicate
        return lambda message: message.text is not None and needle in message.text
    return predicate


class FakeChat:
    """A chat as the emulated Telegram keeps it, and as the test watches the bot in it."""

    type: str  # "private", "group" or "supergroup"

    def __init__(self, emulator: BotApiEmulator, chat_id: int) -> None:
        self._emu = emulator
        self.id = chat_id
        self.inbox: list[BotMessage] = []  # what the bot sent here, in order, kept current
        self.messages: dict[int, dict] = {}  # every message of the chat, as Bot API objects
        self.deleted_ids: set[int] = set()
        self.chat_actions: list[str] = []  # sendChatAction actions, in order
        self.reply_keyboard: dict | None = None  # the reply keyboard currently shown, if any
        self._next_message_id = 1
        self._cursor = 0
        self._edits_seen: dict[int, int] = {}

    # -- kept by the emulator -----------------------------------------------------------------

    @property
    def chat_instance(self) -> str:
        return str(abs(self.id) * 7919 % 10**18 + 10**17)

    def chat_dict(self) -> dict:
        raise NotImplementedError

    def full_info(self) -> dict:
        return {
            **self.chat_dict(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def check_bot_can_send(self) -> None:
        """Raise the 403 Telegram gives when the bot may not send to this chat."""

    def new_message_id(self) -> int:
        message_id = self._next_message_id
        self._next_message_id += 1
        return message_id

    def add_bot_message(self, message: BotMessage, markup: dict | None) -> None:
        self.inbox.append(message)
        if markup and "keyboard" in markup:
            self.reply_keyboard = markup
        elif markup and markup.get("remove_keyboard"):
            self.reply_keyboard = None

    def bot_message(self, message_id: int) -> BotMessage | None:
        return next((m for m in self.inbox if m.message_id == message_id), None)

    def delete(self, message_id: int) -> None:
        self.deleted_ids.add(message_id)
        shown = self.bot_message(message_id)
        if shown is not None:
            shown.deleted = True

    # -- for tests ----------------------------------------------------------------------------

    def last(self) -> BotMessage:
        """The last message the bot sent to this chat."""
        if not self.inbox:
            raise AssertionError(f"the bot sent nothing to chat {self.id}")
        return self.inbox[-1]

    def message(self, message_id: int) -> BotMessage:
        found = self.bot_message(message_id)
        if found is None:
            raise AssertionError(f"no bot message {message_id} in chat {self.id}\n{self.dump()}")
        return found

    def mark(self) -> None:
        """From now on, wait_for() only looks at messages the bot sends after this point."""
        self._cursor = len(self.inbox)

    async def wait_for(
        self,
        predicate: Predicate = None,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109
        count: int = 1,
    ) -> BotMessage:
        """The ``count``-th new bot message matching ``predicate`` (a callable, or a substring
        of the text). New means after the message returned by the previous wait_for, or after
        mark(). Raises AssertionError with the chat's contents on timeout."""
        matches = _matcher(predicate)

        def find() -> int | None:
            seen = 0
            for index in range(self._cursor, len(self.inbox)):
                if matches(self.inbox[index]):
                    seen += 1
                    if seen == count:
                        return index + 1  # never 0, so always truthy
            return None

        found = await self._emu._wait_until(find, timeout)
        if found is None:
            what = f"{count} new message(s)" + (f" matching {predicate!r}" if predicate else "")
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what} in chat {self.id}\n{self.dump()}"
            )
        self._cursor = found
        return self.inbox[found - 1]

    async def wait_for_edit(
        self,
        message_id: int,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> BotMessage:
        """The message once it was edited again since the last wait_for_edit for it."""
        seen = self._edits_seen.get(message_id, 0)

        def edited() -> BotMessage | None:
            message = self.bot_message(message_id)
            return message if message is not None and message.edit_count > seen else None

        message = await self._emu._wait_until(edited, timeout)
        if message is None:
            raise AssertionError(
                f"timed out after {timeout}s waiting for an edit of message {message_id} in chat "
                f"{self.id}\n{self.dump()}"
            )
        self._edits_seen[message_id] = message.edit_count
        return message

    async def wait_for_action(
        self,
        action: str = "typing",
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> None:
        if not await self._emu._wait_until(lambda: action in self.chat_actions, timeout):
            raise AssertionError(f"the bot never sent chat action {action!r} to chat {self.id}")

    async def download(self, bot_message: BotMessage) -> bytes:
        """The bytes of the document (or largest photo size) of a message the bot sent."""
        file_id = bot_message.file_id
        if file_id is None:
            raise AssertionError(f"message has no file: {bot_message}")
        return self._emu.files[file_id].data

    def assert_received_once_in_order(self, *expected: Predicate) -> list[BotMessage]:
        """Each of ``expected`` (a substring of the text, or a predicate) matches exactly one
        message the bot got into this chat, and they came in this order; returns them."""
        found: list[BotMessage] = []
        for wanted in expected:
            matches = [m for m in self.inbox if _matcher(wanted)(m)]
            if len(matches) != 1:
                raise AssertionError(
                    f"{len(matches)} messages match {wanted!r} in chat {self.id} (wanted exactly "
                    f"one)\n{self.dump()}"
                )
            found.append(matches[0])
        order = [self.inbox.index(message) for message in found]
        if order != sorted(order):
            raise AssertionError(
                f"messages out of order in chat {self.id}: {[str(m) for m in found]}\n{self.dump()}"
            )
        return found

    def dump(self) -> str:
        lines = [f"chat {self.id} inbox ({len(self.inbox)} bot messages):"]
        for index, message in enumerate(self.inbox):
            marker = "->" if index == self._cursor else "  "
            lines.append(f" {marker} {message}")
        if self._cursor >= len(self.inbox):
            lines.append(" -> (waiting here)")
        failed = self._emu.failed_calls()[-5:]
        if failed:
            lines.append("last failed API calls of the bot:")
            lines.extend(f"    {call.method}: {call.description}" for call in failed)
        return "\n".join(lines)

    # -- shared by people and groups ---------------------------------------------------------

    async def _message(
        self,
        sender: FakeUser,
        content: dict,
        reply_to: int | BotMessage | dict | None,
    ) -> dict:
        message = self._emu._post_user_message(
            self, sender, content, reply_to=_message_id(reply_to)
        )
        await asyncio.sleep(0)
        return message

    async def _press(
        self,
        presser: FakeUser,
        message_or_id: int | BotMessage,
        text: str | None,
        data: str | None,
    ) -> str:
        message = self.message(message_or_id) if isinstance(message_or_id, int) else message_or_id
        if message.chat_id != self.id:
            raise AssertionError(f"message {message.message_id} is not in chat {self.id}")
        if message.deleted:
            raise AssertionError(f"message {message.message_id} was deleted: {message}")
        if text is None and data is None:
            raise TypeError("give the button's text or its callback data")
        for button_text, button_data in message.buttons():
            if (text is None or button_text == text) and (data is None or button_data == data):
                if button_data is None:
                    raise AssertionError(f"button {button_text!r} opens a url; it sends no query")
                query_id = self._emu._press(presser, self, message.message_id, button_data)
                await asyncio.sleep(0)
                return query_id
        raise AssertionError(
            f"no button text={text!r} data={data!r} on {message}; buttons: {message.buttons()}"
        )

    async def _press_raw(self, presser: FakeUser, message_id: int, data: str) -> str:
        query_id = self._emu._press(presser, self, message_id, data)
        await asyncio.sleep(0)
        return query_id

    async def wait_for_answer(
        self,
        callback_query_id: str,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> dict:
        """How the bot answered a button press: text, show_alert, url, cache_time."""
        query = self._emu.callback_queries[callback_query_id]
        answered = await self._emu._wait_until(lambda: query.answered, timeout)
        if not answered:
            raise AssertionError(
                f"the bot did not answer callback query {callback_query_id} (data "
                f"{query.data!r}) within {timeout}s\n{self.dump()}"
            )
        assert query.answer is not None
        return dict(query.answer)


class FakeUser(FakeChat):
    """A person, and their private chat with the bot (chat id == user id)."""

    type = "private"

    def __init__(
        self,
        emulator: BotApiEmulator,
        user_id: int,
        first_name: str,
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = None,
        started: bool = True,
    ) -> None:
        super().__init__(emulator, user_id)
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.started = started
        self.blocked = False

    def user_dict(self) -> dict:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def chat_dict(self) -> dict:
        chat: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        return chat

    def check_bot_can_send(self) -> None:
        if self.blocked:
            raise ApiError.forbidden("bot was blocked by the user")
        if not self.started:
            raise ApiError.forbidden("bot can't initiate conversation with a user")

    # -- what the person does -----------------------------------------------------------------

    async def send_text(
        self, text: str, *, reply_to: int | BotMessage | dict | None = None
    ) -> dict:
        """Type a message ("/start abc" is marked as a bot command, as clients do)."""
        return await self._message(self, _text_content(text), reply_to)

    async def send_command(self, command: str, args: str = "") -> dict:
        text = "/" + command.removeprefix("/") + (f" {args}" if args else "")
        return await self.send_text(text)

    async def send_document(
        self,
        data: bytes,
        file_name: str,
        mime_type: str,
        *,
        caption: str | None = None,
        media_group_id: str | None = None,
    ) -> dict:
        stored = self._emu._store_document(data, file_name, mime_type)
        content: dict[str, Any] = {"document": stored.document_dict()}
        return await self._message(self, _media_content(content, caption, media_group_id), None)

    async def send_photo(
        self, data: bytes, *, caption: str | None = None, media_group_id: str | None = None
    ) -> dict:
        sizes = self._emu._store_photo(data, strict=False)
        content: dict[str, Any] = {"photo": [size.photo_size_dict() for size in sizes]}
        return await self._message(self, _media_content(content, caption, media_group_id), None)

    async def forward(self, message: dict | BotMessage) -> dict:
        """Forward a message from another chat here (the bot sees forward_origin)."""
        original = message.raw if isinstance(message, BotMessage) else message
        content = {
            key: copy.deepcopy(original[key])
            for key in ("text", "entities", "document", "photo", "caption", "caption_entities")
            if key in original
        }
        content["forward_origin"] = copy.deepcopy(original.get("forward_origin")) or {
            "type": "user",
            "sender_user": copy.deepcopy(original["from"]),
            "date": original.get("date", self._emu.now()),
        }
        return await self._message(self, content, None)

    async def edit_text(self, message: dict | int, text: str) -> dict:
        """Edit a text message this person sent; the bot gets an edited_message update."""
        message_id = message if isinstance(message, int) else message["message_id"]
        edited = self._emu._post_user_message(self, self, _text_content(text), edited_of=message_id)
        await asyncio.sleep(0)
        return edited

    async def press(
        self,
        message_or_id: int | BotMessage,
        *,
        text: str | None = None,
        data: str | None = None,
    ) -> str:
        """Press an inline button of a bot message (by its text or callback data).

        Returns the callback query id, for wait_for_answer()."""
        return await self._press(self, message_or_id, text, data)

    async def press_raw(self, message_id: int, data: str) -> str:
        """A callback query with any data, as a modified client could send."""
        return await self._press_raw(self, message_id, data)

    def block(self) -> None:
        self._emu.block(self.id)

    def unblock(self) -> None:
        self._emu.unblock(self.id)

    def __repr__(self) -> str:
        return f"FakeUser({self.id}, {self.first_name!r})"


class FakeGroup(FakeChat):
    """A group chat the bot is a member of."""

    def __init__(
        self, emulator: BotApiEmulator, chat_id: int, title: str, *, privacy_mode: bool = True
    ) -> None:
        super().__init__(emulator, chat_id)
        self.title = title
        self.privacy_mode = privacy_mode
        self.username: str | None = None
        self.bot_is_member = True
        self.type = "supergroup" if str(chat_id).startswith("-100") else "group"

    def chat_dict(self) -> dict:
        chat: dict[str, Any] = {"id": self.id, "type": self.type, "title": self.title}
        if self.username:
            chat["username"] = self.username
        return chat

    def check_bot_can_send(self) -> None:
        if not self.bot_is_member:
            kind = "supergroup" if self.type == "supergroup" else "group"
            raise ApiError.forbidden(f"bot is not a member of the {kind} chat")

    def bot_sees(self, message: dict, bot_username: str) -> bool:
        """Whether a bot in privacy mode receives this message."""
        if not self.bot_is_member:
            return False
        if not self.privacy_mode:
            return True
        text = message.get("text", message.get("caption", ""))
        reply = message.get("reply_to_message") or {}
        if reply.get("from", {}).get("id") == self._emu.bot_id:
            return True
        if f"@{bot_username}".lower() in text.lower():
            return True
        for entity in message.get("entities", []):
            if entity["type"] == "bot_command":
                command = text[entity["offset"] : entity["offset"] + entity["length"]]
                _, _, addressee = command.partition("@")
                if not addressee or addressee.lower() == bot_username.lower():
                    return True
        return False

    def remove_bot(self) -> None:
        """The bot is removed from the group: sends fail with 403."""
        self.bot_is_member = False

    async def send_text(
        self, user: FakeUser, text: str, *, reply_to: int | BotMessage | dict | None = None
    ) -> dict:
        return await self._message(user, _text_content(text), reply_to)

    async def send_command(self, user: FakeUser, command: str, args: str = "") -> dict:
        text = "/" + command.removeprefix("/") + (f" {args}" if args else "")
        return await self.send_text(user, text)

    async def press(
        self,
        user: FakeUser,
        message_or_id: int | BotMessage,
        *,
        text: str | None = None,
        data: str | None = None,
    ) -> str:
        return await self._press(user, message_or_id, text, data)

    async def press_raw(self, user: FakeUser, message_id: int, data: str) -> str:
        return await self._press_raw(user, message_id, data)

    def __repr__(self) -> str:
        return f"FakeGroup({self.id}, {self.title!r})"


def _text_content(text: str) -> dict:
    content: dict[str, Any] = {"text": text}
    entities = formatting.bot_command_entities(text)
    if entities:
        content["entities"] = entities
    return content


def _media_content(content: dict, caption: str | None, media_group_id: str | None) -> dict:
    if caption:
        content["caption"] = caption
        entities = formatting.bot_command_entities(caption)
        if entities:
            content["caption_entities"] = entities
    if media_group_id:
        content["media_group_id"] = media_group_id
    return content


def _message_id(reference: int | BotMessage | dict | None) -> int | None:
    if reference is None or isinstance(reference, int):
        return reference
    if isinstance(reference, BotMessage):
        return reference.message_id
    return reference["message_id"]
