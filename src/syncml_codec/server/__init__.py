"""Layer 5: the HTTP front.  :func:`make_app` makes a WSGI application of a
sans-I/O sync engine; :class:`HTTPServer` (waitress) serves it, as ``syncml
serve`` does; :data:`LOGGER` is where the per-message lines go."""

from ._http import DEFAULT_CONNECTION_LIMIT, DEFAULT_THREADS, HTTPServer
from ._journal import LOGGER, escape_log_text
from .wsgi import CONTENT_TYPES, DEFAULT_CLIENT_TIMEOUT, DEFAULT_MAX_BODY, Reply, SyncHandler, make_app

__all__ = ["CONTENT_TYPES", "DEFAULT_CLIENT_TIMEOUT", "DEFAULT_CONNECTION_LIMIT", "DEFAULT_MAX_BODY",
           "DEFAULT_THREADS", "LOGGER", "HTTPServer", "Reply", "SyncHandler", "escape_log_text", "make_app"]
