"""The one global error handler: an apology with a reference code, the traceback in the
log under the same code, and a bot that keeps running."""

from __future__ import annotations

import logging
import re

import pytest

from sop.model import Role
from sop.service import PpidService
from tests.e2e.harness import BotHarness


async def test_unexpected_failure_gets_apology_with_code(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    rina, _ = await harness.person(101, "Rina", Role.PETUGAS_PPID, division_id=1)

    async def broken(self: PpidService, actor: object) -> object:
        raise RuntimeError("database exploded")

    monkeypatch.setattr(PpidService, "tasks", broken)
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
