"""Tell WBXML from XML by the first bytes."""

from __future__ import annotations

__all__ = ["looks_like_wbxml", "sniff_encoding"]


def looks_like_wbxml(data: bytes | bytearray | memoryview) -> bool:
    """True when ``data`` starts like a WBXML document (version byte 0x00 to
    0x03); XML starts with ``<``, a BOM or white space."""
    head = bytes(data[:1])
    return bool(head) and head[0] <= 0x03


def sniff_encoding(data: bytes | bytearray | memoryview, content_type: str | None = None) -> str:
    """``"wbxml"`` or ``"xml"``: from the content type when given
    (``application/vnd.syncml+wbxml``), else from the first bytes."""
    if content_type:
        ct = content_type.split(";", 1)[0].strip().lower()
        if ct.endswith("+wbxml") or ct == "application/vnd.wap.wbxml":
            return "wbxml"
        if ct.endswith("+xml") or ct in ("text/xml", "application/xml"):
            return "xml"
    return "wbxml" if looks_like_wbxml(data) else "xml"
