"""Try ppidbot from a shell: ``python -m tests.emulator --port 8081``.

Starts the Bot API emulator on 127.0.0.1 and a small console in which you type as
Telegram users. Point the bot at it in another shell (see the README's development
section) and watch its answers here.

Console lines:
  as 900 Nama          act as Telegram user 900 (created on first use)
  /start, /baru, text  sent as that user
  press N              press button N (1-based) of the bot's last message with buttons
  file PATH            send a file "as file"
  photo PATH [GROUP]   send a photo (GROUP: a media group id for albums)
  quit
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import mimetypes
import sys
from pathlib import Path

from tests.emulator import BotApiEmulator, FakeUser
from tests.emulator.models import BotMessage


def _show(message: BotMessage) -> None:
    kind = "" if message.kind == "text" else f"[{message.kind}] "
    print(f"\n<< bot to {message.chat_id}: {kind}{message.text}")
    for index, (text, _data) in enumerate(message.buttons(), start=1):
        print(f"   [{index}] {text}")


async def _printer(emulator: BotApiEmulator, users: dict[int, FakeUser]) -> None:
    seen: dict[int, int] = {}
    while True:
        for user_id, user in users.items():
            inbox = user.inbox
            for message in inbox[seen.get(user_id, 0) :]:
                _show(message)
            seen[user_id] = len(inbox)
        await asyncio.sleep(0.2)


async def _console(port: int) -> None:
    emulator = BotApiEmulator()
    await emulator.start(port)
    print(f"Bot API emulator on http://127.0.0.1:{emulator.port}")
    print(f"  TELEGRAM_BOT_TOKEN={emulator.token}")
    print(f"  TELEGRAM_BASE_URL={emulator.base_url}")
    print(f"  TELEGRAM_BASE_FILE_URL={emulator.base_file_url}")
    print(__doc__.split("Console lines:")[1])
    users: dict[int, FakeUser] = {}
    current: FakeUser | None = None
    printer = asyncio.create_task(_printer(emulator, users))
    loop = asyncio.get_running_loop()
    try:
        while True:
            raw = await loop.run_in_executor(None, sys.stdin.readline)
            if raw == "" or raw.strip() == "quit":  # end of input, or asked to stop
                break
            line = raw.strip()
            if not line:
                continue
            words = line.split()
            if words[0] == "as" and len(words) >= 2 and words[1].isdigit():
                user_id = int(words[1])
                if user_id not in users:
                    users[user_id] = emulator.user(
                        user_id, " ".join(words[2:]) or f"User {user_id}"
                    )
                current = users[user_id]
                print(f"(now typing as {user_id})")
                continue
            if current is None:
                print("first choose a user: as <telegram id> <name>")
                continue
            if words[0] == "press" and len(words) == 2 and words[1].isdigit():
                with_buttons = [m for m in current.inbox if m.buttons()]
                if not with_buttons:
                    print("no message with buttons")
                    continue
                buttons = with_buttons[-1].buttons()
                index = int(words[1]) - 1
                if not 0 <= index < len(buttons) or buttons[index][1] is None:
                    print("no such button")
                    continue
                await current.press(with_buttons[-1], data=buttons[index][1])
            elif words[0] in {"file", "photo"} and len(words) >= 2:
                path = Path(words[1])
                try:
                    data = await asyncio.to_thread(path.read_bytes)
                except OSError as exc:
                    print(f"cannot read {path}: {exc}")
                    continue
                if words[0] == "file":
                    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    await current.send_document(data, path.name, mime)
                else:
                    group = words[2] if len(words) > 2 else None
                    await current.send_photo(data, media_group_id=group)
            else:
                await current.send_text(line)
    finally:
        printer.cancel()
        await emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.emulator")
    parser.add_argument("--port", type=int, default=8081)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_console(args.port))


if __name__ == "__main__":
    main()
