"""People and access beside the SOP's steps: invitations as an admin sees them (open ones,
revoking one, who used one), the limit on wrong invitation codes, and the warning before
the last person of a role with open steps loses it. Built on ``PpidService``'s
transactions, audit chain and rules; no Telegram here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from db.models import InvitationRow
from db.repositories import Repository
from sop.errors import (
    InvalidTransition,
    InvitationBlocked,
    InvitationInvalid,
    NotFound,
    PermissionDenied,
)
from sop.model import STEP_ROLES, Actor, Role, Step
from sop.service import PpidService

#: Wrong invitation codes one Telegram account may send within ``ATTEMPT_WINDOW``.
MAX_WRONG_CODES = 10
ATTEMPT_WINDOW = timedelta(hours=1)
_STEP_OF_ROLE = {role: step for step, role in STEP_ROLES.items()}


@dataclass(frozen=True, slots=True)
class OpenInvitation:
    """An invitation as the admins see it (never with its code)."""

    id: int
    role: Role
    division_id: int | None
    division_name: str | None
    name: str | None
    created_by_name: str | None
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Redeemed:
    """Someone registered through an invitation, and the admins to tell about it."""

    actor: Actor
    role: Role
    division_name: str | None
    invited_by_name: str | None
    admins: tuple[Actor, ...]  # every admin except the new person


@dataclass(frozen=True, slots=True)
class WrongCodes:
    """An account that just reached the limit of wrong invitation codes."""

    telegram_id: int
    telegram_name: str
    username: str | None
    attempts: int
    until: datetime


class TooManyWrongCodes(InvitationBlocked):
    """Raised on the wrong code that reaches the limit; the admins are to be told once."""

    def __init__(self, attempt: WrongCodes, admins: tuple[Actor, ...]) -> None:
        super().__init__(attempt.until)
        self.attempt = attempt
        self.admins = admins


@dataclass(frozen=True, slots=True)
class RevocationWarning:
    """Revoking ``role`` leaves nobody for ``open_steps`` records waiting on ``step``."""

    role: Role
    step: Step
    open_steps: int
    division_name: str | None  # the division whose records wait (Petugas PPID only)


class PeopleService:
    def __init__(self, service: PpidService) -> None:
        self.service = service

    async def _require_admin(self, repo: Repository, by: Actor | None, message: str) -> None:
        if by is None:  # the operator on the command line
            return
        fresh = await self.service.fresh_actor(repo, by)
        if not fresh.is_admin:
            raise PermissionDenied(message)

    async def _admins(self, repo: Repository, *, except_user: int | None = None) -> list[Actor]:
        return [
            await self.service.actor_of(repo, user)
            for user in await repo.users_with_role(Role.ADMIN)
            if user.id != except_user
        ]

    # -- opening an invitation link --------------------------------------------------------
    async def redeem(
        self, code: str, telegram_id: int, telegram_name: str, username: str | None
    ) -> Redeemed:
        """Register the person opening an invitation link. After ``MAX_WRONG_CODES`` wrong
        codes within ``ATTEMPT_WINDOW`` an account must wait (even a right code is refused
        until then); the wrong codes are audited, and the admins told once an hour."""
        since = self.service.now() - ATTEMPT_WINDOW
        async with self.service.transaction() as repo:
            recent = await repo.invitation_attempts_since(telegram_id, since, limit=MAX_WRONG_CODES)
        if len(recent) >= MAX_WRONG_CODES:
            raise InvitationBlocked(recent[-1].at + ATTEMPT_WINDOW)
        try:
            actor, role = await self.service.redeem_invitation(
                code, telegram_id, telegram_name, username
            )
        except InvitationInvalid:
            await self._wrong_code(telegram_id, telegram_name, username)
            raise
        async with self.service.transaction() as repo:
            invitation = await repo.invitation(code)
            assert invitation is not None
            division = (
                await repo.division(invitation.division_id) if invitation.division_id else None
            )
            creator = await repo.user(invitation.created_by) if invitation.created_by else None
            admins = await self._admins(repo, except_user=actor.user_id)
        return Redeemed(
            actor,
            role,
            division.name if division else None,
            creator.full_name if creator else None,
            tuple(admins),
        )

    async def _wrong_code(self, telegram_id: int, telegram_name: str, username: str | None) -> None:
        """Count a wrong code; raise ``TooManyWrongCodes`` on the one that reaches the limit."""
        blocked: TooManyWrongCodes | None = None  # raised once the attempt is committed
        async with self.service.transaction() as repo:
            now = self.service.now()
            attempt = await repo.add_invitation_attempt(telegram_id, now)
            recent = await repo.invitation_attempts_since(
                telegram_id, now - ATTEMPT_WINDOW, limit=MAX_WRONG_CODES
            )
            who: dict[str, object] = {
                "telegram_id": telegram_id,
                "telegram_name": telegram_name[:200],
            }
            if username:
                who["username"] = username
            await self.service.audit(
                repo, "invitation.failed", actor_id=None, details={**who, "attempts": len(recent)}
            )
            if len(recent) < MAX_WRONG_CODES:
                return
            until = recent[-1].at + ATTEMPT_WINDOW
            await self.service.audit(
                repo,
                "invitation.blocked",
                actor_id=None,
                details={**who, "attempts": len(recent), "until": until.isoformat()},
            )
            if not any(row.notified for row in recent):  # once per person per hour
                attempt.notified = True
                admins = tuple(await self._admins(repo))
            else:
                admins = ()
            blocked = TooManyWrongCodes(
                WrongCodes(telegram_id, telegram_name, username, len(recent), until), admins
            )
        assert blocked is not None
        raise blocked

    # -- open invitations ------------------------------------------------------------------
    async def _open_view(self, repo: Repository, row: InvitationRow) -> OpenInvitation:
        division = await repo.division(row.division_id) if row.division_id else None
        creator = await repo.user(row.created_by) if row.created_by else None
        return OpenInvitation(
            id=row.id,
            role=Role(row.role),
            division_id=row.division_id,
            division_name=division.name if division else None,
            name=row.name,
            created_by_name=creator.full_name if creator else None,
            created_at=row.created_at,
            expires_at=row.expires_at,
        )

    async def open_invitations(self, *, by: Actor | None = None) -> list[OpenInvitation]:
        """Invitations not yet used, revoked or expired, soonest ending first."""
        async with self.service.transaction() as repo:
            await self._require_admin(repo, by, "Hanya admin yang dapat melihat undangan.")
            rows = await repo.open_invitations(self.service.now())
            return [await self._open_view(repo, row) for row in rows]

    async def revoke_invitation(
        self, invitation_id: int, *, by: Actor | None = None
    ) -> OpenInvitation:
        """Make an open invitation's link stop working."""
        async with self.service.transaction() as repo:
            await self._require_admin(repo, by, "Hanya admin yang dapat membatalkan undangan.")
            row = await repo.invitation_by_id(invitation_id)
            if row is None:
                raise NotFound("Undangan tidak ditemukan.")
            view = await self._open_view(repo, row)
            now = self.service.now()
            if not await repo.revoke_invitation(invitation_id, now, by.user_id if by else None):
                raise InvalidTransition(
                    "Undangan ini sudah dipakai, sudah dibatalkan, atau sudah kedaluwarsa."
                )
            await self.service.audit(
                repo,
                "invitation.revoked",
                actor_id=by.user_id if by else None,
                details={"invitation": invitation_id, "role": view.role, "name": view.name},
            )
            return view

    # -- revoking a role ------------------------------------------------------------------
    async def revocation_warning(self, user_id: int, role: Role) -> RevocationWarning | None:
        """What revoking ``role`` from the person would leave undone: records waiting on
        the role's step with nobody else holding the role (for a Petugas PPID: in their
        division). None when someone else remains or nothing waits."""
        step = _STEP_OF_ROLE.get(role)
        if step is None:
            return None
        async with self.service.transaction() as repo:
            user = await repo.user(user_id)
            if user is None or role not in await repo.roles_of(user_id):
                return None
            division_id = user.division_id if role is Role.PETUGAS_PPID else None
            if role is Role.PETUGAS_PPID and division_id is None:
                return None
            holders = await repo.users_with_role(role, division_id=division_id)
            if any(holder.id != user_id for holder in holders):
                return None
            waiting = await repo.open_run_count(step, division_id=division_id)
            if not waiting:
                return None
            division = await repo.division(division_id) if division_id is not None else None
            return RevocationWarning(role, step, waiting, division.name if division else None)


__all__ = [
    "ATTEMPT_WINDOW",
    "MAX_WRONG_CODES",
    "OpenInvitation",
    "PeopleService",
    "Redeemed",
    "RevocationWarning",
    "TooManyWrongCodes",
    "WrongCodes",
]
