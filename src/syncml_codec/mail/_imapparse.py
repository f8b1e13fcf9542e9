"""Reading :mod:`imaplib`'s raw answers: FETCH items and LIST lines.

imaplib hands back a response as a list whose items are either a line
(``bytes``) or a pair (line ending in ``{n}``, the literal's bytes); a
response with literals continues in the following items.  :func:`responses`
joins them into token lists, :func:`fetch_items` turns each FETCH response
into a dict (``UID``, ``FLAGS``, ``RFC822.SIZE``, ``BODY[...]`` ...).
Everything is bounded by the input's size (the literal sizes were bounded
when imaplib read them).

    >>> fetch_items([(b'1 (UID 7 BODY[] {2}', b'hi'), b' FLAGS (\\\\Seen))'])
    [{'UID': b'7', 'BODY[]': b'hi', 'FLAGS': [b'\\\\Seen']}]
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import MailError

_TOKEN = re.compile(
    rb'[ \t]*(?:(?P<open>\()|(?P<close>\))|"(?P<quoted>(?:[^"\\\r\n]|\\.)*)"'
    rb'|\{(?P<literal>\d{1,12})\+?\}[ \t]*$|(?P<atom>[^\s()"{\[\]]+(?:\[[^\]\r\n]*\])?(?:<\d+>)?))')
_MAX_DEPTH = 16


class Literal(bytes):
    """A literal's bytes, told apart from an atom."""


Token = bytes | str  # bytes: an atom, a quoted string or a Literal; str: "(" or ")"


def _tokens(text: bytes, literal: bytes | None, out: list[Token]) -> None:
    pos = 0
    text = text.rstrip(b"\r\n")
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            if not text[pos:].strip():
                return
            raise MailError(f"unreadable IMAP response near {text[pos:pos + 40]!r}")
        pos = m.end()
        if m.group("open"):
            out.append("(")
        elif m.group("close"):
            out.append(")")
        elif m.group("quoted") is not None:
            out.append(re.sub(rb"\\(.)", rb"\1", m.group("quoted")))
        elif m.group("literal") is not None:
            if literal is None:
                raise MailError("IMAP response announces a literal it does not carry")
            out.append(Literal(literal))
            literal = None
        else:
            out.append(m.group("atom"))


def responses(data: list[Any]) -> list[list[Token]]:
    """imaplib's items joined into one token list per response."""
    out: list[list[Token]] = []
    current: list[Token] | None = None
    for item in data:
        if item is None:
            continue
        if isinstance(item, tuple):
            line, literal = bytes(item[0]), bytes(item[1])
        else:
            line, literal = bytes(item), None
        starts = current is None or (_depth(current) == 0)
        if starts:
            current = []
            out.append(current)
        assert current is not None
        _tokens(line, literal, current)
    return out


def _depth(tokens: list[Token]) -> int:
    depth = 0
    for t in tokens:
        if t == "(":
            depth += 1
        elif t == ")":
            depth -= 1
    return depth


def parse_list(tokens: list[Token], pos: int = 0, depth: int = 0) -> tuple[list[Any], int]:
    """The parenthesized list starting at ``tokens[pos]`` and the position after it."""
    if depth > _MAX_DEPTH:
        raise MailError("IMAP response nested too deep")
    if pos >= len(tokens) or tokens[pos] != "(":
        raise MailError("IMAP response: a list expected")
    out: list[Any] = []
    pos += 1
    while pos < len(tokens):
        tok = tokens[pos]
        if tok == ")":
            return out, pos + 1
        if tok == "(":
            inner, pos = parse_list(tokens, pos, depth + 1)
            out.append(inner)
            continue
        out.append(tok)
        pos += 1
    raise MailError("IMAP response: a list is not closed")


def fetch_items(data: list[Any]) -> list[dict[str, Any]]:
    """Each FETCH response of *data* as a dict of its items (names upper case)."""
    result = []
    for tokens in responses(data):
        if len(tokens) < 2 or not isinstance(tokens[0], bytes) or tokens[1] != "(":
            continue  # not a FETCH response (e.g. an untagged line imaplib left)
        items, _ = parse_list(tokens, 1)
        if len(items) % 2:
            raise MailError("IMAP FETCH response with an odd number of items")
        entry: dict[str, Any] = {}
        for i in range(0, len(items), 2):
            key = items[i]
            if not isinstance(key, bytes):
                raise MailError("IMAP FETCH response: an item name expected")
            name = key.decode("ascii", "replace").upper()
            entry[name] = items[i + 1]
        result.append(entry)
    return result


def list_lines(data: list[Any]) -> list[tuple[list[bytes], bytes | None, bytes]]:
    """LIST responses as (attributes, delimiter or None, mailbox name)."""
    out = []
    for tokens in responses(data):
        if not tokens:
            continue
        attrs, pos = parse_list(tokens, 0)
        if len(tokens) - pos != 2:
            raise MailError("IMAP LIST response: delimiter and name expected")
        delim, name = tokens[pos], tokens[pos + 1]
        if not isinstance(delim, bytes) or not isinstance(name, bytes):
            raise MailError("IMAP LIST response: delimiter and name expected")
        out.append(([a for a in attrs if isinstance(a, bytes)],
                    None if delim.upper() == b"NIL" and not isinstance(delim, Literal) else delim, name))
    return out
