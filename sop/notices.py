"""Who must hear what: the notices an action causes, written in its own transaction.

The domain decides who is told about an event and writes one row per recipient into the
outbox (``notices``) in the transaction of the action itself: if the process dies right
after the commit, the rows are still there and are sent at the next start. How a notice
reads and how it travels is the bot's business (``bot/dispatch.py``); this module never
imports Telegram.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum

from db.models import NoticeRow
from db.outbox import PENDING, OutboxRepository
from db.repositories import Repository
from sop.model import Actor


class NoticeKind(StrEnum):
    NEXT_STEP = "next_step"  # a step of the record now waits on the recipient
    RECEIVE = "receive"  # step 3 waits on a Pejabat PPID: the card, then the softcopies
    RETURNED = "returned"  # the record came back to a step the recipient holds
    RETURN_INFO = "return_info"  # a record the recipient acted on was returned
    STORED = "stored"  # a record the recipient acted on is stored (step 3 done)
    CORRECTED = "corrected"  # someone else corrected a record the recipient acted on
    MESSAGE = "message"  # a plain message (text and buttons in the parameters)
    REMINDER = "reminder"  # a reminder or escalation that could not be delivered
    UNREACHABLE = "unreachable"  # to the admins: a notice did not reach someone
    REPORT = "report"  # to an actor: which of their notices did not arrive


class Reason(StrEnum):
    """Why a notice was not delivered."""

    BLOCKED = "blocked"  # the person blocked the bot
    NOT_STARTED = "not_started"  # the person never opened the bot (or deleted the chat)
    DEACTIVATED = "deactivated"  # the Telegram account is gone
    REFUSED = "refused"  # Telegram refused the message itself
    FAILED = "failed"  # Telegram could not be reached, even after retries


#: Reasons that are about the person, not the message: they make the person unreachable.
PERSONAL = frozenset({Reason.BLOCKED, Reason.NOT_STARTED, Reason.DEACTIVATED})
#: A notice asking someone to act is no longer true once the record has changed again.
ACTIONABLE = frozenset({NoticeKind.NEXT_STEP, NoticeKind.RECEIVE, NoticeKind.RETURNED})
#: Sent again when a person who could not be reached writes to the bot again (a
#: reminder's moment is gone by then; the rest still holds, or is superseded).
RESENDABLE = frozenset(NoticeKind) - {NoticeKind.REMINDER}


async def queue_notices(
    repo: Repository,
    kind: NoticeKind,
    recipients: Iterable[Actor],
    *,
    now: datetime,
    record_id: int | None = None,
    actor: Actor | None = None,
    params: Mapping[str, object] | None = None,
) -> tuple[int, ...]:
    """Write one pending notice per recipient (each person once, never the actor) in the
    caller's transaction; returns their ids."""
    seen: set[int] = set()
    rows = []
    for recipient in recipients:
        if recipient.user_id in seen or (actor is not None and recipient.user_id == actor.user_id):
            continue
        seen.add(recipient.user_id)
        rows.append(
            NoticeRow(
                kind=kind,
                record_id=record_id,
                recipient_id=recipient.user_id,
                actor_id=actor.user_id if actor is not None else None,
                params=json.dumps(dict(params or {}), ensure_ascii=False, sort_keys=True),
                status=PENDING,
                attempts=0,
                created_at=now,
                actor_informed=False,
            )
        )
    if not rows:
        return ()
    return tuple(await OutboxRepository(repo.session).add(rows))


__all__ = ["ACTIONABLE", "PERSONAL", "RESENDABLE", "NoticeKind", "Reason", "queue_notices"]
