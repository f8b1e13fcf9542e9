"""The text rules of Versit content lines, shared by the tokenizer
(:mod:`.versit`) and the formats built on it: quoted-printable, folding,
backslash escapes, splitting at unescaped / unquoted separators, and the
content-line head ``[group.]name(;param)*``.  Pure functions of bytes and
str; every one is linear in its input (values can be large: a PHOTO of a
few hundred KiB), so none loops over characters in Python where ``re`` or a
bytes method can do it."""

from __future__ import annotations

import functools
import re

__all__ = [
    "FOLD_MODERN",
    "Param",
    "decode_text",
    "escape_value",
    "find_colon",
    "fold_line",
    "parse_head",
    "parse_head_bytes",
    "qp_decode",
    "qp_encode",
    "split_escaped",
    "split_unquoted",
    "unescape_value",
    "unquoted_colon",
]

Param = tuple[str | None, str]
"""One parameter: ``(name, value)``, name None for a nameless one (``TEL;CELL``)."""

#: a fold of vCard 3.0 / iCalendar (the line break and one blank go)
FOLD_MODERN = re.compile(rb"\r?\n[ \t]")
_QP_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")
_QP_LINE = 76
_NAME = re.compile(r"[A-Za-z0-9_-]+")
_UNESCAPE = re.compile(r"\\(.)", re.S)


def decode_text(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def qp_decode(b: bytes) -> bytes:
    return _QP_HEX.sub(lambda m: bytes((int(m.group(1), 16),)), b)


def qp_encode(octets: bytes, start: int, eol: bytes) -> bytes:
    out = bytearray()
    col = start
    for i, byte in enumerate(octets):
        last = i == len(octets) - 1
        plain = (33 <= byte <= 126 and byte != 61) or (byte in (9, 32) and not last)
        tok = bytes((byte,)) if plain else b"=%02X" % byte
        if col + len(tok) > _QP_LINE - 1:
            out += b"=" + eol
            col = 0
        out += tok
        col += len(tok)
    return bytes(out)


def fold_line(line: bytes, eol: bytes, width: int = 75) -> bytes:
    """Fold at ``width`` octets, never inside a UTF-8 sequence."""
    out = bytearray()
    start, limit = 0, width
    while len(line) - start > limit:
        cut = start + limit
        while cut > start and (line[cut] & 0xC0) == 0x80:
            cut -= 1
        out += line[start:cut] + eol + b" "
        start, limit = cut, width - 1
    out += line[start:]
    return bytes(out)


def escape_value(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def unescape_value(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        c = m.group(1)
        return "\n" if c in "nN" else c if c in "\\;,:" else m.group(0)

    return _UNESCAPE.sub(repl, text)


def split_escaped(text: str, sep: str) -> list[str]:
    """``text`` split at each ``sep`` that no backslash escapes (escapes
    kept as they are).  Linear, through ``re``: values can be large (a
    PHOTO of a few hundred KiB), so no loop over characters in Python."""
    if "\\" not in text:
        return text.split(sep)
    parts: list[str] = []
    start = 0
    for m in _escape_or(sep).finditer(text):
        if m.group() == sep:
            parts.append(text[start : m.start()])
            start = m.end()
    parts.append(text[start:])
    return parts


@functools.lru_cache(maxsize=8)
def _escape_or(sep: str) -> re.Pattern[str]:
    """A backslash with the character after it, or ``sep``."""
    return re.compile(r"\\.|" + re.escape(sep), re.S)


def split_unquoted(text: str, sep: str) -> list[str]:
    if '"' not in text:
        return text.split(sep)
    parts: list[str] = []
    cur: list[str] = []
    quoted = False
    for c in text:
        if c == '"':
            quoted = not quoted
        if c == sep and not quoted:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    parts.append("".join(cur))
    return parts


def parse_head(head: str) -> tuple[str | None, str, list[Param]] | None:
    """``[group.]name(;param)*`` (folds already removed) or None if malformed."""
    fields = split_unquoted(head, ";")
    name = fields[0].strip()
    group = None
    if "." in name:
        group, name = name.rsplit(".", 1)
    if not _NAME.fullmatch(name) or (group is not None and not _NAME.fullmatch(group)):
        return None
    params: list[Param] = []
    for f in fields[1:]:
        if "=" in f:
            k, v = f.split("=", 1)
            params.append((k, v))
        else:
            params.append((None, f))
    return group, name, params


def parse_head_bytes(head: bytes) -> tuple[str | None, str, list[Param]] | None:
    """:func:`parse_head` of a head as on the wire (folds still in, no ':')."""
    return parse_head(decode_text(FOLD_MODERN.sub(b"", head)))


def unquoted_colon(b: bytes | bytearray) -> int:
    """The first ':' outside double quotes, or -1."""
    first = b.find(b":")
    if first < 0 or b'"' not in b[:first]:
        return first
    quoted = False
    for i, c in enumerate(b):
        if c == 34:
            quoted = not quoted
        elif c == 58 and not quoted:
            return i
    return -1


def find_colon(b: bytes | bytearray) -> int:
    colon = unquoted_colon(b)
    return colon if colon >= 0 else b.find(b":")  # unbalanced quote: the first colon
