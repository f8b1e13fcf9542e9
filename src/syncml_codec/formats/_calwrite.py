"""Writing the model as vCalendar 1.0 or iCalendar 2.0 content lines."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any

from . import _rrule
from ._calmodel import (
    _ALARMS10,
    _ALARMS20,
    _EXPECT_BACK,
    _MAILTO,
    _PARTSTAT,
    _STATUS10,
    PRODID,
    UTC,
    Model,
    Node,
    Prop,
    X,
    _fmt_duration,
    _fmt_local,
)
from ._versit_text import Param, escape_value, fold_line
from ._vtimezone import VcalZone, _fmt_offset, _transitions
from .versit import ContentLine

Line = tuple[str, list[Param], str]


class _Writer:
    def __init__(self, version: str, model: Model, losses: list[str]) -> None:
        self.version = version
        self.model = model
        self.losses = losses
        self.zone: tzinfo | None = None  # 1.0: the one zone written as TZ/DAYLIGHT
        self.used: dict[str, VcalZone] = {}  # 2.0: zones to write as VTIMEZONE

    def write(self) -> list[str | Line]:
        cal = self.model.cal
        out: list[str | Line] = ["BEGIN:VCALENDAR", ("VERSION", [], self.version)]
        if self.version == "1.0":
            self._pick_zone()
        body: list[str | Line] = []
        for p in cal.props:
            body += self.prop(p, "VCALENDAR", "VCALENDAR")
        comps: list[str | Line] = []
        counts: dict[str, int] = {}
        for child in cal.children:
            counts[child.name] = counts.get(child.name, 0) + 1
            comps += self.component(child, f"{child.name} {counts[child.name]}", None)
        if self.version == "2.0":
            if not cal.get("PRODID"):
                out.append(("PRODID", [], escape_value(PRODID)))
            out += body
            for zone in self.model.zones.values():
                if isinstance(zone, VcalZone):
                    self.used.setdefault(zone.tzid, zone)
            for zone in self.used.values():
                out += zone.vtimezone()
        else:
            out += body
            out += self._tz_lines()
        return [*out, *comps, "END:VCALENDAR"]

    # time zones (1.0) -------------------------------------------------------------
    def _walk_values(self, node: Node) -> list[Any]:
        vals: list[Any] = []
        for p in node.props:
            if p.kind in ("dt", "trigger"):
                vals.append(p.value)
            elif p.kind == "dtlist":
                vals += list(p.value)
            elif p.kind == "rule" and "UNTIL" in p.value:
                vals.append(p.value["UNTIL"])
        for c in node.children:
            vals += self._walk_values(c)
        return vals

    def _pick_zone(self) -> None:
        vals = self._walk_values(self.model.cal)
        zones = {id(v.tzinfo): v.tzinfo for v in vals
                 if isinstance(v, datetime) and v.tzinfo is not None and v.tzinfo is not UTC}
        known = [z for z in self.model.zones.values() if z is not UTC]
        if not zones and len(known) == 1:
            zones = {id(known[0]): known[0]}
        if len(zones) > 1:
            self.losses.append("VCALENDAR: times in several time zones; written in UTC")
            return
        if not zones:
            return
        (zone,) = zones.values()
        if isinstance(zone, VcalZone):
            self.zone = zone
            return
        years = self._years(vals)
        self.zone = _transitions(zone, years)
        name = next((k for k, z in self.model.zones.items() if z is zone), str(zone))
        self.losses.append(f"VCALENDAR: time zone {name} written as TZ/DAYLIGHT for "
                           f"{years.start}-{years.stop - 1}")

    def _years(self, vals: list[Any]) -> range:
        """The years to write DAYLIGHT lines for: those of the item's times,
        and as far as a COUNT rule reaches, at most 20 (no occurrence is
        computed: the end of ``FREQ=HOURLY;COUNT=99999999999`` is estimated
        in constant time, see :func:`_rule_span`)."""
        years = [v.year for v in vals if isinstance(v, date)]
        first = min(max(min(years) if years else 2000, 2), 9970)  # far from datetime's ends
        last = max(years) if years else first
        cap = first + _MAX_YEARS - 1
        for item in self.model.cal.children:
            start = item.get("DTSTART")
            for p in item.props:
                if p.kind != "rule" or start is None or start.kind != "dt":
                    continue
                if "UNTIL" not in p.value and "COUNT" not in p.value:
                    last = max(last, first + 4)
                elif "COUNT" in p.value and isinstance(start.value, datetime):
                    span = _rule_span(p.value)
                    days_left = (datetime(cap, 12, 31) - start.value.replace(tzinfo=None)).days
                    if span is None or span.days >= days_left:
                        last = cap
                    else:
                        last = max(last, (start.value.replace(tzinfo=None) + span).year)
        return range(first, max(first, min(last, cap)) + 1)

    def _tz_lines(self) -> list[str | Line]:
        zone = self.zone
        if not isinstance(zone, VcalZone):
            return []
        out: list[str | Line] = [("TZ", [], _fmt_offset(zone.std, ":"))]
        if not zone.rules:
            return [*out, ("DAYLIGHT", [], "FALSE")]
        for r in zone.rules:
            fields = ["TRUE", _fmt_offset(r.offset, ":"), _fmt_local(r.start) + "Z",
                      _fmt_local(r.end) + "Z", r.std_name, r.dst_name]
            out.append(("DAYLIGHT", [], ";".join(f.replace(";", "\\;") for f in fields)))
        return out

    # values --------------------------------------------------------------------------
    def dt(self, v: datetime | date, params: list[Param], name: str = "") -> str:
        if not isinstance(v, datetime):
            if self.version == "2.0":
                params.append(("VALUE", "DATE"))
            return v.strftime("%Y%m%d")
        if v.tzinfo is None:
            return _fmt_local(v)
        if isinstance(v.tzinfo, timezone) or (self.version == "1.0" and self.zone is None):
            return _fmt_local(v.astimezone(UTC).replace(tzinfo=None)) + "Z"
        if self.version == "1.0":
            return _fmt_local(v.astimezone(self.zone).replace(tzinfo=None))
        zone = v.tzinfo
        if not isinstance(zone, VcalZone):  # only 1.0 zones reach a 2.0 writer
            return _fmt_local(v.astimezone(UTC).replace(tzinfo=None)) + "Z"
        self.used.setdefault(zone.tzid, zone)
        params.append(("TZID", zone.tzid))
        return _fmt_local(v.replace(tzinfo=None))

    def _rule_text(self, rule: dict[str, Any]) -> dict[str, str]:
        out = {k: v for k, v in rule.items() if k != "UNTIL"}
        if "UNTIL" in rule:
            until = rule["UNTIL"]
            if self.version == "2.0" and isinstance(until, datetime) and until.tzinfo is not None:
                out["UNTIL"] = _fmt_local(until.astimezone(UTC).replace(tzinfo=None)) + "Z"
            else:
                out["UNTIL"] = self.dt(until, [])
        return out

    def _params(self, p: Prop, label: str = "") -> list[Param]:
        out: list[Param] = []
        for n, v in p.params:
            if self.version == "1.0" and p.name in ("ATTENDEE", "ORGANIZER"):
                out.append(self._attendee_param10(n, v, label))
            else:
                out.append((None, v) if n == "TYPE" and self.version == "1.0" else (n, v))
        return out

    def _attendee_param10(self, n: str, v: str, label: str) -> Param:
        value = v.strip('"').upper()
        if n.startswith(X):
            return n[len(X):], v
        if n == "ROLE" and value == "CHAIR":
            return "ROLE", "OWNER"
        if n == "ROLE" and value in _EXPECT_BACK:
            return "EXPECT", _EXPECT_BACK[value]
        if n == "PARTSTAT" and value in _PARTSTAT:
            return "STATUS", value.replace("-", " ") if value == "NEEDS-ACTION" else value
        if n == "RSVP" and value in ("TRUE", "FALSE"):
            return "RSVP", "YES" if value == "TRUE" else "NO"
        if n in ("ROLE", "PARTSTAT"):
            self.losses.append(f"{label}: ATTENDEE {n}={v} has no vCalendar 1.0 form; kept as {X}{n}")
            return X + n, v
        return n, v

    def text(self, s: str) -> str:
        return s.replace("\n", "\r\n") if self.version == "1.0" else escape_value(s)

    def parts(self, parts: tuple[str, ...], sep: str) -> str:
        if self.version == "1.0":
            return ";".join(p.replace(";", "\\;").replace("\n", "\r\n") for p in parts)
        return sep.join(escape_value(p) for p in parts)

    # properties ----------------------------------------------------------------------
    def prop(self, p: Prop, comp: str, label: str) -> list[str | Line]:
        params = self._params(p, label)
        name = p.name
        legacy = self.version == "1.0"
        if name.startswith(X) and name != X and p.kind == "raw" and name[len(X):] in (
                "STATUS", "RRULE", "EXRULE", "TRANSP", *_ALARMS10):
            inner = name[len(X):]
            if legacy and inner in _ALARMS10:
                return [(inner, params, p.value.replace("\r\n", "\n").replace("\n", "\r\n"))]
            if legacy:
                return [(inner, params, p.value)]
            if inner in _ALARMS10:
                return [(name, params, _escape_raw(p.value))]
            return [(name, params, escape_value(p.value) if inner == "STATUS" else p.value)]
        if legacy and name == "CREATED":
            name = "DCREATED"
        if p.kind == "dt":
            value = self.dt(p.value, params, name)
            if legacy and name == "RECURRENCE-ID":
                self.losses.append(f"{label}: RECURRENCE-ID has no vCalendar 1.0 form; "
                                   f"kept as {X}RECURRENCE-ID")
                return [(X + name, params, value)]
            return [(name, params, value)]
        if p.kind == "dtlist":
            if legacy:
                return [(name, params, ";".join(self.dt(v, [], name) for v in p.value))]
            groups: dict[tuple[Param, ...], list[str]] = {}
            for v in p.value:
                extra: list[Param] = []
                text = self.dt(v, extra)
                groups.setdefault(tuple(extra), []).append(text)
            return [(name, params + list(k), ",".join(vs)) for k, vs in groups.items()] or [
                (name, params, "")]
        if p.kind == "rule":
            return [self._rule(p, params, label)]
        if name == "STATUS" and legacy:
            value = "NEEDS ACTION" if p.value == "NEEDS-ACTION" else p.value
            if value not in _STATUS10:
                self.losses.append(f"{label}: STATUS {p.value} has no vCalendar 1.0 form; "
                                   f"kept as {X}STATUS")
                return [(X + name, params, value)]
            return [(name, params, value)]
        if name == "TRANSP" and legacy:
            mapped = {"OPAQUE": "0", "TRANSPARENT": "1"}.get(str(p.value).upper())
            if mapped is None:
                self.losses.append(f"{label}: TRANSP {p.value} has no vCalendar 1.0 form; "
                                   f"kept as {X}TRANSP")
                return [(X + name, params, p.value)]
            return [(name, params, mapped)]
        if name in ("ATTENDEE", "ORGANIZER") and legacy:
            value = str(p.value)
            if value.lower().startswith("mailto:") and _MAILTO.match(value[7:]):
                value = value[7:]
            return [(name, params, value)]
        if p.kind == "text":
            return [(name, params, self.text(p.value))]
        if p.kind == "list":
            return [(name, params, self.parts(p.value, ","))]
        if p.kind == "compound":
            return [(name, params, self.parts(p.value, ";"))]
        if p.kind == "trigger":
            return [(name, params, self.dt(p.value, params) if isinstance(p.value, date)
                     else _fmt_duration(p.value))]
        return [(name, params, p.value if legacy else _escape_raw(p.value))]

    def _rule(self, p: Prop, params: list[Param], label: str) -> Line:
        """RRULE/EXRULE: RFC 5545 text, the 1.0 grammar, or (no 1.0 form)
        ``X-SYNCML-RRULE`` with the RFC 5545 text and a UTC end."""
        name, rule = p.name, p.value
        parts = self._rule_text(rule)
        if self.version == "2.0":
            return (name, params, _rrule.format_ical(parts))
        start = self._item.get("DTSTART") if self._item is not None else None
        if start is not None and isinstance(start.value, datetime) and type(rule.get("UNTIL")) is date:
            self.losses.append(f"{label}: {name} UNTIL is a date but DTSTART a time; "
                               "vCalendar 1.0 reads it as the end of that day")
        try:
            text = _rrule.to_vcal10(parts, self._month)
        except ValueError as exc:
            self.losses.append(f"{label}: {name} {_rrule.format_ical(parts)} has no vCalendar "
                               f"1.0 form ({exc}); kept as {X}{name}")
            until = rule.get("UNTIL")
            if isinstance(until, datetime) and until.tzinfo is not None:  # read back without a zone
                parts["UNTIL"] = _fmt_local(until.astimezone(UTC).replace(tzinfo=None)) + "Z"
            return (X + name, params, _rrule.format_ical(parts))
        again = _rrule.from_vcal10(text)
        if {k: v for k, v in again.items() if k != "UNTIL"} != {
                k: v for k, v in parts.items() if k != "UNTIL"}:
            self.losses.append(f"{label}: {name} {_rrule.format_ical(parts)} written as {text} "
                               f"(same dates, but it reads back as {_rrule.format_ical(again)})")
        return (name, params, text)

    _month: int | None = None
    _item: Node | None = None

    def component(self, node: Node, label: str, parent: Node | None) -> list[str | Line]:
        legacy = self.version == "1.0"
        if legacy and node.name not in ("VEVENT", "VTODO", "VALARM"):
            self.losses.append(f"{label}: {node.name} has no vCalendar 1.0 form; kept as is")
        self._item = node
        start = node.get("DTSTART")
        self._month = start.value.month if start is not None and start.kind == "dt" else None
        allday = start is not None and start.kind == "dt" and not isinstance(start.value, datetime)
        out: list[str | Line] = ["BEGIN:" + node.name]
        for p in node.props:
            if legacy and allday and p.name in ("DTSTART", "DTEND") and p.kind == "dt":
                v = p.value if p.name == "DTSTART" else p.value - timedelta(days=1)
                suffix = "T000000" if p.name == "DTSTART" else "T235900"
                if node.get("DTEND") is None:
                    suffix = ""  # a bare date: all-day without the T235900 end to say so
                out.append((p.name, self._params(p), v.strftime("%Y%m%d") + suffix))
                continue
            out += self.prop(p, node.name, label)
        for child in node.children:
            if child.name == "VALARM":
                out += self.alarm(child, node, label)
            else:
                out += self.component(child, label + " " + child.name, node)
        out.append("END:" + node.name)
        return out

    def alarm(self, alarm: Node, item: Node, label: str) -> list[str | Line]:
        trig = alarm.get("TRIGGER")
        start = item.get("DTSTART")
        if self.version == "2.0":
            out: list[str | Line] = ["BEGIN:VALARM"]
            for p in alarm.props:
                if p.name == "TRIGGER" and p.kind == "trigger" and isinstance(p.value, date):
                    out.append(self._trigger20(p, start))
                else:
                    out += self.prop(p, "VALARM", label)
            return [*out, "END:VALARM"]
        action = str(alarm.get("ACTION").value if alarm.get("ACTION") else "").upper()  # type: ignore[union-attr]
        key = _ALARMS20.get(action)
        if key is None or trig is None:
            self.losses.append(f"{label}: VALARM {action or 'without ACTION'} has no vCalendar "
                               "1.0 form; dropped")
            return []
        when = trig.value
        if isinstance(when, timedelta):
            self.losses.append(f"{label}: VALARM trigger {_fmt_duration(when)} has no reference "
                               "time; dropped")
            return []
        used = {"ACTION", "TRIGGER", "DURATION", "REPEAT"}
        run = self.dt(when, []) if isinstance(when, date) else str(when)

        def val(name: str) -> str:
            p = alarm.get(name)
            return str(p.value) if p is not None else ""

        fields = [run, val("DURATION"), val("REPEAT") or "0"]
        params: list[Param] = []
        if key == "DALARM":
            fields.append(val("DESCRIPTION"))
            used.add("DESCRIPTION")
        elif key == "MALARM":
            addr = val("ATTENDEE")
            fields += [addr[7:] if addr.lower().startswith("mailto:") else addr, val("DESCRIPTION")]
            used |= {"ATTENDEE", "DESCRIPTION"}
        else:
            att = alarm.get("ATTACH")
            fields.append(val("ATTACH"))
            params = self._params(att) if att is not None else []
            used.add("ATTACH")
        dropped = sorted({p.name for p in alarm.props} - used)
        if dropped:
            self.losses.append(f"{label}: VALARM {', '.join(dropped)} has no vCalendar 1.0 form;"
                               " dropped")
        while len(fields) > 4 and not fields[-1]:
            fields.pop()
        return [(key, params, ";".join(f.replace(";", "\\;").replace("\n", "\r\n")
                                       for f in fields))]

    def _trigger20(self, p: Prop, start: Prop | None) -> Line:
        when = p.value
        if start is not None and start.kind == "dt":
            sv = start.value
            if not isinstance(sv, datetime):
                sv = datetime(sv.year, sv.month, sv.day)
            if isinstance(when, datetime) and (when.tzinfo is None) == (sv.tzinfo is None):
                return ("TRIGGER", [*p.params], _fmt_duration(when - sv))
        params: list[Param] = [*p.params, ("VALUE", "DATE-TIME")]
        if isinstance(when, datetime) and when.tzinfo is not None:
            return ("TRIGGER", params, _fmt_local(when.astimezone(UTC).replace(tzinfo=None)) + "Z")
        return ("TRIGGER", params, self.dt(when, []))


_MAX_YEARS = 20
_PERIOD = {"SECONDLY": timedelta(seconds=1), "MINUTELY": timedelta(minutes=1),
           "HOURLY": timedelta(hours=1), "DAILY": timedelta(days=1), "WEEKLY": timedelta(days=7),
           "MONTHLY": timedelta(days=31), "YEARLY": timedelta(days=366)}
#: BY parts that never leave a period without an occurrence, by FREQ
_DENSE = {"WEEKLY": {"BYDAY", "WKST"}, "DAILY": {"BYHOUR", "BYMINUTE", "BYSECOND"},
          "HOURLY": {"BYMINUTE", "BYSECOND"}, "MINUTELY": {"BYSECOND"}}


def _rule_span(rule: dict[str, Any]) -> timedelta | None:
    """An estimate of how far a COUNT rule reaches from DTSTART (None: past
    any year we would write).  ``COUNT x INTERVAL`` periods when every
    period has an occurrence, twice that when BY parts can skip periods
    (``BYMONTHDAY=31``, ``BYMONTH`` in a daily rule...)."""
    try:
        periods = int(rule["COUNT"]) * int(rule.get("INTERVAL", "1"))
    except (KeyError, ValueError):
        return None
    freq = str(rule.get("FREQ", ""))
    if freq not in _PERIOD or periods > _MAX_YEARS * 366 * 86400:
        return None
    if not set(rule) - {"FREQ", "INTERVAL", "COUNT"} <= _DENSE.get(freq, set()):
        periods *= 2
    days = periods * _PERIOD[freq].total_seconds() / 86400
    return None if days > (_MAX_YEARS + 1) * 366 else timedelta(days=days)


def _escape_raw(v: Any) -> str:
    """A raw value for 2.0: only line breaks need escaping."""
    return str(v).replace("\r\n", "\\n").replace("\n", "\\n")


def _render(lines: list[str | Line], version: str) -> bytes:
    out = bytearray()
    for ln in lines:
        if isinstance(ln, str):
            ln = (ln.split(":", 1)[0], [], ln.split(":", 1)[1])
        name, params, text = ln
        binary = any((n or "").upper() == "ENCODING" for n, _ in params)
        if version == "2.0" or binary:
            head = ";".join([name] + [v if n is None else f"{n}={v}" for n, v in params]) + ":"
            raw = (head + text).encode("utf-8", "surrogateescape")
            if version == "2.0":
                out += fold_line(raw, b"\r\n") + b"\r\n"
            else:  # a 2.1-style BASE64 block ends with a blank line
                out += raw + b"\r\n\r\n"
            continue
        line = ContentLine(b"", None, name, list(params), b"", b"\r\n", 0, version)
        line.set_raw_value(text)
        out += line.raw
    return bytes(out)


