"""The sans-I/O SyncML server: ``SyncServer.handle(body, content_type,
session_id, remote) -> Response``.  No sockets, threads, clocks or
randomness of its own: the clock, the random source and the store are given
to it.

A session starts only with a message whose credentials the gatekeeper
(:mod:`._auth`) accepts: it is then bound to (account, device id = the
SyncHdr ``Source/LocURI``) and gets an id of 128 random bits, sent in our
RespURI (``base_url?sessionid=...``); the session table (:mod:`._sessions`)
keeps it within the limits (:class:`ServerLimits`).  A later message finds
its session only through that id (``?sessionid=`` or the Target LocURI; the
client's SyncHdr SessionID never selects one by itself) and only if it comes
from the same device and user; anything else is answered with a fresh
challenge (401/407, or 503 when the table is full of running sessions),
reads and writes nothing and is logged at WARNING.  A session's phases follow
:data:`._state.SERVER_TABLE`.  Every message is processed inside one store
transaction, so a message either takes effect completely or (on an
unexpected error, answered with Status 500) not at all.  Every command gets
a Status.

The credential is the SyncHdr's, else the first one inside a command
(:func:`._auth.message_credential`; some SyncML 1.0/1.1 phones put it only
in their Alert): accepted, the header's Status is 212 and the command's
Status carries the NextNonce too; refused, both are 401 with the challenge.
A session answers in the client's SyncML version (:func:`._reply.syncml_version`):
VerDTD/VerProto, the ``./devinf1x`` it asks for and our DevInf in that
version, and nothing the version lacks (1.0: no MaxObjSize, NumberOfChanges
or MoreData).

Not thread-safe: serialize calls to :meth:`SyncServer.handle`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from ..codec.detect import sniff_encoding
from ..errors import StructureError, SyncMLError
from ..model import Chal, Command, Cred, Message, StatusCode, SyncHdr
from ..store.base import Store
from ._auth import Gatekeeper, claimed_user, message_credential
from ._limits import ServerLimits
from ._reply import Response, refusal, syncml_version, unreadable
from ._session import ServerSession
from ._sessions import SessionTable
from ._state import ServerPhase
from ._sync import ConflictPolicy
from ._util import as_received, log_bare, log_quoted, plain, session_from_uri
from ._wire import CONTENT_TYPES

__all__ = ["CONTENT_TYPES", "Response", "ServerSession", "SyncServer"]

log = logging.getLogger("syncml_codec.engine")

_DEFAULT_MAX_MSG = 1_000_000


class SyncServer:
    """Holds the store, the injected clock and randomness, the limits, the
    gatekeeper and the open sessions.

    ``max_sessions`` and ``session_timeout`` are kept as shortcuts for the
    :class:`ServerLimits` fields of those names.

    >>> from syncml_codec.store import SQLiteStore
    >>> server = SyncServer(SQLiteStore(":memory:"), clock=lambda: 0.0, random_source=bytes)
    >>> server.handle(b"", "application/vnd.syncml+xml", None).http_status
    400
    """

    def __init__(self, store: Store, *, clock: Callable[[], float] = time.time,
                 random_source: Callable[[int], bytes] = os.urandom,
                 base_url: str = "http://127.0.0.1:8080/sync", conflict_policy: str = "server-wins",
                 dev_id: str = "syncml-codec", max_msg_size: int = _DEFAULT_MAX_MSG,
                 limits: ServerLimits | None = None, max_sessions: int | None = None,
                 session_timeout: float | None = None) -> None:
        limits = limits or ServerLimits()
        if max_sessions is not None:
            limits = dataclasses.replace(limits, max_sessions=max_sessions)
        if session_timeout is not None:
            limits = dataclasses.replace(limits, session_timeout=session_timeout)
        self.store = store
        self.clock = clock
        self.random_source = random_source
        self.base_url = base_url
        self.conflict_policy = ConflictPolicy(conflict_policy)
        self.dev_id = dev_id
        self.max_msg_size = max_msg_size
        self.limits = limits
        self.gate = Gatekeeper(store, limits, random_source)
        self.table = SessionTable(limits, random_source)

    @property
    def sessions(self) -> dict[str, ServerSession]:
        """Open sessions, and finished ones kept for a resent last message, by id."""
        return self.table.by_id

    def active_sessions(self) -> list[ServerSession]:
        return [s for s in self.sessions.values() if s.phase is not ServerPhase.DONE]

    def handle(self, body: bytes, content_type: str, session_id: str | None,
               remote: str | None = None) -> Response:
        """Process one request body (``remote``: the client's address, for
        the failure counters and log lines); the answer to send back."""
        try:
            encoding = sniff_encoding(body, content_type) if body else "xml"
        except (SyncMLError, ValueError):
            encoding = "xml"
        read: Message[None]  # a broken message is read leniently: fields may be missing
        try:
            read = Message.from_bytes(body, content_type)
            problem: StructureError | None = None
        except StructureError as exc:  # valid XML/WBXML, invalid SyncML: answer what we can
            problem = exc
            try:
                read = Message.from_bytes(body, content_type, lenient=True)
            except (SyncMLError, ValueError):
                return self._unreadable(str(exc), remote)
        except (SyncMLError, ValueError) as exc:
            return self._unreadable(str(exc), remote)
        checked = read.header  # what every answer needs: the MsgID it refers to, who sent it, to whom
        if (checked is None or not checked.msg_id or checked.source is None or checked.target is None
                or not checked.source.loc_uri):
            return self._unreadable(str(problem or "no usable SyncHdr"), remote)
        msg = as_received(read)
        header = msg.header
        started = self.clock()
        self.table.expire(started)
        sid = session_id or session_from_uri(header.target.loc_uri or "")
        session = self.table.get(sid) if sid else None
        cred, carrier = message_credential(msg)
        if session is not None:
            mismatch = session.mismatch(header, cred)
            if mismatch:
                log.warning("session refused: session=%s user=%s device=%s address=%s reason=%s",
                            log_quoted(sid), log_quoted(claimed_user(header, cred)),
                            log_quoted(header.source.loc_uri), log_bare(remote), mismatch)
                code = StatusCode.MISSING_CREDENTIALS if cred is None else StatusCode.INVALID_CREDENTIALS
                chal = self.gate.challenge(claimed_user(header, cred), header.source.loc_uri.strip(), started,
                                           syncml_version(header))
                return self._refusal(header, encoding, code, chal, started, mismatch, cred)
            if (session.phase is ServerPhase.DONE and not session.is_resent(header.msg_id)) or \
                    session.client_session_id != (header.session_id or ""):
                session = None  # the same device started a new SyncML session on an old URL
        auth: tuple[int, Chal | None] | None = None
        if session is None:
            if not self.table.has_room():
                log.warning("server busy: %d sessions running; user=%s device=%s address=%s refused",
                            len(self.table), log_quoted(claimed_user(header, cred)),
                            log_quoted(header.source.loc_uri), log_bare(remote))
                return self._refusal(header, encoding, StatusCode.SERVICE_UNAVAILABLE, None, started, "busy", cred)
            verdict = self.gate.authenticate(header, remote, started, cred)
            if not verdict.accepted or verdict.device is None or verdict.user is None:
                # a refused command credential: 401 on the command too (it is where the device looks)
                return self._refusal(header, encoding, verdict.code, verdict.chal, started, verdict.reason, cred,
                                     carrier if verdict.code == StatusCode.INVALID_CREDENTIALS else None)
            session = ServerSession(self, session_id=self.table.new_id(), device=verdict.device,
                                    loc_name=(header.source.loc_name or "").strip() or None,
                                    client_session_id=header.session_id or "", version=syncml_version(header))
            session.auth_carrier = carrier.cmd_id if carrier is not None else None
            for old in self.table.add(session):
                log.info("session %s of user=%s device=%s closed to make room for session %s",
                         old.id, log_quoted(old.user), log_quoted(old.device_id), session.id)
            auth = (verdict.code, verdict.chal)
        session.last_seen = started
        session.encoding = encoding
        session.address = remote
        try:
            with self.store.transaction():
                out = session.receive(msg, problem, auth)
        except Exception as exc:  # the store rolled back: nothing of this message happened
            log.exception("session %s: message %s failed", session.id, log_quoted(header.msg_id))
            out = session.failure(msg, exc)
        data = out.to_bytes(encoding)
        session.remember(header.msg_id, data)
        summary = session.summary(msg, out, self.clock() - started)
        return Response(data, CONTENT_TYPES[encoding], session.id, 200, summary)

    def _refusal(self, header: SyncHdr, encoding: str, code: int, chal: Chal | None, started: float,
                 reason: str, cred: Cred | None = None, carrier: Command | None = None) -> Response:
        summary: dict[str, Any] = {"session": None, "msg_id": header.msg_id, "phase": "refused", "reason": reason,
                   "user": claimed_user(header, cred), "device": plain(header.source.loc_uri),
                   "commands": {}, "seconds": round(self.clock() - started, 6)}  # + "statuses": see refusal()
        return refusal(header, encoding, code, chal, max_msg_size=self.max_msg_size,
                       max_obj_size=self.limits.max_obj_size, summary=summary, carrier=carrier)

    def _unreadable(self, reason: str, remote: str | None) -> Response:
        log.warning("unreadable request: address=%s reason=%s", log_bare(remote), log_quoted(reason))
        return unreadable(reason)
