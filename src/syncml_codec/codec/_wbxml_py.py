"""Pure-Python twin of the ``_wbxml`` extension (``src/_wbxml.pyx``).

Both implementations expose the surface in ``_wbxml.pyi`` and must agree
byte for byte on output and, for bad input, on the exception class and the
offset (the parity tests feed them the corpus and thousands of mutated
copies).  So this module is also the reference for the extension: change
both together.

Decoding (WBXML -> events): one pass over the input, an explicit stack (no
recursion, so hostile nesting cannot exhaust the C stack), every length
checked against what is left before anything is allocated; linear time.
The events go to a handler that writes XML directly (``wbxml_to_xml``) or
builds a :class:`~syncml_codec.codec.tree.Document` (``decode``).

Encoding (events -> WBXML): a writer that drops the content bit of
elements that stay empty, switches code pages lazily and nests DevInf /
DDF documents as OPAQUE sub-documents.  It is driven either by a small,
hardened XML scanner (``xml_to_wbxml``) or by a tree walk (``encode``).
With a string table, a first pass counts strings: those used at least
twice (3 bytes or longer) go into the table, in order of first use.

Rules that decide the wire form (shared with the extension):
* the text of an ``<Item>``'s ``<Data>`` is OPAQUE; other text is a string;
* an element directly in ``<Data>`` named ``DevInf`` / ``MgmtTree`` starts a
  nested DevInf (version of the enclosing SyncML) / DDF 1.2 document;
* ``<Type>`` text ``application/vnd.syncml-devinf+xml`` (and ``dmtnds``)
  becomes ``+wbxml`` on encode and back on decode;
* OPAQUE outside ``<Data>``/``<NextNonce>`` that is valid text in the
  document charset decodes as text (Nokia 9210 sends strings as OPAQUE).
"""

from __future__ import annotations

import base64
import re
from typing import Any

from ..errors import EncodeError, UnknownTokenError, WBXMLDecodeError, XMLDecodeError
from . import _common as C
from .codepages import (
    DDF12,
    LANGUAGES,
    DEVINF12,
    DEVINF_FOR_SYNCML,
    METINF12,
    SYNCML12,
    WBXML_NS,
    Language,
    charset_codec,
    language_by_public_id,
    language_by_xml_public_id,
    terminator_width,
)
from .tree import Document, Element

__all__ = ["IMPLEMENTATION", "decode", "encode", "wbxml_to_xml", "xml_to_wbxml"]

IMPLEMENTATION = "python"

SWITCH_PAGE, END, ENTITY, STR_I, LITERAL = 0x00, 0x01, 0x02, 0x03, 0x04
EXT_I_0, PI, LITERAL_C = 0x40, 0x43, 0x44
EXT_T_0, STR_T, LITERAL_A = 0x80, 0x83, 0x84
EXT_0, OPAQUE, LITERAL_AC = 0xC0, 0xC3, 0xC4

# kinds of open element that change how content is read
K_PLAIN, K_DATA, K_TYPE, K_NONCE, K_WBXML = 0, 1, 2, 3, 4

_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")


def _tables(lang: Language) -> dict[int, str]:
    return {(page << 8) | tok: name for page, t in lang.pages.items() for tok, name in t.items()}


_TAGS = {lang.key: _tables(lang) for lang in LANGUAGES}


def _kind(lang: Language, page: int, token: int) -> int:
    if lang.family == "syncml":
        if page == 0 and token == 0x0F:
            return K_DATA
        if page == 1 and token == 0x13:
            return K_TYPE
        if page == 1 and token == 0x10:
            return K_NONCE
    elif lang.family == "metinf":
        if token == 0x13:
            return K_TYPE
        if token == 0x10:
            return K_NONCE
    return K_PLAIN


def _guess_language(page: int, token: int) -> Language | None:
    if page == 0 and token == 0x2D:
        return SYNCML12
    if page == 0 and token == 0x0A:
        return DEVINF12
    if page == 1 and token == 0x0E:
        return METINF12
    if page == 2 and token == 0x20:
        return DDF12
    return None


# ---------------------------------------------------------------------------
# decoding


class _Decoder:
    def __init__(self, data: bytes, strict: bool, max_depth: int, depth: int = 0) -> None:
        self.data = data
        self.end = len(data)
        self.pos = 0
        self.strict = strict
        self.max_depth = max_depth
        self.depth0 = depth
        self.lang: Language | None = None
        self.strtbl = b""
        self.codec = "utf-8"
        self.width = 1
        self.version = 3
        self.charset = 106
        self.public_id = 0
        self.public_id_text = False

    # -- primitives --------------------------------------------------------
    def u8(self) -> int:
        pos = self.pos
        if pos >= self.end:
            raise WBXMLDecodeError("unexpected end of data", pos)
        self.pos = pos + 1
        return self.data[pos]

    def mb(self) -> int:
        data = self.data
        pos = start = self.pos
        end = self.end
        value = 0
        for _ in range(5):
            if pos >= end:
                raise WBXMLDecodeError("unexpected end of data in a multi-byte integer", pos)
            b = data[pos]
            pos += 1
            value = (value << 7) | (b & 0x7F)
            if not b & 0x80:
                if value > 0xFFFFFFFF:
                    raise WBXMLDecodeError("multi-byte integer does not fit in 32 bits", start)
                self.pos = pos
                return value
        raise WBXMLDecodeError("multi-byte integer longer than 5 bytes", start)

    def inline_string(self, tpos: int) -> bytes:
        data = self.data
        pos = self.pos
        if self.width == 1:
            stop = data.find(b"\0", pos)
        else:
            stop = _find_wide_nul(data, pos, self.width)
        if stop < 0:
            raise WBXMLDecodeError("inline string has no terminator", tpos)
        self.pos = stop + self.width
        return data[pos:stop]

    def table_string(self, index: int, tpos: int) -> bytes:
        table = self.strtbl
        if index >= len(table):
            raise WBXMLDecodeError(
                f"string table reference {index} is out of range (the table has {len(table)} bytes)", tpos)
        stop = table.find(b"\0", index) if self.width == 1 else _find_wide_nul(table, index, self.width)
        if stop < 0:
            raise WBXMLDecodeError(f"string table entry at {index} has no terminator", tpos)
        return table[index:stop]

    def text(self, raw: bytes, tpos: int) -> str:
        try:
            return raw.decode(self.codec)
        except UnicodeDecodeError:
            if self.strict:
                raise WBXMLDecodeError(f"string is not valid {self.codec}", tpos) from None
            # device quirk "undeclared-latin1": Latin-1 bytes in a UTF-8 document
            return raw.decode("latin-1")

    # -- header ------------------------------------------------------------
    def header(self) -> None:
        version = self.u8()
        if version > 3 and self.strict:
            raise UnknownTokenError(f"unsupported WBXML version byte 0x{version:02X}", 0)
        self.version = version
        pid_pos = self.pos
        pid = self.mb()
        pid_index = -1
        if pid == 0:
            pid_index = self.mb()
        charset = 106
        if version != 0:
            cs_pos = self.pos
            charset = self.mb()
            codec = charset_codec(charset)
            if codec is None:
                raise WBXMLDecodeError(f"unsupported charset (IANA MIBenum {charset})", cs_pos)
            self.codec = codec
            self.width = terminator_width(codec)
        self.charset = charset
        len_pos = self.pos
        n = self.mb()
        if n > self.end - self.pos:
            raise WBXMLDecodeError(
                f"string table length {n} exceeds the remaining {self.end - self.pos} bytes", len_pos)
        self.strtbl = self.data[self.pos:self.pos + n]
        self.pos += n
        self.public_id = pid
        if pid == 0:
            self.public_id_text = True
            text = self.text(self.table_string(pid_index, pid_pos), pid_pos)
            self.lang = language_by_xml_public_id(text)
        else:
            self.lang = language_by_public_id(pid)

    # -- body --------------------------------------------------------------
    def body(self, h: Any, nested: bool = False) -> None:
        data = self.data
        end = self.end
        strict = self.strict
        page = 0
        stack: list[int] = []
        depth0 = self.depth0
        max_depth = self.max_depth
        lang = self.lang
        tags = _TAGS[lang.key] if lang is not None else None
        namespaces = lang.namespaces if lang is not None else None
        family = lang.family if lang is not None else ""
        started = False
        while True:
            pos = self.pos
            if pos >= end:
                if not started:
                    raise WBXMLDecodeError("document has no root element", pos)
                raise WBXMLDecodeError("unexpected end of data inside an element", pos)
            b = data[pos]
            self.pos = pos + 1
            if b == SWITCH_PAGE:
                page = self.u8()
                continue
            if started:
                if b == END:
                    stack.pop()
                    h.end()
                    if not stack:
                        break
                    continue
                if b == STR_I:
                    raw = self.inline_string(pos)
                    self._text(h, self.text(raw, pos), stack[-1])
                    continue
                if b == STR_T:
                    raw = self.table_string(self.mb(), pos)
                    self._text(h, self.text(raw, pos), stack[-1])
                    continue
                if b == OPAQUE:
                    n = self.mb()
                    if n > end - self.pos:
                        raise WBXMLDecodeError(
                            f"opaque length {n} exceeds the remaining {end - self.pos} bytes", pos)
                    raw = data[self.pos:self.pos + n]
                    self.pos += n
                    self._opaque(h, raw, stack[-1], depth0 + len(stack))
                    continue
                if b == ENTITY:
                    cp = self.mb()
                    if cp == 0 or cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
                        raise WBXMLDecodeError(f"entity {cp} is not a character", pos)
                    self._text(h, chr(cp), stack[-1])
                    continue
                if b == PI:
                    attrs = self.attributes(0)
                    self._pi(h, attrs, pos)
                    continue
                if b in (EXT_I_0, EXT_I_0 + 1, EXT_I_0 + 2, EXT_T_0, EXT_T_0 + 1, EXT_T_0 + 2,
                         EXT_0, EXT_0 + 1, EXT_0 + 2):
                    self._ext(h, b, pos)
                    continue
            elif b == PI:
                raise WBXMLDecodeError("processing instruction outside the root element", pos)
            # an element
            if depth0 + len(stack) >= max_depth:
                raise WBXMLDecodeError(f"elements nested deeper than {max_depth}", pos)
            token = b & 0x3F
            if token == LITERAL:
                name_raw = self.table_string(self.mb(), pos)
                name = self.text(name_raw, pos)
                if not _XML_NAME.match(name) or name.startswith("wbxml"):
                    raise WBXMLDecodeError(f"literal tag name {name!r} is not an XML name", pos)
                ns = None
                kind = K_PLAIN
                if lang is None:
                    if strict:
                        raise UnknownTokenError("unknown public ID and a literal root element", pos)
                    lang = self.lang = SYNCML12
                    tags, namespaces, family = _TAGS[lang.key], lang.namespaces, lang.family
                    h.prolog(lang)
            elif token < 5:
                raise WBXMLDecodeError(f"token 0x{b:02X} cannot start an element", pos)
            else:
                if lang is None:
                    lang = _guess_language(page, token)
                    if lang is None:
                        if strict:
                            raise UnknownTokenError(
                                f"unknown public ID {self.public_id:#x} and unknown root token "
                                f"0x{token:02X} on page {page}", pos)
                        lang = SYNCML12
                    if nested and lang.family not in ("devinf", "ddf"):
                        raise WBXMLDecodeError("not a nested DevInf or DDF document", pos)
                    self.lang = lang
                    tags, namespaces, family = _TAGS[lang.key], lang.namespaces, lang.family
                    h.prolog(lang)
                name = tags.get((page << 8) | token)  # type: ignore[union-attr]
                if name is None:
                    if strict:
                        raise UnknownTokenError(
                            f"tag token 0x{token:02X} is not defined on code page {page} of "
                            f"{lang.family} {lang.version}", pos)
                    name = "wbxml:tag"
                    ns = WBXML_NS
                    kind = K_WBXML
                else:
                    ns = namespaces.get(page)  # type: ignore[union-attr]
                    kind = _kind(lang, page, token)
            attrs = self.attributes(pos) if b & 0x80 else None
            if kind == K_WBXML:
                extra = {"page": str(page), "token": f"0x{token:02X}"}
                attrs = extra if attrs is None else {**extra, **attrs}
            if not started:
                started = True
                if not b & 0x40:
                    h.start(name, ns, attrs, False)
                    break
            if b & 0x40:
                h.start(name, ns, attrs, True)
                stack.append(kind)
            else:
                h.start(name, ns, attrs, False)
        # after the root: nothing but the end of the input
        if self.pos < end and not nested:
            if data[self.pos] == PI:
                raise WBXMLDecodeError("processing instruction outside the root element", self.pos)
            raise WBXMLDecodeError("unexpected data after the root element", self.pos)

    def _text(self, h: Any, text: str, kind: int) -> None:
        if kind == K_TYPE:
            text = C.TYPE_TO_XML.get(text.lower(), text)
        h.text(text)

    def _opaque(self, h: Any, raw: bytes, kind: int, depth: int) -> None:
        if kind == K_DATA:
            if len(raw) >= 4 and raw[0] <= 3 and self._nested(h, raw, depth):
                return
            h.opaque(raw)
        elif kind == K_NONCE or kind == K_WBXML:
            h.opaque(raw)
        else:
            # device quirk "opaque-strings" (Nokia 9210): strings sent as OPAQUE
            try:
                text = raw.decode(self.codec)
            except UnicodeDecodeError:
                h.opaque(raw)
                return
            if C.xml_text_safe(text):
                self._text(h, text, kind)
            else:
                h.opaque(raw)

    def _nested(self, h: Any, raw: bytes, depth: int) -> bool:
        sub = _Decoder(raw, self.strict, self.max_depth, depth)
        try:
            sub.header()
        except WBXMLDecodeError:
            return False
        if sub.lang is not None and sub.lang.family not in ("devinf", "ddf"):
            return False
        mark = h.mark()
        h.begin_nested(sub)
        try:
            sub.body(h, nested=True)
            if sub.pos != sub.end:
                raise WBXMLDecodeError("unexpected data after the nested root element", sub.pos)
        except WBXMLDecodeError:
            h.rollback(mark)
            return False
        h.end_nested()
        return True

    def attributes(self, tpos: int) -> dict[str, str]:
        """An attribute list up to its END (also the body of a PI)."""
        attrs: dict[str, str] = {}
        name: str | None = None
        parts: list[str] = []
        page = 0
        while True:
            pos = self.pos
            b = self.u8()
            if b == END or b == LITERAL or (5 <= b < 0x80 and b not in (EXT_I_0, EXT_I_0 + 1, EXT_I_0 + 2, PI, LITERAL_C)):
                if name is not None:
                    attrs[name] = "".join(parts)
                    parts = []
                if b == END:
                    break
                if b == LITERAL:
                    index = self.mb()
                    if index == 0 and not self.strtbl:
                        name = "xmlns"  # device quirk "nokia-literal-xmlns"
                    else:
                        name = self.text(self.table_string(index, pos), pos)
                        if not _XML_NAME.match(name.replace(":", "_", 1)):
                            raise WBXMLDecodeError(f"literal attribute name {name!r} is not an XML name", pos)
                else:
                    if self.strict:
                        raise UnknownTokenError(
                            f"attribute token 0x{b:02X} is not defined on attribute page {page}", pos)
                    name = C.wbxml_attr_name(page, b)
                continue
            if b == SWITCH_PAGE:
                page = self.u8()
                continue
            if name is None:
                raise WBXMLDecodeError(f"attribute value token 0x{b:02X} before any attribute name", pos)
            if b == STR_I:
                parts.append(self.text(self.inline_string(pos), pos))
            elif b == STR_T:
                parts.append(self.text(self.table_string(self.mb(), pos), pos))
            elif b == ENTITY:
                cp = self.mb()
                if cp == 0 or cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
                    raise WBXMLDecodeError(f"entity {cp} is not a character", pos)
                parts.append(chr(cp))
            elif b == OPAQUE:
                n = self.mb()
                if n > self.end - self.pos:
                    raise WBXMLDecodeError(
                        f"opaque length {n} exceeds the remaining {self.end - self.pos} bytes", pos)
                raw = self.data[self.pos:self.pos + n]
                self.pos += n
                parts.append(self.text(raw, pos))
            elif b >= 0x80 and b not in (EXT_T_0, EXT_T_0 + 1, EXT_T_0 + 2, LITERAL_A,
                                         EXT_0, EXT_0 + 1, EXT_0 + 2, LITERAL_AC):
                raise UnknownTokenError(
                    f"attribute value token 0x{b:02X}: SyncML defines no attribute values", pos)
            else:
                raise WBXMLDecodeError(f"token 0x{b:02X} cannot appear in an attribute list", pos)
        attrs.pop("xmlns", None)
        return attrs

    def _pi(self, h: Any, attrs: dict[str, str], pos: int) -> None:
        if len(attrs) != 1:
            raise WBXMLDecodeError("processing instruction without exactly one target", pos)
        ((target, value),) = attrs.items()
        h.start("wbxml:pi", WBXML_NS, {"target": target}, bool(value))
        if value:
            h.text(value)
            h.end()

    def _ext(self, h: Any, b: int, pos: int) -> None:
        n = b & 0x03
        if self.strict:
            raise UnknownTokenError(f"extension token 0x{b:02X} has no meaning in SyncML", pos)
        if b < 0x80:
            value = self.text(self.inline_string(pos), pos)
            h.start("wbxml:ext", WBXML_NS, {"kind": "i", "n": str(n)}, bool(value))
            if value:
                h.text(value)
                h.end()
        elif b < 0xC0:
            index = self.mb()
            h.start("wbxml:ext", WBXML_NS, {"kind": "t", "n": str(n), "index": str(index)}, False)
        else:
            h.start("wbxml:ext", WBXML_NS, {"kind": "b", "n": str(n)}, False)


def _find_wide_nul(data: bytes, start: int, width: int) -> int:
    nul = b"\0" * width
    i = data.find(nul, start)
    while i >= 0 and (i - start) % width:
        i = data.find(nul, i + 1)
    return i


def _as_bytes(data: Any) -> bytes:
    if type(data) is bytes:
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"expected bytes, bytearray or memoryview, not {type(data).__name__}")


# -- handlers ---------------------------------------------------------------


class _TreeBuilder:
    def __init__(self) -> None:
        self.stack: list[Element] = []
        self.docs: list[Document] = []
        self.doc: Document | None = None
        self.pending: Document | None = None

    def prolog(self, lang: Language) -> None:
        if self.pending is not None:
            self.pending.language = lang
        elif self.doc is not None:
            self.doc.language = lang

    def start(self, name: str, ns: str | None, attrs: dict[str, str] | None, content: bool) -> None:
        el = Element(name, [], attrs)
        if self.pending is not None:
            self.pending.root = el
            self.pending = None
        elif self.stack:
            self.stack[-1].children.append(el)
        else:
            self.doc.root = el  # type: ignore[union-attr]
        if content:
            self.stack.append(el)

    def end(self) -> None:
        self.stack.pop()

    def text(self, text: str) -> None:
        children = self.stack[-1].children
        if children and type(children[-1]) is str:
            children[-1] += text
        else:
            children.append(text)

    def opaque(self, raw: bytes) -> None:
        children = self.stack[-1].children
        if children and type(children[-1]) is bytes:
            children[-1] += raw
        else:
            children.append(raw)

    def begin_nested(self, sub: _Decoder) -> None:
        doc = Document(sub.lang or DEVINF12, Element(""), wbxml_version=sub.version,
                       charset=sub.charset, public_id_text=sub.public_id_text)
        self.stack[-1].children.append(doc)
        self.pending = doc

    def end_nested(self) -> None:
        pass

    def mark(self) -> tuple[int, int]:
        return len(self.stack), len(self.stack[-1].children)

    def rollback(self, mark: tuple[int, int]) -> None:
        depth, n = mark
        del self.stack[depth:]
        del self.stack[-1].children[n:]
        self.pending = None


class _XmlWriter:
    """Writes XML as the events arrive; ``pretty`` indents by two spaces
    (never inside text, so the text read back is the same)."""

    def __init__(self, pretty: bool) -> None:
        self.out: list[str] = []
        # per open element: (closing tag, default ns, wbxml prefix declared)
        self.stack: list[tuple[str, str | None, bool]] = []
        self.pretty = pretty
        self.last_text = False
        self.has_children = False
        self.root_ns: str | None = None

    def prolog(self, lang: Language) -> None:
        if not self.stack:
            self.out.append(C.prolog(lang))
            if self.pretty:
                self.out.append("\n")

    def start(self, name: str, ns: str | None, attrs: dict[str, str] | None, content: bool) -> None:
        out = self.out
        stack = self.stack
        if stack:
            default, wbxml = stack[-1][1], stack[-1][2]
            if self.pretty and not self.last_text:
                out.append("\n" + "  " * len(stack))
        else:
            default, wbxml = None, False
        tag = "<" + name
        if ns is WBXML_NS or ns == WBXML_NS:
            if not wbxml:
                tag += f' xmlns:wbxml="{WBXML_NS}"'
                wbxml = True
        elif ns is not None and ns != default:
            tag += f' xmlns="{ns}"'
            default = ns
        if attrs:
            for key, value in attrs.items():
                if key.startswith("wbxml:") and not wbxml:
                    tag += f' xmlns:wbxml="{WBXML_NS}"'
                    wbxml = True
                tag += f' {key}="{C.escape_attr(value)}"'
        if content:
            out.append(tag + ">")
            stack.append(("</" + name + ">", default, wbxml))
            self.has_children = False
        else:
            out.append(tag + "/>")
            self.has_children = True
            if not stack and self.pretty:
                out.append("\n")
        self.last_text = False

    def end(self) -> None:
        close = self.stack.pop()[0]
        if self.pretty and self.has_children and not self.last_text:
            self.out.append("\n" + "  " * len(self.stack))
        self.out.append(close)
        self.has_children = True
        self.last_text = False
        if self.pretty and not self.stack:
            self.out.append("\n")

    def text(self, text: str) -> None:
        self.out.append(C.escape_text(text))
        self.last_text = True

    def opaque(self, raw: bytes) -> None:
        text = C.opaque_as_text(raw)
        if text is not None:
            self.out.append("<![CDATA[" + text + "]]>")
            self.last_text = True
        else:
            self.start("wbxml:opaque", WBXML_NS, None, True)
            self.out.append(base64.b64encode(raw).decode("ascii"))
            self.last_text = True
            self.end()

    def begin_nested(self, sub: _Decoder) -> None:
        pass

    def end_nested(self) -> None:
        pass

    def mark(self) -> tuple[int, int, bool, bool]:
        return len(self.out), len(self.stack), self.last_text, self.has_children

    def rollback(self, mark: tuple[int, int, bool, bool]) -> None:
        n, depth, self.last_text, self.has_children = mark
        del self.out[n:]
        del self.stack[depth:]

    def result(self) -> bytes:
        return "".join(self.out).encode("utf-8")


def decode(data: Any, *, strict: bool = False, max_depth: int = C.DEFAULT_MAX_DEPTH) -> Document:
    """Decode a WBXML document into a :class:`Document`."""
    dec = _Decoder(_as_bytes(data), strict, max_depth)
    dec.header()
    h = _TreeBuilder()
    h.doc = Document(dec.lang or SYNCML12, Element(""), wbxml_version=dec.version,
                     charset=dec.charset, public_id_text=dec.public_id_text)
    dec.body(h)
    return h.doc


def wbxml_to_xml(data: Any, *, pretty: bool = False, strict: bool = False,
                 max_depth: int = C.DEFAULT_MAX_DEPTH) -> bytes:
    """Decode WBXML straight to XML bytes (UTF-8)."""
    data = _as_bytes(data)
    if not pretty:
        fast = _fast_xml(data, strict, max_depth)
        if fast is not None:
            return fast
    return _generic_xml(data, pretty, strict, max_depth)


def _generic_xml(data: bytes, pretty: bool, strict: bool, max_depth: int) -> bytes:
    dec = _Decoder(data, strict, max_depth)
    dec.header()
    h = _XmlWriter(pretty)
    if dec.lang is not None:
        h.prolog(dec.lang)
    dec.body(h)
    return h.result()


# -- the fast path -----------------------------------------------------------
#
# Compact XML from well-formed UTF-8 WBXML without attributes, literals,
# extensions or PIs: the shape of nearly all real traffic.  It writes bytes
# directly and gives up (returns None) at the first thing it does not handle;
# the generic path then decodes the input again and raises the proper error.
# Tests check that both paths give the same bytes.

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


def _fast_xml(data: bytes, strict: bool, max_depth: int, out: list[bytes] | None = None,
              outer_ns: str = "", depth0: int = 0) -> bytes | None:
    end = len(data)
    if end < 4:
        return None
    version = data[0]
    if version > 3:
        return None
    pid = data[1]
    pos = 2
    if pid & 0x80:
        if data[2] & 0x80:
            return None
        pid = ((pid & 0x7F) << 7) | data[2]
        pos = 3
    index = 0
    if pid == 0:
        index = data[pos]
        pos += 1
        if index & 0x80:
            return None
    if version:
        if pos >= end or data[pos] != 106:
            return None
        pos += 1
    if pos >= end:
        return None
    size = data[pos]
    pos += 1
    if size & 0x80:
        if pos >= end or data[pos] & 0x80:
            return None
        size = ((size & 0x7F) << 7) | data[pos]
        pos += 1
    if size > end - pos:
        return None
    table = data[pos:pos + size]
    pos += size
    if pid == 0:
        stop = table.find(b"\0", index) if index < size else -1
        if stop < 0:
            return None
        lang = language_by_xml_public_id(table[index:stop].decode("latin-1"))
    else:
        lang = language_by_public_id(pid)
    if lang is None or (out is not None and lang.family not in ("devinf", "ddf")):
        return None
    pages = _FAST[lang.key]
    nested = out is not None
    if out is None:
        out = [_PROLOG[lang.key]]
    append = out.append
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
            append(t[1] if t[0] == cur_ns else t[2])
            if t[3] is not None:
                push((t[3], kind, cur_ns))
                cur_ns = t[0]
                kind = t[4]
                depth += 1
            elif not stack:
                break
        elif b == STR_I or b == STR_T:
            if not stack:
                return None
            if b == STR_I:
                z = find(b"\0", pos)
                if z < 0:
                    return None
                s = data[pos:z]
                pos = z + 1
            else:
                if pos >= end:
                    return None
                i = data[pos]
                pos += 1
                if i & 0x80:
                    if pos >= end or data[pos] & 0x80:
                        return None
                    i = ((i & 0x7F) << 7) | data[pos]
                    pos += 1
                z = table.find(b"\0", i) if i < size else -1
                if z < 0:
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
        elif b == END:
            if not stack:
                return None
            close, kind, cur_ns = pop()
            append(close)
            depth -= 1
            if not stack:
                break
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
    if stack or pos != end:
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


# ---------------------------------------------------------------------------
# encoding


class _Encoder:
    """Receives start/end/text/opaque events and writes one WBXML document
    (plus its nested documents)."""

    def __init__(self, lang: Language, version: int, mib: int, codec: str, string_table: bool,
                 text_public_id: bool, counts: list[dict[str, int]] | None,
                 doc_index: list[int]) -> None:
        self.lang = lang
        self.names = lang.names
        self.namespaces = lang.namespaces
        self.version = version
        self.mib = mib
        self.codec = codec
        self.width = terminator_width(codec)
        self.string_table = string_table
        self.text_public_id = text_public_id or not lang.public_id
        self.counts = counts          # None: emit; list: counting pass
        self.doc_index = doc_index    # shared counter of documents seen, in order
        self.index = doc_index[0]
        doc_index[0] += 1
        self.body = bytearray()
        self.page = 0
        self.stack: list[tuple[int, int, str]] = []  # (tag byte position, kind, name)
        self.table = bytearray()
        self.table_index: dict[str, int] = {}
        self.nested: _Encoder | None = None
        self.nested_depth = 0
        if self.text_public_id:
            self.table_ref(lang.xml_public_id)
        if counts is not None:
            counts.append({})
        self.wanted: dict[str, int] | None = None

    # -- string table ------------------------------------------------------
    def table_ref(self, text: str) -> int:
        index = self.table_index.get(text)
        if index is None:
            index = len(self.table)
            self.table_index[text] = index
            self.table += self.encode_text(text) + b"\0" * self.width
        return index

    def encode_text(self, text: str) -> bytes:
        try:
            return text.encode(self.codec)
        except UnicodeEncodeError as exc:
            raise EncodeError(f"{text[exc.start]!r} cannot be written in {self.codec}") from None

    # -- events ------------------------------------------------------------
    def start(self, name: str, attrs: dict[str, str] | None) -> None:
        if self.nested is not None:
            self.nested.start(name, attrs)
            self.nested_depth += 1
            return
        if self.stack and self.stack[-1][0] < 0:
            raise EncodeError(f"<{name}> cannot be inside <{self.stack[-1][3]}>")
        body = self.body
        kind = K_PLAIN
        if name.startswith("wbxml:"):
            self._wbxml_start(name, attrs or {})
            return
        ref = self.names.get(name)
        if ref is None:
            if not self.string_table:
                raise C.unknown_name_error(name, self.lang)
            index = self.table_ref(name)
            tag = LITERAL
        else:
            page, token = ref
            if page != self.page:
                body += bytes((SWITCH_PAGE, page))
                self.page = page
            tag = token
            kind = _kind(self.lang, page, token)
        pos = len(body)
        body.append(tag | (0xC0 if attrs else 0x40))
        if tag == LITERAL:
            body += _mb(index)
        if attrs:
            self._attributes(attrs)
        self.stack.append((pos, len(body), kind, name))

    def _wbxml_start(self, name: str, attrs: dict[str, str]) -> None:
        body = self.body
        if name == "wbxml:tag":
            try:
                page = int(attrs["page"])
                token = int(attrs["token"], 16)
            except (KeyError, ValueError):
                raise EncodeError("<wbxml:tag> needs page and token attributes") from None
            if not (0 <= page <= 255 and 5 <= token <= 0x3F):
                raise EncodeError(f"<wbxml:tag> page {page} / token {token:#x} out of range")
            if page != self.page:
                body += bytes((SWITCH_PAGE, page))
                self.page = page
            rest = {k: v for k, v in attrs.items() if k not in ("page", "token")}
            pos = len(body)
            body.append(token | (0xC0 if rest else 0x40))
            if rest:
                self._attributes(rest)
            self.stack.append((pos, len(body), K_WBXML, name))
        elif name in ("wbxml:ext", "wbxml:pi", "wbxml:opaque"):
            self.stack.append((-1, -1, K_WBXML, name))
            self.pending_attrs = attrs
            self.pending_text: list[str] = []
        else:
            raise EncodeError(f"<{name}> is not an element syncml-codec knows")

    def _attributes(self, attrs: dict[str, str]) -> None:
        body = self.body
        for key, value in attrs.items():
            if key.startswith("xmlns"):
                continue
            if key.startswith("wbxml:attr-"):
                try:
                    _, page_s, token_s = key[len("wbxml:"):].split("-")
                    page, token = int(page_s), int(token_s, 16)
                except ValueError:
                    raise EncodeError(f"attribute {key!r} is not of the form wbxml:attr-PAGE-TOKEN") from None
                if page:
                    body += bytes((SWITCH_PAGE, page))
                body.append(token)
            else:
                if not self.string_table:
                    raise EncodeError(f"attribute {key!r} has no WBXML token in SyncML; "
                                      "encode with string_table=True to send it as a literal")
                body.append(LITERAL)
                body += _mb(self.table_ref(key))
            if value:
                self._string(value)
        body.append(END)

    def end(self) -> None:
        if self.nested is not None:
            self.nested.end()
            if self.nested_depth == 0:
                data = self.nested.finish()
                self.nested = None
                self.opaque(data)
            else:
                self.nested_depth -= 1
            return
        pos, content, _kind_, name = self.stack.pop()
        body = self.body
        if pos < 0:
            self._wbxml_end(name)
        elif content == len(body):
            body[pos] &= 0xBF  # nothing inside: clear the content bit, no END
        else:
            body.append(END)

    def _wbxml_end(self, name: str) -> None:
        attrs = self.pending_attrs
        text = "".join(self.pending_text)
        body = self.body
        if name == "wbxml:opaque":
            try:
                raw = base64.b64decode(text.encode("ascii"), validate=True)
            except (ValueError, UnicodeEncodeError):
                raise EncodeError("<wbxml:opaque> does not hold valid base64") from None
            self._opaque_bytes(raw)
        elif name == "wbxml:ext":
            try:
                n = int(attrs.get("n", ""))
                kind = attrs["kind"]
            except (KeyError, ValueError):
                raise EncodeError("<wbxml:ext> needs kind and n attributes") from None
            if not 0 <= n <= 2 or kind not in ("i", "t", "b"):
                raise EncodeError("<wbxml:ext> kind must be i, t or b and n 0, 1 or 2")
            if kind == "i":
                body.append(EXT_I_0 + n)
                body += self.encode_text(text) + b"\0" * self.width
            elif kind == "t":
                try:
                    index = int(attrs["index"])
                except (KeyError, ValueError):
                    raise EncodeError("<wbxml:ext kind='t'> needs an index attribute") from None
                body.append(EXT_T_0 + n)
                body += _mb(index)
            else:
                body.append(EXT_0 + n)
        else:  # wbxml:pi
            target = attrs.get("target", "")
            if not target:
                raise EncodeError("<wbxml:pi> needs a target attribute")
            body.append(PI)
            self._attributes({target: text})

    def text(self, text: str) -> None:
        if self.nested is not None:
            self.nested.text(text)
            return
        if not text:
            return
        top = self.stack[-1] if self.stack else None
        if top is None:
            raise EncodeError("text outside the root element")
        if top[0] < 0:
            self.pending_text.append(text)
            return
        if top[2] == K_TYPE:
            text = C.TYPE_TO_WBXML.get(text.lower(), text)
        self._string(text)

    def _string(self, text: str) -> None:
        body = self.body
        if "\0" in text:
            raise EncodeError("a WBXML string cannot hold U+0000")
        if self.counts is not None:
            counts = self.counts[self.index]
            counts[text] = counts.get(text, 0) + 1
        if self.wanted is not None and text in self.wanted:
            body.append(STR_T)
            body += _mb(self.table_ref(text))
            return
        try:
            raw = text.encode(self.codec)
        except UnicodeEncodeError:
            # characters the charset lacks go as ENTITY tokens
            for ch in text:
                try:
                    piece = ch.encode(self.codec)
                except UnicodeEncodeError:
                    body.append(ENTITY)
                    body += _mb(ord(ch))
                else:
                    body.append(STR_I)
                    body += piece + b"\0" * self.width
            return
        body.append(STR_I)
        body += raw
        body += b"\0" * self.width

    def opaque(self, raw: bytes) -> None:
        if self.nested is not None:
            self.nested.opaque(raw)
            return
        top = self.stack[-1] if self.stack else None
        if top is None:
            raise EncodeError("opaque data outside the root element")
        if top[0] < 0:
            raise EncodeError(f"<{top[3]}> cannot hold opaque data")
        self._opaque_bytes(raw)

    def _opaque_bytes(self, raw: bytes) -> None:
        self.body.append(OPAQUE)
        self.body += _mb(len(raw))
        self.body += raw

    def begin_nested(self, lang: Language) -> None:
        if self.nested is not None:
            self.nested.begin_nested(lang)
            self.nested_depth += 1
            return
        self.nested = _Encoder(lang, self.version, self.mib, self.codec, self.string_table,
                               self.text_public_id and lang.public_id == 0, self.counts, self.doc_index)
        if self.counts is None and self.wanted_all is not None:
            self.nested.set_wanted(self.wanted_all)
        self.nested_depth = -1  # the nested root's start comes next and brings it to 0

    wanted_all: list[dict[str, int]] | None = None

    def set_wanted(self, all_counts: list[dict[str, int]]) -> None:
        self.wanted_all = all_counts
        counts = all_counts[self.index]
        self.wanted = {s: n for s, n in counts.items() if n >= 2 and len(s) >= 3}
        for text in self.wanted:
            self.table_ref(text)

    def finish(self) -> bytes:
        if self.stack:
            raise EncodeError("document ended with open elements")
        if self.counts is not None:
            return b""
        out = bytearray((self.version,))
        if self.text_public_id:
            out += b"\0" + _mb(self.table_index[self.lang.xml_public_id])
        else:
            out += _mb(self.lang.public_id)
        if self.version != 0:
            out += _mb(self.mib)
        out += _mb(len(self.table))
        out += self.table
        out += self.body
        return bytes(out)


def _mb(value: int) -> bytes:
    if value < 0x80:
        return bytes((value,))
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(out))


def _run(lang: Language, options: tuple[int, int, str, bool, bool], drive: Any) -> bytes:
    version, mib, codec, string_table, text_pid = options
    all_counts: list[dict[str, int]] | None = None
    if string_table:
        all_counts = []
        counter = _Encoder(lang, version, mib, codec, True, text_pid, all_counts, [0])
        drive(counter)
    enc = _Encoder(lang, version, mib, codec, string_table, text_pid, None, [0])
    if all_counts is not None:
        enc.set_wanted(all_counts)
    drive(enc)
    return enc.finish()


def _options(wbxml_version: Any, string_table: bool, public_id: str, charset: Any) -> tuple[int, int, str, bool, bool]:
    mib, codec = C.parse_charset(charset)
    return (C.parse_wbxml_version(wbxml_version), mib, codec, bool(string_table),
            C.parse_public_id(public_id))


def encode(doc: Document, *, wbxml_version: str = "1.3", string_table: bool = False,
           public_id: str = "numeric", charset: str | int = "utf-8") -> bytes:
    """Encode a :class:`Document` as WBXML."""
    if not isinstance(doc, Document):
        raise TypeError(f"expected a Document, not {type(doc).__name__}")
    options = _options(wbxml_version, string_table, public_id, charset)

    def drive(enc: _Encoder) -> None:
        _walk(enc, doc.root, 0)

    return _run(doc.language, options, drive)


def _walk(enc: _Encoder, el: Element, depth: int) -> None:
    # iterative: trees built by hand may be deep
    stack: list[tuple[Element, int]] = [(el, 0)]
    enc.start(el.tag, el.attrs)
    while stack:
        node, i = stack[-1]
        if i == len(node.children):
            stack.pop()
            enc.end()
            continue
        stack[-1] = (node, i + 1)
        child = node.children[i]
        if type(child) is str:
            enc.text(child)
        elif type(child) is bytes:
            enc.opaque(child)
        elif isinstance(child, Element):
            if len(stack) >= C.DEFAULT_MAX_DEPTH * 4:
                raise EncodeError("tree nested too deeply")
            enc.start(child.tag, child.attrs)
            stack.append((child, 0))
        elif isinstance(child, Document):
            enc.begin_nested(child.language)
            _walk(enc, child.root, depth + 1)
        else:
            raise TypeError(f"an element child cannot be a {type(child).__name__}")


# -- the XML scanner ------------------------------------------------------------

_NAME = r"[A-Za-z_][A-Za-z0-9_.\-]*(?::[A-Za-z_][A-Za-z0-9_.\-]*)?"
_S = r"[ \t\r\n]"
_TAG = re.compile(r"<(" + _NAME + r")((?:" + _S + r"+" + _NAME + _S + r"*=" + _S
                  + r"*(?:\"[^\"<]*\"|'[^'<]*'))*)" + _S + r"*(/?)>")
_ATTR = re.compile(r"(" + _NAME + r")" + _S + r"*=" + _S + r"*(?:\"([^\"<]*)\"|'([^'<]*)')")
_END_TAG = re.compile(r"</(" + _NAME + r")" + _S + r"*>")
_DOCTYPE = re.compile(
    r"<!DOCTYPE" + _S + r"+(" + _NAME + r")(?:" + _S + r"+PUBLIC" + _S + r"+(?:\"([^\"]*)\"|'([^']*)')"
    + _S + r"+(?:\"[^\"]*\"|'[^']*')|" + _S + r"+SYSTEM" + _S + r"+(?:\"[^\"]*\"|'[^']*'))?" + _S + r"*>")
_ENTITY = re.compile(r"&(?:(#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6}|[A-Za-z_][A-Za-z0-9_.\-]*);)?")
_PREDEFINED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_WS = " \t\r\n"


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _xml_error(text: str, pos: int, message: str) -> XMLDecodeError:
    line, col = _line_col(text, pos)
    return XMLDecodeError(message, line, col, pos)


def _unescape(text: str, s: str, pos: int) -> str:
    if "&" not in s:
        return s

    def repl(m: re.Match[str]) -> str:
        ref = m.group(1)
        if ref is None:
            raise _xml_error(text, pos + m.start(), "'&' that does not start a reference")
        if ref[0] == "#":
            cp = int(ref[2:], 16) if ref[1] == "x" else int(ref[1:])
            if cp == 0 or cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
                raise _xml_error(text, pos + m.start(), f"character reference &{ref}; is not a character")
            return chr(cp)
        try:
            return _PREDEFINED[ref]
        except KeyError:
            raise _xml_error(text, pos + m.start(),
                             f"undefined entity &{ref}; (entities are not expanded)") from None

    return _ENTITY.sub(repl, s)


class _Scanner:
    """Reads SyncML XML and drives an :class:`_Encoder`.

    Deliberately not a general XML parser: no DTDs (an internal subset is an
    error, so no entity can be declared or expanded), no external anything,
    only the five predefined entities and character references.  Text is
    kept exactly (CR too), whitespace-only text in elements that have child
    elements is dropped.
    """

    def __init__(self, text: str, max_depth: int) -> None:
        self.text = text
        self.max_depth = max_depth
        self.doctype_public: str | None = None
        self.root: str | None = None
        self.root_ns: str | None = None
        self.body_start = 0
        self.prolog()

    def prolog(self) -> None:
        text = self.text
        pos = 0
        n = len(text)
        while True:
            while pos < n and text[pos] in _WS:
                pos += 1
            if text.startswith("<?", pos):
                stop = text.find("?>", pos + 2)
                if stop < 0:
                    raise _xml_error(text, pos, "unterminated processing instruction")
                pos = stop + 2
            elif text.startswith("<!--", pos):
                stop = text.find("-->", pos + 4)
                if stop < 0:
                    raise _xml_error(text, pos, "unterminated comment")
                pos = stop + 3
            elif text.startswith("<!DOCTYPE", pos):
                m = _DOCTYPE.match(text, pos)
                if m is None:
                    if "[" in text[pos:text.find(">", pos) + 1 or n]:
                        raise _xml_error(text, pos, "DTD internal subsets are not supported "
                                         "(entity declarations are refused)")
                    raise _xml_error(text, pos, "malformed DOCTYPE")
                self.doctype_public = m.group(2) if m.group(2) is not None else m.group(3)
                pos = m.end()
            elif text.startswith("<", pos):
                m = _TAG.match(text, pos)
                if m is None:
                    raise _xml_error(text, pos, "malformed root element start tag")
                self.root = m.group(1).rpartition(":")[2]
                for am in _ATTR.finditer(m.group(2)):
                    if am.group(1) == "xmlns":
                        self.root_ns = am.group(2) if am.group(2) is not None else am.group(3)
                self.body_start = pos
                return
            elif pos >= n:
                raise _xml_error(text, pos, "document has no root element")
            else:
                raise _xml_error(text, pos, "text before the root element")

    def language(self) -> Language:
        try:
            return C.detect_language(self.doctype_public, self.root or "", self.root_ns, self.text)
        except XMLDecodeError as exc:
            raise _xml_error(self.text, self.body_start, exc.reason) from None

    def drive(self, enc: _Encoder) -> None:
        text = self.text
        n = len(text)
        pos = self.body_start
        # per open element: [name, qname, had child element, pending text parts, kind, ns map]
        stack: list[list[Any]] = []
        lang = enc.lang
        nested_devinf = DEVINF_FOR_SYNCML.get(lang.version, DEVINF12) if lang.family == "syncml" else None
        max_depth = self.max_depth
        nested = 0  # depth inside a nested document
        nsmaps: list[dict[str, str]] = [{"xml": "http://www.w3.org/XML/1998/namespace"}]
        while True:
            lt = text.find("<", pos)
            if lt < 0:
                lt = n
            if lt > pos:
                if stack:
                    stack[-1][3].append(_unescape(text, text[pos:lt], pos))
                elif text[pos:lt].strip(_WS):
                    raise _xml_error(text, pos, "text after the root element")
            if lt >= n:
                if stack:
                    raise _xml_error(text, n, f"unexpected end of document inside <{stack[-1][1]}>")
                return
            pos = lt
            c = text[pos + 1:pos + 2]
            if c == "/":
                m = _END_TAG.match(text, pos)
                if m is None:
                    raise _xml_error(text, pos, "malformed end tag")
                if not stack:
                    raise _xml_error(text, pos, f"end tag </{m.group(1)}> without a start tag")
                top = stack.pop()
                if m.group(1) != top[1]:
                    raise _xml_error(text, pos, f"end tag </{m.group(1)}> does not match <{top[1]}>")
                self._flush(enc, top, closing=True)
                enc.end()
                nsmaps.pop()
                if nested:
                    nested -= 1
                pos = m.end()
                if not stack:
                    self._after_root(pos)
                    return
            elif c == "!":
                if text.startswith("<!--", pos):
                    stop = text.find("-->", pos + 4)
                    if stop < 0:
                        raise _xml_error(text, pos, "unterminated comment")
                    pos = stop + 3
                elif text.startswith("<![CDATA[", pos):
                    stop = text.find("]]>", pos + 9)
                    if stop < 0:
                        raise _xml_error(text, pos, "unterminated CDATA section")
                    if not stack:
                        raise _xml_error(text, pos, "CDATA outside the root element")
                    stack[-1][3].append(text[pos + 9:stop])
                    stack[-1][5] = True  # CDATA is content, even when it is only whitespace
                    pos = stop + 3
                else:
                    raise _xml_error(text, pos, "markup declarations are not allowed in the body")
            elif c == "?":
                stop = text.find("?>", pos + 2)
                if stop < 0:
                    raise _xml_error(text, pos, "unterminated processing instruction")
                pos = stop + 2
            else:
                m = _TAG.match(text, pos)
                if m is None:
                    raise _xml_error(text, pos, "malformed start tag")
                if len(stack) >= max_depth:
                    raise _xml_error(text, pos, f"elements nested deeper than {max_depth}")
                qname = m.group(1)
                prefix, _, local = qname.rpartition(":")
                attrs = None
                nsmap = nsmaps[-1]
                if m.group(2):
                    attrs = {}
                    for am in _ATTR.finditer(m.group(2)):
                        key = am.group(1)
                        value = _unescape(text, am.group(2) if am.group(2) is not None else am.group(3),
                                          pos + m.start(2) + am.start())
                        if key in attrs:
                            raise _xml_error(text, pos, f"duplicate attribute {key!r}")
                        if key.startswith("xmlns:"):
                            if nsmap is nsmaps[-1]:
                                nsmap = dict(nsmap)
                            nsmap[key[6:]] = value
                        attrs[key] = value
                if prefix:
                    uri = nsmap.get(prefix)
                    if uri is None:
                        raise _xml_error(text, pos, f"namespace prefix {prefix!r} is not declared")
                    name = "wbxml:" + local if uri == WBXML_NS else local
                else:
                    name = local
                if attrs:
                    clean = {}
                    for key, value in attrs.items():
                        if key == "xmlns" or key.startswith("xmlns:"):
                            continue
                        kp, _, kl = key.rpartition(":")
                        if kp:
                            kuri = nsmap.get(kp)
                            if kuri is None:
                                raise _xml_error(text, pos, f"namespace prefix {kp!r} is not declared")
                            key = "wbxml:" + kl if kuri == WBXML_NS else kl
                        clean[key] = value
                    attrs = clean or None
                parent = stack[-1] if stack else None
                if parent is not None:
                    self._flush(enc, parent, closing=False)
                    parent[2] = True
                # kind: K_DATA for an item's <Data> (text goes as OPAQUE), K_NONCE for
                # any other <Data> (text goes as a string); both can nest documents
                kind = K_PLAIN
                if parent is not None and parent[4] != K_PLAIN and name in ("DevInf", "MgmtTree") \
                        and nested_devinf is not None:
                    enc.begin_nested(nested_devinf if name == "DevInf" else DDF12)
                elif name == "Data" and nested_devinf is not None and not nested:
                    kind = K_DATA if parent is not None and parent[0] == "Item" else K_NONCE
                try:
                    enc.start(name, attrs)
                except EncodeError as exc:
                    raise _xml_error(text, pos, str(exc)) from None
                pos = m.end()
                if m.group(3):
                    enc.end()
                    if parent is None:
                        self._after_root(pos)
                        return
                else:
                    stack.append([name, qname, False, [], kind, False])
                    nsmaps.append(nsmap)
                    if enc.nested is not None:
                        nested += 1

    def _flush(self, enc: _Encoder, entry: list[Any], closing: bool) -> None:
        parts = entry[3]
        if not parts:
            return
        entry[3] = []
        value = "".join(parts)
        if (entry[2] or not closing) and not entry[5]:
            # whitespace around child elements is layout, not content
            if not value.strip(_WS):
                return
        entry[5] = False
        if entry[4] == K_DATA:
            enc.opaque(value.encode("utf-8"))
        else:
            enc.text(value)

    def _after_root(self, pos: int) -> None:
        text = self.text
        n = len(text)
        while True:
            while pos < n and text[pos] in _WS:
                pos += 1
            if pos >= n:
                return
            if text.startswith("<!--", pos):
                stop = text.find("-->", pos + 4)
                if stop < 0:
                    raise _xml_error(text, pos, "unterminated comment")
                pos = stop + 3
            elif text.startswith("<?", pos):
                stop = text.find("?>", pos + 2)
                if stop < 0:
                    raise _xml_error(text, pos, "unterminated processing instruction")
                pos = stop + 2
            else:
                raise _xml_error(text, pos, "content after the root element")


def xml_to_wbxml(data: Any, *, string_table: bool = False, wbxml_version: str = "1.3",
                 public_id: str = "numeric", charset: str | int = "utf-8",
                 max_depth: int = C.DEFAULT_MAX_DEPTH, max_size: int = C.DEFAULT_MAX_XML_SIZE) -> bytes:
    """Encode SyncML XML straight to WBXML."""
    options = _options(wbxml_version, string_table, public_id, charset)
    text = C.decode_xml_input(_as_bytes(data), max_size)
    scanner = _Scanner(text, max_depth)
    lang = scanner.language()
    return _run(lang, options, scanner.drive)
