"""Anchors of the audit chain: its head (entry number and hash) given to witnesses
outside the server, so a chain rewritten and recomputed from some entry on, or cut short,
is caught (a hash chain alone proves nothing against whoever can rewrite the whole table).

:meth:`AnchorService.anchor` appends an ``audit.anchored`` entry and records that entry
(now the head) as the anchor; :meth:`AnchorService.check` proves that the chain still
holds a given anchor: the entry exists, has that hash, and every entry up to it
recomputes and links."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from db.models import AuditAnchorRow
from db.papers import PapersRepository
from sop.audit import GENESIS_HASH, entry_hash
from sop.errors import InvalidInput
from sop.model import Actor
from sop.service import PpidService

_ANCHOR = re.compile(r"^\s*(\d{1,12})\s*:\s*([0-9a-fA-F]{64})\s*$")


@dataclass(frozen=True, slots=True)
class Anchor:
    seq: int
    hash: str
    at: datetime
    source: str

    @property
    def text(self) -> str:
        """``123:abcd…`` as it is given to witnesses and to ``check --anchor``."""
        return f"{self.seq}:{self.hash}"


@dataclass(frozen=True, slots=True)
class AnchorCheck:
    seq: int
    hash: str
    checked: int  # entries recomputed, 1 to ``seq``
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def parse_anchor(text: str) -> tuple[int, str]:
    """``N:HASH`` (the entry number and its 64 hex digits)."""
    match = _ANCHOR.match(text)
    if not match:
        raise InvalidInput("Jangkar tidak dikenali: tulis seperti 123:<64 angka heksadesimal>.")
    return int(match.group(1)), match.group(2).lower()


def anchor_of(row: AuditAnchorRow) -> Anchor:
    return Anchor(row.seq, row.hash, row.created_at, row.source)


class AnchorService:
    def __init__(self, service: PpidService) -> None:
        self.service = service

    async def anchor(self, source: str = "cli", actor: Actor | None = None) -> Anchor:
        """Record the chain's head as an anchor (audited: the anchor is the
        ``audit.anchored`` entry itself)."""
        async with self.service.transaction() as repo:
            await self.service.audit(
                repo,
                "audit.anchored",
                actor_id=actor.user_id if actor else None,
                details={"source": source},
            )
            head = await repo.audit_head()
            assert head is not None  # the audit just appended moved it
            row = await PapersRepository(repo.session).add_anchor(
                AuditAnchorRow(
                    seq=head.last_seq,
                    hash=head.last_hash,
                    source=source,
                    created_by=actor.user_id if actor else None,
                    created_at=self.service.now(),
                )
            )
            return anchor_of(row)

    async def record_sent(self, anchor: Anchor, user_ids: list[int]) -> None:
        """Record to whom an anchor was sent (``audit.anchor_sent``)."""
        async with self.service.transaction() as repo:
            await self.service.audit(
                repo,
                "audit.anchor_sent",
                actor_id=None,
                details={"seq": anchor.seq, "hash": anchor.hash, "to": sorted(user_ids)},
            )

    async def anchors(self, *, from_seq: int = 0) -> list[Anchor]:
        async with self.service.transaction() as repo:
            rows = await PapersRepository(repo.session).anchors(from_seq=from_seq)
            return [anchor_of(row) for row in rows]

    async def check(self, seq: int, expected_hash: str) -> AnchorCheck:
        """Whether the chain still contains the anchor ``seq:expected_hash``: entries 1 to
        ``seq`` all present, each recomputing to its hash and linked to the one before,
        and entry ``seq``'s hash the anchor's."""
        problems: list[str] = []
        checked = 0
        previous_hash = GENESIS_HASH
        last_hash: str | None = None
        async with self.service.transaction() as repo:
            entries = PapersRepository(repo.session).audit_range(1, seq)
            async for entry in entries:
                checked += 1
                if entry.seq != checked:
                    problems.append(f"entries {checked} to {entry.seq - 1} are missing")
                    checked = entry.seq
                if entry.prev_hash != previous_hash:
                    problems.append(f"entry {entry.seq}: previous-hash link broken")
                recomputed = entry_hash(
                    entry.prev_hash,
                    entry.seq,
                    entry.at,
                    entry.actor_user_id,
                    entry.action,
                    entry.record_id,
                    entry.details,
                    entry.actor_name,
                )
                if recomputed != entry.hash:
                    problems.append(f"entry {entry.seq}: content does not match its hash")
                previous_hash = entry.hash
                last_hash = entry.hash if entry.seq == seq else last_hash
        if last_hash is None:
            problems.append(
                f"the chain has no entry {seq} (it ends at {checked}): truncated or replaced"
            )
        elif last_hash != expected_hash:
            problems.append(
                f"entry {seq} has hash {last_hash}, the anchor says {expected_hash}: "
                "the chain was rewritten up to this entry and recomputed"
            )
        return AnchorCheck(seq, expected_hash, checked, tuple(problems))


__all__ = ["Anchor", "AnchorCheck", "AnchorService", "anchor_of", "parse_anchor"]
