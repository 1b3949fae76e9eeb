"""The operator's log of what happened: one line per business event, written once the
transaction that made it has committed, with people's names and record numbers.

The audit log is the record that counts; these lines are its readable echo for whoever
watches the bot run (journalctl, docker logs). Routine entries (files read, reminders)
are logged at DEBUG only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("ppidbot.events")

PROVISIONAL_PREFIX = "BRK-"  # as sop.service numbers records until step 3


@dataclass(frozen=True, slots=True)
class Event:
    """What an audit entry says, as committed."""

    action: str
    actor_id: int | None
    actor_name: str | None
    record_id: int | None
    details: dict[str, object]


#: Actions that, without an actor, were done on the command line (else: by the bot).
_OPERATOR_ACTIONS = (
    "role.",
    "user.",
    "invitation.revoked",
    "division.",
    "calendar.",
    "record.cancelled",  # ppidbot record cancel
)


def _who(event: Event) -> str:
    if event.actor_id is not None:
        return f"{event.actor_name or '?'} (user {event.actor_id})"
    if event.details.get("by") == "configuration":
        return "the configuration (ADMIN_TELEGRAM_IDS)"
    if event.action.startswith(_OPERATOR_ACTIONS):
        return "the operator (command line)"
    return "the bot"


def _person(details: dict[str, object]) -> str:
    name = details.get("name")
    user = details.get("user")
    return f"{name} (user {user})" if name else f"user {user}"


def line(event: Event) -> tuple[int, str]:
    """The level and text of ``event``'s log line."""
    d = event.details
    who = _who(event)
    number = f"{PROVISIONAL_PREFIX}{event.record_id}" if event.record_id is not None else "-"
    action = event.action
    info = logging.INFO
    if action == "record.created":
        return info, f"{number} created by {who}: {d.get('title')!r}"
    if action == "record.updated":
        changed = d.get("fields")
        fields = ", ".join(str(f) for f in changed) if isinstance(changed, list) else "?"
        return info, f"{number} corrected by {who}: {fields}"
    if action == "step1.done":
        return info, f"{number} step 1 done by {who}: submitted to the Petugas Dokumentasi"
    if action == "step2.done":
        return info, f"{number} step 2 done by {who}: handed over to the Pejabat PPID"
    if action == "step3.done":
        return info, (
            f"{number} step 3 done by {who}: accepted and stored as "
            f"{d.get('register_number')} ({d.get('files')} file(s))"
        )
    if action == "record.returned":
        return info, (
            f"{number} returned from step {d.get('from_step')} to step {d.get('to_step')} "
            f"by {who}: {d.get('reason')!r}"
        )
    if action == "record.cancelled":
        return info, f"{number} withdrawn by {who}: {d.get('reason')!r}"
    if action == "record.opened":
        return info, f"{number} marked as opened to the public since {d.get('opened_on')} by {who}"
    if action == "invitation.created":
        named = f" named {d['name']!r}" if d.get("name") else ""
        division = f" in division {d['division']}" if d.get("division") else ""
        return info, (
            f"invitation #{d.get('invitation')} for {d.get('role')}{division}{named} "
            f"created by {who}"
        )
    if action == "invitation.redeemed":
        return info, f"invitation #{d.get('invitation')} used by {who}: now {d.get('role')}"
    if action == "invitation.revoked":
        return info, f"invitation #{d.get('invitation')} ({d.get('role')}) revoked by {who}"
    if action == "invitation.failed":
        return info, (
            f"wrong invitation code from Telegram {d.get('telegram_id')} "
            f"({d.get('telegram_name')!r}): {d.get('attempts')} in the last hour"
        )
    if action == "invitation.blocked":
        return logging.WARNING, (
            f"Telegram {d.get('telegram_id')} ({d.get('telegram_name')!r}) sent "
            f"{d.get('attempts')} wrong invitation codes within an hour; refused until "
            f"{d.get('until')}"
        )
    if action == "role.granted":
        return info, f"role {d.get('role')} granted to {_person(d)} by {who}"
    if action == "role.revoked":
        return info, f"role {d.get('role')} revoked from {_person(d)} by {who}"
    if action == "user.renamed":
        return info, (
            f"user {d.get('user')} renamed from {d.get('old')!r} to {d.get('new')!r} by {who}"
        )
    if action == "step.overdue":
        return info, f"{number} step {d.get('step')} is overdue"
    where = f" {number}" if event.record_id is not None else ""
    if action.startswith(("division.", "calendar.")):  # the office's set-up changed
        return info, f"{action}{where} by {who}: {d}"
    return logging.DEBUG, f"{action}{where} by {who}: {d}"


#: Called with every committed event (e.g. the bot's metrics); must not raise.
_observers: list[Callable[[Event], None]] = []


def observe(observer: Callable[[Event], None]) -> None:
    """Call ``observer`` with every event from now on, once committed."""
    if observer not in _observers:
        _observers.append(observer)


def log_committed(events: list[Event]) -> None:
    for event in events:
        level, text = line(event)
        log.log(level, text, extra={"record_id": event.record_id})
        for observer in _observers:
            observer(event)


__all__ = ["Event", "line", "log_committed", "observe"]
