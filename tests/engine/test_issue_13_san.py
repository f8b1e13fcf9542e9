"""Issue 13: a client answering a server's notification alerts 206-210
(buteo-syncml does): the engine carries each out as the mode it names, and
our DevInf advertises exactly the SyncCaps the engine performs."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import pytest

from syncml_codec.codec import Notification, SyncAlert
from syncml_codec.devinf import DevInf
from syncml_codec.engine import ClientSession, ClientStore, SyncServer
from syncml_codec.engine._devinf import SYNC_CAPS, performed_sync_caps, server_devinf
from syncml_codec.engine._push import notification_for
from syncml_codec.engine._sync import BY_SERVER, SUPPORTED
from syncml_codec.model import AlertCode
from syncml_codec.store import SQLiteStore

from .conftest import Clock
from .helpers import ab, device, sync, vcard


def _sync_at(server: SyncServer, store: ClientStore, url: str) -> ClientSession:
    """A session of ``store`` whose sync URL is ``url`` (its parameters in the
    SyncHdr Target; the HTTP front would pass the query string too)."""
    session = ClientSession(store, url=url, user="test", password="secret", clock=Clock())
    request = session.start()
    for _ in range(20):
        query = urlsplit(request.url).query
        sid = parse_qs(query).get("sessionid", [None])[0]
        response = server.handle(request.body, request.content_type, sid, query=query)
        next_request = session.receive(response.body, response.content_type)
        if next_request is None:
            return session
        request = next_request
    raise AssertionError("the session did not end")


def _server_names(store: SQLiteStore) -> list[bytes]:
    return sorted(i.data for i in store.items("test", "Contacts"))


def _two_synced(server: SyncServer):  # type: ignore[no-untyped-def]
    a, b = device("a"), device("b")
    a.datastores["./addressbook"].add(vcard(1))
    assert sync(server, a).ok and sync(server, b).ok
    return a, b


def test_206_two_way_by_server(server: SyncServer, store: SQLiteStore, caplog: pytest.LogCaptureFixture) -> None:
    a, b = _two_synced(server)
    a.datastores["./addressbook"].add(vcard(2))
    assert sync(server, a).ok
    b.datastores["./addressbook"].add(vcard(3))
    with caplog.at_level(logging.INFO, logger="syncml_codec.engine"):
        s = sync(server, b, 206)
    report = s.reports["./addressbook"]
    assert s.ok and report.requested == 206 and report.mode == 200 and report.alert_status == 200
    assert report.sent == {"Add": 1} and report.received == {"Add": 1}
    assert len(_server_names(store)) == 3 and len(ab(b)) == 3
    assert "Contacts answers a server alert: 206 carried out as 200" in caplog.text


def test_207_one_way_from_client_by_server(server: SyncServer, store: SQLiteStore) -> None:
    a, b = _two_synced(server)
    a.datastores["./addressbook"].add(vcard(2))
    assert sync(server, a).ok
    b.datastores["./addressbook"].add(vcard(3))
    s = sync(server, b, 207)
    report = s.reports["./addressbook"]
    assert s.ok and report.mode == 202 and report.sent == {"Add": 1} and report.received == {}
    assert len(_server_names(store)) == 3 and len(ab(b)) == 2


def test_208_refresh_from_client_by_server(server: SyncServer, store: SQLiteStore) -> None:
    a, b = _two_synced(server)
    a.datastores["./addressbook"].add(vcard(2))
    assert sync(server, a).ok
    b.datastores["./addressbook"].add(vcard(3))
    s = sync(server, b, 208)
    report = s.reports["./addressbook"]
    assert s.ok and report.mode == 203 and report.received == {}
    # the server is the client's copy now: vcard 2 (only on the server) is gone
    assert _server_names(store) == sorted(ab(b).values()) and len(ab(b)) == 2


def test_209_one_way_from_server_by_server(server: SyncServer, store: SQLiteStore) -> None:
    a, b = _two_synced(server)
    a.datastores["./addressbook"].add(vcard(2))
    assert sync(server, a).ok
    b.datastores["./addressbook"].add(vcard(3))
    s = sync(server, b, 209)
    report = s.reports["./addressbook"]
    assert s.ok and report.mode == 204 and report.received == {"Add": 1} and report.sent == {}
    assert len(_server_names(store)) == 2 and len(ab(b)) == 3


def test_210_refresh_from_server_by_server(server: SyncServer, store: SQLiteStore) -> None:
    a, b = _two_synced(server)
    a.datastores["./addressbook"].add(vcard(2))
    assert sync(server, a).ok
    b.datastores["./addressbook"].add(vcard(3))  # lost: the server's data replaces the client's
    s = sync(server, b, 210)
    report = s.reports["./addressbook"]
    assert s.ok and report.mode == 205 and report.received == {"Add": 2}
    assert sorted(ab(b).values()) == _server_names(store) and len(ab(b)) == 2


def test_a_refresh_by_server_needs_no_anchors(server: SyncServer, store: SQLiteStore) -> None:
    a = device("a")
    a.datastores["./addressbook"].add(vcard(1))
    assert sync(server, a).ok
    fresh = device("fresh")
    s = sync(server, fresh, 210)
    assert s.ok and s.reports["./addressbook"].requested == 210 and s.reports["./addressbook"].mode == 205
    assert len(ab(fresh)) == 1


def test_206_with_stale_anchors_is_a_slow_sync(server: SyncServer, store: SQLiteStore) -> None:
    _, b = _two_synced(server)
    b.datastores["./addressbook"].last_anchor = "stale"
    s = sync(server, b, 206)
    report = s.reports["./addressbook"]
    assert s.ok and report.alert_status == 508 and report.mode == 201
    assert len(_server_names(store)) == 1 and len(ab(b)) == 1


def test_every_server_alerted_code_is_performed() -> None:
    assert set(BY_SERVER) == set(range(206, 211))
    assert all(mode in SUPPORTED for mode in BY_SERVER.values())
    assert {int(BY_SERVER[c]) - 200 for c in BY_SERVER} == {0, 2, 3, 4, 5}  # 206->200 ... 210->205


def test_devinf_advertises_the_sync_caps_performed(server: SyncServer) -> None:
    caps = performed_sync_caps()
    assert caps == tuple(sorted({SYNC_CAPS[c] for c in (*SUPPORTED, *BY_SERVER)}))
    assert caps == (1, 2, 3, 4, 5, 6, 7)
    for ds in server_devinf("server").datastores:
        assert ds.sync_types == caps
    # what a client gets for its Get of our DevInf
    b = device("b")
    s = sync(server, b)
    assert s.ok and isinstance(b.server_devinf, DevInf)
    assert all(ds.sync_types == caps for ds in b.server_devinf.datastores)
    assert AlertCode.TWO_WAY_BY_SERVER in BY_SERVER


def test_push_registers_the_device_when_its_session_completes(make_server, store: SQLiteStore,  # type: ignore[no-untyped-def]
                                                               caplog: pytest.LogCaptureFixture) -> None:
    server = make_server()
    a = device("a")
    a.datastores["./addressbook"].add(vcard(1))
    assert sync(server, a).ok
    phone = store.device("test", "test-a")
    assert store.push_targets(phone) == []  # no push parameter: nothing registered
    with caplog.at_level(logging.INFO, logger="syncml_codec.engine"):
        assert _sync_at(server, a, "http://127.0.0.1:8080/sync?push").ok
    (target,) = store.push_targets(phone)
    assert (target.datastore, target.server_id, target.server_uri) == ("Contacts", "http://127.0.0.1:8080/sync",
                                                                       "addressbook")
    assert "registered for server-alerted sync" in caplog.text
    # what syncml push makes of it: a notification the device reads back
    wire = notification_for([target], 210, content_types={"Contacts": "text/x-vcard"}).to_bytes("pw", "nonce")
    n = Notification.from_bytes(wire)
    assert n.server_id == "http://127.0.0.1:8080/sync"
    assert n.alerts == (SyncAlert(210, "addressbook", "text/x-vcard", 7),)
    assert n.verify("pw", "nonce")


def test_a_server_id_too_long_for_a_notification_is_not_registered(make_server, store: SQLiteStore,  # type: ignore[no-untyped-def]
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    server = make_server()
    a = device("a")
    with caplog.at_level(logging.WARNING, logger="syncml_codec.engine"):
        assert _sync_at(server, a, "http://127.0.0.1:8080/" + "x" * 300 + "?push").ok
    assert store.push_targets(store.device("test", "test-a")) == []
    assert "push not registered" in caplog.text


def test_a_client_answers_the_notification_the_server_made(make_server, store: SQLiteStore) -> None:  # type: ignore[no-untyped-def]
    """The whole loop: registered with push, notified, the client runs what the notification says."""
    server = make_server()
    a, b = device("a"), device("b")
    a.datastores["./addressbook"].add(vcard(1))
    assert sync(server, a).ok
    assert _sync_at(server, b, "http://127.0.0.1:8080/sync?push").ok
    a.datastores["./addressbook"].add(vcard(2))
    assert sync(server, a).ok
    targets = store.push_targets(store.device("test", "test-b"))
    wire = notification_for(targets, 206).to_bytes("", "")
    # the device: read it, check it, and alert each datastore it names with its sync type
    n = Notification.from_bytes(wire)
    assert n.verify("", "")
    modes = {uri: alert.sync_type for alert in n.alerts
             for uri, ds in b.datastores.items() if ds.remote_uri == alert.server_uri}
    assert modes == {"./addressbook": 206}
    session = ClientSession(b, url=n.server_id, user="test", password="secret", clock=Clock(), modes=modes)
    request = session.start()
    while request is not None:
        query = urlsplit(request.url).query
        response = server.handle(request.body, request.content_type, parse_qs(query).get("sessionid", [None])[0])
        request = session.receive(response.body, response.content_type)
    report = session.reports["./addressbook"]
    assert session.ok and report.requested == 206 and report.mode == 200 and report.received == {"Add": 1}
    assert len(ab(b)) == 2
