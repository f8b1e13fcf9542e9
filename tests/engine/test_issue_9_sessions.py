"""Issue 9, defect 1: session takeover.  After user A authenticated, a
request naming A's session id was served as A with no credentials, and a
Sync from user B was stored in A's account.  Now a session belongs to the
account and device that authenticated it: anything else naming its id gets
a fresh challenge, reads and writes nothing, and is logged at WARNING."""

from __future__ import annotations

import dataclasses
import logging
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from syncml_codec.engine import ClientSession, ClientStore, SyncServer
from syncml_codec.model import Cred, Message, Meta, Results, Status, Sync, auth
from syncml_codec.store import SQLiteStore

from .conftest import Clock
from .helpers import device, prime, sync, vcard

XML = "application/vnd.syncml+xml"


def sid_of(url: str) -> str | None:
    return parse_qs(urlsplit(url).query).get("sessionid", [None])[0]


def package3(server: SyncServer, store: ClientStore, user: str = "test",
             password: str = "secret") -> tuple[ClientSession, Message, str]:
    """A session logged in, and its package 3 (a Sync with the device's Adds), not sent yet."""
    prime(server, store, user)
    s = ClientSession(store, url=server.base_url, user=user, password=password, clock=Clock(), encoding="xml")
    first = server.handle(s.start().body, XML, None)
    assert first.session_id is not None
    request = s.receive(first.body)
    assert request is not None and sid_of(request.url) == first.session_id
    return s, Message.from_bytes(request.body), first.session_id


def as_other(msg: Message, device_id: str, user: str | None, cred: Cred | None = None) -> bytes:
    src = dataclasses.replace(msg.header.source, loc_uri=device_id, loc_name=user)
    return msg.replace(header=dataclasses.replace(msg.header, source=src, cred=cred)).to_bytes("xml")


def head(response_body: bytes) -> Status:
    status = Message.from_bytes(response_body).commands[0]
    assert isinstance(status, Status) and status.cmd == "SyncHdr"
    return status


@pytest.fixture
def two_accounts(store: SQLiteStore) -> SQLiteStore:
    store.add_user("bob", "bobs-password")
    return store


def test_another_users_sync_on_my_session_is_refused_and_stores_nothing(
        server: SyncServer, two_accounts: SQLiteStore, caplog: pytest.LogCaptureFixture) -> None:
    a = device("a")
    a.datastores["./addressbook"].add(vcard(1))
    _, msg_a, sid = package3(server, a)
    # Bob, with his own valid credentials (basic, and MD5 over a nonce he got), posts a Sync to A's session
    bob_nonce = auth.nonce_from_text(head(server.handle(as_other(msg_a, "bob-phone", "bob"), XML, None).body)
                                     .chal.meta.next_nonce)
    creds = [Cred(meta=Meta(format="b64", type="syncml:auth-basic"),
                  data=auth.basic_credential("bob", "bobs-password")),
             Cred(meta=Meta(format="b64", type="syncml:auth-md5"),
                  data=auth.md5_digest("bob", "bobs-password", bob_nonce))]
    with caplog.at_level(logging.WARNING, logger="syncml_codec.engine"):
        for cred in creds:
            for device_id in ("bob-phone", a.device_id):  # his own device id, or A's copied
                response = server.handle(as_other(msg_a, device_id, "bob", cred), XML, sid, remote="203.0.113.9")
                status = head(response.body)
                assert response.session_id is None and status.data == "401" and status.chal is not None
                assert len(Message.from_bytes(response.body).commands) == 1  # nothing else: nothing read
    assert two_accounts.items("test", "Contacts") == [] and two_accounts.items("bob", "Contacts") == []
    assert two_accounts.find_device("bob", "bob-phone") is None
    lines = [r.getMessage() for r in caplog.records
             if r.getMessage().startswith("session refused:") and "address=203.0.113.9" in r.getMessage()]
    assert len(lines) == 4 and all(f'session="{sid}" user="bob"' in line for line in lines)
    # A's own session is untouched and goes on
    response = server.handle(msg_a.to_bytes("xml"), XML, sid)
    assert head(response.body).data == "200" and response.session_id == sid
    assert len(two_accounts.items("test", "Contacts")) == 1


def test_no_credentials_on_my_session_id_is_refused(server: SyncServer, store: SQLiteStore) -> None:
    a = device("a")
    a.datastores["./addressbook"].add(vcard(1))
    store.add_item("test", "Contacts", vcard(2, "private"), "text/vcard")
    _, msg_a, sid = package3(server, a)
    for device_id, user in (("mallory", None), ("mallory", "test"), (a.device_id, None), (a.device_id, "mallory")):
        response = server.handle(as_other(msg_a, device_id, user), XML, sid)
        reply = Message.from_bytes(response.body)
        assert response.session_id is None and [c.data for c in reply.commands] == ["407"]
        assert not any(isinstance(c, (Sync, Results)) for c in reply.commands)  # nothing of A's read
    assert len(store.items("test", "Contacts")) == 1  # nothing written


def test_the_clients_session_id_never_selects_a_session(server: SyncServer, store: SQLiteStore) -> None:
    """SyncEvolution's SessionIDs are small numbers: a message with A's
    SyncHdr SessionID but not through A's RespURI is a new login."""
    a = device("a")
    a.datastores["./addressbook"].add(vcard(1))
    _, msg_a, sid = package3(server, a)
    assert re.fullmatch(r"[0-9a-f]{32}", sid)  # 128 random bits
    for guess in (None, msg_a.header.session_id, "1", "2", sid[:-1] + "0"):
        response = server.handle(as_other(msg_a, "mallory", "test"), XML, guess)
        assert response.session_id is None and head(response.body).data == "407"
    assert store.items("test", "Contacts") == []


def test_a_resent_last_message_is_answered_again_only_for_its_owner(server: SyncServer, store: SQLiteStore) -> None:
    a = device("a")
    a.datastores["./addressbook"].add(vcard(1))
    s = ClientSession(prime(server, a), url=server.base_url, user="test", password="secret", clock=Clock())
    request = s.start()
    last = None
    while request is not None:
        response = server.handle(request.body, request.content_type, sid_of(request.url))
        last = (request, response)
        request = s.receive(response.body)
    assert s.ok and last is not None
    again = server.handle(last[0].body, last[0].content_type, sid_of(last[0].url))
    assert again.body == last[1].body and again.session_id == last[1].session_id
    stranger = Message.from_bytes(last[0].body)
    body = as_other(stranger, "mallory", "test")
    response = server.handle(body, XML, sid_of(last[0].url))
    assert response.session_id is None and head(response.body).data == "407"


def test_refusal_log_line_escapes_client_values(server: SyncServer, caplog: pytest.LogCaptureFixture) -> None:
    a = device("a")
    _, msg_a, sid = package3(server, a)
    forged = 'x"\r\nWARNING: auth failure: user="root" address=10.0.0.1'
    with caplog.at_level(logging.WARNING, logger="syncml_codec.engine"):
        server.handle(as_other(msg_a, forged, forged), XML, sid, remote="198.51.100.7\r\nforged")
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("session refused:")]
    assert "\r" not in line and "\n" not in line
    assert 'device="x\\"\\r\\nWARNING: auth failure: user=\\"root\\" address=10.0.0.1"' in line
    assert 'address="198.51.100.7\\r\\nforged"' in line


def test_a_session_survives_other_users_and_normal_syncs_still_work(server: SyncServer,
                                                                     two_accounts: SQLiteStore) -> None:
    a, b = device("a"), device("b")
    a.datastores["./addressbook"].add(vcard(1))
    assert sync(server, a).ok
    s = ClientSession(prime(server, b, "bob"), url=server.base_url, user="bob", password="bobs-password",
                      clock=Clock())
    request = s.start()
    while request is not None:
        request = s.receive(server.handle(request.body, request.content_type, sid_of(request.url)).body)
    assert s.ok and len(two_accounts.items("test", "Contacts")) == 1 and two_accounts.items("bob", "Contacts") == []
    assert b.datastores["./addressbook"].items == {}  # Bob got nothing of A's
