"""Typed callback data: a small frozen value per button family, packed into <= 64 bytes.

A button is never trusted: ``parse`` accepts only the exact pattern, and every press is
checked again by the domain (role, state, version).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import ClassVar, Self

MAX_BYTES = 64
_FIELD = {int: r"(\d{1,12})", str: r"([A-Za-z0-9_-]{0,24})"}


class CallbackData:
    """Base class: subclasses are frozen dataclasses with int/str fields and a prefix."""

    prefix: ClassVar[str]

    def pack(self) -> str:
        values = [str(getattr(self, f.name)) for f in fields(self)]  # type: ignore[arg-type]
        data = ":".join([self.prefix, *values])
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data too long: {data!r}")
        return data

    @classmethod
    def regex(cls) -> re.Pattern[str]:
        parts = [_FIELD[_type_of(f.type)] for f in fields(cls)]  # type: ignore[arg-type]
        return re.compile("^" + ":".join([re.escape(cls.prefix), *parts]) + "$")

    @classmethod
    def parse(cls, data: str | None) -> Self | None:
        """The value, or None for anything that is not exactly this family's shape."""
        if not data:
            return None
        match = cls.regex().match(data)
        if match is None:
            return None
        values = [
            _type_of(f.type)(raw)
            for f, raw in zip(fields(cls), match.groups(), strict=True)  # type: ignore[arg-type]
        ]
        return cls(*values)


def _type_of(annotation: object) -> type:
    if annotation in (int, "int"):
        return int
    if annotation in (str, "str"):
        return str
    raise TypeError(f"callback fields must be int or str, not {annotation!r}")


@dataclass(frozen=True)
class OpenRecord(CallbackData):
    """Show a record's card (from a notice, a reminder or a list)."""

    prefix: ClassVar[str] = "rec"
    record_id: int


@dataclass(frozen=True)
class RecordAction(CallbackData):
    """A step's action on a record, bound to the version the button was made for."""

    prefix: ClassVar[str] = "act"
    action: str  # "handover", "accept", "return", "download", "files"
    record_id: int
    version: int


@dataclass(frozen=True)
class GetFile(CallbackData):
    prefix: ClassVar[str] = "file"
    file_id: int
