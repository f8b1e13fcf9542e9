"""Reading a vCalendar 1.0 or iCalendar 2.0 VCALENDAR into the model."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from . import _rrule
from ._calmodel import (
    _ALARMS10,
    _DT_LISTS,
    _DT_PROPS,
    _EXPECT,
    _ITEMS,
    _LISTS,
    _MAILTO,
    _PARTSTAT,
    _RAW,
    _RULES,
    _STATUS20,
    _TEXT,
    PRODID,
    UTC,
    Model,
    Node,
    Params,
    Prop,
    X,
    _list_param,
    _parse_dt,
    _parse_duration,
)
from ._versit_text import Param, escape_value, split_escaped, unescape_value
from ._vtimezone import VcalZone, _olson, _zone_from_vcal, _zone_from_vtimezone
from .versit import Component, ContentLine

#: the most dates one EXDATE/RDATE line is read with (more: carried as text)
MAX_DATES = 1000


class _Reader:
    """Reads one VCALENDAR of either version into the model."""

    def __init__(self, version: str, losses: list[str]) -> None:
        self.version = version
        self.losses = losses
        self.zones: dict[str, tzinfo] = {}
        self.zone10: VcalZone | None = None

    def read(self, cal: Component) -> Model:
        node = Node("VCALENDAR")
        if self.version == "1.0":
            tz = cal.find("TZ")
            if tz is not None:
                try:
                    self.zone10 = _zone_from_vcal(tz.value, [d.value for d in cal.find_all("DAYLIGHT")])
                    self.zones[self.zone10.tzid] = self.zone10
                except (ValueError, OverflowError) as exc:
                    self.losses.append(f"VCALENDAR: TZ/DAYLIGHT not understood ({exc}); kept as text")
        else:
            for sub in cal.components:
                if sub.name.upper() == "VTIMEZONE":
                    try:
                        tzid, zone = _zone_from_vtimezone(sub)
                        self.zones[tzid] = zone
                    except (ValueError, OverflowError, AttributeError) as exc:
                        self.losses.append(f"VTIMEZONE not understood ({exc}); dropped")
        for line in cal.lines:
            key = line.name.upper()
            if key == "VERSION" or (self.zone10 is not None and key in ("TZ", "DAYLIGHT")):
                continue
            if self.version == "1.0" and key in _ALARMS10:
                # an alarm outside any VEVENT/VTODO: iCalendar has VALARM only inside
                # them, so it is carried as its 1.0 text (and comes back unchanged)
                self.losses.append(f"VCALENDAR: {key} outside an event or to-do has no "
                                   f"iCalendar 2.0 form; kept as {X}{key}")
                node.props.append(Prop(X + key, self._params(key, line.params),
                                       self._wire(line), "raw"))
                continue
            prop = self.prop(line.name, line.params, self._wire(line), "VCALENDAR")
            if prop is not None and not (prop.name == "PRODID" and prop.value == PRODID):
                node.props.append(prop)
        counts: dict[str, int] = {}
        for sub in cal.components:
            key = sub.name.upper()
            if key == "VTIMEZONE" and self.version == "2.0":
                continue
            counts[key] = counts.get(key, 0) + 1
            node.children.append(self.component(sub, f"{key} {counts[key]}"))
        return Model(node, self.zones)

    def _wire(self, line: ContentLine) -> str:
        """Transfer-decoded text (QP and CHARSET applied), 2.0 escapes kept."""
        if line.encoding in ("BASE64", "B"):
            return line.value
        if self.version == "1.0":
            return line.value.replace("\r\n", "\n")
        return line._decode_charset(line.data)

    def component(self, comp: Component, label: str) -> Node:
        node = Node(comp.name.upper())
        for line in comp.lines:
            prop = self.prop(line.name, line.params, self._wire(line), node.name, label)
            if prop is None:
                continue
            if prop.kind == "alarm":
                node.children.append(prop.value)
            else:
                node.props.append(prop)
        for sub in comp.components:
            node.children.append(self.component(sub, label + " " + sub.name.upper()))
        if node.name in _ITEMS:
            self._fix_item(node)
        return node

    def _fix_item(self, node: Node) -> None:
        start, end = node.get("DTSTART"), node.get("DTEND")
        if self.version == "2.0":
            dur = node.get("DURATION")
            if dur is not None and start is not None and start.kind == "dt":
                try:
                    target = "DUE" if node.name == "VTODO" else "DTEND"
                    new = Prop(target, (), start.value + _parse_duration(dur.value), "dt")
                    node.props[node.props.index(dur)] = new
                except (ValueError, TypeError, OverflowError):
                    pass
            for alarm in node.children:
                self._fix_trigger(alarm, node)
            return
        if start is None or start.kind != "dt":
            return
        sv = start.value
        allday = not isinstance(sv, datetime)
        if isinstance(sv, datetime) and sv.tzinfo is not UTC and sv.time() == datetime.min.time():
            ev = end.value if end is not None and end.kind == "dt" else None
            flag = node.get("X-FUNAMBOL-ALLDAY")
            if (isinstance(ev, datetime) and ev.tzinfo is not UTC
                    and (ev.hour, ev.minute) == (23, 59)) or (
                    flag is not None and flag.value in ("1", ("1",))):
                allday = True
        if not allday:
            return
        start.value = sv.date() if isinstance(sv, datetime) else sv
        if end is not None and end.kind == "dt":
            ev = end.value
            day = ev.date() if isinstance(ev, datetime) else ev
            if day < date.max and (not isinstance(ev, datetime) or ev.hour or ev.minute):
                day += timedelta(days=1)  # the exclusive end (the last day of all time has none)
            end.value = day
        for p in node.props:
            if p.kind == "dtlist":
                p.value = tuple(v.date() if isinstance(v, datetime) else v for v in p.value)
            elif p.kind == "rule" and isinstance(p.value.get("UNTIL"), datetime) and (
                    p.value["UNTIL"].tzinfo is not UTC):
                p.value["UNTIL"] = p.value["UNTIL"].date()

    def _fix_trigger(self, alarm: Node, item: Node) -> None:
        trig = alarm.get("TRIGGER")
        if trig is None or not isinstance(trig.value, timedelta):
            return
        related = _list_param("RELATED", trig.params) or "START"
        ref = item.get("DTSTART") if related.upper() == "START" else (
            item.get("DTEND") or item.get("DUE"))
        if ref is not None and ref.kind == "dt":
            rv = ref.value
            if not isinstance(rv, datetime):
                rv = datetime(rv.year, rv.month, rv.day)
            try:
                trig.value = rv + trig.value
            except OverflowError:
                return  # kept relative: the writer carries it as a duration
            trig.params = tuple(p for p in trig.params if p[0] != "RELATED")

    # one property ----------------------------------------------------------------
    def prop(self, name: str, params: list[Param], text: str, comp: str,
             label: str = "VCALENDAR") -> Prop | None:
        key = name.upper()
        if key.startswith(X) and key[len(X):] and key != X + "RRULE-10":
            inner = key[len(X):]
            other = _Reader("2.0" if self.version == "1.0" else "1.0", [])  # its losses: not ours
            other.zones, other.zone10 = self.zones, self.zone10
            if self.version == "1.0" and inner in _DT_PROPS:
                return self.prop(inner, params, text, comp, label)
            if self.version == "1.0" and inner in _RULES | {"STATUS"}:
                try:
                    return other.prop(inner, params, text if inner != "STATUS" else escape_value(text),
                                      comp, label)
                except ValueError:
                    pass
            elif self.version == "2.0" and inner in _RULES | {"STATUS", "TRANSP"}:
                p = other.prop(inner, params, unescape_value(text), comp, label)
                if p is not None and not p.name.startswith(X):
                    return p
            return Prop(key, self._params(key, params), self._unesc(text), "raw")
        clean = self._params(key, params)
        if self.version == "1.0":
            if key == "DCREATED":
                key = "CREATED"
            elif key in _ALARMS10:
                return self._alarm10(key, clean, text, label)
        if key in _DT_PROPS:
            try:
                return Prop(key, self._dt_params(clean), self._dt(text, params), "dt")
            except ValueError:
                return Prop(key, clean, self._unesc(text), "raw")
        if key in _DT_LISTS:
            sep = ";" if self.version == "1.0" else ","
            if text.count(sep) >= MAX_DATES:
                self.losses.append(f"{label}: {key} with more than {MAX_DATES} dates is not "
                                   "converted; kept as text")
                return Prop(X + key, clean, self._unesc(text), "raw")
            try:
                vals = tuple(self._dt(t, params) for t in text.split(sep) if t.strip())
                return Prop(key, self._dt_params(clean), vals, "dtlist")
            except ValueError:
                return Prop(key, clean, self._unesc(text), "raw")
        if key in _RULES:
            return self._rule(key, clean, text, label)
        if key == "TRIGGER":
            value_type = (_list_param("VALUE", clean) or "DURATION").upper()
            rest = tuple(p for p in clean if p[0] != "VALUE")
            try:
                if value_type == "DATE-TIME":
                    return Prop(key, rest, self._dt(text, params), "trigger")
                return Prop(key, rest, _parse_duration(text), "trigger")
            except ValueError:
                return Prop(key, clean, text, "raw")
        if key == "STATUS":
            value = text.strip().upper()
            if self.version == "1.0":
                if value == "NEEDS ACTION":
                    value = "NEEDS-ACTION"
                if value not in _STATUS20.get(comp, set()):
                    self.losses.append(f"{label}: STATUS {text.strip()} has no iCalendar 2.0 form "
                                       f"for {comp}; kept as {X}STATUS")
                    return Prop(X + "STATUS", clean, text.strip(), "raw")
            return Prop(key, clean, value, "raw")
        if key == "TRANSP" and self.version == "1.0":
            value = text.strip().upper()
            mapped = {"0": "OPAQUE", "1": "TRANSPARENT"}.get(value, value)
            if mapped not in ("OPAQUE", "TRANSPARENT"):
                self.losses.append(f"{label}: TRANSP {value} has no iCalendar 2.0 form; "
                                   f"kept as {X}TRANSP")
                return Prop(X + "TRANSP", clean, value, "raw")
            return Prop(key, clean, mapped, "raw")
        if key in ("ATTENDEE", "ORGANIZER"):
            value = self._unesc(text).strip()
            if self.version == "1.0" and _MAILTO.match(value):
                value = "mailto:" + value
            elif value.lower().startswith("mailto:"):
                value = "mailto:" + value[7:]
            return Prop(key, self._attendee_params(clean, label), value, "raw")
        if key in _TEXT:
            return Prop(key, clean, self._unesc(text), "text")
        if key in _LISTS:
            return Prop(key, clean, self._parts(text, "," if self.version == "2.0" else ";"), "list")
        if key == "REPEAT" and text.strip() == "0":
            return None  # the default
        if key in _RAW or key == "DURATION":
            return Prop(key, clean, self._unesc(text), "raw")
        return Prop(key, clean, self._parts(text, ";"), "compound")

    def _unesc(self, text: str) -> str:
        return unescape_value(text) if self.version == "2.0" else text

    def _parts(self, text: str, sep: str) -> tuple[str, ...]:
        parts = split_escaped(text, sep)
        if self.version == "2.0":
            return tuple(unescape_value(p) for p in parts)
        return tuple(p.replace("\\" + sep, sep) for p in parts)

    def _params(self, key: str, params: list[Param]) -> Params:
        out = []
        for n, v in params:
            name = (n or "TYPE").upper()
            if name == "ENCODING" and v.upper() in ("BASE64", "B"):
                out.append((name, "BASE64"))
                continue
            if name in ("ENCODING", "CHARSET") or (n is None and v.upper() in (
                    "QUOTED-PRINTABLE", "BASE64", "8BIT", "7BIT")):
                continue
            if self.version == "1.0" and name.startswith(X) and key not in ("ATTENDEE", "ORGANIZER"):
                name = name[len(X):]
            out.append((name, v))
        return tuple(out)

    def _dt_params(self, params: Params) -> Params:
        return tuple(p for p in params if p[0] not in ("VALUE", "TZID"))

    def _zone_for(self, params: list[Param]) -> tzinfo | None:
        if self.version == "1.0":
            return self.zone10
        tzid = next((v.strip('"') for n, v in params if (n or "").upper() == "TZID"), None)
        if tzid is None:
            return None
        zone = self.zones.get(tzid) or _olson(tzid)
        if zone is None:
            self.losses.append(f"TZID {tzid} is unknown; its times are read as floating")
            self.zones[tzid] = UTC  # report once
            return None
        return zone

    def _dt(self, text: str, params: list[Param]) -> datetime | date:
        return _parse_dt(text, self._zone_for(params))

    def _rule(self, key: str, params: Params, text: str, label: str) -> Prop:
        try:
            if self.version == "1.0":
                rule: dict[str, Any] = dict(_rrule.from_vcal10(text))
            else:
                rule = dict(_rrule.parse_ical(text))
            if "UNTIL" in rule:
                until = self._dt(rule["UNTIL"], [])
                if self.version == "1.0" and not isinstance(until, datetime):
                    until = datetime(until.year, until.month, until.day, 23, 59, 59,
                                     tzinfo=self.zone10)
                rule["UNTIL"] = until
            return Prop(key, params, rule, "rule")
        except ValueError as exc:
            other = "2.0" if self.version == "1.0" else "1.0"
            self.losses.append(f"{label}: {key} {text.strip()[:80]} not converted ({exc}); "
                               f"kept as {X}{key} for {other}")
            # from 2.0, "carried": the 1.0 writer keeps the X- name (its text is no 1.0 rule)
            return Prop(X + key, params, text.strip(), "raw" if self.version == "1.0" else "carried")

    def _attendee_params(self, params: Params, label: str) -> Params:
        out: list[tuple[str, str]] = []
        for name, v in params:
            value = v.strip('"').upper()
            if self.version == "2.0":
                out.append((name, v))
            elif name.startswith(X):
                out.append((name[len(X):], v))
            elif name == "ROLE" and value == "OWNER":
                out.append(("ROLE", "CHAIR"))
            elif name == "STATUS" and value.replace(" ", "-") in _PARTSTAT:
                out.append(("PARTSTAT", value.replace(" ", "-")))
            elif name == "RSVP" and value in ("YES", "NO"):
                out.append(("RSVP", "TRUE" if value == "YES" else "FALSE"))
            elif name == "EXPECT" and value in _EXPECT and not any(
                    n == "ROLE" and r.strip('"').upper() == "OWNER" for n, r in params):
                out.append(("ROLE", _EXPECT[value]))
            elif name in ("ROLE", "STATUS", "EXPECT"):
                self.losses.append(f"{label}: ATTENDEE {name}={v} has no iCalendar 2.0 form; "
                                   f"kept as {X}{name}")
                out.append((X + name, v))
            else:
                out.append((name, v))
        return tuple(out)

    def _alarm10(self, key: str, params: Params, text: str, label: str) -> Prop:
        f = [p.replace("\\;", ";") for p in split_escaped(text, ";")]
        f += [""] * (5 - len(f))
        node = Node("VALARM", [Prop("ACTION", (), _ALARMS10[key], "raw")])
        try:
            node.props.append(Prop("TRIGGER", (), _parse_dt(f[0], self.zone10), "trigger"))
        except ValueError:
            self.losses.append(f"{label}: {key} run time {f[0]!r} not understood; kept as text")
            node.props.append(Prop("TRIGGER", (), f[0], "raw"))
        if f[1].strip():
            node.props.append(Prop("DURATION", (), f[1].strip(), "raw"))
        if f[2].strip() not in ("", "0"):  # 0 is the default: no repetition
            node.props.append(Prop("REPEAT", (), f[2].strip(), "raw"))
        content = f[3]
        if key == "DALARM":
            node.props.append(Prop("DESCRIPTION", (), content, "text"))
        elif key == "MALARM":
            if content:
                node.props.append(Prop("ATTENDEE", (), "mailto:" + content, "raw"))
            node.props.append(Prop("DESCRIPTION", (), f[4], "text"))
        elif content or params:
            node.props.append(Prop("ATTACH", params, content, "raw"))
        return Prop("VALARM", (), node, "alarm")


