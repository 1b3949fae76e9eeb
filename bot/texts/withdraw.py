"""Withdrawing a draft ("Batalkan berkas"): the question, the confirmation, the notice."""

from __future__ import annotations

from bot.texts import h
from sop.validation import REASON_MAX

BUTTON_WITHDRAW = "🗑 Batalkan berkas"
BUTTON_CONFIRM = "🗑 Ya, batalkan {number}"
BUTTON_KEEP = "✖️ Tidak jadi"

ASK_REASON = (
    "🗑 <b>Batalkan {number}</b> “{title}”?\n"
    "Berkas yang dibatalkan keluar dari daftar dan tidak lagi diingatkan. Softcopy dan jejak "
    "auditnya tetap tersimpan.\n\n"
    f"Tulis <b>alasan pembatalan</b> (3–{REASON_MAX} karakter), atau tekan <i>Tidak jadi</i>."
)
REASON_RETRY = "Tulis lagi alasannya, atau tekan <i>Tidak jadi</i>."
REASON_AS_TEXT = "Alasan pembatalan ditulis sebagai teks. Tulis alasannya, atau ketik /batal."
CONFIRM = (
    "🗑 Yakin membatalkan <b>{number}</b> “{title}”?\n"
    "Alasan: <i>{reason}</i>\n\n"
    "Pembatalan tidak dapat diurungkan dari bot."
)
USE_BUTTONS = "Tekan salah satu tombol pada pertanyaan di atas, atau ketik /batal."
KEPT = "Berkas tidak jadi dibatalkan. Tidak ada yang diubah."
KEPT_NUMBER = "{number} tidak jadi dibatalkan. Tidak ada yang diubah."
FILLING_IN = (
    "Anda sedang mengisi berkas ini lewat /baru. Ketik /batal untuk berhenti mengisi, "
    "lalu batalkan berkasnya."
)

ANSWER_DONE = "{number} dibatalkan."
DONE = "🗑 <b>{number}</b> dibatalkan. Berkas ini tidak lagi diingatkan dan keluar dari daftar."
STATUS = "🗑 <b>Dibatalkan</b> oleh {who} pada {when}.\nAlasan: <i>{reason}</i>"
TOLD = "Pemberitahuan terkirim kepada: {names}."
NOT_TOLD = "Pemberitahuan tidak dapat dikirim kepada: {names}."

OPERATOR = "operator PPID (baris perintah)"
NOTICE = (
    "🗑 <b>{number}</b> “{title}” dibatalkan oleh {who}.\n"
    "Alasan: <i>{reason}</i>\n"
    "Pengingat untuk berkas ini dihentikan; softcopy dan jejak auditnya tetap tersimpan."
)


def names(people: list[str]) -> str:
    return ", ".join(h(name) for name in people)
