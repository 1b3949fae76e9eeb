"""Whether people can be reached: whoever writes to the bot has opened it; Telegram tells
the bot when someone blocks or unblocks it. Notices that could not reach a person are sent
again as soon as they are back."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.ext import ApplicationHandlerStop

from bot.context import PpidContext


async def wrote(update: Update, context: PpidContext) -> None:
    """Any message or button press from a person in their chat with the bot."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or user.is_bot or chat is None or chat.type != ChatType.PRIVATE:
        return
    await context.notices.contacted(user.id)


async def member_changed(update: Update, context: PpidContext) -> None:
    """The person blocked the bot (kicked), or unblocked / restarted it (member)."""
    change = update.my_chat_member
    if change is None or change.chat.type != ChatType.PRIVATE:
        raise ApplicationHandlerStop
    status = change.new_chat_member.status
    if status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
        await context.notices.blocked(change.from_user.id)
    elif status == ChatMemberStatus.MEMBER:
        await context.notices.contacted(change.from_user.id)
    raise ApplicationHandlerStop  # nothing else handles these
