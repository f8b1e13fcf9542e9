"""Record filters: a ``syncml:filtertype-cgi`` tree evaluated against one item.

What a name means in each format:

* vCard, vNote: the item's content lines of that name (group prefixes ignored); ``.PARAM`` the
  values of that parameter (``TEL.TYPE``; a 2.1 bare ``TEL;CELL`` counts as ``TYPE``); empty
  trailing components of a structured value do not count (``N:Doe;John;;;`` is ``Doe;John``).
* vCalendar 1.0 / iCalendar 2.0: the lines of the first VEVENT, VTODO or VJOURNAL, else of
  the VCALENDAR itself.
* SIF: read as the vCard or calendar it converts to.
* OMA DS email and RFC 822 mail: the flags ``read``, ``replied``, ``forwarded``, ``flagged``,
  ``deleted`` (``true``/``false``), the dates ``received``, ``created``, ``modified`` (an RFC
  822 mail's ``Date`` for all three), ``size`` (bytes of the message) and any header field
  (``Subject``, ``From``...).
* OMA DS file and folder: ``name``, ``size``, ``created``, ``modified``, ``accessed``,
  ``cttype``.
* ``&LUID;``: the id the caller gives.

A comparison holds when one occurrence satisfies it (``&NE;`` and ``&NCON;`` are the negations
of ``&EQ;`` and ``&CON;``: no occurrence equals / contains); an absent property satisfies only
``&NE;``, ``&NCON;`` and ``&EQ;&NULL;``.  ``&GT;``... compare as times when both sides are ISO
8601 dates, as numbers when both are numbers, else as text.

Filter keywords (``FilterKeyword`` in the DevInf we send): ``SINCE`` and ``BEFORE`` with
``&EQ;`` and an ISO 8601 time; the ones ANDed together form one :class:`~._dates.DateRange`
(an item with an occurrence in ``[SINCE, BEFORE)``), so a weekly event whose occurrences all
miss the range is left out even though it started before BEFORE and ends after SINCE.
"""

from __future__ import annotations

import email.policy
from collections.abc import Callable
from datetime import datetime, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from email.message import Message
from email.parser import BytesHeaderParser
from email.utils import parsedate_to_datetime
from typing import Any

from ..errors import FilterError
from ..formats import SIF_TYPES, RFC822Item
from ._cgi import LUID, And, Comparison, Expression, Or
from ._dates import DateRange, aware, parse_time

__all__ = ["KEYWORDS", "RecordFilter", "values_of"]

UTC = timezone.utc
#: the filter keywords we understand
KEYWORDS = ("SINCE", "BEFORE")
_FLAGS = ("READ", "REPLIED", "FORWARDED", "FLAGGED", "DELETED")
_DATES = ("RECEIVED", "CREATED", "MODIFIED", "ACCESSED")
_ITEM_PARTS = ("VEVENT", "VTODO", "VJOURNAL")
_SIF_AS = {"text/x-s4j-sifc": "text/vcard", "text/x-s4j-sife": "text/calendar",
           "text/x-s4j-sift": "text/calendar", "text/x-s4j-sifn": "text/x-vnote"}


def _basic(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") if value.tzinfo else value.strftime("%Y%m%dT%H%M%S")


def _versit_values(component: Any, name: str, param: str | None) -> list[str]:
    if component.name.upper() == "VCALENDAR":
        inner = next((c for c in component.components if c.name.upper() in _ITEM_PARTS), None)
        if inner is not None and inner.find(name) is not None:
            component = inner
    lines = component.find_all(name)
    if param is None:
        return [line.value.rstrip(";") for line in lines]  # N:Doe;John;;; is Doe;John
    return [v for line in lines for v in line.param(param)]


def _headers(raw: bytes) -> Message:
    """The header block of a mail (the body is not read)."""
    return BytesHeaderParser(policy=email.policy.default).parsebytes(raw)


def _mail_values(obj: Any, name: str, headers: Callable[[], Message | None]) -> list[str]:
    raw: bytes | None = obj.raw if isinstance(obj, RFC822Item) else getattr(obj, "emailitem", None)
    if name in _FLAGS:
        flag = getattr(obj, name.lower(), None)
        return [] if flag is None else ["true" if flag else "false"]
    if name == "SIZE":  # the whole message's: Funambol's size extension of a truncated object, else the bytes
        for xnam, xvals in getattr(obj, "ext", ()):
            if xnam.lower() == "x-funambol-size" and xvals and xvals[0].isdigit() and len(xvals[0]) <= 20:
                return [xvals[0]]
        return [] if raw is None else [str(len(raw))]
    message = headers()
    if name in _DATES:
        value = getattr(obj, name.lower(), None)
        if isinstance(value, datetime):
            return [_basic(value)]
        try:
            when = parsedate_to_datetime(str(message["Date"])) if message is not None and message["Date"] else None
        except (TypeError, ValueError):
            when = None
        return [_basic(when)] if when is not None else []
    return [] if message is None else [str(v) for v in message.get_all(name, [])]


def _object_values(obj: Any, name: str) -> list[str]:
    value = getattr(obj, name.lower(), None) if name in ("NAME", "SIZE", "CTTYPE", *_DATES) else None
    if value is None and name == "SIZE" and getattr(obj, "body", None) is not None:
        value = len(obj.body)
    if value is None:
        return []
    return [_basic(value) if isinstance(value, datetime) else str(value)]


class _View:
    """One item as the filters read it: SIF converted once, a mail's header block parsed once,
    each property looked up once."""

    def __init__(self, item: Any) -> None:
        content_type = getattr(item, "content_type", "")
        if content_type in SIF_TYPES:
            item = item.convert(_SIF_AS[content_type])
        self.item = item
        self._cache: dict[tuple[str, str | None], list[str]] = {}
        self._headers: list[Message | None] = []

    def headers(self) -> Message | None:
        if not self._headers:
            obj = getattr(self.item, "obj", self.item)
            raw = obj.raw if isinstance(obj, RFC822Item) else getattr(obj, "emailitem", None)
            self._headers.append(_headers(raw) if isinstance(raw, bytes) else None)
        return self._headers[0]

    def values(self, name: str, param: str | None) -> list[str]:
        key = (name.upper(), param.upper() if param is not None else None)
        if key not in self._cache:
            self._cache[key] = self._lookup(*key)
        return self._cache[key]

    def _lookup(self, name: str, param: str | None) -> list[str]:
        component = getattr(self.item, "component", None)
        if component is not None:
            return _versit_values(component, name, param)
        obj = getattr(self.item, "obj", self.item)
        if param is not None:
            return []
        if isinstance(obj, RFC822Item) or hasattr(obj, "emailitem"):
            return _mail_values(obj, name, self.headers)
        if hasattr(obj, "name") and hasattr(obj, "modified"):
            return _object_values(obj, name)
        return []


def values_of(item: Any, name: str, param: str | None = None) -> list[str]:
    """The values of property ``name`` (parameter ``param``) in ``item`` (any item of
    :func:`syncml_codec.formats.parse`), in order; ``[]`` when absent.

        >>> from syncml_codec.formats import parse
        >>> card = parse(b"BEGIN:VCARD\\r\\nVERSION:2.1\\r\\nTEL;CELL:1\\r\\nTEL;HOME:2\\r\\nEND:VCARD\\r\\n")
        >>> values_of(card, "TEL"), values_of(card, "TEL", "TYPE")
        (['1', '2'], ['CELL', 'HOME'])
    """
    return _View(item).values(name, param)


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _ordered(left: str, right: str, ignore_case: bool, floating: tzinfo) -> int:
    """-1, 0, 1: ``left`` against ``right`` as times, numbers or text."""
    lt, rt = parse_time(left, floating), parse_time(right, floating)
    a: Any
    b: Any
    if lt is not None and rt is not None:
        a, b = lt, rt
    else:
        ln, rn = _number(left), _number(right)
        if ln is not None and rn is not None:
            a, b = ln, rn
        elif ignore_case:
            a, b = left.casefold(), right.casefold()
        else:
            a, b = left, right
    return int(a > b) - int(a < b)


_ORDER_OPS: dict[str, Callable[[int], bool]] = {
    "GT": lambda c: c > 0, "GE": lambda c: c >= 0, "LT": lambda c: c < 0, "LE": lambda c: c <= 0}


def _holds(term: Comparison, values: list[str], floating: tzinfo) -> bool:
    if term.index is not None:
        values = values[term.index - 1:term.index]
    if term.value is None:
        empty = not any(v.strip() for v in values)
        return empty if term.op == "EQ" else not empty
    want = term.value
    def fold(text: str) -> str:
        return text.casefold() if term.ignore_case else text

    if term.op in ("EQ", "NE"):
        equal = any(_ordered(v, want, term.ignore_case, floating) == 0 for v in values)
        return equal if term.op == "EQ" else not equal
    if term.op in ("CON", "NCON"):
        found = any(fold(want) in fold(v) for v in values)
        return found if term.op == "CON" else not found
    test = _ORDER_OPS[term.op]
    return any(test(_ordered(v, want, term.ignore_case, floating)) for v in values)


def _keyword_time(term: Comparison) -> datetime:
    if term.op != "EQ" or term.value is None or term.index is not None or term.param is not None:
        raise FilterError(f"the keyword {term.name} takes &EQ; and a time", term.at)
    when = parse_time(term.value)
    if when is None:
        raise FilterError(f"{term.name}: {term.value[:40]!r} is not an ISO 8601 time", term.at)
    return when


class RecordFilter:
    """A parsed record filter, ready to test items: ``RecordFilter(tree).matches(item, luid)``.
    Keyword terms are checked when the filter is made (a bad time is a
    :class:`~syncml_codec.errors.FilterError`).  ``floating`` is the zone of floating times."""

    def __init__(self, expression: Expression, *, floating: tzinfo = UTC) -> None:
        self.expression = expression
        self.floating = floating
        self._ranges: dict[int, DateRange] = {}
        self._prepare(expression)

    def _prepare(self, expr: Expression) -> None:
        if isinstance(expr, Comparison):
            if expr.name.upper() in KEYWORDS:
                self._range_of((expr,))
            return
        if isinstance(expr, And):
            keywords = tuple(p for p in expr.parts if isinstance(p, Comparison) and p.name.upper() in KEYWORDS)
            if keywords:
                self._ranges[id(expr)] = self._range_of(keywords)
        for part in expr.parts:
            self._prepare(part)

    def _range_of(self, terms: tuple[Comparison, ...]) -> DateRange:
        start = end = None
        for term in terms:
            when = _keyword_time(term)
            if term.name.upper() == "SINCE":
                start = when if start is None else max(start, when)
            else:
                end = when if end is None else min(end, when)
        return DateRange(start, end, self.floating)

    def matches(self, item: Any, luid: str | None = None) -> bool:
        """True when ``item`` (a parsed item) passes the filter; ``luid`` is its id for
        ``&LUID;`` terms (no id: those terms never hold)."""
        return self._eval(self.expression, _View(item), luid)

    def _eval(self, expr: Expression, item: _View, luid: str | None) -> bool:
        if isinstance(expr, Or):
            return any(self._eval(p, item, luid) for p in expr.parts)
        if isinstance(expr, And):
            window = self._ranges.get(id(expr))
            if window is not None and not window.matches(item.item):
                return False
            return all(self._eval(p, item, luid) for p in expr.parts
                       if not (window is not None and isinstance(p, Comparison) and p.name.upper() in KEYWORDS))
        if expr.name.upper() in KEYWORDS:
            return self._range_of((expr,)).matches(item.item)
        values = item.values(expr.name, expr.param) if expr.name != LUID else [luid] if luid else []
        return _holds(expr, values, self.floating)


def instant_text(value: datetime, floating: tzinfo = UTC) -> str:
    """A time as the filters write it: ISO 8601 basic, UTC (``20240131T120000Z``)."""
    return _basic(aware(value, floating))
