"""A record with every field at its maximum, through every card and message the bot
sends about it: each fits Telegram's limits (the emulator refuses what Telegram refuses),
long texts end in "…" at a word boundary, buttons stay within 64 bytes, and the full text
is one tap away ("Lihat teks lengkap")."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.texts import fitting
from bot.texts import new_record as t
from bot.texts import records as record_texts
from bot.texts import steps as step_texts
from sop.clock import ManualClock
from sop.model import PASAL17, PeriodKind, Role, State
from tests.e2e.flows import real_pdf
from tests.e2e.harness import ADMIN_ID, BotHarness
from tests.emulator import BotApiEmulator, FakeUser
from tests.emulator.models import BotMessage

WORDS = "Informasi pemilih disabilitas Kota Padang tahun anggaran dua ribu dua puluh enam "


def long_text(size: int, tag: str) -> str:
    """``size`` characters of words, starting with ``tag`` so that each field is its own."""
    text = f"{tag} " + WORDS * (size // len(WORDS) + 1)
    return text[:size].rstrip() + "x" * (size - len(text[:size].rstrip()))


TITLE = long_text(200, "Judul")
DESCRIPTION = long_text(2000, "Uraian")
OTHER_BASIS = long_text(500, "Dasar")
CONSEQUENCE = long_text(1000, "Konsekuensi")
CONDITION = long_text(500, "Kondisi")
TEST_PARTS = {  # the consequence test's parts, each at its maximum
    "harm_if_opened": long_text(1000, "Bahaya"),
    "public_interest": long_text(1000, "Kepentingan"),
    "weighing": long_text(1000, "Penyeimbangan"),
}
CLASSIFIER = long_text(200, "Pejabat")
PLACE = long_text(200, "Tempat")
REASON = long_text(500, "Alasan")
DIVISION = long_text(200, "Bagian")
FILE_NAME = long_text(196, "Softcopy") + ".pdf"


def name(role: str) -> str:
    return long_text(200, role)


@pytest.fixture
async def harness(
    emulator: BotApiEmulator, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BotHarness]:
    emulator.user(ADMIN_ID, "Kepala Admin")
    harness = BotHarness(
        emulator, tmp_path, clock, reminder_check_interval=timedelta(milliseconds=200)
    )
    await harness.start()
    yield harness
    await harness.close()


def plain(messages: list[BotMessage]) -> str:
    return " ".join(" ".join(m.text or "" for m in messages).split())


async def press_full_text(user: FakeUser, card: BotMessage) -> str:
    """Press "Lihat teks lengkap" on ``card``; the full texts it sends, as one string."""
    assert fitting.SHORTENED_NOTE.replace("<i>", "").replace("</i>", "") in (card.text or "")
    user.mark()
    before = len(user.inbox)
    await user.press(card, text=fitting.BUTTON_FULL_TEXT)
    await user.wait_for("teks lengkap")
    await user.wait_for("Ditetapkan")
    return plain(user.inbox[before:])


def assert_full(text: str) -> None:
    for value in (TITLE, DESCRIPTION, OTHER_BASIS, CONSEQUENCE, CONDITION, CLASSIFIER, PLACE):
        assert value in text


def assert_everything_fits(harness: BotHarness, *users: FakeUser) -> None:
    assert harness.emulator.failed_calls() == []  # nothing refused as too long
    for user in users:
        for message in user.inbox:
            for label, _ in message.buttons():
                assert len(label.encode()) <= fitting.MAX_BUTTON_BYTES, label


async def test_a_record_at_every_maximum_through_every_card(
    harness: BotHarness, clock: ManualClock
) -> None:
    runtime = await harness.runtime()
    service = runtime.service
    division = await service.add_division(DIVISION)
    await service.add_person(101, name("Rina"), Role.PETUGAS_PPID, division_id=division.id)
    await service.add_person(201, name("Sari"), Role.PETUGAS_DOKUMENTASI)
    await service.add_person(301, name("Andi"), Role.PEJABAT_PPID)
    await service.add_person(302, name("Dewi"), Role.PEJABAT_PPID)
    emulator = harness.emulator
    rina, sari = emulator.user(101, "Rina"), emulator.user(201, "Sari")
    andi, dewi = emulator.user(301, "Andi"), emulator.user(302, "Dewi")
    admin = emulator.chat(ADMIN_ID)
    assert isinstance(admin, FakeUser)

    # -- step 1: every question answered at its maximum ---------------------------------
    await rina.send_command("baru")
    await rina.wait_for("Tulis judul")
    await rina.send_text(TITLE)
    question = await rina.wait_for("Bagian:")
    await rina.press(question, text=t.BUTTON_DIVISION_CHANGE)
    listing = await rina.wait_for_edit(question.message_id)
    await rina.press(listing, data=f"baru:div:{division.id}")  # its label is cut to fit
    await rina.wait_for("uraian")
    await rina.send_text(DESCRIPTION)
    pasal = await rina.wait_for("Dasar hukum pengecualian")
    for index in range(len(PASAL17)):
        await rina.press(pasal, data=f"baru:letter:{index}")
        pasal = await rina.wait_for_edit(pasal.message_id)
    await rina.press(pasal, text=t.BUTTON_OTHER_BASIS)
    await rina.wait_for("dasar hukum lain")
    await rina.send_text(OTHER_BASIS)
    pasal = await rina.wait_for("Dipilih: a, b, c, d, e, f, g, h, i, j")
    await rina.press(pasal, text=t.BUTTON_NEXT)
    await rina.wait_for("uji konsekuensi")
    await rina.send_text(CONSEQUENCE)
    period = await rina.wait_for("Berapa lama")
    await rina.press(period, text=t.BUTTON_PERIOD[PeriodKind.CONDITION])
    await rina.wait_for("kondisinya")
    await rina.send_text(CONDITION)
    question = await rina.wait_for("pejabat yang menetapkan")
    assert all(len(b.encode()) <= fitting.MAX_BUTTON_BYTES for b, _ in question.buttons())
    await rina.send_text(CLASSIFIER)
    await rina.wait_for("tempat dan tanggal penetapan")
    await rina.send_text(f"{PLACE}, 20-11-2026")
    prompt = await rina.wait_for("Kirim softcopy")
    await rina.send_document(real_pdf(), FILE_NAME, "application/pdf")
    ack = await rina.wait_for("Tersimpan")

    await rina.press(ack, text=t.BUTTON_FILES_DONE)
    card = await rina.wait_for("Syarat SOP")
    assert "…" in card.text and DESCRIPTION not in card.text
    assert [b for b, _ in card.buttons()][-1] == fitting.BUTTON_FULL_TEXT
    assert_full(await press_full_text(rina, card))

    await rina.press(card, text=t.BUTTON_EDIT)
    await rina.press(await rina.wait_for("Data mana yang ingin diubah"), text="Uraian")
    question = await rina.wait_for("Tulis uraian")
    assert DESCRIPTION in question.text  # the current value, in full: it fits
    await rina.press(question, text=t.BUTTON_KEEP)
    card = await rina.wait_for("Syarat SOP")
    assert "Uji konsekuensi belum lengkap" in card.text
    for part, value in TEST_PARTS.items():
        await rina.press(card, text=t.BUTTON_EDIT)
        menu = await rina.wait_for("Data mana yang ingin diubah")
        await rina.press(menu, text=t.EDIT_LABELS[part])
        await rina.wait_for("Uji konsekuensi: tulis")
        await rina.send_text(value)
        card = await rina.wait_for("Syarat SOP")
    assert "Uji konsekuensi belum lengkap" not in card.text
    await rina.press(card, text=t.BUTTON_VERIFIED)
    await rina.wait_for("Langkah 1 selesai")
    assert prompt.text

    # -- step 2: the notice, the card, a reminder, the hand-over -------------------------
    notice = await sari.wait_for("menunggu Anda")
    await sari.press(notice, text="Buka BRK-1")
    card = await sari.wait_for("Status:")
    assert_full(await press_full_text(sari, card))
    clock.advance(timedelta(minutes=31))
    await sari.wait_for("Pengingat")
    await sari.send_command("serahkan")
    await sari.wait_for("Menunggu didata")
    await sari.send_command("tugas")
    await sari.wait_for("Tugas Anda")
    andi.mark()
    await sari.press(card, text=record_texts.BUTTON_HANDOVER)
    closed = await sari.wait_for_edit(card.message_id)
    assert "Diserahkan ke Pejabat PPID" in closed.text
    # Nothing left to do on it but read: the softcopies and the full text.
    assert [text for text, _ in closed.buttons()] == [
        record_texts.BUTTON_FILES,
        fitting.BUTTON_FULL_TEXT,
    ]

    # -- step 3: the package, overdue, a return with the longest reason -------------------
    receive = await andi.wait_for("menunggu penerimaan Anda")
    document = await andi.wait_for(lambda m: m.kind == "document")
    assert document.text and "SHA-256" in document.text
    assert_full(await press_full_text(andi, receive))
    clock.advance(timedelta(minutes=61))
    await andi.wait_for("Batas waktu terlewati")
    await admin.wait_for("Terlambat")
    await andi.press(receive, text=record_texts.BUTTON_RETURN)
    choose = await andi.wait_for("Kembalikan BRK-1")
    await andi.press(choose, text=step_texts.RETURN_TARGETS[min(step_texts.RETURN_TARGETS)])
    assert "Tulis alasannya" in (await andi.wait_for_edit(choose.message_id)).text
    await andi.send_text(REASON)
    await andi.wait_for("dikembalikan ke")
    returned = await rina.wait_for("dikembalikan ke")
    assert REASON in returned.text

    # -- step 1 again, then steps 2 and 3 to the register --------------------------------
    await rina.send_command("tugas")
    await rina.press(await rina.wait_for("Tugas Anda"), text="Buka BRK-1")
    card = await rina.wait_for("Status:")
    await rina.press(card, text=record_texts.BUTTON_REDO)
    redo = await rina.wait_for("Perbaiki BRK-1")
    await rina.press(redo, text=t.BUTTON_FILES_DONE)
    card = await rina.wait_for("Syarat SOP")
    await rina.press(card, text=t.BUTTON_VERIFIED)
    await rina.wait_for("Langkah 1 selesai")
    await sari.send_command("berkas", "BRK-1")
    card = await sari.wait_for(lambda m: bool(m.text and "Status:" in m.text and m.buttons()))
    dewi.mark()
    await sari.press(card, text=record_texts.BUTTON_HANDOVER)
    receive = await dewi.wait_for("menunggu penerimaan Anda")
    await dewi.press(receive, text=record_texts.BUTTON_ACCEPT)
    stored = await dewi.wait_for_edit(receive.message_id)
    assert "Nomor register" in stored.text
    await rina.wait_for("telah diterima dan disimpan")
    record = await service.record((await service.actor_by_telegram(ADMIN_ID)), 1)  # type: ignore[arg-type]
    assert record.state is State.STORED
    assert record.fields.description == DESCRIPTION  # nothing shortened in the database
    assert [getattr(record.fields, part) for part in TEST_PARTS] == list(TEST_PARTS.values())

    # -- the register ----------------------------------------------------------------------
    number = record.number
    await dewi.send_command("berkas", number)
    card = await dewi.wait_for(lambda m: bool(m.text and "Jejak audit" in m.text))
    assert_full(await press_full_text(dewi, card))
    await dewi.send_command("daftar")
    await dewi.wait_for("Daftar Informasi yang Dikecualikan")
    await dewi.send_command("cari", "Judul")
    await dewi.wait_for("Hasil pencarian")
    await dewi.send_command("laporan")
    await dewi.wait_for(lambda m: m.kind == "document")

    assert_everything_fits(harness, rina, sari, andi, dewi, admin)

    # The full text is for those who may see the record: others learn nothing.
    await service.add_person(102, "Budi Petugas", Role.PETUGAS_PPID, division_id=1)
    budi = emulator.user(102, "Budi")
    await budi.send_command("tugas")
    tasks = await budi.wait_for()
    query = await budi.press_raw(tasks.message_id, "full:1")
    assert "tidak ditemukan" in (await budi.wait_for_answer(query))["text"]
    assert [m.message_id for m in budi.inbox] == [tasks.message_id]


async def test_buttons_with_long_labels_are_cut_at_a_word(harness: BotHarness) -> None:
    """The default division "Teknis Penyelenggaraan Pemilu, Partisipasi dan Hubungan
    Masyarakat" is 67 bytes: every button naming it is cut at a word, with "…"."""
    long_division = "Teknis Penyelenggaraan Pemilu, Partisipasi dan Hubungan Masyarakat"
    cut = fitting.button_text(long_division)
    assert cut.endswith("…") and len(cut.encode()) <= fitting.MAX_BUTTON_BYTES
    admin = harness.emulator.chat(ADMIN_ID)
    assert isinstance(admin, FakeUser)
    await admin.send_command("undang")
    menu = await admin.wait_for("Pilih peran")
    await admin.press(menu, text="Petugas PPID")
    divisions = await admin.wait_for_edit(menu.message_id)
    assert cut in [label for label, _ in divisions.buttons()]

    await admin.send_command("daftar")
    page = await admin.wait_for("Daftar Informasi yang Dikecualikan")
    await admin.press(page, text="Bagian ▾")
    filters = await admin.wait_for_edit(page.message_id)
    assert cut in [label for label, _ in filters.buttons()]
    await admin.press(filters, text="↩️ Kembali")
    page = await admin.wait_for_edit(page.message_id)
    await admin.press(page, text="Pasal 17 ▾")
    letters = await admin.wait_for_edit(page.message_id)
    labels = [label for label, _ in letters.buttons()]
    assert "b. mengganggu hak…" in labels  # cut at a word, with "…"

    rina, _ = await harness.person(101, "Rina", Role.PETUGAS_PPID, division_id=1)
    await rina.send_command("baru")
    await rina.send_text("Data pribadi pemilih disabilitas")
    question = await rina.wait_for("Bagian:")
    await rina.press(question, text=t.BUTTON_DIVISION_CHANGE)
    listing = await rina.wait_for_edit(question.message_id)
    assert cut in [label for label, _ in listing.buttons()]
    assert_everything_fits(harness, admin, rina)
