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

Where the chunks wait is a :class:`Spool`: in memory (:class:`MemorySpool`,
our client), or in the store (:class:`StoreSpool`, the server), one row per
chunk keyed by the session: the session's state, written after every
message, then holds only how many bytes and chunks each object has so far,
so a 5 MB object costs its size once, not once per message (issue 14).  The
server's large outgoing objects wait in the same spool (:mod:`._packer`).

Two checks of OMA DS 1.2 large object handling (issue 15): the first chunk's
``Meta/Size`` is the object's size, so an object whose chunks add up to
another size is refused with 424 (size mismatch) and not stored; and an object
whose last chunk never comes (the peer starts another object of the same
datastore, or ends its package) is dropped and reported
(:meth:`Reassembler.interrupted`, :meth:`Reassembler.unfinished`): the side
answers it with Alert 223 (no end of data).
"""

from __future__ import annotations

import hashlib
import logging
from typing import Protocol

from ..model import Item, StatusCode
from ..store.base import Store
from ._util import log_quoted

__all__ = ["MemorySpool", "Reassembler", "Spool", "StoreSpool"]

log = logging.getLogger("syncml_codec.engine")

_KEY_OVERHEAD = 100  # bytes an object's key and buffer cost besides its LUID (an estimate)
_REFUSED_KEYS = 1000  # refused objects remembered (their later chunks are refused too)


class Spool(Protocol):
    """Where the pieces of a session's large objects wait, by object name."""

    def put(self, obj: str, seq: int, data: bytes) -> None:
        """Keep piece ``seq`` (0, 1, ...) of ``obj``."""

    def read(self, obj: str) -> bytes:
        """The pieces of ``obj`` kept so far, joined in order."""

    def drop(self, obj: str) -> None:
        """Forget ``obj``'s pieces."""


class MemorySpool:
    """A :class:`Spool` in memory (a session that is not saved between messages)."""

    def __init__(self) -> None:
        self._pieces: dict[str, list[bytes]] = {}

    def put(self, obj: str, seq: int, data: bytes) -> None:
        self._pieces.setdefault(obj, []).append(data)

    def read(self, obj: str) -> bytes:
        return b"".join(self._pieces.get(obj, ()))

    def drop(self, obj: str) -> None:
        self._pieces.pop(obj, None)


class StoreSpool:
    """A :class:`Spool` in the store's ``session_chunks`` (schema 12), written
    in the message's transaction (a failed message leaves none of its pieces)
    and read by whichever worker serves the session's next message; the
    pieces go with the session's row."""

    def __init__(self, store: Store, session_id: str) -> None:
        self.store = store  # (the server's: a session's state refers to it, see ._persist)
        self.session_id = session_id

    def put(self, obj: str, seq: int, data: bytes) -> None:
        self.store.put_chunk(self.session_id, obj, seq, data)

    def read(self, obj: str) -> bytes:
        return self.store.chunk_data(self.session_id, obj)

    def drop(self, obj: str) -> None:
        self.store.drop_chunks(self.session_id, obj)


def _name(key: tuple[str, str]) -> str:
    """The spool's name of an incoming object (its LUID may be long)."""
    return "in:" + hashlib.blake2b("\0".join(key).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


class Reassembler:
    """Chunks of large objects by (datastore, item), within the limits:
    ``max_obj_size`` per object, ``max_pending_size`` for all incomplete
    ones; ``owner`` names the session in log lines; ``spool`` keeps the
    chunks (default: in memory)."""

    def __init__(self, *, max_obj_size: int, max_pending_size: int, owner: str, spool: Spool | None = None) -> None:
        self.max_obj_size = max_obj_size
        self.max_pending_size = max_pending_size
        self.owner = owner
        self.spool: Spool = spool if spool is not None else MemorySpool()
        # per object, the bytes and the chunks spooled so far: its size is known without reading
        # its chunks again (summing them at every chunk made 40,000 one-byte chunks take 16 s)
        self.pending: dict[tuple[str, str], tuple[int, int]] = {}
        self.declared: dict[tuple[str, str], int] = {}  # per pending object, its first chunk's Meta/Size
        self.size = 0  # bytes in pending
        self.key_size = 0  # what pending's keys cost (their LUIDs and an estimate of the overhead)
        # ordered: the oldest are forgotten first; by a digest of the LUID, which may be megabytes long
        self.refused: dict[tuple[str, bytes], None] = {}
        self.abandoned: list[tuple[str, str]] = []  # dropped without their last chunk, not answered yet (223)

    def __setstate__(self, state: dict[str, object]) -> None:
        state.setdefault("declared", {})  # (a state saved before issue 15)
        state.setdefault("abandoned", [])
        self.__dict__.update(state)

    def interrupted(self, key: tuple[str, str]) -> list[tuple[str, str]]:
        """The objects of ``key``'s datastore still waiting for their last
        chunk when ``key`` comes instead (OMA DS: the next chunk of an object
        comes before anything else of its datastore): dropped; the side
        answers each with Alert 223."""
        gone = [k for k in self.pending if k[0] == key[0] and k != key]
        for k in gone:
            log.warning("%s: object %s abandoned without its last chunk (%s came instead)", self.owner,
                        log_quoted(k[1]), log_quoted(key[1]))
            self._drop(k)
        self.abandoned += gone
        return gone

    def unfinished(self) -> list[tuple[str, str]]:
        """Every object still waiting for its last chunk when the peer's
        package ended: dropped; the side answers each with Alert 223."""
        gone = list(self.pending)
        for k in gone:
            log.warning("%s: object %s abandoned without its last chunk (the package ended)", self.owner,
                        log_quoted(k[1]))
            self._drop(k)
        self.abandoned += gone
        return gone

    def take_abandoned(self) -> list[tuple[str, str]]:
        """The objects abandoned since the last call (:meth:`interrupted`,
        :meth:`unfinished`), to answer with Alert 223; forgotten here."""
        gone, self.abandoned = self.abandoned, []
        return gone

    def add(self, key: tuple[str, str], item: Item, data: bytes, *, check_size: bool = True) -> bytes | int:
        """The whole object once its last chunk came (``data`` itself when it
        was not chunked); else the status to answer: 213 while chunks are
        pending, 413 when it is (or was) too large, 424 when its chunks add
        up to another size than its first chunk declared (``check_size``
        False: ``data`` is not the bytes sent, e.g. decoded from b64, and
        the declared Size cannot be checked)."""
        refused = (key[0], hashlib.blake2b(key[1].encode("utf-8", "surrogatepass"), digest_size=16).digest())
        if refused in self.refused:
            if not item.more_data:
                del self.refused[refused]
            return StatusCode.REQUEST_ENTITY_TOO_LARGE
        chunks = self.pending.get(key)
        have, count = chunks if chunks is not None else (0, 0)
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
            if data:
                self.spool.put(_name(key), count, data)
            self.pending[key] = (have + len(data), count + 1)
            if declared is not None and check_size:
                self.declared[key] = declared
            self.size += len(data)
            self.key_size += key_cost
            return StatusCode.CHUNKED_ITEM_ACCEPTED
        if chunks is not None:
            expected = self.declared.get(key)
            if expected is not None and have + len(data) != expected:  # OMA DS 1.2: 424, nothing stored
                self._drop(key)
                log.warning("%s: object %s refused (424): its chunks bring %d bytes, its Size said %d",
                            self.owner, log_quoted(key[1]), have + len(data), expected)
                return StatusCode.SIZE_MISMATCH
            whole = self.spool.read(_name(key)) + data
            self._drop(key)
            if len(whole) != have + len(data):  # (the spool lost pieces: never store a truncated object)
                log.warning("%s: object %s lost chunks (%d bytes of %d); refused", self.owner, log_quoted(key[1]),
                            len(whole), have + len(data))
                return StatusCode.COMMAND_FAILED
            return whole
        return data

    def _drop(self, key: tuple[str, str]) -> None:
        chunks = self.pending.pop(key, None)
        self.declared.pop(key, None)
        if chunks is not None:
            self.spool.drop(_name(key))
            self.size -= chunks[0]
            self.key_size -= _KEY_OVERHEAD + len(key[1])
