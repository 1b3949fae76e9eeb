"""Exemption expiry (Pasal 20): end dates, and the notices to the Pejabat PPID 30 days
before, 7 days before and on the day, each exactly once, with an injected clock."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest

from bot.expiry_job import send_expiry_notices
from sop.clock import ManualClock
from sop.expiry import ExpiryService, NoticeKind, notice_due
from sop.model import DurationUnit, ExemptionPeriod, PeriodKind, Role, State
from sop.register import RegisterService
from sop.service import PpidService
from tests.conftest import Office
from tests.test_register import make_record


@dataclass
class FakeBot:
    """Just enough of telegram.Bot for send_safely: it records what was sent to whom."""

    sent: list[tuple[int, str]] = field(default_factory=list)

    async def send_message(self, chat_id: int, text: str, reply_markup: object = None) -> None:
        self.sent.append((chat_id, text))


@pytest.mark.parametrize(
    ("days_left", "expected"),
    [
        (31, None),
        (30, NoticeKind.DAYS_30),
        (8, NoticeKind.DAYS_30),
        (7, NoticeKind.DAYS_7),
        (1, NoticeKind.DAYS_7),
        (0, NoticeKind.ON_THE_DAY),
        (-3, NoticeKind.ON_THE_DAY),
    ],
)
def test_the_notice_due_is_the_most_urgent_one(days_left: int, expected: NoticeKind | None) -> None:
    today = date(2026, 11, 23)
    assert notice_due(today + timedelta(days=days_left), today) is expected


def test_end_dates_of_each_period_kind() -> None:
    classified = date(2026, 1, 31)
    assert ExemptionPeriod(PeriodKind.UNTIL_DATE, until=date(2027, 5, 1)).end_date(
        classified
    ) == date(2027, 5, 1)
    assert ExemptionPeriod(PeriodKind.DURATION, amount=30, unit=DurationUnit.DAYS).end_date(
        classified
    ) == date(2026, 3, 2)
    # A month after 31 January is the end of February.
    assert ExemptionPeriod(PeriodKind.DURATION, amount=1, unit=DurationUnit.MONTHS).end_date(
        classified
    ) == date(2026, 2, 28)
    assert ExemptionPeriod(PeriodKind.DURATION, amount=2, unit=DurationUnit.YEARS).end_date(
        classified
    ) == date(2028, 1, 31)
    assert ExemptionPeriod(PeriodKind.CONDITION, condition="izin").end_date(classified) is None
    assert ExemptionPeriod(PeriodKind.PERMANENT).end_date(classified) is None


async def test_notices_at_30_7_and_0_days_exactly_once(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    today = service.today()
    ends = today + timedelta(days=40)
    watched = await make_record(
        service,
        office,
        pasal17=("a",),
        period=ExemptionPeriod(PeriodKind.UNTIL_DATE, until=ends),
    )
    # None of these ever gets a notice: no end date, or opened already.
    await make_record(service, office)  # permanent (letter h)
    await make_record(
        service, office, period=ExemptionPeriod(PeriodKind.CONDITION, condition="ada izin")
    )
    opened = await make_record(
        service,
        office,
        pasal17=("b",),
        period=ExemptionPeriod(PeriodKind.UNTIL_DATE, until=today + timedelta(days=20)),
    )
    await RegisterService(service).mark_opened(office.pejabat, opened, today)

    bot = FakeBot()
    sent_on: list[tuple[int, int]] = []  # (day, messages sent that day)
    for day in range(45):
        before = len(bot.sent)
        assert await send_expiry_notices(bot, service) in {0, 1}  # type: ignore[arg-type]
        # A second check the same day (a restart, the start-up check) sends nothing new.
        assert await send_expiry_notices(bot, service) == 0  # type: ignore[arg-type]
        if len(bot.sent) > before:
            sent_on.append((day, len(bot.sent) - before))
        clock.advance(timedelta(days=1))

    # 30 days before, 7 days before and on the day; to both Pejabat PPID each time.
    assert sent_on == [(10, 2), (33, 2), (40, 2)]
    pejabat_ids = {office.pejabat.telegram_id, office.pejabat2.telegram_id}
    assert {chat for chat, _ in bot.sent} == pejabat_ids
    texts = [text for chat, text in bot.sent if chat == office.pejabat.telegram_id]
    assert "berakhir dalam <b>30 hari</b>, pada 2 Januari 2027" in texts[0]
    assert "berakhir dalam <b>7 hari</b>" in texts[1]
    assert "berakhir <b>hari ini</b>, 2 Januari 2027" in texts[2]
    assert all("BRK-" not in t and "DIK-2026-0001" in t for t in texts)
    assert "/dibuka DIK-2026-0001" in texts[2]

    trail = await service.audit_trail(office.pejabat, watched)
    notified = [e.details for e in trail if e.action == "expiry.notified"]
    assert [(d["kind"], d["recipients"]) for d in notified] == [("30d", 2), ("7d", 2), ("0d", 2)]
    assert await service.verify_audit_chain() == []


async def test_a_late_record_gets_only_the_notices_still_ahead(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    ended = await make_record(
        service,
        office,
        pasal17=("c",),
        classified_date=date(2026, 10, 1),
        period=ExemptionPeriod(PeriodKind.DURATION, amount=30, unit=DurationUnit.DAYS),
    )
    soon = await make_record(
        service,
        office,
        State.SUBMITTED,
        pasal17=("d",),
        period=ExemptionPeriod(PeriodKind.UNTIL_DATE, until=service.today() + timedelta(days=5)),
    )
    expiry = ExpiryService(service)
    due = {(record.id, kind) for record, kind, _ in await expiry.due()}
    assert due == {(ended, NoticeKind.ON_THE_DAY), (soon, NoticeKind.DAYS_7)}
    bot = FakeBot()
    assert await send_expiry_notices(bot, service) == 2  # type: ignore[arg-type]
    assert any("<b>telah berakhir</b> pada 31 Oktober 2026" in text for _, text in bot.sent)
    clock.advance(timedelta(days=5))
    assert await send_expiry_notices(bot, service) == 1  # type: ignore[arg-type]
    assert "berakhir <b>hari ini</b>" in bot.sent[-1][1]
    clock.advance(timedelta(days=1))
    assert await send_expiry_notices(bot, service) == 0  # type: ignore[arg-type]


async def test_a_notice_nobody_received_is_tried_again(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    await make_record(
        service,
        office,
        pasal17=("e",),
        period=ExemptionPeriod(PeriodKind.UNTIL_DATE, until=service.today() + timedelta(days=3)),
    )
    for pejabat in (office.pejabat, office.pejabat2):
        await service.revoke_role(pejabat.user_id, Role.PEJABAT_PPID)
    bot = FakeBot()
    assert await send_expiry_notices(bot, service) == 0  # type: ignore[arg-type]
    assert bot.sent == []
    assert len(await ExpiryService(service).due()) == 1  # given back, still due

    await service.add_person(303, "Pejabat Baru", Role.PEJABAT_PPID)
    clock.advance(timedelta(hours=1))
    assert await send_expiry_notices(bot, service) == 1  # type: ignore[arg-type]
    assert [chat for chat, _ in bot.sent] == [303]


async def test_two_checks_at_once_claim_a_notice_once(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    await make_record(
        service,
        office,
        pasal17=("f",),
        period=ExemptionPeriod(PeriodKind.UNTIL_DATE, until=service.today() + timedelta(days=30)),
    )
    expiry = ExpiryService(service)
    first, second = await asyncio.gather(expiry.claim_due(), expiry.claim_due())
    assert len(first) + len(second) == 1
    claimed = (first or second)[0]
    assert (claimed.kind, claimed.days_left) == (NoticeKind.DAYS_30, 30)
    # The process "died" before sending: nobody takes the claim over for ten minutes,
    # then exactly one later check does.
    clock.advance(timedelta(minutes=9))
    assert await expiry.claim_due() == []
    clock.advance(timedelta(minutes=2))
    retaken = await expiry.claim_due()
    assert [(n.notice_id, n.kind) for n in retaken] == [(claimed.notice_id, NoticeKind.DAYS_30)]
    await expiry.delivered(retaken[0], 2)
    clock.advance(timedelta(hours=1))
    assert await expiry.claim_due() == []


async def test_the_daily_check_reads_only_records_with_a_notice_ahead(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    """Records told on their last day, or ending beyond 30 days, are not read again."""
    today = service.today()
    ended = await make_record(  # classified long ago for 30 days
        service,
        office,
        pasal17=("a",),
        classified_date=date(2025, 1, 6),
        period=ExemptionPeriod(PeriodKind.DURATION, amount=30, unit=DurationUnit.DAYS),
    )
    soon = await make_record(
        service,
        office,
        pasal17=("b",),
        period=ExemptionPeriod(PeriodKind.UNTIL_DATE, until=today + timedelta(days=20)),
    )
    await make_record(  # far ahead
        service,
        office,
        pasal17=("c",),
        period=ExemptionPeriod(PeriodKind.UNTIL_DATE, until=today + timedelta(days=300)),
    )
    expiry = ExpiryService(service)

    async def candidates() -> list[int]:
        async with service.transaction() as repo:
            until = today + timedelta(days=30)
            return [r.id for r in await repo.expiry_candidates(until, NoticeKind.ON_THE_DAY)]

    assert await candidates() == [ended, soon]
    claimed = await expiry.claim_due()
    assert sorted((n.record.id, n.kind) for n in claimed) == [
        (ended, NoticeKind.ON_THE_DAY),
        (soon, NoticeKind.DAYS_30),
    ]
    for notice in claimed:
        await expiry.delivered(notice, 1)
    assert await candidates() == [soon]  # the ended one had its last notice
    assert await expiry.claim_due() == []
