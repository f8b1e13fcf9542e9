"""Times of items, and the date-range record filter.

A calendar item is in a range ``[start, end)`` when one of its occurrences overlaps it: the
first one (DTSTART to DTEND/DUE, or an instant), one from its RRULEs or RDATEs (EXDATEs
removed), expanded with ``dateutil`` up to the end of the range and at most
:data:`MAX_OCCURRENCES` of them.  When that is not enough to decide (a rule ``dateutil`` does
not take, a secondly rule, the cap reached) the item is kept: a filter that cannot tell sends
the item rather than hiding it.  Floating times and all-day dates are read in ``floating``
(UTC unless given), the zone of the user.

Mail, files and folders have one instant (the mail's received date, else its ``Date`` header;
a file's modification time); items without a time (contacts, notes) are never outside a range.
"""

from __future__ import annotations

import email.policy
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from email.parser import BytesHeaderParser
from email.utils import parsedate_to_datetime
from itertools import islice
from typing import Any

from dateutil.rrule import rrulestr  # type: ignore[import-untyped]

from ..formats import RFC822Item, Timing, timings

__all__ = ["MAX_OCCURRENCES", "DateRange", "parse_time"]

UTC = timezone.utc
#: the most occurrences of one rule looked at before the item is kept undecided
MAX_OCCURRENCES = 20_000
_ISO = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})(?:T(\d{2}):?(\d{2})(?::?(\d{2}))?(Z)?)?$", re.ASCII)


def parse_time(text: str, floating: tzinfo = UTC) -> datetime | None:
    """An ISO 8601 date or date-time (basic or extended: ``20240131``, ``20240131T120000Z``,
    ``2024-01-31T12:00:00``) as an aware datetime (dates at midnight, floating times in
    ``floating``), or None when ``text`` is not one."""
    m = _ISO.match(text.strip())
    if m is None:
        return None
    y, mo, d, h, mi, s, z = m.groups()
    try:
        value = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))
    except ValueError:
        return None
    return value.replace(tzinfo=UTC if z else floating)


def aware(value: datetime | date, floating: tzinfo = UTC) -> datetime:
    """A time of the calendar model as an aware datetime (dates at midnight)."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time(), floating)
    return value if value.tzinfo is not None else value.replace(tzinfo=floating)


def _rule_text(rule: dict[str, Any]) -> str:
    return ";".join(f"{k}={v}" for k, v in rule.items() if k != "UNTIL")


def _local_bound(when: datetime, zone: tzinfo, side: int) -> datetime | None:
    """``when`` as a naive time in ``zone``, a day further out on ``side``; None at the ends of
    the calendar (no bound)."""
    try:
        return when.astimezone(zone).replace(tzinfo=None) + timedelta(days=side)
    except OverflowError:
        return None


def _occurs(t: Timing, lo: datetime, hi: datetime, floating: tzinfo) -> bool:
    """True when one occurrence of ``t`` overlaps ``[lo, hi)`` (or cannot be ruled out).

    Occurrences are found as naive times in DTSTART's zone (recurrences follow its wall clock)
    and compared with the range as naive times first, with a day's margin; only the few near the
    range are turned into instants (a zone's offset is costly: dateutil walks its rules)."""
    if t.start is None:
        return True
    local_start = t.start if isinstance(t.start, datetime) else datetime.combine(t.start, time())
    zone = local_start.tzinfo if local_start.tzinfo is not None else floating
    first = local_start.replace(tzinfo=None)
    all_day = not isinstance(t.start, datetime)
    length = timedelta(0)
    if t.end is not None:
        end = t.end if isinstance(t.end, datetime) else datetime.combine(t.end, time())
        end = end.replace(tzinfo=None) if end.tzinfo in (None, zone) else end.astimezone(zone).replace(tzinfo=None)
        length = max(length, end - first)
    if all_day and not length:
        length = timedelta(days=1)

    def local(value: datetime | date) -> datetime:
        if not isinstance(value, datetime):
            return datetime.combine(value, time())
        return value.replace(tzinfo=None) if value.tzinfo in (None, zone) else value.astimezone(zone).replace(
            tzinfo=None)

    near_lo = _local_bound(lo - length if lo.year > 1 else lo, zone, -1)
    near_hi = _local_bound(hi, zone, 1)
    excluded = {local(x) for x in t.exdates}

    def hit(occurrence: datetime) -> bool:
        if occurrence in excluded or (near_lo is not None and occurrence < near_lo) or (
                near_hi is not None and occurrence > near_hi):
            return False
        s = occurrence.replace(tzinfo=zone).astimezone(UTC)
        return s < hi and (s + length > lo if length else s >= lo)

    if hit(first) or any(hit(local(r)) for r in t.rdates):
        return True
    for rule in t.rules:
        if rule.get("FREQ") in ("SECONDLY", "MINUTELY"):
            return True  # too dense to expand: keep the item
        try:
            rr = rrulestr(_rule_text(rule), dtstart=first)
            until = rule.get("UNTIL")
            if until is not None:
                limit = local(until)
                if not isinstance(until, datetime):
                    limit += timedelta(days=1) - timedelta(seconds=1)
                rr = rr.replace(until=limit)
        except (ValueError, TypeError, OverflowError):
            return True
        seen = 0
        for seen, occurrence in enumerate(islice(rr, MAX_OCCURRENCES), 1):  # noqa: B007
            if near_hi is not None and occurrence > near_hi:
                break
            if hit(occurrence):
                return True
        else:
            if seen >= MAX_OCCURRENCES:
                return True
    return False


@dataclass(frozen=True)
class DateRange:
    """Items that happen in ``[start, end)`` (either side None: open).

        >>> from syncml_codec.formats import parse
        >>> weekly = parse(b"BEGIN:VCALENDAR\\r\\nVERSION:2.0\\r\\nBEGIN:VEVENT\\r\\n"
        ...     b"DTSTART:20240101T090000Z\\r\\nDTEND:20240101T100000Z\\r\\n"
        ...     b"RRULE:FREQ=WEEKLY;COUNT=10\\r\\nEND:VEVENT\\r\\nEND:VCALENDAR\\r\\n")
        >>> DateRange(parse_time("20240201"), parse_time("20240202")).matches(weekly)
        False
        >>> DateRange(parse_time("20240205"), parse_time("20240206")).matches(weekly)
        True
    """

    start: datetime | None = None
    end: datetime | None = None
    floating: tzinfo = UTC

    def matches(self, item: Any) -> bool:
        """True when ``item`` (a parsed item of :func:`syncml_codec.formats.parse`) happens in the
        range, or has no time at all."""
        lo = self.start or datetime.min.replace(tzinfo=UTC)
        hi = self.end or datetime.max.replace(tzinfo=UTC)
        if lo >= hi:
            return False
        found = item_timings(item)
        if found is None:
            instant = item_instant(item, self.floating)
            return instant is None or lo <= instant < hi
        if not found:
            return True
        try:
            return any(_occurs(t, lo, hi, self.floating) for t in found)
        except OverflowError:  # times at the edge of the calendar (year 9999): cannot tell, keep it
            return True


def item_timings(item: Any) -> list[Timing] | None:
    """The timings of a calendar item, None for any other item."""
    component = getattr(item, "component", None)
    if component is None or component.name.upper() != "VCALENDAR":
        return None
    return timings(component)


def item_instant(item: Any, floating: tzinfo = UTC) -> datetime | None:
    """The one time of a mail (received, else ``Date``), file or folder (modified, else
    created), or None."""
    obj = getattr(item, "obj", item)
    for name in ("received", "modified", "created"):
        value = getattr(obj, name, None)
        if isinstance(value, datetime):
            return aware(value, floating)
    raw = obj.raw if isinstance(obj, RFC822Item) else getattr(obj, "emailitem", None)
    if not isinstance(raw, bytes):
        return None
    header = BytesHeaderParser(policy=email.policy.default).parsebytes(raw)["Date"]
    try:
        when = parsedate_to_datetime(str(header)) if header else None
    except (TypeError, ValueError):
        return None
    return aware(when, floating) if when is not None else None
