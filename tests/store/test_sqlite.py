"""Every store (SQLite and PostgreSQL, see conftest.py): accounts, devices,
items with change tracking, maps, anchors, conflicts, transactions; and
SQLite's file, WAL and schema version."""

from __future__ import annotations

import sqlite3

import pytest

from syncml_codec.model import auth
from syncml_codec.store import SCHEMA_VERSION, Anchors, MapEntry, SQLiteStore, Store, canonical_datastore

from .conftest import dump


@pytest.mark.parametrize(("name", "canonical"), [
    ("Contacts", "Contacts"), ("addressbook", "Contacts"), ("./card", "Contacts"), ("CONTACTS", "Contacts"),
    ("Events", "Events"), ("Calendar", "Events"), ("cal", "Events"), ("Tasks", "Tasks"), ("todo", "Tasks"),
    ("Notes", "Notes"), ("memo", "Notes"), ("Journal", "Journal"), ("/notes?format=sif", "Notes"),
    ("mail", None), ("", None),
])
def test_canonical_names_and_aliases(name: str, canonical: str | None) -> None:
    assert canonical_datastore(name) == canonical


def test_users_keep_only_the_hash(store: Store) -> None:
    store.add_user("test", "secret")
    store.add_user("alice", "hunter2")
    assert store.users() == ["alice", "test"]
    assert store.user_hash("test") == auth.user_password_hash("test", "secret")
    store.add_user("test", "other")
    assert store.user_hash("test") == auth.user_password_hash("test", "other")
    assert store.user_hash("nobody") is None
    text = dump(store)
    assert "secret" not in text and "other" not in text and "hunter2" not in text


def test_devices_nonce_and_devinf(store: Store) -> None:
    dev = store.device("test", "IMEI:1")
    assert dev.nonce is None and dev.devinf is None
    assert store.device("test", "IMEI:1").id == dev.id
    assert store.device("other", "IMEI:1").id != dev.id
    store.set_device_nonce(dev, b"abc")
    store.set_device_devinf(dev, b"\x02\xa4")
    again = store.device("test", "IMEI:1")
    assert (again.nonce, again.devinf) == (b"abc", b"\x02\xa4")


def test_items_revisions_and_tombstones(store: Store) -> None:
    a = store.add_item("test", "Contacts", b"A", "text/vcard", modified=1.0)
    b = store.add_item("test", "Contacts", b"B", "text/vcard")
    assert a.guid != b.guid and b.rev > a.rev
    a2 = store.replace_item("test", "Contacts", a.guid, b"A2", "text/vcard", modified=2.0)
    assert a2 is not None and a2.rev > b.rev and a2.modified == 2.0
    gone = store.delete_item("test", "Contacts", b.guid)
    assert gone is not None and gone.deleted and gone.rev > a2.rev
    assert store.delete_item("test", "Contacts", b.guid) is None
    assert store.replace_item("test", "Contacts", b.guid, b"x", "text/vcard") is None
    assert [i.data for i in store.items("test", "Contacts")] == [b"A2"]
    assert [i.deleted for i in store.items("test", "Contacts", include_deleted=True)] == [False, True]
    assert store.items("test", "Events") == [] and store.items("other", "Contacts") == []
    assert store.get_item("test", "Contacts", "nope") is None


def test_anchors_and_maps(store: Store) -> None:
    dev = store.device("test", "d")
    assert store.anchors(dev, "Contacts") == Anchors(None, None)
    store.set_anchors(dev, "Contacts", "c1", "s1")
    store.set_anchors(dev, "Contacts", "c2", "s2")
    assert store.anchors(dev, "Contacts") == Anchors("c2", "s2")
    store.clear_anchors(dev, "Contacts")
    assert store.anchors(dev, "Contacts") == Anchors()
    store.set_map(dev, "Contacts", None, "1", 5)
    store.set_map(dev, "Contacts", "L1", "1", 5)
    store.set_map(dev, "Contacts", "L2", "2", 6)
    assert store.map_entries(dev, "Contacts") == [MapEntry("L1", "1", 5), MapEntry("L2", "2", 6)]
    store.set_map(dev, "Contacts", "L1", "3", 7)  # a LUID names one item
    assert sorted(e.guid for e in store.map_entries(dev, "Contacts")) == ["2", "3"]
    store.unmap(dev, "Contacts", "2")
    assert [e.guid for e in store.map_entries(dev, "Contacts")] == ["3"]
    store.forget_map(dev, "Contacts")
    assert store.map_entries(dev, "Contacts") == []


def test_conflict_log(store: Store) -> None:
    dev = store.device("test", "d")
    store.log_conflict(dev, "Contacts", "1", b"LOSER", "text/vcard", "server wins", at=3.0)
    (c,) = store.conflicts("test")
    assert (c.device_id, c.guid, c.data, c.reason, c.at) == ("d", "1", b"LOSER", "server wins", 3.0)


def test_transaction_rolls_back_everything(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.add_item("test", "Contacts", b"A", "text/vcard")
        with store.transaction():  # nested: joins the outer one
            store.add_user("test", "x")
        raise RuntimeError("boom")
    assert store.items("test", "Contacts") == [] and store.users() == []
    with store.transaction():
        store.add_item("test", "Contacts", b"A", "text/vcard")
    assert len(store.items("test", "Contacts")) == 1


def test_file_database_wal_schema_version_and_reopen(tmp_path) -> None:
    path = tmp_path / "sync.db"
    store = SQLiteStore(path)
    store.add_user("test", "secret")
    store.add_item("test", "Notes", b"hello", "text/plain")
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()
    again = SQLiteStore(path)
    assert again.users() == ["test"] and again.items("test", "Notes")[0].data == b"hello"
    assert again._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    again.close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(RuntimeError, match="newer"):
        SQLiteStore(path)


def test_session_log(store: Store) -> None:
    dev = store.device("test", "d")
    store.log_session(dev, "abc", 1.0, 2.0, "ok", "Contacts:201 added=2")
    (rec,) = store.sessions("test")
    assert (rec.device_id, rec.session_id, rec.outcome, rec.detail) == ("d", "abc", "ok", "Contacts:201 added=2")
    assert store.sessions("other") == []
