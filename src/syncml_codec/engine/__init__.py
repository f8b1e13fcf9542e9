"""Layer 5 of the sync stack: sans-I/O OMA DS sessions.  The server
(:class:`SyncServer`, one :class:`ServerSession` per SyncML session) runs on
a :class:`syncml_codec.store.Store`; the client (:class:`ClientSession`)
keeps its items in a :class:`ClientStore`.  Bytes in, bytes out: clock,
randomness and storage are injected (the backup area of ``backup``
sessions too; :func:`restore_backup` puts a backup back).  What one client may cost the server
is set by :class:`ServerLimits`.  A change to an item is an
:class:`Operation` on both sides.  :class:`Replayer` sends a recorded
client's messages through a server (:mod:`.replay`: in process, or through
any :class:`Transport`), and :func:`compare_session` compares the answers
with the recorded ones.  Server-alerted sync:
:func:`notification_for` makes the notification for a device's registered
datastores (the ``push`` URL parameter)."""

from ._backup import RestoreReport, restore_backup
from ._limits import ServerLimits
from ._ops import Operation
from ._push import notification_for
from ._state import ClientPhase, ServerPhase
from ._sync import ConflictPolicy
from .client import ClientDatastore, ClientSession, ClientStore, DatastoreReport, Request
from .replay import (
    Difference,
    Exchange,
    InProcess,
    Replayer,
    SessionComparison,
    SessionReplay,
    Transport,
    TransportError,
    compare_session,
)
from .server import CONTENT_TYPES, Response, ServerSession, SyncServer

__all__ = [
    "CONTENT_TYPES",
    "ClientDatastore",
    "ClientPhase",
    "ClientSession",
    "ClientStore",
    "ConflictPolicy",
    "DatastoreReport",
    "Difference",
    "Exchange",
    "InProcess",
    "Operation",
    "Replayer",
    "Request",
    "Response",
    "RestoreReport",
    "ServerLimits",
    "ServerPhase",
    "ServerSession",
    "SessionComparison",
    "SessionReplay",
    "SyncServer",
    "Transport",
    "TransportError",
    "compare_session",
    "notification_for",
    "restore_backup",
]
