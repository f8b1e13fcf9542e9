"""Issue 11 (engine): one packer for the client's package 3 and the server's
package 4, one chunk reassembler for both sides, the server's failures and
answers through the tables in ``_state``, one operation enum, keyword-only
constructors, constants from one home, ``Status`` built from an int code."""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

import syncml_codec
from syncml_codec.engine import (
    CONTENT_TYPES,
    ClientDatastore,
    ClientSession,
    ClientStore,
    Operation,
    ServerPhase,
    SyncServer,
)
from syncml_codec.engine._state import (
    CLIENT_TABLE,
    SERVER_ANSWERS,
    SERVER_TABLE,
    Answer,
    ClientPhase,
    Event,
    advance,
)
from syncml_codec.engine._sync import DatastoreSync
from syncml_codec.model import Add, Message, Meta, Replace, Status, StatusCode, Sync
from syncml_codec.server import CONTENT_TYPES as HTTP_CONTENT_TYPES
from syncml_codec.store import SQLiteStore

from .conftest import Clock
from .helpers import ab, device, prime, vcard

MSG = 4000  # both sides' MaxMsgSize: a 20 kB item goes in chunks, 30 small ones over several messages


def _exchange(server: SyncServer, store: ClientStore, *, max_msg_size: int = MSG, max_obj_size: int = 4_000_000,
              edit: Callable[[bytes, str], bytes] | None = None) -> tuple[ClientSession, list[Message], list[Message]]:
    """A session of ``store`` against ``server``; the client's messages and the server's answers."""
    session = ClientSession(store, url=server.base_url, user="test", password="secret", clock=Clock(),
                            max_msg_size=max_msg_size, max_obj_size=max_obj_size)
    sent: list[Message] = []
    answers: list[Message] = []
    request = session.start()
    for _ in range(80):
        body = edit(request.body, request.content_type) if edit else request.body
        sent.append(Message.from_bytes(body, request.content_type))
        sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
        response = server.handle(body, request.content_type, sid)
        assert response.http_status == 200
        answers.append(Message.from_bytes(response.body, response.content_type))
        next_request = session.receive(response.body, response.content_type)
        if next_request is None:
            return session, sent, answers
        request = next_request
    raise AssertionError("the session did not end")


def _changes(messages: list[Message]) -> list[tuple[int, Sync, Add | Replace]]:
    return [(n, cmd, change) for n, msg in enumerate(messages) for cmd in msg.commands if isinstance(cmd, Sync)
            for change in cmd.commands if isinstance(change, (Add, Replace))]


def _check_packed(messages: list[Message], total: int, big: bytes) -> None:
    """What the packer promises, whichever side packed ``messages``."""
    syncs = [cmd for msg in messages for cmd in msg.commands if isinstance(cmd, Sync) and cmd.commands]
    announced = [s for s in syncs if s.number_of_changes is not None]
    assert [s.number_of_changes for s in announced] == [str(total)]  # in the first Sync only
    assert syncs[0] is announced[0]
    changes = _changes(messages)
    chunks = [(n, c) for n, _sync, c in changes if c.items[0].more_data]
    assert len(chunks) >= 4 and len({n for n, _ in chunks}) == len(chunks)  # one chunk per message
    first = chunks[0][1].items[0]
    assert first.meta is not None and first.meta.size_int == len(big)  # the whole size, in the first chunk
    for msg in messages:  # every command numbered, once, without gaps
        ids = [int(c.cmd_id) for c in msg.commands]
        ids += [int(c.cmd_id) for s in msg.commands if isinstance(s, Sync) for c in s.commands]
        assert sorted(ids) == list(range(1, len(ids) + 1))


def test_issue_11_client_and_server_pack_alike(make_server: Callable[..., SyncServer], store: SQLiteStore) -> None:
    """Package 3 (the client's) and package 4 (the server's) are one packer:
    a byte budget under the peer's MaxMsgSize, a 20 kB item in MoreData
    chunks (one per message, the first with Meta Size), NumberOfChanges in
    the first Sync, CmdIDs without gaps; both sides reassemble the chunks."""
    server = make_server(max_msg_size=MSG)
    big = vcard(0, "long " * 4000)
    a = prime(server, device("a"))
    for n in range(1, 30):
        a.datastores["./addressbook"].add(vcard(n, "x" * 100))
    a.datastores["./addressbook"].add(big)
    s, sent, _answers = _exchange(server, a)
    assert s.ok and all(len(m.to_bytes("wbxml")) <= MSG for m in sent)
    _check_packed(sent, 30, big)
    assert len(store.items("test", "Contacts")) == 30

    b = prime(server, device("b"))
    s, _sent, answers = _exchange(server, b)
    assert s.ok and len(ab(b)) == 30
    assert all(len(m.to_bytes("wbxml")) <= MSG for m in answers)
    _check_packed(answers, 30, big)
    assert sum(b"long long" in data for data in ab(b).values()) == 1


def test_issue_11_client_refuses_objects_over_its_max_obj_size(make_server: Callable[..., SyncServer],
                                                              store: SQLiteStore) -> None:
    """The client reassembles with the server's Reassembler: an object over
    the MaxObjSize it announced (here the server does not see it: the header
    Meta is taken out on the way) is refused with 413 and never stored in part."""
    server = make_server(max_msg_size=MSG)
    a = prime(server, device("a"))
    a.datastores["./addressbook"].add(vcard(1, "long " * 4000))
    a.datastores["./addressbook"].add(vcard(2))
    assert _exchange(server, a)[0].ok

    def hide_limits(body: bytes, content_type: str) -> bytes:
        msg = Message.from_bytes(body, content_type)
        return msg.replace(header=dataclasses.replace(msg.header, meta=Meta(max_msg_size=str(MSG)))).to_bytes("wbxml")

    b = prime(server, device("b"))
    s, sent, _answers = _exchange(server, b, max_obj_size=5000, edit=hide_limits)
    statuses = [c.code for m in sent for c in m.commands if isinstance(c, Status) and c.cmd == "Add"]
    assert StatusCode.REQUEST_ENTITY_TOO_LARGE in statuses and StatusCode.ITEM_ADDED in statuses
    assert s.ok and len(ab(b)) == 1 and b"Doe2" in next(iter(ab(b).values()))


def test_issue_11_every_client_message_has_one_answer() -> None:
    """The server's answer table covers exactly the message transitions, and
    ``Event.FAIL`` ends a session of either side from any phase."""
    internal = {Event.MORE_OUT, Event.ALL_OUT}
    assert {k for k in SERVER_TABLE if k[1] not in internal} == set(SERVER_ANSWERS)
    for phase in ServerPhase:
        assert advance(SERVER_TABLE, phase, Event.FAIL) is ServerPhase.DONE
        assert SERVER_ANSWERS[(phase, Event.FAIL)] is Answer.FAILED
    for client_phase in ClientPhase:
        assert advance(CLIENT_TABLE, client_phase, Event.FAIL) is ClientPhase.FAILED


def test_issue_11_a_failed_message_ends_the_session_through_the_table(
        server: SyncServer, store: SQLiteStore, monkeypatch: pytest.MonkeyPatch) -> None:
    a = prime(server, device("a"))
    a.datastores["./addressbook"].add(vcard(1))
    session = ClientSession(a, url=server.base_url, user="test", password="secret", clock=Clock())
    request = session.start()

    def broken(*_: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(store, "anchors", broken)
    response = server.handle(request.body, request.content_type, None)
    (status,) = Message.from_bytes(response.body).commands
    assert isinstance(status, Status) and status.code == StatusCode.COMMAND_FAILED and status.cmd == "SyncHdr"
    assert response.session_id is not None and server.sessions[response.session_id].phase is ServerPhase.DONE
    assert store.sessions("test")[-1].outcome == "failed: disk on fire"


def test_issue_11_one_operation_enum(server: SyncServer, store: SQLiteStore) -> None:
    """A client's change records and the server's Op kinds are the same
    :class:`Operation`, valued as the command that carries it."""
    ds = device("a").datastores["./addressbook"]
    luid = ds.add(vcard(1))
    assert ds.changes == {luid: Operation.ADD} and ds.changes[luid] == "Add"
    ds.add(vcard(2))
    ds.update("1", vcard(2, "changed"))
    assert ds.changes["1"] is Operation.ADD  # not sent yet: still an add
    assert {op.value for op in Operation} == {Add.TAG, Replace.TAG, "Delete"}
    assert str(Operation.REPLACE) == "Replace" and f"{Operation.DELETE}" == "Delete"


def test_issue_11_keyword_only_constructors() -> None:
    with pytest.raises(TypeError):
        ClientDatastore("./a", "a", "text/vcard")  # type: ignore[misc]
    with pytest.raises(TypeError):
        DatastoreSync(None, None, "Contacts")  # type: ignore[misc,arg-type]
    ds = ClientDatastore(local_uri="./a", remote_uri="a", content_type="text/vcard")
    assert ds.changes == {} and ds.version is None


def test_issue_11_status_takes_an_int_code() -> None:
    made = Status.of(cmd_id="1", msg_ref="1", cmd_ref="0", cmd="SyncHdr", code=StatusCode.AUTHENTICATION_ACCEPTED)
    assert made.data == "212" and made.code == 212
    assert made == Status(cmd_id="1", msg_ref="1", cmd_ref="0", cmd="SyncHdr", data="212")  # the wire form
    assert Status.from_element(made.to_element()) == made
    assert dataclasses.replace(made, cmd_id="2").code == 212
    with pytest.raises(TypeError):
        Status.of(cmd_id="1", msg_ref="1", cmd_ref="0", cmd="SyncHdr", code="200")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Status.of(cmd_id="1", msg_ref="1", cmd_ref="0", cmd="SyncHdr", code=True)
    odd = Status(cmd_id="1", msg_ref="1", cmd_ref="0", cmd="SyncHdr", data="2OO")  # a lenient read's
    assert odd.code is None and Status.from_element(odd.to_element(), lenient=True).data == "2OO"


_ONE_HOME = {"application/vnd.syncml+": "engine/_wire.py", "application/vnd.syncml-devinf+": "engine/_wire.py",
             "syncml:auth-": "model/auth.py"}


def _strings(path: Path) -> list[str]:
    """String constants of a module, docstrings left out."""
    tree = ast.parse(path.read_text())
    docs = {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body
            and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and id(n) not in docs]


def test_issue_11_constants_have_one_home() -> None:
    """Content types and auth types are spelled once (client, server, wsgi,
    replay take them from there)."""
    root = Path(syncml_codec.__file__).parent
    for package in ("engine", "server"):
        for path in sorted((root / package).rglob("*.py")):
            where = path.relative_to(root).as_posix()
            for text in _strings(path):
                for prefix, home in _ONE_HOME.items():
                    if prefix in text and where != home:
                        raise AssertionError(f"{where} spells {text!r}: take it from {home}")
    assert {mime: encoding for encoding, mime in CONTENT_TYPES.items()} == HTTP_CONTENT_TYPES
