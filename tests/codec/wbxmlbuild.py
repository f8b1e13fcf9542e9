"""Tiny helpers to write WBXML by hand in tests."""

from __future__ import annotations


def mb(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(out))


def s(text: str) -> bytes:
    """STR_I"""
    return b"\x03" + text.encode() + b"\x00"


def header(public_id: int = 0x1201, charset: int = 106, table: bytes = b"", version: int = 3) -> bytes:
    out = bytes([version]) + mb(public_id)
    if version:
        out += mb(charset)
    return out + mb(len(table)) + table


# SyncML 1.2 tokens used in hand-made messages (with the content bit)
SYNCML, SYNCHDR, VERDTD, SYNCBODY, FINAL = 0x6D, 0x6C, 0x71, 0x6B, 0x12
TARGET, LOCURI, ITEM, DATA, META, ADD, CMDID = 0x6E, 0x57, 0x54, 0x4F, 0x5A, 0x45, 0x4B
END, SWITCH_PAGE, OPAQUE = 0x01, 0x00, 0xC3


def syncml(body: bytes, **kw: int) -> bytes:
    """<SyncML><SyncHdr><VerDTD>1.2</VerDTD></SyncHdr>{body}</SyncML>"""
    return (header(**kw) + bytes([SYNCML, SYNCHDR, VERDTD]) + s("1.2") + bytes([END, END]) + body
            + bytes([END]))
