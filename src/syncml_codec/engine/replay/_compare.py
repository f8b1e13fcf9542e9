"""What a replayed session's server answered, compared with what the recorded
server answered (``syncml replay``).

The recorded server's answer to the n-th client message is paired with the
answer our server gave to the same message (the last of its exchanges when
the replay answered a challenge).  What two servers legitimately do
differently is not compared: GUIDs, nonces, session ids, anchors, RespURIs,
command ids and the server's datastore names.  What is compared:

* **auth**: the SyncHdr Status of the first answer to each message (200 and
  212 are the same outcome: logged in), e.g. recorded 212, now 401 -- with,
  in the detail, what the answer to the challenge then got -- and the scheme
  a challenge asks for (recorded ``401 auth-md5``, now ``401 auth-basic``);
* **status**: each Status for a client command, by the command (its kind and
  CmdID, and the item's SourceRef when the server named it): recorded code
  and new code, or a Status only one side gave (``None`` on the other);
* **alert**: the sync type each server granted per client datastore (the
  server's Alert, e.g. recorded 200 two-way, now 201 slow);
* **items**: per session, how many items the server sent per datastore and
  command kind (Add, Replace, Delete, Put, Results...);
* **http**: an answer that was not HTTP 200 SyncML.

Messages the replay never sent after a refused login count as answered by
the recorded server only; after a stopped replay (no answer, or not HTTP 200
SyncML: a failure, reported as such) they are only noted.  Commands the replayer dropped (a
Status for a command our server never sent, a Map of such items) are not
compared.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ...model import Alert, Command, Message, Status, Sync
from ...model.auth import AuthType
from ._exchange import Exchange, SessionReplay
from ._replayer import NO_NONCE, _flatten

__all__ = ["Difference", "SessionComparison", "compare_session"]

#: Alert codes of the sync types (two-way ... refresh from server, and the server-alerted ones)
_SYNC_ALERTS = range(200, 211)
_ALERT_NAMES = {200: "two-way", 201: "slow", 202: "one-way from client", 203: "refresh from client",
                204: "one-way from server", 205: "refresh from server", 206: "two-way by server",
                207: "one-way from client by server", 208: "refresh from client by server",
                209: "one-way from server by server", 210: "refresh from server by server"}
_LOGGED_IN = ("200", "212")
_ITEM_KINDS = ("Add", "Replace", "Delete", "Copy", "Move")


@dataclass(frozen=True)
class Difference:
    """One difference: in the answer to client message ``message`` (1 for
    the first; 0 for the session as a whole), of ``kind`` (``auth``,
    ``status``, ``alert``, ``items``, ``http``), about ``command`` (the
    client's command kind, ``SyncHdr``, or the kind of items the server sent)
    and ``ref`` (what it names: a datastore URI, an item's LUID, a CmdID);
    ``recorded`` and ``replayed`` are the codes or counts each server gave,
    None where it gave none."""

    message: int
    kind: str
    command: str
    ref: str
    recorded: str | None
    replayed: str | None
    detail: str = ""

    def __str__(self) -> str:
        where = f"message {self.message}" if self.message else "session"
        ref = f"item {self.ref}" if self.ref and self.command in _ITEM_KINDS and self.kind == "status" else self.ref
        what = " ".join(p for p in (self.command, ref) if p)
        recorded = "none" if self.recorded is None else self.recorded
        replayed = "none" if self.replayed is None else self.replayed
        tail = f" ({self.detail})" if self.detail else ""
        return f"{where}: {' '.join(p for p in (self.kind, what) if p)}: recorded {recorded}, now {replayed}{tail}"

    def as_json(self) -> dict[str, Any]:
        return {"message": self.message, "kind": self.kind, "command": self.command, "ref": self.ref,
                "recorded": self.recorded, "replayed": self.replayed, "detail": self.detail}


@dataclass
class SessionComparison:
    """The differences of one session, and what could not be compared:
    ``compared`` messages had both a recorded answer and ours; ``notes`` say
    why others were not (no recorded answer, not sent)."""

    differences: list[Difference] = field(default_factory=list)
    compared: int = 0
    notes: list[str] = field(default_factory=list)


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _loc(ref: object) -> str:
    return _text(getattr(ref, "loc_uri", None)) if ref is not None else ""


def _describe(cmd: Command) -> str:
    """What a client command names: its datastore (Alert, Sync, Map) or item."""
    if isinstance(cmd, Sync):
        return _loc(cmd.source) or _loc(cmd.target)
    items = getattr(cmd, "items", None) or ()
    if items:
        item = items[0]
        return _loc(item.source) or _loc(item.target)
    return _loc(getattr(cmd, "source", None)) or _loc(getattr(cmd, "target", None))


def _header_status(reply: Message[Any] | None) -> str | None:
    if reply is None:
        return None
    for cmd in reply.commands:
        if isinstance(cmd, Status) and _text(cmd.cmd_ref) == "0":
            return _text(cmd.data)
    return None


def _statuses(reply: Message, msg_ref: str) -> dict[tuple[str, str], list[Status]]:
    """The Statuses for the commands of client message ``msg_ref``, by (Cmd, CmdRef)."""
    out: dict[tuple[str, str], list[Status]] = {}
    for cmd in _flatten(reply.commands):
        if isinstance(cmd, Status) and _text(cmd.cmd_ref) != "0" \
                and (not msg_ref or _text(cmd.msg_ref) in (msg_ref, "")):
            out.setdefault((_text(cmd.cmd), _text(cmd.cmd_ref)), []).append(cmd)
    return out


def _sync_alerts(reply: Message[Any] | None) -> dict[str, str]:
    """The sync type the server granted, by the client datastore its Alert names."""
    out: dict[str, str] = {}
    for cmd in reply.commands if reply is not None else ():
        if not isinstance(cmd, Alert):
            continue
        code = _text(cmd.data)
        if not code.isdigit() or int(code) not in _SYNC_ALERTS:
            continue
        for item in cmd.items or ():
            out[_loc(item.target) or _loc(item.source)] = code
    return out


def _items_sent(reply: Message[Any] | None, counts: Counter[tuple[str, str]]) -> None:
    """Add the items of ``reply``'s commands to ``counts`` by (datastore, kind)."""
    if reply is None:
        return
    for cmd in reply.commands:
        if isinstance(cmd, Sync):
            store = _loc(cmd.target)
            for inner in _flatten(cmd.commands):
                if not isinstance(inner, (Status, Sync)):
                    counts[(store, inner.TAG)] += max(1, len(getattr(inner, "items", None) or ()))
        elif not isinstance(cmd, (Status, Alert)):
            counts[("", cmd.TAG)] += len(getattr(cmd, "items", None) or ())


def _alert_name(code: str | None) -> str | None:
    if code is None:
        return None
    name = _ALERT_NAMES.get(int(code)) if code.isdigit() else None
    return f"{code} {name}" if name else code


def compare_session(client: Sequence[Message[Any] | None], recorded_answers: Sequence[Message[Any] | None],
                    result: SessionReplay) -> SessionComparison:
    """Compare ``result`` (the replay of a session's recorded ``client``
    messages, read; None for one that could not be) with ``recorded_answers``
    (the recorded server's answer to each of those messages, in order; None
    where the recording has none)."""
    out = SessionComparison()
    total = len(client)
    by_position: dict[int, list[Exchange]] = {}
    for ex in result.exchanges:
        by_position.setdefault(ex.position, []).append(ex)
    recorded_items: Counter[tuple[str, str]] = Counter()
    our_items: Counter[tuple[str, str]] = Counter()
    unsent: list[int] = []
    for position in range(total):
        number = position + 1
        recorded = recorded_answers[position] if position < len(recorded_answers) else None
        exchanges = by_position.get(position, [])
        _items_sent(recorded, recorded_items)
        for ex in exchanges:
            _items_sent(ex.reply, our_items)
        if recorded is None:
            out.notes.append(f"message {number}: the recording has no answer to compare with")
            continue
        if not exchanges:
            unsent.append(number)
            if not result.stopped:  # (a stopped replay is a failure, reported as such)
                _only_recorded(number, client[position], recorded, out)
            continue
        final = exchanges[-1]
        if final.reply is None:
            out.differences.append(Difference(number, "http", "", "", "200", str(final.response.http_status),
                                              "no SyncML answer"))
            continue
        out.compared += 1
        _compare_auth(number, recorded, exchanges, out)
        _compare_statuses(number, recorded, final, out)
        _compare_alerts(number, recorded, final.reply, out)
    if unsent:
        why = result.refused or result.stopped or "the replay ended"
        out.notes.append(f"message{'s' if len(unsent) > 1 else ''} {_ranges(unsent)} not sent: {why}")
    for key in sorted(set(recorded_items) | set(our_items)) if not result.stopped else ():
        if recorded_items[key] != our_items[key]:
            store, kind = key
            out.differences.append(Difference(0, "items", kind, store, str(recorded_items[key]),
                                              str(our_items[key]), "items the server sent"))
    return out


def _ranges(numbers: list[int]) -> str:
    return f"{numbers[0]}-{numbers[-1]}" if len(numbers) > 1 else str(numbers[0])


def _only_recorded(number: int, sent: Message[Any] | None, recorded: Message, out: SessionComparison) -> None:
    code = _header_status(recorded)
    if code is not None:
        out.differences.append(Difference(number, "auth", "SyncHdr", "", code, None, "not sent"))
    msg_ref = _text(sent.header.msg_id) if sent is not None and sent.header is not None else ""
    for (cmd, cmd_ref), statuses in _statuses(recorded, msg_ref).items():
        for status in statuses:
            ref = (_text(status.source_refs[0]) if status.source_refs else "") or f"#{cmd_ref}"
            out.differences.append(Difference(number, "status", cmd, ref, _text(status.data), None, "not sent"))
    for store, code in _sync_alerts(recorded).items():
        out.differences.append(Difference(number, "alert", "Alert", store, _alert_name(code), None, "not sent"))


def _compare_auth(number: int, recorded: Message, exchanges: list[Exchange], out: SessionComparison) -> None:
    was = _header_status(recorded)
    first = _header_status(exchanges[0].reply)
    if was == first and _challenge_type(recorded) != _challenge_type(exchanges[0].reply):
        out.differences.append(Difference(number, "auth", "SyncHdr", "", _with_scheme(was, recorded),
                                          _with_scheme(first, exchanges[0].reply), "challenged for another scheme"))
        return
    if (was in _LOGGED_IN and first in _LOGGED_IN) or was == first:
        return
    final = _header_status(exchanges[-1].reply)
    if NO_NONCE in exchanges[0].notes and was in _LOGGED_IN and final in _LOGGED_IN \
            and _challenge_type(exchanges[0].reply) == AuthType.MD5.value:
        out.notes.append(f"message {number}: challenged ({first}), as the MD5 credential could not be over a "
                         f"nonce of this server; logged in ({final}) with the answer to the challenge")
        return
    detail = f"then {final or 'no answer'} after the replay answered the challenge" if len(exchanges) > 1 else ""
    out.differences.append(Difference(number, "auth", "SyncHdr", "", was, first, detail))


def _with_scheme(code: str | None, reply: Message[Any] | None) -> str | None:
    scheme = _challenge_type(reply)
    return f"{code} {scheme.rpartition(':')[2]}" if code is not None and scheme else code


def _challenge_type(reply: Message[Any] | None) -> str:
    """The scheme the SyncHdr Status of ``reply`` challenges for (basic when its Chal names none)."""
    for cmd in reply.commands if reply is not None else ():
        if isinstance(cmd, Status) and _text(cmd.cmd_ref) == "0" and cmd.chal is not None:
            meta = cmd.chal.meta
            kind = _text(meta.type) if meta is not None else ""
            return kind.lower() or AuthType.BASIC.value
    return ""


def _compare_statuses(number: int, recorded: Message, final: Exchange, out: SessionComparison) -> None:
    sent = final.sent_message
    reply = final.reply
    if sent is None or reply is None or sent.header is None:
        return
    msg_ref = _text(sent.header.msg_id)
    sent_commands = {(_text(c.cmd_id), c.TAG): c for c in _flatten(sent.commands) if not isinstance(c, Status)}
    ours = _statuses(reply, msg_ref)
    theirs = {k: v for k, v in _statuses(recorded, msg_ref).items() if (k[1], k[0]) in sent_commands}
    for key in sorted(set(ours) | set(theirs), key=lambda k: (_num(k[1]), k[0])):
        cmd, cmd_ref = key
        client_cmd = sent_commands.get((cmd_ref, cmd))
        base = (_describe(client_cmd) if client_cmd is not None else "") or f"#{cmd_ref}"
        was, now = theirs.get(key, []), ours.get(key, [])
        for n in range(max(len(was), len(now))):
            a = _text(was[n].data) if n < len(was) else None
            b = _text(now[n].data) if n < len(now) else None
            if a == b:
                continue
            status = was[n] if n < len(was) else now[n]
            ref = (_text(status.source_refs[0]) if status.source_refs else "") or base
            out.differences.append(Difference(number, "status", cmd, ref, a, b))


def _compare_alerts(number: int, recorded: Message, reply: Message, out: SessionComparison) -> None:
    was, now = _sync_alerts(recorded), _sync_alerts(reply)
    for store in sorted(set(was) | set(now)):
        if was.get(store) != now.get(store):
            out.differences.append(Difference(number, "alert", "Alert", store, _alert_name(was.get(store)),
                                              _alert_name(now.get(store)), "sync type the server granted"))


def _num(text: str) -> int:
    return int(text) if text.isdigit() else 1 << 30
