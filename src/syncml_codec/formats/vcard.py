"""vCard 2.1 <-> 3.0 conversion, property by property, on the lossless
Versit tree (:mod:`.versit`).

Why this shape: a server that stores 3.0 and talks 2.1 to a phone must not
lose anything on the way back (issue 4: "2.1 -> 3.0 -> 2.1 is lossless
property by property").  Each content line is decoded with the source
version's rules and written with the target's (``shared/reference/
formats.md`` sections 1 and 8):

* parameters: 2.1 nameless ``TEL;CELL;VOICE`` <-> 3.0 ``TYPE=CELL,VOICE``;
  ``ENCODING=QUOTED-PRINTABLE``/``CHARSET`` (2.1) <-> plain UTF-8 (3.0);
  ``ENCODING=BASE64`` <-> ``ENCODING=b``; ``VALUE=URL`` <-> ``VALUE=uri``;
  every other parameter is kept with its spelling and order.
* values by kind: TEXT (escaped ``\\\\ \\; \\, \\n`` in 3.0, raw or QP in
  2.1; line breaks are CRLF in 2.1 and ``\\n`` in 3.0), compound (N, ADR,
  ORG and unknown/X- properties: ``;`` separates parts, ``\\;`` in 2.1),
  lists (CATEGORIES, NICKNAME: ``;`` in 2.1, ``,`` in 3.0), GEO (``,`` in
  2.1, ``;`` in 3.0), binary (PHOTO, LOGO, SOUND, KEY with an encoding:
  re-encoded base64, a 2.1 block ends with a blank line), raw values (TEL,
  URL, BDAY, REV, TZ...: not escaped) and AGENT (copied verbatim: the
  embedded card's ``\\n`` is already the 3.0 form and is what Funambol
  writes in 2.1 too).
* 3.0-only properties (NICKNAME, CATEGORIES, SORT-STRING, CLASS, PRODID...)
  keep their names in 2.1: peers (Funambol, SyncEvolution) read them and a
  2.1 reader skips what it does not know; renaming them to X- would lose
  them on the way back.
* groups (``item1.TEL``) are kept; a nested 2.1 ``AGENT`` card (``BEGIN:VCARD``
  after ``AGENT:``) is converted in place and stays nested (RFC 2426 wants it
  as escaped text: not done yet).

A line whose parameters and value come out the same keeps its raw bytes; a
line whose value is unchanged keeps its value bytes (only the head is
rebuilt).  :func:`normalized` gives the comparison the round-trip tests use.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import FormatError
from ._versit_text import Param, escape_value, fold_line, split_unquoted
from .versit import Component, ContentLine, parse_items

__all__ = ["VCARD_VERSIONS", "convert_vcard", "normalized"]

#: the vCard versions converted between
VCARD_VERSIONS = ("2.1", "3.0")
_BINARY = frozenset({"PHOTO", "LOGO", "SOUND", "KEY"})
_TEXT = frozenset({
    "FN", "NOTE", "TITLE", "ROLE", "LABEL", "MAILER", "PRODID", "SORT-STRING", "CLASS",
    "EMAIL", "UID", "NAME", "SOURCE",
})
_LIST = frozenset({"CATEGORIES", "NICKNAME"})
_RAW = frozenset({
    "VERSION", "TEL", "URL", "REV", "BDAY", "TZ", "FBURL", "CALURI", "CALADRURI", "IMPP",
    "PHOTO", "LOGO", "SOUND", "KEY", "PROFILE", "BEGIN", "END",
})
_TRANSFER = frozenset({"QUOTED-PRINTABLE", "BASE64", "B", "8BIT", "7BIT"})
_B64_LINE = 76

Value = str | bytes | tuple[str, ...]


def _kind(line: ContentLine) -> str:
    name = line.name.upper()
    if name in _BINARY and line.encoding in ("BASE64", "B"):
        return "binary"
    if name == "AGENT":
        return "verbatim"
    if name == "GEO":
        return "geo"
    if name in _RAW:
        return "raw"
    if name in _TEXT:
        return "text"
    if name in _LIST:
        return "list"
    return "compound"  # N, ADR, ORG and unknown/X- properties


def _nl(text: str) -> str:
    return text.replace("\r\n", "\n")


def _decode(line: ContentLine, kind: str) -> Value:
    """The value in version-independent form (line breaks as ``\\n``)."""
    legacy = line.version not in ("3.0", "4.0")
    if kind == "binary":
        try:
            return line.data
        except FormatError:  # broken base64 (seen in the corpus) is carried as its text
            return line.value
    if kind == "verbatim":
        return line.value if legacy else line.data.decode("utf-8", "surrogateescape")
    if kind in ("raw", "text"):
        return _nl(line.value)
    if kind == "geo":  # 2.1 spec: "lat,lon"; Funambol writes "lat;lon" in 2.1 too
        sep = "," if legacy and ";" not in line.value else ";"
        return tuple(line.components(sep))
    if kind == "list":
        return tuple(_nl(p) for p in line.components(";" if legacy else ","))
    return tuple(_nl(p) for p in line.components(";"))


def _wire(value: Value, kind: str, target: str) -> str:
    """``value`` as the target version writes it (before QP / folding)."""
    legacy = target == "2.1"
    if isinstance(value, bytes):
        raise TypeError("binary values are written by _binary_line")
    if isinstance(value, str):
        if kind == "verbatim":
            return value
        if legacy:
            return value.replace("\n", "\r\n")
        return escape_value(value) if kind == "text" else value.replace("\n", "\\n")
    if kind == "geo":
        return ("," if legacy else ";").join(value)
    if legacy:
        parts = [p.replace("\n", "\r\n").replace(";", "\\;") for p in value]
        return ";".join(parts)
    return ("," if kind == "list" else ";").join(escape_value(p) for p in value)


def _params(params: Sequence[Param], target: str) -> list[Param]:
    """Parameters in the target version's form (spelling and order kept
    where nothing changes)."""
    out: list[Param] = []
    types: list[str] = []
    type_at: int | None = None
    type_name = "TYPE"
    for pname, pvalue in params:
        key = (pname or "").upper()
        upper = pvalue.strip('"').upper()
        if (pname is None and upper in _TRANSFER) or key == "ENCODING":
            if upper in ("BASE64", "B"):
                out.append(("ENCODING", "BASE64" if target == "2.1" else "b"))
            continue  # QP and 8BIT vanish: the value is re-encoded
        if key == "CHARSET":
            continue  # 3.0 is UTF-8; a 2.1 line that needs it gets it back on writing
        if pname is None or key == "TYPE":
            if type_at is None:
                type_at = len(out)
                type_name = pname or type_name
            types += [t.strip('"') for t in split_unquoted(pvalue, ",") if t.strip('"')]
            continue
        if key == "VALUE" and upper in ("URL", "URI"):
            out.append((pname, "URL" if target == "2.1" else "uri"))
            continue
        out.append((pname, pvalue))
    if type_at is not None:
        if target == "2.1":
            out[type_at:type_at] = [(None, t) for t in types]
        else:
            out.insert(type_at, (type_name, ",".join(types)))
    return out


def _head(line: ContentLine, params: Sequence[Param]) -> bytes:
    parts = [(line.group + "." if line.group else "") + line.name]
    parts += [v if n is None else f"{n}={v}" for n, v in params]
    return (";".join(parts) + ":").encode("utf-8", "surrogateescape")


def _eol(line: ContentLine) -> bytes:
    return b"\n" if line.eol.startswith(b"\n") else b"\r\n"


def _binary_line(line: ContentLine, params: list[Param], target: str) -> ContentLine:
    eol = _eol(line)
    if not any((n or "").upper() == "ENCODING" for n, _ in params):
        params = [*params, ("ENCODING", "BASE64" if target == "2.1" else "b")]
    head = _head(line, params)
    try:  # the base64 text without whitespace: not decoded again (broken padding is carried)
        text = line.value.encode("ascii")
    except UnicodeEncodeError:
        raise FormatError("base64 value with a character that is not ASCII", line.lineno,
                          line.name) from None
    if target == "2.1":
        chunks = [text[i : i + _B64_LINE] for i in range(0, len(text), _B64_LINE)]
        value = b"".join(eol + b" " + c for c in chunks)
        eol += eol  # the blank line that ends a 2.1 BASE64 block
    else:
        value = fold_line(head + text, eol)[len(head) :]
    return ContentLine(head, line.group, line.name, params, value, eol, line.lineno, target)


def _convert_line(line: ContentLine, target: str) -> ContentLine:
    kind = _kind(line)
    params = _params(line.params, target)
    if kind == "binary":
        return _binary_line(line, params, target)
    wire = target if line.name.upper() == "VERSION" else _wire(_decode(line, kind), kind, target)
    plain = line.encoding is None and line.charset is None
    if target == "2.1":
        plain = plain and wire.isascii() and "\r" not in wire and "\n" not in wire
    else:
        plain = plain and b"\n" not in line.value_raw  # a 2.1 fold keeps its space, a 3.0 one not
    if plain and wire.encode("utf-8", "surrogateescape") == line.value_raw:
        if params == line.params:
            line.version = target
            return line
        return ContentLine(_head(line, params), line.group, line.name, params, line.value_raw,
                           line.eol, line.lineno, target)
    line.version = target
    line.params = params
    line.set_raw_value(wire)
    return line


def _convert_component(comp: Component, target: str) -> None:
    comp.version = target
    for line in (comp.begin, comp.end):
        if line is not None:
            line.version = target
    for i, child in enumerate(comp.children):
        if isinstance(child, Component):
            _convert_component(child, target)
        elif isinstance(child, ContentLine):
            comp.children[i] = _convert_line(child, target)


def convert_vcard(card: Component, target: str) -> Component:
    """A converted copy of ``card`` (``BEGIN:VCARD`` ... ``END:VCARD``) in
    vCard ``target`` (``"2.1"`` or ``"3.0"``); ``card`` is not changed.  A
    card already in ``target`` comes back as an untouched copy.

    >>> (card,) = parse_items(b"BEGIN:VCARD\\r\\nVERSION:2.1\\r\\nTEL;CELL;VOICE:1\\r\\nEND:VCARD\\r\\n")
    >>> convert_vcard(card, "3.0").serialize()
    b'BEGIN:VCARD\\r\\nVERSION:3.0\\r\\nTEL;TYPE=CELL,VOICE:1\\r\\nEND:VCARD\\r\\n'
    """
    if card.name.upper() != "VCARD":
        raise FormatError(f"not a vCard: BEGIN:{card.name}", card.begin.lineno, "BEGIN")
    source = card.version or "2.1"
    for v in (source, target):
        if v not in VCARD_VERSIONS:
            raise FormatError(f"vCard {v} conversion is not supported (only 2.1 <-> 3.0)",
                              card.begin.lineno, "VERSION")
    (copy,) = parse_items(card.leading + card.serialize() + card.trailing, lenient=True)
    if source != target:
        _convert_component(copy, target)
    return copy


def _norm_params(params: Sequence[Param]) -> tuple[tuple[str, str], ...]:
    out: set[tuple[str, str]] = set()
    for pname, pvalue in params:
        key = (pname or "TYPE").upper()
        upper = pvalue.strip('"').upper()
        if key in ("ENCODING", "CHARSET") or (pname is None and upper in _TRANSFER):
            continue
        if key == "TYPE":
            out.update(("TYPE", t.strip('"').upper()) for t in split_unquoted(pvalue, ",") if t)
        elif key == "VALUE" and upper in ("URL", "URI"):
            out.add(("VALUE", "URI"))
        else:
            out.add((key, pvalue))
    return tuple(sorted(out))


def normalized(card: Component) -> list[tuple[str, str, tuple[tuple[str, str], ...], Value]]:
    """The card's properties as ``(group, NAME, params, value)`` in order,
    without VERSION: parameter names upper case, TYPE values upper case and
    sorted, ENCODING/CHARSET dropped, ``VALUE=URL`` = ``VALUE=uri``; values
    decoded (bytes for binary, parts for compound values, ``\\n`` for line
    breaks).  Two cards that differ only in how a version writes them
    compare equal."""
    out: list[tuple[str, str, tuple[tuple[str, str], ...], Value]] = []
    for child in card.children:
        if isinstance(child, Component):
            out += normalized(child)
        elif isinstance(child, ContentLine) and child.name.upper() != "VERSION":
            value = _decode(child, _kind(child))
            if child.name.upper() == "AGENT" and isinstance(value, str):
                value = value.replace("\r\n", "\n")
            out.append(((child.group or "").upper(), child.name.upper(),
                        _norm_params(child.params), value))
    return out
