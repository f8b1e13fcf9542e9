"""Issue 14 follow-up (bigdata): a large object crossing in MoreData chunks
waits in the store's ``session_chunks`` (schema 12), not in the session's
state written after every message, so that state stays the same size
however much of the object is through; correct when every message goes
to another worker, on both stores.  And outgoing items are read per
package: what the engine keeps across a session is their GUIDs and
revisions, on both stores, for every datastore."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from syncml_codec.engine import ClientSession, ClientStore, ServerLimits, SyncServer
from syncml_codec.store import LiveSession, SQLiteStore, StoredItem, open_store

from ..store.conftest import postgres_schema
from .conftest import Clock, counter_random
from .helpers import ab, device, vcard

MSG = 20_000  # both sides' MaxMsgSize
BIG = 1_500_000  # bytes of note: the object goes in about 80 chunks each way


@pytest.fixture(params=["sqlite", "postgresql"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[Any]]:
    """Two connections to one database: two workers as far as the engine can tell."""
    if request.param == "sqlite":
        path = tmp_path / "sync.db"
        pair: list[Any] = [SQLiteStore(path), SQLiteStore(path)]
        pair[0].add_user("test", "secret")
        yield pair
        for s in pair:
            s.close()
        return
    with postgres_schema() as url:
        pair = [open_store(url), open_store(url)]
        try:
            pair[0].add_user("test", "secret")
            yield pair
        finally:
            for s in pair:
                s.close()


def workers(stores: list[Any], states: list[int]) -> list[SyncServer]:
    """A server on each connection; ``states`` collects the size of every session state saved."""
    out = []
    for n, store in enumerate(stores):
        save = store.save_live_session

        def recording(session: LiveSession, save: Callable[[LiveSession], None] = save) -> None:
            states.append(len(session.state))
            save(session)

        store.save_live_session = recording
        first = counter_random()
        out.append(SyncServer(store, clock=Clock(), max_msg_size=MSG, base_url="http://127.0.0.1:8080/sync",
                              limits=ServerLimits(max_obj_size=4_000_000, max_pending_size=8_000_000),
                              random_source=first if n == 0 else (lambda k, f=first: bytes(b ^ 0x5A for b in f(k)))))
    return out


def run(servers: list[SyncServer], client: ClientStore, *, first: int = 0) -> ClientSession:
    """A session whose message n goes to worker (first + n) % 2."""
    session = ClientSession(client, url=servers[0].base_url, user="test", password="secret", clock=Clock(),
                            max_msg_size=MSG, max_obj_size=4_000_000)
    request = session.start()
    for n in range(400):
        sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
        response = servers[(first + n) % 2].handle(request.body, request.content_type, sid)
        assert response.http_status == 200
        nxt = session.receive(response.body, response.content_type)
        if nxt is None:
            assert session.ok, session
            return session
        request = nxt
    raise AssertionError("the session did not end")


def spooled_rows(store: Any) -> int:
    return int(store._all("SELECT count(*) FROM session_chunks")[0][0])


def test_issue_14_large_objects_wait_in_the_store_not_in_the_state(stores: list[Any]) -> None:
    """A 1.5 MB contact up from one device and down to another, each message on the other
    worker: byte for byte on both ends, no saved state holds the object (each is far smaller
    than one tenth of it), and no spooled piece is left once the sessions are over."""
    states: list[int] = []
    servers = workers(stores, states)
    big = vcard(1, "long " * (BIG // 5))
    a = device("a")
    a.datastores["./addressbook"].add(big)
    a.datastores["./addressbook"].add(vcard(2, "small"))
    session = run(servers, a)
    assert session.msg_id > 60  # it went in chunks
    assert sorted(i.data for i in stores[1].items("test", "Contacts")) == sorted([big, vcard(2, "small")])
    assert max(states) < BIG // 10 and spooled_rows(stores[0]) == 0

    states.clear()
    b = device("b")
    session = run(servers, b, first=1)
    assert session.msg_id > 60 and sorted(ab(b).values()) == sorted([big, vcard(2, "small")])
    assert max(states) < BIG // 10 and spooled_rows(stores[1]) == 0


def test_issue_14_spooled_pieces_go_with_their_session(stores: list[Any]) -> None:
    """The store keeps a session's pieces in order by object, and drops them with the
    session: when it is dropped, when it expires, when its account is deleted."""
    store = stores[0]
    for sid in ("s1", "s2", "s3"):
        store.save_live_session(LiveSession(sid, "test", "dev", 100.0 if sid != "s2" else 10.0, False, b"x"))
    store.put_chunk("s1", "in:a", 1, b"world")
    store.put_chunk("s1", "in:a", 0, b"hello ")
    store.put_chunk("s1", "out:1", 0, b"other")
    assert store.chunk_data("s1", "in:a") == b"hello world" and store.chunk_data("s1", "in:b") == b""
    store.drop_chunks("s1", "in:a")
    assert store.chunk_data("s1", "in:a") == b"" and store.chunk_data("s1", "out:1") == b"other"
    store.put_chunk("s2", "in:a", 0, b"old")
    store.put_chunk("s3", "in:a", 0, b"mine")
    assert store.expire_live_sessions(50.0) == ["s2"] and store.chunk_data("s2", "in:a") == b""
    store.drop_live_sessions(["s1"])
    assert store.chunk_data("s1", "out:1") == b"" and store.chunk_data("s3", "in:a") == b"mine"
    store.drop_chunks("s3")
    assert spooled_rows(store) == 0
    store.put_chunk("s3", "in:a", 0, b"mine")
    assert store.delete_user("test") and spooled_rows(store) == 0


def test_issue_14_a_failed_message_leaves_no_spooled_piece(stores: list[Any],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A message in the middle of a large upload fails on the other worker (its store breaks
    after spooling the message's piece): answered 500 and its piece rolled back with the rest
    of the message; the session's pieces go when it expires; the next session brings the
    object whole."""
    states: list[int] = []
    servers = workers(stores, states)
    big = vcard(1, "long " * 100_000)
    a = device("a")
    a.datastores["./addressbook"].add(big)
    session = ClientSession(a, url=servers[0].base_url, user="test", password="secret", clock=Clock(),
                            max_msg_size=MSG, max_obj_size=4_000_000)
    request = session.start()
    for _ in range(8):  # the challenge, package 1 and the first chunks, on worker 0
        reply = servers[0].handle(request.body, request.content_type,
                                  parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0])
        nxt = session.receive(reply.body, reply.content_type)
        assert nxt is not None
        request = nxt
    before = spooled_rows(stores[0])
    assert before >= 3

    real_save = stores[1].save_live_session
    seen: list[int] = []

    def broken(row: LiveSession) -> None:
        seen.append(spooled_rows(stores[1]))
        raise OSError("disk full")

    monkeypatch.setattr(stores[1], "save_live_session", broken)
    sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
    failed = servers[1].handle(request.body, request.content_type, sid)
    assert seen[0] == before + 1  # (the message's piece was spooled; then rolled back)
    assert b"disk full" not in failed.body and spooled_rows(stores[0]) == before
    monkeypatch.setattr(stores[1], "save_live_session", real_save)
    assert stores[0].items("test", "Contacts") == []
    stores[0].expire_live_sessions(float("inf"))
    assert spooled_rows(stores[0]) == 0
    run(servers, a, first=1)
    assert [i.data for i in stores[0].items("test", "Contacts")] == [big] and spooled_rows(stores[0]) == 0


# -- outgoing items read per package ------------------------------------------------------
def test_issue_14_store_lists_heads_and_pages(stores: list[Any]) -> None:
    """``item_heads`` is ``items`` without the data; ``iter_items`` is ``items`` a page at a time."""
    store = stores[0]
    guids = [store.add_item("test", "Contacts", vcard(n), "text/vcard").guid for n in range(7)]
    store.delete_item("test", "Contacts", guids[3])
    store.add_item("test", "Notes", b"other datastore", "text/plain")
    for deleted in (False, True):
        whole = store.items("test", "Contacts", deleted)
        assert len(whole) == (7 if deleted else 6)
        assert store.item_heads("test", "Contacts", deleted) == [
            StoredItem(i.guid, b"", i.content_type, i.rev, i.deleted, i.modified, i.parent) for i in whole]
        for page in (1, 2, 6, 7, 100):
            assert list(store.iter_items("test", "Contacts", deleted, page=page)) == whole


class Reads:
    """What the server's store read: whole listings by datastore, items one by one per message."""

    def __init__(self, store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.listed: list[str] = []
        self.one_by_one: list[int] = [0]
        items, get_item = store.items, store.get_item

        def listing(user: str, datastore: str, include_deleted: bool = False) -> list[StoredItem]:
            self.listed.append(datastore)
            return items(user, datastore, include_deleted)  # type: ignore[no-any-return]

        def one(user: str, datastore: str, guid: str) -> StoredItem | None:
            self.one_by_one[-1] += 1
            return get_item(user, datastore, guid)  # type: ignore[no-any-return]

        monkeypatch.setattr(store, "items", listing)
        monkeypatch.setattr(store, "get_item", one)


@pytest.mark.parametrize("datastore", ["contacts", "calendar"])
def test_issue_14_a_first_sync_reads_one_message_of_items_at_a_time(stores: list[Any], datastore: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A device's first (slow) sync of 60 contacts (or events) of about 2 kB under a
    10 kB MaxMsgSize, the device sending 20 of its own that match: the server never lists the
    datastore with its data, and reads per message about the items that message carries."""
    store = stores[0]
    if datastore == "contacts":
        canonical, uri, ctype = "Contacts", "./addressbook", "text/vcard"
        made = [vcard(n, "n" * 2000) for n in range(60)]
    else:
        canonical, uri, ctype = "Events", "./calendar", "text/calendar"
        made = [(f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:{n}\r\nSUMMARY:item {n}\r\n"
                 f"DTSTART:20260101T{n % 24:02d}0000Z\r\nDESCRIPTION:{'d' * 2000}\r\nEND:VEVENT\r\n"
                 "END:VCALENDAR\r\n").encode() for n in range(60)]
    for data in made:
        store.add_item("test", canonical, data, ctype)
    client = ClientStore("test-first")
    client.add_datastore(uri, canonical.lower() if datastore == "contacts" else "calendar", ctype, "3.0"
                         if datastore == "contacts" else "2.0")
    for data in made[:20]:
        client.datastores[uri].add(data)
    reads = Reads(store, monkeypatch)
    server = SyncServer(store, clock=Clock(), random_source=counter_random(), max_msg_size=10_000,
                        base_url="http://127.0.0.1:8080/sync")
    session = ClientSession(client, url=server.base_url, user="test", password="secret", clock=Clock(),
                            max_msg_size=10_000)
    request = session.start()
    while request is not None:
        sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
        response = server.handle(request.body, request.content_type, sid)
        reads.one_by_one.append(0)
        request = session.receive(response.body, response.content_type)  # type: ignore[assignment]
    assert session.ok and sorted(client.datastores[uri].items.values()) == sorted(made)
    assert len(store.item_heads("test", canonical)) == 60  # (the device's 20 matched the server's)
    assert canonical not in reads.listed and "Tasks" not in reads.listed
    assert max(reads.one_by_one) <= 12, str(reads.one_by_one)  # (4 items of 2 kB fit a message; a few more)
