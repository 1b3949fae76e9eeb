"""Several people at once over the emulator: one person's slow upload never holds up
another's button, and one person's quick messages are still handled in the order sent."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from bot.persistence import USER_DATA
from bot.texts import records as record_texts
from bot.texts import steps as step_texts
from handlers import new_record
from sop.clock import ManualClock
from sop.model import Role, State
from tests.e2e.flows import fill_in
from tests.e2e.harness import BotHarness
from tests.e2e.test_steps import load, office, open_via_serahkan, pdf, submitted
from tests.emulator import BotApiEmulator

UPLOAD_BYTES = 20_000_000


async def test_a_press_is_answered_while_another_person_uploads_20_mb(
    emulator: BotApiEmulator, tmp_path: Path, clock: ManualClock
) -> None:
    harness = BotHarness(emulator, tmp_path, clock, max_file_size=21 * 1024 * 1024)
    await harness.start()
    try:
        o = await office(harness)
        record = await submitted(harness, o.petugas.actor, pdf("press-during-upload"))
        card = await open_via_serahkan(o.dokumentasi.phone, record)
        await fill_in(o.petugas.phone, "Unggahan besar")

        # The 20 MB softcopy trickles in (about 20 s at this rate) until released.
        slow = emulator.slow_download(bytes_per_second=1_000_000)
        payload = b"%PDF-1.4\n" + os.urandom(UPLOAD_BYTES - 9)
        await o.petugas.phone.send_document(payload, "besar.pdf", "application/pdf")
        download = await slow.wait()

        query = await o.dokumentasi.phone.press(card, text=record_texts.BUTTON_HANDOVER)
        answer = await o.dokumentasi.phone.wait_for_answer(query, timeout=5)
        assert answer["text"] == step_texts.ANSWER_HANDED_OVER
        assert not slow.finished.is_set(), "the press waited for the upload"
        assert download.outcome == "pending"

        slow.release()
        await o.petugas.phone.wait_for("Tersimpan", timeout=60)
        assert (await load(harness, record.id)).state is State.REGISTERED
        assert harness.emulator.failed_calls() == []
    finally:
        await harness.close()


async def test_each_persons_quick_messages_are_handled_in_order_under_load(
    harness: BotHarness,
) -> None:
    """Ten officers each send /baru and their title at once, without waiting for the
    question in between: every title lands in its own person's new draft (were the two
    messages of one person handled at the same time or swapped, the title would reach no
    conversation and the bot would still be asking for it)."""
    people = [
        (await harness.person(500 + n, f"Petugas {n}", Role.PETUGAS_PPID, division_id=1))[0]
        for n in range(10)
    ]

    async def start_with_title(n: int) -> None:
        phone = people[n]
        phone.mark()
        await phone.send_command("baru")
        await phone.send_text(f"Judul dokumen nomor {n}")

    await asyncio.gather(*(start_with_title(n) for n in range(len(people))))
    for phone in people:
        await phone.wait_for("Bagian:")
    assert harness.emulator.failed_calls() == []

    # What was saved for each person (after the bot's last write at stop) is their own
    # conversation at the division question, with their own title.
    await harness.stop()
    runtime = await harness.runtime()
    async with runtime.service.transaction() as repo:
        saved = {int(row.key): json.loads(row.data) for row in await repo.kv_all(USER_DATA)}
    for n, phone in enumerate(people):
        assert saved[phone.id][new_record.KEY]["fields"]["title"] == f"Judul dokumen nomor {n}"
