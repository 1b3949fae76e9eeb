"""How a record, its steps and a task list read on a phone."""

from __future__ import annotations

from datetime import date, datetime
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
from bot.texts import papers as paper_texts
from bot.texts.register import holders_text
from sop.model import (
    DurationUnit,
    ExemptionPeriod,
    PeriodKind,
    RecordView,
    State,
    StepRunView,
    Task,
)
from sop.papers import missing_for_consequence_test
from sop.register import RecordDetails, StepTime, TrailEntry
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


TRAIL_TITLE = "Jejak audit"

#: Room a card may take (Telegram allows 4096 characters; captions and markup need less).
CARD_LIMIT = 3900
FILES_SHOWN = 10
AUDIT_ACTIONS = {
    "record.created": "berkas dibuat",
    "record.updated": "data diperbarui",
    "record.returned": "dikembalikan",
    "record.cancelled": "dibatalkan",
    "record.opened": "ditandai dibuka",
    "file.stored": "softcopy disimpan",
    "file.detached": "softcopy dilepas",
    "file.read": "softcopy diunduh",
    "file.merged": "foto digabung menjadi PDF",
    "file.moved": "softcopy dipindah ke penyimpanan bagian baru",
    "file.sent": "softcopy dikirim",
    "step1.done": "langkah 1 selesai",
    "step2.done": "langkah 2 selesai (diserahkan)",
    "step3.done": "langkah 3 selesai (diterima dan disimpan)",
    "integrity.failed": "verifikasi checksum gagal",
    "expiry.notified": "pemberitahuan akhir masa pengecualian",
}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _moment(moment: datetime, same_day_as: datetime, tz: ZoneInfo) -> str:
    """The full WIB time, or only the clock when it is the same day as ``same_day_as``."""
    local = moment.astimezone(tz)
    if local.date() == same_day_as.astimezone(tz).date():
        return f"{local.hour:02d}.{local.minute:02d}"
    return wib(moment, tz)


def _run_lines(
    step_run: StepRunView, now: datetime, tz: ZoneInfo, time: StepTime | None
) -> list[str]:
    """A step run: what happened and who did it, its start, due and finish, time taken."""
    status = OUTCOME_NAMES.get(step_run.outcome or "", "berjalan")
    attempt = f", putaran ke-{step_run.attempt}" if step_run.attempt > 1 else ""
    who = f" oleh {h(step_run.completed_by_name)}" if step_run.completed_by_name else ""
    mark = ""
    late = step_run.lateness(now)
    if step_run.outcome in {"done", "returned"}:
        mark = f", terlambat {durasi(late)}" if late else ", tepat waktu"
    elif step_run.completed_at is None and late:
        mark = f", terlambat {durasi(late)}"
    start = step_run.started_at
    times = f"  mulai {wib(start, tz)} · batas {_moment(step_run.due_at, start, tz)}"
    if step_run.completed_at is not None:
        times += f" · selesai {_moment(step_run.completed_at, start, tz)}"
    lines = [f"• {STEP_NAMES[step_run.step]}{attempt}: {status}{who}{mark}", times]
    if step_run.outcome == "returned" and step_run.reason:
        lines.append(f"  alasan: <i>{h(_clip(step_run.reason, 300))}</i>")
    if time is not None:
        spent = f"  waktu kerja {durasi(time.working)}"
        if time.wall != time.working:
            spent += f" (waktu kalender {durasi(time.wall)})"
        lines.append(spent)
    return lines


def _trail_line(entry: TrailEntry, tz: ZoneInfo) -> str:
    local = entry.at.astimezone(tz)
    what = AUDIT_ACTIONS.get(entry.action, entry.action)
    details = entry.details
    if entry.action == "file.sent" and details.get("name"):
        what += f" ke {details.get('to_name', '?')}: {_clip(str(details['name']), 60)}"
    elif entry.action in {
        "file.stored",
        "file.read",
        "file.detached",
        "file.moved",
    } and details.get("name"):
        what += f": {_clip(str(details['name']), 60)}"
    elif entry.action == "file.merged" and isinstance(photos := details.get("photos"), list):
        what += f": {len(photos)} foto → {_clip(str(details.get('name', '')), 60)}"
    elif entry.action == "step3.done" and details.get("register_number"):
        what += f", nomor {details['register_number']}"
    elif entry.action == "record.returned":
        what += f" ke langkah {details.get('to_step')}: {_clip(str(details.get('reason', '')), 80)}"
    elif entry.action == "record.updated":
        what += f": {changes_text(details)}"
    elif entry.action == "record.cancelled" and details.get("reason"):
        what += f": {_clip(str(details['reason']), 80)}"
    elif entry.action == "record.opened" and details.get("opened_on"):
        what += f" sejak {tanggal(date.fromisoformat(str(details['opened_on'])))}"
    elif entry.action == "expiry.notified" and details.get("kind"):
        what += f" ({details['kind']})"
    who = h(entry.actor_name) if entry.actor_name else "sistem"
    return f"• #{entry.seq} {local:%d-%m-%Y %H.%M} WIB · {who} · {h(what)}"


#: The record's fields as the audit trail names them.
FIELD_NAMES = {
    "title": "judul",
    "division_id": "bagian",
    "description": "uraian",
    "pasal17": "Pasal 17",
    "other_legal_basis": "dasar hukum lain",
    "consequence": "uji konsekuensi",
    "period": "jangka waktu",
    "classified_by": "pejabat yang menetapkan",
    "classified_place": "tempat penetapan",
    "classified_date": "tanggal penetapan",
}
CHANGE_VALUE_LIMIT = 40
EMPTY_VALUE = "(kosong)"


def changes_text(details: dict[str, object]) -> str:
    """``judul «Lama» → «Baru»; uraian «…» → «…»`` (values shortened); entries written
    before old and new values were kept name only the fields."""
    changes = details.get("changes")
    if not isinstance(changes, dict) or not changes:
        fields = details.get("fields")
        names = (
            [FIELD_NAMES.get(str(f), str(f)) for f in fields] if isinstance(fields, list) else []
        )
        return ", ".join(names) or "-"
    parts = []
    for name, change in changes.items():
        old = change.get("old") if isinstance(change, dict) else None
        new = change.get("new") if isinstance(change, dict) else None
        parts.append(
            f"{FIELD_NAMES.get(name, name)} «{_change_value(name, old)}» → "
            f"«{_change_value(name, new)}»"
        )
    return "; ".join(parts)


def _change_value(name: str, value: object) -> str:
    if value is None or value == "" or value == []:
        return EMPTY_VALUE
    if name == "division_id" and isinstance(value, dict):
        text = str(value.get("name") or value.get("id"))
    elif name == "period" and isinstance(value, dict):
        text = _period_value(value)
    elif name == "classified_date" and isinstance(value, str):
        try:
            text = tanggal(date.fromisoformat(value))
        except ValueError:
            text = value
    elif isinstance(value, list):
        text = ", ".join(str(item) for item in value)
    else:
        text = str(value)
    return _clip(" ".join(text.split()), CHANGE_VALUE_LIMIT)


def _period_value(value: dict[str, object]) -> str:
    try:
        until = value.get("until")
        unit = value.get("unit")
        amount = value.get("amount")
        period = ExemptionPeriod(
            kind=PeriodKind(str(value["kind"])),
            until=date.fromisoformat(until) if isinstance(until, str) else None,
            amount=amount if isinstance(amount, int) else None,
            unit=DurationUnit(str(unit)) if unit else None,
            condition=str(value["condition"]) if value.get("condition") else None,
        )
    except (KeyError, ValueError):
        return str(value.get("kind", "?"))
    return period_text(period)


def _trail(details: RecordDetails, room: int, tz: ZoneInfo) -> str:
    """The latest audit entries that fit in ``room`` characters, oldest first."""
    lines: list[str] = []
    used = 80
    for entry in reversed(details.trail):
        line = _trail_line(entry, tz)
        if used + len(line) + 1 > room:
            break
        lines.insert(0, line)
        used += len(line) + 1
    if not lines:
        return ""
    count = details.trail_total
    header = f"{TRAIL_TITLE} ({count} entri"
    header += f", {len(lines)} terakhir):" if len(lines) < count else "):"
    return "\n".join([header, *lines])


def card(
    record: RecordView, now: datetime, tz: ZoneInfo = WIB, *, details: RecordDetails | None = None
) -> str:
    """Summary, status with due time, files with their SHA-256 and each step's start, due
    and finish; with ``details`` also the exemption's end, the opened day, the time each
    step took and the latest audit entries."""
    lines = [summary(record)]
    if details is not None:
        if details.ends_on is not None and record.fields.period.kind is PeriodKind.DURATION:
            lines.append(f"Pengecualian berakhir: {tanggal(details.ends_on)}")
        if details.opened_on is not None:
            lines.append(f"🔓 <b>Dibuka</b> untuk publik sejak {tanggal(details.opened_on)}")
    lines += ["", f"Status: <b>{STATE_NAMES[record.state]}</b>"]
    run = record.current_run
    if run is not None:
        late = run.lateness(now)
        due = f"Batas waktu: {wib(run.due_at, tz)}"
        if late:
            due += f" (terlambat {durasi(late)})"
        lines.append(due)
        if details is not None:
            lines.append(f"Menunggu: {holders_text(details.holders)}")
    missing = missing_for_consequence_test(record)
    if missing and record.state in {State.DRAFT, State.SUBMITTED, State.REGISTERED}:
        parts = paper_texts.missing_names(missing)
        lines.append(f"📝 {paper_texts.CARD_TEST_INCOMPLETE.format(parts=parts)}")
    if record.return_reason and record.state.value in {"draft", "submitted"}:
        lines.append(f"Dikembalikan dengan alasan: <i>{h(record.return_reason)}</i>")
    elif record.return_reason and record.state is State.CANCELLED:
        lines.append(f"Alasan pembatalan: <i>{h(record.return_reason)}</i>")
    division_files = [f for f in record.files if f.area == Area.DIVISION]
    ppid_files = [f for f in record.files if f.area == Area.PPID]
    if division_files:
        lines.append("")
        lines.append(f"Softcopy ({len(division_files)}):")
        for f in division_files[:FILES_SHOWN]:
            lines.append(f"• {h(_clip(f.original_name, 80))} ({format_size(f.size)})")
            lines.append(f"  SHA-256 <code>{f.sha256}</code>")
        if len(division_files) > FILES_SHOWN:
            lines.append(f"  … dan {len(division_files) - FILES_SHOWN} softcopy lainnya")
    if ppid_files:
        lines.append(
            f"Tersimpan di penyimpanan internal PPID: {len(ppid_files)} berkas, checksum cocok."
        )
    if record.runs:
        lines.append("")
        lines.append("Riwayat:")
        for step_run in record.runs:
            time = details.time_of(step_run) if details is not None else None
            lines.extend(_run_lines(step_run, now, tz, time))
    text = "\n".join(lines)
    if details is not None and details.trail:
        trail = _trail(details, CARD_LIMIT - len(text), tz)
        if trail:
            text += "\n\n" + trail
    return text


def task_line(task: Task, now: datetime, tz: ZoneInfo = WIB) -> str:
    due = wib(task.due_at, tz)
    if not task.overdue:
        state = f"batas {due}"
    elif task.late_working == task.late_wall:
        state = f"⚠️ TERLAMBAT {durasi(task.late_wall)} (batas {due})"
    else:  # the office calendar: lateness in office time, wall-clock time beside it
        state = (
            f"⚠️ TERLAMBAT {durasi(task.late_working)} jam kerja "
            f"({durasi(task.late_wall)} sejak batas {due})"
        )
    return (
        f"• <b>{h(task.record.number)}</b> {h(task.record.fields.title)}\n"
        f"  {STEP_NAMES[task.step]}, {state}"
    )


NO_TASKS = "Tidak ada tugas yang menunggu Anda saat ini. 👍"
TASKS_HEADER = "<b>Tugas Anda</b> ({count}):"
MORE_TASKS = "… dan {count} tugas lain (yang batas waktunya lebih lama)."
MAX_TASKS_SHOWN = 20
TASKS_TEXT_BUDGET = 3800  # below Telegram's 4096 characters per message
BERKAS_USAGE = "Tulis nomor berkas, misalnya: /berkas DIK-2026-0001 atau /berkas BRK-12"
FILES_SENT = "Softcopy berkas {number} dikirim di atas."
NO_FILES = "Berkas ini belum memiliki softcopy."
BUTTON_OPEN = "Buka {number}"
BUTTON_FILES = "📎 Unduh softcopy"
BUTTON_HANDOVER = "✅ Daftarkan & serahkan ke Pejabat PPID"
BUTTON_ACCEPT = "✅ Terima & simpan"
BUTTON_RETURN = "↩️ Kembalikan"
BUTTON_REDO = "✏️ Perbaiki (langkah 1)"
