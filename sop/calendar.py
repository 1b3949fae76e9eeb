"""The office calendar: the SOP's "1 jam" is an hour of office time.

Working time runs only inside the office's working hours, on days that are neither a
national public holiday (the ``holidays`` package, Indonesia) nor an office closure
(cuti bersama and the like, kept in the database). Due times are found by adding working
time to the moment a step became due; reminders count back in working time the same way.

``WORKING_HOURS`` format (case-insensitive), entries separated by ``;``::

    senin-kamis 07:30-16:00; jumat 07:30-16:30      (the default, civil-service week)
    mon-thu 07:30-16:00; fri 07:30-16:30            (English day names work too)
    mon-fri 08:00-12:00, 13:00-16:00                (several intervals: a lunch break)
    senin,rabu 08:00-12:00; sabtu 08:00-11:30:30    (day lists; HH:MM or HH:MM:SS)
    always                                          (the plain wall clock, every hour counts)

A day is one name or a forward range ``from-to``; several days or ranges are joined with
``,`` without spaces. Times may be written ``07:30`` or ``07.30``; a day may close at
``24:00``. Days that are not mentioned are closed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sop.deadlines import Calendar

DEFAULT_WORKING_HOURS = "senin-kamis 07:30-16:00; jumat 07:30-16:30"

#: Day names in Bahasa Indonesia and English (full and short), Monday = 0.
DAY_NAMES: dict[str, int] = {
    "senin": 0,
    "sen": 0,
    "selasa": 1,
    "sel": 1,
    "rabu": 2,
    "rab": 2,
    "kamis": 3,
    "kam": 3,
    "jumat": 4,
    "jum'at": 4,
    "jum": 4,
    "sabtu": 5,
    "sab": 5,
    "minggu": 6,
    "ahad": 6,
    "min": 6,
    "monday": 0,
    "mon": 0,
    "tuesday": 1,
    "tue": 1,
    "wednesday": 2,
    "wed": 2,
    "thursday": 3,
    "thu": 3,
    "friday": 4,
    "fri": 4,
    "saturday": 5,
    "sat": 5,
    "sunday": 6,
    "sun": 6,
}
_SHORT = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_ALWAYS = {"always", "selalu"}
_TIME = r"(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?"
_INTERVAL = re.compile(rf"^{_TIME}-{_TIME}$")
_DAY_SECONDS = 24 * 3600

#: How far the calendar looks for working time before it gives up (a misconfiguration).
MAX_SEARCH_DAYS = 366 * 50

Interval = tuple[int, int]  # (open, close) in seconds after local midnight, open < close


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """Per weekday (Monday = 0) the open intervals, in seconds after local midnight.

    ``week=None`` is the plain wall clock: every moment is working time.
    """

    week: tuple[tuple[Interval, ...], ...] | None

    def __post_init__(self) -> None:
        if self.week is None:
            return
        if len(self.week) != 7:
            raise ValueError("working hours need exactly seven weekdays")
        for weekday, intervals in enumerate(self.week):
            previous_close = -1
            for start, end in intervals:
                if not 0 <= start < end <= _DAY_SECONDS:
                    raise ValueError(
                        f"{_SHORT[weekday]}: an interval must open before it closes, "
                        "within one day (00:00-24:00)"
                    )
                if start < previous_close:
                    raise ValueError(f"{_SHORT[weekday]}: working-hour intervals overlap")
                previous_close = end
        if not any(self.week):
            raise ValueError("working hours are empty: the office would never be open")

    @classmethod
    def always(cls) -> WorkingHours:
        return cls(None)

    @classmethod
    def default(cls) -> WorkingHours:
        return cls.parse(DEFAULT_WORKING_HOURS)

    @classmethod
    def from_intervals(cls, days: Mapping[int, list[Interval]]) -> WorkingHours:
        """Build from explicit intervals per weekday, e.g. ``{0: [(27000, 57600)]}``."""
        week: list[list[Interval]] = [[] for _ in range(7)]
        for weekday, intervals in days.items():
            week[weekday].extend(intervals)
        return cls(tuple(_merge(intervals, weekday) for weekday, intervals in enumerate(week)))

    @classmethod
    def parse(cls, text: str) -> WorkingHours:
        """Parse the ``WORKING_HOURS`` format (see the module docstring).

        Raises ``ValueError`` with a message that says what is wrong and how to write it.
        """
        cleaned = " ".join(text.strip().lower().split())
        if cleaned in _ALWAYS:
            return cls.always()
        if not cleaned:
            raise ValueError("empty working hours: write e.g. 'mon-fri 08:00-16:00' or 'always'")
        week: dict[int, list[Interval]] = {}
        for part in (p.strip() for p in cleaned.split(";")):
            if not part:
                continue
            part = re.sub(r"\s*-\s*", "-", part)
            part = re.sub(r"\s*,\s*", ",", part)
            days_text, _, times_text = part.partition(" ")
            if not times_text:
                # "mon-fri,08:00-16:00": the days token swallowed the times
                raise ValueError(
                    f"{part!r}: expected '<days> <HH:MM-HH:MM>', e.g. 'senin-kamis 07:30-16:00'"
                )
            days = _parse_days(days_text)
            intervals = [_parse_interval(item) for item in re.split(r"[,\s]+", times_text)]
            for day in days:
                week.setdefault(day, []).extend(intervals)
        return cls.from_intervals(week)

    @property
    def is_always(self) -> bool:
        return self.week is None

    def intervals(self, weekday: int) -> tuple[Interval, ...]:
        if self.week is None:
            return ((0, _DAY_SECONDS),)
        return self.week[weekday]

    def __str__(self) -> str:
        """The canonical ``WORKING_HOURS`` text, consecutive equal days joined as a range."""
        if self.week is None:
            return "always"
        parts: list[str] = []
        for first, last, intervals in self.groups():
            days = _SHORT[first] if first == last else f"{_SHORT[first]}-{_SHORT[last]}"
            times = ", ".join(f"{clock_text(a)}-{clock_text(b)}" for a, b in intervals)
            parts.append(f"{days} {times}")
        return "; ".join(parts)

    def groups(self) -> list[tuple[int, int, tuple[Interval, ...]]]:
        """Runs of consecutive weekdays with the same (non-empty) hours: (first, last, hours)."""
        groups: list[tuple[int, int, tuple[Interval, ...]]] = []
        if self.week is None:
            return groups
        for weekday, intervals in enumerate(self.week):
            if not intervals:
                continue
            if groups and groups[-1][1] == weekday - 1 and groups[-1][2] == intervals:
                groups[-1] = (groups[-1][0], weekday, intervals)
            else:
                groups.append((weekday, weekday, intervals))
        return groups


def clock_text(seconds: int, separator: str = ":") -> str:
    """``27000`` -> ``07:30`` (``07:30:15`` when there are seconds)."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours:02d}{separator}{minutes:02d}"
    return text + f"{separator}{secs:02d}" if secs else text


def _parse_days(text: str) -> list[int]:
    days: list[int] = []
    for item in text.split(","):
        first, dash, last = item.partition("-")
        start = _day(first)
        end = _day(last) if dash else start
        if end < start:
            raise ValueError(
                f"day range {item!r} goes backwards: write it Monday to Sunday, e.g. 'senin-jumat'"
            )
        days.extend(range(start, end + 1))
    return days


def _day(name: str) -> int:
    try:
        return DAY_NAMES[name]
    except KeyError:
        raise ValueError(
            f"unknown day {name!r}: use senin, selasa, rabu, kamis, jumat, sabtu, minggu "
            "(or mon ... sun)"
        ) from None


def _parse_interval(text: str) -> Interval:
    match = _INTERVAL.match(text)
    if not match:
        raise ValueError(
            f"invalid time interval {text!r}: write it as HH:MM-HH:MM (or HH:MM:SS), "
            "e.g. 07:30-16:00"
        )
    h1, m1, s1, h2, m2, s2 = (int(group) if group else 0 for group in match.groups())
    start, end = _seconds(h1, m1, s1, text), _seconds(h2, m2, s2, text)
    if end <= start:
        raise ValueError(
            f"time interval {text!r} must open before it closes on the same day "
            "(intervals across midnight are not supported)"
        )
    return start, end


def _seconds(hours: int, minutes: int, seconds: int, text: str) -> int:
    if minutes > 59 or seconds > 59 or hours > 24 or (hours == 24 and (minutes or seconds)):
        raise ValueError(f"invalid time in {text!r}: hours 00-24, minutes and seconds 00-59")
    return hours * 3600 + minutes * 60 + seconds


def _merge(intervals: list[Interval], weekday: int) -> tuple[Interval, ...]:
    """Sort, join touching intervals, refuse overlapping ones."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start < merged[-1][1]:
            raise ValueError(
                f"{_SHORT[weekday]}: working-hour intervals overlap "
                f"({clock_text(merged[-1][0])}-{clock_text(merged[-1][1])} and "
                f"{clock_text(start)}-{clock_text(end)})"
            )
        if merged and start == merged[-1][1]:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return tuple(merged)


@dataclass(frozen=True, slots=True)
class ClosedDay:
    """A day the office is closed although the weekday would be a working day, or a
    national holiday (which may fall on a weekend)."""

    day: date
    name: str
    kind: Literal["national", "office"]


class OfficeCalendar:
    """Working time: working hours on days that are neither national holidays nor closures.

    All results are aware UTC datetimes. With ``WorkingHours.always()`` it is the plain
    wall clock (holidays and closures do not count either).
    """

    def __init__(
        self,
        hours: WorkingHours,
        tz: ZoneInfo,
        *,
        closures: Mapping[date, str] | None = None,
        national_holidays: bool = True,
        _national: Mapping[date, str] | None = None,
    ) -> None:
        self.hours = hours
        self.tz = tz
        self._closures: dict[date, str] = dict(closures or {})
        if _national is not None:
            self._national: Mapping[date, str] = _national
        elif national_holidays:
            import holidays

            self._national = holidays.country_holidays("ID", language="id")
        else:
            self._national = {}
        self._days: dict[date, tuple[tuple[datetime, datetime], ...]] = {}

    # -- closures ----------------------------------------------------------------------
    @property
    def closures(self) -> dict[date, str]:
        return dict(self._closures)

    def set_closures(self, closures: Mapping[date, str]) -> None:
        """Replace the office closures (after the database changed)."""
        self._closures = dict(closures)
        self._days.clear()

    def with_closures(self, closures: Mapping[date, str]) -> OfficeCalendar:
        """The same calendar with other closures (to compute before committing a change)."""
        return OfficeCalendar(self.hours, self.tz, closures=closures, _national=self._national)

    def national_holiday(self, day: date) -> str | None:
        return self._national.get(day)

    def closed_days(self, start: date, end: date) -> list[ClosedDay]:
        """National holidays and office closures from ``start`` to ``end`` (inclusive)."""
        found: list[ClosedDay] = []
        day = start
        while day <= end:
            if day in self._closures:
                found.append(ClosedDay(day, self._closures[day], "office"))
            name = self._national.get(day)
            if name:
                found.append(ClosedDay(day, name, "national"))
            day += timedelta(days=1)
        return found

    def is_working_day(self, day: date) -> bool:
        """Whether the office opens at all on ``day``."""
        if self.hours.is_always:
            return True
        return bool(self.hours.intervals(day.weekday())) and not self._closed(day)

    def _closed(self, day: date) -> bool:
        return day in self._closures or day in self._national

    # -- the day's open intervals, in UTC ----------------------------------------------
    def _intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        cached = self._days.get(day)
        if cached is not None:
            return cached
        result: list[tuple[datetime, datetime]] = []
        if not self._closed(day):
            midnight = datetime(day.year, day.month, day.day, tzinfo=self.tz)
            for start, end in self.hours.intervals(day.weekday()):
                # Wall-clock times; a daylight-saving jump may squeeze an interval, so keep
                # the list ordered and non-overlapping in UTC.
                opens = (midnight + timedelta(seconds=start)).astimezone(UTC)
                closes = (midnight + timedelta(seconds=end)).astimezone(UTC)
                if result:
                    opens = max(opens, result[-1][1])
                if closes > opens:
                    result.append((opens, closes))
        if len(self._days) > 20_000:
            self._days.clear()
        self._days[day] = found = tuple(result)
        return found

    def _local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def _forward(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals that end after ``moment``, in order."""
        day = self._local_day(moment)
        for _ in range(MAX_SEARCH_DAYS):
            for opens, closes in self._intervals(day):
                if closes > moment:
                    yield opens, closes
            day += timedelta(days=1)
        raise ValueError("the office calendar has no working time for decades ahead")

    def _backward(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals that begin before ``moment``, latest first."""
        day = self._local_day(moment)
        for _ in range(MAX_SEARCH_DAYS):
            for opens, closes in reversed(self._intervals(day)):
                if opens < moment:
                    yield opens, closes
            day -= timedelta(days=1)
        raise ValueError("the office calendar has no working time for decades before")

    # -- the Calendar protocol and friends ---------------------------------------------
    def is_open(self, moment: datetime) -> bool:
        """Whether ``moment`` is working time (an interval includes its opening instant,
        not its closing one)."""
        moment = _utc(moment)
        if self.hours.is_always:
            return True
        intervals = self._intervals(self._local_day(moment))
        return any(opens <= moment < closes for opens, closes in intervals)

    def next_open(self, moment: datetime) -> datetime:
        """``moment`` itself when the office is open, else the next opening time."""
        moment = _utc(moment)
        if self.hours.is_always:
            return moment
        opens, _ = next(self._forward(moment))
        return max(opens, moment)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The earliest moment with ``duration`` of working time since ``start``: a clock
        started while the office is closed begins when it opens (zero is ``start``)."""
        start = _utc(start)
        if duration < timedelta(0):
            return self.subtract(start, -duration)
        if self.hours.is_always or not duration:
            return start + duration
        remaining = duration
        for opens, closes in self._forward(start):
            begin = max(opens, start)
            available = closes - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        raise AssertionError("unreachable: _forward raises when it runs out")  # pragma: no cover

    def subtract(self, end: datetime, duration: timedelta) -> datetime:
        """The latest moment with ``duration`` of working time until ``end`` (e.g. "10
        minutes before the deadline" for a reminder); unless zero, it lies in working time."""
        end = _utc(end)
        if duration < timedelta(0):
            return self.add(end, -duration)
        if self.hours.is_always or not duration:
            return end - duration
        remaining = duration
        for opens, closes in self._backward(end):
            finish = min(closes, end)
            available = finish - opens
            if remaining <= available:
                return finish - remaining
            remaining -= available
        raise AssertionError("unreachable: _backward raises when it runs out")  # pragma: no cover

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from ``start`` to ``end`` (negative when ``end`` is earlier)."""
        start, end = _utc(start), _utc(end)
        if end < start:
            return -self.working_time_between(end, start)
        if self.hours.is_always:
            return end - start
        total = timedelta(0)
        for opens, closes in self._forward(start):
            if opens >= end:
                break
            total += min(closes, end) - max(opens, start)
        return total


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the calendar; use aware times")
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class StepTiming:
    """How long a step took and how late it was: in working time (what the SOP's time
    standard measures) and on the wall clock beside it."""

    working: timedelta
    wall: timedelta
    working_late: timedelta
    wall_late: timedelta

    @property
    def on_time(self) -> bool:
        return self.working_late <= timedelta(0)


def step_timing(
    calendar: Calendar, started_at: datetime, due_at: datetime, end: datetime
) -> StepTiming:
    """Measure one step run (``end`` is its completion, or now while it is open)."""
    return StepTiming(
        working=max(calendar.working_time_between(started_at, end), timedelta(0)),
        wall=max(end - started_at, timedelta(0)),
        working_late=max(calendar.working_time_between(due_at, end), timedelta(0)),
        wall_late=max(end - due_at, timedelta(0)),
    )
