"""/baru survives a SIGKILL at the worst moments: the conversation resumes where the
database says the record is, an answer given again never creates a second draft, and an
update Telegram delivers again (the bot died before confirming it) is not handled twice."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.texts import new_record as t
from db.models import KeyValueRow, RecordRow
from db.session import create_engine, create_sessionmaker
from sop.model import PeriodKind, Role
from tests.e2e.flows import real_pdf
from tests.emulator import BotApiEmulator, FakeUser
from tests.emulator.fixtures import emulator  # noqa: F401
from tests.support.botprocess import BotProcess, bot_process  # noqa: F401

RINA = 101


async def rina_of(emulator: BotApiEmulator, process: BotProcess) -> FakeUser:  # noqa: F811
    async with process.runtime() as runtime:
        await runtime.service.add_person(RINA, "Rina Petugas", Role.PETUGAS_PPID, division_id=1)
    return emulator.user(RINA, "Rina")


async def records(process: BotProcess) -> int:
    engine = create_engine(process.settings().database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            return int(await session.scalar(select(func.count()).select_from(RecordRow)) or 0)
    finally:
        await engine.dispose()


async def saved_user_data(process: BotProcess) -> dict[str, object]:
    engine = create_engine(process.settings().database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            row = await session.get(KeyValueRow, ("user_data", str(RINA)))
            return json.loads(row.data) if row is not None else {}
    finally:
        await engine.dispose()


async def up_to_the_place(rina: FakeUser) -> None:
    """/baru answered up to the last question (place and date of the classification)."""
    await rina.send_command("baru")
    await rina.send_text("Data pribadi pemilih disabilitas")
    await rina.press(await rina.wait_for("Bagian:"), text=t.BUTTON_DIVISION_OK)
    await rina.wait_for("uraian")
    await rina.send_text("Daftar nama dan alamat pemilih disabilitas.")
    pasal = await rina.wait_for("Dasar hukum pengecualian")
    await rina.press(pasal, text="h")
    await rina.press(await rina.wait_for_edit(pasal.message_id), text=t.BUTTON_NEXT)
    await rina.wait_for("uji konsekuensi")
    await rina.send_text("Membuka rahasia pribadi pemilih.")
    period = await rina.wait_for("Berapa lama")
    await rina.press(period, text=t.BUTTON_PERIOD[PeriodKind.PERMANENT])
    await rina.send_text("Andi Pejabat")


async def test_killed_right_after_the_draft_is_committed(
    emulator: BotApiEmulator,  # noqa: F811
    bot_process: BotProcess,  # noqa: F811
) -> None:
    rina = await rina_of(emulator, bot_process)
    await bot_process.start()
    await up_to_the_place(rina)
    question = await rina.wait_for("tempat dan tanggal penetapan")
    [here] = [text for text, _ in question.buttons() if text.startswith("📍")]
    # The draft is committed before the bot says so; it dies while saying it.
    held = emulator.slow_down(
        "sendMessage", chat_id=RINA, match=lambda call: "draf" in str(call.params.get("text"))
    )
    await rina.press(question, text=here)
    await held.wait()
    await emulator.updates_confirmed()  # Telegram will not deliver the press again
    await bot_process.kill()
    held.release()
    assert await records(bot_process) == 1

    await bot_process.start()
    today = datetime.now(ZoneInfo("Asia/Jakarta")).date()
    rina.mark()
    await rina.send_text(f"Padang, {today:%d-%m-%Y}")  # the question had no buttons left
    prompt = await rina.wait_for("Kirim softcopy")
    assert "tersimpan sebagai draf BRK-1" in prompt.text
    assert await records(bot_process) == 1  # the same draft, not a second one
    await rina.send_document(real_pdf(), "surat.pdf", "application/pdf")
    assert "Lampiran: 1" in (await rina.wait_for("Tersimpan")).text
    await rina.press(prompt, text=t.BUTTON_FILES_DONE)
    await rina.wait_for("Syarat SOP")
    await bot_process.terminate()
    assert await records(bot_process) == 1
    check = await bot_process.cli("check")
    assert check.returncode == 0, check


async def test_an_update_delivered_again_is_not_handled_twice(
    emulator: BotApiEmulator,  # noqa: F811
    bot_process: BotProcess,  # noqa: F811
) -> None:
    """The bot toggled a Pasal 17 letter and saved the conversation, then died before it
    confirmed the update to Telegram: the press comes again and must not untoggle it."""
    rina = await rina_of(emulator, bot_process)
    await bot_process.start()
    await rina.send_command("baru")
    await rina.send_text("Data pribadi pemilih disabilitas")
    await rina.press(await rina.wait_for("Bagian:"), text=t.BUTTON_DIVISION_OK)
    await rina.wait_for("uraian")
    await rina.send_text("Daftar nama dan alamat pemilih disabilitas.")
    pasal = await rina.wait_for("Dasar hukum pengecualian")
    await emulator.updates_confirmed()
    delivered = [u["update_id"] for c in emulator.calls_to("getUpdates") for u in c.result or []]
    last = max(delivered)
    # The poll that would confirm the press never reaches Telegram.
    held = emulator.slow_down(
        "getUpdates", match=lambda call: int(call.params.get("offset") or 0) > last + 1
    )
    await rina.press(pasal, text="h")
    await held.wait()
    toggled = await rina.wait_for_edit(pasal.message_id)
    assert "Dipilih: h" in toggled.text
    for _ in range(200):  # the handled update is saved with the conversation
        data = await saved_user_data(bot_process)
        if data.get("baru", {}).get("fields", {}).get("pasal17") == ["h"]:  # type: ignore[union-attr]
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError(f"the toggle was never saved: {data}")
    await bot_process.kill()
    held.release()
    assert emulator.pending_updates(), "the press should still be unconfirmed"

    await bot_process.start()
    await bot_process.wait_for_output("not handled again")
    await emulator.updates_confirmed()
    assert rina.message(pasal.message_id).edit_count == toggled.edit_count  # not untoggled
    await rina.press(rina.message(pasal.message_id), text=t.BUTTON_NEXT)
    await rina.wait_for("uji konsekuensi")
    data = await saved_user_data(bot_process)
    assert data["baru"]["fields"]["pasal17"] == ["h"]  # type: ignore[index]
