"""The text read from a record's softcopies, as cards show it (``sop.document_text``), and
the personal-data suggestion a Petugas PPID may take over into the record."""

from __future__ import annotations

from dataclasses import dataclass

from bot.context import PpidContext
from bot.texts import pii as texts
from sop.document_text import DocumentText, TextService, combined_hints
from sop.model import PASAL17, RecordView
from sop.validation import MAX_CONSEQUENCE


async def documents_of(context: PpidContext, record: RecordView) -> list[DocumentText]:
    """The record's softcopies with their text state (none when texts are not read)."""
    if not context.runtime.settings.document_texts:
        return []
    return await TextService(context.service).record_texts(context.actor, record.id)


def block_of(documents: list[DocumentText]) -> str:
    """The texts' block to add to a card ("" without softcopies)."""
    block = texts.texts_block(documents)
    return f"\n\n{block}" if block else ""


async def document_texts(context: PpidContext, record: RecordView) -> str:
    """The softcopies' text state and personal-data hints, as a block to add to a card
    ("" when texts are not read or the record has no softcopy)."""
    return block_of(await documents_of(context, record))


@dataclass(frozen=True, slots=True)
class Suggested:
    """What taking over the suggestion changes: the letters, the consequence test."""

    pasal17: tuple[str, ...]
    consequence: str
    replaced: bool  # the officer's consequence test was too long to add the sentence to


def suggestion_for(record: RecordView, documents: list[DocumentText]) -> Suggested | None:
    """The hints' suggestion for this record, None when there is none or it is in already."""
    found = combined_hints(documents)
    suggestion = found.suggestion if found is not None else None
    if suggestion is None:
        return None
    sentence = texts.consequence_sentence(suggestion)
    fields = record.fields
    letters = set(fields.pasal17) | {suggestion.letter}
    pasal17 = tuple(letter for letter in PASAL17 if letter in letters)
    current = fields.consequence.strip()
    if sentence in current:
        if pasal17 == tuple(fields.pasal17):
            return None
        return Suggested(pasal17, fields.consequence, False)
    joined = f"{current} {sentence}" if current else sentence
    if len(joined) <= MAX_CONSEQUENCE:
        return Suggested(pasal17, joined, False)
    return Suggested(pasal17, sentence, True)
