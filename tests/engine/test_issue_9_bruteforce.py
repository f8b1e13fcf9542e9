"""Issue 9, defect 3: no brute-force limit (20 wrong passwords in 40 ms,
then the right one accepted; failures were INFO lines without the client
address).  Now failures are counted per account and per address, with
temporary lockouts that grow and are capped, on the injected clock; every
failure is a WARNING line fit for fail2ban."""

from __future__ import annotations

import dataclasses
import logging
import re

import pytest

from syncml_codec.engine import ClientSession, ServerLimits, SyncServer
from syncml_codec.model import Cred, Message, Meta, Status, auth
from syncml_codec.store import SQLiteStore

from .conftest import Clock, counter_random
from .helpers import device, sync

WBXML = "application/vnd.syncml+wbxml"
LIMITS = ServerLimits(auth_failures=5, address_failures=20, lockout=30, max_lockout=900)
QUOTED = r'"(?:[^"\\]|\\.)*"'
FAIL2BAN = re.compile(rf"^auth failure: user={QUOTED} device={QUOTED} address=(?P<host>\S+) reason=\S+ "
                      r"failures=\d+( locked=\d+s)?$")


class Frozen:
    """A clock that moves only when the test moves it."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Frozen:
    return Frozen()


@pytest.fixture
def server(store: SQLiteStore, clock: Frozen) -> SyncServer:
    return SyncServer(store, clock=clock, random_source=counter_random(), limits=LIMITS)


def basic(password: str, user: str = "test", device_id: str = "phone") -> bytes:
    s = ClientSession(device(device_id), url="http://127.0.0.1:8080/sync", user=user, password=password,
                      auth_type="basic", clock=Clock())
    return s.start().body


def code(server: SyncServer, body: bytes, remote: str | None = "192.0.2.1") -> str:
    status = Message.from_bytes(server.handle(body, WBXML, None, remote=remote).body).commands[0]
    assert isinstance(status, Status) and status.cmd == "SyncHdr"
    return status.data


def test_twenty_wrong_passwords_then_the_right_one(server: SyncServer, clock: Frozen,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="syncml_codec.engine"):
        assert [code(server, basic(f"guess{n}")) for n in range(20)] == ["401"] * 20
        assert code(server, basic("secret")) == "401"  # locked out: not even checked
        clock.now += 29
        assert code(server, basic("secret")) == "401"
    failures = [r for r in caplog.records if r.getMessage().startswith("auth failure:")]
    assert len(failures) == 5 and all(r.levelno == logging.WARNING for r in failures)
    assert all(FAIL2BAN.match(r.getMessage()) for r in failures)
    assert failures[-1].getMessage().endswith("failures=5 locked=30s")
    refused = [r.getMessage() for r in caplog.records if r.getMessage().startswith("auth refused:")]
    assert len(refused) == 17 and all("reason=locked-out" in m and "address=192.0.2.1" in m for m in refused)
    clock.now += 2  # the lockout is over
    assert code(server, basic("secret")) == "212"


def test_md5_client_locked_out_then_back(server: SyncServer, clock: Frozen) -> None:
    a = device("a")
    for _ in range(10):
        s = sync(server, a, password="wrong")
        assert not s.ok and s.header_status == 401
    s = sync(server, a)
    assert not s.ok and s.header_status == 401  # right password, still locked
    clock.now += 900
    assert sync(server, a).ok


def test_lockout_grows_and_is_capped(server: SyncServer, clock: Frozen) -> None:
    for _ in range(5):
        code(server, basic("wrong"))
    clock.now += 31
    assert code(server, basic("wrong")) == "401"  # the 6th failure: locked 60 s
    clock.now += 45
    assert code(server, basic("secret")) == "401"
    clock.now += 16
    assert code(server, basic("secret")) == "212"  # a success resets the account's counter
    for _ in range(4):
        assert code(server, basic("wrong"), remote="192.0.2.2") == "401"
    assert code(server, basic("secret"), remote="192.0.2.2") == "212"  # 4 < 5: not locked
    seen = []
    for _ in range(12):  # a long attack, one guess as each lockout ends: it doubles, up to max_lockout
        code(server, basic("wrong"), remote=None)
        seen.append(server.gate.account_failures.remaining("test", clock.now))
        clock.now += seen[-1] + 1
    assert seen == [0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900, 900]
    code(server, basic("wrong"), remote=None)
    clock.now += 900
    assert code(server, basic("secret"), remote=None) == "212"  # never locked out for longer


def test_locked_credentials_are_not_checked(server: SyncServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(5):
        code(server, basic("wrong"))

    def boom(*args: object) -> None:
        raise AssertionError("checked while locked")

    monkeypatch.setattr(server.gate, "_check", boom)
    assert code(server, basic("secret")) == "401"


def test_one_address_guessing_many_accounts_is_locked(server: SyncServer, store: SQLiteStore) -> None:
    for n in range(20):
        store.add_user(f"user{n}", "pw")
        assert code(server, basic("wrong", f"user{n}", f"d{n}"), remote="198.51.100.1") == "401"
    assert code(server, basic("secret"), remote="198.51.100.1") == "401"  # the address is locked
    assert code(server, basic("secret"), remote="198.51.100.2") == "212"  # the account is not


def test_counter_tables_stay_bounded(store: SQLiteStore, clock: Frozen) -> None:
    server = SyncServer(store, clock=clock, random_source=counter_random(),
                        limits=dataclasses.replace(LIMITS, max_tracked=100))
    for n in range(1000):  # an attacker rotating addresses and made-up user names
        code(server, basic("x", f"nobody{n}"), remote=f"10.0.{n // 256}.{n % 256}")
    assert len(server.gate.address_failures) <= 100  # (challenge nonces are derived, not kept: issue 12)
    assert len(server.gate.account_failures) == 0  # only real accounts get a counter
    assert store._db.execute("SELECT count(*) FROM devices").fetchone()[0] == 0
    assert store._db.execute("SELECT count(*) FROM used_nonces").fetchone()[0] == 0


def test_failure_lines_escape_what_the_client_sent(server: SyncServer, caplog: pytest.LogCaptureFixture) -> None:
    forged = 'x"\r\nauth failure: user="admin" address=10.9.9.9'
    msg = Message.from_bytes(basic("wrong"))
    src = dataclasses.replace(msg.header.source, loc_uri=forged, loc_name=forged)
    cred = Cred(meta=Meta(format="b64", type="syncml:auth-md5"), data="AAAA")
    body = msg.replace(header=dataclasses.replace(msg.header, source=src, cred=cred)).to_bytes("wbxml")
    with caplog.at_level(logging.WARNING, logger="syncml_codec.engine"):
        assert code(server, body, remote="2001:db8::1") == "401"
    (line,) = [r.getMessage() for r in caplog.records]
    assert "\r" not in line and "\n" not in line and line.startswith("auth failure:")
    match = FAIL2BAN.match(line)
    assert match is not None and match["host"] == "2001:db8::1"
    assert 'user="x\\"\\r\\nauth failure: user=\\"admin\\" address=10.9.9.9"' in line


def test_wrong_md5_over_a_valid_nonce_counts(server: SyncServer, store: SQLiteStore) -> None:
    assert auth.md5_digest("test", "secret", b"n") != auth.md5_digest("test", "wrong", b"n")
    for _ in range(2):  # a wrong password is a failure over the empty nonce and over the challenge's
        assert not sync(server, device("a"), password="wrong").ok
    assert server.gate.account_failures._table["test"].failures == 4
    assert sync(server, device("a")).ok  # 4 < 5: the right password is in, the count reset
    assert "test" not in server.gate.account_failures._table
