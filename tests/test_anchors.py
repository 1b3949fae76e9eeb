"""Anchors: the chain's head kept outside the server proves a chain rewritten and
recomputed from some entry on, or cut short, even though such a chain verifies by itself."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from db.models import AuditHeadRow, AuditRow
from sop.anchors import AnchorService, parse_anchor
from sop.audit import entry_hash
from sop.service import PpidService
from tests.conftest import Office, sample_fields


async def rewrite_from(service: PpidService, seq: int, details: str) -> None:
    """What an intruder with the database does: change entry ``seq`` and recompute every
    hash after it, so the chain is consistent again."""
    async with service.transaction() as repo:
        rows = (
            await repo.session.scalars(
                select(AuditRow).where(AuditRow.seq >= seq).order_by(AuditRow.seq)
            )
        ).all()
        prev = rows[0].prev_hash
        for row in rows:
            if row.seq == seq:
                row.details = details
            row.prev_hash = prev
            row.hash = entry_hash(
                prev,
                row.seq,
                row.at,
                row.actor_user_id,
                row.action,
                row.record_id,
                row.details,
                row.actor_name,
            )
            prev = row.hash
            await repo.session.flush()
        await repo.session.execute(update(AuditHeadRow).values(last_hash=prev))


async def test_an_anchor_holds_until_the_chain_is_recomputed(
    service: PpidService, office: Office
) -> None:
    await service.create_draft(office.petugas, sample_fields())
    anchors = AnchorService(service)
    anchor = await anchors.anchor()
    assert parse_anchor(anchor.text) == (anchor.seq, anchor.hash)
    trail = await service.audit_trail(office.pejabat, 1)
    assert anchor.seq == trail[-1].seq + 1  # the anchor is its own audited entry
    assert (await anchors.check(anchor.seq, anchor.hash)).ok
    await service.create_draft(office.petugas, sample_fields(title="Berkas kedua"))
    assert (await anchors.check(anchor.seq, anchor.hash)).ok  # later entries do not matter

    first_record_entry = trail[0].seq
    await rewrite_from(service, first_record_entry, '{"title":"Judul yang dipalsukan"}')
    assert await service.verify_audit_chain() == []  # the chain alone looks intact
    result = await anchors.check(anchor.seq, anchor.hash)
    assert not result.ok
    assert "the chain was rewritten up to this entry and recomputed" in result.problems[0]


async def test_a_truncated_chain_misses_the_anchor(service: PpidService, office: Office) -> None:
    await service.create_draft(office.petugas, sample_fields())
    anchors = AnchorService(service)
    anchor = await anchors.anchor()
    async with service.transaction() as repo:
        await repo.session.execute(delete(AuditRow).where(AuditRow.seq >= anchor.seq - 1))
        last = await repo.session.scalar(select(AuditRow).order_by(AuditRow.seq.desc()).limit(1))
        assert last is not None
        await repo.session.execute(
            update(AuditHeadRow).values(last_seq=last.seq, last_hash=last.hash)
        )
    assert await service.verify_audit_chain() == []
    result = await anchors.check(anchor.seq, anchor.hash)
    assert result.problems == (
        f"the chain has no entry {anchor.seq} (it ends at {anchor.seq - 2}): truncated or replaced",
    )
