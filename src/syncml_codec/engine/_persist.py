"""A server session's state as bytes, for the store's live-session row
(:class:`~syncml_codec.store.base.LiveSession`): what lets any worker
process of any host serve the next message of a session.

The format is :mod:`pickle` (protocol 5) behind a version prefix.  Why
pickle: the state is a graph of the engine's own objects (the session, its
datastores with their maps and slow-sync keys, the outbox and its packer
queue, how much of each large object is through, the peer's DevInf; the
large objects' bytes themselves wait in the store's ``session_chunks``, see
:mod:`._chunks`), written and read only by this
code; a hand-made format would have to follow every attribute of those
classes and would drift from them, and JSON cannot carry bytes, sets or
shared references.  What pickle must not do is handled so:

* **What is not state stays out.**  The server, the store (or the
  calendar-with-tasks view of it), the clock and the random source are
  written as references (``_ref("store")``, through ``reducer_override``)
  and replaced, when the state is read, by those of the server that reads it.  Caches (the peer's quirk
  behaviours) are dropped and worked out again.
* **Reading runs no foreign code.**  :class:`_Unpickler` resolves only
  classes of the engine, model, DevInf, codec-tree and store-base modules
  and a few harmless builtins (:data:`_BUILTINS`); anything else (a
  function, ``os.system``, a store class that would open files) is refused.
  The rows are written by this code only, so this is defence in depth
  against a tampered database.
* **Versions.**  The prefix holds :data:`STATE_VERSION` and the package
  version: the classes may change between releases, so a state written by
  another release is not read.  Such a state, or an unreadable one, is an
  unknown session (:class:`StateError`): the server logs a WARNING and
  challenges the client anew, which then starts a new session.  During a
  rolling upgrade a session that moves to a worker of the other release
  is thus restarted, never misread.

Cost: dumping and loading are linear in the state, so the state is kept
small: a slow sync keeps digests of the content keys of the server's
unmatched items (:func:`._sync.key_digest`), and the map, which is the
store's anyway, is read again from it instead of being written with every
message.  Measured (issue 12, SQLite, messages alternating between two
servers so that every message loads the state): the second device's slow
sync of 2,000 contacts (6 messages of 150 kB) has states of at most 92 KiB,
1.6 ms to dump and 2.7 ms to load per message; of 20,000 contacts (31
messages) 611 KiB, 27 ms and 56 ms (the map read again included).  The
first device's download of 20,000 contacts (31 messages) cost the server
11.8 s of CPU with ``persistent_id`` (pickle calls it for every object,
strings included) and 3.8 s with ``reducer_override`` and a plain
``Op.__reduce__`` (profiled; without the state the engine's own work is
about 2.5 s of it).  A
process keeps the session objects it saved or loaded last
(:class:`StateCache`) and skips loading when the row still holds that state
(a digest of it in its prefix tells), as when one worker serves a whole
session.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from ._mailds import MailView, mail_view
from .quirks._calendar import CalendarWithTasks, calendar_view

if TYPE_CHECKING:
    from ._session import ServerSession
    from .server import SyncServer

__all__ = ["STATE_VERSION", "StateCache", "StateError", "dump_session", "load_session", "state_tag"]

#: bumped when the state's layout changes within a package version
STATE_VERSION = 6  # 3: DatastoreSync holds its filters; 4: Mail datastores (issue 14); 5: trees (issue 14);
# 6: large objects spooled in the store (issue 14)
_MAGIC = b"SYNCML-STATE "
_TAG_SIZE = 8

#: modules whose classes a state may name (their functions are refused all the same)
_MODULES = ("syncml_codec.engine.", "syncml_codec.model.", "syncml_codec.devinf.", "syncml_codec.codec.tree",
            "syncml_codec.store.base")
#: the builtins and collections a state may name
_BUILTINS = {
    ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "bytearray"),
    ("collections", "OrderedDict"), ("collections", "deque"), ("collections", "defaultdict"),
}


class StateError(ValueError):
    """A stored state this code does not read: another release's, or damaged."""


def _prefix() -> bytes:
    from .. import __version__  # (at call time: the facade is imported by then, whatever imported the engine)

    return _MAGIC + f"{STATE_VERSION} {__version__}\n".encode()


def _ref(name: str) -> Any:
    """Written into a state in place of what is not state (``_ref("store")``);
    :class:`_Unpickler` resolves it to the reading server's own, so this is
    never called."""
    raise pickle.UnpicklingError(f"a reference to the reader's {name} outside a session state")


class _Pickler(pickle.Pickler):
    """Writes references for the server's parts.  Through
    ``reducer_override``, which pickle consults only for objects other than
    plain ints, floats, strings, bytes and containers: ``persistent_id``,
    consulted for every object, made a 20,000-contact download spend 3/4
    of its time in it."""

    def __init__(self, file: io.BytesIO, server: SyncServer) -> None:
        super().__init__(file, protocol=5)
        self.server = server
        self.refs: dict[int, str] = {id(server): "server", id(server.store): "store", id(server.clock): "clock",
                                     id(server.random_source): "random"}
        if server.backups is not None:
            self.refs[id(server.backups)] = "backups"
        if server.mail is not None:
            self.refs[id(server.mail)] = "mail"

    def reducer_override(self, obj: Any) -> Any:
        ref = self.refs.get(id(obj))
        if ref is not None:
            return _ref, (ref,)
        if isinstance(obj, MailView):
            if obj._store is not self.server.store or obj._backends is not self.server.mail:
                raise pickle.PicklingError("a mail view of another store")
            return _ref, ("store-mail",)
        if isinstance(obj, CalendarWithTasks):
            if obj._store is not self.server.store:
                raise pickle.PicklingError("a calendar view of another store")
            return _ref, ("store-calendar",)
        return NotImplemented


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, server: SyncServer) -> None:
        super().__init__(file)
        self.server = server

    def _resolve(self, name: str) -> Any:
        server = self.server
        refs = {"server": server, "store": server.store, "clock": server.clock, "random": server.random_source,
                "backups": server.backups, "mail": server.mail}
        if name in refs:
            return refs[name]
        if name == "store-calendar":
            return calendar_view(server.store)
        if name == "store-mail" and server.mail is not None:
            return mail_view(server.store, server.mail)
        raise pickle.UnpicklingError(f"unknown reference {name!r}")

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == (__name__, "_ref"):
            return self._resolve
        if (module, name) in _BUILTINS:
            return super().find_class(module, name)
        if module.startswith(_MODULES):
            found = super().find_class(module, name)
            if isinstance(found, type):
                return found
        raise pickle.UnpicklingError(f"a session state may not name {module}.{name}")


def dump_session(session: ServerSession) -> tuple[bytes, bytes]:
    """The state of ``session`` (its ``server`` referred to, not included)
    and its tag: a digest of it, which tells this state apart from any
    other (so a process that holds the object saved knows it is current)."""
    out = io.BytesIO()
    _Pickler(out, session.server).dump(session)
    payload = out.getbuffer()
    tag = hashlib.blake2b(payload, digest_size=_TAG_SIZE).digest()
    return b"".join((_prefix(), tag, payload)), tag


def state_tag(state: bytes) -> bytes | None:
    """The tag of a state this code reads (None: another version's, or not a state)."""
    prefix = _prefix()
    if not state.startswith(prefix) or len(state) < len(prefix) + _TAG_SIZE:
        return None
    return state[len(prefix):len(prefix) + _TAG_SIZE]


def load_session(state: bytes, server: SyncServer) -> ServerSession:
    """The session a state holds, attached to ``server``; :class:`StateError`
    for a state of another version or one that does not read."""
    from ._session import ServerSession

    if state_tag(state) is None:
        head = state[:40].split(b"\n")[0]
        raise StateError(f"not a state of this release ({head!r}; this is {_prefix().strip()!r})")
    try:
        session = _Unpickler(io.BytesIO(state[len(_prefix()) + _TAG_SIZE:]), server).load()
    except Exception as exc:  # pickle raises many kinds for damaged data
        raise StateError(f"unreadable state: {type(exc).__name__}: {exc}") from None
    if not isinstance(session, ServerSession):
        raise StateError(f"the state holds a {type(session).__name__}, not a session")
    return session


class StateCache:
    """The sessions this process saved last, by id, with the tag they were
    saved under: a message whose row still has that tag is served from the
    object, without loading it.  At most ``size`` sessions (the least
    recently used go).  An entry must be dropped when its session's message
    fails (the object then holds changes the store rolled back)."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._entries: OrderedDict[str, tuple[bytes, ServerSession]] = OrderedDict()

    def get(self, session_id: str, tag: bytes | None) -> ServerSession | None:
        entry = self._entries.get(session_id)
        if entry is None or tag is None or entry[0] != tag:
            return None
        self._entries.move_to_end(session_id)
        return entry[1]

    def put(self, session_id: str, tag: bytes, session: ServerSession) -> None:
        self._entries[session_id] = (tag, session)
        self._entries.move_to_end(session_id)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def drop(self, session_id: str) -> None:
        self._entries.pop(session_id, None)
