"""The house rules for words (tests/test_words.py), checked on what the bot really sent."""

from __future__ import annotations

import re

from tests.emulator import FakeUser

RULES = {
    "'SOP' in capitals": re.compile(r"\b(?:sop|Sop)\b"),
    "'penyimpanan internal PPID'": re.compile(r"(?i)\bstorage (?:internal|bagian)"),
    "no brackets inside brackets": re.compile(r"\([^()]*\("),
    "no bracket right after a bracket": re.compile(r"\)\s*\("),
}


def assert_house_style(*phones: FakeUser) -> None:
    """Every message and button the bot left in these chats keeps the rules."""
    broken = []
    for phone in phones:
        for message in phone.inbox:
            texts = [message.text or "", *(text for text, _ in message.buttons())]
            for text in texts:
                for rule, pattern in RULES.items():
                    if pattern.search(text):
                        broken.append(f"{phone.id}: {rule}: {text[:160]!r}")
    assert broken == []
