"""``syncml device|session|conflict``: what an operator looks at and the one
repair there is (``device reset``: the next sync of a device is slow).

Each reads the database ``--db`` names (as ``syncml user`` does) through the
store's operator views (:meth:`~syncml_codec.store.base.Store.devices`,
``device_state``, ``sessions``, ``live_sessions``, ``conflicts``...), and
prints a table or, with ``--json``, one JSON document on one line; times in
JSON are seconds since the epoch (UTC), in tables ISO 8601 UTC.  A failure
is one line on stderr: exit status 1 for no such database, user, device or
conflict; 2 for a bad option value (as every argparse usage error).

The JSON documents (every one also has ``db``):

* ``device list``: ``{"devices": [DEVICE...]}``, DEVICE =
  ``{"user", "device", "manufacturer", "model", "software", "datastores": [NAME...],
  "last_session": SESSION | null}`` (DevInf fields null when the device sent none).
* ``device show``: ``{"user", "device", "devinf": DEVINF | null, "devinf_error": str | null,
  "datastores": [STATE...], "sessions": [SESSION...], "push": [PUSH...]}`` (its last 5 sessions;
  PUSH = ``{"datastore", "server_id", "server_uri", "registered"}``: its registration for
  server-alerted sync, ``syncml push``); DEVINF = ``{"manufacturer",
  "model", "oem", "firmware", "software", "hardware", "type", "version", "datastores":
  [{"uri", "name", "receives": [TYPE...], "sends": [TYPE...], "sync_types": [int...]}]}``, TYPE
  ``"text/vcard 3.0"``; STATE = ``{"datastore", "client_anchor", "server_anchor", "slow_next",
  "mapped", "pending", "map_size", "format": {"content_type", "declared", "version", "encoding",
  "accepts"} | null, "pending_mode": int | null}``; ``slow_next``: its next sync is slow (no anchors);
  ``pending``: items sent whose Map has not come; ``pending_mode``: the sync mode its next sync
  of it takes (205 after ``syncml backup restore``).
* ``device reset``: ``{"action": "reset", "user", "device", "datastores": [NAME...]}``, the
  datastores whose anchors were cleared.
* ``session list``: ``{"sessions": [SESSION...], "live": [LIVE...]}``; SESSION = ``{"session",
  "user", "device", "started", "ended", "outcome", "detail"}`` oldest first; LIVE = ``{"session",
  "user", "device", "last_seen"}``: the sessions running now (between two of their messages),
  the one whose last message came first first.
* ``conflict list``: ``{"conflicts": [CONFLICT...]}``, CONFLICT = ``{"id", "user", "device",
  "datastore", "item", "content_type", "reason", "at", "size", "other_content_type", "other_size"}``
  (``item``: the server's GUID, ``size``: bytes of the logged version, the loser's or, when both
  were kept or merged, the device's; ``other_*``: the other version, the winner's or, when both
  were kept or merged, the server's before the merge; 0 bytes for a delete and for conflicts
  logged before schema 15).
* ``conflict show``: CONFLICT plus ``"data"`` (the logged version as text, null when it is not
  UTF-8), ``"data_base64"``, and ``"other_data"`` / ``"other_data_base64"`` the same way.
"""

from __future__ import annotations

import argparse
import base64
import datetime as _dt
import json
from collections.abc import Sequence
from typing import Any

from ..devinf import ContentType, DevInf
from ..store import canonical_datastore, display_database
from ..store.base import Conflict, DatastoreState, Device, LiveSession, SessionRecord, Store
from ._common import CommandError
from ._db import DB_HELP, DEFAULT_DB, _open_store

__all__ = ["register"]

_SHOWN_SESSIONS = 5  # the last sessions ``device show`` lists


# -- helpers ------------------------------------------------------------------
def _when(epoch: float) -> str:
    """``2026-12-06T06:10:02Z``."""
    return _dt.datetime.fromtimestamp(epoch, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _shown(args: argparse.Namespace) -> str:
    """The database ``--db`` names as messages and JSON documents show it
    (a URL without its password)."""
    return display_database(args.db)


def _print(args: argparse.Namespace, document: dict[str, Any], lines: Sequence[str]) -> None:
    if args.json:
        print(json.dumps({**document, "db": _shown(args)}))
    else:
        for line in lines:
            print(line)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns padded to their widest cell (the last one not); nothing at all without rows."""
    if not rows:
        return []
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    return ["  ".join([*(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)), row[-1]]).rstrip()
            for row in [header, *rows]]


def _check_user(store: Store, user: str | None, db: str) -> None:
    if user is not None and store.account(user) is None:
        raise CommandError(f"no user {user!r} in {db}")


def _device(store: Store, user: str, device_id: str, db: str) -> Device:
    _check_user(store, user, db)
    device = store.find_device(user, device_id)
    if device is None:
        raise CommandError(f"no device {device_id!r} of user {user!r} in {db}")
    return device


def _devinf(device: Device) -> tuple[DevInf | None, str | None]:
    """The device's stored DevInf, and why it does not read (if it does not)."""
    if not device.devinf:
        return None, None
    try:
        return DevInf.from_bytes(device.devinf), None
    except Exception as exc:  # a stored document this version cannot read: say so, show the rest
        return None, str(exc)[:200]


def _session_json(s: SessionRecord) -> dict[str, Any]:
    return {"session": s.session_id, "user": s.user, "device": s.device_id, "started": s.started,
            "ended": s.ended, "outcome": s.outcome, "detail": s.detail}


def _live_json(s: LiveSession) -> dict[str, Any]:
    return {"session": s.session_id, "user": s.user, "device": s.device_id, "last_seen": s.last_seen}


def _session_row(s: SessionRecord) -> list[str]:
    return [_when(s.ended), s.user, s.device_id, s.session_id, f"{max(0.0, s.ended - s.started):.0f}s",
            s.outcome, s.detail]


def _conflict_json(c: Conflict) -> dict[str, Any]:
    return {"id": c.id, "user": c.user, "device": c.device_id, "datastore": c.datastore, "item": c.guid,
            "content_type": c.content_type, "reason": c.reason, "at": c.at, "size": len(c.data),
            "other_content_type": c.other_type, "other_size": len(c.other_data)}


def _text(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _version_lines(label: str, data: bytes, ctype: str) -> list[str]:
    text = _text(data)
    body = text if text is not None else "(not UTF-8; base64) " + base64.b64encode(data).decode("ascii")
    return [f"  {label} ({ctype}, {len(data)} bytes):", *("    " + line for line in body.splitlines())]


def _types(types: Sequence[ContentType]) -> list[str]:
    return [str(t) for t in types]


def _devinf_json(devinf: DevInf) -> dict[str, Any]:
    return {"manufacturer": devinf.man, "model": devinf.mod, "oem": devinf.oem, "firmware": devinf.fwv,
            "software": devinf.swv, "hardware": devinf.hwv, "type": devinf.dev_typ, "version": devinf.ver_dtd,
            "datastores": [{"uri": ds.source_ref, "name": ds.display_name, "receives": _types(ds.receives),
                            "sends": _types(ds.transmits), "sync_types": list(ds.sync_types)}
                           for ds in devinf.datastores]}


def _state_json(state: DatastoreState) -> dict[str, Any]:
    fmt = state.format
    return {"datastore": state.datastore, "client_anchor": state.anchors.client_last,
            "server_anchor": state.anchors.server_last, "slow_next": state.anchors.client_last is None,
            "mapped": state.mapped, "pending": state.pending, "map_size": state.mapped + state.pending,
            "format": None if fmt is None else {"content_type": fmt.content_type, "declared": fmt.declared,
                                                "version": fmt.version, "encoding": fmt.encoding,
                                                "accepts": fmt.accepts}}


def _live_sessions(store: Store, user: str | None) -> list[LiveSession]:
    """The sessions running now: between two of their messages (the store
    keeps them for every worker; a finished one it keeps for a resent last
    message is in the session log already)."""
    return [s for s in store.live_sessions(user) if not s.done]


# -- device ----------------------------------------------------------------------
def _cmd_device_list(args: argparse.Namespace) -> None:
    store = _open_store(args.db, must_exist=True)
    try:
        _check_user(store, args.user, _shown(args))
        last: dict[tuple[str, str], SessionRecord] = {}
        for record in store.sessions(args.user):  # oldest first: the last one stays
            last[(record.user, record.device_id)] = record
        found = [(d, _devinf(d)[0], [s.datastore for s in store.device_state(d)]) for d in store.devices(args.user)]
    finally:
        store.close()
    documents, rows = [], []
    for device, devinf, datastores in found:
        session = last.get((device.user, device.device_id))
        documents.append({"user": device.user, "device": device.device_id,
                          "manufacturer": devinf.man if devinf else None, "model": devinf.mod if devinf else None,
                          "software": devinf.swv if devinf else None, "datastores": datastores,
                          "last_session": None if session is None else _session_json(session)})
        model = " ".join(filter(None, (devinf.man, devinf.mod))) if devinf else ""
        rows.append([device.user, device.device_id, model or "-", ",".join(datastores) or "-",
                     "-" if session is None else f"{_when(session.ended)} {session.outcome}"])
    _print(args, {"devices": documents}, _table(["USER", "DEVICE", "MODEL", "DATASTORES", "LAST SESSION"], rows))


def _cmd_device_show(args: argparse.Namespace) -> None:
    store = _open_store(args.db, must_exist=True)
    try:
        device = _device(store, args.user, args.device, _shown(args))
        states = store.device_state(device)
        pending = {s.datastore: store.pending_mode(device, s.datastore) for s in states}
        sessions = [s for s in store.sessions(args.user) if s.device_id == device.device_id][-_SHOWN_SESSIONS:]
        push = store.push_targets(device)
    finally:
        store.close()
    devinf, problem = _devinf(device)
    document = {"user": device.user, "device": device.device_id,
                "devinf": None if devinf is None else _devinf_json(devinf), "devinf_error": problem,
                "datastores": [{**_state_json(s), "pending_mode": pending[s.datastore]} for s in states],
                "sessions": [_session_json(s) for s in sessions],
                "push": [{"datastore": t.datastore, "server_id": t.server_id, "server_uri": t.server_uri,
                          "registered": t.registered} for t in push]}
    lines = [f"device {device.device_id} of user {device.user}"]
    if devinf is not None:
        for label, value in (("manufacturer", devinf.man), ("model", devinf.mod), ("OEM", devinf.oem),
                             ("firmware", devinf.fwv), ("software", devinf.swv), ("hardware", devinf.hwv),
                             ("type", devinf.dev_typ), ("DevInf", devinf.ver_dtd)):
            if value:
                lines.append(f"  {label}: {value}")
        for ds in devinf.datastores:
            lines.append(f"  datastore {ds.source_ref}" + (f" ({ds.display_name})" if ds.display_name else "")
                         + f": receives {', '.join(_types(ds.receives)) or '-'}; "
                           f"sends {', '.join(_types(ds.transmits)) or '-'}; "
                           f"sync types {' '.join(map(str, ds.sync_types)) or '-'}")
    else:
        lines.append(f"  DevInf: unreadable ({problem})" if problem else "  DevInf: none sent")
    lines.append("synced:" if states else "synced: nothing yet")
    for state in states:
        anchors = ("no anchors: next sync slow" if state.anchors.client_last is None else
                   f"anchors client {state.anchors.client_last} server {state.anchors.server_last}")
        fmt = ""
        if state.format is not None and state.format.content_type:
            fmt += f"; sends {state.format.content_type}"
        if state.format is not None and state.format.accepts:  # a format= switch (engine/_format.py)
            fmt += f"; takes {state.format.accepts}"
        mode = pending[state.datastore]
        fmt += f"; next sync: mode {mode} (backup restore)" if mode is not None else ""
        lines.append(f"  {state.datastore}: {anchors}; map {state.mapped + state.pending} "
                     f"({state.mapped} mapped, {state.pending} awaiting a Map){fmt}")
    for target in push:
        lines.append(f"  {target.datastore}: registered for server-alerted sync {_when(target.registered)} as "
                     f"{target.server_uri!r} of server {target.server_id!r} (syncml push)")
    lines.append(f"last sessions ({len(sessions)}):" if sessions else "last sessions: none")
    lines += [f"  {_when(s.ended)} {s.session_id} {s.outcome}" + (f" {s.detail}" if s.detail else "")
              for s in sessions]
    _print(args, document, lines)


def _cmd_device_reset(args: argparse.Namespace) -> None:
    store = _open_store(args.db, must_exist=True)
    try:
        device = _device(store, args.user, args.device, _shown(args))
        reset = store.reset_device(device, args.datastore)
    finally:
        store.close()
    text = (f"reset {', '.join(reset)} of device {device.device_id} of user {device.user}: its next sync of "
            f"{'it' if len(reset) == 1 else 'them'} is slow ({_shown(args)})" if reset else
            f"device {device.device_id} of user {device.user} has no anchors"
            + (f" for {args.datastore}: its next sync of it" if args.datastore else ": its next sync")
            + f" is slow already ({_shown(args)})")
    _print(args, {"action": "reset", "user": device.user, "device": device.device_id, "datastores": reset}, [text])


# -- session -----------------------------------------------------------------------
def _cmd_session_list(args: argparse.Namespace) -> None:
    store = _open_store(args.db, must_exist=True)
    try:
        _check_user(store, args.user, _shown(args))
        finished = store.sessions(args.user, args.last)
        live = _live_sessions(store, args.user)
    finally:
        store.close()
    lines = _table(["ENDED", "USER", "DEVICE", "SESSION", "TOOK", "OUTCOME", "DETAIL"],
                   [_session_row(s) for s in finished])
    if live:
        lines.append("running:")
        lines += ["  " + line for line in _table(
            ["LAST MESSAGE", "USER", "DEVICE", "SESSION"],
            [[_when(s.last_seen), s.user, s.device_id, s.session_id] for s in live])]
    _print(args, {"sessions": [_session_json(s) for s in finished], "live": [_live_json(s) for s in live]}, lines)


# -- conflict ----------------------------------------------------------------------
def _cmd_conflict_list(args: argparse.Namespace) -> None:
    store = _open_store(args.db, must_exist=True)
    try:
        _check_user(store, args.user, _shown(args))
        conflicts = store.conflicts(args.user)
    finally:
        store.close()
    rows = [[str(c.id), _when(c.at), c.user, c.device_id, c.datastore, c.guid, c.reason] for c in conflicts]
    _print(args, {"conflicts": [_conflict_json(c) for c in conflicts]},
           _table(["ID", "AT", "USER", "DEVICE", "DATASTORE", "ITEM", "REASON"], rows))


def _cmd_conflict_show(args: argparse.Namespace) -> None:
    store = _open_store(args.db, must_exist=True)
    try:
        conflict = store.conflict(args.id)
    finally:
        store.close()
    if conflict is None:
        raise CommandError(f"no conflict {args.id} in {_shown(args)}")
    document = {**_conflict_json(conflict), "data": _text(conflict.data),
                "data_base64": base64.b64encode(conflict.data).decode("ascii"),
                "other_data": _text(conflict.other_data),
                "other_data_base64": base64.b64encode(conflict.other_data).decode("ascii")}
    lines = [f"conflict {conflict.id}: {conflict.datastore} item {conflict.guid} of user {conflict.user}, "
             f"device {conflict.device_id}",
             f"  at {_when(conflict.at)}", f"  reason: {conflict.reason}"]
    if not conflict.data:
        lines.append("  losing version: none kept (both versions were kept, or the loser was a delete)")
    else:
        both = "kept both" in conflict.reason or "merged" in conflict.reason
        lines += _version_lines("the device's version" if both else "losing version", conflict.data,
                                conflict.content_type)
    if conflict.other_data:
        both = "kept both" in conflict.reason or "merged" in conflict.reason
        lines += _version_lines("the server's version" if both else "the version kept",
                                conflict.other_data, conflict.other_type)
    _print(args, document, lines)


# -- options -------------------------------------------------------------------------
def _datastore(text: str) -> str:
    name = canonical_datastore(text)
    if name is None:
        raise argparse.ArgumentTypeError(f"unknown datastore {text!r} (e.g. Contacts, calendar, todo, memo)")
    return name


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def register(sub: Any) -> None:
    json_help = "print the result as one JSON document on one line (fields: README, Operating)"
    added: list[argparse.ArgumentParser] = []

    p = sub.add_parser("device", help="list and inspect devices, force a slow sync",
                       description="The devices that synced with the server: what they are (their DevInf), "
                                   "what the server keeps of them, and a reset that makes their next sync slow.")
    devices = p.add_subparsers(dest="device_command", metavar="ACTION")
    devices.required = True
    q = devices.add_parser("list", help="list the devices (of one user)")
    q.add_argument("--user", metavar="U", help="only this user's devices")
    q.set_defaults(func=_cmd_device_list)
    added.append(q)
    q = devices.add_parser("show", help="a device's DevInf, anchors, map size and last sessions")
    q.add_argument("user", metavar="USER")
    q.add_argument("device", metavar="DEVICE", help="its device id (SyncML Source LocURI)")
    q.set_defaults(func=_cmd_device_show)
    added.append(q)
    q = devices.add_parser("reset", help="force a slow sync next time",
                           description="Clear the device's anchors (of one datastore, or of all): its next sync "
                                       "is a slow sync, which compares everything. Its map is kept, so the "
                                       "items it holds are paired with the server's, not duplicated. A session "
                                       "of the device running meanwhile saves its anchors when it ends: reset "
                                       "after it.")
    q.add_argument("user", metavar="USER")
    q.add_argument("device", metavar="DEVICE", help="its device id (SyncML Source LocURI)")
    q.add_argument("--datastore", type=_datastore, metavar="D",
                   help="only this datastore, by any of its names (Contacts, addressbook, calendar, todo, ...)")
    q.set_defaults(func=_cmd_device_reset)
    added.append(q)

    p = sub.add_parser("session", help="list sessions",
                       description="Finished sessions (from the session log), oldest first, then the sessions "
                                   "running now.")
    sessions = p.add_subparsers(dest="session_command", metavar="ACTION")
    sessions.required = True
    q = sessions.add_parser("list", help="finished sessions (of one user), then those running")
    q.add_argument("--user", metavar="U", help="only this user's sessions")
    q.add_argument("--last", type=_positive, metavar="N", help="only the N newest finished sessions")
    q.set_defaults(func=_cmd_session_list)
    added.append(q)

    p = sub.add_parser("conflict", help="list and show the conflicts the server resolved",
                       description="When a device and the server both changed an item, the conflict policy "
                                   "picks a winner; the losing version is kept here.")
    conflicts = p.add_subparsers(dest="conflict_command", metavar="ACTION")
    conflicts.required = True
    q = conflicts.add_parser("list", help="the conflicts (of one user), oldest first")
    q.add_argument("--user", metavar="U", help="only this user's conflicts")
    q.set_defaults(func=_cmd_conflict_list)
    added.append(q)
    q = conflicts.add_parser("show", help="one conflict with its losing version")
    q.add_argument("id", type=_positive, metavar="ID", help="its number (conflict list)")
    q.set_defaults(func=_cmd_conflict_show)
    added.append(q)

    for q in added:
        q.add_argument("--db", default=DEFAULT_DB, metavar="DB", help=DB_HELP)
        q.add_argument("--json", action="store_true", help=json_help)
