"""The tokenizer rules that are not hot, written once and used by both
implementations: the reference (``versit.py``) on every path, the C port
(``_versit.pyx``) where it leaves its fast path (a component name that is
not ASCII, text outside any item) and once per top-level item (its default
version).  What runs per line or per byte stays in C, mirrored and checked
by ``tests/formats/test_versit_parity.py``.
"""

from __future__ import annotations

import codecs

__all__ = ["LEGACY_ITEMS", "closes", "default_version", "has_text", "value_name"]

#: top-level items read with the legacy (2.1 / vCalendar 1.0 / vNote 1.1)
#: rules when they have no VERSION line; any other item (a bare VEVENT...)
#: gets those of 2.0
LEGACY_ITEMS = frozenset({"VCARD", "VNOTE", "VCALENDAR"})
_BLANK = codecs.BOM_UTF8 + b" \t\r\n"


def value_name(raw: bytes) -> str:
    """A value that names something (BEGIN, END, VERSION) as text:
    stripped, 8-bit bytes replaced.

    >>> value_name(b" VCARD\\r\\n"), value_name(b"\\xc3\\xa9") == "\\ufffd\\ufffd"
    ('VCARD', True)
    """
    return raw.strip().decode("ascii", "replace")


def closes(end_value: bytes, open_name: str) -> bool:
    """An ``END`` with this value closes the component ``open_name``
    (case-insensitive, Python's Unicode case rules)."""
    return value_name(end_value).upper() == open_name.upper()


def default_version(name: str, version: str | None) -> str | None:
    """The version assumed for a top-level item ``name`` without a VERSION
    line, when the caller asked for ``version`` (None: by the item's kind)."""
    if version is None and name.upper() not in LEGACY_ITEMS:
        return "2.0"
    return version


def has_text(outside: bytes | bytearray) -> bool:
    """What stands outside every item is more than blanks, line ends and a
    byte-order mark (strict mode: an error when there is no item at all)."""
    return bool(outside.strip(_BLANK))
