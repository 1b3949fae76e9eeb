"""Who may use the bot, end to end over HTTP."""

from __future__ import annotations

from sop.model import Role
from tests.e2e.harness import ADMIN_ID, BotHarness


async def test_stranger_gets_only_a_polite_refusal(harness: BotHarness) -> None:
    stranger = harness.emulator.user(4242, "Orang Asing")
    for text in ["/tugas", "/berkas DIK-2026-0001", "halo", "/baru", "/undang"]:
        stranger.mark()
        await stranger.send_text(text)
        reply = await stranger.wait_for()
        assert "belum terdaftar" in reply.text
        assert reply.reply_markup is None
    stranger.mark()
    query = await stranger.press_raw(1, "act:accept:1:1")
    answer = await stranger.wait_for_answer(query)
    assert "belum terdaftar" in answer["text"]


async def test_admin_is_greeted_with_roles_and_menu(harness: BotHarness) -> None:
    admin = harness.emulator.user(ADMIN_ID, "Kepala Admin")
    await admin.send_command("start")
    reply = await admin.wait_for()
    assert "Admin" in reply.text
    await admin.send_command("bantuan")
    help_text = await admin.wait_for()
    assert "/undang" in help_text.text


async def test_group_chat_is_refused(harness: BotHarness) -> None:
    rina, _ = await harness.person(101, "Rina", Role.PETUGAS_PPID, division_id=1)
    group = harness.emulator.group(-100123, "Grup KPU")
    await group.send_command(rina, "tugas")
    await group.wait_for(lambda m: "chat pribadi" in m.text)


async def test_button_without_data_is_answered_and_ignored(harness: BotHarness) -> None:
    rina, _ = await harness.person(101, "Rina", Role.PETUGAS_PPID, division_id=1)
    await rina.send_command("tugas")
    reply = await rina.wait_for()
    query = await rina.press_raw(reply.message_id, "")
    answer = await rina.wait_for_answer(query)
    assert "tidak berlaku" in answer["text"]
