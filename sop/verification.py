"""Issued papers and their verification codes.

Issuing a paper (:meth:`PapersService.issue`) builds it from the register as it is now,
gives it a verification code, renders its PDF (with the code in a QR code) through the
injected renderer and keeps, in one audited transaction, what the paper said (canonical
JSON), the SHA-256 of the PDF and the audit entry it attests. Issuing the same content
again returns the same paper and code.

A **verification code** is 10 random characters of Crockford's base32 (50 bits; no I, L,
O or U), shown as ``ABCDE-FGHJK``; it is typed back with or without the hyphen, in any
case, with O for 0 and I or L for 1.

:meth:`PapersService.verify` takes a code or a PDF's bytes and answers whether the paper
matches the register: the record and the hand-over as they are now against what the paper
said, each file's checksum (re-hashed on disk), the attested audit entry's hash, and the
chain from that entry to the head.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from db.models import AuditRow, IssuedDocumentRow, RecordRow
from db.papers import PapersRepository
from db.repositories import Repository
from sop.audit import entry_hash
from sop.errors import InvalidInput, NotFound
from sop.model import Actor, Step
from sop.papers import (
    DEFAULT_BODY,
    AuditRef,
    Document,
    DocumentKind,
    HandoverRecord,
    PaperUnavailable,
    PublicBody,
    available_kinds,
    build,
    content_sha256,
    differences,
    from_json,
    to_json,
)
from sop.service import PpidService
from storage import StorageError

#: Crockford's base32: digits and letters without I, L, O and U.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10
_TYPED = str.maketrans({"O": "0", "I": "1", "L": "1"})
#: How the code is written into a PDF's metadata (keywords), so a PDF finds its record.
PDF_KEYWORD = "ppidbot-verifikasi"
_KEYWORD = re.compile(rf"{PDF_KEYWORD}:([0-9A-Z]{{5}}-?[0-9A-Z]{{5}})")

#: Audit actions that change what a consequence-test sheet or a decision says; the
#: latest of them is the entry such a paper attests ("document.issued", "file.read" and
#: notices change nothing on the paper).
RECORD_CHANGES = frozenset(
    {
        "record.created",
        "record.updated",
        "record.returned",
        "record.opened",
        "record.internal",
        "division.changed",
        "file.stored",
        "file.detached",
        "file.merged",
        "file.moved",
        "step1.done",
        "step2.done",
        "step3.done",
    }
)

#: Renders a paper with its verification code into PDF bytes (deterministic).
Renderer = Callable[[Document, str], bytes]


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """``ABCDEFGHJK`` as it is printed: ``ABCDE-FGHJK``."""
    return f"{code[:5]}-{code[5:]}"


def normalize_code(text: str) -> str:
    """A code as typed (any case, hyphens and spaces, O for 0, I or L for 1) in its
    stored form; InvalidInput when it cannot be one."""
    code = re.sub(r"[\s\-]", "", text).upper().translate(_TYPED)
    if len(code) != CODE_LENGTH or any(ch not in ALPHABET for ch in code):
        raise InvalidInput("Kode verifikasi tidak dikenali: 10 huruf/angka, seperti ABCDE-FGHJK.")
    return code


def code_in_pdf(data: bytes) -> str | None:
    """The verification code a PDF carries in its metadata, if any (also when another
    program saved it again)."""
    match = _KEYWORD.search(data.decode("latin-1"))
    if match:
        return normalize_code(match.group(1))
    try:
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError

        meta = PdfReader(io.BytesIO(data)).metadata
    except (PyPdfError, ValueError, OSError):
        return None
    keywords = str(meta.get("/Keywords", "")) if meta else ""
    match = _KEYWORD.search(keywords)
    return normalize_code(match.group(1)) if match else None


@dataclass(frozen=True, slots=True)
class IssuedPaper:
    kind: DocumentKind
    record_id: int
    code: str
    document: Document
    pdf: bytes
    pdf_sha256: str
    created_at: datetime
    new: bool  # issued now (False: the same paper was issued before)
    #: Whether rendering again gave the PDF issued then (False after a change of the
    #: PDF library or font: the content and code still verify, the bytes differ).
    reproduced: bool = True


class Verdict(StrEnum):
    MATCHES = "matches"  # the paper says what the register says now
    CHANGED = "changed"  # issued, but the register (or its files, or its chain) changed since
    PDF_DIFFERS = "pdf_differs"  # the register still matches; this PDF is not the issued file
    UNKNOWN = "unknown"  # no paper was issued with this code or this PDF


class FileStatus(StrEnum):
    OK = "ok"  # on disk with the checksum the paper gives
    ALTERED = "altered"  # on disk, with other bytes
    MISSING = "missing"  # the record still lists it; the storage lacks it
    REMOVED = "removed"  # the record no longer holds a file with that checksum


@dataclass(frozen=True, slots=True)
class FileCheck:
    name: str
    sha256: str
    status: FileStatus


@dataclass(frozen=True, slots=True)
class ChainCheck:
    """The attested entry and the chain from it to the head."""

    entry_found: bool
    entry_unchanged: bool  # its hash is the one the paper recorded
    checked: int  # entries recomputed
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.entry_found and self.entry_unchanged and not self.problems


@dataclass(frozen=True, slots=True)
class Verification:
    verdict: Verdict
    code: str | None
    kind: DocumentKind | None = None
    record_id: int | None = None
    issued_at: datetime | None = None
    issued: Document | None = None
    current: Document | None = None  # the paper as the register would issue it now
    changes: tuple[str, ...] = ()  # fields of the paper that differ now
    unavailable: str | None = None  # why no current paper can be built (e.g. withdrawn)
    files: tuple[FileCheck, ...] = ()
    chain: ChainCheck | None = None
    pdf_identical: bool | None = None  # None: verified by code


class PapersService:
    """Issue papers and verify them; a companion of ``PpidService`` (its transactions,
    audit chain and visibility rules)."""

    def __init__(
        self, service: PpidService, render: Renderer, body: PublicBody = DEFAULT_BODY
    ) -> None:
        self.service = service
        self.render = render
        self.body = body

    async def _load(self, repo: Repository, actor: Actor | None, record_id: int) -> RecordRow:
        """The record, for someone who may see it (None: the operator)."""
        if actor is None:
            row = await repo.record(record_id)
            if row is None:
                raise NotFound()
            return row
        actor = await self.service.fresh_actor(repo, actor)
        return await self.service.load(repo, actor, record_id)

    async def _current(self, repo: Repository, row: RecordRow, kind: DocumentKind) -> Document:
        view = await self.service.view(repo, row)
        entries = await repo.audit_entries(record_id=row.id)
        return build(kind, view, self._refs(kind, entries), self.body)

    @staticmethod
    def _refs(kind: DocumentKind, entries: Sequence[AuditRow]) -> list[AuditRef]:
        handover = kind in {DocumentKind.HANDOVER_STEP2, DocumentKind.HANDOVER_STEP3}
        return [
            AuditRef(entry.seq, entry.hash, entry.at, entry.action)
            for entry in entries
            if handover or entry.action in RECORD_CHANGES
        ]

    async def current(self, actor: Actor | None, record_id: int, kind: DocumentKind) -> Document:
        """The paper of ``kind`` as the register holds it now (not issued)."""
        async with self.service.transaction() as repo:
            row = await self._load(repo, actor, record_id)
            return await self._current(repo, row, kind)

    async def kinds(self, actor: Actor | None, record_id: int) -> tuple[DocumentKind, ...]:
        """The papers the record has now."""
        async with self.service.transaction() as repo:
            row = await self._load(repo, actor, record_id)
            return available_kinds(await self.service.view(repo, row))

    async def issue(self, actor: Actor | None, record_id: int, kind: DocumentKind) -> IssuedPaper:
        """The paper of ``kind`` with a verification code and its PDF; the same content
        issued before keeps its code (``new`` False). Audited as ``document.issued``."""
        async with self.service.transaction() as repo:
            row = await self._load(repo, actor, record_id)
            await repo.record(record_id, lock=True)  # one issue of a record at a time
            document = await self._current(repo, row, kind)
            papers = PapersRepository(repo.session)
            digest = content_sha256(document)
            existing = await papers.document_with_content(kind, record_id, digest)
            if existing is not None:
                pdf = self.render(document, existing.code)
                pdf_sha256 = hashlib.sha256(pdf).hexdigest()
                return IssuedPaper(
                    kind,
                    record_id,
                    existing.code,
                    document,
                    pdf,
                    existing.pdf_sha256,
                    existing.created_at,
                    new=False,
                    reproduced=pdf_sha256 == existing.pdf_sha256,
                )
            code = new_code()
            while await papers.document_by_code(code) is not None:  # 2^-50: never, but sure
                code = new_code()
            pdf = self.render(document, code)
            pdf_sha256 = hashlib.sha256(pdf).hexdigest()
            now = self.service.now()
            await papers.add_document(
                IssuedDocumentRow(
                    kind=kind.value,
                    record_id=record_id,
                    code=code,
                    pdf_sha256=pdf_sha256,
                    content=to_json(document),
                    content_sha256=digest,
                    audit_seq=document.audit.seq,
                    audit_hash=document.audit.hash,
                    issued_by=actor.user_id if actor else None,
                    created_at=now,
                )
            )
            await self.service.audit(
                repo,
                "document.issued",
                actor_id=actor.user_id if actor else None,
                record_id=record_id,
                details={
                    "kind": kind.value,
                    "code": code,
                    "pdf_sha256": pdf_sha256,
                    "content_sha256": digest,
                    "attests": document.audit.seq,
                },
            )
        return IssuedPaper(kind, record_id, code, document, pdf, pdf_sha256, now, new=True)

    async def issue_all(self, actor: Actor | None, record_id: int) -> list[IssuedPaper]:
        """Every paper the record has now (see :func:`sop.papers.available_kinds`)."""
        return [
            await self.issue(actor, record_id, kind) for kind in await self.kinds(actor, record_id)
        ]

    async def issued(self, actor: Actor | None, record_id: int) -> list[IssuedPaper]:
        """Every paper issued for the record, oldest first, rendered again."""
        async with self.service.transaction() as repo:
            await self._load(repo, actor, record_id)
            rows = await PapersRepository(repo.session).documents_of(record_id)
        papers = []
        for row in rows:
            document = from_json(row.content)
            pdf = self.render(document, row.code)
            papers.append(
                IssuedPaper(
                    DocumentKind(row.kind),
                    record_id,
                    row.code,
                    document,
                    pdf,
                    row.pdf_sha256,
                    row.created_at,
                    new=False,
                    reproduced=hashlib.sha256(pdf).hexdigest() == row.pdf_sha256,
                )
            )
        return papers

    async def listed(self, actor: Actor | None, record_id: int) -> list[tuple[DocumentKind, str]]:
        """(kind, code) of every paper issued for the record, oldest first (one indexed
        query; nothing is rendered)."""
        async with self.service.transaction() as repo:
            await self._load(repo, actor, record_id)
            rows = await PapersRepository(repo.session).documents_of(record_id)
        return [(DocumentKind(row.kind), row.code) for row in rows]

    async def parties(self, record_id: int, step: Step) -> list[Actor]:
        """The two people of a hand-over (who completed the step before ``step``, who
        completed ``step``), active ones only, each once."""
        async with self.service.transaction() as repo:
            row = await repo.record(record_id)
            if row is None:
                raise NotFound()
            runs = (await self.service.view(repo, row)).runs
            people: list[Actor] = []
            for wanted in (Step(step - 1), step):
                done = [r for r in runs if r.step is wanted and r.outcome == "done"]
                user_id = done[-1].completed_by if done else None
                user = await repo.user(user_id) if user_id is not None else None
                if user is not None and user.active and all(p.user_id != user.id for p in people):
                    people.append(await self.service.actor_of(repo, user))
            return people

    # -- verification --------------------------------------------------------------------
    async def verify(self, subject: str | bytes, actor: Actor | None = None) -> Verification:
        """Verify a code (text) or a PDF (bytes) against the register. ``actor`` None is
        the operator; a person learns only about records they may see."""
        if isinstance(subject, bytes):
            return await self._verify_pdf(subject, actor)
        return await self._verify_code(normalize_code(subject), actor, pdf_identical=None)

    async def _verify_pdf(self, data: bytes, actor: Actor | None) -> Verification:
        digest = hashlib.sha256(data).hexdigest()
        async with self.service.transaction() as repo:
            rows = await PapersRepository(repo.session).documents_by_pdf(digest)
        if rows:
            return await self._verify_code(rows[0].code, actor, pdf_identical=True)
        code = code_in_pdf(data)
        if code is None:
            return Verification(Verdict.UNKNOWN, None, pdf_identical=False)
        return await self._verify_code(code, actor, pdf_identical=False)

    async def _verify_code(
        self, code: str, actor: Actor | None, *, pdf_identical: bool | None
    ) -> Verification:
        async with self.service.transaction() as repo:
            papers = PapersRepository(repo.session)
            row = await papers.document_by_code(code)
            if row is None:
                return Verification(Verdict.UNKNOWN, code, pdf_identical=pdf_identical)
            record = await self._load(repo, actor, row.record_id)
            kind = DocumentKind(row.kind)
            issued = from_json(row.content)
            current: Document | None
            unavailable = None
            try:
                current = await self._current(repo, record, kind)
            except PaperUnavailable as exc:  # the step was returned since, or withdrawn
                current, unavailable = None, exc.reason
            changes = differences(issued, current) if current is not None else ()
            files = await self._check_files(repo, record.id, issued)
            chain = await self._check_chain(repo, papers, row.audit_seq, row.audit_hash)
        problems = bool(changes or unavailable or not chain.ok)
        problems = problems or any(check.status is not FileStatus.OK for check in files)
        if problems:
            verdict = Verdict.CHANGED
        elif pdf_identical is False:
            verdict = Verdict.PDF_DIFFERS
        else:
            verdict = Verdict.MATCHES
        return Verification(
            verdict,
            code,
            kind,
            row.record_id,
            row.created_at,
            issued,
            current,
            changes,
            unavailable,
            files,
            chain,
            pdf_identical,
        )

    async def _check_files(
        self, repo: Repository, record_id: int, issued: Document
    ) -> tuple[FileCheck, ...]:
        if not isinstance(issued, HandoverRecord):
            return ()
        held = {(row.area, row.sha256): row for row in await repo.files_of(record_id)}
        checks = []
        for paper_file in issued.files:
            row = held.get((paper_file.area, paper_file.sha256))
            if row is None:
                status = FileStatus.REMOVED
            else:
                try:
                    size, sha256 = await self.service.storage.digest(row.path)
                except StorageError:
                    status = FileStatus.MISSING
                else:
                    ok = (size, sha256) == (paper_file.size, paper_file.sha256)
                    status = FileStatus.OK if ok else FileStatus.ALTERED
            checks.append(FileCheck(paper_file.name, paper_file.sha256, status))
        return tuple(checks)

    @staticmethod
    async def _check_chain(
        repo: Repository, papers: PapersRepository, seq: int, recorded_hash: str
    ) -> ChainCheck:
        """The attested entry still has the hash the paper recorded, and every entry from
        it to the head is intact and linked (a rewritten or cut chain shows here)."""
        first = await papers.audit_entry(seq)
        if first is None:
            return ChainCheck(False, False, 0, (f"entry {seq} is missing",))
        problems: list[str] = []
        checked = 0
        previous: AuditRow | None = None
        async for entry in papers.audit_range(seq):
            checked += 1
            if previous is not None and entry.seq != previous.seq + 1:
                problems.append(f"entries {previous.seq + 1} to {entry.seq - 1} are missing")
            elif previous is not None and entry.prev_hash != previous.hash:
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
            previous = entry
        head = await repo.audit_head()
        if previous is not None and (
            head is None or (head.last_seq, head.last_hash) != (previous.seq, previous.hash)
        ):
            last = head.last_seq if head else "-"
            problems.append(f"the chain head says entry {last}, the log ends at {previous.seq}")
        return ChainCheck(True, first.hash == recorded_hash, checked, tuple(problems))


__all__ = [
    "ALPHABET",
    "ChainCheck",
    "FileCheck",
    "FileStatus",
    "IssuedPaper",
    "PapersService",
    "Renderer",
    "Verdict",
    "Verification",
    "code_in_pdf",
    "format_code",
    "new_code",
    "normalize_code",
]
