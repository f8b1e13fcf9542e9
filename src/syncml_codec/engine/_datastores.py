"""The datastores of one server session and the client's commands on them:
its Alerts open them (package 1, anchors checked: 508 and a slow sync when
they do not match, or for a resume; the server-alerted 206-210 as the mode
they name; a mode whose alert the client's DevInf does not list as a SyncCap
as a slow sync in which the server does the rest, :func:`._modes.delivery`,
the client's items then deleted on it instead of stored), its Syncs bring changes (package 3,
large objects reassembled from MoreData chunks, a Status per item), its Maps
name the LUIDs of the items we added (package 5).

A datastore name the client alerts is found by name (with aliases), else,
for a name set up for another server, by what the client's datastore holds
(its URI, its DevInf types, the Alert's Meta Type); the name is remembered
for the session's Sync and Map commands, one name per datastore."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, cast

from ..errors import (
    FilterError,
    FormatError,
    MailError,
    MailNotConfiguredError,
    MailUnavailableError,
    ProtocolError,
    SyncMLError,
)
from ..model import (
    Add,
    Alert,
    AlertCode,
    Anchor,
    Command,
    Copy,
    Delete,
    Filter,
    Item,
    Map,
    MapItem,
    Meta,
    Move,
    Replace,
    Source,
    Status,
    StatusCode,
    Sync,
    Target,
)
from ..store.backups import BackupArea
from ..store.base import TREE_DATASTORES, ResumePoint, Store, canonical_datastore
from ._backup import SessionBackup
from ._capmerge import device_caps
from ._chunks import Reassembler
from ._devinf import client_sync_caps, datastore_for_type, datastore_from_devinf, type_for_client
from ._encrypted import account_key, decrypt, encryption_of
from ._filtering import read_filter
from ._format import apply_format
from ._mailds import MAIL, MAIL_TREE, MailBackends, MailView, is_mail, mail_datastore, mail_view
from ._modes import Fallback, SyncMode, alert_for, delivery, mode_of_alert, performed_mode, sync_cap
from ._params import SyncParams
from ._peer import Peer
from ._reply import Answers
from ._sync import BY_SERVER, CLIENT_SENDS, NEEDS_ANCHORS, SUPPORTED, ConflictPolicy, DatastoreSync
from ._tree import client_hierarchical, offers_tree
from ._util import item_bytes, log_quoted, meta_format, meta_type, plain

__all__ = ["SessionDatastores"]

log = logging.getLogger("syncml_codec.engine")

NO_PARAMS = SyncParams()
#: a WARNING each for the first refused items of one Map, then one for how many in all
MAX_MAP_WARNINGS = 10


class SessionDatastores(Mapping[str, DatastoreSync]):
    """The session's datastores by canonical name, as its Alerts opened them."""

    #: the MaxObjSize announced in the Meta of our Alerts (None: none, SyncML 1.0); set by the session
    max_obj_size: int | None = None

    def __init__(self, *, store: Store, peer: Peer, chunks: Reassembler, clock: Callable[[], float],
                 policy: ConflictPolicy, session_id: str, backups: BackupArea | None = None,
                 mail: MailBackends | None = None) -> None:
        self.store = store
        self.mail = mail  # the accounts' mail back ends (None: no Mail datastores, :mod:`._mailds`)
        self.backups = backups  # where ``backup`` sessions write (None: backups refused)
        self.peer = peer
        self.chunks = chunks  # large objects the client sends in chunks
        self.clock = clock
        self.policy = policy
        self.session_id = session_id
        self.aliases: dict[str, str] = {}  # a datastore name the client alerted -> canonical (see resolve)
        self.synced: set[str] = set()  # datastores whose Sync (package 3) came
        self._by_name: dict[str, DatastoreSync] = {}  # canonical -> state

    def __getitem__(self, canonical: str) -> DatastoreSync:
        return self._by_name[canonical]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def check_changes(self) -> None:
        """At the end of the client's package 3: each datastore's changes
        against the NumberOfChanges its Sync announced (OMA DS 1.2: a
        progress hint, so a difference is logged, WARNING, and kept in the
        session log's counts, ``noc-announced``/``noc-received``; what came
        is kept)."""
        for ds in self._by_name.values():
            if ds.announced_changes is not None and ds.announced_changes != ds.received_changes:
                log.warning("session %s: %s: the client announced %d changes (NumberOfChanges) and sent %d",
                            self.session_id, ds.canonical, ds.announced_changes, ds.received_changes)
                ds.stats["noc-announced"] = ds.announced_changes
                ds.stats["noc-received"] = ds.received_changes

    def awaiting_sync(self) -> bool:
        """Whether a datastore in a mode where the client sends changes has not had its Sync."""
        return any(c not in self.synced and ds.mode in CLIENT_SENDS for c, ds in self._by_name.items())

    # -- names -----------------------------------------------------------
    def resolve(self, server_uri: str, client_uri: str, *metas: Meta | None) -> str | None:
        """Our datastore for a name the client alerts (see the module doc)."""
        canonical = (self._mail_name(server_uri, client_uri) or canonical_datastore(server_uri)
                     or canonical_datastore(client_uri))
        if canonical is None:
            canonical = datastore_from_devinf(self.peer.known_devinf(), client_uri)
        if canonical is None:
            ctype = meta_type(*metas)
            canonical = datastore_for_type(ctype) if ctype else None
        if canonical is not None and canonical_datastore(server_uri) != canonical:  # (a mail folder may shadow one)
            log.info("session %s: datastore %s taken as %s", self.session_id, log_quoted(server_uri), canonical)
            # one name per datastore (the last alerted, as the table keeps the last Alert's):
            # a client alerting ever new names in message after message must not grow the table
            self.aliases = {name: c for name, c in self.aliases.items() if c != canonical}
            self.aliases[server_uri.strip()] = canonical
        return canonical

    def _mail_name(self, uri: str, client_uri: str = "") -> str | None:
        """The mail datastore ``uri`` names (``Mail``, ``inbox``, ``Mail/Sent``, a
        folder's name), when the server has mail back ends; None otherwise.
        ``Mail`` for a client whose DevInf says ``SupportHierarchicalSync`` for
        its datastore ``client_uri`` is the whole folder tree (:mod:`._mailtree`)."""
        if self.mail is None or not uri.strip():
            return None
        try:
            name = mail_datastore(uri, self._mail_view().folders(self.peer.device.user))
        except MailNotConfiguredError:  # (an account without mail storage: no Mail datastores)
            return None
        except MailError as exc:
            log.warning("session %s: the mail folders of user=%s cannot be listed: %s", self.session_id,
                        log_quoted(self.peer.device.user), exc)
            if not isinstance(exc, MailUnavailableError):
                return None
            # the storage is down: a name that is mail whatever the folders (Mail, inbox, Mail/<as
            # written>) is still mail, so its Alert answers 503 (the refresh fails), not 404
            first, _, rest = uri.strip().split("?", 1)[0].removeprefix("./").strip("/").partition("/")
            if first.lower() not in ("mail", "inbox"):
                return None
            name = MAIL + "/" + rest if rest else MAIL
        if name == MAIL and client_hierarchical(self.peer.known_devinf(), client_uri):
            return MAIL_TREE
        return name

    def _mail_view(self) -> MailView:
        assert self.mail is not None
        return MailView(self.store, self.mail)

    def named(self, uri: str) -> str | None:
        """The canonical datastore a Sync or Map names (a Sync without a
        Target: the session's only datastore, as SyncML 1.0 phones send it)."""
        if not uri.strip():
            return next(iter(self._by_name)) if len(self._by_name) == 1 else None
        # (the name the Alert resolved first: a mail folder may shadow an alias such as Calendar)
        return self.aliases.get(uri.strip()) or canonical_datastore(uri)

    # -- Alert -----------------------------------------------------------
    def alert(self, cmd: Alert, answers: Answers, *, initializing: bool,
              params: SyncParams = NO_PARAMS) -> tuple[Status, Callable[[], Alert] | None]:
        """The Status of a client's Alert and, when it opened a datastore,
        the maker of our Alert back (made after the statuses, for its CmdID).
        ``initializing``: the session is in package 1; ``params``: the sync
        URL's (its ``sync=`` and ``reset`` go into the decision table)."""
        code = cmd.code
        if code in (AlertCode.NEXT_MESSAGE, AlertCode.DISPLAY):
            return answers.status(cmd, StatusCode.OK), None
        if code == AlertCode.ALERT_SUSPEND:
            return self._suspend(cmd, answers), None
        resumed = code == AlertCode.ALERT_RESUME
        if resumed:  # the resume point's mode if it can be honoured, else 508 and a slow sync (see _sync)
            code = AlertCode.SLOW_SYNC
        alerted = int(code) if code in BY_SERVER else None
        if alerted is not None:  # the client answers a notification (package #0): see _sync.BY_SERVER
            code = BY_SERVER[alerted]
        if code not in SUPPORTED or not cmd.items:
            return answers.status(cmd, StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED if code
                                  else StatusCode.BAD_REQUEST), None
        if not initializing:
            return answers.status(cmd, StatusCode.COMMAND_NOT_ALLOWED), None
        item = cmd.items[0]
        server_uri = plain(item.target.loc_uri) if item.target else ""
        client_uri = plain(item.source.loc_uri) if item.source else ""
        canonical = self.resolve(server_uri, client_uri, item.meta)
        if canonical is None:
            return answers.status(cmd, StatusCode.NOT_FOUND), None
        if alerted is not None:
            log.info("session %s: %s answers a server alert: %d carried out as %d", self.session_id, canonical,
                     alerted, int(code))
        anchor = item.meta.anchor if item.meta is not None else None
        if anchor is None or not anchor.next:
            return answers.status(cmd, StatusCode.BAD_REQUEST), None
        wanted_filter: tuple[bool, bytes] | None = None
        if item.target is not None and item.target.filter is not None:  # SyncML 1.2 <Filter> (._filtering)
            try:
                wanted_filter = self._read_filter(item.target.filter, canonical, "Alert")
            except FilterError as exc:
                return answers.status(cmd, exc.status), None
        device = self.peer.device
        stored = self.store.anchors(device, canonical)
        equal = stored.client_last is not None and stored.client_last == (anchor.last or "")
        point = self.store.resume_point(device, canonical) if resumed else None
        honoured = point is not None and params.backup is None and mode_of_alert(point.mode) is not None
        if point is not None and honoured:
            code = point.mode  # the interrupted session's mode, carried on (OMA DS 1.2 resume)
            log.info("session %s: %s resumes session %s (%s, mode %d)", self.session_id, canonical,
                     point.session_id, "suspended" if point.suspended else "interrupted", point.mode)
        elif resumed:
            log.info("session %s: %s asked to resume, but no session of it can be: 508 and a slow sync",
                     self.session_id, canonical)
        # the one place where the mode performed is decided (IceWarp's table, :mod:`._modes`)
        asked = mode_of_alert(code)
        if asked is None:  # (a code outside 200-205 must be mapped to one of them before this point)
            return answers.status(cmd, StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED), None
        performed = asked if honoured else SyncMode.SLOW if resumed \
            else performed_mode(asked, params.sync, equal, reset=params.reset)
        mode = int(alert_for(performed))
        status_code: int = StatusCode.OK
        if not honoured and (resumed or (code in NEEDS_ANCHORS and not equal and mode != code)):
            status_code = StatusCode.REFRESH_REQUIRED  # the client's anchors are stale
        backup: SessionBackup | None = None
        pending: int | None = None
        if params.backup is not None:  # to a file: the client sends all, nothing else happens (._backup)
            if self.backups is None or is_mail(canonical) or canonical in TREE_DATASTORES:
                log.warning("session %s: backup of %s asked for, but %s: refused", self.session_id, canonical,
                            "mail folders are not backed up" if is_mail(canonical)
                            else "file trees are not backed up" if canonical in TREE_DATASTORES
                            else "the server has no backup area")
                return answers.status(cmd, StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED), None
            # the account's running sessions (read without locking their rows: another worker may be
            # serving one); the partial files of the others are removed, those of these count
            running = {s.session_id for s in self.store.live_sessions(device.user) if not s.done}
            used = self.backups.usage(device.user, running.union({self.session_id}).__contains__)
            if used >= self.backups.max_account_size:
                log.warning("session %s: backup of %s refused: user=%s has %d bytes of backups or more",
                            self.session_id, canonical, log_quoted(device.user), self.backups.max_account_size)
                return answers.status(cmd, StatusCode.DEVICE_FULL), None
            backup = SessionBackup(area=self.backups, user=device.user, session_id=self.session_id,
                                   datastore=canonical, prefix=params.backup,
                                   budget=self.backups.max_account_size - used)
            status_code = StatusCode.OK if int(code) == AlertCode.SLOW_SYNC else StatusCode.REFRESH_REQUIRED
            mode, performed = AlertCode.SLOW_SYNC, SyncMode.SLOW  # (never 7: the server's data stays)
        elif not honoured:
            pending = self.store.pending_mode(device, canonical)  # syncml backup restore: a refresh from server
            if pending is not None:
                status_code, mode = StatusCode.OK, pending
                performed = mode_of_alert(pending) or SyncMode.REFRESH_FROM_SERVER
        fallback = Fallback.NONE
        if backup is None:  # the alert the client understands, by its DevInf's SyncCaps (._modes.delivery)
            caps = client_sync_caps(self.peer.known_devinf(), client_uri)
            how = delivery(performed, caps, int(code))
            if how.alert != mode:
                log.info("session %s: %s: the client lists SyncCaps %s, not %d: mode %d goes out as %d (%s)",
                         self.session_id, canonical, ",".join(map(str, sorted(caps or ()))), sync_cap(mode),
                         int(performed), int(how.alert), how.fallback.value)
                mode, fallback = int(how.alert), how.fallback
                if mode == AlertCode.SLOW_SYNC and int(code) != AlertCode.SLOW_SYNC:
                    status_code = StatusCode.REFRESH_REQUIRED
        if performed != asked:
            log.info("session %s: %s: client asked %s, mode %d performed (%s)", self.session_id, canonical,
                     int(code), int(performed), "anchors equal" if equal else "anchors differ")
        server_next = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(self.clock()))
        if point is not None and honoured:
            server_next = point.server_next
        store = self.peer.quirks.store_for(self.store, canonical)
        if is_mail(canonical) and self.mail is not None:
            store = mail_view(self.store, self.mail)
            try:  # what happened in the folder behind the server's back, as changes (._mailds)
                found = cast(MailView, store).refresh(device.user, canonical, self.clock())
            except MailError as exc:
                log.warning("session %s: %s of user=%s unavailable: %s", self.session_id, canonical,
                            log_quoted(device.user), exc)
                return answers.status(cmd, StatusCode.SERVICE_UNAVAILABLE), None
            if any(found.values()):
                log.info("session %s: %s changed behind the server's back: %s", self.session_id, canonical,
                         ", ".join(f"{n} {what}" for what, n in found.items() if n))
        ds = DatastoreSync(store=store, device=device,
                           canonical=canonical, server_uri=server_uri, client_uri=client_uri, mode=mode,
                           client_next=anchor.next, server_next=server_next, server_last=stored.server_last,
                           policy=self.policy, clock=self.clock(),
                           wanted_type=type_for_client(canonical, self.peer.known_devinf(), client_uri),
                           resumed=resumed, performed=int(performed), backup=backup, pending=pending,
                           fallback=fallback, resume_of=point.session_id if point is not None and honoured else None)
        ds.tree = offers_tree(store, canonical)  # (hierarchical sync, issue 14: ._tree)
        ds.hierarchical = ds.tree and client_hierarchical(self.peer.known_devinf(), client_uri)
        if ds.tree:
            log.info("session %s: %s synced %s", self.session_id, canonical,
                     "as a folder tree" if ds.hierarchical
                     else "flat (the client's DevInf has no SupportHierarchicalSync)")
        ds.start()
        if backup is None:  # where this session can be resumed from (same transaction as the message)
            self.store.set_resume_point(device, canonical, ResumePoint(self.session_id, mode, plain(anchor.next),
                                                                       server_next), keep_acks=honoured)
        if wanted_filter is not None:
            self._set_filter(ds, *wanted_filter)
        apply_format(ds, params.format, self.peer.known_devinf(), self.session_id)
        ds.caps = device_caps(self.peer.known_devinf(), client_uri,
                              ds.forced_type or ds.wanted_type or ds.client_type, self.peer.quirks)
        self._by_name[canonical] = ds
        echo = Item(data=Anchor(next=plain(anchor.next)).to_element())
        # our MaxObjSize beside the anchors (OMA DS 1.2 large objects: the receiver announces it in the
        # Meta of its Alert; SyncML 1.0 has none), as in the SyncHdr
        answer = Item(target=Target(loc_uri=client_uri), source=Source(loc_uri=server_uri),
                      meta=Meta(anchor=Anchor(last=stored.server_last, next=server_next),
                                max_obj_size=str(self.max_obj_size) if self.max_obj_size else None))
        return (answers.status(cmd, status_code, (echo,)),
                lambda: Alert(cmd_id=answers.next_id(), data=str(mode), items=(answer,)))

    def _suspend(self, cmd: Alert, answers: Answers) -> Status:
        """Alert 224: the client suspends the session for the datastores its
        items name (every open one without items); their resume points are
        kept, marked suspended, and nothing more is sent for them."""
        opened: list[DatastoreSync] = []
        for item in cmd.items:
            server_uri = plain(item.target.loc_uri) if item.target else ""
            client_uri = plain(item.source.loc_uri) if item.source else ""
            found = [ds for ds in self._by_name.values()
                     if (server_uri and server_uri in (ds.server_uri, ds.canonical))
                     or (client_uri and client_uri == ds.client_uri)]
            if not found:
                return answers.status(cmd, StatusCode.NOT_FOUND)
            opened += found
        if not cmd.items:
            opened = list(self._by_name.values())
        for ds in opened:
            ds.suspend()
        log.info("session %s: suspended by the client (%s)", self.session_id,
                 ", ".join(ds.canonical for ds in opened) or "no datastore open")
        return answers.status(cmd, StatusCode.OK)

    def _read_filter(self, element: Filter[Any], canonical: str, where: str) -> tuple[bool, bytes]:
        """A client's ``<Filter>``: (inclusive, its bytes); :class:`FilterError` logged and raised."""
        try:
            parsed_filter, data = read_filter(element)
        except FilterError as exc:
            log.warning("session %s: %s filter of %s refused (%d): %s", self.session_id, where, canonical,
                        exc.status, exc)
            raise
        log.info("session %s: %s: %s filter %s", self.session_id, canonical,
                 "INCLUSIVE" if parsed_filter.inclusive else "EXCLUSIVE", log_quoted(data.decode("utf-8", "replace")))
        return parsed_filter.inclusive, data

    @staticmethod
    def _set_filter(ds: DatastoreSync, inclusive: bool, data: bytes) -> None:
        if inclusive:  # one-shot, on top of the window (a session whose only filter it is keeps the held one)
            ds.inclusive_xml = data
            if ds.filter_xml is None:
                ds.filter_xml = ds.held_filter
        else:
            ds.filter_xml = data

    # -- the client's Sync -----------------------------------------------
    def sync(self, cmd: Sync, answers: Answers) -> list[Command]:
        """The Statuses of a client's Sync and of its changes (one per item;
        an Atomic or Sequence among them: see :meth:`open_sync`)."""
        out, canonical = self.open_sync(cmd, answers)
        if canonical is not None:
            for change in cmd.commands:
                out += self.change(canonical, cmd, change, answers)
        return out

    def open_sync(self, cmd: Sync, answers: Answers) -> tuple[list[Command], str | None]:
        """The Status of a client's Sync and the datastore whose changes it
        carries (None: refused, and its changes answered with it).  The
        session then runs each change through :meth:`change`, itself when it
        is an Atomic or a Sequence (issue 15: ``ServerSession._container``)."""
        uri = (cmd.target.loc_uri or "") if cmd.target else ""
        canonical = self.named(uri)
        ds = self._by_name.get(canonical) if canonical else None
        out: list[Command] = []
        if ds is None:
            out.append(answers.status(cmd, StatusCode.NOT_FOUND))
            out += [answers.status(c, StatusCode.NOT_FOUND) for c in cmd.commands]
            return out, None
        if cmd.target is not None and cmd.target.filter is not None:  # (OMA DS 1.2: it replaces the Alert's)
            try:
                self._set_filter(ds, *self._read_filter(cmd.target.filter, ds.canonical, "Sync"))
            except FilterError as exc:  # the Sync fails as a whole: its changes are not carried out
                out.append(answers.status(cmd, exc.status))
                out += [answers.status(c, exc.status) for c in cmd.commands]
                return out, None
        out.append(answers.status(cmd, StatusCode.OK))
        if ds.canonical not in self.synced and cmd.number_of_changes is not None:
            announced = cmd.number_of_changes.strip()
            ds.announced_changes = int(announced) if announced.isdigit() and len(announced) < 10 else None
        self.synced.add(ds.canonical)
        return out, ds.canonical

    def change(self, canonical: str, sync: Sync, change: Command, answers: Answers) -> list[Command]:
        """The Statuses of one change of a Sync to ``canonical`` (Add,
        Replace, Delete, Copy, Move; anything else 406)."""
        ds = self._by_name[canonical]
        out: list[Command] = []
        if ds.mode not in CLIENT_SENDS:
            return [answers.status(change, StatusCode.COMMAND_NOT_ALLOWED)]
        if isinstance(change, Move) and ds.hierarchical and change.items:  # (hierarchical sync: ._tree)
            for item in change.items:
                code = self._move(ds, item)
                ds.received_changes += 1
                if self.peer.quirks.item_status(code):
                    out.append(answers.item_status(change, item, code))
            return out
        if not isinstance(change, (Add, Replace, Delete, Copy)):
            return [answers.status(change, StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED)]
        if not change.items:  # an empty Add (Ericsson phones with nothing to send): nothing to do
            return [answers.status(change, StatusCode.OK)]
        for item in change.items:
            code = self._change(ds, change, sync.meta, item)
            if code != StatusCode.CHUNKED_ITEM_ACCEPTED:  # (an object's chunks count once: its last)
                ds.received_changes += 1
            if self.peer.quirks.item_status(code):
                out.append(answers.item_status(change, item, code))
        return out

    def outside(self, cmd: Add | Replace | Delete | Copy, answers: Answers) -> list[Command]:
        """An Add, Replace, Delete or Copy outside a Sync (SyncML allows them
        in the body): each item names its datastore in its Target LocURI,
        the datastore's URI as the client alerted it, followed by ``/`` and
        our GUID for an item the server has (an Add names the datastore
        alone; its Source is the client's LUID).  Carried out as in a Sync
        of that datastore; 404 for an item naming no datastore of the
        session, 405 for one whose mode takes no changes from the client."""
        out: list[Command] = []
        if not cmd.items:
            return [answers.status(cmd, StatusCode.OK)]
        for item in cmd.items:
            where = plain(item.target.loc_uri) if item.target is not None else ""
            canonical, guid = self.outside_target(where)
            ds = self._by_name.get(canonical) if canonical else None
            if ds is None:
                code: int = StatusCode.NOT_FOUND
            elif ds.mode not in CLIENT_SENDS:
                code = StatusCode.COMMAND_NOT_ALLOWED
            else:
                inner = dataclasses.replace(item, target=Target(loc_uri=guid) if guid else None)
                code = self._change(ds, cmd, None, inner)
            if self.peer.quirks.item_status(code):
                out.append(answers.item_status(cmd, item, code))
        return out

    def outside_target(self, where: str) -> tuple[str | None, str]:
        """The datastore and GUID an item outside a Sync names (``contacts/12``)."""
        where = where.strip()
        for ds in self._by_name.values():
            for uri in (ds.server_uri, ds.server_uri.removeprefix("./")):
                if not uri:
                    continue
                if where in (uri, f"./{uri}"):
                    return ds.canonical, ""
                for base in (uri, f"./{uri}"):
                    if where.startswith(f"{base}/") and where[len(base) + 1:]:
                        return ds.canonical, where[len(base) + 1:]
        return None, ""

    def _move(self, ds: DatastoreSync, item: Item) -> int:
        """A client's Move of one item to another folder (hierarchical sync)."""
        luid = (item.source.loc_uri or "") if item.source else None
        target = (item.target.loc_uri or "") if item.target else None
        try:
            return ds.move(luid, target, ds.parent_for(*_parents(item), luid=luid))
        except ProtocolError as exc:
            self._refused(ds, luid or target, exc)
            return exc.status

    def _refused(self, ds: DatastoreSync, name: str | None, exc: Exception) -> None:
        log.warning("session %s: %s item %s of user=%s device=%s refused: %s", self.session_id,
                    ds.canonical, log_quoted(name or "?"), log_quoted(ds.user),
                    log_quoted(ds.device.device_id), log_quoted(str(exc)))

    def _change(self, ds: DatastoreSync, change: Add | Replace | Delete | Copy, sync_meta: Meta | None,
                item: Item) -> int:
        luid = (item.source.loc_uri or "") if item.source else None
        target = (item.target.loc_uri or "") if item.target else None
        try:
            if isinstance(change, Delete):
                if ds.backup is not None or ds.erasing:
                    return StatusCode.OK
                if change.sft_del:  # (issue 15: from this device only; the server keeps it)
                    return ds.soft_delete(luid, target)
                deleted = ds.delete(luid, target)
                # (Archive: this server keeps no archive of what it deletes, and says so)
                return StatusCode.DELETE_WITHOUT_ARCHIVE if change.archive and deleted == StatusCode.OK else deleted
            if isinstance(change, Copy) and item.data is None:  # (a copy as it is: nothing to decode)
                return ds.copy(luid, target, None, None)
            data = item_bytes(item)
            if data is None:
                return StatusCode.BAD_REQUEST
            ctype = meta_type(item.meta, change.meta, sync_meta)
            fmt = meta_format(item.meta, change.meta)
            encrypted = encryption_of(fmt)
            if fmt and not encrypted:
                from ..formats import decode_item_data

                data = decode_item_data(data, fmt)
            key = (ds.canonical, luid or target or "")
            self.chunks.interrupted(key)  # (an object of this datastore left without its last chunk: 223)
            assembled = self.chunks.add(key, item, data, check_size=not fmt)
            named = ds.remember_parent(key[1], _parents(item), not isinstance(assembled, int)) if ds.hierarchical \
                else (None, None)
            if isinstance(assembled, int):
                return assembled
            if ds.erasing:  # a fallback erasing the client's data: its item is deleted, not stored (._modes)
                return ds.erase_later(luid, isinstance(change, Add))
            if encrypted:  # the cipher ran over the whole item: decrypted once its chunks are together
                assert fmt is not None
                try:
                    assembled = decrypt(assembled, fmt, account_key(ds.store, ds.user), ctype)
                except FormatError as exc:
                    log.warning("session %s: %s item %s of user=%s device=%s refused: %s (%s)", self.session_id,
                                encrypted, log_quoted(luid or target or "?"), log_quoted(ds.user),
                                log_quoted(ds.device.device_id), exc, ds.canonical)
                    return StatusCode.UNSUPPORTED_MEDIA_TYPE
            if ds.backup is not None:  # byte for byte as it came, to the backup file
                return ds.backup.add(assembled, ctype)
            data = self.peer.quirks.to_store(assembled, ctype)
            if isinstance(change, Copy):  # (a copy with changes: the Copy's data is the new item's)
                return ds.copy(luid, target, data, ctype, encoding=fmt)
            parent = ds.parent_for(*named, luid=luid)  # (hierarchical sync: its folder, ._tree)
            if isinstance(change, Add):
                return ds.add(luid, data, ctype, encoding=fmt, parent=parent)
            return ds.replace(luid, target, data, ctype, encoding=fmt, parent=parent)
        except ProtocolError as exc:
            if ds.tree:
                self._refused(ds, luid or target, exc)
            code: int = exc.status
        except (SyncMLError, ValueError) as exc:
            if is_mail(ds.canonical) or ds.tree:  # (the back end or the object refused it: nothing was written)
                self._refused(ds, luid or target, exc)
            code = StatusCode.BAD_REQUEST
        if isinstance(change, Delete):  # the device dropped it all the same: it goes back to the device
            count = ds.send_back(luid, target)
            if count:
                log.warning("session %s: %s item %s of user=%s device=%s: its Delete was refused, %d item(s) "
                            "sent back to the device", self.session_id, ds.canonical, log_quoted(luid or target or "?"),
                            log_quoted(ds.user), log_quoted(ds.device.device_id), count)
        return code

    # -- Map -------------------------------------------------------------
    def map(self, cmd: Map) -> tuple[list[tuple[int, MapItem | None]], list[tuple[str, str]]]:
        """The outcome of a client's Map: a status per MapItem (or one
        ``(code, None)`` for the whole Map: its datastore unknown, or no
        items) and the (datastore, GUID) pairs it mapped.  An item naming a
        GUID the server does not know (e.g. a folder another server sent,
        replayed) gets 404, one without a Target or Source 400; the others
        are mapped all the same, so a Map is never refused whole for one bad
        item (the session answers one Status per item when the codes differ,
        as SyncML answers a command whose items fare differently)."""
        canonical = self.named((cmd.target.loc_uri or "") if cmd.target else "")
        ds = self._by_name.get(canonical) if canonical else None
        if ds is None:
            return [(StatusCode.NOT_FOUND, None)], []
        outcome: list[tuple[int, MapItem | None]] = []
        mapped = []
        refused = 0
        for mi in cmd.map_items or ():
            luid = plain(mi.source.loc_uri) if mi.source is not None else ""
            guid = plain(mi.target.loc_uri) if mi.target is not None else ""
            if not luid or not guid:
                code: int = StatusCode.BAD_REQUEST
            elif ds.mapped(luid, guid):
                code = StatusCode.OK
                mapped.append((ds.canonical, guid))
            else:
                code = StatusCode.NOT_FOUND
            if code != StatusCode.OK:
                refused += 1
                if refused <= MAX_MAP_WARNINGS:
                    log.warning("session %s: %s Map item %s -> %s of user=%s device=%s refused (%d)",
                                self.session_id, ds.canonical, log_quoted(luid or "?"), log_quoted(guid or "?"),
                                log_quoted(ds.user), log_quoted(ds.device.device_id), code)
            outcome.append((code, mi))
        if refused > MAX_MAP_WARNINGS:
            log.warning("session %s: %s: %d Map items of user=%s device=%s refused in all", self.session_id,
                        ds.canonical, refused, log_quoted(ds.user), log_quoted(ds.device.device_id))
        return outcome or [(StatusCode.OK, None)], mapped


def _parents(item: Item) -> tuple[str | None, str | None]:
    """An item's ``(SourceParent, TargetParent)`` LocURIs (None: not there)."""
    return (plain(item.source_parent.loc_uri) if item.source_parent is not None else None,
            plain(item.target_parent.loc_uri) if item.target_parent is not None else None)
