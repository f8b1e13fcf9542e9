"""A captured session told package by package: who sent what, the sync type
asked and granted per datastore, authentication and its outcome, item counts
per command, every Status with its meaning, chunked items, timings.

:func:`transcribe` turns the sessions of :func:`group_sessions` into plain
data (dataclasses whose :meth:`~Transcript.to_json` is the ``--json`` output
of ``syncml inspect``, documented in ``docs/transcript-json.md``).

Package numbers follow OMA DS 1.2: 0 the server's notification (SAN), 1 the
client's initialization (Alert with a sync type, Put/Get DevInf), 2 the
server's, 3 the client's modifications (Sync), 4 the server's, 5 the
client's data update status and Map, 6 the server's Map acknowledgement.
A package is the messages one side sends up to the one with ``Final``; the
other side's messages in between (Status, Alert 222 "next message") go with
it.  The number comes from what a client package holds: a sync-type Alert
makes it 1, a Sync 3 (a client that sends its changes with its
initialization gets ``[1, 3]``), a Map 5; otherwise the client's previous
package plus two.  A server package answers the client package before it
(``[2, 4]`` after ``[1, 3]``); two server packages in a row (the client's
between them not captured, or unreadable) number the second two on.  When a session skips packages (a server
that answers Status-only, a capture starting mid-session) the numbers skip
too; a package is never renumbered to fill a gap.

Everything here is bounded by the messages given: one pass over each
message's commands, containers (Atomic, Sequence in Sync) followed at most
:data:`_MAX_DEPTH` deep.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..codec.detect import sniff_encoding
from ..codec.san import Notification
from ..errors import SyncMLError
from ..model import (
    Alert,
    Atomic,
    Command,
    Cred,
    Delete,
    Item,
    Map,
    Meta,
    Results,
    SyncHdr,
    alert_meaning,
    status_meaning,
)
from ..model import Sequence as SequenceCmd
from ..model import Status as StatusCmd
from ..model import Sync as SyncCmd
from ..model.auth import AuthType
from ._records import (
    AuthCredential,
    AuthRecord,
    AuthVerdict,
    ChunkedItem,
    CommandRecord,
    DatastoreRecord,
    InputRecord,
    MessageRecord,
    PackageRecord,
    SanDatastore,
    SanRecord,
    SessionTranscript,
    StatusRef,
    Transcript,
)
from ._sessions import CapturedSession, SessionMessage
from ._types import Capture

__all__ = ["transcribe", "transcribe_session"]

_MAX_DEPTH = 16  # nested Atomic/Sequence followed this deep (the codec bounds nesting too)
_SYNC_TYPES = range(200, 211)
_CONTROL_ALERTS = range(221, 227)  # result, next message, no end of data, suspend, resume, unknown
_PACKAGE_NAMES = {
    0: "server alert (notification)", 1: "client initialization", 2: "server initialization",
    3: "client modifications", 4: "server modifications", 5: "data update status and map",
    6: "map acknowledgement",
}
_AUTH_SCHEMES = {AuthType.BASIC.value: "basic", AuthType.MD5.value: "md5", AuthType.MAC.value: "hmac"}



# -- helpers ---------------------------------------------------------------

def _str(value: object) -> str | None:
    return value.strip() if isinstance(value, str) else None


def _scheme(cred: Cred[None] | None) -> str | None:
    if cred is None:
        return None
    kind = cred.type
    return _AUTH_SCHEMES.get(kind, kind)


def _chal_type(meta: Meta[None] | None) -> str | None:
    if meta is None:
        return None
    kind = (meta.type or AuthType.BASIC.value).strip()
    return _AUTH_SCHEMES.get(kind, kind)


def _loc(obj: Any) -> str | None:
    uri = getattr(obj, "loc_uri", None) if obj is not None else None
    return uri.strip() if isinstance(uri, str) else None


def _norm(uri: str | None) -> str | None:
    """A datastore URI compared without ``./`` and a trailing slash."""
    if uri is None:
        return None
    out = uri.strip()
    while out.startswith("./"):
        out = out[2:]
    return out.rstrip("/") or None


def _data_size(data: Any) -> int:
    if isinstance(data, str):
        return len(data.encode("utf-8", "surrogatepass"))
    if isinstance(data, (bytes, bytearray)):
        return len(data)
    return 0


def _int(value: str | None) -> int | None:
    try:
        return int(value.strip()) if value is not None else None
    except ValueError:
        return None


def _count_changes(commands: Iterable[Command[None]], counts: dict[str, int], depth: int) -> list[CommandRecord]:
    """Item counts by operation of ``commands`` into ``counts``; records of
    the nested containers."""
    nested: list[CommandRecord] = []
    for cmd in commands:
        if isinstance(cmd, (Atomic, SequenceCmd, SyncCmd)):
            sub = _command(cmd, depth + 1)  # counted once, there: each level is walked once
            nested.append(sub)
            for name, n in sub.changes.items():
                counts[name] = counts.get(name, 0) + n
            continue
        n = len(getattr(cmd, "items", ()))
        name = "SftDel" if isinstance(cmd, Delete) and cmd.sft_del else cmd.TAG
        counts[name] = counts.get(name, 0) + (n or 1)
    return nested


def _command(cmd: Command[None], depth: int = 0) -> CommandRecord:
    rec = CommandRecord(cmd.TAG, _str(cmd.cmd_id))
    items: tuple[Item[None], ...] = getattr(cmd, "items", ())
    rec.items = len(items)
    rec.more_data = sum(1 for item in items if item.more_data)
    rec.cred = _scheme(getattr(cmd, "cred", None))
    if items:
        rec.target, rec.source = _loc(items[0].target), _loc(items[0].source)
    if isinstance(cmd, StatusCmd):
        rec.code = int(cmd.code) if cmd.code is not None else None
        rec.meaning = status_meaning(int(cmd.code)) if cmd.code is not None else f"not a code: {cmd.data!r}"
        rec.answers = StatusRef(_str(cmd.cmd), _str(cmd.cmd_ref), _str(cmd.msg_ref), len(cmd.target_refs),
                                len(cmd.source_refs))
        if cmd.target_refs:
            rec.target = cmd.target_refs[0].strip()
        if cmd.source_refs:
            rec.source = cmd.source_refs[0].strip()
        if cmd.chal is not None:
            meta = cmd.chal.meta
            rec.chal_type = _chal_type(meta)
            rec.next_nonce = bool(meta is not None and meta.next_nonce)
    elif isinstance(cmd, Alert):
        rec.code = int(cmd.code) if cmd.code is not None else None
        rec.meaning = alert_meaning(int(cmd.code)) if cmd.code is not None else None
    elif isinstance(cmd, Results):
        rec.answers = StatusRef(None, _str(cmd.cmd_ref), _str(cmd.msg_ref), int(cmd.target_ref is not None),
                                int(cmd.source_ref is not None))
    elif isinstance(cmd, Map):
        rec.target, rec.source = _loc(cmd.target), _loc(cmd.source)
        rec.items = len(cmd.map_items)
    elif isinstance(cmd, (SyncCmd, Atomic, SequenceCmd)):
        if isinstance(cmd, SyncCmd):
            rec.target, rec.source = _loc(cmd.target), _loc(cmd.source)
        rec.items = 0
        if depth < _MAX_DEPTH:
            rec.commands = _count_changes(cmd.commands, rec.changes, depth)
            rec.more_data = sum(c.more_data for c in rec.commands) + _chunked_in(cmd.commands)
    return rec


def _chunked_in(commands: Iterable[Command[None]]) -> int:
    return sum(1 for cmd in commands if not isinstance(cmd, (Atomic, SequenceCmd, SyncCmd))
               for item in getattr(cmd, "items", ()) if item.more_data)


def _header(sm: SessionMessage) -> SyncHdr[None] | None:
    header = sm.message.header if sm.message is not None else None
    return header if isinstance(header, SyncHdr) else None


def _message(sm: SessionMessage, index: int, start: float | None, previous: float | None) -> MessageRecord:
    cap = sm.captured
    encoding = "san" if cap.kind == "san" else sniff_encoding(cap.data, cap.content_type) if cap.data else "xml"
    rec = MessageRecord(index, sm.direction, None, len(cap.data), encoding, cap.origin)
    if cap.time is not None and start is not None:
        rec.time = round(cap.time - start, 6)
        rec.gap = round(cap.time - previous, 6) if previous is not None else 0.0
    if cap.http is not None:
        rec.http_status = cap.http.status
    rec.error, rec.problem = sm.error, sm.problem
    header = _header(sm)
    if header is not None:
        rec.msg_id = _str(header.msg_id)
        rec.resp_uri = _str(header.resp_uri)
        rec.cred = _scheme(header.cred)
    if sm.message is not None:
        rec.final = sm.message.final
        rec.commands = [_command(cmd) for cmd in sm.message.commands]
    return rec


# -- packages ----------------------------------------------------------------

def _client_numbers(msgs: Sequence[MessageRecord], last_client: list[int]) -> list[int]:
    names = {c.name for m in msgs if m.direction == "client" for c in m.commands}
    sync_alert = any(c.name == "Alert" and c.code in _SYNC_TYPES for m in msgs if m.direction == "client"
                     for c in m.commands)
    numbers: list[int] = []
    if sync_alert or (not last_client and names & {"Put", "Get"}):
        numbers.append(1)
    if "Sync" in names:
        numbers.append(3)
    if "Map" in names and 3 not in numbers:
        numbers.append(5)
    if not numbers:
        numbers.append(max(last_client) + 2 if last_client else 1)
    return numbers


def _name(numbers: Sequence[int]) -> str:
    return " + ".join(_PACKAGE_NAMES.get(n, f"package {n}") for n in numbers) or "package"


def _packages(records: Sequence[MessageRecord]) -> list[PackageRecord]:
    packages: list[PackageRecord] = []
    open_pkg: PackageRecord | None = None
    for rec in records:
        if rec.encoding == "san":
            packages.append(PackageRecord([0], _PACKAGE_NAMES[0], "server", True, [rec]))
            open_pkg = None
            continue
        sender = rec.direction
        if rec.error is not None:  # unreadable: with the package it came in
            target = open_pkg or (packages[-1] if packages else None)
            if target is None:
                target = PackageRecord([], "unreadable", sender, False)
                packages.append(target)
            target.messages.append(rec)
            continue
        if open_pkg is not None and open_pkg.sender != sender and not rec.final:
            open_pkg.messages.append(rec)  # the other side's reply inside a multi-message package
            continue
        if open_pkg is None or open_pkg.sender != sender:
            open_pkg = PackageRecord([], "", sender, False)
            packages.append(open_pkg)
        open_pkg.messages.append(rec)
        if rec.final:
            open_pkg.complete = True
            open_pkg = None
    last_client: list[int] = []
    next_server = [2]  # what the server's next package is: the answer to the client's last one
    for pkg in packages:
        if pkg.numbers or pkg.name:
            continue
        if pkg.sender == "client":
            pkg.numbers = _client_numbers(pkg.messages, last_client)
            last_client = pkg.numbers
            next_server = [n + 1 for n in last_client]
        elif pkg.sender == "server":
            pkg.numbers = next_server  # (two in a row: the client's package between them was not captured)
            next_server = [n + 2 for n in pkg.numbers]
        pkg.name = _name(pkg.numbers) if pkg.numbers else "package from an unknown sender"
    return packages


# -- datastores, auth, chunks -------------------------------------------------

class _Stores:
    """A session's datastores, found by either side's URI (compared without
    ``./``): one dictionary look-up per command, however many there are."""

    def __init__(self, out: list[DatastoreRecord]) -> None:
        self.out = out
        self.by_client: dict[str, DatastoreRecord] = {}
        self.by_server: dict[str, DatastoreRecord] = {}

    def __call__(self, client_uri: str | None, server_uri: str | None) -> DatastoreRecord:
        c, s = _norm(client_uri), _norm(server_uri)
        ds = self.by_client.get(c) if c is not None else None
        if ds is None and s is not None:
            found = self.by_server.get(s)
            if found is not None and (c is None or found.client_uri is None):
                ds = found
        if ds is None:
            ds = DatastoreRecord(client_uri, server_uri)
            self.out.append(ds)
        if ds.client_uri is None:
            ds.client_uri = client_uri
        if ds.server_uri is None:
            ds.server_uri = server_uri
        if c is not None:
            self.by_client.setdefault(c, ds)
        if s is not None:
            self.by_server.setdefault(s, ds)
        return ds


def _anchor(item: Item[None]) -> tuple[str | None, str | None]:
    anchor = item.meta.anchor if item.meta is not None else None
    if anchor is None:
        return None, None
    return _str(anchor.last), _str(anchor.next)


def _add(counts: dict[str, int], more: dict[str, int]) -> None:
    for k, v in more.items():
        counts[k] = counts.get(k, 0) + v


def _walk(session: CapturedSession, tr: SessionTranscript) -> None:
    """Datastores, auth, chunked items, control alerts, errors."""
    stores = _Stores(tr.datastores)
    alert_ids: dict[tuple[str | None, str | None], DatastoreRecord] = {}  # (msg id, cmd id) of client Alerts
    open_chunks: dict[tuple[str, str, str | None], ChunkedItem] = {}
    by_index = {m.index: m for m in tr.messages}
    for index, sm in enumerate(session.messages, 1):
        rec = by_index.get(index)
        msg = sm.message
        if msg is None or rec is None:
            continue
        header = _header(sm)
        sender = sm.direction
        if sender == "client" and header is not None and header.cred is not None:
            tr.auth.credentials.append(AuthCredential(_scheme(header.cred) or "?", "SyncHdr", index))
        for cmd, crec in zip(msg.commands, rec.commands, strict=True):
            cred = getattr(cmd, "cred", None)
            if sender == "client" and isinstance(cred, Cred):
                tr.auth.credentials.append(AuthCredential(_scheme(cred) or "?", cmd.TAG, index))
            if isinstance(cmd, Alert) and cmd.code is not None:
                if cmd.code in _CONTROL_ALERTS:
                    tr.alerts.append(crec)
                elif cmd.code in _SYNC_TYPES:
                    for item in cmd.items:
                        last, nxt = _anchor(item)
                        if sender == "server":
                            ds = stores(_loc(item.target), _loc(item.source))
                            ds.granted, ds.granted_meaning = int(cmd.code), alert_meaning(int(cmd.code))
                            ds.server_last, ds.server_next = last, nxt
                        else:
                            ds = stores(_loc(item.source), _loc(item.target))
                            ds.asked, ds.asked_meaning = int(cmd.code), alert_meaning(int(cmd.code))
                            ds.client_last, ds.client_next = last, nxt
                            alert_ids[(rec.msg_id, crec.cmd_id)] = ds
            elif isinstance(cmd, StatusCmd):
                _status(cmd, crec, sender, index, tr, alert_ids)
            elif isinstance(cmd, SyncCmd):
                if sender == "server":
                    ds = stores(_loc(cmd.target), _loc(cmd.source))
                    counts = ds.from_server
                else:
                    ds = stores(_loc(cmd.source), _loc(cmd.target))
                    counts = ds.from_client
                _add(counts, crec.changes)
                _chunks(cmd, sender, open_chunks, tr.chunked_items, 0, counts)
                continue
            elif isinstance(cmd, Map) and sender == "client":
                ds = stores(_loc(cmd.source), _loc(cmd.target))
                ds.from_client["Map"] = ds.from_client.get("Map", 0) + len(cmd.map_items)
            _chunks(cmd, sender, open_chunks, tr.chunked_items, 0)
    for chunk in open_chunks.values():
        chunk.complete = False


def _status(cmd: StatusCmd[None], crec: CommandRecord, sender: str, index: int, tr: SessionTranscript,
            alert_ids: dict[tuple[str | None, str | None], DatastoreRecord]) -> None:
    answered = _str(cmd.cmd)
    code = cmd.code
    if answered == "SyncHdr" and sender == "server":
        tr.auth.verdicts.append(AuthVerdict(code, crec.meaning or "", crec.chal_type, crec.next_nonce, index))
        return
    if answered == "Alert" and sender == "server":
        ds = alert_ids.get((_str(cmd.msg_ref), _str(cmd.cmd_ref)))
        if ds is not None:
            ds.alert_status = code
    if code == 508 and answered == "Alert":  # refresh required: the server asks for a slow sync, not a failure
        return
    if code is None or code >= 400:
        what = f"{code} {crec.meaning}" if code is not None else crec.meaning
        tr.errors.append(f"message {index} ({sender}): Status {what} for {answered} "
                         f"#{_str(cmd.cmd_ref)} of message {_str(cmd.msg_ref)}")


def _chunks(cmd: Command[None], sender: str, open_chunks: dict[tuple[str, str, str | None], ChunkedItem],
            out: list[ChunkedItem], depth: int, counts: dict[str, int] | None = None) -> None:
    """Follow the chunked items of ``cmd``; a chunk that continues an item
    is taken out of ``counts`` (the datastore's, which counted it as an item)."""
    if isinstance(cmd, (Atomic, SequenceCmd, SyncCmd)):
        if depth < _MAX_DEPTH:
            for sub in cmd.commands:
                _chunks(sub, sender, open_chunks, out, depth + 1, counts)
        return
    if isinstance(cmd, (StatusCmd, Results, Alert)):
        return
    for item in getattr(cmd, "items", ()):
        uri = _loc(item.source) or _loc(item.target)
        key = (sender, cmd.TAG, uri)
        chunk = open_chunks.get(key)
        if chunk is None:
            if not item.more_data:
                continue
            size = _int(item.meta.size) if item.meta is not None else None
            chunk = ChunkedItem(sender, cmd.TAG, uri, 0, size, 0, False)
            open_chunks[key] = chunk
            out.append(chunk)
        elif counts is not None and counts.get(cmd.TAG):
            counts[cmd.TAG] -= 1  # the same item again, not one more
        chunk.chunks += 1
        chunk.received_size += _data_size(item.data)
        if not item.more_data:
            del open_chunks[key]
            chunk.complete = chunk.declared_size is None or chunk.declared_size == chunk.received_size


def _auth_outcome(auth: AuthRecord) -> str:
    if not auth.verdicts:
        return "unknown"
    codes = [v.code for v in auth.verdicts]
    last = codes[-1]
    if 212 in codes and (last is not None and last < 300):
        return "authenticated"
    if last == 200:
        return "authenticated" if auth.credentials else "not required"
    if last == 212:
        return "authenticated"
    return "refused" if last in (401, 403, 407) else "unknown"


def _outcome(tr: SessionTranscript) -> tuple[str, str]:
    if tr.auth.outcome == "refused":
        verdict = tr.auth.verdicts[-1]
        return "failed", f"authentication refused: {verdict.code} {verdict.meaning}"
    refused = [v for v in tr.auth.verdicts if v.code is not None and v.code >= 300 and v.code not in (401, 407)]
    if refused:
        return "failed", f"SyncHdr Status {refused[0].code} {refused[0].meaning}"
    if tr.errors:
        return "failed", tr.errors[0]
    if not tr.packages:
        return "incomplete", "no messages"
    last = tr.packages[-1]
    if not last.complete:
        return "incomplete", f"the capture ends inside package {'+'.join(map(str, last.numbers)) or '?'} " \
                             f"(no Final from {'the ' + last.sender if last.sender != 'unknown' else 'its sender'})"
    if last.sender not in ("client", "server"):
        return "incomplete", "who sent the last package cannot be told, so neither whether it was answered"
    answers_only = all(c.name in ("Status", "Results") for m in last.messages if m.direction == last.sender
                       for c in m.commands)
    if last.sender == "client" and not answers_only:
        return "incomplete", "the capture ends before the server answered the client's last package"
    return "completed", f"package {'+'.join(map(str, last.numbers))} from the {last.sender} ended with Final"


def _san(sm: SessionMessage, tr: SessionTranscript) -> None:
    try:
        note = Notification.from_bytes(sm.captured.data)
    except (SyncMLError, ValueError) as exc:
        tr.san = SanRecord(error=str(exc))
        tr.errors.append(f"notification: {exc}")
        tr.outcome, tr.reason = "failed", f"the notification could not be decoded: {exc}"
        return
    tr.san = SanRecord(note.version, note.ui_mode.name.lower().replace("_", " "), note.initiator.name.lower(),
                       note.session_id, note.server_id,
                       [SanDatastore(a.sync_type, alert_meaning(a.sync_type), a.server_uri, a.content_type)
                        for a in note.alerts])
    tr.session_id = str(note.session_id)
    tr.server = note.server_id
    tr.outcome, tr.reason = "completed", "a notification (package 0) is one message"


def transcribe_session(session: CapturedSession, index: int = 1) -> SessionTranscript:
    """The transcript of one session (``index`` numbers it in the run)."""
    tr = SessionTranscript(index, session.kind, session.session_id, session.device, session.server)
    times = [sm.captured.time for sm in session.messages if sm.captured.time is not None]
    start = min(times) if times else None
    previous: float | None = None
    records: list[MessageRecord] = []
    for i, sm in enumerate(session.messages, 1):
        records.append(_message(sm, i, start, previous))
        if sm.captured.time is not None:
            previous = sm.captured.time
        if sm.error is not None:
            tr.errors.append(f"message {i} ({sm.captured.origin}): {sm.error}")
    if times and start is not None:
        tr.duration = round(max(times) - start, 6)
    tr.packages = _packages(records)
    encodings = sorted({r.encoding for r in records if r.error is None})
    tr.encoding = encodings[0] if len(encodings) == 1 else ("mixed" if encodings else None)
    for sm, rec in zip(session.messages, records, strict=True):
        if rec.resp_uri and rec.resp_uri not in tr.resp_uris:
            tr.resp_uris.append(rec.resp_uri)
        if tr.version is None and sm.message is not None and _header(sm) is not None:
            tr.version = sm.message.version
    if session.kind == "san":
        _san(session.messages[0], tr)
        return tr
    _walk(session, tr)
    tr.auth.outcome = _auth_outcome(tr.auth)
    tr.outcome, tr.reason = _outcome(tr)
    return tr


def transcribe(sessions: Iterable[CapturedSession], captures: Iterable[Capture] = ()) -> Transcript:
    """The transcript of ``sessions`` (from :func:`group_sessions`), with the
    ``captures`` they were read from as its inputs."""
    out = Transcript()
    for cap in captures:
        out.inputs.append(InputRecord(cap.name, cap.kind, len(cap.messages),
                                      [{"origin": n.origin, "text": n.text, "error": n.error} for n in cap.notes]))
    out.sessions = [transcribe_session(s, i) for i, s in enumerate(sessions, 1)]
    _challenges_met(out.sessions)
    return out


def _challenges_met(sessions: Sequence[SessionTranscript]) -> None:
    """A session refused with a challenge whose device logs in in a later
    session (SyncEvolution starts a new SessionID to answer a 401): said in
    the refused one's reason, which stays ``failed``."""
    for k, tr in enumerate(sessions):
        if tr.auth.outcome != "refused" or not tr.auth.verdicts or not tr.auth.verdicts[-1].chal_type:
            continue
        later = next((s for s in sessions[k + 1:] if s.kind == "syncml" and s.device == tr.device), None)
        if later is not None and later.auth.outcome == "authenticated":
            tr.reason += f"; its {tr.auth.verdicts[-1].chal_type} challenge is met in session {later.index}"
