"""The register of exempted information (DIK): queries, filters, paging, who sees what,
search, the "opened" mark and ending exemptions, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from sop.clock import ManualClock
from sop.errors import (
    InvalidInput,
    InvalidTransition,
    NotRegistered,
    PermissionDenied,
    SopError,
)
from sop.model import Actor, DurationUnit, ExemptionPeriod, PeriodKind, Role, State
from sop.register import RegisterFilter, RegisterService, RegisterStatus
from sop.service import PpidService
from tests.conftest import PDF_BYTES, Office, chunks_of, sample_fields

_unique = itertools.count(1)


async def make_record(
    service: PpidService,
    office: Office,
    state: State = State.STORED,
    *,
    petugas: Actor | None = None,
    **overrides: object,
) -> int:
    """A record of ``petugas``'s division (default: division 1) brought to ``state``."""
    petugas = petugas or office.petugas
    record = await service.create_draft(
        petugas, sample_fields(petugas.division_id or 1, **overrides)
    )
    content = PDF_BYTES + f"% {next(_unique)}\n".encode()
    await service.attach_file(petugas, record.id, chunks_of(content), "a.pdf", "application/pdf")
    if state is State.CANCELLED:
        await service.cancel_draft(petugas, record.id, "salah input")
        return record.id
    if state is State.DRAFT:
        return record.id
    await service.complete_produce(petugas, record.id, verified=True)
    if state is State.SUBMITTED:
        return record.id
    await service.complete_handover(office.dokumentasi, record.id)
    if state is State.REGISTERED:
        return record.id
    await service.complete_receive(office.pejabat, record.id)
    return record.id


def ids(page: object) -> list[int]:
    return [entry.record.id for entry in page.items]  # type: ignore[attr-defined]


async def test_register_is_newest_first_and_paged(service: PpidService, office: Office) -> None:
    made = [await make_record(service, office, title=f"Informasi nomor {n}") for n in range(5)]
    register = RegisterService(service)

    first = await register.register(office.pejabat, page=1, page_size=2)
    assert (first.total, first.pages, first.page) == (5, 3, 1)
    assert ids(first) == [made[4], made[3]]
    assert first.items[0].record.fields.title == "Informasi nomor 4"
    assert first.items[0].record.register_number == "DIK-2026-0005"

    second = await register.register(office.pejabat, page=2, page_size=2)
    assert ids(second) == [made[2], made[1]]
    last = await register.register(office.pejabat, page=3, page_size=2)
    assert ids(last) == [made[0]]
    # Out-of-range pages are clamped, never empty by accident.
    assert (await register.register(office.pejabat, page=99, page_size=2)).page == 3
    assert ids(await register.register(office.pejabat, page=0, page_size=2)) == ids(first)


async def test_an_empty_register_has_one_empty_page(service: PpidService, office: Office) -> None:
    page = await RegisterService(service).register(office.admin)
    assert (page.items, page.total, page.page, page.pages) == ((), 0, 1, 1)


async def test_filters_by_status_division_letter_and_year(
    service: PpidService, office: Office
) -> None:
    register = RegisterService(service)
    stored_h = await make_record(service, office)
    in_step2 = await make_record(service, office, State.SUBMITTED, pasal17=("i",))
    cancelled = await make_record(service, office, State.CANCELLED)
    temporary = ExemptionPeriod(PeriodKind.DURATION, amount=2, unit=DurationUnit.YEARS)
    other_division = await make_record(
        service,
        office,
        petugas=office.petugas_other,
        pasal17=("a", "h"),
        period=temporary,
        classified_date=date(2025, 3, 1),
    )
    opened = await make_record(service, office, pasal17=("j",))
    await register.mark_opened(office.pejabat, opened, date(2026, 11, 23))

    async def listed(**filters: object) -> set[int]:
        page = await register.register(office.admin, RegisterFilter(**filters), page_size=50)  # type: ignore[arg-type]
        assert page.total == len(page.items)
        return set(ids(page))

    # Withdrawn drafts are left out; everything else is listed.
    assert await listed() == {stored_h, in_step2, other_division, opened}
    assert await listed(status=RegisterStatus.IN_PROGRESS) == {in_step2}
    assert await listed(status=RegisterStatus.STORED) == {stored_h, other_division}
    assert await listed(status=RegisterStatus.OPENED) == {opened}
    with pytest.raises(InvalidInput):  # withdrawn drafts are not in the register at all
        await listed(status=RegisterStatus.CANCELLED)
    assert cancelled not in await listed(year=2026)
    assert await listed(division_id=2) == {other_division}
    assert await listed(division_id=1, status=RegisterStatus.STORED) == {stored_h}
    assert await listed(division_id=4) == set()
    # "a" matches the letter in "a,h" and nothing else; "h" matches both records with h.
    assert await listed(letter="a") == {other_division}
    assert await listed(letter="h") == {stored_h, other_division}
    assert await listed(letter="i") == {in_step2}
    assert await listed(year=2025) == {other_division}
    assert await listed(year=2026) == {stored_h, in_step2, opened}
    assert await listed(year=2026, letter="h", division_id=1) == {stored_h}
    with pytest.raises(InvalidInput):
        await register.register(office.admin, RegisterFilter(letter="k"))

    page = await register.register(office.admin, RegisterFilter(status=RegisterStatus.OPENED))
    assert page.items[0].opened_on == date(2026, 11, 23)
    assert page.items[0].status is RegisterStatus.OPENED
    assert await register.years(office.admin) == [2026, 2025]


async def test_who_sees_what(service: PpidService, office: Office) -> None:
    register = RegisterService(service)
    first = await make_record(service, office)
    draft = await make_record(service, office, State.DRAFT, title="Draf bagian satu")
    second = await make_record(service, office, petugas=office.petugas_other)

    for everyone in (office.pejabat, office.dokumentasi, office.admin):
        assert set(ids(await register.register(everyone))) == {first, draft, second}
    assert set(ids(await register.register(office.petugas))) == {first, draft}
    # A Petugas PPID of another division sees nothing of division 1, not even by filter,
    # search, expiry list or count.
    other = await register.register(office.petugas_other, RegisterFilter(division_id=1))
    assert (other.total, other.items) == (0, ())
    assert ids(await register.register(office.petugas_other)) == [second]
    assert ids(await register.search(office.petugas_other, "bagian satu")) == []
    assert ids(await register.search(office.petugas, "bagian satu")) == [draft]
    assert await register.years(office.petugas_other) == [2026]

    await service.revoke_role(office.petugas_other.user_id, Role.PETUGAS_PPID)
    with pytest.raises(NotRegistered):
        await register.register(office.petugas_other)
    with pytest.raises(NotRegistered):
        await register.search(office.petugas_other, "data")
    with pytest.raises(NotRegistered):
        await register.expiring(office.petugas_other)
    nobody = Actor(
        user_id=office.petugas.user_id,
        telegram_id=office.petugas.telegram_id,
        full_name="x",
        username=None,
        roles=frozenset(),
        division_id=1,
    )
    assert RegisterService._scope(office.admin) == {}
    with pytest.raises(PermissionDenied):
        RegisterService._scope(nobody)


async def test_search_titles_and_descriptions(service: PpidService, office: Office) -> None:
    register = RegisterService(service)
    by_title = await make_record(service, office, title="Notulen rapat pleno tertutup")
    by_text = await make_record(
        service, office, description="Memuat NOTULEN rapat dan nama saksi 100% lengkap."
    )
    await make_record(service, office, title="Data kesehatan pegawai")

    found = await register.search(office.dokumentasi, "notulen")
    assert ids(found) == [by_text, by_title]
    assert found.total == 2
    assert ids(await register.search(office.dokumentasi, "  Rapat   Pleno ")) == [by_title]
    # LIKE wildcards are literal characters.
    assert ids(await register.search(office.dokumentasi, "100%")) == [by_text]
    assert ids(await register.search(office.dokumentasi, "1_0")) == []
    assert ids(await register.search(office.dokumentasi, "tidak ada")) == []
    with pytest.raises(InvalidInput, match="minimal 2"):
        await register.search(office.dokumentasi, " a ")
    with pytest.raises(InvalidInput):
        await register.search(office.dokumentasi, "x" * 101)
    few = await register.search(office.dokumentasi, "rapat", limit=1)
    assert (ids(few), few.total) == ([by_text], 2)


async def test_mark_opened(service: PpidService, office: Office, clock: ManualClock) -> None:
    register = RegisterService(service)
    stored = await make_record(service, office)
    draft = await make_record(service, office, State.DRAFT)

    for not_allowed in (office.petugas, office.dokumentasi):
        with pytest.raises(PermissionDenied):
            await register.mark_opened(not_allowed, stored, date(2026, 11, 23))
    with pytest.raises(InvalidTransition):
        await register.mark_opened(office.pejabat, draft, date(2026, 11, 23))
    with pytest.raises(InvalidInput, match="masa depan"):
        await register.mark_opened(office.pejabat, stored, date(2026, 11, 24))
    with pytest.raises(InvalidInput, match="penetapan"):
        await register.mark_opened(office.pejabat, stored, date(2026, 11, 19))

    before = await service.record(office.pejabat, stored)
    entry = await register.mark_opened(office.pejabat, stored, date(2026, 11, 21))
    assert entry.opened_on == date(2026, 11, 21)
    assert entry.status is RegisterStatus.OPENED
    assert entry.record.version == before.version + 1
    with pytest.raises(InvalidInput, match="21-11-2026"):
        await register.mark_opened(office.admin, stored, date(2026, 11, 22))

    trail = await service.audit_trail(office.pejabat, stored)
    assert trail[-1].action == "record.opened"
    assert trail[-1].actor_user_id == office.pejabat.user_id
    assert trail[-1].details == {"opened_on": "2026-11-21", "ends_on": None}
    assert await service.verify_audit_chain() == []
    # An admin may open as well.
    other = await make_record(service, office)
    assert (await register.mark_opened(office.admin, other, date(2026, 11, 23))).opened_on


async def test_expiring_lists_exemptions_ending_within_90_days(
    service: PpidService, office: Office
) -> None:
    register = RegisterService(service)
    today = service.today()
    soon = await make_record(
        service,
        office,
        pasal17=("a",),
        period=ExemptionPeriod(PeriodKind.UNTIL_DATE, until=today + timedelta(days=10)),
    )
    # Classified 20 Nov 2026 for 3 months: ends 20 Feb 2027, 89 days after 23 Nov 2026.
    three_months = await make_record(
        service,
        office,
        State.SUBMITTED,
        pasal17=("b",),
        period=ExemptionPeriod(PeriodKind.DURATION, amount=3, unit=DurationUnit.MONTHS),
    )
    # Classified long ago for 30 days: already ended and not yet opened.
    ended = await make_record(
        service,
        office,
        pasal17=("c",),
        classified_date=date(2026, 1, 5),
        period=ExemptionPeriod(PeriodKind.DURATION, amount=30, unit=DurationUnit.DAYS),
    )
    await make_record(  # a year away
        service,
        office,
        pasal17=("d",),
        period=ExemptionPeriod(PeriodKind.DURATION, amount=1, unit=DurationUnit.YEARS),
    )
    await make_record(service, office)  # permanent
    await make_record(
        service, office, period=ExemptionPeriod(PeriodKind.CONDITION, condition="ada izin")
    )
    other = await make_record(
        service,
        office,
        petugas=office.petugas_other,
        pasal17=("e",),
        period=ExemptionPeriod(PeriodKind.UNTIL_DATE, until=today + timedelta(days=5)),
    )
    opened = await make_record(
        service,
        office,
        pasal17=("f",),
        period=ExemptionPeriod(PeriodKind.UNTIL_DATE, until=today + timedelta(days=3)),
    )
    await register.mark_opened(office.pejabat, opened, today)

    found = await register.expiring(office.pejabat)
    assert found.total == 4
    assert [(e.entry.record.id, e.ends_on, e.days_left) for e in found.items] == [
        (ended, date(2026, 2, 4), -292),
        (other, today + timedelta(days=5), 5),
        (soon, today + timedelta(days=10), 10),
        (three_months, date(2027, 2, 20), 89),
    ]
    assert [e.entry.record.id for e in (await register.expiring(office.petugas)).items] == [
        ended,
        soon,
        three_months,
    ]
    assert [e.entry.record.id for e in (await register.expiring(office.petugas_other)).items] == [
        other
    ]
    assert [e.entry.record.id for e in (await register.expiring(office.admin, 7)).items] == [
        ended,
        other,
    ]
    # Only the first ones are read, with how many there are in all.
    first = await register.expiring(office.pejabat, limit=2)
    assert ([e.entry.record.id for e in first.items], first.total) == ([ended, other], 4)
    # The end day is kept with the fields: a correction moves it.
    longer = ExemptionPeriod(PeriodKind.UNTIL_DATE, until=today + timedelta(days=200))
    await service.update_fields(office.dokumentasi, three_months, {"period": longer})
    assert three_months not in [
        e.entry.record.id for e in (await register.expiring(office.admin)).items
    ]


async def test_details_measure_each_step_and_name_the_audit_actors(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    register = RegisterService(service)
    record = await service.create_draft(office.petugas, sample_fields())
    await service.attach_file(
        office.petugas, record.id, chunks_of(PDF_BYTES), "a.pdf", "application/pdf"
    )
    clock.advance(timedelta(minutes=20))
    await service.complete_produce(office.petugas, record.id, verified=True)
    clock.advance(timedelta(minutes=90))
    await service.complete_handover(office.dokumentasi, record.id)
    clock.advance(timedelta(minutes=5))
    view = await service.record(office.pejabat, record.id)

    details = await register.details(office.pejabat, view, trail_limit=3)
    step1, step2, step3 = (details.time_of(run) for run in view.runs)
    assert step1 is not None and step2 is not None and step3 is not None
    assert (step1.wall, step1.finished, step1.on_time) == (timedelta(minutes=20), True, True)
    assert (step2.wall, step2.on_time) == (timedelta(minutes=90), False)
    assert (step3.wall, step3.finished, step3.on_time) == (timedelta(minutes=5), False, None)
    assert details.trail_total == 4
    assert [(e.action, e.actor_name) for e in details.trail] == [
        ("file.stored", "Rina Petugas"),
        ("step1.done", "Rina Petugas"),
        ("step2.done", "Sari Dokumentasi"),
    ]
    assert details.opened_on is None and details.ends_on is None
    with pytest.raises(SopError):
        await register.details(office.petugas_other, view)


async def test_report_data_follows_visibility(service: PpidService, office: Office) -> None:
    register = RegisterService(service)
    first = await make_record(service, office)
    await make_record(service, office, State.CANCELLED)
    second = await make_record(service, office, petugas=office.petugas_other)

    everything = await register.report_data()
    assert [r.entry.record.id for r in everything.records] == [first, second]
    assert [len(r.times) for r in everything.records] == [3, 3]
    assert all(t.on_time for r in everything.records for t in r.times)
    mine = await register.report_data(office.petugas_other)
    assert [r.entry.record.id for r in mine.records] == [second]
    assert everything.standard == timedelta(hours=1)


def test_a_long_audit_trail_is_cut_to_fit_the_card() -> None:
    from datetime import UTC, datetime

    from bot.texts import records as record_texts
    from sop.model import RecordView
    from sop.register import RecordDetails, TrailEntry

    at = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    record = RecordView(
        id=1,
        number="BRK-1",
        register_number=None,
        fields=sample_fields(
            description="x" * 2000, consequence="y" * 1000, other_legal_basis="z" * 400
        ),
        division_name="Hukum",
        state=State.DRAFT,
        version=1,
        created_by=1,
        created_by_name="Rina",
        created_at=at,
        updated_at=at,
        return_reason=None,
        current_run=None,
    )
    trail = tuple(
        TrailEntry(seq, at, "Rina <Petugas>", "file.read", {"name": "surat & lampiran.pdf"})
        for seq in range(1, 201)
    )
    details = RecordDetails(None, None, {}, trail[-10:], trail_total=200)
    text = record_texts.card(record, at, details=details)
    assert len(text) <= record_texts.CARD_LIMIT
    assert "Jejak audit (200 entri, " in text
    assert (
        "• #200 23-11-2026 08.00 WIB · Rina &lt;Petugas&gt; · softcopy diunduh: surat &amp; "
        in text
    )
    shown = text.count("softcopy diunduh")
    assert 1 <= shown < 10 and f"{shown} terakhir" in text


async def test_lines_say_who_holds_the_open_step(service: PpidService, office: Office) -> None:
    register = RegisterService(service)
    both = await service.add_person(203, "Tono Dokumentasi", Role.PETUGAS_DOKUMENTASI)
    await service.add_person(203, "Tono Dokumentasi", Role.PEJABAT_PPID)
    draft = await make_record(service, office, State.DRAFT, petugas=office.petugas_other)
    handed = await make_record(service, office, State.SUBMITTED)
    await service.complete_handover(both, handed)  # Tono may not receive what he handed over
    stored = await make_record(service, office)

    entries = {e.record.id: e for e in (await register.register(office.admin)).items}
    assert entries[draft].holders == ("Budi Petugas",)
    assert entries[handed].holders == ("Andi Pejabat", "Dewi Pejabat")
    assert entries[stored].holders == ()
    view = await service.record(office.admin, handed)
    details = await register.details(office.admin, view)
    assert details.holders == ("Andi Pejabat", "Dewi Pejabat")


async def test_a_register_page_costs_the_same_whatever_the_archive(
    service: PpidService, office: Office, engine: object
) -> None:
    """One page reads its rows, their runs, names, divisions and the staff: a fixed number
    of queries, not one per record and not one per record in the archive."""
    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import AsyncEngine

    assert isinstance(engine, AsyncEngine)
    register = RegisterService(service)
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    async def cost() -> int:
        statements.clear()
        event.listen(engine.sync_engine, "before_cursor_execute", count)
        try:
            page = await register.register(office.pejabat, page=2)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", count)
        assert len(page.items) == 10
        return len([s for s in statements if s.lstrip().upper().startswith("SELECT")])

    for n in range(20):
        await make_record(service, office, State.SUBMITTED if n % 2 else State.STORED)
    small = await cost()
    for _ in range(15):
        await make_record(service, office, State.REGISTERED)
    assert await cost() == small <= 8


async def test_kedaluwarsa_says_how_many_it_leaves_out(
    service: PpidService, office: Office
) -> None:
    from bot.texts import register as texts

    today = service.today()
    for n in range(4):
        await make_record(
            service,
            office,
            pasal17=("a",),
            period=ExemptionPeriod(PeriodKind.UNTIL_DATE, until=today + timedelta(days=10 + n)),
        )
    found = await RegisterService(service).expiring(office.pejabat, limit=3)
    text, shown = texts.expiring_list(found, 90)
    assert shown == 3 and "berakhir dalam 90 hari</b> (4):" in text
    assert "… dan 1 lainnya (yang berakhir lebih lambat)." in text
