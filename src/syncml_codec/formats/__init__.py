"""Layer 3: PIM data formats.  So far the lossless Versit tokenizer and
serializer (vCard, vCalendar/iCalendar, vNote), see :mod:`.versit`."""

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
    "MAX_DEPTH",
    "Component",
    "ContentLine",
    "FormatError",
    "RawLine",
    "parse_items",
    "serialize_items",
]
