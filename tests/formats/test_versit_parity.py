"""The Cython Versit tokenizer (``syncml_codec.formats._versit``) against the
pure-Python reference (``formats.versit``): on every corpus file and on
deterministic mutations of them (truncations, inserted garbage, CR/LF
variants, a BOM), in strict and lenient mode, both give equal trees (every
slot of every object, line numbers and versions included) and the same
serialized bytes, or the same FormatError (message, line, property)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

from syncml_codec.formats import versit
from syncml_codec.formats._versit_text import parse_head_bytes
from syncml_codec.formats.versit import Component, ContentLine, RawLine, Tokenizer
from tests.conftest import NO_EXTENSIONS, cython_versit
from tests.formats.test_versit import CORPUS_FILES, FORMATS

GARBAGE = [b"\x00", b":", b'"', b";", b"=", b".", b"\r", b"\n", b"\n ", b"\r\n\t", b"\n\n", b"\r\n\r\n",
           b"END:VCARD\r\n", b"BEGIN:VCARD\r\n", b"END:X\n", b"\xff\xfe", b"\xc3\xa9", b"=ZZ", b"=\r\n",
           b" ", b"\t", b"\x0b", b"ENCODING=BASE64;", b";QUOTED-PRINTABLE", b"item1.", b"a.b."]


@pytest.fixture(scope="module")
def c_impl() -> Tokenizer:
    if NO_EXTENSIONS:
        pytest.skip("SYNCML_CODEC_NO_EXTENSIONS=1: pure-Python run")
    return versit.cython_tokenizer(cython_versit())


def shape(obj: Any) -> Any:
    """Everything an object holds, its class included, as plain data."""
    if isinstance(obj, list):
        return [shape(o) for o in obj]
    if isinstance(obj, (Component, ContentLine, RawLine)):
        slots = {name: getattr(obj, name) for name in type(obj).__slots__}
        return (type(obj).__name__, {k: shape(v) for k, v in sorted(slots.items())})
    if isinstance(obj, tuple):
        return tuple(shape(o) for o in obj)
    return (type(obj).__name__, obj)


def outcome(impl: Tokenizer, data: bytes, lenient: bool, version: str | None = None) -> Any:
    try:
        items = impl.parse_items(data, lenient=lenient, version=version)
    except versit.FormatError as exc:
        return ("error", type(exc).__name__, exc.reason, exc.line, exc.property)
    return ("items", shape(items), impl.serialize_items(items))


def check(c_impl: Tokenizer, data: bytes, lenient: bool, version: str | None = None) -> None:
    want = outcome(versit.PYTHON, data, lenient, version)
    got = outcome(c_impl, data, lenient, version)
    assert got == want, data[:200]
    if want[0] == "items" and lenient and want[1]:  # (without any item the text is dropped)
        assert want[2] == data


def mutations(data: bytes, rng: random.Random) -> Iterator[bytes]:
    yield data.replace(b"\r\n", b"\n")
    yield data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    yield data.replace(b"\n", b"\r")
    yield data.replace(b"\r\n", b"\r\r\n")
    yield b"\xef\xbb\xbf" + data
    yield data.rstrip(b"\r\n")
    yield data + b"\r\n\r\n"
    if not data:
        return
    for _ in range(4):
        yield data[: rng.randrange(len(data))]
    for _ in range(8):
        i = rng.randrange(len(data) + 1)
        yield data[:i] + rng.choice(GARBAGE) + data[i:]
    lines = data.splitlines(keepends=True)
    for _ in range(3):  # drop, double or indent one line
        i = rng.randrange(len(lines))
        yield b"".join(lines[:i] + lines[i + 1:])
        yield b"".join([*lines[:i], lines[i], *lines[i:]])
        yield b"".join([*lines[:i], b" " + lines[i], *lines[i + 1:]])


@pytest.mark.skipif(not CORPUS_FILES, reason="no ../shared/corpus/formats")
@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_and_mutations(c_impl: Tokenizer, name: str) -> None:
    data = (FORMATS / name).read_bytes()
    rng = random.Random(f"versit:{name}")
    for lenient in (False, True):
        check(c_impl, data, lenient)
    check(c_impl, data, False, "3.0")
    for variant in mutations(data, rng):
        for lenient in (False, True):
            check(c_impl, variant, lenient)


EDGE_CASES = [
    b"",
    b"\xef\xbb\xbf",
    b"\xef\xbb\xbf\r\n\r\n",
    b"\r\n\x0b\r\n",
    b"junk",
    b"X:1\r\n",
    b"END:VCARD\r\n",
    b"BEGIN:VCARD",
    b"BEGIN:VCARD\r\nEND:VCARD",
    b"BEGIN:vcard\r\nEND:VCard\r\n",
    b"BEGIN:VCARD\r\nEND:VCALENDAR\r\n",
    b"BEGIN:\xc3\xa9\r\nEND:\xff\xfe\r\n",
    b"BEGIN:\xc3\xa9\r\nEND:\xff\r\n",
    b"BEGIN: VCARD \r\nEND:vcard\t\r\n",
    b"BEGIN:VCARD\r\nVERSION:3.0\r\nBEGIN:X\r\nEND:X\r\nVERSION:2.1\r\nEND:VCARD\r\n",
    b"BEGIN:VEVENT\r\nSUMMARY:a\r\nEND:VEVENT\r\n",
    b"BEGIN:VCARD\r\nFN Hans\r\n more\r\nEND:VCARD\r\n",
    b"BEGIN:VCARD\r\nFN\r\n :x\r\nEND:VCARD\r\n",
    b"BEGIN:VCARD\r\nFN;X=a\r\n b:x\r\nEND:VCARD\r\n",
    b'BEGIN:VCARD\r\nX;P="a:b;c":v:w\r\nEND:VCARD\r\n',
    b'BEGIN:VCARD\r\nX;P="a:b:v\r\nEND:VCARD\r\n',
    b"BEGIN:VCARD\r\nX-FOO;LABEL=M\xc3\xbcller:v\r\nEND:VCARD\r\n",
    b"BEGIN:VCARD\r\nNOTE;encod\xc4\xb1ng=QUOTED-PRINTABLE:a=\r\nb\r\nEND:VCARD\r\n",
    b"BEGIN:VCARD\r\nPHOTO;ba\xc5\xbfe64:\r\nAAAA\r\n\r\nEND:VCARD\r\n",
    b"BEGIN:VCARD\r\n X:1\r\nEND:VCARD\r\n",
    b"BEGIN:VCARD\r\nX :1\r\nEND:VCARD\r\n",
    b"BEGIN:VCARD\r\na.b.c:1\r\n.c:1\r\na.:1\r\n:1\r\nEND:VCARD\r\n",
    b"BEGIN:VCARD\r\nitem1.TEL;type=CELL;type=pref:1\r\nEND:VCARD\r\n",
    b"BEGIN:VCARD\r\nNOTE:a\r\n\r\n\r\n b\r\nEND:VCARD\r\n",
    b"BEGIN:VCARD\r\nNOTE:a\r\n\r\n \r\nX:1\r\nEND:VCARD\r\n",
    b"BEGIN:VCARD\r\nNOTE;ENCODING=QUOTED-PRINTABLE:a=\r\nEND:VCARD\r\n",
    b"BEGIN:VCARD\r\nNOTE;ENCODING=QUOTED-PRINTABLE:a=\r\n\r\nb\r\nEND:VCARD\r\n",
    b"BEGIN:VCARD\r\nNOTE;ENCODING=QUOTED-PRINTABLE:a=\r\nend:x\r\nEND:VCARD\r\n",
    b"BEGIN:VCARD\r\nNOTE;ENCODING=\"QUOTED-PRINTABLE\",x:a=\r\nb\r\nEND:VCARD\r\n",
    b"BEGIN:VCARD\r\nNOTE;ENCODING=,QUOTED-PRINTABLE:a=ZZ\r\nEND:VCARD\r\n",
    b"BEGIN:VCARD\r\nNOTE;QUOTED-PRINTABLE;ENCODING=BASE64:a=\r\nb\r\nEND:VCARD\r\n",
    b"BEGIN:VCARD\r\nNOTE;8BIT;QUOTED-PRINTABLE:a=\r\nb\r\nEND:VCARD\r\n",
    b"BEGIN:VCARD\r\nNOTE;ENCODING=QUOTED-PRINTABLE:a=ZZ\r\nEND:VCARD\r\n",
    b"BEGIN:VCARD\r\nNOTE;ENCODING=QUOTED-PRINTABLE:a=\rb=4\r\nEND:VCARD\r\n",
    b"BEGIN:VCARD\r\nNOTE;ENCODING=QUOTED-PRINTABLE:a=",
    b"BEGIN:VCARD\r\nPHOTO;ENCODING=BASE64:\r\nAAAA\r\nBBB=\r\r\n\r\nX:1\r\nEND:VCARD\r\n",
    b"BEGIN:VCARD\r\nPHOTO;BASE64:AAAA\nBBBB\n\nEND:VCARD\n",
    b"BEGIN:VCARD\r\nPHOTO;ENCODING=b:AAAA\r\n BBBB\r\n\r\nEND:VCARD\r\n",
    b"BEGIN:VCARD\r\nPHOTO;ENCODING=BASE64:AAAA",
    b"BEGIN:VCARD\r\n\x00:\x00\r\nEND:VCARD\r\n",
    b"BEGIN:VCARD\r\nX\x00:1\r\nEND:VCARD\r\n",
    b"\r\n\r\nBEGIN:A\r\nEND:A\r\njunk\r\n\r\nBEGIN:B\r\nEND:B\r\n\r\n",
    b"BEGIN:A\r\nBEGIN:B\r\nEND:A\r\nEND:B\r\n",
    b"".join(b"BEGIN:X%d\r\n" % i for i in range(40)),
    b"".join(b"BEGIN:X%d\r\n" % i for i in range(32)) + b"".join(b"END:X%d\r\n" % i for i in reversed(range(32))),
]


@pytest.mark.parametrize("data", EDGE_CASES, ids=range(len(EDGE_CASES)))
def test_edge_cases(c_impl: Tokenizer, data: bytes) -> None:
    for lenient in (False, True):
        for version in (None, "3.0"):
            check(c_impl, data, lenient, version)


def test_any_buffer(c_impl: Tokenizer) -> None:
    data = b"BEGIN:VCARD\r\nVERSION:2.1\r\nTEL;CELL:1\r\nEND:VCARD\r\n"
    want = shape(c_impl.parse_items(data))
    assert shape(c_impl.parse_items(bytearray(data))) == want
    assert shape(c_impl.parse_items(memoryview(data))) == want
    assert shape(c_impl.parse_items(memoryview(b"x".join(bytes([c]) for c in data))[::2])) == want
    with pytest.raises(TypeError):
        c_impl.parse_items("BEGIN:VCARD")  # type: ignore[arg-type]


def test_changed_lines_serialize_alike(c_impl: Tokenizer) -> None:
    data = b"BEGIN:VCARD\r\nVERSION:2.1\r\nTEL;CELL:1\r\nNOTE:x\r\nEND:VCARD\r\n"
    (item,) = c_impl.parse_items(data)
    note = item.find("NOTE")
    assert note is not None
    note.set_text("Grüße\nzwei")
    item.children.append(RawLine(b"\r\n", 0))
    want = versit.PYTHON.serialize_items([item])
    assert c_impl.serialize_items([item]) == want
    assert item.serialize() == want
    assert b"ENCODING=QUOTED-PRINTABLE" in want


def test_subclass_serializes_through_attributes(c_impl: Tokenizer) -> None:
    class Mine(Component):
        __slots__ = ()

    data = b"BEGIN:VCARD\r\nVERSION:2.1\r\nTEL;CELL:1\r\nEND:VCARD\r\n"
    (item,) = versit.PYTHON.parse_items(data)
    mine = Mine(item.begin)
    mine.children, mine.end = item.children, item.end
    assert mine.serialize() == data
    assert c_impl.serialize_items([mine]) == data == versit.PYTHON.serialize_items([mine])


def test_classes_without_writable_slots_are_refused() -> None:
    """The extension fills objects only through the slots of the classes it
    is given (their member descriptors): anything else is refused up front."""
    codec_class = cython_versit().VersitCodec

    class NoSlots:  # a __dict__ instead of slots
        def __init__(self) -> None:
            self.raw = b""
            self.lineno = 0

    class ReadOnly(RawLine):  # "raw" a property, not a slot of this class
        __slots__ = ()
        raw = property(lambda self: b"")  # type: ignore[assignment]

    class Slots:
        __slots__ = ("lineno", "raw")

    def make(raw_line: Any) -> Any:
        return codec_class(ContentLine, raw_line, Component, parse_head_bytes, versit.MAX_DEPTH)

    for bad in (NoSlots, ReadOnly, int, "RawLine"):
        with pytest.raises(TypeError, match="slot"):
            make(bad)
    # a class of its own with the same slots works like RawLine
    tok = versit.Tokenizer("cython", make(Slots).parse, make(Slots).serialize)
    data = b"BEGIN:VCARD\r\nVERSION:2.1\r\n\r\nEND:VCARD\r\n"
    (item,) = tok.parse_items(data)
    (blank,) = [c for c in item.children if isinstance(c, Slots)]
    assert (blank.raw, blank.lineno) == (b"\r\n", 3)
    assert tok.serialize_items([item]) == data


def test_gc_state_is_restored(c_impl: Tokenizer) -> None:
    import gc

    assert gc.isenabled()
    c_impl.parse_items(b"BEGIN:A\r\nEND:A\r\n")
    assert gc.isenabled()
    with pytest.raises(versit.FormatError):
        c_impl.parse_items(b"BEGIN:A\r\n")
    assert gc.isenabled()
    gc.disable()
    try:
        c_impl.parse_items(b"BEGIN:A\r\nEND:A\r\n")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_selected_implementation() -> None:
    from tests.conftest import _versit_c

    expected = "python" if NO_EXTENSIONS or _versit_c is None else "cython"
    assert expected == versit.IMPLEMENTATION


def test_stub_matches_the_extension(c_impl: Tokenizer) -> None:
    import ast
    import inspect
    from pathlib import Path

    import syncml_codec.formats as formats_pkg

    tree = ast.parse(Path(formats_pkg.__file__).with_name("_versit.pyi").read_text())
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "VersitCodec"]
    ext = cython_versit().VersitCodec
    for fn in cls.body:
        assert isinstance(fn, ast.FunctionDef)
        if fn.name == "__init__":
            continue
        want = [a.arg for a in fn.args.args] + [a.arg for a in fn.args.kwonlyargs]
        params = inspect.signature(getattr(ext, fn.name)).parameters
        assert list(params) == want, fn.name
        assert [p.name for p in params.values() if p.kind is p.KEYWORD_ONLY] == [a.arg for a in fn.args.kwonlyargs]
