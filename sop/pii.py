"""Personal-data hints: what in a document's text usually makes it exempt under Pasal 17
huruf h UU 14/2008 (information that would reveal personal secrets).

:func:`find_personal_data` reads the text of a document (page by page) and reports NIKs,
family card (KK) numbers, phone numbers, e-mail addresses and dates of birth: how many of
each, on which pages, and a few *masked* samples (``1371********0001``). The full values are
never kept: a :class:`Masked` is made from a value by masking it, and no object of this module
holds anything else, so a hint can be shown, stored or logged without leaking what it found.
Nothing here logs. The words shown to people are in the text catalogue (``bot/texts/pii.py``);
the suggestion carries a code and the findings as parameters.

What counts, and what does not (ordinary numbers must not become hints):

- **NIK**: 16 digits (also as 4-4-4-4 or 6-6-4 groups) whose region is a real province with a
  regency/city in its range and a district (:mod:`sop.regions`), whose birth-date part is a
  valid ``DDMMYY`` (days 41-71 for women), and whose serial is not 0000.
- **KK**: the same structure next to a family-card label ("No. KK", "Kartu Keluarga"); its
  date part is the issue date (no +40).
- **Phone**: mobile numbers (``08..``, ``+62 8..``, ``62 8..``) with an operator prefix and
  10-13 digits; landlines (``(0751) 7051234``, ``+62 751 ...`` or next to "Telp", "Fax"...).
  Not one labelled as an invoice, receipt, account or register number, nor an amount
  (``62.812.663.477`` starts no phone number).
- **E-mail**: an address; role mailboxes (``ppid@``, ``info@``, ``humas@``...) are no
  personal data and are left out.
- **Date of birth**: a date after "Tempat/Tgl Lahir", "TTL", "tanggal lahir", "lahir pada"...

Register numbers (``DIK-2026-0001``), decree numbers, dates, times, amounts
(``Rp 1.371.000.000.000``) and civil-servant ids (NIP, 18 digits) match none of these.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sop.regions import valid_region

__all__ = [
    "MAX_SAMPLES",
    "Consequence",
    "Masked",
    "PiiFinding",
    "PiiHints",
    "PiiKind",
    "PiiSuggestion",
    "find_personal_data",
]

#: How many masked samples a finding shows at most.
MAX_SAMPLES = 3
#: The Pasal 17 letter the hints point to: "mengungkap rahasia pribadi".
LETTER = "h"


class PiiKind(StrEnum):
    NIK = "nik"
    KK = "kk"
    PHONE = "phone"
    EMAIL = "email"
    BIRTH_DATE = "birth_date"


class Consequence(StrEnum):
    """Which consequence-test sentence fits (the catalogue renders it)."""

    PERSONAL_DATA = "personal_data"  # opening it reveals personal data of identifiable people


class Masked:
    """A personal value in masked form only; the full value is never stored.

    Made by :meth:`of`, which masks at once; ``str``, ``repr`` and comparisons see only the
    masked text.
    """

    __slots__ = ("_text",)

    def __init__(self, masked_text: str) -> None:
        # Private: use Masked.of(kind, value). Kept for copying an already masked text.
        self._text = masked_text

    @classmethod
    def of(cls, kind: PiiKind, value: str) -> Masked:
        return cls(_MASKERS[kind](value))

    @property
    def text(self) -> str:
        return self._text

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"Masked({self._text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Masked) and other._text == self._text

    def __hash__(self) -> int:
        return hash(self._text)

    def __reduce__(self) -> tuple[type[Masked], tuple[str]]:
        return (Masked, (self._text,))


@dataclass(frozen=True, slots=True)
class PiiFinding:
    """One kind of personal data found: how many (distinct values; dates of birth: how
    often), on which pages, and up to :data:`MAX_SAMPLES` masked samples."""

    kind: PiiKind
    count: int
    pages: tuple[int, ...]
    samples: tuple[Masked, ...]


@dataclass(frozen=True, slots=True)
class PiiSuggestion:
    """Pasal 17 letter and the consequence-test sentence to suggest; the catalogue words it
    from ``consequence`` and the findings."""

    letter: str
    consequence: Consequence
    findings: tuple[PiiFinding, ...]


@dataclass(frozen=True, slots=True)
class PiiHints:
    findings: tuple[PiiFinding, ...]  # in the order of PiiKind; only kinds that were found

    @property
    def found(self) -> bool:
        return bool(self.findings)

    def count(self, kind: PiiKind) -> int:
        return next((f.count for f in self.findings if f.kind is kind), 0)

    def finding(self, kind: PiiKind) -> PiiFinding | None:
        return next((f for f in self.findings if f.kind is kind), None)

    @property
    def suggestion(self) -> PiiSuggestion | None:
        """Pasal 17 huruf h with the personal-data consequence, when anything was found."""
        if not self.findings:
            return None
        return PiiSuggestion(LETTER, Consequence.PERSONAL_DATA, self.findings)


# -- masking -----------------------------------------------------------------------------------
def _mask_digits(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]


def _mask_phone(value: str) -> str:
    national = _national(value) or re.sub(r"\D", "", value)
    return national[:4] + "*" * (len(national) - 6) + national[-2:]


def _mask_email(value: str) -> str:
    local, _, domain = value.partition("@")
    head, dot, rest = domain.partition(".")
    return f"{local[:1]}***@{head[:1]}***{dot}{rest}"


def _mask_date(value: str) -> str:
    year = re.search(r"(19|20)\d\d", value)
    shown = f"{year.group(0)[:2]}**" if year else "****"
    return f"**-**-{shown}"


_MASKERS = {
    PiiKind.NIK: _mask_digits,
    PiiKind.KK: _mask_digits,
    PiiKind.PHONE: _mask_phone,
    PiiKind.EMAIL: _mask_email,
    PiiKind.BIRTH_DATE: _mask_date,
}


# -- NIK and KK --------------------------------------------------------------------------------
# Not part of a longer token: no digit, letter, or joining mark (/ . - _ +) right before or
# after (a sentence's full stop or comma is fine when no digit follows).
_BEFORE = r"(?<![\w/.+\-])"
_AFTER = r"(?![\w/\-]|[.,]\d)"
_SIXTEEN = re.compile(
    _BEFORE + r"(\d{4}([ -]?)\d{4}\2\d{4}\2\d{4}|\d{6}([ -])\d{6}\3\d{4})" + _AFTER
)
# A label glued to its number by the OCR ("NIK1371..."): separate them first.
_GLUED_LABEL = re.compile(r"(?i)\b(nik|nkk|kk)(?=\d{16})")
_NIK_LABEL = re.compile(r"(?i)\b(?:nik|n\.i\.k|nomor\s+induk\s+kependudukan|e?-?ktp)\b")
_KK_LABEL = re.compile(r"(?i)(?:\bno(?:mor)?\.?\s*kk\b|\bnkk\b|\bkk\b|kartu\s+keluarga|\bk\.k\b)")
_LABEL_WINDOW = 40
# Right after its label, a number the OCR broke with stray spaces ("NIK: 137101 5708900001").
_LABELLED_SPACED = re.compile(
    r"(?i)(?:\bnik|\bnkk|\bno(?:mor)?\.?\s*kk|\bkk)\s*[:.]?\s*(\d(?: ?\d){15})" + _AFTER
)


def _valid_date(day: int, month: int, year2: int) -> bool:
    for century in (1900, 2000):
        try:
            date(century + year2, month, day)
        except ValueError:
            continue
        return True
    return False


def _valid_nik(digits: str) -> bool:
    if not valid_region(digits) or digits[12:] == "0000":
        return False
    day, month, year2 = int(digits[6:8]), int(digits[8:10]), int(digits[10:12])
    if day > 40:
        day -= 40  # women: the day plus 40
    return _valid_date(day, month, year2)


def _valid_kk(digits: str) -> bool:
    if not valid_region(digits) or digits[12:] == "0000":
        return False
    return _valid_date(int(digits[6:8]), int(digits[8:10]), int(digits[10:12]))


def _last_label(pattern: re.Pattern[str], context: str) -> int:
    found = -1
    for match in pattern.finditer(context):
        found = match.end()
    return found


def _identity_numbers(text: str) -> Iterator[tuple[PiiKind, str]]:
    text = _GLUED_LABEL.sub(r"\1 ", text)
    found = [(m.start(1), m.group(1)) for m in _SIXTEEN.finditer(text)]
    starts = {start for start, _ in found}
    found += [
        (m.start(1), m.group(1))
        for m in _LABELLED_SPACED.finditer(text)
        if m.start(1) not in starts
    ]
    for start, number in sorted(found):
        digits = re.sub(r"\D", "", number)
        context = text[max(0, start - _LABEL_WINDOW) : start]
        kk_label = _last_label(_KK_LABEL, context)
        if kk_label > _last_label(_NIK_LABEL, context):
            if _valid_kk(digits):
                yield PiiKind.KK, digits
        elif _valid_nik(digits):
            yield PiiKind.NIK, digits


# -- phone numbers -----------------------------------------------------------------------------
_PHONE = re.compile(
    r"(?<![\w/.+\-(])"
    r"(\+\s?62[ .-]?\(?\d+\)?|\(0\d{2,3}\)|0\d+|62\d+)"  # country, area or operator part
    r"((?:[ .-]\d+){0,4})"  # the rest, in groups separated by a space, dot or hyphen
    r"(?![\w/\-]|[.,]?\d)"
)
_SEGMENT = re.compile(r"[ .-]\d+")
_MOBILE_PREFIX = re.compile(r"^08(?:1[1-9]|2[1-3]|3[1-38]|5[1-9]|7[7-9]|8[1-9]|9[5-9])")
_PHONE_LABEL = re.compile(
    r"(?i)\b(?:telp|tlp|telepon|telefon|tel|phone|hp|ponsel|handphone|wa|whatsapp|fax|faks"
    r"|faksimile|hubungi|kontak|contact|sms)\b"
)
_OTHER_LABEL = re.compile(
    r"(?i)\b(?:invoice|inv|faktur|kwitansi|kuitansi|resi|tiket|order|pesanan|transaksi"
    r"|rekening|rek|npwp|nip|nrp|nik|kk|spm|sp2d|spp|kontrak|register|registrasi|surat|rp"
    r"|seri|sertifikat|akta|billing|va|virtual|pelanggan|referensi|ref|kode|no\.?\s*urut)\b"
)
_PHONE_WINDOW = 25


def _national(candidate: str) -> str | None:
    """The national form (``0...``) of a phone-like candidate, or None."""
    digits = re.sub(r"\D", "", candidate)
    if digits.startswith("62"):
        return "0" + digits[2:]
    if digits.startswith("0"):
        return digits
    return None


def _phone_like(candidate: str, labelled: bool) -> bool:
    national = _national(candidate)
    if national is None or national.startswith("00"):
        return False
    if national.startswith("08"):
        return 10 <= len(national) <= 13 and bool(_MOBILE_PREFIX.match(national))
    area_code_shown = candidate.startswith(("(", "+62", "62"))
    return (labelled or area_code_shown) and 9 <= len(national) <= 12


def _phones(text: str) -> Iterator[str]:
    for match in _PHONE.finditer(text):
        context = text[max(0, match.start() - _PHONE_WINDOW) : match.start()]
        phone_label = _last_label(_PHONE_LABEL, context)
        if _last_label(_OTHER_LABEL, context) > phone_label:
            continue  # an invoice, account or register number that looks like a phone
        head = match.group(1)
        groups = _SEGMENT.findall(match.group(2))
        # A number followed by another group (a year, a second number): the longest
        # prefix, cut at a separator, that is a phone number.
        for end in range(len(groups), -1, -1):
            candidate = head + "".join(groups[:end])
            if _phone_like(candidate, phone_label >= 0):
                yield _national(candidate) or candidate
                break


# -- e-mail addresses --------------------------------------------------------------------------
_EMAIL = re.compile(
    r"(?<![\w.+\-])([A-Za-z0-9][A-Za-z0-9._%+\-]{0,63})@([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*"
    r"\.[A-Za-z]{2,24})(?![\w\-])"
)
#: Mailboxes of an office or a function, not of a person.
_ROLE_MAILBOXES = frozenset(
    {
        "admin",
        "administrator",
        "cs",
        "helpdesk",
        "humas",
        "info",
        "informasi",
        "kontak",
        "layanan",
        "no-reply",
        "noreply",
        "pengaduan",
        "postmaster",
        "ppid",
        "redaksi",
        "sekretariat",
        "setjen",
        "support",
        "tu",
        "webmaster",
    }
)


def _emails(text: str) -> Iterator[str]:
    for match in _EMAIL.finditer(text):
        local = match.group(1).lower()
        if local.split("+")[0] in _ROLE_MAILBOXES:
            continue
        yield f"{match.group(1)}@{match.group(2).lower()}"


# -- dates of birth ----------------------------------------------------------------------------
_BIRTH_LABEL = re.compile(
    r"(?i)(?:\btempat\s*(?:[/,&]|dan)?\s*(?:tgl|tanggal|tg)\.?\s*lahir"
    r"|\bt\.?\s?t\.?\s?l\b\.?"
    r"|\b(?:tgl|tanggal)\.?\s*lahir"
    r"|\blahir\b(?:\s+di\s+[^\n,;]{1,40}?)?[,]?\s*(?:pada\s+)?(?:tanggal\s+|tgl\.?\s*)?)"
)
_MONTHS = (
    r"januari|februari|pebruari|maret|april|mei|juni|juli|agustus|september|oktober"
    r"|november|nopember|desember|jan|feb|mar|apr|jun|jul|agu|agt|ags|sep|sept|okt|nov|des"
)
_MONTH_NUMBER = {
    name: number
    for number, names in enumerate(
        (
            ("januari", "jan"),
            ("februari", "pebruari", "feb"),
            ("maret", "mar"),
            ("april", "apr"),
            ("mei",),
            ("juni", "jun"),
            ("juli", "jul"),
            ("agustus", "agu", "agt", "ags"),
            ("september", "sep", "sept"),
            ("oktober", "okt"),
            ("november", "nopember", "nov"),
            ("desember", "des"),
        ),
        start=1,
    )
    for name in names
}
_DATE = re.compile(
    r"(?i)(?<!\d)(\d{1,2})\s*([-/.])\s*(\d{1,2})\s*\2\s*((?:19|20)\d{2})(?!\d)"
    rf"|(?<!\d)(\d{{1,2}})\s+({_MONTHS})\.?\s+((?:19|20)\d{{2}})(?!\d)"
)
_BIRTH_WINDOW = 60


def _birth_dates(text: str) -> Iterator[str]:
    counted: set[int] = set()  # where the dates found start ("Tempat Lahir ..., Tgl Lahir ...")
    for label in _BIRTH_LABEL.finditer(text):
        window = text[label.end() : label.end() + _BIRTH_WINDOW]
        match = _DATE.search(window)
        if match is None or label.end() + match.start() in counted:
            continue
        counted.add(label.end() + match.start())
        if match.group(1):
            day, month, year = int(match.group(1)), int(match.group(3)), int(match.group(4))
        else:
            day, year = int(match.group(5)), int(match.group(7))
            month = _MONTH_NUMBER[match.group(6).lower()]
        try:
            date(year, month, day)
        except ValueError:
            continue
        yield match.group(0)


# -- putting it together -----------------------------------------------------------------------
def _scan(text: str) -> Iterator[tuple[PiiKind, str]]:
    yield from _identity_numbers(text)
    for phone in _phones(text):
        yield PiiKind.PHONE, phone
    for email in _emails(text):
        yield PiiKind.EMAIL, email
    for birth in _birth_dates(text):
        yield PiiKind.BIRTH_DATE, birth


def find_personal_data(pages: Iterable[tuple[int, str]] | str) -> PiiHints:
    """The personal-data hints of a document: its text as ``(page number, text)`` pairs (or
    one string, page 1). Only masked values leave this function."""
    if isinstance(pages, str):
        pages = [(1, pages)]
    # The full values live only in these local sets, to count distinct ones.
    seen: dict[PiiKind, set[str]] = {kind: set() for kind in PiiKind}
    occurrences: dict[PiiKind, int] = dict.fromkeys(PiiKind, 0)
    on_pages: dict[PiiKind, set[int]] = {kind: set() for kind in PiiKind}
    samples: dict[PiiKind, list[Masked]] = {kind: [] for kind in PiiKind}
    for number, text in pages:
        for kind, value in _scan(text):
            occurrences[kind] += 1
            on_pages[kind].add(number)
            key = value.lower()
            if key in seen[kind]:
                continue
            seen[kind].add(key)
            masked = Masked.of(kind, value)
            if len(samples[kind]) < MAX_SAMPLES and masked not in samples[kind]:
                samples[kind].append(masked)
    findings = tuple(
        PiiFinding(
            kind=kind,
            count=occurrences[kind] if kind is PiiKind.BIRTH_DATE else len(seen[kind]),
            pages=tuple(sorted(on_pages[kind])),
            samples=tuple(samples[kind]),
        )
        for kind in PiiKind
        if occurrences[kind]
    )
    return PiiHints(findings)
