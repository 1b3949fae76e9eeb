"""What people are told when a record moves."""

from __future__ import annotations

NEXT_STEP = "📥 <b>{number}</b> menunggu Anda\n{title}\n{step} · batas waktu {due}"
RETURNED = (
    "↩️ <b>{number}</b> dikembalikan ke {step} oleh {who}.\n"
    "Alasan: <i>{reason}</i>\n"
    "Batas waktu baru: {due}"
)
STORED = (
    "✅ <b>{number}</b> “{title}” telah diterima dan disimpan di penyimpanan internal PPID "
    "oleh {who}. Checksum salinan cocok."
)
