"""The version-independent calendar model the converter reads into and
writes from, with the value helpers both sides share."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any

#: the calendar versions converted between: vCalendar 1.0 and iCalendar 2.0
CALENDAR_VERSIONS = ("1.0", "2.0")
PRODID = "-//syncml-codec//vCalendar 1.0 converter//EN"
X = "X-SYNCML-"
UTC = timezone.utc
_ITEMS = ("VEVENT", "VTODO", "VJOURNAL")
_DT_PROPS = frozenset({"DTSTART", "DTEND", "DUE", "COMPLETED", "CREATED", "LAST-MODIFIED",
                       "DTSTAMP", "RECURRENCE-ID"})
_DT_LISTS = frozenset({"EXDATE", "RDATE"})
_RULES = frozenset({"RRULE", "EXRULE"})
_TEXT = frozenset({"SUMMARY", "DESCRIPTION", "LOCATION", "COMMENT", "CONTACT", "UID",
                   "RELATED-TO", "PRODID"})
_LISTS = frozenset({"CATEGORIES", "RESOURCES"})
_RAW = frozenset({"URL", "ATTACH", "PRIORITY", "CLASS", "SEQUENCE", "GEO", "METHOD",
                  "STATUS", "TRANSP", "ATTENDEE", "ORGANIZER", "RNUM", "CALSCALE", "ACTION",
                  "REPEAT"})
_ALARMS10 = {"AALARM": "AUDIO", "DALARM": "DISPLAY", "PALARM": "PROCEDURE", "MALARM": "EMAIL"}
_ALARMS20 = {v: k for k, v in _ALARMS10.items()}
_STATUS10 = frozenset({"ACCEPTED", "NEEDS ACTION", "SENT", "TENTATIVE", "CONFIRMED", "DECLINED",
                       "COMPLETED", "DELEGATED"})
_STATUS20 = {"VEVENT": {"TENTATIVE", "CONFIRMED", "CANCELLED"},
             "VTODO": {"NEEDS-ACTION", "COMPLETED", "IN-PROCESS", "CANCELLED"},
             "VJOURNAL": {"DRAFT", "FINAL", "CANCELLED"}}
_PARTSTAT = frozenset({"NEEDS-ACTION", "ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED",
                       "COMPLETED"})
_EXPECT = {"REQUIRE": "REQ-PARTICIPANT", "REQUEST": "OPT-PARTICIPANT", "FYI": "NON-PARTICIPANT"}
_EXPECT_BACK = {v: k for k, v in _EXPECT.items()}
_DT = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})(?:T(\d{2}):?(\d{2}):?(\d{2})?(Z)?)?$", re.ASCII)
_DUR = re.compile(r"([+-]?)P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$", re.ASCII)
_OFFSET = re.compile(r"([+-])(\d{1,2}):?(\d{2})?(?::?(\d{2}))?$", re.ASCII)  # RFC 5545: seconds too
_MAILTO = re.compile(r"[^\s<>@:;]+@[^\s<>@:;]+$")

Value = Any  # str | tuple[str, ...] | datetime | date | tuple[...] | dict[str, Any]
Params = tuple[tuple[str, str], ...]


@dataclass
class Prop:
    name: str
    params: Params
    value: Value
    kind: str  # dt, dtlist, rule, text, list, raw, compound, trigger, carried (X- text kept as is)


@dataclass
class Node:
    name: str
    props: list[Prop] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)

    def get(self, name: str) -> Prop | None:
        return next((p for p in self.props if p.name == name), None)


@dataclass
class Model:
    cal: Node
    zones: dict[str, tzinfo] = field(default_factory=dict)


def _fmt_local(dt: datetime) -> str:
    return dt.strftime("%Y%m%dT%H%M%S")


def _parse_dt(text: str, zone: tzinfo | None) -> datetime | date:
    m = _DT.match(text.strip())
    if m is None:
        raise ValueError(f"bad date-time {text!r}")
    y, mo, d, h, mi, s, z = m.groups()
    if h is None:
        return date(int(y), int(mo), int(d))
    if (int(h), int(mi), int(s or 0)) == (24, 0, 0):  # ISO 8601 end of day (P800/P900 write T240000Z)
        dt = datetime(int(y), int(mo), int(d)) + timedelta(days=1)
    else:
        dt = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0))
    if z:
        return dt.replace(tzinfo=UTC)
    return dt.replace(tzinfo=zone) if zone is not None else dt


def _parse_duration(text: str) -> timedelta:
    m = _DUR.match(text.strip().upper())
    if m is None or text.strip().upper() in ("P", "PT", "-P", "+P"):
        raise ValueError(f"bad duration {text!r}")
    w, d, h, mi, s = (int(g or 0) for g in m.groups()[1:])
    try:
        td = timedelta(weeks=w, days=d, hours=h, minutes=mi, seconds=s)
    except OverflowError:
        raise ValueError(f"duration out of range {text!r}") from None
    return -td if m.group(1) == "-" else td


def _fmt_duration(td: timedelta) -> str:
    sign = "-" if td < timedelta(0) else ""
    td = abs(td)
    days, secs = td.days, td.seconds
    out = sign + "P"
    if days:
        out += f"{days}D"
    if secs or not days:
        h, rest = divmod(secs, 3600)
        mi, s = divmod(rest, 60)
        out += "T" + (f"{h}H" if h else "") + (f"{mi}M" if mi else "") + (
            f"{s}S" if s or not (h or mi) else "")
    return out


def _canon(v: Value) -> Value:
    """A value in comparable form: instants as UTC text, floating and date
    text, rules and alarms as sorted tuples."""
    if isinstance(v, datetime):
        if v.tzinfo is not None:
            return v.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        return _fmt_local(v)
    if isinstance(v, date):
        return v.strftime("%Y%m%d")
    if isinstance(v, timedelta):
        return _fmt_duration(v)
    if isinstance(v, dict):
        return tuple(sorted((k, _canon(x)) for k, x in v.items()))
    if isinstance(v, tuple):
        return tuple(_canon(x) for x in v)
    return v


def _list_param(name: str, params: Params) -> str | None:
    return next((v for k, v in params if k == name), None)


