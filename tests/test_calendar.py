"""The office calendar: "1 jam" is an hour of office time, not of nights, weekends or holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli import main
from bot.config import ConfigError, Settings, load_settings
from db.session import create_sessionmaker
from sop.calendar import OfficeCalendar, WorkingHours, step_timing
from sop.calendar_service import CalendarService
from sop.clock import ManualClock
from sop.deadlines import WallClockCalendar
from sop.errors import InvalidInput, NotFound, PermissionDenied
from sop.model import AuditEntry, RecordView, Role
from sop.service import PpidService, _audit_view
from storage import DocumentStorage
from tests.conftest import sample_fields

WIB = ZoneInfo("Asia/Jakarta")
HOUR = timedelta(hours=1)
DEFAULT = WorkingHours.default()


def wib(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=WIB)


@pytest.fixture(scope="module")
def office() -> OfficeCalendar:
    """The default civil-service week with Indonesia's national holidays."""
    return OfficeCalendar(DEFAULT, WIB)


# -- parsing WORKING_HOURS -------------------------------------------------------------
def test_default_is_the_civil_service_week() -> None:
    assert DEFAULT.intervals(0) == ((7 * 3600 + 1800, 16 * 3600),)
    assert DEFAULT.intervals(3) == ((7 * 3600 + 1800, 16 * 3600),)
    assert DEFAULT.intervals(4) == ((7 * 3600 + 1800, 16 * 3600 + 1800),)
    assert DEFAULT.intervals(5) == DEFAULT.intervals(6) == ()
    assert str(DEFAULT) == "mon-thu 07:30-16:00; fri 07:30-16:30"


@pytest.mark.parametrize(
    "text",
    [
        "senin-kamis 07:30-16:00; jumat 07:30-16:30",
        "mon-thu 07:30-16:00; fri 07:30-16:30",
        "Senin - Kamis 07.30 - 16.00 ; Jum'at 07.30-16.30;",
        "sen,sel,rab,kam 07:30-16:00; fri 07:30:00-16:30:00",
        "mon-thu 07:30-12:00, 12:00-16:00; friday 07:30-16:30",
    ],
)
def test_equivalent_spellings(text: str) -> None:
    assert WorkingHours.parse(text) == DEFAULT


def test_lunch_break_seconds_and_always() -> None:
    hours = WorkingHours.parse("senin-jumat 08:00-12:00, 13:00-16:00; sabtu 08:00:05-08:00:10")
    assert hours.intervals(2) == ((8 * 3600, 12 * 3600), (13 * 3600, 16 * 3600))
    assert hours.intervals(5) == ((8 * 3600 + 5, 8 * 3600 + 10),)
    assert str(hours) == "mon-fri 08:00-12:00, 13:00-16:00; sat 08:00:05-08:00:10"
    assert WorkingHours.parse(str(hours)) == hours
    assert WorkingHours.parse(" Always ").is_always
    assert WorkingHours.parse("minggu 00:00-24:00").intervals(6) == ((0, 86400),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty working hours"),
        ("senin", "expected '<days> <HH:MM-HH:MM>'"),
        ("libur 07:30-16:00", "unknown day 'libur'"),
        ("jumat-senin 07:30-16:00", "goes backwards"),
        ("senin 7-16", "invalid time interval '7-16'"),
        ("senin 07:30-25:00", "hours 00-24"),
        ("senin 07:60-16:00", "minutes and seconds 00-59"),
        ("senin 16:00-07:30", "across midnight"),
        ("senin 08:00-12:00, 11:00-16:00", "overlap"),
        ("senin-jumat 08:00-16:00; rabu 15:00-17:00", "wed: working-hour intervals overlap"),
        (";", "would never be open"),
    ],
)
def test_malformed_hours_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        WorkingHours.parse(text)
    assert message in str(info.value)


def test_settings_default_and_malformed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WORKING_HOURS", raising=False)
    assert load_settings().hours == DEFAULT
    monkeypatch.setenv("WORKING_HOURS", "always")
    assert load_settings().hours.is_always
    monkeypatch.setenv("WORKING_HOURS", "senin-kamis 07:30-16:00; jumat 7.30")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "WORKING_HOURS" in str(info.value)
    assert "invalid time interval '7.30'" in str(info.value)


# -- fixed examples --------------------------------------------------------------------
def test_thursday_afternoon_continues_friday_morning(office: OfficeCalendar) -> None:
    assert office.add(wib(2026, 11, 26, 15, 50), HOUR) == wib(2026, 11, 27, 8, 20)


def test_friday_evening_is_not_overdue_on_saturday(office: OfficeCalendar) -> None:
    friday = wib(2026, 11, 27, 15, 50)
    assert friday.weekday() == 4
    assert office.national_holiday(date(2026, 11, 30)) is None  # an ordinary Monday
    # Friday closes at 16:30: 40 minutes on Friday, the other 20 on Monday morning.
    assert office.add(friday, HOUR) == wib(2026, 11, 30, 7, 50)
    # With a 16:00 Friday, only 10 minutes count on Friday: Monday 08:20.
    early_friday = OfficeCalendar(WorkingHours.parse("senin-jumat 07:30-16:00"), WIB)
    assert early_friday.add(friday, HOUR) == wib(2026, 11, 30, 8, 20)
    assert WallClockCalendar().add(friday, HOUR) == wib(2026, 11, 27, 16, 50)


def test_long_weekend_with_a_national_holiday(office: OfficeCalendar) -> None:
    assert office.national_holiday(date(2026, 8, 17)) == "Hari Kemerdekaan Republik Indonesia"
    # Friday 14 August 16:00: 30 minutes on Friday; Saturday, Sunday and Monday the 17th
    # (Independence Day) are closed; the rest runs on Tuesday.
    assert office.add(wib(2026, 8, 14, 16, 0), HOUR) == wib(2026, 8, 18, 8, 0)
    assert office.working_time_between(wib(2026, 8, 14, 16, 0), wib(2026, 8, 18, 8, 0)) == HOUR


def test_office_closure_with_christmas() -> None:
    plain = OfficeCalendar(DEFAULT, WIB)
    wednesday = wib(2026, 12, 23, 15, 30)
    assert plain.add(wednesday, HOUR) == wib(2026, 12, 24, 8, 0)
    closed = plain.with_closures({date(2026, 12, 24): "Cuti bersama Natal"})
    # Thursday 24 closed by the office, Friday 25 Christmas, then the weekend: Monday.
    assert closed.add(wednesday, HOUR) == wib(2026, 12, 28, 8, 0)
    assert not closed.is_working_day(date(2026, 12, 24))
    assert [
        (d.day, d.kind) for d in closed.closed_days(date(2026, 12, 20), date(2026, 12, 31))
    ] == [
        (date(2026, 12, 24), "office"),
        (date(2026, 12, 25), "national"),
    ]
    plain.set_closures({date(2026, 12, 24): "Cuti bersama Natal"})
    assert plain.add(wednesday, HOUR) == wib(2026, 12, 28, 8, 0)


def test_a_step_started_at_night_starts_when_the_office_opens(office: OfficeCalendar) -> None:
    tuesday_night = wib(2026, 11, 24, 22, 0)
    assert not office.is_open(tuesday_night)
    assert office.next_open(tuesday_night) == wib(2026, 11, 25, 7, 30)
    assert office.add(tuesday_night, HOUR) == wib(2026, 11, 25, 8, 30)
    saturday = wib(2026, 11, 28, 10, 0)
    assert office.add(saturday, HOUR) == wib(2026, 11, 30, 8, 30)
    assert office.is_open(wib(2026, 11, 25, 7, 30))
    assert not office.is_open(wib(2026, 11, 25, 16, 0))  # closing time is closed
    assert office.next_open(wib(2026, 11, 25, 9, 0)) == wib(2026, 11, 25, 9, 0)


def test_subtract_mirrors_add(office: OfficeCalendar) -> None:
    monday = wib(2026, 11, 30, 7, 40)
    assert office.subtract(monday, timedelta(minutes=10)) == wib(2026, 11, 30, 7, 30)
    # 10 minutes on Monday morning, 20 more on Friday afternoon (Friday closes 16:30).
    assert office.subtract(monday, timedelta(minutes=30)) == wib(2026, 11, 27, 16, 10)
    assert office.subtract(wib(2026, 11, 30, 7, 50), HOUR) == wib(2026, 11, 27, 15, 50)
    assert office.add(office.subtract(monday, HOUR), HOUR) == monday
    assert office.add(wib(2026, 11, 30, 8, 0), -HOUR) == office.subtract(
        wib(2026, 11, 30, 8, 0), HOUR
    )


def test_compliance_in_working_time_and_on_the_wall_clock(office: OfficeCalendar) -> None:
    started = wib(2026, 11, 27, 15, 50)
    due = office.add(started, HOUR)  # Monday 07:50
    done = wib(2026, 11, 30, 8, 5)
    timing = step_timing(office, started, due, done)
    assert timing.working == timedelta(hours=1, minutes=15)
    assert timing.working_late == timedelta(minutes=15)
    assert timing.wall == timedelta(days=2, hours=16, minutes=15)
    assert timing.wall_late == timedelta(minutes=15)
    assert not timing.on_time
    early = step_timing(office, started, due, wib(2026, 11, 27, 16, 20))
    assert early.on_time and early.working == timedelta(minutes=30)


def test_long_spans_count_whole_days(office: OfficeCalendar) -> None:
    year = office.working_time_between(wib(2026, 1, 1), wib(2027, 1, 1))
    expected = timedelta(0)
    for n in range(365):
        day = date(2026, 1, 1) + timedelta(days=n)
        if office.national_holiday(day) is None and day.weekday() < 5:
            expected += timedelta(hours=9 if day.weekday() == 4 else 8.5)
    assert year == expected
    assert timedelta(hours=1800) < year < timedelta(hours=2200)
    start = wib(2026, 1, 5, 7, 30)
    assert office.working_time_between(start, office.add(start, year)) == year


def test_wall_clock_calendar_counts_everything() -> None:
    wall = WallClockCalendar()
    moment = wib(2026, 11, 28, 23, 0)
    assert wall.subtract(moment, HOUR) == moment - HOUR
    assert wall.working_time_between(moment, moment + HOUR) == HOUR


def test_naive_datetimes_are_refused(office: OfficeCalendar) -> None:
    with pytest.raises(ValueError, match="naive"):
        office.add(datetime(2026, 11, 27, 15, 50), HOUR)


# -- properties ------------------------------------------------------------------------
SECONDS_OF_DAY = 86400


@st.composite
def working_hours(draw: st.DrawFn) -> WorkingHours:
    """Random weeks: up to three intervals a day, at second granularity, some days closed."""
    week: dict[int, list[tuple[int, int]]] = {}
    for weekday in range(7):
        cuts = sorted(
            draw(
                st.lists(st.integers(0, SECONDS_OF_DAY), min_size=0, max_size=6, unique=True).map(
                    lambda values: values[: len(values) // 2 * 2]
                )
            )
        )
        week[weekday] = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts), 2)]
    weekly = sum(end - start for intervals in week.values() for start, end in intervals)
    assume(weekly >= 4 * 3600)  # else 20 days of working time reach decades ahead
    return WorkingHours.from_intervals(week)


@st.composite
def calendars(draw: st.DrawFn) -> OfficeCalendar:
    closures = draw(
        st.sets(st.dates(date(2026, 1, 1), date(2027, 12, 31)), max_size=15).map(
            lambda days: {day: "Libur kantor" for day in days}
        )
    )
    hours = draw(st.one_of(st.just(DEFAULT), working_hours()))
    return _calendar(hours, draw(st.sampled_from(["Asia/Jakarta", "Europe/Berlin"])), closures)


_NATIONAL = OfficeCalendar(DEFAULT, WIB)._national  # built once: fast examples


def _calendar(hours: WorkingHours, zone: str, closures: dict[date, str]) -> OfficeCalendar:
    return OfficeCalendar(hours, ZoneInfo(zone), closures=closures, _national=_NATIONAL)


moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
durations = st.one_of(
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=3)),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)),
)
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TICK = timedelta(microseconds=1)


@PROPERTY
@given(calendars(), moments, durations, durations)
def test_adding_is_monotonic_in_the_duration(
    calendar: OfficeCalendar, start: datetime, a: timedelta, b: timedelta
) -> None:
    shorter, longer = sorted([a, b])
    assert calendar.add(start, shorter) <= calendar.add(start, longer)


@PROPERTY
@given(calendars(), moments, moments, durations)
def test_adding_is_monotonic_in_the_start(
    calendar: OfficeCalendar, a: datetime, b: datetime, duration: timedelta
) -> None:
    earlier, later = sorted([a, b])
    assert calendar.add(earlier, duration) <= calendar.add(later, duration)


@PROPERTY
@given(calendars(), moments, durations)
def test_a_due_time_is_reached_in_working_time(
    calendar: OfficeCalendar, start: datetime, duration: timedelta
) -> None:
    due = calendar.add(start, duration)
    assert due >= start
    if duration > timedelta(0):
        # The last instant before the due time is working time: it never lands in a
        # night, a weekend or a holiday (it may be the closing time itself).
        assert calendar.is_open(due - TICK)
    else:
        assert due == start
    assert calendar.working_time_between(start, due) == duration


@PROPERTY
@given(calendars(), moments, durations)
def test_counting_back_lands_in_working_time(
    calendar: OfficeCalendar, end: datetime, duration: timedelta
) -> None:
    reminder = calendar.subtract(end, duration)
    assert reminder <= end
    assert calendar.working_time_between(reminder, end) == duration
    if duration > timedelta(0):
        # A reminder goes out while the office is open, never on a night or a holiday.
        assert calendar.is_open(reminder)
        assert calendar.add(reminder, duration) <= end
        if calendar.is_open(end - TICK):
            assert calendar.add(reminder, duration) == end
    else:
        assert reminder == end


@PROPERTY
@given(moments, st.timedeltas(min_value=-timedelta(days=30), max_value=timedelta(days=30)))
def test_always_is_the_plain_clock(start: datetime, duration: timedelta) -> None:
    always = _calendar(WorkingHours.always(), "Asia/Jakarta", {date(2026, 12, 24): "Cuti"})
    assert always.add(start, duration) == start + duration
    assert always.subtract(start, duration) == start - duration
    assert always.working_time_between(start, start + duration) == duration
    assert always.is_open(start)


# -- closures in the database ----------------------------------------------------------
@pytest.fixture
def calendar_clock() -> ManualClock:
    return ManualClock(wib(2026, 12, 23, 15, 30).astimezone(UTC))  # a Wednesday


@pytest.fixture
def office_service(
    engine: AsyncEngine, storage: DocumentStorage, calendar_clock: ManualClock
) -> CalendarService:
    calendar = OfficeCalendar(DEFAULT, WIB)
    service = PpidService(
        create_sessionmaker(engine), storage, clock=calendar_clock, calendar=calendar
    )
    return CalendarService(service, calendar)


async def test_closures_move_open_due_times_and_are_audited(
    office_service: CalendarService,
) -> None:
    service = office_service._service
    await service.ensure_admins([900])
    admin = await service.actor_by_telegram(900)
    assert admin is not None
    petugas = await service.add_person(101, "Rina", Role.PETUGAS_PPID, division_id=1)
    heard: list[RecordView] = []

    async def listener(record: RecordView) -> None:
        heard.append(record)

    service.subscribe(listener)
    draft = await service.create_draft(petugas, sample_fields())
    assert draft.current_run is not None
    assert draft.current_run.due_at == wib(2026, 12, 24, 8, 0)
    heard.clear()

    change = await office_service.add_closure(date(2026, 12, 24), " Cuti  bersama Natal ", by=admin)
    assert change.closure.description == "Cuti bersama Natal"
    assert change.closure.created_by_name == admin.full_name
    assert change.rescheduled == 1
    moved = await service.record(petugas, draft.id)
    assert moved.current_run is not None
    assert moved.current_run.due_at == wib(2026, 12, 28, 8, 0)
    assert [r.id for r in heard] == [draft.id]
    assert heard[0].current_run is not None
    assert heard[0].current_run.due_at == wib(2026, 12, 28, 8, 0)
    assert [c.day for c in await office_service.closures()] == [date(2026, 12, 24)]
    assert date(2026, 12, 24) in office_service.calendar.closures

    # A new step now counts the closure too.
    second = await service.create_draft(petugas, sample_fields(title="Memo internal rahasia"))
    assert second.current_run is not None
    assert second.current_run.due_at == wib(2026, 12, 28, 8, 0)

    upcoming = office_service.upcoming(5)
    assert [(d.day, d.kind) for d in upcoming] == [
        (date(2026, 12, 24), "office"),
        (date(2026, 12, 25), "national"),
    ]

    heard.clear()
    removed = await office_service.remove_closure(date(2026, 12, 24), by=admin)
    assert removed.rescheduled == 2
    assert sorted(r.id for r in heard) == sorted([draft.id, second.id])
    back = await service.record(petugas, draft.id)
    assert back.current_run is not None
    assert back.current_run.due_at == wib(2026, 12, 24, 8, 0)
    assert await office_service.closures() == []

    trail = [e.action for e in await _audit(service)]
    assert trail.count("calendar.closure_added") == 1
    assert trail.count("calendar.closure_removed") == 1
    assert await service.verify_audit_chain() == []


async def _audit(service: PpidService) -> list[AuditEntry]:
    async with service.transaction() as repo:
        return [_audit_view(row) for row in await repo.audit_entries()]


async def test_closure_rules(office_service: CalendarService) -> None:
    service = office_service._service
    await service.ensure_admins([900])
    admin = await service.actor_by_telegram(900)
    assert admin is not None
    pejabat = await service.add_person(301, "Andi", Role.PEJABAT_PPID)
    with pytest.raises(PermissionDenied, match="hanya admin"):
        await office_service.add_closure(date(2026, 12, 24), "Cuti bersama", by=pejabat)
    with pytest.raises(InvalidInput, match="bukan hari kerja"):
        await office_service.add_closure(date(2026, 12, 26), "Sabtu", by=admin)
    with pytest.raises(InvalidInput, match=r"libur nasional \(Hari Raya Natal\)"):
        await office_service.add_closure(date(2026, 12, 25), "Natal", by=admin)
    with pytest.raises(InvalidInput, match="Keterangan terlalu pendek"):
        await office_service.add_closure(date(2026, 12, 24), " ", by=admin)
    with pytest.raises(InvalidInput, match="terlalu jauh"):
        await office_service.add_closure(date(2030, 1, 2), "Cuti", by=admin)
    with pytest.raises(InvalidInput, match="lebih dari setahun"):
        await office_service.add_closure(date(2025, 1, 2), "Cuti", by=admin)
    await office_service.add_closure(date(2026, 12, 24), "Cuti bersama", by=None)  # the CLI
    with pytest.raises(InvalidInput, match="sudah tercatat sebagai libur kantor: Cuti bersama"):
        await office_service.add_closure(date(2026, 12, 24), "Lagi", by=admin)
    with pytest.raises(PermissionDenied):
        await office_service.remove_closure(date(2026, 12, 24), by=pejabat)
    with pytest.raises(NotFound, match="tidak tercatat"):
        await office_service.remove_closure(date(2026, 12, 31), by=admin)
    with pytest.raises(NotFound, match="libur nasional"):
        await office_service.remove_closure(date(2026, 12, 25), by=admin)
    assert [c.created_by_name for c in await office_service.closures()] == [None]


async def test_refresh_picks_up_changes_from_another_process(
    office_service: CalendarService, engine: AsyncEngine, storage: DocumentStorage
) -> None:
    service = office_service._service
    petugas = await service.add_person(101, "Rina", Role.PETUGAS_PPID, division_id=1)
    draft = await service.create_draft(petugas, sample_fields())
    other_calendar = OfficeCalendar(DEFAULT, WIB)
    other = CalendarService(
        PpidService(
            create_sessionmaker(engine), storage, clock=service.clock, calendar=other_calendar
        ),
        other_calendar,
    )
    await other.add_closure(date(2026, 12, 24), "Cuti bersama", by=None)
    assert date(2026, 12, 24) not in office_service.calendar.closures
    heard: list[int] = []

    async def listener(record: RecordView) -> None:
        heard.append(record.id)

    service.subscribe(listener)
    assert await office_service.refresh(announce=True) is True
    assert office_service.calendar.closures == {date(2026, 12, 24): "Cuti bersama"}
    assert heard == [draft.id]
    assert await office_service.refresh(announce=True) is False
    assert heard == [draft.id]


# -- the command line ------------------------------------------------------------------
def _next_plain_working_day(after: date) -> date:
    calendar = OfficeCalendar(DEFAULT, WIB)
    day = after
    while day.weekday() > 3 or calendar.national_holiday(day):
        day += timedelta(days=1)
    return day


def test_cli_calendar_add_list_remove(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("STORAGE_DIR", str(tmp_path / "storage"))
    day = _next_plain_working_day(date.today() + timedelta(days=10))

    assert main(["calendar", "add", day.strftime("%d-%m-%Y"), "Cuti", "bersama"]) == 0
    out = capsys.readouterr().out
    assert f"office closed on {day.isoformat()} (Cuti bersama)" in out

    assert main(["calendar", "list", "--days", "30"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "working hours: mon-thu 07:30-16:00; fri 07:30-16:30"
    assert f"{day.isoformat()}\tCuti bersama\t(command line)" in out
    assert f"{day.isoformat()}\toffice\tCuti bersama" in out

    assert main(["calendar", "add", day.isoformat(), "Lagi"]) == 1
    assert "sudah tercatat sebagai libur kantor" in capsys.readouterr().err
    assert main(["calendar", "add", "31-02-2027", "Cuti"]) == 1
    assert "Tanggal tidak ada di kalender" in capsys.readouterr().err

    assert main(["calendar", "remove", day.isoformat()]) == 0
    assert f"removed the closure on {day.isoformat()}" in capsys.readouterr().out
    assert main(["calendar", "remove", day.isoformat()]) == 1
    assert "tidak tercatat sebagai libur kantor" in capsys.readouterr().err
