"""When a step is due: its time standard added to the moment it became due."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol


class Calendar(Protocol):
    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment ``duration`` of counted time after ``start``."""
        ...


class WallClockCalendar:
    """Every hour counts: the plain wall clock."""

    def add(self, start: datetime, duration: timedelta) -> datetime:
        return start + duration
