"""WBXML token trace: every token of a document with its byte offset, the
code page in force and what it means, as Wireshark's WBXML dissector shows
it (``syncml decode --tokens``).

Not a hot path, so plain Python, written once for both implementations.
Names come from :mod:`.codepages`, the tables both decoders read, and the
language is found as the decoders find it (public ID, textual public ID in
the string table, else guessed from the root token), unless the caller
forces one.  A document nested in an OPAQUE of ``<Data>`` (DevInf in a
SyncML message) is traced too, one level deeper; its offsets are those of
the outer input, so ``data[t.offset:t.offset + len(t.raw)] == t.raw`` holds
for every record.

Hostile input: one pass, an explicit element stack bounded by ``max_depth``,
no recursion except into one nested document (which is not searched for
documents again), every length checked against what is left before use;
string-table references count against the decoders' expansion limit, so the
records stay linear in the input.  A structural error stops the trace: the
records before it are yielded, then :class:`~syncml_codec.errors.WBXMLDecodeError`
is raised with the offset of the bad token or field.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from ..errors import WBXMLDecodeError
from . import _common as C
from . import _messages as M
from ._pywbxml.tokens import _guess_language
from .codepages import Language, charset_codec, language_by_public_id, language_by_xml_public_id, terminator_width

__all__ = ["PUBLIC_IDS", "TokenKind", "TokenTrace", "trace_tokens"]

TokenKind = Literal[
    "version", "public_id", "charset", "string_table", "table_entry",
    "SWITCH_PAGE", "TAG", "END", "STR_I", "STR_T", "OPAQUE", "ENTITY", "LITERAL",
    "EXT_I", "EXT_T", "EXT", "PI", "ATTR_START", "ATTR_VALUE", "padding",
]

#: Numeric WBXML public identifiers (WAP/OMA registry facts) -> their
#: textual identifiers; the SyncML ones are those of :mod:`.codepages`.
PUBLIC_IDS: dict[int, str] = {
    0x01: "unknown",
    0x02: "-//WAPFORUM//DTD WML 1.0//EN",
    0x03: "-//WAPFORUM//DTD WTA 1.0//EN",
    0x04: "-//WAPFORUM//DTD WML 1.1//EN",
    0x05: "-//WAPFORUM//DTD SI 1.0//EN",
    0x06: "-//WAPFORUM//DTD SL 1.0//EN",
    0x07: "-//WAPFORUM//DTD CO 1.0//EN",
    0x08: "-//WAPFORUM//DTD CHANNEL 1.1//EN",
    0x09: "-//WAPFORUM//DTD WML 1.2//EN",
    0x0A: "-//WAPFORUM//DTD WML 1.3//EN",
    0x0B: "-//WAPFORUM//DTD PROV 1.0//EN",
    0x0C: "-//WAPFORUM//DTD WTA-WML 1.2//EN",
    0x0D: "-//WAPFORUM//DTD EMN 1.0//EN",
    0x0E: "-//OMA//DTD DRMREL 1.0//EN",
}

_SWITCH_PAGE, _END, _ENTITY, _STR_I, _LITERAL = 0x00, 0x01, 0x02, 0x03, 0x04
_PI, _STR_T, _OPAQUE = 0x43, 0x83, 0xC3
_EXT_I = (0x40, 0x41, 0x42)
_EXT_T = (0x80, 0x81, 0x82)
_EXT = (0xC0, 0xC1, 0xC2)
_PADDING = b" \t\r\n\0"
#: characters of a string shown in a record's meaning (the value keeps all)
SHOW_CHARS = 120


@dataclass(frozen=True)
class TokenTrace:
    """One token (or header field) of a WBXML document.

    ``offset`` is where it starts in the traced input and ``raw`` its bytes
    with their operands (an OPAQUE's data included), so
    ``data[offset:offset + len(raw)] == raw``.  ``page`` is the code page in
    force (the attribute page inside attribute lists; None in the header),
    ``depth`` the number of open elements around it, ``nested`` 1 inside a
    document nested in OPAQUE.  ``name`` is the element a TAG, LITERAL or
    END is about (None for a token the code page lacks); ``value`` the
    decoded operand (string, table index, page, length, code point);
    ``known`` False marks what the document's code pages do not define.
    """

    offset: int
    raw: bytes
    kind: TokenKind
    page: int | None
    meaning: str
    depth: int = 0
    nested: int = 0
    name: str | None = None
    value: str | int | None = None
    known: bool = True


def show(text: str, limit: int = SHOW_CHARS) -> str:
    """``text`` quoted, control characters escaped, cut after ``limit``
    characters with the count of the rest."""
    cut = text[:limit]
    out = '"' + cut.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'
    if len(text) > limit:
        out += f"... (+{len(text) - limit} characters)"
    return out


def _describe_public_id(pid: int) -> str:
    lang = language_by_public_id(pid)
    if lang is not None:
        return lang.xml_public_id
    return PUBLIC_IDS.get(pid, "not a known public identifier")


def _lang_name(lang: Language) -> str:
    return f"{lang.family.replace('syncml', 'SyncML').replace('devinf', 'DevInf').replace('metinf', 'MetInf')}" \
           f" {lang.version}".replace("ddf", "DM DDF")


class _Tracer:
    def __init__(self, data: bytes, base: int, language: Language | None, max_depth: int,
                 depth0: int, nested: int, budget: list[int]) -> None:
        self.data = data
        self.end = len(data)
        self.base = base
        self.pos = 0
        self.forced = language
        self.lang: Language | None = None
        self.max_depth = max_depth
        self.depth0 = depth0
        self.nested = nested
        self.table = b""
        self.table_at = 0
        self.codec = "utf-8"
        self.width = 1
        self.budget = budget  # what string-table references may still copy (shared with a nested tracer)

    # -- primitives ------------------------------------------------------------
    def err(self, message: str, pos: int) -> WBXMLDecodeError:
        return WBXMLDecodeError(message, self.base + pos)

    def u8(self) -> int:
        if self.pos >= self.end:
            raise self.err(M.END_OF_DATA, self.pos)
        self.pos += 1
        return self.data[self.pos - 1]

    def mb(self) -> int:
        start = self.pos
        value = 0
        for _ in range(5):
            if self.pos >= self.end:
                raise self.err(M.END_IN_MB, self.pos)
            b = self.data[self.pos]
            self.pos += 1
            value = (value << 7) | (b & 0x7F)
            if not b & 0x80:
                if value > 0xFFFFFFFF:
                    raise self.err(M.MB_OVER_32_BITS, start)
                return value
        raise self.err(M.MB_OVER_5_BYTES, start)

    def find_nul(self, buf: bytes, start: int) -> int:
        nul = b"\0" * self.width
        i = buf.find(nul, start)
        while i >= 0 and (i - start) % self.width:
            i = buf.find(nul, i + 1)
        return i

    def decode(self, raw: bytes) -> str:
        try:
            return raw.decode(self.codec)
        except UnicodeDecodeError:
            return raw.decode("latin-1")  # as the lenient decoders read it

    def inline(self, tpos: int) -> str:
        stop = self.find_nul(self.data, self.pos)
        if stop < 0:
            raise self.err(M.INLINE_UNTERMINATED, tpos)
        raw = self.data[self.pos:stop]
        self.pos = stop + self.width
        return self.decode(raw)

    def table_string(self, index: int, tpos: int) -> str:
        if index >= len(self.table):
            raise self.err(M.table_ref_out_of_range(index, len(self.table)), tpos)
        stop = self.find_nul(self.table, index)
        if stop < 0:
            stop = len(self.table)  # the table length ends the last entry (Sony Ericsson)
        self.budget[0] -= stop - index
        if self.budget[0] < 0:
            raise self.err(C.table_expansion_error(self.budget[1]), tpos)
        return self.decode(self.table[index:stop])

    def rec(self, pos: int, kind: TokenKind, page: int | None, meaning: str, depth: int, *,
            name: str | None = None, value: str | int | None = None, known: bool = True) -> TokenTrace:
        return TokenTrace(self.base + pos, self.data[pos:self.pos], kind, page, meaning,
                          self.depth0 + depth, self.nested, name, value, known)

    def page_name(self, page: int) -> str:
        lang = self.lang
        if lang is None:
            return f"code page {page}"
        if page not in lang.pages:
            return f"code page {page} (not a page of {_lang_name(lang)})"
        if lang.family == "syncml" and page == 1:
            return f"code page {page} (MetInf, {lang.namespaces[page]})"
        return f"code page {page} ({_lang_name(lang)}, {lang.namespaces[page]})"

    # -- header ------------------------------------------------------------
    def header(self, out: list[TokenTrace]) -> None:
        version = self.u8()
        text = f"WBXML version 1.{version}" if version <= 3 else \
            f"WBXML version byte 0x{version:02X} (not 1.0 to 1.3; read as 1.3)"
        out.append(self.rec(0, "version", None, text, 0, value=version, known=version <= 3))
        pid_pos = self.pos
        pid = self.mb()
        pid_index = -1
        if pid == 0:
            pid_index = self.mb()
        pid_rec = self.pos
        charset = 106
        cs_pos = self.pos
        if version != 0:
            charset = self.mb()
        codec = charset_codec(charset)
        len_pos = self.pos
        n = self.mb()
        if n > self.end - self.pos:
            self._header_ids(out, pid, pid_index, pid_pos, pid_rec, version, charset, cs_pos, len_pos, None)
            raise self.err(M.table_too_long(n, self.end - self.pos), len_pos)
        self.table_at = self.pos
        self.table = self.data[self.pos:self.pos + n]
        if codec is not None:
            self.codec, self.width = codec, terminator_width(codec)
        self._header_ids(out, pid, pid_index, pid_pos, pid_rec, version, charset, cs_pos, len_pos, codec)
        if codec is None:
            raise self.err(M.unsupported_charset(charset), cs_pos)
        self.pos = len_pos
        self.mb()
        out.append(self.rec(len_pos, "string_table", None,
                            f"string table, {n} bytes" + ("" if n else " (none)"), 0, value=n))
        # its entries, each with its index (what STR_T and LITERAL refer to)
        index = 0
        while index < n:
            stop = self.find_nul(self.table, index)
            end = n if stop < 0 else stop + self.width
            self.pos = self.table_at + end
            entry = self.decode(self.table[index:n if stop < 0 else stop])
            note = "" if stop >= 0 else " (unterminated: the table length ends it)"
            out.append(self.rec(self.table_at + index, "table_entry", None,
                                f"string table [{index}] {show(entry)}{note}", 0, value=entry))
            index = end
        self.pos = self.table_at + n
        if self.forced is not None:
            self.lang = self.forced
        elif pid == 0:
            self.lang = language_by_xml_public_id(self.table_string(pid_index, pid_pos)) \
                if 0 <= pid_index < n else None
        else:
            self.lang = language_by_public_id(pid)

    def _header_ids(self, out: list[TokenTrace], pid: int, pid_index: int, pid_pos: int, pid_end: int,
                    version: int, charset: int, cs_pos: int, len_pos: int, codec: str | None) -> None:
        save = self.pos
        self.pos = pid_end
        if pid == 0:
            if 0 <= pid_index < len(self.table):
                stop = self.find_nul(self.table, pid_index)
                text = self.decode(self.table[pid_index:len(self.table) if stop < 0 else stop])
                lang = language_by_xml_public_id(text)
                meaning = f"public ID in the string table at [{pid_index}]: {show(text)}"
            else:
                lang = None
                meaning = f"public ID in the string table at [{pid_index}] (out of range)"
        else:
            lang = language_by_public_id(pid)
            meaning = f"public ID 0x{pid:02X}: {_describe_public_id(pid)}" if pid <= 0xFF else \
                f"public ID 0x{pid:04X}: {_describe_public_id(pid)}"
        if self.forced is not None:
            meaning += f" (language forced: {_lang_name(self.forced)})"
        out.append(self.rec(pid_pos, "public_id", None, meaning, 0, value=pid, known=lang is not None))
        if version != 0:
            self.pos = len_pos
            name = codec or "unknown"
            out.append(self.rec(cs_pos, "charset", None, f"charset MIBenum {charset}: {name}", 0,
                                value=charset, known=codec is not None))
        self.pos = save

    # -- body ----------------------------------------------------------------
    def body(self) -> Iterator[TokenTrace]:
        data = self.data
        end = self.end
        page = 0
        stack: list[str] = []
        started = False
        while True:
            pos = self.pos
            if pos >= end:
                raise self.err(M.END_IN_ELEMENT if started else M.NO_ROOT, pos)
            b = data[pos]
            self.pos = pos + 1
            depth = len(stack)
            if b == _SWITCH_PAGE:
                page = self.u8()
                yield self.rec(pos, "SWITCH_PAGE", page, f"SWITCH_PAGE to {self.page_name(page)}", depth,
                               value=page, known=self.lang is None or page in self.lang.pages)
                continue
            if b == _PI:
                yield self.rec(pos, "PI", page, "PI (processing instruction; its attribute list follows)", depth,
                               known=False)
                yield from self.attributes(depth + 1)
                continue
            if started:
                if b == _END:
                    name = stack.pop()
                    yield self.rec(pos, "END", page, f"END </{name}>", depth - 1, name=name)
                    if not stack:
                        break
                    continue
                if b == _STR_I:
                    text = self.inline(pos)
                    yield self.rec(pos, "STR_I", page, f"STR_I {show(text)}", depth, value=text)
                    continue
                if b == _STR_T:
                    index = self.mb()
                    text = self.table_string(index, pos)
                    yield self.rec(pos, "STR_T", page, f"STR_T [{index}] {show(text)}", depth, value=text)
                    continue
                if b == _OPAQUE:
                    yield from self.opaque(pos, page, depth, stack[-1])
                    continue
                if b == _ENTITY:
                    cp = self.mb()
                    ch = f" {show(chr(cp))}" if 0 < cp <= 0x10FFFF and not 0xD800 <= cp <= 0xDFFF else \
                        " (not a character)"
                    yield self.rec(pos, "ENTITY", page, f"ENTITY &#{cp};{ch}", depth, value=cp)
                    continue
                if b in _EXT_I or b in _EXT_T or b in _EXT:
                    yield self.ext(b, pos, page, depth)
                    continue
            # an element
            token = b & 0x3F
            if token < 5 and token != _LITERAL:
                raise self.err(M.cannot_start_element(b), pos)
            if depth + self.depth0 >= self.max_depth:
                raise self.err(M.too_deep(self.max_depth), pos)
            bits = ", ".join(x for x, on in (("content", b & 0x40), ("attributes", b & 0x80)) if on) or "empty"
            if token == _LITERAL:
                index = self.mb()
                name = self.table_string(index, pos)
                meaning = f"LITERAL <{name}> (name at string table [{index}]; {bits})"
                yield self.rec(pos, "LITERAL", page, meaning, depth, name=name, value=index, known=False)
            else:
                note = ""
                if self.lang is None:
                    self.lang = _guess_language(page, token)
                    if self.lang is None:
                        note = "; language unknown: read as SyncML 1.2"
                        self.lang = language_by_public_id(0x1201)
                    else:
                        note = f"; language guessed from the root: {_lang_name(self.lang)}"
                assert self.lang is not None
                tag = self.lang.pages.get(page, {}).get(token)
                if tag is None:
                    meaning = f"tag 0x{token:02X} ({bits}): not defined on {self.page_name(page)}{note}"
                    name = f"unknown 0x{token:02X}"
                else:
                    meaning = f"<{tag}> (tag 0x{token:02X}; {bits}){note}"
                    name = tag
                yield self.rec(pos, "TAG", page, meaning, depth, name=tag, value=token, known=tag is not None)
            if b & 0x80:
                yield from self.attributes(depth + 1)
            started = True
            if b & 0x40:
                stack.append(name)
            elif not stack:
                break
        if self.pos < end:
            rest = data[self.pos:end]
            if not self.nested and not rest.strip(_PADDING):
                pos, self.pos = self.pos, end
                n = end - pos
                yield self.rec(pos, "padding", page,
                               f"padding after the root, {n} byte{'s' if n > 1 else ''} (ignored)", 0)
            else:
                raise self.err(M.DATA_AFTER_NESTED_ROOT if self.nested else M.DATA_AFTER_ROOT, self.pos)

    def ext(self, b: int, pos: int, page: int, depth: int) -> TokenTrace:
        n = b & 0x03
        if b in _EXT_I:
            text = self.inline(pos)
            return self.rec(pos, "EXT_I", page, f"EXT_I_{n} {show(text)} (extension; no meaning in SyncML)",
                            depth, value=text, known=False)
        if b in _EXT_T:
            index = self.mb()
            return self.rec(pos, "EXT_T", page, f"EXT_T_{n} {index} (extension; no meaning in SyncML)",
                            depth, value=index, known=False)
        return self.rec(pos, "EXT", page, f"EXT_{n} (extension; no meaning in SyncML)", depth, known=False)

    def attributes(self, depth: int) -> Iterator[TokenTrace]:
        """An attribute list (or a PI's body) up to its END.  SyncML has no
        attribute code pages: tokens are shown by value."""
        page = 0
        named = False
        while True:
            pos = self.pos
            b = self.u8()
            if b == _END:
                yield self.rec(pos, "END", page, "END (of the attribute list)", depth - 1)
                return
            if not named and b != _SWITCH_PAGE and b != _LITERAL and (b >= 0x80 or b in (_STR_I, _ENTITY)
                                                                       or b in _EXT_I):
                raise self.err(M.value_before_name(b), pos)
            named = True
            if b == _SWITCH_PAGE:
                page = self.u8()
                yield self.rec(pos, "SWITCH_PAGE", page, f"SWITCH_PAGE to attribute code page {page}", depth,
                               value=page)
            elif b == _LITERAL:
                index = self.mb()
                if index == 0 and not self.table:  # device quirk "nokia-literal-xmlns", as the decoders read it
                    name, where = "xmlns", "index 0 without a string table: xmlns, as Nokia sends it"
                else:
                    name, where = self.table_string(index, pos), f"name at string table [{index}]"
                yield self.rec(pos, "LITERAL", page, f"LITERAL attribute {name}= ({where})",
                               depth, name=name, value=index, known=False)
            elif b == _STR_I:
                text = self.inline(pos)
                yield self.rec(pos, "STR_I", page, f"STR_I {show(text)} (attribute value)", depth, value=text)
            elif b == _STR_T:
                index = self.mb()
                text = self.table_string(index, pos)
                yield self.rec(pos, "STR_T", page, f"STR_T [{index}] {show(text)} (attribute value)", depth,
                               value=text)
            elif b == _ENTITY:
                cp = self.mb()
                yield self.rec(pos, "ENTITY", page, f"ENTITY &#{cp}; (attribute value)", depth, value=cp)
            elif b == _OPAQUE:
                n = self._opaque_len(pos)
                self.pos += n
                yield self.rec(pos, "OPAQUE", page, f"OPAQUE, {n} bytes (attribute value)", depth, value=n)
            elif b in _EXT_I or b in _EXT_T or b in _EXT:
                yield self.ext(b, pos, page, depth)
            elif b in (_PI, 0x44, 0x84, 0xC4):
                raise self.err(M.not_in_attr_list(b), pos)
            elif b < 0x80:
                yield self.rec(pos, "ATTR_START", page,
                               f"attribute start 0x{b:02X} (SyncML has no attribute code pages)",
                               depth, value=b, known=False)
            else:
                yield self.rec(pos, "ATTR_VALUE", page,
                               f"attribute value 0x{b:02X} (SyncML has no attribute code pages)",
                               depth, value=b, known=False)

    def _opaque_len(self, pos: int) -> int:
        n = self.mb()
        if n > self.end - self.pos:
            raise self.err(M.opaque_too_long(n, self.end - self.pos), pos)
        return n

    def opaque(self, pos: int, page: int, depth: int, parent: str) -> Iterator[TokenTrace]:
        n = self._opaque_len(pos)
        start = self.pos
        raw = self.data[start:start + n]
        self.pos = start + n
        lang = self.lang
        if (not self.nested and lang is not None and lang.family == "syncml" and parent == "Data"
                and len(raw) >= 4 and raw[0] <= 3):
            inner = self._nested(raw, start, depth)
            if isinstance(inner, list):
                yield self.rec(pos, "OPAQUE", page, f"OPAQUE, {n} bytes: a nested WBXML document", depth, value=n)
                yield from inner
                return
            note = f" (not a nested document: {inner})"
        else:
            note = ""
        try:
            text = raw.decode(self.codec)
            preview = show(text, 60) if C.xml_text_safe(text) else None
        except UnicodeDecodeError:
            preview = None
        if preview is None:
            preview = raw[:16].hex(" ") + (" ..." if n > 16 else "")
        yield self.rec(pos, "OPAQUE", page, f"OPAQUE, {n} bytes: {preview}{note}", depth, value=n)

    def _nested(self, raw: bytes, start: int, depth: int) -> list[TokenTrace] | str:
        sub = _Tracer(raw, self.base + start, None, self.max_depth, self.depth0 + depth + 1, self.nested + 1,
                      self.budget)
        out: list[TokenTrace] = []
        try:
            sub.header(out)
            out.extend(sub.body())
        except WBXMLDecodeError as exc:
            return str(exc)
        if sub.lang is None or sub.lang.family not in ("devinf", "ddf"):
            return M.NOT_NESTED_DOCUMENT
        return out


def trace_tokens(data: bytes | bytearray | memoryview, *, language: Language | None = None,
                 max_depth: int = C.DEFAULT_MAX_DEPTH) -> Iterator[TokenTrace]:
    """The tokens of the WBXML document ``data``, in order, as
    :class:`TokenTrace` records: the header fields (version, public ID,
    charset, string table and each of its entries), then every body token.
    ``language`` forces the code pages (as ``wbxml2xml -l``), whatever the
    public ID says.  Bad input: the records before the fault, then
    :class:`~syncml_codec.errors.WBXMLDecodeError` with its offset.

    >>> [t.meaning for t in trace_tokens(bytes.fromhex("03 9f53 6a 00 6d 01"))][-2:]
    ['<SyncML> (tag 0x2D; content)', 'END </SyncML>']
    """
    buf = bytes(data)
    limit = C.table_expansion_limit(len(buf))
    t = _Tracer(buf, 0, language, max_depth, 0, 0, [limit, limit])
    head: list[TokenTrace] = []
    failed: WBXMLDecodeError | None = None
    try:
        t.header(head)
    except WBXMLDecodeError as exc:
        failed = exc
    yield from head
    if failed is not None:
        raise failed
    yield from t.body()
