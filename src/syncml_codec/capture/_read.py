"""One entry point for every kind of capture: detect the kind, hand the bytes
to its reader.  Readers are plain functions ``(data, name) -> Capture``."""

from __future__ import annotations

from collections.abc import Callable

from ..codec.detect import looks_like_wbxml
from ..codec.san import looks_like_notification
from ._http import looks_like_http, read_http_dump
from ._pcap import looks_like_pcap, read_pcap
from ._types import Capture, CapturedMessage, CaptureNote, InputKind

__all__ = ["detect_input", "read_capture"]


def detect_input(data: bytes) -> InputKind:
    """The kind of capture ``data`` most likely is.  (The helpers for issue 16
    widen this to every kind in INPUT_KINDS.)"""
    # pcap/pcapng magic, then HTTP: issue 16, i16-pcap
    if looks_like_pcap(data):
        return "pcap"
    if looks_like_http(data):
        return "http"
    if looks_like_notification(data):
        return "san"
    if looks_like_wbxml(data):
        return "wbxml"
    return "xml"


def _single(data: bytes, name: str, kind: InputKind) -> Capture:
    cap = Capture(name, kind)
    if not data:
        cap.notes.append(CaptureNote(name, "empty input", error=True))
        return cap
    cap.messages.append(CapturedMessage(data, name, kind="san" if kind == "san" else "syncml", stream=name))
    return cap


def read_capture(data: bytes, name: str = "-", kind: InputKind | None = None) -> Capture:
    """The SyncML messages in ``data`` (the contents of the input ``name``),
    read as ``kind`` or the detected kind.  Never raises for bad content:
    what cannot be read becomes an error note in the result."""
    kind = kind or detect_input(data)
    reader = _READERS.get(kind)
    return reader(data, name) if reader is not None else _single(data, name, kind)


#: the readers of the kinds that are not one plain message
_READERS: dict[InputKind, Callable[[bytes, str], Capture]] = {
    # pcap/HTTP: issue 16, i16-pcap
    "pcap": read_pcap,
    "http": read_http_dump,
}
