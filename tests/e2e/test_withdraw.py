"""Withdrawing a draft end to end over the Bot API emulator: "Batalkan berkas" on the card,
a reason, a confirmation; who may and who may not; the register and the reminders after."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.texts import withdraw as t
from sop.clock import ManualClock
from sop.model import Role, State
from tests.conftest import PDF_BYTES, START, chunks_of, sample_fields
from tests.e2e.flows import fill_in, real_pdf
from tests.e2e.harness import ADMIN_ID, BotHarness
from tests.emulator import BotApiEmulator, FakeUser
from tests.emulator.models import BotMessage

REASON = "Dokumen yang diunggah salah; akan dibuat berkas baru."


@pytest.fixture
async def harness(
    emulator: BotApiEmulator, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BotHarness]:
    """The bot on a manual clock, re-reading open steps five times a second, started after
    the bootstrap admin opened the chat (so every failed Bot API call here is a bug)."""
    emulator.user(ADMIN_ID, "Admin PPID")
    harness = BotHarness(
        emulator, tmp_path, clock, reminder_check_interval=timedelta(milliseconds=200)
    )
    await harness.start()
    yield harness
    await harness.close()


def no_failed_calls(harness: BotHarness) -> None:
    assert [(c.method, c.description) for c in harness.emulator.failed_calls()] == []


async def card_of(user: FakeUser, number: str) -> BotMessage:
    user.mark()
    await user.send_command("berkas", number)
    return await user.wait_for("Status:")


async def alert(user: FakeUser, message: BotMessage, text: str) -> str:
    answer = await user.wait_for_answer(await user.press(message, text=text))
    assert answer.get("show_alert") is True
    return str(answer["text"])


async def test_a_draft_kept_by_batal_is_withdrawn_from_its_card(harness: BotHarness) -> None:
    rina, _ = await harness.person(101, "Rina Petugas", Role.PETUGAS_PPID, division_id=1)
    sinta, _ = await harness.person(103, "Sinta Petugas", Role.PETUGAS_PPID, division_id=1)
    andi, andi_actor = await harness.person(301, "Andi Pejabat", Role.PEJABAT_PPID)
    service = (await harness.runtime()).service

    await fill_in(rina, "Notulen rapat yang salah unggah")
    await rina.send_document(real_pdf(), "notulen.pdf", "application/pdf")
    await rina.wait_for("Tersimpan")
    await rina.send_command("batal")
    kept = await rina.wait_for("tersimpan sebagai draf")
    assert "/berkas BRK-1, tombol Batalkan berkas" in kept.text

    card = await card_of(rina, "BRK-1")
    assert t.BUTTON_WITHDRAW in [text for text, _ in card.buttons()]
    await rina.press(card, text=t.BUTTON_WITHDRAW)
    ask = await rina.wait_for("Batalkan BRK-1")
    assert "Notulen rapat yang salah unggah" in ask.text and "alasan pembatalan" in ask.text
    await rina.send_document(real_pdf((1, 2, 3)), "lain.pdf", "application/pdf")
    await rina.wait_for("ditulis sebagai teks")
    await rina.send_text("x")
    await rina.wait_for("Tulis lagi alasannya")
    await rina.send_text(REASON)
    confirm = await rina.wait_for("Yakin membatalkan")
    assert REASON in confirm.text
    assert (await rina.wait_for_edit(ask.message_id)).buttons() == []  # one question at a time

    # "Tidak jadi": nothing changes, and the card's button still works afterwards.
    await rina.press(confirm, text=t.BUTTON_KEEP)
    kept = await rina.wait_for_edit(confirm.message_id)
    assert kept.text == "BRK-1 tidak jadi dibatalkan. Tidak ada yang diubah."
    assert (await service.record(andi_actor, 1)).state is State.DRAFT

    await rina.press(card, text=t.BUTTON_WITHDRAW)
    await rina.wait_for("Batalkan BRK-1")
    await rina.send_text(REASON)
    confirm = await rina.wait_for("Yakin membatalkan")
    answer = await rina.wait_for_answer(await rina.press(confirm, text="🗑 Ya, batalkan BRK-1"))
    assert answer["text"] == "BRK-1 dibatalkan."
    done = await rina.wait_for_edit(confirm.message_id)
    assert done.text.startswith("🗑 BRK-1 dibatalkan. Berkas ini tidak lagi diingatkan")
    assert "Pemberitahuan terkirim kepada: Sinta Petugas." in done.text
    closed = await rina.wait_for_edit(card.message_id)
    assert closed.buttons() == []
    assert "Status: Dibatalkan" in closed.text and "Dibatalkan oleh Rina Petugas" in closed.text

    notice = await sinta.wait_for("dibatalkan oleh Rina Petugas")
    assert "BRK-1 “Notulen rapat yang salah unggah”" in notice.text and REASON in notice.text
    assert notice.buttons() == [("Buka BRK-1", "rec:1")]
    assert andi.inbox == []  # step 1 never waited on the Pejabat PPID

    record = await service.record(andi_actor, 1)
    assert record.state is State.CANCELLED and len(record.files) == 1

    # Gone from the register and from the tasks; the card still tells what happened.
    rina.mark()
    await rina.send_command("daftar")
    assert "Belum ada berkas yang cocok." in (await rina.wait_for("Daftar Informasi")).text
    await rina.send_text("/cari notulen")
    await rina.wait_for("Tidak ada berkas dengan kata")
    await rina.send_command("tugas")
    await rina.wait_for("Tidak ada tugas")
    for person in (rina, andi):
        shown = await card_of(person, "BRK-1")
        assert "Status: Dibatalkan" in shown.text
        assert f"Alasan pembatalan: {REASON}" in shown.text
        assert "dibatalkan: Dokumen yang diunggah salah" in shown.text  # the audit trail
        assert t.BUTTON_WITHDRAW not in [text for text, _ in shown.buttons()]
    # The old confirmation pressed again changes nothing.
    query = await rina.press_raw(confirm.message_id, "wdr:ya:1")
    assert (await rina.wait_for_answer(query))["text"] == "Tombol ini sudah tidak berlaku."
    no_failed_calls(harness)


async def test_admins_withdraw_any_draft_and_others_get_no_button(harness: BotHarness) -> None:
    rina, rina_actor = await harness.person(101, "Rina Petugas", Role.PETUGAS_PPID, division_id=1)
    budi, _ = await harness.person(102, "Budi Petugas", Role.PETUGAS_PPID, division_id=2)
    sari, _ = await harness.person(201, "Sari Dokumentasi", Role.PETUGAS_DOKUMENTASI)
    admin = harness.emulator.chat(ADMIN_ID)
    service = (await harness.runtime()).service
    draft = await service.create_draft(rina_actor, sample_fields(title="Draf terbengkalai"))
    assert isinstance(admin, FakeUser)

    card = await card_of(sari, draft.number)
    assert t.BUTTON_WITHDRAW not in [text for text, _ in card.buttons()]
    forged = f"act:withdraw:{draft.id}:{draft.version}"
    query = await sari.press_raw(card.message_id, forged)
    refusal = await sari.wait_for_answer(query)
    assert (
        refusal["text"] == "Hanya Petugas PPID bagian ini atau admin yang dapat membatalkan draf."
    )
    budi.mark()
    await budi.send_command("berkas", draft.number)
    await budi.wait_for("tidak ditemukan")
    query = await budi.press_raw(budi.last().message_id, forged)
    assert "tidak ditemukan" in (await budi.wait_for_answer(query))["text"]

    card = await card_of(admin, draft.number)
    assert [text for text, _ in card.buttons()] == [t.BUTTON_WITHDRAW]
    await admin.press(card, text=t.BUTTON_WITHDRAW)
    await admin.wait_for("Batalkan BRK-1")
    await admin.send_text("Draf tidak dilanjutkan sejak pekan lalu.")
    confirm = await admin.wait_for("Yakin membatalkan")
    # A stale card: the draft changed after the card was shown.
    await service.update_fields(rina_actor, draft.id, {"title": "Draf terbengkalai (revisi)"})
    refusal = await alert(admin, confirm, "🗑 Ya, batalkan BRK-1")
    assert "sudah diproses atau statusnya telah berubah" in refusal
    assert (await service.record(rina_actor, draft.id)).state is State.DRAFT

    card = await card_of(admin, draft.number)
    await admin.press(card, text=t.BUTTON_WITHDRAW)
    await admin.wait_for("Batalkan BRK-1")
    await admin.send_text("Draf tidak dilanjutkan sejak pekan lalu.")
    confirm = await admin.wait_for("Yakin membatalkan")
    await admin.press(confirm, text="🗑 Ya, batalkan BRK-1")
    done = await admin.wait_for_edit(confirm.message_id)
    assert "Pemberitahuan terkirim kepada: Rina Petugas." in done.text
    notice = await rina.wait_for("dibatalkan oleh Admin 900")
    assert "Draf terbengkalai (revisi)" in notice.text
    assert budi.inbox[-1].text is not None and "dibatalkan" not in budi.inbox[-1].text
    no_failed_calls(harness)


async def test_the_draft_being_filled_in_is_not_withdrawn_under_baru(harness: BotHarness) -> None:
    rina, rina_actor = await harness.person(101, "Rina Petugas", Role.PETUGAS_PPID, division_id=1)
    service = (await harness.runtime()).service
    older = await service.create_draft(rina_actor, sample_fields(title="Draf lama"))

    prompt = await fill_in(rina, "Draf yang sedang diisi")
    assert "BRK-2" in prompt.text
    # /berkas works in the middle of /baru; this draft cannot be withdrawn from under it.
    card = await card_of(rina, "BRK-2")
    assert "Anda sedang mengisi berkas ini lewat /baru" in await alert(
        rina, card, t.BUTTON_WITHDRAW
    )
    # Another draft can: the reason goes to the withdrawal, not to /baru's question.
    card = await card_of(rina, older.number)
    await rina.press(card, text=t.BUTTON_WITHDRAW)
    await rina.wait_for("Batalkan BRK-1")
    await rina.send_text("Sudah tergantikan oleh BRK-2.")
    confirm = await rina.wait_for("Yakin membatalkan")
    await rina.press(confirm, text="🗑 Ya, batalkan BRK-1")
    await rina.wait_for_edit(confirm.message_id)
    assert (await service.record(rina_actor, older.id)).state is State.CANCELLED
    # /baru carries on where it was.
    await rina.send_document(real_pdf(), "surat.pdf", "application/pdf")
    assert "Lampiran: 1" in (await rina.wait_for("Tersimpan")).text
    current = await service.record(rina_actor, 2)
    assert current.state is State.DRAFT and len(current.files) == 1
    no_failed_calls(harness)


async def test_no_reminder_or_escalation_after_a_withdrawal(
    harness: BotHarness, clock: ManualClock
) -> None:
    rina, rina_actor = await harness.person(101, "Rina Petugas", Role.PETUGAS_PPID, division_id=1)
    andi, _ = await harness.person(301, "Andi Pejabat", Role.PEJABAT_PPID)
    service = (await harness.runtime()).service
    withdrawn = await service.create_draft(rina_actor, sample_fields(title="Draf yang ditarik"))
    await service.attach_file(
        rina_actor, withdrawn.id, chunks_of(PDF_BYTES), "a.pdf", "application/pdf"
    )
    kept = await service.create_draft(rina_actor, sample_fields(title="Draf yang tetap"))

    card = await card_of(rina, withdrawn.number)
    await rina.press(card, text=t.BUTTON_WITHDRAW)
    await rina.wait_for("Batalkan BRK-1")
    await rina.send_text("Tidak jadi dikecualikan.")
    confirm = await rina.wait_for("Yakin membatalkan")
    await rina.press(confirm, text="🗑 Ya, batalkan BRK-1")
    await rina.wait_for_edit(confirm.message_id)

    # Past both drafts' deadlines: the kept draft is escalated, the withdrawn one is not.
    clock.set(START + timedelta(hours=2))
    escalation = await andi.wait_for("Terlambat", timeout=15)
    assert kept.number in escalation.text
    await rina.wait_for("Batas waktu terlewati", timeout=15)
    await harness.restart()  # the start-up rebuild sends nothing about it either
    rina.mark()
    await rina.send_command("tugas")
    tasks = await rina.wait_for("Tugas Anda")
    assert kept.number in tasks.text and withdrawn.number not in tasks.text
    everything = [m.text or "" for chat in (rina, andi) for m in chat.inbox]
    about_withdrawn = [text for text in everything if withdrawn.number in text]
    assert not [text for text in about_withdrawn if "Terlambat" in text or "Pengingat" in text]
    assert not [text for text in about_withdrawn if "terlewati" in text]
    admin = harness.emulator.chat(ADMIN_ID)
    assert not [m for m in admin.inbox if withdrawn.number in (m.text or "")]
    no_failed_calls(harness)


async def test_the_operator_withdraws_with_the_command_line(
    harness: BotHarness, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    rina, rina_actor = await harness.person(101, "Rina Petugas", Role.PETUGAS_PPID, division_id=1)
    andi, _ = await harness.person(301, "Andi Pejabat", Role.PEJABAT_PPID)
    service = (await harness.runtime()).service
    draft = await service.create_draft(rina_actor, sample_fields(title="Draf tanpa pemilik"))
    kept = await service.create_draft(rina_actor, sample_fields(title="Draf yang tetap"))
    settings = harness.settings
    monkeypatch.chdir(harness.settings.storage_dir.parent)
    for name, value in {
        "DATABASE_URL": settings.database_url,
        "STORAGE_DIR": str(settings.storage_dir),
        "TELEGRAM_BOT_TOKEN": harness.emulator.token,
        "TELEGRAM_BASE_URL": str(settings.telegram_base_url),
        "TELEGRAM_BASE_FILE_URL": str(settings.telegram_base_file_url),
        "ADMIN_TELEGRAM_IDS": str(ADMIN_ID),
    }.items():
        monkeypatch.setenv(name, value)

    from bot.cli import main

    code = await asyncio.to_thread(
        main, ["record", "cancel", draft.number, "--reason", "Petugas sudah pindah tugas."]
    )
    assert code == 0
    notice = await rina.wait_for("dibatalkan oleh operator PPID (baris perintah)")
    assert "Draf tanpa pemilik" in notice.text and "Petugas sudah pindah tugas." in notice.text

    clock.set(START + timedelta(hours=2))  # long past both deadlines
    await harness.restart()
    assert kept.number in (await andi.wait_for("Terlambat", timeout=15)).text
    rina.mark()
    await rina.send_command("tugas")
    tasks = await rina.wait_for("Tugas Anda")
    assert kept.number in tasks.text and draft.number not in tasks.text
    assert not [m for m in andi.inbox if draft.number in (m.text or "")]
    assert not [m for m in rina.inbox if draft.number in (m.text or "") and m is not notice]
    no_failed_calls(harness)
