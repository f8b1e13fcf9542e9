"""Issue 14, item 4 in the session: a client's SyncML 1.2 ``<Filter>`` (in its
Alert's Target, or its Sync's) decides which server items it gets and how
much of each, with our client session: record filters (CGI), field filters
(the item reduced; the client's edit keeps what it never saw), a date range
over a recurring event, a filter change (items leaving the window deleted on
the client only, those entering it added), INCLUSIVE fetches, 422 for an
expression that does not parse, 406 for an unknown grammar, and the
``Filter-Rx``/``FilterCap`` of our DevInf."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from syncml_codec.devinf import Property
from syncml_codec.engine import ClientSession, ClientStore, SyncServer
from syncml_codec.engine._devinf import server_devinf
from syncml_codec.engine._filtering import read_filter
from syncml_codec.filters import CGI, FILTER_RX, property_data
from syncml_codec.model import Field, Filter, Item, Message, Meta, Record, Sync
from syncml_codec.store import SQLiteStore

from .conftest import Clock
from .helpers import ab, device, vcard

FIELD_TYPE = "application/vnd.syncml-devinf+xml"


def cgi(expression: str | None, *props: str, inclusive: bool = False, grammar: str = CGI,
        ctype: str = "text/vcard") -> Filter[Any]:
    """A ``<Filter>`` as a client sends it."""
    record = None if expression is None else Record(item=Item(meta=Meta(type=grammar), data=expression))
    field = None
    if props:
        field = Field(item=Item(meta=Meta(type=FIELD_TYPE), data=tuple(property_data(Property(p)) for p in props)))
    return Filter(meta=Meta(type=ctype), record=record, field=field,
                  filter_type="INCLUSIVE" if inclusive else None)


Rewrite = Callable[[Message], Message]


def run(server: SyncServer, store: ClientStore, filters: dict[str, Filter[Any]] | None = None, *,
        rewrite: Rewrite | None = None, max_msg_size: int = 150000, encoding: str = "xml") -> ClientSession:
    """One session of ``store``; ``rewrite``: changes each client message before the server reads it."""
    session = ClientSession(store, url=server.base_url, user="test", password="secret", clock=Clock(),
                            encoding=encoding, filters=filters, max_msg_size=max_msg_size)
    request = session.start()
    for _ in range(60):
        sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
        body = request.body
        if rewrite is not None:
            body = rewrite(Message.from_bytes(body)).to_bytes(encoding)
        response = server.handle(body, request.content_type, sid)
        assert response.http_status == 200
        following = session.receive(response.body, response.content_type)
        if following is None:
            return session
        request = following
    raise AssertionError("the session did not end")


def seed(server: SyncServer, *numbers: int, datastore: str = "Contacts", note: str = "") -> dict[int, str]:
    """Contacts Doe<n> on the server (with a NOTE when ``note``); GUIDs by number."""
    return {n: server.store.add_item("test", datastore, vcard(n, note), "text/vcard").guid for n in numbers}


def names(items: dict[str, bytes]) -> list[str]:
    """The N of each contact the client holds, sorted."""
    return sorted(line.split(":", 1)[1].split(";")[0] for data in items.values()
                  for line in data.decode().splitlines() if line.startswith("N:"))


def server_names(server: SyncServer, datastore: str = "Contacts") -> list[str]:
    return names({i.guid: i.data for i in server.store.items("test", datastore)})


def kept(flt: Filter[Any]) -> bytes:
    """What the store keeps of ``flt``."""
    return read_filter(flt)[1]


def held(server: SyncServer, store: ClientStore, datastore: str = "Contacts") -> bytes | None:
    dev = server.store.find_device("test", store.device_id)
    assert dev is not None
    return server.store.device_filter(dev, datastore)


# -- record filters ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("expression", "expected"), [
    ("N&iCON;doe1&OR;N&iCON;doe3", ["Doe1", "Doe3"]),
    ("TEL&CON;555-0002", ["Doe2"]),
    ("FN&NE;John Doe2&AND;FN&NE;John Doe4", ["Doe1", "Doe3"]),
    ("NOTE&EQ;&NULL;", ["Doe1", "Doe2", "Doe3", "Doe4"]),
    ("FN&iEQ;john doe4", ["Doe4"]),
    ("N&CON;nobody", []),
])
def test_a_record_filter_sends_only_the_items_that_pass(server: SyncServer, expression: str,
                                                       expected: list[str]) -> None:
    seed(server, 1, 2, 3, 4)
    phone = device("phone")
    session = run(server, phone, {"./addressbook": cgi(expression)})
    assert session.ok and names(ab(phone)) == expected
    assert server_names(server) == ["Doe1", "Doe2", "Doe3", "Doe4"]  # the server keeps everything
    assert held(server, phone) == kept(cgi(expression))
    again = run(server, phone, {"./addressbook": cgi(expression)})  # the same filter: nothing moves
    assert again.ok and again.reports["./addressbook"].received == {} and names(ab(phone)) == expected


def test_a_new_item_the_client_sends_is_stored_whatever_the_filter(server: SyncServer) -> None:
    seed(server, 1, 2)
    phone = device("phone")
    flt = {"./addressbook": cgi("N&iCON;doe1")}
    assert run(server, phone, flt).ok and names(ab(phone)) == ["Doe1"]
    phone.datastores["./addressbook"].add(vcard(7))
    session = run(server, phone, flt)
    assert session.ok and session.reports["./addressbook"].received == {}
    assert server_names(server) == ["Doe1", "Doe2", "Doe7"] and names(ab(phone)) == ["Doe1", "Doe7"]


# -- field filters ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["xml", "wbxml"])
def test_a_field_filter_reduces_the_items_and_an_edit_keeps_the_rest(server: SyncServer, encoding: str) -> None:
    guids = seed(server, 1, 2, note="a long note the phone does not want")
    phone = device("phone")
    flt = {"./addressbook": cgi(None, "TEL")}
    assert run(server, phone, flt, encoding=encoding).ok
    assert names(ab(phone)) == ["Doe1", "Doe2"]
    assert all(b"NOTE" not in data and b"TEL" in data for data in ab(phone).values())
    # the phone changes the number of Doe1: the server takes it and keeps the NOTE the phone never had
    contacts = phone.datastores["./addressbook"]
    luid = next(luid for luid, data in ab(phone).items() if b"Doe1;" in data)
    contacts.update(luid, ab(phone)[luid].replace(b"+1-555-0001", b"+1-555-9999"))
    assert run(server, phone, flt, encoding=encoding).ok
    stored = server.store.get_item("test", "Contacts", guids[1])
    assert stored is not None and b"555-9999" in stored.data and b"a long note" in stored.data
    # a slow sync of the reduced items duplicates nothing
    contacts.last_anchor = None
    assert run(server, phone, flt, encoding=encoding).ok
    assert server_names(server) == ["Doe1", "Doe2"] and names(ab(phone)) == ["Doe1", "Doe2"]


# -- date ranges ------------------------------------------------------------------------------------------------

CAL = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n"
       "DTSTART:{start}\r\nDTEND:{end}\r\n{extra}SUMMARY:{uid}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def event(uid: str, start: str, end: str, extra: str = "") -> bytes:
    return CAL.format(uid=uid, start=start, end=end, extra=extra).encode()


def summaries(items: dict[str, bytes]) -> list[str]:
    return sorted(line.split(":", 1)[1] for data in items.values() for line in data.decode().splitlines()
                  if line.startswith("SUMMARY:"))


def test_a_date_range_counts_a_recurring_event_by_its_occurrences(server: SyncServer) -> None:
    for data in (event("in-march", "20240310T100000Z", "20240310T110000Z"),
                 event("in-january", "20240110T100000Z", "20240110T110000Z"),
                 event("weekly-since-january", "20240101T090000Z", "20240101T093000Z", "RRULE:FREQ=WEEKLY\r\n"),
                 event("weekly-ended-in-february", "20240102T090000Z", "20240102T093000Z",
                       "RRULE:FREQ=WEEKLY;UNTIL=20240220T000000Z\r\n")):
        server.store.add_item("test", "Events", data, "text/calendar")
    phone = ClientStore("test-cal")
    phone.add_datastore("./calendar", "calendar", "text/calendar", "2.0")
    march = "SINCE&EQ;20240301T000000Z&AND;BEFORE&EQ;20240401T000000Z"
    session = run(server, phone, {"./calendar": cgi(march, ctype="text/calendar")})
    assert session.ok
    assert summaries(phone.datastores["./calendar"].items) == ["in-march", "weekly-since-january"]


# -- a filter change --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["xml", "wbxml"])
def test_a_filter_change_deletes_on_the_client_only_and_adds_what_entered(server: SyncServer, encoding: str) -> None:
    seed(server, 1, 2, 3, 4)
    phone = device("phone")
    assert run(server, phone, {"./addressbook": cgi("N&iCON;doe1&OR;N&iCON;doe2")}, encoding=encoding).ok
    assert names(ab(phone)) == ["Doe1", "Doe2"]
    narrow = cgi("N&iCON;doe2&OR;N&iCON;doe3")
    session = run(server, phone, {"./addressbook": narrow}, encoding=encoding)
    assert session.ok and names(ab(phone)) == ["Doe2", "Doe3"]
    assert session.reports["./addressbook"].received == {"Delete": 1, "Add": 1}
    assert server_names(server) == ["Doe1", "Doe2", "Doe3", "Doe4"]  # nothing deleted on the server
    assert held(server, phone) == kept(narrow)
    # the filter dropped: everything enters the window, nothing is sent twice
    session = run(server, phone, encoding=encoding)
    assert session.ok and names(ab(phone)) == ["Doe1", "Doe2", "Doe3", "Doe4"]
    assert session.reports["./addressbook"].received == {"Add": 2} and held(server, phone) is None


def test_an_item_changed_on_the_server_out_of_the_window_leaves_the_client(server: SyncServer) -> None:
    guids = seed(server, 1, 2)
    phone = device("phone")
    flt = {"./addressbook": cgi("TEL&CON;+1-555")}
    assert run(server, phone, flt).ok and names(ab(phone)) == ["Doe1", "Doe2"]
    server.store.replace_item("test", "Contacts", guids[2], vcard(2).replace(b"+1-555", b"+49-30"), "text/vcard")
    session = run(server, phone, flt)
    assert session.ok and names(ab(phone)) == ["Doe1"]
    assert session.reports["./addressbook"].received == {"Delete": 1}
    assert server_names(server) == ["Doe1", "Doe2"]
    # back in the window: added again
    server.store.replace_item("test", "Contacts", guids[2], vcard(2), "text/vcard")
    session = run(server, phone, flt)
    assert session.ok and names(ab(phone)) == ["Doe1", "Doe2"] and session.reports["./addressbook"].received == {
        "Add": 1}


def test_an_inclusive_filter_adds_and_is_not_kept(server: SyncServer) -> None:
    seed(server, 1, 2, 3)
    phone = device("phone")
    window = cgi("N&iCON;doe1")
    assert run(server, phone, {"./addressbook": window}).ok and names(ab(phone)) == ["Doe1"]
    session = run(server, phone, {"./addressbook": cgi("N&iCON;doe3", inclusive=True)})
    assert session.ok and names(ab(phone)) == ["Doe1", "Doe3"]
    assert session.reports["./addressbook"].received == {"Add": 1}
    # (on top of the window the device holds, which a session with only an INCLUSIVE filter keeps: Doe2 stays out)
    assert held(server, phone) == kept(window)


def test_an_inclusive_fetch_by_luid_sends_a_reduced_item_whole(server: SyncServer) -> None:
    seed(server, 1, 2, note="the rest of it")
    phone = device("phone")
    window = cgi(None, "TEL")
    assert run(server, phone, {"./addressbook": window}).ok
    assert all(b"NOTE" not in data for data in ab(phone).values())
    luid = next(luid for luid, data in ab(phone).items() if b"Doe2;" in data)
    session = run(server, phone, {"./addressbook": cgi(f"&LUID;&EQ;{luid}", inclusive=True)})
    assert session.ok and session.reports["./addressbook"].received == {"Replace": 1}
    assert b"NOTE:the rest of it" in ab(phone)[luid] and len(ab(phone)) == 2
    assert held(server, phone) == kept(window)


# -- the filter in the Sync's Target (package 3) ----------------------------------------------------------------


def sync_filter(flt: Filter[Any]) -> Rewrite:
    def rewrite(msg: Message) -> Message:
        assert msg.body is not None
        commands = tuple(dataclasses.replace(c, target=dataclasses.replace(c.target, filter=flt))
                         if isinstance(c, Sync) and c.target is not None else c for c in msg.body.commands)
        return msg.replace(body=dataclasses.replace(msg.body, commands=commands))
    return rewrite


@pytest.mark.parametrize("encoding", ["xml", "wbxml"])
def test_a_filter_in_the_sync_target_replaces_the_alerts(server: SyncServer, encoding: str) -> None:
    seed(server, 1, 2, 3)
    phone = device("phone")
    session = run(server, phone, {"./addressbook": cgi("N&iCON;doe1", "TEL")},
                  rewrite=sync_filter(cgi("N&iCON;doe2")), encoding=encoding)
    assert session.ok and names(ab(phone)) == ["Doe2"]
    assert held(server, phone) == kept(cgi("N&iCON;doe2"))


def test_a_bad_filter_in_the_sync_target_fails_the_sync_and_its_changes(server: SyncServer,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    seed(server, 1)
    phone = device("phone")
    assert run(server, phone).ok
    phone.datastores["./addressbook"].add(vcard(5))
    with caplog.at_level(logging.WARNING, logger="syncml_codec.engine"):
        session = run(server, phone, rewrite=sync_filter(cgi("N&XX;a")))
    assert session.reports["./addressbook"].statuses == [422]
    assert server_names(server) == ["Doe1"]  # the change was not carried out: the client keeps it
    assert phone.datastores["./addressbook"].changes
    assert "Sync filter of Contacts refused (422)" in caplog.text


# -- refusals ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("flt", "status", "logged"), [
    (cgi("N&iCON;doe1&AND;"), 422, "at position 16"),
    (cgi("N&XX;doe"), 422, "at position"),
    (cgi("(N&EQ;a"), 422, "at position"),
    (cgi("N&EQ;a", grammar="syncml:filtertype-xpath"), 406, "not supported"),
    (dataclasses.replace(cgi("N&EQ;a"), filter_type="SOMETIMES"), 422, "FilterType"),
    (cgi("N&EQ;" + "a" * 9000), 422, "refused (422)"),  # hostile sizes: bounded, refused
    (cgi(None, *(f"X-P{n}" for n in range(300))), 422, "more than 256 properties"),
])
def test_a_bad_filter_fails_its_alert_and_no_other_datastore(server: SyncServer, caplog: pytest.LogCaptureFixture,
                                                            flt: Filter[Any], status: int, logged: str) -> None:
    seed(server, 1)
    server.store.add_item("test", "Events", event("e", "20240310T100000Z", "20240310T110000Z"), "text/calendar")
    phone = device("phone")
    phone.add_datastore("./calendar", "calendar", "text/calendar", "2.0")
    with caplog.at_level(logging.WARNING, logger="syncml_codec.engine"):
        session = run(server, phone, {"./addressbook": flt})
    assert session.ok
    assert session.reports["./addressbook"].alert_status == status and ab(phone) == {}
    assert session.reports["./calendar"].alert_status == 200 or session.reports["./calendar"].alert_status == 508
    assert summaries(phone.datastores["./calendar"].items) == ["e"]
    assert "Alert filter of Contacts refused" in caplog.text and logged in caplog.text
    assert held(server, phone) is None


# -- DevInf -----------------------------------------------------------------------------------------------------


def test_our_devinf_advertises_the_filters(server: SyncServer) -> None:
    devinf = server_devinf("srv")
    for ds in devinf.datastores:  # (Files too, since issue 14's "wire": a small MaxMsgSize gets less)
        assert ds.filter_rx == (FILTER_RX,) and ds.filter_caps, ds.source_ref
    contacts = next(ds for ds in devinf.datastores if ds.source_ref == "Contacts")
    assert {cap.ct_type for cap in contacts.filter_caps} >= {"text/vcard", "text/x-vcard"}
    events = next(ds for ds in devinf.datastores if ds.source_ref == "Events")
    assert all("SINCE" in cap.keywords for cap in events.filter_caps)
    assert all(not ds.filter_rx and not ds.filter_caps for ds in server_devinf("srv", version="1.1").datastores)
    phone = device("phone")  # and a client gets it in the session
    assert run(server, phone).ok and phone.server_devinf is not None
    assert all(ds.filter_rx == (FILTER_RX,) for ds in phone.server_devinf.datastores)


def test_a_session_with_a_filter_survives_persisting_between_messages(tmp_path: Any) -> None:
    """The server on a file store, a small MaxMsgSize: the session state (with its filter) is
    saved and read back between the messages of package 4."""
    store = SQLiteStore(tmp_path / "s.db")
    store.add_user("test", "secret")
    server = SyncServer(store, clock=Clock(), base_url="http://127.0.0.1:8080/sync")
    for n in range(1, 31):
        store.add_item("test", "Contacts", vcard(n, "x" * 200), "text/vcard")
    phone = device("phone")
    session = run(server, phone, {"./addressbook": cgi("N&CON;Doe1", "TEL")}, max_msg_size=2500)
    assert session.ok and session.msg_id > 4
    assert names(ab(phone)) == sorted(["Doe1", *(f"Doe{n}" for n in range(10, 20))])
    assert all(b"NOTE" not in data for data in ab(phone).values())
