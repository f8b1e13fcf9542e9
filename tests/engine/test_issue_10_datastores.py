"""Issue 10: a phone set up for another server alerts that server's
datastore names (the Ericsson phone's ``pb``); the server takes the name by
what the phone's datastore holds (its DevInf types) and keeps it for the
session's Sync and Map.  A SyncML 1.0 Sync without a Target, in a session
of one datastore, is that datastore's."""

from __future__ import annotations

from syncml_codec.engine import SyncServer
from syncml_codec.model import Message, Status
from syncml_codec.store import SQLiteStore

from ..conftest import corpus_path

ERICSSON = ("devices", "devaspot+syncml", "apps", "simple_sync", "test", "example.xml1")
XML = "application/vnd.syncml+xml"


def statuses(body: bytes) -> dict[str, str]:
    """Status code by the command it answers (``Alert:3``)."""
    return {f"{c.cmd}:{c.cmd_ref}": c.data for c in Message.from_bytes(body).commands if isinstance(c, Status)}


def test_ericsson_pb_is_taken_as_contacts_by_its_devinf() -> None:
    store = SQLiteStore(":memory:")
    store.add_user("d", "d")  # the phone's basic credential, as recorded
    server = SyncServer(store, clock=lambda: 1_700_000_000.0)
    reply = server.handle(corpus_path(*ERICSSON).read_bytes(), XML, None)
    codes = statuses(reply.body)
    assert codes["SyncHdr:0"] == "212"
    assert codes["Alert:3"] in ("200", "508")  # pb: the phone's EriPBDB holds vCards
    assert codes["Alert:2"] in ("200", "508")  # /cal: an alias of ours
    session = server.sessions[reply.session_id]
    assert set(session.datastores) == {"Contacts", "Events"}
    assert session.datastores.aliases == {"pb": "Contacts"}


def test_a_name_nothing_explains_is_still_404() -> None:
    store = SQLiteStore(":memory:")
    store.add_user("d", "d")
    server = SyncServer(store, clock=lambda: 1_700_000_000.0)
    body = corpus_path(*ERICSSON).read_bytes().replace(b"<SourceRef>EriPBDB</SourceRef>",
                                                        b"<SourceRef>Other</SourceRef>")
    reply = server.handle(body, XML, None)
    assert statuses(reply.body)["Alert:3"] == "404"


def test_sync_without_target_in_a_one_datastore_session() -> None:
    """The Ericsson phone's Sync names no Target and holds an empty Add:
    with one datastore alerted, the Sync is that datastore's, and every
    command gets its Status."""
    store = SQLiteStore(":memory:")
    store.add_user("d", "d")
    server = SyncServer(store, clock=lambda: 1_700_000_000.0)
    body = corpus_path(*ERICSSON).read_bytes()
    start = body.index(b"<Alert>")
    body = body[:start] + body[body.index(b"</Alert>", start) + len(b"</Alert>"):]  # the /cal Alert gone
    codes = statuses(server.handle(body, XML, None).body)
    assert codes["Alert:3"] in ("200", "508")
    assert codes["Sync:6"] == "200" and codes["Add:8"] == "200"
