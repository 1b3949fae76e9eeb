"""The one global error handler: log with a reference code, apologise to the user."""

from __future__ import annotations

import logging
import secrets

from telegram import Update
from telegram.error import BadRequest, Forbidden

from bot import texts
from bot.context import PpidContext

log = logging.getLogger(__name__)


async def on_error(update: object, context: PpidContext) -> None:
    """Something failed while handling an update: the log gets the traceback, the user a code."""
    error = context.error
    if isinstance(error, BadRequest) and "message is not modified" in error.message:
        return  # a double press re-rendering the same text: harmless
    reference = secrets.token_hex(4).upper()
    log.error("unhandled error [ref %s] for update %r", reference, update, exc_info=error)
    if not isinstance(update, Update) or isinstance(error, Forbidden):
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(f"Terjadi kesalahan (kode {reference}).")
        if update.effective_chat is not None:
            await context.bot.send_message(
                update.effective_chat.id, texts.ERROR.format(ref=reference)
            )
    except Exception:  # the apology itself must never take the bot down
        log.exception("could not tell the user about error %s", reference)
