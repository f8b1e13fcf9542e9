"""Issue 12, item 2 (store side): SQLite shared by worker processes.
Several processes opening one new database at the same moment all succeed
(2 of 8 ``gunicorn -w 2`` starts died with "database is locked" in the
schema script); they then write at once without losing anything; a schema 4
database is migrated to 5 (by two processes at once) with its data kept."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

from syncml_codec.store import SQLiteStore
from syncml_codec.store.sqlite import SCHEMA_VERSION

PROCESSES = 6
WRITES = 15


def _worker(path: str, barrier: multiprocessing.synchronize.Barrier, n: int) -> None:
    barrier.wait()  # every process opens the database at the same moment
    store = SQLiteStore(path)
    for i in range(WRITES):
        with store.transaction():
            store.add_item("test", "Contacts", f"{n}-{i}".encode(), "text/plain")
    assert len(store.server_secret()) == 32
    store.close()


def _run_at_once(path: Path, count: int = PROCESSES) -> list[int | None]:
    ctx = multiprocessing.get_context("spawn")  # (no fork of a process that holds connections)
    barrier = ctx.Barrier(count)
    procs = [ctx.Process(target=_worker, args=(str(path), barrier, n)) for n in range(count)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    return [p.exitcode for p in procs]


def test_issue_12_processes_open_a_new_database_at_once(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    assert _run_at_once(path) == [0] * PROCESSES
    store = SQLiteStore(path)
    items = store.items("test", "Contacts")
    assert len(items) == PROCESSES * WRITES and len({i.guid for i in items}) == PROCESSES * WRITES
    assert store._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._db.execute("SELECT count(*) FROM server_keys").fetchone()[0] == 1  # one secret for all


def _schema_4(path: Path) -> None:
    """A database as schema 4 left it: without the tables schema 5 adds."""
    store = SQLiteStore(path)
    store.add_user("test", "secret")
    device = store.device("test", "phone")
    store.add_item("test", "Contacts", b"BEGIN:VCARD\r\nEND:VCARD\r\n", "text/vcard")
    store.set_anchors(device, "Contacts", "c1", "s1")
    store.close()
    db = sqlite3.connect(path)
    for table in ("live_sessions", "server_keys", "used_nonces"):
        db.execute(f"DROP TABLE {table}")
    db.execute("PRAGMA user_version=4")
    db.commit()
    db.close()


def test_issue_12_schema_4_is_migrated_by_processes_at_once(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _schema_4(path)
    assert _run_at_once(path, 3) == [0] * 3
    store = SQLiteStore(path)
    assert store._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store.account("test") is not None and store.anchors(store.device("test", "phone"), "Contacts").client_last \
        == "c1"
    assert len(store.items("test", "Contacts")) == 1 + 3 * WRITES
    assert store.live_sessions() == [] and store.use_nonce("n", 10.0, 0.0) and not store.use_nonce("n", 10.0, 1.0)
