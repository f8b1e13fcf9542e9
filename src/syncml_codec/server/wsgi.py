"""The SyncML HTTP front as a WSGI application, embeddable in any WSGI
server (``syncml serve`` runs it on ``wsgiref``).

SyncML over HTTP (OMA DS HTTP binding) is one POST per message: the body is
the message, ``Content-Type`` says its encoding
(``application/vnd.syncml+xml`` or ``application/vnd.syncml+wbxml``), and the
answer comes back in the same encoding.  From its second message on, a
client posts to the ``RespURI`` the server gave it, which here carries the
session as ``?sessionid=...``; that is how messages are routed to their
session.

Everything else is refused with a short plain-text body: another path 404,
another method 405 (with ``Allow: POST``), another content type 415, no
``Content-Length`` 411, a body over ``max_body`` 413, a message the engine
cannot read at all 400.  An engine failure is a 500 and a logged traceback;
the client never sees one.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Protocol

from ..errors import SyncMLError
from ._journal import LOGGER, Journal, Transcripts

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["CONTENT_TYPES", "DEFAULT_MAX_BODY", "Reply", "SyncHandler", "make_app"]

#: the request content types accepted, and the encoding each stands for
CONTENT_TYPES = {"application/vnd.syncml+xml": "xml", "application/vnd.syncml+wbxml": "wbxml"}
#: the largest request body accepted (bytes); clients split larger items
#: into several messages (MoreData) below the MaxMsgSize we announce
DEFAULT_MAX_BODY = 4 * 1024 * 1024
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            413: "Content Too Large", 500: "Internal Server Error", 503: "Service Unavailable"}


class Reply(Protocol):
    """What the engine answers: the message to send and its session.  It may
    also have ``http_status`` (default 200) and ``summary``, a mapping for
    the log line (see :class:`~syncml_codec.server._journal.Journal`) that
    spares parsing the messages again."""

    @property
    def body(self) -> bytes: ...

    @property
    def content_type(self) -> str: ...

    @property
    def session_id(self) -> str | None: ...


class SyncHandler(Protocol):
    """The engine side (``syncml_codec.engine.SyncServer`` is one): bytes in,
    bytes out, no I/O."""

    def handle(self, body: bytes, content_type: str, session_id: str | None) -> Reply: ...


def _plain(start_response: StartResponse, status: str, text: str,
           headers: Iterable[tuple[str, str]] = ()) -> list[bytes]:
    body = (text + "\n").encode()
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"),
                            ("Content-Length", str(len(body))), *headers])
    return [body]


def _read_body(environ: WSGIEnvironment, length: int) -> bytes:
    stream = environ["wsgi.input"]
    chunks = []
    left = length
    while left > 0:
        chunk = stream.read(min(left, 65536))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def make_app(server: SyncHandler, *, path: str = "/sync", transcript_dir: str | None = None,
             log: logging.Logger | None = None, max_body: int = DEFAULT_MAX_BODY,
             clock: Callable[[], float] = time.time) -> WSGIApplication:
    """A WSGI application serving ``server`` at ``path``.

    ``transcript_dir``: write each session's messages, rendered as XML, to
    ``transcript_dir/<session>/NNN-request.xml`` / ``NNN-response.xml``.
    ``log``: where the per-message line goes (default the
    ``syncml_codec.server`` logger, at INFO).

    >>> from wsgiref.util import setup_testing_defaults
    >>> class Echo:
    ...     def handle(self, body, content_type, session_id):
    ...         from types import SimpleNamespace
    ...         return SimpleNamespace(body=body, content_type=content_type, session_id="1")
    >>> app = make_app(Echo())
    >>> environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/sync"}
    >>> setup_testing_defaults(environ)
    >>> app(environ, lambda status, headers: print(status))
    405 Method Not Allowed
    [b'POST a SyncML message to /sync\\n']
    """
    logger = log or LOGGER
    lock = threading.Lock()  # the engine is not thread-safe: one message at a time
    journal = Journal(logger, Transcripts(transcript_dir) if transcript_dir else None)

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "") != path:
            return _plain(start_response, "404 Not Found", f"no SyncML service here; POST to {path}")
        if environ.get("REQUEST_METHOD") != "POST":
            return _plain(start_response, "405 Method Not Allowed", f"POST a SyncML message to {path}",
                          [("Allow", "POST")])
        raw_type = environ.get("CONTENT_TYPE", "") or ""
        mime = raw_type.split(";", 1)[0].strip().lower()
        if mime not in CONTENT_TYPES:
            return _plain(start_response, "415 Unsupported Media Type",
                          "send application/vnd.syncml+xml or application/vnd.syncml+wbxml")
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return _plain(start_response, "411 Length Required", "a Content-Length is required")
        if length < 0:
            return _plain(start_response, "400 Bad Request", "bad Content-Length")
        if length > max_body:
            return _plain(start_response, "413 Content Too Large", f"a message may have at most {max_body} bytes")
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        session_id = (query.get("sessionid") or [None])[-1] or None

        body = _read_body(environ, length)
        if len(body) < length:
            return _plain(start_response, "400 Bad Request", "the body is shorter than its Content-Length")
        started = time.perf_counter()  # ms in the log: the engine's work, not the client's upload
        try:
            with lock:
                reply = server.handle(body, mime, session_id)
        except Exception as exc:  # the engine answers protocol errors itself: this is a bug or a broken store
            if isinstance(exc, SyncMLError) and getattr(exc, "status", 500) < 500:
                text, http = f"malformed SyncML message: {exc}", "400 Bad Request"
            else:
                logger.exception("engine failure on a message of session %s (%d bytes)", session_id, length)
                text, http = "internal error", "500 Internal Server Error"
            ms = (time.perf_counter() - started) * 1000
            journal.record(clock(), session_id, body, mime, None, None, http.split()[0], ms)
            return _plain(start_response, http, text)
        ms = (time.perf_counter() - started) * 1000

        code = int(getattr(reply, "http_status", 200) or 200)
        http = f"{code} {_REASONS.get(code, 'Error')}"
        summary = getattr(reply, "summary", None)
        journal.record(clock(), reply.session_id or session_id, body, mime, reply.body, reply.content_type,
                       str(code), ms, summary if isinstance(summary, Mapping) else None)
        start_response(http, [("Content-Type", reply.content_type), ("Content-Length", str(len(reply.body))),
                              ("Cache-Control", "no-store")])
        return [reply.body]

    return app

