"""Issue 12, item 5 (rest): ``syncml device|session|conflict`` run as an
operator would, on a database filled by real syncs of our own client
(:mod:`syncml_codec.engine.client`) with our server, and the one
end-of-session log line."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from syncml_codec.cli._main import main
from syncml_codec.engine import ClientSession, ClientStore, SyncServer
from syncml_codec.store import SQLiteStore
from syncml_codec.store.base import Anchors, DeviceFormat, LiveSession

from ..engine.conftest import Clock, counter_random
from ..engine.helpers import ab, device, vcard
from .test_cli_serve import Serve, syncml

ADDRESS = "192.0.2.7"


def sync(server: SyncServer, store: ClientStore, user: str = "test", password: str = "secret") -> ClientSession:
    """One session of ``store`` over ``server`` as ``user``, from :data:`ADDRESS`."""
    session = ClientSession(store, url=server.base_url, user=user, password=password, clock=Clock(),
                            encoding="wbxml")
    request = session.start()
    for _ in range(40):
        sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
        response = server.handle(request.body, request.content_type, sid, remote=ADDRESS)
        next_request = session.receive(response.body, response.content_type)
        if next_request is None:
            return session
        request = next_request
    raise AssertionError("the session did not end")


class World:
    """A database on disk, the server on it, and the devices that synced."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.store = SQLiteStore(db)
        self.store.add_user("test", "secret")
        self.store.add_user("carol", "pw")
        self.server = SyncServer(self.store, clock=Clock(), random_source=counter_random())
        self.a, self.b, self.phone = device("a"), device("b"), device("phone")

    def run(self, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
        """``syncml ARGS --db DB``: exit status, stdout, stderr."""
        code = main([*args, "--db", str(self.db)])
        out, err = capsys.readouterr()
        return code, out, err

    def json(self, *args: str, capsys: pytest.CaptureFixture[str]) -> dict:  # type: ignore[type-arg]
        code, out, err = self.run(*args, "--json", capsys=capsys)
        assert code == 0, err
        assert out.count("\n") == 1  # one document, one line
        return json.loads(out)  # type: ignore[no-any-return]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """Device a adds two contacts, b receives them, carol's phone syncs an empty addressbook."""
    w = World(tmp_path / "s.db")
    for n in (1, 2):
        w.a.datastores["./addressbook"].add(vcard(n))
    assert sync(w.server, w.a).ok and sync(w.server, w.b).ok
    assert sync(w.server, w.phone, "carol", "pw").ok
    yield w
    w.store.close()


def test_device_list(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    doc = world.json("device", "list", capsys=capsys)
    assert [(d["user"], d["device"]) for d in doc["devices"]] == [
        ("carol", "test-phone"), ("test", "test-a"), ("test", "test-b")]
    a = doc["devices"][1]
    assert (a["manufacturer"], a["model"], a["software"]) == ("syncml-codec", "syncml-codec client", "0.1")
    assert a["datastores"] == ["Contacts"] and a["last_session"]["outcome"] == "ok"
    assert a["last_session"]["device"] == "test-a" and a["last_session"]["user"] == "test"
    assert doc["db"] == str(world.db)
    doc = world.json("device", "list", "--user", "test", capsys=capsys)
    assert [d["device"] for d in doc["devices"]] == ["test-a", "test-b"]
    code, out, _ = world.run("device", "list", capsys=capsys)
    lines = out.splitlines()
    assert code == 0 and len(lines) == 4 and lines[0].split() == ["USER", "DEVICE", "MODEL", "DATASTORES", "LAST",
                                                                  "SESSION"]
    assert lines[2].split()[:5] == ["test", "test-a", "syncml-codec", "syncml-codec", "client"]
    assert lines[2].endswith(" ok") and "Contacts" in lines[2]


def test_device_show(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    doc = world.json("device", "show", "test", "test-b", capsys=capsys)
    assert doc["user"] == "test" and doc["device"] == "test-b" and doc["devinf_error"] is None
    devinf = doc["devinf"]
    assert devinf["model"] == "syncml-codec client" and devinf["type"] == "workstation"
    assert devinf["datastores"] == [{"uri": "./addressbook", "name": None, "receives": ["text/vcard 3.0"],
                                     "sends": ["text/vcard 3.0"], "sync_types": [1, 2, 3, 4, 5, 6, 7]}]
    (state,) = doc["datastores"]
    assert state["datastore"] == "Contacts" and not state["slow_next"] and state["client_anchor"]
    assert (state["mapped"], state["pending"], state["map_size"]) == (2, 0, 2)  # the two contacts it received
    (session,) = doc["sessions"]
    assert session["outcome"] == "ok" and session["device"] == "test-b"
    code, out, _ = world.run("device", "show", "test", "test-b", capsys=capsys)
    assert code == 0 and out.startswith("device test-b of user test\n  manufacturer: syncml-codec\n")
    assert "  Contacts: anchors client " in out and "map 2 (2 mapped, 0 awaiting a Map)" in out
    assert "datastore ./addressbook: receives text/vcard 3.0; sends text/vcard 3.0; sync types 1 2 3 4 5 6 7" in out


def test_device_reset_forces_a_slow_sync_without_duplicates(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    doc = world.json("device", "reset", "test", "test-a", "--datastore", "./AddressBook", capsys=capsys)
    assert doc == {"action": "reset", "user": "test", "device": "test-a", "datastores": ["Contacts"],
                   "db": str(world.db)}
    (state,) = world.json("device", "show", "test", "test-a", capsys=capsys)["datastores"]
    assert state["slow_next"] and state["map_size"] == 2  # the map stays
    session = sync(world.server, world.a)
    assert session.ok and session.reports["./addressbook"].mode == 201  # slow
    assert len(world.store.items("test", "Contacts")) == 2 and len(ab(world.a)) == 2  # paired, not duplicated
    (state,) = world.json("device", "show", "test", "test-a", capsys=capsys)["datastores"]
    assert not state["slow_next"]
    code, out, _ = world.run("device", "reset", "test", "test-a", capsys=capsys)  # every datastore
    assert code == 0
    assert out == f"reset Contacts of device test-a of user test: its next sync of it is slow ({world.db})\n"
    code, out, _ = world.run("device", "reset", "test", "test-a", capsys=capsys)
    assert code == 0
    assert out == f"device test-a of user test has no anchors: its next sync is slow already ({world.db})\n"
    assert world.json("device", "reset", "test", "test-a", capsys=capsys)["datastores"] == []
    assert sync(world.server, world.a).reports["./addressbook"].mode == 201


def test_session_list(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    doc = world.json("session", "list", capsys=capsys)
    assert [(s["user"], s["device"], s["outcome"]) for s in doc["sessions"]] == [
        ("test", "test-a", "ok"), ("test", "test-b", "ok"), ("carol", "test-phone", "ok")]
    assert all(s["started"] <= s["ended"] for s in doc["sessions"]) and doc["live"] == []
    assert doc["sessions"][0]["detail"].startswith("Contacts:201")
    assert [s["device"] for s in world.json("session", "list", "--last", "2", capsys=capsys)["sessions"]] == [
        "test-b", "test-phone"]
    assert [s["device"] for s in world.json("session", "list", "--user", "test", "--last", "1",
                                            capsys=capsys)["sessions"]] == ["test-b"]
    code, out, _ = world.run("session", "list", "--user", "carol", capsys=capsys)
    header, row = out.splitlines()
    assert code == 0 and header.split() == ["ENDED", "USER", "DEVICE", "SESSION", "TOOK", "OUTCOME", "DETAIL"]
    assert row.split()[1:3] == ["carol", "test-phone"] and " ok " in row


@pytest.mark.skipif(not hasattr(SQLiteStore, "live_sessions"), reason="the store keeps no live sessions yet (H1)")
def test_session_list_shows_a_running_session(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    session = ClientSession(world.a, url=world.server.base_url, user="test", password="secret", clock=Clock())
    request = session.start()
    reply = world.server.handle(request.body, request.content_type, None, remote=ADDRESS)
    assert session.receive(reply.body, reply.content_type) is not None  # the session goes on
    live = world.json("session", "list", "--user", "test", capsys=capsys)["live"]
    assert [(s["user"], s["device"], s["session"]) for s in live] == [("test", "test-a", reply.session_id)]
    code, out, _ = world.run("session", "list", capsys=capsys)
    assert code == 0 and "running:" in out and reply.session_id in out.split("running:")[1]


def test_conflict_list_and_show(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert world.json("conflict", "list", capsys=capsys)["conflicts"] == []
    on_a = next(luid for luid, data in ab(world.a).items() if b"Doe1" in data)
    on_b = next(luid for luid, data in ab(world.b).items() if b"Doe1" in data)
    world.a.datastores["./addressbook"].update(on_a, vcard(1, "from a"))
    assert sync(world.server, world.a).ok
    world.b.datastores["./addressbook"].update(on_b, vcard(1, "from b"))
    assert sync(world.server, world.b).ok  # server wins: b's version is the loser
    (conflict,) = world.json("conflict", "list", capsys=capsys)["conflicts"]
    assert conflict["id"] >= 1 and (conflict["user"], conflict["device"], conflict["datastore"]) == (
        "test", "test-b", "Contacts")
    assert conflict["reason"] == "both changed; server wins" and conflict["size"] > 0
    assert world.json("conflict", "list", "--user", "carol", capsys=capsys)["conflicts"] == []
    shown = world.json("conflict", "show", str(conflict["id"]), capsys=capsys)
    assert "NOTE:from b" in shown["data"] and {k: shown[k] for k in conflict} == conflict
    code, out, _ = world.run("conflict", "show", str(conflict["id"]), capsys=capsys)
    assert code == 0 and out.startswith(f"conflict {conflict['id']}: Contacts item {conflict['item']} of user "
                                        "test, device test-b\n")
    assert "  reason: both changed; server wins\n" in out and "    NOTE:from b\n" in out
    code, out, _ = world.run("conflict", "list", capsys=capsys)
    assert code == 0 and out.splitlines()[1].split()[0] == str(conflict["id"])


@pytest.mark.parametrize(("args", "message"), [
    (["device", "show", "nobody", "x"], "no user 'nobody'"),
    (["device", "show", "test", "test-zz"], "no device 'test-zz' of user 'test'"),
    (["device", "reset", "carol", "test-a"], "no device 'test-a' of user 'carol'"),
    (["device", "list", "--user", "nobody"], "no user 'nobody'"),
    (["session", "list", "--user", "nobody"], "no user 'nobody'"),
    (["conflict", "list", "--user", "nobody"], "no user 'nobody'"),
    (["conflict", "show", "99"], "no conflict 99"),
])
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_not_found_is_one_line_and_status_1(world: World, capsys: pytest.CaptureFixture[str], args: list[str],
                                            message: str, as_json: bool) -> None:
    code, out, err = world.run(*args, *(["--json"] if as_json else []), capsys=capsys)
    assert code == 1 and out == "" and err.count("\n") == 1 and message in err and err.startswith("syncml ")


@pytest.mark.parametrize("args", [["device", "reset", "test", "test-a", "--datastore", "mail"],
                                  ["session", "list", "--last", "0"], ["session", "list", "--last", "x"],
                                  ["conflict", "show", "abc"], ["device", "show", "test"]])
def test_bad_options_exit_2(world: World, capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        world.run(*args, capsys=capsys)
    assert exited.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_no_database_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["device", "list", "--db", str(tmp_path / "none.db")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such database" in err and not (tmp_path / "none.db").exists()


# -- the end-of-session log line ------------------------------------------------------
def ends(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("session end:")
            and r.levelno == logging.INFO]


def test_one_line_per_session_with_counts_both_ways(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    w = World(tmp_path / "s.db")
    with caplog.at_level(logging.INFO, logger="syncml_codec.engine"):
        for n in (1, 2, 3):
            w.a.datastores["./addressbook"].add(vcard(n))
        assert sync(w.server, w.a).ok
        assert sync(w.server, w.b).ok
        luids = sorted(ab(w.a))
        w.a.datastores["./addressbook"].update(luids[0], vcard(1, "changed"))
        w.a.datastores["./addressbook"].delete(luids[1])
        assert sync(w.server, w.a).ok
        on_b = next(luid for luid, data in ab(w.b).items() if b"Doe1" in data)
        w.b.datastores["./addressbook"].update(on_b, vcard(1, "b too"))
        w.b.datastores["./addressbook"].add(vcard(4))
        assert sync(w.server, w.b).ok
    sid = w.store.sessions()[0].session_id  # the server's id of a's first session
    w.store.close()
    lines = ends(caplog)
    assert len(lines) == 4 and all("\n" not in line for line in lines)
    assert lines[0] == (f"session end: session={sid} user=\"test\" device=\"test-a\" address={ADDRESS} "
                        f"duration={lines[0].split('duration=')[1].split()[0]} "
                        "Contacts=slow to_server=+3/~0/-0 to_client=+0/~0/-0 conflicts=0 outcome=ok")
    assert float(lines[0].split("duration=")[1].split("s ")[0]) > 0
    assert "device=\"test-b\"" in lines[1] and " Contacts=slow to_server=+0/~0/-0 to_client=+3/~0/-0 " in lines[1]
    assert " Contacts=two-way to_server=+0/~1/-1 to_client=+0/~0/-0 conflicts=0 outcome=ok" in lines[2]
    # b: its change loses (server wins: our version goes back), its Add is new, a's Delete reaches it
    assert " Contacts=two-way to_server=+1/~0/-0 to_client=+0/~1/-1 conflicts=1 outcome=ok" in lines[3]


def test_a_failed_session_says_why(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    w = World(tmp_path / "s.db")
    w.a.datastores["./addressbook"].add(vcard(1))

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError('disk "full"\nforged line')

    monkeypatch.setattr(w.store, "add_item", broken)
    with caplog.at_level(logging.INFO, logger="syncml_codec.engine"):
        assert not sync(w.server, w.a).ok
    w.store.close()
    (line,) = ends(caplog)
    assert line.startswith("session end: ") and f"address={ADDRESS} " in line and "\n" not in line
    assert line.endswith(r'Contacts=slow to_server=+0/~0/-0 to_client=+0/~0/-0 conflicts=0 '
                         r'outcome=failed reason="disk \"full\"\nforged line"')


def test_auth_failures_are_warnings(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    w = World(tmp_path / "s.db")
    with caplog.at_level(logging.INFO, logger="syncml_codec.engine"):
        assert not sync(w.server, w.a, password="wrong").ok
    w.store.close()
    failures = [r for r in caplog.records if r.getMessage().startswith("auth failure:")]
    assert failures and all(r.levelno == logging.WARNING for r in failures)
    assert ends(caplog) == []  # no session: no end line


def test_session_list_shows_running_sessions_not_finished_ones(world: World, capsys: pytest.CaptureFixture[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """What ``session list`` makes of the store's live sessions (a stand-in
    for them here: the test above runs a real one once the store keeps them)."""
    rows = [LiveSession("s-run", "test", "test-a", 1_700_000_100.0, False),
            LiveSession("s-done", "test", "test-b", 1_700_000_200.0, True),  # kept for a resent last message
            LiveSession("s-carol", "carol", "test-phone", 1_700_000_300.0, False)]

    def live_sessions(self: SQLiteStore, user: str | None = None, device_id: str | None = None) -> list[LiveSession]:
        return [r for r in rows if user in (None, r.user) and device_id in (None, r.device_id)]

    monkeypatch.setattr(SQLiteStore, "live_sessions", live_sessions, raising=False)
    assert world.json("session", "list", "--user", "test", capsys=capsys)["live"] == [
        {"session": "s-run", "user": "test", "device": "test-a", "last_seen": 1_700_000_100.0}]
    code, out, _ = world.run("session", "list", "--last", "1", capsys=capsys)
    lines = out.splitlines()
    assert code == 0 and lines[2] == "running:" and lines[3].split() == ["LAST", "MESSAGE", "USER", "DEVICE", "SESSION"]
    assert [line.split()[1:] for line in lines[4:]] == [["test", "test-a", "s-run"], ["carol", "test-phone", "s-carol"]]


# -- the store's operator views, directly ----------------------------------------------
def test_store_operator_views(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    a, b, c = store.device("test", "b-dev"), store.device("test", "a-dev"), store.device("carol", "z")
    assert [(d.user, d.device_id) for d in store.devices()] == [("carol", "z"), ("test", "a-dev"), ("test", "b-dev")]
    assert [d.device_id for d in store.devices("test")] == ["a-dev", "b-dev"] and store.devices("nobody") == []
    assert store.device_state(a) == []
    store.set_anchors(a, "Contacts", "c1", "s1")
    store.set_map(a, "Events", "luid-1", "1", 1)
    store.set_map(a, "Events", None, "2", 2)  # sent, its Map not come yet
    store.set_map(a, "Events", None, "3", 3)
    store.set_device_format(a, "Notes", DeviceFormat("text/plain"))
    states = store.device_state(a)
    assert [(s.datastore, s.anchors, s.mapped, s.pending, s.format) for s in states] == [
        ("Contacts", Anchors("c1", "s1"), 0, 0, None), ("Events", Anchors(), 1, 2, None),
        ("Notes", Anchors(), 0, 0, DeviceFormat("text/plain"))]
    store.set_anchors(a, "Events", "c2", "s2")
    store.set_anchors(b, "Contacts", "c3", "s3")
    assert store.reset_device(a, "Tasks") == []
    assert store.reset_device(a, "Events") == ["Events"] and store.anchors(a, "Events") == Anchors()
    assert len(store.map_entries(a, "Events")) == 3  # the map stays
    store.set_anchors(a, "Events", "c2", "s2")
    assert store.reset_device(a) == ["Contacts", "Events"] and store.reset_device(a) == []
    assert store.anchors(b, "Contacts") == Anchors("c3", "s3")  # another device's stay
    for n, dev in enumerate((a, c, b, a)):
        store.log_session(dev, f"s{n}", 10.0 * n, 10.0 * n + 5, "ok", f"d{n}")
    assert [(s.session_id, s.user) for s in store.sessions()] == [("s0", "test"), ("s1", "carol"), ("s2", "test"),
                                                                  ("s3", "test")]
    assert [s.session_id for s in store.sessions(last=2)] == ["s2", "s3"]
    assert [s.session_id for s in store.sessions("test", last=2)] == ["s2", "s3"]
    assert [s.session_id for s in store.sessions("test")] == ["s0", "s2", "s3"]
    assert [s.session_id for s in store.sessions("carol", last=5)] == ["s1"]
    store.log_conflict(a, "Contacts", "7", b"lost", "text/vcard", "both changed; server wins", 3.0)
    store.log_conflict(c, "Notes", "8", b"", "text/plain", "both changed; kept both", 4.0)
    everyone = store.conflicts()
    assert [(x.id, x.user, x.device_id, x.guid) for x in everyone] == [(everyone[0].id, "test", "b-dev", "7"),
                                                                       (everyone[1].id, "carol", "z", "8")]
    assert everyone[0].id != everyone[1].id and store.conflicts("carol") == [everyone[1]]
    assert store.conflict(everyone[0].id) == everyone[0] and store.conflict(everyone[1].id + 100) is None
    store.close()


def test_under_syncml_serve(tmp_path: Path) -> None:
    """The operator's view of a running ``syncml serve`` (subprocesses) that
    our client synced with over HTTP, and the session's end line on its stderr."""
    db = str(tmp_path / "serve.db")
    assert syncml("user", "add", "test", "--password", "secret", "--db", db).returncode == 0
    server = Serve(tmp_path)
    try:
        phone = device("phone")
        for n in (1, 2, 3):
            phone.datastores["./addressbook"].add(vcard(n))
        session = ClientSession(phone, url=server.url, user="test", password="secret", clock=Clock())
        request = session.start()
        for _ in range(20):
            path = "/" + request.url.split("/", 3)[3]
            status, headers, body = server.request("POST", path, request.body, request.content_type)
            assert status == 200
            next_request = session.receive(body, headers["Content-Type"])
            if next_request is None:
                break
            request = next_request
        assert session.ok, session.error
        shown = syncml("device", "show", "test", "test-phone", "--db", db, "--json")  # while it serves
        assert shown.returncode == 0, shown.stderr
        (state,) = json.loads(shown.stdout)["datastores"]
        assert state["datastore"] == "Contacts" and state["mapped"] == 3 and not state["slow_next"]
        listed = syncml("session", "list", "--db", db)
        assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 2 and " ok " in listed.stdout
    finally:
        code, _, err = server.stop()
    assert code == 0, err
    (line,) = [line for line in err.splitlines() if "session end:" in line]
    assert line.startswith("INFO: session end: session=")
    assert 'user="test" device="test-phone" address=127.0.0.1 ' in line
    assert line.endswith(" Contacts=slow to_server=+3/~0/-0 to_client=+0/~0/-0 conflicts=0 outcome=ok")
