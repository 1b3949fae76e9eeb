"""The text catalogue: every word a user sees, in Bahasa Indonesia, in one package.

Shared pieces live here; each conversation's texts live in a module beside this one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from sop.locale_id import DAYS, MONTHS, long_date
from sop.model import PASAL17, DurationUnit, ExemptionPeriod, PeriodKind, Role, State, Step
from sop.validation import without_until

WIB = ZoneInfo("Asia/Jakarta")


ROLE_NAMES = {
    Role.PETUGAS_PPID: "Petugas PPID",
    Role.PETUGAS_DOKUMENTASI: "Petugas Dokumentasi",
    Role.PEJABAT_PPID: "Pejabat PPID",
    Role.ADMIN: "Admin",
}
STATE_NAMES = {
    State.DRAFT: "Langkah 1: disusun Petugas PPID",
    State.SUBMITTED: "Langkah 2: menunggu penyerahan oleh Petugas Dokumentasi",
    State.REGISTERED: "Langkah 3: menunggu penerimaan Pejabat PPID",
    State.STORED: "Tersimpan di penyimpanan internal PPID",
    State.CANCELLED: "Dibatalkan",
}
#: What each step's person does, in the SOP's words.
STEP_ACTIONS = {
    Step.PRODUCE: "menghasilkan dan menyimpan",
    Step.HANDOVER: "menyerahkan dan mendata",
    Step.RECEIVE: "menerima dan menyimpan",
}
STEP_NAMES = {step: f"Langkah {int(step)} ({action})" for step, action in STEP_ACTIONS.items()}
OUTCOME_NAMES = {"done": "selesai", "returned": "dikembalikan", "cancelled": "dibatalkan"}


def h(text: object) -> str:
    """Escape anything user-provided for HTML parse mode."""
    return escape(str(text), quote=False)


def wib(moment: datetime, tz: ZoneInfo = WIB) -> str:
    """``Senin, 7 Desember 2026 08.20 WIB``."""
    local = moment.astimezone(tz)
    return (
        f"{DAYS[local.weekday()]}, {local.day} {MONTHS[local.month - 1]} {local.year} "
        f"{local.hour:02d}.{local.minute:02d} WIB"
    )


def tanggal(day: date) -> str:
    """``7 Desember 2026``."""
    return long_date(day)


def durasi(delta: timedelta) -> str:
    """``1 jam 5 menit``, ``40 menit``, ``30 detik``."""
    seconds = max(int(delta.total_seconds()), 0)
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    parts = []
    if days:
        parts.append(f"{days} hari")
    if hours:
        parts.append(f"{hours} jam")
    if minutes:
        parts.append(f"{minutes} menit")
    if not parts:
        parts.append(f"{seconds} detik")
    return " ".join(parts)


def period_text(period: ExemptionPeriod) -> str:
    if period.kind is PeriodKind.UNTIL_DATE and period.until:
        return f"sampai {tanggal(period.until)}"
    if period.kind is PeriodKind.DURATION:
        unit = DurationUnit(period.unit).value if period.unit else ""
        return f"{period.amount} {unit} sejak penetapan"
    if period.kind is PeriodKind.CONDITION:
        return f"sampai {without_until(period.condition or '')}"
    return "permanen"


def period_line(period: ExemptionPeriod, end: date | None) -> str:
    """The period as a list writes it (the DIK sheet, the public list): capitalised, with
    the end day of a duration when it is known."""
    text = period_text(period)
    if end is not None and period.kind is PeriodKind.DURATION:
        text += f" (sampai {tanggal(end)})"
    return text[:1].upper() + text[1:]


def legal_basis(letters: Sequence[str], other: str | None) -> str:
    parts = [f"Pasal 17 huruf {letter} UU 14/2008" for letter in letters]
    if other:
        parts.append(other)
    return "; ".join(parts)


def pasal_line(letter: str) -> str:
    return f"{letter}. {PASAL17[letter]}"


def not_registered(telegram_id: int) -> str:
    """The refusal to someone without a role: their Telegram id, and whom to ask."""
    return (
        "Maaf, Anda belum terdaftar sebagai petugas PPID KPU Provinsi Sumatera Barat.\n"
        f"Telegram id Anda: <code>{telegram_id}</code>\n\n"
        "Mintalah tautan undangan kepada admin PPID. Bila Anda akan menjadi admin "
        "pertama, berikan id ini kepada pengelola server bot (operator): ia menambahkannya "
        "ke ADMIN_TELEGRAM_IDS atau dengan <code>ppidbot user add</code>."
    )


def not_registered_alert(telegram_id: int) -> str:
    """The same refusal as a button alert: plain text, at most 200 characters."""
    return (
        "Maaf, Anda belum terdaftar sebagai petugas PPID. "
        f"Telegram id Anda: {telegram_id}. Mintalah tautan undangan kepada admin PPID."
    )


PRIVATE_ONLY = (
    "Dokumen informasi yang dikecualikan hanya ditangani lewat chat pribadi dengan bot ini."
)
UNKNOWN_COMMAND = "Perintah tidak dikenal. Ketik /bantuan untuk melihat perintah yang tersedia."
NOT_UNDERSTOOD = (
    "Pesan ini tidak sedang ditunggu. Ketik /tugas untuk melihat tugas Anda atau /bantuan."
)
ERROR = (
    "Maaf, terjadi kesalahan pada sistem. Data Anda tidak hilang. Coba lagi sebentar lagi; "
    "bila berulang, sampaikan kode rujukan <code>{ref}</code> kepada admin PPID."
)
ERROR_ALERT = "Terjadi kesalahan (kode {ref})."
CANCELLED = "Dibatalkan. Tidak ada yang diubah."
NOTHING_TO_CANCEL = "Tidak ada proses yang sedang berjalan."
STALE_BUTTON = "Tombol ini sudah tidak berlaku."
