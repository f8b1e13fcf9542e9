"""How a replay reaches the server: the :class:`Transport` protocol, the
in-process one, and the error a transport raises when no answer came.  The
HTTP transport is in :mod:`syncml_codec.server` (no I/O in the engine)."""

from __future__ import annotations

from typing import Protocol

from ...errors import SyncMLError
from .._reply import Response
from ..server import SyncServer

__all__ = ["InProcess", "Transport", "TransportError"]


class TransportError(SyncMLError):
    """No answer came from the server (connection refused, a timeout, a
    broken connection): a :class:`Transport` raises it, the replay of the
    session stops there."""


class Transport(Protocol):
    """How a :class:`Replayer` reaches the server: called with the body to
    send, its content type, and the session (None before one exists; after,
    the :attr:`Response.session_id` of the last answer that had one); returns
    the server's answer.  ``session_id`` is None in an answer that did not
    authenticate or resume a session.  Raises :class:`TransportError` when
    no answer came.  :class:`InProcess` calls :meth:`SyncServer.handle`; the
    HTTP one is :class:`syncml_codec.server.HttpTransport`."""

    def __call__(self, body: bytes, content_type: str, session_id: str | None) -> Response: ...


class InProcess:
    """The :class:`Transport` that hands each message to ``server`` in
    process (``remote``: the client address it is told)."""

    def __init__(self, server: SyncServer, remote: str | None = "replay") -> None:
        self.server = server
        self.remote = remote

    def __call__(self, body: bytes, content_type: str, session_id: str | None) -> Response:
        return self.server.handle(body, content_type, session_id, self.remote)
