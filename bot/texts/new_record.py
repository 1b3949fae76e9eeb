"""Step 1, /baru: what the Petugas PPID is asked and told while recording a document."""

from __future__ import annotations

from datetime import date

from bot.texts import PASAL17, h, legal_basis, period_text, tanggal, wib
from bot.texts import papers as paper_texts
from bot.texts.fitting import button_text, fit_record, shorten
from bot.texts.records import summary
from sop.model import ExemptionPeriod, FileView, PeriodKind, RecordView
from sop.papers import missing_for_consequence_test
from storage import Area

KB = 1024
MB = 1024 * 1024

#: Where classifications are usually set (the office of KPU Provinsi Sumatera Barat).
DEFAULT_PLACE = "Padang"


def ukuran(size: int) -> str:
    """``20 MB``, ``1,5 MB``, ``2 KB``, ``900 byte``."""
    if size >= MB:
        return f"{size // MB} MB" if size % MB == 0 else f"{size / MB:.1f} MB".replace(".", ",")
    if size >= KB:
        return f"{size // KB} KB" if size % KB == 0 else f"{size / KB:.0f} KB"
    return f"{size} byte"


# -- the questions -----------------------------------------------------------------------
NEW_RECORD = "📝 <b>Berkas baru</b> · langkah 1 SOP 25/2021"
ASK_TITLE = (
    "Tulis <b>judul</b> informasi yang dikecualikan (3–200 karakter).\n"
    "Contoh: <i>Data pribadi pemilih disabilitas Kota Padang</i>"
)
STOP_ANYTIME = "Ketik /batal untuk berhenti kapan saja."
ASK_DIVISION = "🏢 Bagian: <b>{name}</b> (sesuai profil Anda). Sudah benar?"
PICK_DIVISION = "🏢 Pilih <b>bagian</b> yang menghasilkan dokumen ini:"
OWN_DIVISION_DEFAULT = "Bawaannya bagian Anda sendiri: <b>{name}</b>."
ASK_DIVISION_EDIT = (
    "🏢 Bagian saat ini: <b>{name}</b>. Pilih bagian yang benar; softcopy berkas ini ikut "
    "dipindah ke penyimpanan bagian itu."
)
OTHER_DIVISION_NOTE = (
    "ℹ️ Ini bukan bagian Anda: berkas disimpan di penyimpanan bagian {name}, dan Petugas "
    "PPID bagian itu juga menerima tugas dan pengingatnya."
)
FILES_MOVE_ALONG = "Softcopy yang terlampir ikut dipindah, diperiksa dengan checksum SHA-256."
ASK_DESCRIPTION = (
    "Tulis <b>uraian</b> singkat isi informasi atau dokumennya.\n"
    "Contoh: <i>Daftar nama, NIK dan alamat pemilih disabilitas hasil pemutakhiran 2026.</i>"
)
ASK_OTHER_BASIS = (
    "Tulis <b>dasar hukum lain</b> yang mengecualikan informasi ini.\n"
    "Contoh: <i>Pasal 79 UU 24/2013 tentang Administrasi Kependudukan</i>"
)
ASK_CONSEQUENCE = (
    "Tulis <b>uji konsekuensi</b> singkat (Pasal 19): akibat yang timbul bila informasi ini "
    "dibuka.\n"
    "Contoh: <i>Membuka rahasia pribadi pemilih; dapat disalahgunakan.</i>"
)
ASK_PERIOD = (
    "⏳ Berapa lama informasi ini <b>dikecualikan</b>?\n"
    "Pengecualian huruf a–f tidak boleh permanen (Pasal 20 UU 14/2008)."
)
ASK_PERIOD_VALUE = {
    PeriodKind.UNTIL_DATE: (
        "📅 Tulis <b>tanggal berakhirnya</b> pengecualian (tanggal-bulan-tahun), "
        "contoh: 31-12-2031."
    ),
    PeriodKind.DURATION: (
        "⏳ Tulis <b>jangka waktunya</b> sejak tanggal penetapan, contoh: 5 tahun, "
        "6 bulan, atau 30 hari."
    ),
    PeriodKind.CONDITION: (
        "🔓 Dikecualikan sampai apa? Tulis <b>kondisinya</b> tanpa kata <i>sampai</i>, "
        "contoh: <i>ada persetujuan tertulis dari pemilik data</i>."
    ),
}
ASK_CLASSIFIED_BY = (
    "👤 Siapa <b>pejabat yang menetapkan</b> pengecualian ini? Tulis nama (dan jabatannya), "
    "atau tekan tombol bila Anda sendiri."
)
ASK_CLASSIFIED_AT = (
    "📍 Tulis <b>tempat dan tanggal penetapan</b>, dipisah koma, contoh: "
    "<i>Padang, {example}</i>. Atau tekan tombol."
)
ASK_FILES = (
    "📎 Kirim <b>softcopy</b> dokumennya: PDF, Word, Excel, PowerPoint, ODT/ODS atau gambar "
    "JPG/PNG (kirim sebagai <i>berkas/file</i>), atau foto halaman dari kamera (boleh "
    "beberapa sekaligus). Maksimal {limit} per berkas.\n"
    "Setelah semua terkirim, tekan <b>Selesai melampirkan</b>."
)
ASK_COMBINE = (
    "🖼 Ada <b>{count} foto</b> terlampir. Gabungkan menjadi satu PDF (halaman sesuai urutan "
    "kiriman)? Foto aslinya tetap tersimpan."
)
ASK_EDIT = "✏️ Data mana yang ingin diubah?"
CURRENT = "Saat ini: <i>{value}</i>"

# -- the buttons -------------------------------------------------------------------------
BUTTON_DIVISION_OK = "✅ Ya, benar"
BUTTON_DIVISION_CHANGE = "🔁 Ganti bagian"
BUTTON_OTHER_BASIS = "📜 Dasar hukum lain"
BUTTON_OTHER_BASIS_CHANGE = "📜 Ubah dasar hukum lain"
BUTTON_NO_OTHER_BASIS = "🗑 Tanpa dasar hukum lain"
BUTTON_NEXT = "Lanjut ➡️"
BUTTON_PERIOD = {
    PeriodKind.UNTIL_DATE: "📅 Sampai tanggal",
    PeriodKind.DURATION: "⏳ Jangka waktu",
    PeriodKind.CONDITION: "🔓 Sampai kondisi",
    PeriodKind.PERMANENT: "♾ Permanen",
}
BUTTON_PERIOD_BACK = "↩️ Pilih jenis lain"
BUTTON_ME = "👤 {name}"
BUTTON_HERE = "📍 {place}, {day}"
BUTTON_FILES_DONE = "✅ Selesai melampirkan"
BUTTON_DETACH = "🗑 Lepas: {name}"
BUTTON_EDIT = "✏️ Ubah data"
BUTTON_COMBINE = "📄 Gabungkan jadi satu PDF"
BUTTON_SEPARATE = "Biarkan terpisah"
BUTTON_VERIFIED = "✅ Ya, sudah"
BUTTON_NOT_YET = "⏸ Belum"
BUTTON_KEEP = "↩️ Tidak jadi mengubah"
BUTTON_BACK = "↩️ Kembali"
EDIT_LABELS = {
    "title": "Judul",
    "division": "Bagian (divisi)",
    "description": "Uraian",
    "basis": "Dasar hukum",
    "consequence": "Uji konsekuensi",
    "period": "Jangka waktu",
    "classified": "Penetapan",
    "harm_if_opened": "Uji: potensi bahaya",
    "public_interest": "Uji: kepentingan publik",
    "weighing": "Uji: penyeimbangan",
}
#: The consequence test's parts (Perki 1/2021 Pasal 49; PKPU 22/2023 Pasal 25 ayat (3)).
ASK_TEST_PART = {
    "harm_if_opened": (
        "Uji konsekuensi: tulis <b>potensi bahaya bila informasi ini dibuka</b>.\n"
        "Contoh: <i>Alamat pemilih disabilitas terbuka; keselamatan mereka terancam.</i>"
    ),
    "public_interest": (
        "Uji konsekuensi: tulis <b>kepentingan publik</b> bila informasi ini dibuka.\n"
        "Contoh: <i>Masyarakat dapat memeriksa akurasi daftar pemilih.</i>"
    ),
    "weighing": (
        "Uji konsekuensi: tulis <b>penyeimbangan</b>: mengapa menutup informasi ini melindungi "
        "kepentingan yang lebih besar daripada membukanya.\n"
        "Contoh: <i>Akurasi dapat diperiksa lewat rekapitulasi; perlindungan pribadi lebih "
        "besar.</i>"
    ),
}
NOT_FILLED = "Saat ini: <i>belum diisi</i>"
TEST_MISSING_NOTE = (
    "📝 Uji konsekuensi belum lengkap: {parts} belum diisi. Isi lewat <b>Ubah data</b> "
    "(Uji: …), atau biarkan Pejabat PPID melengkapinya sebelum langkah 3."
)

# -- answers shown in place of a question once it is answered ----------------------------
CHOSEN_DIVISION = "✔️ Bagian: <b>{name}</b>"
CHOSEN_PERIOD_KIND = "✔️ Jangka waktu: <b>{kind}</b> (isinya ditanyakan berikutnya)"
PERIOD_KIND_NAMES = {
    PeriodKind.UNTIL_DATE: "sampai tanggal tertentu",
    PeriodKind.DURATION: "selama jangka waktu tertentu",
    PeriodKind.CONDITION: "sampai kondisi tertentu",
    PeriodKind.PERMANENT: "permanen",
}
CHOSEN_PERIOD = "✔️ Jangka waktu: <b>{period}</b>"
CHOSEN_CLASSIFIED_BY = "✔️ Ditetapkan oleh: <b>{name}</b>"
CHOSEN_CLASSIFIED_AT = "✔️ Tempat dan tanggal penetapan: <b>{place}, {day}</b>"


def chosen_basis(letters: tuple[str, ...], other: str | None) -> str:
    return f"✔️ Dasar hukum: <b>{h(legal_basis(letters, other))}</b>"


# -- hints when the answer is not what the question asks for ------------------------------
HINT_TITLE = "Mohon tulis judul sebagai teks (3–200 karakter)."
HINT_TEXT = "Mohon jawab dengan teks."
HINT_BUTTONS = "Mohon pilih dengan tombol di bawah."
HINT_PASAL = (
    "Pilih huruf Pasal 17 dengan tombol (boleh lebih dari satu), atau tekan "
    "<b>Dasar hukum lain</b>, lalu <b>Lanjut</b>."
)
WANT_FILE = (
    "Yang ditunggu sekarang adalah <b>softcopy</b> dokumen (dikirim sebagai berkas/file) "
    "atau foto halaman. Bila semua sudah terkirim, tekan <b>Selesai melampirkan</b>."
)
UNSUPPORTED_MEDIA = (
    "Pesan suara, video, stiker dan sejenisnya tidak diterima sebagai softcopy. Kirim PDF, "
    "Word, Excel, PowerPoint, ODT/ODS atau gambar JPG/PNG sebagai berkas, atau foto."
)
UNSUPPORTED_FILE = (
    "Jenis berkas <b>{kind}</b> tidak diterima, berkas tidak disimpan. Kirim PDF, Word "
    "(doc/docx), Excel (xls/xlsx), PowerPoint (ppt/pptx), ODT/ODS, atau gambar JPG/PNG."
)
TOO_BIG = (
    "Berkas <b>{name}</b> terlalu besar{size}: maksimal {limit} per berkas. Berkas tidak "
    "disimpan. Perkecil atau bagi berkasnya, lalu kirim lagi."
)
TOO_BIG_FOR_TELEGRAM = (
    "Berkas <b>{name}</b> terlalu besar untuk diunduh bot dari Telegram: maksimal 20 MB per "
    "berkas (batas server Telegram). Berkas tidak disimpan. Perkecil atau bagi berkasnya, "
    "lalu kirim lagi."
)
DOWNLOAD_FAILED = "Softcopy gagal diunduh dari Telegram, berkas tidak disimpan. Silakan kirim lagi."
EMPTY_TITLE = "Judul tidak boleh kosong. Tulis judul 3–200 karakter."
RETRY = "{error} Silakan tulis lagi."
NEED_BASIS = "Pilih minimal satu huruf Pasal 17 atau isi dasar hukum lain."
PLACE_AND_DATE = "Tulis tempat dan tanggal dipisah koma, contoh: Padang, {example}."
NO_FILES_YET = "Belum ada softcopy. Kirim minimal satu dokumen atau foto dahulu."
UNKNOWN_COMMAND = (
    "Perintah itu tidak tersedia saat mengisi berkas. Lanjutkan menjawab pertanyaan terakhir, "
    "atau ketik /batal untuk berhenti."
)
BUSY = (
    "Anda sedang mengisi berkas. Lanjutkan menjawab pertanyaan terakhir, atau ketik /batal "
    "untuk berhenti dahulu."
)
BUSY_ALERT = "Selesaikan dahulu berkas yang sedang diisi, atau ketik /batal."
STALE_BUTTON = "Tombol ini sudah tidak berlaku."
ONLY_PETUGAS = "Hanya Petugas PPID yang dapat mencatat berkas baru (langkah 1)."
REDO_NOT_POSSIBLE = "Berkas ini tidak sedang menunggu langkah 1 dari Anda."


# -- a softcopy sent before /baru -----------------------------------------------------------
PHOTO = "foto"
BUTTON_START_WITH_FILES = "📝 Mulai berkas baru dengan softcopy ini"
BUTTON_DROP_OFFERED = "✖️ Abaikan"
FILE_NOT_EXPECTED = (
    "Softcopy hanya diterima dari Petugas PPID saat mencatat berkas (/baru) atau "
    "memperbaiki berkas pada langkah 1. Berkas ini tidak disimpan."
)
TOO_MANY_OFFERED = (
    "Sudah {count} softcopy menunggu berkas baru. Mulai dahulu dengan /baru (softcopy yang "
    "menunggu ikut dilampirkan); yang ini tidak disimpan, kirim lagi setelahnya."
)
OFFER_DROPPED = "Baik, {count} softcopy tadi tidak dipakai dan sudah dihapus dari penyimpanan."


def offer(name: str, count: int) -> str:
    waiting = f" ({count} softcopy menunggu)" if count > 1 else ""
    return (
        f"📎 <b>{h(shorten(name, 100))}</b> sudah disimpan{waiting}, tetapi belum ada berkas "
        "yang sedang diisi. Mulai berkas baru dengan softcopy ini? Softcopy dilampirkan ke "
        "berkasnya begitu data berkas selesai diisi (juga bila Anda mengetik /baru)."
    )


def pending_files(count: int) -> str:
    return (
        f"📎 {count} softcopy yang sudah Anda kirim akan dilampirkan setelah data berkas "
        "selesai diisi."
    )


# -- what the bot says as things happen ----------------------------------------------------
def draft_created(record: RecordView) -> str:
    due = (
        f" Langkah 1 perlu selesai sebelum {wib(record.current_run.due_at)}."
        if (record.current_run)
        else ""
    )
    return f"💾 Data tersimpan sebagai draf <b>{h(record.number)}</b>.{due}"


def redo_header(record: RecordView) -> str:
    lines = [f"✏️ <b>Perbaiki {h(record.number)}</b> · {h(record.fields.title)}"]
    if record.return_reason:
        lines.append(f"↩️ Dikembalikan dengan alasan: <i>{h(record.return_reason)}</i>")
    if record.current_run is not None:
        lines.append(f"Batas waktu langkah 1: {wib(record.current_run.due_at)}")
    lines.append(
        "Tambahkan atau ganti softcopy (lepas yang lama dengan tombol 🗑), ubah data bila perlu, "
        "lalu konfirmasi lagi."
    )
    return "\n".join(lines)


CORRECTED = "💾 Perubahan data tersimpan."
DETACHED = "🗑 <b>{name}</b> dilepas dari berkas (salinannya tetap tersimpan)."


def division_files(record: RecordView) -> list[FileView]:
    return [f for f in record.files if f.area == Area.DIVISION]


#: Softcopies listed by name in a message; more are counted (a message has its limits).
FILES_LISTED = 10
FILE_NAME_SHOWN = 80


def file_lines(record: RecordView) -> list[str]:
    files = division_files(record)
    lines = [
        f"• {h(shorten(f.original_name, FILE_NAME_SHOWN))} ({ukuran(f.size)}, "
        f"SHA-256 {f.sha256[:12]}…)"
        for f in files[:FILES_LISTED]
    ]
    if len(files) > FILES_LISTED:
        lines.append(f"• … dan {len(files) - FILES_LISTED} softcopy lainnya")
    return lines


def files_prompt(record: RecordView, limit: int) -> str:
    files = file_lines(record)
    head = f"<b>{h(record.number)}</b> · softcopy terlampir: {len(division_files(record))}"
    listing = "\n".join([head, *files])
    return f"{listing}\n\n{ASK_FILES.format(limit=ukuran(limit))}"


def file_stored(file: FileView, count: int, also_in: list[str] | None = None) -> str:
    return (
        f"📎 Tersimpan: <b>{h(file.original_name)}</b> ({ukuran(file.size)}, SHA-256 "
        f"{file.sha256[:12]}…). Lampiran: {count}.\n"
        + (same_content_note(also_in) + "\n" if also_in else "")
        + "Kirim berkas lain, atau tekan <b>Selesai melampirkan</b>."
    )


def same_content_note(also_in: list[str]) -> str:
    """The same bytes are already stored with other records the officer may see."""
    return (
        f"ℹ️ Isi yang sama persis juga tersimpan pada {h(', '.join(also_in))}; "
        "di berkas ini tetap dilampirkan sebagai buktinya sendiri."
    )


NOT_STORED_ERROR = (
    "Softcopy <b>{name}</b> TIDAK tersimpan karena kesalahan pada sistem (kode {ref}). "
    "Silakan kirim lagi; bila terulang, sampaikan kode itu kepada admin PPID."
)


def stored_line(file: FileView, also_in: list[str]) -> str:
    """One stored item of an album, in its summary."""
    line = f"✅ {h(file.original_name[:60])} ({ukuran(file.size)}, SHA-256 {file.sha256[:12]}…)"
    if also_in:
        line += f" · isi yang sama juga pada {h(', '.join(also_in))}"
    return line


def refused_line(name: str, reason: str) -> str:
    """One album item that was not stored, with why (``reason`` is HTML already)."""
    return f"❌ {h(name[:60]) or 'berkas'}: {reason}"


def album_summary(lines: list[str], stored: int, count: int | None) -> str:
    """The one acknowledgement of an album (Telegram sends its items one by one)."""
    total = len(lines)
    head = (
        f"📎 <b>Album: {stored} dari {total} berkas tersimpan.</b>"
        if stored < total
        else f"📎 <b>Album: {total} berkas tersimpan.</b>"
    )
    tail = f"Lampiran: {count}.\n" if count is not None else ""
    return (
        "\n".join([head, *lines, ""])
        + tail
        + ("Kirim berkas lain, atau tekan <b>Selesai melampirkan</b>.")
    )


def too_big(name: str, size: int | None, limit: int) -> str:
    shown = f" ({ukuran(size)})" if size else ""
    return TOO_BIG.format(name=h(name), size=shown, limit=ukuran(limit))


def unsupported_file(kind: str) -> str:
    return UNSUPPORTED_FILE.format(kind=h(kind))


def combined(file: FileView, count: int) -> str:
    return (
        f"📄 {count} foto digabung menjadi <b>{h(file.original_name)}</b> ({ukuran(file.size)}, "
        f"SHA-256 {file.sha256[:12]}…). Foto aslinya dilepas dari berkas tetapi tetap tersimpan."
    )


def combined_name(title: str, pages: int) -> str:
    return f"{shorten(title, 80)} ({pages} halaman).pdf"


def photo_name(message_id: int) -> str:
    return f"foto-{message_id}.jpg"


def confirm_card(record: RecordView, texts: str = "") -> str:
    """The summary to confirm, shortened to fit (then with the full text a tap away);
    ``texts``: the softcopies' text state and personal-data hints, shown before the
    question."""
    files = file_lines(record)
    count = len(division_files(record))

    missing = missing_for_consequence_test(record)
    test_note = (
        TEST_MISSING_NOTE.format(parts=paper_texts.missing_names(missing)) + "\n\n"
        if missing
        else ""
    )

    def render(shown: RecordView) -> str:
        return (
            f"{summary(shown)}\n\n"
            f"Softcopy ({count}):\n"
            + "\n".join(files)
            + f"{texts}\n\n"
            + test_note
            + "<b>Syarat SOP:</b> Data sudah diperbarui dan terverifikasi?\n"
            "Tekan <b>Ya, sudah</b> untuk menyelesaikan langkah 1 dan meneruskan berkas ke "
            "Petugas Dokumentasi."
        )

    return fit_record(record, render)


def done(
    record: RecordView, reached: list[str], *, anyone: bool, more: list[str] | None = None
) -> str:
    """Step 1 is done: when step 2 is due, and which Petugas Dokumentasi the notice
    reached (``more``: who could not be reached, who is still being sent to)."""
    lines = [
        f"✅ <b>Langkah 1 selesai.</b> {h(record.number)} · {h(record.fields.title)}",
        f"Softcopy tersimpan di penyimpanan bagian {h(record.division_name)}.",
    ]
    if record.current_run is not None:
        lines.append(
            f"Batas waktu langkah 2 (Petugas Dokumentasi): {wib(record.current_run.due_at)}."
        )
    if not anyone:
        lines.append("⚠️ Belum ada Petugas Dokumentasi terdaftar; mohon hubungi admin PPID.")
    elif reached:
        lines.append(
            f"Petugas Dokumentasi yang sudah diberi tahu: {', '.join(h(n) for n in reached)}."
        )
    lines.extend(more or [])
    return "\n".join(lines)


def kept_as_draft(record: RecordView) -> str:
    due = (
        f"\nBatas waktu langkah 1: {wib(record.current_run.due_at)}."
        if record.current_run is not None
        else ""
    )
    return (
        f"⏸ Baik. <b>{h(record.number)}</b> disimpan sebagai draf; "
        f"langkah 1 belum selesai.{due}\n"
        "Lanjutkan kapan saja lewat /tugas, tombol <i>Perbaiki</i>."
    )


def cancelled_kept(record: RecordView) -> str:
    count = len(division_files(record))
    due = (
        f"\nBatas waktu langkah 1: {wib(record.current_run.due_at)}."
        if record.current_run is not None
        else ""
    )
    return (
        f"⏹ Dihentikan. Tidak ada yang hilang: <b>{h(record.number)}</b> tersimpan sebagai draf "
        f"dengan {count} softcopy.{due}\n"
        "Lanjutkan lewat /tugas, tombol <i>Perbaiki</i>. Bila tidak diperlukan lagi: "
        f"/berkas {h(record.number)}, tombol <i>Batalkan berkas</i>."
    )


CANCELLED_NOTHING = "⏹ Pengisian berkas baru dibatalkan. Belum ada yang disimpan."
CANCELLED = "⏹ Dihentikan."


# -- pieces of the questions -----------------------------------------------------------------
def pasal_question(letters: list[str], other: str | None) -> str:
    lines = ["⚖️ <b>Dasar hukum pengecualian</b> (Pasal 17 UU 14/2008):"]
    for letter, text in PASAL17.items():
        mark = "✅" if letter in letters else "▫️"
        lines.append(f"{mark} {letter}. {text}")
    lines.append("")
    lines.append(
        "Tekan huruf yang sesuai (boleh lebih dari satu; tekan lagi untuk membatalkan), "
        "lalu <b>Lanjut</b>."
    )
    chosen = ", ".join(letters) if letters else "belum ada"
    lines.append(f"Dipilih: <b>{chosen}</b>")
    if other:
        lines.append(f"Dasar hukum lain: <i>{h(other)}</i>")
    return "\n".join(lines)


def letter_button(letter: str, chosen: bool) -> str:
    return f"✅ {letter}" if chosen else letter


def current(value: str) -> str:
    return CURRENT.format(value=h(value))


def period_now(period: ExemptionPeriod) -> str:
    return current(period_text(period))


def classified_example(today: date) -> str:
    return today.strftime("%d-%m-%Y")


def here_button(today: date) -> str:
    return BUTTON_HERE.format(place=DEFAULT_PLACE, day=tanggal(today))


def me_button(name: str) -> str:
    return button_text(BUTTON_ME.format(name=name))


def detach_button(name: str) -> str:
    return button_text(BUTTON_DETACH.format(name=name))
