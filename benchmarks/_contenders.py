"""What the benchmarks time: our two WBXML implementations, libwbxml (C,
called in-process through ctypes, one converter per message as its own
tools do) and lxml (parse + serialize, the floor for any XML work in Python).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("SYNCML_CODEC_CORPUS", ROOT.parent / "shared" / "corpus"))
LIBWBXML_CORPUS = CORPUS / "libwbxml"


def wbxml_inputs() -> list[bytes]:
    """libwbxml's 16 samples as WBXML (xml2wbxml -n -v 1.3)."""
    return [p.read_bytes() for p in sorted(LIBWBXML_CORPUS.glob("gen/wbxml/*/*.wbxml"))]


def message_inputs() -> list[bytes]:
    """libwbxml's SyncML messages as WBXML: all but 011 (a DevInf document)
    and 013 / 014 (fragments that only read leniently)."""
    paths = sorted(LIBWBXML_CORPUS.glob("gen/wbxml/syncml/*.wbxml"))
    return [p.read_bytes() for p in paths if p.stem not in ("syncml-011", "syncml-013", "syncml-014")]


def xml_inputs() -> list[bytes]:
    """libwbxml's 16 samples as XML."""
    paths = sorted(LIBWBXML_CORPUS.glob("syncml/*.xml")) + sorted(LIBWBXML_CORPUS.glob("ddf/*"))
    return [p.read_bytes() for p in paths]


class LibWBXML:
    """libwbxml2 through ctypes: ``wbxml_conv_*`` as in its own tools."""

    COMPACT = 0
    VERSION_13 = 3

    def __init__(self) -> None:
        name = ctypes.util.find_library("wbxml2") or "libwbxml2.so.1"
        lib = ctypes.CDLL(name)
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        self.free = libc.free
        self.free.argtypes = [ctypes.c_void_p]
        p, pp = ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)
        ul, pul = ctypes.c_ulong, ctypes.POINTER(ctypes.c_ulong)
        for fn, args in [
            ("wbxml_conv_wbxml2xml_create", [pp]), ("wbxml_conv_wbxml2xml_set_gen_type", [p, ctypes.c_int]),
            ("wbxml_conv_wbxml2xml_run", [p, ctypes.c_char_p, ul, pp, pul]),
            ("wbxml_conv_wbxml2xml_destroy", [p]), ("wbxml_conv_xml2wbxml_create", [pp]),
            ("wbxml_conv_xml2wbxml_set_version", [p, ctypes.c_int]),
            ("wbxml_conv_xml2wbxml_disable_string_table", [p]),
            ("wbxml_conv_xml2wbxml_run", [p, ctypes.c_char_p, ul, pp, pul]),
            ("wbxml_conv_xml2wbxml_destroy", [p]),
        ]:
            f = getattr(lib, fn)
            f.argtypes = args
            f.restype = ctypes.c_int
            setattr(self, fn.removeprefix("wbxml_conv_"), f)

    def wbxml_to_xml(self, data: bytes) -> bytes:
        conv, out, n = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_ulong()
        if self.wbxml2xml_create(ctypes.byref(conv)):
            raise RuntimeError("libwbxml: create failed")
        self.wbxml2xml_set_gen_type(conv, self.COMPACT)
        ret = self.wbxml2xml_run(conv, data, len(data), ctypes.byref(out), ctypes.byref(n))
        self.wbxml2xml_destroy(conv)
        if ret:
            raise RuntimeError(f"libwbxml: wbxml2xml error {ret}")
        result = ctypes.string_at(out, n.value)
        self.free(out)
        return result

    def xml_to_wbxml(self, data: bytes) -> bytes:
        conv, out, n = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_ulong()
        if self.xml2wbxml_create(ctypes.byref(conv)):
            raise RuntimeError("libwbxml: create failed")
        self.xml2wbxml_set_version(conv, self.VERSION_13)
        self.xml2wbxml_disable_string_table(conv)
        ret = self.xml2wbxml_run(conv, data, len(data), ctypes.byref(out), ctypes.byref(n))
        self.xml2wbxml_destroy(conv)
        if ret:
            raise RuntimeError(f"libwbxml: xml2wbxml error {ret}")
        result = ctypes.string_at(out, n.value)
        self.free(out)
        return result


def libwbxml() -> LibWBXML | None:
    try:
        return LibWBXML()
    except OSError:
        return None


def lxml_round_trip() -> Callable[[bytes], bytes]:
    from lxml import etree
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)

    def run(data: bytes) -> bytes:
        return etree.tostring(etree.fromstring(data, parser))

    return run


def implementations() -> dict[str, object]:
    """Our implementations that can be imported here."""
    from syncml_codec.codec import _wbxml_py
    found: dict[str, object] = {}
    try:
        from syncml_codec.codec import _wbxml  # type: ignore[attr-defined]
        found["cython"] = _wbxml
    except ImportError:
        pass
    found["python"] = _wbxml_py
    return found


def message_contenders() -> dict[str, tuple[Callable[[bytes], Any], Callable[[Any], bytes]]]:
    """Per implementation: (WBXML bytes -> Message, Message -> WBXML bytes).
    ``cython`` is the public API (``Message.from_bytes`` / ``to_bytes``) when
    the extension is the implementation in use; ``python`` is what that API
    does without it (the pure-Python codec and the model's own converter)."""
    from syncml_codec.codec import _wbxml_py
    from syncml_codec.codec import wbxml as selector
    from syncml_codec.model import Message

    found: dict[str, tuple[Callable[[bytes], Any], Callable[[Any], bytes]]] = {}
    if selector.IMPLEMENTATION == "cython":
        found["cython"] = (Message.from_bytes, Message.to_bytes)
    found["python"] = (lambda data: Message.from_document(_wbxml_py.decode(data)),
                       lambda msg: _wbxml_py.encode(msg.to_document()))
    return found
