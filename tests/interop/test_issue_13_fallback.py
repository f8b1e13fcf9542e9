"""Issue 13, item 2 with a real client: SyncEvolution 2.0's DevInf lists
SyncCaps 1-7 for every datastore, so the fallback for clients without
SyncCap 4 or 6 (engine/_modes.py ``delivery``) is never taken for it: modes
8 and 7 still reach it as 205 and 203 (refresh-from-remote, -local), both
sides listed afterwards.  (The fallback itself is tested with our client
session advertising SyncCaps 1-2: tests/engine/test_issue_13_fallback.py.)"""

from __future__ import annotations

import os

import pytest

from syncml_codec.devinf import DevInf
from syncml_codec.store import open_store

from .conftest import SE, ServerProcess
from .items import KINDS, fingerprints, picked
from .test_syncevolution import other_contacts

CONTACTS = KINDS["vcard30"]
STORE = CONTACTS.store

pytestmark = pytest.mark.skipif(os.environ.get("SYNCML_CODEC_INTEROP_SERVER") == "refserver",
                                reason="IceWarp's URL parameters are this server's")


def stored_caps(server: ServerProcess, device_id: str) -> list[set[int]]:
    db = open_store(str(server.db))
    try:
        device = db.find_device("test", device_id)
        assert device is not None and device.devinf
        return [set(ds.sync_types) for ds in DevInf.from_bytes(device.devinf).datastores]
    finally:
        db.close()


def test_syncevolution_still_gets_205_and_203(se: SE, syncml_server: ServerProcess) -> None:
    items = picked(CONTACTS, 2)
    se.configure("a", stores=[STORE])
    se.add("a", STORE, items)
    se.sync("a")
    caps = stored_caps(syncml_server, "se-client-a")
    assert caps and all({1, 2, 4, 6} <= c for c in caps), caps
    (extra,) = other_contacts(1)
    se.add("a", STORE, [extra])  # not synced: mode 8 erases it on the device
    se.run("set", "a", f"syncURL={syncml_server.url}?sync=8")
    assert se.sync("a")["stores"][STORE]["mode"] == "refresh-from-remote"
    listed = [i["content"] for i in se.list_items("a", STORE)]
    assert fingerprints(CONTACTS, listed) == fingerprints(CONTACTS, items)
    se.add("a", STORE, [extra])
    se.run("set", "a", f"syncURL={syncml_server.url}?sync=7")
    assert se.sync("a")["stores"][STORE]["mode"] == "refresh-from-local"
    assert syncml_server.count(STORE) == 3
    assert "goes out as" not in syncml_server.log.read_text(errors="replace")
