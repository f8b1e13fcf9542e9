"""Issue 10, items 3 and 4, through the public API (our client session
against an in-memory server): items are read by their content, not their
label (a P900's vCalendar 1.0 labelled ``text/calendar``); a device without
DevInf (sync4j/Funambol) is answered in its own format and encoding in later
sessions; notes keep every field (SIF-N -> store -> SIF-N byte for byte)."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest

from syncml_codec.engine import ClientSession, ClientStore, SyncServer
from syncml_codec.formats import SIFItem, parse
from syncml_codec.formats.sif import comparable
from syncml_codec.model import Add, Get, Message, Meta, Put, Replace, Results, Sync
from syncml_codec.store import DeviceFormat

from ..conftest import CORPUS
from .conftest import Clock
from .helpers import prime

P900_EVENT = (b"BEGIN:VCALENDAR\r\nVERSION:1.0\r\nBEGIN:VEVENT\r\n"
              b"SUMMARY;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:Caf=C3=A9 day\r\n"
              b"DTSTART:20091016T000000Z\r\nDTEND:20091016T240000Z\r\n"
              b"AALARM:20091015T230000Z;;0;\r\nCATEGORIES:Work;Travel\r\n"
              b"END:VEVENT\r\nEND:VCALENDAR\r\n")

SIF_NOTE = (b'<?xml version="1.0" encoding="UTF-8"?>\n<note>\n<SIFVersion>1.1</SIFVersion>\n'
            b"<Subject>Shopping</Subject>\n<Body>milk\r\neggs</Body>\n<Categories>Home,Errands</Categories>\n"
            b"<Color>3</Color>\n<Height>200</Height>\n<Width>180</Width>\n<Left>10</Left>\n<Top>20</Top>\n"
            b"<Folder>DEFAULT_FOLDER</Folder>\n</note>\n")

SIFC_FILES = sorted((CORPUS / "formats" / "funambol-server" / "sif" / "sifc-parser").glob("*.xml"))
SIFE_FILES = sorted((CORPUS / "formats" / "funambol-server" / "sif" / "sifcalendar-parser").glob("sife-*.xml"))


# -- a client session, optionally posing as a sync4j client without DevInf ----------------------
Transform = Callable[[Message], Message]


def run(server: SyncServer, store: ClientStore, mode: int | None = None, *,
        transform: Transform | None = None) -> tuple[ClientSession, list[Message]]:
    """One session of ``store`` (basic auth, XML); every request goes
    through ``transform``; the server's answers are returned."""
    session = ClientSession(store, url=server.base_url, user="test", password="secret", auth_type="basic",
                            encoding="xml", clock=Clock(),
                            modes={uri: mode for uri in store.datastores} if mode else None)
    request = session.start()
    answers: list[Message] = []
    for _ in range(40):
        body = request.body
        if transform is not None:
            body = transform(Message.from_bytes(body, request.content_type)).to_bytes("xml")
        sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
        response = server.handle(body, request.content_type, sid)
        assert response.http_status == 200
        answers.append(Message.from_bytes(response.body, response.content_type))
        next_request = session.receive(response.body, response.content_type)
        if next_request is None:
            return session, answers
        request = next_request
    raise AssertionError("the session did not end")


def sync4j(msg: Message) -> Message:
    """What a sync4j/Funambol client sends: no DevInf (no Put, Get or
    Results of it), item data base64 with ``<Format>b64</Format>``."""
    out = []
    for cmd in msg.commands:
        if isinstance(cmd, (Put, Get, Results)):
            continue
        if isinstance(cmd, Sync):
            changes = []
            for change in cmd.commands:
                if isinstance(change, (Add, Replace)):
                    items = tuple(dataclasses.replace(
                        item, meta=Meta(format="b64"),
                        data=base64.b64encode(item.data.encode() if isinstance(item.data, str) else item.data)
                        .decode()) for item in change.items)
                    change = dataclasses.replace(change, items=items)
                changes.append(change)
            cmd = dataclasses.replace(cmd, commands=tuple(changes))
        out.append(cmd)
    return msg.replace(body=dataclasses.replace(msg.body, commands=tuple(out)))


def no_devinf(msg: Message) -> Message:
    """``msg`` without DevInf (no Put, Get or Results of it)."""
    commands = tuple(c for c in msg.commands if not isinstance(c, (Put, Get, Results)))
    return msg.replace(body=dataclasses.replace(msg.body, commands=commands))


def received(answers: list[Message]) -> list[tuple[str | None, str | None, bytes]]:
    """(Type, Format, data) of every Add/Replace the server sent."""
    out = []
    for msg in answers:
        for cmd in msg.commands:
            if isinstance(cmd, Sync):
                for change in cmd.commands:
                    if isinstance(change, (Add, Replace)):
                        meta = change.meta or Meta()
                        for item in change.items:
                            meta = item.meta or meta
                            data = item.data.encode() if isinstance(item.data, str) else item.data
                            ctype = (change.meta.type if change.meta else None) or meta.type
                            fmt = (change.meta.format if change.meta else None) or meta.format
                            out.append((ctype, fmt, data))
    return out


def client(name: str, uri: str, ctype: str, version: str, remote: str | None = None) -> ClientStore:
    store = ClientStore(name)
    store.add_datastore(f"./{uri}", remote or uri, ctype, version)
    return store


# -- items by their content ---------------------------------------------------------------------
def _is_proper_ical(data: bytes) -> None:
    assert b"VERSION:2.0" in data and b"VERSION:1.0" not in data
    for bad in (b"T240000", b"AALARM", b"QUOTED-PRINTABLE", b"DCREATED"):
        assert bad not in data, bad
    assert "SUMMARY:Café day".encode() in data
    assert b"BEGIN:VALARM" in data and b"CATEGORIES:Work,Travel" in data


def test_p900_vcalendar_labelled_text_calendar_reaches_icalendar_clients_as_2_0(server, store):
    p900 = client("p900-like", "calendar", "text/calendar", "2.0")  # labels its vCalendar 1.0 items text/calendar
    p900.datastores["./calendar"].add(P900_EVENT)
    run(server, p900)
    (stored,) = store.items("test", "Events")
    assert stored.content_type == "text/calendar"
    _is_proper_ical(stored.data)
    assert b"DTEND:20091017T000000Z" in stored.data  # 24:00 is the next midnight

    evolution = client("ical-client", "calendar", "text/calendar", "2.0")
    run(server, evolution)
    (got,) = evolution.datastores["./calendar"].items.values()
    _is_proper_ical(got)

    for _ in range(2):  # repeated slow syncs of both: content keys match across the label, no duplicates
        run(server, p900, 201)
        run(server, evolution, 201)
    assert len(store.items("test", "Events")) == 1
    assert len(p900.datastores["./calendar"].items) == 1 and len(evolution.datastores["./calendar"].items) == 1


def test_mislabelled_item_stored_by_an_earlier_version_is_matched_and_sent_as_2_0(server, store):
    store.add_item("test", "Events", P900_EVENT, "text/calendar")  # what the server stored before issue 10
    p900 = client("p900-like", "calendar", "text/calendar", "2.0")
    p900.datastores["./calendar"].add(P900_EVENT)
    run(server, p900)  # slow sync: the same event, not a second one
    assert len(store.items("test", "Events")) == 1
    evolution = client("ical-client", "calendar", "text/calendar", "2.0")
    run(server, evolution)
    (got,) = evolution.datastores["./calendar"].items.values()
    _is_proper_ical(got)


@pytest.mark.parametrize(("label", "data", "stored_type"), [
    ("text/vcard", b"BEGIN:VCARD\r\nVERSION:2.1\r\nN:Doe;Jane\r\nTEL;CELL:+1 555 0100\r\nEND:VCARD\r\n", "text/vcard"),
    ("text/x-vcard", SIFC_FILES[0].read_bytes() if SIFC_FILES else b"", "text/vcard"),
    ("text/plain", base64.b64encode(SIFC_FILES[0].read_bytes()) if SIFC_FILES else b"", "text/vcard"),
])
def test_contacts_are_read_by_their_content(server, store, label, data, stored_type):
    if not data:
        pytest.skip("no SIF corpus")
    phone = client("labeller", "contacts", label, "")
    phone.datastores["./contacts"].add(data)
    run(server, phone)
    (stored,) = store.items("test", "Contacts")
    assert stored.content_type == stored_type and b"VERSION:3.0" in stored.data
    run(server, phone, 201)
    assert len(store.items("test", "Contacts")) == 1


# -- devices without DevInf ---------------------------------------------------------------------
SIFC = (b'<?xml version="1.0" encoding="UTF-8"?>\n<contact>\n<SIFVersion>1.1</SIFVersion>\n'
        b"<FirstName>Ada</FirstName>\n<LastName>Lovelace</LastName>\n"
        b"<MobileTelephoneNumber>+44 20 7946 0018</MobileTelephoneNumber>\n</contact>\n")


def test_funambol_client_without_devinf_gets_sif_b64_in_a_later_session(server, store):
    fwm = client("fwm-50F0063006B000000", "contact", "text/x-s4j-sifc", "1.1", remote="scard")
    fwm.datastores["./contact"].add(SIFC)
    run(server, fwm, transform=sync4j)
    (stored,) = store.items("test", "Contacts")
    assert b"VERSION:3.0" in stored.data and b"Lovelace" in stored.data
    device = store.find_device("test", "fwm-50F0063006B000000")
    assert device is not None and device.devinf is None
    assert store.device_format(device, "Contacts") == DeviceFormat("text/x-s4j-sifc", "text/x-s4j-sifc", "1.1", "b64")

    evolution = client("vcard30-client", "addressbook", "text/vcard", "3.0")
    evolution.datastores["./addressbook"].add(
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Hopper;Grace;;;\r\nFN:Grace Hopper\r\nEND:VCARD\r\n")
    run(server, evolution)  # a server-side change for the Funambol client

    _, answers = run(server, fwm, transform=sync4j)  # a later session, still without DevInf
    (sent,) = received(answers)
    ctype, fmt, data = sent
    assert (ctype, fmt) == ("text/x-s4j-sifc", "b64")
    xml = base64.b64decode(data)
    sif = parse(xml, "text/x-s4j-sifc")
    assert isinstance(sif, SIFItem) and sif.get("LastName") == "Hopper" and sif.get("FirstName") == "Grace"


def test_sync4j_prefix_without_devinf_or_history_gets_sif_b64(server, store):
    store.add_item("test", "Contacts", b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Doe;John;;;\r\nFN:John Doe\r\nEND:VCARD\r\n",
                   "text/vcard")
    outlook = client("sc-pim-outlook", "contact", "text/x-s4j-sifc", "1.1", remote="scard")
    _, answers = run(server, outlook, transform=sync4j)
    ((ctype, fmt, data),) = received(answers)
    assert (ctype, fmt) == ("text/x-s4j-sifc", "b64")
    assert parse(base64.b64decode(data), "text/x-s4j-sifc").get("LastName") == "Doe"  # type: ignore[attr-defined]


def test_a_device_that_sends_plain_is_answered_plain(server, store):
    fol = client("fol-WklKSUFOLVBDOnppamlhbg==", "contact", "text/x-vcard", "2.1", remote="scard")
    fol.datastores["./contact"].add(b"BEGIN:VCARD\r\nVERSION:2.1\r\nN:Doe;Jane\r\nEND:VCARD\r\n")
    run(server, fol, transform=no_devinf)
    store.add_item("test", "Contacts", b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Doe;John;;;\r\nFN:John Doe\r\nEND:VCARD\r\n",
                   "text/vcard")
    _, answers = run(server, fol, transform=no_devinf)
    ((ctype, fmt, data),) = received(answers)
    assert (ctype, fmt) == ("text/x-vcard", None) and data.startswith(b"BEGIN:VCARD\r\nVERSION:2.1")


# -- notes without loss -------------------------------------------------------------------------
def test_sif_note_round_trip_is_byte_identical_and_other_clients_get_their_format(server, store):
    outlook = client("sif-notes", "note", "text/x-s4j-sifn", "", remote="snote")
    outlook.datastores["./note"].add(SIF_NOTE)
    run(server, outlook)
    (stored,) = store.items("test", "Notes")
    assert stored.data == SIF_NOTE and stored.content_type == "text/x-s4j-sifn"

    other = client("sif-notes-2", "note", "text/x-s4j-sifn", "", remote="snote")
    run(server, other)
    assert list(other.datastores["./note"].items.values()) == [SIF_NOTE]

    memo = client("plain-notes", "memo", "text/plain", "1.0")
    run(server, memo)
    assert list(memo.datastores["./memo"].items.values()) == [b"milk\r\neggs"]

    phone = client("vnote-phone", "notes", "text/x-vnote", "1.1")
    run(server, phone)
    (vnote,) = phone.datastores["./notes"].items.values()
    assert b"SUMMARY:Shopping" in vnote and b"CATEGORIES:Home;Errands" in vnote and b"BODY" in vnote

    for device in (outlook, other, memo, phone):  # repeated slow syncs: one note
        run(server, device, 201)
    assert len(store.items("test", "Notes")) == 1
    assert store.items("test", "Notes")[0].data == SIF_NOTE


def test_a_plain_text_edit_keeps_the_subject_and_categories(server, store):
    outlook = client("sif-notes", "note", "text/x-s4j-sifn", "", remote="snote")
    outlook.datastores["./note"].add(SIF_NOTE)
    run(server, outlook)
    memo = client("plain-notes", "memo", "text/plain", "1.0")
    run(server, memo)
    (luid,) = memo.datastores["./memo"].items
    memo.datastores["./memo"].update(luid, b"milk\r\neggs\r\nbread")
    run(server, memo)
    _, answers = run(server, outlook)
    ((ctype, _, data),) = received(answers)
    sif = parse(data, ctype)
    assert isinstance(sif, SIFItem)
    assert comparable(sif.fields) == comparable([*parse(SIF_NOTE, "text/x-s4j-sifn").fields[:2],  # type: ignore[attr-defined]
                                                 ("Body", "milk\r\neggs\r\nbread"),
                                                 *parse(SIF_NOTE, "text/x-s4j-sifn").fields[3:]])  # type: ignore[attr-defined]


def test_a_vnote_edit_keeps_the_sif_fields(server, store):
    outlook = client("sif-notes", "note", "text/x-s4j-sifn", "", remote="snote")
    outlook.datastores["./note"].add(SIF_NOTE)
    run(server, outlook)
    phone = client("vnote-phone", "notes", "text/x-vnote", "1.1")
    run(server, phone)
    (luid,) = phone.datastores["./notes"].items
    # a phone keeps only what it knows: BODY, SUMMARY, CATEGORIES
    phone.datastores["./notes"].update(luid, b"BEGIN:VNOTE\r\nVERSION:1.1\r\nSUMMARY:Shopping list\r\n"
                                              b"BODY:milk\r\nCATEGORIES:Home;Errands\r\nEND:VNOTE\r\n")
    run(server, phone)
    _, answers = run(server, outlook)
    ((ctype, _, data),) = received(answers)
    sif = parse(data, ctype)
    assert isinstance(sif, SIFItem)
    assert (sif.get("Subject"), sif.get("Body"), sif.get("Categories")) == ("Shopping list", "milk", "Home,Errands")
    assert (sif.get("Color"), sif.get("Height"), sif.get("Left"), sif.get("Folder")) == ("3", "200", "10",
                                                                                        "DEFAULT_FOLDER")


def test_base64_sif_note_without_format_is_answered_in_base64(server, store):
    wrapped = base64.b64encode(SIF_NOTE)
    pda = client("sif-pda", "note", "text/plain", "", remote="snote")  # label says nothing useful, no DevInf
    pda.datastores["./note"].add(wrapped)
    run(server, pda, transform=no_devinf)
    (stored,) = store.items("test", "Notes")
    assert stored.data == SIF_NOTE and stored.content_type == "text/x-s4j-sifn"
    pda2 = client("sif-pda", "note", "text/plain", "", remote="snote")  # the same device, its data lost
    _, answers = run(server, pda2, 201, transform=no_devinf)
    ((_, fmt, data),) = received(answers)
    assert fmt is None and data == wrapped


# -- contacts and events: SIF -> canonical -> SIF keeps every field ------------------------------
@pytest.mark.parametrize("path", SIFC_FILES + SIFE_FILES, ids=lambda p: p.name)
def test_sif_through_the_store_keeps_every_field(server, store, path):
    data = path.read_bytes()
    sif = parse(data)
    assert isinstance(sif, SIFItem)
    uri, remote = ("contact", "scard") if sif.content_type.endswith("sifc") else ("calendar", "scal")
    a = client("sif-a", uri, sif.content_type, "", remote=remote)
    a.datastores[f"./{uri}"].add(data)
    run(server, a)
    b = client("sif-b", uri, sif.content_type, "", remote=remote)
    run(server, b)
    (got,) = b.datastores[f"./{uri}"].items.values()
    back = parse(got, sif.content_type)
    assert isinstance(back, SIFItem)
    assert comparable(back.fields) == comparable(sif.fields)


def test_primed_md5_client_is_unaffected(server, store):
    """The ordinary path (MD5, WBXML, DevInf) still works with the format table."""
    from .helpers import sync, vcard
    dev = prime(server, client("md5-phone", "addressbook", "text/x-vcard", "2.1"))
    dev.datastores["./addressbook"].add(vcard(1, version="2.1"))
    sync(server, dev)
    device = store.find_device("test", "md5-phone")
    assert device is not None
    fmt = store.device_format(device, "Contacts")
    assert fmt is not None and (fmt.content_type, fmt.version, fmt.encoding) == ("text/x-vcard", "2.1", "")


def test_a_sif_contact_edit_keeps_what_sif_cannot_hold(server, store):
    card = (b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Doe;Jane;;;\r\nFN:Jane Doe\r\nGEO:37.386013;-122.082932\r\n"
            b"EMAIL;TYPE=INTERNET:a@example.com\r\nEMAIL;TYPE=INTERNET:b@example.com\r\n"
            b"EMAIL;TYPE=INTERNET:c@example.com\r\nEMAIL;TYPE=INTERNET:d@example.com\r\n"
            b"IMPP:xmpp:jane@example.com\r\nEND:VCARD\r\n")
    evolution = client("vcard30-client", "addressbook", "text/vcard", "3.0")
    evolution.datastores["./addressbook"].add(card)
    run(server, evolution)
    outlook = client("sif-contacts", "contact", "text/x-s4j-sifc", "", remote="scard")
    run(server, outlook)
    (luid,) = outlook.datastores["./contact"].items
    sif = parse(outlook.datastores["./contact"].items[luid], "text/x-s4j-sifc")
    assert isinstance(sif, SIFItem)
    sif.set("JobTitle", "Engineer")
    sif.set("Email1Address", "")  # cleared on the SIF side: stays cleared
    outlook.datastores["./contact"].update(luid, sif.serialize())
    run(server, outlook)
    run(server, evolution)
    (got,) = evolution.datastores["./addressbook"].items.values()
    assert b"TITLE:Engineer" in got
    for kept in (b"GEO:37.386013;-122.082932", b"d@example.com", b"IMPP:xmpp:jane@example.com"):
        assert got.count(kept) == 1, kept
    assert b"a@example.com" not in got


RICH_EVENT = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
              b"BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n"
              b"TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n"
              b"BEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n"
              b"RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"
              b"BEGIN:VEVENT\r\nUID:weekly-1\r\nSUMMARY:Standup\r\nDTSTART:20240101T100000Z\r\n"
              b"DTEND:20240101T103000Z\r\nRRULE:FREQ=WEEKLY;COUNT=5\r\nGEO:52.52;13.405\r\n"
              b"ATTACH:https://example.com/agenda.pdf\r\nCOMMENT:bring coffee\r\nRESOURCES:projector\r\nEND:VEVENT\r\n"
              b"BEGIN:VEVENT\r\nUID:weekly-1\r\nRECURRENCE-ID:20240108T100000Z\r\nSUMMARY:Standup (moved)\r\n"
              b"DTSTART;TZID=Europe/Berlin:20240108T140000\r\nDTEND;TZID=Europe/Berlin:20240108T143000\r\n"
              b"END:VEVENT\r\nEND:VCALENDAR\r\n")


def test_a_sif_event_edit_keeps_what_sif_cannot_hold(server, store):
    evolution = client("ical-client", "calendar", "text/calendar", "2.0")
    evolution.datastores["./calendar"].add(RICH_EVENT)
    run(server, evolution)
    outlook = client("sif-calendar", "calendar", "text/x-s4j-sife", "", remote="scal")
    run(server, outlook)
    (luid,) = outlook.datastores["./calendar"].items
    sif = parse(outlook.datastores["./calendar"].items[luid], "text/x-s4j-sife")
    assert isinstance(sif, SIFItem) and sif.get("Subject") == "Standup"
    sif.set("Subject", "Daily standup")
    outlook.datastores["./calendar"].update(luid, sif.serialize())
    run(server, outlook)
    run(server, evolution)
    (got,) = evolution.datastores["./calendar"].items.values()
    assert b"SUMMARY:Daily standup" in got
    for kept in (b"GEO:52.52;13.405", b"ATTACH:https://example.com/agenda.pdf", b"COMMENT:bring coffee",
                 b"RESOURCES:projector", b"RECURRENCE-ID:20240108T100000Z", b"SUMMARY:Standup (moved)",
                 b"TZID:Europe/Berlin"):
        assert got.count(kept) == 1, kept
    assert len(store.items("test", "Events")) == 1


def test_a_sif_client_slow_syncing_without_a_map_matches_items_richer_than_sif(server, store):
    evolution = client("ical-client", "calendar", "text/calendar", "2.0")
    evolution.datastores["./calendar"].add(RICH_EVENT)
    run(server, evolution)
    outlook = client("sif-calendar", "calendar", "text/x-s4j-sife", "", remote="scal")
    run(server, outlook)
    (data,) = outlook.datastores["./calendar"].items.values()
    fresh = client("sif-calendar-2", "calendar", "text/x-s4j-sife", "", remote="scal")  # a second SIF device
    fresh.datastores["./calendar"].add(data)
    run(server, fresh, 201)
    assert len(store.items("test", "Events")) == 1
    (stored,) = store.items("test", "Events")
    assert b"GEO:52.52;13.405" in stored.data and b"RECURRENCE-ID" in stored.data


def test_prefix_defaults_yield_to_devinf(server, store):
    """An old SyncEvolution ("sc-pim-<uuid>") sends DevInf: no SIF, no b64 for it."""
    store.add_item("test", "Contacts", b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Doe;John;;;\r\nFN:John Doe\r\nEND:VCARD\r\n",
                   "text/vcard")
    se = client("sc-pim-6a1ce1e2-4f0e-4a4b-9d53-1c0e2f1d7e11", "addressbook", "text/vcard", "3.0")
    _, answers = run(server, se)
    ((ctype, fmt, data),) = received(answers)
    assert (ctype, fmt) == ("text/vcard", None) and data.startswith(b"BEGIN:VCARD")
