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

Poison items (issue 9): one stored item must never fail another device's
sync.  The converters raise only :class:`FormatError` on bad input; as
defence in depth these helpers catch *any* exception from parsing or
converting an item, log one WARNING (item, types, reason; client text
escaped) and fall back: a client gets the item as stored, the store keeps
the data as it came, and a content key is taken from the raw bytes.
"""

from __future__ import annotations

import logging
import re

from ..errors import FormatError, UnsupportedFormatError
from ..formats import Component, ContentLine, VCardItem, content_type_of, normalized, parse

__all__ = ["canonical_data", "content_key", "data_for_client", "modified_time"]

log = logging.getLogger("syncml_codec.engine")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _shown(text: object, limit: int = 200) -> str:
    """``text`` fit for one log line: control characters (CR, LF...) as
    ``\\xNN`` escapes, at most ``limit`` characters."""
    value = str(text)
    if len(value) > limit:
        value = value[:limit] + "..."
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", value.replace("\\", "\\\\"))


def _poison(step: str, what: str, source: str, target: str, exc: BaseException) -> None:
    log.warning("item %s: %s %s -> %s failed (%s: %s); %s",
                _shown(what or "?"), step, _shown(source or "?"), _shown(target or "?"),
                type(exc).__name__, _shown(exc),
                "sent as stored" if step == "conversion for the client" else "kept as it came")

#: the type each datastore keeps when the client's type converts to it (when the registry has no
#: conversion yet, e.g. vCalendar 1.0 -> iCalendar 2.0, the item is kept as it came)
_CANONICAL = {"Contacts": "text/vcard", "Events": "text/calendar", "Tasks": "text/calendar", "Notes": "text/plain"}
_VOLATILE = {"PRODID", "REV", "UID", "DTSTAMP", "LAST-MODIFIED", "CREATED", "SEQUENCE", "VERSION"}
_TEXT_TYPES = ("text/plain",)
_VCARD30 = re.compile(rb"^VERSION:3\.0\r?$", re.M)


def canonical_data(datastore: str, data: bytes, content_type: str | None, *,
                   what: str = "") -> tuple[bytes, str]:
    """``(data, type)`` as the datastore keeps it: vCards as 3.0, anything
    else as it came (unknown or unparsable content is kept as is: the store
    never refuses what a client acknowledged).  Never raises: a conversion
    that fails is logged (``what`` names the item) and the data kept as it
    came."""
    ctype = content_type_of(content_type) if content_type else ""
    target = _CANONICAL.get(datastore)
    if target == "text/vcard" and ctype == target and _VCARD30.search(data):
        return data, target  # already canonical: no need to parse
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
    return data, item.content_type


def data_for_client(data: bytes, stored_type: str, wanted: str | None, *,
                    what: str = "") -> tuple[bytes, str]:
    """The stored item in the type the client negotiated (as stored when
    there is no conversion).  Never raises: a conversion that fails is
    logged at WARNING (``what`` names the item) and the item sent as
    stored."""
    if not wanted or content_type_of(wanted) == content_type_of(stored_type):
        return data, stored_type
    target = content_type_of(wanted)
    try:
        return parse(data, stored_type).convert(target).serialize(), target
    except UnsupportedFormatError:
        return data, stored_type
    except Exception as exc:
        _poison("conversion for the client", what, stored_type, target, exc)
        return data, stored_type


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
                    _shown(what or "?"), _shown(content_type or "?"), type(exc).__name__, _shown(exc))
        return ("raw", bytes(data).strip())


def _content_key(data: bytes, content_type: str) -> object:
    ctype = content_type_of(content_type)
    if ctype in _TEXT_TYPES or ctype.startswith("text/plain"):
        return ("text", data.replace(b"\r\n", b"\n").strip())
    try:
        item = parse(data, ctype or None)
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
