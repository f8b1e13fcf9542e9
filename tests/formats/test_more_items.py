"""Registry entries beyond vCards: vNote <-> text/plain, the OMA DS objects
and RFC 822 mail through ``formats.parse`` and ``convert``."""

from __future__ import annotations

import pytest

from syncml_codec import FormatError, UnsupportedFormatError
from syncml_codec import formats as F

from ..conftest import CORPUS, corpus_path


@pytest.mark.parametrize("body", ["hello", "Café\r\nsecond line", "a;b,c\\d", ""])
def test_vnote_and_plain_text(body):
    note = F.parse(b"BEGIN:VNOTE\r\nVERSION:1.1\r\nBODY:x\r\nEND:VNOTE\r\n").convert("text/plain")
    assert note.serialize() == b"x"
    text = F.parse(body.encode(), "text/plain")
    as_note = text.convert("text/x-vnote")
    assert as_note.content_type == "text/x-vnote"
    assert b"BEGIN:VNOTE" in as_note.serialize() and b"\\n" not in as_note.serialize()
    assert as_note.convert("text/plain").serialize() == body.encode()


def test_plain_text_must_be_utf8():
    with pytest.raises(FormatError):
        F.parse(b"caf\xe9", "text/plain")


RFC822 = sorted((CORPUS / "formats" / "funambol-server" / "rfc822").glob("*"))
FILES = sorted((CORPUS / "formats" / "funambol-server" / "omads-file").glob("*"))


@pytest.mark.parametrize("path", RFC822, ids=lambda p: p.name)
def test_rfc822_through_the_registry(path):
    data = path.read_bytes()
    mail = F.parse(data, "message/rfc822")
    assert mail.serialize() == data
    emi = mail.convert("application/vnd.omads-email+xml")
    assert emi.content_type == "application/vnd.omads-email+xml"
    again = F.parse(emi.serialize(), "application/vnd.omads-email+xml").convert("message/rfc822")
    assert again.serialize() == data


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_file_objects_through_the_registry(path):
    data = path.read_bytes()
    item = F.parse(data, "application/vnd.omads-file+xml")
    assert item.serialize() == data
    assert item.convert("application/vnd.omads-file+xml").serialize() == data
    with pytest.raises(UnsupportedFormatError):
        item.convert("message/rfc822")


def test_every_listed_content_type_is_registered():
    corpus_path("formats")
    assert {"text/x-vcard", "text/vcard", "text/x-vcalendar", "text/calendar", "text/x-vnote", "text/plain",
            "application/vnd.omads-email+xml", "application/vnd.omads-folder+xml",
            "application/vnd.omads-file+xml", "message/rfc822"} <= set(F.registered_types())
