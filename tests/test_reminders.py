"""Each step's 1-hour clock: reminders before it, the escalation at it, across restarts.

Time is a ManualClock; nothing sleeps. Database tests run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from telegram.error import BadRequest, Forbidden, NetworkError
from telegram.ext import ApplicationBuilder

from bot.config import ConfigError, load_settings
from bot.reminders import WAKE_JOB, ReminderScheduler, ReminderSender
from db.models import ReminderSentRow
from sop.clock import ManualClock
from sop.deadlines import WallClockCalendar
from sop.model import Actor, RecordView, Step
from sop.reminder_service import Delivery, ReminderService
from sop.reminders import NoticeKind, QuietHours, due_now, plan
from sop.service import PpidService
from tests.conftest import PDF_BYTES, START, Office, chunks_of, sample_fields

WIB = ZoneInfo("Asia/Jakarta")
MIN = timedelta(minutes=1)
OFFSETS = (timedelta(minutes=30), timedelta(minutes=10))


def reminders_for(service: PpidService, **kwargs: Any) -> ReminderService:
    """A ReminderService as a fresh bot process would build it."""
    return ReminderService(service, offsets=OFFSETS, **kwargs)


async def new_draft(service: PpidService, office: Office, *, with_file: bool = False) -> RecordView:
    record = await service.create_draft(office.petugas, sample_fields())
    if with_file:
        await service.attach_file(
            office.petugas, record.id, chunks_of(PDF_BYTES), "surat.pdf", "application/pdf"
        )
    return record


def keys(deliveries: list[Delivery]) -> list[tuple[int, str, int]]:
    return [(d.record.id, d.notice.kind, d.notice.offset_seconds) for d in deliveries]


def names(actors: tuple[Actor, ...]) -> list[str]:
    return [a.full_name for a in actors]


async def sent_rows(service: PpidService) -> list[ReminderSentRow]:
    async with service.transaction() as repo:
        return list(
            (await repo.session.scalars(select(ReminderSentRow).order_by(ReminderSentRow.id))).all()
        )


# -- planning (pure) -------------------------------------------------------------------
def test_plan_reminders_before_due_and_escalation_at_due() -> None:
    due = START + timedelta(hours=1)
    notices = plan(1, Step.PRODUCE, START, due, OFFSETS, calendar=WallClockCalendar())
    assert [(n.kind, n.offset_seconds, n.at) for n in notices] == [
        (NoticeKind.REMIND, 1800, START + 30 * MIN),
        (NoticeKind.REMIND, 600, START + 50 * MIN),
        (NoticeKind.OVERDUE, 0, due),
    ]
    assert [n.job_name for n in notices] == ["remind:1:1:1800", "remind:1:1:600", "overdue:1:1"]


def test_plan_leaves_out_reminders_before_the_start_and_duplicate_offsets() -> None:
    due = START + timedelta(hours=1)
    offsets = [timedelta(hours=2), timedelta(hours=1), 10 * MIN, 10 * MIN, timedelta(0)]
    notices = plan(7, Step.RECEIVE, START, due, offsets, calendar=WallClockCalendar())
    assert [(n.kind, n.offset_seconds) for n in notices] == [
        (NoticeKind.REMIND, 600),
        (NoticeKind.OVERDUE, 0),
    ]


def test_plan_counts_back_with_the_calendar() -> None:
    class HalfSpeed:
        """A calendar where only every other minute counts (as a working-time one might)."""

        def add(self, start: datetime, duration: timedelta) -> datetime:
            return start + 2 * duration

        def subtract(self, end: datetime, duration: timedelta) -> datetime:
            return end - 2 * duration

    due = START + timedelta(hours=2)
    notices = plan(1, Step.PRODUCE, START, due, OFFSETS, calendar=HalfSpeed())  # type: ignore[arg-type]
    assert [n.at for n in notices] == [START + 60 * MIN, START + 100 * MIN, due]


def test_due_now_sends_only_the_latest_notice_whose_time_came() -> None:
    due = START + timedelta(hours=1)
    notices = plan(1, Step.PRODUCE, START, due, OFFSETS, calendar=WallClockCalendar())
    assert due_now(notices, set(), START + 29 * MIN) is None
    first = due_now(notices, set(), START + 30 * MIN)
    assert first is not None and first.offset_seconds == 1800
    assert due_now(notices, {first.key}, START + 49 * MIN) is None
    # Both reminders missed: only the nearer one, it tells the time really left.
    second = due_now(notices, set(), START + 55 * MIN)
    assert second is not None and second.offset_seconds == 600
    # Past the deadline, a missed reminder is superseded by the escalation.
    last = due_now(notices, {first.key}, START + 61 * MIN)
    assert last is not None and last.kind is NoticeKind.OVERDUE
    assert due_now(notices, {first.key, last.key}, START + 5 * 60 * MIN) is None


# -- quiet hours (pure) ----------------------------------------------------------------
def test_quiet_hours_parse_and_span_midnight() -> None:
    quiet = QuietHours.parse(" 21.00 - 06:00 ", WIB)
    assert (quiet.start, quiet.end, str(quiet)) == (time(21), time(6), "21:00-06:00")
    assert quiet.contains(datetime(2026, 11, 23, 21, 0, tzinfo=WIB))
    assert quiet.contains(datetime(2026, 11, 24, 5, 59, tzinfo=WIB))
    assert not quiet.contains(datetime(2026, 11, 24, 6, 0, tzinfo=WIB))
    assert not quiet.contains(datetime(2026, 11, 23, 20, 59, tzinfo=WIB))
    late_evening = datetime(2026, 11, 23, 22, 15, tzinfo=WIB).astimezone(UTC)
    assert quiet.release(late_evening) == datetime(2026, 11, 24, 6, 0, tzinfo=WIB)
    early_morning = datetime(2026, 11, 24, 3, 0, tzinfo=WIB)
    assert quiet.release(early_morning) == datetime(2026, 11, 24, 6, 0, tzinfo=WIB)
    noon = datetime(2026, 11, 24, 12, 0, tzinfo=WIB)
    assert quiet.release(noon) == noon
    lunch = QuietHours.parse("12:00-13:00", WIB)
    assert lunch.contains(noon) and not lunch.contains(noon + timedelta(hours=1))
    assert lunch.release(noon + 30 * MIN) == noon + timedelta(hours=1)


@pytest.mark.parametrize("text", ["21-06", "25:00-06:00", "21:00-06:75", "21:00-21:00", "malam"])
def test_quiet_hours_refuse_malformed_values(text: str) -> None:
    with pytest.raises(ValueError, match="quiet hours"):
        QuietHours.parse(text, WIB)
    with pytest.raises(ConfigError) as error:
        load_settings(_env_file=None, quiet_hours=text)
    assert "QUIET_HOURS" in str(error.value) and "\n" not in str(error.value)


def test_quiet_hours_setting_is_off_by_default_and_in_the_configured_zone() -> None:
    assert load_settings(_env_file=None).quiet_period is None
    assert load_settings(_env_file=None, quiet_hours="").quiet_period is None
    settings = load_settings(_env_file=None, quiet_hours="21:00-06:00", timezone="Asia/Makassar")
    assert settings.quiet_period == QuietHours(time(21), time(6), ZoneInfo("Asia/Makassar"))


def test_plan_holds_reminders_in_quiet_hours_but_not_the_escalation() -> None:
    quiet = QuietHours.parse("21:00-06:00", WIB)
    calendar = WallClockCalendar()
    # Started 05:20, due 06:20: the 05:50 reminder waits until 06:00; 06:10 is not quiet.
    start = datetime(2026, 11, 24, 5, 20, tzinfo=WIB)
    notices = plan(
        1, Step.PRODUCE, start, start + timedelta(hours=1), OFFSETS, calendar=calendar, quiet=quiet
    )
    assert [(n.kind, n.offset_seconds, n.at.astimezone(WIB).time()) for n in notices] == [
        (NoticeKind.REMIND, 1800, time(6, 0)),
        (NoticeKind.REMIND, 600, time(6, 10)),
        (NoticeKind.OVERDUE, 0, time(6, 20)),
    ]
    # Started 20:30, due 21:30: both reminders would wait past the due time; the
    # escalation goes out at 21:30, quiet hours or not.
    start = datetime(2026, 11, 23, 20, 30, tzinfo=WIB)
    notices = plan(
        1, Step.PRODUCE, start, start + timedelta(hours=1), OFFSETS, calendar=calendar, quiet=quiet
    )
    assert [(n.kind, n.at.astimezone(WIB).time()) for n in notices] == [
        (NoticeKind.OVERDUE, time(21, 30))
    ]
    # Started 04:50, due 06:20: two held reminders would both land on 06:00; one is kept.
    start = datetime(2026, 11, 24, 4, 50, tzinfo=WIB)
    offsets = [timedelta(minutes=40), timedelta(minutes=30)]
    due = start + timedelta(hours=1, minutes=30)
    notices = plan(1, Step.PRODUCE, start, due, offsets, calendar=calendar, quiet=quiet)
    assert [(n.kind, n.offset_seconds, n.at.astimezone(WIB).time()) for n in notices] == [
        (NoticeKind.REMIND, 1800, time(6, 0)),
        (NoticeKind.OVERDUE, 0, time(6, 20)),
    ]


# -- the database as the source of truth ------------------------------------------------
async def test_nothing_is_pending_before_its_time(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    reminders = reminders_for(service)
    record = await new_draft(service, office)
    assert [n.at for n in reminders.plan_for(record)] == [
        START + 30 * MIN,
        START + 50 * MIN,
        START + 60 * MIN,
    ]
    for minutes in (0, 10, 29):
        assert await reminders.pending(START + minutes * MIN) == []
    clock.set(START + 29 * MIN + timedelta(seconds=59))
    assert await reminders.claim_due() == []
    assert await sent_rows(service) == []


async def test_the_right_notices_at_each_moment(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    reminders = reminders_for(service)
    record = await new_draft(service, office)
    timeline: dict[int, list[tuple[int, str, int]]] = {}
    first: list[Delivery] = []
    for minutes in range(0, 75, 5):
        clock.set(START + minutes * MIN)
        claimed = await reminders.claim_due()
        if claimed:
            timeline[minutes] = keys(claimed)
            first.extend(claimed)
        assert await reminders.pending() == []  # what was claimed is no longer pending
    assert timeline == {
        30: [(record.id, "remind", 1800)],
        50: [(record.id, "remind", 600)],
        60: [(record.id, "overdue", 0)],
    }
    thirty, ten, overdue = first
    # Step 1 waits on the Petugas PPID of the record's division (not the other division).
    assert names(thirty.actors) == ["Rina Petugas"] and thirty.escalation == ()
    assert not thirty.late and not ten.late and not overdue.late
    assert names(overdue.actors) == ["Rina Petugas"]
    assert sorted(names(overdue.escalation)) == ["Admin 900", "Andi Pejabat", "Dewi Pejabat"]
    # The step run is marked overdue, and every notice is in the audit chain.
    view = await service.record(office.admin, record.id)
    assert view.current_run is not None and view.current_run.overdue_at == START + 60 * MIN
    trail = [e.action for e in await service.audit_trail(office.admin, record.id)]
    assert trail[-3:] == ["reminder.sent", "reminder.sent", "step.overdue"]
    assert await service.verify_audit_chain() == []
    rows = await sent_rows(service)
    assert [(r.kind, r.offset_seconds, r.sent_at, r.late) for r in rows] == [
        ("remind", 1800, START + 30 * MIN, False),
        ("remind", 600, START + 50 * MIN, False),
        ("overdue", 0, START + 60 * MIN, False),
    ]
    # /tugas shows the overdue task with how late it is.
    tasks = await service.tasks(office.petugas)
    assert [(t.record.id, t.overdue) for t in tasks] == [(record.id, True)]


async def test_completion_removes_pending_notices(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    reminders = reminders_for(service)
    record = await new_draft(service, office, with_file=True)
    clock.set(START + 25 * MIN)
    await service.complete_produce(office.petugas, record.id, verified=True)
    # Step 1's reminder at 08:30 never goes out; step 2 runs 08:25-09:25.
    assert await reminders.pending(START + 35 * MIN) == []
    clock.set(START + 55 * MIN)
    claimed = await reminders.claim_due()
    assert [(d.notice.step, d.notice.offset_seconds) for d in claimed] == [(Step.HANDOVER, 1800)]
    assert names(claimed[0].actors) == ["Sari Dokumentasi"]
    await service.complete_handover(office.dokumentasi, record.id)
    await service.complete_receive(office.pejabat, record.id)
    # A finished record has nothing pending, however late it gets.
    assert await reminders.pending(START + timedelta(days=3)) == []
    assert await reminders.next_due() is None  # nothing left to wake up for


async def test_cancelled_draft_has_nothing_pending(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    reminders = reminders_for(service)
    record = await new_draft(service, office)
    await service.cancel_draft(office.petugas, record.id, "Salah bagian")
    assert await reminders.pending(START + timedelta(hours=2)) == []


async def test_return_gives_the_reopened_step_fresh_reminders(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    reminders = reminders_for(service)
    record = await new_draft(service, office, with_file=True)
    clock.set(START + 40 * MIN)
    assert keys(await reminders.claim_due()) == [(record.id, "remind", 1800)]
    await service.complete_produce(office.petugas, record.id, verified=True)
    clock.set(START + 50 * MIN)
    outcome = await service.return_record(
        office.dokumentasi, record.id, Step.PRODUCE, "Lampiran belum ditandatangani"
    )
    run = outcome.record.current_run
    assert run is not None and (run.step, run.attempt) == (Step.PRODUCE, 2)
    # The earlier attempt's sent reminder does not count for the new attempt.
    assert await reminders.pending(START + 79 * MIN) == []
    clock.set(START + 80 * MIN)
    claimed = await reminders.claim_due()
    assert keys(claimed) == [(record.id, "remind", 1800)]
    assert claimed[0].notice.due_at == START + 110 * MIN
    assert names(claimed[0].actors) == ["Rina Petugas"]


async def test_restart_does_not_repeat_and_sends_missed_ones_once_marked_late(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    record = await new_draft(service, office)
    clock.set(START + 30 * MIN)
    assert keys(await reminders_for(service).claim_due()) == [(record.id, "remind", 1800)]
    # The bot stops; a fresh process starts a minute later: nothing is repeated.
    clock.set(START + 31 * MIN)
    assert await reminders_for(service).pending() == []
    assert await reminders_for(service).claim_due(catch_up=True) == []
    # Down again over the 10-minute reminder: the next start sends it once, late.
    clock.set(START + 53 * MIN)
    claimed = await reminders_for(service).claim_due(catch_up=True)
    assert [(k, d.late) for k, d in zip(keys(claimed), claimed, strict=True)] == [
        ((record.id, "remind", 600), True)
    ]
    assert await reminders_for(service).claim_due(catch_up=True) == []
    rows = await sent_rows(service)
    assert [(r.offset_seconds, r.late) for r in rows] == [(1800, False), (600, True)]


async def test_missed_notices_collapse_into_the_latest(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    reminders = reminders_for(service)
    early = await new_draft(service, office)
    clock.set(START + 5 * MIN)
    later = await new_draft(service, office)
    # Down from 08:00 to 09:02: the early draft is overdue, the later has 3 minutes left.
    clock.set(START + 62 * MIN)
    claimed = await reminders.claim_due(catch_up=True)
    assert sorted(keys(claimed)) == [(early.id, "overdue", 0), (later.id, "remind", 600)]
    assert all(d.late for d in claimed)
    # A notice that runs late while the bot is up counts as late too.
    clock.set(START + 70 * MIN)
    claimed = await reminders.claim_due()
    assert [(k, d.late) for k, d in zip(keys(claimed), claimed, strict=True)] == [
        ((later.id, "overdue", 0), True)
    ]


async def test_unconfirmed_claims_are_sent_again_at_the_next_start(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    record = await new_draft(service, office)
    other = await new_draft(service, office, with_file=True)
    clock.set(START + 30 * MIN)
    claimed = await reminders_for(service).claim_due()
    assert sorted(keys(claimed)) == [(record.id, "remind", 1800), (other.id, "remind", 1800)]
    # The process dies before sending; meanwhile the other record's step 1 is completed.
    await service.complete_produce(office.petugas, other.id, verified=True)
    fresh = reminders_for(service)
    again = await fresh.unconfirmed()
    assert keys(again) == [(record.id, "remind", 1800)] and again[0].late
    await fresh.confirm(again[0].claim_id, 1, late=again[0].late)
    assert await reminders_for(service).unconfirmed() == []
    rows = await sent_rows(service)
    assert sorted((r.recipients, r.delivered_at is not None, r.late) for r in rows) == [
        (0, True, False),  # the completed step's claim: settled, nobody told
        (1, True, True),  # sent again at the start, late
    ]


async def test_quiet_hours_hold_reminders_not_escalations(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    reminders = reminders_for(service, quiet_hours=QuietHours.parse("21:00-06:00", WIB))
    clock.set(datetime(2026, 11, 24, 5, 20, tzinfo=WIB))
    morning = await new_draft(service, office)
    clock.set(datetime(2026, 11, 24, 5, 55, tzinfo=WIB))
    assert await reminders.claim_due() == []  # the 05:50 reminder is held
    clock.set(datetime(2026, 11, 24, 6, 0, tzinfo=WIB))
    claimed = await reminders.claim_due()
    assert keys(claimed) == [(morning.id, "remind", 1800)] and not claimed[0].late

    clock.set(datetime(2026, 11, 24, 20, 30, tzinfo=WIB))
    evening = await new_draft(service, office)
    clock.set(datetime(2026, 11, 24, 21, 29, tzinfo=WIB))
    # The morning draft's escalation (06:20) is long due; the evening's reminders
    # (21:00, 21:20) would wait past its due time, so there are none.
    assert keys(await reminders.claim_due()) == [(morning.id, "overdue", 0)]
    clock.set(datetime(2026, 11, 24, 21, 30, tzinfo=WIB))
    assert keys(await reminders.claim_due()) == [(evening.id, "overdue", 0)]


async def test_a_missed_reminder_found_in_quiet_hours_waits_for_their_end(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    quiet = QuietHours.parse("21:00-06:00", WIB)
    clock.set(datetime(2026, 11, 23, 20, 10, tzinfo=WIB))  # due 21:10; reminder 20:40
    record = await new_draft(service, office)
    # The bot was down at 20:40 and comes back at 20:50, then at 21:05 (quiet).
    held = reminders_for(service, quiet_hours=quiet)
    assert await held.pending(datetime(2026, 11, 23, 21, 5, tzinfo=WIB)) == []
    due = await held.pending(datetime(2026, 11, 23, 20, 50, tzinfo=WIB))
    assert [(d.notice.record_id, d.notice.offset_seconds) for d in due] == [(record.id, 1800)]


async def test_a_double_delivery_claims_each_notice_once(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    record = await new_draft(service, office)
    clock.set(START + 30 * MIN)
    one, two = reminders_for(service), reminders_for(service)
    results = await asyncio.gather(one.claim_due(), two.claim_due(), one.claim_due())
    assert sorted(len(r) for r in results) == [0, 0, 1]
    due = (await one.pending(START + 50 * MIN))[0]
    claims = await asyncio.gather(
        *(one.mark_sent(due.run_id, NoticeKind.REMIND, 600, clock.now(), False) for _ in range(5))
    )
    assert len([c for c in claims if c is not None]) == 1
    assert [(r.kind, r.offset_seconds) for r in await sent_rows(service)] == [
        ("remind", 1800),
        ("remind", 600),
    ]
    # The unique key itself refuses a second row, whatever the code above it does.
    with pytest.raises(IntegrityError):
        async with service.transaction() as repo:
            await repo.add_reminder_sent(
                ReminderSentRow(
                    run_id=due.run_id,
                    kind="remind",
                    offset_seconds=600,
                    sent_at=clock.now(),
                    late=False,
                )
            )
    assert record.id == due.notice.record_id


# -- sending -----------------------------------------------------------------------------
class FakeBot:
    """Records messages; ``faults[chat_id]`` lists exceptions to raise before succeeding."""

    def __init__(self, faults: dict[int, list[Exception]] | None = None) -> None:
        self.faults = faults or {}
        self.calls: list[int] = []
        self.sent: list[tuple[int, str]] = []

    async def send_message(self, chat_id: int, text: str, **kwargs: object) -> SimpleNamespace:
        self.calls.append(chat_id)
        await asyncio.sleep(0)
        pending = self.faults.get(chat_id)
        if pending:
            raise pending.pop(0)
        self.sent.append((chat_id, text))
        return SimpleNamespace(message_id=len(self.sent))


def texts_to(bot: FakeBot, chat_id: int) -> list[str]:
    return [text for chat, text in bot.sent if chat == chat_id]


async def test_sender_texts_name_record_step_time_left_and_due(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    bot = FakeBot()
    sender = ReminderSender(bot, reminders_for(service))  # type: ignore[arg-type]
    record = await new_draft(service, office)
    clock.set(START + 30 * MIN)
    assert await sender.deliver_due() == 1
    [text] = texts_to(bot, office.petugas.telegram_id)
    assert f"BRK-{record.id}" in text and "Data pribadi pemilih disabilitas" in text
    assert "Langkah 1" in text and "sisa 30 menit" in text
    assert "Senin, 23 November 2026 09.00 WIB" in text and "tertunda" not in text
    clock.set(START + 61 * MIN)
    assert await sender.deliver_due() == 1
    [_, overdue] = texts_to(bot, office.petugas.telegram_id)
    assert "Batas waktu terlewati" in overdue and f"BRK-{record.id}" in overdue
    for official in (office.pejabat, office.pejabat2, office.admin):
        [escalation] = texts_to(bot, official.telegram_id)
        assert "Terlambat" in escalation and "sejak Senin, 23 November 2026 09.00 WIB" in escalation
        assert "Menunggu: Rina Petugas" in escalation
    assert texts_to(bot, office.petugas_other.telegram_id) == []
    assert texts_to(bot, office.dokumentasi.telegram_id) == []
    # Reminders missed while the bot was down say so, and the real time left.
    await new_draft(service, office)
    clock.set(START + 61 * MIN + 52 * MIN + timedelta(seconds=30))
    assert await sender.deliver_due(catch_up=True) == 1
    late = texts_to(bot, office.petugas.telegram_id)[-1]
    assert "sisa 7 menit" in late and "tertunda" in late


async def test_a_blocked_or_failing_recipient_never_stops_the_others(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    # What still fails after the rate limiter's retries (tests/test_ratelimit.py) reaches
    # the sender: each recipient is tried once, the others get their message.
    bot = FakeBot(
        {
            office.pejabat.telegram_id: [Forbidden("Forbidden: bot was blocked by the user")],
            office.admin.telegram_id: [NetworkError("down")],
            office.petugas.telegram_id: [BadRequest("Bad Request: chat not found")],
        }
    )
    reminders = reminders_for(service)
    sender = ReminderSender(bot, reminders)  # type: ignore[arg-type]
    await new_draft(service, office)
    clock.set(START + 60 * MIN)
    assert await sender.deliver_due() == 1
    for chat in (office.pejabat, office.admin, office.petugas, office.pejabat2):
        assert bot.calls.count(chat.telegram_id) == 1
    assert len(texts_to(bot, office.pejabat2.telegram_id)) == 1
    [row] = await sent_rows(service)
    assert (row.kind, row.recipients, row.delivered_at) == ("overdue", 1, clock.now())
    clock.set(START + 90 * MIN)
    assert await sender.deliver_due() == 0  # recorded as sent: never repeated


async def test_concurrent_deliveries_send_each_message_once(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    bot = FakeBot()
    senders = [
        ReminderSender(bot, reminders_for(service))  # type: ignore[arg-type]
        for _ in range(3)
    ]
    await new_draft(service, office)
    await new_draft(service, office)
    clock.set(START + 60 * MIN)
    counts = await asyncio.gather(*(s.deliver_due() for s in senders for _ in range(2)))
    assert sum(counts) == 2
    assert len(texts_to(bot, office.petugas.telegram_id)) == 2
    assert len(texts_to(bot, office.admin.telegram_id)) == 2


# -- scheduling --------------------------------------------------------------------------
@pytest.fixture
def job_queue() -> Any:
    application = ApplicationBuilder().token("123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ").build()
    assert application.job_queue is not None
    return application.job_queue


def scheduler_for(service: PpidService, job_queue: Any, bot: FakeBot) -> ReminderScheduler:
    reminders = reminders_for(service)
    sender = ReminderSender(bot, reminders)  # type: ignore[arg-type]
    return ReminderScheduler(job_queue, sender, reminders, check_interval=timedelta(days=1))


async def settled(scheduler: ReminderScheduler) -> None:
    """Wait for the messages the scheduler handed to its sender."""
    while scheduler._sending:
        await asyncio.gather(*scheduler._sending)


async def test_one_wake_up_job_at_the_next_due_notice(
    service: PpidService, office: Office, clock: ManualClock, job_queue: Any
) -> None:
    bot = FakeBot()
    scheduler = scheduler_for(service, job_queue, bot)
    service.subscribe(scheduler.on_change)
    record = await new_draft(service, office, with_file=True)
    await scheduler.rebuild()
    # Planned at its first look: the next notice is the 08:30 reminder.
    assert await scheduler.wake_delay() == 30 * 60
    assert [job.name for job in job_queue.jobs()] == [WAKE_JOB]
    clock.set(START + 20 * MIN)
    await service.complete_produce(office.petugas, record.id, verified=True)
    await scheduler.wake()  # what the change's wake-up job runs
    # Step 1's notices are gone with its run; step 2 (08:20-09:20) reminds at 08:50.
    assert await scheduler.wake_delay() == 30 * 60
    clock.set(START + 50 * MIN)
    assert await scheduler.wake_delay() == 0
    await scheduler.wake()
    await settled(scheduler)
    [text] = texts_to(bot, office.dokumentasi.telegram_id)
    assert f"BRK-{record.id}" in text and "sisa 30 menit" in text
    assert await scheduler.wake_delay() == 20 * 60  # the 10-minute reminder at 09:10
    clock.set(START + 30 * MIN + 50 * MIN)
    await service.return_record(office.dokumentasi, record.id, Step.PRODUCE, "Belum lengkap")
    await scheduler.wake()
    # The reopened step 1 (09:20-10:20) has fresh reminders from 09:50.
    assert await scheduler.wake_delay() == 30 * 60
    assert [job.name for job in job_queue.jobs()] == [WAKE_JOB]
    await scheduler.stop()


async def test_many_open_steps_one_job_and_each_notice_once(
    service: PpidService, office: Office, clock: ManualClock, job_queue: Any
) -> None:
    """Start with many open steps: still a single job; their reminders, due within the
    same minute, are each claimed and sent once, a page of runs at a time."""
    bot = FakeBot()
    scheduler = scheduler_for(service, job_queue, bot)
    scheduler.reminders.page = 7  # several pages, with a page boundary inside a second
    records = []
    for n in range(40):
        clock.set(START + n * timedelta(seconds=1.5))  # due within one minute
        records.append(await new_draft(service, office))
    clock.set(START + MIN)  # after the last one started
    await scheduler.rebuild()
    assert len(job_queue.jobs()) == 1 and bot.sent == []
    assert await scheduler.wake_delay() == 29 * 60  # the first one's 08:30 reminder
    for seconds in range(0, 61, 3):
        clock.set(START + 30 * MIN + timedelta(seconds=seconds))
        await scheduler.wake()
        await scheduler.wake()  # twice: nothing twice
    await settled(scheduler)
    texts = texts_to(bot, office.petugas.telegram_id)
    assert sorted(texts) == sorted(set(texts)) and len(texts) == 40
    assert all(any(f"BRK-{r.id}" in text for text in texts) for r in records)
    assert len(await sent_rows(service)) == 40
    assert len(job_queue.jobs()) == 1
    await scheduler.stop()


async def test_rebuild_sends_what_was_missed_and_plans_again_when_settings_change(
    service: PpidService, office: Office, clock: ManualClock, job_queue: Any
) -> None:
    first = await new_draft(service, office)
    clock.set(START + 40 * MIN)
    await new_draft(service, office)
    bot = FakeBot()
    scheduler = scheduler_for(service, job_queue, bot)
    await scheduler.rebuild()
    await settled(scheduler)
    # The bot was down at 08:30: the first draft's reminder is sent, late.
    [text] = texts_to(bot, office.petugas.telegram_id)
    assert f"BRK-{first.id}" in text and "tertunda" in text
    assert await scheduler.wake_delay() == 10 * 60  # the first's 10-minute one at 08:50
    await scheduler.stop()
    # Restarted with other offsets: every open step is planned again, nothing repeated.
    reminders = ReminderService(service, offsets=(timedelta(minutes=5),))
    again = ReminderScheduler(
        job_queue, ReminderSender(bot, reminders), reminders, check_interval=timedelta(days=1)
    )  # type: ignore[arg-type]
    await again.rebuild()
    await settled(again)
    assert len(bot.sent) == 1
    assert await again.wake_delay() == 15 * 60  # the first's 5-minute reminder at 08:55
    assert await reminders.plan_again_if_changed() == 0  # unchanged now
    await again.stop()
