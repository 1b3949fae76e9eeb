"""The office calendar: working hours, national holidays and office closures (/libur)."""

from __future__ import annotations

from datetime import date, timedelta

from bot.texts import DAYS, durasi, h, tanggal
from sop.calendar import ClosedDay, WorkingHours, clock_text
from sop.calendar_service import ClosureChange

ADMIN_ONLY = "Maaf, hanya admin PPID yang dapat mengubah hari libur kantor."
USAGE = (
    "Perintah /libur:\n"
    "/libur — hari libur 60 hari ke depan\n"
    "/libur tambah 24-12-2026 Cuti bersama — mencatat libur kantor (admin)\n"
    "/libur hapus 24-12-2026 — menghapus libur kantor (admin)"
)
ADD_USAGE = (
    "Tulis tanggal dan keterangannya, misalnya:\n"
    "<code>/libur tambah 24-12-2026 Cuti bersama Hari Raya Natal</code>"
)
NO_DESCRIPTION = (
    "Keterangan libur belum ditulis. Contoh:\n<code>/libur tambah {day} Cuti bersama</code>"
)
REMOVE_USAGE = "Tulis tanggalnya, misalnya: <code>/libur hapus 24-12-2026</code>"
KINDS = {"national": "libur nasional", "office": "libur kantor"}


def day_text(day: date) -> str:
    """``Kamis, 24 Desember 2026``."""
    return f"{DAYS[day.weekday()]}, {tanggal(day)}"


def hours_text(hours: WorkingHours) -> str:
    """``Senin–Kamis 07.30–16.00; Jumat 07.30–16.30 WIB``."""
    if hours.is_always:
        return "setiap saat (jam dinding biasa)"
    parts = []
    for first, last, intervals in hours.groups():
        days = DAYS[first] if first == last else f"{DAYS[first]}–{DAYS[last]}"
        times = ", ".join(f"{clock_text(a, '.')}–{clock_text(b, '.')}" for a, b in intervals)
        parts.append(f"{days} {times}")
    return "; ".join(parts) + " WIB"


def listing(
    closed: list[ClosedDay],
    hours: WorkingHours,
    start: date,
    end: date,
    *,
    admin: bool,
    standard: timedelta,
) -> str:
    """The closed days ahead and the working hours the SOP's clock runs in."""
    lines = [
        f"<b>Hari libur</b> {tanggal(start)} – {tanggal(end)}",
        f"Jam kerja: {hours_text(hours)}",
    ]
    if hours.is_always:
        lines.append(
            "Batas waktu SOP dihitung dengan jam biasa, sehingga hari libur tidak "
            "menghentikan jam SOP."
        )
    else:
        lines.append(
            f"Standar waktu SOP ({durasi(standard)} per langkah) hanya berjalan pada jam "
            "kerja; malam, akhir pekan, libur nasional dan libur kantor tidak dihitung."
        )
    lines.append("")
    if closed:
        lines.extend(
            f"• {day_text(item.day)} — {h(item.name)} ({KINDS[item.kind]})" for item in closed
        )
    else:
        lines.append("Tidak ada hari libur dalam 60 hari ke depan.")
    if admin:
        lines.append("")
        lines.append(
            "Catat libur kantor/cuti bersama: <code>/libur tambah 24-12-2026 Cuti bersama</code>\n"
            "Hapus: <code>/libur hapus 24-12-2026</code>"
        )
    return "\n".join(lines)


def _rescheduled(count: int) -> str:
    if not count:
        return ""
    return f"\nBatas waktu {count} langkah yang sedang berjalan telah disesuaikan."


def added(change: ClosureChange) -> str:
    closure = change.closure
    return (
        f"✅ {day_text(closure.day)} dicatat sebagai libur kantor: "
        f"<i>{h(closure.description)}</i>.\n"
        "Standar waktu SOP tidak berjalan pada hari itu." + _rescheduled(change.rescheduled)
    )


def removed(change: ClosureChange) -> str:
    closure = change.closure
    return (
        f"✅ Libur kantor {day_text(closure.day)} (<i>{h(closure.description)}</i>) dihapus; "
        "hari itu kembali menjadi hari kerja." + _rescheduled(change.rescheduled)
    )
