"""Issue 10, item 7: every recorded client session in the corpus replayed
into our server in process (:mod:`syncml_codec.engine.replay`), checking
HTTP 200, a Status for every command, no Status 400 or 5xx (508 is a
request for a slow sync), the store holding the items of the client's
Add/Replace, and answers in the client's SyncML version.

Recordings our server cannot replay yet are ``xfail(strict=True)`` naming
the defect and the branch that fixes it: when that branch is merged the
test passes, strict xfail turns that into a failure, and the mark goes."""

from __future__ import annotations

import dataclasses
import doctest
import json

import pytest

from syncml_codec.engine import SyncServer
from syncml_codec.engine.replay import Replayer, SessionReplay, check_exchange, datastore_for_type, recorded_login
from syncml_codec.engine.replay import _replayer as replay_module
from syncml_codec.model import Alert, Get, Message, Results, auth
from syncml_codec.store import SQLiteStore, canonical_datastore

from .recordings import SE_SESSIONS, Recording, device_recordings, new_server, replay, se_recordings

#: recording name -> why it fails today (strict xfail)
KNOWN: dict[str, pytest.MarkDecorator] = {}


def _cases(recordings: list[Recording]) -> list[object]:
    return [pytest.param(r, id=r.name, marks=KNOWN.get(r.name, ())) for r in recordings]


def version_problems(sessions: list[SessionReplay]) -> list[str]:
    """Our answers carry the client's VerDTD, and DevInf by its version."""
    problems = []
    for n, result in enumerate(sessions, 1):
        for ex in result.exchanges:
            if ex.sent_message is None or ex.reply is None:
                continue
            version = ex.sent_message.version
            if ex.reply.version != version:
                problems.append(f"session {n}: answered {ex.reply.version} to {version}")
            wanted = "./devinf" + version.replace(".", "")
            for cmd in ex.reply.commands:
                if isinstance(cmd, (Get, Results)):
                    for item in cmd.items:
                        ref = item.target if isinstance(cmd, Get) else item.source
                        uri = str(ref.loc_uri) if ref is not None else ""
                        if uri.startswith("./devinf") and uri != wanted:
                            problems.append(f"session {n}: {cmd.TAG} {uri} in a {version} session")
    return problems


DEVICES = device_recordings() if (SE_SESSIONS.parent.parent / "devices").is_dir() else []
SE = se_recordings()


@pytest.mark.skipif(not DEVICES, reason="no device corpus")
@pytest.mark.parametrize("recording", _cases(DEVICES))
def test_device_session_replays(recording: Recording) -> None:
    _, sessions, problems = replay(recording)
    assert all(s.session_id for s in sessions), [s.refused for s in sessions]
    assert [*problems, *version_problems(list(sessions))] == []


@pytest.mark.skipif(not SE, reason="no SyncEvolution corpus")
@pytest.mark.parametrize("recording", _cases(SE))
def test_syncevolution_sessions_replay(recording: Recording) -> None:
    """All five sessions of a combo, with one Replayer: device A's first
    sync, B's first sync (Maps of our Adds), A's changes, B receiving them
    (Map of our Add, Statuses of our Replace/Delete), B's refresh."""
    server, sessions, problems = replay(recording)
    assert all(s.session_id for s in sessions), [s.refused for s in sessions]
    assert [*problems, *version_problems(list(sessions))] == []
    final = json.loads((SE_SESSIONS / recording.name / "final-items-b.json").read_text())
    first = Message.from_bytes(recording.sessions[0][0])
    alert = next(c for c in first.commands if isinstance(c, Alert))
    uri = alert.items[0].target.loc_uri if alert.items[0].target else ""
    canonical = canonical_datastore(str(uri))
    assert canonical is not None and len(server.store.items("test", canonical)) == len(final)


# -- the replay itself ---------------------------------------------------------


def _server() -> tuple[SyncServer, SQLiteStore]:
    server = new_server()
    assert isinstance(server.store, SQLiteStore)
    return server, server.store


@pytest.mark.skipif(not SE, reason="no SyncEvolution corpus")
def test_maps_name_our_guids_and_statuses_our_commands() -> None:
    """Device B's first sync: its Map items named the recorded server's
    GUIDs; replayed, our map holds B's LUIDs with our GUIDs."""
    recording = next(r for r in SE if r.name == "xml-addressbook-vcard30-md5")
    server, store = _server()
    replayer = Replayer(server, user="test", password="secret")
    replayer.replay(recording.sessions[0])
    result = replayer.replay(recording.sessions[1])
    assert result.problems() == []
    device = store.device("test", str(Message.from_bytes(recording.sessions[1][0]).header.source.loc_uri))
    guids = {i.guid for i in store.items("test", "Contacts")}
    entries = store.map_entries(device, "Contacts")
    assert len(entries) == 2 and all(e.luid is not None for e in entries)
    assert {e.guid for e in entries} == guids
    notes = [n for ex in result.exchanges for n in ex.notes]
    assert any(n.startswith("Map GUID") for n in notes) and any(n.startswith("Status for Add") for n in notes)


@pytest.mark.skipif(not DEVICES, reason="no device corpus")
def test_refresh_from_server_maps_every_item_to_our_guids() -> None:
    """Outlook receiving 35 contacts (refresh from server): our store starts
    with what the recorded server sent; the client's Statuses and Map name
    the recorded server's GUIDs, replayed they name ours."""
    recording = next(r for r in DEVICES if r.name == "funambol-outlook-from-server")
    server, _, problems = replay(recording)
    assert problems == [] and len(recording.server_items) == 35
    client = Message.from_bytes(recording.sessions[0][0]).header.source.loc_uri
    entries = server.store.map_entries(server.store.device("test", str(client)), "Contacts")
    assert len(entries) == 35 and all(e.luid for e in entries)


@pytest.mark.skipif(not DEVICES, reason="no device corpus")
def test_statuses_for_commands_we_never_sent_are_dropped() -> None:
    """The same session against an empty store: we send nothing, so the
    client's Statuses for the recorded server's Adds are dropped, its Map
    names GUIDs we do not have (404, which is no failure of the replay)."""
    recording = next(r for r in DEVICES if r.name == "funambol-outlook-from-server")
    _, sessions, problems = replay(dataclasses.replace(recording, server_items=()))
    assert problems == []
    notes = [n for s in sessions for ex in s.exchanges for n in ex.notes]
    assert any(n.startswith("dropped the Status for Add") for n in notes)


@pytest.mark.skipif(not DEVICES, reason="no device corpus")
def test_unchanged_messages_are_sent_byte_for_byte() -> None:
    recording = next(r for r in DEVICES if r.name == "funambol-windows-client-wbxml")
    _, (session,), _ = replay(recording)
    assert session.exchanges[0].sent == recording.sessions[0][0] and session.exchanges[0].notes == ()


@pytest.mark.skipif(not SE, reason="no SyncEvolution corpus")
def test_md5_without_a_password_cannot_be_replayed() -> None:
    recording = next(r for r in SE if r.name.endswith("-md5"))
    server, store = _server()
    result = Replayer(server).replay(recording.sessions[0])
    assert result.session_id is None and "no password" in result.refused
    assert [check_exchange(ex) for ex in result.exchanges] == [[]]  # the refusal itself is well-formed
    assert store.items("test", "Contacts") == []


@pytest.mark.skipif(not DEVICES, reason="no device corpus")
def test_recorded_basic_login_and_datastore_inference() -> None:
    recording = next(r for r in DEVICES if r.name == "funambol-windows-mobile")
    assert recorded_login(recording.sessions[0]) == ("teo", "teodemo")
    assert datastore_for_type("text/x-vcalendar") == "Events" and datastore_for_type("application/x") is None
    ericsson = next(r for r in DEVICES if r.name == "ericsson-xml")
    _, (session,), _ = replay(ericsson)
    assert "datastore pb -> Contacts" in session.exchanges[0].notes  # from the phone's DevInf (EriPBDB: vCard)


@pytest.mark.skipif(not DEVICES, reason="no device corpus")
def test_first_challenge_to_a_phone_without_credentials_can_be_answered() -> None:
    """The K800i sends no Cred and no LocName; the answer to our challenge
    (MD5 over its nonce, LocName = user) must log in."""
    recording = next(r for r in DEVICES if r.name == "sony-ericsson-k800i")
    server, _ = _server()
    result = Replayer(server, user="test", password="secret").replay(recording.sessions[0])
    codes = [ex.response.summary.get("statuses") for ex in result.exchanges]
    assert result.session_id is not None and len(result.exchanges) == 2, codes


def test_doctests() -> None:
    result = doctest.testmod(replay_module)
    assert result.attempted > 0 and result.failed == 0


def _cred_in_alert(kind: str) -> bytes:
    """The Funambol Windows Mobile client's first message (SyncML 1.1) with
    its Cred moved from the SyncHdr into the Alert, as some phones send it."""
    recording = next(r for r in DEVICES if r.name == "funambol-windows-mobile")
    msg = Message.from_bytes(recording.sessions[0][0])
    cred = msg.header.cred
    assert cred is not None and cred.meta is not None
    if kind == "md5":
        cred = dataclasses.replace(cred, meta=dataclasses.replace(cred.meta, type="syncml:auth-md5"),
                                   data=auth.md5_digest("test", "secret", b""))
    source = dataclasses.replace(msg.header.source, loc_name="test") if kind == "md5" else msg.header.source
    header = dataclasses.replace(msg.header, cred=None, source=source)
    first = msg.commands[0]
    assert isinstance(first, Alert)
    alert = dataclasses.replace(first, cred=cred)
    return msg.replace(header=header, body=dataclasses.replace(msg.body, commands=(alert,))).to_bytes("xml")


@pytest.mark.skipif(not DEVICES, reason="no device corpus")
def test_md5_cred_inside_a_command_is_computed_again() -> None:
    server, _ = _server()
    result = Replayer(server, user="test", password="secret").replay([_cred_in_alert("md5")])
    first = result.exchanges[0]
    assert "MD5 credentials computed again over our nonce" in first.notes
    assert result.session_id is not None and result.problems() == []
    assert recorded_login([_cred_in_alert("basic")]) == ("teo", "teodemo")


@pytest.mark.skipif(not DEVICES, reason="no device corpus")
def test_basic_cred_inside_alert_logs_in_with_the_first_message() -> None:
    server = new_server("teo", "teodemo")
    result = Replayer(server).replay([_cred_in_alert("basic")])
    assert result.session_id is not None and len(result.exchanges) == 1
    assert result.problems() == []
