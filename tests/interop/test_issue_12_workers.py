"""Issue 12, item 2, the real thing: ``gunicorn -w 2`` serving
``syncml_codec.server:create_app()`` behind a proxy that opens one upstream
connection per request (``se-client capture --forward``, as nginx does by
default), and SyncEvolution syncing through it: two-way, slow and refresh
syncs with changes both ways, 6 of 6 succeed (before: 0 of 6, the other
worker answered 407) and both devices end up holding the same data.

gunicorn's access log says which worker served each request and from which
client port it came: the test checks that every request came on a
connection of its own and that the sessions' messages were spread over
both workers (a session served by both), and that the transcripts the two
workers wrote into each session's folder lose no exchange."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import PASSWORD, SE, SE_CLIENT, USER, free_port, python_env, syncml_cli
from .items import KINDS, fingerprints, picked

CONTACTS = KINDS["vcard30"]
#: pid, client port, query string, status of each request (gunicorn's access log atoms)
ACCESS_FORMAT = "%(p)s %({REMOTE_PORT}e)s %(s)s ?%(q)s"


def _wait_for(proc: subprocess.Popen[bytes], stream: str, needle: str, count: int = 1,
              timeout: float = 60) -> list[str]:
    """Lines of ``proc``'s ``stream`` up to the ``count``-th holding ``needle``."""
    pipe = getattr(proc, stream)
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while sum(needle in line for line in lines) < count:
        left = deadline - time.monotonic()
        ready, _, _ = select.select([pipe], [], [], max(left, 0))
        line = pipe.readline().decode(errors="replace") if ready else ""
        if not line:
            raise AssertionError(f"no {needle!r} ({count}x) from {proc.args!r}:\n{''.join(lines)[-3000:]}")
        lines.append(line)
    return lines


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Workers:
    """gunicorn -w 2 on one port, the one-connection-per-request proxy on another."""

    def __init__(self, folder: Path, db: str | None = None) -> None:
        self.db = db or str(folder / "server.db")
        self.access_log = folder / "access.log"
        self.server_log = folder / "gunicorn.log"
        self.transcripts = folder / "transcripts"
        proc = syncml_cli("user", "add", USER, "--password", PASSWORD, "--db", self.db)
        assert proc.returncode == 0, proc.stderr
        ports = [free_port(), free_port()]
        while len({len(str(p)) for p in ports}) != 1 or ports[0] == ports[1]:  # same length: the proxy
            ports = [free_port(), free_port()]  # rewrites the RespURI's host:port byte for byte
        upstream, front = ports
        env = dict(python_env(), SYNCML_DB=self.db, SYNCML_LOG_LEVEL="info",
                   SYNCML_TRANSCRIPTS=str(self.transcripts))
        self.gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "2", "--bind", f"127.0.0.1:{upstream}",
             "--access-logfile", str(self.access_log), "--access-logformat", ACCESS_FORMAT,
             "syncml_codec.server:create_app()"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        self.proxy: subprocess.Popen[bytes] | None = None
        try:
            self.boot = _wait_for(self.gunicorn, "stderr", "Booting worker", count=2)
            self.proxy = subprocess.Popen(
                [sys.executable, str(SE_CLIENT), "capture", "--port", str(front), "--out", str(folder / "capture"),
                 "--forward", f"http://127.0.0.1:{upstream}"],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=dict(os.environ))
            _wait_for(self.proxy, "stdout", "capture: listening")
        except BaseException:
            self.stop()
            raise
        self.url = f"http://127.0.0.1:{front}/sync"

    def stop(self) -> str:
        for proc in (self.proxy, self.gunicorn):
            if proc is not None:
                _stop(proc)
        rest = self.gunicorn.stderr.read().decode(errors="replace") if self.gunicorn.stderr else ""
        self.server_log.write_text("".join(getattr(self, "boot", [])) + rest)
        if self.gunicorn.stderr is not None:
            self.gunicorn.stderr.close()
        if self.proxy is not None and self.proxy.stdout is not None:
            self.proxy.stdout.close()
        return rest

    def requests(self) -> list[tuple[str, str, str, str]]:
        """(worker pid, client port, status, session id or "") per request."""
        out = []
        for line in self.access_log.read_text().splitlines():
            pid, port, status, query = line.split(" ", 3)
            sid = query.partition("sessionid=")[2].split("&")[0]
            out.append((pid, port, status, sid))
        return out

    def count(self) -> int:
        from syncml_codec.store import open_store

        db = open_store(self.db)
        try:
            return len(db.items(USER, "Contacts"))
        finally:
            db.close()


@pytest.fixture
def workers(tmp_path: Path, se_shim: Path, server_db: str | None) -> Iterator[Workers]:
    (tmp_path / "server").mkdir()
    w = Workers(tmp_path / "server", db=server_db)
    failed = True
    try:
        yield w
        failed = False
    finally:
        rest = w.stop()
        if failed:
            print(f"--- gunicorn log:\n{rest[-4000:]}")


@pytest.mark.core_matrix
def test_issue_12_syncevolution_through_two_gunicorn_workers(workers: Workers, se_shim: Path,
                                                              tmp_path: Path) -> None:
    se = SE(tmp_path / "se", se_shim, workers.url, tmp_path / "items")
    for device in ("a", "b"):
        se.configure(device, stores=[CONTACTS.store])
    items = picked(CONTACTS)
    se.add("a", CONTACTS.store, items[:2])
    results = [se.sync("a", check=False)]  # 1: the first sync: slow
    results.append(se.sync("b", check=False))  # 2: b's first: slow, gets a's two
    se.add("b", CONTACTS.store, items[2:])
    results.append(se.sync("b", check=False))  # 3: two-way, b sends one
    se.delete("a", CONTACTS.store, [se.list_items("a", CONTACTS.store)[0]["luid"]])
    results.append(se.sync("a", check=False))  # 4: two-way both ways: a's delete out, b's add in
    results.append(se.sync("a", "slow", check=False))  # 5: slow again: no duplicates
    results.append(se.sync("b", "refresh-from-server", check=False))  # 6: refresh: b gets the delete
    ok = [r.get("ok") for r in results]
    assert ok == [True] * 6, f"{ok.count(True)} of 6 syncs succeeded: {results}"
    modes = [r["stores"][CONTACTS.store]["mode"] for r in results]
    assert modes[0] == modes[1] == modes[4] == "slow" and modes[2] == modes[3] == "two-way"
    assert modes[5] == "refresh-from-remote"

    a = [i["content"] for i in se.list_items("a", CONTACTS.store)]
    b = [i["content"] for i in se.list_items("b", CONTACTS.store)]
    assert len(a) == len(b) == workers.count() == len(items) - 1
    assert fingerprints(CONTACTS, a) == fingerprints(CONTACTS, b)

    requests = workers.requests()
    assert requests and all(status == "200" for _, _, status, _ in requests)
    assert len({port for _, port, _, _ in requests}) == len(requests)  # a connection per request
    pids = {pid for pid, _, _, _ in requests}
    assert len(pids) == 2, f"one worker served everything: {requests}"
    by_session: dict[str, set[str]] = {}
    for pid, _, _, sid in requests:
        if sid:
            by_session.setdefault(sid, set()).add(pid)
    assert any(len(p) == 2 for p in by_session.values()), f"no session was served by both workers: {requests}"
    for sid in by_session:  # its first message (no ?sessionid yet) and the rest, numbered without a gap
        numbers = sorted(int(f.name[:3]) for f in (workers.transcripts / sid).glob("*-request.*"))
        assert numbers == list(range(1, 2 + sum(s == sid for _, _, _, s in requests))), (sid, numbers)
