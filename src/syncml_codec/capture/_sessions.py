"""Captured messages grouped into SyncML sessions.

A session is the messages between one device and one server under one
SessionID.  The key is (SessionID, device), where the device is the client's
LocURI: the SyncHdr Source of a client message, the Target of a server's.  A
client message with MsgID 1 after the session already had messages starts a
new one (phones that use SessionID 1 every time).  Who sent a message is the
capture's word when it has one (HTTP request or response, a log's line);
otherwise it is worked out from the headers: a LocURI seen as the device or as
the server elsewhere in the capture, else the URL (clients address the server
by its URL).  Messages that cannot be read stay in the session of the message
before them in the same stream, with their error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..errors import SyncMLError
from ..model import Message, SyncHdr
from ._types import CapturedMessage, Direction

__all__ = ["CapturedSession", "SessionMessage", "group_sessions", "read_messages"]


@dataclass
class SessionMessage:
    """A captured message read: ``message`` (leniently) or ``error`` (why it
    could not be read), and its ``direction`` as resolved."""

    captured: CapturedMessage
    message: Message[None] | None
    error: str | None
    direction: Direction


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
        try:
            msg: Message[None] | None = Message.from_bytes(cap.data, cap.content_type, lenient=True)
            error = None
        except SyncMLError as exc:
            msg, error = None, str(exc)
        out.append(SessionMessage(cap, msg, error, cap.direction))
    devices: set[str] = set()
    servers: set[str] = set()
    for sm in out:  # learn from what the capture says
        header = _header(sm.message)
        if header is None or sm.direction == "unknown":
            continue
        src, tgt = _uris(header)
        client_uri, server_uri = (src, tgt) if sm.direction == "client" else (tgt, src)
        if client_uri:
            devices.add(client_uri)
        if server_uri:
            servers.add(server_uri)
    for sm in out:
        header = _header(sm.message)
        if header is None or sm.direction != "unknown":
            continue
        src, tgt = _uris(header)
        if src in devices or tgt in servers or (_is_url(tgt) and not _is_url(src)):
            sm.direction = "client"
        elif src in servers or tgt in devices or (_is_url(src) and not _is_url(tgt)):
            sm.direction = "server"
    return out


def group_sessions(captured: Iterable[CapturedMessage]) -> list[CapturedSession]:
    """The sessions in ``captured``, in the order their first message came."""
    sessions: list[CapturedSession] = []
    open_by_key: dict[tuple[str | None, str | None], CapturedSession] = {}
    last_by_stream: dict[str | None, CapturedSession] = {}
    for sm in read_messages(captured):
        cap = sm.captured
        if cap.kind == "san":
            sessions.append(CapturedSession(None, None, None, [sm], kind="san"))
            continue
        header = _header(sm.message)
        if header is None:
            session = last_by_stream.get(cap.stream)
            if session is None:
                session = CapturedSession(None, None, None)
                sessions.append(session)
            session.messages.append(sm)
            continue
        src, tgt = _uris(header)
        device, server = (tgt, src) if sm.direction == "server" else (src, tgt)
        session_id = header.session_id if isinstance(header.session_id, str) else None
        key = (session_id, device)
        session = open_by_key.get(key)
        first = sm.direction != "server" and isinstance(header.msg_id, str) and header.msg_id.strip() == "1"
        if session is None or (first and any(m.direction != "server" for m in session.messages)):
            session = CapturedSession(session_id, device, server if sm.direction != "server" else None)
            sessions.append(session)
            open_by_key[key] = session
        elif session.server is None and sm.direction != "server":
            session.server = server
        session.messages.append(sm)
        last_by_stream[cap.stream] = session
    return sessions
