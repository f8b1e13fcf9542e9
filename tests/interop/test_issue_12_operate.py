"""Issue 12, item 5 (rest), with a real client: ``syncml device show`` of a
SyncEvolution device, ``syncml device reset`` making its next sync slow
without duplicates, a conflict in ``syncml conflict list|show``, and the
end-of-session log lines ``syncml serve`` prints for those sessions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import SE, Server, ServerProcess, syncml_cli
from .items import KINDS, edited, fingerprints, picked

CONTACTS = KINDS["vcard30"]


def operate(server: Server, *args: str) -> Any:
    proc = syncml_cli(*args, "--db", str(server.db), "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_device_show_reset_and_conflicts_with_syncevolution(se: SE, syncml_server: Server) -> None:
    if not isinstance(syncml_server, ServerProcess):
        pytest.skip("syncml's own commands read syncml's database")
    se.configure("a", stores=[CONTACTS.store], device_id="se-operate-a")
    se.configure("b", stores=[CONTACTS.store], device_id="se-operate-b")
    items = picked(CONTACTS)
    se.add("a", CONTACTS.store, items)
    assert se.sync("a")["stores"][CONTACTS.store]["mode"] == "slow"
    assert se.sync("b")["stores"][CONTACTS.store]["mode"] == "slow"

    (a,) = [d for d in operate(syncml_server, "device", "list", "--user", "test")["devices"]
            if d["device"] == "se-operate-a"]
    assert a["datastores"] == ["Contacts"] and a["last_session"]["outcome"] == "ok"
    shown = operate(syncml_server, "device", "show", "test", "se-operate-a")
    assert shown["devinf"] is not None and shown["devinf"]["datastores"]  # SyncEvolution sends its DevInf
    (state,) = shown["datastores"]
    assert (state["datastore"], state["mapped"], state["pending"], state["slow_next"]) == (
        "Contacts", len(items), 0, False)

    reset = operate(syncml_server, "device", "reset", "test", "se-operate-a", "--datastore", CONTACTS.store)
    assert reset["datastores"] == ["Contacts"]
    again = se.sync("a")
    assert again["stores"][CONTACTS.store]["mode"] == "slow"
    assert syncml_server.count(CONTACTS.store) == len(items)  # paired, not duplicated
    listed = [i["content"] for i in se.list_items("a", CONTACTS.store)]
    assert fingerprints(CONTACTS, listed) == fingerprints(CONTACTS, items)
    assert se.sync("a")["stores"][CONTACTS.store]["mode"] == "two-way"

    # both change the same contact: server wins, b's version is the conflict's loser
    luid_a = se.list_items("a", CONTACTS.store)[0]
    target = fingerprints(CONTACTS, [luid_a["content"]])
    luid_b = next(i for i in se.list_items("b", CONTACTS.store)
                  if fingerprints(CONTACTS, [i["content"]]) == target)
    se.update("a", CONTACTS.store, luid_a["luid"], edited(CONTACTS, luid_a["content"].encode(), "from a"))
    assert se.sync("a")["ok"]
    se.update("b", CONTACTS.store, luid_b["luid"], edited(CONTACTS, luid_b["content"].encode(), "from b"))
    assert se.sync("b")["ok"]
    (conflict,) = operate(syncml_server, "conflict", "list")["conflicts"]
    assert (conflict["device"], conflict["datastore"], conflict["reason"]) == (
        "se-operate-b", "Contacts", "both changed; server wins")
    assert "from b" in operate(syncml_server, "conflict", "show", str(conflict["id"]))["data"]

    log = syncml_server.log.read_text()
    ends = [line for line in log.splitlines() if line.startswith("INFO: session end: ")]
    sessions = operate(syncml_server, "session", "list")["sessions"]
    assert len(ends) == len(sessions) == 6 and all(line.endswith(" outcome=ok") for line in ends)
    assert all(" address=127.0.0.1 " in line for line in ends)
    assert f" Contacts=slow to_server=+{len(items)}/~0/-0 to_client=+0/~0/-0 conflicts=0 " in ends[0]
    assert f" Contacts=slow to_server=+0/~0/-0 to_client=+{len(items)}/~0/-0 conflicts=0 " in ends[1]
    assert " Contacts=slow to_server=+0/~0/-0 to_client=+0/~0/-0 conflicts=0 " in ends[2]  # after the reset
    assert " Contacts=two-way to_server=+0/~1/-0 " in ends[4]
    assert " Contacts=two-way to_server=+0/~0/-0 to_client=+0/~1/-0 conflicts=1 " in ends[5]
