"""Issue 14 (``syncml serve --imap``): an account's IMAP settings, kept
sealed in ``users.mail_imap`` (schema 11), on every store, and the
migration of a schema-9 database."""

from __future__ import annotations

from typing import Any

import pytest

from syncml_codec.store import SCHEMA_VERSION, open_store
from syncml_codec.store._seal import SealError

from .conftest import is_sqlite, rows

URL = "imap://anna:Sesame%2F42@mail.example.org:143"


def test_issue_14_mail_imap_is_sealed_not_in_clear(store: Any) -> None:
    store.add_user("anna", "pw")
    assert store.mail_imap("anna") is None
    assert store.set_mail_imap("anna", URL)
    assert store.mail_imap("anna") == URL
    raw = repr(rows(store, "users"))
    assert "Sesame" not in raw and "mail.example.org" not in raw
    store.add_user("anna", "new password")  # kept across a new password
    assert store.mail_imap("anna") == URL
    assert store.set_mail_imap("anna", "") and store.mail_imap("anna") is None
    assert not store.set_mail_imap("nobody", URL)


def test_issue_14_mail_imap_and_data_key_do_not_open_as_each_other(store: Any) -> None:
    store.add_user("anna", "pw")
    store.add_user("bob", "pw")
    store.set_data_key("anna", "a data key")
    store.set_mail_imap("bob", URL)
    with store.transaction():  # Bob's settings copied to Anna's row do not open either
        store._exec(store._sql.set_mail_imap, (rows_value(store, "bob"), "anna"))
    with pytest.raises(SealError):
        store.mail_imap("anna")
    sealed_key = store.account("anna").data_key
    with store.transaction():  # Anna's sealed data key put where her IMAP settings go
        store._exec(store._sql.set_mail_imap, (sealed_key, "anna"))
    with pytest.raises(SealError):  # (the same server secret and account, another label)
        store.mail_imap("anna")
    assert store.mail_imap("bob") == URL and store.data_key("anna") == "a data key"


def rows_value(store: Any, name: str) -> bytes:
    with store.transaction():
        return bytes(store._exec(store._sql.mail_imap, (name,)).fetchone()[0])


def test_issue_14_deleting_an_account_deletes_its_imap_settings(store: Any) -> None:
    store.add_user("anna", "pw")
    store.set_mail_imap("anna", URL)
    assert store.delete_user("anna")
    store.add_user("anna", "pw")
    assert store.mail_imap("anna") is None


def test_issue_14_a_schema_9_database_is_migrated(db_spec: str) -> None:
    store = open_store(db_spec)
    store.add_user("anna", "pw")
    sqlite = is_sqlite(store)
    with store.transaction():
        for statement in ("ALTER TABLE users DROP COLUMN mail_imap",
                          "PRAGMA user_version=9" if sqlite else "UPDATE schema_version SET version = 9"):
            store._exec(statement)
    store.close()
    again = open_store(db_spec)
    try:
        version = (again._db.execute("PRAGMA user_version").fetchone()[0] if sqlite
                   else rows(again, "schema_version")[0][0])
        assert version == SCHEMA_VERSION >= 10
        assert again.mail_imap("anna") is None
        assert again.set_mail_imap("anna", URL) and again.mail_imap("anna") == URL
    finally:
        again.close()
