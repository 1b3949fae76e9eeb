"""The papers the law asks for, as plain data built from what the register holds.

- A **handover record** (*berita acara serah terima*) for step 2 and for step 3 of the SOP:
  who handed the softcopy over to whom and when, each file's name, size and SHA-256, and
  the audit entry of the step. Step 2: the Petugas PPID who completed step 1 hands over to
  the Petugas Dokumentasi who registers it; step 3: the Petugas Dokumentasi hands over to
  the Pejabat PPID who receives and stores it (the chain of custody, both parties named).
- The **consequence-test sheet** (*lembar pengujian konsekuensi*): Perki 1/2021 Pasal 49
  ayat (2) (identify the document and the information, record it clearly, analyse the law
  it rests on, weigh the consequences of opening it against those of closing it) and, for
  KPU, PKPU 22/2023 Pasal 25 ayat (3) (material, potential harm if opened, legal basis,
  public interest, the balance, the conclusion) and Pasal 26 (the result on a sheet).
- The **classification decision** (*penetapan informasi yang dikecualikan*), with the
  fields of PP 61/2010: type of classification, the PPID official who set it, the unit,
  the exemption period, the reason, the place and date.

No wording lives here (the labels are in ``bot/texts/papers.py``) and nothing renders: a
document is a frozen dataclass that round-trips through canonical JSON (:func:`to_json`,
:func:`from_json`), which is what an issued document keeps to be verified later.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum, StrEnum
from typing import Any

from sop.model import (
    ExemptionPeriod,
    FileView,
    RecordFields,
    RecordView,
    Role,
    State,
    Step,
)
from storage import Area


class DocumentKind(StrEnum):
    HANDOVER_STEP2 = "handover_step2"  # berita acara serah terima, langkah 2
    HANDOVER_STEP3 = "handover_step3"  # berita acara serah terima, langkah 3
    CONSEQUENCE_TEST = "consequence_test"  # lembar pengujian konsekuensi
    CLASSIFICATION = "classification"  # penetapan informasi yang dikecualikan


HANDOVER_KINDS = {
    Step.HANDOVER: DocumentKind.HANDOVER_STEP2,
    Step.RECEIVE: DocumentKind.HANDOVER_STEP3,
}


@dataclass(frozen=True, slots=True)
class PublicBody:
    """Who issues the papers (proper names: data, the same in every language)."""

    name: str = "Komisi Pemilihan Umum Provinsi Sumatera Barat"
    office: str = "Pejabat Pengelola Informasi dan Dokumentasi (PPID)"
    sop: str = "SOP Nomor 25 Tahun 2021"
    sop_title: str = "Pendokumentasian Informasi Publik yang Dikecualikan"


DEFAULT_BODY = PublicBody()


@dataclass(frozen=True, slots=True)
class PaperFile:
    name: str
    size: int
    sha256: str
    area: str  # "divisi" or "ppid"


@dataclass(frozen=True, slots=True)
class AuditRef:
    """The audit entry a paper attests, as it was when the paper was made."""

    seq: int
    hash: str
    at: datetime
    action: str


@dataclass(frozen=True, slots=True)
class Party:
    name: str
    role: Role


@dataclass(frozen=True, slots=True)
class RecordRef:
    """The record a paper is about."""

    record_id: int
    number: str  # the register number once stored, else the draft's BRK-n
    register_number: str | None
    title: str
    division: str


@dataclass(frozen=True, slots=True)
class HandoverRecord:
    """Berita acara serah terima of step 2 or step 3."""

    step: Step
    body: PublicBody
    record: RecordRef
    giver: Party
    receiver: Party
    at: datetime
    files: tuple[PaperFile, ...]
    audit: AuditRef

    @property
    def kind(self) -> DocumentKind:
        return HANDOVER_KINDS[self.step]


@dataclass(frozen=True, slots=True)
class ConsequenceTest:
    """Lembar pengujian konsekuensi."""

    body: PublicBody
    record: RecordRef
    documents: tuple[str, ...]  # the files holding the information (Perki Pasal 49 (2) a)
    description: str  # the information recorded clearly (Pasal 49 (2) b)
    pasal17: tuple[str, ...]  # the legal basis (Pasal 49 (2) c; PKPU Pasal 25 (3) c)
    other_legal_basis: str | None
    consequence: str  # the DIK's short "konsekuensi"
    harm_if_opened: str | None  # PKPU Pasal 25 (3) b
    public_interest: str | None  # PKPU Pasal 25 (3) d
    weighing: str | None  # PKPU Pasal 25 (3) e; UU 14/2008 Pasal 2 ayat (4)
    period: ExemptionPeriod
    ends_on: date | None
    tested_by: str  # the PPID official (the record's "classified by")
    place: str
    tested_on: date
    missing: tuple[str, ...]  # fields the test still lacks (see missing_for_consequence_test)
    audit: AuditRef

    @property
    def kind(self) -> DocumentKind:
        return DocumentKind.CONSEQUENCE_TEST


@dataclass(frozen=True, slots=True)
class ClassificationDecision:
    """Penetapan informasi yang dikecualikan (PP 61/2010)."""

    body: PublicBody
    record: RecordRef
    description: str
    pasal17: tuple[str, ...]  # the type of classification: the exemption's letters
    other_legal_basis: str | None
    official: str  # the PPID official who set it
    unit: str  # the unit holding the information
    period: ExemptionPeriod
    ends_on: date | None
    reason: str  # the consequence (and the harm if opened, when recorded)
    place: str
    decided_on: date
    audit: AuditRef

    @property
    def kind(self) -> DocumentKind:
        return DocumentKind.CLASSIFICATION


Document = HandoverRecord | ConsequenceTest | ClassificationDecision
DOCUMENT_TYPES: dict[DocumentKind, type[Any]] = {
    DocumentKind.HANDOVER_STEP2: HandoverRecord,
    DocumentKind.HANDOVER_STEP3: HandoverRecord,
    DocumentKind.CONSEQUENCE_TEST: ConsequenceTest,
    DocumentKind.CLASSIFICATION: ClassificationDecision,
}

#: The parts of the consequence test the record must hold before step 3 (PKPU 22/2023
#: Pasal 25 ayat (3) huruf b, d and e): the harm if opened, the public interest, the balance.
CONSEQUENCE_TEST_FIELDS = ("harm_if_opened", "public_interest", "weighing")


class PaperUnavailable(Exception):
    """The record has not reached the point the paper attests (e.g. step 2 not done)."""

    def __init__(self, kind: DocumentKind, reason: str) -> None:
        super().__init__(f"{kind.value}: {reason}")
        self.kind = kind
        self.reason = reason


def missing_for_consequence_test(record: RecordView | RecordFields) -> tuple[str, ...]:
    """The consequence test's fields the record does not hold yet, in the order the test
    asks them (empty: the sheet is complete)."""
    fields = record.fields if isinstance(record, RecordView) else record
    return tuple(name for name in CONSEQUENCE_TEST_FIELDS if not getattr(fields, name))


# -- building the papers -------------------------------------------------------------


def record_ref(record: RecordView) -> RecordRef:
    return RecordRef(
        record.id,
        record.number,
        record.register_number,
        record.fields.title,
        record.division_name,
    )


def _paper_file(view: FileView) -> PaperFile:
    return PaperFile(view.original_name, view.size, view.sha256, view.area)


def latest_entry(entries: Sequence[AuditRef], action: str) -> AuditRef | None:
    found = [entry for entry in entries if entry.action == action]
    return found[-1] if found else None


def handover_record(
    record: RecordView, step: Step, entries: Sequence[AuditRef], body: PublicBody = DEFAULT_BODY
) -> HandoverRecord:
    """The berita acara of ``step`` (2 or 3) as the register holds it now: its latest
    completion, the files it handed over, and that completion's audit entry."""
    kind = HANDOVER_KINDS.get(step)
    if kind is None:
        raise ValueError(f"no handover record for step {int(step)}")
    done = [run for run in record.runs if run.step is step and run.outcome == "done"]
    before = [run for run in record.runs if run.step is Step(step - 1) and run.outcome == "done"]
    entry = latest_entry(entries, f"step{int(step)}.done")
    if not done or not before or entry is None or record.state is State.CANCELLED:
        raise PaperUnavailable(kind, f"step {int(step)} of {record.number} is not done")
    run, previous = done[-1], before[-1]
    assert run.completed_at is not None
    giver_role = Role.PETUGAS_PPID if step is Step.HANDOVER else Role.PETUGAS_DOKUMENTASI
    receiver_role = Role.PETUGAS_DOKUMENTASI if step is Step.HANDOVER else Role.PEJABAT_PPID
    area = Area.DIVISION if step is Step.HANDOVER else Area.PPID
    files = tuple(
        _paper_file(view)
        for view in record.files
        if view.area == area and view.created_at <= run.completed_at
    )
    return HandoverRecord(
        step=step,
        body=body,
        record=record_ref(record),
        giver=Party(previous.completed_by_name or "?", giver_role),
        receiver=Party(run.completed_by_name or "?", receiver_role),
        at=run.completed_at,
        files=files,
        audit=entry,
    )


def _division_files(record: RecordView) -> tuple[str, ...]:
    names = [view.original_name for view in record.files if view.area == Area.DIVISION]
    return tuple(names or [view.original_name for view in record.files])


def consequence_test(
    record: RecordView, entries: Sequence[AuditRef], body: PublicBody = DEFAULT_BODY
) -> ConsequenceTest:
    """The consequence-test sheet from the record's fields; ``missing`` says what it
    still lacks. ``entries``: the record's audit entries (the latest is attested)."""
    if not entries:
        raise PaperUnavailable(DocumentKind.CONSEQUENCE_TEST, "the record has no audit entry")
    f = record.fields
    return ConsequenceTest(
        body=body,
        record=record_ref(record),
        documents=_division_files(record),
        description=f.description,
        pasal17=f.pasal17,
        other_legal_basis=f.other_legal_basis,
        consequence=f.consequence,
        harm_if_opened=f.harm_if_opened,
        public_interest=f.public_interest,
        weighing=f.weighing,
        period=f.period,
        ends_on=f.period.end_date(f.classified_date),
        tested_by=f.classified_by,
        place=f.classified_place,
        tested_on=f.classified_date,
        missing=missing_for_consequence_test(f),
        audit=entries[-1],
    )


def classification_decision(
    record: RecordView, entries: Sequence[AuditRef], body: PublicBody = DEFAULT_BODY
) -> ClassificationDecision:
    """The classification decision (PP 61/2010) from the record's fields."""
    if not entries:
        raise PaperUnavailable(DocumentKind.CLASSIFICATION, "the record has no audit entry")
    f = record.fields
    reason = f.consequence if not f.harm_if_opened else f"{f.consequence}\n{f.harm_if_opened}"
    return ClassificationDecision(
        body=body,
        record=record_ref(record),
        description=f.description,
        pasal17=f.pasal17,
        other_legal_basis=f.other_legal_basis,
        official=f.classified_by,
        unit=record.division_name,
        period=f.period,
        ends_on=f.period.end_date(f.classified_date),
        reason=reason,
        place=f.classified_place,
        decided_on=f.classified_date,
        audit=entries[-1],
    )


def build(
    kind: DocumentKind,
    record: RecordView,
    entries: Sequence[AuditRef],
    body: PublicBody = DEFAULT_BODY,
) -> Document:
    """The paper of ``kind`` as the register holds it now."""
    if kind is DocumentKind.HANDOVER_STEP2:
        return handover_record(record, Step.HANDOVER, entries, body)
    if kind is DocumentKind.HANDOVER_STEP3:
        return handover_record(record, Step.RECEIVE, entries, body)
    if kind is DocumentKind.CONSEQUENCE_TEST:
        return consequence_test(record, entries, body)
    return classification_decision(record, entries, body)


def available_kinds(record: RecordView) -> tuple[DocumentKind, ...]:
    """The papers a record has now: the sheet and the decision always, a handover record
    for each of steps 2 and 3 once done (a withdrawn draft has none)."""
    if record.state is State.CANCELLED:
        return ()
    kinds = [DocumentKind.CONSEQUENCE_TEST, DocumentKind.CLASSIFICATION]
    for step, kind in HANDOVER_KINDS.items():
        if any(run.step is step and run.outcome == "done" for run in record.runs):
            kinds.append(kind)
    return tuple(kinds)


# -- canonical JSON ------------------------------------------------------------------


def to_plain(value: object) -> Any:
    """A document as JSON-ready data: dates ISO, moments in UTC, enums by value."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: to_plain(getattr(value, field.name)) for field in dataclasses.fields(value)
        }
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [to_plain(item) for item in value]
    return value


def to_json(document: Document) -> str:
    """The exact text an issued document keeps (and whose SHA-256 it stores)."""
    return json.dumps(
        {"kind": document.kind.value, "document": to_plain(document)},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def content_sha256(document: Document) -> str:
    return hashlib.sha256(to_json(document).encode()).hexdigest()


def _from_plain(hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        [inner] = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _from_plain(inner, value)
    if origin is tuple:
        inner = typing.get_args(hint)[0]
        return tuple(_from_plain(inner, item) for item in value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        return hint(
            **{
                field.name: _from_plain(hints[field.name], value[field.name])
                for field in dataclasses.fields(hint)
                if field.name in value
            }
        )
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(value)
    if hint is datetime:
        return datetime.fromisoformat(value)
    if hint is date:
        return date.fromisoformat(value)
    return value


def from_json(text: str) -> Document:
    """A document back from :func:`to_json`'s text."""
    data = json.loads(text)
    kind = DocumentKind(data["kind"])
    document: Document = _from_plain(DOCUMENT_TYPES[kind], data["document"])
    return document


def differences(issued: Document, current: Document) -> tuple[str, ...]:
    """The top-level fields in which ``current`` differs from ``issued`` (the audit
    entry's time and hash are one field: ``audit``)."""
    old, new = to_plain(issued), to_plain(current)
    return tuple(name for name in old if old[name] != new.get(name))


__all__ = [
    "CONSEQUENCE_TEST_FIELDS",
    "DEFAULT_BODY",
    "AuditRef",
    "ClassificationDecision",
    "ConsequenceTest",
    "Document",
    "DocumentKind",
    "HandoverRecord",
    "PaperFile",
    "PaperUnavailable",
    "Party",
    "PublicBody",
    "RecordRef",
    "available_kinds",
    "build",
    "classification_decision",
    "consequence_test",
    "content_sha256",
    "differences",
    "from_json",
    "handover_record",
    "missing_for_consequence_test",
    "to_json",
]
