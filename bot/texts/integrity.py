"""The weekly integrity check, as the admins read it in Telegram."""

from __future__ import annotations

from bot.texts import durasi, h, wib
from sop.integrity import IntegrityReport

#: How many overdue records are named before "dan N lainnya".
MAX_NAMED = 5

TITLE = "⚠️ <b>Pemeriksaan integritas mingguan menemukan masalah</b>"
ADVICE = (
    "Rinciannya dapat dilihat oleh pengelola server dengan menjalankan <code>ppidbot check</code>."
)

ONLY_LATE = "Tidak ada kerusakan berkas atau log audit; yang ditemukan hanya keterlambatan."

CHECK_FAILED = (
    "⚠️ <b>Pemeriksaan integritas mingguan gagal dijalankan</b>\n"
    "Penyimpanan dan basis data belum dapat diperiksa. Mohon minta pengelola server "
    "memeriksa log bot dan menjalankan <code>ppidbot check</code>."
)


def summary(report: IntegrityReport) -> str:
    """A short Indonesian summary of what the checker found (for admins)."""
    lines = [TITLE, f"Diperiksa: {wib(report.checked_at)}", ""]
    if report.only_late:
        lines.extend([ONLY_LATE, ""])
    if report.missing_files:
        lines.append(f"• {len(report.missing_files)} berkas tersimpan hilang dari penyimpanan")
    if report.size_mismatches or report.checksum_mismatches:
        changed = report.damaged_files - len(report.missing_files)
        lines.append(
            f"• {changed} berkas tersimpan berubah isinya (ukuran atau checksum SHA-256 "
            "tidak cocok dengan catatan)"
        )
    if report.orphan_files:
        lines.append(
            f"• {len(report.orphan_files)} berkas di penyimpanan tidak tercatat "
            "pada berkas mana pun"
        )
    if report.overdue_steps:
        named = ", ".join(
            f"{h(p.record)} (langkah {int(p.step)}, terlambat {durasi(p.late)})"
            for p in report.overdue_steps[:MAX_NAMED]
        )
        more = len(report.overdue_steps) - MAX_NAMED
        rest = f" dan {more} lainnya" if more > 0 else ""
        lines.append(f"• {len(report.overdue_steps)} langkah melewati batas waktu: {named}{rest}")
    if report.audit_problems:
        lines.append(
            f"• Rantai hash log audit rusak ({len(report.audit_problems)} masalah): "
            "catatan audit mungkin telah diubah"
        )
    lines.extend(["", ADVICE])
    return "\n".join(lines)
