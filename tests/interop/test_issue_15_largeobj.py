"""Issue 15 (largeobj) with a real client: a contact with a 150 KB PHOTO
crosses in MoreData chunks both ways when SyncEvolution and the server
both take messages of at most 20,000 bytes (XML and WBXML), and arrives
byte-identical (the photo's bytes; the client rewrites the rest of the
vCard): on the server after device A's sync, on device B after its own.
The transcripts show the chunks (``<MoreData/>`` in both directions)."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest

from syncml_codec.store import canonical_datastore, open_store

from .conftest import SE, USER, ServerProcess

MSG = 20_000
PHOTO = b"".join(hashlib.sha256(n.to_bytes(4, "big")).digest() for n in range(150 * 1024 // 32))  # 150 KiB
_PHOTO_LINE = re.compile(rb"^PHOTO[;:][^\n]*(?:\n[ \t][^\n]*)*", re.M | re.I)


def vcard_with_photo(photo: bytes) -> bytes:
    encoded = base64.b64encode(photo)
    folded = b"\r\n ".join(encoded[i:i + 74] for i in range(0, len(encoded), 74))
    return (b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Large Photo\r\nN:Photo;Large;;;\r\n"
            b"PHOTO;ENCODING=b;TYPE=JPEG:" + folded + b"\r\nEND:VCARD\r\n")


def photo_of(vcard: bytes) -> bytes:
    """The decoded PHOTO of a vCard (unfolded; ``b`` or ``BASE64`` encoding)."""
    unfolded = re.sub(rb"\r?\n[ \t]", b"", vcard.replace(b"\r\n", b"\n"))
    found = _PHOTO_LINE.search(unfolded)
    assert found is not None, "no PHOTO"
    return base64.b64decode(found.group().split(b":", 1)[1].strip())


def transcripts_with_more_data(folder: Path, kind: str) -> int:
    return sum(1 for p in folder.rglob(f"*-{kind}*") if b"MoreData" in p.read_bytes())


@pytest.mark.parametrize(("enc", "server_db"), [("wbxml", "sqlite"), ("xml", "sqlite"), ("wbxml", "postgresql")],
                         indirect=["server_db"])
def test_issue_15_photo_150k_through_20000_byte_messages(se_shim: Path, tmp_path: Path, enc: str,
                                                          server_db: str | None) -> None:
    """(On PostgreSQL too: the chunks wait in its ``session_chunks``.)"""
    folder = tmp_path / "server"
    folder.mkdir()
    server = ServerProcess(folder, db=server_db, args=["--max-msg-size", str(MSG)])
    try:
        se = SE(tmp_path / "se", se_shim, server.url, tmp_path / "items")
        for device in ("a", "b"):
            se.configure(device, wbxml=enc == "wbxml", stores=["addressbook"], sets=[f"maxMsgSize={MSG}"])
        se.add("a", "addressbook", [vcard_with_photo(PHOTO)])

        sent = se.sync("a")
        assert sent["stores"]["addressbook"]["server"]["added"] == 1
        db = open_store(str(server.db))
        try:
            stored = db.items(USER, canonical_datastore("addressbook") or "")
            assert len(stored) == 1
            assert photo_of(stored[0].data) == PHOTO
        finally:
            db.close()
        assert transcripts_with_more_data(server.transcripts, "request") >= 5  # the client's chunks

        received = se.sync("b")
        assert received["stores"]["addressbook"]["client"]["added"] == 1
        items = se.list_items("b", "addressbook")
        assert len(items) == 1
        assert photo_of(items[0]["content"].encode()) == PHOTO
        assert transcripts_with_more_data(server.transcripts, "response") >= 5  # ours
    finally:
        code = server.stop()
    assert code == 0, server.log_tail()
