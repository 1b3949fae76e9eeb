"""Texts of the daily backup (Bahasa Indonesia)."""

BACKUP_FAILED = (
    "⚠️ <b>Cadangan harian gagal dibuat</b>\n"
    "Data dan berkas malam ini belum dicadangkan. Mohon minta pengelola server memeriksa "
    "log bot dan ruang di folder cadangan, lalu menjalankan <code>ppidbot backup</code>."
)
