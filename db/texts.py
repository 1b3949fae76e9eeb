"""Queries of the document texts (``document_texts``, ``document_pages``): the work queue of
the text worker and what a record's card shows. Never commits: the caller owns the
transaction (like :mod:`db.repositories`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, event, insert, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import DocumentPageRow, DocumentTextRow, RecordFileRow

log = logging.getLogger(__name__)


def _ignoring(callback: Callable[[], None]) -> Callable[..., None]:
    """An after-commit hook that never fails the commit it follows."""

    def hook(*_: object) -> None:
        try:
            callback()
        except Exception:
            log.exception("after-commit hook failed")

    return hook


class TextStatus:
    PENDING = "pending"  # waiting for a worker (the queue)
    RUNNING = "running"  # claimed by a worker
    READY = "ready"  # read (or given up), its senders not told yet
    DONE = "done"  # read and told
    SKIPPED = "skipped"  # told that only OCR could read (more of) it, and OCR is off


@dataclass(frozen=True, slots=True)
class Work:
    """A document to read: its text row, and one stored file with that content."""

    text_id: int
    sha256: str
    attempts: int
    path: str | None  # None: no file holds this content any more
    mime_type: str | None


@dataclass(frozen=True, slots=True)
class FileText:
    """The text state of one softcopy of a record."""

    file_id: int
    original_name: str
    area: str
    row: DocumentTextRow | None  # None: not queued (a file stored before texts existed)


@dataclass(frozen=True, slots=True)
class Recipient:
    """Someone who sent a softcopy with this content, and the record it is in."""

    user_id: int
    record_id: int
    file_id: int
    original_name: str


class TextRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def queue(
        self, sha256: str, at: datetime, *, on_commit: Sequence[Callable[[], None]] = ()
    ) -> None:
        """Ask for the text of this content (nothing if it is queued or read already);
        ``on_commit`` is called once the transaction has committed."""
        for callback in on_commit:
            event.listen(self.session.sync_session, "after_commit", _ignoring(callback), once=True)
        values = {
            "sha256": sha256,
            "status": TextStatus.PENDING,
            "unread_pages": 0,
            "attempts": 0,
            "queued_at": at,
        }
        dialect = self.session.get_bind().dialect.name
        if dialect == "postgresql":
            statement = postgresql.insert(DocumentTextRow).values(values)
            await self.session.execute(statement.on_conflict_do_nothing(index_elements=["sha256"]))
        elif dialect == "sqlite":
            statement_lite = sqlite.insert(DocumentTextRow).values(values)
            await self.session.execute(
                statement_lite.on_conflict_do_nothing(index_elements=["sha256"])
            )
        else:  # pragma: no cover - the bot runs on SQLite and PostgreSQL only
            if await self.by_hash(sha256) is None:
                await self.session.execute(insert(DocumentTextRow).values(values))

    async def by_hash(self, sha256: str) -> DocumentTextRow | None:
        query = select(DocumentTextRow).where(DocumentTextRow.sha256 == sha256)
        return await self.session.scalar(query)

    async def get(self, text_id: int) -> DocumentTextRow | None:
        return await self.session.get(DocumentTextRow, text_id)

    async def release_running(self) -> int:
        """Back to the queue: work a worker had claimed when the bot stopped."""
        result = await self.session.execute(
            update(DocumentTextRow)
            .where(DocumentTextRow.status == TextStatus.RUNNING)
            .values(status=TextStatus.PENDING)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def requeue_skipped(self, at: datetime) -> int:
        """Back to the queue: documents that waited for OCR (it is on now)."""
        result = await self.session.execute(
            update(DocumentTextRow)
            .where(DocumentTextRow.status == TextStatus.SKIPPED)
            .values(status=TextStatus.PENDING, queued_at=at)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def claim(self, limit: int, at: datetime) -> list[Work]:
        """Take up to ``limit`` pending documents (oldest first) for a worker."""
        query = (
            select(DocumentTextRow)
            .where(DocumentTextRow.status == TextStatus.PENDING)
            .order_by(DocumentTextRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = (await self.session.scalars(query)).all()
        work = []
        for row in rows:
            row.status = TextStatus.RUNNING
            row.attempts += 1
            row.started_at = at
            file = await self._file_with(row.sha256)
            work.append(
                Work(
                    row.id,
                    row.sha256,
                    row.attempts,
                    file.path if file else None,
                    file.mime_type if file else None,
                )
            )
        await self.session.flush()
        return work

    async def _file_with(self, sha256: str) -> RecordFileRow | None:
        """A stored file with this content: an attached one first (detached photos keep
        their bytes too)."""
        query = (
            select(RecordFileRow)
            .where(RecordFileRow.sha256 == sha256)
            .order_by(RecordFileRow.removed_at.is_not(None), RecordFileRow.id)
            .limit(1)
        )
        return await self.session.scalar(query)

    async def has_pending(self) -> bool:
        query = select(DocumentTextRow.id).where(DocumentTextRow.status == TextStatus.PENDING)
        return await self.session.scalar(query.limit(1)) is not None

    async def save_pages(
        self, text_id: int, pages: Sequence[str], stems: Sequence[str] = ()
    ) -> None:
        """Replace a document's pages; ``stems``: the roots of each page's words."""
        await self.session.execute(
            delete(DocumentPageRow).where(DocumentPageRow.text_id == text_id)
        )
        if pages:
            await self.session.execute(
                insert(DocumentPageRow),
                [
                    {
                        "text_id": text_id,
                        "page": number,
                        "text": text,
                        "stems": stems[number - 1] if number <= len(stems) else "",
                    }
                    for number, text in enumerate(pages, start=1)
                ],
            )

    async def pages(self, text_id: int) -> Sequence[DocumentPageRow]:
        query = (
            select(DocumentPageRow)
            .where(DocumentPageRow.text_id == text_id)
            .order_by(DocumentPageRow.page)
        )
        return (await self.session.scalars(query)).all()

    async def record_texts(self, record_id: int) -> list[FileText]:
        """The attached softcopies of a record with their text rows (one query)."""
        query = (
            select(RecordFileRow, DocumentTextRow)
            .outerjoin(DocumentTextRow, DocumentTextRow.sha256 == RecordFileRow.sha256)
            .where(RecordFileRow.record_id == record_id, RecordFileRow.removed_at.is_(None))
            .order_by(RecordFileRow.id)
        )
        return [
            FileText(file.id, file.original_name, file.area, text)
            for file, text in (await self.session.execute(query)).all()
        ]

    async def ready(self, limit: int) -> Sequence[DocumentTextRow]:
        """Read documents whose senders were not told yet."""
        query = (
            select(DocumentTextRow)
            .where(DocumentTextRow.status == TextStatus.READY)
            .order_by(DocumentTextRow.id)
            .limit(limit)
        )
        return (await self.session.scalars(query)).all()

    async def records_with(self, sha256: str) -> list[int]:
        """The records that hold a softcopy with this content (attached or copied)."""
        query = (
            select(RecordFileRow.record_id)
            .where(RecordFileRow.sha256 == sha256, RecordFileRow.removed_at.is_(None))
            .distinct()
            .order_by(RecordFileRow.record_id)
        )
        return list((await self.session.scalars(query)).all())

    async def recipients(self, sha256: str, area: str) -> list[Recipient]:
        """Who sent an attached softcopy with this content, in which record."""
        query = (
            select(RecordFileRow)
            .where(
                RecordFileRow.sha256 == sha256,
                RecordFileRow.area == area,
                RecordFileRow.removed_at.is_(None),
                RecordFileRow.uploaded_by.is_not(None),
            )
            .order_by(RecordFileRow.id)
        )
        return [
            Recipient(row.uploaded_by, row.record_id, row.id, row.original_name)
            for row in (await self.session.scalars(query)).all()
            if row.uploaded_by is not None
        ]


# -- search ------------------------------------------------------------------------------
#: What /cari searches in the pages on PostgreSQL, exactly as migration 0018 indexes it.
PAGE_DOCUMENT = "to_tsvector('simple', document_pages.text || ' ' || document_pages.stems)"
#: Around the words found, as FTS5's snippet() and PostgreSQL's ts_headline() mark them.
HIT_START, HIT_END = "\x02", "\x03"
SNIPPET_WORDS = 12


@dataclass(frozen=True, slots=True)
class TextHit:
    """Where a search found its words in a record's softcopies: the first such page."""

    file_name: str
    page: int
    snippet: str  # the words found between HIT_START and HIT_END


def _forms(words: Sequence[str], roots: Sequence[str] | None) -> list[tuple[str, str | None]]:
    roots = roots or ()
    return [
        (word, root if root != word else None)
        for word, root in zip(words, [*roots, *words[len(roots) :]], strict=False)
    ]


def pg_query(words: Sequence[str], roots: Sequence[str] | None = None) -> str:
    """Every word, each also as the beginning of a longer one (as for the records), or
    its root (``roots``: :func:`sop.stemming.roots`) among the words or the pages' roots."""
    return " & ".join(
        f"('{word}':* | '{root}')" if root else f"'{word}':*" for word, root in _forms(words, roots)
    )


def fts_query(words: Sequence[str], roots: Sequence[str] | None = None) -> str:
    return " AND ".join(
        f'("{word}"* OR "{root}")' if root else f'"{word}"*' for word, root in _forms(words, roots)
    )


def text_search_sql(dialect: str) -> str:
    """The records whose attached softcopies have a page with every word (one column,
    ``record_id``; parameter ``:page_fts`` on SQLite, ``:page_tsq`` on PostgreSQL)."""
    if dialect == "postgresql":
        # The pages from the GIN index first (OFFSET 0 keeps the planner from walking
        # every softcopy and testing its pages instead).
        return (
            "SELECT f.record_id FROM (SELECT p.text_id FROM document_pages p "
            f"WHERE {PAGE_DOCUMENT.replace('document_pages.', 'p.')} "
            "@@ to_tsquery('simple', :page_tsq) OFFSET 0) AS hit "
            "JOIN document_texts t ON t.id = hit.text_id "
            "JOIN record_files f ON f.sha256 = t.sha256 AND f.removed_at IS NULL"
        )
    return (
        "SELECT f.record_id FROM document_pages_fts "
        "JOIN document_pages p ON p.id = document_pages_fts.rowid "
        "JOIN document_texts t ON t.id = p.text_id "
        "JOIN record_files f ON f.sha256 = t.sha256 AND f.removed_at IS NULL "
        "WHERE document_pages_fts MATCH :page_fts"
    )


async def text_hits(
    session: AsyncSession,
    record_ids: Sequence[int],
    words: Sequence[str],
    roots: Sequence[str] | None = None,
) -> dict[int, TextHit]:
    """For the records shown (a page of /cari), the first page of an attached softcopy
    with every word, and a snippet around them. Reads only those records' pages."""
    if not record_ids or not words:
        return {}
    ids = ",".join(str(int(i)) for i in record_ids)
    if session.get_bind().dialect.name == "postgresql":
        statement = sql_text(
            "SELECT f.record_id, f.original_name, p.page, ts_headline('simple', p.text, "
            "to_tsquery('simple', :tsq), :options) FROM record_files f "
            "JOIN document_texts t ON t.sha256 = f.sha256 "
            "JOIN document_pages p ON p.text_id = t.id "
            f"WHERE f.record_id IN ({ids}) AND f.removed_at IS NULL "
            f"AND {PAGE_DOCUMENT.replace('document_pages.', 'p.')} @@ to_tsquery('simple', :tsq) "
            "ORDER BY f.record_id, f.id, p.page"
        ).bindparams(
            tsq=pg_query(words, roots),
            options=(
                f"StartSel={HIT_START}, StopSel={HIT_END}, MaxWords={SNIPPET_WORDS}, "
                "MinWords=4, MaxFragments=1, FragmentDelimiter=…"
            ),
        )
    else:
        statement = sql_text(
            "SELECT f.record_id, f.original_name, p.page, "
            "snippet(document_pages_fts, 0, :start, :end, '…', :words) FROM record_files f "
            # CROSS JOIN keeps this order: from the records shown to their pages, each
            # page tested against the words (not every page of the archive that has them).
            "CROSS JOIN document_texts t CROSS JOIN document_pages p "
            "CROSS JOIN document_pages_fts "
            f"WHERE f.record_id IN ({ids}) AND f.removed_at IS NULL AND t.sha256 = f.sha256 "
            "AND p.text_id = t.id AND document_pages_fts.rowid = p.id "
            "AND document_pages_fts MATCH :fts ORDER BY f.record_id, f.id, p.page"
        ).bindparams(fts=fts_query(words, roots), start=HIT_START, end=HIT_END, words=SNIPPET_WORDS)
    hits: dict[int, TextHit] = {}
    for record_id, name, page, snippet in (await session.execute(statement)).all():
        hits.setdefault(record_id, TextHit(name, page, snippet or ""))
    return hits
