"""Our own SyncML traffic for the issue 16 transcript tests: our client
(:class:`ClientSession`) against our server (:class:`SyncServer`) in memory,
each request and response kept as a :class:`CapturedMessage` the way a pcap
reader gives them (direction, HTTP method or status, a time)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from syncml_codec.capture import CapturedMessage, HttpInfo
from syncml_codec.engine import ClientSession, ClientStore, SyncServer
from syncml_codec.store import SQLiteStore

from ..engine.conftest import Clock, counter_random
from ..engine.helpers import device, prime, vcard

BIG = vcard(0, "long " * 4000)  # about 20 kB: MoreData chunks under a 4000-byte MaxMsgSize


def server(max_msg_size: int = 150000) -> SyncServer:
    store = SQLiteStore(":memory:")
    store.add_user("test", "secret")
    return SyncServer(store, clock=Clock(), random_source=counter_random(),
                      base_url="http://127.0.0.1:8080/sync", max_msg_size=max_msg_size)


def record(srv: SyncServer, store: ClientStore, *, password: str = "secret", max_msg_size: int = 150000,
           encoding: str = "wbxml", stop_after: int | None = None, t0: float = 1_800_000_000.0,
           ) -> list[CapturedMessage]:
    """The session of ``store`` against ``srv`` as captured messages (a
    request, then its response; 0.25 s apart); ``stop_after`` requests at
    most (a capture cut short)."""
    session = ClientSession(store, url=srv.base_url, user="test", password=password, clock=Clock(),
                            encoding=encoding, max_msg_size=max_msg_size)
    out: list[CapturedMessage] = []
    request = session.start()
    for n in range(1, 81):
        target = urlsplit(request.url)
        sid = parse_qs(target.query).get("sessionid", [None])[0]
        path = target.path + (f"?{target.query}" if target.query else "")
        out.append(CapturedMessage(request.body, f"own: request {n}", "client", t0 + len(out) * 0.25,
                                   request.content_type, HttpInfo(method="POST", target=path), stream="own"))
        if stop_after is not None and n >= stop_after:
            return out
        response = srv.handle(request.body, request.content_type, sid)
        out.append(CapturedMessage(response.body, f"own: response {n}", "server", t0 + len(out) * 0.25,
                                   response.content_type, HttpInfo(status=response.http_status), stream="own"))
        try:
            next_request = session.receive(response.body, response.content_type)
        except Exception:  # a client that gives up (refused credentials) ends the capture
            return out
        if next_request is None:
            return out
        request = next_request
    raise AssertionError("the session did not end")


def more_data_session() -> list[CapturedMessage]:
    """A first sync whose client sends a 20 kB contact in MoreData chunks."""
    srv = server(max_msg_size=4000)
    a = prime(srv, device("a"))
    a.datastores["./addressbook"].add(vcard(1))
    a.datastores["./addressbook"].add(BIG)
    return record(srv, a, max_msg_size=4000)
