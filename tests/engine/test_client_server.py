"""Our client session against our server session, in memory: every sync
type, conflicts, and the error paths."""

from __future__ import annotations

from collections.abc import Callable

from syncml_codec.engine import ClientStore, SyncServer
from syncml_codec.formats import normalized, parse
from syncml_codec.store import SQLiteStore

from .helpers import ab, device, prime, sync, vcard


def fields(data: bytes) -> list[object]:
    item = parse(data)
    return [p for p in normalized(item.component) if p[1] not in ("PRODID", "REV")]  # type: ignore[attr-defined]


def server_items(store: SQLiteStore) -> list[bytes]:
    return [i.data for i in store.items("test", "Contacts")]


def test_first_slow_sync_then_second_device_receives(server: SyncServer, store: SQLiteStore) -> None:
    a = device("a")
    ab_a = a.datastores["./addressbook"]
    ab_a.add(vcard(1))
    ab_a.add(vcard(2))
    s = sync(server, a)
    assert s.ok, s.error
    assert s.reports["./addressbook"].mode == 201 and s.reports["./addressbook"].statuses == [201, 201]
    assert len(server_items(store)) == 2 and not ab_a.changes
    b = device("b")
    s = sync(server, b)
    assert s.ok and s.reports["./addressbook"].received == {"Add": 2}
    assert sorted(map(fields, ab(b).values())) == sorted(map(fields, ab(a).values()))
    # the Map arrived: nothing more to send on the next two-way sync
    s = sync(server, b)
    assert s.ok and s.reports["./addressbook"].mode == 200 and s.reports["./addressbook"].received == {}


def test_two_way_edits_and_deletes_travel(server: SyncServer, store: SQLiteStore) -> None:
    a, b = device("a"), device("b")
    la = [a.datastores["./addressbook"].add(vcard(n)) for n in (1, 2)]
    assert sync(server, a).ok and sync(server, b).ok
    a.datastores["./addressbook"].update(la[0], vcard(1, "changed"))
    a.datastores["./addressbook"].add(vcard(3))
    a.datastores["./addressbook"].delete(la[1])
    s = sync(server, a)
    assert s.ok and s.reports["./addressbook"].mode == 200
    assert sorted(s.reports["./addressbook"].statuses) == [200, 200, 201]
    s = sync(server, b)
    assert s.ok and s.reports["./addressbook"].received == {"Add": 1, "Replace": 1, "Delete": 1}
    assert sorted(map(fields, ab(b).values())) == sorted(map(fields, ab(a).values()))
    # and back from b to a
    lb = next(luid for luid, d in ab(b).items() if b"Doe3" in d)
    b.datastores["./addressbook"].delete(lb)
    assert sync(server, b).ok
    s = sync(server, a)
    assert s.ok and s.reports["./addressbook"].received == {"Delete": 1} and len(ab(a)) == 1


def test_vcard21_device_gets_vcard21(server: SyncServer, store: SQLiteStore) -> None:
    a, b = device("a"), device("b21", version="2.1")
    a.datastores["./addressbook"].add(vcard(1))
    assert sync(server, a).ok
    s = sync(server, b)
    assert s.ok
    (data,) = ab(b).values()
    assert b"VERSION:2.1" in data and fields(data) == fields(vcard(1))
    b.datastores["./addressbook"].add(vcard(5, version="2.1"))
    assert sync(server, b).ok
    stored = server_items(store)
    assert all(b"VERSION:3.0" in d for d in stored) and len(stored) == 2


def values(data: bytes) -> list[tuple[str, object]]:
    return sorted((name, value) for _group, name, _params, value in fields(data))


def test_sif_device_gets_sif(server: SyncServer, store: SQLiteStore) -> None:
    # a Funambol-style client whose DevInf offers only SIF-C
    a = device("a")
    sif = ClientStore("test-sif")
    sif.add_datastore("./card", "card", "text/x-s4j-sifc", "1.0")
    a.datastores["./addressbook"].add(vcard(1))
    assert sync(server, a).ok
    s = sync(server, sif)
    assert s.ok
    (data,) = sif.datastores["./card"].items.values()
    item = parse(data)
    assert item.content_type == "text/x-s4j-sifc" and b"<LastName>Doe1</LastName>" in data
    # SIF names the type of each number (TEL;TYPE=WORK comes back WORK,VOICE): compare values
    assert values(item.convert("text/vcard").serialize()) == values(vcard(1))
    # and a contact made on the SIF device reaches the vCard device as a vCard
    new = parse(vcard(7)).convert("text/x-s4j-sifc").serialize()
    sif.datastores["./card"].add(new)
    assert sync(server, sif).ok and sync(server, a).ok
    got = [d for d in ab(a).values() if b"Doe7" in d]
    assert len(got) == 1 and b"VERSION:3.0" in got[0] and values(got[0]) == values(vcard(7))


def test_repeated_slow_syncs_create_no_duplicates(server: SyncServer, store: SQLiteStore) -> None:
    a, b = device("a"), device("b")
    for n in (1, 2, 3):
        a.datastores["./addressbook"].add(vcard(n))
    assert sync(server, a).ok and sync(server, b).ok
    for _ in range(3):
        for dev in (a, b):
            s = sync(server, dev, 201)
            assert s.ok and s.reports["./addressbook"].mode == 201
            assert s.reports["./addressbook"].received == {}
    assert len(server_items(store)) == 3 and len(ab(a)) == 3 and len(ab(b)) == 3


def test_slow_sync_merges_both_sides(server: SyncServer, store: SQLiteStore) -> None:
    a, b = device("a"), device("b")
    a.datastores["./addressbook"].add(vcard(1))
    assert sync(server, a).ok
    b.datastores["./addressbook"].add(vcard(1))  # the same contact, made on b too
    b.datastores["./addressbook"].add(vcard(2))
    s = sync(server, b)  # first sync: slow
    assert s.ok and s.reports["./addressbook"].received == {}
    assert len(server_items(store)) == 2
    s = sync(server, a)
    assert s.ok and s.reports["./addressbook"].received == {"Add": 1} and len(ab(a)) == 2


def test_refresh_from_server_replaces_the_client(server: SyncServer, store: SQLiteStore) -> None:
    a, b = device("a"), device("b")
    a.datastores["./addressbook"].add(vcard(1))
    assert sync(server, a).ok and sync(server, b).ok
    b.datastores["./addressbook"].add(vcard(9))  # local change, lost by the refresh
    s = sync(server, b, 205)
    assert s.ok and s.reports["./addressbook"].mode == 205
    assert [fields(d) for d in ab(b).values()] == [fields(vcard(1))] and len(server_items(store)) == 1


def test_refresh_from_client_replaces_the_server(server: SyncServer, store: SQLiteStore) -> None:
    a, b = device("a"), device("b")
    for n in (1, 2):
        a.datastores["./addressbook"].add(vcard(n))
    assert sync(server, a).ok and sync(server, b).ok
    luid = next(iter(ab(b)))
    del b.datastores["./addressbook"].items[luid]  # gone locally without a change record
    b.datastores["./addressbook"].add(vcard(7))
    s = sync(server, b, 203)
    assert s.ok and s.reports["./addressbook"].mode == 203 and s.reports["./addressbook"].received == {}
    assert sorted(map(fields, server_items(store))) == sorted(map(fields, ab(b).values()))
    s = sync(server, a)
    assert s.ok and sorted(map(fields, ab(a).values())) == sorted(map(fields, ab(b).values()))


def test_one_way_from_client_sends_nothing_back(server: SyncServer, store: SQLiteStore) -> None:
    a, b = device("a"), device("b")
    a.datastores["./addressbook"].add(vcard(1))
    assert sync(server, a).ok and sync(server, b).ok
    a.datastores["./addressbook"].add(vcard(2))
    assert sync(server, a).ok
    b.datastores["./addressbook"].add(vcard(3))
    s = sync(server, b, 202)
    assert s.ok and s.reports["./addressbook"].mode == 202 and s.reports["./addressbook"].received == {}
    assert len(server_items(store)) == 3 and len(ab(b)) == 2
    s = sync(server, b)  # the server's change is still pending for b
    assert s.ok and s.reports["./addressbook"].received == {"Add": 1}


def test_one_way_from_server_keeps_client_changes_pending(server: SyncServer, store: SQLiteStore) -> None:
    a, b = device("a"), device("b")
    a.datastores["./addressbook"].add(vcard(1))
    assert sync(server, a).ok and sync(server, b).ok
    a.datastores["./addressbook"].add(vcard(2))
    assert sync(server, a).ok
    b.datastores["./addressbook"].add(vcard(3))
    s = sync(server, b, 204)
    assert s.ok and s.reports["./addressbook"].mode == 204 and s.reports["./addressbook"].received == {"Add": 1}
    assert len(server_items(store)) == 2 and b.datastores["./addressbook"].changes
    s = sync(server, b)
    assert s.ok and len(server_items(store)) == 3 and not b.datastores["./addressbook"].changes


def test_xml_and_basic_auth(server: SyncServer, store: SQLiteStore) -> None:
    a = device("a")
    a.datastores["./addressbook"].add(vcard(1))
    s = sync(server, a, auth_type="basic", encoding="xml")
    assert s.ok and s.header_status == 212 and len(server_items(store)) == 1
    assert a.nonce  # the server's challenge: md5 next time
    s = sync(server, a, encoding="xml")
    assert s.ok and s.header_status == 212


def test_md5_nonce_carries_between_sessions(server: SyncServer) -> None:
    """The first session answers a challenge (a new device has no nonce, and
    a credential over the empty nonce is refused, issue 9); from then on the
    NextNonce of each session is the nonce of the next one."""
    a = device("a")
    for n in range(3):
        s = sync(server, a)
        assert s.ok and s.header_status == 212 and s.retried_auth == (n == 0)


def test_many_items_split_over_messages(server: SyncServer, store: SQLiteStore) -> None:
    a, b = device("a"), device("b")
    for n in range(60):
        a.datastores["./addressbook"].add(vcard(n, "x" * 200))
    assert sync(server, a).ok
    s = sync(server, b, max_msg_size=4000)
    assert s.ok and s.reports["./addressbook"].received == {"Add": 60} and s.msg_id > 4
    assert sync(server, b).reports["./addressbook"].received == {}


def test_large_item_goes_in_moredata_chunks(server: SyncServer, store: SQLiteStore) -> None:
    a, b = device("a"), device("b")
    big = vcard(1, "long " * 4000)  # about 20 kB, five times the message size
    a.datastores["./addressbook"].add(big)
    a.datastores["./addressbook"].add(vcard(2))
    assert sync(server, a).ok
    s = sync(server, b, max_msg_size=4000)
    assert s.ok and s.msg_id > 6
    assert sorted(map(fields, ab(b).values())) == sorted(map(fields, ab(a).values()))
    assert sync(server, b).reports["./addressbook"].received == {}


EVENT = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:e1\r\n"
         b"DTSTART:20240111T090000Z\r\nDTEND:20240111T100000Z\r\nSUMMARY:Meeting\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
NOTE = b"Memo 1\nfirst\n"


def test_several_datastores_in_one_session(server: SyncServer, store: SQLiteStore) -> None:
    devices = []
    for name in ("a", "b"):
        dev = device(name)
        dev.add_datastore("./calendar", "Calendar", "text/calendar", "2.0")
        dev.add_datastore("./memo", "memo", "text/plain", "1.0")
        devices.append(dev)
    a, b = devices
    a.datastores["./addressbook"].add(vcard(1))
    a.datastores["./calendar"].add(EVENT)
    a.datastores["./memo"].add(NOTE)
    s = sync(server, a, encoding="xml")
    assert s.ok and all(r.mode == 201 for r in s.reports.values())
    assert [len(store.items("test", c)) for c in ("Contacts", "Events", "Notes")] == [1, 1, 1]
    s = sync(server, b)
    assert s.ok and all(r.received == {"Add": 1} for r in s.reports.values())
    assert list(b.datastores["./calendar"].items.values()) == [EVENT]
    assert list(b.datastores["./memo"].items.values()) == [NOTE]


def test_init_and_client_modifications_combined_in_one_message(server: SyncServer, store: SQLiteStore) -> None:
    import dataclasses

    from syncml_codec.engine import ClientSession
    from syncml_codec.engine._packer import Packer
    from syncml_codec.model import Message, Status, Sync

    from .conftest import Clock

    a = device("a")
    a.datastores["./addressbook"].add(vcard(1))
    store.add_item("test", "Contacts", vcard(2), "text/vcard")
    prime(server, a)  # a new device answers a challenge first (issue 9)
    session = ClientSession(a, url=server.base_url, user="test", password="secret", clock=Clock())
    msg = Message.from_bytes(session.start().body)
    for report in session.reports.values():
        report.mode, report.alert_status = 201, 200
    session._package3 = Packer(queue=session._changes())
    syncs = [c for c in Message.from_bytes(session._next_package3([]).body).commands if isinstance(c, Sync)]
    combined = msg.replace(body=dataclasses.replace(msg.body, commands=(*msg.commands, *syncs)))
    reply = Message.from_bytes(server.handle(combined.to_bytes("wbxml"), "application/vnd.syncml+wbxml", None).body)
    assert reply.final
    codes = {c.cmd: c.data for c in reply.commands if isinstance(c, Status)}
    assert codes == {"SyncHdr": "212", "Put": "200", "Get": "200", "Alert": "200", "Sync": "200", "Replace": "201"}
    (sync_out,) = [c for c in reply.commands if isinstance(c, Sync)]
    assert [c.TAG for c in sync_out.commands] == ["Add"]  # the server's own item
    assert len(store.items("test", "Contacts")) == 2


def test_sessions_are_logged(server: SyncServer, store: SQLiteStore) -> None:
    a = device("a")
    a.datastores["./addressbook"].add(vcard(1))
    assert sync(server, a).ok and sync(server, a).ok
    first, second = store.sessions("test")
    assert first.outcome == "ok" and first.detail == "Contacts:201 added=1" and first.device_id == "test-a"
    assert second.detail == "Contacts:200" and second.ended >= second.started


def test_items_referenced_before_their_map_arrives(server: SyncServer, store: SQLiteStore) -> None:
    from urllib.parse import parse_qs, urlsplit

    from syncml_codec.engine import ClientSession

    from .conftest import Clock

    a, b = device("a"), device("b")
    a.datastores["./addressbook"].add(vcard(1))
    assert sync(server, a).ok and sync(server, b).ok
    a.datastores["./addressbook"].add(vcard(2))
    assert sync(server, a).ok
    # b receives the new contact, but its package 5 (with the Map) is lost
    session = ClientSession(b, url=server.base_url, user="test", password="secret", clock=Clock())
    request = session.start()
    for _ in range(2):
        sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
        answer = server.handle(request.body, request.content_type, sid)
        request = session.receive(answer.body)  # type: ignore[assignment]
    assert request is not None and len(ab(b)) == 2 and b.datastores["./addressbook"].unmapped
    luid = next(luid for luid, data in ab(b).items() if b"Doe2" in data)
    b.datastores["./addressbook"].update(luid, vcard(2, "edited on b"))
    # the server cannot know whether b got its Add (issue 9: it cleared the anchors when it sent it):
    # 508 and a slow sync, in which b names the unmapped item by its GUID as well
    s = sync(server, b)
    assert s.ok and s.reports["./addressbook"].mode == 201 and s.reports["./addressbook"].statuses == [200, 200]
    assert s.reports["./addressbook"].received == {} and not b.datastores["./addressbook"].unmapped
    assert len(store.items("test", "Contacts")) == 2
    s = sync(server, a)
    assert s.ok and s.reports["./addressbook"].received == {"Replace": 1}
    assert any(b"edited on b" in d for d in ab(a).values())


def test_client_package_over_two_messages(server: SyncServer, store: SQLiteStore) -> None:
    """The client's Sync split over two messages: the server answers the
    first with statuses and Alert 222 (next message), the second with its
    package 4."""
    import dataclasses
    from urllib.parse import parse_qs, urlsplit

    from syncml_codec.engine import ClientSession
    from syncml_codec.model import Alert, Message, Status, Sync

    from .conftest import Clock

    a = device("a")
    for n in range(6):
        a.datastores["./addressbook"].add(vcard(n))
    prime(server, a)  # a new device answers a challenge first (issue 9)
    session = ClientSession(a, url=server.base_url, user="test", password="secret", clock=Clock(), encoding="xml")
    first = server.handle(session.start().body, "application/vnd.syncml+xml", None)
    request = session.receive(first.body)
    assert request is not None
    sid = parse_qs(urlsplit(request.url).query)["sessionid"][0]
    msg = Message.from_bytes(request.body)
    (sync_cmd,) = [c for c in msg.commands if isinstance(c, Sync)]
    others = tuple(c for c in msg.commands if not isinstance(c, Sync))
    part1 = msg.replace(body=dataclasses.replace(msg.body, final=False, commands=(
        *others, dataclasses.replace(sync_cmd, commands=sync_cmd.commands[:3]))))
    header2 = dataclasses.replace(msg.header, msg_id=str(int(msg.header.msg_id) + 1))
    part2 = msg.replace(header=header2, body=dataclasses.replace(msg.body, commands=(
        dataclasses.replace(sync_cmd, cmd_id="50", commands=sync_cmd.commands[3:]),)))
    reply1 = Message.from_bytes(server.handle(part1.to_bytes("xml"), "application/vnd.syncml+xml", sid).body)
    assert not reply1.final
    assert [c.data for c in reply1.commands if isinstance(c, Alert)] == ["222"]
    reply2 = Message.from_bytes(server.handle(part2.to_bytes("xml"), "application/vnd.syncml+xml", sid).body)
    assert reply2.final and any(isinstance(c, Sync) for c in reply2.commands)
    added = [c.data for c in (*reply1.commands, *reply2.commands) if isinstance(c, Status) and c.cmd == "Replace"]
    assert added == ["201"] * 6 and len(store.items("test", "Contacts")) == 6


def test_devinf_asked_for_when_the_client_sends_none(server: SyncServer, store: SQLiteStore) -> None:
    import dataclasses
    from urllib.parse import parse_qs, urlsplit

    from syncml_codec.engine import ClientSession
    from syncml_codec.model import Get, Message, Put

    from .conftest import Clock

    a = device("a")
    a.datastores["./addressbook"].add(vcard(1))
    assert sync(server, a).ok
    b = device("b21", version="2.1")
    prime(server, b)  # a new device answers a challenge first (issue 9)
    session = ClientSession(b, url=server.base_url, user="test", password="secret", clock=Clock())
    msg = Message.from_bytes(session.start().body)
    no_put = msg.replace(body=dataclasses.replace(msg.body, commands=tuple(
        c for c in msg.commands if not isinstance(c, Put))))
    answer = server.handle(no_put.to_bytes("wbxml"), "application/vnd.syncml+wbxml", None)
    assert any(isinstance(c, Get) for c in Message.from_bytes(answer.body).commands)  # the server asks
    request = session.receive(answer.body)
    while request is not None:
        sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
        request = session.receive(server.handle(request.body, request.content_type, sid).body)
    assert session.ok
    (data,) = ab(b).values()
    assert b"VERSION:2.1" in data


def test_large_item_from_the_client_in_chunks(server: SyncServer, store: SQLiteStore) -> None:
    """An item the client sends in two MoreData chunks over two messages:
    213 for the first chunk, 201 when the item is complete."""
    import dataclasses
    from urllib.parse import parse_qs, urlsplit

    from syncml_codec.engine import ClientSession
    from syncml_codec.model import Message, Status, Sync, split_item

    from .conftest import Clock

    a = device("a")
    big = vcard(1, "long " * 2000)
    a.datastores["./addressbook"].add(big)
    prime(server, a)  # a new device answers a challenge first (issue 9)
    session = ClientSession(a, url=server.base_url, user="test", password="secret", clock=Clock())
    first = server.handle(session.start().body, "application/vnd.syncml+wbxml", None)
    request = session.receive(first.body)
    assert request is not None
    sid = parse_qs(urlsplit(request.url).query)["sessionid"][0]
    msg = Message.from_bytes(request.body)
    (sync_cmd,) = [c for c in msg.commands if isinstance(c, Sync)]
    (replace,) = sync_cmd.commands
    head, tail = split_item(replace.items[0], 6000)
    others = tuple(c for c in msg.commands if not isinstance(c, Sync))
    part1 = msg.replace(body=dataclasses.replace(msg.body, final=False, commands=(
        *others, dataclasses.replace(sync_cmd, commands=(dataclasses.replace(replace, items=(head,)),)))))
    rest = dataclasses.replace(sync_cmd, cmd_id="50", commands=(dataclasses.replace(replace, cmd_id="51",
                                                                                    items=(tail,)),))
    part2 = msg.replace(header=dataclasses.replace(msg.header, msg_id="3"),
                        body=dataclasses.replace(msg.body, commands=(rest,)))
    reply1 = Message.from_bytes(server.handle(part1.to_bytes("wbxml"), "application/vnd.syncml+wbxml", sid).body)
    reply2 = Message.from_bytes(server.handle(part2.to_bytes("wbxml"), "application/vnd.syncml+wbxml", sid).body)
    codes = [c.data for m in (reply1, reply2) for c in m.commands if isinstance(c, Status) and c.cmd == "Replace"]
    assert codes == ["213", "201"]
    (stored,) = store.items("test", "Contacts")
    assert stored.data == big


def test_client_package_split_to_the_servers_max_msg_size(make_server: Callable[..., SyncServer],
                                                          store: SQLiteStore) -> None:
    """A server that takes at most 4000 bytes a message: the client sends
    its changes over several messages (the server asks for each next one
    with Alert 222) and a large item in MoreData chunks."""
    server = make_server(max_msg_size=4000)
    a, b = device("a"), device("b")
    for n in range(30):
        a.datastores["./addressbook"].add(vcard(n, "x" * 100))
    a.datastores["./addressbook"].add(vcard(99, "big " * 3000))
    s = sync(server, a, max_msg_size=4000)
    assert s.ok and s.msg_id > 6 and sorted(set(s.reports["./addressbook"].statuses)) == [201]
    assert len(s.reports["./addressbook"].statuses) == 31
    assert sorted(i.data for i in store.items("test", "Contacts")) == sorted(ab(a).values())
    s = sync(server, b, max_msg_size=4000)
    assert s.ok and sorted(map(fields, ab(b).values())) == sorted(map(fields, ab(a).values()))


def test_items_over_the_clients_max_obj_size_wait(server: SyncServer, store: SQLiteStore) -> None:
    a, b = device("a"), device("b")
    a.datastores["./addressbook"].add(vcard(1))
    a.datastores["./addressbook"].add(vcard(2, note="x" * 3000))
    assert sync(server, a).ok
    s = sync(server, b, max_obj_size=1000)  # B cannot take the big one: it is not sent
    assert s.ok and len(ab(b)) == 1 and b"Doe1" in next(iter(ab(b).values()))
    s = sync(server, b, max_obj_size=1000)  # still pending, still not sent
    assert s.ok and len(ab(b)) == 1
    s = sync(server, b)  # a larger limit: it arrives
    assert s.ok and len(ab(b)) == 2 and any(b"x" * 3000 in d for d in ab(b).values())
