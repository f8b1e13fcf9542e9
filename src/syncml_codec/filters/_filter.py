"""The SyncML 1.2 ``<Filter>`` of a sync target as one object (:class:`ItemFilter`), the
IceWarp-style mail filters built on it (:class:`MailFilter`), and what a filter change does to
the client's items (:func:`plan_filter_change`).

A ``<Filter>`` has a ``<Meta><Type>`` (the content type it applies to), an optional
``<Record>`` (an item whose ``Meta/Type`` names the grammar: only ``syncml:filtertype-cgi`` is
understood, anything else is a 406) and an optional ``<Field>`` (an item whose data are DevInf
``<Property>`` elements), and ``FilterType`` INCLUSIVE or EXCLUSIVE (the default).  EXCLUSIVE:
the client holds exactly the items that pass; items leaving the filter window are deleted on
the client, never on the server.  INCLUSIVE: the items that pass are sent in addition to what
the client holds (how a client fetches one truncated mail whole: ``&LUID;&EQ;id`` with a
``<Field>`` asking for body and attachments).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

from ..codec.codepages import DEVINF12
from ..codec.tree import Document, Element
from ..devinf import Property, PropParam
from ..errors import FilterError
from ..model import Field, Filter, Item, Meta, Record
from ._cgi import And, Comparison, Expression, parse_cgi, to_cgi
from ._dates import parse_time
from ._field import FieldFilter, Reduced
from ._record import RecordFilter, instant_text

__all__ = ["CGI", "FilterChange", "ItemFilter", "MailFilter", "fetch_filter", "plan_filter_change", "property_data"]

UTC = timezone.utc
#: the record filter grammar we read
CGI = "syncml:filtertype-cgi"
FIELD_TYPE = "application/vnd.syncml-devinf+xml"
#: the most ``<Property>`` elements read from one ``<Field>``
MAX_FIELD_PROPERTIES = 256


def _data_text(data: Any) -> str:
    if isinstance(data, (bytes, bytearray, memoryview)):
        try:
            return bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FilterError("the record filter is not UTF-8", exc.start) from None
    if isinstance(data, str):
        return str(data)
    raise FilterError("the record filter holds no text", status=422)


def property_data(prop: Property) -> Document:
    """A ``<Property>`` as a ``<Field>``'s data carries it: a DevInf 1.2 document (inline
    in XML with the DevInf namespace, a code-page switch in WBXML, which has no SyncML
    token for ``<Property>``)."""
    return Document(DEVINF12, prop.to_element())


def _properties(data: Any) -> list[Property]:
    elements = data if isinstance(data, tuple) else (data,)
    out: list[Property] = []
    for element in elements:
        if isinstance(element, Document):  # (how WBXML, and DevInf-namespaced XML, bring it)
            element = element.root
        if isinstance(element, str) and not element.strip():
            continue
        if not isinstance(element, Element) or element.tag != "Property":
            raise FilterError("a field filter holds DevInf <Property> elements", status=422)
        if len(out) >= MAX_FIELD_PROPERTIES:
            raise FilterError(f"more than {MAX_FIELD_PROPERTIES} properties in a field filter", status=422)
        try:
            out.append(Property.from_element(element))
        except ValueError as exc:
            raise FilterError(f"a field filter property does not read: {exc}", status=422) from None
    return out


@dataclass(frozen=True)
class ItemFilter:
    """A ``<Filter>`` ready to use: ``record`` (None: every item passes), ``field`` (None:
    items go whole), ``inclusive`` and the ``content_type`` it was given for.

        >>> f = ItemFilter.from_cgi("N&iCON;doe")
        >>> from syncml_codec.formats import parse
        >>> f.matches(parse(b"BEGIN:VCARD\\r\\nVERSION:2.1\\r\\nN:Doe;Jo\\r\\nEND:VCARD\\r\\n"))
        True
    """

    record: RecordFilter | None = None
    field: FieldFilter | None = None
    inclusive: bool = False
    content_type: str | None = None

    @classmethod
    def from_cgi(cls, expression: str | bytes | None, properties: Iterable[Property] = (), *,
                 inclusive: bool = False, floating: tzinfo = UTC) -> ItemFilter:
        """A filter from an expression and a property list."""
        props = list(properties)
        return cls(None if expression is None else RecordFilter(parse_cgi(expression), floating=floating),
                   FieldFilter(props) if props else None, inclusive)

    @classmethod
    def from_model(cls, element: Filter[Any], *, floating: tzinfo = UTC) -> ItemFilter:
        """The filter of a ``<Filter>`` read from a message; :class:`FilterError` (422 for bad
        content, 406 for a grammar we do not know) when it cannot be used."""
        kind = (element.filter_type or "EXCLUSIVE").strip().upper()
        if kind not in ("INCLUSIVE", "EXCLUSIVE"):
            raise FilterError(f"unknown FilterType {kind[:20]!r}", status=422)
        content_type = element.meta.type.strip() if element.meta and element.meta.type else None
        record = None
        if element.record is not None:
            item = element.record.item
            grammar = (item.meta.type or "").strip().lower() if item.meta else ""
            if grammar != CGI:
                raise FilterError(f"record filter grammar {grammar[:40]!r} is not supported", status=406)
            record = RecordFilter(parse_cgi(_data_text(item.data)), floating=floating)
        field = None
        if element.field is not None:
            field = FieldFilter(_properties(element.field.item.data))
        return cls(record, field, kind == "INCLUSIVE", content_type)

    def matches(self, item: Any, luid: str | None = None) -> bool:
        """True when the record part lets ``item`` through."""
        return self.record is None or self.record.matches(item, luid)

    def apply(self, item: Any, luid: str | None = None) -> Reduced | None:
        """None when ``item`` does not pass, else the item as it is to be sent."""
        if not self.matches(item, luid):
            return None
        return self.field.apply(item) if self.field is not None else Reduced(item, False)


@dataclass(frozen=True)
class MailFilter:
    """IceWarp's mail filters as a SyncML filter: ``headers_only`` (the body is fetched later),
    ``days`` (messages received in the last N days, counted back from ``now``), ``max_size``
    (messages up to N bytes; bigger ones are not sent).

        >>> now = datetime(2024, 3, 10, 12, tzinfo=UTC)
        >>> f = MailFilter(headers_only=True, days=7, max_size=50_000)
        >>> to_cgi(f.expression(now))
        'received&GE;20240303T120000Z&AND;size&LE;50000'
        >>> MailFilter.from_filter(f.to_filter(now), now) == f
        True
    """

    headers_only: bool = False
    days: int | None = None
    max_size: int | None = None

    def expression(self, now: datetime) -> Expression | None:
        """The record part, or None when nothing limits the records."""
        terms = []
        if self.days is not None:
            terms.append(Comparison("received", "GE", instant_text(now - timedelta(days=self.days))))
        if self.max_size is not None:
            terms.append(Comparison("size", "LE", str(self.max_size)))
        if not terms:
            return None
        return terms[0] if len(terms) == 1 else And(tuple(terms))

    def to_filter(self, now: datetime, content_type: str = "application/vnd.omads-email+xml") -> Filter[Any]:
        """The ``<Filter>`` element (to send, or to keep as a device's setting)."""
        expr = self.expression(now)
        record = None if expr is None else Record(
            item=Item(meta=Meta(type=CGI), data=to_cgi(expr)))
        field = None
        if self.headers_only:
            prop = Property("emailitem")
            field = Field(item=Item(meta=Meta(type=FIELD_TYPE), data=property_data(prop)))
        return Filter(meta=Meta(type=content_type), record=record, field=field)

    @classmethod
    def from_filter(cls, element: Filter[Any], now: datetime) -> MailFilter:
        """The mail filter a ``<Filter>`` expresses (the reverse of :meth:`to_filter`; other
        terms are not part of a MailFilter and are ignored here)."""
        days = max_size = None
        headers_only = False
        item_filter = ItemFilter.from_model(element)
        if item_filter.record is not None:
            expr = item_filter.record.expression
            for term in expr.parts if isinstance(expr, And) else (expr,):
                if isinstance(term, Comparison) and term.value is not None:
                    name = term.name.upper()
                    if name in ("RECEIVED", "MODIFIED") and term.op == "GE":
                        when = parse_time(term.value)
                        if when is not None:
                            days = max(0, round((now - when) / timedelta(days=1)))
                    elif name == "SIZE" and term.op == "LE" and term.value.isdigit():
                        max_size = int(term.value)
        if item_filter.field is not None:
            spec = item_filter.field.properties.get("EMAILITEM")
            headers_only = spec is not None and not any(
                p.name.lower() == "texttype" for p in spec.params)
        return cls(headers_only, days, max_size)

    def item_filter(self, now: datetime) -> ItemFilter:
        """The :class:`ItemFilter` to apply."""
        return ItemFilter.from_model(self.to_filter(now))


def fetch_filter(luid: str, content_type: str = "application/vnd.omads-email+xml") -> Filter[Any]:
    """The INCLUSIVE ``<Filter>`` a client sends to get one truncated mail whole."""
    prop = Property("emailitem", params=(PropParam("texttype"), PropParam("attachtype")))
    return Filter(meta=Meta(type=content_type), filter_type="INCLUSIVE",
                  record=Record(item=Item(meta=Meta(type=CGI), data=to_cgi(Comparison("&LUID;", "EQ", luid)))),
                  field=Field(item=Item(meta=Meta(type=FIELD_TYPE), data=property_data(prop))))


@dataclass(frozen=True)
class FilterChange:
    """What a new filter means for the client: server items to ``add`` there, client items to
    ``remove`` there (never from the server)."""

    add: tuple[str, ...]
    remove: tuple[str, ...]


def plan_filter_change(items: Mapping[str, Any], on_client: Iterable[str], new: ItemFilter) -> FilterChange:
    """``items`` are the server's items by id, ``on_client`` the ids the client holds.  EXCLUSIVE:
    add what passes and is missing, remove what the client holds and no longer passes (or that
    the server no longer has: that is an ordinary delete, not the filter's); INCLUSIVE: add
    only."""
    held = set(on_client)
    add = tuple(i for i, item in items.items() if i not in held and new.matches(item, i))
    remove = () if new.inclusive else tuple(
        i for i in sorted(held) if i in items and not new.matches(items[i], i))
    return FilterChange(add, remove)
