"""The Bot API emulator, exercised by a real python-telegram-bot Application over HTTP."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
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

from tests.emulator import BotApiEmulator, application_builder, running
from tests.emulator import fixtures as emulator_fixtures

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
