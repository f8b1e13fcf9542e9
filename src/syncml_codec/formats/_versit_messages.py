"""Every error the Versit tokenizer raises, written once.

The C port (``_versit.pyx``) and the reference (``versit.py``) must raise
the same :class:`FormatError` (message, line, property) for the same input
(``tests/formats/test_versit_parity.py`` compares them), so neither writes
its own: each error is a function here that returns the exception, message
and property included (the property of a line with no name is the first
40 bytes of the line, decoded as the reference decodes text).  Both call
these only on error paths, so the lookup costs nothing on the hot paths.
Change an error here and both implementations follow;
``tests/formats/test_versit_shared.py`` checks that no error text is
written anywhere else in the tokenizer's sources.

The last section holds the texts of the extension that have no twin (the
reference needs no such check); they live here so that the rule "no text
outside this module" has no exceptions.
"""

from __future__ import annotations

from ..errors import FormatError
from ._versit_text import decode_text

__all__ = [
    "bad_base64",
    "bad_property_name",
    "bad_quoted_printable",
    "end_closes_other",
    "no_begin_line",
    "no_colon",
    "no_end",
    "no_item",
    "not_a_slot",
    "not_a_writable_slot",
    "serialize_too_deep",
    "text_outside",
    "too_deep",
    "unknown_charset",
]

#: how many bytes of a nameless bad line its ``property`` shows
EXCERPT = 40


def _excerpt(raw: bytes) -> str:
    return decode_text(raw[:EXCERPT])


# -- the tokenizer (both implementations) ---------------------------------------


def no_colon(line: int, body: bytes) -> FormatError:
    """``body``: the first physical line, without its line end."""
    return FormatError("content line has no ':'", line, _excerpt(body))


def bad_property_name(line: int, head: bytes) -> FormatError:
    """``head``: the head as on the wire, up to and including the ':'."""
    return FormatError("bad property name", line, _excerpt(head))


def bad_quoted_printable(line: int, name: str) -> FormatError:
    return FormatError("bad quoted-printable escape", line, name)


def too_deep(line: int) -> FormatError:
    return FormatError("components nested too deeply", line, "BEGIN")


def end_closes_other(line: int, end: str, begin: str) -> FormatError:
    return FormatError(f"END:{end} closes BEGIN:{begin}", line, "END")


def text_outside(line: int, name: str) -> FormatError:
    return FormatError("text outside BEGIN/END", line, name)


def no_end(name: str, line: int) -> FormatError:
    """``line``: that of the BEGIN left open."""
    return FormatError(f"BEGIN:{name} has no END", line, "BEGIN")


def no_begin_line(line: int) -> FormatError:
    return FormatError("no BEGIN line", line or 1)


def no_item() -> FormatError:
    return FormatError("no BEGIN ... END item in the text", 1)


# -- values (ContentLine, shared by both implementations' trees) ----------------


def bad_base64(exc: Exception, line: int, name: str) -> FormatError:
    return FormatError(f"bad base64: {exc}", line, name)


def unknown_charset(charset: str, line: int, name: str) -> FormatError:
    return FormatError(f"unknown CHARSET {charset}", line, name)


# -- the extension only (no counterpart in the reference) -----------------------


def serialize_too_deep() -> RecursionError:
    """A tree built by hand nested deeper than any parse makes."""
    return RecursionError("components nested too deeply to serialize")


def not_a_slot(cls: object, name: str) -> TypeError:
    return TypeError(f"{cls!r} has no slot {name!r}")


def not_a_writable_slot(cls: type, name: str) -> TypeError:
    return TypeError(f"{cls.__name__}.{name} is not a writable slot")
