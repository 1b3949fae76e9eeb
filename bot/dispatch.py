"""Sending the outbox: each notice rendered with the text catalogue, sent through the
rate-limited bot, and what came of it recorded (delivered with its message id, or not
delivered and why).

A notice is claimed in the database before it is sent, so two workers (a sweep and an
action waiting for its notices, or two instances of the bot) never send it twice. Notices
to one person go out in the order they were written. A notice that cannot be delivered
is reported to the person whose action caused it and, once, to the admins; the action
that waits for its notices hears the truth about who was reached.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaDocument,
)
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot import texts
from bot.texts import WIB, fitting
from bot.texts import notices as t
from bot.texts import records as record_texts
from bot.texts import steps as step_texts
from bot.texts.fitting import telegram_length
from handlers.callback_data import OpenRecord
from handlers.full_text import with_full_text
from handlers.keyboards import record_keyboard
from sop.model import Actor, FileView, RecordView, State
from sop.notices import NoticeKind, Reason, queue_notices
from sop.outbox import ClaimedNotice, NoticeResult, OutboxService, Sent
from sop.service import Outcome

log = logging.getLogger(__name__)

Spawn = Callable[[Coroutine[Any, Any, Any]], "asyncio.Task[Any]"]
#: An album holds at most 10 documents; one request carries at most this many bytes.
ALBUM_SIZE = 10
ALBUM_BYTES = 45 * 1024 * 1024
#: Notices still unreported this long after they failed are reported by a sweep (an
#: action waiting for its own notices reports them itself, sooner).
REPORT_GRACE = timedelta(seconds=30)


def background(application: Any = None) -> Spawn:
    """Start tasks in the background, keeping a reference until they finish. With an
    Application, tasks started while it runs are its (it waits for them when stopping)."""
    tasks: set[asyncio.Task[Any]] = set()

    def spawn(coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        if application is not None and application.running:
            task: asyncio.Task[Any] = application.create_task(coroutine)
        else:
            task = asyncio.create_task(coroutine)
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return task

    return spawn


def open_button(record: RecordView) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    record_texts.BUTTON_OPEN.format(number=record.number),
                    callback_data=OpenRecord(record.id).pack(),
                )
            ]
        ]
    )


# -- one message to one chat -----------------------------------------------------------
def failure(exc: Exception) -> Sent:
    """What a Telegram error means for a notice (the rate limiter already retried what
    can be retried at once)."""
    detail = str(exc)[:500]
    lowered = detail.lower()
    if isinstance(exc, Forbidden):
        if "deactivated" in lowered:
            return Sent(False, reason=Reason.DEACTIVATED, detail=detail)
        if "initiate" in lowered or "chat not found" in lowered:
            return Sent(False, reason=Reason.NOT_STARTED, detail=detail)
        return Sent(False, reason=Reason.BLOCKED, detail=detail)
    if isinstance(exc, BadRequest):
        if "chat not found" in lowered or "user not found" in lowered:
            return Sent(False, reason=Reason.NOT_STARTED, detail=detail)
        return Sent(False, reason=Reason.REFUSED, detail=detail)
    if isinstance(exc, RetryAfter | TelegramError):
        return Sent(False, reason=Reason.FAILED, detail=detail, transient=True)
    return Sent(False, reason=Reason.FAILED, detail=detail or type(exc).__name__, transient=True)


async def send_text(
    bot: Bot, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None
) -> Sent:
    """Send one message; never raises for what Telegram answers."""
    try:
        message = await bot.send_message(chat_id, text, reply_markup=markup)
    except TelegramError as exc:
        return failure(exc)
    return Sent(True, message_id=message.message_id)


@dataclass(frozen=True, slots=True)
class Delivery:
    """How an action's notices went, for the reply to the person who acted."""

    results: tuple[NoticeResult, ...] = ()
    #: Notices whose main message arrived while the rest is still on its way (the
    #: softcopies after a step-3 card): their recipient has been reached.
    arrived: frozenset[int] = frozenset()

    def _reached(self, result: NoticeResult) -> bool:
        return result.delivered or (result.in_progress and result.id in self.arrived)

    def _named(self, keep: Callable[[NoticeResult], bool]) -> list[str]:
        seen: list[str] = []
        for result in self.results:
            if keep(result) and result.recipient_name not in seen:
                seen.append(result.recipient_name)
        return seen

    @property
    def reached(self) -> list[str]:
        return self._named(self._reached)

    @property
    def sending(self) -> list[str]:
        return self._named(lambda r: r.in_progress and not self._reached(r))

    @property
    def failed(self) -> list[tuple[str, Reason | None]]:
        return [(r.recipient_name, r.reason) for r in self.results if r.undelivered]

    def lines(self) -> list[str]:
        """Who could not be reached and who is still being sent to."""
        return t.reach_lines(self.failed, self.sending)

    def reached_of(self, kind: NoticeKind) -> list[str]:
        return self._named(lambda r: self._reached(r) and r.kind is kind)


class NoticeDispatcher:
    """Claims, renders, sends and records the outbox's notices."""

    def __init__(
        self,
        bot: Bot,
        outbox: OutboxService,
        *,
        tz: ZoneInfo = WIB,
        wait: timedelta = timedelta(seconds=5),
        spawn: Spawn | None = None,
        cards: Any = None,
    ) -> None:
        self.bot = bot
        self.outbox = outbox
        self.service = outbox.service
        self.tz = tz
        self.wait = wait
        self._spawn: Spawn = spawn or background()
        self.cards = cards  # bot.cards.CardTracker: the step-3 card is followed
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._arrivals: dict[int, asyncio.Event] = {}  # set when the recipient is reached
        self._arrived: set[int] = set()  # reached, the rest (softcopies) still on its way
        self._chat_locks: dict[int, asyncio.Lock] = {}
        self._sweep: asyncio.Task[int] | None = None
        self._sweep_again = False
        self._reachable: set[int] = set()  # telegram ids known reachable (this process)
        self._claims: set[str] = set()  # claims being sent now, renewed by the heartbeat
        self._heartbeat: asyncio.Task[None] | None = None

    # -- entry points ------------------------------------------------------------------
    async def deliver(self, notice_ids: Sequence[int]) -> Delivery:
        """Send an action's notices and wait for them (up to ``wait``); the answer says
        who was reached, who could not be and who is still being sent to. Failures of
        those still under way are reported to the actor when they end."""
        if not notice_ids:
            return Delivery()
        tasks = [self._ensure(notice_id) for notice_id in notice_ids]
        waits = [asyncio.ensure_future(self._arrivals[i].wait()) for i in notice_ids]
        await asyncio.wait(waits, timeout=self.wait.total_seconds())
        for waiting in waits:
            waiting.cancel()
        arrived = frozenset(i for i in notice_ids if i in self._arrived)
        # Finished ones are the reply's to tell; mark them told so nobody tells them again.
        await self.outbox.claim_reports(notice_ids)
        results = await self.outbox.results(notice_ids)
        pending = [task for task in tasks if not task.done()]
        if pending:
            self._spawn(self._follow_up(list(notice_ids), pending))
        return Delivery(tuple(results), arrived)

    def kick(self) -> None:
        """Send whatever is due, in the background (coalesced: one sweep at a time)."""
        if self._sweep is not None and not self._sweep.done():
            self._sweep_again = True
            return
        self._sweep = self._spawn(self.sweep())

    async def on_change(self, record: RecordView) -> None:
        """A committed change of a record: its notices are in the outbox now."""
        self.kick()

    async def sweep(self) -> int:
        """Send every due notice (oldest first), report failures nobody has reported yet;
        again while new notices arrived meanwhile. Returns how many were tried."""
        tried = 0
        while True:
            self._sweep_again = False
            due = await self.outbox.due_by_recipient()
            queues: dict[int, list[int]] = {}
            for notice_id, recipient in due:
                queues.setdefault(recipient, []).append(notice_id)
            # One person's notices one after another, in order; people side by side.
            await asyncio.gather(*(self._in_order(queue) for queue in queues.values()))
            tried += len(due)
            await self._report_unreported()
            if not self._sweep_again and len(due) < 200:
                return tried

    async def _in_order(self, notice_ids: list[int]) -> None:
        for notice_id in notice_ids:
            await self._ensure(notice_id)

    async def contacted(self, telegram_id: int) -> None:
        """The person wrote to the bot: reachable; their undelivered notices go again."""
        if telegram_id in self._reachable:
            return
        if await self.outbox.contacted(telegram_id):
            self.kick()
        if await self.outbox.known(telegram_id):
            self._reachable.add(telegram_id)

    async def blocked(self, telegram_id: int) -> None:
        self._reachable.discard(telegram_id)
        await self.outbox.blocked(telegram_id)

    async def close(self) -> None:
        """Wait for notices being sent (they are recorded), for a clean stop."""
        tasks = [task for task in self._tasks.values() if not task.done()]
        if self._sweep is not None and not self._sweep.done():
            tasks.append(self._sweep)  # type: ignore[arg-type]
        if tasks:
            await asyncio.wait(tasks, timeout=10)

    # -- plain messages and reminders --------------------------------------------------
    async def send_direct(
        self,
        recipient: Actor,
        text: str,
        markup: InlineKeyboardMarkup | None,
        *,
        kind: NoticeKind = NoticeKind.MESSAGE,
        record: RecordView | None = None,
    ) -> bool:
        """Send a message that is not in the outbox (a reminder, a plain message); a
        failure is recorded and reported like an undelivered notice. Never raises."""
        async with self._chat_lock(recipient.telegram_id):
            sent = await send_text(self.bot, recipient.telegram_id, text, markup)
        try:
            if sent.delivered:
                if recipient.telegram_id not in self._reachable:
                    await self.outbox.reached(recipient.user_id)
                    self._reachable.add(recipient.telegram_id)
                return True
            self._reachable.discard(recipient.telegram_id)
            params: dict[str, Any] = {"text": text}
            if markup is not None:
                params["markup"] = markup.to_dict()
            alerts = await self.outbox.record_failure(
                recipient,
                sent.reason or Reason.FAILED,
                sent.detail,
                kind=kind,
                record=record,
                params=params,
            )
        except Exception:  # recording must never turn a failed message into a crash
            log.exception("could not record the result of a message to %s", recipient.user_id)
            return sent.delivered
        for alert in alerts:
            self._ensure(alert)
        return False

    # -- the work ----------------------------------------------------------------------
    def _ensure(self, notice_id: int) -> asyncio.Task[None]:
        """The task sending ``notice_id`` in this process (one per notice)."""
        task = self._tasks.get(notice_id)
        if task is None or task.done():
            self._arrivals[notice_id] = asyncio.Event()
            task = self._spawn(self._run(notice_id))
            self._tasks[notice_id] = task
            task.add_done_callback(lambda _: self._forget(notice_id, task))
        return task

    def _forget(self, notice_id: int, task: asyncio.Task[None]) -> None:
        if self._tasks.get(notice_id) is task:
            del self._tasks[notice_id]
            self._arrivals.pop(notice_id).set()
            self._arrived.discard(notice_id)

    def _reached(self, notice_id: int) -> None:
        """The recipient has the notice's main message; the rest follows."""
        self._arrived.add(notice_id)
        arrival = self._arrivals.get(notice_id)
        if arrival is not None:
            arrival.set()

    def _chat_lock(self, chat_id: int) -> asyncio.Lock:
        lock = self._chat_locks.get(chat_id)
        if lock is None:
            if len(self._chat_locks) > 1024:
                self._chat_locks = {k: v for k, v in self._chat_locks.items() if v.locked()}
            lock = self._chat_locks[chat_id] = asyncio.Lock()
        return lock

    async def _run(self, notice_id: int) -> None:
        token = self.outbox.new_token()
        self._claims.add(token)
        try:
            claimed = await self.outbox.claim(notice_id, token)
            if claimed is None:
                return  # another worker has it, or it is finished or superseded
            self._beat()
            sent = await self._send_claimed(claimed)
            chat_id = claimed.recipient.telegram_id
            if sent.delivered:
                self._reachable.add(chat_id)
            else:
                self._reachable.discard(chat_id)
            alerts = await self.outbox.finish(claimed, sent)
        finally:
            self._claims.discard(token)
        for alert in alerts:
            self._ensure(alert)

    async def _send_claimed(self, claimed: ClaimedNotice) -> Sent:
        """Send a claimed notice after those before it to the same person."""
        async with self._chat_lock(claimed.recipient.telegram_id):
            try:
                return await self._send(claimed)
            except Exception as exc:  # a bug or a storage error: recorded, not lost
                log.exception("notice %s could not be sent", claimed.id)
                return Sent(False, reason=Reason.FAILED, detail=repr(exc)[:500], transient=True)

    def _beat(self) -> None:
        """Renew this process's claims while it sends (well within the lease)."""
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = self._spawn(self._keep_claims())

    async def _keep_claims(self) -> None:
        """Renew every quarter of the lease; end as soon as nothing is being sent (in
        small steps, so a stopping application never waits long for it)."""
        loop = asyncio.get_running_loop()
        interval = max(self.outbox.lease.total_seconds() / 4, 0.05)
        renewed = loop.time()
        while self._claims:
            await asyncio.sleep(min(interval, 0.2))
            if self._claims and loop.time() - renewed >= interval:
                renewed = loop.time()
                try:
                    await self.outbox.renew(set(self._claims))
                except Exception:  # the database is busy: the next beat tries again
                    log.warning("could not renew the claims of notices being sent", exc_info=True)

    async def _follow_up(self, notice_ids: list[int], pending: list[asyncio.Task[None]]) -> None:
        """After an action stopped waiting: report what failed once it is over."""
        await asyncio.wait(pending)
        await self._report(await self.outbox.claim_reports(notice_ids))

    async def _report_unreported(self) -> None:
        grouped = await self.outbox.unreported_failures(older_than=REPORT_GRACE)
        for failed in grouped.values():
            await self._report(failed)

    async def _report(self, results: Iterable[NoticeResult]) -> None:
        by_actor: dict[int, list[NoticeResult]] = {}
        for result in results:
            if result.undelivered and result.actor_id is not None:
                by_actor.setdefault(result.actor_id, []).append(result)
        for actor_id, failed in by_actor.items():
            for report in await self.outbox.queue_report(actor_id, failed):
                self._ensure(report)

    # -- rendering and sending one notice ----------------------------------------------
    async def _send(self, notice: ClaimedNotice) -> Sent:
        chat_id = notice.recipient.telegram_id
        record, params = notice.record, notice.params
        if notice.kind is NoticeKind.RECEIVE:
            assert record is not None
            return await self._send_package(notice, record)
        if notice.kind is NoticeKind.MESSAGE or notice.kind is NoticeKind.REMINDER:
            markup = params.get("markup")
            return await send_text(
                self.bot,
                chat_id,
                str(params.get("text", "")),
                InlineKeyboardMarkup.de_json(markup, self.bot) if markup else None,
            )
        text = self._render(notice)
        return await send_text(self.bot, chat_id, text, open_button(record) if record else None)

    def _render(self, notice: ClaimedNotice) -> str:
        record, params = notice.record, notice.params
        who = str(params.get("who", "?"))
        if notice.kind is NoticeKind.UNREACHABLE:
            return t.unreachable(
                str(params.get("who", "?")),
                Reason(str(params.get("reason", Reason.FAILED))),
                record.number if record is not None else None,
            )
        if notice.kind is NoticeKind.REPORT:
            failed = [
                (str(item.get("who", "?")), Reason(item["reason"]) if item.get("reason") else None)
                for item in params.get("failed", [])
            ]
            return t.report(failed, record.number if record is not None else None)
        assert record is not None, f"a {notice.kind} notice without its record"
        if notice.kind is NoticeKind.NEXT_STEP:
            return t.next_step(record, self.tz)
        if notice.kind is NoticeKind.RETURNED:
            return t.returned(record, who, str(params.get("reason", "")), self.tz)
        if notice.kind is NoticeKind.RETURN_INFO:
            return t.return_info(
                record, who, str(params.get("reason", "")), int(params.get("to_step", 1))
            )
        if notice.kind is NoticeKind.STORED:
            return t.stored(record, who)
        if notice.kind is NoticeKind.CORRECTED:
            return t.corrected(record, who, [str(f) for f in params.get("fields", [])])
        raise ValueError(f"no text for notice kind {notice.kind}")

    async def _send_package(self, notice: ClaimedNotice, record: RecordView) -> Sent:
        """Step 3 for one Pejabat PPID: the card with the accept and return buttons, then
        the softcopies as albums (up to 10 a message); "dikirim ke" in the audit log."""
        recipient = notice.recipient
        chat_id = recipient.telegram_id
        if notice.message_id is not None:  # a sender before a crash got the card out
            card = Sent(True, message_id=notice.message_id)
            done = await self.outbox.files_sent(recipient, record.id)
        else:
            text = step_texts.receive_notice(record, str(notice.params.get("who", "?")), self.tz)
            markup = with_full_text(record_keyboard(self.service, recipient, record), record, text)
            earlier = t.earlier_return(record, self.tz)
            if earlier and telegram_length(text) + telegram_length(earlier) < fitting.MAX_TEXT:
                text += "\n" + earlier
            card = await send_text(self.bot, chat_id, text, markup)
            if not card.delivered:
                return card
            done = set()
        assert card.message_id is not None
        await self.outbox.progress(notice, card.message_id)
        self._reached(notice.id)
        if self.cards is not None and notice.message_id is None:
            await self.cards.follow(record, recipient, chat_id, card.message_id)
        not_sent: list[FileView] = []
        files = [f for f in step_texts.division_files(record) if f.id not in done]
        for album in _albums(files):
            if await self._send_album(recipient, record, album):
                await self.outbox.audit_sent(recipient, record.id, album)
                continue
            # Telegram refused the album: each softcopy on its own, so one bad file
            # does not keep the others from the Pejabat.
            for file in album if len(album) > 1 else ():
                if await self._send_album(recipient, record, [file]):
                    await self.outbox.audit_sent(recipient, record.id, [file])
                else:
                    not_sent.append(file)
            if len(album) == 1:
                not_sent.extend(album)
        if not_sent:
            for file in not_sent:
                await send_text(
                    self.bot,
                    chat_id,
                    step_texts.FILE_NOT_SENT.format(
                        name=texts.h(file.original_name[:200]), number=texts.h(record.number)
                    ),
                )
            names = ", ".join(f.original_name[:80] for f in not_sent)
            return Sent(True, message_id=card.message_id, note=f"softcopy not sent: {names}")
        return card

    async def _send_album(
        self, recipient: Actor, record: RecordView, files: list[FileView]
    ) -> bool:
        chat_id = recipient.telegram_id
        try:
            contents = [
                b"".join([chunk async for chunk in self.outbox.file_chunks(file)]) for file in files
            ]
            if len(files) == 1:
                await self.bot.send_document(
                    chat_id,
                    InputFile(contents[0], filename=files[0].original_name[:200] or "berkas"),
                    caption=step_texts.file_caption(record, files[0]),
                )
            else:
                await self.bot.send_media_group(
                    chat_id,
                    [
                        InputMediaDocument(
                            data,
                            filename=file.original_name[:200] or "berkas",
                            caption=step_texts.file_caption(record, file),
                        )
                        for file, data in zip(files, contents, strict=True)
                    ],
                )
        except (TelegramError, OSError) as exc:
            log.warning(
                "softcopies %s of record %s not sent to user %s: %s",
                [f.id for f in files],
                record.id,
                recipient.user_id,
                exc,
            )
            return False
        return True


def _albums(files: Sequence[FileView]) -> list[list[FileView]]:
    """Files in as few messages as Telegram allows: up to 10 (and ``ALBUM_BYTES``) each."""
    albums: list[list[FileView]] = []
    for file in files:
        if (
            not albums
            or len(albums[-1]) >= ALBUM_SIZE
            or sum(f.size for f in albums[-1]) + file.size > ALBUM_BYTES
        ):
            albums.append([])
        albums[-1].append(file)
    return albums


async def queue_for(outbox: OutboxService, outcome: Outcome, actor: Actor) -> tuple[int, ...]:
    """Notices for an outcome whose action did not write any (the recipients it names,
    told what its record's state means for them). Actions should write their notices in
    their own transaction (``sop.notices.queue_notices``); this keeps older callers of
    ``announce`` working."""
    record = outcome.record
    finished = [run for run in record.runs if run.completed_at is not None]
    if record.state is State.REGISTERED:
        kind = NoticeKind.RECEIVE
    elif record.state is State.STORED:
        kind = NoticeKind.STORED
    elif finished and finished[-1].outcome == "returned":
        kind = NoticeKind.RETURNED
    else:
        kind = NoticeKind.NEXT_STEP
    service = outbox.service
    async with service.transaction() as repo:
        return await queue_notices(
            repo,
            kind,
            outcome.notify,
            now=service.now(),
            record_id=record.id,
            actor=actor,
            params={
                "version": record.version,
                "who": actor.full_name,
                "reason": record.return_reason or "",
            },
        )


__all__ = [
    "Delivery",
    "NoticeDispatcher",
    "background",
    "failure",
    "open_button",
    "queue_for",
    "send_text",
]
