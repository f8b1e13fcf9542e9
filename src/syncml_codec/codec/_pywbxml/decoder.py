"""WBXML -> events, and the two event handlers (tree, XML)."""

from __future__ import annotations

import base64
from typing import Any

from ...errors import UnknownTokenError, WBXMLDecodeError
from .. import _common as C
from .. import _messages as M
from .. import _rare as R
from ..codepages import (
    DEVINF12,
    SYNCML12,
    WBXML_NS,
    Language,
    language_by_public_id,
    language_by_xml_public_id,
)
from ..tree import Document, Element
from .tokens import (
    _TAGS,
    END,
    ENTITY,
    EXT_0,
    EXT_I_0,
    EXT_T_0,
    K_DATA,
    K_NONCE,
    K_PLAIN,
    K_TYPE,
    K_WBXML,
    LITERAL,
    OPAQUE,
    PI,
    STR_I,
    STR_T,
    SWITCH_PAGE,
    _as_bytes,
    _guess_language,
    _kind,
)


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
        self.expansion_left = C.table_expansion_limit(len(data))

    # -- primitives --------------------------------------------------------
    def u8(self) -> int:
        pos = self.pos
        if pos >= self.end:
            raise WBXMLDecodeError(M.END_OF_DATA, pos)
        self.pos = pos + 1
        return self.data[pos]

    def mb(self) -> int:
        data = self.data
        pos = start = self.pos
        end = self.end
        value = 0
        for _ in range(5):
            if pos >= end:
                raise WBXMLDecodeError(M.END_IN_MB, pos)
            b = data[pos]
            pos += 1
            value = (value << 7) | (b & 0x7F)
            if not b & 0x80:
                if value > 0xFFFFFFFF:
                    raise WBXMLDecodeError(M.MB_OVER_32_BITS, start)
                self.pos = pos
                return value
        raise WBXMLDecodeError(M.MB_OVER_5_BYTES, start)

    def inline_string(self, tpos: int) -> bytes:
        data = self.data
        pos = self.pos
        stop = data.find(b"\x00", pos) if self.width == 1 else _find_wide_nul(data, pos, self.width)
        if stop < 0:
            raise WBXMLDecodeError(M.INLINE_UNTERMINATED, tpos)
        self.pos = stop + self.width
        return data[pos:stop]

    def table_string(self, index: int, tpos: int) -> bytes:
        table = self.strtbl
        if index >= len(table):
            raise WBXMLDecodeError(M.table_ref_out_of_range(index, len(table)), tpos)
        stop = table.find(b"\0", index) if self.width == 1 else _find_wide_nul(table, index, self.width)
        if stop < 0:
            # device quirk "unterminated-table-entry": the table length delimits
            # the last entry (Sony Ericsson's public ID), as libwbxml reads it
            stop = len(table)
        self.expansion_left -= stop - index
        if self.expansion_left < 0:
            raise WBXMLDecodeError(C.table_expansion_error(C.table_expansion_limit(self.end)), tpos)
        return table[index:stop]

    def text(self, raw: bytes, tpos: int) -> str:
        try:
            return raw.decode(self.codec)
        except UnicodeDecodeError:
            return R.undecodable_text(raw, self.codec, self.strict, tpos)

    # -- header ------------------------------------------------------------
    def header(self) -> None:
        version = self.u8()
        if version > 3 and self.strict:
            raise UnknownTokenError(M.unsupported_version(version), 0)
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
            self.codec, self.width = R.document_charset(charset, cs_pos)
        self.charset = charset
        len_pos = self.pos
        n = self.mb()
        if n > self.end - self.pos:
            raise WBXMLDecodeError(M.table_too_long(n, self.end - self.pos), len_pos)
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
        started = False
        while True:
            pos = self.pos
            if pos >= end:
                if not started:
                    raise WBXMLDecodeError(M.NO_ROOT, pos)
                raise WBXMLDecodeError(M.END_IN_ELEMENT, pos)
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
                    self._opaque(h, self.opaque_bytes(pos), stack[-1], depth0 + len(stack))
                    continue
                if b == ENTITY:
                    self._text(h, R.entity_char(self.mb(), pos), stack[-1])
                    continue
                if b == PI:
                    self._pi(h, self.attributes(0), pos)
                    continue
                if b in (EXT_I_0, EXT_I_0 + 1, EXT_I_0 + 2, EXT_T_0, EXT_T_0 + 1, EXT_T_0 + 2,
                         EXT_0, EXT_0 + 1, EXT_0 + 2):
                    self._ext(h, b, pos)
                    continue
            elif b == PI:
                raise WBXMLDecodeError(M.PI_OUTSIDE_ROOT, pos)
            # an element
            if depth0 + len(stack) >= max_depth:
                raise WBXMLDecodeError(M.too_deep(max_depth), pos)
            token = b & 0x3F
            if token == LITERAL:
                name_raw = self.table_string(self.mb(), pos)
                name = R.literal_tag(self.text(name_raw, pos), pos)
                ns = None
                kind = K_PLAIN
                if lang is None:
                    if strict:
                        raise UnknownTokenError(M.LITERAL_ROOT_UNKNOWN, pos)
                    if nested:  # else SyncML in SyncML, nested as deep as the input allows
                        raise WBXMLDecodeError(M.NOT_NESTED_DOCUMENT, pos)
                    lang = self.lang = SYNCML12
                    tags, namespaces, _family = _TAGS[lang.key], lang.namespaces, lang.family
                    h.prolog(lang)
            elif token < 5:
                raise WBXMLDecodeError(M.cannot_start_element(b), pos)
            else:
                if lang is None:
                    lang = _guess_language(page, token)
                    if lang is None:
                        if strict:
                            raise UnknownTokenError(
                                M.unknown_root(self.public_id, token, page), pos)
                        lang = SYNCML12
                    if nested and lang.family not in ("devinf", "ddf"):
                        raise WBXMLDecodeError(M.NOT_NESTED_DOCUMENT, pos)
                    self.lang = lang
                    tags, namespaces, _family = _TAGS[lang.key], lang.namespaces, lang.family
                    h.prolog(lang)
                tag_name = tags.get((page << 8) | token)  # type: ignore[union-attr]
                if tag_name is None:
                    if strict:
                        raise UnknownTokenError(
                            M.unknown_tag(token, page, lang.family, lang.version), pos)
                    name = "wbxml:tag"
                    ns = WBXML_NS
                    kind = K_WBXML
                else:
                    name = tag_name
                    ns = namespaces.get(page)  # type: ignore[union-attr]
                    kind = _kind(lang, page, token)
            attrs: dict[str, str] | None = self.attributes(pos) if b & 0x80 else None
            if kind == K_WBXML:
                attrs = R.unknown_tag_attrs(page, token, attrs)
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
        # after the root: nothing but the end of the input; a lenient read
        # also accepts white space and NUL padding there (device quirk
        # "trailing-padding": libwbxml stops after the root element)
        if self.pos < end and not nested and not self.strict and not data[self.pos:end].strip(_PADDING):
            self.pos = end
        if self.pos < end and not nested:
            if data[self.pos] == PI:
                raise WBXMLDecodeError(M.PI_OUTSIDE_ROOT, self.pos)
            raise WBXMLDecodeError(M.DATA_AFTER_ROOT, self.pos)

    def _text(self, h: Any, text: str, kind: int) -> None:
        if kind == K_TYPE:
            text = C.TYPE_TO_XML.get(text.lower(), text)
        h.text(text)

    def _opaque(self, h: Any, raw: bytes, kind: int, depth: int) -> None:
        if kind == K_DATA:
            if len(raw) >= 4 and raw[0] <= 3 and self._nested(h, raw, depth):
                return
            h.opaque(raw)
        elif kind in (K_NONCE, K_WBXML):
            h.opaque(raw)
        else:
            text = R.opaque_as_string(raw, self.codec)
            if text is not None:
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
                raise WBXMLDecodeError(M.DATA_AFTER_NESTED_ROOT, sub.pos)
        except WBXMLDecodeError:
            h.rollback(mark)
            return False
        h.end_nested()
        return True

    def attributes(self, tpos: int) -> dict[str, str]:
        return R.read_attributes(self, tpos)

    def opaque_bytes(self, tpos: int) -> bytes:
        n = self.mb()
        if n > self.end - self.pos:
            raise WBXMLDecodeError(M.opaque_too_long(n, self.end - self.pos), tpos)
        raw = self.data[self.pos:self.pos + n]
        self.pos += n
        return raw

    def has_table(self) -> bool:
        return bool(self.strtbl)

    def _pi(self, h: Any, attrs: dict[str, str], pos: int) -> None:
        attrs, value = R.pi_element(attrs, pos)
        h.start("wbxml:pi", WBXML_NS, attrs, bool(value))
        if value:
            h.text(value)
            h.end()

    def _ext(self, h: Any, b: int, pos: int) -> None:
        attrs, value = R.ext_element(self, b, pos)
        h.start("wbxml:ext", WBXML_NS, attrs, bool(value))
        if value:
            h.text(value)
            h.end()


_PADDING = b" \t\r\n\0"


def _find_wide_nul(data: bytes, start: int, width: int) -> int:
    nul = b"\0" * width
    i = data.find(nul, start)
    while i >= 0 and (i - start) % width:
        i = data.find(nul, i + 1)
    return i



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
    """Writes XML as the events arrive; ``pretty`` puts each element on a
    line indented by ``indent`` spaces a level (never inside text, so the
    text read back is the same)."""

    def __init__(self, pretty: bool, indent: int = 2) -> None:
        self.out: list[str] = []
        self.step = " " * C.check_indent(indent)
        # per open element: (closing tag, default ns, wbxml prefix declared)
        self.stack: list[tuple[str, str | None, bool]] = []
        self.pretty = pretty
        self.last_text = False
        self.has_children = False
        self.root_ns: str | None = None

    def prolog(self, lang: Language) -> None:
        if not self.stack:
            text = C.prolog(lang)
            if self.pretty:
                cut = len(C.XML_DECLARATION)
                text = text[:cut] + "\n" + text[cut:] + "\n"
            self.out.append(text)

    def start(self, name: str, ns: str | None, attrs: dict[str, str] | None, content: bool) -> None:
        out = self.out
        stack = self.stack
        if stack:
            default, wbxml = stack[-1][1], stack[-1][2]
            if self.pretty and not self.last_text:
                out.append("\n" + self.step * len(stack))
        else:
            default, wbxml = None, False
        tag, default, wbxml = C.start_tag(name, ns, default, wbxml, attrs)
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
            self.out.append("\n" + self.step * len(self.stack))
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


def _open(data: bytes, strict: bool, max_depth: int, language: Language | str | None) -> _Decoder:
    forced = None if language is None else C.check_language(language)
    dec = _Decoder(data, strict, max_depth)
    dec.header()
    if forced is not None:
        dec.lang = forced  # as wbxml2xml -l: whatever the public ID says
    return dec


def decode(data: Any, *, strict: bool = False, max_depth: int = C.DEFAULT_MAX_DEPTH,
           language: Language | str | None = None) -> Document:
    """Decode a WBXML document into a :class:`Document`."""
    dec = _open(_as_bytes(data), strict, max_depth, language)
    h = _TreeBuilder()
    h.doc = Document(dec.lang or SYNCML12, Element(""), wbxml_version=dec.version,
                     charset=dec.charset, public_id_text=dec.public_id_text)
    dec.body(h)
    return h.doc


def _generic_xml(data: bytes, pretty: bool, strict: bool, max_depth: int, indent: int = 2,
                 language: Language | str | None = None) -> bytes:
    h = _XmlWriter(pretty, indent)
    dec = _open(data, strict, max_depth, language)
    if dec.lang is not None:
        h.prolog(dec.lang)
    dec.body(h)
    return h.result()


