"""/tugas on a phone: what waits on each person, overdue marks, and a message that fits."""

from __future__ import annotations

from datetime import timedelta

from sop.clock import ManualClock
from sop.model import Role
from tests.conftest import PDF_BYTES, chunks_of, sample_fields
from tests.e2e.harness import BotHarness


async def test_tasks_fit_one_message_and_show_lateness(
    harness: BotHarness, clock: ManualClock
) -> None:
    rina, actor = await harness.person(101, "Rina", Role.PETUGAS_PPID, division_id=1)
    service = (await harness.runtime()).service
    for i in range(25):
        record = await service.create_draft(actor, sample_fields(title=f"{i:02d} " + "x" * 190))
        await service.attach_file(
            actor, record.id, chunks_of(PDF_BYTES + bytes([i])), "a.pdf", None
        )
    clock.advance(timedelta(hours=1, minutes=5))
    rina.mark()
    await rina.send_command("tugas")
    reply = await rina.wait_for()
    assert "Tugas Anda</b> (25)" in reply.source_text or "Tugas Anda (25)" in reply.text
    assert len(reply.text) <= 4096
    assert "tugas lain" in reply.text
    assert "TERLAMBAT 5 menit" in reply.text
    shown = len(reply.buttons())
    assert 0 < shown < 25
    assert harness.emulator.failed_calls() == []
