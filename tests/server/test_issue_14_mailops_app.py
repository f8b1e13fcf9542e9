"""Issue 14, part "mailops": ``syncml mail imap`` (an account's sealed IMAP
settings), ``create_app(SYNCML_IMAP=1)`` / ``syncml serve --imap`` serving
the account's IMAP mail to our client over the WSGI app, and ``syncml
backup restore`` refusing mail folders clearly."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from syncml_codec.cli._main import main
from syncml_codec.engine import ClientSession, ClientStore
from syncml_codec.formats import EmailObject
from syncml_codec.mail import INBOX, ImapBackend
from syncml_codec.store import SQLiteStore

from ..engine.conftest import Clock
from ..mail.conftest import empty_imap, imap_url
from .test_issue_12_app import database
from .test_issue_14_mailds_app import MAIL, call

URL = "imap://anna@mail.example.org:1143"


def cli(capsys: pytest.CaptureFixture[str], *args: str, stdin: str | None = None,
        monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[int, str, str]:
    if stdin is not None and monkeypatch is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_issue_14_mail_imap_sets_shows_and_clears(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    db = database(tmp_path)
    code, out, err = cli(capsys, "mail", "imap", "test", URL, "--password-stdin", "--db", db,
                         stdin="S3cret/pw\n", monkeypatch=monkeypatch)
    assert code == 0, err
    assert out == "IMAP settings of test: imap://anna@mail.example.org:1143 (password kept sealed)\n"
    store = SQLiteStore(db)
    try:
        assert store.mail_imap("test") == "imap://anna:S3cret%2Fpw@mail.example.org:1143"
    finally:
        store.close()
    assert b"S3cret" not in Path(db).read_bytes()
    code, out, _ = cli(capsys, "mail", "imap", "test", "--db", db, "--json")
    assert code == 0 and "S3cret" not in out
    assert '"imap": "imap://anna@mail.example.org:1143"' in out and '"action": "shown"' in out
    code, out, _ = cli(capsys, "mail", "imap", "test", "--clear", "--db", db)
    assert code == 0 and out == "IMAP settings of test removed\n"
    code, out, _ = cli(capsys, "mail", "imap", "test", "--db", db)
    assert out == "IMAP settings of test: none\n"


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["imap://anna@mail.example.org", "--db", "DB"], "", "no IMAP password"),
    (["imap://anna:pw@mail.example.org", "--password-stdin", "--db", "DB"], "pw\n", "give it once"),
    (["imap://anna@mail.example.org", "--password-stdin", "--db", "DB"], "\n", "empty IMAP password"),
    (["http://anna:pw@mail.example.org", "--db", "DB"], "", "imap://login@host"),
    (["imap://mail.example.org", "--db", "DB"], "", "imap://login@host"),
    (["imap://anna:pw@mail.example.org/INBOX", "--db", "DB"], "", "no path"),
    (["imap://anna:pw@mail.example.org:99999", "--db", "DB"], "", "port"),
    (["imap://anna:pw@mail.example.org", "--clear", "--db", "DB"], "", "--clear takes no URL"),
])
def test_issue_14_mail_imap_refuses_bad_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch, args: list[str], stdin: str,
                                                  message: str) -> None:
    db = database(tmp_path)
    code, out, err = cli(capsys, "mail", "imap", "test", *[db if a == "DB" else a for a in args], stdin=stdin,
                         monkeypatch=monkeypatch)
    assert code != 0 and message in err and out == ""
    assert "pw" not in err.replace("--password-stdin", "")
    store = SQLiteStore(db)
    try:
        assert store.mail_imap("test") is None
    finally:
        store.close()


def test_issue_14_mail_imap_unknown_account_and_failed_check(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    db = database(tmp_path)
    code, _, err = cli(capsys, "mail", "imap", "nobody", "imap://a:pw@mail.example.org", "--db", db)
    assert code == 1 and "no user 'nobody'" in err
    url = imap_url()
    wrong = url.replace(":syncml-imap@", ":wrong-password@")
    code, _, err = cli(capsys, "mail", "imap", "test", wrong, "--check", "--db", db)
    assert code == 1 and "refused" in err and "wrong-password" not in err
    code, _, err = cli(capsys, "mail", "imap", "test", url, "--check", "--db", db)
    assert code == 0, err


def test_issue_14_create_app_serves_the_accounts_imap_mail(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    url = imap_url()
    box = ImapBackend.from_url(url)
    try:
        empty_imap(box)
        box.add(INBOX, MAIL, {"read"})
    finally:
        box.close()
    db = database(tmp_path)
    login, _, rest = url.removeprefix("imap://").partition("@")
    code, _, err = cli(capsys, "mail", "imap", "test", f"imap://{login.split(':')[0]}@{rest}", "--password-stdin",
                       "--db", db, stdin=login.split(":", 1)[1] + "\n", monkeypatch=monkeypatch)
    assert code == 0, err
    app: Any = __import__("syncml_codec.server", fromlist=["create_app"]).create_app(
        {"SYNCML_DB": db, "SYNCML_IMAP": "1", "SYNCML_LOG_LEVEL": "warning"})
    try:
        client = ClientStore("test-imap-app")
        client.add_datastore("./mail", "inbox", "application/vnd.omads-email+xml", "1.2")
        session = ClientSession(client, url="http://127.0.0.1:8000/sync", user="test", password="secret",
                                auth_type="basic", clock=Clock())
        request = session.start()
        for _ in range(20):
            next_request = session.receive(call(app, request.url, request.body, request.content_type))
            if next_request is None:
                break
            request = next_request
        assert session.ok
        (data,) = client.datastores["./mail"].items.values()
        obj = EmailObject.parse(data)
        assert obj.read is True and (obj.emailitem or b"").replace(b"\r\n", b"\n") == MAIL.replace(b"\r\n", b"\n")
    finally:
        app.close()


def test_issue_14_imap_settings_of_serve_and_create_app(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from syncml_codec.server import ConfigError, create_app

    with pytest.raises(ConfigError, match="SYNCML_IMAP"):
        create_app({"SYNCML_DB": database(tmp_path), "SYNCML_IMAP": "maybe"})
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    assert "--imap" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["mail", "imap", "--help"])
    assert "--password-stdin" in capsys.readouterr().out


def test_issue_14_backup_restore_refuses_mail_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = database(tmp_path)
    for args in (["Mail/phone1"], ["inbox/phone1"], ["phone1", "--datastore", "Mail"],
                 ["phone1", "--datastore", "mail/Sent"]):
        code, _, err = cli(capsys, "backup", "restore", "test", *args, "--device", "phone", "--db", db,
                           "--backup-dir", str(tmp_path / "backups"))
        assert code != 0 and "mail folders are not backed up or restored" in err, args
