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
    Message,
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
from bot.texts.fitting import button_text
from handlers.callback_data import CallbackData
from sop.errors import NotFound, NotRegistered, PermissionDenied, SopError
from sop.model import Actor, Division, Invitation, Role
from sop.people import PeopleService

log = logging.getLogger(__name__)

PAGE_SIZE = 8
MAX_INVITATIONS_SHOWN = 20  # a list that always fits one message (invitations live a day)
MENU_KEY = "undang_menu"  # user_data: the message id of the open /undang menu (an int)
CHOICE_KEY = "undang_choice"  # user_data: {"role": str, "division": int | None} before the name


class Undang(IntEnum):
    """The states of the /undang conversation."""

    ROLE = 0
    DIVISION = 1
    NAME = 2


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
class InviteSkipName(CallbackData):
    prefix: ClassVar[str] = "adm:noname"


@dataclass(frozen=True)
class InvitationRevoke(CallbackData):
    prefix: ClassVar[str] = "adm:inv-revoke"
    invitation_id: int


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
    """Drop (and return) the remembered /undang menu message id and choice."""
    if context.user_data is None:
        return None
    context.user_data.pop(CHOICE_KEY, None)
    return context.user_data.pop(MENU_KEY, None)


async def _clear_menu(context: PpidContext, chat_id: int) -> None:
    """Take the buttons off the /undang menu (it is answered or abandoned)."""
    menu_id = _forget_menu(context)
    if isinstance(menu_id, int):
        try:
            await context.bot.edit_message_reply_markup(chat_id, menu_id, reply_markup=None)
        except BadRequest as exc:  # the menu is gone or already without buttons
            log.info("could not clear the /undang menu %s: %s", menu_id, exc)


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
        [InlineKeyboardButton(button_text(d.name), callback_data=InviteDivision(d.id).pack())]
        for d in divisions
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
        return await _ask_name(query, context, role, None)
    keyboard = await _division_keyboard(context)
    if keyboard is None:
        await query.answer(t.NO_DIVISIONS, show_alert=True)
        return None
    await query.answer()
    await query.edit_message_text(t.CHOOSE_DIVISION, reply_markup=keyboard)
    return Undang.DIVISION


async def choose_division(update: Update, context: PpidContext) -> int | None:
    """The admin pressed a division: now the name of the Petugas PPID."""
    query = _query(update)
    data = InviteDivision.parse(query.data)
    assert data is not None
    return await _ask_name(query, context, Role.PETUGAS_PPID, data.division_id)


async def _division(context: PpidContext, division_id: int | None) -> Division | None:
    if division_id is None:
        return None
    divisions = await context.service.divisions(include_inactive=True)
    return next((d for d in divisions if d.id == division_id), None)


async def _ask_name(
    query: CallbackQuery, context: PpidContext, role: Role, division_id: int | None
) -> int | None:
    """Role (and division) chosen: ask for the invitee's official name, or "Lewati"."""
    division = await _division(context, division_id)
    if division_id is not None and division is None:
        await query.answer(t.DIVISION_GONE, show_alert=True)
        return None
    if context.user_data is not None:
        context.user_data[CHOICE_KEY] = {"role": role.value, "division": division_id}
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(t.BUTTON_SKIP_NAME, callback_data=InviteSkipName().pack())],
            [
                InlineKeyboardButton(t.BUTTON_BACK, callback_data=InviteBack().pack()),
                InlineKeyboardButton(t.BUTTON_CANCEL, callback_data=InviteCancel().pack()),
            ],
        ]
    )
    await query.answer()
    await query.edit_message_text(t.ask_name(role, division), reply_markup=keyboard)
    return Undang.NAME


def _choice(context: PpidContext) -> tuple[Role, int | None] | None:
    """The role and division chosen earlier in this /undang, if any."""
    choice = context.user_data.get(CHOICE_KEY) if context.user_data is not None else None
    if not isinstance(choice, dict):
        return None
    role = _role(str(choice.get("role")))
    division = choice.get("division")
    if role is None or not (division is None or isinstance(division, int)):
        return None
    return role, division


async def skip_name(update: Update, context: PpidContext) -> int | None:
    """The admin pressed "Lewati": the link, for a person named as on Telegram."""
    query = _query(update)
    choice = _choice(context)
    if choice is None:
        await query.answer(texts.STALE_BUTTON, show_alert=True)
        return ConversationHandler.END
    role, division_id = choice
    try:
        invitation = await context.service.create_invitation(context.actor, role, division_id)
    except (PermissionDenied, NotRegistered) as exc:
        await query.answer(exc.message[:200], show_alert=True)
        await query.edit_message_text(texts.h(exc.message))
        _forget_menu(context)
        return ConversationHandler.END
    except SopError as exc:  # e.g. a division deactivated meanwhile: choose again
        await query.answer(exc.message[:200], show_alert=True)
        return None
    text, markup = await _invitation_message(context, invitation)
    await query.answer()
    await query.edit_message_text(
        text, reply_markup=markup, link_preview_options=LinkPreviewOptions(is_disabled=True)
    )
    _forget_menu(context)
    return ConversationHandler.END


async def name_given(update: Update, context: PpidContext) -> int | None:
    """The admin typed the invitee's official name: the link, in a new message."""
    message = update.message
    assert message is not None and message.text is not None
    choice = _choice(context)
    if choice is None:  # cannot happen: the name is asked only after a choice
        await message.reply_text(t.INVITE_CANCELLED)
        return ConversationHandler.END
    role, division_id = choice
    try:
        invitation = await context.service.create_invitation(
            context.actor, role, division_id, name=message.text
        )
    except (PermissionDenied, NotRegistered) as exc:
        await message.reply_text(texts.h(exc.message))
        await _clear_menu(context, message.chat_id)
        return ConversationHandler.END
    except SopError as exc:  # a name too short or too long: ask again
        await message.reply_text(f"{texts.h(exc.message)} {t.NAME_AGAIN}")
        return None
    text, markup = await _invitation_message(context, invitation)
    await _clear_menu(context, message.chat_id)
    await message.reply_text(
        text, reply_markup=markup, link_preview_options=LinkPreviewOptions(is_disabled=True)
    )
    return ConversationHandler.END


async def _invitation_message(
    context: PpidContext, invitation: Invitation
) -> tuple[str, InlineKeyboardMarkup]:
    division = await _division(context, invitation.division_id)
    link = t.invite_link(context.bot.username, invitation.code)
    share = f"https://t.me/share/url?url={quote(link, safe='')}&text={quote(t.SHARE_TEXT)}"
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(t.BUTTON_SHARE, url=share)]])
    return t.invitation_created(invitation, link, division), markup


async def back_to_roles(update: Update, context: PpidContext) -> int:
    """The admin pressed "Kembali" (division list, name question): the role buttons again."""
    query = _query(update)
    if context.user_data is not None:
        context.user_data.pop(CHOICE_KEY, None)
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
    await _clear_menu(context, message.chat_id)
    await message.reply_text(t.INVITE_CANCELLED)
    return ConversationHandler.END


async def use_buttons(update: Update, context: PpidContext) -> None:
    """Text or a file while /undang waits for a button: say so and keep waiting."""
    assert update.message is not None
    await update.message.reply_text(t.USE_BUTTONS)


async def name_as_text(update: Update, context: PpidContext) -> None:
    """A file or sticker while /undang waits for the name: say so and keep waiting."""
    assert update.message is not None
    await update.message.reply_text(t.NAME_AS_TEXT)


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
                Undang.NAME: [
                    CallbackQueryHandler(skip_name, pattern=InviteSkipName.regex()),
                    CallbackQueryHandler(back_to_roles, pattern=InviteBack.regex()),
                    cancel,
                    MessageHandler(filters.TEXT & ~filters.COMMAND, name_given),
                    MessageHandler(
                        filters.ALL & ~filters.COMMAND & ~filters.StatusUpdate.ALL, name_as_text
                    ),
                ],
            },
            fallbacks=[CommandHandler("batal", cancel_command)],
            allow_reentry=True,
            name="undang",
            persistent=True,
        )


# -- /undangan -------------------------------------------------------------------------
async def _invitations_view(context: PpidContext) -> tuple[str, InlineKeyboardMarkup | None]:
    """The open invitations with a revoke button each (raises SopError)."""
    invitations = await PeopleService(context.service).open_invitations(by=context.actor)
    if not invitations:
        return t.NO_OPEN_INVITATIONS, None
    shown = invitations[:MAX_INVITATIONS_SHOWN]
    rows = [
        [
            InlineKeyboardButton(
                t.revoke_invitation_button(item),
                callback_data=InvitationRevoke(item.id).pack(),
            )
        ]
        for item in shown
    ]
    return t.open_invitations(shown, len(invitations), context.service.tz), InlineKeyboardMarkup(
        rows
    )


async def undangan(update: Update, context: PpidContext) -> None:
    """/undangan: an admin sees the invitations not yet used, each with a revoke button."""
    message = update.message
    assert message is not None
    if not context.actor.is_admin:
        await message.reply_text(t.ADMIN_ONLY)
        return
    try:
        text, markup = await _invitations_view(context)
    except SopError as exc:
        await message.reply_text(texts.h(exc.message))
        return
    await message.reply_text(text, reply_markup=markup)


async def invitation_revoke(update: Update, context: PpidContext) -> None:
    """The admin pressed "Batalkan #n": that link stops working; the list is redrawn."""
    query = _query(update)
    data = InvitationRevoke.parse(query.data)
    assert data is not None
    try:
        await PeopleService(context.service).revoke_invitation(data.invitation_id, by=context.actor)
    except (PermissionDenied, NotRegistered) as exc:
        await query.answer(exc.message[:200], show_alert=True)
        return
    except SopError as exc:  # used, revoked or expired meanwhile
        await query.answer(exc.message[:200], show_alert=True)
        if not _shows_button(query):
            return  # the list was redrawn already
    else:
        await query.answer(t.INVITATION_REVOKED, show_alert=True)
    text, markup = await _invitations_view(context)
    await query.edit_message_text(text, reply_markup=markup)


def _shows_button(query: CallbackQuery) -> bool:
    """Whether the pressed button is still on its message (not an older drawing's)."""
    message = query.message
    markup = message.reply_markup if isinstance(message, Message) else None
    return markup is not None and any(
        button.callback_data == query.data for row in markup.inline_keyboard for button in row
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
    reach = await context.notices.outbox.reachability([p.user_id for p in shown])
    return t.people_page(shown, divisions, page, pages, reach), InlineKeyboardMarkup(rows)


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
    warning = await PeopleService(context.service).revocation_warning(person.user_id, role)
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
        context.actor.telegram_id, t.confirm_revoke(role, person, warning), reply_markup=keyboard
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
    await publish_for(context.bot, person)
    if person.user_id != context.actor.user_id:
        divisions = {d.id: d.name for d in await service.divisions(include_inactive=True)}
        await send_safely(context.bot, [person], t.revoked_notice(role, person, divisions), None)
    await query.edit_message_text(t.revoked(role, person, service.clock.now()))


async def revoke_cancel(update: Update, context: PpidContext) -> None:
    """The admin pressed "Batal" on a revoke confirmation: nothing changes."""
    query = _query(update)
    await query.answer()
    await query.edit_message_text(t.REVOKE_CANCELLED)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(_undang_conversation())
    application.add_handler(CommandHandler("undangan", undangan))
    application.add_handler(
        CallbackQueryHandler(invitation_revoke, pattern=InvitationRevoke.regex())
    )
    application.add_handler(CommandHandler("pengguna", pengguna))
    application.add_handler(CallbackQueryHandler(people_page, pattern=PeoplePage.regex()))
    application.add_handler(CallbackQueryHandler(revoke_ask, pattern=RevokeAsk.regex()))
    application.add_handler(CallbackQueryHandler(revoke_confirm, pattern=RevokeConfirm.regex()))
    application.add_handler(CallbackQueryHandler(revoke_cancel, pattern=RevokeCancel.regex()))


__all__ = ["register"]
