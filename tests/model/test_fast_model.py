"""The model's fast path (``syncml_codec.model._fast``) gives exactly what the
reference path gives, and ``Message.from_bytes`` / ``to_bytes`` with it.

``_fast.read(data, Message, SCHEMA)`` must equal
``Message.from_document(decode(data))`` or be None (it gave up: the
reference path decides), and ``_fast.write(msg, lang, SCHEMA)`` must equal
``encode(Document(lang, msg.to_element()))`` or be None; the public API,
which runs the fast path and falls back, must equal the reference
(errors included): on every SyncML message of the corpus (WBXML as sent, and the XML ones
encoded with and without a string table), on structurally mutated trees
(children reordered, repeated, dropped, foreign, opaque text ...), on
thousands of byte-level mutations, and on objects changed after reading.
"Equal" is strict here: the same types all the way down (``OpaqueStr`` is
not ``str``, an empty attribute dict is not None), and for bad input the
same exception class with the same path and reason (StructureError) or
offset (WBXMLDecodeError).  The fast paths must also actually be taken on
real traffic, not quietly fall back to the reference path.
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path
from typing import Any

import pytest

from syncml_codec import StructureError, parse_xml
from syncml_codec.codec import _wbxml_py
from syncml_codec.codec import wbxml as selector
from syncml_codec.codec.codepages import SYNCML12, SYNCML_BY_VERSION
from syncml_codec.codec.tree import Document, Element
from syncml_codec.model import Item, Message, Source, SyncBody, SyncHdr, Target
from syncml_codec.model import message as message_module
from syncml_codec.model._node import REGISTRY, Layout, Node, OpaqueStr
from syncml_codec.model._schema import SCHEMA

from ..codec.corpus import rel
from ..codec.mutations import variants
from ..codec.wbxmlbuild import END, OPAQUE, SYNCBODY, mb, s, syncml
from ..conftest import model_fast
from .test_message import FRAGMENTS, MESSAGES

WBXML = "application/vnd.syncml+wbxml"


@pytest.fixture(scope="module")
def ext():
    """The fast path (model._fast)."""
    return model_fast()


def shape(x: Any) -> Any:
    """``x`` with every type spelled out, so that == also compares types."""
    if isinstance(x, Node):
        return (type(x).__name__, tuple((f.name, shape(getattr(x, f.name))) for f in dataclasses.fields(x)))
    if isinstance(x, (tuple, list)):
        return (type(x).__name__, tuple(shape(v) for v in x))
    if isinstance(x, Element):
        return ("Element", x.tag, shape(x.attrs), shape(x.children))
    if isinstance(x, Document):
        return ("Document", x.language.key, x.wbxml_version, x.charset, x.public_id_text, shape(x.root))
    if isinstance(x, dict):
        return ("dict", tuple((k, shape(v)) for k, v in x.items()))
    return (type(x).__name__, x)


def fast_decode(ext, data: Any, lenient: bool = False, **kw: Any) -> Any:
    """The fast path alone: its result, or None where it gives up."""
    return ext.read(data, Message, SCHEMA, lenient=lenient, **kw)


def api_decode(data: Any, lenient: bool = False) -> Message:
    """The public API (the fast path, else the reference path)."""
    return Message.from_bytes(data, WBXML, lenient=lenient)


def fast_encode(ext, node: Node, language, **options) -> bytes | None:
    return ext.write(node, language, SCHEMA, options)


def check_encode(ext, node: Node, language, **options) -> bool:
    """The fast path agrees with the reference (when it answers), and so
    does ``to_bytes`` for a message; True when the fast path answered."""
    ref = outcome(reference_encode, node, language, **options)
    got = fast_encode(ext, node, language, **options)
    if got is not None:
        assert ("ok", shape(got)) == ref, options
    if isinstance(node, Message) and outcome(node.language) == ("ok", shape(language)):
        assert outcome(node.to_bytes, **options) == ref, options
    return got is not None


def outcome(fn, *args, **kw):
    try:
        return ("ok", shape(fn(*args, **kw)))
    except StructureError as exc:
        return ("StructureError", exc.path, exc.reason)
    except Exception as exc:
        return (type(exc).__name__, getattr(exc, "offset", None), str(exc))


def reference_decode(data: Any, lenient: bool = False) -> Message:
    return Message.from_document(_wbxml_py.decode(data), lenient=lenient)


def reference_encode(node: Node, language, **options) -> bytes:
    return _wbxml_py.encode(Document(language, node.to_element()), **options)


def wbxml_forms(path: Path) -> list[bytes]:
    """The message as WBXML: as sent and re-encoded with a string table (a
    WBXML file), or encoded without and with one (an XML file)."""
    data = path.read_bytes()
    if data[:1] and data[0] <= 3:
        return [data, _wbxml_py.encode(_wbxml_py.decode(data), string_table=True)]
    return [_wbxml_py.xml_to_wbxml(data), _wbxml_py.xml_to_wbxml(data, string_table=True)]


def lenient_for(path: Path) -> bool:
    return any(f in path.name for f in FRAGMENTS)


ENCODE_OPTIONS = [{}, {"string_table": True}, {"wbxml_version": "1.1", "public_id": "text"},
                  {"charset": "iso-8859-1"}]


# -- the corpus ---------------------------------------------------------------------

def test_corpus_decode_parity_and_coverage(ext):
    if not MESSAGES:
        pytest.skip("corpus not found")
    checked = fast = 0
    for path in MESSAGES:
        lenient = lenient_for(path)
        for data in wbxml_forms(path):
            ref = outcome(reference_decode, data, lenient)
            assert outcome(api_decode, data, lenient) == ref, rel(path)
            checked += 1
            got = fast_decode(ext, data, lenient)
            if got is None:
                continue
            fast += 1
            assert ("ok", shape(got)) == ref, rel(path)
    # all but the one message in a charset other than UTF-8 (the reference path's)
    assert checked >= 1150 and fast >= checked - 1, (checked, fast)


def test_corpus_encode_parity_and_coverage(ext):
    if not MESSAGES:
        pytest.skip("corpus not found")
    fast = 0
    for path in MESSAGES:
        msg = Message.from_bytes(path.read_bytes(), lenient=lenient_for(path))
        lang = msg.language()
        for options in ENCODE_OPTIONS:
            assert check_encode(ext, msg, lang, **options), (rel(path), options)  # answered
            # and the tree walk of encode() itself
            ref = outcome(reference_encode, msg, lang, **options)
            assert outcome(selector.encode, Document(lang, msg.to_element()), **options) == ref, (rel(path), options)
        fast += fast_encode(ext, msg, lang) is not None  # never falls back on real traffic
    assert fast == len(MESSAGES)


def test_message_uses_the_fast_path():
    """The model picks its own extension when the codec in use is the
    extension, and only then."""
    if selector.IMPLEMENTATION == "python":
        assert message_module.FAST is None
    else:
        assert message_module.FAST is not None
        assert message_module.FAST.__name__ == "syncml_codec.model._fast"


@pytest.mark.parametrize("path", MESSAGES[::23], ids=rel)
def test_message_bytes_round_trip(path):
    msg = Message.from_bytes(path.read_bytes(), lenient=lenient_for(path))
    for options in ENCODE_OPTIONS[:2]:
        data = msg.to_bytes(**options)
        assert data == reference_encode(msg, msg.language(), **options)
        assert Message.from_bytes(data, lenient=lenient_for(path)) == msg  # (a nested header may differ)


# -- structural mutations ---------------------------------------------------------

_NAMES = sorted(SYNCML12.names)


def _elements(root: Element) -> list[Element]:
    return [el for el in root.iter() if not el.tag.startswith("wbxml:")]


def mutate_tree(root: Element, rng: random.Random) -> Element:
    """A copy of ``root`` with one to three structural edits."""
    root = _copy(root)
    for _ in range(rng.randint(1, 3)):
        el = rng.choice(_elements(root))
        kids = el.children
        kind = rng.randrange(11)
        if kind == 0 and len(kids) >= 2:      # swap two children
            i, j = rng.sample(range(len(kids)), 2)
            kids[i], kids[j] = kids[j], kids[i]
        elif kind == 1 and kids:              # repeat a child
            i = rng.randrange(len(kids))
            kids.insert(i, _copy(kids[i]))
        elif kind == 2 and kids:              # drop a child
            del kids[rng.randrange(len(kids))]
        elif kind == 3:                       # a known element where the model has no field for it
            kids.insert(rng.randint(0, len(kids)), Element(rng.choice(_NAMES), [rng.choice(["1", "x", ""])]))
        elif kind == 4:                       # character data among elements
            kids.insert(rng.randint(0, len(kids)), rng.choice(["x", " ", b"\x00\xff", b"abc"]))
        elif kind == 5 and len(kids) == 1 and type(kids[0]) is str:  # text sent as opaque data
            kids[0] = rng.choice([kids[0].encode(), b"\xff\xfe", b""])
        elif kind == 6:                       # empty it
            el.children = []
        elif kind == 7 and len(kids) == 1 and type(kids[0]) is str:  # text in pieces
            kids[:] = [kids[0], rng.choice(["", "y", b"z"])]
        elif kind == 8:                       # an element inside a leaf or anywhere
            kids.append(Element(rng.choice(["Anchor", "Next", "LocURI", "Item", "Meta", "X-Foo"]),
                                [rng.choice(["1", b"2"])]))
        elif kind == 9:                       # move a subtree elsewhere
            other = rng.choice(_elements(root))
            if kids and other is not el:
                child = kids.pop(rng.randrange(len(kids)))
                if not (isinstance(child, Element) and any(e is other for e in child.iter())):
                    other.children.append(child)
        elif kind == 10:                      # attributes
            el.attrs = rng.choice([{}, {"wbxml:attr-0-05": ""}])
    return root


def _copy(x):
    if isinstance(x, Element):
        return Element(x.tag, [_copy(c) for c in x.children], dict(x.attrs) if x.attrs is not None else None)
    if isinstance(x, Document):
        return Document(x.language, _copy(x.root))
    return x


def _tree_samples() -> list[Document]:
    chosen = [p for p in MESSAGES if "libwbxml" in str(p)] + [p for p in MESSAGES if "sessions" in str(p)][:12]
    out = []
    for p in chosen:
        data = p.read_bytes()
        out.append(_wbxml_py.decode(data) if data[0] <= 3 else parse_xml(data))
    return out


def test_structural_mutations(ext):
    samples = _tree_samples()
    if not samples:
        pytest.skip("corpus not found")
    rng = random.Random(1122)
    seen = {"ok": 0, "StructureError": 0}
    for n in range(2500):
        doc = rng.choice(samples)
        root = mutate_tree(doc.root, rng)
        options = {"string_table": rng.random() < 0.3}
        try:
            data = _wbxml_py.encode(Document(doc.language, root), **options)
        except ValueError:
            continue
        lenient = n % 4 == 0
        ref = outcome(reference_decode, data, lenient)
        assert outcome(api_decode, data, lenient) == ref, data.hex()
        seen[ref[0]] = seen.get(ref[0], 0) + 1
        fast = fast_decode(ext, data, lenient)
        if fast is not None:
            assert ("ok", shape(fast)) == ref
            seen["fast"] = seen.get("fast", 0) + 1
            seen["fast with layout"] = seen.get("fast with layout", 0) + any(
                n._layout is not None for n in _nodes(fast))
        if ref[0] == "ok":
            msg = reference_decode(data, lenient)
            lang = msg.language()
            for opts in ENCODE_OPTIONS[:2]:
                check_encode(ext, msg, lang, **opts)
    # both outcomes well represented, and the fast path took most good ones
    assert seen["ok"] > 400 and seen["StructureError"] > 400, seen
    assert seen["fast"] > 0.7 * seen["ok"] and seen["fast with layout"] > 300, seen


# -- byte-level mutations ---------------------------------------------------------

@pytest.fixture(scope="module")
def wbxml_samples():
    chosen = [p for p in MESSAGES if "libwbxml" in str(p) and p.suffix == ".wbxml"]
    chosen += [p for p in MESSAGES if "sessions" in str(p) and p.suffix == ".wbxml"][:8]
    if not chosen:
        pytest.skip("corpus not found")
    return [p.read_bytes() for p in chosen]


def test_mutated_wbxml(ext, wbxml_samples):
    counts: dict[str, int] = {}
    for n, data in enumerate(variants(wbxml_samples, 6000, seed=4242)):
        lenient = n % 3 == 0
        ref = outcome(reference_decode, data, lenient)
        got = outcome(api_decode, data, lenient)
        assert got == ref, (data.hex(), lenient)
        counts[ref[0]] = counts.get(ref[0], 0) + 1
        fast = fast_decode(ext, data, lenient)
        if fast is not None:
            assert ("ok", shape(fast)) == ref
            counts["fast"] = counts.get("fast", 0) + 1
        if ref[0] == "ok" and n % 5 == 0:
            msg = reference_decode(data, lenient)
            lang = msg.language()
            for opts in ENCODE_OPTIONS[:2]:
                check_encode(ext, msg, lang, **opts)
    assert counts.get("ok", 0) > 500 and counts.get("WBXMLDecodeError", 0) > 1000, counts
    assert counts.get("fast", 0) > 0.8 * counts["ok"], counts


# -- objects changed after reading, and odd values ---------------------------------

def _messages_with_layouts() -> list[Message]:
    rng = random.Random(7)
    samples = _tree_samples()
    out: list[Message] = []
    while samples and len(out) < 400:
        doc = rng.choice(samples)
        try:
            data = _wbxml_py.encode(Document(doc.language, mutate_tree(doc.root, rng)))
            out.append(reference_decode(data, lenient=True))
        except ValueError:
            continue
    return out


def _nodes(x: Any) -> list[Node]:
    found = []
    if isinstance(x, Node):
        found.append(x)
        for f in dataclasses.fields(x):
            found += _nodes(getattr(x, f.name))
    elif isinstance(x, tuple):
        for v in x:
            found += _nodes(v)
    return found


ODD_VALUES = [None, False, True, "", "x", OpaqueStr("o"), OpaqueStr(""), b"", b"\xff", 7, (), ("a", b"b"),
              Element("Data", ["d"], {"wbxml:attr-0-05": ""}), Element("Anchor", [Element("Next", ["1"])]),
              Document(SYNCML_BY_VERSION["1.2"], Element("SyncML")), [Element("Final")]]


def test_changed_objects(ext):
    messages = _messages_with_layouts()
    if not messages:
        pytest.skip("corpus not found")
    rng = random.Random(99)
    with_layout = 0
    for msg in messages:
        nodes = _nodes(msg)
        laid = [n for n in nodes if n._layout is not None]
        for node in rng.sample(laid, min(3, len(laid))) + rng.sample(nodes, min(2, len(nodes))):
            with_layout += node._layout is not None
            spec = rng.choice(node._spec)
            value = getattr(node, spec.attr)
            if spec.card >= 2:  # MANY: add, drop or replace values
                new = tuple(value) + tuple(rng.sample(ODD_VALUES, 2)) if rng.random() < 0.5 else tuple(value)[1:]
            else:
                new = rng.choice([*ODD_VALUES, value])
            changed = dataclasses.replace(node, **{spec.attr: new})
            if rng.random() < 0.2 and changed._layout is not None:  # a layout that no longer fits
                lay = changed._layout
                changed = dataclasses.replace(changed, _layout=Layout((*lay.order, 0, -1, 99), lay.extras, lay.attrs))
            lang = SYNCML_BY_VERSION["1.2"]
            for opts in ENCODE_OPTIONS[:2]:
                check_encode(ext, changed, lang, **opts)
    assert with_layout > 120, with_layout


def test_hand_built_message(ext):
    msg = Message(header=SyncHdr(ver_dtd="1.2", ver_proto="SyncML/1.2", session_id="1", msg_id="1",
                                 target=Target(loc_uri="srv"), source=Source(loc_uri="dev")),
                  body=SyncBody(final=True))
    lang = msg.language()
    assert fast_encode(ext, msg, lang) == reference_encode(msg, lang) == msg.to_bytes()
    assert shape(fast_decode(ext, msg.to_bytes())) == shape(Message.from_bytes(msg.to_bytes())) == shape(msg)
    # an object that is not a model object at all: no answer, the reference's error
    assert fast_encode(ext, Item(meta="not a Meta"), lang) is None
    with pytest.raises(AttributeError):
        reference_encode(Item(meta="x"), lang)
    # options the encoder does not know: the reference's TypeError
    assert fast_encode(ext, msg, lang, colour="red") is None
    assert outcome(msg.to_bytes, colour="red") == outcome(reference_encode, msg, lang, colour="red")


def test_any_buffer(ext):
    data = MESSAGES[0].read_bytes() if MESSAGES else b""
    if not data or data[0] > 3:
        pytest.skip("corpus not found")
    msg = fast_decode(ext, data)
    for buf in (bytearray(data), memoryview(data), memoryview(b"xx" + data)[2:]):
        assert shape(fast_decode(ext, buf)) == shape(msg)
        assert shape(Message.from_bytes(buf)) == shape(msg)
    with pytest.raises(TypeError):
        fast_decode(ext, "text")


# -- hand-made WBXML ------------------------------------------------------------------

TARGET_T, LOCURI_T, NORESP, ALERT, CMDID_T, DATA_T = 0x6E, 0x57, 0x5D, 0x46, 0x4B, 0x4F


@pytest.mark.parametrize("body, lenient", [
    # text in pieces (STR_I + STR_T-free ENTITY), a switch inside a leaf
    (bytes([SYNCBODY, ALERT, CMDID_T]) + s("1") + b"\x02" + mb(0x41) + bytes([0, 0, END, DATA_T]) + s("200")
     + bytes([END, END, END]), False),
    # opaque text in a leaf: OpaqueStr; not UTF-8: bytes
    (bytes([SYNCBODY, ALERT, CMDID_T, OPAQUE]) + mb(1) + b"7" + bytes([END, DATA_T, OPAQUE]) + mb(2) + b"\xff\x00"
     + bytes([END, END, END]), False),
    # a flag with content bit and a switch, a flag with text (must be empty)
    (bytes([SYNCBODY, ALERT, CMDID_T]) + s("1") + bytes([NORESP, 0, 0, END, END, END]), False),
    (bytes([SYNCBODY, ALERT, CMDID_T]) + s("1") + bytes([NORESP]) + s("x") + bytes([END, END, END]), False),
    # text directly in a model element (extras, merged), then out of order
    (bytes([SYNCBODY]) + s("a") + s("b") + bytes([OPAQUE]) + mb(1) + b"c" + bytes([0x12, END]), False),
    # an undeclared element with a nested element
    (bytes([SYNCBODY, TARGET_T, LOCURI_T]) + s("x") + bytes([END, END, 0x12, END]), False),
    # missing required fields, strict and lenient
    (bytes([SYNCBODY, ALERT, END, END]), False),
    (bytes([SYNCBODY, ALERT, END, END]), True),
    # empty elements without content bit
    (bytes([SYNCBODY & 0xBF]), False),
    # a literal tag (reference path)
    (bytes([SYNCBODY, 0x44]) + mb(0) + bytes([END, END]), False),
])
def test_hand_made(ext, body, lenient):
    for data in (syncml(body), syncml(body, table=b"Foo\x00")):
        ref = outcome(reference_decode, data, lenient)
        assert outcome(api_decode, data, lenient) == ref
        fast = fast_decode(ext, data, lenient)
        assert fast is None or ("ok", shape(fast)) == ref


def test_family_and_max_depth(ext):
    data = syncml(bytes([SYNCBODY, 0x12, END]))
    assert fast_decode(ext, data, family="devinf") is None
    assert ("ok", shape(fast_decode(ext, data, True, family="syncml"))) == outcome(reference_decode, data, True)
    assert outcome(api_decode, data) == outcome(reference_decode, data)
    for depth in (0, 1, 2, 3, 4):
        got = fast_decode(ext, data, True, max_depth=depth)
        ref = outcome(lambda d=depth: Message.from_element(_wbxml_py.decode(data, max_depth=d).root, lenient=True))
        assert (got is None and ref[0] != "ok") or ("ok", shape(got)) == ref, depth


def test_registry_growth_recompiles(ext):
    from syncml_codec.model._node import model, raw, text

    data = syncml(bytes([SYNCBODY, 0x12, END]))
    before = fast_decode(ext, data, True)

    @model("X-Test-Raw")
    class XTest(Node):
        name: str | None = text("LocURI")
        kept: Any = raw("Item", many=True)
        _layout: Layout | None = None

    try:
        assert shape(fast_decode(ext, data, True)) == shape(before)
        node = XTest(name="n", kept=(Element("Item", ["x"]), "text", b"\x01"))
        lang = SYNCML_BY_VERSION["1.2"]
        assert fast_encode(ext, node, lang, string_table=True) is not None
        for opts in ({}, {"string_table": True}):
            check_encode(ext, node, lang, **opts)
    finally:
        del REGISTRY["X-Test-Raw"]


def test_meta_anchor_in_data(ext):
    # <Data> holding an element (an Anchor, as Alert items do) and <Data> with several children
    xml = (b"<SyncML><SyncHdr><VerDTD>1.2</VerDTD><VerProto>SyncML/1.2</VerProto><SessionID>1</SessionID>"
           b"<MsgID>1</MsgID><Target><LocURI>s</LocURI></Target><Source><LocURI>c</LocURI></Source></SyncHdr>"
           b"<SyncBody><Alert><CmdID>1</CmdID><Data>200</Data><Item><Data><Anchor xmlns='syncml:metinf'>"
           b"<Next>2</Next></Anchor></Data></Item><Item><Data>a<Meta/>b</Data></Item></Alert><Final/></SyncBody>"
           b"</SyncML>")
    for options in ({}, {"string_table": True}):
        data = _wbxml_py.xml_to_wbxml(xml, **options)
        msg = fast_decode(ext, data)
        assert shape(msg) == shape(reference_decode(data))
        assert isinstance(msg.commands[0].items[0].data, Element)
        assert isinstance(msg.commands[0].items[1].data, tuple)
        assert fast_encode(ext, msg, msg.language(), **options) == reference_encode(msg, msg.language(), **options)


def test_devinf_is_not_a_message(ext):
    from ..conftest import corpus_path
    data = corpus_path("libwbxml", "gen", "wbxml", "syncml", "syncml-011.wbxml").read_bytes()
    assert fast_decode(ext, data, family="syncml") is None
    with pytest.raises(StructureError) as err:
        Message.from_bytes(data)
    assert "devinf document is not a SyncML message" in str(err.value)
