"""Greeting, registration and help."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.texts import ROLE_NAMES, durasi, h, wib
from sop.model import Role

WELCOME = (
    "Selamat datang, {name}.\n"
    "Anda terdaftar sebagai: <b>{roles}</b>.\n\n"
    "Bot ini menjalankan SOP No. 25 Tahun 2021 tentang Pendokumentasian Informasi Publik "
    "yang Dikecualikan. Ketik /tugas untuk melihat yang menunggu Anda, atau /bantuan."
)


def registered(role: Role, division: str | None, all_roles: str, *, had_other_roles: bool) -> str:
    """After an invitation: the new role, and every role the person holds now."""
    where = f" ({h(division)})" if division else ""
    text = (
        "✅ Pendaftaran berhasil. Anda sekarang terdaftar sebagai "
        f"<b>{ROLE_NAMES[role]}</b>{where}."
    )
    if had_other_roles:
        text += f"\nSeluruh peran Anda: <b>{all_roles}</b>."
    return text + "\nKetik /bantuan untuk melihat apa yang dapat Anda lakukan."


def wrong_codes_wait(until: datetime, tz: ZoneInfo) -> str:
    return (
        "⛔ Terlalu banyak kode undangan yang salah dari akun ini. Kode undangan (juga yang "
        f"benar) baru dapat dipakai lagi setelah {wib(until, tz)}. Bila Anda memang diundang, "
        "tunggulah sampai saat itu atau mintalah tautan baru kepada admin PPID."
    )


def help_intro(standard: timedelta) -> str:
    """The head of /bantuan, with the time standard as configured (``STEP_DEADLINE``)."""
    return (
        "<b>Bantuan ppidbot</b>\n"
        f"SOP 25/2021: setiap langkah memiliki standar waktu {durasi(standard)}. "
        "Semua waktu dalam WIB."
    )


HELP_COMMON = (
    "/tugas — yang menunggu Anda, dengan batas waktunya\n"
    "/berkas &lt;nomor&gt; — rincian satu berkas, riwayat dan softcopy\n"
    "/uji &lt;nomor&gt; — lembar pengujian konsekuensi dan penetapan (PDF) untuk dicetak\n"
    "/verifikasi &lt;kode&gt; — memeriksa dokumen cetak dengan kode verifikasinya\n"
    "/batal — membatalkan proses yang sedang berjalan\n"
    "/bantuan — pesan ini"
)
HELP_ROLE = {
    Role.PETUGAS_PPID: (
        "<b>Petugas PPID (langkah 1)</b>\n"
        "/baru — mencatat informasi yang dikecualikan: judul, uraian, dasar hukum Pasal 17, "
        "uji konsekuensi, jangka waktu, lalu kirim softcopy (PDF/Office/gambar sebagai "
        "berkas, atau foto). Terakhir konfirmasi bahwa data sudah diperbarui dan terverifikasi."
    ),
    Role.PETUGAS_DOKUMENTASI: (
        "<b>Petugas Dokumentasi (langkah 2)</b>\n"
        "/serahkan — berkas yang menunggu didata dan diserahkan ke Pejabat PPID. Periksa "
        "ringkasan dan softcopy, lalu tekan tombol serahkan (atau kembalikan ke langkah 1)."
    ),
    Role.PEJABAT_PPID: (
        "<b>Pejabat PPID (langkah 3)</b>\n"
        "Anda menerima pemberitahuan berisi ringkasan dan softcopy. Tekan <i>Terima &amp; "
        "simpan</i> untuk menyimpan ke penyimpanan internal PPID (checksum diverifikasi dan nomor "
        "register diberikan), atau <i>Kembalikan</i> dengan alasan. Uji konsekuensi harus "
        "lengkap lebih dulu: tombol <i>Lengkapi uji konsekuensi</i> menanyakan yang kurang."
    ),
    Role.ADMIN: (
        "<b>Admin</b>\n"
        "/undang — membuat tautan undangan sekali pakai (berlaku 24 jam) untuk suatu peran\n"
        "/undangan — undangan yang belum dipakai, dan membatalkannya\n"
        "/pengguna — daftar pengguna dan peran (juga siapa yang belum membuka bot), serta "
        "mencabut peran\n"
        "/ringkasan — langkah terbuka per langkah dan per orang, yang terlambat lebih dulu, "
        "dan pemberitahuan yang tidak sampai\n"
        "/libur — hari libur dan jam kerja kantor; /libur tambah atau /libur hapus tanggal"
    ),
}
