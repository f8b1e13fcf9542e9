"""Capability queries and server/client negotiation, against SyncEvolution's
real datastores."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncml_codec.devinf import (
    Capabilities,
    ContentType,
    CTCap,
    DataStore,
    DevInf,
    Negotiation,
    Property,
    PropParam,
    negotiate,
)

from ..conftest import corpus_path
from .samples import FIRST_REQUESTS, combo, devinfs, rel

VCARD30, VCARD21 = ContentType("text/vcard", "3.0"), ContentType("text/x-vcard", "2.1")
ICAL20, VCAL10 = ContentType("text/calendar", "2.0"), ContentType("text/x-vcalendar", "1.0")


def _vcard(version: str) -> tuple[Property, ...]:
    return (
        Property("BEGIN", values=("VCARD",)), Property("END", values=("VCARD",)),
        Property("VERSION", values=(version,)), Property("N", max_size=100), Property("FN"),
        Property("TEL", params=(PropParam("TYPE", values=("HOME", "WORK", "CELL", "FAX")),)),
        Property("EMAIL"), Property("NOTE", max_size=4000), Property("LABEL"), Property("SORT-STRING"),
        Property("X-SERVER-ONLY"),
    )


def _calendar(version: str) -> tuple[Property, ...]:
    return (Property("BEGIN", values=("VCALENDAR", "VEVENT", "VTODO")), Property("VERSION", values=(version,)),
            Property("DTSTART"), Property("SUMMARY", max_size=255), Property("X-MICROSOFT-CDO-BUSYSTATUS"),
            Property("COMMENT"))


def server_devinf() -> DevInf:
    """A server built with the toolkit: vCard 2.1 and 3.0, vCalendar 1.0 and
    iCalendar 2.0, preferring 3.0 and 2.0."""
    contacts = DataStore(
        "./contacts", rx_pref=(VCARD30,), rx=(VCARD21,), tx_pref=(VCARD30,), tx=(VCARD21,),
        ctcaps=(CTCap("text/vcard", "3.0", properties=_vcard("3.0")),
                CTCap("text/x-vcard", "2.1", properties=_vcard("2.1"))),
        sync_types=(1, 2, 3, 4, 5, 6, 7))
    calendar = DataStore(
        "./calendar", rx_pref=(ICAL20,), rx=(VCAL10,), tx_pref=(ICAL20,), tx=(VCAL10,),
        ctcaps=(CTCap("text/calendar", "2.0", properties=_calendar("2.0")),
                CTCap("text/x-vcalendar", "1.0", properties=_calendar("1.0"))),
        sync_types=(1, 2, 3, 4, 5, 6, 7))
    return DevInf(dev_id="syncml-codec-test-server", dev_typ="server", man="syncml-codec", utc=True,
                  support_large_objs=True, support_number_of_changes=True, datastores=(contacts, calendar))


EXPECTED = {
    "addressbook-vcard30": ("./contacts", "text/vcard 3.0", ("LABEL", "SORT-STRING")),
    "addressbook-vcard21": ("./contacts", "text/x-vcard 2.1", ("LABEL", "SORT-STRING")),
    # the calendar CTCaps have no X-* wildcard
    "calendar-ical20": ("./calendar", "text/calendar 2.0", ("X-MICROSOFT-CDO-BUSYSTATUS", "COMMENT")),
    "calendar-vcal10": ("./calendar", "text/x-vcalendar 1.0", ("X-MICROSOFT-CDO-BUSYSTATUS", "COMMENT")),
    "todo-ical20": ("./calendar", "text/calendar 2.0", ("X-MICROSOFT-CDO-BUSYSTATUS", "COMMENT")),
    "todo-vcal10": ("./calendar", "text/x-vcalendar 1.0", ("X-MICROSOFT-CDO-BUSYSTATUS", "COMMENT")),
}
NEGOTIATED = [p for p in FIRST_REQUESTS if any(k in p.name for k in EXPECTED)]


@pytest.mark.parametrize("path", NEGOTIATED, ids=rel)
def test_syncevolution_clients_against_our_server(path: Path):
    """vCard 3.0 / iCalendar 2.0 for the clients that want them, vCard 2.1 /
    vCalendar 1.0 for the others, both ways.  The client drops what its
    CTCap lacks; X-* in its vCard CTCap keeps the server's X- properties."""
    [client] = devinfs(path)
    key = next(k for k in EXPECTED if k in path.name)
    ref, chosen, dropped = EXPECTED[key]
    server = server_devinf().to_bytes()  # a server sends its DevInf as bytes too
    store = DevInf.from_bytes(server).datastore(ref)
    assert store is not None
    result = negotiate(store, client.datastores[0])
    assert str(result.to_client) == chosen == str(result.to_server)
    assert result.to_client is not None and result.to_client.ct_type == combo(path)["format"]
    assert result.dropped == dropped


def test_syncevolution_client_against_syncevolution_server():
    """The real pair: SyncEvolution's server keeps everything its client sends."""
    [server] = devinfs(corpus_path("syncevolution", "sessions", "wbxml-addressbook-vcard21-md5", "1-a-first-sync",
                                   "001-response.wbxml"))
    for name, ref, chosen in [("addressbook-vcard21", "addressbook", "text/x-vcard 2.1"),
                              ("addressbook-vcard30", "addressbook", "text/vcard 3.0"),
                              ("calendar-vcal10", "calendar", "text/x-vcalendar 1.0"),
                              ("todo-ical20", "todo", "text/calendar 2.0"),
                              ("memo-plain", "memo", "text/plain 1.0")]:
        [client] = devinfs(corpus_path("syncevolution", "first-request", f"xml-{name}-md5.xml"))
        store = server.datastore(ref)
        assert store is not None
        result = negotiate(store, client.datastores[0])
        assert (str(result.to_client), str(result.to_server), result.dropped) == (chosen, chosen, ())


def test_devinf_11_devices_use_their_devinf_level_ctcaps():
    """libwbxml's 1.1 phone (011, prefers vCard 3.0) and 1.1 server (004,
    prefers vCard 2.1, CTCaps for both)."""
    server = devinfs(corpus_path("libwbxml", "syncml", "syncml-004.xml"))[0]
    phone = DevInf.from_bytes(corpus_path("libwbxml", "syncml", "syncml-011.xml").read_bytes())
    s, c = server.datastores[0], phone.datastores[0]
    result = negotiate(s, c, server_ctcaps=server.ctcaps_for(s), client_ctcaps=phone.ctcaps_for(c))
    assert result == Negotiation(VCARD30, VCARD30, ())
    # the 003 phone only does vCard 2.1, with fewer TEL parameters than the server
    old = devinfs(corpus_path("libwbxml", "syncml", "syncml-003.xml"))[0]
    result = negotiate(s, old.datastores[0], server_ctcaps=server.ctcaps_for(s),
                       client_ctcaps=old.ctcaps_for(old.datastores[0]))
    assert result == Negotiation(VCARD21, VCARD21, ())


def test_negotiation_rules():
    server = server_devinf().datastores[0]
    # the client's order decides, within what the server offers
    client = DataStore("./c", rx_pref=(ContentType("text/x-vcard", "2.1"),), rx=(VCARD30,),
                       tx_pref=(VCARD30,), tx=(VCARD21,))
    assert negotiate(server, client) == Negotiation(VCARD21, VCARD30, ())
    # the version matters; the type's case and blanks do not
    client = DataStore("./c", rx_pref=(ContentType("text/vcard", "2.1"),), rx=(ContentType(" TEXT/VCARD", "3.0"),))
    assert negotiate(server, client) == Negotiation(ContentType("TEXT/VCARD", "3.0"), None, ())
    # a missing version matches any
    client = DataStore("./c", rx_pref=(ContentType("text/x-vcard"),))
    assert negotiate(server, client).to_client == VCARD21
    # nothing in common
    client = DataStore("./c", rx_pref=(ContentType("text/plain", "1.0"),), tx_pref=(ContentType("text/plain", "1.0"),))
    assert negotiate(server, client) == Negotiation(None, None, ())
    # the server's CTCaps may come from elsewhere; a client without CTCap drops nothing
    client = DataStore("./c", rx_pref=(VCARD30,),
                       ctcaps=(CTCap("text/vcard", "3.0", properties=(Property("N"), Property("TEL"))),))
    assert negotiate(server, client).dropped == (
        "BEGIN", "END", "VERSION", "FN", "EMAIL", "NOTE", "LABEL", "SORT-STRING", "X-SERVER-ONLY")
    assert negotiate(server, client, server_ctcaps=()).dropped == ()
    assert negotiate(server, client, client_ctcaps=()).dropped == ()


def test_capability_queries_on_syncevolution_devinf():
    [devinf] = devinfs(corpus_path("syncevolution", "first-request", "wbxml-calendar-ical20-md5.wbxml"))
    caps = Capabilities.of(devinf.datastores[0])
    assert caps.preferred_rx == ICAL20 and caps.preferred_tx == ICAL20
    assert list(caps.types) == [("text/calendar", "2.0")]
    assert caps.supports("text/calendar", "2.0", "DTSTART")
    assert caps.supports("TEXT/CALENDAR", None, "attendee", "partstat", "accepted")
    assert not caps.supports("text/calendar", "2.0", "ATTENDEE", "PARTSTAT", "MAYBE")
    assert caps.supports("text/calendar", "2.0", "ATTENDEE", "CN", "anything")  # no ValEnum: any value
    assert not caps.supports("text/calendar", "2.0", "ATTENDEE", "SENT-BY")
    assert caps.supports("text/calendar", "2.0", "BEGIN", value="VTODO")
    assert not caps.supports("text/calendar", "2.0", "BEGIN", value="VCARD")
    assert not caps.supports("text/calendar", "2.0", "NO-SUCH-PROPERTY")
    assert caps.supports("text/calendar", "2.0", "X-ANYTHING") is False  # no X-* in the calendar CTCap
    assert caps.values("text/calendar", "2.0", "TRIGGER", "RELATED") == ("START", "END")
    assert caps.max_size("text/calendar", "2.0", "SUMMARY") is None
    # a type without CTCap: only whether the datastore handles it
    assert not caps.supports("text/x-vcalendar", "1.0", "DTSTART")
    assert caps.properties("text/calendar", "1.0") is None


def test_capability_queries_with_sizes_wildcards_and_flat_ctcaps():
    store = server_devinf().datastores[0]
    caps = Capabilities.of(store)
    assert caps.max_size("text/vcard", "3.0", "note") == 4000
    assert caps.max_size("text/vcard", "3.0", "TEL") is None
    assert caps.supports("text/vcard", "3.0", "tel", "type", "cell")
    [client] = devinfs(corpus_path("syncevolution", "first-request", "xml-addressbook-vcard30-md5.xml"))
    theirs = Capabilities.of(client.datastores[0])
    assert theirs.supports("text/vcard", "3.0", "X-SERVER-ONLY")  # covered by X-*
    assert theirs.supports("text/vcard", "3.0", "TEL", "TYPE", "X-EVOLUTION-TTYTDD")
    # 1.1: the DevInf-level CTCaps, versions taken from the datastore's Rx/Tx
    phone = DevInf.from_bytes(corpus_path("libwbxml", "syncml", "syncml-011.xml").read_bytes())
    ds = phone.datastores[0]
    caps = Capabilities.of(ds, phone.ctcaps_for(ds))
    assert list(caps.types) == [("text/x-vcard", "2.1"), ("text/vcard", "3.0")]
    assert caps.supports("text/vcard", "3.0", "TEL", "FAX")
    assert caps.values("text/x-vcard", "2.1", "VERSION") == ("2.1",)
    assert Capabilities.of(ds).types == {}  # without the DevInf-level CTCaps nothing is known
    assert Capabilities.of(ds).supports("text/vcard", "3.0", "ANYTHING")
