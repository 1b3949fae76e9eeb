"""Telegram's limits on what the bot sends, and the shortening that keeps every message
within them: a message's text 4096 and a caption 1024 UTF-16 code units after HTML
parsing, an inline button's text 64 bytes (its data is packed by handlers.callback_data).

Free text is cut at a word boundary and ends in "…"; a record's card that had to be
shortened comes with a "Lihat teks lengkap" button (handlers/full_text.py) whose answer,
``full_text``, holds every field in full, split into as many messages as needed.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import replace

from sop.model import ExemptionPeriod, PeriodKind, RecordView

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_BUTTON_BYTES = 64
ELLIPSIS = "…"

_TAG = re.compile(r"<[^>]*>")
_TRAILING = " \t\n,.;:-–—/("


def telegram_length(text: str) -> int:
    """The length Telegram counts: UTF-16 code units of the text once the HTML tags are
    parsed away and the entities decoded, without surrounding whitespace."""
    plain = html.unescape(_TAG.sub("", text)).strip()
    return len(plain.encode("utf-16-le")) // 2


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def shorten(text: str, limit: int) -> str:
    """``text`` (plain, not HTML) in at most ``limit`` UTF-16 units, cut at a word boundary
    with "…" when it is longer."""
    if utf16_len(text) <= limit:
        return text
    room = limit - 1  # the ellipsis
    cut = _prefix(text, lambda part: utf16_len(part) <= room)
    return _at_word(cut) + ELLIPSIS


def button_text(text: str, limit: int = MAX_BUTTON_BYTES) -> str:
    """An inline button's text in at most ``limit`` bytes of UTF-8, cut at a word boundary
    with "…" when it is longer."""
    if len(text.encode()) <= limit:
        return text
    room = limit - len(ELLIPSIS.encode())
    cut = _prefix(text, lambda part: len(part.encode()) <= room)
    return _at_word(cut) + ELLIPSIS


def _prefix(text: str, fits: Callable[[str], bool]) -> str:
    """The longest prefix of ``text`` that ``fits`` (by bisection; ``fits`` is monotone)."""
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if fits(text[:middle]):
            low = middle
        else:
            high = middle - 1
    return text[:low]


def _at_word(cut: str) -> str:
    """``cut`` ending at its last word boundary (unless that loses more than half)."""
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space >= len(cut) // 2:
        cut = cut[:space]
    return cut.rstrip(_TRAILING)


# -- a record's card ---------------------------------------------------------------------
class Fitted(str):
    """A rendered text that fits (a ``str``, so it goes wherever text goes), and whether
    any of the record's text was shortened for it (then the card offers the full text)."""

    shortened: bool

    def __new__(cls, text: str, shortened: bool) -> Fitted:
        value = super().__new__(cls, text)
        value.shortened = shortened
        return value


def was_shortened(text: str) -> bool:
    return bool(getattr(text, "shortened", False))


#: How far the free-text fields are shortened, step by step, until the card fits.
_FIELD_LIMITS = (600, 300, 150, 80, 40)
#: The title is short already; it is shortened only when the rest did not suffice.
_TITLE_LIMITS = (200, 200, 120, 80, 60)


def fit_record(
    record: RecordView,
    render: Callable[[RecordView], str],
    *,
    limit: int = MAX_TEXT,
    complete: Callable[[str], bool] | None = None,
) -> Fitted:
    """``render(record)``, with the record's long texts shortened as far as needed to fit
    in ``limit`` (the history keeps its latest runs then). With ``complete``, a rendering
    that leaves out something the card adds when there is room (its audit trail) is
    shortened further, if that helps."""
    text = render(record)
    if telegram_length(text) <= limit and (complete is None or complete(text)):
        return Fitted(text, False)
    room = limit - telegram_length(SHORTENED_NOTE) - 2
    fallback: str | None = None if telegram_length(text) > limit else text
    for field_limit, title_limit in zip(_FIELD_LIMITS, _TITLE_LIMITS, strict=True):
        text = render(shortened(record, field_limit, title_limit))
        if telegram_length(text) <= room:
            if complete is None or complete(text):
                return Fitted(f"{text}\n\n{SHORTENED_NOTE}", True)
            fallback = fallback or f"{text}\n\n{SHORTENED_NOTE}"
    if fallback is not None:
        return Fitted(fallback, fallback.endswith(SHORTENED_NOTE))
    # Not reached with the catalogue's cards; a safe plain text rather than a refusal.
    plain = html.unescape(_TAG.sub("", text))
    return Fitted(html.escape(shorten(plain, room), quote=False) + "\n\n" + SHORTENED_NOTE, True)


def shortened(record: RecordView, limit: int, title_limit: int = 200) -> RecordView:
    """The record with each free-text field in at most ``limit`` characters."""

    def cut(value: str | None, size: int = limit) -> str | None:
        return None if value is None else shorten(value, size)

    f = record.fields
    period = f.period
    if period.kind is PeriodKind.CONDITION and period.condition:
        period = ExemptionPeriod(period.kind, condition=shorten(period.condition, limit))
    fields = replace(
        f,
        title=shorten(f.title, title_limit),
        description=shorten(f.description, limit),
        consequence=shorten(f.consequence, limit),
        other_legal_basis=cut(f.other_legal_basis),
        period=period,
        classified_by=shorten(f.classified_by, min(limit, 120)),
        classified_place=shorten(f.classified_place, min(limit, 120)),
    )
    names = min(limit, 80)
    runs = tuple(
        replace(run, completed_by_name=cut(run.completed_by_name, names))
        for run in (record.runs[-8:] if limit >= 150 else record.runs[-3:])
    )
    return replace(
        record,
        fields=fields,
        return_reason=cut(record.return_reason),
        division_name=shorten(record.division_name, max(limit, 80)),
        created_by_name=shorten(record.created_by_name, min(limit, 120)),
        runs=runs,
    )


def split_messages(sections: list[str], limit: int = MAX_TEXT) -> list[str]:
    """Sections (HTML) joined into as few messages as fit in ``limit``; a section too long
    for one message is split at line and word boundaries (it must be plain escaped text
    after its first line)."""
    messages: list[str] = []
    current = ""
    for section in sections:
        for piece in _pieces(section, limit):
            joined = f"{current}\n\n{piece}" if current else piece
            if telegram_length(joined) <= limit:
                current = joined
                continue
            if current:
                messages.append(current)
            current = piece
    if current:
        messages.append(current)
    return messages


def _pieces(section: str, limit: int) -> list[str]:
    if telegram_length(section) <= limit:
        return [section]
    head, _, body = section.partition("\n")
    pieces: list[str] = []
    rest = html.unescape(body)
    budget = limit - telegram_length(head) - 2
    while rest:
        if utf16_len(rest) <= budget:
            chunk = rest
        else:
            chunk = _at_word(_prefix(rest, lambda part: utf16_len(part) <= budget)) or rest[:budget]
        pieces.append(f"{head}\n{html.escape(chunk, quote=False)}")
        rest = rest[len(chunk) :].lstrip()
    return pieces


# -- the full text, one tap away ----------------------------------------------------------
BUTTON_FULL_TEXT = "📄 Lihat teks lengkap"
SHORTENED_NOTE = "✂️ <i>Teks panjang diringkas; tekan Lihat teks lengkap.</i>"
FULL_TEXT_HEAD = "📄 <b>{number}</b> · teks lengkap"


def full_text(record: RecordView) -> list[str]:
    """Every field of the record in full, as messages that each fit."""
    from bot.texts import h, legal_basis, period_text, tanggal  # the package imports us

    f = record.fields
    sections = [
        ("Judul", f.title),
        ("Bagian", record.division_name),
        ("Uraian", f.description),
        ("Dasar hukum", legal_basis(f.pasal17, f.other_legal_basis)),
        ("Uji konsekuensi", f.consequence),
        ("Jangka waktu", period_text(f.period)),
        ("Ditetapkan", f"{f.classified_by}, {f.classified_place}, {tanggal(f.classified_date)}"),
    ]
    if record.return_reason:
        sections.append(("Alasan pengembalian", record.return_reason))
    rendered = [f"<b>{label}</b>\n{h(value)}" for label, value in sections]
    rendered[0] = FULL_TEXT_HEAD.format(number=h(record.number)) + "\n\n" + rendered[0]
    return split_messages(rendered)
