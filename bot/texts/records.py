"""How a record, its steps and a task list read on a phone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.texts import (
    OUTCOME_NAMES,
    STATE_NAMES,
    STEP_NAMES,
    WIB,
    durasi,
    h,
    legal_basis,
    period_text,
    tanggal,
    wib,
)
from sop.model import RecordView, Task
from sop.service import format_size
from storage import Area


def summary(record: RecordView) -> str:
    """The fields the law asks for, short."""
    f = record.fields
    return (
        f"<b>{h(record.number)}</b> · {h(f.title)}\n"
        f"Bagian: {h(record.division_name)}\n"
        f"Uraian: {h(f.description)}\n"
        f"Dasar hukum: {h(legal_basis(f.pasal17, f.other_legal_basis))}\n"
        f"Uji konsekuensi: {h(f.consequence)}\n"
        f"Jangka waktu: {h(period_text(f.period))}\n"
        f"Ditetapkan: {h(f.classified_by)}, {h(f.classified_place)}, "
        f"{tanggal(f.classified_date)}"
    )


def card(record: RecordView, now: datetime, tz: ZoneInfo = WIB) -> str:
    """Summary, status with due time, files and the timeline of steps."""
    lines = [summary(record), "", f"Status: <b>{STATE_NAMES[record.state]}</b>"]
    run = record.current_run
    if run is not None:
        late = run.lateness(now)
        due = f"Batas waktu: {wib(run.due_at, tz)}"
        if late:
            due += f" (terlambat {durasi(late)})"
        lines.append(due)
    if record.return_reason and record.state.value in {"draft", "submitted"}:
        lines.append(f"Dikembalikan dengan alasan: <i>{h(record.return_reason)}</i>")
    division_files = [f for f in record.files if f.area == Area.DIVISION]
    ppid_files = [f for f in record.files if f.area == Area.PPID]
    if division_files:
        lines.append("")
        lines.append(f"Softcopy ({len(division_files)}):")
        lines.extend(
            f"• {h(f.original_name)} ({format_size(f.size)}, SHA-256 {f.sha256[:12]}…)"
            for f in division_files
        )
    if ppid_files:
        lines.append(
            f"Tersimpan di storage internal PPID: {len(ppid_files)} berkas, checksum cocok."
        )
    if record.runs:
        lines.append("")
        lines.append("Riwayat:")
        for step_run in record.runs:
            status = OUTCOME_NAMES.get(step_run.outcome or "", "berjalan")
            who = f" oleh {h(step_run.completed_by_name)}" if step_run.completed_by_name else ""
            when = f" {wib(step_run.completed_at, tz)}" if step_run.completed_at else ""
            on_time = ""
            if step_run.completed_at is not None and step_run.outcome == "done":
                late = step_run.lateness(now)
                on_time = f" (terlambat {durasi(late)})" if late else " (tepat waktu)"
            lines.append(f"• {STEP_NAMES[step_run.step]}: {status}{who}{when}{on_time}")
    return "\n".join(lines)


def task_line(task: Task, now: datetime, tz: ZoneInfo = WIB) -> str:
    state = "⚠️ TERLAMBAT " + durasi(now - task.due_at) if task.overdue else "batas"
    return (
        f"• <b>{h(task.record.number)}</b> {h(task.record.fields.title)}\n"
        f"  {STEP_NAMES[task.step]}, {state} {wib(task.due_at, tz)}"
    )


NO_TASKS = "Tidak ada tugas yang menunggu Anda saat ini. 👍"
TASKS_HEADER = "<b>Tugas Anda</b> ({count}):"
BERKAS_USAGE = "Tulis nomor berkas, misalnya: /berkas DIK-2026-0001 atau /berkas BRK-12"
FILES_SENT = "Softcopy berkas {number} dikirim di atas."
NO_FILES = "Berkas ini belum memiliki softcopy."
BUTTON_OPEN = "Buka {number}"
BUTTON_FILES = "📎 Unduh softcopy"
BUTTON_HANDOVER = "✅ Daftarkan & serahkan ke Pejabat PPID"
BUTTON_ACCEPT = "✅ Terima & simpan"
BUTTON_RETURN = "↩️ Kembalikan"
BUTTON_REDO = "✏️ Perbaiki (langkah 1)"
