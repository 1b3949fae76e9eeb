"""The register of exempted information on a phone: /daftar, /cari, /laporan,
/kedaluwarsa, /dibuka and the expiry notices to the Pejabat PPID."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.texts import MONTHS, WIB, durasi, h, period_text, tanggal, wib
from bot.texts.fitting import shorten, telegram_length
from db.texts import HIT_END, HIT_START, TextHit
from sop.expiry import ExpiryNotice
from sop.model import PASAL17, PeriodKind, RecordView, State
from sop.register import ExpiringList, RegisterEntry, RegisterFilter, RegisterPage, RegisterStatus

#: Telegram's limit is 4096 characters after parsing (counted by fitting.telegram_length).
MAX_MESSAGE = 4000
#: A list shows the exemption period this long at most (a condition may be 500 characters).
PERIOD_SHOWN = 120

STATUS_NAMES = {
    RegisterStatus.IN_PROGRESS: "Dalam proses SOP",
    RegisterStatus.STORED: "Dikecualikan (tersimpan)",
    RegisterStatus.OPENED: "Dibuka",
    RegisterStatus.CANCELLED: "Dibatalkan",
}
_STEP_SHORT = {
    State.DRAFT: "langkah 1",
    State.SUBMITTED: "langkah 2",
    State.REGISTERED: "langkah 3",
}


def short_date(day: date) -> str:
    """``7 Des 2026``."""
    return f"{day.day} {MONTHS[day.month - 1][:3]} {day.year}"


def status_text(entry: RegisterEntry) -> str:
    status = entry.status
    if status is RegisterStatus.OPENED and entry.opened_on:
        return f"🔓 dibuka {short_date(entry.opened_on)}"
    if status is RegisterStatus.STORED:
        return "🔒 dikecualikan"
    if status is RegisterStatus.CANCELLED:
        return "dibatalkan"
    return f"⏳ {_STEP_SHORT.get(entry.record.state, 'dalam proses')}"


def _letters(record: RecordView) -> str:
    letters = record.fields.pasal17
    if letters:
        return "Pasal 17 huruf " + ", ".join(letters)
    return "dasar hukum lain"


#: How much of a title and a division a line of a list shows.
LINE_TITLE = 100
LINE_PART = 60
HOLDERS_SHOWN = 3


def holders_text(holders: tuple[str, ...]) -> str:
    """``Rina, Sinta dan 2 lainnya``; who an open step waits on."""
    if not holders:
        return "belum ada petugas yang dapat mengerjakannya"
    shown = ", ".join(h(shorten(name, 40)) for name in holders[:HOLDERS_SHOWN])
    rest = len(holders) - HOLDERS_SHOWN
    return f"{shown} dan {rest} lainnya" if rest > 0 else shown


def short_moment(moment: datetime, tz: ZoneInfo = WIB) -> str:
    """``23 Nov 2026 09.00 WIB``."""
    local = moment.astimezone(tz)
    return f"{short_date(local.date())} {local.hour:02d}.{local.minute:02d} WIB"


def waiting_line(entry: RegisterEntry, now: datetime | None, tz: ZoneInfo = WIB) -> str | None:
    """Who the open step waits on and until when; None when no step is open."""
    run = entry.record.current_run
    if run is None:
        return None
    line = f"Menunggu: {holders_text(entry.holders)} · batas {short_moment(run.due_at, tz)}"
    if now is not None and now > run.due_at:
        line += f" (⚠️ terlambat {durasi(now - run.due_at)})"
    return line


def entry_lines(
    index: int, entry: RegisterEntry, now: datetime | None = None, tz: ZoneInfo = WIB
) -> str:
    """One record of a list: number, title, division, legal basis, period, status, and
    for a record in the SOP's steps who it waits on and its due time."""
    record = entry.record
    period = shorten(period_text(record.fields.period), PERIOD_SHOWN)
    if entry.ends_on and record.fields.period.kind is PeriodKind.DURATION:
        period += f" (s.d. {short_date(entry.ends_on)})"
    text = (
        f"{index}. <b>{h(record.number)}</b> · {h(shorten(record.fields.title, LINE_TITLE))}\n"
        f"    {h(shorten(record.division_name, LINE_PART))} · {_letters(record)} · "
        f"{h(period)} · {status_text(entry)}"
    )
    waiting = waiting_line(entry, now, tz)
    if waiting:
        text += f"\n    {waiting}"
    if entry.text_hit is not None:
        text += f"\n    {text_hit_line(entry.text_hit)}"
    return text


#: A snippet of a softcopy's text is shown with long numbers and e-mail addresses masked:
#: a search result is no place for a NIK.
_LONG_NUMBER = re.compile(r"\d(?:[ .-]?\d){7,}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
SNIPPET_SHOWN = 160


def _masked(text: str) -> str:
    text = _EMAIL.sub("***@***", text)
    return _LONG_NUMBER.sub(lambda m: m.group(0)[:4] + "****", text)


def text_hit_line(hit: TextHit) -> str:
    """``📄 daftar.pdf, hlm. 2: “…pemilih <b>tunanetra</b> di…”``."""
    snippet = " ".join(_masked(hit.snippet).split())
    snippet = shorten(snippet, SNIPPET_SHOWN)
    marked = h(snippet).replace(HIT_START, "<b>").replace(HIT_END, "</b>")
    if marked.count("<b>") != marked.count("</b>"):  # a mark cut off by the shortening
        marked = h(snippet.replace(HIT_START, "").replace(HIT_END, ""))
    name = h(shorten(hit.file_name, LINE_PART))
    return f"📄 {name}, hlm. {hit.page}: “{marked}”"


def numbered(
    lines: list[str],
    entries: Sequence[RegisterEntry],
    first: int,
    now: datetime | None,
    tz: ZoneInfo,
    reserve: int = 0,
) -> int:
    """Append the entries' lines numbered from ``first`` while they fit in a message
    (keeping ``reserve`` characters free); how many were appended."""
    size = sum(telegram_length(line) + 1 for line in lines) + reserve
    shown = 0
    for index, entry in enumerate(entries, start=first):
        line = entry_lines(index, entry, now, tz)
        if size + telegram_length(line) + 1 > MAX_MESSAGE:
            break
        lines.append(line)
        size += telegram_length(line) + 1
        shown += 1
    return shown


# -- /daftar -----------------------------------------------------------------------------
REGISTER_TITLE = "📚 <b>Daftar Informasi yang Dikecualikan</b>"
REGISTER_SCOPE_DIVISION = "Hanya berkas bagian Anda."
REGISTER_EMPTY = "Belum ada berkas yang cocok."
REGISTER_EMPTY_FILTERED = "Tidak ada berkas yang cocok dengan filter ini."
NO_FILTER = "semua"


def filter_text(filters: RegisterFilter, divisions: dict[int, str]) -> str:
    parts = []
    if filters.status is not None:
        parts.append(f"status {STATUS_NAMES[filters.status].lower()}")
    if filters.division_id is not None:
        parts.append(f"bagian {h(divisions.get(filters.division_id, '?'))}")
    if filters.letter is not None:
        parts.append(f"Pasal 17 huruf {filters.letter}")
    if filters.year is not None:
        parts.append(f"ditetapkan tahun {filters.year}")
    return ", ".join(parts) if parts else NO_FILTER


def register_page(
    page: RegisterPage,
    divisions: dict[int, str],
    *,
    restricted: bool,
    now: datetime | None = None,
    tz: ZoneInfo = WIB,
) -> tuple[str, int]:
    """The /daftar message for one page, numbered on from the pages before it, and how
    many of the page's records it shows (all, unless they do not fit in one message)."""
    lines = [REGISTER_TITLE, f"Filter: {filter_text(page.filters, divisions)}"]
    if restricted:
        lines.append(REGISTER_SCOPE_DIVISION)
    if not page.items:
        lines += ["", REGISTER_EMPTY_FILTERED if page.filters.any else REGISTER_EMPTY]
        return "\n".join(lines), 0
    summary = f"{page.total} berkas · halaman {page.page} dari {page.pages}"
    if page.pages > 1:
        last = page.first_number + len(page.items) - 1
        summary += f" (nomor {page.first_number}–{last})"
    lines.append(summary)
    lines.append("")
    reserve = len(OPEN_HINT) + len(PAGE_CUT) + 20
    shown = numbered(lines, page.items, page.first_number, now, tz, reserve)
    if shown < len(page.items):
        lines.append(PAGE_CUT.format(count=len(page.items) - shown))
    lines.append("")
    lines.append(OPEN_HINT)
    return "\n".join(lines), shown


PAGE_CUT = "… {count} berkas lain di halaman ini tidak muat; persempit dengan filter."
OPEN_HINT = "Tekan nomor urut untuk membuka rincian berkas."
BUTTON_PREVIOUS = "◀️ Sebelumnya"
BUTTON_NEXT = "Berikutnya ▶️"
BUTTON_STATUS = "Status ▾"
BUTTON_DIVISION = "Bagian ▾"
BUTTON_LETTER = "Pasal 17 ▾"
BUTTON_YEAR = "Tahun ▾"
BUTTON_CLEAR = "✖️ Hapus filter"
BUTTON_BACK = "↩️ Kembali"
BUTTON_ANY_STATUS = "Semua status"
BUTTON_ANY_DIVISION = "Semua bagian"
BUTTON_ANY_LETTER = "Semua huruf"
BUTTON_ANY_YEAR = "Semua tahun"
CHOSEN = "✓ "
NO_YEARS = "Belum ada tahun penetapan untuk dipilih."


def letter_button(letter: str) -> str:
    return f"{letter}. {shorten(PASAL17[letter], 24)}"


# -- /cari -------------------------------------------------------------------------------
SEARCH_USAGE = (
    "Tulis kata yang dicari setelah perintahnya, misalnya: /cari notulen\n"
    "Dicari pada judul dan uraian berkas yang boleh Anda lihat."
)
SEARCH_NONE = "Tidak ada berkas dengan kata “{words}” pada judul atau uraiannya."


def search_results(
    words: str, page: RegisterPage, now: datetime | None = None, tz: ZoneInfo = WIB
) -> tuple[str, int]:
    """The /cari answer, and how many of the found records it shows."""
    lines = [f"🔎 Hasil pencarian “{h(words)}”: {page.total} berkas"]
    lines.append("")
    reserve = 120
    shown = numbered(lines, page.items, 1, now, tz, reserve)
    if page.total > shown:
        lines.insert(
            1, f"Ditampilkan {shown} terbaru dari {page.total}; perjelas kata pencariannya."
        )
    return "\n".join(lines), shown


# -- /laporan ----------------------------------------------------------------------------
REPORT_PREPARING = "⏳ Menyusun laporan…"
REPORT_CAPTION = (
    "📊 <b>Laporan Daftar Informasi yang Dikecualikan</b> per {when}\n"
    "{stored} berkas di DIK, {open} masih dalam proses SOP{scope}. Lembar: <i>DIK</i> "
    "(kolom baku DIK, berkas yang sudah tersimpan), <i>Dalam proses</i> (langkah yang "
    "berjalan, siapa yang ditunggu, batas waktu), <i>Kepatuhan SOP</i> (waktu tiap langkah "
    "terhadap standar {standard}), <i>Ringkasan</i> (per bagian dan bulan)."
)
REPORT_SCOPE_DIVISION = " (bagian Anda)"
REPORT_CHART_CAPTION = "📈 Ketepatan waktu per langkah per bulan (standar {standard})."
REPORT_NO_CHART = (
    "Grafik ketepatan waktu belum dapat dibuat: belum ada langkah yang selesai atau terlambat."
)
BUTTON_CSV = "📄 Kirim CSV (koma)"
BUTTON_CSV_ID = "📄 CSV untuk Excel Indonesia (titik koma)"
CSV_SEPARATORS = {",": "dipisah koma", ";": "dipisah titik koma, untuk Excel Indonesia"}
CSV_CAPTION = "📄 Daftar Informasi yang Dikecualikan (CSV UTF-8, {separator}), per {when}."


def report_filename(today: date, extension: str) -> str:
    return f"daftar-informasi-dikecualikan-{today:%Y-%m-%d}.{extension}"


# -- /kedaluwarsa ------------------------------------------------------------------------
EXPIRING_NONE = (
    "Tidak ada pengecualian yang berakhir dalam {days} hari ke depan. 👍\n"
    "(Jangka waktu permanen atau berupa kondisi tidak memiliki tanggal berakhir.)"
)
EXPIRING_TITLE = "⏳ <b>Pengecualian yang berakhir dalam {days} hari</b> ({count}):"
EXPIRING_HINT = (
    "Tinjau setiap informasi: bila tetap dikecualikan, lakukan uji konsekuensi ulang; bila "
    "tidak, umumkan sebagai informasi terbuka lalu tandai dengan /dibuka &lt;nomor&gt;."
)


def days_left_text(days_left: int) -> str:
    if days_left > 0:
        return f"{days_left} hari lagi"
    if days_left == 0:
        return "hari ini"
    return f"sudah lewat {-days_left} hari"


EXPIRING_MORE = "… dan {count} lainnya (yang berakhir lebih lambat)."


def expiring_list(found: ExpiringList, days: int) -> tuple[str, int]:
    """The /kedaluwarsa answer, soonest first (with how many there are in all), and how
    many of ``found.items`` it lists."""
    lines = [EXPIRING_TITLE.format(days=days, count=found.total), ""]
    size = sum(telegram_length(line) + 1 for line in lines)
    size += telegram_length(EXPIRING_HINT) + len(EXPIRING_MORE) + 20
    shown = 0
    for index, item in enumerate(found.items, start=1):
        record = item.entry.record
        line = (
            f"{index}. <b>{h(record.number)}</b> · {h(shorten(record.fields.title, LINE_TITLE))}\n"
            f"    berakhir {tanggal(item.ends_on)} ({days_left_text(item.days_left)}) · "
            f"{status_text(item.entry)}"
        )
        if size + telegram_length(line) + 1 > MAX_MESSAGE:
            break
        lines.append(line)
        size += telegram_length(line) + 1
        shown += 1
    if shown < found.total:
        lines.append(EXPIRING_MORE.format(count=found.total - shown))
    lines += ["", EXPIRING_HINT]
    return "\n".join(lines), shown


def expiry_notice(notice: ExpiryNotice) -> str:
    """What every Pejabat PPID is told 30 days, 7 days before, and on the day."""
    record = notice.record
    if notice.days_left > 0:
        when = f"berakhir dalam <b>{notice.days_left} hari</b>, pada {tanggal(notice.ends_on)}"
    elif notice.days_left == 0:
        when = f"berakhir <b>hari ini</b>, {tanggal(notice.ends_on)}"
    else:
        when = f"<b>telah berakhir</b> pada {tanggal(notice.ends_on)}"
    return (
        f"⏳ Masa pengecualian <b>{h(record.number)}</b> “{h(record.fields.title)}” {when}.\n"
        f"Jangka waktu: {h(period_text(record.fields.period))} · "
        f"Bagian {h(record.division_name)}\n\n"
        "Sesuai Pasal 20 UU 14/2008, informasi ini harus ditinjau kembali: bila tetap "
        "dikecualikan, lakukan uji konsekuensi ulang; bila tidak, umumkan sebagai informasi "
        f"terbuka dan tandai dengan /dibuka {h(record.number)}"
    )


# -- /dibuka -----------------------------------------------------------------------------
OPENED_USAGE = (
    "Tulis nomor berkas dan, bila bukan hari ini, tanggal dibukanya. Contoh:\n"
    "/dibuka DIK-2026-0001\n"
    "/dibuka DIK-2026-0001 30-11-2026"
)
OPENED_CONFIRM = (
    "🔓 Tandai <b>{number}</b> “{title}” sebagai <b>informasi terbuka</b> sejak {day}?\n"
    "Daftar akan menampilkannya sebagai dibuka, dan pemberitahuan akhir masa pengecualian "
    "untuk berkas ini berhenti. Tanda ini tidak dapat dibatalkan dari bot."
)
OPENED_DONE = "✅ <b>{number}</b> “{title}” tercatat dibuka sejak {day}."
BUTTON_OPENED_YES = "🔓 Ya, tandai dibuka"
BUTTON_OPENED_NO = "Batal"


# -- help --------------------------------------------------------------------------------
HELP_REGISTER = (
    "<b>Daftar informasi yang dikecualikan</b>\n"
    "/daftar — daftar (DIK) terbaru, dengan filter status, bagian, huruf Pasal 17 dan tahun\n"
    "/cari &lt;kata&gt; — mencari pada judul dan uraian\n"
    "/laporan — laporan Excel (DIK, kepatuhan SOP, ringkasan) dan grafik; CSV atas permintaan\n"
    "/kedaluwarsa — pengecualian yang berakhir dalam 90 hari"
)
HELP_OPENED = "/dibuka &lt;nomor&gt; [tanggal] — menandai informasi tersimpan sebagai dibuka"
HELP_DIVISION_ONLY = "(Petugas PPID melihat berkas bagiannya saja.)"


def help_text(*, may_open: bool, division_only: bool) -> str:
    parts = [HELP_REGISTER]
    if may_open:
        parts.append(HELP_OPENED)
    if division_only:
        parts.append(HELP_DIVISION_ONLY)
    return "\n".join(parts)


def generated_at(now: datetime, tz: ZoneInfo = WIB) -> str:
    return wib(now, tz)
