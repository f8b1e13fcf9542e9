"""``syncml mail import USER SOURCE --maildir-root DIR``: seed an account's
Maildir (``DIR/<account>/``, Maildir++ subfolders; :mod:`syncml_codec.mail`)
from an mbox file or a Maildir.

* An mbox file: every message into ``--folder`` (default ``INBOX``), its
  ``Status``/``X-Status`` flags kept (read, replied, flagged, deleted).
* A Maildir (a folder with ``cur/`` and ``new/``): its messages into
  ``--folder`` and each Maildir++ subfolder into the folder of the same
  name (under ``--folder`` unless that is the inbox), flags and dates kept.

A message that is not mail (no header block), or over the size limit, is
skipped with a line on stderr; the command fails only if nothing could be
read.  ``--json``: ``{"user", "maildir", "imported", "skipped",
"folders"}``.  The account is not looked up in the database: the server
will serve the Maildir of the account with that name.

``syncml mail imap USER [URL] [--password-stdin] [--check] [--clear]``: the
account's IMAP settings, which ``syncml serve --imap`` connects with
(``imap[s]://login@host:port``; the password in the URL, or better the first
line of stdin with ``--password-stdin``, so it is not in the process list).
They are kept sealed in the database (``users.mail_imap``) and never printed;
without URL the command shows them without the password; ``--clear`` removes
them; ``--check`` logs in once before storing them.
"""

from __future__ import annotations

import argparse
import getpass
import json
import mailbox
import sys
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote, urlsplit

from ..errors import MailError
from ..formats.email import RFC822Item
from ..mail import INBOX, ImapBackend, MaildirBackend, account_maildir, normalize_folder
from ..store import display_database
from ._common import CommandError
from ._db import DB_HELP, DEFAULT_DB, _open_store

__all__ = ["register"]

_MBOX_FLAGS = {"R": "read", "A": "replied", "F": "flagged", "D": "deleted"}
_MAILDIR_FLAGS = {"S": "read", "R": "replied", "P": "forwarded", "F": "flagged", "D": "draft", "T": "deleted"}


def _date_of(data: bytes) -> datetime | None:
    try:
        return RFC822Item(data).date
    except Exception:  # a Date header the email package cannot read: now
        return None


class _Counter:
    def __init__(self) -> None:
        self.imported = 0
        self.skipped = 0
        self.folders: set[str] = set()

    def add(self, target: MaildirBackend, folder: str, data: bytes, flags: set[str],
            date: datetime | None, where: str) -> None:
        try:
            target.add(folder, data, flags, date)
        except MailError as exc:
            self.skipped += 1
            print(f"syncml mail import: {where}: skipped: {exc}", file=sys.stderr)
            return
        self.imported += 1
        self.folders.add(folder)


def _import_mbox(source: Path, target: MaildirBackend, folder: str, count: _Counter) -> None:
    box = mailbox.mbox(str(source), create=False)
    try:
        for number, key in enumerate(box.iterkeys(), 1):
            data = box.get_bytes(key)
            flags = {_MBOX_FLAGS[ch] for ch in box.get_message(key).get_flags() if ch in _MBOX_FLAGS}
            count.add(target, folder, data, flags, _date_of(data), f"{source} message {number}")
    finally:
        box.close()


def _import_maildir(source: Path, target: MaildirBackend, folder: str, count: _Counter) -> None:
    box = mailbox.Maildir(str(source), factory=None, create=False)
    for key in box.iterkeys():
        msg = box.get_message(key)
        flags = {_MAILDIR_FLAGS[ch] for ch in msg.get_flags() if ch in _MAILDIR_FLAGS}
        date = datetime.fromtimestamp(msg.get_date(), timezone.utc)
        count.add(target, folder, box.get_bytes(key), flags, date, f"{source} {key}")
    for sub in box.list_folders():
        try:
            name = normalize_folder(sub.replace(".", "/"), target.limits, target.delimiter)
        except MailError as exc:
            print(f"syncml mail import: {source}/.{sub}: skipped: {exc}", file=sys.stderr)
            continue
        dest = name if folder == INBOX else f"{folder}/{name}"
        if dest not in {f.name for f in target.folders()}:
            target.create_folder(dest)
        _import_maildir(source / f".{sub}", target, dest, count)


def _cmd_import(args: argparse.Namespace) -> None:
    source = Path(args.source)
    root = account_maildir(args.maildir_root, args.user)
    if source.is_dir() and not (source / "cur").is_dir():
        raise CommandError(f"{source}: a folder but not a Maildir (no cur/)")
    if not source.exists():
        raise CommandError(f"{source}: no such file or folder")
    try:
        folder = normalize_folder(args.folder, None, ".")
        target = MaildirBackend(root)
        if folder not in {f.name for f in target.folders()}:
            target.create_folder(folder)
        count = _Counter()
        if source.is_dir():
            _import_maildir(source, target, folder, count)
        else:
            _import_mbox(source, target, folder, count)
    except MailError as exc:
        raise CommandError(str(exc)) from None
    except OSError as exc:
        raise CommandError(f"{exc.filename or source}: {exc.strerror or exc}") from None
    if count.imported == 0 and count.skipped:
        raise CommandError(f"{source}: no message could be imported ({count.skipped} skipped)")
    if args.json:
        print(json.dumps({"user": args.user, "maildir": str(root), "imported": count.imported,
                          "skipped": count.skipped, "folders": sorted(count.folders)}))
    else:
        print(f"imported {count.imported} message(s) into {root}"
              + (f" ({count.skipped} skipped)" if count.skipped else ""))


def _public(url: str) -> str:
    """``url`` without its password."""
    parts = urlsplit(url)
    login = f"{quote(parts.username or '', safe='')}@" if parts.username else ""
    return f"{parts.scheme}://{login}{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")


def _imap_url(args: argparse.Namespace) -> str:
    """The URL to store: checked, with the password from stdin or a prompt when it has none."""
    parts = urlsplit(args.url)
    try:
        port = parts.port
    except ValueError:
        raise CommandError("the IMAP URL's port is not a number from 0 to 65535") from None
    if parts.scheme not in ("imap", "imaps") or not parts.hostname or not parts.username:
        raise CommandError("the IMAP settings are a URL imap://login@host[:port] or imaps://login@host[:port]")
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise CommandError("the IMAP URL names a server and a login only (no path, query or fragment)")
    if parts.password is not None:
        if args.password_stdin:
            raise CommandError("a password in the URL and --password-stdin: give it once")
        return str(args.url).strip()
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass(f"IMAP password of {parts.username}: ")
    else:
        raise CommandError("no IMAP password: put it in the URL or give it on stdin with --password-stdin")
    if not password:
        raise CommandError("empty IMAP password")
    netloc = f"{parts.username}:{quote(password, safe='')}@{parts.hostname}" + (f":{port}" if port else "")
    return f"{parts.scheme}://{netloc}"


def _cmd_imap(args: argparse.Namespace) -> None:
    db = display_database(args.db)
    if args.clear and args.url:
        raise CommandError("--clear takes no URL")
    url = _imap_url(args) if args.url else None
    if url is not None and args.check:
        try:
            ImapBackend.from_url(url).close()
        except MailError as exc:
            raise CommandError(f"{_public(url)}: {exc}") from None
    store = _open_store(args.db, must_exist=True)
    try:
        if store.account(args.user) is None:
            raise CommandError(f"no user {args.user!r} in {db}")
        if url is not None or args.clear:
            store.set_mail_imap(args.user, url)
            text = (f"IMAP settings of {args.user}: {_public(url)} (password kept sealed)" if url
                    else f"IMAP settings of {args.user} removed")
            action = "set" if url else "cleared"
        else:
            current = store.mail_imap(args.user)
            url, action = current, "shown"
            text = f"IMAP settings of {args.user}: {_public(current) if current else 'none'}"
    except ValueError as exc:  # (sealed settings that do not open: the database's server secret changed)
        raise CommandError(f"the IMAP settings of {args.user!r} cannot be read: {exc}") from None
    finally:
        store.close()
    if args.json:
        print(json.dumps({"user": args.user, "action": action, "imap": _public(url) if url else None, "db": db}))
    else:
        print(text)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``syncml mail import`` and ``syncml mail imap``."""
    p = sub.add_parser("mail", help="the accounts' mail storage (Maildir, IMAP)",
                       description="Manage the mail storage of accounts.")
    mail_sub = p.add_subparsers(dest="mail_command", metavar="ACTION")
    mail_sub.required = True
    q = mail_sub.add_parser("import", help="seed an account's Maildir from an mbox file or a Maildir",
                            description="Copy the messages of an mbox file or a Maildir (with its Maildir++ "
                                        "subfolders) into the account's Maildir under --maildir-root, flags kept.")
    q.add_argument("user", metavar="USER", help="the account (its Maildir is DIR/USER)")
    q.add_argument("source", metavar="MBOX|MAILDIR", help="an mbox file or a Maildir folder")
    q.add_argument("--maildir-root", required=True, metavar="DIR",
                   help="the folder holding one Maildir per account")
    q.add_argument("--folder", default=INBOX, help="the folder to import into (default INBOX; e.g. Archive/2024)")
    q.add_argument("--json", action="store_true", help="print the result as JSON")
    q.set_defaults(func=_cmd_import)
    q = mail_sub.add_parser("imap", help="an account's IMAP settings for 'syncml serve --imap'",
                            description="Set, show or remove the IMAP server and login that 'syncml serve --imap' "
                                        "syncs the account's mail with. The password is kept sealed in the "
                                        "database and never printed.")
    q.add_argument("user", metavar="USER", help="the account")
    q.add_argument("url", metavar="URL", nargs="?",
                   help="imap://login@host[:port] or imaps://login@host[:port] (none: show the settings)")
    q.add_argument("--password-stdin", action="store_true",
                   help="read the IMAP password from the first line of stdin (not in the URL)")
    q.add_argument("--check", action="store_true", help="log in once before storing the settings")
    q.add_argument("--clear", action="store_true", help="remove the account's IMAP settings")
    q.add_argument("--db", default=DEFAULT_DB, help=DB_HELP)
    q.add_argument("--json", action="store_true", help="print the result as JSON")
    q.set_defaults(func=_cmd_imap)
