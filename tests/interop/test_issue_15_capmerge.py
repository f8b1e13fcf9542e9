"""Issue 15, part "capmerge", with real clients: SyncEvolution's CTCap (vCard
2.1 and 3.0 alike) says it holds one NOTE (``MaxOccur`` 1) and no SORT-STRING.
A contact the server holds with two NOTEs and a SORT-STRING (as a device
that holds them sent it) reaches a vCard 2.1 device with one NOTE; that
device's edit keeps the second NOTE and the SORT-STRING on the server, the
vCard 3.0 device gets the edit, and a slow sync of the 2.1 device finds the
contact again (no duplicate on either side).  With ``--conflict-policy merge``
two devices' edits of different fields of one contact both survive, and
both devices end with the same content."""

from __future__ import annotations

from pathlib import Path

from syncml_codec.store import open_store

from .conftest import SE, USER, ServerProcess

CONTACT = (b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Lovelace;Ada;;;\r\nFN:Ada Lovelace\r\nTEL;TYPE=WORK:+44-20-5550100\r\n"
           b"NOTE:first note\r\nNOTE:second note\r\nSORT-STRING:Lovelace\r\nEND:VCARD\r\n")


def _named(content: str, name: str) -> list[str]:
    text = content.replace("\r\n", "\n").replace("\n ", "")
    return [line for line in text.split("\n") if line.split(";", 1)[0].split(":", 1)[0].upper() == name]


def _stored(server: ServerProcess) -> list[bytes]:
    db = open_store(str(server.db))
    try:
        return [i.data for i in db.items(USER, "Contacts")]
    finally:
        db.close()


def test_a_vcard21_device_edit_keeps_what_it_cannot_hold(se: SE, syncml_server: ServerProcess) -> None:
    db = open_store(str(syncml_server.db))
    try:
        db.add_item(USER, "Contacts", CONTACT, "text/vcard")
    finally:
        db.close()
    se.configure("a", vcard="2.1")
    se.configure("b", vcard="3.0")
    assert se.sync("a")["stores"]["addressbook"]["client"]["added"] == 1
    (held,) = se.list_items("a", "addressbook")
    assert _named(held["content"], "NOTE") == ["NOTE:first note"]  # (its CTCap: MaxOccur 1)
    se.update("a", "addressbook", held["luid"], held["content"].replace("5550100", "5550199"))
    assert se.sync("a")["stores"]["addressbook"]["server"]["updated"] == 1
    (stored,) = _stored(syncml_server)
    assert b"+44-20-5550199" in stored
    assert _named(stored.decode(), "NOTE") == ["NOTE:first note", "NOTE:second note"]
    assert _named(stored.decode(), "SORT-STRING") == ["SORT-STRING:Lovelace"]
    assert se.sync("b")["stores"]["addressbook"]["client"]["added"] == 1
    (on_b,) = se.list_items("b", "addressbook")
    assert "+44-20-5550199" in on_b["content"] and _named(on_b["content"], "NOTE") == ["NOTE:first note"]
    # (SyncEvolution counts the Add it sent as "server added"; the server matched it: to_server=+0)
    assert se.sync("a", "slow")["stores"]["addressbook"]["client"]["added"] == 0
    assert len(se.list_items("a", "addressbook")) == 1 and len(_stored(syncml_server)) == 1
    log = syncml_server.log.read_text(errors="replace")
    assert "kept what the device cannot hold (CTCap text/x-vcard)" in log
    ends = [line for line in log.splitlines() if "session end:" in line and 'device="se-client-a"' in line]
    assert "Contacts=slow to_server=+0/~0/-0 to_client=+0/~0/-0" in ends[-1]


MERGED = (b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Hopper;Grace;;;\r\nFN:Grace Hopper\r\nTEL;TYPE=WORK:+1-555-0100\r\n"
          b"EMAIL;TYPE=INTERNET:grace@example.org\r\nEND:VCARD\r\n")


def test_merge_of_two_devices_edits_ends_with_the_same_content(se_shim: Path, tmp_path: Path) -> None:
    (tmp_path / "server-merge").mkdir()
    server = ServerProcess(tmp_path / "server-merge", args=("--conflict-policy", "merge"))
    try:
        se = SE(tmp_path / "se", se_shim, server.url, tmp_path / "items")
        se.configure("a")
        se.configure("b")
        se.add("a", "addressbook", [MERGED])
        se.sync("a")
        se.sync("b")
        (on_a,) = se.list_items("a", "addressbook")
        se.update("a", "addressbook", on_a["luid"], on_a["content"].replace("0100", "0111"))
        se.sync("a")
        (on_b,) = se.list_items("b", "addressbook")
        se.update("b", "addressbook", on_b["luid"], on_b["content"].replace("example.org", "example.com"))
        result = se.sync("b")["stores"]["addressbook"]
        assert result["client"]["updated"] == 1  # the merged item came back
        se.sync("a")
        (on_a,), (on_b,) = se.list_items("a", "addressbook"), se.list_items("b", "addressbook")
        for name in ("TEL", "EMAIL", "N", "FN"):
            assert _named(on_a["content"], name) == _named(on_b["content"], name)
        assert "+1-555-0111" in on_a["content"] and "grace@example.com" in on_a["content"]
        (stored,) = _stored(server)
        assert b"+1-555-0111" in stored and b"grace@example.com" in stored
        db = open_store(str(server.db))
        try:
            (conflict,) = db.conflicts(USER)
        finally:
            db.close()
        assert conflict.reason.startswith("both changed; merged field by field (from the device: EMAIL")
        assert b"grace@example.com" in conflict.data and b"+1-555-0111" in conflict.other_data
    finally:
        assert server.stop() == 0, server.log_tail()
