"""Issue 10 (formats side): ``T240000`` (ISO 8601 end of day, written by
Sony Ericsson P800/P900) is read as the next midnight, so a vCalendar 1.0
item with it converts to a valid iCalendar 2.0 one; the engine's content
detection helpers hold their examples."""

from __future__ import annotations

import doctest

import pytest

from syncml_codec import formats
from syncml_codec.engine import _items

P900 = (b"BEGIN:VCALENDAR\r\nVERSION:1.0\r\nBEGIN:VEVENT\r\nSUMMARY:x\r\n"
        b"DTSTART:20091016T000000Z\r\nDTEND:20091016T240000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def test_end_of_day_24_00_is_the_next_midnight():
    ical = formats.parse(P900).convert("text/calendar").serialize()
    assert b"DTEND:20091017T000000Z" in ical and b"T24" not in ical


def test_end_of_the_last_day_of_a_month_and_year():
    data = P900.replace(b"20091016T240000Z", b"20091231T240000Z")
    assert b"DTEND:20100101T000000Z" in formats.parse(data).convert("text/calendar").serialize()


@pytest.mark.parametrize("bad", [b"20091016T240100Z", b"20091016T250000Z"])
def test_other_hours_past_24_stay_errors_carried_as_written(bad):
    data = P900.replace(b"20091016T240000Z", bad)
    out = formats.parse(data).convert("text/calendar")
    assert bad in out.serialize()  # carried, not silently changed


@pytest.mark.parametrize(("data", "label", "datastore", "expected"), [
    (P900, "text/calendar", "Events", "text/x-vcalendar"),
    (P900, "text/calendar", "Contacts", "text/calendar"),  # not a type the datastore holds: the label stands
    (b"BEGIN:VCARD\r\nVERSION:2.1\r\nN:a\r\nEND:VCARD\r\n", "text/vcard", "Contacts", "text/x-vcard"),
    (b"<note><Body>x</Body></note>", "text/plain", "Notes", "text/x-s4j-sifn"),
    (b"From: me\r\nSubject: a memo\r\n\r\ntext", "text/plain", "Notes", "text/plain"),
    (b"just text", None, "Notes", ""),
])
def test_real_type(data, label, datastore, expected):
    assert _items.real_type(data, label, datastore) == expected


def test_items_doctests():
    assert doctest.testmod(_items).failed == 0
