"""Our client session against SyncEvolution's own SyncML server
(``se-refserver``), over HTTP on loopback: a first slow sync, a second
device receiving, and two-way syncs carrying an edit, an add and a delete.

Skipped when SyncEvolution's server is not installed, unless
``SYNCML_CODEC_REQUIRE_INTEROP=1`` (CI), where that is a failure (``se-refserver``
needs syncevolution-http syncevolution-dbus python3-twisted python3-dbus
python3-gi dbus; it installs them itself when run as root).  Skipped in the
pure-Python pass (``SYNCML_CODEC_NO_EXTENSIONS=1``), like ``tests/interop``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncml_codec.engine import ClientSession, ClientStore
from syncml_codec.engine._items import content_key

from ..conftest import ROOT
from .helpers import vcard

SE_REFSERVER = ROOT.parent / "shared" / "interop" / "syncevolution" / "se-refserver"
DEVICES = ("syncml-codec-client-a", "syncml-codec-client-b")


def _unavailable(reason: str) -> None:
    if os.environ.get("SYNCML_CODEC_REQUIRE_INTEROP") == "1":
        pytest.fail(f"SYNCML_CODEC_REQUIRE_INTEROP=1 but {reason}")
    pytest.skip(reason)


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def refserver(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    if os.environ.get("SYNCML_CODEC_NO_EXTENSIONS") == "1":
        pytest.skip("runs in the extension pass of CI only (like tests/interop)")
    if not SE_REFSERVER.exists() or shutil.which("syncevolution") is None \
            or not Path("/usr/bin/syncevo-http-server").exists():
        _unavailable("SyncEvolution's server (syncevolution-http) is not installed")
    state = tmp_path / "ref"
    args = [sys.executable, str(SE_REFSERVER), "start", "--state", str(state), "--port", str(_port())]
    for device in DEVICES:
        args += ["--device", device]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        _unavailable(f"se-refserver did not start: {proc.stderr.strip()[-400:]}")
    url = json.loads(proc.stdout.strip().splitlines()[-1])["url"]
    try:
        yield url, state
    finally:
        subprocess.run([sys.executable, str(SE_REFSERVER), "stop", "--state", str(state)],
                       capture_output=True, timeout=60)


def _server_count(state: Path) -> int:
    proc = subprocess.run([sys.executable, str(SE_REFSERVER), "list", "addressbook", "--state", str(state)],
                          capture_output=True, text=True, timeout=60)
    count: int = json.loads(proc.stdout)["count"]
    return count


def run(store: ClientStore, url: str, mode: int | None = None, session_id: str = "1") -> ClientSession:
    session = ClientSession(store, url=url, user="test", password="secret", session_id=session_id,
                            modes={uri: mode for uri in store.datastores} if mode else None)
    request = session.start()
    for _ in range(30):
        http = urllib.request.Request(request.url, data=request.body, method="POST",
                                      headers={"Content-Type": request.content_type})
        with urllib.request.urlopen(http, timeout=60) as answer:
            body = answer.read()
            ctype = answer.headers.get("Content-Type")
        next_request = session.receive(body, ctype)
        if next_request is None:
            return session
        request = next_request
    raise AssertionError("the session did not end")


def fields(data: bytes) -> object:
    """The properties that carry data (the server adds empty ones, PRODID, REV...)."""
    return content_key(data, "text/vcard")


def test_our_client_syncs_two_way_with_syncevolutions_server(refserver: tuple[str, Path]) -> None:
    url, state = refserver
    a, b = ClientStore(DEVICES[0]), ClientStore(DEVICES[1])
    for dev in (a, b):
        dev.add_datastore("./addressbook", "addressbook", "text/vcard", "3.0")
    book_a, book_b = a.datastores["./addressbook"], b.datastores["./addressbook"]
    first, second = book_a.add(vcard(1, "first")), book_a.add(vcard(2, "second"))

    s = run(a, url, session_id="1")
    assert s.ok, s.error
    assert s.reports["./addressbook"].mode == 201 and s.reports["./addressbook"].statuses == [201, 201]
    assert _server_count(state) == 2

    s = run(b, url, session_id="1")
    assert s.ok, s.error
    assert s.reports["./addressbook"].received == {"Add": 2}
    assert sorted(map(fields, book_b.items.values()), key=repr) == sorted(map(fields, book_a.items.values()),
                                                                          key=repr)

    book_a.update(first, vcard(1, "first, edited"))
    book_a.delete(second)
    book_a.add(vcard(3, "third"))
    s = run(a, url, session_id="2")
    assert s.ok, s.error
    assert s.reports["./addressbook"].mode == 200 and sorted(s.reports["./addressbook"].statuses) == [200, 200, 201]
    assert _server_count(state) == 2

    s = run(b, url, session_id="2")
    assert s.ok, s.error
    assert s.reports["./addressbook"].mode == 200
    assert s.reports["./addressbook"].received == {"Add": 1, "Replace": 1, "Delete": 1}
    assert sorted(map(fields, book_b.items.values()), key=repr) == sorted(map(fields, book_a.items.values()),
                                                                          key=repr)
