"""Issue 14, item 3 for Mail: the account's folder tree as one hierarchical
datastore (:mod:`syncml_codec.engine._mailtree`), first as a store view (the
view's own behaviour on both stores and both back ends)."""

from __future__ import annotations

import doctest
import logging
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from syncml_codec.engine import ClientSession, ClientStore, SyncServer
from syncml_codec.engine._mailds import MailView
from syncml_codec.engine._mailtree import FOLDER_REF_TYPE, MAIL_TREE
from syncml_codec.errors import FormatError, MailError
from syncml_codec.filters import MailFilter, fetch_filter
from syncml_codec.formats import EmailObject
from syncml_codec.formats.omads import FOLDER_CONTENT_TYPE, FolderObject
from syncml_codec.mail import MailBackend, MaildirBackend, account_maildir
from syncml_codec.mail.maildir import header_block
from syncml_codec.store import StoredItem

from .conftest import Clock, counter_random
from .helpers import sync, vcard

EMI = "application/vnd.omads-email+xml"


def message(n: int) -> bytes:
    return (f"From: sender{n}@example.org\r\nTo: test@example.org\r\nSubject: message {n}\r\n"
            f"Message-ID: <h{n}@example.org>\r\nDate: Tue, 14 Nov 2023 22:13:{n % 60:02d} +0000\r\n\r\n"
            f"hello {n}\r\n").encode()


@pytest.fixture
def store(both_stores: Any) -> Any:
    return both_stores


@pytest.fixture
def backend(mail_backend: MailBackend) -> MailBackend:
    return mail_backend


@pytest.fixture
def view(store: Any, backend: MailBackend) -> MailView:
    return MailView(store, lambda user: backend)


def tree(view: MailView) -> dict[str, Any]:
    """The tree as the engine sees it: path -> folder item, (path, subject) -> message item."""
    items = view.items("test", MAIL_TREE)
    by_guid = {i.guid: i for i in items}

    def path(item: StoredItem) -> str:
        name = FolderObject.parse(item.data).name or ""
        return name if not item.parent else path(by_guid[item.parent]) + "/" + name

    out: dict[Any, StoredItem] = {}
    for item in items:
        if item.content_type == FOLDER_CONTENT_TYPE:
            out[path(item)] = item
        else:
            subject = (EmailObject.parse(item.data).emailitem or b"").split(b"Subject: ")[1].split(b"\r\n")[0]
            out[path(by_guid[item.parent]), subject.decode()] = item
    return out


def seed(backend: MailBackend) -> dict[str, str]:
    for name in ("Sent", "Trash", "Work", "Work/Projects"):
        backend.create_folder(name)
    return {"m1": backend.add("INBOX", message(1)), "m2": backend.add("Work/Projects", message(2), {"read"}),
            "m3": backend.add("Sent", message(3))}


def test_issue_14_mailhier_doctests() -> None:
    from syncml_codec.engine import _mailtree

    assert doctest.testmod(_mailtree).failed == 0


def test_issue_14_mailhier_the_tree(view: MailView, backend: MailBackend) -> None:
    seed(backend)
    found = view.refresh("test", MAIL_TREE, 1.0)
    assert found["folders added"] == 5 and found["added"] == 3
    t = tree(view)
    assert sorted(k for k in t if isinstance(k, str)) == ["INBOX", "Sent", "Trash", "Work", "Work/Projects"]
    roles = {k: FolderObject.parse(t[k].data).role for k in t if isinstance(k, str)}
    assert roles == {"INBOX": "inbox", "Sent": "sent", "Trash": "deleted", "Work": None, "Work/Projects": None}
    assert t["INBOX"].parent == "" and t["Work/Projects"].parent == t["Work"].guid
    assert t["Work/Projects", "message 2"].parent == t["Work/Projects"].guid
    assert EmailObject.parse(t["Work/Projects", "message 2"].data).read is True
    # the store keeps references only; nothing changed: nothing found
    assert {i.content_type for i in view._store.items("test", MAIL_TREE)} == {FOLDER_REF_TYPE,
                                                                             "application/x-syncml-mail-ref"}
    assert not any(view.refresh("test", MAIL_TREE, 2.0).values())


def test_issue_14_mailhier_moves_behind_the_servers_back(view: MailView, backend: MailBackend) -> None:
    ids = seed(backend)
    view.refresh("test", MAIL_TREE, 1.0)
    before = tree(view)
    backend.move("INBOX", ids["m1"], "Work")  # another IMAP client, or a Maildir file renamed
    backend.rename_folder("Work", "Archive/Work")  # a folder moved with its subfolder and messages
    backend.rename_folder("Trash", "Bin")  # an empty folder renamed: the only one gone, the only one new there
    found = view.refresh("test", MAIL_TREE, 2.0)
    assert found["moved"] == 1 and found["removed"] == 0 and found["folders removed"] == 0
    assert found["folders moved"] == 3 and found["folders added"] == 1  # (Work, Work/Projects, Trash; Archive)
    after = tree(view)
    moved = after["Archive/Work", "message 1"]
    assert moved.guid == before["INBOX", "message 1"].guid and moved.rev > before["INBOX", "message 1"].rev
    assert after["Archive/Work"].guid == before["Work"].guid
    assert after["Archive/Work/Projects"].guid == before["Work/Projects"].guid
    assert after["Archive/Work/Projects", "message 2"].guid == before["Work/Projects", "message 2"].guid
    assert after["Archive/Work"].parent == after["Archive"].guid
    assert after["Bin"].guid == before["Trash"].guid and FolderObject.parse(after["Bin"].data).role is None
    # an empty folder moved: the only new folder of its name
    backend.create_folder("Empty")
    view.refresh("test", MAIL_TREE, 3.0)
    empty = tree(view)["Empty"].guid
    backend.rename_folder("Empty", "Archive/Empty")
    assert view.refresh("test", MAIL_TREE, 4.0)["folders moved"] == 1
    assert tree(view)["Archive/Empty"].guid == empty
    assert not any(i.deleted for i in view._store.items("test", MAIL_TREE, include_deleted=True))


def test_issue_14_mailhier_folder_deleted_behind_the_servers_back(view: MailView, backend: MailBackend) -> None:
    seed(backend)
    view.refresh("test", MAIL_TREE, 1.0)
    gone = tree(view)
    backend.delete_folder("Work")
    found = view.refresh("test", MAIL_TREE, 2.0)
    assert found["folders removed"] == 2 and found["removed"] == 1
    dead = {i.guid for i in view._store.items("test", MAIL_TREE, include_deleted=True) if i.deleted}
    assert dead == {gone["Work"].guid, gone["Work/Projects"].guid, gone["Work/Projects", "message 2"].guid}


def test_issue_14_mailhier_device_changes(view: MailView, backend: MailBackend) -> None:
    seed(backend)
    view.refresh("test", MAIL_TREE, 1.0)
    t = tree(view)
    # a device creates a folder under Work, moves a message there and marks it read at once
    new = view.add_item("test", MAIL_TREE, b"<Folder><name>Later</name></Folder>", FOLDER_CONTENT_TYPE, 2.0,
                        parent=t["Work"].guid)
    assert "Work/Later" in [f.name for f in backend.folders()]
    view.replace_item("test", MAIL_TREE, t["INBOX", "message 1"].guid, b"<Email><read>true</read></Email>", EMI, 3.0,
                      parent=new.guid)
    assert [m.flags for m in backend.messages("Work/Later")] == [frozenset({"read"})]
    assert backend.messages("INBOX") == []
    # renames the folder and moves it to the top; a Move without data moves a message
    view.replace_item("test", MAIL_TREE, new.guid, b"<Folder><name>Someday</name></Folder>", FOLDER_CONTENT_TYPE,
                      4.0, parent="")
    view.replace_item("test", MAIL_TREE, t["Sent", "message 3"].guid, b"", EMI, 5.0, parent=new.guid)
    assert {f.name for f in backend.folders()} >= {"Someday"} and "Work/Later" not in {
        f.name for f in backend.folders()}
    assert len(backend.messages("Someday")) == 2 and backend.messages("Sent") == []
    after = tree(view)
    assert after["Someday", "message 1"].guid == t["INBOX", "message 1"].guid
    assert after["Someday", "message 3"].guid == t["Sent", "message 3"].guid
    # what the view wrote is not found again as a change behind its back
    assert not any(view.refresh("test", MAIL_TREE, 6.0).values())
    # a message added at the root lands in the inbox; deleting a folder deletes its subtree
    view.add_item("test", MAIL_TREE, message(4), "message/rfc822", 7.0)
    assert len(backend.messages("INBOX")) == 1
    view.delete_item("test", MAIL_TREE, t["Work"].guid, 8.0)
    assert {f.name for f in backend.folders()} == {"INBOX", "Sent", "Trash", "Someday"}
    dead = {i.guid for i in view._store.items("test", MAIL_TREE, include_deleted=True) if i.deleted}
    assert dead == {t["Work"].guid, t["Work/Projects"].guid, t["Work/Projects", "message 2"].guid}
    assert sum(len(backend.messages(f.name)) for f in backend.folders()) == 3  # message 2 went with Work
    assert not any(view.refresh("test", MAIL_TREE, 9.0).values())


def test_issue_14_mailhier_refusals_change_nothing(view: MailView, backend: MailBackend) -> None:
    seed(backend)
    view.refresh("test", MAIL_TREE, 1.0)
    t = tree(view)
    folders = [f.name for f in backend.folders()]
    heads = view.item_heads("test", MAIL_TREE)
    work = t["Work"]
    refused: list[tuple[Any, ...]] = [
        # a folder loop: Work into its own child, into itself
        ("replace", work.guid, work.data, FOLDER_CONTENT_TYPE, t["Work/Projects"].guid),
        ("replace", work.guid, work.data, FOLDER_CONTENT_TYPE, work.guid),
        # a parent that is no folder: unknown, a message
        ("replace", t["INBOX", "message 1"].guid, b"", EMI, "no-such-guid"),
        ("replace", t["INBOX", "message 1"].guid, b"", EMI, t["Sent", "message 3"].guid),
        ("add", b"<Folder><name>X</name></Folder>", FOLDER_CONTENT_TYPE, "no-such-guid"),
        ("add", message(5), "message/rfc822", t["Sent", "message 3"].guid),
        # the inbox is not renamed or deleted; a name clash; a name that is a path
        ("replace", t["INBOX"].guid, b"<Folder><name>Old</name></Folder>", FOLDER_CONTENT_TYPE, None),
        ("delete", t["INBOX"].guid),
        ("replace", t["Trash"].guid, b"<Folder><name>Sent</name></Folder>", FOLDER_CONTENT_TYPE, None),
        ("add", b"<Folder><name>a/b</name></Folder>", FOLDER_CONTENT_TYPE, ""),
    ]
    for what, *args in refused:
        with pytest.raises(MailError):
            if what == "replace":
                guid, data, ctype, parent = args
                view.replace_item("test", MAIL_TREE, guid, data, ctype, 2.0, parent=parent)
            elif what == "add":
                data, ctype, parent = args
                view.add_item("test", MAIL_TREE, data, ctype, 2.0, parent=parent)
            else:
                view.delete_item("test", MAIL_TREE, args[0], 2.0)
    # malformed objects: a FormatError, before anything is written
    for data, ctype in ((b"<Folder><name>x</nam></Folder>", FOLDER_CONTENT_TYPE),
                        (b"<Folder><role>inbox</role></Folder>", FOLDER_CONTENT_TYPE),
                        (b"<Email><read>maybe</read></Email>", EMI)):
        with pytest.raises(FormatError):
            view.add_item("test", MAIL_TREE, data, ctype, 2.0, parent=work.guid)
    with pytest.raises(FormatError):
        view.replace_item("test", MAIL_TREE, t["INBOX", "message 1"].guid, b"<Email><read>maybe</read></Email>", EMI,
                          2.0, parent=t["Sent"].guid)
    assert [f.name for f in backend.folders()] == folders
    assert view.item_heads("test", MAIL_TREE) == heads
    assert len(backend.messages("INBOX")) == 1 and not any(view.refresh("test", MAIL_TREE, 3.0).values())


# -- end to end: our client session with hierarchical sync ------------------------------------------------

RFC822 = "message/rfc822"


@pytest.fixture
def mserver(store: Any, backend: MailBackend) -> SyncServer:
    return SyncServer(store, clock=Clock(), random_source=counter_random(), base_url="http://127.0.0.1:8080/sync",
                      mail=lambda user: backend)


def phone(name: str, ctype: str = EMI, *, hierarchical: bool = True, contacts: bool = False) -> ClientStore:
    client = ClientStore(f"test-{name}")
    client.add_datastore("./mail", "Mail", ctype, "1.2" if ctype == EMI else "1.0", hierarchical=hierarchical)
    if contacts:
        client.add_datastore("./addressbook", "addressbook", "text/vcard", "3.0")
    return client


def deliver(backend: MailBackend, n: int, folder: str = "INBOX") -> None:
    """An MTA's delivery (a file written straight into new/), or another IMAP client's APPEND."""
    if isinstance(backend, MaildirBackend):
        path = backend.root if folder == "INBOX" else backend.root / ("." + folder)
        name = f"1700000000.M{n}P1.mta"
        (path / "tmp" / name).write_bytes(message(n))
        os.rename(path / "tmp" / name, path / "new" / name)
    else:
        backend.add(folder, message(n))


def where(client: ClientStore) -> dict[str, Any]:
    """The client's tree: folder path -> LUID, (folder path, subject) -> LUID."""
    ds = client.datastores["./mail"]
    out: dict[Any, str] = {}
    for luid, data in ds.items.items():
        if data.lstrip().startswith(b"<Folder"):
            out[ds.path(luid)] = luid
        else:
            text = EmailObject.parse(data).emailitem if data.lstrip().startswith(b"<") else data
            subject = (text or b"").split(b"Subject: ")[1].split(b"\r\n")[0].split(b"\n")[0].decode()
            out[ds.path(ds.parents[luid]), subject] = luid
    return out


def flags_in(backend: MailBackend) -> dict[str, list[frozenset[str]]]:
    return {f.name: [m.flags for m in backend.messages(f.name)] for f in backend.folders()}


def test_issue_14_mailhier_round_trip(mserver: SyncServer, store: Any, backend: MailBackend) -> None:
    """The issue's round trip: a delivery synced to a device in the email object format and to
    another in RFC 822; the first marks it read and moves it to Archive (one Replace with the new
    parent), the second gets the move and moves it back by a Move command: the message is in the
    folder each time, with its flag, under one GUID."""
    backend.create_folder("Archive")
    deliver(backend, 1)
    emi, rfc = phone("emi"), phone("rfc", RFC822)
    for client in (emi, rfc):
        assert sync(mserver, client).ok
        tree = where(client)
        assert {k for k in tree if isinstance(k, str)} == {"/INBOX", "/Archive"}
        assert ("/INBOX", "message 1") in tree
    data = emi.datastores["./mail"].items[where(emi)["/INBOX", "message 1"]]
    assert EmailObject.parse(data).read is False
    assert _lf(rfc.datastores["./mail"].items[where(rfc)["/INBOX", "message 1"]]) == _lf(message(1))
    # our DevInf: Mail as a tree, with the folder type
    assert emi.server_devinf is not None
    (mail_ds,) = [d for d in emi.server_devinf.datastores if d.display_name == "Mail"]
    assert mail_ds.support_hierarchical_sync
    assert FOLDER_CONTENT_TYPE in [t.ct_type for t in (*mail_ds.rx_pref, *mail_ds.rx)]
    guid = next(i.guid for i in store.items("test", MAIL_TREE) if i.content_type != FOLDER_REF_TYPE)
    # marked read and moved on the first device
    ds = emi.datastores["./mail"]
    mail, archive = where(emi)["/INBOX", "message 1"], where(emi)["/Archive"]
    ds.update(mail, b"<Email><read>true</read></Email>")
    ds.move(mail, archive)
    session = sync(mserver, emi)
    assert session.ok and session.reports["./mail"].statuses == [200]
    assert flags_in(backend) == {"INBOX": [], "Archive": [frozenset({"read"})]}
    if isinstance(backend, MaildirBackend):
        (path,) = (backend.root / ".Archive" / "cur").iterdir()
        assert path.name.endswith(":2,S") and _lf(path.read_bytes()) == _lf(message(1))
    assert not sync(mserver, emi).reports["./mail"].received  # nothing comes back
    # (our client keeps the flags-only object it sent; a real one keeps its message, marked read: a pure move
    # comes to it as a Move, without the message, issue 14 "wire")
    assert b"<read>false</read>" in data
    ds.items[mail] = data.replace(b"<read>false</read>", b"<read>true</read>")
    # the other device gets the move (the same item under its new folder), not a Delete and an Add
    session = sync(mserver, rfc)
    assert session.ok and session.reports["./mail"].received == {"Replace": 1}
    assert ("/Archive", "message 1") in where(rfc)
    ds = rfc.datastores["./mail"]
    ds.send_moves = True
    ds.move(where(rfc)["/Archive", "message 1"], where(rfc)["/INBOX"])
    assert sync(mserver, rfc).ok
    assert flags_in(backend) == {"INBOX": [frozenset({"read"})], "Archive": []}
    session = sync(mserver, emi)
    assert session.ok and session.reports["./mail"].received == {"Move": 1} and ("/INBOX", "message 1") in where(emi)
    assert EmailObject.parse(emi.datastores["./mail"].items[where(emi)["/INBOX", "message 1"]]).read is True
    assert [i.guid for i in store.items("test", MAIL_TREE) if i.content_type != FOLDER_REF_TYPE] == [guid]


def test_issue_14_mailhier_folders_from_the_device(mserver: SyncServer, backend: MailBackend) -> None:
    deliver(backend, 1)
    client = phone("dev")
    assert sync(mserver, client).ok
    ds = client.datastores["./mail"]
    projects = ds.add(b"<Folder><name>Projects</name></Folder>")
    old = ds.add(b"<Folder><name>Old</name></Folder>", projects)
    ds.move(where(client)["/INBOX", "message 1"], old)
    assert sync(mserver, client).ok
    assert flags_in(backend) == {"INBOX": [], "Projects": [], "Projects/Old": [frozenset()]}
    # renamed, then moved to the top level, with the message inside
    ds.update(old, b"<Folder><name>Done</name></Folder>")
    assert sync(mserver, client).ok
    assert [f.name for f in backend.folders()] == ["INBOX", "Projects", "Projects/Done"]
    ds.move(old, "")
    assert sync(mserver, client).ok
    assert flags_in(backend) == {"INBOX": [], "Done": [frozenset()], "Projects": []}
    # deleted with its message
    ds.delete(old)
    assert sync(mserver, client).ok
    assert flags_in(backend) == {"INBOX": [], "Projects": []}
    # another device sees the result
    other = phone("other")
    assert sync(mserver, other).ok
    assert set(where(other)) == {"/INBOX", "/Projects"}


def test_issue_14_mailhier_behind_the_servers_back(mserver: SyncServer, backend: MailBackend) -> None:
    backend.create_folder("Work")
    deliver(backend, 1)
    deliver(backend, 2, "Work")
    client = phone("back")
    assert sync(mserver, client).ok
    before = where(client)
    # another mail client: a message moved, a folder renamed and moved, a new folder with a delivery
    (m1,) = backend.messages("INBOX")
    backend.move("INBOX", m1.uid, "Work")
    backend.rename_folder("Work", "Archive/Work")
    backend.create_folder("Lists")
    deliver(backend, 3, "Lists")
    session = sync(mserver, client)
    assert session.ok
    received = session.reports["./mail"].received
    assert "Delete" not in received and received["Add"] == 3  # (Archive, Lists, message 3)
    after = where(client)
    assert after["/Archive/Work", "message 1"] == before["/INBOX", "message 1"]  # the same LUID: a move
    assert after["/Archive/Work", "message 2"] == before["/Work", "message 2"]
    assert after["/Archive/Work"] == before["/Work"]
    assert ("/Lists", "message 3") in after
    # a folder deleted behind our back: Deletes, children before their folder
    backend.delete_folder("Archive")
    session = sync(mserver, client)
    assert session.ok and session.reports["./mail"].received == {"Delete": 4}
    assert set(where(client)) == {"/INBOX", "/Lists", ("/Lists", "message 3")}


def test_issue_14_mailhier_refusals(mserver: SyncServer, store: Any, backend: MailBackend,
                                    caplog: pytest.LogCaptureFixture) -> None:
    """A folder loop (428) and a move to a folder that does not exist (404): a clear item Status,
    nothing changed in the mail storage, the rest of the session (Contacts) carried out."""
    backend.create_folder("Work")
    backend.create_folder("Work/Sub")
    deliver(backend, 1)
    client = phone("bad", contacts=True)
    assert sync(mserver, client).ok
    ds = client.datastores["./mail"]
    tree = where(client)
    ds.move(tree["/Work"], tree["/Work/Sub"])  # a loop
    ds.parents[tree["/INBOX", "message 1"]] = "no-such-folder"  # a parent the server never heard of
    ds.moves.add(tree["/INBOX", "message 1"])
    ds.changes[tree["/INBOX", "message 1"]] = ds.changes[tree["/Work"]]
    client.datastores["./addressbook"].add(vcard(1))
    before = flags_in(backend), [f.name for f in backend.folders()], store.items("test", MAIL_TREE)
    caplog.set_level(logging.WARNING, "syncml_codec.engine")
    session = sync(mserver, client)
    assert sorted(session.reports["./mail"].statuses) == [404, 428]
    assert session.reports["./addressbook"].statuses == [201]
    assert (flags_in(backend), [f.name for f in backend.folders()], store.items("test", MAIL_TREE)) == before
    assert len(store.items("test", "Contacts")) == 1
    assert sum("refused" in r.getMessage() for r in caplog.records) >= 2


def test_issue_14_mailhier_flat_clients_unchanged(mserver: SyncServer, backend: MailBackend) -> None:
    """A client without SupportHierarchicalSync keeps Mail as the inbox; both kinds share the account."""
    backend.create_folder("Sent")
    deliver(backend, 1)
    deliver(backend, 2, "Sent")
    flat, tree = phone("flat", hierarchical=False), phone("tree")
    assert sync(mserver, flat).ok and sync(mserver, tree).ok
    assert [EmailObject.parse(d).emailitem for d in flat.datastores["./mail"].items.values()] == [message(1)]
    assert len(tree.datastores["./mail"].items) == 4  # INBOX, Sent, two messages
    # the tree device moves message 1 to Sent: the flat inbox device gets a Delete
    ds = tree.datastores["./mail"]
    ds.move(where(tree)["/INBOX", "message 1"], where(tree)["/Sent"])
    assert sync(mserver, tree).ok
    session = sync(mserver, flat)
    assert session.reports["./mail"].received == {"Delete": 1} and flat.datastores["./mail"].items == {}


def _lf(data: bytes | None) -> bytes:
    return (data or b"").replace(b"\r\n", b"\n")


def test_issue_14_mailhier_first_sync_reads_the_tree_a_bounded_number_of_times(store: Any, tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The folders are read once per view, not once per item: a first sync lists the tree's
    datastore as often for 40 messages as for 10 (it was once per message sent and mapped)."""
    backend = MaildirBackend(account_maildir(tmp_path / "mail", "test"))
    listed: list[str] = []
    real = store.items

    def counting(user: str, datastore: str, include_deleted: bool = False) -> Any:
        listed.append(datastore)
        return real(user, datastore, include_deleted)

    monkeypatch.setattr(store, "items", counting)
    counts = []
    for n, name in ((10, "ten"), (40, "forty")):
        for i in range(len(counts) * 10, n):
            backend.add("INBOX", message(i))
        server = SyncServer(store, clock=Clock(), random_source=counter_random(),
                            base_url="http://127.0.0.1:8080/sync", mail=lambda user: backend)
        listed.clear()
        client = phone(name)
        assert sync(server, client, max_msg_size=4000).ok
        assert len(client.datastores["./mail"].items) == n + 1
        counts.append(listed.count(MAIL_TREE))
    assert counts[1] <= counts[0] + 8  # (more messages of 4 kB: a few more SyncML messages, each a new view)


def test_issue_14_mailhier_large_messages_keep_their_folder(mserver: SyncServer, backend: MailBackend) -> None:
    """A message larger than the MaxMsgSize goes in chunks (MoreData) both ways and lands in its folder."""
    backend.create_folder("Big")
    body = "".join(f"line {i:05d} of a long message\r\n" for i in range(2000))  # ~60 kB
    big = message(1)[:-2] + body.encode()
    backend.add("Big", big)
    client = phone("big")
    assert sync(mserver, client, max_msg_size=8000).ok
    ds = client.datastores["./mail"]
    tree = where(client)
    assert _lf(EmailObject.parse(ds.items[tree["/Big", "message 1"]]).emailitem) == _lf(big)
    # the device files a large message of its own into Big
    mine = message(2)[:-2] + body.encode()
    ds.add(b"<Email><read>true</read><emailitem><![CDATA[" + mine + b"]]></emailitem></Email>", tree["/Big"])
    session = sync(mserver, client, max_msg_size=8000)
    assert session.ok and session.reports["./mail"].statuses == [201]
    got = sorted(_lf(backend.fetch("Big", m.uid)) for m in backend.messages("Big"))
    assert got == sorted([_lf(big), _lf(mine)])
    assert [m.flags for m in backend.messages("INBOX")] == []


def test_issue_14_mailhier_broken_references_are_dropped(view: MailView, backend: MailBackend) -> None:
    """References that are no part of a tree (a folder whose parent is gone, a message in it, a
    second folder of one name that two sessions added at once, a reference that is not JSON) are
    dropped at the next refresh and the tree is rebuilt from the mail storage: nothing is lost there."""
    seed(backend)
    view.refresh("test", MAIL_TREE, 1.0)
    store = view._store
    stray = store.add_item("test", MAIL_TREE, b'{"leaf":"Sent"}', FOLDER_REF_TYPE, 2.0, parent="gone")
    store.add_item("test", MAIL_TREE, b'{"folder":"","uid":"x","flags":[],"date":0,"fp":"x"}',
                   "application/x-syncml-mail-ref", 2.0, parent=stray.guid)
    store.add_item("test", MAIL_TREE, b'{"leaf":"Work"}', FOLDER_REF_TYPE, 2.0)  # a second Work
    store.add_item("test", MAIL_TREE, b"not json", FOLDER_REF_TYPE, 2.0)
    found = view.refresh("test", MAIL_TREE, 3.0)
    assert found["folders added"] == 0 and found["added"] == 0 and found["removed"] == 0
    t = tree(view)
    assert sorted(k for k in t if isinstance(k, str)) == ["INBOX", "Sent", "Trash", "Work", "Work/Projects"]
    assert len([k for k in t if not isinstance(k, str)]) == 3
    assert not any(view.refresh("test", MAIL_TREE, 4.0).values())


def test_issue_14_mailhier_slow_sync_duplicates_nothing(mserver: SyncServer, store: Any, backend: MailBackend) -> None:
    """A slow sync (201) after a first sync matches the device's folders and messages with the
    server's: neither side gets a second copy."""
    backend.create_folder("Work")
    deliver(backend, 1)
    deliver(backend, 2, "Work")
    client = phone("slow")
    assert sync(mserver, client).ok
    before = where(client)
    session = sync(mserver, client, 201)
    assert session.ok and "Add" not in session.reports["./mail"].received
    assert where(client) == before
    assert flags_in(backend) == {"INBOX": [frozenset()], "Work": [frozenset()]}
    assert len(store.items("test", MAIL_TREE)) == 4


def test_issue_14_mailhier_headers_only_on_the_tree(store: Any, backend: MailBackend) -> None:
    """IceWarp's headers-only filter on the tree: folders arrive as folder objects, each message
    as its header block under its folder with ``<truncated>``, no message read whole; the
    device fetches one whole by its LUID (a Replace, still under its folder)."""

    seed(backend)
    whole = [0]

    class Counting:
        def __getattr__(self, name: str) -> Any:
            return getattr(backend, name)

        def fetch(self, folder: str, uid: str, *, headers_only: bool = False) -> bytes:
            whole[0] += not headers_only
            return backend.fetch(folder, uid, headers_only=headers_only)

    server = SyncServer(store, clock=Clock(), random_source=counter_random(), base_url="http://127.0.0.1:8080/sync",
                        mail=lambda user: Counting())  # type: ignore[arg-type,return-value]
    client = phone("heads")

    def run(flt: Any) -> ClientSession:
        session = ClientSession(client, url=server.base_url, user="test", password="secret", clock=Clock(),
                                filters={"./mail": flt})
        request = session.start()
        for _ in range(30):
            sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
            response = server.handle(request.body, request.content_type, sid)
            following = session.receive(response.body, response.content_type)
            if following is None:
                assert session.ok, session.error
                return session
            request = following
        raise AssertionError("the session did not end")

    run(MailFilter(headers_only=True).to_filter(datetime(2023, 11, 20, tzinfo=timezone.utc)))
    assert whole[0] == 0
    got = where(client)
    assert {k for k in got if isinstance(k, str)} == {"/INBOX", "/Sent", "/Trash", "/Work", "/Work/Projects"}
    luid = got["/Work/Projects", "message 2"]
    obj = EmailObject.parse(client.datastores["./mail"].items[luid])
    assert _lf(obj.emailitem) == _lf(header_block(message(2))) and obj.truncated is not None and obj.read is True
    session = run(fetch_filter(luid))
    assert session.reports["./mail"].received == {"Replace": 1}
    obj = EmailObject.parse(client.datastores["./mail"].items[luid])
    assert _lf(obj.emailitem) == _lf(message(2)) and obj.truncated is None
    assert ("/Work/Projects", "message 2") in where(client)
