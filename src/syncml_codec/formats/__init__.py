"""Layer 3: PIM data formats.  The lossless Versit tokenizer and serializer
(vCard, vCalendar/iCalendar, vNote, see :mod:`.versit`), and the OMA DS
email, folder and file objects with RFC 822 mail (:mod:`.email`,
:mod:`.omads`)."""

from .email import EMAIL_CONTENT_TYPE, RFC822_CONTENT_TYPE, EmailObject, RFC822Item
from .omads import FILE_CONTENT_TYPE, FOLDER_CONTENT_TYPE, FileObject, FolderObject
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
    "EMAIL_CONTENT_TYPE",
    "FILE_CONTENT_TYPE",
    "FOLDER_CONTENT_TYPE",
    "MAX_DEPTH",
    "RFC822_CONTENT_TYPE",
    "Component",
    "ContentLine",
    "EmailObject",
    "FileObject",
    "FolderObject",
    "FormatError",
    "RFC822Item",
    "RawLine",
    "parse_items",
    "serialize_items",
]
