"""People and access administration, end to end over HTTP: /undang, invitation links,
/pengguna with revocation, and what a stranger can (not) learn."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.texts import admin as t
from sop.clock import ManualClock
from sop.model import Role
from tests.conftest import PDF_BYTES, chunks_of, sample_fields
from tests.e2e.harness import ADMIN_ID, BotHarness
from tests.emulator import BotApiEmulator, FakeUser
from tests.emulator.models import BotMessage

DIVISION_2 = "Teknis Penyelenggaraan Pemilu, Partisipasi dan Hubungan Masyarakat"
LINK = re.compile(r"https://t\.me/ppid_test_bot\?start=([A-Za-z0-9_-]+)")


@pytest.fixture
async def harness(
    emulator: BotApiEmulator, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BotHarness]:
    """The bot, with the bootstrap admin's private chat open before it starts."""
    emulator.user(ADMIN_ID, "Kepala Admin", username="kepala_ppid")
    harness = BotHarness(emulator, tmp_path, clock)
    await harness.start()
    yield harness
    await harness.close()


@pytest.fixture
async def admin(harness: BotHarness) -> FakeUser:
    """The bootstrap admin, greeted once so the bot knows their name and @username."""
    chat = harness.emulator.chat(ADMIN_ID)
    assert isinstance(chat, FakeUser)
    await chat.send_command("start")
    await chat.wait_for("Selamat datang")
    await settle(chat)
    return chat


def chat_scope(user: FakeUser) -> dict:
    return {"type": "chat", "chat_id": user.id}


def menu_of(harness: BotHarness, user: FakeUser) -> list[str]:
    return [c["command"] for c in harness.emulator.commands_for(chat_scope(user))]


async def settle(user: FakeUser) -> None:
    """Wait until the bot finished the updates sent so far (it handles them one by one):
    a reply to a new message comes only after the previous handler returned."""
    user.mark()
    await user.send_command("bantuan")
    await user.wait_for()


def assert_clean(harness: BotHarness) -> None:
    emulator = harness.emulator
    assert [(c.method, c.description) for c in emulator.failed_calls()] == []
    assert emulator.unanswered_callback_queries() == []


async def invite(
    admin: FakeUser, role_button: str, division_data: str | None = None, name: str | None = None
) -> str:
    """Run /undang as the admin and return the invitation message's text; without a
    ``name`` the admin presses "Lewati" (the invitee keeps their Telegram name)."""
    admin.mark()
    await admin.send_command("undang")
    menu = await admin.wait_for("Pilih peran")
    assert [text for text, _ in menu.buttons()] == [
        "Petugas PPID",
        "Petugas Dokumentasi",
        "Pejabat PPID",
        "Admin",
        "Batal",
    ]
    await admin.press(menu, text=role_button)
    if division_data is not None:
        divisions = await admin.wait_for_edit(menu.message_id)
        assert "Pilih bagian" in divisions.text
        await admin.press(menu, data=division_data)
    question = await admin.wait_for_edit(menu.message_id)
    assert "Tulis nama resmi" in question.text
    if name is None:
        await admin.press(menu, text=t.BUTTON_SKIP_NAME)
        result = await admin.wait_for_edit(menu.message_id)
    else:
        await admin.send_text(name)
        result = await admin.wait_for("Tautan undangan")
        assert admin.message(menu.message_id).buttons() == []
    assert result.text is not None
    return result.text


def code_in(text: str) -> str:
    match = LINK.search(text)
    assert match is not None, text
    return match.group(1)


async def test_invitation_registers_a_petugas_ppid_of_the_chosen_division(
    harness: BotHarness, admin: FakeUser
) -> None:
    text = await invite(admin, "Petugas PPID", "adm:div:2")
    assert "Petugas PPID" in text
    assert DIVISION_2 in text
    # Monday 23 November 2026 08.00 WIB plus 24 hours.
    assert "Berlaku sampai Selasa, 24 November 2026 08.00 WIB, sekali pakai." in text
    code = code_in(text)
    shared = admin.last().button_url("📤 Kirim tautan ke calon pengguna")
    assert parse_qs(urlsplit(shared).query)["url"] == [f"https://t.me/ppid_test_bot?start={code}"]

    lina = harness.emulator.user(555, "Lina", username="lina_kpu")
    await lina.send_command("start", code)
    welcome = await lina.wait_for()
    assert "Pendaftaran berhasil" in welcome.text
    assert "Petugas PPID" in welcome.text
    assert DIVISION_2 in welcome.text
    await settle(lina)
    service = (await harness.runtime()).service
    actor = await service.actor_by_telegram(555)
    assert actor is not None
    assert actor.roles == {Role.PETUGAS_PPID}
    assert actor.division_id == 2
    assert actor.username == "lina_kpu"
    menu = menu_of(harness, lina)
    assert "baru" in menu
    assert "undang" not in menu

    # Single use: the same link does nothing for somebody else.
    joko = harness.emulator.user(556, "Joko")
    await joko.send_command("start", code)
    refused = await joko.wait_for()
    assert "tidak berlaku" in refused.text
    assert await service.actor_by_telegram(556) is None
    assert menu_of(harness, joko) == []
    assert_clean(harness)


async def test_link_expires_after_24_hours(
    harness: BotHarness, admin: FakeUser, clock: ManualClock
) -> None:
    service = (await harness.runtime()).service
    early = code_in(await invite(admin, "Pejabat PPID"))
    clock.advance(timedelta(hours=24) - timedelta(seconds=1))
    andi = harness.emulator.user(301, "Andi")
    await andi.send_command("start", early)
    assert "Pejabat PPID" in (await andi.wait_for()).text
    assert (await service.actor_by_telegram(301)) is not None

    late = code_in(await invite(admin, "Petugas Dokumentasi"))
    clock.advance(timedelta(hours=24, seconds=1))
    sari = harness.emulator.user(201, "Sari")
    await sari.send_command("start", late)
    refused = await sari.wait_for()
    assert "tidak berlaku" in refused.text
    assert await service.actor_by_telegram(201) is None
    sari.mark()
    await sari.send_command("tugas")
    assert "belum terdaftar" in (await sari.wait_for()).text
    assert_clean(harness)


async def test_admin_invites_an_admin_who_can_then_administer(
    harness: BotHarness, admin: FakeUser
) -> None:
    admin.mark()
    await admin.send_command("undang")
    menu = await admin.wait_for("Pilih peran")
    await admin.press(menu, text="Petugas PPID")
    await admin.wait_for_edit(menu.message_id)
    back = await admin.press(menu, text="‹ Kembali")
    await admin.wait_for_answer(back)
    roles_again = await admin.wait_for_edit(menu.message_id)
    assert "Pilih peran" in roles_again.text
    await admin.press(menu, text="Admin")
    await admin.wait_for_edit(menu.message_id)
    await admin.press(menu, text=t.BUTTON_SKIP_NAME)
    result = await admin.wait_for_edit(menu.message_id)
    assert "untuk Admin" in result.text
    assert "bagian" not in result.text.split("\n")[0]

    dewi = harness.emulator.user(777, "Dewi")
    await dewi.send_command("start", code_in(result.text))
    assert "Admin" in (await dewi.wait_for("Pendaftaran berhasil")).text
    await settle(dewi)
    assert {"undang", "pengguna"} <= set(menu_of(harness, dewi))
    dewi.mark()
    await dewi.send_command("pengguna")
    listing = await dewi.wait_for()
    assert "Kepala Admin @kepala_ppid" in listing.text
    assert "Dewi" in listing.text
    assert_clean(harness)


async def test_undang_waits_for_buttons_and_batal_cancels(
    harness: BotHarness, admin: FakeUser
) -> None:
    admin.mark()
    await admin.send_command("undang")
    menu = await admin.wait_for("Pilih peran")
    await admin.send_text("Pejabat PPID saja")
    assert "pilih dengan tombol" in (await admin.wait_for()).text
    await admin.send_command("batal")
    cancelled = await admin.wait_for()
    assert cancelled.text == "Pembuatan undangan dibatalkan. Tidak ada tautan yang dibuat."
    assert admin.message(menu.message_id).buttons() == []

    # The old buttons do nothing once the conversation is over.
    stale = await admin.press_raw(menu.message_id, "adm:role:pejabat_ppid")
    answer = await admin.wait_for_answer(stale)
    assert "sudah tidak berlaku" in answer["text"]
    assert not LINK.search(admin.last().text or "")

    # The "Batal" button ends it too, and after that text is no longer intercepted.
    await admin.send_command("undang")
    menu = await admin.wait_for("Pilih peran")
    await admin.press(menu, text="Batal")
    assert "dibatalkan" in (await admin.wait_for_edit(menu.message_id)).text
    await admin.send_text("halo")
    assert "tidak sedang ditunggu" in (await admin.wait_for()).text
    assert_clean(harness)


async def test_an_open_undang_survives_a_restart(harness: BotHarness, admin: FakeUser) -> None:
    admin.mark()
    await admin.send_command("undang")
    menu = await admin.wait_for("Pilih peran")
    await admin.press(menu, text="Petugas PPID")
    await admin.wait_for_edit(menu.message_id)
    await harness.restart()
    await admin.press(menu, data="adm:div:3")
    question = await admin.wait_for_edit(menu.message_id)
    assert "Hukum dan Sumber Daya Manusia" in question.text
    await harness.restart()
    await admin.send_text("Hana Hukum")
    result = await admin.wait_for("Tautan undangan")
    assert "Hukum dan Sumber Daya Manusia" in result.text
    assert "atas nama Hana Hukum" in result.text
    code_in(result.text)
    assert_clean(harness)


async def test_non_admins_are_refused(harness: BotHarness, admin: FakeUser) -> None:
    rina, _ = await harness.person(101, "Rina", Role.PETUGAS_PPID, division_id=1)
    for command in ("undang", "pengguna"):
        rina.mark()
        await rina.send_command(command)
        reply = await rina.wait_for()
        assert reply.text == "Maaf, perintah ini hanya untuk admin PPID."
        assert reply.reply_markup is None

    service = (await harness.runtime()).service
    boss = await service.actor_by_telegram(ADMIN_ID)
    assert boss is not None
    await rina.send_text("ok")
    any_message = await rina.wait_for()
    forged = await rina.press_raw(any_message.message_id, f"adm:revoke-yes:{boss.user_id}:admin")
    answer = await rina.wait_for_answer(forged)
    assert "Hanya admin" in answer["text"]
    forged = await rina.press_raw(any_message.message_id, "adm:role:admin")
    assert "sudah tidak berlaku" in (await rina.wait_for_answer(forged))["text"]
    boss_now = await service.actor_by_telegram(ADMIN_ID)
    assert boss_now is not None and boss_now.is_admin
    assert not any(LINK.search(m.text or "") for m in rina.inbox)
    assert_clean(harness)


async def test_pengguna_lists_people_and_revokes_with_confirmation(
    harness: BotHarness, admin: FakeUser
) -> None:
    service = (await harness.runtime()).service
    await harness.person(101, "Rina Petugas", Role.PETUGAS_PPID, division_id=1)
    sari = harness.emulator.user(201, "Sari Dokumentasi", username="sari_dok")
    sari_actor = await service.add_person(201, "Sari Dokumentasi", Role.PETUGAS_DOKUMENTASI)
    dewi, _ = await harness.person(302, "Dewi Pejabat", Role.PEJABAT_PPID, Role.ADMIN)
    for person in (sari, dewi):
        await person.send_command("start")
        await person.wait_for("Selamat datang")
        await settle(person)
    assert "serahkan" in menu_of(harness, sari)
    assert "undang" in menu_of(harness, dewi)

    admin.mark()
    await admin.send_command("pengguna")
    listing = await admin.wait_for("Pengguna terdaftar")
    assert "Rina Petugas" in listing.text
    assert "Petugas PPID (Keuangan, Umum dan Logistik)" in listing.text
    assert "Sari Dokumentasi @sari_dok" in listing.text
    assert "Pejabat PPID, Admin" in listing.text
    labels = [text for text, _ in listing.buttons()]
    assert labels == [
        "Cabut Pejabat PPID – Dewi Pejabat",
        "Cabut Admin – Dewi Pejabat",
        "Cabut Admin – Kepala Admin",
        "Cabut Petugas PPID – Rina Petugas",
        "Cabut Petugas Dokumentasi – Sari Dokumentasi",
    ]

    # First the admin changes their mind.
    await admin.press(listing, text="Cabut Petugas Dokumentasi – Sari Dokumentasi")
    confirm = await admin.wait_for("Cabut peran Petugas Dokumentasi dari Sari Dokumentasi")
    assert [text for text, _ in confirm.buttons()] == ["Ya, cabut", "Batal"]
    await admin.press(confirm, text="Batal")
    assert "dibatalkan" in (await admin.wait_for_edit(confirm.message_id)).text
    assert await service.actor_by_telegram(201) is not None

    # Then revokes for real.
    await admin.press(listing, text="Cabut Petugas Dokumentasi – Sari Dokumentasi")
    confirm = await admin.wait_for("Cabut peran Petugas Dokumentasi")
    sari.mark()
    await admin.press(confirm, text="Ya, cabut")
    done = await admin.wait_for_edit(confirm.message_id)
    assert "Peran Petugas Dokumentasi dicabut dari Sari Dokumentasi" in done.text
    assert "tidak lagi memiliki peran" in done.text
    assert "telah dicabut" in (await sari.wait_for()).text
    assert await service.actor_by_telegram(201) is None
    assert menu_of(harness, sari) == []
    deleted = harness.emulator.calls_to("deleteMyCommands")
    assert [c.params.get("scope") for c in deleted] == [chat_scope(sari)]
    sari.mark()
    await sari.send_command("tugas")
    assert "belum terdaftar" in (await sari.wait_for()).text

    # A second press of the same confirmation changes nothing.
    again = await admin.press_raw(
        confirm.message_id, f"adm:revoke-yes:{sari_actor.user_id}:petugas_dokumentasi"
    )
    assert "tidak memiliki peran" in (await admin.wait_for_answer(again))["text"]
    await settle(admin)
    assert admin.message(confirm.message_id).text == done.text

    # Revoking one of two roles keeps the other, and the menu follows.
    await admin.press(listing, text="Cabut Admin – Dewi Pejabat")
    confirm = await admin.wait_for("Cabut peran Admin dari Dewi Pejabat")
    await admin.press(confirm, text="Ya, cabut")
    done = await admin.wait_for_edit(confirm.message_id)
    assert "Peran yang masih dimiliki: Pejabat PPID." in done.text
    dewi_now = await service.actor_by_telegram(302)
    assert dewi_now is not None and dewi_now.roles == {Role.PEJABAT_PPID}
    dewi_menu = menu_of(harness, dewi)
    assert "tugas" in dewi_menu
    assert "undang" not in dewi_menu

    admin.mark()
    await admin.send_command("pengguna")
    listing = await admin.wait_for("Pengguna terdaftar")
    assert "Sari" not in listing.text
    assert "Cabut Admin – Dewi Pejabat" not in [text for text, _ in listing.buttons()]
    assert_clean(harness)


async def test_the_last_admin_cannot_be_revoked(harness: BotHarness, admin: FakeUser) -> None:
    admin.mark()
    await admin.send_command("pengguna")
    listing = await admin.wait_for("Pengguna terdaftar")
    await admin.press(listing, text="Cabut Admin – Kepala Admin")
    confirm = await admin.wait_for("Cabut peran Admin dari Kepala Admin")
    pressed = await admin.press(confirm, text="Ya, cabut")
    answer = await admin.wait_for_answer(pressed)
    assert answer["text"] == "Admin terakhir tidak dapat dicabut."
    assert answer["show_alert"] is True
    edited = await admin.wait_for_edit(confirm.message_id)
    assert edited.text == "Admin terakhir tidak dapat dicabut."
    service = (await harness.runtime()).service
    boss = await service.actor_by_telegram(ADMIN_ID)
    assert boss is not None and boss.is_admin
    assert "undang" in menu_of(harness, admin)
    assert_clean(harness)


async def test_people_list_pages(harness: BotHarness, admin: FakeUser) -> None:
    for index in range(10):
        await harness.person(1000 + index, f"Pejabat {index:02d}", Role.PEJABAT_PPID)
    admin.mark()
    await admin.send_command("pengguna")
    first = await admin.wait_for("Pengguna terdaftar")
    assert "(halaman 1 dari 2)" in first.text
    assert "Pejabat 00" in first.text
    assert "Pejabat 09" not in first.text
    await admin.press(first, text="Berikutnya ›")
    second = await admin.wait_for_edit(first.message_id)
    assert "(halaman 2 dari 2)" in second.text
    assert "Pejabat 09" in second.text
    assert "Pejabat 00" not in second.text
    assert "‹ Sebelumnya" in [text for text, _ in second.buttons()]
    assert_clean(harness)


async def test_a_stranger_learns_nothing(
    harness: BotHarness, admin: FakeUser, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="handlers.access")
    service = (await harness.runtime()).service
    _, rina = await harness.person(101, "Rina Petugas", Role.PETUGAS_PPID, division_id=1)
    record = await service.create_draft(rina, sample_fields())
    await service.attach_file(rina, record.id, chunks_of(PDF_BYTES), "nota.pdf", "application/pdf")
    assert record.number == "BRK-1"
    admin.mark()
    await admin.send_command("berkas", "BRK-1")
    card: BotMessage = await admin.wait_for("Data pribadi pemilih disabilitas")
    boss = await service.actor_by_telegram(ADMIN_ID)
    assert boss is not None

    stranger = harness.emulator.user(4242, "Orang Asing")
    replies: list[str] = []

    async def refused_message(action: object) -> None:
        stranger.mark()
        await action  # type: ignore[misc]
        reply = await stranger.wait_for()
        assert reply.reply_markup is None
        replies.append(reply.text or "")

    await refused_message(stranger.forward(card))
    await refused_message(stranger.send_command("berkas", "BRK-1"))
    await refused_message(stranger.send_command("berkas", str(record.id)))
    await refused_message(stranger.send_command("pengguna"))
    await refused_message(stranger.send_command("undang"))
    await refused_message(stranger.send_command("tugas"))
    await refused_message(stranger.send_document(PDF_BYTES, "nota.pdf", "application/pdf"))
    start_reply_index = len(replies)
    await refused_message(stranger.send_command("start", "tebakan-kode-undangan"))

    last = stranger.last().message_id
    for data in (
        f"adm:revoke-yes:{boss.user_id}:admin",
        f"adm:revoke:{boss.user_id}:admin",
        "adm:page:0",
        "adm:role:admin",
        "adm:div:1",
        f"rec:{record.id}",
        f"act:files:{record.id}:1",
        "file:1",
    ):
        query = await stranger.press_raw(last, data)
        answer = await stranger.wait_for_answer(query)
        replies.append(answer["text"])
        assert "belum terdaftar" in answer["text"]

    for index, text in enumerate(replies):
        if index == start_reply_index:
            assert "tidak berlaku" in text
        else:
            assert "belum terdaftar" in text
        assert "pemilih" not in text
        assert "BRK" not in text
        assert "Rina" not in text
        assert "Kepala" not in text
        # Digits: only the stranger's own Telegram id, so they can pass it on.
        assert not re.search(r"\d", text.replace("4242", "")), text
        if index != start_reply_index:
            assert "4242" in text
    assert [m for m in stranger.inbox if m.kind != "text"] == []
    assert await service.actor_by_telegram(4242) is None
    boss_now = await service.actor_by_telegram(ADMIN_ID)
    assert boss_now is not None and boss_now.is_admin
    refusals = [r for r in caplog.records if "4242" in r.getMessage()]
    assert len(refusals) >= 14
    assert_clean(harness)
