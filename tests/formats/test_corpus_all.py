"""Every file of ``../shared/corpus/formats`` through the public registry:
``formats.parse`` (content type detected) and ``serialize()`` byte for byte.

Versit files may hold many items; each top-level item is parsed on its own
(its bytes as the tokenizer split them) and the file is the items joined.
The files that are not sync items are listed with the reason; the list is
checked to stay true.
"""

from __future__ import annotations

import contextlib

import pytest

from syncml_codec.errors import FormatError, UnsupportedFormatError
from syncml_codec.formats import detect_content_type, parse, parse_items, serialize_items

from ..conftest import CORPUS
from .test_versit import LENIENT

FORMATS = CORPUS / "formats"

NOT_ITEMS = {
    "README.md": "the corpus description",
    "funambol-server/vcard/vcard-parser/note.txt": "plain text that Funambol's tests put into a NOTE",
    "vobject/more_tests.txt": "vobject's doctest text around vCards",
    "icalendar/calendars/fuzz_testcase_0_char_in_component_name.ics": "fuzz case: BeGIN:<NUL>",
    "icalendar/calendars/fuzz_testcase_invalid_month.ics": "fuzz case: BEGIN:V, truncated",
    "icalendar/calendars/issue_178_component_with_invalid_name_represented.ics": "a custom top-level component",
    "icalendar/calendars/issue_178_custom_component_contains_other.ics": "a custom top-level component",
}
# bare iCalendar components (no VCALENDAR around them) are fragments, not
# items a device sends; the tokenizer round trip covers them in test_versit
BARE = ("VEVENT", "VTODO", "VJOURNAL", "VTIMEZONE", "VALARM", "VFREEBUSY")


def _files() -> list[str]:
    if not FORMATS.is_dir():
        return []
    return sorted(str(p.relative_to(FORMATS)) for p in FORMATS.rglob("*")
                  if p.is_file() and not p.name.endswith(".tem.patch"))


FILES = _files()


def _top_level(name: str, data: bytes) -> list[tuple[str | None, bytes]]:
    """(component name, bytes) of each item: a Versit file split by the
    tokenizer (the parts joined give the file back), anything else whole."""
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:6].upper() != b"BEGIN:":
        return [(None, data)]
    items = parse_items(data, lenient=name in LENIENT)
    assert serialize_items(items) == data
    return [(item.name.upper(), item.serialize()) for item in items]


@pytest.mark.skipif(not FILES, reason="no ../shared/corpus/formats beside the checkout")
@pytest.mark.parametrize("name", [f for f in FILES if f not in NOT_ITEMS])
def test_every_item_parses_and_reserializes(name: str) -> None:
    data = (FORMATS / name).read_bytes()
    parts = _top_level(name, data)
    items = [part for kind, part in parts if kind not in BARE]  # fragments: see test_versit
    for part in items:
        assert parse(part, lenient=name in LENIENT).serialize() == part


@pytest.mark.skipif(not FILES, reason="no ../shared/corpus/formats beside the checkout")
@pytest.mark.parametrize("name", sorted(NOT_ITEMS))
def test_listed_exceptions_are_not_items(name: str) -> None:
    path = FORMATS / name
    if not path.exists():
        pytest.fail(f"{name} is listed in NOT_ITEMS but is not in the corpus")
    with pytest.raises((FormatError, UnsupportedFormatError)):
        parse(path.read_bytes(), detect_content_type(path.read_bytes()))


def test_corpus_covers_every_type() -> None:
    if not FILES:
        pytest.skip("no ../shared/corpus/formats beside the checkout")
    seen = set()
    for name in FILES:
        if name in NOT_ITEMS:
            continue
        for _kind, part in _top_level(name, (FORMATS / name).read_bytes()):
            with contextlib.suppress(UnsupportedFormatError):
                seen.add(detect_content_type(part))
    # no vNote, SIF-N, OMA DS email or folder sample exists in public sources
    # (see the corpus README); those are covered by hand-made items elsewhere
    assert seen >= {"text/x-vcard", "text/vcard", "text/x-vcalendar", "text/calendar",
                    "text/x-s4j-sifc", "text/x-s4j-sife", "text/x-s4j-sift",
                    "application/vnd.omads-file+xml", "message/rfc822"}
