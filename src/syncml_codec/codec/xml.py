"""SyncML XML <-> :class:`Document`, reading with lxml.

Reading is hardened: no network, no DTD loading, no entity expansion (a
DOCTYPE with an internal subset is refused before lxml sees it), an input
size limit and a depth limit.  Devices send XML with or without a DOCTYPE,
with ``SYNCML:SYNCML1.x`` or no namespace at all, and MetInf elements with or
without ``xmlns="syncml:metinf"`` (sync4j clients): the element names decide,
so all of these read the same.

One deviation from plain XML processing, on purpose: carriage returns in
text and CDATA are kept.  An XML parser must turn CRLF into LF, but a vCard
in ``<Data>`` is compared byte for byte after a sync, so a changed line end
is a changed item.  Before parsing, each CR is swapped for a private-use
character and swapped back in the tree.

Writing does not go through lxml: it uses the same writer as
``wbxml_to_xml``, so ``write_xml(decode(w)) == wbxml_to_xml(w)`` for any
WBXML ``w``.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from lxml import etree

from ..errors import XMLDecodeError
from . import _common as C
from ._pywbxml.decoder import _XmlWriter
from ._pywbxml.scanner import _Scanner
from .codepages import DDF12, DEVINF12, DEVINF_BY_VERSION, DEVINF_FOR_SYNCML, WBXML_NS, Language
from .tree import DOCUMENT, END, OPAQUE, START, TEXT, Document, Element, events

__all__ = ["parse_xml", "write_xml"]

_POSITION = re.compile(r",? line \d+, column \d+$")
_CR = "\ue00d"  # stands in for CR while lxml parses
_PARSER_OPTIONS = dict(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
    huge_tree=False, remove_comments=True, remove_pis=True, collect_ids=False,
)
_WS = " \t\r\n" + _CR


def parse_xml(data: bytes | bytearray | memoryview, *, max_depth: int = C.DEFAULT_MAX_DEPTH,
              max_size: int = C.DEFAULT_MAX_XML_SIZE, keep_whitespace: bool = False) -> Document:
    """Read a SyncML, DevInf, MetInf or DM DDF XML document.

    White space only text between child elements is layout and left out,
    unless ``keep_whitespace`` (then it is text like any other); all other
    text is kept as it is, spaces and line ends included.

    >>> doc = parse_xml(b"<SyncML><SyncHdr><VerDTD>1.1</VerDTD></SyncHdr></SyncML>")
    >>> doc.language.key, doc.root.find("SyncHdr").find("VerDTD").text
    ('syncml11', '1.1')
    """
    text = C.decode_xml_input(data, max_size)
    scanner = _Scanner(text, max_depth)  # refuses internal DTD subsets, finds the root
    lang = scanner.language()
    # lxml gets the body only: the prolog (declaration, DOCTYPE) was read
    # above, and a DOCTYPE would make libxml2 try to load the external DTD.
    # Newlines stand in for the prolog so that line numbers stay right.
    body = "\n" * text.count("\n", 0, scanner.body_start) + text[scanner.body_start:]
    keep_cr = _CR not in text
    if keep_cr:
        # only up to the root's end tag: after the root, CR (a Windows file's
        # last CRLF, a comment's line ends) is not content, and the stand-in
        # there would be (lxml: "Extra content at the end of the document")
        body = body.rstrip(" \t\r\n")
        cut = body.rfind("</")
        cut = len(body) if cut < 0 or body.find(">", cut) < 0 else body.find(">", cut) + 1
        body = body[:cut].replace("\r", _CR) + body[cut:]
    parser = etree.XMLParser(**_PARSER_OPTIONS)  # type: ignore[arg-type]
    try:
        root = etree.fromstring(body.encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (1, 0)
        message = _POSITION.sub("", str(exc.msg or exc))
        raise XMLDecodeError(message, line, column) from None
    return Document(lang, _convert(root, lang, keep_cr, max_depth, keep_whitespace))


def _local(tag: Any) -> str | None:
    if not isinstance(tag, str):
        return None  # comment, PI or entity left in the tree
    if tag[0] == "{":
        ns, _, local = tag[1:].partition("}")
        return "wbxml:" + local if ns == WBXML_NS else local
    return tag


def _element(node: Any, keep_cr: bool) -> Element:
    name = _local(node.tag)
    assert name is not None
    attrs = {}
    for key, value in node.attrib.items():
        local = _local(key)
        if local is not None:
            attrs[local] = value.replace(_CR, "\r") if keep_cr else value
    return Element(name, [], attrs or None)


def _add(pieces: list[Any], value: str | bytes) -> None:
    """Append character or opaque data, merging with a neighbour of its kind."""
    last = pieces[-1] if pieces else None
    if isinstance(last, str) and isinstance(value, str):
        pieces[-1] = last + value
        return
    if isinstance(last, bytes) and isinstance(value, bytes):
        pieces[-1] = last + value
        return
    pieces.append(value)


def _devinf_language(node: Any, default: Language | None) -> Language:
    """A nested DevInf's code pages: by its own ``<VerDTD>`` when that names
    a DevInf version, else by the message's.  (A Sony Ericsson K800i sends
    DevInf 1.2 in a message whose namespace says SyncML 1.1; its VerDTD, in
    the header and in the DevInf, says 1.2.)"""
    for kid in node:
        if _local(kid.tag) == "VerDTD":
            found = DEVINF_BY_VERSION.get((kid.text or "").strip(_WS))
            if found is not None:
                return found
            break
    return default or DEVINF12


def _convert(root: Any, lang: Language, keep_cr: bool, max_depth: int, keep_ws: bool = False) -> Element:
    """lxml tree -> our tree, iteratively (hostile depth cannot exhaust the
    stack).  Same rules as the WBXML path: whitespace-only text around child
    elements is layout; an item's ``<Data>`` text is opaque bytes; an element
    directly in ``<Data>`` named DevInf or MgmtTree is a nested document.

    The hot loop of reading XML: local names are looked up once per tag
    spelling (a message repeats a few dozen), attributes are read only where
    there are any, and each element knows its parent's name from the stack."""
    nested_devinf = DEVINF_FOR_SYNCML.get(lang.version) if lang.family == "syncml" else None
    names: dict[Any, str | None] = {}

    def local(tag: Any) -> str | None:
        try:
            return names[tag]
        except KeyError:  # the first of its spelling (a comment's or PI's tag, a function, gives None)
            name = names[tag] = _local(tag)
            return name

    def element(node: Any, name: str) -> Element:
        if not node.attrib:
            return Element(name, [])
        attrs = {}
        for key, value in node.items():
            key_name = local(key)
            if key_name is not None:
                attrs[key_name] = value.replace(_CR, "\r") if keep_cr else value
        return Element(name, [], attrs or None)

    top = _element(root, keep_cr)
    stack: list[tuple[Any, Element, int, str | None]] = [(root, top, 0, None)]
    while stack:
        node, el, depth, parent_name = stack.pop()
        if depth >= max_depth:
            raise XMLDecodeError(f"elements nested deeper than {max_depth}", node.sourceline or 1)
        in_data = nested_devinf is not None and el.tag == "Data"
        opaque = in_data and parent_name == "Item"
        kids = [(k, name) for k in node if (name := local(k.tag)) is not None]
        pieces: list[Any] = []
        text: str | None = node.text
        if text and (not kids or keep_ws or text.strip(_WS)):
            text = text.replace(_CR, "\r") if keep_cr else text
            _add(pieces, text.encode("utf-8") if opaque else text)
        pending: list[tuple[Any, Element, int, str | None]] = []
        for kid, name in kids:
            child = element(kid, name)
            if name == "wbxml:opaque":
                try:
                    _add(pieces, base64.b64decode("".join(kid.itertext()).strip(), validate=True))
                except ValueError:
                    raise XMLDecodeError("<wbxml:opaque> does not hold valid base64", kid.sourceline or 1) from None
            elif in_data and name in ("DevInf", "MgmtTree"):
                nested = _devinf_language(kid, nested_devinf) if name == "DevInf" else DDF12
                pieces.append(Document(nested, child))
                pending.append((kid, child, depth + 1, el.tag))
            else:
                pieces.append(child)
                pending.append((kid, child, depth + 1, el.tag))
            tail: str | None = kid.tail
            if tail and (keep_ws or tail.strip(_WS)):
                tail = tail.replace(_CR, "\r") if keep_cr else tail
                _add(pieces, tail.encode("utf-8") if opaque else tail)
        el.children = pieces
        stack.extend(reversed(pending))
    return top


def write_xml(doc: Document, *, pretty: bool = False, indent: int = 2, keep_whitespace: bool = False) -> bytes:
    """Write a :class:`Document` as XML (UTF-8, with XML declaration and
    DOCTYPE).  Opaque data that is valid text is written as CDATA, other
    opaque data as base64 in a ``wbxml:opaque`` element.

    ``pretty`` puts each element on a line, indented ``indent`` spaces a
    level; text is never touched.  With ``keep_whitespace`` no line break or
    indentation is added between the children of an element that holds
    text and elements (mixed content) nor before its end tag, so that all of
    its text is the document's (plain ``pretty`` adds layout around its
    child elements); inside a child that holds only elements, layout is
    added as usual.
    """
    writer = _XmlWriter(pretty, indent)
    writer.prolog(doc.language)
    _write(writer, doc, keep_whitespace)
    return writer.result()


def _ns(lang: Language, name: str) -> str | None:
    if name.startswith("wbxml:"):
        return WBXML_NS
    ref = lang.names.get(name)
    return None if ref is None else lang.namespaces.get(ref[0])


def _mixed(el: Element) -> bool:
    kids = el.children
    return any(type(k) is not Element and type(k) is not Document for k in kids) and \
        any(type(k) is Element or type(k) is Document for k in kids)


def _write(writer: _XmlWriter, doc: Document, keep_whitespace: bool = False) -> None:
    langs = [doc.language]
    pretty = writer.pretty
    keep = pretty and keep_whitespace
    mixed: list[bool] = []  # with keep: for each open element, whether it holds text and elements
    for kind, item in events(doc.root):
        if kind == TEXT:
            writer.text(item)
        elif kind == START:
            if keep:  # no layout between the children of a mixed element
                writer.pretty = not (mixed and mixed[-1])
            writer.start(item.tag, _ns(langs[-1], item.tag), item.attrs, bool(item.children))
            if keep and item.children:
                mixed.append(_mixed(item))
        elif kind == END:
            if item.children:
                if keep:  # nor before its end tag
                    writer.pretty = not mixed.pop()
                writer.end()
        elif kind == OPAQUE:
            if keep:  # (base64 opaque data is an element: <wbxml:opaque>)
                writer.pretty = not (mixed and mixed[-1])
            writer.opaque(item)
        elif kind == DOCUMENT:
            langs.append(item.language)
        else:
            langs.pop()
    if keep:
        writer.pretty = pretty
        if not writer.out[-1].endswith("\n"):  # a mixed root: the line still ends
            writer.out.append("\n")
