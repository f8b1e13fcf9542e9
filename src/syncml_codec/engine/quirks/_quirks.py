"""The behaviours in force for one device (:class:`Quirks`), and where the
engine asks for each: the only place a device's identity changes what the
server does.

Hook points in the engine (one call each):

* ``server.ServerSession._change``: :meth:`Quirks.to_store` on each item
  the device sends, before the datastore converts and keeps it;
* ``_outgoing.command_for``: :meth:`Quirks.to_device` on each item sent,
  after conversion to the device's type, and :meth:`Quirks.transfer_encoding`
  when the device has not shown an encoding of its own;
* ``server.ServerSession._on_sync``: :meth:`Quirks.item_status` decides
  whether a per-item Status is sent;
* ``server.ServerSession._on_alert``: :meth:`Quirks.store_for` gives the
  datastore its view of the store (``tasks-in-calendar``: the calendar
  sees Events and Tasks, see :mod:`._calendar`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ...devinf import DevInf, norm_type
from ...store.base import Store, canonical_datastore
from ._calendar import calendar_view
from ._rules import BEHAVIOURS, RULES, Rule
from ._transforms import IN, OUT, Transform

__all__ = ["NO_QUIRKS", "Quirks", "quirks_for"]

log = logging.getLogger("syncml_codec.engine")

_SIF_DEFAULTS = {"Contacts": "text/x-s4j-sifc", "Events": "text/x-s4j-sife", "Tasks": "text/x-s4j-sift",
                 "Notes": "text/x-s4j-sifn"}
_VERSIT = ("text/x-vcard", "text/vcard", "text/directory", "text/x-vcalendar", "text/calendar")
_ITEM_TYPES = (*_VERSIT, "text/plain", "text/x-vnote")


@dataclass(frozen=True, slots=True)
class Quirks:
    """The named behaviours in force for a device, each with the rule that
    switched it on (``behaviours``: behaviour -> rule name)."""

    behaviours: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    rules: tuple[Rule, ...] = ()
    by_device_id: bool = False  # found by the device id: the device sent no DevInf

    def __bool__(self) -> bool:
        return bool(self.behaviours)

    def __contains__(self, behaviour: object) -> bool:
        return behaviour in self.behaviours

    def why(self, behaviour: str) -> str | None:
        """The rule that switched ``behaviour`` on (None: not in force)."""
        return self.behaviours.get(behaviour)

    # -- the behaviours, each applied here and only here -----------------
    def to_store(self, data: bytes, content_type: str | None) -> bytes:
        """An item from the device, as the store should read it."""
        if not self.behaviours or not _is_text_item(content_type, data):
            return data
        return self._apply(IN, data, "from the device")

    def to_device(self, data: bytes, content_type: str) -> bytes:
        """An item for the device (already in its type), as the device
        should read it (before any transfer encoding)."""
        if not self.behaviours or not _is_text_item(content_type, data):
            return data
        return self._apply(OUT, data, "for the device")

    def transfer_encoding(self, content_type: str, data: bytes) -> str:
        """``"b64"`` when the device must get this item base64-encoded
        (``sif-b64``: SIF, and any data XML could carry only as CDATA, which
        these clients cannot parse), else ``""``.  A device's own remembered
        encoding (the one it sends) comes first: see ``_outgoing.command_for``."""
        if "sif-b64" in self.behaviours and (norm_type(content_type).startswith("text/x-s4j-")
                                             or not _is_utf8(data)):
            return "b64"
        return ""

    def _apply(self, transforms: Mapping[str, Transform], data: bytes, way: str) -> bytes:
        """``data`` through the transforms in force.  Never raises: a
        transform that fails (hostile input) is logged and skipped, as the
        converters' poison items are (issue 9)."""
        for behaviour, transform in transforms.items():
            if behaviour in self.behaviours:
                try:
                    data = transform(data)
                except Exception as exc:
                    log.warning("quirk %s (rule %s) %s failed (%s); item passed unchanged", behaviour,
                                self.behaviours[behaviour], way, type(exc).__name__)
        return data

    def item_status(self, code: int) -> bool:
        """Whether the per-item Status with ``code`` is sent to the device."""
        return not ("omit-item-statuses" in self.behaviours and 200 <= int(code) < 300)

    def default_type(self, canonical: str) -> str | None:
        """The type to send when neither the DevInf nor the device's own
        items tell (sync4j/Funambol clients without DevInf speak SIF)."""
        return _SIF_DEFAULTS.get(canonical) if self.by_device_id and "sif-b64" in self.behaviours else None

    def store_for(self, store: Store, canonical: str) -> Store:
        """The store as the device's ``canonical`` datastore sees it (its
        calendar also holds the account's tasks: ``tasks-in-calendar``)."""
        if canonical == "Events" and "tasks-in-calendar" in self.behaviours:
            return calendar_view(store)
        return store

    def capabilities(self) -> list[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]]]:
        """``(rule name, capability rows)`` of the rules that say what the
        device holds (most specific first; :attr:`.Rule.capabilities`)."""
        return [(r.name, r.capabilities) for r in reversed(self.rules) if r.capabilities]

    def table(self) -> list[tuple[str, str, str, str]]:
        """``(behaviour, what it does, rule, source)`` rows, in rule order."""
        by_name = {r.name: r for r in self.rules}
        return [(b, BEHAVIOURS[b], rule, by_name[rule].source) for b, rule in self.behaviours.items()]


#: the quirks of a device no rule matches: none
NO_QUIRKS = Quirks()


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _is_text_item(content_type: str | None, data: bytes) -> bool:
    ctype = norm_type(content_type or "")
    if ctype in _ITEM_TYPES:
        return True
    head = data.lstrip()[:16].upper()
    return not ctype.startswith("text/x-s4j-") and head.startswith(b"BEGIN:")


def _values(devinf: DevInf | None) -> dict[str, str] | None:
    if devinf is None:
        return None
    return {name: (getattr(devinf, name) or "").strip() for name in ("man", "mod", "swv", "fwv", "hwv")}


def quirks_for(devinf: DevInf | None, device_id: str, rules: tuple[Rule, ...] = RULES) -> Quirks:
    """The behaviours in force for a device: by its DevInf when there is
    one, else by its device id (sync4j/Funambol prefixes).

    >>> from syncml_codec.devinf import DevInf
    >>> q = quirks_for(DevInf(dev_id="IMEI:1", man="Sony Ericsson", mod="P900"), "IMEI:1")
    >>> sorted(q.behaviours.items())[:2]
    [('alarms-absolute-utc', 'sony-ericsson'), ('all-day-as-midnight-span', 'sony-ericsson-p800-p900')]
    >>> quirks_for(None, "sc-pim-outlook").why("sif-b64")
    'sync4j-funambol'
    """
    values = _values(devinf)
    key = tuple(sorted(values.items())) if values is not None else None
    quirks = _cached(key, device_id if values is None else "", rules)
    if "tasks-in-calendar" in quirks and devinf is not None and any(
            canonical_datastore(ds.source_ref) == "Tasks" for ds in devinf.datastores):
        # the device has a datastore of its own for tasks: its calendar holds none
        kept = {b: r for b, r in quirks.behaviours.items() if b != "tasks-in-calendar"}
        quirks = Quirks(MappingProxyType(kept), quirks.rules, quirks.by_device_id) if kept else NO_QUIRKS
    return quirks


@functools.lru_cache(maxsize=256)
def _cached(key: tuple[tuple[str, str], ...] | None, device_id: str, rules: tuple[Rule, ...]) -> Quirks:
    values = dict(key) if key is not None else None
    behaviours: dict[str, str] = {}
    used: list[Rule] = []
    for rule in rules:
        if rule.matches(values, device_id):
            used.append(rule)
            for behaviour in rule.behaviours:
                behaviours[behaviour] = rule.name  # the most specific (last) rule is named
    return Quirks(MappingProxyType(behaviours), tuple(used), values is None) if used else NO_QUIRKS
