"""What /healthz and /metrics count in the database (notices claimed but unsent, overdue
steps; on SQLite and PostgreSQL), and /healthz with the database gone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.config import Settings
from bot.runtime import Runtime
from bot.web import HealthState
from db.repositories import Repository
from sop.clock import ManualClock
from sop.reminder_service import ReminderService
from sop.service import PpidService
from tests.conftest import START, Office, sample_fields

MIN = timedelta(minutes=1)


async def counts(service: PpidService, clock: ManualClock) -> tuple[int, int]:
    async with service.transaction() as repo:
        assert isinstance(repo, Repository)
        return await repo.undelivered_notice_count(), await repo.overdue_step_count(clock.now())


async def test_claimed_unsent_notices_and_overdue_steps_are_counted(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    reminders = ReminderService(service, offsets=(timedelta(minutes=30),))
    record = await service.create_draft(office.petugas, sample_fields())
    assert await counts(service, clock) == (0, 0)
    clock.set(START + 40 * MIN)
    [claimed] = await reminders.claim_due()  # claimed; the bot dies before sending
    assert await counts(service, clock) == (1, 0)
    await reminders.confirm(claimed.claim_id, 1, late=False)
    assert await counts(service, clock) == (0, 0)
    clock.set(START + 61 * MIN)
    assert await counts(service, clock) == (0, 1)  # step 1 is past its hour
    [escalation] = await reminders.claim_due()
    assert await counts(service, clock) == (1, 1)
    await service.cancel_draft(office.petugas, record.id, "Salah bagian")
    # A withdrawn record's step is closed: nothing of it is pending or overdue any more.
    assert await counts(service, clock) == (0, 0)
    assert escalation.claim_id != claimed.claim_id


async def test_health_is_unavailable_while_the_database_is_unreachable(tmp_path: Path) -> None:
    database = tmp_path / "ppidbot.sqlite3"
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{database}",
        storage_dir=tmp_path / "storage",
    )
    runtime = await Runtime.open(settings, clock=ManualClock(START))
    try:
        state = HealthState(runtime)
        ok, body = await state.report()
        assert ok and body["database"] == {"ok": True} and body["pending_notices"] == 0

        await runtime.engine.dispose()
        database.rename(tmp_path / "moved-away.sqlite3")
        database.mkdir()  # what is there now is no database
        ok, body = await state.report()
        assert not ok and body["status"] == "unavailable"
        database_part = body["database"]
        assert isinstance(database_part, dict) and database_part["ok"] is False
        assert "unable to open database file" in str(database_part["error"])
        assert "pending_notices" not in body  # nothing read from a database that is not there
        assert body["storage"] == {"ok": True, "location": str(tmp_path / "storage")}
    finally:
        await runtime.close()
