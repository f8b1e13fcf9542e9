"""Issue 12, item 5: a disabled account (``syncml user disable``) is refused
exactly as a wrong password is -- the same status and challenge, counted by
the same failure counters -- and enabling it gives access back."""

from __future__ import annotations

import logging

import pytest

from syncml_codec.engine import ClientSession, ServerLimits, SyncServer
from syncml_codec.model import Message, Status
from syncml_codec.store import SQLiteStore

from .conftest import Clock, counter_random
from .helpers import ab, device, sync, vcard

WBXML = "application/vnd.syncml+wbxml"


def basic_reply(server: SyncServer, password: str, remote: str = "192.0.2.1") -> Status:
    s = ClientSession(device("phone"), url=server.base_url, user="test", password=password,
                      auth_type="basic", clock=Clock())
    status = Message.from_bytes(server.handle(s.start().body, WBXML, None, remote=remote).body).commands[0]
    assert isinstance(status, Status) and status.cmd == "SyncHdr"
    return status


def test_disabled_md5_sync_is_refused_then_enabled_works(server: SyncServer, store: SQLiteStore) -> None:
    phone = device("a")
    phone.datastores["./addressbook"].items["1"] = vcard(1)
    assert sync(server, phone).ok
    assert store.set_disabled("test", True)
    s = sync(server, phone)
    assert not s.ok and s.header_status == 401
    assert store.set_disabled("test", False)
    assert sync(server, phone).ok
    assert len(store.items("test", "Contacts")) == 1 and len(ab(phone)) == 1


def test_disabled_answer_equals_a_wrong_password(store: SQLiteStore, caplog: pytest.LogCaptureFixture) -> None:
    limits = ServerLimits(auth_failures=5, address_failures=20, lockout=30, max_lockout=900)
    server = SyncServer(store, clock=Clock(), random_source=counter_random(), limits=limits)
    wrong = basic_reply(server, "wrong")
    store.set_disabled("test", True)
    with caplog.at_level(logging.INFO, logger="syncml_codec.engine"):
        disabled = basic_reply(server, "secret")
    assert disabled.data == wrong.data == "401"
    assert disabled.chal is not None and wrong.chal is not None  # a fresh challenge of the same kind
    assert (disabled.chal.meta.type, disabled.chal.meta.format) == (wrong.chal.meta.type, wrong.chal.meta.format)
    assert server.gate.account_failures._table["test"].failures == 2  # counted as the wrong password was
    lines = [r for r in caplog.records if r.getMessage().startswith("auth failure:")]
    assert [r.levelno for r in lines] == [logging.WARNING] * 2
    assert "reason=wrong-credentials failures=1" in lines[0].getMessage()
    assert "reason=account-disabled failures=2" in lines[1].getMessage()
    for _ in range(3):
        basic_reply(server, "secret")
    store.set_disabled("test", False)
    assert basic_reply(server, "secret").data == "401"  # five failures: locked out like any other account
    assert server.gate.account_failures.remaining("test", Clock()()) > 0


def test_disabled_basic_only_account(store: SQLiteStore, server: SyncServer) -> None:
    store.add_user("test", "secret", basic_only=True)
    store.set_disabled("test", True)
    assert basic_reply(server, "secret").data == "401"
    store.add_user("test", "new", basic_only=True)  # a new password keeps it disabled
    assert basic_reply(server, "new").data == "401"
    store.set_disabled("test", False)
    assert basic_reply(server, "new").data == "212"
