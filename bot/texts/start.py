"""Greeting, registration and help."""

from __future__ import annotations

from sop.model import Role

WELCOME = (
    "Selamat datang, {name}.\n"
    "Anda terdaftar sebagai: <b>{roles}</b>.\n\n"
    "Bot ini menjalankan SOP No. 25 Tahun 2021 tentang Pendokumentasian Informasi Publik "
    "yang Dikecualikan. Ketik /tugas untuk melihat yang menunggu Anda, atau /bantuan."
)
REGISTERED = (
    "✅ Pendaftaran berhasil. Anda sekarang terdaftar sebagai <b>{role}</b>{division}.\n"
    "Ketik /bantuan untuk melihat apa yang dapat Anda lakukan."
)

HELP_INTRO = (
    "<b>Bantuan ppidbot</b>\n"
    "SOP 25/2021: setiap langkah memiliki standar waktu 1 jam. Semua waktu dalam WIB."
)
HELP_COMMON = (
    "/tugas — yang menunggu Anda, dengan batas waktunya\n"
    "/berkas &lt;nomor&gt; — rincian satu berkas, riwayat dan softcopy\n"
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
        "simpan</i> untuk menyimpan ke storage internal PPID (checksum diverifikasi dan nomor "
        "register diberikan), atau <i>Kembalikan</i> dengan alasan."
    ),
    Role.ADMIN: (
        "<b>Admin</b>\n"
        "/undang — membuat tautan undangan sekali pakai (berlaku 24 jam) untuk suatu peran\n"
        "/pengguna — daftar pengguna dan peran, serta mencabut peran\n"
        "/libur — hari libur dan jam kerja kantor; /libur tambah atau /libur hapus tanggal"
    ),
}
