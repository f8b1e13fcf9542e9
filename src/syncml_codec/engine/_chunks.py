"""Reassembly of the large objects the peer sends in MoreData chunks
(OMA DS 1.2, 6.9 large object handling), bounded; both sides use it (the
server for a client's package 3, the client for the server's package 4).

One :class:`Reassembler` per session keeps the chunks received so far per
(datastore, LUID or GUID).  An object over ``max_obj_size`` (by the first chunk's
``Meta/Size`` or by the bytes received), or a chunk that would take the
session's incomplete objects together over ``max_pending_size``, is refused
with 413 and dropped; its later chunks, up to the last one, are refused too
(so a truncated object is never stored).  Memory per session is thus at most
``max_pending_size`` for their data, as much again for their keys (LUIDs)
and a bounded list of refused keys (kept as digests).
"""

from __future__ import annotations

import hashlib
import logging

from ..model import Item, StatusCode
from ._util import log_quoted

__all__ = ["Reassembler"]

log = logging.getLogger("syncml_codec.engine")

_KEY_OVERHEAD = 100  # bytes an object's key and buffer cost besides its LUID (an estimate)
_REFUSED_KEYS = 1000  # refused objects remembered (their later chunks are refused too)


class Reassembler:
    """Chunks of large objects by (datastore, item), within the limits:
    ``max_obj_size`` per object, ``max_pending_size`` for all incomplete
    ones; ``owner`` names the session in log lines."""

    def __init__(self, *, max_obj_size: int, max_pending_size: int, owner: str) -> None:
        self.max_obj_size = max_obj_size
        self.max_pending_size = max_pending_size
        self.owner = owner
        # one growing buffer per object: its size is known without summing its chunks again at
        # every chunk (which made 40,000 one-byte chunks in one message take 16 s)
        self.pending: dict[tuple[str, str], bytearray] = {}
        self.size = 0  # bytes in pending
        self.key_size = 0  # what pending's keys cost (their LUIDs and an estimate of the overhead)
        # ordered: the oldest are forgotten first; by a digest of the LUID, which may be megabytes long
        self.refused: dict[tuple[str, bytes], None] = {}

    def add(self, key: tuple[str, str], item: Item, data: bytes) -> bytes | int:
        """The whole object once its last chunk came (``data`` itself when it
        was not chunked); else the status to answer: 213 while chunks are
        pending, 413 when it is (or was) too large."""
        refused = (key[0], hashlib.blake2b(key[1].encode("utf-8", "surrogatepass"), digest_size=16).digest())
        if refused in self.refused:
            if not item.more_data:
                del self.refused[refused]
            return StatusCode.REQUEST_ENTITY_TOO_LARGE
        chunks = self.pending.get(key)
        have = len(chunks) if chunks is not None else 0
        # a new object's key is paid from a budget of its own: empty chunks of ever new objects
        # (or megabyte LUIDs) would otherwise fill the memory with keys, counted nowhere
        key_cost = _KEY_OVERHEAD + len(key[1]) if chunks is None else 0
        declared = item.meta.size_int if item.meta is not None and chunks is None else None
        if ((declared is not None and declared > self.max_obj_size)
                or have + len(data) > self.max_obj_size
                or (item.more_data and self.size + len(data) > self.max_pending_size)
                or (item.more_data and self.key_size + key_cost > self.max_pending_size)):
            self._drop(key)
            if item.more_data:
                self.refused[refused] = None
                while len(self.refused) > _REFUSED_KEYS:
                    del self.refused[next(iter(self.refused))]
            log.warning("%s: object %s refused (413): over MaxObjSize %d or the session's %d pending bytes",
                        self.owner, log_quoted(key[1]), self.max_obj_size, self.max_pending_size)
            return StatusCode.REQUEST_ENTITY_TOO_LARGE
        if item.more_data:  # a chunk of a large object: keep it until the last one
            self.pending.setdefault(key, bytearray()).extend(data)
            self.size += len(data)
            self.key_size += key_cost
            return StatusCode.CHUNKED_ITEM_ACCEPTED
        if chunks is not None:
            self._drop(key)
            return bytes(chunks + data)
        return data

    def _drop(self, key: tuple[str, str]) -> None:
        chunks = self.pending.pop(key, None)
        if chunks is not None:
            self.size -= len(chunks)
            self.key_size -= _KEY_OVERHEAD + len(key[1])
