"""Device quirks, each a named rule with its own test, and the explicit
``wbxml:`` forms that keep what SyncML gives no meaning to."""

from __future__ import annotations

import pytest

from syncml_codec import UnknownTokenError, WBXMLDecodeError, parse_xml
from syncml_codec.codec.tree import Document, Element

from .wbxmlbuild import (
    DATA,
    END,
    ITEM,
    LOCURI,
    META,
    OPAQUE,
    SWITCH_PAGE,
    SYNCBODY,
    TARGET,
    header,
    mb,
    s,
    syncml,
)


def test_nokia_literal_xmlns_without_string_table(wbxml):
    # <SyncML xmlns="SYNCML:SYNCML1.2"> as a LITERAL attribute with index 0
    # and no string table at all (rule "nokia-literal-xmlns")
    data = header() + b"\xed\x04\x00" + s("SYNCML:SYNCML1.2") + b"\x01" + bytes([SYNCBODY, 0x12, END, END])
    doc = wbxml.decode(data)
    assert doc.root == Element("SyncML", [Element("SyncBody", [Element("Final")])])
    xml = wbxml.wbxml_to_xml(data)
    assert xml.count(b"xmlns=") == 1
    assert parse_xml(xml) == doc


@pytest.mark.parametrize("body", [
    # SWITCH_PAGE right before END (Nokia 6600)
    bytes([SYNCBODY, TARGET, LOCURI]) + s("x") + bytes([SWITCH_PAGE, 1, END, END, SWITCH_PAGE, 0, END]),
    # two switches in a row, and a switch to the page already in use
    bytes([SWITCH_PAGE, 1, SWITCH_PAGE, 0, SWITCH_PAGE, 0, SYNCBODY, TARGET, LOCURI]) + s("x")
    + bytes([END, END, END]),
    # a switch between a string and END
    bytes([SYNCBODY, TARGET, LOCURI]) + s("x") + bytes([SWITCH_PAGE, 0]) + bytes([END, END, END]),
])
def test_switch_page_in_odd_places(wbxml, body):
    doc = wbxml.decode(syncml(body))
    assert doc.root.find("SyncBody").find("Target").find("LocURI").text == "x"


def test_switch_page_inside_attribute_list(wbxml):
    data = header() + b"\xed\x00\x00\x04\x00" + s("SYNCML:SYNCML1.2") + b"\x01" + bytes([0x2B, END])
    assert wbxml.decode(data).root == Element("SyncML", [Element("SyncBody")])


def test_strings_sent_as_opaque(wbxml):
    # rule "opaque-strings" (Nokia 9210): <LocURI> as OPAQUE becomes text
    body = bytes([SYNCBODY, TARGET, LOCURI, OPAQUE]) + mb(10) + b"./contacts" + bytes([END, END, END])
    doc = wbxml.decode(syncml(body))
    assert doc.root.find("SyncBody").find("Target").find("LocURI").children == ["./contacts"]


def test_opaque_in_item_data_stays_bytes(wbxml):
    vcard = b"BEGIN:VCARD\r\nVERSION:2.1\r\nN:Doe;John\r\nEND:VCARD\r\n"
    body = bytes([SYNCBODY, ITEM, DATA, OPAQUE]) + mb(len(vcard)) + vcard + bytes([END, END, END])
    doc = wbxml.decode(syncml(body))
    assert doc.root.find("SyncBody").find("Item").find("Data").children == [vcard]
    xml = wbxml.wbxml_to_xml(syncml(body))
    assert b"<![CDATA[" + vcard + b"]]>" in xml  # CRLF kept exactly
    assert wbxml.xml_to_wbxml(xml) == syncml(body)


def test_binary_opaque_shown_as_base64_and_kept(wbxml, ):
    blob = bytes(range(256))
    body = bytes([SYNCBODY, ITEM, DATA, OPAQUE]) + mb(len(blob)) + blob + bytes([END, END, END])
    data = syncml(body)
    xml = wbxml.wbxml_to_xml(data)
    assert b"<wbxml:opaque" in xml and b'xmlns:wbxml="urn:syncml-codec:wbxml"' in xml
    assert wbxml.xml_to_wbxml(xml) == data
    assert parse_xml(xml) == wbxml.decode(data)


def test_binary_nonce_quirk_file(wbxml, ):
    from ..conftest import corpus_path
    data = corpus_path("libwbxml", "quirks", "syncml12-nextnonce-binary-data.wbxml").read_bytes()
    doc = wbxml.decode(data)
    nonce = next(el for el in doc.root.iter() if el.tag == "NextNonce")
    assert nonce.children == [bytes(range(16))]
    # the file switches code pages back earlier than we do: same content
    assert wbxml.decode(wbxml.encode(doc, wbxml_version="1.2")) == doc


def test_sync4j_metinf_without_namespace(wbxml):
    # sync4j clients send MetInf elements without xmlns="syncml:metinf"
    plain = (b"<SyncML xmlns='SYNCML:SYNCML1.1'><SyncHdr><Meta><MaxMsgSize>5000</MaxMsgSize>"
             b"</Meta></SyncHdr></SyncML>")
    spaced = plain.replace(b"<MaxMsgSize>", b"<MaxMsgSize xmlns='syncml:metinf'>")
    assert wbxml.xml_to_wbxml(plain) == wbxml.xml_to_wbxml(spaced)
    assert parse_xml(plain) == parse_xml(spaced)
    assert b"\x00\x01\x4c" in wbxml.xml_to_wbxml(plain)  # SWITCH_PAGE 1, MaxMsgSize


def test_devinf_without_namespace_is_still_nested(wbxml):
    # libwbxml writes LITERAL tags here ("successful" but wrong); we nest it
    from ..conftest import corpus_path
    data = corpus_path("libwbxml", "quirks", "syncml12-put-devinf-no-ns.xml").read_bytes()
    encoded = wbxml.xml_to_wbxml(data)
    doc = wbxml.decode(encoded)
    nested = [c for el in doc.root.iter() if el.tag == "Data" for c in el.children]
    assert isinstance(nested[0], Document) and nested[0].language.key == "devinf12"
    assert nested[0].root.find("MaxSize").text == "5"
    assert b"\xc3" in encoded and b"\x04" not in encoded[:8]


def test_type_is_rewritten_with_the_nested_encoding(wbxml):
    from ..conftest import corpus_path
    data = corpus_path("libwbxml", "quirks", "syncml12-put-devinf-ns.xml").read_bytes()
    encoded = wbxml.xml_to_wbxml(data)
    assert b"application/vnd.syncml-devinf+wbxml" in encoded
    assert b"application/vnd.syncml-devinf+wbxml" not in wbxml.wbxml_to_xml(encoded)


def test_undeclared_latin1_in_utf8_document(wbxml):
    body = bytes([SYNCBODY, TARGET, LOCURI]) + b"\x03caf\xe9\x00" + bytes([END, END, END])
    data = syncml(body)
    assert wbxml.decode(data).root.find("SyncBody").find("Target").find("LocURI").text == "café"
    with pytest.raises(WBXMLDecodeError) as err:
        wbxml.decode(data, strict=True)
    assert err.value.offset == 18  # the STR_I token


def test_latin1_charset_quirk_file(wbxml):
    from ..conftest import corpus_path
    data = corpus_path("libwbxml", "quirks", "syncml12-latin1-charset.wbxml").read_bytes()
    doc = wbxml.decode(data, strict=True)
    assert "café" in wbxml.wbxml_to_xml(data).decode("utf-8")
    assert wbxml.encode(doc, charset=4) == data


def test_unknown_tokens_kept_in_lenient_mode(wbxml):
    body = bytes([SYNCBODY, 0x7F]) + s("x") + bytes([END, SWITCH_PAGE, 9, 0x05, END])
    data = syncml(body)
    xml = wbxml.wbxml_to_xml(data)
    assert b'<wbxml:tag xmlns:wbxml="urn:syncml-codec:wbxml" page="0" token="0x3F">x</wbxml:tag>' in xml
    assert b'page="9" token="0x05"' in xml
    assert wbxml.xml_to_wbxml(xml) == data
    assert wbxml.encode(wbxml.decode(data)) == data
    with pytest.raises(UnknownTokenError) as err:
        wbxml.wbxml_to_xml(data, strict=True)
    assert err.value.offset == 16  # the 0x7F tag


def test_reserved_token_0x30_is_unknown(wbxml):
    data = syncml(bytes([SYNCBODY, 0x30, END]))
    assert b'token="0x30"' in wbxml.wbxml_to_xml(data)
    with pytest.raises(UnknownTokenError):
        wbxml.decode(data, strict=True)


@pytest.mark.parametrize("token, extra, expected", [
    (0x40, s("hi")[1:], b'<wbxml:ext xmlns:wbxml="urn:syncml-codec:wbxml" kind="i" n="0">hi</wbxml:ext>'),
    (0x81, mb(300), b'<wbxml:ext xmlns:wbxml="urn:syncml-codec:wbxml" kind="t" n="1" index="300"/>'),
    (0xC2, b"", b'<wbxml:ext xmlns:wbxml="urn:syncml-codec:wbxml" kind="b" n="2"/>'),
])
def test_extension_tokens(wbxml, token, extra, expected):
    data = syncml(bytes([SYNCBODY, token]) + extra + bytes([END]))
    xml = wbxml.wbxml_to_xml(data)
    assert expected in xml
    assert wbxml.xml_to_wbxml(xml) == data
    with pytest.raises(UnknownTokenError):
        wbxml.decode(data, strict=True)


def test_processing_instruction_in_content(wbxml):
    table = b"target\x00"
    data = (header(table=table) + bytes([0x6D, 0x43, 0x04, 0x00]) + s("some data") + bytes([END, END]))
    xml = wbxml.wbxml_to_xml(data)
    assert b'<wbxml:pi xmlns:wbxml="urn:syncml-codec:wbxml" target="target">some data</wbxml:pi>' in xml
    assert wbxml.decode(wbxml.xml_to_wbxml(xml, string_table=True)) == wbxml.decode(data)


def test_literal_tags_need_and_use_a_string_table(wbxml):
    table = b"X-Custom\x00"
    data = header(table=table) + bytes([0x6D, 0x44, 0x00]) + s("v") + bytes([END, END])
    doc = wbxml.decode(data)
    assert doc.root.children == [Element("X-Custom", ["v"])]
    xml = wbxml.wbxml_to_xml(data)
    assert b"<X-Custom>v</X-Custom>" in xml
    assert wbxml.xml_to_wbxml(xml, string_table=True) == data
    assert wbxml.encode(doc, string_table=True) == data


def test_textual_public_id(wbxml):
    table = b"-//SYNCML//DTD SyncML 1.1//EN\x00"
    data = bytes([3, 0, 0, 106]) + mb(len(table)) + table + bytes([0x6D, 0x2B, END])
    doc = wbxml.decode(data)
    assert doc.language.key == "syncml11" and doc.public_id_text
    assert wbxml.encode(doc, public_id="text") == data


def test_unknown_public_id_guessed_from_root(wbxml):
    data = bytes([3, 1, 106, 0, 0x6D, 0x6B, END, END])
    assert wbxml.decode(data).language.key == "syncml12"
    devinf = bytes([3, 1, 106, 0, 0x4A, 0x51]) + s("Acme") + bytes([END, END])
    assert wbxml.decode(devinf).language.family == "devinf"
    with pytest.raises(UnknownTokenError):
        wbxml.decode(bytes([3, 0x7F, 106, 0, 0x50, END]), strict=True)


def test_metinf_in_item_meta_page_switch_back(wbxml):
    data = syncml(bytes([SYNCBODY, ITEM, META, SWITCH_PAGE, 1, 0x53]) + s("text/x-vcard")
                  + bytes([END, END, SWITCH_PAGE, 0, DATA]) + s("x") + bytes([END, END, END]))
    xml = wbxml.wbxml_to_xml(data)
    assert b'<Meta><Type xmlns="syncml:metinf">text/x-vcard</Type></Meta><Data>x</Data>' in xml
