"""Finding the DevInf a SyncML message carries.

A DevInf travels in ``<Data>`` of a ``Put`` (the sender's own) or a
``Results`` (the answer to a ``Get``).  The codec already nests it as a
:class:`~syncml_codec.codec.tree.Document` (family ``devinf``) when it came
as a WBXML sub-document or as XML elements.  Some devices send it as text
instead (escaped XML in an XML message, a string in WBXML): opaque data in
an item whose ``Meta/Type`` names DevInf is decoded here too.
"""

from __future__ import annotations

from typing import NamedTuple

from ..codec import wbxml as _wbxml
from ..codec.detect import looks_like_wbxml
from ..codec.tree import Document, Element
from ..codec.xml import parse_xml
from ..errors import DecodeError, DevInfError
from ._devinf import DevInf

__all__ = ["FoundDevInf", "devinf_documents", "find_devinf"]


class FoundDevInf(NamedTuple):
    """A DevInf and where it was: ``"Put (CmdID 1)"``, ``"Results (CmdID
    4), Item 2"``, or ``""`` for a standalone DevInf document."""

    where: str
    devinf: DevInf


def _meta_type(element: Element) -> str:
    meta = element.find("Meta")
    found = meta.find("Type") if meta is not None else None
    return found.text.strip().lower() if found is not None else ""


def _decode(data: bytes, where: str) -> Document | None:
    try:
        doc = _wbxml.decode(data) if looks_like_wbxml(data) else parse_xml(data)
    except DecodeError as exc:
        raise DevInfError(where, f"DevInf data does not decode: {exc}") from None
    return doc if doc.language.family == "devinf" else None


def devinf_documents(doc: Document) -> list[tuple[str, Document]]:
    """Every DevInf document in ``doc`` with where it was, in document
    order; ``doc`` itself when it is a DevInf document."""
    if doc.language.family == "devinf":
        return [("", doc)]
    found: list[tuple[str, Document]] = []
    # (element, label of the enclosing command, that command's Meta/Type)
    stack: list[tuple[Element, str, str]] = [(doc.root, "", "")]
    while stack:
        element, where, ctype = stack.pop()
        cmd_id = element.find("CmdID")
        if cmd_id is not None:
            where, ctype = f"{element.tag} (CmdID {cmd_id.text.strip()})", _meta_type(element)
        items = [id(item) for item in element.findall("Item")]
        pending: list[tuple[Element, str, str]] = []
        for child in element.children:
            if isinstance(child, Document):
                if child.language.family == "devinf":
                    found.append((where, child))
            elif isinstance(child, bytes) and element.tag == "Data" and "devinf" in ctype:
                nested = _decode(child, where)
                if nested is not None:
                    found.append((where, nested))
            elif isinstance(child, Element):
                if child.tag == "Item":
                    label = f"{where}, Item {items.index(id(child)) + 1}" if len(items) > 1 else where
                    pending.append((child, label, _meta_type(child) or ctype))
                else:
                    pending.append((child, where, ctype))
        stack.extend(reversed(pending))
    return found


def find_devinf(doc: Document) -> list[FoundDevInf]:
    """Every DevInf in a message (or the DevInf a DevInf document is),
    read; a malformed one raises :class:`~syncml_codec.errors.DevInfError`
    whose path starts with where it was."""
    out = []
    for where, nested in devinf_documents(doc):
        try:
            out.append(FoundDevInf(where, DevInf.from_document(nested)))
        except DevInfError as exc:
            if not where:
                raise
            raise DevInfError(f"{where}: {exc.path}", exc.reason) from None
    return out
