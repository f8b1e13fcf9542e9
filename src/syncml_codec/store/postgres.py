"""The PostgreSQL store: the :class:`~syncml_codec.store.base.Store`
protocol on a PostgreSQL database (psycopg 3 with its connection pool), for
servers that run several worker processes on one or more hosts.

``PostgresStore("postgresql://syncml@db.example.org/syncml")`` connects once
to create or migrate the schema, then serves from a pool opened in the
process that uses it (a pool does not survive a ``fork``: a store carried
into a child process opens a new one there).  The password of the URL is
never shown: :func:`~syncml_codec.store.display_database` is what logs and messages print.

Transactions.  ``with store.transaction():`` takes one connection from the
pool and holds it for the thread that opened it until the block ends
(commit, or rollback if it raises); nested blocks of that thread join it,
other threads get their own connection.  A method called outside a block
runs in a transaction of its own.  Isolation is PostgreSQL's default, READ
COMMITTED, made safe by locks rather than by serializable retries:

* a message's live-session row is read with ``SELECT ... FOR UPDATE``
  (:meth:`PostgresStore.load_live_session`), so two messages of one session
  never run at once, whichever workers receive them;
* the first item read or write of a transaction for an account takes a
  transaction-level advisory lock on that account
  (``pg_advisory_xact_lock``), held to the commit: the messages of two
  devices of one account, served by different workers, take turns on the
  account's items from that point, exactly as every writer takes turns on
  SQLite (``BEGIN IMMEDIATE``).  The engine's read-compare-write (a change
  from the device against the server's revision of the item, conflicts) thus
  sees no concurrent change and loses none; other accounts run in parallel.
  Locks are taken in one order (session row, then one account), so they do
  not deadlock;
* GUIDs and revisions come from sequences (``nextval`` never hands one
  number out twice, and is not rolled back: a failed message leaves a gap).

Round trips.  A gunicorn worker on PostgreSQL spends most of a message
waiting for the database, so a transaction waits as little as it can
(issue 12: from 26 waits per message of a two-way sync to under 10,
``benchmarks/roundtrips.py`` counts them), with the same guarantees:

* it runs in psycopg's pipeline mode on an autocommit connection, with its
  own ``BEGIN`` and ``COMMIT``: a statement is queued, and sent with the
  next one whose rows (or ``rowcount``) are read, so writes whose result
  nobody reads (maps, anchors, the session's state, the account lock) cost
  no wait of their own, ``BEGIN`` goes with the first statement and
  ``COMMIT`` with the closing sync.  The server still runs the statements
  one after the other in one transaction; an error of a queued statement is
  raised at the next read or at the end of the block, before it counts as
  committed, and the whole block is rolled back;
* the items a transaction read or wrote are kept until it ends (package 4
  reads a datastore's items, then each again as it is sent): the account's
  lock, taken by every item read and write, is held to the commit, so no
  other transaction changes them meanwhile;
* the pool checks a connection it hands out with a query only when its
  socket has something to read (the server spoke while it was idle: a
  shutdown or a terminated backend sends its error, then closes) or libpq
  knows it is broken, instead of a query per checkout.

Expiring live sessions and used nonces skips rows another transaction
holds (``FOR UPDATE SKIP LOCKED``): a session whose message is being served
right now is not expired under it, and two workers cleaning up at once
neither wait for nor deadlock on each other.

Schema.  A ``schema_version`` table holds the version (:data:`SCHEMA_VERSION`,
the same number as the SQLite schema with the same content).  Opening
creates what is missing and runs the migrations after the stored version in
one transaction under ``pg_advisory_xact_lock``, with the version read again
inside it, so that any number of processes opening a new database at once
all succeed and create it once; a database of a newer version is refused.
Everything is created in the connection's current schema (``search_path``:
``?options=-csearch_path%3Dsyncml`` in the URL puts it in schema ``syncml``).
"""

from __future__ import annotations

import logging
import os
import secrets
import select
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from ._spec import display_database
from ._sql import SQLStore, item_of
from .base import Device, LiveSession, StoredItem

__all__ = ["SCHEMA_VERSION", "PostgresStore"]

log = logging.getLogger("syncml_codec.store")

#: the version of the database schema this code writes (the SQLite store's number for the same tables)
SCHEMA_VERSION = 16

#: seconds to wait for the server when connecting
CONNECT_TIMEOUT = 10

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    hash TEXT NOT NULL,
    basic_only BOOLEAN NOT NULL DEFAULT FALSE,
    disabled BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE TABLE IF NOT EXISTS devices (
    id BIGSERIAL PRIMARY KEY,
    account TEXT NOT NULL,
    device_id TEXT NOT NULL,
    nonce BYTEA,
    devinf BYTEA,
    UNIQUE (account, device_id)
);
CREATE SEQUENCE IF NOT EXISTS guid_seq;
CREATE SEQUENCE IF NOT EXISTS rev_seq;
CREATE TABLE IF NOT EXISTS items (
    id BIGSERIAL PRIMARY KEY,
    account TEXT NOT NULL,
    datastore TEXT NOT NULL,
    guid TEXT NOT NULL,
    data BYTEA NOT NULL,
    content_type TEXT NOT NULL,
    rev BIGINT NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    modified DOUBLE PRECISION NOT NULL DEFAULT 0,
    UNIQUE (account, datastore, guid)
);
CREATE TABLE IF NOT EXISTS anchors (
    device BIGINT NOT NULL REFERENCES devices(id),
    datastore TEXT NOT NULL,
    client_last TEXT,
    server_last TEXT,
    PRIMARY KEY (device, datastore)
);
CREATE TABLE IF NOT EXISTS maps (
    seq BIGSERIAL,
    device BIGINT NOT NULL REFERENCES devices(id),
    datastore TEXT NOT NULL,
    guid TEXT NOT NULL,
    luid TEXT,
    known_rev BIGINT NOT NULL,
    PRIMARY KEY (device, datastore, guid)
);
CREATE INDEX IF NOT EXISTS maps_by_luid ON maps (device, datastore, luid);
CREATE TABLE IF NOT EXISTS device_formats (
    device BIGINT NOT NULL REFERENCES devices(id),
    datastore TEXT NOT NULL,
    content_type TEXT NOT NULL,
    declared TEXT NOT NULL DEFAULT '',
    version TEXT NOT NULL DEFAULT '',
    encoding TEXT NOT NULL DEFAULT '',
    accepts TEXT,
    PRIMARY KEY (device, datastore)
);
CREATE TABLE IF NOT EXISTS sessions (
    id BIGSERIAL PRIMARY KEY,
    device BIGINT NOT NULL REFERENCES devices(id),
    session_id TEXT NOT NULL,
    started DOUBLE PRECISION NOT NULL,
    ended DOUBLE PRECISION NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS conflicts (
    id BIGSERIAL PRIMARY KEY,
    device BIGINT NOT NULL REFERENCES devices(id),
    datastore TEXT NOT NULL,
    guid TEXT NOT NULL,
    data BYTEA NOT NULL,
    content_type TEXT NOT NULL,
    reason TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS live_sessions (
    session_id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    device_id TEXT NOT NULL,
    last_seen DOUBLE PRECISION NOT NULL,
    done BOOLEAN NOT NULL,
    state BYTEA NOT NULL
);
CREATE INDEX IF NOT EXISTS live_sessions_by_last_seen ON live_sessions (last_seen);
CREATE INDEX IF NOT EXISTS live_sessions_by_device ON live_sessions (account, device_id);
CREATE TABLE IF NOT EXISTS server_secret (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    secret BYTEA NOT NULL
);
CREATE TABLE IF NOT EXISTS used_nonces (
    nonce TEXT PRIMARY KEY,
    expires DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS used_nonces_by_expiry ON used_nonces (expires);
CREATE TABLE IF NOT EXISTS push_targets (
    device BIGINT NOT NULL REFERENCES devices(id),
    datastore TEXT NOT NULL,
    server_id TEXT NOT NULL,
    server_uri TEXT NOT NULL,
    registered DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (device, datastore)
)
"""

#: schema version -> the step from the version before, run in the opening
#: transaction after the CREATE ... IF NOT EXISTS of :data:`_SCHEMA` (which
#: already makes a new database current, so a step must be idempotent: ``ADD
#: COLUMN IF NOT EXISTS``); statements separated by ``;``.  Version 5 is the first PostgreSQL schema;
#: version 6 adds the table ``push_targets`` (server-alerted sync), which the CREATE ... IF NOT EXISTS
#: makes: no step.
_MIGRATIONS: dict[int, str] = {
    # version 7: per device and datastore the sync mode its next sync must take (syncml backup restore)
    7: """CREATE TABLE IF NOT EXISTS pending_modes (
    device BIGINT NOT NULL REFERENCES devices(id),
    datastore TEXT NOT NULL,
    mode INTEGER NOT NULL,
    since DOUBLE PRECISION NOT NULL DEFAULT 0,
    PRIMARY KEY (device, datastore)
)""",
    # version 8 (issue 13): the account's authentication policy (NULL: the server's) and sealed
    # data-encryption secret, and the domains disabled as a whole
    8: """
ALTER TABLE users ADD COLUMN IF NOT EXISTS auth_policy TEXT;
ALTER TABLE users ADD COLUMN IF NOT EXISTS data_key BYTEA;
CREATE TABLE IF NOT EXISTS domains (
    name TEXT PRIMARY KEY,
    disabled BOOLEAN NOT NULL DEFAULT FALSE
)
""",
    # version 9 (issue 14): per device and datastore the <Filter> whose window the device holds
    9: """CREATE TABLE IF NOT EXISTS device_filters (
    device BIGINT NOT NULL REFERENCES devices(id),
    datastore TEXT NOT NULL,
    filter BYTEA NOT NULL,
    PRIMARY KEY (device, datastore)
)""",
    # version 10 (issue 14, hierarchical sync): the GUID of the folder item that contains an item
    # ('': the datastore's root, where every existing item stays), and an index to find a folder's items
    10: """
ALTER TABLE items ADD COLUMN IF NOT EXISTS parent TEXT NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS items_by_parent ON items (account, datastore, parent)
""",
    # version 11 (issue 14): the account's IMAP mail settings (an imap:// URL with its password), sealed
    11: "ALTER TABLE users ADD COLUMN IF NOT EXISTS mail_imap BYTEA",
    # version 12 (issue 14): the pieces of the large objects a live session sends or receives in MoreData
    # chunks (kept here, not in the session's state written with every message; dropped with the session)
    12: """CREATE TABLE IF NOT EXISTS session_chunks (
    session_id TEXT NOT NULL,
    obj TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (session_id, obj, seq)
)""",
    # version 13 (issue 14, wire): the revision whose change last changed an item's content (0: none since
    # it was added; a pure move keeps it); existing items take their revision
    13: """
ALTER TABLE items ADD COLUMN IF NOT EXISTS content_rev BIGINT;
UPDATE items SET content_rev = rev WHERE content_rev IS NULL;
ALTER TABLE items ALTER COLUMN content_rev SET DEFAULT 0;
ALTER TABLE items ALTER COLUMN content_rev SET NOT NULL
""",
    # version 14 (issue 15): per device and datastore the GUIDs the device dropped with SftDel
    14: """CREATE TABLE IF NOT EXISTS soft_deletes (
    device BIGINT NOT NULL REFERENCES devices(id),
    datastore TEXT NOT NULL,
    guid TEXT NOT NULL,
    rev BIGINT NOT NULL,
    PRIMARY KEY (device, datastore, guid)
)""",
    # version 15 (issue 15): the last few versions of each replaced item (the base of a ``merge``
    # conflict) and the other version of a logged conflict (the winning or merged one)
    15: """CREATE TABLE IF NOT EXISTS item_revisions (
    account TEXT NOT NULL,
    datastore TEXT NOT NULL,
    guid TEXT NOT NULL,
    rev BIGINT NOT NULL,
    data BYTEA NOT NULL,
    content_type TEXT NOT NULL,
    PRIMARY KEY (account, datastore, guid, rev)
);
ALTER TABLE conflicts ADD COLUMN IF NOT EXISTS second_data BYTEA NOT NULL DEFAULT '\\x';
ALTER TABLE conflicts ADD COLUMN IF NOT EXISTS second_type TEXT NOT NULL DEFAULT ''
""",
    # version 16 (issue 15, suspend): per device and datastore the session that can be resumed (Alert 225),
    # and the changes sent in it that the device acknowledged
    16: """CREATE TABLE IF NOT EXISTS resume_points (
    device BIGINT NOT NULL REFERENCES devices(id),
    datastore TEXT NOT NULL,
    session_id TEXT NOT NULL,
    mode INTEGER NOT NULL,
    client_next TEXT NOT NULL,
    server_next TEXT NOT NULL,
    suspended BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (device, datastore)
);
CREATE TABLE IF NOT EXISTS resume_acks (
    device BIGINT NOT NULL REFERENCES devices(id),
    datastore TEXT NOT NULL,
    guid TEXT NOT NULL,
    rev BIGINT NOT NULL,
    PRIMARY KEY (device, datastore, guid)
)""",
}

_ITEM_COLUMNS = "guid, data, content_type, rev, deleted, modified, parent"


def _one_line(exc: BaseException) -> str:
    """libpq's messages run over several lines (a hint on the second)."""
    return "; ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or type(exc).__name__


class _Transaction(threading.local):
    """The connection a thread holds for its open transaction (and its
    pipeline), how deep the blocks are nested, the accounts whose lock it
    took, and whether it ran a statement."""

    conn: psycopg.Connection[Any] | None = None
    pipeline: psycopg.Pipeline | None = None
    depth = 0
    savepoints = 0  # open (their names: syncml_sp1, 2, ...)
    accounts: set[str]
    used = False
    items: dict[tuple[str, str], dict[str, StoredItem]]  # (account, datastore) -> GUID -> item, read under its lock


class _Result:
    """A statement queued in the transaction's pipeline: reading its rows
    waits for them (one round trip for it and everything queued before it);
    so does its ``rowcount``, through a sync of the pipeline."""

    __slots__ = ("_cursor", "_pipeline")

    def __init__(self, cursor: psycopg.Cursor[Any], pipeline: psycopg.Pipeline) -> None:
        self._cursor = cursor
        self._pipeline = pipeline

    @property
    def rowcount(self) -> int:
        self._pipeline.sync()
        return self._cursor.rowcount

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cursor.fetchall())


def _check_idle(conn: psycopg.Connection[Any]) -> None:
    """The pool's check of a connection it hands out, without a round trip
    when there is no reason for one: an idle connection's socket has
    nothing to read unless the server spoke (a shutdown or a terminated
    backend sends its FATAL error, then closes), so only then, or when
    libpq already knows it is broken, is it checked with a query (and the
    pool replaces it if that fails)."""
    if conn.closed or conn.broken:
        raise psycopg.OperationalError("the connection is closed")
    readable, _, _ = select.select([conn.fileno()], [], [], 0)
    if readable:
        ConnectionPool.check_connection(conn)


class PostgresStore(SQLStore, param="%s", user="account", map_order="seq"):
    """The store on PostgreSQL (see the module doc and
    :class:`syncml_codec.store.base.Store`).  ``pool_size``: connections at
    most in this process (one per thread inside a transaction).  A server
    that cannot be reached (or refuses the login) raises
    :class:`ConnectionError` here, with libpq's message on one line."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.name = display_database(url)
        self._pool_size = pool_size
        self._pool: ConnectionPool | None = None
        self._pid: int | None = None
        self._pool_lock = threading.Lock()
        self._tx = _Transaction()
        self._secret: bytes | None = None
        try:
            conn = psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT)
        except psycopg.OperationalError as exc:
            raise ConnectionError(_one_line(exc)) from exc
        with conn:
            self._upgrade(conn)

    def __repr__(self) -> str:
        return f"PostgresStore({self.name!r})"

    @staticmethod
    def _upgrade(conn: psycopg.Connection[Any]) -> None:
        """Create or migrate the schema in one transaction, under an advisory
        lock of this schema, reading the version inside it."""
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('syncml_codec.schema:' || current_schema()))")
            version = 0
            if conn.execute("SELECT to_regclass('schema_version')").fetchone() != (None,):
                row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
                version = int(row[0]) if row and row[0] is not None else 0
            if version > SCHEMA_VERSION:
                raise RuntimeError(f"database schema {version} is newer than this code ({SCHEMA_VERSION})")
            if version == SCHEMA_VERSION:
                return
            for statement in filter(str.strip, _SCHEMA.split(";")):
                conn.execute(statement)
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in filter(str.strip, _MIGRATIONS.get(target, "").split(";")):
                    conn.execute(statement)
            conn.execute("DELETE FROM schema_version")
            conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (SCHEMA_VERSION,))
            log.info("%s: database schema %d created (was %s)", conn.info.dbname, SCHEMA_VERSION, version or "none")

    def _connections(self) -> ConnectionPool:
        """This process's pool, opened on first use."""
        with self._pool_lock:
            if self._pool is None or self._pid != os.getpid():
                # (a pool inherited over a fork is left alone: its threads stayed in the parent)
                # check: a connection the server closed (a PostgreSQL restart) is replaced on
                # checkout, so the message after a restart does not fail on a dead connection
                # (_check_idle: without a round trip for a connection the server said nothing to)
                # autocommit: transaction() sends BEGIN and COMMIT itself, queued in its pipeline
                self._pool = ConnectionPool(self.url, min_size=1, max_size=self._pool_size, open=True,
                                            name="syncml_codec",
                                            kwargs={"connect_timeout": CONNECT_TIMEOUT, "autocommit": True},
                                            check=_check_idle)
                self._pid = os.getpid()
            return self._pool

    def close(self) -> None:
        """Close this process's connections (a transaction still open in
        another thread is cut)."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
            if pool is not None and self._pid == os.getpid():
                pool.close()

    # -- transactions --------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Atomic: commit when the block ends, roll back if it raises.
        Nested blocks of one thread join the outermost one; each thread has
        its own transaction (and connection).

        The block runs in psycopg's pipeline mode (see the module doc): a
        statement whose rows nobody reads is sent with the next one that is
        read, and the ``COMMIT`` goes with the pipeline's closing sync."""
        tx = self._tx
        if tx.conn is not None:
            tx.depth += 1
            try:
                yield
            finally:
                tx.depth -= 1
            return
        pool = self._connections()
        conn = pool.getconn()
        tx.conn, tx.depth, tx.accounts, tx.used, tx.items, tx.savepoints = conn, 1, set(), False, {}, 0
        try:
            with conn.pipeline() as pipeline:
                tx.pipeline = pipeline
                yield
                if tx.used:  # (a block that ran nothing has nothing to commit: no BEGIN was sent)
                    # queued: sent with the closing sync, and any error of a queued statement
                    # (or of the commit) is raised there, before the block counts as committed
                    conn.execute("COMMIT")
        except BaseException:
            with suppress(psycopg.Error):  # a broken connection: the pool discards it
                conn.rollback()
            raise
        finally:
            tx.conn, tx.pipeline, tx.depth, tx.items = None, None, 0, {}
            pool.putconn(conn)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Inside :meth:`transaction`: undo the block's writes if it raises
        (the exception goes on), keep them otherwise.  Savepoints nest.  A
        database error is not undone here: the transaction as a whole fails.
        The items read so far are read again after an undo, and the account
        locks taken again (a lock taken after a savepoint goes with it)."""
        tx = self._tx
        assert tx.conn is not None, "inside a transaction only"
        tx.savepoints += 1
        name = f"syncml_sp{tx.savepoints}"
        accounts = set(tx.accounts)
        self._exec(f"SAVEPOINT {name}")
        try:
            yield
        except psycopg.Error:
            raise
        except BaseException:
            self._exec(f"ROLLBACK TO SAVEPOINT {name}")
            self._exec(f"RELEASE SAVEPOINT {name}")
            tx.items.clear()
            tx.accounts = accounts
            raise
        finally:
            tx.savepoints -= 1
        self._exec(f"RELEASE SAVEPOINT {name}")

    def _exec(self, sql: str, args: Sequence[object] = ()) -> _Result:
        """Run ``sql`` in this thread's transaction (callers open one):
        queued, and sent when a result of it or of a later statement is
        read (or when the transaction ends)."""
        tx = self._tx
        assert tx.conn is not None and tx.pipeline is not None, "inside self.transaction() only"
        if not tx.used:  # (our own BEGIN, queued: psycopg's own would wait for a sync)
            tx.conn.execute("BEGIN")
            tx.used = True
        return _Result(tx.conn.execute(sql, args), tx.pipeline)

    def _lock_account(self, user: str) -> None:
        """Take the account's lock for the rest of the transaction (once)."""
        tx = self._tx
        if user not in tx.accounts:
            self._exec("SELECT pg_advisory_xact_lock(hashtext('syncml_codec.account:' || current_schema()), "
                       "hashtext(%s))", (user,))
            tx.accounts.add(user)

    # reads run in a transaction: the one open, or one of their own
    def _one(self, sql: str, args: Sequence[object] = (), lock: str | None = None) -> Any:
        with self.transaction():
            if lock is not None:
                self._lock_account(lock)
            return self._exec(sql, args).fetchone()

    def _all(self, sql: str, args: Sequence[object] = (), lock: str | None = None) -> list[Any]:
        with self.transaction():
            if lock is not None:
                self._lock_account(lock)
            return self._exec(sql, args).fetchall()

    def _reading(self) -> AbstractContextManager[object]:
        return self.transaction()

    # -- devices -------------------------------------------------------------
    def device(self, user: str, device_id: str) -> Device:
        """The device, created on first use (by one of two workers at once)."""
        with self.transaction():
            found = self.find_device(user, device_id)
            if found is None:
                self._exec("INSERT INTO devices (account, device_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                           (user, device_id))
                found = self.find_device(user, device_id)
        assert found is not None
        return found

    # -- items ---------------------------------------------------------------
    # The items a transaction read or wrote are kept for the rest of it: every
    # item read or write takes the account's lock first and holds it to the
    # commit, so no other transaction changes them meanwhile, and this one
    # changes them only through the methods below, which keep the copy
    # current.  (Package 4 reads a datastore's items, then each one again as
    # it is sent: one round trip instead of one per item.)
    def _seen(self, user: str, datastore: str) -> dict[str, StoredItem]:
        return self._tx.items.setdefault((user, datastore), {})

    def get_item(self, user: str, datastore: str, guid: str) -> StoredItem | None:
        """The item (a tombstone too); None if it never existed."""
        with self.transaction():
            seen = self._seen(user, datastore)
            item = seen.get(guid)
            if item is None:
                item = super().get_item(user, datastore, guid)
                if item is not None:
                    seen[guid] = item
        return item

    def items(self, user: str, datastore: str, include_deleted: bool = False) -> list[StoredItem]:
        """The items in the order they were added."""
        with self.transaction():
            found = super().items(user, datastore, include_deleted)
            self._seen(user, datastore).update((item.guid, item) for item in found)
        return found

    def delete_user(self, name: str) -> bool:
        with self.transaction():
            self._tx.items.clear()
            return super().delete_user(name)

    def add_item(self, user: str, datastore: str, data: bytes, content_type: str,
                 modified: float = 0.0, parent: str = "") -> StoredItem:
        with self.transaction():
            self._lock_account(user)
            row = self._exec("INSERT INTO items (account, datastore, guid, data, content_type, rev, modified, parent) "
                             "VALUES (%s, %s, nextval('guid_seq')::text, %s, %s, nextval('rev_seq'), %s, %s) "
                             "RETURNING guid, rev", (user, datastore, data, content_type, modified, parent)).fetchone()
            assert row is not None
            item = self._seen(user, datastore)[row[0]] = StoredItem(row[0], data, content_type, int(row[1]), False,
                                                                     modified, parent)
        return item

    def replace_item(self, user: str, datastore: str, guid: str, data: bytes, content_type: str,
                     modified: float = 0.0, parent: str | None = None,
                     same_content: bool | None = None) -> StoredItem | None:
        """The new version; None if there is no such live item.  ``parent``:
        its new folder (a move; None keeps the one it has); ``same_content``:
        whether the content is unchanged (None: the data and type say)."""
        with self.transaction():
            self._lock_account(user)
            # (SET's expressions read the row as it was: the old data, type and content_rev)
            row = self._exec("WITH r AS (SELECT nextval('rev_seq') AS v) "
                             "UPDATE items SET data = %s, content_type = %s, rev = r.v, modified = %s, "
                             "parent = COALESCE(%s, parent), content_rev = CASE WHEN COALESCE(%s, "
                             "items.data = %s AND items.content_type = %s) THEN items.content_rev ELSE r.v END "
                             "FROM r WHERE account = %s AND datastore = %s AND guid = %s AND NOT deleted "
                             "RETURNING items.rev, items.parent",
                             (data, content_type, modified, parent, same_content, data, content_type, user,
                              datastore, guid)).fetchone()
            if row is None:
                return None
            item = self._seen(user, datastore)[guid] = StoredItem(guid, data, content_type, int(row[0]), False,
                                                                   modified, row[1] or "")
        return item

    def delete_item(self, user: str, datastore: str, guid: str, modified: float = 0.0) -> StoredItem | None:
        """Make the item a tombstone, and every item it contains; None if
        there is no such live item."""
        with self.transaction():
            self._lock_account(user)
            found = None
            for one in (guid, *self._descendants(user, datastore, guid)):
                row = self._exec("UPDATE items SET data = ''::bytea, deleted = TRUE, rev = nextval('rev_seq'), "
                                 "modified = %s WHERE account = %s AND datastore = %s AND guid = %s AND NOT deleted "
                                 f"RETURNING {_ITEM_COLUMNS}", (modified, user, datastore, one)).fetchone()
                if row is None:
                    if one == guid:
                        return None
                    continue
                item = self._seen(user, datastore)[one] = item_of(row)
                found = found or item
        return found

    # -- live sessions -------------------------------------------------------
    def load_live_session(self, session_id: str) -> LiveSession | None:
        """The session's row, locked until the transaction ends (``FOR UPDATE``:
        another worker's message of the same session waits for this one)."""
        with self.transaction():
            row = self._exec("SELECT session_id, account, device_id, last_seen, done, state FROM live_sessions "
                             "WHERE session_id = %s FOR UPDATE", (session_id,)).fetchone()
        return None if row is None else LiveSession(row[0], row[1], row[2], float(row[3]), bool(row[4]),
                                                    bytes(row[5]))

    def drop_live_sessions(self, session_ids: Iterable[str]) -> None:
        ids = list(session_ids)
        if ids:
            with self.transaction():
                self._exec("DELETE FROM live_sessions WHERE session_id = ANY(%s)", (ids,))
                self._exec("DELETE FROM session_chunks WHERE session_id = ANY(%s)", (ids,))

    def expire_live_sessions(self, before: float) -> list[str]:
        """Delete the sessions whose last message came before ``before``
        (but one whose message another worker is serving now: its row is
        locked); their IDs."""
        with self.transaction():
            gone = sorted(r[0] for r in self._exec(
                "DELETE FROM live_sessions WHERE session_id IN (SELECT session_id FROM live_sessions "
                "WHERE last_seen < %s FOR UPDATE SKIP LOCKED) RETURNING session_id", (before,)))
            if gone:
                self._exec("DELETE FROM session_chunks WHERE session_id = ANY(%s)", (gone,))
            return gone

    def server_secret(self) -> bytes:
        """32 random bytes made by whichever worker asks first, the same for all."""
        if self._secret is None:
            with self.transaction():
                self._exec("INSERT INTO server_secret (id, secret) VALUES (1, %s) ON CONFLICT DO NOTHING",
                           (secrets.token_bytes(32),))
                row = self._exec("SELECT secret FROM server_secret WHERE id = 1").fetchone()
            assert row is not None
            self._secret = bytes(row[0])
        return self._secret

    def use_nonce(self, nonce: str, expires: float, now: float) -> bool:
        """Record ``nonce`` as used until ``expires``; False if it was already
        (a replay).  Drops the entries that expired before ``now``."""
        with self.transaction():
            self._exec("DELETE FROM used_nonces WHERE nonce IN (SELECT nonce FROM used_nonces WHERE expires < %s "
                       "FOR UPDATE SKIP LOCKED)", (now,))
            return self._exec("INSERT INTO used_nonces (nonce, expires) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                              (nonce, expires)).rowcount == 1

    # -- operator views ------------------------------------------------------
    def reset_device(self, device: Device, datastore: str | None = None) -> list[str]:
        """Forget the anchors of ``datastore`` (of every datastore: None), so
        that the device's next sync of it is slow; its map stays, for that
        slow sync to pair the items it already has.  The datastores whose
        anchors were dropped, sorted."""
        where, args = ("", (device.id,)) if datastore is None else (" AND datastore = %s", (device.id, datastore))
        with self.transaction():
            return sorted(r[0] for r in self._exec(
                f"DELETE FROM anchors WHERE device = %s{where} RETURNING datastore", args))
