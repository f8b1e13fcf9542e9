"""Issue 15, item 1: suspend and resume (OMA DS 1.2 Alerts 224 and 225).

Our client suspends a slow sync (Alert 224) or simply vanishes in the
middle of its package 3 or of the server's package 4, and comes back with
Alert 225: the server honours the resume (Status 200, the interrupted
session's mode), the client sends only what the server did not acknowledge,
the server sends only what the client did not acknowledge, and no item ends
up twice on either side.  The resumed session runs on a new server object
over the same store (what was acknowledged is in the store, not in memory).
A resume the server cannot honour is answered with 508 and a slow sync,
without duplicates.  Both stores.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any
from urllib.parse import parse_qs, urlsplit

from syncml_codec.engine import ClientSession, ClientStore, Request, SyncServer
from syncml_codec.engine._state import ClientPhase
from syncml_codec.model import AlertCode, Message, StatusCode, Sync

from .conftest import Clock, counter_random
from .helpers import ab, device, vcard

URI = "./addressbook"
SERVER_MSG = 2500  # the server's MaxMsgSize: the client's package 3 spans several messages
CLIENT_MSG = 3000  # the client's: so does the server's package 4
N = 30


def server_on(store: Any) -> SyncServer:
    """A server (a new one each time: nothing survives in memory) on ``store``."""
    return SyncServer(store, clock=Clock(), random_source=counter_random(), max_msg_size=SERVER_MSG)


def session(store: ClientStore, server: SyncServer, *, resume: bool = False) -> ClientSession:
    return ClientSession(store, url=server.base_url, user="test", password="secret", clock=Clock(),
                         max_msg_size=CLIENT_MSG, resume=resume)


def post(server: SyncServer, request: Request) -> bytes:
    sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
    response = server.handle(request.body, request.content_type, sid)
    assert response.http_status == 200
    return response.body


def complete(server: SyncServer, s: ClientSession) -> ClientSession:
    request: Request | None = s.start()
    while request is not None:
        request = s.receive(post(server, request))
    assert s.ok, s.error
    return s


def until(server: SyncServer, s: ClientSession, phase: ClientPhase, answers: int) -> Request:
    """Run ``s`` until it has had ``answers`` answers in ``phase``; the request it would send next."""
    request: Request | None = s.start()
    seen = 0
    while request is not None:
        request = s.receive(post(server, request))
        if s.phase is phase:
            seen += 1
            if seen == answers:
                assert request is not None
                return request
    raise AssertionError(f"the session ended before {answers} answers in {phase}")


def suspend(server: SyncServer, s: ClientSession) -> None:
    assert s.receive(post(server, s.suspend())) is None
    assert s.suspended and s.done and not s.ok


def a_with(n: int) -> ClientStore:
    a = device("a")
    for i in range(n):
        a.datastores[URI].add(vcard(i, note="x" * 120))
    return a


def distinct(items: list[bytes] | dict[str, bytes]) -> Counter[bytes]:
    values = items.values() if isinstance(items, dict) else items
    return Counter(values)


def server_items(store: Any) -> list[bytes]:
    return [i.data for i in store.items("test", "Contacts")]


def point(store: Any, device_id: str) -> Any:
    return store.resume_point(store.find_device("test", device_id), "Contacts")


def test_suspend_in_package_3_and_resume_sends_only_the_rest(both_stores: Any) -> None:
    a = a_with(N)
    s = session(a, server_on(both_stores))
    first = server_on(both_stores)
    until(first, s, ClientPhase.SENDING, 2)
    suspend(first, s)
    kept = point(both_stores, a.device_id)
    assert kept is not None and kept.suspended and kept.mode == AlertCode.SLOW_SYNC
    rest = set(a.datastores[URI].to_send or ())
    assert 0 < len(rest) < N  # some acknowledged, some not
    r = complete(server_on(both_stores), session(a, server_on(both_stores), resume=True))
    report = r.reports[URI]
    assert report.requested == AlertCode.ALERT_RESUME
    assert report.alert_status == StatusCode.OK and report.mode == AlertCode.SLOW_SYNC
    assert len(report.statuses) == len(rest)  # only what the server had not acknowledged went again
    assert len(server_items(both_stores)) == N and set(distinct(server_items(both_stores)).values()) == {1}
    assert point(both_stores, a.device_id) is None  # completed: nothing left to resume
    b = device("b")
    complete(server_on(both_stores), session(b, server_on(both_stores)))
    assert sorted(ab(b).values()) == sorted(ab(a).values())


def test_suspend_in_package_4_and_resume_receives_only_the_rest(both_stores: Any) -> None:
    a = a_with(N)
    complete(server_on(both_stores), session(a, server_on(both_stores)))
    b = device("b")
    first = server_on(both_stores)
    s = session(b, first)
    until(first, s, ClientPhase.SERVER_MODS, 2)
    got = sum(s.reports[URI].received.values())
    assert 0 < got < N
    suspend(first, s)  # (with the statuses of what it got: the server has them)
    r = complete(server_on(both_stores), session(b, server_on(both_stores), resume=True))
    report = r.reports[URI]
    assert report.alert_status == StatusCode.OK and report.mode == AlertCode.SLOW_SYNC
    assert sum(report.received.values()) == N - got  # nothing the client acknowledged came again
    assert len(ab(b)) == N and sorted(ab(b).values()) == sorted(ab(a).values())
    assert len(server_items(both_stores)) == N
    # and the next session is a two-way one with nothing to do (the maps all arrived)
    again = complete(server_on(both_stores), session(b, server_on(both_stores)))
    assert again.reports[URI].mode == AlertCode.TWO_WAY and again.reports[URI].received == {}


def test_interrupted_in_package_4_resumes_without_duplicates(both_stores: Any) -> None:
    """The client vanishes (no 224, the statuses of its last message lost):
    the resume is honoured, the unacknowledged items come again, and the
    client takes an Add it holds already as that item (no twin)."""
    a = a_with(N)
    complete(server_on(both_stores), session(a, server_on(both_stores)))
    b = device("b")
    first = server_on(both_stores)
    s = session(b, first)
    until(first, s, ClientPhase.SERVER_MODS, 2)  # (its next message, with the statuses, never goes)
    kept = point(both_stores, b.device_id)
    assert kept is not None and not kept.suspended
    r = complete(server_on(both_stores), session(b, server_on(both_stores), resume=True))
    assert r.reports[URI].alert_status == StatusCode.OK
    assert 0 < sum(r.reports[URI].received.values()) < N
    assert len(ab(b)) == N and sorted(ab(b).values()) == sorted(ab(a).values())
    assert len(server_items(both_stores)) == N


def test_two_way_resume_takes_each_change_once(both_stores: Any) -> None:
    a = a_with(5)
    complete(server_on(both_stores), session(a, server_on(both_stores)))
    for i in range(100, 100 + N):
        a.datastores[URI].add(vcard(i, note="y" * 120))
    first = server_on(both_stores)
    s = session(a, first)
    until(first, s, ClientPhase.SENDING, 2)
    suspend(first, s)
    r = complete(server_on(both_stores), session(a, server_on(both_stores), resume=True))
    report = r.reports[URI]
    assert report.alert_status == StatusCode.OK and report.mode == AlertCode.TWO_WAY
    assert 0 < len(report.statuses) < N
    assert len(server_items(both_stores)) == N + 5 and set(distinct(server_items(both_stores)).values()) == {1}


def test_resume_that_cannot_be_honoured_is_508_and_slow_without_duplicates(both_stores: Any) -> None:
    a = a_with(N)
    complete(server_on(both_stores), session(a, server_on(both_stores)))
    assert point(both_stores, a.device_id) is None
    a.datastores[URI].resume_mode = AlertCode.TWO_WAY  # (the client thinks its last session broke off)
    r = complete(server_on(both_stores), session(a, server_on(both_stores), resume=True))
    report = r.reports[URI]
    assert report.requested == AlertCode.ALERT_RESUME
    assert report.alert_status == StatusCode.REFRESH_REQUIRED and report.mode == AlertCode.SLOW_SYNC
    assert len(server_items(both_stores)) == N and len(ab(a)) == N
    assert report.received == {}  # the slow sync matched everything: nothing came back


def test_resumed_refresh_from_client_keeps_what_the_interrupted_session_took(both_stores: Any) -> None:
    """A refresh from the client (203) deletes on the server what the client
    did not send; resumed, the client sends only the rest: what it sent
    before the suspend stays."""
    a = a_with(N)
    complete(server_on(both_stores), session(a, server_on(both_stores)))
    both_stores.add_item("test", "Contacts", vcard(999), "text/vcard")  # (server-only: the refresh deletes it)
    first = server_on(both_stores)
    s = ClientSession(a, url=first.base_url, user="test", password="secret", clock=Clock(), max_msg_size=CLIENT_MSG,
                      modes={URI: AlertCode.REFRESH_FROM_CLIENT})
    until(first, s, ClientPhase.SENDING, 2)
    suspend(first, s)
    r = complete(server_on(both_stores), session(a, server_on(both_stores), resume=True))
    report = r.reports[URI]
    assert report.alert_status == StatusCode.OK and report.mode == AlertCode.REFRESH_FROM_CLIENT
    assert len(report.statuses) < N
    assert sorted(server_items(both_stores)) == sorted(ab(a).values())


def test_suspend_naming_a_datastore_not_in_the_session_suspends_nothing(both_stores: Any) -> None:
    """Alert 224 for a datastore the session did not open: 404, and the open one's resume point stays an
    interrupted (not suspended) one."""
    a = a_with(N)
    first = server_on(both_stores)
    s = session(a, first)
    until(first, s, ClientPhase.SENDING, 1)
    book = a.datastores[URI]
    book.remote_uri, book.local_uri = "no-such-datastore", "./no-such"  # (what the Alert 224 names)
    request = s.suspend()
    book.remote_uri, book.local_uri = "addressbook", URI
    assert s.receive(post(first, request)) is None and s.suspended
    kept = point(both_stores, a.device_id)
    assert kept is not None and not kept.suspended
    r = complete(server_on(both_stores), session(a, server_on(both_stores), resume=True))
    assert r.reports[URI].alert_status == StatusCode.OK  # (interrupted: resumable all the same)
    assert len(server_items(both_stores)) == N and set(distinct(server_items(both_stores)).values()) == {1}


def test_resume_without_the_empty_sync_still_sends_the_rest(both_stores: Any) -> None:
    """A slip Synthesis tolerates: a client resuming (225) with nothing of its own left to send
    leaves out its (empty) Sync in package 3.  The server still sends what the client had not
    acknowledged, and nothing twice."""
    a = a_with(N)
    complete(server_on(both_stores), session(a, server_on(both_stores)))
    b = device("b")
    first = server_on(both_stores)
    s = session(b, first)
    until(first, s, ClientPhase.SERVER_MODS, 2)
    got = sum(s.reports[URI].received.values())
    suspend(first, s)
    server = server_on(both_stores)
    r = session(b, server, resume=True)
    request: Request | None = r.start()
    dropped = 0
    while request is not None:
        msg = Message.from_bytes(request.body)
        if any(isinstance(c, Sync) for c in msg.commands):
            assert all(not c.commands for c in msg.commands if isinstance(c, Sync))  # (it had nothing to send)
            body = dataclasses.replace(msg.body, commands=tuple(c for c in msg.commands if not isinstance(c, Sync)),
                                       _layout=None)
            msg = dataclasses.replace(msg, body=body, _layout=None)
            request = dataclasses.replace(request, body=msg.to_bytes("wbxml" if "wbxml" in request.content_type
                                                                    else "xml"))
            dropped += 1
        request = r.receive(post(server, request))
    assert dropped == 1
    report = r.reports[URI]
    assert report.alert_status == StatusCode.OK and report.mode == AlertCode.SLOW_SYNC
    assert sum(report.received.values()) == N - got
    assert len(ab(b)) == N and sorted(ab(b).values()) == sorted(ab(a).values())
    assert len(server_items(both_stores)) == N
