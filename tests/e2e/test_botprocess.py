"""The bot as its own process: killed with SIGKILL at the worst moments, started again."""

from __future__ import annotations

import asyncio
import signal

from sop.model import Role
from tests.e2e.flows import fill_in, real_pdf
from tests.emulator import BotApiEmulator
from tests.emulator.fixtures import emulator  # noqa: F401
from tests.support.botprocess import ADMIN_ID, BotProcess, bot_process  # noqa: F401


async def test_killed_while_its_answer_is_on_the_way(
    emulator: BotApiEmulator,  # noqa: F811
    bot_process: BotProcess,  # noqa: F811
) -> None:
    admin = emulator.user(ADMIN_ID, "Kepala Admin")
    await bot_process.start()
    held = emulator.slow_down("sendMessage", chat_id=ADMIN_ID)
    await admin.send_command("start")
    await held.wait()  # the greeting is on its way to Telegram...
    await emulator.updates_confirmed()  # ...and Telegram will not deliver /start again
    assert await bot_process.kill() == -signal.SIGKILL
    held.release()
    assert (await held.wait_answered()).abandoned
    assert admin.inbox == []  # the greeting died with the bot

    await bot_process.start()
    await admin.send_command("start")
    await admin.wait_for("Admin")
    admin.assert_received_once_in_order("Admin")
    check = await bot_process.cli("check")
    assert check.returncode == 0, check
    assert await bot_process.terminate() == 0
    assert bot_process.returncodes == [-signal.SIGKILL, 0]
    assert "ppidbot is running" in bot_process.stderr


async def test_killed_before_it_confirmed_an_update(
    emulator: BotApiEmulator,  # noqa: F811
    bot_process: BotProcess,  # noqa: F811
) -> None:
    """Telegram handed /start out, the answer to getUpdates was still on the way when the
    bot died: the update was never confirmed, so the restarted bot gets it and answers."""
    admin = emulator.user(ADMIN_ID, "Kepala Admin")
    await bot_process.start()
    held = emulator.slow_down("getUpdates", after=True, match=lambda call: bool(call.result))
    await admin.send_command("start")
    handed_out = (await held.wait()).result[0]["update_id"]
    await bot_process.kill()
    held.release()
    assert admin.inbox == []

    await bot_process.start()
    await admin.wait_for("Admin")
    admin.assert_received_once_in_order("Admin")
    await emulator.updates_confirmed()
    deliveries = [
        call
        for call in emulator.calls_to("getUpdates")
        if any(update["update_id"] == handed_out for update in call.result or [])
    ]
    assert len(deliveries) == 2 and deliveries[0] is held.calls[0]  # handed out again
    check = await bot_process.cli("check")
    assert check.returncode == 0, check


async def test_killed_while_downloading_a_softcopy(
    emulator: BotApiEmulator,  # noqa: F811
    bot_process: BotProcess,  # noqa: F811
) -> None:
    async with bot_process.runtime() as runtime:  # before the bot runs: nothing to disturb
        await runtime.service.add_person(101, "Rina Petugas", Role.PETUGAS_PPID, division_id=1)
    rina = emulator.user(101, "Rina Petugas")
    await bot_process.start()
    await fill_in(rina, "Data pribadi pemilih disabilitas Kota Padang")

    softcopy = real_pdf()
    slow = emulator.slow_download(bytes_per_second=max(1, len(softcopy) // 20))
    sent = await rina.send_document(softcopy, "daftar pemilih.pdf", "application/pdf")
    download = await slow  # the bot is streaming the softcopy into storage...
    assert download.file_id == sent["document"]["file_id"]
    await asyncio.sleep(0.2)
    assert 0 < download.sent < len(softcopy)
    await bot_process.kill()  # ...and dies half-way
    slow.release()
    assert (await slow.wait_finished()).outcome == "client gone"

    await bot_process.start()
    check = await bot_process.cli("check")
    assert check.returncode == 0, check
