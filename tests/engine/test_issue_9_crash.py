"""Issue 9, defect 7: duplicates after a crash.

The server is "killed" after its N-th answer of a session, for every N:
the :class:`SyncServer` object is dropped and a new one is built on the same
SQLite file (every message is one committed transaction, so the file holds
everything up to the last message answered).  Two variants per N: the
client got answer N (killed right after relaying it), or the answer was lost
(killed after the commit, before the client read it).  The interrupted
client then comes back, in one of two ways:

* ``retry``: our :class:`ClientSession`, which starts a new session with the
  anchors it has (a slow sync for a first sync, else a two-way sync);
* ``resume``: what SyncEvolution does: Alert 225, and it sends only the
  items the interrupted session did not acknowledge (the defect: the server
  forgot the map and sent the rest back as Adds; since issue 15 the server
  honours the resume with the interrupted session's mode).

Afterwards the server, device A and a fresh device B must each hold exactly
the expected items, no duplicates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from syncml_codec.engine import ClientSession, ClientStore, Request, SyncServer
from syncml_codec.formats import normalized, parse
from syncml_codec.model import AlertCode
from syncml_codec.store import SQLiteStore

from .conftest import Clock, counter_random
from .helpers import ab, device, sync, vcard

URI = "./addressbook"
SERVER_MSG = 2500  # the server's MaxMsgSize: the client's package 3 spans several messages
CLIENT_MSG = 3000  # the client's: so does the server's package 4


def key(data: bytes) -> tuple[object, ...]:
    """What makes a contact the same contact (the client rewrites nothing, but be safe)."""
    return tuple(p for p in normalized(parse(data).component) if p[1] not in ("PRODID", "REV"))  # type: ignore[attr-defined]


def holds(items: list[bytes] | dict[str, bytes]) -> Counter[tuple[object, ...]]:
    values = items.values() if isinstance(items, dict) else items
    return Counter(key(d) for d in values)


class Site:
    """A server on an SQLite file that can be killed and restarted."""

    def __init__(self, path: Path) -> None:
        self.path = path
        store = SQLiteStore(path)
        store.add_user("test", "secret")
        store.close()
        self.server = self._start()

    def _start(self) -> SyncServer:
        self.store = SQLiteStore(self.path)
        return SyncServer(self.store, clock=Clock(), random_source=counter_random(), max_msg_size=SERVER_MSG)

    def kill(self) -> None:
        self.store.close()  # what was committed stays; the sessions in memory are gone
        self.server = self._start()

    def items(self) -> list[bytes]:
        return [i.data for i in self.store.items("test", "Contacts")]


def client(store: ClientStore, server: SyncServer, mode: int | None = None) -> ClientSession:
    return ClientSession(store, url=server.base_url, user="test", password="secret", clock=Clock(),
                         max_msg_size=CLIENT_MSG, modes={URI: mode} if mode else None)


def post(server: SyncServer, request: Request) -> bytes:
    sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
    response = server.handle(request.body, request.content_type, sid)
    assert response.http_status == 200
    return response.body


def run(site: Site, store: ClientStore, kill_after: int | None = None, lose: bool = False) -> tuple[int, bool]:
    """One session of ``store``, the server killed after its answer
    ``kill_after`` (that answer ``lose``-t or delivered).  Returns the number
    of answers and whether the session completed."""
    session = client(store, site.server)
    request: Request | None = session.start()
    answers = 0
    while request is not None:
        body = post(site.server, request)
        answers += 1
        if answers == kill_after:
            site.kill()
            if not lose:
                session.receive(body)  # the client read it; its next message meets a dead server
            return answers, False
        request = session.receive(body)
    assert session.ok, session.error
    return answers, True


def resume(site: Site, store: ClientStore) -> None:
    """SyncEvolution's way back: Alert 225, then only the items the
    interrupted session did not acknowledge (``changes``), whatever the
    server's 508 says; the items it already sent stay as they are."""
    ds = store.datastores[URI]
    view = ClientStore(store.device_id, nonce=store.nonce)
    part = view.add_datastore(URI, ds.remote_uri, ds.content_type, ds.version)
    part.items = {luid: data for luid, data in ds.items.items() if luid in ds.changes or luid in ds.unmapped}
    part.unmapped = dict(ds.unmapped)
    part.next_luid = ds.next_luid
    part.last_anchor = ds.last_anchor or "interrupted"  # (so the session asks what we tell it: 225)
    session = client(view, site.server, AlertCode.ALERT_RESUME)
    request: Request | None = session.start()
    while request is not None:
        request = session.receive(post(site.server, request))
    assert session.ok, session.error
    report = session.reports[URI]
    # (issue 15: while the resume point of the interrupted session is in the store, the resume is honoured:
    # 200 and that session's mode; once the server completed the session, 508 and a slow sync)
    assert (report.alert_status == 200 and report.mode in (AlertCode.SLOW_SYNC, AlertCode.TWO_WAY)) or \
        (report.alert_status == 508 and report.mode == AlertCode.SLOW_SYNC)
    kept = {luid: data for luid, data in ds.items.items() if luid not in part.items}
    ds.items = {**kept, **part.items}
    ds.changes.clear()
    ds.unmapped.clear()
    ds.next_luid = part.next_luid
    ds.last_anchor, ds.server_anchor = part.last_anchor, part.server_anchor
    store.nonce = view.nonce


RECOVERIES: dict[str, Callable[[Site, ClientStore], None]] = {
    "retry": lambda site, store: (None, run(site, store))[0],
    "resume": resume,
}


def answers_of(make: Callable[[Site], ClientStore], tmp_path: Path) -> int:
    """How many answers the session has without a crash (the kill points)."""
    site = Site(tmp_path / "count.db")
    count, done = run(site, make(site))
    assert done
    return count


def contacts(n: int, start: int = 0) -> list[bytes]:
    return [vcard(i, note="x" * 120) for i in range(start, start + n)]


def check(site: Site, expected: list[bytes], *devices: ClientStore) -> None:
    want = holds(expected)
    assert holds(site.items()) == want, "server"
    for store in devices:
        assert holds(ab(store)) == want, store.device_id
    fresh = device("fresh")
    _, done = run(site, fresh)
    assert done and holds(ab(fresh)) == want, "a fresh device"


# ------------------------------------------------ A's first slow sync, 40 contacts
A_ITEMS = contacts(40)


def a_with_items(site: Site) -> ClientStore:
    a = device("a")
    for data in A_ITEMS:
        a.datastores[URI].add(data)
    return a


@pytest.mark.parametrize("recovery", sorted(RECOVERIES))
@pytest.mark.parametrize("lose", [False, True], ids=["delivered", "lost"])
def test_crash_during_a_first_slow_sync(tmp_path: Path, recovery: str, lose: bool) -> None:
    total = answers_of(a_with_items, tmp_path)
    assert total >= 5  # package 1+2, package 3 over several messages, package 4, 5+6
    for n in range(1, total + 1):
        site = Site(tmp_path / f"a-{n}.db")
        a = a_with_items(site)
        _, done = run(site, a, kill_after=n, lose=lose)
        assert not done
        RECOVERIES[recovery](site, a)
        # a second session changes nothing (and is two-way)
        again = client(a, site.server)
        request: Request | None = again.start()
        while request is not None:
            request = again.receive(post(site.server, request))
        assert again.ok and again.reports[URI].received == {}, f"after answer {n}"
        check(site, A_ITEMS, a)


# ------------------------------------- B's first sync: the server's package 4
@pytest.mark.parametrize("recovery", sorted(RECOVERIES))
@pytest.mark.parametrize("lose", [False, True], ids=["delivered", "lost"])
def test_crash_while_b_receives(tmp_path: Path, recovery: str, lose: bool) -> None:
    def b_after_a(site: Site) -> ClientStore:
        assert run(site, a_with_items(site))[1]
        return device("b")

    total = answers_of(b_after_a, tmp_path)
    assert total >= 4  # package 4 over several messages
    for n in range(1, total + 1):
        site = Site(tmp_path / f"b-{n}.db")
        b = b_after_a(site)
        _, done = run(site, b, kill_after=n, lose=lose)
        assert not done
        RECOVERIES[recovery](site, b)
        assert holds(ab(b)) == holds(A_ITEMS), f"after answer {n}: B holds {len(ab(b))}"
        check(site, A_ITEMS, b)


# --------------------- a two-way sync with changes both ways, killed anywhere
def test_crash_during_two_way_with_changes(tmp_path: Path) -> None:
    base = contacts(12)

    def prepared(site: Site) -> tuple[ClientStore, ClientStore]:
        a, b = device("a"), device("b")
        for data in base:
            a.datastores[URI].add(data)
        assert run(site, a)[1] and run(site, b)[1]
        # B: 2 edits, 1 delete, 6 new; A: 1 edit, 6 new (A's session is the one killed)
        lb = {d: luid for luid, d in ab(b).items()}
        b.datastores[URI].update(lb[base[0]], vcard(0, "edited on b"))
        b.datastores[URI].update(lb[base[1]], vcard(1, "edited on b"))
        b.datastores[URI].delete(lb[base[2]])
        for data in contacts(6, 100):
            b.datastores[URI].add(data)
        assert run(site, b)[1]
        la = {d: luid for luid, d in ab(a).items()}
        a.datastores[URI].update(la[base[5]], vcard(5, "edited on a"))
        for data in contacts(6, 200):
            a.datastores[URI].add(data)
        return a, b

    expected = [vcard(0, "edited on b"), vcard(1, "edited on b"), *base[3:5], vcard(5, "edited on a"), *base[6:],
                *contacts(6, 100), *contacts(6, 200)]
    total = answers_of(lambda site: prepared(site)[0], tmp_path)
    assert total >= 4
    for lose in (False, True):
        for n in range(1, total + 1):
            site = Site(tmp_path / f"two-way-{n}-{lose}.db")
            a, b = prepared(site)
            _, done = run(site, a, kill_after=n, lose=lose)
            assert not done
            assert run(site, a)[1]
            assert run(site, b)[1]
            check(site, expected, a, b)


def test_alert_225_without_anything_to_resume_is_a_slow_sync(server: SyncServer, store: SQLiteStore) -> None:
    """A resume the server knows nothing of (nothing stored): 508 and an
    ordinary slow sync; the anchors of the completed session allow two-way."""
    a = device("a")
    a.datastores[URI].add(vcard(1))
    a.datastores[URI].last_anchor = "from-another-server"
    s = sync(server, a, AlertCode.ALERT_RESUME)
    assert s.ok and s.reports[URI].alert_status == 508 and s.reports[URI].mode == AlertCode.SLOW_SYNC
    assert len(store.items("test", "Contacts")) == 1
    s = sync(server, a)
    assert s.ok and s.reports[URI].mode == AlertCode.TWO_WAY and s.reports[URI].received == {}
