"""Issue 16, sessions: ``capture.transcribe`` on real recorded sessions
(SyncEvolution against a real server, a Funambol client's session), a
notification, our own MoreData traffic, a refused login and captures that
are cut short or broken."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncml_codec.capture import (
    Capture,
    CapturedMessage,
    SessionTranscript,
    Transcript,
    group_sessions,
    read_capture,
    transcribe,
)

from ..conftest import CORPUS, corpus_path
from ..engine.helpers import device, vcard
from .issue16_traffic import BIG, more_data_session, record, server

SESSIONS = CORPUS / "syncevolution" / "sessions"
FUNAMBOL = ("devices", "pohly+funambol-cpp-client-api", "test", "testcases")
SAN01 = ("devices", "sailfishos+buteo-syncml", "tests_meego", "data", "SAN01.bin")
MODES = {"slow": 201, "two-way": 200, "refresh-from-local": 203, "refresh-from-client": 203}


def step_files(combo: str, step: str) -> list[Path]:
    """A recorded step's messages in order (request, response, ...), without
    the sidecars and the ``.wbxml.xml`` renderings."""
    base = corpus_path("syncevolution", "sessions", combo, step)
    return sorted(p for p in base.iterdir() if p.suffix in (".xml", ".wbxml") and not p.name.endswith(".wbxml.xml"))


def transcript_of(paths: list[Path]) -> Transcript:
    captures = [read_capture(p.read_bytes(), str(p)) for p in paths]
    return transcribe(group_sessions([m for c in captures for m in c.messages]), captures)


def one_session(paths: list[Path]) -> SessionTranscript:
    (session,) = transcript_of(paths).sessions
    return session


def _steps() -> list[tuple[str, str, dict[str, object], str]]:
    index = SESSIONS / "index.json"
    if not index.exists():
        return []
    out = []
    for combo, info in json.loads(index.read_text()).items():
        for step in info["steps"]:
            out.append((combo, step["dir"], step, info["auth"]))
    return out


STEPS = _steps()


@pytest.mark.skipif(not STEPS, reason="corpus not found (../shared/corpus/syncevolution/sessions)")
@pytest.mark.parametrize(("combo", "step", "facts", "auth"), STEPS, ids=[f"{c}/{s}" for c, s, _, _ in STEPS])
def test_every_recorded_step_agrees_with_what_the_client_reported(combo: str, step: str,
                                                                   facts: dict[str, object], auth: str) -> None:
    """Sync type asked and granted, item counts each way, Map, auth scheme
    and outcome: what se-client's own report (index.json) says of each of
    the 85 recorded sessions."""
    s = one_session(step_files(combo, step))
    assert (s.outcome, s.kind, s.version) == ("completed", "syncml", "1.2"), s.reason
    assert s.encoding == combo.split("-")[0] and s.errors == []
    assert s.device is not None and s.device.startswith(f"se-client-{combo}")
    assert s.server == "http://127.0.0.1:8999/syncevolution"
    assert len(s.resp_uris) == 1 and "?sessionid=" in s.resp_uris[0]
    assert [p.numbers for p in s.packages] == [[1], [2], [3], [4], [5], [6]]
    assert all(p.complete and len(p.messages) == 1 for p in s.packages)
    assert [m.direction for m in s.messages] == ["client", "server"] * 3
    stores = facts["stores"]
    assert isinstance(stores, dict)
    ((name, report),) = stores.items()
    (ds,) = s.datastores
    assert (ds.client_uri, ds.server_uri) == (f"./{name}", name)
    assert ds.asked == ds.granted == MODES[report["mode"]] and ds.alert_status == 200
    assert ds.client_next and ds.server_next  # anchors both sides
    assert (ds.client_last is None) == (report["mode"] != "two-way")  # a first sync and a refresh have no Last

    def counts(side: dict[str, int]) -> dict[str, int]:
        names = {"added": "Add", "updated": "Replace", "deleted": "Delete"}
        return {names[k]: v for k, v in side.items() if k in names and v}

    assert {k: v for k, v in ds.from_client.items() if k != "Map"} == counts(report["server"])
    assert ds.from_server == counts(report["client"])
    assert ds.from_client.get("Map", 0) == report["client"]["added"]  # B maps what it was sent
    # only a device's first session of a *-basic combo is basic: the server's challenge switches it to md5
    scheme = "basic" if auth == "basic" and step in ("1-a-first-sync", "2-b-first-sync") else "md5"
    assert [(c.scheme, c.where, c.message) for c in s.auth.credentials] == [(scheme, "SyncHdr", 1)]
    first = s.auth.verdicts[0]
    assert (first.code, first.meaning, first.chal_type, first.next_nonce) == (212, "Authentication accepted",
                                                                              "md5", True)
    assert [v.code for v in s.auth.verdicts[1:]] == [200, 200] and s.auth.outcome == "authenticated"


def test_step_two_statuses_and_counts_per_message() -> None:
    """Device B's first sync: 2 Adds to the client, answered 201 each, and
    the client's Map of both; every Status with what it answers."""
    s = one_session(step_files("xml-calendar-ical20-md5", "2-b-first-sync"))
    pkg4 = s.packages[3].messages[0]
    (sync,) = [c for c in pkg4.commands if c.name == "Sync"]
    assert (sync.source, sync.target, sync.changes) == ("calendar", "./calendar", {"Add": 2})
    pkg5 = s.packages[4].messages[0]
    added = [c for c in pkg5.commands if c.name == "Status" and c.code == 201]
    assert [(c.meaning, c.answers and (c.answers.cmd, c.answers.msg_ref)) for c in added] == [
        ("Item added", ("Add", "2"))] * 2
    (map_cmd,) = [c for c in pkg5.commands if c.name == "Map"]
    assert (map_cmd.source, map_cmd.target, map_cmd.items) == ("./calendar", "calendar", 2)
    header_status = s.packages[1].messages[0].commands[0]
    assert header_status.answers is not None
    assert (header_status.answers.cmd, header_status.answers.cmd_ref, header_status.answers.target_refs,
            header_status.answers.source_refs) == ("SyncHdr", "0", 1, 1)
    statuses = [c for m in s.messages for c in m.commands if c.name == "Status"]
    assert len(statuses) == 15 and all(c.meaning in ("OK", "Item added", "Authentication accepted")
                                       for c in statuses)


def test_step_three_replace_add_delete() -> None:
    s = one_session(step_files("wbxml-addressbook-vcard30-md5", "3-a-two-way-changes"))
    (sync,) = [c for c in s.packages[2].messages[0].commands if c.name == "Sync"]
    assert sync.changes == {"Replace": 1, "Delete": 1, "Add": 1}
    answers = {(c.answers.cmd, c.code) for c in s.packages[3].messages[0].commands
               if c.name == "Status" and c.answers is not None}
    assert {("Replace", 200), ("Delete", 200), ("Add", 201)} <= answers


def test_funambol_session_one_session_four_round_trips() -> None:
    """Funambol's C++ client test case: SyncML 1.1, basic auth, a two-way
    sync of ``contact`` -> ``scard``, the server's package 4 over two
    messages with the client's Alert 222 between them."""
    base = corpus_path(*FUNAMBOL)
    s = one_session([base / f"syncML{n}.xml" for n in range(1, 9)])
    assert (s.session_id, s.device, s.server, s.version) == ("1194978121", "fwm-50F0063006B000000",
                                                             "http://my.funambol.com/sync", "1.1")
    assert s.resp_uris == ["http://my.funambol.com/sync;jsessionid=A59C81AC339C18ADD738405900E27B08"]
    assert [m.direction for m in s.messages] == ["client", "server"] * 4
    assert [(p.numbers, p.sender, len(p.messages)) for p in s.packages] == [
        ([1], "client", 1), ([2], "server", 1), ([3], "client", 1), ([4], "server", 3), ([5], "client", 1),
        ([6], "server", 1)]
    middle = s.packages[3].messages
    assert [(m.direction, m.final) for m in middle] == [("server", False), ("client", False), ("server", True)]
    assert [(a.code, a.meaning) for a in s.alerts] == [(222, "Next message")]
    (ds,) = s.datastores
    assert (ds.client_uri, ds.server_uri, ds.asked, ds.granted) == ("contact", "scard", 200, 200)
    assert (ds.client_last, ds.client_next) == ("1194977846", "1194978121")
    assert ds.server_last == "1194945393655" and ds.from_client == {"Add": 1}
    assert [c.scheme for c in s.auth.credentials] == ["basic"] and s.auth.outcome == "authenticated"
    assert (s.outcome, s.errors) == ("completed", [])


def test_notification_is_package_zero() -> None:
    data = corpus_path(*SAN01).read_bytes()
    cap = read_capture(data, "SAN01.bin")
    (s,) = transcribe(group_sessions(cap.messages), [cap]).sessions
    assert (s.kind, s.outcome, [p.numbers for p in s.packages]) == ("san", "completed", [[0]])
    assert s.san is not None and s.san.error is None
    assert (s.san.version, s.san.ui_mode, s.san.initiator, s.san.session_id, s.san.server_id) == (
        "1.2", "background", "server", 0, "PC Suite Data Sync")
    assert [(d.sync_type, d.meaning, d.server_uri) for d in s.san.datastores] == [
        (206, "Two-way sync alerted by server", "Contacts")]
    broken = read_capture(data[:30], "cut.bin", "san")
    (s,) = transcribe(group_sessions(broken.messages)).sessions
    assert s.outcome == "failed" and s.san is not None and "truncated" in (s.san.error or "")


def test_more_data_chunks_counted_and_added_up() -> None:
    """Our client sends a 20 kB contact under a 4000-byte MaxMsgSize: the
    chunks of the one item, their sizes adding up to the declared one, the
    server's 213s and Alert 222s, package 3 over many messages, times."""
    msgs = more_data_session()
    (s,) = transcribe(group_sessions(msgs)).sessions
    assert s.outcome == "completed", s.reason
    (chunked,) = s.chunked_items
    assert (chunked.sender, chunked.command, chunked.complete) == ("client", "Replace", True)
    assert chunked.chunks >= 4 and chunked.declared_size == chunked.received_size == len(BIG)
    (ds,) = s.datastores
    assert ds.from_client == {"Replace": 2}  # the big item once, however many chunks
    pkg3 = next(p for p in s.packages if p.numbers == [3])
    assert len(pkg3.messages) >= 2 * chunked.chunks - 1 and pkg3.complete
    codes = [c.code for m in pkg3.messages if m.direction == "server" for c in m.commands if c.name == "Status"]
    assert codes.count(213) == chunked.chunks - 1  # each chunk but the last: "Chunked item accepted"
    assert {a.code for a in s.alerts} == {222} and len(s.alerts) == len(pkg3.messages) // 2
    assert [m.time for m in s.messages[:3]] == [0.0, 0.25, 0.5] and s.messages[2].gap == 0.25
    assert s.messages[1].http_status == 200 and s.duration == 0.25 * (len(msgs) - 1)
    # the capture cut inside the chunks: the item is incomplete, so is the session
    (cut,) = transcribe(group_sessions(msgs[:7])).sessions
    assert cut.outcome == "incomplete" and "inside package 3" in cut.reason
    assert [c.complete for c in cut.chunked_items] == [False]


def test_refused_login_fails_the_session() -> None:
    srv = server()
    a = device("a")
    a.datastores["./addressbook"].add(vcard(1))
    (s,) = transcribe(group_sessions(record(srv, a, password="wrong"))).sessions
    assert s.auth.outcome == "refused" and {v.code for v in s.auth.verdicts} == {401}
    assert all(v.chal_type == "md5" and v.next_nonce for v in s.auth.verdicts)
    assert s.outcome == "failed" and "401 Invalid credentials" in s.reason
    assert [p.numbers for p in s.packages] == [[1], [2], [1], [2]]  # the client tried again: package 1 twice


def test_challenge_met_is_not_an_error() -> None:
    """A first login over the empty nonce is refused 401 with a challenge;
    the client logs in again and the session completes: authenticated."""
    srv = server()
    a = device("a")
    a.datastores["./addressbook"].add(vcard(1))
    (s,) = transcribe(group_sessions(record(srv, a, encoding="xml"))).sessions
    assert [v.code for v in s.auth.verdicts][:2] == [401, 212]
    assert (s.auth.outcome, s.outcome, s.errors) == ("authenticated", "completed", [])
    assert s.encoding == "xml" and len(s.auth.credentials) == 2


def test_client_session_ends_before_the_server_answers() -> None:
    srv = server()
    a = device("a")
    msgs = record(srv, a, stop_after=3)
    (s,) = transcribe(group_sessions(msgs)).sessions
    assert s.outcome == "incomplete" and "before the server answered" in s.reason


def test_error_status_fails_the_session() -> None:
    """A Status 500 for an Add (the capture says so: the outcome is failed,
    with the Status named)."""
    s = one_session(step_files("xml-calendar-ical20-md5", "2-b-first-sync"))
    assert s.outcome == "completed"
    paths = step_files("xml-calendar-ical20-md5", "2-b-first-sync")
    data = paths[4].read_bytes().replace(b"<Data>201</Data>", b"<Data>500</Data>", 1)
    captures = [read_capture(p.read_bytes(), str(p)) for p in paths[:4]]
    captures.append(Capture("edited", "xml", [CapturedMessage(data, "edited")]))
    captures += [read_capture(p.read_bytes(), str(p)) for p in paths[5:]]
    (s,) = transcribe(group_sessions([m for c in captures for m in c.messages])).sessions
    assert s.outcome == "failed" and "Status 500 Command failed for Add" in s.reason


def test_broken_message_among_good_ones(tmp_path: Path) -> None:
    """A message cut in half in the middle of a session: it is listed with
    its error in the package it came in, the others are all there."""
    paths = step_files("wbxml-addressbook-vcard30-md5", "3-a-two-way-changes")
    cut = tmp_path / "003-request.wbxml"
    cut.write_bytes(paths[4].read_bytes()[:200])
    t = transcript_of([*paths[:4], cut, paths[5]])
    (s,) = t.sessions
    assert len(s.messages) == 6 and [m.error is not None for m in s.messages] == [False] * 4 + [True, False]
    assert s.outcome == "failed" and str(cut) in s.errors[0]
    assert s.packages[-1].messages[-1].final  # the server's last answer still read


def test_client_sending_changes_with_its_initialization() -> None:
    """A client that puts its Sync in package 1 (one message, no separate
    package 3): numbered [1, 3], the answer [2, 4]."""
    paths = step_files("xml-calendar-ical20-md5", "3-a-two-way-changes")
    first = paths[0].read_bytes()
    sync = paths[2].read_bytes()
    body = sync[sync.index(b"<Sync>"):sync.index(b"</Sync>") + len(b"</Sync>")]
    merged = first.replace(b"<Final/>", body + b"<Final/>")
    msgs = [CapturedMessage(merged, "merged", "client"), CapturedMessage(paths[1].read_bytes(), "answer", "server")]
    (s,) = transcribe(group_sessions(msgs)).sessions
    assert [(p.numbers, p.name) for p in s.packages] == [
        ([1, 3], "client initialization + client modifications"),
        ([2, 4], "server initialization + server modifications")]


def test_json_round_trips_through_json_module() -> None:
    t = transcript_of(step_files("xml-calendar-ical20-md5", "1-a-first-sync"))
    doc = json.loads(json.dumps(t.to_json()))
    assert doc["schema"] == "syncml-codec/transcript/1" and len(doc["inputs"]) == 6
    assert doc["sessions"][0]["datastores"][0]["asked"] == 201


def _message(body: str) -> bytes:
    return (f"<SyncML xmlns='SYNCML:SYNCML1.2'><SyncHdr><VerDTD>1.2</VerDTD><VerProto>SyncML/1.2</VerProto>"
            f"<SessionID>1</SessionID><MsgID>2</MsgID><Target><LocURI>http://h/sync</LocURI></Target>"
            f"<Source><LocURI>dev</LocURI></Source></SyncHdr><SyncBody>{body}<Final/></SyncBody></SyncML>").encode()


def _add(n: int) -> str:
    return f"<Add><CmdID>{n}</CmdID><Item><Source><LocURI>{n}</LocURI></Source><Data>x</Data></Item></Add>"


def test_hostile_shapes_stay_linear_and_bounded() -> None:
    """Thousands of datastores in one message (one look-up each), containers
    nested 100 deep (followed 16 deep, never walked twice), no recursion
    error; the counts of what is followed are right."""
    syncs = "".join(f"<Sync><CmdID>{n}</CmdID><Target><LocURI>s{n}</LocURI></Target>"
                    f"<Source><LocURI>./c{n}</LocURI></Source>{_add(n)}</Sync>" for n in range(1, 3001))
    (s,) = transcribe(group_sessions([CapturedMessage(_message(syncs), "many", "client")])).sessions
    assert len(s.datastores) == 3000 and all(ds.from_client == {"Add": 1} for ds in s.datastores)
    deep = _add(1)
    for n in range(100):
        deep = f"<Atomic><CmdID>{n + 2}</CmdID>{_add(1000 + n)}{deep}</Atomic>"
    (s,) = transcribe(group_sessions([CapturedMessage(_message(deep), "deep", "client")])).sessions
    (atomic,) = s.messages[0].commands
    depth, rec = 0, atomic
    while rec.commands:
        (rec,) = rec.commands
        depth += 1
    assert depth == 16 and atomic.changes == {"Add": 16}  # one Add per level followed
