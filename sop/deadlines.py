"""When a step is due: its time standard added to the moment it became due."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol


class Calendar(Protocol):
    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment ``duration`` of counted time after ``start``."""
        ...

    def subtract(self, end: datetime, duration: timedelta) -> datetime:
        """The moment ``duration`` of counted time before ``end`` (counted backwards)."""
        ...

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Counted time from ``start`` to ``end`` (negative when ``end`` is earlier)."""
        ...


class WallClockCalendar:
    """Every hour counts: the plain wall clock."""

    def add(self, start: datetime, duration: timedelta) -> datetime:
        return start + duration

    def subtract(self, end: datetime, duration: timedelta) -> datetime:
        return end - duration

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        return end - start
