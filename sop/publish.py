"""The public list of exempted information (the DIK as PPID websites publish it): only
what the public may read, streamed from the register in one query.

**The whitelist**: a public line carries exactly the fields of :class:`PublicEntry`
(``PUBLIC_FIELDS``): its number in the list, the register number, the information's
title, the division, the legal basis, the consequence, the exemption period with its end,
and the day it was opened. Never a description, a file, a checksum, a person's name, or
anything of a record marked internal; only records stored in the register (step 3 done),
never drafts, records in the SOP's steps, or withdrawn ones. The columns read from the
database are themselves limited (``db.papers.PUBLIC_COLUMNS``).

Marking a record internal (:meth:`PublishService.set_internal`) is audited.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, fields
from datetime import date, datetime

from db.papers import PapersRepository
from db.repositories import Repository
from sop.errors import NotFound, PermissionDenied
from sop.model import PASAL17, Actor, DurationUnit, ExemptionPeriod, PeriodKind, Role
from sop.service import PpidService

#: Who may mark a record internal (or public again) besides the operator.
MAY_MARK_INTERNAL = frozenset({Role.PEJABAT_PPID, Role.ADMIN})


@dataclass(frozen=True, slots=True)
class PublicEntry:
    """One line of the public list; nothing else of a record is ever published."""

    no: int
    register_number: str
    information: str
    division: str
    pasal17: tuple[str, ...]
    other_legal_basis: str | None
    consequence: str
    period: ExemptionPeriod
    ends_on: date | None
    opened_on: date | None

    @property
    def exempt(self) -> bool:
        return self.opened_on is None


PUBLIC_FIELDS = tuple(item.name for item in fields(PublicEntry))


@dataclass(slots=True)
class PublicCounts:
    """How many lines the list has, per Pasal 17 letter and per division, each split into
    still exempted and opened. A line with several letters counts under each."""

    exempt: int = 0
    opened: int = 0
    by_letter: Counter[tuple[str, bool]] = field(default_factory=Counter)  # (letter, opened)
    other_law_only: Counter[bool] = field(default_factory=Counter)  # no letter, another law
    by_division: Counter[tuple[str, bool]] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return self.exempt + self.opened

    def add(self, entry: PublicEntry) -> None:
        opened = entry.opened_on is not None
        if opened:
            self.opened += 1
        else:
            self.exempt += 1
        for letter in entry.pasal17:
            self.by_letter[(letter, opened)] += 1
        if not entry.pasal17:
            self.other_law_only[opened] += 1
        self.by_division[(entry.division, opened)] += 1

    def letters(self) -> list[tuple[str, int, int]]:
        """(letter, exempted, opened) for every letter a–j."""
        return [
            (letter, self.by_letter[(letter, False)], self.by_letter[(letter, True)])
            for letter in PASAL17
        ]

    def divisions(self) -> list[tuple[str, int, int]]:
        """(division, exempted, opened), by name."""
        names = sorted({name for name, _ in self.by_division})
        return [
            (name, self.by_division[(name, False)], self.by_division[(name, True)])
            for name in names
        ]


class PublishService:
    def __init__(self, service: PpidService) -> None:
        self.service = service

    async def entries(self) -> AsyncIterator[PublicEntry]:
        """Every public line, oldest register entry first, streamed: one query for the
        divisions' names and one for the records, whatever the archive's size."""
        async with self.service.transaction() as repo:
            divisions = {d.id: d.name for d in await repo.divisions(include_inactive=True)}
            rows = PapersRepository(repo.session).public_rows()
            async with contextlib.aclosing(rows):
                number = 0
                async for row in rows:
                    number += 1
                    period = ExemptionPeriod(
                        kind=PeriodKind(row.period_kind),
                        until=row.period_until,
                        amount=row.period_amount,
                        unit=DurationUnit(row.period_unit) if row.period_unit else None,
                        condition=row.period_condition,
                    )
                    yield PublicEntry(
                        no=number,
                        register_number=row.register_number or "",
                        information=row.title,
                        division=divisions.get(row.division_id, "?"),
                        pasal17=tuple(letter for letter in row.pasal17.split(",") if letter),
                        other_legal_basis=row.other_legal_basis,
                        consequence=row.consequence,
                        period=period,
                        ends_on=period.end_date(row.classified_date),
                        opened_on=row.opened_on,
                    )

    def now(self) -> datetime:
        return self.service.now()

    async def set_internal(self, actor: Actor | None, reference: int | str, internal: bool) -> bool:
        """Mark a record (its id, or ``DIK-…``/``BRK-…``) internal (never in the public
        list) or public again; ``actor`` None is the operator. Whether anything changed."""
        async with self.service.transaction() as repo:
            record_id = await _record_id(repo, reference)
            if actor is not None:
                actor = await self.service.fresh_actor(repo, actor)
                if not any(actor.has(role) for role in MAY_MARK_INTERNAL):
                    raise PermissionDenied(
                        "Hanya Pejabat PPID atau admin yang dapat mengubah tanda internal."
                    )
                row = await self.service.load(repo, actor, record_id, lock=True)
            else:
                found = await repo.record(record_id, lock=True)
                if found is None:
                    raise NotFound()
                row = found
            if row.internal == internal:
                return False
            row.internal = internal
            row.updated_at = self.service.now()
            row.version += 1
            await self.service.audit(
                repo,
                "record.internal",
                actor_id=actor.user_id if actor else None,
                record_id=record_id,
                details={"internal": internal},
            )
            return True


async def _record_id(repo: Repository, reference: int | str) -> int:
    if isinstance(reference, int):
        return reference
    kind, key = PpidService.parse_reference(reference)
    row = await repo.record_by_number(str(key)) if kind == "number" else await repo.record(int(key))
    if row is None:
        raise NotFound()
    return row.id


__all__ = ["PUBLIC_FIELDS", "PublicCounts", "PublicEntry", "PublishService"]
