"""Time zones for the calendar converter: vCalendar 1.0 ``TZ``/``DAYLIGHT``
(:class:`VcalZone`), VTIMEZONE in and out, and the transitions of any
``tzinfo`` for a range of years (``formats.md`` 2.2)."""

from __future__ import annotations

import contextlib
import functools
import io
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dateutil import tz as dtz  # type: ignore[import-untyped]
from dateutil.rrule import rrulestr  # type: ignore[import-untyped]

from . import _rrule
from ._calmodel import _DT, _OFFSET, UTC, _fmt_local
from ._versit_text import escape_value
from .versit import Component, ContentLine


@dataclass(frozen=True)
class _Dst:
    start: datetime  # UTC, naive
    end: datetime  # UTC, naive
    offset: timedelta
    std_name: str = ""
    dst_name: str = ""


class VcalZone(tzinfo):
    """A zone given by its standard offset and a list of DST periods, the
    way vCalendar 1.0 ``TZ``/``DAYLIGHT`` (and an RDATE-only VTIMEZONE)
    describe it."""

    def __init__(self, std: timedelta, rules: list[_Dst], tzid: str | None = None,
                 std_name: str = "") -> None:
        self.std = std
        self.rules = sorted(rules, key=lambda r: r.start)
        self.std_name = std_name or next((r.std_name for r in self.rules if r.std_name), "")
        self.tzid = tzid or "vCalendar " + _fmt_offset(std) + "".join(
            sorted({" DST" + _fmt_offset(r.offset) for r in self.rules}))

    def _rule_local(self, local: datetime) -> _Dst | None:
        return next((r for r in self.rules if r.start + self.std <= local < r.end + r.offset), None)

    def utcoffset(self, dt: datetime | None) -> timedelta:
        if dt is None:
            return self.std
        local = dt.replace(tzinfo=None)
        r = self._rule_local(local)
        if r is not None and dt.fold and local >= r.end + self.std:
            return self.std  # the repeated hour, second time round
        return r.offset if r else self.std

    def dst(self, dt: datetime | None) -> timedelta:
        return self.utcoffset(dt) - self.std

    def tzname(self, dt: datetime | None) -> str:
        r = self._rule_local(dt.replace(tzinfo=None)) if dt is not None else None
        return (r.dst_name if r else self.std_name) or self.tzid

    def fromutc(self, dt: datetime) -> datetime:
        u = dt.replace(tzinfo=None)
        r = next((r for r in self.rules if r.start <= u < r.end), None)
        if r is not None:
            return (u + r.offset).replace(tzinfo=self)
        fold = any(r.end <= u < r.end + (r.offset - self.std) for r in self.rules)
        return (u + self.std).replace(tzinfo=self, fold=int(fold))

    def signature(self) -> tuple[Any, ...]:
        return (self.std, tuple((r.start, r.end, r.offset, r.std_name, r.dst_name)
                                for r in self.rules))

    def vtimezone(self) -> list[str]:
        """The zone as VTIMEZONE lines (iCalendar wire text)."""
        std = _fmt_offset(self.std)
        out = ["BEGIN:VTIMEZONE", "TZID:" + escape_value(self.tzid), "BEGIN:STANDARD",
               "DTSTART:19700101T000000", f"TZOFFSETFROM:{std}", f"TZOFFSETTO:{std}"]
        out += ["TZNAME:" + escape_value(self.std_name)] if self.std_name else []
        out.append("END:STANDARD")
        for r in self.rules:
            dst = _fmt_offset(r.offset)
            out += ["BEGIN:DAYLIGHT", "DTSTART:" + _fmt_local(r.start + self.std),
                    f"TZOFFSETFROM:{std}", f"TZOFFSETTO:{dst}"]
            out += ["TZNAME:" + escape_value(r.dst_name)] if r.dst_name else []
            out += ["END:DAYLIGHT", "BEGIN:STANDARD", "DTSTART:" + _fmt_local(r.end + r.offset),
                    f"TZOFFSETFROM:{dst}", f"TZOFFSETTO:{std}"]
            out += ["TZNAME:" + escape_value(r.std_name)] if r.std_name else []
            out.append("END:STANDARD")
        return [*out, "END:VTIMEZONE"]


@dataclass(frozen=True)
class _Part:
    """One STANDARD/DAYLIGHT part of a rule-based VTIMEZONE: its onsets are
    DTSTART, the RDATEs and the RRULE's dates (local times in ``off_from``)."""

    start: datetime
    rdates: tuple[datetime, ...]
    rule: str | None
    off_from: timedelta
    off_to: timedelta
    name: str


#: rule-based VTIMEZONEs read by ``tzical`` -> their parts, so that
#: :func:`_transitions` lists the onsets of a range of years instead of probing
#: ``tzical`` (which walks every onset since DTSTART, often 1601, on each lookup)
_PARTS: weakref.WeakKeyDictionary[tzinfo, tuple[_Part, ...]] = weakref.WeakKeyDictionary()


def _fmt_offset(td: timedelta, sep: str = "") -> str:
    minutes = int(td.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    h, m = divmod(abs(minutes), 60)
    return f"{sign}{h:02d}{sep}{m:02d}"


def _parse_offset(text: str) -> timedelta:
    m = _OFFSET.match(text.strip())
    if m is None:
        raise ValueError(f"bad UTC offset {text!r}")
    hours, minutes, seconds = int(m.group(2)), int(m.group(3) or 0), int(m.group(4) or 0)
    if hours > 18 or minutes > 59 or seconds > 59:  # real offsets lie within -12 .. +14 hours
        raise ValueError(f"UTC offset {text.strip()[:20]!r} out of range")
    td = timedelta(hours=hours, minutes=minutes, seconds=seconds)
    return -td if m.group(1) == "-" else td


def _zone_from_vcal(tz_text: str, daylight: list[str]) -> VcalZone:
    std = _parse_offset(tz_text)
    rules: list[_Dst] = []
    for text in daylight:
        f = [p.strip() for p in text.split(";")]
        if f[0].upper() != "TRUE":
            continue
        if len(f) < 4:
            raise ValueError(f"DAYLIGHT needs 4 fields: {text!r}")
        off = _parse_offset(f[1])
        start, end = _plain_dt(f[2]), _plain_dt(f[3])
        s = start[0] if start[1] else start[0] - std
        e = end[0] if end[1] else end[0] - off
        rules.append(_Dst(s, e, off, f[4] if len(f) > 4 else "", f[5] if len(f) > 5 else ""))
    return VcalZone(std, rules)


def _plain_dt(text: str) -> tuple[datetime, bool]:
    m = _DT.match(text.strip())
    if m is None or m.group(4) is None:
        raise ValueError(f"bad date-time {text!r}")
    y, mo, d, h, mi, s, z = m.groups()
    return datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0)), bool(z)


def _value(comp: Component, name: str) -> str | None:
    line = comp.find(name)
    return None if line is None else line.value.strip()


def _explicit_zone(tzid: str, subs: list[Component]) -> VcalZone:
    """A VTIMEZONE without RRULEs (a list of onsets) as a :class:`VcalZone`."""
    std_offs: list[timedelta] = []
    starts: list[tuple[datetime, timedelta, str]] = []
    ends: list[tuple[datetime, timedelta, str]] = []
    for c in subs:
        frm, to = _value(c, "TZOFFSETFROM"), _value(c, "TZOFFSETTO")
        if frm is None or to is None:
            raise ValueError("VTIMEZONE part without offsets")
        off_from, off_to = _parse_offset(frm), _parse_offset(to)
        name = _value(c, "TZNAME") or ""
        onsets = [v for v in [_value(c, "DTSTART")] if v]
        onsets += [v for ln in c.find_all("RDATE") for v in ln.value.split(",") if v.strip()]
        daylight = c.name.upper() == "DAYLIGHT"
        for text in onsets:
            local, _utc = _plain_dt(text)
            (starts if daylight else ends).append((local - off_from, off_to, name))
        if not daylight:
            std_offs.append(off_to)
    std = min(std_offs) if std_offs else timedelta(0)
    starts.sort()
    ends = sorted(e for e in ends if e[1] == std)
    rules = []
    for s_utc, off, dname in starts:
        end = next((e for e in ends if e[0] > s_utc), None)
        if end is not None:
            rules.append(_Dst(s_utc, end[0], off, end[2], dname))
    return VcalZone(std, rules, tzid, next((e[2] for e in ends), ""))


_TZICAL = frozenset({"BEGIN", "END", "TZID", "DTSTART", "TZOFFSETFROM", "TZOFFSETTO", "TZNAME",
                     "RRULE", "RDATE", "COMMENT"})


def _tzical_text(comp: Component) -> str:
    """The VTIMEZONE with only what ``tzical`` reads (it rejects X- lines)."""
    out = [comp.begin.raw]
    for child in comp.children:
        if isinstance(child, Component):
            out.append(_tzical_text(child).encode("utf-8"))
        elif isinstance(child, ContentLine) and child.name.upper() in _TZICAL:
            out.append(child.raw)
    if comp.end is not None:
        out.append(comp.end.raw)
    return b"".join(out).decode("utf-8", "replace")


#: what a VTIMEZONE may hold before it reaches ``tzical`` (which walks every
#: onset from DTSTART on each lookup: a ``FREQ=SECONDLY`` rule from year 1 never ends)
MAX_ZONE_PARTS = 64
MAX_ZONE_ONSETS = 1000
_ZONE_RULE_PARTS = frozenset({"FREQ", "BYMONTH", "BYDAY", "BYMONTHDAY", "UNTIL", "COUNT", "WKST"})
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _check_zone_rule(text: str) -> None:
    """:class:`ValueError` unless ``text`` is a yearly onset rule that
    matches at least once every few years (what time zones use)."""
    rule = _rrule.parse_ical(text)
    extra = set(rule) - _ZONE_RULE_PARTS
    if rule["FREQ"] != "YEARLY" or extra:
        raise ValueError(f"time zone rule {text[:60]!r} is not a plain yearly rule")
    months = [int(m) for m in rule.get("BYMONTH", "").split(",") if m] or list(range(1, 13))
    days = [int(d) for d in rule.get("BYMONTHDAY", "").split(",") if d]
    if days and not any(-28 <= d <= _MONTH_DAYS[m - 1] for m in months for d in days):
        raise ValueError(f"time zone rule {text[:60]!r} never matches")


def _check_zone(comp: Component) -> None:
    """Bounds on a VTIMEZONE (parts, onsets, rules) before it is read."""
    subs = comp.components
    if len(subs) > MAX_ZONE_PARTS:
        raise ValueError(f"VTIMEZONE with {len(subs)} parts")
    onsets = 0
    for sub in subs:
        rules = sub.find_all("RRULE")
        if len(rules) > 1 or sub.find("EXRULE") is not None:
            raise ValueError("VTIMEZONE part with several rules")
        for line in rules:
            _check_zone_rule(line.value)
        onsets += sum(line.value.count(",") + 1 for line in sub.find_all("RDATE"))
        if onsets > MAX_ZONE_ONSETS:
            raise ValueError(f"VTIMEZONE with more than {MAX_ZONE_ONSETS} onsets")


#: the zones read last, by their VTIMEZONE's bytes: a calendar of many items repeats the same
#: VTIMEZONE in each, and a new ``tzical`` walks its rules from their DTSTART again (milliseconds)
_ZONE_CACHE: dict[bytes, tuple[str, tzinfo]] = {}
_ZONE_CACHE_SIZE = 128


def _zone_from_vtimezone(comp: Component) -> tuple[str, tzinfo]:
    """:func:`_read_vtimezone`, the same zone object again for the same VTIMEZONE bytes (zones
    are not changed once made)."""
    key = comp.serialize()
    found = _ZONE_CACHE.get(key)
    if found is None:
        found = _read_vtimezone(comp)
        if len(_ZONE_CACHE) >= _ZONE_CACHE_SIZE:
            # the oldest goes; server threads may be at it too (no lock below the server layer)
            with contextlib.suppress(StopIteration, RuntimeError):
                _ZONE_CACHE.pop(next(iter(_ZONE_CACHE)), None)
        _ZONE_CACHE[key] = found
    return found


def _read_vtimezone(comp: Component) -> tuple[str, tzinfo]:
    """A VTIMEZONE as (TZID, tzinfo): one that lists its onsets (no RRULE,
    as written from vCalendar 1.0) as a :class:`VcalZone`, so that the same
    DAYLIGHT lines come back; any other through dateutil's ``tzical``.  The
    list reading is kept only if it agrees with ``tzical`` at every onset."""
    tzid = _value(comp, "TZID")
    if not tzid:
        raise ValueError("VTIMEZONE without TZID")
    _check_zone(comp)
    text = _tzical_text(comp)
    try:
        general: tzinfo | None = dtz.tzical(io.StringIO(text)).get(tzid)
    except (ValueError, TypeError, IndexError, OverflowError) as exc:
        raise ValueError(f"cannot read VTIMEZONE {tzid}: {exc}") from None
    if general is None:
        raise ValueError(f"cannot read VTIMEZONE {tzid}")
    subs = [c for c in comp.components if c.name.upper() in ("STANDARD", "DAYLIGHT")]
    if any(c.find("RRULE") for c in subs):
        parts = _rule_parts(subs)
        if parts is None:  # (probing tzical instead costs a walk from DTSTART per lookup)
            raise ValueError(f"VTIMEZONE {tzid[:60]} has a part without plain DTSTART, offsets "
                             "and date-time RDATEs")
        _PARTS[general] = parts
        return tzid, general
    zone = _explicit_zone(tzid, subs)
    probes = [t for r in zone.rules for t in (r.start, r.end)]
    probes += [t + delta for t in list(probes) for delta in (timedelta(hours=-1), timedelta(hours=1))]
    for u in probes:
        aware = u.replace(tzinfo=UTC)
        if aware.astimezone(zone).utcoffset() != aware.astimezone(general).utcoffset():
            parts = _rule_parts(subs)
            if parts is not None:
                _PARTS[general] = parts
            return tzid, general
    return tzid, zone


@functools.cache
def _zone_keys() -> frozenset[str]:
    """The keys of the zone database (read once)."""
    return frozenset(available_timezones())


def _rule_parts(subs: list[Component]) -> tuple[_Part, ...] | None:
    """The parts of a rule-based VTIMEZONE (None if one is not plain:
    RDATE periods or dates, a missing DTSTART...)."""
    out: list[_Part] = []
    try:
        for c in subs:
            start, frm, to = _value(c, "DTSTART"), _value(c, "TZOFFSETFROM"), _value(c, "TZOFFSETTO")
            if not (start and frm and to):
                return None
            rule = c.find("RRULE")
            rdates = tuple(_plain_dt(v)[0] for ln in c.find_all("RDATE")
                           for v in ln.value.split(",") if v.strip())
            out.append(_Part(_plain_dt(start)[0], rdates, rule.value if rule is not None else None,
                             _parse_offset(frm), _parse_offset(to), _value(c, "TZNAME") or ""))
    except ValueError:
        return None
    return tuple(out)


def _onsets(parts: tuple[_Part, ...], lo: datetime, hi: datetime) -> list[tuple[datetime, timedelta, str]]:
    """Every onset in ``lo..hi`` as (UTC instant, naive; offset after; name),
    sorted.  A yearly rule without COUNT gives the same dates from any year
    on, so it starts near ``lo`` instead of at its DTSTART (often 1601)."""
    onsets: set[tuple[datetime, timedelta, str]] = set()
    for p in parts:
        local = [p.start, *p.rdates]
        if p.rule is not None:  # a yearly rule (see _check_zone_rule)
            start = p.start
            if "COUNT" not in p.rule.upper() and start.year < lo.year - 1:
                start = start.replace(year=lo.year - 1)
            rule = rrulestr(p.rule, dtstart=start)
            local += rule.between(lo + p.off_from - timedelta(days=1), hi + p.off_from, inc=True)
        onsets.update((t - p.off_from, p.off_to, p.name) for t in local if lo < t - p.off_from <= hi)
    return sorted(onsets)


def _olson(tzid: str) -> tzinfo | None:
    """The IANA zone a TZID names (``Europe/Berlin``, also with a prefix:
    ``/mozilla.org/20050126_1/Europe/Berlin``), or None.  Only keys the
    zone database lists reach :class:`ZoneInfo`: a TZID is client text and
    must never name a file (``Europe`` is a directory, ``../x`` a path)."""
    if len(tzid) > 200:
        return None
    parts = tzid.strip("/").split("/")
    keys = _zone_keys()
    for n in (1, 2, 3):
        key = "/".join(parts[-n:])
        if key in keys:
            try:
                return ZoneInfo(key)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                return None
    return None


def _name_at(zone: tzinfo, when: datetime) -> str:
    return when.replace(tzinfo=UTC).astimezone(zone).tzname() or ""


def _transitions(zone: tzinfo, years: range) -> VcalZone:
    """``zone`` as TZ/DAYLIGHT for ``years``.  A rule-based VTIMEZONE gives
    its onsets in that range directly (:func:`_onsets`); any other zone (an
    IANA one) is probed: the offset every three days, then a bisection to
    the second where it changes (two changes less than three days apart,
    unknown in today's zones, would be missed).  At most 20 years (the
    writer's ``_years``), so the work is bounded."""
    def off(u: datetime) -> timedelta:
        return u.replace(tzinfo=UTC).astimezone(zone).utcoffset() or timedelta(0)

    changes: list[tuple[datetime, timedelta]] = []
    day = datetime(years.start, 1, 1, 12)
    stop = datetime(years.stop + 1, 6, 1, 12)
    names: dict[datetime, str] = {}
    start_name: str | None = None
    parts = _PARTS.get(zone)
    onsets = None
    if parts is not None:
        try:
            lo = day - timedelta(days=800) if day.year > 3 else datetime(1, 1, 5)
            onsets = _onsets(parts, lo, stop)
        except (ValueError, TypeError, OverflowError):
            onsets = None
    if onsets is not None:  # the onsets say it all: no probing
        earlier = [o for o in onsets if o[0] <= day]
        if earlier:
            first, start_name = earlier[-1][1], earlier[-1][2]
        else:  # before the zone's first onset: ask the zone once
            first, start_name = off(day), _name_at(zone, day)
        prev, offsets = first, {first}
        for when, to, name in onsets:
            if when > day:
                names[when] = name
                if to != prev:
                    changes.append((when, to))
                    offsets.add(to)
                    prev = to
        day = stop
    else:
        prev = off(day)
        offsets = {prev}
    while day < stop:
        nxt = day + timedelta(days=3)
        cur = off(nxt)
        if cur != prev:
            lo, hi = day, nxt
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(microsecond=0)
                if off(mid) == prev:
                    lo = mid
                else:
                    hi = mid
            changes.append((hi, cur))
            offsets.add(cur)
        day, prev = nxt, cur
    std = min(offsets)
    rules = []
    for i, (when, to) in enumerate(changes):
        if to != std and when.year in years:
            end = next((w for w, t in changes[i + 1:] if t == std), None)
            if end is not None:
                rules.append(_Dst(when, end, to, names[end] if end in names else _name_at(zone, end),
                                  names[when] if when in names else _name_at(zone, when)))
    std_name = ""
    if start_name is not None:
        std_name = start_name if first == std else ""
    else:
        probe = datetime(years.start, 1, 1, 12).replace(tzinfo=UTC).astimezone(zone)
        if probe.utcoffset() == std:
            std_name = probe.tzname() or ""
    return VcalZone(std, rules, std_name=std_name)
