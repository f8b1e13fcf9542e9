"""A client's SyncML 1.2 ``<Filter>`` in the session (issue 14 item 4), over
:mod:`syncml_codec.filters`.

Where it comes from: the Target of the client's Alert (package 1) and, per
OMA DS 1.2, the Target of its Sync (package 3; it then replaces the Alert's
for that datastore).  A filter that does not read is refused with the
:class:`~syncml_codec.errors.FilterError`'s status: 422 for bad content (a
CGI expression that does not parse, with its position in the log), 406 for a
record grammar other than ``syncml:filtertype-cgi``; the Alert (or the Sync)
then fails: a bad Alert filter leaves the datastore out of the session, a bad
Sync filter fails the Sync and its changes (each gets the same status and is
not carried out: the client keeps them for its next sync); other datastores
go on.

What it does (:meth:`._sync.DatastoreSync.outgoing`):

* EXCLUSIVE (the default): the client holds exactly the server items that
  pass.  Those that pass go out as usual (Add, Replace; a field filter
  reduces each); an item it holds that changed on the server and no longer
  passes is deleted *on the client* (a Delete; the server keeps it, unmapped,
  and sends it again once it passes); when the filter differs from the one of
  the device's last complete session (kept in the store per device and
  datastore, :meth:`Store.device_filter`), every item it holds that does not
  pass is deleted on it the same way, and those that entered the window are
  added (they are not mapped).  Items the client itself sent in this session
  stay (they are its own), except in a slow sync or refresh, where the window
  is enforced.  Tombstones go out as usual.
* INCLUSIVE: one-shot, in addition to the exclusive filter (a session whose
  only filter is INCLUSIVE keeps the window the device holds): the items that
  pass go out (Add when the client lacks them, Replace otherwise, e.g. a
  reduced item fetched whole by its ``&LUID;``), reduced by its own field
  filter only; it is not kept.
* No ``<Filter>`` in a session: unfiltered (the window is everything; what
  the client lacks is added).  A filter is read per session, as clients that
  filter (Funambol's) send it with every sync.

Items are tested as the store holds them (vCard 3.0, iCalendar 2.0, text),
their ``&LUID;`` being the client's LUID of the item when it has one;
floating times count as UTC.  An item the filter cannot read passes (a filter
never hides data because of a parser's limits).  Only a record filter reads
the items; a view whose items are costly to read whole (the Mail
datastores', :mod:`._mailds`) gives them as filters read them
(``filter_items``) and, for a field filter that sends a mail's header block
alone, gives just that (``get_item_part``).  A client's change of an item
it got through a field filter keeps what it never saw
(:func:`._items.merged_lost`), and a slow sync matches its items against the
reduced server items too (no duplicates).
"""

from __future__ import annotations

import logging
from typing import Any

from ..codec.codepages import SYNCML12
from ..codec.tree import Document
from ..codec.xml import parse_xml, write_xml
from ..errors import FilterError, SyncMLError
from ..filters import CGI, ItemFilter, property_data, to_cgi
from ..formats import parse
from ..model import Field, Filter, Item, Meta, Record
from ._wire import devinf_type

__all__ = ["canonical_filter", "filter_bytes", "item_filter", "parsed", "read_filter"]

log = logging.getLogger("syncml_codec.engine")

#: bytes; the largest ``<Filter>`` kept (the CGI grammar's own bound is 8192 characters)
MAX_FILTER_SIZE = 65536


def filter_bytes(element: Filter[Any]) -> bytes:
    """A ``<Filter>`` as the store keeps it (XML)."""
    return write_xml(Document(SYNCML12, element.to_element()))


def canonical_filter(parsed_filter: ItemFilter) -> Filter[Any]:
    """The ``<Filter>`` of ``parsed_filter`` written one way whatever way the
    client wrote it (XML or WBXML, CDATA or not, spaces, how the expression
    was spelt): so the same filter sent again is kept as the same bytes."""
    record = field = None
    if parsed_filter.record is not None:
        record = Record(item=Item(meta=Meta(type=CGI), data=to_cgi(parsed_filter.record.expression)))
    if parsed_filter.field is not None:
        props = tuple(property_data(p) for p in parsed_filter.field.properties.values())
        field = Field(item=Item(meta=Meta(type=devinf_type("xml")), data=props[0] if len(props) == 1 else props))
    return Filter(meta=Meta(type=parsed_filter.content_type) if parsed_filter.content_type else None,
                  record=record, field=field, filter_type="INCLUSIVE" if parsed_filter.inclusive else None)


def read_filter(element: Filter[Any]) -> tuple[ItemFilter, bytes]:
    """The filter of a ``<Filter>`` a client sent and its bytes to keep
    (:func:`canonical_filter`); :class:`FilterError` (with the status to
    answer) when it cannot be used."""
    parsed_filter = ItemFilter.from_model(element)
    data = filter_bytes(canonical_filter(parsed_filter))
    if len(data) > MAX_FILTER_SIZE:
        raise FilterError(f"a filter of {len(data)} bytes (at most {MAX_FILTER_SIZE})", status=422)
    return parsed_filter, data


def item_filter(data: bytes | None) -> ItemFilter | None:
    """The filter kept as ``data`` (None: none, or it no longer reads: logged,
    treated as unfiltered)."""
    if data is None:
        return None
    try:
        return ItemFilter.from_model(Filter.from_element(parse_xml(data).root))
    except (SyncMLError, ValueError) as exc:
        log.warning("a kept filter does not read any more (%s): taken as none", exc)
        return None


def parsed(data: bytes, content_type: str) -> Any:
    """A stored item parsed for a filter (None: it does not parse)."""
    try:
        return parse(data, content_type, lenient=True)
    except Exception:  # defence in depth: a filter never fails a session over one item
        return None
