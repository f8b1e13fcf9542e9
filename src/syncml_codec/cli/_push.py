"""``syncml push USER DEVICE``: the Data Sync Notification (server-alerted
sync, "package #0") an SMS or WAP-push gateway would deliver to the device,
and what ``syncml decode`` prints of one.

The notification names the server as the device knows it and each
datastore as the device addresses it: both come from the device's
registration (its sync URL carried ``push``, see README, "Server-alerted
sync"); for a device without one, ``--server-id`` gives the server
identifier and the datastores are those it synced, under their canonical
names.  The digest is made with the server password the device keeps for
the server (``--server-password-file``, else ``SYNCML_SERVER_PASSWORD``,
else empty, as Nokia's PC Suite sends) and ``--nonce``.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from ..codec.san import Notification, UIMode
from ..engine import notification_for
from ..model import alert_meaning
from ..store import PushTarget, canonical_datastore, display_database
from ._common import CommandError, read_input, write_output
from ._db import DB_HELP, DEFAULT_DB, _open_store

__all__ = ["describe_notification", "register", "server_password"]

#: --sync-type names -> alert codes
SYNC_TYPES = {"two-way": 206, "one-way-from-client": 207, "refresh-from-client": 208,
              "one-way-from-server": 209, "refresh-from-server": 210}
_UI_MODES = {"not-specified": UIMode.NOT_SPECIFIED, "background": UIMode.BACKGROUND,
             "informative": UIMode.INFORMATIVE, "user-interaction": UIMode.USER_INTERACTION}


def server_password(path: str | None) -> str:
    """The server password for a digest: the first line of ``path``, else
    ``SYNCML_SERVER_PASSWORD``, else empty."""
    if path is not None:
        lines = read_input(path).decode("utf-8", "replace").splitlines()
        return lines[0] if lines else ""
    return os.environ.get("SYNCML_SERVER_PASSWORD", "")


def describe_notification(n: Notification, label: str, size: int, verified: bool | None) -> str:
    """What ``syncml decode`` prints of a notification (``verified``: the
    digest checked with the password given, None when none was)."""
    out = [f"{label}: Data Sync Notification (server-alerted sync, {size} bytes)",
           f"  SyncML {n.version}, UI mode {n.ui_mode.name.lower().replace('_', ' ')}, "
           f"initiated by the {n.initiator.name.lower()}, session {n.session_id}",
           f"  server {n.server_id!r}"]
    check = {None: "not checked (give --server-password-file and --nonce)", True: "verified",
             False: "does NOT match that password and nonce"}[verified]
    out.append(f"  digest {n.digest.hex()}: {check}")
    if not n.alerts:
        out.append("  every datastore (no sync named)")
    for alert in n.alerts:
        ctype = alert.content_type or (f"content type code {alert.content_type_code:#x}" if alert.content_type_code
                                       else "content type not given")
        out.append(f"  alert {alert.sync_type} ({alert_meaning(alert.sync_type)}): {alert.server_uri!r}, {ctype}")
    if n.vendor:
        out.append(f"  vendor data: {len(n.vendor)} bytes {n.vendor[:32].hex()}{'...' if len(n.vendor) > 32 else ''}")
    return "\n".join(out)


def _cmd_push(args: argparse.Namespace) -> None:
    db = display_database(args.db)
    store = _open_store(args.db, must_exist=True)
    try:
        if store.account(args.user) is None:
            raise CommandError(f"no user {args.user!r} in {db}")
        device = store.find_device(args.user, args.device)
        if device is None:
            raise CommandError(f"no device {args.device!r} of user {args.user!r} in {db}")
        registered = {t.datastore: t for t in store.push_targets(device)}
        synced = [s.datastore for s in store.device_state(device)]
        wanted = args.datastore or list(registered) or synced
        if not wanted:
            raise CommandError(f"device {args.device!r} has synced no datastore: name one with --datastore")
        server_id = args.server_id or next(iter(registered.values()), PushTarget("", "", "", 0.0)).server_id
        if not server_id:
            raise CommandError(f"device {args.device!r} is not registered for server-alerted sync (its sync URL "
                               "had no 'push'): give the server identifier it knows the server by with --server-id")
        targets = [registered.get(name) or PushTarget(name, server_id, name, 0.0) for name in dict.fromkeys(wanted)]
        types = {}
        for name in wanted:
            fmt = store.device_format(device, name)
            if fmt is not None:
                types[name] = fmt.declared or fmt.content_type
    finally:
        store.close()
    try:
        notification = notification_for(targets, SYNC_TYPES[args.sync_type], server_id=server_id,
                                        content_types=types, session_id=args.session_id,
                                        ui_mode=_UI_MODES[args.ui_mode])
        data = notification.to_bytes(server_password(args.server_password_file), args.nonce)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    write_output(args.output, data, binary=True)
    if args.output not in (None, "-"):
        names = ", ".join(f"{t.datastore} ({t.server_uri})" for t in targets)
        print(f"wrote {args.output}: notification of {len(data)} bytes for device {args.device} of user "
              f"{args.user}, server {server_id!r}: {names} {args.sync_type} ({db})")


def _session_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 0 <= value <= 0xFFFF:
        raise argparse.ArgumentTypeError(f"a session id is 0 to 65535, not {value}")
    return value


def _datastore(text: str) -> str:
    name = canonical_datastore(text)
    if name is None:
        raise argparse.ArgumentTypeError(f"unknown datastore {text!r} (e.g. Contacts, calendar, todo, memo)")
    return name


def register(sub: Any) -> None:
    p = sub.add_parser("push", help="write the notification that makes a device sync (server-alerted sync)",
                       description="Write the OMA DS Data Sync Notification (SAN, 'package #0') an SMS or WAP-push "
                                   "gateway delivers to the device; the device then syncs the datastores it names. "
                                   "The device's registration (its sync URL carried 'push') gives the server "
                                   "identifier and its datastore names.")
    p.add_argument("user", metavar="USER")
    p.add_argument("device", metavar="DEVICE", help="its device id (SyncML Source LocURI)")
    p.add_argument("--datastore", action="append", type=_datastore, metavar="D",
                   help="a datastore to sync, by any of its names (repeat; default: those registered, else those "
                        "the device synced)")
    p.add_argument("-o", "--output", metavar="FILE", help="output file (default: stdout, not a terminal)")
    p.add_argument("--sync-type", default="two-way", choices=list(SYNC_TYPES),
                   help="what the device is asked to do (alerts 206-210; default two-way)")
    p.add_argument("--ui-mode", default="background", choices=list(_UI_MODES),
                   help="what the device shows its user (default background)")
    p.add_argument("--server-id", metavar="ID",
                   help="the server identifier the device knows the server by (default: its registration's, the "
                        "sync URL it uses without parameters)")
    p.add_argument("--server-password-file", metavar="FILE",
                   help="a file whose first line is the server password the device keeps for the digest (default: "
                        "$SYNCML_SERVER_PASSWORD, else empty)")
    p.add_argument("--nonce", default="", help="the nonce the device expects in the digest (default empty)")
    p.add_argument("--session-id", type=_session_id, default=0, metavar="N",
                   help="the session id the device uses for the session it starts (default 0)")
    p.add_argument("--db", default=DEFAULT_DB, metavar="DB", help=DB_HELP)
    p.set_defaults(func=_cmd_push)
