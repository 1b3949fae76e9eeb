"""Indonesian region codes as the first six digits of a NIK or a KK number carry them.

A NIK (Nomor Induk Kependudukan) and a family card number (Nomor Kartu Keluarga) begin with
the region where they were issued: two digits of the province, two of the regency or city,
two of the district (Kemendagri's codes). Regencies (kabupaten) are numbered from 01 up,
cities (kota) from 71 up. Numbers issued before a province or regency was split keep the old
code, so the regency part is checked by range per province (the highest kabupaten and kota
number that province has used), not against the current list; the Papua provinces, whose
codes were renumbered in 2022, share one generous range.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PROVINCES", "Province", "valid_region"]


@dataclass(frozen=True, slots=True)
class Province:
    name: str
    regencies: int  # kabupaten 01..regencies
    cities: int  # kota 71..70+cities (0: none)


#: Province code -> its name and regency/city ranges.
PROVINCES: dict[str, Province] = {
    "11": Province("Aceh", 18, 5),
    "12": Province("Sumatera Utara", 25, 8),
    "13": Province("Sumatera Barat", 12, 7),
    "14": Province("Riau", 10, 3),  # 1472 (Batam) moved to Kepulauan Riau
    "15": Province("Jambi", 9, 2),
    "16": Province("Sumatera Selatan", 13, 4),
    "17": Province("Bengkulu", 9, 1),
    "18": Province("Lampung", 13, 2),
    "19": Province("Kepulauan Bangka Belitung", 6, 1),
    "21": Province("Kepulauan Riau", 5, 2),
    "31": Province("DKI Jakarta", 1, 5),
    "32": Province("Jawa Barat", 18, 9),
    "33": Province("Jawa Tengah", 29, 6),
    "34": Province("DI Yogyakarta", 4, 1),
    "35": Province("Jawa Timur", 29, 9),
    "36": Province("Banten", 4, 4),
    "51": Province("Bali", 8, 1),
    "52": Province("Nusa Tenggara Barat", 8, 2),
    "53": Province("Nusa Tenggara Timur", 21, 1),
    "61": Province("Kalimantan Barat", 12, 2),
    "62": Province("Kalimantan Tengah", 13, 1),
    "63": Province("Kalimantan Selatan", 11, 2),
    "64": Province("Kalimantan Timur", 11, 4),  # 6406-6408 and 6473 went to Kalimantan Utara
    "65": Province("Kalimantan Utara", 4, 1),
    "71": Province("Sulawesi Utara", 11, 4),
    "72": Province("Sulawesi Tengah", 12, 1),
    "73": Province("Sulawesi Selatan", 26, 3),
    "74": Province("Sulawesi Tenggara", 15, 2),
    "75": Province("Gorontalo", 5, 1),
    "76": Province("Sulawesi Barat", 6, 0),
    "81": Province("Maluku", 9, 2),
    "82": Province("Maluku Utara", 8, 2),
    # Papua (94 until 2022, 91 before and since), Papua Barat (91 until 2022, 92 before and
    # since) and the provinces made in 2022: one range for all, as codes moved between them.
    "91": Province("Papua", 36, 1),
    "92": Province("Papua Barat", 36, 1),
    "93": Province("Papua Selatan", 36, 1),
    "94": Province("Papua Tengah", 36, 1),
    "95": Province("Papua Pegunungan", 36, 1),
    "96": Province("Papua Barat Daya", 36, 1),
}


def valid_region(digits: str) -> bool:
    """Whether the first six digits are a plausible province, regency/city and district."""
    if len(digits) < 6 or not digits[:6].isdigit():
        return False
    province = PROVINCES.get(digits[:2])
    if province is None:
        return False
    regency = int(digits[2:4])
    if not (1 <= regency <= province.regencies or 71 <= regency <= 70 + province.cities):
        return False
    return digits[4:6] != "00"  # the district
