"""The rare paths (``wbxml:`` forms, attributes, literals) and every error
text are written once (``codec/_rare.py``, ``codec/_messages.py``) and used
by both implementations: each case gives the same bytes, or the same error
with the same message, in the extension and in the pure-Python twin."""

from __future__ import annotations

import re

import pytest

from syncml_codec import EncodeError, WBXMLDecodeError, XMLDecodeError
from syncml_codec.codec import _messages as M
from syncml_codec.codec import _wbxml_py
from syncml_codec.codec.codepages import SYNCML12
from syncml_codec.codec.tree import Document, Element

from ..conftest import SRC, cython_impl
from .wbxmlbuild import END, header, mb, s

W = 'xmlns:wbxml="urn:syncml-codec:wbxml"'
CODEC = SRC / "codec"  # the checkout: an installed package has no Cython sources


def doc(*children: Element | str) -> Document:
    return Document(SYNCML12, Element("SyncML", [Element("SyncBody", list(children))]))


def outcome(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except WBXMLDecodeError as exc:
        return type(exc).__name__, exc.reason, exc.offset
    except XMLDecodeError as exc:
        return type(exc).__name__, exc.reason, exc.line, exc.column
    except (EncodeError, ValueError) as exc:
        return type(exc).__name__, str(exc)


def both(name, *args, **kwargs):
    """The outcome of ``name`` in the twin, checked equal in the extension."""
    py = outcome(getattr(_wbxml_py, name), *args, **kwargs)
    cy = outcome(getattr(cython_impl(), name), *args, **kwargs)
    assert cy == py
    return py


@pytest.mark.parametrize("element, message", [
    (Element("wbxml:tag", ["x"], {"page": "0"}), M.WBXML_TAG_ATTRS),
    (Element("wbxml:tag", ["x"], {"page": "0", "token": "zz"}), M.WBXML_TAG_ATTRS),
    (Element("wbxml:tag", ["x"], {"page": "0", "token": "0x04"}), M.wbxml_tag_range(0, 4)),
    (Element("wbxml:tag", ["x"], {"page": "256", "token": "0x3F"}), M.wbxml_tag_range(256, 0x3F)),
    (Element("wbxml:nope", ["x"]), M.unknown_wbxml_element("wbxml:nope")),
    (Element("wbxml:opaque", ["not base64!"]), M.OPAQUE_NOT_BASE64),
    (Element("wbxml:ext", [], {"kind": "i"}), M.EXT_ATTRS),
    (Element("wbxml:ext", [], {"kind": "x", "n": "0"}), M.EXT_KIND),
    (Element("wbxml:ext", [], {"kind": "t", "n": "3"}), M.EXT_KIND),
    (Element("wbxml:ext", [], {"kind": "t", "n": "1"}), M.EXT_INDEX),
    (Element("wbxml:pi", ["data"]), M.PI_TARGET),
    (Element("wbxml:ext", [Element("Final")], {"kind": "b", "n": "0"}),
     M.not_inside("Final", "wbxml:ext")),
    (Element("wbxml:pi", [b"\x00"], {"target": "t"}), M.no_opaque_in("wbxml:pi")),
    (Element("Final", [], {"wbxml:attr-0-zz": "v"}), M.attr_token_form("wbxml:attr-0-zz")),
    (Element("Final", [], {"colour": "v"}), M.attr_without_token("colour")),
    (Element("Final", ["a\0b"]), M.NUL_IN_STRING),
])
def test_malformed_wbxml_forms_fail_alike(element, message):
    assert both("encode", doc(element)) == ("EncodeError", message)


@pytest.mark.parametrize("element", [
    Element("wbxml:tag", ["x"], {"page": "1", "token": "0x3F"}),
    Element("wbxml:tag", ["x"], {"page": "0", "token": "0x3F", "wbxml:attr-2-07": "v"}),
    Element("wbxml:opaque", ["AAEC"]),
    Element("wbxml:ext", ["hi"], {"kind": "i", "n": "2"}),
    Element("wbxml:ext", [], {"kind": "t", "n": "1", "index": "300"}),
    Element("wbxml:ext", [], {"kind": "b", "n": "0"}),
    Element("wbxml:pi", ["data"], {"target": "t"}),
    Element("Final", [], {"wbxml:attr-0-05": "", "wbxml:attr-1-06": "v", "xmlns": "ignored"}),
    Element("Final", [], {"colour": "blue"}),
])
@pytest.mark.parametrize("charset", ["utf-8", "iso-8859-1", "utf-16"])
def test_wbxml_forms_encode_alike_and_read_back(element, charset):
    data = both("encode", doc(element), string_table=True, charset=charset)
    assert isinstance(data, bytes)
    assert both("decode", data) == both("decode", both("xml_to_wbxml", both("wbxml_to_xml", data),
                                                      string_table=True, charset=charset))


def test_ext_string_outside_the_charset_fails_alike():
    element = Element("wbxml:ext", ["\u20ac"], {"kind": "i", "n": "0"})
    assert both("encode", doc(element), charset="us-ascii") == (
        "EncodeError", M.not_in_charset("\u20ac", "ascii"))


@pytest.mark.parametrize("body, message", [
    (bytes([0x43, 0x01]), M.PI_TARGETS),                       # PI with no target
    (bytes([0x43, 0x05, 0x06, 0x01]), M.PI_TARGETS),           # two targets
    (bytes([0x43, 0x03]) + s("v")[1:] + bytes([0x01]), M.value_before_name(0x03)),
    (bytes([0x43, 0x05, 0x85, 0x01]), M.attr_value_token(0x85)),
    (bytes([0x43, 0x05, 0x41, 0x01]), M.not_in_attr_list(0x41)),
    (bytes([0x43, 0x05, 0x02, 0x00, 0x01]), M.entity_not_char(0)),
])
def test_malformed_attribute_lists_fail_alike(body, message):
    data = header() + bytes([0x6D]) + body + bytes([END, END])
    name, text, _offset = both("wbxml_to_xml", data)
    assert (name, text) == ("UnknownTokenError" if "SyncML defines" in message else "WBXMLDecodeError", message)


def test_literal_names_are_checked_alike():
    data = header(table=b"1bad\x00") + bytes([0x6D, 0x44, 0x00]) + s("v") + bytes([END, END])
    assert both("wbxml_to_xml", data)[:2] == ("WBXMLDecodeError", M.literal_tag_name("1bad"))
    data = header(table=b"a b\x00") + bytes([0xED, 0x04, 0x00, 0x01]) + s("v") + bytes([END, END])
    assert both("wbxml_to_xml", data)[:2] == ("WBXMLDecodeError", M.literal_attr_name("a b"))


# error texts are written once: no literal message in either implementation
_LITERAL_MESSAGE = re.compile(r'(?:Error|_err|xml_err|_xml_error)\((?:[^()"]*,\s*)?f?"[^"]{6,}')


@pytest.mark.parametrize("path", sorted(
    [*CODEC.glob("_pywbxml/*.py"), *CODEC.glob("_wbxml_*.pxi"), CODEC / "_wbxml.pyx", CODEC / "tree.py"]),
    ids=lambda p: p.name)
def test_no_error_text_outside_the_messages_module(path):
    if path.name in ("_wbxml_model.pxi", "_wbxml_versit.pxi"):
        pytest.skip("not part of the WBXML twins")
    found = [f for f in _LITERAL_MESSAGE.findall(path.read_text()) if not f.endswith(_NO_TWIN)]
    assert found == []


# texts with no counterpart to share: the C tables' import-time checks, and
# the extension's copy of what ``list.pop`` raises in the twin
_NO_TWIN = ('"too many languages for the C tables', '"TYPE_TO_* keys break the ASCII lower-case rule',
            '"pop from empty list')


# -- charsets other than UTF-8 (the extension hands them to codec/_rare.py) -----

def test_characters_the_charset_lacks_go_as_entities_alike():
    data = both("encode", doc(Element("LocURI", ["a\u20acb"])), charset="iso-8859-1")
    assert bytes([0x03]) + b"a\0" + bytes([0x02]) + mb(0x20AC) + bytes([0x03]) + b"b\0" in data
    assert both("decode", data).root.find("SyncBody").find("LocURI").text == "a\u20acb"


@pytest.mark.parametrize("strict", [False, True])
def test_text_invalid_in_the_charset_reads_alike(strict):
    # UTF-16 document (MIBenum 1015) with an odd-length inline string
    data = header(charset=1015) + bytes([0x6D, 0x6B, 0x03]) + b"\xd8\x00\x00\x00" + bytes([END, END])
    result = both("decode", data, strict=strict)
    if strict:
        assert result[:2] == ("WBXMLDecodeError", M.not_valid_text("utf-16-be"))


def test_opaque_strings_in_a_latin1_document_read_alike():
    # MIBenum 4 (ISO-8859-1): an OPAQUE <LocURI> holding text reads as text,
    # one holding a control character stays opaque
    for raw, expected in ((b"caf\xe9", ["caf\u00e9"]), (b"a\x01", [b"a\x01"])):
        data = header(charset=4) + bytes([0x6D, 0x6B, 0x57, 0xC3, len(raw)]) + raw + bytes([END, END, END])
        assert both("decode", data).root.children[0].children[0].children == expected


def test_unknown_charset_fails_alike():
    data = header(charset=9999) + bytes([0x6D, END])
    assert both("decode", data)[:2] == ("WBXMLDecodeError", M.unsupported_charset(9999))


# -- XML input: prefixed names and attributes ----------------------------------

PROLOG = b'<?xml version="1.0"?><SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD></SyncHdr><SyncBody>'


@pytest.mark.parametrize("element", [
    b'<Final xmlns:w="urn:syncml-codec:wbxml" w:attr-0-05="v" xmlns:x="urn:other" x:colour="c"/>',
    b'<w:ext xmlns:w="urn:syncml-codec:wbxml" kind="b" n="1"/>',
    b'<Final xmlns:w="urn:a" xmlns:v="urn:b"><Data xmlns:w="urn:syncml-codec:wbxml" w:attr-1-06=""/></Final>',
])
def test_prefixed_xml_attributes_encode_alike(element):
    xml = PROLOG + element + b"</SyncBody></SyncML>"
    assert isinstance(both("xml_to_wbxml", xml, string_table=True), bytes)


@pytest.mark.parametrize("element, prefix", [
    (b'<Final q:colour="c"/>', "q"),
    (b'<Final xmlns:w="urn:a"><Data w:x="1"/></Final><Final w:y="2"/>', "w"),
])
def test_undeclared_attribute_prefix_fails_alike(element, prefix):
    xml = PROLOG + element + b"</SyncBody></SyncML>"
    assert both("xml_to_wbxml", xml, string_table=True)[:2] == ("XMLDecodeError", M.prefix_not_declared(prefix))
