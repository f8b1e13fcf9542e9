"""The fast path of ``wbxml_to_xml``.

Compact XML from well-formed UTF-8 WBXML without attributes, literals,
extensions or PIs: the shape of nearly all real traffic.  It writes bytes
directly and gives up (returns None) at the first thing it does not handle;
the generic path then decodes the input again and raises the proper error.
Tests check that both paths give the same bytes.
"""

from __future__ import annotations

import re
from typing import Any

from ...errors import WBXMLDecodeError
from .. import _common as C
from ..codepages import (
    LANGUAGES,
    Language,
    language_by_public_id,
    language_by_xml_public_id,
)
from .decoder import _Decoder
from .tokens import (
    END,
    K_DATA,
    K_NONCE,
    K_PLAIN,
    K_TYPE,
    OPAQUE,
    STR_I,
    STR_T,
    SWITCH_PAGE,
    _kind,
)

_ESCAPE_NEEDED = re.compile(rb"[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\x80-\xff]")


_NO_TAGS: list[Any] = [None] * 256


def _fast_tables(lang: Language) -> list[list[Any]]:
    """Per code page, per byte: None, or (ns, tag, tag with xmlns, close or
    None for an empty tag, kind)."""
    pages = []
    for page in range(256):
        table = lang.pages.get(page)
        if table is None:
            pages.append(_NO_TAGS)
            continue
        ns = lang.namespaces.get(page, "")
        row: list[Any] = [None] * 256
        for token, name in table.items():
            kind = _kind(lang, page, token)
            row[token] = (ns, f"<{name}/>".encode(), f'<{name} xmlns="{ns}"/>'.encode(), None, kind)
            row[token | 0x40] = (ns, f"<{name}>".encode(), f'<{name} xmlns="{ns}">'.encode(),
                                 f"</{name}>".encode(), kind)
        pages.append(row)
    return pages


_FAST = {lang.key: _fast_tables(lang) for lang in LANGUAGES}
_PROLOG = {lang.key: C.prolog(lang).encode() for lang in LANGUAGES}
_TYPE_TO_XML_B = {k.encode(): v.encode() for k, v in C.TYPE_TO_XML.items()}


def _mb2(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """A multi-byte integer of at most two bytes at ``pos``: (value, next
    position), or (-1, pos) for anything else (the generic path decides)."""
    if pos >= end:
        return -1, pos
    value = data[pos]
    if value & 0x80:
        if pos + 1 >= end or data[pos + 1] & 0x80:
            return -1, pos
        return ((value & 0x7F) << 7) | data[pos + 1], pos + 2
    return value, pos + 1


def _fast_xml(data: bytes, strict: bool, max_depth: int, out: list[bytes] | None = None,
              outer_ns: str = "", depth0: int = 0) -> bytes | None:
    end = len(data)
    if end < 4:
        return None
    version = data[0]
    if version > 3:
        return None
    pid, pos = _mb2(data, 1, end)
    index = 0
    if pid == 0:
        index, pos = _mb2(data, pos, end)
    if pid < 0 or index < 0:
        return None
    if version:
        if pos >= end or data[pos] != 106:
            return None
        pos += 1
    size, pos = _mb2(data, pos, end)
    if size < 0 or size > end - pos:
        return None
    table = data[pos:pos + size]
    pos += size
    expansion_left = C.table_expansion_limit(end)  # as the generic path counts it
    if pid == 0:
        if index >= size:
            return None
        stop = table.find(b"\0", index)
        if stop < 0:
            stop = size  # the table length ends the last entry
        expansion_left -= stop - index
        try:
            public = table[index:stop].decode("utf-8")
        except UnicodeDecodeError:
            return None  # the generic path decides (Latin-1, or an error in strict mode)
        lang = language_by_xml_public_id(public)
    else:
        lang = language_by_public_id(pid)
    if lang is None or (out is not None and lang.family not in ("devinf", "ddf")):
        return None
    pages = _FAST[lang.key]
    nested = out is not None
    if out is None:
        out = [_PROLOG[lang.key]]
    append = out.append
    start = len(out)
    stack: list[tuple[bytes, int, str]] = []
    push = stack.append
    pop = stack.pop
    cur_ns = outer_ns
    kind = K_PLAIN
    depth = depth0
    tags = pages[0]
    find = data.find
    esc = _ESCAPE_NEEDED.search
    while pos < end:
        b = data[pos]
        pos += 1
        t = tags[b]
        if t is not None:
            if depth >= max_depth:
                return None
            if t[3] is not None and pos < end and data[pos] == STR_I:
                # a leaf, <tag>STR_I</tag>: most SyncML elements.  Its text
                # handling repeats the STR_I branch below on purpose: a
                # function call per string costs the pure-Python decoder ~5%
                z = find(b"\0", pos + 1)
                if 0 <= z < end - 1 and data[z + 1] == END:
                    s = data[pos + 1:z]
                    if t[4] == K_TYPE:
                        s = _TYPE_TO_XML_B.get(s.lower(), s)
                    if esc(s) is not None:
                        try:
                            s = C.escape_text(s.decode("utf-8")).encode("utf-8")
                        except UnicodeDecodeError:
                            return None
                    append(t[1] if t[0] is cur_ns else t[2])
                    append(s)
                    append(t[3])
                    pos = z + 2
                    if not stack:
                        break
                    continue
            append(t[1] if t[0] is cur_ns else t[2])
            if t[3] is not None:
                push((t[3], kind, cur_ns))
                cur_ns = t[0]
                kind = t[4]
                depth += 1
            elif not stack:
                break
        elif b == END:
            if not stack:
                return None
            close, kind, cur_ns = pop()
            append(close)
            depth -= 1
            if not stack:
                break
        elif b in (STR_I, STR_T):
            if not stack:
                return None
            if b == STR_I:
                z = find(b"\0", pos)
                if z < 0:
                    return None
                s = data[pos:z]
                pos = z + 1
            else:
                i, pos = _mb2(data, pos, end)
                if not 0 <= i < size:
                    return None
                z = table.find(b"\0", i)
                if z < 0:
                    z = size  # the table length ends the last entry
                expansion_left -= z - i
                if expansion_left < 0:
                    return None
                s = table[i:z]
            if kind == K_TYPE:
                s = _TYPE_TO_XML_B.get(s.lower(), s)
            if esc(s) is not None:
                try:
                    s = C.escape_text(s.decode("utf-8")).encode("utf-8")
                except UnicodeDecodeError:
                    return None
            append(s)
        elif b == SWITCH_PAGE:
            if pos >= end:
                return None
            tags = pages[data[pos]]
            pos += 1
        elif b == OPAQUE:
            if not stack:
                return None
            n = 0
            while True:
                if pos >= end or n > 0xFFFFFF:
                    return None
                c = data[pos]
                pos += 1
                n = (n << 7) | (c & 0x7F)
                if not c & 0x80:
                    break
            if n > end - pos:
                return None
            raw = data[pos:pos + n]
            pos += n
            if kind == K_DATA:
                if n >= 4 and raw[0] <= 3:
                    mark = len(out)
                    if _fast_xml(raw, strict, max_depth, out, cur_ns, depth) is not None:
                        continue
                    del out[mark:]
                    if _could_nest(raw):
                        return None
            elif kind != K_NONCE:
                return None  # opaque strings: generic path
            if C.opaque_as_text(raw) is None:
                return None
            append(b"<![CDATA[" + raw + b"]]>")
        else:
            return None
    if stack or pos != end or len(out) == start:
        return None
    if nested:
        return b""
    return b"".join(out)


def _could_nest(raw: bytes) -> bool:
    """Whether the generic path might read ``raw`` as a nested document."""
    try:
        sub = _Decoder(raw, False, C.DEFAULT_MAX_DEPTH)
        sub.header()
    except WBXMLDecodeError:
        return False
    return sub.lang is None or sub.lang.family in ("devinf", "ddf")

