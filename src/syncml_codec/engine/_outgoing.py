"""The server's outgoing changes (package 4): the command for a change, the
MoreData chunks of a large one, the receiver's MaxObjSize."""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Add, CmdIDs, Command, Delete, Item, Meta, Replace, Source, Target
from ..store.base import Store
from ._items import encode_for_client
from ._sync import DatastoreSync, Op
from ._util import wire_data
from .quirks import NO_QUIRKS, Quirks

__all__ = ["Outgoing", "chunk_command", "command_for", "exceeds_max_obj_size"]


@dataclass
class Outgoing:
    """A change waiting in package 4 (with the chunks still to send of a large item)."""

    ds: DatastoreSync
    op: Op
    chunks: list[Item] | None = None
    meta: Meta | None = None
    kind: type[Add] | type[Replace] | None = None


def exceeds_max_obj_size(command: Command, max_obj_size: int | None) -> bool:
    """Whether ``command`` carries an object larger than the receiver's MaxObjSize."""
    if max_obj_size is None or not isinstance(command, (Add, Replace)) or not command.items:
        return False
    data = command.items[0].data
    size = len(data.encode("utf-8")) if isinstance(data, str) else len(data) if isinstance(data, bytes) else 0
    return size > max_obj_size


def chunk_command(entry: Outgoing, ids: CmdIDs) -> Command:
    """The next MoreData chunk of a large item (taken off ``entry.chunks``)."""
    assert entry.chunks and entry.kind is not None
    chunk = entry.chunks.pop(0)
    return entry.kind(cmd_id=ids.next(), meta=entry.meta, items=(chunk,))


def command_for(store: Store, ds: DatastoreSync, op: Op, ids: CmdIDs, quirks: Quirks = NO_QUIRKS) -> Command:
    """The Add, Replace or Delete that sends ``op`` to the client, in its type
    (as ``quirks``, the device's, want it)."""
    cmd_id = ids.next()
    if op.kind == "Delete":
        return Delete(cmd_id=cmd_id, items=(Item(target=Target(loc_uri=op.luid or op.guid)),))
    stored = ds.store.get_item(ds.user, ds.canonical, op.guid)  # the datastore's view (see quirks.store_for)
    assert stored is not None
    data, ctype, encoding = ds.for_client(stored, quirks.default_type(ds.canonical))
    data = quirks.to_device(data, ctype)
    # the encoding the device sends its items in, else the one its quirks ask for
    data, fmt = encode_for_client(data, ctype, encoding or quirks.transfer_encoding(ctype, data))
    meta = Meta(type=ctype, format=fmt)
    if op.kind == "Add":
        return Add(cmd_id=cmd_id, meta=meta, items=(Item(source=Source(loc_uri=op.guid), data=wire_data(data)),))
    return Replace(cmd_id=cmd_id, meta=meta,
                   items=(Item(target=Target(loc_uri=op.luid or ""), source=Source(loc_uri=op.guid),
                               data=wire_data(data)),))
