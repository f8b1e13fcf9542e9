"""Issue 16, ``syncml inspect``: the session transcript as text (colour on a
terminal only) and as one JSON document that validates against the schema
``docs/transcript-json.md`` documents; bad inputs reported one line each on
stderr while the good ones are shown, exit status 1."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from syncml_codec.capture import Capture, CapturedMessage, CaptureNote
from syncml_codec.cli import main

from ..capture.issue16_traffic import more_data_session
from ..capture.test_issue_16_transcript import FUNAMBOL, SAN01, step_files
from ..conftest import ROOT, corpus_path
from ..test_cli import syncml

DOC = ROOT / "docs" / "transcript-json.md"
ESC = "\x1b["


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["inspect", *args])
    out, err = capsys.readouterr()
    return code, out, err


def paths(combo: str, step: str) -> list[str]:
    return [str(p) for p in step_files(combo, step)]


# -- the schema, as the doc states it ---------------------------------------

def doc_schema() -> dict[str, dict[str, str]]:
    """``{object name: {field: type}}`` from the doc's tables."""
    schema: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in DOC.read_text().splitlines():
        if line.startswith("### "):
            current = schema.setdefault(line[4:].strip(), {})
        elif current is not None and (m := re.match(r"\| `(\w+)` \| ([^|]+) \|", line)):
            current[m.group(1)] = m.group(2).strip()
    return schema


def check(value: Any, type_: str, schema: dict[str, dict[str, str]], where: str, seen: set[str]) -> None:
    """``value`` is of the documented ``type_`` (raises AssertionError naming ``where``)."""
    if type_.endswith(" or null"):
        if value is None:
            return
        type_ = type_[: -len(" or null")]
    assert value is not None, f"{where}: null where the doc says {type_}"
    if type_.startswith("list of "):
        assert isinstance(value, list), f"{where}: not a list"
        for i, v in enumerate(value):
            check(v, type_[8:], schema, f"{where}[{i}]", seen)
    elif type_.startswith("map of "):
        assert isinstance(value, dict) and all(isinstance(k, str) for k in value), f"{where}: not a map"
        for k, v in value.items():
            check(v, type_[7:], schema, f"{where}.{k}", seen)
    elif type_.startswith("one of "):
        choices = re.findall(r'"([^"]*)"', type_)
        assert value in choices, f"{where}: {value!r} not one of {choices}"
    elif type_ in ("string", "integer", "number", "boolean"):
        ok = {"string": isinstance(value, str), "boolean": isinstance(value, bool),
              "integer": isinstance(value, int) and not isinstance(value, bool),
              "number": isinstance(value, (int, float)) and not isinstance(value, bool)}[type_]
        assert ok, f"{where}: {value!r} is not {type_}"
    else:
        assert type_ in schema, f"{where}: the doc names an undocumented type {type_!r}"
        assert isinstance(value, dict), f"{where}: not an object"
        fields = schema[type_]
        assert set(value) == set(fields), f"{where} ({type_}): fields {sorted(set(value) ^ set(fields))} differ"
        seen.add(type_)
        for k, t in fields.items():
            check(value[k], t, schema, f"{where}.{k}", seen)


def validate(doc: Any) -> set[str]:
    """The object types the document used."""
    seen: set[str] = set()
    check(doc, "Document", doc_schema(), "$", seen)
    return seen


def test_the_walker_catches_what_the_doc_does_not_say() -> None:
    schema = doc_schema()
    assert {"Document", "Session", "Package", "Message", "Command", "Datastore", "Auth", "San"} <= set(schema)
    good = {"schema": "syncml-codec/transcript/1", "inputs": [], "sessions": []}
    validate(good)
    for bad in ({**good, "extra": 1}, {**good, "schema": "other"}, {"schema": good["schema"], "inputs": []},
                {**good, "inputs": [{"name": "x", "kind": "xml", "messages": "1", "notes": []}]}):
        with pytest.raises(AssertionError):
            validate(bad)


# -- text -------------------------------------------------------------------

def test_transcript_of_a_recorded_session(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *paths("xml-calendar-ical20-md5", "2-b-first-sync"))
    assert (code, err) == (0, "") and ESC not in out
    assert out.startswith("Session 1: SessionID 5, device se-client-xml-calendar-ical20-md5-b -> server "
                          "http://127.0.0.1:8999/syncevolution  completed\n")
    for line in ["  SyncML 1.2, XML, 6 messages, 6 packages",
                 "  Auth: credentials md5 in SyncHdr (message 1); server 212 Authentication accepted "
                 "[challenge md5, NextNonce], 200 OK (x2): authenticated",
                 "    ./calendar -> calendar: asked 201 Slow sync, granted 201 Slow sync (Alert answered 200)",
                 "        from client: Map 2; from server: Add 2",
                 "  Package 1: client initialization (from the client, 1 message)",
                 "        Alert #3 201 Slow sync: ./calendar -> calendar",
                 "  Package 4: server modifications (from the server, 1 message)",
                 "        Sync #3 calendar -> ./calendar: Add 2",
                 "        Status 201 Item added -> Add #4, #5 of msg 2",
                 "        Map #6 ./calendar -> calendar: 2 mappings",
                 "  Package 6: map acknowledgement (from the server, 1 message)",
                 "  Outcome: completed (package 6 from the server ended with Final)"]:
        assert line + "\n" in out, line
    assert out.index("Package 1:") < out.index("Package 2:") < out.index("Package 6:")


def test_funambol_and_a_notification_in_one_run(capsys: pytest.CaptureFixture[str]) -> None:
    base = corpus_path(*FUNAMBOL)
    code, out, err = run(capsys, str(corpus_path(*SAN01)), *(str(base / f"syncML{n}.xml") for n in range(1, 9)))
    assert (code, err) == (0, "")
    assert "Session 1: Data Sync Notification (package 0)  completed" in out
    assert re.search(r"\n    server -> client  notification  \d+ bytes  \[.*SAN01.bin\]\n", out)
    assert "  SyncML 1.2, UI mode background, initiated by the server, session 0, server 'PC Suite Data Sync'" in out
    assert "  alert 206 Two-way sync alerted by server: 'Contacts', content type not given" in out
    assert "Session 2: SessionID 1194978121, device fwm-50F0063006B000000" in out
    assert "  Package 4: server modifications (from the server, 3 messages)" in out
    assert "        Alert #2 222 Next message: contact -> scard" in out
    assert "  Control alerts: 222 Next message" in out


def test_more_data_from_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Our own MoreData session written out one file per message: the
    directions come from the headers, the chunks are counted."""
    names = []
    for n, msg in enumerate(more_data_session(), 1):
        path = tmp_path / f"{n:03d}.wbxml"
        path.write_bytes(msg.data)
        names.append(str(path))
    code, out, err = run(capsys, *names)
    assert (code, err) == (0, "")
    assert re.search(r"    Replace 1 from the client: \d+ chunks, 20101 bytes of 20101 declared: complete\n", out)
    assert "Status 213 Chunked item accepted -> Replace #3" in out and "Control alerts: 222 Next message (x" in out
    assert "(1 chunked, MoreData)" in out and "Outcome: completed" in out


# -- bad input --------------------------------------------------------------

def test_bad_files_among_good_ones(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A missing file, an empty one, a message cut short, garbage: one line
    each on stderr (origin + reason), the good messages all shown, exit 1."""
    good = paths("wbxml-addressbook-vcard30-md5", "3-a-two-way-changes")
    cut = tmp_path / "cut.wbxml"
    cut.write_bytes(Path(good[2]).read_bytes()[:150])
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"")
    junk = tmp_path / "junk.xml"
    junk.write_bytes(b"<SyncML><SyncHdr>")
    missing = str(tmp_path / "missing.xml")
    code, out, err = run(capsys, *good[:2], str(cut), missing, str(empty), *good[3:], str(junk))
    assert code == 1
    lines = err.splitlines()
    assert len(lines) == 4 and all(line.startswith("syncml inspect: ") for line in lines), err
    assert any(f"{missing}: No such file or directory" in line for line in lines)
    assert any(f"{empty}: empty input" in line for line in lines)
    assert any(line.startswith(f"syncml inspect: {cut}: ") for line in lines)
    assert any(line.startswith(f"syncml inspect: {junk}: ") for line in lines)
    assert "Traceback" not in err
    # every good message (the cut one replaced the client's second), the cut one with its error
    assert out.count("client -> server") == 2 and out.count("server -> client") == 3
    assert out.count("could not be read: ") == 2 and "Outcome: failed" in out


def test_notes_of_a_capture(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """What a reader skipped is an info line in the transcript; what is
    broken goes to stderr (and exit 1), the messages still shown."""
    from syncml_codec.cli import _inspect

    data = Path(paths("xml-calendar-ical20-md5", "1-a-first-sync")[0]).read_bytes()
    cap = Capture("s.pcap", "pcap", [CapturedMessage(data, "s.pcap: stream 1, request 1", "client")],
                  [CaptureNote("s.pcap: stream 2", "HTTP exchange without SyncML (text/html)"),
                   CaptureNote("s.pcap: packet 40", "truncated capture", error=True)])
    monkeypatch.setattr(_inspect, "load_captures", lambda files, kind: [cap])
    code, out, err = run(capsys, "s.pcap")
    assert code == 1 and err == "syncml inspect: s.pcap: packet 40: truncated capture\n"
    assert out.startswith("info: s.pcap: stream 2: HTTP exchange without SyncML (text/html)\n")
    assert "client -> server  msg 1" in out and "Outcome: incomplete" in out
    code, out, err = run(capsys, "--json", "s.pcap")
    doc = json.loads(out)
    validate(doc)
    assert code == 1 and doc["inputs"][0]["notes"] == [
        {"origin": "s.pcap: stream 2", "text": "HTTP exchange without SyncML (text/html)", "error": False},
        {"origin": "s.pcap: packet 40", "text": "truncated capture", "error": True}]


def test_invalid_message_is_shown_leniently(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(corpus_path("libwbxml", "gen", "wbxml", "syncml", "syncml-013.wbxml"))
    code, out, err = run(capsys, path)
    assert code == 1 and err.startswith(f"syncml inspect: {path}: SyncML/SyncBody/Sync[1]: CmdID missing")
    assert "not valid SyncML (read leniently)" in out
    code, out, err = run(capsys, "--lenient", path)
    assert (code, err) == (0, "")


# -- JSON -------------------------------------------------------------------

def test_json_of_several_sessions_validates_and_says_it_all(capsys: pytest.CaptureFixture[str]) -> None:
    files = [*paths("wbxml-addressbook-vcard30-basic", "1-a-first-sync"),
             *paths("wbxml-addressbook-vcard30-basic", "3-a-two-way-changes"), str(corpus_path(*SAN01))]
    code, out, err = run(capsys, "--json", *files)
    assert (code, err) == (0, "")
    doc = json.loads(out)
    used = validate(doc)
    assert {"Session", "Package", "Message", "Command", "StatusRef", "Datastore", "Auth", "Credential",
            "Verdict", "San", "SanDatastore", "Input"} <= used
    assert doc["schema"] == "syncml-codec/transcript/1"
    assert [i["name"] for i in doc["inputs"]] == files
    first, second, san = doc["sessions"]
    assert [s["outcome"] for s in doc["sessions"]] == ["completed"] * 3
    assert (first["encoding"], first["auth"]["credentials"][0]["scheme"]) == ("wbxml", "basic")
    assert second["auth"]["credentials"][0]["scheme"] == "md5"
    ds = second["datastores"][0]
    assert (ds["asked"], ds["asked_meaning"], ds["granted"]) == (200, "Two-way sync", 200)
    assert ds["from_client"] == {"Replace": 1, "Delete": 1, "Add": 1}
    assert [p["numbers"] for p in second["packages"]] == [[1], [2], [3], [4], [5], [6]]
    statuses = [c for p in second["packages"] for m in p["messages"] for c in m["commands"] if c["name"] == "Status"]
    assert all(isinstance(c["code"], int) and c["meaning"] and c["answers"]["cmd"] for c in statuses)
    assert san["kind"] == "san" and san["san"]["datastores"][0]["sync_type"] == 206


def test_json_of_more_data_and_broken_input(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    names = []
    for n, msg in enumerate(more_data_session()[:9], 1):  # cut inside the chunks
        path = tmp_path / f"{n:03d}.wbxml"
        path.write_bytes(msg.data)
        names.append(str(path))
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"not SyncML at all")
    code, out, err = run(capsys, "--json", *names, str(bad))
    assert code == 1 and err.count("\n") == 1 and str(bad) in err
    doc = json.loads(out)
    validate(doc)
    (s,) = doc["sessions"]
    assert s["outcome"] == "failed" and s["chunked_items"][0]["complete"] is False
    assert s["packages"][-1]["messages"][-1]["error"]


# -- colour -----------------------------------------------------------------

def test_colour_always_never_and_no_color(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    files = paths("xml-calendar-ical20-md5", "1-a-first-sync")
    monkeypatch.delenv("NO_COLOR", raising=False)
    code, out, _ = run(capsys, "--color", "always", *files)
    assert code == 0 and "\x1b[32m212 Authentication accepted\x1b[0m" in out  # 2xx green
    assert "\x1b[1;34mclient -> server\x1b[0m" in out and "\x1b[1mPackage 1\x1b[0m" in out
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
    code, out, _ = run(capsys, "--color", "never", *files)
    assert out == plain  # the same text, only without escapes
    code, out, _ = run(capsys, *files)  # captured: not a terminal
    assert out == plain
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code, out, _ = run(capsys, *files)
    assert ESC in out  # a terminal: coloured
    monkeypatch.setenv("NO_COLOR", "1")
    code, out, _ = run(capsys, *files)
    assert out == plain
    code, out, _ = run(capsys, "--color", "always", *files)
    assert ESC in out  # the explicit flag wins


def test_error_statuses_are_red(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    files = paths("xml-calendar-ical20-md5", "2-b-first-sync")
    edited = tmp_path / "003-request.xml"
    edited.write_bytes(Path(files[4]).read_bytes().replace(b"<Data>201</Data>", b"<Data>418</Data>", 1))
    files[4] = str(edited)
    code, out, _ = run(capsys, "--color", "always", *files)
    assert code == 0 and "\x1b[31m418 Already exists\x1b[0m" in out
    assert "\x1b[1;31mfailed\x1b[0m" in out


def test_the_installed_command_piped_and_forced() -> None:
    files = paths("xml-memo-plain-md5", "3-a-two-way-changes")
    proc = syncml("inspect", *files)
    assert proc.returncode == 0 and b"Outcome: completed" in proc.stdout and ESC.encode() not in proc.stdout
    proc = syncml("inspect", "--color", "always", "--json", *files)
    assert proc.returncode == 0 and ESC.encode() not in proc.stdout  # JSON is never coloured
    validate(json.loads(proc.stdout))


def test_messages_keeps_the_per_message_summary(capsys: pytest.CaptureFixture[str]) -> None:
    files = paths("xml-calendar-ical20-md5", "1-a-first-sync")[:2]
    code, out, err = run(capsys, "--messages", *files, str(corpus_path(*SAN01)))
    assert (code, err) == (0, "")
    assert "Alert #3: 201 Slow sync" in out and "Status #1 -> msg 1 cmd #0 SyncHdr: 212 Authentication accepted" in out
    assert "Data Sync Notification" in out
