"""The SyncML HTTP front as a WSGI application, embeddable in any WSGI
server (``syncml serve`` runs it on waitress: see :mod:`._http`).

SyncML over HTTP (OMA DS HTTP binding) is one POST per message: the body is
the message, ``Content-Type`` says its encoding
(``application/vnd.syncml+xml`` or ``application/vnd.syncml+wbxml``), and the
answer comes back in the same encoding.  From its second message on, a
client posts to the ``RespURI`` the server gave it, which here carries the
session as ``?sessionid=...``; that is how messages are routed to their
session.  The RespURI starts with the engine's ``base_url``, or, with
``url_from_request``, with the URL the request itself was sent to
(:func:`request_url`), so a server listening on every interface, on a port
a WSGI server chose, or under a prefix sends each client back the way it
came.

The sync paths: ``/sync`` by default, and IceWarp's ``/syncml/`` and
``/syncml/index.html`` too, so a device set up for an IceWarp server keeps
its URL (:data:`DEFAULT_PATHS`; ``make_app(path=...)`` takes one or several,
:func:`sync_paths`).  A path is matched with or without its trailing slash;
the RespURI names the path the client used.

Everything else is refused with a short plain-text body: another path 404,
another method 405 (with ``Allow: POST``), another content type 415, no
``Content-Length`` 411, a body over ``max_body`` 413, a body that has not
fully arrived ``client_timeout`` seconds after the request reached the
application 408, a message the engine cannot read at all 400.  An engine
failure is a 500 and a logged traceback; the client never sees one.

Concurrency: one engine (and its store connection) serves one message at a
time, so exactly one call of ``server.handle`` runs at a time in a process
(a lock); more processes serve more at once, since sessions live in the
store (issue 12).  Everything else of a request
(reading the body, the log line, the transcript) runs outside it, so in a
threaded server a slow client holds its own thread, never the engine.  The
body deadline is total, not per read: it is checked each time the input
stream returns data (``read1`` where the stream offers it, as ``wsgiref``'s
does, so a trickling client is cut at the deadline).  A server that buffers
the whole body before calling the application (waitress, what ``syncml
serve`` runs) makes it moot and enforces its own deadline on the upload.
"""

from __future__ import annotations

import inspect
import logging
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Protocol

from ..engine import CONTENT_TYPES as _MESSAGE_TYPES
from ..errors import SyncMLError
from ._journal import LOGGER, Journal, Transcripts, escape_log_text

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["CONTENT_TYPES", "DEFAULT_CLIENT_TIMEOUT", "DEFAULT_MAX_BODY", "DEFAULT_PATHS", "Reply", "SyncHandler",
           "make_app", "request_headers", "request_url", "sync_paths"]

#: the request content types accepted, and the encoding each stands for (the engine's types, turned around)
CONTENT_TYPES = {_MESSAGE_TYPES[encoding]: encoding for encoding in ("xml", "wbxml")}
#: the largest request body accepted (bytes); clients split larger items
#: into several messages (MoreData) below the MaxMsgSize we announce
DEFAULT_MAX_BODY = 4 * 1024 * 1024
#: the time a request body may take to arrive, in seconds (total, not per read)
DEFAULT_CLIENT_TIMEOUT = 30.0
#: the paths served by default: ours first (the one ``syncml serve`` prints), then IceWarp's
DEFAULT_PATHS = ("/sync", "/syncml/", "/syncml/index.html")
_MAX_PATHS = 16
_SYNC_PATH = re.compile(r"/[A-Za-z0-9._~!$&'()*+,;=:@%/-]{0,200}")
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            407: "Proxy Authentication Required", 408: "Request Timeout", 413: "Content Too Large",
            429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}


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
    bytes out, no I/O.  ``session_id`` is the ``?sessionid=`` of the
    request URL (client-supplied: the engine decides what it is worth);
    ``remote`` the client's address (WSGI ``REMOTE_ADDR``), for failure
    counters and log lines.  A handler whose ``handle`` also takes the
    keywords ``query`` (the request URL's query string) and ``headers``
    (:func:`request_headers`) is given them; one written for the
    four-argument call is still served.  With
    ``make_app(url_from_request=True)`` it also has a ``base_url``
    attribute, the start of its RespURI, which the app sets before each
    call."""

    def handle(self, body: bytes, content_type: str, session_id: str | None,
               remote: str | None = None) -> Reply: ...


def _plain(start_response: StartResponse, status: str, text: str,
           headers: Iterable[tuple[str, str]] = ()) -> list[bytes]:
    body = (text + "\n").encode()
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"),
                            ("Content-Length", str(len(body))), *headers])
    return [body]


class _Late(Exception):
    """The body did not arrive in time; ``received`` bytes of it did."""

    def __init__(self, received: int) -> None:
        super().__init__(received)
        self.received = received


def _read_body(environ: WSGIEnvironment, length: int, deadline: float | None,
               timer: Callable[[], float]) -> bytes:
    """Up to ``length`` bytes of the body (fewer when the client closed
    early); raises :class:`_Late` once ``timer()`` passes ``deadline``."""
    stream = environ["wsgi.input"]
    read = getattr(stream, "read1", None) or stream.read  # read1: whatever has arrived, so the check runs often
    chunks = []
    left = length
    while left > 0:
        if deadline is not None and timer() > deadline:
            raise _Late(length - left)
        chunk = read(min(left, 65536))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    if deadline is not None and left > 0 and timer() > deadline:
        raise _Late(length - left)
    return b"".join(chunks)


_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:[0-9]{1,5})?")
_PREFIX = re.compile(r"(/[A-Za-z0-9._~!$&'()*+,;=:@%-]*)*")
_PATH_SAFE = "/%!$&'()*+,;=:@~"
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _first(value: str | None) -> str:
    """The first of a comma-separated forwarded header (the client-facing proxy's), stripped."""
    return (value or "").split(",", 1)[0].strip()


def request_headers(environ: WSGIEnvironment) -> dict[str, str]:
    """The request's HTTP headers, names in lower case with ``-`` (as the engine takes them)."""
    headers = {name[5:].lower().replace("_", "-"): str(value) for name, value in environ.items()
               if name.startswith("HTTP_")}
    for name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(name):
            headers[name.lower().replace("_", "-")] = str(environ[name])
    return headers


def _takes_request(server: SyncHandler) -> bool:
    """Whether ``server.handle`` takes the request's ``query`` and ``headers``
    (a handler written for the four-argument call is still served)."""
    try:
        params = inspect.signature(server.handle).parameters
    except (TypeError, ValueError):
        return False
    return ("query" in params and "headers" in params) or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def request_url(environ: WSGIEnvironment, path: str = "/sync", trust_proxy: bool = False) -> str:
    """The URL the client used to reach ``path``, as PEP 3333 rebuilds it:
    ``wsgi.url_scheme``, the ``Host`` header (else ``SERVER_NAME`` and
    ``SERVER_PORT``), ``SCRIPT_NAME``.  With ``trust_proxy``, a reverse
    proxy's ``X-Forwarded-Proto`` (http or https), ``X-Forwarded-Host`` and
    ``X-Forwarded-Prefix`` take their place (the first value of each, the
    client-facing proxy's); without it they are ignored, since any client
    can send them.  A value that is not a host name (or not a path, for the
    prefix) is ignored too.

    >>> request_url({"wsgi.url_scheme": "http", "HTTP_HOST": "sync.example:8000", "SCRIPT_NAME": ""})
    'http://sync.example:8000/sync'
    >>> proxied = {"wsgi.url_scheme": "http", "HTTP_HOST": "127.0.0.1:8000", "SCRIPT_NAME": "",
    ...            "HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_HOST": "sync.example",
    ...            "HTTP_X_FORWARDED_PREFIX": "/dav"}
    >>> request_url(proxied), request_url(proxied, trust_proxy=True)
    ('http://127.0.0.1:8000/sync', 'https://sync.example/dav/sync')
    """
    scheme = environ.get("wsgi.url_scheme") or "http"
    host = environ.get("HTTP_HOST") or ""
    prefix = environ.get("SCRIPT_NAME") or ""
    if trust_proxy:
        proto = _first(environ.get("HTTP_X_FORWARDED_PROTO")).lower()
        if proto in _DEFAULT_PORTS:
            scheme = proto
        forwarded_host = _first(environ.get("HTTP_X_FORWARDED_HOST"))
        if _HOST.fullmatch(forwarded_host):
            host = forwarded_host
        forwarded_prefix = _first(environ.get("HTTP_X_FORWARDED_PREFIX"))
        if forwarded_prefix.startswith("/") and _PREFIX.fullmatch(forwarded_prefix):
            prefix = forwarded_prefix.rstrip("/") + prefix
    if not _HOST.fullmatch(host):
        host = environ.get("SERVER_NAME") or "localhost"
        port = str(environ.get("SERVER_PORT") or "")
        if port and port != _DEFAULT_PORTS.get(scheme):
            host += f":{port}"
    return f"{scheme}://{host}{urllib.parse.quote(prefix, safe=_PATH_SAFE)}{path}"


def sync_paths(paths: str | Iterable[str]) -> tuple[str, ...]:
    """The sync paths to serve, checked: each starts with ``/`` and has
    no query, fragment, space or ``..``; duplicates (also up to a trailing
    slash) are dropped; at least one, at most 16.  A :class:`ValueError`
    names a bad one.

    >>> sync_paths("/sync")
    ('/sync',)
    >>> sync_paths(["/sync", "/syncml/", "/syncml"])
    ('/sync', '/syncml/')
    >>> sync_paths(["sync"])
    Traceback (most recent call last):
    ...
    ValueError: a sync path starts with / and has no query, space or '..': 'sync'
    """
    found: dict[str, str] = {}
    for path in [paths] if isinstance(paths, str) else list(paths):
        if not _SYNC_PATH.fullmatch(path) or "/../" in path + "/" or "//" in path:
            raise ValueError(f"a sync path starts with / and has no query, space or '..': {path!r}")
        found.setdefault(_path_key(path), path)
    if not found:
        raise ValueError("at least one sync path is needed")
    if len(found) > _MAX_PATHS:
        raise ValueError(f"at most {_MAX_PATHS} sync paths")
    return tuple(found.values())


def _path_key(path: str) -> str:
    """A path as matched: without its trailing slash (``/syncml`` is ``/syncml/``)."""
    return path.rstrip("/") or "/"


def make_app(server: SyncHandler, *, path: str | Iterable[str] = DEFAULT_PATHS, transcript_dir: str | None = None,
             log: logging.Logger | None = None, max_body: int = DEFAULT_MAX_BODY,
             client_timeout: float | None = DEFAULT_CLIENT_TIMEOUT, url_from_request: bool = False,
             trust_proxy: bool = False, clock: Callable[[], float] = time.time,
             timer: Callable[[], float] = time.monotonic) -> WSGIApplication:
    """A WSGI application serving ``server`` at ``path``: one path or
    several (:func:`sync_paths`; default :data:`DEFAULT_PATHS`).

    ``url_from_request``: the RespURI the engine gives is built from each
    request (:func:`request_url`): the app sets ``server.base_url`` to it
    before each call (under the lock that serializes them), so clients come
    back to the host, port and prefix they used, whatever the server
    listens on; else the engine's own ``base_url`` stays.  ``trust_proxy``:
    the request is from a reverse proxy: its ``X-Forwarded-Proto/Host/Prefix``
    make the URL and the last ``X-Forwarded-For`` address is the client's
    (failure counters, log lines); leave it off when clients can reach the
    server directly, since any client can send those headers.

    ``transcript_dir``: write the messages of each session the engine
    authenticated (its reply names a session), rendered as XML with the
    credentials redacted, to ``transcript_dir/<session>/NNN-request.xml`` /
    ``NNN-response.xml`` (files 0600, folders 0700); an exchange that fails
    is added to an existing session's transcript, never starts one.
    ``log``: where the per-message line goes (default the
    ``syncml_codec.server`` logger, at INFO).  ``client_timeout``: seconds
    the body may take to arrive, in total (None: no limit).  ``clock``
    (wall time, for the log) and ``timer`` (monotonic, for the deadline)
    are there for tests.

    >>> from wsgiref.util import setup_testing_defaults
    >>> class Echo:
    ...     def handle(self, body, content_type, session_id, remote=None):
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
    paths = sync_paths(path)
    served = {_path_key(p): p for p in paths}
    main = paths[0]  # named in the refusals
    wants_request = _takes_request(server)
    lock = threading.Lock()  # one message at a time per engine (and store connection)
    journal = Journal(logger, Transcripts(transcript_dir) if transcript_dir else None)

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = served.get(_path_key(environ.get("PATH_INFO", "") or "/"))
        if path is None:
            return _plain(start_response, "404 Not Found", f"no SyncML service here; POST to {main}")
        if environ.get("REQUEST_METHOD") != "POST":
            return _plain(start_response, "405 Method Not Allowed", f"POST a SyncML message to {path}",
                          [("Allow", "POST")])
        raw_type = environ.get("CONTENT_TYPE", "") or ""
        mime = raw_type.split(";", 1)[0].strip().lower()
        if mime not in CONTENT_TYPES:
            return _plain(start_response, "415 Unsupported Media Type",
                          "send " + " or ".join(CONTENT_TYPES))
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
        remote = environ.get("REMOTE_ADDR") or None
        if trust_proxy:
            remote = (environ.get("HTTP_X_FORWARDED_FOR") or "").rsplit(",", 1)[-1].strip() or remote
        base_url = request_url(environ, path, trust_proxy) if url_from_request else None
        extra = {"query": environ.get("QUERY_STRING", ""), "headers": request_headers(environ)} if wants_request else {}

        deadline = None if client_timeout is None else timer() + client_timeout
        try:
            body = _read_body(environ, length, deadline, timer)
        except _Late as late:
            logger.warning("request from %s: body not received within %g s (%d of %d bytes): dropped",
                           escape_log_text(str(remote)), client_timeout, late.received, length)
            return _plain(start_response, "408 Request Timeout",
                          f"the message did not arrive within {client_timeout:g} seconds")
        if len(body) < length:
            return _plain(start_response, "400 Bad Request", "the body is shorter than its Content-Length")
        started = time.perf_counter()  # ms in the log: the engine's work, not the client's upload
        try:
            with lock:  # only the engine call: reading and recording run outside
                if base_url is not None:
                    server.base_url = base_url  # type: ignore[attr-defined]  # (see url_from_request)
                reply = server.handle(body, mime, session_id, remote=remote, **extra)
        except Exception as exc:  # the engine answers protocol errors itself: this is a bug or a broken store
            if isinstance(exc, SyncMLError) and getattr(exc, "status", 500) < 500:
                text, http = f"malformed SyncML message: {exc}", "400 Bad Request"
            else:
                logger.exception("engine failure on a message of session %s from %s (%d bytes)",
                                 escape_log_text(str(session_id)), escape_log_text(str(remote)), length)
                text, http = "internal error", "500 Internal Server Error"
            ms = (time.perf_counter() - started) * 1000
            journal.record(clock(), session_id, body, mime, None, None, http.split()[0], ms, remote=remote,
                           transcript=session_id, existing_only=True)
            return _plain(start_response, http, text)
        ms = (time.perf_counter() - started) * 1000

        code = int(getattr(reply, "http_status", 200) or 200)
        http = f"{code} {_REASONS.get(code, 'Error')}"
        summary = getattr(reply, "summary", None)
        journal.record(clock(), reply.session_id or session_id, body, mime, reply.body, reply.content_type,
                       str(code), ms, summary if isinstance(summary, Mapping) else None, remote=remote,
                       transcript=reply.session_id)
        start_response(http, [("Content-Type", reply.content_type), ("Content-Length", str(len(reply.body))),
                              ("Cache-Control", "no-store")])
        return [reply.body]

    return app

