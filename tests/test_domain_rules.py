"""SOP and law rules that need no database: fields, periods, the audit chain, formatting."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.texts import durasi, period_line, period_text, wib
from handlers.callback_data import MAX_BYTES, OpenRecord, RecordAction
from sop.audit import GENESIS_HASH, ChainEntry, entry_hash, verify_chain
from sop.errors import InvalidInput
from sop.model import DurationUnit, ExemptionPeriod, PeriodKind, RecordFields, add_months
from sop.service import PpidService
from sop.validation import (
    parse_date,
    parse_period_duration,
    validate_classified_date,
    validate_condition,
    validate_fields,
    validate_letters,
    validate_period,
    validate_title,
)

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("letters", "kind", "ok"),
    [
        (("a",), PeriodKind.PERMANENT, False),  # Pasal 20: a-f are not permanent
        (("a", "f"), PeriodKind.PERMANENT, False),
        (("a", "h"), PeriodKind.PERMANENT, False),  # any of a-f: Pasal 20 applies
        (("g",), PeriodKind.PERMANENT, True),
        (("j",), PeriodKind.PERMANENT, True),
        ((), PeriodKind.PERMANENT, True),  # another law is the basis
    ],
)
def test_permanent_only_beyond_letters_a_to_f(
    letters: tuple[str, ...], kind: PeriodKind, ok: bool
) -> None:
    period = ExemptionPeriod(kind)
    if ok:
        validate_period(period, letters, TODAY)
    else:
        with pytest.raises(InvalidInput, match="Pasal 20"):
            validate_period(period, letters, TODAY)


def test_period_values_are_required() -> None:
    with pytest.raises(InvalidInput):
        validate_period(ExemptionPeriod(PeriodKind.UNTIL_DATE), ("a",), TODAY)
    with pytest.raises(InvalidInput, match="setelah hari ini"):
        validate_period(ExemptionPeriod(PeriodKind.UNTIL_DATE, until=TODAY), ("a",), TODAY)
    with pytest.raises(InvalidInput):
        validate_period(ExemptionPeriod(PeriodKind.DURATION), ("a",), TODAY)
    with pytest.raises(InvalidInput):
        validate_period(ExemptionPeriod(PeriodKind.CONDITION, condition=" "), ("a",), TODAY)
    validate_period(
        ExemptionPeriod(PeriodKind.CONDITION, condition="sampai yang bersangkutan setuju"),
        ("h",),
        TODAY,
    )


def test_dates_must_be_plausible() -> None:
    """A classification is set between 1945 and today; an exemption ends within 100 years."""
    assert validate_classified_date(date(1945, 1, 1), TODAY) == date(1945, 1, 1)
    assert validate_classified_date(TODAY, TODAY) == TODAY
    with pytest.raises(InvalidInput, match="paling awal 1 Januari 1945"):
        validate_classified_date(parse_date("01-01-0001"), TODAY)
    with pytest.raises(InvalidInput, match="paling awal"):
        validate_classified_date(date(1944, 12, 31), TODAY)
    with pytest.raises(InvalidInput, match="masa depan"):
        validate_classified_date(TODAY + timedelta(days=1), TODAY)
    until = ExemptionPeriod(PeriodKind.UNTIL_DATE, until=date(2126, 11, 25))
    validate_period(until, ("a",), TODAY)
    with pytest.raises(InvalidInput, match="terlalu jauh: paling lambat 25 November 2126"):
        validate_period(replace(until, until=date(2126, 11, 26)), ("a",), TODAY)
    with pytest.raises(InvalidInput, match="terlalu jauh"):
        validate_period(replace(until, until=parse_date("31-12-9999")), ("a",), TODAY)
    fields = RecordFields(
        title="Judul",
        division_id=1,
        description="Uraian singkat",
        pasal17=("h",),
        other_legal_basis=None,
        consequence="Konsekuensi",
        period=ExemptionPeriod(PeriodKind.PERMANENT),
        classified_by="Andi",
        classified_place="Padang",
        classified_date=date(1, 1, 1),
    )
    with pytest.raises(InvalidInput, match="tidak masuk akal"):  # the service checks it too
        validate_fields(fields, TODAY)


def test_a_condition_reads_once_with_sampai() -> None:
    """The texts put "sampai" before the condition: a typed "sampai" is not doubled."""
    assert validate_condition("sampai ada persetujuan tertulis") == "ada persetujuan tertulis"
    assert validate_condition("Hingga putusan inkracht") == "putusan inkracht"
    assert validate_condition("sampai dengan: pemilik setuju") == "pemilik setuju"
    assert validate_condition("sampainya surat balasan") == "sampainya surat balasan"
    with pytest.raises(InvalidInput, match="terlalu pendek"):
        validate_condition("sampai")
    old = ExemptionPeriod(PeriodKind.CONDITION, condition="sampai pemilik data setuju")
    assert period_text(old) == "sampai pemilik data setuju"  # records stored before the fix
    assert period_line(old, None) == "Sampai pemilik data setuju"


def test_end_dates() -> None:
    classified = date(2024, 2, 29)
    years = ExemptionPeriod(PeriodKind.DURATION, amount=1, unit=DurationUnit.YEARS)
    assert years.end_date(classified) == date(2025, 2, 28)
    months = ExemptionPeriod(PeriodKind.DURATION, amount=13, unit=DurationUnit.MONTHS)
    assert months.end_date(date(2026, 1, 31)) == date(2027, 2, 28)
    days = ExemptionPeriod(PeriodKind.DURATION, amount=30, unit=DurationUnit.DAYS)
    assert days.end_date(date(2026, 11, 25)) == date(2026, 12, 25)
    until = ExemptionPeriod(PeriodKind.UNTIL_DATE, until=date(2030, 1, 1))
    assert until.end_date(classified) == date(2030, 1, 1)
    assert ExemptionPeriod(PeriodKind.PERMANENT).end_date(classified) is None
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("31-12-2027", date(2027, 12, 31)),
        ("1/2/2028", date(2028, 2, 1)),
        ("2027-06-30", date(2027, 6, 30)),
    ],
)
def test_dates(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["31-02-2027", "besok", "2027", "12-31"])
def test_bad_dates(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_date(text)


def test_durations_in_words() -> None:
    assert parse_period_duration("5 tahun") == (5, DurationUnit.YEARS)
    assert parse_period_duration(" 6 Bulan ") == (6, DurationUnit.MONTHS)
    for bad in ["lima tahun", "0 hari", "101 tahun", "5"]:
        with pytest.raises(InvalidInput):
            parse_period_duration(bad)


def test_titles() -> None:
    assert validate_title("  Surat   rahasia\n") == "Surat rahasia"
    with pytest.raises(InvalidInput, match="terlalu pendek"):
        validate_title("  ")
    with pytest.raises(InvalidInput, match="maksimal 200"):
        validate_title("a" * 300)


def test_letters() -> None:
    assert validate_letters(["H", "a", "h"]) == ("a", "h")
    with pytest.raises(InvalidInput, match="k"):
        validate_letters(["k"])


def test_references() -> None:
    assert PpidService.parse_reference("dik-2026-0001") == ("number", "DIK-2026-0001")
    assert PpidService.parse_reference("BRK-12") == ("id", 12)
    assert PpidService.parse_reference("#7") == ("id", 7)
    assert PpidService.parse_reference("7") == ("id", 7)
    with pytest.raises(InvalidInput):
        PpidService.parse_reference("'; DROP TABLE records;--")


def _chain(n: int) -> list[ChainEntry]:
    entries = []
    prev = GENESIS_HASH
    at = datetime(2026, 11, 25, tzinfo=UTC)
    for seq in range(1, n + 1):
        details = f'{{"n":{seq}}}'
        digest = entry_hash(prev, seq, at, 1, "x", None, details)
        entries.append(ChainEntry(seq, at, 1, "x", None, details, prev, digest))
        prev = digest
    return entries


def test_chain_verifies_and_detects_each_kind_of_damage() -> None:
    entries = _chain(5)
    assert verify_chain(entries, head_seq=5, head_hash=entries[-1].hash) == []
    altered = list(entries)
    altered[2] = _replace(altered[2], details_json='{"n":99}')
    assert [p.seq for p in verify_chain(altered)] == [3]
    missing = entries[:2] + entries[3:]
    assert verify_chain(missing)
    assert verify_chain(entries[:4], head_seq=5, head_hash=entries[-1].hash)


def _replace(entry: ChainEntry, **changes: object) -> ChainEntry:
    from dataclasses import replace

    return replace(entry, **changes)  # type: ignore[arg-type]


def test_wib_formatting() -> None:
    moment = datetime(2026, 12, 7, 1, 20, tzinfo=UTC)
    assert wib(moment) == "Senin, 7 Desember 2026 08.20 WIB"
    assert durasi(timedelta(minutes=65)) == "1 jam 5 menit"
    assert durasi(timedelta(seconds=30)) == "30 detik"


def test_callback_data_is_typed_and_strict() -> None:
    action = RecordAction("accept", 123456, 7)
    assert RecordAction.parse(action.pack()) == action
    assert len(action.pack().encode()) <= MAX_BYTES
    for forged in ["act:accept:1", "act:accept:x:1", "rec:1", "act:accept:1:1:extra", "", None]:
        assert RecordAction.parse(forged) is None
    assert OpenRecord.parse("rec:42") == OpenRecord(42)
    with pytest.raises(ValueError):
        RecordAction("a" * 60, 1, 1).pack()
