"""Reminders before a step's deadline, and what is said when the deadline has passed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.texts import STEP_NAMES, WIB, durasi, h, wib
from sop.model import Actor, RecordView, Step

REMINDER = (
    "⏰ <b>Pengingat</b>: <b>{number}</b> · {title}\n"
    "{step} menunggu Anda, sisa {left} (batas waktu {due})."
)
REMINDER_LATE = "\n<i>Pengingat ini tertunda karena layanan bot sempat tidak aktif.</i>"
OVERDUE_ACTOR = (
    "⚠️ <b>Batas waktu terlewati</b>: <b>{number}</b> · {title}\n"
    "{step} belum selesai; batas waktunya {due}. Mohon segera diselesaikan."
)
ESCALATION = (
    "🚨 <b>Terlambat</b>: <b>{number}</b> · {title}\n"
    "{step} belum selesai sejak {due}.\n"
    "Menunggu: {who}."
)
NOBODY = "belum ada petugas dengan peran ini"


def reminder(
    record: RecordView,
    step: Step,
    due_at: datetime,
    left: timedelta,
    *,
    late: bool,
    tz: ZoneInfo = WIB,
) -> str:
    """A reminder: which record, which step, how much time is left and until when."""
    text = REMINDER.format(
        number=h(record.number),
        title=h(record.fields.title),
        step=STEP_NAMES[step],
        left=durasi(left),
        due=wib(due_at, tz),
    )
    return text + REMINDER_LATE if late else text


def overdue_actor(record: RecordView, step: Step, due_at: datetime, tz: ZoneInfo = WIB) -> str:
    """To the people the step waits on, once its deadline has passed."""
    return OVERDUE_ACTOR.format(
        number=h(record.number),
        title=h(record.fields.title),
        step=STEP_NAMES[step],
        due=wib(due_at, tz),
    )


def escalation(
    record: RecordView, step: Step, due_at: datetime, actors: Sequence[Actor], tz: ZoneInfo = WIB
) -> str:
    """To the Pejabat PPID and admins: which step is late since when, and who it waits on."""
    who = ", ".join(h(actor.full_name) for actor in actors) or NOBODY
    return ESCALATION.format(
        number=h(record.number),
        title=h(record.fields.title),
        step=STEP_NAMES[step],
        due=wib(due_at, tz),
        who=who,
    )
