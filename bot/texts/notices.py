"""What people are told when a record moves, and what an actor learns about who was told."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from bot.texts import STEP_NAMES, WIB, h, wib
from sop.model import RecordView, Step
from sop.notices import Reason

NEXT_STEP = "📥 <b>{number}</b> menunggu Anda\n{title}\n{step} · batas waktu {due}"
RETURNED = (
    "↩️ <b>{number}</b> dikembalikan ke {step} oleh {who}.\n"
    "Alasan: <i>{reason}</i>\n"
    "Batas waktu baru: {due}"
)
RETURN_INFO = (
    "↩️ <b>{number}</b> “{title}”, yang pernah Anda tangani, dikembalikan ke {step} "
    "oleh {who}.\nAlasan: <i>{reason}</i>"
)
STORED = (
    "✅ <b>{number}</b> “{title}” telah diterima dan disimpan di penyimpanan internal PPID "
    "oleh {who}. Checksum salinan cocok."
)
CORRECTED = "✏️ Data <b>{number}</b> “{title}” diperbaiki oleh {who}: {fields}."
EARLIER_RETURN = "↩️ Sebelumnya dikembalikan oleh {who} pada {when}. Alasan: <i>{reason}</i>"
UNREACHABLE = (
    "⚠️ <b>Pemberitahuan tidak sampai</b> kepada {who} ({reason}){about}.\n"
    "Mohon hubungi yang bersangkutan langsung. Pemberitahuannya dikirim ulang begitu ia "
    "menulis lagi ke bot. Ringkasan: /ringkasan"
)
UNREACHABLE_ABOUT = " tentang <b>{number}</b>"
REPORT = "⚠️ Pemberitahuan {about}tidak sampai kepada: {names}. Mohon hubungi langsung."
REPORT_ABOUT = "tentang <b>{number}</b> "

#: Why a notice did not reach someone, as the actor and the admins read it.
REASONS = {
    Reason.BLOCKED: "memblokir bot",
    Reason.NOT_STARTED: "belum membuka bot",
    Reason.DEACTIVATED: "akun Telegram tidak aktif",
    Reason.REFUSED: "pesan ditolak Telegram",
    Reason.FAILED: "Telegram tidak dapat dihubungi",
}
FIELD_LABELS = {
    "title": "judul",
    "division_id": "bagian",
    "description": "uraian",
    "pasal17": "dasar hukum",
    "other_legal_basis": "dasar hukum lain",
    "consequence": "uji konsekuensi",
    "period": "jangka waktu",
    "classified_by": "pejabat yang menetapkan",
    "classified_place": "tempat penetapan",
    "classified_date": "tanggal penetapan",
}

# -- what the actor is told about their notices -----------------------------------------
NOT_REACHED = "⚠️ Tidak dapat dihubungi: {names}. Mohon hubungi langsung."
STILL_SENDING = "⏳ Masih dikirim kepada: {names}. Bila tidak sampai, Anda akan diberi tahu."


def names(people: Sequence[str]) -> str:
    return ", ".join(h(name) for name in people)


def with_reasons(failed: Sequence[tuple[str, Reason | None]]) -> str:
    return ", ".join(f"{h(name)} ({REASONS[reason or Reason.FAILED]})" for name, reason in failed)


def reach_lines(failed: Sequence[tuple[str, Reason | None]], sending: Sequence[str]) -> list[str]:
    """The lines that follow "X was told": who could not be reached, who is still pending."""
    lines = []
    if failed:
        lines.append(NOT_REACHED.format(names=with_reasons(failed)))
    if sending:
        lines.append(STILL_SENDING.format(names=names(sending)))
    return lines


def earlier_return(record: RecordView, tz: ZoneInfo = WIB) -> str | None:
    """The latest return of a record that came back, with its reason, or None."""
    returned = [run for run in record.runs if run.outcome == "returned" and run.completed_at]
    if not returned:
        return None
    run = returned[-1]
    assert run.completed_at is not None
    return EARLIER_RETURN.format(
        who=h(run.completed_by_name or "?"),
        when=wib(run.completed_at, tz),
        reason=h(run.reason or "-"),
    )


def next_step(record: RecordView, tz: ZoneInfo = WIB) -> str:
    run = record.current_run
    assert run is not None
    text = NEXT_STEP.format(
        number=h(record.number),
        title=h(record.fields.title),
        step=STEP_NAMES[run.step],
        due=wib(run.due_at, tz),
    )
    earlier = earlier_return(record, tz) if run.attempt > 1 else None
    return f"{text}\n{earlier}" if earlier else text


def returned(record: RecordView, who: str, reason: str, tz: ZoneInfo = WIB) -> str:
    run = record.current_run
    assert run is not None
    return RETURNED.format(
        number=h(record.number),
        step=STEP_NAMES[run.step],
        who=h(who),
        reason=h(reason),
        due=wib(run.due_at, tz),
    )


def return_info(record: RecordView, who: str, reason: str, to_step: int) -> str:
    return RETURN_INFO.format(
        number=h(record.number),
        title=h(record.fields.title),
        step=STEP_NAMES[Step(to_step)],
        who=h(who),
        reason=h(reason),
    )


def stored(record: RecordView, who: str) -> str:
    return STORED.format(number=h(record.number), title=h(record.fields.title), who=h(who))


def corrected(record: RecordView, who: str, fields: Sequence[str]) -> str:
    labels = ", ".join(FIELD_LABELS.get(name, name) for name in fields) or "-"
    return CORRECTED.format(
        number=h(record.number), title=h(record.fields.title), who=h(who), fields=labels
    )


def unreachable(who: str, reason: Reason, number: str | None) -> str:
    about = UNREACHABLE_ABOUT.format(number=h(number)) if number else ""
    return UNREACHABLE.format(who=h(who), reason=REASONS[reason], about=about)


def report(failed: Sequence[tuple[str, Reason | None]], number: str | None) -> str:
    about = REPORT_ABOUT.format(number=h(number)) if number else ""
    return REPORT.format(about=about, names=with_reasons(failed))
