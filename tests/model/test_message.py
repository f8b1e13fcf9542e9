"""The message model on the whole corpus: every message parses, gives back
the decoded tree, and round-trips through both encodings."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncml_codec import StructureError, decode_wbxml, looks_like_wbxml, parse_xml
from syncml_codec.model import Add, Alert, AlertCode, Item, Message, Status, StatusCode, Sync

from ..codec.corpus import WBXML_FILES, XML_FILES, rel

# libwbxml's samples 013 and 014 are fragments (no SyncHdr, Sync without CmdID)
FRAGMENTS = ("syncml-013", "syncml-014")


def _doc(data: bytes):
    return decode_wbxml(data) if looks_like_wbxml(data) else parse_xml(data)


MESSAGES = [p for p in WBXML_FILES + XML_FILES if _doc(p.read_bytes()).language.family == "syncml"]


def test_corpus_has_the_messages():
    if not MESSAGES:
        pytest.skip("corpus not found")
    assert len(MESSAGES) >= 580


@pytest.mark.parametrize("path", MESSAGES, ids=rel)
def test_message_round_trips(path: Path):
    data = path.read_bytes()
    lenient = any(f in path.name for f in FRAGMENTS)
    msg = Message.from_bytes(data, lenient=lenient)
    assert msg.to_element() == _doc(data).root
    assert Message.from_bytes(msg.to_bytes(), lenient=lenient) == msg
    assert Message.from_bytes(msg.to_bytes("xml"), lenient=lenient) == msg
    assert Message.from_bytes(msg.to_bytes("xml", pretty=True), lenient=lenient) == msg
    assert Message.from_bytes(msg.to_bytes(string_table=True), lenient=lenient) == msg


@pytest.mark.parametrize("name", FRAGMENTS)
def test_fragments_fail_strictly_and_read_leniently(name):
    from ..conftest import corpus_path
    data = corpus_path("libwbxml", "syncml", f"{name}.xml").read_bytes()
    with pytest.raises(StructureError) as err:
        Message.from_bytes(data)
    assert err.value.path == "SyncML/SyncBody/Sync[1]" and "CmdID missing" in str(err.value)
    msg = Message.from_bytes(data, lenient=True)
    assert msg.header is None
    add = msg.commands[0].commands[0]
    assert isinstance(add, Add) and add.items[0].data.startswith(b"BEGIN:VCARD")


def _sync_xml(inner: bytes) -> bytes:
    return (b"<SyncML><SyncHdr><VerDTD>1.2</VerDTD><VerProto>SyncML/1.2</VerProto><SessionID>1</SessionID>"
            b"<MsgID>1</MsgID><Target><LocURI>s</LocURI></Target><Source><LocURI>c</LocURI></Source></SyncHdr>"
            b"<SyncBody><Sync><CmdID>1</CmdID></Sync><Sync><CmdID>2</CmdID>" + inner + b"</Sync></SyncBody></SyncML>")


@pytest.mark.parametrize("inner, path, reason", [
    (b"<Add><CmdID>3</CmdID><Item><Source><LocURI>1</LocURI></Source></Item></Add>",
     "SyncML/SyncBody/Sync[2]/Add[1]/Item[1]", "Data missing"),
    (b"<Add><CmdID>3</CmdID></Add>", "SyncML/SyncBody/Sync[2]/Add[1]", "Item missing"),
    (b"<Replace><Item><Data>x</Data></Item></Replace>", "SyncML/SyncBody/Sync[2]/Replace[1]", "CmdID missing"),
    (b"<Add><CmdID>3</CmdID><CmdID>4</CmdID><Item><Data/></Item></Add>", "SyncML/SyncBody/Sync[2]/Add[1]",
     "<CmdID> more than once"),
    (b"<Add><CmdID>3</CmdID><NoResp>x</NoResp><Item><Data/></Item></Add>",
     "SyncML/SyncBody/Sync[2]/Add[1]/NoResp", "must be empty"),
    (b"<Add><CmdID><LocURI>3</LocURI></CmdID><Item><Data/></Item></Add>",
     "SyncML/SyncBody/Sync[2]/Add[1]/CmdID", "expected text only"),
])
def test_invalid_structure_names_the_element(inner, path, reason):
    with pytest.raises(StructureError) as err:
        Message.from_bytes(_sync_xml(inner))
    assert err.value.path == path and reason in str(err.value)
    assert err.value.status == 400 and isinstance(err.value, ValueError)


def test_unknown_elements_and_order_are_kept():
    xml = _sync_xml(b"<Replace><Meta><Type xmlns='syncml:metinf'>text/plain</Type></Meta><CmdID>3</CmdID>"
                    b"<X-Vendor>v</X-Vendor><Item><Data>x</Data></Item></Replace>")
    msg = Message.from_bytes(xml)
    assert msg.to_element() == parse_xml(xml).root
    replace = msg.commands[1].commands[0]
    assert replace.cmd_id == "3" and replace.meta.type == "text/plain"
    assert Message.from_bytes(msg.to_bytes(string_table=True)) == msg


def test_typed_access_on_a_real_session():
    from ..conftest import corpus_path
    base = corpus_path("syncevolution", "sessions", "wbxml-addressbook-vcard30-md5", "1-a-first-sync")
    req = Message.from_bytes((base / "001-request.wbxml").read_bytes(), "application/vnd.syncml+wbxml")
    assert req.version == "1.2" and req.header.msg_id == "1" and req.final
    assert req.header.cred.type == "syncml:auth-md5" and req.header.cred.data == "MraccrRHny5AADBfmPIGpQ=="
    assert req.header.meta.max_msg_size_int == 150000
    alert = req.commands[2]
    assert isinstance(alert, Alert) and alert.code == AlertCode.SLOW_SYNC
    assert alert.items[0].meta.anchor.next.startswith("2026")
    resp = Message.from_bytes((base / "001-response.wbxml").read_bytes())
    hdr_status = resp.commands[0]
    assert isinstance(hdr_status, Status) and hdr_status.code == StatusCode.AUTHENTICATION_ACCEPTED
    assert hdr_status.chal.meta.next_nonce == "JUlaOFohISE="
    sync_msg = Message.from_bytes((base / "002-request.wbxml").read_bytes())
    sync = sync_msg.commands[-1]
    assert isinstance(sync, Sync) and [type(c) for c in sync.commands] == [Add, Add]
    assert isinstance(sync.commands[0].items[0], Item)
    assert sync.commands[0].items[0].data.startswith(b"BEGIN:VCARD\r\n")


def test_building_a_message_by_hand():
    from syncml_codec.model import Meta, Source, SyncBody, SyncHdr, Target
    from syncml_codec.model.build import CmdIDs
    ids = CmdIDs()
    msg = Message(
        header=SyncHdr(ver_dtd="1.2", ver_proto="SyncML/1.2", session_id="7", msg_id="1",
                       target=Target(loc_uri="http://example.com/sync"),
                       source=Source(loc_uri="IMEI:1", loc_name="alice")),
        body=SyncBody(commands=(Sync(cmd_id=ids.next(), target=Target(loc_uri="contacts"),
                                     source=Source(loc_uri="./contacts"),
                                     commands=(Add(cmd_id=ids.next(), meta=Meta(type="text/x-vcard"),
                                                   items=(Item(source=Source(loc_uri="17"),
                                                               data=b"BEGIN:VCARD\r\nEND:VCARD\r\n"),)),)),),
                      final=True))
    data = msg.to_bytes()
    assert data[:4] == b"\x03\xa4\x01\x6a"
    assert Message.from_bytes(data) == msg
    assert b"<Final/>" in msg.to_bytes("xml")
    assert msg.replace(body=SyncBody()).to_bytes("xml").count(b"<Final/>") == 0
