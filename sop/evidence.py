"""The evidence pack of one record, for a dispute before the Komisi Informasi: the record,
its papers (issued now if needed, and every one issued before), its audit trail, and the
chain proof that ties each of its entries to an anchor held outside the server.

The proof: for each entry of the record, the entries from it to the first anchor at or
after it (or to the chain's head when no anchor follows yet), complete, so anyone can
recompute every hash with the formula of :mod:`sop.audit`. Entries of the record that
share an anchor share one segment. Such a segment holds the other records' entries of
that stretch too (a hash cannot be recomputed without its entry): the pack is as
confidential as the record."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, date, datetime

from db.models import AuditRow
from db.papers import PapersRepository
from sop.anchors import Anchor, anchor_of
from sop.errors import NotFound
from sop.model import RecordView
from sop.service import PpidService
from sop.verification import IssuedPaper, PapersService


@dataclass(frozen=True, slots=True)
class ProofEntry:
    """An audit entry exactly as hashed (``at`` in UTC with microseconds, ``details`` the
    stored JSON text)."""

    seq: int
    at: str
    actor_user_id: int | None
    action: str
    record_id: int | None
    details: str
    actor_name: str | None
    prev_hash: str
    hash: str


def proof_entry(row: AuditRow) -> ProofEntry:
    return ProofEntry(
        row.seq,
        row.at.astimezone(UTC).isoformat(timespec="microseconds"),
        row.actor_user_id,
        row.action,
        row.record_id,
        row.details,
        row.actor_name,
        row.prev_hash,
        row.hash,
    )


@dataclass(frozen=True, slots=True)
class ProofSegment:
    entries: tuple[ProofEntry, ...]
    anchor: Anchor | None  # None: the segment ends at the head, not anchored yet


@dataclass(frozen=True, slots=True)
class EvidenceData:
    record: RecordView
    opened_on: date | None
    papers: tuple[IssuedPaper, ...]
    trail: tuple[ProofEntry, ...]
    segments: tuple[ProofSegment, ...]
    head: tuple[int, str]
    generated_at: datetime


class EvidenceService:
    def __init__(self, service: PpidService, papers: PapersService) -> None:
        self.service = service
        self.papers = papers

    async def gather(self, reference: str) -> EvidenceData:
        """Everything of the record ``reference`` (``DIK-2026-0001``, ``BRK-12``) the pack
        holds; the operator's view (everything). Its current papers are issued first."""
        kind, key = PpidService.parse_reference(reference)
        async with self.service.transaction() as repo:
            row = (
                await repo.record_by_number(str(key))
                if kind == "number"
                else await repo.record(int(key))
            )
            if row is None:
                raise NotFound()
            record_id = row.id
        await self.papers.issue_all(None, record_id)
        papers = tuple(await self.papers.issued(None, record_id))
        async with self.service.transaction() as repo:
            await repo.use_snapshot()
            row = await repo.record(record_id)
            assert row is not None
            record = await self.service.view(repo, row)
            trail = [proof_entry(entry) for entry in await repo.audit_entries(record_id=record_id)]
            head_row = await repo.audit_head()
            head = (head_row.last_seq, head_row.last_hash) if head_row else (0, "")
            papers_repo = PapersRepository(repo.session)
            first = trail[0].seq if trail else head[0]
            anchors = [anchor_of(a) for a in await papers_repo.anchors(from_seq=first)]
            segments = []
            for start, anchor in _groups([entry.seq for entry in trail], anchors):
                end = anchor.seq if anchor else head[0]
                rows = papers_repo.audit_range(start, end)
                async with contextlib.aclosing(rows):
                    entries = tuple([proof_entry(entry) async for entry in rows])
                segments.append(ProofSegment(entries, anchor))
        return EvidenceData(
            record,
            row.opened_on,
            papers,
            tuple(trail),
            tuple(segments),
            head,
            self.service.now(),
        )


def _groups(seqs: list[int], anchors: list[Anchor]) -> list[tuple[int, Anchor | None]]:
    """(first entry, anchor) of each segment: the record's entries grouped by the first
    anchor at or after them (None: after the latest anchor)."""
    groups: list[tuple[int, Anchor | None]] = []
    index = 0
    for seq in seqs:
        while index < len(anchors) and anchors[index].seq < seq:
            index += 1
        anchor = anchors[index] if index < len(anchors) else None
        if not groups or groups[-1][1] != anchor:
            groups.append((seq, anchor))
    return groups


__all__ = ["EvidenceData", "EvidenceService", "ProofEntry", "ProofSegment", "proof_entry"]
