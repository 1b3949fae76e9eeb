"""Steps 2 and 3 end to end: hand-over by the Petugas Dokumentasi, receipt or return by the
Pejabat PPID, with several people pressing buttons over the Bot API emulator."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from bot import texts
from bot.texts import records as record_texts
from bot.texts import steps as step_texts
from db.models import NoticeRow
from sop.clock import ManualClock
from sop.model import Actor, RecordView, Role, State, Step
from storage import Area
from tests.conftest import PDF_BYTES, chunks_of, sample_fields
from tests.e2e.harness import ADMIN_ID, BotHarness
from tests.emulator import FakeUser
from tests.emulator.models import BotMessage

STALE = "sudah diproses atau statusnya telah berubah"


@dataclass
class Person:
    phone: FakeUser
    actor: Actor


@dataclass
class Office:
    petugas: Person
    dokumentasi: Person
    pejabat1: Person
    pejabat2: Person


async def office(harness: BotHarness) -> Office:
    async def person(tid: int, name: str, *roles: Role, division_id: int | None = None) -> Person:
        phone, actor = await harness.person(tid, name, *roles, division_id=division_id)
        return Person(phone, actor)

    return Office(
        petugas=await person(101, "Rina Petugas", Role.PETUGAS_PPID, division_id=1),
        dokumentasi=await person(201, "Sari Dokumentasi", Role.PETUGAS_DOKUMENTASI),
        pejabat1=await person(301, "Andi Pejabat", Role.PEJABAT_PPID),
        pejabat2=await person(302, "Dewi Pejabat", Role.PEJABAT_PPID),
    )


def pdf(tag: str) -> bytes:
    """A distinct small PDF per record (the same bytes are never stored twice)."""
    return PDF_BYTES + f"% {tag}\n".encode()


async def submitted(
    harness: BotHarness, petugas: Actor, content: bytes, title: str = "Data pribadi pemilih"
) -> RecordView:
    """A record whose step 1 is done, made directly through the service."""
    service = (await harness.runtime()).service
    draft = await service.create_draft(petugas, sample_fields(1, title=title))
    await service.attach_file(
        petugas, draft.id, chunks_of(content), "daftar-pemilih.pdf", "application/pdf"
    )
    outcome = await service.complete_produce(petugas, draft.id, verified=True)
    assert outcome.record.state is State.SUBMITTED
    return outcome.record


async def load(harness: BotHarness, record_id: int) -> RecordView:
    runtime = await harness.runtime()
    admin = await runtime.service.actor_by_telegram(ADMIN_ID)
    assert admin is not None
    return await runtime.service.record(admin, record_id)


def data_of(message: BotMessage, action: str) -> str | None:
    return next(
        (data for _, data in message.buttons() if data and data.startswith(f"act:{action}:")),
        None,
    )


async def settled(harness: BotHarness, notice_ids: tuple[int, ...]) -> list[NoticeRow]:
    """The notices once every one of them is finished (the bot records the result just
    after the last message went)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while True:
        rows = [row for row in await notice_rows(harness) if row.id in notice_ids]
        if all(row.status not in ("pending", "sending") for row in rows):
            return rows
        if loop.time() > deadline:
            raise AssertionError(f"notices still under way: {[(r.id, r.status) for r in rows]}")
        await asyncio.sleep(0.05)


async def notice_rows(harness: BotHarness) -> list[NoticeRow]:
    service = (await harness.runtime()).service
    async with service.transaction() as repo:
        return list((await repo.session.scalars(select(NoticeRow).order_by(NoticeRow.id))).all())


def actions(message: BotMessage) -> list[str]:
    """The actions a card offers that change the record (a download changes nothing)."""
    return [
        data.split(":")[1]
        for _, data in message.buttons()
        if data and data.startswith("act:") and not data.startswith("act:files:")
    ]


async def open_via_serahkan(dokumentasi: FakeUser, record: RecordView) -> BotMessage:
    """/serahkan, then the record's open button: its card with the step-2 buttons."""
    dokumentasi.mark()
    await dokumentasi.send_command("serahkan")
    listing = await dokumentasi.wait_for("Menunggu didata dan diserahkan")
    assert record.number in listing.text
    await dokumentasi.press(listing, text=record_texts.BUTTON_OPEN.format(number=record.number))
    return await dokumentasi.wait_for(
        lambda m: m.text is not None and record.number in m.text and data_of(m, "handover")
    )


async def receive_notice(pejabat: FakeUser, record: RecordView) -> tuple[BotMessage, BotMessage]:
    """The step-3 notice with its buttons, then the softcopy that follows it."""
    notice = await pejabat.wait_for(
        lambda m: (
            m.text is not None and "menunggu penerimaan Anda" in m.text and record.number in m.text
        )
    )
    document = await pejabat.wait_for(lambda m: m.kind == "document")
    return notice, document


async def hand_over(harness: BotHarness, o: Office, record: RecordView) -> BotMessage:
    """Step 2 through the bot; returns the Dokumentasi's card as edited afterwards."""
    card = await open_via_serahkan(o.dokumentasi.phone, record)
    o.pejabat1.phone.mark()
    o.pejabat2.phone.mark()
    query = await o.dokumentasi.phone.press(card, text=record_texts.BUTTON_HANDOVER)
    answer = await o.dokumentasi.phone.wait_for_answer(query)
    assert answer["text"] == step_texts.ANSWER_HANDED_OVER
    return await o.dokumentasi.phone.wait_for_edit(card.message_id)


async def test_handover_reaches_every_pejabat_with_summary_files_and_buttons(
    harness: BotHarness,
) -> None:
    o = await office(harness)
    content = pdf("handover")
    record = await submitted(harness, o.petugas.actor, content)

    card = await open_via_serahkan(o.dokumentasi.phone, record)
    assert data_of(card, "handover") == f"act:handover:{record.id}:{record.version}"
    assert data_of(card, "fix") and data_of(card, "return") and data_of(card, "files")

    edited = await hand_over(harness, o, record)
    assert actions(edited) == []
    assert data_of(edited, "files") is not None  # the softcopies can still be read
    assert "Diserahkan ke Pejabat PPID" in edited.text
    assert "Sari Dokumentasi" in edited.text
    assert "Andi Pejabat, Dewi Pejabat" in edited.text

    stored = await load(harness, record.id)
    assert stored.state is State.REGISTERED
    for pejabat in (o.pejabat1, o.pejabat2):
        notice, document = await receive_notice(pejabat.phone, record)
        assert "Data pribadi pemilih" in notice.text
        assert "Pasal 17 huruf h" in notice.text
        assert "diserahkan oleh Sari Dokumentasi" in notice.text
        assert data_of(notice, "accept") == f"act:accept:{record.id}:{stored.version}"
        assert data_of(notice, "return") == f"act:return:{record.id}:{stored.version}"
        assert document.document is not None
        assert document.document["file_name"] == "daftar-pemilih.pdf"
        assert await pejabat.phone.download(document) == content
        assert hashlib.sha256(content).hexdigest() in document.text

    # The bot pushed each Pejabat their copy: "dikirim ke", not a download by them.
    packages = [row.id for row in await notice_rows(harness) if row.kind == "receive"]
    assert {row.status for row in await settled(harness, tuple(packages))} == {"delivered"}
    runtime = await harness.runtime()
    trail = await runtime.service.audit_trail(o.pejabat1.actor, record.id)
    sent_to = {entry.details["to"] for entry in trail if entry.action == "file.sent"}
    assert sent_to == {o.pejabat1.actor.user_id, o.pejabat2.actor.user_id}
    assert not [entry for entry in trail if entry.action == "file.read"]
    # The Petugas PPID is not disturbed at step 2.
    assert not [m for m in o.petugas.phone.inbox if m.text and "menunggu" in m.text]
    assert harness.emulator.failed_calls() == []


async def test_accept_stores_numbers_and_tells_everyone_involved(harness: BotHarness) -> None:
    o = await office(harness)
    content = pdf("accept")
    record = await submitted(harness, o.petugas.actor, content)
    await hand_over(harness, o, record)
    notice1, _ = await receive_notice(o.pejabat1.phone, record)
    notice2, _ = await receive_notice(o.pejabat2.phone, record)
    old_buttons = {action: data_of(notice2, action) for action in ("accept", "return")}
    o.petugas.phone.mark()
    o.dokumentasi.phone.mark()

    accept_data = data_of(notice1, "accept")
    assert accept_data is not None
    query = await o.pejabat1.phone.press(notice1, text=record_texts.BUTTON_ACCEPT)
    answer = await o.pejabat1.phone.wait_for_answer(query)
    assert answer["text"] == "Tersimpan sebagai DIK-2026-0001."
    closed = await o.pejabat1.phone.wait_for_edit(notice1.message_id)
    assert actions(closed) == []
    assert "Nomor register: DIK-2026-0001" in closed.text
    assert "Diterima dan disimpan di penyimpanan internal PPID oleh Andi Pejabat" in closed.text

    stored = await load(harness, record.id)
    assert stored.state is State.STORED
    assert stored.register_number == "DIK-2026-0001"
    division = [f for f in stored.files if f.area == Area.DIVISION]
    ppid = [f for f in stored.files if f.area == Area.PPID]
    assert len(division) == len(ppid) == 1
    assert ppid[0].sha256 == division[0].sha256 == hashlib.sha256(content).hexdigest()
    runtime = await harness.runtime()
    copy = await runtime.storage.read_bytes(ppid[0].path)
    assert hashlib.sha256(copy).hexdigest() == division[0].sha256
    assert ppid[0].path != division[0].path

    for person in (o.petugas, o.dokumentasi):
        told = await person.phone.wait_for("DIK-2026-0001")
        assert "telah diterima dan disimpan" in told.text
        assert "Andi Pejabat" in told.text

    # The same button pressed again (a double tap, or a client replaying it).
    query = await o.pejabat1.phone.press_raw(notice1.message_id, accept_data)
    answer = await o.pejabat1.phone.wait_for_answer(query)
    assert STALE in answer["text"] and answer["show_alert"]
    # The other Pejabat's card followed the record: stored, no accept or return any more.
    refreshed = await o.pejabat2.phone.wait_for_edit(notice2.message_id)
    assert actions(refreshed) == []
    assert texts.STATE_NAMES[State.STORED] in refreshed.text
    # Its old buttons, replayed by a client, change nothing.
    for old_data in old_buttons.values():
        assert old_data is not None
        query = await o.pejabat2.phone.press_raw(notice2.message_id, old_data)
        answer = await o.pejabat2.phone.wait_for_answer(query)
        assert STALE in answer["text"] and answer["show_alert"]

    after = await load(harness, record.id)
    assert after.version == stored.version
    assert len(after.files) == len(stored.files)
    assert after.register_number == "DIK-2026-0001"
    assert harness.emulator.failed_calls() == []


async def test_two_pejabat_accepting_at_once_exactly_one_wins(harness: BotHarness) -> None:
    o = await office(harness)
    record = await submitted(harness, o.petugas.actor, pdf("race"))
    await hand_over(harness, o, record)
    notice1, _ = await receive_notice(o.pejabat1.phone, record)
    notice2, _ = await receive_notice(o.pejabat2.phone, record)

    queries = await asyncio.gather(
        o.pejabat1.phone.press(notice1, text=record_texts.BUTTON_ACCEPT),
        o.pejabat2.phone.press(notice2, text=record_texts.BUTTON_ACCEPT),
    )
    answers = [
        await o.pejabat1.phone.wait_for_answer(queries[0]),
        await o.pejabat2.phone.wait_for_answer(queries[1]),
    ]
    won = [a for a in answers if a["text"] == "Tersimpan sebagai DIK-2026-0001."]
    lost = [a for a in answers if STALE in (a["text"] or "")]
    assert len(won) == 1 and len(lost) == 1
    assert lost[0]["show_alert"]

    stored = await load(harness, record.id)
    assert stored.state is State.STORED
    assert stored.register_number == "DIK-2026-0001"
    assert len([f for f in stored.files if f.area == Area.PPID]) == 1
    winner = o.pejabat1 if won[0] is answers[0] else o.pejabat2
    assert stored.completer(Step.RECEIVE) == winner.actor.user_id
    assert harness.emulator.failed_calls() == []


async def test_presses_without_the_role_are_refused_and_change_nothing(
    harness: BotHarness,
) -> None:
    o = await office(harness)
    record = await submitted(harness, o.petugas.actor, pdf("roles"))
    petugas = o.petugas.phone
    await petugas.send_command("tugas")
    anchor = await petugas.wait_for()

    # Step 2 is the Petugas Dokumentasi's, not the Petugas PPID's or the Pejabat's.
    query = await petugas.press_raw(anchor.message_id, f"act:handover:{record.id}:{record.version}")
    answer = await petugas.wait_for_answer(query)
    assert "hanya dapat dilakukan oleh Petugas Dokumentasi" in answer["text"]
    await o.pejabat1.phone.send_command("tugas")
    pejabat_anchor = await o.pejabat1.phone.wait_for()
    query = await o.pejabat1.phone.press_raw(
        pejabat_anchor.message_id, f"act:handover:{record.id}:{record.version}"
    )
    answer = await o.pejabat1.phone.wait_for_answer(query)
    assert "hanya dapat dilakukan oleh Petugas Dokumentasi" in answer["text"]
    assert (await load(harness, record.id)).state is State.SUBMITTED

    await hand_over(harness, o, record)
    registered = await load(harness, record.id)
    forged = f"act:accept:{record.id}:{registered.version}"
    query = await petugas.press_raw(anchor.message_id, forged)
    answer = await petugas.wait_for_answer(query)
    assert "hanya dapat dilakukan oleh Pejabat PPID" in answer["text"]
    assert answer["show_alert"]
    query = await petugas.press_raw(
        anchor.message_id, f"act:return:{record.id}:{registered.version}"
    )
    answer = await petugas.wait_for_answer(query)
    assert "tidak memiliki peran" in answer["text"]

    stranger = harness.emulator.user(4242, "Orang Asing")
    await stranger.send_text("halo")
    refusal = await stranger.wait_for()
    query = await stranger.press_raw(refusal.message_id, forged)
    answer = await stranger.wait_for_answer(query)
    assert "belum terdaftar" in answer["text"]

    # A Petugas PPID of another division does not even learn that the record exists.
    other, _ = await harness.person(102, "Budi Petugas", Role.PETUGAS_PPID, division_id=2)
    await other.send_command("tugas")
    other_anchor = await other.wait_for()
    query = await other.press_raw(other_anchor.message_id, forged)
    answer = await other.wait_for_answer(query)
    assert "tidak ditemukan" in answer["text"]

    after = await load(harness, record.id)
    assert after.state is State.REGISTERED
    assert after.version == registered.version
    assert [f for f in after.files if f.area == Area.PPID] == []
    assert harness.emulator.unanswered_callback_queries() == []
    assert harness.emulator.failed_calls() == []


async def test_the_one_who_handed_over_may_not_receive(harness: BotHarness) -> None:
    o = await office(harness)
    both, both_actor = await harness.person(
        250, "Tono Ganda", Role.PETUGAS_DOKUMENTASI, Role.PEJABAT_PPID
    )
    record = await submitted(harness, o.petugas.actor, pdf("four-eyes"))
    card = await open_via_serahkan(both, record)
    o.pejabat1.phone.mark()
    query = await both.press(card, text=record_texts.BUTTON_HANDOVER)
    await both.wait_for_answer(query)
    edited = await both.wait_for_edit(card.message_id)
    assert "Andi Pejabat, Dewi Pejabat" in edited.text
    assert "Tono" not in edited.text.split("diberi tahu:")[1]
    await receive_notice(o.pejabat1.phone, record)
    assert not [m for m in both.inbox if m.text and "menunggu penerimaan Anda" in m.text]

    registered = await load(harness, record.id)
    both.mark()
    await both.send_command("berkas", registered.number)
    own_card = await both.wait_for(registered.number)
    assert data_of(own_card, "accept") is None and data_of(own_card, "return") is None

    for action in ("accept", "return"):
        query = await both.press_raw(
            own_card.message_id, f"act:{action}:{record.id}:{registered.version}"
        )
        answer = await both.wait_for_answer(query)
        assert "minimal 2 orang" in answer["text"]
    after = await load(harness, record.id)
    assert after.state is State.REGISTERED and after.version == registered.version
    assert both_actor.user_id == after.completer(Step.HANDOVER)
    assert harness.emulator.failed_calls() == []


async def test_return_to_step_1_tells_the_petugas_the_reason(harness: BotHarness) -> None:
    o = await office(harness)
    record = await submitted(harness, o.petugas.actor, pdf("return-1"))
    await hand_over(harness, o, record)
    notice1, _ = await receive_notice(o.pejabat1.phone, record)
    notice2, _ = await receive_notice(o.pejabat2.phone, record)
    old_accept = data_of(notice2, "accept")
    assert old_accept is not None
    pejabat = o.pejabat1.phone

    query = await pejabat.press(notice1, text=record_texts.BUTTON_RETURN)
    await pejabat.wait_for_answer(query)
    question = await pejabat.wait_for("ke langkah mana")
    assert [text for text, _ in question.buttons()] == [
        "Langkah 1 (Petugas PPID)",
        "Langkah 2 (Petugas Dokumentasi)",
        step_texts.BUTTON_CANCEL,
    ]
    await pejabat.press(question, text="Langkah 1 (Petugas PPID)")
    asked = await pejabat.wait_for_edit(question.message_id)
    assert "Tulis alasannya" in asked.text and asked.buttons() == []

    await pejabat.send_text("ok")
    refusal = await pejabat.wait_for("Alasan terlalu pendek")
    assert "tulis alasannya lagi" in refusal.text
    assert (await load(harness, record.id)).state is State.REGISTERED

    # The conversation survives a restart of the bot.
    await harness.restart()
    o.petugas.phone.mark()
    reason = "Nomor surat pada softcopy tidak sesuai dengan uraian; mohon diperbaiki."
    await pejabat.send_text(reason)
    done = await pejabat.wait_for("dikembalikan ke Langkah 1 (Petugas PPID)")
    assert "Rina Petugas" in done.text
    closed = await pejabat.wait_for_edit(notice1.message_id)
    assert actions(closed) == [] and "Dikembalikan ke Langkah 1" in closed.text

    told = await o.petugas.phone.wait_for(  # not the handover record's PDF of step 2
        lambda m: m.kind == "text" and m.text is not None and record.number in m.text
    )
    assert "dikembalikan ke Langkah 1" in told.text
    assert reason in told.text and "Andi Pejabat" in told.text
    returned = await load(harness, record.id)
    assert returned.state is State.DRAFT
    assert returned.return_reason == reason
    assert returned.current_run is not None and returned.current_run.attempt == 2

    # The other Pejabat's card followed the record back to step 1: no buttons of step 3,
    # and the reason is on it; its old button, replayed, changes nothing.
    refreshed = await o.pejabat2.phone.wait_for_edit(notice2.message_id)
    assert actions(refreshed) == [] and reason in refreshed.text
    query = await o.pejabat2.phone.press_raw(notice2.message_id, old_accept)
    answer = await o.pejabat2.phone.wait_for_answer(query)
    assert STALE in answer["text"]
    assert (await load(harness, record.id)).version == returned.version
    assert harness.emulator.failed_calls() == []


async def test_return_to_step_2_reopens_the_handover(harness: BotHarness) -> None:
    o = await office(harness)
    record = await submitted(harness, o.petugas.actor, pdf("return-2"))
    await hand_over(harness, o, record)
    notice, _ = await receive_notice(o.pejabat2.phone, record)
    pejabat = o.pejabat2.phone
    o.dokumentasi.phone.mark()

    await pejabat.press(notice, text=record_texts.BUTTON_RETURN)
    question = await pejabat.wait_for("ke langkah mana")
    await pejabat.press(question, text="Langkah 2 (Petugas Dokumentasi)")
    await pejabat.wait_for_edit(question.message_id)
    await pejabat.send_text("Softcopy belum didata lengkap")
    await pejabat.wait_for("dikembalikan ke Langkah 2")

    told = await o.dokumentasi.phone.wait_for(  # not the handover record's PDF of step 2
        lambda m: m.kind == "text" and m.text is not None and record.number in m.text
    )
    assert "Langkah 2" in told.text and "Softcopy belum didata lengkap" in told.text
    # The Petugas PPID acted on the record (step 1): told too, but nothing waits on them.
    info = await o.petugas.phone.wait_for("dikembalikan ke Langkah 2")
    assert "Softcopy belum didata lengkap" in info.text and "Dewi Pejabat" in info.text
    assert "Batas waktu" not in info.text
    returned = await load(harness, record.id)
    assert returned.state is State.SUBMITTED

    # The Dokumentasi opens it from the notice and hands it over again.
    await o.dokumentasi.phone.press(
        told, text=record_texts.BUTTON_OPEN.format(number=record.number)
    )
    card = await o.dokumentasi.phone.wait_for(lambda m: data_of(m, "handover") is not None)
    assert "Softcopy belum didata lengkap" in card.text
    o.pejabat1.phone.mark()
    await o.dokumentasi.phone.press(card, text=record_texts.BUTTON_HANDOVER)
    await receive_notice(o.pejabat1.phone, record)
    assert (await load(harness, record.id)).state is State.REGISTERED
    assert harness.emulator.failed_calls() == []


async def test_return_can_be_cancelled_and_bad_input_keeps_the_question(
    harness: BotHarness,
) -> None:
    o = await office(harness)
    record = await submitted(harness, o.petugas.actor, pdf("cancel"))
    dokumentasi = o.dokumentasi.phone
    card = await open_via_serahkan(dokumentasi, record)

    # At step 2 a record can only go back to step 1.
    await dokumentasi.press(card, text=record_texts.BUTTON_RETURN)
    question = await dokumentasi.wait_for("ke langkah mana")
    assert [text for text, _ in question.buttons()] == [
        "Langkah 1 (Petugas PPID)",
        step_texts.BUTTON_CANCEL,
    ]
    await dokumentasi.send_text("langkah satu")
    await dokumentasi.wait_for(step_texts.RETURN_USE_BUTTONS)
    await dokumentasi.press(question, text="Langkah 1 (Petugas PPID)")
    await dokumentasi.wait_for_edit(question.message_id)
    await dokumentasi.send_photo(b"\x89PNG not really")
    await dokumentasi.wait_for(step_texts.RETURN_REASON_AS_TEXT)
    await dokumentasi.send_command("batal")
    await dokumentasi.wait_for("Dibatalkan. Tidak ada yang diubah.")
    await dokumentasi.send_text("Alasan yang datang terlambat")
    await dokumentasi.wait_for("tidak sedang ditunggu")
    unchanged = await load(harness, record.id)
    assert unchanged.state is State.SUBMITTED and unchanged.version == record.version

    # The cancel button works too, and its question loses its buttons.
    await dokumentasi.press(card, text=record_texts.BUTTON_RETURN)
    question = await dokumentasi.wait_for("ke langkah mana")
    query = await dokumentasi.press(question, text=step_texts.BUTTON_CANCEL)
    await dokumentasi.wait_for_answer(query)
    cancelled = await dokumentasi.wait_for_edit(question.message_id)
    assert cancelled.text == "Dibatalkan. Tidak ada yang diubah." and cancelled.buttons() == []
    await dokumentasi.send_text("masih ada?")
    await dokumentasi.wait_for("tidak sedang ditunggu")

    # After all that, the original card still works.
    o.pejabat1.phone.mark()
    await dokumentasi.press(card, text=record_texts.BUTTON_HANDOVER)
    await receive_notice(o.pejabat1.phone, record)
    assert harness.emulator.failed_calls() == []


async def test_dokumentasi_corrects_the_title_before_handing_over(harness: BotHarness) -> None:
    o = await office(harness)
    record = await submitted(harness, o.petugas.actor, pdf("fix"), title="Data pemilh salah")
    dokumentasi = o.dokumentasi.phone
    card = await open_via_serahkan(dokumentasi, record)
    old_handover = data_of(card, "handover")
    assert old_handover is not None

    await dokumentasi.press(card, text=step_texts.BUTTON_FIX)
    question = await dokumentasi.wait_for("Kolom mana")
    assert [text for text, _ in question.buttons()] == [
        "Judul",
        "Bagian (divisi)",
        "Uraian",
        "Uji konsekuensi",
        step_texts.BUTTON_CANCEL,
    ]
    await dokumentasi.send_text("judul")
    await dokumentasi.wait_for(step_texts.FIX_USE_BUTTONS)
    await dokumentasi.press(question, text="Judul")
    asked = await dokumentasi.wait_for_edit(question.message_id)
    assert "Data pemilh salah" in asked.text

    await dokumentasi.send_text("x")
    await dokumentasi.wait_for("Judul terlalu pendek")
    assert (await load(harness, record.id)).fields.title == "Data pemilh salah"
    await dokumentasi.send_text("Data pemilih <disabilitas> & alamatnya")
    await dokumentasi.wait_for("diperbarui")
    new_card = await dokumentasi.wait_for(lambda m: data_of(m, "handover") is not None)
    assert "Data pemilih &lt;disabilitas&gt; &amp; alamatnya" in (new_card.source_text or "")
    old = await dokumentasi.wait_for_edit(card.message_id)
    assert old.buttons() == []

    fixed = await load(harness, record.id)
    assert fixed.fields.title == "Data pemilih <disabilitas> & alamatnya"
    assert fixed.version == record.version + 1
    assert data_of(new_card, "handover") == f"act:handover:{record.id}:{fixed.version}"

    # The old card's button is stale; the new one hands the corrected record over.
    query = await dokumentasi.press_raw(card.message_id, old_handover)
    answer = await dokumentasi.wait_for_answer(query)
    assert STALE in answer["text"]
    o.pejabat1.phone.mark()
    await dokumentasi.press(new_card, text=record_texts.BUTTON_HANDOVER)
    notice, _ = await receive_notice(o.pejabat1.phone, record)
    assert "Data pemilih <disabilitas> & alamatnya" in notice.text

    # Only the Petugas Dokumentasi corrects at step 2, and only at step 2.
    registered = await load(harness, record.id)
    query = await o.pejabat1.phone.press_raw(
        notice.message_id, f"act:fix:{record.id}:{registered.version}"
    )
    answer = await o.pejabat1.phone.wait_for_answer(query)
    assert STALE in answer["text"]
    assert (await load(harness, record.id)).version == registered.version
    assert harness.emulator.failed_calls() == []


async def test_serahkan_lists_waiting_records_and_refuses_others(
    harness: BotHarness, clock: ManualClock
) -> None:
    harness.emulator.user(ADMIN_ID, "Admin")  # the escalations below reach the admin too
    o = await office(harness)
    dokumentasi = o.dokumentasi.phone
    await dokumentasi.send_command("serahkan")
    await dokumentasi.wait_for(step_texts.SERAHKAN_EMPTY)

    first = await submitted(harness, o.petugas.actor, pdf("list-1"), title="Memo rahasia")
    second = await submitted(harness, o.petugas.actor, pdf("list-2"), title="Hasil evaluasi")
    clock.advance(timedelta(hours=1, minutes=30))
    await dokumentasi.send_command("serahkan")
    listing = await dokumentasi.wait_for("Menunggu didata")
    assert "(2)" in listing.text
    assert "Memo rahasia" in listing.text and "Hasil evaluasi" in listing.text
    assert "TERLAMBAT 30 menit" in listing.text
    assert [data for _, data in listing.buttons()] == [f"rec:{first.id}", f"rec:{second.id}"]

    for person in (o.petugas, o.pejabat1):
        person.phone.mark()
        await person.phone.send_command("serahkan")
        # The clock moved past both due times: the escalations the scheduler sends may
        # arrive before the refusal (to the Pejabat PPID); the refusal is the answer.
        refusal = await person.phone.wait_for("/serahkan")
        assert refusal.text == step_texts.SERAHKAN_ONLY_DOKUMENTASI
        assert refusal.buttons() == []
    assert harness.emulator.failed_calls() == []


async def test_a_new_question_replaces_a_half_done_one(harness: BotHarness) -> None:
    o = await office(harness)
    record = await submitted(harness, o.petugas.actor, pdf("switch"), title="Memo lama")
    dokumentasi = o.dokumentasi.phone
    card = await open_via_serahkan(dokumentasi, record)

    await dokumentasi.press(card, text=record_texts.BUTTON_RETURN)
    question = await dokumentasi.wait_for("ke langkah mana")
    await dokumentasi.press(question, text="Langkah 1 (Petugas PPID)")
    await dokumentasi.wait_for_edit(question.message_id)

    # Changing one's mind: a correction instead. The typed text is the new title, not a
    # reason, and the record is not returned.
    await dokumentasi.press(card, text=step_texts.BUTTON_FIX)
    fix_question = await dokumentasi.wait_for("Kolom mana")
    await dokumentasi.press(fix_question, text="Judul")
    await dokumentasi.wait_for_edit(fix_question.message_id)
    await dokumentasi.send_text("Memo rahasia antarbadan")
    await dokumentasi.wait_for("diperbarui")
    after = await load(harness, record.id)
    assert after.state is State.SUBMITTED
    assert after.fields.title == "Memo rahasia antarbadan"
    assert after.return_reason is None
    assert harness.emulator.failed_calls() == []


async def test_long_records_and_long_lists_still_fit_in_one_message(
    harness: BotHarness,
) -> None:
    o = await office(harness)
    service = (await harness.runtime()).service
    petugas = o.petugas.actor
    long_fields = sample_fields(
        1,
        title="J" * 200,
        description="Uraian panjang & rinci. " * 83,  # about 2000 characters
        consequence="<b>bukan tag</b> " * 58,  # about 1000 characters, escaped on the way
        other_legal_basis="Peraturan lain yang sangat panjang. " * 40,
    )
    draft = await service.create_draft(petugas, long_fields)
    await service.attach_file(
        petugas, draft.id, chunks_of(pdf("long")), "panjang.pdf", "application/pdf"
    )
    long_record = (await service.complete_produce(petugas, draft.id, verified=True)).record
    for index in range(24):
        await submitted(harness, petugas, pdf(f"many-{index}"), title=f"{index:02d} " + "x" * 190)

    dokumentasi = o.dokumentasi.phone
    await dokumentasi.send_command("serahkan")
    listing = await dokumentasi.wait_for("Menunggu didata")
    assert "(25)" in listing.text
    shown = len(listing.buttons())
    assert 0 < shown <= 20
    assert f"dan {25 - shown} berkas lain" in listing.text

    edited = await hand_over(harness, o, long_record)
    assert "Diserahkan ke Pejabat PPID" in edited.text
    notice, document = await receive_notice(o.pejabat1.phone, long_record)
    assert "<b>bukan tag</b>" in notice.text  # shown as typed, not as formatting
    assert data_of(notice, "accept") is not None
    assert await o.pejabat1.phone.download(document) == pdf("long")
    await o.pejabat1.phone.press(notice, text=record_texts.BUTTON_ACCEPT)
    closed = await o.pejabat1.phone.wait_for_edit(notice.message_id)
    assert "Nomor register: DIK-2026-0001" in closed.text
    assert harness.emulator.failed_calls() == []
