"""``syncml user add|list|passwd|policy|delete|disable|enable`` (the
server's accounts) and ``syncml domain enable|disable|list`` (accounts named
``user@domain``, a domain at once); each takes ``--json`` for a one-line
JSON result; a failure is one line on stderr and exit status 1 with or
without it.

Issue 13: ``--auth-policy`` (``user add``, ``user policy``: an account's
own, which wins over the server's ``syncml serve --auth-policy``) is
``basic-or-md5``, ``basic`` or ``md5``; ``user add|passwd
--encryption-key`` sets the account's data-encryption secret for
``des;b64`` / ``3des;b64`` items (kept sealed, never printed).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import TYPE_CHECKING, Any

from ..store import AUTH_POLICIES, Account, account_domain, display_database, normal_domain
from ._common import CommandError
from ._db import DB_HELP, DEFAULT_DB, _open_store

if TYPE_CHECKING:
    from ..store import PostgresStore, SQLiteStore


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


def register(sub: Any) -> None:
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
