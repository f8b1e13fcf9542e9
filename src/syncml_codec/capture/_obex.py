"""OBEX packets carrying SyncML (the OMA DS OBEX binding): a stream of OBEX
packets back to back, as a phone's or a PC suite's trace saves them.

Each packet is an opcode (a request, 0x80 bit set on its last packet) or a
response code (always with the 0x80 bit), a two-byte length that counts the
whole packet, then headers; Connect packets (and their response) put the OBEX
version, flags and maximum packet length before the headers.  A SyncML
message travels in the Body (0x48) and End-of-Body (0x49) headers of Put
requests (the OBEX client's message) or of the responses to a Get (the OBEX
server's: Continue 0x90 until the final Success 0xA0), typed by the Type
header (``application/vnd.syncml+wbxml`` or ``+xml``).  A body spanning
several packets is joined until its End-of-Body.

Which side of the sync the OBEX client is depends on the setup (a PC suite
that connects to a phone is the OBEX client and the SyncML server), so the
messages' direction is left ``"unknown"``; the session grouping reads it from
the messages.  Packets that carry no SyncML (Connect, Disconnect, empty
responses) become informational notes saying what they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..codec.detect import looks_like_wbxml
from ..codec.san import looks_like_notification
from ._types import Capture, CapturedMessage, CaptureNote

__all__ = ["looks_like_obex", "read_obex"]

_MAX_PACKETS = 1_000_000
_MAX_BODY = 64 * 1024 * 1024
_MAX_INFO = 1000  # packets described one by one; the rest are counted

_REQUESTS = {0x00: "Connect", 0x01: "Disconnect", 0x02: "Put", 0x03: "Get", 0x05: "SetPath", 0x06: "Action",
             0x07: "Session", 0x7F: "Abort"}
_RESPONSES = {
    0x10: "Continue", 0x20: "Success", 0x21: "Created", 0x22: "Accepted", 0x23: "Non-Authoritative Information",
    0x24: "No Content", 0x25: "Reset Content", 0x26: "Partial Content", 0x30: "Multiple Choices",
    0x31: "Moved Permanently", 0x32: "Moved Temporarily", 0x33: "See Other", 0x34: "Not Modified",
    0x35: "Use Proxy", 0x40: "Bad Request", 0x41: "Unauthorized", 0x42: "Payment Required", 0x43: "Forbidden",
    0x44: "Not Found", 0x45: "Method Not Allowed", 0x46: "Not Acceptable", 0x47: "Proxy Authentication Required",
    0x48: "Request Timeout", 0x49: "Conflict", 0x4A: "Gone", 0x4B: "Length Required", 0x4C: "Precondition Failed",
    0x4D: "Request Entity Too Large", 0x4E: "Request URL Too Large", 0x4F: "Unsupported Media Type",
    0x50: "Internal Server Error", 0x51: "Not Implemented", 0x52: "Bad Gateway", 0x53: "Service Unavailable",
    0x54: "Gateway Timeout", 0x55: "HTTP Version Not Supported", 0x60: "Database Full", 0x61: "Database Locked",
}
_HEADERS = {
    0x01: "Name", 0x42: "Type", 0xC3: "Length", 0x44: "Time", 0xC4: "Time", 0x05: "Description", 0x46: "Target",
    0x47: "HTTP", 0x48: "Body", 0x49: "End-of-Body", 0x4A: "Who", 0xCB: "ConnectionID",
    0x4C: "Application Parameters", 0x4D: "Authenticate Challenge", 0x4E: "Authenticate Response",
    0xCF: "Creator ID", 0x50: "WAN UUID", 0x51: "Object Class", 0x52: "Session Parameters",
    0x93: "Session Sequence Number", 0x97: "Single Response Mode", 0x98: "SRM Parameters", 0x41: "Count",
}
_BODY, _END_OF_BODY, _TYPE = 0x48, 0x49, 0x42
_SYNCML_TYPES = ("application/vnd.syncml+wbxml", "application/vnd.syncml+xml")
_SAN_TYPES = ("application/vnd.syncml.notification", "application/vnd.syncml.ds.notification")


class _Bad(ValueError):
    """A packet whose headers do not parse."""


@dataclass
class _Packet:
    offset: int
    code: int
    connect: tuple[int, int, int] | None  # version, flags, max packet length
    headers: list[tuple[int, bytes | int]]

    @property
    def is_request(self) -> bool:
        return self.code in (0x7F, 0xFF) or ((self.code & 0x7F) < 0x10 and (self.code & 0x7F) in _REQUESTS)

    @property
    def final(self) -> bool:
        return bool(self.code & 0x80)

    @property
    def name(self) -> str:
        low = self.code & 0x7F
        if self.is_request:
            return f"{_REQUESTS[low]} request" + ("" if self.final or low in (0x00, 0x01) else " (more to come)")
        return f"{_RESPONSES.get(low, 'unknown')} response (0x{self.code:02X})"

    def header(self, hid: int) -> bytes | int | None:
        return next((v for h, v in self.headers if h == hid), None)


def _parse_headers(data: bytes, pos: int, end: int) -> list[tuple[int, bytes | int]]:
    out: list[tuple[int, bytes | int]] = []
    while pos < end:
        hid = data[pos]
        enc = hid >> 6
        if enc in (0, 1):  # Unicode text or byte sequence: two-byte length including these three bytes
            if pos + 3 > end:
                raise _Bad(f"header 0x{hid:02X} at offset {pos} cut short")
            hlen = int.from_bytes(data[pos + 1:pos + 3], "big")
            if hlen < 3 or pos + hlen > end:
                raise _Bad(f"header 0x{hid:02X} at offset {pos} says {hlen} bytes, {end - pos} left in the packet")
            out.append((hid, data[pos + 3:pos + hlen]))
            pos += hlen
        else:
            size = 1 if enc == 2 else 4
            if pos + 1 + size > end:
                raise _Bad(f"header 0x{hid:02X} at offset {pos} cut short")
            out.append((hid, int.from_bytes(data[pos + 1:pos + 1 + size], "big")))
            pos += 1 + size
    return out


def _known(code: int) -> bool:
    low = code & 0x7F
    if code in (0x7F, 0xFF):
        return True
    if low < 0x10:
        return low in _REQUESTS
    return bool(code & 0x80) and low in _RESPONSES


def _parse_packet(data: bytes, pos: int, end: int, after_connect: bool | None) -> _Packet:
    """One packet in ``data[pos:end]``; ``after_connect``: whether a response
    answers a Connect (None: not known, the layout that parses is taken)."""
    code = data[pos]
    body = pos + 3
    connect_layout = code == 0x80 or (not (code & 0x7F) < 0x10 and after_connect is True)
    if connect_layout:
        if body + 4 > end:
            raise _Bad(f"Connect packet at offset {pos} too short for its version and sizes")
        fields = (data[body], data[body + 1], int.from_bytes(data[body + 2:body + 4], "big"))
        return _Packet(pos, code, fields, _parse_headers(data, body + 4, end))
    if code == 0x85:  # SetPath: flags and constants before the headers
        return _Packet(pos, code, None, _parse_headers(data, min(body + 2, end), end))
    try:
        return _Packet(pos, code, None, _parse_headers(data, body, end))
    except _Bad:
        if after_connect is None and (code & 0x7F) >= 0x10 and body + 4 <= end and data[body] in (0x10, 0x11):
            fields = (data[body], data[body + 1], int.from_bytes(data[body + 2:body + 4], "big"))
            return _Packet(pos, code, fields, _parse_headers(data, body + 4, end))
        raise


def looks_like_obex(data: bytes | bytearray | memoryview) -> bool:
    """Whether ``data`` is a stream of OBEX packets: known opcodes or
    response codes, lengths that add up to the data (the last packet may be
    cut short), headers that parse.  (Checks at most the first 64 packets,
    then the rest's framing.)"""
    raw = bytes(data)
    pos, count, after_connect = 0, 0, None
    while pos < len(raw):
        if pos + 3 > len(raw) or not _known(raw[pos]):
            return False
        length = int.from_bytes(raw[pos + 1:pos + 3], "big")
        if length < 3:
            return False
        if pos + length > len(raw):  # a trace cut short: OBEX if its last packet starts like one
            return _cut_packet(raw, pos, count)
        if count < 64:
            try:
                pkt = _parse_packet(raw, pos, pos + length, after_connect)
            except _Bad:
                return False
            after_connect = pkt.code == 0x80 if pkt.is_request else None
        count += 1
        if count > _MAX_PACKETS:
            return False
        pos += length
    return count > 0


def _cut_packet(raw: bytes, pos: int, whole: int) -> bool:
    """Whether a packet the data ends inside still reads as OBEX: after whole
    packets, or with the final bit (no WBXML document starts so) and a known
    header first."""
    if whole:
        return True
    code = raw[pos]
    at = pos + (7 if code == 0x80 else 3)
    if not code & 0x80 or at >= len(raw):
        return False
    while at < len(raw):  # every header up to the cut is a known one
        hid = raw[at]
        if hid not in _HEADERS:
            return False
        if hid >> 6 in (0, 1):
            if at + 3 > len(raw):
                break
            size = int.from_bytes(raw[at + 1:at + 3], "big")
            if size < 3:
                return False
            at += size
        else:
            at += 2 if hid >> 6 == 2 else 5
    return True


def _text(hid: int, value: bytes | int) -> str:
    if isinstance(value, int):
        return str(value)
    if hid >> 6 == 0:  # UTF-16BE, null-terminated
        try:
            return value.decode("utf-16-be").rstrip("\x00")
        except UnicodeDecodeError:
            return value.hex()
    if value and all(0x20 <= b < 0x7F for b in value.rstrip(b"\x00")):
        return value.rstrip(b"\x00").decode("ascii")
    return f"{len(value)} bytes"


def _describe(pkt: _Packet) -> str:
    parts = []
    if pkt.connect:
        version, flags, maxlen = pkt.connect
        parts.append(f"OBEX {version >> 4}.{version & 15}, flags 0x{flags:02X}, MaxPacketLength {maxlen}")
    for hid, value in pkt.headers:
        label = _HEADERS.get(hid, f"header 0x{hid:02X}")
        if hid in (_BODY, _END_OF_BODY):
            assert isinstance(value, bytes)
            parts.append(f"{label} {len(value)} bytes")
        else:
            parts.append(f"{label} {_text(hid, value)}")
    return pkt.name + (": " + ", ".join(parts) if parts else " (no headers)")


@dataclass
class _Body:
    """A body being joined: where it started, its Type, its chunks."""

    first: int
    what: str
    ctype: str | None = None
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0


def _type_of(pkt: _Packet) -> str | None:
    value = pkt.header(_TYPE)
    if isinstance(value, bytes):
        return value.rstrip(b"\x00").decode("ascii", "replace").strip().lower()
    return None


def read_obex(data: bytes, name: str) -> Capture:
    """The SyncML messages (and SANs) in a stream of OBEX packets."""
    cap = Capture(name, "obex")
    if not data:
        cap.notes.append(CaptureNote(name, "empty input", error=True))
        return cap
    if not _known(data[0]):
        cap.notes.append(CaptureNote(name, f"not an OBEX packet stream: first byte 0x{data[0]:02X} is no OBEX "
                                           "opcode or response code", error=True))
        return cap
    pos, index, after_connect = 0, 0, None
    bodies: dict[str, _Body] = {}
    asked: str | None = None
    described = continuing = 0
    while pos < len(data):
        index += 1
        where = f"{name}: packet {index} at offset {pos}"
        if index > _MAX_PACKETS:
            cap.notes.append(CaptureNote(where, f"more than {_MAX_PACKETS} packets: the rest is not read", True))
            break
        if pos + 3 > len(data):
            cap.notes.append(CaptureNote(where, f"{len(data) - pos} bytes left, too few for an OBEX packet", True))
            break
        length = int.from_bytes(data[pos + 1:pos + 3], "big")
        if length < 3:
            cap.notes.append(CaptureNote(where, f"length field {length} is less than the 3-byte packet header",
                                         True))
            break
        if pos + length > len(data):
            cap.notes.append(CaptureNote(where, f"packet 0x{data[pos]:02X} says {length} bytes, only "
                                                f"{len(data) - pos} left: cut short", True))
            break
        if not _known(data[pos]):
            cap.notes.append(CaptureNote(where, f"byte 0x{data[pos]:02X} is no OBEX opcode or response code", True))
            break
        try:
            pkt = _parse_packet(data, pos, pos + length, after_connect)
        except _Bad as exc:
            cap.notes.append(CaptureNote(where, f"bad OBEX packet: {exc}", True))
            pos += length
            continue
        pos += length
        after_connect = pkt.code == 0x80 if pkt.is_request else None
        side = "request" if pkt.is_request else "response"
        if pkt.is_request and (pkt.code & 0x7F) == 0x03:  # a Get: its Type is that of the response's body
            asked = _type_of(pkt) or asked
        chunks = [v for h, v in pkt.headers if h in (_BODY, _END_OF_BODY) and isinstance(v, bytes)]
        ended = any(h == _END_OF_BODY for h, _ in pkt.headers)
        body = bodies.get(side)
        if chunks or ended:
            if body is None:
                body = bodies[side] = _Body(index, pkt.name)
            body.ctype = body.ctype or _type_of(pkt) or (asked if side == "response" else None)
            for chunk in chunks:
                body.size += len(chunk)
                body.chunks.append(chunk)
            if body.size > _MAX_BODY:
                cap.notes.append(CaptureNote(where, f"body over {_MAX_BODY} bytes: not read", True))
                del bodies[side]
                continue
        elif body is not None:
            body.ctype = body.ctype or _type_of(pkt)
        done = ended or (body is not None and pkt.final and (pkt.is_request or (pkt.code & 0x7F) != 0x10))
        if body is not None and done:
            del bodies[side]
            _emit(cap, name, body, index)
        elif not chunks:
            plain = all(h == 0xCB for h, _ in pkt.headers)  # nothing but the ConnectionID
            if plain and (pkt.code == 0x90 or ((pkt.code & 0x7F) == 0x03 and "response" in bodies)):
                continuing += 1  # a Continue, or a Get asking for the rest of a body: not listed one by one
                continue
            described += 1
            if described <= _MAX_INFO:
                cap.notes.append(CaptureNote(where, _describe(pkt)))
    if continuing:
        cap.notes.append(CaptureNote(name, f"{continuing} packets continuing a body transfer (Continue "
                                           "responses, Gets for the rest) not listed"))
    if described > _MAX_INFO:
        cap.notes.append(CaptureNote(name, f"{described - _MAX_INFO} more packets without SyncML not described"))
    for body in bodies.values():
        cap.notes.append(CaptureNote(f"{name}: packets {body.first}-{index}",
                                     f"body of {body.size} bytes without its End-of-Body: cut short", True))
    return cap


def _emit(cap: Capture, name: str, body: _Body, last: int) -> None:
    raw = b"".join(body.chunks)
    span = f"packet {body.first}" if body.first == last else f"packets {body.first}-{last}"
    origin = f"{name}: {span} ({body.what.split(' (')[0]}{', ' + body.ctype if body.ctype else ''})"
    ctype = body.ctype
    if ctype in _SAN_TYPES or (ctype is None and looks_like_notification(raw)):
        cap.messages.append(CapturedMessage(raw, origin, content_type=ctype, stream=name, kind="san"))
    elif ctype in _SYNCML_TYPES or (ctype is None and raw and (looks_like_wbxml(raw) or raw.lstrip()[:1] == b"<")):
        cap.messages.append(CapturedMessage(raw, origin, content_type=ctype, stream=name))
    elif not raw:
        cap.notes.append(CaptureNote(origin, "empty body"))
    else:
        cap.notes.append(CaptureNote(origin, f"body of {len(raw)} bytes of type {ctype or 'not given'}: "
                                             "not SyncML, skipped"))
