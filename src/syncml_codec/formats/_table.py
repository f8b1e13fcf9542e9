"""The registry's two tables: content type -> parser (:func:`register`) and
(source type, target type) -> conversion (:func:`register_conversion`), and
the :class:`Item` protocol they deal in.

Why a module of its own: the item classes look their conversions up here,
and :mod:`.registry` fills both tables with the built-in formats.  Both
import this module and it imports no format, so no format module needs the
registry and the formats have no import cycle.

Content types are keys in lower case without parameters
(``text/vcard; charset=utf-8`` is ``text/vcard``, see
``shared/reference/formats.md`` section 0).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol, runtime_checkable

from ..errors import UnsupportedFormatError

__all__ = [
    "Conversion",
    "Item",
    "Parser",
    "content_type_of",
    "conversion_for",
    "convert_by_table",
    "is_registered",
    "parser_for",
    "register",
    "register_conversion",
    "registered_types",
]


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


#: ``parser(data, content_type)``: the item ``data`` holds, as :func:`register` takes it
Parser = Callable[[bytes, str], Item]
#: ``conversion(item, target_content_type)``: ``item`` in the target type
Conversion = Callable[[Any, str], Item]


class _Parsers(NamedTuple):
    strict: Parser
    lenient: Parser | None  # for parse(..., lenient=True); None: the strict one


_PARSERS: dict[str, _Parsers] = {}
_CONVERSIONS: dict[tuple[str, str], Conversion] = {}


def content_type_of(content_type: str) -> str:
    """``"Text/VCard; charset=UTF-8"`` -> ``"text/vcard"``."""
    return content_type.split(";", 1)[0].strip().lower()


def register(content_type: str, parser: Parser, *, replace: bool = False,
             lenient: Parser | None = None) -> None:
    """Make :func:`parse` hand ``content_type`` to ``parser(data, type)``
    (and to ``lenient`` instead, when given, for ``parse(..., lenient=True)``).
    Registering a type twice is an error unless ``replace=True``."""
    key = content_type_of(content_type)
    if key in _PARSERS and not replace:
        raise ValueError(f"content type {key} is already registered")
    _PARSERS[key] = _Parsers(parser, lenient)


def registered_types() -> list[str]:
    """The content types :func:`parse` knows, sorted."""
    return sorted(_PARSERS)


def is_registered(content_type: str) -> bool:
    return content_type_of(content_type) in _PARSERS


def parser_for(content_type: str, *, lenient: bool = False) -> Parser | None:
    """The parser registered for ``content_type`` (its lenient variant if
    asked and there is one), None for an unknown type."""
    parsers = _PARSERS.get(content_type_of(content_type))
    if parsers is None:
        return None
    return parsers.lenient if lenient and parsers.lenient is not None else parsers.strict


def register_conversion(source: str, target: str, conversion: Conversion, *, replace: bool = False) -> None:
    """Make ``item.convert(target)`` of an item of type ``source`` return
    ``conversion(item, target)``.  Registering a pair twice is an error
    unless ``replace=True``.  (The target type needs a parser too, for
    the converted item to be read back: see :func:`register`.)"""
    key = (content_type_of(source), content_type_of(target))
    if key in _CONVERSIONS and not replace:
        raise ValueError(f"conversion {key[0]} -> {key[1]} is already registered")
    _CONVERSIONS[key] = conversion


def conversion_for(source: str, target: str) -> Conversion | None:
    """The conversion registered from ``source`` to ``target``, None when
    there is none (converting a type to itself needs none)."""
    return _CONVERSIONS.get((content_type_of(source), content_type_of(target)))


def convert_by_table(item: Any, source: str, target: str, missing: str = "is not supported") -> Item:
    """``item`` (of type ``source``) as ``target`` through the table; without
    a conversion an :class:`UnsupportedFormatError` saying
    ``conversion <source> -> <target> <missing>``."""
    conversion = conversion_for(source, target)
    if conversion is None:
        raise UnsupportedFormatError(f"conversion {source} -> {target} {missing}", target)
    return conversion(item, target)
