"""The Bot API methods the emulator answers, with the real server's checks and errors.

:class:`BotApiMethods` is a mixin of :class:`~tests.emulator.server.BotApiEmulator`; each
method registered with :func:`api_method` answers one Bot API method (case-insensitively, as
the Bot API does) and raises :class:`~tests.emulator.models.ApiError` to refuse it.
"""

from __future__ import annotations

import copy
import json
import random
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import web

from . import formatting
from .formatting import FormattedText, FormattingError
from .models import ApiCall, ApiError, BotMessage, CallbackQueryRecord, StoredFile, UploadedFile
from .users import FakeChat, FakeGroup, FakeUser

# Limits of the real Bot API (api.telegram.org, not a local server).
MAX_UPLOAD_SIZE = 50 * 1024 * 1024
MAX_PHOTO_SIZE = 10 * 1024 * 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
CALLBACK_QUERY_LIFETIME = 15 * 60
MAX_INLINE_BUTTONS = 100
MAX_MEDIA_GROUP = 10
MAX_COMMANDS = 100

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
CONFLICT_OTHER_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
    "delete the webhook first"
)

# Update types sent when allowed_updates was never given (or given as an empty list).
DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "callback_query",
        "inline_query",
        "chosen_inline_result",
        "shipping_query",
        "pre_checkout_query",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
COMMAND_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)

_INT_RE = re.compile(r"[+-]?\d+")

# How form fields (always strings) are decoded, as the real server reads each field.
_JSON_FIELDS = {
    "reply_markup": "reply keyboard markup",
    "entities": "entities",
    "caption_entities": "caption entities",
    "media": "media",
    "commands": "commands",
    "scope": "BotCommandScope",
    "allowed_updates": "allowed updates",
    "menu_button": "menu button",
    "link_preview_options": "link preview options",
    "reply_parameters": "reply parameters",
    "message_ids": "message identifiers",
}
_INT_FIELDS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "message_id",
        "user_id",
        "offset",
        "limit",
        "timeout",
        "cache_time",
        "max_connections",
        "message_thread_id",
        "reply_to_message_id",
    }
)
_BOOL_FIELDS = frozenset(
    {
        "show_alert",
        "disable_notification",
        "protect_content",
        "drop_pending_updates",
        "disable_web_page_preview",
        "disable_content_type_detection",
        "allow_sending_without_reply",
        "has_spoiler",
        "show_caption_above_media",
        "allow_paid_broadcast",
    }
)

Handler = Callable[[Any, ApiCall], Any]
HANDLERS: dict[str, tuple[str, Handler]] = {}


def api_method(name: str) -> Callable[[Handler], Handler]:
    """Register a Bot API method (methods are case-insensitive in the Bot API)."""

    def register(function: Handler) -> Handler:
        HANDLERS[name.lower()] = (name, function)
        return function

    return register


async def read_request(request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    raw: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if not request.body_exists:
        return raw, files
    content_type = request.content_type
    if content_type == "application/json":
        try:
            body = json.loads(await request.read() or b"{}")
        except ValueError:
            raise ApiError.bad_request("can't parse JSON encoded request") from None
        if not isinstance(body, dict):
            raise ApiError.bad_request("can't parse JSON encoded request")
        raw.update(body)
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            form = await request.post()
        except web.HTTPRequestEntityTooLarge:
            raise ApiError(413, "Request Entity Too Large") from None
        for name, value in form.items():
            if isinstance(value, web.FileField):
                files[name] = UploadedFile(
                    name, value.filename, value.content_type, value.file.read()
                )
            else:
                raw[name] = value
    return raw, files


def decode_params(raw: dict[str, Any]) -> dict[str, Any]:
    """Give form fields (always text) the types the Bot API reads them as."""
    params: dict[str, Any] = {}
    for name, value in raw.items():
        if isinstance(value, str):
            if name in _JSON_FIELDS:
                try:
                    value = json.loads(value)
                except ValueError:
                    raise ApiError.bad_request(
                        f"can't parse {_JSON_FIELDS[name]} JSON object"
                    ) from None
            elif name in _INT_FIELDS and _INT_RE.fullmatch(value.strip()):
                value = int(value)
            elif name in _BOOL_FIELDS:
                value = value.strip().lower() in ("true", "1")
        params[name] = value
    return params


class BotApiMethods:
    """The Bot API methods; state lives on the emulator this is mixed into."""

    bot_id: int
    max_download_size: int
    commands: dict[tuple[str, str], list[dict]]
    menu_buttons: dict[int | None, dict]
    files: dict[str, StoredFile]
    callback_queries: dict[str, CallbackQueryRecord]
    webhook: dict[str, Any]
    _chats: dict[int, FakeChat]
    _updates: list[dict]
    _allowed_updates: frozenset[str]
    _poll_generation: int
    _photo_sets: dict[str, list[StoredFile]]
    _issued_paths: set[str]
    _closing: bool

    if TYPE_CHECKING:
        # Provided by BotApiEmulator.
        def bot_user(self) -> dict: ...
        def now(self) -> int: ...
        def _monotonic(self) -> float: ...
        def _notify(self) -> None: ...
        async def _wait_until(
            self,
            condition: Callable[[], Any],
            timeout: float,  # noqa: ASYNC109
        ) -> Any: ...
        def _reply_copy(self, chat: FakeChat, message_id: int) -> dict: ...
        def _store_document(
            self, data: bytes, file_name: str | None, mime_type: str | None
        ) -> StoredFile: ...
        def _store_photo(self, data: bytes, *, strict: bool) -> list[StoredFile]: ...

    # -- shared request pieces ---------------------------------------------------------------

    def _resolve_chat(self, value: Any, *, sending: bool = True) -> FakeChat:
        if value is None or value == "":
            raise ApiError.bad_request("chat_id is empty")
        chat: FakeChat | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            chat = self._chats.get(value)
        elif isinstance(value, str) and value.startswith("@"):
            chat = next(
                (
                    c
                    for c in self._chats.values()
                    if isinstance(c, FakeGroup) and c.username and f"@{c.username}" == value
                ),
                None,
            )
        if chat is None:
            raise ApiError.bad_request("chat not found")
        if sending:
            chat.check_bot_can_send()
        return chat

    def _formatted(
        self, call: ApiCall, field: str, entities_field: str, *, required: bool
    ) -> FormattedText | None:
        text = call.params.get(field)
        if text is None or (not required and text == ""):
            if required:
                raise ApiError.bad_request("message text is empty")
            return None
        entities = call.params.get(entities_field)
        if entities is not None and not isinstance(entities, list):
            raise ApiError.bad_request(f"can't parse {_JSON_FIELDS[entities_field]} JSON object")
        try:
            parsed = formatting.parse(str(text), call.params.get("parse_mode"), entities)
        except FormattingError as error:
            raise ApiError.bad_request(_lower_first(str(error))) from None
        parsed = formatting.trim(parsed)
        if required and not parsed.text:
            raise ApiError.bad_request("message text is empty")
        return parsed

    def _check_length(self, formatted: FormattedText | None, *, caption: bool) -> None:
        if formatted is None:
            return
        length = formatting.utf16_len(formatted.text)
        if caption and length > formatting.MAX_CAPTION_LENGTH:
            raise ApiError.bad_request("message caption is too long")
        if not caption and length > formatting.MAX_TEXT_LENGTH:
            raise ApiError.bad_request("message is too long")

    def _reply_markup(self, call: ApiCall, *, inline_only: bool = False) -> dict | None:
        raw = call.params.get("reply_markup")
        if raw is None or raw == "":
            return None
        if not isinstance(raw, dict):
            raise ApiError.bad_request("object expected as reply markup")
        if "inline_keyboard" in raw:
            return {"inline_keyboard": _checked_inline_keyboard(raw["inline_keyboard"])}
        if inline_only:
            raise ApiError.bad_request("inline keyboard expected")
        if "keyboard" in raw:
            rows = raw["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise ApiError.bad_request(
                    'field "keyboard" of the ReplyKeyboardMarkup must be an Array'
                )
            return copy.deepcopy(raw)
        if raw.get("remove_keyboard") or raw.get("force_reply"):
            return copy.deepcopy(raw)
        raise ApiError.bad_request("can't parse reply keyboard markup JSON object")

    def _reply_to(self, call: ApiCall, chat: FakeChat) -> dict | None:
        parameters = call.params.get("reply_parameters")
        message_id = call.params.get("reply_to_message_id")
        allow_missing = bool(call.params.get("allow_sending_without_reply"))
        if isinstance(parameters, dict):
            message_id = parameters.get("message_id")
            allow_missing = bool(parameters.get("allow_sending_without_reply", allow_missing))
        if message_id is None:
            return None
        if message_id not in chat.messages or message_id in chat.deleted_ids:
            if allow_missing:
                return None
            raise ApiError.bad_request("message to be replied not found")
        return self._reply_copy(chat, message_id)

    def _send(
        self,
        call: ApiCall,
        chat: FakeChat,
        content: dict,
        *,
        formatted_field: str | None = None,
        markup: dict | None = None,
        media_group_id: str | None = None,
        reply_to: dict | None = None,
    ) -> dict:
        """Store a message the bot sent and show it to the chat; returns the API Message."""
        message: dict[str, Any] = {
            "message_id": chat.new_message_id(),
            "from": self.bot_user(),
            "chat": chat.chat_dict(),
            "date": self.now(),
        }
        if media_group_id:
            message["media_group_id"] = media_group_id
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        message.update(content)
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        chat.messages[message["message_id"]] = message
        text = content.get("text", content.get("caption"))
        source = call.params.get(formatted_field) if formatted_field else None
        chat.add_bot_message(
            BotMessage(
                message_id=message["message_id"],
                chat_id=chat.id,
                kind=_kind_of(message),
                date=message["date"],
                text=text,
                source_text=None if source is None else str(source),
                parse_mode=call.params.get("parse_mode"),
                entities=copy.deepcopy(
                    content.get("entities", content.get("caption_entities", []))
                ),
                reply_markup=copy.deepcopy(markup),
                document=copy.deepcopy(content.get("document")),
                photo=copy.deepcopy(content.get("photo")),
                media_group_id=media_group_id,
                raw=copy.deepcopy(message),
            ),
            markup,
        )
        self._notify()
        return copy.deepcopy(message)

    def _editable(self, call: ApiCall) -> tuple[FakeChat, dict]:
        if call.params.get("inline_message_id"):
            raise ApiError.bad_request("MESSAGE_ID_INVALID")  # no inline mode in the emulator
        chat = self._resolve_chat(call.params.get("chat_id"), sending=False)
        message_id = call.params.get("message_id")
        if not isinstance(message_id, int):
            raise ApiError.bad_request("message identifier is not specified")
        message = chat.messages.get(message_id)
        if message is None or message_id in chat.deleted_ids:
            raise ApiError.bad_request("message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise ApiError.bad_request("message can't be edited")
        return chat, message

    def _apply_edit(
        self,
        call: ApiCall,
        chat: FakeChat,
        message: dict,
        changes: dict[str, Any],
        markup: dict | None,
        *,
        formatted_field: str | None,
    ) -> dict:
        current = {key: message.get(key) for key in changes}
        if current == changes and message.get("reply_markup") == markup:
            raise ApiError.bad_request(NOT_MODIFIED)
        for key, value in changes.items():
            if value in (None, []):
                message.pop(key, None)
            else:
                message[key] = value
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        message["edit_date"] = self.now()

        shown = chat.bot_message(message["message_id"])
        if shown is not None:
            shown.history.append(shown.snapshot())
            shown.edited = True
            shown.edit_count += 1
            shown.raw = copy.deepcopy(message)
            shown.reply_markup = copy.deepcopy(markup)
            if formatted_field is not None:
                shown.text = message.get("text", message.get("caption"))
                shown.entities = copy.deepcopy(
                    message.get("entities", message.get("caption_entities", []))
                )
                source = call.params.get(formatted_field)
                shown.source_text = None if source is None else str(source)
                shown.parse_mode = call.params.get("parse_mode")
        self._notify()
        return copy.deepcopy(message)

    def _input_file(
        self, call: ApiCall, value: Any, field: str, kind: str
    ) -> UploadedFile | StoredFile:
        """What an InputFile field names: an upload, or a file already on the servers."""
        if value is None:
            upload = call.files.get(field)
            if upload is None:
                raise ApiError.bad_request(f"there is no {field} in the request")
            return upload
        if not isinstance(value, str) or not value:
            raise ApiError.bad_request(f"there is no {field} in the request")
        if value.startswith("attach://"):
            upload = call.files.get(value[len("attach://") :])
            if upload is None:
                raise ApiError.bad_request(f"there is no {field} in the request")
            return upload
        stored = self.files.get(value)
        if stored is None:
            if "." in value or "://" in value:
                raise ApiError.bad_request("failed to get HTTP URL content")
            raise ApiError.bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            raise ApiError.bad_request(
                f"can't use file of type {stored.kind.title()} as {kind.title()}"
            )
        return stored

    def _document_content(self, call: ApiCall, value: Any, field: str) -> dict:
        source = self._input_file(call, value, field, "document")
        if isinstance(source, UploadedFile):
            _check_upload(source)
            source = self._store_document(source.data, source.file_name, None)
        return {"document": source.document_dict()}

    def _photo_content(self, call: ApiCall, value: Any, field: str) -> dict:
        source = self._input_file(call, value, field, "photo")
        if isinstance(source, UploadedFile):
            _check_upload(source)
            if len(source.data) > MAX_PHOTO_SIZE:
                raise ApiError.bad_request(
                    f"file of size {len(source.data)} bytes is too big for a photo; the maximum "
                    f"size is {MAX_PHOTO_SIZE} bytes"
                )
            sizes = self._store_photo(source.data, strict=True)
        else:
            sizes = self._photo_sets[source.file_id]
        return {"photo": [size.photo_size_dict() for size in sizes]}

    # -- the methods -------------------------------------------------------------------------

    @api_method("getMe")
    def _get_me(self, call: ApiCall) -> dict:
        return {
            **self.bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @api_method("logOut")
    def _log_out(self, call: ApiCall) -> bool:
        return True

    @api_method("close")
    def _close(self, call: ApiCall) -> bool:
        return True

    @api_method("getUpdates")
    async def _get_updates(self, call: ApiCall) -> list[dict]:
        if self.webhook["url"]:
            raise ApiError(409, CONFLICT_WEBHOOK)
        params = call.params
        offset = params.get("offset")
        limit = params.get("limit")
        limit = 100 if not isinstance(limit, int) or not 1 <= limit <= 100 else limit
        timeout = params.get("timeout")
        timeout = min(max(timeout, 0), 50) if isinstance(timeout, int) else 0
        self._set_allowed_updates(params.get("allowed_updates"))
        if isinstance(offset, int) and offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif isinstance(offset, int) and offset < 0:
            self._updates = self._updates[offset:]

        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # an older long poll is now terminated

        def ready() -> list[dict] | str | None:
            if generation != self._poll_generation:
                return "conflict"
            self._updates = [u for u in self._updates if _update_kind(u) in self._allowed_updates]
            if self._updates:
                return self._updates[:limit]
            return "closing" if self._closing else None

        outcome = await self._wait_until(ready, timeout)
        if outcome == "conflict":
            raise ApiError(409, CONFLICT_OTHER_POLL)
        if isinstance(outcome, list):
            return copy.deepcopy(outcome)
        return []

    def _set_allowed_updates(self, allowed: Any) -> None:
        if allowed is None:
            return  # keep the previous setting, as Telegram does
        if not isinstance(allowed, list):
            raise ApiError.bad_request("can't parse allowed updates JSON object")
        self._allowed_updates = frozenset(allowed) if allowed else DEFAULT_UPDATE_TYPES

    @api_method("setWebhook")
    def _set_webhook(self, call: ApiCall) -> bool:
        url = call.params.get("url") or ""
        if url:
            parts = urlsplit(url)
            if parts.scheme != "https" or not parts.hostname:
                raise ApiError.bad_request("bad webhook: An HTTPS URL must be provided for webhook")
            if (parts.port or 443) not in (80, 88, 443, 8443):
                raise ApiError.bad_request(
                    "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
                )
            secret = call.params.get("secret_token")
            if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
                raise ApiError.bad_request(
                    "bad webhook: secret token contains unallowed characters"
                )
        self._set_allowed_updates(call.params.get("allowed_updates"))
        if call.params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = {
            "url": url,
            "secret_token": call.params.get("secret_token"),
            "max_connections": call.params.get("max_connections", 40),
        }
        self._poll_generation += 1  # a pending getUpdates ends with a conflict
        self._notify()
        return True

    @api_method("deleteWebhook")
    def _delete_webhook(self, call: ApiCall) -> bool:
        if call.params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = {"url": ""}
        return True

    @api_method("getWebhookInfo")
    def _get_webhook_info(self, call: ApiCall) -> dict:
        info: dict[str, Any] = {
            "url": self.webhook["url"],
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook["url"]:
            info["max_connections"] = self.webhook.get("max_connections", 40)
            info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    @api_method("sendMessage")
    def _send_message(self, call: ApiCall) -> dict:
        text = self._formatted(call, "text", "entities", required=True)
        assert text is not None
        markup = self._reply_markup(call)
        chat = self._resolve_chat(call.params.get("chat_id"))
        self._check_length(text, caption=False)
        content: dict[str, Any] = {"text": text.text}
        if text.entities:
            content["entities"] = text.entities
        reply_to = self._reply_to(call, chat)
        return self._send(
            call, chat, content, formatted_field="text", markup=markup, reply_to=reply_to
        )

    def _send_media(self, call: ApiCall, field: str, build: Callable[..., dict]) -> dict:
        caption = self._formatted(call, "caption", "caption_entities", required=False)
        markup = self._reply_markup(call)
        self._check_length(caption, caption=True)
        content = build(call, call.params.get(field), field)
        chat = self._resolve_chat(call.params.get("chat_id"))
        if caption is not None and caption.text:
            content["caption"] = caption.text
            if caption.entities:
                content["caption_entities"] = caption.entities
        reply_to = self._reply_to(call, chat)
        return self._send(
            call, chat, content, formatted_field="caption", markup=markup, reply_to=reply_to
        )

    @api_method("sendDocument")
    def _send_document(self, call: ApiCall) -> dict:
        return self._send_media(call, "document", self._document_content)

    @api_method("sendPhoto")
    def _send_photo(self, call: ApiCall) -> dict:
        return self._send_media(call, "photo", self._photo_content)

    @api_method("sendMediaGroup")
    def _send_media_group(self, call: ApiCall) -> list[dict]:
        media = call.params.get("media")
        if not isinstance(media, list) or not media:
            raise ApiError.bad_request("there are no messages to send")
        if len(media) > MAX_MEDIA_GROUP:
            raise ApiError.bad_request("too many messages to send as an album")
        kinds = []
        for item in media:
            if not isinstance(item, dict):
                raise ApiError.bad_request("can't parse InputMedia: expected an Object")
            kind = item.get("type")
            if kind not in ("photo", "document"):
                raise ApiError.bad_request(
                    f'can\'t parse InputMedia: type "{kind}" is not supported by the test emulator'
                )
            kinds.append(kind)
        if "document" in kinds and "photo" in kinds:
            raise ApiError.bad_request("document can't be mixed with other media types")

        items = []
        for item in media:
            item_call = ApiCall(call.method, item, call.time, call.files)
            caption = self._formatted(item_call, "caption", "caption_entities", required=False)
            self._check_length(caption, caption=True)
            media_value = item.get("media")
            if not isinstance(media_value, str) or (
                media_value.startswith("attach://")
                and media_value[len("attach://") :] not in call.files
            ):
                raise ApiError.bad_request("can't parse InputMedia: media not found")
            build = self._photo_content if item["type"] == "photo" else self._document_content
            content = build(call, media_value, "media")
            if caption is not None and caption.text:
                content["caption"] = caption.text
                if caption.entities:
                    content["caption_entities"] = caption.entities
            items.append((item_call, content))

        chat = self._resolve_chat(call.params.get("chat_id"))
        reply_to = self._reply_to(call, chat)
        group_id = str(random.randrange(10**17, 10**18)) if len(items) > 1 else None
        return [
            self._send(
                item_call,
                chat,
                content,
                formatted_field="caption",
                media_group_id=group_id,
                reply_to=reply_to,
            )
            for item_call, content in items
        ]

    @api_method("forwardMessage")
    def _forward_message(self, call: ApiCall) -> dict:
        source_chat, source = self._source_message(call)
        chat = self._resolve_chat(call.params.get("chat_id"))
        content = _content_of(source)
        content["forward_origin"] = _forward_origin(source, source_chat)
        return self._send(call, chat, content)

    @api_method("copyMessage")
    def _copy_message(self, call: ApiCall) -> dict:
        _, source = self._source_message(call)
        caption = self._formatted(call, "caption", "caption_entities", required=False)
        markup = self._reply_markup(call)
        chat = self._resolve_chat(call.params.get("chat_id"))
        content = _content_of(source)
        if caption is not None and "text" not in content:
            self._check_length(caption, caption=True)
            content.pop("caption_entities", None)
            content["caption"] = caption.text
            if caption.entities:
                content["caption_entities"] = caption.entities
        reply_to = self._reply_to(call, chat)
        message = self._send(call, chat, content, markup=markup, reply_to=reply_to)
        return {"message_id": message["message_id"]}

    def _source_message(self, call: ApiCall) -> tuple[FakeChat, dict]:
        source_chat = self._resolve_chat(call.params.get("from_chat_id"), sending=False)
        message_id = call.params.get("message_id")
        message = source_chat.messages.get(message_id) if isinstance(message_id, int) else None
        if message is None or message_id in source_chat.deleted_ids:
            raise ApiError.bad_request("message to forward not found")
        return source_chat, message

    @api_method("editMessageText")
    def _edit_message_text(self, call: ApiCall) -> dict:
        chat, message = self._editable(call)
        if "text" not in message:
            raise ApiError.bad_request("there is no text in the message to edit")
        text = self._formatted(call, "text", "entities", required=True)
        assert text is not None
        self._check_length(text, caption=False)
        markup = self._reply_markup(call, inline_only=True)
        changes = {"text": text.text, "entities": text.entities or None}
        return self._apply_edit(call, chat, message, changes, markup, formatted_field="text")

    @api_method("editMessageCaption")
    def _edit_message_caption(self, call: ApiCall) -> dict:
        chat, message = self._editable(call)
        if "document" not in message and "photo" not in message:
            raise ApiError.bad_request("there is no caption in the message to edit")
        caption = self._formatted(call, "caption", "caption_entities", required=False)
        self._check_length(caption, caption=True)
        markup = self._reply_markup(call, inline_only=True)
        changes = {
            "caption": caption.text if caption and caption.text else None,
            "caption_entities": (caption.entities or None) if caption else None,
        }
        return self._apply_edit(call, chat, message, changes, markup, formatted_field="caption")

    @api_method("editMessageReplyMarkup")
    def _edit_message_reply_markup(self, call: ApiCall) -> dict:
        chat, message = self._editable(call)
        markup = self._reply_markup(call, inline_only=True)
        return self._apply_edit(call, chat, message, {}, markup, formatted_field=None)

    @api_method("deleteMessage")
    def _delete_message(self, call: ApiCall) -> bool:
        chat = self._resolve_chat(call.params.get("chat_id"), sending=False)
        message_id = call.params.get("message_id")
        if not isinstance(message_id, int):
            raise ApiError.bad_request("message identifier is not specified")
        if message_id not in chat.messages or message_id in chat.deleted_ids:
            raise ApiError.bad_request("message to delete not found")
        chat.delete(message_id)
        self._notify()
        return True

    @api_method("deleteMessages")
    def _delete_messages(self, call: ApiCall) -> bool:
        chat = self._resolve_chat(call.params.get("chat_id"), sending=False)
        ids = call.params.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise ApiError.bad_request("message identifiers are not specified")
        for message_id in ids:
            if message_id in chat.messages and message_id not in chat.deleted_ids:
                chat.delete(message_id)
        self._notify()
        return True

    @api_method("answerCallbackQuery")
    def _answer_callback_query(self, call: ApiCall) -> bool:
        query = self.callback_queries.get(str(call.params.get("callback_query_id") or ""))
        if (
            query is None
            or query.answered
            or self._monotonic() - query.created_at > CALLBACK_QUERY_LIFETIME
        ):
            raise ApiError.bad_request(QUERY_TOO_OLD)
        text = call.params.get("text")
        if text is not None and len(str(text)) > MAX_CALLBACK_ANSWER_LENGTH:
            raise ApiError.bad_request("MESSAGE_TOO_LONG")
        query.answer = {
            "text": text,
            "show_alert": bool(call.params.get("show_alert", False)),
            "url": call.params.get("url"),
            "cache_time": call.params.get("cache_time"),
        }
        return True

    @api_method("sendChatAction")
    def _send_chat_action(self, call: ApiCall) -> bool:
        chat = self._resolve_chat(call.params.get("chat_id"))
        action = call.params.get("action")
        if action not in CHAT_ACTIONS:
            raise ApiError.bad_request("wrong parameter action in request")
        chat.chat_actions.append(action)
        return True

    @api_method("getChat")
    def _get_chat(self, call: ApiCall) -> dict:
        return self._resolve_chat(call.params.get("chat_id"), sending=False).full_info()

    @api_method("getFile")
    def _get_file(self, call: ApiCall) -> dict:
        stored = self.files.get(str(call.params.get("file_id") or ""))
        if stored is None:
            raise ApiError.bad_request("invalid file_id")
        if stored.file_size > self.max_download_size:
            raise ApiError.bad_request("file is too big")
        self._issued_paths.add(stored.file_path)
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }

    # -- commands and menu button ------------------------------------------------------------

    def _scope_key(self, scope: Any) -> str:
        if not isinstance(scope, dict):
            raise ApiError.bad_request("can't parse BotCommandScope JSON object")
        kind = scope.get("type")
        if kind not in COMMAND_SCOPES:
            raise ApiError.bad_request(f'unsupported BotCommandScope type "{kind}"')
        key: dict[str, Any] = {"type": kind}
        if kind in ("chat", "chat_administrators", "chat_member"):
            key["chat_id"] = self._resolve_chat(scope.get("chat_id"), sending=False).id
        if kind == "chat_member":
            user_id = scope.get("user_id")
            if not isinstance(user_id, int) or user_id not in self._chats:
                raise ApiError.bad_request("user not found")
            key["user_id"] = user_id
        return json.dumps(key, sort_keys=True)

    def _commands_key(self, call: ApiCall) -> tuple[str, str]:
        scope_key = self._scope_key(call.params.get("scope") or {"type": "default"})
        language = call.params.get("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", str(language)):
            raise ApiError.bad_request("invalid language code specified")
        return scope_key, str(language)

    @api_method("setMyCommands")
    def _set_my_commands(self, call: ApiCall) -> bool:
        commands = call.params.get("commands")
        if not isinstance(commands, list):
            raise ApiError.bad_request("can't parse commands JSON object")
        cleaned = []
        for command in commands:
            if not isinstance(command, dict) or not isinstance(command.get("command"), str):
                raise ApiError.bad_request(
                    'can\'t parse BotCommand: field "command" must be of type String'
                )
            if not isinstance(command.get("description"), str):
                raise ApiError.bad_request(
                    'can\'t parse BotCommand: field "description" must be of type String'
                )
            name = command["command"].strip().removeprefix("/")
            description = command["description"].strip()
            if not name:
                raise ApiError.bad_request("command must be non-empty")
            if len(name) > 32:
                raise ApiError.bad_request("command length must not exceed 32")
            if not description:
                raise ApiError.bad_request("command description must be non-empty")
            if len(description) > 256:
                raise ApiError.bad_request("command description length must not exceed 256")
            cleaned.append({"command": name, "description": description})
        key = self._commands_key(call)
        if len(cleaned) > MAX_COMMANDS:
            raise ApiError.bad_request("BOT_COMMANDS_TOO_MUCH")
        if any(not re.fullmatch(r"[a-z0-9_]+", c["command"]) for c in cleaned):
            raise ApiError.bad_request("BOT_COMMAND_INVALID")
        if cleaned:
            self.commands[key] = cleaned
        else:
            self.commands.pop(key, None)
        return True

    @api_method("getMyCommands")
    def _get_my_commands(self, call: ApiCall) -> list[dict]:
        return copy.deepcopy(self.commands.get(self._commands_key(call), []))

    @api_method("deleteMyCommands")
    def _delete_my_commands(self, call: ApiCall) -> bool:
        self.commands.pop(self._commands_key(call), None)
        return True

    @api_method("setChatMenuButton")
    def _set_chat_menu_button(self, call: ApiCall) -> bool:
        chat_id = self._menu_chat(call)
        button = call.params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in (
            "commands",
            "web_app",
            "default",
        ):
            raise ApiError.bad_request("can't parse menu button JSON object")
        if button["type"] == "web_app":
            url = (button.get("web_app") or {}).get("url", "")
            if not button.get("text") or urlsplit(str(url)).scheme != "https":
                raise ApiError.bad_request("BUTTON_URL_INVALID")
        self.menu_buttons[chat_id] = copy.deepcopy(button)
        return True

    @api_method("getChatMenuButton")
    def _get_chat_menu_button(self, call: ApiCall) -> dict:
        chat_id = self._menu_chat(call)
        button = self.menu_buttons.get(chat_id) or self.menu_buttons.get(None)
        if button is None or button["type"] == "default":
            return {"type": "commands"}
        return copy.deepcopy(button)

    def _menu_chat(self, call: ApiCall) -> int | None:
        chat_id = call.params.get("chat_id")
        if chat_id is None:
            return None
        chat = self._resolve_chat(chat_id, sending=False)
        if not isinstance(chat, FakeUser):
            raise ApiError.bad_request("menu button can be changed only in private chats")
        return chat.id


# -- helpers ----------------------------------------------------------------------------------


def _check_upload(upload: UploadedFile) -> None:
    if not upload.data:
        raise ApiError.bad_request("file must be non-empty")
    if len(upload.data) > MAX_UPLOAD_SIZE:
        raise ApiError(413, "Request Entity Too Large")


def _valid_button_url(url: str) -> bool:
    if url.lower().startswith("tg://"):
        return len(url) > len("tg://")
    parts = urlsplit(url if "://" in url else "http://" + url)
    host = parts.hostname or ""
    return parts.scheme in ("http", "https") and "." in host.strip(".")


def _checked_inline_keyboard(rows: Any) -> list[list[dict]]:
    if not isinstance(rows, list):
        raise ApiError.bad_request(
            'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array'
        )
    checked = []
    total = 0
    for row in rows:
        if not isinstance(row, list):
            raise ApiError.bad_request("InlineKeyboardMarkup row must be an Array")
        checked_row = []
        for button in row:
            if not isinstance(button, dict):
                raise ApiError.bad_request("InlineKeyboardButton must be an Object")
            text = button.get("text")
            if not isinstance(text, str):
                raise ApiError.bad_request(
                    'can\'t parse inline keyboard button: Field "text" must be of type String'
                )
            if not text.strip():
                raise ApiError.bad_request("BUTTON_TEXT_INVALID")
            if "callback_data" in button:
                data = button["callback_data"]
                if (
                    not isinstance(data, str)
                    or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
                ):
                    raise ApiError.bad_request("BUTTON_DATA_INVALID")
            elif "url" in button:
                if not isinstance(button["url"], str) or not _valid_button_url(button["url"]):
                    raise ApiError.bad_request("BUTTON_URL_INVALID")
            elif not any(
                key in button
                for key in (
                    "web_app",
                    "login_url",
                    "switch_inline_query",
                    "switch_inline_query_current_chat",
                    "switch_inline_query_chosen_chat",
                    "copy_text",
                    "callback_game",
                    "pay",
                )
            ):
                raise ApiError.bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the "
                    "inline keyboard"
                )
            checked_row.append(copy.deepcopy(button))
            total += 1
        checked.append(checked_row)
    if total > MAX_INLINE_BUTTONS:
        raise ApiError.bad_request("reply markup is too long")
    return checked


def _kind_of(message: dict) -> str:
    for kind in ("text", "document", "photo"):
        if kind in message:
            return kind
    return "other"


def _update_kind(update: dict) -> str:
    return next(key for key in update if key != "update_id")


def _content_of(message: dict) -> dict:
    keys = ("text", "entities", "document", "photo", "caption", "caption_entities")
    return {key: copy.deepcopy(message[key]) for key in keys if key in message}


def _forward_origin(message: dict, chat: FakeChat) -> dict:
    if "forward_origin" in message:
        return copy.deepcopy(message["forward_origin"])
    return {"type": "user", "sender_user": copy.deepcopy(message["from"]), "date": message["date"]}


def _lower_first(message: str) -> str:
    """The Bot API lowercases the first letter of TDLib's messages ("Can't" -> "can't")."""
    if (
        len(message) > 1
        and message[0].isupper()
        and not (message[1].isupper() or message[1] == "_")
    ):
        return message[0].lower() + message[1:]
    return message
