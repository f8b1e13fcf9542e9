"""The inputs of the conversion sweep: every item of the corpus, seeded
mutations of them and hand-made hostile items, each run through
``formats.parse(data, type).convert(target)`` for every registered type.

Shared by ``tests/formats/test_convert_sweep.py`` (no exception outside the
error tree, no Python repr in any output) and
``benchmarks/convert_fuzz_report.py`` (the slowest inputs).  Deterministic:
the mutations come from ``random.Random(seed)``.
"""

from __future__ import annotations

import contextlib
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from syncml_codec.errors import SyncMLError, UnsupportedFormatError
from syncml_codec.formats import detect_content_type, parse, parse_items, registered_types

ROOT = Path(__file__).resolve().parents[2]
CORPUS_DIRS = (ROOT.parent / "shared" / "corpus" / "formats", ROOT / "tests" / "data")
#: a Python repr in output: ``Node(name=...``, ``<... object at 0x...>``
REPR_LEAK = re.compile(rb"Node\(| at 0x[0-9a-f]|<[A-Za-z_.]+ object at ")

_CAL = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n%s\r\nEND:VCALENDAR\r\n"
_CAL10 = b"BEGIN:VCALENDAR\r\nVERSION:1.0\r\n%s\r\nEND:VCALENDAR\r\n"
_EVENT = b"BEGIN:VEVENT\r\nUID:1\r\nSUMMARY:x\r\n%s\r\nEND:VEVENT"
_VTZ = (b"BEGIN:VTIMEZONE\r\nTZID:Z\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n"
        b"TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n%s\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\n"
        b"DTSTART:19700329T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\n"
        b"END:VTIMEZONE")


def _ev(lines: bytes) -> bytes:
    return _CAL % (_EVENT % lines)


def _ev10(lines: bytes) -> bytes:
    return _CAL10 % (_EVENT % lines)


def _card(version: bytes, lines: bytes) -> bytes:
    return b"BEGIN:VCARD\r\nVERSION:%s\r\nN:A;B\r\n%s\r\nEND:VCARD\r\n" % (version, lines)


#: (name, data, content type): the poison items of issue 9 and their relatives
HOSTILE: list[tuple[str, bytes, str]] = [
    ("photo-b64-non-ascii-30", _card(b"3.0", "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQ\u00e9SkZJRg==".encode()),
     "text/vcard"),
    ("photo-b64-non-ascii-21", _card(b"2.1", "PHOTO;ENCODING=BASE64;TYPE=JPEG:/9j/\u00e94AAQ\r\n".encode()),
     "text/x-vcard"),
    ("photo-b64-garbage", _card(b"3.0", b"PHOTO;ENCODING=b:!!!***"), "text/vcard"),
    ("rrule-count-1x", _ev(b"DTSTART:20240101T100000Z\r\nRRULE:FREQ=DAILY;COUNT=1X"), "text/calendar"),
    ("rrule-interval-x", _ev(b"DTSTART:20240101T100000Z\r\nRRULE:FREQ=DAILY;INTERVAL=Q"), "text/calendar"),
    ("rrule-bymonthday-x", _ev(b"DTSTART:20240101T100000Z\r\nRRULE:FREQ=MONTHLY;BYMONTHDAY=x"),
     "text/calendar"),
    ("rrule-bymonth-x", _ev(b"DTSTART:20240301T100000Z\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=x"),
     "text/calendar"),
    ("rrule-hourly-bomb", _ev(b"DTSTART;TZID=Europe/Berlin:20240101T100000\r\n"
                              b"RRULE:FREQ=HOURLY;COUNT=99999999999"), "text/calendar"),
    ("rrule-secondly-bomb", _ev(b"DTSTART;TZID=Europe/Berlin:20240101T100000\r\n"
                                b"RRULE:FREQ=SECONDLY;COUNT=9999999999999999999999"), "text/calendar"),
    ("rrule-secondly-until", _ev(b"DTSTART;TZID=Europe/Berlin:20240101T100000\r\n"
                                 b"RRULE:FREQ=SECONDLY;UNTIL=99991231T000000Z"), "text/calendar"),
    ("rrule-minutely-centuries", _ev(b"DTSTART;TZID=America/New_York:00010101T000000\r\n"
                                     b"RRULE:FREQ=MINUTELY;COUNT=999999999"), "text/calendar"),
    ("rrule-yearly-huge-count", _ev(b"DTSTART;TZID=Europe/Berlin:20240101T100000\r\n"
                                    b"RRULE:FREQ=YEARLY;COUNT=999999999999999999999999999"), "text/calendar"),
    ("rrule-interval-huge", _ev(b"DTSTART;TZID=Europe/Berlin:20240101T100000\r\n"
                                b"RRULE:FREQ=DAILY;INTERVAL=99999999999999999999;COUNT=3"), "text/calendar"),
    ("rrule-never-matches", _ev(b"DTSTART;TZID=Europe/Berlin:20240101T100000\r\n"
                                b"RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;COUNT=5"), "text/calendar"),
    ("rrule10-huge-interval", _ev10(b"DTSTART:20240101T100000Z\r\nRRULE:D99999999999999999999 #5"),
     "text/x-vcalendar"),
    ("rrule10-huge-count", _ev10(b"DTSTART:20240101T100000Z\r\nRRULE:D1 #99999999999999999999999"),
     "text/x-vcalendar"),
    ("tzid-europe", _ev(b"DTSTART;TZID=Europe:20240101T100000"), "text/calendar"),
    ("tzid-300", _ev(b"DTSTART;TZID=" + b"A" * 300 + b":20240101T100000"), "text/calendar"),
    ("tzid-dotdot", _ev(b"DTSTART;TZID=../../../../etc/passwd:20240101T100000"), "text/calendar"),
    ("tzid-abs", _ev(b"DTSTART;TZID=/etc/localtime:20240101T100000"), "text/calendar"),
    ("tzid-nul", _ev(b"DTSTART;TZID=Europe/Ber\x00lin:20240101T100000"), "text/calendar"),
    ("tzid-dev", _ev(b"DTSTART;TZID=/dev/zero:20240101T100000"), "text/calendar"),
    ("vtimezone-huge-rdate", _CAL % (_VTZ % b"RDATE:99999999T999999" + b"\r\n"
                                     + _EVENT % b"DTSTART;TZID=Z:20240101T100000"), "text/calendar"),
    ("vtimezone-rdate-year-9999", _CAL % (_VTZ % b"RDATE:99991231T235959" + b"\r\n"
                                          + _EVENT % b"DTSTART;TZID=Z:20240101T100000"), "text/calendar"),
    ("vtimezone-rdate-year-1", _CAL % (_VTZ % b"RDATE:00010101T000000" + b"\r\n"
                                       + _EVENT % b"DTSTART;TZID=Z:20240101T100000"), "text/calendar"),
    ("vtimezone-secondly-rule", _CAL % ((_VTZ % b"RRULE:FREQ=SECONDLY").replace(b"19701025", b"00011025")
                                        + b"\r\n" + _EVENT % b"DTSTART;TZID=Z:20240101T100000"), "text/calendar"),
    ("vtimezone-never-rule", _CAL % (_VTZ % b"RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30" + b"\r\n"
                                     + _EVENT % b"DTSTART;TZID=Z:20240101T100000"), "text/calendar"),
    ("vtimezone-rdate-year-9999-west", _CAL % ((_VTZ % b"RDATE:99991231T235959").replace(b"+0", b"-0")
                                               + b"\r\n" + _EVENT % b"DTSTART;TZID=Z:99991231T100000"),
     "text/calendar"),
    ("vtimezone-offset-huge", _CAL % ((_VTZ % b"").replace(b"+0100", b"+9999") + b"\r\n"
                                      + _EVENT % b"DTSTART;TZID=Z:20240101T100000"), "text/calendar"),
    ("vtimezone-many-rdates", _CAL % (_VTZ % (b"RDATE:" + b",".join(
        b"%04d1025T030000" % y for y in range(1900, 2100)) * 20) + b"\r\n"
        + _EVENT % b"DTSTART;TZID=Z:20240101T100000"), "text/calendar"),
    ("dtstart-year-0", _ev(b"DTSTART:00000101T000000Z"), "text/calendar"),
    ("dtstart-month-13", _ev(b"DTSTART:20241301T000000Z"), "text/calendar"),
    ("dtstart-year-9999-end", _ev(b"DTSTART:99991231T235959Z\r\nDURATION:P9999W"), "text/calendar"),
    ("duration-huge", _ev(b"DTSTART:20240101T100000Z\r\nDURATION:P99999999999999999999D"), "text/calendar"),
    ("exdate-huge-list", _ev(b"DTSTART:20240101T100000Z\r\nRRULE:FREQ=DAILY;COUNT=10\r\nEXDATE:" + b",".join(
        b"2024%02d%02dT100000Z" % (1 + i % 12, 1 + i % 28) for i in range(20000))), "text/calendar"),
    ("rdate-huge-list", _ev(b"DTSTART;TZID=Europe/Berlin:20240101T100000\r\nRDATE;TZID=Europe/Berlin:" + b",".join(
        b"%04d0101T100000" % (1000 + i % 8000) for i in range(20000))), "text/calendar"),
    ("valarm-huge-trigger", _ev(b"DTSTART:20240101T100000Z\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\n"
                                b"TRIGGER:-P99999999W\r\nEND:VALARM"), "text/calendar"),
    ("valarm-trigger-overflow", _ev(b"DTSTART:00010101T000000Z\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\n"
                                    b"TRIGGER:-P1D\r\nEND:VALARM"), "text/calendar"),
    ("calendar-level-aalarm", _CAL10 % (b"AALARM:20240101T090000Z;PT5M;2;beep\r\n"
                                        b"DALARM:20240101T090000Z;;;wake up\r\n"
                                        + _EVENT % b"DTSTART:20240101T100000Z"), "text/x-vcalendar"),
    ("tz10-huge", _CAL10 % (b"TZ:+99:99\r\nDAYLIGHT:TRUE;+99;99991231T235959;00000101T000000\r\n"
                            + _EVENT % b"DTSTART:20240101T100000"), "text/x-vcalendar"),
    ("daylight10-year-0", _CAL10 % (b"TZ:+01\r\nDAYLIGHT:TRUE;+02;00000101T000000;00001231T000000\r\n"
                                    + _EVENT % b"DTSTART:20240101T100000"), "text/x-vcalendar"),
    ("qp-bad", _card(b"2.1", b"NOTE;ENCODING=QUOTED-PRINTABLE:=ZZ=\xff=C3"), "text/x-vcard"),
    ("charset-bogus", _card(b"2.1", b"NOTE;CHARSET=x-no-such;ENCODING=QUOTED-PRINTABLE:=C3=A9"),
     "text/x-vcard"),
    ("charset-utf16", _card(b"2.1", b"NOTE;CHARSET=UTF-16:\xff"), "text/x-vcard"),
    ("surrogate-bytes", _card(b"3.0", b"NOTE:\xed\xa0\x80\xff\xfe"), "text/vcard"),
    ("agent-nested-deep", _card(b"2.1", b"AGENT:\r\n" + b"BEGIN:VCARD\r\n" * 200), "text/x-vcard"),
    ("vcard-40", b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:x\r\nEND:VCARD\r\n", "text/vcard"),
    ("vcard-version-junk", b"BEGIN:VCARD\r\nVERSION:\xff\r\nFN:x\r\nEND:VCARD\r\n", "text/vcard"),
    ("sif-b64-junk", b"PGNvbnRhY3Q+\xff", "text/x-s4j-sifc"),
    ("sif-deep", b"<contact>" + b"<a>" * 5000 + b"</contact>", "text/x-s4j-sifc"),
    ("sif-entity", b'<!DOCTYPE x [<!ENTITY e "x">]><contact><FileAs>&e;</FileAs></contact>',
     "text/x-s4j-sifc"),
    ("sife-huge-date", b"<appointment><Start>99999999T999999Z</Start><End>0</End>"
     b"<IsRecurring>1</IsRecurring><RecurrenceType>0</RecurrenceType><Interval>99999999999999</Interval>"
     b"<Occurrences>99999999999</Occurrences></appointment>", "text/x-s4j-sife"),
    ("sift-huge-date", b"<task><DueDate>99999999</DueDate><StartDate>-1</StartDate>"
     b"<ReminderMinutesBeforeStart>99999999999999999999</ReminderMinutesBeforeStart></task>",
     "text/x-s4j-sift"),
    ("email-huge-size", b"<Email><read>1</read><Ext><XNam>x</XNam></Ext><emailitem>\xff</emailitem>"
     b"<Size>999999999999999999999999</Size></Email>", "application/vnd.omads-email+xml"),
    ("folder-bad-date", b"<Folder><name>x</name><created>99999999T999999Z</created></Folder>",
     "application/vnd.omads-folder+xml"),
    ("file-bad-b64", b"<File><name>x</name><body enc='base64'>\xff==</body><size>-1</size></File>",
     "application/vnd.omads-file+xml"),
    ("rfc822-junk", b"From: a\r\nSubject: =?utf-8?b?\xff?=\r\nContent-Type: text/plain; charset=x-none\r\n\r\n\xff",
     "message/rfc822"),
    ("vnote-b64", b"BEGIN:VNOTE\r\nVERSION:1.1\r\nBODY;ENCODING=BASE64:\xc3\xa9==\r\nEND:VNOTE\r\n",
     "text/x-vnote"),
]


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    content_type: str


def corpus_items() -> list[Case]:
    """Each top-level item of each corpus file, with its detected type
    (files whose type cannot be told are tried as every Versit type)."""
    out: list[Case] = []
    for base in CORPUS_DIRS:
        if not base.is_dir():
            continue
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            data = path.read_bytes()
            name = f"{base.name}/{path.relative_to(base)}"
            parts: list[bytes] = [data]
            if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:6].upper() == b"BEGIN:":
                with contextlib.suppress(SyncMLError):
                    parts = [item.serialize() for item in parse_items(data, lenient=True)]
            for i, part in enumerate(parts):
                try:
                    ctype = detect_content_type(part)
                except UnsupportedFormatError:
                    continue
                out.append(Case(f"{name}#{i}", part, ctype))
    return out


def hostile() -> list[Case]:
    return [Case(name, data, ctype) for name, data, ctype in HOSTILE]


_VALUES = [b"", b"\xff", b"\xc3\xa9", b"x" * 300, b"99999999999999999999", b"-1", b"0", b"1X",
           b"99999999T999999Z", b"00000101T000000", b"Europe", b"../x", b"FREQ=SECONDLY;COUNT=99999999999",
           b"=ZZ", b";;;;", b",,,", b"\\", b"D1 #99999999999", b"P99999999999D", b"+99:99"]
_PARAMS = [b";TZID=Europe", b";TZID=" + b"Z" * 300, b";ENCODING=BASE64", b";ENCODING=b",
           b";ENCODING=QUOTED-PRINTABLE", b";CHARSET=bogus", b";VALUE=DATE", b";VALUE=DATE-TIME",
           b";RELATED=END", b";TZID=Europe/Berlin", b";TYPE=WORK"]
_LINES = [b"RRULE:FREQ=HOURLY;COUNT=99999999999", b"RRULE:FREQ=DAILY;COUNT=1X", b"RRULE:D1 #0",
          b"EXDATE:99991231T235959Z", b"RDATE:00010101", b"DTSTART;TZID=Europe:20240101T100000",
          b"AALARM:20240101T090000Z;;;x", b"DALARM:x", b"TZ:+01", b"DAYLIGHT:TRUE;+02;x;y",
          b"PHOTO;ENCODING=b:\xc3\xa9", b"TRIGGER:-P99999999W", b"DURATION:P99999999D",
          b"BEGIN:VALARM", b"END:VALARM", b"BEGIN:VTIMEZONE", b"END:VTIMEZONE", b"BEGIN:VEVENT"]


def _mutate(data: bytes, rng: random.Random) -> Iterator[bytes]:
    lines = data.splitlines(keepends=True)
    if not lines:
        return
    for _ in range(3):  # a property's value replaced
        i = rng.randrange(len(lines))
        head, sep, _value = lines[i].partition(b":")
        if sep:
            yield b"".join([*lines[:i], head + b":" + rng.choice(_VALUES) + b"\r\n", *lines[i + 1:]])
    for _ in range(2):  # a parameter added
        i = rng.randrange(len(lines))
        head, sep, value = lines[i].partition(b":")
        if sep and not head.upper().startswith((b"BEGIN", b"END")):
            yield b"".join([*lines[:i], head + rng.choice(_PARAMS) + b":" + value, *lines[i + 1:]])
    for _ in range(2):  # a hostile line inserted
        i = rng.randrange(1, len(lines) + 1)
        yield b"".join([*lines[:i], rng.choice(_LINES) + b"\r\n", *lines[i:]])
    yield data[: rng.randrange(len(data) + 1)]  # truncated
    i = rng.randrange(len(data) + 1)
    yield data[:i] + rng.choice(_VALUES) + data[i:]  # bytes inserted


def mutated(items: list[Case], seed: int, per_item: int | None = None) -> list[Case]:
    """Seeded mutations of ``items`` (``per_item`` of each, all when None)."""
    rng = random.Random(seed)
    out: list[Case] = []
    for case in items:
        variants = list(_mutate(case.data, rng))
        if per_item is not None and len(variants) > per_item:
            variants = rng.sample(variants, per_item)
        out += [Case(f"{case.name}~{k}", v, case.content_type) for k, v in enumerate(variants)]
    return out


def targets() -> list[str]:
    return registered_types()


def _unguarded(exc: SyncMLError) -> None:
    """Raise what the converters' boundary (``formats._guard``) turned into
    a FormatError: the sweep wants each such case fixed at its source."""
    cause = exc.__cause__
    if cause is not None and not isinstance(cause, SyncMLError):
        raise cause


def run(case: Case, target: str) -> bytes | None:
    """``parse(case).convert(target).serialize()`` (None if the item does
    not parse, is not convertible or fails with an error of the tree:
    those are answers, not failures).  Other exceptions propagate, also
    those the converters' boundary caught."""
    try:
        item = parse(case.data, case.content_type)
    except SyncMLError as exc:
        _unguarded(exc)
        try:
            item = parse(case.data, case.content_type, lenient=True)
        except SyncMLError as exc2:
            _unguarded(exc2)
            return None
    try:
        return item.convert(target).serialize()
    except SyncMLError as exc:
        _unguarded(exc)
        return None
