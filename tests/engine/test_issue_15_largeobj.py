"""Issue 15 (largeobj), engine side, with our client session: large objects
checked as OMA DS 1.2 says (424 when the chunks add up to another size than
the first chunk's Size; Alert 223 for an object whose last chunk never
comes), the server's MaxObjSize announced in the Meta of its Alerts besides
its SyncHdr, an item over the client's MaxObjSize never sent and counted in
the session log, NumberOfChanges sent and checked.  Both stores where the
store is involved (the chunks wait in it)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from syncml_codec.engine import ClientSession, ClientStore, ServerLimits, SyncServer
from syncml_codec.model import Add, Alert, Message, Replace, Status, StatusCode, Sync

from .conftest import Clock, counter_random
from .helpers import ab, device, sync, vcard

MSG = 20_000
BIG = vcard(1, "long " * 20_000)  # about 100 KB: some six chunks of MSG
SMALL = vcard(2, "small")

Tamper = Callable[[Message], Message | None]


def new_server(store: Any, **limits: Any) -> SyncServer:
    return SyncServer(store, clock=Clock(), random_source=counter_random(), base_url="http://127.0.0.1:8080/sync",
                      max_msg_size=MSG, limits=ServerLimits(**limits))


def drive(server: SyncServer, client: ClientStore, tamper: Tamper) -> list[Message]:
    """A session of ``client`` whose messages go through ``tamper`` on their
    way (None: stop before sending it); the server's answers."""
    session = ClientSession(client, url=server.base_url, user="test", password="secret", clock=Clock(),
                            encoding="xml", max_msg_size=MSG, max_obj_size=4_000_000)
    request = session.start()
    answers: list[Message] = []
    for _ in range(100):
        msg = tamper(Message.from_bytes(request.body))
        if msg is None:
            return answers
        sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
        response = server.handle(msg.to_bytes("xml"), "application/vnd.syncml+xml", sid)
        assert response.http_status == 200
        answers.append(Message.from_bytes(response.body))
        try:
            nxt = session.receive(response.body, response.content_type)
        except Exception:  # (a tampered session may confuse our client: the server's answers are what counts)
            return answers
        if nxt is None:
            return answers
        request = nxt
    raise AssertionError("the session did not end")


Change = Add | Replace  # (our client sends its items in a slow sync as Replaces)


def adds(msg: Message) -> list[Change]:
    return [c for s in msg.commands if isinstance(s, Sync) for c in s.commands if isinstance(c, (Add, Replace))]


def with_adds(msg: Message, change: Callable[[Change], Change | None], *, final: bool | None = None) -> Message:
    """``msg`` with each Add or Replace of its Syncs changed (None: left out)."""
    commands = []
    for cmd in msg.commands:
        if isinstance(cmd, Sync):
            inner = [change(c) if isinstance(c, (Add, Replace)) else c for c in cmd.commands]
            cmd = dataclasses.replace(cmd, commands=tuple(c for c in inner if c is not None))
        commands.append(cmd)
    assert msg.body is not None
    out = msg.replace(body=dataclasses.replace(msg.body, commands=tuple(commands)))
    assert out.body is not None
    return out if final is None else out.replace(body=dataclasses.replace(out.body, final=final))


def statuses(answers: list[Message]) -> list[int]:
    return [int(c.data) for m in answers for c in m.commands if isinstance(c, Status) and c.cmd in ("Add", "Replace")]


def alerts(answers: list[Message], code: int) -> list[Alert]:
    return [c for m in answers for c in m.commands if isinstance(c, Alert) and c.code == code]


def chunk_tamper(last: Callable[[Message, Change], Message | None],
                 first: Callable[[Change], Change] | None = None) -> Tamper:
    """Changes the first chunk of the large object (``first``) and the
    message with its last chunk (``last``)."""
    seen: set[str] = set()

    def tamper(msg: Message) -> Message | None:
        for add in adds(msg):
            item = add.items[0]
            luid = item.source.loc_uri if item.source else ""
            if item.more_data and luid not in seen:
                seen.add(luid)
                if first is not None:
                    return with_adds(msg, lambda a, add=add: first(a) if a is add else a)  # type: ignore[misc]
            elif not item.more_data and luid in seen:
                return last(msg, add)
        return msg

    return tamper


def test_issue_15_chunks_adding_up_to_another_size_get_424(both_stores: Any) -> None:
    """The first chunk's Size says 10 bytes more than the chunks bring: the
    last chunk is answered 424 and nothing of the object is stored (the small
    contact next to it is)."""
    server = new_server(both_stores)
    client = device("a")
    client.datastores["./addressbook"].add(BIG)
    client.datastores["./addressbook"].add(SMALL)

    def grow(add: Change) -> Change:
        item = add.items[0]
        assert item.meta is not None and item.meta.size is not None
        meta = dataclasses.replace(item.meta, size=str(int(item.meta.size) + 10))
        return dataclasses.replace(add, items=(dataclasses.replace(item, meta=meta, _layout=None),))

    answers = drive(server, client, chunk_tamper(lambda msg, add: msg, first=grow))
    codes = statuses(answers)
    assert StatusCode.SIZE_MISMATCH in codes and StatusCode.CHUNKED_ITEM_ACCEPTED in codes
    assert [i.data for i in both_stores.items("test", "Contacts")] == [SMALL]


def test_issue_15_the_right_size_is_stored() -> None:
    """The same object untouched goes through whole (the check is on the bytes
    as sent: text items as their UTF-8)."""
    from syncml_codec.store import SQLiteStore

    store = SQLiteStore(":memory:")
    store.add_user("test", "secret")
    server = new_server(store)
    client = device("a")
    big = vcard(1, "gr\u00fc\u00dfe " * 16_000)  # multi-byte characters across chunk edges
    client.datastores["./addressbook"].add(big)
    answers = drive(server, client, lambda msg: msg)
    assert StatusCode.SIZE_MISMATCH not in statuses(answers)
    assert [i.data for i in store.items("test", "Contacts")] == [big]


def test_issue_15_an_object_left_without_its_last_chunk_gets_alert_223(both_stores: Any) -> None:
    """The client ends its package where the object's last chunk should have
    come: the server answers Alert 223 naming the object, stores nothing of
    it and keeps no chunk of it."""
    server = new_server(both_stores)
    client = device("a")
    client.datastores["./addressbook"].add(BIG)
    luids: list[str] = []

    def cut(msg: Message, add: Change) -> Message:
        item = add.items[0]
        luids.append(item.source.loc_uri if item.source and item.source.loc_uri else "")
        return with_adds(msg, lambda a: None if a is add else a, final=True)

    answers = drive(server, client, chunk_tamper(cut))
    found = alerts(answers, 223)
    assert len(found) == 1 and found[0].items[0].target is not None
    assert found[0].items[0].target.loc_uri == luids[0]
    assert found[0].items[0].source is not None and found[0].items[0].source.loc_uri == "addressbook"
    assert both_stores.items("test", "Contacts") == []
    assert int(both_stores._all("SELECT count(*) FROM session_chunks")[0][0]) == 0


def test_issue_15_another_object_before_the_last_chunk_gets_alert_223(server: SyncServer) -> None:
    """Instead of the object's last chunk, a new object of the same datastore
    comes: Alert 223 for the abandoned one; the new one is stored."""
    client = device("a")
    client.datastores["./addressbook"].add(BIG)
    server.max_msg_size = MSG

    def other(msg: Message, add: Change) -> Message:
        def swap(a: Change) -> Change:
            if a is not add:
                return a
            item = a.items[0]
            assert item.source is not None
            return dataclasses.replace(a, items=(dataclasses.replace(
                item, source=dataclasses.replace(item.source, loc_uri="other"), data=SMALL.decode(), meta=None,
                _layout=None),))
        return with_adds(msg, swap)

    answers = drive(server, client, chunk_tamper(other))
    assert len(alerts(answers, 223)) == 1
    assert [i.data for i in server.store.items("test", "Contacts")] == [SMALL]


def test_issue_15_client_alert_223_is_acknowledged(server: SyncServer, caplog: pytest.LogCaptureFixture) -> None:
    """A client's Alert 223 (one of our objects came without its end) gets
    200 and a WARNING, not 406."""
    client = device("a")

    def with_223(msg: Message) -> Message:
        if msg.header.msg_id != "2":
            return msg
        alert = Alert(cmd_id="99", data="223", items=())
        assert msg.body is not None
        return msg.replace(body=dataclasses.replace(msg.body, commands=(*msg.body.commands, alert)))

    with caplog.at_level(logging.WARNING, logger="syncml_codec.engine"):
        answers = drive(server, client, with_223)
    assert [int(c.data) for m in answers for c in m.commands if isinstance(c, Status) and c.cmd_ref == "99"] == [200]
    assert "Alert 223" in caplog.text


def test_issue_15_our_max_obj_size_in_the_alert_and_the_header(make_server: Callable[..., SyncServer]) -> None:
    server = make_server(limits=ServerLimits(max_obj_size=123_456))
    answers = drive(server, device("a"), lambda msg: msg)
    package2 = answers[1]  # (after the challenge)
    assert package2.header.meta is not None and package2.header.meta.max_obj_size == "123456"
    alert = next(c for c in package2.commands if isinstance(c, Alert) and c.code == 201)
    assert alert.items[0].meta is not None and alert.items[0].meta.max_obj_size == "123456"
    assert alert.items[0].meta.anchor is not None  # (beside the anchors)


def test_issue_15_an_item_over_the_clients_max_obj_size_is_never_sent(server: SyncServer) -> None:
    """The server holds a 100 KB contact; a client announcing MaxObjSize
    50,000 does not get it (it stays pending) and the session log counts it;
    a client taking it later gets it."""
    server.store.add_item("test", "Contacts", BIG, "text/vcard")
    server.store.add_item("test", "Contacts", SMALL, "text/vcard")
    small = device("small")
    sync(server, small, max_obj_size=50_000)
    assert list(ab(small).values()) == [SMALL]
    record = server.store.sessions("test")[-1]
    assert "too-large=1" in record.detail
    sync(server, small, max_obj_size=4_000_000)
    assert sorted(ab(small).values()) == sorted([BIG, SMALL])


def test_issue_15_number_of_changes_sent_and_checked(server: SyncServer,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    """Our package 4 announces its changes; a client announcing 5 and sending
    2 is logged (WARNING and the session log), and what it sent is kept."""
    server.store.add_item("test", "Contacts", vcard(7), "text/vcard")
    client = device("a")
    client.datastores["./addressbook"].add(vcard(1))
    client.datastores["./addressbook"].add(vcard(2))

    def announce_5(msg: Message) -> Message:
        if not any(isinstance(c, Sync) for c in msg.commands):
            return msg
        assert msg.body is not None
        return msg.replace(body=dataclasses.replace(msg.body, commands=tuple(
            dataclasses.replace(c, number_of_changes="5") if isinstance(c, Sync) else c for c in msg.commands)))

    with caplog.at_level(logging.WARNING, logger="syncml_codec.engine"):
        answers = drive(server, client, announce_5)
    ours = [c for m in answers for c in m.commands if isinstance(c, Sync)]
    assert ours and ours[0].number_of_changes == "1"
    assert "announced 5 changes (NumberOfChanges) and sent 2" in caplog.text
    assert "noc-announced=5 noc-received=2" in server.store.sessions("test")[-1].detail
    assert len(server.store.items("test", "Contacts")) == 3


def test_issue_15_number_of_changes_that_match_log_nothing(server: SyncServer,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    client = device("a")
    client.datastores["./addressbook"].add(BIG)  # (in chunks: counted once)
    client.datastores["./addressbook"].add(SMALL)
    server.max_msg_size = MSG
    with caplog.at_level(logging.WARNING, logger="syncml_codec.engine"):
        drive(server, client, lambda msg: msg)
    assert "NumberOfChanges" not in caplog.text
    assert "noc-" not in server.store.sessions("test")[-1].detail
    assert len(server.store.items("test", "Contacts")) == 2


def test_issue_15_max_msg_size_is_a_limit(store: Any) -> None:
    """``ServerLimits.max_msg_size`` (``syncml serve --max-msg-size``) is what
    the server announces; an explicit ``max_msg_size`` still wins."""
    assert SyncServer(store, limits=ServerLimits(max_msg_size=5000)).max_msg_size == 5000
    assert SyncServer(store, limits=ServerLimits(max_msg_size=5000), max_msg_size=7000).max_msg_size == 7000
    assert SyncServer(store).max_msg_size == 1_000_000


# -- our client session: the same rules on its side ------------------------------------------------


def drive_answers(server: SyncServer, client: ClientStore, tamper: Tamper) -> tuple[ClientSession, list[Message]]:
    """A session of ``client`` whose answers from the server go through
    ``tamper`` on their way back; the client's messages as sent."""
    session = ClientSession(client, url=server.base_url, user="test", password="secret", clock=Clock(),
                            encoding="xml", max_msg_size=MSG, max_obj_size=4_000_000)
    request = session.start()
    sent: list[Message] = []
    for _ in range(100):
        sent.append(Message.from_bytes(request.body))
        sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
        response = server.handle(request.body, request.content_type, sid)
        answer = tamper(Message.from_bytes(response.body))
        assert answer is not None
        nxt = session.receive(answer.to_bytes("xml"), "application/vnd.syncml+xml")
        if nxt is None:
            return session, sent
        request = nxt
    raise AssertionError("the session did not end")


def test_issue_15_our_client_keeps_to_the_servers_max_obj_size(make_server: Callable[..., SyncServer]) -> None:
    """The server announces MaxObjSize 50,000: our client does not send its
    100 KB contact (no 413), keeps it as a change, and sends the small one."""
    server = make_server(limits=ServerLimits(max_obj_size=50_000))
    client = device("a")
    client.datastores["./addressbook"].add(BIG)
    client.datastores["./addressbook"].add(SMALL)
    session, _sent = drive_answers(server, client, lambda msg: msg)
    report = session.reports["./addressbook"]
    assert session.ok and len(report.too_large) == 1 and StatusCode.REQUEST_ENTITY_TOO_LARGE not in report.statuses
    assert [i.data for i in server.store.items("test", "Contacts")] == [SMALL]
    assert set(report.too_large) <= set(client.datastores["./addressbook"].changes)


def test_issue_15_our_client_answers_a_missing_last_chunk_with_alert_223(server: SyncServer) -> None:
    """The server's package 4 ends without the last chunk of its large
    object: our client sends Alert 223 naming it (with its Map) and keeps
    nothing of it; the server acknowledges the Alert (200)."""
    server.max_msg_size = MSG
    server.store.add_item("test", "Contacts", BIG, "text/vcard")
    client = device("b")
    seen: set[str] = set()

    def cut_last(msg: Message) -> Message:
        for change in adds(msg):
            item = change.items[0]
            guid = item.source.loc_uri if item.source else ""
            if item.more_data:
                seen.add(guid)
            elif guid in seen:
                return with_adds(msg, lambda c, last=change: None if c is last else c)  # type: ignore[misc]
        return msg

    _session, sent = drive_answers(server, client, cut_last)
    found = alerts(sent, 223)
    assert len(found) == 1 and found[0].items[0].target is not None and found[0].items[0].target.loc_uri in seen
    assert ab(client) == {}


def test_issue_15_our_client_checks_number_of_changes(server: SyncServer, caplog: pytest.LogCaptureFixture) -> None:
    server.store.add_item("test", "Contacts", SMALL, "text/vcard")

    def announce_5(msg: Message) -> Message:
        assert msg.body is not None
        return msg.replace(body=dataclasses.replace(msg.body, commands=tuple(
            dataclasses.replace(c, number_of_changes="5") if isinstance(c, Sync) else c for c in msg.commands)))

    with caplog.at_level(logging.WARNING, logger="syncml_codec.engine"):
        session, _sent = drive_answers(server, device("b"), announce_5)
    assert session.ok and "the server announced 5 changes (NumberOfChanges) and sent 1" in caplog.text
    assert list(ab(session.store).values()) == [SMALL]  # (what came is kept)
