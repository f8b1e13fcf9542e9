"""SIF-E / SIF-T <-> iCalendar 2.0 VEVENT / VTODO (vCalendar 1.0 through
:func:`.vcalendar.convert_calendar`), SIF-N <-> vNote 1.1 and text/plain.

Mapping (``shared/reference/formats.md`` sections 3.2-3.4), with the choices
where Funambol's own converter writes something RFC 5545 does not allow:

* Start/End: ``yyyy-MM-dd`` is a DATE (the SIF all-day End is inclusive, so
  DTEND is the day after); ``...T...Z`` stays a UTC DATE-TIME.  Task
  StartDate/DueDate likewise (DUE is not shifted); DateCompleted as a date is
  ``COMPLETED:<date>T000000Z`` (COMPLETED is a UTC DATE-TIME).
* AllDayEvent -> ``X-FUNAMBOL-ALLDAY``; BusyStatus -> ``X-MICROSOFT-CDO-
  BUSYSTATUS``; Importance 0/1/2 -> PRIORITY 9/5/1; Sensitivity -> CLASS
  (1 = ``X-PERSONAL``); Folder -> ``X-FUNAMBOL-FOLDER``; Companies ->
  ``X-FUNAMBOL-COMPANIES`` (Funambol writes ORGANIZER, which must be a
  cal-address).
* ReminderSet=1 -> VALARM: events ``TRIGGER:-PT<ReminderMinutesBeforeStart>M``
  (relative, so it follows DTSTART; Funambol writes the absolute time), tasks
  ``TRIGGER;VALUE=DATE-TIME:<ReminderTime>``; ReminderSoundFile -> ACTION:AUDIO
  with ATTACH, otherwise ACTION:DISPLAY.  No VALARM reads as ReminderSet=0.
* IsRecurring + RecurrenceType/Interval/DayOfWeekMask/DayOfMonth/MonthOfYear/
  Instance/Occurrences/NoEndDate/PatternEndDate <-> RRULE (COUNT wins over
  UNTIL as in Funambol); Exceptions ExcludeDate/IncludeDate <-> EXDATE/RDATE;
  Attendees <-> ATTENDEE (CN, PARTSTAT, ROLE, CUTYPE=RESOURCE).
* Task Status 0/1/2/3/4 -> NEEDS-ACTION/IN-PROCESS/COMPLETED/NEEDS-ACTION/
  CANCELLED (read back as Funambol does: ACCEPTED/SENT/TENTATIVE 0,
  IN-PROCESS/CONFIRMED 1, COMPLETED 2, NEEDS-ACTION/DELEGATED 3,
  DECLINED/CANCELLED 4); Complete=1 gives STATUS:COMPLETED.
* ``<Timezone>`` is carried as ``X-SIF-Timezone`` (SIF times are UTC; no
  VTIMEZONE is built).  Everything else travels as ``X-SIF-<Field>``.
* Notes: Body/Subject/Categories/Date <-> BODY/SUMMARY/CATEGORIES/
  LAST-MODIFIED, Folder -> ``X-FUNAMBOL-FOLDER``; text/plain is the Body.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from ..errors import FormatError, UnsupportedFormatError
from ._items import ICALENDAR_20 as ICAL
from ._items import TEXT_PLAIN as TEXT
from ._items import VCALENDAR_10 as VCAL
from ._items import VNOTE, TextItem, VersitItem
from ._sif_versit import Builder, apply_carried, fixup, quote_param, raw_safe, text_eol, write_extra
from ._table import Item
from .sif import SIFE, SIFN, SIFT, SIFField, SIFItem, SIFValue, with_losses
from .versit import Component, ContentLine

PRODID = "-//syncml-codec//SIF//EN"

_DATE_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})\Z")
_DATETIME = re.compile(r"\d{8}T\d{6}Z?\Z")
_DURATION = re.compile(r"([+-])?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?\Z")
DAYS = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")  # DayOfWeekMask bits 1, 2, 4 ... 64
BUSY = {"0": "FREE", "1": "TENTATIVE", "2": "BUSY", "3": "OOF"}
PRIORITY = {"0": "9", "1": "5", "2": "1"}
SENSITIVITY = {"0": "PUBLIC", "1": "X-PERSONAL", "2": "PRIVATE", "3": "CONFIDENTIAL"}
TASK_STATUS = {"0": "NEEDS-ACTION", "1": "IN-PROCESS", "2": "COMPLETED", "3": "NEEDS-ACTION", "4": "CANCELLED"}
TASK_STATUS_BACK = {"ACCEPTED": "0", "SENT": "0", "TENTATIVE": "0", "IN-PROCESS": "1", "CONFIRMED": "1",
                    "COMPLETED": "2", "NEEDS-ACTION": "3", "NEEDS ACTION": "3", "DELEGATED": "3",
                    "DECLINED": "4", "CANCELLED": "4"}
PARTSTAT = {"1": "ACCEPTED", "2": "DECLINED", "3": "TENTATIVE", "4": "NEEDS-ACTION"}
ROLE = {"1": "REQ-PARTICIPANT", "2": "OPT-PARTICIPANT"}
TEXT_PROPS = {"Subject": "SUMMARY", "Body": "DESCRIPTION", "Location": "LOCATION",
              "Folder": "X-FUNAMBOL-FOLDER", "Companies": "X-FUNAMBOL-COMPANIES"}
RAW_PROPS = {"Uid": "UID", "Dtstamp": "DTSTAMP", "Last-Modified": "LAST-MODIFIED", "Sequence": "SEQUENCE",
             "Url": "URL", "Transp": "TRANSP"}
RECURRENCE = ("RecurrenceType", "Interval", "DayOfWeekMask", "DayOfMonth", "MonthOfYear", "Instance",
              "PatternStartDate", "PatternEndDate", "NoEndDate", "Occurrences")


# -- values ---------------------------------------------------------------------
def _iso_to_basic(value: str) -> str | None:
    m = _DATE_ISO.match(value)
    return "".join(m.groups()) if m else None


def _basic_to_iso(value: str) -> str:
    return f"{value[:4]}-{value[4:6]}-{value[6:8]}"


def _shift(day: str, days: int) -> str:
    d = date(int(day[:4]), int(day[4:6]), int(day[6:8])) + timedelta(days=days)
    return d.strftime("%Y%m%d")


def _put_time(b: Builder, prop: str, value: str, *, inclusive_end: bool = False) -> bool:
    """DTSTART/DTEND/DUE/EXDATE... from a SIF date; False if not a date."""
    day = _iso_to_basic(value)
    if day is not None:
        try:
            b.raw(prop, _shift(day, 1) if inclusive_end else day, "VALUE=DATE")
        except ValueError:
            return False
        return True
    if _DATETIME.match(value):
        b.raw(prop, value)
        return True
    return False


def _get_time(line: ContentLine, *, inclusive_end: bool = False) -> str:
    value = line.value.strip()
    if re.fullmatch(r"\d{8}", value):
        return _basic_to_iso(_shift(value, -1) if inclusive_end else value)
    return value


def _minutes(duration: str) -> int | None:
    m = _DURATION.match(duration.strip())
    if not m or not any(m.groups()[1:]):
        return None
    sign, w, d, h, mi, s = m.groups()
    total = ((int(w or 0) * 7 + int(d or 0)) * 24 + int(h or 0)) * 60 + int(mi or 0) + int(s or 0) // 60
    return -total if sign == "-" else total


def _parse_utc(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ")
    except ValueError:
        return None


# -- recurrence -------------------------------------------------------------------
def _mask_days(mask: str) -> list[str]:
    bits = int(mask) if mask.isdigit() else 0
    return [d for i, d in enumerate(DAYS) if bits & (1 << i)]


def build_rrule(f: dict[str, str]) -> str | None:
    """The RRULE of a SIF recurrence block (None if it cannot be said)."""
    kind = f.get("RecurrenceType", "")
    instance = f.get("Instance", "")
    for name in ("DayOfMonth", "MonthOfYear", "Instance"):
        if not f.get(name, "0").isdigit():
            return None
    end = f.get("PatternEndDate", "")
    if end and not (_DATETIME.match(end) or _DATE_ISO.match(end)):
        return None
    ordinal = "-1" if instance == "5" else instance
    days = _mask_days(f.get("DayOfWeekMask", "0"))
    by: list[str] = []
    if kind == "0":
        freq = "DAILY"
    elif kind == "1":
        freq = "WEEKLY"
        if days:
            by.append("BYDAY=" + ",".join(days))
    elif kind in ("2", "3"):
        freq = "MONTHLY"
    elif kind in ("5", "6"):
        freq = "YEARLY"
        if f.get("MonthOfYear", "0") not in ("", "0"):
            by.append("BYMONTH=" + f["MonthOfYear"])
    else:
        return None
    if kind in ("2", "5"):
        if f.get("DayOfMonth", "0") not in ("", "0"):
            by.append("BYMONTHDAY=" + f["DayOfMonth"])
    elif kind in ("3", "6"):
        if not days or not ordinal.lstrip("-").isdigit():
            return None
        by.append("BYDAY=" + ",".join(ordinal + d for d in days))
    parts = ["FREQ=" + freq]
    if f.get("Interval", "").isdigit() and f["Interval"] != "0":
        parts.append("INTERVAL=" + f["Interval"])
    occurrences = f.get("Occurrences", "")
    if f.get("NoEndDate") == "1":
        pass
    elif occurrences.isdigit() and occurrences != "0":
        parts.append("COUNT=" + occurrences)
    elif f.get("PatternEndDate"):
        end = _iso_to_basic(f["PatternEndDate"]) or f["PatternEndDate"]
        parts.append("UNTIL=" + end)
    return ";".join(parts + by)


def read_rrule(rule: str, start: str, losses: list[str]) -> list[SIFField] | None:
    """The SIF recurrence fields of an RRULE value (None: not expressible)."""
    r = {}
    for part in rule.split(";"):
        if "=" in part:
            k, v = part.split("=", 1)
            r[k.upper()] = v.upper()
    freq = r.get("FREQ", "")
    byday = [d for d in r.get("BYDAY", "").split(",") if d]
    ordinals = {re.match(r"[+-]?\d*", d).group(0) for d in byday}  # type: ignore[union-attr]
    ordinal = next(iter(ordinals)) if len(ordinals) == 1 else ""
    if not ordinal and r.get("BYSETPOS", "").lstrip("-").isdigit():
        ordinal = r["BYSETPOS"]
    kinds = {"DAILY": "0", "WEEKLY": "1", "MONTHLY": "3" if ordinal else "2",
             "YEARLY": "6" if ordinal else "5"}
    unsupported = set(r) - {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTH", "BYMONTHDAY",
                            "BYSETPOS", "WKST"}
    if freq not in kinds or unsupported or len(ordinals) > 1:
        losses.append(f"RRULE:{rule} has no SIF recurrence pattern")
        return None
    mask = sum(1 << DAYS.index(d[-2:]) for d in byday if d[-2:] in DAYS)
    instance = "5" if ordinal == "-1" else ordinal.lstrip("+") or "0"
    out: list[SIFField] = [
        ("RecurrenceType", kinds[freq]), ("Interval", r.get("INTERVAL", "1")),
        ("DayOfWeekMask", str(mask)), ("DayOfMonth", r.get("BYMONTHDAY", "0")),
        ("MonthOfYear", r.get("BYMONTH", "0")), ("Instance", instance),
        ("PatternStartDate", (start.replace("-", "")[:8] + "T000000") if start else ""),
        ("NoEndDate", "0" if ("COUNT" in r or "UNTIL" in r) else "1"),
        ("Occurrences", r.get("COUNT", "0")),
    ]
    if "UNTIL" in r:
        out.append(("PatternEndDate", r["UNTIL"]))
    return out


# -- SIF-E / SIF-T -> iCalendar -------------------------------------------------
def _forward(fields: Sequence[SIFField], extra: list[SIFField], task: bool) -> Component:
    have: dict[str, SIFValue] = {}
    for name, value in fields:
        have.setdefault(name, value)
    text = {k: v for k, v in have.items() if isinstance(v, str)}
    used: set[str] = set()
    b = Builder()
    b.begin("VCALENDAR")
    b.entries.append(("VERSION", "", "fixed", "2.0"))
    b.entries.append(("PRODID", "", "fixed", PRODID))
    comp = "VTODO" if task else "VEVENT"
    b.begin(comp)
    for name, prop in TEXT_PROPS.items():
        if name in text:
            b.text(prop, text[name])
            used.add(name)
    for name, prop in RAW_PROPS.items():
        if text.get(name):
            b.raw(prop, text[name])
            used.add(name)
    if "Categories" in text:
        value = text["Categories"]
        b.parts("CATEGORIES", value.split(",") if value else [], sep=",")
        used.add("Categories")
    times = (("StartDate", "DTSTART", False), ("DueDate", "DUE", False)) if task else \
        (("Start", "DTSTART", False), ("End", "DTEND", True))
    for name, prop, inclusive in times:
        if name in text and _put_time(b, prop, text[name], inclusive_end=inclusive):
            used.add(name)
    simple: dict[str, tuple[str, dict[str, str] | None]] = {
              "AllDayEvent": ("X-FUNAMBOL-ALLDAY", None), "BusyStatus": ("X-MICROSOFT-CDO-BUSYSTATUS", BUSY),
              "Importance": ("PRIORITY", PRIORITY), "Sensitivity": ("CLASS", SENSITIVITY),
              "PercentComplete": ("PERCENT-COMPLETE", None)}
    for name, (prop, table) in simple.items():
        got = text.get(name)
        if got is None or (task and name in ("AllDayEvent", "BusyStatus")):
            continue
        if table is None and got.isdigit():
            b.raw(prop, got)
        elif table is not None and got in table:
            b.raw(prop, table[got])
        else:
            continue
        used.add(name)
    if task:
        completed = text.get("DateCompleted")
        if completed:
            day = _iso_to_basic(completed)
            if day or _DATETIME.match(completed):
                b.raw("COMPLETED", day + "T000000Z" if day else completed)
                used.add("DateCompleted")
        status = "COMPLETED" if text.get("Complete") == "1" else TASK_STATUS.get(text.get("Status", ""))
        if status:
            b.raw("STATUS", status)
            used.update(n for n in ("Status", "Complete") if n in text)
    if text.get("IsRecurring") in ("0", "1"):
        rule = build_rrule(text) if text["IsRecurring"] == "1" else None
        if rule is not None:
            b.raw("RRULE", rule)
            used.update(n for n in RECURRENCE if n in text)
        if rule is not None or text["IsRecurring"] == "0":
            used.add("IsRecurring")
    exceptions = have.get("Exceptions")
    if isinstance(exceptions, tuple) and exceptions:
        ok = True
        for name, value in exceptions:
            exprop = {"ExcludeDate": "EXDATE", "IncludeDate": "RDATE"}.get(name)
            if exprop is None or not isinstance(value, str) or not _put_time(b, exprop, value):
                ok = False
        if ok:
            used.add("Exceptions")
    attendees = have.get("Attendees")
    if isinstance(attendees, tuple) and attendees and all(_attendee_ok(a) for a in attendees):
        for _, att in attendees:
            a = dict(att) if isinstance(att, tuple) else {}
            params = []
            if a.get("AttendeeName"):
                params.append("CN=" + quote_param(str(a["AttendeeName"])))
            status = PARTSTAT.get(str(a.get("AttendeeStatus", "")))
            if status:
                params.append("PARTSTAT=" + status)
            kind = str(a.get("AttendeeType", ""))
            if kind in ROLE:
                params.append("ROLE=" + ROLE[kind])
            elif kind == "3":
                params.append("CUTYPE=RESOURCE")
            email = str(a.get("AttendeeEmail", ""))
            b.raw("ATTENDEE", "mailto:" + email if email else "", ";".join(params))
        used.add("Attendees")
    alarm = text.get("ReminderSet") == "1"
    if alarm:
        used.update(n for n in ("ReminderSet", "ReminderSoundFile", "ReminderTime" if task
                                else "ReminderMinutesBeforeStart") if n in text)
    elif text.get("ReminderSet") == "0":
        used.add("ReminderSet")
    if text.get("SIFVersion") == "1.1":
        used.add("SIFVersion")
    for name, value in fields:
        if name not in used and (name, value) not in extra:
            extra.append((name, value))
    write_extra(b, extra, fields)
    if alarm:
        minutes, when = text.get("ReminderMinutesBeforeStart", ""), text.get("ReminderTime", "")
        b.begin("VALARM")
        if not task and minutes.isdigit():
            b.raw("TRIGGER", f"-PT{minutes}M")
        elif when:
            b.raw("TRIGGER", when, "VALUE=DATE-TIME")
        else:
            b.raw("TRIGGER", "-PT0M")
        sound = text.get("ReminderSoundFile", "")
        if sound:
            b.raw("ACTION", "AUDIO")
            b.raw("ATTACH", sound)
        else:
            b.raw("ACTION", "DISPLAY")
            b.text("DESCRIPTION", text.get("Subject") or "Reminder")
        b.end("VALARM")
    b.end(comp)
    b.end("VCALENDAR")
    return b.build()


def _attendee_ok(field: SIFField) -> bool:
    name, value = field
    if name != "Attendee" or not isinstance(value, tuple):
        return False
    known = ("AttendeeName", "AttendeeEmail", "AttendeeStatus", "AttendeeType")
    return all(n in known and isinstance(v, str) and raw_safe(v) and '"' not in v for n, v in value)


def _main(cal: Component, want: str) -> Component:
    if cal.name.upper() != "VCALENDAR":
        raise FormatError(f"expected BEGIN:VCALENDAR, found BEGIN:{cal.name}", cal.begin.lineno, "BEGIN")
    found = [c for c in cal.components if c.name.upper() == want]
    if not found:
        raise FormatError(f"no {want} in the calendar", cal.begin.lineno, want)
    return found[0]


def _reverse(cal: Component, task: bool, losses: list[str]) -> list[SIFField]:
    comp = _main(cal, "VTODO" if task else "VEVENT")
    extra = [c for c in cal.components if c is not comp and c.name.upper() in ("VEVENT", "VTODO", "VJOURNAL")]
    if extra:
        losses.append(f"{len(extra)} more component(s) in the calendar (detached recurrences?) were dropped")
    out: list[SIFField] = [("SIFVersion", "1.1")]
    back_text = {v: k for k, v in TEXT_PROPS.items()}
    back_raw = {v: k for k, v in RAW_PROPS.items()}
    exceptions: list[SIFField] = []
    attendees: list[SIFField] = []
    start = ""
    rule: str | None = None
    status: str | None = None
    eol = text_eol(comp)
    for line in comp.lines:
        prop = line.name.upper()
        value = eol(line.value)
        shown = line.raw.decode("utf-8", "replace").strip()[:60]
        if prop in back_text:
            out.append((back_text[prop], value))
        elif prop == "CATEGORIES":
            out.append(("Categories", ",".join(line.components(","))))
        elif prop == "DTSTART":
            start = _get_time(line)
            out.append(("StartDate" if task else "Start", start))
        elif prop == "DTEND" and not task:
            out.append(("End", _get_time(line, inclusive_end=True)))
        elif prop == "DUE" and task:
            out.append(("DueDate", _get_time(line)))
        elif prop == "X-FUNAMBOL-ALLDAY" and not task:
            out.append(("AllDayEvent", value))
        elif prop == "X-MICROSOFT-CDO-BUSYSTATUS" and not task:
            back = {v: k for k, v in BUSY.items()}.get(value.upper())
            if back:
                out.append(("BusyStatus", back))
            else:
                losses.append(f"unknown busy status: {shown}")
        elif prop == "PRIORITY":
            p = int(value) if value.strip().isdigit() else 0
            if p:
                out.append(("Importance", "2" if p < 5 else "1" if p == 5 else "0"))
        elif prop == "CLASS":
            back = {v: k for k, v in SENSITIVITY.items()}.get(value.upper())
            if back:
                out.append(("Sensitivity", back))
            else:
                losses.append(f"unknown CLASS: {shown}")
        elif prop == "PERCENT-COMPLETE" and task:
            out.append(("PercentComplete", value))
        elif prop == "COMPLETED" and task:
            out.append(("DateCompleted", _basic_to_iso(value) if value.endswith("T000000Z") else value))
        elif prop == "STATUS" and task:
            status = value.upper()
        elif prop == "RRULE":
            if rule is not None:
                losses.append(f"a second RRULE was dropped: {shown}")
            else:
                rule = value
        elif prop in ("EXDATE", "RDATE"):
            for part in line.value.split(","):
                part = part.strip()
                exceptions.append(("ExcludeDate" if prop == "EXDATE" else "IncludeDate",
                                   _basic_to_iso(part) if re.fullmatch(r"\d{8}", part) else part))
        elif prop == "ATTENDEE":
            attendees.append(("Attendee", _attendee(line)))
        elif prop in back_raw:
            out.append((back_raw[prop], value))
        elif prop.startswith("X-SIF-"):
            continue
        elif prop.startswith("X-"):
            out.append((line.name, value))
        else:
            losses.append(f"{line.name} has no SIF field: {shown}")
    if task and status is not None:
        out.append(("Complete", "1" if status == "COMPLETED" else "0"))
        if status in TASK_STATUS_BACK:
            out.append(("Status", TASK_STATUS_BACK[status]))
        else:
            losses.append(f"task STATUS:{status} has no SIF Status")
    pattern = read_rrule(rule, start, losses) if rule is not None else None
    out.append(("IsRecurring", "1" if pattern else "0"))
    out += pattern or []
    if exceptions:
        out.append(("Exceptions", tuple(exceptions)))
    if attendees:
        out.append(("Attendees", tuple(attendees)))
    due = next((v for n, v in out if n == "DueDate" and isinstance(v, str)), "")
    out += _read_alarm(comp, task, start, due, losses)
    return apply_carried(out, comp)


def _attendee(line: ContentLine) -> tuple[SIFField, ...]:
    name = next(iter(line.param("CN")), "")
    email = re.sub(r"(?i)^mailto:", "", line.value)
    status = {v: k for k, v in PARTSTAT.items()}.get(next(iter(line.param("PARTSTAT")), "").upper(), "")
    role = next(iter(line.param("ROLE")), "").upper()
    kind = "3" if "RESOURCE" in [c.upper() for c in line.param("CUTYPE")] else \
        {v: k for k, v in ROLE.items()}.get(role, "")
    return (("AttendeeName", name), ("AttendeeEmail", email), ("AttendeeStatus", status),
            ("AttendeeType", kind))


def _as_datetime(value: str) -> tuple[datetime, str] | None:
    """A SIF date or date-time and its ``Z`` (or "")."""
    day = _iso_to_basic(value) or (value if re.fullmatch(r"\d{8}", value) else None)
    try:
        if day:
            return datetime.strptime(day, "%Y%m%d"), ""
        if _DATETIME.match(value):
            return datetime.strptime(value[:15], "%Y%m%dT%H%M%S"), value[15:]
    except ValueError:
        pass
    return None


def _read_alarm(comp: Component, task: bool, start: str, due: str, losses: list[str]) -> list[SIFField]:
    alarms = [c for c in comp.components if c.name.upper() == "VALARM"]
    if not alarms:
        return [("ReminderSet", "0")]
    if len(alarms) > 1:
        losses.append(f"{len(alarms) - 1} more alarm(s) were dropped: SIF has one reminder")
    alarm = alarms[0]
    out: list[SIFField] = [("ReminderSet", "1")]
    trigger = alarm.find("TRIGGER")
    if trigger is not None:
        value = trigger.value.strip()
        absolute = any(v.upper() == "DATE-TIME" for v in trigger.param("VALUE")) or _DATETIME.match(value)
        related_end = any(v.upper() == "END" for v in trigger.param("RELATED"))
        mins = None if absolute else _minutes(value)
        if task:
            base = _as_datetime(due if related_end else start)
            if absolute:
                out.append(("ReminderTime", value))
            elif mins is not None and base is not None:
                when = base[0] + timedelta(minutes=mins)
                out.append(("ReminderTime", when.strftime("%Y%m%dT%H%M%S") + base[1]))
            else:
                losses.append(f"relative task alarm TRIGGER:{value} has no SIF ReminderTime")
        elif absolute:
            begin, at = _parse_utc(start), _parse_utc(value)
            if begin and at:
                out.append(("ReminderMinutesBeforeStart", str(int((begin - at).total_seconds() // 60))))
            else:
                losses.append(f"alarm TRIGGER:{value} cannot be made relative to the start")
        elif mins is not None and mins <= 0 and not related_end:
            out.append(("ReminderMinutesBeforeStart", str(-mins)))
        else:
            losses.append(f"alarm TRIGGER:{value} has no SIF reminder")
    attach = alarm.find("ATTACH")
    action = alarm.find("ACTION")
    if attach is not None and action is not None and action.value.upper() == "AUDIO":
        out.append(("ReminderSoundFile", attach.value))
    return out


# -- notes ------------------------------------------------------------------------
NOTE_PROPS = {"Subject": "SUMMARY", "Body": "BODY", "Date": "LAST-MODIFIED", "Folder": "X-FUNAMBOL-FOLDER"}


def _note_forward(fields: Sequence[SIFField], extra: list[SIFField]) -> Component:
    b = Builder()
    b.begin("VNOTE")
    b.entries.append(("VERSION", "", "fixed", "1.1"))
    seen: set[str] = set()
    for name, value in fields:
        if name in seen:
            continue
        seen.add(name)
        if isinstance(value, str) and name in NOTE_PROPS:
            (b.raw if name == "Date" else b.text)(NOTE_PROPS[name], value)
        elif isinstance(value, str) and name == "Categories":
            b.parts("CATEGORIES", value.split(",") if value else [])
        elif (name, value) not in extra:
            extra.append((name, value))
    write_extra(b, extra, fields)
    b.end("VNOTE")
    return b.build()


def _note_reverse(note: Component, losses: list[str]) -> list[SIFField]:
    back = {v: k for k, v in NOTE_PROPS.items()}
    out: list[SIFField] = [("SIFVersion", "1.1")]
    for line in note.lines:
        prop = line.name.upper()
        if prop in back:
            out.append((back[prop], line.value.replace("\r\n", "\n").replace("\n", "\r\n")))
        elif prop == "CATEGORIES":
            out.append(("Categories", ",".join(line.components(";"))))
        elif prop == "DCREATED" and note.find("LAST-MODIFIED") is None:
            out.append(("Date", line.value))
        elif prop in ("VERSION",) or prop.startswith("X-SIF-"):
            continue
        elif prop.startswith("X-"):
            out.append((line.name, line.value))
        else:
            losses.append(f"{line.name} has no SIF-N field")
    return apply_carried(out, note)


# -- entry points ---------------------------------------------------------------------
def sif_to_calendar(item: SIFItem) -> Component:
    """A SIF-E or SIF-T item as an iCalendar 2.0 VCALENDAR component."""
    task = item.content_type == SIFT
    return fixup(item.fields, lambda f, e: _forward(f, list(e), task), lambda c: _reverse(c, task, []))


def sif_to_vnote(item: SIFItem) -> Component:
    return fixup(item.fields, lambda f, e: _note_forward(f, list(e)), lambda c: _note_reverse(c, []))


def sif_to_item(item: SIFItem, target: str) -> Item:
    source = item.content_type
    if source == SIFN and target == VNOTE:
        return with_losses(VersitItem(sif_to_vnote(item), VNOTE), ())
    if source == SIFN and target == TEXT:
        kept = {"SIFVersion", "Body"}
        dropped = [n for n, v in item.fields if n not in kept and v not in ("", ())]
        body = item.get("Body") or ""
        return with_losses(TextItem(body.encode("utf-8")),
                           [f"text/plain keeps only the Body: {', '.join(dropped)} dropped"] if dropped else [])
    if source in (SIFE, SIFT) and target in (ICAL, VCAL):
        cal = sif_to_calendar(item)
        if target == VCAL:
            from .vcalendar import convert_calendar  # written alongside; imported when needed
            losses: list[str] = []
            return with_losses(VersitItem(convert_calendar(cal, "1.0", losses), VCAL), losses)
        return with_losses(VersitItem(cal, ICAL), ())
    raise UnsupportedFormatError(f"conversion {source} -> {target} is not supported", target)


def calendar_to_sif(cal: Component, target: str) -> SIFItem:
    """An iCalendar 2.0 (or vCalendar 1.0) VCALENDAR as SIF-E or SIF-T."""
    losses: list[str] = []
    if cal.version == "1.0":
        from .vcalendar import convert_calendar
        cal = convert_calendar(cal, "2.0", losses)
    task = target == SIFT
    fields = _reverse(cal, task, losses)
    return SIFItem(target, fields, losses=losses)


def item_to_sif(item: object, target: str) -> SIFItem:
    source = getattr(item, "content_type", "?")
    if target == SIFN and isinstance(item, TextItem):
        return SIFItem(SIFN, [("SIFVersion", "1.1"), ("Subject", ""),
                              ("Body", item.data.decode("utf-8"))])
    if isinstance(item, VersitItem):
        if target == SIFN and source == VNOTE:
            losses: list[str] = []
            return SIFItem(SIFN, _note_reverse(item.component, losses), losses=losses)
        if target in (SIFE, SIFT) and source in (ICAL, VCAL):
            return calendar_to_sif(item.component, target)
    raise UnsupportedFormatError(f"conversion {source} -> {target} is not supported", target)

