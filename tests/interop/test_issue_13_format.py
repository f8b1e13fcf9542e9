"""Issue 13, item 6, with a real client: SyncEvolution's sync URL carries
``format=``.  Its DevInf lists vCard (3.0 and 2.1) for the address book, not SIF: a
``format=sif`` request is switched to the vCard its DevInf prefers, the
switch logged, and the items arrive in it."""

from __future__ import annotations

from .conftest import SE, Server
from .items import KINDS, fingerprints, picked


def test_format_vob_and_a_sif_request_switched_by_the_devinf(se: SE, syncml_server: Server) -> None:
    v21, v30 = KINDS["vcard21"], KINDS["vcard30"]
    items = picked(v21, 2)
    se.configure("a", stores=["addressbook"], vcard="2.1", url=f"{syncml_server.url}?format=vob")
    se.add("a", "addressbook", items)
    se.sync("a")
    assert syncml_server.count("addressbook") == 2

    # Funambol's separator; SyncEvolution puts the URL in its SyncHdr LocURI and its HTTP request alike
    se.configure("b", stores=["addressbook"], vcard="3.0", url=f"{syncml_server.url}?par=1,#format=sif")
    result = se.sync("b")
    assert result["stores"]["addressbook"]["client"]["added"] == 2
    got = [i["content"] for i in se.list_items("b", "addressbook")]
    assert all("VERSION:3.0" in c for c in got)
    assert fingerprints(v30, got) == fingerprints(v21, items)
    log = syncml_server.log.read_text(errors="replace")
    assert 'device "se-client-b", Contacts: format=sif switched to "text/vcard"' in log
    assert "DevInf lists no type of that format" in log
