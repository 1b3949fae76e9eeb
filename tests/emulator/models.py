"""Plain data the emulator records and hands to tests."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any


class ApiError(Exception):
    """An error answer of the Bot API: ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(
        self, error_code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    @classmethod
    def bad_request(cls, message: str) -> ApiError:
        return cls(400, f"Bad Request: {message}")

    @classmethod
    def forbidden(cls, message: str) -> ApiError:
        return cls(403, f"Forbidden: {message}")

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


@dataclass
class UploadedFile:
    """A file part of a multipart request."""

    field_name: str
    file_name: str | None
    content_type: str | None
    data: bytes

    def __repr__(self) -> str:
        return f"UploadedFile({self.file_name!r}, {len(self.data)} bytes)"


@dataclass
class StoredFile:
    """A file on the emulated Telegram servers, reachable by ``file_id`` and ``file_path``."""

    file_id: str
    file_unique_id: str
    kind: str  # "document" | "photo"
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None

    @property
    def file_size(self) -> int:
        return len(self.data)

    def document_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
        }
        if self.file_name is not None:
            document["file_name"] = self.file_name
        if self.mime_type is not None:
            document["mime_type"] = self.mime_type
        return document

    def photo_size_dict(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "width": self.width or 0,
            "height": self.height or 0,
        }


@dataclass
class ApiCall:
    """One request the bot made, with its parameters decoded to Python values."""

    method: str
    params: dict[str, Any]
    time: float  # time.monotonic() when the request arrived
    files: dict[str, UploadedFile] = field(default_factory=dict)
    ok: bool | None = None  # None while the request is still being answered (long polls)
    result: Any = None
    error_code: int | None = None
    description: str | None = None
    abandoned: bool = False  # the bot had hung up before the answer (a cancelled long poll)
    dropped: bool = False  # drop_connection() closed the connection instead of answering

    def __repr__(self) -> str:
        outcome = "pending" if self.ok is None else "ok" if self.ok else self.description
        if self.dropped:
            outcome = f"dropped after {outcome}" if self.ok is not None else "dropped"
        elif self.abandoned and self.ok is None:
            outcome = "never ran: the bot hung up"
        return f"ApiCall({self.method}, {self.params!r} -> {outcome})"


@dataclass
class CallbackQueryRecord:
    """A button press the emulator delivered, and how the bot answered it."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    created_at: float  # on the emulator's clock
    answer: dict[str, Any] | None = None

    @property
    def answered(self) -> bool:
        return self.answer is not None


_SNAPSHOT_FIELDS = (
    "kind",
    "text",
    "source_text",
    "parse_mode",
    "entities",
    "reply_markup",
    "document",
    "photo",
    "raw",
    "edit_count",
)


@dataclass(eq=False)
class BotMessage:
    """A message the bot sent to a chat, as the person sees it; edits update it in place."""

    message_id: int
    chat_id: int
    kind: str  # "text" | "document" | "photo"
    date: int
    text: str | None = None  # text or caption, as displayed (after parse_mode)
    source_text: str | None = None  # text or caption exactly as the bot sent it
    parse_mode: str | None = None
    entities: list[dict] = field(default_factory=list)
    reply_markup: dict | None = None  # inline keyboard, or the reply keyboard the bot sent
    document: dict | None = None  # file_name, mime_type, file_size, file_id, file_unique_id
    photo: list[dict] | None = None  # photo sizes, smallest first
    media_group_id: str | None = None
    raw: dict = field(default_factory=dict)  # the Message object as the Bot API returns it
    edited: bool = False
    deleted: bool = False
    edit_count: int = 0
    history: list[BotMessage] = field(default_factory=list)  # previous versions, oldest first

    def buttons(self) -> list[tuple[str, str | None]]:
        """(text, callback_data) of every inline button, row by row; url buttons give None."""
        return [
            (button.get("text", ""), button.get("callback_data"))
            for button in self._inline_buttons()
        ]

    def url_buttons(self) -> list[tuple[str, str]]:
        """(text, url) of the inline buttons that open a link."""
        return [
            (button.get("text", ""), button["url"])
            for button in self._inline_buttons()
            if "url" in button
        ]

    def button_url(self, text: str) -> str:
        for button_text, url in self.url_buttons():
            if button_text == text:
                return url
        raise AssertionError(f"no url button {text!r} in {self}")

    def keyboard(self) -> list[list[str]]:
        """Rows of button texts of a reply keyboard (ReplyKeyboardMarkup) this message showed."""
        rows = (self.reply_markup or {}).get("keyboard") or []
        return [[b if isinstance(b, str) else b.get("text", "") for b in row] for row in rows]

    def _inline_buttons(self) -> list[dict]:
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [button for row in rows for button in row]

    @property
    def file_id(self) -> str | None:
        """The file the message carries: the document, or the largest photo size."""
        if self.document:
            return self.document["file_id"]
        if self.photo:
            return self.photo[-1]["file_id"]
        return None

    def snapshot(self) -> BotMessage:
        copy_ = BotMessage(self.message_id, self.chat_id, self.kind, self.date)
        for name in _SNAPSHOT_FIELDS:
            setattr(copy_, name, copy.deepcopy(getattr(self, name)))
        copy_.media_group_id = self.media_group_id
        copy_.edited = self.edited
        return copy_

    def __str__(self) -> str:
        flags = "".join(
            f" [{flag}]" for flag, on in (("edited", self.edited), ("deleted", self.deleted)) if on
        )
        body = repr(self.text) if self.text is not None else ""
        if self.document:
            body = f"{self.document.get('file_name')!r} {body}".strip()
        buttons = f" buttons={self.buttons()}" if self.buttons() else ""
        return f"#{self.message_id} {self.kind}{flags}: {body}{buttons}"
