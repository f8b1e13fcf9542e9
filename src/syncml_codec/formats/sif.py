"""Funambol SIF items (``shared/reference/formats.md`` section 3): SIF-C
contacts, SIF-E appointments, SIF-T tasks and SIF-N notes, losslessly, with
conversion to and from vCard, iCalendar/vCalendar, vNote and text/plain.

Why this shape: a SIF item is a flat list of XML elements (``<Tag/>`` means
"clear this field", a missing element "keep the server value"), so the model
is the ordered list of ``(name, value)`` fields, ``value`` being the text or,
for ``<Exceptions>``, ``<Timezone>``, ``<Attendees>``, a tuple of nested
fields.  The input bytes are kept: ``serialize()`` returns them unchanged
(XML declaration, whitespace, attributes, unknown elements, base64 wrapping)
unless a field was changed, and only then writes the item again.  Data that
is base64 of a SIF document (clients that send ``<Format>b64</Format>``) is
decoded and written back as base64.

Conversion decisions (details in :mod:`._sif_contact` and
:mod:`._sif_calendar`):

* a SIF field with a vCard/iCal property is written as that property
  (Funambol's names, including its ``X-FUNAMBOL-*`` ones);
* every other field travels as ``X-SIF-<FieldName>`` (nested fields as their
  XML), and vCard/iCal ``X-`` properties that SIF has no field for travel as
  an element of the same name (what Funambol does);
* after mapping, the reverse mapping is run on the result: a field it would
  not give back the same way is also written as ``X-SIF-<FieldName>`` (which
  wins on the way back), and fields it would invent are listed in
  ``X-SIF-ABSENT``.  So SIF -> vCard/iCal -> SIF gives the same fields, and
  the override is needed only where the standard property cannot say it
  (e.g. Outlook's unused recurrence fields);
* nested fields, and text whose line breaks are not all CRLF, travel as XML
  (``X-SIF-<Field>;X-FORMAT=XML``); line breaks in text come back as CRLF
  (SIF's rule) unless the item says ``X-SIF-EOL:LF`` (a SIF item written with
  LF line ends);
* values that would go out unescaped (dates, numbers, TEL, URIs) but hold line
  breaks or other control characters are written as escaped text or carried,
  so a field can never add content lines;
* anything of a vCard/iCal item that no SIF field can hold is reported in the
  converted item's ``losses`` (short sentences).

Not done: ``<Timezone>`` is not turned into a VTIMEZONE (SIF times are UTC in
practice; a local Start would come out floating), AssistantName/
AssistantTelephoneNumber are not written as AGENT, Outlook exception items
are not RECURRENCE-ID components, and an unknown field whose name is not an
Outlook one loses its case through vCalendar 1.0 (which upper-cases names).

Field comparison ignores element order and XML attributes (they echo vCard
parameters, section 3: "accept them and ignore them"; ``<Photo TYPE=..>`` is
carried as the PHOTO TYPE) and whitespace inside ``<Photo>`` base64.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Sequence
from typing import Union

from lxml import etree

from ..errors import FormatError, UnsupportedFormatError
from . import _omaxml
from ._guard import guarded
from ._table import Item, content_type_of, convert_by_table

__all__ = [
    "SIFC",
    "SIFE",
    "SIFN",
    "SIFT",
    "SIF_TYPES",
    "SIFField",
    "SIFItem",
    "comparable",
    "parse_sif",
]

SIFC = "text/x-s4j-sifc"
SIFE = "text/x-s4j-sife"
SIFT = "text/x-s4j-sift"
SIFN = "text/x-s4j-sifn"
#: the Funambol SIF content types: contact, event, task and note
SIF_TYPES = (SIFC, SIFE, SIFT, SIFN)
_ROOTS: dict[str, tuple[str, ...]] = {
    SIFC: ("contact",), SIFE: ("appointment", "calendar"), SIFT: ("task",), SIFN: ("note",),
}
_DECL_LINE = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_ROOT_NAME = re.compile(r"<([A-Za-z_][\w.-]*)")
_B64_TEXT = re.compile(rb"[A-Za-z0-9+/=\s]+")

SIFValue = Union[str, "tuple[SIFField, ...]"]
SIFField = tuple[str, SIFValue]
"""One element: its name and its text, or its child elements in order."""


# Field names of the four SIF types (formats.md section 3, Funambol's SIFC/SIFE
# constants and the Outlook client's field lists): converters that upper-case
# X- property names still give the field its spelling back (:func:`canonical`).
_FIELD_NAMES = """
SIFVersion Folder Body Categories Companies Importance Sensitivity Mileage BillingInformation Subject Uid
Anniversary AssistantName AssistantTelephoneNumber Birthday Business2TelephoneNumber BusinessAddressCity
BusinessAddressCountry BusinessAddressExtended BusinessAddressPostOfficeBox BusinessAddressPostalCode
BusinessAddressState BusinessAddressStreet BusinessFaxNumber BusinessLabel BusinessTelephoneNumber
BusinessWebPage CallbackTelephoneNumber CarTelephoneNumber Children CompanyMainTelephoneNumber CompanyName
ComputerNetworkName DCOnlyTelephoneNumber Department Email1Address Email1AddressType Email2Address
Email2AddressType Email3Address Email3AddressType FileAs FirstName Gender Hobby Home2TelephoneNumber
HomeAddressCity HomeAddressCountry HomeAddressExtended HomeAddressPostOfficeBox HomeAddressPostalCode
HomeAddressState HomeAddressStreet HomeFaxNumber HomeLabel HomeTelephoneNumber HomeWebPage Home2WebPage
Business2WebPage HomeEmail2Address HomeEmail3Address BusinessEmail2Address BusinessEmail3Address
OtherEmail2Address OtherEmail3Address IMAddress Initials InternetFreeBusyAddress JobTitle Language LastName
MailingAddress ManagerName MiddleName MobileBusinessTelephoneNumber MobileDCTelephoneNumber MobileEmailAddress
MobileHomeTelephoneNumber MobileTelephoneNumber NickName OfficeLocation OrganizationalIDNumber
OtherAddressCity OtherAddressCountry OtherAddressExtended OtherAddressPostOfficeBox OtherAddressPostalCode
OtherAddressState OtherAddressStreet OtherFaxNumber OtherLabel OtherTelephoneNumber PagerNumber Photo
PrimaryTelephoneNumber Profession RadioTelephoneNumber Revision Spouse Suffix TelexNumber Timezone Title
WebPage YomiCompanyName YomiFirstName YomiLastName
AllDayEvent Start End BusyStatus Location MeetingStatus NoAging ReminderMinutesBeforeStart ReminderSet
ReminderSoundFile ReminderInterval ReminderRepeatCount ReminderOptions ReminderTime ReplyTime IsRecurring
RecurrenceType Interval DayOfWeekMask DayOfMonth MonthOfYear Instance PatternStartDate PatternEndDate
NoEndDate Occurrences Exceptions ExcludeDate IncludeDate Attendees Attendee AttendeeName AttendeeEmail
AttendeeStatus AttendeeType Transp Contact Dtstamp Last-Modified Sequence DAlarm PAlarm Url Geo Duration
Status UnRead StartDate DueDate DateCompleted Complete PercentComplete ActualWork TotalWork TeamTask Owner
Role Date Color Height Width Left Top
"""
KNOWN_FIELDS = frozenset(_FIELD_NAMES.split())
_CANONICAL = {n.upper(): n for n in KNOWN_FIELDS}


def canonical(name: str) -> str:
    """The SIF spelling of a field name (``PERCENTCOMPLETE`` -> ``PercentComplete``)."""
    return _CANONICAL.get(name.upper(), name)


def unwrap_base64_sif(data: bytes) -> bytes | None:
    """The SIF XML inside base64 ``data`` (Funambol's ``Format b64``), or None
    when ``data`` is not base64 of an XML document."""
    body = data.strip()
    if not body or body.startswith((b"<", b"\xef\xbb\xbf")) or not _B64_TEXT.fullmatch(body):
        return None
    try:
        decoded = base64.b64decode(re.sub(rb"\s+", b"", body), validate=True)
    except binascii.Error:
        return None
    return decoded if decoded.lstrip().lstrip(b"\xef\xbb\xbf").startswith(b"<") else None


def _fields_of(node: etree._Element) -> tuple[SIFField, ...]:
    out: list[SIFField] = []
    for child in _omaxml.children(node):
        if _omaxml.children(child):
            out.append((_omaxml.local(child), _fields_of(child)))
        else:
            out.append((_omaxml.local(child), child.text or ""))
    return tuple(out)


def _attrs_of(node: etree._Element) -> dict[str, dict[str, str]]:
    return {_omaxml.local(c): {str(k): str(v) for k, v in c.attrib.items()}
            for c in _omaxml.children(node) if c.attrib}


def fields_xml(fields: Iterable[SIFField], attrs: dict[str, dict[str, str]] | None = None,
               nl: str = "\n") -> str:
    """The elements of ``fields``, each followed by ``nl`` (``<Tag/>`` when
    empty); CR in text is written ``&#13;`` so that XML readers keep it."""
    out: list[str] = []
    for name, value in fields:
        at = "".join(f' {k}="{_omaxml.escape(v, True)}"' for k, v in (attrs or {}).get(name, {}).items())
        if isinstance(value, tuple):
            inner = fields_xml(value, nl=nl)
            out.append(f"<{name}{at}>{nl}{inner}</{name}>{nl}" if inner else f"<{name}{at}/>{nl}")
        elif value == "":
            out.append(f"<{name}{at}/>{nl}")
        else:
            out.append(f"<{name}{at}>{_omaxml.escape(value).replace(chr(13), '&#13;')}</{name}>{nl}")
    return "".join(out)


def fields_from_xml(fragment: str) -> tuple[SIFField, ...]:
    """The fields in an XML fragment (the value of an ``X-SIF-`` property
    that carries a nested field)."""
    return _fields_of(_omaxml.parse_root(f"<x>{fragment}</x>".encode(), "x"))


def comparable(fields: Iterable[SIFField]) -> dict[str, object]:
    """Fields as a dict for field-by-field comparison: order ignored
    (repeated names keep their order in a list), ``Photo`` without
    whitespace, nested fields compared the same way."""
    out: dict[str, list[object]] = {}
    for name, value in fields:
        if isinstance(value, tuple):
            norm: object = comparable(value)
        elif name == "Photo":
            norm = re.sub(r"\s+", "", value)
        else:
            norm = value
        out.setdefault(name, []).append(norm)
    return {k: v[0] if len(v) == 1 else v for k, v in out.items()}


class SIFItem:
    """One SIF item.  ``fields`` is the ordered list of top-level
    ``(name, value)`` pairs (change it with :meth:`set` / :meth:`remove`, or
    replace it); ``attributes`` the XML attributes per top-level element;
    ``base64`` whether the item came (and goes) base64-wrapped; ``losses``
    what a conversion into SIF could not keep.

        >>> item = parse_sif(b"<note><Subject>Hi</Subject><Body/></note>", SIFN)
        >>> item.get("Subject"), item.get("Body"), item.get("Color")
        ('Hi', '', None)
        >>> item.set("Color", "3")
        >>> item.serialize().splitlines()[1:]
        [b'<note>', b'<Subject>Hi</Subject>', b'<Body/>', b'<Color>3</Color>', b'</note>']
    """

    def __init__(self, content_type: str, fields: Sequence[SIFField], *, root: str | None = None,
                 attributes: dict[str, dict[str, str]] | None = None, base64: bool = False,
                 losses: Sequence[str] = ()) -> None:
        if content_type not in _ROOTS:
            raise UnsupportedFormatError(f"not a SIF content type: {content_type!r}", content_type)
        self._content_type = content_type
        self.root = root or _ROOTS[content_type][0]
        self.fields: list[SIFField] = list(fields)
        self.attributes = attributes or {}
        self.base64 = base64
        self.losses: tuple[str, ...] = tuple(losses)
        self._raw: bytes | None = None
        self._parsed: tuple[tuple[SIFField, ...], str] | None = None

    @property
    def content_type(self) -> str:
        return self._content_type

    def __repr__(self) -> str:
        return f"SIFItem({self._content_type!r}, {len(self.fields)} fields)"

    @classmethod
    def from_bytes(cls, data: bytes, content_type: str) -> SIFItem:
        """Parse SIF XML, or base64 of it; raises :class:`FormatError` for
        broken XML or a root element that does not fit ``content_type``."""
        key = content_type_of(content_type)
        roots = _ROOTS.get(key)
        if roots is None:
            raise UnsupportedFormatError(f"not a SIF content type: {content_type!r}", key)
        xml = unwrap_base64_sif(data)
        wrapped = xml is not None
        if xml is None:
            xml = data
        text = xml.decode("utf-8", "replace")
        body = re.sub(r"<\?.*?\?>|<!--.*?-->", "", text, flags=re.S)
        found = _ROOT_NAME.search(body)
        if found is None:
            raise FormatError(f"no SIF document: expected <{roots[0]}>", 1, roots[0])
        if found.group(1) not in roots:
            raise FormatError(f"root element is <{found.group(1)}>, expected <{roots[0]}> for {key}",
                              text.count("\n", 0, text.find("<" + found.group(1))) + 1, found.group(1))
        try:
            root = _omaxml.parse_root(xml, found.group(1))
        except ValueError as exc:
            if isinstance(exc, FormatError):
                raise
            # lxml refuses a str with a (broken) encoding declaration that parse_root did not strip
            raise FormatError(f"malformed XML declaration: {exc}", 1, found.group(1)) from None
        item = cls(key, _fields_of(root), root=found.group(1), attributes=_attrs_of(root), base64=wrapped)
        item._raw = bytes(data)
        item._parsed = item._state()
        return item

    def _state(self) -> tuple[tuple[SIFField, ...], str]:
        return tuple(self.fields), repr(sorted(self.attributes.items()))

    # -- fields ---------------------------------------------------------------
    def get(self, name: str) -> str | None:
        """The text of the first field ``name`` ("" for ``<Tag/>``), None if
        absent (nested fields give their XML)."""
        for fname, value in self.fields:
            if fname == name:
                return value if isinstance(value, str) else fields_xml(value)
        return None

    def set(self, name: str, value: SIFValue) -> None:
        """Set field ``name`` (replacing the first one, else appended)."""
        for i, (fname, _) in enumerate(self.fields):
            if fname == name:
                self.fields[i] = (name, value)
                return
        self.fields.append((name, value))

    def remove(self, name: str) -> None:
        self.fields = [f for f in self.fields if f[0] != name]

    # -- bytes ----------------------------------------------------------------
    def to_xml(self) -> bytes:
        """The item written afresh as SIF XML (UTF-8, one element a line)."""
        body = fields_xml(self.fields, self.attributes)
        return _DECL_LINE + f"<{self.root}>\n{body}</{self.root}>\n".encode()

    def serialize(self) -> bytes:
        if self._raw is not None and self._parsed == self._state():
            return self._raw
        xml = self.to_xml()
        return base64.b64encode(xml) if self.base64 else xml

    # -- conversion -----------------------------------------------------------
    @guarded("SIF conversion")
    def convert(self, target_content_type: str) -> Item:
        """This item as ``target_content_type``: the same SIF type, vCard
        (text/vcard, text/x-vcard) for SIF-C, iCalendar (text/calendar,
        text/x-vcalendar) for SIF-E/SIF-T, vNote or text/plain for SIF-N
        (the conversions of :mod:`._sif_contact` and :mod:`._sif_calendar`,
        found in the registry's table)."""
        target = content_type_of(target_content_type)
        if target == self._content_type:
            return SIFItem.from_bytes(self.serialize(), target)
        return convert_by_table(self, self._content_type, target)


def parse_sif(data: bytes, content_type: str) -> SIFItem:
    """Registry parser: ``parse_sif(data, "text/x-s4j-sifc")``."""
    return SIFItem.from_bytes(data, content_type)


def with_losses(item: Item, losses: Sequence[str]) -> Item:
    """``item`` with a ``losses`` attribute (what the conversion dropped)."""
    vars(item)["losses"] = tuple(losses)
    return item
