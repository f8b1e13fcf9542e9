"""Issue 11: types that tell the truth.

TEXT fields are ``str`` whatever the wire carried (inline, table or opaque
data, UTF-8 or not), and still give back the bytes they were read from; a
lenient read is typed ``Message[None]`` (required fields may be None), says
what it misses (:func:`missing`), and :func:`complete` gets a caller back
to the strict type once nothing is missing.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from syncml_codec import StructureError, decode_wbxml, encode_wbxml
from syncml_codec.codec.tree import Document, Element
from syncml_codec.model import (
    Alert,
    Message,
    OpaqueStr,
    Target,
    complete,
    missing,
    opaque_bytes,
    text_from_opaque,
)
from syncml_codec.model._lossless import Latin1OpaqueStr

from ..codec.wbxmlbuild import END, OPAQUE, SYNCBODY, mb, s, syncml
from ..conftest import mypy_error_lines

ALERT, CMDID_T, DATA_T, TARGET_T, LOCURI_T, ITEM_T = 0x46, 0x4B, 0x4F, 0x6E, 0x57, 0x54


def _read(data: bytes, lenient: bool = False) -> Message[None]:
    """The model's own reading (the reference path, below any fast path)."""
    return Message.from_document(decode_wbxml(data), lenient=lenient)


@pytest.mark.parametrize("raw, kind", [(b"7", OpaqueStr), (b"caf\xc3\xa9", OpaqueStr),
                                       (b"\xff\x00\xe9", Latin1OpaqueStr), (b"", OpaqueStr)])
def test_opaque_text_is_str_and_gives_back_its_bytes(raw: bytes, kind: type):
    tree = Element("Target", [Element("LocURI", [raw]), Element("LocName", [raw])])
    target = Target.from_element(tree)
    for value in (target.loc_uri, target.loc_name):
        assert isinstance(value, str) and type(value) is kind
        assert opaque_bytes(value) == raw
    assert target.to_element() == tree
    # a value set in code is plain text again
    assert opaque_bytes("7") is None
    plain = str(target.loc_uri)
    assert Target(loc_uri=plain).to_element() == Element("Target", [Element("LocURI", [plain] if raw else [])])


def test_text_that_is_not_utf8_round_trips_through_wbxml():
    """The codec keeps opaque data that is not UTF-8 as bytes; the model reads
    it as Latin-1 text (as the codec reads such inline strings) and writes
    the same bytes back."""
    raw = b"\xff\x00\xe9"
    body = (bytes([SYNCBODY, ALERT, CMDID_T]) + s("1") + bytes([END, DATA_T, OPAQUE]) + mb(len(raw)) + raw
            + bytes([END, ITEM_T, TARGET_T, LOCURI_T, OPAQUE]) + mb(len(raw)) + raw + bytes([END, END, END, END, END]))
    data = syncml(body)
    msg = _read(data, lenient=True)  # the header has only VerDTD
    alert = msg.commands[0]
    assert isinstance(alert, Alert) and alert.items[0].target is not None
    assert alert.data == alert.items[0].target.loc_uri == "\xff\x00\xe9"
    assert type(alert.data) is Latin1OpaqueStr
    assert encode_wbxml(Document(decode_wbxml(data).language, msg.to_element())) == data


def test_text_from_opaque_is_the_one_rule():
    assert text_from_opaque(b"abc") == "abc" and type(text_from_opaque(b"abc")) is OpaqueStr
    latin = text_from_opaque(b"\xe9t\xe9")
    assert latin == "\xe9t\xe9" and type(latin) is Latin1OpaqueStr
    assert opaque_bytes(latin) == b"\xe9t\xe9"
    assert pickle.loads(pickle.dumps(latin)) == latin and type(pickle.loads(pickle.dumps(latin))) is Latin1OpaqueStr
    # equal to plain text: the model compares values, not how they travelled
    assert Target(loc_uri=text_from_opaque(b"x")) == Target(loc_uri="x")


def test_lenient_read_says_what_is_missing():
    data = syncml(bytes([SYNCBODY, ALERT, END, ALERT, CMDID_T]) + s("2") + bytes([END, END, END]))
    with pytest.raises(StructureError):
        _read(data)
    msg = _read(data, lenient=True)
    assert missing(msg) == ("SyncHdr/VerProto", "SyncHdr/SessionID", "SyncHdr/MsgID", "SyncHdr/Target",
                            "SyncHdr/Source", "SyncBody/Alert[1]/CmdID")
    assert complete(msg, Message) is None
    first, second = msg.commands
    assert first.cmd_id is None and missing(first) == ("CmdID",) and complete(first, Alert) is None
    assert complete(second, Alert) is second


def test_a_strict_message_is_complete():
    xml = (b"<SyncML><SyncHdr><VerDTD>1.2</VerDTD><VerProto>SyncML/1.2</VerProto><SessionID>1</SessionID>"
           b"<MsgID>1</MsgID><Target><LocURI>s</LocURI></Target><Source><LocURI>c</LocURI></Source></SyncHdr>"
           b"<SyncBody><Final/></SyncBody></SyncML>")
    msg = Message.from_bytes(xml, lenient=True)
    assert missing(msg) == ()
    assert complete(msg, Message) is msg
    assert complete(msg.header.target if msg.header else Element("x"), Message) is None  # type: ignore[arg-type]


MYPY_PROBE = """
    from syncml_codec.model import Alert, Message, Target, complete

    def lenient(data: bytes) -> str:
        msg = Message.from_bytes(data, lenient=True)
        return msg.header.source.loc_uri  # E: the header and the URI may be missing

    def checked(data: bytes) -> str:
        msg = complete(Message.from_bytes(data, lenient=True), Message)
        return msg.header.source.loc_uri if msg is not None else ""

    def strict(data: bytes) -> str:
        return Message.from_bytes(data).header.source.loc_uri

    def strict_is_lenient(data: bytes) -> Message[None]:
        return Message.from_bytes(data)

    def built() -> Target:
        return Target(loc_uri=None)  # E: a Target[None] is not a Target
"""


@pytest.mark.slow
def test_mypy_makes_a_caller_check(tmp_path: Path):
    found, expected, out = mypy_error_lines(MYPY_PROBE, tmp_path)
    assert found == expected, out
