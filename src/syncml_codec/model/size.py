"""Exact encoded sizes: what a server needs to keep a message under the
peer's MaxMsgSize while it adds commands.

The sizes are the encoders' own, counted, not predicted: WBXML sizes come
from the encoder run over the element and counted (``model._fast.size``,
the Cython encoder, when it is built; else ``codec.wbxml.body_size``, the
pure-Python one), with the code page in force before it (WBXML switches
pages lazily, so a command's size depends on what came before it:
:class:`WBXMLMeter` carries the page from one element to the next); XML
sizes from the compact XML writer.  Sizes are for the defaults of
``to_bytes``: WBXML 1.3, UTF-8, numeric public ID, no string table (a
string table makes sizes depend on the whole message).
"""

from __future__ import annotations

from ..codec import wbxml
from ..codec.codepages import SYNCML12, Language
from ..codec.tree import Document, Element
from ..codec.xml import write_xml
from ._node import Node
from ._schema import SCHEMA
from .message import FAST, Message

__all__ = ["WBXMLMeter", "wbxml_size", "xml_size"]


def _mb_len(value: int) -> int:
    """Bytes of a WBXML multi-byte integer (for ``build.max_chunk``)."""
    n = 1
    while value >= 0x80:
        value >>= 7
        n += 1
    return n


def _body_size(obj: Node | Element, language: Language, page: int) -> tuple[int, int]:
    """(bytes, code page after) of ``obj`` in a WBXML body in ``page``."""
    if FAST is not None:
        counted: tuple[int, int] = FAST.size(obj, language, page, SCHEMA)
        return counted
    return wbxml.body_size(obj.to_element() if isinstance(obj, Node) else obj, language, page)


class WBXMLMeter:
    """Adds up the WBXML bytes of elements written one after another into a
    document of ``language``; ``page`` is the code page in force."""

    def __init__(self, language: Language, page: int = 0) -> None:
        self.language = language
        self.page = page

    def header(self) -> int:
        """Version, public ID, charset and string table (the public ID goes
        there when the language has no numeric one)."""
        root = Element(self.language.root)
        return len(wbxml.encode(Document(self.language, root))) - _body_size(root, self.language, 0)[0]

    def element(self, el: Node | Element) -> int:
        """Bytes ``el`` adds (code page switches included)."""
        size, self.page = _body_size(el, self.language, self.page)
        return size

    def document(self, doc: Document) -> int:
        self.page = 0
        return self.header() + self.element(doc.root)


def wbxml_size(obj: Node | Element | Document, language: Language | None = None, page: int = 0) -> int:
    """The WBXML size of a message (with its header) or, for a command or
    any other element, of its encoding after an element of code page
    ``page``."""
    if isinstance(obj, Message):
        return len(obj.to_bytes())
    if isinstance(obj, Document):
        return len(wbxml.encode(obj))
    return _body_size(obj, language or SYNCML12, page)[0]


def xml_size(obj: Node | Element | Document, language: Language | None = None) -> int:
    """The compact XML size (as ``to_bytes("xml")`` writes it) of a message,
    or of an element written in a document of ``language`` whose default
    namespace is that of the element's parent page 0."""
    if isinstance(obj, Message):
        return len(obj.to_bytes("xml"))
    if isinstance(obj, Document):
        return len(write_xml(obj))
    el = obj.to_element() if isinstance(obj, Node) else obj
    language = language or SYNCML12
    # the writer's own bytes: the element in a root of the language, minus the root without it
    # (text after it, so that the root is written the same way both times)
    with_el = write_xml(Document(language, Element(language.root, [el, "x"])))
    return len(with_el) - _xml_frame(language)


_XML_FRAMES: dict[str, int] = {}


def _xml_frame(language: Language) -> int:
    """The XML size of a document of ``language`` whose root holds "x"."""
    size = _XML_FRAMES.get(language.key)
    if size is None:
        size = _XML_FRAMES[language.key] = len(write_xml(Document(language, Element(language.root, ["x"]))))
    return size
