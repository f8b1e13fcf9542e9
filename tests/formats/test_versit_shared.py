"""What the two Versit tokenizers (the ``formats._versit`` extension and
the reference in ``formats.versit``) share instead of copying:

* every error they raise is written once, in ``formats/_versit_messages.py``:
  each case gives the exception that module builds (class, message, line,
  property) in both, and no other source of the tokenizer writes an error
  text of its own;
* the rules that are not hot, in ``formats/_versit_rules.py``: a change
  there shows in both implementations."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

import pytest

from syncml_codec.formats import _versit_messages as M
from syncml_codec.formats import _versit_rules as R
from syncml_codec.formats import versit
from syncml_codec.formats.versit import Component, FormatError, Tokenizer

from ..conftest import SRC, cython_versit

FORMATS = SRC / "formats"  # the checkout: an installed package has no Cython sources
SOURCES = {name: FORMATS / name for name in ("versit.py", "_versit_text.py", "_versit.pyx", "_versit_util.pxi")}


def caught(fn: Callable[[], Any]) -> tuple[str, str, int, str, str]:
    with pytest.raises(Exception) as info:
        fn()
    return described(info.value)


def described(exc: BaseException) -> tuple[str, str, int, str, str]:
    return (type(exc).__name__, getattr(exc, "reason", ""), getattr(exc, "line", 0),
            getattr(exc, "property", ""), str(exc))


# -- the tokenizer's errors, in both implementations -------------------------------

DEEP = b"".join(b"BEGIN:X%d\r\n" % i for i in range(versit.MAX_DEPTH + 1))
LONG = b"FN " + b"a" * 36 + b"\xc3\xbc und mehr"  # byte 40 is half of a "\xfc"

STRICT_CASES = [
    (b"BEGIN:VCARD\r\n" + LONG + b"\r\nEND:VCARD\r\n", M.no_colon(2, LONG)),
    (b"BEGIN:VCARD\r\nFN\r\n x\r\nEND:VCARD\r\n", M.no_colon(2, b"FN")),
    (b"BEGIN:VCARD\r\nX-F\xc3\xbcR;A=1:v\r\nEND:VCARD\r\n", M.bad_property_name(2, b"X-F\xc3\xbcR;A=1:")),
    (b"BEGIN:VCARD\r\na.b.c:1\r\nEND:VCARD\r\n", M.bad_property_name(2, b"a.b.c:")),
    (b"BEGIN:VCARD\r\nNOTE;ENCODING=QUOTED-PRINTABLE:a=ZZ\r\nEND:VCARD\r\n", M.bad_quoted_printable(2, "NOTE")),
    (DEEP, M.too_deep(versit.MAX_DEPTH + 1)),
    (b"BEGIN:VCARD\r\nEND: vcalendar \r\n", M.end_closes_other(2, "vcalendar", "VCARD")),
    (b"BEGIN:\xc3\xa9\r\nEND:\xff\r\n", M.end_closes_other(2, "\ufffd", "\ufffd\ufffd")),
    (b"X:1\r\n", M.text_outside(1, "X")),
    (b"BEGIN:A\r\nEND:A\r\nX;Y=1:1\r\n", M.text_outside(3, "X")),
    (b"BEGIN:VCARD\r\nFN:a\r\n", M.no_end("VCARD", 1)),
    (b"\r\nBEGIN:A\r\nBEGIN:B\r\nEND:B\r\n", M.no_end("A", 2)),
    (b"\r\n\x0b\r\n", M.no_begin_line(2)),
]


@pytest.mark.parametrize(("data", "error"), STRICT_CASES, ids=range(len(STRICT_CASES)))
def test_strict_errors_come_from_the_messages_module(versit_impl: Tokenizer, data: bytes,
                                                     error: FormatError) -> None:
    assert caught(lambda: versit_impl.parse_items(data)) == described(error)


def test_messages_read_as_before() -> None:
    """The texts themselves, as users have known them."""
    assert str(M.no_colon(2, LONG)) == f"content line has no ':' (line 2, property FN {'a' * 36}\udcc3)"
    assert M.bad_property_name(2, b"\xc3\xbc" * 30).property == "ü" * 20
    assert M.bad_property_name(2, b"a" * 39 + b"\xc3\xbc").property == "a" * 39 + "\udcc3"
    assert str(M.end_closes_other(5, "A", "B")) == "END:A closes BEGIN:B (line 5, property END)"
    assert str(M.no_end("VCARD", 1)) == "BEGIN:VCARD has no END (line 1, property BEGIN)"
    assert str(M.no_begin_line(0)) == "no BEGIN line (line 1)"
    assert str(M.no_item()) == "no BEGIN ... END item in the text (line 1)"


def test_lenient_text_without_an_item() -> None:
    assert caught(lambda: versit.parse_items(b"junk\r\n", lenient=True)) == described(M.no_item())


def test_value_errors(versit_impl: Tokenizer) -> None:
    data = (b"BEGIN:VCARD\r\nVERSION:3.0\r\nPHOTO;ENCODING=b:AA!A\r\n"
            b"NOTE;CHARSET=X-NONE:x\r\nEND:VCARD\r\n")
    (item,) = versit_impl.parse_items(data)
    photo, note = item.find("PHOTO"), item.find("NOTE")
    assert photo is not None and note is not None
    with pytest.raises(binascii.Error) as b64:
        base64.b64decode(b"AA!A", validate=True)
    assert caught(lambda: photo.data) == described(M.bad_base64(b64.value, 3, "PHOTO"))
    assert caught(lambda: note.value) == described(M.unknown_charset("X-NONE", 4, "NOTE"))


# -- the extension's own errors (no counterpart in the reference) -----------------

def test_extension_only_errors() -> None:
    ext = cython_versit()

    class NoSlot(Component):  # its slots are Component's, not its own
        __slots__ = ()

    assert caught(lambda: ext.VersitCodec(versit.ContentLine, int, Component,
                                          versit.parse_head_bytes, 8)) == described(M.not_a_slot(int, "raw"))
    assert caught(lambda: ext.VersitCodec(versit.ContentLine, versit.RawLine, NoSlot,
                                          versit.parse_head_bytes, 8)) == described(M.not_a_slot(NoSlot, "begin"))
    codec = versit.cython_tokenizer(ext)
    (item,) = codec.parse_items(b"BEGIN:A\r\nEND:A\r\n")
    top = node = Component(item.begin)
    for _ in range(10_001):
        child = Component(item.begin)
        node.children.append(child)
        node = child
    assert caught(lambda: codec.serialize_items([top])) == described(M.serialize_too_deep())


def test_read_only_member_is_refused() -> None:
    ext = cython_versit()

    class Computed:  # "raw" is there, but a property
        __slots__ = ("lineno",)
        raw = property(lambda self: b"")

    assert caught(lambda: ext.VersitCodec(versit.ContentLine, Computed, Component, versit.parse_head_bytes,
                                          8)) == described(M.not_a_writable_slot(Computed, "raw"))


# -- structure: each error is written once, and both implementations use it -------

#: a literal text handed to an exception (``raise X("...")``, ``FooError(f"...")``)
LITERAL_ERROR = re.compile(r"""(?:raise\s+\w+|Error)\s*\(\s*(?:[^()"']*,\s*)?[bfru]*["'][^"']{6,}""")

#: every error function, by who raises it
BOTH = {"no_colon", "bad_property_name", "bad_quoted_printable", "too_deep", "end_closes_other",
        "text_outside", "no_end", "no_begin_line"}
REFERENCE = {"no_item", "bad_base64", "unknown_charset"}  # one code path serves both
EXTENSION = {"serialize_too_deep", "not_a_slot", "not_a_writable_slot"}


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_no_error_text_outside_the_messages_module(name: str) -> None:
    assert LITERAL_ERROR.findall(SOURCES[name].read_text()) == []


@pytest.mark.parametrize("line", [
    'raise FormatError("content line has no \':\'", start + 1,',
    "raise FormatError(f\"END:{name} closes BEGIN:{top}\", tok.lineno, 'END')",
    '    raise FormatError(\n        "bad property name", 1)',
    "raise TypeError(f'{cls!r} has no slot {name!r}')",
    'raise RecursionError("components nested too deeply to serialize")',
    'exc = FormatError("no BEGIN line", lineno or 1)',
])
def test_the_literal_rule_catches(line: str) -> None:
    assert LITERAL_ERROR.search(line)


def test_every_error_has_its_users() -> None:
    assert set(M.__all__) == BOTH | REFERENCE | EXTENSION
    used = {name: set(re.findall(r"\bM\.(\w+)\(", path.read_text())) for name, path in SOURCES.items()}
    cython = used["_versit.pyx"] | used["_versit_util.pxi"]
    assert used["versit.py"] == BOTH | REFERENCE
    assert cython == BOTH | EXTENSION


def test_every_rule_has_both_users() -> None:
    for name in ("_versit.pyx", "versit.py"):
        used = set(re.findall(r"\bR\.(\w+)\(", SOURCES[name].read_text()))
        assert used == set(R.__all__) - {"LEGACY_ITEMS"}, name


# -- one home: a change there shows in both implementations ------------------------

def test_both_follow_a_changed_message(versit_impl: Tokenizer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(M, "text_outside", lambda line, name: FormatError("changed", line, name))
    assert caught(lambda: versit_impl.parse_items(b"X:1\r\n"))[:4] == ("FormatError", "changed", 1, "X")


def test_both_follow_a_changed_rule(versit_impl: Tokenizer, monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"BEGIN:VEVENT\r\nSUMMARY:a\r\nEND:VEVENT\r\n"
    assert [item.version for item in versit_impl.parse_items(data)] == ["2.0"]
    assert versit_impl.parse_items(b"\r\n") == []
    monkeypatch.setattr(R, "LEGACY_ITEMS", R.LEGACY_ITEMS | {"VEVENT"})
    monkeypatch.setattr(R, "has_text", lambda outside: True)
    assert [item.version for item in versit_impl.parse_items(data)] == [None]
    assert caught(lambda: versit_impl.parse_items(b"\r\n"))[:3] == ("FormatError", "no BEGIN line", 1)
    monkeypatch.setattr(R, "closes", lambda end, top: end.strip() == b"\xff")
    (item,) = versit_impl.parse_items(b"BEGIN:\xc3\xa9\r\nEND:\xff\r\n")  # 8-bit: the C port asks R
    assert item.end is not None


@pytest.mark.parametrize(("end", "top", "want"), [
    (b" vcard\t", "VCARD", True), (b"VCARDS", "VCARD", False), (b"\xc3\xa9", "\ufffd\ufffd", True),
    (b"\xff", "\ufffd\ufffd", False), (b"\xff", "\ufffd", True), (b"x\xff", "X\ufffd", True),
])
def test_end_closes_by_python_case_rules(end: bytes, top: str, want: bool) -> None:
    assert R.closes(end, top) is want
