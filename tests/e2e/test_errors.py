"""The one global error handler: an apology with a reference code, the traceback in the
log under the same code, and a bot that keeps running."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy.exc import OperationalError

from bot.texts import records as record_texts
from sop.model import Role
from sop.register import RegisterService
from sop.service import PpidService
from tests.conftest import sample_fields
from tests.e2e.harness import BotHarness


async def test_unexpected_failure_gets_apology_with_code(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    rina, _ = await harness.person(101, "Rina", Role.PETUGAS_PPID, division_id=1)

    async def broken(self: PpidService, actor: object, **_: object) -> object:
        raise RuntimeError("database exploded")

    monkeypatch.setattr(PpidService, "task_page", broken)
    caplog.set_level(logging.ERROR, logger="handlers.errors")
    rina.mark()
    await rina.send_command("tugas")
    apology = await rina.wait_for("kesalahan")
    match = re.search(r"kode rujukan ([0-9A-F]{8})", apology.text)
    assert match, apology.text
    assert "Traceback" not in apology.text and "exploded" not in apology.text
    logged = [r for r in caplog.records if match.group(1) in r.getMessage()]
    assert logged and logged[0].exc_info is not None
    assert "database exploded" in str(logged[0].exc_info[1])

    # The bot is still there for the next message.
    monkeypatch.undo()
    rina.mark()
    await rina.send_command("bantuan")
    assert "Bantuan" in (await rina.wait_for()).text


async def test_button_failing_after_its_answer_still_gets_the_apology(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The handler answered the button, then failed: answering again is refused by Telegram
    ("query is too old"), and the apology must go out as a message all the same."""
    rina, rina_actor = await harness.person(101, "Rina", Role.PETUGAS_PPID, division_id=1)
    service = (await harness.runtime()).service
    await service.create_draft(rina_actor, sample_fields())
    rina.mark()
    await rina.send_command("tugas")
    tasks = await rina.wait_for("Tugas Anda")

    async def broken(self: RegisterService, actor: object, record: object) -> object:
        raise RuntimeError("details exploded")

    monkeypatch.setattr(RegisterService, "details", broken)
    query = await rina.press(tasks, text="Buka BRK-1")
    apology = await rina.wait_for("kesalahan")
    assert re.search(r"kode rujukan [0-9A-F]{8}", apology.text)
    assert (await rina.wait_for_answer(query))["text"] is None  # the handler's own answer


async def test_a_failing_access_guard_stops_the_update_with_one_apology(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    rina, _ = await harness.person(101, "Rina", Role.PETUGAS_PPID, division_id=1)

    async def locked(self: PpidService, telegram_id: int) -> object:
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(PpidService, "actor_by_telegram", locked)
    rina.mark()
    await rina.send_command("tugas")
    await rina.wait_for("kesalahan")
    monkeypatch.undo()
    await rina.send_command("bantuan")
    await rina.wait_for("Bantuan")
    texts = [m.text for m in rina.inbox]
    assert sum("kesalahan" in text for text in texts) == 1, texts
    assert not any(record_texts.NO_TASKS in text for text in texts), texts  # /tugas never ran


async def test_a_press_delivered_after_the_query_expired_is_still_carried_out(
    harness: BotHarness,
) -> None:
    """A button pressed while the bot was down comes when it is back, after the press's
    callback query expired (15 minutes): answering it is refused ("query is too old"),
    which must not stop the handler nor make an apology of a press that worked."""
    rina, rina_actor = await harness.person(101, "Rina", Role.PETUGAS_PPID, division_id=1)
    service = (await harness.runtime()).service
    draft = await service.create_draft(rina_actor, sample_fields())
    rina.mark()
    await rina.send_command("tugas")
    tasks = await rina.wait_for("Tugas Anda")
    await harness.stop()
    rina.mark()
    await rina.press(tasks, text=f"Buka {draft.number}")
    harness.emulator.advance_clock(16 * 60)
    await harness.start()
    card = await rina.wait_for("Status:")
    assert draft.number in card.text
    assert not [m for m in rina.inbox if m.text and "kesalahan" in m.text]
