"""A real client, SyncEvolution 2.0, against ``syncml serve``.

* every data type (contacts vCard 3.0 and 2.1, events iCalendar 2.0 and
  vCalendar 1.0, tasks, notes) x {WBXML, XML} x {md5, basic}: device A adds
  items and syncs, device B syncs and receives the same items, and a second
  sync of either changes nothing;
* every data type: edits and deletes made on A reach B, then B's reach A
  (encodings and auth types alternate over the types);
* on contacts (vCard 3.0, WBXML, md5): repeated slow syncs create no
  duplicates, and refresh-from-server, refresh-from-client,
  one-way-from-client and one-way-from-server do what OMA DS says;
* devices in different formats (vCard 2.1 and 3.0, vCalendar 1.0 and
  iCalendar 2.0) share items, each getting its own format, edits included;
* a wrong password gets 401 and changes nothing.

The sync modes (``CORE``: two-way adds, edits and deletes on vCard 3.0,
slow, both refreshes, both one-ways) run on SQLite and on PostgreSQL
(conftest.py), the rest on SQLite.

Items are compared by their properties (see ``items.fingerprint``), not
bytes: the client rewrites what it receives.
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import SE, Server
from .items import KINDS, Kind, edited, fingerprint, fingerprints, picked

ENCODINGS = {"wbxml": True, "xml": False}
#: the core matrix: also run on PostgreSQL (conftest.py); of the parametrized tests, their first case
CORE = pytest.mark.core_matrix
MATRIX = [pytest.param(kind, enc, auth, "sqlite", id=f"{kind}-{enc}-{auth}")
          for kind in KINDS for enc in ENCODINGS for auth in ("md5", "basic")]
MATRIX.append(pytest.param("vcard30", "wbxml", "md5", "postgresql", id="vcard30-wbxml-md5-postgresql"))
# edits and deletes: every type once, encodings and auth types spread over them
EDIT_COMBOS = [("vcard30", "wbxml", "md5"), ("vcard21", "xml", "basic"), ("ical20", "xml", "md5"),
               ("vcal10", "wbxml", "basic"), ("tasks", "wbxml", "md5"), ("notes", "xml", "md5")]


def configure(se: SE, kind: Kind, *devices: str, enc: str = "wbxml", auth: str = "md5", **opts: Any) -> None:
    for device in devices:
        se.configure(device, wbxml=ENCODINGS[enc], auth=auth, stores=[kind.store], vcard=kind.vcard,
                     ical=kind.ical, **opts)


def contents(se: SE, device: str, kind: Kind) -> list[str]:
    return [i["content"] for i in se.list_items(device, kind.store)]


def assert_holds(se: SE, device: str, kind: Kind, expected: list[bytes]) -> None:
    got = contents(se, device, kind)
    assert fingerprints(kind, got) == fingerprints(kind, expected), (
        f"{device} holds {len(got)} items, expected {len(expected)}: see se-client list {device} {kind.store}")


def counts(result: dict[str, Any], kind: Kind, side: str) -> tuple[int, int, int]:
    table = result["stores"][kind.store][side]
    return table["added"], table["updated"], table["deleted"]


def luid_of(se: SE, device: str, kind: Kind, item: bytes) -> str:
    want = fingerprint(kind, item)
    found = [i["luid"] for i in se.list_items(device, kind.store) if fingerprint(kind, i["content"]) == want]
    assert len(found) == 1, f"{device}: {len(found)} items look like {want}"
    return found[0]


def server_count(server: Server, kind: Kind) -> int:
    return server.count(kind.store)


# ---------------------------------------------------------------- the matrix
@pytest.mark.parametrize(("name", "enc", "auth", "server_db"), MATRIX, indirect=["server_db"])
def test_a_adds_b_receives(se: SE, syncml_server: Server, name: str, enc: str, auth: str) -> None:
    kind = KINDS[name]
    configure(se, kind, "a", "b", enc=enc, auth=auth)
    items = picked(kind)
    se.add("a", kind.store, items)

    first = se.sync("a")
    assert first["stores"][kind.store]["mode"] == "slow"
    assert counts(first, kind, "server") == (len(items), 0, 0)
    assert server_count(syncml_server, kind) == len(items)

    received = se.sync("b")
    assert counts(received, kind, "client") == (len(items), 0, 0)
    assert_holds(se, "b", kind, items)

    # the next sessions are two-way and quiet; md5 works with the nonce kept
    # from the last session (basic clients switch to md5 after our Chal)
    for device in ("a", "b"):
        again = se.sync(device)
        assert again["stores"][kind.store]["mode"] == "two-way"
        assert counts(again, kind, "client") == (0, 0, 0)
        assert counts(again, kind, "server") == (0, 0, 0)
    assert_holds(se, "a", kind, items)
    assert server_count(syncml_server, kind) == len(items)


@pytest.mark.parametrize(("name", "enc", "auth", "server_db"),
                         [pytest.param(*c, "sqlite", id="-".join(c)) for c in EDIT_COMBOS]
                         + [pytest.param(*EDIT_COMBOS[0], "postgresql", id="-".join((*EDIT_COMBOS[0], "postgresql")))],
                         indirect=["server_db"])
def test_edits_and_deletes_reach_the_other_side(se: SE, syncml_server: Server, name: str, enc: str,
                                                auth: str) -> None:
    kind = KINDS[name]
    configure(se, kind, "a", "b", enc=enc, auth=auth)
    items = picked(kind)
    assert len(items) >= 2
    luids = se.add("a", kind.store, items)
    se.sync("a")
    se.sync("b")
    assert_holds(se, "b", kind, items)

    # A: edit the first, delete the second
    first = edited(kind, items[0], "edited-on-a")
    se.update("a", kind.store, luids[0], first)
    se.delete("a", kind.store, [luids[1]])
    sent = se.sync("a")
    assert counts(sent, kind, "server") == (0, 1, 1)
    got = se.sync("b")
    assert counts(got, kind, "client") == (0, 1, 1)
    expected = [first, *items[2:]]
    assert_holds(se, "b", kind, expected)

    # B: edit that one again, delete the rest
    second = edited(kind, first, "edited-on-b")
    se.update("b", kind.store, luid_of(se, "b", kind, first), second)
    rest = [luid_of(se, "b", kind, item) for item in items[2:]]
    if rest:
        se.delete("b", kind.store, rest)
    sent = se.sync("b")
    assert counts(sent, kind, "server") == (0, 1, len(rest))
    got = se.sync("a")
    assert counts(got, kind, "client") == (0, 1, len(rest))
    assert_holds(se, "a", kind, [second])
    assert server_count(syncml_server, kind) == 1


# ------------------------------------------------- devices in different formats
def _only(fp: dict[str, tuple[str, ...]], keys: tuple[str, ...] | None) -> dict[str, tuple[str, ...]]:
    return fp if keys is None else {k: v for k, v in fp.items() if k in keys}


# vCalendar 1.0 and iCalendar 2.0 write times differently (TZ/DAYLIGHT or a
# VTIMEZONE, inclusive or exclusive all-day ends): the texts are compared there
CROSS = [pytest.param("vcard21", "vcard30", "VERSION:3.0", "VERSION:2.1", None, id="vcard21-to-vcard30"),
         pytest.param("vcal10", "ical20", "VERSION:2.0", "VERSION:1.0", ("SUMMARY", "DESCRIPTION", "LOCATION"),
                      id="vcal10-to-ical20")]


@pytest.mark.parametrize(("a_name", "b_name", "b_version", "a_version", "keys"), CROSS)
def test_each_device_gets_its_own_format(se: SE, syncml_server: Server, a_name: str, b_name: str,
                                         b_version: str, a_version: str, keys: tuple[str, ...] | None) -> None:
    ka, kb = KINDS[a_name], KINDS[b_name]
    configure(se, ka, "a")
    configure(se, kb, "b")
    items = picked(ka)
    se.add("a", ka.store, items)
    se.sync("a")
    se.sync("b")
    got = contents(se, "b", kb)
    assert all(b_version in text for text in got), "B did not get its own format"
    assert sorted((_only(fingerprint(kb, c), keys) for c in got), key=repr) == sorted(
        (_only(fingerprint(ka, c), keys) for c in items), key=repr)

    # an edit on B reaches A in A's format
    target = got[0]
    changed = edited(kb, target.encode(), "edited-on-b")
    se.update("b", kb.store, luid_of(se, "b", kb, target.encode()), changed)
    assert counts(se.sync("b"), kb, "server") == (0, 1, 0)
    assert counts(se.sync("a"), ka, "client") == (0, 1, 0)
    back = contents(se, "a", ka)
    assert all(a_version in text for text in back)
    assert any("edited-on-b" in text for text in back)
    assert len(back) == len(items)


# ---------------------------------------------------------------- sync modes
CONTACTS = KINDS["vcard30"]


def two_devices_in_sync(se: SE, count: int) -> list[bytes]:
    """A and B (vCard 3.0, WBXML, md5) both holding the first ``count``
    corpus contacts through the server."""
    configure(se, CONTACTS, "a", "b")
    items = picked(CONTACTS, count)
    se.add("a", CONTACTS.store, items)
    se.sync("a")
    se.sync("b")
    assert_holds(se, "b", CONTACTS, items)
    return items


def other_contacts(count: int) -> list[bytes]:
    from .items import corpus_items

    return [c for c in corpus_items(CONTACTS) if c not in picked(CONTACTS)][:count]


@CORE
def test_repeated_slow_syncs_create_no_duplicates(se: SE, syncml_server: Server) -> None:
    items = two_devices_in_sync(se, 3)
    for device in ("a", "b", "a"):
        result = se.sync(device, "slow")
        assert result["stores"][CONTACTS.store]["mode"] == "slow"
        assert counts(result, CONTACTS, "client")[0] == 0  # nothing added on the client
        # (the client's REMOTE column counts every item it sent in the slow
        # sync as added, matched or not: the server's own count tells)
        assert server_count(syncml_server, CONTACTS) == 3
    assert_holds(se, "a", CONTACTS, items)
    assert_holds(se, "b", CONTACTS, items)


@CORE
def test_refresh_from_server_replaces_the_client_data(se: SE, syncml_server: Server) -> None:
    items = two_devices_in_sync(se, 2)
    own = other_contacts(1)
    se.add("b", CONTACTS.store, own)
    se.sync("b", "refresh-from-server")
    assert_holds(se, "b", CONTACTS, items)  # B's own item is gone, not uploaded
    assert server_count(syncml_server, CONTACTS) == 2
    quiet = se.sync("a")
    assert counts(quiet, CONTACTS, "client") == (0, 0, 0)


@CORE
def test_refresh_from_client_replaces_the_server_data(se: SE, syncml_server: Server) -> None:
    items = two_devices_in_sync(se, 2)
    luids = [luid_of(se, "b", CONTACTS, i) for i in items]
    fresh = other_contacts(2)
    se.add("b", CONTACTS.store, fresh)  # add before delete: the file backend reuses free LUIDs
    se.delete("b", CONTACTS.store, [luids[0]])
    kept = [items[1], *fresh]
    result = se.sync("b", "refresh-from-client")
    assert result["stores"][CONTACTS.store]["mode"] == "refresh-from-local"
    assert server_count(syncml_server, CONTACTS) == len(kept)
    se.sync("a")
    assert_holds(se, "a", CONTACTS, kept)


@CORE
def test_one_way_from_client_sends_without_receiving(se: SE, syncml_server: Server) -> None:
    items = two_devices_in_sync(se, 2)
    from_a, from_b = other_contacts(2)
    se.add("a", CONTACTS.store, [from_a])
    se.sync("a")
    se.add("b", CONTACTS.store, [from_b])
    result = se.sync("b", "one-way-from-client")
    assert result["stores"][CONTACTS.store]["mode"] == "one-way-from-local"
    assert counts(result, CONTACTS, "server") == (1, 0, 0)
    assert counts(result, CONTACTS, "client") == (0, 0, 0)
    assert_holds(se, "b", CONTACTS, [*items, from_b])  # A's new item not received
    assert server_count(syncml_server, CONTACTS) == 4
    se.sync("a")
    assert_holds(se, "a", CONTACTS, [*items, from_a, from_b])


@CORE
def test_one_way_from_server_receives_without_sending(se: SE, syncml_server: Server) -> None:
    items = two_devices_in_sync(se, 2)
    from_a, from_b = other_contacts(2)
    se.add("a", CONTACTS.store, [from_a])
    se.sync("a")
    se.add("b", CONTACTS.store, [from_b])
    result = se.sync("b", "one-way-from-server")
    assert result["stores"][CONTACTS.store]["mode"] == "one-way-from-remote"
    assert counts(result, CONTACTS, "client") == (1, 0, 0)
    assert counts(result, CONTACTS, "server") == (0, 0, 0)
    assert_holds(se, "b", CONTACTS, [*items, from_a, from_b])  # B's item stays local
    assert server_count(syncml_server, CONTACTS) == 3
    se.sync("a")
    assert_holds(se, "a", CONTACTS, [*items, from_a])


# ---------------------------------------------------------------- auth
@pytest.mark.parametrize("auth", ["md5", "basic"])
def test_wrong_password_gets_401_and_changes_nothing(se: SE, syncml_server: Server, auth: str) -> None:
    configure(se, CONTACTS, "a", auth=auth, password="wrong")
    items = picked(CONTACTS, 2)
    se.add("a", CONTACTS.store, items)
    result = se.sync("a", check=False, timeout=60)
    assert not result["ok"]
    status = result["stores"].get(CONTACTS.store, {}).get("status")
    assert status == 401 or "401" in str(result.get("error")), result
    assert server_count(syncml_server, CONTACTS) == 0
    assert_holds(se, "a", CONTACTS, items)
    # the right password then works, with the same device
    se.run("set", "a", "password=secret")
    se.sync("a")
    assert server_count(syncml_server, CONTACTS) == 2
