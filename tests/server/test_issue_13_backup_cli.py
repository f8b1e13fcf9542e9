"""Issue 13, item 4: ``syncml backup list|restore`` on a database and backup
area filled by real backup sessions of our client, and the backup area as
``syncml serve`` and ``create_app`` set it up."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncml_codec.cli._main import main
from syncml_codec.engine import SyncServer
from syncml_codec.model import AlertCode
from syncml_codec.server import create_app
from syncml_codec.store import SQLiteStore
from syncml_codec.store.backups import BackupArea, default_backup_dir

from ..engine.conftest import Clock, counter_random
from ..engine.helpers import ab, device, sync, vcard
from ..engine.test_issue_13_backup import DAY, run


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, SQLiteStore, SyncServer]:
    db = tmp_path / "sync.db"
    store = SQLiteStore(db)
    store.add_user("test", "secret")
    backup_dir = default_backup_dir(str(db))
    assert backup_dir == str(tmp_path / "sync-backups")
    server = SyncServer(store, clock=Clock(), random_source=counter_random(), base_url="http://h/sync",
                        backups=BackupArea(backup_dir))
    return db, store, server


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_issue_13_backup_list_and_restore(world: tuple[Path, SQLiteStore, SyncServer],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    db, store, server = world
    phone = device("phone")
    for i in range(3):
        phone.datastores["./addressbook"].add(vcard(i))
    assert sync(server, phone).ok
    assert run(server, phone, "http://h/sync?backup=nokia").ok
    assert sync(server, phone).ok
    phone.datastores["./addressbook"].add(vcard(9))
    assert sync(server, phone).ok and len(store.items("test", "Contacts")) == 4

    code, out, _ = cli(capsys, "backup", "list", "test", "--db", str(db))
    assert code == 0
    header, row = out.splitlines()
    assert header.split() == ["NAME", "DATASTORE", "ITEMS", "SIZE", "DATE"]
    assert row.split()[:3] == [f"nokia{DAY}0001.vcf", "Contacts", "3"]
    code, out, _ = cli(capsys, "backup", "list", "test", "--db", str(db), "--json")
    (listed,) = json.loads(out)["backups"]
    assert (listed["name"], listed["datastore"], listed["items"]) == (f"nokia{DAY}0001", "Contacts", 3)
    assert listed["size"] == Path(listed["file"]).stat().st_size

    code, out, _ = cli(capsys, "backup", "restore", "test", f"nokia{DAY}0001", "--device", phone.device_id,
                       "--db", str(db), "--json")
    assert code == 0
    done = json.loads(out)
    assert (done["action"], done["datastore"]) == ("restored", "Contacts")
    assert (done["restored"], done["added"], done["deleted"]) == (3, 0, 1)  # the three there already are kept
    code, out, _ = cli(capsys, "device", "show", "test", phone.device_id, "--db", str(db), "--json")
    assert [d["pending_mode"] for d in json.loads(out)["datastores"]] == [205]
    assert "next sync: mode 205 (backup restore)" in cli(capsys, "device", "show", "test", phone.device_id,
                                                          "--db", str(db))[1]
    store.close()
    store = SQLiteStore(db)  # what the command wrote, read afresh
    server = SyncServer(store, clock=Clock(), random_source=counter_random(), base_url="http://h/sync")
    session = sync(server, phone)
    assert session.ok and session.reports["./addressbook"].mode == AlertCode.REFRESH_FROM_SERVER
    assert len(ab(phone)) == 3 == len(store.items("test", "Contacts"))


def test_issue_13_backup_commands_fail_in_one_line(world: tuple[Path, SQLiteStore, SyncServer],
                                                   capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db, _store, server = world
    phone = device("phone")
    phone.datastores["./addressbook"].add(vcard(1))
    assert run(server, phone, "http://h/sync?backup").ok
    assert cli(capsys, "backup", "list", "test", "--db", str(db))[0] == 0
    code, _, err = cli(capsys, "backup", "list", "nobody", "--db", str(db))
    assert code == 1 and "no user 'nobody'" in err
    code, _, err = cli(capsys, "backup", "restore", "test", "missing", "--device", phone.device_id, "--db", str(db))
    assert code == 1 and "no backup 'missing'" in err
    code, _, err = cli(capsys, "backup", "restore", "test", f"{DAY}0001", "--device", "other", "--db", str(db))
    assert code == 1 and "no device 'other'" in err
    code, _, err = cli(capsys, "backup", "list", "test", "--db", "postgresql://u@127.0.0.1:1/x")
    assert code == 1 and "give --backup-dir" in err
    code, out, _ = cli(capsys, "backup", "list", "test", "--db", str(db), "--backup-dir", str(tmp_path / "none"))
    assert code == 0 and "no backups of user test" in out
    with pytest.raises(SystemExit):
        main(["backup", "restore", "test", "x", "--db", str(db)])  # --device is required
    capsys.readouterr()


def test_issue_13_create_app_and_serve_set_the_backup_area(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = create_app({"SYNCML_DB": str(tmp_path / "a.db"), "SYNCML_LOG_LEVEL": "warning"})
    app.close()
    (tmp_path / "file").write_text("x")
    from syncml_codec.server import ConfigError

    with pytest.raises(ConfigError, match="SYNCML_BACKUP_DIR"):
        create_app({"SYNCML_DB": str(tmp_path / "a.db"), "SYNCML_BACKUP_DIR": str(tmp_path / "file")})
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    assert "--backup-dir" in capsys.readouterr().out
