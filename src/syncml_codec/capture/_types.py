"""What reading a capture yields: the SyncML messages found in it, each with
where it came from, and notes on what was skipped or broken.

A capture is anything a user has on disk that holds SyncML traffic: a pcap,
an HTTP dump, a hex dump, a client's debug log, an OBEX trace, or one plain
message.  Readers never raise for bad content: a truncated pcap gives the
messages before the cut and an error note; one broken message in a log gives
a note and the others.  The CLI prints the error notes and exits 1 at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "INPUT_KINDS",
    "Capture",
    "CaptureNote",
    "CapturedMessage",
    "Direction",
    "HttpInfo",
    "InputKind",
]

#: the kinds of input a capture can be (the CLI's ``--input KIND``)
InputKind = Literal["pcap", "http", "hex", "base64", "obex", "san", "log", "wbxml", "xml"]
#: every :data:`InputKind`, in the order auto-detection tries them
INPUT_KINDS: tuple[InputKind, ...] = ("pcap", "http", "hex", "base64", "obex", "san", "log", "wbxml", "xml")
#: who sent a message: the SyncML client, the server, or not known from the capture
Direction = Literal["client", "server", "unknown"]


@dataclass(frozen=True)
class HttpInfo:
    """The HTTP exchange a message travelled in: ``method`` and ``target``
    (path and query, e.g. ``/sync?sessionid=3``) for a request, ``status``
    for a response; ``headers`` as sent (name, value), names as written."""

    method: str | None = None
    target: str | None = None
    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()

    def header(self, name: str) -> str | None:
        """The first header called ``name`` (any case), else None."""
        low = name.lower()
        return next((v for k, v in self.headers if k.lower() == low), None)


@dataclass(frozen=True)
class CapturedMessage:
    """One SyncML message (WBXML or XML document, or a SAN package #0) cut
    out of a capture, byte for byte.

    ``origin`` says where, for people: ``"s.pcap: 127.0.0.1:41000 ->
    127.0.0.1:8080, request 2"``, ``"AllToServer.txt:24"``.  ``direction``
    is who sent it when the capture tells (an HTTP request is the client's, a
    Funambol log's "Response read" the server's), else ``"unknown"`` (the
    session grouping works it out from the message).  ``time`` is in seconds:
    since the epoch for pcaps, since midnight for logs that print only the
    time of day; only differences are shown.  ``stream`` names the
    connection or file the message came in, so messages of one TCP connection
    can be told from another's.  ``kind`` is ``"syncml"`` or ``"san"``."""

    data: bytes
    origin: str
    direction: Direction = "unknown"
    time: float | None = None
    content_type: str | None = None
    http: HttpInfo | None = None
    stream: str | None = None
    kind: Literal["syncml", "san"] = "syncml"


@dataclass(frozen=True)
class CaptureNote:
    """Something in a capture that is not a message: ``error`` True for what
    is broken (a truncated pcap, a hole in a TCP stream, a log message cut
    short), False for what was seen and skipped on purpose (an OBEX connect,
    an HTTP exchange that carries no SyncML)."""

    origin: str
    text: str
    error: bool = False

    def __str__(self) -> str:
        return f"{self.origin}: {self.text}"


@dataclass
class Capture:
    """What one input held: its ``kind`` (as detected or forced), its
    messages in capture order (a request before its response), and notes."""

    name: str
    kind: InputKind
    messages: list[CapturedMessage] = field(default_factory=list)
    notes: list[CaptureNote] = field(default_factory=list)

    @property
    def errors(self) -> list[CaptureNote]:
        return [n for n in self.notes if n.error]
