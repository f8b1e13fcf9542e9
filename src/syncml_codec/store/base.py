"""The storage protocol the sync engine runs on, its plain records, and the
canonical datastore names.

Invariants every store keeps:

* Passwords are never stored: an account holds ``b64(md5(user:password))``
  (:func:`syncml_codec.model.auth.user_password_hash`), enough to check basic
  credentials (hash the given password) and MD5 ones
  (:func:`~syncml_codec.model.auth.md5_credential_from_hash`).  That hash is
  password-equivalent for MD5 auth; an account restricted to basic auth
  (``basic_only``) holds a salted scrypt hash instead
  (:func:`~syncml_codec.model.auth.scrypt_hash`) and cannot use MD5.
* Looking an account or a device up (:meth:`Store.account`,
  :meth:`Store.find_device`) writes nothing: the engine creates a device row
  (:meth:`Store.device`) only for a request that authenticated.
* Items live per account and canonical datastore; the store assigns GUIDs.
  ``rev`` grows on every change (one counter per store, so revisions are
  also an order of changes); a deleted item stays as a tombstone so devices
  that still map it learn of the delete.
* Per device and datastore the store keeps the anchors of the last complete
  session and the map ``LUID <-> GUID`` with the revision the device is known
  to hold (``known_rev``).  "What the device must receive" is every live item
  whose ``rev`` differs from its ``known_rev`` (or that is not mapped), plus
  the tombstones it still maps.
* Per device and datastore the store also keeps the format the device
  sends (:class:`DeviceFormat`: real content type, declared type, version,
  transfer encoding) and the one it accepts, so that a device without DevInf
  (sync4j/Funambol clients) is answered in kind in later sessions too.
* Per device and datastore the store may keep a *pending mode*: the sync
  mode its next sync of that datastore must take (a refresh from the server
  after ``syncml backup restore``), cleared when that session completes.
* Per device and datastore the store may keep a *filter*: the SyncML
  ``<Filter>`` (as XML) of the device's last complete session, the window of
  the server's items it holds (none: all of them).
* Items may form a tree (issue 14, SyncML 1.2 hierarchical sync): an
  item's ``parent`` is the GUID of the folder item that contains it in the
  same datastore (``""``: the datastore's root); a move is a replace with
  another parent under the same GUID.  Deleting an item deletes what it
  contains, each leaving a tombstone.  The store keeps the tree as it is
  told; refusing loops and unknown parents is the engine's (``engine._tree``).
* ``with store.transaction():`` makes everything inside atomic (the engine
  opens one per processed message); nested use joins the outer one.
  ``with store.savepoint():`` inside it undoes what its block wrote when the
  block raises (and lets the exception through), keeping what came before:
  the engine's SyncML ``Atomic`` (issue 15).  Savepoints nest.
* Per device and datastore the store may keep *soft deletes* (issue 15): the
  GUIDs the device dropped with a SyncML ``SftDel`` (to free its memory), with
  the revision it dropped; the server keeps the items and does not send them
  again while that revision stands.  Forgetting a device's map forgets them too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "ALIASES",
    "AUTH_POLICIES",
    "DATASTORES",
    "KEPT_REVISIONS",
    "TREE_DATASTORES",
    "Account",
    "Anchors",
    "Conflict",
    "DatastoreState",
    "Device",
    "DeviceFormat",
    "LiveSession",
    "MapEntry",
    "PushTarget",
    "ResumePoint",
    "SessionRecord",
    "Store",
    "StoredItem",
    "account_domain",
    "canonical_datastore",
    "normal_domain",
]

#: how many earlier versions of an item the store keeps (the base of a ``merge`` conflict, issue 15):
#: a device that missed more changes than this is merged without a base
KEPT_REVISIONS = 4

#: the authentication policies (``syncml serve --auth-policy``, ``syncml user policy``)
AUTH_POLICIES = ("basic-or-md5", "basic", "md5")

#: the canonical datastores, in the order a server lists them
DATASTORES = ("Contacts", "Events", "Tasks", "Notes", "Journal")

#: the canonical datastores whose items form a tree of folders (SyncML 1.2 hierarchical sync,
#: issue 14): files and folders (``application/vnd.omads-file+xml``, ``...-folder+xml``)
TREE_DATASTORES = ("Files",)

#: lower-case alias -> canonical name (IceWarp's aliases plus the URIs common
#: clients use: SyncEvolution's addressbook/calendar/todo/memo, Funambol's card/cal/task/note)
ALIASES: dict[str, str] = {
    "contacts": "Contacts", "contact": "Contacts", "addressbook": "Contacts", "card": "Contacts",
    "scard": "Contacts", "vcard": "Contacts",
    "events": "Events", "event": "Events", "calendar": "Events", "cal": "Events", "scal": "Events",
    "tasks": "Tasks", "task": "Tasks", "todo": "Tasks", "todos": "Tasks", "stask": "Tasks",
    "notes": "Notes", "note": "Notes", "memo": "Notes", "memos": "Notes", "snote": "Notes",
    "journal": "Journal", "journals": "Journal",
    "files": "Files", "file": "Files", "briefcase": "Files",
}


def canonical_datastore(name: str, folders: Iterable[str] = ()) -> str | None:
    """The canonical datastore a client's URI names, case-insensitively,
    ignoring a leading ``./`` or ``/`` and URL parameters; None if unknown.

    ``folders``: the account's own folders (none yet: the rule is ready for
    mail folders).  An alias yields to a folder of the same name, as IceWarp
    has it ("Calendar is an alias of Events unless a folder named Calendar
    exists"): the name is then the folder's (None here); a canonical name
    (``Events``) always stays itself.

    >>> canonical_datastore("./AddressBook"), canonical_datastore("cal?format=vcal")
    ('Contacts', 'Events')
    >>> canonical_datastore("mail") is None
    True
    >>> canonical_datastore("Calendar"), canonical_datastore("Calendar", folders=["calendar"])
    ('Events', None)
    >>> canonical_datastore("events", folders=["Events"])
    'Events'
    """
    key = name.strip().split("?", 1)[0].split("#", 1)[0].strip()
    while key.startswith(("./", "/")):
        key = key[2:] if key.startswith("./") else key[1:]
    key = key.strip("/").lower()
    canonical = ALIASES.get(key)
    if canonical is not None and key != canonical.lower() and key in {f.strip().lower() for f in folders}:
        return None  # a folder of that name exists: the name is the folder's
    return canonical


def normal_domain(text: str) -> str:
    """A domain name as domains are compared: lower case, without the final
    dot of a fully qualified name, an internationalised name in its ASCII
    (IDNA, ``xn--``) form, so that ``Bücher.DE.`` and ``xn--bcher-kva.de``
    are one domain (a domain disabled in one spelling is disabled in all).
    A name IDNA cannot encode is kept lower-cased.

    >>> normal_domain(" Example.ORG. "), normal_domain("Bücher.de"), normal_domain("XN--BCHER-KVA.DE")
    ('example.org', 'xn--bcher-kva.de', 'xn--bcher-kva.de')
    """
    domain = text.strip().lower().rstrip(".")
    try:
        return domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return domain


def account_domain(name: str) -> str | None:
    """The domain of an account named ``user@domain`` (:func:`normal_domain`:
    domains compare case-insensitively, IDN and final dot aside); None for a
    name without one.

    >>> account_domain("Anna@Example.ORG."), account_domain("anna")
    ('example.org', None)
    """
    user, at, domain = name.rpartition("@")
    domain = normal_domain(domain)
    return domain if at and user and domain else None


@dataclass(frozen=True, slots=True)
class Account:
    """An account: ``secret`` is ``b64(md5(user:password))``, or for a
    ``basic_only`` account an ``scrypt$...`` hash.  A ``disabled`` account
    is refused as a wrong password is.  ``auth_policy``: one of
    :data:`AUTH_POLICIES`, or None for the server's; ``data_key``: its
    data-encryption secret *sealed* (None: it has none; read it with
    :meth:`Store.data_key`)."""

    name: str
    secret: str
    basic_only: bool = False
    disabled: bool = False
    auth_policy: str | None = None
    data_key: bytes | None = None


@dataclass(frozen=True, slots=True)
class Device:
    """A device (SyncML ``Source/LocURI`` of its messages) of one account."""

    id: int
    user: str
    device_id: str
    nonce: bytes | None = None  # the NextNonce last sent to it
    devinf: bytes | None = None  # its last DevInf (WBXML)


@dataclass(frozen=True, slots=True)
class DeviceFormat:
    """What a device sends and accepts for one datastore, remembered across
    sessions.  ``content_type`` is the type its data really is (detected from
    the bytes), ``declared`` what it labelled it with, ``version`` the
    format's version (``2.1``, ``1.0``, a SIF version), ``encoding`` the
    transfer encoding of its items (``b64``: base64 with ``<Format>b64``;
    ``base64``: base64 data without a Format; ``""``: plain), ``accepts`` the
    type it is sent (None: what it sends)."""

    content_type: str
    declared: str = ""
    version: str = ""
    encoding: str = ""
    accepts: str | None = None


@dataclass(frozen=True, slots=True)
class StoredItem:
    """An item as the server keeps it: ``guid`` is its server ID, ``rev`` its revision (it grows on
    every change), and a deleted item stays as a tombstone (``deleted``) so that devices learn of
    the delete; ``parent``: the GUID of the folder item that contains it in the same datastore
    (``""``: the root; hierarchical sync, issue 14)."""

    guid: str
    data: bytes
    content_type: str
    rev: int
    deleted: bool = False
    modified: float = 0.0  # seconds since the epoch, from the engine's clock
    parent: str = ""  # the GUID of the folder item that contains it ("": the datastore's root)


@dataclass(frozen=True, slots=True)
class Anchors:
    """The anchors of the last complete session (None: never synced)."""

    client_last: str | None = None
    server_last: str | None = None


@dataclass(frozen=True, slots=True)
class ResumePoint:
    """Where a device's session of a datastore can be resumed (OMA DS 1.2
    Alert 225, issue 15): the session that last opened it and did not
    complete, the sync mode it performed (an alert code, 200-205), the anchors
    it carried, and whether the client suspended it (Alert 224) or it broke off
    (``suspended`` False)."""

    session_id: str
    mode: int
    client_next: str
    server_next: str
    suspended: bool = False


@dataclass(frozen=True, slots=True)
class MapEntry:
    """``luid`` is None while the device has the item but has not sent its Map."""

    luid: str | None
    guid: str
    known_rev: int


@dataclass(frozen=True, slots=True)
class Conflict:
    """A conflict the engine resolved: on which device, datastore and item, the losing version
    (``data``: the device's version when both were kept or merged), how it was resolved
    (``reason``) and when (``at``, the engine's clock); ``other_data``: the other version (the
    winner, or the merged item; empty for a deleted item and in conflicts logged before
    schema 15)."""

    device_id: str
    datastore: str
    guid: str
    data: bytes
    content_type: str
    reason: str
    at: float
    id: int = 0  # the store's number for it (``syncml conflict show ID``)
    user: str = ""
    other_data: bytes = b""
    other_type: str = ""


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """One finished session of a device: its ID, start and end (seconds since the epoch),
    ``outcome`` (``"ok"`` or what went wrong) and ``detail`` per datastore."""

    device_id: str
    session_id: str
    started: float
    ended: float
    outcome: str  # "ok" or what went wrong
    detail: str  # e.g. "Contacts:201 +2 ~0 -0"
    user: str = ""


@dataclass(frozen=True, slots=True)
class DatastoreState:
    """What the store keeps of one device for one datastore (``syncml device show``):
    its anchors, how many items its map holds (``mapped``; ``pending``: Adds sent
    whose Map has not come yet) and its format (None until it sent an item)."""

    datastore: str
    anchors: Anchors
    mapped: int
    pending: int
    format: DeviceFormat | None


@dataclass(frozen=True, slots=True)
class PushTarget:
    """A device's registration for server-alerted sync (its sync URL carried
    ``push``), per datastore: ``server_id`` the server as the device knows it
    (the URL it sends its messages to, without parameters: the server
    identifier of a notification), ``server_uri`` the datastore as it names
    it, ``registered`` when (seconds since the epoch)."""

    datastore: str
    server_id: str
    server_uri: str
    registered: float


@dataclass(frozen=True, slots=True)
class LiveSession:
    """A session between two of its messages (or a finished one kept for a
    resent last message): whose it is, when its last message came, whether it
    is over, and the engine's state, which the store keeps as opaque bytes.
    Kept in the store so that any worker of any host serves the next message."""

    session_id: str
    user: str
    device_id: str
    last_seen: float
    done: bool
    state: bytes = b""  # empty in listings (:meth:`Store.live_sessions`)


class Store(Protocol):
    """What the engine needs from a storage backend (see the module doc)."""

    def transaction(self) -> AbstractContextManager[None]: ...
    def savepoint(self) -> AbstractContextManager[None]: ...

    # accounts
    def add_user(self, name: str, password: str, *, basic_only: bool = False) -> None: ...
    def account(self, name: str) -> Account | None: ...
    def user_hash(self, name: str) -> str | None: ...
    def users(self) -> list[str]: ...
    def set_disabled(self, name: str, disabled: bool) -> bool: ...
    def delete_user(self, name: str) -> bool: ...
    def set_auth_policy(self, name: str, policy: str | None) -> bool: ...
    def set_data_key(self, name: str, key: str | None) -> bool: ...
    def data_key(self, name: str) -> str | None: ...
    def set_mail_imap(self, name: str, url: str | None) -> bool: ...
    def mail_imap(self, name: str) -> str | None: ...

    # domains (accounts named user@domain)
    def set_domain_disabled(self, domain: str, disabled: bool) -> None: ...
    def domain_disabled(self, domain: str) -> bool: ...
    def domains(self) -> list[tuple[str, bool]]: ...

    # devices
    def device(self, user: str, device_id: str) -> Device: ...
    def find_device(self, user: str, device_id: str) -> Device | None: ...
    def set_device_nonce(self, device: Device, nonce: bytes) -> Device: ...
    def set_device_devinf(self, device: Device, devinf: bytes) -> Device: ...

    # items
    # ``parent``: the containing folder item's GUID ("": the root; on replace None keeps it); schema 10
    def add_item(self, user: str, datastore: str, data: bytes, content_type: str,
                 modified: float = 0.0, parent: str = "") -> StoredItem: ...
    # ``same_content`` (schema 12): whether the content is unchanged (a pure move; None: the data and type say)
    def replace_item(self, user: str, datastore: str, guid: str, data: bytes, content_type: str,
                     modified: float = 0.0, parent: str | None = None,
                     same_content: bool | None = None) -> StoredItem | None: ...
    # GUID -> the revision that last changed each live item's content (0: none since added); schema 12
    def content_revs(self, user: str, datastore: str) -> dict[str, int]: ...
    # (deleting an item deletes what it contains, tombstones for each)
    def delete_item(self, user: str, datastore: str, guid: str, modified: float = 0.0) -> StoredItem | None: ...
    def get_item(self, user: str, datastore: str, guid: str) -> StoredItem | None: ...
    def items(self, user: str, datastore: str, include_deleted: bool = False) -> list[StoredItem]: ...
    # the items without their data (b""), and the items read a page at a time (issue 14: a session
    # holds the heads of what it sends, never every item's data at once)
    def item_heads(self, user: str, datastore: str, include_deleted: bool = False) -> list[StoredItem]: ...
    def item_head(self, user: str, datastore: str, guid: str) -> StoredItem | None: ...
    def iter_items(self, user: str, datastore: str, include_deleted: bool = False) -> Iterator[StoredItem]: ...

    # per device and datastore
    def anchors(self, device: Device, datastore: str) -> Anchors: ...
    def set_anchors(self, device: Device, datastore: str, client_last: str, server_last: str) -> None: ...
    def clear_anchors(self, device: Device, datastore: str) -> None: ...
    def map_entries(self, device: Device, datastore: str) -> list[MapEntry]: ...
    def set_map(self, device: Device, datastore: str, luid: str | None, guid: str, known_rev: int) -> None: ...
    def unmap(self, device: Device, datastore: str, guid: str) -> None: ...
    def forget_map(self, device: Device, datastore: str) -> None: ...
    def soft_deleted(self, device: Device, datastore: str) -> dict[str, int]: ...
    def set_soft_deleted(self, device: Device, datastore: str, guid: str, rev: int | None) -> None: ...
    def device_format(self, device: Device, datastore: str) -> DeviceFormat | None: ...
    def set_device_format(self, device: Device, datastore: str, fmt: DeviceFormat) -> None: ...
    # a mode the device's next sync of a datastore must take (``syncml backup restore``: 205); schema 7
    def pending_mode(self, device: Device, datastore: str) -> int | None: ...
    def set_pending_mode(self, device: Device, datastore: str, mode: int | None, since: float = 0.0) -> None: ...
    # the SyncML <Filter> (XML bytes) whose window the device holds of a datastore (issue 14); schema 9
    def device_filter(self, device: Device, datastore: str) -> bytes | None: ...
    def set_device_filter(self, device: Device, datastore: str, data: bytes | None) -> None: ...
    # suspend and resume (issue 15, schema 16): the device's resumable session of a datastore and the
    # changes the server sent in it that the device acknowledged (by GUID: the revision sent, -1 a Delete)
    def resume_point(self, device: Device, datastore: str) -> ResumePoint | None: ...
    def set_resume_point(self, device: Device, datastore: str, point: ResumePoint | None, *,
                         keep_acks: bool = False) -> None: ...
    def set_resume_ack(self, device: Device, datastore: str, guid: str, rev: int) -> None: ...
    def resume_acks(self, device: Device, datastore: str) -> dict[str, int]: ...

    # server-alerted sync (issue 13: the ``push`` URL parameter)
    def set_push_target(self, device: Device, target: PushTarget) -> None: ...
    def push_targets(self, device: Device) -> list[PushTarget]: ...

    # conflicts
    def log_conflict(self, device: Device, datastore: str, guid: str, losing_data: bytes, content_type: str,
                     reason: str, at: float = 0.0, *, other_data: bytes = b"", other_type: str = "") -> None: ...

    # item revisions (issue 15, schema 15): the version a device last held, the base of a ``merge``
    def keep_revision(self, user: str, datastore: str, guid: str, rev: int, data: bytes,
                      content_type: str) -> None: ...
    def item_revision(self, user: str, datastore: str, guid: str, rev: int) -> tuple[bytes, str] | None: ...
    def conflicts(self, user: str | None = None) -> list[Conflict]: ...

    # sessions
    def log_session(self, device: Device, session_id: str, started: float, ended: float, outcome: str,
                    detail: str = "") -> None: ...
    def sessions(self, user: str | None = None, last: int | None = None) -> list[SessionRecord]: ...

    # live sessions: the engine's state between messages, read and written
    # inside the message's transaction (any worker serves any message)
    def load_live_session(self, session_id: str) -> LiveSession | None: ...
    def save_live_session(self, session: LiveSession) -> None: ...
    def drop_live_sessions(self, session_ids: Iterable[str]) -> None: ...
    def live_sessions(self, user: str | None = None, device_id: str | None = None) -> list[LiveSession]: ...
    def count_live_sessions(self) -> int: ...
    def expire_live_sessions(self, before: float) -> list[str]: ...
    # the pieces of a live session's large objects (dropped with the session)
    def put_chunk(self, session_id: str, obj: str, seq: int, data: bytes) -> None: ...
    def chunk_data(self, session_id: str, obj: str) -> bytes: ...
    def drop_chunks(self, session_id: str, obj: str | None = None) -> None: ...
    def server_secret(self) -> bytes: ...
    def use_nonce(self, nonce: str, expires: float, now: float) -> bool: ...
    def nonce_used(self, nonce: str, now: float) -> bool: ...

    # operator views (``syncml device|session|conflict``)
    def devices(self, user: str | None = None) -> list[Device]: ...
    def device_state(self, device: Device) -> list[DatastoreState]: ...
    def reset_device(self, device: Device, datastore: str | None = None) -> list[str]: ...
    def conflict(self, conflict_id: int) -> Conflict | None: ...

