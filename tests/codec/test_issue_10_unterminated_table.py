"""Issue 10: real phones' WBXML that libwbxml reads and we refused.

Sony Ericsson phones (and others) write the document's public ID as the
last string-table entry without its NUL (``02 00 00 6a 1d
"-//SYNCML//DTD SyncML 1.1//EN"``), in the message and in a DevInf nested
in Put/Results.  The table length delimits that entry, so every decoder
(both implementations, their fast paths, the fused model decoder; strict
and lenient alike) ends it at the end of the table.  The encoder still
writes NUL-terminated entries.

The Ericsson example file also ends with a newline after the root element:
a lenient read ignores white space and NUL padding there (strict: error).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from syncml_codec import WBXMLDecodeError
from syncml_codec.codec import _wbxml_py
from syncml_codec.codec._pywbxml.decoder import _generic_xml
from syncml_codec.codec._pywbxml.fast import _fast_xml
from syncml_codec.codec.codepages import DEVINF11, SYNCML11
from syncml_codec.codec.tree import Document, Element
from syncml_codec.model import Message, Put

from ..conftest import NO_EXTENSIONS, corpus_path, cython_impl, model_fast
from .corpus import WBXML_FILES
from .mutations import outcome, variants
from .wbxmlbuild import END, ITEM, OPAQUE, SYNCBODY, mb, s

ERICSSON = corpus_path("devices", "devaspot+syncml", "apps", "simple_sync", "test", "example.wbxml")
SYNCML_PID = b"-//SYNCML//DTD SyncML 1.1//EN"
DEVINF_PID = b"-//SYNCML//DTD DevInf 1.1//EN"
PUT, CMDID, FINAL = 0x5F, 0x4B, 0x12  # SyncML 1.1 page 0 (with the content bit but FINAL)


def unterminated(data: bytes) -> bytes:
    """``data`` with the NUL of its string table's last entry dropped, as
    the phones write their public ID (the only entry, or the last one)."""
    pos = _mb_at(data, 1)[1]
    if data[1] == 0:
        pos = _mb_at(data, pos)[1]  # the public ID's index
    pos = _mb_at(data, pos)[1]  # charset
    n, body = _mb_at(data, pos)
    assert data[body + n - 1] == 0, data[:40]
    return data[:pos] + mb(n - 1) + data[body:body + n - 1] + data[body + n:]


def _mb_at(data: bytes, pos: int) -> tuple[int, int]:
    value = 0
    while True:
        b = data[pos]
        pos += 1
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            return value, pos


def ericsson_message(body: bytes = bytes([SYNCBODY, FINAL, END])) -> bytes:
    """A SyncML 1.1 message with the phones' header."""
    header = (bytes([0x71]) + s("1.1") + bytes([END, 0x72]) + s("SyncML/1.1") + bytes([END, 0x65]) + s("1")
              + bytes([END, 0x5B]) + s("1") + bytes([END, 0x6E, 0x57]) + s("http://sync.example.com")
              + bytes([END, END, 0x67, 0x57]) + s("IMEI:520327511080721") + bytes([END, END]))
    return (b"\x02\x00\x00\x6a" + mb(len(SYNCML_PID)) + SYNCML_PID + bytes([0x6D, 0x6C]) + header
            + bytes([END]) + body + bytes([END]))


def nested_devinf() -> bytes:
    doc = Document(DEVINF11, Element("DevInf", [Element("VerDTD", ["1.1"]), Element("Man", ["Ericsson"]),
                                                Element("DevID", ["520327511080721"])]))
    data = unterminated(_wbxml_py.encode(doc, public_id="text", wbxml_version="1.2"))
    assert data.startswith(b"\x02\x00\x00\x6a\x1d" + DEVINF_PID + b"\x4a")
    return data


def put_with_nested(devinf: bytes) -> bytes:
    """<Put><CmdID>1</CmdID><Item><Data>{devinf as opaque}</Data></Item></Put>"""
    return ericsson_message(bytes([SYNCBODY, PUT, CMDID]) + s("1") + bytes([END, ITEM, 0x4F, OPAQUE])
                            + mb(len(devinf)) + devinf + bytes([END, END, END, FINAL, END]))


def reencoded(paths: list[Path], **options) -> list[bytes]:
    """Corpus messages re-encoded with a textual public ID, NUL dropped."""
    out = []
    for path in paths:  # (no nested documents: theirs keep their own header, see nested_devinf())
        doc = _wbxml_py.decode(path.read_bytes())
        out.append(unterminated(_wbxml_py.encode(doc, public_id="text", **options)))
    return out


def _walk(el: Element):
    for c in el.children:
        yield c
        if isinstance(c, Element):
            yield from _walk(c)


def _samples(count: int) -> list[Path]:
    """SyncML messages without a nested document, spread over the corpus."""
    out = []
    for path in WBXML_FILES[::7]:
        doc = _wbxml_py.decode(path.read_bytes())
        if doc.language.family == "syncml" and not any(isinstance(c, Document) for c in _walk(doc.root)):
            out.append(path)
    return out[:count]


SAMPLES = _samples(16)


@pytest.fixture(scope="module")
def devices() -> list[bytes]:
    """The phones' form: the Ericsson file, hand-made messages, corpus messages re-encoded."""
    out = [ericsson_message(), put_with_nested(nested_devinf())]
    if ERICSSON.exists():
        out.append(ERICSSON.read_bytes())
    out += reencoded(SAMPLES) + reencoded(SAMPLES[:4], wbxml_version="1.1", string_table=True)
    assert len(out) > 6
    return out


@pytest.mark.parametrize("strict", [False, True])
def test_public_id_without_nul(wbxml, strict):
    data = ericsson_message()
    doc = wbxml.decode(data, strict=strict)
    assert doc.language is SYNCML11 and doc.public_id_text
    assert doc.root.find("SyncBody").find("Final") is not None
    assert b"SYNCML:SYNCML1.1" in wbxml.wbxml_to_xml(data, strict=strict)


def test_entry_without_nul_is_the_rest_of_the_table(wbxml):
    # STR_T to the last entry of a table that ends without NUL
    table = SYNCML_PID + b"\x00" + b"ab"
    data = (b"\x02\x00\x00\x6a" + mb(len(table)) + table + bytes([0x6D, 0x6C, 0x71, 0x83]) + mb(len(SYNCML_PID) + 1)
            + bytes([END, END, END]))
    doc = wbxml.decode(data, strict=True)
    assert doc.root.find("SyncHdr").find("VerDTD").text == "ab"


@pytest.mark.parametrize("strict", [False, True])
def test_nested_devinf_with_the_same_header(wbxml, strict):
    doc = wbxml.decode(put_with_nested(nested_devinf()), strict=strict)
    (nested,) = doc.root.find("SyncBody").find("Put").find("Item").find("Data").children
    assert isinstance(nested, Document) and nested.language is DEVINF11
    assert nested.root.find("Man").text == "Ericsson"


def test_model_reads_the_phones_message():
    msg = Message.from_bytes(put_with_nested(nested_devinf()))
    (put,) = msg.commands
    assert isinstance(put, Put)
    (item,) = put.items
    assert isinstance(item.data, Document) and item.data.root.find("Man").text == "Ericsson"


def test_wide_charset_table_without_terminator(wbxml):
    # UTF-16 (MIBenum 1015): entries end with two NUL bytes; the last one may not
    pid = "-//SYNCML//DTD SyncML 1.1//EN".encode("utf-16-be")
    body = bytes([0x6D, 0x6C, 0x71, 0x83, 0x00, END, END, END])
    data = b"\x03\x00\x00\x87\x77" + mb(len(pid)) + pid + body
    ext = None if NO_EXTENSIONS else cython_impl()
    got = outcome(wbxml.wbxml_to_xml, data)
    if ext is not None:
        assert outcome(ext.wbxml_to_xml, data) == outcome(_wbxml_py.wbxml_to_xml, data)
    assert got[0] == "ok" and b"SYNCML:SYNCML1.1" in got[1]


def test_ericsson_file(wbxml):
    if not ERICSSON.exists():
        pytest.skip("corpus not found")
    data = ERICSSON.read_bytes()
    assert data[:5] == b"\x02\x00\x00\x6a\x1d" and data.endswith(b"\x01\x01\n")
    doc = wbxml.decode(data)
    assert doc.root.find("SyncHdr").find("VerDTD").text == "1.0"
    # a strict read refuses the newline after the root, and only that
    with pytest.raises(WBXMLDecodeError, match="after the root element") as err:
        wbxml.decode(data, strict=True)
    assert err.value.offset == len(data) - 1
    assert wbxml.decode(data[:-1], strict=True) == doc


@pytest.mark.parametrize("pad, ok", [(b"\n", True), (b"\r\n", True), (b"\x00\x00", True), (b" \t", True),
                                     (b"\n\x01", False), (b"\x43", False), (b"x", False)])
def test_padding_after_the_root(wbxml, pad, ok):
    data = ericsson_message()
    if ok:
        assert wbxml.decode(data + pad) == wbxml.decode(data)
        assert wbxml.wbxml_to_xml(data + pad) == wbxml.wbxml_to_xml(data)
    else:
        with pytest.raises(WBXMLDecodeError) as err:
            wbxml.decode(data + pad)
        assert err.value.offset == len(data)
    with pytest.raises(WBXMLDecodeError) as err:
        wbxml.decode(data + pad, strict=True)
    assert err.value.offset == len(data)


def test_same_as_with_the_nul(wbxml, devices):
    """Dropping the NUL changes nothing in what is read."""
    for path in SAMPLES:
        doc = _wbxml_py.decode(path.read_bytes())
        with_nul = _wbxml_py.encode(doc, public_id="text")
        without = unterminated(with_nul)
        assert wbxml.decode(without) == wbxml.decode(with_nul), path
        assert wbxml.wbxml_to_xml(without, pretty=True) == wbxml.wbxml_to_xml(with_nul, pretty=True), path


def _table(data: bytes) -> bytes:
    """The string table of a WBXML document (well-formed header assumed)."""
    pos = _mb_at(data, 1)[1]
    if data[1] == 0:
        pos = _mb_at(data, pos)[1]
    n, pos = _mb_at(data, _mb_at(data, pos)[1])
    return data[pos:pos + n]


def test_encoder_still_terminates_entries(wbxml, devices):
    for data in devices:
        doc = wbxml.decode(data)
        for options in ({"public_id": "text"}, {"public_id": "text", "string_table": True}):
            out = wbxml.encode(doc, **options)
            table = _table(out)
            assert doc.language.xml_public_id.encode() + b"\x00" in table and table.endswith(b"\x00"), out[:40]
            assert wbxml.decode(out) == doc


# -- both implementations agree: the files, their fast paths, mutated copies ---------------------------

ENTRIES = [("wbxml_to_xml", {}), ("wbxml_to_xml", {"strict": True}), ("wbxml_to_xml", {"pretty": True}),
           ("decode", {}), ("decode", {"strict": True})]


@pytest.fixture(scope="module")
def device_variants(devices):
    return devices + list(variants(devices, 4000, seed=1010))


def test_parity_on_device_forms(devices):
    ext = cython_impl()
    for data in devices:
        for entry, kw in ENTRIES:
            a = outcome(getattr(ext, entry), data, **kw)
            assert a == outcome(getattr(_wbxml_py, entry), data, **kw), (data[:40].hex(), entry, kw)
            if not kw:
                assert a[0] == "ok", a


def test_parity_on_mutated_device_forms(device_variants):
    ext = cython_impl()
    mismatches = []
    seen = {"ok": 0, "error": 0}
    for data in device_variants:
        for entry, kw in ENTRIES:
            a = outcome(getattr(ext, entry), data, **kw)
            b = outcome(getattr(_wbxml_py, entry), data, **kw)
            seen[a[0]] += 1
            if a != b:
                mismatches.append((data.hex(), entry, kw, a[:3] if a[0] == "error" else "ok",
                                   b[:3] if b[0] == "error" else "ok"))
    assert not mismatches, f"{len(mismatches)} differ, first: {mismatches[:3]}"
    assert seen["ok"] > 2000 and seen["error"] > 2000, seen


def test_python_fast_path_takes_and_equals_generic(devices, device_variants):
    """The twin's fast path reads the phones' header itself (no fallback) and
    never changes the result."""
    taken = 0
    for data in device_variants:
        fast = _fast_xml(data, False, 256)
        if fast is not None:
            taken += 1
            assert fast == _generic_xml(data, False, False, 256), data.hex()
    assert taken > 800
    for data in devices:
        if data[-1] != 0x01 or b"DevInf" in data:
            continue  # padding after the root, a nested DevInf: the generic path by design
        assert _fast_xml(data, False, 256) is not None, data[:40].hex()


def test_model_decoders_agree(device_variants):
    """The extension's fused Message decoder (and its fast path alone) equal
    the reference (tree) path on the phones' forms and their mutations."""
    from ..model.test_fast_model import api_decode, fast_decode, reference_decode, shape
    from ..model.test_fast_model import outcome as model_outcome

    fast_path = model_fast()
    counts = {"ok": 0, "fast": 0}
    for n, data in enumerate(device_variants):
        lenient = n % 3 == 0
        ref = model_outcome(reference_decode, data, lenient)
        assert model_outcome(api_decode, data, lenient) == ref, (data.hex(), lenient)
        counts[ref[0]] = counts.get(ref[0], 0) + 1
        fast = fast_decode(fast_path, data, lenient)
        if fast is not None:
            counts["fast"] += 1
            assert ("ok", shape(fast)) == ref
    assert counts["ok"] > 200 and counts["fast"] > 0.5 * counts["ok"], counts
