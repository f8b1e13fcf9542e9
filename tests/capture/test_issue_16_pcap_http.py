"""Issue 16, HTTP: the HTTP/1.1 parser under the pcap reader (keep-alive,
chunked, Content-Length, pairing, only SyncML kept, bounds) and raw HTTP
dumps (input kind ``http``), including the one in the corpus."""

from __future__ import annotations

import gzip

import pytest

from syncml_codec.capture import detect_input, read_capture
from syncml_codec.capture._http import MAX_HEADERS, MAX_LINE, parse_stream

from ..conftest import corpus_path
from .captures import connection, post, reply, write_pcap

XML = b"<SyncML><SyncHdr><MsgID>1</MsgID></SyncHdr><SyncBody><Final/></SyncBody></SyncML>\n"
XML2 = b"<SyncML><SyncHdr><MsgID>2</MsgID></SyncHdr><SyncBody/></SyncML>"
SAN = bytes(16) + bytes.fromhex("c8 00 00 00 00 01 00 00 00 00 00 00 00 00 00 00")


def test_issue_16_http_keep_alive_chunked_pairs() -> None:
    """Four exchanges on one connection: chunked and Content-Length
    responses, a 100 Continue before a final response, an HTML page and a
    HEAD in between (not SyncML: noted, not errors); pairs stay in order."""
    client = (post(XML, target="/sync?s=1", extra="Expect: 100-continue\r\n")
              + post(XML2, content_type="application/vnd.syncml+wbxml")
              + b"HEAD /status HTTP/1.1\r\nHost: h\r\n\r\n"
              + post(SAN, content_type="application/vnd.syncml.ds.notification")
              + post(XML, content_type="application/vnd.syncml.dm+xml"))
    server = (b"HTTP/1.1 100 Continue\r\n\r\n" + reply(XML2, chunked=True)
              + reply(b"<html>busy</html>", content_type="text/html")
              + b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 999\r\n\r\n"  # HEAD: no body
              + reply(b"", status="204 No Content")
              + reply(XML2, content_type="application/vnd.syncml.dm+xml; charset=utf-8", chunked=True))
    packets = connection(("10.0.0.1", 40000), ("10.0.0.2", 80), [("c", client), ("s", server)], mss=97)
    cap = read_capture(write_pcap(packets), "k.pcap")
    assert cap.errors == []
    got = [(m.origin.rsplit(", ", 1)[1], m.direction, m.kind, m.data) for m in cap.messages]
    assert got == [("request 1", "client", "syncml", XML), ("response 1", "server", "syncml", XML2),
                   ("request 2", "client", "syncml", XML2),
                   ("request 4", "client", "san", SAN),
                   ("request 5", "client", "syncml", XML), ("response 5", "server", "syncml", XML2)]
    assert [str(n) for n in cap.notes] == [
        "k.pcap: 10.0.0.1:40000 -> 10.0.0.2:80: HTTP messages without SyncML skipped: text/html, with a body (1); "
        "no Content-Type, no body (1); text/html, no body (1); application/vnd.syncml+xml, no body (1)"]
    assert cap.messages[0].http is not None and cap.messages[0].http.header("expect") == "100-continue"


def test_issue_16_http_stream_parse_bounds() -> None:
    long_line = b"POST /" + b"a" * (MAX_LINE + 10) + b" HTTP/1.1\r\n\r\n"
    assert parse_stream(long_line) == ([], f"byte 0: start line longer than {MAX_LINE} bytes")
    many = b"POST / HTTP/1.1\r\n" + b"X-A: b\r\n" * (MAX_HEADERS + 1) + b"\r\n"
    assert parse_stream(many)[1] == f"byte 0: more than {MAX_HEADERS} header fields"
    huge_chunk = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffff\r\nabc"
    assert parse_stream(huge_chunk)[1] == "byte 0: chunked body larger than 67108864 bytes"
    bad_chunk = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc"
    assert parse_stream(bad_chunk)[1] == "byte 0: bad chunk size b'zz'"
    bad_header = b"POST / HTTP/1.1\r\nno colon here\r\n\r\n"
    assert parse_stream(bad_header)[1] == "byte 0: malformed header line b'no colon here'"
    two_lengths = b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"
    assert parse_stream(two_lengths)[1] == "byte 0: bad Content-Length '3, 4'"
    assert parse_stream(XML)[1] == f"byte 0: not an HTTP request or status line: {XML[:60]!r}"


def test_issue_16_http_malformed_in_a_pcap_is_a_note() -> None:
    client = post(XML) + b"POST / HTTP/1.1\r\nbroken header\r\n\r\n"
    server = reply(XML2) + b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"  # headers cut off by the FIN
    packets = connection(("10.0.0.1", 40000), ("10.0.0.2", 80), [("c", client), ("s", server)])
    cap = read_capture(write_pcap(packets), "m.pcap")
    assert [m.data for m in cap.messages] == [XML, XML2]
    assert [str(n) for n in cap.errors] == [
        f"m.pcap: 10.0.0.1:40000 -> 10.0.0.2:80: requests: byte {len(post(XML))}: malformed header line "
        "b'broken header'",
        f"m.pcap: 10.0.0.2:80 -> 10.0.0.1:40000: responses: byte {len(reply(XML2))}: cut short in the header block"]


def test_issue_16_http_gzip_body() -> None:
    body = gzip.compress(XML)
    msg = post(body, extra="Content-Encoding: gzip\r\n")
    cap = read_capture(msg, "g.http")
    assert cap.kind == "http" and cap.notes == [] and [m.data for m in cap.messages] == [XML]


def test_issue_16_http_response_to_end_of_stream() -> None:
    """A response with neither Content-Length nor chunked runs to the end of
    the connection; whole when the FIN was captured."""
    server = b"HTTP/1.0 200 OK\r\nContent-Type: application/vnd.syncml+xml\r\n\r\n" + XML2
    packets = connection(("10.0.0.1", 40000), ("10.0.0.2", 80), [("c", post(XML)), ("s", server)])
    cap = read_capture(write_pcap(packets), "e.pcap")
    assert cap.notes == [] and [m.data for m in cap.messages] == [XML, XML2]
    cap = read_capture(write_pcap(packets[:-2]), "e.pcap")  # no FINs: the body may go on
    assert [m.data for m in cap.messages] == [XML]
    assert [n.text for n in cap.errors] == [
        "cut short (its body runs to the end of the connection, which was not captured)"]


# --- raw HTTP dumps -------------------------------------------------------------------------------


def test_issue_16_http_dump_from_the_corpus() -> None:
    path = corpus_path("devices", "sailfishos+buteo-syncml", "tests_meego", "data", "transport_initrequest.txt")
    data = path.read_bytes()
    assert detect_input(data) == "http"
    cap = read_capture(data, path.name)
    assert cap.kind == "http" and cap.notes == []
    [msg] = cap.messages
    assert msg.origin == "transport_initrequest.txt: request 1" and msg.direction == "client"
    assert msg.http is not None and msg.http.method == "POST" and msg.http.target == "/services/syncml"
    assert msg.http.headers[:2] == (("POST", "/services/syncml"), ("User-Agent", "libdatasync"))
    assert msg.http.header("auth-type") == "global"  # names as written, found in any case
    assert msg.data.startswith(b"<?xml") and msg.data.endswith(b"</SyncML>\n") and len(msg.data) == 3037
    assert msg.stream == path.name and msg.time is None


def test_issue_16_http_dump_lf_and_several_messages() -> None:
    """LF line ends, a request, a response, another request; blank lines
    between them; the second request's body does not match its
    Content-Length (read up to the next message, noted, not an error)."""
    def lf(b: bytes) -> bytes:
        return b.replace(b"\r\n", b"\n")
    stale = post(XML2).replace(f"Content-Length: {len(XML2)}".encode(), b"Content-Length: 10")
    data = lf(post(XML)) + b"\n\n" + lf(reply(XML2)) + lf(stale) + b"\n" + lf(reply(XML, chunked=True))
    cap = read_capture(data, "d.txt")
    assert cap.kind == "http"
    assert [(m.origin, m.direction, m.data) for m in cap.messages] == [
        ("d.txt: request 1", "client", XML), ("d.txt: response 1", "server", XML2),
        ("d.txt: request 2", "client", XML2), ("d.txt: response 2", "server", XML)]
    assert [(str(n), n.error) for n in cap.notes] == [
        (f"d.txt: request 2: body is {len(XML2)} bytes, Content-Length says 10: read as it is", False)]


def test_issue_16_http_dump_response_without_length() -> None:
    """A response with neither Content-Length nor chunked: in a dump, its
    body runs up to the next start line (the blank lines before it left out)."""
    res = b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.syncml+xml\r\n\r\n" + XML2 + b"\r\n\r\n"
    cap = read_capture(post(XML) + b"\r\n" + res + post(XML2), "n.txt")
    assert cap.notes == []
    assert [(m.origin, m.data) for m in cap.messages] == [
        ("n.txt: request 1", XML), ("n.txt: response 1", XML2), ("n.txt: request 2", XML2)]


def test_issue_16_http_dump_body_shorter_than_content_length() -> None:
    data = post(XML)[:-10]
    cap = read_capture(data, "s.txt")
    assert [m.data for m in cap.messages] == [XML[:-10]]
    assert [n.text for n in cap.notes] == [f"body is {len(XML) - 10} bytes, Content-Length says {len(XML)}: "
                                           "read as it is"]


@pytest.mark.parametrize(("data", "error"), [
    (b"POST /x HTTP/1.1\r\nHost: a\r\n", "s.txt: byte 0: cut short in the header block"),
    (b"POST /x HTTP/1.1\r\n\r\n", "s.txt: no SyncML message in the HTTP dump"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/vnd.syncml+xml\r\n\r\n5\r\nab",
     "s.txt: response 1: cut short in a chunk (2 of 5 bytes)"),
    (b"GET / HTTP/1.1\r\n\r\n\x00\x01garbage\r\n",
     "s.txt: byte 18: not an HTTP request or status line: b'\\x00\\x01garbage'"),
])
def test_issue_16_http_dump_broken(data: bytes, error: str) -> None:
    cap = read_capture(data, "s.txt", "http")
    assert cap.messages == []
    assert error in [str(n) for n in cap.errors]


def test_issue_16_http_detect() -> None:
    assert detect_input(b"POST /sync HTTP/1.1\r\n") == "http"
    assert detect_input(b"\r\nHTTP/1.1 200 OK\r\n") == "http"
    assert detect_input(b"M-SEARCH * HTTP/1.1\r\n") == "http"
    assert detect_input(XML) == "xml"
    assert detect_input(b"POSTAL code") != "http"


def test_issue_16_http_random_damage_never_raises() -> None:
    import random

    rng = random.Random(1616)
    base = [post(XML, extra="Transfer-Encoding: chunked\r\n"), reply(XML2, chunked=True),
            post(XML, extra="Content-Encoding: gzip\r\n"), reply(b"", status="100 Continue"), post(SAN)]
    for _ in range(300):
        data = bytearray(b"".join(rng.choice(base) for _ in range(rng.randint(1, 4))))
        for _ in range(rng.randint(1, 8)):
            at = rng.randrange(len(data))
            if rng.random() < 0.5:
                data[at] = rng.choice(b"\r\n:; 0aF-\x00\xff")
            else:
                del data[at:at + rng.randint(1, 20)]
            data = data or bytearray(b"x")
        for dump in (False, True):
            msgs, _ = parse_stream(bytes(data), dump=dump, methods=["HEAD", "POST"])
            assert all(m.end <= len(data) for m in msgs)
        cap = read_capture(bytes(data), "f", "http")
        assert cap.kind == "http"
