"""Hostile input: every case a clean error, quickly, in bounded memory."""

from __future__ import annotations

import tracemalloc

import pytest

from syncml_codec import WBXMLDecodeError, XMLDecodeError, parse_xml

from .wbxmlbuild import DATA, END, ITEM, OPAQUE, SYNCBODY, header, mb, syncml


def _peak_kib(fn, *args, **kw):
    tracemalloc.start()
    try:
        with pytest.raises((WBXMLDecodeError, XMLDecodeError)) as err:
            fn(*args, **kw)
        return err.value, tracemalloc.get_traced_memory()[1] / 1024
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("entry", ["decode", "wbxml_to_xml"])
class TestWBXML:
    def run(self, wbxml, entry, data, **kw):
        return getattr(wbxml, entry)(data, **kw)

    def test_mb_uint32_longer_than_5_bytes(self, wbxml, entry):
        with pytest.raises(WBXMLDecodeError, match="longer than 5 bytes") as err:
            self.run(wbxml, entry, b"\x03\xff\xff\xff\xff\xff\x01\x6a\x00\x6d\x01")
        assert err.value.offset == 1

    def test_mb_uint32_over_32_bits(self, wbxml, entry):
        with pytest.raises(WBXMLDecodeError, match="32 bits") as err:
            self.run(wbxml, entry, b"\x03\x9f\xff\xff\xff\x7f\x6a\x00\x6d\x01")
        assert err.value.offset == 1

    def test_string_table_reference_out_of_range(self, wbxml, entry):
        data = header(table=b"ab\x00") + bytes([0x6D, 0x83]) + mb(70000) + bytes([END])
        with pytest.raises(WBXMLDecodeError, match="out of range") as err:
            self.run(wbxml, entry, data)
        assert err.value.offset == 9

    def test_textual_public_id_out_of_range(self, wbxml, entry):
        with pytest.raises(WBXMLDecodeError, match="out of range"):
            self.run(wbxml, entry, b"\x03\x00\x05\x6a\x00\x6d\x01")

    def test_unterminated_table_entry_ends_with_the_table(self, wbxml, entry):
        # the table length delimits its last entry (issue 10: Sony Ericsson's
        # public ID); a reference past the table is still an error
        data = header(table=b"abc") + bytes([0x6D, 0x83, 0x00, END])
        for strict in (False, True):
            self.run(wbxml, entry, data, strict=strict)
        with pytest.raises(WBXMLDecodeError, match="out of range") as err:
            self.run(wbxml, entry, header(table=b"abc") + bytes([0x6D, 0x83, 0x03, END]))
        assert err.value.offset == 9

    def test_nesting_100000_deep(self, wbxml, entry):
        data = header() + bytes([0x6D]) * 100_000 + bytes([END]) * 100_000
        err, _ = _peak_kib(self.run, wbxml, entry, data)
        assert "deeper than 256" in str(err) and err.offset == 5 + 256

    def test_depth_limit_is_a_parameter(self, wbxml, entry):
        data = header() + bytes([0x6D]) * 10 + bytes([END]) * 10
        self.run(wbxml, entry, data, max_depth=10)
        with pytest.raises(WBXMLDecodeError, match="deeper than 9"):
            self.run(wbxml, entry, data, max_depth=9)

    def test_opaque_declaring_1_gb(self, wbxml, entry):
        data = syncml(bytes([SYNCBODY, ITEM, DATA, OPAQUE]) + mb(1 << 30) + b"abc")
        err, peak = _peak_kib(self.run, wbxml, entry, data)
        assert "opaque length 1073741824 exceeds" in str(err)
        assert peak < 1024

    def test_string_table_declaring_1_gb(self, wbxml, entry):
        data = b"\x03\xa4\x01\x6a" + mb(1 << 30) + b"abc"
        err, peak = _peak_kib(self.run, wbxml, entry, data)
        assert "string table length" in str(err) and err.offset == 4
        assert peak < 1024

    def test_unterminated_inline_string_at_end(self, wbxml, entry):
        with pytest.raises(WBXMLDecodeError, match="no terminator"):
            self.run(wbxml, entry, header() + b"\x6d\x03abc")

    @pytest.mark.parametrize("data, offset", [
        (b"", 0), (b"\x03", 1), (b"\x03\xa4", 2), (b"\x03\xa4\x01", 3), (b"\x03\xa4\x01\x6a", 4),
        (b"\x03\xa4\x01\x6a\x00", 5), (b"\x03\xa4\x01\x6a\x00\x6d", 6),
    ])
    def test_truncated_header_and_body(self, wbxml, entry, data, offset):
        with pytest.raises(WBXMLDecodeError) as err:
            self.run(wbxml, entry, data)
        assert err.value.offset == offset

    def test_data_after_the_root(self, wbxml, entry):
        with pytest.raises(WBXMLDecodeError, match="after the root") as err:
            self.run(wbxml, entry, header() + b"\x2d\x2d")
        assert err.value.offset == 6

    def test_entity_that_is_not_a_character(self, wbxml, entry):
        data = header() + b"\x6d\x02" + mb(0xD800) + b"\x01"
        with pytest.raises(WBXMLDecodeError, match="not a character"):
            self.run(wbxml, entry, data)

    def test_unsupported_charset(self, wbxml, entry):
        with pytest.raises(WBXMLDecodeError, match="charset") as err:
            self.run(wbxml, entry, b"\x03\xa4\x01\x97\x38\x00\x6d\x01")  # MIBenum 3000
        assert err.value.offset == 3

    def test_accepts_any_buffer(self, wbxml, entry):
        data = header() + b"\x6d\x6b\x12\x01\x01"
        expected = self.run(wbxml, entry, data)
        assert self.run(wbxml, entry, bytearray(data)) == expected
        assert self.run(wbxml, entry, memoryview(data)) == expected
        with pytest.raises(TypeError):
            self.run(wbxml, entry, "text")


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<SyncML><SyncHdr><VerDTD>&lol3;</VerDTD></SyncHdr></SyncML>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE SyncML [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<SyncML><SyncHdr><VerDTD>&xxe;</VerDTD></SyncHdr></SyncML>"""


@pytest.mark.parametrize("doc", [BOMB, EXTERNAL], ids=["billion-laughs", "external-entity"])
def test_xml_entity_declarations_refused(wbxml, doc):
    with pytest.raises(XMLDecodeError, match="internal subset") as err:
        wbxml.xml_to_wbxml(doc)
    assert err.value.line == 2
    with pytest.raises(XMLDecodeError, match="internal subset"):
        parse_xml(doc)


def test_xml_undefined_entity(wbxml):
    doc = b"<SyncML><SyncHdr>\n<VerDTD>&lol3;</VerDTD></SyncHdr></SyncML>"
    with pytest.raises(XMLDecodeError, match="undefined entity") as err:
        wbxml.xml_to_wbxml(doc)
    assert err.value.line == 2
    with pytest.raises(XMLDecodeError) as err:
        parse_xml(doc)
    assert err.value.line == 2


def test_xml_nesting_100000_deep(wbxml):
    doc = b"<SyncML>" + b"<Sync>" * 100_000 + b"</Sync>" * 100_000 + b"</SyncML>"
    with pytest.raises(XMLDecodeError, match="deeper"):
        wbxml.xml_to_wbxml(doc)
    with pytest.raises(XMLDecodeError):
        parse_xml(doc)


def test_xml_size_limit(wbxml):
    doc = b"<SyncML><SyncHdr><VerDTD>1.2</VerDTD></SyncHdr></SyncML>"
    with pytest.raises(XMLDecodeError, match="larger than the limit"):
        wbxml.xml_to_wbxml(doc, max_size=20)
    with pytest.raises(XMLDecodeError, match="larger than the limit"):
        parse_xml(doc, max_size=20)


@pytest.mark.parametrize("doc, line", [
    (b"<SyncML><SyncHdr>\n</SyncML>", 2),
    (b"<SyncML>\n<SyncHdr>\n<VerDTD>1.2</VerDTD>", 3),
    (b"\n\n<SyncML><a b='1' b='2'/></SyncML>", 3),
    (b"<SyncML></SyncML>\n<SyncML/>", 2),
    (b"<SyncML><x:Y/></SyncML>", 1),
    (b"<NotSyncML/>", 1),
    (b"<SyncML>\n\n<SyncHdr>&bad</SyncHdr></SyncML>", 3),
    (b"\xff\xfeX", 1),
    (b"<SyncML><SyncHdr>\xff</SyncHdr></SyncML>", 1),
])
def test_malformed_xml_names_the_line(wbxml, doc, line):
    with pytest.raises(XMLDecodeError) as err:
        wbxml.xml_to_wbxml(doc)
    assert err.value.line == line


@pytest.mark.parametrize("entry", ["decode", "wbxml_to_xml"])
def test_string_table_amplification_is_bounded(wbxml, entry):
    # one 60 KB table string referenced 20,000 times: 1.2 GB of output from a
    # 100 KB message, unless the decoder bounds what the table may give out
    table = b"x" * 60_000 + b"\x00"
    refs = bytes([0x57, 0x83, 0x00, END]) * 20_000
    data = header(table=table) + bytes([0x6D]) + refs + bytes([END])
    err, peak = _peak_kib(getattr(wbxml, entry), data)
    assert "expand beyond" in str(err)
    assert peak < 64 * 1024


def test_string_table_use_within_the_bound(wbxml):
    table = b"http://example.com/sync\x00"
    data = header(table=table) + bytes([0x6D]) + bytes([0x57, 0x83, 0x00, END]) * 300 + bytes([END])
    assert wbxml.wbxml_to_xml(data).count(b"http://example.com/sync") == 300
