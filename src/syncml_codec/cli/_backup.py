"""``syncml backup list|restore``: the files ``backup`` sync sessions wrote
(issue 13; the layout and formats: :mod:`syncml_codec.store.backups`).

* ``backup list USER``: name, datastore, items, size and date of each of the
  account's backups, oldest first.  ``--json``: ``{"user", "backup_dir",
  "backups": [{"name", "datastore", "file", "items", "size", "created"}], "db"}``
  (``items`` null for a file that does not read, ``created`` seconds since
  the epoch).
* ``backup restore USER NAME --device D``: the account's datastore gets
  exactly the backup's items, and the next sync of device D (one the server
  knows: ``syncml device list``) is a refresh from the server, so D ends up
  with them too; other devices get the change in their next sync as usual.
  NAME is ``nokia200812310001`` (with or without its extension), or
  ``Contacts/nokia200812310001`` when several datastores have that name.
  ``--json``: ``{"action": "restored", "user", "name", "datastore",
  "device", "restored", "added", "deleted", "db"}`` (``restored``: the
  backup's items; ``added`` / ``deleted``: what changed on the server, an
  item equal to one of the backup being kept).

The backup area is ``--backup-dir``, by default the one ``syncml serve``
uses beside an SQLite database (``syncml.db`` -> ``syncml-backups``); a
PostgreSQL database has no default.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import time
from typing import Any

from ..store import display_database
from ..store.backups import BackupArea, default_backup_dir
from ._common import CommandError
from ._db import DB_HELP, DEFAULT_DB, _open_store

__all__ = ["BACKUP_DIR_HELP", "register"]

BACKUP_DIR_HELP = ("the backup area: a folder with one folder per account (default: beside an SQLite database, "
                   "syncml.db -> syncml-backups; none for PostgreSQL)")


def _area(args: argparse.Namespace) -> BackupArea:
    folder = args.backup_dir or default_backup_dir(args.db)
    if folder is None:
        raise CommandError(f"no backup area for {display_database(args.db)}: give --backup-dir")
    return BackupArea(folder)


def _when(epoch: float) -> str:
    return _dt.datetime.fromtimestamp(epoch, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_user(args: argparse.Namespace) -> None:
    store = _open_store(args.db, must_exist=True)
    try:
        if store.account(args.user) is None:
            raise CommandError(f"no user {args.user!r} in {display_database(args.db)}")
    finally:
        store.close()


def _cmd_list(args: argparse.Namespace) -> None:
    area = _area(args)
    _check_user(args)
    rows: list[dict[str, Any]] = []
    for backup in area.backups(args.user):
        try:
            items: int | None = len(area.items(backup))
        except (OSError, ValueError):
            items = None
        rows.append({"name": backup.name, "datastore": backup.datastore, "file": str(backup.path), "items": items,
                     "size": backup.size, "created": backup.created})
    if args.json:
        print(json.dumps({"user": args.user, "backup_dir": str(area.root), "backups": rows,
                          "db": display_database(args.db)}))
        return
    if not rows:
        print(f"no backups of user {args.user} in {area.root}")
        return
    table = [["NAME", "DATASTORE", "ITEMS", "SIZE", "DATE"]] + [
        [r["name"] + r["file"][r["file"].rfind("."):], r["datastore"], "?" if r["items"] is None else str(r["items"]),
         str(r["size"]), _when(r["created"])] for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _cmd_restore(args: argparse.Namespace) -> None:
    from ..engine import restore_backup  # (the engine is only needed to restore)

    if "/" in args.name:  # DATASTORE/NAME
        _backup_datastore_or_fail(args.name.split("/", 1)[0])
    area = _area(args)
    db = display_database(args.db)
    store = _open_store(args.db, must_exist=True)
    try:
        if store.account(args.user) is None:
            raise CommandError(f"no user {args.user!r} in {db}")
        if store.find_device(args.user, args.device) is None:
            raise CommandError(f"no device {args.device!r} of user {args.user!r} in {db} (syncml device list)")
        try:
            backup = area.find(args.user, args.name, args.datastore)
        except LookupError as exc:
            raise CommandError(f"user {args.user}: {exc.args[0]} in {area.root}") from None
        try:
            report = restore_backup(store, area, args.user, backup, args.device, time.time())
        except (OSError, ValueError) as exc:
            raise CommandError(f"{backup.path}: {exc}") from None
    finally:
        store.close()
    if args.json:
        print(json.dumps({"action": "restored", "user": args.user, "name": backup.name,
                          "datastore": backup.datastore, "device": args.device, "restored": report.restored,
                          "added": report.added, "deleted": report.deleted, "db": db}))
        return
    print(f"restored {backup.datastore} of user {args.user} from {backup.path.name}: {report.restored} items "
          f"({report.added} added, {report.deleted} deleted, the rest kept); the next sync of device "
          f"{args.device} is a refresh from server ({db})")


_NOT_MAIL = ("mail folders are not backed up or restored: their messages live in the mail storage "
             "(Maildir or IMAP), which has backups of its own")


def _backup_datastore(text: str) -> str:
    from ._operate import _datastore

    if text.strip().removeprefix("./").strip("/").split("/", 1)[0].lower() in ("mail", "inbox"):
        raise argparse.ArgumentTypeError(_NOT_MAIL)  # (Mail, inbox, Mail/<Folder>)
    return _datastore(text)


def _backup_datastore_or_fail(text: str) -> None:
    try:
        _backup_datastore(text)
    except argparse.ArgumentTypeError as exc:
        if str(exc) == _NOT_MAIL:
            raise CommandError(_NOT_MAIL) from None


def register(sub: Any) -> None:

    p = sub.add_parser("backup", help="list and restore the backups devices made (?backup in the sync URL)",
                       description="A sync URL with ?backup or ?backup=PREFIX writes what the device sends to a "
                                   "file PREFIX+YYYYMMDD+NNNN in the account's backup folder, leaving the server's "
                                   "data as it was. These commands list those files and put one back.")
    actions = p.add_subparsers(dest="backup_command", metavar="ACTION")
    actions.required = True
    q = actions.add_parser("list", help="the account's backups: name, datastore, items, size, date")
    q.add_argument("user", metavar="USER")
    q.set_defaults(func=_cmd_list)
    r = actions.add_parser("restore", help="put a backup back on the server and on a device",
                           description="The account's datastore gets exactly the backup's items; the next sync "
                                       "of the device is a refresh from server (the device takes them too); the "
                                       "account's other devices get the change in their next sync.")
    r.add_argument("user", metavar="USER")
    r.add_argument("name", metavar="NAME", help="the backup (backup list), e.g. nokia200812310001")
    r.add_argument("--device", required=True, metavar="D", help="the device whose next sync is a refresh from server")
    r.add_argument("--datastore", type=_backup_datastore, metavar="DS",
                   help="the datastore, when several have a backup of that name")
    r.set_defaults(func=_cmd_restore)
    for parser in (q, r):
        parser.add_argument("--db", default=DEFAULT_DB, metavar="DB", help=DB_HELP)
        parser.add_argument("--backup-dir", metavar="DIR", help=BACKUP_DIR_HELP)
        parser.add_argument("--json", action="store_true", help="print the result as one JSON document on one line")
