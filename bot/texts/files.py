"""Softcopies: what people and admins are told when a file cannot be stored, when a crash
cut a download short, and the one acknowledgement of an album."""

from __future__ import annotations

from datetime import datetime

from bot.texts import h, wib
from bot.texts.new_record import ukuran

OPERATIONS = {
    "upload": "menyimpan softcopy kiriman",
    "merge": "menggabungkan foto menjadi PDF",
    "receive": "menyalin softcopy ke penyimpanan internal PPID (langkah 3)",
    "move": "memindahkan softcopy ke bagian lain",
}


def storage_full_alert(operation: str, who: str, record: str | None, at: datetime) -> str:
    """The admins' alert (sent at most once an hour while the disk stays full)."""
    what = OPERATIONS.get(operation, operation)
    where = f" untuk {h(record)}" if record else ""
    return (
        "⚠️ <b>Penyimpanan server penuh</b>\n"
        f"Bot gagal {what}{where} (diminta {h(who)}, {wib(at)}): ruang disk atau kuota "
        "penyimpanan habis. Tidak ada berkas yang tersimpan setengah; pengirimnya sudah "
        "diberi tahu bahwa berkasnya tidak tersimpan dan diminta mencoba lagi nanti.\n"
        "Mohon kosongkan ruang atau tambah kapasitas penyimpanan bot (STORAGE_DIR dan basis "
        "data). Peringatan ini dikirim paling banyak sekali per jam selama penyimpanan penuh."
    )


def interrupted_upload(name: str, record: str | None, started: datetime) -> str:
    """To the sender of a softcopy whose download a restart of the bot cut short."""
    where = f" untuk <b>{h(record)}</b>" if record else ""
    return (
        f"⚠️ Softcopy <b>{h(name)}</b>{where} yang Anda kirim pada {wib(started)} "
        "<b>tidak tersimpan</b>: bot terhenti saat mengunduhnya.\n"
        "Mohon kirim lagi berkasnya. Bila pengisian berkas sudah tidak berjalan, buka /tugas "
        "lalu tekan <i>Perbaiki</i> pada berkasnya."
    )


def truncated(received: int, expected: int) -> str:
    """A download from Telegram that did not arrive whole (plain text: a domain message)."""
    return (
        f"Softcopy tidak utuh saat diunduh dari Telegram (diterima {ukuran(received)} dari "
        f"{ukuran(expected)}), jadi berkas TIDAK disimpan. Silakan kirim lagi."
    )
