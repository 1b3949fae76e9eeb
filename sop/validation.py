"""Field rules for a record, shared by the service and the conversations that ask for them."""

from __future__ import annotations

import re
from datetime import date

from sop.errors import InvalidInput
from sop.locale_id import long_date
from sop.model import (
    PASAL17,
    TEMPORARY_LETTERS,
    DurationUnit,
    ExemptionPeriod,
    PeriodKind,
    RecordFields,
    add_months,
)

TITLE_MIN, TITLE_MAX = 3, 200
TEXT_MAX = 2000
REASON_MAX = 500

#: No classification of a public body of the Republic predates its proclamation year.
EARLIEST_DATE = date(1945, 1, 1)
#: The longest exemption period: the same bound as a period typed as a duration.
PERIOD_MAX_YEARS = 100
#: The longest consequence test (Pasal 19) a record keeps.
MAX_CONSEQUENCE = 1000


def clean_text(value: str) -> str:
    """Collapse whitespace and drop control characters."""
    value = "".join(ch for ch in value if ch in "\n\t" or ch.isprintable())
    return re.sub(r"[ \t]+", " ", value).strip()


def validate_title(value: str) -> str:
    title = clean_text(value).replace("\n", " ")
    if len(title) < TITLE_MIN:
        raise InvalidInput(f"Judul terlalu pendek: minimal {TITLE_MIN} karakter.")
    if len(title) > TITLE_MAX:
        raise InvalidInput(
            f"Judul terlalu panjang ({len(title)} karakter): maksimal {TITLE_MAX} karakter."
        )
    return title


def validate_text(value: str, *, label: str, minimum: int = 3, maximum: int = TEXT_MAX) -> str:
    text = clean_text(value)
    if len(text) < minimum:
        raise InvalidInput(f"{label} terlalu pendek: minimal {minimum} karakter.")
    if len(text) > maximum:
        raise InvalidInput(f"{label} terlalu panjang: maksimal {maximum} karakter.")
    return text


NAME_MAX = 200


def validate_name(value: str) -> str:
    """A person's name as an admin gives it: one line, 2–200 characters."""
    name = " ".join(clean_text(value).split())
    if len(name) < 2:
        raise InvalidInput("Nama terlalu pendek: minimal 2 karakter.")
    if len(name) > NAME_MAX:
        raise InvalidInput(f"Nama terlalu panjang: maksimal {NAME_MAX} karakter.")
    return name


def validate_letters(letters: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    cleaned = tuple(sorted({letter.strip().lower() for letter in letters}))
    unknown = [letter for letter in cleaned if letter not in PASAL17]
    if unknown:
        raise InvalidInput(f"Huruf Pasal 17 tidak dikenal: {', '.join(unknown)} (pilih a–j).")
    return cleaned


def validate_reason(value: str) -> str:
    return validate_text(value, label="Alasan", minimum=3, maximum=REASON_MAX)


_UNTIL = re.compile(r"^(sampai dengan|sampai|hingga)\b[\s,:]*", re.IGNORECASE)


def without_until(condition: str) -> str:
    """A condition without a leading "sampai"/"hingga": the texts put "sampai" before it."""
    return _UNTIL.sub("", condition.strip(), count=1)


def validate_condition(value: str) -> str:
    """The condition that ends an exemption, e.g. "ada persetujuan tertulis"."""
    condition = without_until(validate_text(value, label="Kondisi", maximum=500))
    return validate_text(condition, label="Kondisi", maximum=500)


_DATE = re.compile(r"^\s*(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")


def parse_date(value: str) -> date:
    """Accept ``31-12-2027``, ``31/12/2027`` or ``2027-12-31``."""
    match = _DATE.match(value)
    try:
        if match:
            return date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
        match = _ISO.match(value)
        if match:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError as exc:
        raise InvalidInput("Tanggal tidak ada di kalender. Contoh: 31-12-2027.") from exc
    raise InvalidInput("Format tanggal tidak dikenali. Tulis seperti 31-12-2027.")


_DURATION = re.compile(r"^\s*(\d{1,3})\s*(hari|bulan|tahun)\s*$", re.IGNORECASE)


def parse_period_duration(value: str) -> tuple[int, DurationUnit]:
    """Accept ``5 tahun``, ``6 bulan`` or ``30 hari``."""
    match = _DURATION.match(value)
    if not match:
        raise InvalidInput("Tulis jangka waktu seperti: 5 tahun, 6 bulan, atau 30 hari.")
    amount = int(match.group(1))
    if amount < 1:
        raise InvalidInput("Jangka waktu harus lebih dari nol.")
    unit = DurationUnit(match.group(2).lower())
    if unit is DurationUnit.YEARS and amount > PERIOD_MAX_YEARS:
        raise InvalidInput(f"Jangka waktu paling lama {PERIOD_MAX_YEARS} tahun.")
    return amount, unit


def permanent_allowed(letters: tuple[str, ...] | list[str]) -> bool:
    """Pasal 20 UU 14/2008: an exemption under any of the letters a–f is not permanent."""
    return not set(letters) & TEMPORARY_LETTERS


def validate_classified_date(day: date, today: date) -> date:
    """A classification is set on a plausible day: from 1945 until today."""
    if day < EARLIEST_DATE:
        raise InvalidInput(
            f"Tanggal penetapan {long_date(day)} tidak masuk akal: paling awal "
            f"{long_date(EARLIEST_DATE)}."
        )
    if day > today:
        raise InvalidInput("Tanggal penetapan tidak boleh di masa depan.")
    return day


def validate_period(period: ExemptionPeriod, letters: tuple[str, ...], today: date) -> None:
    """Pasal 20: letters a–f need a period; an end date lies in the plausible future."""
    if period.kind is PeriodKind.UNTIL_DATE:
        if period.until is None:
            raise InvalidInput("Tanggal berakhirnya pengecualian belum diisi.")
        if period.until <= today:
            raise InvalidInput("Tanggal berakhirnya pengecualian harus setelah hari ini.")
        latest = add_months(today, 12 * PERIOD_MAX_YEARS)
        if period.until > latest:
            raise InvalidInput(
                f"Tanggal berakhirnya pengecualian terlalu jauh: paling lambat "
                f"{long_date(latest)} ({PERIOD_MAX_YEARS} tahun dari hari ini)."
            )
    elif period.kind is PeriodKind.DURATION:
        if period.amount is None or period.unit is None or period.amount < 1:
            raise InvalidInput("Jangka waktu pengecualian belum diisi.")
    elif period.kind is PeriodKind.CONDITION:
        if not period.condition or len(period.condition.strip()) < 3:
            raise InvalidInput("Kondisi berakhirnya pengecualian belum diisi.")
    elif period.kind is PeriodKind.PERMANENT and not permanent_allowed(letters):
        raise InvalidInput(
            "Pengecualian berdasarkan Pasal 17 huruf a–f tidak bersifat permanen (Pasal 20 "
            "UU 14/2008): pilih tanggal, jangka waktu, atau kondisi."
        )


def validate_fields(fields: RecordFields, today: date) -> RecordFields:
    """Check every field the law asks for; return the cleaned fields."""
    letters = validate_letters(fields.pasal17)
    other = clean_text(fields.other_legal_basis) if fields.other_legal_basis else None
    if not letters and not other:
        raise InvalidInput("Pilih minimal satu huruf Pasal 17 atau isi dasar hukum lain.")
    validate_period(fields.period, letters, today)
    validate_classified_date(fields.classified_date, today)
    return RecordFields(
        title=validate_title(fields.title),
        division_id=fields.division_id,
        description=validate_text(fields.description, label="Uraian"),
        pasal17=letters,
        other_legal_basis=other,
        consequence=validate_text(
            fields.consequence, label="Uji konsekuensi", maximum=MAX_CONSEQUENCE
        ),
        period=fields.period,
        classified_by=validate_text(fields.classified_by, label="Nama pejabat", maximum=200),
        classified_place=validate_text(fields.classified_place, label="Tempat", maximum=200),
        classified_date=fields.classified_date,
        harm_if_opened=_optional_text(
            fields.harm_if_opened, CONSEQUENCE_PART_LABELS["harm_if_opened"]
        ),
        public_interest=_optional_text(
            fields.public_interest, CONSEQUENCE_PART_LABELS["public_interest"]
        ),
        weighing=_optional_text(fields.weighing, CONSEQUENCE_PART_LABELS["weighing"]),
        internal=bool(fields.internal),
    )


#: The longest text of one part of the consequence test.
CONSEQUENCE_PART_MAX = 1000
#: The parts of the consequence test beyond its short form (PKPU 22/2023 Pasal 25 ayat (3)
#: huruf b, d and e), as they are named to the user.
CONSEQUENCE_PART_LABELS = {
    "harm_if_opened": "Potensi bahaya bila dibuka",
    "public_interest": "Kepentingan publik",
    "weighing": "Pertimbangan (penyeimbangan)",
}


def consequence_test_incomplete(missing: tuple[str, ...]) -> str:
    """Why step 3 cannot complete yet: the consequence test lacks ``missing``."""
    names = ", ".join(CONSEQUENCE_PART_LABELS.get(name, name) for name in missing)
    return (
        f"Uji konsekuensi belum lengkap: {names} belum diisi. Pejabat PPID melengkapinya "
        'dengan tombol "Lengkapi uji konsekuensi" sebelum menerima berkas (langkah 3).'
    )


def _optional_text(value: str | None, label: str) -> str | None:
    """A part of the consequence test: absent (None, or only blanks) or 3–1000 characters."""
    if value is None or not clean_text(value):
        return None
    return validate_text(value, label=label, maximum=CONSEQUENCE_PART_MAX)
