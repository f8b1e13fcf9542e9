"""Issue 13, item 4, with a real client: SyncEvolution syncing to
``/sync?backup=nokia`` and ``/sync?backup`` writes its contacts to
``nokia<YYYYMMDD>0001.vcf`` and ``<YYYYMMDD>0001.vcf`` in the account's
backup folder, and the server's data stays as it was."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from syncml_codec.store.backups import BackupArea

from .conftest import SE, Server, ServerProcess, syncml_cli
from .items import KINDS, fingerprints, picked

CONTACTS = KINDS["vcard30"]


def backups(server: ServerProcess) -> list[dict[str, Any]]:
    proc = syncml_cli("backup", "list", "test", "--db", str(server.db), "--json")
    assert proc.returncode == 0, proc.stderr
    listed: list[dict[str, Any]] = json.loads(proc.stdout)["backups"]
    return listed


def test_issue_13_backup_with_syncevolution(se: SE, syncml_server: Server) -> None:
    if not isinstance(syncml_server, ServerProcess):
        pytest.skip("the backup area is syncml's")
    se.configure("a", stores=[CONTACTS.store], device_id="se-backup-a")
    items = picked(CONTACTS, 3)
    se.add("a", CONTACTS.store, items[:2])
    assert se.sync("a")["ok"]
    assert syncml_server.count(CONTACTS.store) == 2
    se.add("a", CONTACTS.store, items[2:])  # on the device only

    day = time.strftime("%Y%m%d", time.gmtime())
    for query, name in (("?backup=nokia", f"nokia{day}0001"), ("?backup", f"{day}0001")):
        se.run("set", "a", f"syncURL={syncml_server.url}{query}")
        result = se.sync("a")
        assert result["stores"][CONTACTS.store]["mode"] == "slow"  # the server asked for all of it
        assert result["stores"][CONTACTS.store]["client"]["added"] == 0  # nothing came back
        assert syncml_server.count(CONTACTS.store) == 2  # the server's data untouched
        (made,) = [b for b in backups(syncml_server) if b["name"] == name]
        assert made["datastore"] == "Contacts" and made["items"] == 3
        assert Path(made["file"]).name == f"{name}.vcf"
        area = BackupArea(Path(made["file"]).parents[2])
        saved = [i.data for i in area.items(area.find("test", name))]
        device = [i["content"] for i in se.list_items("a", CONTACTS.store)]
        assert sorted(map(repr, fingerprints(CONTACTS, saved))) == sorted(map(repr, fingerprints(CONTACTS, device)))
    assert len(backups(syncml_server)) == 2

    se.run("set", "a", f"syncURL={syncml_server.url}")  # back to syncing: slow once, then the third arrives
    assert se.sync("a")["stores"][CONTACTS.store]["mode"] == "slow"
    assert syncml_server.count(CONTACTS.store) == 3
    assert len(se.list_items("a", CONTACTS.store)) == 3

    # restore: the device lost a contact; the backup comes back on the server and, by a refresh, on the device
    gone = se.list_items("a", CONTACTS.store)[0]["luid"]
    se.delete("a", CONTACTS.store, [gone])
    assert se.sync("a")["ok"] and syncml_server.count(CONTACTS.store) == 2
    proc = syncml_cli("backup", "restore", "test", f"nokia{day}0001", "--device", "se-backup-a",
                      "--db", str(syncml_server.db), "--json")
    assert proc.returncode == 0, proc.stderr
    restored = json.loads(proc.stdout)
    assert (restored["restored"], restored["added"]) == (3, 1) and syncml_server.count(CONTACTS.store) == 3
    result = se.sync("a")
    assert result["stores"][CONTACTS.store]["mode"] in ("refresh-from-remote", "refresh-from-server")
    device = [i["content"] for i in se.list_items("a", CONTACTS.store)]
    assert sorted(map(repr, fingerprints(CONTACTS, device))) == sorted(map(repr, fingerprints(CONTACTS, items)))
    assert se.sync("a")["stores"][CONTACTS.store]["mode"] == "two-way"
