"""Issue 15 (suspend): the resume point and the acknowledgements per device
and datastore (schema 16), on every store, and the migration of a
schema-13 SQLite database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from syncml_codec.store import SCHEMA_VERSION, ResumePoint, SQLiteStore, Store


def test_issue_15_resume_point_per_device_and_datastore(store: Store) -> None:
    store.add_user("alice", "pw")
    phone, tablet = store.device("alice", "phone"), store.device("alice", "tablet")
    assert store.resume_point(phone, "Contacts") is None
    store.set_resume_point(phone, "Contacts", ResumePoint("s1", 201, "c1", "s-next"))
    assert store.resume_point(phone, "Contacts") == ResumePoint("s1", 201, "c1", "s-next", False)
    assert store.resume_point(phone, "Events") is None and store.resume_point(tablet, "Contacts") is None
    with store.transaction():  # (the engine writes it in the message's transaction)
        store.set_resume_point(phone, "Contacts", ResumePoint("s1", 201, "c1", "s-next", True), keep_acks=True)
    assert store.resume_point(phone, "Contacts") == ResumePoint("s1", 201, "c1", "s-next", True)
    store.set_resume_point(phone, "Contacts", None)
    assert store.resume_point(phone, "Contacts") is None
    store.set_resume_point(phone, "Contacts", None)  # clearing nothing is no error


def test_issue_15_acknowledgements_go_with_their_resume_point(store: Store) -> None:
    store.add_user("alice", "pw")
    phone = store.device("alice", "phone")
    store.set_resume_point(phone, "Contacts", ResumePoint("s1", 200, "c1", "n1"))
    store.set_resume_ack(phone, "Contacts", "g1", 3)
    store.set_resume_ack(phone, "Contacts", "g2", -1)
    store.set_resume_ack(phone, "Contacts", "g1", 4)  # (the later revision)
    assert store.resume_acks(phone, "Contacts") == {"g1": 4, "g2": -1}
    assert store.resume_acks(phone, "Events") == {}
    store.set_resume_point(phone, "Contacts", ResumePoint("s2", 200, "c2", "n1"), keep_acks=True)  # resumed
    assert store.resume_acks(phone, "Contacts") == {"g1": 4, "g2": -1}
    store.set_resume_point(phone, "Contacts", ResumePoint("s3", 200, "c3", "n3"))  # a new session
    assert store.resume_acks(phone, "Contacts") == {}
    store.set_resume_ack(phone, "Contacts", "g5", 1)
    store.set_resume_point(phone, "Contacts", None)  # completed
    assert store.resume_acks(phone, "Contacts") == {}


def test_issue_15_deleting_an_account_deletes_its_resume_state(store: Store) -> None:
    store.add_user("alice", "pw")
    phone = store.device("alice", "phone")
    store.set_resume_point(phone, "Notes", ResumePoint("s1", 201, "c", "n"))
    store.set_resume_ack(phone, "Notes", "g", 1)
    assert store.delete_user("alice")
    store.add_user("alice", "pw")
    phone = store.device("alice", "phone")
    assert store.resume_point(phone, "Notes") is None and store.resume_acks(phone, "Notes") == {}


def test_issue_15_schema_13_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    SQLiteStore(path).close()
    db = sqlite3.connect(path)
    db.execute("DROP TABLE resume_points")
    db.execute("DROP TABLE resume_acks")
    db.execute("PRAGMA user_version=13")
    db.commit()
    db.close()
    store = SQLiteStore(path)
    assert store._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 16
    store.add_user("alice", "pw")
    phone = store.device("alice", "phone")
    store.set_resume_point(phone, "Contacts", ResumePoint("s1", 201, "c", "n"))
    assert store.resume_point(phone, "Contacts") is not None
    store.close()
