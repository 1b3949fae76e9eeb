"""People's names end to end: the official name an admin gives, the Telegram name beside it,
and a history that keeps the names people had when they acted."""

from __future__ import annotations

from bot.texts import steps as step_texts
from sop.model import Role
from tests.conftest import PDF_BYTES, chunks_of, sample_fields
from tests.e2e.harness import ADMIN_ID, BotHarness
from tests.emulator import FakeUser


async def greeted_admin(harness: BotHarness) -> FakeUser:
    admin = harness.emulator.user(ADMIN_ID, "Kepala Admin")
    await admin.send_command("start")
    await admin.wait_for("Selamat datang")
    return admin


async def test_the_official_name_stays_and_the_telegram_name_is_shown_beside_it(
    harness: BotHarness,
) -> None:
    admin = await greeted_admin(harness)
    service = (await harness.runtime()).service
    await service.add_person(301, "Andi Pejabat", Role.PEJABAT_PPID)  # ppidbot user add --name
    andi = harness.emulator.user(301, "Andi", username="andi_kpu")
    await andi.send_command("start")
    welcome = await andi.wait_for("Selamat datang")
    assert "Selamat datang, Andi Pejabat." in welcome.text

    admin.mark()
    await admin.send_command("pengguna")
    listing = await admin.wait_for("Pengguna terdaftar")
    assert "Andi Pejabat (Telegram: Andi) @andi_kpu" in listing.text
    assert "Cabut Pejabat PPID – Andi Pejabat" in [text for text, _ in listing.buttons()]

    # A new Telegram name is shown beside the official one and never replaces it.
    andi.first_name = "Andi Baru"
    andi.mark()
    await andi.send_command("start")
    assert "Selamat datang, Andi Pejabat." in (await andi.wait_for("Selamat datang")).text
    admin.mark()
    await admin.send_command("pengguna")
    listing = await admin.wait_for("Pengguna terdaftar")
    assert "Andi Pejabat (Telegram: Andi Baru)" in listing.text
    actor = await service.actor_by_telegram(301)
    assert actor is not None
    assert (actor.full_name, actor.telegram_name) == ("Andi Pejabat", "Andi Baru")


async def test_a_later_telegram_name_does_not_rewrite_who_did_what(harness: BotHarness) -> None:
    admin = await greeted_admin(harness)
    service = (await harness.runtime()).service
    boss = await service.actor_by_telegram(ADMIN_ID)
    assert boss is not None
    # Invited without a name: the Telegram name is the name, and follows Telegram.
    invitation = await service.create_invitation(boss, Role.PETUGAS_PPID, division_id=1)
    rina = harness.emulator.user(101, "Rina")
    await rina.send_command("start", invitation.code)
    await rina.wait_for("Pendaftaran berhasil")
    rina_actor = await service.actor_by_telegram(101)
    assert rina_actor is not None and rina_actor.full_name == "Rina"
    record = await service.create_draft(rina_actor, sample_fields())
    await service.attach_file(
        rina_actor, record.id, chunks_of(PDF_BYTES), "surat.pdf", "application/pdf"
    )
    await service.complete_produce(rina_actor, record.id, verified=True)

    rina.first_name = "Rina Putri"
    rina.mark()
    await rina.send_command("start")
    assert "Selamat datang, Rina Putri." in (await rina.wait_for("Selamat datang")).text

    admin.mark()
    await admin.send_command("berkas", record.number)
    card = await admin.wait_for(record.number)
    assert "Langkah 1 (menghasilkan dan menyimpan): selesai oleh Rina (" in card.text
    assert "Rina Putri" not in card.text
    trail = card.text.split("Jejak audit")[1]
    assert "WIB · Rina · berkas dibuat" in trail
    assert "WIB · Rina · langkah 1 selesai" in trail


async def test_a_correction_names_the_field_with_its_old_and_new_value(
    harness: BotHarness,
) -> None:
    admin = await greeted_admin(harness)
    service = (await harness.runtime()).service
    _, petugas = await harness.person(101, "Rina Petugas", Role.PETUGAS_PPID, division_id=1)
    dokumentasi, _ = await harness.person(201, "Sari Dokumentasi", Role.PETUGAS_DOKUMENTASI)
    long_title = "Data pemilh salah " + "sangat panjang " * 8
    record = await service.create_draft(petugas, sample_fields(title=long_title))
    await service.attach_file(
        petugas, record.id, chunks_of(PDF_BYTES), "surat.pdf", "application/pdf"
    )
    await service.complete_produce(petugas, record.id, verified=True)

    await dokumentasi.send_command("berkas", record.number)
    card = await dokumentasi.wait_for(record.number)
    await dokumentasi.press(card, text=step_texts.BUTTON_FIX)
    question = await dokumentasi.wait_for("Kolom mana")
    await dokumentasi.press(question, text="Judul")
    await dokumentasi.wait_for_edit(question.message_id)
    await dokumentasi.send_text("Data pemilih yang benar")
    await dokumentasi.wait_for("diperbarui")

    admin.mark()
    await admin.send_command("berkas", record.number)
    card = await admin.wait_for(record.number)
    trail = card.text.split("Jejak audit")[1]
    assert (
        "Sari Dokumentasi · data diperbarui: judul «Data pemilh salah sangat panjang sangat…» "
        "→ «Data pemilih yang benar»" in trail
    )
