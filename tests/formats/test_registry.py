"""The content-type registry: detection, byte-identical parse/serialize of
every corpus vCard through ``parse``, conversion and its errors."""

from __future__ import annotations

import base64
import pickle

import pytest

from syncml_codec.errors import SyncMLError
from syncml_codec.formats import parse_items
from syncml_codec.formats.registry import (
    Item,
    UnsupportedFormatError,
    VCardItem,
    VersitItem,
    content_type_of,
    detect_content_type,
    parse,
    register,
    registered_types,
)
from syncml_codec.formats.vcard import normalized
from syncml_codec.formats.versit import FormatError

from .vcard_corpus import FORMATS, vcard_file_items

ITEMS = vcard_file_items()


def _item_bytes(name: str, index: int) -> bytes:
    comp = parse_items((FORMATS / name).read_bytes())[index]
    return comp.leading + comp.serialize() + comp.trailing


@pytest.mark.skipif(not ITEMS, reason="no ../shared/corpus/formats")
@pytest.mark.parametrize(("name", "index"), ITEMS)
def test_corpus_parse_serialize_identical(name: str, index: int) -> None:
    data = _item_bytes(name, index)
    item = parse(data)
    assert isinstance(item, VCardItem) and isinstance(item, Item)
    assert item.serialize() == data
    assert item.content_type == ("text/x-vcard" if item.version == "2.1" else "text/vcard")
    again = parse(data, item.content_type)
    assert again.serialize() == data


@pytest.mark.skipif(not ITEMS, reason="no ../shared/corpus/formats")
def test_corpus_whole_single_item_files() -> None:
    whole = [n for n in {n for n, _ in ITEMS} if len(parse_items((FORMATS / n).read_bytes())) == 1]
    assert len(whole) >= 40
    for name in whole:
        data = (FORMATS / name).read_bytes()
        assert parse(data).serialize() == data


CARD21 = b"BEGIN:VCARD\r\nVERSION:2.1\r\nN:Doe;John\r\nTEL;CELL:1\r\nEND:VCARD\r\n"
CARD30 = b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Doe;John\r\nTEL;TYPE=CELL:1\r\nEND:VCARD\r\n"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (CARD21, "text/x-vcard"),
        (CARD30, "text/vcard"),
        (b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:x\r\nEND:VCARD\r\n", "text/vcard"),
        (b"\xef\xbb\xbf\r\nbegin:vcard\nFN:x\nEND:VCARD\n", "text/x-vcard"),
        (b"BEGIN:VCALENDAR\r\nVERSION:1.0\r\nEND:VCALENDAR\r\n", "text/x-vcalendar"),
        (b"BEGIN:VCALENDAR\r\nPRODID:x\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", "text/calendar"),
        (b"BEGIN:VNOTE\r\nVERSION:1.1\r\nBODY:x\r\nEND:VNOTE\r\n", "text/x-vnote"),
    ],
)
def test_detect_and_parse(data: bytes, expected: str) -> None:
    assert detect_content_type(data) == expected
    item = parse(data)
    assert item.content_type == expected
    assert item.serialize() == data


@pytest.mark.parametrize(
    "data",
    [b"", b"hello", b"<SIFC/>", b"BeGIN:\x00\n", b"Subject-less: text\r\nwithout a mail header\r\n",
     b"BEGIN:VCALENDAR\r\nVERSION:3.1\r\nEND:VCALENDAR\r\n", b"BEGIN:VCARD\r\nVERSION:5.0\r\nEND:VCARD\r\n"],
)
def test_detect_fails_clearly(data: bytes) -> None:
    with pytest.raises(UnsupportedFormatError, match="content type") as exc:
        parse(data)
    assert isinstance(exc.value, FormatError) and isinstance(exc.value, SyncMLError)
    assert isinstance(exc.value, ValueError)


def test_content_type_normalized_and_declared_type_wins_parser_choice() -> None:
    assert content_type_of(" Text/VCard ; charset=UTF-8") == "text/vcard"
    item = parse(CARD21, "TEXT/VCARD; charset=utf-8")
    assert isinstance(item, VCardItem)
    assert item.content_type == "text/x-vcard"  # what the data is, not what was declared


def test_unknown_type_and_pickle() -> None:
    with pytest.raises(UnsupportedFormatError, match="unknown content type 'application/x-foo'") as exc:
        parse(CARD21, "application/x-foo")
    assert exc.value.content_type == "application/x-foo"
    err = pickle.loads(pickle.dumps(exc.value))
    assert (err.reason, err.content_type, str(err)) == (exc.value.reason, "application/x-foo", str(exc.value))


def test_bad_data_raises_format_error() -> None:
    with pytest.raises(FormatError) as exc:
        parse(b"BEGIN:VCARD\r\nVERSION:2.1\r\nFN Hans\r\nEND:VCARD\r\n")
    assert exc.value.line == 3
    with pytest.raises(FormatError, match="expected one item"):
        parse(CARD21 + CARD21)
    with pytest.raises(FormatError, match="expected BEGIN:VCARD"):
        parse(b"BEGIN:VNOTE\r\nBODY:x\r\nEND:VNOTE\r\n", "text/vcard")


def test_convert_vcard_both_ways() -> None:
    v30 = parse(CARD21).convert("text/vcard")
    assert v30.content_type == "text/vcard"
    assert v30.serialize() == CARD30
    v21 = v30.convert("text/x-vcard")
    assert v21.serialize() == CARD21
    assert isinstance(v21, VCardItem)
    (a,) = parse_items(v21.serialize())
    (b,) = parse_items(CARD21)
    assert normalized(a) == normalized(b)


def test_convert_to_same_type_is_a_copy() -> None:
    item = parse(CARD21)
    copy = item.convert("text/x-vcard")
    assert copy is not item and copy.serialize() == CARD21


def test_impossible_conversions() -> None:
    with pytest.raises(UnsupportedFormatError, match="not implemented yet"):
        parse(CARD21).convert("text/calendar")
    with pytest.raises(UnsupportedFormatError, match="unknown content type"):
        parse(CARD21).convert("application/x-foo")
    with pytest.raises(UnsupportedFormatError, match=r"vCard 4\.0"):
        parse(b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:x\r\nEND:VCARD\r\n").convert("text/x-vcard")
    cal = parse(b"BEGIN:VCALENDAR\r\nVERSION:1.0\r\nEND:VCALENDAR\r\n")
    assert isinstance(cal, VersitItem)
    converted = cal.convert("text/calendar")
    assert converted.content_type == "text/calendar" and b"VERSION:2.0" in converted.serialize()
    with pytest.raises(UnsupportedFormatError, match="text/x-vcalendar -> a note is for journal entries only"):
        cal.convert("text/x-vnote")
    assert cal.convert("text/x-vcalendar").serialize() == cal.serialize()


def test_register_another_type() -> None:
    class Plain:
        content_type = "text/x-test-plain"

        def __init__(self, data: bytes) -> None:
            self.data = data

        def serialize(self) -> bytes:
            return self.data

        def convert(self, target_content_type: str) -> Item:
            raise UnsupportedFormatError("no", target_content_type)

    register("Text/X-Test-Plain", lambda data, ct: Plain(data))
    try:
        assert "text/x-test-plain" in registered_types()
        item = parse(b"hi", "text/x-test-plain")
        assert isinstance(item, Item) and item.serialize() == b"hi"
        with pytest.raises(ValueError, match="already registered"):
            register("text/x-test-plain", lambda data, ct: Plain(data))
        register("text/x-test-plain", lambda data, ct: Plain(data + b"!"), replace=True)
        assert parse(b"hi", "text/x-test-plain").serialize() == b"hi!"
    finally:
        from syncml_codec.formats import _table

        _table._PARSERS.pop("text/x-test-plain", None)


def test_builtin_types_registered() -> None:
    assert {"text/x-vcard", "text/vcard", "text/x-vcalendar", "text/calendar", "text/x-vnote"} <= set(
        registered_types())


def test_bare_calendar_component_is_calendar_but_not_an_item() -> None:
    data = b"BEGIN:VEVENT\r\nSUMMARY:x\r\nEND:VEVENT\r\n"
    assert detect_content_type(data) == "text/calendar"
    with pytest.raises(FormatError, match="expected BEGIN:VCALENDAR"):
        parse(data)


@pytest.mark.parametrize(("data", "expected"), [
    (b'<?xml version="1.0" encoding="UTF-8"?>\n<contact><FirstName>A</FirstName></contact>', "text/x-s4j-sifc"),
    (b"<!-- x --><appointment><Subject>s</Subject></appointment>", "text/x-s4j-sife"),
    (b"<task/>", "text/x-s4j-sift"),
    (b"\xef\xbb\xbf<note><Body>b</Body></note>", "text/x-s4j-sifn"),
    (base64.b64encode(b"<contact><FileAs>A</FileAs></contact>"), "text/x-s4j-sifc"),
    (b"<Email><read>true</read></Email>", "application/vnd.omads-email+xml"),
    (b"<Folder><name>x</name></Folder>", "application/vnd.omads-folder+xml"),
    (b"<File><name>x</name></File>", "application/vnd.omads-file+xml"),
    (b"Received: by x\r\nFrom: a@b\r\nSubject: s\r\n\r\nbody", "message/rfc822"),
    (b"From a@b Mon Jan  1 00:00:00 2024\nSubject: s\n\nbody", "message/rfc822"),
    (b"BEGIN:VCALENDAR\r\nPRODID:x\r\nEND:VCALENDAR\r\n", "text/calendar"),
])
def test_detect_non_versit(data: bytes, expected: str) -> None:
    assert detect_content_type(data) == expected
    assert parse(data).content_type == expected


def test_lenient_parse_keeps_broken_lines() -> None:
    data = b"BEGIN:VCARD\r\nVERSION:2.1\r\nno colon here\r\nN:A\r\nEND:VCARD\r\n"
    with pytest.raises(FormatError, match="no ':'"):
        parse(data)
    item = parse(data, lenient=True)
    assert item.serialize() == data


# -- the conversion table (issue 11: register_conversion instead of if-chains) --------
SAMPLES = {
    "text/x-vcard": CARD21,
    "text/vcard": CARD30,
    "text/x-vcalendar": b"BEGIN:VCALENDAR\r\nVERSION:1.0\r\nBEGIN:VEVENT\r\nSUMMARY:x\r\n"
                        b"DTSTART:20240101T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    "text/calendar": b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTODO\r\nSUMMARY:x\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
    "text/x-vnote": b"BEGIN:VNOTE\r\nVERSION:1.1\r\nBODY:hi\r\nEND:VNOTE\r\n",
    "text/plain": b"hello\r\nworld",
    "text/x-s4j-sifc": b"<contact><FirstName>A</FirstName><LastName>B</LastName></contact>",
    "text/x-s4j-sife": b"<appointment><Subject>x</Subject><Start>20240101T100000Z</Start></appointment>",
    "text/x-s4j-sift": b"<task><Subject>x</Subject></task>",
    "text/x-s4j-sifn": b"<note><Subject>x</Subject><Body>hi</Body></note>",
    "message/rfc822": b"From: a@b\r\nSubject: x\r\n\r\nbody",
    "application/vnd.omads-folder+xml": b"<Folder><name>x</name></Folder>",
}


def test_every_conversion_comes_from_the_table() -> None:
    """An item converts into another type only through a registered
    conversion; every other target is an UnsupportedFormatError naming it
    (a registered one may still find the item does not fit: an event is no
    SIF task)."""
    from syncml_codec.formats import registry

    table = {(source, target) for source, target, _ in registry.CONVERSIONS}
    converted = set()
    for source, data in SAMPLES.items():
        item = parse(data, source)
        for target in [*registered_types(), "application/x-foo"]:
            if target == source:
                continue
            try:
                out = item.convert(target)
            except UnsupportedFormatError as exc:
                assert exc.content_type == target
                continue
            except FormatError:
                assert (source, target) in table
                continue
            assert (source, target) in table
            assert out.content_type == target and isinstance(out, Item)
            converted.add((source, target))
    # what the samples can show: each kind of conversion happens
    assert {("text/x-vcard", "text/vcard"), ("text/vcard", "text/x-vcard"),
            ("text/x-vcalendar", "text/calendar"), ("text/calendar", "text/x-vcalendar"),
            ("text/x-vnote", "text/plain"), ("text/plain", "text/x-vnote"),
            ("message/rfc822", "application/vnd.omads-email+xml"),
            ("text/vcard", "text/x-s4j-sifc"), ("text/x-s4j-sifc", "text/x-vcard"),
            ("text/x-vcalendar", "text/x-s4j-sife"), ("text/x-s4j-sift", "text/calendar"),
            ("text/plain", "text/x-s4j-sifn"), ("text/x-s4j-sifn", "text/x-vnote")} <= converted


def test_register_conversion_adds_a_conversion() -> None:
    from syncml_codec.formats import _table, register_conversion

    class Shout:
        content_type = "text/x-test-shout"

        def __init__(self, data: bytes) -> None:
            self.data = data

        def serialize(self) -> bytes:
            return self.data

        def convert(self, target_content_type: str) -> Item:
            raise UnsupportedFormatError("no", target_content_type)

    def shout(item: Item, target: str) -> Item:
        return Shout(item.serialize().upper())

    plain = parse(b"hi there", "text/plain")
    with pytest.raises(UnsupportedFormatError, match="text/plain -> text/x-test-shout is not supported"):
        plain.convert("text/x-test-shout")
    register("text/x-test-shout", lambda data, ct: Shout(data))
    register_conversion("Text/Plain", "text/x-test-shout; charset=utf-8", shout)
    try:
        assert plain.convert("text/x-test-shout").serialize() == b"HI THERE"
        with pytest.raises(ValueError, match="already registered"):
            register_conversion("text/plain", "text/x-test-shout", shout)
        register_conversion("text/plain", "text/x-test-shout", lambda item, target: Shout(b"!"), replace=True)
        assert plain.convert("text/x-test-shout").serialize() == b"!"
        # a conversion that breaks is still a FormatError at the item's boundary
        register_conversion("text/plain", "text/x-test-shout", lambda item, target: 1 // 0, replace=True)
        with pytest.raises(FormatError, match="text conversion failed"):
            plain.convert("text/x-test-shout")
    finally:
        _table._PARSERS.pop("text/x-test-shout", None)
        _table._CONVERSIONS.pop(("text/plain", "text/x-test-shout"), None)


def test_builtin_conversion_can_be_replaced() -> None:
    from syncml_codec.formats import _table, register_conversion

    original = _table.conversion_for("text/x-vcard", "text/vcard")
    assert original is not None
    seen: list[str] = []

    def spy(item: Item, target: str) -> Item:
        seen.append(target)
        return original(item, target)

    register_conversion("text/x-vcard", "text/vcard", spy, replace=True)
    try:
        assert parse(CARD21).convert("text/vcard").serialize() == CARD30
        assert seen == ["text/vcard"]
    finally:
        register_conversion("text/x-vcard", "text/vcard", original, replace=True)
