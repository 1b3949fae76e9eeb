"""The words of the papers (handover records, the consequence-test sheet, the
classification decision), of the public list of exempted information and of the
evidence pack's instructions."""

from __future__ import annotations

from bot.texts import ROLE_NAMES, legal_basis, pasal_line
from sop.model import PASAL17, Role, Step

# -- common -------------------------------------------------------------------------------
PAGE = "Halaman {page} dari {pages}"
CODE = "Kode verifikasi"
VERIFY_HINT = (
    "Keaslian dokumen ini dapat diperiksa dengan memindai kode QR atau mengetik kode "
    "verifikasi di bot PPID (/verifikasi {code}) atau di server (ppidbot verify {code})."
)
RECORD_NUMBER = "Nomor register"
DRAFT_NUMBER = "Nomor berkas (sementara)"
TITLE = "Informasi"
DIVISION = "Bagian (unit kerja)"
AUDIT_ENTRY = "Entri jejak audit"
AUDIT_ENTRY_VALUE = "No. {seq}, {at}; SHA-256 {hash}"
SIGN_NAME_BLANK = "(nama jelas)"
SIGNATURE = "Tanda tangan"
STAMP = "Cap"
NOT_FILLED = "belum diisi"
DASH = "–"


def role_name(role: Role) -> str:
    return ROLE_NAMES[role]


# -- handover records (berita acara serah terima) -----------------------------------------
HANDOVER_TITLE = "BERITA ACARA SERAH TERIMA"
HANDOVER_SUBTITLE = {
    Step.HANDOVER: "Softcopy Informasi yang Dikecualikan · Langkah 2: menyerahkan dan mendata",
    Step.RECEIVE: (
        "Softcopy Informasi yang Dikecualikan · Langkah 3: menerima dan menyimpan di "
        "penyimpanan internal PPID"
    ),
}
HANDOVER_OPENING = (
    "Pada {at}, sesuai {procedure} tentang {procedure_title}, yang bertanda tangan di bawah ini:"
)
HANDOVER_GIVER = "Pihak yang menyerahkan"
HANDOVER_RECEIVER = "Pihak yang menerima"
HANDOVER_BODY = {
    Step.HANDOVER: (
        "Pihak yang menyerahkan menyerahkan softcopy informasi yang dikecualikan berikut "
        "kepada pihak yang menerima, yang mendatanya untuk diserahkan kepada Pejabat PPID."
    ),
    Step.RECEIVE: (
        "Pihak yang menyerahkan menyerahkan softcopy informasi yang dikecualikan berikut "
        "kepada pihak yang menerima, yang menerimanya dan menyimpannya di penyimpanan "
        "internal PPID. Salinan dibuktikan sama dengan checksum SHA-256."
    ),
}
FILES_HEADING = "Softcopy yang diserahterimakan"
FILES_COLUMNS = ("No", "Nama berkas", "Ukuran", "SHA-256")
NO_FILES = "Tidak ada softcopy."
HANDOVER_CLOSING = (
    "Demikian berita acara ini dibuat dengan sebenarnya untuk dipergunakan sebagaimana mestinya."
)

# -- the consequence-test sheet -----------------------------------------------------------
TEST_TITLE = "LEMBAR PENGUJIAN KONSEKUENSI"
TEST_SUBTITLE = (
    "Pasal 19 UU 14/2008; Pasal 49 Peraturan Komisi Informasi 1/2021; Pasal 24–26 PKPU 22/2023"
)
TEST_ROWS = {
    "documents": "1. Dokumen yang memuat informasi",
    "information": "2. Informasi yang dikecualikan",
    "description": "3. Uraian informasi",
    "legal_basis": "4. Dasar hukum pengecualian",
    "harm_if_opened": "5. Potensi konsekuensi bahaya bila informasi dibuka",
    "public_interest": "6. Kepentingan publik bila informasi dibuka",
    "weighing": "7. Penyeimbangan konsekuensi bahaya dan kepentingan publik",
    "consequence": "8. Ringkasan konsekuensi (kolom DIK)",
    "conclusion": "9. Kesimpulan",
    "period": "10. Jangka waktu pengecualian",
}
TEST_CONCLUSION = (
    "Informasi tersebut DIKECUALIKAN: menutupnya melindungi kepentingan yang lebih besar "
    "daripada membukanya (Pasal 2 ayat (4) UU 14/2008)."
)
TEST_INCOMPLETE = "PERHATIAN: pengujian belum lengkap ({missing}). Lengkapi sebelum ditandatangani."
TEST_SIGNER = "Pejabat Pengelola Informasi dan Dokumentasi"
TEST_PLACE_DATE = "{place}, {date}"
FIELD_NAMES = {
    "harm_if_opened": "potensi bahaya bila dibuka",
    "public_interest": "kepentingan publik",
    "weighing": "penyeimbangan",
}

#: On a record's card while the consequence test lacks parts (step 3 needs them all).
CARD_TEST_INCOMPLETE = (
    "Uji konsekuensi belum lengkap: {parts} belum diisi (wajib sebelum langkah 3; "
    "Pejabat PPID dapat melengkapinya)."
)

# -- the classification decision (PP 61/2010) ---------------------------------------------
DECISION_TITLE = "PENETAPAN INFORMASI YANG DIKECUALIKAN"
DECISION_SUBTITLE = "Pasal 17 dan 19 UU 14/2008; PP 61/2010"
DECISION_OPENING = (
    "Berdasarkan hasil pengujian konsekuensi, Pejabat Pengelola Informasi dan Dokumentasi "
    "{body} menetapkan informasi berikut sebagai informasi yang dikecualikan:"
)
DECISION_ROWS = {
    "information": "Informasi",
    "description": "Uraian",
    "classification": "Jenis klasifikasi",
    "legal_basis": "Dasar hukum",
    "unit": "Unit kerja yang menguasai informasi",
    "official": "Pejabat PPID yang menetapkan",
    "period": "Jangka waktu pengecualian",
    "reason": "Alasan pengecualian",
    "place_date": "Tempat dan tanggal penetapan",
}
DECISION_SIGNER = "Pejabat Pengelola Informasi dan Dokumentasi"


def classification_type(letters: tuple[str, ...], other: str | None) -> str:
    """``Informasi yang dikecualikan: h. mengungkap rahasia pribadi``."""
    parts = [pasal_line(letter) for letter in letters if letter in PASAL17]
    if other:
        parts.append(f"dikecualikan berdasarkan undang-undang lain: {other}")
    return "Informasi yang dikecualikan: " + "; ".join(parts)


def basis(letters: tuple[str, ...], other: str | None) -> str:
    return legal_basis(letters, other)


# -- the public list (ppidbot publish) ------------------------------------------------------
PUBLIC_TITLE = "Daftar Informasi yang Dikecualikan"
PUBLIC_LEAD = (
    "Daftar informasi publik yang dikecualikan (Pasal 17 UU 14/2008) pada {body}, "
    "disusun {office} menurut {procedure}."
)
PUBLIC_GENERATED = "Diperbarui {at}."
PUBLIC_COLUMNS = (
    "No",
    "Nomor register",
    "Informasi",
    "Bagian",
    "Dasar hukum",
    "Konsekuensi",
    "Jangka waktu",
    "Status",
)
PUBLIC_CAPTION = "Informasi yang dikecualikan ({count} informasi)"
PUBLIC_EMPTY = "Belum ada informasi yang dikecualikan."
STATUS_EXEMPT = "Dikecualikan"
STATUS_OPENED = "Dibuka sejak {date}"
COUNTS_HEADING = "Jumlah"
COUNT_LETTER_CAPTION = "Jumlah menurut huruf Pasal 17 UU 14/2008"
COUNT_LETTER_COLUMNS = ("Huruf", "Alasan pengecualian", "Dikecualikan", "Dibuka")
COUNT_DIVISION_CAPTION = "Jumlah menurut bagian"
COUNT_DIVISION_COLUMNS = ("Bagian", "Dikecualikan", "Dibuka")
COUNT_OTHER_LAW = "Undang-undang lain (tanpa huruf Pasal 17)"
COUNT_TOTAL = "Jumlah"
PUBLIC_NOTE = (
    "Satu informasi dapat dikecualikan berdasarkan lebih dari satu huruf Pasal 17, "
    "sehingga jumlah menurut huruf dapat melebihi jumlah informasi."
)
PUBLIC_FOOTER = "Dibuat oleh ppidbot dari register PPID."
CSV_COLUMNS = (
    "No",
    "Nomor register",
    "Informasi",
    "Bagian",
    "Dasar hukum",
    "Konsekuensi",
    "Jangka waktu",
    "Status",
    "Tanggal dibuka",
)

# -- the evidence pack ----------------------------------------------------------------------
PACK_CARD_TITLE = "Kartu berkas {number}"
PACK_README = """\
PAKET BUKTI {number}
{title}

Dibuat {at} oleh ppidbot ({body}, {office}).

Isi paket:
  README.txt                ini
  kartu-berkas.txt, .html   data berkas, langkah SOP, softcopy dan checksumnya
  dokumen/*.pdf             lembar pengujian konsekuensi, penetapan, berita acara
  dokumen/dokumen.json      kode verifikasi dan SHA-256 setiap PDF
  audit/jejak.json          jejak audit berkas ini
  audit/rantai.json         potongan rantai hash dari setiap entri berkas ini
                            sampai jangkar (anchor) berikutnya
  checksum-softcopy.sha256  SHA-256 setiap softcopy berkas
{files_line}  SHA256SUMS                SHA-256 setiap berkas dalam paket ini
  verifikasi.py             skrip pemeriksa (hanya pustaka standar Python 3)

Cara memeriksa tanpa ppidbot:

1. Keutuhan paket. Di folder paket yang sudah diekstrak:
       sha256sum -c SHA256SUMS
   Setiap baris harus "OK" (atau "BERHASIL").

2. Rantai audit dan isi paket:
       python3 verifikasi.py
   Skrip menghitung ulang hash setiap entri audit dalam audit/rantai.json dengan
   rumus yang sama dengan ppidbot, memeriksa sambungan antarentri, bahwa setiap
   potongan berakhir pada jangkar yang dicatat, bahwa setiap entri di jejak audit
   ada di rantai, bahwa SHA-256 PDF sama dengan yang tercatat di entri
   "document.issued", dan (dengan --with-files) bahwa softcopy sama dengan
   checksum-softcopy.sha256. Akhirnya ia mencetak "HASIL: COCOK" atau daftar masalah.

3. Bandingkan jangkar. Skrip mencetak jangkar yang dipakai (nomor entri dan hash).
   Jangkar dikirim setiap hari kepada admin dan Pejabat PPID (di luar server):
   nomor dan hash yang mereka terima untuk nomor entri yang sama harus persis sama.
   Bila berbeda, rantai audit di server telah ditulis ulang.

Rumus hash sebuah entri (untuk memeriksa dengan alat lain):
   sha256( prev_hash + "|" + JSON([seq, at, actor_user_id, action, record_id,
            details, actor_name]) )
   JSON tanpa spasi (pemisah "," dan ":"), karakter non-ASCII apa adanya; "at"
   dalam UTC dengan mikrodetik; actor_name hanya ada bila tidak kosong (null).

PERHATIAN: potongan rantai memuat juga entri audit berkas lain yang terjadi di
antaranya (diperlukan untuk menghitung ulang hash). Paket ini RAHASIA seperti
berkasnya sendiri (UU 14/2008 Pasal 17).
"""
PACK_FILES_LINE = "  softcopy/                 softcopy berkas (dengan --with-files)\n"
PACK_NO_ANCHOR = (
    "Belum ada jangkar setelah entri terakhir berkas ini; potongan terakhir berakhir pada "
    "kepala rantai saat paket dibuat."
)


def missing_names(fields: tuple[str, ...]) -> str:
    return ", ".join(FIELD_NAMES.get(name, name) for name in fields)


CARD_LABELS = {
    "number": "Nomor",
    "title": "Informasi",
    "division": "Bagian",
    "description": "Uraian",
    "legal_basis": "Dasar hukum",
    "consequence": "Uji konsekuensi (ringkas)",
    "harm_if_opened": "Potensi bahaya bila dibuka",
    "public_interest": "Kepentingan publik",
    "weighing": "Penyeimbangan",
    "period": "Jangka waktu",
    "classified": "Ditetapkan",
    "internal": "Internal (tidak dalam daftar publik)",
    "status": "Status",
    "created": "Dibuat",
    "file": "Softcopy",
}
YES = "ya"
NO = "tidak"


# -- in Telegram: /uji, /verifikasi, the handover records sent after steps 2 and 3 ----------
KIND_NAMES = {
    "handover_step2": "Berita acara serah terima langkah 2",
    "handover_step3": "Berita acara serah terima langkah 3",
    "consequence_test": "Lembar pengujian konsekuensi",
    "classification": "Penetapan informasi yang dikecualikan",
}
KIND_FILES = {
    "handover_step2": "berita-acara-langkah-2",
    "handover_step3": "berita-acara-langkah-3",
    "consequence_test": "lembar-uji-konsekuensi",
    "classification": "penetapan-dikecualikan",
}
UJI_USAGE = (
    "Ketik /uji diikuti nomor berkas, misalnya <code>/uji DIK-2026-0001</code> atau "
    "<code>/uji BRK-12</code>: bot mengirim lembar pengujian konsekuensi dan penetapan "
    "informasi yang dikecualikan (PDF) untuk dicetak dan ditandatangani."
)
UJI_CANCELLED = "Berkas yang dibatalkan tidak memiliki dokumen."
PAPER_CAPTION = "📄 {kind} · {number}\nKode verifikasi: <code>{code}</code>"
PAPER_CAPTION_INCOMPLETE = "⚠️ Uji konsekuensi belum lengkap: {parts} belum diisi."
PAPER_NOT_SENT = "⚠️ {kind} {number} belum dapat dikirim; silakan coba lagi dengan /uji {number}."
CARD_PAPERS = "Dokumen terbit: {papers}"
CARD_PAPERS_HINT = "📄 Lembar uji konsekuensi dan penetapan (PDF): /uji {number}"

VERIFY_USAGE = (
    "Ketik /verifikasi diikuti kode pada dokumen, misalnya "
    "<code>/verifikasi ABCDE-FGHJK</code>: bot memeriksa apakah dokumen cetak atau kiriman "
    "itu sesuai dengan register."
)
VERIFY_UNKNOWN = (
    "❌ Kode <code>{code}</code> tidak dikenal: tidak ada dokumen yang terbit dengan kode ini."
)
VERIFY_HEAD = "🔎 Kode <code>{code}</code>: {kind} {number} “{title}”, terbit {at}."
VERIFY_MATCHES = "✅ <b>Sesuai dengan register.</b>"
VERIFY_CHANGED = "⚠️ <b>Tidak lagi sesuai dengan register</b> sejak dokumen ini terbit."
VERIFY_RECORD_SAME = "• Data berkas dan serah terima: sama seperti pada dokumen."
VERIFY_RECORD_CHANGED = "• Data berkas berubah sejak terbit: {fields}."
VERIFY_RECORD_GONE = (
    "• Dokumen ini tidak berlaku lagi: langkahnya dikembalikan atau berkas dibatalkan."
)
VERIFY_FILES_OK = "• Softcopy: {count} diperiksa ulang, checksum SHA-256 cocok."
VERIFY_FILE_BAD = {
    "altered": "• Softcopy {name}: isinya BERUBAH (checksum tidak cocok).",
    "missing": "• Softcopy {name}: TIDAK ADA di penyimpanan.",
    "removed": "• Softcopy {name}: tidak lagi tercatat pada berkas.",
}
VERIFY_CHAIN_OK = "• Jejak audit: entri {seq} utuh, rantai hash sampai entri terakhir cocok."
VERIFY_CHAIN_BAD = "• Jejak audit: entri {seq} atau rantai sesudahnya TIDAK utuh."
CHANGED_FIELDS = {
    "record": "data berkas",
    "files": "softcopy",
    "giver": "pihak yang menyerahkan",
    "receiver": "pihak yang menerima",
    "at": "waktu serah terima",
    "audit": "entri audit",
    "description": "uraian",
    "pasal17": "dasar hukum",
    "other_legal_basis": "dasar hukum lain",
    "consequence": "uji konsekuensi",
    "harm_if_opened": "potensi bahaya",
    "public_interest": "kepentingan publik",
    "weighing": "penyeimbangan",
    "period": "jangka waktu",
    "ends_on": "akhir pengecualian",
    "documents": "dokumen",
    "missing": "kelengkapan uji",
    "tested_by": "pejabat",
    "official": "pejabat",
    "unit": "unit kerja",
    "reason": "alasan",
    "place": "tempat",
    "tested_on": "tanggal",
    "decided_on": "tanggal",
}


def changed_fields(fields: tuple[str, ...]) -> str:
    return ", ".join(CHANGED_FIELDS.get(name, name) for name in fields)


# -- the daily anchor of the audit chain ----------------------------------------------------
ANCHOR_MESSAGE = (
    "🔗 <b>Jangkar rantai audit</b> {at}\n"
    "<code>{seq}:{hash}</code>\n\n"
    "Simpan pesan ini (jangan dihapus): ia saksi di luar server. Bila suatu saat catatan "
    "audit ditulis ulang, pemeriksaan <code>ppidbot check --anchor {seq}:{hash}</code> "
    "akan gagal."
)
