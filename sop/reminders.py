"""Planning the notices of one open step: reminders before its due time, the escalation at it.

Pure functions and values, no database and no Telegram: given a step run's due time and
the configured offsets, which notices exist, when each goes out (quiet hours hold
reminders, never escalations), and which of them is due at a given moment.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sop.deadlines import Calendar
from sop.model import Step


class NoticeKind(StrEnum):
    REMIND = "remind"  # before the due time, to the people who must act
    OVERDUE = "overdue"  # at the due time: the actor is told, the Pejabat PPID and admins too


def job_name(kind: NoticeKind, record_id: int, step: Step, offset_seconds: int = 0) -> str:
    """The scheduler's name for a notice: ``remind:<record>:<step>:<offset_s>`` or
    ``overdue:<record>:<step>``. One open step per record, so a name is never shared."""
    if kind is NoticeKind.OVERDUE:
        return f"overdue:{record_id}:{int(step)}"
    return f"remind:{record_id}:{int(step)}:{offset_seconds}"


def record_job_pattern(record_id: int) -> str:
    """A regular expression matching every notice job of one record."""
    return rf"^(remind|overdue):{record_id}:"


NOTICE_JOB_PATTERN = r"^(remind|overdue):\d+:"


@dataclass(frozen=True, slots=True)
class Notice:
    """One planned notice of one step run."""

    record_id: int
    step: Step
    kind: NoticeKind
    offset: timedelta  # how long before the due time; zero for the escalation
    at: datetime  # when it goes out (after quiet hours)
    due_at: datetime

    @property
    def offset_seconds(self) -> int:
        return int(self.offset.total_seconds())

    @property
    def key(self) -> tuple[NoticeKind, int]:
        """What identifies the notice within its run (the database's unique key)."""
        return self.kind, self.offset_seconds

    @property
    def job_name(self) -> str:
        return job_name(self.kind, self.record_id, self.step, self.offset_seconds)


_CLOCK_TIME = r"(\d{1,2})[:.](\d{2})"
_QUIET = re.compile(rf"^\s*{_CLOCK_TIME}\s*-\s*{_CLOCK_TIME}\s*$")


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily period (local time, may span midnight) in which reminders are held."""

    start: time
    end: time
    tz: ZoneInfo

    @classmethod
    def parse(cls, text: str, tz: ZoneInfo) -> QuietHours:
        """``21:00-06:00`` (or ``21.00-06.00``); raises ``ValueError`` saying what is wrong."""
        match = _QUIET.match(text)
        if match is None:
            raise ValueError(f"invalid quiet hours {text!r}: use the form 21:00-06:00")
        sh, sm, eh, em = (int(part) for part in match.groups())
        if sh > 23 or eh > 23 or sm > 59 or em > 59:
            raise ValueError(f"invalid quiet hours {text!r}: hours 00-23, minutes 00-59")
        start, end = time(sh, sm), time(eh, em)
        if start == end:
            raise ValueError(f"invalid quiet hours {text!r}: start and end must differ")
        return cls(start, end, tz)

    def contains(self, moment: datetime) -> bool:
        local = moment.astimezone(self.tz).time().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def release(self, moment: datetime) -> datetime:
        """``moment`` itself outside quiet hours, else the end of the quiet period."""
        if not self.contains(moment):
            return moment
        local = moment.astimezone(self.tz)
        end = datetime.combine(local.date(), self.end, tzinfo=self.tz)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=self.tz)
        return end.astimezone(moment.tzinfo)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def plan(
    record_id: int,
    step: Step,
    started_at: datetime,
    due_at: datetime,
    offsets: Iterable[timedelta],
    *,
    calendar: Calendar,
    quiet: QuietHours | None = None,
) -> list[Notice]:
    """The notices of one step run, in time order.

    A reminder goes out ``offset`` of counted time before the due time (the calendar
    decides what counts). Quiet hours move a reminder to their end; a reminder that
    would then reach the due time is dropped, since the escalation says more. Two
    reminders moved to the same moment become one (the one nearer the due time).
    Reminders that would fall before the step even started are left out. The
    escalation is always at the due time, quiet or not.
    """
    reminders: dict[datetime, Notice] = {}
    for offset in sorted(set(offsets), reverse=True):
        if offset <= timedelta(0):
            continue
        nominal = calendar.subtract(due_at, offset)
        if nominal <= started_at:
            continue
        at = quiet.release(nominal) if quiet else nominal
        if at >= due_at:
            continue
        reminders[at] = Notice(record_id, step, NoticeKind.REMIND, offset, at, due_at)
    escalation = Notice(record_id, step, NoticeKind.OVERDUE, timedelta(0), due_at, due_at)
    return [*sorted(reminders.values(), key=lambda n: n.at), escalation]


def due_now(
    planned: Iterable[Notice],
    sent: Collection[tuple[NoticeKind, int]],
    now: datetime,
    *,
    quiet: QuietHours | None = None,
) -> Notice | None:
    """The one notice of a run to send at ``now``, given the keys already sent, or None.

    Only the latest notice whose time has come matters: once the escalation is due, a
    reminder that was missed (the bot was down) is not sent anymore, and of two missed
    reminders only the nearer one goes out, telling the time actually left. A reminder
    is held while quiet hours last; the escalation never is.
    """
    ready = [n for n in planned if n.at <= now]
    if not ready:
        return None
    latest = max(ready, key=lambda n: (n.kind is NoticeKind.OVERDUE, n.at))
    if latest.key in sent:
        return None
    if latest.kind is NoticeKind.REMIND and quiet is not None and quiet.contains(now):
        return None
    return latest
