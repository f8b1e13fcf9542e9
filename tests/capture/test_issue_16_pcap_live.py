"""Issue 16 item 7: captures made in the test run (tcpdump on loopback while
SyncEvolution syncs twice with ``syncml serve``, XML and WBXML; see
:mod:`tests.capture.captures`) read back: every message the server got and
answered is in the capture, byte for byte as the server logged it, paired,
in two sessions, with the MoreData chunks of the big contact."""

from __future__ import annotations

import contextlib
import io
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from syncml_codec.capture import CapturedMessage, read_capture
from syncml_codec.cli import main
from syncml_codec.codec import wbxml_to_xml
from syncml_codec.server._journal import render_xml

from ..interop.conftest import ServerProcess
from . import captures
from .captures import LiveCapture


def _xml(m: CapturedMessage) -> bytes:
    return wbxml_to_xml(m.data) if m.data[:1] in (b"\x01", b"\x02", b"\x03") else m.data


def _transcripts(folder: Path, side: str) -> list[bytes]:
    return sorted(p.read_bytes() for p in folder.glob(f"*/*-{side}.*"))


def test_issue_16_live_capture_holds_every_message(live_capture: LiveCapture) -> None:
    cap = read_capture(live_capture.pcap.read_bytes(), live_capture.pcap.name)
    assert cap.kind == "pcap" and cap.errors == [], cap.notes
    assert [s["stores"]["addressbook"]["mode"] for s in live_capture.syncs] == ["slow", "two-way"]
    requests = [m for m in cap.messages if m.direction == "client"]
    responses = [m for m in cap.messages if m.direction == "server"]
    # the server keeps transcripts of authenticated exchanges only: all but the first,
    # which a new device sends with an empty nonce and which is answered with a challenge
    challenged = [n for n, m in enumerate(responses) if b"<Chal>" in _xml(m) and b"<Data>401</Data>" in _xml(m)]
    assert challenged == [0]
    # every other message the server received and answered is in the capture, with the same
    # bytes (rendered as the server renders its transcripts: credentials redacted)
    for side, msgs in (("request", requests[1:]), ("response", responses[1:])):
        assert sorted(render_xml(m.data, m.content_type)[0] for m in msgs) == \
            _transcripts(live_capture.transcripts, side)
    media = "application/vnd.syncml+" + live_capture.enc
    assert {m.content_type for m in cap.messages} == {media}
    assert all(m.http is not None and m.http.header("Content-Length") == str(len(m.data)) for m in cap.messages)
    assert [m.direction for m in cap.messages] == ["client", "server"] * len(requests)


def test_issue_16_live_capture_two_sessions_and_more_data(live_capture: LiveCapture) -> None:
    cap = read_capture(live_capture.pcap.read_bytes(), "live.pcap")
    streams = list(dict.fromkeys(m.stream for m in cap.messages))
    assert len(streams) == 2  # one keep-alive connection per session
    assert all(s and s.endswith(f" -> 127.0.0.1:{live_capture.port}") for s in streams)
    first = [m for m in cap.messages if m.stream == streams[0]]
    assert b"<Alert><CmdID>" in _xml(first[0]) or b"<Alert>" in _xml(first[0])
    assert live_capture.device_id.encode() in _xml(first[0])
    chunks = [m for m in first if m.direction == "client" and b"<MoreData" in _xml(m)]
    assert len(chunks) >= 2  # the 10 kB NOTE in messages of at most 4000 bytes
    assert all(len(m.data) <= 4000 for m in chunks)
    second = [m for m in cap.messages if m.stream == streams[1]]
    assert any(b"7946 0999" in _xml(m) for m in second if m.direction == "client")  # the change
    times = [m.time or 0 for m in cap.messages]
    assert times == sorted(times) and times[0] > 1e9


@pytest.mark.parametrize("require", [False, True])
def test_issue_16_live_capture_without_tcpdump(monkeypatch: pytest.MonkeyPatch, require: bool) -> None:
    """No tcpdump: the live tests are skipped, but fail in CI
    (SYNCML_CODEC_REQUIRE_INTEROP=1)."""
    from ..interop import conftest as interop

    monkeypatch.setattr(captures.shutil, "which", lambda name: None)
    monkeypatch.setattr(captures, "TCPDUMP_PLACES", ())
    monkeypatch.setattr(interop, "REQUIRE", require)
    with pytest.raises(pytest.fail.Exception if require else pytest.skip.Exception, match="tcpdump is not installed"):
        captures.tcpdump_path()


def test_issue_16_live_capture_matches_the_client_log(live_capture: LiveCapture) -> None:
    """What SyncEvolution's own log says it sent (the size of each message)
    and received (how many), per session, is what the capture holds."""
    import re

    cap = read_capture(live_capture.pcap.read_bytes(), "live.pcap")
    streams = list(dict.fromkeys(m.stream for m in cap.messages))
    assert len(streams) == len(live_capture.syncs) == 2
    for stream, sync in zip(streams, live_capture.syncs, strict=True):
        log = (Path(sync["log_dir"]) / "syncevolution-log.html").read_text(errors="replace")
        sent = [int(n) for n in re.findall(r"Entire message size is now (\d+) Bytes", log)]
        received = re.findall(r"=+&gt; Starting to analyze incoming message", log)
        requests = [len(m.data) for m in cap.messages if m.stream == stream and m.direction == "client"]
        responses = [m for m in cap.messages if m.stream == stream and m.direction == "server"]
        # the client builds one more message after the last answer, which it does not send
        assert sent[:len(requests)] == requests and len(sent) - len(requests) in (0, 1)
        assert len(received) == len(responses) == len(requests)


def _cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, Any, str]:
    capsys.readouterr()
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, json.loads(out), err


def test_issue_16_live_capture_transcript(live_capture: LiveCapture, capsys: pytest.CaptureFixture[str]) -> None:
    """``syncml inspect --json`` on the capture: the refused first message (md5 over an empty
    nonce), the slow sync with the big contact in chunks, the two-way sync with the change."""
    status, doc, err = _cli(capsys, "inspect", "--json", live_capture.pcap)
    assert (status, err) == (0, "")
    sessions = doc["sessions"]
    assert [s["outcome"] for s in sessions] == ["failed", "completed", "completed"], [s["reason"] for s in sessions]
    assert all(s["device"] == live_capture.device_id and s["encoding"] == live_capture.enc for s in sessions)
    assert [s["auth"]["outcome"] for s in sessions] == ["refused", "authenticated", "authenticated"]
    refusal = sessions[0]["auth"]["verdicts"][0]
    assert (refusal["code"], refusal["chal_type"]) == (401, "md5")
    slow, two_way = sessions[1]["datastores"], sessions[2]["datastores"]
    assert [(d["asked"], d["granted"]) for d in slow] == [(201, 201)]
    assert [(d["asked"], d["granted"]) for d in two_way] == [(200, 200)]
    assert slow[0]["from_client"].get("Add") == 4 and two_way[0]["from_client"] == {"Replace": 1}
    (chunked,) = sessions[1]["chunked_items"]
    assert chunked["sender"] == "client" and chunked["chunks"] >= 2 and chunked["complete"]
    assert [p["numbers"] for p in sessions[2]["packages"]][:4] == [[1], [2], [3], [4]]
    times = [m["time"] for p in sessions[1]["packages"] for m in p["messages"]]
    assert times[0] == 0 and all(t is not None for t in times)


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    started: list[ServerProcess] = []

    def start(*args: str) -> ServerProcess:
        folder = tmp_path / f"server{len(started)}"
        folder.mkdir()
        started.append(ServerProcess(folder, args=list(args)))
        return started[-1]

    yield start
    for server in started:
        server.stop()


def test_issue_16_live_capture_replays_against_a_fresh_server(
        live_capture: LiveCapture, fresh_server: Callable[..., ServerProcess],
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The capture replayed to a fresh ``syncml serve`` over HTTP: no differences; to one whose
    authentication policy takes basic credentials only: the md5 logins are refused, and said so."""
    replay = ("replay", live_capture.pcap, "--password-stdin", "--json")
    same = fresh_server()
    with _stdin("secret"):
        status, doc, err = _cli(capsys, *replay, "--url", same.url)
    assert (status, err, doc["differences"]) == (0, "", 0), doc
    assert [s["compared"] for s in doc["sessions"]] == [s["recorded_answers"] for s in doc["sessions"]]
    basic_only = fresh_server("--auth-policy", "basic")
    with _stdin("secret"):
        status, doc, err = _cli(capsys, *replay, "--url", basic_only.url)
    assert status == 1 and doc["differences"] > 0
    auth = [(d["recorded"], d["replayed"]) for s in doc["sessions"] for d in s["differences"] if d["kind"] == "auth"]
    # the first answer challenges basic instead of md5, the md5 login it answers is refused, nothing after is sent
    assert auth[0] == ("401 auth-md5", "401 auth-basic"), auth
    assert ("212", "403") in auth and ("200", None) in auth, auth
    # in process on a new database: the same as the unchanged server
    with _stdin("secret"):
        status, doc, err = _cli(capsys, *replay, "--in-process", "--db", tmp_path / "new.db", "--user", "test")
    assert (status, doc["differences"]) == (0, 0), doc


@contextlib.contextmanager
def _stdin(text: str) -> Iterator[None]:
    saved = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(text.encode() + b"\n"))
    try:
        yield
    finally:
        sys.stdin = saved
