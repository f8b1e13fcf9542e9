"""Issue 15, item 1, with a real client: SyncEvolution is interrupted in the
middle of a slow sync of 500 contacts and runs again: it resumes (Alert
225), the session completes, and no contact is sent twice or ends up twice
on either side.

A relaying proxy between SyncEvolution and ``syncml serve`` counts the
server's answers (challenges not counted) and, after answer N, signals the
``syncevolution`` process of this test (found by its SE_CLIENT_HOME in
``/proc``; only that process id is signalled) before relaying the answer;
the server is not touched.  What SyncEvolution 2.0 does (observed here):

* SIGINT is its "suspend" (Ctrl-C once): the session ends at once with
  status 20032 ("explicitly suspended on behalf of user") and **no Alert 224
  on the wire**; the server sees an interrupted session.  The next run sends
  Alert 225 and, the resume honoured, only the items the server did not
  acknowledge (checked on the wire);
* SIGTERM aborts: the next run also sends Alert 225, but the Synthesis engine
  kept no per-item marks, so it sends every item again: the server knows the
  acknowledged ones by their LUIDs and stores none twice.

Points: A's package 3 (A sends its 500 contacts in 20000-byte messages), B's
package 4 (B receives them), and B's last package-4 answer, before its Map.
Alert 224 itself is covered by our client session (tests/engine).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from .conftest import SE, ServerProcess, free_port
from .items import KINDS, fingerprints
from .relay import Relay, post
from .test_issue_9_crash import add_contacts, assert_holds, configure, kind_of_answer

CONTACTS = KINDS["vcard30"]
COUNT = 500


def contacts() -> list[bytes]:
    return [(f"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Resume{i:03d};Test;;;\r\nFN:Test Resume{i:03d}\r\n"
             f"TEL;TYPE=WORK:+1-555-{i:04d}\r\nEMAIL:resume{i}@example.com\r\n"
             f"NOTE:{f'contact number {i} ' * 16}\r\nEND:VCARD\r\n").encode() for i in range(COUNT)]


def client_pids(home: Path) -> list[int]:
    """The ``syncevolution`` processes running with ``home`` (this test's SE_CLIENT_HOME)."""
    marker = str(home).encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            if not cmdline or not cmdline[0].endswith(b"syncevolution"):
                continue
            if marker in Path(f"/proc/{entry}/environ").read_bytes():
                found.append(int(entry))
        except OSError:
            continue
    return found


class SignalProxy(Relay):
    """Relays POSTs to the server; after the server's answer ``after`` (a
    number, or ``"last"`` for the last of the client's package 4, the one
    with Final before its Map) it sends ``sig`` to the test's syncevolution
    process, then relays that answer.  Records every request body."""

    def __init__(self, upstream: str, home: Path) -> None:
        super().__init__()
        self.upstream = upstream  # http://127.0.0.1:PORT
        self.home = home
        self.after: int | str | None = None
        self.sig = signal.SIGINT
        self.answers = 0
        self.signalled: list[int] = []
        self.requests: list[tuple[bytes, str]] = []
        self.answers_seen: list[tuple[bytes, str]] = []
        self.serve()

    def relay(self, path: str, body: bytes, ctype: str) -> tuple[int, bytes, str]:
        self.requests.append((body, ctype))
        code, data, answer_type = self._relay(path, body, ctype)
        self.answers_seen.append((data, answer_type))
        return code, data, answer_type

    def _relay(self, path: str, body: bytes, ctype: str) -> tuple[int, bytes, str]:
        code, data, answer_type = post(f"{self.upstream}{path}", body, ctype)
        kind = kind_of_answer(data, answer_type)
        if kind == "challenge" or self.after is None:
            return code, data, answer_type
        self.answers += 1
        if self.after == self.answers or (self.after == "last" and final_with_sync(data, answer_type)):
            self.after = None
            for pid in client_pids(self.home):
                os.kill(pid, self.sig)
                self.signalled.append(pid)
        return code, data, answer_type

    def arm(self, after: int | str, sig: signal.Signals = signal.SIGINT) -> None:
        self.after, self.sig, self.answers, self.requests, self.answers_seen = after, sig, 0, [], []

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def final_with_sync(body: bytes, content_type: str) -> bool:
    """The server's last package-4 message: Final, with a Sync."""
    from syncml_codec.model import Message, Sync

    try:
        msg = Message.from_bytes(body, content_type)
    except Exception:
        return False
    return msg.final and any(isinstance(c, Sync) for c in msg.commands)


def alerts_sent(requests: list[tuple[bytes, str]]) -> list[int]:
    """The Alert codes (other than 222) the client sent."""
    from syncml_codec.model import Alert, Message

    codes = []
    for body, ctype in requests:
        try:
            msg = Message.from_bytes(body, ctype)
        except Exception:
            continue
        codes += [int(c.code) for c in msg.commands if isinstance(c, Alert) and c.code is not None
                  and int(c.code) != 222]
    return codes


def items_sent(requests: list[tuple[bytes, str]]) -> int:
    """The items of the Adds and Replaces in the Syncs of these messages."""
    from syncml_codec.model import Add, Message, Replace, Sync

    count = 0
    for body, ctype in requests:
        try:
            msg = Message.from_bytes(body, ctype)
        except Exception:
            continue
        for sync in (c for c in msg.commands if isinstance(c, Sync)):
            count += sum(len(c.items) for c in sync.commands if isinstance(c, (Add, Replace)))
    return count


items_received = items_sent  # (the same count over the server's answers)


def server_items(server: ServerProcess) -> list[bytes]:
    from syncml_codec.store import open_store

    db = open_store(str(server.db))
    try:
        return [i.data for i in db.items("test", "Contacts")]
    finally:
        db.close()


@pytest.fixture
def proxied(se_shim: Path, tmp_path: Path) -> Any:
    """(proxy, SE, server): ``syncml serve`` giving the proxy's URL as its
    RespURI, so that every message of a session goes through the proxy."""
    home = tmp_path / "se"
    port = free_port()
    proxy = SignalProxy(f"http://127.0.0.1:{port}", home)
    folder = tmp_path / "server"
    folder.mkdir()
    server = ServerProcess(folder, port=port, url=proxy.url)
    try:
        yield proxy, SE(home, se_shim, proxy.url, tmp_path / "items"), server
    finally:
        proxy.close()
        code = server.stop()
        assert code == 0, f"syncml serve exited with {code}:\n{server.log_tail()}"


@pytest.mark.parametrize("sig", [pytest.param(signal.SIGINT, id="sigint"), pytest.param(signal.SIGTERM, id="sigterm")])
def test_suspend_in_package_3_resumes(proxied: Any, sig: signal.Signals) -> None:
    proxy, se, syncml_server = proxied
    configure(se, "a", "b")
    items = contacts()
    add_contacts(se, "a", items)
    proxy.arm(2, sig)
    first = se.sync("a", check=False, timeout=90)
    assert proxy.signalled, f"SyncEvolution was not signalled ({proxy.answers} answers)"
    assert not first["ok"], first
    partial = len(server_items(syncml_server))
    assert 0 < partial < COUNT
    proxy.arm(10**6)  # (count, never signal)
    again = se.sync("a")
    assert 225 in alerts_sent(proxy.requests), "no resume alert"
    report = again["stores"]["addressbook"]
    # the server acknowledged `partial` contacts: after a suspend (SIGINT) the resumed session sends exactly the
    # others; after an abort (SIGTERM) SyncEvolution keeps the alert but not its per-item marks and sends all
    # again: the server knows the acknowledged ones by their LUIDs (mapped in the interrupted session), and
    # stores none of them twice (checked below)
    assert items_sent(proxy.requests) == (COUNT - partial if sig is signal.SIGINT else COUNT)
    assert report["client"]["added"] == 0, again
    assert fingerprints(CONTACTS, server_items(syncml_server)) == fingerprints(CONTACTS, items), "server"
    quiet = se.sync("a")
    assert quiet["stores"]["addressbook"]["mode"] == "two-way"
    assert quiet["stores"]["addressbook"]["client"] == {"added": 0, "updated": 0, "deleted": 0, "errors": 0}
    assert quiet["stores"]["addressbook"]["server"] == {"added": 0, "updated": 0, "deleted": 0, "errors": 0}
    assert_holds(se, "a", items)
    se.sync("b")
    assert_holds(se, "b", items)


@pytest.mark.parametrize("after", [pytest.param(3, id="package4"), pytest.param("last", id="before-map")])
def test_suspend_while_b_receives_resumes(proxied: Any, after: int | str) -> None:
    proxy, se, syncml_server = proxied
    configure(se, "a", "b")
    items = contacts()
    add_contacts(se, "a", items)
    se.sync("a")
    proxy.arm(after)
    first = se.sync("b", check=False, timeout=90)
    assert proxy.signalled, f"SyncEvolution was not signalled ({proxy.answers} answers)"
    assert not first["ok"], first
    held = len(se.list_items("b", "addressbook"))
    assert 0 < held <= COUNT
    proxy.arm(10**6)
    again = se.sync("b")
    assert 225 in alerts_sent(proxy.requests), "no resume alert"
    # B kept what it received: the resumed session brings exactly the others
    assert again["stores"]["addressbook"]["client"] == {"added": COUNT - held, "updated": 0, "deleted": 0,
                                                        "errors": 0}, again
    assert items_received(proxy.answers_seen) == COUNT - held  # (on the wire: nothing came twice)
    assert_holds(se, "b", items)
    quiet = se.sync("b")
    assert quiet["stores"]["addressbook"]["client"] == {"added": 0, "updated": 0, "deleted": 0, "errors": 0}
    assert quiet["stores"]["addressbook"]["server"] == {"added": 0, "updated": 0, "deleted": 0, "errors": 0}
    assert fingerprints(CONTACTS, server_items(syncml_server)) == fingerprints(CONTACTS, items), "server"
