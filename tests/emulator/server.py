"""The Bot API emulator: an aiohttp server holding the whole emulated Telegram in memory.

The bot under test talks to it over real HTTP, exactly as it talks to api.telegram.org; tests
drive simulated people through :class:`~tests.emulator.users.FakeUser` and
:class:`~tests.emulator.users.FakeGroup`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import hashlib
import io
import itertools
import math
import mimetypes
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from .faults import (
    FLOOD_LIMITED_METHODS,
    TELEGRAM_OVERALL,
    TELEGRAM_PER_CHAT,
    TELEGRAM_PER_GROUP,
    CallRule,
    ContentLength,
    Download,
    DownloadRule,
    FloodLimiter,
    Rate,
)
from .methods import (
    DEFAULT_UPDATE_TYPES,
    HANDLERS,
    MAX_UPLOAD_SIZE,
    BotApiMethods,
    _update_kind,
    decode_params,
    read_request,
)
from .models import ApiCall, ApiError, CallbackQueryRecord, StoredFile
from .users import FakeChat, FakeGroup, FakeUser

_TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]+")


def _real_bot_api_methods() -> frozenset[str]:
    """Every method name of the real Bot API, taken from PTB's camelCase aliases."""
    try:
        import telegram
    except ImportError:  # pragma: no cover - the suite always has PTB
        return frozenset()
    return frozenset(
        name.lower()
        for name in dir(telegram.Bot)
        if name[:1].islower() and name != name.lower() and "_" not in name
    )


@dataclass
class _Fault:
    method: str
    error: ApiError
    remaining: int
    chat_id: int | None


class BotApiEmulator(BotApiMethods):
    """An in-memory Telegram with a Bot API served on 127.0.0.1 at a random free port."""

    def __init__(
        self,
        *,
        token: str = "123456:TEST-token",
        bot_username: str = "ppid_test_bot",
        max_download_size: int = 20 * 1024 * 1024,
        bot_name: str = "PPID Test Bot",
    ) -> None:
        if not _TOKEN_RE.fullmatch(token):
            raise ValueError(f"not a Bot API token: {token!r}")
        self.token = token
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.bot_id = int(token.split(":", 1)[0])
        self.max_download_size = max_download_size

        self.calls: list[ApiCall] = []
        self.commands: dict[tuple[str, str], list[dict]] = {}
        self.menu_buttons: dict[int | None, dict] = {}
        self.files: dict[str, StoredFile] = {}
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.webhook: dict[str, Any] = {"url": ""}

        self._chats: dict[int, FakeChat] = {}
        self._updates: list[dict] = []
        self._next_update_id = 700_000_001
        self._allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._poll_generation = 0
        self._photo_sets: dict[str, list[StoredFile]] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._issued_paths: set[str] = set()
        self._file_counter = itertools.count(1)
        self._faults: list[_Fault] = []
        self._call_rules: list[CallRule] = []
        self._download_rules: list[DownloadRule] = []
        self._holds: list[CallRule | DownloadRule] = []  # every slow_down/slow_download
        self._flood: FloodLimiter | None = None
        self.flood_refused: list[ApiCall] = []  # calls refused by flood_limits(), in order
        self.downloads: list[Download] = []  # every file server request, in order
        self._clock_offset = 0.0
        self._changed = asyncio.Event()
        self._closing = False
        self._real_methods = _real_bot_api_methods()

        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        # Webhook delivery (deliver_webhooks_to): the reverse proxy's upstream, the task,
        # and every attempt as (update_id, HTTP status; 0 when the bot could not be reached).
        self._webhook_upstream: str | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self.webhook_deliveries: list[tuple[int, int]] = []

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self, port: int = 0) -> None:
        if self._runner is not None:
            raise RuntimeError("the emulator is already running")
        app = web.Application(client_max_size=MAX_UPLOAD_SIZE + 8 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._handle_file)
        self._closing = False
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is None:
            return
        self._closing = True  # pending long polls answer at once
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        for hold in self._holds:
            hold.release()  # held calls and downloads end now, not at the shutdown timeout
        self._notify()
        await asyncio.sleep(0)
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._require_port()}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self._require_port()}/file/bot"

    def _require_port(self) -> int:
        if self.port is None:
            raise RuntimeError("start() the emulator first")
        return self.port

    # -- the simulated world ------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str,
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = None,
        started: bool = True,
    ) -> FakeUser:
        """A person with a private chat with the bot.

        ``started=False`` makes a person who never opened the bot: sending to them fails with
        403 "bot can't initiate conversation with a user" until they write to the bot.
        """
        if user_id <= 0:
            raise ValueError("user ids are positive")
        self._check_new_chat(user_id)
        person = FakeUser(
            self,
            user_id,
            first_name,
            username=username,
            last_name=last_name,
            language_code=language_code,
            started=started,
        )
        self._chats[user_id] = person
        return person

    def group(self, chat_id: int, title: str, *, privacy_mode: bool = True) -> FakeGroup:
        """A group the bot is a member of. Ids starting with -100 are supergroups.

        With ``privacy_mode`` (Telegram's default for bots) the bot only receives commands,
        replies to its messages and messages mentioning it.
        """
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        self._check_new_chat(chat_id)
        chat = FakeGroup(self, chat_id, title, privacy_mode=privacy_mode)
        self._chats[chat_id] = chat
        return chat

    def _check_new_chat(self, chat_id: int) -> None:
        if chat_id in self._chats:
            raise ValueError(f"chat {chat_id} already exists")

    def chat(self, chat_id: int) -> FakeChat:
        return self._chats[chat_id]

    def block(self, user_id: int) -> None:
        """The person blocks the bot: sends to them fail with 403, the bot gets my_chat_member."""
        person = self._person(user_id)
        if not person.blocked:
            person.blocked = True
            self._my_chat_member(person, "member", "kicked")

    def unblock(self, user_id: int) -> None:
        person = self._person(user_id)
        if person.blocked:
            person.blocked = False
            self._my_chat_member(person, "kicked", "member")

    def _person(self, user_id: int) -> FakeUser:
        chat = self._chats.get(user_id)
        if not isinstance(chat, FakeUser):
            raise KeyError(f"no user {user_id}; create it with emulator.user()")
        return chat

    def bot_user(self) -> dict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    def advance_clock(self, seconds: float) -> None:
        """Move the emulator's clock on, e.g. past the 15 minutes a callback query lives."""
        self._clock_offset += seconds

    def now(self) -> int:
        """The current unix time on the emulator's clock (message dates)."""
        return int(time.time() + self._clock_offset)

    def _monotonic(self) -> float:
        return time.monotonic() + self._clock_offset

    # -- inspection helpers for tests --------------------------------------------------------

    def calls_to(self, method: str) -> list[ApiCall]:
        wanted = method.lower()
        return [call for call in self.calls if call.method.lower() == wanted]

    def failed_calls(self) -> list[ApiCall]:
        """Every request the bot made that got an error answer (and was still waiting for it)."""
        return [call for call in self.calls if call.ok is False and not call.abandoned]

    def commands_for(self, scope: dict | None = None, language_code: str = "") -> list[dict]:
        """What setMyCommands stored for exactly this scope and language ([] if nothing)."""
        return self.commands.get((self._scope_key(scope or {"type": "default"}), language_code), [])

    def unanswered_callback_queries(self) -> list[CallbackQueryRecord]:
        return [query for query in self.callback_queries.values() if not query.answered]

    def pending_updates(self) -> list[dict]:
        return list(self._updates)

    async def updates_confirmed(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until the bot confirmed every update so far (a getUpdates with a later
        offset): from then on Telegram would never deliver them again, even after a crash."""
        if not await self._wait_until(lambda: not self._updates, timeout):
            raise AssertionError(
                f"the bot did not confirm {len(self._updates)} update(s) within {timeout}s"
            )

    def add_file(
        self, data: bytes, file_name: str | None = None, mime_type: str | None = None
    ) -> StoredFile:
        """Put a document on the emulated servers, e.g. to send it by file_id."""
        return self._store_document(data, file_name, mime_type)

    # -- fault injection ---------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        description: str,
        *,
        error_code: int = 400,
        times: int = 1,
        chat_id: int | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (to ``chat_id``, if given) fail.

        ``description`` is the full text, e.g. "Bad Request: chat not found".
        """
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        error = ApiError(error_code, description, parameters)
        self._faults.append(_Fault(method.lower(), error, times, chat_id))

    def flood_wait(
        self, method: str, retry_after: int = 3, *, times: int = 1, chat_id: int | None = None
    ) -> None:
        """Answer the next calls of ``method`` with 429 Too Many Requests (a flood limit)."""
        self.fail_next(
            method,
            f"Too Many Requests: retry after {retry_after}",
            error_code=429,
            times=times,
            chat_id=chat_id,
            retry_after=retry_after,
        )

    def _apply_faults(self, call: ApiCall) -> None:
        for fault in self._faults:
            if fault.method != call.method.lower() or fault.remaining <= 0:
                continue
            if fault.chat_id is not None and call.params.get("chat_id") != fault.chat_id:
                continue
            fault.remaining -= 1
            raise fault.error
        self._faults = [fault for fault in self._faults if fault.remaining > 0]

    def flood_limits(
        self,
        *,
        per_chat: Rate | None = TELEGRAM_PER_CHAT,
        per_group: Rate | None = TELEGRAM_PER_GROUP,
        overall: Rate | None = TELEGRAM_OVERALL,
        methods: frozenset[str] = FLOOD_LIMITED_METHODS,
    ) -> FloodLimiter:
        """Refuse sends over these rates with 429 "Too Many Requests: retry after N" and
        ``parameters.retry_after`` (whole seconds), as Telegram's flood control does.

        Off until called; the defaults are about Telegram's: ``Rate(1, 1.0, burst=3)`` per
        chat, ``Rate(20, 60.0)`` more per group, ``Rate(30, 1.0)`` overall; ``None`` turns
        one off. Every item of an album (sendMediaGroup) counts as one message; edits count
        too (``methods`` names what counts). A refused call changes nothing and costs
        nothing; the refused calls are in :attr:`flood_refused`. Rates run on the emulator's
        clock (:meth:`advance_clock` lets time pass).
        """
        self._flood = FloodLimiter(
            per_chat=per_chat, per_group=per_group, overall=overall, methods=methods
        )
        return self._flood

    def no_flood_limits(self) -> None:
        self._flood = None

    def drop_connection(
        self,
        method: str,
        *,
        times: int | None = 1,
        chat_id: int | None = None,
        after: bool = False,
        match: Callable[[ApiCall], bool] | None = None,
    ) -> CallRule:
        """Close the connection of the next ``times`` calls of ``method`` (to ``chat_id``,
        if given; ``None`` times: every call) without an answer: the bot sees a network
        error. ``after=False``: the call never reached Telegram (nothing happens);
        ``after=True``: Telegram did it (the message is sent) and only the answer is lost.
        ``match(call)`` narrows further (evaluated before or after the call runs)."""
        return self._add_call_rule(
            CallRule("drop", method, chat_id=chat_id, match=match, times=times, after=after)
        )

    def slow_down(
        self,
        method: str,
        seconds: float = math.inf,
        *,
        times: int | None = 1,
        chat_id: int | None = None,
        after: bool = False,
        match: Callable[[ApiCall], bool] | None = None,
    ) -> CallRule:
        """Hold the next ``times`` calls of ``method`` for ``seconds`` (default: until
        ``rule.release()``); ``await rule.wait()`` returns once the first call is held.

        ``after=False``: the request is held on its way; if the bot hangs up (or is killed)
        meanwhile, it never reaches Telegram. ``after=True``: Telegram does it at once and
        its answer is held (with getUpdates: the updates are handed out but not confirmed).
        """
        if seconds < 0:
            raise ValueError("seconds is not negative")
        rule = CallRule(
            "slow",
            method,
            chat_id=chat_id,
            match=match,
            times=times,
            after=after,
            seconds=seconds,
        )
        self._holds.append(rule)
        return self._add_call_rule(rule)

    def watch_call(
        self,
        method: str,
        *,
        chat_id: int | None = None,
        match: Callable[[ApiCall], bool] | None = None,
    ) -> CallRule:
        """An awaitable for the next call of ``method`` (to ``chat_id``) the bot makes from
        now on; ``rule.answered`` is set once it was answered. Changes nothing."""
        return self._add_call_rule(CallRule("watch", method, chat_id=chat_id, match=match, times=1))

    def _add_call_rule(self, rule: CallRule) -> CallRule:
        self._call_rules.append(rule)
        return rule

    def drop_download(self, file_id: str | None = None, *, times: int | None = 1) -> DownloadRule:
        """Close the next ``times`` downloads of ``file_id`` (any file if None) without an
        answer: the bot sees a network error."""
        return self._add_download_rule(DownloadRule("drop", file_id, times=times))

    def truncate_download(
        self,
        file_id: str | None = None,
        *,
        keep: int | float = 0.5,
        content_length: ContentLength = "partial",
        times: int | None = 1,
    ) -> DownloadRule:
        """Answer the next ``times`` downloads with 200 and only the first ``keep`` bytes
        (an int) or share (a float in [0, 1)) of the body, as a cutting proxy does.

        ``content_length``: ``"partial"`` -- the header matches the cut body (the proxy
        buffered it; no HTTP client can tell); ``"absent"`` -- no header, a chunked body
        that ends cleanly; ``"full"`` -- the file's real size, then the connection closes
        early (HTTP clients raise an error). In the first two only a comparison with the
        ``file_size`` getFile reported reveals the cut.
        """
        return self._add_download_rule(
            DownloadRule("truncate", file_id, times=times, keep=keep, content_length=content_length)
        )

    def slow_download(
        self, file_id: str | None = None, *, bytes_per_second: int, times: int | None = 1
    ) -> DownloadRule:
        """Stream the next ``times`` downloads at ``bytes_per_second`` (until
        ``rule.release()``); ``await rule.wait()`` returns once the first one started."""
        rule = DownloadRule("slow", file_id, times=times, bytes_per_second=bytes_per_second)
        self._holds.append(rule)
        return self._add_download_rule(rule)

    def watch_download(self, file_id: str | None = None) -> DownloadRule:
        """An awaitable for the next download of ``file_id`` (any file if None)."""
        return self._add_download_rule(DownloadRule("watch", file_id, times=1))

    def _add_download_rule(self, rule: DownloadRule) -> DownloadRule:
        self._download_rules.append(rule)
        return rule

    def clear_faults(self) -> None:
        """Disarm every injected fault and flood limit (held calls stay held: release them)."""
        self._faults.clear()
        for rule in self._call_rules:
            rule.cancel()
        for download_rule in self._download_rules:
            download_rule.cancel()
        self._flood = None

    def _call_rule(self, call: ApiCall, *, after: bool) -> CallRule | None:
        """The first drop/slow rule for ``call`` at this point (it is taken)."""
        for rule in self._call_rules:
            if rule.effect != "watch" and rule.after == after and rule.matches(call):
                rule.take(call)
                return rule
        return None

    def _watch_arrival(self, call: ApiCall) -> list[CallRule]:
        watches = [r for r in self._call_rules if r.effect == "watch" and r.matches(call)]
        for watch in watches:
            watch.take(call)
        self._call_rules = [r for r in self._call_rules if r.active]
        return watches

    def _check_flood(self, call: ApiCall) -> None:
        if self._flood is None:
            return
        retry_after = self._flood.retry_after(call, self._monotonic())
        if retry_after is not None:
            self.flood_refused.append(call)
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )

    def delivered(self) -> dict[int, int]:
        """How many messages the bot got into each chat (accepted sends, album items
        each counted): ``{chat_id: count}``, chats without messages left out."""
        return {chat.id: len(chat.inbox) for chat in self._chats.values() if chat.inbox}

    # -- webhooks ----------------------------------------------------------------------------

    def deliver_webhooks_to(self, upstream: str) -> None:
        """Deliver updates by webhook, as Telegram does once the bot called setWebhook, with
        ``upstream`` (``http://127.0.0.1:<port>``) standing for the reverse proxy in front of
        the bot: each update is POSTed to ``upstream`` + the webhook URL's path, with the
        ``X-Telegram-Bot-Api-Secret-Token`` header when a secret was set, one at a time in
        order. A 2xx answer confirms it; anything else is retried after 0.1 s."""
        self._webhook_upstream = upstream.rstrip("/")
        if self._webhook_task is None:
            self._webhook_task = asyncio.create_task(self._deliver_webhooks())
        self._notify()

    def _next_webhook_update(self) -> Any:
        if self._closing:
            return "closing"
        if not (self._webhook_upstream and self.webhook["url"]):
            return None
        for update in self._updates:
            if _update_kind(update) in self._allowed_updates:
                return update
        return None

    async def _deliver_webhooks(self) -> None:
        async with aiohttp.ClientSession() as session:
            while True:
                update = await self._wait_until(self._next_webhook_update, 60.0)
                if update == "closing":
                    return
                if update is None:
                    continue
                url = f"{self._webhook_upstream}{urlsplit(self.webhook['url']).path or '/'}"
                headers = {}
                if self.webhook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = str(self.webhook["secret_token"])
                try:
                    async with session.post(url, json=update, headers=headers) as response:
                        status = response.status
                except aiohttp.ClientError:
                    status = 0
                self.webhook_deliveries.append((update["update_id"], status))
                if 200 <= status < 300:
                    self._updates = [u for u in self._updates if u is not update]
                    self._notify()
                else:
                    await asyncio.sleep(0.1)

    # -- change notification -----------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_until(
        self,
        condition: Callable[[], Any],
        timeout: float,  # noqa: ASYNC109
    ) -> Any:
        """The first truthy value of ``condition()`` within ``timeout`` seconds, else None."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = condition()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    # -- updates -----------------------------------------------------------------------------

    def _enqueue(self, kind: str, payload: dict) -> None:
        if kind not in self._allowed_updates:
            return  # Telegram does not even keep updates of types the bot does not want
        self._updates.append({"update_id": self._next_update_id, kind: copy.deepcopy(payload)})
        self._next_update_id += 1
        self._notify()

    def _my_chat_member(self, person: FakeUser, old_status: str, new_status: str) -> None:
        def member(status: str) -> dict:
            entry: dict[str, Any] = {"status": status, "user": self.bot_user()}
            if status == "kicked":
                entry["until_date"] = 0
            return entry

        self._enqueue(
            "my_chat_member",
            {
                "chat": person.chat_dict(),
                "from": person.user_dict(),
                "date": self.now(),
                "old_chat_member": member(old_status),
                "new_chat_member": member(new_status),
            },
        )

    def _post_user_message(
        self,
        chat: FakeChat,
        sender: FakeUser,
        content: dict,
        *,
        reply_to: int | None = None,
        edited_of: int | None = None,
    ) -> dict:
        """A message a person sent (or edited) in ``chat``; the bot gets it as an update."""
        if edited_of is not None:
            message = chat.messages[edited_of]
            for key in ("text", "entities", "caption", "caption_entities"):
                message.pop(key, None)
            message.update(content)
            message["edit_date"] = self.now()
            kind = "edited_message"
        else:
            message = {
                "message_id": chat.new_message_id(),
                "from": sender.user_dict(),
                "chat": chat.chat_dict(),
                "date": self.now(),
                **content,
            }
            if reply_to is not None:
                message["reply_to_message"] = self._reply_copy(chat, reply_to)
            chat.messages[message["message_id"]] = message
            kind = "message"
        if isinstance(chat, FakeUser):
            chat.started = True
            if chat.blocked:  # writing to a blocked bot means restarting it in the client
                self.unblock(chat.id)
        if not (isinstance(chat, FakeGroup) and not chat.bot_sees(message, self.bot_username)):
            self._enqueue(kind, message)
        self._notify()
        return copy.deepcopy(message)

    def _reply_copy(self, chat: FakeChat, message_id: int) -> dict:
        original = chat.messages.get(message_id)
        if original is None:
            raise KeyError(f"no message {message_id} in chat {chat.id}")
        return {
            key: copy.deepcopy(value)
            for key, value in original.items()
            if key != "reply_to_message"
        }

    def _press(self, presser: FakeUser, chat: FakeChat, message_id: int, data: str) -> str:
        message = chat.messages.get(message_id)
        if message is None or message_id in chat.deleted_ids:
            raise AssertionError(f"message {message_id} is not in chat {chat.id} (deleted?)")
        query_id = str(random.getrandbits(62))
        self.callback_queries[query_id] = CallbackQueryRecord(
            id=query_id,
            user_id=presser.id,
            chat_id=chat.id,
            message_id=message_id,
            data=data,
            created_at=self._monotonic(),
        )
        self._enqueue(
            "callback_query",
            {
                "id": query_id,
                "from": presser.user_dict(),
                "message": message,
                "chat_instance": chat.chat_instance,
                "data": data,
            },
        )
        return query_id

    # -- HTTP --------------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        name = request.match_info["method"]
        if not _TOKEN_RE.fullmatch(token):
            return _error_response(ApiError(404, "Not Found"))
        if token != self.token:
            return _error_response(ApiError(401, "Unauthorized"))

        entry = HANDLERS.get(name.lower())
        method_name, handler = entry if entry else (name, None)
        try:
            raw, files = await read_request(request)
        except ApiError as error:
            return _error_response(error)
        call = ApiCall(method_name, raw, time.monotonic(), files)
        self.calls.append(call)
        watches: list[CallRule] = []
        rule: CallRule | None = None
        try:
            if handler is None:
                if name.lower() in self._real_methods:
                    raise ApiError.bad_request(
                        f"method {name} is not supported by the test emulator (tests/emulator)"
                    )
                raise ApiError(404, "Not Found")
            call.params = decode_params(raw)
            watches = self._watch_arrival(call)
            rule = self._call_rule(call, after=False)
            if rule is not None:
                if rule.effect == "slow":
                    await rule.hold()
                    await asyncio.sleep(0)  # let a hang-up during the hold be noticed
                if rule.effect == "drop" or _client_gone(request):
                    return self._hang_up(request, call, rule, watches)
            self._apply_faults(call)
            self._check_flood(call)
            result = handler(self, call)
            if isinstance(result, Awaitable):
                result = await result
        except ApiError as error:
            call.ok = False
            call.error_code = error.error_code
            call.description = error.description
            return await self._answer(request, call, _error_response(error), [*watches, rule])
        call.ok = True
        call.result = result
        if self._flood is not None:
            self._flood.charge(call, self._monotonic())
        return await self._answer(
            request, call, web.json_response({"ok": True, "result": result}), [*watches, rule]
        )

    async def _answer(
        self,
        request: web.Request,
        call: ApiCall,
        response: web.Response,
        taken: list[CallRule | None],
    ) -> web.StreamResponse:
        """Answer ``call``, unless a rule for after the call holds or drops the answer;
        ``taken``: the rules that already caught it."""
        self._notify()
        rules = [rule for rule in taken if rule is not None]
        rule = self._call_rule(call, after=True)
        if rule is not None:
            if rule.effect == "slow":
                await rule.hold()
            if rule.effect == "drop":
                return self._hang_up(request, call, rule, rules)
            rules.append(rule)
        call.abandoned = _client_gone(request)
        for caught in rules:
            caught.done(call)
        return response

    def _hang_up(
        self,
        request: web.Request,
        call: ApiCall,
        rule: CallRule,
        watches: list[CallRule],
    ) -> web.StreamResponse:
        """End ``call`` without an answer: the connection is closed (or already gone)."""
        call.dropped = rule.effect == "drop"
        call.abandoned = _client_gone(request)
        if request.transport is not None:
            request.transport.close()
        for watch in [*watches, rule]:
            watch.done(call)
        self._notify()
        return web.Response()  # never reaches the bot: the connection is closed

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        stored = self._files_by_path.get(request.match_info["file_path"])
        if (
            request.match_info["token"] != self.token
            or stored is None
            or stored.file_path not in self._issued_paths
        ):
            return _error_response(ApiError(404, "Not Found"))
        rules = [r for r in self._download_rules if r.matches(stored.file_id)]
        watches = [r for r in rules if r.effect == "watch"]
        fault = next((r for r in rules if r.effect != "watch"), None)
        download = Download(
            stored.file_id,
            stored.file_path,
            stored.file_size,
            fault.body_size(stored.file_size) if fault else stored.file_size,
        )
        self.downloads.append(download)
        for rule in [*watches, *([fault] if fault else [])]:
            rule.take(download)
        self._download_rules = [r for r in self._download_rules if r.active]
        try:
            return await self._serve_file(request, stored, download, fault, watches)
        finally:
            if download.outcome == "pending":
                download.outcome = "client gone"
            download.started.set()
            download.finished.set()
            for rule in [*watches, *([fault] if fault else [])]:
                rule.began(download)
                rule.ended(download)
            self._notify()

    async def _serve_file(
        self,
        request: web.Request,
        stored: StoredFile,
        download: Download,
        fault: DownloadRule | None,
        watches: list[DownloadRule],
    ) -> web.StreamResponse:
        def began() -> None:
            download.started.set()
            for rule in [*watches, *([fault] if fault else [])]:
                rule.began(download)
            self._notify()

        if fault is not None and fault.effect == "drop":
            download.outcome = "dropped"
            began()
            if request.transport is not None:
                request.transport.close()
            return web.Response()
        content_type = stored.mime_type if stored.kind == "document" else "image/jpeg"
        response = web.StreamResponse(
            headers={"Content-Type": content_type or "application/octet-stream"}
        )
        truncated = fault is not None and fault.effect == "truncate"
        if not truncated:
            response.content_length = stored.file_size
        elif fault is not None and fault.content_length == "partial":
            response.content_length = download.body_size
        elif fault is not None and fault.content_length == "full":
            response.content_length = stored.file_size
        body = stored.data[: download.body_size]
        try:
            await response.prepare(request)
            began()
            rate = fault.bytes_per_second if fault is not None and fault.effect == "slow" else 0
            chunk = max(1, rate // 20) if rate else 256 * 1024
            for start in range(0, len(body), chunk):
                piece = body[start : start + chunk]
                await response.write(piece)
                download.sent += len(piece)
                if rate and fault is not None and not fault.released:
                    await asyncio.sleep(len(piece) / rate)
            if truncated and fault is not None and fault.content_length == "full":
                download.outcome = "truncated"
                if request.transport is not None:
                    request.transport.close()
                return response
            await response.write_eof()
        except ConnectionError:
            download.outcome = "client gone"
            return response
        download.outcome = "truncated" if truncated else "complete"
        return response

    # -- files -------------------------------------------------------------------------------

    def _new_ids(self, kind: str) -> tuple[str, str, int]:
        number = next(self._file_counter)
        prefix = {"document": "BQACAgIAAxkBAAI", "photo": "AgACAgIAAxkBAAI"}[kind]
        random_part = base64.urlsafe_b64encode(random.randbytes(24)).decode().rstrip("=")
        unique = "AgAD" + base64.urlsafe_b64encode(random.randbytes(9)).decode().rstrip("=")
        return f"{prefix}{number:x}{random_part}", unique, number

    def _register(self, stored: StoredFile) -> StoredFile:
        self.files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _store_document(
        self, data: bytes, file_name: str | None, mime_type: str | None
    ) -> StoredFile:
        file_id, unique_id, number = self._new_ids("document")
        suffix = PurePosixPath(file_name).suffix.lower() if file_name else ""
        if mime_type is None:
            mime_type = (mimetypes.guess_type(file_name)[0] if file_name else None) or (
                "application/octet-stream"
            )
        return self._register(
            StoredFile(
                file_id=file_id,
                file_unique_id=unique_id,
                kind="document",
                data=data,
                file_path=f"documents/file_{number}{suffix}",
                file_name=file_name,
                mime_type=mime_type,
            )
        )

    def _store_photo(self, data: bytes, *, strict: bool) -> list[StoredFile]:
        """Photo sizes, smallest first: a thumbnail, then the full picture with the real bytes."""
        info = _image_info(data)
        if info is None:
            if strict:
                raise ApiError.bad_request("IMAGE_PROCESS_FAILED")
            width, height, thumbnail = 1280, 960, b"\xff\xd8thumbnail" + hashlib.sha1(data).digest()
        else:
            width, height, thumbnail = info
        if strict and (width + height > 10000 or max(width, height) > 20 * min(width, height)):
            raise ApiError.bad_request("PHOTO_INVALID_DIMENSIONS")
        scale = min(1.0, 90 / max(width, height, 1))
        sizes = []
        for size_data, size_width, size_height in (
            (thumbnail, max(1, round(width * scale)), max(1, round(height * scale))),
            (data, width, height),
        ):
            file_id, unique_id, number = self._new_ids("photo")
            sizes.append(
                self._register(
                    StoredFile(
                        file_id=file_id,
                        file_unique_id=unique_id,
                        kind="photo",
                        data=size_data,
                        file_path=f"photos/file_{number}.jpg",
                        width=size_width,
                        height=size_height,
                    )
                )
            )
        for size in sizes:
            self._photo_sets[size.file_id] = sizes
        return sizes


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


def _error_response(error: ApiError) -> web.Response:
    return web.json_response(error.payload(), status=error.error_code)


def _image_info(data: bytes) -> tuple[int, int, bytes] | None:
    """(width, height, a small JPEG thumbnail) of an image, or None if it is not one."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            image.load()
            width, height = image.size
            thumb = image.convert("RGB")
            thumb.thumbnail((90, 90))
            buffer = io.BytesIO()
            thumb.save(buffer, format="JPEG")
            return width, height, buffer.getvalue()
    except Exception:
        return None
