"""The WSGI front on the real engine and an in-memory store: a recorded
SyncEvolution session replayed over HTTP semantics (routing by the RespURI's
``?sessionid=``), in both encodings."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from syncml_codec.engine import SyncServer
from syncml_codec.model import Message, Status
from syncml_codec.server import make_app
from syncml_codec.store import SQLiteStore

from ..conftest import corpus_path
from ..engine.helpers import chal_nonce, resign
from .test_wsgi import call


def recorded(encoding: str, n: int) -> bytes:
    return corpus_path("syncevolution", "sessions", f"{encoding}-addressbook-vcard30-md5", "1-a-first-sync",
                       f"{n:03d}-request.{encoding}").read_bytes()


def statuses(msg: Message) -> dict[str, str]:
    """Status code by the command it answers (the last one wins)."""
    return {c.cmd: c.data for c in msg.commands if isinstance(c, Status)}


@pytest.mark.parametrize("encoding", ["wbxml", "xml"])
def test_recorded_first_sync_over_the_wsgi_app(tmp_path: Path, encoding: str, caplog):
    store = SQLiteStore(":memory:")
    store.add_user("test", "secret")
    engine = SyncServer(store, base_url="http://sync.example/sync")
    app = make_app(engine, transcript_dir=str(tmp_path))
    content_type = f"application/vnd.syncml+{encoding}"
    query = ""
    with caplog.at_level(logging.INFO, logger="syncml_codec.server"):
        for n in (1, 2, 3):
            body = recorded(encoding, n)
            if n == 1:  # MD5 over the empty nonce is refused with a challenge (issue 9): answer it
                challenge = Message.from_bytes(call(app, body=body, content_type=content_type).body, content_type)
                assert statuses(challenge)["SyncHdr"] == "401"
                body = resign(body, content_type, chal_nonce(challenge))
            answer = call(app, body=body, content_type=content_type, query=query)
            assert answer.code == 200, answer.body[:200]
            assert answer.headers["Content-Type"] == content_type
            msg = Message.from_bytes(answer.body, content_type)
            if n == 1:
                assert statuses(msg)["SyncHdr"] == "212"  # md5 over the challenge's nonce
                uri = urlsplit(msg.header.resp_uri)
                assert uri.path == "/sync" and uri.query.startswith("sessionid=")
                query = uri.query
            if n == 2:
                assert [c.data for c in msg.commands if isinstance(c, Status) and c.cmd == "Add"] == ["201", "201"]
    assert len(store.items("test", "Contacts")) == 2
    lines = [r.getMessage() for r in caplog.records if r.name == "syncml_codec.server"]
    assert len(lines) == 4 and all("http=200" in line and "user=test" in line for line in lines)
    (session,) = tmp_path.iterdir()
    assert session.name == query.split("=", 1)[1]
    assert len(list(session.glob("*-response.xml"))) == 3


def test_wrong_password_is_a_syncml_401_over_http_200():
    store = SQLiteStore(":memory:")
    store.add_user("test", "other")
    app = make_app(SyncServer(store))
    answer = call(app, body=recorded("wbxml", 1))
    assert answer.code == 200  # the refusal is in the SyncML answer, as clients expect
    msg = Message.from_bytes(answer.body)
    assert statuses(msg)["SyncHdr"] == "401"
    assert msg.header.resp_uri is None


def test_not_syncml_is_400_with_a_short_reason():
    app = make_app(SyncServer(SQLiteStore(":memory:")))
    answer = call(app, body=b"", content_type="application/vnd.syncml+xml")
    assert answer.code == 400
    assert answer.headers["Content-Type"].startswith("text/plain") and len(answer.body) < 300
