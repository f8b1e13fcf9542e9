"""Issue 10, item 6: the device-quirk database.  One test (or more) per
rule, through the public engine API: a real capture from
``../shared/corpus/devices/`` where one exists (the Sony Ericsson K800i's
package 1 gives its DevInf, the Ericsson SyncML 1.0 example, the Funambol
Windows Mobile session replayed message by message), otherwise a phone
built from the device's DevInf (Man/Mod) syncing with our client session.
"""

from __future__ import annotations

import base64
import dataclasses
from typing import Any, cast

import pytest

from syncml_codec.codec.xml import parse_xml
from syncml_codec.devinf import ContentType, DataStore, DevInf, devinf_documents
from syncml_codec.engine import ClientStore, SyncServer
from syncml_codec.engine.quirks import BEHAVIOURS, NO_QUIRKS, RULES, Quirks, quirks_for
from syncml_codec.formats import parse
from syncml_codec.model import Add, Message, Replace, Status, Sync
from syncml_codec.store import SQLiteStore

from ..conftest import corpus_path
from .helpers import prime, sync

# -- devices ---------------------------------------------------------------


@dataclasses.dataclass
class Phone(ClientStore):
    """A client store that presents a real device's DevInf (Man/Mod and datastores)."""

    info: DevInf | None = None

    def devinf(self) -> DevInf:
        if self.info is None:
            return super().devinf()
        return dataclasses.replace(self.info, dev_id=self.device_id)


def phone(name: str, man: str, mod: str | None, stores: dict[str, tuple[str, str, str]]) -> Phone:
    """A phone with ``stores``: local URI -> (server URI, content type, version)."""
    datastores = tuple(DataStore(uri, max_guid_size=32, rx_pref=(ContentType(ct, ver),),
                                 tx_pref=(ContentType(ct, ver),), sync_types=(1, 2, 3, 4, 5, 6, 7))
                       for uri, (_, ct, ver) in stores.items())
    p = Phone(f"IMEI:{name}", info=DevInf(dev_id=name, dev_typ="phone", ver_dtd="1.2", man=man, mod=mod,
                                           datastores=datastores))
    for uri, (remote, ct, ver) in stores.items():
        p.add_datastore(uri, remote, ct, ver)
    return p


def k800i_devinf() -> DevInf:
    path = corpus_path("devices", "smn+txsyncml", "txsyncml", "tests", "fixtures", "sony-ericsson-k800i-package1.xml")
    msg = Message.from_bytes(path.read_bytes(), "application/vnd.syncml+xml", lenient=True)
    (found,) = devinf_documents(msg.to_document())
    return DevInf.from_document(found[1])


class Recorder:
    """The server, with every answer it gives kept (as a Message)."""

    def __init__(self, server: SyncServer) -> None:
        self.server = server
        self.base_url = server.base_url
        self.replies: list[Message] = []

    def handle(self, body: bytes, content_type: str, session_id: str | None, remote: str | None = None) -> Any:
        response = self.server.handle(body, content_type, session_id, remote)
        self.replies.append(Message.from_bytes(response.body, response.content_type))
        return response


def run(server: SyncServer, device: ClientStore, encoding: str = "wbxml") -> Recorder:
    recorder = Recorder(server)
    prime(server, device)
    session = sync(cast(SyncServer, recorder), device, encoding=encoding)
    assert session.ok, session.error
    return recorder


def sent_items(recorder: Recorder) -> list[tuple[str, str | None, bytes]]:
    """(type, format, data) of every Add/Replace the server sent."""
    out = []
    for reply in recorder.replies:
        for cmd in reply.commands:
            if not isinstance(cmd, Sync):
                continue
            for change in cmd.commands:
                if isinstance(change, (Add, Replace)):
                    for item in change.items:
                        meta = item.meta or change.meta
                        data = item.data.encode() if isinstance(item.data, str) else item.data
                        assert isinstance(data, bytes)
                        fmt = (change.meta.format if change.meta else None) or (item.meta.format if item.meta else None)
                        out.append((meta.type if meta else "", fmt, data))
    return out


def items(store: SQLiteStore, datastore: str) -> list[bytes]:
    return [i.data for i in store.items("test", datastore)]


def vcal(*lines: str, version: str = "1.0", kind: str = "VEVENT") -> bytes:
    return ("\r\n".join(["BEGIN:VCALENDAR", f"VERSION:{version}", f"BEGIN:{kind}", *lines, f"END:{kind}",
                         "END:VCALENDAR"]) + "\r\n").encode()


P900_CAL = {"Calendar": ("calendar", "text/x-vcalendar", "1.0")}

# -- the rules as data -----------------------------------------------------


def test_every_rule_names_known_behaviours_and_a_source():
    assert {b for rule in RULES for b in rule.behaviours} == set(BEHAVIOURS)
    for rule in RULES:
        assert rule.source and rule.trigger
        # (a rule may match on the model alone where its source does: SyncEvolution's SyncJe rule, issue 15)
        assert rule.man or rule.mod or rule.device_id_prefixes


@pytest.mark.parametrize(("man", "mod", "expected"), [
    ("Sony Ericsson", "P900", {"latin1-payload": "sony-ericsson", "alarms-absolute-utc": "sony-ericsson",
                               "omit-item-statuses": "sony-ericsson-p800-p900",
                               "all-day-as-midnight-span": "sony-ericsson-p800-p900",
                               "tasks-in-calendar": "sony-ericsson-p800-p900",
                               "categories-x-prefix": "sony-ericsson-p800-p900"}),
    ("SONYERICSSON", "p800", {"latin1-payload", "alarms-absolute-utc", "omit-item-statuses",
                              "all-day-as-midnight-span", "tasks-in-calendar", "categories-x-prefix"}),
    ("NOKIA", "E51", {"alarms-absolute-utc", "email-type-internet", "tasks-in-calendar", "categories-x-prefix"}),
    ("Nokia", "N95", {"alarms-absolute-utc", "email-type-internet", "tasks-in-calendar"}),
    ("Motorola", "A1000", {"tasks-in-calendar"}),
    ("Synthesis AG", "SySync Client PocketPC", {"priority-1-2-3"}),
    ("Synthesis AG", "SySync Client PalmOS", set()),
    ("Patrick Ohly", "SyncEvolution", set()),  # our real client: no quirks
    ("syncml-codec", "syncml-codec client", set()),
    ("Funambol", "Funambol Windows Sync Client", {"sif-b64"}),
])
def test_rules_match_man_and_mod_case_insensitively(man: str, mod: str, expected: Any):
    quirks = quirks_for(DevInf(dev_id="x", man=man, mod=mod), "x")
    if isinstance(expected, dict):
        assert dict(quirks.behaviours) == expected
    else:
        assert set(quirks.behaviours) == expected


def test_device_id_prefixes_count_only_without_devinf():
    assert set(quirks_for(None, "sc-pim-outlook").behaviours) == {"sif-b64"}
    assert set(quirks_for(None, "FOL-abc").behaviours) == {"sif-b64"}
    assert quirks_for(None, "IMEI:123") is NO_QUIRKS
    assert quirks_for(DevInf(dev_id="x", man="Acme"), "sc-pim-x") is NO_QUIRKS


def test_real_k800i_devinf_triggers_the_sony_ericsson_rule_only():
    quirks = quirks_for(k800i_devinf(), "IMEI:355704019189636")
    assert dict(quirks.behaviours) == {"latin1-payload": "sony-ericsson", "alarms-absolute-utc": "sony-ericsson"}


def test_real_ericsson_syncml_10_devinf_triggers_the_sony_ericsson_rule():
    path = corpus_path("devices", "devaspot+syncml", "apps", "simple_sync", "test", "example.xml1")
    (found,) = devinf_documents(parse_xml(path.read_bytes()))
    quirks = quirks_for(DevInf.from_document(found[1]), "520327511080721")
    assert set(quirks.behaviours) == {"latin1-payload", "alarms-absolute-utc"}


def test_tasks_in_calendar_only_when_the_device_has_no_tasks_datastore():
    with_tasks = DevInf(dev_id="x", man="Nokia", mod="E51", datastores=(DataStore("./C\\Calendar"), DataStore("Tasks")))
    assert "tasks-in-calendar" not in quirks_for(with_tasks, "x")
    assert "tasks-in-calendar" in quirks_for(dataclasses.replace(with_tasks, datastores=()), "x")


# -- Sony Ericsson P800/P900/P910 ------------------------------------------


def test_p900_gets_no_status_per_item(server: SyncServer, store: SQLiteStore):
    device = phone("p900", "Sony Ericsson", "P900", P900_CAL)
    for n in range(3):
        device.datastores["Calendar"].add(vcal(f"SUMMARY:meeting {n}", "DTSTART:20240101T100000Z",
                                               "DTEND:20240101T110000Z"))
    recorder = run(server, device)
    statuses = [c for r in recorder.replies for c in r.commands if isinstance(c, Status)]
    assert any(s.cmd == "Sync" and s.data == "200" for s in statuses)
    assert not [s for s in statuses if s.cmd in ("Add", "Replace")]
    assert len(items(store, "Events")) == 3


def test_other_devices_get_a_status_per_item(server: SyncServer, store: SQLiteStore):
    device = phone("k800i", "SonyEricsson", "K800i", P900_CAL)
    device.datastores["Calendar"].add(vcal("SUMMARY:x", "DTSTART:20240101T100000Z", "DTEND:20240101T110000Z"))
    recorder = run(server, device)
    assert [c.data for r in recorder.replies for c in r.commands
            if isinstance(c, Status) and c.cmd in ("Add", "Replace")] == ["201"]


def test_p900_all_day_events_midnight_to_2400_in_and_out(server: SyncServer, store: SQLiteStore):
    device = phone("p900", "Sony Ericsson", "P900", P900_CAL)
    device.datastores["Calendar"].add(vcal("SUMMARY:holiday", "DTSTART:20050505T000000Z", "DTEND:20050505T240000Z"))
    store.add_item("test", "Events", (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:1\r\nSUMMARY:conference\r\n"
        b"DTSTART;VALUE=DATE:20240610\r\nDTEND;VALUE=DATE:20240613\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"),
        "text/calendar")
    run(server, device)
    (stored,) = [d for d in items(store, "Events") if b"holiday" in d]
    assert b"DTSTART;VALUE=DATE:20050505" in stored and b"DTEND;VALUE=DATE:20050506" in stored  # one whole day
    (got,) = [d for d in device.datastores["Calendar"].items.values() if b"conference" in d]
    assert b"DTSTART:20240610T000000\r\n" in got and b"DTEND:20240612T240000\r\n" in got  # three whole days


def test_p900_tasks_go_to_tasks_and_come_back_in_the_calendar(server: SyncServer, store: SQLiteStore):
    device = phone("p900", "Sony Ericsson", "P900", P900_CAL)
    cal = device.datastores["Calendar"]
    todo_luid = cal.add(vcal("SUMMARY:buy milk", "DUE:20240102T100000Z", kind="VTODO"))
    cal.add(vcal("SUMMARY:meeting", "DTSTART:20240101T100000Z", "DTEND:20240101T110000Z"))
    store.add_item("test", "Tasks", vcal("UID:t1", "SUMMARY:file taxes", version="2.0", kind="VTODO"), "text/calendar")
    run(server, device)
    assert [b"buy milk" in d for d in items(store, "Tasks")].count(True) == 1
    assert not any(b"VTODO" in d for d in items(store, "Events"))
    assert any(b"meeting" in d for d in items(store, "Events"))
    assert any(b"file taxes" in d and b"VERSION:1.0" in d for d in cal.items.values())  # in the calendar
    # the device deletes its task: gone from Tasks; a task changed on the server comes back as a Replace
    cal.delete(todo_luid)
    (taxes,) = [i for i in store.items("test", "Tasks") if b"file taxes" in i.data]
    store.replace_item("test", "Tasks", taxes.guid, vcal("UID:t1", "SUMMARY:file taxes today", version="2.0",
                                                          kind="VTODO"), "text/calendar")
    run(server, device)
    assert [i.data for i in store.items("test", "Tasks") if b"buy milk" in i.data] == []
    assert any(b"file taxes today" in d for d in cal.items.values())
    assert len(cal.items) == 2


# -- all Sony Ericsson phones (the real K800i DevInf) ----------------------


def k800i() -> Phone:
    info = k800i_devinf()
    p = Phone("IMEI:355704019189636", info=info)
    p.add_datastore("Contacts", "contacts", "text/x-vcard", "2.1")
    p.add_datastore("Calendar", "calendar", "text/x-vcalendar", "1.0")
    return p


@pytest.mark.parametrize("encoding", ["wbxml", "xml"])
def test_k800i_latin1_in_and_out(server: SyncServer, store: SQLiteStore, encoding: str):
    device = k800i()
    device.datastores["Contacts"].add(b"BEGIN:VCARD\r\nVERSION:2.1\r\nN:M\xfcller;J\xf6rg\r\n"
                                      b"NOTE;ENCODING=QUOTED-PRINTABLE:Gr=FC=DFe\r\nEND:VCARD\r\n")
    store.add_item("test", "Contacts", "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Bj\u00f6rk;Ren\u00e9;;;\r\nFN:Ren\u00e9 "
                   "Bj\u00f6rk\r\nEND:VCARD\r\n".encode(), "text/vcard")
    run(server, device, encoding)
    (stored,) = [d for d in items(store, "Contacts") if b"ller" in d]
    assert "N:Müller;Jörg".encode() in stored and "NOTE:Grüße".encode() in stored
    (got,) = [d for d in device.datastores["Contacts"].items.values() if b"Bj" in d]
    assert b"Bj=F6rk;Ren=E9" in got and b"=C3" not in got and b"UTF-8" not in got
    assert parse(got, "text/x-vcard").convert("text/vcard").serialize() == stored_bjork(store)


def stored_bjork(store: SQLiteStore) -> bytes:
    (data,) = [d for d in items(store, "Contacts") if b"Bj" in d]
    return data


def test_k800i_alarms_go_out_absolute_in_utc(server: SyncServer, store: SQLiteStore):
    device = k800i()
    store.add_item("test", "Events", vcal("UID:a1", "SUMMARY:standup", "DTSTART;TZID=Europe/Berlin:20240701T100000",
                                          "DTEND;TZID=Europe/Berlin:20240701T103000", "BEGIN:VALARM",
                                          "ACTION:DISPLAY", "TRIGGER:-PT15M", "END:VALARM", version="2.0"),
                   "text/calendar")
    run(server, device)
    (got,) = device.datastores["Calendar"].items.values()
    alarm = next(line for line in got.split(b"\r\n") if line.startswith((b"DALARM", b"AALARM")))
    assert alarm.split(b":", 1)[1].split(b";")[0] == b"20240701T074500Z"  # 09:45 CEST


# -- Nokia -----------------------------------------------------------------


NOKIA = {"Contacts": ("contacts", "text/x-vcard", "2.1"), "Calendar": ("calendar", "text/x-vcalendar", "1.0")}


def test_nokia_e_series_categories_lose_x_in_and_get_it_out(server: SyncServer, store: SQLiteStore):
    device = phone("e51", "NOKIA", "E51", NOKIA)
    device.datastores["Calendar"].add(vcal("SUMMARY:trip", "CATEGORIES:X-Business;X-Travel",
                                           "DTSTART:20240101T100000Z", "DTEND:20240101T110000Z"))
    store.add_item("test", "Events", vcal("UID:c1", "SUMMARY:dentist", "CATEGORIES:Personal",
                                          "DTSTART:20240201T100000Z", "DTEND:20240201T110000Z", version="2.0"),
                   "text/calendar")
    run(server, device)
    (stored,) = [d for d in items(store, "Events") if b"trip" in d]
    assert b"X-Business" not in stored and b"Business" in stored and b"Travel" in stored
    (got,) = [d for d in device.datastores["Calendar"].items.values() if b"dentist" in d]
    assert b"CATEGORIES:X-Personal" in got


def test_nokia_n_series_categories_untouched(server: SyncServer, store: SQLiteStore):
    device = phone("n95", "Nokia", "N95", NOKIA)
    device.datastores["Calendar"].add(vcal("SUMMARY:trip", "CATEGORIES:X-Business", "DTSTART:20240101T100000Z",
                                           "DTEND:20240101T110000Z"))
    run(server, device)
    assert any(b"X-Business" in d for d in items(store, "Events"))


def test_nokia_email_gets_type_internet(server: SyncServer, store: SQLiteStore):
    device = phone("e51", "Nokia", "E51", NOKIA)
    store.add_item("test", "Contacts", b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Doe;Jane;;;\r\nFN:Jane Doe\r\n"
                   b"EMAIL;TYPE=WORK:jane@example.com\r\nEND:VCARD\r\n", "text/vcard")
    run(server, device)
    (got,) = device.datastores["Contacts"].items.values()
    email = next(line for line in got.split(b"\r\n") if line.startswith(b"EMAIL"))
    assert b"INTERNET" in email.split(b":")[0] and email.endswith(b":jane@example.com")


def test_nokia_alarms_go_out_in_utc(server: SyncServer, store: SQLiteStore):
    device = phone("e51", "Nokia", "E51", NOKIA)
    store.add_item("test", "Events", vcal("UID:a1", "SUMMARY:call", "DTSTART;TZID=Europe/Helsinki:20240115T120000",
                                          "BEGIN:VALARM", "ACTION:AUDIO", "TRIGGER:-PT30M", "END:VALARM",
                                          version="2.0"), "text/calendar")
    run(server, device)
    (got,) = device.datastores["Calendar"].items.values()
    alarm = next(line for line in got.split(b"\r\n") if line.startswith((b"DALARM", b"AALARM")))
    assert alarm.split(b":", 1)[1].split(b";")[0] == b"20240115T093000Z"  # 11:30 EET


def test_nokia_calendar_carries_tasks(server: SyncServer, store: SQLiteStore):
    device = phone("e51", "Nokia", "E51", {"Calendar": ("calendar", "text/x-vcalendar", "1.0")})
    device.datastores["Calendar"].add(vcal("SUMMARY:call back", kind="VTODO"))
    run(server, device)
    assert any(b"call back" in d for d in items(store, "Tasks"))
    assert not items(store, "Events")


def test_motorola_a1000_calendar_carries_tasks(server: SyncServer, store: SQLiteStore):
    device = phone("a1000", "Motorola", "A1000", {"Calendar": ("calendar", "text/x-vcalendar", "1.0")})
    store.add_item("test", "Tasks", vcal("UID:t", "SUMMARY:renew passport", version="2.0", kind="VTODO"),
                   "text/calendar")
    run(server, device)
    assert any(b"renew passport" in d for d in device.datastores["Calendar"].items.values())


# -- Synthesis client on Windows Mobile ------------------------------------


TASKS = {"Tasks": ("tasks", "text/x-vcalendar", "1.0")}


def test_synthesis_windows_mobile_priorities(server: SyncServer, store: SQLiteStore):
    device = phone("wm", "Synthesis AG", "SySync Client PocketPC", TASKS)
    for level in (1, 2, 3):
        device.datastores["Tasks"].add(vcal(f"SUMMARY:task {level}", f"PRIORITY:{level}", kind="VTODO"))
    store.add_item("test", "Tasks", vcal("UID:s", "SUMMARY:server task", "PRIORITY:7", version="2.0", kind="VTODO"),
                   "text/calendar")
    run(server, device)
    stored = {d.split(b"SUMMARY:")[1].split(b"\r\n")[0]: d for d in items(store, "Tasks")}
    assert b"PRIORITY:1\r\n" in stored[b"task 1"]
    assert b"PRIORITY:5\r\n" in stored[b"task 2"]
    assert b"PRIORITY:9\r\n" in stored[b"task 3"]
    (got,) = [d for d in device.datastores["Tasks"].items.values() if b"server task" in d]
    assert b"PRIORITY:3\r\n" in got


def test_synthesis_palm_priorities_untouched(server: SyncServer, store: SQLiteStore):
    device = phone("palm", "Synthesis AG", "SySync Client PalmOS", TASKS)
    device.datastores["Tasks"].add(vcal("SUMMARY:task", "PRIORITY:2", kind="VTODO"))
    run(server, device)
    assert all(b"PRIORITY:2" in d for d in items(store, "Tasks"))


# -- sync4j / Funambol: the real Windows Mobile client session -------------


FUNAMBOL = ("devices", "pohly+funambol-cpp-client-api", "test", "testcases")
XML = "application/vnd.syncml+xml"


def funambol_server(store: SQLiteStore, server: SyncServer) -> None:
    store.add_user("teo", "teodemo")  # the recorded basic credential
    store.add_item("teo", "Contacts", b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Rossi;Mario;;;\r\nFN:Mario Rossi\r\n"
                   b"EMAIL:mario@example.com\r\nEND:VCARD\r\n", "text/vcard")


def replay(server: SyncServer, *bodies: bytes) -> list[Message]:
    """The recorded messages through the server, following its session id;
    its answers (the raw bytes of the last one in ``replay.last``)."""
    sid = None
    replies = []
    for body in bodies:
        response = server.handle(body, XML, sid)
        assert response.http_status == 200
        sid = response.session_id
        replies.append(Message.from_bytes(response.body, response.content_type))
        replay.last = response.body  # type: ignore[attr-defined]
    return replies


def sif_adds(reply: Message) -> list[tuple[str | None, str | None, bytes]]:
    out = []
    for cmd in reply.commands:
        if isinstance(cmd, Sync):
            for change in cmd.commands:
                if isinstance(change, Add):
                    item = change.items[0]
                    data = item.data.encode() if isinstance(item.data, str) else item.data
                    assert isinstance(data, bytes) and change.meta is not None
                    out.append((change.meta.type, change.meta.format, data))
    return out


def test_funambol_windows_mobile_gets_sif_in_b64(server: SyncServer, store: SQLiteStore):
    funambol_server(store, server)
    init = corpus_path(*FUNAMBOL, "syncML1.xml").read_bytes()
    mods = corpus_path(*FUNAMBOL, "syncML3.xml").read_bytes()
    replies = replay(server, init, mods)
    assert any(b"Vitolo" in i.data for i in store.items("teo", "Contacts"))  # the client's SIF contact, stored
    ((ctype, fmt, data),) = sif_adds(replies[-1])
    assert (ctype, fmt) == ("text/x-s4j-sifc", "b64")
    sif = base64.b64decode(data)
    assert b"<LastName>Rossi</LastName>" in sif and b"mario@example.com" in sif
    assert b"CDATA" not in replay.last  # type: ignore[attr-defined]


def test_funambol_without_devinf_or_items_gets_sif_by_default(server: SyncServer, store: SQLiteStore):
    funambol_server(store, server)
    init = corpus_path(*FUNAMBOL, "syncML1.xml").read_bytes()
    mods = Message.from_bytes(corpus_path(*FUNAMBOL, "syncML3.xml").read_bytes(), XML)
    empty = mods.replace(body=dataclasses.replace(mods.body, commands=tuple(
        dataclasses.replace(c, commands=()) if isinstance(c, Sync) else c for c in mods.body.commands)))
    replies = replay(server, init, empty.to_bytes("xml"))
    ((ctype, fmt, data),) = sif_adds(replies[-1])
    assert (ctype, fmt) == ("text/x-s4j-sifc", "b64")
    assert b"<FirstName>Mario</FirstName>" in base64.b64decode(data)


# -- the transforms on their own: never failing, never lossy ---------------


def quirks(man: str, mod: str) -> Quirks:
    return quirks_for(DevInf(dev_id="x", man=man, mod=mod), "x")


P900 = ("Sony Ericsson", "P900")


@pytest.mark.parametrize("data", [
    vcal("DTSTART:00010101T000000Z", "DTEND:00010101T240000Z"),
    vcal("DTSTART;VALUE=DATE:99991231", "DTEND;VALUE=DATE:99991231", version="2.0"),
    vcal("DTSTART:99991231T235959Z", "BEGIN:VALARM", "TRIGGER:P99999W", "END:VALARM", version="2.0"),
    vcal("DTSTART:2024", "DTEND:x", "AALARM:;;;", "TRIGGER:-P", "CATEGORIES:", "PRIORITY:x"),
    b"BEGIN:VCARD\r\nVERSION:2.1\r\nN;ENCODING=QUOTED-PRINTABLE:=ZZ=\r\nEMAIL\r\n:\r\n\xff\xfe\r\n",
    b"", b"\x00" * 10, b"BEGIN:VEVENT",
])
@pytest.mark.parametrize("device", [P900, ("Nokia", "E51"), ("Synthesis AG", "SySync Client PocketPC")])
def test_transforms_never_fail(data: bytes, device: tuple[str, str]):
    q = quirks(*device)
    assert isinstance(q.to_store(data, "text/x-vcalendar"), bytes)
    assert isinstance(q.to_device(data, "text/x-vcalendar"), bytes)
    assert q.transfer_encoding("text/x-vcalendar", data) in ("", "b64")


def test_latin1_out_is_ascii_and_keeps_what_latin1_lacks():
    q = quirks("SonyEricsson", "K800i")
    card = "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Dvořák;Antonín\r\nNOTE:café\r\nEND:VCARD\r\n".encode()
    out = q.to_device(card, "text/x-vcard")
    assert q.transfer_encoding("text/x-vcard", out) == "" and out.isascii()
    assert b"N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Dvo=C5=99" in out  # no ř in ISO-8859-1: UTF-8, said so
    assert b"NOTE;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:caf=E9" in out
    assert parse(out, "text/x-vcard").convert("text/vcard").serialize() == parse(card, "text/x-vcard").convert(
        "text/vcard").serialize()
    v3 = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:café\r\nEND:VCARD\r\n".encode()
    assert q.to_device(v3, "text/vcard") == v3  # no quoted-printable in 3.0: left in UTF-8


def test_transforms_are_stable_on_a_round_trip():
    for man, mod, data in [
        ("Nokia", "E51", vcal("CATEGORIES:Business,X-Travel", "SUMMARY:x")),
        ("Synthesis AG", "SySync Client PocketPC", vcal("PRIORITY:2", kind="VTODO")),
        (*P900, vcal("DTSTART:20240101T000000Z", "DTEND:20240101T240000Z")),
    ]:
        q = quirks(man, mod)
        once = q.to_store(q.to_device(q.to_store(data, "text/x-vcalendar"), "text/x-vcalendar"),
                          "text/x-vcalendar")
        assert once == q.to_store(data, "text/x-vcalendar")


def test_p900_all_day_labelled_text_calendar_in_icalendar():
    q = quirks(*P900)
    ical = vcal("DTSTART:20240301T000000Z", "DTEND:20240302T240000Z", version="2.0")
    out = q.to_store(ical, "text/calendar")
    assert b"DTSTART;VALUE=DATE:20240301\r\n" in out and b"DTEND;VALUE=DATE:20240303\r\n" in out
    timed = vcal("DTSTART:20240301T000000Z", "DTEND:20240301T120000Z")
    assert q.to_store(timed, "text/x-vcalendar") == timed


def test_funambol_never_gets_cdata():
    """Data XML could carry only as CDATA (not UTF-8) goes base64-encoded
    to these clients; plain text goes as it is."""
    q = quirks_for(None, "fol-abc")
    assert q.transfer_encoding("text/x-vcard", b"BEGIN:VCARD\r\nN:\xff\r\nEND:VCARD\r\n") == "b64"
    assert q.transfer_encoding("text/x-vcard", b"BEGIN:VCARD\r\nN:x\r\nEND:VCARD\r\n") == ""
    assert q.transfer_encoding("text/x-s4j-sifc", b"<contact/>") == "b64"
