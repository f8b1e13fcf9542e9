"""Issue 14, part "wire": a pure move (only the folder changed) goes to a
hierarchical client as the SyncML 1.2 ``Move`` command, without the item's
data; an item whose content changed too goes as a Replace.  Files and the
Mail tree, on both stores (the Mail tree on Maildir and IMAP)."""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from syncml_codec.engine import SyncServer
from syncml_codec.engine._mailtree import FOLDER_REF_TYPE, MAIL_TREE
from syncml_codec.mail import MailBackend
from syncml_codec.model import AlertCode, Message, Move, Replace, Status, Sync
from syncml_codec.store import SQLiteStore

from .conftest import Clock, counter_random
from .helpers import sync
from .test_issue_14_hier import file, folder, luid, paths, phone, run, seed_client
from .test_issue_14_mailhier import deliver, where
from .test_issue_14_mailhier import phone as mail_phone


@pytest.fixture
def store(both_stores: Any) -> Any:
    return both_stores


@pytest.fixture
def server(store: Any) -> SyncServer:
    return SyncServer(store, clock=Clock(), random_source=counter_random(), base_url="http://127.0.0.1:8080/sync")


def commands(answers: list[Message]) -> list[Any]:
    return [c for m in answers for s in m.commands if isinstance(s, Sync) for c in s.commands]


def guid(store: Any, name: str) -> str:
    return next(i.guid for i in store.items("test", "Files") if f"<name>{name}</name>".encode() in i.data)


# -- Files ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["xml", "wbxml"])
def test_a_file_moved_on_one_client_is_a_move_for_the_other(server: SyncServer, store: Any, encoding: str) -> None:
    a, b = phone("a"), phone("b")
    seed_client(a)
    run(server, a, encoding=encoding)
    run(server, b, encoding=encoding)
    a.datastores["./files"].move(luid(a, "/Docs/b.txt"), luid(a, "/Docs/Work"))  # a file into another folder
    a.datastores["./files"].move(luid(a, "/top.txt"), luid(a, "/Docs"))
    run(server, a, encoding=encoding)
    session, answers = run(server, b, encoding=encoding)
    assert session.reports["./files"].received == {"Move": 2}
    moves = commands(answers)
    assert all(isinstance(c, Move) and c.items[0].data is None and c.items[0].meta is None for c in moves)
    assert {c.items[0].target_parent.loc_uri for c in moves} == {luid(b, "/Docs/Work"), luid(b, "/Docs")}
    assert paths(b) == ["/Docs", "/Docs/Work", "/Docs/Work/a.txt", "/Docs/Work/b.txt", "/Docs/top.txt"]
    assert b.datastores["./files"].items[luid(b, "/Docs/Work/b.txt")] == file("b.txt")
    assert not run(server, b, encoding=encoding)[0].reports["./files"].received  # confirmed: nothing again
    # back to the root: the root as the client names its datastore
    a.datastores["./files"].move(luid(a, "/Docs/top.txt"), "")
    run(server, a, encoding=encoding)
    session, answers = run(server, b, encoding=encoding)
    (move,) = commands(answers)
    assert isinstance(move, Move) and move.items[0].target_parent.loc_uri == "./files"
    assert "/top.txt" in paths(b)


def test_a_file_moved_and_changed_is_a_replace(server: SyncServer, store: Any) -> None:
    a, b = phone("a"), phone("b")
    seed_client(a)
    run(server, a)
    run(server, b)
    ds = a.datastores["./files"]
    ds.move(luid(a, "/Docs/b.txt"), "")  # moved, then edited
    ds.update(luid(a, "/b.txt"), file("b.txt", "new text"))
    ds.update(luid(a, "/Docs/Work"), folder("Job"))  # a folder renamed: its content changed
    run(server, a)
    session, _answers = run(server, b)
    assert session.reports["./files"].received == {"Replace": 2}
    assert b.datastores["./files"].items[luid(b, "/b.txt")] == file("b.txt", "new text")
    assert "/Docs/Job/a.txt" in paths(b)


def test_a_move_on_the_server_is_a_move(server: SyncServer, store: Any) -> None:
    """A move made in the store (another client, a tool): the same data under another parent."""
    b = phone("b")
    seed_client(b)
    run(server, b)
    item = store.get_item("test", "Files", guid(store, "a.txt"))
    store.replace_item("test", "Files", item.guid, item.data, item.content_type, parent="")
    store.replace_item("test", "Files", guid(store, "b.txt"), file("b.txt", "edited"), item.content_type)
    session, _answers = run(server, b)
    assert session.reports["./files"].received == {"Move": 1, "Replace": 1}
    assert "/a.txt" in paths(b)


def test_a_conflicting_edit_gets_the_whole_item(server: SyncServer, store: Any) -> None:
    """The server moved a file the client edited: with the server winning, the
    client gets the server's version whole (it holds its own text), not a Move."""
    b = phone("b")
    seed_client(b)
    run(server, b)
    item = store.get_item("test", "Files", guid(store, "a.txt"))
    store.replace_item("test", "Files", item.guid, item.data, item.content_type, parent="")
    b.datastores["./files"].update(luid(b, "/Docs/Work/a.txt"), file("a.txt", "mine"))
    _session, answers = run(server, b)
    assert [type(c) for c in commands(answers)] == [Replace]
    assert b.datastores["./files"].items[luid(b, "/a.txt")] == file("a.txt")


@pytest.mark.parametrize("mode", [AlertCode.SLOW_SYNC, AlertCode.REFRESH_FROM_SERVER])
def test_no_move_in_a_slow_sync_or_refresh(server: SyncServer, store: Any, mode: int) -> None:
    b = phone("b")
    seed_client(b)
    run(server, b)
    item = store.get_item("test", "Files", guid(store, "a.txt"))
    store.replace_item("test", "Files", item.guid, item.data, item.content_type, parent="")
    _session, answers = run(server, b, mode=mode)
    assert not any(isinstance(c, Move) for c in commands(answers))
    assert "/a.txt" in paths(b)


def test_a_flat_client_gets_no_move(server: SyncServer, store: Any) -> None:
    a, flat = phone("a"), phone("flat", hierarchical=False)
    seed_client(a)
    run(server, a)
    run(server, flat)
    a.datastores["./files"].move(luid(a, "/Docs/b.txt"), "")
    run(server, a)
    _session, answers = run(server, flat)
    assert not any(isinstance(c, Move) for c in commands(answers))


def test_content_revs_in_the_store(store: Any) -> None:
    """``content_rev``: 0 from the add, kept by a move or an unchanged write,
    the new revision for a change; ``same_content`` decides when given."""
    one = store.add_item("test", "Files", file("x"), "application/vnd.omads-file+xml")
    box = store.add_item("test", "Files", folder("Box"), "application/vnd.omads-folder+xml")
    assert store.content_revs("test", "Files") == {one.guid: 0, box.guid: 0}
    moved = store.replace_item("test", "Files", one.guid, file("x"), one.content_type, parent=box.guid)
    assert moved.rev > one.rev and store.content_revs("test", "Files")[one.guid] == 0
    changed = store.replace_item("test", "Files", one.guid, file("x", "y"), one.content_type)
    assert store.content_revs("test", "Files")[one.guid] == changed.rev
    told = store.replace_item("test", "Files", one.guid, b"<File><name>x</name></File>", one.content_type,
                              same_content=True)
    assert told.rev > changed.rev and store.content_revs("test", "Files")[one.guid] == changed.rev
    store.replace_item("test", "Files", box.guid, folder("Box"), box.content_type, same_content=False)
    assert store.content_revs("test", "Files")[box.guid] > 0
    store.delete_item("test", "Files", one.guid)
    assert one.guid not in store.content_revs("test", "Files")


def test_schema_12_to_13_takes_the_revision(tmp_path: Path) -> None:
    """An item of a schema 12 database has its revision as content_rev."""
    path = tmp_path / "s.db"
    s = SQLiteStore(path)
    s.add_user("test", "secret")
    item = s.replace_item("test", "Files", s.add_item("test", "Files", file("x"), "t").guid, file("x", "2"), "t")
    s.close()
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE items DROP COLUMN content_rev")
    db.execute("PRAGMA user_version=12")
    db.commit()
    db.close()
    s = SQLiteStore(path)
    assert item is not None and s.content_revs("test", "Files") == {item.guid: item.rev}
    s.close()


# -- the Mail tree ----------------------------------------------------------------------------------------------------


@pytest.fixture
def backend(mail_backend: MailBackend) -> MailBackend:
    return mail_backend


@pytest.fixture
def mserver(store: Any, backend: MailBackend) -> SyncServer:
    return SyncServer(store, clock=Clock(), random_source=counter_random(), base_url="http://127.0.0.1:8080/sync",
                      mail=lambda user: backend)


def test_mail_moves_are_moves(mserver: SyncServer, store: Any, backend: MailBackend) -> None:
    """A message moved on one device, and one moved behind the server's back
    (another IMAP client, a Maildir file renamed): the other device gets a
    Move; a message moved and flagged gets a Replace."""
    backend.create_folder("Archive")
    for n in (1, 2, 3):
        deliver(backend, n)
    one, two = mail_phone("one"), mail_phone("two")
    assert sync(mserver, one).ok and sync(mserver, two).ok
    one.datastores["./mail"].send_moves = True
    one.datastores["./mail"].move(where(one)["/INBOX", "message 1"], where(one)["/Archive"])
    assert sync(mserver, one).ok
    session = sync(mserver, two)
    assert session.ok and session.reports["./mail"].received == {"Move": 1}
    assert ("/Archive", "message 1") in where(two)
    guids = sorted(i.guid for i in store.items("test", MAIL_TREE) if i.content_type != FOLDER_REF_TYPE)
    # behind the server's back: message 2 moved, message 3 moved and flagged
    uids = {m.uid: m for m in backend.messages("INBOX")}
    by_subject = {next(line for line in _headers(backend, uid) if line.startswith(b"Subject:")): uid for uid in uids}
    backend.move("INBOX", by_subject[b"Subject: message 2"], "Archive")
    moved = backend.move("INBOX", by_subject[b"Subject: message 3"], "Archive")
    backend.set_flags("Archive", moved, {"flagged"})
    for client in (one, two):
        session = sync(mserver, client)
        assert session.ok and session.reports["./mail"].received == {"Move": 1, "Replace": 1}
        assert {("/Archive", f"message {n}") for n in (1, 2, 3)} <= set(where(client))
    assert sorted(i.guid for i in store.items("test", MAIL_TREE) if i.content_type != FOLDER_REF_TYPE) == guids


def _headers(backend: MailBackend, uid: str) -> list[bytes]:
    return backend.fetch("INBOX", uid).split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"\n").split(b"\n")


def test_a_client_refusing_move_gets_replaces(server: SyncServer, store: Any, caplog: pytest.LogCaptureFixture) -> None:
    """A client answering 406 to our Move: while package 4 goes on, that item
    and the next ones go as a Replace."""
    a, b = phone("a"), phone("b")
    ds = a.datastores["./files"]
    box = ds.add(folder("Box"))
    for n in range(8):
        ds.add(file(f"f{n}.txt"))
    run(server, a)
    run(server, b)
    for n in range(8):
        ds.move(luid(a, f"/f{n}.txt"), box)
    run(server, a)

    def refuse_moves(msg: Message) -> Message:
        return msg.replace(body=dataclasses.replace(msg.body, commands=tuple(
            dataclasses.replace(c, data="406") if isinstance(c, Status) and c.cmd == "Move" else c
            for c in msg.commands)))

    with caplog.at_level(logging.WARNING, "syncml_codec.engine"):
        _session, answers = run(server, b, rewrite=refuse_moves, max_msg_size=3000)
    assert "answered 406 to a Move" in caplog.text
    sent = commands(answers)
    assert isinstance(sent[0], Move) and isinstance(sent[-1], Replace)
    assert len(answers) > 2 and paths(b) == ["/Box", *(f"/Box/f{n}.txt" for n in range(8))]
