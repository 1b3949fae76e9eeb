"""What a text worker process runs: read a document and find its personal-data hints.

Kept apart from the services so a worker process (started fresh, "spawn") imports only
:mod:`sop.extraction` and :mod:`sop.pii`, not the database or Telegram.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sop.extraction import Extraction, OcrConfig, extract
from sop.pii import Masked, PiiFinding, PiiHints, PiiKind, find_personal_data
from sop.stemming import page_stems

__all__ = ["ReadResult", "hints_from_json", "hints_to_json", "read_document"]


@dataclass(frozen=True, slots=True)
class ReadResult:
    """What a worker process hands back: the pages, the roots of each page's words (for
    /cari, :func:`sop.stemming.page_stems`) and the hints (masked only)."""

    extraction: Extraction
    hints_json: str | None
    stems: tuple[str, ...] = ()


def read_document(path: Path, mime_type: str | None, ocr: OcrConfig | None) -> ReadResult:
    """Read a document and find its personal-data hints (runs in a worker process)."""
    extraction = extract(path, mime_type, ocr)
    hints = None
    stems: tuple[str, ...] = ()
    if extraction.has_text:
        hints = hints_to_json(find_personal_data(enumerate(extraction.pages, start=1)))
        stems = tuple(page_stems(page) for page in extraction.pages)
    return ReadResult(extraction, hints, stems)


def hints_to_json(hints: PiiHints) -> str:
    """The hints as JSON: kinds, counts, pages and the masked samples (never a full value)."""
    return json.dumps(
        [
            {
                "kind": str(f.kind),
                "count": f.count,
                "pages": list(f.pages),
                "samples": [s.text for s in f.samples],
            }
            for f in hints.findings
        ]
    )


def hints_from_json(text: str) -> PiiHints:
    return PiiHints(
        tuple(
            PiiFinding(
                kind=PiiKind(item["kind"]),
                count=int(item["count"]),
                pages=tuple(int(p) for p in item["pages"]),
                samples=tuple(Masked(str(s)) for s in item["samples"]),
            )
            for item in json.loads(text)
        )
    )
