"""The admins' overview (/ringkasan) and the list of notices that did not arrive."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.texts import ROLE_NAMES, STEP_NAMES, WIB, durasi, h, wib
from bot.texts.notices import REASONS
from sop.model import Role, Step
from sop.notices import NoticeKind, Reason
from sop.outbox import Failures, NoticeResult
from sop.overview import Load, Overview

ADMIN_ONLY = "Maaf, /ringkasan hanya untuk admin PPID."
HEADER = "📊 <b>Ringkasan</b> · {at}"
NOTHING_OPEN = "Tidak ada langkah yang terbuka. 👍"
LATE_HEADER = "<b>Terlambat</b> ({count}, yang paling lama dahulu):"
LATE_LINE = "• <b>{number}</b> {title}\n  {step}, terlambat {late} (batas {due})"
LATE_MORE = "  … dan {count} lainnya"
STEPS_HEADER = "<b>Langkah terbuka</b>: {load}"
STEP_LINE = "• {step}: {load}"
PEOPLE_HEADER = "<b>Per orang</b> (menunggu mereka):"
PERSON_LINE = "• {name} ({roles}): {load}"
PEOPLE_MORE = "  … dan {count} orang lainnya"
PEOPLE_SHOWN = 15
FAILURES_HEADER = "⚠️ <b>Pemberitahuan yang tidak sampai</b> ({count}):"
FAILURE_LINE = "• {number}{kind} → {who} ({reason}), {at}"
FAILURES_MORE = "  … dan {count} lainnya"
FAILURES_HINT = (
    "Hubungi mereka langsung. Pemberitahuannya dikirim ulang begitu mereka menulis lagi ke bot."
)

#: What a notice was about, in a word or two.
KIND_NAMES = {
    NoticeKind.NEXT_STEP: "tugas langkah berikutnya",
    NoticeKind.RECEIVE: "penerimaan langkah 3",
    NoticeKind.RETURNED: "pengembalian",
    NoticeKind.RETURN_INFO: "pengembalian",
    NoticeKind.STORED: "berkas disimpan",
    NoticeKind.CORRECTED: "perbaikan data",
    NoticeKind.MESSAGE: "pesan",
    NoticeKind.REMINDER: "pengingat",
    NoticeKind.UNREACHABLE: "peringatan untuk admin",
    NoticeKind.REPORT: "laporan pengiriman",
}


def load_text(load: Load) -> str:
    if load.overdue:
        return f"{load.open} ({load.overdue} terlambat)"
    return str(load.open)


def failure_line(result: NoticeResult, tz: ZoneInfo = WIB) -> str:
    number = f"<b>{h(result.record_number)}</b> · " if result.record_number else ""
    return FAILURE_LINE.format(
        number=number,
        kind=KIND_NAMES.get(result.kind, str(result.kind)),
        who=h(result.recipient_name),
        reason=REASONS[result.reason or Reason.FAILED],
        at=wib(result.created_at, tz),
    )


def failures(found: Failures, tz: ZoneInfo = WIB) -> list[str]:
    """The section on undelivered notices; no lines when there are none."""
    if not found.total:
        return []
    lines = [FAILURES_HEADER.format(count=found.total)]
    lines += [failure_line(result, tz) for result in found.latest]
    if found.total > len(found.latest):
        lines.append(FAILURES_MORE.format(count=found.total - len(found.latest)))
    lines.append(FAILURES_HINT)
    return lines


def overview(view: Overview, now: datetime, tz: ZoneInfo = WIB) -> str:
    lines = [HEADER.format(at=wib(view.at, tz)), ""]
    total = view.total
    if view.late:
        lines.append(LATE_HEADER.format(count=view.late_total))
        for late in view.late:
            lines.append(
                LATE_LINE.format(
                    number=h(late.number),
                    title=h(late.title if len(late.title) <= 80 else late.title[:79] + "…"),
                    step=STEP_NAMES[late.step],
                    late=durasi(now - late.due_at),
                    due=wib(late.due_at, tz),
                )
            )
        if view.late_total > len(view.late):
            lines.append(LATE_MORE.format(count=view.late_total - len(view.late)))
        lines.append("")
    if not total.open:
        lines.append(NOTHING_OPEN)
    else:
        lines.append(STEPS_HEADER.format(load=load_text(total)))
        for step in Step:
            load = view.steps.get(step, Load())
            lines.append(STEP_LINE.format(step=STEP_NAMES[step], load=load_text(load)))
        if view.people:
            lines.append("")
            lines.append(PEOPLE_HEADER)
            for person in view.people[:PEOPLE_SHOWN]:
                roles = ", ".join(ROLE_NAMES[r] for r in Role if r in person.roles)
                lines.append(
                    PERSON_LINE.format(
                        name=h(person.name), roles=roles, load=load_text(person.load)
                    )
                )
            if len(view.people) > PEOPLE_SHOWN:
                lines.append(PEOPLE_MORE.format(count=len(view.people) - PEOPLE_SHOWN))
    section = failures(view.failures, tz)
    if section:
        lines.append("")
        lines += section
    return "\n".join(lines)
