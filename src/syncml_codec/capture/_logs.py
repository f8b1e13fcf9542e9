"""Client logs that hold the messages they sent and received.

**Text logs** (Funambol's Outlook client and plug-in, its Java client API,
and any log that writes XML messages into its text): every
``<SyncML ...>...</SyncML>`` is cut out with the ``<?xml`` prolog before it.
The log line that introduces a message says who sent it: "request", "sent",
"Initialization message" (the client's), "response", "Response read" (the
server's); the nearest such line wins, and with none the direction is left
to the session grouping.  The time comes from the nearest time stamp before
the message: seconds since midnight, or since the epoch when the log gives
the date (on that line or in its first lines; a ``GMT +10:00`` offset is
applied, a time without one is taken as UTC).  A message that meets the next
log line (or another ``<SyncML``, or the end) before its ``</SyncML>`` is cut
short: an error note with its line, the other messages still come out.

**SyncEvolution logs**: the Synthesis engine behind SyncEvolution does not put
messages into its HTML log (``syncevolution-log.html``) but writes each one to
a file beside it and links it from the log: at ``loglevel`` 4 the XML
translation (``..._trmNNN_SEQ_outgoing.xml``), at 5 also the message as sent
or received (``..._msgNNN_SEQ_incoming.wbxml`` or ``.xml``; the WBXML ones are
not linked).  A log directory (or its HTML file, read from a path) gives those
messages in sequence order, the raw dump where there is one, else the
translation, with the time of the log line and the direction from the
session's role ("Client Session started": outgoing is the client's; without
the HTML log, the side whose message comes first is the client).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable

from ._types import Capture, CapturedMessage, CaptureNote, Direction

__all__ = ["is_synthesis_log", "looks_like_log", "read_log", "read_syncevolution_dir", "syncevolution_dumps"]

_MAX_MESSAGES = 100_000
_MAX_DUMP = 64 * 1024 * 1024

_START = re.compile(rb"<SyncML[\s>/]")
_END = b"</SyncML>"
_PROLOG = re.compile(rb"<\?xml[^>]{0,200}\?>\s*(?:<!DOCTYPE[^>]{0,400}>\s*)?$")
#: a log line: an optional date, a time of day (seconds, maybe fractions), maybe a GMT offset
_STAMP = re.compile(
    rb"^[ \t]*(?:\[)?(?:(\d{4})-(\d\d)-(\d\d)[ T])?(\d\d):(\d\d):(\d\d)(?:[:.,](\d{1,6}))?"
    rb"(?:\s*GMT\s*([+-])(\d\d):?(\d\d))?", re.M)
_CLIENT = re.compile(rb"request|\bsent\b|\bsending\b|initiali[sz]ation message|modification message|"
                     rb"alert message|mapping message|finali[sz]ation message", re.I)
_SERVER = re.compile(rb"response|\breceived\b|\breceiving\b", re.I)
_LOOKBACK = 4  # log lines before a message searched for its direction


def looks_like_log(data: bytes) -> bool:
    """Text with a ``<SyncML`` element that is not an XML document."""
    return _START.search(data[:4 * 1024 * 1024]) is not None


def is_synthesis_log(data: bytes) -> bool:
    """Whether ``data`` is the HTML log of the Synthesis engine (SyncEvolution's)."""
    head = data[:4096]
    return b"SySync" in head and b"<html" in head.lower()


def _line_of(data: bytes, pos: int, cache: list[int]) -> int:
    """1-based line number of ``pos``; ``cache`` = [last pos, its line] keeps it linear."""
    if pos < cache[0]:
        cache[0], cache[1] = 0, 1
    cache[1] += data.count(b"\n", cache[0], pos)
    cache[0] = pos
    return cache[1]


def _time(m: re.Match[bytes], date: tuple[int, int, int] | None) -> tuple[float, tuple[int, int, int] | None]:
    """Seconds of a time stamp: since the epoch when a date is known, else since midnight."""
    hh, mm, ss = int(m.group(4)), int(m.group(5)), int(m.group(6))
    frac = m.group(7)
    secs = hh * 3600 + mm * 60 + ss + (int(frac) / 10 ** len(frac) if frac else 0.0)
    if m.group(1):
        date = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if date is None:
        return secs, None
    offset = 0
    if m.group(8):
        offset = (int(m.group(9)) * 3600 + int(m.group(10)) * 60) * (-1 if m.group(8) == b"-" else 1)
    try:
        midnight = dt.datetime(*date, tzinfo=dt.timezone.utc).timestamp()
    except ValueError:
        return secs, None
    return midnight + secs - offset, date


def _direction(text: bytes) -> Direction | None:
    client, server = _CLIENT.search(text), _SERVER.search(text)
    if client and not server:
        return "client"
    if server and not client:
        return "server"
    return None


def read_log(data: bytes, name: str) -> Capture:
    """The messages written into a text log (or, for a Synthesis HTML log, the
    dump files it links: :func:`read_syncevolution_dir`)."""
    if is_synthesis_log(data):
        folder = os.path.dirname(name) or "."
        if name == "-" or not os.path.isdir(folder):
            cap = Capture(name, "log")
            cap.notes.append(CaptureNote(name, "a SyncEvolution (Synthesis) HTML log keeps its messages in files "
                                               "beside it: read it from its folder", error=True))
            return cap
        return read_syncevolution_dir(folder, html=data, html_name=name)
    return _read_text_log(data, name)


def _read_text_log(data: bytes, name: str) -> Capture:
    cap = Capture(name, "log")
    if not data:
        cap.notes.append(CaptureNote(name, "empty input", error=True))
        return cap
    first = _START.search(data)
    if first is None:
        cap.notes.append(CaptureNote(name, "no SyncML message (no '<SyncML') in the log", error=True))
        return cap
    head = _STAMP.search(data, 0, min(len(data), 4096))
    date = (int(head.group(1)), int(head.group(2)), int(head.group(3))) if head and head.group(1) else None
    lines = [0, 1]
    pos = 0
    day = 0.0
    last: float | None = None
    ends = _Ahead(lambda at: data.find(_END, at))
    stamps_ahead = _Ahead(lambda at: _found(_STAMP.search(data, at)))
    count = 0
    while True:
        m = _START.search(data, pos)
        if m is None:
            break
        count += 1
        if count > _MAX_MESSAGES:
            cap.notes.append(CaptureNote(name, f"more than {_MAX_MESSAGES} messages: the rest is not read", True))
            break
        start = m.start()
        line_start = data.rfind(b"\n", 0, start) + 1
        # the prolog: on this line before <SyncML, or ending the line before
        prev_start = data.rfind(b"\n", 0, max(line_start - 1, 0)) + 1 if line_start else 0
        pm = _PROLOG.search(data, prev_start, start)
        begin = pm.start() if pm is not None and pos <= pm.start() else start
        line = _line_of(data, begin, lines)
        where = f"{name}:{line}"
        # the searches ahead remember what they found, so that many messages without an end stay linear
        end = ends.next(m.end())
        eol = data.find(b"\n", m.end())
        stamp = stamps_ahead.next(eol + 1) if eol >= 0 else None
        nxt_start = _START.search(data, m.end())
        limit = min(stamp if stamp is not None else len(data), nxt_start.start() if nxt_start else len(data))
        if end is None:
            end = -1
        if end < 0 or end > limit:
            stop = "the end of the log" if limit >= len(data) else f"line {_line_of(data, limit, lines)}"
            cap.notes.append(CaptureNote(where, f"message cut short: no </SyncML> before {stop}", error=True))
            pos = max(limit, m.end())
            continue
        end += len(_END)
        # who and when: the log lines before the message (and this line's text before it)
        stamps = list(_stamps_before(data, begin, pos))
        direction: Direction = "unknown"
        for text in [data[line_start:begin]] + [data[s.start():e] for s, e in stamps]:
            found = _direction(text)
            if found:
                direction = found
                break
        when: float | None = None
        if stamps:
            when, date = _time(stamps[0][0], date)
            when += day
            if last is not None and when < last - 12 * 3600:  # past midnight
                day += 86400.0
                when += 86400.0
            last = when
        cap.messages.append(CapturedMessage(data[begin:end], where, direction=direction, time=when,
                                            content_type="application/vnd.syncml+xml", stream=name))
        pos = end
    return cap


def _found(m: re.Match[bytes] | None) -> int:
    return m.start() if m is not None else -1


class _Ahead:
    """The next place a search finds at or after a position that only grows:
    searched again only when the position has passed the last find, so the
    text is scanned about once."""

    def __init__(self, search: Callable[[int], int]) -> None:
        self.search = search
        self.at = -1  # the last find (-2: nothing further)
        self.since = 0

    def next(self, pos: int) -> int | None:
        if self.at == -2 and pos >= self.since:
            return None
        if self.at < pos or pos < self.since:
            self.since = pos
            found = self.search(pos)
            self.at = found if found >= 0 else -2
        return self.at if self.at >= 0 else None


def _stamps_before(data: bytes, begin: int, floor: int) -> list[tuple[re.Match[bytes], int]]:
    """Up to _LOOKBACK time-stamped lines ending before ``begin`` (the line
    ``begin`` is on first), not before ``floor``; each with its line end."""
    out: list[tuple[re.Match[bytes], int]] = []
    end = begin
    pos = data.rfind(b"\n", 0, begin) + 1
    scanned = 0
    while pos >= floor and len(out) < _LOOKBACK and scanned < 4 * _LOOKBACK:
        scanned += 1
        m = _STAMP.match(data, pos)
        if m is not None and m.group(4):
            out.append((m, end))
        if pos == 0:
            break
        end = pos - 1
        pos = data.rfind(b"\n", 0, end) + 1
    return out


_DUMP = re.compile(r"^(?P<base>.*)_(?P<kind>msg|trm)(?P<msg>\d+)_(?P<seq>\d+)_(?P<dir>incoming|outgoing)"
                   r"\.(?P<ext>xml|wbxml|bin)$")
_LINK = re.compile(rb"\[(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?\][^\n]{0,300}?"
                   rb"(Incoming|Outgoing) (?:WBXML|XML) message msgID=\d+ <a href=\"([^\"]{1,300})\"")


def syncevolution_dumps(names: list[str]) -> list[str]:
    """The message dump files among ``names`` (``*_msgNNN_SEQ_incoming.wbxml``...)."""
    return [n for n in names if _DUMP.match(os.path.basename(n))]


def read_syncevolution_dir(folder: str, html: bytes | None = None, html_name: str | None = None) -> Capture:
    """The messages of one SyncEvolution log directory: its dump files in
    sequence order (the raw message when it was dumped, else the XML
    translation), timed and directed by the HTML log when there is one."""
    name = html_name or folder
    cap = Capture(name, "log")
    try:
        entries = sorted(os.listdir(folder))
    except OSError as exc:
        cap.notes.append(CaptureNote(folder, f"cannot list the folder: {exc.strerror or exc}", error=True))
        return cap
    if html is None:
        for candidate in ("syncevolution-log.html",):
            path = os.path.join(folder, candidate)
            if os.path.isfile(path):
                html_name = path
                try:
                    with open(path, "rb") as fh:
                        html = fh.read(_MAX_DUMP)
                except OSError as exc:
                    cap.notes.append(CaptureNote(path, f"cannot read: {exc.strerror or exc}", error=True))
    times: dict[str, float] = {}
    role: str | None = None
    if html is not None:
        if b"Client Session started" in html:
            role = "client"
        elif b"Server Session started" in html:
            role = "server"
        for m in _LINK.finditer(html):
            stamp = dt.datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)),
                                int(m.group(5)), int(m.group(6)), tzinfo=dt.timezone.utc).timestamp()
            frac = m.group(7)
            times[os.path.basename(m.group(9).decode("utf-8", "replace"))] = stamp + (
                int(frac) / 10 ** len(frac) if frac else 0.0)
    dumps = []
    for entry in entries:
        dm = _DUMP.match(entry)
        if dm:
            dumps.append((int(dm.group("seq")), dm.group("kind"), dm.group("dir"), entry))
    if not dumps:
        cap.notes.append(CaptureNote(name, "no message dump files (*_msgNNN_SEQ_*.xml/.wbxml, *_trm*): the log "
                                           "was written with loglevel below 4", error=True))
        return cap
    dumps.sort()
    if role is None:  # no log to say: the side whose message comes first began the session, the client
        role = "client" if dumps[0][2] == "outgoing" else "server"
    # a message is dumped twice, as sent (msg) and as XML translation (trm), at neighbouring sequence numbers
    i = 0
    while i < len(dumps):
        seq, kind, way, entry = dumps[i]
        group = [dumps[i]]
        if i + 1 < len(dumps):
            nseq, nkind, nway, _ = dumps[i + 1]
            if nseq == seq + 1 and nway == way and nkind != kind:
                group.append(dumps[i + 1])
        i += len(group)
        chosen = next((g for g in group if g[1] == "msg"), group[0])
        path = os.path.join(folder, chosen[3])
        try:
            with open(path, "rb") as fh:
                data = fh.read(_MAX_DUMP + 1)
        except OSError as exc:
            cap.notes.append(CaptureNote(path, f"cannot read: {exc.strerror or exc}", error=True))
            continue
        if len(data) > _MAX_DUMP:
            cap.notes.append(CaptureNote(path, f"over {_MAX_DUMP} bytes: not read", error=True))
            continue
        when = next((times[g[3]] for g in group if g[3] in times), None)
        direction: Direction = "unknown"
        if role is not None:
            ours = way == "outgoing"
            direction = ("client" if ours else "server") if role == "client" else ("server" if ours else "client")
        ctype = "application/vnd.syncml+wbxml" if chosen[3].endswith(".wbxml") else "application/vnd.syncml+xml"
        translated = "" if chosen[1] == "msg" else " (the engine's XML translation)"
        cap.messages.append(CapturedMessage(data, path + translated, direction=direction, time=when,
                                            content_type=ctype, stream=name))
    return cap
