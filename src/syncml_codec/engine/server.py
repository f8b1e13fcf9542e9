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
from ..devinf import DevInf
from ..errors import ProtocolError, StructureError, SyncMLError
from ..model import (
    Add,
    Alert,
    AlertCode,
    Anchor,
    Chal,
    CmdIDs,
    Command,
    Cred,
    Delete,
    Get,
    Item,
    Map,
    Message,
    Meta,
    Put,
    Replace,
    Results,
    Source,
    Status,
    StatusCode,
    Sync,
    SyncHdr,
    Target,
    status_for,
    status_for_header,
)
from ..model.build import max_chunk, split_item
from ..model.size import wbxml_size, xml_size
from ..store.base import Device, Store, canonical_datastore
from ._auth import Gatekeeper, claimed_user, message_credential
from ._chunks import Reassembler
from ._devinf import (
    datastore_for_type,
    datastore_from_devinf,
    devinf_bytes,
    devinf_from_item,
    devinf_results,
    get_code,
    type_for_client,
)
from ._limits import ServerLimits
from ._outgoing import Outgoing, chunk_command, command_for, exceeds_max_obj_size
from ._reply import CONTENT_TYPES, DEVINF_URI, Response, refusal, reply_message, syncml_version, unreadable
from ._sessions import SessionTable
from ._state import SERVER_RECEIVING, Event, ServerPhase, advance
from ._sync import CLIENT_SENDS, NEEDS_ANCHORS, SUPPORTED, ConflictPolicy, DatastoreSync, Op
from ._util import (
    estimate,
    item_bytes,
    log_bare,
    log_quoted,
    meta_format,
    meta_type,
    session_from_uri,
    text,
)
from .quirks import Quirks, quirks_for

__all__ = ["CONTENT_TYPES", "Response", "ServerSession", "SyncServer"]

log = logging.getLogger("syncml_codec.engine")

_DEFAULT_MAX_MSG = 1_000_000
_MARGIN = 512  # bytes kept free in every message for the closing tags and the header's growth


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
        try:
            msg = Message.from_bytes(body, content_type)
            problem: StructureError | None = None
        except StructureError as exc:  # valid XML/WBXML, invalid SyncML: answer what we can
            problem = exc
            try:
                msg = Message.from_bytes(body, content_type, lenient=True)
            except (SyncMLError, ValueError):
                return self._unreadable(str(exc), remote)
        except (SyncMLError, ValueError) as exc:
            return self._unreadable(str(exc), remote)
        header = msg.header
        if (header is None or not header.msg_id or header.source is None or header.target is None
                or not header.source.loc_uri):
            return self._unreadable(str(problem or "no usable SyncHdr"), remote)
        started = self.clock()
        self.table.expire(started)
        sid = session_id or session_from_uri(text(header.target.loc_uri))
        session = self.table.get(sid) if sid else None
        cred, carrier = message_credential(msg)
        if session is not None:
            mismatch = session.mismatch(header, cred)
            if mismatch:
                log.warning("session refused: session=%s user=%s device=%s address=%s reason=%s",
                            log_quoted(sid), log_quoted(claimed_user(header, cred)),
                            log_quoted(text(header.source.loc_uri)), log_bare(remote), mismatch)
                code = StatusCode.MISSING_CREDENTIALS if cred is None else StatusCode.INVALID_CREDENTIALS
                chal = self.gate.challenge(claimed_user(header, cred), text(header.source.loc_uri).strip(), started,
                                           syncml_version(header))
                return self._refusal(header, encoding, code, chal, started, mismatch, cred)
            if (session.phase is ServerPhase.DONE and not session.is_resent(header.msg_id)) or \
                    session.client_session_id != text(header.session_id):
                session = None  # the same device started a new SyncML session on an old URL
        auth: tuple[int, Chal | None] | None = None
        if session is None:
            if not self.table.has_room():
                log.warning("server busy: %d sessions running; user=%s device=%s address=%s refused",
                            len(self.table), log_quoted(claimed_user(header, cred)),
                            log_quoted(text(header.source.loc_uri)), log_bare(remote))
                return self._refusal(header, encoding, StatusCode.SERVICE_UNAVAILABLE, None, started, "busy", cred)
            verdict = self.gate.authenticate(header, remote, started, cred)
            if not verdict.accepted or verdict.device is None or verdict.user is None:
                # a refused command credential: 401 on the command too (it is where the device looks)
                return self._refusal(header, encoding, verdict.code, verdict.chal, started, verdict.reason, cred,
                                     carrier if verdict.code == StatusCode.INVALID_CREDENTIALS else None)
            session = ServerSession(self, self.table.new_id(), verdict.device,
                                    text(header.source.loc_name).strip() or None, text(header.session_id),
                                    syncml_version(header))
            session.auth_carrier = carrier.cmd_id if carrier is not None else None
            for old in self.table.add(session):
                log.info("session %s of user=%s device=%s closed to make room for session %s",
                         old.id, log_quoted(old.user), log_quoted(old.device_id), session.id)
            auth = (verdict.code, verdict.chal)
        session.last_seen = started
        session.encoding = encoding
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
        answered = 2 if carrier is not None and carrier.cmd_id else 1
        summary = {"session": None, "msg_id": header.msg_id, "phase": "refused", "reason": reason,
                   "user": claimed_user(header, cred), "device": text(header.source.loc_uri),
                   "commands": {}, "statuses": {str(int(code)): answered}, "seconds": round(self.clock() - started, 6)}
        return refusal(header, encoding, code, chal, max_msg_size=self.max_msg_size,
                       max_obj_size=self.limits.max_obj_size, summary=summary, carrier=carrier)

    def _unreadable(self, reason: str, remote: str | None) -> Response:
        log.warning("unreadable request: address=%s reason=%s", log_bare(remote), log_quoted(reason))
        return unreadable(reason)


class ServerSession:
    """One SyncML session on the server side, bound to the account and
    device that authenticated it (``loc_name``: the LocName it came with)."""

    def __init__(self, server: SyncServer, session_id: str, device: Device, loc_name: str | None = None,
                 client_session_id: str | None = None, version: str = "1.2") -> None:
        self.server = server
        self.store = server.store
        self.id = session_id
        self.phase = ServerPhase.INIT
        self.device: Device | None = device
        self.user = device.user
        self.device_id = device.device_id
        self.loc_name = loc_name
        self.client_devinf: DevInf | None = None
        self.datastores: dict[str, DatastoreSync] = {}  # canonical -> state
        self._stored_devinf_read = False  # the device's DevInf from the store was parsed (see _known_devinf)
        self._quirks: tuple[DevInf | None, Quirks] | None = None  # (for which DevInf, the behaviours)
        self.aliases: dict[str, str] = {}  # a datastore name the client alerted -> canonical (see _resolve_datastore)
        self.max_msg_size = server.max_msg_size
        self.max_obj_size: int | None = None  # the client's, from its SyncHdr Meta
        self.too_large = 0  # items not sent because they exceed it
        self.out_msg_id = 0
        self.queue: list[Outgoing] = []
        self.announced: set[str] = set()  # datastores whose Sync was sent in package 4
        self.sent: dict[tuple[str, str], tuple[DatastoreSync, Op]] = {}
        self.last_in: tuple[str, bytes] | None = None
        self.asked_devinf = False
        self.chunks = Reassembler(server.limits, session_id)  # large objects the client sends in chunks
        self.encoding = "wbxml"
        self.started = self.last_seen = server.clock()
        self.client_session_id = client_session_id  # the SessionID of the client's SyncHdr
        self.ids = CmdIDs()
        self.msg_ref = "1"
        self.version = version  # the client's SyncML version: ours in every answer (issue 10)
        self.auth_carrier: str | None = None  # CmdID of the command whose Cred authenticated the session
        self.synced: set[str] = set()  # datastores whose Sync (package 3) came
        self.unmapped: set[tuple[str, str]] = set()  # (datastore, GUID) of Adds sent, awaiting their Map

    @property
    def authenticated(self) -> bool:
        return True  # a session exists only after an accepted authentication

    def mismatch(self, header: SyncHdr, cred: Cred | None = None) -> str:
        """Why a message naming this session does not belong to it ("" if it does);
        ``cred``: the credential it carries in a command."""
        if text(header.source.loc_uri).strip() != self.device_id:
            return "device-differs"
        user = claimed_user(header, cred)
        if user is None:
            return "" if self.loc_name is None else "user-missing"
        return "" if user == self.user else "user-differs"

    # -- plumbing --------------------------------------------------------
    def remember(self, msg_id: str, data: bytes) -> None:
        self.last_in = (msg_id, data)

    def is_resent(self, msg_id: str) -> bool:
        """Whether ``msg_id`` is the message we answered last (the client did not get the answer)."""
        return self.last_in is not None and self.last_in[0] == msg_id

    def summary(self, msg: Message, out: Message, seconds: float) -> dict[str, Any]:
        commands: dict[str, int] = {}
        for cmd in msg.commands or ():
            commands[cmd.TAG] = commands.get(cmd.TAG, 0) + 1
        statuses: dict[str, int] = {}
        for cmd in out.commands:
            if isinstance(cmd, Status):
                statuses[cmd.data] = statuses.get(cmd.data, 0) + 1
        return {"session": self.id, "msg_id": msg.header.msg_id, "phase": self.phase.value,
                "user": self.user, "device": self.device_id,
                "commands": commands, "statuses": statuses, "seconds": round(seconds, 6)}

    def _message(self, header: SyncHdr, commands: list[Command], final: bool) -> Message:
        self.out_msg_id += 1
        return reply_message(header, commands, final, msg_id=str(self.out_msg_id),
                             resp_uri=f"{self.server.base_url}?sessionid={self.id}",
                             max_msg_size=self.server.max_msg_size, max_obj_size=self.server.limits.max_obj_size)

    def failure(self, msg: Message, exc: Exception) -> Message:
        """The answer when processing failed unexpectedly (the store rolled back)."""
        self.ids = CmdIDs()
        code = exc.status if isinstance(exc, ProtocolError) else StatusCode.COMMAND_FAILED
        status = status_for_header(msg.header, cmd_id=self.ids.next(), code=code)
        self.phase = ServerPhase.DONE
        try:
            with self.store.transaction():
                self._log(f"failed: {exc}"[:500])
        except Exception:  # the store itself is broken: nothing more to record
            log.exception("session %s: could not record the failure", self.id)
        return self._message(msg.header, [status], True)

    # -- one message -----------------------------------------------------
    def receive(self, msg: Message, problem: StructureError | None = None,
                auth: tuple[int, Chal | None] | None = None) -> Message:
        """One message of this session's owner.  ``auth``: the SyncHdr status
        and challenge (NextNonce) when this message authenticated the session."""
        header = msg.header
        if self.is_resent(header.msg_id) and self.last_in is not None:
            # the client sent the same message again (it missed our answer): answer the same
            return Message.from_bytes(self.last_in[1])
        self.ids = CmdIDs()
        self.msg_ref = header.msg_id
        out: list[Command] = []
        code, chal = auth if auth is not None else (StatusCode.OK, None)
        if problem is not None and msg.body is None:
            out.append(status_for_header(header, cmd_id=self.ids.next(), code=StatusCode.BAD_REQUEST, chal=chal))
            return self._message(header, out, True)
        out.append(status_for_header(header, cmd_id=self.ids.next(), code=code, chal=chal))
        if header.meta is not None and header.meta.max_msg_size_int:
            self.max_msg_size = max(2000, header.meta.max_msg_size_int)
        if header.meta is not None and header.meta.max_obj_size_int:
            self.max_obj_size = header.meta.max_obj_size_int
        answers: list[Callable[[], Command]] = []  # Results and Alerts, made after the statuses
        gets: list[Get] = []
        saw_sync = False
        for cmd in msg.commands:
            if isinstance(cmd, Status):
                self._on_status(cmd)
            elif not cmd.cmd_id:  # read leniently from a broken message: refused, not executed
                out.append(self._status(cmd, StatusCode.BAD_REQUEST))
            elif isinstance(cmd, Get):
                code_get = get_code(cmd)
                if code_get == StatusCode.OK and gets:
                    # our DevInf once per message: each Results is a whole DevInf (a 28-byte Get
                    # answered by 1.3 kB), so a message of Gets would make an answer 50 times its size
                    code_get = StatusCode.COMMAND_NOT_ALLOWED
                elif code_get == StatusCode.OK:
                    gets.append(cmd)
                out.append(self._status(cmd, code_get))
            elif isinstance(cmd, Sync):
                saw_sync = True
                out += self._on_sync(cmd)
            else:
                out.append(self._dispatch(cmd, answers))
        for get in gets:  # at most one
            answers.insert(0, lambda get=get: self._results(get))  # type: ignore[misc]
        out += [make() for make in answers]
        if auth is not None and chal is not None and self.auth_carrier is not None:
            # the credential came in a command: its Status carries the NextNonce too
            out = [dataclasses.replace(c, chal=chal) if isinstance(c, Status) and c.cmd != "SyncHdr"
                   and c.cmd_ref == self.auth_carrier else c for c in out]
        phase = self.phase
        event = self._event(msg, saw_sync)
        self.phase = advance_server(phase, event)
        if phase is ServerPhase.SERVER_MODS:
            return self._package4(header, out)
        if event in (Event.MESSAGE, Event.NEXT):  # more of the client's package to come: ask for it
            return self._message(header, [*out, self._alert_next()], False)
        if phase is ServerPhase.INIT:
            if self.client_devinf is None and not self.asked_devinf:
                self.asked_devinf = True
                out.append(Get(cmd_id=self.ids.next(), meta=Meta(type=self._devinf_type()),
                               items=(Item(target=Target(loc_uri=DEVINF_URI[self.version])),)))
            if event is Event.FINAL:
                return self._message(header, out, True)
            return self._package4(header, out)  # packages 1 and 3 together
        if phase is ServerPhase.CLIENT_MODS:
            return self._package4(header, out)
        # the end of package 5: the session is complete
        for ds in self.datastores.values():
            ds.commit()
        self._log("ok")
        return self._message(header, out, True)

    def _event(self, msg: Message, saw_sync: bool) -> Event:
        """What the client's message is in :data:`._state.SERVER_TABLE` terms.
        Alert 222 while part of the client's package is still awaited is
        ``NEXT``, Final or not (see :mod:`._state`)."""
        asks_next = any(isinstance(c, Alert) and c.code == AlertCode.NEXT_MESSAGE for c in msg.commands)
        if asks_next and self.phase in SERVER_RECEIVING and self._awaiting():
            return Event.NEXT
        if not msg.final:
            return Event.MESSAGE
        return Event.FINAL_SYNC if saw_sync and self.phase is ServerPhase.INIT else Event.FINAL

    def _awaiting(self) -> bool:
        """Whether part of the client's current package is still to come:
        its Alerts (package 1), a Sync of a datastore in a mode where it
        sends one (package 3), a Map for an Add we sent (package 5)."""
        if self.phase is ServerPhase.INIT:
            return not self.datastores
        if self.phase is ServerPhase.CLIENT_MODS:
            return any(c not in self.synced and ds.mode in CLIENT_SENDS for c, ds in self.datastores.items())
        if self.phase is ServerPhase.MAP:
            return bool(self.unmapped)
        return False

    def _log(self, outcome: str) -> None:
        if self.device is None:
            return
        detail = " ".join(f"{ds.canonical}:{ds.mode}" + "".join(f" {k}={v}" for k, v in sorted(ds.stats.items()))
                          for ds in self.datastores.values())
        self.store.log_session(self.device, self.id, self.started, self.server.clock(), outcome, detail)

    def _alert_next(self) -> Alert:
        return Alert(cmd_id=self.ids.next(), data=str(int(AlertCode.NEXT_MESSAGE)))

    def _status(self, cmd: Command, code: int, items: tuple[Item, ...] = ()) -> Status:
        if not cmd.cmd_id:  # read leniently from a broken message
            cmd = dataclasses.replace(cmd, cmd_id="0")  # type: ignore[type-var]
        return status_for(cmd, msg_ref=self.msg_ref, cmd_id=self.ids.next(), code=code, items=items)

    def _dispatch(self, cmd: Command, answers: list[Callable[[], Command]]) -> Status:
        try:
            if isinstance(cmd, Put):
                return self._status(cmd, self._on_put(cmd))
            if isinstance(cmd, Results):
                return self._status(cmd, self._on_devinf_items(cmd.items))
            if isinstance(cmd, Alert):
                return self._on_alert(cmd, answers)
            if isinstance(cmd, Map):
                return self._status(cmd, self._on_map(cmd))
        except ProtocolError as exc:
            return self._status(cmd, exc.status)
        return self._status(cmd, StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED)

    # -- DevInf ----------------------------------------------------------
    def _devinf_type(self) -> str:
        return f"application/vnd.syncml-devinf+{self.encoding}"

    def _on_put(self, cmd: Put) -> int:
        return self._on_devinf_items(cmd.items)

    def _on_devinf_items(self, items: tuple[Item, ...]) -> int:
        for item in items:
            devinf = devinf_from_item(item)
            if devinf is None:
                return StatusCode.BAD_REQUEST
            self.client_devinf = devinf
            for ds in self.datastores.values():  # a DevInf that comes after the Alerts (Results of our Get)
                ds.wanted_type = type_for_client(ds.canonical, devinf, ds.client_uri) or ds.wanted_type
            if self.device is not None:
                self.device = self.store.set_device_devinf(self.device, devinf_bytes(devinf))
        return StatusCode.OK

    def _results(self, get: Get) -> Results:
        names = {c: ds.server_uri for c, ds in self.datastores.items()}
        return devinf_results(get, self.server.dev_id, names, self.encoding, cmd_id=self.ids.next(),
                              msg_ref=self.msg_ref, version=self.version)

    @property
    def quirks(self) -> Quirks:
        """The device's quirk behaviours (:mod:`.quirks`), by its DevInf, else its device id;
        worked out again only when another DevInf comes (asked for each item)."""
        devinf = self._known_devinf()
        if self._quirks is None or self._quirks[0] is not devinf:
            self._quirks = (devinf, quirks_for(devinf, self.device_id))
        return self._quirks[1]

    def _known_devinf(self) -> DevInf | None:
        if self.client_devinf is None and not self._stored_devinf_read and self.device is not None \
                and self.device.devinf:
            self._stored_devinf_read = True  # once per session, also when it does not read
            try:
                self.client_devinf = DevInf.from_bytes(self.device.devinf)
            except (SyncMLError, ValueError):
                return None
        return self.client_devinf

    # -- Alert -----------------------------------------------------------
    def _on_alert(self, cmd: Alert, answers: list[Callable[[], Command]]) -> Status:
        code = cmd.code
        if code in (AlertCode.NEXT_MESSAGE, AlertCode.DISPLAY):
            return self._status(cmd, StatusCode.OK)
        resumed = code == AlertCode.ALERT_RESUME
        if resumed:  # no session survives a restart: 508 and a slow sync on the kept map (see _sync)
            code = AlertCode.SLOW_SYNC
        if code not in SUPPORTED or not cmd.items:
            return self._status(cmd, StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED if code else StatusCode.BAD_REQUEST)
        if self.phase is not ServerPhase.INIT:
            return self._status(cmd, StatusCode.COMMAND_NOT_ALLOWED)
        item = cmd.items[0]
        server_uri = text(item.target.loc_uri) if item.target else ""
        client_uri = text(item.source.loc_uri) if item.source else ""
        canonical = self._resolve_datastore(server_uri, client_uri, item.meta)
        if canonical is None or self.device is None:
            return self._status(cmd, StatusCode.NOT_FOUND)
        anchor = item.meta.anchor if item.meta is not None else None
        if anchor is None or not anchor.next:
            return self._status(cmd, StatusCode.BAD_REQUEST)
        stored = self.store.anchors(self.device, canonical)
        status_code: int = StatusCode.OK
        mode = int(code)
        if resumed or (mode in NEEDS_ANCHORS
                       and (stored.client_last is None or stored.client_last != text(anchor.last))):
            status_code, mode = StatusCode.REFRESH_REQUIRED, AlertCode.SLOW_SYNC
        server_next = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(self.server.clock()))
        ds = DatastoreSync(self.quirks.store_for(self.store, canonical), self.device, canonical,
                           server_uri, client_uri, mode,
                           text(anchor.next), server_next, stored.server_last, self.server.conflict_policy,
                           self.server.clock(),
                           type_for_client(canonical, self._known_devinf(), client_uri), resumed=resumed)
        ds.start()
        self.datastores[canonical] = ds
        echo = Item(data=Anchor(next=text(anchor.next)).to_element())
        answer = Item(target=Target(loc_uri=client_uri), source=Source(loc_uri=server_uri),
                      meta=Meta(anchor=Anchor(last=stored.server_last, next=server_next)))
        answers.append(lambda: Alert(cmd_id=self.ids.next(), data=str(mode), items=(answer,)))
        return self._status(cmd, status_code, (echo,))

    def _resolve_datastore(self, server_uri: str, client_uri: str, *metas: Meta | None) -> str | None:
        """Our datastore for a name the client alerts: by name (with aliases),
        else, for a name set up for another server, by what the client's
        datastore holds (its URI, its DevInf types, the Alert's Meta Type).
        Remembered for the session's Sync and Map commands."""
        canonical = canonical_datastore(server_uri) or canonical_datastore(client_uri)
        if canonical is None:
            canonical = datastore_from_devinf(self._known_devinf(), client_uri)
        if canonical is None:
            ctype = meta_type(*metas)
            canonical = datastore_for_type(ctype) if ctype else None
        if canonical is not None and canonical_datastore(server_uri) is None:
            log.info("session %s: datastore %s taken as %s", self.id, log_quoted(server_uri), canonical)
            # one name per datastore (the last alerted, as self.datastores keeps the last Alert's):
            # a client alerting ever new names in message after message must not grow the table
            self.aliases = {name: c for name, c in self.aliases.items() if c != canonical}
            self.aliases[server_uri.strip()] = canonical
        return canonical

    def _datastore(self, uri: str) -> str | None:
        """The canonical datastore a Sync or Map names (a Sync without a
        Target: the session's only datastore, as SyncML 1.0 phones send it)."""
        if not uri.strip():
            return next(iter(self.datastores)) if len(self.datastores) == 1 else None
        return canonical_datastore(uri) or self.aliases.get(uri.strip())

    # -- the client's Sync -----------------------------------------------
    def _on_sync(self, cmd: Sync) -> list[Command]:
        uri = text(cmd.target.loc_uri) if cmd.target else ""
        canonical = self._datastore(uri)
        ds = self.datastores.get(canonical) if canonical else None
        out: list[Command] = []
        if ds is None:
            out.append(self._status(cmd, StatusCode.NOT_FOUND))
            out += [self._status(c, StatusCode.NOT_FOUND) for c in cmd.commands]
            return out
        out.append(self._status(cmd, StatusCode.OK))
        self.synced.add(ds.canonical)
        for change in cmd.commands:
            if ds.mode not in CLIENT_SENDS:
                out.append(self._status(change, StatusCode.COMMAND_NOT_ALLOWED))
                continue
            if not isinstance(change, (Add, Replace, Delete)):
                out.append(self._status(change, StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED))
                continue
            if not change.items:  # an empty Add (Ericsson phones with nothing to send): nothing to do
                out.append(self._status(change, StatusCode.OK))
                continue
            for item in change.items:
                code = self._change(ds, change, cmd, item)
                if self.quirks.item_status(code):
                    out.append(self._status_for_item(change, item, code))
        return out

    def _status_for_item(self, change: Command, item: Item, code: int) -> Status:
        targets = (text(item.target.loc_uri),) if item.target else ()
        sources = (text(item.source.loc_uri),) if item.source else ()
        return Status(cmd_id=self.ids.next(), msg_ref=self.msg_ref, cmd_ref=change.cmd_id, cmd=change.TAG,
                      target_refs=targets, source_refs=sources, data=str(int(code)))

    def _change(self, ds: DatastoreSync, change: Add | Replace | Delete, sync: Sync, item: Item) -> int:
        luid = text(item.source.loc_uri) if item.source else None
        target = text(item.target.loc_uri) if item.target else None
        try:
            if isinstance(change, Delete):
                return ds.delete(luid, target)
            data = item_bytes(item)
            if data is None:
                return StatusCode.BAD_REQUEST
            ctype = meta_type(item.meta, change.meta, sync.meta)
            fmt = meta_format(item.meta, change.meta)
            if fmt:
                from ..formats import decode_item_data

                data = decode_item_data(data, fmt)
            key = (ds.canonical, luid or target or "")
            assembled = self.chunks.add(key, item, data)
            if isinstance(assembled, int):
                return assembled
            data = self.quirks.to_store(assembled, ctype)
            if isinstance(change, Add):
                return ds.add(luid, data, ctype, encoding=fmt)
            return ds.replace(luid, target, data, ctype, encoding=fmt)
        except ProtocolError as exc:
            return exc.status
        except (SyncMLError, ValueError):
            return StatusCode.BAD_REQUEST

    # -- Map and statuses ------------------------------------------------
    def _on_map(self, cmd: Map) -> int:
        canonical = self._datastore(text(cmd.target.loc_uri) if cmd.target else "")
        ds = self.datastores.get(canonical) if canonical else None
        if ds is None:
            return StatusCode.NOT_FOUND
        ok = True
        for mi in cmd.map_items or ():
            if mi.target is None or mi.source is None:
                ok = False
                continue
            ok = ds.mapped(text(mi.source.loc_uri), text(mi.target.loc_uri)) and ok
            self.unmapped.discard((ds.canonical, text(mi.target.loc_uri)))
        return StatusCode.OK if ok else StatusCode.NOT_FOUND

    def _on_status(self, status: Status) -> None:
        sent = self.sent.pop((text(status.msg_ref), text(status.cmd_ref)), None)
        code = status.code
        if sent is not None and code is not None and int(code) >= 300:
            ds, op = sent
            self.unmapped.discard((ds.canonical, op.guid))  # no Map follows a refused Add
            if int(code) != StatusCode.ALREADY_EXISTS:
                ds.failed(op)

    # -- package 4 -------------------------------------------------------
    def _package4(self, header: SyncHdr, out: list[Command]) -> Message:
        """The next message of package 4: as many of the queued changes as
        fit the client's MaxMsgSize (at least one; an item too large for a
        message of its own goes in MoreData chunks, one per message)."""
        if not self.announced and not self.queue:
            for ds in self.datastores.values():
                ds.client_done()
                self.queue += [Outgoing(ds, op) for op in ds.outgoing()]
        measure = wbxml_size if self.encoding == "wbxml" else xml_size
        budget = self.max_msg_size - _MARGIN - sum(estimate(c, measure, self.encoding) for c in out) - 300
        pending_count: dict[str, int] = {}
        for entry in self.queue:
            pending_count[entry.ds.canonical] = pending_count.get(entry.ds.canonical, 0) + 1
        syncs: dict[str, list[Command]] = {}
        sync_ids: dict[str, str] = {}
        for ds in self.datastores.values():
            if ds.canonical not in self.announced:
                sync_ids[ds.canonical] = self.ids.next()
                syncs[ds.canonical] = []
        used = taken = 0
        while self.queue:
            entry = self.queue[0]
            ds, op = entry.ds, entry.op
            if entry.chunks is None:
                command = command_for(self.store, ds, op, self.ids, self.quirks)
            else:
                command = chunk_command(entry, self.ids)
            if entry.chunks is None and exceeds_max_obj_size(command, self.max_obj_size):
                # OMA DS: never send an object larger than the receiver's MaxObjSize; it stays
                # pending (unsent), so a later session with a larger limit delivers it
                log.warning("session %s: %s %s is larger than the client's MaxObjSize %s; not sent",
                            self.id, op.kind, op.guid, self.max_obj_size)
                self.too_large += 1
                self.queue.pop(0)
                ds.failed(op)
                continue
            size = measure(command) + 40
            if used + size > budget:
                if taken:
                    break
                if entry.chunks is None and self.version == "1.0":
                    # SyncML 1.0 has no MoreData: an item larger than a message cannot go; it stays pending
                    log.warning("session %s: %s %s does not fit a message of %s bytes and SyncML 1.0 cannot "
                                "split it; not sent", self.id, op.kind, op.guid, self.max_msg_size)
                    self.too_large += 1
                    self.queue.pop(0)
                    ds.failed(op)
                    continue
                if entry.chunks is None and isinstance(command, (Add, Replace)):
                    entry.chunks = split_item(command.items[0], max(256, max_chunk(command.items[0], budget - 200)))
                    entry.meta = command.meta
                    entry.kind = type(command)
                    command = chunk_command(entry, self.ids)
            if ds.canonical not in syncs:
                sync_ids[ds.canonical] = self.ids.next()
                syncs[ds.canonical] = []
            syncs[ds.canonical].append(command)
            used += size
            taken += 1
            if entry.chunks:  # more chunks of this item follow, in the next messages
                break
            self.queue.pop(0)
            self.sent[(str(self.out_msg_id + 1), command.cmd_id)] = (ds, op)
            ds.sent(op)
            if op.kind == "Add":
                self.unmapped.add((ds.canonical, op.guid))
        for canonical, commands in syncs.items():
            ds = self.datastores[canonical]
            noc = (str(pending_count.get(canonical, 0))  # NumberOfChanges came with SyncML 1.1
                   if canonical not in self.announced and self.version != "1.0" else None)
            self.announced.add(canonical)
            out.append(Sync(cmd_id=sync_ids[canonical], target=Target(loc_uri=ds.client_uri),
                            source=Source(loc_uri=ds.server_uri), number_of_changes=noc, commands=tuple(commands)))
        if self.queue:
            self.phase = advance_server(self.phase, Event.MORE_OUT)
            return self._message(header, out, False)
        self.phase = advance_server(self.phase, Event.ALL_OUT)
        return self._message(header, out, True)


def advance_server(phase: ServerPhase, event: Event) -> ServerPhase:
    from ._state import SERVER_TABLE

    return advance(SERVER_TABLE, phase, event)
