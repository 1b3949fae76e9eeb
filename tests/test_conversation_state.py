"""Conversation state and domain state together: a draft is created once per /baru
conversation however often its last answer arrives, and the bot's persistence writes
conversations, user data and the handled update ids in one transaction."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.persistence import BOT, CONVERSATION, HANDLED_UPDATES, USER_DATA, DatabasePersistence
from db.models import AuditRow, KeyValueRow, RecordRow
from db.session import create_sessionmaker
from sop.clock import ManualClock
from sop.service import PpidService
from tests.conftest import Office, sample_fields


async def count(engine: AsyncEngine, query: object) -> int:
    async with create_sessionmaker(engine)() as session:
        return int(await session.scalar(query))  # type: ignore[call-overload]


async def test_one_draft_per_conversation(
    service: PpidService, office: Office, engine: AsyncEngine
) -> None:
    first = await service.create_draft(office.petugas, sample_fields(), origin_key="a" * 32)
    again = await service.create_draft(office.petugas, sample_fields(), origin_key="a" * 32)
    assert again.id == first.id
    assert await service.draft_of_origin(office.petugas, "a" * 32) == again
    other = await service.create_draft(office.petugas, sample_fields(), origin_key="b" * 32)
    assert other.id != first.id
    plain = await service.create_draft(office.petugas, sample_fields())  # no conversation
    assert plain.id not in {first.id, other.id}
    assert await count(engine, select(func.count()).select_from(RecordRow)) == 3
    created = select(func.count()).where(AuditRow.action == "record.created")
    assert await count(engine, created) == 3
    # Someone else never sees another person's conversation's draft through its key.
    assert await service.draft_of_origin(office.petugas_other, "a" * 32) is None


async def test_persistence_commits_everything_at_once(
    engine: AsyncEngine, clock: ManualClock
) -> None:
    sessions = create_sessionmaker(engine)
    persistence = DatabasePersistence(sessions, clock)
    await persistence.load_handled()
    await persistence.update_user_data(101, {"baru": {"stage": 11, "record_id": 1}})
    await persistence.update_conversation("baru", (101, 101), 11)
    persistence.handled(700_000_001)
    # Nothing is written until the commit: a crash before it loses all of it together.
    assert await count(engine, select(func.count()).select_from(KeyValueRow)) == 0
    await persistence.commit()

    again = DatabasePersistence(sessions, clock)
    await again.load_handled()
    assert again.was_handled(700_000_001) and not again.was_handled(700_000_002)
    assert (await again.get_user_data())[101] == {"baru": {"stage": 11, "record_id": 1}}
    assert await again.get_conversations("baru") == {(101, 101): 11}

    await again.update_conversation("baru", (101, 101), None)
    await again.drop_user_data(101)
    for update_id in range(700_000_002, 700_000_500):
        again.handled(update_id)
    await again.flush()
    async with sessions() as session:
        rows = {(r.namespace, r.key): r.data for r in await session.scalars(select(KeyValueRow))}
    assert (USER_DATA, "101") not in rows
    assert (CONVERSATION + "baru", "[101, 101]") not in rows
    kept = json.loads(rows[(BOT, HANDLED_UPDATES)])
    assert kept[-1] == 700_000_499 and len(kept) == 200  # only the latest are remembered
