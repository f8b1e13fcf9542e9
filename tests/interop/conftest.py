"""Fixtures for syncing a real client, SyncEvolution 2.0, against our server.

The client is driven through ``../shared/interop/syncevolution/se-client``
(read its README).  Without ``syncevolution`` installed these tests are
skipped with the reason, unless ``SYNCML_CODEC_REQUIRE_INTEROP=1`` (CI),
where that is a failure.

* ``se_shim`` (session): runs ``se-client setup`` once in a session home
  (installs what is missing when root, builds the curl shim);
* ``syncml_server``: ``syncml serve --port 0 --db <tmp>`` in a subprocess,
  with the account ``test``/``secret`` added by ``syncml user add``, and a
  transcript of every session (``<tmp>/transcripts``, shown on failure);
  the tests marked ``core_matrix`` (the sync modes: two-way, slow, refresh,
  one-way) run twice, on SQLite and on PostgreSQL (``--db`` a new schema on
  ``SYNCML_TEST_POSTGRES``'s server, see tests/store/conftest.py), the
  others on SQLite only (the store is the same code whatever the data type);
* ``se``: an :class:`SE` with its own ``SE_CLIENT_HOME`` for the test, bound
  to that server: ``configure``, ``add``, ``update``, ``delete``, ``sync``,
  ``list_items``.

``SYNCML_CODEC_INTEROP_SERVER=refserver`` runs the same tests against
SyncEvolution's own server (``se-refserver``) instead: a check of the tests
themselves (all pass there, in about 12 minutes).
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import syncml_codec

from ..conftest import ROOT

SE_CLIENT = Path(os.environ.get("SYNCML_CODEC_SE_CLIENT",
                                ROOT.parent / "shared" / "interop" / "syncevolution" / "se-client"))
SE_REFSERVER = SE_CLIENT.with_name("se-refserver")
REQUIRE = os.environ.get("SYNCML_CODEC_REQUIRE_INTEROP", "") not in ("", "0")
USER, PASSWORD = "test", "secret"
#: the package under test, for the server subprocess (the same code as this process imports)
PACKAGE_PARENT = Path(syncml_codec.__file__).resolve().parents[1]


def missing(reason: str) -> None:
    if REQUIRE:
        pytest.fail(f"SYNCML_CODEC_REQUIRE_INTEROP=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def python_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(PACKAGE_PARENT), *filter(None, [env.get("PYTHONPATH")])])
    return env


def syncml_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "syncml_codec", *args], capture_output=True, text=True,
                          env=python_env(), timeout=timeout)


@pytest.fixture(scope="session")
def se_shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``se-client setup`` once per test session; the built shim."""
    if not SE_CLIENT.is_file():
        missing(f"se-client not found at {SE_CLIENT} (expected ../shared beside the checkout)")
    if shutil.which("syncevolution") is None:
        missing("SyncEvolution is not installed (apt-get install syncevolution, or run se-client setup)")
    home = tmp_path_factory.mktemp("se-home")
    proc = subprocess.run([sys.executable, str(SE_CLIENT), "setup"], capture_output=True, text=True,
                          env=dict(os.environ, SE_CLIENT_HOME=str(home)), timeout=900)
    if proc.returncode != 0:
        missing(f"se-client setup failed: {proc.stderr.strip()[-500:]}")
    return home / "curlfix.so"


class ServerProcess:
    """``syncml serve`` in a subprocess on a free port."""

    def __init__(self, folder: Path, user: str = USER, password: str = PASSWORD, *, db: Path | str | None = None,
                 port: int = 0, url: str | None = None, args: Sequence[str] = ()) -> None:
        """``db``: an existing database to serve (default ``folder/server.db``; or a PostgreSQL URL);
        ``port``/``url``: a fixed port, and the URL clients use (e.g. a proxy's); ``args``: more
        ``syncml serve`` flags."""
        self.folder = folder
        self.db = db or folder / "server.db"
        self.transcripts = folder / "transcripts"
        self.log = folder / "server.log"
        proc = syncml_cli("user", "add", user, "--password", password, "--db", str(self.db))
        assert proc.returncode == 0, proc.stderr
        self._log = open(self.log, "wb")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "syncml_codec", "serve", "--port", str(port), "--db", str(self.db),
             "--transcripts", str(self.transcripts), *(["--url", url] if url else []), *args],
            stdout=subprocess.PIPE, stderr=self._log, env=python_env())
        self.url = self._read_url(timeout=30)

    def _read_url(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline().decode() if ready else ""
        if not line.startswith("syncml: serving "):
            self.stop()
            raise AssertionError(f"syncml serve did not start: {line!r}\n{self.log.read_text()[-3000:]}")
        return line.split()[2]

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()
        return self.proc.returncode

    def kill(self) -> None:
        """``kill -9``: no cleanup, whatever the process was doing."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.stop()

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def count(self, store: str) -> int:
        """Live items of the test account in an se-client store's datastore
        (read from the database; WAL lets us read while the server runs)."""
        from syncml_codec.store import canonical_datastore, open_store

        name = canonical_datastore(store)
        assert name is not None
        db = open_store(str(self.db))
        try:
            return len(db.items(USER, name))
        finally:
            db.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RefServer:
    """SyncEvolution's own server (``se-refserver``) in place of ours, to check
    the tests themselves: ``SYNCML_CODEC_INTEROP_SERVER=refserver``."""

    def __init__(self, folder: Path, devices: Sequence[str] = ("se-client-a", "se-client-b")) -> None:
        self.folder = folder
        self.transcripts = folder / "(none)"
        self.log = folder / "state" / "server.log"
        args = [sys.executable, str(SE_REFSERVER), "start", "--state", str(folder / "state"),
                "--port", str(free_port())]
        for device in devices:
            args += ["--device", device]
        proc = subprocess.run(args, capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            missing(f"se-refserver did not start: {proc.stderr.strip()[-500:]}")
        info = json.loads(proc.stdout.strip().splitlines()[-1])
        self.url: str = info["url"]
        self.pid: int = info["pid"]

    def stop(self) -> int:
        subprocess.run([sys.executable, str(SE_REFSERVER), "stop", "--state", str(self.folder / "state")],
                       capture_output=True, timeout=60)
        return 0

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else ""

    def count(self, store: str) -> int:
        proc = subprocess.run([sys.executable, str(SE_REFSERVER), "list", store, "--state",
                               str(self.folder / "state")], capture_output=True, text=True, timeout=60)
        count: int = json.loads(proc.stdout)["count"]
        return count


Server = ServerProcess | RefServer


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("core_matrix") and "server_db" in metafunc.fixturenames:
        metafunc.parametrize("server_db", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def server_db(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The database ``syncml_server`` serves: None (a new SQLite file), or
    for the second half of a ``core_matrix`` test a new PostgreSQL schema."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield None
        return
    from ..store.conftest import postgres_schema

    with postgres_schema() as url:
        yield url


@pytest.fixture
def syncml_server(tmp_path: Path, request: pytest.FixtureRequest, server_db: str | None) -> Iterator[Server]:
    folder = tmp_path / "server"
    folder.mkdir()
    server: Server = RefServer(folder) if os.environ.get("SYNCML_CODEC_INTEROP_SERVER") == "refserver" \
        else ServerProcess(folder, db=server_db)
    try:
        yield server
    finally:
        code = server.stop()
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            print(f"--- syncml serve log (exit {code}; transcripts in {server.transcripts}):\n{server.log_tail()}")
    assert code == 0, f"syncml serve exited with {code}:\n{server.log_tail()}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


class SEError(AssertionError):
    pass


class SE:
    """se-client with a home of its own, bound to one sync URL.  Every call
    returns se-client's JSON; a failing call raises :class:`SEError`."""

    def __init__(self, home: Path, shim: Path, url: str, files: Path) -> None:
        self.home = home
        self.url = url
        self.files = files
        home.mkdir(parents=True, exist_ok=True)
        shutil.copy2(shim, home / "curlfix.so")  # setup built it once; se-client checks its mtime
        self.env = dict(os.environ, SE_CLIENT_HOME=str(home))
        self.log: list[str] = []  # what ran, for failure messages
        self._n = 0

    def run(self, *args: str, check: bool = True, timeout: float = 180) -> dict[str, Any]:
        self.log.append(" ".join(args))
        proc = subprocess.run([sys.executable, str(SE_CLIENT), *args], capture_output=True, text=True,
                              env=self.env, timeout=timeout)
        try:
            result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else {}
        except json.JSONDecodeError:
            result = {"stdout": proc.stdout}
        if check and proc.returncode != 0:
            raise SEError(f"se-client {' '.join(args)} failed (exit {proc.returncode}): "
                          f"{proc.stderr.strip()[-2000:]}\n{json.dumps(result, indent=1)[:3000]}")
        return result

    def configure(self, device: str, *, url: str | None = None, user: str = USER, password: str = PASSWORD,
                  wbxml: bool = True, auth: str = "md5", stores: Sequence[str] = ("addressbook",),
                  vcard: str = "3.0", ical: str = "2.0", device_id: str | None = None,
                  retry_duration: int = 20, retry_interval: int = 10, sets: Sequence[str] = (),
                  store_sets: Sequence[str] = ()) -> dict[str, Any]:
        args = ["configure", device, "--url", url or self.url, "--user", user, "--password", password,
                "--wbxml", "yes" if wbxml else "no", "--auth", auth, "--stores", ",".join(stores),
                "--vcard", vcard, "--ical", ical, "--retry-duration", str(retry_duration),
                "--retry-interval", str(retry_interval), "--force"]
        if device_id:
            args += ["--device-id", device_id]
        for prop in sets:
            args += ["--set", prop]
        for prop in store_sets:
            args += ["--store-set", prop]
        return self.run(*args)

    def _file(self, content: bytes | str | Path) -> str:
        if isinstance(content, Path):
            return str(content)
        self._n += 1
        path = self.files / f"item-{self._n:04d}"
        self.files.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return str(path)

    def add(self, device: str, store: str, items: Sequence[bytes | str | Path]) -> list[str]:
        """Import each item (file path or content); their LUIDs."""
        result = self.run("add", device, store, *[self._file(i) for i in items])
        return [a["luid"] for a in result["added"]]

    def update(self, device: str, store: str, luid: str, item: bytes | str | Path) -> None:
        self.run("update", device, store, luid, self._file(item))

    def delete(self, device: str, store: str, luids: Sequence[str]) -> None:
        self.run("delete", device, store, *luids)

    def sync(self, device: str, mode: str | None = None, *, stores: Sequence[str] | None = None,
             check: bool = True, timeout: float = 120) -> dict[str, Any]:
        args = ["sync", device, "--timeout", str(timeout)]
        if mode:
            args += ["--mode", mode]
        if stores:
            args += ["--stores", ",".join(stores)]
        result = self.run(*args, check=False, timeout=timeout + 30)
        if check and not result.get("ok"):
            raise SEError(f"sync {device} {mode or ''} failed: {json.dumps(result, indent=1)[:4000]}")
        return result

    def list_items(self, device: str, store: str) -> list[dict[str, str]]:
        """``[{"luid": ..., "content": ...}]`` as the client stores them."""
        items: list[dict[str, str]] = self.run("list", device, store)["items"]
        return items


@pytest.fixture
def se(se_shim: Path, syncml_server: Server, tmp_path: Path) -> SE:
    return SE(tmp_path / "se", se_shim, syncml_server.url, tmp_path / "items")

