"""OMA DS email object and RFC 822 items: corpus round trips, email object
<-> RFC 822 conversion, rewriting of changed objects, errors."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

import pytest

from syncml_codec.errors import FormatError
from syncml_codec.formats.email import EMAIL_CONTENT_TYPE, RFC822_CONTENT_TYPE, EmailObject, RFC822Item
from tests.conftest import CORPUS, ROOT

FORMATS = CORPUS / "formats"
DATA = ROOT / "tests" / "data" / "formats"
MAIL_DIRS = ("funambol-server/rfc822", "cpython-email")
MAILS = sorted(
    str(p.relative_to(FORMATS)) for d in MAIL_DIRS if (FORMATS / d).is_dir() for p in (FORMATS / d).iterdir()
)
EMI_DATA = ["email-base64.xml", "email-flags-only.xml"]
UTC = timezone.utc
FLAGS = dict(read=True, forwarded=False, replied=True, deleted=False, flagged=True,
             received=datetime(2006, 3, 15, 12, tzinfo=UTC), created=datetime(2006, 3, 15, 11, 59, 30),
             modified=datetime(2006, 3, 16, 8, 30, tzinfo=UTC), folder="I",
             ext=[("x-funambol-size", ("1234",)), ("x-funambol-attach", ("a.pdf", "10", "application/pdf"))])


def test_corpus_present():
    if not FORMATS.is_dir():
        pytest.skip("shared corpus not present")
    assert len(MAILS) == 13


@pytest.mark.parametrize("name", MAILS)
def test_rfc822_corpus_round_trip(name):
    data = (FORMATS / name).read_bytes()
    item = RFC822Item.parse(data)
    assert item.content_type == RFC822_CONTENT_TYPE
    assert item.serialize() == data
    msg = item.message
    assert msg["From"] is not None or msg.get_unixfrom() is not None or msg["Return-Path"] is not None
    assert sum(1 for _ in msg.walk()) >= 1
    assert item.serialize() == data  # reading the message changes nothing


@pytest.mark.parametrize("enc", [None, "base64", "quoted-printable"])
@pytest.mark.parametrize("name", MAILS)
def test_email_object_rfc822_round_trip(name, enc):
    data = (FORMATS / name).read_bytes()
    emi = EmailObject.from_rfc822(RFC822Item.parse(data), enc=enc, **FLAGS)
    assert emi.content_type == EMAIL_CONTENT_TYPE
    xml = emi.serialize()
    back = EmailObject.parse(xml, folder="I")
    assert back == emi and back.folder == "I"
    assert back.serialize() == xml
    assert back.to_rfc822().serialize() == data
    again = EmailObject.from_rfc822(back.to_rfc822(), enc=back.emailitem_enc, **back.metadata())
    assert again == back and again.folder == "I"
    assert again.serialize() == xml


@pytest.mark.parametrize("name", EMI_DATA)
def test_email_object_data_round_trip(name):
    data = (DATA / name).read_bytes()
    emi = EmailObject.parse(data)
    assert not emi.changed and emi.serialize() == data
    assert EmailObject.parse(emi._write().encode()) == emi


def test_email_object_fields():
    emi = EmailObject.parse((DATA / "email-base64.xml").read_bytes(), folder="S")
    assert (emi.read, emi.forwarded, emi.replied, emi.deleted, emi.flagged) == (False, True, False, False, True)
    assert emi.received == datetime(2006, 3, 15, 12, 5, tzinfo=UTC)
    assert emi.created is None and emi.modified is None
    assert emi.emailitem_enc == "base64"
    item = emi.to_rfc822()
    assert item.message["Subject"] == "Grüße"
    assert item.date == datetime(2006, 3, 15, 12, tzinfo=timezone(timedelta(0)))
    assert b"Caf\xe9 8-bit body" in item.raw
    assert emi.ext == [("x-funambol-size", (str(len(item.raw)),))]
    assert emi.metadata()["folder"] == "S"


def test_email_flag_only_patch():
    emi = EmailObject.parse((DATA / "email-flags-only.xml").read_bytes())
    assert emi.read is True and emi.flagged is False and emi.emailitem is None
    with pytest.raises(ValueError):
        emi.to_rfc822()
    emi.replied = True
    assert emi.serialize() == b"<Email><read>true</read><replied>true</replied><flagged>false</flagged></Email>"


def test_email_body_encodings_chosen():
    eight_bit = EmailObject.from_rfc822(b"Subject: x\r\n\r\nCaf\xe9\r\n")
    assert b'<emailitem enc="base64">' in eight_bit.serialize()
    crlf = EmailObject.from_rfc822(b"Subject: x\r\n\r\nbody ]]> & <tag>\r\n")
    assert b"&#13;" in crlf.serialize() and b"&amp;" in crlf.serialize()
    lf = EmailObject.from_rfc822(b"Subject: x\n\nbody ]]> end\n")
    assert b"<![CDATA[" in lf.serialize()
    for emi in (eight_bit, crlf, lf):
        assert EmailObject.parse(emi.serialize()).emailitem == emi.emailitem


def test_email_cdata_with_crlf_in_source():
    data = b"<Email>\r\n<read>true</read>\r\n<emailitem><![CDATA[Subject: a\r\n\r\nb\r\n]]></emailitem>\r\n</Email>\r\n"
    emi = EmailObject.parse(data)
    assert emi.emailitem == b"Subject: a\r\n\r\nb\r\n"
    assert emi.serialize() == data


def test_email_from_message_object():
    item = RFC822Item.parse(b"From: a@example.org\r\nSubject: Hi\r\n\r\nHello\r\n")
    msg = item.message
    msg.replace_header("Subject", "Changed")
    rebuilt = RFC822Item.from_message(msg)
    assert rebuilt.message["Subject"] == "Changed"
    emi = EmailObject.from_rfc822(msg, read=False)
    assert emi.to_rfc822() == rebuilt


def test_rfc822_envelope_and_date():
    item = RFC822Item.parse(b"From - Thu Feb 01 13:36:23 2007\nSubject: x\n  continued\n\nbody\n")
    assert item.message["Subject"] == "x  continued"  # unfolding drops only the line end
    assert item.date is None
    assert RFC822Item.parse(b"Date: not a date\n\n").date is None


BAD_MAIL = [
    (b"", 1, ""),
    (b"\r\n\r\n", 1, ""),
    (b" folded\r\nSubject: x\r\n\r\n", 1, ""),
    (b"Subject: x\r\nthis is not a header\r\n\r\nbody", 2, ""),
    (b"Subject: x\r\nBad Name: y\r\n\r\nbody", 2, "Bad Name"),
]


@pytest.mark.parametrize(("data", "line", "prop"), BAD_MAIL)
def test_rfc822_malformed(data, line, prop):
    with pytest.raises(FormatError) as info:
        RFC822Item.parse(data)
    assert (info.value.line, info.value.property) == (line, prop)


BAD_EMI = [
    (b"<Mail/>", 1, "Mail"),
    (b"<Email>\n<read>maybe</read>\n</Email>", 2, "read"),
    (b"<Email>\n<read>true</read>\n<read>true</read>\n</Email>", 3, "read"),
    (b"<Email>\n\n<received>20061315T000000Z</received>\n</Email>", 3, "received"),
    (b"<Email>\n<emailitem enc='base64'>@@@</emailitem>\n</Email>", 2, "emailitem"),
    (b"<Email>\n<emailitem enc='quoted-printable'>\xc3\xa9</emailitem>\n</Email>", 2, "emailitem"),
    (b"<Email>\n<read>true</read>\n<emailitem><![CDATA[x]]>\n</Email>", 4, "Email"),
    (b"<Email>\n<Ext><XVal>1</XVal></Ext>\n</Email>", 2, "Ext"),
]


@pytest.mark.parametrize(("data", "line", "prop"), BAD_EMI)
def test_email_object_malformed(data, line, prop):
    with pytest.raises(FormatError) as info:
        EmailObject.parse(data)
    assert (info.value.line, info.value.property) == (line, prop)


def test_base64_with_line_breaks_decodes():
    msg = b"Subject: x\r\n\r\n" + b"y" * 200 + b"\r\n"
    wrapped = base64.encodebytes(msg)
    emi = EmailObject.parse(b'<Email><emailitem enc="base64">\n' + wrapped + b"</emailitem></Email>")
    assert emi.emailitem == msg
