"""Issue 13, items 2, 3 and 5 with a real client: SyncEvolution 2.0 whose
sync URL carries IceWarp's parameters (``?sync=N``, ``reset``, with ``&``
and Funambol's ``,#`` separators), both sides listed afterwards.

Setup of every test (vCard 3.0, WBXML, md5): A and B hold contacts 1-3
through the server; then A adds contact 5 (synced: the server has it, B
not) and B adds contact 4 (not synced).  B then syncs once with the URL's
parameters; SyncEvolution asks for a two-way sync (Alert 200) and gets the
alert the mode goes out as (engine/_modes.py: it accepts each of 201-205 in
place of 200, and 508 + 203 in place of a stale 202).
"""

from __future__ import annotations

import os

import pytest

from syncml_codec.store import open_store

from .conftest import SE, ServerProcess
from .items import KINDS, fingerprints, picked
from .test_syncevolution import other_contacts

CONTACTS = KINDS["vcard30"]
STORE = CONTACTS.store

pytestmark = pytest.mark.skipif(os.environ.get("SYNCML_CODEC_INTEROP_SERVER") == "refserver",
                                reason="IceWarp's URL parameters are this server's")


def server_items(server: ServerProcess) -> list[bytes]:
    db = open_store(str(server.db))
    try:
        return [i.data for i in db.items("test", "Contacts")]
    finally:
        db.close()


def client_items(se: SE, device: str) -> list[str]:
    return [i["content"] for i in se.list_items(device, STORE)]


def same(got: list[bytes] | list[str], want: list[bytes]) -> bool:
    return fingerprints(CONTACTS, got) == fingerprints(CONTACTS, want)


def setup_pair(se: SE) -> dict[int, bytes]:
    """Contacts 1-5 (see the module doc): A and B hold 1-3, the server and A 5, B 4."""
    base = picked(CONTACTS)
    extra = other_contacts(2)
    c = {1: base[0], 2: base[1], 3: base[2], 4: extra[0], 5: extra[1]}
    se.configure("a", stores=[STORE])
    se.configure("b", stores=[STORE])
    se.add("a", STORE, [c[1], c[2], c[3]])
    se.sync("a")
    se.sync("b")
    se.add("a", STORE, [c[5]])
    se.sync("a")
    se.add("b", STORE, [c[4]])
    return c


MODES = [
    # (URL parameters, the mode SyncEvolution ran, B afterwards, the server afterwards)
    ("?sync=2", "slow", (1, 2, 3, 4, 5), (1, 2, 3, 4, 5)),
    ("?sync=4", "refresh-from-local", (1, 2, 3, 4), (1, 2, 3, 4)),
    ("?sync=6", "refresh-from-remote", (1, 2, 3, 5), (1, 2, 3, 5)),
    ("?sync=7", "refresh-from-local", (1, 2, 3, 4), (1, 2, 3, 4)),
    ("?sync=8", "refresh-from-remote", (1, 2, 3, 5), (1, 2, 3, 5)),
    ("?sync=9", "refresh-from-remote", (), (1, 2, 3, 5)),
    ("?reset", "refresh-from-remote", (), (1, 2, 3, 5)),
    ("?par=1&sync=8", "refresh-from-remote", (1, 2, 3, 5), (1, 2, 3, 5)),  # & separator
    ("?par=1,#sync=9", "refresh-from-remote", (), (1, 2, 3, 5)),  # Funambol's: in the LocURI only
]


@pytest.mark.parametrize(("params", "ran", "on_b", "on_server"), MODES, ids=[m[0] for m in MODES])
def test_mode_by_url(se: SE, syncml_server: ServerProcess, params: str, ran: str, on_b: tuple[int, ...],
                     on_server: tuple[int, ...]) -> None:
    c = setup_pair(se)
    se.run("set", "b", f"syncURL={syncml_server.url}{params}")
    result = se.sync("b")
    assert result["stores"][STORE]["mode"] == ran
    assert same(client_items(se, "b"), [c[n] for n in on_b]), client_items(se, "b")
    assert same(server_items(syncml_server), [c[n] for n in on_server])
    se.sync("a")  # A follows the server
    assert same(client_items(se, "a"), [c[n] for n in on_server])


@pytest.mark.parametrize(("mode", "params", "ran", "on_server"), [
    ("one-way-from-client", "", "refresh-from-local", (1, 2, 3, 4)),  # client 3, anchors differ: 7
    ("two-way", "?sync=5", "refresh-from-remote", (1, 2, 3, 5)),  # client 1, URL 5, anchors differ: 8
])
def test_stale_anchors(se: SE, syncml_server: ServerProcess, mode: str, params: str, ran: str,
                       on_server: tuple[int, ...]) -> None:
    """Where a stale one-way request used to become 508 and a two-way slow
    sync, it becomes IceWarp's one-way slow sync (7: the server takes the
    client's data; 8: the client takes the server's)."""
    c = setup_pair(se)
    db = open_store(str(syncml_server.db))
    try:
        with db.transaction():
            device = db.find_device("test", "se-client-b")
            assert device is not None
            db.clear_anchors(device, "Contacts")
    finally:
        db.close()
    se.run("set", "b", f"syncURL={syncml_server.url}{params}")
    result = se.sync("b", mode)
    assert result["stores"][STORE]["mode"] == ran
    assert same(client_items(se, "b"), [c[n] for n in on_server])
    assert same(server_items(syncml_server), [c[n] for n in on_server])
    se.run("set", "b", f"syncURL={syncml_server.url}")
    result = se.sync("b")  # back to normal: a two-way sync on the saved anchors
    assert result["stores"][STORE]["mode"] == "two-way"


def test_icewarp_paths(se: SE, syncml_server: ServerProcess) -> None:
    """A device set up for an IceWarp server (``/syncml/index.html``,
    ``/syncml/``) syncs without a change of URL, the parameters included."""
    assert syncml_server.url.endswith("/sync")
    root = syncml_server.url.removesuffix("/sync")
    items = picked(CONTACTS, 2)
    se.configure("a", url=f"{root}/syncml/index.html", stores=[STORE])
    se.add("a", STORE, items)
    se.sync("a")
    assert same(server_items(syncml_server), items)
    se.run("set", "a", f"syncURL={root}/syncml/?reset")
    assert se.sync("a")["stores"][STORE]["mode"] == "refresh-from-remote"
    assert client_items(se, "a") == [] and same(server_items(syncml_server), items)
    assert len(list(syncml_server.transcripts.iterdir())) == 2  # (a 404 would have ended the sync: see se.sync)
