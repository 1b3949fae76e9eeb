"""The text of stored softcopies: the work queue, the results, and what people may see.

Every softcopy stored (an upload, photos combined into a PDF) queues its content in the same
transaction that records the file (``PpidService._queue_text``); the text worker
(``bot/text_jobs.py``) claims queued documents, reads them in a process pool
(:mod:`sop.text_reading`: :mod:`sop.extraction` and :mod:`sop.pii`) and saves the result
here, audited without any of the text. A document that cannot be read is still
stored; its record says why. The content is the key (SHA-256): the PPID copy of step 3 and
the same document in another record share one reading.

The personal-data hints are kept as JSON with masked samples only.
Only people who may see a record see its texts' state and hints (:meth:`record_texts`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from db.models import DocumentTextRow
from db.repositories import Repository
from db.texts import TextRepository, TextStatus, Work
from sop.extraction import Method, Problem
from sop.model import Actor
from sop.pii import Masked, PiiFinding, PiiHints, PiiKind
from sop.service import PpidService
from sop.text_reading import ReadResult, hints_from_json
from storage import Area

log = logging.getLogger(__name__)

__all__ = [
    "MAX_ATTEMPTS",
    "DocumentText",
    "TextNotice",
    "TextService",
    "combined_hints",
]

#: A document that failed this often (Tesseract crashed, timed out, the bot died while
#: reading it) is given up: it says "could not be read" and stays stored.
MAX_ATTEMPTS = 3
#: Why the last attempts failed, kept on the row (no content).
FAILED = "failed"


@dataclass(frozen=True, slots=True)
class DocumentText:
    """The text state of one softcopy, as a record's card shows it."""

    file_id: int
    name: str
    area: str
    status: str  # TextStatus, or "none" (never queued)
    method: Method | None = None
    problem: str | None = None  # a Problem, or "failed"
    pages: int | None = None
    unread_pages: int = 0
    hints: PiiHints | None = None

    @property
    def waiting(self) -> bool:
        return self.status in {TextStatus.PENDING, TextStatus.RUNNING}

    @property
    def read(self) -> bool:
        return self.status in {TextStatus.READY, TextStatus.DONE, TextStatus.SKIPPED}


@dataclass(frozen=True, slots=True)
class TextNotice:
    """Tell the sender of softcopies that their text was read (or could not be): one
    notice per sender and record, once none of the record's softcopies is still waiting."""

    user_id: int
    record_id: int
    record_number: str
    documents: tuple[DocumentText, ...]  # the softcopies read since the last notice
    text_ids: tuple[int, ...]


def _document(file_id: int, name: str, area: str, row: DocumentTextRow | None) -> DocumentText:
    if row is None:
        return DocumentText(file_id, name, area, "none")
    return DocumentText(
        file_id,
        name,
        area,
        row.status,
        Method(row.method) if row.method else None,
        row.problem,
        row.page_count,
        row.unread_pages,
        hints_from_json(row.hints) if row.hints else None,
    )


def combined_hints(documents: list[DocumentText]) -> PiiHints | None:
    """The hints of several softcopies as one (counts added, pages and samples of the
    first files first); None when no text of them was read."""
    read = [d.hints for d in documents if d.hints is not None]
    if not read:
        return None
    by_kind: dict[PiiKind, list[PiiFinding]] = {}
    for hints in read:
        for finding in hints.findings:
            by_kind.setdefault(finding.kind, []).append(finding)
    findings = []
    for kind in PiiKind:
        parts = by_kind.get(kind)
        if not parts:
            continue
        samples: list[Masked] = []
        for part in parts:
            samples.extend(s for s in part.samples if s not in samples)
        findings.append(
            PiiFinding(
                kind,
                sum(p.count for p in parts),
                tuple(sorted({page for p in parts for page in p.pages})),
                tuple(samples[:3]),
            )
        )
    return PiiHints(tuple(findings))


class TextService:
    """The document texts, beside :class:`PpidService` (its transactions, audit, access)."""

    def __init__(self, service: PpidService) -> None:
        self.service = service

    # -- for people ------------------------------------------------------------------------
    async def record_texts(self, actor: Actor, record_id: int) -> list[DocumentText]:
        """The text state and hints of a record's attached softcopies in the division's
        storage (the PPID copies hold the same content), for those who may see it."""
        async with self.service.transaction() as repo:
            await self.service.load(repo, actor, record_id)
            rows = await TextRepository(repo.session).record_texts(record_id)
        division = [r for r in rows if r.area == Area.DIVISION] or rows
        return [_document(r.file_id, r.original_name, r.area, r.row) for r in division]

    # -- for the worker --------------------------------------------------------------------
    async def start(self, *, ocr_enabled: bool) -> None:
        """At the worker's start: work claimed before a stop goes back to the queue; with
        OCR on, so do the documents that waited for it."""
        async with self.service.transaction() as repo:
            texts = TextRepository(repo.session)
            released = await texts.release_running()
            requeued = await texts.requeue_skipped(self.service.now()) if ocr_enabled else 0
        if released or requeued:
            log.info(
                "text worker: %d document(s) resumed, %d queued again for OCR", released, requeued
            )

    async def claim(self, limit: int) -> list[Work]:
        async with self.service.transaction() as repo:
            return await TextRepository(repo.session).claim(limit, self.service.now())

    async def has_pending(self) -> bool:
        async with self.service.transaction() as repo:
            return await TextRepository(repo.session).has_pending()

    async def save(self, work: Work, result: ReadResult) -> None:
        """Keep what was read, audit it (counts only), queue the senders' notice."""
        extraction = result.extraction
        async with self.service.transaction() as repo:
            texts = TextRepository(repo.session)
            row = await texts.get(work.text_id)
            if row is None or row.status != TextStatus.RUNNING:
                return  # given back to the queue meanwhile (a restart): the new run saves
            pages = list(extraction.pages) if extraction.has_text else []
            await texts.save_pages(row.id, pages, result.stems)
            row.status = TextStatus.READY
            row.method = str(extraction.method) if extraction.method else None
            row.problem = str(extraction.problem) if extraction.problem else None
            row.page_count = len(extraction.pages) if extraction.method else None
            row.unread_pages = extraction.unread_pages
            row.chars = sum(len(p) for p in pages)
            row.hints = result.hints_json
            row.error = None
            row.finished_at = self.service.now()
            await self._audit(repo, texts, row.sha256, self._details(row))

    async def fail(self, work: Work, error: str) -> None:
        """This attempt failed (no content in ``error``): retry, or give up after
        :data:`MAX_ATTEMPTS` (the document then says it could not be read)."""
        async with self.service.transaction() as repo:
            texts = TextRepository(repo.session)
            row = await texts.get(work.text_id)
            if row is None or row.status != TextStatus.RUNNING:
                return
            row.error = error[:200]
            if row.attempts < MAX_ATTEMPTS:
                row.status = TextStatus.PENDING
                return
            row.status = TextStatus.READY
            row.problem = FAILED
            row.finished_at = self.service.now()
            await self._audit(repo, texts, row.sha256, self._details(row))

    async def forget(self, work: Work) -> None:
        """No file holds this content any more: nothing to read."""
        async with self.service.transaction() as repo:
            texts = TextRepository(repo.session)
            row = await texts.get(work.text_id)
            if row is not None and row.status == TextStatus.RUNNING:
                row.status = TextStatus.DONE
                row.problem = str(Problem.UNSUPPORTED)
                row.finished_at = self.service.now()

    async def notices(self, limit: int = 100) -> list[TextNotice]:
        """What to tell whom now that documents were read (see :class:`TextNotice`)."""
        async with self.service.transaction() as repo:
            texts = TextRepository(repo.session)
            senders: dict[tuple[int, int], set[int]] = {}
            for row in await texts.ready(limit):
                recipients = await texts.recipients(row.sha256, Area.DIVISION)
                if not recipients:
                    row.status = self._told_status(row)  # nobody to tell (detached photos)
                for recipient in recipients:
                    senders.setdefault((recipient.user_id, recipient.record_id), set()).add(row.id)
            result = []
            for (user_id, record_id), text_ids in senders.items():
                record = await repo.record(record_id)
                if record is None:
                    continue
                files = [f for f in await texts.record_texts(record_id) if f.area == Area.DIVISION]
                waiting = {TextStatus.PENDING, TextStatus.RUNNING}
                if any(f.row is not None and f.row.status in waiting for f in files):
                    continue  # told once the last of them is read
                documents = tuple(
                    _document(f.file_id, f.original_name, f.area, f.row)
                    for f in files
                    if f.row is not None and f.row.id in text_ids
                )
                number = record.register_number or f"BRK-{record.id}"
                result.append(
                    TextNotice(user_id, record_id, number, documents, tuple(sorted(text_ids)))
                )
            return result

    async def told(self, text_ids: Sequence[int]) -> None:
        """The senders of these documents were told (or could not be)."""
        async with self.service.transaction() as repo:
            texts = TextRepository(repo.session)
            for text_id in text_ids:
                row = await texts.get(text_id)
                if row is not None and row.status == TextStatus.READY:
                    row.status = self._told_status(row)
                    row.notified_at = self.service.now()

    @staticmethod
    def _told_status(row: DocumentTextRow) -> str:
        waits_for_ocr = row.problem == Problem.NEEDS_OCR or row.unread_pages > 0
        return TextStatus.SKIPPED if waits_for_ocr else TextStatus.DONE

    @staticmethod
    def _details(row: DocumentTextRow) -> dict[str, object]:
        hints = hints_from_json(row.hints) if row.hints else None
        return {
            "sha256": row.sha256,
            "method": row.method,
            "problem": row.problem,
            "pages": row.page_count,
            "unread_pages": row.unread_pages,
            "chars": row.chars,
            "hints": {str(f.kind): f.count for f in hints.findings} if hints else {},
        }

    async def _audit(
        self, repo: Repository, texts: TextRepository, sha256: str, details: dict[str, object]
    ) -> None:
        """One entry per record holding this content (the text itself is never audited)."""
        records: list[int | None] = [*await texts.records_with(sha256)]
        for record_id in records or [None]:
            await self.service.audit(
                repo, "file.text_read", actor_id=None, record_id=record_id, details=details
            )
