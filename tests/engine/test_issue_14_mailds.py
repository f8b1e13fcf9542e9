"""Issue 14, items 1 and 2 in the engine: the Mail datastores, kept in a
Maildir (:mod:`syncml_codec.engine._mailds`), synced with our client session."""

from __future__ import annotations

import doctest
import logging
import os
from pathlib import Path
from typing import Any

import pytest

from syncml_codec.engine import ClientStore, SyncServer
from syncml_codec.engine._mailds import REF_TYPE, mail_datastore
from syncml_codec.formats import EmailObject
from syncml_codec.mail import MailBackend, MaildirBackend, MaildirRoot, account_maildir
from syncml_codec.store import SQLiteStore

from .conftest import Clock, counter_random
from .helpers import sync, vcard

EMI, RFC822 = "application/vnd.omads-email+xml", "message/rfc822"


def message(n: int, body: str = "hello") -> bytes:
    return (f"From: sender{n}@example.org\r\nTo: test@example.org\r\nSubject: message {n}\r\n"
            f"Message-ID: <m{n}@example.org>\r\nDate: Tue, 14 Nov 2023 22:13:{n % 60:02d} +0000\r\n\r\n"
            f"{body} {n}\r\n").encode()


@pytest.fixture
def store(both_stores: Any) -> Any:
    return both_stores


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "mail"


@pytest.fixture
def box(root: Path) -> MaildirBackend:
    return MaildirBackend(account_maildir(root, "test"))


@pytest.fixture
def mserver(store: SQLiteStore, root: Path) -> SyncServer:
    return SyncServer(store, clock=Clock(), random_source=counter_random(), base_url="http://127.0.0.1:8080/sync",
                      mail=lambda user: MaildirBackend(account_maildir(root, user)))


def phone(name: str, ctype: str = EMI, uri: str = "Mail", *, contacts: bool = False) -> ClientStore:
    store = ClientStore(f"test-{name}")
    store.add_datastore("./mail", uri, ctype, "1.2" if ctype == EMI else "1.0")
    if contacts:
        store.add_datastore("./addressbook", "addressbook", "text/vcard", "3.0")
    return store


def deliver(box: MaildirBackend, n: int, folder: str = "INBOX") -> str:
    """An MTA's delivery: a file written straight into new/ (not through our back end)."""
    path = box.root if folder == "INBOX" else box.root / ("." + folder)
    name = f"1700000000.M{n}P1.mta"
    (path / "tmp" / name).write_bytes(message(n))
    os.rename(path / "tmp" / name, path / "new" / name)
    return name


def mails(client: ClientStore) -> list[bytes]:
    return sorted(client.datastores["./mail"].items.values())


def test_issue_14_mail_doctests() -> None:
    from syncml_codec.engine import _mailds
    from syncml_codec.mail import maildir

    for module in (_mailds, maildir):
        assert doctest.testmod(module).failed == 0


def test_issue_14_mail_names() -> None:
    assert mail_datastore("Mail", []) == "Mail" and mail_datastore("./INBOX", []) == "Mail"
    assert mail_datastore("mail/sent", ["INBOX", "Sent", "Work/Projects"]) == "Mail/Sent"
    assert mail_datastore("Mail/work/projects", ["Work/Projects"]) == "Mail/Work/Projects"
    assert mail_datastore("Mail/Nope", ["Sent"]) is None
    assert mail_datastore("Sent", ["Sent"]) == "Mail/Sent"  # a folder by its bare name
    assert mail_datastore("Calendar", ["Calendar"]) == "Mail/Calendar"  # an alias yields to a folder
    assert mail_datastore("Events", ["Events"]) is None  # a canonical name stays itself
    assert mail_datastore("contacts", []) is None


def test_issue_14_mail_round_trip_email_object(mserver: SyncServer, store: SQLiteStore, box: MaildirBackend) -> None:
    uid = deliver(box, 1)
    client = phone("emi")
    session = sync(mserver, client)
    assert session.ok
    # our DevInf lists the Mail datastore with both email formats
    assert client.server_devinf is not None
    (mail_ds,) = [d for d in client.server_devinf.datastores if d.display_name == "Mail"]
    # (and the folder type, with SupportHierarchicalSync: Mail is the folder tree for such clients, issue 14 item 3)
    assert [t.ct_type for t in (*mail_ds.rx_pref, *mail_ds.rx)] == [EMI, RFC822, "application/vnd.omads-folder+xml"]
    assert mail_ds.support_hierarchical_sync
    (data,) = mails(client)
    obj = EmailObject.parse(data)
    assert obj.read is False and obj.emailitem == message(1) and obj.received is not None
    # marked read and flagged on the device; synced back: the Maildir file has the flags
    (luid,) = client.datastores["./mail"].items
    obj.read, obj.flagged = True, True
    client.datastores["./mail"].update(luid, obj.serialize())
    assert sync(mserver, client).ok
    (info,) = box.messages("INBOX")
    assert info.uid == uid and info.flags == {"read", "flagged"}
    assert box.fetch("INBOX", uid) == message(1)  # the message itself untouched
    assert any(name.startswith(uid + ":2,FS") for name in os.listdir(box.root / "cur"))
    # a flag-only object (no <emailitem>): the other flags stay
    client.datastores["./mail"].update(luid, b"<Email><replied>true</replied><flagged>false</flagged></Email>")
    assert sync(mserver, client).ok
    (info,) = box.messages("INBOX")
    assert info.flags == {"read", "replied"}
    # nothing echoed back, nothing duplicated
    assert len(client.datastores["./mail"].items) == 1 and len(store.items("test", "Mail")) == 1


def test_issue_14_mail_round_trip_rfc822(mserver: SyncServer, store: SQLiteStore, box: MaildirBackend) -> None:
    deliver(box, 2)
    box.set_flags("INBOX", box.messages("INBOX")[0].uid, {"read", "draft"})
    client = phone("rfc", RFC822)
    assert sync(mserver, client).ok
    assert mails(client) == [message(2)]  # as message/rfc822, byte for byte
    # the device sends a new mail (no flags in RFC 822) and changes nothing else
    client.datastores["./mail"].add(message(3))
    assert sync(mserver, client).ok
    infos = sorted(box.messages("INBOX"), key=lambda m: m.size)
    assert sorted(box.fetch("INBOX", m.uid) for m in infos) == [message(2), message(3)]
    assert {m.flags for m in infos} == {frozenset({"read", "draft"}), frozenset()}


def test_issue_14_mail_delivery_and_flags_behind_the_servers_back(mserver: SyncServer, box: MaildirBackend,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    deliver(box, 1)
    client = phone("watch")
    assert sync(mserver, client).ok
    assert len(client.datastores["./mail"].items) == 1
    # an MTA delivers; another mail client marks the first one replied
    deliver(box, 2)
    first = next(m for m in box.messages("INBOX") if m.uid.endswith("M1P1.mta"))
    box.set_flags("INBOX", first.uid, {"replied"})
    with caplog.at_level(logging.INFO, "syncml_codec.engine"):
        session = sync(mserver, client)
    assert session.ok
    assert "changed behind the server's back: 1 added, 1 changed" in caplog.text
    objs = sorted(EmailObject.parse(d).emailitem or b"" for d in client.datastores["./mail"].items.values())
    assert objs == [message(1), message(2)]
    replied = [EmailObject.parse(d) for d in client.datastores["./mail"].items.values()]
    assert {(o.emailitem, o.replied) for o in replied} == {(message(1), True), (message(2), False)}
    # nothing changed: nothing goes out
    session = sync(mserver, client)
    assert session.ok and not session.reports["./mail"].received


def test_issue_14_mail_deleted_on_either_side(mserver: SyncServer, store: SQLiteStore, box: MaildirBackend) -> None:
    for n in (1, 2, 3):
        deliver(box, n)
    client = phone("del")
    assert sync(mserver, client).ok
    ds = client.datastores["./mail"]
    assert len(ds.items) == 3
    # deleted on the device: the Maildir file goes
    luid = next(luid for luid, d in ds.items.items() if EmailObject.parse(d).emailitem == message(1))
    ds.delete(luid)
    assert sync(mserver, client).ok
    assert sorted(box.fetch("INBOX", m.uid) for m in box.messages("INBOX")) == [message(2), message(3)]
    # deleted behind the server's back: a Delete goes to the device
    gone = next(m for m in box.messages("INBOX") if box.fetch("INBOX", m.uid) == message(2))
    (box.root / "new" / gone.uid).unlink()
    assert sync(mserver, client).ok
    assert [EmailObject.parse(d).emailitem for d in ds.items.values()] == [message(3)]
    assert len(store.items("test", "Mail")) == 1


def test_issue_14_mail_folder_datastore_and_slow_sync(mserver: SyncServer, store: SQLiteStore,
                                                      box: MaildirBackend) -> None:
    box.create_folder("Sent")
    deliver(box, 5, "Sent")
    deliver(box, 6)
    client = phone("sent", uri="mail/SENT")
    assert sync(mserver, client).ok
    assert [EmailObject.parse(d).emailitem for d in client.datastores["./mail"].items.values()] == [message(5)]
    assert [i.content_type for i in store.items("test", "Mail/Sent")] == [REF_TYPE]
    # a slow sync of what the device holds: matched by the message, no duplicate on either side
    assert sync(mserver, client, 201).ok
    assert len(box.messages("Sent")) == 1 and len(client.datastores["./mail"].items) == 1
    assert len(store.items("test", "Mail/Sent")) == 1


def test_issue_14_mail_malformed_email_object(mserver: SyncServer, store: SQLiteStore, box: MaildirBackend,
                                              caplog: pytest.LogCaptureFixture) -> None:
    deliver(box, 1)
    client = phone("bad", contacts=True)
    client.datastores["./addressbook"].add(vcard(1))
    assert sync(mserver, client).ok
    ds = client.datastores["./mail"]
    bad = ds.add(b"<Email><read>maybe</read><emailitem>Subject: x\n\nbody</emailitem></Email>")
    no_message = ds.add(b"<Email><read>true</read></Email>")
    not_mail = ds.add(b"<Email><emailitem><![CDATA[this is not a mail header\n\nbody]]></emailitem></Email>")
    good = ds.add(message(9))
    client.datastores["./addressbook"].add(vcard(2))
    with caplog.at_level(logging.WARNING, "syncml_codec.engine"):
        session = sync(mserver, client)
    assert session.ok
    assert sorted(session.reports["./mail"].statuses) == [201, 400, 400, 400]  # a Status per item
    assert {bad, no_message, not_mail, good} <= set(ds.items)  # (kept on the device)
    assert "refused" in caplog.text
    # nothing lost: the delivered message and the good one are in the Maildir, nothing else
    assert sorted(box.fetch("INBOX", m.uid) for m in box.messages("INBOX")) == [message(1), message(9)]
    assert len(store.items("test", "Mail")) == 2
    # the other datastore of the session is unaffected
    assert len(store.items("test", "Contacts")) == 2


def test_issue_14_mail_without_mail_backends_is_not_found(server: SyncServer) -> None:
    client = phone("none")
    session = sync(server, client)
    assert session.reports["./mail"].alert_status == 404
    assert client.server_devinf is not None
    assert "Mail" not in {d.display_name for d in client.server_devinf.datastores}


def test_issue_14_mail_new_content_keeps_the_guid(mserver: SyncServer, store: SQLiteStore,
                                                  box: MaildirBackend) -> None:
    deliver(box, 1)
    client = phone("edit")
    assert sync(mserver, client).ok
    (guid,) = [i.guid for i in store.items("test", "Mail")]
    ds = client.datastores["./mail"]
    (luid, data) = next(iter(ds.items.items()))
    obj = EmailObject.parse(data)
    obj.emailitem, obj.read = message(1, "edited"), True
    ds.update(luid, obj.serialize())
    assert sync(mserver, client).ok
    (info,) = box.messages("INBOX")  # the new content in a new file, the old one gone
    assert box.fetch("INBOX", info.uid) == message(1, "edited") and info.flags == {"read"}
    assert [i.guid for i in store.items("test", "Mail")] == [guid]
    assert len(ds.items) == 1  # nothing echoed or duplicated on the device


def test_issue_14_mail_flags_reach_the_other_device(mserver: SyncServer, box: MaildirBackend) -> None:
    deliver(box, 1)
    first, second = phone("one"), phone("two")
    assert sync(mserver, first).ok and sync(mserver, second).ok
    (luid,) = list(first.datastores["./mail"].items)
    first.datastores["./mail"].update(luid, b"<Email><read>true</read><forwarded>true</forwarded></Email>")
    assert sync(mserver, first).ok
    session = sync(mserver, second)
    assert session.ok and session.reports["./mail"].received == {"Replace": 1}
    (obj,) = [EmailObject.parse(d) for d in second.datastores["./mail"].items.values()]
    assert (obj.read, obj.forwarded, obj.replied, obj.emailitem) == (True, True, False, message(1))


def test_issue_14_mail_folder_shadowing_an_alias(mserver: SyncServer, store: SQLiteStore,
                                                 box: MaildirBackend) -> None:
    """A folder named Calendar: the name is the folder's (Sync and Map too), not Events'."""
    box.create_folder("Calendar")
    client = phone("shadow", uri="calendar")
    client.datastores["./mail"].add(message(4))
    session = sync(mserver, client)
    assert session.ok and session.reports["./mail"].statuses == [201]
    assert [box.fetch("Calendar", m.uid) for m in box.messages("Calendar")] == [message(4)]
    assert len(store.items("test", "Mail/Calendar")) == 1 and store.items("test", "Events") == []


def test_issue_14_mail_backup_is_refused(store: SQLiteStore, root: Path, box: MaildirBackend,
                                         tmp_path: Path) -> None:
    """``?backup`` of a mail folder: 406 (the backup area keeps the other datastores' kinds only),
    nothing written, the Maildir untouched."""
    from syncml_codec.store.backups import BackupArea

    from .test_issue_13_backup import run

    deliver(box, 1)
    server = SyncServer(store, clock=Clock(), random_source=counter_random(), base_url="http://127.0.0.1:8080/sync",
                        mail=MaildirRoot(root), backups=BackupArea(tmp_path / "backups"))
    client = phone("backup")
    client.datastores["./mail"].add(message(2))
    session = run(server, client, "http://127.0.0.1:8080/sync?backup")
    assert session.reports["./mail"].alert_status == 406
    assert [box.fetch("INBOX", m.uid) for m in box.messages("INBOX")] == [message(1)]
    assert store.items("test", "Mail") == []


def test_issue_14_mail_hostile_names_are_not_found(mserver: SyncServer, box: MaildirBackend) -> None:
    for uri in ("Mail/../../etc", "Mail/Nope", "Mail/.Sent", "Mail//x"):
        session = sync(mserver, phone("h", uri=uri))
        assert session.reports["./mail"].alert_status == 404, uri
    assert [f.name for f in box.folders()] == ["INBOX"]


@pytest.fixture
def backend(mail_backend: MailBackend) -> MailBackend:
    return mail_backend


def test_issue_14_mail_round_trip_on_each_backend(store: SQLiteStore, backend: MailBackend) -> None:
    """The engine over the back-end protocol only: the same round trip on a Maildir and on IMAP
    (there another client of the server delivers and changes flags)."""
    other = backend
    server = SyncServer(store, clock=Clock(), random_source=counter_random(), base_url="http://127.0.0.1:8080/sync",
                        mail=lambda user: backend)
    first = other.add("INBOX", message(1))
    client = phone("both")
    assert sync(server, client).ok
    ds = client.datastores["./mail"]
    (luid, data) = next(iter(ds.items.items()))
    assert _lf(EmailObject.parse(data).emailitem) == _lf(message(1))
    ds.update(luid, b"<Email><read>true</read></Email>")
    assert sync(server, client).ok
    assert [m.flags for m in backend.messages("INBOX")] == [frozenset({"read"})]
    # behind the server's back: a delivery and a flag change
    other.add("INBOX", message(2))
    other.set_flags("INBOX", first, {"read", "flagged"})
    session = sync(server, client)
    assert session.ok and session.reports["./mail"].received == {"Add": 1, "Replace": 1}
    got = {_lf(o.emailitem or b""): (o.read, o.flagged) for o in map(EmailObject.parse, ds.items.values())}
    assert got == {_lf(message(1)): (True, True), _lf(message(2)): (False, False)}
    # deleted on the device, then behind the server's back
    ds.delete(luid)
    assert sync(server, client).ok
    (left,) = backend.messages("INBOX")
    other.delete("INBOX", left.uid)
    assert sync(server, client).ok
    assert ds.items == {} and store.items("test", "Mail") == []


def _lf(data: bytes | None) -> bytes:
    return (data or b"").replace(b"\r\n", b"\n")
