"""Issue 13, red team: ``syncml backup list|restore`` and the backup area
with hostile names (account names with path tricks, a backup name naming
another account's file, a missing or broken file, a planted symlink)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from syncml_codec.cli._main import main
from syncml_codec.engine import SyncServer
from syncml_codec.store import SQLiteStore
from syncml_codec.store.backups import BackupArea

from ..engine.conftest import Clock, counter_random
from ..engine.helpers import device, sync, vcard
from ..engine.test_issue_13_backup import DAY

USERS = ("test", "bob", "../../evil@x/../y", "a/b@dom.example", ".hidden", "%2E%2E")


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, SQLiteStore, BackupArea]:
    db = tmp_path / "sync.db"
    store = SQLiteStore(db)
    for user in USERS:
        store.add_user(user, "secret")
    return db, store, BackupArea(tmp_path / "sync-backups")


def backup_of(store: SQLiteStore, area: BackupArea, user: str, n: int = 2) -> None:
    from urllib.parse import parse_qs, urlsplit

    from syncml_codec.engine import ClientSession

    server = SyncServer(store, clock=Clock(), random_source=counter_random(), base_url="http://h/sync",
                        backups=area)
    phone = device("phone")
    for i in range(n):
        phone.datastores["./addressbook"].add(vcard(i))
    s = ClientSession(phone, url="http://h/sync?backup=p", user=user, password="secret", clock=Clock(),
                      encoding="xml")
    request = s.start()
    while request is not None:
        sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
        response = server.handle(request.body, request.content_type, sid)
        request = s.receive(response.body, response.content_type)  # type: ignore[assignment]
    assert s.ok
    assert sync(server, phone).ok  # (the device known to the server, for restore)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_account_names_with_path_tricks_stay_in_their_folder(world: tuple[Path, SQLiteStore, BackupArea]) -> None:
    _, store, area = world
    for user in USERS:
        backup_of(store, area, user)
    files = sorted(p for p in area.root.rglob("*") if p.is_file())
    assert len(files) == len(USERS)
    assert all(p.resolve().is_relative_to(area.root.resolve()) for p in files)
    assert {p.relative_to(area.root).parts[0] for p in files} == {area.account_dir(u).name for u in USERS}
    assert len({area.account_dir(u) for u in USERS}) == len(USERS)  # no two accounts share a folder
    assert all(not p.name.startswith(".") for p in area.root.iterdir())
    for user in USERS:
        (backup,) = area.backups(user)
        assert backup.name == f"p{DAY}0001"


@pytest.mark.parametrize("name", [f"p{DAY}0002", f"../bob/Contacts/p{DAY}0001",
                                  f"Contacts/../../bob/Contacts/p{DAY}0001",
                                  f"../../sync-backups/bob/Contacts/p{DAY}0001.vcf", "", "/etc/passwd",
                                  f"p{DAY}0001.tar"])
def test_restore_of_a_name_that_is_not_the_accounts_is_refused(world: tuple[Path, SQLiteStore, BackupArea],
                                                                capsys: pytest.CaptureFixture[str], name: str) -> None:
    db, store, area = world
    backup_of(store, area, "bob")
    store.device("test", "test-phone")
    before = store.items("bob", "Contacts"), store.items("test", "Contacts")
    code, _, err = cli(capsys, "backup", "restore", "test", name, "--device", "test-phone", "--db", str(db),
                       "--backup-dir", str(area.root))
    assert code != 0 and "no backup" in err
    assert (store.items("bob", "Contacts"), store.items("test", "Contacts")) == before


def test_a_planted_symlink_is_not_a_backup(world: tuple[Path, SQLiteStore, BackupArea],
                                           capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db, store, area = world
    backup_of(store, area, "test")
    secret = tmp_path / "secret.vcf"
    secret.write_bytes(vcard(99))
    os.symlink(secret, area.account_dir("test") / "Contacts" / "evil.vcf")
    assert [b.name for b in area.backups("test")] == [f"p{DAY}0001"]
    store.device("test", "test-phone")
    code, _, err = cli(capsys, "backup", "restore", "test", "evil", "--device", "test-phone", "--db", str(db),
                       "--backup-dir", str(area.root))
    assert code != 0 and "no backup" in err


@pytest.mark.parametrize(("ext", "data"), [(".vcf", b"not a vcard\r\n"), (".tar", b"\x00" * 100 + b"garbage"),
                                           (".ics", b"BEGIN:VCALENDAR\r\n")])
def test_a_broken_backup_file_is_a_clear_error(world: tuple[Path, SQLiteStore, BackupArea],
                                               capsys: pytest.CaptureFixture[str], ext: str, data: bytes) -> None:
    db, store, area = world
    folder = area.account_dir("test") / ("Events" if ext == ".ics" else "Contacts")
    folder.mkdir(parents=True)
    (folder / f"x{DAY}0001{ext}").write_bytes(data)
    store.add_item("test", "Contacts", vcard(1), "text/vcard")
    store.device("test", "test-phone")
    before = store.items("test", "Contacts")
    code, out, _ = cli(capsys, "backup", "list", "test", "--db", str(db), "--backup-dir", str(area.root))
    assert code == 0 and "?" in out.splitlines()[1].split()  # items: unknown
    code, _, err = cli(capsys, "backup", "restore", "test", f"x{DAY}0001", "--device", "test-phone", "--db", str(db),
                       "--backup-dir", str(area.root))
    assert code != 0 and err.strip()
    assert store.items("test", "Contacts") == before


@pytest.mark.parametrize("spelling", ["BÜCHER.de.", "xn--BCHER-kva.de", "@bücher.DE"])
def test_domain_disable_in_any_spelling(world: tuple[Path, SQLiteStore, BackupArea],
                                        capsys: pytest.CaptureFixture[str], spelling: str) -> None:
    db, store, _ = world
    store.add_user("anna@bücher.de", "secret")
    store.add_user("ben@xn--bcher-kva.de.", "secret")
    code, out, _ = cli(capsys, "domain", "disable", spelling, "--db", str(db))
    assert code == 0 and out.startswith("disabled domain xn--bcher-kva.de: 2 accounts")
    assert store.domain_disabled("bücher.de") and store.domain_disabled("XN--BCHER-KVA.DE.")
