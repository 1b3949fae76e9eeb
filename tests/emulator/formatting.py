"""Text formatting as the Bot API does it: parse_mode parsing, trimming, limits.

The parsers are ports of TDLib's ``parse_html``, ``parse_markdown_v2`` and ``parse_markdown``
(td/telegram/MessageEntity.cpp), so a malformed text fails here with the same
``can't parse entities: ...`` description the real server gives. Offsets and lengths of
entities are in UTF-16 code units, as in the Bot API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024


class FormattingError(ValueError):
    """A text the server refuses; ``str(exc)`` is the description after "Bad Request: "."""


@dataclass(frozen=True)
class FormattedText:
    text: str
    entities: list[dict]


def utf16_len(text: str) -> int:
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogatepass"))


def _is_space(ch: str) -> bool:
    # TDLib's is_space(); "\0" stands for the end of the text, as in the C string it reads.
    return ch in " \t\r\n\0\v"


def _is_ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


class _Cursor:
    """Character access past the end of the text yields "\\0", as TDLib's C strings do."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.size = len(text)

    def __getitem__(self, index: int) -> str:
        return self.text[index] if 0 <= index < self.size else "\0"


# ---------------------------------------------------------------------------------------------
# Links


def checked_link(url: str) -> str | None:
    """A usable link for a text_link entity, or None (TDLib then drops the entity silently)."""
    url = url.strip()
    if not url:
        return None
    if url.lower().startswith("tg://"):
        return url
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https", "ton") or not parts.hostname:
        return None
    host = parts.hostname
    if "." not in host or host.startswith(".") or host.endswith("."):
        return None
    return url


def _mention_user_id(url: str) -> int | None:
    match = re.fullmatch(r"tg://user\?id=(\d+)", url.strip(), flags=re.IGNORECASE)
    return int(match.group(1)) if match else None


def _link_entity(offset: int, length: int, url: str) -> dict | None:
    user_id = _mention_user_id(url)
    if user_id is not None:
        user = {"id": user_id, "is_bot": False, "first_name": str(user_id)}
        return {"type": "text_mention", "offset": offset, "length": length, "user": user}
    link = checked_link(url)
    if link is None:
        return None
    return {"type": "text_link", "offset": offset, "length": length, "url": link}


# ---------------------------------------------------------------------------------------------
# HTML

_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SIMPLE_HTML_ENTITIES = {
    "i": "italic",
    "em": "italic",
    "b": "bold",
    "strong": "bold",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}


def _decode_html_entity(cur: _Cursor, pos: int) -> tuple[int, int]:
    """TDLib's decode_html_entity: (code point or 0, position after the entity)."""
    if cur[pos] != "&":
        return 0, pos
    end = pos + 1
    code = 0
    if cur[pos + 1] == "#":
        end += 1
        if cur[pos + 2] == "x":
            end += 1
            while cur[end] in "0123456789abcdefABCDEF" and cur[end] != "\0":
                code = code * 16 + int(cur[end], 16)
                end += 1
        else:
            while cur[end].isascii() and cur[end].isdigit():
                code = code * 10 + int(cur[end])
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while cur[end].isascii() and cur[end].isalpha():
            end += 1
        name = cur.text[pos + 1 : end]
        named = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}.get(name)
        if named is None:
            return 0, pos
        code = ord(named)
    if cur[end] == ";":
        end += 1
    return code, end


def parse_html(text: str) -> FormattedText:
    cur = _Cursor(text)
    result: list[str] = []
    entities: list[dict] = []
    # (tag name, argument, utf16 offset, len(result) at the start)
    nested: list[tuple[str, str, int, int]] = []
    utf16 = 0
    i = 0

    def fail(message: str) -> FormattingError:
        return FormattingError(f"Can't parse entities: {message}")

    while i < cur.size:
        ch = cur[i]
        if ch == "&":
            code, after = _decode_html_entity(cur, i)
            if code:
                result.append(chr(code))
                utf16 += 2 if code > 0xFFFF else 1
                i = after
                continue
        if ch != "<":
            result.append(ch)
            utf16 += utf16_len(ch)
            i += 1
            continue

        begin = i
        begin_bytes = _byte_offset(text, begin)
        i += 1
        if cur[i] != "/":
            while not _is_space(cur[i]) and cur[i] != ">":
                i += 1
            if i >= cur.size:
                raise fail(f"Unclosed start tag at byte offset {begin_bytes}")
            tag = text[begin + 1 : i].lower()
            if tag not in _HTML_TAGS:
                raise fail(f'Unsupported start tag "{tag}" at byte offset {begin_bytes}')

            argument = ""
            while cur[i] != ">":
                while cur[i] != "\0" and _is_space(cur[i]):
                    i += 1
                if cur[i] == ">":
                    break
                attribute_begin = i
                while not _is_space(cur[i]) and cur[i] not in "=>":
                    i += 1
                attribute = text[attribute_begin:i]
                if not attribute:
                    raise fail(
                        f'Empty attribute name in the tag "{tag}" at byte offset {begin_bytes}'
                    )
                while cur[i] != "\0" and _is_space(cur[i]):
                    i += 1
                if tag == "blockquote" and attribute == "expandable" and cur[i] != "=":
                    argument = "expandable"
                    continue
                if cur[i] != "=":
                    raise fail(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {begin_bytes}'
                    )
                i += 1
                while cur[i] != "\0" and _is_space(cur[i]):
                    i += 1
                if i >= cur.size:
                    raise fail(f'Unclosed start tag "{tag}" at byte offset {begin_bytes}')

                if cur[i] not in "'\"":
                    token_begin = i
                    while _is_ascii_alnum(cur[i]) or cur[i] in ".-":
                        i += 1
                    value = text[token_begin:i].lower()
                    if not _is_space(cur[i]) and cur[i] != ">":
                        raise fail(
                            "Unexpected end of name token at byte offset "
                            f"{_byte_offset(text, token_begin)}"
                        )
                else:
                    quote = cur[i]
                    i += 1
                    chars: list[str] = []
                    while cur[i] != quote and i < cur.size:
                        if cur[i] == "&":
                            code, after = _decode_html_entity(cur, i)
                            if code:
                                chars.append(chr(code))
                                i = after
                                continue
                        chars.append(cur[i])
                        i += 1
                    if cur[i] == quote:
                        i += 1
                    value = "".join(chars)
                if i >= cur.size:
                    raise fail(f"Unclosed start tag at byte offset {begin_bytes}")

                if tag == "a" and attribute == "href":
                    argument = value
                elif tag == "code" and attribute == "class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and attribute == "class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
                elif tag == "tg-emoji" and attribute == "emoji-id":
                    argument = value

            if tag == "span" and argument != "spoiler":
                raise fail(f'Tag "span" must have class "tg-spoiler" at byte offset {begin_bytes}')
            nested.append((tag, argument, utf16, len(result)))
            i += 1  # past ">"
            continue

        # An end tag.
        if not nested:
            raise fail(f"Unexpected end tag at byte offset {begin_bytes}")
        while not _is_space(cur[i]) and cur[i] != ">":
            i += 1
        end_tag = text[begin + 2 : i].lower()
        while _is_space(cur[i]) and cur[i] != "\0":
            i += 1
        if cur[i] != ">":
            raise fail(f"Unclosed end tag at byte offset {begin_bytes}")
        tag, argument, offset, result_begin = nested.pop()
        if end_tag and end_tag != tag:
            raise fail(
                f'Unmatched end tag at byte offset {begin_bytes}, expected "</{tag}>", '
                f'found "</{end_tag}>"'
            )
        length = utf16 - offset
        if length > 0:
            entity = _html_entity(tag, argument, offset, length, "".join(result[result_begin:]))
            if entity is not None:
                _merge_pre_code(entities, entity)
        i += 1

    if nested:
        raise fail(f'Can\'t find end tag corresponding to start tag "{nested[-1][0]}"')
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    return FormattedText("".join(result), _sorted(entities))


def _html_entity(tag: str, argument: str, offset: int, length: int, inner: str) -> dict | None:
    if tag in _SIMPLE_HTML_ENTITIES:
        return {"type": _SIMPLE_HTML_ENTITIES[tag], "offset": offset, "length": length}
    if tag == "tg-emoji":
        if not argument.isdigit() or int(argument) == 0:
            raise FormattingError("Invalid custom emoji identifier specified")
        return {
            "type": "custom_emoji",
            "offset": offset,
            "length": length,
            "custom_emoji_id": argument,
        }
    if tag == "a":
        return _link_entity(offset, length, argument or inner)
    if tag == "pre":
        return {"type": "pre", "offset": offset, "length": length}
    if tag == "code":
        entity = {"type": "code", "offset": offset, "length": length}
        if argument:
            entity["language"] = argument
        return entity
    if tag == "blockquote":
        kind = "expandable_blockquote" if argument == "expandable" else "blockquote"
        return {"type": kind, "offset": offset, "length": length}
    raise AssertionError(tag)


def _merge_pre_code(entities: list[dict], entity: dict) -> None:
    """<pre><code class="language-x"> becomes one pre entity with a language, as in TDLib."""
    last = entities[-1] if entities else None
    if last is not None and (last["offset"], last["length"]) == (
        entity["offset"],
        entity["length"],
    ):
        if entity["type"] == "pre" and last["type"] == "code" and "language" in last:
            last["type"] = "pre"
            return
        if entity["type"] == "code" and last["type"] == "pre" and "language" in entity:
            last["language"] = entity["language"]
            return
    entities.append(entity)


# ---------------------------------------------------------------------------------------------
# MarkdownV2

_V2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
    "code": "Code",
    "pre": "Pre",
    "pre_code": "PreCode",
    "custom_emoji": "CustomEmoji",
    "blockquote": "BlockQuote",
}


@dataclass
class _Open:
    kind: str
    argument: str
    offset: int
    byte_offset: int
    result_begin: int


def parse_markdown_v2(text: str) -> FormattedText:
    cur = _Cursor(text)
    result: list[str] = []
    entities: list[dict] = []
    nested: list[_Open] = []
    have_blockquote = False
    utf16 = 0
    i = 0

    def fail(message: str) -> FormattingError:
        return FormattingError(f"Can't parse entities: {message}")

    def reserved(ch: str) -> FormattingError:
        return fail(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")

    while i < cur.size:
        ch = cur[i]
        if ch == "\\" and 0 < ord(cur[i + 1]) <= 126:
            i += 1
            utf16 += 1
            result.append(cur[i])
            i += 1
            continue

        reserved_chars = "_*[]()~`>#+-=|{}.!\n"
        if nested and nested[-1].kind in ("code", "pre", "pre_code"):
            reserved_chars = "`"
        if ch not in reserved_chars:
            result.append(ch)
            utf16 += utf16_len(ch)
            i += 1
            continue

        is_end = False
        if nested:
            top = nested[-1].kind
            if have_blockquote and ch == "\n" and (i + 1 == cur.size or cur[i + 1] != ">"):
                is_end = True
            elif top == "bold":
                is_end = ch == "*"
            elif top == "italic":
                is_end = ch == "_" and cur[i + 1] != "_"
            elif top == "code":
                is_end = ch == "`"
            elif top in ("pre", "pre_code"):
                is_end = ch == "`" and cur[i + 1] == "`" and cur[i + 2] == "`"
            elif top in ("text_link", "custom_emoji"):
                is_end = ch == "]"
            elif top == "underline":
                is_end = ch == "_" and cur[i + 1] == "_"
            elif top == "strikethrough":
                is_end = ch == "~"
            elif top == "spoiler":
                is_end = ch == "|" and cur[i + 1] == "|"

        if not is_end:
            byte_offset = _byte_offset(text, i)
            argument = ""
            kind: str | None
            if ch == "_":
                if cur[i + 1] == "_":
                    kind = "underline"
                    i += 1
                else:
                    kind = "italic"
            elif ch == "*":
                kind = "bold"
            elif ch == "~":
                kind = "strikethrough"
            elif ch == "|":
                if cur[i + 1] != "|":
                    raise reserved(ch)
                i += 1
                kind = "spoiler"
            elif ch == "[":
                kind = "text_link"
            elif ch == "`":
                if cur[i + 1] == "`" and cur[i + 2] == "`":
                    i += 3
                    kind = "pre"
                    language_end = i
                    while not _is_space(cur[language_end]) and cur[language_end] != "`":
                        language_end += 1
                    if i != language_end and language_end < cur.size and cur[language_end] != "`":
                        kind = "pre_code"
                        argument = text[i:language_end]
                        i = language_end
                    if cur[i] in "\n\r" and i < cur.size:
                        if cur[i + 1] in "\n\r" and i + 1 < cur.size and cur[i] != cur[i + 1]:
                            i += 2
                        else:
                            i += 1
                    i -= 1
                else:
                    kind = "code"
            elif ch == "!":
                if cur[i + 1] != "[":
                    raise reserved(ch)
                i += 1
                kind = "custom_emoji"
            elif ch == "\n":
                utf16 += 1
                result.append("\n")
                kind = None
                if i + 1 < cur.size and cur[i + 1] == ">":
                    i += 1
                    if not have_blockquote:
                        kind = "blockquote"
                        have_blockquote = True
            elif ch == ">":
                if i != 0:
                    raise reserved(ch)
                kind = "blockquote"
                have_blockquote = True
            else:
                raise reserved(ch)
            if kind is not None:
                nested.append(_Open(kind, argument, utf16, byte_offset, len(result)))
            i += 1
            continue

        # The end of an entity.
        top_entity = nested[-1]
        kind = top_entity.kind
        if ch == "\n" and kind != "blockquote":
            raise fail(
                f"Can't find end of {_V2_NAMES[kind]} entity at byte offset "
                f"{top_entity.byte_offset}"
            )
        argument = top_entity.argument
        skip = utf16 == top_entity.offset
        entity: dict | None = None
        if kind in ("underline", "spoiler"):
            i += 1
        elif kind in ("pre", "pre_code"):
            i += 2
        elif kind in ("text_link", "custom_emoji"):
            if cur[i + 1] != "(":
                if kind == "custom_emoji":
                    raise FormattingError("Custom emoji entity must contain a tg://emoji URL")
                url = "".join(result[top_entity.result_begin :])
            else:
                i += 2
                url_begin = i
                chars: list[str] = []
                while i < cur.size and cur[i] != ")":
                    if cur[i] == "\\" and 0 < ord(cur[i + 1]) <= 126:
                        chars.append(cur[i + 1])
                        i += 2
                        continue
                    chars.append(cur[i])
                    i += 1
                if cur[i] != ")":
                    what = "a custom emoji URL" if kind == "custom_emoji" else "a URL"
                    raise fail(
                        f"Can't find end of {what} at byte offset {_byte_offset(text, url_begin)}"
                    )
                url = "".join(chars)
            if kind == "custom_emoji":
                match = re.fullmatch(r"tg://emoji\?id=(\d+)", url)
                if not match:
                    raise FormattingError("Invalid custom emoji URL specified")
                argument = match.group(1)
            elif not skip:
                entity = _link_entity(top_entity.offset, utf16 - top_entity.offset, url)
                skip = entity is None
        elif kind == "blockquote":
            have_blockquote = False
            result.append(ch)
            utf16 += 1

        if not skip:
            if entity is None:
                entity = _v2_entity(kind, argument, top_entity.offset, utf16 - top_entity.offset)
            entities.append(entity)
        nested.pop()
        i += 1

    if have_blockquote and nested and nested[-1].kind == "blockquote":
        top_entity = nested.pop()
        if utf16 != top_entity.offset:
            entities.append(
                _v2_entity("blockquote", "", top_entity.offset, utf16 - top_entity.offset)
            )
    if nested:
        raise fail(
            f"Can't find end of {_V2_NAMES[nested[-1].kind]} entity at byte offset "
            f"{nested[-1].byte_offset}"
        )
    return FormattedText("".join(result), _sorted(entities))


def _v2_entity(kind: str, argument: str, offset: int, length: int) -> dict:
    if kind == "pre_code":
        return {"type": "pre", "offset": offset, "length": length, "language": argument}
    if kind == "custom_emoji":
        return {
            "type": "custom_emoji",
            "offset": offset,
            "length": length,
            "custom_emoji_id": argument,
        }
    return {"type": kind, "offset": offset, "length": length}


# ---------------------------------------------------------------------------------------------
# Markdown (legacy)


def parse_markdown(text: str) -> FormattedText:
    cur = _Cursor(text)
    result: list[str] = []
    entities: list[dict] = []
    utf16 = 0
    i = 0
    while i < cur.size:
        ch = cur[i]
        if ch == "\\" and cur[i + 1] in "_*`[" and i + 1 < cur.size:
            i += 1
            result.append(cur[i])
            utf16 += 1
            i += 1
            continue
        if ch not in "_*`[":
            result.append(ch)
            utf16 += utf16_len(ch)
            i += 1
            continue

        begin = i
        end_char = "]" if ch == "[" else ch
        is_pre = False
        language = ""
        i += 1
        if ch == "`" and cur[i] == "`" and cur[i + 1] == "`":
            i += 2
            is_pre = True
            language_end = i
            while not _is_space(cur[language_end]) and cur[language_end] != "`":
                language_end += 1
            if i != language_end and language_end < cur.size and cur[language_end] != "`":
                language = text[i:language_end]
                i = language_end
            if cur[i] in "\n\r" and i < cur.size:
                if cur[i + 1] in "\n\r" and i + 1 < cur.size and cur[i] != cur[i + 1]:
                    i += 2
                else:
                    i += 1

        offset = utf16
        while i < cur.size and (
            cur[i] != end_char or (is_pre and not (cur[i + 1] == "`" and cur[i + 2] == "`"))
        ):
            result.append(cur[i])
            utf16 += utf16_len(cur[i])
            i += 1
        if i == cur.size:
            raise FormattingError(
                "Can't parse entities: Can't find end of the entity starting at byte offset "
                f"{_byte_offset(text, begin)}"
            )
        length = utf16 - offset
        if length:
            if ch == "_":
                entities.append({"type": "italic", "offset": offset, "length": length})
            elif ch == "*":
                entities.append({"type": "bold", "offset": offset, "length": length})
            elif ch == "[":
                if cur[i + 1] != "(":
                    url = text[begin + 1 : i]
                else:
                    i += 2
                    url_begin = i
                    while i < cur.size and cur[i] != ")":
                        i += 1
                    url = text[url_begin:i]
                entity = _link_entity(offset, length, url)
                if entity is not None:
                    entities.append(entity)
            elif is_pre:
                entity = {"type": "pre", "offset": offset, "length": length}
                if language:
                    entity["language"] = language
                entities.append(entity)
            else:
                entities.append({"type": "code", "offset": offset, "length": length})
        if is_pre:
            i += 2
        i += 1
    return FormattedText("".join(result), _sorted(entities))


# ---------------------------------------------------------------------------------------------
# Entry points

_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}


def _sorted(entities: list[dict]) -> list[dict]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"], _PRIORITY.get(e["type"], 50)))


def parse(text: str, parse_mode: str | None, entities: list[dict] | None = None) -> FormattedText:
    """Parse ``text`` the way the Bot API does for ``parse_mode`` (or explicit ``entities``)."""
    mode = (parse_mode or "").strip().lower()
    if mode in ("", "none"):
        return FormattedText(text, _sorted([dict(e) for e in entities or []]))
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown(text)
    raise FormattingError("Unsupported parse_mode")


def trim(formatted: FormattedText) -> FormattedText:
    """Strip leading and trailing whitespace, moving entities along, as TDLib does."""
    text = formatted.text
    stripped_left = text.lstrip()
    removed = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip()
    size = utf16_len(result)
    entities = []
    for entity in formatted.entities:
        start = max(entity["offset"] - removed, 0)
        end = min(entity["offset"] + entity["length"] - removed, size)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return FormattedText(result, entities)


_BOT_COMMAND = re.compile(r"(?<![\w/<>])/[a-zA-Z0-9_]{1,64}(?:@[a-zA-Z0-9_]{3,32})?(?![\w/<>])")


def bot_command_entities(text: str) -> list[dict]:
    """``bot_command`` entities for a text a person typed, as the Telegram clients mark them."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: match.start()]),
            "length": utf16_len(match.group()),
        }
        for match in _BOT_COMMAND.finditer(text)
    ]
