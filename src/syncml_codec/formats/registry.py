"""Content types -> item parsers, and the :class:`Item` every format gives.

``parse(data, content_type)`` is what the engine calls with a SyncML item's
``<Data>`` and its ``<Meta><Type>``; ``item.serialize()`` gives the bytes
back (byte for byte when nothing was changed) and ``item.convert(type)`` an
item in another format.  Other modules add their formats with
:func:`register` (``register("text/x-s4j-sifc", parse_sifc)``) and their
conversions with :func:`register_conversion` (``register_conversion(
"text/x-s4j-sifc", "text/vcard", sif_to_vcard)``); the built-in ones are
registered below, from the table :data:`CONVERSIONS`.  The tables live in
:mod:`._table` and the item classes in :mod:`._items`, which import no
format module above them: this module is the only one that sees them all.

Content types are compared in lower case without parameters
(``text/vcard; charset=utf-8`` is ``text/vcard``), see
``shared/reference/formats.md`` section 0.

    >>> item = parse(b"BEGIN:VCARD\\r\\nVERSION:2.1\\r\\nTEL;CELL:1\\r\\nEND:VCARD\\r\\n")
    >>> item.content_type
    'text/x-vcard'
    >>> item.convert("text/vcard").serialize()
    b'BEGIN:VCARD\\r\\nVERSION:3.0\\r\\nTEL;TYPE=CELL:1\\r\\nEND:VCARD\\r\\n'
"""

from __future__ import annotations

import codecs
import re
from functools import partial

from ..errors import UnsupportedFormatError
from . import _sif_calendar, _sif_contact
from ._guard import guarded
from ._items import (
    ICALENDAR_20,
    TEXT_PLAIN,
    VCALENDAR_10,
    VCARD_21,
    VCARD_30,
    VNOTE,
    ObjectItem,
    TextItem,
    VCardItem,
    VersitItem,
    calendar_version,
    email_to_rfc822,
    rfc822_to_email,
    text_to_vnote,
    vcard_version,
    vnote_to_text_item,
)
from ._journal import JOURNAL_CONVERSIONS
from ._table import (
    Conversion,
    Item,
    Parser,
    content_type_of,
    conversion_for,
    parser_for,
    register,
    register_conversion,
    registered_types,
)
from .email import EMAIL_CONTENT_TYPE, RFC822_CONTENT_TYPE
from .sif import SIF_TYPES, SIFC, SIFE, SIFN, SIFT, parse_sif, unwrap_base64_sif

__all__ = [
    "CONVERSIONS",
    "VCARD_21",
    "VCARD_30",
    "Item",
    "Parser",
    "UnsupportedFormatError",
    "VCardItem",
    "VersitItem",
    "content_type_of",
    "conversion_for",
    "detect_content_type",
    "parse",
    "register",
    "register_conversion",
    "registered_types",
]

_BEGIN = re.compile(rb"^BEGIN[ \t]*:[ \t]*([A-Za-z0-9-]+)", re.I | re.M)
_VERSION = re.compile(rb"^VERSION[ \t]*:[ \t]*([0-9.]+)", re.I | re.M)


_XML_ROOT = re.compile(rb"\A(?:<\?xml[^>]*\?>|<!--.*?-->|\s)*<([A-Za-z_][\w.-]*)", re.S)
_XML_ROOTS = {
    b"contact": "text/x-s4j-sifc", b"appointment": "text/x-s4j-sife", b"task": "text/x-s4j-sift",
    b"note": "text/x-s4j-sifn", b"Email": "application/vnd.omads-email+xml",
    b"Folder": "application/vnd.omads-folder+xml", b"File": "application/vnd.omads-file+xml",
}
_FIRST_HEADER = re.compile(rb"\A(?:From |[A-Za-z][A-Za-z0-9-]*:[^\r\n]*\r?\n)")
_MAIL_HEADER = re.compile(rb"^(?:from|to|date|subject|received|return-path|message-id|mime-version):",
                          re.I | re.M)
_CALENDAR_PARTS = ("VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VTIMEZONE", "VALARM")


def _looks_like_mail(head: bytes) -> bool:
    """Headers up to the first blank line, one of them a mail header."""
    if not _FIRST_HEADER.match(head):
        return False
    headers = re.split(rb"\r?\n\r?\n", head[:8192], maxsplit=1)[0]
    return _MAIL_HEADER.search(headers) is not None


def _detect_xml(head: bytes) -> str | None:
    root = _XML_ROOT.match(head)
    if root is None:
        return None
    return _XML_ROOTS.get(root.group(1)) or _XML_ROOTS.get(root.group(1).lower())


def detect_content_type(data: bytes) -> str:
    """The content type from the data: ``BEGIN:VCARD`` with VERSION 2.1 (or
    none) -> text/x-vcard, 3.0/4.0 -> text/vcard; ``BEGIN:VCALENDAR`` 1.0 ->
    text/x-vcalendar, 2.0 -> text/calendar; ``BEGIN:VNOTE`` -> text/x-vnote;
    an XML root ``<contact>``/``<appointment>``/``<task>``/``<note>`` -> SIF
    (also base64-wrapped), ``<Email>``/``<Folder>``/``<File>`` -> the OMA DS
    objects; mail headers -> message/rfc822.  Anything else raises
    :class:`UnsupportedFormatError`."""
    head = data[3:] if data.startswith(codecs.BOM_UTF8) else data
    begin = _BEGIN.match(head.lstrip())
    if begin is None:
        found = _detect_xml(head) or _detect_xml(unwrap_base64_sif(head) or b"")
        if found:
            return found
        if _looks_like_mail(head):
            return "message/rfc822"
        raise UnsupportedFormatError("cannot tell the content type: no BEGIN line, SIF or OMA DS root, "
                                     "or mail header at the start")
    kind = begin.group(1).upper().decode("ascii")
    version_match = _VERSION.search(head)
    version = version_match.group(1).decode("ascii") if version_match else None
    if kind == "VCARD":
        if version in (None, "2.1"):
            return VCARD_21
        if version in ("3.0", "4.0"):
            return VCARD_30
    elif kind == "VCALENDAR":
        if version == "1.0":
            return VCALENDAR_10
        if version in ("2.0", None):  # VERSION is required; without it, today's format
            return ICALENDAR_20
    elif kind in _CALENDAR_PARTS:  # a bare component: iCalendar's (parsing then asks for VCALENDAR)
        return ICALENDAR_20
    elif kind == "VNOTE":
        return VNOTE
    raise UnsupportedFormatError(f"cannot tell the content type of BEGIN:{kind} VERSION {version}")


def parse(data: bytes, content_type: str | None = None, *, lenient: bool = False) -> Item:
    """The item in ``data``; ``content_type`` picks the parser (detected
    from the data when None, see :func:`detect_content_type`).

    ``lenient=True`` reads broken Versit items anyway (lines that are not
    content lines are kept raw, an item without END is closed), so that
    what a device sent is stored and sent back unchanged.  XML and mail
    formats have no lenient reading: broken ones raise :class:`FormatError`.
    """
    key = content_type_of(content_type) if content_type else detect_content_type(data)
    parser = parser_for(key, lenient=lenient)
    if parser is None:
        raise UnsupportedFormatError(f"unknown content type {key!r}", key)
    return _guarded_parse(parser, data, key)


@guarded("parsing")
def _guarded_parse(parser: Parser, data: bytes, content_type: str) -> Item:
    return parser(data, content_type)


# -- the built-in formats ---------------------------------------------------------------
def _contact_to_sif(item: VCardItem, target: str) -> Item:
    return _sif_contact.item_to_sif(item)


_CALENDARS = (VCALENDAR_10, ICALENDAR_20)
#: (source, target, conversion) of every built-in conversion
CONVERSIONS: list[tuple[str, str, Conversion]] = [
    (VCARD_21, VCARD_30, vcard_version),
    (VCARD_30, VCARD_21, vcard_version),
    (VCALENDAR_10, ICALENDAR_20, calendar_version),
    (ICALENDAR_20, VCALENDAR_10, calendar_version),
    (VNOTE, TEXT_PLAIN, vnote_to_text_item),
    (TEXT_PLAIN, VNOTE, text_to_vnote),
    (EMAIL_CONTENT_TYPE, RFC822_CONTENT_TYPE, email_to_rfc822),
    (RFC822_CONTENT_TYPE, EMAIL_CONTENT_TYPE, rfc822_to_email),
    # SIF (Funambol): contacts, events and tasks, notes
    (VCARD_21, SIFC, _contact_to_sif),
    (VCARD_30, SIFC, _contact_to_sif),
    (SIFC, VCARD_21, _sif_contact.sif_to_item),
    (SIFC, VCARD_30, _sif_contact.sif_to_item),
    *[(cal, sif, _sif_calendar.item_to_sif) for cal in _CALENDARS for sif in (SIFE, SIFT)],
    *[(sif, cal, _sif_calendar.sif_to_item) for sif in (SIFE, SIFT) for cal in _CALENDARS],
    (VNOTE, SIFN, _sif_calendar.item_to_sif),
    (TEXT_PLAIN, SIFN, _sif_calendar.item_to_sif),
    (SIFN, VNOTE, _sif_calendar.sif_to_item),
    (SIFN, TEXT_PLAIN, _sif_calendar.sif_to_item),
    # journals (VJOURNAL) <-> notes, for the Journal datastore's note clients
    *JOURNAL_CONVERSIONS,
]

for _type in (VCARD_21, VCARD_30):
    register(_type, VCardItem.from_bytes, lenient=partial(VCardItem.from_bytes, lenient=True))
for _type in (VCALENDAR_10, ICALENDAR_20, VNOTE):
    register(_type, VersitItem.from_bytes, lenient=partial(VersitItem.from_bytes, lenient=True))
register(TEXT_PLAIN, TextItem.from_bytes)
for _type in ObjectItem.CLASSES:
    register(_type, ObjectItem.from_bytes)
for _type in SIF_TYPES:
    register(_type, parse_sif)
for _source, _target, _conversion in CONVERSIONS:
    register_conversion(_source, _target, _conversion)
