"""The papers in Telegram: the handover record of step 2 and of step 3 reaches both parties
as a PDF with its verification code, /verifikasi checks a code, /uji sends the
consequence-test sheet and the decision, and the card lists the papers issued."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from bot.texts import records as rec
from tests.e2e.flows import fill_in, real_pdf
from tests.e2e.harness import BotHarness
from tests.e2e.test_full_sop import TITLE, confirm, hand_over, office, open_from, sha
from tests.emulator import FakeUser
from tests.emulator.models import BotMessage

CODE = re.compile(r"Kode verifikasi: ([0-9A-Z]{5}-[0-9A-Z]{5})")


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


async def paper(user: FakeUser, kind: str) -> tuple[BotMessage, str, str]:
    """The next PDF of ``kind`` the bot sends ``user``: the message, its code, its text."""
    message = await user.wait_for(lambda m: m.kind == "document" and kind in (m.text or ""))
    match = CODE.search(message.text or "")
    assert match, message.text
    return message, match.group(1), text_of(await user.download(message))


async def test_handover_records_reach_both_parties_and_verify(harness: BotHarness) -> None:
    o = await office(harness)
    rina, sari, andi = o.rina.phone, o.sari.phone, o.andi.phone
    softcopy = real_pdf()

    prompt = await fill_in(rina, TITLE, classified_by="Andi Pejabat")
    await rina.send_document(softcopy, "daftar-pemilih.pdf", "application/pdf")
    ack = await rina.wait_for("Tersimpan")
    assert prompt.text
    sari.mark()
    await confirm(rina, ack)
    notice = await sari.wait_for("menunggu Anda")
    card = await open_from(sari, notice, "BRK-1", rec.BUTTON_HANDOVER)
    rina.mark()
    await hand_over(o, card)

    # -- step 2's record: to the Petugas PPID who gave and the Petugas Dokumentasi --------
    _, code2, text = await paper(rina, "Berita acara serah terima langkah 2")
    _, same, _ = await paper(sari, "Berita acara serah terima langkah 2")
    assert same == code2
    for expected in (
        "BERITA ACARA SERAH TERIMA",
        "Rina Petugas",
        "Sari Dokumentasi",
        "daftar-pemilih.pdf",
        code2,
    ):
        assert expected in text, expected
    assert sha(softcopy) in text.replace(" ", "")  # the hash may wrap in its cell

    # -- step 3's record: to the Petugas Dokumentasi and the Pejabat PPID who accepted ----
    receipt = await andi.wait_for("menunggu penerimaan Anda")
    sari.mark()
    query = await andi.press(receipt, text=rec.BUTTON_ACCEPT)
    assert (await andi.wait_for_answer(query))["text"] == "Tersimpan sebagai DIK-2026-0001."
    _, code3, text = await paper(andi, "Berita acara serah terima langkah 3")
    _, same, _ = await paper(sari, "Berita acara serah terima langkah 3")
    assert same == code3 != code2
    assert "Andi Pejabat" in text and "DIK-2026-0001" in text
    assert sha(softcopy) in text.replace(" ", "")

    # -- /verifikasi -----------------------------------------------------------------------
    andi.mark()
    await andi.send_command("verifikasi", code3.lower().replace("-", ""))
    answer = await andi.wait_for("🔎 Kode")
    assert f"Kode {code3}: Berita acara serah terima langkah 3 DIK-2026-0001" in answer.text
    assert "Sesuai dengan register" in answer.text
    assert "Softcopy: 1 diperiksa ulang, checksum SHA-256 cocok." in answer.text
    await andi.send_command("verifikasi", "ZZZZZ-ZZZZZ")
    assert "tidak dikenal" in (await andi.wait_for("ZZZZZ-ZZZZZ")).text
    await andi.send_command("verifikasi", "bukan-kode")
    await andi.wait_for("Kode verifikasi tidak dikenali")
    await andi.send_command("verifikasi")
    await andi.wait_for("Ketik /verifikasi diikuti kode")

    # -- /uji: the sheet and the decision; the card lists every paper ---------------------
    rina.mark()
    await rina.send_command("uji", "DIK-2026-0001")
    _, _, sheet = await paper(rina, "Lembar pengujian konsekuensi")
    _, _, decision = await paper(rina, "Penetapan informasi yang dikecualikan")
    assert "LEMBAR PENGUJIAN KONSEKUENSI" in sheet and "keselamatan mereka terancam" in sheet
    assert "PENETAPAN INFORMASI YANG DIKECUALIKAN" in decision
    await rina.send_command("uji")
    await rina.wait_for("Ketik /uji diikuti nomor berkas")
    await rina.send_command("berkas", "DIK-2026-0001")
    card = await rina.wait_for("Dokumen terbit")
    assert f"Berita acara serah terima langkah 2 {code2}" in card.text
    assert f"Berita acara serah terima langkah 3 {code3}" in card.text
    assert "/uji DIK-2026-0001" in card.text
    assert harness.emulator.failed_calls() == []
