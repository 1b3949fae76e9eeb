"""Queries of the papers: issued documents, audit anchors, ranges of the audit chain and
the public register's stream. Like ``Repository``, it never commits."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditAnchorRow, AuditRow, IssuedDocumentRow, RecordRow

#: How many rows a stream fetches at a time.
STREAM_BATCH = 1000

#: The columns the public register reads: the whitelist starts here (no staff names, no
#: files, no descriptions).
PUBLIC_COLUMNS = (
    RecordRow.id,
    RecordRow.register_number,
    RecordRow.title,
    RecordRow.division_id,
    RecordRow.pasal17,
    RecordRow.other_legal_basis,
    RecordRow.consequence,
    RecordRow.period_kind,
    RecordRow.period_until,
    RecordRow.period_amount,
    RecordRow.period_unit,
    RecordRow.period_condition,
    RecordRow.classified_date,
    RecordRow.opened_on,
)


class PapersRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- issued documents ----------------------------------------------------------------
    async def add_document(self, row: IssuedDocumentRow) -> IssuedDocumentRow:
        self.session.add(row)
        await self.session.flush()
        return row

    async def document_by_code(self, code: str) -> IssuedDocumentRow | None:
        return await self.session.scalar(
            select(IssuedDocumentRow).where(IssuedDocumentRow.code == code)
        )

    async def documents_by_pdf(self, pdf_sha256: str) -> Sequence[IssuedDocumentRow]:
        query = select(IssuedDocumentRow).where(IssuedDocumentRow.pdf_sha256 == pdf_sha256)
        return (await self.session.scalars(query.order_by(IssuedDocumentRow.id))).all()

    async def document_with_content(
        self, kind: str, record_id: int, content_sha256: str
    ) -> IssuedDocumentRow | None:
        return await self.session.scalar(
            select(IssuedDocumentRow).where(
                IssuedDocumentRow.kind == kind,
                IssuedDocumentRow.record_id == record_id,
                IssuedDocumentRow.content_sha256 == content_sha256,
            )
        )

    async def documents_of(self, record_id: int) -> Sequence[IssuedDocumentRow]:
        query = (
            select(IssuedDocumentRow)
            .where(IssuedDocumentRow.record_id == record_id)
            .order_by(IssuedDocumentRow.id)
        )
        return (await self.session.scalars(query)).all()

    # -- the audit chain -----------------------------------------------------------------
    async def audit_entry(self, seq: int) -> AuditRow | None:
        return await self.session.get(AuditRow, seq)

    async def audit_range(
        self, first: int, last: int | None = None
    ) -> AsyncGenerator[AuditRow, None]:
        """The entries ``first``..``last`` (to the end when None), in order, streamed."""
        query = select(AuditRow).where(AuditRow.seq >= first).order_by(AuditRow.seq)
        if last is not None:
            query = query.where(AuditRow.seq <= last)
        result = await self.session.stream_scalars(query.execution_options(yield_per=STREAM_BATCH))
        async for row in result:
            yield row

    async def add_anchor(self, row: AuditAnchorRow) -> AuditAnchorRow:
        self.session.add(row)
        await self.session.flush()
        return row

    async def anchors(self, *, from_seq: int = 0) -> Sequence[AuditAnchorRow]:
        """Recorded anchors at or after entry ``from_seq``, oldest first."""
        query = (
            select(AuditAnchorRow)
            .where(AuditAnchorRow.seq >= from_seq)
            .order_by(AuditAnchorRow.seq, AuditAnchorRow.id)
        )
        return (await self.session.scalars(query)).all()

    async def latest_anchor(self) -> AuditAnchorRow | None:
        query = select(AuditAnchorRow).order_by(AuditAnchorRow.seq.desc(), AuditAnchorRow.id.desc())
        return await self.session.scalar(query.limit(1))

    # -- the public register -------------------------------------------------------------
    async def public_rows(self) -> AsyncGenerator[Any, None]:
        """Stored records that are not internal, oldest first, with only the public
        columns, streamed (one query whatever the archive's size)."""
        query = (
            select(*PUBLIC_COLUMNS)
            .where(RecordRow.state == "stored", RecordRow.internal.is_(False))
            .order_by(RecordRow.id)
            .execution_options(yield_per=STREAM_BATCH)
        )
        result = await self.session.stream(query)
        async for row in result:
            yield row

    async def public_count(self) -> int:
        query = (
            select(func.count())
            .select_from(RecordRow)
            .where(RecordRow.state == "stored", RecordRow.internal.is_(False))
        )
        return int(await self.session.scalar(query) or 0)
