"""The WSGI front with a fake engine: routing, refusals, encodings, the log
line and transcripts.  (With the real engine: test_wsgi_engine.py.)"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

import pytest

from syncml_codec.errors import ProtocolError, StructureError
from syncml_codec.server import make_app
from syncml_codec.server._journal import log_line, render_xml

from ..conftest import corpus_path

WBXML = "application/vnd.syncml+wbxml"
XML = "application/vnd.syncml+xml"


def session_file(name: str, encoding: str = "wbxml") -> bytes:
    return corpus_path("syncevolution", "sessions", f"{encoding}-addressbook-vcard30-md5", "1-a-first-sync",
                       name).read_bytes()


@dataclass
class FakeReply:
    body: bytes
    content_type: str
    session_id: str | None
    http_status: int = 200
    summary: dict[str, Any] = field(default_factory=dict)


class FakeEngine:
    """Answers every message with a canned one in the client's encoding."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.calls: list[tuple[bytes, str, str | None]] = []
        self.remotes: list[str | None] = []
        self.fail = fail

    def handle(self, body: bytes, content_type: str, session_id: str | None,
               remote: str | None = None) -> FakeReply:
        self.calls.append((body, content_type, session_id))
        self.remotes.append(remote)
        if self.fail is not None:
            raise self.fail
        encoding = "wbxml" if content_type.endswith("wbxml") else "xml"
        reply = session_file(f"001-response.{encoding}", encoding)
        return FakeReply(reply, content_type, session_id or "S1")


@dataclass
class Answer:
    status: str
    headers: dict[str, str]
    body: bytes

    @property
    def code(self) -> int:
        return int(self.status.split()[0])


def call(app: Any, method: str = "POST", path: str = "/sync", body: bytes = b"", content_type: str | None = WBXML,
         query: str = "", length: str | None = None, remote: str | None = None, stream: Any = None) -> Answer:
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path,
                               "QUERY_STRING": query, "wsgi.input": stream or io.BytesIO(body)}
    if remote is not None:
        environ["REMOTE_ADDR"] = remote
    if content_type is not None:
        environ["CONTENT_TYPE"] = content_type
    if length != "":
        environ["CONTENT_LENGTH"] = str(len(body)) if length is None else length
    setup_testing_defaults(environ)
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen["status"], seen["headers"] = status, dict(headers)
        return lambda data: None

    # wsgiref.validate checks both sides of the interface (it refuses a bad
    # Content-Length before the app sees it, so those go straight in)
    strict = length is None or length.isdigit()
    chunks = (validator(app) if strict else app)(environ, start_response)
    try:
        body_out = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return Answer(seen["status"], seen["headers"], body_out)


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


def test_post_wbxml_answers_wbxml(engine):
    request = session_file("001-request.wbxml")
    answer = call(make_app(engine), body=request)
    assert answer.code == 200
    assert answer.headers["Content-Type"] == WBXML
    assert int(answer.headers["Content-Length"]) == len(answer.body)
    assert answer.body == session_file("001-response.wbxml")
    assert engine.calls == [(request, WBXML, None)]


def test_post_xml_answers_xml_and_ignores_type_parameters(engine):
    request = session_file("001-request.xml", "xml")
    answer = call(make_app(engine), body=request, content_type=XML + "; charset=UTF-8")
    assert answer.code == 200
    assert answer.headers["Content-Type"] == XML
    assert engine.calls == [(request, XML, None)]


def test_sessionid_query_routes_to_the_session(engine):
    call(make_app(engine), body=b"x", query="sessionid=42")
    call(make_app(engine), body=b"x", query="foo=1&sessionid=abc")
    call(make_app(engine), body=b"x", query="sessionid=")
    assert [c[2] for c in engine.calls] == ["42", "abc", None]


@pytest.mark.parametrize(("method", "path", "content_type", "code"), [
    ("GET", "/sync", WBXML, 405),
    ("PUT", "/sync", WBXML, 405),
    ("POST", "/", WBXML, 404),
    ("POST", "/sync/extra", WBXML, 404),
    ("GET", "/favicon.ico", None, 404),
    ("POST", "/sync", "text/plain", 415),
    ("POST", "/sync", "application/xml", 415),
    ("POST", "/sync", None, 415),
])
def test_refusals_have_a_short_plain_body(engine, method, path, content_type, code):
    answer = call(make_app(engine), method=method, path=path, content_type=content_type, body=b"<SyncML/>")
    assert answer.code == code
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert 0 < len(answer.body) < 120 and answer.body.endswith(b"\n")
    assert not engine.calls
    if code == 405:
        assert answer.headers["Allow"] == "POST"


def test_body_over_the_limit_is_413(engine):
    app = make_app(engine, max_body=100)
    assert call(app, body=b"x" * 100).code == 200
    answer = call(app, body=b"x" * 101)
    assert answer.code == 413 and b"100 bytes" in answer.body
    assert len(engine.calls) == 1


def test_missing_or_bad_content_length(engine):
    assert call(make_app(engine), body=b"x", length="").code == 411
    assert call(make_app(engine), body=b"x", length="abc").code == 411
    assert call(make_app(engine), body=b"x", length="-1").code == 400
    assert call(make_app(engine), body=b"x", length="5").code == 400  # body shorter than announced
    assert not engine.calls


def test_engine_crash_is_500_without_traceback(caplog):
    engine = FakeEngine(fail=RuntimeError("secret internals"))
    with caplog.at_level(logging.INFO, logger="syncml_codec.server"):
        answer = call(make_app(engine), body=b"<SyncML/>", query="sessionid=7")
    assert answer.code == 500
    assert answer.body == b"internal error\n"
    assert b"secret" not in answer.body and b"Traceback" not in answer.body
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and errors[0].exc_info and "session 7" in errors[0].getMessage()
    line = [r for r in caplog.records if r.levelno == logging.INFO][-1].getMessage()
    assert "http=500" in line and "session=7" in line


def test_store_failure_is_500():
    answer = call(make_app(FakeEngine(fail=ProtocolError("disk full", status=500))), body=b"x")
    assert answer.code == 500 and answer.body == b"internal error\n"


def test_unreadable_message_is_400():
    answer = call(make_app(FakeEngine(fail=StructureError("SyncHdr", "missing"))), body=b"junk")
    assert answer.code == 400
    assert answer.body.startswith(b"malformed SyncML message: ")


def test_one_structured_log_line_per_message(engine, caplog):
    request = session_file("001-request.wbxml")
    ticks = iter([1795325401.5])
    app = make_app(engine, clock=lambda: next(ticks))
    with caplog.at_level(logging.INFO, logger="syncml_codec.server"):
        call(app, body=request)
    records = [r for r in caplog.records if r.name == "syncml_codec.server"]
    assert len(records) == 1
    line = records[0].getMessage()
    assert line.startswith("ts=2026-11-22T")
    fields: dict[str, Any] = records[0].syncml  # type: ignore[attr-defined]
    assert fields["session"] == "S1" and fields["msg"] == "1" and fields["enc"] == "wbxml"
    assert fields["http"] == "200" and fields["in"] == len(request)
    assert fields["cmds_in"] == "Alert:1,Get:1,Put:1"
    assert "Status:" in fields["cmds_out"] and "Results:1" in fields["cmds_out"]
    assert fields["status_out"].startswith("200:") and "212:1" in fields["status_out"]
    assert float(fields["ms"]) >= 0
    for key in ("session=S1", "msg=1", "cmds_in=Alert:1,Get:1,Put:1", "http=200", "ms="):
        assert key in line


def test_unreadable_request_is_still_logged(caplog):
    engine = FakeEngine()
    with caplog.at_level(logging.INFO, logger="syncml_codec.server"):
        call(make_app(engine), body=b"\x00\x01garbage")
    line = caplog.records[-1].getMessage()
    assert 'error="unreadable request"' in line and "http=200" in line


def test_no_summary_work_when_info_is_off(engine, caplog, monkeypatch):
    import syncml_codec.server._journal as journal

    monkeypatch.setattr(journal, "summarize", lambda *a: pytest.fail("summarized"))
    with caplog.at_level(logging.WARNING, logger="syncml_codec.server"):
        assert call(make_app(engine), body=b"x").code == 200


def test_transcripts_per_session(tmp_path: Path, engine):
    app = make_app(engine, transcript_dir=str(tmp_path))
    request = session_file("001-request.wbxml")
    call(app, body=request)
    call(app, body=request, query="sessionid=S1")
    call(app, body=session_file("001-request.xml", "xml"), content_type=XML, query="sessionid=../../etc")
    folder = tmp_path / "S1"
    assert sorted(p.name for p in folder.iterdir()) == [
        "001-request.xml", "001-response.xml", "002-request.xml", "002-response.xml"]
    text = (folder / "001-request.xml").read_text()
    assert text.startswith('<?xml version="1.0"') and "<Alert>" in text and "<Data>201</Data>" in text
    assert "<Results>" in (folder / "001-response.xml").read_text()
    # the session folder name is made safe
    assert [p.name for p in tmp_path.iterdir() if p.name != "S1"] == ["_.._etc"]
    # a new app (server restart) continues the numbering
    call(make_app(engine, transcript_dir=str(tmp_path)), body=request, query="sessionid=S1")
    assert (folder / "003-request.xml").exists()


def test_a_failed_exchange_goes_only_into_a_transcript_that_exists(tmp_path: Path):
    engine = FakeEngine()
    app = make_app(engine, transcript_dir=str(tmp_path))
    call(app, body=session_file("001-request.wbxml"))  # the engine names session S1
    engine.fail = RuntimeError("boom")
    call(app, body=b"\x03\x01garbage", query="sessionid=9")  # no session 9: a client's word is not enough
    call(app, body=b"\x03\x01garbage", query="sessionid=S1")
    assert [p.name for p in tmp_path.iterdir()] == ["S1"]
    assert sorted(p.name for p in (tmp_path / "S1").iterdir()) == [
        "001-request.xml", "001-response.xml", "002-request.txt"]
    # what cannot be parsed cannot be redacted: a note stands in for it
    assert (tmp_path / "S1" / "002-request.txt").read_text().startswith("unreadable message of 9 bytes, sha256 ")


def test_transcript_failure_does_not_fail_the_request(tmp_path: Path, engine, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with caplog.at_level(logging.WARNING, logger="syncml_codec.server"):
        assert call(make_app(engine, transcript_dir=str(blocker)), body=b"x").code == 200
    assert any("transcript not written" in r.getMessage() for r in caplog.records)


def test_render_xml_and_log_line_quoting():
    data, suffix = render_xml(session_file("001-request.wbxml"), WBXML)
    assert suffix == ".xml" and b"<SyncML" in data
    note, suffix = render_xml(b"\x00junk", None)
    assert suffix == ".txt" and b"junk" not in note and note.startswith(b"unreadable message of 5 bytes")
    assert log_line({"a": 'x "y"', "b": None, "c": ""}) == 'a="x \\"y\\"" c=""'


class SummaryEngine:
    """Like the real engine: an HTTP status and a summary with each reply."""

    def handle(self, body: bytes, content_type: str, session_id: str | None,
               remote: str | None = None) -> FakeReply:
        if body == b"junk":
            return FakeReply(b"not a SyncML message: junk\n", "text/plain; charset=utf-8", None, 400,
                             {"error": "junk"})
        return FakeReply(b"<SyncML/>", content_type, None, 200,
                         {"session": "77", "msg_id": "3", "phase": "map", "user": "test", "device": "dev 1",
                          "commands": {"Map": 1, "Status": 2}, "statuses": {"200": 3}, "seconds": 0.001})


def test_engine_http_status_is_passed_on():
    answer = call(make_app(SummaryEngine()), body=b"junk", content_type=XML)
    assert answer.code == 400
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert answer.body == b"not a SyncML message: junk\n"


def test_engine_summary_makes_the_log_line_without_parsing(caplog, monkeypatch, tmp_path: Path):
    import syncml_codec.server._journal as journal

    monkeypatch.setattr(journal, "summarize", lambda *a: pytest.fail("parsed again"))
    with caplog.at_level(logging.INFO, logger="syncml_codec.server"):
        answer = call(make_app(SummaryEngine(), transcript_dir=str(tmp_path)), body=b"<SyncML/>", content_type=XML)
        call(make_app(SummaryEngine()), body=b"junk", content_type=XML)
    assert answer.code == 200
    ok, bad = (r.getMessage() for r in caplog.records)
    assert ok.startswith("ts=") and ok.split(" ", 1)[1].startswith(
        'session=77 msg=3 phase=map user=test device="dev 1" enc=xml http=200 in=9 out=9 '
        "cmds_in=Map:1,Status:2 status_out=200:3 ms=")
    assert "http=400" in bad and "error=junk" in bad
    # the reply names no session (the engine authenticated nobody): no transcript, whatever the summary says
    assert not list(tmp_path.iterdir())
