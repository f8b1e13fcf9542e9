"""Layer 5: the HTTP front.  :func:`create_app` builds the WSGI application
from environment variables (for gunicorn and other WSGI servers);
:func:`make_app` makes one of a given sans-I/O sync engine;
:class:`HTTPServer` (waitress) serves it, as ``syncml serve`` does;
:class:`HttpTransport` is the client side of ``syncml replay --url``;
:data:`LOGGER` is where the per-message lines go."""

from ._app import (
    CONFLICT_POLICIES,
    LIMIT_SETTINGS,
    SETTINGS,
    ConfigError,
    SyncApp,
    check_base_url,
    check_database,
    create_app,
)
from ._client import DEFAULT_REPLAY_TIMEOUT, HttpTransport, check_replay_url
from ._http import DEFAULT_CONNECTION_LIMIT, DEFAULT_THREADS, HTTPServer
from ._journal import LOGGER, escape_log_text
from ._logging import LogFormatter, install_log_handler
from .wsgi import (
    CONTENT_TYPES,
    DEFAULT_CLIENT_TIMEOUT,
    DEFAULT_MAX_BODY,
    DEFAULT_PATHS,
    Reply,
    SyncHandler,
    make_app,
    request_url,
    sync_paths,
)

__all__ = ["CONFLICT_POLICIES", "CONTENT_TYPES", "DEFAULT_CLIENT_TIMEOUT", "DEFAULT_CONNECTION_LIMIT",
           "DEFAULT_MAX_BODY", "DEFAULT_PATHS", "DEFAULT_REPLAY_TIMEOUT", "DEFAULT_THREADS", "LIMIT_SETTINGS",
           "LOGGER", "SETTINGS", "ConfigError", "HTTPServer", "HttpTransport", "LogFormatter", "Reply", "SyncApp",
           "SyncHandler", "check_base_url", "check_database", "check_replay_url", "create_app", "escape_log_text",
           "install_log_handler", "make_app", "request_url", "sync_paths"]
