"""The emulator console: type as Telegram users, watch the bot's answers and edits.

``python -m tests.emulator`` runs it (see ``__main__.py``); this module holds the parts a
test can drive: :func:`parse_line` and :class:`Console`.
"""

from __future__ import annotations

import asyncio
import mimetypes
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePath

from .models import BotMessage
from .server import BotApiEmulator
from .users import FakeUser

#: The dev bot's own database and storage, never those of ``make run`` (./data/ppidbot.sqlite3
#: and ./data/storage): trying things out cannot touch real records.
DEV_DATABASE_URL = "sqlite+aiosqlite:///./data/dev.sqlite3"
DEV_STORAGE_DIR = "./data/dev-storage"
DEV_ADMIN_ID = 900

HELP = """\
Console lines (quote arguments with spaces: file "Surat Keputusan.pdf" "Ini keterangannya"):
  as ID [NAME]                  act as Telegram user ID (created on first use)
  /start, /baru, any text       sent as that user
  say TEXT                      send TEXT as it is, even if it looks like a console line
  reply MSG TEXT                send TEXT as a reply to message MSG
  press N                       press button N of the latest message with buttons
  press MSG N | press MSG TEXT  press button N, or the button labelled TEXT, of message MSG
  file PATH [CAPTION] [--name NAME] [--group ID]
                                send a file "as file" (NAME: another file name;
                                ID: the same for every item of an album)
  photo PATH [CAPTION] [--group ID]
                                send a picture
  save DIR | save off           save every file the bot sends into DIR (or stop)
  get MSG [DIR]                 save the file of message MSG now
  show [MSG]                    show message MSG again (default: the latest)
  users                         the users typed as so far
  help, quit"""

COMMANDS = frozenset(
    {"as", "say", "reply", "press", "file", "photo", "save", "get", "show", "users", "help", "quit"}
)


def dev_command(port: int) -> str:
    """The shell lines that start the bot against a console on ``port`` (also in README)."""
    return (
        "TELEGRAM_BOT_TOKEN=123456:TEST-token \\\n"
        f"TELEGRAM_BASE_URL=http://127.0.0.1:{port}/bot \\\n"
        f"TELEGRAM_BASE_FILE_URL=http://127.0.0.1:{port}/file/bot \\\n"
        f"DATABASE_URL={DEV_DATABASE_URL} STORAGE_DIR={DEV_STORAGE_DIR} \\\n"
        f"ADMIN_TELEGRAM_IDS={DEV_ADMIN_ID} .venv/bin/ppidbot run"
    )


class ConsoleError(Exception):
    """A console line that cannot be done; the message says why."""


# -- what a line asks for ---------------------------------------------------------------------


@dataclass(frozen=True)
class ActAs:
    user_id: int
    name: str | None


@dataclass(frozen=True)
class SendText:
    text: str
    reply_to: int | None = None


@dataclass(frozen=True)
class Press:
    button: int | str  # a 1-based number, or the button's text
    message_id: int | None = None  # None: the latest message with buttons


@dataclass(frozen=True)
class SendFile:
    path: Path
    caption: str | None = None
    name: str | None = None
    group: str | None = None
    photo: bool = False


@dataclass(frozen=True)
class SaveFiles:
    directory: Path | None  # None: stop saving


@dataclass(frozen=True)
class GetFile:
    message_id: int
    directory: Path | None = None


@dataclass(frozen=True)
class Show:
    message_id: int | None = None


@dataclass(frozen=True)
class Simple:
    name: str  # users | help | quit


Command = ActAs | SendText | Press | SendFile | SaveFiles | GetFile | Show | Simple


def parse_line(line: str) -> Command | None:
    """What a console line asks for; None for an empty line. Raises ConsoleError."""
    stripped = line.strip()
    if not stripped:
        return None
    word, _, rest = stripped.partition(" ")
    if word not in COMMANDS:
        return SendText(stripped)
    if word == "say":
        if not rest.strip():
            raise ConsoleError("usage: say TEXT")
        return SendText(rest.strip())
    try:
        args = shlex.split(rest)
    except ValueError as exc:
        raise ConsoleError(f"{word}: {exc} (close the quote)") from None
    parser = _PARSERS[word]
    return parser(args)


def _message_id(text: str, usage: str) -> int:
    number = text.removeprefix("#")
    if not number.isdigit():
        raise ConsoleError(f"not a message number: {text!r}; usage: {usage}")
    return int(number)


def _parse_as(args: list[str]) -> Command:
    if not args or not args[0].isdigit() or int(args[0]) <= 0:
        raise ConsoleError("usage: as ID [NAME] (ID: a positive number); say TEXT sends text")
    return ActAs(int(args[0]), " ".join(args[1:]) or None)


def _parse_reply(args: list[str]) -> Command:
    usage = "reply MSG TEXT"
    if len(args) < 2:
        raise ConsoleError(f"usage: {usage}")
    return SendText(" ".join(args[1:]), reply_to=_message_id(args[0], usage))


def _parse_press(args: list[str]) -> Command:
    usage = "press N | press MSG N | press MSG TEXT"
    if len(args) == 1:
        return Press(int(args[0]) if args[0].isdigit() else args[0])
    if len(args) == 2:
        button = args[1]
        return Press(int(button) if button.isdigit() else button, _message_id(args[0], usage))
    raise ConsoleError(f"usage: {usage} (quote a button text with spaces)")


def _parse_send(photo: bool) -> Callable[[list[str]], Command]:
    usage = (
        "photo PATH [CAPTION] [--group ID]"
        if photo
        else "file PATH [CAPTION] [--name NAME] [--group ID]"
    )

    def parse(args: list[str]) -> Command:
        options: dict[str, str] = {}
        positional: list[str] = []
        allowed = {"--group"} if photo else {"--group", "--name"}
        index = 0
        while index < len(args):
            arg = args[index]
            if arg.startswith("--"):
                if arg not in allowed or index + 1 >= len(args):
                    raise ConsoleError(f"usage: {usage}")
                options[arg] = args[index + 1]
                index += 2
            else:
                positional.append(arg)
                index += 1
        if not 1 <= len(positional) <= 2:
            raise ConsoleError(f"usage: {usage} (quote a path or caption with spaces)")
        return SendFile(
            Path(positional[0]).expanduser(),
            caption=positional[1] if len(positional) == 2 else None,
            name=options.get("--name"),
            group=options.get("--group"),
            photo=photo,
        )

    return parse


def _parse_save(args: list[str]) -> Command:
    if len(args) != 1:
        raise ConsoleError("usage: save DIR | save off")
    return SaveFiles(None if args[0] == "off" else Path(args[0]).expanduser())


def _parse_get(args: list[str]) -> Command:
    usage = "get MSG [DIR]"
    if not 1 <= len(args) <= 2:
        raise ConsoleError(f"usage: {usage}")
    directory = Path(args[1]).expanduser() if len(args) == 2 else None
    return GetFile(_message_id(args[0], usage), directory)


def _parse_show(args: list[str]) -> Command:
    if len(args) > 1:
        raise ConsoleError("usage: show [MSG]")
    return Show(_message_id(args[0], "show [MSG]") if args else None)


def _parse_simple(name: str) -> Callable[[list[str]], Command]:
    def parse(args: list[str]) -> Command:
        if args:
            raise ConsoleError(f"usage: {name}")
        return Simple(name)

    return parse


_PARSERS: dict[str, Callable[[list[str]], Command]] = {
    "as": _parse_as,
    "reply": _parse_reply,
    "press": _parse_press,
    "file": _parse_send(photo=False),
    "photo": _parse_send(photo=True),
    "save": _parse_save,
    "get": _parse_get,
    "show": _parse_show,
    "users": _parse_simple("users"),
    "help": _parse_simple("help"),
    "quit": _parse_simple("quit"),
}


# -- the console ------------------------------------------------------------------------------


def render(message: BotMessage, *, to: str, edited: bool = False) -> list[str]:
    """The lines that show a bot message (or its new state after an edit)."""
    if message.deleted:
        return [f"xx #{message.message_id} to {to}: deleted by the bot"]
    head = (
        f"~~ #{message.message_id} to {to}, edited: "
        if edited
        else f"<< #{message.message_id} to {to}: "
    )
    lines = (message.text or "").splitlines() or [""]
    if message.document:
        size = message.document.get("file_size", 0)
        name = message.document.get("file_name") or "(no name)"
        lines = [f"[document] {name} ({size} bytes)", *(lines if message.text else [])]
    elif message.kind != "text":
        lines = [f"[{message.kind}]", *(lines if message.text else [])]
    shown = [head + lines[0], *(f"   {line}" for line in lines[1:])]
    for index, (button, data) in enumerate(message.buttons(), start=1):
        if data is None:
            url = next((u for t, u in message.url_buttons() if t == button), "")
            shown.append(f"   [{index}] {button} (link: {url})")
        else:
            shown.append(f"   [{index}] {button}")
    for row in message.keyboard():
        shown.append("   keyboard: " + " | ".join(row))
    return shown


class Console:
    """Console lines against an emulator; ``out`` receives every line it shows."""

    def __init__(
        self,
        emulator: BotApiEmulator,
        *,
        out: Callable[[str], None] = print,
        save_dir: Path | None = None,
    ) -> None:
        self.emulator = emulator
        self.out = out
        self.save_dir = save_dir
        self.users: dict[int, FakeUser] = {}
        self.current: FakeUser | None = None
        self._shown: dict[tuple[int, int], tuple[int, bool]] = {}  # edit count, deleted
        self._answers: set[asyncio.Task[None]] = set()

    # -- showing what the bot did -------------------------------------------------------------

    def refresh(self) -> None:
        """Show new, edited and deleted bot messages since the last refresh; save files."""
        for user in self.users.values():
            for message in user.inbox:
                key = (user.id, message.message_id)
                state = (message.edit_count, message.deleted)
                seen = self._shown.get(key)
                if seen == state:
                    continue
                self._shown[key] = state
                for line in render(message, to=self._name(user), edited=seen is not None):
                    self.out(line)
                if seen is None and message.file_id and self.save_dir is not None:
                    self._save(message, self.save_dir)

    def _name(self, user: FakeUser) -> str:
        return f"{user.id} {user.first_name}"

    def _save(self, message: BotMessage, directory: Path) -> Path | None:
        file_id = message.file_id
        stored = self.emulator.files.get(file_id) if file_id else None
        if stored is None:
            self.out(f"   (message #{message.message_id} has no file)")
            return None
        name = PurePath(stored.file_name or "").name or f"photo-{message.message_id}.jpg"
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / name
        counter = 2
        while target.exists():
            target = directory / f"{PurePath(name).stem} ({counter}){PurePath(name).suffix}"
            counter += 1
        target.write_bytes(stored.data)
        self.out(f"   saved: {target}")
        return target

    # -- doing what a line asks ---------------------------------------------------------------

    async def execute(self, line: str) -> bool:
        """Do one console line; False once it asked to quit."""
        try:
            command = parse_line(line)
            if command is None:
                return True
            if command == Simple("quit"):
                return False
            await self._do(command)
        except ConsoleError as exc:
            self.out(f"!! {exc}")
        return True

    async def _do(self, command: Command) -> None:
        if isinstance(command, ActAs):
            self._act_as(command)
        elif isinstance(command, Simple):
            if command.name == "help":
                self.out(HELP)
            else:
                for user in self.users.values():
                    marker = "*" if user is self.current else " "
                    self.out(f" {marker} {self._name(user)}")
        elif isinstance(command, SaveFiles):
            self.save_dir = command.directory
            self.out(f"(saving files into {command.directory})" if command.directory else "(off)")
        else:
            await self._as_user(self._user(), command)

    def _act_as(self, command: ActAs) -> None:
        user = self.users.get(command.user_id)
        if user is None:
            name = command.name or f"User {command.user_id}"
            try:
                user = self.emulator.user(command.user_id, name)
            except ValueError as exc:
                raise ConsoleError(str(exc)) from None
            self.users[user.id] = user
            for message in user.inbox:
                self._shown[(user.id, message.message_id)] = (message.edit_count, message.deleted)
        self.current = user
        self.out(f"(now typing as {self._name(user)})")

    def _user(self) -> FakeUser:
        if self.current is None:
            raise ConsoleError("first choose a user: as ID NAME")
        return self.current

    async def _as_user(self, user: FakeUser, command: Command) -> None:
        if isinstance(command, SendText):
            if command.reply_to is not None and command.reply_to not in user.messages:
                raise ConsoleError(f"no message #{command.reply_to} in this chat")
            await user.send_text(command.text, reply_to=command.reply_to)
        elif isinstance(command, Press):
            await self._press(user, command)
        elif isinstance(command, SendFile):
            await self._send_file(user, command)
        elif isinstance(command, GetFile):
            message = self._message(user, command.message_id)
            if message.file_id is None:
                raise ConsoleError(f"message #{command.message_id} has no file")
            self._save(message, command.directory or self.save_dir or Path.cwd())
        elif isinstance(command, Show):
            if command.message_id is None:
                if not user.inbox:
                    raise ConsoleError("the bot has sent nothing to this chat yet")
                message = user.inbox[-1]
            else:
                message = self._message(user, command.message_id)
            for line in render(message, to=self._name(user)):
                self.out(line)

    def _message(self, user: FakeUser, message_id: int) -> BotMessage:
        message = user.bot_message(message_id)
        if message is None:
            raise ConsoleError(f"the bot sent no message #{message_id} to this chat")
        return message

    async def _press(self, user: FakeUser, command: Press) -> None:
        if command.message_id is None:
            with_buttons = [m for m in user.inbox if m.buttons() and not m.deleted]
            if not with_buttons:
                raise ConsoleError("no message with buttons")
            message = with_buttons[-1]
        else:
            message = self._message(user, command.message_id)
        if message.deleted:
            raise ConsoleError(f"message #{message.message_id} was deleted")
        buttons = message.buttons()
        if isinstance(command.button, int):
            if not 1 <= command.button <= len(buttons):
                raise ConsoleError(
                    f"message #{message.message_id} has {len(buttons)} button(s), "
                    f"not {command.button}"
                )
            text, data = buttons[command.button - 1]
        else:
            found = [(t, d) for t, d in buttons if t == command.button]
            if not found:
                found = [(t, d) for t, d in buttons if command.button.lower() in t.lower()]
            if len(found) != 1:
                names = ", ".join(repr(t) for t, _ in buttons) or "none"
                raise ConsoleError(f"no single button {command.button!r}; buttons: {names}")
            text, data = found[0]
        if data is None:
            raise ConsoleError(f"button {text!r} opens a link; it sends nothing to the bot")
        query_id = await user.press(message, data=data)
        task = asyncio.create_task(self._show_answer(user, query_id))
        self._answers.add(task)
        task.add_done_callback(self._answers.discard)

    async def _show_answer(self, user: FakeUser, query_id: str) -> None:
        try:
            answer = await user.wait_for_answer(query_id, timeout=15)
        except AssertionError:
            self.out("!! the bot did not answer the button press")
            return
        if answer.get("text"):
            kind = "alert" if answer.get("show_alert") else "toast"
            self.out(f"   ({kind}) {answer['text']}")

    async def _send_file(self, user: FakeUser, command: SendFile) -> None:
        try:
            data = await asyncio.to_thread(command.path.read_bytes)
        except OSError as exc:
            raise ConsoleError(f"cannot read {command.path}: {exc.strerror or exc}") from None
        if command.photo:
            await user.send_photo(data, caption=command.caption, media_group_id=command.group)
            return
        name = command.name or command.path.name
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        await user.send_document(
            data, name, mime, caption=command.caption, media_group_id=command.group
        )

    async def settle(self) -> None:
        """Wait until the answers to button presses made so far were shown."""
        if self._answers:
            await asyncio.gather(*self._answers)
