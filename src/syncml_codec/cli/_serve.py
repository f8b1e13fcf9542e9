"""``syncml serve``: the sync server on an SQLite or PostgreSQL database
(its accounts: :mod:`._accounts`).

Issue 13: ``--auth-policy`` is the server's ``basic-or-md5``, ``basic`` or
``md5`` (an account's own, ``syncml user policy``, wins); ``--allow`` is
the access list (only those accounts, or ``@domain`` for a domain's, are
served).

The HTTP server is waitress (:class:`syncml_codec.server.HTTPServer`): its
I/O loop buffers each request before a worker thread runs the application,
and the engine runs one message at a time under the application's lock, so
a slow or silent client never holds the others.  ``--client-timeout`` is a
total deadline per request (408, then the connection is closed), and also
how long a silent connection stays open; ``--threads`` and
``--connection-limit`` bound the work.  SIGINT/SIGTERM stop it cleanly: no
new connections, every request already received is answered (its store
transaction committed), then the database is closed; a second signal stops
waiting for requests still being answered.

The RespURI given to clients is the URL of their own request (its ``Host``
header), not the address listened on: ``--host 0.0.0.0`` serves every
interface and each client comes back the way it came; ``--url`` fixes it
instead (a proxy's public URL).  A flag with a bad value (a port out of
range, a limit that is not a positive number, a database that cannot be
opened) ends ``syncml serve`` before it listens, with one line and exit
status 2, as argparse's own usage errors.

Every log line is one line: client-supplied text in a message is escaped
(CR, LF and other control characters), and the lines of a traceback are
indented, so nothing a client sends can forge a line at the left margin.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from ..mail import server_mail
from ..server import (
    CONFLICT_POLICIES,
    DEFAULT_CLIENT_TIMEOUT,
    DEFAULT_CONNECTION_LIMIT,
    DEFAULT_PATHS,
    DEFAULT_THREADS,
    LIMIT_SETTINGS,
    HTTPServer,
    LogFormatter,
    check_base_url,
    check_database,
    make_app,
    sync_paths,
)
from ..store import AUTH_POLICIES, display_database, open_store
from ..store.backups import BackupArea, default_backup_dir
from ._common import CommandError
from ._db import DB_HELP, DEFAULT_DB

if TYPE_CHECKING:
    pass

__all__ = ["register"]

def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0", "::"):  # listening everywhere: name this machine
        return socket.gethostname()
    return f"[{host}]" if ":" in host else host


class _BadOption(Exception):
    """A flag with a value ``syncml serve`` cannot run with: one line, exit status 2."""


def _number(flag: str, text: str, kind: type, high: int | None = None) -> Any:
    """``text`` as a ``kind`` from 0 to ``high``, or above 0 when there is no
    ``high``; else :class:`_BadOption`."""
    try:
        value = kind(text.strip())
    except ValueError:
        raise _BadOption(f"{flag} must be a {'whole ' if kind is int else ''}number, not {text!r}") from None
    if high is not None and not 0 <= value <= high:
        raise _BadOption(f"{flag} must be from 0 to {high}, not {text.strip()}")
    if high is None and not 0 < value < float("inf"):  # (nan too)
        raise _BadOption(f"{flag} must be positive, not {text.strip()}")
    return value


def _limits(args: argparse.Namespace) -> Any:
    from ..engine import ServerLimits

    return ServerLimits(**{limit.field: _number(limit.flag, getattr(args, limit.field), limit.kind)
                           for limit in LIMIT_SETTINGS if getattr(args, limit.field) is not None})


def _serve_options(args: argparse.Namespace) -> tuple[int, int, int, float, Any]:
    """The flags' values checked, before anything is opened: port, threads,
    connection limit, client timeout, the engine's limits."""
    port = _number("--port", args.port, int, high=65535)
    threads = _number("--threads", args.threads, int)
    connections = _number("--connection-limit", args.connection_limit, int)
    timeout = _number("--client-timeout", args.client_timeout, float)
    limits = _limits(args)
    try:
        args.path = sync_paths(args.path) if args.path else DEFAULT_PATHS
    except ValueError as exc:
        raise _BadOption(f"--path: {exc}") from None
    if args.url and check_base_url(args.url):
        raise _BadOption(f"--url {check_base_url(args.url)}")
    if args.transcripts and Path(args.transcripts).exists() and not Path(args.transcripts).is_dir():
        raise _BadOption(f"--transcripts {args.transcripts}: not a folder")
    if args.backup_dir and Path(args.backup_dir).exists() and not Path(args.backup_dir).is_dir():
        raise _BadOption(f"--backup-dir {args.backup_dir}: not a folder")
    if args.maildir_root and not Path(args.maildir_root).is_dir():
        raise _BadOption(f"--maildir-root {args.maildir_root}: not a folder")
    problem = check_database(args.db)
    if problem:
        raise _BadOption(f"--db {display_database(args.db)}: {problem}")
    return port, threads, connections, timeout, limits


def _cmd_serve(args: argparse.Namespace) -> None:
    from ..engine import SyncServer  # the engine is only needed to serve

    try:
        port, threads, connections, timeout, limits = _serve_options(args)
        try:
            store = open_store(args.db)
        except Exception as exc:  # sqlite3.Error, a newer schema, a file that is no database, no server
            raise _BadOption(f"--db {display_database(args.db)}: {exc}") from None
    except _BadOption as exc:  # a usage error: exit status 2, as argparse's own
        print(f"syncml serve: {exc}", file=sys.stderr)
        raise SystemExit(2) from None

    logging.basicConfig(level=getattr(logging, args.log_level.upper()), stream=sys.stderr, force=True)
    logging.getLogger().handlers[0].setFormatter(LogFormatter())
    try:
        try:
            httpd = HTTPServer(args.host, port, threads=threads, connection_limit=connections,
                               client_timeout=timeout, trusted_proxy=args.trusted_proxy)
        except OSError as exc:
            raise CommandError(f"cannot listen on {args.host}:{port}: {exc.strerror or exc}") from None
        # no --url: the RespURI is rebuilt from each request's Host, never from the address listened on
        url = args.url or f"http://{_url_host(args.host)}:{httpd.port}{args.path[0]}"
        backup_dir = args.backup_dir or default_backup_dir(args.db)
        engine = SyncServer(store, clock=time.time, random_source=os.urandom, base_url=url,
                            conflict_policy=args.conflict_policy, limits=limits, auth_policy=args.auth_policy,
                            allowed=args.allow, backups=BackupArea(backup_dir) if backup_dir else None,
                            mail=server_mail(store.mail_imap, args.maildir_root, imap=args.imap))
        app = make_app(engine, path=args.path, transcript_dir=args.transcripts, client_timeout=timeout,
                       url_from_request=not args.url)

        stop: list[int] = []

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.append(signum)

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        print(f"syncml: serving {url} (database {display_database(args.db)}"
              + (f", transcripts in {args.transcripts}" if args.transcripts else "")
              + (f", backups in {backup_dir}" if backup_dir else ", backups off: no --backup-dir")
              + (f", mail in {args.maildir_root}" if args.maildir_root else "")
              + (", mail on IMAP ('syncml mail imap')" if args.imap else "") + ")", flush=True)
        try:
            httpd.serve(app, stop=lambda: bool(stop), give_up=lambda: len(stop) > 1)
        finally:
            httpd.close()
            close_mail = getattr(engine.mail, "close", None)
            if close_mail is not None:  # (the IMAP pool's idle connections, --imap)
                close_mail()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        print(f"syncml: stopped ({signal.Signals(stop[0]).name})" if stop else "syncml: stopped", flush=True)
    finally:
        store.close()


class _LimitsHelp(argparse.HelpFormatter):
    """Shows each limit's default from :class:`~syncml_codec.engine.ServerLimits`
    (the one source of them), importing the engine only when help is shown."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help
        if action.dest in {limit.field for limit in LIMIT_SETTINGS}:
            from ..engine import ServerLimits

            value = getattr(ServerLimits(), action.dest)
            text = f"{text} (default {value if isinstance(value, int) else f'{value:g}'})"
        return text


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the SyncML server",
                       description="Serve SyncML (XML and WBXML over HTTP POST at /sync, and IceWarp's "
                                   "/syncml/ and /syncml/index.html) from an SQLite or PostgreSQL database. "
                                   "Stops cleanly on Ctrl-C or SIGTERM.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", default="8080", help="TCP port (default 8080; 0 picks a free one)")
    p.add_argument("--db", default=DEFAULT_DB, metavar="DB", help=DB_HELP)
    p.add_argument("--transcripts", metavar="DIR",
                   help="write each session's messages as XML to DIR/<session>/NNN-request.xml ...")
    p.add_argument("--path", action="append", metavar="PATH",
                   help="a sync path to serve; repeat for several, the first is the one printed (default: "
                        + ", ".join(DEFAULT_PATHS) + ")")
    p.add_argument("--backup-dir", metavar="DIR",
                   help="where ?backup sync sessions write their files, a folder per account (default: beside an "
                        "SQLite database, syncml.db -> syncml-backups; with PostgreSQL none: backups refused)")
    p.add_argument("--maildir-root", metavar="DIR",
                   help="a folder of Maildirs, DIR/<account>/ with Maildir++ subfolders: serves the Mail "
                        "datastores (Mail or inbox, Mail/<Folder>; default: none)")
    p.add_argument("--imap", action="store_true",
                   help="serve the Mail datastores of each account from its IMAP server, as 'syncml mail imap "
                        "USER URL' set it (pooled connections); accounts without IMAP settings use "
                        "--maildir-root, if given, else have no Mail")
    p.add_argument("--url", help="the sync URL clients use, for the RespURI (default: the URL of each request, "
                                 "from its Host header)")
    p.add_argument("--conflict-policy", default="server-wins",
                   choices=CONFLICT_POLICIES,
                   help="when both sides changed an item (default server-wins; the loser is kept in the "
                        "conflict log)")
    p.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"),
                   help="info: one line per message (default)")
    p.add_argument("--client-timeout", default=f"{DEFAULT_CLIENT_TIMEOUT:g}", metavar="S",
                   help="a request (headers and body) must arrive in full within S seconds of its first byte, "
                        "else 408 and the connection is closed; a connection that sends nothing is closed "
                        f"after S seconds (default {DEFAULT_CLIENT_TIMEOUT:g})")
    p.add_argument("--threads", default=str(DEFAULT_THREADS), metavar="N",
                   help=f"worker threads running requests; the engine handles one message at a time "
                        f"(default {DEFAULT_THREADS})")
    p.add_argument("--connection-limit", default=str(DEFAULT_CONNECTION_LIMIT), metavar="N",
                   help=f"open connections at most; more wait until one closes (default {DEFAULT_CONNECTION_LIMIT})")
    p.add_argument("--trusted-proxy", metavar="ADDR",
                   help="the address of a reverse proxy in front of this server: the X-Forwarded-For it sends "
                        "names the client (for failure counters and logs), its X-Forwarded-Proto and "
                        "X-Forwarded-Host the URL given to clients; default: none, the peer is the client")
    p.add_argument("--auth-policy", default="basic-or-md5", choices=AUTH_POLICIES,
                   help="the authentication schemes accepted: basic-or-md5 (default), basic or md5; a client "
                        "using the other one is challenged again with the required one, then rejected (403); "
                        "an account's own policy ('syncml user policy') wins")
    p.add_argument("--allow", action="append", metavar="NAME",
                   help="serve only these accounts (repeatable; @DOMAIN: every account of a domain; "
                        "NAME may list several, separated by commas); default: every account")
    limits = p.add_argument_group("limits", "what one client may cost the server (README: Security)")
    for limit in LIMIT_SETTINGS:  # checked by _serve_options (one line, exit 2), as the flags above
        limits.add_argument(limit.flag, dest=limit.field, metavar="N" if limit.kind is int else "S",
                            help=limit.help)
    p.formatter_class = _LimitsHelp
    p.set_defaults(func=_cmd_serve)
