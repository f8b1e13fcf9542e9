"""Lossless Versit tokenizer/serializer: corpus round trips, value decoding,
re-encoding of changed lines, errors.  Tokenizer tests run once per
implementation (``versit_impl``: the Cython port and the pure-Python
reference); ``test_versit_parity.py`` compares the two directly."""

from __future__ import annotations

import pytest

from syncml_codec.errors import SyncMLError
from syncml_codec.formats import Component, ContentLine, FormatError, RawLine, parse_items
from syncml_codec.formats.versit import Tokenizer
from tests.conftest import CORPUS

FORMATS = CORPUS / "formats"
SUFFIXES = (".vcf", ".ics", ".vcs", ".vnt", ".ics.local")
EXTRA = ("funambol-cpp-client/LOItemTest/vcard0.txt", "funambol-cpp-client/LOItemTest/vcard1.txt")

# Deliberately broken inputs (icalendar's own broken-input tests): read in lenient mode.
LENIENT = {
    "icalendar/calendars/big_bad_calendar.ics": "BEGIN:VCALENDAR without END, lines without ':'",
    "icalendar/calendars/fuzz_testcase_0_char_in_component_name.ics": "fuzz case, BEGIN: NUL, no END",
    "icalendar/calendars/fuzz_testcase_invalid_month.ics": "fuzz case, truncated, no END",
    "icalendar/calendars/issue_104_broken_calendar.ics": "a line without ':'",
    "icalendar/calendars/issue_168_input.ics": "param value with a newline, line without ':'",
    "icalendar/calendars/issue_348_exception_parsing_value.ics": "ORGANIZER header broken over lines",
    "icalendar/calendars/issue_350.ics": "X-COMMENT after END:VCALENDAR",
    "icalendar/calendars/issue_351_whitespace_in_property_and_params.ics": "spaces in names",
    "icalendar/calendars/multiple_calendar_components.ics": "a line without ':'",
    "icalendar/calendars/pr_480_summary_with_colon.ics": "no END:VCALENDAR",
    "icalendar/calendars/small_bad_calendar.ics": "no END:VCALENDAR",
    "icalendar/calendars/timezone_rdate.ics": "a line without ':'",
    "icalendar/calendars/timezone_same_start_and_offset.ics": "END:VCALENDARD",
    "icalendar/events/issue_104_mark_events_broken.ics": "a line without ':'",
}


def _corpus_files() -> list[str]:
    if not FORMATS.is_dir():
        return []
    found = [p for p in FORMATS.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES)]
    found += [FORMATS / e for e in EXTRA if (FORMATS / e).is_file()]
    return sorted(str(p.relative_to(FORMATS)) for p in found)


CORPUS_FILES = _corpus_files()


def _walk(comp: Component):
    for child in comp.children:
        if isinstance(child, Component):
            yield from _walk(child)
        else:
            yield child


@pytest.mark.skipif(not CORPUS_FILES, reason="no ../shared/corpus/formats")
@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_round_trip(versit_impl: Tokenizer, name: str) -> None:
    data = (FORMATS / name).read_bytes()
    if name in LENIENT:
        with pytest.raises(FormatError):
            versit_impl.parse_items(data)
        items = versit_impl.parse_items(data, lenient=True)
    else:
        items = versit_impl.parse_items(data)
    assert items
    assert versit_impl.serialize_items(items) == data
    for item in items:
        for line in _walk(item):
            if isinstance(line, ContentLine) and line.encoding not in ("BASE64", "B"):
                assert isinstance(line.value, str)


def test_corpus_is_complete() -> None:
    if not CORPUS_FILES:
        pytest.skip("no corpus")
    assert len(CORPUS_FILES) >= 300
    assert set(LENIENT) <= set(CORPUS_FILES)


def _one(versit_impl: Tokenizer, text: str, version: str = "2.1", kind: str = "VCARD") -> Component:
    data = f"BEGIN:{kind}\r\nVERSION:{version}\r\n{text}END:{kind}\r\n".encode()
    (item,) = versit_impl.parse_items(data)
    assert item.serialize() == data
    return item


def _line(item: Component, name: str) -> ContentLine:
    line = item.find(name)
    assert line is not None
    return line


def test_qp_utf8_and_soft_breaks(versit_impl: Tokenizer) -> None:
    item = _one(versit_impl, "NOTE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller=0D=0AK=\r\n=C3=B6ln=\r\n 1\r\n")
    note = _line(item, "NOTE")
    assert note.value == "Müller\r\nKöln 1"
    assert note.value_raw.count(b"=\r\n") == 2


def test_qp_iso_8859_1_and_nameless_encoding(versit_impl: Tokenizer) -> None:
    item = _one(versit_impl, "FN;CHARSET=ISO-8859-1;QUOTED-PRINTABLE:J=FCrgen\r\n")
    fn = _line(item, "FN")
    assert fn.encoding == "QUOTED-PRINTABLE"
    assert fn.value == "Jürgen"


def test_folded_21_keeps_whitespace_30_drops_it(versit_impl: Tokenizer) -> None:
    assert _line(_one(versit_impl, "NOTE:abc\r\n def\r\n"), "NOTE").value == "abc def"
    assert _line(_one(versit_impl, "NOTE:abc\r\n def\r\n", "3.0"), "NOTE").value == "abcdef"


def test_base64_21_block_ends_with_blank_line(versit_impl: Tokenizer) -> None:
    item = _one(versit_impl, "PHOTO;ENCODING=BASE64;TYPE=GIF:\r\n    R0lGOD\r\n    lhAQ==\r\n\r\nTEL:1\r\n")
    photo = _line(item, "PHOTO")
    assert photo.data == b"GIF89a\x01"
    assert photo.eol == b"\r\n\r\n"
    assert [c.name for c in item.lines] == ["VERSION", "PHOTO", "TEL"]


def test_base64_30_encoding_b(versit_impl: Tokenizer) -> None:
    photo = _line(_one(versit_impl, "PHOTO;ENCODING=b;TYPE=JPEG:R0lG\r\n ODlhAQ==\r\n", "3.0"), "PHOTO")
    assert photo.data == b"GIF89a\x01"


def test_30_escapes_and_components(versit_impl: Tokenizer) -> None:
    item = _one(versit_impl, r"NOTE:a\nb\\c\;d\,e, f" "\r\n" r"N:M\;ller;Hans" "\r\n", "3.0")
    assert _line(item, "NOTE").value == "a\nb\\c;d,e, f"
    assert _line(item, "N").components() == ["M;ller", "Hans"]


def test_21_has_no_escapes_but_compound_semicolon(versit_impl: Tokenizer) -> None:
    item = _one(versit_impl, r"NOTE:a\nb, c" "\r\n" r"N:M\;ller;Hans" "\r\n")
    assert _line(item, "NOTE").value == r"a\nb, c"
    assert _line(item, "N").components() == ["M;ller", "Hans"]


def test_nameless_params_and_groups(versit_impl: Tokenizer) -> None:
    item = _one(versit_impl,
                "TEL;CELL;VOICE:123\r\nitem1.EMAIL;type=INTERNET:a@b.c\r\nitem1.X-ABLabel:_$!<Other>!$_\r\n")
    tel = _line(item, "TEL")
    assert tel.params == [(None, "CELL"), (None, "VOICE")]
    assert tel.param("type") == ["CELL", "VOICE"]
    email = _line(item, "EMAIL")
    assert (email.group, email.name, email.params) == ("item1", "EMAIL", [("type", "INTERNET")])
    assert _line(item, "x-ablabel").name == "X-ABLabel"


def test_colon_in_quoted_param_of_folded_head(versit_impl: Tokenizer) -> None:
    # RFC 9253: the head is folded and a quoted parameter holds "https:"
    data = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nLINK;LINKREL=\"https://example.com/rel\";\r\n"
            b" VALUE=URI:\r\n https://example.com/x\r\nEND:VCALENDAR\r\n")
    item = versit_impl.parse_items(data)[0]
    link = _line(item, "LINK")
    assert link.params == [("LINKREL", '"https://example.com/rel"'), ("VALUE", "URI")]
    assert link.value == "https://example.com/x"
    assert versit_impl.serialize_items([item]) == data


def test_changed_line_21_uses_qp_and_others_stay(versit_impl: Tokenizer) -> None:
    item = _one(versit_impl, "TEL;CELL:123\r\nNOTE:old\r\n")
    note = _line(item, "NOTE")
    note.set_text("Grüße\nzwei")
    assert note.raw == b"NOTE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Gr=C3=BC=C3=9Fe=0Azwei\r\n"
    assert b"\\n" not in item.serialize()
    assert b"TEL;CELL:123\r\n" in item.serialize()
    (again,) = versit_impl.parse_items(item.serialize())
    assert _line(again, "NOTE").value == "Grüße\nzwei"


def test_changed_line_21_keeps_declared_charset_and_soft_breaks_long_lines(versit_impl: Tokenizer) -> None:
    item = _one(versit_impl, "FN;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:J=FCrgen\r\n")
    fn = _line(item, "FN")
    fn.set_text("Jörg " * 30)
    assert fn.raw.startswith(b"FN;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:J=F6rg")
    assert all(len(p) <= 76 for p in fn.raw.split(b"\r\n"))
    (again,) = versit_impl.parse_items(item.serialize())
    assert _line(again, "FN").value == "Jörg " * 30


def test_changed_line_30_escapes_and_folds(versit_impl: Tokenizer) -> None:
    item = _one(versit_impl, "NOTE:old\r\nN:A;B\r\n", "3.0")
    note = _line(item, "NOTE")
    note.set_text("a, b; c\nü" * 10)
    assert b"\\n" in note.raw and b"\\," in note.raw and b"QUOTED" not in note.raw
    assert all(len(p) <= 75 for p in note.raw.split(b"\r\n"))
    _line(item, "N").set_components(["Mül;ler", "Hans"])
    (again,) = versit_impl.parse_items(item.serialize())
    assert _line(again, "NOTE").value == "a, b; c\nü" * 10
    assert _line(again, "N").components() == ["Mül;ler", "Hans"]


def test_lf_line_ends_kept_on_change(versit_impl: Tokenizer) -> None:
    (item,) = versit_impl.parse_items(b"BEGIN:VNOTE\nVERSION:1.1\nBODY:x\nEND:VNOTE\n")
    _line(item, "BODY").set_text("ä")
    body = b"BODY;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=C3=A4\n"
    assert item.serialize() == b"BEGIN:VNOTE\nVERSION:1.1\n" + body + b"END:VNOTE\n"


def test_nested_components_and_many_items(versit_impl: Tokenizer) -> None:
    data = (b"\r\nBEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:a\\, b\r\nBEGIN:VALARM\r\n"
            b"TRIGGER:-PT5M\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n\r\n"
            b"BEGIN:VCALENDAR\r\nVERSION:1.0\r\nEND:VCALENDAR")
    items = versit_impl.parse_items(data)
    assert [i.version for i in items] == ["2.0", "1.0"]
    event = items[0].components[0]
    assert event.name == "VEVENT" and event.components[0].name == "VALARM"
    assert _line(event, "SUMMARY").value == "a, b"
    assert versit_impl.serialize_items(items) == data


def test_format_error_no_colon(versit_impl: Tokenizer) -> None:
    with pytest.raises(FormatError) as exc:
        versit_impl.parse_items(b"BEGIN:VCARD\r\nVERSION:2.1\r\nFN Hans\r\nEND:VCARD\r\n")
    assert exc.value.line == 3
    assert isinstance(exc.value, SyncMLError) and isinstance(exc.value, ValueError)


def test_format_error_begin_without_end(versit_impl: Tokenizer) -> None:
    with pytest.raises(FormatError) as exc:
        versit_impl.parse_items(b"BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Hans\r\n")
    assert (exc.value.line, exc.value.property) == (1, "BEGIN")


def test_format_error_bad_qp(versit_impl: Tokenizer) -> None:
    with pytest.raises(FormatError) as exc:
        versit_impl.parse_items(b"BEGIN:VCARD\r\nVERSION:2.1\r\nN:x\r\nNOTE;ENCODING=QUOTED-PRINTABLE:a=ZZ\r\nEND:VCARD\r\n")
    assert (exc.value.line, exc.value.property) == (4, "NOTE")


def test_lenient_keeps_bad_lines(versit_impl: Tokenizer) -> None:
    data = b"BEGIN:VCARD\r\nVERSION:2.1\r\nFN Hans\r\nNOTE;ENCODING=QUOTED-PRINTABLE:a=ZZ\r\nEND:VCARD\r\njunk\r\n"
    (item,) = versit_impl.parse_items(data, lenient=True)
    assert any(isinstance(c, RawLine) and c.raw == b"FN Hans\r\n" for c in item.children)
    assert _line(item, "NOTE").value == "a=ZZ"
    assert item.trailing == b"junk\r\n"
    assert versit_impl.serialize_items([item]) == data


def test_lenient_unclosed_item(versit_impl: Tokenizer) -> None:
    data = b"BEGIN:VCARD\nVERSION:3.0\nFN:x\n"
    (item,) = versit_impl.parse_items(data, lenient=True)
    assert item.end is None and versit_impl.serialize_items([item]) == data


def test_format_error_pickles() -> None:
    import pickle

    err = pickle.loads(pickle.dumps(FormatError("bad", 3, "N")))
    assert (err.line, err.property, err.reason) == (3, "N", "bad")


@pytest.mark.parametrize("data", [b"hello\r\n", b"FOO:bar\r\n", b"\r\n  junk"])
def test_lenient_text_without_items_is_an_error_not_dropped(data: bytes) -> None:
    with pytest.raises(FormatError, match="no BEGIN"):
        parse_items(data, lenient=True)
    assert parse_items(b"\r\n\r\n", lenient=True) == []


@pytest.mark.parametrize(("text", "sep", "parts"), [
    ("a;b;c", ";", ["a", "b", "c"]),
    ("a\\;b;c", ";", ["a\\;b", "c"]),  # an escaped separator stays in its part, escape and all
    ("a\\\\;b", ";", ["a\\\\", "b"]),  # an escaped backslash does not escape the separator
    (";;", ";", ["", "", ""]),
    ("a\\", ";", ["a\\"]),  # a lone backslash at the end is kept
    ("a\\\n;b", ";", ["a\\\n", "b"]),
    ("x,y\\,z", ",", ["x", "y\\,z"]),
])
def test_split_escaped(text: str, sep: str, parts: list[str]) -> None:
    from syncml_codec.formats._versit_text import split_escaped

    assert split_escaped(text, sep) == parts
