"""``syncml serve`` (the sync server on an SQLite or PostgreSQL database),
``syncml user add|list|passwd|policy|delete|disable|enable`` (its accounts)
and ``syncml domain enable|disable|list`` (accounts named ``user@domain``,
a domain at once); each of the latter takes ``--json`` for a one-line JSON
result; a failure is one line on stderr and exit status 1 with or without
it.

Issue 13: ``--auth-policy`` (``serve``: the server's; ``user add``,
``user policy``: an account's own, which wins) is ``basic-or-md5``,
``basic`` or ``md5``; ``serve --allow`` is the access list (only those
accounts, or ``@domain`` for a domain's, are served); ``user add|passwd
--encryption-key`` sets the account's data-encryption secret for
``des;b64`` / ``3des;b64`` items (kept sealed, never printed).

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
import getpass
import json
import logging
import os
import signal
import socket
import sys
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

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
from ..store import AUTH_POLICIES, Account, account_domain, database_path, display_database, normal_domain, open_store
from ..store.backups import BackupArea, default_backup_dir
from ._common import CommandError

if TYPE_CHECKING:
    from ..store import PostgresStore, SQLiteStore

__all__ = ["register"]

DEFAULT_DB = "syncml.db"


def _open_store(spec: str, must_exist: bool = False) -> SQLiteStore | PostgresStore:
    """The store ``--db`` names (a path, ``sqlite:///PATH`` or a PostgreSQL
    URL), or a :class:`CommandError` of one line that never shows the URL's
    password.  ``must_exist``: an SQLite file that is missing is an error,
    not created (a PostgreSQL database is there or unreachable)."""
    shown = display_database(spec)
    try:
        path = database_path(spec)
    except ValueError as exc:
        raise CommandError(f"{shown}: {exc}") from None
    if path is not None and path != ":memory:":
        if must_exist and not Path(path).is_file():
            raise CommandError(f"{shown}: no such database (syncml user add creates it)")
        parent = Path(path).resolve().parent
        if not parent.is_dir():
            raise CommandError(f"{shown}: folder {parent} does not exist")
    try:
        return open_store(spec)
    except Exception as exc:  # sqlite3.Error, a newer schema, a file that is no database, no server
        raise CommandError(f"{shown}: {exc}") from None


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
                            allowed=args.allow, backups=BackupArea(backup_dir) if backup_dir else None)
        app = make_app(engine, path=args.path, transcript_dir=args.transcripts, client_timeout=timeout,
                       url_from_request=not args.url)

        stop: list[int] = []

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.append(signum)

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        print(f"syncml: serving {url} (database {display_database(args.db)}"
              + (f", transcripts in {args.transcripts}" if args.transcripts else "")
              + (f", backups in {backup_dir}" if backup_dir else ", backups off: no --backup-dir") + ")", flush=True)
        try:
            httpd.serve(app, stop=lambda: bool(stop), give_up=lambda: len(stop) > 1)
        finally:
            httpd.close()
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


def _password(args: argparse.Namespace) -> str:
    if args.password is not None:
        return str(args.password)
    if sys.stdin.isatty():
        first = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != first:
            raise CommandError("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")  # scripts: echo secret | syncml user add NAME


def _result(args: argparse.Namespace, text: str, **fields: Any) -> None:
    """The command's result: ``text``, or with ``--json`` the fields as one JSON line."""
    print(json.dumps(fields) if args.json else text)


def _existing(store: SQLiteStore | PostgresStore, name: str, db: str) -> Account:
    account = store.account(name)
    if account is None:
        raise CommandError(f"no user {name!r} in {display_database(db)}")
    return account


def _check_policy(policy: str | None, basic_only: bool) -> None:
    if policy == "md5" and basic_only:
        raise CommandError("a basic-only account cannot use MD5 (its password is kept as an scrypt hash)")


def _cmd_user_add(args: argparse.Namespace) -> None:
    db = display_database(args.db)
    name = args.name
    if not name or ":" in name or name.strip() != name:
        raise CommandError(f"bad user name {name!r} (no colon, no surrounding blanks)")
    _check_policy(args.auth_policy, args.basic_only)
    password = _password(args)
    if not password:
        raise CommandError("empty password")
    store = _open_store(args.db)
    try:
        existed = name in store.users()
        with store.transaction():
            store.add_user(name, password, basic_only=args.basic_only)
            if args.auth_policy is not None:
                store.set_auth_policy(name, args.auth_policy)
            if args.encryption_key is not None:
                store.set_data_key(name, args.encryption_key or None)
    finally:
        store.close()
    kind = " (basic auth only, scrypt hash)" if args.basic_only else ""
    _result(args, f"{'changed the password of' if existed else 'added'} user {name}{kind} ({db})",
            action="changed" if existed else "added", user=name, basic_only=args.basic_only, db=db,
            **_extras(args))


def _extras(args: argparse.Namespace) -> dict[str, Any]:
    """What ``--auth-policy`` and ``--encryption-key`` set, for the JSON result (never the key itself)."""
    extras: dict[str, Any] = {}
    if getattr(args, "auth_policy", None) is not None:
        extras["auth_policy"] = args.auth_policy
    if args.encryption_key is not None:
        extras["encryption_key"] = bool(args.encryption_key)
    return extras


def _cmd_user_passwd(args: argparse.Namespace) -> None:
    db = display_database(args.db)
    store = _open_store(args.db, must_exist=True)
    try:
        _existing(store, args.name, args.db)  # before the password is asked for
        password = _password(args)
        if not password:
            raise CommandError("empty password")
        with store.transaction():  # deleted meanwhile: not created again
            account = _existing(store, args.name, args.db)
            basic_only = args.basic_only or account.basic_only
            _check_policy(account.auth_policy, basic_only)
            store.add_user(args.name, password, basic_only=basic_only)
            if args.encryption_key is not None:
                store.set_data_key(args.name, args.encryption_key or None)
    finally:
        store.close()
    kind = " (basic auth only, scrypt hash)" if basic_only else ""
    _result(args, f"changed the password of user {args.name}{kind} ({db})",
            action="changed", user=args.name, basic_only=basic_only, db=db, **_extras(args))


def _cmd_user_policy(args: argparse.Namespace) -> None:
    db = display_database(args.db)
    policy = None if args.policy == "default" else args.policy
    store = _open_store(args.db, must_exist=True)
    try:
        with store.transaction():
            _check_policy(policy, _existing(store, args.name, args.db).basic_only)
            store.set_auth_policy(args.name, policy)
    finally:
        store.close()
    shown = policy or "the server's"
    _result(args, f"user {args.name} authenticates with {shown} policy ({db})", action="policy", user=args.name,
            auth_policy=policy, db=db)


def _cmd_user_delete(args: argparse.Namespace) -> None:
    db = display_database(args.db)
    store = _open_store(args.db, must_exist=True)
    try:
        if not store.delete_user(args.name):
            _existing(store, args.name, args.db)
    finally:
        store.close()
    _result(args, f"deleted user {args.name} with its devices and items ({db})",
            action="deleted", user=args.name, db=db)


def _set_disabled(args: argparse.Namespace, disabled: bool) -> None:
    db = display_database(args.db)
    store = _open_store(args.db, must_exist=True)
    try:
        if not store.set_disabled(args.name, disabled):
            _existing(store, args.name, args.db)
    finally:
        store.close()
    action = "disabled" if disabled else "enabled"
    _result(args, f"{action} user {args.name} ({db})", action=action, user=args.name, db=db)


def _cmd_user_disable(args: argparse.Namespace) -> None:
    _set_disabled(args, True)


def _cmd_user_enable(args: argparse.Namespace) -> None:
    _set_disabled(args, False)


def _cmd_user_list(args: argparse.Namespace) -> None:
    store = _open_store(args.db, must_exist=True)
    try:
        accounts = [a for a in (store.account(name) for name in store.users()) if a is not None]
    finally:
        store.close()
    if args.json:
        print(json.dumps({"users": [{"name": a.name, "basic_only": a.basic_only, "disabled": a.disabled,
                                     "auth_policy": a.auth_policy, "encryption_key": a.data_key is not None}
                                    for a in accounts], "db": display_database(args.db)}))
        return
    for account in accounts:
        notes = ", ".join(n for n, on in (("basic only", account.basic_only), ("disabled", account.disabled),
                                          (f"policy {account.auth_policy}", bool(account.auth_policy)),
                                          ("encryption key", account.data_key is not None)) if on)
        print(f"{account.name} ({notes})" if notes else account.name)


# -- domains ------------------------------------------------------------------
def _domain_name(text: str) -> str:
    domain = normal_domain(text.strip().lstrip("@"))
    if not domain or "@" in domain or any(c.isspace() for c in domain):
        raise CommandError(f"bad domain {text!r}")
    return domain


def _set_domain(args: argparse.Namespace, disabled: bool) -> None:
    db = display_database(args.db)
    domain = _domain_name(args.domain)
    store = _open_store(args.db, must_exist=True)
    try:
        store.set_domain_disabled(domain, disabled)
        accounts = sum(1 for name in store.users() if account_domain(name) == domain)
    finally:
        store.close()
    action = "disabled" if disabled else "enabled"
    _result(args, f"{action} domain {domain}: {accounts} account{'s' if accounts != 1 else ''} ({db})",
            action=action, domain=domain, accounts=accounts, db=db)


def _cmd_domain_disable(args: argparse.Namespace) -> None:
    _set_domain(args, True)


def _cmd_domain_enable(args: argparse.Namespace) -> None:
    _set_domain(args, False)


def _cmd_domain_list(args: argparse.Namespace) -> None:
    """Every domain of an account or set by the operator, with its account count and state."""
    store = _open_store(args.db, must_exist=True)
    try:
        states = dict(store.domains())
        counts: dict[str, int] = {}
        for name in store.users():
            domain = account_domain(name)
            if domain is not None:
                counts[domain] = counts.get(domain, 0) + 1
    finally:
        store.close()
    domains = [{"domain": d, "accounts": counts.get(d, 0), "disabled": states.get(d, False)}
               for d in sorted({*states, *counts})]
    if args.json:
        print(json.dumps({"domains": domains, "db": display_database(args.db)}))
        return
    for d in domains:
        print(f"{d['domain']}  {d['accounts']} account{'s' if d['accounts'] != 1 else ''}"
              + ("  disabled" if d["disabled"] else ""))


#: what ``--encryption-key`` does
KEY_HELP = ("the account's data-encryption secret, for clients that encrypt their items (des;b64, 3des;b64: "
            "Funambol's 'enable encryption'); kept sealed; \"\" removes it")

#: what ``--db`` takes, for every command that has it
DB_HELP = (f"the database: an SQLite file (a path or sqlite:///PATH; default ./{DEFAULT_DB}, created by "
           "'syncml user add' and 'syncml serve' if missing) or a PostgreSQL URL postgresql://USER:PASSWORD@HOST/DB "
           "(the postgresql extra; the password is never shown)")


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

    p = sub.add_parser("user", help="manage the server's accounts",
                       description="Accounts of the sync server. Passwords are kept as b64(md5(user:password)), "
                                   "which MD5 auth needs and which is as good as the password to whoever reads "
                                   "the database; --basic-only keeps a salted scrypt hash instead and refuses "
                                   "MD5 auth for that account (use it only over HTTPS).")
    users = p.add_subparsers(dest="user_command", metavar="ACTION")
    users.required = True
    json_help = "print the result as one line of JSON"
    q = users.add_parser("add", help="add an account or change its password")
    q.add_argument("name", metavar="NAME")
    q.add_argument("--password", metavar="P",
                   help="the password (default: asked on a terminal, else the first line of stdin)")
    q.add_argument("--basic-only", action="store_true",
                   help="store a salted scrypt hash, not the MD5 hash: the account can log in with basic auth "
                        "only (its password travels in clear: use HTTPS)")
    q.add_argument("--auth-policy", choices=AUTH_POLICIES,
                   help="the account's own authentication policy (default: the server's, 'syncml serve "
                        "--auth-policy')")
    q.add_argument("--encryption-key", metavar="K", help=KEY_HELP)
    q.set_defaults(func=_cmd_user_add)
    q = users.add_parser("passwd", help="change the password of an account",
                         description="Change the password of an existing account (one line and exit status 1 "
                                     "if there is none); it stays basic-only if it was, and disabled if it was.")
    q.add_argument("name", metavar="NAME")
    q.add_argument("--password", metavar="P",
                   help="the new password (default: asked on a terminal, else the first line of stdin)")
    q.add_argument("--basic-only", action="store_true",
                   help="make the account basic-only (salted scrypt hash, no MD5 auth); without it the account "
                        "keeps what it was ('syncml user add' makes it MD5-capable again)")
    q.add_argument("--encryption-key", metavar="K", help=KEY_HELP)
    q.set_defaults(func=_cmd_user_passwd)
    q = users.add_parser("policy", help="set the authentication policy of an account",
                         description="The schemes the account may log in with: basic-or-md5, basic or md5; "
                                     "'default' follows the server's (syncml serve --auth-policy). A basic-only "
                                     "account cannot be md5.")
    q.add_argument("name", metavar="NAME")
    q.add_argument("policy", choices=(*AUTH_POLICIES, "default"), metavar="POLICY",
                   help=f"{', '.join(AUTH_POLICIES)} or default")
    q.set_defaults(func=_cmd_user_policy)
    q = users.add_parser("delete", help="remove an account with its devices and items",
                         description="Remove the account and everything the server keeps for it: its items, its "
                                     "devices with their anchors, maps, sessions and conflicts. A user added "
                                     "later under the same name starts from nothing.")
    q.add_argument("name", metavar="NAME")
    q.set_defaults(func=_cmd_user_delete)
    q = users.add_parser("disable", help="refuse the account's logins, keeping its data",
                         description="The server refuses the account as it refuses a wrong password (401, "
                                     "counted as a failure, logged with reason=account-disabled); its data is "
                                     "kept. A session already running goes on to its end.")
    q.add_argument("name", metavar="NAME")
    q.set_defaults(func=_cmd_user_disable)
    q = users.add_parser("enable", help="accept a disabled account's logins again")
    q.add_argument("name", metavar="NAME")
    q.set_defaults(func=_cmd_user_enable)
    q = users.add_parser("list", help="list the accounts")
    q.set_defaults(func=_cmd_user_list)
    for q in users.choices.values():
        q.add_argument("--db", default=DEFAULT_DB, metavar="DB", help=DB_HELP)
        q.add_argument("--json", action="store_true", help=json_help)

    p = sub.add_parser("domain", help="enable or disable the accounts of a domain (user@domain)",
                       description="Accounts may be named user@domain. A disabled domain's accounts are refused "
                                   "(403, before their credentials are looked at); their data is kept. A session "
                                   "already running goes on to its end.")
    domains = p.add_subparsers(dest="domain_command", metavar="ACTION")
    domains.required = True
    q = domains.add_parser("disable", help="refuse every account of the domain")
    q.add_argument("domain", metavar="DOMAIN")
    q.set_defaults(func=_cmd_domain_disable)
    q = domains.add_parser("enable", help="serve the domain's accounts again")
    q.add_argument("domain", metavar="DOMAIN")
    q.set_defaults(func=_cmd_domain_enable)
    q = domains.add_parser("list", help="the domains of the accounts, and those disabled")
    q.set_defaults(func=_cmd_domain_list)
    for q in domains.choices.values():
        q.add_argument("--db", default=DEFAULT_DB, metavar="DB", help=DB_HELP)
        q.add_argument("--json", action="store_true", help=json_help)
