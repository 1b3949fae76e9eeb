"""The text of softcopies end to end, with the real Tesseract (skipped with the reason where
it is absent): a Petugas PPID photographs two pages, the bot combines them into a PDF, the
text worker reads it by OCR in its own processes, the sender is told with the personal-data
hints (masked), and the record's card and the step-1 confirmation show them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.texts import new_record as t
from bot.texts import pii as pii_texts
from sop.clock import ManualClock
from sop.model import Role
from tests.e2e.flows import fill_in
from tests.e2e.harness import BotHarness
from tests.emulator import BotApiEmulator
from tests.support.pages import (
    fonts,
    jpeg_bytes,
    photographed,
    printed_page,
    tesseract_or_skip,
    text_pdf,
)

NIK = "1371015708900001"
TITLE = "Data pribadi pemilih disabilitas Kota Padang"
PAGE_1 = ["KOMISI PEMILIHAN UMUM", "Berita acara pemutakhiran data pemilih", "Kota Padang"]
PAGE_2 = [
    "Daftar pemilih disabilitas",
    "Nama: Siti Rahmawati",
    f"NIK: {NIK}",
    "Telepon: 0812 6634 7781",
    "Keterangan: pemilih tunanetra",
]
#: OCR of four pages (the photos, then the PDF made of them) on a busy machine.
READ_TIMEOUT = 120.0


@pytest.fixture
async def texts_harness(
    emulator: BotApiEmulator, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BotHarness]:
    harness = BotHarness(emulator, tmp_path, clock, document_texts=True, ocr_workers=2)
    await harness.start()
    yield harness
    await harness.close()


async def test_photographed_pages_are_read_and_the_hints_shown_before_confirming(
    texts_harness: BotHarness,
) -> None:
    tesseract_or_skip()
    phone, _ = await texts_harness.person(101, "Rina Petugas", Role.PETUGAS_PPID, division_id=1)
    await fill_in(phone, TITLE)
    font = fonts()[0]
    await phone.send_photo(
        jpeg_bytes(photographed(printed_page(PAGE_1, font), turn=2.0)), media_group_id="p"
    )
    await phone.send_photo(
        jpeg_bytes(photographed(printed_page(PAGE_2, font), turn=90.0)), media_group_id="p"
    )
    summary = await phone.wait_for("Album: 2 berkas tersimpan")
    await phone.press(summary, text=t.BUTTON_FILES_DONE)
    await phone.press(await phone.wait_for("Gabungkan"), text=t.BUTTON_COMBINE)
    confirm = await phone.wait_for("2 foto digabung")
    assert "Syarat SOP" in confirm.text and "Teks softcopy" in confirm.text  # being read

    ready = await phone.wait_for(
        lambda m: "selesai dibaca" in (m.text or "") and "(2 halaman).pdf" in (m.text or ""),
        timeout=READ_TIMEOUT,
    )
    assert "2 halaman, dibaca dengan OCR" in ready.text
    assert "1 NIK, mis. 1371********0001 · hlm. 2" in ready.text
    assert "Pasal 17 huruf h" in ready.text
    assert NIK not in ready.text and "0812 6634 7781" not in ready.text

    # The step-1 confirmation, asked again, shows the hints before the question.
    phone.mark()
    await phone.press(confirm, text=t.BUTTON_EDIT)
    await phone.press(await phone.wait_for(t.ASK_EDIT[:20]), text=t.BUTTON_BACK)
    confirm = await phone.wait_for("Syarat SOP")
    hints_at = confirm.text.index("1 NIK, mis. 1371********0001")
    assert hints_at < confirm.text.index("Syarat SOP") and NIK not in confirm.text

    # The officer takes the suggestion over: the consequence test gets its sentence.
    await phone.press(confirm, text=pii_texts.BUTTON_USE_SUGGESTION)
    confirm = await phone.wait_for("Saran dipakai")
    assert "Uji konsekuensi: Membuka rahasia pribadi pemilih; dapat disalahgunakan. " in (
        confirm.text
    )
    assert "Informasi ini memuat data pribadi orang perseorangan" in confirm.text
    assert pii_texts.BUTTON_USE_SUGGESTION not in [label for label, _ in confirm.buttons()]
    await phone.press(confirm, text=t.BUTTON_VERIFIED)
    await phone.wait_for("Langkah 1 selesai")

    # The card shows the same (it is what the Petugas Dokumentasi and Pejabat PPID see too).
    phone.mark()
    await phone.send_command("berkas", "BRK-1")
    card = await phone.wait_for("Jejak audit")
    assert "1 NIK, mis. 1371********0001" in card.text and NIK not in card.text
    assert "dibaca dengan OCR" in card.text

    # /cari finds a word of page 2 (not in the title or description), with the page.
    phone.mark()
    await phone.send_command("cari", "tunanetra")
    found = await phone.wait_for("Hasil pencarian")
    assert "BRK-1" in found.text
    assert (
        "(2 halaman).pdf, hlm. 2: " in found.text
        and "<b>tunanetra</b>" in (found.source_text or "").lower()
    )
    assert NIK not in found.text


async def test_a_born_digital_pdf_is_read_and_its_sender_told(texts_harness: BotHarness) -> None:
    phone, _ = await texts_harness.person(101, "Rina Petugas", Role.PETUGAS_PPID, division_id=1)
    await fill_in(phone, TITLE)
    data = text_pdf([["Nota dinas"], ["Lampiran daftar pemilih", f"NIK {NIK}"]])
    await phone.send_document(data, "nota.pdf", "application/pdf")
    await phone.wait_for("Tersimpan: nota.pdf")
    ready = await phone.wait_for("selesai dibaca", timeout=READ_TIMEOUT)
    assert "nota.pdf: 2 halaman, teks PDF" in ready.text
    assert "1 NIK, mis. 1371********0001 · hlm. 2" in ready.text
    assert NIK not in ready.text
