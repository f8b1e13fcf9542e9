"""The item format a sync URL asks for (``format=sif|vob|get``, issue 13)
and the automatic switch when the client does not take it.

* ``format=sif`` sends Funambol SIF: SIF-C (contacts), SIF-E (events),
  SIF-T (tasks), SIF-N (notes).  Journals have no SIF: they are sent as
  without the parameter.
* ``format=vob`` sends Versit objects: vCard, vCalendar 1.0 or iCalendar
  2.0, vNote (iCalendar for journals).  Which of them: the first the
  client's DevInf lists, else the one it sends (or was switched to), else
  vCard 2.1, vCalendar 1.0 and vNote 1.1, which every Versit client reads.
* ``format=get`` asks the client for its DevInf (a Get in package 2, also
  when the store keeps one from an earlier session) and sends what that
  DevInf prefers among what we can produce: the negotiation of
  :func:`._devinf.type_for_client`, nothing forced.

The forced type goes before the one negotiated from DevInf, which goes
before the one the device sends (:meth:`._sync.DatastoreSync.for_client`).

The switch.  A client may not take the forced family: its DevInf lists no
type of it for the datastore, or it answers an item of it with Status 415
(unsupported media type).  Then the datastore is switched to a type the
client does take: the first its DevInf lists that we can send (none
refused), else the type it sends, else the other family's; the switch is
logged at INFO and remembered for the device, so that its later sessions
with the same parameter start in the type it takes instead of being refused
again: a DevInf switch by the DevInf the store keeps for the device (read
again in every session, so a client that adds the format to its DevInf
gets it), a 415 switch as ``DeviceFormat.accepts`` in the store (``takes``
in ``syncml device show``), which goes before a DevInf that lists the
refused type.  ``format=get`` ignores a remembered 415 switch: the DevInf
decides.  After a 415 the
refused items go out again in the new type: in this session when package 4
is still being sent, else in the next session (they stay pending, as any
refused change).  Every refused type is kept for the session, so a client
refusing everything ends the switching after the few types there are: the
items then go as stored.

:func:`choose` is the decision, a pure function; :func:`apply_format` and
:func:`refused` carry it out on a datastore of the session.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..devinf import DevInf
from ._devinf import server_datastore
from ._items import ICAL, SIFC, SIFE, SIFN, SIFT, VCAL, VCARD21, VCARD30, VNOTE
from ._sync import DatastoreSync
from ._util import log_quoted

__all__ = ["FORCED", "Choice", "apply_format", "choose", "client_receives", "family", "refused"]

log = logging.getLogger("syncml_codec.engine")

#: the formats the URL can force (``get`` forces nothing: it asks)
FORCED = ("sif", "vob")
#: per datastore, the types of each family we send, the default first
_TYPES: dict[str, dict[str, tuple[str, ...]]] = {
    "sif": {"Contacts": (SIFC,), "Events": (SIFE,), "Tasks": (SIFT,), "Notes": (SIFN,)},
    "vob": {"Contacts": (VCARD21, VCARD30), "Events": (VCAL, ICAL), "Tasks": (VCAL, ICAL), "Notes": (VNOTE,),
            "Journal": (ICAL,)},
}


def family(ctype: str | None) -> str | None:
    """``"sif"``, ``"vob"`` or None (text/plain, unknown) for a content type.

    >>> family("text/x-s4j-sifc"), family("TEXT/X-VCARD"), family("text/plain")
    ('sif', 'vob', None)
    """
    t = (ctype or "").strip().lower()
    if t.startswith("text/x-s4j-"):
        return "sif"
    return "vob" if any(t in types for types in _TYPES["vob"].values()) else None


@dataclass(frozen=True, slots=True)
class Choice:
    """The type to send (None: nothing forced, the type is chosen as without
    the parameter) and why: ``forced`` (the URL's family), ``remembered``
    (the device was switched away from it before), ``devinf`` (its DevInf
    lists none of the family), ``refused`` (it refused the family with 415),
    ``none`` (no parameter, or no type of the family for the datastore)."""

    ctype: str | None
    why: str

    @property
    def switched(self) -> bool:
        """Whether the client gets another family than the URL asks for."""
        return self.why in ("remembered", "devinf", "refused")


def _unique(types: list[str | None]) -> list[str]:
    out: list[str] = []
    for t in types:
        if t and t not in out:
            out.append(t)
    return out


def choose(canonical: str, fmt: str | None, *, receives: tuple[str, ...] | None = None,
           accepts: str | None = None, sends: str | None = None,
           refused: frozenset[str] = frozenset()) -> Choice:
    """The type to send for ``canonical`` when the URL says ``format=fmt``.

    ``receives``: what the client's DevInf says the datastore receives and we
    can send, preferred first (None: no DevInf tells); ``accepts``: the type
    the device was switched to before (remembered); ``sends``: the type its
    items are in; ``refused``: the types it answered 415 in this session.
    All types lower-case.

    >>> choose("Contacts", "sif")
    Choice(ctype='text/x-s4j-sifc', why='forced')
    >>> choose("Contacts", "sif", receives=("text/x-vcard",))
    Choice(ctype='text/x-vcard', why='devinf')
    >>> choose("Contacts", "vob", receives=("text/x-s4j-sifc", "text/vcard"))
    Choice(ctype='text/vcard', why='forced')
    >>> choose("Contacts", "sif", sends="text/vcard", refused=frozenset({"text/x-s4j-sifc"}))
    Choice(ctype='text/vcard', why='refused')
    >>> choose("Contacts", "sif", accepts="text/x-vcard")
    Choice(ctype='text/x-vcard', why='remembered')
    >>> choose("Journal", "sif"), choose("Contacts", "get")
    (Choice(ctype=None, why='none'), Choice(ctype=None, why='none'))
    """
    if fmt not in FORCED or canonical not in _TYPES[fmt]:
        return Choice(None, "none")
    own = _TYPES[fmt][canonical]
    other = _TYPES["vob" if fmt == "sif" else "sif"].get(canonical, ())
    if receives is not None:  # the DevInf's order
        ok = [t for t in receives if t in own]
    elif fmt == "vob":  # which Versit type: the one the device takes or sends, else the defaults
        ok = _unique([*(t for t in (accepts, sends) if t in own), *own])
    else:
        ok = list(own)
    ok = [t for t in ok if t not in refused]
    if accepts and family(accepts) != fmt and accepts not in refused and (receives is None or accepts in receives):
        return Choice(accepts, "remembered")  # switched away from this family in an earlier session
    if ok:
        return Choice(ok[0], "forced")
    why = "refused" if refused & set(own) else "devinf"
    rest = [t for t in (receives if receives is not None else _unique([sends, *other])) if t not in refused]
    return Choice(rest[0] if rest else None, why)


def client_receives(canonical: str, devinf: DevInf | None, client_uri: str) -> tuple[str, ...] | None:
    """The types the client's datastore ``client_uri`` receives (its DevInf's
    Rx-Pref, then Rx) that we can send for ``canonical``, lower-case; None
    when no DevInf tells (none, or no such datastore in it).  By name only:
    Funambol clients list SIF with VerCT 1.0 or empty whatever the SIF
    version, and the name says which vCard or vCalendar it is.

    >>> from syncml_codec.devinf import ContentType, DataStore
    >>> store = DataStore("./card", rx_pref=(ContentType("TEXT/X-S4J-SIFC", "1.1"),),
    ...                   rx=(ContentType("text/x-vcard", "2.1"), ContentType("image/jpeg")))
    >>> client_receives("Contacts", DevInf(dev_id="d", datastores=(store,)), "./card")
    ('text/x-s4j-sifc', 'text/x-vcard')
    """
    theirs = devinf.datastore(client_uri) if devinf is not None and client_uri else None
    if theirs is None:
        return None
    ours = {ct.ct_type.strip().lower() for ct in server_datastore(canonical).transmits}
    return tuple(_unique([t for t in (ct.ct_type.strip().lower() for ct in theirs.receives) if t in ours]))


def apply_format(ds: DatastoreSync, fmt: str | None, devinf: DevInf | None, session_id: str) -> None:
    """Set the type the URL's ``format=fmt`` forces on ``ds`` (just opened by
    its Alert, or given the client's DevInf later in the session: then
    ``fmt`` is None and the datastore's own is used); log and remember a
    switch."""
    fmt = fmt if fmt is not None else ds.forced
    if fmt not in FORCED:
        return
    ds.forced = fmt
    remembered = ds.client_format
    choice = choose(ds.canonical, fmt, receives=client_receives(ds.canonical, devinf, ds.client_uri),
                    accepts=(remembered.accepts or None) if remembered is not None else None,
                    sends=(remembered.content_type or None) if remembered is not None else None,
                    refused=ds.refused)
    _take(ds, choice, fmt, session_id)


def refused(ds: DatastoreSync, ctype: str, devinf: DevInf | None, session_id: str) -> bool:
    """The client answered an item of ``ctype`` with 415: when that is the
    type the URL forced on ``ds``, switch to another (see the module doc).
    Whether the datastore was switched (the refused items may go again)."""
    ctype = ctype.strip().lower()
    if ds.forced not in FORCED or ctype != ds.forced_type or ctype in ds.refused:
        return False
    ds.refused = ds.refused | {ctype}
    if ds.client_format is not None and ds.client_format.accepts == ctype:  # it took it in an earlier session
        ds.remember_accepts(None)
        if ds.client_type == ctype:
            ds.client_type = ds.client_format.content_type or None
    before = ds.forced_type
    apply_format(ds, None, devinf, session_id)
    if ds.forced_type is None:
        log.info("session %s: device %s, %s: refused %s (415) and takes no other type we know; items go "
                 "as without format=%s", session_id, log_quoted(ds.device.device_id), ds.canonical,
                 log_quoted(ctype), ds.forced)
    return ds.forced_type != before


def _take(ds: DatastoreSync, choice: Choice, fmt: str, session_id: str) -> None:
    if choice.ctype == ds.forced_type and ds.forced_type is not None:
        return
    ds.forced_type = choice.ctype
    if choice.ctype is None:
        return
    if choice.switched:
        why = {"remembered": "it was switched to it in an earlier session",
               "devinf": "its DevInf lists no type of that format",
               "refused": f"it refused {', '.join(sorted(log_quoted(t) for t in ds.refused))} (415)"}[choice.why]
        log.info("session %s: device %s, %s: format=%s switched to %s (%s)", session_id,
                 log_quoted(ds.device.device_id), ds.canonical, fmt, log_quoted(choice.ctype), why)
        if choice.why == "refused":  # (a DevInf switch is remembered by the DevInf the store keeps)
            ds.remember_accepts(choice.ctype)
    else:
        log.debug("session %s: %s sent as %s (format=%s)", session_id, ds.canonical, log_quoted(choice.ctype), fmt)
