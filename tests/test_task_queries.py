"""/tugas as a query: the records whose open step waits on a person are read by index
(``records.due_step``) and are exactly those ``PpidService.may_act`` allows, for every
role and mix of roles, under both four-eyes modes; the total is right when only the
first are read; the kept step and due time follow every step change. And /cari's
full-text index: words, prefixes, several words, edits, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import ReminderSentRow
from sop.clock import ManualClock
from sop.four_eyes import FourEyes
from sop.model import Actor, Role, State, Step
from sop.register import RegisterService, search_words
from sop.service import PpidService
from tests.conftest import Office, chunks_of, sample_fields
from tests.support.documents import minimal_pdf
from tests.test_register import make_record


async def draft(service: PpidService, petugas: Actor, tag: str) -> int:
    record = await service.create_draft(
        petugas, sample_fields(petugas.division_id or 1, title=f"Berkas {tag}")
    )
    await service.attach_file(
        petugas, record.id, chunks_of(minimal_pdf(tag)), "surat.pdf", "application/pdf"
    )
    return record.id


async def expected_tasks(
    service: PpidService, admin: Actor, actor: Actor, ids: list[int]
) -> list[int]:
    """The rule of ``may_act`` applied to each record in Python, soonest due first."""
    views = [await service.record(admin, record_id) for record_id in ids]
    waiting = [v for v in views if v.current_run is not None and service.may_act(actor, v)]
    waiting.sort(key=lambda v: (v.current_run.due_at, v.id))  # type: ignore[union-attr]
    return [v.id for v in waiting]


@pytest.mark.parametrize("mode", [FourEyes.STRICT, FourEyes.STANDARD])
async def test_tasks_are_exactly_what_may_act_allows(
    service: PpidService, office: Office, clock: ManualClock, mode: FourEyes
) -> None:
    service.four_eyes = mode
    # A small office's people with more than one role.
    yusuf = await service.add_person(601, "Yusuf Ganda", Role.PETUGAS_PPID, division_id=1)
    yusuf = await service.add_person(601, "Yusuf Ganda", Role.PEJABAT_PPID)
    hana = await service.add_person(602, "Hana Dok", Role.PETUGAS_DOKUMENTASI)
    hana = await service.add_person(602, "Hana Dok", Role.PEJABAT_PPID)
    ids: list[int] = []

    async def step() -> None:
        clock.advance(timedelta(minutes=7))

    ids.append(await draft(service, office.petugas, "d1"))  # step 1, division 1
    await step()
    ids.append(await draft(service, office.petugas_other, "d2"))  # step 1, division 2
    await step()
    ids.append(await draft(service, yusuf, "y1"))  # step 1 by Yusuf
    await step()
    submitted = await draft(service, office.petugas, "s1")
    await service.complete_produce(office.petugas, submitted, verified=True)
    ids.append(submitted)  # step 2
    await step()
    by_yusuf = await draft(service, yusuf, "y2")
    await service.complete_produce(yusuf, by_yusuf, verified=True)
    await service.complete_handover(office.dokumentasi, by_yusuf)
    ids.append(by_yusuf)  # step 3, produced by Yusuf
    await step()
    by_hana = await draft(service, office.petugas, "h1")
    await service.complete_produce(office.petugas, by_hana, verified=True)
    await service.complete_handover(hana, by_hana)
    ids.append(by_hana)  # step 3, handed over by Hana
    await step()
    rehanded = await draft(service, office.petugas_other, "h2")
    await service.complete_produce(office.petugas_other, rehanded, verified=True)
    await service.complete_handover(hana, rehanded)
    await service.return_record(office.pejabat, rehanded, Step.HANDOVER, "Salah unggah")
    await service.complete_handover(office.dokumentasi, rehanded)
    ids.append(rehanded)  # step 3, handed over by Hana once, then by someone else
    await step()
    redone = await draft(service, office.petugas, "r1")
    await service.complete_produce(office.petugas, redone, verified=True)
    await service.complete_handover(office.dokumentasi, redone)
    await service.return_record(office.pejabat, redone, Step.PRODUCE, "Tanda tangan kurang")
    await service.complete_produce(yusuf, redone, verified=True)
    await service.complete_handover(office.dokumentasi, redone)
    ids.append(redone)  # step 3, step 1 redone by Yusuf
    ids.append(await make_record(service, office))  # stored: waits on nobody
    ids.append(await make_record(service, office, State.CANCELLED))

    people = [office.petugas, office.petugas_other, office.dokumentasi, office.pejabat]
    for actor in [*people, office.pejabat2, office.admin, yusuf, hana]:
        expected = await expected_tasks(service, office.admin, actor, ids)
        tasks, total = await service.task_page(actor)
        assert [task.record.id for task in tasks] == expected, actor.full_name
        assert total == len(expected)
        first, total = await service.task_page(actor, limit=2)
        assert [task.record.id for task in first] == expected[:2], actor.full_name
        assert total == len(expected), actor.full_name
    # The rule's edges, spelled out.
    yusuf_tasks = [task.record.id for task in await service.tasks(yusuf)]
    assert ids[0] in yusuf_tasks and ids[2] in yusuf_tasks and ids[1] not in yusuf_tasks
    assert (by_yusuf in yusuf_tasks) is (mode is FourEyes.STANDARD)
    assert (redone in yusuf_tasks) is (mode is FourEyes.STANDARD)
    hana_tasks = [task.record.id for task in await service.tasks(hana)]
    assert by_hana not in hana_tasks and rehanded in hana_tasks and submitted in hana_tasks
    waiting, count = await service.waiting_for_step(hana, Step.HANDOVER)
    assert ([r.id for r in waiting], count) == ([submitted], 1)


async def test_the_kept_step_follows_every_change(
    service: PpidService, office: Office, engine: AsyncEngine
) -> None:
    """``records.due_step``/``due_at`` equal the open run's step and due time after
    each change (new draft, steps, return, withdrawal), and are empty without one."""

    async def mismatches() -> list[tuple[int, object, object]]:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT r.id, r.due_step, s.step FROM records r "
                    "LEFT JOIN step_runs s ON s.record_id = r.id AND s.completed_at IS NULL "
                    "WHERE r.due_step IS NOT s.step OR r.due_at IS NOT s.due_at"
                    if engine.dialect.name == "sqlite"
                    else "SELECT r.id, r.due_step, s.step FROM records r "
                    "LEFT JOIN step_runs s ON s.record_id = r.id AND s.completed_at IS NULL "
                    "WHERE r.due_step IS DISTINCT FROM s.step "
                    "OR r.due_at IS DISTINCT FROM s.due_at"
                )
            )
            return [tuple(row) for row in rows.all()]

    record = await draft(service, office.petugas, "x")
    assert await mismatches() == []
    await service.complete_produce(office.petugas, record, verified=True)
    await service.complete_handover(office.dokumentasi, record)
    assert await mismatches() == []
    await service.return_record(office.pejabat, record, Step.PRODUCE, "Kurang lengkap")
    assert await mismatches() == []
    await make_record(service, office)
    withdrawn = await make_record(service, office, State.CANCELLED)
    assert await mismatches() == []
    async with engine.connect() as connection:
        kept = await connection.execute(
            text("SELECT due_step, due_at FROM records WHERE id = :id"), {"id": withdrawn}
        )
        assert kept.one() == (None, None)


async def test_search_finds_words_and_their_beginnings(
    service: PpidService, office: Office
) -> None:
    register = RegisterService(service)
    minutes = await make_record(
        service, office, title="Notulen rapat pleno penetapan calon", description="Rahasia."
    )
    coast = await make_record(
        service, office, description="Peta wilayah pesisir pantai barat, lampiran tertutup."
    )
    other = await make_record(
        service, office, State.DRAFT, petugas=office.petugas_other, title="Pesisir selatan"
    )

    def ids(page: object) -> list[int]:
        return [entry.record.id for entry in page.items]  # type: ignore[attr-defined]

    assert ids(await register.search(office.pejabat, "notul")) == [minutes]
    assert ids(await register.search(office.pejabat, "PESISIR")) == [other, coast]
    assert ids(await register.search(office.pejabat, "pesisir pantai")) == [coast]
    assert ids(await register.search(office.pejabat, "pantai pesisir")) == [coast]
    assert ids(await register.search(office.pejabat, "pesisir utara")) == []
    assert ids(await register.search(office.pejabat, "penetapan calon")) == [minutes]
    # Only what the person may see: a Petugas PPID of division 1 not division 2's draft.
    assert ids(await register.search(office.petugas, "pesisir")) == [coast]
    # An edit of the title is searchable at once (the index follows the record).
    await service.update_fields(office.petugas_other, other, {"title": "Data kepegawaian"})
    assert ids(await register.search(office.pejabat, "pesisir")) == [coast]
    assert ids(await register.search(office.pejabat, "kepegawaian")) == [other]
    # Characters of the search syntax are only separators.
    assert ids(await register.search(office.pejabat, '"notulen* OR -x')) == []
    assert ids(await register.search(office.pejabat, "notulen:* & ('")) == [minutes]
    assert ids(await register.search(office.pejabat, "%%")) == []


def test_search_words() -> None:
    assert search_words("Rapat  PLENO, 100%!") == ["rapat", "pleno", "100"]
    assert search_words("DIK-2026-0001") == ["dik", "2026", "0001"]
    assert search_words("1_0 a'b") == ["1", "0", "a", "b"]
    assert search_words("") == []


async def test_long_in_lists_are_asked_in_chunks(service: PpidService, office: Office) -> None:
    """More ids than PostgreSQL takes parameters (32,767) in one statement still work:
    the notices of tens of thousands of open runs or ending records."""
    record = await draft(service, office.petugas, "n")
    now = service.now()
    async with service.transaction() as repo:
        run = await repo.open_run_of(record)
        assert run is not None
        await repo.add_reminder_sent(
            ReminderSentRow(run_id=run.id, kind="remind", offset_seconds=600, sent_at=now)
        )
        await repo.claim_expiry_notice(record, "30d", now.date(), now)
    many = list(range(1_000_000, 1_035_000))
    async with service.reading() as repo:
        sent = await repo.reminders_sent_for([*many, run.id])
        assert [(row.run_id, row.kind) for row in sent] == [(run.id, "remind")]
        told = await repo.expiry_notices([record, *many])
        assert [(row.record_id, row.kind) for row in told] == [(record, "30d")]
