"""Issue 13, item 7: the authentication policy (server-wide and per
account; a client of the other scheme is challenged again with the required
one, a second such attempt is rejected), the service per account, per domain
and by access list, and HMAC (``x-syncml-hmac``) as the authentication of
the message that starts a session."""

from __future__ import annotations

import dataclasses
import logging
from urllib.parse import parse_qs, urlsplit

import pytest

from syncml_codec.engine import ClientSession, ClientStore, SyncServer
from syncml_codec.model import Message, Status, auth
from syncml_codec.store import SQLiteStore

from .conftest import Clock, counter_random
from .helpers import ab, device, vcard

XML = "application/vnd.syncml+xml"


def server_with(store: SQLiteStore, **options: object) -> SyncServer:
    return SyncServer(store, clock=Clock(), random_source=counter_random(), base_url="http://127.0.0.1:8080/sync",
                      **options)  # type: ignore[arg-type]


def run(server: SyncServer, store: ClientStore, user: str = "test", password: str = "secret",
        auth_type: str = "md5") -> ClientSession:
    """A whole session of our client (which follows one MD5 challenge, and never changes its scheme)."""
    s = ClientSession(store, url=server.base_url, user=user, password=password, auth_type=auth_type,
                      clock=Clock(), encoding="xml")
    request = s.start()
    for _ in range(30):
        sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
        response = server.handle(request.body, request.content_type, sid, remote="192.0.2.1")
        assert response.http_status == 200
        nxt = s.receive(response.body, response.content_type)
        if nxt is None:
            return s
        request = nxt
    raise AssertionError("the session did not end")


def first_status(server: SyncServer, body: bytes, headers: dict[str, str] | None = None) -> Status:
    reply = Message.from_bytes(server.handle(body, XML, None, remote="192.0.2.1", headers=headers).body)
    status = reply.commands[0]
    assert isinstance(status, Status) and status.cmd == "SyncHdr"
    return status


def start(store: ClientStore, user: str = "test", password: str = "secret", auth_type: str = "md5") -> bytes:
    return ClientSession(store, url="http://127.0.0.1:8080/sync", user=user, password=password,
                         auth_type=auth_type, clock=Clock(), encoding="xml").start().body


def phone(name: str, items: int = 1) -> ClientStore:
    store = device(name)
    for n in range(items):
        store.datastores["./addressbook"].add(vcard(n))
    return store


# -- the policy --------------------------------------------------------------
def test_md5_policy_rechallenges_basic_then_rejects_it(store: SQLiteStore, caplog: pytest.LogCaptureFixture) -> None:
    server = server_with(store, auth_policy="md5")
    with caplog.at_level(logging.INFO, logger="syncml_codec.engine"):
        first = first_status(server, start(phone("a"), auth_type="basic"))
        second = first_status(server, start(phone("a"), auth_type="basic"))
    assert first.data == "401" and first.chal is not None
    assert first.chal.meta.type == "syncml:auth-md5" and first.chal.meta.next_nonce
    assert second.data == "403" and second.chal is None
    lines = [r for r in caplog.records if r.name == "syncml_codec.engine" and r.getMessage().startswith("auth ")]
    assert [r.levelno for r in lines] == [logging.INFO, logging.WARNING]
    assert "reason=wrong-scheme" in lines[0].getMessage()
    assert "reason=wrong-scheme-again policy=md5" in lines[1].getMessage()
    assert store.find_device("test", "test-a") is None and store.items("test", "Contacts") == []
    assert not server.gate.account_failures._table  # not a password guess: not counted


def test_md5_policy_a_client_that_follows_the_challenge_completes_on_md5(store: SQLiteStore) -> None:
    server = server_with(store, auth_policy="md5")
    s = run(server, phone("a", 2))
    assert s.ok and s.header_status == 212 and len(store.items("test", "Contacts")) == 2
    assert not run(server, phone("b"), auth_type="basic").ok  # basic: never accepted
    assert first_status(server, start(phone("b"), auth_type="basic")).data == "403"  # ... then rejected


def test_basic_policy_rechallenges_md5_with_basic_and_sends_no_nonce(store: SQLiteStore) -> None:
    server = server_with(store, auth_policy="basic")
    first = first_status(server, start(phone("a")))
    assert first.data == "401" and first.chal is not None
    assert first.chal.meta.type == "syncml:auth-basic" and not first.chal.meta.next_nonce
    assert first_status(server, start(phone("a"))).data == "403"
    accepted = first_status(server, start(phone("b"), auth_type="basic"))
    assert accepted.data == "212" and accepted.chal is None  # no MD5 NextNonce under basic
    s = run(server, phone("c", 1), auth_type="basic")
    assert s.ok and len(store.items("test", "Contacts")) == 1


def test_a_wrong_scheme_strike_expires_and_is_per_device(store: SQLiteStore) -> None:
    clock = Clock()
    server = SyncServer(store, clock=clock, random_source=counter_random(), auth_policy="md5")
    assert first_status(server, start(phone("a"), auth_type="basic")).data == "401"
    assert first_status(server, start(phone("b"), auth_type="basic")).data == "401"  # another device: its first
    clock.now += server.limits.challenge_ttl + 10
    assert first_status(server, start(phone("a"), auth_type="basic")).data == "401"  # forgotten: challenged again


def test_account_policy_wins_over_the_server_policy(store: SQLiteStore) -> None:
    store.add_user("anna", "pw")
    assert store.set_auth_policy("anna", "basic")
    server = server_with(store, auth_policy="md5")
    assert first_status(server, start(phone("a"), "anna", "pw", "basic")).data == "212"
    assert first_status(server, start(phone("b"), "test", "secret", "basic")).data == "401"  # the server's: md5
    store.set_auth_policy("anna", None)  # back to the server's
    assert first_status(server, start(phone("c"), "anna", "pw", "basic")).data == "401"


def test_basic_only_accounts_are_basic_whatever_the_policy(store: SQLiteStore) -> None:
    store.add_user("carol", "pw", basic_only=True)
    server = server_with(store, auth_policy="md5")
    assert run(server, phone("a"), "carol", "pw", "basic").ok
    status = first_status(server, start(phone("b"), "carol", "pw"))
    assert status.data == "401" and status.chal is not None and status.chal.meta.type == "syncml:auth-basic"


def test_an_unknown_policy_is_refused(store: SQLiteStore) -> None:
    with pytest.raises(ValueError, match="unknown authentication policy"):
        server_with(store, auth_policy="digest")


def test_basic_or_md5_accepts_both(store: SQLiteStore) -> None:
    server = server_with(store)
    assert run(server, phone("a"), auth_type="basic").ok
    assert run(server, phone("b")).ok


# -- the service: account, domain, access list ---------------------------------
def test_a_disabled_domain_is_refused_with_403_and_nothing_stored(store: SQLiteStore,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    store.add_user("anna@example.org", "pw")
    store.add_user("bob@example.net", "pw")
    server = server_with(store)
    store.set_domain_disabled("Example.ORG", True)
    with caplog.at_level(logging.WARNING, logger="syncml_codec.engine"):
        s = run(server, phone("a", 2), "anna@example.org", "pw")
        wrong = first_status(server, start(phone("a"), "anna@example.org", "not-her-password"))
        ghost = first_status(server, start(phone("a"), "nobody@example.org", "x"))
    assert not s.ok and s.header_status == 403
    assert wrong.data == ghost.data == "403" and wrong.chal is None  # the same answer whatever the password
    assert store.items("anna@example.org", "Contacts") == [] and store.devices("anna@example.org") == []
    assert "reason=domain-disabled" in caplog.records[0].getMessage()
    assert not server.gate.account_failures._table
    assert run(server, phone("b"), "bob@example.net", "pw").ok  # other domains go on
    store.set_domain_disabled("example.org", False)
    assert run(server, phone("a"), "anna@example.org", "pw").ok
    assert len(store.items("anna@example.org", "Contacts")) == 1


def test_the_access_list_restricts_the_service(store: SQLiteStore) -> None:
    for name in ("anna@example.org", "bob@example.net", "carl@example.net"):
        store.add_user(name, "pw")
    server = server_with(store, allowed=["anna@example.org", "@EXAMPLE.net"])
    assert run(server, phone("a"), "anna@example.org", "pw").ok
    assert run(server, phone("b"), "carl@example.net", "pw").ok  # by its domain
    refused = run(server, phone("c"))
    assert not refused.ok and refused.header_status == 403
    assert store.items("test", "Contacts") == [] and store.devices("test") == []


def test_a_disabled_account_still_answers_as_a_wrong_password(store: SQLiteStore) -> None:
    server = server_with(store)
    store.set_disabled("test", True)
    s = run(server, phone("a"))
    assert not s.ok and s.header_status == 401 and store.items("test", "Contacts") == []


def test_a_running_session_of_a_domain_disabled_meanwhile_ends_normally(store: SQLiteStore) -> None:
    """As for a disabled account: only the start of a session is checked."""
    store.add_user("anna@example.org", "pw")
    server = server_with(store)
    s = ClientSession(phone("a"), url=server.base_url, user="anna@example.org", password="pw", clock=Clock(),
                      encoding="xml", auth_type="basic")
    request = s.start()
    response = server.handle(request.body, XML, None)
    assert first_status(server, request.body).data == "212"  # (another session: the first message logs in)
    store.set_domain_disabled("example.org", True)
    for _ in range(20):
        request = s.receive(response.body)
        if request is None:
            break
        sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
        response = server.handle(request.body, XML, sid)
    assert s.ok and len(store.items("anna@example.org", "Contacts")) == 1
    assert first_status(server, start(phone("b"), "anna@example.org", "pw", "basic")).data == "403"


# -- HMAC ------------------------------------------------------------------------
def without_cred(body: bytes) -> bytes:
    msg = Message.from_bytes(body)
    return msg.replace(header=dataclasses.replace(msg.header, cred=None)).to_bytes("xml")


def test_hmac_header_authenticates_the_first_message(store: SQLiteStore) -> None:
    server = server_with(store)
    body = without_cred(start(phone("h")))
    first = first_status(server, body, {"x-syncml-hmac": auth.hmac_header("test", "secret", b"", body)})
    assert first.data == "401" and first.chal is not None and first.chal.meta.type == "syncml:auth-MAC"
    nonce = auth.nonce_from_text(first.chal.meta.next_nonce or "")
    header = auth.hmac_header("test", "secret", nonce, body)
    accepted = first_status(server, body, {"x-syncml-hmac": header})
    assert accepted.data == "212" and accepted.chal is not None and accepted.chal.meta.next_nonce
    assert store.find_device("test", "test-h") is not None
    assert first_status(server, body, {"x-syncml-hmac": header}).data == "401"  # the nonce is used up: no replay


def test_hmac_over_another_body_or_with_a_wrong_password_is_refused(store: SQLiteStore) -> None:
    server = server_with(store)
    body = without_cred(start(phone("h")))
    first = first_status(server, body)
    assert first.data == "407" and first.chal is not None
    nonce = auth.nonce_from_text(first.chal.meta.next_nonce or "")
    other = body.replace(b"<MsgID>1</MsgID>", b"<MsgID>2</MsgID>")
    assert other != body
    assert first_status(server, body, {"x-syncml-hmac": auth.hmac_header("test", "secret", nonce, other)}).data \
        == "401"
    assert first_status(server, body, {"x-syncml-hmac": auth.hmac_header("test", "wrong", nonce, body)}).data \
        == "401"
    assert first_status(server, body, {"x-syncml-hmac": "algorithm=MD5, mac=abc"}).data == "401"  # no username
    assert store.find_device("test", "test-h") is None
    assert server.gate.account_failures._table["test"].failures == 2  # the two real guesses


def test_hmac_counts_as_md5_for_the_policy(store: SQLiteStore) -> None:
    server = server_with(store, auth_policy="basic")
    body = without_cred(start(phone("h")))
    status = first_status(server, body, {"x-syncml-hmac": auth.hmac_header("test", "secret", b"n", body)})
    assert status.data == "401" and status.chal is not None and status.chal.meta.type == "syncml:auth-basic"


def test_hmac_of_a_disabled_domain_is_refused(store: SQLiteStore) -> None:
    store.add_user("anna@example.org", "pw")
    store.set_domain_disabled("example.org", True)
    server = server_with(store)
    body = without_cred(start(phone("h"), "anna@example.org", "pw"))
    header = auth.hmac_header("anna@example.org", "pw", b"", body)
    assert first_status(server, body, {"x-syncml-hmac": header}).data == "403"


def test_hmac_session_syncs(store: SQLiteStore) -> None:
    """A whole session started by an HMAC-authenticated message (later ones belong to it by its id)."""
    server = server_with(store)
    client_store = phone("h", 2)
    s = ClientSession(client_store, url=server.base_url, user="test", password="secret", clock=Clock(),
                      encoding="xml")
    body = without_cred(s.start().body)
    nonce = auth.nonce_from_text(first_status(server, body).chal.meta.next_nonce or "")  # type: ignore[union-attr]
    response = server.handle(body, XML, None, headers={"x-syncml-hmac": auth.hmac_header("test", "secret", nonce,
                                                                                         body)})
    for _ in range(20):
        request = s.receive(response.body)
        if request is None:
            break
        sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
        response = server.handle(request.body, XML, sid)
    assert s.ok and len(store.items("test", "Contacts")) == 2 and len(ab(client_store)) == 2
