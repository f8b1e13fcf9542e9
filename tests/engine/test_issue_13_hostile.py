"""Issue 13, red team: what a hostile client (or a careless operator) sends
to what issue 13 added: URL parameters, the HMAC header, domains and the
access list, encrypted items, backups, modes 7/8 broken off.  Each test
failed before the fix it comes with (or pins a behaviour that held)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from syncml_codec.engine import ClientSession, ClientStore, SyncServer
from syncml_codec.engine._params import parse_params
from syncml_codec.store import SQLiteStore

from .conftest import Clock, counter_random
from .helpers import device, vcard

XML = "application/vnd.syncml+xml"


def server_with(store: SQLiteStore, **options: object) -> SyncServer:
    return SyncServer(store, clock=Clock(), random_source=counter_random(), base_url="http://127.0.0.1:8080/sync",
                      **options)  # type: ignore[arg-type]


def run(server: SyncServer, store: ClientStore, url: str = "http://127.0.0.1:8080/sync", *,
        query: str | None = None, user: str = "test", password: str = "secret") -> ClientSession:
    s = ClientSession(store, url=url, user=user, password=password, clock=Clock(), encoding="xml")
    request = s.start()
    for _ in range(40):
        sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
        response = server.handle(request.body, request.content_type, sid, remote="192.0.2.7", query=query)
        assert response.http_status == 200
        nxt = s.receive(response.body, response.content_type)
        if nxt is None:
            return s
        request = nxt
    raise AssertionError("the session did not end")


def phone(name: str, items: int = 2) -> ClientStore:
    store = device(name)
    for n in range(items):
        store.datastores["./addressbook"].add(vcard(n))
    return store


# -- URL parameters ----------------------------------------------------------------
@pytest.mark.parametrize("value", ["\u00b2", "\u0669", "\uff19", "\u2468", "9\u0301"])
def test_a_sync_value_of_unicode_digits_is_invalid_not_a_crash(value: str) -> None:
    params = parse_params("http://h/sync?sync=" + value)
    assert params.sync is None and params.invalid == (("sync", value),)


def test_unicode_digits_in_the_query_or_locuri_do_not_break_the_session(store: SQLiteStore) -> None:
    server = server_with(store)
    dev = phone("u")
    s = run(server, dev, "http://127.0.0.1:8080/sync?sync=%C2%B2", query="sync=\u00b2")
    assert s.ok and len(store.items("test", "Contacts")) == 2
