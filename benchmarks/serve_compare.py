"""Our server against SyncEvolution's own, on the same first slow sync.

A fresh SyncEvolution client (WBXML, md5) with N vCard 3.0 contacts (default
2,000) makes its first sync (Alert 201, slow) against

* ``syncml serve`` (this package, SQLite store), and
* ``se-refserver`` (SyncEvolution 2.0's syncevo-http-server +
  syncevo-dbus-server, the Synthesis engine in C++, file datastores),

one after the other in the same run.  For each server it reports the CPU
time (user + system) its process tree spent during the sync, read from
``/proc/<pid>/stat`` (utime + stime, plus cutime + cstime for helpers that
exited, e.g. syncevo-dbus-helper) before and after, the peak RSS
(``VmHWM`` of ``/proc/<pid>/status``, polled during the sync: the largest
process and the sum over the tree), the wall time, and the ratios.

Not part of the test run::

    python benchmarks/serve_compare.py [--count 2000] [--only ours|ref] [--pure-python] [--json]

Needs SyncEvolution (``se-client setup``) and, for the reference server,
``syncevolution-http syncevolution-dbus python3-twisted python3-dbus
python3-gi dbus`` (``se-refserver start`` installs them as root).
"""

from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SYNCML_CODEC_SHARED", ROOT.parent / "shared"))
SE_CLIENT = SHARED / "interop" / "syncevolution" / "se-client"
SE_REFSERVER = SHARED / "interop" / "syncevolution" / "se-refserver"
DEVICE = "bench"  # se-client device; its SyncML device id is se-client-bench
TICKS = os.sysconf("SC_CLK_TCK")

FIRST = ["Anna", "Ben", "Carla", "David", "Eva", "Felix", "Greta", "Hans", "Ida", "Jonas", "Katrin", "Lukas",
         "Maria", "Nils", "Olga", "Paul", "Quirin", "Rosa", "Stefan", "Tanja", "Uwe", "Vera", "Walter", "Yvonne"]
LAST = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
        "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger"]


def contact(i: int) -> bytes:
    first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
    mail = f"{first}.{last}.{i}".lower().replace("ü", "ue").replace("ö", "oe")
    return (
        "BEGIN:VCARD\r\nVERSION:3.0\r\n"
        f"UID:serve-compare-{i:05d}\r\n"
        f"FN:{first} {last} {i}\r\nN:{last} {i};{first};;;\r\n"
        f"EMAIL;TYPE=INTERNET,WORK:{mail}@example.com\r\n"
        f"EMAIL;TYPE=INTERNET,HOME:{mail}@home.example.org\r\n"
        f"TEL;TYPE=CELL:+49 170 {i:07d}\r\nTEL;TYPE=WORK,VOICE:+49 30 {i:07d}\r\n"
        f"ADR;TYPE=WORK:;;Teststraße {i % 200 + 1};Berlin;;{10000 + i % 5000};Germany\r\n"
        f"ORG:Company {i % 97};Department {i % 7}\r\nTITLE:Engineer\r\n"
        f"BDAY:19{50 + i % 50}-0{1 + i % 9}-1{i % 10}\r\n"
        f"NOTE:Contact {i} of the serve_compare benchmark\\, with a comma and a longer note so that "
        "the card has a realistic size.\r\n"
        "END:VCARD\r\n"
    ).encode()


# ---------------------------------------------------------------- /proc
def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def tree(root: int) -> list[int]:
    kids = _children()
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(kids.get(pid, []))
    return out


def cpu_seconds(pid: int) -> float:
    """utime + stime + cutime + cstime of one process (reaped children included)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # after the ")": state is fields[0]; utime, stime, cutime, cstime are stat fields 14-17
    return sum(int(x) for x in fields[11:15]) / TICKS


def vm_hwm_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def name_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


def tree_cpu(root: int) -> float:
    """CPU seconds of a process tree: each live process's own time plus that
    of its children it has reaped (a helper that ran and exited during the
    sync is in its parent's cutime/cstime)."""
    return sum(cpu_seconds(pid) for pid in tree(root))


@dataclass
class PeakWatch:
    """Peak RSS (VmHWM) of each process of a tree, polled while a sync runs."""

    root: int
    hwm: dict[int, int] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)

    def sample(self) -> None:
        for pid in tree(self.root):
            self.hwm[pid] = max(self.hwm.get(pid, 0), vm_hwm_kib(pid))
            self.names.setdefault(pid, name_of(pid))


def watch_during(root: int, action: Any, interval: float = 0.05) -> tuple[Any, PeakWatch, float]:
    """Run ``action()`` while sampling the tree: (its result, the peaks, CPU seconds spent)."""
    watch = PeakWatch(root)
    watch.sample()
    cpu_before = tree_cpu(root)
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            watch.sample()
            done.wait(interval)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        result = action()
    finally:
        time.sleep(0.5)  # the server finishes the last message's bookkeeping, helpers are reaped
        done.set()
        thread.join()
        watch.sample()
    return result, watch, tree_cpu(root) - cpu_before


# ---------------------------------------------------------------- servers
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def python_env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "src"),
                                                                     os.environ.get("PYTHONPATH")])))


class Ours:
    name = "syncml serve"
    env: ClassVar[dict[str, str]] = {}  # extra environment for the server

    def __init__(self, folder: Path) -> None:
        tag = type(self).__name__.lower()
        db = folder / f"{tag}.db"
        env = dict(python_env(), **self.env)
        subprocess.run([sys.executable, "-m", "syncml_codec", "user", "add", "test", "--password", "secret",
                        "--db", str(db)], check=True, env=env, capture_output=True)
        self.log = open(folder / f"{tag}.log", "wb")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen([sys.executable, "-m", "syncml_codec", "serve", "--port", "0",
                                      "--db", str(db), "--log-level", "info"],
                                     stdout=subprocess.PIPE, stderr=self.log, env=env)
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        line = self.proc.stdout.readline().decode() if ready else ""
        if not line.startswith("syncml: serving "):
            self.proc.kill()
            raise SystemExit(f"syncml serve did not start: {line!r}, see {folder / (tag + '.log')}")
        self.url = line.split()[2]
        self.pid = self.proc.pid
        self.db = db

    def count(self) -> int:
        sys.path.insert(0, str(ROOT / "src"))
        from syncml_codec.store import SQLiteStore

        store = SQLiteStore(self.db)
        try:
            return len(store.items("test", "Contacts"))
        finally:
            store.close()

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


class OursPurePython(Ours):
    name = "syncml (py)"
    env: ClassVar[dict[str, str]] = {"SYNCML_CODEC_NO_EXTENSIONS": "1"}  # the pure-Python WBXML twin


class Reference:
    name = "se-refserver"

    def __init__(self, folder: Path) -> None:
        self.state = folder / "ref"
        proc = subprocess.run([sys.executable, str(SE_REFSERVER), "start", "--state", str(self.state),
                               "--port", str(free_port()), "--device", f"se-client-{DEVICE}"],
                              capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise SystemExit(f"se-refserver did not start: {proc.stderr.strip()}")
        info = json.loads(proc.stdout.strip().splitlines()[-1])
        self.url, self.pid = info["url"], int(info["pid"])
        time.sleep(1.0)  # syncevo-dbus-server settles

    def count(self) -> int:
        proc = subprocess.run([sys.executable, str(SE_REFSERVER), "list", "addressbook", "--state",
                               str(self.state)], capture_output=True, text=True, timeout=120)
        return int(json.loads(proc.stdout)["count"])

    def stop(self) -> None:
        subprocess.run([sys.executable, str(SE_REFSERVER), "stop", "--state", str(self.state)],
                       capture_output=True, timeout=60)


# ---------------------------------------------------------------- client
def se(home: Path, *args: str, timeout: float = 1800) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, str(SE_CLIENT), *args], capture_output=True, text=True,
                          env=dict(os.environ, SE_CLIENT_HOME=str(home)), timeout=timeout)
    out = proc.stdout.strip().splitlines()
    result: dict[str, Any] = json.loads(out[-1]) if out else {}
    if proc.returncode != 0 and args[0] != "sync":
        raise SystemExit(f"se-client {' '.join(args)} failed: {proc.stderr.strip()}")
    return result


def prepare_client(home: Path, shim: Path, url: str, cards: list[bytes]) -> None:
    home.mkdir(parents=True)
    shutil.copy2(shim, home / "curlfix.so")
    se(home, "configure", DEVICE, "--url", url, "--stores", "addressbook", "--wbxml", "yes", "--auth", "md5",
       "--retry-duration", "1800", "--retry-interval", "600")
    db = home / "devices" / DEVICE / "db" / "addressbook"  # the file backend: one file per item, name = LUID
    for i, card in enumerate(cards):
        (db / str(i)).write_bytes(card)


@dataclass
class Figures:
    server: str
    ok: bool
    items_on_server: int
    wall_s: float
    cpu_s: float
    peak_rss_mib: float  # the largest process of the tree
    tree_peak_rss_mib: float  # sum over the tree's processes
    processes: dict[str, float]  # name -> peak RSS MiB
    error: str | None = None


def run_one(kind: type[Ours | Reference], folder: Path, shim: Path, cards: list[bytes]) -> Figures:
    server = kind(folder)
    try:
        home = folder / f"client-{kind.__name__.lower()}"
        prepare_client(home, shim, server.url, cards)
        started = time.monotonic()
        result, watch, cpu = watch_during(server.pid, lambda: se(home, "sync", DEVICE, "--timeout", "1800"))
        wall = time.monotonic() - started
        count = server.count()
    finally:
        server.stop()
    procs: dict[str, float] = {}
    for pid, kib in watch.hwm.items():
        key = f"{watch.names.get(pid, '?')}[{pid}]"
        procs[key] = round(kib / 1024, 1)
    return Figures(kind.name, bool(result.get("ok")), count, round(wall, 2), round(cpu, 2),
                   round(max(watch.hwm.values(), default=0) / 1024, 1), round(sum(watch.hwm.values()) / 1024, 1),
                   procs, result.get("error"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=2000, help="contacts on the client (default 2000)")
    ap.add_argument("--only", choices=("ours", "ref"), help="run one server only")
    ap.add_argument("--pure-python", action="store_true",
                    help="also run our server on the pure-Python WBXML twin (SYNCML_CODEC_NO_EXTENSIONS=1)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args()
    if shutil.which("syncevolution") is None:
        raise SystemExit("SyncEvolution is not installed (run se-client setup)")
    work = Path(tempfile.mkdtemp(prefix="serve-compare-"))
    try:
        setup = se(work / "setup", "setup")
        shim = Path(setup["shim"])
        cards = [contact(i) for i in range(args.count)]
        kinds: list[type[Ours | Reference]] = [Ours, Reference]
        if args.pure_python:
            kinds.insert(1, OursPurePython)
        if args.only:
            kinds = [k for k in kinds if (k is Reference) == (args.only == "ref")]
        figures = [run_one(kind, work, shim, cards) for kind in kinds]
    finally:
        if args.keep:
            print(f"work folder: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps([asdict(f) for f in figures], indent=1))
    else:
        print(f"first slow sync of {args.count} vCard 3.0 contacts from SyncEvolution 2.0 over WBXML (md5)")
        print(f"{'server':14} {'ok':3} {'items':>6} {'wall s':>7} {'CPU s':>7} {'peak RSS MiB':>13} "
              f"{'tree RSS MiB':>13}")
        for f in figures:
            print(f"{f.server:14} {'yes' if f.ok else 'NO':3} {f.items_on_server:6d} {f.wall_s:7.2f} {f.cpu_s:7.2f} "
                  f"{f.peak_rss_mib:13.1f} {f.tree_peak_rss_mib:13.1f}")
        ref = next((f for f in figures if f.server == Reference.name), None)
        for ours in figures:
            if ref is None or ours is ref or ref.cpu_s <= 0:
                continue
            print(f"{ours.server} / reference: CPU {ours.cpu_s / ref.cpu_s:.2f}x, peak RSS "
                  f"{ours.peak_rss_mib / max(ref.peak_rss_mib, 0.1):.2f}x (tree "
                  f"{ours.tree_peak_rss_mib / max(ref.tree_peak_rss_mib, 0.1):.2f}x), wall "
                  f"{ours.wall_s / max(ref.wall_s, 0.01):.2f}x")
        for f in figures:
            print(f"  {f.server}: " + ", ".join(f"{k} {v} MiB" for k, v in sorted(f.processes.items())))
            if f.error:
                print(f"  {f.server} error: {f.error}")
    return 0 if all(f.ok and f.items_on_server == args.count for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
