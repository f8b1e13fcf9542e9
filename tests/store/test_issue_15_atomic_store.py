"""Issue 15 (atomic): savepoints and soft deletes, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from syncml_codec.store import Store


class _Undo(Exception):
    pass


def test_issue_15_savepoint_undoes_only_its_block(store: Store) -> None:
    store.add_user("ann", "pw")
    device = store.device("ann", "dev")
    with store.transaction():
        kept = store.add_item("ann", "Contacts", b"kept", "text/vcard")
        with pytest.raises(_Undo), store.savepoint():
            store.add_item("ann", "Contacts", b"undone", "text/vcard")
            store.replace_item("ann", "Contacts", kept.guid, b"changed", "text/vcard")
            store.set_map(device, "Contacts", "1", kept.guid, 7)
            raise _Undo
        # what the block wrote is gone, also from what this transaction reads
        assert [i.data for i in store.items("ann", "Contacts")] == [b"kept"]
        assert store.map_entries(device, "Contacts") == []
        store.add_item("ann", "Contacts", b"after", "text/vcard")
    assert [i.data for i in store.items("ann", "Contacts")] == [b"kept", b"after"]


def test_issue_15_savepoints_nest_and_keep_when_the_block_ends(store: Store) -> None:
    store.add_user("ann", "pw")
    with store.transaction(), store.savepoint():
        store.add_item("ann", "Notes", b"outer", "text/plain")
        with pytest.raises(_Undo), store.savepoint():
            store.add_item("ann", "Notes", b"inner", "text/plain")
            raise _Undo
        store.add_item("ann", "Notes", b"outer 2", "text/plain")
    assert [i.data for i in store.items("ann", "Notes")] == [b"outer", b"outer 2"]


def test_issue_15_savepoint_within_a_transaction_that_fails_leaves_nothing(store: Store) -> None:
    store.add_user("ann", "pw")
    with pytest.raises(_Undo), store.transaction():
        with store.savepoint():
            store.add_item("ann", "Notes", b"x", "text/plain")
        raise _Undo
    assert store.items("ann", "Notes") == []


def test_issue_15_soft_deletes_kept_per_device_and_forgotten_with_the_map(store: Store) -> None:
    store.add_user("ann", "pw")
    one, two = store.device("ann", "one"), store.device("ann", "two")
    store.set_soft_deleted(one, "Events", "5", 3)
    store.set_soft_deleted(one, "Events", "6", 1)
    store.set_soft_deleted(one, "Events", "5", 4)  # (the latest revision dropped)
    assert store.soft_deleted(one, "Events") == {"5": 4, "6": 1}
    assert store.soft_deleted(two, "Events") == {}
    assert store.soft_deleted(one, "Contacts") == {}
    store.set_soft_deleted(one, "Events", "6", None)
    assert store.soft_deleted(one, "Events") == {"5": 4}
    store.forget_map(one, "Events")
    assert store.soft_deleted(one, "Events") == {}
    store.set_soft_deleted(two, "Events", "9", 1)
    assert store.delete_user("ann")
