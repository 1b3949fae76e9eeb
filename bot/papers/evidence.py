"""``ppidbot evidence <nomor> OUT.zip [--with-files]``: the evidence pack of one record as
a ZIP that verifies without ppidbot (``README.txt`` says how; ``verifikasi.py`` is a
standard-library script; ``SHA256SUMS`` works with ``sha256sum -c``)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import os
import uuid
import zipfile
from dataclasses import dataclass
from html import escape
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.texts import (
    OUTCOME_NAMES,
    STATE_NAMES,
    STEP_NAMES,
    WIB,
    legal_basis,
    period_text,
    tanggal,
    wib,
)
from bot.texts import papers as t
from sop.evidence import EvidenceData, ProofSegment
from sop.papers import DEFAULT_BODY, PublicBody
from sop.service import format_size
from storage import DocumentStorage, slugify

SCRIPT = Path(__file__).with_name("verify_pack.py")
FILES_DIR = "softcopy"


@dataclass(frozen=True, slots=True)
class EvidenceSummary:
    path: Path
    members: int
    papers: int
    entries: int
    softcopies: int
    anchored: bool  # every segment ends on an anchor


def card_rows(data: EvidenceData, tz: ZoneInfo) -> list[tuple[str, str]]:
    record = data.record
    f = record.fields
    labels = t.CARD_LABELS
    status = STATE_NAMES[record.state]
    if data.opened_on:
        status += f"; {t.STATUS_OPENED.format(date=tanggal(data.opened_on))}"
    rows = [
        (labels["number"], record.number),
        (labels["title"], f.title),
        (labels["division"], record.division_name),
        (labels["description"], f.description),
        (labels["legal_basis"], legal_basis(f.pasal17, f.other_legal_basis)),
        (labels["consequence"], f.consequence),
        (labels["harm_if_opened"], f.harm_if_opened or t.NOT_FILLED),
        (labels["public_interest"], f.public_interest or t.NOT_FILLED),
        (labels["weighing"], f.weighing or t.NOT_FILLED),
        (labels["period"], period_text(f.period)),
        (
            labels["classified"],
            f"{f.classified_by}, {f.classified_place}, {tanggal(f.classified_date)}",
        ),
        (labels["internal"], t.YES if f.internal else t.NO),
        (labels["status"], status),
        (labels["created"], f"{record.created_by_name}, {wib(record.created_at, tz)}"),
    ]
    for run in record.runs:
        outcome = OUTCOME_NAMES.get(run.outcome or "", "berjalan")
        who = f" oleh {run.completed_by_name}" if run.completed_by_name else ""
        done = f", selesai {wib(run.completed_at, tz)}" if run.completed_at else ""
        rows.append(
            (
                f"{STEP_NAMES[run.step]} #{run.attempt}",
                f"{outcome}{who}; mulai {wib(run.started_at, tz)}, "
                f"batas {wib(run.due_at, tz)}{done}",
            )
        )
    for view in record.files:
        rows.append(
            (
                labels["file"],
                f"{view.original_name} ({format_size(view.size)}, {view.area}) "
                f"SHA-256 {view.sha256}",
            )
        )
    return rows


def card_text(data: EvidenceData, tz: ZoneInfo) -> str:
    title = t.PACK_CARD_TITLE.format(number=data.record.number)
    lines = [title, "=" * len(title)]
    lines.extend(f"{label}: {value}" for label, value in card_rows(data, tz))
    return "\n".join(lines) + "\n"


def card_html(data: EvidenceData, tz: ZoneInfo) -> str:
    title = escape(t.PACK_CARD_TITLE.format(number=data.record.number))
    rows = "".join(
        f'<tr><th scope="row">{escape(label)}</th><td>{escape(value)}</td></tr>'
        for label, value in card_rows(data, tz)
    )
    return (
        '<!DOCTYPE html>\n<html lang="id"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>body{{font-family:sans-serif;max-width:60rem;"
        "margin:auto;padding:1rem}table{border-collapse:collapse}th,td{border:1px solid #888;"
        "padding:.3rem .5rem;text-align:left;vertical-align:top}</style></head><body>"
        f"<h1>{title}</h1><table><caption>{title}</caption><tbody>{rows}</tbody></table>"
        "</body></html>\n"
    )


def _entry(entry: object) -> dict[str, object]:
    return dataclasses.asdict(entry)  # type: ignore[call-overload,no-any-return]


def _segment(segment: ProofSegment, head: tuple[int, str]) -> dict[str, object]:
    anchor = segment.anchor
    return {
        "anchor": (
            {
                "seq": anchor.seq,
                "hash": anchor.hash,
                "at": anchor.at.isoformat(),
                "source": anchor.source,
            }
            if anchor
            else None
        ),
        "head": None if anchor else {"seq": head[0], "hash": head[1]},
        "entries": [_entry(entry) for entry in segment.entries],
    }


def _json(value: object) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=1) + "\n").encode()


class _Pack:
    """A ZIP being written, with the SHA-256 of each member for SHA256SUMS."""

    def __init__(self, path: Path) -> None:
        self.zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED)
        self.sums: list[tuple[str, str]] = []

    def add(self, name: str, content: bytes, *, summed: bool = True) -> None:
        self.zip.writestr(name, content)
        if summed:
            self.sums.append((hashlib.sha256(content).hexdigest(), name))


async def write_evidence(
    out: Path,
    data: EvidenceData,
    storage: DocumentStorage,
    *,
    with_files: bool = False,
    tz: ZoneInfo = WIB,
    body: PublicBody = DEFAULT_BODY,
) -> EvidenceSummary:
    """Write the pack to ``out`` (through a part file; nothing is left on failure)."""
    record = data.record
    part = out.with_name(f".{out.name}.{uuid.uuid4().hex}.part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # confidential
    os.close(fd)
    try:
        pack = _Pack(part)
        with contextlib.closing(pack.zip):
            readme = t.PACK_README.format(
                number=record.number,
                title=record.fields.title,
                at=wib(data.generated_at, tz),
                body=body.name,
                office=body.office,
                files_line=t.PACK_FILES_LINE if with_files else "",
            )
            if any(segment.anchor is None for segment in data.segments):
                readme += "\n" + t.PACK_NO_ANCHOR + "\n"
            pack.add("README.txt", readme.encode())
            pack.add("kartu-berkas.txt", card_text(data, tz).encode())
            pack.add("kartu-berkas.html", card_html(data, tz).encode())
            documents = []
            for paper in data.papers:
                name = f"dokumen/{paper.kind.value}-{paper.code}.pdf"
                pack.add(name, paper.pdf)
                documents.append(
                    {
                        "berkas": name,
                        "jenis": paper.kind.value,
                        "kode": paper.code,
                        "sha256": paper.pdf_sha256,
                        "diterbitkan": paper.created_at.isoformat(),
                        "dibuat_ulang_sama": paper.reproduced,
                    }
                )
            pack.add("dokumen/dokumen.json", _json(documents))
            pack.add("audit/jejak.json", _json([_entry(entry) for entry in data.trail]))
            pack.add(
                "audit/rantai.json",
                _json({"segments": [_segment(s, data.head) for s in data.segments]}),
            )
            sums = []
            for view in record.files:
                name = f"{FILES_DIR}/{view.area}/{view.id}-{_safe_name(view.original_name)}"
                sums.append(f"{view.sha256}  {name}")
                if with_files:
                    await _add_file(pack, storage, view.path, name)
            pack.add("checksum-softcopy.sha256", ("\n".join(sums) + "\n").encode())
            pack.add("verifikasi.py", await asyncio.to_thread(SCRIPT.read_bytes))
            pack.add(
                "SHA256SUMS",
                "".join(f"{digest}  {name}\n" for digest, name in pack.sums).encode(),
                summed=False,
            )
            members = len(pack.zip.namelist())
        await asyncio.to_thread(os.replace, part, out)
    finally:
        part.unlink(missing_ok=True)
    return EvidenceSummary(
        out,
        members,
        len(data.papers),
        sum(len(segment.entries) for segment in data.segments),
        len(record.files),
        all(segment.anchor is not None for segment in data.segments),
    )


def _safe_name(name: str) -> str:
    """A file name fit for any unpacking tool: its stem slugified, its extension kept."""
    path = Path(name)
    suffix = path.suffix.lower() if path.suffix[1:].isalnum() else ""
    return f"{slugify(path.stem) or 'berkas'}{suffix}"


async def _add_file(pack: _Pack, storage: DocumentStorage, path: str, name: str) -> None:
    """Stream a stored file into the pack, hashing it on the way."""
    digest = hashlib.sha256()
    handle = await asyncio.to_thread(pack.zip.open, name, "w", force_zip64=True)
    try:
        chunks = storage.read_chunks(path)
        async with contextlib.aclosing(chunks):
            async for chunk in chunks:
                digest.update(chunk)
                await asyncio.to_thread(handle.write, chunk)
    finally:
        await asyncio.to_thread(handle.close)
    pack.sums.append((digest.hexdigest(), name))
