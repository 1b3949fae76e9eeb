"""People's names end to end: the official name an admin gives, the Telegram name beside it,
and a history that keeps the names people had when they acted."""

from __future__ import annotations

from bot.texts import admin as admin_texts
from bot.texts import steps as step_texts
from sop.model import Role
from sop.people import PeopleService
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
    assert "Langkah 1 (menghasilkan dan menyimpan): selesai oleh Rina, " in card.text
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


# -- invitations ----------------------------------------------------------------------------
async def test_an_invitation_names_the_person_and_the_admins_hear_who_used_it(
    harness: BotHarness,
) -> None:
    admin = await greeted_admin(harness)
    service = (await harness.runtime()).service
    dewi, _ = await harness.person(302, "Dewi Admin", Role.ADMIN)
    await dewi.send_command("start")
    await dewi.wait_for("Selamat datang")

    admin.mark()
    await admin.send_command("undang")
    menu = await admin.wait_for("Pilih peran")
    await admin.press(menu, text="Pejabat PPID")
    question = await admin.wait_for_edit(menu.message_id)
    assert "Tulis nama resmi" in question.text
    await admin.send_document(PDF_BYTES, "nama.pdf", "application/pdf")
    await admin.wait_for(admin_texts.NAME_AS_TEXT.split(",")[0])
    await admin.send_text("B")
    await admin.wait_for("Nama terlalu pendek")
    await admin.send_text("Budi Santoso")
    result = await admin.wait_for("Tautan undangan")
    assert "untuk Pejabat PPID atas nama Budi Santoso" in result.text
    code = result.text.split("?start=")[1].split()[0]

    admin.mark()
    dewi.mark()
    budi = harness.emulator.user(303, "Budi", username="budi_kpu")
    await budi.send_command("start", code)
    welcome = await budi.wait_for("Pendaftaran berhasil")
    assert "terdaftar sebagai Pejabat PPID." in welcome.text
    assert "Seluruh peran" not in welcome.text
    for phone in (admin, dewi):
        notice = await phone.wait_for("Undangan dipakai")
        assert (
            "Undangan dipakai: Budi Santoso (Telegram: Budi) @budi_kpu kini terdaftar sebagai "
            "Pejabat PPID. Undangan dibuat oleh Kepala Admin." in notice.text
        )
    assert not [m for m in budi.inbox if "Undangan dipakai" in (m.text or "")]
    actor = await service.actor_by_telegram(303)
    assert actor is not None
    assert (actor.full_name, actor.telegram_name) == ("Budi Santoso", "Budi")

    # A second role through another invitation: the welcome names all of them.
    boss = await service.actor_by_telegram(ADMIN_ID)
    assert boss is not None
    second = await service.create_invitation(boss, Role.PETUGAS_PPID, division_id=1)
    budi.mark()
    await budi.send_command("start", second.code)
    welcome = await budi.wait_for("Pendaftaran berhasil")
    assert "terdaftar sebagai Petugas PPID (Keuangan, Umum dan Logistik)." in welcome.text
    assert (
        "Seluruh peran Anda: Petugas PPID (Keuangan, Umum dan Logistik), Pejabat PPID."
        in welcome.text
    )
    told = await admin.wait_for("Seluruh perannya")
    assert "kini terdaftar sebagai Petugas PPID (bagian Keuangan, Umum dan Logistik)." in told.text
    assert "Seluruh perannya: Petugas PPID (Keuangan, Umum dan Logistik), Pejabat PPID." in (
        told.text
    )


async def test_admins_list_open_invitations_and_revoke_one(harness: BotHarness) -> None:
    admin = await greeted_admin(harness)
    service = (await harness.runtime()).service
    boss = await service.actor_by_telegram(ADMIN_ID)
    assert boss is not None
    first = await service.create_invitation(boss, Role.PEJABAT_PPID, name="Budi Santoso")
    second = await service.create_invitation(boss, Role.PETUGAS_PPID, division_id=2)

    admin.mark()
    await admin.send_command("undangan")
    listing = await admin.wait_for("Undangan yang masih berlaku")
    assert "(2)" in listing.text
    assert f"#{first.id} Pejabat PPID atas nama Budi Santoso" in listing.text
    assert f"#{second.id} Petugas PPID (bagian Teknis Penyelenggaraan" in listing.text
    assert "dibuat oleh Kepala Admin, berlaku sampai Selasa, 24 November 2026" in listing.text
    assert first.code not in (listing.source_text or "")
    labels = [text for text, _ in listing.buttons()]
    assert labels == [
        f"Batalkan #{first.id} Pejabat PPID – Budi Santoso",
        f"Batalkan #{second.id} Petugas PPID",
    ]

    pressed = await admin.press(listing, text=labels[0])
    answer = await admin.wait_for_answer(pressed)
    assert answer["text"] == admin_texts.INVITATION_REVOKED
    redrawn = await admin.wait_for_edit(listing.message_id)
    assert "(1)" in redrawn.text and "Budi" not in redrawn.text
    # A second press of the old button changes nothing and says why.
    again = await admin.press_raw(listing.message_id, f"adm:inv-revoke:{first.id}")
    assert "sudah dibatalkan" in (await admin.wait_for_answer(again))["text"]

    budi = harness.emulator.user(303, "Budi")
    await budi.send_command("start", first.code)
    assert "tidak berlaku" in (await budi.wait_for()).text
    assert await service.actor_by_telegram(303) is None

    rina, _ = await harness.person(101, "Rina Petugas", Role.PETUGAS_PPID, division_id=1)
    await rina.send_command("undangan")
    assert (await rina.wait_for()).text == admin_texts.ADMIN_ONLY
    forged = await rina.press_raw(1, f"adm:inv-revoke:{second.id}")
    assert "Hanya admin" in (await rina.wait_for_answer(forged))["text"]
    assert [i.id for i in await PeopleService(service).open_invitations()] == [second.id]
    assert harness.emulator.failed_calls() == []


async def test_ten_wrong_codes_make_a_person_wait_and_the_admins_see_it(
    harness: BotHarness,
) -> None:
    admin = await greeted_admin(harness)
    service = (await harness.runtime()).service
    boss = await service.actor_by_telegram(ADMIN_ID)
    assert boss is not None
    good = await service.create_invitation(boss, Role.PEJABAT_PPID)
    guesser = harness.emulator.user(4242, "Penebak", username="penebak")
    admin.mark()
    for attempt in range(1, 10):
        guesser.mark()
        await guesser.send_command("start", f"tebakan{attempt}")
        assert "tidak berlaku" in (await guesser.wait_for()).text
        if attempt == 5:  # the attempts are kept in the database
            await harness.restart()
    guesser.mark()
    await guesser.send_command("start", "tebakan10")
    assert "Terlalu banyak kode undangan yang salah" in (await guesser.wait_for()).text
    notice = await admin.wait_for("kode undangan yang salah")
    assert "Penebak @penebak (Telegram id 4242) mengirim 10 kode undangan" in notice.text

    # The right code is refused too until the hour is over; the admins hear only once.
    guesser.mark()
    await guesser.send_command("start", good.code)
    assert "Terlalu banyak" in (await guesser.wait_for()).text
    assert await service.actor_by_telegram(4242) is None
    await admin.send_command("bantuan")
    await admin.wait_for("Bantuan")
    assert len([m for m in admin.inbox if "kode undangan yang salah" in (m.text or "")]) == 1


async def test_revoking_the_last_petugas_dokumentasi_with_open_steps_warns_first(
    harness: BotHarness,
) -> None:
    admin = await greeted_admin(harness)
    service = (await harness.runtime()).service
    _, petugas = await harness.person(101, "Rina Petugas", Role.PETUGAS_PPID, division_id=1)
    await harness.person(201, "Sari Dokumentasi", Role.PETUGAS_DOKUMENTASI)
    record = await service.create_draft(petugas, sample_fields())
    await service.attach_file(
        petugas, record.id, chunks_of(PDF_BYTES), "surat.pdf", "application/pdf"
    )
    await service.complete_produce(petugas, record.id, verified=True)

    admin.mark()
    await admin.send_command("pengguna")
    listing = await admin.wait_for("Pengguna terdaftar")
    await admin.press(listing, text="Cabut Petugas Dokumentasi – Sari Dokumentasi")
    confirm = await admin.wait_for("Cabut peran Petugas Dokumentasi")
    assert (
        "Perhatian: Sari Dokumentasi adalah satu-satunya Petugas Dokumentasi, dan 1 berkas "
        "sedang menunggu Langkah 2 (menyerahkan dan mendata)." in confirm.text
    )
    assert [text for text, _ in confirm.buttons()] == ["Ya, cabut", "Batal"]
    await admin.press(confirm, text="Batal")
    await admin.wait_for_edit(confirm.message_id)
    assert await service.actor_by_telegram(201) is not None

    # Without open steps there is nothing to warn about.
    await admin.press(listing, text="Cabut Petugas PPID – Rina Petugas")
    confirm = await admin.wait_for("Cabut peran Petugas PPID")
    assert "Perhatian" not in confirm.text


async def test_a_stranger_learns_their_telegram_id_and_whom_to_ask(harness: BotHarness) -> None:
    newcomer = harness.emulator.user(5151, "Calon Admin")
    await newcomer.send_command("start")
    refusal = await newcomer.wait_for("belum terdaftar")
    assert "Telegram id Anda: 5151" in refusal.text
    assert "Mintalah tautan undangan kepada admin PPID" in refusal.text
    assert "ADMIN_TELEGRAM_IDS" in refusal.text and "ppidbot user add" in refusal.text
    assert "<code>5151</code>" in (refusal.source_text or "")
    newcomer.mark()
    await newcomer.send_command("tugas")
    assert "Telegram id Anda: 5151" in (await newcomer.wait_for()).text
    pressed = await newcomer.press_raw(refusal.message_id, "rec:1")
    alert = await newcomer.wait_for_answer(pressed)
    assert alert["show_alert"] is True
    assert "Telegram id Anda: 5151" in alert["text"] and len(alert["text"]) <= 200

    # The operator adds them with that id; now the bot knows them.
    service = (await harness.runtime()).service
    await service.add_person(5151, "Rudi Admin", Role.ADMIN)
    newcomer.mark()
    await newcomer.send_command("start")
    assert "Selamat datang, Rudi Admin." in (await newcomer.wait_for()).text
