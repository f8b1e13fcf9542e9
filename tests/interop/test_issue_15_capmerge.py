"""Issue 15, part "capmerge", with real clients: SyncEvolution's CTCap (vCard
2.1 and 3.0 alike) says it holds one NOTE (``MaxOccur`` 1) and no SORT-STRING.
A contact the server holds with two NOTEs and a SORT-STRING (as a device
that holds them sent it) reaches a vCard 2.1 device with one NOTE; that
device's edit keeps the second NOTE and the SORT-STRING on the server, the
vCard 3.0 device gets the edit, and a slow sync of the 2.1 device finds the
contact again (no duplicate on either side)."""

from __future__ import annotations

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
    result = se.sync("a", "slow")["stores"]["addressbook"]
    assert result["client"]["added"] == 0 and result["server"]["added"] == 0
    assert len(se.list_items("a", "addressbook")) == 1 and len(_stored(syncml_server)) == 1
    log = syncml_server.log.read_text(errors="replace")
    assert "kept what the device cannot hold (CTCap text/x-vcard)" in log
