"""Try ppidbot from a shell: ``python -m tests.emulator --port 8081``.

Starts the Bot API emulator on 127.0.0.1 and a console in which you type as Telegram
users (``help`` lists the console lines). Point the bot at it in another shell, as the
console prints and the README's development section shows; the bot then uses its own dev
database and storage, never those of ``make run``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path

from tests.emulator import BotApiEmulator
from tests.emulator.console import HELP, Console, dev_command


async def _refresher(console: Console) -> None:
    while True:
        console.refresh()
        await asyncio.sleep(0.2)


async def _console(port: int, save_dir: Path | None) -> None:
    emulator = BotApiEmulator()
    await emulator.start(port)
    assert emulator.port is not None
    print(f"Bot API emulator on http://127.0.0.1:{emulator.port}")
    print("Start the bot in another shell, from the repository root:\n")
    print(dev_command(emulator.port) + "\n")
    print(HELP)
    console = Console(emulator, save_dir=save_dir)
    refresher = asyncio.create_task(_refresher(console))
    loop = asyncio.get_running_loop()
    try:
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if line == "" or not await console.execute(line):  # end of input, or quit
                break
            await asyncio.sleep(0.05)
            console.refresh()
    finally:
        refresher.cancel()
        await emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.emulator")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument(
        "--save-dir", type=Path, help="save every file the bot sends into this directory"
    )
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_console(args.port, args.save_dir))


if __name__ == "__main__":
    main()
