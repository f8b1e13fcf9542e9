"""Small helpers shared by the server and client sessions: wire text,
item data, Meta fields, the Status of one item and Alert 222, the session id
in a RespURI, message size estimates, client-supplied values made safe for
a log line."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast
from urllib.parse import parse_qs, urlsplit

from ..model import Alert, AlertCode, CmdIDs, Command, Item, Message, Meta, Status, complete

__all__ = ["alert_next", "as_received", "estimate", "item_bytes", "item_status", "log_bare", "log_quoted", "log_text",
           "meta_format", "meta_type", "plain", "session_from_uri", "text", "wire_data"]

_LOG_MAX = 200  # characters of one client-supplied value in a log line


def text(value: object) -> str:
    """Item data or a value for a log line as text (bytes decoded as
    UTF-8, undecodable bytes replaced; None is "").  Model TEXT fields are
    ``str`` already: they need no conversion."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


def plain(value: str | None) -> str:
    """Text from the peer's message as we send it back: a plain ``str``, so
    that what arrived as WBXML opaque data (an :class:`~syncml_codec.model.OpaqueStr`)
    is answered as an inline string, as before the model's TEXT fields
    were always ``str``; "" where a lenient read of a broken message
    lacks it.

    >>> from syncml_codec.model import OpaqueStr
    >>> type(plain(OpaqueStr("./contacts"))).__name__, plain(None)
    ('str', '')
    """
    return "" if value is None else str(value)


def as_received(msg: Message[None]) -> Message:
    """A message read leniently, as the server and the replay take it: the
    strict message when nothing required is missing (:func:`~syncml_codec.model.complete`:
    it was refused for another reason, such as an Add without data), else
    the same object typed strict.  That is the one place where a lenient
    read enters the engine's strict types, because a broken message is still
    answered command by command (tests/engine/test_errors_and_conflicts.py,
    test_hostile_input.py).  What may then be None, and where it is checked:

    - SyncHdr: MsgID, Source and its LocURI, Target: checked before by
      ``SyncServer.handle`` (no answer without them); the replay reads what
      is there; VerDTD, VerProto, SessionID and Target/LocURI: read as
      ``x or ""``;
    - a command's CmdID: the command is refused with 400 (``ServerSession.receive``);
    - other required fields of a command (an item's Target/LocURI, a Map's
      Target, a Status's CmdRef...): read as ``x or ""`` or looked for
      with ``if x is not None``, as for optional fields.
    """
    strict = complete(msg, Message)
    return strict if strict is not None else cast(Message, msg)


def item_bytes(item: Item) -> bytes | None:
    data = item.data
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode("utf-8")
    return None


def wire_data(data: bytes) -> str | bytes:
    """Text when it is UTF-8 (readable in XML, inline in WBXML), else opaque."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data


def item_status(change: Command, item: Item, code: int, *, cmd_id: str, msg_ref: str) -> Status:
    """The Status of one item of an Add, Replace or Delete (a change with
    several items gets one each): CmdRef and Cmd of the change, the item's
    own Target and Source as TargetRef and SourceRef."""
    targets = (plain(item.target.loc_uri),) if item.target else ()
    sources = (plain(item.source.loc_uri),) if item.source else ()
    return Status.of(cmd_id=cmd_id, msg_ref=msg_ref, cmd_ref=change.cmd_id, cmd=change.TAG,
                     target_refs=targets, source_refs=sources, code=code)


def alert_next(ids: CmdIDs) -> Alert:
    """Alert 222: "send the next message of your package"."""
    return Alert(cmd_id=ids.next(), data=str(int(AlertCode.NEXT_MESSAGE)))


def meta_type(*metas: Meta | None) -> str | None:
    for meta in metas:
        if meta is not None and meta.type:
            return meta.type.strip()
    return None


def session_from_uri(uri: str) -> str | None:
    """The ``sessionid`` query parameter of ``uri`` (None if absent, or if
    the URI does not parse: it came from the client and may be garbage)."""
    try:
        values = parse_qs(urlsplit(uri).query).get("sessionid")
    except ValueError:
        return None
    return values[0] if values else None


def estimate(cmd: Command, measure: Callable[[Command], int], encoding: str) -> int:
    """The encoded size of ``cmd``: estimated (generously) for a plain Status,
    of which a big package has thousands, measured for anything else."""
    if isinstance(cmd, Status) and not cmd.items and cmd.chal is None:
        chars = sum(len(v) for v in (cmd.cmd_id, cmd.msg_ref, cmd.cmd_ref, cmd.cmd, cmd.data,
                                           *cmd.target_refs, *cmd.source_refs))
        return chars + (24 if encoding == "wbxml" else 160)
    return measure(cmd)


def meta_format(*metas: Meta | None) -> str | None:
    for meta in metas:
        if meta is not None and meta.format:
            value = meta.format.strip()
            if value and value.lower() not in ("chr", "bin"):
                return value
    return None


def _escape(value: str) -> str:
    out = []
    for ch in value[:_LOG_MAX]:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif not ch.isprintable():
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out) + ("..." if len(value) > _LOG_MAX else "")


def log_text(value: object) -> str:
    """A client-supplied value inside a log message, unquoted: escaped as in
    :func:`log_quoted`, so CR/LF never reach the line raw.

    >>> log_text("a\\r\\nb")
    'a\\\\r\\\\nb'
    """
    return _escape(text(value))


def log_quoted(value: object) -> str:
    """A client-supplied value for a log line, always in double quotes:
    quotes, backslashes and control characters escaped (CR/LF never reach
    the line raw), cut at 200 characters.

    >>> log_quoted('a"b\\r\\nWARNING: forged')
    '"a\\\\"b\\\\r\\\\nWARNING: forged"'
    >>> log_quoted(None)
    '"-"'
    """
    return '"' + _escape("-" if value is None else text(value)) + '"'


def log_bare(value: object) -> str:
    """Like :func:`log_quoted`, without quotes when the value is plain
    (letters, digits, ``.:-_[]%/``), as an address is: ``address=1.2.3.4``.

    >>> log_bare("::1"), log_bare("a b"), log_bare(None)
    ('::1', '"a b"', '-')
    """
    raw = "-" if value is None else text(value)
    if raw and len(raw) <= _LOG_MAX and all(c.isascii() and (c.isalnum() or c in ".:-_[]%/") for c in raw):
        return raw
    return log_quoted(raw)
