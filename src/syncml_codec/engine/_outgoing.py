"""The server's outgoing changes (package 4): each datastore's changes,
queued when package 4 starts and packed message by message by the one
packer (:mod:`._packer`); the command for a change, in the device's type and
encoding; what was sent, for the client's Statuses and Maps (package 5).
A 415 for a type the sync URL forced switches the datastore to another
(:mod:`._format`), and the refused changes are queued again when package 4
is still going."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from ..model import (
    Add,
    CmdIDs,
    Command,
    Delete,
    Item,
    Meta,
    Move,
    Replace,
    Source,
    SourceParent,
    Status,
    StatusCode,
    Sync,
    Target,
    TargetParent,
)
from ._chunks import Spool
from ._encrypted import account_key, encrypt, encryption_of
from ._format import refused
from ._items import encode_for_client
from ._ops import Operation
from ._packer import Change, Dropped, Packer
from ._peer import Peer
from ._sync import DatastoreSync, Op
from ._util import log_quoted, wire_data
from .quirks import NO_QUIRKS, Quirks

__all__ = ["Outbox", "command_for"]

log = logging.getLogger("syncml_codec.engine")

_Sent = tuple[DatastoreSync, Op]
#: a client's Status to our Move saying it does not take the command
_NO_MOVE = (StatusCode.COMMAND_NOT_ALLOWED, StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED,
            StatusCode.COMMAND_NOT_IMPLEMENTED)


def command_for(ds: DatastoreSync, op: Op, cmd_id: str, quirks: Quirks = NO_QUIRKS) -> Command:
    """The Add, Replace or Delete that sends ``op`` to the client, in its type
    (as ``quirks``, the device's, want it); a Move (SyncML 1.2) for a Replace
    that only changes the folder of an item the client holds (issue 14)."""
    if op.kind is Operation.DELETE:
        return Delete(cmd_id=cmd_id, items=(Item(target=Target(loc_uri=op.luid or op.guid)),))
    if op.kind is Operation.REPLACE and op.guid in ds.moves:  # only its folder changed: a Move, without data
        source_parent, target_parent = _parent_of(ds, ds.parent_of(op.guid), False)
        return Move(cmd_id=cmd_id, items=(Item(target=Target(loc_uri=op.luid or ""), source=Source(loc_uri=op.guid),
                                               source_parent=source_parent, target_parent=target_parent),))
    stored, reduced = ds.item_to_send(op.guid)  # from the datastore's view (quirks.store_for), as its filter wants
    assert stored is not None
    data, ctype, encoding = ds.for_client(stored, quirks.default_type(ds.canonical), reduced=reduced)
    data = quirks.to_device(data, ctype)
    fmt: str | None
    if encryption_of(encoding):  # the device encrypts its items: so are those it is sent
        key = account_key(ds.store, ds.user)
        if key is not None:
            data, fmt = encrypt(data, encoding, key), encoding
        else:
            log.warning("user %s device %s encrypts its items (%s) but the account has no encryption key: "
                        "item %s sent in b64", log_quoted(ds.user), log_quoted(ds.device.device_id), encoding,
                        log_quoted(op.guid))
            data, fmt = encode_for_client(data, ctype, "b64")
    else:  # the encoding the device sends its items in, else the one its quirks ask for
        data, fmt = encode_for_client(data, ctype, encoding or quirks.transfer_encoding(ctype, data))
    meta = Meta(type=ctype, format=fmt)
    source_parent, target_parent = _parent_of(ds, stored.parent, op.kind is Operation.ADD)
    if op.kind is Operation.ADD:
        return Add(cmd_id=cmd_id, meta=meta, items=(Item(source=Source(loc_uri=op.guid), source_parent=source_parent,
                                                         target_parent=target_parent, data=wire_data(data)),))
    return Replace(cmd_id=cmd_id, meta=meta,
                   items=(Item(target=Target(loc_uri=op.luid or ""), source=Source(loc_uri=op.guid),
                               source_parent=source_parent, target_parent=target_parent, data=wire_data(data)),))


def _parent_of(ds: DatastoreSync, parent: str, add: bool) -> tuple[SourceParent | None, TargetParent | None]:
    """How an item's folder goes to a client syncing the tree (:mod:`._tree`):
    the client's LUID of it when mapped (``<TargetParent>``), else our GUID
    (``<SourceParent>``: sent earlier in this package); the root as the
    client's URI of the datastore in a Replace, nothing in an Add."""
    if not ds.hierarchical:
        return None, None
    if not parent:
        return None, (None if add else TargetParent(loc_uri=ds.client_uri))
    luid = ds.luid_of(parent)
    if luid:
        return None, TargetParent(loc_uri=luid)
    return SourceParent(loc_uri=parent), None


class Outbox:
    """Package 4 of one session: the changes still to send, those sent and
    awaiting their Status, the Adds awaiting their Map.  It is the server's
    side of the packer (:class:`._packer.Side`)."""

    def __init__(self, *, peer: Peer, session_id: str, version: str, spool: Spool | None = None) -> None:
        self.peer = peer
        self.session_id = session_id
        # SyncML 1.0: no MoreData; ``spool``: where a large object waits between its chunks (._packer)
        self.packer: Packer[_Sent] = Packer(more_data=version != "1.0", spool=spool)
        self.sent_ops: dict[tuple[str, str], _Sent] = {}  # (MsgID, CmdID) -> what it sent
        self.unmapped: set[tuple[str, str]] = set()  # (datastore, GUID) of Adds sent, awaiting their Map
        self.sent_counts: dict[tuple[str, str], int] = {}  # (datastore, Add|Replace|Delete) -> sent, not refused
        self.sent_types: dict[tuple[str, str], str] = {}  # (MsgID, CmdID) -> the forced type it went in
        self.sent_moves: set[tuple[str, str]] = set()  # (MsgID, CmdID) of the Moves sent, awaiting their Status
        self.too_large = 0  # changes not sent because they exceed what the client takes
        self._msg_id = ""  # the message being packed
        self._limits = (0, 0)  # the client's MaxMsgSize and MaxObjSize (for log lines)

    def __setstate__(self, state: dict[str, object]) -> None:
        state.setdefault("sent_moves", set())  # (a state saved before Moves were sent)
        self.__dict__.update(state)

    @property
    def done(self) -> bool:
        return self.packer.done

    def fill(self, datastores: Mapping[str, DatastoreSync], *, msg_id: str, budget: int, ids: CmdIDs,
             measure: Callable[[Command], int], max_msg_size: int, max_obj_size: int | None) -> list[Sync]:
        """The Syncs of the next message of package 4 (``msg_id``), within
        ``budget``; on the first, every datastore's changes are queued (the
        client's changes are all in by then)."""
        if not self.packer.announced and not self.packer.queue:
            for ds in datastores.values():
                ds.client_done()
                self.packer.queue += [Change(datastore=ds.canonical, record=(ds, op)) for op in ds.outgoing()]
        self._msg_id = msg_id
        self._limits = (max_msg_size, max_obj_size or 0)
        addresses = {c: (ds.client_uri, ds.server_uri) for c, ds in datastores.items()}
        return self.packer.pack(self, addresses=addresses, budget=budget, ids=ids, measure=measure,
                                max_obj_size=max_obj_size)

    def status(self, status: Status) -> None:
        """The client's Status for a change we sent: an error undoes it
        (it goes again next time), but for 418 (the client has it); a 415
        for a forced type switches the datastore to another (:mod:`._format`)
        and, while package 4 is still going, queues the change again; so does
        a Move the client does not take (405, 406, 501), as a Replace."""
        key = (status.msg_ref, status.cmd_ref)
        sent = self.sent_ops.pop(key, None)
        sent_type = self.sent_types.pop(key, None)
        was_move = key in self.sent_moves
        self.sent_moves.discard(key)
        code = status.code
        if sent is not None and code is not None and int(code) < 300:
            sent[0].acknowledged(sent[1])  # (kept for a resume: issue 15)
        if sent is not None and code is not None and int(code) >= 300:
            ds, op = sent
            self.unmapped.discard((ds.canonical, op.guid))  # no Map follows a refused Add
            if int(code) != StatusCode.ALREADY_EXISTS:
                ds.failed(op)
                self.sent_counts[(ds.canonical, op.kind.value)] -= 1
            if int(code) in _NO_MOVE and was_move:
                # a client that takes no Move: this one and the session's next ones go as a Replace
                if ds.hierarchical_moves:
                    log.warning("session %s: the client answered %s to a Move; Replaces instead",
                                self.session_id, code)
                ds.moves.clear()
                ds.hierarchical_moves = False
                if not self.packer.done:
                    self.packer.queue.append(Change(datastore=ds.canonical, record=(ds, op)))
            if int(code) == StatusCode.UNSUPPORTED_MEDIA_TYPE and sent_type is not None:
                refused(ds, sent_type, self.peer.known_devinf(), self.session_id)
                if sent_type.strip().lower() in ds.refused and not self.packer.done:
                    self.packer.queue.append(Change(datastore=ds.canonical, record=(ds, op)))

    # -- the packer's side ------------------------------------------------
    def command(self, record: _Sent, cmd_id: str) -> Command:
        ds, op = record
        return command_for(ds, op, cmd_id, self.peer.quirks)

    def sent(self, record: _Sent, command: Command) -> None:
        ds, op = record
        self.sent_ops[(self._msg_id, command.cmd_id)] = record
        self.sent_counts[(ds.canonical, op.kind.value)] = self.sent_counts.get((ds.canonical, op.kind.value), 0) + 1
        ds.sent(op)
        if ds.forced_type is not None and isinstance(command, (Add, Replace)) and command.meta is not None \
                and command.meta.type:
            self.sent_types[(self._msg_id, command.cmd_id)] = command.meta.type
        if op.kind is Operation.ADD:
            self.unmapped.add((ds.canonical, op.guid))
        elif isinstance(command, Move):
            self.sent_moves.add((self._msg_id, command.cmd_id))

    def dropped(self, record: _Sent, why: Dropped) -> None:
        ds, op = record
        if why is Dropped.OVER_MAX_OBJ_SIZE:
            # OMA DS: never send an object larger than the receiver's MaxObjSize; it stays
            # pending (unsent), so a later session with a larger limit delivers it
            log.warning("session %s: %s %s is larger than the client's MaxObjSize %s; not sent",
                        self.session_id, op.kind, op.guid, self._limits[1])
        else:  # SyncML 1.0 has no MoreData: an item larger than a message cannot go; it stays pending
            log.warning("session %s: %s %s does not fit a message of %s bytes and SyncML 1.0 cannot "
                        "split it; not sent", self.session_id, op.kind, op.guid, self._limits[0])
        self.too_large += 1
        ds.stats["too-large"] = ds.stats.get("too-large", 0) + 1  # (in the session log's counts)
        ds.failed(op)
