"""The Bot API emulator, exercised by a real python-telegram-bot Application over HTTP."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
import pytest_asyncio
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    MenuButtonCommands,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.config import Settings
from tests.emulator import BotApiEmulator, Rate, application_builder, running
from tests.emulator import fixtures as emulator_fixtures
from tests.emulator.console import (
    DEV_DATABASE_URL,
    DEV_STORAGE_DIR,
    ActAs,
    Console,
    ConsoleError,
    GetFile,
    Press,
    SaveFiles,
    SendFile,
    SendText,
    Show,
    Simple,
    dev_command,
    parse_line,
)

emulator = emulator_fixtures.emulator  # the fixture under test (the lead imports it in conftest)

App = Application[Any, Any, Any, Any, Any, Any]


# -- a small bot ------------------------------------------------------------------------------


def build_bot(emu: BotApiEmulator, errors: list[Exception]) -> App:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_user is not None and update.message is not None
        keyboard = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton("Approve", callback_data="approve:7")],
                [InlineKeyboardButton("Read the SOP", url="https://example.org/sop")],
            ]
        )
        await update.message.reply_text(
            f"Hello <b>{update.effective_user.first_name}</b>, args={context.args}",
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard,
        )

    async def oversized_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        data = "x" * 65
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Too much", callback_data=data)]])
        await update.message.reply_text("this never arrives", reply_markup=keyboard)

    async def document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.document is not None
        buffer = io.BytesIO()
        await (await update.message.document.get_file()).download_to_memory(buffer)
        data = buffer.getvalue()
        await update.message.reply_text(
            f"got {len(data)} bytes sha256={hashlib.sha256(data).hexdigest()}"
        )

    async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Approved!")
        await query.edit_message_text(f"Approved ({query.data})")

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert context.error is not None
        errors.append(context.error)

    app = application_builder(emu).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("oversized", oversized_button))
    app.add_handler(MessageHandler(filters.Document.ALL, document))
    app.add_handler(CallbackQueryHandler(button))
    app.add_error_handler(on_error)
    return app


@pytest.fixture
def errors() -> list[Exception]:
    return []


@pytest_asyncio.fixture
async def bot(emulator: BotApiEmulator) -> AsyncIterator[Bot]:
    """A bare Bot on the emulator, not polling: for calling API methods directly."""
    async with Bot(
        emulator.token, base_url=emulator.base_url, base_file_url=emulator.base_file_url
    ) as plain_bot:
        yield plain_bot


@pytest_asyncio.fixture
async def app(emulator: BotApiEmulator, errors: list[Exception]) -> AsyncIterator[App]:
    async with running(build_bot(emulator, errors)) as application:
        yield application


# -- helpers ---------------------------------------------------------------------------------


async def eventually(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait for something outside the emulator (e.g. the bot's error handler) to happen."""
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never became true")


async def refusal(
    emulator: BotApiEmulator, error: type[TelegramError], request: Awaitable[object]
) -> str:
    """Check PTB raises ``error`` for ``request``; return the emulator's exact description.

    (PTB rewrites descriptions: it drops "Bad Request: " and capitalizes the rest.)"""
    with pytest.raises(error):
        await request
    description = emulator.failed_calls()[-1].description
    assert description is not None
    return description


# -- round trips through the running bot -----------------------------------------------------


async def test_command_round_trip(emulator: BotApiEmulator, app: App) -> None:
    alice = emulator.user(1001, "Alice", username="alice")

    sent = await alice.send_text("/start abc")
    assert sent["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]

    reply = await alice.wait_for()
    assert reply.text == "Hello Alice, args=['abc']"
    assert reply.source_text == "Hello <b>Alice</b>, args=['abc']"
    assert reply.entities == [{"type": "bold", "offset": 6, "length": 5}]
    assert reply.buttons() == [("Approve", "approve:7"), ("Read the SOP", None)]
    assert reply.button_url("Read the SOP") == "https://example.org/sop"

    assert emulator.calls_to("getMe")
    call = emulator.calls_to("sendMessage")[-1]
    assert call.params["chat_id"] == 1001 and call.params["parse_mode"] == "HTML"
    assert call.ok and call.result["message_id"] == reply.message_id
    assert emulator.failed_calls() == []


async def test_document_upload_and_download(emulator: BotApiEmulator, app: App) -> None:
    bob = emulator.user(1002, "Bob")
    payload = bytes(range(256)) * 1000

    message = await bob.send_document(payload, "request.pdf", "application/pdf", caption="mine")
    assert message["document"]["file_size"] == len(payload)
    assert message["document"]["file_name"] == "request.pdf"

    reply = await bob.wait_for("got")
    assert reply.text == f"got {len(payload)} bytes sha256={hashlib.sha256(payload).hexdigest()}"
    assert emulator.calls_to("getFile")[-1].result["file_path"].startswith("documents/")


async def test_button_press_is_answered_and_message_edited(
    emulator: BotApiEmulator,
    app: App,
) -> None:
    carol = emulator.user(1003, "Carol")
    await carol.send_command("start")
    menu = await carol.wait_for()

    query_id = await carol.press(menu, text="Approve")
    answer = await carol.wait_for_answer(query_id)
    assert answer["text"] == "Approved!" and answer["show_alert"] is False

    edited = await carol.wait_for_edit(menu.message_id)
    assert edited is menu and menu.edited
    assert menu.text == "Approved (approve:7)"
    assert menu.reply_markup is None  # editing without reply_markup removes the keyboard
    assert menu.history[0].text == "Hello Carol, args=[]"
    assert len(carol.inbox) == 1

    # Answering the same query twice is an error, as on Telegram.
    again = await refusal(emulator, BadRequest, app.bot.answer_callback_query(query_id))
    assert again == (
        "Bad Request: query is too old and response timeout expired or query ID is invalid"
    )


async def test_callback_data_over_64_bytes_fails_in_the_bot(
    emulator: BotApiEmulator,
    app: App,
    errors: list[Exception],
) -> None:
    dave = emulator.user(1004, "Dave")
    await dave.send_command("oversized")

    await eventually(lambda: bool(errors))
    assert len(errors) == 1 and isinstance(errors[0], BadRequest)
    assert errors[0].message == "Button_data_invalid"  # PTB capitalises the description
    assert emulator.failed_calls()[-1].description == "Bad Request: BUTTON_DATA_INVALID"
    assert dave.inbox == []


# -- error answers, straight from the bot's API methods --------------------------------------


async def test_message_not_modified(emulator: BotApiEmulator, app: App) -> None:
    erin = emulator.user(1005, "Erin")
    message = await app.bot.send_message(erin.id, "same")
    edit = app.bot.edit_message_text("same", chat_id=erin.id, message_id=message.message_id)
    assert await refusal(emulator, BadRequest, edit) == (
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message"
    )
    edit = app.bot.edit_message_text("other", chat_id=erin.id, message_id=999)
    assert await refusal(emulator, BadRequest, edit) == "Bad Request: message to edit not found"


async def test_text_limits(emulator: BotApiEmulator, app: App) -> None:
    frank = emulator.user(1006, "Frank")
    send = app.bot.send_message
    await send(frank.id, "x" * 4096)
    too_long = await refusal(emulator, BadRequest, send(frank.id, "x" * 4097))
    assert too_long == "Bad Request: message is too long"
    # The limit counts UTF-16 code units: an emoji outside the BMP counts twice.
    too_long = await refusal(emulator, BadRequest, send(frank.id, "\U0001f600" * 2049))
    assert too_long == "Bad Request: message is too long"
    empty = await refusal(emulator, BadRequest, send(frank.id, "   "))
    assert empty == "Bad Request: message text is empty"

    html = ParseMode.HTML
    assert await refusal(emulator, BadRequest, send(frank.id, "<b>open", parse_mode=html)) == (
        "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\""
    )
    assert await refusal(emulator, BadRequest, send(frank.id, "a<br>", parse_mode=html)) == (
        'Bad Request: can\'t parse entities: Unsupported start tag "br" at byte offset 1'
    )
    md2 = ParseMode.MARKDOWN_V2
    assert await refusal(emulator, BadRequest, send(frank.id, "v1.2", parse_mode=md2)) == (
        "Bad Request: can't parse entities: Character '.' is reserved and must be escaped with "
        "the preceding '\\'"
    )
    assert len(frank.inbox) == 1


async def test_blocked_user_and_unknown_chat(emulator: BotApiEmulator, app: App) -> None:
    gina = emulator.user(1007, "Gina")
    emulator.block(gina.id)
    blocked = await refusal(emulator, Forbidden, app.bot.send_message(gina.id, "hello?"))
    assert blocked == "Forbidden: bot was blocked by the user"

    unknown = await refusal(emulator, BadRequest, app.bot.send_message(424242, "hello?"))
    assert unknown == "Bad Request: chat not found"

    stranger = emulator.user(1008, "Hank", started=False)
    never_started = await refusal(emulator, Forbidden, app.bot.send_message(stranger.id, "hi"))
    assert never_started == "Forbidden: bot can't initiate conversation with a user"


async def test_set_my_commands_per_scope(emulator: BotApiEmulator, app: App) -> None:
    ivy = emulator.user(1009, "Ivy")
    await app.bot.set_my_commands([BotCommand("start", "Start"), BotCommand("help", "Help")])
    await app.bot.set_my_commands(
        [BotCommand("queue", "Antrean")],
        scope=BotCommandScopeChat(ivy.id),
        language_code="id",
    )
    assert emulator.commands_for() == [
        {"command": "start", "description": "Start"},
        {"command": "help", "description": "Help"},
    ]
    scope = {"type": "chat", "chat_id": ivy.id}
    assert emulator.commands_for(scope, "id") == [{"command": "queue", "description": "Antrean"}]
    assert emulator.commands_for(scope) == []
    assert (json.dumps(scope, sort_keys=True), "id") in emulator.commands

    fetched = await app.bot.get_my_commands(scope=BotCommandScopeChat(ivy.id), language_code="id")
    assert [c.command for c in fetched] == ["queue"]
    bad_name = app.bot.set_my_commands([BotCommand("Bad-Name", "x")])
    assert await refusal(emulator, BadRequest, bad_name) == "Bad Request: BOT_COMMAND_INVALID"
    await app.bot.delete_my_commands(scope=BotCommandScopeDefault())
    assert emulator.commands_for() == []
    assert await app.bot.set_chat_menu_button(ivy.id, MenuButtonCommands())


async def test_get_file_too_big(emulator: BotApiEmulator, app: App) -> None:
    emulator.max_download_size = 1024
    jack = emulator.user(1010, "Jack")
    message = await jack.send_document(b"x" * 2048, "scan.pdf", "application/pdf")
    too_big = app.bot.get_file(message["document"]["file_id"])
    assert await refusal(emulator, BadRequest, too_big) == "Bad Request: file is too big"


async def test_bot_sends_files_and_albums(emulator: BotApiEmulator, app: App) -> None:
    kim = emulator.user(1011, "Kim")
    sent = await app.bot.send_document(kim.id, b"%PDF-1.4 receipt", filename="receipt.pdf")
    shown = await kim.wait_for()
    assert shown.kind == "document" and shown.document is not None
    assert shown.document["file_name"] == "receipt.pdf"
    assert shown.document["mime_type"] == "application/pdf"
    assert await kim.download(shown) == b"%PDF-1.4 receipt"

    # Resending by file_id stores nothing new.
    again = await app.bot.send_document(kim.id, sent.document.file_id)
    assert again.document.file_unique_id == sent.document.file_unique_id

    kim.mark()  # skip the resent document: look only at what comes next
    album = await app.bot.send_media_group(
        kim.id,
        [
            InputMediaDocument(b"one", filename="a.txt"),
            InputMediaDocument(b"two", filename="b.txt", caption="<i>two</i>", parse_mode="HTML"),
        ],
    )
    assert len(album) == 2 and album[0].media_group_id == album[1].media_group_id
    items = [await kim.wait_for(), await kim.wait_for()]
    assert items[0].media_group_id == album[0].media_group_id
    assert [await kim.download(item) for item in items] == [b"one", b"two"]
    assert items[1].text == "two" and items[1].entities[0]["type"] == "italic"

    not_image = app.bot.send_photo(kim.id, b"not an image")
    assert await refusal(emulator, BadRequest, not_image) == "Bad Request: IMAGE_PROCESS_FAILED"


async def test_user_photo_has_two_sizes(emulator: BotApiEmulator) -> None:
    lea = emulator.user(1012, "Lea")
    message = await lea.send_photo(b"\x89PNG fake bytes")
    small, large = message["photo"]
    assert small["file_id"] != large["file_id"]
    assert emulator.files[large["file_id"]].data == b"\x89PNG fake bytes"
    assert emulator.files[small["file_id"]].data != b"\x89PNG fake bytes"


# -- the HTTP surface itself -----------------------------------------------------------------


async def test_http_surface(emulator: BotApiEmulator) -> None:
    async with aiohttp.ClientSession() as http:
        url = f"{emulator.base_url}{emulator.token}"
        async with http.post(f"{emulator.base_url}123:wrong/getMe") as response:
            assert response.status == 401
            assert await response.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
        async with http.get(f"{url}/noSuchMethod") as response:
            assert response.status == 404
        async with http.get(f"{url}/getme") as response:  # methods are case-insensitive
            assert (await response.json())["result"]["username"] == "ppid_test_bot"
        form = {"chat_id": "5", "text": "hi"}
        async with http.post(f"{url}/sendMessage", data=form) as response:
            assert response.status == 400
            assert (await response.json())["description"] == "Bad Request: chat not found"
        async with http.get(f"{emulator.base_file_url}{emulator.token}/documents/x") as response:
            assert response.status == 404


async def test_wrong_token_is_invalid_token_for_ptb(emulator: BotApiEmulator) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999:not-the-token", base_url=emulator.base_url):
            pass  # initialize() calls getMe, which Telegram refuses


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    emulator: BotApiEmulator,
) -> None:
    mia = emulator.user(1013, "Mia")
    url = f"{emulator.base_url}{emulator.token}/getUpdates"
    async with aiohttp.ClientSession() as http:

        async def poll() -> list[dict]:
            async with http.post(url, json={"timeout": 5}) as response:
                return (await response.json())["result"]

        started = time.monotonic()
        task = asyncio.create_task(poll())
        await asyncio.sleep(0.2)
        await mia.send_text("hello")
        updates = await task
        assert time.monotonic() - started < 2
        assert updates[0]["message"]["text"] == "hello"
        assert updates[0]["message"]["chat"] == {"id": 1013, "type": "private", "first_name": "Mia"}

        # Confirming with offset drops the update.
        async with http.post(url, json={"offset": updates[0]["update_id"] + 1}) as response:
            assert (await response.json())["result"] == []


async def test_wait_for_times_out_with_a_dump(emulator: BotApiEmulator) -> None:
    nia = emulator.user(1014, "Nia")
    with pytest.raises(AssertionError, match=r"timed out after 0\.1s"):
        await nia.wait_for(timeout=0.1)


# -- more of the simulated world -------------------------------------------------------------


async def test_group_privacy_mode(emulator: BotApiEmulator, app: App) -> None:
    office = emulator.group(-1001234567890, "PPID office")
    olga = emulator.user(1015, "Olga")

    await office.send_text(olga, "just chatting")  # a bot in privacy mode does not see this
    await office.send_command(olga, "start@ppid_test_bot", "x")
    reply = await office.wait_for()
    assert reply.text == "Hello Olga, args=['x']"
    assert reply.raw["chat"] == {
        "id": -1001234567890,
        "type": "supergroup",
        "title": "PPID office",
    }
    batches = [call.result for call in emulator.calls_to("getUpdates") if call.result]
    texts = [update["message"]["text"] for batch in batches for update in batch]
    assert texts == ["/start@ppid_test_bot x"]
    assert olga.inbox == []


async def test_callback_query_lives_15_minutes(emulator: BotApiEmulator, bot: Bot) -> None:
    pia = emulator.user(1016, "Pia")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="go")]])
    sent = await bot.send_message(pia.id, "menu", reply_markup=keyboard)
    query_id = await pia.press(sent.message_id, data="go")
    assert [q.data for q in emulator.unanswered_callback_queries()] == ["go"]

    emulator.advance_clock(15 * 60 + 1)
    late = await refusal(emulator, BadRequest, bot.answer_callback_query(query_id, "late"))
    assert late.startswith("Bad Request: query is too old")
    forged = await pia.press_raw(sent.message_id, "admin:delete_all")
    assert emulator.callback_queries[forged].data == "admin:delete_all"


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_injected_faults(emulator: BotApiEmulator, bot: Bot) -> None:
    quinn = emulator.user(1017, "Quinn")
    emulator.flood_wait("sendMessage", retry_after=7)
    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(quinn.id, "first")
    assert "Retry in 7 seconds" in str(raised.value)
    assert emulator.failed_calls()[-1].description == "Too Many Requests: retry after 7"
    await bot.send_message(quinn.id, "second")  # only the next call failed

    emulator.fail_next("sendDocument", "Bad Request: wrong file identifier/HTTP URL specified")
    with pytest.raises(BadRequest):
        await bot.send_document(quinn.id, b"data", filename="a.txt")
    assert [m.text for m in quinn.inbox] == ["second"]


async def test_forward_reply_edit_delete(emulator: BotApiEmulator, bot: Bot) -> None:
    rosa = emulator.user(1018, "Rosa")
    sam = emulator.user(1019, "Sam")
    original = await sam.send_text("the decision letter")
    forwarded = await rosa.forward(original)
    assert forwarded["forward_origin"]["type"] == "user"
    assert forwarded["forward_origin"]["sender_user"]["id"] == sam.id
    assert forwarded["text"] == "the decision letter" and forwarded["from"]["id"] == rosa.id

    question = await bot.send_message(rosa.id, "Why?", reply_markup=ForceReply())
    answer = await rosa.send_text("because", reply_to=question.message_id)
    assert answer["reply_to_message"]["text"] == "Why?"
    await rosa.edit_text(answer, "because of the SOP")
    kinds = [next(k for k in u if k != "update_id") for u in emulator.pending_updates()]
    assert kinds == ["message", "message", "message", "edited_message"]

    await bot.delete_message(rosa.id, question.message_id)
    assert rosa.message(question.message_id).deleted
    gone = await refusal(emulator, BadRequest, bot.delete_message(rosa.id, question.message_id))
    assert gone == "Bad Request: message to delete not found"
    copied = await bot.copy_message(sam.id, rosa.id, answer["message_id"])
    assert sam.message(copied.message_id).text == "because of the SOP"


async def test_webhook_and_blocking_updates(emulator: BotApiEmulator, bot: Bot) -> None:
    tia = emulator.user(1020, "Tia")
    emulator.block(tia.id)
    [update] = emulator.pending_updates()
    assert update["my_chat_member"]["new_chat_member"]["status"] == "kicked"

    not_https = bot.set_webhook("http://example.org/hook")
    assert await refusal(emulator, BadRequest, not_https) == (
        "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
    )
    await bot.set_webhook("https://example.org/hook")
    assert (await bot.get_webhook_info()).pending_update_count == 1
    with pytest.raises(Conflict):
        await bot.get_updates()
    await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates(timeout=0) == ()


# -- flood limits ----------------------------------------------------------------------------


def retry_after_of(emulator: BotApiEmulator) -> int:
    """The retry_after the emulator put into its last refusal."""
    refused = emulator.flood_refused[-1]
    assert refused.error_code == 429
    assert refused.description is not None
    return int(refused.description.rsplit(" ", 1)[1])


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_flood_limit_per_chat(emulator: BotApiEmulator, bot: Bot) -> None:
    uma = emulator.user(1021, "Uma")
    vic = emulator.user(1022, "Vic")
    emulator.flood_limits(per_chat=Rate(1, 1.0, burst=2), per_group=None, overall=None)

    await bot.send_message(uma.id, "one")
    await bot.send_message(uma.id, "two")
    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(uma.id, "three")
    assert "Retry in 1 seconds" in str(raised.value)
    assert retry_after_of(emulator) == 1
    await bot.send_message(vic.id, "another chat has its own limit")
    with pytest.raises(RetryAfter):  # a refused call costs nothing, but time has not passed
        await bot.edit_message_text("edited", chat_id=uma.id, message_id=1)

    emulator.advance_clock(1.0)
    await bot.send_message(uma.id, "three")
    uma.assert_received_once_in_order("one", "two", "three")
    assert [m.text for m in uma.inbox] == ["one", "two", "three"]
    assert emulator.delivered() == {uma.id: 3, vic.id: 1}
    assert [call.method for call in emulator.flood_refused] == ["sendMessage", "editMessageText"]


async def test_flood_limit_answer_on_the_wire(emulator: BotApiEmulator) -> None:
    wes = emulator.user(1023, "Wes")
    emulator.flood_limits(per_chat=Rate(1, 1.0), per_group=None, overall=None)
    url = f"{emulator.base_url}{emulator.token}/sendMessage"
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data={"chat_id": str(wes.id), "text": "a"}) as response:
            assert response.status == 200
        async with http.post(url, data={"chat_id": str(wes.id), "text": "b"}) as response:
            assert response.status == 429
            assert await response.json() == {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1},
            }


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_flood_limit_counts_every_album_item(emulator: BotApiEmulator, bot: Bot) -> None:
    xia = emulator.user(1024, "Xia")
    emulator.flood_limits(per_chat=Rate(1, 1.0, burst=3), per_group=None, overall=None)
    album = [InputMediaDocument(f"item {n}".encode(), filename=f"{n}.txt") for n in range(5)]
    await bot.send_media_group(xia.id, album)  # passes with tokens left, then owes the rest
    with pytest.raises(RetryAfter):
        await bot.send_message(xia.id, "after the album")
    assert retry_after_of(emulator) == 3  # 3 - 5 = -2 tokens: 3 seconds to get one back
    emulator.advance_clock(2.0)
    with pytest.raises(RetryAfter):
        await bot.send_message(xia.id, "after the album")
    assert retry_after_of(emulator) == 1
    emulator.advance_clock(1.0)
    await bot.send_message(xia.id, "after the album")
    assert emulator.delivered() == {xia.id: 6}


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_flood_limit_per_group_and_overall(emulator: BotApiEmulator, bot: Bot) -> None:
    office = emulator.group(-1001000000001, "Office")
    emulator.flood_limits(per_chat=None, per_group=Rate(20, 60.0), overall=None)
    for number in range(20):
        await bot.send_message(office.id, f"group message {number}")
    with pytest.raises(RetryAfter):
        await bot.send_message(office.id, "one too many")
    assert retry_after_of(emulator) == 3  # 20 a minute: one every 3 seconds

    people = [emulator.user(1100 + n, f"P{n}") for n in range(4)]
    emulator.flood_limits(per_chat=None, per_group=None, overall=Rate(3, 1.0))
    for person in people[:3]:
        await bot.send_message(person.id, "hi")
    with pytest.raises(RetryAfter):
        await bot.send_message(people[3].id, "hi")
    emulator.no_flood_limits()
    await bot.send_message(people[3].id, "hi")
    assert emulator.delivered()[people[3].id] == 1


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_telegram_like_default_limits(emulator: BotApiEmulator, bot: Bot) -> None:
    yan = emulator.user(1025, "Yan")
    limiter = emulator.flood_limits()
    assert limiter.per_chat == Rate(1, 1.0, burst=3)
    assert limiter.per_group == Rate(20, 60.0) and limiter.overall == Rate(30, 1.0)
    for number in range(3):
        await bot.send_message(yan.id, f"burst {number}")
    with pytest.raises(RetryAfter):
        await bot.send_message(yan.id, "fourth")
    await bot.send_chat_action(yan.id, "typing")  # not a message: never limited
    await bot.get_me()


async def test_received_once_in_order_fails_on_duplicates_and_order(
    emulator: BotApiEmulator, bot: Bot
) -> None:
    zoe = emulator.user(1026, "Zoe")
    for text in ("alpha", "beta", "alpha"):
        await bot.send_message(zoe.id, text)
    zoe.assert_received_once_in_order("beta")
    with pytest.raises(AssertionError, match="2 messages match 'alpha'"):
        zoe.assert_received_once_in_order("alpha")
    await bot.send_message(zoe.id, "gamma")
    with pytest.raises(AssertionError, match="out of order"):
        zoe.assert_received_once_in_order("gamma", "beta")


# -- dropped and slowed calls ----------------------------------------------------------------


async def test_dropped_connection_before_the_call(emulator: BotApiEmulator, bot: Bot) -> None:
    abe = emulator.user(1027, "Abe")
    rule = emulator.drop_connection("sendMessage", times=2, chat_id=abe.id)
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.send_message(abe.id, "lost on the way")
    await bot.send_message(abe.id, "third time lucky")
    assert [m.text for m in abe.inbox] == ["third time lucky"]
    assert len(rule.calls) == 2 and all(call.dropped for call in rule.calls)
    assert all(call.ok is None for call in rule.calls)  # never ran
    assert "dropped" in repr(rule.calls[0])
    assert emulator.failed_calls() == []


async def test_dropped_connection_after_the_call(emulator: BotApiEmulator, bot: Bot) -> None:
    bea = emulator.user(1028, "Bea")
    rule = emulator.drop_connection("sendMessage", after=True)
    with pytest.raises(NetworkError):
        await bot.send_message(bea.id, "sent, but the bot never hears so")
    assert [m.text for m in bea.inbox] == ["sent, but the bot never hears so"]
    assert rule.calls[0].ok is True and rule.calls[0].dropped
    assert rule.answered.is_set()


async def test_slowed_call_is_held_until_released(emulator: BotApiEmulator, bot: Bot) -> None:
    cal = emulator.user(1029, "Cal")
    rule = emulator.slow_down("sendMessage", chat_id=cal.id)
    sending = asyncio.create_task(bot.send_message(cal.id, "held"))
    call = await rule.wait()
    assert call.params["text"] == "held" and call.ok is None
    await asyncio.sleep(0.05)
    assert not sending.done() and cal.inbox == []
    rule.release()
    sent = await sending
    assert [m.message_id for m in cal.inbox] == [sent.message_id]
    await rule.wait_answered()

    timed = emulator.slow_down("sendMessage", 0.2, chat_id=cal.id)
    started = time.monotonic()
    await bot.send_message(cal.id, "late")
    assert time.monotonic() - started >= 0.2 and timed.calls[0].ok


async def test_held_request_never_runs_when_the_bot_hangs_up(emulator: BotApiEmulator) -> None:
    dan = emulator.user(1030, "Dan")
    rule = emulator.slow_down("sendMessage")
    url = f"{emulator.base_url}{emulator.token}/sendMessage"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.3)) as http:
        with pytest.raises(TimeoutError):
            await http.post(url, data={"chat_id": str(dan.id), "text": "never"})
    await rule.wait()
    rule.release()
    await rule.wait_answered()
    assert dan.inbox == []
    assert rule.calls[0].abandoned and rule.calls[0].ok is None
    assert "never ran" in repr(rule.calls[0])


async def test_slowed_get_updates_answer_is_redelivered(emulator: BotApiEmulator) -> None:
    """An answer held after Telegram gave out updates: the bot never confirmed them, so the
    next poll gets them again (as after a crash while the answer was on its way)."""
    eva = emulator.user(1031, "Eva")
    await eva.send_text("hello")
    rule = emulator.slow_down("getUpdates", after=True, match=lambda call: bool(call.result))
    url = f"{emulator.base_url}{emulator.token}/getUpdates"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.3)) as http:
        with pytest.raises(TimeoutError):
            await http.post(url, json={"timeout": 0})
    held = await rule.wait()
    assert held.result and held.result[0]["message"]["text"] == "hello"
    async with aiohttp.ClientSession() as http, http.post(url, json={"timeout": 0}) as response:
        again = (await response.json())["result"]
    assert [update["message"]["text"] for update in again] == ["hello"]
    rule.release()
    assert (await rule.wait_answered()).abandoned


async def test_watch_call_waits_for_what_the_bot_does(emulator: BotApiEmulator, app: App) -> None:
    fay = emulator.user(1032, "Fay")
    other = emulator.watch_call("sendMessage", chat_id=999_999)
    greeting = emulator.watch_call("sendMessage", chat_id=fay.id)
    await fay.send_command("start")
    call = await greeting
    assert call.params["chat_id"] == fay.id and "Hello" in call.params["text"]
    await greeting.wait_answered()
    assert greeting.calls[0].ok
    assert not other.arrived.is_set()
    with pytest.raises(AssertionError, match="no sendmessage call to chat 999999"):
        await other.wait(timeout=0.05)


# -- downloads -------------------------------------------------------------------------------


async def test_truncated_download_variants(emulator: BotApiEmulator, bot: Bot) -> None:
    gus = emulator.user(1033, "Gus")
    payload = bytes(range(256)) * 40  # 10240 bytes
    sent = await gus.send_document(payload, "scan.pdf", "application/pdf")
    file_id = sent["document"]["file_id"]
    telegram_file = await bot.get_file(file_id)
    assert telegram_file.file_size == len(payload)
    url = telegram_file.file_path  # PTB makes it the whole URL
    assert url is not None

    emulator.truncate_download(file_id, keep=0.5)  # Content-Length rewritten to match the cut
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.status_code == 200 and response.content == payload[:5120]
    assert response.headers["content-length"] == "5120"

    emulator.truncate_download(file_id, keep=1000, content_length="absent")
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.status_code == 200 and response.content == payload[:1000]
    assert "content-length" not in response.headers

    emulator.truncate_download(file_id, keep=1000, content_length="full")
    async with httpx.AsyncClient() as http:
        with pytest.raises(httpx.RemoteProtocolError, match="received 1000 bytes, expected 10240"):
            await http.get(url)

    # What a bot must check: PTB hands over the short body without complaint.
    rule = emulator.truncate_download(file_id, keep=0.25)
    short = await telegram_file.download_as_bytearray()
    assert len(short) == 2560 != telegram_file.file_size
    assert [d.outcome for d in emulator.downloads] == ["truncated"] * 4
    assert rule.downloads[0].body_size == 2560 and rule.downloads[0].size == len(payload)

    whole = await telegram_file.download_as_bytearray()  # the faults were one-shot
    assert bytes(whole) == payload and emulator.downloads[-1].outcome == "complete"


async def test_dropped_download(emulator: BotApiEmulator, bot: Bot) -> None:
    hal = emulator.user(1034, "Hal")
    sent = await hal.send_document(b"%PDF-1.7 letter", "letter.pdf", "application/pdf")
    telegram_file = await bot.get_file(sent["document"]["file_id"])
    rule = emulator.drop_download(times=2)  # any file
    for _ in range(2):
        with pytest.raises(NetworkError):
            await telegram_file.download_as_bytearray()
    assert bytes(await telegram_file.download_as_bytearray()) == b"%PDF-1.7 letter"
    assert [d.outcome for d in rule.downloads] == ["dropped", "dropped"]
    assert rule.started.is_set() and rule.finished.is_set()


async def test_slow_download_can_be_watched_and_released(
    emulator: BotApiEmulator, bot: Bot
) -> None:
    ida = emulator.user(1035, "Ida")
    payload = b"x" * 20_000
    sent = await ida.send_document(payload, "big.pdf", "application/pdf")
    file_id = sent["document"]["file_id"]
    telegram_file = await bot.get_file(file_id)
    other = emulator.watch_download("no-such-file")
    rule = emulator.slow_download(file_id, bytes_per_second=2_000)
    downloading = asyncio.create_task(telegram_file.download_as_bytearray())

    download = await rule  # the bot has started downloading
    assert download.file_id == file_id and download.size == 20_000
    await asyncio.sleep(0.1)
    assert 0 < download.sent < 20_000 and not downloading.done()
    rule.release()
    assert bytes(await downloading) == payload
    assert (await rule.wait_finished()).outcome == "complete"
    assert not other.started.is_set()


async def test_slow_download_cut_by_the_client(emulator: BotApiEmulator, bot: Bot) -> None:
    jon = emulator.user(1036, "Jon")
    sent = await jon.send_document(b"y" * 50_000, "big.pdf", "application/pdf")
    telegram_file = await bot.get_file(sent["document"]["file_id"])
    rule = emulator.slow_download(bytes_per_second=1_000)
    url = telegram_file.file_path  # PTB makes it the whole URL
    assert url is not None
    async with httpx.AsyncClient() as http, http.stream("GET", url) as response:
        assert response.headers["content-length"] == "50000"
        async for _chunk in response.aiter_bytes():
            break  # the client hangs up after the first bytes
    download = await rule.wait_finished()
    assert download.outcome == "client gone" and download.sent < 50_000


async def test_clear_faults(emulator: BotApiEmulator, bot: Bot) -> None:
    kai = emulator.user(1037, "Kai")
    emulator.flood_limits(per_chat=Rate(1, 60.0), per_group=None, overall=None)
    emulator.fail_next("sendMessage", "Bad Request: chat not found", times=5)
    emulator.drop_connection("sendMessage", times=None)
    emulator.truncate_download(times=None)
    emulator.clear_faults()
    for number in range(3):
        await bot.send_message(kai.id, f"message {number}")
    assert len(kai.inbox) == 3


# -- the console (python -m tests.emulator) --------------------------------------------------


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("", None),
        ("   ", None),
        ("hello world", SendText("hello world")),
        ("/start abc", SendText("/start abc")),
        ('  ada "kutip" di sini ', SendText('ada "kutip" di sini')),
        ("say press 1", SendText("press 1")),
        ("as 900 Kepala Admin", ActAs(900, "Kepala Admin")),
        ("as 901", ActAs(901, None)),
        ("reply 3 ini jawaban saya", SendText("ini jawaban saya", reply_to=3)),
        ("press 2", Press(2)),
        ("press #12 3", Press(3, 12)),
        ('press 12 "Ya, benar"', Press("Ya, benar", 12)),
        ("press Lanjut", Press("Lanjut")),
        (
            'file "Surat Keputusan PPID.pdf" "Ini keterangan" --group album1',
            SendFile(Path("Surat Keputusan PPID.pdf"), "Ini keterangan", group="album1"),
        ),
        (
            "file scan.pdf --name 'nama baru.pdf'",
            SendFile(Path("scan.pdf"), name="nama baru.pdf"),
        ),
        ("photo 'foto 1.jpg' --group g", SendFile(Path("foto 1.jpg"), group="g", photo=True)),
        ("save off", SaveFiles(None)),
        ("save 'unduhan bot'", SaveFiles(Path("unduhan bot"))),
        ("get #5 keluar", GetFile(5, Path("keluar"))),
        ("get 5", GetFile(5)),
        ("show", Show()),
        ("show 4", Show(4)),
        ("users", Simple("users")),
        ("quit", Simple("quit")),
    ],
)
def test_console_parses_lines(line: str, command: object) -> None:
    assert parse_line(line) == command


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("as soon as possible", "usage: as ID"),
        ("say", "usage: say TEXT"),
        ('file "Surat Keputusan.pdf', "close the quote"),
        ("file", "usage: file PATH"),
        ("file a.pdf b c", "quote a path or caption"),
        ("photo x.jpg --name y.jpg", "usage: photo PATH"),
        ("file a.pdf --group", "usage: file PATH"),
        ("press", "usage: press"),
        ("press x 2", "not a message number"),
        ("reply 3", "usage: reply MSG TEXT"),
        ("get", "usage: get MSG"),
        ("quit now", "usage: quit"),
    ],
)
def test_console_refuses_bad_lines(line: str, error: str) -> None:
    with pytest.raises(ConsoleError, match=error):
        parse_line(line)


async def test_console_shows_edits_presses_any_message_and_saves_files(
    emulator: BotApiEmulator, bot: Bot, tmp_path: Path
) -> None:
    lines: list[str] = []
    console = Console(emulator, out=lines.append)
    assert await console.execute("press 1")
    assert lines[-1] == "!! first choose a user: as ID NAME"
    await console.execute("as 1040 Lia")
    lia = emulator.chat(1040)

    first = await bot.send_message(
        lia.id,
        "Pilih bagian",
        reply_markup=InlineKeyboardMarkup(
            [
                [InlineKeyboardButton("Umum", callback_data="div:1")],
                [InlineKeyboardButton("Teknis", callback_data="div:2")],
            ]
        ),
    )
    await bot.send_message(
        lia.id,
        "Lanjut?",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Ya", callback_data="yes")]]),
    )
    console.refresh()
    assert lines[-5:] == [
        "<< #1 to 1040 Lia: Pilih bagian",
        "   [1] Umum",
        "   [2] Teknis",
        "<< #2 to 1040 Lia: Lanjut?",
        "   [1] Ya",
    ]
    console.refresh()  # nothing new: nothing shown
    assert lines[-1] == "   [1] Ya"

    await bot.edit_message_text("Bagian: Teknis", chat_id=lia.id, message_id=first.message_id)
    console.refresh()
    assert lines[-1] == "~~ #1 to 1040 Lia, edited: Bagian: Teknis"

    # Press a button of the first message, not of the latest one.
    await bot.edit_message_reply_markup(
        lia.id,
        first.message_id,
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton("Ganti", callback_data="change"),
                    InlineKeyboardButton("OK", callback_data="ok"),
                ]
            ]
        ),
    )
    await console.execute("press #1 2")
    [query] = emulator.unanswered_callback_queries()
    assert (query.message_id, query.data) == (first.message_id, "ok")
    await bot.answer_callback_query(query.id, "Tersimpan")
    await console.settle()
    assert lines[-1] == "   (toast) Tersimpan"
    await console.execute('press 1 "ganti"')
    assert emulator.unanswered_callback_queries()[0].data == "change"
    await console.execute("press 1 9")
    assert lines[-1] == "!! message #1 has 2 button(s), not 9"

    # A file whose name and caption have spaces.
    letter = tmp_path / "Surat Keputusan PPID.pdf"
    letter.write_bytes(b"%PDF-1.7 keputusan")
    await console.execute(f'file "{letter}" "Keputusan nomor 5, halaman 1-3"')
    sent = lia.messages[max(lia.messages)]
    assert sent["document"]["file_name"] == "Surat Keputusan PPID.pdf"
    assert sent["caption"] == "Keputusan nomor 5, halaman 1-3"
    assert emulator.files[sent["document"]["file_id"]].data == b"%PDF-1.7 keputusan"
    await console.execute(f"file '{tmp_path / 'missing.pdf'}'")
    assert lines[-1].startswith("!! cannot read") and "missing.pdf" in lines[-1]

    # Files the bot sends are saved, without overwriting one another.
    await console.execute(f"save '{tmp_path / 'dari bot'}'")
    for _ in range(2):
        await bot.send_document(lia.id, b"isi laporan", filename="laporan akhir.pdf")
    console.refresh()
    assert lines[-2:] == [
        f"<< #{lia.inbox[-1].message_id} to 1040 Lia: [document] laporan akhir.pdf (11 bytes)",
        f"   saved: {tmp_path / 'dari bot' / 'laporan akhir (2).pdf'}",
    ]
    saved = sorted(p.name for p in (tmp_path / "dari bot").iterdir())
    assert saved == ["laporan akhir (2).pdf", "laporan akhir.pdf"]
    assert (tmp_path / "dari bot" / "laporan akhir.pdf").read_bytes() == b"isi laporan"
    last = lia.inbox[-1]
    await console.execute(f"get {last.message_id} '{tmp_path / 'satu'}'")
    assert (tmp_path / "satu" / "laporan akhir.pdf").read_bytes() == b"isi laporan"

    await bot.delete_message(lia.id, last.message_id)
    console.refresh()
    assert lines[-1] == f"xx #{last.message_id} to 1040 Lia: deleted by the bot"
    assert not await console.execute("quit")


def test_console_and_readme_use_one_dev_database() -> None:
    """The README's development section starts the bot exactly as the console says, on a
    database and storage of its own (not those `make run` uses)."""
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    development = readme.split("## Development", 1)[1]
    assert dev_command(8081) in development
    assert "python -m tests.emulator --port 8081" in development
    assert Settings.model_fields["database_url"].default != DEV_DATABASE_URL
    assert Settings.model_fields["storage_dir"].default != Path(DEV_STORAGE_DIR)
    assert DEV_DATABASE_URL in development and DEV_STORAGE_DIR in development


async def test_console_runs_as_a_program() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.emulator",
        "--port",
        "0",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=Path(__file__).parent.parent,
    )
    output, _ = await asyncio.wait_for(process.communicate(b"as 900 Admin\nquit\n"), 30)
    text = output.decode()
    assert process.returncode == 0, text
    assert f"DATABASE_URL={DEV_DATABASE_URL}" in text
    assert "(now typing as 900 Admin)" in text


async def test_stopping_the_emulator_ends_held_calls_at_once() -> None:
    async with BotApiEmulator() as emu:
        mae = emu.user(1041, "Mae")
        rule = emu.slow_down("sendMessage")
        async with Bot(emu.token, base_url=emu.base_url) as held_bot:
            sending = asyncio.create_task(held_bot.send_message(mae.id, "never answered"))
            await rule.wait()
            started = time.monotonic()
            await emu.stop()
            assert time.monotonic() - started < 0.5  # not the 1 s shutdown timeout
            assert (await sending).text == "never answered"  # released: it went on
