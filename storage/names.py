"""Neutralising user-supplied file names and turning labels into folder slugs."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["FALLBACK_FILENAME", "FALLBACK_SLUG", "sanitize_filename", "slugify"]

#: Used when nothing usable is left of a file name ("berkas" = "file").
FALLBACK_FILENAME = "berkas"
#: Used when nothing usable is left of a folder label ("lainnya" = "other").
FALLBACK_SLUG = "lainnya"

# The smallest max_bytes that still leaves room for the fallback name and an extension.
_MIN_MAX_BYTES = 24
# An extension (dot included) longer than this is treated as part of the stem.
_MAX_EXT_BYTES = 16

# Unicode categories kept as they are: letters, digits/numbers and the combining marks
# that some scripts (Devanagari, Thai, Arabic harakat, ...) need even after NFC.
_KEPT_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Nd", "Nl", "No", "Mn", "Mc"})
_KEPT_PUNCTUATION = frozenset("-_.")

# Device names that Windows refuses as a file name, even with an extension ("CON.docx").
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
)

_DRIVE_PREFIX = re.compile(r"^[A-Za-z]:")
_UNDERSCORE_RUN = re.compile(r"_{2,}")
_DOT_RUN = re.compile(r"\.{2,}")
_UNDERSCORE_AROUND_DOT = re.compile(r"_*\._*")
_EDGE_JUNK = "._- "


def sanitize_filename(name: str | bytes, *, max_bytes: int = 120) -> str:
    """Return a file name that is safe to use as one path component on any common filesystem.

    - bytes are decoded as UTF-8 with ``errors="replace"`` and the replacement character dropped;
    - the result is normalised to NFC (so a decomposed ``e\u0301`` is one ``é``);
    - NUL, control and format characters (e.g. the right-to-left override) are removed,
      whitespace becomes ``_``;
    - only the last path component is kept (``/`` and ``\\`` both count, a drive letter is
      dropped), so ``../../etc/passwd`` becomes ``passwd``;
    - every character other than a letter, digit, ``-``, ``_`` or ``.`` becomes ``_`` (this
      covers the Windows-forbidden ``<>:"/\\|?*``); runs of ``_`` and ``.`` are collapsed;
    - leading and trailing dots, spaces, ``_`` and ``-`` are stripped (no hidden files, no
      names that look like command-line options, nothing Windows would silently drop);
    - Windows device names (``CON``, ``NUL``, ``COM1``...) get a ``_`` appended;
    - the result is at most ``max_bytes`` UTF-8 bytes, cut on a character boundary and keeping
      the extension;
    - nothing usable left (``""``, ``"."``, ``".."``) gives ``"berkas"``.
    """
    if max_bytes < _MIN_MAX_BYTES:
        raise ValueError(f"max_bytes must be at least {_MIN_MAX_BYTES}, got {max_bytes}")
    if isinstance(name, bytes | bytearray | memoryview):
        text = bytes(name).decode("utf-8", errors="replace")
    elif isinstance(name, str):
        text = name
    else:
        raise TypeError(f"file name must be str or bytes, not {type(name).__name__}")

    text = "".join(_clean_char(ch) for ch in text.replace("\ufffd", ""))

    # Keep only the last path component, whatever the separator, and drop a drive letter.
    text = re.split(r"[/\\]", text)[-1]
    text = _DRIVE_PREFIX.sub("", text)

    text = text.strip(" .")
    text = "".join(_map_char(ch) for ch in text)
    text = _UNDERSCORE_RUN.sub("_", text)
    text = _UNDERSCORE_AROUND_DOT.sub(".", text)
    text = _DOT_RUN.sub(".", text)
    # Normalise last: removing characters above may have made new neighbours composable.
    text = unicodedata.normalize("NFC", text).strip(_EDGE_JUNK)
    if not text:
        return FALLBACK_FILENAME

    text = _truncate_keeping_extension(_avoid_reserved(text), max_bytes)
    # Truncation only shortens the end of the stem, so the first segment (and with it the
    # reserved-name fix) survives; checking again costs nothing and keeps that an invariant.
    return _avoid_reserved(text)


def slugify(text: str, *, max_len: int = 60) -> str:
    """Return a lowercase folder name made of letters, digits and single hyphens.

    Accents are stripped from Latin letters (``"Hukum & SDM Ä"`` -> ``"hukum-sdm-a"``);
    letters of other scripts are kept (lowercased) so that different labels stay distinct.
    Everything else becomes one hyphen. An empty result gives ``"lainnya"``.
    Idempotent: ``slugify(slugify(x)) == slugify(x)``.
    """
    if max_len < len(FALLBACK_SLUG):
        raise ValueError(f"max_len must be at least {len(FALLBACK_SLUG)}, got {max_len}")
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    decomposed = unicodedata.normalize("NFKD", text.replace("\ufffd", ""))
    without_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    folded = unicodedata.normalize("NFC", without_marks.casefold())
    slug = "".join(ch if ch.isalnum() else "-" for ch in folded)
    slug = re.sub(r"-{2,}", "-", slug).strip("-")
    slug = slug[:max_len].rstrip("-")
    return slug or FALLBACK_SLUG


def _clean_char(ch: str) -> str:
    if ch.isspace():
        return " "
    if unicodedata.category(ch).startswith("C"):
        # Cc (NUL, controls), Cf (bidi overrides, zero-width), Cs (lone surrogates),
        # Co (private use) and Cn (unassigned) never belong in a file name.
        return ""
    return ch


def _map_char(ch: str) -> str:
    if ch in _KEPT_PUNCTUATION or unicodedata.category(ch) in _KEPT_CATEGORIES:
        return ch
    return "_"


def _avoid_reserved(text: str) -> str:
    first, dot, rest = text.partition(".")
    if first.upper() in _WINDOWS_RESERVED:
        return f"{first}_{dot}{rest}"
    return text


def _truncate_keeping_extension(text: str, max_bytes: int) -> str:
    if len(text.encode("utf-8")) <= max_bytes:
        return text
    stem, dot, ext = text.rpartition(".")
    extension = f".{ext}"
    if not (dot and stem and ext and len(extension.encode("utf-8")) <= _MAX_EXT_BYTES):
        stem, extension = text, ""
    budget = max_bytes - len(extension.encode("utf-8"))
    stem = _truncate_utf8(stem, budget).rstrip(_EDGE_JUNK)
    return (stem or FALLBACK_FILENAME) + extension


def _truncate_utf8(text: str, max_bytes: int) -> str:
    # The input is valid UTF-8, so "ignore" can only drop a character cut in half at the end.
    return text.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")
