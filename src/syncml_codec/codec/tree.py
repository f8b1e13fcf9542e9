"""The element tree both WBXML implementations and the XML codec share.

A deliberately small tree: SyncML has no attributes (except in the explicit
``wbxml:`` elements), no mixed content worth a full DOM, and its payloads are
bytes.  An :class:`Element` holds its ``tag`` (local name), optional
``attrs`` and ``children``, each of which is

* an :class:`Element`,
* ``str``: character data (WBXML inline or table strings),
* ``bytes``: opaque data (WBXML OPAQUE; in XML, the text of an item's
  ``<Data>`` or base64 text marked ``wbxml:encoding="base64"``),
* a :class:`Document`: a complete document nested in ``<Data>`` (DevInf or
  DM DDF), which WBXML carries as an OPAQUE sub-document.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from . import _messages as M
from .codepages import Language

__all__ = ["DOCUMENT", "END", "END_DOCUMENT", "OPAQUE", "START", "TEXT", "Child", "Document", "Element", "events"]


class Element:
    """One element: ``Element("LocURI", ["./contacts"])``."""

    __slots__ = ("attrs", "children", "tag")

    def __init__(self, tag: str, children: list[Child] | None = None,
                 attrs: dict[str, str] | None = None) -> None:
        self.tag = tag
        self.children: list[Child] = [] if children is None else children
        self.attrs = attrs

    # -- navigation -----------------------------------------------------
    def find(self, tag: str) -> Element | None:
        """The first child element named ``tag``, or None."""
        for child in self.children:
            if type(child) is Element and child.tag == tag:
                return child
        return None

    def findall(self, tag: str) -> list[Element]:
        return [c for c in self.children if type(c) is Element and c.tag == tag]

    def elements(self) -> Iterator[Element]:
        """The child elements, in order."""
        return (c for c in self.children if type(c) is Element)

    @property
    def text(self) -> str:
        """The concatenated character data of the direct children (opaque
        data decoded as UTF-8 with replacement, for display only)."""
        parts = []
        for c in self.children:
            if type(c) is str:
                parts.append(c)
            elif type(c) is bytes:
                parts.append(c.decode("utf-8", "replace"))
        return "".join(parts)

    def iter(self) -> Iterator[Element]:
        """This element and every element below it, depth first (not into
        nested documents)."""
        stack = [self]
        while stack:
            el = stack.pop()
            yield el
            stack.extend(reversed([c for c in el.children if type(c) is Element]))

    # -- comparison -----------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Element):
            return NotImplemented
        return (self.tag == other.tag and (self.attrs or None) == (other.attrs or None)
                and self.children == other.children)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        attrs = f", attrs={self.attrs!r}" if self.attrs else ""
        return f"Element({self.tag!r}, {self.children!r}{attrs})"


class Document:
    """A whole document: its language (code pages and identifiers), the
    WBXML header it came with (or will get), and the root element."""

    __slots__ = ("charset", "language", "public_id_text", "root", "wbxml_version")

    def __init__(self, language: Language, root: Element, *, wbxml_version: int | None = None,
                 charset: int = 106, public_id_text: bool = False) -> None:
        self.language = language
        self.root = root
        #: 0-3 for WBXML 1.0-1.3 when decoded from WBXML, else None
        self.wbxml_version = wbxml_version
        #: IANA MIBenum of the WBXML charset (106 = UTF-8)
        self.charset = charset
        #: True when the WBXML header named the public ID by string
        self.public_id_text = public_id_text

    def __eq__(self, other: object) -> bool:
        """Documents are equal when language and content are (the WBXML
        header details are how it was sent, not what it says)."""
        if not isinstance(other, Document):
            return NotImplemented
        return self.language == other.language and self.root == other.root

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Document({self.language.key}, {self.root!r})"


Child = Element | str | bytes | Document


_DONE = object()

# the kinds of event ``events`` yields
START, END, TEXT, OPAQUE, DOCUMENT, END_DOCUMENT = range(6)


def events(root: Element) -> Iterator[tuple[int, Any]]:
    """Walk a tree depth first, without recursion: ``(START, element)``,
    ``(TEXT, str)``, ``(OPAQUE, bytes)``, ``(END, element)``; a nested
    document gives ``(DOCUMENT, document)``, the events of its root, then
    ``(END_DOCUMENT, document)``."""
    yield START, root
    stack: list[tuple[Element | Document, Iterator[Child]]] = [(root, iter(root.children))]
    while stack:
        owner, children = stack[-1]
        child = next(children, _DONE)
        if child is _DONE:
            stack.pop()
            yield (END, owner) if isinstance(owner, Element) else (END_DOCUMENT, owner)
        elif type(child) is str:
            yield TEXT, child
        elif type(child) is bytes:
            yield OPAQUE, child
        elif isinstance(child, Element):
            yield START, child
            stack.append((child, iter(child.children)))
        elif isinstance(child, Document):
            yield DOCUMENT, child
            yield START, child.root
            stack.append((child, iter(())))
            stack.append((child.root, iter(child.root.children)))
        else:
            raise TypeError(M.bad_child(child))
