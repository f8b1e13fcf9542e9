"""Issue 14 (filters in the session): the filter kept per device and
datastore (schema 9), on every store, and the migration of a schema-8 database."""

from __future__ import annotations

from syncml_codec.store import SCHEMA_VERSION, Store, open_store

from .conftest import is_sqlite, rows


def test_issue_14_filter_is_kept_per_device_and_datastore(store: Store) -> None:
    store.add_user("alice", "pw")
    phone, tablet = store.device("alice", "phone"), store.device("alice", "tablet")
    assert store.device_filter(phone, "Contacts") is None
    store.set_device_filter(phone, "Contacts", b"<Filter>a</Filter>")
    assert store.device_filter(phone, "Contacts") == b"<Filter>a</Filter>"
    assert store.device_filter(phone, "Events") is None and store.device_filter(tablet, "Contacts") is None
    with store.transaction():
        store.set_device_filter(phone, "Contacts", b"<Filter>b</Filter>")  # replaced, not added
    assert store.device_filter(phone, "Contacts") == b"<Filter>b</Filter>"
    assert len(rows(store, "device_filters")) == 1
    store.set_device_filter(phone, "Contacts", None)
    assert store.device_filter(phone, "Contacts") is None
    store.set_device_filter(phone, "Contacts", None)  # clearing nothing is no error


def test_issue_14_deleting_an_account_deletes_its_filters(store: Store) -> None:
    store.add_user("alice", "pw")
    store.set_device_filter(store.device("alice", "phone"), "Notes", b"x")
    assert store.delete_user("alice")
    store.add_user("alice", "pw")
    assert store.device_filter(store.device("alice", "phone"), "Notes") is None


def test_issue_14_a_schema_8_database_is_migrated(db_spec: str) -> None:
    store = open_store(db_spec)
    store.add_user("anna", "pw")
    sqlite = is_sqlite(store)
    with store.transaction():
        for statement in ("DROP TABLE device_filters",
                          "PRAGMA user_version=8" if sqlite else "UPDATE schema_version SET version = 8"):
            store._exec(statement)
    store.close()
    again = open_store(db_spec)
    try:
        version = (again._db.execute("PRAGMA user_version").fetchone()[0] if sqlite
                   else rows(again, "schema_version")[0][0])
        assert version == SCHEMA_VERSION >= 9
        device = again.device("anna", "d")
        again.set_device_filter(device, "Contacts", b"f")
        assert again.device_filter(device, "Contacts") == b"f"
    finally:
        again.close()
