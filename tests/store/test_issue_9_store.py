"""Issue 9, defect 8 (store side): the database was created 0644, and the
MD5 hash it keeps is password-equivalent.  Now a new database and its
-wal/-shm files are 0600 whatever the umask, a version-1 database is
migrated (its files made private too), and an account can be restricted to
basic auth with a salted scrypt hash."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

from syncml_codec.model import auth
from syncml_codec.store import SCHEMA_VERSION, SQLiteStore, Store

from .conftest import dump

#: the schema of version 1 (syncml-codec a02a94d), as those databases hold it
V1_SCHEMA = """
CREATE TABLE users (name TEXT PRIMARY KEY, hash TEXT NOT NULL);
CREATE TABLE devices (id INTEGER PRIMARY KEY, user TEXT NOT NULL, device_id TEXT NOT NULL, nonce BLOB,
                      devinf BLOB, UNIQUE (user, device_id));
CREATE TABLE items (id INTEGER PRIMARY KEY, user TEXT NOT NULL, datastore TEXT NOT NULL, guid TEXT NOT NULL,
                    data BLOB NOT NULL, content_type TEXT NOT NULL, rev INTEGER NOT NULL,
                    deleted INTEGER NOT NULL DEFAULT 0, modified REAL NOT NULL DEFAULT 0,
                    UNIQUE (user, datastore, guid));
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE anchors (device INTEGER NOT NULL REFERENCES devices(id), datastore TEXT NOT NULL, client_last TEXT,
                      server_last TEXT, PRIMARY KEY (device, datastore));
CREATE TABLE maps (device INTEGER NOT NULL REFERENCES devices(id), datastore TEXT NOT NULL, guid TEXT NOT NULL,
                   luid TEXT, known_rev INTEGER NOT NULL, PRIMARY KEY (device, datastore, guid));
CREATE INDEX maps_by_luid ON maps (device, datastore, luid);
CREATE TABLE sessions (id INTEGER PRIMARY KEY, device INTEGER NOT NULL REFERENCES devices(id),
                       session_id TEXT NOT NULL, started REAL NOT NULL, ended REAL NOT NULL, outcome TEXT NOT NULL,
                       detail TEXT NOT NULL);
CREATE TABLE conflicts (id INTEGER PRIMARY KEY, device INTEGER NOT NULL REFERENCES devices(id),
                        datastore TEXT NOT NULL, guid TEXT NOT NULL, data BLOB NOT NULL, content_type TEXT NOT NULL,
                        reason TEXT NOT NULL, at REAL NOT NULL);
"""


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_database_and_its_wal_and_shm_are_0600(tmp_path: Path) -> None:
    path = tmp_path / "sync.db"
    store = SQLiteStore(path)
    store.add_user("test", "secret")
    with store.transaction():  # a write in WAL mode: -wal and -shm exist now
        store.add_item("test", "Notes", b"x", "text/plain")
    files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
    assert all(f.exists() for f in files)
    assert [mode(f) for f in files] == [0o600] * 3
    store.close()


def test_0600_whatever_the_umask(tmp_path: Path) -> None:
    """In a child process with umask 000 (the test's own umask is left
    alone); the child reports the modes while the database is open, since
    closing the last connection removes -wal and -shm."""
    path = tmp_path / "open.db"
    code = ("import os, stat, sys; from syncml_codec.store import SQLiteStore; s = SQLiteStore(sys.argv[1]); "
            "s.add_user('test', 'secret'); s.add_item('test', 'Notes', b'x', 'text/plain'); "
            "print(*(oct(stat.S_IMODE(os.stat(sys.argv[1] + x).st_mode)) for x in ('', '-wal', '-shm')))")
    proc = subprocess.run([sys.executable, "-c", code, str(path)], check=True, timeout=60, capture_output=True,
                          text=True, preexec_fn=lambda: os.umask(0))
    assert proc.stdout.split() == ["0o600"] * 3
    assert mode(path) == 0o600


def test_version_1_database_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(V1_SCHEMA)
    db.execute("INSERT INTO users (name, hash) VALUES (?, ?)", ("test", auth.user_password_hash("test", "secret")))
    db.execute("INSERT INTO devices (user, device_id, nonce) VALUES ('test', 'phone', x'6e6f6e6365')")
    db.execute("INSERT INTO items (user, datastore, guid, data, content_type, rev) "
               "VALUES ('test', 'Contacts', '1', x'41', 'text/vcard', 1)")
    db.execute("PRAGMA user_version=1")
    db.commit()
    db.close()
    os.chmod(path, 0o644)  # as the old code created it
    store = SQLiteStore(path)
    assert store._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert mode(path) == 0o600
    account = store.account("test")
    assert account is not None and not account.basic_only
    assert store.user_hash("test") == auth.user_password_hash("test", "secret")
    dev = store.find_device("test", "phone")
    assert dev is not None and dev.nonce == b"nonce"
    assert [i.data for i in store.items("test", "Contacts")] == [b"A"]
    store.add_user("carol", "pw", basic_only=True)
    store.close()
    again = SQLiteStore(path)  # opening a current database changes nothing
    assert again.users() == ["carol", "test"] and again.account("carol").basic_only
    again.close()


def test_basic_only_account_keeps_a_salted_scrypt_hash(store: Store) -> None:
    store.add_user("carol", "pw", basic_only=True)
    store.add_user("dave", "pw", basic_only=True)
    carol, dave = store.account("carol"), store.account("dave")
    assert carol is not None and dave is not None and carol.basic_only
    assert carol.secret.startswith("scrypt$") and carol.secret != dave.secret  # salted
    assert auth.verify_scrypt(carol.secret, "pw") and not auth.verify_scrypt(carol.secret, "Pw")
    assert store.user_hash("carol") is None  # no MD5 hash: nothing password-equivalent stored
    assert auth.user_password_hash("carol", "pw") not in dump(store)
    store.add_user("carol", "new")  # changing the password without --basic-only: an MD5 account again
    assert store.user_hash("carol") == auth.user_password_hash("carol", "new")


def test_lookups_write_nothing(store: Store) -> None:
    before = dump(store)
    assert store.find_device("test", "phone") is None and store.account("nobody") is None
    assert dump(store) == before
    if isinstance(store, SQLiteStore):
        before_changes = store._db.total_changes
        assert store.find_device("test", "phone") is None and store.account("nobody") is None
        assert store._db.total_changes == before_changes
