"""Step 1 end to end over HTTP: /baru from the title to "Data sudah diperbarui dan
terverifikasi", softcopies streamed into the division's storage, albums of page photos, bad
input, /batal, restarts, the size limit, and "Perbaiki" after a return."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from bot.downloads import telegram_chunks
from bot.texts import new_record as t
from sop.clock import ManualClock
from sop.errors import FileRejected, NotFound
from sop.model import Actor, DurationUnit, PeriodKind, RecordView, Role, State, Step
from storage import Area
from tests.e2e.flows import fill_in as _fill_in
from tests.e2e.flows import jpeg, real_pdf
from tests.e2e.harness import BotHarness
from tests.emulator import BotApiEmulator, FakeUser
from tests.emulator.models import BotMessage
from tests.support import documents
from tests.support.backends import stored_paths

TITLE = "Data pribadi pemilih disabilitas Kota Padang"
TODAY = date(2026, 11, 23)  # the clock fixture: Monday 23 November 2026, 08:00 WIB


async def people(harness: BotHarness) -> tuple[FakeUser, Actor, FakeUser, Actor]:
    rina, rina_actor = await harness.person(101, "Rina Petugas", Role.PETUGAS_PPID, division_id=1)
    sari, sari_actor = await harness.person(201, "Sari Dokumentasi", Role.PETUGAS_DOKUMENTASI)
    return rina, rina_actor, sari, sari_actor


async def record_of(harness: BotHarness, actor: Actor, record_id: int = 1) -> RecordView:
    return await (await harness.runtime()).service.record(actor, record_id)


async def stored_files(harness: BotHarness) -> list[str]:
    return await stored_paths((await harness.runtime()).storage)


async def press_and_answer(user: FakeUser, message: BotMessage, text: str) -> dict:
    query = await user.press(message, text=text)
    return await user.wait_for_answer(query)


async def fill_in(user: FakeUser, title: str = TITLE) -> BotMessage:
    """The quickest way through the questions (defaults by button); returns the files prompt."""
    return await _fill_in(user, title)


async def send_pdf(user: FakeUser, data: bytes, name: str = "surat.pdf") -> BotMessage:
    await user.send_document(data, name, "application/pdf")
    return await user.wait_for("Tersimpan")


async def confirm(user: FakeUser, ack: BotMessage) -> BotMessage:
    """Press "Selesai melampirkan" (no photos to combine), then "Ya, sudah"."""
    await user.press(ack, text=t.BUTTON_FILES_DONE)
    card = await user.wait_for("Syarat SOP")
    await user.press(card, text=t.BUTTON_VERIFIED)
    return await user.wait_for("Langkah 1 selesai")


async def test_whole_step_one_with_a_pdf(harness: BotHarness) -> None:
    rina, rina_actor, sari, _ = await people(harness)
    pdf = real_pdf()
    prompt = await fill_in(rina)
    assert "BRK-1" in prompt.text
    assert "Maksimal 2 MB per berkas" in prompt.text

    ack = await send_pdf(rina, pdf)
    digest = hashlib.sha256(pdf).hexdigest()
    assert f"SHA-256 {digest[:12]}" in ack.text
    assert "Lampiran: 1" in ack.text
    draft = await record_of(harness, rina_actor)
    assert draft.state is State.DRAFT  # stored at once, before any confirmation

    await rina.press(ack, text=t.BUTTON_FILES_DONE)
    card = await rina.wait_for("Syarat SOP")
    assert TITLE in card.text
    assert "Pasal 17 huruf h UU 14/2008" in card.text
    assert "Jangka waktu: permanen" in card.text
    assert "Ditetapkan: Rina Petugas, Padang, 23 November 2026" in card.text
    assert [text for text, _ in card.buttons()] == [
        t.BUTTON_VERIFIED,
        t.BUTTON_NOT_YET,
        t.BUTTON_EDIT,
    ]
    await rina.press(card, text=t.BUTTON_VERIFIED)
    done = await rina.wait_for("Langkah 1 selesai")
    assert "BRK-1" in done.text
    assert "Senin, 23 November 2026 09.00 WIB" in done.text  # step 2 due one hour later
    assert "Petugas Dokumentasi yang sudah diberi tahu: Sari Dokumentasi." in done.text

    notice = await sari.wait_for("menunggu Anda")
    assert TITLE in notice.text
    assert notice.buttons() == [("Buka BRK-1", "rec:1")]

    record = await record_of(harness, rina_actor)
    assert record.state is State.SUBMITTED
    fields = record.fields
    assert (fields.title, fields.division_id, fields.pasal17) == (TITLE, 1, ("h",))
    assert fields.period.kind is PeriodKind.PERMANENT
    assert (fields.classified_by, fields.classified_place) == ("Rina Petugas", "Padang")
    assert fields.classified_date == TODAY
    [file] = record.files
    assert (file.area, file.original_name, file.mime_type) == (
        Area.DIVISION,
        "surat.pdf",
        "application/pdf",
    )
    assert file.sha256 == digest and file.size == len(pdf)
    runtime = await harness.runtime()
    assert await runtime.storage.read_bytes(file.path) == pdf

    rina.mark()
    await rina.send_text("halo")  # the conversation is over
    await rina.wait_for("tidak sedang ditunggu")
    assert harness.emulator.failed_calls() == []


async def test_album_of_page_photos_is_combined_into_one_pdf(harness: BotHarness) -> None:
    rina, rina_actor, sari, _ = await people(harness)
    await fill_in(rina)
    pages = [jpeg((255, 0, 0)), jpeg((0, 255, 0)), jpeg((0, 0, 255))]
    for page in pages:
        await rina.send_photo(page, media_group_id="album-1")
    summary = await rina.wait_for("Album: 3 berkas tersimpan")
    assert "Lampiran: 3" in summary.text
    for page in pages:
        assert f"SHA-256 {hashlib.sha256(page).hexdigest()[:12]}" in summary.text
    draft = await record_of(harness, rina_actor)
    assert sorted(f.sha256 for f in draft.files) == sorted(
        hashlib.sha256(page).hexdigest() for page in pages
    )
    assert [m for m in rina.inbox if "Tersimpan" in m.text] == []  # no acknowledgement each

    await rina.press(summary, text=t.BUTTON_FILES_DONE)
    offer = await rina.wait_for("Gabungkan menjadi satu PDF")
    assert "3 foto" in offer.text
    await rina.press(offer, text=t.BUTTON_COMBINE)
    combined = await rina.wait_for("3 foto digabung")
    assert "Syarat SOP" in combined.text

    record = await record_of(harness, rina_actor)
    [pdf] = record.files
    assert pdf.original_name == f"{TITLE} (3 halaman).pdf"
    assert pdf.mime_type == "application/pdf"
    runtime = await harness.runtime()
    data = await runtime.storage.read_bytes(pdf.path)
    assert data.startswith(b"%PDF")
    assert re.findall(rb"/Count (\d+)", data) == [b"3"]  # one page per photo
    # The photos left the record, but their bytes are still stored: nothing is lost.
    assert len([p for p in await stored_files(harness) if p.startswith("divisi/")]) == 4

    await rina.press(combined, text=t.BUTTON_VERIFIED)
    await rina.wait_for("Langkah 1 selesai")
    await sari.wait_for("menunggu Anda")
    assert (await record_of(harness, rina_actor)).state is State.SUBMITTED
    assert harness.emulator.failed_calls() == []


async def test_photos_may_stay_separate(harness: BotHarness) -> None:
    rina, rina_actor, _, _ = await people(harness)
    await fill_in(rina)
    await rina.send_photo(jpeg((10, 10, 10)), media_group_id="a")
    await rina.send_photo(jpeg((250, 250, 250)), media_group_id="a")
    ack = await rina.wait_for("Album: 2 berkas tersimpan")
    await rina.press(ack, text=t.BUTTON_FILES_DONE)
    offer = await rina.wait_for("2 foto")
    await rina.press(offer, text=t.BUTTON_SEPARATE)
    card = await rina.wait_for("Syarat SOP")
    assert "Softcopy (2)" in card.text
    assert len((await record_of(harness, rina_actor)).files) == 2
    assert harness.emulator.failed_calls() == []


async def test_every_bad_input_gets_a_message_and_the_question_stays(
    harness: BotHarness,
) -> None:
    rina, rina_actor, _, _ = await people(harness)
    await rina.send_command("baru")
    await rina.wait_for("Tulis judul")

    await rina.send_text("   ")
    assert "Judul tidak boleh kosong" in (await rina.wait_for()).text
    await rina.send_text("x" * 300)
    assert "maksimal 200 karakter" in (await rina.wait_for()).text
    await rina.send_text("ab")
    assert "minimal 3 karakter" in (await rina.wait_for()).text
    await rina.send_command("entahlah")
    assert "tidak tersedia saat mengisi berkas" in (await rina.wait_for()).text
    await rina.send_photo(jpeg((1, 2, 3)))  # not the title, but kept for the draft
    hint = (await rina.wait_for()).text
    assert "tulis judul sebagai teks" in hint and "1 softcopy yang sudah Anda kirim" in hint
    await rina.send_command("baru")
    assert "sedang mengisi berkas" in (await rina.wait_for()).text
    await rina.send_text(TITLE)  # the question stayed: a good title now goes on

    division = await rina.wait_for("Bagian:")
    await rina.send_text("bagian lain saja")
    hint = await rina.wait_for("pilih dengan tombol")
    assert t.BUTTON_DIVISION_OK in [text for text, _ in hint.buttons()]
    await rina.press(division, text=t.BUTTON_DIVISION_CHANGE)
    listing = await rina.wait_for_edit(division.message_id)
    assert "Pilih bagian" in listing.text
    await rina.press(listing, text="Hukum dan Sumber Daya Manusia")
    await rina.wait_for("uraian")
    await rina.send_text("no")
    assert "Uraian terlalu pendek" in (await rina.wait_for()).text
    await rina.send_text("Memo internal tentang sengketa kepegawaian.")

    pasal = await rina.wait_for("Dasar hukum pengecualian")
    answer = await press_and_answer(rina, pasal, t.BUTTON_NEXT)
    assert answer["text"] == t.NEED_BASIS and answer["show_alert"] is True
    await rina.press(pasal, text="a")
    pasal = await rina.wait_for_edit(pasal.message_id)
    await rina.press(pasal, text="i")
    pasal = await rina.wait_for_edit(pasal.message_id)
    await rina.press(pasal, text="✅ i")  # pressed again: unmarked
    pasal = await rina.wait_for_edit(pasal.message_id)
    assert "Dipilih: a" in pasal.text
    await rina.press(pasal, text=t.BUTTON_OTHER_BASIS)
    await rina.wait_for("dasar hukum lain")
    await rina.send_text("PP 11/2017 tentang Manajemen PNS")
    pasal = await rina.wait_for("Dasar hukum lain: PP 11/2017")
    await rina.press(pasal, text=t.BUTTON_NEXT)
    await rina.wait_for("uji konsekuensi")
    await rina.send_text("Dapat menghambat proses pemeriksaan yang sedang berjalan.")

    period = await rina.wait_for("Berapa lama")
    # Pasal 20: letter a is never permanent, so "Permanen" is not offered; forced, refused.
    assert t.BUTTON_PERIOD[PeriodKind.PERMANENT] not in [text for text, _ in period.buttons()]
    await rina.press_raw(period.message_id, "baru:period:3")
    refused = await rina.wait_for("tidak bersifat permanen")
    assert t.BUTTON_PERIOD[PeriodKind.PERMANENT] not in [text for text, _ in refused.buttons()]
    await rina.press(refused, text=t.BUTTON_PERIOD[PeriodKind.UNTIL_DATE])
    assert "ditanyakan berikutnya" in (await rina.wait_for_edit(refused.message_id)).text
    await rina.wait_for("tanggal berakhirnya")
    await rina.send_text("01-01-2020")
    assert "harus setelah hari ini" in (await rina.wait_for()).text
    await rina.send_text("31-12-9999")
    assert "terlalu jauh" in (await rina.wait_for()).text
    await rina.send_text("31-02-2030")
    assert "tidak ada di kalender" in (await rina.wait_for()).text
    await rina.send_text("besok lusa")
    assert "Format tanggal tidak dikenali" in (await rina.wait_for()).text
    await rina.send_text("31-12-2031")

    await rina.wait_for("pejabat yang menetapkan")
    await rina.send_text("Andi Pejabat, Ketua KPU Provinsi")
    await rina.wait_for("tempat dan tanggal penetapan")
    await rina.send_text("Bukittinggi")
    assert "dipisah koma" in (await rina.wait_for()).text
    await rina.send_text("Bukittinggi, 01-01-2030")
    assert "tidak boleh di masa depan" in (await rina.wait_for()).text
    await rina.send_text("Bukittinggi, 01-01-0001")
    assert "paling awal 1 Januari 1945" in (await rina.wait_for()).text
    await rina.send_text("Bukittinggi, 20-11-2026")
    photo = await rina.wait_for("Tersimpan: foto-")  # the photo sent at the title
    prompt = await rina.wait_for("Kirim softcopy")
    assert "softcopy terlampir: 1" in prompt.text
    await rina.press(prompt, text=next(b for b, _ in prompt.buttons() if "Lepas" in b))
    prompt = await rina.wait_for("dilepas dari berkas")
    assert "foto-" in photo.text

    await rina.send_text("ini dokumennya")
    want = await rina.wait_for("Yang ditunggu sekarang adalah softcopy")
    assert want.buttons() == [(t.BUTTON_FILES_DONE, "baru:files_done:0")]
    answer = await press_and_answer(rina, prompt, t.BUTTON_FILES_DONE)
    assert answer["text"] == t.NO_FILES_YET
    await rina.send_document(b"MZ\x90\x00 not a document", "setup.exe", "application/x-msdownload")
    assert "Jenis berkas .exe tidak diterima" in (await rina.wait_for()).text
    await rina.send_document(b"PK\x03\x04 zip", "arsip.zip", "application/zip")
    assert "Jenis berkas .zip tidak diterima" in (await rina.wait_for()).text
    await rina.send_command("tugas")  # a command that only shows things still works
    assert "Tugas Anda" in (await rina.wait_for()).text
    word = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    await rina.send_document(b"PK\x03\x04 hello", "nota dinas.docx", word)  # 13 bytes
    refused = await rina.wait_for("bukan dokumen Word yang utuh")
    assert "Berkas tidak disimpan" in refused.text
    await rina.send_document(b"just text", "surat.pdf", "application/pdf")
    assert "bukan PDF yang utuh" in (await rina.wait_for()).text
    docx = documents.docx("Nota dinas")
    await rina.send_document(docx, "nota dinas.docx", word)
    ack = await rina.wait_for("Tersimpan")
    assert "nota dinas.docx" in ack.text
    await rina.send_document(docx, "salinan.docx", "application/octet-stream")
    assert "sudah dilampirkan pada berkas ini" in (await rina.wait_for()).text

    await rina.press(ack, text=t.BUTTON_FILES_DONE)
    card = await rina.wait_for("Syarat SOP")
    await rina.send_text("ya")
    hint = await rina.wait_for("pilih dengan tombol")
    assert t.BUTTON_VERIFIED in [text for text, _ in hint.buttons()]
    for expected in [
        "Bagian: Hukum dan Sumber Daya Manusia",
        "Pasal 17 huruf a UU 14/2008; PP 11/2017 tentang Manajemen PNS",
        "sampai 31 Desember 2031",
        "Ditetapkan: Andi Pejabat, Ketua KPU Provinsi, Bukittinggi, 20 November 2026",
        "Softcopy (1)",
    ]:
        assert expected in card.text
    await rina.press(card, text=t.BUTTON_VERIFIED)
    await rina.wait_for("Langkah 1 selesai")

    record = await record_of(harness, rina_actor)
    assert record.state is State.SUBMITTED
    assert record.fields.division_id == 3
    assert record.fields.pasal17 == ("a",)
    assert record.fields.period.until == date(2031, 12, 31)
    [file] = record.files
    assert file.original_name == "nota dinas.docx"
    # The docx, and the photo sent at the title (detached, its bytes kept).
    assert len([p for p in await stored_files(harness) if p.startswith("divisi/")]) == 2
    assert harness.emulator.failed_calls() == []


async def test_period_kinds_then_cancel_before_the_draft(harness: BotHarness) -> None:
    rina, rina_actor, _, _ = await people(harness)
    await rina.send_command("baru")
    await rina.wait_for("Tulis judul")
    await rina.send_text(TITLE)
    await rina.press(await rina.wait_for("Bagian:"), text=t.BUTTON_DIVISION_OK)
    await rina.wait_for("uraian")
    await rina.send_text("Rekapitulasi anggaran pengamanan.")
    pasal = await rina.wait_for("Dasar hukum pengecualian")
    await rina.press(pasal, text="c")
    await rina.press(await rina.wait_for_edit(pasal.message_id), text=t.BUTTON_NEXT)
    await rina.wait_for("uji konsekuensi")
    await rina.send_text("Membahayakan pengamanan pemilu.")
    await rina.press(await rina.wait_for("Berapa lama"), text=t.BUTTON_PERIOD[PeriodKind.CONDITION])
    condition = await rina.wait_for("kondisinya")
    await rina.press(condition, text=t.BUTTON_PERIOD_BACK)
    await rina.press(await rina.wait_for("Berapa lama"), text=t.BUTTON_PERIOD[PeriodKind.DURATION])
    await rina.wait_for("jangka waktunya")
    await rina.send_text("lama sekali")
    assert "5 tahun, 6 bulan, atau 30 hari" in (await rina.wait_for()).text
    await rina.send_text("5 tahun")
    await rina.wait_for("pejabat yang menetapkan")
    await rina.send_command("batal")
    assert t.CANCELLED_NOTHING in (await rina.wait_for()).text
    with pytest.raises(NotFound):
        await record_of(harness, rina_actor)
    assert harness.emulator.failed_calls() == []


async def test_cancel_keeps_a_draft_that_already_exists(harness: BotHarness) -> None:
    rina, rina_actor, _, _ = await people(harness)
    await rina.send_command("baru")
    await rina.wait_for("Tulis judul")
    await rina.send_text(TITLE)
    await rina.wait_for("Bagian:")
    await rina.send_command("batal")
    assert "Belum ada yang disimpan" in (await rina.wait_for()).text
    await rina.send_text("halo")
    assert "tidak sedang ditunggu" in (await rina.wait_for()).text

    await fill_in(rina)
    await send_pdf(rina, real_pdf())
    await rina.send_command("batal")
    kept = await rina.wait_for("Dihentikan")
    assert "BRK-1 tersimpan sebagai draf dengan 1 softcopy" in kept.text
    assert "Senin, 23 November 2026 09.00 WIB" in kept.text
    record = await record_of(harness, rina_actor)
    assert record.state is State.DRAFT and len(record.files) == 1
    await rina.send_photo(jpeg((9, 9, 9)))  # outside a conversation: /baru is offered
    assert "belum ada berkas yang sedang diisi" in (await rina.wait_for()).text
    assert len((await record_of(harness, rina_actor)).files) == 1

    # The draft is continued with "Perbaiki" from /tugas.
    await rina.send_command("tugas")
    tasks = await rina.wait_for("Tugas Anda")
    await rina.press(tasks, text="Buka BRK-1")
    card = await rina.wait_for("Status:")
    await rina.press(card, text="✏️ Perbaiki (langkah 1)")
    redo = await rina.wait_for("Perbaiki BRK-1")
    assert "Dikembalikan" not in redo.text
    assert "softcopy terlampir: 1" in redo.text
    await rina.press(redo, text=t.BUTTON_FILES_DONE)
    card = await rina.wait_for("Syarat SOP")
    await rina.press(card, text=t.BUTTON_NOT_YET)
    kept = await rina.wait_for("disimpan sebagai draf")
    assert "Batas waktu langkah 1: Senin, 23 November 2026 09.00 WIB" in kept.text
    assert (await record_of(harness, rina_actor)).state is State.DRAFT
    assert harness.emulator.failed_calls() == []


async def test_a_restart_in_the_middle_continues_where_it_was(harness: BotHarness) -> None:
    rina, rina_actor, sari, _ = await people(harness)
    await rina.send_command("baru")
    await rina.wait_for("Tulis judul")
    await rina.send_text(TITLE)
    division = await rina.wait_for("Bagian:")

    await harness.restart()
    await rina.press(division, text=t.BUTTON_DIVISION_OK)
    await rina.wait_for("uraian")
    await rina.send_text("Daftar nama pemilih disabilitas.")
    pasal = await rina.wait_for("Dasar hukum pengecualian")
    await rina.press(pasal, text="h")
    await harness.restart()
    pasal = await rina.wait_for_edit(pasal.message_id)
    await rina.press(pasal, text=t.BUTTON_NEXT)
    await rina.wait_for("uji konsekuensi")
    await rina.send_text("Membuka rahasia pribadi.")
    await rina.press(await rina.wait_for("Berapa lama"), text=t.BUTTON_PERIOD[PeriodKind.DURATION])
    await rina.wait_for("jangka waktunya")
    await rina.send_text("10 tahun")
    await rina.press(await rina.wait_for("pejabat yang menetapkan"), text="👤 Rina Petugas")
    await rina.press(
        await rina.wait_for("tempat dan tanggal penetapan"), text="📍 Padang, 23 November 2026"
    )
    await rina.wait_for("Kirim softcopy")
    first, second = real_pdf((1, 1, 200)), real_pdf((1, 200, 1))
    await send_pdf(rina, first, "bagian-1.pdf")

    await harness.restart()
    ack = await send_pdf(rina, second, "bagian-2.pdf")
    assert "Lampiran: 2" in ack.text
    await confirm(rina, ack)
    await sari.wait_for("menunggu Anda")

    record = await record_of(harness, rina_actor)
    assert record.state is State.SUBMITTED
    assert record.fields.title == TITLE
    assert record.fields.period.amount == 10
    assert record.fields.period.unit is DurationUnit.YEARS
    assert [f.sha256 for f in record.files] == [
        hashlib.sha256(first).hexdigest(),
        hashlib.sha256(second).hexdigest(),
    ]
    assert harness.emulator.failed_calls() == []


async def test_redo_after_a_return_replaces_files_and_corrects_data(harness: BotHarness) -> None:
    rina, rina_actor, sari, sari_actor = await people(harness)
    await fill_in(rina)
    await confirm(rina, await send_pdf(rina, real_pdf(), "lama.pdf"))
    await sari.wait_for("menunggu Anda")
    service = (await harness.runtime()).service
    await service.return_record(sari_actor, 1, Step.PRODUCE, "Halaman 3 tidak terbaca")

    rina.mark()
    await rina.send_command("tugas")
    await rina.press(await rina.wait_for("Tugas Anda"), text="Buka BRK-1")
    card = await rina.wait_for("Status:")
    await rina.press(card, text="✏️ Perbaiki (langkah 1)")
    redo = await rina.wait_for("Perbaiki BRK-1")
    assert "Dikembalikan dengan alasan: Halaman 3 tidak terbaca" in redo.text
    assert "lama.pdf" in redo.text

    await rina.press(redo, text="🗑 Lepas: lama.pdf")
    files = await rina.wait_for("lama.pdf dilepas")
    assert "softcopy terlampir: 0" in files.text
    new_pdf = real_pdf((0, 0, 0))
    await send_pdf(rina, new_pdf, "baru.pdf")
    await rina.send_command("baru")
    assert "sedang mengisi berkas" in (await rina.wait_for()).text

    await rina.press(files, text=t.BUTTON_EDIT)
    menu = await rina.wait_for("Data mana yang ingin diubah")
    await rina.press(menu, text="Judul")
    question = await rina.wait_for("Tulis judul")
    assert f"Saat ini: {TITLE}" in question.text
    await rina.send_text("x" * 300)
    assert "maksimal 200" in (await rina.wait_for()).text
    await rina.send_text("Data pribadi pemilih disabilitas (lengkap)")
    saved = await rina.wait_for("Perubahan data tersimpan")
    assert "softcopy terlampir: 1" in saved.text

    await rina.press(saved, text=t.BUTTON_EDIT)
    menu = await rina.wait_for("Data mana yang ingin diubah")
    await rina.press(menu, text="Jangka waktu")
    period = await rina.wait_for("Berapa lama")
    assert "Saat ini: permanen" in period.text
    await rina.press(period, text=t.BUTTON_KEEP)
    unchanged = await rina.wait_for("softcopy terlampir: 1")
    assert "Perubahan data tersimpan" not in unchanged.text

    await rina.press(unchanged, text=t.BUTTON_EDIT)
    await rina.press(await rina.wait_for("Data mana yang ingin diubah"), text="Jangka waktu")
    period = await rina.wait_for("Berapa lama")
    await rina.press(period, text=t.BUTTON_PERIOD[PeriodKind.CONDITION])
    await rina.wait_for("kondisinya")
    await rina.send_text("sampai ada persetujuan tertulis dari pemilik data")
    saved = await rina.wait_for("Perubahan data tersimpan")
    await rina.press(saved, text=t.BUTTON_FILES_DONE)
    card = await rina.wait_for("Syarat SOP")
    assert "Data pribadi pemilih disabilitas (lengkap)" in card.text
    assert "Jangka waktu: sampai ada persetujuan tertulis dari pemilik data" in card.text
    assert "sampai sampai" not in card.text
    await rina.press(card, text=t.BUTTON_VERIFIED)
    await rina.wait_for("Langkah 1 selesai")
    notice = await sari.wait_for("menunggu Anda")
    assert "(lengkap)" in notice.text

    record = await record_of(harness, rina_actor)
    assert record.state is State.SUBMITTED
    assert record.fields.title == "Data pribadi pemilih disabilitas (lengkap)"
    assert record.fields.period.kind is PeriodKind.CONDITION
    assert record.fields.period.condition == "ada persetujuan tertulis dari pemilik data"
    assert [f.sha256 for f in record.files] == [hashlib.sha256(new_pdf).hexdigest()]
    assert [r.step for r in record.runs] == [
        Step.PRODUCE,
        Step.HANDOVER,
        Step.PRODUCE,
        Step.HANDOVER,
    ]
    assert harness.emulator.failed_calls() == []


async def test_only_a_petugas_ppid_starts_a_record(harness: BotHarness) -> None:
    _, _, sari, _ = await people(harness)
    await sari.send_command("baru")
    assert t.ONLY_PETUGAS in (await sari.wait_for()).text
    await sari.send_text("judul")
    assert "tidak sedang ditunggu" in (await sari.wait_for()).text
    query = await sari.press_raw(1, "baru:letter:0")
    answer = await sari.wait_for_answer(query)
    assert answer["text"] == "Tombol ini sudah tidak berlaku."
    assert harness.emulator.failed_calls() == []


@pytest.fixture
async def small_harness(
    emulator: BotApiEmulator, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BotHarness]:
    """The bot with MAX_FILE_SIZE of 2 KB."""
    harness = BotHarness(emulator, tmp_path, clock, max_file_size=2048)
    await harness.start()
    yield harness
    await harness.close()


async def test_a_file_over_the_limit_is_refused_with_the_limit(small_harness: BotHarness) -> None:
    harness = small_harness
    rina, rina_actor, _, _ = await people(harness)
    prompt = await fill_in(rina)
    assert "Maksimal 2 KB per berkas" in prompt.text
    await rina.send_document(b"%PDF-1.4\n" + b"0" * 5000, "besar.pdf", "application/pdf")
    refused = await rina.wait_for("terlalu besar")
    assert "maksimal 2 KB per berkas" in refused.text
    await rina.send_photo(jpeg((5, 5, 5), size=(400, 400)) + b"\x00" * 3000)
    assert "maksimal 2 KB" in (await rina.wait_for("terlalu besar")).text
    assert await stored_files(harness) == []
    assert (await record_of(harness, rina_actor)).files == ()
    assert harness.emulator.calls_to("getFile") == []  # refused before any download

    small = b"%PDF-1.4\n%small\n%%EOF\n"
    ack = await send_pdf(rina, small, "kecil.pdf")
    assert "Lampiran: 1" in ack.text
    assert harness.emulator.failed_calls() == []

    # A file Telegram itself will not hand out (over the Bot API's 20 MB download limit).
    harness.emulator.max_download_size = 100
    await rina.send_document(b"%PDF-1.4\n" + b"1" * 500, "sedang.pdf", "application/pdf")
    refused = await rina.wait_for("terlalu besar untuk diunduh")
    assert "maksimal 20 MB" in refused.text
    assert [c.description for c in harness.emulator.failed_calls()] == [
        "Bad Request: file is too big"
    ]
    assert len((await record_of(harness, rina_actor)).files) == 1


async def test_local_mode_paths_are_streamed_from_disk(tmp_path: Path) -> None:
    """A local Bot API server gives an absolute path instead of a URL."""
    source = tmp_path / "big.bin"
    source.write_bytes(bytes(range(256)) * 40)
    chunks = [chunk async for chunk in telegram_chunks(str(source), chunk_size=1000)]
    assert len(chunks) == 11 and max(len(c) for c in chunks) == 1000
    assert b"".join(chunks) == source.read_bytes()
    with pytest.raises(FileRejected):
        [chunk async for chunk in telegram_chunks(str(tmp_path / "gone.bin"))]


async def test_a_correction_from_the_summary_returns_to_the_summary(harness: BotHarness) -> None:
    """Issue 13: after "Ubah data" on the confirmation summary, the bot shows the summary
    again (with the change), not the softcopy prompt."""
    rina, rina_actor, _, _ = await people(harness)
    await fill_in(rina)
    ack = await send_pdf(rina, real_pdf())
    await rina.press(ack, text=t.BUTTON_FILES_DONE)
    card = await rina.wait_for("Syarat SOP")

    await rina.press(card, text=t.BUTTON_EDIT)
    await rina.press(await rina.wait_for("Data mana yang ingin diubah"), text="Judul")
    await rina.wait_for("Tulis judul")
    await rina.send_text("Data pribadi pemilih disabilitas (revisi)")
    card = await rina.wait_for("Perubahan data tersimpan")
    assert "Syarat SOP" in card.text and "Kirim softcopy" not in card.text
    assert "Data pribadi pemilih disabilitas (revisi)" in card.text

    await rina.press(card, text=t.BUTTON_EDIT)
    menu = await rina.wait_for("Data mana yang ingin diubah")
    await rina.press(menu, text="Uraian")
    await rina.press(await rina.wait_for("uraian"), text=t.BUTTON_KEEP)
    card = await rina.wait_for("Syarat SOP")
    assert "Perubahan data tersimpan" not in card.text

    await rina.press(card, text=t.BUTTON_EDIT)
    await rina.press(await rina.wait_for("Data mana yang ingin diubah"), text=t.BUTTON_BACK)
    card = await rina.wait_for("Syarat SOP")
    await rina.press(card, text=t.BUTTON_VERIFIED)
    await rina.wait_for("Langkah 1 selesai")
    record = await record_of(harness, rina_actor)
    assert record.fields.title == "Data pribadi pemilih disabilitas (revisi)"
    assert harness.emulator.failed_calls() == []
