"""The SOP's three steps as the domain enforces them, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

from sop.clock import ManualClock
from sop.errors import (
    DuplicateDocument,
    FileRejected,
    FourEyesViolation,
    IntegrityFailure,
    InvalidInput,
    InvalidTransition,
    InvitationInvalid,
    NotFound,
    NotRegistered,
    PermissionDenied,
    StaleAction,
)
from sop.model import Actor, ExemptionPeriod, PeriodKind, Role, State, Step
from sop.service import PpidService
from storage import Area
from tests.conftest import PDF_BYTES, Office, chunks_of, sample_fields
from tests.support.backends import stored_paths
from tests.support.documents import minimal_pdf


async def draft_with_file(
    service: PpidService, petugas: Actor, content: bytes = PDF_BYTES, **overrides: object
) -> int:
    record = await service.create_draft(
        petugas, sample_fields(petugas.division_id or 1, **overrides)
    )
    await service.attach_file(
        petugas, record.id, chunks_of(content), "surat.pdf", "application/pdf"
    )
    return record.id


async def at_state(
    service: PpidService, office: Office, state: State, content: bytes = PDF_BYTES
) -> int:
    record_id = await draft_with_file(service, office.petugas, content)
    if state is State.DRAFT:
        return record_id
    await service.complete_produce(office.petugas, record_id, verified=True)
    if state is State.SUBMITTED:
        return record_id
    await service.complete_handover(office.dokumentasi, record_id)
    if state is State.REGISTERED:
        return record_id
    await service.complete_receive(office.pejabat, record_id)
    return record_id


async def test_whole_sop_in_order(service: PpidService, office: Office, clock: ManualClock) -> None:
    record = await service.create_draft(office.petugas, sample_fields())
    assert record.state is State.DRAFT
    assert record.current_run is not None
    assert record.current_run.step is Step.PRODUCE
    assert record.current_run.due_at == clock.now() + timedelta(hours=1)

    file = await service.attach_file(
        office.petugas,
        record.id,
        chunks_of(PDF_BYTES),
        "../../surat rahasia.pdf",
        "application/pdf",
    )
    assert file.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
    assert file.original_name == "../../surat rahasia.pdf"
    assert ".." not in file.path and file.path.startswith("divisi/")

    clock.advance(timedelta(minutes=20))
    outcome = await service.complete_produce(office.petugas, record.id, verified=True)
    assert outcome.record.state is State.SUBMITTED
    assert [a.user_id for a in outcome.notify] == [office.dokumentasi.user_id]
    assert outcome.record.current_run is not None
    assert outcome.record.current_run.due_at == clock.now() + timedelta(hours=1)

    clock.advance(timedelta(minutes=30))
    outcome = await service.complete_handover(office.dokumentasi, record.id)
    assert outcome.record.state is State.REGISTERED
    assert {a.user_id for a in outcome.notify} == {office.pejabat.user_id, office.pejabat2.user_id}

    clock.advance(timedelta(minutes=5))
    outcome = await service.complete_receive(office.pejabat, record.id)
    stored = outcome.record
    assert stored.state is State.STORED
    assert stored.register_number == "DIK-2026-0001"
    assert stored.number == "DIK-2026-0001"
    assert stored.current_run is None
    assert {a.user_id for a in outcome.notify} == {
        office.petugas.user_id,
        office.dokumentasi.user_id,
        office.pejabat.user_id,
    }
    ppid_files = [f for f in stored.files if f.area == Area.PPID]
    assert len(ppid_files) == 1
    assert ppid_files[0].sha256 == file.sha256
    assert ppid_files[0].path.startswith("ppid/")
    assert ppid_files[0].original_name == "../../surat rahasia.pdf"  # the user's name, kept
    assert await service.storage.read_bytes(ppid_files[0].path) == PDF_BYTES
    assert [(r.step, r.outcome) for r in stored.runs] == [
        (Step.PRODUCE, "done"),
        (Step.HANDOVER, "done"),
        (Step.RECEIVE, "done"),
    ]
    assert [r.completed_by for r in stored.runs] == [
        office.petugas.user_id,
        office.dokumentasi.user_id,
        office.pejabat.user_id,
    ]
    found = await service.record(office.dokumentasi, "dik-2026-0001")
    assert found.id == record.id
    actions = [e.action for e in await service.audit_trail(office.pejabat, record.id)]
    assert actions == [
        "record.created",
        "file.stored",
        "step1.done",
        "step2.done",
        "file.stored",
        "step3.done",
    ]
    assert await service.verify_audit_chain() == []


ACTIONS = ["produce", "handover", "receive"]


async def _act(service: PpidService, office: Office, action: str, record_id: int) -> None:
    if action == "produce":
        await service.complete_produce(office.petugas, record_id, verified=True)
    elif action == "handover":
        await service.complete_handover(office.dokumentasi, record_id)
    else:
        await service.complete_receive(office.pejabat, record_id)


@pytest.mark.parametrize(
    ("state", "action", "expected"),
    [
        (State.DRAFT, "produce", State.SUBMITTED),
        (State.DRAFT, "handover", InvalidTransition),
        (State.DRAFT, "receive", InvalidTransition),
        (State.SUBMITTED, "produce", StaleAction),
        (State.SUBMITTED, "handover", State.REGISTERED),
        (State.SUBMITTED, "receive", InvalidTransition),
        (State.REGISTERED, "produce", StaleAction),
        (State.REGISTERED, "handover", StaleAction),
        (State.REGISTERED, "receive", State.STORED),
        (State.STORED, "produce", StaleAction),
        (State.STORED, "handover", StaleAction),
        (State.STORED, "receive", StaleAction),
    ],
)
async def test_every_transition_from_every_state(
    service: PpidService, office: Office, state: State, action: str, expected: object
) -> None:
    """Only the due step can be done; nothing skips a step or repeats a finished one."""
    record_id = await at_state(service, office, state)
    before = await service.record(office.admin, record_id)
    if isinstance(expected, State):
        await _act(service, office, action, record_id)
        assert (await service.record(office.admin, record_id)).state is expected
        return
    assert isinstance(expected, type)
    with pytest.raises(expected) as caught:
        await _act(service, office, action, record_id)
    assert caught.value.message  # a message fit for a user
    after = await service.record(office.admin, record_id)
    assert (after.state, after.version) == (before.state, before.version)


async def test_cancelled_draft_accepts_no_step(service: PpidService, office: Office) -> None:
    record_id = await at_state(service, office, State.DRAFT)
    cancelled = (
        await service.cancel_draft(office.petugas, record_id, "Salah unggah dokumen")
    ).record
    assert cancelled.state is State.CANCELLED
    assert len(cancelled.files) == 1  # nothing the user sent is lost
    for action in ACTIONS:
        with pytest.raises(StaleAction):
            await _act(service, office, action, record_id)


async def test_steps_need_their_roles(service: PpidService, office: Office) -> None:
    record_id = await at_state(service, office, State.DRAFT)
    with pytest.raises(PermissionDenied):
        await service.complete_produce(office.dokumentasi, record_id, verified=True)
    await service.complete_produce(office.petugas, record_id, verified=True)
    for wrong in (office.petugas, office.pejabat):
        with pytest.raises(PermissionDenied):
            await service.complete_handover(wrong, record_id)
    await service.complete_handover(office.dokumentasi, record_id)
    with pytest.raises(PermissionDenied):
        await service.complete_receive(office.admin, record_id)
    with pytest.raises(NotFound):  # another division's officer does not even see it
        await service.complete_receive(office.petugas_other, record_id)


async def test_other_division_sees_nothing(service: PpidService, office: Office) -> None:
    record_id = await at_state(service, office, State.DRAFT)
    with pytest.raises(NotFound):
        await service.record(office.petugas_other, record_id)
    with pytest.raises(NotFound):
        await service.attach_file(
            office.petugas_other, record_id, chunks_of(b"x" * 10), "a.pdf", None
        )
    assert await service.tasks(office.petugas_other) == []
    record = await service.record(office.petugas, record_id)
    with pytest.raises(NotFound):
        await service.read_file(office.petugas_other, record.files[0].id)


async def test_revoked_role_loses_access_at_once(service: PpidService, office: Office) -> None:
    record_id = await at_state(service, office, State.SUBMITTED)
    await service.revoke_role(office.dokumentasi.user_id, Role.PETUGAS_DOKUMENTASI, by=office.admin)
    assert await service.actor_by_telegram(office.dokumentasi.telegram_id) is None
    with pytest.raises(NotRegistered):
        await service.complete_handover(office.dokumentasi, record_id)


async def test_step1_requires_verification_and_a_file(service: PpidService, office: Office) -> None:
    record = await service.create_draft(office.petugas, sample_fields())
    with pytest.raises(InvalidInput, match="terverifikasi"):
        await service.complete_produce(office.petugas, record.id, verified=False)
    with pytest.raises(InvalidInput, match="softcopy"):
        await service.complete_produce(office.petugas, record.id, verified=True)


async def test_four_eyes_handover_person_cannot_receive(
    service: PpidService, office: Office
) -> None:
    both = await service.add_person(401, "Eka Dua Peran", Role.PETUGAS_DOKUMENTASI)
    both = await service.add_person(401, "Eka Dua Peran", Role.PEJABAT_PPID)
    record_id = await at_state(service, office, State.SUBMITTED)
    outcome = await service.complete_handover(both, record_id)
    assert both.user_id not in {a.user_id for a in outcome.notify}
    with pytest.raises(FourEyesViolation):
        await service.complete_receive(both, record_id)
    with pytest.raises(FourEyesViolation):
        await service.return_record(both, record_id, Step.PRODUCE, "Perlu perbaikan")
    assert all(task.record.id != record_id for task in await service.tasks(both))
    outcome = await service.complete_receive(office.pejabat, record_id)
    assert outcome.record.state is State.STORED


async def test_nobody_completes_all_three_steps(service: PpidService, office: Office) -> None:
    solo = await service.add_person(501, "Sendiri", Role.PETUGAS_PPID, division_id=1)
    for role in (Role.PETUGAS_DOKUMENTASI, Role.PEJABAT_PPID):
        solo = await service.add_person(501, "Sendiri", role)
    record_id = await draft_with_file(service, solo)
    await service.complete_produce(solo, record_id, verified=True)
    await service.complete_handover(solo, record_id)
    with pytest.raises(FourEyesViolation) as caught:
        await service.complete_receive(solo, record_id)
    assert "2 orang" in caught.value.message


async def test_return_to_step_one_and_redo(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    record_id = await at_state(service, office, State.REGISTERED)
    with pytest.raises(InvalidInput):
        await service.return_record(office.pejabat, record_id, Step.PRODUCE, "  ")
    with pytest.raises(InvalidTransition):
        await service.return_record(office.pejabat, record_id, Step.RECEIVE, "Ulangi")
    with pytest.raises(PermissionDenied):
        await service.return_record(office.petugas, record_id, Step.PRODUCE, "Ulangi")
    clock.advance(timedelta(minutes=40))
    outcome = await service.return_record(
        office.pejabat, record_id, Step.PRODUCE, "Lampiran belum ditandatangani"
    )
    record = outcome.record
    assert record.state is State.DRAFT
    assert record.return_reason == "Lampiran belum ditandatangani"
    assert [a.user_id for a in outcome.notify] == [office.petugas.user_id]
    assert record.current_run is not None
    assert (record.current_run.step, record.current_run.attempt) == (Step.PRODUCE, 2)
    assert record.current_run.due_at == clock.now() + timedelta(hours=1)  # a fresh deadline
    assert record.runs[-2].outcome == "returned"
    # the step runs again, in order
    await service.attach_file(
        office.petugas, record_id, chunks_of(minimal_pdf("signed")), "ttd.pdf", None
    )
    await service.complete_produce(office.petugas, record_id, verified=True)
    await service.complete_handover(office.dokumentasi, record_id)
    stored = (await service.complete_receive(office.pejabat, record_id)).record
    assert stored.state is State.STORED
    assert stored.return_reason is None
    assert len([f for f in stored.files if f.area == Area.PPID]) == 2


async def test_return_to_step_two(service: PpidService, office: Office) -> None:
    record_id = await at_state(service, office, State.REGISTERED)
    outcome = await service.return_record(
        office.pejabat2, record_id, Step.HANDOVER, "Nomor agenda belum dicatat"
    )
    assert outcome.record.state is State.SUBMITTED
    assert [a.user_id for a in outcome.notify] == [office.dokumentasi.user_id]
    await service.complete_handover(office.dokumentasi, record_id)
    assert (await service.complete_receive(office.pejabat, record_id)).record.state is State.STORED


async def test_dokumentasi_may_return_to_step_one(service: PpidService, office: Office) -> None:
    record_id = await at_state(service, office, State.SUBMITTED)
    outcome = await service.return_record(
        office.dokumentasi, record_id, Step.PRODUCE, "Berkas terpotong"
    )
    assert outcome.record.state is State.DRAFT


async def test_stale_button_changes_nothing(service: PpidService, office: Office) -> None:
    record_id = await at_state(service, office, State.REGISTERED)
    version = (await service.record(office.pejabat, record_id)).version
    await service.complete_receive(office.pejabat, record_id, expected_version=version)
    with pytest.raises(StaleAction):  # second press of the same button
        await service.complete_receive(office.pejabat, record_id, expected_version=version)
    with pytest.raises(StaleAction):
        await service.return_record(
            office.pejabat2, record_id, Step.PRODUCE, "terlambat", expected_version=version
        )


async def test_two_officials_pressing_at_once_one_wins(
    service: PpidService, office: Office
) -> None:
    record_id = await at_state(service, office, State.REGISTERED)
    version = (await service.record(office.pejabat, record_id)).version
    results = await asyncio.gather(
        service.complete_receive(office.pejabat, record_id, expected_version=version),
        service.complete_receive(office.pejabat2, record_id, expected_version=version),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1
    assert len(losers) == 1 and isinstance(losers[0], StaleAction), losers
    record = await service.record(office.admin, record_id)
    assert len([f for f in record.files if f.area == Area.PPID]) == 1
    # the loser's copy did not stay behind in the PPID tree
    assert len([p for p in await stored_paths(service.storage) if p.startswith("ppid/")]) == 1


async def test_accept_and_return_race(service: PpidService, office: Office) -> None:
    record_id = await at_state(service, office, State.REGISTERED)
    version = (await service.record(office.pejabat, record_id)).version
    results = await asyncio.gather(
        service.complete_receive(office.pejabat, record_id, expected_version=version),
        service.return_record(
            office.pejabat2, record_id, Step.PRODUCE, "Kurang lengkap", expected_version=version
        ),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, StaleAction) for r in results if isinstance(r, BaseException)), results


async def test_register_numbers_gap_free_under_concurrency(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    pejabat = [office.pejabat, office.pejabat2]
    for i in range(3):
        pejabat.append(await service.add_person(600 + i, f"Pejabat {i}", Role.PEJABAT_PPID))
    ids = [
        await at_state(service, office, State.REGISTERED, content=minimal_pdf(f"dokumen {i}"))
        for i in range(10)
    ]
    await asyncio.gather(
        *(service.complete_receive(pejabat[i % len(pejabat)], rid) for i, rid in enumerate(ids))
    )
    numbers = sorted(
        [(await service.record(office.admin, rid)).register_number or "" for rid in ids]
    )
    assert numbers == [f"DIK-2026-{n:04d}" for n in range(1, 11)]
    # a new year starts again at 1 (the year is the WIB year: 17:00 UTC 31 Dec is 1 Jan WIB)
    clock.set(datetime(2026, 12, 31, 17, 30, tzinfo=UTC))
    next_year = await at_state(service, office, State.STORED, content=minimal_pdf("tahun baru"))
    assert (await service.record(office.admin, next_year)).register_number == "DIK-2027-0001"


async def test_failed_step3_gives_its_number_back(
    service: PpidService, office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await at_state(service, office, State.REGISTERED, content=minimal_pdf("satu"))
    second = await at_state(service, office, State.REGISTERED, content=minimal_pdf("dua"))
    original = service._advance

    async def failing(*args: object, **kwargs: object) -> object:
        raise RuntimeError("database went away")

    monkeypatch.setattr(service, "_advance", failing)
    with pytest.raises(RuntimeError):
        await service.complete_receive(office.pejabat, first)
    monkeypatch.setattr(service, "_advance", original)
    assert [p for p in await stored_paths(service.storage) if p.startswith("ppid/")] == []
    await service.complete_receive(office.pejabat, second)
    await service.complete_receive(office.pejabat, first)
    assert (await service.record(office.admin, second)).register_number == "DIK-2026-0001"
    assert (await service.record(office.admin, first)).register_number == "DIK-2026-0002"


async def test_the_same_content_twice_in_one_record_is_refused(
    service: PpidService, office: Office
) -> None:
    record_id = await draft_with_file(service, office.petugas)
    before = await stored_paths(service.storage)
    with pytest.raises(DuplicateDocument, match="sudah dilampirkan pada berkas ini"):
        await service.attach_file(office.petugas, record_id, chunks_of(PDF_BYTES), "lagi.pdf", None)
    assert await stored_paths(service.storage) == before
    assert len((await service.record(office.petugas, record_id)).files) == 1


async def test_the_same_content_in_another_record_is_attached_and_named_if_visible(
    service: PpidService, office: Office
) -> None:
    """Each record keeps its evidence; who may see the other record learns which it is."""
    first = await draft_with_file(service, office.petugas)
    other = await service.create_draft(office.petugas, sample_fields(title="Berkas kedua"))
    copy = await service.attach_file(
        office.petugas, other.id, chunks_of(PDF_BYTES), "x.pdf", "application/pdf"
    )
    assert copy.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
    assert len((await service.record(office.petugas, other.id)).files) == 1
    assert len([p for p in await stored_paths(service.storage) if p.startswith("divisi/")]) == 2
    assert await service.records_with_same_content(office.petugas, copy.id) == [f"BRK-{first}"]

    # Budi (division 2) may not see Rina's records: he is not told they hold the same.
    hidden = await service.create_draft(office.petugas_other, sample_fields(2, title="Lain"))
    theirs = await service.attach_file(
        office.petugas_other, hidden.id, chunks_of(PDF_BYTES), "y.pdf", "application/pdf"
    )
    assert await service.records_with_same_content(office.petugas_other, theirs.id) == []
    assert await service.records_with_same_content(office.dokumentasi, theirs.id) == [
        f"BRK-{first}",
        f"BRK-{other.id}",
    ]
    with pytest.raises(NotFound):
        await service.records_with_same_content(office.petugas_other, copy.id)


async def test_storage_failures_leave_nothing_behind(service: PpidService, office: Office) -> None:
    record = await service.create_draft(office.petugas, sample_fields())

    with pytest.raises(FileRejected, match="1,0 MB"):
        await service.attach_file(
            office.petugas, record.id, chunks_of(b"x" * (1024 * 1024 + 1), 65536), "besar.pdf", None
        )

    async def broken() -> object:
        yield b"first part"
        raise ConnectionError("download interrupted")

    with pytest.raises(ConnectionError):
        await service.attach_file(office.petugas, record.id, broken(), "putus.pdf", None)  # type: ignore[arg-type]
    with pytest.raises(FileRejected, match="kosong"):
        await service.attach_file(office.petugas, record.id, chunks_of(b""), "kosong.pdf", None)
    assert await stored_paths(service.storage) == []
    assert (await service.record(office.petugas, record.id)).files == ()


async def test_database_failure_after_write_removes_the_file(
    service: PpidService, office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = await service.create_draft(office.petugas, sample_fields())

    async def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("constraint violated")

    monkeypatch.setattr("db.repositories.Repository.add_file", fail)
    with pytest.raises(RuntimeError):
        await service.attach_file(office.petugas, record.id, chunks_of(PDF_BYTES), "a.pdf", None)
    assert await stored_paths(service.storage) == []


async def test_altered_softcopy_fails_step3(service: PpidService, office: Office) -> None:
    record_id = await at_state(service, office, State.REGISTERED)
    record = await service.record(office.pejabat, record_id)
    path = service.storage.absolute(record.files[0].path)
    path.write_bytes(b"%PDF tampered")
    with pytest.raises(IntegrityFailure):
        await service.complete_receive(office.pejabat, record_id)
    after = await service.record(office.pejabat, record_id)
    assert after.state is State.REGISTERED
    assert [p for p in await stored_paths(service.storage) if p.startswith("ppid/")] == []
    actions = [e.action for e in await service.audit_trail(office.admin, record_id)]
    assert actions[-1] == "integrity.failed"


async def test_audit_chain_detects_tampering(service: PpidService, office: Office) -> None:
    await at_state(service, office, State.STORED)
    assert await service.verify_audit_chain() == []
    async with service._sessions() as session, session.begin():
        await session.execute(
            text("UPDATE audit_log SET details = :d WHERE action = 'step2.done'"),
            {"d": '{"state":"stored"}'},
        )
    problems = await service.verify_audit_chain()
    assert [p.problem for p in problems] == ["content does not match its hash"]


async def test_audit_chain_detects_deleted_entry(service: PpidService, office: Office) -> None:
    await at_state(service, office, State.STORED)
    async with service._sessions() as session, session.begin():
        await session.execute(text("DELETE FROM audit_log WHERE action = 'step1.done'"))
    problems = await service.verify_audit_chain()
    assert problems and any("broken" in p.problem or "expected" in p.problem for p in problems)


async def test_audit_chain_detects_truncated_tail(service: PpidService, office: Office) -> None:
    await at_state(service, office, State.STORED)
    async with service._sessions() as session, session.begin():
        await session.execute(
            text("DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)")
        )
    problems = await service.verify_audit_chain()
    assert any("chain head" in p.problem for p in problems)


async def test_concurrent_audit_appends_keep_one_chain(
    service: PpidService, office: Office
) -> None:
    await asyncio.gather(
        *(
            service.create_draft(office.petugas, sample_fields(title=f"Berkas {i}"))
            for i in range(8)
        )
    )
    assert await service.verify_audit_chain() == []


async def test_file_reads_are_audited(service: PpidService, office: Office) -> None:
    record_id = await at_state(service, office, State.SUBMITTED)
    record = await service.record(office.dokumentasi, record_id)
    view, chunks = await service.read_file(office.dokumentasi, record.files[0].id)
    assert b"".join([c async for c in chunks]) == PDF_BYTES
    trail = await service.audit_trail(office.admin, record_id)
    assert trail[-1].action == "file.read"
    assert trail[-1].actor_user_id == office.dokumentasi.user_id
    assert view.sha256 == record.files[0].sha256


async def test_invitations_are_single_use_and_expire(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    with pytest.raises(PermissionDenied):
        await service.create_invitation(office.pejabat, Role.PETUGAS_DOKUMENTASI)
    with pytest.raises(InvalidInput):
        await service.create_invitation(office.admin, Role.PETUGAS_PPID)
    invitation = await service.create_invitation(office.admin, Role.PETUGAS_PPID, division_id=3)
    assert invitation.expires_at == clock.now() + timedelta(hours=24)
    actor, role = await service.redeem_invitation(invitation.code, 7001, "Nina", "nina")
    assert role is Role.PETUGAS_PPID and actor.division_id == 3
    assert actor.roles == frozenset({Role.PETUGAS_PPID})
    with pytest.raises(InvitationInvalid):
        await service.redeem_invitation(invitation.code, 7002, "Orang Lain", None)
    late = await service.create_invitation(office.admin, Role.PEJABAT_PPID)
    clock.advance(timedelta(hours=24, seconds=1))
    with pytest.raises(InvitationInvalid):
        await service.redeem_invitation(late.code, 7003, "Terlambat", None)
    with pytest.raises(InvitationInvalid):
        await service.redeem_invitation("tebakan", 7004, "Penebak", None)
    assert await service.actor_by_telegram(7003) is None


async def test_concurrent_redemption_only_one_succeeds(
    service: PpidService, office: Office
) -> None:
    invitation = await service.create_invitation(office.admin, Role.PEJABAT_PPID)
    results = await asyncio.gather(
        *(service.redeem_invitation(invitation.code, 8000 + i, f"U{i}", None) for i in range(4)),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1


async def test_last_admin_cannot_be_revoked(service: PpidService, office: Office) -> None:
    with pytest.raises(InvalidInput):
        await service.revoke_role(office.admin.user_id, Role.ADMIN, by=office.admin)


async def test_tasks_show_what_waits_on_each_person(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    draft = await at_state(service, office, State.DRAFT, content=minimal_pdf("a"))
    submitted = await at_state(service, office, State.SUBMITTED, content=minimal_pdf("b"))
    registered = await at_state(service, office, State.REGISTERED, content=minimal_pdf("c"))
    clock.advance(timedelta(hours=2))
    assert [t.record.id for t in await service.tasks(office.petugas)] == [draft]
    assert [t.record.id for t in await service.tasks(office.dokumentasi)] == [submitted]
    pejabat_tasks = await service.tasks(office.pejabat)
    assert [t.record.id for t in pejabat_tasks] == [registered]
    assert pejabat_tasks[0].overdue
    assert await service.tasks(office.admin) == []


async def test_fields_are_validated(service: PpidService, office: Office) -> None:
    with pytest.raises(InvalidInput, match="huruf a–f tidak bersifat permanen"):
        await service.create_draft(office.petugas, sample_fields(pasal17=("a",)))
    with pytest.raises(InvalidInput, match="setelah hari ini"):
        await service.create_draft(
            office.petugas,
            sample_fields(period=ExemptionPeriod(PeriodKind.UNTIL_DATE, until=date(2026, 1, 1))),
        )
    with pytest.raises(InvalidInput, match="terlalu panjang"):
        await service.create_draft(office.petugas, sample_fields(title="x" * 300))
    with pytest.raises(InvalidInput):
        await service.create_draft(office.petugas, sample_fields(pasal17=()))
    ok = await service.create_draft(
        office.petugas,
        sample_fields(pasal17=(), other_legal_basis="UU 7/2017 Pasal 14 huruf c"),
    )
    assert ok.fields.other_legal_basis == "UU 7/2017 Pasal 14 huruf c"


async def test_dokumentasi_corrects_metadata_in_step2(service: PpidService, office: Office) -> None:
    record_id = await at_state(service, office, State.SUBMITTED)
    with pytest.raises(PermissionDenied):
        await service.update_fields(office.petugas, record_id, {"title": "Judul baru"})
    updated = await service.update_fields(
        office.dokumentasi, record_id, {"title": "Judul yang benar"}
    )
    assert updated.fields.title == "Judul yang benar"
    await service.complete_handover(office.dokumentasi, record_id)
    with pytest.raises(InvalidTransition):
        await service.update_fields(office.dokumentasi, record_id, {"title": "Lagi"})


async def test_hostile_file_names_are_kept_safely(service: PpidService, office: Office) -> None:
    record = await service.create_draft(office.petugas, sample_fields())
    file = await service.attach_file(
        office.petugas, record.id, chunks_of(minimal_pdf("isi")), "../a\x00b\udcff.pdf", None
    )
    assert file.original_name == "../ab.pdf"
    assert "/" not in file.path.rsplit("/", 1)[1] and "\x00" not in file.path


async def test_listeners_hear_each_committed_change(service: PpidService, office: Office) -> None:
    heard: list[tuple[int, State]] = []

    async def listener(record: object) -> None:
        heard.append((record.id, record.state))  # type: ignore[attr-defined]

    async def broken(record: object) -> None:
        raise RuntimeError("a failing listener must not undo the step")

    service.subscribe(broken)
    service.subscribe(listener)
    record_id = await at_state(service, office, State.STORED)
    assert heard == [
        (record_id, State.DRAFT),
        (record_id, State.SUBMITTED),
        (record_id, State.REGISTERED),
        (record_id, State.STORED),
    ]
    with pytest.raises(StaleAction):
        await service.complete_receive(office.pejabat, record_id)
    assert len(heard) == 4  # a refused action is not a change


async def test_lateness_counts_office_time_with_wall_clock_beside(
    engine: object, storage: object, clock: ManualClock
) -> None:
    """A step due Friday 16:20 and still open Monday 08:00 is 40 minutes late in office
    time (10 on Friday, 30 on Monday), though almost three days on the wall clock."""
    from zoneinfo import ZoneInfo

    from db.session import create_sessionmaker
    from sop.calendar import OfficeCalendar, WorkingHours

    wib = ZoneInfo("Asia/Jakarta")
    calendar = OfficeCalendar(
        WorkingHours.parse("senin-kamis 07:30-16:00; jumat 07:30-16:30"), wib, _national={}
    )
    service = PpidService(
        create_sessionmaker(engine),  # type: ignore[arg-type]
        storage,  # type: ignore[arg-type]
        clock=clock,
        calendar=calendar,
        timezone=wib,
    )
    petugas = await service.add_person(101, "Rina", Role.PETUGAS_PPID, division_id=1)
    clock.set(datetime(2026, 11, 27, 8, 20, tzinfo=UTC))  # Friday 15:20 WIB
    await service.create_draft(petugas, sample_fields())
    clock.set(datetime(2026, 11, 30, 1, 0, tzinfo=UTC))  # Monday 08:00 WIB
    [task] = await service.tasks(petugas)
    assert task.due_at == datetime(2026, 11, 27, 9, 20, tzinfo=UTC)  # Friday 16:20 WIB
    assert task.overdue
    assert task.late_working == timedelta(minutes=40)
    assert task.late_wall == timedelta(days=2, hours=15, minutes=40)


async def test_page_photos_combine_into_one_pdf(service: PpidService, office: Office) -> None:
    import io

    from PIL import Image

    record = await service.create_draft(office.petugas, sample_fields())
    photos = []
    for color in ("red", "blue"):
        buffer = io.BytesIO()
        Image.new("RGB", (40, 60), color).save(buffer, "JPEG")
        photo = await service.attach_file(
            office.petugas, record.id, chunks_of(buffer.getvalue()), f"{color}.jpg", "image/jpeg"
        )
        photos.append(photo.id)
    with pytest.raises(InvalidInput):
        await service.combine_photos(office.petugas, record.id, photos[:1], "x.pdf")
    combined = await service.combine_photos(office.petugas, record.id, photos, "halaman.pdf")
    after = await service.record(office.petugas, record.id)
    assert [f.id for f in after.files] == [combined.id]
    data = await service.storage.read_bytes(combined.path)
    assert (
        data.startswith(b"%PDF")
        and data.count(b"/Type /Page\n") + data.count(b"/Type /Page>") + data.count(b"/Type /Page ")
        >= 0
    )
    assert len(await stored_paths(service.storage)) == 3  # the photos' bytes are kept


async def test_corrections_based_on_an_old_version_are_refused(
    service: PpidService, office: Office
) -> None:
    record_id = await at_state(service, office, State.SUBMITTED)
    version = (await service.record(office.dokumentasi, record_id)).version
    other = await service.add_person(202, "Tono Dokumentasi", Role.PETUGAS_DOKUMENTASI)
    await service.update_fields(
        other, record_id, {"title": "Judul dari Tono"}, expected_version=version
    )
    with pytest.raises(StaleAction, match="sudah diubah orang lain"):
        await service.update_fields(
            office.dokumentasi, record_id, {"title": "Judul dari Sari"}, expected_version=version
        )
    assert (await service.record(office.admin, record_id)).fields.title == "Judul dari Tono"
