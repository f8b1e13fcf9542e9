"""Issue 9, defects 5 and 6, as the accidents that found them: one client
stores a poison item (vCard 3.0 / iCalendar 2.0) and a second client that
talks vCard 2.1 / vCalendar 1.0 syncs.  Its sync completes, it receives the
good items converted, the poison item converted or as stored, never a
Python repr; the HOURLY/COUNT bomb answers with bounded memory; and a
converter that fails in a way nobody foresaw costs one WARNING, not the
message."""

from __future__ import annotations

import logging
import tracemalloc

import pytest

from syncml_codec.engine import ClientStore, SyncServer
from syncml_codec.formats import registry
from syncml_codec.store import SQLiteStore

from .helpers import ab, device, sync, vcard

CAL = "./calendar"


def event(n: int, *lines: str, head: tuple[str, ...] = ()) -> bytes:
    body = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", *head, "BEGIN:VEVENT",
            f"UID:ev{n}", f"SUMMARY:event {n}", *(lines or ("DTSTART:20240105T100000Z",)),
            "END:VEVENT", "END:VCALENDAR"]
    return ("\r\n".join(body) + "\r\n").encode()


BERLIN = ("BEGIN:VTIMEZONE", "TZID:Z", "BEGIN:STANDARD", "DTSTART:19701025T030000",
          "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "RDATE:99991231T235959", "RDATE:00010101T000000",
          "END:STANDARD", "BEGIN:DAYLIGHT", "DTSTART:19700329T020000", "TZOFFSETFROM:+0100",
          "TZOFFSETTO:+0200", "END:DAYLIGHT", "END:VTIMEZONE")
POISON_EVENTS = {
    "count-1x": event(90, "DTSTART:20240101T100000Z", "RRULE:FREQ=DAILY;COUNT=1X"),
    "tzid-europe": event(91, "DTSTART;TZID=Europe:20240101T100000"),
    "tzid-300": event(92, "DTSTART;TZID=" + "A" * 300 + ":20240101T100000"),
    "vtimezone-huge-rdate": event(93, "DTSTART;TZID=Z:20240101T100000", head=BERLIN),
    "hourly-bomb": event(94, "DTSTART;TZID=Europe/Berlin:20240101T100000",
                         "RRULE:FREQ=HOURLY;COUNT=99999999999"),
}
PHOTO = ("BEGIN:VCARD\r\nVERSION:3.0\r\nN:Poison;Photo;;;\r\nFN:Photo Poison\r\n"
         "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQ\u00e9SkZJRg==\r\nEND:VCARD\r\n").encode()
LEAK = (b"Node(", b" at 0x", b"object at")


def calendar_device(name: str, version: str) -> ClientStore:
    store = ClientStore(f"test-{name}")
    ctype = "text/calendar" if version == "2.0" else "text/x-vcalendar"
    store.add_datastore(CAL, "calendar", ctype, version)
    return store


def test_poison_photo_does_not_stop_a_vcard21_client(server: SyncServer, store: SQLiteStore) -> None:
    a = device("a")
    for n in (1, 2):
        a.datastores["./addressbook"].add(vcard(n))
    a.datastores["./addressbook"].add(PHOTO)
    assert sync(server, a).ok
    b = device("b", version="2.1")
    s = sync(server, b)
    assert s.ok, s.error
    assert s.reports["./addressbook"].received == {"Add": 3}
    got = list(ab(b).values())
    good = [d for d in got if b"Doe" in d]
    assert len(good) == 2 and all(b"VERSION:2.1" in d for d in good)
    (poison,) = [d for d in got if b"Poison" in d]
    assert poison == PHOTO  # sent as stored: it has no 2.1 form


@pytest.mark.parametrize("name", sorted(POISON_EVENTS))
def test_poison_event_does_not_stop_a_vcalendar10_client(server: SyncServer, store: SQLiteStore,
                                                          name: str) -> None:
    a = calendar_device("a", "2.0")
    for n in (1, 2):
        a.datastores[CAL].add(event(n))
    a.datastores[CAL].add(POISON_EVENTS[name])
    assert sync(server, a).ok
    b = calendar_device("b", "1.0")
    tracemalloc.start()
    try:
        s = sync(server, b)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert s.ok, s.error
    assert peak < 100 * 2**20, f"{peak / 2**20:.0f} MB"
    assert s.reports[CAL].received == {"Add": 3}
    got = list(b.datastores[CAL].items.values())
    assert sum(b"SUMMARY:event 1" in d or b"SUMMARY:event 2" in d for d in got) == 2
    for data in got:
        assert not any(mark in data for mark in LEAK)
        assert b"VERSION:1.0" in data  # each one converted (what did not fit travels as X-SYNCML-)


def test_calendar_level_alarm_is_no_repr(server: SyncServer, store: SQLiteStore) -> None:
    cal10 = (b"BEGIN:VCALENDAR\r\nVERSION:1.0\r\nAALARM:20240101T090000Z;PT5M;2;beep\r\n"
             b"DALARM:20240101T090000Z;;;wake up\r\nBEGIN:VEVENT\r\nUID:al\r\nSUMMARY:alarmed\r\n"
             b"DTSTART:20240101T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    a = calendar_device("a", "1.0")
    a.datastores[CAL].add(cal10)
    assert sync(server, a).ok
    (stored,) = [i.data for i in store.items("test", "Events")]
    assert b"X-SYNCML-AALARM:20240101T090000Z;PT5M;2;beep" in stored
    for version in ("1.0", "2.0"):
        b = calendar_device("b" + version, version)
        s = sync(server, b)
        assert s.ok and s.reports[CAL].received == {"Add": 1}
        (data,) = b.datastores[CAL].items.values()
        assert not any(mark in data for mark in (*LEAK, b"VALARM:"))
        if version == "1.0":
            assert b"\r\nAALARM:20240101T090000Z;PT5M;2;beep\r\n" in data
            assert b"\r\nDALARM:20240101T090000Z;;;wake up\r\n" in data


def test_unforeseen_converter_failure_costs_one_warning(server: SyncServer, store: SQLiteStore,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    """Defence in depth: whatever a conversion raises, the item goes as
    stored with a WARNING whose client text is escaped, and the rest of
    the sync completes."""
    a = device("a")
    for n in (1, 2):
        a.datastores["./addressbook"].add(vcard(n))
    assert sync(server, a).ok
    real = registry.VCardItem.convert

    def explode(self: registry.VCardItem, target: str) -> object:
        if b"Doe2" in self.serialize():
            raise RuntimeError("boom\r\nforged log line")
        return real(self, target)

    monkeypatch.setattr(registry.VCardItem, "convert", explode)
    b = device("b", version="2.1")
    with caplog.at_level(logging.WARNING, logger="syncml_codec.engine"):
        s = sync(server, b)
    assert s.ok, s.error
    assert s.reports["./addressbook"].received == {"Add": 2}
    got = sorted(ab(b).values())
    assert [b"VERSION:2.1" in d for d in got] == [True, False]  # Doe1 converted, Doe2 as stored
    warnings = [r.getMessage() for r in caplog.records if "RuntimeError" in r.getMessage()]
    assert len(warnings) == 1
    assert "\r" not in warnings[0] and "\n" not in warnings[0]
    assert "text/vcard -> text/x-vcard" in warnings[0] and "sent as stored" in warnings[0]
    doe2 = next(i.guid for i in store.items("test", "Contacts") if b"Doe2" in i.data)
    assert f"Contacts/{doe2}" in warnings[0]  # the operator can find the item
