"""What the benchmarks time: our two WBXML implementations, libwbxml (C,
called in-process through ctypes by ``syncml_codec.codec.libwbxml``, the
one wrapper ``syncml bench`` uses too; one converter per message as its own
tools do) and lxml (parse + serialize, the floor for any XML work in Python).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from syncml_codec.codec.libwbxml import LibWBXML, load_libwbxml

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


def libwbxml() -> LibWBXML | None:
    """libwbxml2 through ctypes (the package's wrapper), None when it is not installed."""
    return load_libwbxml()[0]


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
