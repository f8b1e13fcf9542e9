"""Encoder options: WBXML version, string table, public ID form, charsets."""

from __future__ import annotations

import pytest

from syncml_codec import XMLDecodeError
from syncml_codec.codec.codepages import language_by_key
from syncml_codec.codec.tree import Document, Element

from .wbxmlbuild import mb

XML = ("<SyncML xmlns='SYNCML:SYNCML1.2'><SyncHdr><VerDTD>1.2</VerDTD><VerProto>SyncML/1.2</VerProto>"
       "<SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>http://example.com/sync</LocURI></Target>"
       "<Source><LocURI>IMEI:4930051</LocURI><LocName>Zoë Ærø</LocName></Source></SyncHdr>"
       "<SyncBody><Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd>"
       "<TargetRef>http://example.com/sync</TargetRef><SourceRef>IMEI:4930051</SourceRef>"
       "<Data>212</Data></Status><Final/></SyncBody></SyncML>").encode()


def test_wbxml_1_0_has_no_charset_byte(wbxml):
    data = wbxml.xml_to_wbxml(XML, wbxml_version="1.0")
    assert data[:4] == b"\x00\xa4\x01\x00"  # version, public ID, string table length
    doc = wbxml.decode(data)
    assert doc.wbxml_version == 0
    assert wbxml.encode(doc, wbxml_version="1.0") == data


@pytest.mark.parametrize("version", ["1.1", "1.2", "1.3"])
def test_wbxml_versions(wbxml, version):
    data = wbxml.xml_to_wbxml(XML, wbxml_version=version)
    assert data[0] == int(version[-1])
    assert wbxml.wbxml_to_xml(data) == wbxml.wbxml_to_xml(wbxml.xml_to_wbxml(XML))


def test_string_table_shares_repeated_strings(wbxml):
    plain = wbxml.xml_to_wbxml(XML)
    shared = wbxml.xml_to_wbxml(XML, string_table=True)
    assert len(shared) < len(plain)
    assert b"\x83" in shared  # STR_T
    # in order of first use; only strings used twice or more
    assert shared[5:5 + 24] == b"http://example.com/sync\x00"
    assert b"SyncML/1.2\x00" not in shared[:60]
    assert wbxml.decode(shared) == wbxml.decode(plain)


def test_textual_public_id(wbxml):
    data = wbxml.xml_to_wbxml(XML, public_id="text")
    assert data[:3] == b"\x03\x00\x00"
    assert b"-//SYNCML//DTD SyncML 1.2//EN\x00" in data
    assert wbxml.decode(data).public_id_text


@pytest.mark.parametrize("charset, mib", [
    ("iso-8859-1", 4), ("utf-16", 1015), ("shift_jis", 17), (2252, 2252), ("us-ascii", 3)])
def test_charsets_round_trip(wbxml, charset, mib):
    data = wbxml.xml_to_wbxml(XML, charset=charset)
    assert data[3] == mib if mib < 128 else data[3:5] == bytes([0x80 | (mib >> 7), mib & 0x7F])
    doc = wbxml.decode(data, strict=True)
    assert doc.charset == mib
    assert doc == wbxml.decode(wbxml.xml_to_wbxml(XML))
    assert wbxml.encode(doc, charset=charset) == data


def test_characters_outside_the_charset_become_entities(wbxml):
    data = wbxml.xml_to_wbxml(XML.replace(b"Zo\xc3\xab", "Zo€".encode()), charset="iso-8859-1")
    assert b"\x02" + mb(0x20AC) in data  # ENTITY
    loc_name = wbxml.decode(data).root.find("SyncHdr").find("Source").find("LocName")
    assert loc_name.text == "Zo€ Ærø"


def test_utf16_strings_are_terminated_by_two_bytes(wbxml):
    data = wbxml.xml_to_wbxml(XML, charset="utf-16")
    assert "1.2".encode("utf-16-be") + b"\x00\x00" in data


def test_bad_options(wbxml):
    with pytest.raises(ValueError, match="wbxml_version"):
        wbxml.xml_to_wbxml(XML, wbxml_version="2.0")
    with pytest.raises(ValueError, match="public_id"):
        wbxml.xml_to_wbxml(XML, public_id="both")
    with pytest.raises(ValueError, match="charset"):
        wbxml.xml_to_wbxml(XML, charset="klingon")


def test_unknown_element_needs_string_table(wbxml):
    doc = XML.replace(b"<Final/>", b"<LocUri>x</LocUri>")
    with pytest.raises(XMLDecodeError, match=r"did you mean 'LocURI'\?.*string_table=True") as err:
        wbxml.xml_to_wbxml(doc)
    assert err.value.line == 1
    data = wbxml.xml_to_wbxml(doc, string_table=True)
    assert b"LocUri\x00" in data
    assert wbxml.decode(data).root.find("SyncBody").find("LocUri").text == "x"


def test_encode_a_tree_built_by_hand(wbxml):
    lang = language_by_key("syncml11")
    devinf = Document(language_by_key("devinf11"), Element("DevInf", [Element("VerDTD", ["1.1"]),
                                                                       Element("Man", ["Acme"])]))
    doc = Document(lang, Element("SyncML", [
        Element("SyncBody", [Element("Put", [
            Element("Meta", [Element("Type", ["application/vnd.syncml-devinf+xml"])]),
            Element("Item", [Element("Data", [devinf])])])])]))
    data = wbxml.encode(doc)
    assert data[:2] == b"\x03\x9f"
    assert b"\xc3" in data and b"\x9f\x54" in data  # nested DevInf 1.1 document
    assert b"devinf+wbxml" in data
    assert wbxml.decode(data) == doc
    with pytest.raises(TypeError):
        wbxml.encode(doc.root)


def test_every_listed_charset_has_a_python_codec():
    import codecs

    from syncml_codec.codec.codepages import CHARSETS
    for mib, name in CHARSETS.items():
        assert codecs.lookup(name), mib
