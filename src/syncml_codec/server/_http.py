"""The HTTP server ``syncml serve`` runs: waitress serving the WSGI app of
:mod:`.wsgi`, with a total deadline per request and a clean shutdown.

Why waitress (a runtime dependency) and not ``wsgiref`` or a hand-written
threaded server: waitress is a well-kept, widely deployed pure-Python
production server (Pylons project; no C extension to build) whose design
fits a server that must not be stalled by one client.  Its I/O loop (one
thread, ``poll``) reads each request, headers and body, into a buffer
before a worker thread sees it, so a slow or silent client costs one
connection slot and its buffer, never a worker thread and never the engine;
it has connection, header and body limits, keep-alive and pipelining, and
a bounded pool of worker threads.  The threads only run the application:
the engine itself runs one message at a time under the application's lock
(see :func:`~syncml_codec.server.make_app`).

What waitress lacks, added here by subclassing its channel and server
(no patching):

* a **total deadline per request**.  Waitress's ``channel_timeout`` only
  counts silence, so a client sending a byte every few seconds would keep
  its request open forever.  Here a connection whose request (headers and
  body) has not fully arrived ``client_timeout`` seconds after its first
  byte gets ``408 Request Timeout`` and is closed; a connection that sends
  nothing at all (or idles between requests) is closed after
  ``client_timeout`` seconds; so is one that does not take its answer
  within ``client_timeout`` seconds (a client reading slowly).  The checks
  run each second in the I/O loop, so a request is cut between
  ``client_timeout`` and ``client_timeout + 1`` seconds (plus the loop's
  poll interval).  A connection slot is thus held at most about twice
  ``client_timeout`` per request by a client that does not make progress.
* a **clean shutdown**: once ``stop()`` says so, :meth:`HTTPServer.serve`
  stops accepting connections, closes the idle ones, and lets every
  request in flight finish: one still arriving is received (or cut at its
  deadline), one received is answered and the answer sent; that takes at
  most about ``client_timeout`` seconds for the network part, unless
  ``give_up()`` (``syncml serve``: a second signal) cuts it short.  Then
  the worker threads end, after the request they are serving.

Defaults (``syncml serve`` flags): 4 worker threads (``--threads``), 100
open connections (``--connection-limit``; past it, new connections wait in
the kernel's backlog of 1024 until one closes), ``client_timeout`` 30 s
(``--client-timeout``), request body at most
:data:`~syncml_codec.server.DEFAULT_MAX_BODY` (4 MiB, refused with 413
before it is buffered), request headers at most 64 KiB.  Bodies over
512 KiB are buffered in an anonymous temporary file (waitress's
``inbuf_overflow``), smaller ones in memory.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

from ._journal import LOGGER, escape_log_text
from .wsgi import DEFAULT_CLIENT_TIMEOUT, DEFAULT_MAX_BODY

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

__all__ = ["DEFAULT_CONNECTION_LIMIT", "DEFAULT_THREADS", "HTTPServer"]

#: worker threads running the application (the engine runs one message at a time whatever this is)
DEFAULT_THREADS = 4
#: open connections at most; more wait in the kernel's listen backlog
DEFAULT_CONNECTION_LIMIT = 100
_MAX_HEADERS = 64 * 1024
_POLL = 0.25  # seconds: how often the loop looks at stop() and give_up()


class _Channel(HTTPChannel):
    """A connection that remembers when the request it is receiving began
    (``request_started``, monotonic seconds; None between requests), and
    since when an answer waits for the client to take it
    (``reply_pending``, set by the maintenance)."""

    request_started: float | None = None
    reply_pending: float | None = None

    def received(self, data: bytes) -> bool:
        before = self.request
        result = super().received(data)
        if self.request is None:
            self.request_started = None
        elif self.request is not before or self.request_started is None:
            self.request_started = time.monotonic()  # a new request began in this data
        return result

    def drop_late(self, seconds: float) -> None:
        """Answer 408 to the request being received, then close (called in
        the I/O loop, and only while no request of this connection is being
        served, so nothing else writes to it)."""
        body = f"the request did not arrive within {seconds:g} seconds\n".encode()
        data = (b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
                b"Content-Type: text/plain; charset=utf-8\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        with self.requests_lock:  # type: ignore[attr-defined]  # (missing from the stubs)
            if self.request is not None:
                self.request.close()
                self.request = None
            self.request_started = None
        with self.outbuf_lock:  # as waitress's own send_continue queues its line
            self.outbufs[-1].append(data)
            self.current_outbuf_count += len(data)
            self.total_outbufs_len += len(data)
        self.close_when_flushed = True  # the loop sends it, then closes

    @property
    def in_flight(self) -> bool:
        """A request is arriving, or received and queued or being served,
        or its answer is still being sent."""
        if self.requests or self.total_outbufs_len:
            return True
        return self.request_started is not None and not (self.will_close or self.close_when_flushed)


class _Server(TcpWSGIServer):
    channel_class = _Channel
    client_timeout = DEFAULT_CLIENT_TIMEOUT

    def maintenance(self, now: float) -> None:
        """Each ``cleanup_interval`` (1 s): cut requests past their total
        deadline (408), close connections silent for ``client_timeout`` or
        that have not taken their answer within it.  (Replaces waitress's,
        which only closes silent ones, after its own timeout.)"""
        idle_cutoff = now - self.client_timeout  # last_activity is wall time
        late_cutoff = time.monotonic() - self.client_timeout
        channels: dict[int, Any] = self.active_channels  # type: ignore[assignment]  # (the stub says one channel)
        for channel in list(channels.values()):
            if not isinstance(channel, _Channel) or channel.requests or channel.will_close:
                continue
            if channel.total_outbufs_len:  # an answer (or our 408) not yet taken by the client
                if channel.reply_pending is None:
                    channel.reply_pending = time.monotonic()
                elif channel.reply_pending < late_cutoff:
                    LOGGER.warning("client %s did not take its answer within %g s: connection closed",
                                   escape_log_text(str(channel.addr[0])), self.client_timeout)
                    # closed now, the rest of the answer discarded (will_close would first flush
                    # whatever the socket takes: all of it, if the client starts reading)
                    channel.handle_close()
                continue
            channel.reply_pending = None
            if channel.close_when_flushed:
                continue
            if channel.request_started is not None:
                if channel.request_started < late_cutoff:
                    LOGGER.warning("request from %s not received within %g s: dropped (408)",
                                   escape_log_text(str(channel.addr[0])), self.client_timeout)
                    channel.drop_late(self.client_timeout)
            elif channel.last_activity < idle_cutoff:
                channel.will_close = True


class HTTPServer:
    """Listens on ``host``:``port`` (``port`` 0 picks a free one: see
    :attr:`port`) as soon as it is made; :meth:`serve` runs a WSGI app until
    told to stop.  ``host`` with a colon is IPv6.

    ``REMOTE_ADDR`` is the peer's address; behind a reverse proxy, that is
    the proxy's, which would put every client under one failure counter:
    ``trusted_proxy`` (the proxy's address, ``"*"`` for any) makes the last
    ``X-Forwarded-For`` address of a request from it the client's, and its
    ``X-Forwarded-Proto`` and ``X-Forwarded-Host`` the request's scheme and
    host (so the app's URL for the client is the proxy's).  Without it,
    proxy headers are removed from the environment.

    >>> server = HTTPServer("127.0.0.1", 0)
    >>> server.port > 0
    True
    >>> server.serve(lambda environ, start_response: [], stop=lambda: True)
    0
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 8080, *, threads: int = DEFAULT_THREADS,
                 connection_limit: int = DEFAULT_CONNECTION_LIMIT,
                 client_timeout: float = DEFAULT_CLIENT_TIMEOUT, max_body: int = DEFAULT_MAX_BODY,
                 trusted_proxy: str | None = None) -> None:
        if threads < 1 or connection_limit < 1 or not client_timeout > 0:
            raise ValueError("threads and connection_limit must be at least 1, client_timeout above 0")
        self.threads = threads
        self.connection_limit = connection_limit
        self.client_timeout = client_timeout
        self.max_body = max_body
        self.trusted_proxy = trusted_proxy
        self._socket = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        try:
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._socket.bind((host, port))
            self._socket.listen(1024)  # clients may connect from now on; they are served once serve() runs
        except BaseException:
            self._socket.close()
            raise
        address = self._socket.getsockname()
        self.host: str = address[0]
        #: the port listened on (the real one when 0 was asked for)
        self.port: int = address[1]

    def serve(self, app: WSGIApplication, stop: Callable[[], bool],
              give_up: Callable[[], bool] = lambda: False) -> int:
        """Serve ``app`` until ``stop()`` is true, then shut down cleanly
        (see the module's doc; ``give_up()`` true cuts the wait short).
        Returns how many requests received in full were left unanswered
        (0 unless the shutdown was cut short)."""
        socket_map: dict[int, Any] = {}
        dispatcher = ThreadedTaskDispatcher()
        dispatcher.set_thread_count(self.threads)
        ready = time.monotonic() + 1
        while dispatcher.active_count and time.monotonic() < ready:  # let the workers reach their queue first
            time.sleep(0.005)  # (else the first request looks like a backlog: "Task queue depth is 1")
        # waitress's connection_limit counts every socket of its loop: the listening one and its trigger too
        adj = Adjustments(sockets=[self._socket], threads=self.threads, connection_limit=self.connection_limit + 2,
                          max_request_body_size=self.max_body, max_request_header_size=_MAX_HEADERS,
                          cleanup_interval=1, asyncore_loop_timeout=1, asyncore_use_poll=True,
                          channel_timeout=max(1, int(self.client_timeout + 0.999)), log_socket_errors=False,
                          ident="syncml-codec", expose_tracebacks=False, clear_untrusted_proxy_headers=True,
                          **self._proxy_settings())
        sockinfo = (self._socket.family, self._socket.type, self._socket.proto, self._socket.getsockname())
        server = _Server(app, socket_map, True, self._socket, dispatcher=dispatcher, adj=adj,
                         sockinfo=sockinfo, bind_socket=False)
        server.client_timeout = self.client_timeout
        try:
            while not stop():
                wasyncore.loop(timeout=_POLL, map=socket_map, use_poll=True, count=1)
            # stop accepting (the listening socket only: the workers still wake the loop through its trigger)
            wasyncore.dispatcher.close(server)
            wasyncore.loop(timeout=0, map=socket_map, use_poll=True, count=1)  # take in what has arrived
            channels = [c for c in socket_map.values() if isinstance(c, _Channel)]
            for channel in channels:
                if not channel.in_flight:
                    channel.will_close = True  # idle: closed on the next pass
            # every request in flight is answered, or cut by its deadline (which began before now)
            limit = time.monotonic() + self.client_timeout + 2
            while not give_up() and time.monotonic() < limit and any(c.in_flight for c in channels):
                wasyncore.loop(timeout=0.1, map=socket_map, use_poll=True, count=1)
                server.maintenance(time.time())
            unanswered = sum(len(c.requests) for c in channels if c.connected)
        finally:
            wasyncore.close_all(socket_map, ignore_all=True)
            self._socket.close()
            # the threads end once their task is done (tasks still queued are cancelled); a task
            # still running is one past the wait above: it is waited for too, unless give_up()
            dispatcher.shutdown(cancel_pending=True, timeout=1)
            while dispatcher.threads and not give_up():
                time.sleep(0.05)
        if unanswered:
            LOGGER.warning("stopped with %d request(s) unanswered", unanswered)
        if dispatcher.threads:
            LOGGER.warning("%d worker thread(s) still running at exit", len(dispatcher.threads))
        return unanswered

    def _proxy_settings(self) -> dict[str, Any]:
        if not self.trusted_proxy:
            return {}
        return {"trusted_proxy": self.trusted_proxy, "trusted_proxy_count": 1,
                "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"}}

    def close(self) -> None:
        """Close the listening socket (:meth:`serve` does when it returns)."""
        self._socket.close()

