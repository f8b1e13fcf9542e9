"""``syncml serve`` (the sync server on an SQLite database) and ``syncml
user add|list`` (its accounts).

The HTTP server is ``wsgiref``'s, run one request at a time in the main
thread: SyncML clients send one message and wait for the answer, the engine
and the store are not meant to run two messages at once, and a single thread
makes shutdown simple: SIGINT/SIGTERM set a flag, the request in progress is
answered (its store transaction committed), then the socket and the
database are closed.  A slow client cannot hold the server for more than
``--client-timeout`` seconds.  For heavier use, mount
:func:`syncml_codec.server.make_app` in a real WSGI server.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import signal
import socket
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from ..server import make_app
from ..server._journal import LOGGER
from ..store import SQLiteStore
from ._main import CommandError

__all__ = ["register"]

DEFAULT_DB = "syncml.db"


class _Handler(WSGIRequestHandler):
    """wsgiref's handler, with its access log sent to our logger (DEBUG):
    the structured line per message says more."""

    timeout = 30.0

    def log_message(self, format: str, *args: Any) -> None:
        LOGGER.debug("%s %s", self.address_string(), format % args)


class _Server(WSGIServer):
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that hangs up or times out mid-request: one line, no traceback
        exc = sys.exc_info()[1]
        LOGGER.warning("connection from %s failed: %s", client_address[0] if client_address else "?",
                       exc or "unknown error")


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Formatter(logging.Formatter):
    """INFO lines (the per-message records) as they are; others with their level."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return text if record.levelno == logging.INFO else f"{record.levelname}: {text}"


def _open_store(path: str, must_exist: bool = False) -> SQLiteStore:
    if path != ":memory:":
        if must_exist and not Path(path).is_file():
            raise CommandError(f"{path}: no such database (syncml user add creates it)")
        parent = Path(path).resolve().parent
        if not parent.is_dir():
            raise CommandError(f"{path}: folder {parent} does not exist")
    try:
        return SQLiteStore(path)
    except Exception as exc:  # sqlite3.Error, a newer schema, a file that is no database
        raise CommandError(f"{path}: {exc}") from None


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0", "::"):  # listening everywhere: name this machine
        return socket.gethostname()
    return f"[{host}]" if ":" in host else host


def _cmd_serve(args: argparse.Namespace) -> None:
    from ..engine import SyncServer  # the engine is only needed to serve

    logging.basicConfig(level=getattr(logging, args.log_level.upper()), stream=sys.stderr, force=True)
    logging.getLogger().handlers[0].setFormatter(_Formatter("%(message)s"))

    store = _open_store(args.db)
    try:
        server_class = _Server6 if ":" in args.host else _Server
        try:
            httpd = server_class((args.host, args.port), _Handler)
        except OSError as exc:
            raise CommandError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
        _Handler.timeout = args.client_timeout
        port = httpd.server_address[1]
        url = args.url or f"http://{_url_host(args.host)}:{port}/sync"
        engine = SyncServer(store, clock=time.time, random_source=os.urandom, base_url=url,
                            conflict_policy=args.conflict_policy)
        httpd.set_app(make_app(engine, transcript_dir=args.transcripts))

        stop: list[int] = []

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.append(signum)

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        httpd.timeout = 0.5  # how often the loop looks at the stop flag
        print(f"syncml: serving {url} (database {args.db}"
              + (f", transcripts in {args.transcripts}" if args.transcripts else "") + ")", flush=True)
        try:
            while not stop:
                httpd.handle_request()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            httpd.server_close()
        print(f"syncml: stopped ({signal.Signals(stop[0]).name})" if stop else "syncml: stopped", flush=True)
    finally:
        store.close()


def _password(args: argparse.Namespace) -> str:
    if args.password is not None:
        return str(args.password)
    if sys.stdin.isatty():
        first = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != first:
            raise CommandError("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")  # scripts: echo secret | syncml user add NAME


def _cmd_user_add(args: argparse.Namespace) -> None:
    name = args.name
    if not name or ":" in name or name.strip() != name:
        raise CommandError(f"bad user name {name!r} (no colon, no surrounding blanks)")
    password = _password(args)
    if not password:
        raise CommandError("empty password")
    store = _open_store(args.db)
    try:
        existed = name in store.users()
        store.add_user(name, password, basic_only=args.basic_only)
    finally:
        store.close()
    kind = " (basic auth only, scrypt hash)" if args.basic_only else ""
    print(f"{'changed the password of' if existed else 'added'} user {name}{kind} ({args.db})")


def _cmd_user_list(args: argparse.Namespace) -> None:
    store = _open_store(args.db, must_exist=True)
    try:
        accounts = [store.account(name) for name in store.users()]
    finally:
        store.close()
    for account in accounts:
        if account is not None:
            print(f"{account.name} (basic only)" if account.basic_only else account.name)


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the SyncML server",
                       description="Serve SyncML (XML and WBXML over HTTP POST at /sync) from an SQLite "
                                   "database. Stops cleanly on Ctrl-C or SIGTERM.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="TCP port (default 8080; 0 picks a free one)")
    p.add_argument("--db", default=DEFAULT_DB, metavar="PATH",
                   help=f"SQLite database, created if missing (default ./{DEFAULT_DB})")
    p.add_argument("--transcripts", metavar="DIR",
                   help="write each session's messages as XML to DIR/<session>/NNN-request.xml ...")
    p.add_argument("--url", help="the sync URL clients use, for the RespURI (default http://HOST:PORT/sync)")
    p.add_argument("--conflict-policy", default="server-wins",
                   choices=("server-wins", "client-wins", "newer-wins", "duplicate"),
                   help="when both sides changed an item (default server-wins; the loser is kept in the "
                        "conflict log)")
    p.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"),
                   help="info: one line per message (default)")
    p.add_argument("--client-timeout", type=float, default=30.0, metavar="S",
                   help="drop a client that sends nothing for S seconds (default 30)")
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser("user", help="manage the server's accounts",
                       description="Accounts of the sync server. Passwords are kept as b64(md5(user:password)), "
                                   "which MD5 auth needs and which is as good as the password to whoever reads "
                                   "the database; --basic-only keeps a salted scrypt hash instead and refuses "
                                   "MD5 auth for that account (use it only over HTTPS).")
    users = p.add_subparsers(dest="user_command", metavar="ACTION")
    users.required = True
    q = users.add_parser("add", help="add an account or change its password")
    q.add_argument("name", metavar="NAME")
    q.add_argument("--password", metavar="P",
                   help="the password (default: asked on a terminal, else the first line of stdin)")
    q.add_argument("--basic-only", action="store_true",
                   help="store a salted scrypt hash, not the MD5 hash: the account can log in with basic auth "
                        "only (its password travels in clear: use HTTPS)")
    q.add_argument("--db", default=DEFAULT_DB, metavar="PATH", help=f"database (default ./{DEFAULT_DB})")
    q.set_defaults(func=_cmd_user_add)
    q = users.add_parser("list", help="list the accounts")
    q.add_argument("--db", default=DEFAULT_DB, metavar="PATH", help=f"database (default ./{DEFAULT_DB})")
    q.set_defaults(func=_cmd_user_list)
