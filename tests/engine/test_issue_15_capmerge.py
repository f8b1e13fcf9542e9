"""Issue 15, part "capmerge": what a device can hold (its CTCap, else the quirk
database) is never deleted by its Replace, a device holding one NOTE gets one,
and the ``merge`` conflict policy combines two devices' edits field by field
(207, the merged item sent back), every conflict logged with both versions.
Our client session against our server, over SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import pytest

from syncml_codec.devinf import CTCap, DevInf, Property, PropParam
from syncml_codec.engine import ClientStore, SyncServer
from syncml_codec.engine import _peer as peer_module
from syncml_codec.engine._capmerge import ItemCaps, caps_from_devinf, device_caps, kept_from_stored, merged_fields
from syncml_codec.engine.quirks import RULES, Rule, quirks_for

from .conftest import Clock, counter_random
from .helpers import ab, sync

PHOTO = "PHOTO;ENCODING=b;TYPE=JPEG:" + "QUJD" * 20
CONTACT = ("BEGIN:VCARD\r\nVERSION:3.0\r\nN:Doe;Jane;;;\r\nFN:Jane Doe\r\nTEL;TYPE=WORK:+1-555-0100\r\n"
           "EMAIL;TYPE=INTERNET:jane@example.org\r\nNOTE:first note\r\nNOTE:second note\r\n"
           f"{PHOTO}\r\nEND:VCARD\r\n").encode()


def _server(store: Any, policy: str = "server-wins") -> SyncServer:
    return SyncServer(store, clock=Clock(), random_source=counter_random(), base_url="http://127.0.0.1:8080/sync",
                      conflict_policy=policy)


def _phone(name: str, version: str, ctcaps: tuple[CTCap, ...] = ()) -> ClientStore:
    store = ClientStore(f"test-{name}")
    ctype = "text/vcard" if version == "3.0" else "text/x-vcard"
    ds = store.add_datastore("./addressbook", "addressbook", ctype, version)
    ds.ctcaps = ctcaps
    return store


def _ctcap(ctype: str, version: str, *props: Property) -> CTCap:
    return CTCap(ctype, version, properties=(Property("BEGIN"), Property("END"), Property("VERSION"), *props))


#: a vCard 2.1 phone that holds names, phones and mail: no PHOTO, no NOTE
PLAIN_21 = _ctcap("text/x-vcard", "2.1", Property("N"), Property("FN"), Property("TEL"), Property("EMAIL"))


def _only(store: ClientStore) -> tuple[str, bytes]:
    (luid, data), = ab(store).items()
    return luid, data


def _lines(data: bytes, name: str) -> list[str]:
    text = data.decode().replace("\r\n ", "").replace("\r\n", "\n")
    return [line for line in text.split("\n") if line.split(";", 1)[0].split(":", 1)[0].upper() == name]


def _holds(phone: ClientStore, keep: tuple[str, ...]) -> None:
    """The phone keeps of its item only what it can (what a real one does with what it cannot store)."""
    ds = phone.datastores["./addressbook"]
    for luid, data in ds.items.items():
        lines = data.decode().replace("\r\n ", "").split("\r\n")
        ds.items[luid] = "\r\n".join(ln for ln in lines if ln.split(";", 1)[0].split(":", 1)[0].upper()
                                     in keep or not ln).encode()


def test_a_vcard21_device_without_photo_and_note_keeps_them_for_the_others(both_stores: Any) -> None:
    server = _server(both_stores)
    full, old = _phone("full", "3.0"), _phone("old", "2.1", (PLAIN_21,))
    full.datastores["./addressbook"].add(CONTACT)
    assert sync(server, full).ok
    assert sync(server, old).ok
    _holds(old, ("BEGIN", "END", "VERSION", "N", "FN", "TEL", "EMAIL"))
    luid, data = _only(old)
    assert not _lines(data, "PHOTO") and not _lines(data, "NOTE")
    old.datastores["./addressbook"].update(luid, data.replace(b"+1-555-0100", b"+1-555-0199"))
    s = sync(server, old)
    assert s.ok and s.reports["./addressbook"].statuses == [200]
    (stored,) = both_stores.items("test", "Contacts")
    assert b"+1-555-0199" in stored.data and len(_lines(stored.data, "NOTE")) == 2 and _lines(stored.data, "PHOTO")
    s = sync(server, full)
    assert s.ok and s.reports["./addressbook"].received == {"Replace": 1}
    _, mine = _only(full)
    assert b"+1-555-0199" in mine and len(_lines(mine, "NOTE")) == 2 and _lines(mine, "PHOTO")
    # a slow sync of what the old phone holds finds the stored contact: no duplicate on either side
    s = sync(server, old, 201)
    assert s.ok and s.reports["./addressbook"].received == {} and len(both_stores.items("test", "Contacts")) == 1
    assert both_stores.conflicts("test") == []


def test_a_device_that_removes_a_field_it_holds_removes_it(both_stores: Any) -> None:
    server = _server(both_stores)
    full, old = _phone("full", "3.0"), _phone("old", "2.1", (PLAIN_21,))
    full.datastores["./addressbook"].add(CONTACT)
    assert sync(server, full).ok and sync(server, old).ok
    _holds(old, ("BEGIN", "END", "VERSION", "N", "FN", "TEL", "EMAIL"))
    luid, data = _only(old)
    old.datastores["./addressbook"].update(luid, b"\r\n".join(ln for ln in data.split(b"\r\n")
                                                              if not ln.startswith(b"EMAIL")))
    assert sync(server, old).ok
    (stored,) = both_stores.items("test", "Contacts")
    assert not _lines(stored.data, "EMAIL") and _lines(stored.data, "PHOTO")


def test_a_device_holding_one_note_gets_one_and_the_others_keep_two(both_stores: Any) -> None:
    server = _server(both_stores)
    one_note = _ctcap("text/vcard", "3.0", Property("N"), Property("FN"), Property("TEL"), Property("EMAIL"),
                      Property("PHOTO"), Property("NOTE", max_occur=1))
    full, small = _phone("full", "3.0"), _phone("small", "3.0", (one_note,))
    full.datastores["./addressbook"].add(CONTACT)
    assert sync(server, full).ok and sync(server, small).ok
    luid, data = _only(small)
    assert _lines(data, "NOTE") == ["NOTE:first note"]
    small.datastores["./addressbook"].update(luid, data.replace(b"first note", b"first note edited"))
    assert sync(server, small).ok
    (stored,) = both_stores.items("test", "Contacts")
    assert _lines(stored.data, "NOTE") == ["NOTE:first note edited", "NOTE:second note"]
    assert sync(server, full).ok
    assert _lines(_only(full)[1], "NOTE") == ["NOTE:first note edited", "NOTE:second note"]
    assert sync(server, small, 201).ok and len(both_stores.items("test", "Contacts")) == 1


def test_a_parameter_the_device_cannot_carry_stays() -> None:
    caps = ItemCaps((("N", None, ()), ("TEL", None, ("TYPE=WORK", "TYPE=HOME"))), "test")
    stored = b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Doe;J;;;\r\nTEL;TYPE=WORK,VOICE:1\r\nEND:VCARD\r\n"
    new = b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Doe;John;;;\r\nTEL;TYPE=WORK:1\r\nEND:VCARD\r\n"
    kept = kept_from_stored(stored, new, "text/vcard", caps)
    assert kept is not None and b"TEL;TYPE=WORK;TYPE=VOICE:1" in kept[0] and b"N:Doe;John" in kept[0]
    assert kept[1] == ["TEL;TYPE=VOICE"]
    assert kept_from_stored(stored, stored, "text/vcard", ItemCaps((("N", None, ()), ("TEL", None, ())), "t")) is None


def _two(both_stores: Any, policy: str) -> tuple[SyncServer, ClientStore, ClientStore]:
    server = _server(both_stores, policy)
    a, b = _phone("a", "3.0"), _phone("b", "3.0")
    a.datastores["./addressbook"].add(CONTACT)
    assert sync(server, a).ok and sync(server, b).ok
    luid, data = _only(a)
    a.datastores["./addressbook"].update(luid, data.replace(b"+1-555-0100", b"+1-555-0111"))
    assert sync(server, a).ok
    luid, data = _only(b)
    b.datastores["./addressbook"].update(luid, data.replace(b"jane@example.org", b"jane@example.com"))
    return server, a, b


def test_merge_keeps_the_edits_of_two_devices(both_stores: Any) -> None:
    server, a, b = _two(both_stores, "merge")
    s = sync(server, b)
    assert s.ok and s.reports["./addressbook"].statuses == [207]
    assert s.reports["./addressbook"].received == {"Replace": 1}
    (stored,) = both_stores.items("test", "Contacts")
    assert b"+1-555-0111" in stored.data and b"jane@example.com" in stored.data
    assert b"+1-555-0100" not in stored.data and b"jane@example.org" not in stored.data
    (conflict,) = both_stores.conflicts("test")
    assert "merged field by field" in conflict.reason and "fallback" not in conflict.reason
    assert "from the device: EMAIL" in conflict.reason and "from the server: TEL" in conflict.reason
    assert b"jane@example.com" in conflict.data and b"+1-555-0111" in conflict.other_data
    assert sync(server, a).ok and sync(server, b).ok  # the next sessions bring both to the same content
    assert _lines(_only(a)[1], "TEL") == _lines(_only(b)[1], "TEL") == ["TEL;TYPE=WORK:+1-555-0111"]
    assert _lines(_only(a)[1], "EMAIL") == _lines(_only(b)[1], "EMAIL")
    assert sync(server, b).reports["./addressbook"].received == {}  # the merged item was confirmed


def test_merge_without_a_kept_base_is_a_logged_fallback(both_stores: Any) -> None:
    server, _, b = _two(both_stores, "merge")
    (stored,) = both_stores.items("test", "Contacts")
    with both_stores.transaction():  # as if the revision the device holds were no longer kept
        both_stores._exec("DELETE FROM item_revisions")
    s = sync(server, b)
    assert s.ok and s.reports["./addressbook"].statuses == [207]
    (conflict,) = both_stores.conflicts("test")
    assert "without a base (fallback)" in conflict.reason and conflict.other_data == stored.data


def test_every_policy_logs_both_versions(both_stores: Any) -> None:
    server, _, b = _two(both_stores, "server-wins")
    (stored,) = both_stores.items("test", "Contacts")
    assert sync(server, b).reports["./addressbook"].statuses == [419]
    (conflict,) = both_stores.conflicts("test")
    assert b"jane@example.com" in conflict.data and conflict.other_data == stored.data
    assert conflict.other_type == "text/vcard"


def test_three_way_merge_rules() -> None:
    base = b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:D;J;;;\r\nTEL:1\r\nEMAIL:a@x\r\nNOTE:n\r\nEND:VCARD\r\n"
    server = base.replace(b"TEL:1", b"TEL:2").replace(b"NOTE:n", b"NOTE:s")
    client = base.replace(b"EMAIL:a@x", b"EMAIL:b@x").replace(b"NOTE:n", b"NOTE:c")
    result = merged_fields(base, server, client, "text/vcard")
    assert result is not None and result.based
    assert b"TEL:2" in result.data and b"EMAIL:b@x" in result.data and b"NOTE:s" in result.data
    assert (result.client, result.server, result.both) == (("EMAIL",), ("TEL",), ("NOTE",))
    assert merged_fields(None, b"not a vcard", client, "text/vcard") is None


def test_capabilities_from_a_flat_devinf_11() -> None:
    devinf = DevInf.from_bytes(
        b"<DevInf xmlns='syncml:devinf'><VerDTD>1.1</VerDTD><Man>Nokia</Man><Mod>6600</Mod><DevID>IMEI:1</DevID>"
        b"<DevTyp>phone</DevTyp><DataStore><SourceRef>./C\\Contacts.cdb</SourceRef>"
        b"<Rx-Pref><CTType>text/x-vcard</CTType><VerCT>2.1</VerCT></Rx-Pref>"
        b"<Tx-Pref><CTType>text/x-vcard</CTType><VerCT>2.1</VerCT></Tx-Pref>"
        b"<SyncCap><SyncType>1</SyncType></SyncCap></DataStore>"
        b"<CTCap><CTType>text/x-vcard</CTType><PropName>BEGIN</PropName><ValEnum>VCARD</ValEnum>"
        b"<PropName>N</PropName><PropName>TEL</PropName><ParamName>HOME</ParamName><ParamName>CELL</ParamName>"
        b"<PropName>NOTE</PropName></CTCap></DevInf>")
    caps = caps_from_devinf(devinf, "./C\\Contacts.cdb", "text/x-vcard")
    assert caps is not None and caps.represents("note") and not caps.represents("PHOTO")
    assert caps.param_ok("TEL", None, "CELL") and not caps.param_ok("TEL", "TYPE", "FAX")
    assert caps_from_devinf(devinf, "./C\\Contacts.cdb", "text/calendar") is None  # no CTCap: nothing restricted


def test_the_quirk_database_tells_for_a_device_without_ctcap(both_stores: Any,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    rows = (("text/x-vcard", ("BEGIN", "END", "VERSION", "N", "FN", "TEL", "EMAIL")),)
    by_id = Rule("test-no-devinf", (), source="test", device_id_prefixes=("test-old",), capabilities=rows)
    found = device_caps(None, "", "text/x-vcard", quirks_for(None, "test-old", (*RULES, by_id)))
    assert found is not None and found.source == "quirk rule test-no-devinf" and not found.represents("NOTE")
    rule = Rule("test-old-phone", (), source="test", mod="old phone", capabilities=rows)
    monkeypatch.setattr(peer_module, "quirks_for", functools.partial(quirks_for, rules=(*RULES, rule)))
    server = _server(both_stores)
    full, old = _phone("full", "3.0"), _phone("old", "2.1")
    its_own = old.devinf
    old.devinf = lambda: dataclasses.replace(its_own(), mod="Old Phone")  # type: ignore[method-assign]
    full.datastores["./addressbook"].add(CONTACT)
    assert sync(server, full).ok and sync(server, old).ok
    _holds(old, ("BEGIN", "END", "VERSION", "N", "FN", "TEL", "EMAIL"))
    luid, data = _only(old)
    old.datastores["./addressbook"].update(luid, data.replace(b"Jane", b"Janet"))
    assert sync(server, old).ok
    (stored,) = both_stores.items("test", "Contacts")
    assert b"Janet" in stored.data and _lines(stored.data, "PHOTO") and len(_lines(stored.data, "NOTE")) == 2


def test_a_ctcap_the_quirk_database_distrusts_restricts_nothing() -> None:
    ctcap = _ctcap("text/vcard", "3.0", Property("N"))
    devinf = DevInf(dev_id="x", man="NextHaus", mod="SyncJe Outlook Edition", dev_typ="workstation", ver_dtd="1.2",
                    datastores=(_phone("x", "3.0", (ctcap,)).devinf().datastores[0],))
    quirks = quirks_for(devinf, "x")
    assert quirks.why("ignore-ctcap") == "nexthaus-syncje-outlook"
    assert device_caps(devinf, "./addressbook", "text/vcard", quirks) is None
    plain = DevInf(dev_id="x", man="Other", mod="Phone", dev_typ="phone", ver_dtd="1.2",
                   datastores=devinf.datastores)
    assert device_caps(plain, "./addressbook", "text/vcard", quirks_for(plain, "x")) is not None


def test_a_hostile_ctcap_is_bounded() -> None:
    props = tuple(Property(f"X-P{i}", params=(PropParam("TYPE", values=("A",)),)) for i in range(2000))
    devinf = DevInf(dev_id="x", dev_typ="phone", ver_dtd="1.2",
                    datastores=(_phone("x", "3.0", (CTCap("text/vcard", "3.0", properties=props),)).devinf()
                                .datastores[0],))
    caps = caps_from_devinf(devinf, "./addressbook", "text/vcard")
    assert caps is not None and len(caps.properties) == 512


def test_an_event_keeps_what_the_device_cannot_hold_but_never_a_second_time_span() -> None:
    caps = ItemCaps(tuple((n, None, ()) for n in ("SUMMARY", "DTSTART", "DTEND")), "test")
    stored = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:1\r\nSUMMARY:talk\r\nLOCATION:room 1\r\n"
              b"DTSTART:20240101T100000Z\r\nDURATION:PT1H\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    new = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:1\r\nSUMMARY:talk, moved\r\n"
           b"DTSTART:20240101T110000Z\r\nDTEND:20240101T120000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    kept = kept_from_stored(stored, new, "text/calendar", caps)
    assert kept is not None and kept[1] == ["LOCATION"]
    assert b"LOCATION:room 1" in kept[0] and b"DURATION" not in kept[0] and b"DTEND:20240101T120000Z" in kept[0]
