"""What the HTTP front records about each SyncML message: one structured
log line, and (optionally) an XML transcript of each session's traffic.

Both are best effort: a message that cannot be read or a transcript that
cannot be written costs a warning, never the answer to the client.

The log line is logfmt (``key=value`` pairs, values quoted when they hold a
space), one per HTTP exchange, on the ``syncml_codec.server`` logger at
INFO; the same fields go to ``record.syncml`` (a dict) for handlers that
want them structured::

    ts=2026-11-22T05:40:01.123Z session=4f2c msg=2 enc=wbxml http=200 in=1234 out=987
    cmds_in=Status:3,Sync:1,Add:2 cmds_out=Status:4,Sync:1 status_out=200:2,201:2 final=1 ms=4.1

``cmds_*`` count every command, those inside ``Sync``/``Atomic``/``Sequence``
too; ``status_in`` are the client's statuses for our commands,
``status_out`` ours for the client's.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..codec import wbxml as _wbxml
from ..codec.detect import sniff_encoding
from ..codec.xml import parse_xml, write_xml
from ..model import Atomic, Command, Message, Sequence, Status, Sync

__all__ = ["Journal", "Summary", "Transcripts", "log_line", "summarize"]

LOGGER = logging.getLogger("syncml_codec.server")


@dataclass
class Summary:
    """The facts about one message that go into the log line."""

    msg_id: str | None = None
    session_id: str | None = None
    final: bool = False
    commands: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)


def _walk(commands: tuple[Command, ...], summary: Summary) -> None:
    for command in commands:
        summary.commands[command.TAG] += 1
        if isinstance(command, Status):
            summary.statuses[(command.data or "?").strip()] += 1
        elif isinstance(command, (Sync, Atomic, Sequence)):
            _walk(command.commands, summary)


def summarize(body: bytes, content_type: str | None) -> Summary | None:
    """Header facts, command and status counts of a message; None when it
    cannot be read (the engine says why to the client)."""
    try:
        msg = Message.from_bytes(body, content_type, lenient=True)
    except Exception:
        return None
    summary = Summary()
    header = msg.header
    if header is not None:
        summary.msg_id = header.msg_id
        summary.session_id = header.session_id
    if msg.body is not None:
        summary.final = msg.body.final
        _walk(msg.body.commands or (), summary)
    return summary


def _counts(counter: Counter[str]) -> str:
    return ",".join(f"{k}:{n}" for k, n in sorted(counter.items())) or "-"


_BARE = re.compile(r"^[A-Za-z0-9_.:/,+@=-]*$")


def _value(value: Any) -> str:
    text = str(value)
    if text and _BARE.match(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def log_line(fields: dict[str, Any]) -> str:
    """``key=value ...`` in the order given; None values are left out.

    >>> log_line({"session": "a b", "msg": 1, "pkg": None, "ms": 2.5})
    'session="a b" msg=1 ms=2.5'
    """
    return " ".join(f"{k}={_value(v)}" for k, v in fields.items() if v is not None)


def timestamp(epoch: float) -> str:
    moment = _dt.datetime.fromtimestamp(epoch, _dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def _folder_name(session: str | None) -> str:
    if not session:
        return "no-session"
    name = _SAFE.sub("_", session)[:64].lstrip(".")
    return name or "no-session"


def render_xml(body: bytes, content_type: str | None) -> tuple[bytes, str]:
    """The message as readable XML and the file suffix for it; a body that
    is neither comes back as is with suffix ``.bin``."""
    try:
        if sniff_encoding(body, content_type) == "wbxml":
            return _wbxml.wbxml_to_xml(body, pretty=True), ".xml"
        return write_xml(parse_xml(body), pretty=True), ".xml"
    except Exception:
        return body, ".bin"


class Transcripts:
    """``DIR/<session>/NNN-request.xml`` and ``NNN-response.xml``, NNN
    counting the exchanges of that session from 001 (continuing after the
    files already there, so a restarted server does not overwrite)."""

    _REMEMBER = 1024  # sessions whose next number is kept in memory

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()
        self._next: OrderedDict[str, int] = OrderedDict()

    def _number(self, folder: Path) -> int:
        key = folder.name
        with self._lock:
            n = self._next.pop(key, None)
            if n is None:
                n = 1 + sum(1 for p in folder.glob("*-request.*")) if folder.is_dir() else 1
            self._next[key] = n + 1
            if len(self._next) > self._REMEMBER:
                self._next.popitem(last=False)
        return n

    def write(self, session: str | None, request: bytes, request_type: str | None,
              response: bytes | None, response_type: str | None) -> Path | None:
        """Write one exchange; returns the session folder (None on failure,
        which is logged)."""
        folder = self.root / _folder_name(session)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            n = self._number(folder)
            data, suffix = render_xml(request, request_type)
            (folder / f"{n:03d}-request{suffix}").write_bytes(data)
            if response is not None:
                data, suffix = render_xml(response, response_type)
                (folder / f"{n:03d}-response{suffix}").write_bytes(data)
        except OSError as exc:
            LOGGER.warning("transcript not written to %s: %s", folder, exc)
            return None
        return folder


class Journal:
    """Records each exchange: the log line, and the transcript when asked."""

    def __init__(self, logger: logging.Logger = LOGGER, transcripts: Transcripts | None = None) -> None:
        self.logger = logger
        self.transcripts = transcripts

    def record(self, now: float, session: str | None, request: bytes, request_type: str,
               response: bytes | None, response_type: str | None, http_status: str, ms: float,
               summary: Mapping[str, Any] | None = None) -> None:
        """One exchange.  ``summary`` (the engine's: ``session``, ``msg_id``,
        ``phase``, ``user``, ``device``, ``commands`` and ``statuses`` counts,
        ``seconds``) is used as it is; without it both messages are parsed
        for their counts."""
        if self.transcripts is not None:
            self.transcripts.write(session or (summary or {}).get("session"), request, request_type,
                                   response, response_type)
        if not self.logger.isEnabledFor(logging.INFO):
            return
        fields: dict[str, Any] = {"ts": timestamp(now), "session": session or "-"}
        if summary:
            fields["session"] = session or summary.get("session") or "-"
            fields["msg"] = summary.get("msg_id")
            fields["phase"] = summary.get("phase")
            fields["user"] = summary.get("user")
            fields["device"] = summary.get("device")
        fields["enc"] = sniff_encoding(request, request_type)
        fields["http"] = http_status
        fields["in"] = len(request)
        fields["out"] = len(response) if response is not None else 0
        if summary:
            if summary.get("error"):
                fields["error"] = summary["error"]
            fields["cmds_in"] = _counts(Counter(summary.get("commands") or {}))
            fields["status_out"] = _counts(Counter(summary.get("statuses") or {})) if summary.get("statuses") else None
        else:
            inbound = summarize(request, request_type)
            outbound = summarize(response, response_type) if response is not None else None
            fields["msg"] = inbound.msg_id if inbound else None
            if inbound is None:
                fields["error"] = "unreadable request"
            else:
                fields["cmds_in"] = _counts(inbound.commands)
                fields["status_in"] = _counts(inbound.statuses) if inbound.statuses else None
                fields["final_in"] = int(inbound.final)
            if outbound is not None:
                fields["cmds_out"] = _counts(outbound.commands)
                fields["status_out"] = _counts(outbound.statuses) if outbound.statuses else None
                fields["final_out"] = int(outbound.final)
        fields["ms"] = f"{ms:.1f}"
        self.logger.info(log_line(fields), extra={"syncml": fields})
