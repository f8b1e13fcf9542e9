"""One message packer for a side's modifications: the client's package 3 and
the server's package 4 (OMA DS 1.2 protocol, 6.2.4/6.2.5).

Each call of :meth:`Packer.pack` fills one message: as many of the queued
changes as fit the byte budget the caller worked out (the peer's MaxMsgSize
less what the message already holds), at least one, each datastore's under
its own ``<Sync>``.  A change too large for a message of its own goes out in
``<MoreData/>`` chunks (6.9 large object handling), one chunk per message,
the first numbered as the whole command was; SyncML 1.0 has no MoreData, so
a side that cannot split drops it instead.  An object larger than the
peer's MaxObjSize is never sent.  ``NumberOfChanges`` (from SyncML 1.1) goes
in the first ``<Sync>`` of each datastore: the changes queued for it then.

A split change keeps the command without its data and how many bytes of it
went out; the data itself waits in a :class:`._chunks.Spool` when the packer
has one (the server's: in the store, written once), else in the change.  So
a session's saved state does not grow with the object (issue 14): each
message costs one chunk, and a worker that did not send the earlier chunks
reads the data back from the spool once.

What a change is and what happens when it is sent or dropped is the side's
business (:class:`Side`): the packer only numbers, measures, splits and
groups, so both sides pack alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Generic, Protocol, TypeVar

from ..errors import SyncMLError
from ..model import Add, CmdIDs, Command, Meta, Replace, Source, Sync, Target
from ..model.build import max_chunk, splittable_data
from ._chunks import Spool

__all__ = ["Change", "Dropped", "Packer", "Side"]

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)

_COMMAND_OVERHEAD = 40  # bytes a command costs besides its own encoding (its place in the Sync)
_CHUNK_MARGIN = 200  # bytes kept free next to a chunk (its Meta Size, MoreData, the command around it)
_MIN_CHUNK = 256  # bytes: a smaller chunk would be mostly overhead


class Dropped(Enum):
    """Why a queued change was not sent (it stays pending for a later session)."""

    OVER_MAX_OBJ_SIZE = "larger than the peer's MaxObjSize"
    NO_MORE_DATA = "larger than a message, and the version has no MoreData"


@dataclass(kw_only=True, eq=False)
class Change(Generic[T]):
    """A change waiting to go out: the datastore it belongs to (the key of
    :meth:`Packer.pack`'s ``addresses``), the side's record of it, and, once
    it is split, the command it belongs to (its item without data), the
    object's size, the bytes sent, the chunk size, whether it is text, and
    the name its data has in the packer's spool."""

    datastore: str
    record: T
    whole: Add | Replace | None = None
    total: int = 0
    sent: int = 0
    chunk: int = 0
    text: bool = False
    spooled: str | None = None
    data: bytes | None = None  # the object's bytes (not in a saved state when spooled: read back when needed)

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        if self.spooled is not None:
            state["data"] = None
        return state


class Side(Protocol[T_contra]):
    """What a side does with its changes."""

    def command(self, record: T_contra, cmd_id: str) -> Command:
        """The whole command sending ``record``, numbered ``cmd_id``."""

    def sent(self, record: T_contra, command: Command) -> None:
        """The last (or only) piece of ``record`` went out as ``command``."""

    def dropped(self, record: T_contra, why: Dropped) -> None:
        """``record`` will not be sent in this session."""


class Packer(Generic[T]):
    """The queue of one side's changes and the datastores whose Sync went out.

    ``queue``: the changes to send (more may be queued before the first
    :meth:`pack`); ``more_data``: whether the session's SyncML version has
    MoreData and NumberOfChanges (1.1 on)."""

    def __init__(self, *, queue: Iterable[Change[T]] = (), more_data: bool = True, spool: Spool | None = None) -> None:
        self.more_data = more_data
        self.queue: list[Change[T]] = list(queue)
        self.announced: set[str] = set()  # datastores whose Sync was sent
        self.spool = spool  # where a split change's data waits (None: in the change)
        self._spooled = 0  # split changes spooled so far (their names)

    @property
    def done(self) -> bool:
        return not self.queue

    def pack(self, side: Side[T], *, addresses: Mapping[str, tuple[str, str]], budget: int, ids: CmdIDs,
             measure: Callable[[Command], int], max_obj_size: int | None = None) -> list[Sync]:
        """The Syncs of the next message, within ``budget`` bytes as
        ``measure`` (the encoded size of a command) counts them.
        ``addresses``: per datastore, in order, its Sync's Target and Source
        LocURIs; a datastore not announced yet gets a Sync even when none of
        its changes fit (with its NumberOfChanges).  ``max_obj_size``: the
        peer's (None: not known)."""
        totals: dict[str, int] = {}
        for change in self.queue:
            totals[change.datastore] = totals.get(change.datastore, 0) + 1
        syncs: dict[str, tuple[str, list[Command]]] = {
            key: (ids.next(), []) for key in addresses if key not in self.announced}
        used = 0
        while self.queue:
            change = self.queue[0]
            if change.whole is not None:  # the next chunk of a split item
                command: Command = self._piece(change, ids.next())
                size = measure(command) + _COMMAND_OVERHEAD
            else:
                command = side.command(change.record, ids.next())
                if max_obj_size is not None and _object_size(command) > max_obj_size:
                    self.queue.pop(0)  # OMA DS: never send an object larger than the receiver's MaxObjSize
                    side.dropped(change.record, Dropped.OVER_MAX_OBJ_SIZE)
                    continue
                size = measure(command) + _COMMAND_OVERHEAD
                if used + size > budget:
                    if used:
                        break  # the next message
                    if not self.more_data:
                        self.queue.pop(0)
                        side.dropped(change.record, Dropped.NO_MORE_DATA)
                        continue
                    command = self._split(change, command, budget)
            if change.datastore not in syncs:
                syncs[change.datastore] = (ids.next(), [])
            syncs[change.datastore][1].append(command)
            used += size
            if change.whole is not None:  # more of this item in the next messages
                break
            self.queue.pop(0)
            side.sent(change.record, command)
        out = []
        for key, (sync_id, commands) in syncs.items():
            target, source = addresses[key]
            noc = str(totals.get(key, 0)) if key not in self.announced and self.more_data else None
            self.announced.add(key)
            out.append(Sync(cmd_id=sync_id, target=Target(loc_uri=target), source=Source(loc_uri=source),
                            number_of_changes=noc, commands=tuple(commands)))
        return out

    def _split(self, change: Change[T], command: Command, budget: int) -> Command:
        """The first chunk of ``command`` (numbered as it); ``change`` keeps
        the command without its data and its data (spooled when the packer
        has a spool).  Chunks of at most the bytes that fit ``budget``; text
        is cut on UTF-8 character boundaries."""
        if not isinstance(command, (Add, Replace)) or not command.items or command.items[0].data is None:
            return command  # nothing to split (a Delete): it goes whole
        item = command.items[0]
        raw = splittable_data(item)
        chunk = max(_MIN_CHUNK, max_chunk(item, budget - _CHUNK_MARGIN))
        if len(raw) <= chunk:
            return command
        change.whole = dataclasses.replace(command, items=(dataclasses.replace(item, data=None, _layout=None),))
        change.total, change.sent, change.chunk, change.text, change.data = (
            len(raw), 0, chunk, isinstance(item.data, str), raw)
        if self.spool is not None:  # written once; each later message saves only the offset
            self._spooled += 1
            change.spooled = f"out:{self._spooled}"
            self.spool.put(change.spooled, 0, raw)
        return self._piece(change, command.cmd_id)

    def _piece(self, change: Change[T], cmd_id: str) -> Command:
        """The next chunk of the split ``change`` as its command numbered
        ``cmd_id``: the first with the whole size in ``<Meta><Size>``, all but
        the last with ``<MoreData/>``; after the last, ``change`` is whole no more."""
        whole = change.whole
        assert whole is not None
        raw = change.data
        if raw is None:  # a worker that did not split it: read back once
            assert self.spool is not None and change.spooled is not None
            raw = change.data = self.spool.read(change.spooled)
            if len(raw) != change.total:
                raise SyncMLError(f"a large object's spooled data is {len(raw)} bytes, not {change.total}")
        start = change.sent
        stop = min(start + change.chunk, change.total)
        if change.text:
            while stop < change.total and (raw[stop] & 0xC0) == 0x80:  # inside a character
                stop -= 1
            if stop == start:
                raise ValueError("chunk is smaller than one character")
        piece = raw[start:stop]
        item = whole.items[0]
        meta = dataclasses.replace(item.meta or Meta(), size=str(change.total)) if start == 0 else item.meta
        last = stop >= change.total
        change.sent = stop
        if last:
            if self.spool is not None and change.spooled is not None:
                self.spool.drop(change.spooled)
            change.whole, change.data, change.spooled = None, None, None
        return dataclasses.replace(whole, cmd_id=cmd_id, items=(dataclasses.replace(
            item, data=piece.decode("utf-8") if change.text else piece, more_data=not last, meta=meta,
            _layout=None),))


def _object_size(command: Command) -> int:
    """The bytes of the object ``command`` carries (0 for a command without data)."""
    if not isinstance(command, (Add, Replace)) or not command.items:
        return 0
    data = command.items[0].data
    return len(data.encode("utf-8")) if isinstance(data, str) else len(data) if isinstance(data, bytes) else 0
