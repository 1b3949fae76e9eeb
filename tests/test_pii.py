"""Personal-data hints (Pasal 17 huruf h): NIK, KK, phone numbers, e-mail addresses and dates
of birth are found with their pages; ordinary numbers (dates, amounts, register, decree and
invoice numbers) are not; and no full value ever leaves the detector."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Iterator
from dataclasses import fields, is_dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.texts import pii as pii_texts
from sop.pii import Masked, PiiHints, PiiKind, find_personal_data
from sop.regions import PROVINCES, valid_region
from sop.validation import validate_text

# -- NIK and KK --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "nik",
    [
        "1371011203800001",  # Kota Padang, 12 March 1980, a man
        "1371015203800001",  # the same day, a woman (day + 40)
        "1306020101000002",  # Kabupaten Padang Pariaman, 1 January 2000
        "3174097112990003",  # Jakarta Selatan, 31 December 1999, a woman
        "1371012902040004",  # 29 February 2004
        "9471030507850005",  # Jayapura under Papua's code until 2022
    ],
)
def test_a_valid_nik_is_found(nik: str) -> None:
    hints = find_personal_data(f"Nama: Rina, NIK: {nik}, alamat Padang.")
    assert hints.count(PiiKind.NIK) == 1
    assert [f.kind for f in hints.findings] == [PiiKind.NIK]


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("9971011203800001", "no province 99"),
        ("1013011203800001", "no province 10"),
        ("1313011203800001", "Sumatera Barat has 12 regencies"),
        ("1378011203800001", "and 7 cities (1371-1377)"),
        ("1350011203800001", "no regency 50 in Sumatera Barat"),
        ("1371001203800001", "district 00"),
        ("1371013202800001", "day 32"),
        ("1371017203800001", "day 72 (a woman's 32)"),
        ("1371010013800001", "month 00"),
        ("1371011213800001", "month 13"),
        ("1371013102800001", "31 February"),
        ("1371012902030001", "29 February 2003"),
        ("1371011203800000", "serial 0000"),
    ],
)
def test_sixteen_digits_that_are_no_nik_are_not_reported(number: str, why: str) -> None:
    assert not find_personal_data(f"NIK {number}").found, why


def test_every_province_code_is_a_region_and_unknown_codes_are_not() -> None:
    assert len(PROVINCES) == 38  # the 38 provinces since 2022
    for code, province in PROVINCES.items():
        assert valid_region(f"{code}0101"), province.name
        if province.cities:
            assert valid_region(f"{code}7101"), province.name
        assert not valid_region(f"{code}{province.regencies + 1:02d}01"), province.name
    for code in ("00", "10", "20", "22", "30", "37", "50", "54", "60", "66", "70", "77", "80"):
        assert not valid_region(f"{code}0101"), code


@pytest.mark.parametrize(
    "written",
    [
        "1371011203800001",
        "1371 0112 0380 0001",
        "1371-0112-0380-0001",
        "137101 120380 0001",
        "NIK1371011203800001",
        "(1371011203800001)",
        "1371011203800001.",
    ],
)
def test_a_nik_is_found_as_people_write_it(written: str) -> None:
    hints = find_personal_data(f"Pemohon dengan {written} hadir")
    finding = hints.finding(PiiKind.NIK)
    assert finding is not None
    assert [str(s) for s in finding.samples] == ["1371********0001"]


def test_a_family_card_number_is_told_apart_by_its_label() -> None:
    text = (
        "Nama: Rina Marlina\nNIK: 1371015203800001\nNo. KK: 1371011506150002\n"
        "Nomor Kartu Keluarga 1371012001160003\n"
    )
    hints = find_personal_data(text)
    assert hints.count(PiiKind.NIK) == 1
    assert hints.count(PiiKind.KK) == 2
    kk = hints.finding(PiiKind.KK)
    assert kk is not None
    assert [str(s) for s in kk.samples] == ["1371********0002", "1371********0003"]


def test_a_kk_number_carries_an_issue_date_without_the_womens_forty() -> None:
    assert not find_personal_data("No. KK 1371015506150002").found


def test_the_same_nik_twice_is_one_person() -> None:
    text = "NIK 1371011203800001 ... tercantum lagi NIK 1371011203800001 dan 1371015203800002"
    finding = find_personal_data(text).finding(PiiKind.NIK)
    assert finding is not None
    assert finding.count == 2


# -- phone numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        ("0812-6634-7781", "0812******81"),
        ("081266347781", "0812******81"),
        ("0812 6634 7781", "0812******81"),
        ("0812.6634.7781", "0812******81"),
        ("+62 812-6634-7781", "0812******81"),
        ("+6281266347781", "0812******81"),
        ("6281266347781", "0812******81"),
        ("0852 1234 567", "0852*****67"),
        ("(0751) 7051234", "0751*****34"),
        ("+62 751 7051234", "0751*****34"),
    ],
)
def test_phone_numbers_are_found_in_their_usual_forms(written: str, masked: str) -> None:
    finding = find_personal_data(f"Hubungi saudara Budi di {written} setiap hari").finding(
        PiiKind.PHONE
    )
    assert finding is not None
    assert [str(s) for s in finding.samples] == [masked]


def test_a_landline_without_an_area_code_in_brackets_needs_a_label() -> None:
    assert not find_personal_data("sebanyak 0751 7051234 lembar").found
    assert find_personal_data("Telp. 0751 7051234").count(PiiKind.PHONE) == 1
    assert find_personal_data("Fax: 0751-7051234").count(PiiKind.PHONE) == 1


def test_a_phone_number_followed_by_a_year_is_still_found() -> None:
    finding = find_personal_data("HP 0812 6634 7781 2026").finding(PiiKind.PHONE)
    assert finding is not None
    assert [str(s) for s in finding.samples] == ["0812******81"]


# -- e-mail addresses --------------------------------------------------------------------------


def test_personal_e_mail_addresses_are_found_and_office_mailboxes_are_not() -> None:
    text = (
        "Surel: rina.marlina@gmail.com, budi_s@yahoo.co.id; kantor ppid@kpu-sumbarprov.go.id, "
        "info@kpu.go.id, Humas@kpu.go.id; pegawai andi.pejabat@kpu.go.id."
    )
    finding = find_personal_data(text).finding(PiiKind.EMAIL)
    assert finding is not None
    assert finding.count == 3
    assert [str(s) for s in finding.samples] == [
        "r***@g***.com",
        "b***@y***.co.id",
        "a***@k***.go.id",
    ]


# -- dates of birth ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "Tempat/Tgl Lahir: Padang, 05-08-1980",
        "Tempat, tanggal lahir : Bukittinggi, 5 Agustus 1980",
        "TTL: Solok, 05/08/1980",
        "Tgl. Lahir 05.08.1980",
        "yang lahir pada tanggal 5 Agustus 1980",
        "lahir di Kota Padang Panjang pada 5 Agt 1980",
        "Tanggal Lahir: 5 Nopember 1980",
    ],
)
def test_dates_of_birth_are_found_after_their_labels(written: str) -> None:
    hints = find_personal_data(f"Nama: Rina Marlina\n{written}\nPekerjaan: Guru")
    finding = hints.finding(PiiKind.BIRTH_DATE)
    assert finding is not None
    assert finding.count == 1
    assert [str(s) for s in finding.samples] == ["**-**-19**"]


def test_a_date_of_birth_named_by_two_labels_counts_once() -> None:
    text = "Tempat Lahir: Agam, Tanggal Lahir: 01-02-1990"
    assert find_personal_data(text).count(PiiKind.BIRTH_DATE) == 1


def test_dates_without_a_birth_label_are_no_dates_of_birth() -> None:
    text = "Ditetapkan di Padang pada tanggal 23 November 2026; berlaku sejak 01-12-2026."
    assert not find_personal_data(text).found


# -- ordinary numbers: no false positives ------------------------------------------------------

ORDINARY = """\
KEPUTUSAN KOMISI PEMILIHAN UMUM PROVINSI SUMATERA BARAT
NOMOR 1371/PL.01.2-Kpt/13/Prov/XI/2026
Menimbang hasil rapat pleno tanggal 23-11-2026 pukul 08.30 WIB dan 2026-11-24 09:15.
Nomor register DIK-2026-0001, DIK-2026-0137 dan BRK-12; agenda 005/UND/KPU-Prov-003/2026.
Anggaran sebesar Rp 1.371.000.000.000 (satu triliun) dan Rp1.306.021.201.750,00; sisa
Rp 137.101.450.880; 1.371.014.508.800.002 lembar.
Total suara sah 62.812.663.477 dan 0.812.663.477 (dibulatkan).
Invoice No. 0812202600123, Faktur 0813-2026-0001, Kwitansi nomor 0852 1234 5678 90,
No. Rekening 1110013710145088, VA 8808081266347781, NPWP 01.234.567.8-901.000.
NIP 19800812 200501 1 001 dan NIP 198008122005011001; NRP 81120345.
Jumlah pemilih 1.306.021 orang di 12.345 TPS; persentase 87,35%; halaman 1 dari 16.
Kode pos 25131; ISBN 978-602-1371-01-4; Tahun Anggaran 2026; Pasal 17 huruf h.
Nomor seri 1371-0112-0380 dan 0001-0002-0003-0004; kode 1234567890123456.
Dokumen sha256 df10c4715ea91371011203800001ab; tautan https://kpu.go.id/dik/1371011203800001x
Pemilu tanggal 14 Februari 2024, pukul 07.00-13.00; rekap 08-11-2026 s.d. 09-11-2026.
Tabel: 0,5 | 0.75 | 08.15 | 2026 | 1371 | 081 | 0812 | 62 | +62.
Surat ini dapat dihubungi melalui ppid@kpu-sumbarprov.go.id dan info@kpu.go.id.
"""


def test_ordinary_numbers_are_no_personal_data() -> None:
    hints = find_personal_data(ORDINARY)
    assert hints.findings == ()
    assert hints.suggestion is None


@pytest.mark.parametrize("line", ORDINARY.splitlines())
def test_each_ordinary_line_alone_is_no_personal_data(line: str) -> None:
    assert find_personal_data(line).findings == ()


PERSONAL = """\
DAFTAR PEMILIH DISABILITAS
1. Nama: Rina Marlina, NIK 1371015203800001, Tempat/Tgl Lahir: Padang, 12-03-1980,
   HP 0812-6634-7781, surel rina.marlina@gmail.com
2. Nama: Budi Santoso, NIK 1306021201750003, No. KK 1306021506150004,
   Tempat/Tgl Lahir: Pariaman, 12 Januari 1975, Telp. (0751) 7051234
3. Nama: Sari Dewi, NIK 1371 0163 0599 0002, lahir pada tanggal 23 Mei 1999, +62 813 1234 5678
"""


def test_a_page_of_personal_data_is_counted_kind_by_kind() -> None:
    hints = find_personal_data([(1, ORDINARY), (2, PERSONAL), (3, "NIK 1371015203800001")])
    assert {f.kind: f.count for f in hints.findings} == {
        PiiKind.NIK: 3,
        PiiKind.KK: 1,
        PiiKind.PHONE: 3,
        PiiKind.EMAIL: 1,
        PiiKind.BIRTH_DATE: 3,
    }
    nik = hints.finding(PiiKind.NIK)
    assert nik is not None
    assert nik.pages == (2, 3)
    assert [str(s) for s in nik.samples] == [
        "1371********0001",
        "1306********0003",
        "1371********0002",
    ]
    suggestion = hints.suggestion
    assert suggestion is not None
    assert suggestion.letter == "h"


# -- nothing leaks -----------------------------------------------------------------------------

FULL_VALUES = [
    "1371015203800001",
    "1306021201750003",
    "1306021506150004",
    "137101630599000",
    "081266347781",
    "6634-7781",
    "66347781",
    "7051234",
    "81312345678",
    "rina.marlina",
    "12-03-1980",
    "12 Januari 1975",
    "23 Mei 1999",
]


def strings_in(value: object) -> Iterator[str]:
    """Every string reachable from a hints object (fields, tuples, slots)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Masked):
        yield value.text
        yield from (str(getattr(value, slot)) for slot in Masked.__slots__)
    elif isinstance(value, tuple | list):
        for item in value:
            yield from strings_in(item)
    elif is_dataclass(value) and not isinstance(value, type):
        for field in fields(value):
            yield from strings_in(getattr(value, field.name))


def test_no_full_value_is_kept_shown_pickled_or_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    hints = find_personal_data([(1, PERSONAL)])
    logging.getLogger("ppidbot.test").info("hints: %s / %r", hints, hints.suggestion)
    seen = [
        *strings_in(hints),
        repr(hints),
        str(hints),
        pickle.dumps(hints).decode("latin-1"),
        caplog.text,
        pii_texts.hints(hints),
    ]
    assert "1371********0001" in caplog.text  # the log line was written, masked
    for value in FULL_VALUES:
        digits = value.replace("-", "")
        leaked = [text for text in seen if value in text or (digits.isdigit() and digits in text)]
        assert leaked == [], value


@given(
    province=st.sampled_from(sorted(PROVINCES)),
    regency=st.integers(1, 40),
    district=st.integers(1, 30),
    day=st.integers(1, 28),
    month=st.integers(1, 12),
    year=st.integers(0, 99),
    woman=st.booleans(),
    serial=st.integers(1, 9999),
    before=st.sampled_from(["NIK ", "NIK: ", "", "nomor identitas ", "(", "\n"]),
    after=st.sampled_from(["", " ", ".", ",", ")", "\n", " dan"]),
)
def test_any_generated_nik_is_found_and_shown_masked_only(
    province: str,
    regency: int,
    district: int,
    day: int,
    month: int,
    year: int,
    woman: bool,
    serial: int,
    before: str,
    after: str,
) -> None:
    regency = 1 + (regency - 1) % PROVINCES[province].regencies
    nik = (
        f"{province}{regency:02d}{district:02d}{day + (40 if woman else 0):02d}{month:02d}"
        f"{year:02d}{serial:04d}"
    )
    hints = find_personal_data(f"Data: {before}{nik}{after} selesai")
    finding = hints.finding(PiiKind.NIK)
    assert finding is not None
    assert [str(s) for s in finding.samples] == [f"{nik[:4]}********{nik[-4:]}"]
    assert nik not in repr(hints)
    assert nik[4:12] not in repr(hints)


# -- the catalogue's words ---------------------------------------------------------------------


def test_the_hints_read_as_a_list_with_the_letter_and_a_consequence_test() -> None:
    hints = find_personal_data([(1, PERSONAL), (4, "NIK 1371011203800009")])
    text = pii_texts.hints(hints)
    assert "• 4 NIK, mis. <code>1371********0001</code>" in text
    assert "· hlm. 1, 4" in text
    assert "• 1 nomor KK" in text
    assert "• 3 tanggal lahir · hlm. 1" in text
    assert "<b>Pasal 17 huruf h</b> UU 14/2008 (mengungkap rahasia pribadi)" in text
    suggestion = hints.suggestion
    assert suggestion is not None
    sentence = pii_texts.consequence_sentence(suggestion)
    assert "yaitu 4 NIK, 1 nomor KK, 3 nomor telepon, 1 alamat surel, dan 3 tanggal lahir" in (
        sentence
    )
    assert validate_text(sentence, label="Uji konsekuensi", maximum=1000) == sentence


def test_nothing_found_says_so_without_a_suggestion() -> None:
    hints = PiiHints(())
    assert hints.suggestion is None
    assert "tidak ditemukan NIK" in pii_texts.hints(hints)


def test_long_page_lists_are_cut() -> None:
    assert pii_texts.pages_text((1, 2, 3, 4, 5, 6, 7)) == "hlm. 1, 2, 3, 4, 5, dan 2 halaman lain"
    assert pii_texts.join_words(["a"]) == "a"
    assert pii_texts.join_words(["a", "b"]) == "a dan b"
