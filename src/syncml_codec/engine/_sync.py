"""One datastore within a server session: anchors, the client's changes
(with conflicts and slow-sync matching), and the changes to send back.

Invariants (see :mod:`syncml_codec.store.base`): a device "has" revision
``known_rev`` of every GUID it maps; what it must receive is every live item
whose ``rev`` differs (or that it does not map) and every tombstone it still
maps.  A change the device sent sets ``known_rev`` to the new revision, so
it is never echoed back.  Slow syncs (201) and refreshes from the client
(203) forget the map and rebuild it by matching the client's items by content
(:func:`._items.content_key`), so repeated slow syncs create no duplicates.

Crash safety (issue 9).  Every message is one store transaction, so after a
``kill -9`` the store holds everything up to the last committed message, and
the next session must not trust more than that:

* The stored anchors say "the map is what the device holds".  A session
  clears them as soon as that stops being true: a slow sync or refresh when
  it forgets the map (package 1), any other mode when it sends its first
  change in package 4 (the device may or may not get it).  :meth:`commit`
  sets them again when the session completes.  So a device that comes back
  after a crash with its old anchors gets 508 and a slow sync, whose content
  matching finds what it already holds.
* A sent Add is mapped at once without a LUID ("sent, unconfirmed"); a sent
  Replace updates ``known_rev``, and a sent Delete unmaps, only when the
  session completes.  So after a crash the device's copy counts as the old
  revision (a conflict, resolved by the policy, instead of the client's old
  version silently winning), and an item whose Delete was lost is deleted
  again instead of coming back.
* Suspend and resume (OMA DS 1.2 Alerts 224/225, issue 15).  Package 1 of
  every session records a *resume point* per device and datastore (the
  session, the mode performed, the anchors: :class:`~..store.base.ResumePoint`)
  in the message's transaction; it is cleared when the session completes.
  Alert 224 marks it suspended and the session sends nothing more for that
  datastore.  Alert 225 with a resume point is honoured: Status 200, the
  suspended session's mode and server anchor, and the map kept.  What the
  interrupted session already did is in the store item by item, each in the
  transaction of its message: every client item applied is mapped (a resent
  one is recognised by its LUID: no duplicate), every Add sent is mapped
  without a LUID, and every change the client acknowledged with a Status is
  in ``resume_acks``.  So the resumed session sends only what the client did
  not acknowledge (acknowledged Replaces and Deletes are confirmed at once,
  acknowledged Adds wait for their Map) and expects only the items it did
  not answer.  Alert 225 without a resume point (completed since, or never
  recorded) is answered per OMA DS with 508 and a slow sync, on the kept
  map: mapped items count as held by the device; unconfirmed Adds are
  matched by content when the client sends them, and sent again when it does
  not, so the fallback makes no duplicates either.

Formats per device (issue 10): what a device sends (real type, label,
version, transfer encoding) is kept in the store per device and datastore
(:meth:`Store.device_format`), so a device without DevInf (sync4j/Funambol
clients) gets the server's changes in its own format and encoding in later
sessions too; before it sent anything, the device-quirk database may tell
by its device-id prefix (``quirks.default_type``, ``sif-b64``).  A type
negotiated from DevInf wins over those, and a type the sync URL forces
(``format=sif|vob``, :mod:`._format`) over that one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from ..errors import ProtocolError
from ..filters import mail_part
from ..formats.omads import FOLDER_CONTENT_TYPE, FolderObject
from ..model import AlertCode, StatusCode
from ..store.base import TREE_DATASTORES, Device, DeviceFormat, MapEntry, Store, StoredItem
from . import _tree
from ._capmerge import ItemCaps, kept_from_stored, merged_fields, reduced, trimmed
from ._filtering import item_filter, parsed
from ._items import (
    canonical_data,
    content_key,
    data_for_client,
    format_sent,
    merged_lost,
    merged_note,
    merged_structured,
    modified_time,
)
from ._modes import Fallback, SyncMode
from ._ops import Operation
from ._tree import (
    FILE_TYPES,
    MAX_TREE_DEPTH,
    check_parent,
    check_tree_item,
    creates_loop,
    depth_of,
    flat_visible,
    is_root,
    tree_order,
)
from ._util import log_quoted

if TYPE_CHECKING:
    from ..filters import ItemFilter
    from ._backup import SessionBackup

__all__ = ["BY_SERVER", "MAX_ERASED_LUID", "ConflictPolicy", "DatastoreSync", "Op"]

log = logging.getLogger("syncml_codec.engine")

#: characters; the longest LUID a fallback erasing the client's data keeps to delete (a LUID
#: goes back in a Delete; SyncEvolution's and phones' are tens of characters)
MAX_ERASED_LUID = 1024

#: the modes in which the client sends its changes / the server sends its own
CLIENT_SENDS = {AlertCode.TWO_WAY, AlertCode.SLOW_SYNC, AlertCode.ONE_WAY_FROM_CLIENT, AlertCode.REFRESH_FROM_CLIENT}
SERVER_SENDS = {AlertCode.TWO_WAY, AlertCode.SLOW_SYNC, AlertCode.ONE_WAY_FROM_SERVER, AlertCode.REFRESH_FROM_SERVER}
#: the modes that need matching anchors (else 508 and a slow sync)
NEEDS_ANCHORS = {AlertCode.TWO_WAY, AlertCode.ONE_WAY_FROM_CLIENT, AlertCode.ONE_WAY_FROM_SERVER}
SUPPORTED = {200, 201, 202, 203, 204, 205}
#: a client answering a server's notification (server-alerted sync, :mod:`syncml_codec.codec.san`)
#: alerts the notification's sync type 206-210 (buteo-syncml does; SyncEvolution and Nokia phones
#: alert 200-205): each is carried out as the client-initiated mode it names, which our Alert back
#: says, anchors checked as for that mode
BY_SERVER: dict[int, int] = {AlertCode.TWO_WAY_BY_SERVER: AlertCode.TWO_WAY,
             AlertCode.ONE_WAY_FROM_CLIENT_BY_SERVER: AlertCode.ONE_WAY_FROM_CLIENT,
             AlertCode.REFRESH_FROM_CLIENT_BY_SERVER: AlertCode.REFRESH_FROM_CLIENT,
             AlertCode.ONE_WAY_FROM_SERVER_BY_SERVER: AlertCode.ONE_WAY_FROM_SERVER,
             AlertCode.REFRESH_FROM_SERVER_BY_SERVER: AlertCode.REFRESH_FROM_SERVER}


#: the datastores whose items a device's capabilities restrict (:mod:`._capmerge`)
_CAPS_DATASTORES = frozenset({"Contacts", "Events", "Tasks"})


class ConflictPolicy(str, Enum):
    """Which version wins when the client changed an item the server changed too since the device
    saw it: the server's, the client's, the newer (by the modification time in the data; the
    server's when that cannot tell), both (kept as two items), or both merged property by property
    (``merge``, Status 207, the merged item sent back: :func:`._capmerge.merged_fields`)."""

    SERVER_WINS = "server-wins"
    CLIENT_WINS = "client-wins"
    NEWER_WINS = "newer-wins"
    DUPLICATE = "duplicate"
    MERGE = "merge"


def key_digest(key: object) -> bytes:
    """A content key (:func:`._items.content_key`: tuples of text and
    bytes) as 16 bytes: what a slow sync keeps of the server's items between
    messages (in the session's stored state, :mod:`._persist`, a tenth of the
    keys' size).  Sets are taken in sorted order, so every process makes the
    same digest whatever its hash seed."""
    return hashlib.blake2b(_canonical(key), digest_size=16).digest()


def _canonical(value: object) -> bytes:
    if isinstance(value, (tuple, list)):
        return b"(" + b",".join(_canonical(v) for v in value) + b")"
    if isinstance(value, (set, frozenset)):
        return b"{" + b",".join(sorted(_canonical(v) for v in value)) + b"}"
    return repr(value).encode("utf-8", "surrogatepass")


@dataclass(frozen=True, slots=True)
class Op:
    """A change for the client: Add (``luid`` None), Replace or Delete."""

    kind: Operation
    guid: str
    luid: str | None
    rev: int

    def __reduce__(self) -> tuple[type[Op], tuple[Operation, str, str | None, int]]:
        # every session state holds one per change still to send or awaiting its Status (issue 12):
        # pickle's generic path for a slots dataclass costs ten times this
        return Op, (self.kind, self.guid, self.luid, self.rev)


@dataclass(kw_only=True)
class DatastoreSync:
    """Server-side state of one datastore in one session."""

    store: Store
    device: Device
    canonical: str
    server_uri: str  # as the client addressed it (Alert Target)
    client_uri: str  # the client's own (Alert Source)
    mode: int
    client_next: str
    server_next: str
    server_last: str | None
    policy: ConflictPolicy = ConflictPolicy.SERVER_WINS
    clock: float = 0.0
    wanted_type: str | None = None  # negotiated type towards the client
    forced: str | None = None  # the format the sync URL forces (sif|vob, issue 13; see ._format)
    forced_type: str | None = None  # the type it forces (or the one the client was switched to)
    refused: frozenset[str] = frozenset()  # forced types the client answered 415 in this session
    client_type: str | None = None  # the type the client sends (this session, else remembered)
    client_format: DeviceFormat | None = None  # what it sends (remembered, else by its device-id prefix)
    _remembered: DeviceFormat | None = None  # what the store holds of it
    resumed: bool = False  # Alert 225: the map is kept (honoured, or 508 and a slow sync; see the module doc)
    resume_of: str | None = None  # Alert 225 honoured: the session resumed (its acknowledgements apply)
    suspended: bool = False  # the client suspended the session (Alert 224): nothing more goes out
    acked: dict[str, int] = field(default_factory=dict)  # GUID -> rev the client acknowledged (resumed session)
    performed: int = 0  # IceWarp's mode performed (:mod:`._modes`; 0: the alert code's own)
    touched: set[str] = field(default_factory=set)  # GUIDs matched or written in this session
    old_map: dict[str, MapEntry] = field(default_factory=dict)  # by LUID, before a slow sync
    _by_luid: dict[str, MapEntry] = field(default_factory=dict)
    _by_guid: dict[str, MapEntry] = field(default_factory=dict)
    _keys: dict[bytes, list[str]] | None = None  # content key digest -> unmatched live GUIDs (slow sync)
    stats: dict[str, int] = field(default_factory=dict)
    _replaced: dict[str, Op] = field(default_factory=dict)  # Replaces/Deletes sent, confirmed at the end
    _open: bool = False  # the stored anchors were cleared in this session
    backup: SessionBackup | None = None  # the client's items go to a backup file, not the store (._backup)
    pending: int | None = None  # the pending mode this session performs (cleared when it completes)
    fallback: Fallback = Fallback.NONE  # the mode goes out as another alert; the server's part (._modes)
    erase: dict[str, None] = field(default_factory=dict)  # the LUIDs the client sent, to delete (fallback)
    # filters (issue 14, :mod:`._filtering`): this session's EXCLUSIVE <Filter> (XML; None: unfiltered), the
    # one whose window the device holds (its last complete session's), this session's INCLUSIVE one
    filter_xml: bytes | None = None
    held_filter: bytes | None = None
    inclusive_xml: bytes | None = None
    fetched: set[str] = field(default_factory=set)  # GUIDs sent under the INCLUSIVE filter (its field filter)
    _window: bool = False  # the device holds this session's filter window at the end (kept at commit)
    _filters: dict[bytes, ItemFilter | None] = field(default_factory=dict)  # parsed filters (not in the state)
    # hierarchical sync (issue 14, :mod:`._tree`): the server keeps this datastore as a tree; the client syncs
    # it as one (else it sees it flat); the tree's GUID -> parent GUID, read once per message (not in the state)
    tree: bool = False
    hierarchical: bool = False
    _parents: dict[str, str] | None = None
    _content_revs: dict[str, int] | None = None  # GUID -> content_rev, read once for package 4 (not in the state)
    chunk_parents: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)  # see remember_parent
    # a folder the device added again (same name, same parent) while it holds it under another LUID: that
    # LUID -> the folder's GUID, and the LUIDs of what the device put in it in this session (see _onto_folder)
    twins: dict[str, str] = field(default_factory=dict)
    in_twins: set[str] = field(default_factory=set)
    moves: set[str] = field(default_factory=set)  # GUIDs whose change for the client is only a move (a Move)
    # NumberOfChanges (issue 15): what the client's first Sync of package 3 announced (None: nothing), and
    # the changes that came (an object in MoreData chunks counts once); compared when the package ends
    announced_changes: int | None = None
    received_changes: int = 0
    overruled: set[str] = field(default_factory=set)  # GUIDs the client changed in a conflict it lost
    hierarchical_moves: bool = True  # False once the client refused a Move in this session
    # soft deletes (issue 15): GUID -> the revision the device dropped with SftDel (the store's, read once when
    # needed and kept in the state: small, and changed only by this session)
    _soft: dict[str, int] | None = None
    # what the device can hold of its items (issue 15, :mod:`._capmerge`: its CTCap, else the quirk database);
    # None: not known, nothing restricted
    caps: ItemCaps | None = None

    @property
    def user(self) -> str:
        return self.device.user

    @property
    def erasing(self) -> bool:
        """A fallback erasing the client's data (modes 6, 8, 9 as a slow sync):
        the items it sends are deleted on it, not stored."""
        return self.fallback in (Fallback.ERASE, Fallback.ERASE_AND_SEND)

    def _from_client(self) -> bool:
        """The server becomes the client's copy (203, or modes 4 and 7 as a slow sync)."""
        return self.mode == AlertCode.REFRESH_FROM_CLIENT or self.fallback is Fallback.TAKE

    # -- between two messages (the session's stored state, :mod:`._persist`) --
    def __getstate__(self) -> dict[str, object]:
        """Without the map: it is the store's (every change to it goes
        there too), read again when the state is (a 20,000-item map would
        otherwise be written with every message)."""
        state = dict(self.__dict__)
        state["_by_guid"] = state["_by_luid"] = None
        state["_filters"] = {}
        state["_parents"] = state["_content_revs"] = None
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.twins, self.in_twins = {}, set()  # (a state saved before they were kept)
        state.setdefault("moves", set())  # (a state saved before Move was sent)
        state.setdefault("overruled", set())
        state.setdefault("hierarchical_moves", True)
        self.caps = None
        state.setdefault("resume_of", None)  # (a state saved before suspend and resume, issue 15)
        state.setdefault("suspended", False)
        state.setdefault("acked", {})
        self.__dict__.update(state)
        self._load_map()

    # -- start -----------------------------------------------------------
    def start(self) -> None:
        """Forget the map where the mode rebuilds it (not in a resumed
        session: there the map is what the device holds); recall the format
        the device sends."""
        self._remembered = self.store.device_format(self.device, self.canonical)
        self.client_format = self._remembered
        self.held_filter = self.store.device_filter(self.device, self.canonical)
        if self.client_type is None and self.client_format is not None:
            self.client_type = self.client_format.accepts or self.client_format.content_type or None
        if self.mode in (AlertCode.SLOW_SYNC, AlertCode.REFRESH_FROM_CLIENT, AlertCode.REFRESH_FROM_SERVER):
            self._invalidate()
            if not self.resumed:
                self.old_map = {e.luid: e for e in self.store.map_entries(self.device, self.canonical) if e.luid}
                self.store.forget_map(self.device, self.canonical)  # (its soft deletes too)
                self._soft = {}
        self._load_map()
        if self.resume_of is not None:
            self._take_acks()

    def _take_acks(self) -> None:
        """A resumed session: the changes the client acknowledged in the
        interrupted one count as done (a Replace's revision is the one it
        holds, a Delete is unmapped); an acknowledged Add keeps its mapping
        without a LUID, its Map may come in this session."""
        self.acked = self.store.resume_acks(self.device, self.canonical)
        if self.mode in (AlertCode.SLOW_SYNC, AlertCode.REFRESH_FROM_CLIENT):
            # the interrupted session started from no map: what has a LUID now, the client sent in it (so a
            # refresh from the client keeps it, and content matching does not take it for another item)
            self.touched.update(guid for guid, entry in self._by_guid.items() if entry.luid is not None)
        for guid, rev in self.acked.items():
            entry = self._by_guid.get(guid)
            if entry is None:
                continue
            if rev < 0:
                self._unmap(guid)
            elif entry.luid is not None and entry.known_rev != -1:
                self._map(entry.luid, guid, rev)
        self._count_n("resume-acked", len(self.acked))

    def suspend(self) -> None:
        """The client suspended the session (Alert 224): the resume point is
        kept, marked suspended, and nothing more goes out."""
        self.suspended = True
        point = self.store.resume_point(self.device, self.canonical)
        if point is not None:
            self.store.set_resume_point(self.device, self.canonical, dataclasses.replace(point, suspended=True),
                                        keep_acks=True)

    def acknowledged(self, op: Op) -> None:
        """The client acknowledged ``op`` with a success Status: kept in the
        store (same transaction as the message), for a resume."""
        if op.guid:
            rev = -1 if op.kind is Operation.DELETE else op.rev
            self.store.set_resume_ack(self.device, self.canonical, op.guid, rev)

    def _invalidate(self) -> None:
        """Clear the stored anchors: until :meth:`commit`, the map may differ
        from what the device holds, so an interrupted session is followed by
        a slow sync."""
        if not self._open:
            self._open = True
            self.store.clear_anchors(self.device, self.canonical)

    def _load_map(self) -> None:
        entries = self.store.map_entries(self.device, self.canonical)
        self._by_guid = {e.guid: e for e in entries}
        self._by_luid = {e.luid: e for e in entries if e.luid is not None}

    def _map(self, luid: str | None, guid: str, rev: int) -> None:
        self.store.set_map(self.device, self.canonical, luid, guid, rev)
        old = self._by_luid.pop(luid, None) if luid is not None else None
        if old is not None and old.guid != guid:
            self._by_guid.pop(old.guid, None)
        entry = MapEntry(luid, guid, rev)
        self._by_guid[guid] = entry
        if luid is not None:
            self._by_luid[luid] = entry

    def _unmap(self, guid: str) -> None:
        self.store.unmap(self.device, self.canonical, guid)
        entry = self._by_guid.pop(guid, None)
        if entry is not None and entry.luid is not None:
            self._by_luid.pop(entry.luid, None)

    def _heads(self, include_deleted: bool = False) -> list[StoredItem]:
        """The datastore's items where only their GUID, revision, tombstone,
        type and parent are read (``item_heads``: the SQL stores' without
        their data, the Mail datastores' with their references, :mod:`._mailds`):
        what a session keeps of what it sends; each item's data is read when
        it goes out (:meth:`item_to_send`), so memory holds one message's items,
        not the datastore's (issue 14)."""
        heads = getattr(self.store, "item_heads", None)
        if heads is not None:
            return heads(self.user, self.canonical, include_deleted)  # type: ignore[no-any-return]
        return self.store.items(self.user, self.canonical, include_deleted)

    def _head_of(self, guid: str) -> StoredItem | None:
        """The item ``guid`` where only its revision and tombstone are read
        (``item_head`` of a view whose items are costly to read whole)."""
        head = getattr(self.store, "item_head", None)
        if head is not None:
            return head(self.user, self.canonical, guid)  # type: ignore[no-any-return]
        return self.store.get_item(self.user, self.canonical, guid)

    def _filter_listing(self, filters: list[ItemFilter]) -> Iterable[StoredItem]:
        """The datastore's items (tombstones too) as ``filters`` test them: a
        view whose items are costly to read whole (the Mail datastores') lists
        what they read (``filter_items``, :mod:`._mailds`); others are read a
        page at a time."""
        listing = getattr(self.store, "filter_items", None)
        if listing is not None:
            return listing(self.user, self.canonical, True, filters)  # type: ignore[no-any-return]
        return self._all_items(include_deleted=True)

    def _all_items(self, include_deleted: bool = False) -> Iterable[StoredItem]:
        """The datastore's items with their data, read a page at a time where
        the store can (``iter_items``), so never all of them in memory at once."""
        pages = getattr(self.store, "iter_items", None)
        if pages is not None:
            return pages(self.user, self.canonical, include_deleted)  # type: ignore[no-any-return]
        return self.store.items(self.user, self.canonical, include_deleted)

    def item_to_send(self, guid: str) -> tuple[StoredItem | None, bool]:
        """The stored item ``guid`` to send (:meth:`for_client` makes the data)
        and whether it is reduced already: read from a view as much as the
        filter sends (``get_item_part``: a mail's header block alone when its
        field filter sends only that)."""
        part_of = getattr(self.store, "get_item_part", None)
        flt = self._filter(self.inclusive_xml if guid in self.fetched else self.filter_xml)
        if part_of is not None and flt is not None and mail_part(flt.field) == "headers":
            return part_of(self.user, self.canonical, guid, "headers"), True
        return self.store.get_item(self.user, self.canonical, guid), False

    def _count(self, what: str) -> None:
        self.stats[what] = self.stats.get(what, 0) + 1

    def _count_n(self, what: str, n: int) -> None:
        if n:
            self.stats[what] = self.stats.get(what, 0) + n

    # -- formats ---------------------------------------------------------
    def _learn(self, data: bytes, ctype: str | None, encoding: str | None) -> None:
        """Remember the format of an item the device sent (in the store when it changed)."""
        fmt = format_sent(self.canonical, data, ctype, encoding)
        if not fmt.content_type:
            return
        self.client_type = fmt.content_type
        if self._remembered is not None:
            fmt = dataclasses.replace(fmt, accepts=self._remembered.accepts)
        self.client_format = fmt
        if fmt != self._remembered:
            self._remembered = fmt
            self.store.set_device_format(self.device, self.canonical, fmt)

    def remember_accepts(self, ctype: str | None) -> None:
        """Remember that the device takes ``ctype`` (it was switched to it, see
        :mod:`._format`; None: forget it): in the store, for its later sessions."""
        fmt = self._remembered or DeviceFormat("")
        if fmt.accepts == ctype:
            return
        self._remembered = dataclasses.replace(fmt, accepts=ctype)
        self.client_format = dataclasses.replace(self.client_format or fmt, accepts=ctype)
        self.store.set_device_format(self.device, self.canonical, self._remembered)

    def for_client(self, item: StoredItem, default_type: str | None = None, *,
                   reduced: bool = False) -> tuple[bytes, str, str]:
        """``(data, type, transfer encoding)`` of a stored item for this
        device: in the type the sync URL forces (:mod:`._format`), else the
        one negotiated from its DevInf, else the one it
        sends, else ``default_type`` (the quirk database's, for a device
        known by its id alone); the encoding is the one it sends items in
        ("" when it has sent none: not applied here, see
        :func:`._items.encode_for_client`); ``reduced``: the item is as the
        field filter sends it already (:meth:`item_to_send`)."""
        flt = None if reduced else self._filter(self.inclusive_xml if item.guid in self.fetched else self.filter_xml)
        data = self._reduced(flt, item.data, item.content_type) if flt is not None else item.data
        data, ctype = data_for_client(data, item.content_type,
                                      self.forced_type or self.wanted_type or self.client_type or default_type,
                                      what=f"{self.canonical}/{item.guid}")
        if self.caps is not None and self.canonical in _CAPS_DATASTORES:  # it holds no more than its MaxOccur
            data = trimmed(data, ctype, self.caps) or data
        return data, ctype, self.client_format.encoding if self.client_format is not None else ""

    # -- filters (issue 14, :mod:`._filtering`) ----------------------------
    def _filter(self, data: bytes | None) -> ItemFilter | None:
        """The filter kept as ``data`` (parsed once per message)."""
        if data is None:
            return None
        if data not in self._filters:
            self._filters[data] = item_filter(data)
        return self._filters[data]

    @staticmethod
    def _reduced(flt: ItemFilter, data: bytes, ctype: str) -> bytes:
        """A stored item as ``flt``'s field filter sends it (whole without one)."""
        if flt.field is None:
            return data
        obj = parsed(data, ctype)
        if obj is None:
            return data
        try:
            reduced = flt.field.apply(obj)
            return bytes(reduced.item.serialize()) if reduced.truncated else data
        except Exception:  # defence in depth: the item goes whole
            log.warning("a field filter failed on a %s item: sent whole", ctype, exc_info=True)
            return data

    def _field_seen(self) -> Callable[[Any], Any] | None:
        """What a client holding the window of the kept filter got of an item
        (None: the whole item)."""
        held = self._filter(self.held_filter)
        if held is None or held.field is None:
            return None
        field_filter = held.field
        return lambda obj: field_filter.apply(obj).item

    def _merged(self, current: StoredItem, data: bytes, ctype: str) -> tuple[bytes, str]:
        """What to store when the device changes ``current``: its data, or for
        notes in a format that holds less, its change merged into ``current``."""
        if current.deleted:
            return data, ctype
        seen = self._field_seen()
        if seen is not None and ctype == current.content_type:  # it never saw what the field filter left out
            merged_data = merged_lost(current.data, data, ctype, seen)
            if merged_data is not None:
                return merged_data, ctype
        if (self.caps is not None and self.canonical in _CAPS_DATASTORES and ctype == current.content_type
                and not (self.client_type or "").startswith("text/x-s4j-")):
            kept = kept_from_stored(current.data, data, ctype, self.caps)  # what it cannot hold stays
            if kept is not None:
                data = kept[0]
                self._count("caps-kept")
                log.info("user %s device %s: %s/%s: kept what the device cannot hold (%s): %s",
                         log_quoted(self.user), log_quoted(self.device.device_id), self.canonical, current.guid,
                         self.caps.source, ", ".join(kept[1]))
        if self.canonical in ("Notes", "Journal"):
            merged = merged_note(current.data, current.content_type, data, ctype)
            if merged is not None:
                return merged
        elif (ctype == current.content_type and ctype in ("text/vcard", "text/calendar")
              and self.client_type is not None and self.client_type.startswith("text/x-s4j-")):
            # (vCard 2.1 <-> 3.0 and vCalendar 1.0 <-> iCalendar 2.0 carry everything: SIF does not)
            structured = merged_structured(current.data, data, ctype, self.client_type)
            if structured is not None:
                return structured, ctype
        return data, ctype

    # -- the tree (hierarchical sync, issue 14, :mod:`._tree`) -------------
    def _tree_parents(self) -> dict[str, str]:
        """GUID -> parent GUID of the datastore's live items, read once per
        message (without the items' data where the store can:
        ``item_parents``) and kept current by this session's writes."""
        if self._parents is None:
            lister = getattr(self.store, "item_parents", None)
            self._parents = (dict(lister(self.user, self.canonical)) if lister is not None
                             else {i.guid: i.parent for i in self._heads()})
        return self._parents

    def _inside(self, guid: str) -> list[str]:
        """The live items ``guid`` contains, at any depth."""
        children: dict[str, list[str]] = {}
        for child, parent in self._tree_parents().items():
            if parent:
                children.setdefault(parent, []).append(child)
        found, level, seen = [], [guid], {guid}
        while level:
            level = [c for g in level for c in children.get(g, ()) if c not in seen]
            seen.update(level)
            found += level
        return found

    def parent_for(self, source_parent: str | None, target_parent: str | None,
                   luid: str | None = None) -> str | None:
        """The GUID of the folder a client's item names as its parent: by our
        GUID (``<TargetParent>``) or by its LUID (``<SourceParent>``); "" for
        the root (also a slow sync's item naming none), None when it names
        none or the client syncs flat.  :class:`ProtocolError` 404 when that
        folder is unknown.  ``luid``: the item's (kept when the folder is a
        twin the device is to drop, see :meth:`add`)."""
        if not self.hierarchical:
            return None
        if source_parent is None and target_parent is None:
            # (a slow sync states every item whole: no parent is the root; a Replace in another mode keeps it)
            return "" if self.mode in (AlertCode.SLOW_SYNC, AlertCode.REFRESH_FROM_CLIENT) else None
        roots = (self.server_uri, self.client_uri)
        if target_parent is not None and not is_root(target_parent, *roots):
            guid = target_parent.strip()
        elif source_parent is not None and not is_root(source_parent, *roots):
            # (in a slow sync or refresh the map is rebuilt: a folder not matched yet, e.g. refused, is
            # still the one the device held under that LUID)
            name = source_parent.strip()
            entry = self._by_luid.get(name) or self.old_map.get(name)
            if entry is None and name in self.twins:
                if luid:
                    self.in_twins.add(luid)
                guid = self.twins[name]
            elif entry is None:
                raise ProtocolError(f"parent LUID {source_parent!r} unknown", StatusCode.NOT_FOUND)
            else:
                guid = entry.guid
                if luid:
                    self.in_twins.discard(luid)
        else:
            if luid:
                self.in_twins.discard(luid)
            return ""
        check_parent(self.store.get_item(self.user, self.canonical, guid), guid)
        return guid

    def _check_place(self, guid: str | None, parent: str) -> None:
        """Refuse to put ``guid`` (None: a new item) under ``parent``: a loop
        (428) or a tree deeper than :data:`._tree.MAX_TREE_DEPTH` (403)."""
        parents = self._tree_parents()
        if guid is not None and creates_loop(guid, parent, parents):
            raise ProtocolError(f"moving {guid} into {parent} makes a folder loop", StatusCode.MOVE_FAILED)
        below = 0
        if guid is not None:  # (what the moved item holds comes along)
            inside = self._inside(guid)
            below = max((depth_of(g, parents) for g in inside), default=depth_of(guid, parents))
            below -= depth_of(guid, parents)
        if depth_of(parent, parents) + 1 + below > MAX_TREE_DEPTH:
            raise ProtocolError(f"a tree deeper than {MAX_TREE_DEPTH} folders", StatusCode.FORBIDDEN)

    def _tree_type(self, data: bytes, ctype: str) -> str | None:
        """A tree datastore's file or folder object read whole (None: another
        kind of item); a malformed one raises before anything is stored."""
        if not self.tree:
            return None
        if ctype in FILE_TYPES or self.canonical in TREE_DATASTORES or bytes(data[:64]).lstrip().startswith(b"<Folder"):
            return check_tree_item(data, ctype)
        return None

    def _add_stored(self, data: bytes, ctype: str, parent: str | None) -> StoredItem:
        if not self.tree:
            return self.store.add_item(self.user, self.canonical, data, ctype, self.clock)
        parents = self._tree_parents()
        if len(parents) >= _tree.MAX_TREE_ITEMS:
            raise ProtocolError(f"the tree holds {len(parents)} items already", StatusCode.DEVICE_FULL)
        item = self.store.add_item(self.user, self.canonical, data, ctype, self.clock, parent=parent or "")
        parents[item.guid] = item.parent
        return item

    def _replace_stored(self, guid: str, data: bytes, ctype: str, parent: str | None) -> StoredItem | None:
        if not self.tree or parent is None:
            return self.store.replace_item(self.user, self.canonical, guid, data, ctype, self.clock)
        item = self.store.replace_item(self.user, self.canonical, guid, data, ctype, self.clock, parent=parent)
        if item is not None and self._parents is not None:
            self._parents[guid] = item.parent
        return item

    def _moved(self, item: StoredItem, parent: str) -> StoredItem | None:
        """``item`` moved under ``parent`` (its data as it is)."""
        self._count("moved")
        return self._replace_stored(item.guid, item.data, item.content_type, parent)

    def move(self, luid: str | None, target: str | None, parent: str | None) -> int:
        """A client's Move: the item to another folder (same GUID), its data
        unchanged; 404 for an item the server does not know."""
        guid = self._guid_for(luid, target)
        current = self.store.get_item(self.user, self.canonical, guid) if guid is not None else None
        if current is None or current.deleted:
            return StatusCode.NOT_FOUND
        parent = parent or ""
        if parent == current.parent:
            return StatusCode.OK
        self._check_place(current.guid, parent)
        entry = self._by_guid.get(current.guid)
        # the client holds the new revision, unless it missed a change of ours (that goes out still)
        held = entry is None or entry.known_rev == current.rev or current.guid in self.touched
        new = self._moved(current, parent)
        assert new is not None
        self.touched.add(current.guid)
        self._map(luid if luid is not None else (entry.luid if entry else None), current.guid,
                  new.rev if held else (entry.known_rev if entry is not None else new.rev))
        return StatusCode.OK

    def remember_parent(self, key: str, named: tuple[str | None, str | None], done: bool) -> tuple[
            str | None, str | None]:
        """The parent a large object's chunks name, ``(SourceParent,
        TargetParent)``: a client may name it in the first chunk only, so it
        is kept until the last (``done``), at most for a few objects at once."""
        if named != (None, None):
            if not done:
                if len(self.chunk_parents) >= 16:
                    self.chunk_parents.pop(next(iter(self.chunk_parents)))
                self.chunk_parents[key] = named
            else:
                self.chunk_parents.pop(key, None)
            return named
        return self.chunk_parents.pop(key, named) if done else named

    def _holding_touched(self) -> set[str]:
        """The folders that hold an item the client sent in this session: a
        refresh from the client keeps them even when their own item did not
        come through (e.g. refused as malformed), so that deleting them does
        not take the client's items with them."""
        parents = self._tree_parents()
        holding: set[str] = set()
        for guid in self.touched:
            parent = parents.get(guid, "")
            while parent and parent not in holding:
                holding.add(parent)
                parent = parents.get(parent, "")
        return holding

    def luid_of(self, guid: str) -> str | None:
        """The client's LUID of ``guid`` (None: not mapped, or its Map has not come)."""
        entry = self._by_guid.get(guid)
        return entry.luid if entry is not None else None

    def _in_tree_order(self, ops: list[Op], listed: list[StoredItem]) -> list[Op]:
        """Package 4 of a tree datastore: a flat client gets no folder items;
        a hierarchical one gets parents before children and the Deletes of
        children before their folders (after the Adds and Replaces, which
        may move items out of a folder being deleted)."""
        by_guid = {i.guid: i for i in listed}
        if not self.hierarchical:
            return [op for op in ops if not op.guid or op.guid not in by_guid or flat_visible(by_guid[op.guid])]
        parents = {i.guid: i.parent for i in listed}
        first = [op for op in ops if not op.guid]
        writes = {op.guid: op for op in ops if op.guid and op.kind is not Operation.DELETE}
        deletes = {op.guid: op for op in ops if op.guid and op.kind is Operation.DELETE}
        return (first + [writes[g] for g in tree_order(writes, parents)]
                + [deletes[g] for g in tree_order(deletes, parents, deletes=True)])

    # -- the client's changes --------------------------------------------
    def _guid_for(self, luid: str | None, target: str | None) -> str | None:
        """The GUID the client means: by its LUID, or by our GUID when it
        names it (an item referenced before its Map arrived)."""
        if luid is not None and luid in self._by_luid:
            return self._by_luid[luid].guid
        if luid is not None and luid in self.twins:  # (a folder the device added again, see add)
            return self.twins[luid]
        if target:
            item = self._head_of(target)
            if item is not None:
                if luid is not None:  # late map: learn it now
                    entry = self._by_guid.get(target)
                    self._map(luid, target, entry.known_rev if entry else item.rev)
                return target
        return None

    def _key(self, key: object, parent: str | None) -> bytes:
        """A content key's digest; in a hierarchical sync with the item's
        folder (the same file in two folders is two items)."""
        return key_digest((parent or "", key)) if self.hierarchical else key_digest(key)

    def _match(self, data: bytes, ctype: str, parent: str | None = None) -> StoredItem | None:
        """An unmatched live server item with the same content (slow sync)."""
        if self._keys is None:
            self._keys = {}
            for item in self._all_items():  # (only the keys' digests are kept)
                if item.guid not in self.touched and self._unconfirmed(item.guid):
                    what = f"{self.canonical}/{item.guid}"
                    key = self._key(content_key(item.data, item.content_type, what=what), item.parent)
                    self._keys.setdefault(key, []).append(item.guid)
                    seen = self._seen_by_client(item)
                    if seen is not None:  # also as a SIF client holds it (without what SIF cannot carry)
                        other = self._key(content_key(*seen, what=what), item.parent)
                        if other != key:
                            self._keys.setdefault(other, []).append(item.guid)
        if not self._keys:  # nothing left to match (a first slow sync): no need to parse
            return None
        guids = self._keys.get(self._key(content_key(data, ctype), parent))
        while guids:
            guid = guids.pop(0)
            if guid not in self.touched:
                return self.store.get_item(self.user, self.canonical, guid)
        return None

    def _seen_by_client(self, item: StoredItem) -> tuple[bytes, str] | None:
        """A stored contact, event or task as a SIF client gets it and sends it
        back (None for other clients: their formats carry everything)."""
        wanted = self.forced_type or self.wanted_type or self.client_type
        if not wanted or not wanted.startswith("text/x-s4j-") or self.canonical not in ("Contacts", "Events", "Tasks"):
            held = self._filter(self.held_filter)  # a field filter: the item as the client got it
            if held is None or held.field is None:
                if self.caps is not None and self.canonical in _CAPS_DATASTORES:  # as its CTCap lets it hold it
                    less = reduced(item.data, item.content_type, self.caps)
                    return None if less is None else (less, item.content_type)
                return None
            return self._reduced(held, item.data, item.content_type), item.content_type
        data, ctype = data_for_client(item.data, item.content_type, wanted, what=f"{self.canonical}/{item.guid}")
        if ctype != wanted:
            return None
        return canonical_data(self.canonical, data, ctype, what=f"{self.canonical}/{item.guid}")

    def _unconfirmed(self, guid: str) -> bool:
        """Not mapped, or sent without a LUID coming back (the device may hold it)."""
        entry = self._by_guid.get(guid)
        return entry is None or entry.luid is None

    def _matching_mode(self) -> bool:
        # (not in mode 7, slow to server: the server's data is erased, the client's copied)
        return self.mode in (AlertCode.SLOW_SYNC, AlertCode.REFRESH_FROM_CLIENT) and \
            self.performed != SyncMode.SLOW_TO_SERVER

    def add(self, luid: str | None, data: bytes, ctype: str | None, *, replace: bool = False,
            encoding: str | None = None, learned: bool = False, parent: str | None = None) -> int:
        """An Add (or a Replace of an item the server does not know);
        ``encoding``: the transfer encoding (Meta Format) it came in;
        ``parent``: the GUID of its folder (hierarchical sync; None or "": the root)."""
        if not learned:
            self._learn(data, ctype, encoding)
        data, stored_type = canonical_data(self.canonical, data, ctype, what=f"{self.canonical} LUID {luid}")
        stored_type = self._tree_type(data, stored_type) or stored_type
        if luid is not None and luid in self._by_luid:  # an Add we already have (a resent message)
            return self.replace(luid, None, data, stored_type, learned=True, parent=parent)
        if parent:
            self._check_place(None, parent)
        if self._matching_mode():
            match = self._match(data, stored_type, parent)
            if match is None and luid is not None and luid in self.old_map:
                old = self.old_map[luid]
                match = self.store.get_item(self.user, self.canonical, old.guid)
                if (match is not None and match.deleted and match.guid not in self.touched
                        and self.policy is not ConflictPolicy.CLIENT_WINS):
                    # deleted on the server since the device saw it (e.g. our Delete was lost in a
                    # crash): the delete stands and goes out again, as in a two-way sync
                    self.touched.add(match.guid)
                    self._map(luid, match.guid, old.known_rev)
                    self._count("delete-kept")
                    return StatusCode.OK if replace else StatusCode.ITEM_ADDED
                if match is not None and (match.deleted or match.guid in self.touched):
                    match = None
                if match is not None:  # the item the device had under that LUID, changed on one side or both
                    if self._from_client() or old.known_rev == match.rev:
                        # a refresh from the client, or only the client changed it: the client's version
                        merged, merged_type = self._merged(match, data, stored_type)
                        self._keep_revision(match)
                        new = self.store.replace_item(self.user, self.canonical, match.guid, merged, merged_type,
                                                      self.clock)
                        match = new or match
                    else:  # a conflict: the policy decides (server wins: our version goes back as Replace)
                        self.touched.add(match.guid)
                        self._map(luid, match.guid, -1)
                        return self._conflict(luid, match, data, stored_type)
            if match is not None and self.hierarchical and parent is not None and match.parent != parent \
                    and not creates_loop(match.guid, parent, self._tree_parents()):
                match = self._moved(match, parent) or match  # (the client holds it elsewhere: its place wins)
            if match is not None:
                self.touched.add(match.guid)
                self._map(luid, match.guid, match.rev)
                self._count("matched")
                return StatusCode.OK if replace else StatusCode.ITEM_ADDED
        if self.hierarchical and luid and stored_type == FOLDER_CONTENT_TYPE and not self._from_client() \
                and self.performed != SyncMode.SLOW_TO_SERVER:
            same = self._folder_named(data, parent or "")
            if same is not None:
                return self._onto_folder(luid, same, replace)
        if self.performed == SyncMode.SLOW_TO_SERVER and self.mode == AlertCode.REFRESH_FROM_CLIENT:
            self._erase_twin(luid, data, stored_type)
        item = self._add_stored(data, stored_type, parent)
        self.touched.add(item.guid)
        self._map(luid, item.guid, item.rev)
        self._count("added")
        return StatusCode.ITEM_ADDED

    def _folder_named(self, data: bytes, parent: str) -> StoredItem | None:
        """The live folder of the name of the folder object ``data`` in
        ``parent`` (a view that keeps its folders by path says,
        ``folder_named``; else the folder's items are read, files and all)."""
        name = FolderObject.parse(data).name
        if not name:
            return None
        finder = getattr(self.store, "folder_named", None)
        if finder is not None:
            guid = finder(self.user, self.canonical, parent, name)
            return self._head_of(guid) if guid else None
        for guid, at in self._tree_parents().items():
            if at == parent:
                item = self.store.get_item(self.user, self.canonical, guid)
                if item is not None and not item.deleted and item.content_type == FOLDER_CONTENT_TYPE \
                        and FolderObject.parse(item.data).name == name:
                    return item
        return None

    def _onto_folder(self, luid: str, folder: StoredItem, replace: bool) -> int:
        """A device's Add of a folder the tree has (same name, same parent):
        no second folder.  The device gets it under this LUID, unless it
        holds it under another one already: then that one stays, and in
        package 4 the device deletes the folder it added and gets again what
        it put in it in this session, in the folder it had (:meth:`outgoing`;
        in a mode where the server sends nothing, the new LUID is mapped
        instead, and the one the device held is let go)."""
        self.touched.add(folder.guid)
        self._count("matched")
        entry = self._by_guid.get(folder.guid)
        if entry is not None and entry.luid is not None and entry.luid != luid and self.mode in SERVER_SENDS:
            self.twins[luid] = folder.guid
            log.info("user %s device %s: %s folder %s added again as LUID %s (it holds it as %s): merged",
                     log_quoted(self.user), log_quoted(self.device.device_id), self.canonical, folder.guid,
                     log_quoted(luid), log_quoted(entry.luid))
        else:
            self._map(luid, folder.guid, folder.rev)
        return StatusCode.OK if replace else StatusCode.ITEM_ADDED

    def _drop_twins(self) -> list[Op]:
        """Package 4: the folders the device added again (:meth:`_onto_folder`)
        deleted on it, and what it put in them unmapped, so that it goes to
        the device again (as Adds, into the folder it had)."""
        ops = [Op(kind=Operation.DELETE, guid="", luid=luid, rev=0) for luid in self.twins]
        for luid in self.in_twins:
            entry = self._by_luid.get(luid)
            if entry is not None:
                for gone in (entry.guid, *self._inside(entry.guid)):
                    self._unmap(gone)
        self._count_n("twins-dropped", len(ops))
        self.twins, self.in_twins = {}, set()
        return ops

    def _erase_twin(self, luid: str | None, data: bytes, ctype: str) -> None:
        """Mode 7 (slow to server): the server item this client item replaces
        (the one it held under that LUID before, else one of equal content) is
        erased now, as its copy is added, not when the client's package is
        complete: a session that breaks off in between then leaves each item
        once (the copy, or the original not sent yet), never both, so the
        next (slow) sync duplicates nothing on either side."""
        twin = None
        old = self.old_map.get(luid) if luid is not None else None
        if old is not None and old.guid not in self.touched:
            twin = self.store.get_item(self.user, self.canonical, old.guid)
            twin = None if twin is None or twin.deleted else twin
        if twin is None:
            twin = self._match(data, ctype)
        if twin is not None:
            self.touched.add(twin.guid)
            self.store.delete_item(self.user, self.canonical, twin.guid, self.clock)
            self._unmap(twin.guid)
            self._count("deleted")

    def replace(self, luid: str | None, target: str | None, data: bytes, ctype: str | None, *,
                encoding: str | None = None, learned: bool = False, parent: str | None = None) -> int:
        """A Replace; ``parent``: the GUID of the folder it is moved to
        (hierarchical sync; "": the root; None: where it is)."""
        if not learned:
            self._learn(data, ctype, encoding)
        guid = self._guid_for(luid, target)
        if guid is None:
            return self.add(luid, data, ctype, replace=True, learned=True, parent=parent)
        data, stored_type = canonical_data(self.canonical, data, ctype, what=f"{self.canonical}/{guid}")
        stored_type = self._tree_type(data, stored_type) or stored_type
        current = self.store.get_item(self.user, self.canonical, guid)
        entry = self._by_guid.get(guid)
        assert current is not None
        if parent is not None and not current.deleted:
            if parent == current.parent:
                parent = None
            else:
                self._check_place(guid, parent)
        if (self._matching_mode() and not current.deleted
                and content_key(data, stored_type) == content_key(current.data, current.content_type)):
            # a slow sync resending what the server holds (e.g. after a crash): nothing changed
            if parent is not None:
                current = self._moved(current, parent) or current
            self.touched.add(guid)
            self._map(luid, guid, current.rev)
            self._count("matched")
            return StatusCode.OK
        if entry is not None and entry.known_rev != current.rev and guid not in self.touched:
            return self._conflict(luid, current, data, stored_type, parent)
        if current.deleted:
            self._unmap(guid)
            return self.add(luid, data, stored_type, replace=True, learned=True, parent=parent)
        data, stored_type = self._merged(current, data, stored_type)
        self._keep_revision(current)
        new = self._replace_stored(guid, data, stored_type, parent)
        assert new is not None
        self.touched.add(guid)
        self._map(luid, guid, new.rev)
        self._count("replaced")
        return StatusCode.OK

    def delete(self, luid: str | None, target: str | None) -> int:
        guid = self._guid_for(luid, target)
        if guid is None:
            return StatusCode.ITEM_NOT_DELETED
        current = self.store.get_item(self.user, self.canonical, guid)
        entry = self._by_guid.get(guid)
        if current is None or current.deleted:
            self._unmap(guid)
            return StatusCode.ITEM_NOT_DELETED
        if (entry is not None and entry.known_rev != current.rev and guid not in self.touched
                and self.policy is not ConflictPolicy.CLIENT_WINS):
            # the server changed what the client deleted: keep it and send it again
            self.store.log_conflict(self.device, self.canonical, guid, b"", current.content_type,
                                    "client deleted an item the server changed; server version kept", self.clock,
                                    other_data=current.data, other_type=current.content_type)
            self._unmap(guid)
            self._count("conflicts")
            return StatusCode.CONFLICT_RESOLVED_SERVER_WINS
        inside = self._inside(guid) if self.tree else []
        self.store.delete_item(self.user, self.canonical, guid, self.clock)
        self._unmap(guid)
        self.touched.add(guid)
        self._count("deleted")
        for inner in inside:  # (deleted with their folder, on the client too: nothing goes back)
            self.touched.add(inner)
            self._unmap(inner)
            self._count("deleted")
        if self._parents is not None:
            for gone in (guid, *inside):
                self._parents.pop(gone, None)
        return StatusCode.OK

    def _soft_deleted(self) -> dict[str, int]:
        """GUID -> revision of the items the device dropped with SftDel (read once per session)."""
        if self._soft is None:
            self._soft = self.store.soft_deleted(self.device, self.canonical)
        return self._soft

    def _set_soft(self, guid: str, rev: int | None) -> None:
        soft = self._soft_deleted()
        if rev is None:
            if soft.pop(guid, None) is not None:
                self.store.set_soft_deleted(self.device, self.canonical, guid, None)
        else:
            soft[guid] = rev
            self.store.set_soft_deleted(self.device, self.canonical, guid, rev)

    def soft_delete(self, luid: str | None, target: str | None) -> int:
        """A client's Delete with ``SftDel`` (issue 15): the device dropped
        the item (to free its memory), the server keeps it.  It is unmapped
        and not sent to the device again while the revision the device held
        stands (a newer one goes to it as an Add; a slow sync sends it all
        again).  211 for an item the server does not know, 423 (soft-delete
        conflict) for one the server has deleted meanwhile."""
        guid = self._guid_for(luid, target)
        if guid is None:
            return StatusCode.ITEM_NOT_DELETED
        current = self._head_of(guid)
        entry = self._by_guid.get(guid)
        self._unmap(guid)
        if current is None:
            return StatusCode.ITEM_NOT_DELETED
        if current.deleted:
            return StatusCode.SOFT_DELETE_CONFLICT
        self._set_soft(guid, entry.known_rev if entry is not None and entry.known_rev >= 0 else current.rev)
        self._count("soft-deleted")
        return StatusCode.OK

    def copy(self, luid: str | None, target: str | None, data: bytes | None, ctype: str | None, *,
             encoding: str | None = None) -> int:
        """A client's Copy within this datastore (issue 15): the item it
        names (its Source the client's LUID, or its Target our GUID) is
        copied to a new item, in the same folder, with the Copy's data when
        it carries some.  The device does not hold the copy: it goes to it
        as an Add (in package 4 of this session when the mode sends, else
        of the next one).  404 when the item copied is unknown or deleted."""
        guid = self._guid_for(luid, target)
        current = self.store.get_item(self.user, self.canonical, guid) if guid is not None else None
        if current is None or current.deleted:
            return StatusCode.NOT_FOUND
        if data is None:
            data, stored_type = current.data, current.content_type
        else:
            self._learn(data, ctype, encoding)
            data, stored_type = canonical_data(self.canonical, data, ctype, what=f"{self.canonical} copy of {guid}")
            stored_type = self._tree_type(data, stored_type) or stored_type
        if stored_type == FOLDER_CONTENT_TYPE:  # (a folder copied alone would leave what it holds behind)
            return StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED
        item = self._add_stored(data, stored_type, current.parent if self.tree else None)
        self.touched.add(item.guid)
        self._count("copied")
        return StatusCode.ITEM_ADDED

    def send_back(self, luid: str | None, target: str | None) -> int:
        """A Delete the server refused (the inbox, a folder the storage keeps):
        the device has dropped the item, and a folder with what it held, all
        the same, so they are unmapped and go to it again as Adds (in package
        4 of this session, or of the next one that sends); the number of items."""
        guid = self._guid_for(luid, target)
        current = self._head_of(guid) if guid is not None else None
        if current is None or current.deleted:
            return 0
        inside = self._inside(current.guid) if self.tree else []
        for gone in (current.guid, *inside):
            self._unmap(gone)
            self._count("sent-back")
        return 1 + len(inside)

    def _conflict(self, luid: str | None, current: StoredItem, data: bytes, ctype: str,
                  parent: str | None = None) -> int:
        """The client replaced an item the server changed since the device saw it.
        The conflict log gets both versions: the loser (or the device's) and the other."""
        self._count("conflicts")
        self.overruled.add(current.guid)  # (whoever wins, the client holds other content: never only a Move)
        policy = self.policy
        if policy is ConflictPolicy.NEWER_WINS:
            theirs, ours = modified_time(data), modified_time(current.data)
            policy = (ConflictPolicy.CLIENT_WINS if theirs and (not ours or theirs > ours)
                      else ConflictPolicy.SERVER_WINS)
        if current.deleted:
            if policy in (ConflictPolicy.SERVER_WINS, ConflictPolicy.MERGE):
                self.store.log_conflict(self.device, self.canonical, current.guid, data, ctype,
                                        "client changed an item the server deleted; delete kept", self.clock)
                return StatusCode.CONFLICT_RESOLVED_SERVER_WINS
            self._unmap(current.guid)
            self.add(luid, data, ctype, learned=True, parent=parent)
            return StatusCode.CONFLICT_RESOLVED_CLIENT_WINS
        if policy is ConflictPolicy.MERGE:
            merged = self._merge(luid, current, data, ctype, parent)
            if merged is not None:
                return merged
            policy = ConflictPolicy.SERVER_WINS  # (not mergeable: logged as the fallback it is)
            reason = "both changed; not mergeable, server wins (fallback)"
        else:
            reason = "both changed; server wins"
        if policy is ConflictPolicy.SERVER_WINS:
            self.store.log_conflict(self.device, self.canonical, current.guid, data, ctype, reason, self.clock,
                                    other_data=current.data, other_type=current.content_type)
            return StatusCode.CONFLICT_RESOLVED_SERVER_WINS  # the server version goes out (known_rev differs)
        if policy is ConflictPolicy.DUPLICATE:
            self.store.log_conflict(self.device, self.canonical, current.guid, data, ctype,
                                    "both changed; kept both", self.clock,
                                    other_data=current.data, other_type=current.content_type)
            self._unmap(current.guid)  # the server version goes to the client as a new item
            item = self._add_stored(data, ctype, current.parent if parent is None else parent)
            self.touched.add(item.guid)
            self._map(luid, item.guid, item.rev)
            return StatusCode.CONFLICT_RESOLVED_WITH_DUPLICATE
        self.store.log_conflict(self.device, self.canonical, current.guid, current.data, current.content_type,
                                "both changed; client wins", self.clock, other_data=data, other_type=ctype)
        data, ctype = self._merged(current, data, ctype)
        self._keep_revision(current)
        new = self._replace_stored(current.guid, data, ctype, parent)
        assert new is not None
        self.touched.add(current.guid)
        self._map(luid, current.guid, new.rev)
        return StatusCode.CONFLICT_RESOLVED_CLIENT_WINS

    def _merge(self, luid: str | None, current: StoredItem, data: bytes, ctype: str,
               parent: str | None) -> int | None:
        """The ``merge`` policy: both versions combined property by property
        against the version the device held (:func:`._capmerge.merged_fields`),
        stored, logged with both versions, and sent back to the device (207);
        None: not mergeable (not a contact, event or task in the same type)."""
        if self.canonical not in _CAPS_DATASTORES or ctype != current.content_type:
            return None
        data, ctype = self._merged(current, data, ctype)  # (what the device cannot hold is kept first)
        entry = self._by_guid.get(current.guid)
        base = None
        if entry is not None and entry.known_rev > 0:
            found = getattr(self.store, "item_revision", None)
            kept = found(self.user, self.canonical, current.guid, entry.known_rev) if found is not None else None
            base = kept[0] if kept is not None and kept[1] == ctype else None
        result = merged_fields(base, current.data, data, ctype)
        if result is None:
            return None
        self.store.log_conflict(self.device, self.canonical, current.guid, data, ctype, result.describe(),
                                self.clock, other_data=current.data, other_type=current.content_type)
        self._count("merged")
        self._keep_revision(current)
        new = self._replace_stored(current.guid, result.data, ctype, parent)
        assert new is not None
        self.touched.add(current.guid)
        # the merged item goes back to the device: it holds neither its own version nor the server's (an
        # earlier revision, confirmed when the session completes: :meth:`commit`)
        self._map(luid, current.guid, entry.known_rev if entry is not None and entry.known_rev > 0 else 0)
        return StatusCode.CONFLICT_RESOLVED_WITH_MERGE

    def _keep_revision(self, current: StoredItem) -> None:
        """With the ``merge`` policy, keep the version being replaced: the base a
        device that still holds it is merged against (``Store.keep_revision``)."""
        if self.policy is not ConflictPolicy.MERGE or current.deleted or self.canonical not in _CAPS_DATASTORES:
            return
        keep = getattr(self.store, "keep_revision", None)
        if keep is not None:
            keep(self.user, self.canonical, current.guid, current.rev, current.data, current.content_type)

    def erase_later(self, luid: str | None, added: bool) -> int:
        """An item the client sent in a fallback erasing its data: its LUID
        kept for a Delete in package 4 (the item itself goes nowhere)."""
        if not luid or len(luid) > MAX_ERASED_LUID:
            log.warning("user %s device %s: %s item with %s LUID cannot be deleted on the client: refused",
                        log_quoted(self.user), log_quoted(self.device.device_id), self.canonical,
                        "no" if not luid else "a too long")
            return StatusCode.BAD_REQUEST
        self.erase[luid] = None
        self._count("to-erase")
        return StatusCode.ITEM_ADDED if added else StatusCode.OK

    def client_done(self) -> None:
        """The client's package 3 is complete: a refresh from the client
        deletes what the client did not send; a resumed session sends again
        the Adds the device did not confirm (no Map, not among its items)."""
        if self.resumed:
            for entry in list(self._by_guid.values()):
                if entry.luid is None and entry.guid not in self.touched and entry.guid not in self.acked:
                    self._unmap(entry.guid)
        if self._from_client():
            holding = self._holding_touched() if self.tree else set()
            for item in self._heads():
                if item.guid not in self.touched and item.guid not in holding:
                    self.store.delete_item(self.user, self.canonical, item.guid, self.clock)
                    self._unmap(item.guid)
                    self._count("deleted")
            # the client has everything now; nothing goes back
            for item in self._heads():
                if item.guid not in self._by_guid:
                    self._map(None, item.guid, item.rev)
            self.filter_xml, self._window = None, True  # (so it holds no filter window any more)

    # -- the server's changes --------------------------------------------
    def outgoing(self) -> list[Op]:
        """The changes to send in package 4 for this datastore's mode."""
        ops: list[Op] = []
        if self.suspended:
            return ops
        if self.erasing:  # (a Delete of what the client sent: no GUID, nothing in the map, see sent/failed)
            ops = [Op(kind=Operation.DELETE, guid="", luid=luid, rev=0) for luid in self.erase]
            self.erase = {}
            if self.fallback is Fallback.ERASE:
                return ops
        if self.mode not in SERVER_SENDS or self.performed == SyncMode.CLIENT_RESET or self.backup is not None \
                or self.fallback in (Fallback.TAKE, Fallback.HOLD):
            return ops  # (mode 9, client reset: the client erases its data and gets nothing; a backup: nothing;
            # modes 4 and 7 as a slow sync, 3 as a two-way one: nothing)
        if self.twins:
            ops += self._drop_twins()
        self._load_map()
        window, extra = self._filter(self.filter_xml), self._filter(self.inclusive_xml)
        self._window = True
        # a new window: what the device holds outside it goes (in a slow sync or refresh even what it sent now)
        changed = self.filter_xml != self.held_filter
        enforce = self.mode in (AlertCode.SLOW_SYNC, AlertCode.REFRESH_FROM_SERVER)
        # (only a record filter reads the items' data: without one, a field filter alone passing every item,
        # a view whose data is costly to read lists only their heads)
        reads = [f for f in (window, extra) if f is not None and f.record is not None]
        listing = self._filter_listing(reads) if reads else self._heads(include_deleted=True)
        listed: list[StoredItem] = []  # (a tree's, for its order: without their data)
        soft = self._soft_deleted()
        for item in listing:
            if self.tree:
                listed.append(dataclasses.replace(item, data=b"") if item.data else item)
            entry = self._by_guid.get(item.guid)
            if item.guid in soft:  # dropped by the device with SftDel (issue 15): not again while unchanged
                if entry is None and not item.deleted and soft[item.guid] == item.rev:
                    continue
                if item.deleted or entry is not None:
                    self._set_soft(item.guid, None)
            if item.deleted:
                if entry is not None:
                    if entry.luid is None:
                        self._unmap(item.guid)
                    else:
                        ops.append(Op(kind=Operation.DELETE, guid=item.guid, luid=entry.luid, rev=item.rev))
                continue
            passes, fetch = True, extra is not None and extra.record is None
            if reads:
                obj = parsed(item.data, item.content_type)
                luid = entry.luid if entry is not None else None
                if obj is not None:  # (an item no filter can read passes)
                    passes = window is None or window.matches(obj, luid)
                    fetch = extra is not None and extra.matches(obj, luid)
            if fetch and (entry is None or entry.luid is not None):  # INCLUSIVE: sent whatever else holds
                self.fetched.add(item.guid)
                ops.append(Op(kind=Operation.ADD if entry is None else Operation.REPLACE, guid=item.guid,
                              luid=None if entry is None else entry.luid, rev=item.rev))
                self._count("fetched")
            elif entry is None:
                if passes:
                    ops.append(Op(kind=Operation.ADD, guid=item.guid, luid=None, rev=item.rev))
            elif not passes and (entry.known_rev != item.rev
                                 or (changed and (enforce or item.guid not in self.touched))):
                # out of the window: deleted on the client, never on the server (unmapped when confirmed)
                if entry.luid is None:
                    self._unmap(item.guid)
                else:
                    ops.append(Op(kind=Operation.DELETE, guid=item.guid, luid=entry.luid, rev=item.rev))
                    self._count("filtered-out")
            elif entry.known_rev != item.rev and entry.luid is not None:
                ops.append(Op(kind=Operation.REPLACE, guid=item.guid, luid=entry.luid, rev=item.rev))
                if self._only_moved(item.guid, entry.known_rev):
                    self.moves.add(item.guid)
        return self._in_tree_order(ops, listed) if self.tree else ops

    def _only_moved(self, guid: str, known_rev: int) -> bool:
        """Whether the client holds the item's content and only its folder
        changed since (hierarchical sync: a Move, not the whole item): its
        content's revision (``content_revs``, schema 12) is not newer than the
        one the client holds, and it neither sent the item in this session
        (nor lost a conflict over it) nor gets it through the INCLUSIVE
        filter; not in a slow sync, a refresh or a fallback."""
        if not self.hierarchical or not self.hierarchical_moves or guid in self.touched or guid in self.overruled \
                or guid in self.fetched \
                or self.fallback is not Fallback.NONE \
                or self.mode in (AlertCode.SLOW_SYNC, AlertCode.REFRESH_FROM_SERVER):
            return False
        if self._content_revs is None:
            lister = getattr(self.store, "content_revs", None)
            self._content_revs = dict(lister(self.user, self.canonical)) if lister is not None else {}
        content_rev = self._content_revs.get(guid)
        return content_rev is not None and content_rev <= known_rev

    def parent_of(self, guid: str) -> str:
        """The folder (GUID, ``""``: the root) a live item of the tree is in."""
        return self._tree_parents().get(guid, "")

    def sent(self, op: Op) -> None:
        """``op`` went out: an Add is mapped without a LUID (until the Map),
        a Replace or Delete is confirmed when the session completes (both undone by an
        error Status, see :meth:`failed`).  The first change sent clears the
        anchors (see the module doc)."""
        self._invalidate()
        if not op.guid:  # a fallback's Delete of a LUID the client sent: nothing to confirm
            return
        if op.kind in (Operation.DELETE, Operation.REPLACE):
            self._replaced[op.guid] = op
        else:
            self._map(op.luid, op.guid, op.rev)
            self._set_soft(op.guid, None)  # (a newer revision of an item the device dropped: it holds it again)

    def failed(self, op: Op) -> None:
        """The client refused ``op``: send it again next time (a fallback's
        Delete of a LUID: not again, the client does not have it)."""
        if not op.guid:
            return
        if op.kind is Operation.ADD:
            self._unmap(op.guid)
        elif op.kind is Operation.DELETE:  # (e.g. 404: the device does not have it either)
            self._replaced.pop(op.guid, None)
            self._unmap(op.guid)
        elif op.kind is Operation.REPLACE:
            self._replaced.pop(op.guid, None)
            self._map(op.luid, op.guid, -1)

    def mapped(self, luid: str, guid: str) -> bool:
        """A Map item: the client's LUID for an item we added."""
        item = self._head_of(guid)
        if item is None:
            return False
        entry = self._by_guid.get(guid)
        self._map(luid, guid, entry.known_rev if entry is not None else item.rev)
        return True

    def commit(self) -> None:
        """The session completed: the Replaces sent are confirmed; save the
        anchors; clear the pending mode performed.  A backup: its file made,
        no anchors saved; the resume point goes.  Suspended: nothing (the
        session is to be resumed)."""
        if self.suspended:
            return
        self.store.set_resume_point(self.device, self.canonical, None)
        if self.backup is not None:
            self.stats["backed-up"] = self.backup.count
            self.backup.finish(self.clock)
            return
        if self.pending is not None:
            self.store.set_pending_mode(self.device, self.canonical, None)
        for op in self._replaced.values():
            entry = self._by_guid.get(op.guid)
            if op.kind is Operation.DELETE:
                self._unmap(op.guid)
            elif entry is not None and entry.luid == op.luid and entry.known_rev != -1:
                self._map(op.luid, op.guid, op.rev)
        self._replaced.clear()
        if self._window and self.filter_xml != self.held_filter:  # the window the device holds now
            self.store.set_device_filter(self.device, self.canonical, self.filter_xml)
        self.store.set_anchors(self.device, self.canonical, self.client_next, self.server_next)
