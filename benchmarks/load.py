"""Many SyncEvolution devices syncing at once against the server under gunicorn.

Not part of the test run.  For each worker count (``--workers 1,2,4``) the
script starts ``gunicorn -w W 'syncml_codec.server:create_app()'`` on
loopback over a fresh database (SQLite by default, or ``--db URL``), puts a
small timing proxy in front of it, and lets ``--devices`` SyncEvolution 2.0
clients (each a fully separate ``se-client`` home: its own configuration,
data and file datastore; vCard 3.0 over WBXML, MD5) sync their address book
at the same time, ``--rounds`` times.  Before each round every device gets
``--items`` new contacts, so each round is a two-way sync with changes both
ways (the first is the devices' slow sync).  After the last round one
*settle* round (no new items) lets every device fetch what the others sent
in the last round, and then the data are checked:

* **failures**: syncs that did not end with SyncEvolution's exit 0 and
  status 0 for the address book (with their error);
* **duplicates** and **missing** items, on the server (each account's
  items against what its devices added) and on every device (its files
  against everything its account holds); items are told apart by their
  ``FN``, which is unique per added contact.

Accounts: the devices are dealt round-robin to ``--accounts`` accounts
(default: one account per five devices, so devices of one account sync
concurrently and see each other's items; ``--accounts`` equal to
``--devices`` gives each its own).  ``SYNCML_SESSIONS_PER_ACCOUNT`` is
raised to the devices per account when that exceeds the default 10.

Every device has a SyncML device id of its own in every run, and keeps no
copy of its datastore before and after each sync (SyncEvolution's
``dumpData``, off: at 20,000 contacts it costs the client minutes).

Figures, per worker count: messages/s over the rounds (the server's log
lines within the rounds / the rounds' wall time), p50/p99 message latency as the client
sees it (the proxy: from the whole request received to the whole answer
received from gunicorn, so a message queued for a busy worker counts its
wait), the server's own time per message (``ms=`` of its log lines: the
engine's work), the CPU seconds of the gunicorn process tree and of the
clients (on one machine SyncEvolution uses 10-20 times the server's CPU
and so sets messages/s: compare the server's CPU per message, and the
share of the time its engine was busy).  The proxy
opens one upstream connection per request, as nginx does by default, so
with two or more workers consecutive messages of one session reach
different workers.

``--driver replay``: the same rounds and checks with the package's own
sans-I/O client (``syncml_codec.engine.ClientSession``; vCard 3.0 over
WBXML, MD5) in place of SyncEvolution, to measure the *server's* scaling on
one machine: SyncEvolution costs 11-20x the server's CPU per message, so
with it messages/s measure the clients.  Each device is a ``ClientStore``
kept in memory across rounds; the devices are dealt to ``--processes``
driver processes (default 2: the GIL), a thread per device, each message
POSTed straight to gunicorn with ``http.client`` over a new connection (as
nginx does upstream; no proxy in the path, it would cost as much as the
server), its latency timed by the driver.  The driver costs about 0.65 ms
of CPU per message, a fifth to a third of the server's (the summary's
clients/server column).  For replay runs the summary adds the CPU of the
local PostgreSQL cluster's processes per message (found through
``/run/postgresql/*.pid``) and how many of the machine's cores were busy in
the rounds (``/proc/stat``: it also counts processes outside this
benchmark).  Rounds take well under a second here, so use more of them
(``--rounds 30``) for steady figures.  What a PostgreSQL worker waits for
(statements and round trips per message) is counted, without gunicorn and
exactly, by ``benchmarks/roundtrips.py``.

``--rss``: instead, one device with ``--contacts`` (20,000) contacts makes
its first slow sync against ``gunicorn -w 1``, then a second, empty device
of the same account fetches them all in its own; the peak RSS (``VmHWM``)
of the server's processes is sampled during each sync (the worker's, and
the sum with the master).

Usage (needs SyncEvolution, except ``--driver replay``: ``se-client setup``, found in ``../shared``
beside the checkout or ``$SYNCML_CODEC_SHARED``; gunicorn: ``pip install
".[test]"``; PostgreSQL URLs need the PostgreSQL store)::

    python benchmarks/load.py                                  # 50 devices x 3 rounds, workers 1,2,4, SQLite
    python benchmarks/load.py --devices 5 --rounds 2 --workers 1
    python benchmarks/load.py --db postgresql://syncml@/syncml_load --workers 1,2,4
    python benchmarks/load.py --rss [--contacts 20000]
    python benchmarks/load.py --driver replay --rounds 30 [--db postgresql://...]   # the server's scaling
    python benchmarks/load.py ... --json                       # the figures as JSON

A ``--db`` given by the caller is reused for every worker count: the
benchmark's accounts (``load01``...) are deleted (with their items and
devices) and created again before each run; nothing else in it is touched.
Exit status 0 only if every sync succeeded and nothing is missing or
duplicated.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import http.server
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve_compare import SE_CLIENT, TICKS, contact, python_env, tree, tree_cpu, watch_during

PASSWORD = "load-secret"
STORE = "addressbook"  # se-client's store; the server's Contacts
FN_RE = re.compile(rb"^FN:(.*?)\r?$", re.M)
LOG_FIELD_RE = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')


# ---------------------------------------------------------------- the store (accounts, items on the server)
def open_store(spec: str) -> Any:
    """The store behind ``spec`` (a path or URL), through ``syncml_codec.store.open_store`` when
    this checkout has it (the PostgreSQL store), else SQLite for a path or ``sqlite:///`` URL."""
    import syncml_codec.store as stores

    opener: Callable[[str], Any] | None = getattr(stores, "open_store", None)
    if opener is not None:
        return opener(spec)
    if "://" in spec and not spec.startswith("sqlite:///"):
        raise SystemExit(f"--db {redact(spec)}: this checkout has no open_store (the PostgreSQL store)")
    return stores.SQLiteStore(spec.removeprefix("sqlite:///"))


def redact(spec: str) -> str:
    """A database URL without its password, for printing."""
    parts = urllib.parse.urlsplit(spec)
    if parts.password is None:
        return spec
    netloc = parts.netloc.rsplit("@", 1)[1]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{parts.username}@{netloc}"))


def fresh_accounts(db: str, accounts: list[str]) -> None:
    store = open_store(db)
    try:
        for name in accounts:
            store.delete_user(name)  # with its items, devices, maps (a reused database)
            store.add_user(name, PASSWORD)
    finally:
        store.close()


def server_items(db: str, accounts: list[str]) -> dict[str, list[bytes]]:
    """Each account's live contacts on the server: their FNs."""
    store = open_store(db)
    try:
        return {name: [fn_of(item.data) for item in store.items(name, "Contacts")] for name in accounts}
    finally:
        store.close()


def fn_of(data: bytes) -> bytes:
    found = FN_RE.search(data)
    return found.group(1).strip() if found else b"(no FN) " + data[:40]


def load_contact(device: str, rnd: int, i: int) -> bytes:
    fn = f"Load {device} r{rnd} i{i}"
    return (f"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:load-{device}-r{rnd}-i{i}\r\nFN:{fn}\r\n"
            f"N:{device} r{rnd} i{i};Load;;;\r\nEMAIL;TYPE=INTERNET:{device}.r{rnd}.i{i}@example.com\r\n"
            f"TEL;TYPE=CELL:+49 170 {rnd:02d}{i:05d}\r\nNOTE:added by benchmarks/load.py before round {rnd}\r\n"
            "END:VCARD\r\n").encode()


# ---------------------------------------------------------------- gunicorn
class Gunicorn:
    """``gunicorn -w W 'syncml_codec.server:create_app()'`` on a free port of 127.0.0.1."""

    def __init__(self, folder: Path, db: str, workers: int, threads: int, env: dict[str, str]) -> None:
        self.log = folder / f"gunicorn-w{workers}.log"
        self._err = open(self.log, "wb")  # noqa: SIM115 (closed in stop)
        args = [sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:0", "--workers", str(workers),
                "--threads", str(threads), "--timeout", "120", "syncml_codec.server:create_app()"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self._err, cwd=folder,
                                     env={**python_env(), "SYNCML_DB": db, "SYNCML_LOG_LEVEL": "info", **env},
                                     start_new_session=True)
        self.pid = self.proc.pid
        self.port = self._port(workers, timeout=120)

    def _port(self, workers: int, timeout: float) -> int:
        """The port of gunicorn's "Listening at" line, once every worker has booted."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            text = self.log.read_text(errors="replace")
            found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", text)
            if found and text.count("Booting worker") >= workers:
                return int(found.group(1))
            time.sleep(0.1)  # a file is always readable: nothing to wait on but time
        self.stop()
        raise SystemExit(f"gunicorn did not start:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._err.close()

    def messages(self) -> list[dict[str, str]]:
        """The fields of its per-message log lines."""
        out = []
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("ts="):
                out.append({k: v.strip('"') for k, v in LOG_FIELD_RE.findall(line)})
        return out


# ---------------------------------------------------------------- the timing proxy
@dataclass
class Exchange:
    phase: str
    seconds: float
    status: int


class _ProxyServer(http.server.ThreadingHTTPServer):
    request_queue_size = 1024  # (5 by default: every device connects at once)
    daemon_threads = True


class TimingProxy:
    """Relays each POST to gunicorn over a new connection (as nginx does by default) with the
    client's Host header (so the RespURI the server builds leads back here) and times it."""

    def __init__(self, upstream_port: int) -> None:
        self.phase = "setup"
        self.exchanges: list[Exchange] = []
        lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                phase, started = proxy.phase, time.perf_counter()
                status, headers, answer = 502, [("Content-Type", "text/plain")], b"upstream failed\n"
                conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=600)
                try:
                    conn.request("POST", self.path, body=body,
                                 headers={"Host": self.headers.get("Host", ""),
                                          "Content-Type": self.headers.get("Content-Type", "")})
                    resp = conn.getresponse()
                    status, answer = resp.status, resp.read()
                    headers = [(k, v) for k, v in resp.getheaders()
                               if k.lower() in ("content-type", "cache-control")]
                except OSError:
                    pass
                finally:
                    conn.close()
                seconds = time.perf_counter() - started
                with lock:
                    proxy.exchanges.append(Exchange(phase, seconds, status))
                self.send_response(status)
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = _ProxyServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------- the devices
def se(home: Path, *args: str, timeout: float = 1800) -> dict[str, Any]:
    """One se-client command: its JSON result (a failed sync is a result, not an exception)."""
    try:
        proc = subprocess.run([sys.executable, str(SE_CLIENT), *args], capture_output=True, text=True,
                              env=dict(os.environ, SE_CLIENT_HOME=str(home)), timeout=timeout + 60)
    except subprocess.TimeoutExpired:  # (se-client sync kills SyncEvolution itself after timeout)
        if args[0] != "sync":
            raise SystemExit(f"se-client {' '.join(args)} did not end") from None
        return {"ok": False, "error": f"se-client did not end within {timeout + 60:g} s"}
    lines = proc.stdout.strip().splitlines()
    try:
        result: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    except ValueError:
        result = {}
    if proc.returncode != 0 and args[0] != "sync":
        raise SystemExit(f"se-client {' '.join(args)} failed: {proc.stderr.strip()}")
    if not result:
        result = {"ok": False, "error": f"se-client exit {proc.returncode}: {proc.stderr.strip()[-300:]}"}
    return result


@dataclass
class Device:
    name: str  # se-client device name (its SyncML device id: load-PID-RUN-NAME)
    account: str
    home: Path
    added: list[bytes] = field(default_factory=list)  # FNs of the contacts added on it

    @property
    def folder(self) -> Path:
        """The file datastore: one file per item, named by its LUID."""
        return self.home / "devices" / self.name / "db" / STORE

    def add(self, rnd: int, count: int) -> None:
        for i in range(count):
            data = load_contact(self.name, rnd, i)
            # a LUID the file backend never hands out itself (it takes the lowest free number)
            (self.folder / f"{900000 + rnd * 1000 + i}").write_bytes(data)
            self.added.append(fn_of(data))

    def items(self) -> list[bytes]:
        return [fn_of(p.read_bytes()) for p in self.folder.iterdir() if p.is_file() and not p.name.startswith(".")]


def make_devices(folder: Path, shim: Path, url: str, count: int, accounts: list[str], parallel: int,
                 retry: tuple[int, int]) -> list[Device]:
    devices = [Device(f"d{n:03d}", accounts[n % len(accounts)], folder / f"d{n:03d}") for n in range(count)]

    def configure(device: Device) -> None:
        device.home.mkdir(parents=True)
        shutil.copy2(shim, device.home / "curlfix.so")
        se(device.home, "configure", device.name, "--url", url, "--user", device.account, "--password", PASSWORD,
           # a SyncML device id of its own in every run: a device that comes back (same id) after its
           # account was deleted and added again is a case of its own, not this benchmark's
           "--device-id", f"load-{os.getpid()}-{folder.parent.name}-{device.name}",
           "--stores", STORE, "--wbxml", "yes", "--auth", "md5", "--vcard", "3.0",
           "--retry-duration", str(retry[0]), "--retry-interval", str(retry[1]),
           # no copies of the whole datastore before and after each sync (SyncEvolution's default,
           # for its change report): at 20,000 contacts they take the client minutes
           "--set", "dumpData=0", "--set", "printChanges=0")

    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(configure, devices))
    return devices


def children_cpu() -> float:
    """CPU seconds of the processes this one has waited for (se-client and its syncevolution)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Round:
    name: str
    wall_s: float
    syncs: int
    failures: list[str]
    messages: int  # the server's log lines in the round
    began: float  # epoch seconds
    ended: float
    slowest: str  # the device whose sync took longest, and how long


def run_round(name: str, devices: list[Device], server: Gunicorn, proxy: TimingProxy | None, concurrency: int,
              timeout: float) -> Round:
    if proxy is not None:
        proxy.phase = name

    def sync(device: Device) -> dict[str, Any]:
        return se(device.home, "sync", device.name, "--timeout", str(timeout), timeout=timeout)

    began, started = time.time(), time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(sync, devices))
    wall, ended = time.monotonic() - started, time.time()
    failures = []
    for device, result in zip(devices, results, strict=True):
        if not result.get("ok"):
            status = result.get("stores", {}).get(STORE, {}).get("status")
            failures.append(f"{name} {device.name}: status={status} {result.get('error')}")
    lines = [line for line in server.messages() if began <= stamp(line) <= ended]
    took, slowest = max((float(r.get("duration_s") or 0), d.name) for d, r in zip(devices, results, strict=True))
    return Round(name, round(wall, 2), len(devices), failures, len(lines), began, ended, f"{slowest} {took:.1f} s")


# ---------------------------------------------------------------- --driver replay: our own client
# SyncEvolution costs 11-20x the server's CPU per message, so on one machine it, not the server, sets
# messages/s.  This driver runs the same sessions with the package's sans-I/O ClientSession (about a
# fifth of the server's CPU per message, in-process, codec included), in a few processes (the GIL),
# each device a thread that POSTs straight to gunicorn with http.client, one connection per request.
@dataclass
class DeviceItems:
    """A replay device's account of itself, for the checks."""

    name: str
    account: str
    added: list[bytes]  # FNs of the contacts added on it
    held: list[bytes]  # FNs of the contacts it holds after the settle round

    def items(self) -> list[bytes]:
        return self.held


@dataclass
class Driven:
    """One driver process's share of a round."""

    failures: list[str]
    latencies_ms: list[float]  # each message: request sent to answer read, connection set-up included
    messages: int
    cpu_s: float  # the process's CPU in the round (all its threads)
    slowest: tuple[float, str]  # the longest session: seconds, device


def post(url: str, body: bytes, content_type: str, timeout: float) -> tuple[int, bytes, str | None]:
    """One POST over a new connection (as nginx opens one per request upstream by default)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        conn.request("POST", parts.path + (f"?{parts.query}" if parts.query else ""), body=body,
                     headers={"Content-Type": content_type})
        resp = conn.getresponse()
        return resp.status, resp.read(), resp.getheader("Content-Type")
    finally:
        conn.close()


def cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def replay_process(conn: Any, url: str, devices: list[tuple[str, str, str]], timeout: float, auth_type: str) -> None:
    """A driver process: its devices (name, account, SyncML device id) as ``ClientStore``s that live
    across rounds; per round one thread per device runs one session.  Commands come over ``conn``:
    ``("add", round, items)``, ``("go", round)``, ``("items",)``, ``("stop",)``."""
    from syncml_codec.engine import ClientSession, ClientStore

    stores: dict[str, tuple[str, Any]] = {}
    added: dict[str, list[bytes]] = {}
    for name, account, device_id in devices:
        store = ClientStore(device_id)
        store.add_datastore("./addressbook", "addressbook", "text/vcard", "3.0")
        stores[name], added[name] = (account, store), []

    def sync(name: str, rnd: int) -> tuple[str | None, list[float], float]:
        account, store = stores[name]
        began, latencies = time.perf_counter(), list[float]()
        # vCard 3.0 over WBXML, MD5 by default (the first session of a device is challenged once: one
        # message more, and the server keeps a nonce per device)
        session = ClientSession(store, url=url, user=account, password=PASSWORD, session_id=str(rnd),
                                auth_type=auth_type)
        request: Any = session.start()  # (a Request, None when the session is over)
        while request is not None:
            sent = time.perf_counter()
            try:
                status, body, content_type = post(request.url, request.body, request.content_type, timeout)
            except OSError as exc:
                return f"{name}: message {session.msg_id}: {type(exc).__name__}: {exc}", latencies, 0.0
            latencies.append((time.perf_counter() - sent) * 1000)
            if status != 200:
                return f"{name}: message {session.msg_id}: HTTP {status}", latencies, 0.0
            request = session.receive(body, content_type)
        return (None if session.ok else f"{name}: {session.error}"), latencies, time.perf_counter() - began

    with ThreadPoolExecutor(len(devices)) as pool:
        while True:
            command = conn.recv()
            if command[0] == "add":
                _, rnd, count = command
                for name, (_, store) in stores.items():
                    for i in range(count):
                        data = load_contact(name, rnd, i)
                        store.datastores["./addressbook"].add(data)
                        added[name].append(fn_of(data))
                conn.send("added")
            elif command[0] == "go":
                cpu = cpu_self()
                results = list(pool.map(lambda name, r=command[1]: sync(name, r), stores))
                cpu = cpu_self() - cpu
                conn.send(Driven([error for error, _, _ in results if error],
                                 [ms for _, lat, _ in results for ms in lat], sum(len(lat) for _, lat, _ in results),
                                 cpu, max((took, name) for name, (_, _, took) in zip(stores, results, strict=True))))
            elif command[0] == "items":
                conn.send([DeviceItems(name, account, added[name],
                                       [fn_of(data) for data in store.datastores["./addressbook"].items.values()])
                           for name, (account, store) in stores.items()])
            else:
                conn.send("stopped")
                return


class ReplayDriver:
    """``processes`` driver processes sharing the devices round-robin."""

    def __init__(self, url: str, devices: list[tuple[str, str, str]], processes: int, timeout: float,
                 auth_type: str) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")  # (the parent may have threads: no fork)
        self.devices = len(devices)
        self.pipes, self.procs = [], []
        for n in range(min(processes, len(devices))):
            parent, child = context.Pipe()
            proc = context.Process(target=replay_process, args=(child, url, devices[n::processes], timeout, auth_type),
                                   daemon=True)
            proc.start()
            self.pipes.append(parent)
            self.procs.append(proc)

    def ask(self, *command: Any) -> list[Any]:
        for pipe in self.pipes:
            pipe.send(command)
        return [pipe.recv() for pipe in self.pipes]

    def round(self, name: str, rnd: int, items: int, server: Gunicorn,
              postmaster: tuple[int, str] | None) -> tuple[Round, list[Driven], list[float]]:
        """The round, each driver process's share, and the CPU spent in it: [server, PostgreSQL's
        processes, the machine's busy jiffies, all jiffies] (measured around the syncs only)."""
        if items:
            self.ask("add", rnd, items)
        before = cpu_snapshot(server.pid, postmaster)
        began, started = time.time(), time.monotonic()
        driven: list[Driven] = self.ask("go", rnd)
        wall, ended = time.monotonic() - started, time.time()
        spent = [b - a for a, b in zip(before, cpu_snapshot(server.pid, postmaster), strict=True)]
        lines = [line for line in server.messages() if began <= stamp(line) <= ended]
        took, device = max(d.slowest for d in driven)
        return Round(name, round(wall, 2), self.devices, [f"{name} {f}" for d in driven for f in d.failures],
                     len(lines), began, ended, f"{device} {took:.1f} s"), driven, spent

    def stop(self) -> None:
        for pipe in self.pipes:
            try:
                pipe.send(("stop",))
                pipe.recv()
            except (OSError, EOFError):
                pass
        for proc in self.procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine (/proc/stat's first line; iowait counts as idle)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def cpu_snapshot(server: int, postmaster: tuple[int, str] | None) -> list[float]:
    return [tree_cpu(server), postgres_cpu(*postmaster) if postmaster else 0.0, *machine_cpu()]


def postgres_cpu(postmaster: int, database: str) -> float:
    """CPU seconds of the cluster's work for ``database``: its backends (the server's pool keeps them
    for the run) and the shared helpers (WAL writer, checkpointer, ...), not the backends of other
    databases nor the postmaster's reaped children (anyone's)."""
    total = 0.0
    for pid in tree(postmaster):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        backend = "(" in title or "[local]" in title  # "postgres: 15/main: USER DB 127.0.0.1(PORT) idle"
        if pid == postmaster or not backend or f" {database} " in title:
            total += sum(int(x) for x in stat[11:13]) / TICKS  # utime + stime, not the reaped children's
    return total


def postgres_pid() -> int | None:
    """The local PostgreSQL cluster's postmaster (its backends and their reaped CPU are its tree)."""
    for pidfile in sorted(Path("/run/postgresql").glob("*.pid")):
        try:
            return int(pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return None


# ---------------------------------------------------------------- checks
@dataclass
class Check:
    server_items: int
    expected_items: int
    server_duplicates: int  # items on the server beyond one per added contact
    server_missing: int
    server_unexpected: int  # items nobody added (should be 0)
    device_duplicates: int  # summed over the devices
    device_missing: int
    devices_wrong: list[str]  # "d003: 2 missing, 1 duplicate"


class Holder(Protocol):
    """What the checks need of a device: an SE ``Device`` or a replay driver's ``DeviceItems``."""

    name: str
    account: str
    added: list[bytes]

    def items(self) -> list[bytes]: ...


def check(db: str, devices: Sequence[Holder], accounts: list[str]) -> Check:
    expected: dict[str, Counter[bytes]] = {name: Counter() for name in accounts}
    for device in devices:
        expected[device.account].update(device.added)
    on_server = server_items(db, accounts)
    dup = missing = unexpected = total = 0
    for name in accounts:
        got = Counter(on_server[name])
        total += sum(got.values())
        dup += sum(n - 1 for fn, n in got.items() if fn in expected[name] and n > 1)
        missing += sum(1 for fn in expected[name] if fn not in got)
        unexpected += sum(n for fn, n in got.items() if fn not in expected[name])
    ddup = dmissing = 0
    wrong = []
    for device in devices:
        got = Counter(device.items())
        d = sum(n - 1 for n in got.values() if n > 1)
        d += sum(n for fn, n in got.items() if fn not in expected[device.account])
        m = sum(1 for fn in expected[device.account] if fn not in got)
        ddup, dmissing = ddup + d, dmissing + m
        if d or m:
            wrong.append(f"{device.name}: {m} missing, {d} duplicate or unexpected")
    return Check(total, sum(sum(c.values()) for c in expected.values()), dup, missing, unexpected, ddup, dmissing,
                 wrong)


# ---------------------------------------------------------------- one run
def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


@dataclass
class Figures:
    workers: int
    store: str
    devices: int
    accounts: int
    rounds: list[Round]
    check: Check
    messages: int  # relayed in the rounds (settle round excluded)
    rounds_wall_s: float
    messages_per_s: float
    latency_p50_ms: float  # as the client sees it (proxy); nan without it
    latency_p99_ms: float
    server_p50_ms: float  # ms= of the server's log lines
    server_p99_ms: float
    server_busy: float  # the server's ms= summed / the rounds' wall time: 1.0 = one worker always busy
    server_http_errors: dict[str, int]
    server_cpu_s: float
    server_cpu_ms_per_message: float
    client_cpu_s: float
    setup_s: float
    total_s: float
    driver: str = "syncevolution"
    db_cpu_s: float = float("nan")  # its PostgreSQL backends and the cluster's helpers (replay driver)
    db_cpu_ms_per_message: float = float("nan")
    machine_busy_cores: float = float("nan")  # the whole machine's CPU in the rounds (replay driver)

    @property
    def other_cores(self) -> float:
        """The machine's busy cores in the rounds not spent by the server, the driver or PostgreSQL."""
        ours = self.server_cpu_s + self.client_cpu_s + (self.db_cpu_s if self.db_cpu_s == self.db_cpu_s else 0.0)
        return self.machine_busy_cores - ours / self.rounds_wall_s if self.rounds_wall_s else float("nan")

    @property
    def failures(self) -> list[str]:
        return [f for r in self.rounds for f in r.failures]

    @property
    def clean(self) -> bool:
        c = self.check
        return not self.failures and not (c.server_duplicates or c.server_missing or c.server_unexpected
                                          or c.device_duplicates or c.device_missing)


def start_server(args: argparse.Namespace, workers: int, folder: Path) -> tuple[list[str], str, Gunicorn]:
    """A run's accounts (made afresh), its database and gunicorn with ``workers`` workers on it."""
    folder.mkdir(parents=True)
    accounts = [f"load{n + 1:02d}" for n in range(args.accounts)]
    per_account = -(-args.devices // args.accounts)
    env = {"SYNCML_SESSIONS_PER_ACCOUNT": str(max(10, per_account))}
    db = args.db or str(folder / f"load-w{workers}.db")
    fresh_accounts(db, accounts)
    return accounts, db, Gunicorn(folder, db, workers, args.threads, env)


def run_workers(args: argparse.Namespace, workers: int, folder: Path, shim: Path | None) -> Figures:
    if shim is None:
        return run_replay(args, workers, folder)
    began = time.monotonic()
    accounts, db, server = start_server(args, workers, folder)
    proxy = TimingProxy(server.port) if not args.no_proxy else None
    concurrency = args.concurrency or args.devices
    try:
        url = f"http://127.0.0.1:{proxy.port if proxy else server.port}/sync"
        devices = make_devices(folder / "devices", shim, url, args.devices, accounts, args.setup_parallel,
                               (args.retry_duration, args.retry_interval))
        setup = time.monotonic() - began
        rounds = []
        cpu_before, clients_before = tree_cpu(server.pid), children_cpu()
        for rnd in range(1, args.rounds + 1):
            for device in devices:
                device.add(rnd, args.items)
            rounds.append(run_round(f"round{rnd}", devices, server, proxy, concurrency, args.timeout))
            progress(workers, rounds[-1])
        server_cpu, client_cpu = tree_cpu(server.pid) - cpu_before, children_cpu() - clients_before
        rounds.append(run_round("settle", devices, server, proxy, concurrency, args.timeout))
        progress(workers, rounds[-1])
    finally:
        if proxy is not None:
            proxy.stop()
        server.stop()
    checked = check(db, devices, accounts)
    lines = measured_lines(server, rounds)
    latencies = [e.seconds * 1000 for e in proxy.exchanges if e.phase != "settle"] if proxy else []
    return figures(args, workers, db, rounds, checked, lines, latencies, server_cpu, round(client_cpu, 1),
                   setup, began)


def measured_lines(server: Gunicorn, rounds: list[Round]) -> list[dict[str, str]]:
    """The server's log lines of the measured rounds (not the settle round)."""
    measured = [r for r in rounds if r.name != "settle"]
    return [line for line in server.messages() if any(r.began <= stamp(line) <= r.ended for r in measured)]


def figures(args: argparse.Namespace, workers: int, db: str, rounds: list[Round], checked: Check,
            lines: list[dict[str, str]], latencies: list[float], server_cpu: float, client_cpu: float,
            setup: float, began: float, **extra: Any) -> Figures:
    """One run's figures from what both drivers measure (``extra``: the driver's own)."""
    messages = len(lines)
    wall = sum(r.wall_s for r in rounds if r.name != "settle")
    server_ms = [float(line["ms"]) for line in lines if "ms" in line]
    errors = Counter(line.get("http", "?") for line in lines if line.get("http") != "200")
    return Figures(workers, "postgresql" if db.startswith("postgres") else "sqlite",
                   args.devices, args.accounts, rounds, checked, messages, round(wall, 2),
                   round(messages / wall, 2) if wall else 0.0,
                   round(percentile(latencies, 0.5), 1), round(percentile(latencies, 0.99), 1),
                   round(percentile(server_ms, 0.5), 1), round(percentile(server_ms, 0.99), 1),
                   round(sum(server_ms) / 1000 / wall, 3) if wall else 0.0, dict(errors),
                   round(server_cpu, 2), round(server_cpu * 1000 / messages, 2) if messages else 0.0,
                   client_cpu, round(setup, 1), round(time.monotonic() - began, 1), **extra)


def run_replay(args: argparse.Namespace, workers: int, folder: Path) -> Figures:
    """One run with ``--driver replay``: the same rounds and checks, our ClientSession as devices."""
    began = time.monotonic()
    accounts, db, server = start_server(args, workers, folder)
    names = [f"d{n:03d}" for n in range(args.devices)]
    devices = [(name, accounts[n % len(accounts)], f"load-{os.getpid()}-{folder.name}-{name}")
               for n, name in enumerate(names)]
    pg_pid = postgres_pid() if db.startswith("postgres") else None
    postmaster = (pg_pid, urllib.parse.urlsplit(db).path.lstrip("/")) if pg_pid else None
    driver = ReplayDriver(f"http://127.0.0.1:{server.port}/sync", devices, args.processes, args.timeout, args.auth)
    rounds, driven, spent = [], [], [0.0, 0.0, 0.0, 0.0]
    try:
        setup = time.monotonic() - began
        for rnd in range(1, args.rounds + 1):
            done, shares, cpu = driver.round(f"round{rnd}", rnd, args.items, server, postmaster)
            rounds.append(done)
            driven.extend(shares)
            spent = [a + b for a, b in zip(spent, cpu, strict=True)]
            progress(workers, done)
        done, _, _ = driver.round("settle", args.rounds + 1, 0, server, postmaster)
        rounds.append(done)
        progress(workers, done)
        held = [d for share in driver.ask("items") for d in share]
    finally:
        driver.stop()
        server.stop()
    checked = check(db, held, accounts)
    lines = measured_lines(server, rounds)
    messages = len(lines)
    driven_messages = sum(d.messages for d in driven)
    if driven_messages != messages:
        print(f"  w={workers}: the driver sent {driven_messages} messages in the rounds, the server logged {messages}",
              file=sys.stderr)
    server_cpu, db_cpu = spent[0], spent[1] if postmaster else float("nan")
    busy = spent[2] / spent[3] * (os.cpu_count() or 1) if spent[3] else float("nan")
    latencies = [ms for d in driven for ms in d.latencies_ms]
    return figures(args, workers, db, rounds, checked, lines, latencies, server_cpu,
                   round(sum(d.cpu_s for d in driven), 2), setup, began,
                   driver="replay", db_cpu_s=round(db_cpu, 2),
                   db_cpu_ms_per_message=round(db_cpu * 1000 / messages, 2) if messages else float("nan"),
                   machine_busy_cores=round(busy, 2))


def progress(workers: int, done: Round) -> None:
    print(f"  w={workers} {done.name}: {done.wall_s:.1f} s, {done.messages} messages, {len(done.failures)} failed",
          file=sys.stderr, flush=True)


def stamp(line: dict[str, str]) -> float:
    """The epoch seconds of a log line's ``ts=2026-12-06T06:12:15.897Z``."""
    try:
        return datetime.datetime.strptime(line["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
    except (KeyError, ValueError):
        return float("nan")


# ---------------------------------------------------------------- --rss
@dataclass
class RssPhase:
    name: str  # "upload": a device's first slow sync with all the contacts; "download": a second,
    # empty device of the same account fetches them all in its first slow sync
    ok: bool
    items: int  # on the server after the upload, on the second device after the download
    wall_s: float
    server_cpu_s: float
    peak_rss_mib: float  # the largest process of the server (the worker), peak since it started
    tree_peak_rss_mib: float  # master + worker
    error: str | None


def run_rss(args: argparse.Namespace, folder: Path, shim: Path) -> list[RssPhase]:
    folder.mkdir(parents=True)
    db = args.db or str(folder / "rss.db")
    fresh_accounts(db, ["load01"])
    server = Gunicorn(folder, db, 1, 1, {})
    phases = []
    try:
        sender, receiver = make_devices(folder / "devices", shim, f"http://127.0.0.1:{server.port}/sync", 2,
                                        ["load01"], 2, (args.retry_duration, args.retry_interval))
        for i in range(args.contacts):
            (sender.folder / str(i)).write_bytes(contact(i))
        for name, device in (("upload", sender), ("download", receiver)):
            started = time.monotonic()
            result, watch, cpu = watch_during(server.pid, lambda d=device: se(
                d.home, "sync", d.name, "--timeout", str(args.timeout), timeout=args.timeout))
            wall = time.monotonic() - started
            items = len(server_items(db, ["load01"])["load01"]) if name == "upload" else len(device.items())
            phases.append(RssPhase(name, bool(result.get("ok")), items, round(wall, 1), round(cpu, 2),
                                   round(max(watch.hwm.values(), default=0) / 1024, 1),
                                   round(sum(watch.hwm.values()) / 1024, 1), result.get("error")))
            print(f"  {name}: {wall:.0f} s", file=sys.stderr, flush=True)
    finally:
        server.stop()
    return phases


# ---------------------------------------------------------------- main
def implementation() -> str:
    proc = subprocess.run([sys.executable, "-m", "syncml_codec", "--version"], capture_output=True, text=True,
                          env=python_env())
    return proc.stdout.strip()


def report(figures: list[Figures]) -> None:
    for f in figures:
        c = f.check
        print(f"\nworkers={f.workers} store={f.store} devices={f.devices} accounts={f.accounts}: "
              f"{'CLEAN' if f.clean else 'PROBLEMS'}")
        for r in f.rounds:
            print(f"  {r.name:7} {r.wall_s:7.1f} s  {r.syncs} syncs  {len(r.failures)} failed  {r.messages} messages  "
                  f"slowest {r.slowest}")
        print(f"  failures {len(f.failures)}; server: {c.server_items} items of {c.expected_items} expected, "
              f"{c.server_duplicates} duplicates, {c.server_missing} missing, {c.server_unexpected} unexpected; "
              f"devices: {c.device_duplicates} duplicates, {c.device_missing} missing")
        for line in f.failures[:20] + c.devices_wrong[:20]:
            print(f"    {line}")
        print(f"  {f.messages} messages in {f.rounds_wall_s:.1f} s: {f.messages_per_s:.2f} messages/s; "
              + (f"latency p50 {f.latency_p50_ms:.0f} ms p99 {f.latency_p99_ms:.0f} ms (client side); "
                 if f.latency_p50_ms == f.latency_p50_ms else "(no proxy: no client-side latency); ")
              + f"server time p50 {f.server_p50_ms:.1f} ms p99 {f.server_p99_ms:.1f} ms, "
              f"busy {f.server_busy:.2f} worker")
        print(f"  CPU in the rounds: server {f.server_cpu_s:.1f} s ({f.server_cpu_ms_per_message:.1f} ms/message), "
              f"clients {f.client_cpu_s:.1f} s; HTTP other than 200: {f.server_http_errors or 'none'}; "
              f"setup {f.setup_s:.0f} s, total {f.total_s:.0f} s")
        if f.driver == "replay":
            print(f"  driver CPU {f.client_cpu_s * 1000 / f.messages if f.messages else 0:.2f} ms/message; "
                  + (f"PostgreSQL's processes {f.db_cpu_s:.1f} s ({f.db_cpu_ms_per_message:.2f} ms/message); "
                     if f.db_cpu_s == f.db_cpu_s else "")
                  + f"the machine busy {f.machine_busy_cores:.2f} of {os.cpu_count()} cores, of which "
                  f"{f.other_cores:.2f} "
                  "neither server, driver nor PostgreSQL (the kernel's share not charged to them; other processes)")
    if len(figures) > 1:
        base = figures[0]
        replay = base.driver == "replay"
        print(f"\ndriver {base.driver}, store {base.store}\n"
              "workers  messages/s  ratio  p50 ms  p99 ms  server ms/msg CPU  busy  clients/server CPU  clean"
              + ("  db ms/msg CPU  machine busy  others" if replay else ""))
        for f in figures:
            ratio = f.messages_per_s / base.messages_per_s if base.messages_per_s else float("nan")
            share = f.client_cpu_s / f.server_cpu_s if f.server_cpu_s else float("nan")
            print(f"{f.workers:7d}  {f.messages_per_s:10.2f}  {ratio:5.2f}  {f.latency_p50_ms:6.0f}  "
                  f"{f.latency_p99_ms:6.0f}  {f.server_cpu_ms_per_message:17.2f}  {f.server_busy:4.2f}  "
                  f"{share:18.2f}  {'yes' if f.clean else 'NO':{5 if replay else 0}}"
                  + (f"  {f.db_cpu_ms_per_message:13.2f}  {f.machine_busy_cores:12.2f}  {f.other_cores:6.2f}"
                     if replay else ""))
        if replay:
            print("(db: CPU of the benchmark database's PostgreSQL backends and the cluster's helpers; machine "
                  "busy: cores busy in the rounds (/proc/stat); others: of those, neither server, driver nor "
                  "PostgreSQL: other work on the machine, which spoils a run above ~0.1)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--devices", type=int, default=50, help="SyncEvolution devices syncing at once (default 50)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of syncs (default 3), plus one settle round")
    ap.add_argument("--workers", default="1,2,4", help="gunicorn worker counts, one run each (default 1,2,4)")
    ap.add_argument("--threads", type=int, default=1, help="gunicorn --threads per worker (default 1)")
    ap.add_argument("--db", help="database path or URL, reused by every run (default: a new SQLite file per run)")
    ap.add_argument("--accounts", type=int, help="accounts the devices are dealt to (default: devices / 5)")
    ap.add_argument("--items", type=int, default=2, help="contacts added on each device before each round (default 2)")
    ap.add_argument("--concurrency", type=int, default=0, help="at most this many syncs at once (default: all)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds one sync may take (default 1800)")
    ap.add_argument("--retry-interval", type=int, default=300,
                    help="SyncEvolution resends an unanswered message after this many seconds (default 300)")
    ap.add_argument("--retry-duration", type=int, default=1200, help="... and gives up after (default 1200)")
    ap.add_argument("--setup-parallel", type=int, default=4, help="devices configured at once (default 4)")
    ap.add_argument("--no-proxy", action="store_true", help="clients talk to gunicorn directly (latency: server's)")
    ap.add_argument("--driver", choices=("syncevolution", "replay"), default="syncevolution",
                    help="the devices: SyncEvolution clients (default), or replay: the package's own ClientSession "
                         "in --processes processes, straight to gunicorn (cheap enough to measure the server)")
    ap.add_argument("--processes", type=int, default=2, help="driver processes for --driver replay (default 2)")
    ap.add_argument("--auth", choices=("md5", "basic"), default="md5",
                    help="--driver replay's credentials (default md5)")
    ap.add_argument("--rss", action="store_true", help="one first slow sync of --contacts contacts: peak RSS")
    ap.add_argument("--contacts", type=int, default=20000, help="contacts for --rss (default 20000)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (device homes, logs, database)")
    args = ap.parse_args()
    replay = args.driver == "replay"
    if replay and args.rss:
        raise SystemExit("--rss runs SyncEvolution devices: no --driver replay")
    if replay and (args.no_proxy or args.concurrency):
        raise SystemExit("--driver replay has no proxy and runs every device at once (no --no-proxy, --concurrency)")
    if not replay and shutil.which("syncevolution") is None:
        raise SystemExit("SyncEvolution is not installed (run se-client setup)")
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        raise SystemExit("gunicorn is not installed (pip install gunicorn)") from None
    args.accounts = args.accounts or max(1, args.devices // 5)
    if not 1 <= args.accounts <= args.devices:
        raise SystemExit("--accounts must be between 1 and --devices")
    workers = [int(w) for w in args.workers.split(",") if w.strip()]
    work = Path(tempfile.mkdtemp(prefix="load-"))
    started = time.monotonic()
    version = implementation()
    try:
        shim = None if replay else Path(se(work / "setup", "setup", timeout=900)["shim"])
        if args.rss:
            assert shim is not None
            rss = run_rss(args, work / "rss", shim)
        else:
            figures = []
            for n, w in enumerate(workers, 1):
                print(f"workers={w}: {args.devices} devices, {args.accounts} accounts, {args.rounds} rounds ...",
                      file=sys.stderr, flush=True)
                figures.append(run_workers(args, w, work / f"run{n}-w{w}", shim))
    finally:
        if args.keep:
            print(f"work folder: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"{version}; {os.cpu_count()} CPUs; {time.monotonic() - started:.0f} s in all; "
          f"db: {redact(args.db) if args.db else 'a new SQLite file per run'}")
    if args.rss:
        if args.json:
            print(json.dumps([asdict(p) for p in rss], indent=1))
        else:
            print(f"first slow syncs of {args.contacts} contacts against gunicorn -w 1 (a second, empty device "
                  "of the same account downloads them)")
            for p in rss:
                print(f"  {p.name:8} {'ok' if p.ok else 'FAILED':6} {p.items:6d} items  {p.wall_s:6.0f} s  "
                      f"server CPU {p.server_cpu_s:5.1f} s  peak RSS {p.peak_rss_mib:.1f} MiB (worker), "
                      f"{p.tree_peak_rss_mib:.1f} MiB (master + worker)" + (f"; error: {p.error}" if p.error else ""))
        return 0 if all(p.ok and p.items == args.contacts for p in rss) else 1
    if args.json:
        print(json.dumps([dict(asdict(f), clean=f.clean, other_cores=f.other_cores) for f in figures], indent=1))
    else:
        report(figures)
    return 0 if all(f.clean for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
