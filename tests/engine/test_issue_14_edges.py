"""Issue 14, fifth round, part "edges": a Map naming one GUID the server
never sent (a status per item, the known ones mapped); a refused Delete of a
folder the server keeps (sent back to the device); a folder the device adds
again under another LUID (mapped onto the one it holds); our client keeping
the items a server refused in a slow sync; the mail tree when IMAP is down."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from syncml_codec.engine import ClientSession, ClientStore, SyncServer
from syncml_codec.engine._mailtree import MAIL_TREE
from syncml_codec.formats.omads import FILE_CONTENT_TYPE, FOLDER_CONTENT_TYPE
from syncml_codec.mail import INBOX, ImapBackend, ImapPool, MailBackend, server_mail
from syncml_codec.model import Map, MapItem, Message, Source, Status, Target

from ..mail.conftest import imap_url
from ..mail.proxy import Relay
from .conftest import Clock, counter_random
from .helpers import device, sync, vcard
from .test_issue_14_hier import paths, server_paths
from .test_issue_14_mailds import EMI
from .test_issue_14_mailds import message as mail_message
from .test_issue_14_mailhier import backend, deliver, flags_in, store, where
from .test_issue_14_mailhier import phone as tree_phone
from .test_issue_14_mailops import PoolClock, pclock, relay

# (fixtures of the mailhier and mailops tests, used here too: the store over SQLite and PostgreSQL)
__all__ = ["backend", "pclock", "relay", "store"]

Rewrite = Callable[[Message], Message]
FILE, FOLDER = FILE_CONTENT_TYPE, FOLDER_CONTENT_TYPE


def folder(name: str) -> bytes:
    return f"<Folder><name>{name}</name></Folder>".encode()


def file(name: str, body: str = "") -> bytes:
    return f"<File><name>{name}</name><body>{body or name}</body></File>".encode()


def run(server: SyncServer, client: ClientStore, *, encoding: str = "xml", rewrite: Rewrite | None = None,
        answers: list[Message] | None = None) -> ClientSession:
    """:func:`.helpers.sync` with the client's messages passed through
    ``rewrite`` (as a recorded client would have sent them) and the server's
    answers kept in ``answers``."""
    session = ClientSession(client, url=server.base_url, user="test", password="secret", encoding=encoding,
                            clock=Clock())
    request = session.start()
    for _ in range(40):
        sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
        body = request.body
        if rewrite is not None:
            body = rewrite(Message.from_bytes(body, request.content_type)).to_bytes(encoding)
        response = server.handle(body, request.content_type, sid)
        assert response.http_status == 200
        if answers is not None:
            answers.append(Message.from_bytes(response.body, response.content_type))
        request = session.receive(response.body, response.content_type)  # type: ignore[assignment]
        if request is None:
            return session
    raise AssertionError("the session did not end")


def map_statuses(answers: list[Message]) -> list[Status]:
    return [c for m in answers for c in m.commands if isinstance(c, Status) and c.cmd == "Map"]


# -- 1. a Map with one unknown GUID ------------------------------------------------------------------------

def with_foreign_items(msg: Message) -> Message:
    """The client's Map with two more items, as Funambol's mail client sends
    them: its folders ``I`` and ``O`` mapped to the GUIDs another server gave
    them (``ROOT/I``, ``ROOT/O``)."""
    commands = []
    for cmd in msg.commands:
        if isinstance(cmd, Map):
            extra = (MapItem(target=Target(loc_uri="ROOT/I"), source=Source(loc_uri="I")),
                     MapItem(target=Target(loc_uri="ROOT/O"), source=Source(loc_uri="O")))
            cmd = dataclasses.replace(cmd, map_items=(*cmd.map_items[:1], *extra, *cmd.map_items[1:]))
        commands.append(cmd)
    return msg.replace(body=dataclasses.replace(msg.body, commands=tuple(commands)))


@pytest.mark.parametrize("encoding", ["xml", "wbxml"])
def test_issue_14_edges_map_with_unknown_guids(server: SyncServer, store: object, encoding: str,
                                               caplog: pytest.LogCaptureFixture) -> None:
    """The known items are mapped (200 each), the unknown ones get 404 each,
    named by TargetRef (the GUID) and SourceRef (the LUID), with a WARNING;
    the next session sends nothing again."""
    first = device("one")
    for n in range(2):
        first.datastores["./addressbook"].add(vcard(n))
    assert sync(server, first).ok
    phone = device("two")
    answers: list[Message] = []
    caplog.set_level(logging.WARNING, "syncml_codec.engine")
    session = run(server, phone, encoding=encoding, rewrite=with_foreign_items, answers=answers)
    assert session.ok
    statuses = map_statuses(answers)
    held = phone.datastores["./addressbook"]
    assert len(held.items) == 2 and not held.unmapped
    by_guid = {s.target_refs[0]: (s.code, s.source_refs[0]) for s in statuses}
    assert len(statuses) == 4 and by_guid["ROOT/I"] == (404, "I") and by_guid["ROOT/O"] == (404, "O")
    assert sorted(code for code, _luid in by_guid.values()) == [200, 200, 404, 404]
    assert {luid for code, luid in by_guid.values() if code == 200} == set(held.items)
    assert sum("Map item" in r.getMessage() and "ROOT/I" in r.getMessage() for r in caplog.records) == 1
    # the mapped items are the device's: nothing goes to it again
    again = sync(server, phone)
    assert again.ok and not again.reports["./addressbook"].received


def test_issue_14_edges_map_all_alike_one_status(server: SyncServer) -> None:
    """A Map whose items all fare alike keeps one Status (naming the datastores, as before)."""
    source = device("src")
    source.datastores["./addressbook"].add(vcard(1))
    assert sync(server, source).ok
    answers: list[Message] = []
    assert run(server, device("all-known"), answers=answers).ok
    (status,) = map_statuses(answers)
    assert status.code == 200 and status.target_refs == ("addressbook",)

    def only_foreign(msg: Message) -> Message:
        commands = [dataclasses.replace(c, map_items=(MapItem(target=Target(loc_uri="ROOT/I"),
                                                             source=Source(loc_uri="I")),))
                    if isinstance(c, Map) else c for c in msg.commands]
        return msg.replace(body=dataclasses.replace(msg.body, commands=tuple(commands)))

    answers = []
    run(server, device("none-known"), rewrite=only_foreign, answers=answers)
    (status,) = map_statuses(answers)
    assert status.code == 404 and status.target_refs == ("addressbook",)


# -- 3. our client keeps what the server refused in a slow sync --------------------------------------------

def files_phone(name: str) -> ClientStore:
    client = ClientStore(f"test-{name}")
    client.add_datastore("./files", "files", FILE, "1.2", hierarchical=True)
    return client


def test_issue_14_edges_client_resends_what_a_slow_sync_refused(server: SyncServer, store: Any,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A first (slow) sync whose items the server partly refuses (420: the tree is full): the
    refused ones stay the client's changes and go again, and are stored once there is room; the
    accepted ones are not sent again."""
    from syncml_codec.engine import _tree

    monkeypatch.setattr(_tree, "MAX_TREE_ITEMS", 2)
    phone = files_phone("slow")
    ds = phone.datastores["./files"]
    top = ds.add(folder("top"))
    for n in range(3):
        ds.add(file(f"{n}.txt"), top)
    first = run(server, phone)
    assert first.reports["./files"].requested == 201 and sorted(first.reports["./files"].statuses) == [
        201, 201, 420, 420]
    assert len(store.items("test", "Files")) == 2 and len(ds.changes) == 2
    monkeypatch.setattr(_tree, "MAX_TREE_ITEMS", 100)
    second = run(server, phone)
    assert second.reports["./files"].requested == 200
    assert second.reports["./files"].sent == {"Add": 2} and second.reports["./files"].statuses == [201, 201]
    assert len(store.items("test", "Files")) == 4 and not ds.changes
    assert not run(server, phone).reports["./files"].sent


# -- 4. the mail tree when IMAP is down --------------------------------------------------------------------

@pytest.fixture
def mail_pool(store: Any, relay: Relay, pclock: PoolClock) -> Iterator[ImapPool]:
    """``syncml serve --imap``'s pool, its IMAP server behind a relay the test stops."""
    store.set_mail_imap("test", relay.url)
    made = server_mail(store.mail_imap, None, imap=True)
    assert isinstance(made, ImapPool)
    made._clock = pclock
    try:
        yield made
    finally:
        made.close()


def test_issue_14_edges_mail_tree_answers_503_when_imap_is_down(store: Any, mail_pool: ImapPool, relay: Relay,
                                                                pclock: PoolClock,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    """A hierarchical client alerting Mail (the folder tree) while IMAP is down gets 503 like a
    flat one, its Contacts sync, and its pending change arrives once the server is back."""
    server = SyncServer(store, clock=Clock(), random_source=counter_random(),
                        base_url="http://127.0.0.1:8080/sync", mail=mail_pool)
    box = ImapBackend.from_url(imap_url())
    try:
        box.create_folder("Work")
        box.add(INBOX, mail_message(1))
        phone = ClientStore("test-tree-down")
        phone.add_datastore("./mail", "Mail", EMI, "1.2", hierarchical=True)
        phone.add_datastore("./addressbook", "addressbook", "text/vcard", "3.0")
        assert sync(server, phone).ok
        mail = phone.datastores["./mail"]
        assert len(mail.items) == 3  # INBOX, Work, the message
        refs = store.items("test", MAIL_TREE)
        relay.stop()
        work = next(luid for luid, data in mail.items.items() if b"<name>Work</name>" in data)
        mail.update(work, folder("Projects"))  # a rename, kept on the device while the server is down
        phone.datastores["./addressbook"].add(vcard(1))
        caplog.set_level(logging.WARNING, "syncml_codec")
        session = sync(server, phone)
        assert session.reports["./mail"].alert_status == 503
        assert session.reports["./addressbook"].alert_status in (200, 201)
        assert len(store.items("test", "Contacts")) == 1 and store.items("test", MAIL_TREE) == refs
        assert any("Mail// of user" in r.getMessage() and "unavailable" in r.getMessage() for r in caplog.records)
        relay.start()
        pclock.now += 60
        session = sync(server, phone)
        assert session.ok and session.reports["./mail"].alert_status == 200
        assert sorted(f.name for f in box.folders()) == ["INBOX", "Projects"]
    finally:
        box.close()


# -- 2. a refused Delete: what the device dropped goes back to it ------------------------------------------

def test_issue_14_edges_deleted_inbox_is_sent_back(store: Any, backend: MailBackend,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    """A device deletes the inbox (the folder alone, its messages implied): 400 and a WARNING,
    the mail storage unchanged, and the inbox with its message comes back to the device in the
    same session (as new items: the device dropped its LUIDs); a later sync moves nothing."""
    server = SyncServer(store, clock=Clock(), random_source=counter_random(),
                        base_url="http://127.0.0.1:8080/sync", mail=lambda user: backend)
    backend.create_folder("Work")
    deliver(backend, 1)
    deliver(backend, 2, "Work")
    client = tree_phone("inbox")
    assert sync(server, client).ok
    ds = client.datastores["./mail"]
    before = where(client)
    inbox = before["/INBOX"]
    ds.delete(inbox)
    for inner in [luid for luid, kind in ds.changes.items() if luid != inbox]:
        del ds.changes[inner]  # (a device that sends the folder's Delete alone)
    caplog.set_level(logging.WARNING, "syncml_codec.engine")
    session = sync(server, client)
    report = session.reports["./mail"]
    assert session.ok and report.statuses == [400] and report.received == {"Add": 2}
    after = where(client)
    assert set(after) == set(before) and after["/INBOX"] != inbox
    assert flags_in(backend) == {"INBOX": [frozenset()], "Work": [frozenset()]}
    assert any("sent back to the device" in r.getMessage() for r in caplog.records)
    # our client kept its refused Delete as a change: sent again, it names a LUID the server has
    # let go of (211, nothing deleted), and then nothing moves
    again = sync(server, client)
    assert again.ok and again.reports["./mail"].statuses == [211] and not again.reports["./mail"].received
    assert flags_in(backend) == {"INBOX": [frozenset()], "Work": [frozenset()]} and where(client) == after
    again = sync(server, client)
    assert again.ok and not again.reports["./mail"].received and not again.reports["./mail"].sent
    # another device sees the same tree
    other = tree_phone("other")
    assert sync(server, other).ok and set(where(other)) == set(after)


# -- 2. a folder the device adds again under another LUID --------------------------------------------------

def test_issue_14_edges_folder_added_again_in_files(server: SyncServer, store: Any) -> None:
    """A device holding /Work adds another /Work with a file in it: the server keeps one folder
    (the file goes into it), the device is told to drop the folder it added and gets the file
    again in the one it had; another device that adds /Work too gets it mapped onto the same one."""
    phone = files_phone("again")
    ds = phone.datastores["./files"]
    work = ds.add(folder("Work"))
    ds.add(file("a.txt"), work)
    assert run(server, phone).ok
    again = ds.add(folder("Work"))
    ds.add(file("b.txt"), again)
    session = run(server, phone)
    report = session.reports["./files"]
    assert session.ok and report.statuses == [201, 201] and report.received == {"Delete": 1, "Add": 1}
    assert server_paths(store) == ["/Work", "/Work/a.txt", "/Work/b.txt"] == paths(phone)
    assert again not in ds.items and work in ds.items
    follow = run(server, phone)
    assert follow.ok and not follow.reports["./files"].received and not follow.reports["./files"].sent
    # a second device creating the same folder before it got it: mapped onto it, no duplicate
    other = files_phone("other")
    mine = other.datastores["./files"].add(folder("Work"))
    other.datastores["./files"].add(file("c.txt"), mine)
    assert run(server, other).ok
    assert server_paths(store) == ["/Work", "/Work/a.txt", "/Work/b.txt", "/Work/c.txt"] == paths(other)
    assert run(server, phone).ok and paths(phone) == server_paths(store)


def test_issue_14_edges_folder_added_again_in_the_mail_tree(store: Any, backend: MailBackend) -> None:
    """The same on the mail tree: a device holding Work adds Work again and moves a message into
    it: one folder Work in the mail storage, holding the message, and one on the device."""
    server = SyncServer(store, clock=Clock(), random_source=counter_random(),
                        base_url="http://127.0.0.1:8080/sync", mail=lambda user: backend)
    backend.create_folder("Work")
    deliver(backend, 1)
    deliver(backend, 2, "Work")
    client = tree_phone("again")
    assert sync(server, client).ok
    ds = client.datastores["./mail"]
    before = where(client)
    again = ds.add(folder("Work"))
    ds.move(before["/INBOX", "message 1"], again)
    session = sync(server, client)
    assert session.ok and sorted(session.reports["./mail"].statuses) == [200, 201]
    assert flags_in(backend) == {"INBOX": [], "Work": [frozenset(), frozenset()]}
    after = where(client)
    assert set(after) == {"/INBOX", "/Work", ("/Work", "message 1"), ("/Work", "message 2")}
    assert after["/Work"] == before["/Work"] and after["/Work", "message 2"] == before["/Work", "message 2"]
    follow = sync(server, client)
    assert follow.ok and not follow.reports["./mail"].received and not follow.reports["./mail"].sent
