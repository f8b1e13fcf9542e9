"""Issue 13 (auth), over both stores: an account's authentication policy,
its data-encryption secret kept sealed, and domains disabled as a whole."""

from __future__ import annotations

from typing import Any

import pytest

from syncml_codec.store import account_domain
from syncml_codec.store._seal import SealError, seal, unseal

from .conftest import dump, is_sqlite, rows


def test_auth_policy_is_kept_per_account(store: Any) -> None:
    store.add_user("anna", "pw")
    assert store.account("anna").auth_policy is None
    assert store.set_auth_policy("anna", "md5")
    assert store.account("anna").auth_policy == "md5"
    store.add_user("anna", "new password")  # a new password keeps the policy
    assert store.account("anna").auth_policy == "md5"
    assert store.set_auth_policy("anna", None) and store.account("anna").auth_policy is None
    assert not store.set_auth_policy("nobody", "basic")


def test_data_key_is_sealed_not_in_clear(store: Any) -> None:
    store.add_user("anna", "pw")
    assert store.data_key("anna") is None
    assert store.set_data_key("anna", "Sesame-Street-42")
    assert store.data_key("anna") == "Sesame-Street-42"
    assert "Sesame-Street-42" not in dump(store) and b"Sesame-Street-42" not in repr(rows(store, "users")).encode()
    sealed = store.account("anna").data_key
    assert isinstance(sealed, bytes) and len(sealed) > 16
    store.add_user("anna", "new password")  # kept across a new password
    assert store.data_key("anna") == "Sesame-Street-42"
    assert store.set_data_key("anna", None) and store.data_key("anna") is None
    assert not store.set_data_key("nobody", "x")


def test_a_sealed_key_copied_to_another_account_does_not_open(store: Any) -> None:
    store.add_user("anna", "pw")
    store.add_user("bob", "pw")
    store.set_data_key("anna", "hers")
    sealed = store.account("anna").data_key
    with store.transaction():
        store._exec(store._sql.set_data_key, (sealed, "bob"))
    with pytest.raises(SealError):
        store.data_key("bob")


def test_seal_round_trip_and_tampering() -> None:
    key = b"s" * 32
    sealed = seal(key, "anna", "κλειδί")
    assert unseal(key, "anna", sealed) == "κλειδί"
    assert seal(key, "anna", "κλειδί") != sealed  # a fresh nonce each time
    for bad in (sealed[:-1] + bytes([sealed[-1] ^ 1]), b"\x02" + sealed[1:], sealed[:10]):
        with pytest.raises(SealError):
            unseal(key, "anna", bad)
    with pytest.raises(SealError):
        unseal(b"t" * 32, "anna", sealed)


def test_domains_are_disabled_and_enabled_case_insensitively(store: Any) -> None:
    assert store.domains() == [] and not store.domain_disabled("example.org")
    store.set_domain_disabled("Example.ORG", True)
    assert store.domain_disabled("example.org") and store.domain_disabled("EXAMPLE.org")
    store.set_domain_disabled("example.net", False)
    assert store.domains() == [("example.net", False), ("example.org", True)]
    store.set_domain_disabled("example.org", False)
    assert not store.domain_disabled("example.org")


def test_account_domain() -> None:
    assert account_domain("anna@Example.Org") == "example.org"
    assert account_domain("a@b@c.example") == "c.example"
    assert account_domain("anna") is None and account_domain("@example.org") is None
    assert account_domain("anna@") is None


def test_a_schema_5_database_is_migrated(db_spec: str) -> None:
    """Schema 5 (before issue 13): no auth_policy, data_key, domains; opening it adds them, accounts kept."""
    from syncml_codec.store import open_store

    store = open_store(db_spec)
    store.add_user("anna", "pw")
    sqlite = is_sqlite(store)
    with store.transaction():
        for statement in ("ALTER TABLE users DROP COLUMN auth_policy", "ALTER TABLE users DROP COLUMN data_key",
                          "DROP TABLE domains",
                          "PRAGMA user_version=5" if sqlite else "UPDATE schema_version SET version = 5"):
            store._exec(statement)
    store.close()
    again = open_store(db_spec)
    try:
        assert again.account("anna").auth_policy is None and again.domains() == []
        assert again.set_auth_policy("anna", "basic") and again.set_data_key("anna", "k")
        assert again.data_key("anna") == "k"
    finally:
        again.close()
