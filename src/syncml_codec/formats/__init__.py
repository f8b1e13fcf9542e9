"""Layer 3: PIM data formats.  The lossless Versit tokenizer and serializer
(vCard, vCalendar/iCalendar, vNote, see :mod:`.versit`), the registry
behind ``formats.parse`` and ``item.convert`` (a table of parsers and one
of conversions: :func:`register`, :func:`register_conversion`) with vCard
2.1 <-> 3.0 and vCalendar 1.0 <-> iCalendar 2.0 conversion
(:mod:`.vcalendar`), and the OMA DS
email, folder and file objects with RFC 822 mail (:mod:`.email`,
:mod:`.omads`), Funambol SIF (:mod:`.sif`) and the item transfer encodings
``b64`` / ``des;b64`` / ``3des;b64`` (:mod:`.item_encoding`)."""

from .email import EMAIL_CONTENT_TYPE, RFC822_CONTENT_TYPE, EmailObject, LeftOut, RFC822Item, Truncated
from .item_encoding import ItemKey, decode_item_data, encode_item_data, transforms_of
from .omads import FILE_CONTENT_TYPE, FOLDER_CONTENT_TYPE, FileObject, FolderObject
from .registry import (
    Item,
    Parser,
    UnsupportedFormatError,
    VCardItem,
    VersitItem,
    content_type_of,
    detect_content_type,
    parse,
    register,
    register_conversion,
    registered_types,
)
from .sif import SIF_TYPES, SIFItem
from .vcalendar import CALENDAR_VERSIONS, Timing, convert_calendar, timings
from .vcard import VCARD_VERSIONS, convert_vcard, normalized
from .versit import (
    MAX_DEPTH,
    Component,
    ContentLine,
    FormatError,
    RawLine,
    parse_items,
    serialize_items,
)

__all__ = [
    "CALENDAR_VERSIONS",
    "EMAIL_CONTENT_TYPE",
    "FILE_CONTENT_TYPE",
    "FOLDER_CONTENT_TYPE",
    "MAX_DEPTH",
    "RFC822_CONTENT_TYPE",
    "SIF_TYPES",
    "VCARD_VERSIONS",
    "Component",
    "ContentLine",
    "EmailObject",
    "FileObject",
    "FolderObject",
    "FormatError",
    "Item",
    "ItemKey",
    "LeftOut",
    "Parser",
    "RFC822Item",
    "RawLine",
    "SIFItem",
    "Timing",
    "Truncated",
    "UnsupportedFormatError",
    "VCardItem",
    "VersitItem",
    "content_type_of",
    "convert_calendar",
    "convert_vcard",
    "decode_item_data",
    "detect_content_type",
    "encode_item_data",
    "normalized",
    "parse",
    "parse_items",
    "register",
    "register_conversion",
    "registered_types",
    "serialize_items",
    "timings",
    "transforms_of",
]
