"""Issue 13, item 7, with the real client (SyncEvolution): the
authentication policy (``md5`` with SyncEvolution set to basic: its basic
message is never accepted, it follows the MD5 challenge and completes; our
client session insisting on basic a second time is rejected; the mirror
``basic`` with SyncEvolution on md5), and a disabled account and a disabled
domain (rejected, nothing stored)."""

from __future__ import annotations

import http.client
import re
from pathlib import Path
from urllib.parse import urlsplit

from syncml_codec.engine import ClientSession, ClientStore
from syncml_codec.model import Message, Status
from syncml_codec.store import open_store

from .conftest import SE, ServerProcess, syncml_cli
from .items import KINDS, picked


def vcards(count: int) -> list[bytes]:
    return picked(KINDS["vcard30"], count)


def serve(tmp_path: Path, *args: str) -> ServerProcess:
    folder = tmp_path / "server"
    folder.mkdir()
    return ServerProcess(folder, args=args)


def client(se_shim: Path, server: ServerProcess, tmp_path: Path) -> SE:
    return SE(tmp_path / "se", se_shim, server.url, tmp_path / "items")


def items(server: ServerProcess, user: str = "test") -> int:
    db = open_store(str(server.db))
    try:
        return len(db.items(user, "Contacts"))
    finally:
        db.close()


def cred_types(server: ServerProcess) -> list[str]:
    """The Cred types in the transcripts (of the sessions that were admitted)."""
    found = []
    for request in sorted(server.transcripts.glob("*/*request*")):
        found += re.findall(r"syncml:auth-(\w+)", request.read_text(errors="replace"))
    return found


def header_status(url: str, auth_type: str, device: str) -> Status:
    """The SyncHdr Status our client session gets for its first message, over HTTP."""
    store = ClientStore(device)
    store.add_datastore("./addressbook", "addressbook", "text/vcard", "3.0")
    body = ClientSession(store, url=url, user="test", password="secret", auth_type=auth_type,
                         encoding="xml").start().body
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        conn.request("POST", parts.path, body, {"Content-Type": "application/vnd.syncml+xml"})
        reply = conn.getresponse().read()
    finally:
        conn.close()
    status = Message.from_bytes(reply).commands[0]
    assert isinstance(status, Status) and status.cmd == "SyncHdr"
    return status


def test_md5_policy_se_set_to_basic_is_challenged_and_completes_on_md5(se_shim: Path, tmp_path: Path) -> None:
    server = serve(tmp_path, "--auth-policy", "md5")
    try:
        se = client(se_shim, server, tmp_path)
        se.configure("a", auth="basic")
        se.add("a", "addressbook", vcards(2))
        result = se.sync("a")
        assert result["ok"], result
        assert items(server) == 2
        first = header_status(server.url, "basic", "ours")  # our client session, insisting on basic
        second = header_status(server.url, "basic", "ours")
        assert first.data == "401" and first.chal is not None and first.chal.meta.type == "syncml:auth-md5"
        assert second.data == "403" and second.chal is None
    finally:
        assert server.stop() == 0
    log = server.log.read_text()
    # SyncEvolution's basic message was challenged, its session (the transcript) ran on MD5
    assert re.search(r'auth challenge: user="test" device="se-client-a" .* reason=wrong-scheme$', log, re.M)
    assert re.search(r'auth refused: user="test" device="ours" .* reason=wrong-scheme-again', log)
    assert cred_types(server) == ["md5"]


def test_basic_policy_se_set_to_md5_completes_on_basic(se_shim: Path, tmp_path: Path) -> None:
    server = serve(tmp_path, "--auth-policy", "basic")
    try:
        se = client(se_shim, server, tmp_path)
        se.configure("a", auth="md5")
        se.add("a", "addressbook", vcards(1))
        result = se.sync("a")
        assert result["ok"], result
        assert items(server) == 1
    finally:
        assert server.stop() == 0
    # its MD5 message was challenged with basic, which it followed
    assert re.search(r'auth challenge: user="test" device="se-client-a" .* reason=wrong-scheme$',
                     server.log.read_text(), re.M)
    assert cred_types(server) == ["basic"]


def test_disabled_account_is_rejected_and_nothing_stored(se_shim: Path, tmp_path: Path) -> None:
    server = serve(tmp_path)
    try:
        assert syncml_cli("user", "disable", "test", "--db", str(server.db)).returncode == 0
        se = client(se_shim, server, tmp_path)
        se.configure("a", retry_duration=0)
        se.add("a", "addressbook", vcards(1))
        result = se.sync("a", check=False)
        assert not result["ok"]
        assert items(server) == 0
    finally:
        assert server.stop() == 0
    assert "reason=account-disabled" in server.log.read_text()


def test_disabled_domain_is_rejected_and_nothing_stored(se_shim: Path, tmp_path: Path) -> None:
    server = serve(tmp_path)
    try:
        db = str(server.db)
        assert syncml_cli("user", "add", "anna@example.org", "--password", "pw", "--db", db).returncode == 0
        assert syncml_cli("domain", "disable", "example.org", "--db", db).returncode == 0
        se = client(se_shim, server, tmp_path)
        se.configure("a", user="anna@example.org", password="pw", retry_duration=0)
        se.add("a", "addressbook", vcards(1))
        result = se.sync("a", check=False)
        assert not result["ok"]
        assert items(server, "anna@example.org") == 0
        store = open_store(db)
        try:
            assert store.devices("anna@example.org") == []
        finally:
            store.close()
        assert syncml_cli("domain", "enable", "example.org", "--db", db).returncode == 0
        assert se.sync("a")["ok"] and items(server, "anna@example.org") == 1
    finally:
        assert server.stop() == 0
    assert "reason=domain-disabled" in server.log.read_text()
