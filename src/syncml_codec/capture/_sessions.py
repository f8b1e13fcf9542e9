"""Captured messages grouped into SyncML sessions.

A session is the messages between one device and one server under one
SessionID.  The key is (SessionID, device), where the device is the client's
LocURI: the SyncHdr Source of a client message, the Target of a server's.  A
client message with MsgID 1 after the session already had messages starts a
new one (phones that use SessionID 1 every time; among files named in any
order, only a second client MsgID 1 does).  Who sent a message is the
capture's word when it has one (HTTP request or response, a log's line);
otherwise it is worked out from the headers: a LocURI seen as the device or as
the server elsewhere in the capture, else the URL (clients address the server
by its URL).  A message is read strictly first; one that is not valid SyncML
is read leniently and keeps the strict read's complaint (``problem``).
Messages that cannot be read stay in the session of the message before them
in the same stream (else of the message before them: one file per message),
with their error.

Within a session, messages without capture times (files named on the command
line, in whatever order the shell gave them) are put in protocol order: each
client message by its MsgID, each server message after the client message
its SyncHdr Status answers (MsgRef).  A message that says neither keeps its
place after the message before it.  Captures with times keep their order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..errors import StructureError, SyncMLError
from ..model import Map, Message, Status, SyncHdr
from ._types import CapturedMessage, Direction

__all__ = ["CapturedSession", "SessionMessage", "group_sessions", "read_messages"]


@dataclass
class SessionMessage:
    """A captured message read: ``message`` (leniently) or ``error`` (why it
    could not be read), and its ``direction`` as resolved.  ``problem`` says
    why a message that was read is not valid SyncML (a strict read's error,
    e.g. ``SyncML/SyncBody/Sync[1]: CmdID missing``); None when it is."""

    captured: CapturedMessage
    message: Message[None] | None
    error: str | None
    direction: Direction
    problem: str | None = None


@dataclass
class CapturedSession:
    """One session: its SessionID, the device's LocURI, the server's
    (its URL as the client addressed it), and the messages in capture order.
    A SAN is a session of its own (``kind == "san"``)."""

    session_id: str | None
    device: str | None
    server: str | None
    messages: list[SessionMessage] = field(default_factory=list)
    kind: str = "syncml"


def _header(msg: Message[None] | None) -> SyncHdr[None] | None:
    header = msg.header if msg is not None else None
    return header if isinstance(header, SyncHdr) else None


def _uris(header: SyncHdr[None]) -> tuple[str | None, str | None]:
    src = header.source.loc_uri if header.source is not None else None
    tgt = header.target.loc_uri if header.target is not None else None
    return src, tgt


def _is_url(uri: str | None) -> bool:
    return bool(uri) and "://" in (uri or "")


def read_messages(captured: Iterable[CapturedMessage]) -> list[SessionMessage]:
    """Each message read leniently, with its direction resolved (see the
    module doc)."""
    out: list[SessionMessage] = []
    for cap in captured:
        if cap.kind != "syncml":
            out.append(SessionMessage(cap, None, None, "server" if cap.direction == "unknown" else cap.direction))
            continue
        msg: Message[None] | None = None
        error = problem = None
        try:  # strict first: a valid message is read once, a broken one is said to be
            msg = Message.from_bytes(cap.data, cap.content_type)
        except StructureError as exc:
            problem = str(exc)
        except SyncMLError as exc:
            error = str(exc)
        if problem is not None:
            try:
                msg = Message.from_bytes(cap.data, cap.content_type, lenient=True)
            except SyncMLError as exc:
                error = str(exc)
        out.append(SessionMessage(cap, msg, error, cap.direction, problem))
    _resolve(out, guess=False)  # the capture's word and the LocURIs it teaches
    _resolve(out, guess=True)  # then what each message says of its sender, then the URLs
    _resolve(out, guess=False)  # what those taught, to the messages before them
    return out


def _learn(messages: list[SessionMessage]) -> tuple[set[str], set[str]]:
    """The device and server LocURIs of the messages whose sender is known."""
    devices: set[str] = set()
    servers: set[str] = set()
    for sm in messages:
        header = _header(sm.message)
        if header is None or sm.direction == "unknown":
            continue
        src, tgt = _uris(header)
        client_uri, server_uri = (src, tgt) if sm.direction == "client" else (tgt, src)
        if client_uri:
            devices.add(client_uri)
        if server_uri:
            servers.add(server_uri)
    return devices, servers


def _sender_by_content(msg: Message[None]) -> Direction:
    """Who sent a message, from what only one side sends: a client's first
    message answers nothing (no Status) and opens the session (MsgID 1); a
    Map, or credentials in the SyncHdr, are the client's; a challenge or an
    authentication verdict (212) for the other side's SyncHdr is the
    server's."""
    header = _header(msg)
    statuses = [c for c in msg.commands if isinstance(c, Status)]
    for status in statuses:
        if (status.cmd_ref or "").strip() == "0" and (
                status.chal is not None or (status.code is not None and int(status.code) == 212)):
            return "server"
    if any(isinstance(c, Map) for c in msg.commands):
        return "client"
    if header is not None and header.cred is not None:
        return "client"
    if header is not None and not statuses and _number(header.msg_id) == 1 and msg.commands:
        return "client"
    return "unknown"


def _resolve(messages: list[SessionMessage], *, guess: bool) -> None:
    """Give the messages whose sender is not known one: from the LocURIs
    known as a device's or a server's, else (``guess``) from what the
    message holds, else from the URLs (clients address the server by its
    URL).  What is resolved teaches its LocURIs to the messages after it."""
    devices, servers = _learn(messages)
    for sm in messages:
        header = _header(sm.message)
        if header is None or sm.direction != "unknown":
            continue
        src, tgt = _uris(header)
        if src in devices or tgt in servers:
            sm.direction = "client"
        elif src in servers or tgt in devices:
            sm.direction = "server"
        elif not guess:
            continue
        else:
            sender = _sender_by_content(sm.message) if sm.message is not None else "unknown"
            if sender == "unknown" and _is_url(tgt) != _is_url(src):
                sender = "client" if _is_url(tgt) else "server"
            if sender == "unknown":
                continue
            sm.direction = sender
        client_uri, server_uri = (src, tgt) if sm.direction == "client" else (tgt, src)
        devices.update(u for u in (client_uri,) if u)
        servers.update(u for u in (server_uri,) if u)


def group_sessions(captured: Iterable[CapturedMessage]) -> list[CapturedSession]:
    """The sessions in ``captured``, in the order their first message came."""
    sessions: list[CapturedSession] = []
    open_by_key: dict[tuple[str | None, str | None], CapturedSession] = {}
    last_by_stream: dict[str | None, CapturedSession] = {}
    previous: CapturedSession | None = None  # the session of the message before (not a SAN's)
    for sm in read_messages(captured):
        cap = sm.captured
        if cap.kind == "san":
            sessions.append(CapturedSession(None, None, None, [sm], kind="san"))
            continue
        header = _header(sm.message)
        if header is None:
            session = last_by_stream.get(cap.stream) or previous
            if session is None:
                session = CapturedSession(None, None, None)
                sessions.append(session)
            session.messages.append(sm)
            previous = session
            continue
        src, tgt = _uris(header)
        device, server = (tgt, src) if sm.direction == "server" else (src, tgt)
        session_id = header.session_id if isinstance(header.session_id, str) else None
        key = (session_id, device)
        session = open_by_key.get(key)
        first = sm.direction != "server" and _number(header.msg_id) == 1
        if session is None or (first and _opened(session, timed=cap.time is not None)):
            session = CapturedSession(session_id, device, server if sm.direction != "server" else None)
            sessions.append(session)
            open_by_key[key] = session
        elif session.server is None and sm.direction != "server":
            session.server = server
        session.messages.append(sm)
        last_by_stream[cap.stream] = session
        previous = session
    for session in sessions:
        if any(sm.captured.time is None for sm in session.messages):
            session.messages = _protocol_order(session.messages)
    return sessions


def _opened(session: CapturedSession, *, timed: bool) -> bool:
    """Whether a client's MsgID 1 starts a new session after ``session``: in a
    capture with times, once the session has any client message (its start
    may not have been captured); in files named in any order, only when it
    already has the client's MsgID 1."""
    clients = [sm for sm in session.messages if sm.direction != "server"]
    if timed:
        return bool(clients)
    return any(_number(h.msg_id) == 1 for h in (_header(sm.message) for sm in clients) if h is not None)


def _number(text: object) -> int | None:
    return int(text) if isinstance(text, str) and text.strip().isdigit() else None


def _answered(msg: Message[None]) -> int | None:
    """The client MsgID a server message answers: its SyncHdr Status's MsgRef."""
    for cmd in msg.commands:
        if isinstance(cmd, Status) and (cmd.cmd_ref or "").strip() == "0":
            return _number(cmd.msg_ref)
    return None


def _protocol_order(messages: list[SessionMessage]) -> list[SessionMessage]:
    keys: list[tuple[int, int]] = []
    last = (0, -1)
    for sm in messages:
        header = _header(sm.message)
        number = None
        if header is not None and sm.message is not None:
            number = _number(header.msg_id) if sm.direction == "client" else (
                _answered(sm.message) if sm.direction == "server" else None)
        if number is not None:
            last = (number, 0 if sm.direction == "client" else 1)
        keys.append(last)
    order = sorted(range(len(messages)), key=lambda i: keys[i])  # stable: retries keep their order
    return [messages[i] for i in order]
