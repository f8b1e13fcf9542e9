"""Issue 15, part "atomic": Atomic (all or nothing, 507 with the inner
statuses), Sequence, Copy within a datastore, changes outside a Sync, and
Delete's SftDel (211/423) and Archive (210) flags, with our client session
sending them, over SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from syncml_codec.engine import ClientSession, ClientStore, SyncServer
from syncml_codec.engine._session import MAX_ATOMICS
from syncml_codec.mail import MaildirBackend, account_maildir
from syncml_codec.model import Atomic, Command, Copy, Item, Message, Source, Status, StatusCode, Sync

from .conftest import Clock, counter_random
from .helpers import ab, device, vcard
from .test_issue_14_mailds import message
from .test_issue_14_mailds import phone as mail_phone

Rewrite = Callable[[Message], Message]
BOOK = "./addressbook"


@pytest.fixture
def server(both_stores: Any) -> SyncServer:
    return SyncServer(both_stores, clock=Clock(), random_source=counter_random(),
                      base_url="http://127.0.0.1:8080/sync")


def run(server: SyncServer, client: ClientStore, *, wrap: str = "", rewrite: Rewrite | None = None,
        answers: list[Message] | None = None, uri: str = BOOK) -> ClientSession:
    """A session of ``client`` (its package 3 carried as ``wrap`` says; its
    messages passed through ``rewrite``), the server's answers kept."""
    session = ClientSession(client, url=server.base_url, user="test", password="secret", encoding="xml",
                            clock=Clock(), wrap={uri: wrap} if wrap else None)
    request = session.start()
    for _ in range(40):
        sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
        body = request.body
        if rewrite is not None:
            body = rewrite(Message.from_bytes(body, request.content_type)).to_bytes("xml")
        response = server.handle(body, request.content_type, sid)
        assert response.http_status == 200
        if answers is not None:
            answers.append(Message.from_bytes(response.body, response.content_type))
        next_request = session.receive(response.body, response.content_type)
        if next_request is None:
            return session
        request = next_request
    raise AssertionError("the session did not end")


def statuses(answers: list[Message], *cmds: str) -> list[tuple[str, int]]:
    return [(c.cmd, int(c.code or 0)) for m in answers for c in m.commands
            if isinstance(c, Status) and (not cmds or c.cmd in cmds)]


def stored(server: SyncServer) -> list[bytes]:
    return sorted(i.data for i in server.store.items("test", "Contacts"))


def synced_phone(server: SyncServer, n: int = 2) -> ClientStore:
    phone = device("phone")
    for k in range(n):
        phone.datastores[BOOK].add(vcard(k))
    assert run(server, phone).ok
    return phone


def copy_of_unknown(msg: Message) -> Message:
    """The client's Atomic (or its Sync) with one more change: a Copy of a LUID nobody knows (404)."""
    bad = Copy(cmd_id="99", items=(Item(source=Source(loc_uri="no-such-luid")),))

    def add_bad(cmd: Command) -> Command:
        if isinstance(cmd, Atomic):
            return dataclasses.replace(cmd, commands=tuple(add_bad(c) for c in cmd.commands))
        if isinstance(cmd, Sync) and cmd.commands:
            inner = cmd.commands[0]
            if isinstance(inner, Atomic):  # (the Atomic within the Sync)
                return dataclasses.replace(cmd, commands=(dataclasses.replace(inner, commands=(*inner.commands, bad)),))
            return dataclasses.replace(cmd, commands=(*cmd.commands, bad))
        return cmd

    return msg.replace(body=dataclasses.replace(msg.body, commands=tuple(add_bad(c) for c in msg.commands)))


# -- Atomic ----------------------------------------------------------------------------------------------

def test_issue_15_atomic_all_succeed(server: SyncServer) -> None:
    phone = synced_phone(server)
    book = phone.datastores[BOOK]
    book.add(vcard(10))
    book.update("0", vcard(0, note="changed"))
    answers: list[Message] = []
    session = run(server, phone, wrap="atomic", answers=answers)
    assert session.ok
    got = statuses(answers, "Atomic", "Sync", "Add", "Replace")
    assert got[0] == ("Atomic", 200)  # (its Status first, then its commands')
    assert sorted(got[1:]) == [("Add", 201), ("Replace", 200), ("Sync", 200)]
    assert stored(server) == sorted([vcard(0, note="changed"), vcard(1), vcard(10)])
    assert not book.changes


@pytest.mark.parametrize("wrap", ["atomic", "atomic-in-sync"])
def test_issue_15_atomic_fails_whole(server: SyncServer, wrap: str) -> None:
    phone = synced_phone(server)
    book = phone.datastores[BOOK]
    before = stored(server)
    book.add(vcard(10))
    book.update("0", vcard(0, note="changed"))
    book.delete("1")
    answers: list[Message] = []
    session = run(server, phone, wrap=wrap, rewrite=copy_of_unknown, answers=answers)
    got = statuses(answers, "Atomic", "Add", "Replace", "Delete", "Copy")
    assert got[0] == ("Atomic", StatusCode.ATOMIC_FAILED)
    undone = StatusCode.ATOMIC_ROLLBACK_OK
    assert sorted(got[1:]) == sorted([("Add", undone), ("Replace", undone), ("Delete", undone),
                                      ("Copy", StatusCode.NOT_FOUND)])
    assert stored(server) == before  # nothing of it stayed
    detail = server.store.sessions("test", last=1)[0].detail  # (nor in the session's counts: its state put back)
    assert "added=" not in detail and "replaced=" not in detail and "deleted=" not in detail, detail
    assert session.reports[BOOK].refused == {"0", "1", "2"}
    assert set(book.changes) == {"0", "1", "2"}  # the client keeps them for the next session
    # and the next session (without the bad Copy) carries them out, no duplicates on either side
    assert run(server, phone, wrap=wrap).ok
    assert stored(server) == sorted([vcard(0, note="changed"), vcard(10)])
    assert sorted(ab(phone).values()) == stored(server)


def test_issue_15_atomic_failed_leaves_no_map_nor_item_for_another_device(server: SyncServer) -> None:
    phone = synced_phone(server, 1)
    phone.datastores[BOOK].add(vcard(20))
    assert run(server, phone, wrap="atomic", rewrite=copy_of_unknown).reports[BOOK].refused == {"1"}
    other = device("other")
    assert run(server, other).ok
    assert sorted(ab(other).values()) == [vcard(0)]


def test_issue_15_atomics_per_message_bounded(server: SyncServer) -> None:
    phone = synced_phone(server, 1)
    phone.datastores[BOOK].add(vcard(5))

    def many(msg: Message) -> Message:
        if not any(isinstance(c, Sync) for c in msg.commands):
            return msg
        extra = tuple(Atomic(cmd_id=str(100 + k), commands=()) for k in range(MAX_ATOMICS + 1))
        return msg.replace(body=dataclasses.replace(msg.body, commands=(*msg.commands, *extra)))

    answers: list[Message] = []
    assert run(server, phone, rewrite=many, answers=answers).ok
    codes = [code for _cmd, code in statuses(answers, "Atomic")]
    assert codes == [200] * MAX_ATOMICS + [StatusCode.COMMAND_NOT_ALLOWED]


def test_issue_15_atomic_with_a_chunk_refused_unexecuted(server: SyncServer) -> None:
    phone = synced_phone(server, 1)
    phone.datastores[BOOK].add(vcard(5))

    def chunked(msg: Message) -> Message:
        commands = []
        for cmd in msg.commands:
            if isinstance(cmd, Atomic):
                sync = cmd.commands[0]
                assert isinstance(sync, Sync)
                add = sync.commands[0]
                items = tuple(dataclasses.replace(i, more_data=True) for i in getattr(add, "items", ()))
                cmd = dataclasses.replace(cmd, commands=(dataclasses.replace(
                    sync, commands=(dataclasses.replace(add, items=items),)),))  # type: ignore[type-var]
            commands.append(cmd)
        return msg.replace(body=dataclasses.replace(msg.body, commands=tuple(commands)))

    answers: list[Message] = []
    run(server, phone, wrap="atomic", rewrite=chunked, answers=answers)
    got = statuses(answers, "Atomic", "Sync", "Add")
    assert got == [("Atomic", StatusCode.BAD_REQUEST), ("Sync", StatusCode.NOT_EXECUTED),
                   ("Add", StatusCode.NOT_EXECUTED)]
    assert stored(server) == [vcard(0)]


def test_issue_15_atomic_writing_to_mail_refused_unexecuted(both_stores: Any, tmp_path: Any) -> None:
    root = tmp_path / "mail"
    server = SyncServer(both_stores, clock=Clock(), random_source=counter_random(),
                        base_url="http://127.0.0.1:8080/sync",
                        mail=lambda user: MaildirBackend(account_maildir(root, user)))
    client = mail_phone("mailer")
    assert run(server, client).ok
    client.datastores["./mail"].add(message(1))
    answers: list[Message] = []
    run(server, client, wrap="atomic", uri="./mail", answers=answers)
    got = statuses(answers, "Atomic", "Sync", "Add")
    assert got == [("Atomic", StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED), ("Sync", StatusCode.NOT_EXECUTED),
                   ("Add", StatusCode.NOT_EXECUTED)]
    def held() -> int:  # messages in the account's Maildir
        return sum(1 for f in root.rglob("*") if f.is_file() and f.parent.name in ("cur", "new"))

    assert held() == 0
    assert run(server, client).ok  # without the Atomic it goes through
    assert held() == 1


# -- Sequence, Copy, outside a Sync ---------------------------------------------------------------------

def test_issue_15_sequence_in_order(server: SyncServer) -> None:
    phone = synced_phone(server, 1)
    book = phone.datastores[BOOK]
    book.add(vcard(7))
    book.update("0", vcard(0, note="x"))
    answers: list[Message] = []
    assert run(server, phone, wrap="sequence", answers=answers).ok
    got = statuses(answers, "Sequence", "Add", "Replace")
    assert got[0] == ("Sequence", 200)
    assert sorted(got[1:]) == [("Add", 201), ("Replace", 200)]
    assert stored(server) == sorted([vcard(0, note="x"), vcard(7)])


@pytest.mark.parametrize("changed", [False, True])
def test_issue_15_copy_within_the_datastore(server: SyncServer, changed: bool) -> None:
    phone = synced_phone(server, 1)
    copy = vcard(0, note="copy") if changed else vcard(0)
    phone.datastores[BOOK].copy("0", copy if changed else None)
    answers: list[Message] = []
    session = run(server, phone, answers=answers)
    assert session.ok
    assert statuses(answers, "Copy") == [("Copy", StatusCode.ITEM_ADDED)]
    assert stored(server) == sorted([vcard(0), copy])
    assert sorted(ab(phone).values()) == stored(server)  # (the copy came back as an Add, and was mapped)
    assert not phone.datastores[BOOK].copies
    assert run(server, phone).ok  # nothing more on either side
    assert sorted(ab(phone).values()) == stored(server)
    other = device("other")
    assert run(server, other).ok
    assert sorted(ab(other).values()) == stored(server)


def test_issue_15_copy_of_unknown_is_404(server: SyncServer) -> None:
    synced_phone(server, 1)
    phone2 = synced_phone(server, 0)
    answers: list[Message] = []
    run(server, phone2, rewrite=copy_of_unknown, answers=answers)
    assert statuses(answers, "Copy") == []  # (no Sync with changes to add it to: nothing sent)
    phone2.datastores[BOOK].add(vcard(3))
    run(server, phone2, rewrite=copy_of_unknown, answers=answers)
    assert ("Copy", StatusCode.NOT_FOUND) in statuses(answers, "Copy")


def test_issue_15_changes_outside_a_sync(server: SyncServer) -> None:
    phone = synced_phone(server, 2)
    book = phone.datastores[BOOK]
    book.add(vcard(30))
    book.update("0", vcard(0, note="outside"))
    book.delete("1")
    answers: list[Message] = []
    assert run(server, phone, wrap="outside", answers=answers).ok
    assert sorted(statuses(answers, "Add", "Replace", "Delete")) == [("Add", 201), ("Delete", 200), ("Replace", 200)]
    assert stored(server) == sorted([vcard(0, note="outside"), vcard(30)])
    assert not book.changes
    assert run(server, phone).ok
    assert sorted(ab(phone).values()) == stored(server)


# -- SftDel and Archive ----------------------------------------------------------------------------------

def test_issue_15_soft_delete_keeps_the_item_on_the_server(server: SyncServer) -> None:
    phone = synced_phone(server, 2)
    phone.datastores[BOOK].soft_delete("1")
    answers: list[Message] = []
    assert run(server, phone, answers=answers).ok
    assert statuses(answers, "Delete") == [("Delete", 200)]
    assert stored(server) == [vcard(0), vcard(1)]  # kept
    assert sorted(ab(phone).values()) == [vcard(0)]
    assert run(server, phone).ok  # not sent back while unchanged
    assert sorted(ab(phone).values()) == [vcard(0)]
    other = device("other")
    assert run(server, other).ok  # the other devices keep it
    assert sorted(ab(other).values()) == [vcard(0), vcard(1)]
    luid = next(k for k, v in ab(other).items() if v == vcard(1))
    other.datastores[BOOK].update(luid, vcard(1, note="new"))
    assert run(server, other).ok
    assert run(server, phone).ok  # changed on the server: the device gets it again, as an Add
    assert sorted(ab(phone).values()) == [vcard(0), vcard(1, note="new")]
    assert run(server, phone).ok
    assert sorted(ab(phone).values()) == [vcard(0), vcard(1, note="new")]


def test_issue_15_soft_delete_of_an_item_deleted_on_the_server_is_423(server: SyncServer) -> None:
    phone = synced_phone(server, 2)
    other = device("other")
    assert run(server, other).ok
    other.datastores[BOOK].delete(next(k for k, v in ab(other).items() if v == vcard(1)))
    assert run(server, other).ok
    phone.datastores[BOOK].soft_delete("1")
    answers: list[Message] = []
    assert run(server, phone, answers=answers).ok
    assert statuses(answers, "Delete") == [("Delete", StatusCode.SOFT_DELETE_CONFLICT)]
    assert stored(server) == [vcard(0)]
    assert sorted(ab(phone).values()) == [vcard(0)]


def test_issue_15_soft_delete_of_an_unknown_item_is_211(server: SyncServer) -> None:
    phone = synced_phone(server, 1)
    book = phone.datastores[BOOK]
    luid = book.add(vcard(9))
    book.changes.pop(luid)  # (never sent: the server does not know it)
    book.soft_delete(luid)
    answers: list[Message] = []
    assert run(server, phone, answers=answers).ok
    assert statuses(answers, "Delete") == [("Delete", StatusCode.ITEM_NOT_DELETED)]


def test_issue_15_archive_is_answered_delete_without_archive(server: SyncServer) -> None:
    phone = synced_phone(server, 2)
    phone.datastores[BOOK].delete("0", archive=True)
    answers: list[Message] = []
    assert run(server, phone, answers=answers).ok
    assert statuses(answers, "Delete") == [("Delete", StatusCode.DELETE_WITHOUT_ARCHIVE)]
    assert stored(server) == [vcard(1)]


def test_issue_15_slow_sync_sends_soft_deleted_items_again(server: SyncServer) -> None:
    phone = synced_phone(server, 2)
    phone.datastores[BOOK].soft_delete("0")
    assert run(server, phone).ok
    assert server.store.soft_deleted(server.store.device("test", phone.device_id), "Contacts")
    phone.datastores[BOOK].last_anchor = None  # (a slow sync: the device is given everything)
    assert run(server, phone).ok
    assert sorted(ab(phone).values()) == [vcard(0), vcard(1)]
    assert server.store.soft_deleted(server.store.device("test", phone.device_id), "Contacts") == {}


def test_issue_15_nested_atomic_fails_the_outer_one(server: SyncServer) -> None:
    phone = synced_phone(server, 1)
    phone.datastores[BOOK].add(vcard(40))

    def nest(msg: Message) -> Message:  # Atomic { Sync { Atomic { Add, Copy of nothing } } }
        commands: list[Command] = []
        for cmd in msg.commands:
            if isinstance(cmd, Atomic):
                sync = cmd.commands[0]
                assert isinstance(sync, Sync)
                bad = Copy(cmd_id="98", items=(Item(source=Source(loc_uri="nothing")),))
                inner = Atomic(cmd_id="97", commands=(*sync.commands, bad))
                cmd = dataclasses.replace(cmd, commands=(dataclasses.replace(sync, commands=(inner,)),))
            commands.append(cmd)
        return msg.replace(body=dataclasses.replace(msg.body, commands=tuple(commands)))

    answers: list[Message] = []
    run(server, phone, wrap="atomic", rewrite=nest, answers=answers)
    got = statuses(answers, "Atomic", "Sync", "Add", "Copy")
    assert got == [("Atomic", StatusCode.ATOMIC_FAILED), ("Sync", StatusCode.ATOMIC_ROLLBACK_OK),
                   ("Atomic", StatusCode.ATOMIC_FAILED), ("Add", StatusCode.ATOMIC_ROLLBACK_OK),
                   ("Copy", StatusCode.NOT_FOUND)]
    assert stored(server) == [vcard(0)]
    assert run(server, phone).ok  # the Add goes through on its own
    assert stored(server) == [vcard(0), vcard(40)]
