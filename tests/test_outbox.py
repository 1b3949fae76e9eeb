"""The outbox as the domain keeps it, on SQLite and PostgreSQL: notices written with the
action that causes them, claimed by one worker only, superseded when no longer true,
their results recorded, people's reachability, and what admins and actors are told."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from db.models import NoticeRow, UserRow
from sop.clock import ManualClock
from sop.errors import PermissionDenied, StaleAction
from sop.model import Role, Step
from sop.notices import NoticeKind, Reason
from sop.outbox import OutboxService, Reach, Sent
from sop.service import PpidService
from tests.conftest import PDF_BYTES, Office, chunks_of, sample_fields


async def rows(service: PpidService) -> list[NoticeRow]:
    async with service.transaction() as repo:
        return list((await repo.session.scalars(select(NoticeRow).order_by(NoticeRow.id))).all())


async def submitted(service: PpidService, office: Office, tag: str = "a") -> int:
    draft = await service.create_draft(office.petugas, sample_fields())
    await service.attach_file(
        office.petugas, draft.id, chunks_of(PDF_BYTES + tag.encode()), "surat.pdf", None
    )
    await service.complete_produce(office.petugas, draft.id, verified=True)
    return draft.id


async def test_each_step_writes_its_notices_in_its_own_transaction(
    service: PpidService, office: Office
) -> None:
    draft = await service.create_draft(office.petugas, sample_fields())
    assert await rows(service) == []  # nothing waits on anyone else yet
    await service.attach_file(office.petugas, draft.id, chunks_of(PDF_BYTES), "s.pdf", None)
    step1 = await service.complete_produce(office.petugas, draft.id, verified=True)
    [to_dokumentasi] = await rows(service)
    assert step1.notices == (to_dokumentasi.id,)
    assert (to_dokumentasi.kind, to_dokumentasi.recipient_id, to_dokumentasi.status) == (
        NoticeKind.NEXT_STEP,
        office.dokumentasi.user_id,
        "pending",
    )
    assert to_dokumentasi.actor_id == office.petugas.user_id
    assert json.loads(to_dokumentasi.params) == {
        "step": 1,
        "version": step1.record.version,
        "who": "Rina Petugas",
    }

    step2 = await service.complete_handover(office.dokumentasi, draft.id)
    receive = [r for r in await rows(service) if r.id in step2.notices]
    assert {(r.kind, r.recipient_id) for r in receive} == {
        (NoticeKind.RECEIVE, office.pejabat.user_id),
        (NoticeKind.RECEIVE, office.pejabat2.user_id),
    }

    returned = await service.return_record(office.pejabat, draft.id, Step.PRODUCE, "Kurang lengkap")
    back = [r for r in await rows(service) if r.id in returned.notices]
    # The one who must redo step 1 is asked to; the others who acted are told.
    assert {(r.kind, r.recipient_id) for r in back} == {
        (NoticeKind.RETURNED, office.petugas.user_id),
        (NoticeKind.RETURN_INFO, office.dokumentasi.user_id),
    }
    assert {json.loads(r.params)["reason"] for r in back} == {"Kurang lengkap"}
    assert returned.record.runs[-2].reason == "Kurang lengkap"

    await service.complete_produce(office.petugas, draft.id, verified=True)
    await service.update_fields(office.dokumentasi, draft.id, {"title": "Judul yang benar"})
    corrected = [r for r in await rows(service) if r.kind == NoticeKind.CORRECTED]
    # Everyone who acted on it (the one who returned it too), not the corrector.
    assert {r.recipient_id for r in corrected} == {
        office.petugas.user_id,
        office.pejabat.user_id,
    }
    assert {tuple(json.loads(r.params)["fields"]) for r in corrected} == {("title",)}
    # A correction of one's own draft tells nobody.
    other = await service.create_draft(office.petugas, sample_fields())
    before = len(await rows(service))
    await service.update_fields(office.petugas, other.id, {"title": "Judul lain"})
    assert len(await rows(service)) == before


async def test_an_action_that_fails_leaves_no_notice(service: PpidService, office: Office) -> None:
    record_id = await submitted(service, office)
    before = len(await rows(service))
    with pytest.raises(StaleAction):
        await service.complete_handover(office.dokumentasi, record_id, expected_version=1)
    assert len(await rows(service)) == before


async def test_a_notice_is_claimed_by_one_worker_only(service: PpidService, office: Office) -> None:
    await submitted(service, office)
    outbox = OutboxService(service)
    [notice_id] = await outbox.due()
    tokens = [outbox.new_token() for _ in range(6)]
    claims = await asyncio.gather(*(outbox.claim(notice_id, token) for token in tokens))
    won = [claim for claim in claims if claim is not None]
    assert len(won) == 1
    assert won[0].recipient.user_id == office.dokumentasi.user_id
    assert won[0].record is not None and won[0].record.state.value == "submitted"
    assert await outbox.due() == []  # being sent


async def test_a_silent_sender_loses_its_claim_after_the_lease(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    await submitted(service, office)
    outbox = OutboxService(service, lease=timedelta(minutes=2))
    [notice_id] = await outbox.due()
    first = await outbox.claim(notice_id, "first")
    assert first is not None
    clock.advance(timedelta(minutes=1))
    assert await outbox.claim(notice_id, "second") is None
    clock.advance(timedelta(minutes=2))
    assert await outbox.due() == [notice_id]
    second = await outbox.claim(notice_id, "second")
    assert second is not None and second.attempts == 2
    # The first sender's late result does not overwrite the second's claim.
    await outbox.finish(first, Sent(True, message_id=7))
    [row] = await rows(service)
    assert row.status == "sending" and row.claim == "second"
    await outbox.finish(second, Sent(True, message_id=8))
    [row] = await rows(service)
    assert (row.status, row.message_id) == ("delivered", 8)


async def test_a_notice_about_a_record_that_moved_on_is_superseded(
    service: PpidService, office: Office
) -> None:
    record_id = await submitted(service, office)
    await service.complete_handover(office.dokumentasi, record_id)
    outbox = OutboxService(service)
    await service.complete_receive(office.pejabat, record_id)
    # The step-1 notice to the Dokumentasi and Dewi's step-3 package are no longer true.
    stale = [r.id for r in await rows(service) if r.kind in (NoticeKind.NEXT_STEP, "receive")]
    for notice_id in stale:
        assert await outbox.claim(notice_id, outbox.new_token()) is None
    statuses = {r.id: r.status for r in await rows(service)}
    assert {statuses[i] for i in stale} == {"superseded"}
    # The news that it is stored is still true: it goes out.
    stored = [r.id for r in await rows(service) if r.kind == NoticeKind.STORED]
    assert stored and all(await asyncio.gather(*(outbox.claim(i, "t") for i in stored)))


async def test_a_failure_makes_the_person_unreachable_and_tells_the_admins_once(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    outbox = OutboxService(service)
    first = await submitted(service, office, "1")
    second = await submitted(service, office, "2")
    for record_id in (first, second):
        await service.complete_handover(office.dokumentasi, record_id)
    to_dewi = [
        r.id
        for r in await rows(service)
        if r.kind == NoticeKind.RECEIVE and r.recipient_id == office.pejabat2.user_id
    ]
    assert len(to_dewi) == 2
    blocked = Sent(False, reason=Reason.BLOCKED, detail="Forbidden: bot was blocked by the user")
    alerts = []
    for notice_id in to_dewi:
        claimed = await outbox.claim(notice_id, "t")
        assert claimed is not None
        alerts.append(await outbox.finish(claimed, blocked))
    assert len(alerts[0]) == 1 and alerts[1] == ()  # one admin, told once
    [alert] = [r for r in await rows(service) if r.id in alerts[0]]
    assert (alert.kind, alert.recipient_id) == (NoticeKind.UNREACHABLE, office.admin.user_id)
    assert json.loads(alert.params)["who"] == "Dewi Pejabat"
    reach = await outbox.reachability([office.pejabat2.user_id, office.pejabat.user_id])
    assert reach[office.pejabat2.user_id].unreachable is Reason.BLOCKED
    assert reach[office.pejabat.user_id].opened is False  # never wrote, never reached

    failures = await outbox.open_failures(office.admin)
    assert failures.total == 2
    assert {(f.recipient_name, f.reason) for f in failures.latest} == {
        ("Dewi Pejabat", Reason.BLOCKED)
    }
    with pytest.raises(PermissionDenied):
        await outbox.open_failures(office.dokumentasi)

    # The actor hears once: whoever claims the report tells them.
    reports = await asyncio.gather(*(outbox.claim_reports(to_dewi) for _ in range(3)))
    assert sorted(len(r) for r in reports) == [0, 0, 2]

    # Dewi writes to the bot again: both packages go out again, the failures are settled,
    # and a later failure would alert the admins again.
    assert await outbox.contacted(office.pejabat2.telegram_id) is True
    assert {r.status for r in await rows(service) if r.id in to_dewi} == {"pending"}
    assert (await outbox.open_failures(office.admin)).total == 0
    reach = await outbox.reachability([office.pejabat2.user_id])
    assert reach[office.pejabat2.user_id] == Reach(opened=True, unreachable=None)
    assert await outbox.contacted(office.pejabat2.telegram_id) is False  # nothing new


async def test_transient_failures_are_tried_again_later_then_given_up(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    await submitted(service, office)
    outbox = OutboxService(service, max_attempts=3, retry_base=timedelta(minutes=1))
    [notice_id] = await outbox.due()
    down = Sent(False, reason=Reason.FAILED, detail="Bad Gateway", transient=True)
    for attempt, wait in ((1, 1), (2, 2)):
        claimed = await outbox.claim(notice_id, f"t{attempt}")
        assert claimed is not None and claimed.attempts == attempt
        assert await outbox.finish(claimed, down) == ()
        assert await outbox.due() == []
        clock.advance(timedelta(minutes=wait))
        assert await outbox.due() == [notice_id]
    claimed = await outbox.claim(notice_id, "t3")
    assert claimed is not None
    alerts = await outbox.finish(claimed, down)
    [row] = [r for r in await rows(service) if r.id == notice_id]
    assert (row.status, row.reason) == ("undelivered", Reason.FAILED)
    assert len(alerts) == 1  # not about the person: the admins hear of this notice
    async with service.transaction() as repo:
        user = await repo.user(office.dokumentasi.user_id)
        assert user is not None and user.unreachable_at is None


async def test_direct_messages_that_fail_are_recorded_and_reminders_not_resent(
    service: PpidService, office: Office
) -> None:
    outbox = OutboxService(service)
    alerts = await outbox.record_failure(
        office.petugas, Reason.NOT_STARTED, "Forbidden: bot can't initiate", kind="reminder"
    )
    assert len(alerts) == 1
    await outbox.record_failure(
        office.petugas, Reason.NOT_STARTED, None, kind=NoticeKind.MESSAGE, params={"text": "Hai"}
    )
    assert (await outbox.open_failures(office.admin)).total == 2
    assert await outbox.contacted(office.petugas.telegram_id) is True
    by_kind = {r.kind: r for r in await rows(service) if r.recipient_id == office.petugas.user_id}
    # A reminder's moment has passed: settled, not sent again; the message goes again.
    assert by_kind["reminder"].status == "undelivered" and by_kind["reminder"].resolved_at
    assert by_kind["message"].status == "pending"
    assert (await outbox.open_failures(office.admin)).total == 0


async def test_who_has_opened_the_bot(service: PpidService, office: Office) -> None:
    outbox = OutboxService(service)
    code = (await service.create_invitation(office.admin, Role.PETUGAS_DOKUMENTASI)).code
    invited, _ = await service.redeem_invitation(code, 555, "Tamu Baru", None)
    reach = await outbox.reachability([invited.user_id, office.petugas.user_id])
    assert reach[invited.user_id].opened  # redeeming means writing to the bot
    assert not reach[office.petugas.user_id].opened  # added by the CLI, never wrote
    await outbox.reached(office.petugas.user_id)
    assert (await outbox.reachability([office.petugas.user_id]))[office.petugas.user_id].opened
    async with service.transaction() as repo:
        await repo.session.execute(
            update(UserRow).where(UserRow.id == office.petugas.user_id).values(contacted_at=None)
        )
    assert await outbox.contacted(office.petugas.telegram_id) is False  # no failures to resend
    assert (await outbox.reachability([office.petugas.user_id]))[office.petugas.user_id].opened


async def test_a_chat_keeps_the_latest_cards_of_a_record_followed(
    service: PpidService, office: Office
) -> None:
    outbox = OutboxService(service)
    record_id = await submitted(service, office)
    record = await service.record(office.admin, record_id)
    chat = office.admin.telegram_id
    # Tracked out of order (a notice's card is tracked after a later /berkas card).
    stripped = []
    for message_id in (20, 10, 30, 40, 50):
        stripped += [
            card.message_id
            for card in await outbox.track_card(record, office.admin, chat, message_id)
        ]
    assert sorted(stripped) == [10, 20]  # the oldest lose their buttons, not the last tracked
    assert sorted(card.message_id for card in await outbox.cards(record_id)) == [30, 40, 50]
    # Another chat's cards are its own.
    assert await outbox.track_card(record, office.pejabat, office.pejabat.telegram_id, 5) == []


async def test_a_card_closed_before_its_notice_was_tracked_stays_closed(
    service: PpidService, office: Office
) -> None:
    """A notice's card is pressed (and closed, the record final) before the sender got to
    track it: tracking it then with the older version must not bring it back to be
    refreshed, which would edit it again with the same text ("message is not modified")."""
    outbox = OutboxService(service)
    record_id = await submitted(service, office)
    sent = await service.record(office.dokumentasi, record_id)
    chat = office.dokumentasi.telegram_id
    await service.complete_handover(office.dokumentasi, record_id)
    now = await service.record(office.dokumentasi, record_id)
    assert now.version > sent.version
    await outbox.track_card(now, office.dokumentasi, chat, 7, note="Diserahkan")
    await outbox.retire_cards([card.id for card in await outbox.cards(record_id)])

    assert await outbox.track_card(sent, office.dokumentasi, chat, 7) == []
    assert await outbox.cards(record_id) == []
    # A card that is simply tracked again at the same or a later version is followed.
    await outbox.track_card(now, office.dokumentasi, chat, 8)
    [card] = await outbox.cards(record_id)
    assert (card.message_id, card.version) == (8, now.version)
