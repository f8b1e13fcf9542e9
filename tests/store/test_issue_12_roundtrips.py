"""Issue 12's last figure: fewer database round trips per message, with the
same guarantees.  Idle sessions are expired at admission and checked when
a session's row is loaded (both stores); on PostgreSQL a transaction runs
in pipeline mode (writes wait for nothing, an error of a queued statement
still undoes the whole message), the items it read are reused until it
ends, and the pool checks a connection with a query only when the server
spoke to it while it was idle.

The PostgreSQL tests need a server (``SYNCML_TEST_POSTGRES``, see conftest.py)."""

from __future__ import annotations

import ctypes
import os
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest

from syncml_codec.engine import ClientSession, SyncServer
from syncml_codec.model import Message, Status
from syncml_codec.store import open_store

from ..engine.conftest import Clock, counter_random
from ..engine.helpers import device, sync, vcard
from .conftest import postgres_schema

if TYPE_CHECKING:
    from syncml_codec.store import PostgresStore


@pytest.fixture
def url() -> Iterator[str]:
    with postgres_schema() as schema_url:
        yield schema_url


@pytest.fixture
def pg(url: str) -> Iterator[PostgresStore]:
    """A store whose pool holds one connection (the one the tests trace or terminate)."""
    from syncml_codec.store import PostgresStore

    store = PostgresStore(url, pool_size=1)
    yield store
    store.close()


def statements(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Every statement psycopg runs from now on, counted by its first words."""
    import psycopg

    seen: Counter[str] = Counter()
    execute = psycopg.Cursor.execute

    def counted(self: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
        seen[" ".join(str(query).split()[:4])] += 1
        return execute(self, query, params, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counted)
    return seen


def round_trips(store: PostgresStore, tmp_path: Path) -> Callable[[], int]:
    """A counter of the round trips of ``store``'s next transaction: libpq's
    protocol trace of its connection, where each turn from what the client
    sent to what the server answered is one wait."""
    from psycopg import pq

    trace = tmp_path / "trace"
    fd = os.open(trace, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    pool = store._connections()
    conn = pool.getconn()
    conn.pgconn.trace(fd)
    conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
    pool.putconn(conn)  # (the pool holds one connection at most: the next transaction gets this one)

    def count() -> int:
        conn.pgconn.untrace()  # (closes the trace file: libpq writes it through stdio)
        ctypes.CDLL(None).fflush(None)
        turns, last = 0, b""
        for line in trace.read_bytes().splitlines():
            if line[:1] == b"B" and last == b"F":
                turns += 1
            if line[:1] in (b"F", b"B"):
                last = line[:1]
        return turns

    return count


# -- sessions: expired on load and at admission (both stores) -------------------------------
def _server(store: Any, clock: Clock) -> SyncServer:
    return SyncServer(store, clock=clock, random_source=counter_random(), base_url="http://127.0.0.1:8080/sync",
                      session_timeout=30)


def _sid(url: str) -> str | None:
    return (parse_qs(urlsplit(url).query).get("sessionid") or [None])[-1]


def _begin(server: SyncServer, dev: Any) -> tuple[str, Any]:
    """``dev``'s first message answered: its session id and its next request."""
    s = ClientSession(dev, url=server.base_url, user="test", password="secret", clock=Clock())
    first = s.start()
    reply = server.handle(first.body, first.content_type, None)
    assert reply.session_id is not None
    return reply.session_id, s.receive(reply.body, reply.content_type)


def _live(store: Any) -> list[str]:
    return [row.session_id for row in store.live_sessions()]


def test_an_idle_session_is_expired_when_its_next_message_loads_it(db_spec: str) -> None:
    """As when every message swept the idle sessions first: the message of a
    session idle past the timeout finds none (its row is dropped) and,
    carrying no credentials, is answered with a challenge."""
    store = open_store(db_spec)
    try:
        store.add_user("test", "secret")
        clock = Clock()
        server = _server(store, clock)
        a = device("a")
        assert sync(server, a).ok  # (a nonce for a's next login)
        a.datastores["./addressbook"].add(vcard(1))
        stale, request = _begin(server, a)
        clock.now += 60
        reply = server.handle(request.body, request.content_type, _sid(request.url))
        assert reply.session_id != stale and stale not in _live(store)
        codes = [c.data for c in Message.from_bytes(reply.body).commands if isinstance(c, Status)]
        assert codes[0] in ("401", "407")
        assert store.items("test", "Contacts") == []
    finally:
        store.close()


def test_idle_sessions_are_swept_at_admission_not_by_other_sessions_messages(db_spec: str) -> None:
    """A message of another running session leaves an idle row alone (no
    sweep per message); the next admission drops it before counting; the
    running session carries on."""
    store = open_store(db_spec)
    try:
        store.add_user("test", "secret")
        clock = Clock()
        server = _server(store, clock)
        a, b, c = device("a"), device("b"), device("c")
        for dev in (a, b, c):
            assert sync(server, dev).ok
        stale, _ = _begin(server, a)
        clock.now += 25
        b.datastores["./addressbook"].add(vcard(2))
        running, request = _begin(server, b)
        clock.now += 25  # a's session: idle 50 s; b's: 25 s
        reply = server.handle(request.body, request.content_type, _sid(request.url))
        assert reply.session_id == running and stale in _live(store)
        _begin(server, c)  # an admission sweeps
        assert stale not in _live(store) and running in _live(store)
    finally:
        store.close()


# -- PostgreSQL: pipeline mode ------------------------------------------------------------
def test_writes_wait_for_nothing_reads_wait_once_for_what_is_queued(pg: PostgresStore, tmp_path: Path) -> None:
    """Twenty map writes, a read and the commit: the writes go with the read
    and the commit with the closing sync (two round trips, not 23)."""
    pg.add_user("test", "secret")
    dev = pg.device("test", "phone")
    count = round_trips(pg, tmp_path)
    with pg.transaction():
        for n in range(20):
            pg.set_map(dev, "Contacts", f"luid{n}", str(n), n)
        assert len(pg.map_entries(dev, "Contacts")) == 20
    assert count() == 2
    assert [e.luid for e in pg.map_entries(dev, "Contacts")] == [f"luid{n}" for n in range(20)]


def test_an_error_in_a_queued_statement_undoes_the_whole_block(pg: PostgresStore) -> None:
    """A write that fails after others were queued is raised by the block
    (at its read or at its end), and nothing of the block is committed."""
    import psycopg

    pg.add_user("test", "secret")
    dev = pg.device("test", "phone")
    with pytest.raises(psycopg.errors.UniqueViolation), pg.transaction():
        pg.set_map(dev, "Contacts", "luid1", "1", 1)
        pg.set_anchors(dev, "Contacts", "c1", "s1")
        pg._exec("INSERT INTO users (name, hash) VALUES ('test', 'x')")  # (queued: fails on the server)
        pg.set_map(dev, "Contacts", "luid2", "2", 2)
    assert pg.map_entries(dev, "Contacts") == [] and pg.anchors(dev, "Contacts").client_last is None
    with pytest.raises(psycopg.errors.UniqueViolation), pg.transaction():
        pg.set_map(dev, "Contacts", "luid1", "1", 1)
        pg._exec("INSERT INTO users (name, hash) VALUES ('test', 'x')")
        pg.items("test", "Contacts")  # the read raises the queued write's error
    assert pg.map_entries(dev, "Contacts") == []
    with pg.transaction():  # the connection is usable again
        pg.set_map(dev, "Contacts", "luid3", "3", 3)
    assert [e.luid for e in pg.map_entries(dev, "Contacts")] == ["luid3"]


def test_rowcounts_wait_for_their_statement(pg: PostgresStore) -> None:
    with pg.transaction():
        assert pg.set_disabled("nobody", True) is False
        pg.add_user("test", "secret")
        assert pg.set_disabled("test", True) is True
        assert pg.use_nonce("n1", 100.0, 0.0) is True
        assert pg.use_nonce("n1", 100.0, 0.0) is False
    assert pg.account("test").disabled  # type: ignore[union-attr]


# -- PostgreSQL: the items a transaction read ------------------------------------------------
def test_items_read_in_a_transaction_are_reused_and_kept_current(pg: PostgresStore,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    first = pg.add_item("test", "Contacts", b"one", "text/vcard")
    second = pg.add_item("test", "Contacts", b"two", "text/vcard")
    seen = statements(monkeypatch)
    with pg.transaction():
        assert pg.items("test", "Contacts") == [first, second]
        assert pg.get_item("test", "Contacts", first.guid) == first
        assert pg.get_item("test", "Contacts", second.guid) == second
        assert seen["SELECT guid, data, content_type,"] == 1  # the listing only
        changed = pg.replace_item("test", "Contacts", first.guid, b"ONE", "text/vcard")
        assert pg.get_item("test", "Contacts", first.guid) == changed and changed is not None
        gone = pg.delete_item("test", "Contacts", second.guid)
        assert pg.get_item("test", "Contacts", second.guid) == gone and gone is not None and gone.deleted
        third = pg.add_item("test", "Contacts", b"three", "text/vcard")
        assert pg.get_item("test", "Contacts", third.guid) == third
        assert pg.get_item("test", "Contacts", "no-such-guid") is None
        assert seen["SELECT guid, data, content_type,"] == 2  # (+ the unknown GUID)
    assert pg.get_item("test", "Contacts", first.guid) == changed  # read anew: another transaction
    assert seen["SELECT guid, data, content_type,"] == 3


def test_a_change_by_another_worker_is_seen_by_the_next_transaction(url: str) -> None:
    """The copy lives only as long as the transaction (and its account lock)."""
    from syncml_codec.store import PostgresStore

    one, two = PostgresStore(url), PostgresStore(url)
    try:
        item = one.add_item("test", "Contacts", b"v1", "text/vcard")
        with one.transaction():
            assert one.get_item("test", "Contacts", item.guid) == item
        new = two.replace_item("test", "Contacts", item.guid, b"v2", "text/vcard")
        with one.transaction():
            assert one.get_item("test", "Contacts", item.guid) == new
        with one.transaction():
            assert one.delete_user("test") is False  # (no such account; its items go all the same)
            one.add_user("test", "pw")
            assert one.delete_user("test") is True
            assert one.get_item("test", "Contacts", item.guid) is None
    finally:
        one.close()
        two.close()


# -- PostgreSQL: the pool's check -----------------------------------------------------------
def test_an_idle_connection_is_checked_only_when_the_server_spoke(pg: PostgresStore, url: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A healthy idle connection is handed out without a check query; one
    whose backend was terminated (as by a PostgreSQL restart) is checked,
    found dead and replaced, and the transaction succeeds."""
    import psycopg
    from psycopg_pool import ConnectionPool

    checks: list[int] = []
    check = ConnectionPool.check_connection

    def counted(conn: Any) -> None:
        checks.append(1)
        check(conn)

    monkeypatch.setattr(ConnectionPool, "check_connection", staticmethod(counted))
    pg.add_user("test", "secret")
    for _ in range(3):
        assert pg.account("test") is not None
    assert checks == []
    with pg.transaction():
        backend = pg._exec("SELECT pg_backend_pid()").fetchone()[0]
    with psycopg.connect(url, autocommit=True) as admin:  # (waits until the backend is gone)
        assert admin.execute("SELECT pg_terminate_backend(%s, 10000)", (backend,)).fetchone() == (True,)
    assert pg.account("test") is not None  # a new connection, not an error
    assert checks == [1]
    with pg.transaction():
        assert pg._exec("SELECT pg_backend_pid()").fetchone()[0] != backend


