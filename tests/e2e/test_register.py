"""The register end to end over the Bot API emulator: /daftar with its page and filter
buttons, /cari, /laporan (workbook, chart, CSV), /kedaluwarsa, /dibuka, the expiry
notice at start, and who sees nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image

from sop.clock import ManualClock
from sop.model import ExemptionPeriod, PeriodKind, Role, State
from sop.register import RegisterService
from sop.service import PpidService
from tests.conftest import Office
from tests.e2e.harness import ADMIN_ID, BotHarness
from tests.emulator import BotApiEmulator, FakeUser
from tests.emulator.models import BotMessage
from tests.test_register import make_record


@pytest.fixture
async def harness(
    emulator: BotApiEmulator, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BotHarness]:
    """The bot, started after the bootstrap admin opened the chat, so that every failed
    Bot API call in these tests is a bug."""
    emulator.user(ADMIN_ID, "Admin PPID")
    harness = BotHarness(emulator, tmp_path, clock)
    await harness.start()
    yield harness
    await harness.close()


class People:
    def __init__(self, office: Office, phones: dict[str, FakeUser]) -> None:
        self.office = office
        self.pejabat = phones["pejabat"]
        self.pejabat2 = phones["pejabat2"]
        self.dokumentasi = phones["dokumentasi"]
        self.petugas = phones["petugas"]
        self.petugas_other = phones["petugas_other"]


async def people(harness: BotHarness) -> tuple[People, PpidService]:
    service = (await harness.runtime()).service
    admin = await service.actor_by_telegram(ADMIN_ID)
    assert admin is not None
    phones: dict[str, FakeUser] = {}
    actors = {}
    for key, tid, name, role, division in [
        ("petugas", 101, "Rina Petugas", Role.PETUGAS_PPID, 1),
        ("petugas_other", 102, "Budi Petugas", Role.PETUGAS_PPID, 2),
        ("dokumentasi", 201, "Sari Dokumentasi", Role.PETUGAS_DOKUMENTASI, None),
        ("pejabat", 301, "Andi Pejabat", Role.PEJABAT_PPID, None),
        ("pejabat2", 302, "Dewi Pejabat", Role.PEJABAT_PPID, None),
    ]:
        phones[key], actors[key] = await harness.person(tid, name, role, division_id=division)
    office = Office(
        admin=admin,
        petugas=actors["petugas"],
        petugas_other=actors["petugas_other"],
        dokumentasi=actors["dokumentasi"],
        pejabat=actors["pejabat"],
        pejabat2=actors["pejabat2"],
    )
    return People(office, phones), service


def no_failed_calls(harness: BotHarness) -> None:
    assert [(c.method, c.description) for c in harness.emulator.failed_calls()] == []


async def press_and_edit(phone: FakeUser, message: BotMessage, text: str) -> BotMessage:
    query = await phone.press(message, text=text)
    answer = await phone.wait_for_answer(query)
    assert not answer.get("show_alert")
    return await phone.wait_for_edit(message.message_id)


def button_texts(message: BotMessage) -> list[str]:
    return [text for text, _ in message.buttons()]


async def test_daftar_pages_filters_and_opens_a_record(harness: BotHarness) -> None:
    who, service = await people(harness)
    made = [
        await make_record(service, who.office, title=f"Informasi dikecualikan {n:02d}")
        for n in range(12)
    ]
    await RegisterService(service).mark_opened(who.office.pejabat, made[3], date(2026, 11, 23))
    pejabat = who.pejabat

    pejabat.mark()
    await pejabat.send_command("daftar")
    page = await pejabat.wait_for("Daftar Informasi yang Dikecualikan")
    assert "12 berkas · halaman 1 dari 2 (nomor 1–10)" in page.text
    assert "1. DIK-2026-0012 · Informasi dikecualikan 11" in page.text
    assert "DIK-2026-0003" in page.text and "DIK-2026-0002" not in page.text
    buttons = button_texts(page)
    assert buttons[:10] == [str(n) for n in range(1, 11)]
    assert "Berikutnya ▶️" in buttons and "◀️ Sebelumnya" not in buttons
    assert {"Status ▾", "Bagian ▾", "Pasal 17 ▾", "Tahun ▾"} <= set(buttons)

    second = await press_and_edit(pejabat, page, "Berikutnya ▶️")
    assert "12 berkas · halaman 2 dari 2 (nomor 11–12)" in second.text
    # Page 2 numbers on from page 1, in the text and on the buttons.
    assert "11. DIK-2026-0002 · Informasi dikecualikan 01" in second.text
    assert "12. DIK-2026-0001 · Informasi dikecualikan 00" in second.text
    assert "\n1. " not in second.text
    assert button_texts(second)[:2] == ["11", "12"]
    assert "DIK-2026-0001" in second.text and "DIK-2026-0012" not in second.text
    assert "◀️ Sebelumnya" in button_texts(second)
    assert "Berikutnya ▶️" not in button_texts(second)
    back = await press_and_edit(pejabat, second, "◀️ Sebelumnya")
    assert "halaman 1 dari 2" in back.text

    menu = await press_and_edit(pejabat, back, "Status ▾")
    assert "✓ Semua status" in button_texts(menu)
    opened = await press_and_edit(pejabat, menu, "Dibuka")
    assert "Filter: status dibuka" in opened.text
    assert "1 berkas · halaman 1 dari 1" in opened.text
    assert "DIK-2026-0004" in opened.text and "dibuka 23 Nov 2026" in opened.text
    assert "✖️ Hapus filter" in button_texts(opened)

    letters = await press_and_edit(pejabat, opened, "Pasal 17 ▾")
    only_a = await press_and_edit(
        pejabat, letters, next(t for t in button_texts(letters) if t.startswith("a. "))
    )
    assert "Tidak ada berkas yang cocok dengan filter ini." in only_a.text
    cleared = await press_and_edit(pejabat, only_a, "✖️ Hapus filter")
    assert "12 berkas" in cleared.text

    pejabat.mark()
    query = await pejabat.press(cleared, text="1")
    await pejabat.wait_for_answer(query)
    card = await pejabat.wait_for("DIK-2026-0012")
    sha = (await service.record(who.office.pejabat, made[11])).files[0].sha256
    assert f"SHA-256 {sha}" in card.text  # the whole checksum
    assert "Jejak audit (" in card.text
    assert "langkah 3 selesai (diterima dan disimpan), nomor DIK-2026-0012" in card.text
    assert "mulai Senin, 23 November 2026 08.00 WIB · batas " in card.text
    assert " · selesai 08.00" in card.text
    assert "waktu kerja" in card.text
    no_failed_calls(harness)


async def test_forged_register_buttons_get_a_polite_answer(harness: BotHarness) -> None:
    who, _ = await people(harness)
    for phone in (who.pejabat, who.petugas):
        await phone.send_command("daftar")
        await phone.wait_for("Daftar Informasi")
    page = who.pejabat.last().message_id
    for data in [
        "dik:p:1:nonsense:0::0",
        "dik:p:1:batal:0::0",
        "dik:zz:1::0::0",
        "dik:p:1::0:k:0",
        "dikbuka:ya:1:1",
    ]:
        query = await who.pejabat.press_raw(page, data)
        answer = await who.pejabat.wait_for_answer(query)
        assert answer["text"] == "Tombol ini sudah tidak berlaku."
    # A Petugas PPID gets no division menu, even by a forged press.
    query = await who.petugas.press_raw(who.petugas.last().message_id, "dik:md:1::0::0")
    assert (await who.petugas.wait_for_answer(query))["show_alert"] is True


async def test_cari_searches_what_the_person_may_see(harness: BotHarness) -> None:
    who, service = await people(harness)
    await make_record(service, who.office, title="Notulen rapat pleno tertutup")
    await make_record(service, who.office, description="Lampiran notulen dan daftar hadir.")
    await make_record(service, who.office, title="Data kesehatan pegawai")

    who.dokumentasi.mark()
    await who.dokumentasi.send_text("/cari NOTULEN")
    found = await who.dokumentasi.wait_for("Hasil pencarian")
    assert "“NOTULEN”: 2 berkas" in found.text
    assert "DIK-2026-0002" in found.text and "DIK-2026-0001" in found.text
    assert "kesehatan" not in found.text
    assert button_texts(found) == ["1", "2"]

    await who.petugas_other.send_text("/cari notulen")
    await who.petugas_other.wait_for("Tidak ada berkas dengan kata “notulen”")
    await who.petugas.send_text("/cari")
    await who.petugas.wait_for("/cari notulen")
    await who.petugas.send_text("/cari x")
    await who.petugas.wait_for("minimal 2 karakter")
    no_failed_calls(harness)


async def test_laporan_sends_a_workbook_a_chart_and_csv_on_request(harness: BotHarness) -> None:
    who, service = await people(harness)
    await make_record(service, who.office, title="Notulen rapat pleno tertutup")
    await make_record(service, who.office, State.SUBMITTED, title="Surat rahasia")
    await make_record(service, who.office, State.CANCELLED, title="Draf yang ditarik")
    pejabat = who.pejabat

    pejabat.mark()
    await pejabat.send_command("laporan")
    document = await pejabat.wait_for(lambda m: m.kind == "document")
    assert document.document is not None
    assert document.document["file_name"] == "daftar-informasi-dikecualikan-2026-11-23.xlsx"
    assert "1 berkas di DIK, 1 masih dalam proses SOP" in (document.text or "")
    book = load_workbook(io.BytesIO(await pejabat.download(document)))
    assert book.sheetnames == ["DIK", "Dalam proses", "Kepatuhan SOP", "Ringkasan"]
    dik = [row for row in book["DIK"].iter_rows(values_only=True)]
    assert dik[0][:2] == ("No", "Informasi") and len(dik) == 2
    assert str(dik[1][1]).startswith("Notulen rapat pleno tertutup")
    progress = [row for row in book["Dalam proses"].iter_rows(values_only=True)]
    assert [(row[0], row[1], row[5]) for row in progress[1:]] == [
        ("BRK-2", "Surat rahasia", "Sari Dokumentasi")
    ]
    assert "ditarik" not in str([list(sheet.values) for sheet in book.worksheets])
    photo = await pejabat.wait_for(lambda m: m.kind == "photo")
    assert "Ketepatan waktu" in (photo.text or "")
    assert Image.open(io.BytesIO(await pejabat.download(photo))).format == "PNG"
    assert pejabat.chat_actions == ["upload_document"]
    assert button_texts(document) == [
        "📄 Kirim CSV (koma)",
        "📄 CSV untuk Excel Indonesia (titik koma)",
    ]

    headers = ["No", "Informasi", "Dasar hukum", "Konsekuensi", "Jangka waktu", "Keterangan"]
    query = await pejabat.press(document, text="📄 Kirim CSV (koma)")
    await pejabat.wait_for_answer(query)
    table = await pejabat.wait_for(lambda m: m.kind == "document")
    assert table.document is not None and table.document["file_name"].endswith(".csv")
    assert "dipisah koma" in (table.text or "")
    rows = list(csv.reader(io.StringIO((await pejabat.download(table)).decode("utf-8-sig"))))
    assert rows[0] == headers and len(rows) == 2

    query = await pejabat.press(document, text="📄 CSV untuk Excel Indonesia (titik koma)")
    await pejabat.wait_for_answer(query)
    excel = await pejabat.wait_for(lambda m: m.kind == "document")
    assert "titik koma, untuk Excel Indonesia" in (excel.text or "")
    text = (await pejabat.download(excel)).decode("utf-8-sig")
    assert text.splitlines()[0] == ";".join(headers)
    assert list(csv.reader(io.StringIO(text), delimiter=";")) == rows
    no_failed_calls(harness)


async def test_petugas_of_another_division_sees_nothing_of_division_1(
    harness: BotHarness,
) -> None:
    who, service = await people(harness)
    await make_record(
        service,
        who.office,
        title="Rahasia bagian satu",
        pasal17=("a",),
        period=ExemptionPeriod(PeriodKind.UNTIL_DATE, until=service.today() + timedelta(days=9)),
    )
    other = who.petugas_other

    await other.send_command("daftar")
    listing = await other.wait_for("Daftar Informasi")
    assert "Belum ada berkas yang cocok." in listing.text
    assert "Hanya berkas bagian Anda." in listing.text
    assert "Bagian ▾" not in button_texts(listing)
    await other.send_command("kedaluwarsa")
    await other.wait_for("Tidak ada pengecualian")
    await other.send_command("berkas", "DIK-2026-0001")
    await other.wait_for("tidak ditemukan")
    await other.send_command("laporan")
    document = await other.wait_for(lambda m: m.kind == "document")
    book = load_workbook(io.BytesIO(await other.download(document)))
    assert [len(list(book[name].iter_rows())) for name in book.sheetnames[:2]] == [1, 1]
    await other.wait_for("belum dapat dibuat")
    assert "Rahasia bagian satu" not in "".join(m.text or "" for m in other.inbox)

    # The division's own Petugas PPID does see it.
    await who.petugas.send_command("kedaluwarsa")
    expiring = await who.petugas.wait_for("Pengecualian yang berakhir")
    assert "Rahasia bagian satu" in expiring.text and "(9 hari lagi)" in expiring.text
    no_failed_calls(harness)


async def test_a_stranger_is_refused(harness: BotHarness) -> None:
    stranger = harness.emulator.user(4242, "Orang Asing")
    for text in ["/daftar", "/cari notulen", "/laporan", "/kedaluwarsa", "/dibuka DIK-2026-0001"]:
        stranger.mark()
        await stranger.send_text(text)
        reply = await stranger.wait_for()
        assert "belum terdaftar" in reply.text
        assert reply.reply_markup is None and reply.kind == "text"
    query = await stranger.press_raw(1, "dik:csv:0::0::0")
    assert "belum terdaftar" in (await stranger.wait_for_answer(query))["text"]
    assert all(m.kind == "text" for m in stranger.inbox)


async def test_dibuka_asks_then_marks_the_record_opened(harness: BotHarness) -> None:
    who, service = await people(harness)
    await make_record(service, who.office, title="Notulen rapat pleno tertutup")
    await make_record(service, who.office, State.REGISTERED, title="Belum diterima")
    pejabat = who.pejabat

    await who.dokumentasi.send_text("/dibuka DIK-2026-0001")
    await who.dokumentasi.wait_for("Hanya Pejabat PPID atau admin")
    await pejabat.send_text("/dibuka")
    await pejabat.wait_for("/dibuka DIK-2026-0001 30-11-2026")
    await pejabat.send_text("/dibuka DIK-2026-0001 31-02-2026")
    await pejabat.wait_for("tidak ada di kalender")
    await pejabat.send_text("/dibuka DIK-2026-0001 01-12-2026")
    await pejabat.wait_for("masa depan")
    await pejabat.send_text("/dibuka BRK-2")
    await pejabat.wait_for("sudah tersimpan di register")

    await pejabat.send_text("/dibuka DIK-2026-0001")
    ask = await pejabat.wait_for("informasi terbuka")
    cancelled = await press_and_edit(pejabat, ask, "Batal")
    assert cancelled.text == "Dibatalkan. Tidak ada yang diubah."

    await pejabat.send_text("/dibuka dik-2026-0001 21-11-2026")
    ask = await pejabat.wait_for("informasi terbuka")
    assert "sejak 21 November 2026" in ask.text
    done = await press_and_edit(pejabat, ask, "🔓 Ya, tandai dibuka")
    assert (
        "DIK-2026-0001 “Notulen rapat pleno tertutup” tercatat dibuka sejak 21 November 2026"
        in (done.text)
    )
    await pejabat.send_command("daftar")
    listing = await pejabat.wait_for("Daftar Informasi")
    assert "🔓 dibuka 21 Nov 2026" in listing.text
    # The same confirmation pressed again changes nothing and says why.
    query = await pejabat.press_raw(ask.message_id, "dikbuka:ya:1:20261121")
    assert (
        "sudah ditandai dibuka sejak 21-11-2026" in (await pejabat.wait_for_answer(query))["text"]
    )
    no_failed_calls(harness)


async def test_the_pejabat_hears_of_an_exemption_ending_soon(harness: BotHarness) -> None:
    who, service = await people(harness)
    await make_record(
        service,
        who.office,
        title="Dokumen pengadaan logistik",
        pasal17=("b",),
        period=ExemptionPeriod(PeriodKind.UNTIL_DATE, until=service.today() + timedelta(days=7)),
    )
    await harness.restart()  # the check at start finds it (if the first start's did not)

    notice = await who.pejabat.wait_for("Masa pengecualian")
    assert "DIK-2026-0001 “Dokumen pengadaan logistik” berakhir dalam 7 hari" in notice.text
    assert "30 November 2026" in notice.text and "/dibuka DIK-2026-0001" in notice.text
    assert ("Buka DIK-2026-0001", "rec:1") in notice.buttons()
    await who.pejabat2.wait_for("Masa pengecualian")  # sent after the first Pejabat's
    assert all("Masa pengecualian" not in (m.text or "") for m in who.dokumentasi.inbox)

    await who.pejabat.send_command("kedaluwarsa")
    listing = await who.pejabat.wait_for("Pengecualian yang berakhir")
    assert "berakhir 30 November 2026 (7 hari lagi)" in listing.text
    assert button_texts(listing) == ["1"]
    assert sum("Masa pengecualian" in (m.text or "") for m in who.pejabat.inbox) == 1
    no_failed_calls(harness)


async def test_daftar_and_berkas_say_who_holds_the_open_step_and_until_when(
    harness: BotHarness, clock: ManualClock
) -> None:
    who, service = await people(harness)
    sinta, _ = await harness.person(103, "Sinta Petugas", Role.PETUGAS_PPID, division_id=1)
    await make_record(service, who.office, State.STORED, title="Sudah tersimpan")
    await make_record(service, who.office, State.DRAFT, title="Masih draf")
    await make_record(service, who.office, State.SUBMITTED, title="Menunggu penyerahan")
    await make_record(service, who.office, State.REGISTERED, title="Menunggu penerimaan")
    clock.advance(timedelta(minutes=90))  # every open step is now 30 minutes late
    pejabat = who.pejabat

    pejabat.mark()
    await pejabat.send_command("daftar")
    page = await pejabat.wait_for("Daftar Informasi")
    lines = page.text.split("\n")

    def waiting_of(number: str) -> str:
        index = next(i for i, line in enumerate(lines) if f"{number} ·" in line)
        return lines[index + 2].strip()

    late = "batas 23 Nov 2026 09.00 WIB (⚠️ terlambat 30 menit)"
    assert waiting_of("BRK-4") == f"Menunggu: Andi Pejabat, Dewi Pejabat · {late}"
    assert waiting_of("BRK-3") == f"Menunggu: Sari Dokumentasi · {late}"
    assert waiting_of("BRK-2") == f"Menunggu: Rina Petugas, Sinta Petugas · {late}"
    stored = next(i for i, line in enumerate(lines) if "DIK-2026-0001 ·" in line)
    assert not lines[stored + 2].strip().startswith("Menunggu")

    card = await pejabat.press(page, text="2")  # BRK-3, the second line
    await pejabat.wait_for_answer(card)
    shown = await pejabat.wait_for("Status:")
    assert "BRK-3" in shown.text
    assert "Batas waktu: Senin, 23 November 2026 09.00 WIB (terlambat 30 menit)" in shown.text
    assert "Menunggu: Sari Dokumentasi" in shown.text
    stored_card = await card_of(sinta, "DIK-2026-0001")
    assert "Menunggu:" not in stored_card.text
    no_failed_calls(harness)


async def card_of(phone: FakeUser, number: str) -> BotMessage:
    phone.mark()
    await phone.send_command("berkas", number)
    return await phone.wait_for("Status:")
