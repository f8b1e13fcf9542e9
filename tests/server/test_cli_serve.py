"""``syncml user add|list`` and ``syncml serve``, run as a user would: subprocesses."""

from __future__ import annotations

import http.client
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import syncml_codec

from ..conftest import corpus_path

PACKAGE_PARENT = Path(syncml_codec.__file__).resolve().parents[1]


def env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(PACKAGE_PARENT),
                                                                     os.environ.get("PYTHONPATH")])))


def syncml(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "syncml_codec", *args], input=stdin, capture_output=True,
                          text=True, timeout=60, cwd=cwd, env=env())


def test_user_add_and_list(tmp_path: Path):
    db = str(tmp_path / "s.db")
    proc = syncml("user", "add", "test", "--password", "secret", "--db", db)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"added user test ({db})\n"
    assert syncml("user", "add", "alice", "--password", "pw", "--db", db).returncode == 0
    proc = syncml("user", "add", "test", "--password", "other", "--db", db)
    assert proc.stdout.startswith("changed the password of user test")
    proc = syncml("user", "list", "--db", db)
    assert proc.returncode == 0 and proc.stdout == "alice\ntest\n"


def test_user_password_is_stored_hashed(tmp_path: Path):
    from syncml_codec.model.auth import user_password_hash
    from syncml_codec.store import SQLiteStore

    db = tmp_path / "s.db"
    syncml("user", "add", "test", "--password", "secret", "--db", str(db))
    assert b"secret" not in db.read_bytes()
    store = SQLiteStore(db)
    try:
        assert store.user_hash("test") == user_password_hash("test", "secret")
    finally:
        store.close()


def test_user_password_from_stdin_when_not_a_terminal(tmp_path: Path):
    from syncml_codec.model.auth import user_password_hash
    from syncml_codec.store import SQLiteStore

    db = tmp_path / "s.db"
    proc = syncml("user", "add", "bob", "--db", str(db), stdin="s3cret\n")
    assert proc.returncode == 0, proc.stderr
    store = SQLiteStore(db)
    try:
        assert store.user_hash("bob") == user_password_hash("bob", "s3cret")
    finally:
        store.close()


def test_user_default_database_is_in_the_working_directory(tmp_path: Path):
    assert syncml("user", "add", "test", "--password", "x", cwd=tmp_path).returncode == 0
    assert (tmp_path / "syncml.db").is_file()
    assert syncml("user", "list", cwd=tmp_path).stdout == "test\n"


@pytest.mark.parametrize(("args", "message"), [
    (["user", "list", "--db", "{tmp}/none.db"], "no such database"),
    (["user", "add", "a:b", "--password", "x", "--db", "{tmp}/s.db"], "bad user name"),
    (["user", "add", "a", "--password", "", "--db", "{tmp}/s.db"], "empty password"),
    (["user", "add", "a", "--password", "x", "--db", "{tmp}/no/such/dir/s.db"], "does not exist"),
])
def test_user_errors_are_one_line(tmp_path: Path, args, message):
    proc = syncml(*[a.format(tmp=tmp_path) for a in args])
    assert proc.returncode == 1
    assert proc.stderr.startswith("syncml user: ") and message in proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_user_list_of_a_file_that_is_no_database(tmp_path: Path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    proc = syncml("user", "list", "--db", str(bad))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr


class Serve:
    def __init__(self, tmp_path: Path, *extra: str) -> None:
        self.db = tmp_path / "serve.db"
        self.proc = subprocess.Popen([sys.executable, "-m", "syncml_codec", "serve", "--port", "0",
                                      "--db", str(self.db), *extra],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env())
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        self.banner = self.proc.stdout.readline() if ready else ""
        if not self.banner.startswith("syncml: serving http://127.0.0.1:"):
            self.proc.kill()
            _, err = self.proc.communicate()
            raise AssertionError(f"no banner: {self.banner!r} {err}")
        self.url = self.banner.split()[2]
        self.port = int(self.url.split(":")[2].split("/")[0])

    def request(self, method: str, path: str, body: bytes = b"", content_type: str | None = None
                ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Content-Type": content_type} if content_type else {}
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, dict(resp.getheaders()), data

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str, str]:
        self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=20)
        return self.proc.returncode, out, err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_answers_and_stops_cleanly(tmp_path: Path, sig):
    assert syncml("user", "add", "test", "--password", "secret", "--db", str(tmp_path / "serve.db")).returncode == 0
    server = Serve(tmp_path, "--transcripts", str(tmp_path / "t"), "--conflict-policy", "client-wins")
    try:
        assert server.url.endswith("/sync")
        assert server.request("GET", "/sync")[0] == 405
        assert server.request("POST", "/other", b"x", "application/vnd.syncml+xml")[0] == 404
        assert server.request("POST", "/sync", b"x", "text/plain")[0] == 415
        # basic auth: an MD5 first request (over the empty nonce) would be answered with a challenge (issue 9)
        first = corpus_path("syncevolution", "first-request", "wbxml-addressbook-vcard30-basic.wbxml").read_bytes()
        status, headers, body = server.request("POST", "/sync", first, "application/vnd.syncml+wbxml")
        assert status == 200, body[:300]
        assert headers["Content-Type"] == "application/vnd.syncml+wbxml"
        from syncml_codec.model import Message

        answer = Message.from_bytes(body, headers["Content-Type"])
        assert answer.header.resp_uri and "sessionid=" in answer.header.resp_uri
        assert answer.header.resp_uri.startswith(server.url)
    finally:
        code, out, err = server.stop(sig)
    assert code == 0, err
    assert out.strip().endswith(f"syncml: stopped ({signal.Signals(sig).name})")
    assert "Traceback" not in err
    log = [line for line in err.splitlines() if line.startswith("ts=")]
    assert len(log) == 1 and "http=200" in log[0] and "cmds_in=Alert:1,Get:1,Put:1" in log[0]
    (session,) = (tmp_path / "t").iterdir()
    assert sorted(p.name for p in session.iterdir()) == ["001-request.xml", "001-response.xml"]
    assert syncml("user", "list", "--db", str(tmp_path / "serve.db")).stdout == "test\n"


def test_serve_refuses_a_busy_port(tmp_path: Path):
    server = Serve(tmp_path)
    try:
        proc = syncml("serve", "--port", str(server.port), "--db", str(tmp_path / "other.db"))
        assert proc.returncode == 1
        assert proc.stderr.startswith("syncml serve: cannot listen on 127.0.0.1:")
    finally:
        server.stop()
