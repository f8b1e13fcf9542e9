"""The ``syncml:filtertype-cgi`` record filter grammar (OMA DS 1.2 protocol, filtering): an
expression read into a small tree, and written back.

Grammar, as read here (``&...;`` names are matched case-insensitively; a leading ``i`` on a
comparison makes it case-insensitive)::

    expression  = or-term
    or-term     = and-term *("&OR;" and-term)
    and-term    = primary *("&AND;" primary)
    primary     = "(" or-term ")" / comparison
    comparison  = attribute operator value
    attribute   = "&LUID;" / name ["[" index "]"] ["." param]
    operator    = "&" ["i"] ("EQ" / "NE" / "GT" / "GE" / "LT" / "LE" / "CON" / "NCON") ";"
    value       = "&NULL;" / *(any character but "&", "(" and ")"; "%XX" is the octet XX)

``&AND;`` binds tighter than ``&OR;``.  ``name`` and ``param`` are property and parameter names
(letters, digits, ``-``, ``_``); ``index`` (1-based) picks one occurrence of a repeated
property.  ``&NULL;`` stands for "no value": ``X&EQ;&NULL;`` holds when X is absent or empty.
Values are UTF-8 after ``%XX`` decoding.  Bounds: :data:`MAX_LENGTH` characters,
:data:`MAX_TERMS` comparisons and :data:`MAX_DEPTH` nested parentheses; parsing is one pass.

Every error is a :class:`~syncml_codec.errors.FilterError` with the position where reading
stopped.  :func:`to_cgi` writes a tree back (``parse_cgi(to_cgi(e)) == e``).

    >>> e = parse_cgi("TEL.TYPE&iEQ;cell&AND;(N&CON;Sm%C3%BCth&OR;BDAY&GE;19700101)")
    >>> e.parts[0]
    Comparison(name='TEL', op='EQ', value='cell', param='TYPE', index=None, ignore_case=True)
    >>> to_cgi(e)
    'TEL.TYPE&iEQ;cell&AND;(N&CON;Sm%C3%BCth&OR;BDAY&GE;19700101)'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Union
from urllib.parse import unquote_to_bytes

from ..errors import FilterError

__all__ = ["MAX_DEPTH", "MAX_LENGTH", "MAX_TERMS", "OPERATORS", "And", "Comparison", "Expression",
           "Or", "parse_cgi", "to_cgi"]

#: the longest expression read (characters)
MAX_LENGTH = 8192
#: the most comparisons in one expression
MAX_TERMS = 256
#: the deepest nesting of parentheses
MAX_DEPTH = 32
#: the comparison operators, without ``&``, ``i`` and ``;``
OPERATORS = ("EQ", "NE", "GT", "GE", "LT", "LE", "CON", "NCON")
LUID = "&LUID;"
_NAME = re.compile(r"[A-Za-z0-9_-]+")
_INDEX = re.compile(r"\[([0-9]{1,6})\]")
_ENTITY = re.compile(r"&([A-Za-z]{1,12});")
_HEX = re.compile(r"%([0-9A-Fa-f]{2})")
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:+@*!~',/ ")


@dataclass(frozen=True)
class Comparison:
    """``name[.param] op value``.  ``name`` and ``param`` are as written (they compare
    case-insensitively; ``&LUID;`` is the item's id); ``value`` None is ``&NULL;``; ``index`` is
    the 1-based occurrence, or None for any occurrence."""

    name: str
    op: str
    value: str | None
    param: str | None = None
    index: int | None = None
    ignore_case: bool = False
    #: where the comparison starts in the expression it was read from (-1: built, not read);
    #: not part of equality
    at: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class And:
    """Every part holds."""

    parts: tuple[Expression, ...]


@dataclass(frozen=True)
class Or:
    """One part at least holds."""

    parts: tuple[Expression, ...]


#: a parsed expression: one comparison, or an &AND; / &OR; of expressions
Expression = Union[Comparison, And, Or]  # noqa: UP007 (a runtime alias: 3.9-safe in docs)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.terms = 0

    def fail(self, message: str, pos: int | None = None) -> FilterError:
        return FilterError(message, self.pos if pos is None else pos)

    def entity(self) -> str | None:
        """The ``&NAME;`` at the cursor, upper case (the cursor does not move)."""
        m = _ENTITY.match(self.text, self.pos)
        return m.group(1).upper() if m else None

    def or_term(self, depth: int) -> Expression:
        parts = [self.and_term(depth)]
        while self.entity() == "OR":
            self.pos += 4
            parts.append(self.and_term(depth))
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_term(self, depth: int) -> Expression:
        parts = [self.primary(depth)]
        while self.entity() == "AND":
            self.pos += 5
            parts.append(self.primary(depth))
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def primary(self, depth: int) -> Expression:
        if self.text.startswith("(", self.pos):
            if depth >= MAX_DEPTH:
                raise self.fail(f"parentheses nested deeper than {MAX_DEPTH}")
            self.pos += 1
            inner = self.or_term(depth + 1)
            if not self.text.startswith(")", self.pos):
                raise self.fail("')' expected")
            self.pos += 1
            return inner
        return self.comparison()

    def comparison(self) -> Comparison:
        at = self.pos
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise self.fail(f"more than {MAX_TERMS} comparisons")
        param: str | None = None
        index: int | None = None
        if self.entity() == "LUID":
            name = LUID
            self.pos += len(LUID)
        else:
            m = _NAME.match(self.text, self.pos)
            if m is None:
                what = "end of expression" if self.pos >= len(self.text) else repr(self.text[self.pos])
                raise self.fail(f"property name expected, found {what}")
            name = m.group()
            self.pos = m.end()
            m = _INDEX.match(self.text, self.pos)
            if m is not None:
                index = int(m.group(1))
                if index < 1:
                    raise self.fail("an index counts from 1", m.start(1))
                self.pos = m.end()
            if self.text.startswith(".", self.pos):
                m = _NAME.match(self.text, self.pos + 1)
                if m is None:
                    raise self.fail("parameter name expected after '.'", self.pos + 1)
                param = m.group()
                self.pos = m.end()
        op_at = self.pos
        entity = self.entity()
        if entity is None:
            raise self.fail("comparison operator expected (&EQ;, &iCON;, ...)")
        ignore_case = entity.startswith("I") and entity[1:] in OPERATORS
        op = entity[1:] if ignore_case else entity
        if op not in OPERATORS:
            raise self.fail(f"unknown comparison operator &{entity};")
        self.pos += len(entity) + 2
        value = self.value()
        if value is None and op not in ("EQ", "NE"):
            raise self.fail(f"&NULL; can only be compared with &EQ; or &NE;, not &{op};", op_at)
        return Comparison(name, op, value, param, index, ignore_case, at)

    def value(self) -> str | None:
        if self.entity() == "NULL":
            self.pos += 6
            return None
        start = self.pos
        end = start
        text = self.text
        while end < len(text) and text[end] not in "&()":
            end += 1
        raw = text[start:end]
        bad = raw.find("%")
        while bad >= 0:
            if _HEX.match(raw, bad) is None:
                raise self.fail("'%' must start a %XX escape", start + bad)
            bad = raw.find("%", bad + 3)
        self.pos = end
        try:
            return unquote_to_bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail("a %XX-escaped value is not UTF-8", start) from None


def parse_cgi(text: str | bytes) -> Expression:
    """The tree of a ``syncml:filtertype-cgi`` expression (see the module's grammar); raises
    :class:`~syncml_codec.errors.FilterError` with the position of the first problem.

    >>> parse_cgi("&LUID;&EQ;42")
    Comparison(name='&LUID;', op='EQ', value='42', param=None, index=None, ignore_case=False)
    >>> parse_cgi("FN&EQ;a&OR;")
    Traceback (most recent call last):
    ...
    syncml_codec.errors.FilterError: property name expected, found end of expression (at position 11)
    """
    if isinstance(text, (bytes, bytearray, memoryview)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FilterError("the expression is not UTF-8", exc.start) from None
    if len(text) > MAX_LENGTH:
        raise FilterError(f"expression longer than {MAX_LENGTH} characters", MAX_LENGTH)
    stripped = text.strip()
    lead = len(text) - len(text.lstrip())
    parser = _Parser(stripped)
    if not stripped:
        raise FilterError("empty expression", 0)
    try:
        tree = parser.or_term(0)
        if parser.pos != len(stripped):
            found = stripped[parser.pos]
            what = "')' without '('" if found == ")" else (
                "&AND; or &OR; expected" if found == "&" else f"unexpected {found!r}")
            raise parser.fail(what)
    except FilterError as exc:
        raise FilterError(exc.reason, exc.position + lead) from None
    return _shifted(tree, lead) if lead else tree


def _shifted(expr: Expression, by: int) -> Expression:
    """The tree with every position moved by ``by`` (the blanks stripped before reading)."""
    if isinstance(expr, Comparison):
        return Comparison(expr.name, expr.op, expr.value, expr.param, expr.index, expr.ignore_case, expr.at + by)
    return type(expr)(tuple(_shifted(p, by) for p in expr.parts))


def _quote(value: str) -> str:
    return "".join(c if c in _SAFE else "".join(f"%{b:02X}" for b in c.encode("utf-8")) for c in value)


def to_cgi(expr: Expression) -> str:
    """The expression as ``syncml:filtertype-cgi`` text (values ``%XX``-escaped where needed,
    parentheses only where ``&OR;`` sits inside ``&AND;``)."""
    if isinstance(expr, Comparison):
        head = expr.name
        if expr.index is not None:
            head += f"[{expr.index}]"
        if expr.param is not None:
            head += "." + expr.param
        op = ("&i" if expr.ignore_case else "&") + expr.op + ";"
        return head + op + ("&NULL;" if expr.value is None else _quote(expr.value))
    if isinstance(expr, And):
        return "&AND;".join(f"({to_cgi(p)})" if isinstance(p, Or) else to_cgi(p) for p in expr.parts)
    return "&OR;".join(to_cgi(p) for p in expr.parts)
