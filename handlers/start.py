"""/start (with an invitation code), /bantuan, and what falls through every conversation."""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import texts
from bot.commands import publish_for
from bot.context import PpidContext
from bot.notify import send_safely
from bot.texts import admin as admin_texts
from bot.texts import register as register_texts
from bot.texts import start as t
from sop.errors import InvitationBlocked, SopError
from sop.model import Actor, Role
from sop.people import PeopleService, TooManyWrongCodes


def _role_list(actor: Actor) -> str:
    return ", ".join(texts.ROLE_NAMES[role] for role in Role if actor.has(role))


async def start(update: Update, context: PpidContext) -> None:
    """/start [code]: register through an invitation link, or greet a registered person."""
    message, user = update.message, update.effective_user
    assert message is not None and user is not None
    service = context.service
    code = context.args[0] if context.args else None
    if code:
        await _redeem(message, context, code)
        return
    known = context.maybe_actor
    if known is None:
        await message.reply_text(texts.not_registered(user.id))
        return
    known = await service.touch_user(user.id, user.full_name, user.username) or known
    await message.reply_text(
        t.WELCOME.format(name=texts.h(known.full_name), roles=_role_list(known))
    )
    await publish_for(context.bot, known)


async def _redeem(message: Message, context: PpidContext, code: str) -> None:
    """/start <code>: register through an invitation; the admins hear who used it (or,
    once an hour, that someone keeps sending wrong codes)."""
    user = message.from_user
    assert user is not None
    service = context.service
    try:
        redeemed = await PeopleService(service).redeem(code, user.id, user.full_name, user.username)
    except TooManyWrongCodes as exc:
        await message.reply_text(t.wrong_codes_wait(exc.until, service.tz))
        notice = admin_texts.wrong_codes_notice(exc.attempt, service.tz)
        await send_safely(context.bot, exc.admins, notice, None)
        return
    except InvitationBlocked as exc:
        await message.reply_text(t.wrong_codes_wait(exc.until, service.tz))
        return
    except SopError as exc:
        await message.reply_text(exc.message)
        return
    actor = redeemed.actor
    context.set_actor(actor)
    divisions = {d.id: d.name for d in await service.divisions(include_inactive=True)}
    await message.reply_text(
        t.registered(
            redeemed.role,
            redeemed.division_name,
            admin_texts.roles_line(actor, divisions),
            had_other_roles=len(actor.roles) > 1,
        )
    )
    await publish_for(context.bot, actor)
    await send_safely(
        context.bot, redeemed.admins, admin_texts.invitation_used(redeemed, actor, divisions), None
    )


async def bantuan(update: Update, context: PpidContext) -> None:
    """/bantuan: what this person can do, per role."""
    assert update.message is not None
    actor = context.actor
    parts = [t.help_intro(context.service.step_deadline)]
    parts.extend(t.HELP_ROLE[role] for role in Role if actor.has(role))
    parts.append(
        register_texts.help_text(
            may_open=actor.has(Role.PEJABAT_PPID) or actor.is_admin,
            division_only=not (
                actor.roles & {Role.PEJABAT_PPID, Role.PETUGAS_DOKUMENTASI, Role.ADMIN}
            ),
        )
    )
    parts.append(t.HELP_COMMON)
    await update.message.reply_text("\n\n".join(parts))


async def batal(update: Update, context: PpidContext) -> None:
    """/batal outside any conversation: nothing to cancel."""
    assert update.message is not None
    await update.message.reply_text(texts.NOTHING_TO_CANCEL)


async def unknown_command(update: Update, context: PpidContext) -> None:
    """A command nobody handles."""
    assert update.message is not None
    await update.message.reply_text(texts.UNKNOWN_COMMAND)


async def unexpected(update: Update, context: PpidContext) -> None:
    """Text or a file that no conversation is waiting for."""
    assert update.message is not None
    await update.message.reply_text(texts.NOT_UNDERSTOOD)


async def stale_button(update: Update, context: PpidContext) -> None:
    """A button whose data no handler recognises (old, forged, or from a finished flow)."""
    assert update.callback_query is not None
    await update.callback_query.answer(texts.STALE_BUTTON, show_alert=True)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler(["bantuan", "help"], bantuan))


def register_fallbacks(application: Application) -> None:  # type: ignore[type-arg]
    """Added last to group 0: they see only what no conversation or command took."""
    application.add_handler(CommandHandler("batal", batal))
    application.add_handler(MessageHandler(filters.COMMAND, unknown_command))
    application.add_handler(MessageHandler(filters.ALL & ~filters.StatusUpdate.ALL, unexpected))
    application.add_handler(CallbackQueryHandler(stale_button))
