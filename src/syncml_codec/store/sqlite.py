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
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..model.auth import scrypt_hash, user_password_hash
from .base import (
    Account,
    Anchors,
    Conflict,
    DatastoreState,
    Device,
    DeviceFormat,
    LiveSession,
    MapEntry,
    SessionRecord,
    StoredItem,
)

__all__ = ["BUSY_TIMEOUT", "SCHEMA_VERSION", "SQLiteStore"]

log = logging.getLogger("syncml_codec.store")

#: the version of the database schema this code writes (older databases are migrated on open)
SCHEMA_VERSION = 5
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

_ITEM_COLUMNS = "guid, data, content_type, rev, deleted, modified"


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


#: schema version -> the step from the version before (run inside the opening transaction)
_MIGRATIONS = {2: _add_basic_only, 3: _add_device_formats, 4: _add_disabled, 5: _add_live_sessions}


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


def _item(row: tuple[str, bytes, str, int, int, float]) -> StoredItem:
    return StoredItem(row[0], bytes(row[1]), row[2], row[3], bool(row[4]), row[5])


class SQLiteStore:
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

    def _exec(self, sql: str, args: tuple[object, ...] = ()) -> sqlite3.Cursor:
        return self._db.execute(sql, args)

    # -- accounts ------------------------------------------------------------
    def add_user(self, name: str, password: str, *, basic_only: bool = False) -> None:
        """Add an account, or change its password (and whether it is
        restricted to basic auth, with an scrypt hash); a disabled account
        stays disabled."""
        secret = scrypt_hash(password, secrets.token_bytes(16)) if basic_only else user_password_hash(name, password)
        with self.transaction():
            self._exec("INSERT INTO users (name, hash, basic_only) VALUES (?, ?, ?) "
                       "ON CONFLICT (name) DO UPDATE SET hash = excluded.hash, basic_only = excluded.basic_only",
                       (name, secret, int(basic_only)))

    def account(self, name: str) -> Account | None:
        row = self._exec("SELECT name, hash, basic_only, disabled FROM users WHERE name = ?", (name,)).fetchone()
        return None if row is None else Account(str(row[0]), str(row[1]), bool(row[2]), bool(row[3]))

    def set_disabled(self, name: str, disabled: bool) -> bool:
        """Disable (or enable again) the account; False if there is none."""
        with self.transaction():
            return self._exec("UPDATE users SET disabled = ? WHERE name = ?", (int(disabled), name)).rowcount > 0

    def delete_user(self, name: str) -> bool:
        """Remove the account and everything of it, in one transaction: its
        items (tombstones too), its devices and their anchors, maps, formats,
        sessions and conflicts.  False if there is no such account.

        Nothing is kept because items and devices are keyed by the user's
        *name*, not by a reference to the account: kept, they would belong to
        whoever is added later under the same name (the old data, and device
        anchors that make a device with the same id skip its slow sync).  The
        GUID and revision counters are not touched, so nothing is reused."""
        with self.transaction():
            if self._exec("DELETE FROM users WHERE name = ?", (name,)).rowcount == 0:
                return False
            devices = "(SELECT id FROM devices WHERE user = ?)"
            for table in ("anchors", "maps", "device_formats", "sessions", "conflicts"):
                self._exec(f"DELETE FROM {table} WHERE device IN {devices}", (name,))
            self._exec("DELETE FROM devices WHERE user = ?", (name,))
            self._exec("DELETE FROM live_sessions WHERE user = ?", (name,))  # its running sessions end
            self._exec("DELETE FROM items WHERE user = ?", (name,))
        return True

    def user_hash(self, name: str) -> str | None:
        """``b64(md5(user:password))``; None for no account or a basic-only one."""
        account = self.account(name)
        return None if account is None or account.basic_only else account.secret

    def users(self) -> list[str]:
        return [r[0] for r in self._exec("SELECT name FROM users ORDER BY name")]

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

    def find_device(self, user: str, device_id: str) -> Device | None:
        """The device, or None if it never authenticated (nothing is written)."""
        row = self._exec("SELECT id, user, device_id, nonce, devinf FROM devices WHERE user = ? AND device_id = ?",
                         (user, device_id)).fetchone()
        if row is None:
            return None
        return Device(row[0], row[1], row[2], None if row[3] is None else bytes(row[3]),
                      None if row[4] is None else bytes(row[4]))

    def set_device_nonce(self, device: Device, nonce: bytes) -> Device:
        with self.transaction():
            self._exec("UPDATE devices SET nonce = ? WHERE id = ?", (nonce, device.id))
        return Device(device.id, device.user, device.device_id, nonce, device.devinf)

    def set_device_devinf(self, device: Device, devinf: bytes) -> Device:
        with self.transaction():
            self._exec("UPDATE devices SET devinf = ? WHERE id = ?", (devinf, device.id))
        return Device(device.id, device.user, device.device_id, device.nonce, devinf)

    # -- items ---------------------------------------------------------------
    def _next(self, name: str) -> int:
        self._exec("INSERT INTO counters (name, value) VALUES (?, 1) "
                   "ON CONFLICT (name) DO UPDATE SET value = value + 1", (name,))
        return int(self._exec("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()[0])

    def add_item(self, user: str, datastore: str, data: bytes, content_type: str,
                 modified: float = 0.0) -> StoredItem:
        with self.transaction():
            guid = str(self._next("guid"))
            rev = self._next("rev")
            self._exec("INSERT INTO items (user, datastore, guid, data, content_type, rev, modified) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)", (user, datastore, guid, data, content_type, rev, modified))
        return StoredItem(guid, data, content_type, rev, False, modified)

    def replace_item(self, user: str, datastore: str, guid: str, data: bytes, content_type: str,
                     modified: float = 0.0) -> StoredItem | None:
        """The new version; None if there is no such live item."""
        with self.transaction():
            if not self._live(user, datastore, guid):
                return None
            rev = self._next("rev")
            self._exec("UPDATE items SET data = ?, content_type = ?, rev = ?, modified = ? "
                       "WHERE user = ? AND datastore = ? AND guid = ?",
                       (data, content_type, rev, modified, user, datastore, guid))
        return StoredItem(guid, data, content_type, rev, False, modified)

    def delete_item(self, user: str, datastore: str, guid: str, modified: float = 0.0) -> StoredItem | None:
        """Make the item a tombstone; None if there is no such live item."""
        with self.transaction():
            if not self._live(user, datastore, guid):
                return None
            rev = self._next("rev")
            self._exec("UPDATE items SET data = x'', deleted = 1, rev = ?, modified = ? "
                       "WHERE user = ? AND datastore = ? AND guid = ?", (rev, modified, user, datastore, guid))
            return self.get_item(user, datastore, guid)

    def _live(self, user: str, datastore: str, guid: str) -> bool:
        row = self._exec("SELECT deleted FROM items WHERE user = ? AND datastore = ? AND guid = ?",
                         (user, datastore, guid)).fetchone()
        return row is not None and not row[0]

    def get_item(self, user: str, datastore: str, guid: str) -> StoredItem | None:
        """The item (a tombstone too); None if it never existed."""
        row = self._exec(f"SELECT {_ITEM_COLUMNS} FROM items WHERE user = ? AND datastore = ? AND guid = ?",
                         (user, datastore, guid)).fetchone()
        return None if row is None else _item(row)

    def items(self, user: str, datastore: str, include_deleted: bool = False) -> list[StoredItem]:
        """The items in the order they were added."""
        where = "" if include_deleted else " AND deleted = 0"
        return [_item(r) for r in self._exec(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE user = ? AND datastore = ?{where} ORDER BY id",
            (user, datastore))]

    # -- anchors and maps ----------------------------------------------------
    def anchors(self, device: Device, datastore: str) -> Anchors:
        row = self._exec("SELECT client_last, server_last FROM anchors WHERE device = ? AND datastore = ?",
                         (device.id, datastore)).fetchone()
        return Anchors() if row is None else Anchors(row[0], row[1])

    def set_anchors(self, device: Device, datastore: str, client_last: str, server_last: str) -> None:
        with self.transaction():
            self._exec("INSERT INTO anchors (device, datastore, client_last, server_last) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (device, datastore) DO UPDATE SET client_last = excluded.client_last, "
                       "server_last = excluded.server_last", (device.id, datastore, client_last, server_last))

    def clear_anchors(self, device: Device, datastore: str) -> None:
        """Forget the anchors: the device's next sync of ``datastore`` is slow."""
        with self.transaction():
            self._exec("DELETE FROM anchors WHERE device = ? AND datastore = ?", (device.id, datastore))

    def map_entries(self, device: Device, datastore: str) -> list[MapEntry]:
        return [MapEntry(r[0], r[1], r[2]) for r in self._exec(
            "SELECT luid, guid, known_rev FROM maps WHERE device = ? AND datastore = ? ORDER BY rowid",
            (device.id, datastore))]

    def set_map(self, device: Device, datastore: str, luid: str | None, guid: str, known_rev: int) -> None:
        """Map ``guid`` for the device; a LUID mapped to another GUID before is
        unmapped there (a LUID names one item)."""
        with self.transaction():
            if luid is not None:
                self._exec("DELETE FROM maps WHERE device = ? AND datastore = ? AND luid = ? AND guid != ?",
                           (device.id, datastore, luid, guid))
            self._exec("INSERT INTO maps (device, datastore, guid, luid, known_rev) VALUES (?, ?, ?, ?, ?) "
                       "ON CONFLICT (device, datastore, guid) DO UPDATE SET luid = excluded.luid, "
                       "known_rev = excluded.known_rev", (device.id, datastore, guid, luid, known_rev))

    def unmap(self, device: Device, datastore: str, guid: str) -> None:
        with self.transaction():
            self._exec("DELETE FROM maps WHERE device = ? AND datastore = ? AND guid = ?",
                       (device.id, datastore, guid))

    def forget_map(self, device: Device, datastore: str) -> None:
        with self.transaction():
            self._exec("DELETE FROM maps WHERE device = ? AND datastore = ?", (device.id, datastore))

    # -- formats per device --------------------------------------------------
    def device_format(self, device: Device, datastore: str) -> DeviceFormat | None:
        """What the device sends (and accepts) for ``datastore``; None until it sent an item."""
        row = self._exec("SELECT content_type, declared, version, encoding, accepts FROM device_formats "
                         "WHERE device = ? AND datastore = ?", (device.id, datastore)).fetchone()
        return None if row is None else DeviceFormat(row[0], row[1], row[2], row[3], row[4])

    def set_device_format(self, device: Device, datastore: str, fmt: DeviceFormat) -> None:
        with self.transaction():
            self._exec("INSERT INTO device_formats (device, datastore, content_type, declared, version, encoding, "
                       "accepts) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device, datastore) DO UPDATE SET "
                       "content_type = excluded.content_type, declared = excluded.declared, "
                       "version = excluded.version, encoding = excluded.encoding, accepts = excluded.accepts",
                       (device.id, datastore, fmt.content_type, fmt.declared, fmt.version, fmt.encoding,
                        fmt.accepts))

    # -- live sessions (schema 5) ----------------------------------------------
    # The engine calls these inside the message's transaction, which is
    # BEGIN IMMEDIATE: it holds the database's write lock from its start, so
    # a session row read there cannot change under the message (another
    # process's message of the same session waits for the commit).

    def load_live_session(self, session_id: str) -> LiveSession | None:
        row = self._exec("SELECT session_id, user, device_id, last_seen, done, state FROM live_sessions "
                         "WHERE session_id = ?", (session_id,)).fetchone()
        return None if row is None else LiveSession(row[0], row[1], row[2], row[3], bool(row[4]), bytes(row[5]))

    def save_live_session(self, session: LiveSession) -> None:
        with self.transaction():
            self._exec("INSERT INTO live_sessions (session_id, user, device_id, last_seen, done, state) "
                       "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (session_id) DO UPDATE SET user = excluded.user, "
                       "device_id = excluded.device_id, last_seen = excluded.last_seen, done = excluded.done, "
                       "state = excluded.state",
                       (session.session_id, session.user, session.device_id, session.last_seen,
                        int(session.done), session.state))

    def drop_live_sessions(self, session_ids: Iterable[str]) -> None:
        with self.transaction():
            self._db.executemany("DELETE FROM live_sessions WHERE session_id = ?", [(i,) for i in session_ids])

    def live_sessions(self, user: str | None = None, device_id: str | None = None) -> list[LiveSession]:
        """The live sessions (of ``user``, of its ``device_id``), oldest
        ``last_seen`` first, without their state."""
        where, args = [], []
        for column, value in (("user", user), ("device_id", device_id)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        sql = ("SELECT session_id, user, device_id, last_seen, done FROM live_sessions"
               + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY last_seen, session_id")
        return [LiveSession(r[0], r[1], r[2], r[3], bool(r[4])) for r in self._exec(sql, tuple(args))]

    def expire_live_sessions(self, before: float) -> list[str]:
        """Drop the sessions idle since before ``before``; their ids."""
        with self.transaction():
            gone = [r[0] for r in self._exec("SELECT session_id FROM live_sessions WHERE last_seen < ?", (before,))]
            if gone:
                self._exec("DELETE FROM live_sessions WHERE last_seen < ?", (before,))
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

    def nonce_used(self, nonce: str, now: float) -> bool:
        """Whether :meth:`use_nonce` recorded ``nonce`` and it has not expired by ``now`` (writes nothing)."""
        return self._exec("SELECT 1 FROM used_nonces WHERE nonce = ? AND expires >= ?",
                          (nonce, now)).fetchone() is not None

    # -- operator views (syncml device|session|conflict) ----------------------
    # The conflict and session logs of one account or of all, and what the
    # store keeps per device.  Read-only but for reset_device.

    def log_conflict(self, device: Device, datastore: str, guid: str, losing_data: bytes, content_type: str,
                     reason: str, at: float = 0.0) -> None:
        with self.transaction():
            self._exec("INSERT INTO conflicts (device, datastore, guid, data, content_type, reason, at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)", (device.id, datastore, guid, losing_data, content_type,
                                                        reason, at))

    def conflicts(self, user: str | None = None) -> list[Conflict]:
        """The conflicts logged (of ``user``; None: everyone's), in the order they happened."""
        where, args = ("WHERE d.user = ?", (user,)) if user is not None else ("", ())
        return [_conflict(r) for r in self._exec(f"{_CONFLICT_SELECT} {where} ORDER BY c.id", args)]

    def conflict(self, conflict_id: int) -> Conflict | None:
        """One conflict by its :attr:`~.base.Conflict.id`; None if there is none."""
        row = self._exec(f"{_CONFLICT_SELECT} WHERE c.id = ?", (conflict_id,)).fetchone()
        return None if row is None else _conflict(row)

    def log_session(self, device: Device, session_id: str, started: float, ended: float, outcome: str,
                    detail: str = "") -> None:
        """Record a finished (or failed) session: ``outcome`` "ok" or what went wrong."""
        with self.transaction():
            self._exec("INSERT INTO sessions (device, session_id, started, ended, outcome, detail) "
                       "VALUES (?, ?, ?, ?, ?, ?)", (device.id, session_id, started, ended, outcome, detail))

    def sessions(self, user: str | None = None, last: int | None = None) -> list[SessionRecord]:
        """The finished sessions (of ``user``; None: everyone's), oldest first;
        ``last``: only the ``last`` newest of them."""
        where, args = ("WHERE d.user = ?", (user,)) if user is not None else ("", ())
        limit = "" if last is None else f" LIMIT {max(0, int(last))}"
        rows = self._exec("SELECT d.device_id, s.session_id, s.started, s.ended, s.outcome, s.detail, d.user "
                          f"FROM sessions s JOIN devices d ON d.id = s.device {where} ORDER BY s.id DESC{limit}",
                          args).fetchall()
        return [SessionRecord(*r) for r in reversed(rows)]

    def devices(self, user: str | None = None) -> list[Device]:
        """Every device (of ``user``), by user and device id."""
        where, args = ("WHERE user = ?", (user,)) if user is not None else ("", ())
        return [_device(r) for r in self._exec(
            f"SELECT id, user, device_id, nonce, devinf FROM devices {where} ORDER BY user, device_id", args)]

    def device_state(self, device: Device) -> list[DatastoreState]:
        """Per datastore the device has anchors, a map or a format for (by
        name): its anchors, map rows with a LUID (``mapped``) and without
        one (``pending``), and its format."""
        names = sorted({str(r[0]) for r in self._exec(
            "SELECT datastore FROM anchors WHERE device = ? UNION SELECT datastore FROM maps WHERE device = ? "
            "UNION SELECT datastore FROM device_formats WHERE device = ?", (device.id,) * 3)})
        states = []
        for name in names:
            mapped, pending = self._exec(
                "SELECT COUNT(luid), COUNT(*) - COUNT(luid) FROM maps WHERE device = ? AND datastore = ?",
                (device.id, name)).fetchone()
            states.append(DatastoreState(name, self.anchors(device, name), int(mapped), int(pending),
                                         self.device_format(device, name)))
        return states

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


_CONFLICT_SELECT = ("SELECT d.device_id, c.datastore, c.guid, c.data, c.content_type, c.reason, c.at, c.id, d.user "
                    "FROM conflicts c JOIN devices d ON d.id = c.device")


def _conflict(row: tuple[str, str, str, bytes, str, str, float, int, str]) -> Conflict:
    return Conflict(row[0], row[1], row[2], bytes(row[3]), row[4], row[5], row[6], row[7], row[8])


def _device(row: tuple[int, str, str, bytes | None, bytes | None]) -> Device:
    return Device(row[0], row[1], row[2], None if row[3] is None else bytes(row[3]),
                  None if row[4] is None else bytes(row[4]))
