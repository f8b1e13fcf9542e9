"""Issue 13: ``syncml push USER DEVICE`` writes the notification of a device
registered with ``push`` (or given ``--server-id``), and ``syncml decode`` /
``syncml inspect`` recognise a notification and print it."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from syncml_codec.cli._main import main
from syncml_codec.codec import Notification, SyncAlert
from syncml_codec.codec.san import UIMode
from syncml_codec.engine import ClientSession, ClientStore, SyncServer
from syncml_codec.store import SQLiteStore

from ..conftest import corpus_path
from ..engine.conftest import Clock, counter_random
from ..engine.helpers import device, vcard

SAN01 = ("devices", "sailfishos+buteo-syncml", "tests_meego", "data", "SAN01.bin")


def _sync(server: SyncServer, store: ClientStore, url: str) -> None:
    session = ClientSession(store, url=url, user="test", password="secret", clock=Clock())
    request = session.start()
    for _ in range(20):
        query = urlsplit(request.url).query
        sid = parse_qs(query).get("sessionid", [None])[0]
        response = server.handle(request.body, request.content_type, sid, query=query)
        request = session.receive(response.body, response.content_type)  # type: ignore[assignment]
        if request is None:
            assert session.ok, session.error
            return
    raise AssertionError("the session did not end")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "s.db"
    store = SQLiteStore(path)
    store.add_user("test", "secret")
    server = SyncServer(store, clock=Clock(), random_source=counter_random(), base_url="http://h:8080/sync")
    registered, plain = device("reg", version="2.1"), device("plain")
    registered.datastores["./addressbook"].add(vcard(1, version="2.1"))
    _sync(server, registered, "http://h:8080/sync?push")
    _sync(server, plain, "http://h:8080/sync")
    store.close()
    return path


def _run(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_push_a_registered_device(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file, pw = tmp_path / "n.san", tmp_path / "pw"
    pw.write_text("server-secret\n")
    code, out, err = _run("push", "test", "test-reg", "-o", str(out_file), "--server-password-file", str(pw),
                          "--nonce", "abc", "--sync-type", "refresh-from-server", "--db", str(db), capsys=capsys)
    assert (code, err) == (0, "") and "notification of" in out and "Contacts (addressbook)" in out
    n = Notification.from_bytes(out_file.read_bytes())
    assert n.server_id == "http://h:8080/sync" and n.ui_mode == UIMode.BACKGROUND
    assert n.alerts == (SyncAlert(210, "addressbook", "text/x-vcard", 7),)
    assert n.verify("server-secret", "abc") and not n.verify("", "abc")
    # decode recognises it, checks the digest when told the password, and fails on a wrong one
    code, out, err = _run("decode", str(out_file), "--server-password-file", str(pw), "--nonce", "abc",
                          capsys=capsys)
    assert code == 0 and "Data Sync Notification" in out and "verified" in out and "'addressbook'" in out
    pw.write_text("wrong\n")
    code, out, err = _run("decode", str(out_file), "--server-password-file", str(pw), "--nonce", "abc",
                          capsys=capsys)
    assert code == 1 and "does NOT match" in out and "digest does not match" in err


def test_push_an_unregistered_device_needs_a_server_id(db: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run("push", "test", "test-plain", "-o", str(tmp_path / "x"), "--db", str(db), capsys=capsys)
    assert code == 1 and "not registered for server-alerted sync" in err and "--server-id" in err
    assert not (tmp_path / "x").exists()
    code, _out, err = _run("push", "test", "test-plain", "-o", str(tmp_path / "x"), "--server-id", "syncml",
                          "--datastore", "calendar", "--datastore", "addressbook", "--ui-mode", "user-interaction",
                          "--session-id", "7", "--db", str(db), capsys=capsys)
    assert code == 0, err
    n = Notification.from_bytes((tmp_path / "x").read_bytes())
    assert (n.server_id, n.session_id, n.ui_mode) == ("syncml", 7, UIMode.USER_INTERACTION)
    assert [(a.sync_type, a.server_uri) for a in n.alerts] == [(206, "Events"), (206, "Contacts")]
    assert n.verify("", "")


def test_push_refuses_what_does_not_exist(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("push", "nobody", "x", "--db", str(db), capsys=capsys)[2].startswith("syncml push: no user")
    assert "no device" in _run("push", "test", "nope", "--db", str(db), capsys=capsys)[2]
    with pytest.raises(SystemExit):
        main(["push", "test", "test-reg", "--session-id", "70000", "--db", str(db)])
    with pytest.raises(SystemExit):
        main(["push", "test", "test-reg", "--datastore", "nothing", "--db", str(db)])


def test_decode_and_inspect_a_real_notification(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = str(corpus_path(*SAN01))
    code, out, _ = _run("decode", path, capsys=capsys)
    assert code == 0
    assert "SyncML 1.2, UI mode background, initiated by the server, session 0" in out
    assert "server 'PC Suite Data Sync'" in out and "not checked" in out
    assert "alert 206 (Two-way sync alerted by server): 'Contacts', content type not given" in out
    empty = tmp_path / "empty"
    empty.write_text("\n")
    code, out, _ = _run("decode", path, "--server-password-file", str(empty), capsys=capsys)
    assert code == 0 and ": verified" in out
    code, out, _ = _run("inspect", path, capsys=capsys)
    assert code == 0 and "Data Sync Notification" in out and "'Contacts'" in out


def test_device_show_tells_the_registration(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run("device", "show", "test", "test-reg", "--db", str(db), "--json", capsys=capsys)
    (push,) = json.loads(out)["push"]
    assert code == 0 and (push["datastore"], push["server_id"], push["server_uri"]) == (
        "Contacts", "http://h:8080/sync", "addressbook")
    code, out, _ = _run("device", "show", "test", "test-reg", "--db", str(db), capsys=capsys)
    assert code == 0 and "Contacts: registered for server-alerted sync" in out
    code, out, _ = _run("device", "show", "test", "test-plain", "--db", str(db), "--json", capsys=capsys)
    assert code == 0 and json.loads(out)["push"] == []
