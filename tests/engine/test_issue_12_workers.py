"""Issue 12, item 2: stateless workers.  Two ``SyncServer``s, each with its
own connection to one SQLite file (two worker processes as far as the
engine can tell), serve the messages of one session alternately: the
challenge one sends is checked by the other, chunks started on one are
finished on the other, a resent message gets the same answer from either,
and a failure on one rolls back to the state before the message."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from syncml_codec.engine import ClientSession, ClientStore, ServerLimits, ServerPhase, SyncServer
from syncml_codec.model import Add, Message, Replace, Status, Sync
from syncml_codec.store import SQLiteStore

from .conftest import Clock, counter_random
from .helpers import ab, device, vcard

MSG = 4000  # both sides' MaxMsgSize: a 20 kB item goes in chunks


@pytest.fixture
def workers(tmp_path: Path) -> list[SyncServer]:
    """Two servers on one database file, sharing nothing else but the clock."""
    path = tmp_path / "sync.db"
    SQLiteStore(path).add_user("test", "secret")
    clock = Clock()
    return [SyncServer(SQLiteStore(path), clock=clock, random_source=random, max_msg_size=MSG,
                       base_url="http://127.0.0.1:8080/sync") for random in (counter_random(), other_random())]


def other_random() -> Callable[[int], bytes]:
    """A second worker's random source: another sequence, as processes have (no two session ids alike)."""
    first = counter_random()
    return lambda n: bytes(b ^ 0x5A for b in first(n))


def sid_of(url: str) -> str | None:
    return parse_qs(urlsplit(url).query).get("sessionid", [None])[0]


def run(servers: list[SyncServer], store: ClientStore, *, first: int = 0, resend: int | None = None,
        sent: list[Message] | None = None) -> tuple[ClientSession, list[int]]:
    """A session of ``store``, message n going to worker (first + n) % 2;
    ``resend``: the answer to that message is lost and the client sends it
    again (to the other worker); ``sent`` collects the client's messages.
    The workers that served, in order."""
    session = ClientSession(store, url=servers[0].base_url, user="test", password="secret", clock=Clock(),
                            max_msg_size=MSG)
    request = session.start()
    served: list[int] = []
    for n in range(80):
        worker = (first + n) % 2
        if sent is not None:
            sent.append(Message.from_bytes(request.body, request.content_type))
        response = servers[worker].handle(request.body, request.content_type, sid_of(request.url))
        served.append(worker)
        if n == resend:
            again = servers[1 - worker].handle(request.body, request.content_type, sid_of(request.url))
            assert again.body == response.body and again.session_id == response.session_id
            served.append(1 - worker)
        assert response.http_status == 200
        nxt = session.receive(response.body, response.content_type)
        if nxt is None:
            return session, served
        request = nxt
    raise AssertionError("the session did not end")


def test_issue_12_messages_alternate_between_two_workers(workers: list[SyncServer]) -> None:
    """A first MD5 login (the challenge from one worker, the credential
    checked by the other), 30 items and a 20 kB one in MoreData chunks each
    way, then changes both ways: every message on the other worker."""
    server = workers[0]
    big = vcard(0, "long " * 4000)
    a = device("a")
    for n in range(1, 30):
        a.datastores["./addressbook"].add(vcard(n, "x" * 100))
    a.datastores["./addressbook"].add(big)
    s, served = run(workers, a)
    assert s.ok and s.retried_auth and served[:2] == [0, 1] and len(served) > 8  # challenged, then logged in
    items = server.store.items("test", "Contacts")
    assert len(items) == 30 and sum(b"long long" in i.data for i in items) == 1

    b = device("b")
    s, served = run(workers, b, first=1)
    assert s.ok and len(ab(b)) == 30 and len(served) > 8
    assert sum(b"long long" in data for data in ab(b).values()) == 1

    luid = next(iter(ab(b)))
    b.datastores["./addressbook"].update(luid, vcard(99, "changed on b"))
    b.datastores["./addressbook"].add(vcard(100, "new on b"))
    assert run(workers, b)[0].ok
    assert run(workers, a, first=1)[0].ok
    assert len(ab(a)) == len(ab(b)) == 31 == len(workers[1].store.items("test", "Contacts"))
    assert sorted(ab(a).values()) == sorted(ab(b).values())
    assert workers[0].active_sessions() == workers[1].active_sessions() == []


def test_issue_12_a_resent_message_gets_the_same_answer_from_the_other_worker(workers: list[SyncServer]) -> None:
    """The client missed the answer to its Sync (package 3) and sends it
    again to the other worker: the same answer, and nothing stored twice."""
    a = device("a")
    for n in range(5):
        a.datastores["./addressbook"].add(vcard(n))
    s, served = run(workers, a, resend=2)
    assert s.ok and served[2:4] == [0, 1]
    assert len(workers[1].store.items("test", "Contacts")) == 5


def test_issue_12_a_failure_rolls_back_to_the_state_before_the_message(workers: list[SyncServer],
                                                                        monkeypatch: pytest.MonkeyPatch,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    """A message fails on worker 1 (its store breaks while storing the
    client's changes): answered 500, nothing of it stored, and the session,
    read again as it was before the message, is over for both workers; the
    same message resent gets the same answer; the next session syncs all."""
    a = device("a")
    for n in range(5):
        a.datastores["./addressbook"].add(vcard(n))
    session = ClientSession(a, url=workers[0].base_url, user="test", password="secret", clock=Clock(),
                            max_msg_size=MSG)
    request = session.start()
    for _ in range(2):  # the challenge and package 1, on worker 0
        reply = workers[0].handle(request.body, request.content_type, sid_of(request.url))
        nxt = session.receive(reply.body, reply.content_type)
        assert nxt is not None
        request = nxt
    assert any(isinstance(c, Sync) for c in Message.from_bytes(request.body).commands)  # package 3

    # worker 1 breaks while storing the client's third item: two were written in the transaction
    real_add = workers[1].store.add_item
    calls: list[int] = []

    def add_item(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 3:
            raise OSError("disk full")
        return real_add(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(workers[1].store, "add_item", add_item)
    sid = sid_of(request.url)
    with caplog.at_level(logging.ERROR, "syncml_codec.engine"):
        failed = workers[1].handle(request.body, request.content_type, sid)
    assert "disk full" in caplog.text
    head = Message.from_bytes(failed.body).commands[0]
    assert isinstance(head, Status) and head.cmd == "SyncHdr" and head.data == "500"
    assert len(calls) == 3 and workers[0].store.items("test", "Contacts") == []  # rolled back
    assert sid is not None and workers[0].sessions[sid].phase is ServerPhase.DONE
    assert workers[0].handle(request.body, request.content_type, sid).body == failed.body  # resent: same answer
    assert workers[0].store.sessions("test")[-1].outcome.startswith("failed: disk full")
    monkeypatch.undo()
    s, _ = run(workers, a, first=1)
    assert s.ok and len(workers[0].store.items("test", "Contacts")) == 5


def test_issue_12_an_unreadable_state_is_an_unknown_session(workers: list[SyncServer],
                                                            caplog: pytest.LogCaptureFixture) -> None:
    """A state another release wrote (or a damaged one) is not read: a
    WARNING, the row dropped, and the message is answered with a challenge,
    as one naming no session would be."""
    a = device("a")
    a.datastores["./addressbook"].add(vcard(1))
    session = ClientSession(a, url=workers[0].base_url, user="test", password="secret", clock=Clock(),
                            max_msg_size=MSG)
    request = session.start()
    for _ in range(2):  # challenge, package 1
        reply = workers[0].handle(request.body, request.content_type, sid_of(request.url))
        nxt = session.receive(reply.body, reply.content_type)
        assert nxt is not None
        request = nxt
    sid = sid_of(request.url)
    assert sid is not None
    store = workers[1].store
    row = store.load_live_session(sid)
    assert row is not None and row.user == "test" and row.device_id == "test-a" and not row.done
    store.save_live_session(dataclasses.replace(row, state=b"SYNCML-STATE 0 0.0\n" + row.state[30:]))
    with caplog.at_level(logging.WARNING, "syncml_codec.engine"):
        refused = workers[1].handle(request.body, request.content_type, sid)
    assert f"session {sid} of user=\"test\" device=\"test-a\": state not read" in caplog.text
    head = Message.from_bytes(refused.body).commands[0]
    assert isinstance(head, Status) and head.data in ("401", "407") and head.chal is not None
    assert store.load_live_session(sid) is None and store.items("test", "Contacts") == []


def test_issue_12_session_limits_count_every_workers_sessions(tmp_path: Path) -> None:
    """``sessions_per_device`` holds over both workers: the third session of
    a device, on either worker, evicts the oldest wherever it started."""
    path = tmp_path / "sync.db"
    SQLiteStore(path).add_user("test", "secret")
    clock = Clock()
    limits = ServerLimits(sessions_per_device=2)
    servers = [SyncServer(SQLiteStore(path), clock=clock, random_source=random, limits=limits)
               for random in (counter_random(), other_random())]
    sids = []
    for n in range(3):
        s = ClientSession(device("a"), url=servers[0].base_url, user="test", password="secret", clock=Clock(),
                          auth_type="basic", encoding="xml")
        reply = servers[n % 2].handle(s.start().body, "application/vnd.syncml+xml", None)
        assert reply.session_id is not None
        sids.append(reply.session_id)
    assert len(set(sids)) == 3
    assert [sid in servers[0].sessions for sid in sids] == [False, True, True]
    assert sorted(servers[1].sessions) == sorted(sids[1:])


def test_issue_12_an_accepted_credential_is_not_accepted_again_by_another_worker(
        workers: list[SyncServer]) -> None:
    """A login message accepted by worker 0 and replayed to worker 1 (a new
    session: it names none) is refused: its nonce was used."""
    a = device("a")
    session = ClientSession(a, url=workers[0].base_url, user="test", password="secret", clock=Clock())
    request = session.start()
    challenge = workers[0].handle(request.body, request.content_type, None)
    nxt = session.receive(challenge.body, challenge.content_type)
    assert nxt is not None
    accepted = workers[0].handle(nxt.body, nxt.content_type, None)
    replayed = workers[1].handle(nxt.body, nxt.content_type, None)
    heads = [Message.from_bytes(r.body).commands[0] for r in (accepted, replayed)]
    assert [h.data for h in heads if isinstance(h, Status)] == ["212", "401"]
    assert replayed.session_id is None


def test_issue_12_a_chunked_item_started_on_one_worker_ends_on_the_other(workers: list[SyncServer]) -> None:
    """The client's 20 kB item in MoreData chunks, one per message, each
    message on the other worker: the pending chunks travel in the state."""
    a = device("a")
    a.datastores["./addressbook"].add(vcard(7, "chunk " * 4000))
    sent: list[Message] = []
    s, served = run(workers, a, sent=sent)
    chunked = [n for n, msg in enumerate(sent) for sync in msg.commands if isinstance(sync, Sync)
               for change in sync.commands if isinstance(change, (Add, Replace)) and change.items[0].more_data]
    assert s.ok and len(chunked) >= 4 and {served[n] for n in chunked} == {0, 1}
    (item,) = workers[1].store.items("test", "Contacts")
    assert item.data.count(b"chunk") == 4000


class _Runs:
    """Unpickled, it would call ``os.getcwd`` (or anything named)."""

    def __reduce__(self) -> tuple[object, tuple[()]]:
        import os

        return (os.getcwd, ())


def test_issue_12_a_state_naming_a_function_or_a_store_is_refused(workers: list[SyncServer]) -> None:
    """The state's reader resolves only the engine's data classes: a
    tampered row naming a function, or a store class that would open a
    file, is an unreadable state (:class:`StateError`), and nothing runs."""
    import pickle

    from syncml_codec.engine._persist import StateError, _prefix, load_session

    for payload in (pickle.dumps(_Runs(), 5), pickle.dumps(SQLiteStore, 5), b"\x80\x05junk"):
        with pytest.raises(StateError):
            load_session(_prefix() + b"12345678" + payload, workers[0])
