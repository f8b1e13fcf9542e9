"""Flat (1.0/1.1) <-> nested (1.2) CTCaps, and DevInf version conversion."""

from __future__ import annotations

from dataclasses import replace

import pytest

from syncml_codec import parse_xml
from syncml_codec.devinf import (
    ContentType,
    CTCap,
    DataStore,
    DevInf,
    Property,
    PropParam,
    find_devinf,
    infer_version,
    to_flat,
    to_nested,
)

from ..conftest import corpus_path
from .samples import LIBWBXML, devinfs


def content(ctcap: CTCap) -> tuple[object, ...]:
    """What both styles carry: type, properties, parameters, values, data
    types, display names, property sizes."""
    return (ctcap.ct_type.strip().lower(), tuple(
        (p.name, p.values, p.data_type, p.max_size, p.display_name,
         tuple((q.name, q.values, q.data_type, q.display_name) for q in p.params))
        for p in ctcap.properties))


def through_bytes(devinf: DevInf, encoding: str) -> DevInf:
    back = DevInf.from_bytes(devinf.to_bytes(encoding))
    assert back == devinf  # a converted DevInf reads back as it was made
    return back


@pytest.mark.parametrize("name", LIBWBXML)
@pytest.mark.parametrize("encoding", ["wbxml", "xml"])
def test_flat_to_nested_to_flat_keeps_everything(name: str, encoding: str):
    path = corpus_path("libwbxml", "syncml", f"{name}.xml")
    [original] = [f.devinf for f in find_devinf(parse_xml(path.read_bytes()))]
    assert original.version == "1.1" and original.ctcaps
    nested = through_bytes(original.converted("1.2"), encoding)
    assert nested.ver_dtd == "1.2" and nested.ctcaps == ()
    doc = nested.to_document()
    assert doc.language.key == "devinf12"
    for ds in nested.datastores:
        for ctcap in ds.ctcaps:
            assert ctcap.ver_ct == infer_version(ctcap.ct_type, ds)  # every sample type has one version
            assert ctcap.to_element().find("Property") is not None
    flat = through_bytes(nested.converted("1.1"), encoding)
    assert flat.to_document().language.key == "devinf11"
    assert flat.ctcaps == original.ctcaps  # every property, parameter and value
    assert [content(c) for c in flat.ctcaps] == [content(c) for c in original.ctcaps]
    assert flat.datastores == original.datastores


def test_011_in_12_style():
    devinf = DevInf.from_bytes(corpus_path("libwbxml", "syncml", "syncml-011.xml").read_bytes())
    nested = devinf.converted("1.2")
    [ds] = nested.datastores
    assert [(c.ct_type, c.ver_ct) for c in ds.ctcaps] == [("text/x-vcard", "2.1"), ("text/vcard", "3.0")]
    tags = [el.tag for el in ds.to_element().elements()]
    assert tags == ["SourceRef", "DisplayName", "MaxGUIDSize", "Rx-Pref", "Tx-Pref", "Tx", "CTCap", "CTCap",
                    "DSMem", "SyncCap"]
    assert devinf.to_bytes(version="1.2") == nested.to_bytes()
    assert devinf.converted("1.1") is devinf


def test_nested_to_flat_to_nested_on_syncevolutions_server():
    path = corpus_path("syncevolution", "sessions", "xml-addressbook-vcard30-md5", "1-a-first-sync",
                       "001-response.xml")
    [original] = devinfs(path)
    flat = through_bytes(original.converted("1.1"), "wbxml")
    # the calendar and todo datastores declare the same CTCaps: collected once
    assert [(c.ct_type, c.ver_ct) for c in flat.ctcaps] == [
        ("text/vcard", None), ("text/x-vcard", None), ("text/calendar", None), ("text/x-vcalendar", None)]
    assert all(ds.ctcaps == () for ds in flat.datastores)
    assert flat.to_element().find("CTCap") is not None
    assert all(p.max_occur is None for c in flat.ctcaps for p in c.properties)  # 1.1 has no MaxOccur
    nested = through_bytes(flat.converted("1.2"), "xml")
    for before, after in zip(original.datastores, nested.datastores, strict=True):
        assert [(c.ct_type, c.ver_ct) for c in after.ctcaps] == [(c.ct_type, c.ver_ct) for c in before.ctcaps]
        assert [content(c) for c in after.ctcaps] == [content(c) for c in before.ctcaps]


def test_version_inference():
    ds = DataStore("./notes", rx_pref=(ContentType("text/plain", "1.0"),), rx=(ContentType("TEXT/PLAIN ", "1.1"),),
                   tx_pref=(ContentType("text/x-vnote", "1.1"),), tx=(ContentType("text/x-vnote", "1.1"),))
    assert infer_version("text/x-vnote", ds) == "1.1"
    assert infer_version("text/plain", ds) is None  # two versions: cannot tell
    assert infer_version("text/html", ds) is None
    devinf = DevInf(dev_id="d", ver_dtd="1.1", datastores=(ds,), ctcaps=(
        CTCap("text/plain", properties=(Property("BODY", max_size=4000),)),
        CTCap("text/x-vnote", properties=(Property("BODY"),)),
        CTCap("text/html", properties=(Property("HTML"),)),  # no datastore names it: goes to each
    ))
    [converted] = devinf.converted("1.2").datastores
    assert [(c.ct_type, c.ver_ct) for c in converted.ctcaps] == [
        ("text/plain", ""), ("text/x-vnote", "1.1"), ("text/html", "")]
    ctcap = converted.ctcaps[0].to_element()
    assert ctcap.find("VerCT") is not None and ctcap.find("VerCT").text == ""  # type: ignore[union-attr]


def test_what_a_style_cannot_carry_is_left_out():
    nested = CTCap("text/vcard", "3.0", field_level=True, properties=(
        Property("N", max_occur=1, no_truncate=True, max_size=50, params=(PropParam("X", max_size=9),)),))
    flat = to_flat(nested)
    assert flat == CTCap("text/vcard", properties=(Property("N", max_size=50, params=(PropParam("X", max_size=9),)),))
    assert [el.tag for el in flat.to_element(flat=True).elements()] == ["CTType", "PropName", "Size", "ParamName",
                                                                         "Size"]
    back = to_nested(flat, "3.0")
    assert back == CTCap("text/vcard", "3.0", properties=(Property("N", max_size=50, params=(PropParam("X"),)),))
    assert to_nested(replace(flat, ver_ct="2.9")).ver_ct == "2.9"
    assert to_nested(flat).ver_ct == ""
