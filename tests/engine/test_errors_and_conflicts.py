"""Error paths (bad anchors, unknown datastore, bad credentials, malformed
messages, store failures, duplicate Map, resent messages) and the
conflict policies, client session against server session in memory."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest

from syncml_codec.engine import ClientSession, ClientStore, SyncServer
from syncml_codec.model import Map, Message, Status
from syncml_codec.store import SQLiteStore

from .conftest import Clock
from .helpers import ab, device, prime, sync, vcard


def sid_of(url: str) -> str | None:
    return parse_qs(urlsplit(url).query).get("sessionid", [None])[0]


def test_bad_anchors_give_508_and_a_slow_sync_without_duplicates(server: SyncServer, store: SQLiteStore) -> None:
    a = device("a")
    for n in (1, 2):
        a.datastores["./addressbook"].add(vcard(n))
    assert sync(server, a).ok
    a.datastores["./addressbook"].last_anchor = "not-what-the-server-has"
    s = sync(server, a)
    report = s.reports["./addressbook"]
    assert s.ok and report.alert_status == 508 and report.mode == 201
    assert len(store.items("test", "Contacts")) == 2 and len(ab(a)) == 2
    s = sync(server, a)  # anchors agree again
    assert s.ok and s.reports["./addressbook"].alert_status == 200 and s.reports["./addressbook"].mode == 200


def test_unknown_datastore_is_404_and_the_others_sync(server: SyncServer, store: SQLiteStore) -> None:
    a = device("a")
    a.add_datastore("./mail", "mail", "message/rfc822")
    a.datastores["./addressbook"].add(vcard(1))
    a.datastores["./mail"].add(b"Subject: hi\r\n\r\nbody\r\n")
    s = sync(server, a)
    assert s.ok
    assert s.reports["./mail"].alert_status == 404 and s.reports["./addressbook"].alert_status == 200
    assert len(store.items("test", "Contacts")) == 1
    assert a.datastores["./mail"].last_anchor is None and a.datastores["./addressbook"].last_anchor


@pytest.mark.parametrize("auth_type", ["md5", "basic"])
def test_bad_credentials_are_401_and_change_nothing(server: SyncServer, store: SQLiteStore, auth_type: str) -> None:
    a = device("a")
    a.datastores["./addressbook"].add(vcard(1))
    s = sync(server, a, password="wrong", auth_type=auth_type)
    assert not s.ok and s.header_status == 401 and "authentication" in (s.error or "")
    assert store.items("test", "Contacts") == [] and server.sessions == {}
    dev = store.device("test", "test-a")
    assert dev.devinf is None and store.anchors(dev, "Contacts").client_last is None
    assert a.datastores["./addressbook"].changes  # still to be sent
    assert sync(server, a, auth_type=auth_type).ok  # the right password works afterwards
    assert len(store.items("test", "Contacts")) == 1


def test_unknown_user_is_401(server: SyncServer, store: SQLiteStore) -> None:
    a = device("a")
    s = ClientSession(a, url=server.base_url, user="nobody", password="x", clock=Clock())
    reply = Message.from_bytes(server.handle(s.start().body, "application/vnd.syncml+wbxml", None).body)
    assert [c.data for c in reply.commands] == ["401"] and store.users() == ["test"]


def test_missing_credentials_are_407(server: SyncServer) -> None:
    a = device("a")
    s = ClientSession(a, url=server.base_url, user="test", password="secret", clock=Clock(), encoding="xml")
    msg = Message.from_bytes(s.start().body)
    body = msg.replace(header=dataclasses.replace(msg.header, cred=None)).to_bytes("xml")
    reply = Message.from_bytes(server.handle(body, "application/vnd.syncml+xml", None).body)
    (status,) = reply.commands
    assert status.data == "407" and status.chal is not None


@pytest.mark.parametrize("body", [b"", b"garbage", b"<html><body>no</body></html>", b"\x03\x01\x6a\x00\x45"])
def test_unreadable_bodies_get_http_400(server: SyncServer, body: bytes) -> None:
    response = server.handle(body, "application/vnd.syncml+xml", None)
    assert response.http_status == 400 and response.content_type.startswith("text/plain")
    assert response.body and server.sessions == {}


def _xml_session(server: SyncServer) -> tuple[ClientSession, Message, str | None]:
    a = prime(server, device("a"))
    a.datastores["./addressbook"].add(vcard(1))
    s = ClientSession(a, url=server.base_url, user="test", password="secret", clock=Clock(), encoding="xml")
    first = server.handle(s.start().body, "application/vnd.syncml+xml", None)
    request = s.receive(first.body)
    assert request is not None
    return s, Message.from_bytes(request.body), first.session_id


def test_invalid_syncml_gets_status_400_for_the_bad_command(server: SyncServer, store: SQLiteStore) -> None:
    _, msg, sid = _xml_session(server)
    body = msg.to_bytes("xml").replace(b"<Data><![CDATA[", b"<Dota><![CDATA[").replace(b"]]></Data>", b"]]></Dota>")
    assert b"<Dota>" in body
    response = server.handle(body, "application/vnd.syncml+xml", sid)
    assert response.http_status == 200
    reply = Message.from_bytes(response.body)
    by_cmd = {c.cmd: c.data for c in reply.commands if isinstance(c, Status)}
    assert by_cmd["SyncHdr"] == "200" and by_cmd["Replace"] == "400"
    assert store.items("test", "Contacts") == []


def test_store_failure_is_500_and_rolls_back(make_server: Callable[..., SyncServer], store: SQLiteStore,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    server = make_server()
    _, msg, sid = _xml_session(server)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "add_item", broken)
    reply = Message.from_bytes(server.handle(msg.to_bytes("xml"), "application/vnd.syncml+xml", sid).body)
    (status,) = reply.commands
    assert (status.cmd, status.data) == ("SyncHdr", "500") and reply.final
    monkeypatch.undo()
    assert store.items("test", "Contacts") == [] and server.active_sessions() == []
    dev = store.device("test", "test-a")
    assert store.anchors(dev, "Contacts").client_last is None


def test_resent_message_gets_the_same_answer(server: SyncServer, store: SQLiteStore) -> None:
    _, msg, sid = _xml_session(server)
    body = msg.to_bytes("xml")
    first = server.handle(body, "application/vnd.syncml+xml", sid)
    again = server.handle(body, "application/vnd.syncml+xml", sid)
    assert Message.from_bytes(first.body) == Message.from_bytes(again.body)
    assert len(store.items("test", "Contacts")) == 1


def test_duplicate_map_is_harmless(server: SyncServer, store: SQLiteStore) -> None:
    a, b = device("a"), device("b")
    for n in (1, 2):
        a.datastores["./addressbook"].add(vcard(n))
    assert sync(server, a).ok
    s = ClientSession(b, url=server.base_url, user="test", password="secret", clock=Clock())
    request = s.start()
    while request is not None:
        msg = Message.from_bytes(request.body)
        maps = [c for c in msg.commands if isinstance(c, Map)]
        if maps:  # send every Map twice
            extra = dataclasses.replace(maps[0], cmd_id="99")
            request = dataclasses.replace(request, body=msg.replace(
                body=dataclasses.replace(msg.body, commands=(*msg.commands, extra))).to_bytes("wbxml"))
        response = server.handle(request.body, request.content_type, sid_of(request.url))
        if maps:
            statuses = [c for c in Message.from_bytes(response.body).commands
                        if isinstance(c, Status) and c.cmd == "Map"]
            assert [st.data for st in statuses] == ["200", "200"]
        request = s.receive(response.body)
    assert s.ok
    dev = store.device("test", "test-b")
    assert len(store.map_entries(dev, "Contacts")) == 2
    assert sync(server, b).reports["./addressbook"].received == {}


def _conflict(server: SyncServer) -> tuple[ClientStore, ClientStore]:
    a, b = device("a"), device("b")
    luid_a = a.datastores["./addressbook"].add(vcard(1, "original"))
    assert sync(server, a).ok and sync(server, b).ok
    luid_b = next(iter(ab(b)))
    rev_a = vcard(1, "from a").replace(b"END:VCARD", b"REV:20200101T000000Z\r\nEND:VCARD")
    a.datastores["./addressbook"].update(luid_a, rev_a)
    assert sync(server, a).ok
    rev_b = vcard(1, "from b").replace(b"END:VCARD", b"REV:20210101T000000Z\r\nEND:VCARD")
    b.datastores["./addressbook"].update(luid_b, rev_b)
    return a, b


def test_conflict_server_wins_by_default(server: SyncServer, store: SQLiteStore) -> None:
    _, b = _conflict(server)
    s = sync(server, b)
    assert s.ok and s.reports["./addressbook"].statuses == [419]
    assert s.reports["./addressbook"].received == {"Replace": 1}
    assert b"from a" in next(iter(ab(b).values()))
    (conflict,) = store.conflicts("test")
    assert b"from b" in conflict.data and "server wins" in conflict.reason
    assert [b"from a" in i.data for i in store.items("test", "Contacts")] == [True]


def test_conflict_client_wins(make_server: Callable[..., SyncServer], store: SQLiteStore) -> None:
    server = make_server(conflict_policy="client-wins")
    a, b = _conflict(server)
    s = sync(server, b)
    assert s.ok and s.reports["./addressbook"].statuses == [208] and s.reports["./addressbook"].received == {}
    assert [b"from b" in i.data for i in store.items("test", "Contacts")] == [True]
    assert b"from a" in store.conflicts("test")[0].data
    assert sync(server, a).reports["./addressbook"].received == {"Replace": 1}


def test_conflict_newer_wins(make_server: Callable[..., SyncServer], store: SQLiteStore) -> None:
    server = make_server(conflict_policy="newer-wins")
    _, b = _conflict(server)  # b's REV is newer
    s = sync(server, b)
    assert s.ok and s.reports["./addressbook"].statuses == [208]
    assert [b"from b" in i.data for i in store.items("test", "Contacts")] == [True]


def test_conflict_duplicate_keeps_both(make_server: Callable[..., SyncServer], store: SQLiteStore) -> None:
    server = make_server(conflict_policy="duplicate")
    a, b = _conflict(server)
    s = sync(server, b)
    assert s.ok and s.reports["./addressbook"].statuses == [209]
    assert s.reports["./addressbook"].received == {"Add": 1} and len(ab(b)) == 2
    assert len(store.items("test", "Contacts")) == 2
    s = sync(server, a)
    assert s.ok and len(ab(a)) == 2


def test_delete_of_an_item_the_server_changed(server: SyncServer, store: SQLiteStore) -> None:
    _, b = _conflict(server)
    luid_b = next(iter(ab(b)))
    b.datastores["./addressbook"].changes.clear()
    b.datastores["./addressbook"].delete(luid_b)
    s = sync(server, b)
    assert s.ok and s.reports["./addressbook"].statuses == [419]
    assert s.reports["./addressbook"].received == {"Add": 1} and len(store.items("test", "Contacts")) == 1


def test_last_message_resent_after_the_session_ended(server: SyncServer, store: SQLiteStore) -> None:
    a = device("a")
    a.datastores["./addressbook"].add(vcard(1))
    s = ClientSession(a, url=server.base_url, user="test", password="secret", clock=Clock())
    request = s.start()
    last = None
    while request is not None:
        response = server.handle(request.body, request.content_type, sid_of(request.url))
        last = (request, response)
        request = s.receive(response.body)
    assert s.ok and last is not None and server.active_sessions() == []
    again = server.handle(last[0].body, last[0].content_type, sid_of(last[0].url))
    assert Message.from_bytes(again.body) == Message.from_bytes(last[1].body)
    assert len(store.items("test", "Contacts")) == 1 and len(store.sessions("test")) == 1


def test_idle_sessions_expire(make_server: Callable[..., SyncServer]) -> None:
    server = make_server(session_timeout=30)
    _xml_session(server)
    assert len(server.active_sessions()) == 1
    server.clock.now += 60  # type: ignore[attr-defined]
    assert server.handle(b"", "application/vnd.syncml+xml", None).http_status == 400
    assert len(server.sessions) == 1  # an unreadable request does not get that far
    a = prime(server, device("other"))  # a readable request expires the idle ones
    s = ClientSession(a, url=server.base_url, user="test", password="secret", clock=Clock(), encoding="xml")
    server.handle(s.start().body, "application/vnd.syncml+xml", None)
    assert [x.phase.value for x in server.sessions.values()] == ["client-mods"]


def test_new_client_session_on_an_old_url_starts_a_new_session(server: SyncServer, store: SQLiteStore) -> None:
    """The same device starting a new SyncML session (another SessionID) on
    an old URL gets a new session once its credentials pass; another device
    on that URL is refused with a challenge (sessions belong to their
    device, issue 9)."""
    first, _, sid = _xml_session(server)
    b = prime(server, device("b"))
    s = ClientSession(b, url=server.base_url, user="test", password="secret", clock=Clock(), encoding="xml",
                      session_id="77")
    reply = server.handle(s.start().body, "application/vnd.syncml+xml", sid)
    assert reply.session_id is None
    assert [c.data for c in Message.from_bytes(reply.body).commands] == ["401"]
    a = ClientSession(first.store, url=server.base_url, user="test", password="secret", clock=Clock(),
                      encoding="xml", session_id="77")
    reply = server.handle(a.start().body, "application/vnd.syncml+xml", sid)
    assert reply.session_id not in (None, sid)
    assert [c.data for c in Message.from_bytes(reply.body).commands if isinstance(c, Status)][:1] == ["212"]


@pytest.mark.parametrize(("policy", "status", "winner"), [("server-wins", 419, b"from b"),
                                                           ("client-wins", 208, b"from a")])
def test_slow_sync_of_an_item_changed_on_both_sides(make_server: Callable[..., SyncServer], store: SQLiteStore,
                                                    policy: str, status: int, winner: bytes) -> None:
    server = make_server(conflict_policy=policy)
    a, b = device("a"), device("b")
    luid_a = a.datastores["./addressbook"].add(vcard(1))
    assert sync(server, a).ok and sync(server, b).ok
    b.datastores["./addressbook"].update(next(iter(ab(b))), vcard(1, "from b"))
    assert sync(server, b).ok
    a.datastores["./addressbook"].update(luid_a, vcard(1, "from a"))
    a.datastores["./addressbook"].last_anchor = "lost"  # -> 508 and a slow sync
    s = sync(server, a)
    assert s.ok and s.reports["./addressbook"].mode == 201 and s.reports["./addressbook"].statuses == [status]
    (item,) = store.items("test", "Contacts")
    assert winner in item.data and len(ab(a)) == 1 and winner in next(iter(ab(a).values()))


def test_slow_sync_keeps_a_change_made_only_on_the_client(server: SyncServer, store: SQLiteStore) -> None:
    a = device("a")
    luid = a.datastores["./addressbook"].add(vcard(1))
    assert sync(server, a).ok
    a.datastores["./addressbook"].update(luid, vcard(1, "offline edit"))
    a.datastores["./addressbook"].last_anchor = "lost"
    s = sync(server, a)
    assert s.ok and s.reports["./addressbook"].mode == 201 and s.reports["./addressbook"].statuses == [200]
    (item,) = store.items("test", "Contacts")
    assert b"offline edit" in item.data and s.reports["./addressbook"].received == {}
