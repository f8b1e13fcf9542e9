"""One SyncML session on the server side: the message flow.

A message is answered in three steps: every command gets its Status (the
client's Alerts, Syncs and Maps go to the session's datastores,
:mod:`._datastores`; its DevInf to its :class:`~._peer.Peer`; its Statuses
for our changes to the outbox, :mod:`._outgoing`); the phase moves on through
:data:`._state.SERVER_TABLE`; and what goes back is the handler that
:data:`._state.SERVER_ANSWERS` names for that step (ask for the rest of the
client's package, package 2, the next message of package 4, package 6).  A
failed message (the store rolled back) goes through the same tables
(``Event.FAIL``).  The phases and their order: see :mod:`._state`.

Containers (issue 15, :meth:`ServerSession._container`): a Sequence's
commands run in order; an Atomic's run inside a store savepoint with a copy
of the session's state (the same pickle that carries a session between
workers, :mod:`._persist`), both put back when one of them fails, so that
an Atomic leaves nothing behind in the store nor in the session (507; the
commands undone answered 216).  A Sync's changes are looked up by datastore
name at each change (:meth:`._datastores.SessionDatastores.change`), so an
Atomic undone in the middle of a Sync leaves the rest of it on the state put
back.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ..errors import ProtocolError, StructureError
from ..model import (
    Add,
    Alert,
    AlertCode,
    Atomic,
    Chal,
    Command,
    Copy,
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
    Sequence,
    Source,
    Status,
    StatusCode,
    Sync,
    SyncHdr,
    Target,
    status_for_header,
)
from ..model.size import wbxml_size, xml_size
from ..store.base import Device, canonical_datastore
from ._auth import claimed_user
from ._chunks import Reassembler, StoreSpool
from ._datastores import SessionDatastores
from ._devinf import datastore_from_devinf, devinf_results, get_code
from ._mailds import MAIL, MAIL_TREE, is_mail
from ._outgoing import Outbox
from ._params import SyncParams
from ._peer import Peer
from ._persist import dump_session, load_session
from ._push import register_push, sync_url
from ._reply import DEVINF_URI, Answers, reply_message
from ._report import log_session_end
from ._state import SERVER_ANSWERS, SERVER_RECEIVING, SERVER_TABLE, Answer, Event, ServerPhase, advance
from ._util import alert_next, estimate, log_quoted, plain
from ._wire import devinf_type
from .quirks import Quirks

if TYPE_CHECKING:
    from .server import SyncServer

__all__ = ["ServerSession"]

log = logging.getLogger("syncml_codec.engine")

_MARGIN = 512  # bytes kept free in every message for the closing tags and the header's growth
_SYNC_OVERHEAD = 300  # bytes of the Sync elements around package 4's changes

_Handler = Callable[["ServerSession", SyncHdr, list[Command], Event], Message]


class ServerSession:
    """One SyncML session on the server side, bound to the account and
    device that authenticated it (``loc_name``: the LocName it came with)."""

    def __init__(self, server: SyncServer, *, session_id: str, device: Device, loc_name: str | None = None,
                 client_session_id: str | None = None, version: str = "1.2") -> None:
        self.server = server
        self.store = server.store
        self.id = session_id
        self.phase = ServerPhase.INIT
        self.peer = Peer(server.store, device, loc_name)
        # large objects wait in the store between their chunks, not in the state saved after every message
        spool = StoreSpool(server.store, session_id)
        self.chunks = Reassembler(max_obj_size=server.limits.max_obj_size,  # the client's large objects
                                  max_pending_size=server.limits.max_pending_size, owner=f"session {session_id}",
                                  spool=spool)
        self.datastores = SessionDatastores(store=server.store, peer=self.peer, chunks=self.chunks,
                                            clock=server.clock, policy=server.conflict_policy, session_id=session_id,
                                            backups=server.backups, mail=server.mail)
        self.datastores.max_obj_size = server.limits.max_obj_size if version != "1.0" else None
        self.outbox = Outbox(peer=self.peer, session_id=session_id, version=version, spool=spool)
        self.version = version  # the client's SyncML version: ours in every answer (issue 10)
        self.client_session_id = client_session_id  # the SessionID of the client's SyncHdr
        self.auth_carrier: str | None = None  # CmdID of the command whose Cred authenticated the session
        self.params = SyncParams()  # the sync URL's parameters (IceWarp's: see ._params)
        self.server_url: str | None = None  # the URL the client knows us by (its first message's, see ._push)
        self.encoding = "wbxml"
        self.address: str | None = None  # the client's (of its last message), for the end-of-session log line
        self.started = self.last_seen = server.clock()
        self.max_msg_size = server.max_msg_size  # the client's, from its SyncHdr Meta (ours until it sends one)
        self.max_obj_size: int | None = None  # the client's, from its SyncHdr Meta
        self.answers = Answers("1")  # the answer being made
        self.out_msg_id = 0
        self.last_answer: tuple[str, bytes] | None = None  # (the client's MsgID, our answer): for a resent message

    @property
    def user(self) -> str:
        return self.peer.user

    @property
    def device_id(self) -> str:
        return self.peer.device_id

    @property
    def authenticated(self) -> bool:
        return True  # a session exists only after an accepted authentication

    @property
    def quirks(self) -> Quirks:
        """The device's quirk behaviours (:attr:`._peer.Peer.quirks`)."""
        return self.peer.quirks

    def mismatch(self, header: SyncHdr, cred: Cred | None = None) -> str:
        """Why a message naming this session does not belong to it ("" if it does);
        ``cred``: the credential it carries in a command."""
        if header.source.loc_uri.strip() != self.device_id:
            return "device-differs"
        user = claimed_user(header, cred)
        if user is None:
            return "" if self.peer.loc_name is None else "user-missing"
        return "" if user == self.user else "user-differs"

    # -- plumbing --------------------------------------------------------
    def remember(self, msg_id: str, data: bytes) -> None:
        self.last_answer = (msg_id, data)

    def is_resent(self, msg_id: str) -> bool:
        """Whether ``msg_id`` is the message we answered last (the client did not get the answer)."""
        return self.last_answer is not None and self.last_answer[0] == msg_id

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

    def _size(self, header: SyncHdr, commands: list[Command]) -> int:
        """The encoded size of our next message holding ``commands``."""
        message = reply_message(header, commands, True, msg_id=str(self.out_msg_id + 1),
                                resp_uri=f"{self.server.base_url}?sessionid={self.id}",
                                max_msg_size=self.server.max_msg_size, max_obj_size=self.server.limits.max_obj_size)
        return len(message.to_bytes(self.encoding))

    def _message(self, header: SyncHdr, commands: list[Command], final: bool) -> Message:
        self.out_msg_id += 1
        return reply_message(header, commands, final, msg_id=str(self.out_msg_id),
                             resp_uri=f"{self.server.base_url}?sessionid={self.id}",
                             max_msg_size=self.server.max_msg_size, max_obj_size=self.server.limits.max_obj_size)

    def failure(self, msg: Message, exc: Exception) -> Message:
        """The answer when processing failed unexpectedly (the store rolled
        back): only the SyncHdr status (the ProtocolError's, else 500), and
        the session is over (``Event.FAIL``)."""
        self.answers = Answers(msg.header.msg_id)
        code = exc.status if isinstance(exc, ProtocolError) else StatusCode.COMMAND_FAILED
        status = status_for_header(msg.header, cmd_id=self.answers.next_id(), code=code)
        phase = self.phase
        self.phase = advance(SERVER_TABLE, phase, Event.FAIL)
        try:
            with self.store.transaction():
                self._log(f"failed: {exc}"[:500])
        except Exception:  # the store itself is broken: nothing more to record
            log.exception("session %s: could not record the failure", self.id)
        return _ANSWER[SERVER_ANSWERS[(phase, Event.FAIL)]](self, msg.header, [status], Event.FAIL)

    # -- one message -----------------------------------------------------
    def receive(self, msg: Message, problem: StructureError | None = None,
                auth: tuple[int, Chal | None] | None = None) -> Message:
        """One message of this session's owner.  ``auth``: the SyncHdr status
        and challenge (NextNonce) when this message authenticated the session."""
        header = msg.header
        if self.is_resent(header.msg_id) and self.last_answer is not None:
            # the client sent the same message again (it missed our answer): answer the same
            return Message.from_bytes(self.last_answer[1])
        answers = self.answers = Answers(header.msg_id)
        out: list[Command] = []
        code, chal = auth if auth is not None else (StatusCode.OK, None)
        if self.server_url is None:
            self.server_url = sync_url(header.target.loc_uri or "")
        if problem is not None and msg.body is None:
            out.append(status_for_header(header, cmd_id=answers.next_id(), code=StatusCode.BAD_REQUEST, chal=chal))
            return self._message(header, out, True)
        out.append(status_for_header(header, cmd_id=answers.next_id(), code=code, chal=chal))
        if header.meta is not None and header.meta.max_msg_size_int:
            self.max_msg_size = max(2000, header.meta.max_msg_size_int)
        if header.meta is not None and header.meta.max_obj_size_int:
            self.max_obj_size = header.meta.max_obj_size_int
        ctx = _Context()
        for cmd in msg.commands:
            out += self._command(cmd, ctx)
        made_after, gets = ctx.made_after, ctx.gets
        if auth is not None and chal is not None and self.auth_carrier is not None:
            # the credential came in a command: its Status carries the NextNonce too
            out = [dataclasses.replace(c, chal=chal) if isinstance(c, Status) and c.cmd != "SyncHdr"
                   and c.cmd_ref == self.auth_carrier else c for c in out]
        phase = self.phase
        event = self._event(msg, ctx.saw_sync)
        if event in (Event.FINAL, Event.FINAL_SYNC) and phase in (ServerPhase.INIT, ServerPhase.CLIENT_MODS):
            self.chunks.unfinished()  # the client's package ended: an object without its last chunk gets 223
            self.datastores.check_changes()
        made_after += [functools.partial(self._no_end_of_data, key) for key in self.chunks.take_abandoned()]
        results_id = answers.next_id() if gets else ""  # (the Results comes first, made last: it fits the rest)
        later = [make() for make in made_after]
        if gets:  # at most one
            results, fitted = self._results(header, gets[0], results_id, [*out, *later])
            if not fitted and any(_announces_max_obj_size(c) for c in later):
                # a small MaxMsgSize: our DevInf goes before the Alerts' MaxObjSize (the SyncHdr has it too)
                later = [_without_max_obj_size(c) for c in later]
                results, fitted = self._results(header, gets[0], results_id, [*out, *later])
            if not fitted:
                log.warning("session %s: our smallest DevInf does not fit the client's MaxMsgSize %d; sent anyway",
                            self.id, self.max_msg_size)
            out.append(results)
        out += later
        self.phase = advance(SERVER_TABLE, phase, event)
        return _ANSWER[SERVER_ANSWERS[(phase, event)]](self, header, out, event)

    def _command(self, cmd: Command, ctx: _Context) -> list[Command]:
        """The Statuses of one command of the client's message (a container's
        of its commands too, :meth:`_container`)."""
        answers = self.answers
        if isinstance(cmd, Status):
            if ctx.depth:  # (a Status belongs in the body, not in an Atomic or Sequence)
                return []
            self.outbox.status(cmd)
            return []
        if not cmd.cmd_id:  # read leniently from a broken message: refused, not executed
            return [answers.status(cmd, StatusCode.BAD_REQUEST)]
        if isinstance(cmd, Get):
            code_get = get_code(cmd)
            if code_get == StatusCode.OK and ctx.gets:
                # our DevInf once per message: each Results is a whole DevInf (a 28-byte Get
                # answered by 1.3 kB), so a message of Gets would make an answer 50 times its size
                code_get = StatusCode.COMMAND_NOT_ALLOWED
            elif code_get == StatusCode.OK:
                ctx.gets.append(cmd)
            return [answers.status(cmd, code_get)]
        if isinstance(cmd, Sync):
            ctx.saw_sync = True
            out, canonical = self.datastores.open_sync(cmd, answers)
            if canonical is not None:
                for change in cmd.commands:
                    if isinstance(change, (Atomic, Sequence)):
                        out += self._container(change, ctx, sync=(canonical, cmd))
                    else:  # (self.datastores as it is now: an Atomic that failed puts back the one before it)
                        out += self.datastores.change(canonical, cmd, change, answers)
            return out
        if isinstance(cmd, (Atomic, Sequence)):
            return self._container(cmd, ctx)
        if isinstance(cmd, Map):
            return list(self._map(cmd))
        if isinstance(cmd, (Add, Replace, Delete, Copy)):  # outside a Sync (issue 15)
            return self.datastores.outside(cmd, answers)
        return [self._dispatch(cmd, ctx.made_after)]

    def _container(self, cmd: Atomic | Sequence, ctx: _Context, sync: tuple[str, Sync] | None = None) -> list[Command]:
        """An Atomic or a Sequence (issue 15; in the body, or in a Sync:
        ``sync`` names its datastore).  Its Status comes first, then its
        commands'.  A Sequence runs its commands in order, each answered
        as it fares (SyncML runs every command in order anyway), and is
        answered 200.  An Atomic runs its commands inside a store savepoint
        (:meth:`Store.savepoint`) with the session's state kept as it was
        before (:mod:`._persist`): all of them succeed (200), or, when one
        fails (a status of 300 or more), the savepoint and the state are
        put back, the Atomic is answered 507 (Atomic failed), the commands
        that had succeeded 216 (Atomic roll back OK) and the failed ones
        keep their error.  An Atomic that cannot be carried out whole is
        refused before anything runs, its commands answered 215 (not
        executed): one with a chunk of a large object (an Atomic may not
        span messages: 400), one that writes to a Mail datastore (its
        storage cannot be rolled back: 406), or more Atomics in a message
        than :data:`MAX_ATOMICS` (each costs a copy of the session's state: 405)."""
        answers = self.answers
        head = answers.status(cmd, StatusCode.OK)

        def run(inner: Command) -> list[Command]:
            if isinstance(inner, (Atomic, Sequence)):
                return self._container(inner, ctx, sync)
            if sync is not None:
                return self.datastores.change(sync[0], sync[1], inner, answers)
            return self._command(inner, ctx)

        if isinstance(cmd, Sequence):
            ctx.depth += 1
            try:
                return [head, *(s for inner in cmd.commands for s in run(inner))]
            finally:
                ctx.depth -= 1
        refusal = self._atomic_refusal(cmd, ctx, sync)
        if refusal:
            log.warning("session %s: user=%s device=%s: Atomic %s refused (%d)", self.id, log_quoted(self.user),
                        log_quoted(self.device_id), log_quoted(str(cmd.cmd_id)), refusal)
            return [_with_code(head, refusal), *self._not_executed(cmd.commands)]
        ctx.atomics += 1
        snapshot, _tag = dump_session(self)
        marks = (len(ctx.made_after), len(ctx.gets))
        out: list[Command] = []
        ctx.depth += 1
        try:
            with self.store.savepoint():
                for inner in cmd.commands:
                    out += run(inner)
                failed = [s for s in out if isinstance(s, Status) and (s.code or 500) >= 300]
                if failed:
                    raise _RolledBack
        except _RolledBack:
            self._restore(snapshot)
            del ctx.made_after[marks[0]:]
            del ctx.gets[marks[1]:]
            log.info("session %s: user=%s device=%s: Atomic %s failed (%s): rolled back", self.id,
                     log_quoted(self.user), log_quoted(self.device_id), log_quoted(str(cmd.cmd_id)),
                     ", ".join(f"{s.cmd} {s.data}" for s in failed[:5]))
            return [_with_code(head, StatusCode.ATOMIC_FAILED),
                    *(_with_code(s, StatusCode.ATOMIC_ROLLBACK_OK)
                      if isinstance(s, Status) and (s.code or 500) < 300 else s for s in out)]
        finally:
            ctx.depth -= 1
        return [head, *out]

    def _atomic_refusal(self, cmd: Atomic, ctx: _Context, sync: tuple[str, Sync] | None) -> int:
        """Why an Atomic cannot be carried out whole (a status code; 0: it can)."""
        if ctx.atomics >= MAX_ATOMICS:
            return StatusCode.COMMAND_NOT_ALLOWED
        names = {sync[0]} if sync is not None else set()
        for inner in _walk(cmd.commands):
            if any(getattr(item, "more_data", False) for item in getattr(inner, "items", ())):
                return StatusCode.BAD_REQUEST
            if isinstance(inner, Sync):
                named = self.datastores.named((inner.target.loc_uri or "") if inner.target else "")
                if named:
                    names.add(named)
            elif isinstance(inner, (Add, Replace, Delete, Copy)):
                for item in inner.items:
                    where = plain(item.target.loc_uri) if item.target is not None else ""
                    named = self.datastores.outside_target(where)[0]
                    if named:
                        names.add(named)
        if any(is_mail(name) for name in names):
            return StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED
        return 0

    def _not_executed(self, commands: tuple[Command, ...]) -> list[Command]:
        """215 for each of ``commands`` and of the containers among them."""
        out: list[Command] = []
        for inner in commands:
            if isinstance(inner, Status):
                continue
            out.append(self.answers.status(inner, StatusCode.NOT_EXECUTED))
            if isinstance(inner, (Atomic, Sequence, Sync)):
                out += self._not_executed(inner.commands)
        return out

    def _restore(self, snapshot: bytes) -> None:
        """Put back the session's state as ``snapshot`` holds it (the store's
        savepoint is rolled back already: the maps are read from it again)."""
        before = load_session(snapshot, self.server)
        self.peer, self.chunks, self.datastores, self.outbox = (before.peer, before.chunks, before.datastores,
                                                                before.outbox)

    def _event(self, msg: Message, saw_sync: bool) -> Event:
        """What the client's message is in :data:`._state.SERVER_TABLE` terms.
        Alert 222 while part of the client's package is still awaited is
        ``NEXT``, Final or not (see :mod:`._state`).

        A client that left ``<Final/>`` off the last message of its package
        (a slip Synthesis tolerates, issue 15) answers our Alert 222 with a
        message of only Statuses and Alert 222, without Final: when nothing of
        its package is awaited, that message ends the package (``FINAL``)
        instead of a second request for more, which would go on until the
        client gave up."""
        asks_next = any(isinstance(c, Alert) and c.code == AlertCode.NEXT_MESSAGE for c in msg.commands)
        if asks_next and self.phase in SERVER_RECEIVING and self._awaiting():
            return Event.NEXT
        if not msg.final and asks_next and self.phase in SERVER_RECEIVING and _only_asks_next(msg):
            log.info("session %s: the client asks for our next message without having ended its package "
                     "(no Final): taken as its end", self.id)
            return Event.FINAL
        if not msg.final:
            return Event.MESSAGE
        return Event.FINAL_SYNC if saw_sync and self.phase is ServerPhase.INIT else Event.FINAL

    def _awaiting(self) -> bool:
        """Whether part of the client's current package is still to come:
        its Alerts (package 1), a Sync of a datastore in a mode where it
        sends one or the rest of a large object (package 3), a Map for an
        Add we sent (package 5)."""
        if self.phase is ServerPhase.INIT:
            return not self.datastores
        if self.phase is ServerPhase.CLIENT_MODS:
            return self.datastores.awaiting_sync() or bool(self.chunks.pending)
        if self.phase is ServerPhase.MAP:
            return bool(self.outbox.unmapped)
        return False

    def _log(self, outcome: str) -> None:
        detail = " ".join(f"{ds.canonical}:{ds.mode}" + "".join(f" {k}={v}" for k, v in sorted(ds.stats.items()))
                          for ds in self.datastores.values())
        self.store.log_session(self.peer.device, self.id, self.started, self.server.clock(), outcome, detail)
        log_session_end(self, outcome)

    def _dispatch(self, cmd: Command, made_after: list[Callable[[], Command]]) -> Status:
        answers = self.answers
        try:
            if isinstance(cmd, (Put, Results)):
                return answers.status(cmd, self.peer.take_devinf(cmd.items, self.datastores.values(),
                                                                       self.id))
            if isinstance(cmd, Alert) and cmd.code == AlertCode.NO_END_OF_DATA:
                # the client did not get the rest of one of our objects: it stays pending (._outgoing)
                log.warning("session %s: the client reports an object of ours without its end (Alert 223): %s",
                            self.id, ", ".join(log_quoted(plain(i.target.loc_uri) if i.target else "?")
                                               for i in cmd.items[:5]))
                return answers.status(cmd, StatusCode.OK)
            if isinstance(cmd, Alert):
                status, reply = self.datastores.alert(cmd, answers, initializing=self.phase is ServerPhase.INIT,
                                                     params=self.params)
                if reply is not None:
                    made_after.append(reply)
                return status
        except ProtocolError as exc:
            return answers.status(cmd, exc.status)
        return answers.status(cmd, StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED)

    def _no_end_of_data(self, key: tuple[str, str]) -> Alert:
        """Alert 223 (OMA DS 1.2 large objects: no end of data) for the
        client's object ``key`` (datastore, its LUID or our GUID) whose last
        chunk never came: Target its name, Source our datastore."""
        ds = self.datastores.get(key[0])
        return Alert(cmd_id=self.answers.next_id(), data=str(int(AlertCode.NO_END_OF_DATA)),
                     items=(Item(target=Target(loc_uri=key[1]),
                                 source=Source(loc_uri=ds.server_uri if ds is not None else key[0])),))

    def _map(self, cmd: Map) -> list[Status]:
        """The Status of a client's Map: one when all its items fare alike,
        else one per item naming it (``TargetRef`` our GUID, ``SourceRef``
        its LUID), as SyncML answers a command whose items fare differently."""
        outcome, mapped = self.datastores.map(cmd)
        self.outbox.unmapped.difference_update(mapped)
        if len({code for code, _item in outcome}) == 1:
            return [self.answers.status(cmd, outcome[0][0])]
        return [self.answers.map_item_status(cmd, item, code) for code, item in outcome]

    def _results(self, header: SyncHdr, get: Get, cmd_id: str, others: list[Command]) -> tuple[Results, bool]:
        """Our DevInf for ``get``, as much of it as fits the client's MaxMsgSize
        next to ``others`` (the rest of the answer) and our Get of its DevInf
        (:func:`._devinf.fitted_devinf`), and whether it fits."""
        names = {c: ds.server_uri for c, ds in self.datastores.items()}
        mail = (MAIL, *(c for c in self.datastores if is_mail(c) and c not in (MAIL, MAIL_TREE))) \
            if self.server.mail else ()  # (the tree is listed as Mail, :mod:`._mailtree`)
        ask = [self._devinf_get("0")] if self._wants_devinf() else []

        def fits(results: Results) -> bool:
            return self._size(header, [*others, results, *ask]) <= self.max_msg_size

        results, fitted = devinf_results(get, self.server.dev_id, names, self.encoding, cmd_id=cmd_id,
                                         msg_ref=self.answers.msg_ref, version=self.version, mail=mail,
                                         trees=(MAIL,) if self.server.mail else (), keep=self._used_datastores(),
                                         fits=fits)
        return results, fitted

    def _used_datastores(self) -> dict[str, set[str]]:
        """The canonical datastores the client uses, those it alerted and those
        its DevInf lists (by name, else by their types), each with the content
        types its DevInf lists for it."""
        used: dict[str, set[str]] = {MAIL if c == MAIL_TREE else c: set() for c in self.datastores}
        devinf = self.peer.known_devinf()
        for theirs in devinf.datastores if devinf is not None else ():
            types = {ct.ct_type.strip().lower() for ct in (*theirs.rx_pref, *theirs.tx_pref, *theirs.rx, *theirs.tx)}
            canonical = canonical_datastore(theirs.source_ref) or datastore_from_devinf(devinf, theirs.source_ref)
            if canonical is None and any("email" in t or "rfc822" in t for t in types):
                canonical = MAIL
            if canonical is not None:
                used.setdefault(canonical, set()).update(types)
        return used

    def _wants_devinf(self) -> bool:
        """Whether package 2 asks for the client's DevInf: once, when it sent
        none, or, for ``format=get``, none in this session (:mod:`._format`)."""
        return not self.peer.asked_devinf and (self.peer.devinf is None
                                               or (self.params.format == "get" and not self.peer.received))

    def _devinf_get(self, cmd_id: str) -> Get:
        return Get(cmd_id=cmd_id, meta=Meta(type=devinf_type(self.encoding)),
                   items=(Item(target=Target(loc_uri=DEVINF_URI[self.version])),))

    # -- the answers (one per _state.Answer) ------------------------------
    def _ask_next(self, header: SyncHdr, out: list[Command], event: Event) -> Message:
        """More of the client's package to come: ask for it."""
        return self._message(header, [*out, alert_next(self.answers.ids)], False)

    def _init(self, header: SyncHdr, out: list[Command], event: Event) -> Message:
        """Package 2 (with our Get of the client's DevInf, once, when it sent
        none, or, for ``format=get``, none in this session: :mod:`._format`)."""
        if self._wants_devinf():
            self.peer.asked_devinf = True
            out.append(self._devinf_get(self.answers.next_id()))
        if event is Event.FINAL:
            return self._message(header, out, True)
        return self._changes(header, out, event)  # packages 1 and 3 together

    def _changes(self, header: SyncHdr, out: list[Command], event: Event) -> Message:
        """The next message of package 4: as many of the queued changes as
        fit the client's MaxMsgSize (:mod:`._packer`)."""
        measure = wbxml_size if self.encoding == "wbxml" else xml_size
        frame = self._size(header, [])  # (the header: 700 bytes in XML with our RespURI)
        budget = (self.max_msg_size - max(_MARGIN, frame + _MARGIN // 4)
                  - sum(estimate(c, measure, self.encoding) for c in out) - _SYNC_OVERHEAD)
        out += self.outbox.fill(self.datastores, msg_id=str(self.out_msg_id + 1), budget=budget,
                                ids=self.answers.ids, measure=measure, max_msg_size=self.max_msg_size,
                                max_obj_size=self.max_obj_size)
        done = self.outbox.done
        self.phase = advance(SERVER_TABLE, self.phase, Event.ALL_OUT if done else Event.MORE_OUT)
        return self._message(header, out, done)

    def _complete(self, header: SyncHdr, out: list[Command], event: Event) -> Message:
        """The end of package 5: the session is complete."""
        for ds in self.datastores.values():
            ds.commit()
        if self.params.push:  # the device asks for server-alerted sync (see ._push)
            register_push(self.store, self.peer.device, self.datastores.values(), self.server_url or "",
                          self.server.clock(), self.id)
        self._log("ok")
        return self._message(header, out, True)

    def _failed(self, header: SyncHdr, out: list[Command], event: Event) -> Message:
        """The message failed (see :meth:`failure`): its SyncHdr status, and no more."""
        return self._message(header, out, True)


def _announces_max_obj_size(cmd: Command) -> bool:
    return isinstance(cmd, Alert) and any(i.meta is not None and i.meta.max_obj_size for i in cmd.items)


def _without_max_obj_size(cmd: Command) -> Command:
    """An Alert of ours without the MaxObjSize in its items' Meta."""
    if not _announces_max_obj_size(cmd):
        return cmd
    assert isinstance(cmd, Alert)
    return dataclasses.replace(cmd, items=tuple(
        dataclasses.replace(i, meta=dataclasses.replace(i.meta, max_obj_size=None, _layout=None), _layout=None)
        if i.meta is not None else i for i in cmd.items))


def _only_asks_next(msg: Message) -> bool:
    """Whether ``msg`` carries nothing but Statuses and Alert 222."""
    return all(isinstance(c, Status) or (isinstance(c, Alert) and c.code == AlertCode.NEXT_MESSAGE)
               for c in msg.commands)


_ANSWER: dict[Answer, _Handler] = {
    Answer.ASK_NEXT: ServerSession._ask_next,
    Answer.INIT: ServerSession._init,
    Answer.INIT_AND_CHANGES: ServerSession._init,
    Answer.CHANGES: ServerSession._changes,
    Answer.COMPLETE: ServerSession._complete,
    Answer.FAILED: ServerSession._failed,
}


#: Atomics carried out in one message at most (each keeps a copy of the session's state while it runs)
MAX_ATOMICS = 32


class _RolledBack(Exception):
    """Raised inside an Atomic's savepoint to undo it."""


@dataclasses.dataclass
class _Context:
    """What the commands of one client message share while they run."""

    made_after: list[Callable[[], Command]] = dataclasses.field(default_factory=list)  # Results, Alerts
    gets: list[Get] = dataclasses.field(default_factory=list)
    saw_sync: bool = False
    atomics: int = 0  # carried out in this message
    depth: int = 0  # inside how many Atomics and Sequences


def _with_code(status: Status, code: int) -> Status:
    """``status`` answering ``code`` instead (same CmdID)."""
    return dataclasses.replace(status, data=str(int(code)))


def _walk(commands: tuple[Command, ...]) -> Iterator[Command]:
    """``commands`` and, depth first, the commands of the containers among them."""
    for cmd in commands:
        yield cmd
        if isinstance(cmd, (Atomic, Sequence, Sync)):
            yield from _walk(cmd.commands)
