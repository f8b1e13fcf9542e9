"""The XML codec: reads SyncML XML as devices send it, keeps payloads exact,
writes compact or pretty XML with correct namespaces."""

from __future__ import annotations

import pytest

from syncml_codec import XMLDecodeError, parse_xml, write_xml
from syncml_codec.codec.tree import Element

from ..conftest import corpus_path

BODY = b"<SyncHdr><VerDTD>1.1</VerDTD><Meta><MaxMsgSize>5000</MaxMsgSize></Meta></SyncHdr>"


@pytest.mark.parametrize("doc, key", [
    (b"<SyncML>" + BODY + b"</SyncML>", "syncml11"),  # version from <VerDTD>
    (b"<SyncML xmlns='SYNCML:SYNCML1.1'>" + BODY + b"</SyncML>", "syncml11"),
    (b"<SyncML xmlns='syncml:syncml1.0'>" + BODY + b"</SyncML>", "syncml10"),
    (b'<?xml version="1.0"?>\n<!DOCTYPE SyncML PUBLIC "-//SYNCML//DTD SyncML 1.2//EN" "x.dtd">\n<SyncML>'
     + BODY + b"</SyncML>", "syncml12"),
    (b"<SyncML><SyncHdr/></SyncML>", "syncml12"),
    (b"<DevInf xmlns='syncml:devinf'><VerDTD>1.1</VerDTD></DevInf>", "devinf11"),
    (b"<MgmtTree xmlns='syncml:dmddf1.2'><VerDTD>1.2</VerDTD></MgmtTree>", "ddf12"),
    (b"<MetInf xmlns='syncml:metinf'><MaxMsgSize>1</MaxMsgSize></MetInf>", "metinf12"),
])
def test_language_detection(wbxml, doc, key):
    assert parse_xml(doc).language.key == key
    assert wbxml.decode(wbxml.xml_to_wbxml(doc)).language.key == key


def test_all_variants_read_the_same():
    plain = parse_xml(b"<SyncML>" + BODY + b"</SyncML>").root
    for variant in [
        b"<SyncML xmlns='SYNCML:SYNCML1.1'>" + BODY.replace(b"<MaxMsgSize>", b"<MaxMsgSize xmlns='syncml:metinf'>")
        + b"</SyncML>",
        b"<s:SyncML xmlns:s='SYNCML:SYNCML1.1'>" + BODY.replace(b"<", b"<s:").replace(b"<s:/", b"</s:")
        + b"</s:SyncML>",
        b"<?xml version='1.0' encoding='ISO-8859-1'?>\n<!-- a comment -->\n<SyncML>\n  " + BODY + b"\n</SyncML>\n",
    ]:
        assert parse_xml(variant).root == plain


def test_carriage_returns_in_payloads_are_kept(wbxml):
    vcard = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nEND:VCARD\r\n"
    doc = b"<SyncML><SyncBody><Add><Item><Data><![CDATA[" + vcard + b"]]></Data></Item></Add></SyncBody></SyncML>"
    tree = parse_xml(doc)
    data = tree.root.find("SyncBody").find("Add").find("Item").find("Data")
    assert data.children == [vcard]
    assert wbxml.decode(wbxml.xml_to_wbxml(doc)) == tree
    escaped = doc.replace(b"<![CDATA[", b"").replace(b"]]>", b"").replace(b"\r", b"&#13;")
    assert parse_xml(escaped) == tree


def test_item_data_is_opaque_other_data_is_text():
    doc = parse_xml(b"<SyncML><SyncBody><Status><Data>200</Data></Status>"
                    b"<Add><Item><Data>x &amp; y</Data></Item></Add></SyncBody></SyncML>")
    body = doc.root.find("SyncBody")
    assert body.find("Status").find("Data").children == ["200"]
    assert body.find("Add").find("Item").find("Data").children == [b"x & y"]


def test_non_ascii_and_charsets(wbxml):
    text = "Ærø Zoë 東京"
    doc = f"<SyncML><SyncHdr><LocName>{text}</LocName></SyncHdr></SyncML>"
    for encoding in ("utf-8", "utf-16", "iso-8859-1"):
        source = f'<?xml version="1.0" encoding="{encoding}"?>{doc}'
        if encoding == "iso-8859-1":
            source = source.replace("東京", "&#x6771;&#x4eac;")
        raw = source.encode(encoding)
        tree = parse_xml(raw)
        assert tree.root.find("SyncHdr").find("LocName").text == text
        assert wbxml.decode(wbxml.xml_to_wbxml(raw)) == tree


def test_write_compact_and_pretty():
    doc = parse_xml(corpus_path("libwbxml", "syncml", "syncml-003.xml").read_bytes())
    compact, pretty = write_xml(doc), write_xml(doc, pretty=True)
    assert b"\n" not in compact
    assert b'<SyncML xmlns="SYNCML:SYNCML1.1">' in compact
    assert b'<MaxMsgSize xmlns="syncml:metinf">' in compact
    assert b'<DevInf xmlns="syncml:devinf">' in compact
    assert b"\n  <SyncHdr>\n    <VerDTD>1.1</VerDTD>\n" in pretty
    assert parse_xml(compact) == parse_xml(pretty) == doc


def test_mixed_content_is_not_indented():
    doc = parse_xml(b"<SyncML><SyncBody><Data>a<Final/>b</Data></SyncBody></SyncML>")
    assert parse_xml(write_xml(doc, pretty=True)) == doc


def test_wbxml_elements_read_back():
    xml = (b"<SyncML xmlns:w='urn:syncml-codec:wbxml'><SyncBody><Add><Item><Data>"
           b"<w:opaque>AAEC</w:opaque></Data></Item></Add><w:tag page='0' token='0x3F'>x</w:tag>"
           b"</SyncBody></SyncML>")
    body = parse_xml(xml).root.find("SyncBody")
    assert body.find("Add").find("Item").find("Data").children == [b"\x00\x01\x02"]
    assert body.find("wbxml:tag") == Element("wbxml:tag", ["x"], {"page": "0", "token": "0x3F"})


@pytest.mark.parametrize("doc, line", [
    (b"<SyncML>\n<SyncHdr>\n</SyncML>", 3),
    (b"<SyncML>\n\n<SyncHdr>&nope;</SyncHdr></SyncML>", 3),
    (b"", 1),
    (b"<SyncML><SyncBody><Add><Item><Data><w:opaque xmlns:w='urn:syncml-codec:wbxml'>!!</w:opaque>"
     b"</Data></Item></Add></SyncBody></SyncML>", 1),
])
def test_parse_errors(doc, line):
    with pytest.raises(XMLDecodeError) as err:
        parse_xml(doc)
    assert err.value.line == line
