"""The first message of every recorded SyncEvolution session and first
request, replayed into our server: the answer must have the shape of the
recorded SyncEvolution server answer (SyncHdr 212 with an MD5 Chal, Status
for Put/Get/Alert, Results with our DevInf, Alert 201 with our anchors,
RespURI with a session id), in the client's encoding.

The recorded MD5 first messages are computed over the empty nonce (the
client had none yet); since issue 9 such a credential is refused with a
challenge, as a replayed message must be, and the test answers the
challenge as SyncEvolution does: the same message, its Cred computed over
the challenge's nonce (:func:`.helpers.resign`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncml_codec.devinf import DevInf
from syncml_codec.engine import SyncServer
from syncml_codec.model import Alert, Message, Results, Status
from syncml_codec.store import SQLiteStore, canonical_datastore

from ..conftest import CORPUS
from .helpers import chal_nonce, resign

SE = CORPUS / "syncevolution"
SESSIONS = sorted(p for p in (SE / "sessions").glob("*/1-a-first-sync/001-request.*")
                  if p.suffix in (".xml", ".wbxml") and not p.name.endswith(".wbxml.xml"))
FIRST = json.loads((SE / "first-request" / "index.json").read_text()) if (SE / "first-request").is_dir() else {}
CASES = [pytest.param(p, id=p.parts[-3]) for p in SESSIONS] + [
    pytest.param(SE / "first-request" / v["body"], id=f"first-{k}") for k, v in sorted(FIRST.items())]


def content_type(path: Path) -> str:
    return "application/vnd.syncml+wbxml" if path.suffix == ".wbxml" else "application/vnd.syncml+xml"


def answer(server: SyncServer, path: Path, session_id: str | None = None,
           body: bytes | None = None) -> tuple[Message, Message, str | None]:
    body = path.read_bytes() if body is None else body
    response = server.handle(body, content_type(path), session_id)
    assert response.http_status == 200
    assert response.content_type == content_type(path)
    return Message.from_bytes(body), Message.from_bytes(response.body, response.content_type), response.session_id


def login(server: SyncServer, path: Path) -> tuple[Message, Message, str | None]:
    """The recorded first message; if it is refused with an MD5 challenge
    (its Cred is over the empty nonce), the same message over the challenge's nonce."""
    request, reply, sid = answer(server, path)
    if reply.commands[0].data == "212":  # basic auth
        return request, reply, sid
    (status,) = reply.commands  # refused: only the SyncHdr status, nothing read or written
    assert (status.cmd, status.data, sid, reply.header.resp_uri) == ("SyncHdr", "401", None, None)
    return answer(server, path, body=resign(path.read_bytes(), content_type(path), chal_nonce(reply)))


@pytest.mark.skipif(not CASES, reason="no SyncEvolution corpus")
@pytest.mark.parametrize("path", CASES)
def test_first_message_is_answered_like_the_reference(server: SyncServer, path: Path) -> None:
    request, reply, sid = login(server, path)
    assert sid and reply.header.resp_uri == f"http://127.0.0.1:8080/sync?sessionid={sid}"
    assert reply.header.target.loc_uri == request.header.source.loc_uri
    assert reply.header.session_id == request.header.session_id and reply.final
    statuses = [c for c in reply.commands if isinstance(c, Status)]
    head = statuses[0]
    assert (head.cmd, head.cmd_ref, head.data) == ("SyncHdr", "0", "212")
    assert head.chal is not None and head.chal.meta.type == "syncml:auth-md5" and head.chal.meta.next_nonce
    by_ref = {s.cmd_ref: s for s in statuses[1:]}
    for cmd in request.commands:
        assert by_ref[cmd.cmd_id].data == "200", cmd.TAG
        assert by_ref[cmd.cmd_id].cmd == cmd.TAG
    (results,) = [c for c in reply.commands if isinstance(c, Results)]
    devinf = DevInf.from_document(results.items[0].data)
    alert_in = next(c for c in request.commands if isinstance(c, Alert))
    uri = alert_in.items[0].target.loc_uri
    assert devinf.dev_typ == "server" and devinf.datastore(uri) is not None
    (alert,) = [c for c in reply.commands if isinstance(c, Alert)]
    assert alert.data == "201"  # a new device: slow sync
    item = alert.items[0]
    assert item.target.loc_uri == alert_in.items[0].source.loc_uri and item.source.loc_uri == uri
    assert item.meta.anchor.next and item.meta.anchor.last is None
    alert_status = by_ref[alert_in.cmd_id]
    assert alert_status.items  # the client's Next anchor echoed


@pytest.mark.skipif(not CASES, reason="no SyncEvolution corpus")
@pytest.mark.parametrize("path", CASES[:4])
def test_wrong_password_is_401_with_a_challenge_and_changes_nothing(path: Path) -> None:
    store = SQLiteStore(":memory:")
    store.add_user("test", "not-the-secret")
    server = SyncServer(store, clock=lambda: 1e9, random_source=lambda n: b"\x01" * n)
    request, reply, sid = answer(server, path)
    assert sid is None and reply.header.resp_uri is None
    (status,) = reply.commands
    assert isinstance(status, Status) and status.data == "401" and status.chal is not None
    canonical = canonical_datastore(next(c for c in request.commands if isinstance(c, Alert)).items[0].target.loc_uri)
    device = store.device("test", request.header.source.loc_uri)
    assert device.devinf is None and store.anchors(device, canonical or "").client_last is None


@pytest.mark.skipif(not CASES, reason="no SyncEvolution corpus")
def test_nonce_is_kept_per_device_for_the_next_session(server: SyncServer, store: SQLiteStore) -> None:
    path = next(p for p in SESSIONS if "md5" in p.parts[-3])
    request, reply, _ = login(server, path)
    nonce = reply.commands[0].chal.meta.next_nonce
    from syncml_codec.model import auth

    device = store.device("test", request.header.source.loc_uri)
    assert device.nonce == auth.nonce_from_text(nonce)
    # the recorded first message used the empty nonce: replayed now, it is refused
    _, again, sid = answer(server, path)
    assert again.commands[0].data == "401" and sid is None
    # so is the message that logged in (its nonce is used up), and the stored nonce stays
    _, again, sid = answer(server, path, body=request.to_bytes("wbxml" if path.suffix == ".wbxml" else "xml"))
    assert again.commands[0].data == "401" and sid is None
    assert store.device("test", request.header.source.loc_uri).nonce == auth.nonce_from_text(nonce)


STEP1 = sorted(p.parent for p in SESSIONS)


@pytest.mark.skipif(not STEP1, reason="no SyncEvolution corpus")
@pytest.mark.parametrize("step", [pytest.param(p, id=p.parts[-2]) for p in STEP1])
def test_recorded_first_sync_replays_completely(server: SyncServer, store: SQLiteStore, step: Path) -> None:
    """Device A's whole first session (slow sync, two Adds, statuses),
    replayed message by message into our server."""
    sid = None
    requests = sorted(p for p in step.glob("00?-request.*")
                      if p.suffix in (".xml", ".wbxml") and not p.name.endswith(".wbxml.xml"))
    replies = [login(server, requests[0])[1]]
    sid = replies[0].header.resp_uri.split("sessionid=")[1]
    for path in requests[1:]:
        _, reply, sid = answer(server, path, sid)
        replies.append(reply)
    adds = [s for s in replies[1].commands if isinstance(s, Status) and s.cmd == "Add"]
    assert [s.data for s in adds] == ["201", "201"]
    assert replies[-1].final and server.active_sessions() == []
    request = Message.from_bytes(requests[0].read_bytes())
    canonical = canonical_datastore(next(c for c in request.commands if isinstance(c, Alert)).items[0].target.loc_uri)
    assert canonical is not None and len(store.items("test", canonical)) == 2
    device = store.device("test", request.header.source.loc_uri)
    assert store.anchors(device, canonical).client_last is not None
    assert len(store.map_entries(device, canonical)) == 2
