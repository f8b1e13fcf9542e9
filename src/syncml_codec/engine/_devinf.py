"""The server's own DevInf: one DataStore per canonical datastore with the
types the converters can produce, format negotiation with a client, and
the DevInf a client sends (Put, or Results of our Get) or asks for (Get).

DevInf 1.2 has no MaxObjSize: the server announces its own in the Meta of
its SyncHdr (:func:`._reply.reply_message`).

Our DevInf goes out in the DevInf version of the session's SyncML version
(DevInf 1.x with SyncML 1.x, issue 10), whichever ``./devinf1x`` was asked
for; DevInf 1.0 has no ``UTC``, ``SupportLargeObjs`` nor
``SupportNumberOfChanges`` (1.1 added them), so a 1.0 DevInf leaves them out."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping

from ..codec.tree import Document
from ..devinf import ContentType, DataStore, DevInf, negotiate
from ..errors import SyncMLError
from ..filters import advertise_filters
from ..formats.omads import FILE_CONTENT_TYPE, FOLDER_CONTENT_TYPE
from ..model import Get, Item, Meta, Results, Source, StatusCode
from ..store.base import DATASTORES, TREE_DATASTORES
from ._sync import BY_SERVER, SUPPORTED
from ._util import plain
from ._wire import devinf_type

__all__ = [
    "DEVINF_URIS",
    "SERVER_FORMATS",
    "SYNC_CAPS",
    "client_sync_caps",
    "datastore_for_type",
    "datastore_from_devinf",
    "devinf_bytes",
    "devinf_from_item",
    "devinf_results",
    "fitted_devinf",
    "get_code",
    "performed_sync_caps",
    "server_datastore",
    "server_devinf",
    "type_for_client",
]

DEVINF_URIS = {"./devinf10": "1.0", "./devinf11": "1.1", "./devinf12": "1.2"}

_VCARD = (ContentType("text/vcard", "3.0"), ContentType("text/x-vcard", "2.1"),
          ContentType("text/x-s4j-sifc", "1.0"))
_CAL = (ContentType("text/calendar", "2.0"), ContentType("text/x-vcalendar", "1.0"))
_NOTE = (ContentType("text/plain", "1.0"), ContentType("text/x-vnote", "1.1"),
         ContentType("text/x-s4j-sifn", "1.0"))

#: canonical datastore -> (preferred type, other types), the server's Rx and Tx alike;
#: Funambol's SIF types are offered to the clients that ask for them
SERVER_FORMATS: dict[str, tuple[ContentType, ...]] = {
    "Contacts": _VCARD, "Events": (*_CAL, ContentType("text/x-s4j-sife", "1.0")),
    "Tasks": (*_CAL, ContentType("text/x-s4j-sift", "1.0")), "Notes": _NOTE,
    "Journal": (ContentType("text/calendar", "2.0"), ContentType("text/plain", "1.0")),
    "Mail": (ContentType("application/vnd.omads-email+xml", "1.2"), ContentType("message/rfc822", "1.0")),
    "Files": (ContentType(FILE_CONTENT_TYPE, "1.2"), ContentType(FOLDER_CONTENT_TYPE, "1.2")),
}
#: the types a datastore is also sent in when a client's DevInf asks for them, without our DevInf
#: listing them (with their FilterCaps they would push our DevInf past a 4 kB MaxMsgSize): journals
#: as vCalendar 1.0 and, for clients that want notes, vNote and SIF-N (formats._journal)
_ALSO_SENT: dict[str, tuple[ContentType, ...]] = {
    "Journal": (ContentType("text/x-vcalendar", "1.0"), ContentType("text/x-vnote", "1.1"),
                ContentType("text/x-s4j-sifn", "1.0")),
}
#: DevInf SyncType (SyncCap) of each alert code: 1-6 for 200-205, 7 ("server-alerted sync") for 206-210
SYNC_CAPS = {200: 1, 201: 2, 202: 3, 203: 4, 204: 5, 205: 6, 206: 7, 207: 7, 208: 7, 209: 7, 210: 7}


def performed_sync_caps() -> tuple[int, ...]:
    """The SyncCaps our DevInf advertises: those of the alert codes the engine
    carries out (:data:`._sync.SUPPORTED`, and 7 when it carries out every
    server-alerted code, :data:`._sync.BY_SERVER`), nothing more."""
    caps = {SYNC_CAPS[code] for code in SUPPORTED if code in SYNC_CAPS}
    if len(BY_SERVER) == 5 and all(mode in SUPPORTED for mode in BY_SERVER.values()):
        caps.add(7)
    return tuple(sorted(caps))


_SYNC_TYPES = performed_sync_caps()


def server_datastore(canonical: str, source_ref: str | None = None, *, tree: bool = False) -> DataStore:
    """Our DataStore for ``canonical`` (listed as ``source_ref``): the types
    we take and send, the SyncCaps we carry out, and the filters we read
    (``Filter-Rx``/``FilterCap``, :func:`syncml_codec.filters.advertise_filters`;
    a DevInf 1.0/1.1 drops them); ``SupportHierarchicalSync`` for the
    datastores kept as folder trees (``tree``, or one of
    :data:`~syncml_codec.store.base.TREE_DATASTORES`; issue 14)."""
    pref, *others = SERVER_FORMATS[canonical.split("/", 1)[0]]  # (Mail/<Folder>: Mail's)
    if tree and all(t.ct_type != FOLDER_CONTENT_TYPE for t in others):  # (the Mail tree: folders too)
        others.append(ContentType(FOLDER_CONTENT_TYPE, "1.2"))
    ours = DataStore(source_ref or canonical, display_name=canonical, max_guid_size=32,
                     rx_pref=(pref,), rx=tuple(others), tx_pref=(pref,), tx=tuple(others),
                     support_hierarchical_sync=tree or canonical in TREE_DATASTORES, sync_types=_SYNC_TYPES)
    return advertise_filters(ours)  # (a phone with a small MaxMsgSize gets less: fitted_devinf)


def server_devinf(dev_id: str, names: dict[str, str] | None = None, version: str = "1.2", *,
                  mail: Iterable[str] = (), trees: Iterable[str] = ()) -> DevInf:
    """Our DevInf, as a DevInf ``version`` document says it.  ``names``
    maps canonical datastores to the URI a client used for them (listed
    under that name, as some phones want their own path echoed); the others
    are listed under their canonical names.  ``mail``: the mail datastores
    to list too (``Mail`` and the folders the session opened, when the
    server has mail back ends); ``trees``: the datastores (besides Files) kept
    as folder trees, listed with ``SupportHierarchicalSync``."""
    names = names or {}
    trees = set(trees)
    since_11 = version != "1.0"
    devinf = DevInf(dev_id=dev_id, dev_typ="server", ver_dtd="1.2", man="syncml-codec",
                    mod="syncml-codec reference server", swv="0.1", utc=since_11, support_large_objs=since_11,
                    support_number_of_changes=since_11,
                    datastores=tuple(server_datastore(c, names.get(c), tree=c in trees)
                                     for c in (*DATASTORES, *TREE_DATASTORES, *mail)))
    return devinf if version == "1.2" else devinf.converted(version)


def type_for_client(canonical: str, client: DevInf | None, client_uri: str) -> str | None:
    """The content type to send to the client for ``canonical`` (its
    preferred one we can produce); None when its DevInf does not tell."""
    if client is None:
        return None
    theirs = client.datastore(client_uri)
    if theirs is None:
        return None
    ours = server_datastore(canonical)
    also = _ALSO_SENT.get(canonical, ())
    if also:
        ours = dataclasses.replace(ours, tx=(*ours.tx, *also))
    chosen = negotiate(ours, theirs).to_client
    return chosen.ct_type.strip().lower() if chosen is not None else None


def client_sync_caps(client: DevInf | None, client_uri: str) -> frozenset[int] | None:
    """The SyncCaps the client's DevInf lists for its datastore ``client_uri``
    (None: no DevInf, no such datastore, or no SyncCap listed: not known)."""
    theirs = client.datastore(client_uri) if client is not None and client_uri else None
    if theirs is None or not theirs.sync_types:
        return None
    return frozenset(theirs.sync_types)


def devinf_from_item(item: Item) -> DevInf | None:
    """The DevInf in a Put or Results item; None when it cannot be read."""
    data = item.data
    try:
        if isinstance(data, Document):
            return DevInf.from_document(data)
        if isinstance(data, (bytes, str)):
            return DevInf.from_bytes(data.encode() if isinstance(data, str) else data)
    except (SyncMLError, ValueError):
        return None
    return None


def devinf_bytes(devinf: DevInf) -> bytes:
    """How the store keeps a device's DevInf: WBXML, else XML."""
    try:
        return devinf.to_bytes("wbxml", string_table=True)
    except (SyncMLError, ValueError):
        return devinf.to_bytes("xml")


def get_code(cmd: Get) -> int:
    """200 for a Get of our DevInf, else 404."""
    uris = [i.target.loc_uri for i in cmd.items if i.target is not None]
    return StatusCode.OK if uris and all(u in DEVINF_URIS for u in uris) else StatusCode.NOT_FOUND


def fitted_devinf(devinf: DevInf, keep: Mapping[str, Iterable[str]],
                  fits: Callable[[DevInf], bool]) -> tuple[DevInf, bool]:
    """The fullest of our DevInfs that ``fits`` (the message it goes in stays
    within the client's MaxMsgSize), and whether one did.  ``keep``: the
    datastores the client uses (canonical name -> the content types its own
    DevInf lists for it, lower case; none when not known).  In order:

    1. the whole ``devinf``;
    2. only the datastores in ``keep``;
    3. those without their ``Filter-Rx``/``FilterCap``;
    4. those listing, besides our preferred type, only the types the client
       lists too (what format negotiation could pick), without DisplayName.

    When ``keep`` names none of ours, steps 3 and 4 keep every datastore.
    When none fits, the last (the smallest) and False.

    Why not a large object: the DTD lets any Item carry MoreData, but the
    protocol's large-object handling is written for Add and Replace (a Size
    in the first chunk, 424 for a wrong total) and clients reassemble those in
    a Sync, not a DevInf; a WBXML string table would change the encoding of
    every message to old phones and saves little on one or two datastores.
    """
    kept = tuple(ds for ds in devinf.datastores if ds.display_name in keep)
    plain_caps = [dataclasses.replace(ds, filter_rx=(), filter_caps=()) for ds in kept or devinf.datastores]

    def narrowed(ds: DataStore) -> DataStore:
        theirs = {t.strip().lower() for t in keep.get(ds.display_name or "", ())}
        return dataclasses.replace(ds, display_name=None, rx=tuple(t for t in ds.rx if t.ct_type.lower() in theirs),
                                   tx=tuple(t for t in ds.tx if t.ct_type.lower() in theirs))

    candidates = [devinf]
    if kept and len(kept) < len(devinf.datastores):
        candidates.append(dataclasses.replace(devinf, datastores=kept))
    candidates.append(dataclasses.replace(devinf, datastores=tuple(plain_caps)))
    candidates.append(dataclasses.replace(devinf, datastores=tuple(map(narrowed, plain_caps))))
    for candidate in candidates:
        if fits(candidate):
            return candidate, True
    return candidates[-1], False


def devinf_results(get: Get, dev_id: str, names: dict[str, str], encoding: str, *, cmd_id: str,
                   msg_ref: str, version: str = "1.2", mail: Iterable[str] = (),
                   trees: Iterable[str] = (), keep: Mapping[str, Iterable[str]] | None = None,
                   fits: Callable[[Results], bool] | None = None) -> tuple[Results, bool]:
    """The Results answering a Get of our DevInf (``names``, ``mail`` and ``trees`` as for
    :func:`server_devinf`), a DevInf of the session's SyncML ``version``
    under the URI the Get named, and whether it fits.  ``fits``: whether a
    Results fits the message (None: any does); when the whole DevInf does
    not, it is reduced as :func:`fitted_devinf` says (``keep``: the
    datastores the client uses)."""
    uri = next(plain(i.target.loc_uri) for i in get.items if i.target is not None)

    def results(devinf: DevInf) -> Results:
        return Results(cmd_id=cmd_id, msg_ref=msg_ref, cmd_ref=get.cmd_id, meta=Meta(type=devinf_type(encoding)),
                       items=(Item(source=Source(loc_uri=uri), data=devinf.to_document(version)),))

    devinf = server_devinf(dev_id, names, version, mail=mail, trees=trees)
    if fits is None:
        return results(devinf), True
    chosen, fitted = fitted_devinf(devinf, keep or {}, lambda candidate: fits(results(candidate)))
    return results(chosen), fitted


#: fragments of a content type -> the canonical datastore its items live in
_TYPE_DATASTORES = (("vcard", "Contacts"), ("sifc", "Contacts"), ("vtodo", "Tasks"), ("sift", "Tasks"),
                    ("calendar", "Events"), ("sife", "Events"), ("vnote", "Notes"), ("sifn", "Notes"),
                    ("text/plain", "Notes"), ("vjournal", "Journal"), ("omads-file", "Files"),
                    ("omads-folder", "Files"))


def datastore_for_type(content_type: str) -> str | None:
    """The canonical datastore for items of ``content_type`` (None: unknown).

    >>> datastore_for_type("text/x-vcard"), datastore_for_type("text/x-s4j-sife")
    ('Contacts', 'Events')
    """
    ct = content_type.lower()
    return next((ds for frag, ds in _TYPE_DATASTORES if frag in ct), None)


def datastore_from_devinf(devinf: DevInf | None, client_uri: str) -> str | None:
    """The canonical datastore a client's datastore ``client_uri`` holds, by
    the types its DevInf gives it (preferred first); None: no DevInf, no such
    datastore, or types of no datastore of ours.  For servers' names no
    alias covers (an Ericsson phone set up for another server's ``pb``)."""
    store = devinf.datastore(client_uri) if devinf is not None and client_uri else None
    if store is None:
        return None
    types = [ct.ct_type for ct in (*store.rx_pref, *store.tx_pref, *store.rx, *store.tx)]
    return next((ds for ds in map(datastore_for_type, types) if ds), None)
