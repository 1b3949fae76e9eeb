"""The text read from a record's softcopies, as cards show it (``sop.document_text``)."""

from __future__ import annotations

from bot.context import PpidContext
from bot.texts import pii as texts
from sop.document_text import TextService
from sop.model import RecordView


async def document_texts(context: PpidContext, record: RecordView) -> str:
    """The softcopies' text state and personal-data hints, as a block to add to a card
    ("" when texts are not read or the record has no softcopy)."""
    if not context.runtime.settings.document_texts:
        return ""
    documents = await TextService(context.service).record_texts(context.actor, record.id)
    block = texts.texts_block(documents)
    return f"\n\n{block}" if block else ""
