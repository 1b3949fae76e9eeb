"""Softcopies end to end over the emulator: full disks, truncated downloads, uploads cut by a
restart, albums with one acknowledgement, the same content in two records, and moving a
record to another division with its files."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

import pytest

from bot.texts import new_record as t
from bot.texts import records as record_texts
from bot.texts import steps as step_texts
from db.models import FileIntentRow
from db.session import create_sessionmaker
from sop.files import Purpose
from sop.integrity import IntegrityChecker
from sop.model import Actor, RecordView, Role, State
from storage import Area, faults
from tests.conftest import chunks_of, sample_fields
from tests.e2e.flows import fill_in, jpeg, real_pdf
from tests.e2e.harness import ADMIN_ID, BotHarness
from tests.emulator import FakeUser
from tests.support import documents
from tests.support.backends import stored_paths

TITLE = "Data pribadi pemilih disabilitas Kota Padang"
FULL = "penyimpanan server penuh"


@pytest.fixture(autouse=True)
def no_faults() -> AsyncIterator[None]:
    yield
    faults.disarm()


async def rina(harness: BotHarness) -> tuple[FakeUser, Actor]:
    return await harness.person(101, "Rina Petugas", Role.PETUGAS_PPID, division_id=1)


async def record_of(harness: BotHarness, actor: Actor, record_id: int = 1) -> RecordView:
    return await (await harness.runtime()).service.record(actor, record_id)


async def check_ok(harness: BotHarness) -> None:
    runtime = await harness.runtime()
    report = await IntegrityChecker(
        create_sessionmaker(runtime.engine), runtime.storage, runtime.clock
    ).check()
    assert report.ok, report.render_text()


def texts_of(user: FakeUser) -> list[str]:
    return [m.text or "" for m in user.inbox]


async def test_a_full_disk_tells_the_officer_the_truth_and_the_admins_once(
    harness: BotHarness,
) -> None:
    phone, actor = await rina(harness)
    admin = harness.emulator.user(ADMIN_ID, "Kepala Admin")
    await fill_in(phone, TITLE)
    faults.arm("storage.chunk", "enospc")
    for attempt in range(2):
        await phone.send_document(real_pdf(), "surat.pdf", "application/pdf")
        refused = await phone.wait_for(FULL)
        assert "surat.pdf TIDAK tersimpan" in refused.text
        assert "Admin sudah diberi tahu" in refused.text
        assert "Coba" in refused.text or "kirim lagi nanti" in refused.text
        if attempt == 0:
            alert = await admin.wait_for("Penyimpanan server penuh")
            assert "Rina Petugas" in alert.text and "BRK-1" in alert.text
            assert "paling banyak sekali per jam" in alert.text
    await asyncio.sleep(0.2)
    assert len([m for m in texts_of(admin) if "Penyimpanan server penuh" in m]) == 1
    assert not any("tidak hilang" in text for text in texts_of(phone))
    assert (await record_of(harness, actor)).files == ()

    faults.disarm()  # the operator freed space
    await phone.send_document(real_pdf(), "surat.pdf", "application/pdf")
    assert "Lampiran: 1" in (await phone.wait_for("Tersimpan")).text
    await check_ok(harness)
    assert harness.emulator.failed_calls() == []


async def test_accepting_on_a_full_disk_keeps_the_record_at_step_three(
    harness: BotHarness,
) -> None:
    _, petugas = await rina(harness)
    await harness.person(201, "Sari Dokumentasi", Role.PETUGAS_DOKUMENTASI)
    andi, _ = await harness.person(301, "Andi Pejabat", Role.PEJABAT_PPID)
    admin = harness.emulator.user(ADMIN_ID, "Kepala Admin")
    service = (await harness.runtime()).service
    draft = await service.create_draft(petugas, sample_fields())
    await service.attach_file(
        petugas, draft.id, chunks_of(documents.pdf()), "surat.pdf", "application/pdf"
    )
    await service.complete_produce(petugas, draft.id, verified=True)
    sari = await service.actor_by_telegram(201)
    assert sari is not None
    await service.complete_handover(sari, draft.id)

    andi.mark()
    await andi.send_command("berkas", "BRK-1")
    card = await andi.wait_for("BRK-1")
    faults.arm("storage.chunk", "enospc")
    query = await andi.press(card, text=record_texts.BUTTON_ACCEPT)
    answer = await andi.wait_for_answer(query)
    assert FULL in answer["text"] and "tetap di langkah 3" in answer["text"]
    assert answer["show_alert"] is True
    await admin.wait_for("Penyimpanan server penuh")
    record = await service.record(petugas, draft.id)
    assert record.state is State.REGISTERED
    assert [f for f in record.files if f.area == Area.PPID] == []

    faults.disarm()
    query = await andi.press(card, text=record_texts.BUTTON_ACCEPT)
    assert (await andi.wait_for_answer(query))["text"] == "Tersimpan sebagai DIK-2026-0001."
    await check_ok(harness)


@pytest.mark.parametrize("content_length", ["partial", "absent"])
async def test_a_truncated_download_is_refused(harness: BotHarness, content_length: str) -> None:
    """A file server answering 200 with half the body does not make half a file stored."""
    phone, actor = await rina(harness)
    await fill_in(phone, TITLE)
    harness.emulator.truncate_download(keep=0.5, content_length=content_length)  # type: ignore[arg-type]
    pdf = documents.pdf()
    await phone.send_document(pdf, "surat.pdf", "application/pdf")
    refused = await phone.wait_for("tidak utuh")
    assert "TIDAK disimpan" in refused.text
    assert (await record_of(harness, actor)).files == ()
    assert await stored_paths((await harness.runtime()).storage) == []

    await phone.send_document(pdf, "surat.pdf", "application/pdf")
    ack = await phone.wait_for("Tersimpan")
    assert f"SHA-256 {hashlib.sha256(pdf).hexdigest()[:12]}" in ack.text  # what was stored
    await check_ok(harness)


async def test_an_upload_cut_by_a_crash_is_reported_at_start(harness: BotHarness) -> None:
    """What a kill -9 in the middle of a download leaves: an intent and half a file. At the
    next start the file goes and the officer is asked to send it again."""
    phone, actor = await rina(harness)
    await fill_in(phone, TITLE)
    runtime = await harness.runtime()
    planned = runtime.storage.plan(Area.DIVISION, "keuangan-umum-dan-logistik", "laporan.pdf")
    await runtime.storage.write(planned, chunks_of(b"%PDF-1.4 half"))
    async with runtime.service.transaction() as repo:
        await repo.add_intents(
            [
                FileIntentRow(
                    path=planned.path,
                    purpose=Purpose.UPLOAD,
                    record_id=1,
                    user_id=actor.user_id,
                    original_name="laporan.pdf",
                    created_at=runtime.clock.now(),
                )
            ]
        )
    phone.mark()
    await harness.restart()
    told = await phone.wait_for("tidak tersimpan")
    assert "laporan.pdf" in told.text and "BRK-1" in told.text
    assert "kirim lagi" in told.text
    assert not await runtime.storage.exists(planned.path)
    await check_ok(harness)

    await harness.restart()  # told once, not at every start
    await asyncio.sleep(0.3)
    assert len([m for m in texts_of(phone) if "tidak tersimpan" in m]) == 1
    await phone.send_document(documents.pdf(), "laporan.pdf", "application/pdf")
    await phone.wait_for("Tersimpan")  # the conversation went on: sending again works


async def test_an_album_gets_one_summary_with_what_was_stored_and_refused(
    harness: BotHarness,
) -> None:
    phone, actor = await rina(harness)
    await fill_in(phone, TITLE)
    pdf = documents.pdf()
    await phone.send_photo(jpeg((255, 0, 0)), media_group_id="g1")
    await phone.send_document(
        b"not a pdf at all", "rusak.pdf", "application/pdf", media_group_id="g1"
    )
    await phone.send_document(pdf, "surat.pdf", "application/pdf", media_group_id="g1")
    await phone.send_document(pdf, "surat-lagi.pdf", "application/pdf", media_group_id="g1")
    summary = await phone.wait_for("Album:")
    assert "Album: 2 dari 4 berkas tersimpan" in summary.text
    lines = summary.text.splitlines()
    assert [line[0] for line in lines[1:5]] == ["✅", "❌", "✅", "❌"]  # in the order sent
    assert "rusak.pdf: Isi berkas rusak.pdf bukan PDF yang utuh" in summary.text
    assert "surat-lagi.pdf: Dokumen yang sama persis (surat.pdf)" in summary.text
    assert "Lampiran: 2" in summary.text
    assert summary.buttons() == [(t.BUTTON_FILES_DONE, "baru:files_done:0")]
    await asyncio.sleep(0.3)
    assert len([m for m in texts_of(phone) if "Album:" in m]) == 1
    assert not any(m.startswith("📎 Tersimpan") for m in texts_of(phone))
    assert len((await record_of(harness, actor)).files) == 2


async def test_an_album_summary_survives_a_restart(harness: BotHarness) -> None:
    phone, actor = await rina(harness)
    await fill_in(phone, TITLE)
    for color in ((1, 2, 3), (4, 5, 6)):
        await phone.send_photo(jpeg(color), media_group_id="g2")
    service = (await harness.runtime()).service
    for _ in range(200):  # both stored, the summary not yet sent
        if len((await service.record(actor, 1)).files) == 2:
            break
        await asyncio.sleep(0.02)
    await harness.stop()  # before the album's wait is over
    assert not any("Album:" in m for m in texts_of(phone))
    await harness.start()
    summary = await phone.wait_for("Album: 2 berkas tersimpan")
    assert "Lampiran: 2" in summary.text


async def test_the_same_content_in_a_second_record_is_attached_and_named(
    harness: BotHarness,
) -> None:
    phone, actor = await rina(harness)
    pdf = documents.pdf((9, 9, 9))
    await fill_in(phone, TITLE)
    await phone.send_document(pdf, "surat.pdf", "application/pdf")
    assert "juga tersimpan" not in (await phone.wait_for("Tersimpan")).text
    await phone.send_command("batal")
    await phone.wait_for("Dihentikan")
    await fill_in(phone, "Rekap kedua")
    await phone.send_document(pdf, "salinan.pdf", "application/pdf")
    second = await phone.wait_for("Tersimpan")
    assert "Isi yang sama persis juga tersimpan pada BRK-1" in second.text
    assert len((await record_of(harness, actor, 2)).files) == 1


async def test_the_petugas_moves_a_draft_to_another_division_from_the_edit_menu(
    harness: BotHarness,
) -> None:
    phone, actor = await rina(harness)
    await fill_in(phone, TITLE)
    await phone.send_document(documents.pdf(), "surat.pdf", "application/pdf")
    ack = await phone.wait_for("Tersimpan")
    await phone.press(ack, text=t.BUTTON_FILES_DONE)
    card = await phone.wait_for("Syarat SOP")
    await phone.press(card, text=t.BUTTON_EDIT)
    menu = await phone.wait_for("ingin diubah")
    await phone.press(menu, text=t.EDIT_LABELS["division"])
    question = await phone.wait_for("Bagian saat ini")
    assert "Keuangan, Umum dan Logistik" in question.text
    assert "Keuangan, Umum dan Logistik" not in [text for text, _ in question.buttons()]
    await phone.press(question, text="Hukum dan Sumber Daya Manusia")
    closed = await phone.wait_for_edit(question.message_id)
    assert "Ini bukan bagian Anda" in closed.text and "ikut dipindah" in closed.text
    await phone.wait_for("Perubahan data tersimpan")
    record = await record_of(harness, actor)
    assert record.division_name == "Hukum dan Sumber Daya Manusia"
    [file] = record.files
    assert file.path.startswith("divisi/hukum-dan-sumber-daya-manusia/")
    assert await stored_paths((await harness.runtime()).storage) == [file.path]
    await check_ok(harness)


async def test_choosing_another_division_in_baru_says_so(harness: BotHarness) -> None:
    phone, _ = await rina(harness)
    await phone.send_command("baru")
    await phone.wait_for("Tulis judul")
    await phone.send_text(TITLE)
    question = await phone.wait_for("Bagian:")
    await phone.press(question, text=t.BUTTON_DIVISION_CHANGE)
    listing = await phone.wait_for_edit(question.message_id)
    assert "Bawaannya bagian Anda sendiri: Keuangan, Umum dan Logistik" in listing.text
    await phone.press(listing, text="Hukum dan Sumber Daya Manusia")
    closed = await phone.wait_for_edit(question.message_id)
    assert "Ini bukan bagian Anda" in closed.text
    await phone.wait_for("uraian")


async def test_the_dokumentasi_moves_a_record_in_the_step_two_correction(
    harness: BotHarness,
) -> None:
    _, petugas = await rina(harness)
    sari, sari_actor = await harness.person(201, "Sari Dokumentasi", Role.PETUGAS_DOKUMENTASI)
    service = (await harness.runtime()).service
    draft = await service.create_draft(petugas, sample_fields())
    await service.attach_file(
        petugas, draft.id, chunks_of(documents.pdf()), "surat.pdf", "application/pdf"
    )
    await service.complete_produce(petugas, draft.id, verified=True)

    sari.mark()
    await sari.send_command("berkas", "BRK-1")
    card = await sari.wait_for("BRK-1")
    await sari.press(card, text=step_texts.BUTTON_FIX)
    question = await sari.wait_for("Kolom mana")
    await sari.press(question, text=step_texts.FIX_FIELDS["division_id"])
    pick = await sari.wait_for_edit(question.message_id)
    assert "Keuangan, Umum dan Logistik" in pick.text
    await sari.press(pick, text="Perencanaan, Data dan Informasi")
    done = await sari.wait_for_edit(question.message_id)
    assert "kini tercatat pada bagian Perencanaan, Data dan Informasi" in done.text
    assert "1 softcopy dipindah" in done.text
    record = await service.record(sari_actor, draft.id)
    assert record.state is State.SUBMITTED
    assert record.files[0].path.startswith("divisi/perencanaan-data-dan-informasi/")
    trail = await service.audit_trail(sari_actor, draft.id)
    assert [e.action for e in trail if e.action == "file.moved"] == ["file.moved"]
    await check_ok(harness)


async def test_the_trail_names_merges(harness: BotHarness) -> None:
    phone, _ = await rina(harness)
    await fill_in(phone, TITLE)
    for color in ((200, 0, 0), (0, 200, 0)):
        await phone.send_photo(jpeg(color), media_group_id="g3")
    summary = await phone.wait_for("Album: 2 berkas tersimpan")
    await phone.press(summary, text=t.BUTTON_FILES_DONE)
    await phone.press(await phone.wait_for("Gabungkan"), text=t.BUTTON_COMBINE)
    await phone.wait_for("2 foto digabung")
    await phone.send_command("batal")
    await phone.wait_for("Dihentikan")
    phone.mark()
    await phone.send_command("berkas", "BRK-1")
    card = await phone.wait_for("Jejak audit")
    assert f"foto digabung menjadi PDF: 2 foto → {TITLE} (2 halaman).pdf" in card.text
    assert "softcopy diunduh" not in card.text
