"""Issue 10: white space alone in an element that must be empty.

A pretty-printed ``<Final>\\n</Final>`` (``<MoreData> </MoreData>``,
``<NoResp>``, ``<NoResults>``, ``<SftDel>``, ``<Archive>``, ``<SharedMem>``,
``<FieldLevel>`` ...) reads as the empty element, strict and lenient alike:
the white space is layout, not content.  Anything else in it (text, an
element, U+00A0, which is not XML white space) is still "must be empty".
The message written back has the canonical ``<Final/>``.
"""

from __future__ import annotations

import re

import pytest

from syncml_codec import StructureError
from syncml_codec.codec import _wbxml_py
from syncml_codec.model import Delete, Message, Search

from ..codec.wbxmlbuild import END, SYNCBODY, header, mb, s
from ..conftest import NO_EXTENSIONS, cython_impl

FLAGS = ("Final", "NoResp", "NoResults", "MoreData", "SftDel", "Archive", "SharedMem", "FieldLevel")

COMPACT = b"""<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>SyncML/1.2</VerProto>
<SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>http://s</LocURI></Target>
<Source><LocURI>IMEI:1</LocURI></Source><NoResp/></SyncHdr><SyncBody>
<Delete><CmdID>1</CmdID><NoResp/><Archive/><SftDel/><Meta><Mem xmlns="syncml:metinf"><SharedMem/></Mem></Meta>
<Item><Source><LocURI>1</LocURI></Source><Meta><FieldLevel xmlns="syncml:metinf"/></Meta><MoreData/></Item></Delete>
<Search><CmdID>2</CmdID><NoResp/><NoResults/><Meta><Type xmlns="syncml:metinf">text/x-s4j-sifc</Type></Meta>
<Data>x</Data></Search><Final/></SyncBody></SyncML>"""

_EMPTY = re.compile(rb"<(\w+)((?: xmlns=\"[^\"]*\")?)/>")


def spaced(ws: bytes) -> bytes:
    """COMPACT with ``ws`` in every empty element."""
    return _EMPTY.sub(lambda m: b"<%s%s>%s</%s>" % (m[1], m[2], ws, m[1]), COMPACT)


def test_every_flag_is_in_the_sample():
    msg = Message.from_bytes(COMPACT)
    assert msg.final and msg.header.no_resp
    delete, search = msg.commands
    assert isinstance(delete, Delete) and delete.no_resp and delete.archive and delete.sft_del
    assert delete.meta.mem.shared_mem and delete.items[0].more_data and delete.items[0].meta.field_level
    assert isinstance(search, Search) and search.no_results
    assert sorted({m[1].decode() for m in _EMPTY.finditer(COMPACT)}) == sorted(FLAGS)


@pytest.mark.parametrize("ws", [b"\n", b" ", b"\r\n\t  ", b"\n    \n"])
@pytest.mark.parametrize("lenient", [False, True])
def test_white_space_in_empty_elements(ws, lenient):
    data = spaced(ws)
    assert data.count(ws) >= len(FLAGS)
    msg = Message.from_bytes(data, lenient=lenient)
    assert msg == Message.from_bytes(COMPACT, lenient=lenient)
    assert b"<Final/>" in msg.to_bytes("xml")
    assert Message.from_bytes(msg.to_bytes("wbxml")) == msg


@pytest.mark.parametrize("content, reason", [
    (b"x", "must be empty"), (b" x ", "must be empty"), ("\u00a0".encode(), "must be empty"),
    (b"<CmdID>1</CmdID>", "must be empty"),
])
def test_other_content_is_still_refused(content, reason):
    data = COMPACT.replace(b"<Final/>", b"<Final>" + content + b"</Final>")
    with pytest.raises(StructureError, match=reason) as err:
        Message.from_bytes(data)
    assert err.value.path == "SyncML/SyncBody/Final"


def _wbxml_final(text: bytes) -> bytes:
    """<SyncML><SyncHdr>...</SyncHdr><SyncBody><Final>{text}</Final></SyncBody></SyncML>"""
    hdr = (bytes([0x6C, 0x71]) + s("1.2") + bytes([END, 0x72]) + s("SyncML/1.2") + bytes([END, 0x65]) + s("1")
           + bytes([END, 0x5B]) + s("1") + bytes([END, 0x6E, 0x57]) + s("http://s") + bytes([END, END, 0x67, 0x57])
           + s("IMEI:1") + bytes([END, END, END]))
    return header() + bytes([0x6D]) + hdr + bytes([SYNCBODY, 0x52]) + text + bytes([END, END, END])


@pytest.mark.parametrize("text, ok", [
    (s(" \n"), True), (s(" ") + s("\t"), True), (b"\xc3" + mb(2) + b"\r\n", True), (s("x"), False),
])
def test_wbxml_white_space_in_final(text, ok):
    """The same on the WBXML path: the reference reader and the extension's
    fused Message decoder agree."""
    from .test_fast_model import api_decode, outcome, reference_decode

    data = _wbxml_final(text)
    for lenient in (False, True):
        ref = outcome(reference_decode, data, lenient)
        assert (ref[0] == "ok") is ok, ref
        if ok:
            assert reference_decode(data, lenient).final
        if not NO_EXTENSIONS:
            cython_impl()
            assert outcome(api_decode, data, lenient) == ref
    assert _wbxml_py.decode(data)  # the codec itself never minded
