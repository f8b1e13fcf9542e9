"""The SQLite store: standard :mod:`sqlite3`, WAL journal, one transaction
per ``with store.transaction():`` (the engine opens one per message, so
nothing it acknowledged is lost and a failed message leaves no trace).

Schema version in ``PRAGMA user_version``; a newer database than this code
knows is refused rather than misread, an older one is migrated in one
transaction (:data:`_MIGRATIONS`).  ``SQLiteStore(":memory:")`` is the store
the tests use.

Several processes share one database file (the workers of a WSGI server,
issue 12): every connection waits up to :data:`BUSY_TIMEOUT` for another's
lock instead of failing with "database is locked" (set before anything else
is done), the WAL journal lets readers go on while one writes, and the
schema is created or migrated inside ``BEGIN IMMEDIATE`` with the version
read again there, so processes opening a new or old database at once all
succeed and only the first does the work.  Transactions are ``BEGIN
IMMEDIATE`` too: they take the write lock at their start, so a message's
transaction reads the session row it will write with nobody writing
in between (the live-session methods rely on it).

The database holds password-equivalent secrets (``b64(md5(user:password))``)
and everyone's data: a new database file is created mode 0600 whatever the
umask (SQLite gives its ``-wal`` and ``-shm`` files the database file's
mode), and migrating a database made by an earlier version takes the group
and other bits off its files (those were created 0644).
"""

from __future__ import annotations

import logging
import os
import secrets
import sqlite3
import stat
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from ._sql import SQLStore
from .base import Device, LiveSession, StoredItem

__all__ = ["BUSY_TIMEOUT", "SCHEMA_VERSION", "SQLiteStore"]

log = logging.getLogger("syncml_codec.store")

#: the version of the database schema this code writes (older databases are migrated on open)
SCHEMA_VERSION = 16
#: seconds a statement waits for another process's lock before "database is locked"
BUSY_TIMEOUT = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    hash TEXT NOT NULL,
    basic_only INTEGER NOT NULL DEFAULT 0,
    disabled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS devices (
    id INTEGER PRIMARY KEY,
    user TEXT NOT NULL,
    device_id TEXT NOT NULL,
    nonce BLOB,
    devinf BLOB,
    UNIQUE (user, device_id)
);
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY,
    user TEXT NOT NULL,
    datastore TEXT NOT NULL,
    guid TEXT NOT NULL,
    data BLOB NOT NULL,
    content_type TEXT NOT NULL,
    rev INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    modified REAL NOT NULL DEFAULT 0,
    UNIQUE (user, datastore, guid)
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS anchors (
    device INTEGER NOT NULL REFERENCES devices(id),
    datastore TEXT NOT NULL,
    client_last TEXT,
    server_last TEXT,
    PRIMARY KEY (device, datastore)
);
CREATE TABLE IF NOT EXISTS maps (
    device INTEGER NOT NULL REFERENCES devices(id),
    datastore TEXT NOT NULL,
    guid TEXT NOT NULL,
    luid TEXT,
    known_rev INTEGER NOT NULL,
    PRIMARY KEY (device, datastore, guid)
);
CREATE INDEX IF NOT EXISTS maps_by_luid ON maps (device, datastore, luid);
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY,
    device INTEGER NOT NULL REFERENCES devices(id),
    session_id TEXT NOT NULL,
    started REAL NOT NULL,
    ended REAL NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS conflicts (
    id INTEGER PRIMARY KEY,
    device INTEGER NOT NULL REFERENCES devices(id),
    datastore TEXT NOT NULL,
    guid TEXT NOT NULL,
    data BLOB NOT NULL,
    content_type TEXT NOT NULL,
    reason TEXT NOT NULL,
    at REAL NOT NULL
);
"""

_DEVICE_FORMATS = """
CREATE TABLE IF NOT EXISTS device_formats (
    device INTEGER NOT NULL REFERENCES devices(id),
    datastore TEXT NOT NULL,
    content_type TEXT NOT NULL,
    declared TEXT NOT NULL DEFAULT '',
    version TEXT NOT NULL DEFAULT '',
    encoding TEXT NOT NULL DEFAULT '',
    accepts TEXT,
    PRIMARY KEY (device, datastore)
)
"""

_LIVE_SESSIONS = """
CREATE TABLE IF NOT EXISTS live_sessions (
    session_id TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    device_id TEXT NOT NULL,
    last_seen REAL NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    state BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS live_sessions_by_owner ON live_sessions (user, device_id);
CREATE INDEX IF NOT EXISTS live_sessions_by_age ON live_sessions (last_seen);
CREATE TABLE IF NOT EXISTS server_keys (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS used_nonces (
    nonce TEXT PRIMARY KEY,
    expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS used_nonces_by_expiry ON used_nonces (expires)
"""

_PUSH_TARGETS = """
CREATE TABLE IF NOT EXISTS push_targets (
    device INTEGER NOT NULL REFERENCES devices(id),
    datastore TEXT NOT NULL,
    server_id TEXT NOT NULL,
    server_uri TEXT NOT NULL,
    registered REAL NOT NULL,
    PRIMARY KEY (device, datastore)
)
"""


def _add_basic_only(db: sqlite3.Connection) -> None:
    """Version 2: ``users.basic_only`` (1: ``hash`` is an scrypt hash and
    MD5 auth is refused)."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(users)")}
    if "basic_only" not in columns:
        db.execute("ALTER TABLE users ADD COLUMN basic_only INTEGER NOT NULL DEFAULT 0")


def _add_device_formats(db: sqlite3.Connection) -> None:
    """Version 3: ``device_formats``, per device and datastore the format the
    device sends and accepts.  Existing devices start without one and learn
    it from their next item (or their device-id prefix)."""
    db.execute(_DEVICE_FORMATS)


def _add_disabled(db: sqlite3.Connection) -> None:
    """Version 4: ``users.disabled`` (1: the account is refused as a wrong
    password would be, ``syncml user disable``).  Existing accounts stay enabled."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(users)")}
    if "disabled" not in columns:
        db.execute("ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0")


def _add_live_sessions(db: sqlite3.Connection) -> None:
    """Version 5: ``live_sessions`` (the engine's state between two messages
    of a session, so that any worker process serves the next one),
    ``server_keys`` (the key of the challenge nonces) and ``used_nonces``
    (accepted nonces, so that none is accepted twice)."""
    for statement in filter(str.strip, _LIVE_SESSIONS.split(";")):
        db.execute(statement)


def _add_push_targets(db: sqlite3.Connection) -> None:
    """Version 6: ``push_targets``, the datastores of devices registered for
    server-alerted sync (the ``push`` URL parameter).  Existing devices start
    without one."""
    db.execute(_PUSH_TARGETS)


_PENDING_MODES = """
CREATE TABLE IF NOT EXISTS pending_modes (
    device INTEGER NOT NULL REFERENCES devices(id),
    datastore TEXT NOT NULL,
    mode INTEGER NOT NULL,
    since REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (device, datastore)
)
"""


def _add_pending_modes(db: sqlite3.Connection) -> None:
    """Version 7: ``pending_modes``, per device and datastore the sync mode
    its next sync must take (``syncml backup restore``: a refresh from the
    server), cleared when that session completes."""
    db.execute(_PENDING_MODES)


def _add_auth(db: sqlite3.Connection) -> None:
    """Version 8 (issue 13): ``users.auth_policy`` (NULL: the server's),
    ``users.data_key`` (the sealed data-encryption secret) and ``domains``
    (a domain disabled as a whole)."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(users)")}
    for name, kind in (("auth_policy", "TEXT"), ("data_key", "BLOB")):
        if name not in columns:
            db.execute(f"ALTER TABLE users ADD COLUMN {name} {kind}")
    db.execute(_DOMAINS)


_DOMAINS = """
CREATE TABLE IF NOT EXISTS domains (
    name TEXT PRIMARY KEY,
    disabled INTEGER NOT NULL DEFAULT 0
)
"""


_DEVICE_FILTERS = """
CREATE TABLE IF NOT EXISTS device_filters (
    device INTEGER NOT NULL REFERENCES devices(id),
    datastore TEXT NOT NULL,
    filter BLOB NOT NULL,
    PRIMARY KEY (device, datastore)
)
"""


def _add_device_filters(db: sqlite3.Connection) -> None:
    """Version 9 (issue 14): ``device_filters``, per device and datastore the
    SyncML ``<Filter>`` whose window the device holds (its last complete
    session's).  Existing devices start without one (unfiltered)."""
    db.execute(_DEVICE_FILTERS)


def _add_parents(db: sqlite3.Connection) -> None:
    """Version 10 (issue 14, hierarchical sync): ``items.parent``, the GUID of
    the folder item that contains an item (``''``: the datastore's root, where
    every existing item stays), and an index to find a folder's items."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(items)")}
    if "parent" not in columns:
        db.execute("ALTER TABLE items ADD COLUMN parent TEXT NOT NULL DEFAULT ''")
    db.execute("CREATE INDEX IF NOT EXISTS items_by_parent ON items (user, datastore, parent)")


def _add_mail_imap(db: sqlite3.Connection) -> None:
    """Version 11 (issue 14): ``users.mail_imap``, the account's IMAP mail
    settings (an ``imap://`` URL with its password), sealed; NULL: none."""
    if "mail_imap" not in {row[1] for row in db.execute("PRAGMA table_info(users)")}:
        db.execute("ALTER TABLE users ADD COLUMN mail_imap BLOB")


_SESSION_CHUNKS = """
CREATE TABLE IF NOT EXISTS session_chunks (
    session_id TEXT NOT NULL,
    obj TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (session_id, obj, seq)
)
"""


_SOFT_DELETES = """
CREATE TABLE IF NOT EXISTS soft_deletes (
    device INTEGER NOT NULL REFERENCES devices(id),
    datastore TEXT NOT NULL,
    guid TEXT NOT NULL,
    rev INTEGER NOT NULL,
    PRIMARY KEY (device, datastore, guid)
)
"""


def _add_session_chunks(db: sqlite3.Connection) -> None:
    """Version 12 (issue 14): ``session_chunks``, the pieces of the large
    objects a live session is receiving or sending in MoreData chunks
    (dropped with the session)."""
    db.execute(_SESSION_CHUNKS)


def _add_content_revs(db: sqlite3.Connection) -> None:
    """Version 13 (issue 14, wire): ``items.content_rev``, the revision whose
    change last changed the item's content (0: none since it was added; a
    pure move keeps it), so that a device holding it gets a Move, not the
    whole item.  Existing items take their revision (their content is taken
    as changed then)."""
    if "content_rev" not in {row[1] for row in db.execute("PRAGMA table_info(items)")}:
        db.execute("ALTER TABLE items ADD COLUMN content_rev INTEGER NOT NULL DEFAULT 0")
        db.execute("UPDATE items SET content_rev = rev")


def _add_soft_deletes(db: sqlite3.Connection) -> None:
    """Version 14 (issue 15): ``soft_deletes``, per device and datastore the
    GUIDs the device dropped with ``SftDel`` and the revision it dropped."""
    db.execute(_SOFT_DELETES)


_ITEM_REVISIONS = """
CREATE TABLE IF NOT EXISTS item_revisions (
    user TEXT NOT NULL,
    datastore TEXT NOT NULL,
    guid TEXT NOT NULL,
    rev INTEGER NOT NULL,
    data BLOB NOT NULL,
    content_type TEXT NOT NULL,
    PRIMARY KEY (user, datastore, guid, rev)
)
"""


def _add_merge_bases(db: sqlite3.Connection) -> None:
    """Version 15 (issue 15): ``item_revisions``, the last few versions an
    item had before it was replaced (the base a ``merge`` conflict is
    resolved against), and ``conflicts.second_data``/``second_type``, the other
    version of a logged conflict (the winning or merged one)."""
    db.execute(_ITEM_REVISIONS)
    columns = {row[1] for row in db.execute("PRAGMA table_info(conflicts)")}
    if "second_data" not in columns:
        db.execute("ALTER TABLE conflicts ADD COLUMN second_data BLOB NOT NULL DEFAULT x''")
    if "second_type" not in columns:
        db.execute("ALTER TABLE conflicts ADD COLUMN second_type TEXT NOT NULL DEFAULT ''")


_RESUME = """
CREATE TABLE IF NOT EXISTS resume_points (
    device INTEGER NOT NULL REFERENCES devices(id),
    datastore TEXT NOT NULL,
    session_id TEXT NOT NULL,
    mode INTEGER NOT NULL,
    client_next TEXT NOT NULL,
    server_next TEXT NOT NULL,
    suspended INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (device, datastore)
);
CREATE TABLE IF NOT EXISTS resume_acks (
    device INTEGER NOT NULL REFERENCES devices(id),
    datastore TEXT NOT NULL,
    guid TEXT NOT NULL,
    rev INTEGER NOT NULL,
    PRIMARY KEY (device, datastore, guid)
)
"""


def _add_resume(db: sqlite3.Connection) -> None:
    """Version 16 (issue 15, suspend): ``resume_points``, per device and
    datastore the session that can be resumed (Alert 225), and
    ``resume_acks``, the changes sent in it that the device acknowledged."""
    for statement in filter(str.strip, _RESUME.split(";")):
        db.execute(statement)


#: schema version -> the step from the version before (run inside the opening transaction)
_MIGRATIONS = {2: _add_basic_only, 3: _add_device_formats, 4: _add_disabled, 5: _add_live_sessions,
               6: _add_push_targets, 7: _add_pending_modes, 8: _add_auth, 9: _add_device_filters,
               10: _add_parents, 11: _add_mail_imap, 12: _add_session_chunks, 13: _add_content_revs,
               14: _add_soft_deletes, 15: _add_merge_bases,
               16: _add_resume}


def _create_private(path: str) -> None:
    """Create ``path`` empty with mode 0600 unless it exists (SQLite then
    makes it a database); the mode is set with fchmod, so the umask does not
    matter and the process umask stays untouched (threads share it)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _make_private(path: str) -> None:
    """Take the group and other bits off an existing database and its -wal/-shm."""
    for name in (path, f"{path}-wal", f"{path}-shm"):
        try:
            mode = stat.S_IMODE(os.stat(name).st_mode)
            if mode & 0o077:
                os.chmod(name, mode & 0o700)
                log.warning("%s was readable by others (mode %o): now %o", name, mode, mode & 0o700)
        except OSError:
            continue



_NO_BLOCK = nullcontext()


class SQLiteStore(SQLStore, param="?", user="user", map_order="rowid"):
    """The default store (see :class:`syncml_codec.store.base.Store`).

    >>> store = SQLiteStore(":memory:")
    >>> store.add_user("test", "secret"); store.users()
    ['test']
    >>> store.add_item("test", "Contacts", b"BEGIN:VCARD...", "text/vcard").guid
    '1'
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        on_disk = self.path not in ("", ":memory:") and not self.path.startswith("file:")
        if on_disk:
            _create_private(self.path)
        # busy_timeout first: every later statement (WAL switch, schema) waits for other processes
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                   timeout=BUSY_TIMEOUT)
        self._db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")
        self._depth = 0
        self._savepoints = 0  # savepoints open (their names: syncml_sp1, 2, ...)
        self._secret: bytes | None = None
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            self._db.close()
            raise RuntimeError(f"{self.path}: database schema {version} is newer than this code ({SCHEMA_VERSION})")
        if on_disk and version < SCHEMA_VERSION:
            _make_private(self.path)
        if self.path != ":memory:":
            self._wal()
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA synchronous=NORMAL")
        if version < SCHEMA_VERSION:
            self._upgrade()

    def _wal(self) -> None:
        """Switch to the WAL journal (persistent: a no-op once set).  The
        switch takes an exclusive lock; when another process holds one as
        it opens the same new database, SQLite may answer "locked" without
        waiting, so this waits and tries again, within the busy timeout."""
        deadline = time.monotonic() + BUSY_TIMEOUT
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def _upgrade(self) -> None:
        """Create what is missing (idempotent: IF NOT EXISTS; also adds the
        tables a database of an earlier build lacks), then run the migrations
        after the version found, all in one ``BEGIN IMMEDIATE`` transaction.
        The version is read again inside it: another process may have
        created or migrated the database since this one looked (two workers
        starting at once), and then there is nothing left to do."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RuntimeError(f"{self.path}: database schema {version} is newer than this code "
                                   f"({SCHEMA_VERSION})")
            if version < SCHEMA_VERSION:
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    self._db.execute(statement)  # an existing table keeps its columns: the migrations add new ones
                for target in range(max(version, 1) + 1, SCHEMA_VERSION + 1):
                    _MIGRATIONS[target](self._db)
                self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()

    # -- transactions --------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Atomic: commit when the block ends, roll back if it raises.
        Nested blocks join the outermost one."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self._db.execute("ROLLBACK")
            raise
        self._depth = 0
        self._db.execute("COMMIT")

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Inside :meth:`transaction`: undo the block's writes if it raises
        (the exception goes on), keep them otherwise.  Savepoints nest."""
        assert self._depth, "inside a transaction only"
        self._savepoints += 1
        name = f"syncml_sp{self._savepoints}"
        self._db.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self._db.execute(f"ROLLBACK TO {name}")
            self._db.execute(f"RELEASE {name}")
            raise
        finally:
            self._savepoints -= 1
        self._db.execute(f"RELEASE {name}")

    def _exec(self, sql: str, args: Sequence[object] = ()) -> sqlite3.Cursor:
        return self._db.execute(sql, args)

    # reads run straight on the connection: in the transaction open, if any, else on their own
    def _one(self, sql: str, args: Sequence[object] = (), lock: str | None = None) -> Any:
        return self._db.execute(sql, args).fetchone()

    def _all(self, sql: str, args: Sequence[object] = (), lock: str | None = None) -> list[Any]:
        return self._db.execute(sql, args).fetchall()

    def _reading(self) -> AbstractContextManager[object]:
        return _NO_BLOCK

    def _lock_account(self, user: str) -> None:
        """No lock of its own: every transaction holds the database's (``BEGIN IMMEDIATE``)."""

    # -- devices -------------------------------------------------------------
    def device(self, user: str, device_id: str) -> Device:
        """The device, created on first use."""
        found = self.find_device(user, device_id)
        if found is None:
            with self.transaction():
                self._exec("INSERT INTO devices (user, device_id) VALUES (?, ?)", (user, device_id))
            found = self.find_device(user, device_id)
            assert found is not None
        return found

    # -- items ---------------------------------------------------------------
    def _next(self, name: str) -> int:
        self._exec("INSERT INTO counters (name, value) VALUES (?, 1) "
                   "ON CONFLICT (name) DO UPDATE SET value = value + 1", (name,))
        return int(self._exec("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()[0])

    def add_item(self, user: str, datastore: str, data: bytes, content_type: str,
                 modified: float = 0.0, parent: str = "") -> StoredItem:
        with self.transaction():
            guid = str(self._next("guid"))
            rev = self._next("rev")
            self._exec("INSERT INTO items (user, datastore, guid, data, content_type, rev, modified, parent) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (user, datastore, guid, data, content_type, rev, modified, parent))
        return StoredItem(guid, data, content_type, rev, False, modified, parent)

    def replace_item(self, user: str, datastore: str, guid: str, data: bytes, content_type: str,
                     modified: float = 0.0, parent: str | None = None,
                     same_content: bool | None = None) -> StoredItem | None:
        """The new version; None if there is no such live item.  ``parent``:
        its new folder (a move; None keeps the one it has); ``same_content``:
        whether the content is unchanged (None: the data and type say)."""
        with self.transaction():
            row = self._exec("SELECT deleted, parent, data, content_type, content_rev FROM items "
                             "WHERE user = ? AND datastore = ? AND guid = ?", (user, datastore, guid)).fetchone()
            if row is None or row[0]:
                return None
            parent = row[1] if parent is None else parent
            rev = self._next("rev")
            same = (bytes(row[2]) == data and row[3] == content_type) if same_content is None else same_content
            self._exec("UPDATE items SET data = ?, content_type = ?, rev = ?, modified = ?, parent = ?, "
                       "content_rev = ? WHERE user = ? AND datastore = ? AND guid = ?",
                       (data, content_type, rev, modified, parent, row[4] if same else rev, user, datastore, guid))
        return StoredItem(guid, data, content_type, rev, False, modified, parent)

    def delete_item(self, user: str, datastore: str, guid: str, modified: float = 0.0) -> StoredItem | None:
        """Make the item a tombstone, and every item it contains (deepest
        first); None if there is no such live item."""
        with self.transaction():
            if not self._live(user, datastore, guid):
                return None
            for inner in (*reversed(self._descendants(user, datastore, guid)), guid):
                rev = self._next("rev")
                self._exec("UPDATE items SET data = x'', deleted = 1, rev = ?, modified = ? "
                           "WHERE user = ? AND datastore = ? AND guid = ?", (rev, modified, user, datastore, inner))
            return self.get_item(user, datastore, guid)

    def _live(self, user: str, datastore: str, guid: str) -> bool:
        row = self._exec("SELECT deleted FROM items WHERE user = ? AND datastore = ? AND guid = ?",
                         (user, datastore, guid)).fetchone()
        return row is not None and not row[0]

    # -- live sessions (schema 5) ----------------------------------------------
    # The engine calls these inside the message's transaction, which is
    # BEGIN IMMEDIATE: it holds the database's write lock from its start, so
    # a session row read there cannot change under the message (another
    # process's message of the same session waits for the commit).

    def load_live_session(self, session_id: str) -> LiveSession | None:
        row = self._exec("SELECT session_id, user, device_id, last_seen, done, state FROM live_sessions "
                         "WHERE session_id = ?", (session_id,)).fetchone()
        return None if row is None else LiveSession(row[0], row[1], row[2], row[3], bool(row[4]), bytes(row[5]))

    def drop_live_sessions(self, session_ids: Iterable[str]) -> None:
        with self.transaction():
            ids = [(i,) for i in session_ids]
            self._db.executemany("DELETE FROM live_sessions WHERE session_id = ?", ids)
            self._db.executemany("DELETE FROM session_chunks WHERE session_id = ?", ids)

    def expire_live_sessions(self, before: float) -> list[str]:
        """Drop the sessions idle since before ``before``; their ids."""
        with self.transaction():
            gone = [r[0] for r in self._exec("SELECT session_id FROM live_sessions WHERE last_seen < ?", (before,))]
            if gone:
                self._exec("DELETE FROM live_sessions WHERE last_seen < ?", (before,))
                self._db.executemany("DELETE FROM session_chunks WHERE session_id = ?", [(i,) for i in gone])
        return gone

    def server_secret(self) -> bytes:
        """32 random bytes made on first use, the same for every process
        (whoever inserts first wins; everyone reads the row)."""
        if self._secret is None:
            with self.transaction():
                self._exec("INSERT INTO server_keys (name, value) VALUES ('challenge', ?) "
                           "ON CONFLICT (name) DO NOTHING", (secrets.token_bytes(32),))
                row = self._exec("SELECT value FROM server_keys WHERE name = 'challenge'").fetchone()
            self._secret = bytes(row[0])
        return self._secret

    def use_nonce(self, nonce: str, expires: float, now: float) -> bool:
        """Record ``nonce`` as used until ``expires``; False if it was already
        (a replay).  Entries expired by ``now`` are dropped."""
        with self.transaction():
            self._exec("DELETE FROM used_nonces WHERE expires < ?", (now,))
            return self._exec("INSERT INTO used_nonces (nonce, expires) VALUES (?, ?) "
                              "ON CONFLICT (nonce) DO NOTHING", (nonce, expires)).rowcount > 0

    # -- operator views ------------------------------------------------------
    def reset_device(self, device: Device, datastore: str | None = None) -> list[str]:
        """Clear the anchors of ``datastore`` (None: of every datastore of the
        device): its next sync of them is slow.  The map stays, so that the
        slow sync pairs the items the device already holds with theirs (no
        duplicates).  The datastores whose anchors were cleared, by name."""
        where, args = ("AND datastore = ?", (device.id, datastore)) if datastore is not None else ("", (device.id,))
        with self.transaction():
            names = sorted(str(r[0]) for r in self._exec(
                f"SELECT datastore FROM anchors WHERE device = ? {where}", args))
            self._exec(f"DELETE FROM anchors WHERE device = ? {where}", args)
        return names
