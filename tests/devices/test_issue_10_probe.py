"""Issue 10 probe: real-device variants of the corpus recordings that our
replay checks pass but that stored the wrong text.

An XML message declared ISO-8859-1 (sync4j-era Palm/PocketPC clients) whose
vCalendar lines say ``CHARSET=ISO-8859-1`` with 8-bit text: the XML parser
has already decoded the document, so the item reaches the format layer as
UTF-8 and decoding it again as ISO-8859-1 gave mojibake ("RÃ©union")."""

from __future__ import annotations

import dataclasses
import re

import pytest

from syncml_codec.formats.versit import parse_items

from .recordings import SE_SESSIONS, replay, se_recordings

_EVENT = (b"BEGIN:VCALENDAR\r\nVERSION:1.0\r\nBEGIN:VEVENT\r\nSUMMARY;CHARSET=ISO-8859-1:R\xe9union %d\r\n"
          b"DTSTART:20240111T090000Z\r\nDTEND:20240111T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def _latin1_xml(body: bytes, numbers: list[int]) -> bytes:
    """The message declared ISO-8859-1, each vCalendar replaced by one with 8-bit Latin-1 text."""
    body = body.replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"')

    def event(_: re.Match[bytes]) -> bytes:
        numbers.append(len(numbers))
        return b"<Data><![CDATA[" + _EVENT % numbers[-1] + b"]]></Data>"

    return re.sub(rb"<Data><!\[CDATA\[BEGIN:VCALENDAR.*?\]\]></Data>", event, body, flags=re.S)


@pytest.mark.skipif(not SE_SESSIONS.is_dir(), reason="no SyncEvolution corpus")
def test_latin1_xml_vcalendar_is_stored_as_the_text_sent() -> None:
    recording = next(r for r in se_recordings() if r.name == "xml-calendar-vcal10-md5")
    numbers: list[int] = []
    first = tuple(_latin1_xml(m, numbers) for m in recording.sessions[0])
    assert first[0].startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>') and numbers == [0, 1]
    server, _, problems = replay(dataclasses.replace(recording, sessions=(first,)))
    assert problems == []
    summaries = sorted(line for item in server.store.items("test", "Events")
                       for line in item.data.splitlines() if line.startswith(b"SUMMARY"))
    assert summaries == ["SUMMARY:Réunion 0".encode(), "SUMMARY:Réunion 1".encode()]


def _fn(octets: bytes) -> str:
    card = parse_items(b"BEGIN:VCARD\r\nVERSION:2.1\r\nFN;CHARSET=ISO-8859-1:" + octets + b"\r\nEND:VCARD\r\n")[0]
    return next(line.value for line in card.lines if line.name == "FN")


def test_one_byte_charset_decodes_latin1_octets_and_utf8_from_xml_text() -> None:
    assert _fn(b"J\xe9r\xf4me") == _fn("Jérôme".encode()) == "Jérôme"
    assert _fn(b"caf=E9") == "caf=E9"  # no ENCODING: not quoted-printable
