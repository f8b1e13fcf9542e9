"""Issue 16 item 1 (frames): OBEX, SAN, hex, base64, client logs and
recorded-session directories read as captures, on real files where there are
some, and bad input as notes, never exceptions."""

from __future__ import annotations

import base64
import bz2
import gzip
import json
import lzma
import shutil
from pathlib import Path

import pytest

from syncml_codec.capture import INPUT_KINDS, Capture, detect_input, read_capture
from syncml_codec.cli._captures import load_captures
from syncml_codec.codec.san import Notification
from syncml_codec.model import Message

from ..conftest import ROOT, corpus_files, corpus_path

BUTEO = ("devices", "sailfishos+buteo-syncml", "tests_meego", "data")
FUNAMBOL = ("devices", "zijianhuang+SyncMLDotNet", "TestCase")
SE_FIXTURE = ROOT / "tests" / "data" / "captures" / "syncevolution-log"


def wbxml_message() -> bytes:
    files = corpus_files("syncevolution/first-request", "*.wbxml")
    if not files:
        pytest.skip("corpus not found")
    return files[0].read_bytes()


def xml_message() -> bytes:
    return corpus_path("devices", "pohly+funambol-cpp-client-api", "test", "testcases", "syncML1.xml").read_bytes()


def read(data: bytes, name: str = "in", kind: str | None = None) -> Capture:
    return read_capture(data, name, kind)  # type: ignore[arg-type]


def errors(cap: Capture) -> list[str]:
    return [str(n) for n in cap.errors]


# -- SAN ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("file", "uri"), [("SAN01.bin", "Contacts"), ("SAN02.bin", "Calendar")])
def test_real_san_is_detected_before_wbxml_and_is_one_san_message(file: str, uri: str) -> None:
    data = corpus_path(*BUTEO, file).read_bytes()
    assert detect_input(data) == "san"
    cap = read(data, file)
    assert cap.kind == "san" and not cap.notes
    (msg,) = cap.messages
    assert msg.kind == "san" and msg.data == data and msg.origin == file
    assert Notification.from_bytes(msg.data).alerts[0].server_uri == uri


def test_forced_san_on_other_bytes_is_handed_on_for_the_transcript_to_judge() -> None:
    data = wbxml_message()
    cap = read(data, "m.wbxml", "san")
    assert [(m.kind, m.data) for m in cap.messages] == [("san", data)] and not cap.notes
    with pytest.raises(ValueError, match="version field"):
        Notification.from_bytes(cap.messages[0].data)


# -- OBEX --------------------------------------------------------------------------------------------------------


def test_real_obex_connect_response_is_a_note_naming_its_headers() -> None:
    data = corpus_path(*BUTEO, "obexresp01.bin").read_bytes()
    assert detect_input(data) == "obex"
    cap = read(data, "obexresp01.bin")
    assert not cap.messages and not cap.errors
    (note,) = cap.notes
    assert "Success response (0xA0)" in note.text
    assert "MaxPacketLength 65535" in note.text and "ConnectionID 1" in note.text and "Who SYNCML-SYNC" in note.text


@pytest.mark.parametrize(("file", "meaning"), [("obexresp02.bin", "Service Unavailable response (0xD3)"),
                                               ("obexresp03.bin", "Success response (0xA0)")])
def test_real_obex_responses_without_body_are_informational_notes(file: str, meaning: str) -> None:
    cap = read(corpus_path(*BUTEO, file).read_bytes(), file)
    assert cap.kind == "obex" and not cap.messages and not cap.errors
    assert [n.text for n in cap.notes] == [f"{meaning} (no headers)"]


def header(hid: int, value: bytes | int) -> bytes:
    if isinstance(value, int):
        return bytes([hid]) + value.to_bytes(4 if hid >> 6 == 3 else 1, "big")
    return bytes([hid]) + (len(value) + 3).to_bytes(2, "big") + value


def packet(code: int, *headers: bytes, connect: bool = False) -> bytes:
    body = (b"\x10\x00\xff\xff" if connect else b"") + b"".join(headers)
    return bytes([code]) + (len(body) + 3).to_bytes(2, "big") + body


def obex_session(request: bytes, response: bytes, chunk: int = 700) -> bytes:
    """Connect, a Put of ``request`` in chunks, a Get whose responses carry ``response``, Disconnect."""
    out = packet(0x80, header(0x46, b"SYNCML-SYNC"), connect=True)
    out += packet(0xA0, header(0xCB, 1), header(0x4A, b"SYNCML-SYNC"), connect=True)
    parts = [request[i:i + chunk] for i in range(0, len(request), chunk)]
    for n, part in enumerate(parts):
        last = n == len(parts) - 1
        heads = [header(0xCB, 1)]
        if n == 0:
            heads.append(header(0x42, b"application/vnd.syncml+wbxml\x00"))
        heads.append(header(0x49 if last else 0x48, part))
        out += packet(0x82 if last else 0x02, *heads)
        out += packet(0xA0 if last else 0x90)
    out += packet(0x83, header(0xCB, 1), header(0x42, b"application/vnd.syncml+wbxml\x00"))
    parts = [response[i:i + chunk] for i in range(0, len(response), chunk)]
    for n, part in enumerate(parts):
        last = n == len(parts) - 1
        out += packet(0xA0 if last else 0x90, header(0x49 if last else 0x48, part))
        if not last:
            out += packet(0x83, header(0xCB, 1))
    out += packet(0x81, header(0xCB, 1)) + packet(0xA0)
    return out


def test_obex_stream_with_bodies_split_across_packets_gives_both_messages() -> None:
    request = wbxml_message()
    response = corpus_files("syncevolution/sessions", "*/1-a-first-sync/001-response.wbxml")[0].read_bytes()
    data = obex_session(request, response)
    assert detect_input(data) == "obex"
    cap = read(data, "s.obex")
    assert not cap.errors
    assert [m.data for m in cap.messages] == [request, response]
    assert all(m.direction == "unknown" and m.content_type == "application/vnd.syncml+wbxml" for m in cap.messages)
    assert "(Put request, application/vnd.syncml+wbxml)" in cap.messages[0].origin
    assert "packets 3-" in cap.messages[0].origin
    for m in cap.messages:
        Message.from_bytes(m.data)
    texts = [n.text for n in cap.notes]
    assert texts[0] == "Connect request: OBEX 1.0, flags 0x00, MaxPacketLength 65535, Target SYNCML-SYNC"
    assert texts[1].startswith("Success response (0xA0): OBEX 1.0") and "Who SYNCML-SYNC" in texts[1]
    assert any(t.startswith("Disconnect request") for t in texts)
    assert not any(t.startswith("Continue response") for t in texts)  # counted, not listed one by one
    assert texts[-1].endswith("packets continuing a body transfer (Continue responses, Gets for the rest) not listed")


def test_obex_xml_body_without_type_header_is_recognised() -> None:
    body = xml_message()
    data = packet(0x82, header(0x49, body)) + packet(0xA0)
    cap = read(data, "x.obex")
    assert [m.data for m in cap.messages] == [body] and not cap.errors


def test_obex_packet_longer_than_the_data_is_an_error_after_the_good_ones() -> None:
    good = packet(0x82, header(0x49, wbxml_message()))
    data = good + b"\xa0\x40\x00" + b"\x00" * 10
    cap = read(data, "t.obex", "obex")
    assert len(cap.messages) == 1
    assert errors(cap) == [f"t.obex: packet 2 at offset {len(good)}: packet 0xA0 says 16384 bytes, only 13 left: "
                           "cut short"]


def test_obex_body_without_end_of_body_is_an_error() -> None:
    data = packet(0x02, header(0x42, b"application/vnd.syncml+xml\x00"), header(0x48, b"<SyncML>")) + packet(0x90)
    cap = read(data, "c.obex")
    assert not cap.messages
    assert errors(cap) == ["c.obex: packets 1-2: body of 8 bytes without its End-of-Body: cut short"]


def test_obex_body_of_another_type_is_skipped_with_a_note() -> None:
    data = packet(0x82, header(0x42, b"text/x-vcard\x00"), header(0x49, b"BEGIN:VCARD\r\nEND:VCARD\r\n"))
    cap = read(data, "v.obex")
    assert not cap.messages and not cap.errors
    assert "of type text/x-vcard: not SyncML, skipped" in cap.notes[0].text


def test_forced_obex_on_xml_says_so() -> None:
    cap = read(xml_message(), "m.xml", "obex")
    assert not cap.messages
    assert errors(cap) == ["m.xml: not an OBEX packet stream: first byte 0x3C is no OBEX opcode or response code"]


def test_obex_header_running_past_its_packet_is_an_error_note() -> None:
    data = packet(0x82, b"\x49\x00\x50abc") + packet(0xA0)
    cap = read(data, "h.obex", "obex")
    assert not cap.messages
    assert "header 0x49 at offset 3 says 80 bytes" in errors(cap)[0]


# -- hex dumps ---------------------------------------------------------------------------------------------------


def render(raw: bytes) -> str:
    return "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in raw)


def xxd(raw: bytes) -> str:
    lines = []
    for off in range(0, len(raw), 16):
        row = raw[off:off + 16]
        groups = " ".join(row[i:i + 2].hex() for i in range(0, len(row), 2))
        lines.append(f"{off:08x}: {groups:<39}  {render(row)}")
    return "\n".join(lines) + "\n"


def hexdump_c(raw: bytes) -> str:
    lines = []
    prev = None
    starred = False
    for off in range(0, len(raw), 16):
        row = raw[off:off + 16]
        if row == prev and len(row) == 16:
            if not starred:
                lines.append("*")
                starred = True
            continue
        starred = False
        prev = row
        left = " ".join(f"{b:02x}" for b in row[:8])
        right = " ".join(f"{b:02x}" for b in row[8:])
        lines.append(f"{off:08x}  {left:<23}  {right:<23}  |{render(row)}|")
    lines.append(f"{len(raw):08x}")
    return "\n".join(lines) + "\n"


def od(raw: bytes) -> str:
    lines = [f"{off:06x} " + " ".join(f"{b:02x}" for b in raw[off:off + 16]) for off in range(0, len(raw), 16)]
    return "\n".join([*lines, f"{len(raw):06x}"]) + "\n"


def tcpdump_x(raw: bytes) -> str:
    lines = ["15:02:11.123456 IP 127.0.0.1.41000 > 127.0.0.1.8080: Flags [P.], length 96"]
    for off in range(0, len(raw), 16):
        row = raw[off:off + 16]
        groups = " ".join(row[i:i + 2].hex() for i in range(0, len(row), 2))
        lines.append(f"\t0x{off:04x}:  {groups:<39}  {render(row)}")
    return "\n".join(lines) + "\n"


def wireshark(raw: bytes) -> str:
    lines = []
    for off in range(0, len(raw), 16):
        row = raw[off:off + 16]
        lines.append(f"{off:04x}   {' '.join(f'{b:02x}' for b in row):<47}   {render(row)}")
    return "\n".join(lines) + "\n"


def c_array(raw: bytes) -> str:
    body = ",\n  ".join(", ".join(f"0x{b:02x}" for b in raw[i:i + 12]) for i in range(0, len(raw), 12))
    return f"unsigned char msg[] = {{\n  {body}\n}};\nunsigned int msg_len = {len(raw)};\n"


STYLES = {
    "plain": lambda raw: raw.hex(),
    "plain-lines": lambda raw: "\n".join(raw[i:i + 30].hex() for i in range(0, len(raw), 30)) + "\n",
    "spaced": lambda raw: " ".join(f"{b:02X}" for b in raw),
    "xxd": xxd,
    "hexdump-C": hexdump_c,
    "od": od,
    "od-octal": lambda raw: "\n".join([*(f"{off:07o} " + " ".join(f"{b:02x}" for b in raw[off:off + 16])
                                         for off in range(0, len(raw), 16)), f"{len(raw):07o}"]) + "\n",
    "tcpdump-X": tcpdump_x,
    "wireshark": wireshark,
    "c-array": c_array,
}


@pytest.mark.parametrize("style", sorted(STYLES))
@pytest.mark.parametrize("which", ["wbxml", "xml"])
def test_hex_dump_styles_give_the_message_back(style: str, which: str) -> None:
    raw = wbxml_message() if which == "wbxml" else xml_message()
    text = STYLES[style](raw).encode()
    assert detect_input(text) == "hex"
    cap = read(text, "dump.txt")
    assert not cap.notes, [str(n) for n in cap.notes]
    (msg,) = cap.messages
    assert msg.data == raw and msg.origin.startswith("dump.txt:") and msg.origin.endswith("(hex)")


def test_hexdump_star_lines_are_filled_in() -> None:
    raw = wbxml_message()[:40] + b"\x00" * 64 + wbxml_message()[40:80]
    text = hexdump_c(raw)
    assert "*" in text.splitlines()
    outs = read(text.encode(), "d", "hex")
    # the bytes come back whole; they are no SyncML, so the inner read says why
    assert not outs.messages or outs.messages[0].data == raw


def test_hex_dump_of_an_obex_stream_and_a_san_are_read_again() -> None:
    san = corpus_path(*BUTEO, "SAN01.bin").read_bytes()
    cap = read(xxd(san).encode(), "san.txt")
    assert [m.kind for m in cap.messages] == ["san"]
    obex = corpus_path(*BUTEO, "obexresp02.bin").read_bytes()
    cap = read(obex.hex().encode(), "o.txt")
    assert not cap.messages and "Service Unavailable" in cap.notes[0].text


def test_two_dumps_in_one_file_and_text_between_them() -> None:
    a, b = wbxml_message(), xml_message()
    text = tcpdump_x(a) + tcpdump_x(b)
    cap = read(text.encode(), "two.txt")
    assert [m.data for m in cap.messages] == [a, b] and not cap.notes


def test_hex_dump_with_a_gap_is_an_error_with_its_line() -> None:
    lines = xxd(wbxml_message()).splitlines()
    del lines[3]
    cap = read(("\n".join(lines) + "\n").encode(), "gap.txt")
    assert not cap.messages
    (err,) = errors(cap)
    assert err.startswith("gap.txt:1-")
    assert err.endswith(": line 3: 16 bytes, but the next line starts at offset 0x40 (0x30 expected): lines missing")


def test_hex_dump_with_a_bad_digit_is_an_error_with_its_line() -> None:
    lines = xxd(wbxml_message()).splitlines()
    lines[4] = lines[4][:15] + "zz" + lines[4][17:]
    cap = read(("\n".join(lines) + "\n").encode(), "bad.txt", "hex")
    assert not cap.messages
    (err,) = errors(cap)
    assert "line 5:" in err and "is not hex" in err


def test_plain_hex_with_a_bad_character_or_odd_length() -> None:
    cap = read(b"02a4016a\n0g6d\n", "p.txt", "hex")
    assert errors(cap) == ["p.txt:2: 'g' is not a hex digit"]
    cap = read(b"02a4016", "p.txt", "hex")
    assert errors(cap) == ["p.txt: odd number of hex digits (7): a digit is missing"]


def test_hex_that_decodes_to_nothing_known_says_so() -> None:
    cap = read(b"deadbeef" * 4, "junk.txt", "hex")
    assert not cap.messages and cap.errors
    assert errors(cap)[0].startswith("junk.txt:1 (hex): not XML")


# -- base64 ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("style", ["one-line", "mime-lines", "url-safe-unpadded", "spaces"])
def test_base64_styles_give_the_message_back(style: str) -> None:
    raw = wbxml_message()
    text = {
        "one-line": base64.b64encode(raw),
        "mime-lines": base64.encodebytes(raw),
        "url-safe-unpadded": base64.urlsafe_b64encode(raw).rstrip(b"="),
        "spaces": b"  " + b" \n ".join(base64.b64encode(raw)[i:i + 50] for i in range(0, 4000, 50)).strip() + b"\n",
    }[style]
    assert detect_input(text) == "base64"
    cap = read(text, "b.txt")
    assert not cap.notes
    assert [m.data for m in cap.messages] == [raw]


def test_base64_of_an_xml_message_and_of_a_hex_dump() -> None:
    raw = xml_message()
    cap = read(base64.b64encode(raw), "x.b64")
    assert [m.data for m in cap.messages] == [raw]
    cap = read(base64.b64encode(xxd(raw).encode()), "xx.b64")
    assert [m.data for m in cap.messages] == [raw]
    assert cap.messages[0].origin == "xx.b64 (base64):1-" + str(len(xxd(raw).splitlines())) + " (hex)"


@pytest.mark.parametrize(("text", "error"), [
    (b"AqQBagBt=bHEDMS4y", "bad base64 padding: '=' at offset 8, before the end"),
    (b"AqQBagBtbHEDMS4y==", "bad base64 padding: 2 '=' where 0 belong"),
    (b"AqQBagBtbHEDMS4yA", "bad base64: 17 characters leave one over (a character is missing or extra)"),
    (b"AqQB-agBt+bHEDMS4y", "not base64: both alphabets ('+/' and '-_') used"),
    (b"AqQB*agBtbHEDMS4y", "not base64: b'*' at offset 4 (without white space)"),
])
def test_base64_garbage_is_an_error_note(text: bytes, error: str) -> None:
    cap = read(text, "g.b64", "base64")
    assert not cap.messages
    assert errors(cap) == [f"g.b64: {error}"]


def test_base64_of_garbage_bytes_is_read_as_base64_and_says_what_came_out() -> None:
    junk = base64.b64encode(bytes(range(200, 256)) * 3)
    assert detect_input(junk) == "base64"  # not known inside, but base64 text: its reader says why
    cap = read(junk, "j.b64")
    assert not cap.messages
    assert errors(cap) == ["j.b64 (base64): not XML: first byte 0xC8 is not '<' (nor is it any other kind of "
                           "capture read here)"]
    assert detect_input(b"not a message at all\n") == "xml"  # words with blanks are no base64


# -- compression -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pack", [gzip.compress, lzma.compress, bz2.compress])
def test_compressed_input_is_read_inside(pack: object) -> None:
    raw = wbxml_message()
    cap = read(pack(raw), "m.z")  # type: ignore[operator]
    assert [m.data for m in cap.messages] == [raw]


def test_bad_compressed_data_is_an_error_note() -> None:
    cap = read(gzip.compress(b"x" * 100)[:20], "cut.gz")
    assert not cap.messages and errors(cap)[0].startswith("cut.gz: bad gzip data")


def test_wrappings_are_bounded() -> None:
    data = wbxml_message()
    for _ in range(6):
        data = base64.b64encode(data)
    cap = read(data, "deep", "base64")
    assert not cap.messages
    assert any("more than 4 layers" in e for e in errors(cap))


# -- logs --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("parts", "directions", "first_time"), [
    (("FunambolOutlookExamples", "AllToServer.txt"), "CSCS", 11 * 3600 + 27 * 60 + 34),
    (("FunambolOutlookExamples", "AllFromServer.txt"), "CSCSCSCS", 6 * 3600 + 3 * 60 + 11),
    (("OLPluginFromLocalToServer.txt",), "CSCSCS", 1209964306.0),  # 2008-05-05 15:11:46 GMT +10:00
    (("Evaluate", "SlowSync.log"), "CS" * 6, 1204924194.828),  # 2008-03-07 21:09:54:828, no zone: UTC
])
def test_funambol_logs_give_every_message_with_direction_and_time(parts: tuple[str, ...], directions: str,
                                                                   first_time: float) -> None:
    path = corpus_path(*FUNAMBOL, *parts)
    data = path.read_bytes()
    assert data.count(b"<SyncML") == len(directions)
    assert detect_input(data) == "log"
    cap = read(data, path.name)
    assert not cap.notes
    assert "".join(m.direction[0].upper() for m in cap.messages) == directions
    assert cap.messages[0].time == pytest.approx(first_time)
    times = [m.time for m in cap.messages]
    assert times == sorted(times)  # type: ignore[type-var]
    for m in cap.messages:
        assert m.data.rstrip().endswith(b"</SyncML>")
        assert m.data.startswith((b"<?xml", b"<SyncML"))
        line = int(m.origin.rsplit(":", 1)[1])
        assert data.split(b"\n")[line - 1].lstrip().startswith((b"<?xml", b"<SyncML")) or b"<?xml" in \
            data.split(b"\n")[line - 1] or b"<SyncML" in data.split(b"\n")[line - 1]
        msg = Message.from_bytes(m.data)
        # the direction agrees with the message: a client's message targets the server's URL
        assert (m.direction == "client") == ("http" in (msg.header.target.loc_uri or ""))


def test_log_with_a_broken_message_gives_a_note_and_the_others() -> None:
    path = corpus_path(*FUNAMBOL, "OLPluginFromLocalToServer.txt")
    lines = path.read_bytes().split(b"\n")
    end = next(i for i, ln in enumerate(lines) if ln.startswith(b"</SyncML>"))  # the first message's end
    broken = b"\n".join(lines[:end - 5] + lines[end + 1:])
    cap = read(broken, "broken.txt")
    assert len(cap.messages) == 5
    (err,) = errors(cap)
    assert err.startswith("broken.txt:123: message cut short: no </SyncML> before line ")


def test_log_message_cut_by_the_end_of_the_file() -> None:
    data = b"10:00:00 [DEBUG] - request:<SyncML><SyncHdr>\n<VerDTD>1.2</VerDTD>\n"
    cap = read(data, "end.log")
    assert not cap.messages
    assert errors(cap) == ["end.log:1: message cut short: no </SyncML> before the end of the log"]


def test_log_times_pass_midnight() -> None:
    msg = xml_message().split(b"?>", 1)[1].strip()
    data = b"23:59:59 [DEBUG] - request:\n" + msg + b"\n00:00:01 [DEBUG] - response:\n" + msg + b"\n"
    cap = read(data, "night.log")
    assert [m.time for m in cap.messages] == [86399.0, 86401.0]
    assert [m.direction for m in cap.messages] == ["client", "server"]


def test_forced_log_without_messages_says_so() -> None:
    cap = read(b"10:00:00 nothing here\n", "empty.log", "log")
    assert errors(cap) == ["empty.log: no SyncML message (no '<SyncML') in the log"]


def test_syncevolution_log_fixture_directory() -> None:
    (cap,) = load_captures([str(SE_FIXTURE)])
    assert cap.kind == "log" and not cap.notes
    assert len(cap.messages) == 9
    assert [m.direction for m in cap.messages] == ["client", "server"] * 4 + ["client"]
    assert all(m.origin.endswith(".wbxml") and "_msg" in m.origin for m in cap.messages)
    msgs = [Message.from_bytes(m.data) for m in cap.messages]
    # the first exchange is the MD5 challenge; SyncEvolution then starts a new session
    assert [m.header.session_id for m in msgs] == ["5", "5"] + ["6"] * 7
    assert [m.header.msg_id for m in msgs] == ["1", "1", "1", "1", "2", "2", "3", "3", "4"]


def test_syncevolution_log_html_links_times_and_role(tmp_path: Path) -> None:
    """The HTML log gives each dump its time and the session's role (here a
    server's log, so outgoing messages are the server's)."""
    folder = tmp_path / "log"
    shutil.copytree(SE_FIXTURE, folder)
    links = []
    for n, dump in enumerate(sorted(folder.glob("*_trm*"))):
        way = "Outgoing" if "outgoing" in dump.name else "Incoming"
        links.append(f'<li><i>[2026-12-06 14:50:59.{100 + n:03d}]</i>&nbsp;<span class="proto"><span class="hot">'
                     f'{way} WBXML message msgID=1 <a href="{dump.name}" target="_blank">saved as XML translation'
                     "</a></span></span></li>")
    html = ("<!DOCTYPE HTML>\n<html><head><title>SySync SyncML Engine 3.4.0.47 Log</title></head><body>\n"
            "<li>==== Server Session started</li>\n" + "\n".join(links) + "\n</body></html>\n")
    (folder / "syncevolution-log.html").write_text(html)
    data = (folder / "syncevolution-log.html").read_bytes()
    assert detect_input(data) == "log"
    for cap in (read(data, str(folder / "syncevolution-log.html")), load_captures([str(folder)])[0]):
        assert len(cap.messages) == 9 and not cap.notes
        assert cap.messages[0].direction == "server" and cap.messages[1].direction == "client"
        assert cap.messages[0].time == pytest.approx(1796568659.100)
    cap = read(data, "-")
    assert not cap.messages and "read it from its folder" in errors(cap)[0]


# -- detection and forced kinds ----------------------------------------------------------------------------------


def test_plain_messages_are_detected() -> None:
    assert detect_input(wbxml_message()) == "wbxml"
    assert detect_input(xml_message()) == "xml"
    assert detect_input(b"\xef\xbb\xbf  \n" + xml_message()) == "xml"


@pytest.mark.parametrize(("kind", "data", "error"), [
    ("wbxml", b"<SyncML/>", "not WBXML: first byte 0x3C is no WBXML version (0x00-0x03)"),
    ("xml", b"\x02\xa4\x01", "not XML: first byte 0x02 is not '<'"),
])
def test_forced_plain_kinds_that_do_not_fit(kind: str, data: bytes, error: str) -> None:
    cap = read(data, "f", kind)
    assert not cap.messages and errors(cap)[0].startswith(f"f: {error}")


@pytest.mark.parametrize("kind", [k for k in INPUT_KINDS if k not in ("pcap", "http")])
@pytest.mark.parametrize("data", [b"", b"\x00", b"\xff" * 7, b"<", b"0x", b"=", b"\x80\x00\x03"])
def test_every_kind_on_odd_input_never_raises(kind: str, data: bytes) -> None:
    cap = read(data, "odd", kind)
    assert isinstance(cap, Capture)


# -- directories -------------------------------------------------------------------------------------------------


def test_recorded_session_directory_is_one_capture_with_http_facts() -> None:
    folders = sorted(p.parent for p in corpus_files("syncevolution/sessions", "*/1-a-first-sync/001-request.json"))
    if not folders:
        pytest.skip("corpus not found")
    folder = folders[0]
    (cap,) = load_captures([str(folder)])
    names = sorted(p.name for p in folder.iterdir() if p.suffix in (".wbxml", ".xml")
                   and not p.name.endswith(".wbxml.xml"))
    assert [Path(m.origin).name for m in cap.messages] == names
    assert [m.direction for m in cap.messages] == ["client", "server"] * (len(names) // 2)
    first = json.loads((folder / "001-request.json").read_text())
    http = cap.messages[0].http
    assert http is not None and http.method == "POST" and http.target == first["path"]
    assert http.header("content-type") == "application/vnd.syncml+wbxml"
    assert cap.messages[1].http is not None and cap.messages[1].http.status == 200
    assert "?sessionid=" in (cap.messages[2].http.target or "")  # type: ignore[union-attr]
    assert not cap.notes


def test_directory_of_plain_messages_skips_sidecars() -> None:
    folder = corpus_path("devices", "pohly+funambol-cpp-client-api", "test", "testcases")
    caps = load_captures([str(folder)])
    assert [Path(c.name).name for c in caps] == sorted(p.name for p in folder.iterdir())
    assert all(m.direction == "unknown" for c in caps for m in c.messages)
    assert not [e for c in caps for e in c.errors]


def test_first_request_folder_uses_the_headers_sidecars() -> None:
    folder = corpus_path("syncevolution", "first-request")
    caps = load_captures([str(folder)])
    assert caps and all(c.name.endswith((".wbxml", ".xml")) and len(c.messages) == 1 for c in caps)
    assert all(c.messages[0].direction == "client" and c.messages[0].http is not None for c in caps)


def test_unreadable_file_in_a_list_is_a_note_and_the_rest_is_read(tmp_path: Path) -> None:
    good = tmp_path / "m.xml"
    good.write_bytes(xml_message())
    caps = load_captures([str(tmp_path / "missing.bin"), str(good)])
    assert caps[0].errors and not caps[0].messages
    assert len(caps[1].messages) == 1
