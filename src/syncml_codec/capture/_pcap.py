"""SyncML over HTTP in pcap and pcapng files.

Packets are read with dpkt: it is pure Python (no libpcap or compiler
needed), reads both pcap (either byte order, micro- or nanosecond) and
pcapng, decodes the link layers SyncML captures come in, and is maintained
and small (scapy is far larger and slower to import; python-pcapng reads
only pcapng).  dpkt does no TCP reassembly, so that part is ours:

* link types: Ethernet (also what ``tcpdump -i lo`` writes on Linux), Linux
  cooked (SLL and SLL2, ``tcpdump -i any``), raw IP (IPv4 or IPv6), BSD
  loopback/null; IPv4 and IPv6; IP fragments are not reassembled (skipped,
  counted in a note);
* per connection (the 4-tuple; a SYN with a new initial sequence number starts a new one) and
  direction, segments are put in sequence order from the initial sequence
  number (the SYN's, or the lowest seen when the capture began mid-way):
  retransmitted and overlapping bytes are taken once (the first capture of
  each byte wins), out-of-order segments sorted;
* a hole (bytes never captured) stops that direction there: an error note
  names the connection and the byte position, the messages before the hole
  are kept, and nothing after it is guessed at;
* memory is bounded: :data:`MAX_STREAM` bytes per direction and
  :data:`MAX_TOTAL` in all (what comes beyond is dropped, with a note),
  :data:`MAX_SEGMENTS` stored segments, :data:`MAX_CONNECTIONS` connections
  and :data:`MAX_MESSAGES` HTTP messages;
* a file cut short (mid-record) gives the messages before the cut and an
  error note; a file with no SyncML in it gives the error note "no SyncML
  traffic in N packets / M TCP connections".

Each message's ``time`` is the capture time of the packet that completed it
(the latest packet carrying one of its bytes), in seconds since the epoch.
Its ``stream`` is the connection, written client first:
``"127.0.0.1:41000 -> 127.0.0.1:8080"``, for the requests and the responses.
"""

from __future__ import annotations

import bisect
import heapq
import io
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field

from ._http import MAX_MESSAGES, exchange_messages, first_message_at, parse_stream, starts_with_request
from ._types import Capture, CapturedMessage, CaptureNote

__all__ = ["MAX_CONNECTIONS", "MAX_SEGMENTS", "MAX_STREAM", "MAX_TOTAL", "PCAP_MAGICS", "looks_like_pcap",
           "read_pcap"]

MAX_STREAM = 64 * 1024 * 1024  #: bytes kept per TCP direction
MAX_TOTAL = 256 * 1024 * 1024  #: bytes kept in all
MAX_SEGMENTS = 1_000_000  #: TCP segments with data kept in all
MAX_CONNECTIONS = 100_000  #: TCP connections followed

#: the first four bytes of a pcap (both byte orders, micro- and nanoseconds) or pcapng file
PCAP_MAGICS = (b"\xa1\xb2\xc3\xd4", b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\x3c\x4d", b"\x4d\x3c\xb2\xa1",
               b"\x0a\x0d\x0d\x0a")

_SEQ = 1 << 32
# link types (https://www.tcpdump.org/linktypes.html)
_NULL, _ETHERNET, _RAW_BSD, _RAW_OPENBSD, _RAW, _LOOP, _SLL, _IPV4, _IPV6, _SLL2 = \
    0, 1, 12, 14, 101, 108, 113, 228, 229, 276


def looks_like_pcap(data: bytes) -> bool:
    """Whether ``data`` starts like a pcap or pcapng file."""
    return data[:4] in PCAP_MAGICS


class _Tracked(io.BytesIO):
    """The file dpkt reads, remembering whether a read came back short
    (dpkt yields a short last packet instead of saying the file is cut)."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.cut = False  # a record ended early
        self._empty = False  # the last read found nothing: the end, unless another read follows

    def read(self, size: int | None = -1, /) -> bytes:
        got = super().read(size)
        if self._empty:
            self.cut = True  # the empty read before was inside a record
        self._empty = False
        if size is not None and size > 0 and len(got) < size:
            if got:
                self.cut = True
            else:
                self._empty = True
        return got


@dataclass
class _Direction:
    """One direction of a connection: its segments (sequence number, data,
    packet time, arrival index) and what it saw."""

    segments: list[tuple[int, bytes, float, int]] = field(default_factory=list)
    isn: int | None = None  # sequence number of the first data byte (SYN + 1)
    fin: bool = False
    stored: int = 0
    capped: bool = False


@dataclass
class _Connection:
    client: tuple[str, int]
    server: tuple[str, int]
    fwd: _Direction = field(default_factory=_Direction)  # client -> server
    back: _Direction = field(default_factory=_Direction)
    syn_seen: bool = False  # whether the client is known from a SYN
    index: int = 0

    def name(self) -> str:
        return f"{_endpoint(self.client)} -> {_endpoint(self.server)}"


def _endpoint(end: tuple[str, int]) -> str:
    host, port = end
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass
class _Stream:
    """One direction put together: its bytes up to the first hole, and which
    packet time covers which bytes."""

    data: bytes
    starts: list[int]
    ends: list[int]
    times: list[float]
    hole: tuple[int, int] | None  # (byte position, bytes missing) of the first hole
    ended: bool

    def time_of(self, start: int, end: int) -> float | None:
        """The time of the packet that completed bytes ``start:end``."""
        i = bisect.bisect_right(self.ends, start)
        best: float | None = None
        while i < len(self.starts) and self.starts[i] < end:
            best = self.times[i] if best is None else max(best, self.times[i])
            i += 1
        return best


def _assemble(d: _Direction) -> _Stream:
    if not d.segments:
        return _Stream(b"", [], [], [], None, d.fin)
    if d.isn is not None:
        base = d.isn
    else:  # the capture began mid-connection: the lowest sequence number seen
        first = d.segments[0][0]
        base = min(((s - first + (1 << 31)) % _SEQ - (1 << 31), s) for s, *_ in d.segments)[1]
    ordered = sorted((((seq - base) % _SEQ, arrival, data, ts) for seq, data, ts, arrival in d.segments),
                     key=lambda seg: (seg[0], seg[1]))
    parts: list[bytes] = []
    starts: list[int] = []
    ends: list[int] = []
    times: list[float] = []
    pos = 0
    hole = None
    for off, _, data, ts in ordered:
        if off >= 1 << 31:  # before the start (a stale retransmission around the SYN)
            continue
        if off > pos:
            hole = (pos, off - pos)
            break
        if off + len(data) <= pos:
            continue  # retransmitted bytes already had
        parts.append(data[pos - off:])
        starts.append(pos)
        pos = off + len(data)
        ends.append(pos)
        times.append(ts)
    return _Stream(b"".join(parts), starts, ends, times, hole, d.fin and hole is None)


def _packets(data: bytes, name: str, notes: list[CaptureNote]) -> Iterator[tuple[int, float, bytes]]:
    """(link type, time, frame) of every record; a note when the file is
    cut short or damaged."""
    import dpkt

    f = _Tracked(data)
    try:
        reader = dpkt.pcapng.Reader(f) if data[:4] == b"\x0a\x0d\x0d\x0a" else dpkt.pcap.Reader(f)
        linktype = int(reader.datalink())
    except Exception as exc:  # dpkt raises ValueError, struct.error, UnpackError... on a bad header
        notes.append(CaptureNote(name, f"not a readable pcap or pcapng file ({exc or type(exc).__name__})",
                                 error=True))
        return
    n = 0
    cut_in = 0  # the packet whose record the file ends in
    try:
        for ts, frame in reader:
            n += 1
            if f.cut and not cut_in:
                cut_in = n
            yield linktype, float(ts), bytes(frame)
    except Exception as exc:
        notes.append(CaptureNote(name, f"file damaged or cut short after packet {n} "
                                 f"({exc or type(exc).__name__}): the rest not read", error=True))
        return
    if f.cut:
        where = f"in packet {cut_in}" if cut_in else f"after packet {n}"
        notes.append(CaptureNote(name, f"file cut short {where} (a record is incomplete): read up to there",
                                 error=True))


def _ip_of(linktype: int, frame: bytes) -> object | None:
    """The IPv4 or IPv6 packet in a frame (dpkt objects), or None."""
    import dpkt

    if linktype == _ETHERNET:
        pkt: object = dpkt.ethernet.Ethernet(frame).data
    elif linktype == _SLL:
        pkt = dpkt.sll.SLL(frame).data
    elif linktype == _SLL2:
        pkt = dpkt.sll2.SLL2(frame).data
    elif linktype in (_NULL, _LOOP):
        pkt = dpkt.loopback.Loopback(frame).data
    elif linktype in (_RAW, _RAW_BSD, _RAW_OPENBSD, _IPV4, _IPV6):
        version = frame[0] >> 4 if frame else 0
        pkt = dpkt.ip.IP(frame) if version == 4 else dpkt.ip6.IP6(frame) if version == 6 else None
    else:
        return None
    return pkt if isinstance(pkt, (dpkt.ip.IP, dpkt.ip6.IP6)) else None


class _Reader:
    def __init__(self, name: str) -> None:
        self.name = name
        self.notes: list[CaptureNote] = []
        self.connections: dict[tuple[tuple[str, int], tuple[str, int]], _Connection] = {}
        self.done: list[_Connection] = []  # connections replaced by a new one on the same 4-tuple
        self.packets = 0
        self.fragments = 0
        self.unreadable = 0
        self.short = 0
        self.stored = 0
        self.segments = 0
        self.capped_total = False
        self.too_many = False
        self.count = 0
        self.http_budget = MAX_MESSAGES
        self.unknown_link: set[int] = set()

    def feed(self, linktype: int, ts: float, frame: bytes) -> None:
        import dpkt

        self.packets += 1
        try:
            ip = _ip_of(linktype, frame)
        except Exception:  # dpkt on a damaged frame: IndexError, struct.error, UnpackError...
            self.unreadable += 1
            return
        if ip is None:
            if linktype not in (_ETHERNET, _SLL, _SLL2, _NULL, _LOOP, _RAW, _RAW_BSD, _RAW_OPENBSD, _IPV4,
                                _IPV6):
                self.unknown_link.add(linktype)
            return
        if isinstance(ip, dpkt.ip.IP):
            if ip.p != dpkt.ip.IP_PROTO_TCP:
                return
            if ip.mf or ip.offset:
                self.fragments += 1
                return
            src, dst = str(ipaddress.IPv4Address(ip.src)), str(ipaddress.IPv4Address(ip.dst))
            expected = ip.len - ip.hl * 4
        else:
            assert isinstance(ip, dpkt.ip6.IP6)
            if ip.p != dpkt.ip.IP_PROTO_TCP:
                if 44 in ip.extension_hdrs:
                    self.fragments += 1
                return
            src, dst = str(ipaddress.IPv6Address(ip.src)), str(ipaddress.IPv6Address(ip.dst))
            expected = ip.plen - sum(h.length for h in ip.all_extension_headers) if ip.plen else 0
        tcp = ip.data
        if not isinstance(tcp, dpkt.tcp.TCP):
            self.unreadable += 1
            return
        payload = bytes(tcp.data)
        if expected - tcp.off * 4 > len(payload):
            self.short += 1  # captured with a small snaplen: the bytes missing make a hole
        self._segment((src, tcp.sport), (dst, tcp.dport), tcp.seq, tcp.flags, payload, ts)

    def _segment(self, a: tuple[str, int], b: tuple[str, int], seq: int, flags: int, payload: bytes,
                 ts: float) -> None:
        import dpkt

        syn, ack = flags & dpkt.tcp.TH_SYN, flags & dpkt.tcp.TH_ACK
        key = (a, b) if (a, b) in self.connections or (b, a) not in self.connections else (b, a)
        conn = self.connections.get(key)
        if syn and conn is not None:
            # who opens is the client (packets may come in any order); a SYN with another
            # initial sequence number on a 4-tuple seen before is a new connection
            opener = a if not ack else b
            if opener != conn.client:
                conn.client, conn.server, conn.fwd, conn.back = conn.server, conn.client, conn.back, conn.fwd
            d = conn.fwd if a == conn.client else conn.back
            if d.isn is not None and d.isn != (seq + 1) % _SEQ:
                self.done.append(conn)
                del self.connections[key]
                conn = None
        if conn is None:
            if self.count >= MAX_CONNECTIONS:
                if not self.too_many:
                    self.too_many = True
                    self.notes.append(CaptureNote(self.name, f"more than {MAX_CONNECTIONS} TCP connections: "
                                                  "the later ones not read", error=True))
                return
            client, server = (b, a) if syn and ack else (a, b)
            conn = _Connection(client, server, index=self.count)
            self.count += 1
            self.connections[key] = conn
        d = conn.fwd if a == conn.client else conn.back
        if syn:
            d.isn = (seq + 1) % _SEQ
            if not ack:
                conn.syn_seen = True
            seq = (seq + 1) % _SEQ
        if flags & (dpkt.tcp.TH_FIN | dpkt.tcp.TH_RST):
            d.fin = True
        if not payload or d.capped:
            return
        if d.stored + len(payload) > MAX_STREAM:
            d.capped = True
            self.notes.append(CaptureNote(f"{self.name}: {conn.name()}",
                                          f"more than {MAX_STREAM} bytes one way: the rest of the connection "
                                          "not read", error=True))
            return
        if self.stored + len(payload) > MAX_TOTAL or self.segments >= MAX_SEGMENTS:
            if not self.capped_total:
                self.capped_total = True
                self.notes.append(CaptureNote(self.name, f"more than {MAX_TOTAL} bytes or {MAX_SEGMENTS} "
                                              "TCP segments of data: the rest of the file not read", error=True))
            d.capped = True
            return
        d.segments.append((seq, payload, ts, self.segments))
        d.stored += len(payload)
        self.stored += len(payload)
        self.segments += 1

    def finish(self) -> Capture:
        cap = Capture(self.name, "pcap")
        if self.unreadable:
            self.notes.append(CaptureNote(self.name, f"{self.unreadable} packet(s) not readable (damaged frames)",
                                          error=False))
        if self.fragments:
            self.notes.append(CaptureNote(self.name, f"{self.fragments} IP fragment(s) skipped (fragments are "
                                          "not reassembled)"))
        if self.short:
            self.notes.append(CaptureNote(self.name, f"{self.short} packet(s) captured shorter than they were "
                                          "(snapshot length): their missing bytes are holes"))
        for link in sorted(self.unknown_link):
            self.notes.append(CaptureNote(self.name, f"link type {link} not read (Ethernet, Linux cooked, raw "
                                          "IP and loopback are)", error=True))
        conns = sorted([*self.done, *self.connections.values()], key=lambda c: c.index)
        per_connection = [self._connection(conn, cap.notes) for conn in conns]
        # concurrent connections interleaved by time, each one's messages in its order
        cap.messages = list(heapq.merge(*per_connection, key=lambda m: m.time or 0.0))
        cap.notes[:0] = self.notes
        if not cap.messages:
            cap.notes.append(CaptureNote(self.name, f"no SyncML traffic in {self.packets} packets / "
                                         f"{len(conns)} TCP connections", error=True))
        return cap

    def _connection(self, conn: _Connection, notes: list[CaptureNote]) -> list[CapturedMessage]:
        fwd, back = _assemble(conn.fwd), _assemble(conn.back)
        if not fwd.data and not back.data:
            return []
        if not conn.syn_seen and (fwd.data.startswith(b"HTTP/") or starts_with_request(back.data)):
            # no SYN: the side that sends requests is the client
            conn.client, conn.server = conn.server, conn.client
            fwd, back = back, fwd
        where = conn.name()
        reverse = f"{_endpoint(conn.server)} -> {_endpoint(conn.client)}"
        for stream, label in ((fwd, where), (back, reverse)):
            if stream.hole is not None:
                pos, missing = stream.hole
                notes.append(CaptureNote(f"{self.name}: {label}", f"hole in the TCP stream at byte {pos} "
                                         f"({missing} bytes not captured): read up to there, nothing after it",
                                         error=True))
        starts = _http_starts(conn.syn_seen, fwd.data, back.data)
        if isinstance(starts, str):
            notes.append(CaptureNote(f"{self.name}: {where}", starts))
            return []
        if starts != (0, 0):
            notes.append(CaptureNote(f"{self.name}: {where}", "the capture began inside this connection: "
                                     f"{starts[0]} request and {starts[1]} response bytes before the first "
                                     "whole HTTP message skipped"))
        requests, problem = parse_stream(fwd.data, ended=fwd.ended, limit=self.http_budget, start=starts[0])
        self.http_budget -= len(requests)
        if problem:
            notes.append(CaptureNote(f"{self.name}: {where}", f"requests: {problem}", error=True))
        methods = [r.method for r in requests]
        responses, problem = parse_stream(back.data, methods=methods, ended=back.ended, limit=self.http_budget,
                                          start=starts[1])
        self.http_budget -= len(responses)
        if problem:
            notes.append(CaptureNote(f"{self.name}: {reverse}", f"responses: {problem}", error=True))
        for msgs, stream in ((requests, fwd), (responses, back)):
            if stream.hole is not None and msgs and msgs[-1].broken:
                msgs[-1].problem = f"cut short by the hole at byte {stream.hole[0]}"
        finals = [r for r in responses if (r.status or 0) >= 200]
        times = [(fwd.time_of(requests[i].start, requests[i].end) if i < len(requests) else None,
                  back.time_of(finals[i].start, finals[i].end) if i < len(finals) else None)
                 for i in range(max(len(requests), len(finals)))]
        messages, more = exchange_messages(requests, responses, name=self.name, stream=where, where=where,
                                           response_where=reverse, times=times)
        notes += more
        return messages


def _http_starts(syn_seen: bool, requests: bytes, responses: bytes) -> tuple[int, int] | str:
    """Where HTTP begins in a connection's two streams, or why it is skipped:
    encrypted (TLS records start 0x16 0x03), or another protocol.  A
    connection whose start was not captured is read from its first start
    line on each side."""
    if not requests or starts_with_request(requests.lstrip(b"\r\n")):
        if syn_seen or not responses or responses.lstrip(b"\r\n").startswith(b"HTTP/"):
            return 0, 0
        return 0, first_message_at(responses) or len(responses)  # the end of an answer sent before
    if requests[:1] == b"\x16" and requests[1:2] == b"\x03":
        return ("TLS (HTTPS?): encrypted, its messages cannot be read here (capture in front of the TLS, "
                "or use the server's --transcripts): connection skipped")
    if not syn_seen:
        first = first_message_at(requests)
        if first is not None:
            return first, first_message_at(responses) or (0 if responses.startswith(b"HTTP/") else len(responses))
    return f"not HTTP (its first bytes: {requests[:8].hex(' ')}): connection skipped"


def read_pcap(data: bytes, name: str) -> Capture:
    """The SyncML messages carried over HTTP in a pcap or pcapng file."""
    reader = _Reader(name)
    for linktype, ts, frame in _packets(data, name, reader.notes):
        reader.feed(linktype, ts, frame)
    return reader.finish()
