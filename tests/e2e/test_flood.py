"""Telegram's flood limits never drop a message: the emulator answers over-limit sends with
429 and ``retry_after`` (about Telegram's real figures: 1 a second per chat after a burst of
3, 30 a second overall, album items counted one by one), and the bot runs with its default
limits. Every message the bot meant to send arrives; a refused one is sent again."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.texts import new_record as nr
from bot.texts import records as record_texts
from db.models import ReminderSentRow
from sop.clock import ManualClock
from sop.model import Role, State
from tests.conftest import chunks_of, sample_fields
from tests.e2e.harness import ADMIN_ID, FLOOD_LIMITS, BotHarness
from tests.e2e.test_steps import data_of, load, notice_rows, open_via_serahkan, pdf, settled
from tests.emulator import BotApiEmulator, FakeUser
from tests.emulator.models import ApiCall

WAIT = 30.0  # generous: the flood limits make the bot wait, a slow machine more so


@pytest.fixture
async def harness(
    emulator: BotApiEmulator, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BotHarness]:
    """The bot with Telegram's limits (its defaults), checking the database often."""
    emulator.user(ADMIN_ID, "Kepala Admin")
    harness = BotHarness(
        emulator,
        tmp_path,
        clock,
        reminder_check_interval=timedelta(milliseconds=200),
        **FLOOD_LIMITS,
    )
    await harness.start()
    yield harness
    await harness.close()


def _sent(call: ApiCall) -> tuple[str, object, str]:
    """What a send is about: method, chat, and its content."""
    content = call.params.get("text") or call.params.get("caption") or call.params.get("media")
    return call.method.lower(), call.params.get("chat_id"), json.dumps(content, default=str)


async def assert_nothing_dropped(emulator: BotApiEmulator) -> None:
    """Every send the flood limit refused was sent again, and went through (waiting for
    the retries still on their way: a card edited in the background, say)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while True:
        delivered = {_sent(call) for call in emulator.calls if call.ok}
        dropped = [call for call in emulator.flood_refused if _sent(call) not in delivered]
        if not dropped or loop.time() > deadline:
            break
        await asyncio.sleep(0.05)
    assert dropped == [], f"refused and never sent again: {dropped}"


async def test_a_step_3_package_of_12_softcopies_reaches_each_pejabat_complete(
    harness: BotHarness,
) -> None:
    emulator = harness.emulator
    _, rina_actor = await harness.person(101, "Rina Petugas", Role.PETUGAS_PPID, division_id=1)
    sari, _ = await harness.person(201, "Sari Dokumentasi", Role.PETUGAS_DOKUMENTASI)
    andi, _ = await harness.person(301, "Andi Pejabat", Role.PEJABAT_PPID)
    dewi, _ = await harness.person(302, "Dewi Pejabat", Role.PEJABAT_PPID)
    service = (await harness.runtime()).service
    draft = await service.create_draft(rina_actor, sample_fields(1, title="Dua belas lampiran"))
    contents = {f"lampiran-{n:02d}.pdf": pdf(f"bundle-{n}") for n in range(1, 13)}
    for name, data in contents.items():
        await service.attach_file(rina_actor, draft.id, chunks_of(data), name, "application/pdf")
    record = (await service.complete_produce(rina_actor, draft.id, verified=True)).record
    emulator.flood_limits()

    card = await open_via_serahkan(sari, record)
    await sari.press(card, text=record_texts.BUTTON_HANDOVER)
    closed = await sari.wait_for_edit(card.message_id, timeout=WAIT)
    assert "Pejabat PPID yang diberi tahu: Andi Pejabat, Dewi Pejabat." in closed.text

    for pejabat in (andi, dewi):
        notice = await pejabat.wait_for("menunggu penerimaan Anda", timeout=WAIT)
        assert "Softcopy (12) dikirim di bawah pesan ini" in notice.text
        assert data_of(notice, "accept") is not None
        documents = [
            await pejabat.wait_for(lambda m: m.kind == "document", timeout=WAIT) for _ in range(12)
        ]
        received = {
            m.document["file_name"]: await pejabat.download(m) for m in documents if m.document
        }
        assert received == contents
        for message in documents:
            assert message.document is not None
            digest = hashlib.sha256(contents[message.document["file_name"]]).hexdigest()
            assert digest in (message.text or "")
        # In as few messages as Telegram allows: an album of 10 and one of 2.
        albums = [
            call
            for call in emulator.calls_to("sendMediaGroup")
            if call.ok and call.params.get("chat_id") == pejabat.id
        ]
        assert [len(call.params["media"]) for call in albums] == [10, 2]
    await assert_nothing_dropped(emulator)
    packages = [row.id for row in await notice_rows(harness) if row.kind == "receive"]
    assert {row.status for row in await settled(harness, tuple(packages))} == {"delivered"}
    runtime = await harness.runtime()
    admin = await runtime.service.actor_by_telegram(ADMIN_ID)
    assert admin is not None
    trail = await runtime.service.audit_trail(admin, record.id)
    assert len([e for e in trail if e.action == "file.sent"]) == 24
    assert (await load(harness, record.id)).state is State.REGISTERED


async def test_an_album_of_3_pdfs_is_stored_and_every_answer_arrives(
    harness: BotHarness,
) -> None:
    emulator = harness.emulator
    emulator.flood_limits()
    rina, rina_actor = await harness.person(101, "Rina Petugas", Role.PETUGAS_PPID, division_id=1)
    service = (await harness.runtime()).service
    draft = await service.create_draft(rina_actor, sample_fields(1, title="Tiga PDF sekaligus"))
    # Rina opens her draft and goes on with it: the softcopies are asked for.
    await rina.send_command("berkas", draft.number)
    card = await rina.wait_for(draft.number, timeout=WAIT)
    await rina.press(card, text=record_texts.BUTTON_REDO)
    await rina.wait_for(f"Perbaiki {draft.number}", timeout=WAIT)
    files = {f"bagian-{n}.pdf": pdf(f"album-{n}") for n in (1, 2, 3)}
    for name, data in files.items():
        await rina.send_document(data, name, "application/pdf", media_group_id="album-1")
    ack = await rina.wait_for(
        lambda m: m.text is not None and "Lampiran: 3" in m.text, timeout=WAIT
    )
    await rina.press(ack, text=nr.BUTTON_FILES_DONE)
    card = await rina.wait_for("Syarat SOP", timeout=WAIT)
    await rina.press(card, text=nr.BUTTON_VERIFIED)
    await rina.wait_for("Langkah 1 selesai", timeout=WAIT)
    runtime = await harness.runtime()
    admin = await runtime.service.actor_by_telegram(ADMIN_ID)
    assert admin is not None
    record = await runtime.service.record(admin, 1)
    assert sorted(f.original_name for f in record.files) == sorted(files)
    assert record.state is State.SUBMITTED
    # One acknowledgement for the album, no answer per item, and no apology anywhere.
    texts = [m.text for m in rina.inbox if m.text]
    assert len([text for text in texts if "Lampiran:" in text]) == 1
    assert "Album: 3 berkas tersimpan" in ack.text
    assert not [text for text in texts if text.startswith("📎 Tersimpan") or "Maaf" in text]
    await assert_nothing_dropped(emulator)


async def test_100_reminders_due_at_once_to_10_chats_are_all_delivered(
    harness: BotHarness, clock: ManualClock
) -> None:
    emulator = harness.emulator
    officers: list[FakeUser] = []
    creator = None
    for n in range(10):
        phone, actor = await harness.person(
            110 + n, f"Petugas {n}", Role.PETUGAS_PPID, division_id=1
        )
        officers.append(phone)
        creator = creator or actor
    assert creator is not None
    service = (await harness.runtime()).service
    drafts = [
        await service.create_draft(creator, sample_fields(1, title=f"Draf nomor {n}"))
        for n in range(10)
    ]
    emulator.flood_limits()
    clock.advance(timedelta(minutes=30))  # the first reminder of all ten drafts is due

    async def reminders_of(phone: FakeUser) -> set[str]:
        found: set[str] = set()
        for _ in range(10):
            message = await phone.wait_for("Pengingat", timeout=WAIT)
            found |= {d.number for d in drafts if f"{d.number} ·" in message.text}
        return found

    received = await asyncio.gather(*(reminders_of(phone) for phone in officers))
    assert received == [{d.number for d in drafts}] * 10
    await assert_nothing_dropped(emulator)

    async def confirmed() -> list[ReminderSentRow]:
        """The claims once each is confirmed (just after its last message went)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while True:
            async with service.transaction() as repo:
                rows = list((await repo.session.scalars(select(ReminderSentRow))).all())
            if all(row.delivered_at is not None for row in rows) or loop.time() > deadline:
                return rows
            await asyncio.sleep(0.05)

    rows = await confirmed()
    assert len(rows) == 10
    assert {row.recipients for row in rows} == {10}
