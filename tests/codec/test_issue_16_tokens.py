"""Issue 16 item 3: the WBXML token trace (``codec.wbxml.trace_tokens``) and
the decoders' ``indent`` / ``language`` options and ``write_xml``'s
``keep_whitespace``, in both implementations."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncml_codec.codec import wbxml as W
from syncml_codec.codec.codepages import DEVINF11, SYNCML11, SYNCML12
from syncml_codec.codec.tree import Document, Element
from syncml_codec.codec.xml import parse_xml, write_xml
from syncml_codec.errors import SyncMLError, WBXMLDecodeError

from ..conftest import corpus_files, corpus_path, cython_impl
from .corpus import rel
from .mutations import variants

TRACE_FILES: list[Path] = (
    corpus_files("libwbxml/gen", "*/*/*.wbxml")
    + corpus_files("syncevolution/first-request", "*.wbxml")
    + corpus_files("devices", "**/*.wbxml")
)


def _elements(root: Element | Document) -> list[str]:
    """Element names of a decoded tree in document order, nested documents included."""
    out: list[str] = []
    stack: list[object] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, Document):
            node = node.root
        if isinstance(node, Element):
            out.append(node.tag)
            stack.extend(reversed([k for k in node.children if isinstance(k, (Element, Document))]))
    return out


def _check_spans(data: bytes, trace: list[W.TokenTrace]) -> None:
    """Every record's bytes are the input's at its offset; the top-level
    records cover the input without gap or overlap, and a nested document's
    records cover its OPAQUE's data the same way."""
    end_of = {0: 0}
    opaque_end: int | None = None
    for t in trace:
        assert data[t.offset:t.offset + len(t.raw)] == t.raw, t
        if t.nested == 0:
            if opaque_end is not None:  # back from a nested document: it filled its OPAQUE
                assert end_of[1] == opaque_end
                opaque_end = None
            assert t.offset == end_of[0], t
            end_of[0] = t.offset + len(t.raw)
            if t.kind == "OPAQUE" and "nested WBXML document" in t.meaning:
                # the nested document starts after the token and its length
                end_of[0] = t.offset + 1
                while data[end_of[0]] & 0x80:
                    end_of[0] += 1
                end_of[1] = end_of[0] + 1
                opaque_end = t.offset + len(t.raw)
                end_of[0] = opaque_end
        else:
            assert t.offset == end_of[1], t
            end_of[1] = t.offset + len(t.raw)
    assert end_of[0] == len(data)


def test_trace_corpus_is_there():
    if not TRACE_FILES:
        pytest.skip("corpus not found")
    assert len(TRACE_FILES) >= 40
    assert any("devaspot" in str(p) for p in TRACE_FILES)


@pytest.mark.parametrize("path", TRACE_FILES, ids=rel)
def test_trace_corpus(wbxml, path: Path):
    data = path.read_bytes()
    trace = list(W.trace_tokens(data))
    _check_spans(data, trace)
    kinds = [t.kind for t in trace]
    assert kinds[:2] == ["version", "public_id"]
    # the elements the trace names are the decoder's, in the same order
    tags = [t.name for t in trace if t.kind in ("TAG", "LITERAL") and t.depth >= 0]
    assert tags == _elements(wbxml.decode(data).root)
    # every element with content is closed by an END naming it
    opened = [t.name for t in trace if t.kind == "TAG" and t.raw[0] & 0x40]
    closed = [t.name for t in trace if t.kind == "END" and t.name is not None]
    assert sorted(opened) == sorted(closed)
    assert all(t.known for t in trace if t.kind in ("TAG", "END", "STR_I", "STR_T"))


def test_trace_string_table_refs_and_nested_devinf():
    path = corpus_path("libwbxml", "gen", "wbxml-strtbl", "syncml", "syncml-003.wbxml")
    data = path.read_bytes()
    trace = list(W.trace_tokens(data))
    # the table starts at byte 5
    entries = {t.offset - 5: t.value for t in trace if t.kind == "table_entry" and not t.nested}
    assert entries == {0: "application/vnd.syncml-devinf+xml", 34: "./devinf11"}
    refs = [t for t in trace if t.kind == "STR_T" and not t.nested]
    assert refs, "the string-table variant has STR_T references"
    for t in refs:
        index = t.raw[1]  # one-byte mb_u_int32 here
        assert t.raw[0] == 0x83 and t.value == entries[index]
        assert f"[{index}]" in t.meaning
    # the DevInf in <Data> is traced as its own document, one level deeper
    opaque = next(t for t in trace if t.kind == "OPAQUE")
    assert "nested WBXML document" in opaque.meaning
    inner = [t for t in trace if t.nested == 1]
    assert inner[0].kind == "version" and inner[0].offset == opaque.offset + 3  # C3 82 17
    assert inner[1].meaning.endswith("-//SYNCML//DTD DevInf 1.1//EN")
    root = next(t for t in inner if t.kind == "TAG")
    assert root.name == "DevInf" and root.depth > opaque.depth
    assert inner[-1].kind == "END" and inner[-1].name == "DevInf"
    assert inner[-1].offset + 1 == opaque.offset + len(opaque.raw)


def test_trace_header_fields():
    # WBXML 1.3, SyncML 1.2, UTF-8, no table; <SyncML><SyncHdr/></SyncML>
    data = bytes.fromhex("03 a401 6a 00 6d 2c 01")
    trace = list(W.trace_tokens(data))
    assert [(t.offset, t.kind) for t in trace] == [
        (0, "version"), (1, "public_id"), (3, "charset"), (4, "string_table"), (5, "TAG"), (6, "TAG"), (7, "END")]
    assert trace[1].meaning == "public ID 0x1201: -//SYNCML//DTD SyncML 1.2//EN"
    assert trace[2].meaning == "charset MIBenum 106: utf-8"
    assert trace[5].meaning == "<SyncHdr> (tag 0x2C; empty)"
    assert trace[6].meaning == "END </SyncML>"


def test_trace_marks_what_is_unknown():
    # public ID 0x01, reserved tag 0x30 (content), ENTITY, EXT_0, then a PI with an attribute
    data = bytes.fromhex("03 01 6a 00 6d 70 02 41 01 c0 43 05 03 78 00 01 01")
    trace = list(W.trace_tokens(data))
    by_kind = {t.kind: t for t in trace}
    assert not by_kind["public_id"].known and "unknown" in by_kind["public_id"].meaning
    assert "guessed from the root: SyncML 1.2" in trace[4].meaning
    tag = trace[5]
    assert tag.kind == "TAG" and not tag.known and "0x30" in tag.meaning
    assert by_kind["ENTITY"].value == 0x41 and '"A"' in by_kind["ENTITY"].meaning
    assert not by_kind["EXT"].known
    assert by_kind["PI"].offset == 10 and by_kind["ATTR_START"].value == 0x05
    _check_spans(data, trace)


def test_trace_forced_language():
    data = bytes.fromhex("03 01 6a 00 6d 71 03 31 2e 31 00 01 01")
    trace = list(W.trace_tokens(data, language=SYNCML11))
    assert "language forced: SyncML 1.1" in trace[1].meaning
    assert [t.name for t in trace if t.kind == "TAG"] == ["SyncML", "VerDTD"]
    # DevInf forced: 0x2D and 0x31 are not in its table
    trace = list(W.trace_tokens(data, language=DEVINF11))
    tags = [t for t in trace if t.kind == "TAG"]
    assert [t.name for t in tags] == [None, None]
    assert "not defined on code page 0 (DevInf 1.1, syncml:devinf)" in tags[1].meaning


@pytest.mark.parametrize("cut", [1, 2, 3, 4, 5, 12, 40, 100, 300, 700])
def test_trace_truncated(cut: int):
    data = corpus_path("libwbxml", "gen", "wbxml-strtbl", "syncml", "syncml-003.wbxml").read_bytes()[:cut]
    trace: list[W.TokenTrace] = []
    with pytest.raises(WBXMLDecodeError) as info:
        trace.extend(W.trace_tokens(data))
    assert info.value.offset <= cut
    for t in trace:
        assert data[t.offset:t.offset + len(t.raw)] == t.raw
    assert not trace or trace[-1].offset + len(trace[-1].raw) <= info.value.offset or trace[-1].nested


def test_trace_mutated_corpus_never_crashes():
    samples = [p.read_bytes() for p in corpus_files("libwbxml/gen", "*/syncml/*.wbxml")]
    if not samples:
        pytest.skip("corpus not found")
    same = 0
    for data in variants(samples, 1500, seed=16):
        terr = derr = None
        try:
            for t in W.trace_tokens(data):
                assert data[t.offset:t.offset + len(t.raw)] == t.raw
        except WBXMLDecodeError as exc:
            terr = exc
            assert 0 <= exc.offset <= len(data)
        try:
            W.decode(data)
        except SyncMLError as exc:
            derr = exc
        if terr is not None and derr is not None:
            same += terr.offset == derr.offset  # type: ignore[attr-defined]
        if derr is None and terr is not None:  # the decoder read it: so does the trace
            pytest.fail(f"trace failed where the decoder did not: {terr} ({data.hex()})")
    assert same > 500


def test_trace_bounds():
    deep = bytes.fromhex("03 a401 6a 00") + b"\x6d" + b"\x6c" * 400
    with pytest.raises(WBXMLDecodeError, match="nested deeper than 256"):
        list(W.trace_tokens(deep))
    # string-table references that would copy far more than the input are refused
    big = b"x" * 60000 + b"\0"
    body = b"\x6d\x71" + b"\x83\x00" * 30000 + b"\x01\x01"
    data = bytes([3, 0x9F, 0x53, 0x6A]) + bytes([0x83, 0xD4, 0x61]) + big + body
    assert len(big) == (0x03 << 14) | (0x54 << 7) | 0x61
    with pytest.raises(WBXMLDecodeError, match="expand beyond"):
        list(W.trace_tokens(data))
    with pytest.raises(WBXMLDecodeError, match="multi-byte integer longer than 5 bytes"):
        list(W.trace_tokens(bytes.fromhex("03 ffffffffff7f")))


# -- the decoders' options ------------------------------------------------------


@pytest.mark.parametrize("indent", [0, 1, 2, 4])
def test_indent_both_impls(wbxml, indent: int):
    from syncml_codec.codec import _wbxml_py

    for path in corpus_files("libwbxml/gen", "wbxml/*/*.wbxml")[:8]:
        data = path.read_bytes()
        out = wbxml.wbxml_to_xml(data, pretty=True, indent=indent)
        assert out == write_xml(wbxml.decode(data), pretty=True, indent=indent)
        assert out == _wbxml_py.wbxml_to_xml(data, pretty=True, indent=indent)
        if W.IMPLEMENTATION == "cython":
            assert out == cython_impl().wbxml_to_xml(data, pretty=True, indent=indent)
        body = out.decode().splitlines()[2:]
        assert body[1].startswith(" " * indent + "<SyncHdr") or body[1].startswith(" " * indent + "<")
        if indent == 2:
            assert out == wbxml.wbxml_to_xml(data, pretty=True)
    # indent without pretty changes nothing
    assert wbxml.wbxml_to_xml(data, indent=7) == wbxml.wbxml_to_xml(data)


@pytest.mark.parametrize("bad", [-1, 17, 2.0, "2"])
def test_indent_checked(wbxml, bad):
    data = bytes.fromhex("03 a401 6a 00 6d 2c 01")
    with pytest.raises(ValueError, match="indent must be"):
        wbxml.wbxml_to_xml(data, pretty=True, indent=bad)
    with pytest.raises(ValueError, match="indent must be"):
        wbxml.wbxml_to_xml(data, indent=bad)


def test_language_forced_both_impls(wbxml):
    # public ID 0x01 ("unknown"): read as SyncML 1.2 (guessed from the root) unless forced
    data = bytes.fromhex("03 01 6a 00 6d 71 03 31 2e 31 00 01 01")
    assert b"SyncML 1.2//EN" in wbxml.wbxml_to_xml(data)
    for language in (SYNCML11, "SYNCML11", "syncml1.1", "syncml11"):
        out = wbxml.wbxml_to_xml(data, pretty=True, language=language)
        assert b'"-//SYNCML//DTD SyncML 1.1//EN"' in out and b'xmlns="SYNCML:SYNCML1.1"' in out
        assert wbxml.decode(data, language=language).language is SYNCML11
    # a known public ID is overridden too (as wbxml2xml -l)
    v11 = bytes.fromhex("03 9f53 6a 00 6d 01")
    assert wbxml.decode(v11, language=SYNCML12).language is SYNCML12
    assert wbxml.decode(v11).language is SYNCML11
    with pytest.raises(ValueError, match=r"unknown language 'SYNCML13'.*SYNCML10, SYNCML11"):
        wbxml.wbxml_to_xml(data, language="SYNCML13")
    with pytest.raises(TypeError):
        wbxml.decode(data, language=12)


def test_language_names():
    assert W.language_named("DMDDF12").key == "ddf12"
    assert W.language_named("metinf").key == "metinf12"
    assert {W.language_named(n).key for n in ("SYNCML10", "DEVINF10", "METINF11", "DEVINF12")} == {
        "syncml10", "devinf10", "metinf11", "devinf12"}


_MIXED = (b'<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD>'
          b"<LocName>  two  spaces \n and a line </LocName></SyncHdr>"
          b"<SyncBody>\n   <Final/></SyncBody></SyncML>")


def test_text_kept_by_default(wbxml):
    """The WBXML decoders never strip text: leading and trailing spaces and
    line ends come out as they went in (wbxml2xml needs -k for that)."""
    data = wbxml.xml_to_wbxml(_MIXED)
    out = wbxml.wbxml_to_xml(data, pretty=True)
    assert b"<LocName>  two  spaces \n and a line </LocName>" in out


def test_keep_whitespace_xml_input(wbxml):
    # default: white space between elements is layout and dropped
    assert not any(isinstance(k, str) for k in parse_xml(_MIXED).root.find("SyncBody").children)
    doc = parse_xml(_MIXED, keep_whitespace=True)
    assert doc.root.find("SyncBody").children[0] == "\n   "
    out = write_xml(doc, pretty=True, keep_whitespace=True)
    assert b"<SyncBody>\n   <Final/></SyncBody>" in out
    assert b"<LocName>  two  spaces \n and a line </LocName>" in out
    # the same through WBXML: the decoders keep the text, write_xml adds nothing inside <SyncBody>
    back = wbxml.decode(wbxml.encode(doc))
    assert write_xml(back, pretty=True, keep_whitespace=True) == out
    # plain pretty output indents around <Final/>, inside the text
    assert b"<SyncBody>\n   <Final/>\n  </SyncBody>" in write_xml(back, pretty=True)


def test_options_parity_on_mutated_input():
    """The new options keep the twins equal: the same XML, or the same error
    at the same offset, on truncated and mutated copies of the corpus."""
    from syncml_codec.codec import _wbxml_py

    if W.IMPLEMENTATION != "cython":
        pytest.skip("the extension is not built")
    ext = cython_impl()
    samples = [p.read_bytes() for p in corpus_files("libwbxml/gen", "*/*/*.wbxml")]
    if not samples:
        pytest.skip("corpus not found")
    for i, data in enumerate(variants(samples, 800, seed=1616)):
        opts = [{"pretty": True, "indent": i % 5}, {"language": ("SYNCML11", "DEVINF12", "METINF12")[i % 3]},
                {"pretty": True, "indent": 0, "language": SYNCML12}][i % 3]
        results = []
        for mod in (ext, _wbxml_py):
            try:
                results.append(mod.wbxml_to_xml(data, **opts))
            except SyncMLError as exc:
                results.append((type(exc), getattr(exc, "offset", None)))
        assert results[0] == results[1], (opts, data.hex())


def test_trace_nokia_literal_xmlns():
    """``ED 04 00 03 "SYNCML:SYNCML1.2" 00 01``: a LITERAL attribute at index 0
    with no string table is ``xmlns`` (Nokia), as the decoders read it."""
    data = bytes.fromhex("03 a401 6a 00 ed 04 00 03") + b"SYNCML:SYNCML1.2\0" + bytes.fromhex("01 2c 01")
    trace = list(W.trace_tokens(data))
    literal = next(t for t in trace if t.kind == "LITERAL")
    assert literal.name == "xmlns" and "Nokia" in literal.meaning
    assert [t.kind for t in trace[4:]] == ["TAG", "LITERAL", "STR_I", "END", "TAG", "END"]
    _check_spans(data, trace)
    W.decode(data)  # the decoder reads it too
