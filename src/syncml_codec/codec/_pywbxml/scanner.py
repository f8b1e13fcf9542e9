"""The hardened SyncML XML scanner that drives the encoder."""

from __future__ import annotations

import re
from typing import Any

from ...errors import EncodeError, XMLDecodeError
from .. import _common as C
from .. import _messages as M
from ..codepages import (
    DDF12,
    DEVINF12,
    DEVINF_FOR_SYNCML,
    WBXML_NS,
    Language,
)
from .encoder import _Encoder, _run
from .tokens import (
    K_DATA,
    K_NONCE,
    K_PLAIN,
    _as_bytes,
)

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
            raise _xml_error(text, pos + m.start(), M.BARE_AMPERSAND)
        if ref[0] == "#":
            cp = int(ref[2:], 16) if ref[1] == "x" else int(ref[1:])
            if cp == 0 or cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
                raise _xml_error(text, pos + m.start(), M.char_ref_not_char(ref))
            return chr(cp)
        try:
            return _PREDEFINED[ref]
        except KeyError:
            raise _xml_error(text, pos + m.start(),
                             M.undefined_entity(ref)) from None

    return _ENTITY.sub(repl, s)


def _past(text: str, pos: int, skip: int, closer: str, what: str) -> int:
    """The position after ``closer`` of the construct starting at ``pos``."""
    stop = text.find(closer, pos + skip)
    if stop < 0:
        raise _xml_error(text, pos, M.unterminated(what))
    return stop + len(closer)


def _skip_misc(text: str, pos: int) -> int:
    """Skip white space, comments and processing instructions (outside the
    root element)."""
    n = len(text)
    while True:
        while pos < n and text[pos] in _WS:
            pos += 1
        if text.startswith("<!--", pos):
            pos = _past(text, pos, 4, "-->", "comment")
        elif text.startswith("<?", pos):
            pos = _past(text, pos, 2, "?>", "processing instruction")
        else:
            return pos


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
            pos = _skip_misc(text, pos)
            if text.startswith("<!DOCTYPE", pos):
                m = _DOCTYPE.match(text, pos)
                if m is None:
                    if "[" in text[pos:text.find(">", pos) + 1 or n]:
                        raise _xml_error(text, pos, M.DTD_SUBSET)
                    raise _xml_error(text, pos, M.MALFORMED_DOCTYPE)
                self.doctype_public = m.group(2) if m.group(2) is not None else m.group(3)
                pos = m.end()
            elif text.startswith("<", pos):
                m = _TAG.match(text, pos)
                if m is None:
                    raise _xml_error(text, pos, M.MALFORMED_ROOT_TAG)
                self.root = m.group(1).rpartition(":")[2]
                for am in _ATTR.finditer(m.group(2)):
                    if am.group(1) == "xmlns":
                        self.root_ns = am.group(2) if am.group(2) is not None else am.group(3)
                self.body_start = pos
                return
            elif pos >= n:
                raise _xml_error(text, pos, M.NO_ROOT)
            else:
                raise _xml_error(text, pos, M.TEXT_BEFORE_ROOT)

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
                    raise _xml_error(text, pos, M.TEXT_AFTER_ROOT)
            if lt >= n:
                if stack:
                    raise _xml_error(text, n, M.end_inside(stack[-1][1]))
                return
            pos = lt
            c = text[pos + 1:pos + 2]
            if c == "/":
                m = _END_TAG.match(text, pos)
                if m is None:
                    raise _xml_error(text, pos, M.MALFORMED_END_TAG)
                if not stack:
                    raise _xml_error(text, pos, M.end_without_start(m.group(1)))
                top = stack.pop()
                if m.group(1) != top[1]:
                    raise _xml_error(text, pos, M.end_mismatch(m.group(1), top[1]))
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
                    pos = _past(text, pos, 4, "-->", "comment")
                elif text.startswith("<![CDATA[", pos):
                    stop = _past(text, pos, 9, "]]>", "CDATA section")
                    if not stack:
                        raise _xml_error(text, pos, M.CDATA_OUTSIDE_ROOT)
                    stack[-1][3].append(text[pos + 9:stop - 3])
                    stack[-1][5] = True  # CDATA is content, even when it is only whitespace
                    pos = stop
                else:
                    raise _xml_error(text, pos, M.MARKUP_IN_BODY)
            elif c == "?":
                pos = _past(text, pos, 2, "?>", "processing instruction")
            else:
                m = _TAG.match(text, pos)
                if m is None:
                    raise _xml_error(text, pos, M.MALFORMED_START_TAG)
                if len(stack) >= max_depth:
                    raise _xml_error(text, pos, M.too_deep(max_depth))
                qname = m.group(1)
                prefix, _, local = qname.rpartition(":")
                attrs: dict[str, str] | None = None
                nsmap = nsmaps[-1]
                if m.group(2):
                    attrs = {}
                    for am in _ATTR.finditer(m.group(2)):
                        key = am.group(1)
                        vgroup = 2 if am.group(2) is not None else 3
                        value = _unescape(text, am.group(vgroup), m.start(2) + am.start(vgroup))
                        if key in attrs:
                            raise _xml_error(text, pos, M.duplicate_attr(key))
                        if key.startswith("xmlns:"):
                            if nsmap is nsmaps[-1]:
                                nsmap = dict(nsmap)
                            nsmap[key[6:]] = value
                        attrs[key] = value
                if prefix:
                    uri = nsmap.get(prefix)
                    if uri is None:
                        raise _xml_error(text, pos, M.prefix_not_declared(prefix))
                    name = "wbxml:" + local if uri == WBXML_NS else local
                else:
                    name = local
                if attrs:
                    try:
                        attrs = C.unprefixed_attrs(attrs, nsmap.get)
                    except KeyError as exc:
                        raise _xml_error(text, pos, M.prefix_not_declared(exc.args[0])) from None
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
        # whitespace around child elements is layout, not content
        if (entry[2] or not closing) and not entry[5] and not value.strip(_WS):
            return
        entry[5] = False
        if entry[4] == K_DATA:
            enc.opaque(value.encode("utf-8"))
        else:
            enc.text(value)

    def _after_root(self, pos: int) -> None:
        pos = _skip_misc(self.text, pos)
        if pos < len(self.text):
            raise _xml_error(self.text, pos, M.CONTENT_AFTER_ROOT)

def xml_to_wbxml(data: Any, *, string_table: bool = False, wbxml_version: str = "1.3",
                 public_id: str = "numeric", charset: str | int = "utf-8",
                 max_depth: int = C.DEFAULT_MAX_DEPTH, max_size: int = C.DEFAULT_MAX_XML_SIZE) -> bytes:
    """Encode SyncML XML straight to WBXML."""
    options = C.encode_options(wbxml_version, string_table, public_id, charset)
    text = C.decode_xml_input(_as_bytes(data), max_size)
    scanner = _Scanner(text, max_depth)
    lang = scanner.language()
    return _run(lang, options, scanner.drive)
