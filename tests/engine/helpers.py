"""Run our client session against our server in memory."""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qs, urlsplit

from syncml_codec.engine import ClientSession, ClientStore, SyncServer
from syncml_codec.model import Message, Status, auth

from .conftest import Clock


def vcard(n: int, note: str = "", version: str = "3.0") -> bytes:
    lines = ["BEGIN:VCARD", f"VERSION:{version}", f"N:Doe{n};John;;;", f"FN:John Doe{n}",
             f"TEL;TYPE=WORK:+1-555-{n:04d}" if version == "3.0" else f"TEL;WORK:+1-555-{n:04d}"]
    if note:
        lines.append(f"NOTE:{note}")
    return ("\r\n".join([*lines, "END:VCARD"]) + "\r\n").encode()


def device(name: str, *, version: str = "3.0") -> ClientStore:
    store = ClientStore(f"test-{name}")
    ctype = "text/vcard" if version == "3.0" else "text/x-vcard"
    store.add_datastore("./addressbook", "addressbook", ctype, version)
    return store


def sync(server: SyncServer, store: ClientStore, mode: int | None = None, *, password: str = "secret",
         auth_type: str = "md5", encoding: str = "wbxml", max_messages: int = 60,
         max_msg_size: int = 150000, max_obj_size: int = 4_000_000) -> ClientSession:
    session = ClientSession(store, url=server.base_url, user="test", password=password, auth_type=auth_type,
                            encoding=encoding, clock=Clock(), max_msg_size=max_msg_size, max_obj_size=max_obj_size,
                            modes={uri: mode for uri in store.datastores} if mode else None)
    request = session.start()
    for _ in range(max_messages):
        sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
        response = server.handle(request.body, request.content_type, sid)
        assert response.http_status == 200
        next_request = session.receive(response.body, response.content_type)
        if next_request is None:
            return session
        request = next_request
    raise AssertionError("the session did not end")


def ab(store: ClientStore) -> dict[str, bytes]:
    return store.datastores["./addressbook"].items


def challenge_nonce(server: SyncServer, store: ClientStore, user: str = "test") -> bytes:
    """A nonce for ``store``'s next login, the way a client without one gets
    it: a message without credentials, answered 407 with a challenge.  A
    credential over the empty nonce is refused (issue 9)."""
    s = ClientSession(store, url=server.base_url, user=user, password="", clock=Clock(), encoding="xml")
    msg = Message.from_bytes(s.start().body)
    body = msg.replace(header=dataclasses.replace(msg.header, cred=None)).to_bytes("xml")
    reply = Message.from_bytes(server.handle(body, "application/vnd.syncml+xml", None).body)
    (status,) = reply.commands
    assert isinstance(status, Status) and status.data == "407" and status.chal is not None
    return auth.nonce_from_text(status.chal.meta.next_nonce or "")


def prime(server: SyncServer, store: ClientStore, user: str = "test") -> ClientStore:
    """Give ``store`` a challenge nonce, so its first message logs in at once."""
    store.nonce = challenge_nonce(server, store, user)
    return store


def resign(body: bytes, content_type: str, nonce: bytes, user: str = "test", password: str = "secret") -> bytes:
    """A recorded message with its MD5 Cred computed again over ``nonce``
    (what the recorded client does with the nonce of a challenge)."""
    msg = Message.from_bytes(body, content_type)
    assert msg.header.cred is not None
    digest = auth.md5_digest(user, password, nonce)
    cred = dataclasses.replace(msg.header.cred, data=digest)
    encoding = "wbxml" if "wbxml" in content_type else "xml"
    return msg.replace(header=dataclasses.replace(msg.header, cred=cred)).to_bytes(encoding)


def chal_nonce(reply: Message) -> bytes:
    """The NextNonce of the SyncHdr status of ``reply``."""
    head = next(c for c in reply.commands if isinstance(c, Status) and c.cmd_ref == "0")
    assert head.chal is not None and head.chal.meta.next_nonce
    return auth.nonce_from_text(head.chal.meta.next_nonce)
