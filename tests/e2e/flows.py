"""How a Petugas PPID walks through /baru on the phone, shared by the end-to-end tests."""

from __future__ import annotations

import io

import img2pdf
from PIL import Image

from bot.texts import new_record as nr
from sop.model import PeriodKind
from tests.emulator import FakeUser
from tests.emulator.models import BotMessage

DIVISION_1 = "Keuangan, Umum dan Logistik"


def jpeg(color: tuple[int, int, int], size: tuple[int, int] = (60, 80)) -> bytes:
    """A phone photo of a page: a real JPEG made by Pillow."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="JPEG")
    return buffer.getvalue()


def real_pdf(color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    return img2pdf.convert(jpeg(color))


async def fill_in(
    user: FakeUser,
    title: str,
    *,
    division: str = DIVISION_1,
    classified_by: str | None = None,
    period: str | None = None,
    consequence_test: bool = True,
) -> BotMessage:
    """/baru, every question answered; returns the softcopy prompt.

    ``classified_by`` None presses the officer's own-name button; ``period`` is a duration
    typed after "Jangka waktu", None presses "Permanen". ``consequence_test`` also fills
    the consequence test's parts through "Ubah data" (False: left to the Pejabat PPID)."""
    user.mark()
    await user.send_command("baru")
    await user.wait_for("Tulis judul")
    await user.send_text(title)
    question = await user.wait_for("Bagian:")
    assert division in question.text
    await user.press(question, text=nr.BUTTON_DIVISION_OK)
    await user.wait_for("uraian")
    await user.send_text("Daftar nama, NIK dan alamat pemilih disabilitas hasil pemutakhiran.")
    pasal = await user.wait_for("Dasar hukum pengecualian")
    await user.press(pasal, text="h")
    pasal = await user.wait_for_edit(pasal.message_id)
    assert "Dipilih: h" in pasal.text
    await user.press(pasal, text=nr.BUTTON_NEXT)
    await user.wait_for("uji konsekuensi")
    await user.send_text("Membuka rahasia pribadi pemilih; dapat disalahgunakan.")
    question = await user.wait_for("Berapa lama")
    if period is None:
        await user.press(question, text=nr.BUTTON_PERIOD[PeriodKind.PERMANENT])
    else:
        await user.press(question, text=nr.BUTTON_PERIOD[PeriodKind.DURATION])
        await user.wait_for("jangka waktunya")
        await user.send_text(period)
    question = await user.wait_for("pejabat yang menetapkan")
    if classified_by is None:
        [own] = [text for text, _ in question.buttons() if text.startswith("👤")]
        await user.press(question, text=own)
    else:
        await user.send_text(classified_by)
    question = await user.wait_for("tempat dan tanggal penetapan")
    [here] = [text for text, _ in question.buttons() if text.startswith("📍 Padang, ")]
    await user.press(question, text=here)  # today's date: the harness's clock or the system's
    prompt = await user.wait_for("Kirim softcopy")
    if consequence_test:
        for part, answer in CONSEQUENCE_TEST.items():
            prompt = await fill_test_part(user, prompt, part, answer)
    return prompt


#: The consequence test's parts as an officer writes them.
CONSEQUENCE_TEST = {
    "harm_if_opened": "Alamat pemilih disabilitas terbuka; keselamatan mereka terancam.",
    "public_interest": "Masyarakat dapat memeriksa akurasi daftar pemilih.",
    "weighing": "Akurasi dapat diperiksa lewat rekapitulasi; perlindungan pribadi lebih besar.",
}


async def fill_test_part(user: FakeUser, prompt: BotMessage, part: str, answer: str) -> BotMessage:
    """At the softcopies of /baru: "Ubah data", a part of the consequence test, its text;
    returns the softcopy prompt asked again."""
    await user.press(prompt, text=nr.BUTTON_EDIT)
    menu = await user.wait_for(nr.ASK_EDIT)
    await user.press(menu, text=nr.EDIT_LABELS[part])
    await user.wait_for("Uji konsekuensi: tulis")
    await user.send_text(answer)
    return await user.wait_for("Kirim softcopy")
