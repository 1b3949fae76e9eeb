"""People in the domain: official names beside Telegram names, names kept in history, and
corrections that say what changed; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from sop.errors import InvalidInput
from sop.model import ExemptionPeriod, PeriodKind, Role, State, Step
from sop.register import RegisterService
from sop.service import PpidService
from tests.conftest import Office
from tests.test_workflow import at_state, draft_with_file


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
