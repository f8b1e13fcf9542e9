"""Issue 10: the codec and the model on real devices' traffic
(``../shared/corpus/devices/``, see its README).

Every file there is in exactly one class below, and the test checks that the
list stays true (a new file must be classified, a listed file must exist):

* WBXML messages: decode equal to libwbxml's ``wbxml2xml`` (the structural
  comparison of tests/codec/test_differential.py), on both implementations;
  read into a ``Message`` and round-trip.
* XML messages: read into a ``Message`` (leniently where listed, with the
  reason) and round-trip: XML -> Message -> XML -> Message and
  Message -> WBXML -> Message, equal; both WBXML encoders write the same bytes.
* DevInf documents: read into a ``DevInf`` and round-trip.
* Not readable as they are, each with a clear error (a SyncMLError that is
  also a ValueError, with its offset or line), never a crash: damaged
  files, OBEX-framed and SAN binaries, a fragment, files with something
  before the message.  Where the message inside is intact it is read too.
* Skipped: logs and HTTP captures with embedded messages (issue 16, captured
  traffic); the test asserts that they are indeed not a bare message.

Both implementations agree on every file: the same result, or the same
error at the same offset (WBXML) or line (XML).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from syncml_codec import SyncMLError, WBXMLDecodeError, XMLDecodeError, parse_xml
from syncml_codec.codec import _wbxml_py
from syncml_codec.codec.tree import Document, Element
from syncml_codec.devinf import DevInf
from syncml_codec.model import Message, Results

from ..codec.mutations import outcome
from ..codec.test_differential import WBXML2XML, libwbxml_decode
from ..codec.xmlshape import shape
from ..conftest import CORPUS, NO_EXTENSIONS, cython_impl

DEVICES = CORPUS / "devices"
SE = "devaspot+syncml/apps/simple_sync/test"
FUN = "pohly+funambol-cpp-client-api/test/testcases"
MEEGO = "sailfishos+buteo-syncml/tests_meego/data"
DOTNET = "zijianhuang+SyncMLDotNet/TestCase"
RICKY = "rickyepoderi+wbxml-stream/src/test/examples/syncml10"

WBXML_MESSAGES = {
    f"{SE}/example.wbxml": "Ericsson, SyncML 1.0: public ID without NUL, a newline after the root",
    f"{SE}/sample.wbxml": "Funambol Windows Sync Client 10.1.6, SyncML 1.2",
    f"{RICKY}/syncml-001.wbxml": "SyncML 1.0 device to Horde",
    f"{RICKY}/syncml-002.wbxml": "SyncML 1.0 device to Horde",
    f"{RICKY}/syncml-003.wbxml": "SyncML 1.0 device to Horde",
    "smn+txsyncml/txsyncml/tests/fixtures/client_sync_init.wbxml": "a client init, SyncML 1.1",
}

# XML messages; the value: why the read must be lenient (None: strict)
XML_MESSAGES: dict[str, str | None] = {
    f"{SE}/example.xml1": "Ericsson (example.wbxml as XML): <Add> without <Item> in its Sync",
    f"{SE}/funambol_sample.xml": None,
    f"{FUN}/ex1.xml": None,
    f"{FUN}/ex2.xml": None,
    **{f"{FUN}/syncML{n}.xml": None for n in range(1, 9)},
    f"{RICKY}/syncml-001.xml": None,
    f"{RICKY}/syncml-002.xml": None,
    f"{RICKY}/syncml-003.xml": None,
    # plain XML messages despite the name
    f"{MEEGO}/syncml_init.txt": None,
    f"{MEEGO}/syncml_resp.txt": None,
    f"{MEEGO}/syncml_resp2.txt": None,
    # pretty-printed, namespace SyncML 1.1 but VerDTD 1.2 and a DevInf 1.2
    "smn+txsyncml/txsyncml/tests/fixtures/sony-ericsson-k800i-package1.xml": None,
    f"{DOTNET}/SyncMLStepsMy/server1.xml": None,
    f"{DOTNET}/SyncMLStepsMy/server2.xml": None,  # CRLF line ends, also after the root
    f"{DOTNET}/SyncMLStepsMy/server3.xml": None,
}

DEVINF_DOCUMENTS = {f"{DOTNET}/SyncML/DevinfMobiledit.xml", f"{DOTNET}/SyncML/DevinfFunambol.xml"}

# file -> (error class, message part, offset or line, why)
REFUSED: dict[str, tuple[type[Exception], str, int, str]] = {
    f"{SE}/putE7.xml": (XMLDecodeError, "not valid utf-8", 27,
                        "Nokia E7: its WBXML DevInf was pasted in as text in the source (README)"),
    "devaspot+syncml/history/ex1.xml": (XMLDecodeError, "DTD internal subsets", 2,
                                        "Funambol iPhone: the source put a DTD before the XML declaration"),
    "devaspot+syncml/history/ex2.xml": (XMLDecodeError, "DTD internal subsets", 2,
                                        "Funambol iPhone: the source put a DTD before the XML declaration"),
    f"{FUN}/devInfResults.xml": (XMLDecodeError, "<Results> is not the root", 1,
                                 "a <Results> command alone, not a message"),
    f"{MEEGO}/SAN01.bin": (WBXMLDecodeError, "unsupported charset", 2,
                           "OMA DS server-alerted notification (package #0), not WBXML"),
    f"{MEEGO}/SAN02.bin": (WBXMLDecodeError, "unsupported charset", 4,
                           "OMA DS server-alerted notification (package #0), not WBXML"),
    f"{MEEGO}/obexresp01.bin": (WBXMLDecodeError, "unsupported charset", 3, "SyncML in OBEX response framing"),
    f"{MEEGO}/obexresp02.bin": (WBXMLDecodeError, "multi-byte integer", 3, "SyncML in OBEX response framing"),
    f"{MEEGO}/obexresp03.bin": (WBXMLDecodeError, "multi-byte integer", 3, "SyncML in OBEX response framing"),
}

# logs and captures with embedded messages: issue 16 (captured traffic)
SKIPPED = {
    f"{MEEGO}/transport_initrequest.txt": "an HTTP request: headers, then the message",
    f"{DOTNET}/FunambolOutlookExamples/AllToServer.txt": "Funambol Outlook client debug log",
    f"{DOTNET}/FunambolOutlookExamples/AllFromServer.txt": "Funambol Outlook client debug log",
    f"{DOTNET}/OLPluginFromLocalToServer.txt": "Funambol Outlook plug-in log",
    f"{DOTNET}/Evaluate/SlowSync.log": "Funambol Java demo client log",
}

ALL = sorted([*WBXML_MESSAGES, *XML_MESSAGES, *DEVINF_DOCUMENTS, *REFUSED, *SKIPPED])

pytestmark = pytest.mark.skipif(not DEVICES.is_dir(), reason="corpus not found")


def data_of(name: str) -> bytes:
    return (DEVICES / name).read_bytes()


def test_every_file_is_classified_once():
    on_disk = sorted(str(p.relative_to(DEVICES)) for p in DEVICES.rglob("*") if p.is_file() and p.name != "README.md")
    assert on_disk == ALL
    assert len(set(ALL)) == len(ALL)


# -- both implementations agree on every file --------------------------------------------------------

@pytest.mark.parametrize("name", ALL)
def test_implementations_agree(name):
    if NO_EXTENSIONS:
        pytest.skip("SYNCML_CODEC_NO_EXTENSIONS=1: pure-Python run")
    ext = cython_impl()
    data = data_of(name)
    for entry, kw in [("wbxml_to_xml", {}), ("wbxml_to_xml", {"strict": True}), ("decode", {}),
                      ("xml_to_wbxml", {}), ("xml_to_wbxml", {"string_table": True})]:
        a = outcome(getattr(ext, entry), data, **kw)
        assert a == outcome(getattr(_wbxml_py, entry), data, **kw), (entry, kw)


# -- WBXML messages ------------------------------------------------------------------------------------

@pytest.mark.skipif(WBXML2XML is None and not os.environ.get("CI"),
                    reason="wbxml2xml not installed (apt-get install libwbxml2-utils)")
@pytest.mark.parametrize("name", sorted(WBXML_MESSAGES))
def test_wbxml_same_as_libwbxml(wbxml, name, tmp_path: Path):
    assert WBXML2XML is not None, "CI must install libwbxml2-utils"
    theirs = libwbxml_decode(DEVICES / name, tmp_path)
    ours = wbxml.wbxml_to_xml(data_of(name), pretty=True)
    assert shape(ours) == shape(theirs)


@pytest.mark.parametrize("name", sorted(WBXML_MESSAGES))
def test_wbxml_message_round_trip(wbxml, name):
    data = data_of(name)
    doc = wbxml.decode(data)
    msg = Message.from_document(doc)
    assert Message.from_bytes(data) == msg
    assert msg.to_element() == doc.root  # lossless
    for options in ({}, {"string_table": True}):
        again = wbxml.encode(msg.to_document(), **options)
        assert Message.from_document(wbxml.decode(again)) == msg
    assert Message.from_bytes(msg.to_bytes("xml")) == msg


def test_wbxml_model_decoders_agree():
    if NO_EXTENSIONS:
        pytest.skip("SYNCML_CODEC_NO_EXTENSIONS=1: pure-Python run")
    from ..model.test_fast_model import api_decode, reference_decode
    from ..model.test_fast_model import outcome as model_outcome

    cython_impl()
    for name in sorted(WBXML_MESSAGES):
        data = data_of(name)
        for lenient in (False, True):
            ref = model_outcome(reference_decode, data, lenient)
            assert ref[0] == "ok", (name, ref)
            assert model_outcome(api_decode, data, lenient) == ref, name


# -- XML messages ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(XML_MESSAGES))
def test_xml_message_reads_and_round_trips(wbxml, name):
    data = data_of(name)
    why = XML_MESSAGES[name]
    lenient = why is not None
    if lenient:  # the reason is true: a strict read refuses it
        with pytest.raises(SyncMLError):
            Message.from_bytes(data)
    msg = Message.from_bytes(data, lenient=lenient)
    assert Message.from_bytes(msg.to_bytes("xml"), lenient=lenient) == msg
    assert Message.from_bytes(msg.to_bytes("xml", pretty=True), lenient=lenient) == msg
    for options in ({}, {"string_table": True}):
        encoded = wbxml.encode(msg.to_document(), **options)
        assert Message.from_element(wbxml.decode(encoded).root, lenient=lenient) == msg
        assert Message.from_bytes(encoded, lenient=lenient) == msg


@pytest.mark.parametrize("name", sorted(XML_MESSAGES))
def test_xml_message_encoders_agree(name):
    if NO_EXTENSIONS:
        pytest.skip("SYNCML_CODEC_NO_EXTENSIONS=1: pure-Python run")
    ext = cython_impl()
    doc = Message.from_bytes(data_of(name), lenient=XML_MESSAGES[name] is not None).to_document()
    for options in ({}, {"string_table": True}, {"wbxml_version": "1.1", "public_id": "text"}):
        assert ext.encode(doc, **options) == _wbxml_py.encode(doc, **options)


def test_k800i_devinf_is_read_as_devinf_12():
    data = data_of("smn+txsyncml/txsyncml/tests/fixtures/sony-ericsson-k800i-package1.xml")
    msg = Message.from_bytes(data)
    assert msg.version == "1.2"
    (put,) = (c for c in msg.commands if type(c).__name__ == "Put")
    doc = put.items[0].data
    assert isinstance(doc, Document) and doc.language.key == "devinf12"
    assert DevInf.from_document(doc).man == "SonyEricsson"


# -- DevInf documents ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(DEVINF_DOCUMENTS))
def test_devinf_document_round_trips(wbxml, name):
    data = data_of(name)
    devinf = DevInf.from_bytes(data)
    assert DevInf.from_bytes(devinf.to_bytes("xml")) == devinf
    assert DevInf.from_bytes(devinf.to_bytes("wbxml")) == devinf
    doc = parse_xml(data)
    assert wbxml.decode(wbxml.encode(doc)) == doc


# -- refused with a clear error -----------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_with_a_clear_error(wbxml, name):
    cls, part, where, _why = REFUSED[name]
    data = data_of(name)
    with pytest.raises(SyncMLError) as err:
        Message.from_bytes(data, "application/vnd.syncml+wbxml" if cls is WBXMLDecodeError else None)
    assert isinstance(err.value, cls) and isinstance(err.value, ValueError)
    assert part in str(err.value)
    assert (err.value.offset if cls is WBXMLDecodeError else err.value.line) == where
    with pytest.raises(SyncMLError):
        Message.from_bytes(data, lenient=True)  # sniffed, not told: still an error, never a crash
    if cls is WBXMLDecodeError:
        with pytest.raises(WBXMLDecodeError) as err2:
            wbxml.decode(data)
        assert err2.value.offset == where


@pytest.mark.parametrize("name", ["devaspot+syncml/history/ex1.xml", "devaspot+syncml/history/ex2.xml"])
def test_message_after_the_prepended_dtd(name):
    """What the iPhone sent starts at the XML declaration after the DTD."""
    data = data_of(name)
    body = data[data.index(b"]><?xml") + 2:]
    msg = Message.from_bytes(body)
    assert msg.header.source.loc_uri and msg.commands
    assert Message.from_bytes(msg.to_bytes("xml")) == msg
    assert Message.from_bytes(msg.to_bytes("wbxml")) == msg


def test_results_fragment_reads_as_a_command():
    root = parse_xml(b"<SyncML><SyncBody>" + data_of(f"{FUN}/devInfResults.xml").split(b"?>", 1)[-1]
                     + b"</SyncBody></SyncML>").root
    body = root.find("SyncBody")
    assert isinstance(body, Element)
    results = Results.from_element(body.find("Results"))
    (item,) = results.items
    assert isinstance(item.data, Document) and DevInf.from_document(item.data).man == "Funambol"


def test_put_e7_is_damaged_where_the_readme_says():
    data = data_of(f"{SE}/putE7.xml")
    assert b"<DevInf" not in data and b"Nokia" in data  # the DevInf is WBXML pasted as text


# -- skipped (issue 16), and the reasons still hold ---------------------------------------------------

@pytest.mark.parametrize("name", sorted(SKIPPED))
def test_skipped_files_are_not_bare_messages(name):
    data = data_of(name)
    assert b"<SyncML" in data  # there are messages inside, for issue 16
    with pytest.raises(SyncMLError) as err:
        Message.from_bytes(data, lenient=True)
    assert isinstance(err.value, ValueError)
