"""Issue 13, server-alerted sync with a real client: SyncEvolution whose
sync URL carries ``push`` is registered when its session completes, and
``syncml push`` makes the notification that names the server and the
datastore as SyncEvolution knows them (its syncURL and its source's uri)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncml_codec.codec import Notification

from .conftest import SE, Server, ServerProcess, syncml_cli
from .items import KINDS, picked

CONTACTS = KINDS["vcard30"]


def test_push_registration_and_notification_with_syncevolution(se: SE, syncml_server: Server,
                                                                tmp_path: Path) -> None:
    if not isinstance(syncml_server, ServerProcess):
        pytest.skip("syncml's own commands read syncml's database")
    url = f"{syncml_server.url}?push"
    se.configure("a", url=url, stores=[CONTACTS.store], device_id="se-push-a")
    se.add("a", CONTACTS.store, picked(CONTACTS)[:2])
    assert se.sync("a")["ok"]
    proc = syncml_cli("device", "show", "test", "se-push-a", "--db", str(syncml_server.db), "--json")
    assert proc.returncode == 0, proc.stderr
    (push,) = json.loads(proc.stdout)["push"]
    assert (push["datastore"], push["server_id"], push["server_uri"]) == ("Contacts", syncml_server.url,
                                                                          CONTACTS.store)
    out = tmp_path / "push.san"
    proc = syncml_cli("push", "test", "se-push-a", "-o", str(out), "--db", str(syncml_server.db))
    assert proc.returncode == 0, proc.stderr
    n = Notification.from_bytes(out.read_bytes())
    assert n.server_id == syncml_server.url and [(a.sync_type, a.server_uri) for a in n.alerts] == [
        (206, CONTACTS.store)]
    assert n.verify("", "")
