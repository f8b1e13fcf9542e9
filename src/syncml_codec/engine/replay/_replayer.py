"""Replay recorded client traffic into a :class:`SyncServer`, in process.

``Replayer(server, password=...).replay([msg1, msg2, ...])`` sends the
recorded client messages of one SyncML session, in order, through
:meth:`SyncServer.handle` and returns every exchange.  No I/O: the caller
reads the files (tests, ``syncml replay``); to reach a server elsewhere the
caller passes a :class:`Transport` instead of the server (``syncml replay
--url``: HTTP, :class:`syncml_codec.server.HttpTransport`).  What the new
server answered is compared with the recorded answers by
:mod:`._compare`.

A recording was made against another server, so each message is adapted to
ours, the way the recorded client would have behaved had it talked to us;
nothing else is changed (an unchanged message is sent byte for byte):

* **Session.**  From the second message on, the message goes to our RespURI
  (its session id is passed to ``handle`` and put in the SyncHdr Target).
  Every message gets the first message's SyncHdr SessionID: a recorded
  sequence is one session (fixtures sometimes stitch messages of two).
* **Authentication** (a session exists only after it, issue 9).  Basic
  credentials are sent as recorded (the caller creates the account from
  :func:`recorded_login`).  MD5 credentials were computed over the recorded
  server's nonce: with the password known they are computed again over the
  nonce our server gave this device (the empty nonce the first time, which
  our server answers with a challenge, like a client without a nonce).  A
  message refused with 401/407 and a challenge is sent once more with a
  credential of the challenged type over the challenge's nonce -- also when
  the recording had none (a phone that sends credentials only when asked);
  an MD5 credential names the user in ``Source/LocName``, so every later
  message of the session carries that LocName too.  A challenge the
  recording shows the client answering itself (the caller passes the
  positions the recorded server refused) is left to the client's next
  message or session, as recorded.  Up to two challenges
  are answered per message: our server keys a challenge on the user the
  message claimed, so the challenge to a message that named nobody cannot be
  used by an answer that names the user; the next one can.  Without a password an
  MD5 session cannot be replayed (:attr:`SessionReplay.refused`).
* **Datastore names.**  The recorded server's URIs (``ca``, ``pb``,
  ``./k``) are mapped to one our server knows: the caller's ``datastores``
  table, else the client's own URI when that names one, else the type the
  client's DevInf gives that datastore.
* **The recorded server's commands** differ from ours, so the client's
  Statuses for them are re-pointed: the n-th recorded command of a kind
  (Add, Replace, Delete, Alert, Sync, ...) is paired with our n-th command of
  that kind in this session (an Alert or Sync with the one for the same
  datastore), and a Status is given that command's MsgRef and CmdRef; a
  Status for a recorded command we have no counterpart for is dropped.
  Why not send them as recorded: their MsgRef/CmdRef would name whatever
  command of ours has those numbers, and a failure code there would mark
  the wrong item undelivered; why not drop them all: then our server never
  hears of the deliveries the client confirmed.  The pairing is
  positional, so it is exact when both servers send the same changes in the
  same order (a replay from an equivalent store) and best effort otherwise.
* **GUIDs.**  The pairing of an Add gives the recorded server's GUID (the
  Status SourceRef) and ours; with that table the client's Map items,
  Replace/Delete Targets and Status refs name our GUIDs.  A Map item whose
  GUID was never paired takes the next GUID of ours that no Map item named.
  The recorded GUID of an Add is read from the Status's SourceRef or, as the
  Funambol clients write it, its Item's Source.  A Map item for an Add whose
  Status was dropped (the recorded server sent it, ours did not: e.g. the
  folder items ``ROOT/I`` a Funambol server sends a mail client) is dropped
  too, as the client would not have mapped what it never got; a Map left
  without items is dropped.  With ``maps_as_recorded`` such items are sent
  as they are (our server answers them 404 each, the others 200).

Every rewrite is listed in :attr:`Exchange.notes`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ...codec.detect import sniff_encoding
from ...devinf import DevInf
from ...errors import SyncMLError
from ...model import (
    Add,
    Alert,
    Command,
    Cred,
    Delete,
    Item,
    Map,
    MapItem,
    Message,
    Meta,
    Put,
    Replace,
    Results,
    Status,
    StatusCode,
    Sync,
    auth,
)
from ...model.auth import AuthType
from ...store.base import canonical_datastore
from .._devinf import datastore_for_type, datastore_from_devinf, devinf_from_item
from .._reply import Response
from .._util import as_received, plain
from .._wire import CONTENT_TYPES
from ..server import SyncServer
from ._exchange import Exchange, SessionReplay
from ._transport import InProcess, Transport, TransportError

__all__ = ["NO_NONCE", "Replayer", "datastore_for_type", "recorded_login"]

_MD5 = AuthType.MD5.value
_BASIC = AuthType.BASIC.value
_ITEM_COMMANDS = (Add, Replace, Delete)
#: challenges answered per message (see the module doc)
_CHALLENGES = 2
#: content-type fragments -> the canonical datastore that keeps them (first match wins)
#: the note of an MD5 credential computed over the empty nonce: our server
#: never gave the device one, so it challenges it (not the recording's doing)
NO_NONCE = "our server gave this device no nonce yet: computed over the empty nonce"


def recorded_login(messages: Sequence[bytes]) -> tuple[str, str] | None:
    """(user, password) of the first basic credential in ``messages``, to
    create the account a recording logs in with; None if there is none.

    >>> body = (b"<SyncML><SyncHdr><VerDTD>1.1</VerDTD><VerProto>SyncML/1.1</VerProto>"
    ...         b"<SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>http://s</LocURI></Target>"
    ...         b"<Source><LocURI>fwm-1</LocURI></Source><Cred><Data>dGVvOnRlb2RlbW8=</Data></Cred>"
    ...         b"</SyncHdr><SyncBody><Final/></SyncBody></SyncML>")
    >>> recorded_login([body])
    ('teo', 'teodemo')
    """
    for body in messages:
        msg = _read(body)
        login = _basic_login(msg) if msg is not None and msg.header is not None else None
        if login is not None:
            return login
    return None


def _all_creds(msg: Message) -> list[Cred]:
    """The message's credentials: the SyncHdr's, then those inside commands
    (SyncML 1.0/1.1 allow Cred in Alert, Put, Get, Sync...)."""
    creds = [msg.header.cred] if msg.header.cred is not None else []
    for cmd in msg.commands:
        cred = getattr(cmd, "cred", None)
        if isinstance(cred, Cred):
            creds.append(cred)
    return creds


def _basic_login(msg: Message) -> tuple[str, str] | None:
    for cred in _all_creds(msg):
        if cred.data is not None and _cred_type(cred) == _BASIC:
            try:
                return auth.parse_basic((cred.data or "").strip())
            except (SyncMLError, ValueError):
                continue
    return None


def _read(body: bytes, content_type: str | None = None) -> Message | None:
    try:
        return Message.from_bytes(body, content_type)
    except (SyncMLError, ValueError):
        pass
    try:
        return as_received(Message.from_bytes(body, content_type, lenient=True))
    except (SyncMLError, ValueError):
        return None


def _cred_type(cred: Cred) -> str:
    kind = cred.meta.type if cred.meta is not None and cred.meta.type else _BASIC  # basic is the default
    return kind.strip().lower()


@dataclass(slots=True)
class _Session:
    """What one replayed session keeps between its messages."""

    sid: str | None = None
    resp_uri: str | None = None
    client_session_id: str | None = None
    loc_name: str | None = None
    last_reply: Message | None = None
    # our commands in this session, by tag, in order: (our MsgID, command)
    ours: dict[str, list[tuple[str, Command]]] = field(default_factory=dict)
    # recorded (MsgRef, CmdRef, Cmd) -> ours (MsgRef, CmdRef, command)
    paired: dict[tuple[str, ...], tuple[str, Command]] = field(default_factory=dict)
    taken: set[int] = field(default_factory=set)  # id() of our commands already paired
    cursor: dict[str, int] = field(default_factory=dict)  # tag -> index in ours of the first maybe not taken
    mapped_guids: set[str] = field(default_factory=set)  # our GUIDs a Map item named
    unsent: set[str] = field(default_factory=set)  # recorded GUIDs of Adds our server had no counterpart for
    challenged: set[int] = field(default_factory=set)  # positions the recorded client answered a challenge after
    nonce: bytes | None = None  # the nonce of our last challenge, for the next message's MD5 credential


class Replayer:
    """Replays recorded sessions into ``server`` (see the module doc).

    ``user``/``password``: the account to log in with when a message has
    MD5 credentials or none (a basic credential's own user and password
    are used as recorded).  ``datastores``: the recorded server's datastore
    URIs -> ours (e.g. ``{"ca": "contacts"}``).  One Replayer keeps, across
    the sessions it replays, the nonce our server gave each device and the
    recorded server's GUIDs paired with ours, so the sessions of one
    recording are replayed with one Replayer, in order.  ``maps_as_recorded``:
    Map items for Adds our server never sent are kept (see the module doc).
    ``server`` is a :class:`SyncServer` (called in process) or any
    :class:`Transport` (HTTP: :class:`syncml_codec.server.HttpTransport`);
    ``stop_on_error``: a session stops at an answer that is not HTTP 200
    SyncML (the later messages would go to a server that lost the session).
    """

    def __init__(self, server: SyncServer | Transport, *, user: str | None = None, password: str | None = None,
                 datastores: Mapping[str, str] | None = None, remote: str | None = "replay",
                 maps_as_recorded: bool = False, stop_on_error: bool = False) -> None:
        self.server = server if isinstance(server, SyncServer) else None
        self.transport: Transport = InProcess(server, remote) if isinstance(server, SyncServer) else server
        self.stop_on_error = stop_on_error
        self.maps_as_recorded = maps_as_recorded
        self.user = user
        self.password = password
        self.datastores = dict(datastores or {})
        self.remote = remote
        self.nonces: dict[tuple[str, str], bytes] = {}  # (user, device id) -> our last NextNonce
        self.guids: dict[tuple[str, str], str] = {}  # (device id, recorded GUID) -> our GUID
        self.devinf: dict[str, DevInf] = {}  # device id -> its DevInf, from its Put/Results

    # -- one session ------------------------------------------------------
    def replay(self, messages: Sequence[bytes], content_type: str | None = None, *,
               challenged: Collection[int] = ()) -> SessionReplay:
        """Send ``messages`` (the client's, in order) as one session.  A
        :class:`TransportError` ends the session (:attr:`SessionReplay.stopped`),
        as does, with ``stop_on_error``, an answer that is not HTTP 200 SyncML.
        ``challenged``: the positions (0 for the first) of the messages the
        recorded server refused with a challenge, which the recorded client
        answered itself, with its next message or in a new session: a
        challenge of our server to one of those is not answered by the
        replay, and its nonce is what the client's next MD5 credential is
        computed over."""
        result = SessionReplay()
        state = _Session()
        state.challenged = set(challenged)
        for position, body in enumerate(messages):
            try:
                stop = self._replay_message(position, body, content_type, state, result)
            except TransportError as exc:
                result.stopped = f"message {position + 1}: {exc}"
                return result
            if stop:
                return result
            last = result.exchanges[-1] if result.exchanges else None
            if self.stop_on_error and last is not None and last.reply is None:
                result.stopped = f"message {position + 1}: {_failure(last.response)}"
                return result
        return result

    def _replay_message(self, position: int, body: bytes, content_type: str | None, state: _Session,
                        result: SessionReplay) -> bool:
        """Send one recorded message (with the answers to its challenges);
        True when the session cannot go on (a refused login)."""
        ctype = content_type or CONTENT_TYPES[_encoding(body)]
        recorded = _read(body, ctype)
        if recorded is None or recorded.header is None or recorded.header.source is None:
            response = self.transport(body, ctype, state.sid)
            result.exchanges.append(Exchange(recorded, body, None, response, _reply(response), position=position))
            return False
        self._learn_devinf(recorded)
        notes: list[str] = []
        msg = self._adapt(recorded, state, notes)
        exchange = self._send(position, body, recorded, msg, ctype, state, notes)
        reply = exchange.reply
        for _ in range(_CHALLENGES):
            if state.sid is not None or reply is None or (refusal := _refusal(reply)) is None:
                break
            if position in state.challenged:  # as recorded: the client's next message answers it
                meta = refusal.chal.meta if refusal.chal is not None else None
                state.nonce = auth.nonce_from_text(meta.next_nonce) if meta is not None and meta.next_nonce else None
                user = self._login_user(msg)
                if state.nonce is not None and user is not None:  # (a new session's first message too)
                    self.nonces[(user, (msg.header.source.loc_uri or "").strip())] = state.nonce
                break
            result.exchanges.append(exchange)
            retry, why = self._answer_challenge(msg, refusal.chal, state, notes)
            if retry is None:
                result.refused = why
                return True
            exchange = self._send(position, body, recorded, retry, ctype, state, notes, force=True)
            reply = exchange.reply
        result.exchanges.append(exchange)
        if exchange.response.session_id:  # (a server may move the session to another RespURI)
            state.sid = exchange.response.session_id
            result.session_id = result.session_id or state.sid
        if reply is None:
            return False
        if state.sid is None and _refusal(reply) is not None:
            if position in state.challenged:
                return False
            result.refused = "the credentials sent after the challenge were refused"
            return True
        code = _header_code(reply)
        if state.sid is None and code is not None and not 200 <= code < 300 and position not in state.challenged:
            result.refused = f"the server refused the login ({code}) without a challenge to answer"
            return True
        self._remember(reply, msg, state)
        return False

    def _send(self, position: int, body: bytes, recorded: Message, msg: Message, ctype: str, state: _Session,
              notes: list[str], *, force: bool = False) -> Exchange:
        sent = body if msg == recorded and not force else msg.to_bytes(_encoding(body, ctype))
        response = self.transport(sent, ctype, state.sid)
        return Exchange(recorded, sent, msg, response, _reply(response), tuple(notes), position)

    # -- authentication ----------------------------------------------------
    def _login_user(self, msg: Message) -> str | None:
        return (msg.header.source.loc_name or "").strip() or self.user

    def _answer_challenge(self, msg: Message, chal: Any, state: _Session,
                          notes: list[str]) -> tuple[Message | None, str]:
        """The message again with a credential answering ``chal``."""
        meta = chal.meta if chal is not None else None
        kind = meta.type.strip().lower() if meta is not None and meta.type else _BASIC
        user, password = self._credentials(msg)
        if user is None or password is None:
            return None, f"challenged for {kind}, but no password is known for the recorded user"
        header = msg.header
        if kind == _BASIC:
            cred = Cred(meta=Meta(type=_BASIC, format="b64"), data=auth.basic_credential(user, password))
            notes.append("answered the challenge with basic credentials")
            return msg.replace(header=dataclasses.replace(header, cred=cred)), ""
        nonce = auth.nonce_from_text(meta.next_nonce) if meta is not None and meta.next_nonce else b""
        device = (header.source.loc_uri or "").strip()
        self.nonces[(user, device)] = nonce
        state.loc_name = user
        notes.append("answered the challenge with MD5 credentials over its nonce")
        return self._with_md5(msg, user, password, nonce), ""

    def _credentials(self, msg: Message) -> tuple[str | None, str | None]:
        login = _basic_login(msg)
        if login is not None:
            return login
        return self._login_user(msg), self.password

    def _with_md5(self, msg: Message, user: str, password: str, nonce: bytes, *, in_header: bool = True) -> Message:
        """``msg`` with its MD5 credentials (or, ``in_header``, a new SyncHdr
        one) computed over ``nonce``, and ``user`` as its LocName."""
        digest = (auth.md5_digest_10(user, password, nonce) if msg.version == "1.0"
                  else auth.md5_digest(user, password, nonce))
        header = msg.header
        cred = header.cred
        if in_header or (cred is not None and _cred_type(cred) == _MD5):
            cred = Cred(meta=Meta(type=_MD5, format="b64"), data=digest)
        source = dataclasses.replace(header.source, loc_name=user)
        msg = msg.replace(header=dataclasses.replace(header, cred=cred, source=source))
        if msg.body is None:
            return msg
        commands = tuple(_resigned(c, digest) for c in msg.commands)
        return msg.replace(body=dataclasses.replace(msg.body, commands=commands))

    def _remember(self, reply: Message, sent: Message, state: _Session) -> None:
        """Our nonce for the device, our commands for the Status pairing."""
        for status in reply.commands:
            if isinstance(status, Status) and status.cmd_ref == "0" and status.chal is not None:
                nonce_text = status.chal.meta.next_nonce if status.chal.meta is not None else None
                user = self._login_user(sent)
                if nonce_text and user:
                    self.nonces[(user, (sent.header.source.loc_uri or "").strip())] = \
                        auth.nonce_from_text(nonce_text)
        state.last_reply = reply
        if reply.header.resp_uri:
            state.resp_uri = plain(reply.header.resp_uri)
        for cmd in _flatten(reply.commands):
            if not isinstance(cmd, Status):
                state.ours.setdefault(cmd.TAG, []).append((reply.header.msg_id, cmd))

    # -- adapting one message ----------------------------------------------
    def _adapt(self, msg: Message, state: _Session, notes: list[str]) -> Message:
        header = msg.header
        changes: dict[str, Any] = {}
        if state.client_session_id is None:
            state.client_session_id = header.session_id
        elif header.session_id != state.client_session_id:
            changes["session_id"] = state.client_session_id
            notes.append(f"SessionID {header.session_id} -> {state.client_session_id}")
        if state.resp_uri and (header.target.loc_uri or "") != state.resp_uri:
            changes["target"] = dataclasses.replace(header.target, loc_uri=state.resp_uri)
        if state.loc_name and not (header.source.loc_name or "").strip():
            changes["source"] = dataclasses.replace(header.source, loc_name=state.loc_name)
        if changes:
            header = dataclasses.replace(header, **changes)
            msg = msg.replace(header=header)
        if state.sid is None and any(c.data is not None and _cred_type(c) == _MD5 for c in _all_creds(msg)):
            user = self._login_user(msg)
            if user is not None and self.password is not None:
                known = state.nonce if state.nonce is not None else \
                    self.nonces.get((user, (header.source.loc_uri or "").strip()))
                msg = self._with_md5(msg, user, self.password, known or b"", in_header=False)
                header = msg.header
                notes.append("MD5 credentials computed again over our nonce")
                if known is None:
                    notes.append(NO_NONCE)
        if msg.body is None:
            return msg
        device = (header.source.loc_uri or "").strip()
        commands: list[Command] = []
        for cmd in msg.commands:
            adapted = self._adapt_command(cmd, device, state, notes)
            if adapted is not None:
                commands.append(adapted)
        if tuple(commands) != msg.commands:
            msg = msg.replace(body=dataclasses.replace(msg.body, commands=tuple(commands)))
        return msg

    def _adapt_command(self, cmd: Command, device: str, state: _Session, notes: list[str]) -> Command | None:
        if isinstance(cmd, Status):
            return self._adapt_status(cmd, device, state, notes)
        if isinstance(cmd, Alert) and cmd.items:
            items = tuple(self._adapt_alert_item(item, device, notes) for item in cmd.items)
            return dataclasses.replace(cmd, items=items) if items != cmd.items else cmd
        if isinstance(cmd, Sync):
            target = cmd.target
            if target is not None:
                client_uri = (cmd.source.loc_uri or "") if cmd.source is not None else ""
                uri = self._datastore(target.loc_uri or "", client_uri, device, notes)
                target = dataclasses.replace(target, loc_uri=uri) if uri != (target.loc_uri or "") else target
            inner = tuple(self._adapt_change(c, device, notes) for c in cmd.commands)
            if target is cmd.target and inner == cmd.commands:
                return cmd
            return dataclasses.replace(cmd, target=target, commands=inner)
        if isinstance(cmd, Map):
            return self._adapt_map(cmd, device, state, notes)
        return cmd

    def _adapt_alert_item(self, item: Item, device: str, notes: list[str]) -> Item:
        if item.target is None:
            return item
        client_uri = (item.source.loc_uri or "") if item.source is not None else ""
        uri = self._datastore(item.target.loc_uri or "", client_uri, device, notes)
        if uri == (item.target.loc_uri or ""):
            return item
        return dataclasses.replace(item, target=dataclasses.replace(item.target, loc_uri=uri))

    def _adapt_change(self, cmd: Command, device: str, notes: list[str]) -> Command:
        if not isinstance(cmd, (Replace, Delete)) or not cmd.items:
            return cmd
        items = []
        for item in cmd.items:
            guid = (item.target.loc_uri or "") if item.target is not None else ""
            ours = self.guids.get((device, guid))
            if item.target is not None and ours is not None and ours != guid:
                notes.append(f"{cmd.TAG} target GUID {guid} -> {ours}")
                item = dataclasses.replace(item, target=dataclasses.replace(item.target, loc_uri=ours))
            items.append(item)
        return dataclasses.replace(cmd, items=tuple(items))

    def _adapt_map(self, cmd: Map, device: str, state: _Session, notes: list[str]) -> Map | None:
        client_uri = (cmd.source.loc_uri or "") if cmd.source is not None else ""
        uri = self._datastore(cmd.target.loc_uri or "", client_uri, device, notes)
        target = dataclasses.replace(cmd.target, loc_uri=uri) if uri != (cmd.target.loc_uri or "") else cmd.target
        ours_added = [_guid_of(c) for _, c in state.ours.get("Add", [])]
        paired = set(self.guids.values())  # (once per Map: linear, not a scan per GUID)
        free = [g for g in ours_added if g and g not in state.mapped_guids and g not in paired]
        items: list[MapItem] = []
        for mi in cmd.map_items or ():
            guid = (mi.target.loc_uri or "") if mi.target is not None else ""
            ours = self.guids.get((device, guid))
            if ours is None and guid in state.unsent:
                if self.maps_as_recorded:
                    items.append(mi)
                    continue
                notes.append(f"dropped the Map item for {guid} (our server sent no such Add)")
                continue
            if ours is None and free:
                ours = free.pop(0)
                self.guids[(device, guid)] = ours
            if ours is not None and mi.target is not None:
                state.mapped_guids.add(ours)
                if ours != guid:
                    notes.append(f"Map GUID {guid} -> {ours}")
                    mi = dataclasses.replace(mi, target=dataclasses.replace(mi.target, loc_uri=ours))
            items.append(mi)
        if not items and cmd.map_items:
            notes.append("dropped the Map: none of its items is for an Add of ours")
            return None
        return dataclasses.replace(cmd, target=target, map_items=tuple(items))

    def _adapt_status(self, status: Status, device: str, state: _Session, notes: list[str]) -> Status | None:
        reply = state.last_reply
        if status.cmd_ref == "0" or status.cmd == "SyncHdr":
            if reply is None:
                notes.append("dropped the Status for a SyncHdr of the recorded server")
                return None
            if status.msg_ref == reply.header.msg_id:
                return status
            return dataclasses.replace(status, msg_ref=reply.header.msg_id)
        key = (status.msg_ref, status.cmd_ref, status.cmd,
               *(status.target_refs if status.cmd in ("Alert", "Sync") else ()))
        pair = state.paired.get(key)
        if pair is None:
            ours = state.ours.get(status.cmd, [])
            if status.cmd in ("Alert", "Sync"):  # the one for the same datastore, if the refs tell
                free = [p for p in ours if id(p[1]) not in state.taken]
                free = [p for p in free if _client_uri(p[1]) in status.target_refs] or free
            else:  # the first not taken: a cursor, so a session's Statuses cost linear time
                start = state.cursor.get(status.cmd, 0)
                while start < len(ours) and id(ours[start][1]) in state.taken:
                    start += 1
                state.cursor[status.cmd] = start
                free = ours[start:start + 1]
            if not free:
                notes.append(f"dropped the Status for {status.cmd} {status.msg_ref}/{status.cmd_ref} "
                             "(our server sent no such command)")
                if status.cmd == "Add":
                    state.unsent.update(_status_guids(status))
                return None
            pair = free[0]
            state.taken.add(id(pair[1]))
            state.paired[key] = pair
            if isinstance(pair[1], Add):
                guid = _guid_of(pair[1])
                for recorded_guid in _status_guids(status):
                    if guid:
                        self.guids[(device, recorded_guid)] = guid
        msg_ref, cmd = pair
        changes: dict[str, Any] = {}
        if (status.msg_ref, status.cmd_ref) != (msg_ref, cmd.cmd_id):
            changes.update(msg_ref=msg_ref, cmd_ref=cmd.cmd_id)
        refs = tuple(self.guids.get((device, r), plain(r)) for r in status.source_refs)
        if refs != status.source_refs:
            changes["source_refs"] = refs
        items = tuple(_with_source(item, self.guids.get((device, _item_source(item)))) for item in status.items)
        if items != status.items:
            changes["items"] = items
        if not changes:
            return status
        notes.append(f"Status for {status.cmd} {status.msg_ref}/{status.cmd_ref} -> {msg_ref}/{cmd.cmd_id}")
        return dataclasses.replace(status, **changes)

    # -- datastores --------------------------------------------------------
    def _learn_devinf(self, msg: Message) -> None:
        for cmd in msg.commands:
            if isinstance(cmd, (Put, Results)):
                for item in cmd.items or ():
                    devinf = devinf_from_item(item)
                    if devinf is not None:
                        self.devinf[(msg.header.source.loc_uri or "").strip()] = devinf

    def _datastore(self, uri: str, client_uri: str, device: str, notes: list[str]) -> str:
        """A datastore URI of ours for the recorded server's ``uri``."""
        if uri in self.datastores:
            mapped = self.datastores[uri]
        elif canonical_datastore(uri) is not None:
            return uri
        elif canonical_datastore(client_uri) is not None:
            mapped = client_uri
        else:
            found = datastore_from_devinf(self.devinf.get(device), client_uri)
            if found is None:
                return uri
            mapped = found
        self.datastores.setdefault(uri, mapped)
        if mapped != uri:
            notes.append(f"datastore {uri} -> {mapped}")
        return mapped


def _item_source(item: Item[Any]) -> str:
    return plain(item.source.loc_uri or "") if item.source is not None else ""


def _with_source(item: Item[Any], guid: str | None) -> Item[Any]:
    """``item`` with its Source naming ``guid`` (None: as it is)."""
    if guid is None or item.source is None or guid == _item_source(item):
        return item
    return dataclasses.replace(item, source=dataclasses.replace(item.source, loc_uri=guid))


def _status_guids(status: Status) -> list[str]:
    """The recorded GUIDs a Status for an Add names: its SourceRefs, or its
    Items' Sources (the Funambol clients' way)."""
    return [plain(r) for r in status.source_refs] or [g for item in status.items if (g := _item_source(item))]


def _encoding(body: bytes, content_type: str | None = None) -> str:
    try:
        return sniff_encoding(body, content_type)
    except (SyncMLError, ValueError):
        return "xml"


def _reply(response: Response) -> Message | None:
    if response.http_status != 200:
        return None
    try:
        return Message.from_bytes(response.body, response.content_type)
    except (SyncMLError, ValueError):
        return None


def _failure(response: Response) -> str:
    """Why an answer is no SyncML reply, for a line."""
    if response.http_status != 200:
        reason, url = response.summary.get("reason"), response.summary.get("url")
        return f"HTTP {response.http_status}" + (f" {reason}" if reason else "") + (f" from {url}" if url else "")
    return f"the answer is not a SyncML message ({response.content_type or 'no content type'})"


def _header_code(reply: Message) -> int | None:
    """The code of the SyncHdr Status of ``reply``, None if it has none."""
    for cmd in reply.commands:
        if isinstance(cmd, Status) and cmd.cmd_ref == "0":
            return int(cmd.code) if cmd.code is not None else None
    return None


def _refusal(reply: Message) -> Status | None:
    """The SyncHdr Status 401/407 of ``reply`` (with the challenge), None if it has none."""
    for cmd in reply.commands:
        if isinstance(cmd, Status) and cmd.cmd_ref == "0" and cmd.code is not None \
                and int(cmd.code) in (StatusCode.INVALID_CREDENTIALS, StatusCode.MISSING_CREDENTIALS):
            return cmd
    return None


def _client_uri(cmd: Command) -> str:
    """The client's datastore an Alert or Sync of ours names."""
    if isinstance(cmd, Sync):
        return (cmd.target.loc_uri or "") if cmd.target is not None else ""
    items = getattr(cmd, "items", ())
    target = items[0].target if items else None
    return (target.loc_uri or "") if target is not None else ""


def _resigned(cmd: Command, digest: str) -> Command:
    """``cmd`` with the data of its MD5 Cred (if it has one) replaced by ``digest``."""
    cred = getattr(cmd, "cred", None)
    if not isinstance(cred, Cred) or _cred_type(cred) != _MD5:
        return cmd
    changed: Command = dataclasses.replace(cmd, cred=dataclasses.replace(cred, data=digest))  # type: ignore[type-var]
    return changed


def _flatten(commands: Sequence[Command]) -> list[Command]:
    """``commands`` with the commands inside each Sync after it (the order
    statuses answer them in)."""
    out: list[Command] = []
    for cmd in commands:
        out.append(cmd)
        if isinstance(cmd, Sync):
            out += _flatten(cmd.commands)
    return out


def _guid_of(cmd: Command) -> str:
    items = getattr(cmd, "items", ())
    item = items[0] if items else None
    if item is None:
        return ""
    return (item.source.loc_uri or "") if item.source is not None else ""

