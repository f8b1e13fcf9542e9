"""Issue 9, defect 8 (accounts): MD5 auth needs ``b64(md5(user:password))``
on the server, which is as good as the password.  An account restricted to
basic auth keeps a salted scrypt hash instead: basic logins work, MD5 is
refused and challenged with basic, and ``syncml user add --basic-only``
creates such an account."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import syncml_codec
from syncml_codec.engine import ClientSession, SyncServer
from syncml_codec.model import Message, Status
from syncml_codec.store import SQLiteStore

from .conftest import Clock
from .helpers import device, vcard

XML = "application/vnd.syncml+xml"


def sync_as(server: SyncServer, user: str, password: str, auth_type: str, name: str = "a") -> ClientSession:
    store = device(name)
    store.datastores["./addressbook"].add(vcard(1))
    s = ClientSession(store, url=server.base_url, user=user, password=password, auth_type=auth_type,
                      clock=Clock(), encoding="xml")
    request = s.start()
    for _ in range(20):
        sid = request.url.partition("sessionid=")[2] or None
        response = server.handle(request.body, request.content_type, sid)
        nxt = s.receive(response.body)
        if nxt is None:
            return s
        request = nxt
    raise AssertionError("the session did not end")


def test_basic_only_account_syncs_with_basic_and_refuses_md5(server: SyncServer, store: SQLiteStore) -> None:
    store.add_user("carol", "her-password", basic_only=True)
    s = sync_as(server, "carol", "her-password", "basic")
    assert s.ok and s.header_status == 212 and len(store.items("carol", "Contacts")) == 1
    assert not sync_as(server, "carol", "wrong", "basic", "b").ok
    md5 = ClientSession(device("c"), url=server.base_url, user="carol", password="her-password", clock=Clock(),
                        encoding="xml")
    reply = Message.from_bytes(server.handle(md5.start().body, XML, None).body)
    (status,) = reply.commands
    assert isinstance(status, Status) and status.data == "401"
    assert status.chal is not None and status.chal.meta.type == "syncml:auth-basic"
    assert not status.chal.meta.next_nonce
    assert store.find_device("carol", "test-c") is None


def test_the_212_of_a_basic_only_account_carries_no_md5_nonce(server: SyncServer, store: SQLiteStore) -> None:
    store.add_user("carol", "her-password", basic_only=True)
    s = ClientSession(device("a"), url=server.base_url, user="carol", password="her-password", auth_type="basic",
                      clock=Clock(), encoding="xml")
    reply = Message.from_bytes(server.handle(s.start().body, XML, None).body)
    head = reply.commands[0]
    assert isinstance(head, Status) and head.data == "212" and head.chal is None


def test_cli_user_add_basic_only(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    env = dict(os.environ, PYTHONPATH=str(Path(syncml_codec.__file__).resolve().parents[1]))

    def syncml(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "syncml_codec", *args, "--db", str(db)], capture_output=True,
                              text=True, timeout=60, env=env)

    proc = syncml("user", "add", "carol", "--basic-only", "--password", "pw")
    assert proc.returncode == 0, proc.stderr
    assert "basic auth only" in proc.stdout
    assert syncml("user", "add", "test", "--password", "secret").returncode == 0
    assert syncml("user", "list").stdout == "carol (basic only)\ntest\n"
    assert (db.stat().st_mode & 0o777) == 0o600
    store = SQLiteStore(db)
    account = store.account("carol")
    assert account is not None and account.basic_only and account.secret.startswith("scrypt$")
    store.close()


def test_md5_attempts_on_a_basic_only_account_do_not_lock_it(server: SyncServer, store: SQLiteStore) -> None:
    """No digest is compared for them, so they are no guesses: a device
    still configured for MD5 does not lock the account's other devices out."""
    store.add_user("carol", "her-password", basic_only=True)
    for n in range(10):
        md5 = ClientSession(device(f"old{n}"), url=server.base_url, user="carol", password="x", clock=Clock(),
                            encoding="xml")
        assert Message.from_bytes(server.handle(md5.start().body, XML, None, remote="192.0.2.5").body) \
            .commands[0].data == "401"
    assert sync_as(server, "carol", "her-password", "basic").ok
