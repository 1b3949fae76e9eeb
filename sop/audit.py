"""The audit log's hash chain: each entry's hash covers the previous entry's hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

GENESIS_HASH = "0" * 64


def canonical_details(details: dict[str, object]) -> str:
    """The exact JSON text stored (and hashed) for an entry's details."""
    return json.dumps(
        details, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )


def entry_hash(
    prev_hash: str,
    seq: int,
    at: datetime,
    actor_user_id: int | None,
    action: str,
    record_id: int | None,
    details_json: str,
    actor_name: str | None = None,
) -> str:
    """SHA-256 over the previous hash and the entry's canonical form.

    The actor's name (kept since revision 0005) is covered when present; entries written
    before it have none and keep their hashes."""
    fields: list[object] = [
        seq,
        at.astimezone(UTC).isoformat(timespec="microseconds"),
        actor_user_id,
        action,
        record_id,
        details_json,
    ]
    if actor_name is not None:
        fields.append(actor_name)
    payload = json.dumps(
        fields,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(f"{prev_hash}|{payload}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainEntry:
    seq: int
    at: datetime
    actor_user_id: int | None
    action: str
    record_id: int | None
    details_json: str
    prev_hash: str
    hash: str
    actor_name: str | None = None


class AuditRecord(Protocol):
    """What a stored audit entry offers (the database row has these attributes)."""

    seq: int
    at: datetime
    actor_user_id: int | None
    action: str
    record_id: int | None
    details: str
    prev_hash: str
    hash: str
    actor_name: str | None


def chain_entry(row: AuditRecord) -> ChainEntry:
    return ChainEntry(
        row.seq,
        row.at,
        row.actor_user_id,
        row.action,
        row.record_id,
        row.details,
        row.prev_hash,
        row.hash,
        row.actor_name,
    )


@dataclass(frozen=True, slots=True)
class ChainProblem:
    seq: int
    problem: str


def verify_chain(
    entries: Iterable[ChainEntry], *, head_seq: int | None = None, head_hash: str | None = None
) -> list[ChainProblem]:
    """Every break in the chain: altered entries, missing or reordered ones, a moved head."""
    problems: list[ChainProblem] = []
    expected_prev = GENESIS_HASH
    expected_seq = 1
    last: ChainEntry | None = None
    for entry in entries:
        if entry.seq != expected_seq:
            problems.append(
                ChainProblem(entry.seq, f"expected entry {expected_seq}, found {entry.seq}")
            )
        if entry.prev_hash != expected_prev:
            problems.append(ChainProblem(entry.seq, "previous-hash link broken"))
        recomputed = entry_hash(
            entry.prev_hash,
            entry.seq,
            entry.at,
            entry.actor_user_id,
            entry.action,
            entry.record_id,
            entry.details_json,
            entry.actor_name,
        )
        if recomputed != entry.hash:
            problems.append(ChainProblem(entry.seq, "content does not match its hash"))
        expected_prev = entry.hash
        expected_seq = entry.seq + 1
        last = entry
    if head_seq is not None:
        last_seq = last.seq if last else 0
        last_hash = last.hash if last else GENESIS_HASH
        if head_seq != last_seq or (head_hash is not None and head_hash != last_hash):
            problems.append(
                ChainProblem(last_seq, f"chain head says entry {head_seq}, log ends at {last_seq}")
            )
    return problems
