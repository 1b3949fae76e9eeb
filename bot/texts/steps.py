"""Steps 2 and 3: /serahkan, hand-over, receipt, returns and the step-2 correction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.texts import STEP_NAMES, WIB, durasi, fitting, h, wib
from bot.texts.records import card, summary
from sop.model import FileView, RecordView, Step
from storage import Area

#: Telegram's limit is 4096 characters after parsing; HTML source is always at least as long.
MAX_MESSAGE = 4000

# -- /serahkan -------------------------------------------------------------------------
SERAHKAN_ONLY_DOKUMENTASI = (
    "Perintah /serahkan hanya untuk Petugas Dokumentasi (langkah 2). "
    "Ketik /tugas untuk melihat yang menunggu Anda."
)
SERAHKAN_EMPTY = "Tidak ada berkas yang menunggu penyerahan ke Pejabat PPID saat ini. 👍"
SERAHKAN_HEADER = (
    "<b>Menunggu didata dan diserahkan ke Pejabat PPID</b> ({count}):\n"
    "Buka berkas untuk memeriksa ringkasan dan softcopy, lalu serahkan."
)
SERAHKAN_MORE = "… dan {count} berkas lain. Selesaikan yang di atas terlebih dahulu."


def waiting_line(record: RecordView, now: datetime, tz: ZoneInfo = WIB) -> str:
    """One record in the /serahkan list: number, title, division, due time."""
    run = record.current_run
    due = ""
    if run is not None:
        late = run.lateness(now)
        due = (
            f"⚠️ TERLAMBAT {durasi(late)} (batas {wib(run.due_at, tz)})"
            if late
            else f"batas {wib(run.due_at, tz)}"
        )
    return (
        f"• <b>{h(record.number)}</b> {h(record.fields.title)}\n  {h(record.division_name)} · {due}"
    )


def waiting_list(
    records: list[RecordView],
    now: datetime,
    limit: int,
    tz: ZoneInfo = WIB,
    *,
    total: int | None = None,
) -> tuple[str, list[RecordView]]:
    """The /serahkan message and the records it shows (as many as fit, at most ``limit``);
    ``total``: how many wait in all (``records`` may be the first of them only)."""
    total = len(records) if total is None else total
    lines = [SERAHKAN_HEADER.format(count=total)]
    shown: list[RecordView] = []
    size = fitting.telegram_length(lines[0]) + len(SERAHKAN_MORE) + 10
    for record in records[:limit]:
        line = waiting_line(record, now, tz)
        length = fitting.telegram_length(line) + 1
        if size + length > MAX_MESSAGE:
            break
        lines.append(line)
        shown.append(record)
        size += length
    if len(shown) < total:
        lines.append(SERAHKAN_MORE.format(count=total - len(shown)))
    return "\n".join(lines), shown


# -- hand-over (step 2) and receipt (step 3) -------------------------------------------
ANSWER_HANDED_OVER = "Diserahkan ke Pejabat PPID."
HANDED_OVER = "✅ <b>Diserahkan ke Pejabat PPID</b> oleh {who} pada {when}."
PEJABAT_TOLD = "Pejabat PPID yang diberi tahu: {names}."
NO_PEJABAT = (
    "⚠️ Belum ada Pejabat PPID aktif yang dapat menerima berkas ini. "
    "Mohon hubungi admin PPID agar menambahkan Pejabat PPID."
)
TOLD = "Diberi tahu: {names}."
ANSWER_STORED = "Tersimpan sebagai {number}."
STORED = (
    "✅ <b>Diterima dan disimpan di penyimpanan internal PPID</b> oleh {who} pada {when}.\n"
    "Nomor register: <b>{number}</b> · {copies} salinan, checksum SHA-256 cocok."
)

RECEIVE_NOTICE = (
    "📥 <b>{number}</b> diserahkan oleh {who} dan menunggu penerimaan Anda.\n\n"
    "{summary}\n\n"
    "{step} · batas waktu {due}\n"
    "{files}\n"
    "Periksa, lalu tekan <i>Terima &amp; simpan</i> atau <i>Kembalikan</i>."
)
RECEIVE_FILES = "Softcopy ({count}) dikirim di bawah pesan ini."
RECEIVE_NO_FILES = "⚠️ Berkas ini tidak memiliki softcopy."
FILE_CAPTION = "📎 {number} · {name}\nSHA-256 {sha256}"
FILE_NOT_SENT = (
    "⚠️ Softcopy {name} dari {number} tidak dapat dikirim. Gunakan tombol "
    "<i>Unduh softcopy</i> pada kartu berkas, atau hubungi admin PPID."
)


def receive_notice(record: RecordView, who: str, tz: ZoneInfo = WIB) -> str:
    """What a Pejabat PPID reads when a record is handed over to them."""
    run = record.current_run
    count = len(division_files(record))

    def render(shown: RecordView) -> str:
        return RECEIVE_NOTICE.format(
            number=h(shown.number),
            who=h(who),
            summary=summary(shown),
            step=STEP_NAMES[Step.RECEIVE],
            due=wib(run.due_at, tz) if run is not None else "-",
            files=RECEIVE_FILES.format(count=count) if count else RECEIVE_NO_FILES,
        )

    return fit(record, render)


def file_caption(record: RecordView, file: FileView) -> str:
    return FILE_CAPTION.format(
        number=h(record.number), name=h(file.original_name[:200]), sha256=file.sha256
    )


def division_files(record: RecordView) -> list[FileView]:
    return [f for f in record.files if f.area == Area.DIVISION]


def closed_card(record: RecordView, now: datetime, status: str, tz: ZoneInfo = WIB) -> str:
    """A record's card after a step was taken on it: the card, then what happened."""
    return fit(record, lambda shown: f"{card(shown, now, tz)}\n\n{status}")


def fit(record: RecordView, render: Callable[[RecordView], str]) -> str:
    """``render(record)``, with the record's long texts shortened so that it fits in one
    message (bot.texts.fitting); the result says whether it was shortened."""
    return fitting.fit_record(record, render)


# -- returning a record ----------------------------------------------------------------
RETURN_TARGETS = {
    Step.PRODUCE: "Langkah 1 (Petugas PPID)",
    Step.HANDOVER: "Langkah 2 (Petugas Dokumentasi)",
}
RETURN_CHOOSE = (
    "↩️ Kembalikan <b>{number}</b> “{title}” ke langkah mana?\n"
    "Langkah yang dipilih dijalankan ulang dengan batas waktu baru. Ketik /batal untuk "
    "membatalkan."
)
RETURN_ASK_REASON = (
    "↩️ <b>{number}</b> akan dikembalikan ke {target}.\n"
    "Tulis alasannya (3–500 karakter). Alasan ini dikirim kepada petugas yang harus "
    "mengulang langkah tersebut. Ketik /batal untuk membatalkan."
)
RETURN_USE_BUTTONS = "Pilih langkah tujuan dengan tombol di atas, atau ketik /batal."
RETURN_REASON_AS_TEXT = "Tulis alasan pengembalian sebagai pesan teks, atau ketik /batal."
RETURN_REASON_RETRY = "Silakan tulis alasannya lagi, atau ketik /batal."
RETURN_ABANDONED = "Pengembalian tidak dilanjutkan. Buka berkasnya lagi bila perlu."
RETURNED_DONE = "↩️ <b>{number}</b> dikembalikan ke {target}."
RETURNED_TOLD = "Pemberitahuan beserta alasannya dikirim kepada: {names}."
ALSO_TOLD = "Juga diberi tahu: {names}."
RETURNED_NOBODY = "⚠️ Belum ada petugas aktif untuk langkah tersebut. Mohon hubungi admin PPID."
RETURNED_STATUS = (
    "↩️ <b>Dikembalikan ke {target}</b> oleh {who} pada {when}.\nAlasan: <i>{reason}</i>"
)

# -- correcting metadata at step 2 -----------------------------------------------------
BUTTON_FIX = "✏️ Perbaiki data berkas"
BUTTON_CANCEL = "✖️ Batal"
FIX_DIVISION_FIELD = "division_id"
FIX_FIELDS = {
    "title": "Judul",
    FIX_DIVISION_FIELD: "Bagian (divisi)",
    "description": "Uraian",
    "consequence": "Uji konsekuensi",
}
FIX_ASK_DIVISION = (
    "🏢 Bagian <b>{number}</b> saat ini: <b>{current}</b>.\n"
    "Pilih bagian yang benar; softcopy berkas ini ikut dipindah ke penyimpanan bagian itu "
    "(diperiksa dengan checksum SHA-256). Ketik /batal untuk membatalkan."
)
FIX_DIVISION_DONE = (
    "✅ <b>{number}</b> kini tercatat pada bagian <b>{name}</b>; {files} softcopy dipindah ke "
    "penyimpanan bagian itu, checksum cocok."
)
FIX_CHOOSE = (
    "✏️ Perbaiki data <b>{number}</b> “{title}”. Kolom mana yang akan diperbaiki?\n"
    "Ketik /batal untuk membatalkan."
)
FIX_ASK_VALUE = (
    "✏️ {label} <b>{number}</b> saat ini:\n<i>{current}</i>\n\n"
    "Kirim {label_lower} yang baru sebagai pesan teks, atau ketik /batal."
)
FIX_ONLY_DOKUMENTASI = "Pada langkah 2 hanya Petugas Dokumentasi yang dapat memperbaiki data."
FIX_USE_BUTTONS = "Pilih kolom yang akan diperbaiki dengan tombol di atas, atau ketik /batal."
FIX_VALUE_AS_TEXT = "Kirim isian yang baru sebagai pesan teks, atau ketik /batal."
FIX_RETRY = "Silakan kirim lagi, atau ketik /batal."
FIX_DONE = (
    "✅ {label} <b>{number}</b> diperbarui. Kartu terbaru ada di bawah; tombol pada kartu "
    "lama tidak berlaku lagi."
)
FIX_STATUS = "✏️ {label} diperbaiki oleh {who} pada {when}. Lihat kartu terbaru di bawah."

# -- completing the consequence test (steps 2 and 3) -------------------------------------
BUTTON_TEST = "📝 Lengkapi uji konsekuensi"
#: The consequence test's parts beyond its short form (PKPU 22/2023 Pasal 25 ayat (3)).
TEST_FIELDS = {
    "harm_if_opened": "Potensi bahaya bila dibuka",
    "public_interest": "Kepentingan publik",
    "weighing": "Pertimbangan (penyeimbangan)",
}
TEST_CHOOSE = (
    "📝 Uji konsekuensi <b>{number}</b> “{title}” (Perki 1/2021 Pasal 49; PKPU 22/2023 "
    "Pasal 25). Langkah 3 baru dapat diselesaikan bila semua bagian terisi.\n"
    "{parts}\n\nPilih bagian yang akan diisi, atau ketik /batal."
)
TEST_PART_FILLED = "✅ {label}"
TEST_PART_MISSING = "⬜ {label} (belum diisi)"
TEST_ONLY = (
    "Uji konsekuensi dilengkapi oleh Petugas Dokumentasi pada langkah 2 atau oleh Pejabat "
    "PPID pada langkah 3."
)
NOT_FILLED = "(belum diisi)"
TEST_ASK_HINT = {
    "harm_if_opened": "Apa bahayanya bila informasi ini dibuka untuk publik?",
    "public_interest": "Apa kepentingan publik bila informasi ini dibuka?",
    "weighing": (
        "Mengapa menutup informasi ini melindungi kepentingan yang lebih besar daripada membukanya?"
    ),
}
#: Every field the correction conversation may change, with its name.
EDIT_FIELD_LABELS = {**FIX_FIELDS, **TEST_FIELDS}


def names(people: list[str]) -> str:
    return ", ".join(h(name) for name in people)
