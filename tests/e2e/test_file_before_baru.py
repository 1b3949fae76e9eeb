"""A softcopy sent outside any conversation is not lost: the bot offers to start /baru
with it, and it becomes the draft's first softcopy once the draft exists."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from bot.texts import new_record as t
from db.models import StagedFileRow
from sop.model import PeriodKind, Role
from tests.e2e.flows import jpeg, real_pdf
from tests.e2e.harness import BotHarness
from tests.e2e.test_files import check_ok
from tests.emulator import FakeUser


async def staged_contents(harness: BotHarness) -> list[bytes]:
    """The softcopies stored for a record not started yet, as they are on disk."""
    runtime = await harness.runtime()
    async with runtime.service.transaction() as repo:
        rows = (await repo.session.scalars(select(StagedFileRow).order_by(StagedFileRow.id))).all()
        paths = [row.path for row in rows]
    return [await runtime.storage.read_bytes(path) for path in paths]


async def answer_the_questions(rina: FakeUser) -> None:
    """From the title question to the draft (defaults by button)."""
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
    question = await rina.wait_for("pejabat yang menetapkan")
    [own] = [text for text, _ in question.buttons() if text.startswith("👤")]
    await rina.press(question, text=own)
    await rina.press(
        await rina.wait_for("tempat dan tanggal penetapan"), text="📍 Padang, 23 November 2026"
    )


async def test_a_document_outside_a_conversation_starts_baru_with_it(
    harness: BotHarness,
) -> None:
    rina, rina_actor = await harness.person(101, "Rina Petugas", Role.PETUGAS_PPID, division_id=1)
    pdf = real_pdf()
    await rina.send_document(pdf, "surat-keputusan.pdf", "application/pdf")
    offer = await rina.wait_for("belum ada berkas yang sedang diisi")
    assert "surat-keputusan.pdf" in offer.text
    assert [label for label, _ in offer.buttons()] == [
        t.BUTTON_START_WITH_FILES,
        t.BUTTON_DROP_OFFERED,
    ]
    # Stored at once, not kept as a Telegram reference only: on disk before any /baru.
    assert await staged_contents(harness) == [pdf]
    await check_ok(harness)  # a staged softcopy is not an orphan

    await rina.press(offer, text=t.BUTTON_START_WITH_FILES)
    question = await rina.wait_for("Tulis judul")
    assert "1 softcopy yang sudah Anda kirim akan dilampirkan" in question.text
    assert (await rina.wait_for_edit(offer.message_id)).buttons() == []
    # A photo sent in the middle of the questions is kept too.
    await rina.send_text("Data pribadi pemilih disabilitas")
    await rina.wait_for("Bagian:")
    photo = jpeg((10, 120, 10))
    await rina.send_photo(photo)
    kept = await rina.wait_for("2 softcopy yang sudah Anda kirim")
    assert await staged_contents(harness) == [pdf, photo]
    # The bot restarts and Telegram no longer serves the files: the stored copies are used.
    await harness.restart()
    harness.emulator.fail_next(
        "getFile", "Bad Request: wrong file_id or the file is temporarily unavailable", times=5
    )
    await rina.press(kept, text=t.BUTTON_DIVISION_OK)
    await rina.wait_for("uraian")
    await rina.send_text("Daftar nama dan alamat pemilih disabilitas.")
    pasal = await rina.wait_for("Dasar hukum pengecualian")
    await rina.press(pasal, text="h")
    await rina.press(await rina.wait_for_edit(pasal.message_id), text=t.BUTTON_NEXT)
    await rina.wait_for("uji konsekuensi")
    await rina.send_text("Membuka rahasia pribadi pemilih.")
    period = await rina.wait_for("Berapa lama")
    await rina.press(period, text=t.BUTTON_PERIOD[PeriodKind.PERMANENT])
    question = await rina.wait_for("pejabat yang menetapkan")
    [own] = [text for text, _ in question.buttons() if text.startswith("👤")]
    await rina.press(question, text=own)
    await rina.press(
        await rina.wait_for("tempat dan tanggal penetapan"), text="📍 Padang, 23 November 2026"
    )
    await rina.wait_for("Tersimpan: surat-keputusan.pdf")
    prompt = await rina.wait_for("Kirim softcopy")
    assert "softcopy terlampir: 2" in prompt.text and "surat-keputusan.pdf" in prompt.text

    service = (await harness.runtime()).service
    record = await service.record(rina_actor, 1)
    assert sorted(f.sha256 for f in record.files) == sorted(
        [hashlib.sha256(pdf).hexdigest(), hashlib.sha256(photo).hexdigest()]
    )
    assert await staged_contents(harness) == []  # they are the draft's softcopies now
    await rina.press(prompt, text=t.BUTTON_FILES_DONE)
    await rina.wait_for("Syarat SOP")
    await check_ok(harness)


async def test_baru_typed_takes_the_softcopy_and_abaikan_drops_it(harness: BotHarness) -> None:
    rina, _ = await harness.person(101, "Rina Petugas", Role.PETUGAS_PPID, division_id=1)
    await rina.send_document(real_pdf((1, 2, 3)), "dipakai.pdf", "application/pdf")
    await rina.wait_for("belum ada berkas yang sedang diisi")
    await rina.send_command("baru")
    assert "1 softcopy yang sudah Anda kirim" in (await rina.wait_for("Tulis judul")).text
    await answer_the_questions(rina)
    await rina.wait_for("Tersimpan: dipakai.pdf")
    await rina.send_command("batal")
    await rina.wait_for("Dihentikan")

    await rina.send_document(real_pdf((4, 5, 6)), "tidak-dipakai.pdf", "application/pdf")
    offer = await rina.wait_for("belum ada berkas yang sedang diisi")
    assert await staged_contents(harness) == [real_pdf((4, 5, 6))]
    await rina.press(offer, text=t.BUTTON_DROP_OFFERED)
    await rina.wait_for("tidak dipakai dan sudah dihapus dari penyimpanan")
    assert await staged_contents(harness) == []
    await check_ok(harness)  # the dropped copy is gone from the disk too
    await rina.send_command("baru")
    assert "softcopy yang sudah Anda kirim" not in (await rina.wait_for("Tulis judul")).text
    stale = await rina.press_raw(offer.message_id, "baru:with_files:0")
    assert (await rina.wait_for_answer(stale))["text"] == t.BUSY_ALERT


async def test_only_a_petugas_ppid_is_offered_baru(harness: BotHarness) -> None:
    sari, _ = await harness.person(201, "Sari Dokumentasi", Role.PETUGAS_DOKUMENTASI)
    await sari.send_document(real_pdf(), "surat.pdf", "application/pdf")
    assert t.FILE_NOT_EXPECTED in (await sari.wait_for()).text
    assert harness.emulator.calls_to("getFile") == []
