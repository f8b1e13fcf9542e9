"""Issue 14, part "mailops": the Mail datastores on IMAP as ``syncml serve
--imap`` runs them (an :class:`~syncml_codec.mail.ImapPool` on the accounts'
sealed settings): connections reused across the messages of sessions, an
IMAP server that is down (Alert 503, the other datastores sync, nothing
lost), accounts without IMAP settings; backups refused for mail."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from syncml_codec.engine import ClientStore, SyncServer, restore_backup
from syncml_codec.mail import INBOX, ImapBackend, ImapPool, server_mail
from syncml_codec.store.backups import BackupArea, BackupFile

from ..mail.conftest import empty_imap, imap_url
from ..mail.proxy import Relay
from .conftest import Clock, counter_random
from .helpers import sync, vcard
from .test_issue_14_mailds import EMI, message


@pytest.fixture
def store(both_stores: Any) -> Any:
    return both_stores


class PoolClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def relay() -> Iterator[Relay]:
    """The test Dovecot, emptied, behind a relay the test can stop."""
    url = imap_url()
    box = ImapBackend.from_url(url)
    empty_imap(box)
    box.close()
    relay = Relay(url)
    try:
        yield relay
    finally:
        relay.stop()


@pytest.fixture
def imap(relay: Relay) -> Iterator[ImapBackend]:
    """Another client of the account (straight to the server, not through the relay)."""
    box = ImapBackend.from_url(imap_url())
    try:
        yield box
    finally:
        box.close()


@pytest.fixture
def pclock() -> PoolClock:
    return PoolClock()


@pytest.fixture
def pool(store: Any, relay: Relay, pclock: PoolClock) -> Iterator[ImapPool]:
    """What ``syncml serve --imap`` makes: the pool on the accounts' sealed settings."""
    store.set_mail_imap("test", relay.url)
    made = server_mail(store.mail_imap, None, imap=True)
    assert isinstance(made, ImapPool)
    made._clock = pclock  # (the idle and retry times on a clock the test moves)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def server(store: Any, pool: ImapPool) -> SyncServer:
    return SyncServer(store, clock=Clock(), random_source=counter_random(), base_url="http://127.0.0.1:8080/sync",
                      mail=pool)


def phone(name: str, uri: str = "Mail") -> ClientStore:
    client = ClientStore(f"test-{name}")
    client.add_datastore("./mail", uri, EMI, "1.2")
    client.add_datastore("./addressbook", "addressbook", "text/vcard", "3.0")
    return client


def test_issue_14_imap_connections_are_reused_across_messages(server: SyncServer, pool: ImapPool, relay: Relay,
                                                              imap: ImapBackend) -> None:
    for n in range(8):
        imap.add(INBOX, message(n, "x" * 600), {"read"} if n % 2 else set())
    client = phone("pooled")
    first = sync(server, client, max_msg_size=3000)  # several SyncML messages, a view (and a handle) each
    assert first.ok and len(client.datastores["./mail"].items) == 8
    assert first.reports["./mail"].alert_status == 200 or first.reports["./mail"].alert_status == 508
    assert sync(server, client).ok
    assert relay.connections == 1 and pool.counts["connected"] == 1 and pool.counts["reused"] > 10
    assert pool.open_connections("test") == 1


def test_issue_14_imap_down_answers_503_and_the_rest_syncs(server: SyncServer, store: Any, relay: Relay,
                                                           imap: ImapBackend, pclock: PoolClock,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    uid = imap.add(INBOX, message(1))
    client = phone("down")
    client.datastores["./addressbook"].add(vcard(1))
    assert sync(server, client).ok
    mail_ds = client.datastores["./mail"]
    (luid,) = mail_ds.items
    refs = store.items("test", "Mail")
    relay.stop()  # the IMAP server goes down (the pooled connection is cut)
    mail_ds.update(luid, b"<Email><read>true</read></Email>")
    client.datastores["./addressbook"].add(vcard(2))
    caplog.set_level(logging.WARNING, "syncml_codec")
    for uri in ("Mail", "Mail/Sent"):  # also a folder the server cannot look up now: unavailable, not unknown
        client.datastores["./mail"].remote_uri = uri
        session = sync(server, client)
        assert session.reports["./mail"].alert_status == 503, uri
        assert session.reports["./addressbook"].alert_status in (200, 201, 508)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any('Mail of user="test" unavailable: IMAP server' in w for w in warnings)
    assert not any("syncml-imap" in w for w in warnings)  # the password is never logged
    assert len(store.items("test", "Contacts")) == 2  # the other datastore synced
    assert store.items("test", "Mail") == refs  # nothing lost, nothing changed
    assert imap.messages(INBOX)[0].flags == frozenset()
    # the server comes back: the change the device kept arrives
    relay.start()
    pclock.now += 60
    mail_ds.remote_uri = "Mail"
    session = sync(server, client)
    assert session.ok and session.reports["./mail"].alert_status == 200
    (info,) = imap.messages(INBOX)
    assert info.uid == uid and info.flags == {"read"}
    assert len(mail_ds.items) == 1 and len(store.items("test", "Mail")) == 1


def test_issue_14_an_account_without_imap_settings_has_no_mail(store: Any, relay: Relay,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    mail = server_mail(store.mail_imap, None, imap=True)
    assert mail is not None
    server = SyncServer(store, clock=Clock(), random_source=counter_random(),
                        base_url="http://127.0.0.1:8080/sync", mail=mail)
    client = phone("none")
    client.datastores["./addressbook"].add(vcard(1))
    caplog.set_level(logging.WARNING, "syncml_codec")
    session = sync(server, client)
    assert session.reports["./mail"].alert_status == 404
    assert session.reports["./addressbook"].alert_status in (200, 201, 508)
    assert len(store.items("test", "Contacts")) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and "mail" in r.getMessage().lower()]
    assert relay.connections == 0


def test_issue_14_backup_restore_into_mail_is_refused(store: Any, tmp_path: Path) -> None:
    area = BackupArea(tmp_path / "backups")
    folder = tmp_path / "backups" / "test" / "Mail"
    folder.mkdir(parents=True)
    path = folder / "phone1.vcf"
    path.write_bytes(b"")
    backup = BackupFile("phone1", "Mail", path, 0, 0.0)
    with pytest.raises(ValueError, match="mail"):
        restore_backup(store, area, "test", backup, "phone", 0.0)
    assert store.items("test", "Mail") == []
