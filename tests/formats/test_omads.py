"""OMA DS folder and file objects: corpus round trips, fields, rewriting of
changed objects, errors."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from syncml_codec.errors import FormatError
from syncml_codec.formats.omads import FILE_CONTENT_TYPE, FOLDER_CONTENT_TYPE, FileObject, FolderObject
from tests.conftest import CORPUS, ROOT

FILES = CORPUS / "formats" / "funambol-server" / "omads-file"
DATA = ROOT / "tests" / "data" / "formats"
FILE_NAMES = sorted(p.name for p in FILES.glob("*.xml")) if FILES.is_dir() else []
FOLDER_NAMES = ["folder-inbox.xml", "folder-extended-date.xml"]
UTC = timezone.utc


def test_corpus_present():
    if not FILES.is_dir():
        pytest.skip("shared corpus not present")
    assert len(FILE_NAMES) == 5


@pytest.mark.parametrize("name", FILE_NAMES)
def test_file_corpus_round_trip(name):
    data = (FILES / name).read_bytes()
    obj = FileObject.parse(data)
    assert not obj.changed
    assert obj.serialize() == data
    # written again from the fields, it reads back the same
    again = FileObject.parse(obj._write().encode())
    assert again == obj


def test_file_fields():
    if not FILES.is_dir():
        pytest.skip("shared corpus not present")
    text = FileObject.parse((FILES / "simpletext.xml").read_bytes())
    encoded = FileObject.parse((FILES / "simpleencodedtext.xml").read_bytes())
    assert text.content_type == FILE_CONTENT_TYPE
    assert text.name == "simpletext.txt"
    assert text.created == datetime(2003, 8, 7, 23, 18, 30)  # no Z: floating, naive
    assert text.accessed == datetime(2003, 8, 9, 2, 5)  # T016500 rolls over, as in Funambol
    assert text.attributes == dict(h=False, s=False, a=True, d=False, w=True, r=True, x=False)
    assert text.cttype == "text/plain"
    assert text.body == encoded.body == b"Simple text"
    assert (text.body_enc, encoded.body_enc) == (None, "base64")
    assert text.size == 11
    meta_only = FileObject.parse((FILES / "emptybody.xml").read_bytes())
    assert meta_only.body is None and meta_only.size == 30124
    assert FileObject.parse((FILES / "empty.xml").read_bytes()).body == b""
    flower = FileObject.parse((FILES / "flower.xml").read_bytes())
    assert flower.body is not None and flower.body[:3] == b"\xff\xd8\xff" and len(flower.body) == flower.size


def test_file_changed_is_rewritten():
    if not FILES.is_dir():
        pytest.skip("shared corpus not present")
    obj = FileObject.parse((FILES / "simpleencodedtext.xml").read_bytes())
    obj.body = b"\x00\x01binary"
    obj.size = len(obj.body)
    obj.modified = datetime(2006, 3, 15, 12, tzinfo=UTC)
    assert obj.changed
    out = obj.serialize()
    assert b'<body enc="base64">AAFiaW5hcnk=</body>' in out
    assert b"<modified>20060315T120000Z</modified>" in out
    assert FileObject.parse(out) == obj


def test_file_built_keeps_cr_and_cdata_end():
    obj = FileObject(name="a&b.txt", body=b"line 1\r\nline ]]> 2\r\n", cttype="text/plain")
    out = obj.serialize()
    assert b"a&amp;b.txt" in out and b"&#13;" in out
    back = FileObject.parse(out)
    assert back.body == obj.body and back.name == "a&b.txt"
    nocr = FileObject(body=b"x ]]> y")
    assert FileObject.parse(nocr.serialize()).body == b"x ]]> y"
    qp = FileObject(body="Grüße\r\n".encode(), body_enc="quoted-printable")
    assert FileObject.parse(qp.serialize()).body == qp.body


def test_file_cr_in_source_is_kept():
    data = b"<File>\r\n<name>a</name>\r\n<body>one\r\ntwo\r\n</body>\r\n</File>\r\n"
    obj = FileObject.parse(data)
    assert obj.body == b"one\r\ntwo\r\n"
    assert obj.serialize() == data


@pytest.mark.parametrize("name", FOLDER_NAMES)
def test_folder_round_trip(name):
    data = (DATA / name).read_bytes()
    obj = FolderObject.parse(data)
    assert obj.serialize() == data
    assert FolderObject.parse(obj._write().encode()) == obj


def test_folder_fields_and_change():
    obj = FolderObject.parse((DATA / "folder-inbox.xml").read_bytes())
    assert obj.content_type == FOLDER_CONTENT_TYPE
    assert obj.name == "Inbox" and obj.role == "inbox"
    assert obj.created == datetime(2006, 3, 15, 12, tzinfo=UTC)
    assert obj.attributes == {"h": False, "s": True}
    assert obj.ext == [("x-count", ("12",))]
    obj.attributes["h"] = True
    assert obj.changed
    assert obj.serialize() == (
        b"<Folder><name>Inbox</name><created>20060315T120000Z</created><modified>20060316T083000Z</modified>"
        b"<attributes><h>true</h><s>true</s></attributes><role>inbox</role>"
        b"<Ext><XNam>x-count</XNam><XVal>12</XVal></Ext></Folder>"
    )
    other = FolderObject.parse((DATA / "folder-extended-date.xml").read_bytes())
    assert other.name == "Trips & Travel" and other.accessed == datetime(2006, 3, 15, 12, tzinfo=UTC)


def test_unknown_elements_are_kept():
    obj = FolderObject.parse(b"<Folder><name>x</name><color>red</color></Folder>")
    assert obj.extra == ["<color>red</color>"]
    obj.name = "y"
    assert obj.serialize() == b"<Folder><name>y</name><color>red</color></Folder>"


BAD = [
    (FileObject, b"<Folder><name>x</name></Folder>", 1, "Folder"),
    (FileObject, b"<File>\n<name>x</name>\n<size>big</size>\n</File>", 3, "size"),
    (FileObject, b"<File>\n<body enc='base64'>*not base64*</body>\n</File>", 2, "body"),
    (FileObject, b"<File>\n<body enc='uuencode'>x</body>\n</File>", 2, "body"),
    (FileObject, b"<File>\n<created>2003-13-07</created>\n</File>", 2, "created"),
    (FileObject, b"<File>\n<modified>yesterday</modified>\n</File>", 2, "modified"),
    (FileObject, b"<File>\n<attributes>\n<h>yes</h>\n</attributes>\n</File>", 3, "h"),
    (FileObject, b"<File>\n<attributes>\n<q>true</q>\n</attributes>\n</File>", 3, "q"),
    (FileObject, b"<File>\n<name>a</name>\n<name>b</name>\n</File>", 3, "name"),
    (FileObject, b"<File>\n<name>a<b/></name>\n</File>", 2, "name"),
    (FileObject, b"<File>\n<name>a</name>\n<body>x</File>", 3, "File"),
    (FileObject, b'<?xml version="1.0"?>\n<!DOCTYPE File [<!ENTITY a "b">]>\n<File/>', 2, "File"),
    (FileObject, b'<?xml version="1.0" encoding="UTF-8"a><File/>', 1, "File"),
    (FileObject, b"<File>\n<name>\xff</name></File>", 2, "File"),
    (FolderObject, b"<Folder>\n<Ext><XVal>1</XVal></Ext>\n</Folder>", 2, "Ext"),
    (FolderObject, b"<Folder>\n<Ext><XNam>a</XNam><Other/></Ext>\n</Folder>", 2, "Other"),
]


@pytest.mark.parametrize(("cls", "data", "line", "prop"), BAD)
def test_malformed(cls, data, line, prop):
    with pytest.raises(FormatError) as info:
        cls.parse(data)
    assert (info.value.line, info.value.property) == (line, prop)
    assert f"line {line}" in str(info.value)
