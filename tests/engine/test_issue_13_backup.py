"""Issue 13, item 4: ``backup[=PREFIX]`` in the sync URL writes what the
client sends to a file of the backup area, not to the store; ``restore``
puts a backup back and makes the device's next sync a refresh from server."""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from syncml_codec.engine import ClientSession, ClientStore, SyncServer
from syncml_codec.engine._backup import restore_backup
from syncml_codec.model import AlertCode
from syncml_codec.store import SQLiteStore
from syncml_codec.store.backups import BackupArea, BackupItem, pack, unpack

from .conftest import Clock, counter_random
from .helpers import ab, device, sync, vcard

DAY = time.strftime("%Y%m%d", time.gmtime(1_700_000_000))  # the engine tests' clock


def run(server: SyncServer, store: ClientStore, url: str, *, query: str | None = None,
        max_msg_size: int = 150000, between: Callable[[], None] | None = None) -> ClientSession:
    """One session of ``store`` whose sync URL is ``url`` (parameters in the Target LocURI)."""
    session = ClientSession(store, url=url, user="test", password="secret", clock=Clock(), encoding="xml",
                            max_msg_size=max_msg_size)
    request = session.start()
    for _ in range(60):
        sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
        response = server.handle(request.body, request.content_type, sid, query=query)
        assert response.http_status == 200
        request = session.receive(response.body, response.content_type)  # type: ignore[assignment]
        if request is None:
            return session
        if between is not None:
            between()
    raise AssertionError("the session did not end")


@pytest.fixture
def area(tmp_path: Path) -> BackupArea:
    return BackupArea(tmp_path / "backups")


def make(store: SQLiteStore, area: BackupArea, **options: object) -> SyncServer:
    return SyncServer(store, clock=Clock(), random_source=counter_random(), base_url="http://127.0.0.1:8080/sync",
                      backups=area, **options)  # type: ignore[arg-type]


@pytest.fixture
def bserver(store: SQLiteStore, area: BackupArea) -> SyncServer:
    return make(store, area)


def _phone(server: SyncServer, n: int = 3) -> ClientStore:
    """A device that synced ``n`` contacts with the server (a normal two-way sync)."""
    phone = device("phone")
    for i in range(n):
        phone.datastores["./addressbook"].add(vcard(i))
    assert sync(server, phone).ok
    return phone


def test_issue_13_backup_with_prefix_writes_the_items_not_the_store(bserver: SyncServer, store: SQLiteStore,
                                                                    area: BackupArea) -> None:
    phone = _phone(bserver)
    before = store.items("test", "Contacts")
    phone.datastores["./addressbook"].add(vcard(7, note="only on the phone"))
    session = run(bserver, phone, "http://127.0.0.1:8080/sync?backup=nokia")
    assert session.ok
    report = session.reports["./addressbook"]
    assert report.alert_status == 508 and report.mode == AlertCode.SLOW_SYNC
    (backup,) = area.backups("test")
    assert (backup.name, backup.datastore, backup.extension) == (f"nokia{DAY}0001", "Contacts", ".vcf")
    assert backup.path == area.root / "test" / "Contacts" / f"nokia{DAY}0001.vcf"
    assert sorted(i.data for i in area.items(backup)) == sorted(ab(phone).values())  # byte for byte
    assert backup.path.read_bytes() == b"".join(i.data for i in area.items(backup))
    assert store.items("test", "Contacts") == before  # the server's data untouched
    assert len(ab(phone)) == 4  # nothing came back
    assert stat.S_IMODE(backup.path.stat().st_mode) == 0o600
    assert stat.S_IMODE((area.root / "test").stat().st_mode) == 0o700
    assert not list((area.root / "test" / ".partial").iterdir())  # the partial file is gone
    # its anchors were cleared: the next plain sync is slow, so the contact not on the server arrives there
    assert sync(bserver, phone).reports["./addressbook"].alert_status == 508
    assert len(store.items("test", "Contacts")) == 4 and len(ab(phone)) == 4


def test_issue_13_backup_of_two_datastores_and_the_session_line(bserver: SyncServer, area: BackupArea,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    phone = device("phone")
    phone.datastores["./addressbook"].add(vcard(1))
    cal = phone.add_datastore("./calendar", "calendar", "text/calendar", "2.0")
    event = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:e1\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    cal.add(event)
    with caplog.at_level(logging.INFO, "syncml_codec.engine"):
        assert run(bserver, phone, "http://h/sync?backup=two").ok
    files = {(b.datastore, b.path.name) for b in area.backups("test")}
    assert files == {("Contacts", f"two{DAY}0001.vcf"), ("Events", f"two{DAY}0001.ics")}
    (events,) = [b for b in area.backups("test") if b.datastore == "Events"]
    assert events.path.read_bytes() == event
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("session end:")]
    assert f'Contacts=backup items=1 file="two{DAY}0001"' in line and "Events=backup items=1" in line


def test_issue_13_backup_names_count_per_day_and_prefix(bserver: SyncServer, area: BackupArea) -> None:
    phone = _phone(bserver, 2)
    for url in ("http://h/sync?backup", "http://h/sync?backup", "http://h/sync?backup=nokia",
                "http://h/sync?par=1,#backup=nokia"):
        assert run(bserver, phone, url).ok
    names = sorted(b.name for b in area.backups("test"))
    assert names == [f"{DAY}0001", f"{DAY}0002", f"nokia{DAY}0001", f"nokia{DAY}0002"]


def test_issue_13_backup_from_the_http_query_and_over_several_messages(store: SQLiteStore, area: BackupArea) -> None:
    bserver = make(store, area, max_msg_size=4000)
    phone = device("phone")
    for i in range(60):
        phone.datastores["./addressbook"].add(vcard(i, note="x" * 200))
    session = run(bserver, phone, "http://127.0.0.1:8080/sync", query="backup=big", max_msg_size=4000)
    assert session.ok and session.msg_id > 4  # package 3 in many messages
    (backup,) = area.backups("test")
    assert backup.name.startswith("big") and len(area.items(backup)) == 60
    assert store.items("test", "Contacts") == []


def test_issue_13_backup_survives_a_change_of_worker(store: SQLiteStore, area: BackupArea) -> None:
    """Every message served by a new server on the same store (its state read back each time)."""
    servers: list[SyncServer] = []

    def fresh() -> SyncServer:
        servers.append(make(store, BackupArea(area.root), max_msg_size=4000))
        return servers[-1]

    phone = device("phone")
    for i in range(30):
        phone.datastores["./addressbook"].add(vcard(i, note="y" * 200))
    session = ClientSession(phone, url="http://h/sync?backup=w", user="test", password="secret", clock=Clock(),
                            encoding="xml", max_msg_size=4000)
    request = session.start()
    while request is not None:
        sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
        response = fresh().handle(request.body, request.content_type, sid)
        request = session.receive(response.body, response.content_type)  # type: ignore[assignment]
    assert session.ok and len(servers) > 4
    (backup,) = area.backups("test")
    assert sorted(i.data for i in area.items(backup)) == sorted(ab(phone).values())


def test_issue_13_a_session_that_breaks_off_leaves_no_backup(store: SQLiteStore, area: BackupArea) -> None:
    bserver = make(store, area, max_msg_size=4000)
    phone = device("phone")
    for i in range(30):
        phone.datastores["./addressbook"].add(vcard(i, note="z" * 200))
    session = ClientSession(phone, url="http://h/sync?backup=cut", user="test", password="secret", clock=Clock(),
                            encoding="xml", max_msg_size=4000)
    request = session.start()
    for _ in range(3):  # the session stops in the middle of package 3
        sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
        response = bserver.handle(request.body, request.content_type, sid)
        request = session.receive(response.body, response.content_type)  # type: ignore[assignment]
        assert request is not None
    assert area.backups("test") == []
    partials = list((area.root / "test" / ".partial").iterdir())
    assert len(partials) == 1 and not partials[0].name.endswith((".vcf", ".ics", ".tar"))
    # a day later the next backup of the account removes what that session left
    os.utime(partials[0], (time.time() - 2 * 86400,) * 2)
    assert run(bserver, device("other"), "http://h/sync?backup").ok
    assert not partials[0].exists() and len(area.backups("test")) == 1


def test_issue_13_backup_without_a_backup_area_is_refused(server: SyncServer, store: SQLiteStore,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    phone = _phone(server, 2)
    phone.datastores["./addressbook"].add(vcard(9))
    with caplog.at_level(logging.WARNING, "syncml_codec.engine"):
        session = run(server, phone, "http://h/sync?backup")
    assert session.reports["./addressbook"].alert_status == 406
    assert len(store.items("test", "Contacts")) == 2  # no plain sync in its place
    assert "no backup area" in caplog.text


def test_issue_13_a_backup_past_the_limit_makes_no_file(store: SQLiteStore, tmp_path: Path) -> None:
    area = BackupArea(tmp_path / "b", max_size=300)
    server = SyncServer(store, clock=Clock(), random_source=counter_random(), base_url="http://h/sync",
                        backups=area)
    phone = device("phone")
    for i in range(5):
        phone.datastores["./addressbook"].add(vcard(i))
    session = run(server, phone, "http://h/sync?backup")
    assert session.ok
    assert area.backups("test") == []
    assert store.items("test", "Contacts") == []
    assert not list((area.root / "test" / ".partial").iterdir())


def test_issue_13_an_account_with_its_share_of_backups_is_refused(store: SQLiteStore, tmp_path: Path) -> None:
    area = BackupArea(tmp_path / "b", max_account_size=200)
    phone = device("phone")
    for i in range(3):
        phone.datastores["./addressbook"].add(vcard(i))
    # (a backup must fit in what is left of the share: this one, of about 250 bytes, is made with a larger one)
    assert run(make(store, BackupArea(area.root)), phone, "http://h/sync?backup").ok
    session = run(make(store, area), phone, "http://h/sync?backup")  # now past it
    assert session.reports["./addressbook"].alert_status == 420
    assert len(area.backups("test")) == 1


def test_issue_13_restore_puts_the_backup_back_and_refreshes_the_device(bserver: SyncServer, store: SQLiteStore,
                                                                        area: BackupArea) -> None:
    phone = _phone(bserver, 3)
    assert run(bserver, phone, "http://h/sync?backup=keep").ok
    assert sync(bserver, phone).ok  # (the slow sync after a backup)
    # later: the phone loses a contact and gains two, the server one more from elsewhere
    book = phone.datastores["./addressbook"]
    book.delete(next(iter(book.items)))
    book.add(vcard(20))
    book.add(vcard(21))
    assert sync(bserver, phone).ok
    store.add_item("test", "Contacts", vcard(30), "text/vcard")
    (backup,) = area.backups("test")
    kept = {i.guid for i in store.items("test", "Contacts")}
    report = restore_backup(store, area, "test", backup, phone.device_id, 5.0)
    assert (report.restored, report.added, report.deleted) == (3, 1, 3)
    assert len(store.items("test", "Contacts")) == 3
    assert len(kept & {i.guid for i in store.items("test", "Contacts")}) == 2  # unchanged items stay as they are
    assert store.pending_mode(store.device("test", phone.device_id), "Contacts") == AlertCode.REFRESH_FROM_SERVER
    session = sync(bserver, phone)
    assert session.ok and session.reports["./addressbook"].mode == AlertCode.REFRESH_FROM_SERVER
    assert sorted(ab(phone).values()) == sorted(i.data for i in store.items("test", "Contacts"))
    assert len(ab(phone)) == 3
    assert store.pending_mode(store.device("test", phone.device_id), "Contacts") is None  # cleared
    assert sync(bserver, phone).reports["./addressbook"].mode == AlertCode.TWO_WAY


def test_issue_13_pack_round_trips() -> None:
    card, card21 = vcard(1), vcard(2, version="2.1")
    event = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    sif = b"<?xml version='1.0'?><contact><FirstName>A</FirstName></contact>"
    cases = [
        ([card, card21], ".vcf"),
        ([event, event], ".ics"),
        ([sif, card], ".tar"),
        ([card.rstrip(b"\r\n"), card], ".tar"),  # no final line break: a stream would not split back
        ([b"a note", b""], ".tar"),
    ]
    for datas, ext in cases:
        items = [BackupItem(d, "text/x-s4j-sifc" if d == sif else "") for d in datas]
        got_ext, data = pack(items, 1.0)
        assert got_ext == ext
        assert [i.data for i in unpack(ext, data)] == datas
    assert pack([], datastore="Contacts") == (".vcf", b"") and unpack(".vcf", b"") == []
    assert unpack(".tar", pack([BackupItem(sif, "text/x-s4j-sifc")])[1])[0].content_type == "text/x-s4j-sifc"
    with pytest.raises(ValueError):
        unpack(".vcf", b"garbage\r\n" + card)


def test_issue_13_names_are_taken_once(tmp_path: Path) -> None:
    """Two writers of the same account and day (other workers, other hosts) never share a name."""
    a, b = BackupArea(tmp_path), BackupArea(tmp_path)
    made = []
    for n, area in enumerate([a, b, a, b]):
        size = area.append("u/../x", f"s{n}", "Contacts", 0, BackupItem(vcard(n)))
        made.append(area.finish("u/../x", f"s{n}", "Contacts", size, "p", 1_700_000_000)[0])
    assert [m.name for m in made] == [f"p{DAY}000{i}" for i in range(1, 5)]
    assert {p.name for p in tmp_path.iterdir()} == {"u%2F..%2Fx"}
    os.link(made[0].path, made[0].path.with_name(f"p{DAY}0005.tar"))  # a name taken under another extension
    size = a.append("u/../x", "s9", "Contacts", 0, BackupItem(vcard(9)))
    assert a.finish("u/../x", "s9", "Contacts", size, "p", 1_700_000_000)[0].name == f"p{DAY}0006"
    tomorrow = time.strftime("%Y%m%d", time.gmtime(1_700_000_000 + 86400))
    size = a.append("u/../x", "s10", "Contacts", 0, BackupItem(vcard(10)))
    assert a.finish("u/../x", "s10", "Contacts", size, "p", 1_700_000_000 + 86400)[0].name == f"p{tomorrow}0001"
