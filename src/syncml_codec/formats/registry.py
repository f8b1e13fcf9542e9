"""Content types -> item parsers, and the :class:`Item` every format gives.

``parse(data, content_type)`` is what the engine calls with a SyncML item's
``<Data>`` and its ``<Meta><Type>``; ``item.serialize()`` gives the bytes
back (byte for byte when nothing was changed) and ``item.convert(type)`` an
item in another format.  Other modules add their formats with
:func:`register` (``register("text/x-s4j-sifc", parse_sifc)``).

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
from collections.abc import Callable
from functools import partial
from typing import ClassVar, Protocol, runtime_checkable

from ..errors import FormatError, UnsupportedFormatError
from ._guard import guarded
from .vcard import convert_vcard
from .versit import Component, parse_items

__all__ = [
    "VCARD_21",
    "VCARD_30",
    "Item",
    "Parser",
    "UnsupportedFormatError",
    "VCardItem",
    "VersitItem",
    "content_type_of",
    "detect_content_type",
    "parse",
    "register",
    "registered_types",
]

VCARD_21 = "text/x-vcard"
VCARD_30 = "text/vcard"
VCALENDAR_10 = "text/x-vcalendar"
ICALENDAR_20 = "text/calendar"
VNOTE = "text/x-vnote"
_CALENDARS = {VCALENDAR_10: "1.0", ICALENDAR_20: "2.0"}


@runtime_checkable
class Item(Protocol):
    """One data item (a contact, an event, a note, a mail...)."""

    @property
    def content_type(self) -> str: ...

    def serialize(self) -> bytes:
        """The item's bytes; the input byte for byte if nothing was changed."""
        ...

    def convert(self, target_content_type: str) -> Item:
        """This item in another content type (raises
        :class:`UnsupportedFormatError` if there is no such conversion)."""
        ...


Parser = Callable[[bytes, str], Item]
_PARSERS: dict[str, Parser] = {}
_LENIENT_PARSERS: dict[Parser, Parser] = {}  # parser -> its lenient variant


def content_type_of(content_type: str) -> str:
    """``"Text/VCard; charset=UTF-8"`` -> ``"text/vcard"``."""
    return content_type.split(";", 1)[0].strip().lower()


def register(content_type: str, parser: Parser, *, replace: bool = False) -> None:
    """Make :func:`parse` hand ``content_type`` to ``parser(data, type)``.
    Registering a type twice is an error unless ``replace=True``."""
    key = content_type_of(content_type)
    if key in _PARSERS and not replace:
        raise ValueError(f"content type {key} is already registered")
    _PARSERS[key] = parser


def registered_types() -> list[str]:
    return sorted(_PARSERS)


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
        from .sif import unwrap_base64_sif
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
    parser = _PARSERS.get(key)
    if parser is None:
        raise UnsupportedFormatError(f"unknown content type {key!r}", key)
    if lenient and parser in _LENIENT_PARSERS:
        return _guarded_parse(_LENIENT_PARSERS[parser], data, key)
    return _guarded_parse(parser, data, key)


@guarded("parsing")
def _guarded_parse(parser: Parser, data: bytes, content_type: str) -> Item:
    return parser(data, content_type)


def _one_component(data: bytes, expect: str, lenient: bool = False) -> Component:
    items = parse_items(data, lenient=lenient)
    if len(items) != 1:
        raise FormatError(f"expected one item, found {len(items)}", items[1].begin.lineno if items else 1)
    comp = items[0]
    if comp.name.upper() != expect:
        raise FormatError(f"expected BEGIN:{expect}, found BEGIN:{comp.name}", comp.begin.lineno, "BEGIN")
    return comp


class VersitItem:
    """A vCalendar 1.0, iCalendar 2.0 or vNote item on the lossless Versit
    tree (``component``, changeable in place).  Calendars convert between
    text/x-vcalendar and text/calendar (``losses`` says what did not fit)."""

    _EXPECT: ClassVar[dict[str, str]] = {VCALENDAR_10: "VCALENDAR", ICALENDAR_20: "VCALENDAR", VNOTE: "VNOTE",
               VCARD_21: "VCARD", VCARD_30: "VCARD"}

    def __init__(self, component: Component, content_type: str) -> None:
        self.component = component
        self._content_type = content_type
        #: what a calendar conversion could not carry (see ``convert_calendar``)
        self.losses: tuple[str, ...] = ()

    @property
    def content_type(self) -> str:
        return self._content_type

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._content_type!r}, {self.component!r})"

    @classmethod
    def from_bytes(cls, data: bytes, content_type: str, *, lenient: bool = False) -> VersitItem:
        key = content_type_of(content_type)
        return cls(_one_component(data, cls._EXPECT[key], lenient), key)

    def serialize(self) -> bytes:
        comp = self.component
        return comp.leading + comp.serialize() + comp.trailing

    @guarded("calendar conversion")
    def convert(self, target_content_type: str) -> Item:
        target = content_type_of(target_content_type)
        if target == self._content_type:
            return type(self).from_bytes(self.serialize(), target)
        if self._content_type in _CALENDARS and target in _CALENDARS:
            from .vcalendar import convert_calendar
            losses: list[str] = []
            comp = convert_calendar(self.component, _CALENDARS[target], losses)
            item = VersitItem(comp, target)
            item.losses = tuple(losses)
            return item
        if self._content_type == VNOTE and target == "text/plain":
            from ._more_items import TextItem, vnote_to_text
            return TextItem(vnote_to_text(self.component))
        if target.startswith("text/x-s4j-"):
            from .sif import to_sif
            return to_sif(self, target)
        if target not in _PARSERS:
            raise UnsupportedFormatError(f"unknown content type {target!r}", target)
        raise UnsupportedFormatError(
            f"conversion {self._content_type} -> {target} is not implemented yet", target)


class VCardItem(VersitItem):
    """A vCard.  ``content_type`` follows the data's VERSION (2.1:
    text/x-vcard, 3.0/4.0: text/vcard), whatever type it was declared with:
    phones often declare one and send the other."""

    @classmethod
    def from_bytes(cls, data: bytes, content_type: str, *, lenient: bool = False) -> VCardItem:
        comp = _one_component(data, "VCARD", lenient)
        version = comp.version or "2.1"
        return cls(comp, VCARD_21 if version == "2.1" else VCARD_30)

    @property
    def version(self) -> str:
        return self.component.version or "2.1"

    @guarded("vCard conversion")
    def convert(self, target_content_type: str) -> Item:
        target = content_type_of(target_content_type)
        if target == self._content_type:
            return VCardItem.from_bytes(self.serialize(), target)
        if target in (VCARD_21, VCARD_30) and self.version not in ("2.1", "3.0"):
            raise UnsupportedFormatError(f"vCard {self.version} -> {target} is not supported", target)
        if target == VCARD_21:
            return VCardItem(convert_vcard(self.component, "2.1"), VCARD_21)
        if target == VCARD_30:
            return VCardItem(convert_vcard(self.component, "3.0"), VCARD_30)
        if target.startswith("text/x-s4j-"):
            from .sif import to_sif
            return to_sif(self, target)
        if target not in _PARSERS:
            raise UnsupportedFormatError(f"unknown content type {target!r}", target)
        raise UnsupportedFormatError(
            f"conversion {self._content_type} -> {target} is not implemented yet", target)


_LENIENT_PARSERS[VCardItem.from_bytes] = partial(VCardItem.from_bytes, lenient=True)
_LENIENT_PARSERS[VersitItem.from_bytes] = partial(VersitItem.from_bytes, lenient=True)
for _type in (VCARD_21, VCARD_30):
    register(_type, VCardItem.from_bytes)
for _type in (VCALENDAR_10, ICALENDAR_20, VNOTE):
    register(_type, VersitItem.from_bytes)

from ._more_items import TEXT_PLAIN, ObjectItem, TextItem  # noqa: E402

register(TEXT_PLAIN, TextItem.from_bytes)
for _type in ObjectItem._CLASSES:
    register(_type, ObjectItem.from_bytes)

from .sif import SIF_TYPES, parse_sif  # noqa: E402

for _type in SIF_TYPES:
    register(_type, parse_sif)
