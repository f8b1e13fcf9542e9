"""Issue 12, item 5: ``syncml user passwd|delete|disable|enable`` and
``--json`` on every user command, run as an operator would (subprocesses),
and a disabled account refused by a running ``syncml serve``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncml_codec.model import Message, Status
from syncml_codec.model.auth import user_password_hash, verify_scrypt
from syncml_codec.store import SQLiteStore

from ..conftest import corpus_path
from .test_cli_serve import Serve, syncml


def account(db: Path, name: str):
    store = SQLiteStore(db)
    try:
        return store.account(name)
    finally:
        store.close()


def test_every_user_command_as_text_and_as_json(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    proc = syncml("user", "add", "test", "--password", "secret", "--db", str(db), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"action": "added", "user": "test", "basic_only": False, "db": str(db)}
    assert proc.stdout.count("\n") == 1
    proc = syncml("user", "add", "carol", "--password", "pw", "--basic-only", "--db", str(db), "--json")
    assert json.loads(proc.stdout)["basic_only"] is True
    assert syncml("user", "disable", "test", "--db", str(db)).stdout == f"disabled user test ({db})\n"
    assert syncml("user", "list", "--db", str(db)).stdout == "carol (basic only)\ntest (disabled)\n"
    proc = syncml("user", "list", "--db", str(db), "--json")
    assert proc.stdout.count("\n") == 1
    assert json.loads(proc.stdout) == {"users": [{"name": "carol", "basic_only": True, "disabled": False,
                                                  "auth_policy": None, "encryption_key": False},
                                                 {"name": "test", "basic_only": False, "disabled": True,
                                                  "auth_policy": None, "encryption_key": False}],
                                       "db": str(db)}
    proc = syncml("user", "enable", "test", "--db", str(db), "--json")
    assert json.loads(proc.stdout) == {"action": "enabled", "user": "test", "db": str(db)}
    assert syncml("user", "list", "--db", str(db)).stdout == "carol (basic only)\ntest\n"
    proc = syncml("user", "disable", "carol", "--db", str(db), "--json")
    assert json.loads(proc.stdout) == {"action": "disabled", "user": "carol", "db": str(db)}
    proc = syncml("user", "delete", "test", "--db", str(db))
    assert proc.returncode == 0 and proc.stdout == f"deleted user test with its devices and items ({db})\n"
    proc = syncml("user", "delete", "carol", "--db", str(db), "--json")
    assert json.loads(proc.stdout) == {"action": "deleted", "user": "carol", "db": str(db)}
    assert syncml("user", "list", "--db", str(db), "--json").stdout == f'{{"users": [], "db": {json.dumps(str(db))}}}\n'


def test_passwd_keeps_basic_only_and_disabled_unless_told(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    syncml("user", "add", "test", "--password", "secret", "--db", str(db))
    syncml("user", "add", "carol", "--password", "pw", "--basic-only", "--db", str(db))
    proc = syncml("user", "passwd", "test", "--password", "new", "--db", str(db))
    assert proc.returncode == 0 and proc.stdout == f"changed the password of user test ({db})\n"
    test = account(db, "test")
    assert test is not None and test.secret == user_password_hash("test", "new") and not test.basic_only
    syncml("user", "disable", "carol", "--db", str(db))
    proc = syncml("user", "passwd", "carol", "--db", str(db), "--json", stdin="fresh\n")  # read as add reads it
    assert json.loads(proc.stdout) == {"action": "changed", "user": "carol", "basic_only": True, "db": str(db)}
    carol = account(db, "carol")
    assert carol is not None and carol.basic_only and carol.disabled and verify_scrypt(carol.secret, "fresh")
    proc = syncml("user", "passwd", "test", "--password", "x", "--basic-only", "--db", str(db))
    assert proc.stdout == f"changed the password of user test (basic auth only, scrypt hash) ({db})\n"
    test = account(db, "test")
    assert test is not None and test.basic_only and verify_scrypt(test.secret, "x")


@pytest.mark.parametrize("command", [["passwd", "nobody", "--password", "x"], ["delete", "nobody"],
                                     ["disable", "nobody"], ["enable", "nobody"]])
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_unknown_account_is_one_line(tmp_path: Path, command: list[str], as_json: bool) -> None:
    db = tmp_path / "s.db"
    syncml("user", "add", "test", "--password", "secret", "--db", str(db))
    proc = syncml("user", *command, "--db", str(db), *(["--json"] if as_json else []))
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr == f"syncml user: no user 'nobody' in {db}\n"
    assert syncml("user", "list", "--db", str(db)).stdout == "test\n"  # nothing created


@pytest.mark.parametrize("command", ["passwd", "delete", "disable", "enable"])
def test_no_database_is_not_created(tmp_path: Path, command: str) -> None:
    db = tmp_path / "none.db"
    proc = syncml("user", command, "test", "--password", "x", "--db", str(db)) if command == "passwd" else \
        syncml("user", command, "test", "--db", str(db))
    assert proc.returncode == 1 and "no such database" in proc.stderr and not db.exists()


def test_passwd_empty_password_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    syncml("user", "add", "test", "--password", "secret", "--db", str(db))
    proc = syncml("user", "passwd", "test", "--db", str(db), stdin="\n")
    assert proc.returncode == 1 and proc.stderr == "syncml user: empty password\n"
    test = account(db, "test")
    assert test is not None and test.secret == user_password_hash("test", "secret")


def header_status(server: Serve) -> str:
    first = corpus_path("syncevolution", "first-request", "wbxml-addressbook-vcard30-basic.wbxml").read_bytes()
    status, headers, body = server.request("POST", "/sync", first, "application/vnd.syncml+wbxml")
    assert status == 200, body[:300]
    reply = Message.from_bytes(body, headers["Content-Type"]).commands[0]
    assert isinstance(reply, Status) and reply.cmd == "SyncHdr"
    return reply.data


def test_running_server_refuses_a_disabled_account_until_enabled(tmp_path: Path) -> None:
    db = str(tmp_path / "serve.db")
    assert syncml("user", "add", "test", "--password", "secret", "--db", db).returncode == 0
    server = Serve(tmp_path)
    try:
        assert header_status(server) == "212"
        assert syncml("user", "disable", "test", "--db", db).returncode == 0
        assert header_status(server) == "401"
        assert syncml("user", "enable", "test", "--db", db).returncode == 0
        assert header_status(server) == "212"
    finally:
        code, _out, err = server.stop()
    assert code == 0, err
    assert "reason=account-disabled" in err
