"""The DevInf side of filtering: the ``Filter-Rx`` and ``FilterCap`` a server advertises for a
datastore, built from what this package can evaluate.

``Filter-Rx`` names ``syncml:filtertype-cgi`` 1.0, the one grammar read.  One ``FilterCap`` per
content type the datastore sends that the record filter understands: ``FilterKeyword`` are the
keywords evaluated (``SINCE``, ``BEFORE``: the date range, for calendars, mail and files), and
``PropName`` the properties worth filtering on (any property of a Versit item works; the list
is the usual ones, or the datastore's own CTCap properties when it has them).
"""

from __future__ import annotations

import dataclasses

from ..devinf import ContentType, DataStore, FilterCap, norm_type
from ._record import KEYWORDS

__all__ = ["FILTER_RX", "advertise_filters", "filter_caps"]

#: what ``Filter-Rx`` lists: the CGI grammar
FILTER_RX = ContentType("syncml:filtertype-cgi", "1.0")
_CONTACT = ("N", "FN", "ORG", "TEL", "EMAIL", "ADR", "CATEGORIES", "BDAY", "NOTE", "TITLE", "URL")
_CALENDAR = ("SUMMARY", "DTSTART", "DTEND", "DUE", "LOCATION", "CATEGORIES", "CLASS", "STATUS",
             "PRIORITY", "DESCRIPTION", "COMPLETED")
_MAIL = ("read", "replied", "forwarded", "flagged", "deleted", "received", "created", "modified",
         "size", "Subject", "From", "To", "Cc")
_FILE = ("name", "size", "created", "modified", "accessed", "cttype")
_PROPS: dict[str, tuple[tuple[str, ...], bool]] = {  # type -> (properties, dated)
    "text/x-vcard": (_CONTACT, False), "text/vcard": (_CONTACT, False),
    "text/x-vcalendar": (_CALENDAR, True), "text/calendar": (_CALENDAR, True),
    "text/x-vnote": (("SUMMARY", "BODY", "CATEGORIES"), False),
    "text/x-s4j-sifc": (_CONTACT, False), "text/x-s4j-sife": (_CALENDAR, True),
    "text/x-s4j-sift": (_CALENDAR, True), "text/x-s4j-sifn": (("SUMMARY", "BODY", "CATEGORIES"), False),
    "application/vnd.omads-email+xml": (_MAIL, True), "message/rfc822": (_MAIL, True),
    "application/vnd.omads-file+xml": (_FILE, True), "application/vnd.omads-folder+xml": (_FILE, True),
}


def filter_caps(datastore: DataStore) -> tuple[FilterCap, ...]:
    """One :class:`FilterCap` per content type ``datastore`` sends that filters apply to."""
    out = []
    seen = set()
    for ct in datastore.transmits:
        key = norm_type(ct.ct_type)
        if key not in _PROPS or (key, ct.ver_ct) in seen:
            continue
        seen.add((key, ct.ver_ct))
        names, dated = _PROPS[key]
        own = tuple(p.name for cap in datastore.ctcaps if norm_type(cap.ct_type) == key
                    for p in cap.properties if p.name.upper() not in ("BEGIN", "END", "VERSION"))
        out.append(FilterCap(ct.ct_type.strip(), ct.ver_ct, keywords=KEYWORDS if dated else (),
                             prop_names=tuple(dict.fromkeys(own)) or names))
    return tuple(out)


def advertise_filters(datastore: DataStore) -> DataStore:
    """``datastore`` with ``Filter-Rx`` and ``FilterCap`` set (DevInf 1.2; a 1.0/1.1 DevInf has
    no place for them)."""
    caps = filter_caps(datastore)
    if not caps:
        return datastore
    return dataclasses.replace(datastore, filter_rx=(FILTER_RX,), filter_caps=caps)
