"""Indonesian day and month names (no locale database needed on the server)."""

from datetime import date

DAYS = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]
MONTHS = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
]


def long_date(day: date) -> str:
    """``7 Desember 2026``."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
