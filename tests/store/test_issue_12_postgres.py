"""Issue 12, item 3: the PostgreSQL store.  What the shared store tests
cannot show: the schema made once by processes opening a new database at
once, one transaction per thread, the row and account locks that let
workers of several processes serve one account without losing a change,
race-free GUIDs, and ``--db``/``SYNCML_DB`` taking a URL without ever
printing its password.

Needs a server (``SYNCML_TEST_POSTGRES``, see conftest.py); each test has
a schema of its own."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from syncml_codec.engine import SyncServer
from syncml_codec.store import LiveSession, database_path, display_database, open_store
from syncml_codec.store.sqlite import SCHEMA_VERSION

from ..engine.conftest import Clock
from ..engine.helpers import ab, device, sync, vcard
from ..server.test_cli_serve import env, syncml
from .conftest import postgres_schema, postgres_url, rows

if TYPE_CHECKING:
    from syncml_codec.store import PostgresStore
else:
    try:  # (without psycopg the tests that need it skip, see conftest.py)
        from syncml_codec.store import PostgresStore
    except ImportError:
        PostgresStore = None


@pytest.fixture
def url() -> Iterator[str]:
    with postgres_schema() as schema_url:
        yield schema_url


@pytest.fixture
def pg(url: str) -> Iterator[PostgresStore]:
    store = PostgresStore(url)
    yield store
    store.close()


def waiting_on_a_lock(watcher: PostgresStore, statement: str) -> Callable[[], bool]:
    """Whether some backend of this database waits for a lock while running
    ``statement`` (a fragment of its SQL)."""
    def check() -> bool:
        with watcher.transaction():
            return bool(watcher._exec(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query LIKE %s", (f"%{statement}%",)).fetchone()[0])
    return check


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` (a lock wait shows in pg_stat_activity, nothing to wait on)."""
    stop = threading.Event()
    for _ in range(2000):
        if condition():
            return
        stop.wait(0.01)
    raise AssertionError(f"never happened: {what}")


class Worker(threading.Thread):
    """Runs ``work`` in a thread of its own; :meth:`result` re-raises what it raised."""

    def __init__(self, work: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self._work = work
        self._result: Any = None
        self._error: BaseException | None = None

    def run(self) -> None:
        try:
            self._result = self._work()
        except BaseException as exc:
            self._error = exc

    def result(self) -> Any:
        self.join(60)
        assert not self.is_alive(), "the worker is stuck"
        if self._error is not None:
            raise self._error
        return self._result


# -- the schema -------------------------------------------------------------------
OPEN_AT_ONCE = """
import sys
from syncml_codec.store import PostgresStore
print("ready", flush=True)
sys.stdin.readline()
store = PostgresStore(sys.argv[1])
store.add_user(f"user{sys.argv[2]}", "pw")
store.close()
print("done", flush=True)
"""


def test_processes_opening_a_new_database_at_once_all_succeed(url: str) -> None:
    """Four processes wait at a start line, then open the same new schema
    together: without the advisory lock two CREATE TABLE IF NOT EXISTS of
    one table collide (unique violation in the catalog)."""
    procs = [subprocess.Popen([sys.executable, "-c", OPEN_AT_ONCE, url, str(n)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env())
             for n in range(4)]
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outcomes = [proc.communicate(timeout=60) for proc in procs]
    finally:
        for proc in procs:
            proc.kill()
    assert [(p.returncode, out) for p, (out, _err) in zip(procs, outcomes, strict=True)] == [(0, "done\n")] * 4, \
        [err for _out, err in outcomes]
    store = PostgresStore(url)
    try:
        assert store.users() == ["user0", "user1", "user2", "user3"]
        assert rows(store, "schema_version") == [(SCHEMA_VERSION,)]
    finally:
        store.close()


def test_reopening_keeps_everything_and_a_newer_schema_is_refused(url: str) -> None:
    store = PostgresStore(url)
    store.add_user("test", "secret")
    item = store.add_item("test", "Notes", b"milk", "text/plain")
    store.close()
    again = PostgresStore(url)
    assert again.users() == ["test"] and again.items("test", "Notes") == [item]
    assert again.add_item("test", "Notes", b"eggs", "text/plain").rev > item.rev  # the sequences carry on
    with again.transaction():
        again._exec("UPDATE schema_version SET version = %s", (SCHEMA_VERSION + 1,))
    again.close()
    with pytest.raises(RuntimeError, match="newer"):
        PostgresStore(url)


def test_an_unreachable_server_is_one_line_without_the_password() -> None:
    postgres_url()  # (psycopg installed)
    with pytest.raises(ConnectionError) as caught:
        PostgresStore("postgresql://syncml:hunter2@127.0.0.1:1/nowhere")
    assert "\n" not in str(caught.value) and "hunter2" not in str(caught.value)
    assert "127.0.0.1" in str(caught.value)


# -- transactions and locks -----------------------------------------------------------
def test_each_thread_has_its_own_transaction(pg: PostgresStore) -> None:
    phone = pg.device("test", "phone")
    inside, release = threading.Event(), threading.Event()

    def write_then_fail() -> None:
        with pytest.raises(RuntimeError), pg.transaction():
            pg.set_anchors(phone, "Contacts", "c1", "s1")
            with pg.transaction():  # nested: joins this thread's transaction
                pg.set_anchors(phone, "Events", "c2", "s2")
            inside.set()
            release.wait(30)
            raise RuntimeError("the message failed")

    worker = Worker(write_then_fail)
    worker.start()
    assert inside.wait(30)
    assert pg.anchors(phone, "Contacts").client_last is None  # not committed: this thread does not see it
    with pg.transaction():
        pg.set_anchors(phone, "Notes", "c3", "s3")  # this thread's own transaction commits on its own
    release.set()
    worker.result()
    assert [pg.anchors(phone, n).client_last for n in ("Contacts", "Events", "Notes")] == [None, None, "c3"]


def test_a_live_session_row_is_locked_until_the_message_ends(url: str) -> None:
    """Two workers (stores) get messages of one session at once: the second
    reads the session only when the first has saved it and committed."""
    first, second, watcher = PostgresStore(url), PostgresStore(url), PostgresStore(url)
    try:
        first.save_live_session(LiveSession("s1", "test", "phone", 1.0, False, b"after message 1"))
        loaded, release = threading.Event(), threading.Event()

        def message_2() -> None:
            with first.transaction():
                row = first.load_live_session("s1")
                assert row is not None and row.state == b"after message 1"
                loaded.set()
                release.wait(30)
                first.save_live_session(LiveSession("s1", "test", "phone", 2.0, False, b"after message 2"))

        def message_3() -> LiveSession | None:
            with second.transaction():
                return second.load_live_session("s1")

        two = Worker(message_2)
        two.start()
        assert loaded.wait(30)
        three = Worker(message_3)
        three.start()
        wait_until(waiting_on_a_lock(watcher, "FROM live_sessions"), "message 3 waits for message 2")
        assert three.is_alive()
        release.set()
        two.result()
        row = three.result()
        assert row is not None and row.state == b"after message 2" and row.last_seen == 2.0
    finally:
        for store in (first, second, watcher):
            store.close()


def test_expiry_skips_a_session_being_served(url: str) -> None:
    serving, cleaner = PostgresStore(url), PostgresStore(url)
    try:
        for sid in ("busy", "idle"):
            serving.save_live_session(LiveSession(sid, "test", "phone", 1.0, False, b"x"))
        with serving.transaction():
            assert serving.load_live_session("busy") is not None
            assert cleaner.expire_live_sessions(before=10.0) == ["idle"]  # no wait for "busy"
            serving.save_live_session(LiveSession("busy", "test", "phone", 20.0, False, b"y"))
        assert cleaner.expire_live_sessions(before=10.0) == []
        assert [s.session_id for s in cleaner.live_sessions()] == ["busy"]
    finally:
        serving.close()
        cleaner.close()


def test_one_account_takes_turns_other_accounts_do_not_wait(url: str) -> None:
    first, second, watcher = PostgresStore(url), PostgresStore(url), PostgresStore(url)
    try:
        item = first.add_item("alice", "Contacts", b"v1", "text/vcard")
        holding, release = threading.Event(), threading.Event()

        def message_of_device_a() -> None:
            with first.transaction():
                seen = first.get_item("alice", "Contacts", item.guid)  # read ...
                holding.set()
                release.wait(30)
                assert seen is not None
                first.replace_item("alice", "Contacts", item.guid, seen.data + b"+a", "text/vcard")  # ... write

        def message_of_device_b() -> bytes:
            with second.transaction():
                seen = second.get_item("alice", "Contacts", item.guid)
                assert seen is not None
                second.replace_item("alice", "Contacts", item.guid, seen.data + b"+b", "text/vcard")
                return seen.data

        a = Worker(message_of_device_a)
        a.start()
        assert holding.wait(30)
        b = Worker(message_of_device_b)
        b.start()
        wait_until(waiting_on_a_lock(watcher, "pg_advisory_xact_lock"), "device b waits for device a")
        second.add_item("bob", "Contacts", b"bob's", "text/vcard")  # another account: no wait
        assert [i.data for i in watcher.items("bob", "Contacts")] == [b"bob's"]
        release.set()
        a.result()
        assert b.result() == b"v1+a"  # b read after a's write: a's change is not lost
        final = watcher.get_item("alice", "Contacts", item.guid)
        assert final is not None and final.data == b"v1+a+b"
    finally:
        for store in (first, second, watcher):
            store.close()


def test_guids_and_revisions_are_unique_across_workers(url: str) -> None:
    stores = [PostgresStore(url) for _ in range(4)]
    try:
        start = threading.Barrier(len(stores))

        def add_many(store: PostgresStore, n: int) -> list[tuple[str, int]]:
            start.wait(30)
            user = "shared" if n % 2 else f"own{n}"
            return [(i.guid, i.rev) for i in (store.add_item(user, "Notes", b"x", "text/plain") for _ in range(25))]

        workers = [Worker(lambda s=s, n=n: add_many(s, n)) for n, s in enumerate(stores)]
        for w in workers:
            w.start()
        added = [pair for w in workers for pair in w.result()]
        assert len({g for g, _ in added}) == len({r for _, r in added}) == 100
    finally:
        for store in stores:
            store.close()


def test_two_devices_of_one_account_sync_at_once_and_lose_nothing(url: str) -> None:
    """Two workers (each its own PostgresStore and SyncServer) serve two
    devices of one account at the same moment; each device adds contacts
    and both change the same one.  Nothing is lost: every contact reaches
    the server and the other device once, and of the two changes of the
    shared contact one wins and the other is in the conflict log."""
    setup = PostgresStore(url)
    setup.add_user("test", "secret")
    stores = [PostgresStore(url) for _ in range(2)]
    # (os.urandom: the two workers must not make the same session IDs)
    servers = [SyncServer(s, clock=Clock(), random_source=os.urandom, base_url="http://127.0.0.1:8080/sync")
               for s in stores]
    try:
        a, b = device("a"), device("b")
        shared = a.datastores["./addressbook"].add(vcard(0))
        assert sync(servers[0], a).ok and sync(servers[1], b).ok
        (shared_b,) = ab(b)
        a.datastores["./addressbook"].update(shared, vcard(0, "changed on a"))
        b.datastores["./addressbook"].update(shared_b, vcard(0, "changed on b"))
        for n in range(1, 21):
            a.datastores["./addressbook"].add(vcard(n))
            b.datastores["./addressbook"].add(vcard(100 + n))
        start = threading.Barrier(2)

        def run(server: SyncServer, dev: Any) -> bool:
            start.wait(30)
            return bool(sync(server, dev).ok)

        workers = [Worker(lambda: run(servers[0], a)), Worker(lambda: run(servers[1], b))]
        for w in workers:
            w.start()
        assert [w.result() for w in workers] == [True, True]
        assert sync(servers[0], a).ok and sync(servers[1], b).ok  # what the other one added meanwhile
        on_server = [i.data for i in setup.items("test", "Contacts")]

        def names(datas: Any) -> list[str]:
            return sorted(re.search(rb"FN:([^\r\n]*)", d).group(1).decode() for d in datas)  # type: ignore[union-attr]

        expected = sorted([f"John Doe{n}" for n in range(21)] + [f"John Doe{100 + n}" for n in range(1, 21)])
        assert names(on_server) == names(ab(a).values()) == names(ab(b).values()) == expected
        (kept,) = [d for d in on_server if b"Doe0;" in d]
        winner, loser = (b"changed on a", b"changed on b") if b"changed on a" in kept else \
            (b"changed on b", b"changed on a")
        assert winner in kept and loser not in kept
        for dev in (a, b):
            (theirs,) = [d for d in ab(dev).values() if b"Doe0;" in d]
            assert winner in theirs
        (conflict,) = setup.conflicts("test")
        assert loser in conflict.data
    finally:
        for store in (*stores, setup):
            store.close()


# -- --db and SYNCML_DB -----------------------------------------------------------------
@pytest.mark.parametrize(("spec", "path"), [
    ("sync.db", "sync.db"), ("/var/lib/syncml/sync.db", "/var/lib/syncml/sync.db"),
    ("sqlite:///sync.db", "sync.db"), ("sqlite:////var/sync.db", "/var/sync.db"), ("sqlite:///:memory:", ":memory:"),
    ("postgresql://syncml@db/syncml", None), ("postgres://db/syncml", None), ("POSTGRESQL://db/x", None),
])
def test_database_specs(spec: str, path: str | None) -> None:
    assert database_path(spec) == path


@pytest.mark.parametrize("spec", ["mysql://db/x", "sqlite://", "sqlite:///", "sqlite://host/x.db", "http://x/"])
def test_other_urls_are_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="not a database URL"):
        open_store(spec)


def test_display_database_hides_the_password() -> None:
    assert display_database("postgresql://syncml:s3cr%40t@db.example:5433/sync?sslmode=require&password=x") \
        == "postgresql://syncml@db.example:5433/sync?sslmode=require"
    assert display_database("postgres://db/sync") == "postgres://db/sync"
    assert display_database("/tmp/a:b@c.db") == "/tmp/a:b@c.db"


def test_user_commands_on_postgresql(url: str) -> None:
    proc = syncml("user", "add", "test", "--password", "secret", "--db", url)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"added user test ({display_database(url)})\n"
    proc = syncml("user", "list", "--json", "--db", url)
    assert proc.returncode == 0 and '"name": "test"' in proc.stdout
    password = urlsplit(url).password
    if password:
        assert f":{password}@" not in proc.stdout and f"={password}" not in proc.stdout
    store = open_store(url)
    try:
        assert store.users() == ["test"]
    finally:
        store.close()


def test_unreachable_database_one_line_no_password() -> None:
    postgres_url()  # (psycopg installed)
    bad = "postgresql://syncml:hunter2@127.0.0.1:1/syncml"
    proc = syncml("user", "list", "--db", bad)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "hunter2" not in proc.stderr + proc.stdout
    assert "postgresql://syncml@127.0.0.1:1/syncml" in proc.stderr
    proc = syncml("serve", "--port", "0", "--db", bad)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "hunter2" not in proc.stderr + proc.stdout
    assert proc.stderr.startswith("syncml serve: --db postgresql://syncml@127.0.0.1:1/syncml: ")
    proc = syncml("serve", "--port", "0", "--db", "mysql://root:hunter2@db/x")
    assert proc.returncode == 2 and "hunter2" not in proc.stderr and "not a database URL" in proc.stderr


def test_create_app_on_postgresql(url: str) -> None:
    from syncml_codec.server import ConfigError, create_app

    from ..server.test_issue_12_app import FIRST, post

    app = create_app({"SYNCML_DB": url, "SYNCML_LOG_LEVEL": "warning"})
    try:
        store = open_store(url)
        store.add_user("test", "secret")
        status, body = post(app, FIRST.read_bytes())
        assert status.startswith("200") and body
        assert [d.device_id for d in store.devices("test")] != []  # the session reached the database
        store.close()
    finally:
        app.close()
    with pytest.raises(ConfigError) as caught:
        create_app({"SYNCML_DB": "postgresql://syncml:hunter2@127.0.0.1:1/x"})
    assert str(caught.value).startswith("SYNCML_DB=postgresql://syncml@127.0.0.1:1/x: ")
    assert "hunter2" not in str(caught.value) and "\n" not in str(caught.value)


def test_without_psycopg_sqlite_works_and_a_url_names_the_extra() -> None:
    code = ("import sys; sys.modules['psycopg'] = None\n"  # (import psycopg raises ImportError)
            "from syncml_codec.store import open_store\n"
            "open_store(':memory:').close()\n"
            "try:\n    open_store('postgresql://db/x')\nexcept RuntimeError as exc:\n    print(exc)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env())
    assert proc.returncode == 0, proc.stderr
    assert "pip install 'syncml-codec[postgresql]'" in proc.stdout
