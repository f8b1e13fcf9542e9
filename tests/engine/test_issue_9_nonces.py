"""Issue 9, defect 2 and the store side of defect 4: MD5 with an empty
nonce was a static password (one sniffed first message logged in forever,
under any new device id), and unauthenticated requests created device rows
and reset the real device's nonce (its next login failed).  Now a device
without a nonce is challenged with a random one, a credential over an
empty or used nonce is refused, an accepted one rotates the nonce, and a
request that does not authenticate writes nothing."""

from __future__ import annotations

import dataclasses

from syncml_codec.engine import ClientSession, ServerLimits, SyncServer
from syncml_codec.model import Message, Status, auth
from syncml_codec.store import SQLiteStore

from ..conftest import corpus_path
from .conftest import Clock, counter_random
from .helpers import chal_nonce, device, prime, resign, sync, vcard

WBXML = "application/vnd.syncml+wbxml"


def first_request() -> bytes:
    """SyncEvolution's recorded first request: MD5 over the empty nonce."""
    return corpus_path("syncevolution", "first-request", "wbxml-addressbook-vcard30-md5.wbxml").read_bytes()


def head(body: bytes) -> Status:
    status = Message.from_bytes(body).commands[0]
    assert isinstance(status, Status) and status.cmd == "SyncHdr"
    return status


def with_device(body: bytes, device_id: str) -> bytes:
    msg = Message.from_bytes(body, WBXML)
    source = dataclasses.replace(msg.header.source, loc_uri=device_id)
    return msg.replace(header=dataclasses.replace(msg.header, source=source)).to_bytes("wbxml")


def device_rows(store: SQLiteStore) -> list[tuple[object, ...]]:
    return list(store._db.execute("SELECT user, device_id, nonce FROM devices ORDER BY id"))


def test_sniffed_first_request_replayed_is_refused(server: SyncServer, store: SQLiteStore) -> None:
    """The recorded SyncEvolution first request (MD5 over the empty nonce),
    replayed as it is and under new device ids: never 212, no rows."""
    body = first_request()
    for attempt in [body] * 3 + [with_device(body, f"new-device-{n}") for n in range(3)]:
        response = server.handle(attempt, WBXML, None)
        status = head(response.body)
        assert status.data == "401" and response.session_id is None
        assert status.chal is not None and status.chal.meta.type == "syncml:auth-md5"
        assert auth.nonce_from_text(status.chal.meta.next_nonce)  # a real nonce to answer
        assert len(Message.from_bytes(response.body).commands) == 1
    assert device_rows(store) == [] and server.sessions == {}
    # the owner of the password answers the challenge and is in
    nonce = chal_nonce(Message.from_bytes(server.handle(body, WBXML, None).body))
    response = server.handle(resign(body, WBXML, nonce), WBXML, None)
    assert head(response.body).data == "212" and response.session_id


def test_used_nonce_replayed_is_refused(server: SyncServer, store: SQLiteStore) -> None:
    body = first_request()
    nonce = chal_nonce(Message.from_bytes(server.handle(body, WBXML, None).body))
    signed = resign(body, WBXML, nonce)
    accepted = server.handle(signed, WBXML, None)
    next_nonce = chal_nonce(Message.from_bytes(accepted.body))
    assert head(accepted.body).data == "212" and next_nonce != nonce
    dev = store.find_device("test", Message.from_bytes(body, WBXML).header.source.loc_uri)
    assert dev is not None and dev.nonce == next_nonce  # rotated: the next session's nonce
    again = server.handle(signed, WBXML, None)  # a sniffed login, replayed
    assert head(again.body).data == "401" and again.session_id is None
    # a later session's login (over the stored nonce) is single use too
    second = resign(body, WBXML, next_nonce)
    assert head(server.handle(second, WBXML, None).body).data == "212"
    assert head(server.handle(second, WBXML, None).body).data == "401"


def test_challenge_nonces_are_single_use_and_expire(make_server, store: SQLiteStore) -> None:
    server = make_server(limits=ServerLimits(challenge_ttl=60))
    body = first_request()
    old = chal_nonce(Message.from_bytes(server.handle(body, WBXML, None).body))
    server.clock.now += 120
    assert head(server.handle(resign(body, WBXML, old), WBXML, None).body).data == "401"  # expired
    fresh = chal_nonce(Message.from_bytes(server.handle(body, WBXML, None).body))
    assert head(server.handle(resign(body, WBXML, fresh), WBXML, None).body).data == "212"


def test_unauthenticated_requests_write_nothing_and_keep_the_devices_nonce(server: SyncServer,
                                                                           store: SQLiteStore) -> None:
    a = device("a")
    a.datastores["./addressbook"].add(vcard(1))
    assert sync(server, a).ok
    rows = device_rows(store)
    (stored,) = [r for r in rows if r[1] == "test-a"]
    assert stored[2] == a.nonce  # the NextNonce A got is the one stored
    before = store._db.total_changes
    for password, auth_type in (("wrong", "md5"), ("wrong", "basic")):
        s = ClientSession(device("a"), url=server.base_url, user="test", password=password, auth_type=auth_type,
                          clock=Clock())  # the same device id, someone else
        assert head(server.handle(s.start().body, WBXML, None).body).data == "401"
    for user in ("test", "nobody"):
        msg = Message.from_bytes(ClientSession(device("a"), url=server.base_url, user=user, password="",
                                               clock=Clock()).start().body)
        bare = msg.replace(header=dataclasses.replace(msg.header, cred=None)).to_bytes("wbxml")
        assert head(server.handle(bare, WBXML, None).body).data == "407"
        for device_id in ("test-a", "test-new"):
            assert head(server.handle(with_device(bare, device_id), WBXML, None).body).data == "407"
    assert head(server.handle(first_request(), WBXML, None).body).data == "401"
    assert store._db.total_changes == before and device_rows(store) == rows  # no row, no nonce changed
    s = sync(server, a)  # the real device logs in at once with the nonce it holds
    assert s.ok and s.header_status == 212 and not s.retried_auth


def test_challenges_keep_nothing(make_server, store: SQLiteStore) -> None:
    """Challenge nonces are derived from the server secret (issue 12: any
    worker checks them), so 300 challenged devices leave no trace; the
    nonces differ per device all the same."""
    server = make_server(limits=ServerLimits(max_tracked=50))
    body = first_request()
    nonces = set()
    before = store._db.total_changes
    for n in range(300):
        status = head(server.handle(with_device(body, f"rotating-{n}"), WBXML, None).body)
        assert status.data == "401" and status.chal is not None
        nonces.add(status.chal.meta.next_nonce)
    assert len(nonces) == 300 and device_rows(store) == []
    assert store._db.total_changes - before <= 1  # the server secret, made once


def test_honest_client_first_login_answers_the_challenge(store: SQLiteStore) -> None:
    server = SyncServer(store, clock=Clock(), random_source=counter_random())
    a = device("a")
    assert a.nonce == b""
    s = sync(server, a)
    assert s.ok and s.retried_auth and a.nonce  # 401 with a nonce, then 212 with the next one
    assert prime(server, device("b")).nonce  # a client may also ask without credentials first


def test_challenge_to_a_message_naming_no_user_is_answered_naming_the_user(server: SyncServer,
                                                                           store: SQLiteStore) -> None:
    """A phone whose first message carries neither Cred nor LocName (the
    Sony Ericsson K800i) gets a challenge; its answer, MD5 over that nonce
    with LocName set, logs in at once and counts no failure."""
    msg = Message.from_bytes(first_request(), WBXML)
    source = dataclasses.replace(msg.header.source, loc_name=None)
    anonymous = msg.replace(header=dataclasses.replace(msg.header, cred=None, source=source)).to_bytes("wbxml")
    response = server.handle(anonymous, WBXML, None, remote="192.0.2.9")
    assert head(response.body).data == "407" and device_rows(store) == []
    nonce = chal_nonce(Message.from_bytes(response.body))
    response = server.handle(resign(first_request(), WBXML, nonce), WBXML, None, remote="192.0.2.9")
    assert head(response.body).data == "212" and response.session_id
    assert len(server.gate.address_failures) == 0  # nothing was counted against the address
    # the nonce was single use: the same answer again is refused
    again = server.handle(resign(first_request(), WBXML, nonce), WBXML, None, remote="192.0.2.9")
    assert head(again.body).data == "401" and again.session_id is None


def test_a_phone_naming_no_user_logs_in_again_within_the_same_slot(server: SyncServer, store: SQLiteStore) -> None:
    """The K800i's login twice in one challenge slot (the clock stands
    still): its challenges cannot depend on a device's stored nonce (it
    names no user), so the second challenge is the next generation, not the
    nonce the first login used up; a third one differs again."""
    msg = Message.from_bytes(first_request(), WBXML)
    source = dataclasses.replace(msg.header.source, loc_name=None)
    anonymous = msg.replace(header=dataclasses.replace(msg.header, cred=None, source=source)).to_bytes("wbxml")
    seen = []
    store.server_secret()  # (made on first use)
    for _ in range(3):
        before = store._db.total_changes
        nonce = chal_nonce(Message.from_bytes(server.handle(anonymous, WBXML, None, remote="192.0.2.9").body))
        assert store._db.total_changes == before  # a challenge writes nothing
        assert nonce not in seen
        seen.append(nonce)
        response = server.handle(resign(first_request(), WBXML, nonce), WBXML, None, remote="192.0.2.9")
        assert head(response.body).data == "212" and response.session_id
    assert len(server.gate.account_failures) == 0 and len(server.gate.address_failures) == 0


def test_a_device_of_an_account_added_again_logs_in_within_the_same_slot(server: SyncServer,
                                                                         store: SQLiteStore) -> None:
    """An account deleted and added again: its device's row is new (no
    stored nonce), as it was at its first login in this slot, yet its
    challenge is not the one that login used up."""
    assert sync(server, device("a")).ok
    assert store.delete_user("test")
    store.add_user("test", "secret")
    again = device("a")
    s = sync(server, again)
    assert s.ok and s.retried_auth
