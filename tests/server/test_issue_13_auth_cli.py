"""Issue 13 (auth): ``syncml user add|passwd --auth-policy/--encryption-key``,
``syncml user policy``, ``syncml domain enable|disable|list``, and the
server settings ``SYNCML_AUTH_POLICY`` / ``SYNCML_ALLOW`` of ``create_app``
(``syncml serve --auth-policy/--allow``: the SyncEvolution tests)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncml_codec.cli import main
from syncml_codec.server import ConfigError, create_app
from syncml_codec.store import SQLiteStore


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_user_add_with_policy_and_key_then_policy_and_passwd(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "s.db")
    code, out, _ = run(capsys, "user", "add", "anna@example.org", "--password", "pw", "--auth-policy", "md5",
                       "--encryption-key", "Sesame-42", "--db", db, "--json")
    assert code == 0 and json.loads(out) == {"action": "added", "user": "anna@example.org", "basic_only": False,
                                             "db": db, "auth_policy": "md5", "encryption_key": True}
    assert "Sesame-42" not in out
    store = SQLiteStore(db)
    try:
        assert store.account("anna@example.org").auth_policy == "md5"
        assert store.data_key("anna@example.org") == "Sesame-42"
    finally:
        store.close()
    assert b"Sesame-42" not in Path(db).read_bytes()
    code, out, _ = run(capsys, "user", "list", "--db", db)
    assert out == "anna@example.org (policy md5, encryption key)\n"
    code, out, _ = run(capsys, "user", "policy", "anna@example.org", "basic", "--db", db)
    assert code == 0 and out == f"user anna@example.org authenticates with basic policy ({db})\n"
    code, out, _ = run(capsys, "user", "passwd", "anna@example.org", "--password", "new", "--encryption-key", "",
                       "--db", db, "--json")
    assert json.loads(out)["encryption_key"] is False
    code, out, _ = run(capsys, "user", "policy", "anna@example.org", "default", "--db", db, "--json")
    assert json.loads(out) == {"action": "policy", "user": "anna@example.org", "auth_policy": None, "db": db}
    code, out, _ = run(capsys, "user", "list", "--db", db, "--json")
    assert json.loads(out)["users"] == [{"name": "anna@example.org", "basic_only": False, "disabled": False,
                                         "auth_policy": None, "encryption_key": False}]


def test_a_basic_only_account_cannot_be_md5(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "s.db")
    code, _, err = run(capsys, "user", "add", "carol", "--password", "pw", "--basic-only", "--auth-policy", "md5",
                       "--db", db)
    assert code == 1 and "basic-only account cannot use MD5" in err
    assert run(capsys, "user", "add", "carol", "--password", "pw", "--basic-only", "--db", db)[0] == 0
    code, _, err = run(capsys, "user", "policy", "carol", "md5", "--db", db)
    assert code == 1 and err.count("\n") == 1
    code, _, err = run(capsys, "user", "policy", "nobody", "md5", "--db", db)
    assert code == 1 and "no user 'nobody'" in err


def test_domain_disable_enable_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "s.db")
    for name in ("anna@example.org", "bob@Example.org", "carl@example.net", "test"):
        assert run(capsys, "user", "add", name, "--password", "pw", "--db", db)[0] == 0
    code, out, _ = run(capsys, "domain", "disable", "@Example.ORG", "--db", db)
    assert code == 0 and out == f"disabled domain example.org: 2 accounts ({db})\n"
    code, out, _ = run(capsys, "domain", "disable", "gone.example", "--db", db, "--json")
    assert json.loads(out) == {"action": "disabled", "domain": "gone.example", "accounts": 0, "db": db}
    code, out, _ = run(capsys, "domain", "list", "--db", db)
    assert out == ("example.net  1 account\nexample.org  2 accounts  disabled\n"
                   "gone.example  0 accounts  disabled\n")
    run(capsys, "domain", "enable", "example.org", "--db", db)
    code, out, _ = run(capsys, "domain", "list", "--db", db, "--json")
    assert json.loads(out)["domains"][1] == {"domain": "example.org", "accounts": 2, "disabled": False}
    code, _, err = run(capsys, "domain", "disable", "a b", "--db", db)
    assert code == 1 and "bad domain" in err
    code, _, err = run(capsys, "domain", "list", "--db", str(tmp_path / "none.db"))
    assert code == 1 and "no such database" in err


def test_create_app_auth_settings(tmp_path: Path) -> None:
    db = str(tmp_path / "a.db")
    app = create_app({"SYNCML_DB": db, "SYNCML_AUTH_POLICY": "MD5", "SYNCML_ALLOW": "anna, @example.org",
                      "SYNCML_LOG_LEVEL": "warning"})
    try:
        engine = app._handler._make(SQLiteStore(":memory:"))  # what each worker process builds
        assert engine.gate.policy == "md5" and engine.gate.allowed == frozenset({"anna", "@example.org"})
    finally:
        app.close()
    with pytest.raises(ConfigError, match="SYNCML_AUTH_POLICY must be one of basic-or-md5, basic, md5"):
        create_app({"SYNCML_DB": db, "SYNCML_AUTH_POLICY": "digest"})
