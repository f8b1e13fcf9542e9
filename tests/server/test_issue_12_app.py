"""Issue 12 item 4: the app factory (``create_app`` from ``SYNCML_*``
variables, under gunicorn end to end), the RespURI built from the request
rather than from the address listened on (``create_app`` and ``syncml serve
--host 0.0.0.0``), and ``syncml serve``'s bad flag values: one line, exit 2."""

from __future__ import annotations

import http.client
import io
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

import pytest

from syncml_codec.engine import ClientSession, ClientStore
from syncml_codec.model import Message
from syncml_codec.server import SETTINGS, ConfigError, create_app, request_url
from syncml_codec.store import SQLiteStore

from ..conftest import corpus_path
from .test_cli_serve import env, syncml

WBXML = "application/vnd.syncml+wbxml"
# a first message with basic auth: accepted at once (an MD5 one over the empty nonce is challenged first)
FIRST = corpus_path("syncevolution", "first-request", "wbxml-addressbook-vcard30-basic.wbxml")


def database(tmp_path: Path) -> str:
    db = str(tmp_path / "app.db")
    store = SQLiteStore(db)
    store.add_user("test", "secret")
    store.close()
    return db


def post(app: Any, body: bytes, host: str = "127.0.0.1:8000", script_name: str = "", scheme: str = "http",
         **headers: str) -> tuple[str, bytes]:
    """``app``'s status and body for ``body`` POSTed to ``script_name``/sync with these headers."""
    environ: dict[str, Any] = {"REQUEST_METHOD": "POST", "SCRIPT_NAME": script_name, "PATH_INFO": "/sync",
                               "QUERY_STRING": "", "CONTENT_TYPE": WBXML, "CONTENT_LENGTH": str(len(body)),
                               "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": scheme, "HTTP_HOST": host,
                               "REMOTE_ADDR": "192.0.2.1",
                               **{"HTTP_" + k.upper(): v for k, v in headers.items()}}
    setup_testing_defaults(environ)
    seen: dict[str, str] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen["status"] = status
        return lambda data: None

    chunks = validator(app)(environ, start_response)
    try:
        return seen["status"], b"".join(chunks)
    finally:
        chunks.close()  # type: ignore[attr-defined]


def resp_uri(body: bytes) -> str:
    uri = Message.from_bytes(body, WBXML).header.resp_uri
    assert uri is not None
    return uri


# -- create_app: the settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("setting", "value", "message"), [
    ("SYNCML_MAX_SESSIONS", "many", "SYNCML_MAX_SESSIONS must be a whole number, not 'many'"),
    ("SYNCML_MAX_SESSIONS", "0", "SYNCML_MAX_SESSIONS must be positive, not 0"),
    ("SYNCML_SESSION_TIMEOUT", "-5", "SYNCML_SESSION_TIMEOUT must be positive, not -5"),
    ("SYNCML_LOCKOUT", "nan", "SYNCML_LOCKOUT must be positive, not nan"),
    ("SYNCML_CLIENT_TIMEOUT", "inf", "SYNCML_CLIENT_TIMEOUT must be positive, not inf"),
    ("SYNCML_LOG_LEVEL", "loud", "SYNCML_LOG_LEVEL must be one of debug, info, warning, error, not 'loud'"),
    ("SYNCML_TRUST_PROXY", "maybe", "SYNCML_TRUST_PROXY must be 1 or 0, not 'maybe'"),
    ("SYNCML_CONFLICT_POLICY", "coin", "SYNCML_CONFLICT_POLICY must be one of server-wins"),
    ("SYNCML_BASE_URL", "sync.example.org/sync", "SYNCML_BASE_URL must be an http(s) URL"),
    ("SYNCML_BASE_URL", "https://sync.example.org/sync?x=1", "SYNCML_BASE_URL must be an http(s) URL"),
    ("SYNCML_DB", "{tmp}/no/such/folder/s.db", "SYNCML_DB={tmp}/no/such/folder/s.db: folder {tmp}/no/such/folder "
                                               "does not exist"),
    ("SYNCML_DB", "{tmp}", "SYNCML_DB={tmp}: is a folder"),
    ("SYNCML_DB", "{tmp}/junk.db", "SYNCML_DB={tmp}/junk.db: file is not a database"),
    ("SYNCML_TRANSCRIPTS", "{tmp}/junk.db", "SYNCML_TRANSCRIPTS={tmp}/junk.db: not a folder"),
    ("SYNCML_DATABASE", "x.db", "unknown setting SYNCML_DATABASE"),
])
def test_a_bad_setting_is_one_error_naming_it(tmp_path: Path, setting, value, message):
    (tmp_path / "junk.db").write_bytes(b"not sqlite at all" * 100)
    config = {"SYNCML_DB": str(tmp_path / "ok.db"), setting: value.format(tmp=tmp_path)}
    with pytest.raises(ConfigError) as caught:
        create_app(config)
    assert str(caught.value).startswith(message.format(tmp=tmp_path))
    assert "\n" not in str(caught.value)


def test_settings_come_from_the_environment_and_config_overrides_it(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("SYNCML_DB", str(tmp_path / "from-env.db"))
    monkeypatch.setenv("SYNCML_MAX_SESSIONS", "none")
    with pytest.raises(ConfigError, match="SYNCML_MAX_SESSIONS"):
        create_app()
    app = create_app({"SYNCML_MAX_SESSIONS": 3, "SYNCML_LOG_LEVEL": "warning"})
    try:
        assert app.db == str(tmp_path / "from-env.db")
        assert (tmp_path / "from-env.db").is_file()  # created (with its schema) by create_app, not on first use
    finally:
        app.close()


def test_every_setting_is_in_the_readme():
    from ..conftest import ROOT

    section = (ROOT / "README.md").read_text().split("### Deploying", 1)[1].split("\n## ", 1)[0]
    assert [name for name in SETTINGS if f"`{name}`" not in section] == []
    assert "SYNCML_MAX_OBJECT_SIZE" in SETTINGS and "SYNCML_MAX_LOCKOUT" in SETTINGS  # the limits, as serve's flags


# -- create_app: the RespURI ---------------------------------------------------------------------------------------


def test_resp_uri_is_the_url_the_client_used(tmp_path: Path):
    app = create_app({"SYNCML_DB": database(tmp_path), "SYNCML_LOG_LEVEL": "warning"})
    try:
        status, body = post(app, FIRST.read_bytes(), host="sync.example:8000")
        assert status.startswith("200")
        assert resp_uri(body).startswith("http://sync.example:8000/sync?sessionid=")
        # mounted under a prefix (SCRIPT_NAME), over https
        status, body = post(app, FIRST.read_bytes(), host="sync.example", script_name="/dav", scheme="https")
        assert resp_uri(body).startswith("https://sync.example/dav/sync?sessionid=")
        # a Host that is no host name is not echoed: the server's own name stands in
        status, body = post(app, FIRST.read_bytes(), host="evil\"><x")
        assert resp_uri(body).startswith("http://127.0.0.1/sync?sessionid=")
    finally:
        app.close()


PROXY = {"x_forwarded_proto": "https", "x_forwarded_host": "sync.example.org", "x_forwarded_prefix": "/syncml",
         "x_forwarded_for": "198.51.100.7"}


@pytest.mark.parametrize("trust", [False, True])
def test_forwarded_headers_only_with_trust_proxy(tmp_path: Path, trust: bool, caplog):
    app = create_app({"SYNCML_DB": database(tmp_path), "SYNCML_TRUST_PROXY": trust, "SYNCML_LOG_LEVEL": "info"})
    try:
        with caplog.at_level("INFO", logger="syncml_codec.server"):
            status, body = post(app, FIRST.read_bytes(), host="127.0.0.1:8000", **PROXY)
    finally:
        app.close()
    assert status.startswith("200")
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("ts=")]
    if trust:
        assert resp_uri(body).startswith("https://sync.example.org/syncml/sync?sessionid=")
        assert " addr=198.51.100.7 " in line
    else:
        assert resp_uri(body).startswith("http://127.0.0.1:8000/sync?sessionid=")
        assert " addr=192.0.2.1 " in line


def test_base_url_fixes_the_resp_uri(tmp_path: Path):
    app = create_app({"SYNCML_DB": database(tmp_path), "SYNCML_BASE_URL": "https://sync.example.org/s",
                      "SYNCML_TRUST_PROXY": "1", "SYNCML_LOG_LEVEL": "warning"})
    try:
        _, body = post(app, FIRST.read_bytes(), host="127.0.0.1:8000", **PROXY)
    finally:
        app.close()
    assert resp_uri(body).startswith("https://sync.example.org/s?sessionid=")


@pytest.mark.parametrize(("environ", "url"), [
    ({"HTTP_HOST": "[::1]:8000"}, "http://[::1]:8000/sync"),
    ({"HTTP_HOST": "", "SERVER_NAME": "box", "SERVER_PORT": "8000"}, "http://box:8000/sync"),
    ({"HTTP_HOST": "", "SERVER_NAME": "box", "SERVER_PORT": "443", "wsgi.url_scheme": "https"}, "https://box/sync"),
    ({"HTTP_HOST": "a b", "SERVER_NAME": "box", "SERVER_PORT": "80"}, "http://box/sync"),
    ({"HTTP_X_FORWARDED_PROTO": "gopher", "HTTP_X_FORWARDED_HOST": "x y", "HTTP_X_FORWARDED_PREFIX": "no-slash"},
     "http://h:1/sync"),
    ({"HTTP_X_FORWARDED_PROTO": "HTTPS, http", "HTTP_X_FORWARDED_HOST": "outer.example, inner",
      "HTTP_X_FORWARDED_PREFIX": "/a b/"}, "https://outer.example/sync"),
    ({"HTTP_X_FORWARDED_PREFIX": "/p/", "SCRIPT_NAME": "/app"}, "http://h:1/p/app/sync"),
])
def test_request_url_edge_cases(environ, url):
    assert request_url({"wsgi.url_scheme": "http", "HTTP_HOST": "h:1", **environ}, "/sync", trust_proxy=True) == url


# -- create_app under gunicorn, end to end ----------------------------------------------------------------------


def contact(n: int) -> bytes:
    return f"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Doe{n};John;;;\r\nFN:John Doe{n}\r\nEND:VCARD\r\n".encode()


def sync_over_http(port: int, store: ClientStore) -> ClientSession:
    """A whole session of our own client against the server at ``port``, one HTTP POST per message."""
    session = ClientSession(store, url=f"http://127.0.0.1:{port}/sync", user="test", password="secret")
    request = session.start()
    for _ in range(30):
        parts = urlsplit(request.url)
        assert (parts.hostname, parts.port) == ("127.0.0.1", port), request.url  # RespURI: where the client went
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("POST", f"{parts.path}?{parts.query}" if parts.query else parts.path, body=request.body,
                         headers={"Content-Type": request.content_type})
            resp = conn.getresponse()
            body = resp.read()
        finally:
            conn.close()
        assert resp.status == 200, body[:300]
        next_request = session.receive(body, resp.getheader("Content-Type"))
        if next_request is None:
            return session
        request = next_request
    raise AssertionError("the session did not end")


class Gunicorn:
    """``gunicorn 'syncml_codec.server:create_app()'`` on a free port of 127.0.0.1, stderr to a file."""

    def __init__(self, tmp_path: Path, *args: str, **settings: str) -> None:
        self.log = tmp_path / "gunicorn.log"
        self._err = open(self.log, "wb")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:0", *args,
                                      "syncml_codec.server:create_app()"],
                                     stdout=subprocess.DEVNULL, stderr=self._err, cwd=tmp_path,
                                     env={**env(), **settings})
        self.port = self._port(timeout=60)

    def _port(self, timeout: float) -> int:
        """The port from gunicorn's "Listening at" line, once a worker has booted."""
        deadline = time.monotonic() + timeout
        with open(self.log, "rb") as log:
            text = ""
            while time.monotonic() < deadline and self.proc.poll() is None:
                chunk = log.read().decode(errors="replace")
                text += chunk
                found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", text)
                if found and "Booting worker" in text:
                    return int(found.group(1))
                if not chunk:
                    select.select([], [], [], 0.05)  # a file is always readable: nothing to wait on but time
        self.stop()
        raise AssertionError(f"gunicorn did not start:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._err.close()
        return self.log.read_text(errors="replace")


@pytest.mark.parametrize("args", [[], ["--preload", "--threads", "2"]], ids=["default", "preload-threads"])
def test_gunicorn_serves_create_app_out_of_the_box(tmp_path: Path, args: list[str]):
    pytest.importorskip("gunicorn", reason="gunicorn is not installed (pip install gunicorn)")
    db = database(tmp_path)
    server = Gunicorn(tmp_path, *args, SYNCML_DB=db)
    try:
        phone = ClientStore("phone-a")
        phone.add_datastore("./addressbook", "addressbook", "text/vcard", "3.0")
        for n in range(3):
            phone.datastores["./addressbook"].add(contact(n))
        first = sync_over_http(server.port, phone)
        assert first.ok, first.error
        other = ClientStore("phone-b")
        other.add_datastore("./addressbook", "addressbook", "text/vcard", "3.0")
        second = sync_over_http(server.port, other)
        assert second.ok, second.error
    finally:
        log = server.stop()
    assert server.proc.returncode == 0, log
    received = sorted(other.datastores["./addressbook"].items.values())
    assert len(received) == 3 and all(b"FN:John Doe" in item for item in received)
    # our per-message lines show under gunicorn, one per message, with the client's address
    lines = [line for line in log.splitlines() if line.startswith("ts=")]
    assert len(lines) >= 4 and all(" addr=127.0.0.1 " in line and " http=200 " in line for line in lines), log
    assert "Traceback" not in log


def test_gunicorn_with_a_bad_setting_names_it(tmp_path: Path):
    pytest.importorskip("gunicorn", reason="gunicorn is not installed (pip install gunicorn)")
    proc = subprocess.run([sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:0",
                           "syncml_codec.server:create_app()"], capture_output=True, text=True, timeout=60,
                          cwd=tmp_path, env={**env(), "SYNCML_MAX_SESSIONS": "lots"})
    assert proc.returncode != 0
    assert "ConfigError: SYNCML_MAX_SESSIONS must be a whole number, not 'lots'" in proc.stderr


def test_log_lines_without_a_logging_setup_go_to_stderr(tmp_path: Path):
    """What gunicorn does (no handler on the root logger): create_app adds its own, once."""
    code = ("import logging; from syncml_codec.server import create_app, LOGGER\n"
            "create_app({'SYNCML_DB': ':memory:'}); create_app({'SYNCML_DB': ':memory:'})\n"
            "LOGGER.info('ts=1 msg=1'); LOGGER.debug('hidden')\n"
            "logging.getLogger('syncml_codec.engine').warning('w')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env())
    assert proc.stderr == "ts=1 msg=1\nWARNING: w\n"
    code = code.replace("create_app({'SYNCML_DB': ':memory:'}); create_app",
                        "logging.basicConfig(format='host: %(message)s'); create_app")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env())
    assert proc.stderr == "host: ts=1 msg=1\nhost: w\n"  # the host's logging setup is kept


# -- syncml serve ---------------------------------------------------------------------------------------------------


def serve(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], int]:
    db = str(tmp_path / "serve.db")
    assert syncml("user", "add", "test", "--password", "secret", "--db", db).returncode == 0
    proc = subprocess.Popen([sys.executable, "-m", "syncml_codec", "serve", "--port", "0", "--db", db, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env())
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 30)
    banner = proc.stdout.readline() if ready else ""
    if not banner.startswith("syncml: serving http://"):
        proc.kill()
        raise AssertionError(f"no banner: {banner!r}")
    return proc, int(banner.split()[2].rsplit(":", 1)[1].split("/")[0])


def post_to(port: int, body: bytes, **headers: str) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/sync", body=body, headers={"Content-Type": WBXML, **headers})
        resp = conn.getresponse()
        assert resp.status == 200
        return resp.read()
    finally:
        conn.close()


def test_serve_on_every_interface_answers_with_the_clients_host(tmp_path: Path):
    proc, port = serve(tmp_path, "--host", "0.0.0.0")
    try:
        assert resp_uri(post_to(port, FIRST.read_bytes())).startswith(f"http://127.0.0.1:{port}/sync?sessionid=")
        uri = resp_uri(post_to(port, FIRST.read_bytes(), Host="sync.example:8443"))
        assert uri.startswith("http://sync.example:8443/sync?sessionid=")
        # forwarded headers from a peer that is not --trusted-proxy are ignored
        uri = resp_uri(post_to(port, FIRST.read_bytes(), **{"X-Forwarded-Host": "evil.example"}))
        assert uri.startswith(f"http://127.0.0.1:{port}/sync?")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)


def test_serve_behind_a_trusted_proxy_answers_with_its_url(tmp_path: Path):
    proc, port = serve(tmp_path, "--trusted-proxy", "127.0.0.1")
    try:
        uri = resp_uri(post_to(port, FIRST.read_bytes(), **{"X-Forwarded-Proto": "https",
                                                              "X-Forwarded-Host": "sync.example.org"}))
        assert uri.startswith("https://sync.example.org/sync?sessionid=")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)


@pytest.mark.parametrize(("args", "message"), [
    (["--port", "99999"], "--port must be from 0 to 65535, not 99999"),
    (["--port", "-1"], "--port must be from 0 to 65535, not -1"),
    (["--port", "http"], "--port must be a whole number, not 'http'"),
    (["--threads", "0"], "--threads must be positive, not 0"),
    (["--connection-limit", "x"], "--connection-limit must be a whole number, not 'x'"),
    (["--client-timeout", "nan"], "--client-timeout must be positive, not nan"),
    (["--max-object-size", "1.5"], "--max-object-size must be a whole number, not '1.5'"),
    (["--lockout", "-1"], "--lockout must be positive, not -1"),
    (["--url", "example.org"], "--url must be an http(s) URL"),
    (["--db", "{tmp}/no/such/dir/s.db"], "--db {tmp}/no/such/dir/s.db: folder {tmp}/no/such/dir does not exist"),
    (["--db", "{tmp}"], "--db {tmp}: is a folder"),
    (["--db", "{tmp}/junk.db"], "--db {tmp}/junk.db: file is not a database"),
    (["--transcripts", "{tmp}/junk.db"], "--transcripts {tmp}/junk.db: not a folder"),
])
def test_serve_bad_option_values_are_one_line_and_exit_2(tmp_path: Path, args, message):
    (tmp_path / "junk.db").write_bytes(b"not sqlite at all" * 100)
    argv = ["serve", "--port", "0", "--db", str(tmp_path / "s.db"), *[a.format(tmp=tmp_path) for a in args]]
    proc = syncml(*argv)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("syncml serve: " + message.format(tmp=tmp_path)), proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stdout == ""
    assert not (tmp_path / "s.db").exists()  # refused before anything was opened


def test_serve_help_still_shows_the_defaults():
    out = syncml("serve", "--help").stdout
    assert "--max-sessions N" in out and "(default 1000)" in out and "default 8080" in out
