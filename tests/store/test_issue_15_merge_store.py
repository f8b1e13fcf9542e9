"""Issue 15 (capability-aware merges): the item revisions a ``merge`` conflict
is resolved against (schema 15: the last few per item), the other version of
a logged conflict, on every store, and the migration of a schema-11 database."""

from __future__ import annotations

from typing import Any

from syncml_codec.store import SCHEMA_VERSION, open_store
from syncml_codec.store.base import KEPT_REVISIONS

from .conftest import is_sqlite, rows


def test_issue_15_the_last_revisions_of_an_item_are_kept(store: Any) -> None:
    store.add_user("anna", "pw")
    for rev in range(1, KEPT_REVISIONS + 3):
        store.keep_revision("anna", "Contacts", "7", rev, b"version %d" % rev, "text/vcard")
    store.keep_revision("anna", "Contacts", "7", 3, b"kept once", "text/vcard")  # (a resent message: no error)
    assert store.item_revision("anna", "Contacts", "7", 1) is None  # (older than the last KEPT_REVISIONS)
    assert store.item_revision("anna", "Contacts", "7", KEPT_REVISIONS + 2) == (b"version 6", "text/vcard")
    assert store.item_revision("anna", "Contacts", "7", 3) == (b"version 3", "text/vcard")
    assert len(rows(store, "item_revisions")) == KEPT_REVISIONS
    assert store.item_revision("anna", "Contacts", "8", 3) is None
    assert store.item_revision("bob", "Contacts", "7", 3) is None
    assert store.delete_user("anna") and rows(store, "item_revisions") == []


def test_issue_15_a_conflict_keeps_both_versions(store: Any) -> None:
    store.add_user("anna", "pw")
    device = store.device("anna", "phone")
    store.log_conflict(device, "Contacts", "1", b"theirs", "text/x-vcard", "both changed; server wins", 5.0,
                       other_data=b"ours", other_type="text/vcard")
    store.log_conflict(device, "Contacts", "2", b"old style", "text/vcard", "both changed; client wins", 6.0)
    first, second = store.conflicts("anna")
    assert (first.data, first.content_type, first.other_data, first.other_type) == (
        b"theirs", "text/x-vcard", b"ours", "text/vcard")
    assert (second.other_data, second.other_type) == (b"", "")
    assert store.conflict(first.id) == first


def test_issue_15_a_schema_14_database_is_migrated(db_spec: str) -> None:
    store = open_store(db_spec)
    store.add_user("anna", "pw")
    device = store.device("anna", "phone")
    store.log_conflict(device, "Contacts", "1", b"theirs", "text/vcard", "logged before", 1.0)
    sqlite = is_sqlite(store)
    with store.transaction():
        for statement in ("DROP TABLE item_revisions", "ALTER TABLE conflicts DROP COLUMN second_data",
                          "ALTER TABLE conflicts DROP COLUMN second_type",
                          "PRAGMA user_version=14" if sqlite else "UPDATE schema_version SET version = 14"):
            store._exec(statement)
    store.close()
    again = open_store(db_spec)
    try:
        version = (again._db.execute("PRAGMA user_version").fetchone()[0] if sqlite
                   else rows(again, "schema_version")[0][0])
        assert version == SCHEMA_VERSION >= 15
        (old,) = again.conflicts("anna")
        assert old.data == b"theirs" and old.other_data == b"" and old.other_type == ""
        again.keep_revision("anna", "Contacts", "1", 1, b"v1", "text/vcard")
        assert again.item_revision("anna", "Contacts", "1", 1) == (b"v1", "text/vcard")
    finally:
        again.close()
