"""People and access in Telegram: /undang (one-time invitation links) and /pengguna (the
people, their roles, and revoking a role). Admins only; the domain checks again."""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar
from urllib.parse import quote

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot import texts
from bot.commands import publish_for
from bot.context import PpidContext
from bot.notify import send_safely
from bot.texts import admin as t
from handlers.callback_data import CallbackData
from sop.errors import NotFound, NotRegistered, PermissionDenied, SopError
from sop.model import Actor, Role

log = logging.getLogger(__name__)

PAGE_SIZE = 8
MENU_KEY = "undang_menu"  # user_data: the message id of the open /undang menu (an int)


class Undang(IntEnum):
    """The states of the /undang conversation."""

    ROLE = 0
    DIVISION = 1


# -- callback data ("adm" family) ------------------------------------------------------
@dataclass(frozen=True)
class InviteRole(CallbackData):
    prefix: ClassVar[str] = "adm:role"
    role: str


@dataclass(frozen=True)
class InviteDivision(CallbackData):
    prefix: ClassVar[str] = "adm:div"
    division_id: int


@dataclass(frozen=True)
class InviteBack(CallbackData):
    prefix: ClassVar[str] = "adm:back"


@dataclass(frozen=True)
class InviteCancel(CallbackData):
    prefix: ClassVar[str] = "adm:stop"


@dataclass(frozen=True)
class PeoplePage(CallbackData):
    prefix: ClassVar[str] = "adm:page"
    page: int


@dataclass(frozen=True)
class RevokeAsk(CallbackData):
    prefix: ClassVar[str] = "adm:revoke"
    user_id: int
    role: str


@dataclass(frozen=True)
class RevokeConfirm(CallbackData):
    prefix: ClassVar[str] = "adm:revoke-yes"
    user_id: int
    role: str


@dataclass(frozen=True)
class RevokeCancel(CallbackData):
    prefix: ClassVar[str] = "adm:revoke-no"


def _role(value: str) -> Role | None:
    try:
        return Role(value)
    except ValueError:
        return None


def _forget_menu(context: PpidContext) -> object:
    """Drop (and return) the remembered /undang menu message id."""
    return context.user_data.pop(MENU_KEY, None) if context.user_data is not None else None


def _query(update: Update) -> CallbackQuery:
    query = update.callback_query
    assert query is not None
    return query


# -- /undang ---------------------------------------------------------------------------
def _role_keyboard() -> InlineKeyboardMarkup:
    rows = [
        [InlineKeyboardButton(texts.ROLE_NAMES[role], callback_data=InviteRole(role).pack())]
        for role in Role
    ]
    rows.append([InlineKeyboardButton(t.BUTTON_CANCEL, callback_data=InviteCancel().pack())])
    return InlineKeyboardMarkup(rows)


async def _division_keyboard(context: PpidContext) -> InlineKeyboardMarkup | None:
    divisions = await context.service.divisions()
    if not divisions:
        return None
    rows = [
        [InlineKeyboardButton(d.name, callback_data=InviteDivision(d.id).pack())] for d in divisions
    ]
    rows.append(
        [
            InlineKeyboardButton(t.BUTTON_BACK, callback_data=InviteBack().pack()),
            InlineKeyboardButton(t.BUTTON_CANCEL, callback_data=InviteCancel().pack()),
        ]
    )
    return InlineKeyboardMarkup(rows)


async def undang(update: Update, context: PpidContext) -> int:
    """/undang: an admin gets the role buttons; anyone else a polite refusal."""
    message = update.message
    assert message is not None
    if not context.actor.is_admin:
        await message.reply_text(t.ADMIN_ONLY)
        return ConversationHandler.END
    menu = await message.reply_text(t.CHOOSE_ROLE, reply_markup=_role_keyboard())
    if context.user_data is not None:
        context.user_data[MENU_KEY] = menu.message_id
    return Undang.ROLE


async def choose_role(update: Update, context: PpidContext) -> int | None:
    """The admin pressed a role: Petugas PPID asks for the division, others get the link."""
    query = _query(update)
    data = InviteRole.parse(query.data)
    role = _role(data.role) if data else None
    if role is None:
        await query.answer(texts.STALE_BUTTON, show_alert=True)
        return None
    if role is not Role.PETUGAS_PPID:
        return await _invite(query, context, role, None)
    keyboard = await _division_keyboard(context)
    if keyboard is None:
        await query.answer(t.NO_DIVISIONS, show_alert=True)
        return None
    await query.answer()
    await query.edit_message_text(t.CHOOSE_DIVISION, reply_markup=keyboard)
    return Undang.DIVISION


async def choose_division(update: Update, context: PpidContext) -> int | None:
    """The admin pressed a division: the Petugas PPID invitation link for it."""
    query = _query(update)
    data = InviteDivision.parse(query.data)
    assert data is not None
    return await _invite(query, context, Role.PETUGAS_PPID, data.division_id)


async def _invite(
    query: CallbackQuery, context: PpidContext, role: Role, division_id: int | None
) -> int | None:
    service = context.service
    try:
        invitation = await service.create_invitation(context.actor, role, division_id)
    except (PermissionDenied, NotRegistered) as exc:
        await query.answer(exc.message[:200], show_alert=True)
        await query.edit_message_text(texts.h(exc.message))
        _forget_menu(context)
        return ConversationHandler.END
    except SopError as exc:  # e.g. a division deactivated meanwhile: choose again
        await query.answer(exc.message[:200], show_alert=True)
        return None
    division = None
    if invitation.division_id is not None:
        divisions = await service.divisions(include_inactive=True)
        division = next((d for d in divisions if d.id == invitation.division_id), None)
    link = t.invite_link(context.bot.username, invitation.code)
    share = f"https://t.me/share/url?url={quote(link, safe='')}&text={quote(t.SHARE_TEXT)}"
    await query.answer()
    await query.edit_message_text(
        t.invitation_created(invitation, link, division),
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton(t.BUTTON_SHARE, url=share)]]),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
    _forget_menu(context)
    return ConversationHandler.END


async def back_to_roles(update: Update, context: PpidContext) -> int:
    """The admin pressed "Kembali" on the division list: the role buttons again."""
    query = _query(update)
    await query.answer()
    await query.edit_message_text(t.CHOOSE_ROLE, reply_markup=_role_keyboard())
    return Undang.ROLE


async def cancel_button(update: Update, context: PpidContext) -> int:
    """The admin pressed "Batal" on the /undang menu: nothing is created."""
    query = _query(update)
    await query.answer()
    await query.edit_message_text(t.INVITE_CANCELLED)
    _forget_menu(context)
    return ConversationHandler.END


async def cancel_command(update: Update, context: PpidContext) -> int:
    """/batal during /undang: nothing is created and the menu loses its buttons."""
    message = update.message
    assert message is not None
    menu_id = _forget_menu(context)
    if isinstance(menu_id, int):
        try:
            await context.bot.edit_message_reply_markup(message.chat_id, menu_id, reply_markup=None)
        except BadRequest as exc:  # the menu is gone or already without buttons
            log.info("could not clear the /undang menu %s: %s", menu_id, exc)
    await message.reply_text(t.INVITE_CANCELLED)
    return ConversationHandler.END


async def use_buttons(update: Update, context: PpidContext) -> None:
    """Text or a file while /undang waits for a button: say so and keep waiting."""
    assert update.message is not None
    await update.message.reply_text(t.USE_BUTTONS)


def _undang_conversation() -> ConversationHandler:  # type: ignore[type-arg]
    waiting: BaseHandler[Update, PpidContext, object] = MessageHandler(
        filters.ALL & ~filters.COMMAND & ~filters.StatusUpdate.ALL, use_buttons
    )
    cancel: BaseHandler[Update, PpidContext, object] = CallbackQueryHandler(
        cancel_button, pattern=InviteCancel.regex()
    )
    # Buttons are tracked per chat and user, not per message: a press on an older /undang
    # menu of the same admin acts on the current conversation, which is what we want.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*per_message=False", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=[CommandHandler("undang", undang)],
            states={
                Undang.ROLE: [
                    CallbackQueryHandler(choose_role, pattern=InviteRole.regex()),
                    cancel,
                    waiting,
                ],
                Undang.DIVISION: [
                    CallbackQueryHandler(choose_division, pattern=InviteDivision.regex()),
                    CallbackQueryHandler(back_to_roles, pattern=InviteBack.regex()),
                    cancel,
                    waiting,
                ],
            },
            fallbacks=[CommandHandler("batal", cancel_command)],
            allow_reentry=True,
            name="undang",
            persistent=True,
        )


# -- /pengguna -------------------------------------------------------------------------
async def _people_view(context: PpidContext, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of the people list with a revoke button per role (raises SopError)."""
    service = context.service
    people = [p for p in await service.people(by=context.actor) if p.active and p.roles]
    if not people:
        return t.NO_PEOPLE, None
    people.sort(key=lambda p: (p.full_name.casefold(), p.user_id))
    pages = math.ceil(len(people) / PAGE_SIZE)
    page = min(max(page, 0), pages - 1)
    shown = people[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    divisions = {d.id: d.name for d in await service.divisions(include_inactive=True)}
    rows = [
        [
            InlineKeyboardButton(
                t.revoke_button(role, person),
                callback_data=RevokeAsk(person.user_id, role).pack(),
            )
        ]
        for person in shown
        for role in Role
        if role in person.roles
    ]
    nav = []
    if page > 0:
        nav.append(
            InlineKeyboardButton(t.BUTTON_PREVIOUS, callback_data=PeoplePage(page - 1).pack())
        )
    if page < pages - 1:
        nav.append(InlineKeyboardButton(t.BUTTON_NEXT, callback_data=PeoplePage(page + 1).pack()))
    if nav:
        rows.append(nav)
    return t.people_page(shown, divisions, page, pages), InlineKeyboardMarkup(rows)


async def pengguna(update: Update, context: PpidContext) -> None:
    """/pengguna: an admin sees the people, their roles and revoke buttons; others a refusal."""
    message = update.message
    assert message is not None
    if not context.actor.is_admin:
        await message.reply_text(t.ADMIN_ONLY)
        return
    try:
        text, markup = await _people_view(context, 0)
    except SopError as exc:
        await message.reply_text(texts.h(exc.message))
        return
    await message.reply_text(text, reply_markup=markup)


async def people_page(update: Update, context: PpidContext) -> None:
    """The admin pressed "Sebelumnya"/"Berikutnya" on the people list: that page."""
    query = _query(update)
    data = PeoplePage.parse(query.data)
    assert data is not None
    try:
        text, markup = await _people_view(context, data.page)
    except SopError as exc:
        await query.answer(exc.message[:200], show_alert=True)
        return
    await query.answer()
    await query.edit_message_text(text, reply_markup=markup)


async def _person(context: PpidContext, user_id: int, *, by: Actor | None) -> Actor | None:
    people = await context.service.people(by=by)
    return next((p for p in people if p.user_id == user_id), None)


async def revoke_ask(update: Update, context: PpidContext) -> None:
    """The admin pressed "Cabut <peran> – <nama>": ask "Ya, cabut" / "Batal"."""
    query = _query(update)
    data = RevokeAsk.parse(query.data)
    role = _role(data.role) if data else None
    if data is None or role is None:
        await query.answer(texts.STALE_BUTTON, show_alert=True)
        return
    try:
        person = await _person(context, data.user_id, by=context.actor)
    except SopError as exc:
        await query.answer(exc.message[:200], show_alert=True)
        return
    if person is None or role not in person.roles:
        await query.answer(t.PERSON_GONE if person is None else t.ROLE_GONE, show_alert=True)
        return
    await query.answer()
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t.BUTTON_CONFIRM_REVOKE,
                    callback_data=RevokeConfirm(person.user_id, role).pack(),
                ),
                InlineKeyboardButton(t.BUTTON_CANCEL, callback_data=RevokeCancel().pack()),
            ]
        ]
    )
    await context.bot.send_message(
        context.actor.telegram_id, t.confirm_revoke(role, person), reply_markup=keyboard
    )


async def revoke_confirm(update: Update, context: PpidContext) -> None:
    """The admin pressed "Ya, cabut": the role is revoked and that person's menu updated."""
    query = _query(update)
    data = RevokeConfirm.parse(query.data)
    role = _role(data.role) if data else None
    if data is None or role is None:
        await query.answer(texts.STALE_BUTTON, show_alert=True)
        return
    service = context.service
    try:
        await service.revoke_role(data.user_id, role, by=context.actor)
    except NotFound as exc:  # a double tap: the first press revoked it; keep its message
        await query.answer(exc.message[:200], show_alert=True)
        return
    except SopError as exc:  # not an admin (any more), or the last admin
        await query.answer(exc.message[:200], show_alert=True)
        await query.edit_message_text(texts.h(exc.message))
        return
    await query.answer()
    person = await _person(context, data.user_id, by=None)  # the admin may have revoked self
    if person is None:  # cannot happen: people are never deleted
        await query.edit_message_text(t.PERSON_GONE)
        return
    log.info("role %s revoked from user %s by %s", role, person.user_id, context.actor.user_id)
    await publish_for(context.bot, person)
    if person.user_id != context.actor.user_id:
        await send_safely(context.bot, [person], t.revoked_notice(role), None)
    await query.edit_message_text(t.revoked(role, person, service.clock.now()))


async def revoke_cancel(update: Update, context: PpidContext) -> None:
    """The admin pressed "Batal" on a revoke confirmation: nothing changes."""
    query = _query(update)
    await query.answer()
    await query.edit_message_text(t.REVOKE_CANCELLED)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(_undang_conversation())
    application.add_handler(CommandHandler("pengguna", pengguna))
    application.add_handler(CallbackQueryHandler(people_page, pattern=PeoplePage.regex()))
    application.add_handler(CallbackQueryHandler(revoke_ask, pattern=RevokeAsk.regex()))
    application.add_handler(CallbackQueryHandler(revoke_confirm, pattern=RevokeConfirm.regex()))
    application.add_handler(CallbackQueryHandler(revoke_cancel, pattern=RevokeCancel.regex()))


__all__ = ["register"]
