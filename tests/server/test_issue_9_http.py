"""Issue 9, the HTTP side: one client cannot stall the others (defect 4),
transcripts and logs keep no secret and cannot be forged (defect 8).

Written as the attacks that found the defects, on a real ``syncml serve``
(subprocess, loopback only) where the server matters, in process where the
WSGI front alone does.  Every test is bounded in time: sockets have
timeouts, loops have deadlines, servers are stopped in ``finally``.
"""

from __future__ import annotations

import http.client
import io
import logging
import os
import re
import select
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

import pytest

from syncml_codec.model import Message
from syncml_codec.server import HTTPServer, make_app
from syncml_codec.server._journal import REDACTED, escape_log_text, log_line

from ..conftest import corpus_path
from .test_cli_serve import env, syncml
from .test_wsgi import WBXML, XML, FakeEngine, FakeReply, call

FIRST = corpus_path("syncevolution", "first-request", "wbxml-addressbook-vcard30-md5.wbxml")
BASIC_XML = corpus_path("syncevolution", "sessions", "xml-calendar-ical20-basic", "1-a-first-sync", "001-request.xml")


class Serve:
    """``syncml serve --port 0`` with the account test/secret, stderr to a file."""

    def __init__(self, tmp_path: Path, *extra: str, host: str = "127.0.0.1") -> None:
        self.db = tmp_path / "serve.db"
        assert syncml("user", "add", "test", "--password", "secret", "--db", str(self.db)).returncode == 0
        self.log = tmp_path / "serve.log"
        self._err = open(self.log, "wb")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen([sys.executable, "-m", "syncml_codec", "serve", "--host", host, "--port", "0",
                                      "--db", str(self.db), *extra],
                                     stdout=subprocess.PIPE, stderr=self._err, text=True, env=env())
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        self.banner = self.proc.stdout.readline() if ready else ""
        if not self.banner.startswith("syncml: serving http://"):
            self.stop()
            raise AssertionError(f"no banner: {self.banner!r} {self.log.read_text()}")
        self.url = self.banner.split()[2]
        self.host = host
        self.port = int(self.url.rsplit(":", 1)[1].split("/")[0])

    def post(self, body: bytes, content_type: str = WBXML, query: str = "", timeout: float = 10
             ) -> tuple[int, bytes, float]:
        """A normal client: status, body, seconds taken."""
        started = time.monotonic()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request("POST", "/sync" + query, body=body, headers={"Content-Type": content_type})
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        return resp.status, data, time.monotonic() - started

    def connect(self) -> socket.socket:
        return socket.create_connection((self.host, self.port), timeout=10)

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int | None, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._err.close()
        return self.proc.returncode, self.log.read_text(errors="replace")


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    servers: list[Serve] = []

    def start(*extra: str, host: str = "127.0.0.1") -> Serve:
        servers.append(Serve(tmp_path, *extra, host=host))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def request_head(length: int, content_type: str = WBXML, query: str = "") -> bytes:
    return (f"POST /sync{query} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()


class Trickler(threading.Thread):
    """Sends ``data`` one byte every ``interval`` seconds until it is all
    sent, the server closes, ``stop`` is set or ``limit`` seconds pass."""

    def __init__(self, sock: socket.socket, data: bytes, interval: float, limit: float = 30) -> None:
        super().__init__(daemon=True)
        self.sock, self.data, self.interval, self.limit = sock, data, interval, limit
        self.stop = threading.Event()
        self.sent = 0

    def run(self) -> None:
        end = time.monotonic() + self.limit
        try:
            for i in range(len(self.data)):
                if self.stop.wait(self.interval if i else 0) or time.monotonic() > end:
                    return
                self.sock.sendall(self.data[i:i + 1])
                self.sent += 1
        except OSError:
            return


def answer_or_close(sock: socket.socket, limit: float) -> tuple[bytes, float]:
    """What the server sends before it closes (b"" for a plain close), and
    when the close came (monotonic); gives up after ``limit`` seconds."""
    sock.settimeout(0.2)
    data = b""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            continue
        except OSError:  # reset: closed
            return data, time.monotonic()
        if not chunk:
            return data, time.monotonic()
        data += chunk
    raise AssertionError(f"the server neither answered nor closed within {limit} s (got {data[:80]!r})")


# -- defect 4: one client stalls everyone ----------------------------------------------------------------------


def test_issue_9_a_client_sending_one_byte_per_second_stalls_nobody(serve):
    server = serve("--client-timeout", "20")
    body = FIRST.read_bytes()
    slow = server.connect()
    trickler = Trickler(slow, request_head(len(body)) + body, interval=1.0)
    trickler.start()
    try:
        time.sleep(1.5)  # the slow client is in the middle of its request line
        for _ in range(3):
            status, data, seconds = server.post(body)
            assert status == 200, data[:200]
            assert seconds < 2.0, f"a normal client waited {seconds:.1f} s behind a slow one"
        assert trickler.is_alive() and 1 <= trickler.sent < 10
    finally:
        trickler.stop.set()
        trickler.join(5)
        slow.close()


def test_issue_9_silent_connections_stall_nobody_and_are_closed(serve):
    server = serve("--client-timeout", "2")
    silent = [server.connect() for _ in range(5)]
    try:
        opened = time.monotonic()
        status, data, seconds = server.post(FIRST.read_bytes())
        assert status == 200 and seconds < 2.0
        for sock in silent:  # each is closed after the timeout, without an answer (it asked nothing)
            data, closed = answer_or_close(sock, limit=8)
            assert data == b""
            assert 1.5 < closed - opened < 2 + 3
    finally:
        for sock in silent:
            sock.close()


def test_issue_9_a_request_trickling_past_the_total_deadline_gets_408(serve):
    server = serve("--client-timeout", "2")
    body = FIRST.read_bytes()
    sock = server.connect()
    try:
        first_byte = time.monotonic()
        sock.sendall(request_head(len(body)))
        # never silent for more than 0.2 s: only a total deadline catches this client
        trickler = Trickler(sock, body, interval=0.2)
        trickler.start()
        data, closed = answer_or_close(sock, limit=10)
        trickler.stop.set()
        trickler.join(5)
    finally:
        sock.close()
    assert data.startswith(b"HTTP/1.1 408 ")
    assert 2 <= closed - first_byte < 2 + 2.5
    assert trickler.sent < len(body)
    # others were served meanwhile and after
    assert server.post(body)[0] == 200
    code, log = server.stop()
    assert code == 0
    assert re.search(r"^WARNING: request from 127\.0\.0\.1 not received within 2 s: dropped \(408\)$", log, re.M)


def test_issue_9_connection_limit_holds_and_frees(serve):
    server = serve("--connection-limit", "3", "--client-timeout", "2")
    silent = [server.connect() for _ in range(3)]
    try:
        time.sleep(0.3)  # accepted: the limit is reached
        status, _, seconds = server.post(FIRST.read_bytes())
        # served once the silent connections were dropped, not before
        assert status == 200
        assert 1.2 < seconds < 2 + 3.5
    finally:
        for sock in silent:
            sock.close()
    assert server.post(FIRST.read_bytes())[2] < 2.0


def test_issue_9_serve_on_ipv6_loopback(serve):
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    server = serve(host="::1")
    assert server.url == f"http://[::1]:{server.port}/sync"
    assert server.post(FIRST.read_bytes())[0] == 200


# -- the server in process: clean shutdown -------------------------------------------------------------------


class SlowApp:
    """A WSGI app that takes its time (until ``release`` is set, at most 10 s)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        environ["wsgi.input"].read()
        self.entered.set()
        self.release.wait(10)
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
        return [b"done\n"]


def run_server(server: HTTPServer, app: Any, stop: threading.Event, give_up: threading.Event
               ) -> tuple[threading.Thread, list[int]]:
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(server.serve(app, stop.is_set, give_up.is_set)),
                              daemon=True)
    thread.start()
    return thread, result


def test_issue_9_shutdown_answers_the_request_in_flight():
    server = HTTPServer("127.0.0.1", 0, client_timeout=5)
    app, stop, give_up = SlowApp(), threading.Event(), threading.Event()
    thread, result = run_server(server, app, stop, give_up)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("POST", "/sync", body=b"x" * 1000)
        assert app.entered.wait(5)
        stop.set()  # the signal comes while the request is being answered
        time.sleep(0.5)
        with pytest.raises(OSError):  # no new connections meanwhile
            socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
        app.release.set()
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (200, b"done\n")
    finally:
        app.release.set()
        stop.set()
        conn.close()
        thread.join(10)
    assert not thread.is_alive() and result == [0]


def test_issue_9_shutdown_waits_for_a_request_still_arriving():
    server = HTTPServer("127.0.0.1", 0, client_timeout=5)
    app, stop, give_up = SlowApp(), threading.Event(), threading.Event()
    app.release.set()  # answers at once
    thread, result = run_server(server, app, stop, give_up)
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    idle = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        sock.sendall(request_head(10) + b"12345")
        time.sleep(0.5)
        stop.set()  # the signal comes in the middle of the body
        time.sleep(0.5)
        sock.sendall(b"67890")
        data, _ = answer_or_close(sock, limit=5)
        assert data.startswith(b"HTTP/1.1 200 ") and data.endswith(b"done\n")
        assert answer_or_close(idle, limit=5)[0] == b""  # the idle connection was closed
    finally:
        sock.close()
        idle.close()
        stop.set()
        thread.join(10)
    assert not thread.is_alive() and result == [0]


def test_issue_9_shutdown_cut_short_reports_what_was_left():
    server = HTTPServer("127.0.0.1", 0, client_timeout=5)
    app, stop, give_up = SlowApp(), threading.Event(), threading.Event()
    thread, result = run_server(server, app, stop, give_up)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("POST", "/sync", body=b"x")
        assert app.entered.wait(5)
        stop.set()
        give_up.set()  # a second signal: stop waiting
        thread.join(5)
        assert not thread.is_alive() and result == [1]
    finally:
        app.release.set()
        give_up.set()
        conn.close()
        thread.join(10)


def test_issue_9_a_client_that_does_not_take_its_answer_is_dropped(caplog):
    big = b"x" * (8 << 20)  # more than the socket buffers hold

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(big)))])
        return [big]

    server = HTTPServer("127.0.0.1", 0, client_timeout=1.5)
    stop, give_up = threading.Event(), threading.Event()
    thread, result = run_server(server, app, stop, give_up)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        with caplog.at_level(logging.WARNING, logger="syncml_codec.server"):
            sock.settimeout(10)
            sock.connect(("127.0.0.1", server.port))
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            started = time.monotonic()
            while time.monotonic() - started < 8 and not caplog.records:
                time.sleep(0.1)
            waited = time.monotonic() - started
        assert [r.getMessage() for r in caplog.records] == [
            "client 127.0.0.1 did not take its answer within 1.5 s: connection closed"]
        assert 1.5 <= waited < 1.5 + 2.5
        received, _ = answer_or_close(sock, limit=5)  # what was in the buffers, then the end
        assert 0 < len(received) < len(big)
    finally:
        sock.close()
        stop.set()
        thread.join(10)
    assert result == [0]


@pytest.mark.parametrize(("trusted", "expected"), [(None, "127.0.0.1"), ("127.0.0.1", "192.0.2.9")])
def test_issue_9_client_address_behind_a_trusted_proxy(trusted, expected):
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = environ["REMOTE_ADDR"].encode()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    server = HTTPServer("127.0.0.1", 0, client_timeout=5, trusted_proxy=trusted)
    stop, give_up = threading.Event(), threading.Event()
    thread, _ = run_server(server, app, stop, give_up)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("POST", "/sync", body=b"", headers={"X-Forwarded-For": "203.0.113.5, 192.0.2.9"})
        assert conn.getresponse().read().decode() == expected
    finally:
        conn.close()
        stop.set()
        thread.join(10)


def test_issue_9_http_server_refuses_silly_limits():
    for kwargs in ({"threads": 0}, {"connection_limit": 0}, {"client_timeout": 0}):
        with pytest.raises(ValueError):
            HTTPServer("127.0.0.1", 0, **kwargs)


# -- the body deadline in the WSGI app itself (for servers that stream wsgi.input) ---------------------------


class Trickle(io.RawIOBase):
    """A request body arriving one byte per read, each read taking a
    (fake) second."""

    def __init__(self, data: bytes, clock: list[float], read1: bool) -> None:
        self.data, self.clock = data, clock
        if not read1:
            self.read1 = None  # type: ignore[assignment]

    def read(self, size: int = -1) -> bytes:
        self.clock[0] += 1.0
        chunk, self.data = self.data[:1], self.data[1:]
        return chunk

    read1 = read


@pytest.mark.parametrize("read1", [True, False], ids=["read1", "read"])
def test_issue_9_body_deadline_is_total_not_per_read(read1):
    engine = FakeEngine()
    clock = [0.0]
    app = make_app(engine, client_timeout=5, timer=lambda: clock[0])
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/sync", "CONTENT_TYPE": WBXML, "CONTENT_LENGTH": "100",
               "QUERY_STRING": "", "REMOTE_ADDR": "192.0.2.7", "wsgi.input": Trickle(b"x" * 100, clock, read1)}
    seen: list[str] = []
    body = b"".join(app(environ, lambda status, headers, exc_info=None: seen.append(status)))
    assert seen == ["408 Request Timeout"] and b"5 seconds" in body
    assert clock[0] <= 6 and not engine.calls
    # in time, the same trickle is served
    clock[0] = 0.0
    environ["wsgi.input"] = Trickle(b"x" * 4, clock, read1)
    environ["CONTENT_LENGTH"] = "4"
    b"".join(app(environ, lambda status, headers, exc_info=None: seen.append(status)))
    assert seen[-1] == "200 OK" and engine.calls[-1][0] == b"xxxx"


def test_issue_9_wsgiref_streaming_server_is_not_held_either():
    """On a server that streams wsgi.input (wsgiref), a trickling body is
    cut at the app's total deadline all the same."""
    engine = FakeEngine()
    handler = type("Quiet", (WSGIRequestHandler,), {"log_message": lambda *a: None, "timeout": 10})
    httpd = WSGIServer(("127.0.0.1", 0), handler)
    httpd.set_app(make_app(engine, client_timeout=1.5))
    thread = threading.Thread(target=httpd.handle_request, daemon=True)
    thread.start()
    sock = socket.create_connection(("127.0.0.1", httpd.server_address[1]), timeout=10)
    try:
        sock.sendall(request_head(1000))
        started = time.monotonic()
        trickler = Trickler(sock, b"x" * 1000, interval=0.2)
        trickler.start()
        data, closed = answer_or_close(sock, limit=10)
        trickler.stop.set()
        trickler.join(5)
    finally:
        sock.close()
        thread.join(10)
        httpd.server_close()
    assert data.startswith(b"HTTP/1.0 408 ") and closed - started < 1.5 + 1.0
    assert not engine.calls


# -- the contract with the engine: the client's address ------------------------------------------------------


def test_issue_9_the_engine_gets_the_client_address_and_the_log_line_has_it(caplog):
    engine = FakeEngine()
    with caplog.at_level(logging.INFO, logger="syncml_codec.server"):
        call(make_app(engine), body=FIRST.read_bytes(), remote="192.0.2.7")
    assert engine.remotes == ["192.0.2.7"]
    assert " addr=192.0.2.7 " in caplog.records[-1].getMessage()


# -- defect 8: log lines cannot be forged ----------------------------------------------------------------------


def test_issue_9_log_values_escape_control_and_non_printable_characters():
    line = log_line({"session": "a\r\nts=forged", "device": "d\x00\x1b[2J\u2028\u0085x", "user": "Zoë",
                     "q": 'back\\slash "quoted"'})
    assert "\n" not in line and "\r" not in line and "\x1b" not in line and "\u2028" not in line
    assert line == ('session="a\\r\\nts=forged" device="d\\x00\\x1b[2J\\u2028\\x85x" user="Zoë" '
                    'q="back\\\\slash \\"quoted\\""')
    assert escape_log_text("plain text: kept") == "plain text: kept"


class CRLFEngine:
    def handle(self, body: bytes, content_type: str, session_id: str | None,
               remote: str | None = None) -> FakeReply:
        return FakeReply(b"<SyncML/>", content_type, None, 200,
                         {"session": session_id, "msg_id": "1", "user": "test", "device": "dev\r\nts=forged",
                          "commands": {"Alert": 1}, "statuses": {"200": 1}})


def test_issue_9_crlf_in_sessionid_and_device_give_one_line_each(caplog):
    app = make_app(CRLFEngine())
    with caplog.at_level(logging.INFO, logger="syncml_codec.server"):
        call(app, body=b"<SyncML/>", content_type=XML, query="sessionid=abc%0D%0Ats%3Dforged%20http%3D200")
    (record,) = caplog.records
    assert "\n" not in record.getMessage() and "\r" not in record.getMessage()
    assert 'session="abc\\r\\nts=forged http=200"' in record.getMessage()
    assert 'device="dev\\r\\nts=forged"' in record.getMessage()


def test_issue_9_crlf_injection_on_syncml_serve(serve):
    server = serve()
    # not a SyncML message: the engine names no session, so the line has the client's
    status, _, _ = server.post(b"<junk/>", XML, query="?sessionid=abc%0D%0Ats=2026-01-01T00:00:00.000Z%20forged=1")
    assert status == 400
    request = BASIC_XML.read_bytes().replace(b"<LocURI>se-client-xml-calendar-ical20-basic-a</LocURI>",
                                              b"<LocURI>dev&#13;&#10;ts=2026-01-01T00:00:00.000Z forged=2</LocURI>", 1)
    status, data, _ = server.post(request, XML)
    assert status == 200, data[:300]
    assert b"dev\r\nts=" in Message.from_bytes(request, XML).header.source.loc_uri.encode()  # the attack is real
    code, log = server.stop()
    assert code == 0
    lines = log.splitlines()
    per_message = [line for line in lines if line.startswith("ts=")]
    assert len(per_message) == 2, log
    assert all(line.startswith("WARNING: ") for line in lines if "forged" in line and not line.startswith("ts="))
    assert all(" addr=127.0.0.1 " in line for line in per_message)
    assert 'session="abc\\r\\nts=2026-01-01T00:00:00.000Z forged=1"' in per_message[0]
    assert 'device="dev\\r\\nts=2026-01-01T00:00:00.000Z forged=2"' in per_message[1]
    # every line of the log is a record's first line (level or ts=) or an indented traceback line
    assert all(re.match(r"(ts=|(DEBUG|INFO|WARNING|ERROR|CRITICAL): |  )", line) for line in lines), log


def test_issue_9_cli_formatter_keeps_each_record_on_one_line():
    from syncml_codec.server import LogFormatter as _Formatter

    try:
        raise ValueError("bad\nts=forged")
    except ValueError:
        record = logging.LogRecord("waitress", logging.ERROR, __file__, 1, "serving %s", ("/x\r\nts=forged",),
                                   sys.exc_info())
    text = _Formatter().format(record)
    first, *rest = text.split("\n")
    assert first == "ERROR: waitress: serving /x\\r\\nts=forged"
    assert rest and all(line.startswith("  ") for line in rest)
    assert rest[-2:] == ["  ValueError: bad", "  ts=forged"]  # the exception's own lines are indented too


# -- defect 8: transcripts keep no secret ---------------------------------------------------------------------


class AuthEcho:
    """An engine that takes the query's session id as authenticated and
    answers with the request itself (so the response carries a Cred too)."""

    def handle(self, body: bytes, content_type: str, session_id: str | None,
               remote: str | None = None) -> FakeReply:
        return FakeReply(body, content_type, session_id)


class Unauthenticated:
    """An engine that authenticates nobody (its summary names a session all the same)."""

    def handle(self, body: bytes, content_type: str, session_id: str | None,
               remote: str | None = None) -> FakeReply:
        return FakeReply(body, content_type, None, 200, {"session": "77", "msg_id": "1"})


def test_issue_9_unauthenticated_requests_write_no_transcript(tmp_path: Path):
    root = tmp_path / "t"
    app = make_app(Unauthenticated(), transcript_dir=str(root))
    for query in ("", "sessionid=42", "sessionid=../../etc"):
        assert call(app, body=FIRST.read_bytes(), query=query).code == 200
    failing = make_app(FakeEngine(fail=RuntimeError("boom")), transcript_dir=str(root))
    assert call(failing, body=b"x", query="sessionid=42").code == 500
    assert not root.exists()


@pytest.mark.parametrize(("path", "auth"), [
    (BASIC_XML, "syncml:auth-basic"),
    (corpus_path("syncevolution", "first-request", "wbxml-addressbook-vcard30-basic.wbxml"), "syncml:auth-basic"),
    (FIRST, "syncml:auth-md5"),
    (corpus_path("syncevolution", "sessions", "xml-addressbook-vcard30-md5", "1-a-first-sync", "001-request.xml"),
     "syncml:auth-md5"),
], ids=["basic-xml", "basic-wbxml", "md5-wbxml", "md5-xml"])
def test_issue_9_transcripts_redact_credentials(tmp_path: Path, path: Path, auth: str):
    body = path.read_bytes()
    content_type = XML if path.suffix == ".xml" else WBXML
    cred = Message.from_bytes(body, content_type).header.cred
    assert cred is not None
    secret = cred.data if isinstance(cred.data, str) else cred.data.decode()
    assert len(secret) >= 8
    app = make_app(AuthEcho(), transcript_dir=str(tmp_path))
    assert call(app, body=body, content_type=content_type, query="sessionid=S1").code == 200
    files = sorted((tmp_path / "S1").iterdir())
    assert [p.name for p in files] == ["001-request.xml", "001-response.xml"]
    for file in files:
        text = file.read_text()
        assert secret not in text
        assert f"<Data>{REDACTED}</Data>" in text
        assert auth in text and "b64" in text  # Type and Format stay visible
        assert "<LocURI>" in text  # the rest is all there
    if auth.endswith("basic"):
        assert "dGVzdDpzZWNyZXQ=" not in "".join(f.read_text() for f in files)  # test:secret


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o277])
def test_issue_9_transcript_files_are_private_whatever_the_umask(tmp_path: Path, umask: int):
    root = tmp_path / "new" / "transcripts"
    app = make_app(AuthEcho(), transcript_dir=str(root))
    old = os.umask(umask)
    try:
        assert call(app, body=FIRST.read_bytes(), query="sessionid=S1").code == 200
    finally:
        os.umask(old)
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    assert mode(root) == 0o700 and mode(root / "S1") == 0o700
    files = list((root / "S1").iterdir())
    assert len(files) == 2 and all(mode(f) == 0o600 for f in files)


def test_issue_9_a_transcript_folder_open_to_others_is_reported(tmp_path: Path, caplog):
    root = tmp_path / "t"
    root.mkdir()
    root.chmod(0o755)
    with caplog.at_level(logging.WARNING, logger="syncml_codec.server"):
        make_app(AuthEcho(), transcript_dir=str(root))
        root.chmod(0o700)
        make_app(AuthEcho(), transcript_dir=str(root))
    assert [r.getMessage() for r in caplog.records] == [
        f"transcript folder {root} is open to other users (mode 0755): its folder names are session ids; chmod 700 it"]


def test_issue_9_transcript_does_not_follow_a_planted_symlink(tmp_path: Path, caplog):
    app = make_app(AuthEcho(), transcript_dir=str(tmp_path))
    call(app, body=FIRST.read_bytes(), query="sessionid=S1")
    target = tmp_path / "elsewhere"
    (tmp_path / "S1" / "002-request.xml").symlink_to(target)  # the next file's name
    with caplog.at_level(logging.WARNING, logger="syncml_codec.server"):
        assert call(app, body=FIRST.read_bytes(), query="sessionid=S1").code == 200
    assert not target.exists()
    # (issue 12: a number already taken, by another worker process or by anything else, is skipped)
    assert (tmp_path / "S1" / "003-request.xml").is_file()
    assert not (tmp_path / "S1" / "003-request.xml").is_symlink()


def test_server_doctests():
    import doctest

    from syncml_codec.server import _app, _http, _journal, _logging, wsgi

    for module in (wsgi, _journal, _http, _app, _logging):
        assert doctest.testmod(module).failed == 0, module.__name__
