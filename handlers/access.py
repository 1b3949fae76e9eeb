"""The access guard: runs before every handler. Nobody without a role gets anything."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from bot import texts
from bot.context import PpidContext
from handlers import errors

log = logging.getLogger(__name__)


def _is_start(update: Update) -> bool:
    message = update.message
    return bool(message and message.text and message.text.split()[0].split("@")[0] == "/start")


async def guard(update: Update, context: PpidContext) -> None:
    """Resolve the person behind the update; refuse strangers and group chats politely.

    Whatever happens here, an update the guard did not let through never reaches a
    handler: a failure of the guard itself (the database locked beyond its busy timeout,
    Telegram unreachable for the refusal) gets one apology and stops the update."""
    try:
        await _check(update, context)
    except ApplicationHandlerStop:
        raise
    except Exception as exc:
        await errors.apologise(update, context, exc)
        raise ApplicationHandlerStop from exc


async def _check(update: Update, context: PpidContext) -> None:
    user = update.effective_user
    chat = update.effective_chat
    if user is None or user.is_bot:
        raise ApplicationHandlerStop
    if chat is not None and chat.type != ChatType.PRIVATE:
        await _refuse(update, texts.PRIVATE_ONLY, only_commands=True)
        raise ApplicationHandlerStop
    query = update.callback_query
    if query is not None and not query.data:
        # PTB hands a query without data to every button handler, whatever its pattern;
        # no button of ours is empty, so it is stale or forged.
        await query.answer(texts.STALE_BUTTON, show_alert=True)
        raise ApplicationHandlerStop
    actor = await context.service.actor_by_telegram(user.id)
    context.set_actor(actor)
    if actor is not None or _is_start(update):
        return  # /start handles invitations for people not yet registered
    log.warning(
        "refused update %s from unregistered Telegram user %s (%s)",
        update.update_id,
        user.id,
        "callback" if update.callback_query else "message",
    )
    await _refuse(update, texts.not_registered(user.id), alert=texts.not_registered_alert(user.id))
    raise ApplicationHandlerStop


async def _refuse(
    update: Update, text: str, *, alert: str | None = None, only_commands: bool = False
) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer((alert or text)[:200], show_alert=True)
        return
    message = update.effective_message
    if message is None:
        return
    if only_commands and not (message.text or "").startswith("/"):
        return
    await message.reply_text(text)
