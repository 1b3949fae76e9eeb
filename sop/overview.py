"""The admins' overview (/ringkasan): open steps per step and per person, the overdue
ones first, and the notices that did not reach their recipient.

Counted by the database (grouped queries over the open step runs, through the index on
open runs), so the answer costs the same with ten records or a hundred thousand.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from db.outbox import OutboxRepository
from sop.errors import PermissionDenied
from sop.model import Actor, Role, Step
from sop.outbox import Failures, OutboxService
from sop.service import PROVISIONAL_PREFIX, PpidService

OVERDUE_SHOWN = 10
FAILURES_SHOWN = 5


@dataclass(frozen=True, slots=True)
class Load:
    """Open steps and how many of them are overdue."""

    open: int = 0
    overdue: int = 0

    def __add__(self, other: Load) -> Load:
        return Load(self.open + other.open, self.overdue + other.overdue)


@dataclass(frozen=True, slots=True)
class PersonLoad:
    name: str
    roles: frozenset[Role]
    load: Load


@dataclass(frozen=True, slots=True)
class Late:
    """An open step past its due time."""

    record_id: int
    number: str
    title: str
    step: Step
    due_at: datetime


@dataclass(frozen=True, slots=True)
class Overview:
    at: datetime
    steps: dict[Step, Load]
    people: list[PersonLoad]  # those holding open steps, the most overdue first
    late: list[Late]  # the longest overdue first
    late_total: int
    failures: Failures

    @property
    def total(self) -> Load:
        result = Load()
        for load in self.steps.values():
            result += load
        return result


class OverviewService:
    def __init__(self, service: PpidService) -> None:
        self._service = service

    async def overview(self, by: Actor) -> Overview:
        """The overview for an admin (others are refused)."""
        service = self._service
        now = service.now()
        async with service.transaction() as repo:
            by = await service.fresh_actor(repo, by)
            if not by.is_admin:
                raise PermissionDenied("Hanya admin yang dapat melihat ringkasan.")
            outbox = OutboxRepository(repo.session)
            by_division: dict[int, Load] = defaultdict(Load)
            steps: dict[Step, Load] = {step: Load() for step in Step}
            for step, division, count, overdue in await outbox.open_runs_by_step_and_division(now):
                load = Load(count, overdue)
                steps[Step(step)] += load
                if step == Step.PRODUCE:
                    by_division[division] += load
            excluded = {
                user: Load(count, overdue)
                for user, count, overdue in await outbox.receive_exclusions(now)
            }
            people: dict[int, PersonLoad] = {}

            async def add(role: Role, load_of: dict[int, Load] | None, step: Step) -> None:
                for user in await repo.users_with_role(role):
                    if load_of is not None:
                        load = load_of.get(user.division_id or -1, Load())
                    else:
                        load = steps[step]
                        if step is Step.RECEIVE and user.id in excluded:
                            held = excluded[user.id]
                            load = Load(load.open - held.open, load.overdue - held.overdue)
                    known = people.get(user.id)
                    if known is None:
                        people[user.id] = PersonLoad(user.full_name, frozenset({role}), load)
                    else:
                        people[user.id] = PersonLoad(
                            known.name, known.roles | {role}, known.load + load
                        )

            await add(Role.PETUGAS_PPID, by_division, Step.PRODUCE)
            await add(Role.PETUGAS_DOKUMENTASI, None, Step.HANDOVER)
            await add(Role.PEJABAT_PPID, None, Step.RECEIVE)
            late_rows = await outbox.overdue_runs(now, OVERDUE_SHOWN)
            late = [
                Late(
                    record.id,
                    record.register_number or f"{PROVISIONAL_PREFIX}{record.id}",
                    record.title,
                    Step(run.step),
                    run.due_at,
                )
                for run, record in late_rows
            ]
        holders = sorted(
            (p for p in people.values() if p.load.open),
            key=lambda p: (-p.load.overdue, -p.load.open, p.name.casefold()),
        )
        failures = await OutboxService(service).open_failures(by, FAILURES_SHOWN)
        late_total = sum(load.overdue for load in steps.values())
        return Overview(now, steps, holders, late, late_total, failures)


__all__ = ["Late", "Load", "Overview", "OverviewService", "PersonLoad"]
