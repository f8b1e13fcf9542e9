"""Damaged messages never crash the server: truncated, bit-flipped, spliced
or cut real SyncEvolution requests get HTTP 400 (not SyncML at all) or a
SyncML answer whose statuses say what was wrong; a damaged message inside a
session does not break the next good one.  Deterministic (fixed seeds)."""

from __future__ import annotations

import logging
import random
from pathlib import Path

import pytest

from syncml_codec import Message
from syncml_codec.engine import SyncServer
from syncml_codec.model import Status, auth
from syncml_codec.store import SQLiteStore

from ..conftest import corpus_path

CONTENT_TYPE = {".wbxml": "application/vnd.syncml+wbxml", ".xml": "application/vnd.syncml+xml"}


def _requests() -> list[Path]:
    folder = corpus_path("syncevolution", "first-request")
    return sorted(p for p in folder.iterdir() if p.suffix in CONTENT_TYPE and not p.name.endswith(".wbxml.xml"))


def _mutate(data: bytes, rnd: random.Random) -> bytes:
    b = bytearray(data)
    kind = rnd.randrange(4)
    if kind == 0:
        del b[rnd.randrange(len(b)):]
    elif kind == 1:
        for _ in range(rnd.randrange(1, 5)):
            b[rnd.randrange(len(b))] = rnd.randrange(256)
    elif kind == 2:
        at = rnd.randrange(len(b))
        b[at:at] = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 8)))
    else:
        at = rnd.randrange(len(b))
        del b[at:at + rnd.randrange(1, 20)]
    return bytes(b)


@pytest.fixture
def quiet() -> object:
    logging.disable(logging.WARNING)
    yield None
    logging.disable(logging.NOTSET)


def _check(server: SyncServer, body: bytes, ctype: str) -> None:
    response = server.handle(body, ctype, None)
    assert response.http_status in (200, 400)
    if response.http_status == 200:
        answer = Message.from_bytes(response.body)
        assert answer.header is not None
        assert any(isinstance(c, Status) and c.cmd == "SyncHdr" for c in answer.commands)


@pytest.mark.parametrize("seed", range(4))
def test_damaged_first_requests(quiet: object, seed: int) -> None:
    store = SQLiteStore(":memory:")
    store.add_user("test", "secret")
    server = SyncServer(store)
    rnd = random.Random(seed)
    for path in _requests():
        data = path.read_bytes()
        for _ in range(25):
            _check(server, _mutate(data, rnd), CONTENT_TYPE[path.suffix])


def test_message_without_body_gets_a_status_400(quiet: object) -> None:
    store = SQLiteStore(":memory:")
    store.add_user("test", "secret")
    server = SyncServer(store)
    xml = corpus_path("syncevolution", "first-request", "xml-addressbook-vcard30-md5.xml").read_bytes()
    cut = xml[:xml.index(b"<SyncBody>")] + b"</SyncML>"
    response = server.handle(cut, CONTENT_TYPE[".xml"], None)
    assert response.http_status == 200 and response.session_id is None
    (status,) = [c for c in Message.from_bytes(response.body).commands if isinstance(c, Status)]
    assert status.cmd == "SyncHdr" and status.data == "401"  # its Cred is over the empty nonce
    nonce = auth.nonce_from_text(status.chal.meta.next_nonce)
    old, new = (auth.md5_digest("test", "secret", n).encode() for n in (b"", nonce))
    signed = cut.replace(old, new)
    response = server.handle(signed, CONTENT_TYPE[".xml"], None)
    (status,) = [c for c in Message.from_bytes(response.body).commands if isinstance(c, Status)]
    assert status.cmd == "SyncHdr" and status.data == "400"


def test_garbage_target_uri(quiet: object) -> None:
    store = SQLiteStore(":memory:")
    store.add_user("test", "secret")
    server = SyncServer(store)
    xml = corpus_path("syncevolution", "first-request", "xml-addressbook-vcard30-md5.xml").read_bytes()
    start = xml.index(b"<Target><LocURI>") + len(b"<Target><LocURI>")
    end = xml.index(b"</LocURI>", start)
    _check(server, xml[:start] + b"http://[::1/sync" + xml[end:], CONTENT_TYPE[".xml"])
