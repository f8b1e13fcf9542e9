"""SQL statements and database round trips per SyncML message, in one process.

Not part of the test run.  Why: on PostgreSQL a gunicorn worker spends most
of a message waiting for the database (issue 12: one worker kept only 0.9
core busy), so what bounds its throughput is the number of times it waits,
not its CPU.  This script counts them directly, without HTTP or gunicorn:

* ``--devices`` devices (the package's ``ClientSession``, vCard 3.0 over
  WBXML, MD5, as ``load.py --driver replay``) dealt to ``--accounts``
  accounts make ``--rounds`` two-way syncs, each after ``--items`` new
  contacts on every device, plus one settle round; one device at a time, so
  the counts are exact and repeatable;
* their messages go to ``--workers`` ``SyncServer`` objects in turn, each on
  a store of its own (one per gunicorn worker: a message usually reaches
  another worker than the one before, whose state cache does not have it);
* each statement the store runs is counted (psycopg's ``Cursor.execute`` and
  ``executemany``, SQLite's trace callback; the implicit ``BEGIN``,
  ``COMMIT`` and the pool's checks too), and on PostgreSQL the round trips
  too: libpq's protocol trace of every connection, where each turn from
  messages the client sent to messages the server sent is one wait.

Prints, per message of a session (1: the login, 2: the one with the
client's changes, ...) and over all of them: statements, round trips,
transactions, and the engine's milliseconds per message, elapsed and CPU
(of the thread serving it: the database's own work is not in it), in
process, so without HTTP (timings are noisy on a shared machine, counts
are not), and
the statements most run per message.  The accounts ``rt01``... are deleted
and created again first; nothing else in the database is touched::

    python benchmarks/roundtrips.py --db postgresql://user:pw@127.0.0.1/db [--workers 2] [--json]
    python benchmarks/roundtrips.py --db /tmp/rt.db
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import sqlite3
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import PASSWORD, load_contact, open_store, redact

_LIBC = ctypes.CDLL(None)


class Counts:
    """What the stores did since the last :meth:`take`."""

    def __init__(self) -> None:
        self.statements: Counter[str] = Counter()
        self.traces: list[tuple[Path, list[int]]] = []  # libpq trace file, [offset, last direction]
        self.folder = Path(tempfile.mkdtemp(prefix="roundtrips-"))

    def statement(self, sql: str) -> None:
        self.statements[" ".join(sql.split())[:110]] += 1

    def trace(self, conn: Any) -> None:
        """Trace the protocol of a new psycopg connection into a file of its own."""
        path = self.folder / f"conn{len(self.traces)}.trace"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        conn.pgconn.trace(fd)
        from psycopg import pq

        conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        self.traces.append((path, [0, 0]))

    def round_trips(self) -> int:
        """Client-to-server turns followed by a server answer, in every trace since the last call."""
        _LIBC.fflush(None)  # (libpq writes the trace through stdio)
        turns = 0
        for path, state in self.traces:
            with open(path, "rb") as f:
                f.seek(state[0])
                data = f.read()
            end = data.rfind(b"\n") + 1
            state[0] += end
            for line in data[:end].splitlines():
                direction = line[:1]
                if direction == b"B" and state[1] == ord("F"):
                    turns += 1
                if direction in (b"F", b"B"):
                    state[1] = direction[0]
        return turns

    def take(self) -> tuple[Counter[str], int]:
        statements, self.statements = self.statements, Counter()
        return statements, self.round_trips()


def instrument(counts: Counts) -> None:
    """Count every statement psycopg and sqlite3 run, and trace every new psycopg connection."""
    try:
        import psycopg
    except ImportError:
        psycopg = None  # type: ignore[assignment]
    if psycopg is not None:
        execute, executemany = psycopg.Cursor.execute, psycopg.Cursor.executemany

        def counted_execute(self: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
            counts.statement(str(query if isinstance(query, str) else query.as_string(self)))
            return execute(self, query, params, **kwargs)

        def counted_executemany(self: Any, query: Any, params_seq: Any, **kwargs: Any) -> Any:
            counts.statement("(executemany) " + str(query))
            return executemany(self, query, params_seq, **kwargs)

        psycopg.Cursor.execute = counted_execute  # type: ignore[method-assign]
        psycopg.Cursor.executemany = counted_executemany  # type: ignore[method-assign]
        connect = psycopg.Connection.connect.__func__  # type: ignore[attr-defined]

        def traced_connect(cls: Any, *args: Any, **kwargs: Any) -> Any:
            conn = connect(cls, *args, **kwargs)
            counts.trace(conn)
            return conn

        psycopg.Connection.connect = classmethod(traced_connect)  # type: ignore[method-assign, assignment]
        commit = psycopg.Connection.commit

        def counted_commit(self: Any) -> None:
            counts.statement("COMMIT")
            commit(self)

        psycopg.Connection.commit = counted_commit  # type: ignore[method-assign]
    connect_sqlite = sqlite3.connect

    def traced_sqlite(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = connect_sqlite(*args, **kwargs)
        conn.set_trace_callback(counts.statement)
        return conn

    sqlite3.connect = traced_sqlite  # type: ignore[assignment]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True, help="database path or URL (the accounts rt01... are made anew)")
    ap.add_argument("--devices", type=int, default=10)
    ap.add_argument("--accounts", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--items", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2, help="SyncServers taking the messages in turn (default 2)")
    ap.add_argument("--top", type=int, default=25, help="statements listed (default 25)")
    ap.add_argument("--by-message", action="store_true", help="list the statements of each message number too")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    counts = Counts()
    instrument(counts)
    from syncml_codec.engine import ClientSession, ClientStore, SyncServer

    accounts = [f"rt{n:02d}" for n in range(1, args.accounts + 1)]
    setup = open_store(args.db)
    for name in accounts:
        setup.delete_user(name)
        setup.add_user(name, PASSWORD)
    setup.close()
    url = "http://127.0.0.1:9/sync"
    servers = [SyncServer(open_store(args.db), base_url=url) for _ in range(args.workers)]
    devices = []
    for n in range(args.devices):
        store = ClientStore(f"rt-{os.getpid()}-{n:03d}")
        store.add_datastore("./addressbook", "addressbook", "text/vcard", "3.0")
        devices.append((f"d{n:03d}", accounts[n % len(accounts)], store))
    counts.take()

    per_index: dict[int, list[tuple[int, int, int, float, float]]] = {}  # message -> [(statements, trips, tx, ms, cpu)]
    texts: Counter[str] = Counter()
    texts_by_index: dict[int, Counter[str]] = {}
    turn, messages, failures = 0, 0, []
    for rnd in range(1, args.rounds + 2):  # (the last: settle, nothing new)
        for name, account, store in devices:
            if rnd <= args.rounds:
                for i in range(args.items):
                    store.datastores["./addressbook"].add(load_contact(name, rnd, i))
            session = ClientSession(store, url=url, user=account, password=PASSWORD, session_id=str(rnd))
            request: Any = session.start()
            index = 0
            while request is not None:
                index += 1
                server = servers[turn % len(servers)]
                turn += 1
                query = urllib.parse.urlsplit(request.url).query
                sid = (urllib.parse.parse_qs(query).get("sessionid") or [None])[-1]
                began, cpu = time.perf_counter(), time.thread_time()
                reply = server.handle(request.body, request.content_type, sid, "127.0.0.1", query=query, headers={})
                ms, cpu_ms = (time.perf_counter() - began) * 1000, (time.thread_time() - cpu) * 1000
                statements, trips = counts.take()
                texts.update(statements)
                texts_by_index.setdefault(index, Counter()).update(statements)
                per_index.setdefault(index, []).append((sum(statements.values()), trips,
                                                        statements["COMMIT"], ms, cpu_ms))
                messages += 1
                request = session.receive(reply.body, reply.content_type) if reply.http_status == 200 else None
            if not session.ok:
                failures.append(f"{name} round {rnd}: {session.error}")
    for server in servers:
        server.store.close()

    def summary(rows: list[tuple[int, int, int, float, float]]) -> dict[str, float]:
        n = len(rows)
        return {"messages": n, "statements": round(sum(r[0] for r in rows) / n, 2),
                "round_trips": round(sum(r[1] for r in rows) / n, 2),
                "transactions": round(sum(r[2] for r in rows) / n, 2),
                "ms": round(sorted(r[3] for r in rows)[n // 2], 2),
                "cpu_ms": round(sorted(r[4] for r in rows)[n // 2], 2)}

    every = [r for rows in per_index.values() for r in rows]
    result = {"db": redact(args.db), "workers": args.workers, "devices": args.devices, "rounds": args.rounds,
              "failures": failures, "all": summary(every),
              "by_message": {str(k): summary(v) for k, v in sorted(per_index.items())},
              "statements_per_message": {text: round(c / messages, 2) for text, c in texts.most_common(args.top)},
              "statements_by_message": {str(k): {text: round(c / len(per_index[k]), 2)
                                                 for text, c in texts_by_index[k].most_common(args.top)}
                                        for k in sorted(per_index)}}
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(f"{result['db']}: {args.devices} devices, {args.accounts} accounts, {args.rounds} rounds + settle, "
              f"{args.workers} SyncServers in turn; {messages} messages, {len(failures)} failed sessions")
        print("message   count  statements  round trips  transactions  ms  CPU ms (medians, in process)")
        for key, s in [*result["by_message"].items(), ("all", result["all"])]:
            print(f"{key:>7} {s['messages']:7d} {s['statements']:11.2f} {s['round_trips']:12.2f} "
                  f"{s['transactions']:13.2f} {s['ms']:6.2f} {s['cpu_ms']:6.2f}")
        print("statements per message (all messages):")
        for text, c in result["statements_per_message"].items():
            print(f"  {c:6.2f}  {text}")
        if args.by_message:
            for key, listed in result["statements_by_message"].items():
                print(f"statements per message {key}:")
                for text, c in listed.items():
                    print(f"  {c:6.2f}  {text}")
        for failure in failures:
            print("FAILED:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
