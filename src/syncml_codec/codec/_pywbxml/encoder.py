"""Events -> WBXML, and the tree walk that drives it."""

from __future__ import annotations

from typing import Any

from ...errors import EncodeError
from .. import _common as C
from .. import _messages as M
from .. import _rare as R
from .. import tree as T
from .._rare import mb as _mb
from ..codepages import (
    Language,
    terminator_width,
)
from ..tree import Document, Element
from .tokens import (
    END,
    K_PLAIN,
    K_TYPE,
    K_WBXML,
    LITERAL,
    OPAQUE,
    PI,
    STR_I,
    STR_T,
    SWITCH_PAGE,
    _kind,
)


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
        self.stack: list[tuple[int, int, int, str]] = []  # (tag position, content start, kind, name)
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
        return R.encode_text(text, self.codec)

    # -- events ------------------------------------------------------------
    def start(self, name: str, attrs: dict[str, str] | None) -> None:
        if self.nested is not None:
            self.nested.start(name, attrs)
            self.nested_depth += 1
            return
        if self.stack and self.stack[-1][0] < 0:
            raise EncodeError(M.not_inside(name, self.stack[-1][3]))
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
            page, token, rest = R.wbxml_tag(attrs)
            if page != self.page:
                body += bytes((SWITCH_PAGE, page))
                self.page = page
            pos = len(body)
            body.append(token | (0xC0 if rest else 0x40))
            if rest:
                self._attributes(rest)
            self.stack.append((pos, len(body), K_WBXML, name))
        else:
            R.pending_code(name)
            self.stack.append((-1, -1, K_WBXML, name))
            self.pending_attrs = attrs
            self.pending_text: list[str] = []

    def _attributes(self, attrs: dict[str, str]) -> None:
        body = self.body
        for piece, key, value in R.attribute_names(attrs, self.string_table):
            if piece:
                body += piece
            else:
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
        pos, content, _, name = self.stack.pop()
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
        if name == "wbxml:opaque":
            self.body += R.opaque_tokens(text)
        elif name == "wbxml:ext":
            self.body += R.ext_tokens(attrs, text, self.codec, self.width)
        else:  # wbxml:pi
            target = R.pi_target(attrs)
            self.body.append(PI)
            self._attributes({target: text})

    def text(self, text: str) -> None:
        if self.nested is not None:
            self.nested.text(text)
            return
        if not text:
            return
        top = self.stack[-1] if self.stack else None
        if top is None:
            raise EncodeError(M.TEXT_OUTSIDE_ROOT)
        if top[0] < 0:
            self.pending_text.append(text)
            return
        if top[2] == K_TYPE:
            text = C.TYPE_TO_WBXML.get(text.lower(), text)
        self._string(text)

    def _string(self, text: str) -> None:
        body = self.body
        if "\0" in text:
            raise EncodeError(M.NUL_IN_STRING)
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
            body += R.entity_tokens(text, self.codec, self.width)
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
            raise EncodeError(M.OPAQUE_OUTSIDE_ROOT)
        if top[0] < 0:
            raise EncodeError(M.no_opaque_in(top[3]))
        self._opaque_bytes(raw)

    def _opaque_bytes(self, raw: bytes) -> None:
        self.body.append(OPAQUE)
        self.body += _mb(len(raw))
        self.body += raw

    def begin_nested(self, lang: Language) -> None:
        if self.nested is not None:
            # only starts and ends move nested_depth (they reach us for every level)
            self.nested.begin_nested(lang)
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
        # a string the charset cannot hold stays inline (as ENTITY tokens)
        self.wanted = {s: n for s, n in counts.items() if n >= 2 and len(s) >= 3 and _encodable(s, self.codec)}
        for text in self.wanted:
            self.table_ref(text)

    def finish(self) -> bytes:
        if self.stack:
            raise EncodeError(M.OPEN_AT_END)
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


def _encodable(text: str, codec: str) -> bool:
    try:
        text.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


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


def encode(doc: Document, *, wbxml_version: str = "1.3", string_table: bool = False,
           public_id: str = "numeric", charset: str | int = "utf-8") -> bytes:
    """Encode a :class:`Document` as WBXML."""
    if not isinstance(doc, Document):
        raise TypeError(M.not_a_document(doc))
    options = C.encode_options(wbxml_version, string_table, public_id, charset)

    def drive(enc: _Encoder) -> None:
        _walk(enc, doc.root)

    return _run(doc.language, options, drive)


def _walk(enc: _Encoder, root: Element) -> None:
    for kind, item in T.events(root):
        if kind == T.TEXT:
            enc.text(item)
        elif kind == T.START:
            enc.start(item.tag, item.attrs)
        elif kind == T.END:
            enc.end()
        elif kind == T.OPAQUE:
            enc.opaque(item)
        elif kind == T.DOCUMENT:
            enc.begin_nested(item.language)



