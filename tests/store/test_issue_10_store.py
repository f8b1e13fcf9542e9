"""Issue 10 (store side): per device and datastore the store remembers the
format the device sends (real type, label, version, transfer encoding);
schema version 3 adds the table, and a version-2 database is migrated with
its data kept."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from syncml_codec.model import auth
from syncml_codec.store import SCHEMA_VERSION, DeviceFormat, SQLiteStore, Store

from .test_issue_9_store import V1_SCHEMA

V2_SCHEMA = V1_SCHEMA.replace("hash TEXT NOT NULL)", "hash TEXT NOT NULL, basic_only INTEGER NOT NULL DEFAULT 0)")


def test_device_format_round_trip_per_device_and_datastore(store: Store) -> None:
    phone = store.device("test", "fwm-1")
    other = store.device("test", "IMEI:1")
    assert store.device_format(phone, "Contacts") is None
    sif = DeviceFormat("text/x-s4j-sifc", "text/x-s4j-sifc", "1.1", "b64")
    store.set_device_format(phone, "Contacts", sif)
    assert store.device_format(phone, "Contacts") == sif
    assert store.device_format(phone, "Notes") is None and store.device_format(other, "Contacts") is None
    plain = DeviceFormat("text/x-vcard", "text/vcard", "2.1", "", accepts="text/x-vcard")
    store.set_device_format(phone, "Contacts", plain)  # the latest wins
    assert store.device_format(phone, "Contacts") == plain


def test_format_write_joins_the_message_transaction(store: Store) -> None:
    phone = store.device("test", "fwm-1")
    try:
        with store.transaction():
            store.set_device_format(phone, "Contacts", DeviceFormat("text/x-s4j-sifc"))
            raise RuntimeError("the message failed")
    except RuntimeError:
        pass
    assert store.device_format(phone, "Contacts") is None


def test_version_2_database_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    db = sqlite3.connect(path)
    db.executescript(V2_SCHEMA)
    db.execute("INSERT INTO users (name, hash) VALUES (?, ?)", ("test", auth.user_password_hash("test", "secret")))
    db.execute("INSERT INTO devices (user, device_id) VALUES ('test', 'sc-pim-outlook')")
    db.execute("INSERT INTO items (user, datastore, guid, data, content_type, rev) "
               "VALUES ('test', 'Notes', '1', x'6d696c6b', 'text/plain', 1)")
    db.execute("INSERT INTO anchors (device, datastore, client_last, server_last) VALUES (1, 'Notes', 'a', 'b')")
    db.execute("PRAGMA user_version=2")
    db.commit()
    db.close()
    store = SQLiteStore(path)
    assert store._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    device = store.find_device("test", "sc-pim-outlook")
    assert device is not None
    assert [(i.data, i.content_type) for i in store.items("test", "Notes")] == [(b"milk", "text/plain")]
    assert store.anchors(device, "Notes").client_last == "a"
    assert store.device_format(device, "Notes") is None  # learnt from its next item
    store.set_device_format(device, "Notes", DeviceFormat("text/x-s4j-sifn", "text/x-s4j-sifn", "1.1", "b64"))
    store.close()
    again = SQLiteStore(path)  # reopening a version-3 database migrates nothing
    device = again.find_device("test", "sc-pim-outlook")
    assert device is not None and again.device_format(device, "Notes") is not None
    again.close()


def test_version_1_database_goes_all_the_way(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    db = sqlite3.connect(path)
    db.executescript(V1_SCHEMA)
    db.execute("INSERT INTO devices (user, device_id) VALUES ('test', 'fwm-1')")
    db.execute("PRAGMA user_version=1")
    db.commit()
    db.close()
    store = SQLiteStore(path)
    device = store.find_device("test", "fwm-1")
    assert device is not None
    store.set_device_format(device, "Contacts", DeviceFormat("text/x-s4j-sifc"))
    assert store.device_format(device, "Contacts") == DeviceFormat("text/x-s4j-sifc")
    store.close()
