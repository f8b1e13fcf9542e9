"""Run our client session against our server in memory."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from syncml_codec.engine import ClientSession, ClientStore, SyncServer

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
