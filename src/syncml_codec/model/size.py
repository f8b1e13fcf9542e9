"""Exact encoded sizes, computed without encoding: what a server needs to
keep a message under the peer's MaxMsgSize while it adds commands.

The arithmetic mirrors the encoder and the compact XML writer rule for
rule: WBXML switches code pages lazily (so a command's size depends on the
code page in force before it: :class:`WBXMLMeter` carries that state from
one command to the next), drops END for elements that stay empty, rewrites
``<Type>`` for nested DevInf, and nests DevInf/DDF documents as opaque data;
XML declares a namespace where the code page changes and shows opaque data
as CDATA or base64.  Sizes are for the defaults of ``to_bytes``: WBXML 1.3,
UTF-8, numeric public ID, no string table (a string table makes sizes
depend on the whole message).  The tests compare every prediction with the
real encoding of every corpus message.
"""

from __future__ import annotations

import base64
from typing import Any

from ..codec import _common as C
from ..codec.codepages import WBXML_NS, Language
from ..codec.tree import Document, Element
from ..errors import EncodeError
from ._node import Node

__all__ = ["WBXMLMeter", "wbxml_size", "xml_size"]


def _mb_len(value: int) -> int:
    n = 1
    while value >= 0x80:
        value >>= 7
        n += 1
    return n


class WBXMLMeter:
    """Adds up the WBXML bytes of elements written one after another into a
    document of ``language``; ``page`` is the code page in force."""

    def __init__(self, language: Language, page: int = 0) -> None:
        self.language = language
        self.page = page

    def header(self) -> int:
        """Version, public ID, charset and (empty) string table length; with
        no numeric public ID the ID goes in the string table."""
        lang = self.language
        if lang.public_id:
            return 1 + _mb_len(lang.public_id) + 1 + 1
        table = len(lang.xml_public_id.encode()) + 1
        return 1 + 2 + 1 + _mb_len(table) + table

    def element(self, el: Element) -> int:
        """Bytes ``el`` adds (code page switches included)."""
        names = self.language.names
        total = 0
        # explicit stack: (element, next child index, is Type element)
        stack: list[tuple[Element, int, bool]] = []
        total += self._start(el, names)
        stack.append((el, 0, self._is_type(el)))
        while stack:
            node, i, is_type = stack[-1]
            if i == len(node.children):
                stack.pop()
                if node.children and any(c != "" for c in node.children):
                    total += 1  # END
                continue
            stack[-1] = (node, i + 1, is_type)
            child = node.children[i]
            if type(child) is str:
                if child:
                    if is_type:
                        child = C.TYPE_TO_WBXML.get(child.lower(), child)
                    total += 2 + len(child.encode("utf-8"))
            elif type(child) is bytes:
                total += 1 + _mb_len(len(child)) + len(child)
            elif isinstance(child, Document):
                size = WBXMLMeter(child.language).document(child)
                total += 1 + _mb_len(size) + size
            elif isinstance(child, Element):
                total += self._start(child, names)
                stack.append((child, 0, self._is_type(child)))
            else:
                raise TypeError(f"an element child cannot be a {type(child).__name__}")
        return total

    def document(self, doc: Document) -> int:
        self.page = 0
        return self.header() + self.element(doc.root)

    def _start(self, el: Element, names: dict[str, tuple[int, int]]) -> int:
        ref = names.get(el.tag)
        if ref is None or el.attrs:
            raise EncodeError(f"<{el.tag}> has no token of its own: sizes are only predicted "
                              "for messages without literals, attributes or wbxml: elements")
        page = ref[0]
        if page != self.page:
            self.page = page
            return 3
        return 1

    def _is_type(self, el: Element) -> bool:
        return el.tag == "Type" and self.language.family in ("syncml", "metinf")


def wbxml_size(obj: Node | Element | Document, language: Language | None = None, page: int = 0) -> int:
    """The WBXML size of a message (with its header) or, for a command or
    any other element, of its encoding after an element of code page
    ``page``."""
    from .message import Message

    if isinstance(obj, Message):
        return WBXMLMeter(obj.language()).document(obj.to_document())
    if isinstance(obj, Document):
        return WBXMLMeter(obj.language).document(obj)
    el = obj.to_element() if isinstance(obj, Node) else obj
    if language is None:
        from ..codec.codepages import SYNCML12
        language = SYNCML12
    return WBXMLMeter(language, page).element(el)


def xml_size(obj: Node | Element | Document, language: Language | None = None) -> int:
    """The compact XML size (as ``to_bytes("xml")`` writes it) of a message,
    or of an element written in a document of ``language`` whose default
    namespace is that of the element's parent page 0."""
    from .message import Message

    if isinstance(obj, Message):
        doc = obj.to_document()
        return len(C.prolog(doc.language).encode()) + _xml_element(doc.root, doc.language, None)
    if isinstance(obj, Document):
        return len(C.prolog(obj.language).encode()) + _xml_element(obj.root, obj.language, None)
    el = obj.to_element() if isinstance(obj, Node) else obj
    if language is None:
        from ..codec.codepages import SYNCML12
        language = SYNCML12
    return _xml_element(el, language, language.namespaces.get(0))


def _ns_of(lang: Language, tag: str) -> str | None:
    if tag.startswith("wbxml:"):
        return WBXML_NS
    ref = lang.names.get(tag)
    return None if ref is None else lang.namespaces.get(ref[0])


def _xml_element(el: Element, lang: Language, default_ns: str | None) -> int:
    total = 0
    stack: list[Any] = [(el, lang, default_ns, None)]
    while stack:
        item = stack.pop()
        if isinstance(item, int):
            total += item
            continue
        node, lng, parent_ns, _ = item
        if node.attrs or node.tag.startswith("wbxml:"):
            raise EncodeError(f"<{node.tag}>: sizes are only predicted for plain SyncML elements")
        ns = _ns_of(lng, node.tag)
        decl = 0
        scope_ns = parent_ns
        if ns is not None and ns != parent_ns:
            decl = len(f' xmlns="{ns}"')
            scope_ns = ns
        name = len(node.tag)
        if not node.children:
            total += name + 3 + decl  # <n/>
            continue
        total += name + 2 + decl + name + 3  # <n ...></n>
        for child in reversed(node.children):
            if type(child) is str:
                stack.append(len(C.escape_text(child).encode("utf-8")))
            elif type(child) is bytes:
                shown = C.opaque_as_text(child)
                if shown is not None:
                    stack.append(len(child) + 12)  # <![CDATA[...]]>
                else:
                    opaque = f'<wbxml:opaque xmlns:wbxml="{WBXML_NS}"></wbxml:opaque>'
                    stack.append(len(opaque) + len(base64.b64encode(child)))
            elif isinstance(child, Document):
                stack.append((child.root, child.language, scope_ns, None))
            else:
                stack.append((child, lng, scope_ns, None))
    return total
