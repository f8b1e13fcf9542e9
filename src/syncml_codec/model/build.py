"""Helpers for building messages: command IDs, the Status that answers a
command, and large objects split into MoreData chunks."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from ..codec.codepages import Language
from ..errors import SyncMLError
from .codes import StatusCode
from .commands import Command, Map, Results, Search, Status, Sync
from .elements import Chal, Item, Meta
from .message import SyncHdr

__all__ = ["CmdIDs", "max_chunk", "split_item", "splittable_data", "status_for", "status_for_header"]


class CmdIDs:
    """Command IDs for one message: "1", "2", ... (SyncML restarts them in
    every message).

    >>> ids = CmdIDs()
    >>> ids.next(), ids.next(), ids.last
    ('1', '2', 2)
    """

    __slots__ = ("last",)

    def __init__(self, start: int = 1) -> None:
        self.last = start - 1

    def next(self) -> str:
        self.last += 1
        return str(self.last)

    def __iter__(self) -> Iterator[str]:
        while True:
            yield self.next()


def _refs(command: Command) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """TargetRef and SourceRef values a Status for ``command`` repeats."""
    if isinstance(command, Sync):
        return ((command.target.loc_uri,) if command.target else (),
                (command.source.loc_uri,) if command.source else ())
    if isinstance(command, Map):
        return (command.target.loc_uri,), (command.source.loc_uri,)
    if isinstance(command, Search):
        return ((command.target.loc_uri,) if command.target else (),
                tuple(s.loc_uri for s in command.sources))
    items: tuple[Item, ...] = getattr(command, "items", ())
    if isinstance(command, Results) or not items:
        return (), ()
    return (tuple(i.target.loc_uri for i in items if i.target),
            tuple(i.source.loc_uri for i in items if i.source))


def status_for(command: Command, *, msg_ref: str, cmd_id: str, code: int = StatusCode.OK,
               items: tuple[Item, ...] = (), chal: Chal | None = None) -> Status:
    """The Status answering ``command`` from message ``msg_ref``: CmdRef,
    Cmd, TargetRef and SourceRef filled in from the command.

    (For an Alert, pass the anchors back in ``items`` as the spec asks.)"""
    targets, sources = _refs(command)
    return Status.of(cmd_id=cmd_id, msg_ref=msg_ref, cmd_ref=command.cmd_id, cmd=command.TAG,
                     target_refs=targets, source_refs=sources, chal=chal, code=code, items=items)


def status_for_header(header: SyncHdr, *, cmd_id: str, code: int = StatusCode.OK,
                      chal: Chal | None = None) -> Status:
    """The Status for a message's SyncHdr (CmdRef 0): authentication result
    and, with ``chal``, the challenge for the next message."""
    return Status.of(cmd_id=cmd_id, msg_ref=header.msg_id, cmd_ref="0", cmd="SyncHdr",
                     target_refs=(header.target.loc_uri,), source_refs=(header.source.loc_uri,),
                     chal=chal, code=code)


def splittable_data(item: Item) -> bytes:
    """An item's data as the bytes large object handling cuts into chunks
    (text as UTF-8; :class:`SyncMLError` for data that is neither text nor bytes)."""
    data = item.data
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, bytes):
        return data
    raise SyncMLError("only text or opaque item data can be split")


def split_item(item: Item, chunk: int) -> list[Item]:
    """Split an item whose data is larger than ``chunk`` bytes into items
    of at most ``chunk`` bytes each, all but the last with ``<MoreData/>``;
    the first carries the whole size in ``<Meta><Size>`` (as large object
    handling requires).  Text is split on UTF-8 character boundaries."""
    if chunk < 1:
        raise ValueError("chunk must be at least 1 byte")
    raw = splittable_data(item)
    if len(raw) <= chunk:
        return [item]
    pieces = []
    start = 0
    while start < len(raw):
        stop = min(start + chunk, len(raw))
        if isinstance(item.data, str):
            while stop < len(raw) and (raw[stop] & 0xC0) == 0x80:  # inside a character
                stop -= 1
            if stop == start:
                raise ValueError("chunk is smaller than one character")
        pieces.append(raw[start:stop])
        start = stop
    meta = item.meta or Meta()
    first_meta = dataclasses.replace(meta, size=str(len(raw)))
    out = []
    for n, piece in enumerate(pieces):
        value: str | bytes = piece.decode("utf-8") if isinstance(item.data, str) else piece
        out.append(dataclasses.replace(
            item, data=value, more_data=n < len(pieces) - 1,
            meta=first_meta if n == 0 else item.meta, _layout=None))
    return out


def max_chunk(item: Item, budget: int, language: Language | None = None) -> int:
    """The most data bytes ``item`` can carry, as opaque data with
    ``<MoreData/>``, if the item's WBXML encoding must stay within
    ``budget`` bytes (0 when not even an empty chunk fits).  Use it with
    :func:`split_item` to fill what is left of a message."""
    from .size import _mb_len, wbxml_size

    empty = dataclasses.replace(item, data=b"", more_data=True, _layout=None)
    base = wbxml_size(empty, language)  # includes OPAQUE with a one-byte length
    room = budget - base
    if room < 0:
        return 0
    # the length prefix grows with the data: find the largest n that fits
    n = room
    while n > 0 and n + _mb_len(n) - 1 > room:
        n -= 1
    return n
