"""Issue 9 in the converters themselves: poison items give FormatError or a
reported loss, TZIDs never reach the file system, recurrences are never
expanded, and a calendar-level vCalendar 1.0 alarm is carried, not
written as a Python repr."""

from __future__ import annotations

import time

import pytest

from syncml_codec.errors import FormatError
from syncml_codec.formats import _rrule, _vtimezone, parse
from syncml_codec.formats._guard import guarded

from .convert_sweep import HOSTILE

POISON = {name: (data, ctype) for name, data, ctype in HOSTILE}


def convert(name: str, target: str) -> object:
    data, ctype = POISON[name]
    return parse(data, ctype).convert(target)


def test_non_ascii_base64_photo_is_a_format_error() -> None:
    with pytest.raises(FormatError) as info:
        convert("photo-b64-non-ascii-30", "text/x-vcard")
    assert info.value.property == "PHOTO" and info.value.line == 4


@pytest.mark.parametrize("text", ["FREQ=DAILY;COUNT=1X", "FREQ=DAILY;INTERVAL=0", "FREQ=FORTNIGHTLY",
                                  "FREQ=MONTHLY;BYMONTHDAY=32", "FREQ=WEEKLY;BYDAY=54MO",
                                  "FREQ=DAILY;COUNT=99999999999", "FREQ=YEARLY;BYMONTH=\u0661"])
def test_bad_rrule_parts_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        _rrule.parse_ical(text)


def test_bad_rrule_is_carried_to_vcalendar10() -> None:
    out = convert("rrule-count-1x", "text/x-vcalendar")
    assert b"X-SYNCML-RRULE:FREQ=DAILY;COUNT=1X" in out.serialize()
    assert any("RRULE" in loss for loss in out.losses)  # type: ignore[attr-defined]


@pytest.mark.parametrize("tzid", ["Europe", "A" * 300, "../../../../etc/passwd", "/etc/localtime",
                                  "Europe/Ber\x00lin", "/dev/zero", "posixrules/../UTC"])
def test_tzid_never_names_a_file(tzid: str, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    real = _vtimezone.ZoneInfo

    def spy(key: str) -> object:
        opened.append(key)
        return real(key)

    monkeypatch.setattr(_vtimezone, "ZoneInfo", spy)
    assert _vtimezone._olson(tzid) is None or opened[-1] in _vtimezone._zone_keys()
    assert all(key in _vtimezone._zone_keys() for key in opened)


def test_olson_prefixes_still_work() -> None:
    assert str(_vtimezone._olson("/mozilla.org/20050126_1/Europe/Berlin")) == "Europe/Berlin"


@pytest.mark.parametrize("name", ["rrule-hourly-bomb", "rrule-secondly-bomb", "rrule-minutely-centuries",
                                  "vtimezone-secondly-rule", "vtimezone-never-rule", "exdate-huge-list"])
def test_no_recurrence_is_expanded(name: str) -> None:
    started = time.perf_counter()
    convert(name, "text/x-vcalendar").serialize()  # type: ignore[attr-defined]
    assert time.perf_counter() - started < 5  # generous: the fault took minutes and gigabytes


def test_calendar_level_alarm_round_trip() -> None:
    out = convert("calendar-level-aalarm", "text/calendar")
    text = out.serialize()  # type: ignore[attr-defined]
    assert b"Node(" not in text and b"X-SYNCML-AALARM:20240101T090000Z;PT5M;2;beep\r\n" in text
    back = out.convert("text/x-vcalendar").serialize()  # type: ignore[attr-defined]
    assert b"\r\nAALARM:20240101T090000Z;PT5M;2;beep\r\n" in back
    assert b"\r\nDALARM:20240101T090000Z;;;wake up\r\n" in back


def test_guard_turns_strays_into_format_errors() -> None:
    @guarded("test step")
    def stray() -> None:
        raise KeyError("x\r\ny")

    with pytest.raises(FormatError) as info:
        stray()
    assert isinstance(info.value.__cause__, KeyError) and "test step failed (KeyError" in str(info.value)
