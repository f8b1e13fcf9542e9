"""Journal entries between the calendar and the note formats (issue 14:
the ``Journal`` datastore serves clients that keep journals as iCalendar /
vCalendar ``VJOURNAL`` and clients that only know notes: vNote, SIF-N,
plain text).

The fields both sides have (vNote 1.1, iCalendar ``VJOURNAL``):

=================  =================
VJOURNAL           vNote
=================  =================
SUMMARY            SUMMARY
DESCRIPTION        BODY
CLASS              CLASS
CREATED            DCREATED
LAST-MODIFIED      LAST-MODIFIED
=================  =================

Everything else of a journal entry (DTSTART, UID, CATEGORIES, ATTENDEE...)
has no place in a note and is left out; a note becomes a calendar with one
``VJOURNAL`` holding these fields.  The values go through the Versit layer's
text accessors (``value`` / ``set_text``), so escaping and the legacy
formats' quoted-printable are each format's own.  SIF-N and plain text go
through vNote (their own conversions).  A calendar without a ``VJOURNAL``
(an event, a task) is no note: :class:`UnsupportedFormatError`.
"""

from __future__ import annotations

from typing import Any

from ..errors import UnsupportedFormatError
from ._items import ICALENDAR_20, TEXT_PLAIN, VCALENDAR_10, VNOTE, VersitItem
from ._table import Item
from .sif import SIFN
from .versit import Component, ContentLine, parse_items

__all__ = ["JOURNAL_CONVERSIONS"]

#: (VJOURNAL property, vNote property)
_FIELDS = (("SUMMARY", "SUMMARY"), ("DESCRIPTION", "BODY"), ("CLASS", "CLASS"), ("CREATED", "DCREATED"),
           ("LAST-MODIFIED", "LAST-MODIFIED"))


def _journal(item: VersitItem, target: str) -> Component:
    found = next((c for c in item.component.components if c.name.upper() == "VJOURNAL"), None)
    if found is None:
        raise UnsupportedFormatError(f"conversion {item.content_type} -> a note is for journal entries only: "
                                     "this item has no VJOURNAL", target)
    return found


def _filled_in(component: Component, values: dict[str, str], keep_empty: frozenset[str] = frozenset()) -> None:
    """Set ``component``'s properties named in ``values`` to their text;
    remove those without one (but those in ``keep_empty``)."""
    keep: list[Any] = []
    for child in component.children:
        if isinstance(child, ContentLine) and child.name.upper() in values:
            text = values[child.name.upper()]
            if not text and child.name.upper() not in keep_empty:
                continue
            if text:
                child.set_text(text)
        keep.append(child)
    component.children = keep


def journal_to_vnote(item: VersitItem, target: str) -> VersitItem:
    """A ``VJOURNAL`` of an iCalendar 2.0 / vCalendar 1.0 item as a vNote 1.1."""
    journal = _journal(item, target)
    values = {note: (line.value if (line := journal.find(cal)) is not None else "") for cal, note in _FIELDS}
    template = ("BEGIN:VNOTE\r\nVERSION:1.1\r\n" + "".join(f"{n}:\r\n" for _, n in _FIELDS)
                + "END:VNOTE\r\n").encode()
    (note,) = parse_items(template)
    _filled_in(note, values, frozenset({"BODY"}))  # (a vNote has a BODY, empty when the journal has no DESCRIPTION)
    return VersitItem.from_bytes(note.serialize(), VNOTE)


def vnote_to_journal(item: VersitItem, target: str) -> VersitItem:
    """A vNote as an iCalendar 2.0 / vCalendar 1.0 item with one ``VJOURNAL``."""
    note = item.component
    values = {cal: (line.value if (line := note.find(name)) is not None else "") for cal, name in _FIELDS}
    version = "2.0" if target == ICALENDAR_20 else "1.0"
    template = (f"BEGIN:VCALENDAR\r\nVERSION:{version}\r\nPRODID:-//syncml-codec//journal//EN\r\n"
                "BEGIN:VJOURNAL\r\n" + "".join(f"{c}:\r\n" for c, _ in _FIELDS)
                + "END:VJOURNAL\r\nEND:VCALENDAR\r\n").encode()
    (top,) = parse_items(template)
    (journal,) = top.components
    _filled_in(journal, values)
    return VersitItem.from_bytes(top.serialize(), target)


def _via_vnote(item: VersitItem, target: str) -> Item:
    _journal(item, target)
    return journal_to_vnote(item, VNOTE).convert(target)


def _from_vnote(item: Any, target: str) -> Item:
    note = item.convert(VNOTE)
    assert isinstance(note, VersitItem)
    return vnote_to_journal(note, target)


_CALENDARS = (ICALENDAR_20, VCALENDAR_10)
_OTHER_NOTES = (SIFN, TEXT_PLAIN)
#: (source, target, conversion) of the journal conversions, for the registry
JOURNAL_CONVERSIONS: list[tuple[str, str, Any]] = [
    *[(cal, VNOTE, journal_to_vnote) for cal in _CALENDARS],
    *[(VNOTE, cal, vnote_to_journal) for cal in _CALENDARS],
    *[(cal, note, _via_vnote) for cal in _CALENDARS for note in _OTHER_NOTES],
    *[(note, cal, _from_vnote) for cal in _CALENDARS for note in _OTHER_NOTES],
]
