"""SyncML 1.2 filters (``<Filter>``): which items a client gets and how much of each.

Pure functions over the message model, the DevInf model and the parsed items of
:mod:`syncml_codec.formats`; the engine decides when to apply them.  Why a package of its own
and not ``engine/_filters.py``: filtering is about items and DevInf, not about the protocol's
state, and both sides need it (the server applies filters, a client builds them, ``syncml``
tools can test them), so it sits below the engine and above ``formats``/``devinf``/``model``.

* the ``syncml:filtertype-cgi`` grammar: :func:`parse_cgi` / :func:`to_cgi` over a tree of
  :class:`Comparison`, :class:`And`, :class:`Or`; a bad expression is a
  :class:`~syncml_codec.errors.FilterError` with its position (status 422);
* record filters evaluated against vCard, vCalendar/iCalendar, vNote, SIF, email and file
  items: :class:`RecordFilter`, :func:`values_of`;
* a date range for calendars (recurring events count when an occurrence falls in the range):
  :class:`DateRange`, also as the ``SINCE``/``BEFORE`` filter keywords;
* field filters (the item reduced to the properties asked for; mail: headers only, text,
  attachments, a byte cap): :class:`FieldFilter`, :func:`reduce_message`;
* a whole ``<Filter>``: :class:`ItemFilter` (``from_model``), IceWarp's mail filters
  :class:`MailFilter`, the fetch of a truncated mail :func:`fetch_filter`, and what a filter
  change means for the client :func:`plan_filter_change`;
* DevInf ``Filter-Rx``/``FilterCap``: :func:`filter_caps`, :func:`advertise_filters`.

    >>> from syncml_codec.formats import parse
    >>> f = ItemFilter.from_cgi("TEL.TYPE&iEQ;cell&AND;N&iCON;doe")
    >>> f.matches(parse(b"BEGIN:VCARD\\r\\nVERSION:2.1\\r\\nN:Doe;Jo\\r\\nTEL;CELL:1\\r\\nEND:VCARD\\r\\n"))
    True
"""

from ..errors import FilterError
from ._caps import FILTER_RX, advertise_filters, filter_caps
from ._cgi import MAX_DEPTH, MAX_LENGTH, MAX_TERMS, OPERATORS, And, Comparison, Expression, Or, parse_cgi, to_cgi
from ._dates import MAX_OCCURRENCES, DateRange, parse_time
from ._field import SIZE_EXT, FieldFilter, Reduced, mail_part, reduce_message, truncation
from ._filter import CGI, FilterChange, ItemFilter, MailFilter, fetch_filter, plan_filter_change, property_data
from ._record import KEYWORDS, RecordFilter, values_of

__all__ = [
    "CGI",
    "FILTER_RX",
    "KEYWORDS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_OCCURRENCES",
    "MAX_TERMS",
    "OPERATORS",
    "SIZE_EXT",
    "And",
    "Comparison",
    "DateRange",
    "Expression",
    "FieldFilter",
    "FilterChange",
    "FilterError",
    "ItemFilter",
    "MailFilter",
    "Or",
    "RecordFilter",
    "Reduced",
    "advertise_filters",
    "fetch_filter",
    "filter_caps",
    "mail_part",
    "parse_cgi",
    "parse_time",
    "plan_filter_change",
    "property_data",
    "reduce_message",
    "to_cgi",
    "truncation",
    "values_of",
]
