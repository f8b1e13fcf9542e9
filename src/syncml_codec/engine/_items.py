"""Item data between the wire and the store: the canonical format a
datastore keeps, conversion to the type a client wants, and the content key
that slow syncs match items by.

Why a content key and not bytes: a client rewrites what it receives (the
Synthesis engine adds PRODID and REV, reorders parameters, appends empty
properties, adds a trailing newline to memos), so the same contact comes
back with other bytes after every round trip.  Two items are "the same" in a
slow sync when their key is equal: the properties that describe the
object, without the volatile ones (PRODID, REV, UID, DTSTAMP, LAST-MODIFIED,
CREATED, SEQUENCE, X-*), empty values dropped, vCards through
:func:`syncml_codec.formats.normalized` so vCard 2.1 and 3.0 compare equal.

Items by their content (issue 10): a device's ``<Meta><Type>`` is a hint.
The real type and version come from the bytes (:func:`real_type`, the
registry's detection), when the detected type is one the datastore can
hold: a P900 labels vCalendar 1.0 ``text/calendar``, some clients send SIF
or vCard 2.1 under any label, and base64 SIF without a ``<Format>``.  So a
mislabelled vCalendar 1.0 is converted to iCalendar 2.0 like a labelled
one, and content keys are taken on the same form (no duplicates).

Lossless storage (issue 10): contacts are kept as vCard 3.0 and events and
tasks as iCalendar 2.0 (the SIF and vCalendar converters carry what those
cannot say as ``X-`` properties and give it back); notes are kept in the
form they came in (SIF-N as its XML, vNote, text/plain): no note format
holds every other's fields with their bytes (SIF-N has Color/Height/Width/
Left/Top, vNote CLASS and X- properties, both Subject and Categories), and
each converts to the others on the way out.  A note changed by a client
whose format holds less (text/plain: the body only; vNote onto a SIF-N)
is merged into the stored one (:func:`merged_note`), so its Subject,
Categories and SIF fields are not lost.

Poison items (issue 9): one stored item must never fail another device's
sync.  The converters raise only :class:`FormatError` on bad input; as
defence in depth these helpers catch *any* exception from parsing or
converting an item, log one WARNING (item, types, reason; client text
escaped) and fall back: a client gets the item as stored, the store keeps
the data as it came, and a content key is taken from the raw bytes.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Callable
from typing import Any

from ..errors import FormatError, UnsupportedFormatError
from ..formats import (
    EMAIL_CONTENT_TYPE,
    RFC822_CONTENT_TYPE,
    Component,
    ContentLine,
    EmailObject,
    SIFItem,
    VCardItem,
    content_type_of,
    detect_content_type,
    normalized,
    parse,
)
from ..store.base import DeviceFormat
from ._encrypted import encryption_of
from ._util import log_text

__all__ = ["canonical_data", "content_key", "data_for_client",
           "encode_for_client", "format_sent", "merged_lost", "merged_note", "merged_structured", "modified_time",
           "real_type"]

log = logging.getLogger("syncml_codec.engine")


def _poison(step: str, what: str, source: str, target: str, exc: BaseException) -> None:
    log.warning("item %s: %s %s -> %s failed (%s: %s); %s",
                log_text(what or "?"), step, log_text(source or "?"), log_text(target or "?"),
                type(exc).__name__, log_text(exc),
                "sent as stored" if step == "conversion for the client" else "kept as it came")

VCARD21, VCARD30, VCAL, ICAL = "text/x-vcard", "text/vcard", "text/x-vcalendar", "text/calendar"
VNOTE, TEXT = "text/x-vnote", "text/plain"
SIFC, SIFE, SIFT, SIFN = "text/x-s4j-sifc", "text/x-s4j-sife", "text/x-s4j-sift", "text/x-s4j-sifn"

#: the type each datastore keeps (None: notes and journals are kept as they came, see the module doc)
_CANONICAL = {"Contacts": VCARD30, "Events": ICAL, "Tasks": ICAL}
#: the types whose detection from the bytes overrides a device's label, per datastore
_FAMILIES: dict[str, frozenset[str]] = {
    "Contacts": frozenset({VCARD21, VCARD30, SIFC}),
    "Events": frozenset({VCAL, ICAL, SIFE, SIFT}),
    "Tasks": frozenset({VCAL, ICAL, SIFE, SIFT}),
    "Notes": frozenset({VNOTE, SIFN}),
    "Journal": frozenset({ICAL, VNOTE, SIFN}),
}
_STRUCTURED = frozenset().union(*_FAMILIES.values())
#: the form content keys are taken on (a stored item of an earlier version may be in another)
_KEY_FORM = {VCAL: ICAL, SIFE: ICAL, SIFT: ICAL, SIFC: VCARD30}
_NOTES = (TEXT, VNOTE, SIFN)
_VOLATILE = {"PRODID", "REV", "UID", "DTSTAMP", "LAST-MODIFIED", "CREATED", "SEQUENCE", "VERSION"}
_VCARD30 = re.compile(rb"^VERSION:3\.0\r?$", re.M)
_VERSION = re.compile(rb"^VERSION[ \t]*:[ \t]*([0-9.]+)", re.I | re.M)
_SIF_VERSION = re.compile(rb"<SIFVersion>\s*([^<\s]+)\s*</SIFVersion>")

def real_type(data: bytes, declared: str | None, datastore: str | None = None) -> str:
    """The type ``data`` really is: the one detected from its bytes when it is
    a structured type ``datastore`` can hold (any datastore's when None),
    else ``declared`` (detected when there is none).

    >>> real_type(b"BEGIN:VCALENDAR\\r\\nVERSION:1.0\\r\\nEND:VCALENDAR\\r\\n", "text/calendar", "Events")
    'text/x-vcalendar'
    >>> real_type(b"Subject: not a mail header, a memo", "text/plain", "Notes")
    'text/plain'
    """
    label = content_type_of(declared) if declared else ""
    try:
        found = detect_content_type(bytes(data))
    except (FormatError, UnsupportedFormatError, ValueError):
        return label
    if found == label or not label:
        return found
    family = _FAMILIES.get(datastore or "", _STRUCTURED)
    return found if found in family else label


def _version_of(data: bytes, ctype: str) -> str:
    if ctype.startswith("text/x-s4j-"):
        from ..formats.sif import unwrap_base64_sif

        found = _SIF_VERSION.search(unwrap_base64_sif(data) or data)
    else:
        found = _VERSION.search(data)
    if found is not None:
        return found.group(1).decode("ascii", "replace")
    return {VCARD21: "2.1", VCAL: "1.0", ICAL: "2.0", VNOTE: "1.1"}.get(ctype, "")


def format_sent(datastore: str, data: bytes, declared: str | None, encoding: str | None) -> DeviceFormat:
    """The format of an item a device sent (``data`` after its transfer
    encoding ``encoding`` was taken off): real type, label, version, and
    ``b64`` (Meta Format b64), ``base64`` (SIF sent as base64 without a
    Format), ``des;b64`` / ``3des;b64`` (encrypted, :mod:`._encrypted`) or ``""``."""
    ctype = real_type(data, declared, datastore)
    enc = ""
    if encoding and encryption_of(encoding):
        enc = encryption_of(encoding)  # des;b64, 3des;b64: what is sent to it is encrypted the same way
    elif encoding and encoding.strip().lower() == "b64":
        enc = "b64"
    elif ctype.startswith("text/x-s4j-"):
        from ..formats.sif import unwrap_base64_sif

        enc = "base64" if unwrap_base64_sif(data) is not None else ""
    return DeviceFormat(ctype, content_type_of(declared) if declared else "", _version_of(data, ctype), enc)


def encode_for_client(data: bytes, ctype: str, encoding: str) -> tuple[bytes, str | None]:
    """``(data, Meta Format)`` in the transfer encoding the device uses."""
    if encoding == "b64":
        return base64.b64encode(data), "b64"
    if encoding == "base64" and ctype.startswith("text/x-s4j-"):
        return base64.b64encode(data), None
    return data, None


def canonical_data(datastore: str, data: bytes, content_type: str | None, *,
                   what: str = "") -> tuple[bytes, str]:
    """``(data, type)`` as the datastore keeps it: contacts as vCard 3.0,
    events and tasks as iCalendar 2.0, notes as they came (SIF as XML), by
    the type the data really is (:func:`real_type`); unknown or unparsable
    content is kept as is (the store never refuses what a client
    acknowledged).  Never raises: a conversion that fails is logged
    (``what`` names the item) and the data kept as it came."""
    ctype = real_type(data, content_type, datastore)
    target = _CANONICAL.get(datastore)
    if target == VCARD30 and ctype == target and _VCARD30.search(data):
        return data, target  # already canonical: no need to parse
    if target is None and ctype in (TEXT, VNOTE, ""):
        return data, ctype or "application/octet-stream"  # kept as it came: no need to parse
    try:
        item = parse(data, ctype or None)
    except (FormatError, UnsupportedFormatError):
        return data, ctype or "application/octet-stream"
    except Exception as exc:  # defence in depth: parsers raise FormatError only
        _poison("parsing for the store", what, ctype, ctype, exc)
        return data, ctype or "application/octet-stream"
    if target is not None and item.content_type != target:
        try:
            return item.convert(target).serialize(), target
        except UnsupportedFormatError:
            pass
        except Exception as exc:
            _poison("conversion for the store", what, item.content_type, target, exc)
    if isinstance(item, SIFItem) and item.base64:  # kept as XML; the device's encoding is applied on the way out
        from ..formats.sif import unwrap_base64_sif

        return unwrap_base64_sif(data) or data, item.content_type
    return data, item.content_type


def data_for_client(data: bytes, stored_type: str, wanted: str | None, *,
                    what: str = "") -> tuple[bytes, str]:
    """The stored item in the type the client negotiated (as stored when
    there is no conversion).  Never raises: a conversion that fails is
    logged at WARNING (``what`` names the item) and the item sent as
    stored."""
    stored = real_type(data, stored_type) or stored_type
    if not wanted or content_type_of(wanted) == stored:
        return data, stored
    target = content_type_of(wanted)
    try:
        return parse(data, stored).convert(target).serialize(), target
    except UnsupportedFormatError:
        return data, stored
    except Exception as exc:
        _poison("conversion for the client", what, stored, target, exc)
        return data, stored


def merged_note(current: bytes, current_type: str, data: bytes, ctype: str) -> tuple[bytes, str] | None:
    """A note a client changed (``data``) merged into the stored one, when the
    client's format holds less than the stored one: text/plain changes only
    the body of a vNote or SIF-N; a vNote onto a SIF-N keeps the SIF fields
    the vNote does not carry.  None: store ``data`` as it is."""
    stored = real_type(current, current_type, "Notes")
    new = real_type(data, ctype, "Notes")
    if stored in (ICAL, VCAL) and new in (TEXT, VNOTE, SIFN):
        return _merged_journal(current, stored, data, new)
    if stored == new or stored not in (VNOTE, SIFN) or new not in (TEXT, VNOTE):
        return None
    try:
        item = parse(current, stored)
        if new == TEXT:
            text = data.decode("utf-8")
            if isinstance(item, SIFItem):
                text = text.replace("\r\n", "\n").replace("\n", "\r\n")
                if (item.get("Body") or "").replace("\r\n", "\n").strip() == text.replace("\r\n", "\n").strip():
                    return current, stored  # the same text (a client may add a line end): nothing changed
                item.set("Body", text)
                return item.to_xml(), stored
            component = getattr(item, "component", None)
            if not isinstance(component, Component):
                return None
            body = component.find("BODY")
            if body is not None and body.value.replace("\r\n", "\n").strip() == text.replace("\r\n", "\n").strip():
                return current, stored
            if body is None:
                return None
            body.set_text(text)
            return item.serialize(), stored
        assert isinstance(item, SIFItem)  # a vNote onto a SIF-N
        theirs = parse(data, VNOTE).convert(SIFN)
        assert isinstance(theirs, SIFItem)
        names = {name for name, _ in theirs.fields}
        for name, value in item.fields:
            if name not in names:
                theirs.fields.append((name, value))
        return theirs.to_xml(), SIFN
    except Exception:  # anything unexpected: the client's version as it came
        return None


#: the VJOURNAL properties a note carries (``formats._journal``)
_NOTE_FIELDS = ("SUMMARY", "DESCRIPTION", "CLASS", "CREATED", "LAST-MODIFIED")


def _merged_journal(current: bytes, stored: str, data: bytes, new: str) -> tuple[bytes, str] | None:
    """A journal entry (a calendar's VJOURNAL) a notes client changed: the
    fields its note carries (text/plain: the DESCRIPTION only) set from its
    note, the fields it leaves out and the rest of the entry (DTSTART, UID,
    CATEGORIES...) kept.  None:
    store the client's data (converted by the caller as it came)."""
    try:
        item = parse(current, stored)
        component = getattr(item, "component", None)
        theirs = getattr(parse(data, new).convert(stored), "component", None)
        if not isinstance(component, Component) or not isinstance(theirs, Component):
            return None
        ours = next((c for c in component.components if c.name.upper() == "VJOURNAL"), None)
        changed = next((c for c in theirs.components if c.name.upper() == "VJOURNAL"), None)
        if ours is None or changed is None:
            return None
        for name in ("DESCRIPTION",) if new == TEXT else _NOTE_FIELDS:
            line, given = ours.find(name), changed.find(name)
            if given is None:  # (not in the note: kept; a phone may not keep a subject or a class)
                continue
            if line is None:
                ours.children.insert(len(ours.children), given)
            elif line.value != given.value:
                line.set_text(given.value)
        return item.serialize(), stored
    except Exception:  # anything unexpected: the client's version as it came
        return None


def _lines(comp: Component, path: str) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    for child in comp.children:
        if isinstance(child, Component):
            out += _lines(child, f"{path}/{child.name.upper()}")
        elif isinstance(child, ContentLine):
            name = child.name.upper()
            if name in _VOLATILE or name.startswith("X-"):
                continue
            try:
                value = child.value
            except (FormatError, UnicodeDecodeError, ValueError):
                value = repr(child.raw)
            value = value.replace("\r\n", "\n").strip()
            if value.strip(";, "):
                out.append((path, name, value))
    return out


def content_key(data: bytes, content_type: str, *, what: str = "") -> object:
    """What a slow sync compares (equal keys: the same object).  Never
    raises: an item that cannot be read is keyed by its bytes."""
    try:
        return _content_key(data, content_type)
    except Exception as exc:  # defence in depth, as in data_for_client
        log.warning("item %s: content key of %s failed (%s: %s); keyed by its bytes",
                    log_text(what or "?"), log_text(content_type or "?"), type(exc).__name__, log_text(exc))
        return ("raw", bytes(data).strip())


def _line_key(line: ContentLine) -> tuple[str, str]:
    try:
        return line.name.upper(), line.value.strip()
    except (FormatError, UnicodeDecodeError, ValueError):
        return line.name.upper(), repr(line.raw)


def _card_keys(component: Component) -> set[tuple[str, str]]:
    """The (name, decoded value) of a component's own lines."""
    return {_line_key(line) for line in component.lines}


def _main(component: Component) -> Component | None:
    """The component a SIF item maps: the vCard itself, or a calendar's first VEVENT/VTODO."""
    if component.name.upper() == "VCARD":
        return component
    return next((c for c in component.components if c.name.upper() in ("VEVENT", "VTODO")), None)


def _recurrence_id(component: Component) -> str | None:
    line = component.find("RECURRENCE-ID")
    return None if line is None else _line_key(line)[1]


def _tzid(component: Component) -> str | None:
    """The TZID of a VTIMEZONE (None for anything else)."""
    line = component.find("TZID") if component.name.upper() == "VTIMEZONE" else None
    return None if line is None else _line_key(line)[1]


def merged_structured(current: bytes, data: bytes, canonical_type: str, client_type: str) -> bytes | None:
    """An item a SIF client changed (``data``, already in the datastore's
    ``canonical_type``: vCard 3.0 or iCalendar 2.0) with what the stored one
    (``current``) holds that SIF cannot: the properties a conversion to
    ``client_type`` and back does not give back (GEO, IMPP, a fourth EMAIL,
    ATTACH, COMMENT, RESOURCES...) and, for calendars, the detached
    recurrences (RECURRENCE-ID components, with their VTIMEZONEs).  So a SIF
    client's edit does not drop what a vCard/iCalendar client sent; what the
    SIF client could see and cleared stays cleared.  None: store ``data`` as
    it is."""
    return merged_lost(current, data, canonical_type, lambda stored: parse(
        stored.convert(client_type).serialize(), client_type).convert(canonical_type))


def merged_lost(current: bytes, data: bytes, canonical_type: str, seen: Callable[[Any], Any]) -> bytes | None:
    """``data`` (a client's change of ``current``, both in ``canonical_type``) with
    what the client never saw of ``current``: ``seen`` gives, from the parsed stored
    item, the item as the client got it (a SIF round trip, a field filter's
    reduction); the lines of ``current`` not in it (and not in ``data``) and the
    detached recurrences are kept.  None: store ``data`` as it is."""
    try:
        stored, new = parse(current, canonical_type), parse(data, canonical_type)
        trip = seen(stored)
        comps = [getattr(x, "component", None) for x in (stored, trip, new)]
        if not all(isinstance(c, Component) for c in comps):
            return None
        s_top, t_top, n_top = comps
        assert isinstance(s_top, Component) and isinstance(t_top, Component) and isinstance(n_top, Component)
        s_main, t_main, n_main = _main(s_top), _main(t_top), _main(n_top)
        if s_main is None or t_main is None or n_main is None:
            return None
        kept, have = _card_keys(t_main), _card_keys(n_main)
        lost = [line for line in s_main.lines
                if not (line.name.upper() in _VOLATILE - {"UID"} or line.name.upper().startswith("X-SIF-"))
                and _line_key(line) not in kept and _line_key(line) not in have]
        nested = next((i for i, c in enumerate(n_main.children) if isinstance(c, Component)), len(n_main.children))
        n_main.children[nested:nested] = lost
        changed = bool(lost)
        if s_top is not s_main:  # a calendar: detached recurrences SIF cannot carry
            ids = {_recurrence_id(c) for c in n_top.components}
            detached = [c for c in s_top.components if c is not s_main and c.name.upper() in ("VEVENT", "VTODO")
                        and _recurrence_id(c) is not None and _recurrence_id(c) not in ids]
            if detached:
                zones = {_tzid(z) for z in n_top.components}
                missing = [z for z in s_top.components if _tzid(z) is not None and _tzid(z) not in zones]
                first = next((i for i, c in enumerate(n_top.children) if isinstance(c, Component)),
                             len(n_top.children))
                n_top.children[first:first] = missing
                n_top.children.extend(detached)
                changed = True
        return new.serialize() if changed else None
    except Exception:  # anything unexpected: the client's version as it came
        return None


def _note_text(data: bytes, ctype: str) -> str:
    """The body of a note in any of the note formats (what a text/plain
    client holds of it)."""
    if ctype == TEXT:
        return data.decode("utf-8", "replace")
    item = parse(data, ctype)
    if isinstance(item, SIFItem):
        return item.get("Body") or ""
    component = getattr(item, "component", None)
    body = component.find("BODY") if isinstance(component, Component) else None
    return "" if body is None else body.value


def _content_key(data: bytes, content_type: str) -> object:
    ctype = real_type(data, content_type)
    if ctype in (EMAIL_CONTENT_TYPE, RFC822_CONTENT_TYPE):
        # a mail is its message, line ends aside (an OMA DS email object's flags change, not its identity;
        # a message/rfc822 client holds the same message without them)
        try:
            message = EmailObject.parse(data).emailitem if ctype == EMAIL_CONTENT_TYPE else data
        except FormatError:
            return ("raw", data.strip())
        if message is not None:
            return ("mail", message.replace(b"\r\n", b"\n").strip())
    if ctype in _NOTES or (not ctype and content_type_of(content_type).startswith("text/plain")):
        # notes are matched by their text: a text/plain client holds only that of a SIF-N or vNote
        try:
            text = _note_text(data, ctype or TEXT)
        except (FormatError, UnsupportedFormatError):
            return ("raw", data.strip())
        return ("note", text.replace("\r\n", "\n").strip())
    try:
        item = parse(data, ctype or None)
        if ctype in _KEY_FORM:
            item = item.convert(_KEY_FORM[ctype])
    except (FormatError, UnsupportedFormatError):
        return ("raw", data.strip())
    if isinstance(item, VCardItem):
        props = []
        for group, name, params, value in normalized(item.component):
            if name in _VOLATILE or name.startswith("X-"):
                continue
            shown = repr(value)
            if isinstance(value, str):
                if not value.strip(";, "):
                    continue
                shown = value.strip()
            elif isinstance(value, (list, tuple)):
                if not any(str(v).strip() for v in value):
                    continue
                shown = repr([str(v).strip() for v in value])
            props.append((group, name, params, shown))
        return ("vcard", tuple(sorted(props)))
    component = getattr(item, "component", None)
    if isinstance(component, Component):
        return ("versit", component.name.upper(), tuple(sorted(_lines(component, component.name.upper()))))
    return ("raw", item.serialize().strip())


def modified_time(data: bytes) -> str | None:
    """The item's own modification stamp (REV, LAST-MODIFIED or DTSTAMP as
    ``YYYYMMDDTHHMMSS``), for the newer-wins policy; None if it has none."""
    for line in data.replace(b"\r\n", b"\n").split(b"\n"):
        head, sep, value = line.partition(b":")
        name = head.split(b";", 1)[0].strip().upper()
        if sep and name in (b"REV", b"LAST-MODIFIED", b"DTSTAMP"):
            text = value.strip().decode("ascii", "replace").replace("-", "").replace(":", "")
            return text.rstrip("Z")[:15] or None
    return None
