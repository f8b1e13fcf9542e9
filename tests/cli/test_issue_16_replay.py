"""Issue 16, item 4: ``syncml replay CAPTURE... (--url URL | --in-process --db DB)``.

A recording made against our own server (our :class:`ClientSession` syncing
two devices with a :class:`SyncServer`, every request and answer written to a
file) replays against a fresh server, in process and over HTTP to ``syncml
serve``, with no differences; against a server with another auth policy the
differences are the SyncHdr auth statuses; with a wrong password the login is
refused and everything after differs.  The recorded SyncEvolution sessions
(SyncEvolution's own server) replay without differences where the two servers
agree by design.  Failures (no client message, unreachable URL, HTTP 500, a
silent server, bad options) are one clear line and exit status 1.
"""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

from syncml_codec.cli import main
from syncml_codec.engine import ClientSession, ClientStore, InProcess, Replayer, Response, SyncServer
from syncml_codec.server import HttpTransport, make_app
from syncml_codec.store import SQLiteStore

from ..conftest import CORPUS, DATA
from ..engine.conftest import Clock, counter_random
from ..engine.helpers import device, vcard
from ..interop.conftest import ServerProcess, free_port, python_env

SE_SESSIONS = CORPUS / "syncevolution" / "sessions"
SE_COMBOS = sorted(p.name for p in SE_SESSIONS.iterdir() if p.is_dir()) if SE_SESSIONS.is_dir() else []
BASE_URL = "http://127.0.0.1:8080/sync"


# -- a recording of our own traffic -------------------------------------------
def _run(server: SyncServer, store: ClientStore, session_id: int, out: Path, counter: list[int],
         encoding: str, auth: str) -> None:
    session = ClientSession(store, url=BASE_URL, user="test", password="secret", auth_type=auth,
                            encoding=encoding, clock=Clock(), session_id=str(session_id))
    request = session.start()
    for _ in range(30):
        sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
        response = server.handle(request.body, request.content_type, sid)
        counter[0] += 1
        (out / f"{counter[0]:03d}-request.{encoding}").write_bytes(request.body)
        (out / f"{counter[0]:03d}-response.{encoding}").write_bytes(response.body)
        following = session.receive(response.body, response.content_type)
        if following is None:
            break
        request = following
    assert session.ok


def record(out: Path, encoding: str, auth: str = "basic") -> list[Path]:
    """Four sessions of two devices with our server: A's slow sync of two
    contacts, B receiving them (Maps), A changing one and deleting the other,
    B receiving that (Replace/Delete to our GUIDs); the files in order."""
    out.mkdir(parents=True)
    store = SQLiteStore(":memory:")
    store.add_user("test", "secret")
    server = SyncServer(store, clock=Clock(), random_source=counter_random(), base_url=BASE_URL)
    a, b = device("a"), device("b")
    ab = a.datastores["./addressbook"]
    first, second = ab.add(vcard(1)), ab.add(vcard(2))
    counter = [0]
    _run(server, a, 1, out, counter, encoding, auth)
    _run(server, b, 1, out, counter, encoding, auth)
    ab.update(first, vcard(1, note="changed"))
    ab.delete(second)
    _run(server, a, 2, out, counter, encoding, auth)
    _run(server, b, 2, out, counter, encoding, auth)
    assert len(b.datastores["./addressbook"].items) == 1
    return sorted(out.iterdir())


@pytest.fixture(scope="module", params=["xml", "wbxml"])
def recording(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return record(tmp_path_factory.mktemp("rec") / "capture", request.param)


@pytest.fixture(scope="module")
def md5_recording(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The same with MD5: each device's first message is refused with a challenge, the next answers it."""
    return record(tmp_path_factory.mktemp("rec") / "capture", "wbxml", "md5")


@pytest.fixture(scope="module")
def xml_recording(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return record(tmp_path_factory.mktemp("rec") / "capture", "xml")


def replay(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, dict[str, Any], str]:
    """``syncml replay ARGS --json``: exit status, the document, stderr."""
    capsys.readouterr()
    status = main(["replay", *map(str, args), "--json"])
    out, err = capsys.readouterr()
    return status, json.loads(out), err


def differences(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [d for s in doc["sessions"] for d in s["differences"]]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    """Start ``syncml serve`` (account test/secret unless told) in a subprocess; stopped after the test."""
    started: list[ServerProcess] = []

    def start(password: str = "secret", args: tuple[str, ...] = ()) -> ServerProcess:
        server = ServerProcess(tmp_path / f"server{len(started)}", password=password, args=args)
        started.append(server)
        return server

    for folder in range(3):
        (tmp_path / f"server{folder}").mkdir()
    yield start
    for server in started:
        server.stop()


# -- no differences for an unchanged server -----------------------------------
def test_own_recording_replays_in_process_without_differences(capsys: pytest.CaptureFixture[str],
                                                              recording: list[Path], tmp_path: Path) -> None:
    status, doc, err = replay(capsys, *recording, "--in-process", "--db", tmp_path / "new.db")
    assert (status, err) == (0, "")
    assert doc["ok"] is True and doc["differences"] == 0 and doc["problems"] == []
    assert doc["setup"] == [f"created user test in {tmp_path / 'new.db'}"]  # from the recorded basic login
    sessions = doc["sessions"]
    assert [s["device"] for s in sessions] == ["test-a", "test-b", "test-a", "test-b"]
    assert all(s["compared"] == s["client_messages"] == s["recorded_answers"] > 1 for s in sessions)
    # B's Maps named the recorded server's GUIDs: sent as ours
    assert any(note.startswith("Map GUID") for note in sessions[1]["rewrites"]) or \
        all("GUID" not in note for s in sessions for note in s["rewrites"])


def test_answers_are_paired_by_msgref_in_any_file_order(capsys: pytest.CaptureFixture[str],
                                                        xml_recording: list[Path], tmp_path: Path) -> None:
    """All requests first, then all answers (as a shell glob of two patterns gives them): each answer
    is paired with the client message its SyncHdr Status names."""
    files = [p for p in xml_recording if "request" in p.name] + [p for p in xml_recording if "response" in p.name]
    status, doc, err = replay(capsys, *files, "--in-process", "--db", tmp_path / "any.db")
    assert (status, err, doc["differences"]) == (0, "", 0)
    assert all(s["compared"] == s["client_messages"] for s in doc["sessions"])


def test_own_recording_text_report(capsys: pytest.CaptureFixture[str], xml_recording: list[Path],
                                   tmp_path: Path) -> None:
    capsys.readouterr()
    assert main(["replay", *map(str, xml_recording), "--in-process", "--db", str(tmp_path / "t.db")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"replay to in process, database {tmp_path / 't.db'}"
    assert out[-1] == "0 differences in 4 replayed sessions"
    assert out.count("  no differences") == 4


def test_own_recording_replays_over_http_without_differences(capsys: pytest.CaptureFixture[str],
                                                             recording: list[Path], serve: Any) -> None:
    server = serve()
    status, doc, err = replay(capsys, *recording, "--url", server.url)
    assert (status, err, doc["differences"]) == (0, "", 0), doc
    assert all(s["our_session"].startswith(server.url + "?sessionid=") for s in doc["sessions"])


def test_md5_recording_with_challenges_replays_without_differences(capsys: pytest.CaptureFixture[str],
                                                                   md5_recording: list[Path], tmp_path: Path,
                                                                   serve: Any) -> None:
    """The recorded client answered our challenge with its next message: the replay leaves our new
    challenge to that message too (its MD5 credential over the new nonce), in process and over HTTP."""
    (tmp_path / "pw").write_text("secret\n")
    status, doc, err = replay(capsys, *md5_recording, "--in-process", "--db", tmp_path / "md5.db",
                              "--password-file", tmp_path / "pw")
    assert (status, err, doc["differences"]) == (0, "", 0)
    assert [s["client_messages"] for s in doc["sessions"]] == [4, 4, 3, 3]  # a challenge in the first two
    assert [s["exchanges"] for s in doc["sessions"]] == [4, 4, 3, 3]  # none answered by the replay itself
    server = serve()
    status, doc, err = replay(capsys, *md5_recording, "--url", server.url, "--password-file", tmp_path / "pw")
    assert (status, err, doc["differences"]) == (0, "", 0)


def test_md5_recording_against_a_basic_only_server(capsys: pytest.CaptureFixture[str], md5_recording: list[Path],
                                                   tmp_path: Path) -> None:
    """The challenge asks for basic where the recorded one asked for MD5; the client's MD5 answer is then
    refused for good (403, no challenge): the login fails and everything after differs."""
    (tmp_path / "pw").write_text("secret\n")
    status, doc, _ = replay(capsys, *md5_recording, "--in-process", "--db", tmp_path / "b.db", "--auth-policy",
                            "basic", "--password-file", tmp_path / "pw")
    assert status == 1
    first = doc["sessions"][0]
    assert first["refused"] == "the server refused the login (403) without a challenge to answer"
    found = first["differences"]
    assert found[:2] == [
        {"message": 1, "kind": "auth", "command": "SyncHdr", "ref": "", "recorded": "401 auth-md5",
         "replayed": "401 auth-basic", "detail": "challenged for another scheme"},
        {"message": 2, "kind": "auth", "command": "SyncHdr", "ref": "", "recorded": "212", "replayed": "403",
         "detail": ""}]
    assert all(d["replayed"] is None for d in found[2:] if d["kind"] != "items")
    assert first["notes"][-1] == ("messages 3-4 not sent: the server refused the login (403) without a challenge "
                                  "to answer")


def test_the_installed_command_replays_over_http(xml_recording: list[Path], serve: Any) -> None:
    server = serve()
    proc = subprocess.run([sys.executable, "-m", "syncml_codec", "replay", *map(str, xml_recording), "--url",
                           server.url], capture_output=True, text=True, env=python_env(), timeout=120)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.splitlines()[-1] == "0 differences in 4 replayed sessions"


# -- another auth policy, a wrong password ---------------------------------------
def _auth_only(doc: dict[str, Any]) -> None:
    found = differences(doc)
    assert found and all(d["kind"] == "auth" and d["message"] == 1 for d in found), found
    assert {(d["recorded"], d["replayed"]) for d in found} == {("212", "401")}
    assert all(d["detail"] == "then 212 after the replay answered the challenge" for d in found)


def test_md5_only_policy_in_process_differs_in_the_auth_statuses(capsys: pytest.CaptureFixture[str],
                                                                 xml_recording: list[Path], tmp_path: Path) -> None:
    status, doc, _ = replay(capsys, *xml_recording, "--in-process", "--db", tmp_path / "md5.db",
                            "--auth-policy", "md5")
    assert status == 1 and doc["ok"] is False
    _auth_only(doc)
    assert doc["differences"] == 4  # the first message of each session


def test_md5_only_syncml_serve_differs_in_the_auth_statuses(capsys: pytest.CaptureFixture[str],
                                                            xml_recording: list[Path], serve: Any) -> None:
    server = serve(args=("--auth-policy", "md5"))
    status, doc, err = replay(capsys, *xml_recording, "--url", server.url)
    assert status == 1 and err == "syncml replay: 4 differences from the recording\n"
    _auth_only(doc)
    capsys.readouterr()
    assert main(["replay", *map(str, xml_recording), "--url", server.url, "--no-fail-on-diff"]) == 0
    assert "message 1: auth SyncHdr: recorded 212, now 401" in capsys.readouterr().out


def test_wrong_password_refused_and_everything_after_differs(capsys: pytest.CaptureFixture[str],
                                                             xml_recording: list[Path], serve: Any) -> None:
    server = serve(password="another")
    status, doc, _ = replay(capsys, *xml_recording, "--url", server.url)
    assert status == 1
    for session in doc["sessions"]:
        assert session["refused"] == "the credentials sent after the challenge were refused"
        assert session["our_session"] is None
        found = session["differences"]
        assert found[0] == {"message": 1, "kind": "auth", "command": "SyncHdr", "ref": "", "recorded": "212",
                            "replayed": "401", "detail": "then 401 after the replay answered the challenge"}
        later = [d for d in found if d["message"] > 1]
        assert later and all(d["replayed"] is None and d["detail"] == "not sent" for d in later)
        assert f"messages 2-{session['client_messages']} not sent" in session["notes"][-1]


# -- the recorded SyncEvolution sessions (SyncEvolution's own server) -------------
def se_files(combo: str, *steps: str) -> list[Path]:
    """The request and response bodies of a combo's steps (not the .json sidecars nor the .wbxml.xml copies)."""
    folders = sorted(p for p in (SE_SESSIONS / combo).iterdir() if p.is_dir() and (not steps or p.name in steps))
    return [p for folder in folders for p in sorted(folder.glob("0*-re*.*"))
            if p.suffix in (".xml", ".wbxml") and not p.name.endswith(".wbxml.xml")]


@pytest.mark.skipif(not SE_COMBOS, reason="no SyncEvolution corpus")
@pytest.mark.parametrize("combo", SE_COMBOS)
def test_syncevolution_sessions_replay_without_differences(capsys: pytest.CaptureFixture[str], combo: str,
                                                           tmp_path: Path) -> None:
    """Five sessions of two devices: where both servers agree by design (codes of every Status, the
    sync types granted, the items sent), no difference; an MD5 login that our server challenges only
    because it never gave the device a nonce is a note, not a difference."""
    (tmp_path / "pw").write_text("secret\n")
    status, doc, err = replay(capsys, *se_files(combo), "--in-process", "--db", tmp_path / "se.db",
                              "--password-file", tmp_path / "pw")
    assert (status, err, differences(doc)) == (0, "", [])
    assert [s["compared"] for s in doc["sessions"]] == [3] * 5


@pytest.mark.skipif(not SE_COMBOS, reason="no SyncEvolution corpus")
def test_syncevolution_changes_against_a_fresh_server_differ(capsys: pytest.CaptureFixture[str],
                                                             tmp_path: Path) -> None:
    """Steps 3 and 4 alone: our server never saw the devices, so it asks for slow syncs (508, Alert
    201) where the recorded server granted two-way syncs, and sends B the items as Adds."""
    (tmp_path / "pw").write_text("secret\n")
    files = se_files("wbxml-addressbook-vcard30-basic", "3-a-two-way-changes", "4-b-two-way-receive")
    status, doc, _ = replay(capsys, *files, "--in-process", "--db", tmp_path / "fresh.db",
                            "--password-file", tmp_path / "pw")
    assert status == 1
    found = {(d["message"], d["kind"], d["command"], d["ref"], d["recorded"], d["replayed"])
             for d in doc["sessions"][0]["differences"]}
    assert {(1, "status", "Alert", "./addressbook", "200", "508"),
            (1, "alert", "Alert", "./addressbook", "200 two-way", "201 slow")} <= found
    items = {(d["command"], d["recorded"], d["replayed"]) for d in doc["sessions"][1]["differences"]
             if d["kind"] == "items"}
    assert ("Delete", "1", "0") in items


@pytest.mark.skipif(not SE_COMBOS, reason="no SyncEvolution corpus")
def test_syncevolution_sessions_over_http(capsys: pytest.CaptureFixture[str], tmp_path: Path, serve: Any) -> None:
    server = serve()
    (tmp_path / "pw").write_text("secret\n")
    status, doc, err = replay(capsys, *se_files("xml-calendar-ical20-md5"), "--url", server.url,
                              "--password-file", tmp_path / "pw")
    assert (status, err, differences(doc)) == (0, "", [])
    assert any("challenged (401)" in note for note in doc["sessions"][0]["notes"])


@pytest.mark.skipif(not SE_COMBOS, reason="no SyncEvolution corpus")
def test_md5_recording_without_a_password_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    capsys.readouterr()
    files = se_files("xml-memo-plain-md5", "1-a-first-sync")
    assert main(["replay", *map(str, files), "--in-process", "--db", str(tmp_path / "x.db")]) == 1
    assert capsys.readouterr().err == (f"syncml replay: {tmp_path / 'x.db'}: no user 'test', and no password to "
                                       "create it (--password-file or --password-stdin)\n")


@pytest.mark.skipif(not SE_COMBOS, reason="no SyncEvolution corpus")
def test_session_option_replays_one_session(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("secret\n"))
    status, doc, _ = replay(capsys, *se_files("xml-memo-plain-md5"), "--in-process", "--db", tmp_path / "one.db",
                            "--password-stdin", "--session", "2")
    assert [s["number"] for s in doc["sessions"]] == [2]
    assert doc["sessions"][0]["device"].endswith("-b")
    # B's first sync alone: our fresh server has none of A's items to send
    assert status == 1 and [(d["kind"], d["command"], d["recorded"], d["replayed"]) for d in differences(doc)] == \
        [("items", "Add", "2", "0")]


# -- failures: one line, exit status 1 --------------------------------------------
def test_capture_without_client_messages(capsys: pytest.CaptureFixture[str], xml_recording: list[Path],
                                         tmp_path: Path) -> None:
    answers = [p for p in xml_recording if "response" in p.name]
    capsys.readouterr()
    assert main(["replay", *map(str, answers), "--in-process", "--db", str(tmp_path / "n.db")]) == 1
    assert capsys.readouterr().err == f"syncml replay: {', '.join(map(str, answers))}: no client messages to replay\n"


def test_missing_and_empty_captures(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.pcap"
    capsys.readouterr()
    assert main(["replay", str(missing), "--url", "http://127.0.0.1:9/sync"]) == 1
    assert capsys.readouterr().err == (f"syncml replay: {missing}: no SyncML message to replay "
                                       f"({missing}: No such file or directory)\n")


def test_nothing_from_the_capture_can_forge_a_line(capsys: pytest.CaptureFixture[str], xml_recording: list[Path],
                                                   tmp_path: Path) -> None:
    """A LUID with a line break (echoed in the Statuses) and a file name with one: escaped, one line each."""
    evil = tmp_path / "evil"
    evil.mkdir()
    forged = b"1&#10;session 9: forged"
    for path in xml_recording[:6]:  # A's first session: its item 1, answered 201 by the recorded server (now 500)
        data = path.read_bytes().replace(b"<Source><LocURI>1</LocURI>", b"<Source><LocURI>" + forged + b"</LocURI>")
        data = data.replace(b"<Cmd>Replace</Cmd><SourceRef>1</SourceRef><Data>201</Data>",
                            b"<Cmd>Replace</Cmd><SourceRef>" + forged + b"</SourceRef><Data>500</Data>")
        (evil / path.name).write_bytes(data)
    capsys.readouterr()
    assert main(["replay", *sorted(map(str, evil.iterdir())), "--in-process", "--db", str(tmp_path / "e.db")]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "  message 2: status Replace item 1\\nsession 9: forged: recorded 500, now 201" in out
    assert not any(line.startswith("session 9") for line in out)
    empty = tmp_path / "a\nsession 9: forged.xml"
    empty.write_bytes(b"")
    assert main(["replay", str(empty), "--in-process", "--db", str(tmp_path / "e.db")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "a\\nsession 9" in err


def test_unreachable_url(capsys: pytest.CaptureFixture[str], xml_recording: list[Path]) -> None:
    url = f"http://127.0.0.1:{free_port()}/sync"
    status, doc, err = replay(capsys, *xml_recording, "--url", url)
    assert status == 1
    assert err.splitlines() == [f"syncml replay: session 1: message 1: {url}: Connection refused",
                                *(f"syncml replay: session {n}: not replayed: {url}: Connection refused"
                                  for n in (2, 3, 4)),
                                "syncml replay: 4 problems (above)"]
    assert doc["sessions"][0]["stopped"] == f"message 1: {url}: Connection refused"
    assert differences(doc) == []  # a failure, not a difference


class _Failing(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = b"boom"
        self.send_response(500)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[Any]:
    servers: list[http.server.HTTPServer] = []

    def start(handler: type[http.server.BaseHTTPRequestHandler]) -> str:
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        servers.append(httpd)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{httpd.server_address[1]}/sync"

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


def test_server_answering_http_500(capsys: pytest.CaptureFixture[str], xml_recording: list[Path],
                                   http_server: Any) -> None:
    url = http_server(_Failing)
    status, doc, err = replay(capsys, *xml_recording, "--url", url, "--session", "1")
    assert status == 1
    assert err.splitlines() == [f"syncml replay: session 1: message 1: HTTP 500 Internal Server Error from {url}",
                                "syncml replay: 1 problem (above)"]
    assert differences(doc) == [{"message": 1, "kind": "http", "command": "", "ref": "", "recorded": "200",
                                 "replayed": "500", "detail": "no SyncML answer"}]
    assert "Traceback" not in err


class _Html(_Failing):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = b"<html><body>It works!</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_server_answering_something_else(capsys: pytest.CaptureFixture[str], xml_recording: list[Path],
                                         http_server: Any) -> None:
    url = http_server(_Html)
    status, doc, err = replay(capsys, *xml_recording, "--url", url, "--session", "2")
    assert status == 1
    assert err.splitlines()[0] == "syncml replay: session 2: message 1: the answer is not a SyncML message (text/html)"
    assert doc["sessions"][0]["stopped"] == "message 1: the answer is not a SyncML message (text/html)"


def test_silent_server_times_out(capsys: pytest.CaptureFixture[str], xml_recording: list[Path]) -> None:
    with socket.socket() as listener:  # connections are queued, never answered
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/sync"
        status, _, err = replay(capsys, *xml_recording, "--url", url, "--timeout", "0.3", "--session", "1")
    assert status == 1
    assert err.splitlines()[0] in (f"syncml replay: session 1: message 1: {url}: timed out",
                                   f"syncml replay: session 1: message 1: {url}: no answer within 0.3 s")


@pytest.mark.parametrize(("args", "line"), [
    (["--url", "http://h/sync", "--in-process"], "give the server: --url URL, or --in-process --db DB"),
    ([], "give the server: --url URL, or --in-process --db DB"),
    (["--in-process"], "--in-process needs --db DB (an SQLite file, created if missing, or a PostgreSQL URL)"),
    (["--url", "ftp://h/sync"], "--url: 'ftp://h/sync' is not an http:// or https:// URL"),
    (["--url", "http:///sync"], "--url: 'http:///sync' names no host"),
    (["--url", "http://h/sync", "--db", "x.db"], "--db and --auth-policy are for --in-process (over --url the "
                                                 "server has its own)"),
    (["--url", "http://h/sync", "--datastore", "ca"], "--datastore 'ca': expected RECORDED=OURS, e.g. ca=calendar"),
    (["--url", "http://h/sync", "--timeout", "0"], "--timeout must be positive, not 0"),
    (["--url", "http://h/sync", "--session", "9"], "--session 9: {files} has 4 sessions"),
])
def test_bad_options_are_one_line(capsys: pytest.CaptureFixture[str], xml_recording: list[Path],
                                  args: list[str], line: str) -> None:
    capsys.readouterr()
    assert main(["replay", *map(str, xml_recording), *args]) == 1
    files = ", ".join(map(str, xml_recording))
    assert capsys.readouterr().err == f"syncml replay: {line.format(files=files)}\n"


def test_password_file_problems(capsys: pytest.CaptureFixture[str], xml_recording: list[Path],
                                tmp_path: Path) -> None:
    missing, empty = tmp_path / "none", tmp_path / "empty"
    empty.write_text("\n")
    for path, why in ((missing, "No such file or directory"), (empty, "the first line is empty")):
        capsys.readouterr()
        assert main(["replay", *map(str, xml_recording), "--url", "http://h/s", "--password-file", str(path)]) == 1
        assert capsys.readouterr().err == f"syncml replay: --password-file {path}: {why}\n"


# -- the transport -------------------------------------------------------------------
class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_http_transport_follows_a_relative_resp_uri(xml_recording: list[Path]) -> None:
    """A server giving its RespURI as a path: the next message goes to that path on the same host."""
    store = SQLiteStore(":memory:")
    store.add_user("test", "secret")
    engine = SyncServer(store, clock=Clock(), random_source=counter_random(), base_url="http://elsewhere.invalid/sync")
    app = make_app(engine)
    paths: list[str] = []

    def relative(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        paths.append(environ["PATH_INFO"] + ("?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else ""))
        body = b"".join(app(environ, start_response))  # type: ignore[arg-type]
        return [body.replace(b"<RespURI>http://elsewhere.invalid/sync?", b"<RespURI>/sync?")]

    httpd = make_server("127.0.0.1", 0, relative, handler_class=_Quiet)  # type: ignore[arg-type]
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_port}/sync"
        first = [p.read_bytes() for p in xml_recording if "request" in p.name][:3]
        transport = HttpTransport(url, timeout=30)
        result = Replayer(transport).replay(first)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert result.problems() == []
    assert result.session_id is not None and result.session_id.startswith(url + "?sessionid=")
    assert paths[0] == "/sync" and all(p.startswith("/sync?sessionid=") for p in paths[1:]) and len(paths) > 1


def test_replayer_takes_any_transport(xml_recording: list[Path]) -> None:
    """The engine does no I/O: a Transport is a callable; the session it is given is the last answer's."""
    store = SQLiteStore(":memory:")
    store.add_user("test", "secret")
    inner = InProcess(SyncServer(store, clock=Clock(), random_source=counter_random(), base_url=BASE_URL))
    calls: list[str | None] = []

    def transport(body: bytes, content_type: str, session_id: str | None) -> Response:
        calls.append(session_id)
        return inner(body, content_type, session_id)

    messages = [p.read_bytes() for p in xml_recording if "request" in p.name][:3]
    result = Replayer(transport).replay(messages)
    assert result.problems() == [] and calls[0] is None
    assert calls[1:] == [result.session_id] * (len(calls) - 1)
    assert [ex.position for ex in result.exchanges] == list(range(len(messages)))


# -- captures of any origin ---------------------------------------------------------
def _as_pcap(files: list[Path], *, broken: bool = False) -> list[Any]:
    """What a pcap reader gives: each body with its direction, content type, HTTP details and stream."""
    from syncml_codec.capture import Capture, CapturedMessage, CaptureNote, HttpInfo

    cap = Capture("s.pcap", "pcap")
    for n, path in enumerate(files, 1):
        request = "request" in path.name
        ctype = "application/vnd.syncml+xml; charset=UTF-8"
        http = HttpInfo(method="POST", target="/sync", headers=(("Content-Type", ctype),)) if request else \
            HttpInfo(status=200, headers=(("Content-Type", ctype),))
        cap.messages.append(CapturedMessage(path.read_bytes(), f"s.pcap: 127.0.0.1:41000 -> 127.0.0.1:8080, #{n}",
                                            "client" if request else "server", float(n), ctype, http,
                                            "127.0.0.1:41000-127.0.0.1:8080"))
    if broken:
        cap.messages.append(CapturedMessage(b"<SyncML><SyncHdr>", "s.pcap: #99", "client", 99.0,
                                            "application/vnd.syncml+xml", None, "127.0.0.1:41000-127.0.0.1:8080"))
        cap.notes.append(CaptureNote("s.pcap", "truncated at byte 4096", error=True))
    return [cap]


def test_captured_messages_of_a_pcap_replay(capsys: pytest.CaptureFixture[str], xml_recording: list[Path],
                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever read them: messages with their direction and Content-Type from the capture."""
    monkeypatch.setattr("syncml_codec.cli._replay.load_captures", lambda paths, kind: _as_pcap(xml_recording))
    status, doc, err = replay(capsys, "s.pcap", "--in-process", "--db", tmp_path / "p.db")
    assert (status, err, doc["differences"], len(doc["sessions"])) == (0, "", 0, 4)


def test_a_broken_capture_still_replays_what_it_holds(capsys: pytest.CaptureFixture[str],
                                                      xml_recording: list[Path], tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("syncml_codec.cli._replay.load_captures",
                        lambda paths, kind: _as_pcap(xml_recording, broken=True))
    status, doc, err = replay(capsys, "s.pcap", "--in-process", "--db", tmp_path / "b.db")
    assert status == 1 and doc["differences"] == 0 and len(doc["sessions"]) == 4
    lines = err.splitlines()
    assert lines[0] == "syncml replay: s.pcap: truncated at byte 4096"
    assert lines[1].startswith("syncml replay: s.pcap: #99: not replayed, unreadable: ")
    assert lines[2:] == ["syncml replay: 2 problems (above)"]


# -- the generated pcaps of SyncEvolution with `syncml serve` (the pcap reader: branch i16-pcap) --------
PCAP = DATA / "captures" / "se-wbxml-two-sessions.pcap"


def _pcap_readable() -> bool:
    from syncml_codec.capture import detect_input

    return PCAP.is_file() and detect_input(PCAP.read_bytes()) == "pcap"


@pytest.mark.skipif(not _pcap_readable(), reason="no pcap fixture or no pcap reader (branch i16-pcap) yet")
def test_pcap_of_syncevolution_with_syncml_serve(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                 serve: Any) -> None:
    """SyncEvolution's first message (MD5 over an empty nonce) refused with a challenge, its new session
    answering it, a slow sync with MoreData, a two-way sync: replayed to a fresh server, in process and
    over HTTP, no differences; with another password, refused from the second session on."""
    (tmp_path / "pw").write_text("secret\n")
    status, doc, err = replay(capsys, PCAP, "--in-process", "--db", tmp_path / "p.db", "--password-file",
                              tmp_path / "pw")
    assert (status, err, doc["differences"]) == (0, "", 0)
    assert [(s["client_messages"], s["compared"]) for s in doc["sessions"]] == [(1, 1), (7, 7), (3, 3)]
    assert doc["sessions"][0]["our_session"] is None and doc["sessions"][0]["refused"] is None
    server = serve()
    status, doc, err = replay(capsys, PCAP, "--url", server.url, "--password-file", tmp_path / "pw")
    assert (status, err, doc["differences"]) == (0, "", 0)
    (tmp_path / "wrong").write_text("wrong\n")
    status, doc, _ = replay(capsys, PCAP, "--url", serve().url, "--password-file", tmp_path / "wrong")
    assert status == 1 and doc["sessions"][1]["refused"] and doc["sessions"][1]["differences"][0]["replayed"] == "401"


SAN = CORPUS / "devices" / "sailfishos+buteo-syncml" / "tests_meego" / "data" / "SAN01.bin"


@pytest.mark.skipif(not SAN.is_file(), reason="no device corpus")
def test_a_notification_is_no_session_to_replay(capsys: pytest.CaptureFixture[str], xml_recording: list[Path],
                                                tmp_path: Path) -> None:
    status, doc, err = replay(capsys, SAN, *xml_recording, "--in-process", "--db", tmp_path / "san.db")
    assert (status, err, doc["differences"]) == (0, "", 0)
    assert doc["sessions"][0]["skipped"] == "a notification (SAN), not a session to replay"
    assert [s["replayed"] for s in doc["sessions"]] == [False, True, True, True, True]
    capsys.readouterr()
    assert main(["replay", str(SAN), "--in-process", "--db", str(tmp_path / "san.db")]) == 1
    assert capsys.readouterr().err == f"syncml replay: {SAN}: no client messages to replay\n"


def test_password_stdin_and_a_capture_on_stdin(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["replay", "-", "--url", "http://h/sync", "--password-stdin"]) == 1
    assert capsys.readouterr().err == ("syncml replay: --password-stdin and a capture on stdin (-): give the capture "
                                       "as a file\n")


def test_the_json_fields_are_the_documented_ones(capsys: pytest.CaptureFixture[str], xml_recording: list[Path],
                                                 tmp_path: Path) -> None:
    """docs/api/cli.rst names every field of the document, of a session and of a difference."""
    from ..conftest import ROOT

    docs = (ROOT / "docs" / "api" / "cli.rst").read_text()
    _, doc, _ = replay(capsys, *xml_recording, "--in-process", "--db", tmp_path / "j.db", "--auth-policy", "md5")
    fields = {*doc, *doc["sessions"][0], *doc["sessions"][0]["differences"][0]}
    assert [f for f in sorted(fields) if f"``{f}``" not in docs] == []


def _directory_reader() -> bool:
    """Whether ``load_captures`` reads a folder of recorded exchanges with their ``.json`` sidecars (the
    frames helper's reader, branch i16-frames), not each sidecar as a capture of its own."""
    from syncml_codec.cli._captures import load_captures

    step = SE_SESSIONS / "xml-memo-plain-md5" / "1-a-first-sync"
    return step.is_dir() and not any(c.name.endswith(".json") for c in load_captures([str(step)]))


@pytest.mark.skipif(not SE_COMBOS or not _directory_reader(), reason="no corpus or no folder reader (i16-frames)")
def test_a_folder_of_recorded_sessions_replays(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("secret\n")
    status, doc, err = replay(capsys, SE_SESSIONS / "xml-memo-plain-md5", "--in-process", "--db", tmp_path / "f.db",
                              "--password-file", tmp_path / "pw")
    assert (status, err, doc["differences"]) == (0, "", 0)
    assert [(s["client_messages"], s["compared"]) for s in doc["sessions"]] == [(3, 3)] * 5
