"""The whole of SOP 25/2021 lived through Telegram only: a Petugas PPID records a document
with /baru, the Petugas Dokumentasi checks and hands it over, one Pejabat PPID returns it
with a reason, the Petugas corrects it, the other Pejabat PPID accepts and stores it. Every
step is a message or a button press over the Bot API emulator; the service is only read at
the end, to check the stored state, the checksums and the audit chain."""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta

from bot import texts
from bot.texts import new_record as nr
from bot.texts import records as rec
from bot.texts import steps as st
from sop.clock import ManualClock
from sop.model import Actor, RecordView, Role, State, Step
from storage import Area
from tests.e2e.flows import fill_in, jpeg, real_pdf
from tests.e2e.harness import BotHarness
from tests.e2e.words import assert_house_style
from tests.emulator import FakeUser
from tests.emulator.models import BotMessage
from tests.support.backends import stored_paths

TITLE = "Data pribadi pemilih disabilitas Kota Padang"
REASON = "Halaman 2 softcopy terpotong; mohon kirim ulang yang lengkap."
STALE = "sudah diproses atau statusnya telah berubah"
DIK = "DIK-2026-0001"  # the clock fixture: Monday 23 November 2026, 08:00 WIB
STEP1, STEP2, STEP3 = (texts.STEP_NAMES[s] for s in (Step.PRODUCE, Step.HANDOVER, Step.RECEIVE))


@dataclass
class Person:
    phone: FakeUser
    actor: Actor


@dataclass
class Office:
    rina: Person  # Petugas PPID, division 1 (Keuangan, Umum dan Logistik)
    sari: Person  # Petugas Dokumentasi
    andi: Person  # Pejabat PPID
    dewi: Person  # Pejabat PPID


async def office(harness: BotHarness) -> Office:
    async def person(tid: int, name: str, role: Role, division_id: int | None = None) -> Person:
        phone, actor = await harness.person(tid, name, role, division_id=division_id)
        return Person(phone, actor)

    return Office(
        rina=await person(101, "Rina Petugas", Role.PETUGAS_PPID, division_id=1),
        sari=await person(201, "Sari Dokumentasi", Role.PETUGAS_DOKUMENTASI),
        andi=await person(301, "Andi Pejabat", Role.PEJABAT_PPID),
        dewi=await person(302, "Dewi Pejabat", Role.PEJABAT_PPID),
    )


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def button_texts(message: BotMessage) -> list[str]:
    return [text for text, _ in message.buttons()]


async def final_record(harness: BotHarness, actor: Actor, record_id: int) -> RecordView:
    return await (await harness.runtime()).service.record(actor, record_id)


async def confirm(user: FakeUser, after_files: BotMessage) -> BotMessage:
    """Press "Selesai melampirkan", then the SOP's "Ya, sudah"; returns "Langkah 1 selesai"."""
    await user.press(after_files, text=nr.BUTTON_FILES_DONE)
    card = await user.wait_for("Syarat SOP")
    assert "Data sudah diperbarui dan terverifikasi?" in card.text
    await user.press(card, text=nr.BUTTON_VERIFIED)
    return await user.wait_for("Langkah 1 selesai")


async def open_from(user: FakeUser, message: BotMessage, number: str, action: str) -> BotMessage:
    """Press a notice's (or list's) open button; the record's card with ``action``."""
    await user.press(message, text=rec.BUTTON_OPEN.format(number=number))
    return await user.wait_for(lambda m: m.text is not None and action in button_texts(m))


async def download_all(user: FakeUser, card: BotMessage, count: int) -> list[bytes]:
    """The card's download button: the softcopies arrive as documents."""
    query = await user.press(card, text=rec.BUTTON_FILES)
    await user.wait_for_answer(query)
    return [
        await user.download(await user.wait_for(lambda m: m.kind == "document"))
        for _ in range(count)
    ]


async def hand_over(o: Office, card: BotMessage) -> BotMessage:
    """Step 2: the Petugas Dokumentasi presses the card's hand-over button; the closed card."""
    sari = o.sari.phone
    o.andi.phone.mark()
    o.dewi.phone.mark()
    query = await sari.press(card, text=rec.BUTTON_HANDOVER)
    assert (await sari.wait_for_answer(query))["text"] == st.ANSWER_HANDED_OVER
    closed = await sari.wait_for_edit(card.message_id)
    assert button_texts(closed) == [rec.BUTTON_FILES]  # nothing left to do, but read
    assert "Diserahkan ke Pejabat PPID oleh Sari Dokumentasi" in closed.text
    assert "Pejabat PPID yang diberi tahu: Andi Pejabat, Dewi Pejabat." in closed.text
    return closed


async def receipt(pejabat: FakeUser, number: str) -> tuple[BotMessage, bytes]:
    """The step-3 notice with Terima/Kembalikan, and the softcopy sent after it."""
    notice = await pejabat.wait_for(
        lambda m: m.text is not None and f"{number} diserahkan oleh Sari Dokumentasi" in m.text
    )
    assert "menunggu penerimaan Anda" in notice.text
    assert button_texts(notice) == [rec.BUTTON_ACCEPT, rec.BUTTON_RETURN, rec.BUTTON_FILES]
    document = await pejabat.wait_for(lambda m: m.kind == "document")
    data = await pejabat.download(document)
    assert f"📎 {number} · " in document.text and f"SHA-256 {sha(data)}" in document.text
    return notice, data


TASK_LINE = re.compile(r"• (\S+) .*\n  (Langkah \d \([^)]*\))")


async def tugas(user: FakeUser) -> BotMessage:
    """/tugas and the bot's answer to it (notices arriving meanwhile are skipped)."""
    user.mark()
    await user.send_command("tugas")
    return await user.wait_for(
        lambda m: m.text is not None and (m.text.startswith("Tugas Anda") or m.text == rec.NO_TASKS)
    )


async def tasks_of(user: FakeUser) -> list[tuple[str, str]]:
    """/tugas: (number, step) of each task listed, checked against the open buttons."""
    reply = await tugas(user)
    if reply.text == rec.NO_TASKS:
        assert reply.buttons() == []
        return []
    listed = TASK_LINE.findall(reply.text)
    assert reply.text.startswith(f"Tugas Anda ({len(listed)}):"), reply.text
    assert button_texts(reply) == [rec.BUTTON_OPEN.format(number=n) for n, _ in listed]
    return listed


async def test_whole_sop_with_a_return_to_step_1_and_a_corrected_pdf(
    harness: BotHarness,
) -> None:
    o = await office(harness)
    rina, sari, andi, dewi = o.rina.phone, o.sari.phone, o.andi.phone, o.dewi.phone
    first, corrected = real_pdf((200, 30, 30)), real_pdf((30, 30, 200))

    # -- step 1: Rina records the document and sends the PDF -----------------------------
    prompt = await fill_in(
        rina,
        TITLE,
        division="Keuangan, Umum dan Logistik",
        classified_by="Andi Pejabat, Ketua PPID",
        period="5 tahun",
    )
    assert "BRK-1 · softcopy terlampir: 0" in prompt.text
    await rina.send_document(first, "daftar-pemilih.pdf", "application/pdf")
    ack = await rina.wait_for("Tersimpan")
    assert f"daftar-pemilih.pdf ({nr.ukuran(len(first))}, SHA-256 {sha(first)[:12]}…)" in ack.text
    await rina.press(ack, text=nr.BUTTON_FILES_DONE)
    card = await rina.wait_for("Syarat SOP")
    for expected in (
        f"BRK-1 · {TITLE}",
        "Bagian: Keuangan, Umum dan Logistik",
        "Dasar hukum: Pasal 17 huruf h UU 14/2008",
        "Jangka waktu: 5 tahun sejak penetapan",
        "Ditetapkan: Andi Pejabat, Ketua PPID, Padang, 23 November 2026",
        "Softcopy (1):",
    ):
        assert expected in card.text
    sari.mark()
    await rina.press(card, text=nr.BUTTON_VERIFIED)
    done = await rina.wait_for("Langkah 1 selesai")
    assert "Batas waktu langkah 2 (Petugas Dokumentasi): Senin, 23 November 2026 09.00 WIB" in (
        done.text
    )

    # -- step 2: Sari opens the notice, downloads the softcopy, hands it over ------------
    notice = await sari.wait_for("menunggu Anda")
    assert f"BRK-1 menunggu Anda\n{TITLE}\n{STEP2}" in notice.text
    card = await open_from(sari, notice, "BRK-1", rec.BUTTON_HANDOVER)
    assert "Status: Langkah 2: menunggu penyerahan oleh Petugas Dokumentasi" in card.text
    assert sha(first) in card.text
    assert await download_all(sari, card, 1) == [first]
    await hand_over(o, card)

    # -- step 3, first round: both Pejabat get card, file and buttons; Andi returns it ---
    andi_notice, andi_copy = await receipt(andi, "BRK-1")
    dewi_notice, dewi_copy = await receipt(dewi, "BRK-1")
    dewi_first_accept = dict(dewi_notice.buttons())[rec.BUTTON_ACCEPT]
    assert andi_copy == dewi_copy == first
    assert "Dasar hukum: Pasal 17 huruf h UU 14/2008" in andi_notice.text
    first_accept = dict(andi_notice.buttons())[rec.BUTTON_ACCEPT]  # the card is edited below
    query = await andi.press(andi_notice, text=rec.BUTTON_RETURN)
    await andi.wait_for_answer(query)
    question = await andi.wait_for("ke langkah mana")
    assert button_texts(question) == [
        "Langkah 1 (Petugas PPID)",
        "Langkah 2 (Petugas Dokumentasi)",
        st.BUTTON_CANCEL,
    ]
    await andi.press(question, text="Langkah 1 (Petugas PPID)")
    asked = await andi.wait_for_edit(question.message_id)
    assert "Tulis alasannya" in asked.text
    rina.mark()
    await andi.send_text(REASON)
    returned = await andi.wait_for("dikembalikan ke Langkah 1 (Petugas PPID)")
    assert "Pemberitahuan beserta alasannya dikirim kepada: Rina Petugas." in returned.text
    closed = await andi.wait_for_edit(andi_notice.message_id)
    assert button_texts(closed) == [rec.BUTTON_FILES] and "Dikembalikan ke Langkah 1" in closed.text
    # Dewi's card of this round follows the record back to step 1, with the reason.
    followed = await dewi.wait_for_edit(dewi_notice.message_id)
    assert button_texts(followed) == [rec.BUTTON_FILES] and REASON in followed.text

    # -- step 1 again: Rina reads the reason and corrects the softcopy with "Perbaiki" ---
    told = await rina.wait_for("dikembalikan ke")
    assert f"BRK-1 dikembalikan ke {STEP1} oleh Andi Pejabat." in told.text
    assert f"Alasan: {REASON}" in told.text
    card = await open_from(rina, told, "BRK-1", rec.BUTTON_REDO)
    assert "Status: Langkah 1: disusun Petugas PPID" in card.text
    await rina.press(card, text=rec.BUTTON_REDO)
    redo = await rina.wait_for("Perbaiki BRK-1")
    assert f"Dikembalikan dengan alasan: {REASON}" in redo.text
    assert "softcopy terlampir: 1" in redo.text
    await rina.press(redo, text=nr.detach_button("daftar-pemilih.pdf"))
    detached = await rina.wait_for("dilepas")
    assert "softcopy terlampir: 0" in detached.text
    await rina.send_document(corrected, "daftar-pemilih-lengkap.pdf", "application/pdf")
    ack = await rina.wait_for("Tersimpan")
    assert "Lampiran: 1" in ack.text
    sari.mark()
    await confirm(rina, ack)

    # -- step 2 again ----------------------------------------------------------------------
    notice = await sari.wait_for("menunggu Anda")
    card = await open_from(sari, notice, "BRK-1", rec.BUTTON_HANDOVER)
    assert await download_all(sari, card, 1) == [corrected]
    await hand_over(o, card)

    # -- step 3 again: the other Pejabat accepts -----------------------------------------
    andi_notice2, andi_copy = await receipt(andi, "BRK-1")
    dewi_notice2, dewi_copy = await receipt(dewi, "BRK-1")
    andi_second = {text: data for text, data in andi_notice2.buttons()}
    # A record that comes back says why it was returned the first time.
    assert "Sebelumnya dikembalikan oleh Andi Pejabat" in andi_notice2.text
    assert REASON in andi_notice2.text
    assert andi_copy == dewi_copy == corrected
    rina.mark()
    sari.mark()
    query = await dewi.press(dewi_notice2, text=rec.BUTTON_ACCEPT)
    assert (await dewi.wait_for_answer(query))["text"] == f"Tersimpan sebagai {DIK}."
    stored_card = await dewi.wait_for_edit(dewi_notice2.message_id)
    assert button_texts(stored_card) == [rec.BUTTON_FILES]
    assert f"Nomor register: {DIK} · 1 salinan, checksum SHA-256 cocok." in stored_card.text
    for person in (rina, sari):
        announced = await person.wait_for(DIK)
        assert f"{DIK} “{TITLE}” telah diterima dan disimpan" in announced.text
        assert "oleh Dewi Pejabat" in announced.text

    # -- Andi's card follows: stored, no buttons to act; old buttons replayed are stale ---
    stored = await final_record(harness, o.rina.actor, 1)
    followed = await andi.wait_for_edit(andi_notice2.message_id)
    assert button_texts(followed) == [rec.BUTTON_FILES] and DIK in followed.text
    for owner, message_id, data in (
        (andi, andi_notice2.message_id, andi_second[rec.BUTTON_ACCEPT]),
        (andi, andi_notice2.message_id, andi_second[rec.BUTTON_RETURN]),
        (dewi, dewi_notice.message_id, dewi_first_accept),  # Dewi's card of the first round
        (andi, andi_notice.message_id, first_accept),  # Andi's first card
    ):
        answer = await owner.wait_for_answer(await owner.press_raw(message_id, data))
        assert STALE in answer["text"] and answer["show_alert"] is True

    # -- the final state ---------------------------------------------------------------------
    record = await final_record(harness, o.rina.actor, 1)
    assert record.version == stored.version
    assert (record.state, record.number, record.register_number) == (State.STORED, DIK, DIK)
    division = [f for f in record.files if f.area == Area.DIVISION]
    ppid = [f for f in record.files if f.area == Area.PPID]
    assert [(f.original_name, f.sha256) for f in division] == [
        ("daftar-pemilih-lengkap.pdf", sha(corrected))
    ]
    assert [f.sha256 for f in ppid] == [sha(corrected)]
    runtime = await harness.runtime()
    assert await runtime.storage.read_bytes(ppid[0].path) == corrected
    assert [(r.step, r.outcome) for r in record.runs] == [
        (Step.PRODUCE, "done"),
        (Step.HANDOVER, "done"),
        (Step.RECEIVE, "returned"),
        (Step.PRODUCE, "done"),
        (Step.HANDOVER, "done"),
        (Step.RECEIVE, "done"),
    ]
    assert record.created_by == o.rina.actor.user_id
    assert record.completer(Step.HANDOVER) == o.sari.actor.user_id
    assert record.completer(Step.RECEIVE) == o.dewi.actor.user_id
    trail = await runtime.service.audit_trail(o.rina.actor, 1)
    # Sari downloaded the softcopies; the bot sent them to Andi and Dewi ("dikirim ke").
    readers = {e.actor_user_id for e in trail if e.action == "file.read"}
    assert readers == {o.sari.actor.user_id}
    sent_to = {e.details["to"] for e in trail if e.action == "file.sent"}
    assert sent_to == {o.andi.actor.user_id, o.dewi.actor.user_id}
    returns = [e.details for e in trail if e.action == "record.returned"]
    assert [(d.get("reason"), d.get("to_step")) for d in returns] == [(REASON, 1)]
    assert await runtime.service.verify_audit_chain() == []
    assert harness.emulator.unanswered_callback_queries() == []
    assert harness.emulator.failed_calls() == []
    assert_house_style(rina, sari, andi, dewi)


async def test_album_of_three_phone_photos_becomes_one_stored_pdf(harness: BotHarness) -> None:
    o = await office(harness)
    rina, sari, andi = o.rina.phone, o.sari.phone, o.andi.phone
    await fill_in(
        rina,
        TITLE,
        division="Keuangan, Umum dan Logistik",
        classified_by="Andi Pejabat",
    )
    pages = [jpeg((255, 0, 0)), jpeg((0, 255, 0)), jpeg((0, 0, 255))]
    for page in pages:
        await rina.send_photo(page, media_group_id="album-1")
    ack = await rina.wait_for("Album: 3 berkas tersimpan")  # one acknowledgement
    assert re.findall(r"Lampiran: (\d+)", ack.text) == ["3"]
    await rina.press(ack, text=nr.BUTTON_FILES_DONE)
    offer = await rina.wait_for("Gabungkan menjadi satu PDF")
    assert "Ada 3 foto terlampir" in offer.text
    await rina.press(offer, text=nr.BUTTON_COMBINE)
    combined = await rina.wait_for("3 foto digabung")
    assert f"{TITLE} (3 halaman).pdf" in combined.text
    assert "Softcopy (1):" in combined.text and "Syarat SOP" in combined.text
    sari.mark()
    await rina.press(combined, text=nr.BUTTON_VERIFIED)
    await rina.wait_for("Langkah 1 selesai")

    notice = await sari.wait_for("menunggu Anda")
    card = await open_from(sari, notice, "BRK-1", rec.BUTTON_HANDOVER)
    [pdf] = await download_all(sari, card, 1)
    assert pdf.startswith(b"%PDF") and re.findall(rb"/Count (\d+)", pdf) == [b"3"]
    await hand_over(o, card)
    andi_notice, andi_copy = await receipt(andi, "BRK-1")
    assert andi_copy == pdf
    query = await andi.press(andi_notice, text=rec.BUTTON_ACCEPT)
    assert (await andi.wait_for_answer(query))["text"] == f"Tersimpan sebagai {DIK}."
    await rina.wait_for(f"{DIK} “{TITLE}” telah diterima dan disimpan")

    record = await final_record(harness, o.rina.actor, 1)
    assert (record.state, record.register_number) == (State.STORED, DIK)
    division = [f for f in record.files if f.area == Area.DIVISION]
    ppid = [f for f in record.files if f.area == Area.PPID]
    assert [(f.original_name, f.mime_type) for f in division] == [
        (f"{TITLE} (3 halaman).pdf", "application/pdf")
    ]
    assert [f.sha256 for f in ppid] == [division[0].sha256] == [sha(pdf)]
    runtime = await harness.runtime()
    assert await runtime.storage.read_bytes(ppid[0].path) == pdf
    # The photos left the record but their bytes are still in the division's storage.
    kept = {
        sha(await runtime.storage.read_bytes(p))
        for p in await stored_paths(runtime.storage)
        if p.startswith("divisi/")
    }
    assert kept == {sha(page) for page in pages} | {sha(pdf)}
    assert record.completer(Step.RECEIVE) == o.andi.actor.user_id
    assert await runtime.service.verify_audit_chain() == []
    assert harness.emulator.unanswered_callback_queries() == []
    assert harness.emulator.failed_calls() == []


async def test_tugas_shows_each_person_exactly_what_waits_on_them(
    harness: BotHarness, clock: ManualClock
) -> None:
    o = await office(harness)
    budi, _ = await harness.person(102, "Budi Petugas", Role.PETUGAS_PPID, division_id=2)
    rina, sari, andi, dewi = o.rina.phone, o.sari.phone, o.andi.phone, o.dewi.phone
    everyone = {"rina": rina, "budi": budi, "sari": sari, "andi": andi, "dewi": dewi}

    async def all_tasks() -> dict[str, list[tuple[str, str]]]:
        return {name: await tasks_of(phone) for name, phone in everyone.items()}

    nothing: dict[str, list[tuple[str, str]]] = {name: [] for name in everyone}
    assert await all_tasks() == nothing

    # Two Petugas PPID of two divisions record at the same time.
    prompts = await asyncio.gather(
        fill_in(
            rina, "Memo rahasia anggaran pengamanan", division="Keuangan", classified_by="Andi"
        ),
        fill_in(budi, "Data pribadi pemilih disabilitas", division="Teknis", classified_by="Andi"),
    )
    numbers = [re.findall(r"BRK-\d+", p.text or "")[0] for p in prompts]
    assert sorted(numbers) == ["BRK-1", "BRK-2"]
    mine, his = numbers
    await rina.send_document(real_pdf((1, 2, 3)), "memo.pdf", "application/pdf")
    rina_ack = await rina.wait_for("Tersimpan")
    await budi.send_document(real_pdf((3, 2, 1)), "pemilih.pdf", "application/pdf")
    budi_ack = await budi.wait_for("Tersimpan")
    # Drafts: each Petugas sees only the one of their own division, at step 1.
    assert await all_tasks() == nothing | {"rina": [(mine, STEP1)], "budi": [(his, STEP1)]}

    await confirm(rina, rina_ack)
    clock.advance(timedelta(minutes=5))  # Budi confirms later: his step 2 is due later
    await confirm(budi, budi_ack)
    assert await all_tasks() == nothing | {"sari": [(mine, STEP2), (his, STEP2)]}

    # Sari opens Rina's record from her /tugas list and hands it over.
    await hand_over(o, await open_from(sari, await tugas(sari), mine, rec.BUTTON_HANDOVER))
    andi_notice, _ = await receipt(andi, mine)
    await receipt(dewi, mine)
    assert await all_tasks() == nothing | {
        "sari": [(his, STEP2)],
        "andi": [(mine, STEP3)],
        "dewi": [(mine, STEP3)],
    }

    # Andi returns it to step 1: only Rina has it again; Budi (other division) never sees it.
    await andi.press(andi_notice, text=rec.BUTTON_RETURN)
    question = await andi.wait_for("ke langkah mana")
    await andi.press(question, text="Langkah 1 (Petugas PPID)")
    await andi.wait_for_edit(question.message_id)
    await andi.send_text(REASON)
    await andi.wait_for("dikembalikan ke Langkah 1")
    assert await all_tasks() == nothing | {"rina": [(mine, STEP1)], "sari": [(his, STEP2)]}

    # Budi's record goes all the way; Dewi stores it as the first register number.
    await hand_over(o, await open_from(sari, await tugas(sari), his, rec.BUTTON_HANDOVER))
    dewi_notice, _ = await receipt(dewi, his)
    await receipt(andi, his)
    query = await dewi.press(dewi_notice, text=rec.BUTTON_ACCEPT)
    assert (await dewi.wait_for_answer(query))["text"] == f"Tersimpan sebagai {DIK}."
    assert await all_tasks() == nothing | {"rina": [(mine, STEP1)]}

    # A stranger learns nothing: only the refusal, for a command, a message and a button.
    stranger = harness.emulator.user(4242, "Orang Asing")
    await stranger.send_command("tugas")
    await stranger.send_text("halo")
    await stranger.wait_for(count=2)
    refused = [(texts.not_registered(4242), [])] * 2
    assert [(m.source_text, m.buttons()) for m in stranger.inbox] == refused
    refusal = stranger.inbox[0]
    answer = await stranger.wait_for_answer(await stranger.press_raw(refusal.message_id, "rec:1"))
    assert answer["text"] == texts.not_registered_alert(4242) and answer["show_alert"] is True
    assert len(stranger.inbox) == 2

    runtime = await harness.runtime()
    returned = await runtime.service.record(o.rina.actor, int(mine.removeprefix("BRK-")))
    assert (returned.state, returned.return_reason) == (State.DRAFT, REASON)
    assert await runtime.service.verify_audit_chain() == []
    assert harness.emulator.unanswered_callback_queries() == []
    assert harness.emulator.failed_calls() == []
