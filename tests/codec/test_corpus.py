"""Every message of the corpus, through both implementations: decodes,
round-trips, and reads the same as XML and as WBXML."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncml_codec import parse_xml, write_xml

from .corpus import WBXML_FILES, XML_FILES, rel
from .xmlshape import shape


def test_corpus_is_there():
    if not WBXML_FILES:
        pytest.skip("corpus not found (expected ../shared/corpus beside the checkout)")
    assert len(WBXML_FILES) >= 300
    assert len(XML_FILES) >= 270


@pytest.mark.parametrize("path", WBXML_FILES, ids=rel)
def test_wbxml_message(wbxml, path: Path):
    data = path.read_bytes()
    xml = wbxml.wbxml_to_xml(data)
    doc = wbxml.decode(data)
    # the XML rendering and the tree say the same thing
    assert parse_xml(xml) == doc
    assert write_xml(doc) == xml
    assert wbxml.wbxml_to_xml(data, pretty=True) == write_xml(doc, pretty=True)
    # re-encoding keeps the content
    ours = wbxml.encode(doc)
    assert wbxml.decode(ours) == doc
    # our encoder's output is a fixed point of WBXML -> XML -> WBXML
    assert wbxml.xml_to_wbxml(wbxml.wbxml_to_xml(ours)) == ours
    assert wbxml.xml_to_wbxml(wbxml.wbxml_to_xml(ours, pretty=True)) == ours
    assert wbxml.encode(wbxml.decode(ours)) == ours


@pytest.mark.parametrize("path", XML_FILES, ids=rel)
def test_xml_message(wbxml, path: Path):
    data = path.read_bytes()
    encoded = wbxml.xml_to_wbxml(data)
    back = wbxml.wbxml_to_xml(encoded)
    # XML -> WBXML -> XML is structurally equal to the input
    assert shape(back) == shape(data)
    # the lxml reader and the WBXML path agree on the tree
    doc = parse_xml(data)
    assert wbxml.decode(encoded) == doc
    assert wbxml.encode(doc) == encoded
    # with a string table the content is the same
    with_table = wbxml.xml_to_wbxml(data, string_table=True)
    assert wbxml.decode(with_table) == doc
    assert wbxml.xml_to_wbxml(wbxml.wbxml_to_xml(with_table), string_table=True) == with_table
