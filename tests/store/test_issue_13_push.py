"""Issue 13: the devices registered for server-alerted sync (the ``push``
URL parameter), on every store."""

from __future__ import annotations

from typing import Any

from syncml_codec.store import PushTarget

from .conftest import rows


def test_push_targets_are_kept_per_device_and_datastore(store: Any) -> None:
    store.add_user("test", "secret")
    phone, other = store.device("test", "phone"), store.device("test", "other")
    assert store.push_targets(phone) == []
    store.set_push_target(phone, PushTarget("Events", "http://h/sync", "calendar", 10.0))
    store.set_push_target(phone, PushTarget("Contacts", "http://h/sync", "./contacts", 11.0))
    store.set_push_target(phone, PushTarget("Contacts", "http://h2/sync", "card", 12.0))  # registered again
    assert store.push_targets(phone) == [PushTarget("Contacts", "http://h2/sync", "card", 12.0),
                                         PushTarget("Events", "http://h/sync", "calendar", 10.0)]
    assert store.push_targets(other) == []


def test_deleting_the_user_drops_its_registrations(store: Any) -> None:
    store.add_user("test", "secret")
    phone = store.device("test", "phone")
    store.set_push_target(phone, PushTarget("Contacts", "http://h/sync", "Contacts", 1.0))
    assert store.delete_user("test")
    assert rows(store, "push_targets") == []
