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
``status_out`` ours for the client's; ``addr`` is the client's address.

Every value is escaped (:func:`escape_log_text`): CR, LF, other control
characters and non-printable characters become ``\\r``, ``\\n``, ``\\xNN``,
``\\uNNNN``, so a session id, device URI or path from a client cannot end a
log line and forge the next one.

Transcripts hold what clients sent, so they are the operator's secrets:
only sessions the engine authenticated get one (the caller decides), each
``Cred``'s ``<Data>`` is replaced by ``REDACTED`` on the parsed message
(request and response, XML and WBXML; the Cred's ``Meta`` with Type and
Format stays), a message that cannot be parsed is not kept (a one-line
note with its size and SHA-256 stands in for it), and files are created
0600 in folders 0700 whatever the process umask.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
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
from ..codec.tree import Document
from ..codec.xml import parse_xml, write_xml
from ..model import Atomic, Command, Message, Sequence, Status, Sync

__all__ = ["REDACTED", "Journal", "Summary", "Transcripts", "escape_log_text", "log_line", "redact", "summarize"]

#: the logger ``syncml_codec.server``: the per-message lines and the server's warnings
LOGGER = logging.getLogger("syncml_codec.server")


@dataclass
class Summary:
    """The facts about one message that go into the log line."""

    msg_id: str | None = None
    session_id: str | None = None
    final: bool = False
    commands: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)


def _walk(commands: tuple[Command[None], ...], summary: Summary) -> None:
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
# candidates for escaping: ASCII controls and everything outside ASCII (most
# of which is printable and kept: see _escape_char)
_SUSPECT = re.compile(r"[\x00-\x1f\x7f-\U0010ffff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(match: re.Match[str]) -> str:
    ch = match.group()
    if ch in _NAMED:
        return _NAMED[ch]
    if ch.isprintable():  # letters, marks, symbols of any script: kept
        return ch
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def escape_log_text(text: str) -> str:
    """``text`` with CR, LF, tab, other control characters and every
    non-printable character (U+2028 LINE SEPARATOR, ...) written as
    escapes, so that it cannot start a new log line.  Backslashes are
    kept: this is for messages, :func:`log_line` quotes values fully.

    >>> escape_log_text("abc\\r\\nts=forged \\x1b[31m\\u2028é")
    'abc\\\\r\\\\nts=forged \\\\x1b[31m\\\\u2028é'
    """
    return _SUSPECT.sub(_escape_char, text)


def _value(value: Any) -> str:
    text = str(value)
    if text and _BARE.match(text):
        return text
    return '"' + escape_log_text(text.replace("\\", "\\\\").replace('"', '\\"')) + '"'


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


#: what a credential's data becomes in a transcript
REDACTED = "REDACTED"


def redact(doc: Document) -> int:
    """Replace the ``<Data>`` of every ``<Cred>`` in ``doc`` (the SyncHdr's
    and any command's) by :data:`REDACTED`, keeping its ``<Meta>`` (Type,
    Format); returns how many were replaced.  Basic credentials are the
    password itself; MD5 ones are replayable for their nonce, and the
    ``b64(md5(user:password))`` inside is password-equivalent: neither is
    kept.

    >>> doc = parse_xml(b"<SyncML><SyncHdr><Cred><Meta><Type>syncml:auth-basic</Type></Meta>"
    ...                 b"<Data>dGVzdDpzZWNyZXQ=</Data></Cred></SyncHdr></SyncML>")
    >>> redact(doc), doc.root.find("SyncHdr").find("Cred").find("Data").text
    (1, 'REDACTED')
    """
    count = 0
    for element in doc.root.iter():
        if element.tag == "Cred":
            for data in element.findall("Data"):
                data.children = [REDACTED]
                count += 1
    return count


def render_xml(body: bytes, content_type: str | None) -> tuple[bytes, str]:
    """The message as readable XML with its credentials redacted, and the
    file suffix for it.  A body that cannot be parsed (so cannot be
    redacted) is not kept: a one-line note with its size and SHA-256
    stands in for it, with suffix ``.txt``."""
    try:
        doc = _wbxml.decode(body) if sniff_encoding(body, content_type) == "wbxml" else parse_xml(body)
        redact(doc)
        return write_xml(doc, pretty=True), ".xml"
    except Exception:
        digest = hashlib.sha256(body).hexdigest()
        return (f"unreadable message of {len(body)} bytes, sha256 {digest} (not kept: it could hold "
                f"credentials)\n").encode(), ".txt"


def _write_private(path: Path, data: bytes) -> None:
    """Create ``path`` (it must not exist, nor be a symlink) mode 0600,
    whatever the umask, and write ``data``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o600)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)  # the mode given to open is masked by the umask
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def _private_folder(folder: Path) -> None:
    """Create ``folder`` mode 0700 (not its parents), whatever the umask;
    an existing folder is left as it is."""
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        return
    os.chmod(folder, 0o700)


class Transcripts:
    """``DIR/<session>/NNN-request.xml`` and ``NNN-response.xml``, NNN
    counting the exchanges of that session from 001 (continuing after the
    files already there, so a restarted server does not overwrite).  Several
    worker processes write a session's exchanges into one folder (issue 12):
    a number another process took is skipped."""

    _REMEMBER = 1024  # sessions whose next number is kept in memory

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()
        self._next: OrderedDict[str, int] = OrderedDict()
        try:
            mode = self.root.stat().st_mode & 0o777
        except OSError:
            mode = 0  # created 0700 at the first transcript
        if mode & 0o077:
            LOGGER.warning("transcript folder %s is open to other users (mode %04o): its folder names are "
                           "session ids; chmod 700 it", escape_log_text(str(self.root)), mode)

    def _number(self, folder: Path) -> int:
        key = folder.name
        with self._lock:
            n = self._next.pop(key, None)
            if n is None:
                n = 1 + sum(1 for p in folder.glob("*-request.*")) if folder.is_dir() else 1
            while any(folder.glob(f"{n:03d}-request.*")):  # written by another worker process
                n += 1
            self._next[key] = n + 1
            if len(self._next) > self._REMEMBER:
                self._next.popitem(last=False)
        return n

    def exists(self, session: str) -> bool:
        """Whether ``session`` already has a transcript folder."""
        return (self.root / _folder_name(session)).is_dir()

    def write(self, session: str, request: bytes, request_type: str | None,
              response: bytes | None, response_type: str | None) -> Path | None:
        """Write one exchange; returns the session folder (None on failure,
        which is logged)."""
        folder = self.root / _folder_name(session)
        try:
            if not self.root.is_dir():
                self.root.parent.mkdir(parents=True, exist_ok=True)
                _private_folder(self.root)
            _private_folder(folder)
            data, suffix = render_xml(request, request_type)
            for _ in range(100):
                n = self._number(folder)
                try:
                    _write_private(folder / f"{n:03d}-request{suffix}", data)
                    break
                except FileExistsError:  # another worker process took the number just now
                    continue
            if response is not None:
                data, suffix = render_xml(response, response_type)
                _write_private(folder / f"{n:03d}-response{suffix}", data)
        except OSError as exc:
            LOGGER.warning("transcript not written to %s: %s", escape_log_text(str(folder)),
                           escape_log_text(str(exc)))
            return None
        return folder


class Journal:
    """Records each exchange: the log line, and the transcript when asked."""

    def __init__(self, logger: logging.Logger = LOGGER, transcripts: Transcripts | None = None) -> None:
        self.logger = logger
        self.transcripts = transcripts

    def record(self, now: float, session: str | None, request: bytes, request_type: str,
               response: bytes | None, response_type: str | None, http_status: str, ms: float,
               summary: Mapping[str, Any] | None = None, *, remote: str | None = None,
               transcript: str | None = None, existing_only: bool = False) -> None:
        """One exchange.  ``summary`` (the engine's: ``session``, ``msg_id``,
        ``phase``, ``user``, ``device``, ``commands`` and ``statuses`` counts,
        ``seconds``) is used as it is; without it both messages are parsed
        for their counts.  ``remote``: the client's address.

        ``transcript``: the session to file the exchange under (None: no
        transcript; the caller passes only a session the engine
        authenticated); with ``existing_only`` only into a folder that
        already exists (an exchange that failed in a known session)."""
        if self.transcripts is not None and transcript is not None and (
                not existing_only or self.transcripts.exists(transcript)):
            self.transcripts.write(transcript, request, request_type, response, response_type)
        if not self.logger.isEnabledFor(logging.INFO):
            return
        fields: dict[str, Any] = {"ts": timestamp(now), "session": session or "-"}
        if summary:
            fields["session"] = session or summary.get("session") or "-"
            fields["msg"] = summary.get("msg_id")
            fields["phase"] = summary.get("phase")
            fields["user"] = summary.get("user")
            fields["device"] = summary.get("device")
        fields["addr"] = remote
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
