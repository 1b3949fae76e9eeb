"""Parsing of human durations such as ``45s``, ``10m``, ``1h`` or ``1h30m``."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)\s*(d|h|m|s)")
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_duration(text: str) -> timedelta:
    """Parse ``1h``, ``30m``, ``45s``, ``2d`` or combinations like ``1h30m``.

    Raises ``ValueError`` with a readable message for anything else.
    """
    cleaned = text.strip().lower().replace(" ", "")
    if not cleaned:
        raise ValueError("empty duration")
    position = 0
    total = timedelta()
    for match in _PART.finditer(cleaned):
        if match.start() != position:
            break
        total += timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        position = match.end()
    if position != len(cleaned):
        raise ValueError(f"invalid duration {text!r}: use forms like 45s, 10m, 1h or 1h30m")
    return total


def format_duration(value: timedelta) -> str:
    """Render a duration back in the same compact form (``1h30m``)."""
    seconds = int(value.total_seconds())
    if seconds == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts)
