"""The registry's item classes (each answers the :class:`~._table.Item`
protocol: ``content_type``, ``serialize()``, ``convert(target)``) and the
conversions between them that need no other format.

* :class:`VersitItem` / :class:`VCardItem`: vCalendar 1.0, iCalendar 2.0,
  vNote 1.1 and vCard on the lossless Versit tree;
* :class:`TextItem`: ``text/plain`` notes;
* :class:`ObjectItem`: the OMA DS email, folder and file objects and RFC
  822 mail, wrapping the format's own class.

``convert`` copies an item into its own type and otherwise looks the
conversion up in the table (:func:`~._table.register_conversion`); the
registry fills it, with the conversions below and the SIF ones.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..errors import FormatError, UnsupportedFormatError
from ._guard import guarded
from ._table import Item, content_type_of, convert_by_table, is_registered
from .email import EMAIL_CONTENT_TYPE, RFC822_CONTENT_TYPE, EmailObject, RFC822Item
from .omads import FILE_CONTENT_TYPE, FOLDER_CONTENT_TYPE, FileObject, FolderObject
from .vcalendar import convert_calendar
from .vcard import convert_vcard
from .versit import Component, parse_items

__all__ = [
    "CALENDAR_VERSION",
    "ICALENDAR_20",
    "TEXT_PLAIN",
    "VCALENDAR_10",
    "VCARD_21",
    "VCARD_30",
    "VNOTE",
    "ObjectItem",
    "TextItem",
    "VCardItem",
    "VersitItem",
    "calendar_version",
    "email_to_rfc822",
    "rfc822_to_email",
    "text_to_vnote",
    "vcard_version",
    "vnote_from_text",
    "vnote_to_text",
    "vnote_to_text_item",
]

VCARD_21 = "text/x-vcard"
VCARD_30 = "text/vcard"
VCALENDAR_10 = "text/x-vcalendar"
ICALENDAR_20 = "text/calendar"
VNOTE = "text/x-vnote"
TEXT_PLAIN = "text/plain"
#: the Versit VERSION of each calendar content type
CALENDAR_VERSION = {VCALENDAR_10: "1.0", ICALENDAR_20: "2.0"}
_EMPTY_VNOTE = b"BEGIN:VNOTE\r\nVERSION:1.1\r\nBODY:\r\nEND:VNOTE\r\n"


def _one_component(data: bytes, expect: str, lenient: bool = False) -> Component:
    items = parse_items(data, lenient=lenient)
    if len(items) != 1:
        raise FormatError(f"expected one item, found {len(items)}", items[1].begin.lineno if items else 1)
    comp = items[0]
    if comp.name.upper() != expect:
        raise FormatError(f"expected BEGIN:{expect}, found BEGIN:{comp.name}", comp.begin.lineno, "BEGIN")
    return comp


def _versit_convert(item: VersitItem, target_content_type: str) -> Item:
    """``convert`` of the Versit items: a copy into the item's own type,
    else the table; a target nobody registered is an unknown type."""
    target = content_type_of(target_content_type)
    if target == item.content_type:
        return type(item).from_bytes(item.serialize(), target)
    if not is_registered(target):
        raise UnsupportedFormatError(f"unknown content type {target!r}", target)
    return convert_by_table(item, item.content_type, target, "is not implemented yet")


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
        return _versit_convert(self, target_content_type)


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
        return _versit_convert(self, target_content_type)


class TextItem:
    """``text/plain``: a note as plain UTF-8 text."""

    content_type = TEXT_PLAIN

    def __init__(self, data: bytes) -> None:
        self.data = bytes(data)

    @classmethod
    def from_bytes(cls, data: bytes, content_type: str = TEXT_PLAIN) -> TextItem:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FormatError(f"text/plain item is not UTF-8 (byte {exc.start})", 1) from None
        return cls(data)

    def serialize(self) -> bytes:
        return self.data

    @guarded("text conversion")
    def convert(self, target_content_type: str) -> Item:
        target = content_type_of(target_content_type)
        if target == TEXT_PLAIN:
            return TextItem(self.data)
        return convert_by_table(self, TEXT_PLAIN, target)


class ObjectItem:
    """An OMA DS email, folder or file object, or an RFC 822 message, as a
    registry item (``obj`` is the format's own object)."""

    CLASSES: ClassVar[dict[str, Any]] = {
        EMAIL_CONTENT_TYPE: EmailObject, RFC822_CONTENT_TYPE: RFC822Item,
        FOLDER_CONTENT_TYPE: FolderObject, FILE_CONTENT_TYPE: FileObject,
    }

    def __init__(self, obj: Any, content_type: str) -> None:
        self.obj = obj
        self.content_type = content_type

    @classmethod
    def from_bytes(cls, data: bytes, content_type: str) -> ObjectItem:
        return cls(cls.CLASSES[content_type].parse(data), content_type)

    def serialize(self) -> bytes:
        data: bytes = self.obj.serialize()
        return data

    @guarded("object conversion")
    def convert(self, target_content_type: str) -> Item:
        target = content_type_of(target_content_type)
        if target == self.content_type:
            return ObjectItem.from_bytes(self.serialize(), target)
        return convert_by_table(self, self.content_type, target)


# -- conversions (registered by .registry) --------------------------------------------
def vcard_version(item: VCardItem, target: str) -> VCardItem:
    """vCard 2.1 <-> 3.0 (``convert_vcard``)."""
    if item.version not in ("2.1", "3.0"):
        raise UnsupportedFormatError(f"vCard {item.version} -> {target} is not supported", target)
    return VCardItem(convert_vcard(item.component, "2.1" if target == VCARD_21 else "3.0"), target)


def calendar_version(item: VersitItem, target: str) -> VersitItem:
    """vCalendar 1.0 <-> iCalendar 2.0 (``convert_calendar``), with ``losses``."""
    losses: list[str] = []
    converted = VersitItem(convert_calendar(item.component, CALENDAR_VERSION[target], losses), target)
    converted.losses = tuple(losses)
    return converted


def vnote_to_text(component: Any) -> bytes:
    """The note text of a vNote (its BODY, decoded), as UTF-8."""
    body = component.find("BODY")
    return b"" if body is None else body.value.encode("utf-8")


def vnote_from_text(text: bytes) -> bytes:
    """A vNote 1.1 with ``text`` (UTF-8) as its BODY, written by the 1.1
    rules (quoted-printable for line breaks and non-ASCII text)."""
    (note,) = parse_items(_EMPTY_VNOTE)
    body = note.find("BODY")
    assert body is not None
    body.set_text(text.decode("utf-8"))
    return note.serialize()


def vnote_to_text_item(item: VersitItem, target: str) -> TextItem:
    return TextItem(vnote_to_text(item.component))


def text_to_vnote(item: TextItem, target: str) -> VersitItem:
    return VersitItem.from_bytes(vnote_from_text(item.data), VNOTE)


def email_to_rfc822(item: ObjectItem, target: str) -> ObjectItem:
    if item.obj.emailitem is None:
        raise FormatError("email object has no <emailitem> to give as message/rfc822", 0, "emailitem")
    return ObjectItem(item.obj.to_rfc822(), target)


def rfc822_to_email(item: ObjectItem, target: str) -> ObjectItem:
    return ObjectItem(EmailObject.from_rfc822(item.obj), target)
