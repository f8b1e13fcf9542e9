"""Fixtures for the engine tests: a server on an in-memory store with a
fixed clock and a deterministic random source."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from syncml_codec.engine import SyncServer
from syncml_codec.mail import ImapBackend, MailBackend, MaildirBackend, account_maildir
from syncml_codec.store import SQLiteStore, open_store


class Clock:
    """A clock the test moves: each reading advances it one second."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def counter_random() -> Callable[[int], bytes]:
    counter = itertools.count(1)

    def random_source(n: int) -> bytes:
        seed = next(counter)
        return bytes((seed * 7 + i * 13) % 256 for i in range(n))

    return random_source


@pytest.fixture
def store() -> SQLiteStore:
    s = SQLiteStore(":memory:")
    s.add_user("test", "secret")
    return s


@pytest.fixture
def make_server(store: SQLiteStore) -> Callable[..., SyncServer]:
    def make(**options: object) -> SyncServer:
        return SyncServer(store, clock=Clock(), random_source=counter_random(), base_url="http://127.0.0.1:8080/sync",
                          **options)  # type: ignore[arg-type]

    return make


@pytest.fixture
def server(make_server: Callable[..., SyncServer]) -> SyncServer:
    return make_server()


@pytest.fixture(params=["sqlite", "postgresql"])
def both_stores(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A store of each kind with the account ``test`` (password ``secret``);
    PostgreSQL in a schema of its own (skipped without ``SYNCML_TEST_POSTGRES``)."""
    from ..store.conftest import postgres_schema

    if request.param == "sqlite":
        s: Any = SQLiteStore(":memory:")
        s.add_user("test", "secret")
        yield s
        return
    with postgres_schema() as url:
        s = open_store(url)
        try:
            s.add_user("test", "secret")
            yield s
        finally:
            s.close()


@pytest.fixture(params=["maildir", "imap"])
def mail_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MailBackend]:
    """The account ``test``'s mail storage of each kind: a Maildir under
    ``tmp_path / "mail"``, or the test Dovecot emptied first (skipped without
    ``SYNCML_TEST_IMAP``)."""
    if request.param == "maildir":
        yield MaildirBackend(account_maildir(tmp_path / "mail", "test"))
        return
    from ..mail.conftest import empty_imap, imap_url

    box = ImapBackend.from_url(imap_url())
    empty_imap(box)
    try:
        yield box
    finally:
        box.close()
