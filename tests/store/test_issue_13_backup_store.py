"""Issue 13 (backup): the pending mode per device and datastore (schema 7),
on every store, and the migration of a schema-5 SQLite database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from syncml_codec.store import SCHEMA_VERSION, SQLiteStore, Store


def test_issue_13_pending_mode_is_kept_per_device_and_datastore(store: Store) -> None:
    store.add_user("alice", "pw")
    phone, tablet = store.device("alice", "phone"), store.device("alice", "tablet")
    assert store.pending_mode(phone, "Contacts") is None
    store.set_pending_mode(phone, "Contacts", 205, 10.0)
    assert store.pending_mode(phone, "Contacts") == 205
    assert store.pending_mode(phone, "Events") is None and store.pending_mode(tablet, "Contacts") is None
    store.set_pending_mode(phone, "Contacts", 201)  # replaced, not added
    assert store.pending_mode(phone, "Contacts") == 201
    with store.transaction():
        store.set_pending_mode(phone, "Contacts", None)
    assert store.pending_mode(phone, "Contacts") is None
    store.set_pending_mode(phone, "Contacts", None)  # clearing nothing is no error


def test_issue_13_deleting_an_account_deletes_its_pending_modes(store: Store) -> None:
    store.add_user("alice", "pw")
    store.set_pending_mode(store.device("alice", "phone"), "Notes", 205)
    assert store.delete_user("alice")
    store.add_user("alice", "pw")
    assert store.pending_mode(store.device("alice", "phone"), "Notes") is None


def test_issue_13_schema_5_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    SQLiteStore(path).close()
    db = sqlite3.connect(path)
    db.execute("DROP TABLE pending_modes")
    db.execute("DROP TABLE push_targets")
    db.execute("PRAGMA user_version=5")
    db.commit()
    db.close()
    store = SQLiteStore(path)
    assert store._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    store.add_user("a", "pw")
    device = store.device("a", "d")
    store.set_pending_mode(device, "Contacts", 205)
    assert store.pending_mode(device, "Contacts") == 205
