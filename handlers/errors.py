"""The one global error handler: log with a reference code, apologise to the user."""

from __future__ import annotations

import contextlib
import logging
import secrets

from telegram import Update
from telegram.error import BadRequest, Forbidden, TelegramError

from bot import texts
from bot.context import PpidContext

log = logging.getLogger(__name__)


async def on_error(update: object, context: PpidContext) -> None:
    """Something failed while handling an update: the log gets the traceback, the user a code."""
    error = context.error
    if isinstance(error, BadRequest) and "message is not modified" in error.message:
        return  # a double press re-rendering the same text: harmless
    await apologise(update, context, error)


async def apologise(update: object, context: PpidContext, error: BaseException | None) -> None:
    """Log ``error`` under a fresh reference code and tell the person, whatever state the
    update is in: a button already answered (or too old to answer) still gets the message."""
    reference = secrets.token_hex(4).upper()
    log.error("unhandled error [ref %s] for update %r", reference, update, exc_info=error)
    if not isinstance(update, Update) or isinstance(error, Forbidden):
        return
    query = update.callback_query
    if query is not None:
        # The handler may have answered already; a second answer fails, and that is fine.
        with contextlib.suppress(TelegramError):
            await query.answer(texts.ERROR_ALERT.format(ref=reference))
    if update.effective_chat is None:
        return
    try:
        await context.bot.send_message(update.effective_chat.id, texts.ERROR.format(ref=reference))
    except Exception:  # the apology itself must never take the bot down
        log.exception("could not tell the user about error %s", reference)
