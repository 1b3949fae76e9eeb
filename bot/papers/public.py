"""``ppidbot publish DIR``: the public list of exempted information as a static,
self-contained HTML page (no scripts, no outside resources; readable on a phone, with
table captions, column and row headers and ``lang="id"``), plus CSV and JSON.

The lines are streamed from :class:`sop.publish.PublishService` into part files beside
the targets; the counts are known at the end, so the page is put together then (its head
and counts, then the lines copied over). Each file replaces the old one atomically."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path
from zoneinfo import ZoneInfo

from bot import texts
from bot.texts import WIB, tanggal, wib
from bot.texts import papers as t
from sop.model import PASAL17
from sop.papers import DEFAULT_BODY, PublicBody
from sop.publish import PublicCounts, PublicEntry

HTML_NAME = "index.html"
CSV_NAME = "dik.csv"
JSON_NAME = "dik.json"
#: Lines written to the part files at a time.
BATCH = 500

STYLE = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  margin: 0 auto; max-width: 72rem; padding: 1rem; line-height: 1.45; color: #1a1a1a;
  background: #fff; }
h1 { font-size: 1.5rem; margin: 0 0 .5rem; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
header p { margin: .25rem 0; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .95rem; }
caption { text-align: left; font-weight: bold; padding: .25rem 0; }
th, td { border: 1px solid #8a8a8a; padding: .4rem .5rem; text-align: left;
  vertical-align: top; }
thead th { background: #e8eef5; }
td.n, th.n { text-align: right; white-space: nowrap; }
.exempt { color: #7a1d00; font-weight: bold; }
.opened { color: #0b5e1f; font-weight: bold; }
.note, footer { font-size: .85rem; color: #404040; }
.wrap { overflow-x: auto; }
@media (max-width: 40rem) {
  table.dik thead { position: absolute; width: 1px; height: 1px; overflow: hidden;
    clip: rect(0 0 0 0); }
  table.dik, table.dik tbody, table.dik tr, table.dik th, table.dik td { display: block;
    width: auto; }
  table.dik caption { display: block; width: auto; }
  table.dik tr { border: 1px solid #8a8a8a; margin: 0 0 .75rem; padding: .25rem 0; }
  table.dik th, table.dik td { border: 0; padding: .2rem .6rem; }
  table.dik [data-label]::before { content: attr(data-label) ": "; font-weight: bold; }
  .wrap table { font-size: .8rem; }
  .wrap th, .wrap td { padding: .3rem .35rem; }
}
"""


@dataclass(frozen=True, slots=True)
class PublishSummary:
    directory: Path
    counts: PublicCounts
    generated_at: datetime

    @property
    def files(self) -> tuple[str, ...]:
        return (HTML_NAME, CSV_NAME, JSON_NAME)


def _h(value: object) -> str:
    return escape(str(value), quote=True)


def legal_basis_text(entry: PublicEntry) -> str:
    return t.basis(entry.pasal17, entry.other_legal_basis)


def period_line(entry: PublicEntry) -> str:
    return texts.period_line(entry.period, entry.ends_on)


def status_line(entry: PublicEntry) -> str:
    if entry.opened_on is not None:
        return t.STATUS_OPENED.format(date=tanggal(entry.opened_on))
    return t.STATUS_EXEMPT


def html_row(entry: PublicEntry) -> str:
    labels = t.PUBLIC_COLUMNS
    css = "opened" if entry.opened_on else "exempt"
    cells = [
        entry.register_number,
        entry.information,
        entry.division,
        legal_basis_text(entry),
        entry.consequence,
        period_line(entry),
    ]
    tds = "".join(
        f'<td data-label="{_h(label)}">{_h(value)}</td>'
        for label, value in zip(labels[1:], cells, strict=False)
    )
    status = f'<td data-label="{_h(labels[-1])}" class="{css}">{_h(status_line(entry))}</td>'
    return f'<tr><th scope="row" data-label="{_h(labels[0])}">{entry.no}</th>{tds}{status}</tr>\n'


def csv_row(entry: PublicEntry) -> list[object]:
    return [
        entry.no,
        entry.register_number,
        entry.information,
        entry.division,
        legal_basis_text(entry),
        entry.consequence,
        period_line(entry),
        status_line(entry),
        entry.opened_on.isoformat() if entry.opened_on else "",
    ]


def json_item(entry: PublicEntry) -> dict[str, object]:
    """The whitelist, as the JSON names it (one key per ``PUBLIC_FIELDS``, and the texts
    the page shows)."""
    return {
        "no": entry.no,
        "nomor_register": entry.register_number,
        "informasi": entry.information,
        "bagian": entry.division,
        "pasal17": list(entry.pasal17),
        "dasar_hukum_lain": entry.other_legal_basis,
        "dasar_hukum": legal_basis_text(entry),
        "konsekuensi": entry.consequence,
        "jangka_waktu": period_line(entry),
        "berakhir": entry.ends_on.isoformat() if entry.ends_on else None,
        "dibuka": entry.opened_on.isoformat() if entry.opened_on else None,
        "status": status_line(entry),
    }


def _column(label: str, *, numeric: bool = False) -> str:
    css = ' class="n"' if numeric else ""
    return f'<th scope="col"{css}>{_h(label)}</th>'


def _counts_html(counts: PublicCounts) -> str:
    letter_head = "".join(_column(c, numeric=i >= 2) for i, c in enumerate(t.COUNT_LETTER_COLUMNS))
    rows = [
        f'<tr><th scope="row">{letter}</th><td>{_h(PASAL17[letter])}</td>'
        f'<td class="n">{exempt}</td><td class="n">{opened}</td></tr>'
        for letter, exempt, opened in counts.letters()
    ]
    if counts.other_law_only:
        rows.append(
            f'<tr><th scope="row" colspan="2">{_h(t.COUNT_OTHER_LAW)}</th>'
            f'<td class="n">{counts.other_law_only[False]}</td>'
            f'<td class="n">{counts.other_law_only[True]}</td></tr>'
        )
    letters = (
        f"<div class='wrap'><table><caption>{_h(t.COUNT_LETTER_CAPTION)}</caption>"
        f"<thead><tr>{letter_head}"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
    division_head = "".join(
        _column(c, numeric=i > 0) for i, c in enumerate(t.COUNT_DIVISION_COLUMNS)
    )
    division_rows = "".join(
        f'<tr><th scope="row">{_h(name)}</th><td class="n">{exempt}</td>'
        f'<td class="n">{opened}</td></tr>'
        for name, exempt, opened in counts.divisions()
    )
    total = (
        f'<tr><th scope="row">{_h(t.COUNT_TOTAL)}</th><td class="n">{counts.exempt}</td>'
        f'<td class="n">{counts.opened}</td></tr>'
    )
    divisions = (
        f"<div class='wrap'><table><caption>{_h(t.COUNT_DIVISION_CAPTION)}</caption>"
        f"<thead><tr>{division_head}"
        f"</tr></thead><tbody>{division_rows}</tbody><tfoot>{total}</tfoot></table></div>"
    )
    note = f'<p class="note">{_h(t.PUBLIC_NOTE)}</p>'
    return f'<h2 id="jumlah">{_h(t.COUNTS_HEADING)}</h2>{letters}{note}{divisions}'


def _page_head(counts: PublicCounts, generated: str, body: PublicBody) -> str:
    lead = t.PUBLIC_LEAD.format(body=body.name, office=body.office, procedure=body.sop)
    columns = "".join(f'<th scope="col">{_h(c)}</th>' for c in t.PUBLIC_COLUMNS)
    caption = t.PUBLIC_CAPTION.format(count=counts.total)
    empty = f"<p>{_h(t.PUBLIC_EMPTY)}</p>" if not counts.total else ""
    return (
        '<!DOCTYPE html>\n<html lang="id">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_h(t.PUBLIC_TITLE)} · {_h(body.name)}</title>\n"
        f"<style>{STYLE}</style>\n</head>\n<body>\n<header>\n"
        f"<h1>{_h(t.PUBLIC_TITLE)}</h1>\n<p>{_h(lead)}</p>\n"
        f"<p>{_h(t.PUBLIC_GENERATED.format(at=generated))}</p>\n</header>\n<main>\n"
        f'<section aria-labelledby="daftar">\n<h2 id="daftar">{_h(t.PUBLIC_TITLE)}</h2>\n'
        f'{empty}<table class="dik">\n<caption>{_h(caption)}</caption>\n'
        f"<thead><tr>{columns}</tr></thead>\n<tbody>\n"
    )


def _page_tail(counts: PublicCounts) -> str:
    return (
        "</tbody>\n</table>\n</section>\n"
        f'<section aria-labelledby="jumlah">{_counts_html(counts)}</section>\n'
        f"</main>\n<footer><p>{_h(t.PUBLIC_FOOTER)}</p></footer>\n</body>\n</html>\n"
    )


class _Parts:
    """The part files of one run, beside their targets (same file system: atomic)."""

    def __init__(self, directory: Path) -> None:
        token = uuid.uuid4().hex
        self.rows = directory / f".{HTML_NAME}.rows.{token}.part"
        self.html = directory / f".{HTML_NAME}.{token}.part"
        self.csv = directory / f".{CSV_NAME}.{token}.part"
        self.json = directory / f".{JSON_NAME}.{token}.part"

    def all(self) -> tuple[Path, ...]:
        return (self.rows, self.html, self.csv, self.json)

    def remove(self) -> None:
        for path in self.all():
            path.unlink(missing_ok=True)


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8", newline="") as handle:
        handle.write(text)


async def write_public_list(
    directory: Path,
    entries: AsyncIterator[PublicEntry],
    generated_at: datetime,
    *,
    tz: ZoneInfo = WIB,
    body: PublicBody = DEFAULT_BODY,
) -> PublishSummary:
    """Write ``index.html``, ``dik.csv`` and ``dik.json`` into ``directory`` (created if
    missing), replacing the old ones only once all three are complete."""
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    parts = _Parts(directory)
    counts = PublicCounts()
    generated = wib(generated_at, tz)
    try:
        header = io.StringIO()
        csv.writer(header).writerow(t.CSV_COLUMNS)
        await asyncio.to_thread(_append, parts.csv, "\ufeff" + header.getvalue())
        await asyncio.to_thread(_append, parts.json, '{"data":[\n')
        html: list[str] = []
        rows = io.StringIO()
        writer = csv.writer(rows)
        items: list[str] = []
        async for entry in entries:
            counts.add(entry)
            html.append(html_row(entry))
            writer.writerow(csv_row(entry))
            items.append(json.dumps(json_item(entry), ensure_ascii=False))
            if len(html) >= BATCH:
                await _flush(parts, html, rows, items, first=counts.total == len(html))
                rows = io.StringIO()
                writer = csv.writer(rows)
        if html:
            await _flush(parts, html, rows, items, first=counts.total == len(html))
        summary = {
            "dibuat": generated_at.isoformat(),
            "dibuat_wib": generated,
            "badan_publik": body.name,
            "jumlah": {
                "semua": counts.total,
                "dikecualikan": counts.exempt,
                "dibuka": counts.opened,
                "pasal17": {
                    letter: {"dikecualikan": exempt, "dibuka": opened}
                    for letter, exempt, opened in counts.letters()
                },
                "bagian": {
                    name: {"dikecualikan": exempt, "dibuka": opened}
                    for name, exempt, opened in counts.divisions()
                },
            },
        }
        tail = "\n],\n" + json.dumps(summary, ensure_ascii=False)[1:] + "\n"
        await asyncio.to_thread(_append, parts.json, tail)
        await asyncio.to_thread(_assemble, parts, _page_head(counts, generated, body), counts)
        await asyncio.to_thread(_place, parts, directory)
    finally:
        await asyncio.to_thread(parts.remove)
    return PublishSummary(directory, counts, generated_at)


async def _flush(
    parts: _Parts, html: list[str], rows: io.StringIO, items: list[str], *, first: bool
) -> None:
    await asyncio.to_thread(_append, parts.rows, "".join(html))
    await asyncio.to_thread(_append, parts.csv, rows.getvalue())
    await asyncio.to_thread(_append, parts.json, ("" if first else ",\n") + ",\n".join(items))
    html.clear()
    items.clear()


def _assemble(parts: _Parts, head: str, counts: PublicCounts) -> None:
    with parts.html.open("w", encoding="utf-8", newline="") as out:
        out.write(head)
        if parts.rows.exists():
            with parts.rows.open(encoding="utf-8") as rows:
                shutil.copyfileobj(rows, out)
        out.write(_page_tail(counts))


def _place(parts: _Parts, directory: Path) -> None:
    for part, name in ((parts.html, HTML_NAME), (parts.csv, CSV_NAME), (parts.json, JSON_NAME)):
        with part.open("rb") as handle:
            os.fsync(handle.fileno())
        part.chmod(0o644)  # a public list: readable by the web server
        os.replace(part, directory / name)
