"""Real DevInf: SyncEvolution's client and server, libwbxml's 1.1 samples.
Everything parses completely and round-trips losslessly."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncml_codec import Document
from syncml_codec.devinf import CTCap, DevInf, devinf_documents, find_devinf

from ..conftest import corpus_path
from .samples import FIRST_REQUESTS, LIBWBXML_FILES, SERVER_RESULTS, SESSION_DIRS, combo, devinfs, load, rel

# per content type of SyncEvolution's CTCap: version, properties, parameters,
# values (of properties and parameters together)
SYNCEVOLUTION_CTCAPS = {
    "text/x-vcard": ("2.1", 71, 6, 23),
    "text/vcard": ("3.0", 72, 6, 23),
    "text/calendar": ("2.0", 41, 19, 38),
    "text/x-vcalendar": ("1.0", 31, 3, 15),
}


def counts(ctcap: CTCap) -> tuple[str | None, int, int, int]:
    params = [q for p in ctcap.properties for q in p.params]
    values = sum(len(p.values) for p in ctcap.properties) + sum(len(q.values) for q in params)
    return ctcap.ver_ct, len(ctcap.properties), len(params), values


def test_corpus_is_there():
    if not FIRST_REQUESTS:
        pytest.skip("corpus not found (expected ../shared/corpus beside the checkout)")
    assert len(FIRST_REQUESTS) == 42  # 14 WBXML, 14 XML, 14 renderings of the WBXML
    assert len(SERVER_RESULTS) == 26
    assert len(LIBWBXML_FILES) == 9


def assert_lossless(doc: Document, encodings: tuple[str, ...] = ("wbxml", "xml")) -> list[DevInf]:
    """Every DevInf in ``doc`` gives back its tree, and survives its bytes."""
    out = []
    for _, nested in devinf_documents(doc):
        devinf = DevInf.from_document(nested)
        assert devinf.to_element() == nested.root
        assert devinf.to_document() == nested
        for encoding in encodings:
            back = DevInf.from_bytes(devinf.to_bytes(encoding))
            assert back == devinf
            assert back.to_element() == nested.root
        out.append(devinf)
    return out


@pytest.mark.parametrize("path", FIRST_REQUESTS, ids=rel)
def test_syncevolution_client_devinf(path: Path):
    found = find_devinf(load(path))
    assert [f.where for f in found] == ["Put (CmdID 1)"]
    devinf = found[0].devinf
    assert devinf.ver_dtd == "1.2"
    assert (devinf.man, devinf.mod, devinf.oem) == ("Patrick Ohly", "SyncEvolution", "Synthesis AG")
    assert (devinf.fwv, devinf.swv, devinf.hwv, devinf.dev_typ) == ("2.0.0", "3.4.0.47", "unknown", "workstation")
    assert devinf.dev_id == "se-client-" + path.name.split(".")[0]
    assert devinf.utc and devinf.support_large_objs and devinf.support_number_of_changes
    assert not devinf.support_hierarchical_sync and not devinf.ctcaps and not devinf.exts
    entry = combo(path)
    [ds] = devinf.datastores
    assert ds.source_ref == "./" + entry["store"]
    assert ds.display_name == entry["store"]
    assert ds.max_guid_size == 64
    assert ds.sync_types == (1, 2, 3, 4, 5, 6, 7, 390001)
    fmt = entry["format"]
    if fmt == "text/plain":
        assert [str(c) for c in ds.receives] == ["text/plain 1.0", "text/plain 1.1"]
        assert [str(c) for c in ds.transmits] == ["text/plain 1.0", "text/plain 1.1"]
        assert ds.ctcaps == ()
    else:
        version = SYNCEVOLUTION_CTCAPS[fmt][0]
        assert [str(c) for c in ds.rx_pref + ds.tx_pref] == [f"{fmt} {version}"] * 2
        assert ds.rx == ds.tx == ()
        [ctcap] = ds.ctcaps
        assert ctcap.ct_type == fmt
        assert counts(ctcap) == SYNCEVOLUTION_CTCAPS[fmt]
    assert_lossless(load(path))


def test_syncevolution_vcard_ctcap_values():
    [devinf] = devinfs(corpus_path("syncevolution", "first-request", "wbxml-addressbook-vcard21-md5.wbxml"))
    [ctcap] = devinf.datastores[0].ctcaps
    tel = ctcap.property("tel")
    assert tel is not None and tel.values == () and len(tel.params) == 1
    assert tel.params[0].name == "TYPE"
    assert tel.params[0].values[:4] == ("HOME", "WORK", "VOICE", "CELL")
    assert len(tel.params[0].values) == 12
    version = ctcap.property("VERSION")
    assert version is not None and version.values == ("2.1",) and version.max_occur == 1
    photo = ctcap.property("PHOTO")
    assert photo is not None and [p.name for p in photo.params] == ["TYPE", "VALUE"]
    assert ctcap.properties[-1].name == "X-*"
    assert ctcap.property("X-WHATEVER") is ctcap.properties[-1]


def test_syncevolution_calendar_ctcap_values():
    [devinf] = devinfs(corpus_path("syncevolution", "first-request", "xml-calendar-ical20-md5.xml"))
    [ctcap] = devinf.datastores[0].ctcaps
    begin = ctcap.property("BEGIN")
    assert begin is not None
    assert begin.values == ("VCALENDAR", "VTIMEZONE", "STANDARD", "DAYLIGHT", "VTODO", "VALARM", "VEVENT",
                            "VALARM", "VJOURNAL")  # VALARM twice, as sent
    attendee = ctcap.property("ATTENDEE")
    assert attendee is not None
    assert [p.name for p in attendee.params] == ["CN", "PARTSTAT", "ROLE", "RSVP", "LANGUAGE", "CUTYPE"]
    partstat = attendee.param("partstat")
    assert partstat is not None and "TENTATIVE" in partstat.values
    trigger = ctcap.property("TRIGGER")
    assert trigger is not None and [(p.name, p.values) for p in trigger.params] == [
        ("VALUE", ()), ("RELATED", ("START", "END"))]


def test_syncevolution_keeps_its_own_order():
    """SyncEvolution writes SupportNumberOfChanges before SupportLargeObjs
    and ValEnum before MaxOccur; both come back that way."""
    path = corpus_path("syncevolution", "first-request", "wbxml-addressbook-vcard30-md5.wbxml")
    [(_, nested)] = devinf_documents(load(path))
    devinf = DevInf.from_document(nested)
    tags = [el.tag for el in devinf.to_element().elements()]
    assert tags.index("SupportNumberOfChanges") < tags.index("SupportLargeObjs")
    version = devinf.datastores[0].ctcaps[0].property("VERSION")
    assert version is not None
    assert [el.tag for el in version.to_element().elements()] == ["PropName", "ValEnum", "MaxOccur"]
    # a DevInf made in code writes the DTD order
    fresh = DevInf(dev_id="x", utc=True, support_large_objs=True, support_number_of_changes=True)
    tags = [el.tag for el in fresh.to_element().elements()]
    assert tags.index("SupportLargeObjs") < tags.index("SupportNumberOfChanges")


@pytest.mark.parametrize("path", SERVER_RESULTS, ids=rel)
def test_syncevolution_server_devinf(path: Path):
    found = find_devinf(load(path))
    assert [f.where for f in found] == ["Results (CmdID 4)"]
    devinf = found[0].devinf
    assert devinf.dev_id == "http://127.0.0.1:8999/syncevolution"
    assert [ds.source_ref for ds in devinf.datastores] == ["./addressbook", "./calendar", "./memo", "./todo"]
    addressbook, calendar, memo, todo = devinf.datastores
    assert [str(c) for c in addressbook.receives] == ["text/vcard 3.0", "text/x-vcard 2.1"]
    assert [str(c) for c in addressbook.transmits] == ["text/vcard 3.0", "text/x-vcard 2.1"]
    assert [str(c) for c in calendar.receives] == ["text/calendar 2.0", "text/x-vcalendar 1.0"]
    assert [str(c) for c in todo.transmits] == ["text/calendar 2.0", "text/x-vcalendar 1.0"]
    assert [str(c) for c in memo.receives] == ["text/plain 1.0", "text/plain 1.1"]
    assert [(c.ct_type, counts(c)) for c in addressbook.ctcaps] == [
        ("text/vcard", SYNCEVOLUTION_CTCAPS["text/vcard"]), ("text/x-vcard", SYNCEVOLUTION_CTCAPS["text/x-vcard"])]
    assert [(c.ct_type, counts(c)) for c in calendar.ctcaps] == [
        ("text/calendar", SYNCEVOLUTION_CTCAPS["text/calendar"]),
        ("text/x-vcalendar", SYNCEVOLUTION_CTCAPS["text/x-vcalendar"])]
    assert todo.ctcaps == calendar.ctcaps and memo.ctcaps == ()
    assert all(ds.sync_types == (1, 2, 3, 4, 5, 6, 7, 390001) for ds in devinf.datastores)
    assert_lossless(load(path))


@pytest.mark.parametrize("session", SESSION_DIRS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_session_devinf_round_trips(session: Path):
    """The client sends its DevInf in every session; the server answers with its own."""
    found = []
    for path in sorted(session.glob("001-*")):
        if path.suffix in (".wbxml", ".xml"):
            found += assert_lossless(load(path), encodings=("wbxml",))
    assert len(found) >= 2


def test_libwbxml_003_put_devinf_11_flat():
    path = corpus_path("libwbxml", "syncml", "syncml-003.xml")
    [found] = find_devinf(load(path))
    devinf = found.devinf
    assert found.where == "Put (CmdID 2)"
    assert devinf.ver_dtd == "1.1"  # no VerDTD: the document type's, not written back
    assert devinf.to_element().find("VerDTD") is None
    [ds] = devinf.datastores
    assert ds.rx_pref[0].ct_type == "text/x-vcard "  # as sent, blank and all
    assert str(ds.rx_pref[0]) == "text/x-vcard 2.1"
    assert ds.sync_types == ()  # the sample puts SyncCap at the DevInf level: kept there
    assert [el.tag for el in devinf.to_element().elements()][-2:] == ["CTCap", "SyncCap"]
    [ctcap] = devinf.ctcaps
    assert (ctcap.ct_type, ctcap.ver_ct) == ("text/x-vcard", None)
    assert ctcap.property_names() == ("BEGIN", "END", "VERSION", "N", "TEL")
    tel = ctcap.property("TEL")
    assert tel is not None and [p.name for p in tel.params] == ["VOICE", "CELL"]
    assert_lossless(load(path))


def test_libwbxml_004_results_devinf_two_types_in_one_flat_ctcap():
    path = corpus_path("libwbxml", "syncml", "syncml-004.xml")
    [found] = find_devinf(load(path))
    assert found.where == "Results (CmdID 4)"
    devinf = found.devinf
    assert [(c.ct_type, len(c.properties)) for c in devinf.ctcaps] == [("text/x-vcard", 5), ("text/vcard", 5)]
    assert len(devinf.to_element().findall("CTCap")) == 1  # both types in one element, as read
    tel = devinf.ctcaps[1].property("TEL")
    assert tel is not None and [p.name for p in tel.params] == ["VOICE", "FAX", "CELL"]
    ds = devinf.datastores[0]
    assert [str(c) for c in ds.receives] == ["text/x-vcard 2.1", "text/vcard 3.0"]
    assert_lossless(load(path))


def test_libwbxml_011_standalone_devinf_11():
    path = corpus_path("libwbxml", "syncml", "syncml-011.xml")
    doc = load(path)
    [found] = find_devinf(doc)
    assert found.where == ""
    devinf = DevInf.from_bytes(path.read_bytes())
    assert devinf == found.devinf
    assert devinf.ver_dtd == "1.1" and devinf.utc and devinf.support_large_objs
    [ds] = devinf.datastores
    assert ds.dsmem is not None and (ds.dsmem.max_mem, ds.dsmem.max_id, ds.dsmem.shared_mem) == (32650, 250, False)
    assert ds.sync_types == (1, 7)
    assert [(e.xnam, e.xvals) for e in devinf.exts] == [("srtmsg", ("Hello World",)), ("endmsg", ("Goodbye",))]
    assert [c.ct_type for c in devinf.ctcaps] == ["text/x-vcard", "text/vcard"]
    assert devinf.to_document() == doc
    assert_lossless(doc)
    assert DevInf.from_bytes(devinf.to_bytes("xml", pretty=True)) == devinf


@pytest.mark.parametrize("path", LIBWBXML_FILES, ids=rel)
def test_libwbxml_samples_round_trip(path: Path):
    assert len(assert_lossless(load(path))) == 1


def test_standalone_wbxml_is_byte_identical_to_xml2wbxml():
    """libwbxml's encoding of 011 (no string table, WBXML 1.3) is what we write."""
    data = corpus_path("libwbxml", "gen", "wbxml", "syncml", "syncml-011.wbxml").read_bytes()
    assert DevInf.from_bytes(data).to_bytes("wbxml") == data
