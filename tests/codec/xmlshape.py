"""Structural comparison of XML documents, independent of our reader:
element local names, attributes other than namespace declarations, and
stripped text, in order.  Namespaces, DOCTYPE, comments, PIs, CDATA and
line ends do not count."""

from __future__ import annotations

import base64
import re
from typing import Any

from lxml import etree

from syncml_codec.codec.codepages import WBXML_NS

_DOCTYPE = re.compile(rb"<!DOCTYPE[^>\[]*>")
_PARSER = etree.XMLParser(no_network=True, load_dtd=False, resolve_entities=False,
                          remove_comments=True, remove_pis=True, recover=False)


def shape(data: bytes) -> Any:
    root = etree.fromstring(_DOCTYPE.sub(b"", data, count=1), _PARSER)
    return _shape(root)


def _shape(el: Any) -> Any:
    local = etree.QName(el).localname
    text = (el.text or "").replace("\r\n", "\n").strip()
    kids = []
    for child in el:
        if not isinstance(child.tag, str):
            continue
        if child.tag == f"{{{WBXML_NS}}}opaque":
            # binary or white-space opaque data, which other tools write raw
            raw = base64.b64decode(child.text or "").decode("utf-8", "replace").strip()
            if raw:
                kids.append(raw)
        else:
            kids.append(_shape(child))
        tail = (child.tail or "").strip()
        if tail:
            kids.append(tail)
    attrs = {etree.QName(k).localname: v for k, v in el.attrib.items()}
    return (local, attrs, text, kids)
