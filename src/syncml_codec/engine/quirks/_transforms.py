"""The item transforms of the quirk behaviours: ``device -> store`` ("in")
and ``store -> device`` ("out"), each a pure function ``bytes -> bytes``
that changes only the lines it is about and returns its input unchanged
when there is nothing to do (so a transform never fails an item: input it
does not understand passes through)."""

from __future__ import annotations

import binascii
import datetime as dt
import quopri
import re
from collections.abc import Callable

from ._lines import Line, edit_lines, lines_of

__all__ = ["IN", "OUT", "Transform"]

Transform = Callable[[bytes], bytes]

_DAY = re.compile(rb"^(\d{8})(?:T(\d{6})Z?)?$")


def _date(text: bytes) -> dt.date | None:
    try:
        return dt.datetime.strptime(text.decode("ascii"), "%Y%m%d").date()
    except (UnicodeDecodeError, ValueError):
        return None


def _ymd(day: dt.date) -> bytes:
    return day.strftime("%Y%m%d").encode("ascii")


def _version(data: bytes) -> bytes:
    return next((line.value.strip() for line in lines_of(data) if line.name == "VERSION"), b"")


# -- all-day events as T000000 - T240000 (Sony Ericsson P800/P900/P910) ----
def allday_in(data: bytes) -> bytes:
    """``DTSTART:<d>T000000[Z]`` + ``DTEND:<e>T240000[Z]`` -> date values.
    vCalendar 1.0 keeps the end date inclusive (the converters' convention),
    iCalendar gets the exclusive next day."""
    start = end = None
    for line in lines_of(data):
        m = _DAY.match(line.value.strip())
        if line.name == "DTSTART" and m and m.group(2) == b"000000":
            start = m.group(1)
        elif line.name == "DTEND" and m and m.group(2) == b"240000":
            end = m.group(1)
    if start is None or end is None:
        return data
    last = _date(end)
    if last is None:
        return data
    if _version(data) != b"1.0":
        last += dt.timedelta(days=1)

    def edit(line: Line, stack: list[str]) -> bytes | None:
        if line.name == "DTSTART":
            return line.with_value(start, b"VALUE=DATE")
        if line.name == "DTEND":
            return line.with_value(_ymd(last), b"VALUE=DATE")
        return None

    return edit_lines(data, edit)


def allday_out(data: bytes) -> bytes:
    """An all-day event (date values, or vCalendar 1.0 ``T000000`` to
    ``T2359xx``) -> ``DTSTART:<d>T000000`` + ``DTEND:<last day>T240000``."""
    version = _version(data)
    start: dt.date | None = None
    end: dt.date | None = None
    has_end = date_only = False
    for line in lines_of(data):
        m = _DAY.match(line.value.strip())
        if line.name == "DTSTART":
            if m is None or m.group(2) not in (None, b"000000"):
                return data
            start = _date(m.group(1))
            date_only = m.group(2) is None
        elif line.name == "DTEND":
            has_end = True
            if m is None:
                return data
            day = _date(m.group(1))
            if day is None:
                return data
            if m.group(2) is None:  # a date: iCalendar's end is exclusive, vCalendar 1.0's inclusive
                end = day - dt.timedelta(days=1) if version != b"1.0" else day
            elif m.group(2) in (b"235900", b"235959", b"240000"):
                end = day
            elif m.group(2) == b"000000" and start is not None and day > start:
                end = day - dt.timedelta(days=1)
            else:
                return data
    if start is None or (not has_end and not date_only) or (has_end and end is None):
        return data
    last = max(end or start, start)

    def edit(line: Line, stack: list[str]) -> bytes | None:
        if line.name == "DTSTART":
            return line.with_value(_ymd(start) + b"T000000", b"")
        if line.name == "DTEND":
            return line.with_value(_ymd(last) + b"T240000", b"")
        if line.name == "END" and not has_end and stack and stack[-1] in ("VEVENT",):
            return b"DTEND:" + _ymd(last) + b"T240000\r\n" + line.head + b":" + line.value
        return None

    return edit_lines(data, edit)


# -- ISO-8859-1 payload when no CHARSET is given (Sony Ericsson) -----------
def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _qp(line: Line) -> bool:
    return line.has_param_value("QUOTED-PRINTABLE")


def latin1_in(data: bytes) -> bytes:
    """Lines without CHARSET: 8-bit text that is not UTF-8 is ISO-8859-1
    (transcoded to UTF-8); a quoted-printable value whose bytes are not
    UTF-8 gets ``CHARSET=ISO-8859-1`` (the parsers honour it)."""
    if data.isascii() and b"QUOTED-PRINTABLE" not in data.upper():
        return data

    def edit(line: Line, stack: list[str]) -> bytes | None:
        if "CHARSET" in line.param_names():
            return None
        if _qp(line):
            try:
                decoded = quopri.decodestring(line.value.rstrip(b"="))
            except (ValueError, binascii.Error):
                return None
            if _is_utf8(decoded):
                return None
            return line.head + b";CHARSET=ISO-8859-1:" + line.value
        raw = line.head + b":" + line.value
        if _is_utf8(raw):
            return None
        return raw.decode("latin-1").encode("utf-8")

    return edit_lines(data, edit)


def _charset(line: Line) -> str | None:
    for part in line.params.split(b";"):
        key, eq, value = part.partition(b"=")
        if eq and key.strip().upper() == b"CHARSET":
            return value.strip().strip(b'"').decode("ascii", "replace").upper()
    return None


def _with_charset(line: Line, charset: bytes) -> bytes:
    """``line``'s parameters with CHARSET set to ``charset``."""
    kept = [p for p in line.params.split(b";") if p and p.partition(b"=")[0].strip().upper() != b"CHARSET"]
    return b";".join([*kept, b"CHARSET=" + charset])


def _qp_encode(raw: bytes) -> bytes:
    return b"".join(bytes([b]) if 0x20 <= b < 0x7F and b != 0x3D else b"=%02X" % b for b in raw)


def latin1_out(data: bytes) -> bytes:
    """Text in UTF-8 (no CHARSET, or CHARSET=UTF-8) -> ISO-8859-1, in
    vCard 2.1 / vCalendar 1.0 items (the types these phones use): as
    quoted-printable with ``CHARSET=ISO-8859-1``, which is ASCII and so
    travels in XML as well as in WBXML.  A value with characters ISO-8859-1
    lacks stays UTF-8 and says so (``CHARSET=UTF-8``, quoted-printable):
    nothing is lost.
    vCard 3.0 / iCalendar items (no quoted-printable there) are left in
    UTF-8."""
    if (data.isascii() and b"CHARSET=UTF-8" not in data.upper()) or _version(data) not in (b"2.1", b"1.0"):
        return data

    def edit(line: Line, stack: list[str]) -> bytes | None:
        charset = _charset(line)
        if charset not in (None, "UTF-8"):
            return None
        qp = _qp(line)
        if qp and line.value.endswith(b"="):  # continued on the next lines: left as it is
            return None
        raw = quopri.decodestring(line.value) if qp else line.value
        if raw.isascii():
            return None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:  # not the store's UTF-8: left as it is
            return None
        try:
            raw, charset_out = text.encode("latin-1"), b"ISO-8859-1"
        except UnicodeEncodeError:
            if qp and charset:
                return None
            charset_out = b"UTF-8"
        params = _with_charset(line, charset_out)
        if not qp:
            params += b";ENCODING=QUOTED-PRINTABLE"
        return line.with_value(_qp_encode(raw), params)

    return edit_lines(data, edit)


# -- alarms only absolute and in UTC (Nokia, Sony Ericsson) ----------------
_DURATION = re.compile(rb"^([+-])?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")
_OFFSET = re.compile(rb"^([+-])(\d\d):?(\d\d)?$")
_ALARMS = ("AALARM", "DALARM", "PALARM", "MALARM")


def _duration(value: bytes) -> dt.timedelta | None:
    m = _DURATION.match(value.strip())
    if m is None or not any(m.groups()[1:]):
        return None
    weeks, days, hours, minutes, seconds = (int(g or 0) for g in m.groups()[1:])
    delta = dt.timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
    return -delta if m.group(1) == b"-" else delta


def _offset(value: bytes) -> dt.timedelta | None:
    m = _OFFSET.match(value.strip())
    if m is None:
        return None
    offset = dt.timedelta(hours=int(m.group(2)), minutes=int(m.group(3) or 0))
    return -offset if m.group(1) == b"-" else offset


def _parse_stamp(value: bytes) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(value.strip().decode("ascii", "replace").rstrip("Z"), "%Y%m%dT%H%M%S")
    except ValueError:
        return None


#: vCalendar 1.0 zone: the TZ offset and the DAYLIGHT periods (offset, start UTC, end UTC)
_Zone = tuple[dt.timedelta, list[tuple[dt.timedelta, dt.datetime, dt.datetime]]]


def _utc(value: bytes, tzid: str | None, zone: _Zone | None) -> dt.datetime | None:
    """A DATE-TIME value in UTC: ``...Z``, or local with a known zone (TZID
    or vCalendar 1.0 TZ/DAYLIGHT)."""
    text = value.strip().decode("ascii", "replace")
    local = _parse_stamp(value)
    if local is None:
        return None
    if text.endswith("Z"):
        return local
    if zone is not None:
        standard, daylight = zone
        for offset, start, end in daylight:
            if start <= local - offset < end:
                return local - offset
        return local - standard
    if tzid:
        try:
            from zoneinfo import ZoneInfo

            named = ZoneInfo(tzid)
        except (KeyError, ValueError, OSError, ImportError):
            return None
        return local.replace(tzinfo=named).astimezone(dt.timezone.utc).replace(tzinfo=None)
    return None


def _stamp(moment: dt.datetime) -> bytes:
    return moment.strftime("%Y%m%dT%H%M%SZ").encode("ascii")


def _tzid(line: Line) -> str | None:
    for part in line.params.split(b";"):
        key, _, value = part.partition(b"=")
        if key.strip().upper() == b"TZID":
            return value.strip().strip(b'"').decode("utf-8", "replace")
    return None


def alarms_utc_out(data: bytes) -> bytes:
    """Relative iCalendar TRIGGERs -> absolute UTC (from DTSTART, or DUE/DTEND
    with ``RELATED=END``); local vCalendar 1.0 alarm times -> UTC when the
    item's ``TZ`` says the offset; local absolute TRIGGERs with a zone -> UTC.
    Alarms whose time cannot be known are left as they are."""
    zone: _Zone | None = None
    daylight: list[tuple[dt.timedelta, dt.datetime, dt.datetime]] = []
    anchors: dict[str, tuple[bytes, str | None]] = {}
    for line in lines_of(data):
        if line.name == "TZ":
            standard = _offset(line.value)
            zone = (standard, daylight) if standard is not None else None
        elif line.name == "DAYLIGHT":
            fields = line.value.split(b";")
            if len(fields) >= 4 and fields[0].strip().upper() == b"TRUE":
                offset, start, end = _offset(fields[1]), _parse_stamp(fields[2]), _parse_stamp(fields[3])
                if offset is not None and start is not None and end is not None:
                    daylight.append((offset, start, end))
        elif line.name in ("DTSTART", "DTEND", "DUE") and line.name not in anchors:
            anchors[line.name] = (line.value, _tzid(line))

    def edit(line: Line, stack: list[str]) -> bytes | None:
        if line.name in _ALARMS:
            when, sep, rest = line.value.partition(b";")
            moment = _utc(when, None, zone)
            if moment is None or when.strip().endswith(b"Z"):
                return None
            return line.with_value(_stamp(moment) + sep + rest)
        if line.name != "TRIGGER" or "VALARM" not in stack:
            return None
        if line.has_param_value("DATE-TIME"):
            moment = _utc(line.value, _tzid(line), None)
            if moment is None or line.value.strip().endswith(b"Z"):
                return None
            return line.with_value(_stamp(moment), b"VALUE=DATE-TIME")
        delta = _duration(line.value)
        if delta is None:
            return None
        related = anchors.get("DUE") or anchors.get("DTEND") if line.has_param_value("END") else anchors.get("DTSTART")
        if related is None:
            return None
        base = _utc(related[0], related[1], zone)
        if base is None:
            return None
        return line.with_value(_stamp(base + delta), b"VALUE=DATE-TIME")

    return edit_lines(data, edit)


# -- "X-" prefixed CATEGORIES (Nokia E-series) -----------------------------
_X = re.compile(rb"(^|[;,])\s*X-", re.I)


def categories_in(data: bytes) -> bytes:
    """``CATEGORIES:X-Business,X-Travel`` -> ``CATEGORIES:Business,Travel``."""
    def edit(line: Line, stack: list[str]) -> bytes | None:
        if line.name != "CATEGORIES" or not _X.search(line.value):
            return None
        return line.with_value(_X.sub(rb"\1", line.value))

    return edit_lines(data, edit)


def categories_out(data: bytes) -> bytes:
    """Each CATEGORIES value gets the ``X-`` the device expects."""
    def edit(line: Line, stack: list[str]) -> bytes | None:
        if line.name != "CATEGORIES" or not line.value.strip():
            return None
        value = re.sub(rb"(^|[;,])\s*(?!X-)(?=[^;,\s])", rb"\1X-", line.value, flags=re.I)
        return None if value == line.value else line.with_value(value)

    return edit_lines(data, edit)


# -- EMAIL needs TYPE=INTERNET (Nokia) -------------------------------------
def email_internet_out(data: bytes) -> bytes:
    """vCard EMAIL lines without INTERNET get it (``;INTERNET`` in 2.1,
    ``;TYPE=INTERNET`` in 3.0)."""
    bare = _version(data) == b"2.1"

    def edit(line: Line, stack: list[str]) -> bytes | None:
        if line.name != "EMAIL" or "VCARD" not in stack or line.has_param_value("INTERNET"):
            return None
        head = line.head + (b";INTERNET" if bare else b";TYPE=INTERNET")
        return head + b":" + line.value

    return edit_lines(data, edit)


# -- Synthesis Windows Mobile: priority 1/2/3 ------------------------------
_TO_STORE = {b"1": b"1", b"2": b"5", b"3": b"9"}  # high, medium, low (RFC 5545 3.8.1.9)


def priority_in(data: bytes) -> bytes:
    """The device's 1 (high) / 2 (medium) / 3 (low) -> iCalendar 1 / 5 / 9."""
    def edit(line: Line, stack: list[str]) -> bytes | None:
        if line.name != "PRIORITY":
            return None
        new = _TO_STORE.get(line.value.strip())
        return None if new is None or new == line.value.strip() else line.with_value(new)

    return edit_lines(data, edit)


def priority_out(data: bytes) -> bytes:
    """iCalendar 1-4 (high) / 5 (medium) / 6-9 (low) -> 1 / 2 / 3 (0, undefined, stays)."""
    def edit(line: Line, stack: list[str]) -> bytes | None:
        if line.name != "PRIORITY" or not line.value.strip().isdigit():
            return None
        level = int(line.value.strip())
        if level == 0:
            return None
        new = b"1" if level <= 4 else b"2" if level == 5 else b"3"
        return None if new == line.value.strip() else line.with_value(new)

    return edit_lines(data, edit)


#: behaviour -> transform, by direction; the order of application is the order here
IN: dict[str, Transform] = {
    "latin1-payload": latin1_in,
    "all-day-as-midnight-span": allday_in,
    "categories-x-prefix": categories_in,
    "priority-1-2-3": priority_in,
}
OUT: dict[str, Transform] = {
    "all-day-as-midnight-span": allday_out,
    "alarms-absolute-utc": alarms_utc_out,
    "categories-x-prefix": categories_out,
    "email-type-internet": email_internet_out,
    "priority-1-2-3": priority_out,
    "latin1-payload": latin1_out,  # last: the others work on UTF-8 text
}
