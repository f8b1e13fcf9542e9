"""The app factory: :func:`create_app` builds the WSGI application from
environment variables, for a WSGI server that imports it::

    SYNCML_DB=/var/lib/syncml/syncml.db gunicorn 'syncml_codec.server:create_app()'

The settings (:data:`SETTINGS` lists them with their meaning; every one is
optional):

* ``SYNCML_DB``: the database: an SQLite file (a path or ``sqlite:///PATH``;
  default ``syncml.db`` in the working directory, created if missing) or a
  PostgreSQL URL (``postgresql://USER:PASSWORD@HOST/DATABASE``, with the
  ``postgresql`` extra; the schema is created if missing).  ``syncml user
  add --db`` adds accounts.  A URL's password is never shown.
* ``SYNCML_BASE_URL``: the sync URL clients use, for the RespURI.  Unset,
  the RespURI is rebuilt from each request (its ``Host``, scheme and
  ``SCRIPT_NAME``), so clients come back the way they came.
* ``SYNCML_PATHS``: the sync paths served, separated by commas (default
  ``/sync,/syncml/,/syncml/index.html``: ours and IceWarp's).
* ``SYNCML_TRUST_PROXY``: ``1`` behind a reverse proxy that sets
  ``X-Forwarded-Proto``, ``X-Forwarded-Host``, ``X-Forwarded-Prefix`` and
  ``X-Forwarded-For``: the URL is rebuilt from them and the last
  ``X-Forwarded-For`` address is the client's.  ``0`` (default): they are
  ignored (any client can send them).
* ``SYNCML_LOG_LEVEL``: debug, info (default: one line per message),
  warning or error.  The lines go to stderr unless the host application
  has configured logging (see :mod:`._logging`).
* ``SYNCML_TRANSCRIPTS``: a folder for each session's messages as XML.
* ``SYNCML_BACKUP_DIR``: the backup area, where sessions whose sync URL
  has ``?backup`` write their files (a folder per account; default beside
  an SQLite database, ``syncml.db`` -> ``syncml-backups``; none with
  PostgreSQL: such sessions are refused).
* ``SYNCML_MAILDIR_ROOT``: a folder of Maildirs, one per account
  (``DIR/<account>/``, Maildir++ subfolders): the accounts' ``Mail``
  datastores (default: none, ``Mail`` is not found).
* ``SYNCML_IMAP``: 1 serves each account's ``Mail`` datastores from its
  IMAP server (``syncml mail imap USER URL``; pooled connections per
  process); accounts without IMAP settings use ``SYNCML_MAILDIR_ROOT``.
* ``SYNCML_CONFLICT_POLICY``: server-wins (default), client-wins,
  newer-wins, duplicate or merge.
* ``SYNCML_CLIENT_TIMEOUT``: seconds a request body may take to arrive
  (default 30).
* ``SYNCML_AUTH_POLICY``: basic-or-md5 (default), basic or md5: the
  authentication schemes accepted (an account's own policy,
  ``syncml user policy``, wins).
* ``SYNCML_ALLOW``: the access list: only these accounts are served (names
  and ``@domain`` entries, separated by commas or blanks; default: every
  account).
* the engine's limits, as ``syncml serve`` has them
  (:data:`LIMIT_SETTINGS`): ``SYNCML_MAX_OBJECT_SIZE``, ... .

A bad value raises :class:`ConfigError`, whose message names the variable.

Processes: run as many as you like (``gunicorn -w 4``): on one host with
SQLite, or on several sharing a database server.  Sessions live in the store (issue 12), so any
worker serves any message of any session, also behind a proxy that opens a
connection per request; within a process the engine runs one message at a
time (``--threads`` only help with slow clients).  SQLite is shared by the
workers of one host; it serializes their writes.  The database is opened in
the process that serves (at its first request), never carried over a
``fork``, so ``--preload`` is safe.
"""

from __future__ import annotations

import os
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..mail import server_mail
from ..store import AUTH_POLICIES, database_path, display_database, open_store
from ..store.backups import BackupArea, default_backup_dir
from ._logging import LOG_LEVELS, install_log_handler
from .wsgi import DEFAULT_CLIENT_TIMEOUT, DEFAULT_PATHS, make_app, sync_paths

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from ..engine import Response, SyncServer
    from ..store import PostgresStore, SQLiteStore, Store

__all__ = ["CONFLICT_POLICIES", "LIMIT_SETTINGS", "SETTINGS", "ConfigError", "LimitSetting", "SyncApp",
           "check_base_url", "check_database", "create_app"]

DEFAULT_DB = "syncml.db"
#: the ``--conflict-policy`` / ``SYNCML_CONFLICT_POLICY`` values
CONFLICT_POLICIES = ("server-wins", "client-wins", "newer-wins", "duplicate", "merge")


class ConfigError(ValueError):
    """A setting with a value the server cannot run with; the message names
    the setting (the environment variable, or the ``syncml serve`` flag)."""


@dataclass(frozen=True)
class LimitSetting:
    """One of the engine's limits (a :class:`~syncml_codec.engine.ServerLimits`
    field) as a ``syncml serve`` flag and an environment variable."""

    flag: str
    field: str
    kind: type
    help: str

    @property
    def variable(self) -> str:
        """The environment variable: ``--max-sessions`` -> ``SYNCML_MAX_SESSIONS``."""
        return "SYNCML_" + self.flag[2:].upper().replace("-", "_")


#: the engine's limits: flag, ServerLimits field, type, what it bounds
LIMIT_SETTINGS: tuple[LimitSetting, ...] = (
    LimitSetting("--max-object-size", "max_obj_size", int,
                 "bytes of one item, whole or from MoreData chunks (413 above); announced as MaxObjSize"),
    LimitSetting("--max-msg-size", "max_msg_size", int,
                 "bytes of one message the server takes (clients split larger items); announced as MaxMsgSize"),
    LimitSetting("--max-pending-size", "max_pending_size", int, "bytes of unfinished MoreData items of one session"),
    LimitSetting("--sessions-per-device", "sessions_per_device", int,
                 "open sessions of one device (its oldest gives way)"),
    LimitSetting("--sessions-per-account", "sessions_per_account", int,
                 "open sessions of one account (its oldest gives way, never another account's)"),
    LimitSetting("--max-sessions", "max_sessions", int, "open sessions in all (a new one past it is answered 503)"),
    LimitSetting("--session-timeout", "session_timeout", float, "seconds a session may stay idle"),
    LimitSetting("--auth-failures", "auth_failures", int, "wrong credentials for one account before a lockout"),
    LimitSetting("--address-failures", "address_failures", int,
                 "wrong credentials from one address before a lockout"),
    LimitSetting("--lockout", "lockout", float, "seconds of the first lockout (doubled by each further failure)"),
    LimitSetting("--max-lockout", "max_lockout", float, "seconds a lockout lasts at most"),
)

#: every variable :func:`create_app` reads, and what it means
SETTINGS: dict[str, str] = {
    "SYNCML_DB": f"the database: an SQLite file, created if missing (default ./{DEFAULT_DB}), or a "
                 "postgresql://USER:PASSWORD@HOST/DATABASE URL",
    "SYNCML_BASE_URL": "the sync URL clients use, for the RespURI (default: rebuilt from each request)",
    "SYNCML_PATHS": "the sync paths served, separated by commas (default " + ",".join(DEFAULT_PATHS) + ")",
    "SYNCML_TRUST_PROXY": "1: use X-Forwarded-Proto/Host/Prefix/For from a reverse proxy (default 0)",
    "SYNCML_LOG_LEVEL": f"{', '.join(LOG_LEVELS)} (default info: one line per message)",
    "SYNCML_TRANSCRIPTS": "a folder for each authenticated session's messages as XML (default: none)",
    "SYNCML_BACKUP_DIR": "the folder of ?backup sessions' files (default: beside an SQLite database; none with "
                         "PostgreSQL)",
    "SYNCML_MAILDIR_ROOT": "a folder of Maildirs, DIR/<account>/, serving the Mail datastores (default: none)",
    "SYNCML_IMAP": "1: the accounts' Mail from their IMAP servers, set by 'syncml mail imap' (default 0)",
    "SYNCML_CONFLICT_POLICY": f"{', '.join(CONFLICT_POLICIES)} (default server-wins)",
    "SYNCML_CLIENT_TIMEOUT": f"seconds a request body may take to arrive (default {DEFAULT_CLIENT_TIMEOUT:g})",
    "SYNCML_AUTH_POLICY": f"{', '.join(AUTH_POLICIES)} (default basic-or-md5; an account's own policy wins)",
    "SYNCML_ALLOW": "the access list: account names and @domain entries, by commas or blanks (default: everyone)",
    **{limit.variable: limit.help for limit in LIMIT_SETTINGS},
}


def _positive(name: str, text: str, kind: type) -> Any:
    """``text`` as a positive ``kind`` (int or float), else a
    :class:`ConfigError` naming ``name``."""
    try:
        value = kind(text.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a {'whole ' if kind is int else ''}number, not {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise ConfigError(f"{name} must be positive, not {text.strip()}")
    return value


def check_database(spec: str) -> str | None:
    """Why ``spec`` cannot be the server's database (None: it can, as far
    as can be told without opening it): a URL of no database this server
    knows; for SQLite, its folder is missing or not writable (SQLite writes
    its journal beside it), or the file is not readable and writable.  A
    PostgreSQL URL is checked by connecting (:func:`create_app` does)."""
    try:
        path = database_path(spec)
    except ValueError as exc:
        return str(exc)
    if path is None or path == ":memory:":
        return None
    target = Path(path)
    if target.is_dir():
        return "is a folder"
    parent = target.resolve().parent
    if not parent.is_dir():
        return f"folder {parent} does not exist"
    if target.exists() and not os.access(target, os.R_OK | os.W_OK):
        return "cannot be read and written (permissions)"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"folder {parent} is not writable"
    return None


def _settings(config: Mapping[str, object] | None) -> dict[str, str]:
    values = {name: os.environ[name] for name in SETTINGS if name in os.environ}
    for name, value in (config or {}).items():
        if name not in SETTINGS:
            raise ConfigError(f"unknown setting {name} (known: {', '.join(SETTINGS)})")
        values[name] = ("1" if value else "0") if isinstance(value, bool) else str(value)
    return values


def check_base_url(url: str) -> str | None:
    """Why ``url`` cannot be the sync URL given to clients (None: it can):
    it must be an absolute http(s) URL without query or fragment.

    >>> check_base_url("https://sync.example.org/sync") is None
    True
    >>> check_base_url("sync.example.org")
    "must be an http(s) URL without query, like https://sync.example.org/sync, not 'sync.example.org'"
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        return f"must be an http(s) URL without query, like https://sync.example.org/sync, not {url!r}"
    return None


class _PerProcess:
    """The engine, made in the process that serves on its first message
    (a database connection must not cross a ``fork``: gunicorn ``--preload``
    makes the app in the master).  Called under the app's lock."""

    def __init__(self, make: Callable[[Store], SyncServer], db: str, base_url: str) -> None:
        self._make = make
        self._db = db
        self._pid: int | None = None
        self.store: SQLiteStore | PostgresStore | None = None
        self.engine: SyncServer | None = None
        self.base_url = base_url

    def handle(self, body: bytes, content_type: str, session_id: str | None,
               remote: str | None = None, *, query: str | None = None,
               headers: Mapping[str, str] | None = None) -> Response:
        if self._pid != os.getpid() or self.engine is None:
            self.store = open_store(self._db)  # (a store inherited over a fork is left alone)
            self.engine = self._make(self.store)
            self._pid = os.getpid()
        self.engine.base_url = self.base_url
        return self.engine.handle(body, content_type, session_id, remote=remote, query=query, headers=headers)


class SyncApp:
    """The WSGI application :func:`create_app` returns.  :attr:`db` is the
    database it serves; :meth:`close` closes it in this process (tests and
    embedders; a server exiting needs not call it: every message is
    committed before it is answered)."""

    def __init__(self, app: WSGIApplication, handler: _PerProcess, db: str) -> None:
        self._app = app
        self._handler = handler
        self.db = db

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return self._app(environ, start_response)

    def close(self) -> None:
        store, engine = self._handler.store, self._handler.engine
        self._handler.store, self._handler.engine = None, None
        close_mail = getattr(engine.mail, "close", None) if engine is not None else None
        if close_mail is not None:  # (the IMAP pool's idle connections, SYNCML_IMAP)
            close_mail()
        if store is not None:
            store.close()


def create_app(config: Mapping[str, object] | None = None) -> SyncApp:
    """The SyncML server as a WSGI application, configured by the
    environment variables of :data:`SETTINGS` (see the module's doc);
    ``config`` maps some of those names to values that take precedence
    over the environment.  Sets up the log lines (``SYNCML_LOG_LEVEL``).
    The database is created (schema included) here, so a bad path fails now,
    with a :class:`ConfigError` naming the variable.

    >>> app = create_app({"SYNCML_DB": ":memory:", "SYNCML_LOG_LEVEL": "warning"})
    >>> create_app({"SYNCML_MAX_SESSIONS": "none"})
    Traceback (most recent call last):
    ...
    syncml_codec.server._app.ConfigError: SYNCML_MAX_SESSIONS must be a whole number, not 'none'
    """
    from ..engine import ServerLimits, SyncServer  # (imported when an app is made, as by syncml serve)

    values = _settings(config)
    level = values.get("SYNCML_LOG_LEVEL", "info").strip().lower()
    if level not in LOG_LEVELS:
        raise ConfigError(f"SYNCML_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {level!r}")
    trust = values.get("SYNCML_TRUST_PROXY", "0").strip().lower()
    if trust not in ("0", "1", "false", "true", "no", "yes", ""):
        raise ConfigError(f"SYNCML_TRUST_PROXY must be 1 or 0, not {trust!r}")
    policy = values.get("SYNCML_CONFLICT_POLICY", "server-wins").strip()
    if policy not in CONFLICT_POLICIES:
        raise ConfigError(f"SYNCML_CONFLICT_POLICY must be one of {', '.join(CONFLICT_POLICIES)}, not {policy!r}")
    auth_policy = values.get("SYNCML_AUTH_POLICY", "basic-or-md5").strip().lower() or "basic-or-md5"
    if auth_policy not in AUTH_POLICIES:
        raise ConfigError(f"SYNCML_AUTH_POLICY must be one of {', '.join(AUTH_POLICIES)}, not {auth_policy!r}")
    allowed = values["SYNCML_ALLOW"].split() if values.get("SYNCML_ALLOW", "").strip() else None
    base_url = values.get("SYNCML_BASE_URL", "").strip() or None
    if base_url is not None and check_base_url(base_url):
        raise ConfigError(f"SYNCML_BASE_URL {check_base_url(base_url)}")
    timeout = _positive("SYNCML_CLIENT_TIMEOUT", values["SYNCML_CLIENT_TIMEOUT"], float) \
        if "SYNCML_CLIENT_TIMEOUT" in values else DEFAULT_CLIENT_TIMEOUT
    limits = ServerLimits(**{limit.field: _positive(limit.variable, values[limit.variable], limit.kind)
                             for limit in LIMIT_SETTINGS if limit.variable in values})
    try:
        paths = sync_paths([p.strip() for p in values["SYNCML_PATHS"].split(",") if p.strip()]) \
            if values.get("SYNCML_PATHS", "").strip() else DEFAULT_PATHS
    except ValueError as exc:
        raise ConfigError(f"SYNCML_PATHS: {exc}") from None
    transcripts = values.get("SYNCML_TRANSCRIPTS") or None
    if transcripts is not None and Path(transcripts).exists() and not Path(transcripts).is_dir():
        raise ConfigError(f"SYNCML_TRANSCRIPTS={transcripts}: not a folder")
    db = values.get("SYNCML_DB") or DEFAULT_DB
    backup_dir = values.get("SYNCML_BACKUP_DIR") or default_backup_dir(db)
    if backup_dir is not None and Path(backup_dir).exists() and not Path(backup_dir).is_dir():
        raise ConfigError(f"SYNCML_BACKUP_DIR={backup_dir}: not a folder")
    maildir_root = values.get("SYNCML_MAILDIR_ROOT") or None
    if maildir_root is not None and not Path(maildir_root).is_dir():
        raise ConfigError(f"SYNCML_MAILDIR_ROOT={maildir_root}: not a folder")
    imap = values.get("SYNCML_IMAP", "0").strip().lower()
    if imap not in ("", "0", "1", "true", "false", "yes", "no"):
        raise ConfigError(f"SYNCML_IMAP must be 1 or 0, not {imap!r}")
    problem = check_database(db)
    if problem:
        raise ConfigError(f"SYNCML_DB={display_database(db)}: {problem}")
    try:  # creates the database and its schema now: the error shows at start, not at the first sync
        open_store(db).close()
    except Exception as exc:  # sqlite3.Error, a newer schema, a file that is no database, no server
        raise ConfigError(f"SYNCML_DB={display_database(db)}: {exc}") from None
    install_log_handler(level)

    def make(store: Store) -> SyncServer:
        return SyncServer(store, clock=time.time, random_source=os.urandom, conflict_policy=policy,
                          limits=limits, base_url=base_url or "", auth_policy=auth_policy, allowed=allowed,
                          backups=BackupArea(backup_dir) if backup_dir else None,
                          mail=server_mail(store.mail_imap, maildir_root, imap=imap in ("1", "true", "yes")))

    handler = _PerProcess(make, db, base_url or "")
    app = make_app(handler, path=paths, transcript_dir=transcripts, client_timeout=timeout,
                   url_from_request=base_url is None, trust_proxy=trust in ("1", "true", "yes"))
    return SyncApp(app, handler, db)
