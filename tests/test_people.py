"""People in the domain: official names beside Telegram names, names kept in history, and
corrections that say what changed; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import text

from sop.clock import ManualClock
from sop.errors import (
    InvalidInput,
    InvalidTransition,
    InvitationBlocked,
    InvitationInvalid,
    NotFound,
    PermissionDenied,
)
from sop.model import ExemptionPeriod, PeriodKind, Role, State, Step
from sop.people import MAX_WRONG_CODES, PeopleService, TooManyWrongCodes
from sop.register import RegisterService
from sop.service import PpidService
from tests.conftest import Office, sample_fields
from tests.test_workflow import at_state, draft_with_file

DIVISION_2 = "Teknis Penyelenggaraan Pemilu, Partisipasi dan Hubungan Masyarakat"


async def test_an_official_name_is_never_replaced_by_the_telegram_name(
    service: PpidService, office: Office
) -> None:
    touched = await service.touch_user(301, "Andi", "andi_kpu")
    assert touched is not None
    assert touched.full_name == "Andi Pejabat"
    assert touched.telegram_name == "Andi"
    assert touched.other_telegram_name == "Andi"
    assert touched.username == "andi_kpu"
    again = await service.touch_user(301, "Andi P.", None)
    assert again is not None
    assert (again.full_name, again.telegram_name, again.username) == (
        "Andi Pejabat",
        "Andi P.",
        None,
    )
    assert await service.touch_user(4242, "Orang Asing", None) is None


async def test_a_name_taken_from_telegram_follows_it_until_an_admin_names_the_person(
    service: PpidService, office: Office
) -> None:
    admin = await service.touch_user(900, "Kepala Admin", "kepala")
    assert admin is not None and admin.full_name == "Kepala Admin"  # the placeholder goes
    invitation = await service.create_invitation(office.admin, Role.PEJABAT_PPID)
    nina, _ = await service.redeem_invitation(invitation.code, 7001, "Nina", "nina")
    assert (nina.full_name, nina.other_telegram_name) == ("Nina", None)
    renamed = await service.touch_user(7001, "Nina K", "nina")
    assert renamed is not None and renamed.full_name == "Nina K"

    named = await service.add_person(7001, "Nina Kartika", Role.PEJABAT_PPID)
    assert (named.full_name, named.other_telegram_name) == ("Nina Kartika", "Nina K")
    later = await service.touch_user(7001, "Nina", "nina")
    assert later is not None and later.full_name == "Nina Kartika"
    async with service.transaction() as repo:
        entries = [e for e in await repo.audit_entries() if e.action == "user.renamed"]
    assert [(e.actor_name, e.details) for e in entries] == [
        (None, f'{{"new":"Nina Kartika","old":"Nina K","user":{named.user_id}}}')
    ]


async def test_history_keeps_the_names_people_had_when_they_acted(
    service: PpidService, office: Office
) -> None:
    record_id = await at_state(service, office, State.REGISTERED)
    # Both the petugas and the dokumentasi get other names afterwards.
    await service.add_person(101, "Rina Putri", Role.PETUGAS_PPID, division_id=1)
    await service.add_person(201, "Sari Wulandari", Role.PETUGAS_DOKUMENTASI)
    await service.complete_receive(office.pejabat, record_id)

    record = await service.record(office.admin, record_id)
    done_by = {run.step: run.completed_by_name for run in record.runs}
    assert done_by == {
        Step.PRODUCE: "Rina Petugas",
        Step.HANDOVER: "Sari Dokumentasi",
        Step.RECEIVE: "Andi Pejabat",
    }
    trail = await service.audit_trail(office.admin, record_id)
    names = {entry.action: entry.actor_name for entry in trail}
    assert names["record.created"] == "Rina Petugas"
    assert names["step1.done"] == "Rina Petugas"
    assert names["step2.done"] == "Sari Dokumentasi"
    assert names["step3.done"] == "Andi Pejabat"
    details = await RegisterService(service).details(office.admin, record)
    assert {(e.action, e.actor_name) for e in details.trail} >= {
        ("step1.done", "Rina Petugas"),
        ("step2.done", "Sari Dokumentasi"),
    }
    # The names are part of what the chain protects.
    assert await service.verify_audit_chain() == []
    async with service.transaction() as repo:
        await repo.session.execute(
            text("UPDATE audit_log SET actor_name = 'Orang Lain' WHERE action = 'step2.done'")
        )
    problems = await service.verify_audit_chain()
    assert [p.problem for p in problems] == ["content does not match its hash"]


async def test_entries_and_runs_from_before_names_were_kept_still_show_a_name(
    service: PpidService, office: Office
) -> None:
    record_id = await at_state(service, office, State.SUBMITTED)
    async with service.transaction() as repo:  # as a database from before revision 0005
        await repo.session.execute(text("UPDATE step_runs SET completed_by_name = NULL"))
        await repo.session.execute(text("UPDATE audit_log SET actor_name = NULL"))
    record = await service.record(office.admin, record_id)
    assert record.runs[0].completed_by_name == "Rina Petugas"
    details = await RegisterService(service).details(office.admin, record)
    assert {e.actor_name for e in details.trail} == {"Rina Petugas"}


async def test_a_correction_keeps_each_field_with_its_old_and_new_value(
    service: PpidService, office: Office
) -> None:
    record_id = await draft_with_file(service, office.petugas)
    await service.update_fields(
        office.petugas,
        record_id,
        {
            "title": "Data pribadi pemilih disabilitas Kota Padang",
            "pasal17": ("h", "j"),
            "period": ExemptionPeriod(PeriodKind.UNTIL_DATE, until=date(2031, 1, 1)),
            "classified_date": date(2026, 11, 21),
            "consequence": "Membuka rahasia pribadi; merugikan pemilih bila dibuka.",  # as it was
        },
    )
    await service.complete_produce(office.petugas, record_id, verified=True)
    await service.update_fields(office.dokumentasi, record_id, {"division_id": 2})
    trail = [e for e in await service.audit_trail(office.admin, record_id)]
    first, second = [e for e in trail if e.action == "record.updated"]
    assert first.actor_name == "Rina Petugas"
    assert first.details["changes"] == {
        "title": {
            "old": "Data pribadi pemilih disabilitas",
            "new": "Data pribadi pemilih disabilitas Kota Padang",
        },
        "pasal17": {"old": ["h"], "new": ["h", "j"]},
        "period": {
            "old": {"kind": "permanent"},
            "new": {"kind": "until_date", "until": "2031-01-01"},
        },
        "classified_date": {"old": "2026-11-20", "new": "2026-11-21"},
    }
    assert second.details["changes"] == {
        "division_id": {
            "old": {"id": 1, "name": "Keuangan, Umum dan Logistik"},
            "new": {
                "id": 2,
                "name": "Teknis Penyelenggaraan Pemilu, Partisipasi dan Hubungan Masyarakat",
            },
        }
    }
    assert await service.verify_audit_chain() == []


async def test_an_added_person_gets_a_clean_official_name(
    service: PpidService, office: Office
) -> None:
    person = await service.add_person(555, "  Lina \n  Marlina ", Role.PETUGAS_DOKUMENTASI)
    assert person.full_name == "Lina Marlina"
    with pytest.raises(InvalidInput, match="Nama terlalu pendek"):
        await service.add_person(556, " x ", Role.PETUGAS_DOKUMENTASI)
    assert await service.actor_by_telegram(556) is None


# -- invitations --------------------------------------------------------------------------
async def test_an_invitation_with_a_name_makes_it_the_official_name(
    service: PpidService, office: Office
) -> None:
    invitation = await service.create_invitation(
        office.admin, Role.PEJABAT_PPID, name=" Nina  Kartika "
    )
    assert invitation.name == "Nina Kartika"
    redeemed = await PeopleService(service).redeem(invitation.code, 7001, "Nina", "nina")
    assert (redeemed.actor.full_name, redeemed.actor.telegram_name) == ("Nina Kartika", "Nina")
    assert redeemed.role is Role.PEJABAT_PPID
    assert redeemed.invited_by_name == "Admin 900"
    assert [a.user_id for a in redeemed.admins] == [office.admin.user_id]
    later = await service.touch_user(7001, "Nina K", "nina")
    assert later is not None and later.full_name == "Nina Kartika"
    with pytest.raises(InvalidInput, match="Nama terlalu pendek"):
        await service.create_invitation(office.admin, Role.PEJABAT_PPID, name="N")


async def test_admins_list_and_revoke_open_invitations(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    people = PeopleService(service)
    used = await service.create_invitation(office.admin, Role.PEJABAT_PPID)
    await people.redeem(used.code, 7001, "Nina", None)
    expired = await service.create_invitation(office.admin, Role.ADMIN)
    clock.advance(timedelta(hours=1))
    later = await service.create_invitation(office.admin, Role.PETUGAS_PPID, 2, name="Tono")
    clock.advance(timedelta(hours=23, minutes=30))  # ``expired`` ended 30 minutes ago
    [listed] = await people.open_invitations(by=office.admin)
    assert (listed.id, listed.role, listed.name) == (later.id, Role.PETUGAS_PPID, "Tono")
    assert listed.division_name == DIVISION_2
    assert listed.created_by_name == "Admin 900"
    assert listed.expires_at == later.expires_at
    assert [i.id for i in await people.open_invitations()] == [later.id]  # the CLI
    with pytest.raises(InvitationInvalid):
        await people.redeem(expired.code, 7003, "Terlambat", None)
    with pytest.raises(PermissionDenied):
        await people.open_invitations(by=office.pejabat)
    with pytest.raises(PermissionDenied):
        await people.revoke_invitation(later.id, by=office.pejabat)

    revoked = await people.revoke_invitation(later.id, by=office.admin)
    assert revoked.name == "Tono"
    assert await people.open_invitations() == []
    with pytest.raises(InvalidTransition):
        await people.revoke_invitation(later.id, by=office.admin)
    with pytest.raises(InvalidTransition):
        await people.revoke_invitation(used.id)
    with pytest.raises(NotFound):
        await people.revoke_invitation(9999)
    with pytest.raises(InvitationInvalid):
        await people.redeem(later.code, 7002, "Tono", None)
    assert await service.actor_by_telegram(7002) is None
    async with service.transaction() as repo:
        actions = [e.action for e in await repo.audit_entries()]
    assert actions.count("invitation.revoked") == 1


async def test_ten_wrong_codes_in_an_hour_make_an_account_wait(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    people = PeopleService(service)
    good = await service.create_invitation(office.admin, Role.PEJABAT_PPID)
    for attempt in range(1, MAX_WRONG_CODES):
        with pytest.raises(InvitationInvalid) as refused:
            await people.redeem(f"tebakan-{attempt}", 4242, "Penebak", "penebak")
        assert not isinstance(refused.value, InvitationBlocked)
        clock.advance(timedelta(minutes=5))
    # 9 wrong codes over 45 minutes; the 10th makes the account wait, and the admins hear.
    first_at = clock.now() - timedelta(minutes=5 * (MAX_WRONG_CODES - 1))
    with pytest.raises(TooManyWrongCodes) as blocked:
        await PeopleService(service).redeem("tebakan-10", 4242, "Penebak", "penebak")
    assert blocked.value.until == first_at + timedelta(hours=1)
    assert blocked.value.attempt.attempts == MAX_WRONG_CODES
    assert [a.user_id for a in blocked.value.admins] == [office.admin.user_id]

    # Even the right code is refused until the hour has passed, and is not counted.
    clock.advance(timedelta(minutes=10))
    with pytest.raises(InvitationBlocked) as waiting:
        await people.redeem(good.code, 4242, "Penebak", "penebak")
    assert not isinstance(waiting.value, TooManyWrongCodes)
    assert waiting.value.until == first_at + timedelta(hours=1)
    assert await service.actor_by_telegram(4242) is None
    # Somebody else is not affected.
    other = await service.create_invitation(office.admin, Role.PEJABAT_PPID)
    await people.redeem(other.code, 4343, "Orang Lain", None)

    # Past the hour of the first wrong code one more try is counted; a wrong one blocks
    # again at once, but the admins were told within the hour already.
    clock.advance(first_at + timedelta(hours=1, seconds=1) - clock.now())
    with pytest.raises(TooManyWrongCodes) as again:
        await people.redeem("tebakan-11", 4242, "Penebak", "penebak")
    assert again.value.admins == ()
    assert again.value.until == first_at + timedelta(minutes=5, hours=1)

    clock.advance(timedelta(hours=1))
    redeemed = await people.redeem(good.code, 4242, "Penebak", "penebak")
    assert redeemed.role is Role.PEJABAT_PPID
    async with service.transaction() as repo:
        entries = await repo.audit_entries()
    failed = [e for e in entries if e.action == "invitation.failed"]
    assert len(failed) == MAX_WRONG_CODES + 1
    assert '"telegram_id":4242' in failed[0].details
    assert '"username":"penebak"' in failed[0].details
    assert [e.action for e in entries].count("invitation.blocked") == 2


# -- revoking a role ----------------------------------------------------------------------
async def test_revoking_the_last_holder_of_a_role_with_open_steps_is_warned_about(
    service: PpidService, office: Office
) -> None:
    people = PeopleService(service)
    # Nothing waits yet: no warning for anyone.
    assert (
        await people.revocation_warning(office.dokumentasi.user_id, Role.PETUGAS_DOKUMENTASI)
        is None
    )
    submitted = await at_state(service, office, State.SUBMITTED)
    warning = await people.revocation_warning(office.dokumentasi.user_id, Role.PETUGAS_DOKUMENTASI)
    assert warning is not None
    assert (warning.step, warning.open_steps, warning.division_name) == (Step.HANDOVER, 1, None)
    # With a second Petugas Dokumentasi there is someone left.
    await service.add_person(202, "Tari Dokumentasi", Role.PETUGAS_DOKUMENTASI)
    assert (
        await people.revocation_warning(office.dokumentasi.user_id, Role.PETUGAS_DOKUMENTASI)
        is None
    )

    # A Petugas PPID is counted per division: division 2's only one, with a draft there.
    await service.create_draft(office.petugas_other, sample_fields(2, title="Draf bagian 2"))
    warning = await people.revocation_warning(office.petugas_other.user_id, Role.PETUGAS_PPID)
    assert warning is not None
    assert (warning.step, warning.open_steps, warning.division_name) == (
        Step.PRODUCE,
        1,
        DIVISION_2,
    )
    assert await people.revocation_warning(office.petugas.user_id, Role.PETUGAS_PPID) is None

    # Two Pejabat PPID: revoking one leaves the other; the second then is the last.
    await service.complete_handover(office.dokumentasi, submitted)
    assert await people.revocation_warning(office.pejabat.user_id, Role.PEJABAT_PPID) is None
    await service.revoke_role(office.pejabat2.user_id, Role.PEJABAT_PPID, by=office.admin)
    warning = await people.revocation_warning(office.pejabat.user_id, Role.PEJABAT_PPID)
    assert warning is not None and (warning.step, warning.open_steps) == (Step.RECEIVE, 1)
    # Roles without a step, or a role the person does not hold: nothing to warn about.
    assert await people.revocation_warning(office.admin.user_id, Role.ADMIN) is None
    assert await people.revocation_warning(office.admin.user_id, Role.PEJABAT_PPID) is None
