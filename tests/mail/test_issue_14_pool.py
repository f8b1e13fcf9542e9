"""Issue 14: the IMAP connection pool of ``syncml serve --imap``
(:class:`syncml_codec.mail.ImapPool`): connections reused across the views
the engine makes per message, bounded, closed when idle or broken, and a
server that is down answered at once.  First against scripted connections
(the bounds and clocks), then against the real Dovecot through a relay the
test can stop."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from syncml_codec.errors import MailError, MailNotConfiguredError, MailUnavailableError
from syncml_codec.mail import INBOX, ImapBackend, ImapPool, MaildirBackend, MaildirRoot, PooledImap, server_mail

from .conftest import empty_imap, imap_url
from .proxy import Relay


class FakeImap:
    """A connection that counts what is asked of it; ``fail`` makes its next operation fail so."""

    def __init__(self, url: str, log: list[FakeImap]) -> None:
        self.url, self.calls, self.closed = url, 0, False
        self.noops = 0
        self.fail: BaseException | None = None
        self.delimiter = "/"
        log.append(self)

    def _op(self) -> None:
        assert not self.closed, "a closed connection was lent"
        self.calls += 1
        if self.fail is not None:
            exc, self.fail = self.fail, None
            raise exc

    def folders(self) -> list[str]:
        self._op()
        return [INBOX]

    def messages(self, folder: str) -> list[Any]:
        self._op()
        return []

    def noop(self) -> None:
        self.noops += 1
        self._op()

    def close(self) -> None:
        self.closed = True


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def made() -> list[FakeImap]:
    return []


@pytest.fixture
def clock() -> Clock:
    return Clock()


def fake_pool(made: list[FakeImap], clock: Clock, **options: Any) -> ImapPool:
    urls = {"ann": "imap://ann:pw@mail.example:143", "bob": "imap://bob:pw@mail.example:143",
            "cy": "imap://cy:pw@mail.example:143"}
    return ImapPool(urls.get, connect=lambda url: FakeImap(url, made), clock=clock, **options)  # type: ignore[arg-type,return-value]


def test_issue_14_pool_reuses_one_connection_across_handles(made: list[FakeImap], clock: Clock) -> None:
    pool = fake_pool(made, clock)
    for _ in range(5):  # five views (five SyncML messages), each with its own handle
        handle = pool("ann")
        assert isinstance(handle, PooledImap)
        handle.folders()
        handle.messages(INBOX)
    assert len(made) == 1 and made[0].calls == 10
    assert pool.counts == {"connected": 1, "reused": 9, "closed": 0}
    assert pool.open_connections("ann") == 1 and pool.open_connections("bob") == 0
    pool("bob").folders()  # another account: a connection of its own
    assert [c.url.split(":")[1] for c in made] == ["//ann", "//bob"]
    pool.close()
    assert all(c.closed for c in made)


def test_issue_14_pool_is_bounded_per_account(made: list[FakeImap], clock: Clock) -> None:
    pool = fake_pool(made, clock, size=2, wait=0)
    with pool.lend("ann", "imap://ann:pw@mail.example:143"), pool.lend("ann", "imap://ann:pw@mail.example:143"):
        with pytest.raises(MailUnavailableError, match="busy"):
            pool("ann").folders()
        pool("bob").folders()  # other accounts are not held up
    pool("ann").folders()  # one given back: lent again, none made
    assert len(made) == 3 and pool.open_connections() == 3


def test_issue_14_pool_waits_for_a_connection_given_back(made: list[FakeImap], clock: Clock) -> None:
    pool = fake_pool(made, clock, size=1, wait=30)
    url = "imap://ann:pw@mail.example:143"
    lent, done = threading.Event(), threading.Event()
    got: list[object] = []

    def second() -> None:
        lent.wait()
        got.append(pool("ann").folders())
        done.set()

    worker = threading.Thread(target=second)
    worker.start()
    with pool.lend("ann", url):
        lent.set()
        assert not done.is_set()
    worker.join()
    assert got == [[INBOX]] and len(made) == 1


def test_issue_14_pool_bounds_the_total(made: list[FakeImap], clock: Clock) -> None:
    pool = fake_pool(made, clock, max_total=2)
    pool("ann").folders()
    clock.now += 1
    pool("bob").folders()
    pool("cy").folders()  # room made: the oldest idle connection (ann's) logged out
    assert [c.closed for c in made] == [True, False, False]
    assert pool.open_connections() == 2
    with pool.lend("bob", "imap://bob:pw@mail.example:143"), pool.lend("cy", "imap://cy:pw@mail.example:143"):
        pool.wait = 0
        with pytest.raises(MailUnavailableError, match="busy"):
            pool("ann").folders()


def test_issue_14_pool_drops_broken_connections_and_keeps_refused_ones(made: list[FakeImap], clock: Clock) -> None:
    pool = fake_pool(made, clock)
    handle = pool("ann")
    handle.folders()
    made[0].fail = MailError("IMAP SELECT refused: no such folder")  # an answer: the connection is fine
    with pytest.raises(MailError):
        handle.messages("Nope")
    handle.folders()
    assert len(made) == 1
    made[0].fail = MailUnavailableError("IMAP connection lost")
    with pytest.raises(MailUnavailableError):
        handle.folders()
    assert made[0].closed and pool.open_connections() == 0
    handle.folders()  # a new one
    assert len(made) == 2 and not made[1].closed


def test_issue_14_pool_closes_idle_connections_and_checks_old_ones(made: list[FakeImap], clock: Clock) -> None:
    pool = fake_pool(made, clock, idle=300, check_after=30)
    pool("ann").folders()
    clock.now += 10
    pool("ann").folders()  # fresh: no NOOP
    assert made[0].noops == 0
    clock.now += 60
    pool("ann").folders()  # idle a minute: NOOP first
    assert made[0].noops == 1 and len(made) == 1
    clock.now += 60
    made[0].fail = MailUnavailableError("gone")  # the NOOP finds it dropped: a new one, the caller sees nothing
    assert pool("ann").folders() == [INBOX]
    assert made[0].closed and len(made) == 2
    clock.now += 301
    pool("bob").folders()  # any use of the pool logs out what idled too long
    assert made[1].closed and pool.open_connections() == 1


def test_issue_14_pool_answers_at_once_while_the_server_is_down(made: list[FakeImap], clock: Clock) -> None:
    attempts: list[str] = []

    def connect(url: str) -> ImapBackend:
        attempts.append(url)
        raise MailUnavailableError("IMAP server mail.example:143 unreachable: Connection refused")

    pool = ImapPool({"ann": "imap://ann:pw@mail.example:143"}.get, connect=connect, clock=clock, retry_after=15)
    for _ in range(3):
        with pytest.raises(MailUnavailableError, match="unreachable"):
            pool("ann").folders()
    assert len(attempts) == 1  # the other two did not wait for the network
    clock.now += 16
    with pytest.raises(MailUnavailableError):
        pool("ann").folders()
    assert len(attempts) == 2 and pool.open_connections() == 0


def test_issue_14_pool_accounts_without_imap_settings(tmp_path: Any, made: list[FakeImap], clock: Clock) -> None:
    pool = fake_pool(made, clock)
    with pytest.raises(MailNotConfiguredError, match="dan"):
        pool("dan")
    with_maildir = ImapPool({}.get, fallback=MaildirRoot(tmp_path))
    assert isinstance(with_maildir("dan"), MaildirBackend)

    def sealed_does_not_open(account: str) -> str | None:
        raise ValueError("the sealed value does not open")

    with pytest.raises(MailError, match="cannot be read") as info:
        ImapPool(sealed_does_not_open)("ann")
    assert not isinstance(info.value, MailUnavailableError)
    assert server_mail({}.get, None, imap=False) is None
    assert isinstance(server_mail({}.get, str(tmp_path), imap=False), MaildirRoot)
    assert isinstance(server_mail({}.get, None, imap=True), ImapPool)


def test_issue_14_pool_new_settings_take_a_new_connection(made: list[FakeImap], clock: Clock) -> None:
    settings = {"ann": "imap://ann:old@mail.example:143"}
    pool = ImapPool(settings.get, connect=lambda url: FakeImap(url, made), clock=clock)  # type: ignore[arg-type,return-value]
    pool("ann").folders()
    settings["ann"] = "imap://ann:new@mail.example:143"
    pool("ann").folders()
    assert [c.url for c in made] == ["imap://ann:old@mail.example:143", "imap://ann:new@mail.example:143"]


# -- the real server ---------------------------------------------------------------
@pytest.fixture
def relay() -> Iterator[Relay]:
    url = imap_url()
    box = ImapBackend.from_url(url)
    empty_imap(box)
    box.close()
    relay = Relay(url)
    try:
        yield relay
    finally:
        relay.stop()


MESSAGE = b"From: a@example.org\r\nSubject: pooled\r\nMessage-ID: <pool@example.org>\r\n\r\nhello\r\n"


def test_issue_14_pool_on_dovecot_logs_in_once(relay: Relay) -> None:
    pool = ImapPool({"ann": relay.url}.get)
    try:
        uid = pool("ann").add(INBOX, MESSAGE, {"read"})
        for _ in range(4):  # views of four messages
            handle = pool("ann")
            assert [m.uid for m in handle.messages(INBOX)] == [uid]
            assert handle.fetch(INBOX, uid) == MESSAGE
            assert handle.delimiter in (".", "/")
        pool("ann").set_flags(INBOX, uid, {"read", "flagged"})
        assert pool("ann").messages(INBOX)[0].flags == {"read", "flagged"}
        assert relay.connections == 1 and pool.counts["connected"] == 1
    finally:
        pool.close()


def test_issue_14_pool_on_dovecot_that_goes_down_and_comes_back(relay: Relay) -> None:
    clock = Clock()
    pool = ImapPool({"ann": relay.url}.get, clock=clock, retry_after=15)
    try:
        pool("ann").add(INBOX, MESSAGE)
        relay.stop()
        with pytest.raises(MailUnavailableError):  # the pooled connection was cut
            pool("ann").messages(INBOX)
        with pytest.raises(MailUnavailableError):  # a new one is refused
            pool("ann").messages(INBOX)
        with pytest.raises(MailUnavailableError, match="not tried again"):
            pool("ann").messages(INBOX)
        assert pool.open_connections() == 0
        relay.start()
        clock.now += 16
        assert [m.flags for m in pool("ann").messages(INBOX)] == [frozenset()]  # nothing lost
    finally:
        pool.close()
