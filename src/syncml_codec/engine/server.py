"""The sans-I/O SyncML server: ``SyncServer.handle(body, content_type,
session_id, remote) -> Response``.  No sockets, threads, clocks or
randomness of its own: the clock, the random source and the store are given
to it.

A session starts only with a message whose credentials the gatekeeper
(:mod:`._auth`) accepts: it is then bound to (account, device id = the
SyncHdr ``Source/LocURI``) and gets an id of 128 random bits, sent in our
RespURI (``base_url?sessionid=...``); the limits (:class:`ServerLimits`) are
kept over the store's sessions (:mod:`._sessions`).  A later message finds
its session only through that id (``?sessionid=`` or the Target LocURI; the
client's SyncHdr SessionID never selects one by itself) and only if it comes
from the same device and user; anything else is answered with a fresh
challenge (401/407, or 503 when the server is full of running sessions),
changes nothing and is logged at WARNING.  A session's phases follow
:data:`._state.SERVER_TABLE`.

Stateless (issue 12): between two messages a session lives in the store
(:class:`~syncml_codec.store.base.LiveSession`, its state as bytes:
:mod:`._persist`), so any ``SyncServer`` on the same database, in any
process of any host, serves its next message.  A message of a running
session is one store transaction: load the session's row (locked until
the end: SQLite's ``BEGIN IMMEDIATE``, PostgreSQL's ``FOR UPDATE``; idle
longer than the timeout, it is dropped and the message is treated as if
it had none), check that it belongs, process, encode the answer, save the
state with that answer (for a resent message).  A message that starts a
session expires every idle session first (so only admissions pay for the
cleanup and the count is right), is authenticated and its session saved
in one transaction, then processed in a second one, so a failure always
has a state to go back to.
On an unexpected error (answered with Status 500) the store rolls the
message back, and a new transaction reads the session as it was before the
message, ends it (:meth:`ServerSession.failure`) and saves that: a message
takes effect completely or not at all.  Every command gets a Status.

The credential is the SyncHdr's, else the first one inside a command
(:func:`._auth.message_credential`; some SyncML 1.0/1.1 phones put it only
in their Alert): accepted, the header's Status is 212 and the command's
Status carries the NextNonce too; refused, both are 401 with the challenge.
A session answers in the client's SyncML version (:func:`._reply.syncml_version`):
VerDTD/VerProto, the ``./devinf1x`` it asks for and our DevInf in that
version, and nothing the version lacks (1.0: no MaxObjSize, NumberOfChanges
or MoreData).

One ``SyncServer`` (and its store connection) serves one message at a
time: serialize calls to :meth:`SyncServer.handle` within a process (the
WSGI app does); run more processes for more at once.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from ..codec.detect import sniff_encoding
from ..errors import StructureError, SyncMLError
from ..model import Chal, Command, Cred, Message, StatusCode, SyncHdr
from ..store.backups import BackupArea
from ..store.base import LiveSession, Store
from ._auth import Gatekeeper, claimed_user, message_credential
from ._limits import ServerLimits
from ._mailds import MailBackends
from ._params import parse_params
from ._persist import StateCache, StateError, dump_session, load_session, state_tag
from ._reply import Response, refusal, syncml_version, unreadable
from ._session import ServerSession
from ._sessions import SessionTable
from ._state import ServerPhase
from ._sync import ConflictPolicy
from ._util import as_received, log_bare, log_quoted, plain, session_from_uri
from ._wire import CONTENT_TYPES

__all__ = ["CONTENT_TYPES", "Response", "ServerSession", "SyncServer"]

log = logging.getLogger("syncml_codec.engine")


class SyncServer:
    """Holds the store, the injected clock and randomness, the limits, the
    gatekeeper and a cache of the sessions this process saved last (the
    sessions themselves are the store's).

    ``max_sessions`` and ``session_timeout`` are kept as shortcuts for the
    :class:`ServerLimits` fields of those names.  ``auth_policy``: the
    server's authentication policy (``basic-or-md5``, ``basic`` or ``md5``;
    an account's own wins); ``allowed``: the access list (account names and
    ``@domain`` entries; None: every account), see :mod:`._auth`.  ``mail``:
    account name -> its mail back end (e.g. a
    :class:`~syncml_codec.mail.MaildirBackend` under ``--maildir-root``),
    which gives the account the ``Mail`` datastores (:mod:`._mailds`); None:
    no Mail datastore.

    >>> from syncml_codec.store import SQLiteStore
    >>> server = SyncServer(SQLiteStore(":memory:"), clock=lambda: 0.0, random_source=bytes)
    >>> server.handle(b"", "application/vnd.syncml+xml", None).http_status
    400
    """

    def __init__(self, store: Store, *, clock: Callable[[], float] = time.time,
                 random_source: Callable[[int], bytes] = os.urandom,
                 base_url: str = "http://127.0.0.1:8080/sync", conflict_policy: str = "server-wins",
                 dev_id: str = "syncml-codec", max_msg_size: int | None = None,
                 limits: ServerLimits | None = None, max_sessions: int | None = None,
                 session_timeout: float | None = None, backups: BackupArea | None = None,
                 auth_policy: str = "basic-or-md5", allowed: Iterable[str] | None = None,
                 mail: MailBackends | None = None) -> None:
        limits = limits or ServerLimits()
        if max_sessions is not None:
            limits = dataclasses.replace(limits, max_sessions=max_sessions)
        if session_timeout is not None:
            limits = dataclasses.replace(limits, session_timeout=session_timeout)
        self.store = store
        self.backups = backups  # the backup area (``backup`` URL parameter; None: backups refused)
        self.mail = mail  # account -> its mail back end (the Mail datastores, ._mailds; None: no mail)
        self.clock = clock
        self.random_source = random_source
        self.base_url = base_url
        self.conflict_policy = ConflictPolicy(conflict_policy)
        self.dev_id = dev_id
        self.max_msg_size = max_msg_size if max_msg_size is not None else limits.max_msg_size
        self.limits = limits
        self.gate = Gatekeeper(store, limits, random_source, policy=auth_policy, allowed=allowed)
        self.table = SessionTable(store, limits, random_source)
        self.cache = StateCache()

    @property
    def sessions(self) -> Mapping[str, ServerSession]:
        """Open sessions, and finished ones kept for a resent last message,
        by id: a view of the store's rows (of every worker), each read as
        it is looked up (a copy: changing it changes nothing)."""
        return _StoredSessions(self)

    def active_sessions(self) -> list[ServerSession]:
        """The sessions not yet over (read from the store, as :attr:`sessions`)."""
        return [s for s in self.sessions.values() if s.phase is not ServerPhase.DONE]

    def handle(self, body: bytes, content_type: str, session_id: str | None,
               remote: str | None = None, *, query: str | None = None,
               headers: Mapping[str, str] | None = None) -> Response:
        """Process one request body (``remote``: the client's address, for
        the failure counters and log lines); the answer to send back.
        ``query``: the request URL's query string (IceWarp's sync parameters,
        :mod:`._params`, read with those of the SyncHdr Target when a session
        starts); ``headers``: the HTTP request headers, names in lower case
        (``x-syncml-hmac``)."""
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
        sid = session_id or session_from_uri(header.target.loc_uri or "")
        cred, carrier = message_credential(msg)
        session: ServerSession | None = None
        auth: tuple[int, Chal | None] | None = None
        try:
            with self.store.transaction():  # a message of a running session: all of it in this one
                found = self._find(sid, header, encoding, started, cred, remote)
                if isinstance(found, Response):
                    return found
                session = found
                if session is not None:
                    return self._serve(session, msg, problem, None, encoding, started)
                # a new session: admitted and saved here (its state before its first message,
                # which a failure goes back to), its first message in a transaction of its own;
                # idle sessions are expired here, before they are counted (a message of a running
                # session expires only its own, in _find)
                self.table.expire(started)
                admitted = self._admit(header, encoding, started, cred, carrier, remote, query, headers, body)
                if isinstance(admitted, Response):
                    return admitted
                fresh, auth = admitted
                self._save(fresh)
        except Exception as exc:
            if session is None:
                raise  # (the store failed before any session was involved)
            return self._fail(session, msg, exc, encoding, started)
        try:
            with self.store.transaction():
                return self._serve(fresh, msg, problem, auth, encoding, started)
        except Exception as exc:
            return self._fail(fresh, msg, exc, encoding, started)

    def _find(self, sid: str | None, header: SyncHdr, encoding: str, started: float, cred: Cred | None,
              remote: str | None) -> ServerSession | Response | None:
        """The running session the message belongs to (None: it starts a
        new one), or the refusal of a message naming someone else's."""
        row = self.store.load_live_session(sid) if sid else None
        if row is None:
            return None
        if self.table.expired(row, started):  # (as SessionTable.expire would have dropped it)
            self.store.drop_live_sessions([row.session_id])
            return None
        session = self._restore(row)
        if session is None:
            self.store.drop_live_sessions([row.session_id])
            return None
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
            return None  # the same device started a new SyncML session on an old URL
        session.address = remote
        return session

    def _admit(self, header: SyncHdr, encoding: str, started: float, cred: Cred | None, carrier: Command | None,
               remote: str | None, query: str | None = None, headers: Mapping[str, str] | None = None,
               body: bytes = b"") -> tuple[ServerSession, tuple[int, Chal | None]] | Response:
        """A new session for the message's credential (or the HMAC of its
        ``headers`` over ``body``), within the limits (the SyncHdr status
        and challenge for its first answer), or the refusal."""
        if not self.table.has_room():
            log.warning("server busy: %d sessions running; user=%s device=%s address=%s refused",
                        len(self.table), log_quoted(claimed_user(header, cred)),
                        log_quoted(header.source.loc_uri), log_bare(remote))
            return self._refusal(header, encoding, StatusCode.SERVICE_UNAVAILABLE, None, started, "busy", cred)
        verdict = self.gate.authenticate(header, remote, started, cred, headers=headers, body=body)
        if not verdict.accepted or verdict.device is None or verdict.user is None:
            # a refused command credential: 401 on the command too (it is where the device looks)
            return self._refusal(header, encoding, verdict.code, verdict.chal, started, verdict.reason, cred,
                                 carrier if verdict.code == StatusCode.INVALID_CREDENTIALS else None)
        session = ServerSession(self, session_id=self.table.new_id(), device=verdict.device,
                                loc_name=(header.source.loc_name or "").strip() or None,
                                client_session_id=header.session_id or "", version=syncml_version(header))
        session.auth_carrier = carrier.cmd_id if carrier is not None else None
        session.params = parse_params(query or "").over(parse_params(header.target.loc_uri or ""))
        for kind, pairs in (("unknown", session.params.unknown), ("invalid", session.params.invalid)):
            for name, value in pairs:
                log.info("session %s: %s URL parameter %s=%s ignored", session.id, kind, log_quoted(name),
                         log_quoted(value))
        for old in self.table.make_room(session.user, session.device_id):
            log.info("session %s of user=%s device=%s closed to make room for session %s",
                     old.session_id, log_quoted(old.user), log_quoted(old.device_id), session.id)
        session.last_seen = started
        session.address = remote
        return session, (verdict.code, verdict.chal)

    def _serve(self, session: ServerSession, msg: Message, problem: StructureError | None,
               auth: tuple[int, Chal | None] | None, encoding: str, started: float) -> Response:
        """One message of ``session`` (inside the message's transaction): processed, answered, saved."""
        session.last_seen = started
        session.encoding = encoding
        out = session.receive(msg, problem, auth)
        data = out.to_bytes(encoding)
        session.remember(msg.header.msg_id, data)
        self._save(session)
        summary = session.summary(msg, out, self.clock() - started)
        return Response(data, CONTENT_TYPES[encoding], session.id, 200, summary)

    def _fail(self, session: ServerSession, msg: Message, exc: Exception, encoding: str,
              started: float) -> Response:
        """The message failed and the store rolled it back: the session as it
        was before it (read again: the object in hand holds what was undone),
        ended by :meth:`ServerSession.failure`, saved for a resent message."""
        log.exception("session %s: message %s failed", session.id, log_quoted(msg.header.msg_id))
        self.cache.drop(session.id)
        try:
            with self.store.transaction():
                row = self.store.load_live_session(session.id)
                before = self._restore(row) if row is not None else None
                if before is not None:
                    session = before
                session.last_seen = started
                session.encoding = encoding
                out = session.failure(msg, exc)
                data = out.to_bytes(encoding)
                session.remember(msg.header.msg_id, data)
                if before is not None:
                    self._save(session)
        except Exception:  # the store itself is broken: answer, record nothing
            log.exception("session %s: could not record the failure", session.id)
            self.cache.drop(session.id)
            out = session.failure(msg, exc)
            data = out.to_bytes(encoding)
        summary = session.summary(msg, out, self.clock() - started)
        return Response(data, CONTENT_TYPES[encoding], session.id, 200, summary)

    # -- the stored sessions --------------------------------------------------
    def _save(self, session: ServerSession) -> None:
        state, tag = dump_session(session)
        self.store.save_live_session(LiveSession(session.id, session.user, session.device_id, session.last_seen,
                                                 session.phase is ServerPhase.DONE, state))
        self.cache.put(session.id, tag, session)

    def _restore(self, row: LiveSession) -> ServerSession | None:
        """The session a row holds (from this process's cache when it saved
        that very state); None, with a WARNING, for a state it cannot read."""
        tag = state_tag(row.state)
        session = self.cache.get(row.session_id, tag)
        if session is not None:
            return session
        try:
            session = load_session(row.state, self)
        except StateError as exc:
            log.warning("session %s of user=%s device=%s: state not read (%s); the client is challenged anew",
                        row.session_id, log_quoted(row.user), log_quoted(row.device_id), exc)
            return None
        assert tag is not None
        self.cache.put(row.session_id, tag, session)
        return session

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


class _StoredSessions(Mapping[str, ServerSession]):
    """:attr:`SyncServer.sessions`: the store's live sessions, each loaded
    when looked up (unreadable ones are left out)."""

    def __init__(self, server: SyncServer) -> None:
        self._server = server

    def __getitem__(self, session_id: str) -> ServerSession:
        row = self._server.store.load_live_session(session_id)
        if row is None:
            raise KeyError(session_id)
        try:
            return load_session(row.state, self._server)
        except StateError:
            raise KeyError(session_id) from None

    def __iter__(self) -> Iterator[str]:
        return iter([row.session_id for row in self._server.store.live_sessions()])

    def __len__(self) -> int:
        return len(self._server.store.live_sessions())
