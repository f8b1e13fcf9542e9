"""The DevInf classes on hand-made input: building, the layout record that
keeps what a device wrote, changing parsed objects, and errors that name
the element."""

from __future__ import annotations

import pickle
from dataclasses import FrozenInstanceError, replace

import pytest

from syncml_codec import Element, SyncMLError, parse_xml, write_xml
from syncml_codec.devinf import (
    ContentType,
    CTCap,
    DataStore,
    DevInf,
    DSMem,
    Ext,
    FilterCap,
    Property,
    PropParam,
    ctcaps_from_element,
    find_devinf,
)
from syncml_codec.errors import DevInfError

from ..conftest import corpus_path

HEAD = "<DevInf xmlns='syncml:devinf'><VerDTD>1.2</VerDTD><DevID>d</DevID><DevTyp>phone</DevTyp>"


def devinf_xml(body: str, head: str = HEAD) -> bytes:
    return (head + body + "</DevInf>").encode()


def element(xml: str) -> Element:
    """An element tree from an XML fragment (inside a DevInf document)."""
    return parse_xml(devinf_xml(xml, "<DevInf>")).root.children[0]  # type: ignore[return-value]


def full_devinf() -> DevInf:
    """A 1.2 DevInf using every field."""
    vcard = CTCap("text/vcard", "3.0", field_level=True, properties=(
        Property("BEGIN", values=("VCARD",)),
        Property("N", max_occur=1, max_size=60, no_truncate=True, display_name="Name", data_type="chr"),
        Property("TEL", params=(PropParam("TYPE", values=("HOME", "WORK", "CELL"), display_name="Kind",
                                          data_type="chr"),)),
    ))
    store = DataStore(
        "./contacts", display_name="Contacts", max_guid_size=32,
        rx_pref=(ContentType("text/vcard", "3.0"),), rx=(ContentType("text/x-vcard", "2.1"),),
        tx_pref=(ContentType("text/vcard", "3.0"),), tx=(ContentType("text/x-vcard", "2.1"),),
        ctcaps=(vcard,), dsmem=DSMem(shared_mem=True, max_mem=65536, max_id=500),
        support_hierarchical_sync=True, sync_types=(1, 2, 7),
        filter_rx=(ContentType("syncml:filtertype-cgi", "1.0"),),
        filter_caps=(FilterCap("text/vcard", "3.0", keywords=("TEL",), prop_names=("N", "TEL")),),
    )
    return DevInf(dev_id="IMEI:1", dev_typ="phone", man="M", mod="X1", oem="O", fwv="1", swv="2", hwv="3",
                  utc=True, support_large_objs=True, support_number_of_changes=True,
                  support_hierarchical_sync=True, datastores=(store,), exts=(Ext("x-name", ("a", "b")),))


# -- building --------------------------------------------------------------

def test_a_devinf_built_in_code_round_trips_in_both_encodings():
    devinf = full_devinf()
    for encoding in ("wbxml", "xml"):
        back = DevInf.from_bytes(devinf.to_bytes(encoding))
        assert back == devinf
        assert back.to_element() == devinf.to_element()
    assert devinf.to_bytes()[:4] == b"\x03\xa4\x03\x6a"  # WBXML 1.3, public ID 0x1203, UTF-8


def test_built_devinf_is_written_in_dtd_order():
    tags = [el.tag for el in full_devinf().to_element().elements()]
    assert tags == ["VerDTD", "Man", "Mod", "OEM", "FwV", "SwV", "HwV", "DevID", "DevTyp", "UTC",
                    "SupportLargeObjs", "SupportNumberOfChanges", "SupportHierarchicalSync", "DataStore", "Ext"]
    store = full_devinf().datastores[0].to_element()
    assert [el.tag for el in store.elements()] == [
        "SourceRef", "DisplayName", "MaxGUIDSize", "Rx-Pref", "Rx", "Tx-Pref", "Tx", "CTCap", "DSMem",
        "SupportHierarchicalSync", "SyncCap", "Filter-Rx", "FilterCap"]
    prop = full_devinf().datastores[0].ctcaps[0].properties[1].to_element()
    assert [el.tag for el in prop.elements()] == [
        "PropName", "DataType", "MaxOccur", "MaxSize", "NoTruncate", "DisplayName"]


def test_classes_are_frozen_and_hashable():
    devinf = full_devinf()
    with pytest.raises(FrozenInstanceError):
        devinf.man = "other"  # type: ignore[misc]
    assert hash(devinf) == hash(DevInf.from_bytes(devinf.to_bytes()))
    assert len({devinf, DevInf.from_bytes(devinf.to_bytes("xml"))}) == 1


def test_queries_on_the_model():
    devinf = full_devinf()
    store = devinf.datastore("contacts")
    assert store is devinf.datastores[0] and devinf.datastore("./contacts") is store
    assert devinf.datastore("./calendar") is None
    assert store.can_receive("TEXT/VCARD", "3.0") and store.can_transmit("text/x-vcard", "2.1")
    assert not store.can_receive("text/vcard", "2.1")
    ctcap = store.ctcaps[0]
    n = ctcap.property("n")
    assert n is not None and n.max_size == 60
    tel = ctcap.property("TEL")
    assert tel is not None and tel.param("type") is not None and tel.param("VALUE") is None
    assert str(ContentType("text/x-vcard ", " 2.1")) == "text/x-vcard 2.1"
    assert ContentType("text/vcard").matches(ContentType("TEXT/VCARD", "3.0"))
    assert not ContentType("text/x-vcard", "2.1").matches(ContentType("text/vcard", "3.0"))


# -- the layout record -----------------------------------------------------

def test_unknown_elements_and_order_are_kept():
    xml = devinf_xml(
        "<SupportNumberOfChanges/><UTC/><X-Vendor>v</X-Vendor>"
        "<DataStore><SyncCap><SyncType>01</SyncType><SyncType>2</SyncType></SyncCap>"
        "<SourceRef>./a</SourceRef><Rx-Pref><VerCT>1.0</VerCT><CTType>text/plain</CTType></Rx-Pref>"
        "<Unknown><Deep>x</Deep></Unknown></DataStore>")
    tree = parse_xml(xml).root
    devinf = DevInf.from_element(tree)
    assert devinf.utc and devinf.support_number_of_changes
    assert devinf.datastores[0].sync_types == (1, 2)
    assert devinf.to_element() == tree
    assert DevInf.from_bytes(devinf.to_bytes("xml")).to_element() == tree
    assert parse_xml(devinf.to_bytes("xml")).root == tree
    # what was read is not kept alive by the objects, only what the layout needs
    store = devinf.datastores[0]
    assert not hasattr(store, "_src")
    assert store._layout is not None and [e.tag for e in store._layout.extras] == ["Unknown"]
    assert store.rx_pref[0]._layout is not None and store.rx_pref[0]._layout.extras == ()
    assert devinf.to_element() is not devinf.to_element()


def test_a_changed_field_keeps_the_rest_of_the_layout():
    tree = parse_xml(devinf_xml(
        "<UTC/><Man>old</Man><DataStore><SourceRef>./a</SourceRef>"
        "<SyncCap><SyncType>01</SyncType><SyncType>02</SyncType></SyncCap><X/></DataStore>")).root
    devinf = DevInf.from_element(tree)
    store = devinf.datastores[0]
    changed = replace(devinf, man="new", oem="added",
                      datastores=(replace(store, sync_types=(1, 2, 7), display_name="A"),))
    out = changed.to_element()
    # Man stays where it was (after UTC), OEM goes to its DTD place (after Man)
    assert [el.tag for el in out.elements()] == ["VerDTD", "DevID", "DevTyp", "UTC", "Man", "OEM", "DataStore"]
    assert out.find("Man") == Element("Man", ["new"])
    ds = out.find("DataStore")
    assert ds is not None
    assert [el.tag for el in ds.elements()] == ["SourceRef", "DisplayName", "SyncCap", "X"]
    sync_cap = ds.find("SyncCap")
    assert sync_cap is not None
    assert [el.text for el in sync_cap.elements()] == ["01", "02", "7"]  # unchanged numbers keep their spelling
    # removing values removes their elements
    fewer = replace(devinf, utc=False, datastores=(replace(store, sync_types=(2,)),))
    out = fewer.to_element()
    assert out.find("UTC") is None
    ds = out.find("DataStore")
    # values pair with what was read by position: "2" is now the first SyncType, where "01" was
    assert ds is not None and ds.find("SyncCap") == Element("SyncCap", [Element("SyncType", ["2"])])


def test_missing_verdtd_is_implied_not_written():
    tree = parse_xml(b"<DevInf xmlns='syncml:devinf'><DevID>d</DevID></DevInf>").root
    devinf = DevInf.from_element(tree, version="1.1")
    assert devinf.ver_dtd == "1.1" and devinf.version == "1.1"
    assert devinf.to_element() == tree
    assert replace(devinf, ver_dtd="1.2").to_element().children[0] == Element("VerDTD", ["1.2"])
    assert DevInf.from_element(tree).ver_dtd == "1.2"


def test_attributes_and_stray_text_are_kept():
    tree = Element("DevInf", [Element("VerDTD", ["1.2"]), "stray", Element("DevID", ["d"], {"lang": "en"}),
                              Element("DataStore", [Element("SourceRef", ["x"])], {"a": "b"})], {"k": "v"})
    devinf = DevInf.from_element(tree)
    assert devinf.dev_id == "d"
    assert devinf.to_element() == tree


def test_opaque_text_is_kept_as_opaque():
    """Nokia 9210 sends strings as WBXML opaque data."""
    tree = Element("DevInf", [Element("VerDTD", ["1.2"]), Element("DevID", [b"IMEI:9"]), Element("Mod", [b"9210"])])
    devinf = DevInf.from_element(tree)
    assert (devinf.dev_id, devinf.mod) == ("IMEI:9", "9210")
    assert devinf.to_element() == tree
    assert replace(devinf, mod="9290").to_element().children[2] == Element("Mod", ["9290"])


def test_opaque_text_that_is_not_utf8_is_latin1_text_and_kept():
    """Issue 11: a DevInf leaf is always str; bytes that are not UTF-8 read as Latin-1."""
    tree = Element("DevInf", [Element("VerDTD", ["1.2"]), Element("DevID", ["d"]), Element("Man", [b"Sch\xf6n"])])
    devinf = DevInf.from_element(tree)
    assert devinf.man == "Sch\xf6n" and isinstance(devinf.man, str)
    assert devinf.to_element() == tree
    assert DevInf.from_bytes(devinf.to_bytes()).to_element() == tree


def test_repeated_singletons_are_kept_verbatim():
    tree = parse_xml(devinf_xml("<Man>a</Man><Man>b</Man>")).root
    devinf = DevInf.from_element(tree)
    assert devinf.man == "a"
    assert devinf.to_element() == tree


def test_flat_ctcap_in_several_elements_and_with_odd_content():
    tree = parse_xml(devinf_xml(
        "<DataStore><SourceRef>./c</SourceRef></DataStore>"
        "<CTCap><X-Lead/><CTType>text/x-vcard</CTType><PropName>N</PropName><DisplayName>Name</DisplayName>"
        "<ValEnum>a</ValEnum><DataType>chr</DataType><Size>20</Size><ParamName>P</ParamName><Size>5</Size>"
        "<ValEnum>v</ValEnum><X-In-Param/></CTCap><Ext><XNam>e</XNam></Ext>"
        "<CTCap><CTType>text/plain</CTType><PropName>BODY</PropName><Size>0100</Size></CTCap>",
        head="<DevInf xmlns='syncml:devinf'><VerDTD>1.1</VerDTD><DevID>d</DevID>")).root
    devinf = DevInf.from_element(tree)
    vcard, plain = devinf.ctcaps
    n = vcard.properties[0]
    assert (n.name, n.values, n.data_type, n.max_size, n.display_name) == ("N", ("a",), "chr", 20, "Name")
    assert n.params == (PropParam("P", values=("v",), max_size=5),)
    body = plain.property("body")
    assert body is not None and body.max_size == 100
    assert devinf.to_element() == tree
    # elements the code pages lack travel as literals, with a string table
    assert DevInf.from_bytes(devinf.to_bytes("wbxml", string_table=True)).to_element() == tree


def test_ctcap_from_element_in_both_styles():
    nested = element("<CTCap><CTType>text/plain</CTType><VerCT>1.0</VerCT>"
                     "<Property><PropName>BODY</PropName><MaxSize>4000</MaxSize></Property></CTCap>")
    ctcap = CTCap.from_element(nested)
    assert ctcap == CTCap("text/plain", "1.0", properties=(Property("BODY", max_size=4000),))
    assert ctcap.to_element() == nested
    flat = ctcap.to_element(flat=True)
    assert [el.tag for el in flat.elements()] == ["CTType", "VerCT", "PropName", "Size"]
    assert CTCap.from_element(flat) == ctcap
    two = element("<CTCap><CTType>a/b</CTType><CTType>c/d</CTType></CTCap>")
    assert [c.ct_type for c in ctcaps_from_element(two)] == ["a/b", "c/d"]
    with pytest.raises(DevInfError, match="holds 2 content types"):
        CTCap.from_element(two)


# -- errors ----------------------------------------------------------------

@pytest.mark.parametrize("body, message", [
    ("<DataStore><SourceRef>./a</SourceRef></DataStore><DataStore><DisplayName>b</DisplayName></DataStore>",
     "DevInf/DataStore[2]: SourceRef missing"),
    ("<DataStore><SourceRef>./a</SourceRef><MaxGUIDSize>big</MaxGUIDSize></DataStore>",
     "DevInf/DataStore[1]/MaxGUIDSize: not a number: 'big'"),
    ("<DataStore><SourceRef>./a</SourceRef><SyncCap><SyncType>1</SyncType><SyncType>two</SyncType></SyncCap>"
     "</DataStore>", "DevInf/DataStore[1]/SyncCap/SyncType[2]: not a number: 'two'"),
    ("<DataStore><SourceRef>./a</SourceRef><Rx><VerCT>1.0</VerCT></Rx></DataStore>",
     "DevInf/DataStore[1]/Rx[1]: CTType missing"),
    ("<DataStore><SourceRef>./a</SourceRef><CTCap><CTType>t</CTType><VerCT>1</VerCT>"
     "<Property><PropName>A</PropName></Property><Property><ValEnum>x</ValEnum></Property></CTCap></DataStore>",
     "DevInf/DataStore[1]/CTCap[1]/Property[2]: PropName missing"),
    ("<DataStore><SourceRef>./a</SourceRef><CTCap><CTType>t</CTType><VerCT>1</VerCT><Property>"
     "<PropName>A</PropName><PropParam><ValEnum>x</ValEnum></PropParam></Property></CTCap></DataStore>",
     "DevInf/DataStore[1]/CTCap[1]/Property[1]/PropParam[1]: ParamName missing"),
    ("<DataStore><SourceRef>./a</SourceRef><DSMem><MaxMem>-1</MaxMem></DSMem></DataStore>",
     "DevInf/DataStore[1]/DSMem/MaxMem: not a number: '-1'"),
    ("<CTCap><PropName>N</PropName><CTType>t</CTType></CTCap>", "DevInf/CTCap[1]: PropName before CTType"),
    ("<CTCap><CTType>t</CTType><ParamName>P</ParamName></CTCap>",
     "DevInf/CTCap[1]/CTType[1]: ParamName before PropName"),
    ("<CTCap/>", "DevInf/CTCap[1]: CTType missing"),
    ("<CTCap><CTType>a</CTType><PropName>A</PropName><CTType>b</CTType><PropName>B</PropName>"
     "<Size>x</Size></CTCap>", "DevInf/CTCap[1]/CTType[2]/PropName[1]/Size: not a number: 'x'"),
    ("<Ext><XVal>v</XVal></Ext>", "DevInf/Ext[1]: XNam missing"),
])
def test_errors_name_the_element(body: str, message: str):
    with pytest.raises(DevInfError) as info:
        DevInf.from_bytes(devinf_xml(body))
    assert str(info.value) == message


def test_devinf_error_is_a_value_error_and_pickles():
    with pytest.raises(DevInfError) as info:
        DevInf.from_bytes(b"<DevInf xmlns='syncml:devinf'><VerDTD>1.2</VerDTD></DevInf>")
    exc = info.value
    assert isinstance(exc, ValueError) and isinstance(exc, SyncMLError)
    assert (exc.path, exc.reason, str(exc)) == ("DevInf", "DevID missing", "DevInf: DevID missing")
    again = pickle.loads(pickle.dumps(exc))
    assert (type(again), again.path, again.reason) == (DevInfError, "DevInf", "DevID missing")


def test_a_message_is_not_a_devinf_document():
    path = corpus_path("libwbxml", "syncml", "syncml-001.xml")
    with pytest.raises(DevInfError, match="not a DevInf document but syncml11"):
        DevInf.from_bytes(path.read_bytes())
    with pytest.raises(DevInfError, match="expected <DevInf>, found <SyncML>"):
        DevInf.from_element(parse_xml(path.read_bytes()).root)


def test_malformed_devinf_in_a_message_names_the_command():
    """libwbxml's quirk sample carries a DevInf without DevID."""
    doc = parse_xml(corpus_path("libwbxml", "quirks", "syncml12-put-devinf-ns.xml").read_bytes())
    with pytest.raises(DevInfError) as info:
        find_devinf(doc)
    assert str(info.value) == "Put (CmdID 1): DevInf: DevID missing"


def test_devinf_sent_as_text_inside_a_message_is_found():
    """Some devices send the DevInf XML as text (escaped) in <Data>."""
    inner = write_xml(full_devinf().to_document()).decode()
    escaped = inner.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    message = (
        "<SyncML xmlns='SYNCML:SYNCML1.2'><SyncHdr><VerDTD>1.2</VerDTD></SyncHdr><SyncBody>"
        "<Results><CmdID>3</CmdID><Meta><Type xmlns='syncml:metinf'>application/vnd.syncml-devinf+xml</Type></Meta>"
        f"<Item><Data>{escaped}</Data></Item><Item><Data>{escaped}</Data></Item></Results>"
        "<Put><CmdID>4</CmdID><Item><Data>not devinf</Data></Item></Put></SyncBody></SyncML>")
    found = find_devinf(parse_xml(message.encode()))
    assert [f.where for f in found] == ["Results (CmdID 3), Item 1", "Results (CmdID 3), Item 2"]
    assert all(f.devinf == full_devinf() for f in found)


def test_to_bytes_refuses_unknown_encodings_and_versions():
    with pytest.raises(ValueError, match="encoding"):
        full_devinf().to_bytes("json")
    with pytest.raises(ValueError, match="version"):
        full_devinf().to_bytes(version="2.0")
