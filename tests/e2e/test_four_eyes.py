"""Four-eyes at step 3 over the emulator: with FOUR_EYES=strict the person who produced a
record is neither told nor able to accept it; with FOUR_EYES=standard they may."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.texts import records as record_texts
from sop.clock import ManualClock
from sop.model import Role, State, Step
from tests.e2e.harness import BotHarness
from tests.e2e.test_steps import data_of, load, office, open_via_serahkan, pdf, submitted
from tests.emulator import BotApiEmulator


async def test_strict_the_producer_may_not_accept(harness: BotHarness) -> None:
    o = await office(harness)
    yusuf, yusuf_actor = await harness.person(
        401, "Yusuf Ganda", Role.PETUGAS_PPID, Role.PEJABAT_PPID, division_id=1
    )
    record = await submitted(harness, yusuf_actor, pdf("strict"))
    card = await open_via_serahkan(o.dokumentasi.phone, record)
    yusuf.mark()
    await o.dokumentasi.phone.press(card, text=record_texts.BUTTON_HANDOVER)
    edited = await o.dokumentasi.phone.wait_for_edit(card.message_id)
    assert "Andi Pejabat, Dewi Pejabat" in edited.text
    assert "Yusuf" not in edited.text.split("diberi tahu:")[1]
    await o.pejabat1.phone.wait_for("menunggu penerimaan Anda")

    registered = await load(harness, record.id)
    await yusuf.send_command("berkas", registered.number)
    own_card = await yusuf.wait_for(registered.number)
    assert data_of(own_card, "accept") is None and data_of(own_card, "return") is None
    assert not [m for m in yusuf.inbox if m.text and "menunggu penerimaan Anda" in m.text]
    query = await yusuf.press_raw(
        own_card.message_id, f"act:accept:{record.id}:{registered.version}"
    )
    answer = await yusuf.wait_for_answer(query)
    assert "minimal 2 orang" in answer["text"] and "membuat berkas" in answer["text"]
    assert (await load(harness, record.id)).state is State.REGISTERED
    assert harness.emulator.failed_calls() == []


@pytest.fixture
async def standard_harness(
    emulator: BotApiEmulator, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BotHarness]:
    harness = BotHarness(emulator, tmp_path, clock, four_eyes="standard")
    await harness.start()
    yield harness
    await harness.close()


async def test_standard_the_only_pejabat_accepts_what_they_produced(
    standard_harness: BotHarness,
) -> None:
    harness = standard_harness
    sari, _ = await harness.person(201, "Sari Dokumentasi", Role.PETUGAS_DOKUMENTASI)
    yusuf, yusuf_actor = await harness.person(
        401, "Yusuf Ganda", Role.PETUGAS_PPID, Role.PEJABAT_PPID, division_id=1
    )
    record = await submitted(harness, yusuf_actor, pdf("standard"))
    card = await open_via_serahkan(sari, record)
    yusuf.mark()
    await sari.press(card, text=record_texts.BUTTON_HANDOVER)
    notice = await yusuf.wait_for("menunggu penerimaan Anda")
    await yusuf.press(notice, text=record_texts.BUTTON_ACCEPT)
    await yusuf.wait_for_edit(notice.message_id)
    stored = await load(harness, record.id)
    assert stored.state is State.STORED
    assert stored.completer(Step.RECEIVE) == yusuf_actor.user_id
