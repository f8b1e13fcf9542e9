"""Issue 12, item 5 (store side): accounts can be disabled (schema version
4 adds ``users.disabled``; a version-3 database is migrated with its data
kept and its accounts enabled) and deleted with everything of theirs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from syncml_codec.model import auth
from syncml_codec.store import SCHEMA_VERSION, Account, DeviceFormat, SQLiteStore, Store
from syncml_codec.store.sqlite import _DEVICE_FORMATS

from .conftest import rows
from .test_issue_10_store import V2_SCHEMA

V3_SCHEMA = V2_SCHEMA + ";\n" + _DEVICE_FORMATS + ";"


def test_disable_and_enable(store: Store) -> None:
    store.add_user("test", "secret")
    assert store.account("test") == Account("test", auth.user_password_hash("test", "secret"))
    assert store.set_disabled("test", True)
    assert store.account("test") == Account("test", auth.user_password_hash("test", "secret"), disabled=True)
    store.add_user("test", "other")  # a new password keeps the account disabled
    account = store.account("test")
    assert account is not None and account.disabled and account.secret == auth.user_password_hash("test", "other")
    assert store.set_disabled("test", False)
    account = store.account("test")
    assert account is not None and not account.disabled
    assert not store.set_disabled("nobody", True) and store.account("nobody") is None


def test_delete_user_removes_everything_of_it_and_nothing_else(store: Store) -> None:
    for name in ("alice", "bob"):
        store.add_user(name, "pw")
        phone = store.device(name, "phone")
        item = store.add_item(name, "Contacts", b"BEGIN:VCARD", "text/vcard")
        store.delete_item(name, "Contacts", store.add_item(name, "Contacts", b"x", "text/vcard").guid)
        store.set_anchors(phone, "Contacts", "c1", "s1")
        store.set_map(phone, "Contacts", "L1", item.guid, item.rev)
        store.set_device_format(phone, "Contacts", DeviceFormat("text/vcard"))
        store.log_conflict(phone, "Contacts", item.guid, b"old", "text/vcard", "server-wins", 1.0)
        store.log_session(phone, "1", 1.0, 2.0, "ok")
    last_rev = store.items("bob", "Contacts", include_deleted=True)[-1].rev
    assert store.delete_user("alice")
    assert store.users() == ["bob"] and store.account("alice") is None
    assert store.find_device("alice", "phone") is None
    assert store.items("alice", "Contacts", include_deleted=True) == []
    assert store.conflicts("alice") == [] and store.sessions("alice") == []
    for table in ("anchors", "maps", "device_formats", "sessions", "conflicts", "devices"):
        assert len(rows(store, table)) == 1, table
    bob = store.find_device("bob", "phone")
    assert bob is not None and store.anchors(bob, "Contacts").client_last == "c1"
    assert len(store.items("bob", "Contacts", include_deleted=True)) == 2
    assert not store.delete_user("alice") and not store.delete_user("nobody")
    # the same name again starts from nothing, and revisions are not reused
    store.add_user("alice", "new")
    assert store.find_device("alice", "phone") is None and store.items("alice", "Contacts") == []
    assert store.add_item("alice", "Contacts", b"y", "text/vcard").rev > last_rev


def test_version_3_database_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "v3.db"
    db = sqlite3.connect(path)
    db.executescript(V3_SCHEMA)
    carol_hash = auth.scrypt_hash("pw", b"s" * 16)
    db.execute("INSERT INTO users (name, hash, basic_only) VALUES (?, ?, 1)", ("carol", carol_hash))
    db.execute("INSERT INTO users (name, hash) VALUES (?, ?)", ("test", auth.user_password_hash("test", "secret")))
    db.execute("INSERT INTO devices (user, device_id) VALUES ('test', 'phone')")
    db.execute("INSERT INTO device_formats (device, datastore, content_type) VALUES (1, 'Contacts', 'text/vcard')")
    db.execute("PRAGMA user_version=3")
    db.commit()
    db.close()
    store = SQLiteStore(path)
    assert store._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 6
    carol, test = store.account("carol"), store.account("test")
    assert carol is not None and carol.basic_only and not carol.disabled
    assert test == Account("test", auth.user_password_hash("test", "secret"))
    device = store.find_device("test", "phone")
    assert device is not None and store.device_format(device, "Contacts") == DeviceFormat("text/vcard")
    assert store.set_disabled("test", True)
    store.close()
    again = SQLiteStore(path)  # reopening a migrated database migrates nothing and keeps the flag
    test = again.account("test")
    assert test is not None and test.disabled
    again.close()
