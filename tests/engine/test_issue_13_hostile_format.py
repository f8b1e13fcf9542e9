"""Issue 13, red team: ``format=`` with a hostile DevInf (thousands of
types, huge and odd type names, a DevInf naming the datastore twice or
listing nothing we send) and a client refusing every type with 415."""

from __future__ import annotations

import pytest

from syncml_codec.engine import SyncServer
from syncml_codec.store import SQLiteStore

from .conftest import Clock, counter_random
from .test_issue_13_format import SIFC, VCARD21, VCARD30, Device, contacts, fill, run, sent_types


@pytest.fixture
def server(store: SQLiteStore) -> SyncServer:
    return SyncServer(store, clock=Clock(), random_source=counter_random(), base_url="http://127.0.0.1:8080/sync")


JUNK = tuple(f"application/x-junk-{i}" for i in range(3000))


@pytest.mark.parametrize(("receives", "fmt", "expected"), [
    ((*JUNK, SIFC), "sif", {SIFC}),                        # the one type we send, at the end of 3000
    ((*JUNK, VCARD21), "sif", {VCARD21}),                  # no SIF: switched to what it lists
    (("X" * 100_000, VCARD30), "vob", {VCARD30}),          # a huge type name
    ((SIFC.upper() + " ", VCARD21), "sif", {SIFC}),        # case and blanks
    (("text/x-s4j-sifc;charset=utf-8", VCARD30), "sif", {VCARD30}),  # a parameter: not the type
    (JUNK, "vob", None),                                   # nothing we send: as without format=
    ((*JUNK, VCARD21), "get", {VCARD21}),
])
def test_a_hostile_devinf_gets_a_type_it_lists_or_the_default(server: SyncServer, store: SQLiteStore,
                                                              receives: tuple[str, ...], fmt: str,
                                                              expected: set[str] | None) -> None:
    fill(store, 3)
    device = Device("hostile", receives)
    session, answers = run(server, device, f"format={fmt}")
    assert session.ok and len(contacts(device)) == 3
    types = set(sent_types(answers))
    if expected is not None:
        assert types == expected
    else:
        assert len(types) == 1 and types <= {VCARD21, VCARD30, SIFC}


def test_a_client_refusing_every_type_ends_the_switching(server: SyncServer, store: SQLiteStore) -> None:
    fill(store, 3)
    device = Device("refuses", (SIFC, VCARD21, VCARD30))
    session, answers = run(server, device, "format=sif", takes=("nothing/at-all",))
    assert session.ok
    assert len(sent_types(answers)) <= 3 * 4  # each item tried in a few types at most, then left pending
    session, answers = run(server, device, "format=sif", takes=("nothing/at-all",))  # and again next time
    assert session.ok and len(sent_types(answers)) <= 3 * 4
