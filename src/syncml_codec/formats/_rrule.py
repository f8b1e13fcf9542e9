"""vCalendar 1.0 recurrence grammar <-> RFC 5545 RRULE (``formats.md`` 2.1).

Rules are carried between the two as an ordered ``dict[str, str]`` of RFC
5545 parts (``{"FREQ": "WEEKLY", "BYDAY": "MO,TH", "COUNT": "10"}``); the
end date stays text here (``UNTIL``), the caller converts its time zone.

1.0: ``<freq><interval> [modifiers] [#count | enddate]``; ``#0`` is forever,
no count and no end date means ``#2`` (the spec's default).  A rule that
has no form on the other side raises :class:`ValueError`; the converter
then carries it as ``X-SYNCML-RRULE`` and reports it.

    >>> from_vcal10("MP1 1+ SU #2")
    {'FREQ': 'MONTHLY', 'BYDAY': '1SU', 'COUNT': '2'}
    >>> to_vcal10({"FREQ": "WEEKLY", "INTERVAL": "2", "BYDAY": "TH", "UNTIL": "20060427T000000Z"})
    'W2 TH 20060427T000000Z'
"""

from __future__ import annotations

import re

__all__ = ["format_ical", "from_vcal10", "parse_ical", "to_vcal10"]

_FREQ10 = {"D": "DAILY", "W": "WEEKLY", "MP": "MONTHLY", "MD": "MONTHLY", "YM": "YEARLY",
           "YD": "YEARLY"}
_DAYS = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")
_HEAD = re.compile(r"(MP|MD|YM|YD|D|W)(\d+)$", re.ASCII)
_END = re.compile(r"\d{4}-?\d{2}-?\d{2}(T\d{4}(\d{2})?Z?)?$", re.ASCII)
_ORD10 = re.compile(r"(\d)([+-])$", re.ASCII)
_ORD20 = re.compile(r"([+-]?)(\d{1,2})(SU|MO|TU|WE|TH|FR|SA)$", re.ASCII)
_BYDAY = re.compile(r"[+-]?([1-9]|[1-4]\d|5[0-3])?(SU|MO|TU|WE|TH|FR|SA)$", re.ASCII)
_ORDER = ("FREQ", "INTERVAL", "BYMONTH", "BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY",
          "BYHOUR", "BYMINUTE", "BYSECOND", "BYSETPOS", "WKST", "COUNT", "UNTIL")


#: RFC 5545 3.3.10 value ranges (``BYDAY`` and ``UNTIL`` are checked by pattern)
_RANGES = {"BYSECOND": (0, 60, False), "BYMINUTE": (0, 59, False), "BYHOUR": (0, 23, False),
           "BYMONTHDAY": (1, 31, True), "BYYEARDAY": (1, 366, True), "BYWEEKNO": (1, 53, True),
           "BYMONTH": (1, 12, False), "BYSETPOS": (1, 366, True)}
_FREQS = frozenset({"SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"})
_INT = re.compile(r"[+-]?\d{1,3}$", re.ASCII)
_DIGITS = re.compile(r"\d{1,10}$", re.ASCII)
_UNTIL = re.compile(r"\d{8}(T\d{6}Z?)?$", re.ASCII)
#: the largest COUNT and INTERVAL taken as numbers (more is carried as text, not converted)
MAX_NUMBER = 10**9


def _check(key: str, value: str) -> None:
    """:class:`ValueError` unless ``value`` is a valid RFC 5545 ``key`` part."""
    if key == "FREQ":
        ok = value in _FREQS
    elif key in ("COUNT", "INTERVAL"):
        ok = _DIGITS.match(value) is not None and 1 <= int(value) <= MAX_NUMBER
    elif key == "UNTIL":
        ok = _UNTIL.match(value) is not None
    elif key == "WKST":
        ok = value in _DAYS
    elif key == "BYDAY":
        ok = all(_BYDAY.match(d) is not None for d in value.split(","))
    elif key in _RANGES:
        low, high, signed = _RANGES[key]
        ok = all(_INT.match(n) and (signed or n[0].isdigit()) and low <= abs(int(n)) <= high
                 for n in value.split(","))
    else:
        return  # an x-name part: carried, never interpreted
    if not ok:
        raise ValueError(f"bad RRULE {key}={value[:40]}")


def parse_ical(text: str) -> dict[str, str]:
    """``FREQ=DAILY;COUNT=3`` -> ``{"FREQ": "DAILY", "COUNT": "3"}`` in
    canonical form (names upper case, ``INTERVAL=1`` and ``WKST=MO`` left out:
    they are the defaults).  Every known part is checked against RFC 5545
    (:class:`ValueError` if one is out of range or malformed)."""
    out: dict[str, str] = {}
    for part in text.strip().split(";"):
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"bad RRULE part {part[:40]!r}")
        key, value = key.strip().upper(), value.strip().upper()
        _check(key, value)
        out[key] = value
    if "FREQ" not in out:
        raise ValueError("RRULE without FREQ")
    if "COUNT" in out and "UNTIL" in out:
        raise ValueError("RRULE with both COUNT and UNTIL")
    if out.get("INTERVAL") == "1":
        del out["INTERVAL"]
    if out.get("WKST") == "MO":
        del out["WKST"]
    return out


def format_ical(rule: dict[str, str]) -> str:
    keys = [k for k in _ORDER if k in rule] + [k for k in rule if k not in _ORDER]
    return ";".join(f"{k}={rule[k]}" for k in keys)


def from_vcal10(text: str) -> dict[str, str]:
    """A 1.0 rule as RFC 5545 parts (see the module docstring)."""
    tokens = text.split()
    if not tokens:
        raise ValueError("empty rule")
    head = _HEAD.match(tokens[0].upper())
    if head is None:
        raise ValueError(f"unknown frequency {tokens[0]!r}")
    kind, digits = head.group(1), head.group(2)
    if len(digits) > 10 or not 1 <= int(digits) <= MAX_NUMBER:
        raise ValueError(f"interval {digits[:20]} out of range")
    interval = int(digits)
    rule: dict[str, str] = {"FREQ": _FREQ10[kind]}
    if interval != 1:
        rule["INTERVAL"] = str(interval)
    mods = [t.upper() for t in tokens[1:]]
    end: str | None = None
    last = mods[-1] if mods else ""
    if last.startswith("#") or (_END.match(last) and not (kind == "D" and len(last) == 4)):
        end = mods.pop()
    if any("$" in m for m in mods):
        raise ValueError("'$' markers are not supported")
    parts: list[str] = []
    if kind == "D":
        if mods:
            raise ValueError("daily rules with times have no RRULE form here")
    elif kind == "W":
        for m in mods:
            if m not in _DAYS:
                raise ValueError(f"bad weekday {m!r}")
        parts = mods
        key = "BYDAY"
    elif kind == "MP":
        key = "BYDAY"
        ordinal: str | None = None
        for m in mods:
            om = _ORD10.match(m)
            if om:
                ordinal = ("-" if om.group(2) == "-" else "") + om.group(1)
            elif m in _DAYS and ordinal is not None:
                parts.append(ordinal + m)
            else:
                raise ValueError(f"bad monthly-by-position modifier {m!r}")
    elif kind == "MD":
        key = "BYMONTHDAY"
        for m in mods:
            om = _ORD10.match(m) if not _DIGITS.match(m) else None
            if m == "LD":
                parts.append("-1")
            elif _DIGITS.match(m) and 1 <= int(m) <= 31:
                parts.append(str(int(m)))
            elif om:
                parts.append(("-" if om.group(2) == "-" else "") + om.group(1))
            else:
                raise ValueError(f"bad month day {m!r}")
    elif kind == "YM":
        key = "BYMONTH"
        for m in mods:
            if not (_DIGITS.match(m) and 1 <= int(m) <= 12):
                raise ValueError(f"bad month {m!r}")
            parts.append(str(int(m)))
    else:  # YD
        key = "BYYEARDAY"
        for m in mods:
            if not (_DIGITS.match(m) and 1 <= int(m) <= 366):
                raise ValueError(f"bad year day {m!r}")
            parts.append(str(int(m)))
    if parts:
        rule[key] = ",".join(parts)
    if end is None:
        rule["COUNT"] = "2"
    elif end.startswith("#"):
        if _DIGITS.match(end[1:]) is None or int(end[1:]) > MAX_NUMBER:
            raise ValueError(f"bad duration {end[:20]!r}")
        if int(end[1:]) > 0:
            rule["COUNT"] = str(int(end[1:]))
    else:
        rule["UNTIL"] = end.replace("-", "")
    return rule


def to_vcal10(rule: dict[str, str], dtstart_month: int | None = None) -> str:
    """RFC 5545 parts as a 1.0 rule; :class:`ValueError` if there is none.
    ``dtstart_month`` lets a yearly rule on one month become a monthly rule
    with interval 12 (``YEARLY;BYMONTH=3;BYDAY=-1SU`` -> ``MP12 1- SU``)."""
    rest = dict(rule)
    freq = rest.pop("FREQ", "")
    interval = int(rest.pop("INTERVAL", "1"))
    count, until = rest.pop("COUNT", None), rest.pop("UNTIL", None)
    if rest.get("WKST", "MO") == "MO":
        rest.pop("WKST", None)
    if "BYSETPOS" in rest and freq == "MONTHLY" and set(rest) == {"BYDAY", "BYSETPOS"}:
        pos, days = rest["BYSETPOS"], rest["BYDAY"].split(",")
        if "," not in pos and all(d in _DAYS for d in days) and len(days) == 1:
            rest = {"BYDAY": pos + days[0]}
    if (freq == "YEARLY" and set(rest) in ({"BYMONTH", "BYDAY"}, {"BYMONTH", "BYMONTHDAY"})
            and rest["BYMONTH"].isdigit() and int(rest["BYMONTH"]) == dtstart_month):
            freq, interval = "MONTHLY", interval * 12
            del rest["BYMONTH"]
    words: list[str]
    if freq == "DAILY" and not rest:
        words = [f"D{interval}"]
    elif freq == "WEEKLY" and set(rest) <= {"BYDAY"}:
        days = rest.get("BYDAY", "").split(",") if rest else []
        if any(d not in _DAYS for d in days):
            raise ValueError("weekly BYDAY with ordinals")
        words = [f"W{interval}", *days]
    elif freq == "MONTHLY" and set(rest) == {"BYDAY"}:
        words = [f"MP{interval}"]
        for d in rest["BYDAY"].split(","):
            m = _ORD20.match(d)
            if m is None or not 1 <= int(m.group(2)) <= 5:
                raise ValueError(f"monthly BYDAY {d!r} has no 1.0 form")
            words += [m.group(2) + ("-" if m.group(1) == "-" else "+"), m.group(3)]
    elif freq == "MONTHLY" and set(rest) <= {"BYMONTHDAY"}:
        words = [f"MD{interval}"]
        for d in rest.get("BYMONTHDAY", "").split(",") if rest else []:
            n = int(d)
            if not (-9 <= n <= 31 and n != 0):
                raise ValueError(f"BYMONTHDAY {d} has no 1.0 form")
            words.append(f"{-n}-" if n < 0 else str(n))
    elif freq == "YEARLY" and set(rest) <= {"BYMONTH"}:
        words = [f"YM{interval}", *(rest["BYMONTH"].split(",") if rest else [])]
    elif freq == "YEARLY" and set(rest) == {"BYYEARDAY"}:
        if any(not d.isdigit() for d in rest["BYYEARDAY"].split(",")):
            raise ValueError("negative BYYEARDAY has no 1.0 form")
        words = [f"YD{interval}", *rest["BYYEARDAY"].split(",")]
    else:
        extra = ",".join(sorted(rest)) or freq
        raise ValueError(f"{freq} with {extra} has no vCalendar 1.0 form")
    if until is not None:
        words.append(until)
    else:
        words.append(f"#{count or 0}")
    return " ".join(words)
