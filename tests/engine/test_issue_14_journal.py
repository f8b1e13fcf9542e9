"""Issue 14, item 1: the ``Journal`` datastore for clients that keep
journals (iCalendar / vCalendar ``VJOURNAL``) and for clients that want
notes (vNote, SIF-N, plain text): the same entries flow to each in its
format (:mod:`syncml_codec.formats._journal`), and a notes client's change
keeps what its note cannot carry."""

from __future__ import annotations

from typing import Any

import pytest

from syncml_codec.engine import ClientStore, SyncServer
from syncml_codec.errors import UnsupportedFormatError
from syncml_codec.formats import parse
from syncml_codec.store import SQLiteStore

from .conftest import Clock, counter_random
from .helpers import sync

ICAL, VCAL, VNOTE, SIFN, TEXT = "text/calendar", "text/x-vcalendar", "text/x-vnote", "text/x-s4j-sifn", "text/plain"
ENTRY = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VJOURNAL\r\nUID:journal-1\r\n"
         "DTSTAMP:20240101T120000Z\r\nDTSTART:20240101T100000Z\r\nSUMMARY:Day one\r\n"
         "DESCRIPTION:Went hiking\\, saw a deer.\\nBack by six: été\r\nCLASS:PRIVATE\r\nCATEGORIES:Outdoors\r\n"
         "END:VJOURNAL\r\nEND:VCALENDAR\r\n").encode()
TEXT_BODY = "Went hiking, saw a deer.\nBack by six: été"
VERSIONS = {ICAL: "2.0", VCAL: "1.0", VNOTE: "1.1", SIFN: "1.0", TEXT: "1.0"}


def journal(item: Any) -> Any:
    return next(c for c in item.component.components if c.name == "VJOURNAL")


def test_issue_14_vjournal_converts_to_each_note_format_and_back() -> None:
    item = parse(ENTRY, ICAL)
    note = item.convert(VNOTE)
    assert note.component.find("SUMMARY").value == "Day one"
    assert note.component.find("BODY").value.replace("\r\n", "\n") == TEXT_BODY
    assert note.component.find("CLASS").value == "PRIVATE"
    sif = item.convert(SIFN)
    assert sif.get("Subject") == "Day one" and sif.get("Body").replace("\r\n", "\n") == TEXT_BODY
    assert item.convert(TEXT).serialize().decode().replace("\r\n", "\n") == TEXT_BODY
    for source in (note, sif):
        back = journal(parse(source.serialize(), source.content_type).convert(ICAL))
        assert back.find("SUMMARY").value == "Day one"
        assert back.find("DESCRIPTION").value.replace("\r\n", "\n") == TEXT_BODY
    old = journal(item.convert(VCAL))
    assert old.find("UID").value == "journal-1" and old.find("DTSTART") is not None
    assert journal(parse(note.serialize(), VNOTE).convert(VCAL)).find("SUMMARY").value == "Day one"
    event = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    with pytest.raises(UnsupportedFormatError, match="no VJOURNAL"):
        parse(event, ICAL).convert(VNOTE)


@pytest.fixture
def server() -> SyncServer:
    store = SQLiteStore(":memory:")
    store.add_user("test", "secret")
    return SyncServer(store, clock=Clock(), random_source=counter_random(), base_url="http://127.0.0.1:8080/sync")


def client(name: str, ctype: str) -> ClientStore:
    store = ClientStore(f"test-{name}")
    store.add_datastore("./journal", "Journal", ctype, VERSIONS[ctype])
    return store


def only(store: ClientStore) -> tuple[str, bytes]:
    ((luid, data),) = store.datastores["./journal"].items.items()
    return luid, data


def test_issue_14_journal_flows_to_journal_and_note_clients(server: SyncServer) -> None:
    diary = client("diary", ICAL)
    diary.datastores["./journal"].add(ENTRY)
    session = sync(server, diary)
    assert session.ok
    assert server.store.items("test", "Journal")[0].data == ENTRY  # kept as it came
    assert diary.server_devinf is not None  # our DevInf lists Journal short (it must fit a 4 kB message)
    (ds,) = [d for d in diary.server_devinf.datastores if d.source_ref == "Journal"]
    assert [t.ct_type for t in (*ds.tx_pref, *ds.tx)] == [ICAL, TEXT]
    got = {}
    for ctype in (VNOTE, SIFN, TEXT, VCAL):
        other = client(ctype.rsplit("/", 1)[1], ctype)
        assert sync(server, other).ok
        got[ctype] = only(other)[1]
    assert got[VNOTE].startswith(b"BEGIN:VNOTE") and b"SUMMARY:Day one" in got[VNOTE]
    assert b"<Subject>Day one</Subject>" in got[SIFN] and b"<note>" in got[SIFN]
    assert got[TEXT].decode().replace("\r\n", "\n") == TEXT_BODY
    assert got[VCAL].startswith(b"BEGIN:VCALENDAR\r\nVERSION:1.0") and b"BEGIN:VJOURNAL" in got[VCAL]


def test_issue_14_a_note_clients_change_keeps_the_rest_of_the_entry(server: SyncServer) -> None:
    diary, phone = client("diary", ICAL), client("phone", VNOTE)
    diary.datastores["./journal"].add(ENTRY)
    assert sync(server, diary).ok and sync(server, phone).ok
    luid, note = only(phone)
    changed = parse(note, VNOTE)
    changed.component.find("BODY").set_text("Went hiking. No deer after all.")
    phone.datastores["./journal"].update(luid, changed.serialize())
    assert sync(server, phone).ok
    session = sync(server, diary)
    assert session.ok
    entry = journal(parse(only(diary)[1], ICAL))
    assert entry.find("DESCRIPTION").value == "Went hiking. No deer after all."
    assert entry.find("UID").value == "journal-1" and entry.find("DTSTART").value == "20240101T100000Z"
    assert entry.find("CATEGORIES").value == "Outdoors" and entry.find("SUMMARY").value == "Day one"


def test_issue_14_a_note_added_to_journal_reaches_the_journal_client(server: SyncServer) -> None:
    funambol = client("sifn", SIFN)
    funambol.datastores["./journal"].add(b'<?xml version="1.0" encoding="UTF-8"?><note><SIFVersion>1.1'
                                         b'</SIFVersion><Subject>Groceries</Subject><Body>milk, eggs</Body></note>')
    assert sync(server, funambol).ok
    diary = client("diary", ICAL)
    assert sync(server, diary).ok
    entry = journal(parse(only(diary)[1], ICAL))
    assert entry.find("SUMMARY").value == "Groceries" and entry.find("DESCRIPTION").value == "milk, eggs"
