"""The sans-I/O SyncML client: ``ClientSession.start() -> Request``, then
``receive(body) -> Request | None`` until the session is done.

The caller moves the bytes (``Request.url``, ``.body``, ``.content_type``)
and hands back the answer body; the session never touches a socket, a clock
or a random source of its own.  The device's data lives in a
:class:`ClientStore` (in memory: datastores of items by LUID with change
tracking, the last anchors, the nonce for the next session), which outlives
sessions.  Phases follow :data:`._state.CLIENT_TABLE`.

>>> store = ClientStore("dev-1")
>>> contacts = store.add_datastore("./contacts", "contacts", "text/vcard", "3.0")
>>> luid = contacts.add(b"BEGIN:VCARD\\r\\nVERSION:3.0\\r\\nFN:A\\r\\nN:A;;;;\\r\\nEND:VCARD\\r\\n")
>>> session = ClientSession(store, url="http://127.0.0.1:8080/sync", user="test", password="secret",
...                         clock=lambda: 1.7e9)
>>> request = session.start()
>>> request.content_type
'application/vnd.syncml+wbxml'
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..codec.tree import Document
from ..devinf import ContentType, CTCap, DataStore, DevInf
from ..errors import SyncMLError
from ..filters import SIZE_EXT
from ..formats.email import EMAIL_CONTENT_TYPE, EmailObject
from ..formats.omads import FOLDER_CONTENT_TYPE
from ..mail.maildir import header_block
from ..model import (
    Add,
    Alert,
    AlertCode,
    Anchor,
    Atomic,
    CmdIDs,
    Command,
    Copy,
    Cred,
    Delete,
    Filter,
    Get,
    Item,
    Map,
    MapItem,
    Message,
    Meta,
    Move,
    Put,
    Replace,
    Results,
    Sequence,
    Source,
    SourceParent,
    Status,
    StatusCode,
    Sync,
    SyncBody,
    SyncHdr,
    Target,
    auth,
    status_for,
    status_for_header,
)
from ..model.auth import AuthType
from ..model.size import wbxml_size, xml_size
from ._chunks import Reassembler
from ._ops import Operation
from ._packer import Change, Dropped, Packer
from ._state import CLIENT_TABLE, ClientPhase, Event, advance
from ._util import alert_next, item_status, plain, text, wire_data
from ._wire import CONTENT_TYPES, devinf_type

__all__ = ["ClientDatastore", "ClientSession", "ClientStore", "DatastoreReport", "Request"]

log = logging.getLogger("syncml_codec.engine")

_ADD, _REPLACE, _DELETE = Operation.ADD, Operation.REPLACE, Operation.DELETE
#: the 2xx statuses of a change the server did not carry out (issue 15: in an Atomic refused or rolled back)
_UNDONE = (StatusCode.NOT_EXECUTED, StatusCode.ATOMIC_ROLLBACK_OK)
#: the modes asked for without anchors as they are (the others become a slow sync then)
_REFRESHES = (AlertCode.REFRESH_FROM_CLIENT, AlertCode.REFRESH_FROM_SERVER,
              AlertCode.REFRESH_FROM_CLIENT_BY_SERVER, AlertCode.REFRESH_FROM_SERVER_BY_SERVER)


@dataclass(kw_only=True)
class ClientDatastore:
    """One datastore of the device: items by LUID and the changes since the
    last successful sync (an :class:`~._ops.Operation` by LUID).

    ``hierarchical``: its items form a folder tree (SyncML 1.2 hierarchical
    sync, issue 14): ``parents`` holds each item's folder (its LUID; ``""``:
    the root), folder items are OMA DS folder objects, and its DevInf says
    ``SupportHierarchicalSync``.  A move is a Replace naming the new parent
    (``<SourceParent>``), or a Move command when ``send_moves``."""

    local_uri: str
    remote_uri: str
    content_type: str
    version: str | None = None
    items: dict[str, bytes] = field(default_factory=dict)
    changes: dict[str, Operation] = field(default_factory=dict)
    last_anchor: str | None = None  # our Next of the last complete session
    server_anchor: str | None = None
    next_luid: int = 0
    unmapped: dict[str, str] = field(default_factory=dict)  # LUID -> server GUID, Map not acknowledged yet
    hierarchical: bool = False
    send_moves: bool = False
    parents: dict[str, str] = field(default_factory=dict)  # LUID -> its folder's LUID ("": the root)
    moves: set[str] = field(default_factory=set)  # LUIDs whose Replace is only a move
    # issue 15: Deletes sent with SftDel (dropped here only) or Archive, and Copies asked for (the LUID
    # of the item copied, the copy's data when it differs): the copy comes back from the server as an Add
    soft: set[str] = field(default_factory=set)
    archive: set[str] = field(default_factory=set)
    copies: list[tuple[str, bytes | None]] = field(default_factory=list)
    ctcaps: tuple[CTCap, ...] = ()  # what its DevInf says it holds (issue 15: capability-aware merges)
    # suspend and resume (issue 15): the mode of the last session that did not complete (None: it did), and in
    # a slow sync the LUIDs the server has not acknowledged yet (what a resumed session sends)
    resume_mode: int | None = None
    to_send: set[str] | None = None

    def add(self, data: bytes, parent: str = "") -> str:
        self._check_parent(parent)
        luid = str(self.next_luid)
        self.next_luid += 1
        self.items[luid] = data
        self.parents[luid] = parent
        self.changes[luid] = _ADD
        return luid

    def update(self, luid: str, data: bytes) -> None:
        if luid not in self.items:
            raise KeyError(luid)
        self.items[luid] = data
        self.moves.discard(luid)
        if self.changes.get(luid) is not _ADD:  # an item not sent yet stays an add
            self.changes[luid] = _REPLACE

    def move(self, luid: str, parent: str) -> None:
        """Move an item to another folder (``""``: the root)."""
        if luid not in self.items:
            raise KeyError(luid)
        self._check_parent(parent)
        self.parents[luid] = parent
        if self.changes.get(luid) is None:
            self.moves.add(luid)
        if self.changes.get(luid) is not _ADD:
            self.changes[luid] = _REPLACE

    def soft_delete(self, luid: str) -> None:
        """Drop an item here only (SyncML ``SftDel``, e.g. to free memory): the server keeps it."""
        self.delete(luid)
        self.soft.add(luid)

    def copy(self, luid: str, data: bytes | None = None) -> None:
        """Ask the server to copy an item within the datastore (SyncML
        ``Copy``; ``data``: the copy's, when it differs): the copy comes
        back as an Add, in this session's package 4 when the mode sends."""
        if luid not in self.items:
            raise KeyError(luid)
        self.copies.append((luid, data))

    def delete(self, luid: str, *, archive: bool = False) -> None:
        """Delete an item, and what it contains (each recorded, inner ones
        first); ``archive``: ask the server to archive it (``Archive``)."""
        if archive:
            self.archive.add(luid)
        for inner in [*reversed(self.inside(luid)), luid]:
            del self.items[inner]
            self.parents.pop(inner, None)
            self.moves.discard(inner)
            if self.changes.get(inner) is _ADD and inner not in self.unmapped:
                del self.changes[inner]
            else:
                self.changes.pop(inner, None)  # (at the end: children before their folder)
                self.changes[inner] = _DELETE

    def inside(self, luid: str) -> list[str]:
        """The LUIDs of what ``luid`` contains, at any depth, parents first."""
        found, level = [], [luid]
        while level:
            level = [c for c, p in self.parents.items() if p in level and c in self.items and c not in found]
            found += level
        return found

    def path(self, luid: str) -> str:
        """``/folder/.../name`` of an item by the ``<name>`` of its folders and its own (for tests)."""
        parts, node, seen = [], luid, set()
        while node and node in self.items and node not in seen:
            seen.add(node)
            parts.append(_name_of(self.items[node]))
            node = self.parents.get(node, "")
        return "/" + "/".join(reversed(parts))

    def depth(self, luid: str) -> int:
        n, node, seen = 0, luid, set()
        while node and node not in seen:
            seen.add(node)
            n += 1
            node = self.parents.get(node, "")
        return n

    def _check_parent(self, parent: str) -> None:
        if parent and parent not in self.items:
            raise KeyError(parent)

    def wipe(self) -> None:
        """Forget every item (refresh from server), without change records."""
        self.items.clear()
        self.changes.clear()
        self.unmapped.clear()
        self.parents.clear()
        self.moves.clear()

    def _put(self, data: bytes, parent: str = "") -> str:  # an item from the server: no change record
        luid = str(self.next_luid)
        self.next_luid += 1
        self.items[luid] = data
        self.parents[luid] = parent
        return luid

    def _type_of(self, data: bytes) -> str:
        """The type an item goes in: a folder object's, else the datastore's."""
        return FOLDER_CONTENT_TYPE if self.hierarchical and data.lstrip().startswith(b"<Folder") \
            else self.content_type

    def _parent_of(self, luid: str, add: bool) -> SourceParent | None:
        """Its folder as ``<SourceParent>`` (the root: nothing in an Add, our URI in a Replace)."""
        if not self.hierarchical:
            return None
        parent = self.parents.get(luid, "")
        return SourceParent(loc_uri=parent) if parent else (None if add else SourceParent(loc_uri=self.local_uri))


def _name_of(data: bytes) -> str:
    start = data.find(b"<name>")
    end = data.find(b"</name>", start + 1)
    return data[start + 6:end].decode("utf-8", "replace") if start >= 0 and end > start else "?"


@dataclass
class ClientStore:
    """The device: its id, datastores, and the nonce for its next session;
    ``sync_caps``: the SyncCaps its DevInf lists for every datastore (a phone
    that lists only 1 and 2 gets no 203 or 205: see the README)."""

    device_id: str
    datastores: dict[str, ClientDatastore] = field(default_factory=dict)
    nonce: bytes = b""
    server_devinf: DevInf | None = None
    sync_caps: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7)

    def add_datastore(self, local_uri: str, remote_uri: str, content_type: str,
                      version: str | None = None, *, hierarchical: bool = False) -> ClientDatastore:
        """A datastore; ``hierarchical``: a folder tree (its DevInf lists the
        folder type too and says ``SupportHierarchicalSync``)."""
        ds = ClientDatastore(local_uri=local_uri, remote_uri=remote_uri, content_type=content_type, version=version,
                             hierarchical=hierarchical)
        self.datastores[local_uri] = ds
        return ds

    def devinf(self) -> DevInf:
        return DevInf(dev_id=self.device_id, dev_typ="workstation", ver_dtd="1.2", man="syncml-codec",
                      mod="syncml-codec client", swv="0.1", utc=True, support_large_objs=True,
                      support_number_of_changes=True, datastores=tuple(
                          DataStore(ds.local_uri, max_guid_size=64,
                                    rx_pref=(ContentType(ds.content_type, ds.version),),
                                    tx_pref=(ContentType(ds.content_type, ds.version),),
                                    rx=_folder_types(ds), tx=_folder_types(ds),
                                    support_hierarchical_sync=ds.hierarchical,
                                    sync_types=self.sync_caps, ctcaps=ds.ctcaps)
                          for ds in self.datastores.values()))


def _folder_types(ds: ClientDatastore) -> tuple[ContentType, ...]:
    return (ContentType(FOLDER_CONTENT_TYPE, "1.2"),) if ds.hierarchical else ()


@dataclass(frozen=True, slots=True)
class Request:
    """A message to POST: ``body`` to ``url`` with ``content_type``."""

    url: str
    body: bytes
    content_type: str


@dataclass(kw_only=True)
class DatastoreReport:
    """What happened to one datastore in a session."""

    requested: int
    mode: int | None = None  # what the server alerted back
    alert_status: int | None = None
    sent: dict[str, int] = field(default_factory=dict)  # Add/Replace/Delete -> count
    received: dict[str, int] = field(default_factory=dict)
    statuses: list[int] = field(default_factory=list)  # the server's statuses for our changes
    refused: set[str] = field(default_factory=set)  # the LUIDs whose change the server refused (kept to resend)
    next_anchor: str = ""
    server_next: str | None = None
    too_large: set[str] = field(default_factory=set)  # LUIDs not sent: over the server's MaxObjSize (kept to resend)
    announced: int | None = None  # the NumberOfChanges of the server's first Sync (issue 15)
    applied: int = 0  # the server's changes that came (an object in MoreData chunks counts once)


class ClientSession:
    """One SyncML session of a :class:`ClientStore` against a server.

    ``modes``: per local URI, the sync type to ask for (default 200 two-way;
    206-210 answer a server's notification; a datastore without anchors asks
    for 201 slow, as the spec requires, except for the refresh modes);
    ``filters``: per local URI, the SyncML 1.2 ``<Filter>`` its Alert's Target
    carries (:mod:`syncml_codec.filters` builds them: ``MailFilter.to_filter``,
    ``fetch_filter``, or a :class:`~syncml_codec.model.Filter` by hand);
    ``wrap``: per local URI, how package 3 carries its changes (issue 15):
    ``atomic`` (the Sync in an Atomic), ``atomic-in-sync`` (its changes in an
    Atomic within the Sync), ``sequence`` (in a Sequence within it) or
    ``outside`` (after an empty Sync, in the body);
    ``resume``: a datastore whose last session did not complete asks to
    resume it (Alert 225, OMA DS 1.2; see :meth:`suspend`)."""

    def __init__(self, store: ClientStore, *, url: str, user: str, password: str, auth_type: str = "md5",
                 encoding: str = "wbxml", clock: Callable[[], float] = time.time, session_id: str = "1",
                 modes: dict[str, int] | None = None, max_msg_size: int = 150000,
                 max_obj_size: int = 4_000_000, filters: dict[str, Filter[Any]] | None = None,
                 wrap: dict[str, str] | None = None, resume: bool = False) -> None:
        self.store = store
        self.url = url
        self.user = user
        self.password = password
        self.auth_type = auth_type
        self.encoding = encoding
        self.clock = clock
        self.session_id = session_id
        self.max_msg_size = max_msg_size
        self.max_obj_size = max_obj_size
        self.filters = dict(filters or {})
        self.wrap = dict(wrap or {})
        self.phase = ClientPhase.START
        self.msg_id = 0
        self.error: str | None = None
        self.header_status: int | None = None
        self.retried_auth = False
        self.reports: dict[str, DatastoreReport] = {}
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(clock()))
        for uri, ds in store.datastores.items():
            mode = (modes or {}).get(uri, AlertCode.TWO_WAY)
            if ds.last_anchor is None and mode not in _REFRESHES:
                mode = AlertCode.SLOW_SYNC
            if resume and ds.resume_mode is not None:
                mode = AlertCode.ALERT_RESUME
            self.reports[uri] = DatastoreReport(requested=int(mode),
                                                next_anchor=f"{stamp}-{ds.next_luid}-{len(ds.items)}")
        self._out: list[Command] = []  # statuses and results for the next message
        self._sent: dict[tuple[str, str], tuple[str, str, str]] = {}  # (MsgID, CmdID) -> (local uri, LUID, kind)
        self._package3: Packer[_Outgoing] = Packer()  # package 3 still to send
        self.server_max_msg_size = 1_000_000
        self.server_max_obj_size: int | None = None  # the server's, from its SyncHdr or Alerts (None: not known)
        # the server's large objects, arriving in MoreData chunks: bounded by our MaxObjSize
        self._chunks = Reassembler(max_obj_size=max_obj_size, max_pending_size=2 * max_obj_size, owner="client")
        self._ids = CmdIDs()
        self._suspended = False

    @property
    def done(self) -> bool:
        return self.phase in (ClientPhase.DONE, ClientPhase.FAILED)

    @property
    def ok(self) -> bool:
        return self.phase is ClientPhase.DONE and self.error is None and not self._suspended

    # -- messages --------------------------------------------------------
    def _cred(self) -> Cred:
        if self.auth_type == "basic":
            return Cred(meta=Meta(format="b64", type=AuthType.BASIC.value),
                        data=auth.basic_credential(self.user, self.password))
        digest = auth.md5_credential_from_hash(auth.user_password_hash(self.user, self.password), self.store.nonce)
        return Cred(meta=Meta(format="b64", type=AuthType.MD5.value), data=digest)

    def _message(self, commands: list[Command], final: bool, cred: bool = False) -> Request:
        self.msg_id += 1
        header = SyncHdr(ver_dtd="1.2", ver_proto="SyncML/1.2", session_id=self.session_id, msg_id=str(self.msg_id),
                         target=Target(loc_uri=self.url), source=Source(loc_uri=self.store.device_id,
                                                                        loc_name=self.user),
                         cred=self._cred() if cred else None,
                         meta=Meta(max_msg_size=str(self.max_msg_size), max_obj_size=str(self.max_obj_size)))
        msg = Message(header=header, body=SyncBody(commands=tuple(commands), final=final))
        return Request(self.url, msg.to_bytes(self.encoding), CONTENT_TYPES[self.encoding])

    def _init_commands(self) -> list[Command]:
        self._ids = CmdIDs()
        out: list[Command] = [
            Put(cmd_id=self._ids.next(), meta=Meta(type=devinf_type(self.encoding)),
                items=(Item(source=Source(loc_uri="./devinf12"), data=self.store.devinf().to_document("1.2")),)),
            Get(cmd_id=self._ids.next(), meta=Meta(type=devinf_type(self.encoding)),
                items=(Item(target=Target(loc_uri="./devinf12")),)),
        ]
        for uri, ds in self.store.datastores.items():
            report = self.reports[uri]
            out.append(Alert(cmd_id=self._ids.next(), data=str(report.requested), items=(Item(
                target=Target(loc_uri=ds.remote_uri, filter=self.filters.get(uri)), source=Source(loc_uri=uri),
                meta=Meta(anchor=Anchor(last=ds.last_anchor, next=report.next_anchor),
                          max_obj_size=str(self.max_obj_size))),)))
        return out

    def start(self) -> Request:
        """Package 1: DevInf Put and Get, an Alert per datastore."""
        self.phase = advance(CLIENT_TABLE, self.phase, Event.SENT)
        return self._message(self._init_commands(), True, cred=True)

    def receive(self, body: bytes, content_type: str | None = None) -> Request | None:
        """The server's answer; the next message to send, or None when the
        session is over (see :attr:`ok` and :attr:`error`)."""
        try:
            msg = Message.from_bytes(body, content_type)
        except (SyncMLError, ValueError) as exc:
            return self._fail(f"unreadable answer: {exc}")
        if msg.header.resp_uri:
            self.url = msg.header.resp_uri
        if msg.header.meta is not None and msg.header.meta.max_msg_size_int:
            self.server_max_msg_size = max(1000, msg.header.meta.max_msg_size_int)
        if msg.header.meta is not None and msg.header.meta.max_obj_size_int:
            self.server_max_obj_size = msg.header.meta.max_obj_size_int
        self._ids = CmdIDs()
        self._out = [status_for_header(msg.header, cmd_id=self._ids.next())]
        if self.phase is ClientPhase.INIT:
            return self._on_init(msg)
        if self.phase is ClientPhase.SENDING:
            return self._on_sending(msg)
        if self.phase is ClientPhase.SUSPENDED:
            return self._on_suspended(msg)
        return self._on_later(msg)

    def suspend(self) -> Request:
        """Suspend the session (OMA DS 1.2 Alert 224), in place of the
        request :meth:`receive` returned last: its statuses and an Alert 224
        for each datastore in the session.  The server's answer ends the
        session (:attr:`done`; :attr:`suspended`); a later session with
        ``resume=True`` asks to resume it (Alert 225)."""
        self.phase = advance(CLIENT_TABLE, self.phase, Event.SUSPEND)
        out: list[Command] = [c for c in self._out if isinstance(c, Status)]
        for ds, _report in self._active():
            out.append(Alert(cmd_id=self._ids.next(), data=str(int(AlertCode.ALERT_SUSPEND)), items=(Item(
                target=Target(loc_uri=ds.remote_uri), source=Source(loc_uri=ds.local_uri)),)))
        return self._message(out, True)

    @property
    def suspended(self) -> bool:
        """The session ended suspended (Alert 224 sent and answered)."""
        return self._suspended

    def _on_suspended(self, msg: Message) -> Request | None:
        code = self._header_status(msg)
        if code is not None and code >= 300:
            return self._fail(f"SyncHdr status {code}")
        self._suspended = True
        self.phase = advance(CLIENT_TABLE, self.phase, Event.FINAL if msg.final else Event.MESSAGE)
        return None

    def _fail(self, error: str) -> Request | None:
        self.error = error
        self.phase = advance(CLIENT_TABLE, self.phase, Event.FAIL)
        return None

    def _header_status(self, msg: Message) -> int | None:
        for cmd in msg.commands:
            if isinstance(cmd, Status) and cmd.cmd_ref == "0":
                chal = cmd.chal
                if chal is not None and chal.meta.next_nonce:
                    self.store.nonce = auth.nonce_from_text(chal.meta.next_nonce)
                return cmd.code
        return None

    # -- package 2 -> package 3 ------------------------------------------
    def _on_init(self, msg: Message) -> Request | None:
        code = self._header_status(msg)
        self.header_status = code
        if code in (StatusCode.INVALID_CREDENTIALS, StatusCode.MISSING_CREDENTIALS):
            if not self.retried_auth and self.auth_type == "md5":
                self.retried_auth = True  # once, with the nonce of the challenge
                return self._message(self._init_commands(), True, cred=True)
            return self._fail(f"authentication failed ({code})")
        if code not in (StatusCode.OK, StatusCode.AUTHENTICATION_ACCEPTED):
            return self._fail(f"SyncHdr status {code}")
        alert_ids = {}
        for cmd in msg.commands:
            if isinstance(cmd, Status):
                if cmd.cmd == "Alert":
                    alert_ids[cmd.cmd_ref] = cmd.code
            elif isinstance(cmd, Alert):
                for item in cmd.items:  # (Synthesis announces its MaxObjSize here too)
                    if item.meta is not None and item.meta.max_obj_size_int:
                        self.server_max_obj_size = item.meta.max_obj_size_int
                self._out.append(self._on_server_alert(cmd, msg.header.msg_id))
            elif isinstance(cmd, Results):
                self._out.append(status_for(cmd, msg_ref=msg.header.msg_id, cmd_id=self._ids.next()))
                self._on_results(cmd)
            elif isinstance(cmd, Get):
                self._out.append(status_for(cmd, msg_ref=msg.header.msg_id, cmd_id=self._ids.next()))
                self._out.append(Results(cmd_id=self._ids.next(), msg_ref=msg.header.msg_id, cmd_ref=cmd.cmd_id,
                                         meta=Meta(type=devinf_type(self.encoding)),
                                         items=(Item(source=Source(loc_uri="./devinf12"),
                                                     data=self.store.devinf().to_document("1.2")),)))
            else:
                self._out.append(status_for(cmd, msg_ref=msg.header.msg_id, cmd_id=self._ids.next(),
                                            code=StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED))
        # our Alerts were CmdIDs 3, 4, ... in datastore order
        for n, report in enumerate(self.reports.values()):
            report.alert_status = alert_ids.get(str(n + 3))
        for ds, report in self._active():  # (until the session completes, it can be resumed)
            ds.resume_mode = report.mode
        if not msg.final:
            self.phase = advance(CLIENT_TABLE, self.phase, Event.MESSAGE)
            return self._message([*self._out, alert_next(self._ids)], False)
        self.phase = advance(CLIENT_TABLE, self.phase, Event.FINAL)
        self._package3 = Packer(queue=self._changes())
        return self._next_package3(self._out)

    def _on_results(self, cmd: Results) -> None:
        for item in cmd.items:
            if isinstance(item.data, Document):
                with contextlib.suppress(SyncMLError, ValueError):
                    self.store.server_devinf = DevInf.from_document(item.data)

    def _on_server_alert(self, cmd: Alert, ref: str) -> Status:
        item = cmd.items[0] if cmd.items else None
        uri = item.target.loc_uri if item is not None and item.target else ""
        report = self.reports.get(uri)
        if report is None or item is None:
            return status_for(cmd, msg_ref=ref, cmd_id=self._ids.next(), code=StatusCode.NOT_FOUND)
        report.mode = cmd.code
        anchor = item.meta.anchor if item.meta is not None else None
        report.server_next = anchor.next if anchor is not None else None
        echo = (Item(data=Anchor(next=report.server_next).to_element()),) if report.server_next else ()
        return status_for(cmd, msg_ref=ref, cmd_id=self._ids.next(), items=echo)

    def _active(self) -> list[tuple[ClientDatastore, DatastoreReport]]:
        return [(self.store.datastores[uri], r) for uri, r in self.reports.items()
                if r.mode is not None and r.alert_status is not None
                and (r.alert_status < 300 or r.alert_status == StatusCode.REFRESH_REQUIRED)]

    def _changes(self) -> list[Change[_Outgoing]]:
        """Package 3: what each datastore's mode sends (a refresh from the
        server wipes the datastore first)."""
        queue: list[Change[_Outgoing]] = []
        for ds, report in self._active():
            mode = report.mode
            meta = Meta(type=ds.content_type)
            if mode == AlertCode.REFRESH_FROM_SERVER:
                ds.wipe()
            elif mode in (AlertCode.SLOW_SYNC, AlertCode.REFRESH_FROM_CLIENT):
                resumed = report.requested == AlertCode.ALERT_RESUME and report.alert_status == StatusCode.OK \
                    and ds.to_send is not None
                if not resumed:  # (a resumed one sends only what the server did not acknowledge)
                    ds.to_send = set(ds.items)
                wanted = ds.to_send or set()
                for luid in sorted((k for k in ds.items if k in wanted), key=ds.depth):  # (parents first)
                    data = ds.items[luid]
                    # an item whose Map the server has not acknowledged is named by its GUID as well
                    # (a slow sync after an interrupted session: the server may not know our LUID)
                    guid = ds.unmapped.get(luid)
                    queue.append(_change(ds, report, luid, Replace(cmd_id="", meta=_meta(ds, data, meta), items=(Item(
                        target=Target(loc_uri=guid) if guid else None, source=Source(loc_uri=luid),
                        source_parent=ds._parent_of(luid, add=False), data=wire_data(data)),))))
            elif mode in (AlertCode.TWO_WAY, AlertCode.ONE_WAY_FROM_CLIENT):
                # parents before their children, Deletes last (children before their folders, as recorded)
                order = sorted((luid for luid, kind in ds.changes.items() if kind is not _DELETE), key=ds.depth)
                order += [luid for luid, kind in ds.changes.items() if kind is _DELETE]
                for luid in order:
                    kind = ds.changes[luid]
                    # an item whose Map the server has not seen yet is named by its GUID as well
                    guid = ds.unmapped.get(luid)
                    target = Target(loc_uri=guid) if guid else None
                    if kind is _DELETE:
                        command: Command = Delete(cmd_id="", sft_del=luid in ds.soft, archive=luid in ds.archive,
                                                  items=(Item(target=target, source=Source(loc_uri=luid)),))
                    elif ds.send_moves and luid in ds.moves:  # (hierarchical sync: only its folder changed)
                        command = Move(cmd_id="", items=(Item(target=target, source=Source(loc_uri=luid),
                                                              source_parent=ds._parent_of(luid, add=False)),))
                    else:
                        cls = Add if kind is _ADD else Replace
                        data = ds.items[luid]
                        command = cls(cmd_id="", meta=_meta(ds, data, meta), items=(Item(
                            target=target, source=Source(loc_uri=luid),
                            source_parent=ds._parent_of(luid, add=kind is _ADD), data=wire_data(data)),))
                    queue.append(_change(ds, report, luid, command))
                for luid, copied in ds.copies:  # (issue 15)
                    if luid in ds.items:
                        queue.append(_change(ds, report, luid, Copy(cmd_id="", meta=meta, items=(Item(
                            target=Target(loc_uri=ds.unmapped[luid]) if luid in ds.unmapped else None,
                            source=Source(loc_uri=luid), data=wire_data(copied) if copied is not None else None),))))
        return queue

    def _next_package3(self, out: list[Command]) -> Request:
        """The next message of package 3: the queued changes that fit the
        server's MaxMsgSize (at least one; a large item in MoreData chunks,
        one per message), a Sync per datastore (:mod:`._packer`)."""
        measure = wbxml_size if self.encoding == "wbxml" else xml_size
        budget = self.server_max_msg_size - 800 - sum(measure(c) for c in out)
        addresses = {ds.local_uri: (ds.remote_uri, ds.local_uri) for ds, _report in self._active()}
        out += self._wrapped(self._package3.pack(_Package3Side(self), addresses=addresses, budget=budget,
                                                 ids=self._ids, measure=measure,
                                                 max_obj_size=self.server_max_obj_size))
        if not self._package3.done:
            self.phase = advance(CLIENT_TABLE, self.phase, Event.MORE_OUT)
            return self._message(out, False)
        if self.phase is ClientPhase.SENDING:
            self.phase = advance(CLIENT_TABLE, self.phase, Event.ALL_OUT)
        return self._message(out, True)

    def _wrapped(self, commands: list[Sync]) -> list[Command]:
        """Package 3's Syncs as :attr:`wrap` asks (issue 15): in an Atomic,
        their changes in an Atomic within the Sync, in a Sequence, or the
        changes outside the Sync (each item's Target the datastore's URI,
        with ``/`` and the GUID when known)."""
        out: list[Command] = []
        for cmd in commands:
            how = self.wrap.get(cmd.source.loc_uri or "", "") if cmd.source else ""
            if not how or not cmd.commands:
                out.append(cmd)
            elif how == "atomic":
                out.append(Atomic(cmd_id=self._ids.next(), commands=(cmd,)))
            elif how in ("atomic-in-sync", "sequence"):
                box = Atomic if how == "atomic-in-sync" else Sequence
                out.append(dataclasses.replace(cmd, commands=(box(cmd_id=self._ids.next(), commands=cmd.commands),)))
            elif how == "outside":
                base = cmd.target.loc_uri if cmd.target else ""
                out.append(dataclasses.replace(cmd, commands=()))
                for change in cmd.commands:
                    items = tuple(dataclasses.replace(item, target=Target(
                        loc_uri=f"{base}/{item.target.loc_uri}" if item.target and item.target.loc_uri else base))
                        for item in getattr(change, "items", ()))
                    out.append(dataclasses.replace(change, items=items))  # type: ignore[type-var]
            else:
                raise ValueError(f"wrap {how!r}: atomic, atomic-in-sync, sequence or outside")
        return out

    def _on_sending(self, msg: Message) -> Request | None:
        """The server's answer to a part of package 3: statuses (and Alert 222)."""
        code = self._header_status(msg)
        if code is not None and code >= 300:
            return self._fail(f"SyncHdr status {code}")
        ref = msg.header.msg_id
        for cmd in msg.commands:
            if isinstance(cmd, Status):
                self._on_status(cmd)
            elif isinstance(cmd, Alert) and cmd.code in (AlertCode.NEXT_MESSAGE, AlertCode.NO_END_OF_DATA):
                self._out.append(self._on_next_or_no_end(cmd, ref))
            else:
                self._out.append(status_for(cmd, msg_ref=ref, cmd_id=self._ids.next(),
                                            code=StatusCode.COMMAND_NOT_ALLOWED))
        return self._next_package3(self._out)

    # -- packages 4 and 6 ------------------------------------------------
    def _on_later(self, msg: Message) -> Request | None:
        code = self._header_status(msg)
        if code is not None and code >= 300:
            return self._fail(f"SyncHdr status {code}")
        ref = msg.header.msg_id
        for cmd in msg.commands:
            if isinstance(cmd, Status):
                self._on_status(cmd)
            elif isinstance(cmd, Sync):
                self._on_sync(cmd, ref)
            elif isinstance(cmd, Alert) and cmd.code in (AlertCode.NEXT_MESSAGE, AlertCode.NO_END_OF_DATA):
                self._out.append(self._on_next_or_no_end(cmd, ref))
            else:
                self._out.append(status_for(cmd, msg_ref=ref, cmd_id=self._ids.next(),
                                            code=StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED))
        if msg.final and self.phase is not ClientPhase.MAP:  # the server's package 4 ends
            self._chunks.unfinished()
            self._check_changes()
        self._out += [self._no_end_of_data(key) for key in self._chunks.take_abandoned()]
        if self.phase is ClientPhase.MAP:
            if not msg.final:
                return self._message([*self._out, alert_next(self._ids)], False)
            self.phase = advance(CLIENT_TABLE, self.phase, Event.FINAL)
            self._commit()
            return None
        if not msg.final:  # the server's package 4 goes on
            self.phase = advance(CLIENT_TABLE, self.phase, Event.MESSAGE)
            return self._message([*self._out, alert_next(self._ids)], False)
        self.phase = advance(CLIENT_TABLE, self.phase, Event.FINAL)
        maps: list[Command] = []
        for ds, _report in self._active():
            if ds.unmapped:  # this session's adds and any whose Map got lost before
                maps.append(Map(cmd_id=self._ids.next(), target=Target(loc_uri=ds.remote_uri),
                                source=Source(loc_uri=ds.local_uri), map_items=tuple(
                                    MapItem(target=Target(loc_uri=guid), source=Source(loc_uri=luid))
                                    for luid, guid in ds.unmapped.items())))
        return self._message(self._out + maps, True)

    def _on_next_or_no_end(self, cmd: Alert, ref: str) -> Status:
        """Alert 222 (the server's next message, please) or 223 (an object of
        ours came without its end: its change stays, sent again next time): 200."""
        if cmd.code == AlertCode.NO_END_OF_DATA:
            log.warning("client: the server reports an object of ours without its end (Alert 223)")
        return status_for(cmd, msg_ref=ref, cmd_id=self._ids.next())

    def _no_end_of_data(self, key: tuple[str, str]) -> Alert:
        """Alert 223 for the server's object ``key`` (our datastore, its GUID)
        whose last chunk never came."""
        return Alert(cmd_id=self._ids.next(), data=str(int(AlertCode.NO_END_OF_DATA)),
                     items=(Item(target=Target(loc_uri=key[1]), source=Source(loc_uri=key[0])),))

    def _check_changes(self) -> None:
        """The server's changes against the NumberOfChanges it announced (a WARNING when they differ)."""
        for uri, report in self.reports.items():
            if report.announced is not None and report.announced != report.applied:
                log.warning("client: %s: the server announced %d changes (NumberOfChanges) and sent %d", uri,
                            report.announced, report.applied)

    def _on_status(self, status: Status) -> None:
        sent = self._sent.pop((status.msg_ref, status.cmd_ref), None)
        if sent is None or status.cmd in ("Sync", "SyncHdr", "Map"):
            return
        uri, luid, kind = sent
        code = int(status.code or 0)
        report = self.reports[uri]
        report.statuses.append(code)
        ds = self.store.datastores[uri]
        done = code < 300 and code not in _UNDONE
        if kind == "Copy":  # (issue 15: the copy comes as an Add; refused or rolled back, it is asked again)
            if done:
                ds.copies = [c for c in ds.copies if c[0] != luid]
            else:
                report.refused.add(luid)
            return
        if done:
            ds.soft.discard(luid)
            ds.archive.discard(luid)
        if done or code == StatusCode.CONFLICT_RESOLVED_SERVER_WINS:
            pending = self.store.datastores[uri].to_send
            if pending is not None:
                pending.discard(luid)
            self.store.datastores[uri].changes.pop(luid, None)
            self.store.datastores[uri].moves.discard(luid)
        else:
            report.refused.add(luid)

    def _on_sync(self, sync: Sync, ref: str) -> None:
        uri = sync.target.loc_uri if sync.target else ""
        ds = self.store.datastores.get(uri)
        self._out.append(status_for(sync, msg_ref=ref, cmd_id=self._ids.next(),
                                    code=StatusCode.OK if ds is not None else StatusCode.NOT_FOUND))
        report = self.reports.get(uri) if ds is not None else None
        if report is not None and report.announced is None and sync.number_of_changes is not None:
            announced = sync.number_of_changes.strip()
            report.announced = int(announced) if announced.isdigit() and len(announced) < 10 else None
        for cmd in sync.commands:
            if ds is None:
                self._out.append(status_for(cmd, msg_ref=ref, cmd_id=self._ids.next(), code=StatusCode.NOT_FOUND))
                continue
            for item in getattr(cmd, "items", ()):
                code = self._apply(ds, cmd, item)
                if report is not None and code != StatusCode.CHUNKED_ITEM_ACCEPTED:
                    report.applied += 1
                self._out.append(item_status(cmd, item, code, cmd_id=self._ids.next(), msg_ref=ref))

    def _apply(self, ds: ClientDatastore, cmd: Command, item: Item) -> int:
        report = self.reports[ds.local_uri]
        report.received[cmd.TAG] = report.received.get(cmd.TAG, 0) + 1
        guid = plain(item.source.loc_uri) if item.source else ""
        luid = plain(item.target.loc_uri) if item.target else ""
        if isinstance(cmd, Delete):
            if luid in ds.items:
                for inner in [*reversed(ds.inside(luid)), luid]:  # (a folder: with what it contains)
                    del ds.items[inner]
                    ds.parents.pop(inner, None)
                    ds.changes.pop(inner, None)
                    ds.unmapped.pop(inner, None)
                return StatusCode.OK
            return StatusCode.NOT_FOUND
        parent = self._parent(ds, item)
        if parent is None:
            return StatusCode.NOT_FOUND
        if isinstance(cmd, Move):
            if luid not in ds.items:
                return StatusCode.NOT_FOUND
            if parent != "keep":
                ds.parents[luid] = parent
            return StatusCode.OK
        data = item.data
        raw = data if isinstance(data, bytes) else text(data).encode("utf-8")
        self._chunks.interrupted((ds.local_uri, guid or luid))  # (an object left without its end: Alert 223)
        assembled = self._chunks.add((ds.local_uri, guid or luid), item, raw)
        if isinstance(assembled, int):  # 213 while chunks are pending, 413 for an object too large
            return assembled
        raw = assembled
        if isinstance(cmd, Replace) and luid in ds.items:
            ds.items[luid] = _kept_whole(ds.items[luid], raw) if ds.content_type == EMAIL_CONTENT_TYPE else raw
            ds.changes.pop(luid, None)
            if parent != "keep":
                ds.parents[luid] = parent
            return StatusCode.OK
        held = next((luid for luid, g in ds.unmapped.items() if g == guid and luid in ds.items), None) \
            if guid and report.requested == AlertCode.ALERT_RESUME else None
        if isinstance(cmd, Add) and held is not None:  # an Add resent in a resumed session: we hold it
            ds.items[held] = raw
            return StatusCode.ITEM_ADDED
        if isinstance(cmd, (Add, Replace)):
            new = ds._put(raw, "" if parent == "keep" else parent)
            ds.unmapped[new] = guid
            return StatusCode.ITEM_ADDED
        return StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED

    @staticmethod
    def _parent(ds: ClientDatastore, item: Item) -> str | None:
        """The LUID of the folder the server names for an item: ``"keep"``
        when it names none (or the datastore is flat), "" for the root, None
        for a folder we do not have."""
        if not ds.hierarchical or (item.target_parent is None and item.source_parent is None):
            return "keep"
        if item.target_parent is not None:  # our LUID (the root: our URI of the datastore)
            name = plain(item.target_parent.loc_uri)
            if name in ("", ".", ds.local_uri):
                return ""
            return name if name in ds.items else None
        guid = plain(item.source_parent.loc_uri) if item.source_parent is not None else ""
        if guid in ("", "."):
            return ""
        return next((luid for luid, g in ds.unmapped.items() if g == guid and luid in ds.items), None)

    def _commit(self) -> None:
        """Package 6 arrived: the session is complete, the anchors move on."""
        for ds, report in self._active():
            ds.resume_mode, ds.to_send = None, None
            ds.unmapped.clear()  # package 6 acknowledged the Map
            ds.last_anchor = report.next_anchor
            ds.server_anchor = report.server_next
            if report.mode in (AlertCode.SLOW_SYNC, AlertCode.REFRESH_FROM_CLIENT, AlertCode.REFRESH_FROM_SERVER):
                # the server holds what we sent now, except what it refused (e.g. 420 full, 400 malformed):
                # that stays a change, sent again in the next session (as a Replace: the server may
                # hold an older copy; one it does not know it takes as an Add)
                kept = {luid: ds.changes.get(luid, _REPLACE) for luid in report.refused | report.too_large
                        if luid in ds.items and report.mode != AlertCode.REFRESH_FROM_SERVER}
                ds.changes.clear()
                ds.changes.update(kept)


def _lf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n")


def _kept_whole(held: bytes, new: bytes) -> bytes:
    """A mail the server replaced (OMA DS email objects): when the new one
    is truncated (``<truncated>``, e.g. its flags changed under a
    headers-only filter) or has no message (a flag-only Replace) and the
    device holds the same message whole, the device keeps its message and
    takes the rest (flags, dates)."""
    try:
        old_obj, new_obj = EmailObject.parse(held), EmailObject.parse(new)
    except (SyncMLError, ValueError):
        return new
    whole = old_obj.emailitem
    if whole is None or old_obj.truncated is not None:
        return new
    if new_obj.emailitem is not None and (new_obj.truncated is None or _lf(header_block(whole))
                                          != _lf(header_block(new_obj.emailitem))):
        return new  # whole, or another message
    new_obj.emailitem, new_obj.emailitem_enc, new_obj.truncated = whole, old_obj.emailitem_enc, None
    new_obj.ext = [x for x in new_obj.ext if x[0].lower() != SIZE_EXT]
    return new_obj.serialize()


@dataclass(frozen=True, kw_only=True)
class _Outgoing:
    """A change of package 3: its datastore and report, its LUID, its
    command (numbered when it goes out)."""

    ds: ClientDatastore
    report: DatastoreReport
    luid: str
    command: Command


def _meta(ds: ClientDatastore, data: bytes, meta: Meta) -> Meta:
    ctype = ds._type_of(data)
    return meta if ctype == meta.type else Meta(type=ctype)


def _change(ds: ClientDatastore, report: DatastoreReport, luid: str, command: Command) -> Change[_Outgoing]:
    return Change(datastore=ds.local_uri, record=_Outgoing(ds=ds, report=report, luid=luid, command=command))


class _Package3Side:
    """The client's side of the packer (:class:`._packer.Side`): commands
    numbered when they go out, what was sent remembered for its Status."""

    def __init__(self, session: ClientSession) -> None:
        self.session = session
        self.msg_id = str(session.msg_id + 1)  # the message being packed

    def command(self, record: _Outgoing, cmd_id: str) -> Command:
        return dataclasses.replace(record.command, cmd_id=cmd_id)  # type: ignore[type-var]

    def sent(self, record: _Outgoing, command: Command) -> None:
        self.session._sent[(self.msg_id, command.cmd_id)] = (record.ds.local_uri, record.luid, command.TAG)
        record.report.sent[command.TAG] = record.report.sent.get(command.TAG, 0) + 1

    def dropped(self, record: _Outgoing, why: Dropped) -> None:
        """Over the server's MaxObjSize (or a SyncML 1.0 message): not sent,
        its change kept for a later session."""
        log.warning("client: %s %s not sent: %s", record.ds.local_uri, record.luid, why.value)
        record.report.too_large.add(record.luid)
