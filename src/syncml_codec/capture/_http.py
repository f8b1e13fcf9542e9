"""HTTP/1.1 messages in a byte stream: the requests a client sent on one TCP
connection (or the responses it got), or a raw HTTP dump (messages back to
back in a file, as tools and bug reports save them).

The parser is ours, not ``dpkt.http``: dpkt lower-cases header names and
merges repeated headers into a dict (:class:`HttpInfo` keeps them as sent,
in order), bounds neither the header block nor chunk sizes, and on a message
cut short raises without saying how much of it was there.  What this one
does: request and status lines, header fields (CRLF or bare LF line ends,
obsolete line folding), bodies framed by ``Transfer-Encoding: chunked``, by
``Content-Length``, or by the end of the stream (a response with neither);
no body for 1xx/204/304 responses and responses to HEAD;
``Content-Encoding: gzip|deflate`` undone.  Everything an outsider controls
is bounded: a line (:data:`MAX_LINE`), the header block
(:data:`MAX_HEADER_BYTES`, :data:`MAX_HEADERS`), a body
(:data:`MAX_BODY`), a chunk-size line.  Malformed or cut-short input ends
the stream's parse with a problem text, never an exception.

:func:`exchange_messages` pairs the requests of a connection with its
responses in order (HTTP/1.1 answers in request order; 1xx interim
responses are not answers) and keeps the SyncML bodies.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from ._types import Capture, CapturedMessage, CaptureNote, Direction, HttpInfo

__all__ = ["MAX_BODY", "MAX_HEADERS", "MAX_HEADER_BYTES", "MAX_LINE", "MAX_MESSAGES", "SYNCML_TYPES", "HttpMessage",
           "exchange_messages", "looks_like_http", "parse_dump", "parse_stream", "read_http_dump",
           "starts_with_request", "syncml_kind"]

MAX_LINE = 16 * 1024  #: longest request, status or header line
MAX_HEADER_BYTES = 64 * 1024  #: longest header block
MAX_HEADERS = 200  #: most header fields in one message
MAX_BODY = 64 * 1024 * 1024  #: largest body (also after undoing Content-Encoding)
MAX_MESSAGES = 100_000  #: most HTTP messages read from one input (``limit`` of :func:`parse_stream`)
_MAX_CHUNK_LINE = 1024
_CR = b"\r"

#: the media types whose bodies are kept, and the kind of message each carries
SYNCML_TYPES: dict[str, str] = {
    "application/vnd.syncml+xml": "syncml",
    "application/vnd.syncml+wbxml": "syncml",
    "application/vnd.syncml-devinf+xml": "syncml",
    "application/vnd.syncml-devinf+wbxml": "syncml",
    "application/vnd.syncml.dm+xml": "syncml",
    "application/vnd.syncml.dm+wbxml": "syncml",
    "application/vnd.syncml.ds.notification": "san",
}

_TOKEN = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_REQUEST_LINE = re.compile(rb"(" + _TOKEN + rb") ([^ \t\r\n]+) HTTP/(\d)\.(\d)")
_STATUS_LINE = re.compile(rb"HTTP/(\d)\.(\d) (\d{3})(?: ([^\r\n]*))?")
_HEADER_NAME = re.compile(_TOKEN)
#: where an HTTP message starts (for a dump: a line that is a request or status line)
_START_LINE = rb"(?:" + _TOKEN + rb" [^ \t\r\n]+ HTTP/\d\.\d|HTTP/\d\.\d \d{3})(?: [^\r\n]*)?\r?$"
_START = re.compile(rb"(?m)^" + _START_LINE)
_START_HERE = re.compile(rb"(?m)" + _START_LINE)  # at a given position, even mid-line


def syncml_kind(content_type: str | None) -> str | None:
    """``"syncml"`` or ``"san"`` for a SyncML media type (parameters and
    case ignored), else None."""
    if not content_type:
        return None
    return SYNCML_TYPES.get(content_type.split(";", 1)[0].strip().lower())


@dataclass
class HttpMessage:
    """One HTTP message found in a stream, at bytes ``start:end``.

    ``problem`` says what is wrong with it (cut short, a body longer than
    its Content-Length in a dump, a Content-Encoding not undone); ``broken``
    is True when the body is not the whole body that was sent."""

    start: int
    end: int
    request: bool
    method: str | None
    target: str | None
    status: int | None
    headers: tuple[tuple[str, str], ...]
    body: bytes
    problem: str | None = None
    broken: bool = False

    def header(self, name: str) -> str | None:
        low = name.lower()
        return next((v for k, v in self.headers if k.lower() == low), None)

    @property
    def content_type(self) -> str | None:
        return self.header("Content-Type")


class _Stop(Exception):
    """The parse of a stream stops here: ``text`` says why; ``cut`` True
    when the data ended (not malformed)."""

    def __init__(self, text: str, cut: bool = False) -> None:
        super().__init__(text)
        self.text = text
        self.cut = cut


def _line(data: bytes, pos: int, what: str) -> tuple[bytes, int]:
    """The line at ``pos`` without its CRLF or LF, and where the next starts."""
    end = data.find(b"\n", pos, pos + MAX_LINE + 1)
    if end < 0:
        if len(data) - pos > MAX_LINE:
            raise _Stop(f"{what} longer than {MAX_LINE} bytes")
        raise _Stop(f"cut short in the {what}", cut=True)
    line = data[pos:end]
    return (line[:-1] if line.endswith(b"\r") else line), end + 1


def _head(data: bytes, pos: int) -> tuple[bytes, list[tuple[str, str]], int]:
    """The start line, the header fields and where the body starts."""
    first, pos = _line(data, pos, "start line")
    if not (_REQUEST_LINE.fullmatch(first) or _STATUS_LINE.fullmatch(first)):
        raise _Stop(f"not an HTTP request or status line: {first[:60]!r}")
    headers: list[tuple[str, str]] = []
    start = pos
    while True:
        line, nxt = _line(data, pos, "header block")
        if not line:
            return first, headers, nxt
        if nxt - start > MAX_HEADER_BYTES:
            raise _Stop(f"header block longer than {MAX_HEADER_BYTES} bytes")
        if line[:1] in (b" ", b"\t") and headers:  # obsolete line folding
            name, value = headers[-1]
            headers[-1] = (name, value + " " + line.strip().decode("latin-1"))
        else:
            name_b, colon, value_b = line.partition(b":")
            if not colon or not _HEADER_NAME.fullmatch(name_b):
                raise _Stop(f"malformed header line {line[:60]!r}")
            if len(headers) >= MAX_HEADERS:
                raise _Stop(f"more than {MAX_HEADERS} header fields")
            headers.append((name_b.decode("ascii"), value_b.strip(b" \t").decode("latin-1")))
        pos = nxt


def _content_length(headers: Sequence[tuple[str, str]]) -> int | None:
    values = {v.strip() for k, vs in headers if k.lower() == "content-length" for v in vs.split(",")}
    if not values:
        return None
    if len(values) > 1 or not all(v.isdigit() and len(v) <= 18 for v in values):
        raise _Stop(f"bad Content-Length {', '.join(sorted(values))[:60]!r}")
    return int(values.pop())


def _chunked(headers: Sequence[tuple[str, str]]) -> bool:
    codings = [c.strip().lower() for k, v in headers if k.lower() == "transfer-encoding" for c in v.split(",")]
    return bool(codings) and codings[-1] == "chunked"


def _dechunk(data: bytes, pos: int) -> tuple[bytes, int]:
    """The body of a chunked message starting at ``pos`` and where it ends."""
    parts: list[bytes] = []
    total = 0
    while True:
        end = data.find(b"\n", pos, pos + _MAX_CHUNK_LINE + 1)
        if end < 0:
            if len(data) - pos > _MAX_CHUNK_LINE:
                raise _Stop("chunk-size line too long")
            raise _Stop("cut short in a chunk-size line", cut=True)
        size_text = data[pos:end].split(b";", 1)[0].strip()
        if not size_text or len(size_text) > 16 or not all(c in b"0123456789abcdefABCDEF" for c in size_text):
            raise _Stop(f"bad chunk size {data[pos:end].rstrip(_CR)[:40]!r}")
        size = int(size_text, 16)
        pos = end + 1
        if size == 0:
            while True:  # trailer fields up to the empty line
                line, pos = _line(data, pos, "chunked trailer")
                if not line:
                    return b"".join(parts), pos
                total += len(line)
                if total > MAX_BODY:
                    raise _Stop("chunked trailer too long")
        total += size
        if total > MAX_BODY:
            raise _Stop(f"chunked body larger than {MAX_BODY} bytes")
        if pos + size > len(data):
            parts.append(data[pos:])
            raise _Stop(f"cut short in a chunk ({len(data) - pos} of {size} bytes)", cut=True)
        parts.append(data[pos:pos + size])
        pos += size
        if data[pos:pos + 2] == b"\r\n":
            pos += 2
        elif data[pos:pos + 1] == b"\n":
            pos += 1
        elif pos + 2 > len(data):
            raise _Stop("cut short after a chunk", cut=True)
        else:
            raise _Stop("chunk not followed by a line end")


def _decoded(msg: HttpMessage) -> None:
    """Undo ``Content-Encoding: gzip`` or ``deflate`` (bounded output)."""
    coding = (msg.header("Content-Encoding") or "").strip().lower()
    if coding in ("", "identity") or not msg.body:
        return
    if coding not in ("gzip", "x-gzip", "deflate"):
        msg.problem = f"Content-Encoding {coding} not undone"
        return
    try:
        inflater = zlib.decompressobj(47 if coding != "deflate" else 15)
        out = inflater.decompress(msg.body, MAX_BODY)
        if inflater.unconsumed_tail:
            msg.problem = f"{coding} body larger than {MAX_BODY} bytes when inflated"
            msg.broken = True
        msg.body = out
    except zlib.error as exc:
        if coding == "deflate":  # some senders send raw deflate
            try:
                msg.body = zlib.decompressobj(-15).decompress(msg.body, MAX_BODY)
                return
            except zlib.error:
                pass
        msg.problem = f"{coding} body does not inflate ({exc})"
        msg.broken = True


def _skip_blank(data: bytes, pos: int, dump: bool) -> int:
    blank = b" \t\r\n" if dump else b"\r\n"
    while pos < len(data) and data[pos] in blank:
        pos += 1
    return pos


def first_message_at(data: bytes) -> int | None:
    """Where the first HTTP start line in ``data`` begins (a stream whose
    capture began inside a message: the next message starts right after the
    body, not necessarily on a line of its own), None when there is none."""
    found = _START_HERE.search(data)
    return found.start() if found else None


def parse_stream(data: bytes, *, methods: Sequence[str | None] = (), ended: bool = True, dump: bool = False,
                 limit: int = MAX_MESSAGES, start: int = 0) -> tuple[list[HttpMessage], str | None]:
    """The HTTP messages in ``data``, in order, and why the parse stopped
    early (None when it read to the end).

    ``methods``: the methods of the requests a response stream answers, in
    order (a response to HEAD has no body).  ``ended``: whether the stream
    ended normally (a response read to the end of the stream is then whole;
    else it is cut short).  ``dump``: a file of messages back to back, where
    a body whose length disagrees with Content-Length is read up to the next
    start line, with a problem note.  At most ``limit`` messages.  ``start``:
    where to begin (positions stay those of ``data``)."""
    out: list[HttpMessage] = []
    pos = _skip_blank(data, start, dump)
    answered = 0
    while pos < len(data):
        if len(out) >= limit:
            return out, f"byte {pos}: too many HTTP messages: the rest not read"
        start = pos
        try:
            first, headers, body_at = _head(data, pos)
        except _Stop as stop:
            return out, f"byte {start}: {stop.text}"
        req = _REQUEST_LINE.fullmatch(first)
        res = None if req else _STATUS_LINE.fullmatch(first)
        hdrs = tuple(headers)
        msg = HttpMessage(start, body_at, req is not None,
                          req.group(1).decode("ascii") if req else None,
                          req.group(2).decode("latin-1") if req else None,
                          int(res.group(3)) if res else None, hdrs, b"")
        try:
            length = _content_length(hdrs)
            if not msg.request and ((msg.status or 0) < 200 or msg.status in (204, 304) or (
                    answered < len(methods) and (methods[answered] or "").upper() == "HEAD")):
                msg.end = body_at  # no body, whatever the headers say
            elif _chunked(hdrs):
                msg.body, msg.end = _dechunk(data, body_at)
            elif length is not None:
                if dump:
                    msg.body, msg.end = _dump_body(data, body_at, length, msg)
                elif body_at + length > len(data):
                    msg.body, msg.end = data[body_at:], len(data)
                    msg.problem = f"cut short: {len(data) - body_at} of {length} body bytes"
                    msg.broken = True
                else:
                    msg.body, msg.end = data[body_at:body_at + length], body_at + length
            elif msg.request:
                msg.end = body_at
            else:  # a response read up to the end of the stream
                nxt = _START.search(data, body_at) if dump else None
                msg.end = nxt.start() if nxt else len(data)
                msg.body = data[body_at:msg.end]
                if nxt:  # the blank lines before the next message in a dump are not the body's
                    msg.body = msg.body.rstrip(b"\r\n")
                if not ended:
                    msg.problem = "cut short (its body runs to the end of the connection, which was not captured)"
                    msg.broken = True
            if len(msg.body) > MAX_BODY:
                msg.body = msg.body[:MAX_BODY]
                msg.problem = f"body larger than {MAX_BODY} bytes: cut"
                msg.broken = True
        except _Stop as stop:
            if stop.cut:
                msg.end = len(data)
                msg.problem = stop.text
                msg.broken = True
                out.append(msg)
                return out, None
            return out, f"byte {start}: {stop.text}"
        if not msg.broken:
            _decoded(msg)
        if not msg.request and (msg.status or 0) >= 200:
            answered += 1
        out.append(msg)
        pos = _skip_blank(data, msg.end, dump)
    return out, None


def _dump_body(data: bytes, at: int, length: int, msg: HttpMessage) -> tuple[bytes, int]:
    """A dump's body: Content-Length bytes when the next message (or the end)
    follows them, else up to the next start line, noted."""
    end = at + length
    if end <= len(data):
        after = _skip_blank(data, end, True)
        if after == len(data) or _START_HERE.match(data, after):
            return data[at:end], end
    nxt = _START.search(data, at)
    stop = nxt.start() if nxt else len(data)
    body = data[at:stop]
    if nxt:  # the blank lines before the next message are not the body's
        body = body.rstrip(b"\r\n")
    msg.problem = f"body is {len(body)} bytes, Content-Length says {length}: read as it is"
    return body, stop


def _info(msg: HttpMessage) -> HttpInfo:
    return HttpInfo(msg.method, msg.target, msg.status, msg.headers)


def exchange_messages(requests: Sequence[HttpMessage], responses: Sequence[HttpMessage], *, name: str,
                      stream: str | None, where: str, times: Sequence[tuple[float | None, float | None]] = (),
                      response_where: str | None = None, in_file_order: bool = False,
                      ) -> tuple[list[CapturedMessage], list[CaptureNote]]:
    """The SyncML messages of one connection (or dump): request *n* paired
    with the *n*-th final response, request before response (or, with
    ``in_file_order``, as the messages lie in the dump).  ``where``
    (``"127.0.0.1:41000 -> 127.0.0.1:8080"``, or "" for a dump) and
    ``response_where`` go into the origins (``"NAME: WHERE, request 2"``);
    ``times[i]`` is the (request, response) time of exchange *i*."""
    finals = [r for r in responses if (r.status or 0) >= 200]
    found: list[tuple[int, CapturedMessage]] = []
    notes: list[CaptureNote] = []
    skipped: dict[str, int] = {}

    def origin(label: str, n: int, side: str) -> str:
        place = where if side == "client" else (response_where if response_where is not None else where)
        return f"{name}: {place}, {label} {n}" if place else f"{name}: {label} {n}"

    def keep(msg: HttpMessage, n: int, direction: Direction, time: float | None) -> None:
        label = "request" if msg.request else "response"
        at = origin(label, n, direction)
        if msg.problem:
            notes.append(CaptureNote(at, msg.problem, error=msg.broken))
        kind = syncml_kind(msg.content_type)
        if msg.broken:  # noted above: a part of a message is not one
            return
        if kind is None or not msg.body:
            what = (msg.content_type or "no Content-Type").split(";", 1)[0].strip()
            key = f"{what}, {'with a' if msg.body else 'no'} body"
            skipped[key] = skipped.get(key, 0) + 1
            return
        found.append((msg.start, CapturedMessage(
            msg.body, at, direction, time, msg.content_type, _info(msg), stream,
            "san" if kind == "san" else "syncml")))

    for i in range(max(len(requests), len(finals))):
        req_time, res_time = times[i] if i < len(times) else (None, None)
        if i < len(requests):
            keep(requests[i], i + 1, "client", req_time)
        if i < len(finals):
            keep(finals[i], i + 1, "server", res_time)
    if len(finals) > len(requests):
        notes.append(CaptureNote(origin("response", len(requests) + 1, "server"),
                                 f"{len(finals) - len(requests)} response(s) without a request (the request "
                                 "was not captured)"))
    if skipped:
        text = "; ".join(f"{what} ({n})" for what, n in skipped.items())
        notes.append(CaptureNote(f"{name}: {where}" if where else name,
                                 f"HTTP messages without SyncML skipped: {text}"))
    if in_file_order:
        found.sort(key=lambda pair: pair[0])
    return [m for _, m in found], notes


def parse_dump(data: bytes, name: str) -> tuple[list[CapturedMessage], list[CaptureNote]]:
    """The SyncML messages of a raw HTTP dump: messages back to back
    (requests and responses; response *n* answers request *n*), in the
    order they lie in the file."""
    msgs, problem = parse_stream(data, dump=True)
    if not msgs:
        return [], [CaptureNote(name, problem or "no HTTP message", error=True)]
    requests = [m for m in msgs if m.request]
    responses = [m for m in msgs if not m.request]
    messages, notes = exchange_messages(requests, responses, name=name, stream=name, where="",
                                        in_file_order=True)
    if problem:
        notes.append(CaptureNote(name, problem, error=True))
    return messages, notes


def looks_like_http(data: bytes) -> bool:
    """Whether ``data`` starts like an HTTP message: a request line (method
    token, space) or ``HTTP/1.``."""
    head = data[:MAX_LINE].lstrip(b"\r\n")
    return head.startswith(b"HTTP/1.") or starts_with_request(head)


def starts_with_request(data: bytes) -> bool:
    """Whether ``data`` starts with an HTTP request line."""
    line = data[:MAX_LINE].split(b"\n", 1)[0].rstrip(b"\r")
    return _REQUEST_LINE.fullmatch(line) is not None


def read_http_dump(data: bytes, name: str) -> Capture:
    """The reader of input kind ``"http"`` (see :func:`parse_dump`)."""
    cap = Capture(name, "http")
    cap.messages, cap.notes = parse_dump(data, name)
    if not cap.messages and not cap.errors:
        cap.notes.append(CaptureNote(name, "no SyncML message in the HTTP dump", error=True))
    return cap
