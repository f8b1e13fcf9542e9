"""Real captures of SyncML traffic, made by the tests (issue 16 item 7): no
pcap of SyncML is public, so tcpdump records SyncEvolution (the real client,
through ``../shared/interop/syncevolution/se-client``) syncing with
``syncml serve`` on loopback.

:func:`record_sessions` makes one capture: a server on a free port, tcpdump
on ``lo`` filtered to that port, one device (XML or WBXML; the server's MaxMsgSize 4000, so
the client's messages after the first stay under it) that syncs twice: a first (slow) sync sending four contacts, one of
them with a 10 kB NOTE that travels as MoreData chunks, then a two-way sync
sending one changed contact.  The account is ``test``/``secret``; the
device id ``se-client-<enc>``.  The server keeps a transcript of every
message (``transcripts``), which the tests compare with what the capture
holds.

``python -m tests.capture.captures OUT_DIR`` writes one (WBXML) capture, as
pcap and pcapng, the way ``tests/data/captures/`` was made.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..interop.conftest import SE, ServerProcess, missing

#: the NOTE that is bigger than the client's maxMsgSize (so it goes as MoreData)
BIG_NOTE = "".join(f"line {n:04d} of a note too long for one message. " for n in range(220))  # ~10 kB
MAX_MSG_SIZE = 4000
#: where tcpdump is when it is not on PATH (/usr/sbin is not on a user's PATH on Debian)
TCPDUMP_PLACES = ("/usr/sbin/tcpdump", "/usr/bin/tcpdump")


def vcard(given: str, family: str, *, note: str = "", tel: str = "") -> bytes:
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"FN:{given} {family}", f"N:{family};{given};;;"]
    if tel:
        lines.append(f"TEL;TYPE=CELL:{tel}")
    if note:
        lines.append("NOTE:" + note)
    lines.append("END:VCARD")
    return ("\r\n".join(lines) + "\r\n").encode()


def tcpdump_path() -> str:
    """tcpdump's path, or skip (fail with SYNCML_CODEC_REQUIRE_INTEROP=1)."""
    found = shutil.which("tcpdump") or next((p for p in TCPDUMP_PLACES if Path(p).is_file()), None)
    if found is None:
        missing("tcpdump is not installed (apt-get install tcpdump)")
        raise AssertionError("unreachable")
    return found


def _has_fin(pcap: Path, sport: int) -> bool:
    import dpkt

    try:
        with open(pcap, "rb") as f:
            for _, buf in dpkt.pcap.Reader(f):
                ip = dpkt.ethernet.Ethernet(buf).data
                tcp = getattr(ip, "data", None)
                if isinstance(tcp, dpkt.tcp.TCP) and tcp.sport == sport and tcp.flags & dpkt.tcp.TH_FIN:
                    return True
    except (ValueError, dpkt.NeedData):  # a record being written, or no header yet
        pass
    return False


class Tcpdump:
    """``tcpdump -i lo -w FILE -U 'tcp port PORT'`` until :meth:`stop`.
    Returns once tcpdump says it is listening (so nothing sent after is
    missed); ``-Z root`` keeps it writing to our private temporary folder."""

    def __init__(self, out: Path, port: int, interface: str = "lo", timeout: float = 30) -> None:
        self.out = out
        # as root (CI runs the tests as a user with passwordless sudo; sudo passes SIGINT on)
        sudo = ["sudo", "-n"] if os.geteuid() != 0 and shutil.which("sudo") else []
        self.proc = subprocess.Popen(
            [*sudo, tcpdump_path(), "-i", interface, "-n", "-s", "0", "-U", "--immediate-mode", "-Z", "root",
             "-w", str(out), f"tcp port {port}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert self.proc.stderr is not None
        said = b""
        while b"listening on" not in said:
            ready, _, _ = select.select([self.proc.stderr], [], [], timeout)
            line = self.proc.stderr.readline() if ready else b""
            if not line:  # timed out or tcpdump ended (no permission to capture, no such interface)
                self.stop()
                missing(f"tcpdump could not capture on {interface}: {said.decode(errors='replace').strip()}")
            said += line
        self.said = said.decode(errors="replace")

    def flush(self, port: int, timeout: float = 20) -> None:
        """Open and close one connection to ``port`` and wait until tcpdump
        has written its FIN: tcpdump writes packets in the order it sees
        them, so everything sent before is in the file then (SIGINT alone
        may drop what is still in its ring buffer).  The capture ends with
        this empty connection."""
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            marker = sock.getsockname()[1]
        deadline = time.monotonic() + timeout
        while not _has_fin(self.out, marker):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError(f"tcpdump did not write the marker connection's FIN: {self.stop()}")
            time.sleep(0.02)  # polling the file tcpdump writes

    def stop(self) -> str:
        """SIGINT, then wait: tcpdump writes what it has and its counts."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stderr is not None:
            self.said += self.proc.stderr.read().decode(errors="replace")
            self.proc.stderr.close()
        return self.said


@dataclass
class LiveCapture:
    """One capture and what went into it."""

    enc: str  # "xml" or "wbxml"
    pcap: Path
    port: int
    device_id: str
    transcripts: Path  # the server's DIR/<session>/NNN-request.xml, NNN-response.xml
    syncs: list[dict[str, Any]] = field(default_factory=list)  # se-client's result of each sync
    tcpdump: str = ""  # what tcpdump said


def record_sessions(folder: Path, shim: Path, enc: str) -> LiveCapture:
    """Capture two sessions of one device (``enc`` "xml" or "wbxml") with
    a fresh ``syncml serve``."""
    assert enc in ("xml", "wbxml")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "server").mkdir(exist_ok=True)
    server = ServerProcess(folder / "server", args=["--max-msg-size", str(MAX_MSG_SIZE)])
    try:
        port = urlsplit(server.url).port
        assert port is not None
        se = SE(folder / "se", shim, server.url, folder / "items")
        se.configure(enc, wbxml=enc == "wbxml", stores=["addressbook"], sets=[f"maxMsgSize={MAX_MSG_SIZE}"])
        luids = se.add(enc, "addressbook", [
            vcard("Ada", "Lovelace", tel="+44 20 7946 0001"),
            vcard("Alan", "Turing", tel="+44 20 7946 0002"),
            vcard("Grace", "Hopper", tel="+1 202 555 0103"),
            vcard("Long", "Note", note=BIG_NOTE),
        ])
        capture = LiveCapture(enc, folder / f"se-{enc}.pcap", port, f"se-client-{enc}", server.transcripts)
        dump = Tcpdump(capture.pcap, port)
        try:
            capture.syncs.append(se.sync(enc))
            se.update(enc, "addressbook", luids[1], vcard("Alan", "Turing", tel="+44 20 7946 0999"))
            capture.syncs.append(se.sync(enc))
            dump.flush(port)
        finally:
            capture.tcpdump = dump.stop()
        return capture
    finally:
        server.stop()


def pcap_to_pcapng(pcap: Path, out: Path) -> None:
    """The same packets as pcapng (dpkt's writer; timestamps kept)."""
    import dpkt

    with open(pcap, "rb") as src, open(out, "wb") as dst:
        reader = dpkt.pcap.Reader(src)
        writer = dpkt.pcapng.Writer(dst, snaplen=reader.snaplen, linktype=reader.datalink())
        for ts, buf in reader:
            writer.writepkt(buf, ts=ts)


def main(argv: list[str]) -> int:
    """``python -m tests.capture.captures OUT_DIR [ENC]``: write
    ``se-ENC-two-sessions.pcap`` and ``.pcapng`` into OUT_DIR."""
    import tempfile

    out = Path(argv[0])
    enc = argv[1] if len(argv) > 1 else "wbxml"
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "se-home"
        proc = subprocess.run([sys.executable, str(_se_client()), "setup"], capture_output=True, text=True,
                              env={**_environ(), "SE_CLIENT_HOME": str(home)}, timeout=900)
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return 1
        capture = record_sessions(Path(tmp) / "run", home / "curlfix.so", enc)
        out.mkdir(parents=True, exist_ok=True)
        pcap = out / f"se-{enc}-two-sessions.pcap"
        shutil.copyfile(capture.pcap, pcap)
        pcap_to_pcapng(pcap, pcap.with_suffix(".pcapng"))
        print(json.dumps({"pcap": str(pcap), "port": capture.port, "device": capture.device_id,
                          "syncs": [s["stores"]["addressbook"]["mode"] for s in capture.syncs],
                          "tcpdump": capture.tcpdump.strip().splitlines()[-3:]}))
    return 0


def _se_client() -> Path:
    from ..interop.conftest import SE_CLIENT

    return SE_CLIENT


def _environ() -> dict[str, str]:
    return dict(os.environ)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


# --- pcaps built by hand, and changed copies of real ones (the hostile inputs) ---

LINK_ETHERNET, LINK_NULL, LINK_RAW, LINK_SLL, LINK_SLL2 = 1, 0, 101, 113, 276


def read_packets(pcap: bytes) -> tuple[int, list[tuple[float, bytes]]]:
    """The link type and the (time, frame) records of a pcap."""
    import io

    import dpkt

    reader = dpkt.pcap.Reader(io.BytesIO(pcap))
    return reader.datalink(), [(float(ts), bytes(buf)) for ts, buf in reader]


def write_pcap(packets: list[tuple[float, bytes]], linktype: int = LINK_ETHERNET, *, ng: bool = False) -> bytes:
    import io

    import dpkt

    out = io.BytesIO()
    writer = (dpkt.pcapng.Writer if ng else dpkt.pcap.Writer)(out, linktype=linktype)
    for ts, buf in packets:
        writer.writepkt(buf, ts=ts)
    return out.getvalue()


def tcp_of(frame: bytes, linktype: int = LINK_ETHERNET) -> Any:
    """The dpkt TCP segment in a frame (None if there is none)."""
    import dpkt

    if linktype != LINK_ETHERNET:
        raise ValueError(linktype)
    ip = dpkt.ethernet.Ethernet(frame).data
    tcp = getattr(ip, "data", None)
    return tcp if isinstance(tcp, dpkt.tcp.TCP) else None


def frame(src: tuple[str, int], dst: tuple[str, int], seq: int, ack: int, flags: int, payload: bytes,
          linktype: int) -> bytes:
    """One TCP segment as a frame of ``linktype`` (IPv4 or IPv6 after the addresses)."""
    import socket as sock
    import struct

    import dpkt

    tcp = dpkt.tcp.TCP(sport=src[1], dport=dst[1], seq=seq % (1 << 32), ack=ack % (1 << 32), flags=flags,
                       win=65535, data=payload)
    v6 = ":" in src[0]
    if v6:
        ip: Any = dpkt.ip6.IP6(src=sock.inet_pton(sock.AF_INET6, src[0]), dst=sock.inet_pton(sock.AF_INET6, dst[0]),
                               nxt=dpkt.ip.IP_PROTO_TCP, hlim=64, plen=len(bytes(tcp)), data=tcp)
        ethtype = dpkt.ethernet.ETH_TYPE_IP6
    else:
        ip = dpkt.ip.IP(src=sock.inet_aton(src[0]), dst=sock.inet_aton(dst[0]), p=dpkt.ip.IP_PROTO_TCP, ttl=64,
                        data=tcp)
        ethtype = dpkt.ethernet.ETH_TYPE_IP
    if linktype == LINK_ETHERNET:
        return bytes(dpkt.ethernet.Ethernet(src=b"\x02" * 6, dst=b"\x04" * 6, type=ethtype, data=ip))
    if linktype == LINK_SLL:
        return bytes(dpkt.sll.SLL(type=0, hrd=772, hlen=6, hdr=b"\0" * 8, ethtype=ethtype, data=ip))
    if linktype == LINK_SLL2:
        return bytes(dpkt.sll2.SLL2(ethtype=ethtype, intindex=1, hrd=772, type=0, hlen=6, hdr=b"\0" * 8, data=ip))
    if linktype == LINK_NULL:
        return struct.pack("<I", 24 if v6 else 2) + bytes(ip)
    if linktype == LINK_RAW:
        return bytes(ip)
    raise ValueError(linktype)


def connection(client: tuple[str, int], server: tuple[str, int], turns: list[tuple[str, bytes]], *,
               linktype: int = LINK_ETHERNET, t0: float = 1_000_000.0, mss: int = 1000,
               isn: tuple[int, int] = (1000, 5000)) -> list[tuple[float, bytes]]:
    """The packets of one TCP connection: handshake, then each ``(side,
    data)`` turn ("c" client, "s" server) cut into ``mss``-byte segments,
    then FINs.  Times step by a millisecond per packet."""
    import dpkt

    syn, ack_f, psh, fin = dpkt.tcp.TH_SYN, dpkt.tcp.TH_ACK, dpkt.tcp.TH_PUSH, dpkt.tcp.TH_FIN
    seq = {"c": isn[0], "s": isn[1]}
    ends = {"c": (client, server), "s": (server, client)}
    out: list[tuple[float, bytes]] = []

    def add(side: str, flags: int, payload: bytes = b"") -> None:
        other = "s" if side == "c" else "c"
        src, dst = ends[side]
        out.append((t0 + len(out) / 1000, frame(src, dst, seq[side], seq[other], flags, payload, linktype)))

    add("c", syn)
    seq["c"] += 1
    add("s", syn | ack_f)
    seq["s"] += 1
    for side, data in turns:
        for i in range(0, len(data), mss):
            add(side, ack_f | psh, data[i:i + mss])
            seq[side] += len(data[i:i + mss])
    add("c", fin | ack_f)
    seq["c"] += 1
    add("s", fin | ack_f)
    return out


def post(body: bytes, *, target: str = "/sync", content_type: str = "application/vnd.syncml+xml",
         extra: str = "") -> bytes:
    return (f"POST {target} HTTP/1.1\r\nHost: example.org\r\nContent-Type: {content_type}\r\n{extra}"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def reply(body: bytes, *, content_type: str = "application/vnd.syncml+xml", chunked: bool = False,
          status: str = "200 OK") -> bytes:
    if not chunked:
        return (f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
                ).encode() + body
    chunks = b"".join(f"{len(body[i:i + 7]):x}\r\n".encode() + body[i:i + 7] + b"\r\n"
                      for i in range(0, len(body), 7))
    return (f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
            ).encode() + chunks + b"0\r\n\r\n"
