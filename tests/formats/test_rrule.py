"""vCalendar 1.0 recurrence grammar <-> RFC 5545 RRULE (formats.md 2.1)."""

from __future__ import annotations

from datetime import datetime

import pytest
from dateutil.rrule import rrulestr

from syncml_codec.formats._rrule import format_ical, from_vcal10, parse_ical, to_vcal10

# (1.0, 2.0): each way the canonical form of the other
CASES = [
    ("D1 #0", "FREQ=DAILY"),
    ("D2 #5", "FREQ=DAILY;INTERVAL=2;COUNT=5"),
    ("W1 MO TU #10", "FREQ=WEEKLY;BYDAY=MO,TU;COUNT=10"),
    ("W2 TH 20060427T000000Z", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;UNTIL=20060427T000000Z"),
    ("W1 #3", "FREQ=WEEKLY;COUNT=3"),
    ("MP1 1+ SU #2", "FREQ=MONTHLY;BYDAY=1SU;COUNT=2"),
    ("MP1 1- FR #0", "FREQ=MONTHLY;BYDAY=-1FR"),
    ("MP2 2+ MO 2+ WE #4", "FREQ=MONTHLY;INTERVAL=2;BYDAY=2MO,2WE;COUNT=4"),
    ("MD1 6 #3", "FREQ=MONTHLY;BYMONTHDAY=6;COUNT=3"),
    ("MD1 1 15 #0", "FREQ=MONTHLY;BYMONTHDAY=1,15"),
    ("MD1 1- #0", "FREQ=MONTHLY;BYMONTHDAY=-1"),
    ("YM1 4 #2", "FREQ=YEARLY;BYMONTH=4;COUNT=2"),
    ("YM1 6 7 #0", "FREQ=YEARLY;BYMONTH=6,7"),
    ("YD1 100 #0", "FREQ=YEARLY;BYYEARDAY=100"),
    ("YD1 1 100 20101231", "FREQ=YEARLY;BYYEARDAY=1,100;UNTIL=20101231"),
]


@pytest.mark.parametrize(("v10", "v20"), CASES)
def test_both_ways(v10: str, v20: str) -> None:
    assert from_vcal10(v10) == parse_ical(v20)
    assert to_vcal10(parse_ical(v20)) == v10
    assert parse_ical(format_ical(parse_ical(v20))) == parse_ical(v20)


@pytest.mark.parametrize(("v10", "v20"), [
    ("MD1 LD #0", "FREQ=MONTHLY;BYMONTHDAY=-1"),  # LD = 1-
    ("W1 TH", "FREQ=WEEKLY;BYDAY=TH;COUNT=2"),  # no count, no end: the spec's #2
    ("w1 th 20081130", "FREQ=WEEKLY;BYDAY=TH;UNTIL=20081130"),
    ("MD1 6 2008-11-30", "FREQ=MONTHLY;BYMONTHDAY=6;UNTIL=20081130"),
])
def test_other_10_spellings(v10: str, v20: str) -> None:
    assert from_vcal10(v10) == parse_ical(v20)


def _occurrences(rule: str, start: datetime) -> list[datetime]:
    text = rule.replace("Z", "") if "UNTIL" in rule else rule
    return list(rrulestr(text, dtstart=start).between(start, datetime(2012, 1, 1), inc=True))


# the corpus descriptions (syncevolution/vcal10.ics) say how often these recur.  Its
# "W1 TH 20060427T000000Z" is described as four times: Evolution means the day; the end
# time is kept as written (formats.md 2.1, as Funambol does), which is three times here.
@pytest.mark.parametrize(("v10", "start", "expected"), [
    ("W1 TH 20060427T000000Z", datetime(2006, 4, 6, 17), [datetime(2006, 4, d, 17) for d in (6, 13, 20)]),
    ("W1 TH 20060427T235959Z", datetime(2006, 4, 6, 17), [datetime(2006, 4, d, 17) for d in (6, 13, 20, 27)]),
    ("MD1 6 #3", datetime(2006, 4, 6, 17, 30), [datetime(2006, m, 6, 17, 30) for m in (4, 5, 6)]),
    ("YM1 4 #2", datetime(2006, 4, 6, 18), [datetime(y, 4, 6, 18) for y in (2006, 2007)]),
    ("MP1 1+ SU #2", datetime(2006, 4, 2, 16), [datetime(2006, 4, 2, 16), datetime(2006, 5, 7, 16)]),
    ("MP1 1- FR #3", datetime(2006, 4, 28, 9), [datetime(2006, 4, 28, 9), datetime(2006, 5, 26, 9),
                                               datetime(2006, 6, 30, 9)]),
    ("MD1 1- #2", datetime(2006, 1, 31, 9), [datetime(2006, 1, 31, 9), datetime(2006, 2, 28, 9)]),
])
def test_expansion_matches_the_meaning(v10: str, start: datetime, expected: list[datetime]) -> None:
    assert _occurrences(format_ical(from_vcal10(v10)), start) == expected


@pytest.mark.parametrize(("v20", "start", "v10"), [
    ("FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU;COUNT=4", datetime(2007, 3, 25, 2), "MP12 1- SU #4"),
    ("FREQ=YEARLY;BYMONTH=9;BYMONTHDAY=29;COUNT=4", datetime(2007, 9, 29, 9), "MD12 29 #4"),
    ("FREQ=MONTHLY;BYDAY=SU;BYSETPOS=-1;COUNT=5", datetime(2006, 4, 30, 16), "MP1 1- SU #5"),
])
def test_rewritten_rules_give_the_same_dates(v20: str, start: datetime, v10: str) -> None:
    rule = parse_ical(v20)
    assert to_vcal10(rule, start.month) == v10
    again = format_ical(from_vcal10(v10))
    assert _occurrences(again, start) == _occurrences(v20, start)
    assert len(_occurrences(v20, start)) == int(rule["COUNT"])


@pytest.mark.parametrize("v20", [
    "FREQ=HOURLY;INTERVAL=2",
    "FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=-1",
    "FREQ=DAILY;BYHOUR=9,17",
    "FREQ=WEEKLY;BYDAY=1MO",
    "FREQ=MONTHLY;BYDAY=MO",
    "FREQ=YEARLY;BYWEEKNO=20",
    "FREQ=YEARLY;BYYEARDAY=-1",
    "FREQ=WEEKLY;WKST=SU;INTERVAL=2;BYDAY=TU",
])
def test_no_10_form(v20: str) -> None:
    with pytest.raises(ValueError):  # the message varies by part
        to_vcal10(parse_ical(v20))


@pytest.mark.parametrize("v10", ["", "X1 #2", "D0 #2", "W1 XX #2", "MD1 40", "YM1 13", "D1 1200 #2",
                                 "W1 MO$ #2", "MP1 MO #2", "D1 #x"])
def test_bad_10_rules(v10: str) -> None:
    with pytest.raises(ValueError):
        from_vcal10(v10)


def test_bad_20_rules() -> None:
    with pytest.raises(ValueError, match="FREQ"):
        parse_ical("COUNT=2")
    with pytest.raises(ValueError, match="bad RRULE part"):
        parse_ical("FREQ=DAILY;COUNT")
