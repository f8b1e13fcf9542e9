"""Issue 16, sessions: files named in any order are put in protocol order
(client messages by MsgID, each server message after the one it answers),
while captures with times keep theirs."""

from __future__ import annotations

import dataclasses
import random

from syncml_codec.capture import group_sessions, read_capture

from .test_issue_16_transcript import step_files


def _captured(paths):  # type: ignore[no-untyped-def]
    out = []
    for path in paths:
        out += read_capture(path.read_bytes(), str(path)).messages
    return out


def test_files_in_any_order_come_out_in_protocol_order() -> None:
    files = step_files("wbxml-addressbook-vcard30-md5", "2-b-first-sync")
    expected = [f.name for f in files]  # 001-request, 001-response, 002-request, ...
    assert expected[:2] == ["001-request.wbxml", "001-response.wbxml"]
    shuffled = list(files)
    random.Random(16).shuffle(shuffled)
    requests_first = sorted(files, key=lambda p: ("response" in p.name, p.name))
    for order in (shuffled, requests_first):
        (session,) = group_sessions(_captured(order))
        assert [sm.captured.origin.rsplit("/", 1)[-1] for sm in session.messages] == expected


def test_captures_with_times_keep_their_order() -> None:
    files = step_files("wbxml-addressbook-vcard30-md5", "2-b-first-sync")
    files[1], files[2] = files[2], files[1]  # the server's first answer captured after the client's second message
    timed = [dataclasses.replace(m, time=float(i)) for i, m in enumerate(_captured(files))]
    (session,) = group_sessions(timed)
    assert [sm.captured.origin for sm in session.messages] == [m.origin for m in timed]
    (untimed,) = group_sessions(_captured(files))
    assert [sm.captured.origin for sm in untimed.messages] != [m.origin for m in timed]


def test_sender_from_what_the_message_holds() -> None:
    """LocURIs that are not URLs (an Ericsson phone to ``sync.example.com``)
    and a capture that does not say who sent what: a first message that
    answers nothing is the client's, a SyncHdr verdict with a challenge the
    server's; a Map or SyncHdr credentials the client's."""
    from ..conftest import corpus_path

    ericsson = corpus_path("devices", "devaspot+syncml", "apps", "simple_sync", "test", "example.wbxml")
    (session,) = group_sessions(read_capture(ericsson.read_bytes(), "e.wbxml").messages)
    assert [sm.direction for sm in session.messages] == ["client"]
    assert session.device == "520327511080721" and session.server == "sync.example.com"
    files = step_files("xml-addressbook-vcard30-md5", "2-b-first-sync")
    unurl = [dataclasses.replace(m, data=m.data.replace(b"http://127.0.0.1:8999/syncevolution", b"refserver"))
             for m in _captured(reversed(files))]  # answers first, and no URL to go by
    (session,) = group_sessions(unurl)
    assert [sm.direction for sm in session.messages] == ["client", "server"] * 3
