"""Indonesian word forms for /cari: the root word (kata dasar) of each word, by PySastrawi
(the Nazief-Adriani stemmer with its dictionary of root words).

"pemilih", "memilih", "dipilih" and "pemilihan" all have the root "pilih": the pages of a
document keep the roots of their words beside the text (``document_pages.stems``), and a
search word also finds its root there, so "pemilih" finds a page that says "memilih".
Pure Python, no database or Telegram (a text worker process stems the pages it read).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache

from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

__all__ = ["page_stems", "root", "roots"]

#: Words as the full-text indexes split them (runs of letters and digits), lower case.
_WORD = re.compile(r"[^\W_]+")


@cache
def _stemmer() -> object:
    return StemmerFactory().create_stemmer()


@lru_cache(maxsize=50_000)
def root(word: str) -> str:
    """The root of one lower-case word ("pemilih" -> "pilih"); a word of digits, or one
    the stemmer does not shorten, is its own root."""
    if not word.isalpha() or len(word) < 4:
        return word
    stemmed: str = _stemmer().stem(word)  # type: ignore[attr-defined]
    return stemmed if stemmed and " " not in stemmed else word


def roots(words: Sequence[str]) -> list[str]:
    """The root of each search word, in order (the word itself when it has no other)."""
    return [root(word) for word in words]


def page_stems(text: str) -> str:
    """The distinct roots of a page's words that differ from the word itself, space-
    separated in order of first appearance (what the full-text index keeps beside the
    text: the words themselves are indexed from the text)."""
    seen: dict[str, None] = {}
    for word in _words(text):
        stem = root(word)
        if stem != word:
            seen.setdefault(stem, None)
    return " ".join(seen)


def _words(text: str) -> Iterable[str]:
    return _WORD.findall(text.lower())
