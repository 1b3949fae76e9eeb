"""What the operator sees of the running bot (its own process, its log on stderr): Telegram
unreachable at start is waited for, network failures are one line each, times carry
their zone, and the token never appears, not even in DEBUG's request URLs."""

from __future__ import annotations

import asyncio
import re

from tests.emulator import BotApiEmulator
from tests.emulator.fixtures import emulator  # noqa: F401
from tests.support.botprocess import ADMIN_ID, BotProcess, bot_process  # noqa: F401

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+07:00 (DEBUG|INFO|WARNING|ERROR) ")


def log_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if STAMP.match(line)]


async def test_telegram_unreachable_at_start_is_retried_until_it_answers(
    emulator: BotApiEmulator,  # noqa: F811
    bot_process: BotProcess,  # noqa: F811
) -> None:
    await emulator.stop()  # Telegram is down (the bot's settings keep its address)
    admin = emulator.user(ADMIN_ID, "Kepala Admin")
    starting = asyncio.create_task(bot_process.start(timeout=30))
    for _ in range(1000):  # the process is being spawned
        if bot_process.running:
            break
        await asyncio.sleep(0.01)
    first = await bot_process.wait_for_output("Telegram is unreachable")
    await bot_process.wait_for_output("trying again in 2s")  # a second attempt, later
    assert bot_process.running
    await emulator.start(port=emulator.port or 0)  # Telegram is back
    await starting  # the bot polls
    await bot_process.wait_for_output("Telegram answered after")
    await admin.send_command("start")
    await admin.wait_for("Selamat datang")

    # Telegram goes away while the bot runs, and comes back: it keeps polling.
    await emulator.stop()
    await bot_process.wait_for_output("polling Telegram failed")
    await emulator.start(port=emulator.port or 0)
    admin.mark()
    await admin.send_command("bantuan")
    await admin.wait_for("Bantuan")
    assert await bot_process.terminate() == 0

    log = bot_process.stderr
    assert "Traceback" not in log
    assert re.search(r" WARNING ppidbot: Telegram is unreachable \(NetworkError: .+\); "
                     r"trying again in 1s$", first)  # fmt: skip
    warnings = [line for line in log.splitlines() if " WARNING " in line]
    assert warnings and all(STAMP.match(line) for line in warnings)
    assert all("unreachable" in w or "polling Telegram failed" in w for w in warnings), warnings
    assert "apscheduler" not in log  # its routine lines stay below INFO
    assert emulator.token not in bot_process.output


async def test_no_token_in_the_log_even_at_debug(
    emulator: BotApiEmulator,  # noqa: F811
    bot_process: BotProcess,  # noqa: F811
) -> None:
    bot_process.settings_env["LOG_LEVEL"] = "DEBUG"
    admin = emulator.user(ADMIN_ID, "Kepala Admin")
    await bot_process.start()
    await admin.send_command("start")
    await admin.wait_for("Selamat datang")
    assert await bot_process.terminate() == 0
    output = bot_process.output
    assert emulator.token not in output
    assert emulator.token.split(":")[1] not in output
    assert "/bot<token>/getUpdates" in output  # httpx's request lines, redacted
    assert len(log_lines(bot_process.stderr)) > 20

    # A token Telegram refuses: one line saying so, without the token, exit status 2.
    wrong = "123456:WRONG-token-for-this-test"
    refused = await bot_process.cli("run", env={"TELEGRAM_BOT_TOKEN": wrong, "LOG_LEVEL": "INFO"})
    assert refused.returncode == 2, refused
    assert "Telegram refused TELEGRAM_BOT_TOKEN" in refused.stderr
    assert "WRONG-token" not in refused.output
    assert "Traceback" not in refused.output
