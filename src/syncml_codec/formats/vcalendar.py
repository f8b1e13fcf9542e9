"""vCalendar 1.0 <-> iCalendar 2.0 conversion (``formats.md`` sections 2 and 8).

Why this shape: the two versions differ in meaning, not only in spelling
(time zones, all-day ends, alarms, recurrence grammar), so a line-by-line
rewrite as in :mod:`.vcard` is not enough.  Each version has a reader that
turns a VCALENDAR into one version-independent model (properties with
decoded values: ``datetime`` aware for UTC and zoned times, naive for
floating ones, ``date`` for all-day; rules as RFC 5545 parts; alarms as
VALARM children with an absolute trigger) and a writer that turns the model
into that version.  ``convert = write_target(read_source(cal))``, and
:func:`normalized` is the model itself, so "lossless" has one definition
used by the converter and the tests.

Mapping decisions:

* time zones: 1.0 ``TZ`` + ``DAYLIGHT`` lines become a VTIMEZONE that lists
  exactly those transitions (one STANDARD/DAYLIGHT pair per line, no
  RRULE), local times get ``TZID``.  Going to 1.0, such a VTIMEZONE gives
  the same lines back; any other zone (RRULE-based VTIMEZONE, Olson TZID)
  is written as ``TZ`` + one ``DAYLIGHT`` per year the item touches, with
  local times (a recurrence keeps its wall-clock time across DST); several
  zones in one item fall back to UTC.  Both are reported as losses.
* all-day: 1.0 has no DATE type.  A bare date or ``T000000`` ...
  ``T235900``/``T235959`` (or ``X-FUNAMBOL-ALLDAY:1``) is read as all-day
  with an *inclusive* end; iCalendar gets ``VALUE=DATE`` and an exclusive
  ``DTEND`` (one day later).  Written back as ``T000000`` / ``T235900``,
  the form most phones read.
* alarms: ``AALARM/DALARM/PALARM/MALARM`` (absolute run time; snooze;
  repeat; content) <-> VALARM ``ACTION AUDIO/DISPLAY/PROCEDURE/EMAIL``,
  ``TRIGGER`` relative to DTSTART when there is one, ``DURATION``,
  ``REPEAT``, ``ATTACH``/``DESCRIPTION``/``ATTENDEE``.
* values: ``NEEDS ACTION`` <-> ``NEEDS-ACTION``, ``DCREATED`` <-> ``CREATED``,
  ``TRANSP`` 0/1 <-> OPAQUE/TRANSPARENT, lists ``;`` <-> ``,``, ATTENDEE
  ``ROLE/STATUS/RSVP/EXPECT`` <-> ``ROLE/PARTSTAT/RSVP``, address <->
  ``mailto:``.  Text is QP+CHARSET in 1.0 and escaped in 2.0 (the
  :class:`.versit.ContentLine` writer decides by version).
* anything the target cannot say is carried as ``X-SYNCML-<NAME>`` (a
  property or a parameter) and reported in ``losses``; the reverse
  conversion turns it back, so round trips stay lossless.  What cannot be
  carried at all (VALARM extras, alarms without a time) is dropped and
  reported.  A missing VERSION is guessed from 2.0-only syntax.

Known limits: a 1.0 end date is taken as written (``W1 TH 20060427T000000Z``
ends at that instant; some writers mean the whole day); daily rules with
times (``D1 0800 1200``) and ``$`` markers are carried, not converted;
RECURRENCE-ID items stay separate VEVENTs in 1.0.

Layout: :mod:`._calmodel` (model and values), :mod:`._calread`,
:mod:`._calwrite`, :mod:`._vtimezone` (zones), :mod:`._rrule` (rules).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..errors import FormatError
from ._calmodel import CALENDAR_VERSIONS, Model, Node, _canon
from ._calread import _Reader
from ._calwrite import _render, _Writer
from ._vtimezone import VcalZone
from .versit import Component, parse_items

__all__ = ["CALENDAR_VERSIONS", "Timing", "VcalZone", "convert_calendar", "normalized", "timings"]

_ICAL_HINTS = (b"BEGIN:VTIMEZONE", b"FREQ=", b"VALUE=DATE", b"BEGIN:VALARM", b"TZID=")


def _version(cal: Component) -> str:
    """VERSION, or a guess when it is missing (both versions require it)."""
    v = cal.version
    if v is None:
        data = cal.serialize().upper()
        v = "2.0" if any(h in data for h in _ICAL_HINTS) else "1.0"
    if v not in CALENDAR_VERSIONS:
        raise FormatError(f"vCalendar version {v} is not supported", cal.begin.lineno, "VERSION")
    return v


def _read(cal: Component, losses: list[str]) -> Model:
    if cal.name.upper() != "VCALENDAR":
        raise FormatError(f"not a calendar: BEGIN:{cal.name}", cal.begin.lineno, "BEGIN")
    return _Reader(_version(cal), losses).read(cal)


def convert_calendar(cal: Component, target: str, losses: list[str] | None = None) -> Component:
    """A converted copy of ``cal`` (``BEGIN:VCALENDAR``) in ``target``
    (``"1.0"`` or ``"2.0"``); ``cal`` is not changed.  What the target
    cannot carry is appended to ``losses`` as a sentence.

    >>> (cal,) = parse_items(b"BEGIN:VCALENDAR\\r\\nVERSION:1.0\\r\\nBEGIN:VEVENT\\r\\n"
    ...     b"DTSTART:20060406T163000Z\\r\\nRRULE:W1 MO TH #4\\r\\nEND:VEVENT\\r\\nEND:VCALENDAR\\r\\n")
    >>> print(convert_calendar(cal, "2.0").serialize().decode())  # doctest: +NORMALIZE_WHITESPACE
    BEGIN:VCALENDAR
    VERSION:2.0
    PRODID:-//syncml-codec//vCalendar 1.0 converter//EN
    BEGIN:VEVENT
    DTSTART:20060406T163000Z
    RRULE:FREQ=WEEKLY;BYDAY=MO,TH;COUNT=4
    END:VEVENT
    END:VCALENDAR
    """
    if cal.name.upper() != "VCALENDAR":
        raise FormatError(f"not a calendar: BEGIN:{cal.name}", cal.begin.lineno, "BEGIN")
    if target not in CALENDAR_VERSIONS:
        raise FormatError(f"vCalendar version {target} is not supported", 0, "VERSION")
    sink: list[str] = [] if losses is None else losses
    source = _version(cal)
    if source == target:
        (copy,) = parse_items(cal.leading + cal.serialize() + cal.trailing, lenient=True)
        return copy
    model = _read(cal, sink)
    lines = _Writer(target, model, sink).write()
    (out,) = parse_items(_render(lines, target), lenient=True)
    out.leading, out.trailing = cal.leading, cal.trailing
    return out


def normalized(cal: Component, *, zones: bool = True) -> tuple[Any, ...]:
    """The calendar as the converter understands it, in comparable form:
    properties (2.0 names) with their parameters and decoded values (times
    as UTC instants, floating or date text), order-independent, alarms as
    VALARM children; with ``zones``, the TZ/DAYLIGHT rules of zones given
    as transition lists.  Two calendars that say the same thing in either
    version compare equal."""
    model = _read(cal, [])

    def node(n: Node) -> tuple[Any, ...]:
        lists: dict[tuple[str, tuple[tuple[str, str], ...]], set[Any]] = {}
        props = []
        for p in n.props:
            params = tuple(sorted(p.params))
            if p.kind == "dtlist":  # EXDATE:a,b is EXDATE:a + EXDATE:b
                lists.setdefault((p.name, params), set()).update(_canon(p.value))
            else:
                props.append((p.name, params, repr(_canon(p.value))))
        props += [(k[0], k[1], repr(tuple(sorted(v)))) for k, v in lists.items()]
        props.sort()
        kids = sorted(node(c) for c in n.children)
        return (n.name, tuple(props), tuple(kids))

    zone_sig: tuple[Any, ...] = ()
    if zones:
        zone_sig = tuple(sorted(repr(z.signature()) for z in model.zones.values()
                                if isinstance(z, VcalZone)))
    return (node(model.cal), zone_sig)



@dataclass(frozen=True)
class Timing:
    """When one VEVENT, VTODO or VJOURNAL of a calendar happens, read as the converter reads it
    (either version): ``start`` (DTSTART) and ``end`` (DTEND, or DUE for a to-do; DURATION is
    already added; an all-day 1.0 end is made exclusive) are aware datetimes for UTC and zoned
    times, naive ones for floating times and dates for all-day; ``rules`` are the RRULEs as RFC
    5545 parts (``UNTIL`` a datetime or date), ``rdates``/``exdates`` the RDATE and EXDATE values.
    ``recurrence_id`` is set on an overridden occurrence."""

    kind: str
    start: datetime | date | None
    end: datetime | date | None
    rules: tuple[dict[str, Any], ...] = ()
    rdates: tuple[datetime | date, ...] = ()
    exdates: tuple[datetime | date, ...] = ()
    recurrence_id: datetime | date | None = None


def timings(cal: Component) -> list[Timing]:
    """The :class:`Timing` of every VEVENT, VTODO and VJOURNAL in ``cal`` (``BEGIN:VCALENDAR``,
    1.0 or 2.0), in order; values that do not read as times are left out (None).

    >>> (cal,) = parse_items(b"BEGIN:VCALENDAR\\r\\nVERSION:1.0\\r\\nBEGIN:VEVENT\\r\\n"
    ...     b"DTSTART:20060406T163000Z\\r\\nRRULE:W1 MO TH #4\\r\\nEND:VEVENT\\r\\nEND:VCALENDAR\\r\\n")
    >>> t, = timings(cal)
    >>> t.kind, t.start.isoformat(), t.rules
    ('VEVENT', '2006-04-06T16:30:00+00:00', ({'FREQ': 'WEEKLY', 'BYDAY': 'MO,TH', 'COUNT': '4'},))
    """
    model = _read(cal, [])
    out = []
    for node in model.cal.children:
        if node.name not in ("VEVENT", "VTODO", "VJOURNAL"):
            continue

        def one(name: str, node: Node = node) -> datetime | date | None:
            prop = node.get(name)
            ok = prop is not None and prop.kind == "dt" and isinstance(prop.value, (date, datetime))
            return prop.value if ok else None  # type: ignore[union-attr]

        def many(name: str, node: Node = node) -> tuple[datetime | date, ...]:
            return tuple(v for p in node.props if p.name == name and p.kind == "dtlist"
                         for v in p.value if isinstance(v, (date, datetime)))

        rules = tuple(dict(p.value) for p in node.props if p.name == "RRULE" and p.kind == "rule")
        out.append(Timing(node.name, one("DTSTART"), one("DUE" if node.name == "VTODO" else "DTEND"),
                          rules, many("RDATE"), many("EXDATE"), one("RECURRENCE-ID")))
    return out
