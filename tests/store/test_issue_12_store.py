"""Issue 12 (store side): the Store methods of stateless workers (live
sessions, the server secret, used nonces) and of the operator commands
(devices, device_state, reset_device, conflicts and sessions of everyone),
held to one meaning on every store (conftest.py: SQLite and PostgreSQL).

A store that does not have a method yet (the SQLite half of a piece not
merged) makes its test an expected failure, named in the reason; once it
has them the test runs for real."""

from __future__ import annotations

from typing import Any

import pytest

from syncml_codec.store import Anchors, DatastoreState, DeviceFormat, LiveSession, open_store


def needs(store: Any, *methods: str) -> None:
    missing = [m for m in methods if not hasattr(store, m)]
    if missing:
        pytest.xfail(f"{type(store).__name__} has no {', '.join(missing)} yet (another piece of issue 12)")


def live(sid: str, user: str = "test", device_id: str = "phone", last_seen: float = 100.0, done: bool = False,
         state: bytes = b"state") -> LiveSession:
    return LiveSession(sid, user, device_id, last_seen, done, state)


# -- live sessions -----------------------------------------------------------
def test_live_session_save_load_replace_drop(store: Any) -> None:
    needs(store, "load_live_session", "save_live_session", "drop_live_sessions")
    assert store.load_live_session("1") is None
    store.save_live_session(live("1", state=b"\x00\x01 first"))
    store.save_live_session(live("2", user="alice", device_id="laptop"))
    with store.transaction():
        assert store.load_live_session("1") == live("1", state=b"\x00\x01 first")
    store.save_live_session(live("1", last_seen=101.5, done=True, state=b"second"))  # replaced by session_id
    assert store.load_live_session("1") == live("1", last_seen=101.5, done=True, state=b"second")
    store.drop_live_sessions(["1", "nonexistent"])
    assert store.load_live_session("1") is None and store.load_live_session("2") is not None
    store.drop_live_sessions([])
    store.drop_live_sessions(iter(["2"]))  # any iterable
    assert store.load_live_session("2") is None


def test_live_session_write_joins_the_message_transaction(store: Any) -> None:
    needs(store, "load_live_session", "save_live_session")
    with pytest.raises(RuntimeError), store.transaction():
        store.save_live_session(live("1"))
        raise RuntimeError("the message failed")
    assert store.load_live_session("1") is None


def test_live_sessions_listing_oldest_first_without_state(store: Any) -> None:
    needs(store, "save_live_session", "live_sessions")
    store.save_live_session(live("c", last_seen=30.0))
    store.save_live_session(live("a", last_seen=10.0, device_id="laptop"))
    store.save_live_session(live("b", last_seen=20.0, user="alice", done=True))
    assert [s.session_id for s in store.live_sessions()] == ["a", "b", "c"]
    assert all(s.state == b"" for s in store.live_sessions())
    assert store.live_sessions("alice") == [LiveSession("b", "alice", "phone", 20.0, True)]
    assert [s.session_id for s in store.live_sessions("test")] == ["a", "c"]
    assert [s.session_id for s in store.live_sessions("test", "phone")] == ["c"]
    assert [s.session_id for s in store.live_sessions(device_id="phone")] == ["b", "c"]
    assert store.live_sessions("nobody") == []


def test_expire_live_sessions(store: Any) -> None:
    needs(store, "save_live_session", "expire_live_sessions", "live_sessions")
    for sid, seen in (("old", 10.0), ("older", 5.0), ("edge", 20.0), ("new", 30.0)):
        store.save_live_session(live(sid, last_seen=seen))
    assert sorted(store.expire_live_sessions(20.0)) == ["old", "older"]  # last_seen < before
    assert [s.session_id for s in store.live_sessions()] == ["edge", "new"]
    assert store.expire_live_sessions(20.0) == []


def test_server_secret_is_made_once_per_database(db_spec: str) -> None:
    first = open_store(db_spec)
    needs(first, "server_secret")
    second = open_store(db_spec)  # another worker on the same database
    try:
        secret = second.server_secret()
        assert isinstance(secret, bytes) and len(secret) == 32 and len(set(secret)) > 8
        assert first.server_secret() == secret == second.server_secret()
    finally:
        first.close()
        second.close()
    again = open_store(db_spec)
    try:
        assert again.server_secret() == secret
    finally:
        again.close()


def test_use_nonce_once_and_expiry(store: Any) -> None:
    needs(store, "use_nonce")
    assert store.use_nonce("n1", expires=100.0, now=50.0)
    assert not store.use_nonce("n1", expires=100.0, now=60.0)  # a replay
    assert store.use_nonce("n2", expires=70.0, now=60.0)
    # n2 expired by now: dropped, so it could be recorded afresh; n1 is still remembered
    assert store.use_nonce("n3", expires=200.0, now=80.0)
    assert not store.use_nonce("n1", expires=100.0, now=80.0)
    assert store.use_nonce("n2", expires=300.0, now=80.0)


def test_use_nonce_rolls_back_with_the_message(store: Any) -> None:
    needs(store, "use_nonce")
    with pytest.raises(RuntimeError), store.transaction():
        assert store.use_nonce("n1", expires=100.0, now=50.0)
        raise RuntimeError("the message failed")
    assert store.use_nonce("n1", expires=100.0, now=50.0)


def test_nonce_used_reads_what_use_nonce_recorded(store: Any) -> None:
    assert not store.nonce_used("n1", now=50.0)
    assert store.use_nonce("n1", expires=100.0, now=50.0)
    assert store.nonce_used("n1", now=60.0) and not store.nonce_used("n2", now=60.0)
    assert not store.nonce_used("n1", now=101.0)  # expired: no longer counts


# -- operator views ------------------------------------------------------------
def test_devices_of_everyone_and_of_one(store: Any) -> None:
    needs(store, "devices")
    assert store.devices() == []
    for user, device_id in (("zoe", "b"), ("alice", "z"), ("alice", "a"), ("zoe", "a")):
        store.device(user, device_id)
    phone = store.device("alice", "a")
    store.set_device_devinf(phone, b"\x02\xa4devinf")
    assert [(d.user, d.device_id) for d in store.devices()] == [("alice", "a"), ("alice", "z"), ("zoe", "a"),
                                                                 ("zoe", "b")]
    assert store.devices("alice")[0] == store.find_device("alice", "a")
    assert store.devices("alice")[0].devinf == b"\x02\xa4devinf"
    assert [d.device_id for d in store.devices("zoe")] == ["a", "b"]
    assert store.devices("nobody") == []


def test_device_state_per_datastore(store: Any) -> None:
    needs(store, "device_state")
    phone, other = store.device("test", "phone"), store.device("test", "other")
    assert store.device_state(phone) == []
    store.set_anchors(phone, "Events", "c1", "s1")
    store.set_map(phone, "Contacts", "L1", "1", 1)
    store.set_map(phone, "Contacts", "L2", "2", 2)
    store.set_map(phone, "Contacts", None, "3", 3)
    fmt = DeviceFormat("text/x-vcard", "text/x-vcard", "2.1")
    store.set_device_format(phone, "Notes", fmt)
    store.set_anchors(other, "Tasks", "x", "y")  # another device's: not shown
    assert store.device_state(phone) == [
        DatastoreState("Contacts", Anchors(), 2, 1, None),
        DatastoreState("Events", Anchors("c1", "s1"), 0, 0, None),
        DatastoreState("Notes", Anchors(), 0, 0, fmt),
    ]


def test_reset_device_clears_anchors_and_keeps_the_map(store: Any) -> None:
    needs(store, "reset_device", "device_state")
    phone, other = store.device("test", "phone"), store.device("test", "other")
    for name in ("Contacts", "Events", "Notes"):
        store.set_anchors(phone, name, "c", "s")
    store.set_anchors(other, "Contacts", "c", "s")
    store.set_map(phone, "Contacts", "L1", "1", 1)
    assert store.reset_device(phone, "Events") == ["Events"]
    assert store.anchors(phone, "Events") == Anchors() and store.anchors(phone, "Contacts") == Anchors("c", "s")
    assert store.reset_device(phone, "Events") == []  # nothing left to reset there
    assert store.reset_device(phone) == ["Contacts", "Notes"]
    assert all(store.anchors(phone, n) == Anchors() for n in ("Contacts", "Events", "Notes"))
    assert store.map_entries(phone, "Contacts")[0].luid == "L1"  # the slow sync pairs what it knows
    assert store.anchors(other, "Contacts") == Anchors("c", "s")


def test_conflicts_of_everyone_with_id_and_user(store: Any) -> None:
    needs(store, "conflict")
    a, b = store.device("alice", "phone"), store.device("bob", "pda")
    store.log_conflict(a, "Contacts", "1", b"LOSER A", "text/vcard", "server-wins", at=1.0)
    store.log_conflict(b, "Notes", "2", b"LOSER B", "text/plain", "client-wins", at=2.0)
    store.log_conflict(a, "Contacts", "3", b"", "text/vcard", "duplicate", at=3.0)
    everyone = store.conflicts()
    assert [(c.user, c.device_id, c.guid, c.data) for c in everyone] == [
        ("alice", "phone", "1", b"LOSER A"), ("bob", "pda", "2", b"LOSER B"), ("alice", "phone", "3", b"")]
    assert len({c.id for c in everyone}) == 3 and all(c.id > 0 for c in everyone)
    assert [c.guid for c in store.conflicts("alice")] == ["1", "3"]
    assert store.conflicts("alice")[0] == everyone[0]
    assert store.conflict(everyone[1].id) == everyone[1]
    assert store.conflict(max(c.id for c in everyone) + 1) is None


def test_sessions_of_everyone_and_the_last_n(store: Any) -> None:
    needs(store, "conflict")  # (sessions(user=None, last=N) comes with the operator views)
    a, b = store.device("alice", "phone"), store.device("bob", "pda")
    for n, dev in enumerate((a, b, a, b, a), 1):
        store.log_session(dev, f"s{n}", float(n), n + 0.5, "ok" if n != 4 else "failed: 500", f"Contacts:{n}")
    everyone = store.sessions()
    assert [(s.user, s.session_id) for s in everyone] == [("alice", "s1"), ("bob", "s2"), ("alice", "s3"),
                                                          ("bob", "s4"), ("alice", "s5")]
    assert everyone[3].outcome == "failed: 500" and everyone[0].detail == "Contacts:1"
    assert [s.session_id for s in store.sessions("alice")] == ["s1", "s3", "s5"]
    assert [s.session_id for s in store.sessions(last=2)] == ["s4", "s5"]  # the newest, oldest first
    assert [s.session_id for s in store.sessions("bob", last=1)] == ["s4"]
    assert [s.session_id for s in store.sessions("alice", last=10)] == ["s1", "s3", "s5"]
    assert store.sessions("nobody") == []
