"""Issue 16, pcap input: the committed capture of SyncEvolution syncing with
``syncml serve`` (``tests/data/captures/se-wbxml-two-sessions.pcap``, made
by ``python -m tests.capture.captures``; two sessions, the first with a
MoreData item), as pcap and pcapng; hostile copies of it (cut short, a
segment removed, packets shuffled and duplicated, no SyncML, random damage)
give notes, never an exception; hand-built pcaps on the other link types and
IPv6."""

from __future__ import annotations

import random
import re

import pytest

from syncml_codec.capture import CapturedMessage, read_capture
from syncml_codec.capture import _pcap as pcap_module
from syncml_codec.codec import wbxml_to_xml

from ..conftest import DATA
from .captures import (
    LINK_ETHERNET,
    LINK_NULL,
    LINK_RAW,
    LINK_SLL,
    LINK_SLL2,
    connection,
    post,
    read_packets,
    reply,
    tcp_of,
    write_pcap,
)

PCAP = DATA / "captures" / "se-wbxml-two-sessions.pcap"
NAME = "se.pcap"


def messages(data: bytes, name: str = NAME) -> list[CapturedMessage]:
    cap = read_capture(data, name)
    assert cap.kind == "pcap"
    return cap.messages


def key(m: CapturedMessage) -> tuple[bytes, str, str, float | None]:
    return (m.data, m.origin, m.direction, m.time)


@pytest.fixture(scope="module")
def original() -> bytes:
    return PCAP.read_bytes()


@pytest.fixture(scope="module")
def whole(original: bytes) -> list[CapturedMessage]:
    return messages(original)


def test_issue_16_committed_pcap_small() -> None:
    assert 0 < PCAP.stat().st_size < 100_000
    assert 0 < PCAP.with_suffix(".pcapng").stat().st_size < 100_000


def test_issue_16_pcap_messages(original: bytes, whole: list[CapturedMessage]) -> None:
    cap = read_capture(original, NAME)
    assert cap.errors == [] and cap.notes == []
    # session 1: eight exchanges (init, the slow sync, three MoreData chunks...), session 2: three
    assert len(whole) == 22
    streams = list(dict.fromkeys(m.stream for m in whole))
    assert len(streams) == 2 and all(re.fullmatch(r"127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+", s or "") for s in streams)
    assert [m.direction for m in whole] == ["client", "server"] * 11
    for n, m in enumerate(whole):
        exchange = (n // 2) + 1 if n < 16 else (n - 16) // 2 + 1
        client, server = (m.stream or "").split(" -> ")
        if m.direction == "client":
            assert m.origin == f"{NAME}: {client} -> {server}, request {exchange}"
            assert m.http is not None and m.http.method == "POST"
            # to the URL configured, then to the server's RespURI (with the query)
            assert m.http.target == "/sync" or (m.http.target or "").startswith("/sync?sessionid=")
            assert m.http.status is None and m.http.header("user-agent") == "SyncEvolution"
        else:
            assert m.origin == f"{NAME}: {server} -> {client}, response {exchange}"
            assert m.http is not None and m.http.status == 200 and m.http.method is None
            assert m.http.header("Server") == "syncml-codec"
        assert m.kind == "syncml" and m.content_type == "application/vnd.syncml+wbxml"
        assert m.http.header("Content-Length") == str(len(m.data))
        assert m.data[:1] in (b"\x02", b"\x03")  # WBXML 1.2 or 1.3
    assert [m.stream for m in whole] == [streams[0]] * 16 + [streams[1]] * 6
    targets = [m.http.target if m.http else None for m in whole if m.direction == "client"]
    assert targets[0] == targets[8] == "/sync" and targets[7] != targets[10] and targets[10] != "/sync"
    times = [m.time for m in whole]
    assert all(t is not None for t in times) and times == sorted(times)  # type: ignore[type-var]


def test_issue_16_pcap_pairs_by_session(whole: list[CapturedMessage]) -> None:
    """Each response answers the request before it: same SessionID and
    MsgRef = the request's MsgID."""
    for req, res in zip(whole[::2], whole[1::2], strict=True):
        rq, rs = wbxml_to_xml(req.data), wbxml_to_xml(res.data)
        session = re.search(rb"<SessionID>(\w+)</SessionID>", rq)
        msg_id = re.search(rb"<MsgID>(\d+)</MsgID>", rq)
        assert session and msg_id
        assert b"<SessionID>" + session.group(1) + b"</SessionID>" in rs
        assert b"<MsgRef>" + msg_id.group(1) + b"</MsgRef>" in rs


def test_issue_16_pcap_more_data(whole: list[CapturedMessage]) -> None:
    chunked = [n for n, m in enumerate(whole) if b"<MoreData" in wbxml_to_xml(m.data)]
    assert chunked and all(whole[n].direction == "client" for n in chunked)
    assert any(b"line 0219 of a note" in wbxml_to_xml(whole[n + 2].data) for n in chunked)


def test_issue_16_pcapng_same_messages(whole: list[CapturedMessage]) -> None:
    data = PCAP.with_suffix(".pcapng").read_bytes()
    cap = read_capture(data, NAME)
    assert cap.kind == "pcap" and cap.notes == []
    assert [(m.data, m.origin, m.direction, m.http) for m in cap.messages] == \
        [(m.data, m.origin, m.direction, m.http) for m in whole]
    assert [m.time for m in cap.messages] == pytest.approx([m.time for m in whole])


@pytest.mark.parametrize("forced", [None, "pcap"])
def test_issue_16_pcap_detected(original: bytes, forced: str | None) -> None:
    from syncml_codec.capture import detect_input

    assert detect_input(original) == "pcap" and detect_input(PCAP.with_suffix(".pcapng").read_bytes()) == "pcap"
    assert len(read_capture(original, NAME, forced).messages) == 22  # type: ignore[arg-type]


# --- hostile copies -----------------------------------------------------------------------------


@pytest.mark.parametrize("cut", [10, 24 + 7, 24 + 16 + 20, 0.3, 0.5, 0.9, -1])
def test_issue_16_pcap_truncated(original: bytes, whole: list[CapturedMessage], cut: float) -> None:
    at = int(len(original) * cut) if isinstance(cut, float) else cut if cut >= 0 else len(original) + cut
    cap = read_capture(original[:at], NAME, "pcap")
    assert cap.errors, cap.notes
    text = " ".join(str(n) for n in cap.errors)
    assert "cut short" in text or "not a readable pcap" in text
    # what is read is what the whole file has, up to the cut
    got = [key(m) for m in cap.messages]
    assert got == [key(m) for m in whole][:len(got)]
    if cut == 0.9:
        assert len(got) >= 16  # all of session 1
    if cut == 24 + 16 + 20:  # inside the first packet's data
        assert [str(n) for n in cap.errors] == [
            f"{NAME}: file cut short in packet 1 (a record is incomplete): read up to there",
            f"{NAME}: no SyncML traffic in 1 packets / 0 TCP connections"]
    if cut == 24 + 7:  # inside the first record's header
        assert str(cap.errors[0]).startswith(f"{NAME}: file damaged or cut short after packet 0 (")


def test_issue_16_pcap_hole(original: bytes, whole: list[CapturedMessage]) -> None:
    """The segment with the headers of session 1's third request is lost:
    requests 1 and 2 are kept, nothing after the hole in that direction is
    guessed, responses are still read, session 2 is whole."""
    link, packets = read_packets(original)
    client_port = int((whole[0].stream or "").split(" -> ")[0].rsplit(":", 1)[1])
    sent = [(n, tcp_of(buf)) for n, (_, buf) in enumerate(packets)]
    data_segments = [(n, t) for n, t in sent if t is not None and t.sport == client_port and t.data]
    lost, lost_tcp = data_segments[4]  # request 1: 2 segments, request 2: 2, then request 3's headers
    assert bytes(lost_tcp.data).startswith(b"POST ")
    position = sum(len(t.data) for _, t in data_segments[:4])
    cap = read_capture(write_pcap(packets[:lost] + packets[lost + 1:], link), NAME)
    holes = [n for n in cap.errors if "hole" in n.text]
    assert len(holes) == 1
    assert holes[0].origin == f"{NAME}: {whole[0].stream}"
    assert f"at byte {position} ({len(lost_tcp.data)} bytes not captured)" in holes[0].text
    requests = [m for m in cap.messages if m.stream == whole[0].stream and m.direction == "client"]
    assert [key(m) for m in requests] == [key(m) for m in whole[:4:2]]
    responses = [m for m in cap.messages if m.stream == whole[0].stream and m.direction == "server"]
    assert [m.data for m in responses] == [m.data for m in whole[1:16:2]]
    assert [key(m) for m in cap.messages if m.stream == whole[-1].stream] == [key(m) for m in whole[16:]]


def test_issue_16_pcap_shuffled_and_retransmitted(original: bytes, whole: list[CapturedMessage]) -> None:
    """Packets out of order, some twice (a retransmission), some data
    segments again overlapping the next: the same messages, no note."""
    link, packets = read_packets(original)
    rng = random.Random(16)
    again = rng.sample(packets, 25)
    mixed = packets + again
    rng.shuffle(mixed)
    # overlapping retransmissions: the second half of a segment resent
    for ts, buf in packets:
        tcp = tcp_of(buf)
        if tcp is not None and len(tcp.data) > 100 and rng.random() < 0.3:
            import dpkt

            eth = dpkt.ethernet.Ethernet(buf)
            tcp = eth.data.data
            half = len(tcp.data) // 2
            tcp.seq = (tcp.seq + half) % (1 << 32)
            tcp.data = bytes(tcp.data)[half:]
            eth.data.len = 0  # recomputed
            eth.data.sum = 0
            mixed.append((ts, bytes(eth)))
    rng.shuffle(mixed)
    cap = read_capture(write_pcap(mixed, link), NAME)
    assert cap.notes == []
    assert [(m.data, m.origin, m.direction) for m in cap.messages] == [(m.data, m.origin, m.direction) for m in whole]


def test_issue_16_pcap_no_syncml(original: bytes) -> None:
    link, packets = read_packets(original)
    other = b"application/x-not-syncml-xyz"
    assert len(other) == len(b"application/vnd.syncml+wbxml")
    changed = [(ts, buf.replace(b"application/vnd.syncml+wbxml", other)) for ts, buf in packets]
    cap = read_capture(write_pcap(changed, link), NAME)
    assert cap.messages == []
    assert [str(n) for n in cap.errors] == [f"{NAME}: no SyncML traffic in {len(packets)} packets / 3 TCP connections"]
    skipped = [n for n in cap.notes if not n.error]
    assert len(skipped) == 2 and all("application/x-not-syncml-xyz, with a body (" in n.text for n in skipped)


def test_issue_16_pcap_no_tcp_at_all() -> None:
    cap = read_capture(write_pcap([]), NAME)
    assert [str(n) for n in cap.errors] == [f"{NAME}: no SyncML traffic in 0 packets / 0 TCP connections"]


@pytest.mark.parametrize("data", [b"\xa1\xb2\xc3\xd4", b"\xd4\xc3\xb2\xa1" + b"\0" * 10,
                                  b"\x0a\x0d\x0d\x0a" + b"\xff" * 40])
def test_issue_16_pcap_bad_header(data: bytes) -> None:
    cap = read_capture(data, NAME)
    assert cap.kind == "pcap" and cap.messages == [] and cap.errors


def test_issue_16_pcap_random_damage_never_raises(original: bytes) -> None:
    rng = random.Random(1616)
    ng = PCAP.with_suffix(".pcapng").read_bytes()
    for n in range(150):
        data = bytearray(original if n % 2 else ng)
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if n % 5 == 0:
            del data[rng.randrange(len(data)):][:rng.randint(1, 3000)]
        cap = read_capture(bytes(data[:4]) + bytes(data[4:]), NAME, "pcap")
        assert cap.kind == "pcap"
        assert cap.messages or cap.errors


def test_issue_16_pcap_stream_cap(monkeypatch: pytest.MonkeyPatch, original: bytes,
                                  whole: list[CapturedMessage]) -> None:
    monkeypatch.setattr(pcap_module, "MAX_STREAM", 8000)
    cap = read_capture(original, NAME)
    capped = [n for n in cap.errors if "more than 8000 bytes one way" in n.text]
    assert capped and capped[0].origin.startswith(f"{NAME}: 127.0.0.1:")
    assert whole[0].data in [m.data for m in cap.messages]
    assert len(cap.messages) < len(whole)


def test_issue_16_pcap_total_cap(monkeypatch: pytest.MonkeyPatch, original: bytes) -> None:
    monkeypatch.setattr(pcap_module, "MAX_TOTAL", 20_000)
    cap = read_capture(original, NAME)
    assert any("more than 20000 bytes" in n.text and n.origin == NAME for n in cap.errors)
    assert 0 < len(cap.messages) < 22


def test_issue_16_pcap_connection_and_message_caps(monkeypatch: pytest.MonkeyPatch, original: bytes,
                                                   whole: list[CapturedMessage]) -> None:
    monkeypatch.setattr(pcap_module, "MAX_CONNECTIONS", 1)
    cap = read_capture(original, NAME)
    assert [str(n) for n in cap.errors] == [f"{NAME}: more than 1 TCP connections: the later ones not read"]
    assert [key(m) for m in cap.messages] == [key(m) for m in whole[:16]]
    monkeypatch.setattr(pcap_module, "MAX_CONNECTIONS", 100)
    monkeypatch.setattr(pcap_module, "MAX_MESSAGES", 5)
    cap = read_capture(original, NAME)
    assert [m.origin.rsplit(", ", 1)[1] for m in cap.messages] == [f"request {n}" for n in range(1, 6)]
    assert any(n.text.endswith("too many HTTP messages: the rest not read") for n in cap.errors)


# --- hand-built pcaps: link types, IPv6, keep-alive with chunked responses ----------------------

XML1 = b"<SyncML><SyncHdr><MsgID>1</MsgID></SyncHdr><SyncBody><Final/></SyncBody></SyncML>"
XML2 = b"<SyncML><SyncHdr><MsgID>2</MsgID></SyncHdr><SyncBody>" + b"<Status/>" * 300 + b"</SyncBody></SyncML>"
WBXML = bytes.fromhex("02a4016a00006d6c") + b"\x01\x01"


@pytest.mark.parametrize("linktype", [LINK_ETHERNET, LINK_SLL, LINK_SLL2, LINK_NULL, LINK_RAW])
@pytest.mark.parametrize(("client", "server"), [(("10.1.2.3", 41000), ("192.0.2.8", 80)),
                                                (("2001:db8::5", 50000), ("2001:db8::1", 8080))])
@pytest.mark.parametrize("ng", [False, True])
def test_issue_16_pcap_link_types_and_ipv6(linktype: int, client: tuple[str, int], server: tuple[str, int],
                                           ng: bool) -> None:
    turns = [("c", post(XML1, target="/sync?sid=1")), ("s", reply(XML2, chunked=True)),
             ("c", post(WBXML, content_type="application/vnd.syncml+wbxml; charset=x")),
             ("s", reply(XML1, status="500 Oops"))]
    packets = connection(client, server, turns, linktype=linktype, mss=300)
    cap = read_capture(write_pcap(packets, linktype, ng=ng), "t.pcap")
    assert cap.notes == []
    c = f"[{client[0]}]:{client[1]}" if ":" in client[0] else f"{client[0]}:{client[1]}"
    s = f"[{server[0]}]:{server[1]}" if ":" in server[0] else f"{server[0]}:{server[1]}"
    assert [m.origin for m in cap.messages] == [f"t.pcap: {c} -> {s}, request 1", f"t.pcap: {s} -> {c}, response 1",
                                                f"t.pcap: {c} -> {s}, request 2", f"t.pcap: {s} -> {c}, response 2"]
    assert [m.data for m in cap.messages] == [XML1, XML2, WBXML, XML1]
    assert {m.stream for m in cap.messages} == {f"{c} -> {s}"}
    assert cap.messages[0].http is not None and cap.messages[0].http.target == "/sync?sid=1"
    assert cap.messages[1].http is not None and cap.messages[1].http.header("transfer-encoding") == "chunked"
    assert cap.messages[3].http is not None and cap.messages[3].http.status == 500
    # the time of the packet that completed each message: XML2 (with chunk framing) spans several packets
    times = [m.time for m in cap.messages]
    last_packet_of = [packets[i][0] for i in (2, 2 + 1 + (len(turns[1][1]) - 1) // 300)]
    assert times[:2] == pytest.approx(last_packet_of)


def test_issue_16_pcap_mid_connection_start() -> None:
    """A capture that began after the handshake (no SYN): the requesting
    side is still the client; a response whose request was not captured is
    noted."""
    client, server = ("10.0.0.1", 40000), ("10.0.0.2", 80)
    packets = connection(client, server, [("s", reply(XML1)), ("c", post(XML2)), ("s", reply(XML1))])[2:]
    cap = read_capture(write_pcap(packets), "m.pcap")
    assert [(m.direction, m.data) for m in cap.messages] == [("client", XML2), ("server", XML1), ("server", XML1)]
    assert any("without a request" in n.text and not n.error for n in cap.notes)


def test_issue_16_pcap_response_cut_short() -> None:
    client, server = ("10.0.0.1", 40000), ("10.0.0.2", 80)
    packets = connection(client, server, [("c", post(XML1)), ("s", reply(XML2))], mss=500)
    cap = read_capture(write_pcap(packets[:-4]), "c.pcap")  # the response's last segments and the FINs lost
    assert [m.data for m in cap.messages] == [XML1]
    head = len(reply(XML2)) - len(XML2)
    got = sum(len(tcp_of(buf).data) for _, buf in packets[:-4] if tcp_of(buf).sport == 80) - head
    assert [str(n) for n in cap.errors] == [
        f"c.pcap: 10.0.0.2:80 -> 10.0.0.1:40000, response 1: cut short: {got} of {len(XML2)} body bytes"]


def test_issue_16_pcap_port_reused() -> None:
    """Two connections on one 4-tuple, one after the other: two streams of
    request 1."""
    client, server = ("10.0.0.1", 40000), ("10.0.0.2", 80)
    first = connection(client, server, [("c", post(XML1)), ("s", reply(XML1))])
    second = connection(client, server, [("c", post(XML2)), ("s", reply(XML2))], t0=1_000_010.0, isn=(9000, 1))
    cap = read_capture(write_pcap(first + second), "r.pcap")
    assert cap.notes == []
    assert [(m.origin.rsplit(", ", 1)[1], m.data) for m in cap.messages] == [
        ("request 1", XML1), ("response 1", XML1), ("request 1", XML2), ("response 1", XML2)]


@pytest.mark.parametrize("big_endian", [False, True])
@pytest.mark.parametrize("nano", [False, True])
def test_issue_16_pcap_byte_orders_and_nanoseconds(original: bytes, whole: list[CapturedMessage],
                                                   big_endian: bool, nano: bool) -> None:
    """The four pcap magics: either byte order, micro- or nanosecond times."""
    import struct

    _, packets = read_packets(original)
    order = ">" if big_endian else "<"
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = [struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, 262144, 1)]
    for ts, buf in packets:
        sec = int(ts)
        frac = round((ts - sec) * (1e9 if nano else 1e6))
        out.append(struct.pack(order + "IIII", sec, frac, len(buf), len(buf)) + buf)
    data = b"".join(out)
    assert data[:4] in pcap_module.PCAP_MAGICS
    cap = read_capture(data, NAME)
    assert cap.kind == "pcap" and cap.notes == []
    assert [(m.data, m.origin) for m in cap.messages] == [(m.data, m.origin) for m in whole]
    assert [m.time for m in cap.messages] == pytest.approx([m.time for m in whole], abs=1e-6)


def test_issue_16_pcap_other_protocols_are_skipped_with_a_note() -> None:
    """A capture of everything: TLS and another protocol beside the SyncML
    connection are named and skipped, not errors; the SyncML is read."""
    tls = connection(("10.0.0.1", 40000), ("10.0.0.2", 443), [
        ("c", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(300)),
        ("s", b"\x16\x03\x03\x00\x5a" + bytes(90))])
    ssh = connection(("10.0.0.1", 40001), ("10.0.0.2", 22), [("s", b"SSH-2.0-x\r\n"), ("c", b"SSH-2.0-y\r\n")],
                     t0=1_000_001.0)
    sync = connection(("10.0.0.1", 40002), ("10.0.0.2", 80), [("c", post(XML1)), ("s", reply(XML2))], t0=1_000_002.0)
    cap = read_capture(write_pcap(tls + ssh + sync), "all.pcap")
    assert [m.data for m in cap.messages] == [XML1, XML2]
    assert cap.errors == []
    texts = [n.text for n in cap.notes]
    assert any(t.startswith("TLS (HTTPS?): encrypted") for t in texts), texts
    assert any(t.startswith("not HTTP (its first bytes: 53 53 48 2d") for t in texts), texts
    only_tls = read_capture(write_pcap(tls), "tls.pcap")
    assert [str(n) for n in only_tls.errors] == ["tls.pcap: no SyncML traffic in 6 packets / 1 TCP connections"]


def test_issue_16_pcap_capture_begins_inside_a_request() -> None:
    """No SYN and the first bytes are the middle of a request's body: read
    from the next request line (which follows the body on the same line), the
    answer to the cut request kept and noted."""
    big = XML1.replace(b"<Final/>", b"<Final/>" + b"<!--" + b"x" * 3000 + b"-->")
    packets = connection(("10.0.0.1", 40000), ("10.0.0.2", 80),
                         [("c", post(big)), ("s", reply(XML1)), ("c", post(XML2)), ("s", reply(XML2))])
    cap = read_capture(write_pcap(packets[4:]), "mid.pcap")  # handshake and the first two segments lost
    assert [(m.direction, m.data) for m in cap.messages] == [("client", XML2), ("server", XML1), ("server", XML2)]
    assert cap.errors == []
    assert any(n.text.startswith("the capture began inside this connection") for n in cap.notes)
