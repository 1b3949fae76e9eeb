"""Withdrawing a draft (SOP step 1 never finished): who may, what it leaves behind, and
that nothing of it keeps reminding, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sop.clock import ManualClock
from sop.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied, StaleAction
from sop.expiry import ExpiryService
from sop.model import ExemptionPeriod, PeriodKind, Role, State, Step
from sop.register import RegisterFilter, RegisterService
from sop.reminder_service import ReminderService
from sop.service import PpidService
from tests.conftest import PDF_BYTES, START, Office, chunks_of, sample_fields
from tests.test_register import make_record


async def test_the_divisions_petugas_withdraws_a_draft_with_a_reason(
    service: PpidService, office: Office
) -> None:
    colleague = await service.add_person(103, "Sinta Petugas", Role.PETUGAS_PPID, division_id=1)
    record_id = await make_record(service, office, State.DRAFT)
    before = await service.record(office.petugas, record_id)
    assert service.may_cancel(office.petugas, before) and service.may_cancel(colleague, before)

    outcome = await service.cancel_draft(
        colleague, record_id, "Dokumen salah; dibuat ulang.", expected_version=before.version
    )
    record = outcome.record
    assert record.state is State.CANCELLED and record.current_run is None
    assert record.return_reason == "Dokumen salah; dibuat ulang."
    assert len(record.files) == 1  # the softcopy stays stored
    [run] = record.runs
    assert (run.outcome, run.completed_by) == ("cancelled", colleague.user_id)
    # Told: the people the draft waited on, its creator among them.
    assert {a.user_id for a in outcome.notify} == {office.petugas.user_id, colleague.user_id}
    trail = await service.audit_trail(office.admin, record_id)
    assert (trail[-1].action, trail[-1].actor_user_id) == ("record.cancelled", colleague.user_id)
    assert trail[-1].details == {"reason": "Dokumen salah; dibuat ulang."}
    assert await service.verify_audit_chain() == []
    assert not service.may_cancel(office.petugas, record)
    with pytest.raises(InvalidTransition):
        await service.cancel_draft(office.petugas, record_id, "Sekali lagi")


async def test_admins_withdraw_any_draft_others_may_not(
    service: PpidService, office: Office
) -> None:
    record_id = await make_record(service, office, State.DRAFT)
    record = await service.record(office.admin, record_id)
    for not_allowed in (office.dokumentasi, office.pejabat):
        assert not service.may_cancel(not_allowed, record)
        with pytest.raises(PermissionDenied):
            await service.cancel_draft(not_allowed, record_id, "Tidak perlu")
    assert not service.may_cancel(office.petugas_other, record)
    with pytest.raises(NotFound):  # another division's officer does not even see it
        await service.cancel_draft(office.petugas_other, record_id, "Tidak perlu")
    with pytest.raises(InvalidInput):
        await service.cancel_draft(office.admin, record_id, "  ")

    assert service.may_cancel(office.admin, record)
    outcome = await service.cancel_draft(office.admin, record_id, "Draf terbengkalai")
    assert outcome.record.state is State.CANCELLED
    assert [a.user_id for a in outcome.notify] == [office.petugas.user_id]


async def test_a_stale_withdrawal_changes_nothing(service: PpidService, office: Office) -> None:
    record_id = await make_record(service, office, State.DRAFT)
    old = await service.record(office.petugas, record_id)
    await service.update_fields(office.petugas, record_id, {"title": "Judul yang diperbaiki"})
    with pytest.raises(StaleAction):
        await service.cancel_draft(office.petugas, record_id, "Salah", expected_version=old.version)
    assert (await service.record(office.petugas, record_id)).state is State.DRAFT


async def test_only_drafts_never_submitted_can_be_withdrawn(
    service: PpidService, office: Office
) -> None:
    for state in (State.SUBMITTED, State.REGISTERED, State.STORED):
        record_id = await make_record(service, office, state)
        with pytest.raises(InvalidTransition):
            await service.cancel_draft(office.admin, record_id, "Tidak perlu")
    # A record returned to step 1 has been in the SOP's chain: it is corrected, not withdrawn.
    returned = await make_record(service, office, State.SUBMITTED)
    await service.return_record(office.dokumentasi, returned, Step.PRODUCE, "Lampiran kurang")
    view = await service.record(office.petugas, returned)
    assert view.state is State.DRAFT and not service.may_cancel(office.admin, view)
    with pytest.raises(InvalidTransition):
        await service.cancel_draft(office.petugas, returned, "Tidak perlu")


async def test_the_operator_withdraws_from_the_command_line(
    service: PpidService, office: Office
) -> None:
    record_id = await make_record(service, office, State.DRAFT)
    outcome = await service.cancel_draft(None, record_id, "Diminta kepala PPID")
    assert outcome.record.state is State.CANCELLED
    [run] = outcome.record.runs
    assert run.completed_by is None and run.outcome == "cancelled"
    trail = await service.audit_trail(office.admin, record_id)
    assert trail[-1].actor_user_id is None
    assert trail[-1].details == {"reason": "Diminta kepala PPID", "by": "command line"}
    with pytest.raises(NotFound):
        await service.cancel_draft(None, 9999, "Tidak ada")


async def test_a_withdrawn_draft_leaves_the_register_and_stops_reminding(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    register = RegisterService(service)
    ending = ExemptionPeriod(PeriodKind.UNTIL_DATE, until=service.today() + timedelta(days=5))
    kept = await make_record(service, office, State.DRAFT, pasal17=("a",), period=ending)
    withdrawn = await service.create_draft(
        office.petugas, sample_fields(title="Draf yang ditarik", pasal17=("a",), period=ending)
    )
    await service.attach_file(
        office.petugas, withdrawn.id, chunks_of(PDF_BYTES + b"%x"), "a.pdf", "application/pdf"
    )
    await service.cancel_draft(office.petugas, withdrawn.id, "Salah input")

    listed = await register.register(office.admin, RegisterFilter(), page_size=50)
    assert [e.record.id for e in listed.items] == [kept] and listed.total == 1
    assert [e.record.id for e in (await register.search(office.admin, "ditarik")).items] == []
    assert [e.entry.record.id for e in (await register.expiring(office.pejabat)).items] == [kept]
    assert [record.id for record, _, _ in await ExpiryService(service).due()] == [kept]
    assert [r.entry.record.id for r in (await register.report_data()).records] == [kept]
    # Still visible on its own card to those who may see it, as withdrawn.
    assert (await service.record(office.petugas, withdrawn.id)).state is State.CANCELLED

    reminders = ReminderService(service)
    clock.set(START + timedelta(hours=3))
    claimed = await reminders.claim_due()
    assert [d.record.id for d in claimed] == [kept]
    later = await reminders.pending(START + timedelta(days=3))
    assert all(due.notice.record_id != withdrawn.id for due in later)
