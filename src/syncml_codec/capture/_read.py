"""One entry point for every kind of capture: detect the kind, hand the bytes
to its reader.  Readers are plain functions ``(data, name) -> Capture``.

Hex dumps, base64 and compressed files (gzip, xz, bzip2) wrap other bytes:
those are decoded and read again (detected afresh: a hex dump of a base64
text of an OBEX stream works), at most :data:`MAX_DEPTH` wrappings deep."""

from __future__ import annotations

import bz2
import lzma
import re
import zlib
from collections.abc import Callable

from ..codec.detect import looks_like_wbxml
from ..codec.san import looks_like_notification
from ._http import looks_like_http, read_http_dump
from ._logs import is_synthesis_log, looks_like_log, read_log
from ._obex import looks_like_obex, read_obex
from ._pcap import looks_like_pcap, read_pcap
from ._text import Decoded, decode_base64, decode_hex, looks_like_base64, looks_like_hex
from ._types import Capture, CapturedMessage, CaptureNote, InputKind

__all__ = ["MAX_DEPTH", "detect_input", "read_capture"]

#: how many wrappings (hex, base64, compression) are undone before giving up
MAX_DEPTH = 4
_MAX_INFLATED = 256 * 1024 * 1024
_XML_START = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<")


def detect_input(data: bytes) -> InputKind:
    """The kind of capture ``data`` most likely is: tried in the order pcap,
    HTTP, SAN, OBEX, WBXML, XML, hex, log, base64 (a hex dump that decodes
    to something known before a log, as its ASCII column may show
    ``<SyncML``; hex before base64, as plain hex text is base64 text too).
    Then, for what decodes to nothing known: hex, base64 (lines of base64
    characters only), so that their readers say what is wrong; data no kind
    fits is called ``"xml"`` and handed to the decoder."""
    return _detect(data, 0, "-", _Memo())[0]


class _Memo:
    """The hex and base64 decodings done while detecting, so that reading
    does not decode the same text again (one read_capture call)."""

    def __init__(self) -> None:
        self.done: dict[tuple[int, str, str], tuple[bytes, Decoded]] = {}

    def decode(self, data: bytes, kind: str, name: str) -> Decoded:
        key = (id(data), kind, name)
        hit = self.done.get(key)
        if hit is not None and hit[0] is data:
            return hit[1]
        result = (decode_hex if kind == "hex" else decode_base64)(data, name)
        self.done[key] = (data, result)  # data kept: its id stays its own
        return result


def _detect(data: bytes, depth: int, name: str, memo: _Memo) -> tuple[InputKind, bool]:
    """The kind, and whether it is known to hold something readable (for
    hex and base64: what they decode to is known, at most MAX_DEPTH deep)."""
    # pcap/pcapng magic, then HTTP: issue 16, i16-pcap
    if looks_like_pcap(data):
        return "pcap", True
    if looks_like_http(data):
        return "http", True
    # -- frames (issue 16, i16-frames) --
    if looks_like_notification(data):
        return "san", True
    if looks_like_obex(data):
        return "obex", True
    if looks_like_wbxml(data):
        return "wbxml", _plausible_wbxml(data)
    if _XML_START.match(data[:4096]):
        return ("log" if is_synthesis_log(data) else "xml"), True
    # hex before logs: a dump's ASCII column may show '<SyncML'
    if looks_like_hex(data) and _decodes(data, "hex", depth, name, memo):
        return "hex", True
    if looks_like_log(data):
        return "log", True
    if looks_like_base64(data) and _decodes(data, "base64", depth, name, memo):
        return "base64", True
    if looks_like_hex(data):
        return "hex", False
    if looks_like_base64(data) and not re.search(rb"[^\S\r\n]", data.strip()[:65536]):
        return "base64", False  # base64 text (no blanks inside its lines) that does not decode well: it says why
    return "xml", False


def _plausible_wbxml(data: bytes) -> bool:
    """A WBXML header that makes sense: version 1.1-1.3, a public id (or a
    string table reference), a known charset (UTF-8, ISO-8859-1, US-ASCII,
    UTF-16) or none given."""
    if len(data) < 5 or data[0] not in (1, 2, 3):
        return False
    pos = 1

    def mb() -> int | None:
        nonlocal pos
        value = 0
        for _ in range(5):
            if pos >= len(data):
                return None
            byte = data[pos]
            pos += 1
            value = value << 7 | byte & 0x7F
            if not byte & 0x80:
                return value
        return None

    public = mb()
    if public is None or (public == 0 and mb() is None):
        return False
    return mb() in (0, 3, 4, 106, 1015)


def _decodes(data: bytes, kind: str, depth: int, name: str, memo: _Memo) -> bool:
    """Whether ``data`` decodes as ``kind`` (hex or base64) to something known
    (past MAX_DEPTH layers: taken as known, and its reading says it is too deep)."""
    if depth >= MAX_DEPTH:
        return True
    outs, _ = memo.decode(data, kind, name)
    if not outs:
        return False
    raw, where = outs[0]
    return bool(raw) and (_compression(raw) is not None or _detect(raw, depth + 1, f"{where} ({kind})", memo)[1])


def _compression(data: bytes) -> str | None:
    if data[:2] == b"\x1f\x8b":
        return "gzip"
    if data[:6] == b"\xfd7zXZ\x00":
        return "xz"
    if data[:3] == b"BZh":
        return "bzip2"
    return None


def _inflate(data: bytes, how: str) -> bytes:
    """Bounded decompression: ValueError past _MAX_INFLATED bytes."""
    if how == "gzip":
        d: zlib._Decompress | lzma.LZMADecompressor | bz2.BZ2Decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = d.decompress(data, _MAX_INFLATED + 1)
    elif how == "xz":
        d = lzma.LZMADecompressor()
        out = d.decompress(data, _MAX_INFLATED + 1)
    else:
        d = bz2.BZ2Decompressor()
        out = d.decompress(data, _MAX_INFLATED + 1)
    if len(out) > _MAX_INFLATED:
        raise ValueError(f"decompresses to more than {_MAX_INFLATED} bytes")
    if not d.eof:
        raise ValueError("cut short (the compressed stream does not end)")
    return out


def _single(data: bytes, name: str, kind: InputKind, strict: bool) -> Capture:
    """One plain message.  ``strict`` (the kind was forced, or the bytes came
    out of a hex dump or base64): bytes that are not that kind are an error
    note; else they are handed on, for the decoder to say what is wrong."""
    cap = Capture(name, kind)
    if not data:
        cap.notes.append(CaptureNote(name, "empty input", error=True))
        return cap
    if strict and kind == "wbxml" and not looks_like_wbxml(data):
        cap.notes.append(CaptureNote(name, f"not WBXML: first byte 0x{data[0]:02X} is no WBXML version (0x00-0x03)",
                                     error=True))
        return cap
    if strict and kind == "xml" and not _XML_START.match(data[:4096]):
        cap.notes.append(CaptureNote(name, f"not XML: first byte 0x{data.lstrip()[:1].hex().upper() or '00'} is not "
                                           "'<' (nor is it any other kind of capture read here)", error=True))
        return cap
    # a SAN forced on bytes that are not one is still handed on: the transcript says what is wrong with it
    cap.messages.append(CapturedMessage(data, name, kind="san" if kind == "san" else "syncml", stream=name))
    return cap


def _unwrap(data: bytes, name: str, kind: InputKind, depth: int, memo: _Memo) -> Capture:
    """A hex dump or base64 text: decode it, read what comes out."""
    cap = Capture(name, kind)
    outs, notes = memo.decode(data, kind, name)
    cap.notes += notes
    for raw, where in outs:
        inner = _read(raw, f"{where} ({kind})", None, depth + 1, memo)
        cap.messages += inner.messages
        cap.notes += inner.notes
    return cap


def _read(data: bytes, name: str, kind: InputKind | None, depth: int, memo: _Memo) -> Capture:
    if depth > MAX_DEPTH:
        cap = Capture(name, kind or "xml")
        cap.notes.append(CaptureNote(name, f"more than {MAX_DEPTH} layers of hex, base64 or compression", True))
        return cap
    how = _compression(data)
    if how is not None:
        try:
            inner = _inflate(data, how)
        except (ValueError, OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
            cap = Capture(name, kind or "xml")
            cap.notes.append(CaptureNote(name, f"bad {how} data: {exc}", error=True))
            return cap
        return _read(inner, name, kind, depth + 1, memo)
    forced = kind is not None
    kind = kind or _detect(data, depth, name, memo)[0]
    if kind in ("hex", "base64"):
        return _unwrap(data, name, kind, depth, memo)
    reader = _READERS.get(kind)
    return reader(data, name) if reader is not None else _single(data, name, kind, forced or depth > 0)


def read_capture(data: bytes, name: str = "-", kind: InputKind | None = None) -> Capture:
    """The SyncML messages in ``data`` (the contents of the input ``name``),
    read as ``kind`` or the detected kind.  Never raises for bad content:
    what cannot be read becomes an error note in the result."""
    return _read(data, name, kind, 0, _Memo())


#: the readers of the kinds that are not one plain message
_READERS: dict[InputKind, Callable[[bytes, str], Capture]] = {
    # pcap/HTTP: issue 16, i16-pcap
    "pcap": read_pcap,
    "http": read_http_dump,
    # -- frames (issue 16, i16-frames) --
    "obex": read_obex,
    "log": read_log,
}
