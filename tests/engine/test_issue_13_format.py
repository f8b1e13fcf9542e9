"""Issue 13, item 6: ``format=sif|vob|get`` on the sync URL, through our
client session against an in-memory server: SIF and Versit forced over
what the DevInf would negotiate, ``get`` asking for the DevInf again, and
the automatic switch (DevInf without the format, Status 415 on an item),
logged and remembered for the device."""

from __future__ import annotations

import doctest
import json
import logging
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from syncml_codec.devinf import ContentType, DataStore, DevInf
from syncml_codec.engine import ClientSession, ClientStore, SyncServer, _format
from syncml_codec.engine._format import Choice, choose, family
from syncml_codec.engine.client import ClientDatastore
from syncml_codec.model import Add, Command, Get, Item, Message, Put, Replace, StatusCode, Sync
from syncml_codec.store import DeviceFormat, SQLiteStore

from .conftest import Clock, counter_random
from .helpers import vcard

SIFC, VCARD21, VCARD30 = "text/x-s4j-sifc", "text/x-vcard", "text/vcard"


class Device(ClientStore):
    """A client whose DevInf lists, for each datastore, ``receives`` (its
    preferred type first); ``devinf_datastores=False``: a DevInf without
    datastores (it tells nothing of the types it takes)."""

    def __init__(self, device_id: str, receives: tuple[str, ...] = (VCARD30,), *,
                 devinf_datastores: bool = True, remote: str = "contacts") -> None:
        super().__init__(device_id)
        self.receives = receives
        self.devinf_datastores = devinf_datastores
        self.add_datastore(f"./{remote}", remote, receives[0])

    def devinf(self) -> DevInf:
        base = super().devinf()
        stores = tuple(DataStore(ds.local_uri, rx_pref=(ContentType(self.receives[0]),),
                                 rx=tuple(ContentType(t) for t in self.receives[1:]),
                                 tx_pref=(ContentType(ds.content_type),), sync_types=(1, 2, 3, 4, 5, 6, 7))
                       for ds in self.datastores.values()) if self.devinf_datastores else ()
        return DevInf(dev_id=base.dev_id, dev_typ=base.dev_typ, ver_dtd="1.2", man=base.man, mod=base.mod,
                      swv=base.swv, utc=True, support_large_objs=True, support_number_of_changes=True,
                      datastores=stores)


class Picky(ClientSession):
    """A client that answers 415 to items of a type it does not take
    (``takes``; every type when empty)."""

    takes: tuple[str, ...] = ()

    def _apply(self, ds: ClientDatastore, cmd: Command, item: Item) -> int:
        ctype = (cmd.meta.type if isinstance(cmd, (Add, Replace)) and cmd.meta else None) or ""
        if isinstance(cmd, (Add, Replace)) and self.takes and ctype.lower() not in self.takes:
            return StatusCode.UNSUPPORTED_MEDIA_TYPE
        return super()._apply(ds, cmd, item)


Transform = Callable[[Message], Message]


def run(server: SyncServer | list[SyncServer], device: ClientStore, params: str = "", *, query: str | None = None,
        takes: tuple[str, ...] = (), transform: Transform | None = None, max_msg_size: int = 150000,
        ) -> tuple[Picky, list[Message]]:
    """One session of ``device`` with ``params`` on its sync URL (the LocURI
    of its SyncHdr) and ``query`` on the HTTP request; the server's answers.
    Several servers (workers on one database) take the messages in turn."""
    servers = server if isinstance(server, list) else [server]
    url = servers[0].base_url + (f"?{params}" if params else "")
    session = Picky(device, url=url, user="test", password="secret", auth_type="basic", encoding="xml",
                    clock=Clock(), max_msg_size=max_msg_size)
    session.takes = takes
    request = session.start()
    answers: list[Message] = []
    first = True
    for n in range(60):
        body = request.body
        if transform is not None:
            body = transform(Message.from_bytes(body, request.content_type)).to_bytes("xml")
        sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
        response = servers[n % len(servers)].handle(body, request.content_type, sid,
                                                     query=query if first else None)
        first = False
        assert response.http_status == 200
        answers.append(Message.from_bytes(response.body, response.content_type))
        next_request = session.receive(response.body, response.content_type)
        if next_request is None:
            assert session.ok, session.error
            return session, answers
        request = next_request
    raise AssertionError("the session did not end")


def sent_types(answers: list[Message]) -> list[str]:
    """The Meta Type of every Add/Replace the server sent."""
    return [(change.meta.type if change.meta else None) or "" for msg in answers for cmd in msg.commands
            if isinstance(cmd, Sync) for change in cmd.commands if isinstance(change, (Add, Replace))]


def no_put(msg: Message) -> Message:
    """``msg`` without the DevInf Put of package 1 (Results of a Get still go)."""
    import dataclasses

    commands = tuple(c for c in msg.commands if not isinstance(c, Put))
    return msg.replace(body=dataclasses.replace(msg.body, commands=commands))


def asked_devinf(answers: list[Message]) -> bool:
    return any(isinstance(c, Get) for msg in answers for c in msg.commands)


def contacts(device: ClientStore) -> list[bytes]:
    return list(device.datastores["./contacts"].items.values())


def fill(store: SQLiteStore, n: int) -> None:
    for i in range(n):
        store.add_item("test", "Contacts", vcard(i), VCARD30)


def remembered(store: SQLiteStore, device_id: str) -> DeviceFormat | None:
    found = store.find_device("test", device_id)
    assert found is not None
    return store.device_format(found, "Contacts")


def switches(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "switched to" in r.getMessage() and r.levelno == logging.INFO]


# -- the decision -------------------------------------------------------------------------------
CHOICES = [
    # (datastore, format, keyword arguments, expected choice)
    ("Contacts", "sif", {}, Choice(SIFC, "forced")),
    ("Events", "sif", {}, Choice("text/x-s4j-sife", "forced")),
    ("Tasks", "sif", {}, Choice("text/x-s4j-sift", "forced")),
    ("Notes", "sif", {}, Choice("text/x-s4j-sifn", "forced")),
    ("Journal", "sif", {}, Choice(None, "none")),
    ("Contacts", "vob", {}, Choice(VCARD21, "forced")),
    ("Events", "vob", {}, Choice("text/x-vcalendar", "forced")),
    ("Notes", "vob", {}, Choice("text/x-vnote", "forced")),
    ("Journal", "vob", {}, Choice("text/calendar", "forced")),
    ("Contacts", "get", {}, Choice(None, "none")),
    ("Contacts", None, {}, Choice(None, "none")),
    # the DevInf's order decides the Versit type; a DevInf without the family switches
    ("Contacts", "vob", {"receives": (SIFC, VCARD30, VCARD21)}, Choice(VCARD30, "forced")),
    ("Contacts", "sif", {"receives": (VCARD30, SIFC)}, Choice(SIFC, "forced")),
    ("Contacts", "sif", {"receives": (VCARD30,)}, Choice(VCARD30, "devinf")),
    ("Notes", "vob", {"receives": ("text/plain",)}, Choice("text/plain", "devinf")),
    ("Contacts", "sif", {"receives": ()}, Choice(None, "devinf")),
    # without DevInf: the Versit type the device sends or was switched to
    ("Contacts", "vob", {"sends": VCARD30}, Choice(VCARD30, "forced")),
    ("Contacts", "vob", {"sends": SIFC}, Choice(VCARD21, "forced")),
    ("Events", "vob", {"sends": "text/calendar"}, Choice("text/calendar", "forced")),
    # a 415: the type it sends, else the other family
    ("Contacts", "sif", {"refused": frozenset({SIFC})}, Choice(VCARD21, "refused")),
    ("Contacts", "sif", {"refused": frozenset({SIFC}), "sends": VCARD30}, Choice(VCARD30, "refused")),
    ("Contacts", "vob", {"refused": frozenset({VCARD21, VCARD30})}, Choice(SIFC, "refused")),
    ("Contacts", "vob", {"refused": frozenset({VCARD21}), "sends": VCARD30}, Choice(VCARD30, "forced")),
    ("Contacts", "sif", {"refused": frozenset({SIFC}), "receives": (SIFC, VCARD21)}, Choice(VCARD21, "refused")),
    ("Contacts", "vob", {"refused": frozenset({VCARD21, VCARD30, SIFC})}, Choice(None, "refused")),
    # remembered: a device switched away from the family before starts in the type it takes
    ("Contacts", "sif", {"accepts": VCARD21}, Choice(VCARD21, "remembered")),
    ("Contacts", "sif", {"accepts": VCARD21, "receives": (VCARD21, SIFC)}, Choice(VCARD21, "remembered")),
    ("Contacts", "sif", {"accepts": VCARD21, "receives": (SIFC,)}, Choice(SIFC, "forced")),
    ("Contacts", "sif", {"accepts": SIFC}, Choice(SIFC, "forced")),
    ("Contacts", "vob", {"accepts": VCARD30}, Choice(VCARD30, "forced")),
    ("Contacts", "sif", {"accepts": VCARD21, "refused": frozenset({VCARD21})}, Choice(SIFC, "forced")),
]


@pytest.mark.parametrize(("canonical", "fmt", "kwargs", "expected"), CHOICES)
def test_choice_table(canonical: str, fmt: str | None, kwargs: dict[str, object], expected: Choice) -> None:
    assert choose(canonical, fmt, **kwargs) == expected  # type: ignore[arg-type]


def test_families_and_doctests() -> None:
    assert [family(t) for t in (SIFC, "text/x-s4j-sifn", VCARD21, "text/calendar", "text/plain", None)] == [
        "sif", "sif", "vob", "vob", None, None]
    assert doctest.testmod(_format).failed == 0


# -- forcing ------------------------------------------------------------------------------------
def test_without_the_parameter_the_devinf_decides(server: SyncServer, store: SQLiteStore) -> None:
    fill(store, 2)
    device = Device("dev-plain", (VCARD30, SIFC))
    _, answers = run(server, device)
    assert sent_types(answers) == [VCARD30, VCARD30]


def test_format_sif_forces_sif_over_the_devinf_preference(server: SyncServer, store: SQLiteStore,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    fill(store, 2)
    device = Device("dev-sif", (VCARD30, SIFC))
    with caplog.at_level(logging.INFO, "syncml_codec.engine"):
        _, answers = run(server, device, "format=sif")
    assert sent_types(answers) == [SIFC, SIFC]
    assert all(data.lstrip().startswith(b"<?xml") and b"<contact>" in data for data in contacts(device))
    assert not switches(caplog)
    assert remembered(store, "dev-sif") is None  # nothing to remember: no switch, nothing sent by it


def test_format_vob_forces_versit_over_a_sif_preference(server: SyncServer, store: SQLiteStore) -> None:
    fill(store, 2)
    device = Device("dev-vob", (SIFC, VCARD21))
    _, answers = run(server, device, "format=vob")
    assert sent_types(answers) == [VCARD21, VCARD21]
    assert all(b"VERSION:2.1" in data for data in contacts(device))


EVENT = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:e1\r\n"
         b"DTSTART:20260101T100000Z\r\nDTEND:20260101T110000Z\r\nSUMMARY:Meeting\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
TASK = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VTODO\r\nUID:t1\r\nSUMMARY:Report\r\n"
        b"END:VTODO\r\nEND:VCALENDAR\r\n")
OTHERS = [  # (datastore, client URI, stored item and type, format, type sent, what the data holds)
    ("Events", "calendar", EVENT, "text/calendar", "sif", "text/x-s4j-sife", b"<appointment>"),
    ("Events", "calendar", EVENT, "text/calendar", "vob", "text/x-vcalendar", b"VERSION:1.0"),
    ("Tasks", "todo", TASK, "text/calendar", "sif", "text/x-s4j-sift", b"<task>"),
    ("Tasks", "todo", TASK, "text/calendar", "vob", "text/x-vcalendar", b"BEGIN:VTODO"),
    ("Notes", "memo", b"milk and eggs", "text/plain", "sif", "text/x-s4j-sifn", b"<note>"),
    ("Notes", "memo", b"milk and eggs", "text/plain", "vob", "text/x-vnote", b"BEGIN:VNOTE"),
]


@pytest.mark.parametrize(("canonical", "remote", "data", "stored", "fmt", "sent", "marker"), OTHERS)
def test_events_tasks_and_notes_are_forced_too(server: SyncServer, store: SQLiteStore, canonical: str, remote: str,
                                                data: bytes, stored: str, fmt: str, sent: str,
                                                marker: bytes) -> None:
    store.add_item("test", canonical, data, stored)
    device = Device(f"dev-{remote}-{fmt}", (stored,), devinf_datastores=False, remote=remote)
    _, answers = run(server, device, f"format={fmt}")
    assert sent_types(answers) == [sent]
    (got,) = device.datastores[f"./{remote}"].items.values()
    assert marker in got


def test_the_http_query_forces_it_too_and_wins_over_the_locuri(server: SyncServer, store: SQLiteStore) -> None:
    fill(store, 1)
    device = Device("dev-query", (VCARD30, SIFC, VCARD21))
    _, answers = run(server, device, "format=vob", query="format=sif")
    assert sent_types(answers) == [SIFC]


def test_funambol_separators_reach_the_format(server: SyncServer, store: SQLiteStore) -> None:
    fill(store, 1)
    device = Device("dev-hash", (VCARD30, SIFC))
    _, answers = run(server, device, "par=1,#format=sif")
    assert sent_types(answers) == [SIFC]


# -- the automatic switch -------------------------------------------------------------------------
def test_a_devinf_without_sif_switches_and_its_devinf_remembers_it(server: SyncServer, store: SQLiteStore,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    fill(store, 2)
    device = Device("dev-devinf", (VCARD21,))
    with caplog.at_level(logging.INFO, "syncml_codec.engine"):
        _, answers = run(server, device, "format=sif")
    assert sent_types(answers) == [VCARD21, VCARD21]
    (line,) = switches(caplog)
    assert '"dev-devinf"' in line and "format=sif" in line and "DevInf lists no type" in line
    assert remembered(store, "dev-devinf") is None  # the DevInf is what the store keeps of it

    store.add_item("test", "Contacts", vcard(10), VCARD30)
    _, answers = run(server, device, "format=sif", transform=no_put)  # no DevInf sent: the stored one decides
    assert sent_types(answers) == [VCARD21]
    device.receives = (VCARD21, SIFC)  # a new version of the client takes SIF
    store.add_item("test", "Contacts", vcard(11), VCARD30)
    _, answers = run(server, device, "format=sif")
    assert sent_types(answers) == [SIFC]


def test_a_415_switches_and_the_next_session_delivers_in_the_new_type(server: SyncServer, store: SQLiteStore,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    fill(store, 3)
    device = Device("dev-415", devinf_datastores=False)  # its DevInf does not tell what it takes
    with caplog.at_level(logging.INFO, "syncml_codec.engine"):
        session, answers = run(server, device, "format=sif", takes=(VCARD21, VCARD30))
    assert sent_types(answers) == [SIFC] * 3  # one message: all refused before the client answered
    assert session.reports["./contacts"].mode == 201  # (a first sync: slow)
    assert contacts(device) == []
    (line,) = switches(caplog)
    assert "format=sif switched to \"text/x-vcard\"" in line and "refused \"text/x-s4j-sifc\" (415)" in line
    fmt = remembered(store, "dev-415")
    assert fmt is not None and fmt.accepts == VCARD21

    caplog.clear()
    with caplog.at_level(logging.INFO, "syncml_codec.engine"):
        _, answers = run(server, device, "format=sif", takes=(VCARD21, VCARD30))
    assert sent_types(answers) == [VCARD21] * 3  # no SIF tried again: the switch was remembered
    assert len(contacts(device)) == 3 and all(b"VERSION:2.1" in d for d in contacts(device))
    assert "earlier session" in switches(caplog)[0]


def test_a_415_while_package_4_goes_on_sends_the_refused_items_again(server: SyncServer,
                                                                     store: SQLiteStore) -> None:
    fill(store, 8)
    device = Device("dev-415-long", devinf_datastores=False)
    _, answers = run(server, device, "format=sif", takes=(VCARD21,), max_msg_size=3000)
    types = sent_types(answers)
    assert types[0] == SIFC and types[-1] == VCARD21 and types.count(VCARD21) == 8
    assert len(contacts(device)) == 8 and all(b"VERSION:2.1" in d for d in contacts(device))


def test_a_refused_replace_goes_again_in_the_new_type(server: SyncServer, store: SQLiteStore) -> None:
    fill(store, 2)
    device = Device("dev-replace", devinf_datastores=False)
    run(server, device)
    assert len(contacts(device)) == 2
    guid = next(i.guid for i in store.items("test", "Contacts") if b"Doe1" in i.data)
    store.replace_item("test", "Contacts", guid, vcard(1, note="changed on the server"), VCARD30)

    _, answers = run(server, device, "format=sif", takes=(VCARD21, VCARD30))
    assert sent_types(answers) == [SIFC]  # the Replace, refused
    assert not any(b"changed on the server" in d for d in contacts(device))
    _, answers = run(server, device, "format=sif", takes=(VCARD21, VCARD30))
    assert sent_types(answers) == [VCARD21]
    assert len(contacts(device)) == 2 and any(b"changed on the server" in d for d in contacts(device))


def test_the_switch_survives_workers_taking_turns(tmp_path: Path) -> None:
    """Each message on the other worker: the session's state (forced type,
    refused types, the changes queued again) goes through the store."""
    path = tmp_path / "s.db"
    SQLiteStore(path).add_user("test", "secret")
    clock, other = Clock(), counter_random()
    workers = [SyncServer(SQLiteStore(path), clock=clock, random_source=random, base_url="http://h/sync")
               for random in (counter_random(), lambda n: bytes(b ^ 0x5A for b in other(n)))]
    fill(workers[0].store, 8)  # type: ignore[arg-type]
    device = Device("dev-workers", devinf_datastores=False)
    _, answers = run(workers, device, "format=sif", takes=(VCARD21,), max_msg_size=3000)
    types = sent_types(answers)
    assert types[0] == SIFC and types.count(VCARD21) == 8 and len(answers) > 3
    assert len(contacts(device)) == 8 and all(b"VERSION:2.1" in d for d in contacts(device))


def test_a_client_refusing_every_type_gets_items_as_stored(server: SyncServer, store: SQLiteStore,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    fill(store, 4)
    device = Device("dev-none", devinf_datastores=False)
    with caplog.at_level(logging.INFO, "syncml_codec.engine"):
        _, answers = run(server, device, "format=vob", takes=("application/x-nothing",), max_msg_size=2000)
    types = sent_types(answers)
    assert set(types) <= {VCARD21, VCARD30, SIFC}  # the stored type is vCard 3.0: tried as a Versit type
    assert len(types) < 20  # bounded: each type is refused once, then the items stay pending
    assert any("takes no other type" in r.getMessage() for r in caplog.records)


# -- format=get -----------------------------------------------------------------------------------
def test_format_get_asks_for_the_devinf_again_and_uses_it(server: SyncServer, store: SQLiteStore) -> None:
    fill(store, 1)
    device = Device("dev-get", (VCARD30,))
    _, answers = run(server, device)  # its DevInf is stored
    assert sent_types(answers) == [VCARD30]

    store.add_item("test", "Contacts", vcard(10), VCARD30)
    device.receives = (SIFC, VCARD30)  # a new version of the client: prefers SIF now
    _, answers = run(server, device, transform=no_put)  # no DevInf sent, none asked: the stored one
    assert not asked_devinf(answers) and sent_types(answers) == [VCARD30]

    store.add_item("test", "Contacts", vcard(11), VCARD30)
    _, answers = run(server, device, "format=get", transform=no_put)
    assert asked_devinf(answers)  # package 2 asks for it, its Results come with package 3
    assert sent_types(answers) == [SIFC]
    found = store.find_device("test", "dev-get")
    assert found is not None and found.devinf is not None
    assert DevInf.from_bytes(found.devinf).datastore("./contacts").rx_pref[0].ct_type == SIFC  # type: ignore[union-attr]


def test_format_get_with_a_devinf_put_asks_nothing_more(server: SyncServer, store: SQLiteStore) -> None:
    fill(store, 1)
    _, answers = run(server, Device("dev-get-put", (VCARD21,)), "format=get")
    assert not asked_devinf(answers) and sent_types(answers) == [VCARD21]


def test_a_forced_format_is_checked_against_a_devinf_that_comes_late(server: SyncServer,
                                                                     store: SQLiteStore) -> None:
    """The DevInf comes as Results of our Get (package 3), after the Alert chose SIF."""
    fill(store, 1)
    _, answers = run(server, Device("dev-late", (VCARD21,)), "format=sif", transform=no_put)
    assert asked_devinf(answers) and sent_types(answers) == [VCARD21]


def test_the_remembered_switch_shows_in_device_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from syncml_codec.cli._main import main

    db = tmp_path / "s.db"
    store = SQLiteStore(db)
    try:
        store.add_user("test", "secret")
        fill(store, 1)
        server = SyncServer(store, clock=Clock(), random_source=counter_random(), base_url="http://h/sync")
        run(server, Device("dev-show", devinf_datastores=False), "format=sif", takes=(VCARD21,))
    finally:
        store.close()
    assert main(["device", "show", "test", "dev-show", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "  Contacts: anchors client " in out and out.rstrip().count("; takes text/x-vcard") == 1
    assert "; sends" not in out.split("synced:")[1]  # it sent nothing: no type of its own yet
    assert main(["device", "show", "test", "dev-show", "--db", str(db), "--json"]) == 0
    (state,) = json.loads(capsys.readouterr().out)["datastores"]
    assert state["format"]["accepts"] == VCARD21 and state["format"]["content_type"] == ""
