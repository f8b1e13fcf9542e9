"""Issue 14, item 3: SyncML 1.2 hierarchical sync on the Files datastore,
with our client session on both stores: folders created, renamed, moved
and deleted on either side, nested, files moved between folders (by a
Replace naming the new parent and by a Move command), a client without
``SupportHierarchicalSync`` (the flat view), a folder loop, an unknown
parent, malformed objects, the depth bound, and our DevInf."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from syncml_codec.engine import ClientSession, ClientStore, SyncServer
from syncml_codec.engine._devinf import server_devinf
from syncml_codec.engine._ops import Operation
from syncml_codec.engine._tree import MAX_TREE_DEPTH
from syncml_codec.formats.omads import FILE_CONTENT_TYPE, FOLDER_CONTENT_TYPE
from syncml_codec.model import Message, Status, Sync, TargetParent

from .conftest import Clock, counter_random
from .helpers import vcard

FILE, FOLDER = FILE_CONTENT_TYPE, FOLDER_CONTENT_TYPE


def folder(name: str) -> bytes:
    return f"<Folder><name>{name}</name></Folder>".encode()


def file(name: str, body: str = "") -> bytes:
    return f"<File><name>{name}</name><body>{body or name}</body></File>".encode()


@pytest.fixture
def store(both_stores: Any) -> Any:
    return both_stores


@pytest.fixture
def server(store: Any) -> SyncServer:
    return SyncServer(store, clock=Clock(), random_source=counter_random(), base_url="http://127.0.0.1:8080/sync")


def phone(name: str, *, hierarchical: bool = True, contacts: bool = False) -> ClientStore:
    client = ClientStore(f"test-{name}")
    client.add_datastore("./files", "files", FILE, "1.2", hierarchical=hierarchical)
    if contacts:
        client.add_datastore("./addressbook", "addressbook", "text/vcard", "3.0")
    return client


def run(server: SyncServer, client: ClientStore, *, encoding: str = "xml", max_msg_size: int = 150000,
        rewrite: Callable[[Message], Message] | None = None,
        mode: int | None = None) -> tuple[ClientSession, list[Message]]:
    """One session; the server's messages too (``rewrite``: changes each client message first)."""
    session = ClientSession(client, url=server.base_url, user="test", password="secret", clock=Clock(),
                            encoding=encoding, max_msg_size=max_msg_size,
                            modes={"./files": mode} if mode else None)
    request = session.start()
    answers = []
    for _ in range(60):
        sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
        body = request.body
        if rewrite is not None:
            body = rewrite(Message.from_bytes(body)).to_bytes(encoding)
        response = server.handle(body, request.content_type, sid)
        assert response.http_status == 200
        answers.append(Message.from_bytes(response.body, response.content_type))
        following = session.receive(response.body, response.content_type)
        if following is None:
            assert session.ok, session.error
            return session, answers
        request = following
    raise AssertionError("the session did not end")


def paths(client: ClientStore) -> list[str]:
    ds = client.datastores["./files"]
    return sorted(ds.path(luid) for luid in ds.items)


def server_paths(store: Any) -> list[str]:
    items = {i.guid: i for i in store.items("test", "Files")}

    def path(guid: str) -> str:
        parts: list[str] = []
        while guid in items:
            data = items[guid].data
            parts.append(data[data.index(b"<name>") + 6:data.index(b"</name>")].decode())
            guid = items[guid].parent
        return "/" + "/".join(reversed(parts))

    return sorted(path(g) for g in items)


def luid(client: ClientStore, path: str) -> str:
    ds = client.datastores["./files"]
    return next(u for u in ds.items if ds.path(u) == path)


def statuses(answers: list[Message], cmd: str) -> list[int]:
    return [int(c.data) for m in answers for c in m.commands if isinstance(c, Status) and c.cmd == cmd]


def guid_of(store: Any, path: str) -> str:
    items = {i.guid: i for i in store.items("test", "Files")}
    want = path.strip("/").split("/")
    parent = ""
    for name in want:
        tag = f"<name>{name}</name>".encode()
        parent = next(i.guid for i in items.values() if i.parent == parent and tag in i.data)
    return parent


def seed_client(client: ClientStore) -> None:
    ds = client.datastores["./files"]
    docs = ds.add(folder("Docs"))
    work = ds.add(folder("Work"), docs)
    ds.add(file("a.txt"), work)
    ds.add(file("b.txt"), docs)
    ds.add(file("top.txt"))


TREE = ["/Docs", "/Docs/Work", "/Docs/Work/a.txt", "/Docs/b.txt", "/top.txt"]


@pytest.mark.parametrize("encoding", ["xml", "wbxml"])
def test_issue_14_tree_from_client_to_another_client(server: SyncServer, store: Any, encoding: str) -> None:
    a, b = phone("a"), phone("b")
    seed_client(a)
    run(server, a, encoding=encoding)
    assert server_paths(store) == TREE
    folders = [i for i in store.items("test", "Files") if i.content_type == FOLDER]
    assert len(folders) == 2
    _, answers = run(server, b, encoding=encoding)
    assert paths(b) == TREE
    # parents went before their children, named by our GUID (their Maps had not come)
    adds = [c for m in answers for c in m.commands if isinstance(c, Sync) for c in c.commands]
    names = [c.items[0].data if isinstance(c.items[0].data, bytes) else str(c.items[0].data).encode() for c in adds]
    assert names.index(folder("Docs")) < names.index(folder("Work")) < names.index(file("a.txt"))
    work_add = adds[names.index(folder("Work"))].items[0]
    assert work_add.source_parent is not None and work_add.source_parent.loc_uri == guid_of(store, "/Docs")
    assert adds[names.index(file("top.txt"))].items[0].source_parent is None
    # nothing moves the second time
    session, _ = run(server, b, encoding=encoding)
    assert session.reports["./files"].received == {} and paths(b) == TREE


def test_issue_14_folders_renamed_moved_deleted_on_the_client(server: SyncServer, store: Any) -> None:
    a, b = phone("a"), phone("b")
    seed_client(a)
    run(server, a)
    run(server, b)
    ds = a.datastores["./files"]
    ds.update(luid(a, "/Docs/Work"), folder("Job"))  # rename
    ds.move(luid(a, "/Docs/b.txt"), luid(a, "/Docs/Job"))  # a file to another folder
    ds.move(luid(a, "/Docs/Job"), "")  # a folder (with what it holds) to the root
    run(server, a)
    expected = ["/Docs", "/Job", "/Job/a.txt", "/Job/b.txt", "/top.txt"]
    assert server_paths(store) == expected
    guids = {i.guid for i in store.items("test", "Files")}
    session, answers = run(server, b)
    assert paths(b) == expected
    # the folder renamed and moved: a Replace; the file only moved: a Move (issue 14, "wire"); no Delete + Add
    assert session.reports["./files"].received == {"Replace": 1, "Move": 1}
    replace_parents = [c.items[0].target_parent.loc_uri for m in answers for s in m.commands if isinstance(s, Sync)
                       for c in s.commands if c.items[0].target_parent is not None]
    assert "./files" in replace_parents  # (the root, as the client names its datastore)
    assert {i.guid for i in store.items("test", "Files")} == guids  # the same GUIDs: moves, not copies
    # a folder deleted on the client: its content with it, on the server and on the other client
    a.datastores["./files"].delete(luid(a, "/Job"))
    job_on_b = luid(b, "/Job")
    run(server, a)
    assert server_paths(store) == ["/Docs", "/top.txt"]
    dead = [i for i in store.items("test", "Files", include_deleted=True) if i.deleted]
    assert len(dead) == 3 and all(i.data == b"" for i in dead)
    session, answers = run(server, b)
    assert paths(b) == ["/Docs", "/top.txt"] and session.reports["./files"].received == {"Delete": 3}
    deletes = [c.items[0].target.loc_uri for m in answers for s in m.commands if isinstance(s, Sync)
               for c in s.commands]
    assert deletes[-1] == job_on_b  # the folder's own Delete after those of what it held
    session, _ = run(server, a)
    assert session.reports["./files"].received == {}  # nothing echoed to the client that deleted them


@pytest.mark.parametrize("encoding", ["xml", "wbxml"])
def test_issue_14_move_command_from_the_client(server: SyncServer, store: Any, encoding: str) -> None:
    a, b = phone("a"), phone("b")
    seed_client(a)
    run(server, a, encoding=encoding)
    run(server, b, encoding=encoding)
    ds = a.datastores["./files"]
    ds.send_moves = True
    ds.move(luid(a, "/top.txt"), luid(a, "/Docs/Work"))
    session, answers = run(server, a, encoding=encoding)
    assert session.reports["./files"].sent == {"Move": 1} and statuses(answers, "Move") == [200]
    assert "/Docs/Work/top.txt" in server_paths(store)
    run(server, b)
    assert paths(b) == paths(a)


def test_issue_14_tree_changed_on_the_server(server: SyncServer, store: Any) -> None:
    a = phone("a")
    seed_client(a)
    run(server, a)
    docs = guid_of(store, "/Docs")
    new = store.add_item("test", "Files", folder("New"), FOLDER, parent=docs)
    inner = store.add_item("test", "Files", folder("Inner"), FOLDER, parent=new.guid)
    store.add_item("test", "Files", file("n.txt"), FILE, parent=inner.guid)
    store.replace_item("test", "Files", guid_of(store, "/top.txt"), file("top.txt"), FILE, parent=new.guid)
    store.replace_item("test", "Files", guid_of(store, "/Docs/Work"), folder("Play"), FOLDER)  # renamed
    run(server, a)
    assert paths(a) == server_paths(store) == ["/Docs", "/Docs/New", "/Docs/New/Inner", "/Docs/New/Inner/n.txt",
                                               "/Docs/New/top.txt", "/Docs/Play", "/Docs/Play/a.txt", "/Docs/b.txt"]
    store.delete_item("test", "Files", new.guid)  # a folder deleted on the server: what it holds with it
    session, _ = run(server, a)
    assert session.reports["./files"].received == {"Delete": 4}
    assert paths(a) == server_paths(store) == ["/Docs", "/Docs/Play", "/Docs/Play/a.txt", "/Docs/b.txt"]


def test_issue_14_a_client_without_hierarchical_sync_sees_the_files(server: SyncServer, store: Any) -> None:
    a, flat = phone("a"), phone("flat", hierarchical=False)
    seed_client(a)
    run(server, a)
    run(server, flat)
    items = flat.datastores["./files"].items
    assert sorted(items.values()) == sorted([file("a.txt"), file("b.txt"), file("top.txt")])  # no folders
    assert all(p == "" for p in flat.datastores["./files"].parents.values())
    # its Add lands at the root; its Replace keeps the item where it is; a name that clashes is kept
    ds = flat.datastores["./files"]
    ds.add(file("top.txt", "another"))
    ds.update(next(u for u, d in items.items() if d == file("a.txt")), file("a.txt", "edited"))
    run(server, flat)
    assert server_paths(store) == [*TREE[:3], "/Docs/b.txt", "/top.txt", "/top.txt"]
    assert store.get_item("test", "Files", guid_of(store, "/Docs/Work/a.txt")).data == file("a.txt", "edited")
    run(server, a)
    assert paths(a) == server_paths(store)


def test_issue_14_folder_loop_is_refused(server: SyncServer, store: Any, caplog: pytest.LogCaptureFixture) -> None:
    a = phone("a")
    seed_client(a)
    run(server, a)
    before = [(i.guid, i.parent, i.rev) for i in store.items("test", "Files")]
    ds = a.datastores["./files"]
    docs, work = luid(a, "/Docs"), luid(a, "/Docs/Work")
    ds.parents[docs] = work  # Docs into its own child (the client's tree would loop: sent as it is)
    ds.changes[docs] = Operation.REPLACE
    with caplog.at_level(logging.WARNING, logger="syncml_codec.engine"):
        session, answers = run(server, a)
    assert session.reports["./files"].statuses == [428]
    assert [(i.guid, i.parent, i.rev) for i in store.items("test", "Files")] == before
    assert any("folder loop" in r.getMessage() for r in caplog.records)
    # as a Move command, and into itself
    ds.parents[docs] = ""
    ds.changes.clear()
    ds.send_moves = True
    ds.parents[work] = work
    ds.moves.add(work)
    ds.changes[work] = Operation.REPLACE
    session, answers = run(server, a)
    assert statuses(answers, "Move") == [428]
    assert [(i.guid, i.parent, i.rev) for i in store.items("test", "Files")] == before


def test_issue_14_unknown_parent_and_malformed_objects(server: SyncServer, store: Any,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    a = phone("a", contacts=True)
    seed_client(a)
    run(server, a)
    count = len(store.items("test", "Files"))
    ds = a.datastores["./files"]
    ghost = ds.add(folder("Ghost"))
    ds.add(file("orphan.txt"), ghost)
    del ds.changes[ghost]  # the client never sends the folder: its child names a parent the server does not know
    ds.add(b"<File><name>x</name><size>many</size></File>")  # malformed
    ds.add(b"<Folder><name>a</name><name>b</name></Folder>")  # malformed
    ds.add(b"not a file at all")
    ds.add(file("fine.txt"))
    a.datastores["./addressbook"].add(vcard(1))
    with caplog.at_level(logging.WARNING, logger="syncml_codec.engine"):
        session, _ = run(server, a)
    assert sorted(session.reports["./files"].statuses) == [201, 400, 400, 400, 404]
    assert session.reports["./addressbook"].statuses == [201] and len(store.items("test", "Contacts")) == 1
    assert len(store.items("test", "Files")) == count + 1 and "/fine.txt" in server_paths(store)
    assert sum("refused" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING) == 4


def test_issue_14_deep_trees_are_bounded(server: SyncServer, store: Any) -> None:
    a = phone("a")
    ds = a.datastores["./files"]
    parent = ""
    for n in range(MAX_TREE_DEPTH + 1):
        parent = ds.add(folder(f"d{n}"), parent)
    session, _ = run(server, a)
    assert session.reports["./files"].statuses.count(201) == MAX_TREE_DEPTH
    assert session.reports["./files"].statuses[-1] == 403
    assert len(store.items("test", "Files")) == MAX_TREE_DEPTH


def test_issue_14_item_count_is_bounded(server: SyncServer, store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from syncml_codec.engine import _tree

    monkeypatch.setattr(_tree, "MAX_TREE_ITEMS", 3)
    a = phone("a")
    ds = a.datastores["./files"]
    top = ds.add(folder("top"))
    run(server, a)
    for n in range(4):
        ds.add(file(f"{n}.txt"), top)
    session, _ = run(server, a)  # (two-way: the refused Adds stay the client's changes)
    assert session.reports["./files"].statuses == [201, 201, 420, 420]
    assert len(store.items("test", "Files")) == 3
    ds.delete(luid(a, "/top/0.txt"))  # room again: taken by one of the refused Adds in the next session
    session, _ = run(server, a)  # (our client sends its Deletes after its Adds)
    assert len(store.items("test", "Files")) == 2 and sorted(session.reports["./files"].statuses) == [200, 420, 420]
    session, _ = run(server, a)
    assert len(store.items("test", "Files")) == 3 and sorted(session.reports["./files"].statuses) == [201, 420]


def test_issue_14_slow_sync_matches_by_folder(server: SyncServer, store: Any) -> None:
    a = phone("a")
    ds = a.datastores["./files"]
    one, two = ds.add(folder("One")), ds.add(folder("Two"))
    ds.add(file("same.txt"), one)
    ds.add(file("same.txt"), two)  # the same file in two folders: two items
    run(server, a)
    assert server_paths(store) == ["/One", "/One/same.txt", "/Two", "/Two/same.txt"]
    ds.last_anchor = None  # the next sync is slow: nothing is duplicated on either side
    session, _ = run(server, a)
    assert session.reports["./files"].requested == 201
    assert server_paths(store) == ["/One", "/One/same.txt", "/Two", "/Two/same.txt"] == paths(a)


def test_issue_14_devinf_advertises_hierarchical_sync(server: SyncServer, store: Any) -> None:
    ours = server_devinf("srv")
    files = ours.datastore("Files")
    assert files is not None and files.support_hierarchical_sync
    assert {ct.ct_type for ct in (*files.rx_pref, *files.rx)} == {FILE, FOLDER}
    contacts = ours.datastore("Contacts")
    assert contacts is not None and not contacts.support_hierarchical_sync
    assert not any(ds.support_hierarchical_sync for ds in server_devinf("srv", version="1.1").datastores)
    a = phone("a")
    run(server, a)
    assert a.server_devinf is not None
    received = a.server_devinf.datastore("files")  # (listed under the name the client used)
    assert received is not None and received.support_hierarchical_sync


def test_issue_14_backup_of_files_is_refused(store: Any, tmp_path: Any) -> None:
    """``?backup`` of Files: 406 (a backup file keeps no tree), nothing written."""
    from syncml_codec.store.backups import BackupArea

    from .test_issue_13_backup import run as run_url

    server = SyncServer(store, clock=Clock(), random_source=counter_random(), base_url="http://127.0.0.1:8080/sync",
                        backups=BackupArea(tmp_path / "backups"))
    a = phone("a")
    a.datastores["./files"].add(file("x.txt"))
    session = run_url(server, a, "http://127.0.0.1:8080/sync?backup")
    assert session.reports["./files"].alert_status == 406
    assert store.items("test", "Files") == []


def test_issue_14_move_in_a_flat_session_is_not_supported(server: SyncServer, store: Any) -> None:
    flat = phone("flat", hierarchical=False)
    run(server, flat)
    ds = flat.datastores["./files"]
    x = ds.add(file("x.txt"))
    run(server, flat)
    ds.send_moves = True  # a flat client (by its DevInf) sending a Move anyway
    ds.moves.add(x)
    ds.changes[x] = Operation.REPLACE
    _, answers = run(server, flat)
    assert statuses(answers, "Move") == [406]
    assert len(store.items("test", "Files")) == 1


@pytest.mark.parametrize("encoding", ["xml", "wbxml"])
def test_issue_14_a_large_file_in_a_folder_through_more_data(store: Any, encoding: str) -> None:
    """A 60 kB file under a 6 kB MaxMsgSize, both ways, into its folder, the
    client naming the folder in the first chunk only (as some clients do)."""
    server = SyncServer(store, clock=Clock(), random_source=counter_random(), base_url="http://127.0.0.1:8080/sync",
                        max_msg_size=6000)
    a, b = phone("a"), phone("b")
    ds = a.datastores["./files"]
    top = ds.add(folder("Big"))
    run(server, a, encoding=encoding)
    body = "x" * 60_000
    ds.add(file("big.bin", body), top)

    def first_chunk_only(msg: Message) -> Message:
        syncs = []
        for sync in msg.body.commands:
            if isinstance(sync, Sync):
                sync = dataclasses.replace(sync, commands=tuple(
                    dataclasses.replace(c, items=tuple(
                        i if (i.meta is not None and i.meta.size) else dataclasses.replace(i, source_parent=None)
                        for i in c.items)) for c in sync.commands))
            syncs.append(sync)
        return dataclasses.replace(msg, body=dataclasses.replace(msg.body, commands=tuple(syncs)))

    session, _ = run(server, a, encoding=encoding, max_msg_size=6000, rewrite=first_chunk_only)
    assert session.reports["./files"].statuses[-1] == 201
    assert session.reports["./files"].sent == {"Add": 1} and session.msg_id > 3  # (in chunks)
    assert server_paths(store) == ["/Big", "/Big/big.bin"]
    assert store.get_item("test", "Files", guid_of(store, "/Big/big.bin")).data == file("big.bin", body)
    run(server, b, encoding=encoding, max_msg_size=6000)
    assert paths(b) == ["/Big", "/Big/big.bin"]
    assert b.datastores["./files"].items[luid(b, "/Big/big.bin")] == file("big.bin", body)


def no_root_parent(msg: Message) -> Message:
    """A client that names no parent for the items at its root (pysyncml does so)."""
    syncs = []
    for sync in msg.body.commands:
        if isinstance(sync, Sync):
            sync = dataclasses.replace(sync, commands=tuple(
                dataclasses.replace(c, items=tuple(
                    dataclasses.replace(i, source_parent=None)
                    if i.source_parent is not None and i.source_parent.loc_uri == "./files" else i
                    for i in c.items)) for c in sync.commands))
        syncs.append(sync)
    return dataclasses.replace(msg, body=dataclasses.replace(msg.body, commands=tuple(syncs)))


@pytest.mark.parametrize("rewrite", [None, no_root_parent])
def test_issue_14_refreshes_of_a_tree(server: SyncServer, store: Any,
                                      rewrite: Callable[[Message], Message] | None) -> None:
    """205 (refresh from server): the client's tree is replaced by the server's, parents first; 203
    (refresh from client): the server's tree becomes the client's, what it lacks deleted (a slow
    sync's item without a parent is at the root)."""
    a = phone("a")
    seed_client(a)
    run(server, a)
    store.add_item("test", "Files", file("server.txt"), FILE, parent=guid_of(store, "/Docs/Work"))
    a.datastores["./files"].add(file("local-only.txt"))
    session, _ = run(server, a, mode=205)
    assert session.reports["./files"].mode == 205
    assert paths(a) == server_paths(store) == sorted([*TREE, "/Docs/Work/server.txt"])
    ds = a.datastores["./files"]
    ds.delete(luid(a, "/Docs/Work"))  # (locally: with what it holds)
    ds.move(luid(a, "/Docs/b.txt"), "")
    ds.changes.clear()
    session, _ = run(server, a, mode=203, rewrite=rewrite)
    assert session.reports["./files"].mode == 203
    assert server_paths(store) == paths(a) == ["/Docs", "/b.txt", "/top.txt"]


def test_issue_14_a_move_that_conflicts(server: SyncServer, store: Any) -> None:
    """The client moves a file the server changed meanwhile: server wins (the default policy), the
    client gets the server's version where the server has it."""
    a = phone("a")
    seed_client(a)
    run(server, a)
    guid = guid_of(store, "/top.txt")
    store.replace_item("test", "Files", guid, file("top.txt", "server edit"), FILE)
    a.datastores["./files"].move(luid(a, "/top.txt"), luid(a, "/Docs"))
    session, _ = run(server, a)
    assert session.reports["./files"].statuses == [419]
    assert store.get_item("test", "Files", guid).parent == ""
    assert "/top.txt" in paths(a) and a.datastores["./files"].items[luid(a, "/top.txt")] == file("top.txt",
                                                                                               "server edit")


def test_issue_14_refresh_from_client_keeps_a_folder_that_holds_what_it_sent(server: SyncServer, store: Any) -> None:
    """203: a folder whose own item is refused (malformed) but whose content the client sent is kept,
    with that content (deleting it would take the client's items with it)."""
    a = phone("a")
    seed_client(a)
    run(server, a)
    ds = a.datastores["./files"]
    ds.items[luid(a, "/Docs/Work")] = b"<Folder><name>Work</name><name>twice</name></Folder>"
    session, _ = run(server, a, mode=203)
    assert session.reports["./files"].mode == 203 and session.reports["./files"].statuses.count(400) == 1
    assert server_paths(store) == TREE


def test_issue_14_hostile_parents(server: SyncServer, store: Any) -> None:
    """Parents a client made up: a 10,000-character LUID or GUID, another datastore's item, a file as a
    folder; each refused, nothing stored."""
    a = phone("a", contacts=True)
    seed_client(a)
    a.datastores["./addressbook"].add(vcard(1))
    run(server, a)
    contact = store.items("test", "Contacts")[0].guid
    before = sorted((i.guid, i.parent, i.rev) for i in store.items("test", "Files"))
    ds = a.datastores["./files"]
    huge_luid = ds.add(file("x1.txt"))
    ds.parents[huge_luid] = "9" * 10_000  # by a LUID
    ds.add(file("x2.txt"), luid(a, "/top.txt"))  # a file as its folder
    by_guid = {ds.add(file("x3.txt")): contact, ds.add(file("x4.txt")): "7" * 10_000}  # by our GUIDs

    def target_parents(msg: Message) -> Message:
        def item(i: Any) -> Any:
            guid = by_guid.get(i.source.loc_uri) if i.source is not None else None
            return dataclasses.replace(i, target_parent=TargetParent(loc_uri=guid)) if guid else i

        commands = []
        for cmd in msg.body.commands:
            if isinstance(cmd, Sync):
                cmd = dataclasses.replace(cmd, commands=tuple(
                    dataclasses.replace(c, items=tuple(item(i) for i in c.items)) for c in cmd.commands))
            commands.append(cmd)
        return dataclasses.replace(msg, body=dataclasses.replace(msg.body, commands=tuple(commands)))

    session, _ = run(server, a, rewrite=target_parents)
    assert sorted(session.reports["./files"].statuses) == [400, 404, 404, 404]
    assert sorted((i.guid, i.parent, i.rev) for i in store.items("test", "Files")) == before
