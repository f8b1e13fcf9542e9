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
"""

from __future__ import annotations

import argparse
import json
import mailbox
import sys
from datetime import datetime, timezone
from pathlib import Path

from ..errors import MailError
from ..formats.email import RFC822Item
from ..mail import INBOX, MaildirBackend, account_maildir, normalize_folder
from ._common import CommandError

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


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``syncml mail import``."""
    p = sub.add_parser("mail", help="the accounts' mail storage (Maildir)",
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
