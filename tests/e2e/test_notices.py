"""Notices that tell the truth, end to end over the emulator: who was reached is said only
of those a notice reached; who could not be is named with the reason, the admins hear of
it once and see it in /tugas and /ringkasan; a person who writes again gets what they
missed; notices written before a crash go out at the next start; cards follow their
record; corrections by someone else are told."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.texts import STEP_NAMES
from bot.texts import overview as overview_texts
from bot.texts import records as record_texts
from bot.texts import steps as step_texts
from sop.clock import ManualClock
from sop.model import RecordView, Role, Step
from tests.conftest import sample_fields
from tests.e2e.harness import ADMIN_ID, BotHarness
from tests.e2e.test_steps import (
    Office,
    Person,
    actions,
    data_of,
    load,
    notice_rows,
    open_via_serahkan,
    pdf,
    receive_notice,
    settled,
    submitted,
)
from tests.emulator import BotApiEmulator, FakeUser
from tests.emulator.models import BotMessage

UNREACHABLE = "Pemberitahuan tidak sampai"
MONDAY = "Senin, 23 November 2026"  # the day the tests' clock starts


@pytest.fixture
async def harness(
    emulator: BotApiEmulator, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BotHarness]:
    """The bot, with the admin's chat open before it starts."""
    emulator.user(ADMIN_ID, "Kepala Admin")
    harness = BotHarness(emulator, tmp_path, clock)
    await harness.start()
    yield harness
    await harness.close()


async def people(harness: BotHarness, *, dewi_started: bool = True) -> Office:
    async def person(tid: int, name: str, *roles: Role, division_id: int | None = None) -> Person:
        phone, actor = await harness.person(tid, name, *roles, division_id=division_id)
        return Person(phone, actor)

    pejabat2: Person
    if dewi_started:
        pejabat2 = await person(302, "Dewi Pejabat", Role.PEJABAT_PPID)
    else:  # added on the command line; has never opened the bot
        runtime = await harness.runtime()
        actor = await runtime.service.add_person(302, "Dewi Pejabat", Role.PEJABAT_PPID)
        pejabat2 = Person(harness.emulator.user(302, "Dewi Pejabat", started=False), actor)
    return Office(
        petugas=await person(101, "Rina Petugas", Role.PETUGAS_PPID, division_id=1),
        dokumentasi=await person(201, "Sari Dokumentasi", Role.PETUGAS_DOKUMENTASI),
        pejabat1=await person(301, "Andi Pejabat", Role.PEJABAT_PPID),
        pejabat2=pejabat2,
    )


def admin(harness: BotHarness) -> FakeUser:
    chat = harness.emulator.chat(ADMIN_ID)
    assert isinstance(chat, FakeUser)
    return chat


async def press_handover(o: Office, record: RecordView) -> BotMessage:
    """Step 2 through the bot; the Dokumentasi's card as the hand-over left it."""
    card = await open_via_serahkan(o.dokumentasi.phone, record)
    query = await o.dokumentasi.phone.press(card, text=record_texts.BUTTON_HANDOVER)
    await o.dokumentasi.phone.wait_for_answer(query)
    return await o.dokumentasi.phone.wait_for_edit(card.message_id)


async def answer_to(user: FakeUser, command: str, needle: str, args: str = "") -> BotMessage:
    user.mark()
    await user.send_command(command, args)
    return await user.wait_for(needle)


async def test_a_blocked_pejabat_is_named_not_reached_and_gets_it_when_back(
    harness: BotHarness,
) -> None:
    o = await people(harness)
    boss = admin(harness)
    dewi = o.pejabat2.phone
    dewi.block()
    first = await submitted(harness, o.petugas.actor, pdf("blocked-1"), title="Memo pertama")

    card = await press_handover(o, first)
    assert "Pejabat PPID yang diberi tahu: Andi Pejabat." in card.text
    assert "Tidak dapat dihubungi: Dewi Pejabat (memblokir bot)" in card.text
    await receive_notice(o.pejabat1.phone, first)
    alert = await boss.wait_for(UNREACHABLE)
    assert "Dewi Pejabat (memblokir bot)" in alert.text and first.number in alert.text

    # A second notice that cannot reach her: the officer is told again, the admins not.
    second = await submitted(harness, o.petugas.actor, pdf("blocked-2"), title="Memo kedua")
    card = await press_handover(o, second)
    assert "Tidak dapat dihubungi: Dewi Pejabat (memblokir bot)" in card.text
    await receive_notice(o.pejabat1.phone, second)
    tasks = await answer_to(boss, "tugas", "tidak sampai")
    assert "Pemberitahuan yang tidak sampai</b> (2)" in (tasks.source_text or "")
    assert f"{second.number} · penerimaan langkah 3 → Dewi Pejabat (memblokir bot)" in tasks.text
    assert sum(1 for m in boss.inbox if m.text and UNREACHABLE in m.text) == 1
    people_list = await answer_to(boss, "pengguna", "Pengguna terdaftar")
    dewi_line = people_list.text.split("Dewi Pejabat", 1)[1].split("•", 1)[0]
    assert "tidak dapat dihubungi: memblokir bot" in dewi_line
    assert (await load(harness, first.id)).state.value == "registered"

    # Dewi unblocks the bot and writes to it: both packages arrive, with their buttons.
    dewi.mark()
    await dewi.send_command("start")
    for record in (first, second):
        notice, document = await receive_notice(dewi, record)
        assert data_of(notice, "accept") is not None
        assert document.document is not None
    tasks = await answer_to(boss, "tugas", "")
    assert "tidak sampai" not in tasks.text
    assert harness.emulator.unanswered_callback_queries() == []


async def test_someone_who_never_opened_the_bot_is_flagged_and_told_once_they_do(
    harness: BotHarness,
) -> None:
    o = await people(harness, dewi_started=False)
    boss = admin(harness)
    for person in (o.dokumentasi, o.pejabat1):  # these two have opened the bot
        await answer_to(person.phone, "start", "Selamat datang")
    people_list = await answer_to(boss, "pengguna", "Pengguna terdaftar")
    lines = people_list.text.split("\n")
    flagged = [lines[i - 2] for i, line in enumerate(lines) if "belum membuka bot" in line]
    assert flagged == ["• Dewi Pejabat", "• Rina Petugas"]  # name, roles, then the flag

    record = await submitted(harness, o.petugas.actor, pdf("never"))
    card = await press_handover(o, record)
    assert "Pejabat PPID yang diberi tahu: Andi Pejabat." in card.text
    assert "Dewi Pejabat (belum membuka bot)" in card.text
    summary = await answer_to(boss, "ringkasan", "Ringkasan")
    assert "Dewi Pejabat (belum membuka bot)" in summary.text

    dewi = o.pejabat2.phone
    await dewi.send_command("start")
    notice, _ = await receive_notice(dewi, record)
    assert data_of(notice, "accept") is not None
    people_list = await answer_to(boss, "pengguna", "Pengguna terdaftar")
    lines = people_list.text.split("\n")
    flagged = [lines[i - 2] for i, line in enumerate(lines) if "belum membuka bot" in line]
    assert flagged == ["• Rina Petugas"]


async def test_notices_written_while_the_bot_was_down_go_out_when_it_starts(
    harness: BotHarness,
) -> None:
    o = await people(harness)
    record = await submitted(harness, o.petugas.actor, pdf("down"))
    await harness.stop()
    # The hand-over commits with its notices; the process that did it dies before sending.
    service = (await harness.runtime()).service
    outcome = await service.complete_handover(o.dokumentasi.actor, record.id)
    rows = [row for row in await notice_rows(harness) if row.id in outcome.notices]
    assert {row.status for row in rows} == {"pending"} and len(rows) == 2

    await harness.start()
    for pejabat in (o.pejabat1, o.pejabat2):
        notice, document = await receive_notice(pejabat.phone, record)
        assert data_of(notice, "accept") is not None
        assert await pejabat.phone.download(document) == pdf("down")
    rows = await settled(harness, outcome.notices)
    assert {row.status for row in rows} == {"delivered"}
    assert all(row.message_id for row in rows)
    assert harness.emulator.failed_calls() == []


async def test_cards_follow_the_record_and_corrections_are_told(
    harness: BotHarness, clock: ManualClock
) -> None:
    o = await people(harness)
    record = await submitted(harness, o.petugas.actor, pdf("follow"), title="Judul salah ketik")
    # Rina and the admin look at the record: their cards are followed.
    rina, boss = o.petugas.phone, admin(harness)
    rina_card = await answer_to(rina, "berkas", record.number, record.number)
    boss_card = await answer_to(boss, "berkas", record.number, record.number)
    assert "Langkah 2: menunggu penyerahan" in rina_card.text

    # Sari corrects the title: Rina (who made it) is told, the cards show the new title.
    sari = o.dokumentasi.phone
    card = await open_via_serahkan(sari, record)
    await sari.press(card, text=step_texts.BUTTON_FIX)
    question = await sari.wait_for("Kolom mana")
    await sari.press(question, text="Judul")
    await sari.wait_for_edit(question.message_id)
    rina.mark()
    await sari.send_text("Judul yang sudah dibetulkan")
    told = await rina.wait_for("diperbaiki oleh Sari Dokumentasi")
    assert "judul" in told.text and "Judul yang sudah dibetulkan" in told.text
    for phone, message in ((rina, rina_card), (boss, boss_card)):
        followed = await phone.wait_for_edit(message.message_id)
        assert "Judul yang sudah dibetulkan" in followed.text

    # The hand-over: the cards move on to step 3 (the admin gets no buttons of it).
    fresh = await load(harness, record.id)
    new_card = await sari.wait_for(lambda m: data_of(m, "handover") is not None)
    await sari.press(new_card, text=record_texts.BUTTON_HANDOVER)
    await receive_notice(o.pejabat1.phone, fresh)
    for phone, message in ((rina, rina_card), (boss, boss_card)):
        followed = await phone.wait_for_edit(message.message_id)
        assert "Langkah 3: menunggu penerimaan" in followed.text
        assert actions(followed) == []
    rows = [row for row in await notice_rows(harness) if row.kind == "corrected"]
    assert [json.loads(row.params)["fields"] for row in rows] == [["title"]]
    assert {row.status for row in rows} == {"delivered"}
    clock.advance(timedelta(minutes=1))  # the overview counts the open step as it is
    summary = await answer_to(boss, "ringkasan", "Ringkasan")
    assert "Langkah 3 (menerima dan menyimpan): 1" in summary.text
    assert "Andi Pejabat (Pejabat PPID): 1" in summary.text


async def test_a_notice_still_on_its_way_is_reported_later_if_it_fails(
    emulator: BotApiEmulator, tmp_path: Path, clock: ManualClock
) -> None:
    emulator.user(ADMIN_ID, "Kepala Admin")
    harness = BotHarness(emulator, tmp_path, clock, notice_wait=timedelta(milliseconds=300))
    await harness.start()
    try:
        o = await people(harness)
        record = await submitted(harness, o.petugas.actor, pdf("later"))
        dewi = o.pejabat2.phone
        held = emulator.slow_down("sendMessage", chat_id=dewi.id)
        card = await press_handover(o, record)
        assert "Pejabat PPID yang diberi tahu: Andi Pejabat." in card.text
        assert "Masih dikirim kepada: Dewi Pejabat" in card.text
        await held.wait()
        # While her package is held on its way, Dewi blocks the bot: it does not arrive.
        dewi.block()
        held.release()
        report = await o.dokumentasi.phone.wait_for("tidak sampai kepada")
        assert record.number in report.text and "Dewi Pejabat (memblokir bot)" in report.text
        alert = await admin(harness).wait_for(UNREACHABLE)
        assert "Dewi Pejabat (memblokir bot)" in alert.text
        # Reported once: the report is not repeated by the next sweeps.
        clock.advance(timedelta(minutes=5))
        await harness.restart()
        await answer_to(o.dokumentasi.phone, "tugas", "")
        reports = [
            m for m in o.dokumentasi.phone.inbox if m.text and "tidak sampai kepada" in m.text
        ]
        assert len(reports) == 1
    finally:
        await harness.close()


async def test_an_upload_answer_that_fails_with_a_5xx_is_sent_again(harness: BotHarness) -> None:
    o = await people(harness)
    rina = o.petugas.phone
    service = (await harness.runtime()).service
    draft = await service.create_draft(o.petugas.actor, sample_fields(1))
    card = await answer_to(rina, "berkas", draft.number, draft.number)
    await rina.press(card, text=record_texts.BUTTON_REDO)
    await rina.wait_for(f"Perbaiki {draft.number}")
    # The file is stored; the answer saying so fails with a 500 once, and is sent again.
    harness.emulator.fail_next(
        "sendMessage", "Internal Server Error", error_code=500, chat_id=rina.id
    )
    await rina.send_document(pdf("5xx-upload"), "surat.pdf", "application/pdf")
    ack = await rina.wait_for("Tersimpan")
    assert "surat.pdf" in ack.text
    [failed] = [call for call in harness.emulator.failed_calls() if call.error_code == 500]
    assert failed.params["text"] == ack.source_text or "Tersimpan" in failed.params["text"]
    assert len((await service.record(o.petugas.actor, draft.id)).files) == 1


async def test_ringkasan_puts_the_longest_overdue_first_and_is_for_admins_only(
    harness: BotHarness, clock: ManualClock
) -> None:
    o = await people(harness)
    service = (await harness.runtime()).service
    first = await submitted(harness, o.petugas.actor, pdf("late-1"), title="Paling lama")
    clock.advance(timedelta(minutes=40))
    second = await service.create_draft(o.petugas.actor, sample_fields(1, title="Draf lama"))
    clock.advance(timedelta(minutes=80))  # 10.00 WIB: step 2 of the first is an hour late
    third = await submitted(harness, o.petugas.actor, pdf("late-3"), title="Tepat waktu")

    summary = await answer_to(admin(harness), "ringkasan", "Ringkasan")
    lines = summary.text.split("\n")
    late = lines.index("Terlambat (2, yang paling lama dahulu):")
    assert lines[late + 1 : late + 5] == [
        f"• {first.number} Paling lama",
        f"  {STEP_NAMES[Step.HANDOVER]}, terlambat 1 jam (batas {MONDAY} 09.00 WIB)",
        f"• {second.number} Draf lama",
        f"  {STEP_NAMES[Step.PRODUCE]}, terlambat 20 menit (batas {MONDAY} 09.40 WIB)",
    ]
    assert third.number not in summary.text  # on time: counted, not listed
    assert "Langkah terbuka: 3 (2 terlambat)" in lines
    assert f"• {STEP_NAMES[Step.PRODUCE]}: 1 (1 terlambat)" in lines
    assert f"• {STEP_NAMES[Step.HANDOVER]}: 2 (1 terlambat)" in lines
    assert f"• {STEP_NAMES[Step.RECEIVE]}: 0" in lines
    people_at = lines.index("Per orang (menunggu mereka):")
    assert lines[people_at + 1 :] == [  # the most overdue, then the busiest, first
        "• Sari Dokumentasi (Petugas Dokumentasi): 2 (1 terlambat)",
        "• Rina Petugas (Petugas PPID): 1 (1 terlambat)",
    ]

    refusal = await answer_to(o.petugas.phone, "ringkasan", "hanya untuk admin")
    assert refusal.text == overview_texts.ADMIN_ONLY
    assert harness.emulator.failed_calls() == []
