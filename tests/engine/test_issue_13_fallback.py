"""Issue 13, item 2: modes 3, 4, 6, 7, 8, 9, ``reset`` and ``backup
restore``'s pending refresh reach a client whose DevInf lists only SyncCaps 1
and 2 (two-way and slow sync, as many phones do) through a slow sync (or a
two-way one for 3) in which the server does the rest: the "how it goes out"
table (:func:`delivery`, every cell) and each mode with our client session
advertising only those SyncCaps, both sides listed afterwards."""

from __future__ import annotations

import dataclasses
import itertools
import logging
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest

from syncml_codec.engine import ClientSession, ClientStore, SyncServer
from syncml_codec.engine._modes import WIRE, Delivery, Fallback, SyncMode, delivery, sync_cap
from syncml_codec.engine.client import Request
from syncml_codec.model import AlertCode, Message, Put, Results
from syncml_codec.store import SQLiteStore

from .conftest import Clock
from .helpers import ab
from .test_issue_13_modes import numbers, on_server
from .test_issue_13_modes import run as run_url

# -- the table ---------------------------------------------------------------------------------------------------

#: what a mode becomes for a client that does not list its alert's SyncCap (the module doc's list)
FALLBACK = {
    3: (200, Fallback.HOLD), 4: (201, Fallback.TAKE), 6: (201, Fallback.ERASE_AND_SEND), 7: (201, Fallback.TAKE),
    8: (201, Fallback.ERASE_AND_SEND), 9: (201, Fallback.ERASE),
}
CAPS: list[tuple[int, ...] | None] = [None, (), (1, 2), (1, 2, 3), (1, 2, 4), (1, 2, 5), (1, 2, 6),
                                     (1, 2, 3, 4, 5, 6, 7)]
ASKED = [None, *range(200, 206)]


def expected(mode: int, caps: tuple[int, ...] | None, asked: int | None) -> tuple[int, Fallback]:
    own = {1: 200, 2: 201, 3: 202, 4: 203, 5: 204, 6: 205, 7: 203, 8: 205, 9: 205}[mode]
    if not caps or own - 199 in caps or asked == own or mode not in FALLBACK:
        return own, Fallback.NONE
    return FALLBACK[mode]


@pytest.mark.parametrize(("mode", "caps", "asked"), list(itertools.product(range(1, 10), CAPS, ASKED)))
def test_delivery_table(mode: int, caps: tuple[int, ...] | None, asked: int | None) -> None:
    how = delivery(SyncMode(mode), caps, asked)
    assert (int(how.alert), how.fallback) == expected(mode, caps, asked)
    if how.fallback is Fallback.NONE:
        assert how == Delivery(WIRE[SyncMode(mode)])


def test_sync_caps_of_alerts() -> None:
    assert [sync_cap(code) for code in range(200, 206)] == [1, 2, 3, 4, 5, 6]
    for code in (199, 206, 225):
        with pytest.raises(ValueError, match="no SyncCap"):
            sync_cap(code)
    assert sync_cap(AlertCode.SLOW_SYNC) == 2


# -- the modes with a client listing SyncCaps 1 and 2 ------------------------------------------------------------


def run(server: SyncServer, store: ClientStore, url: str = "", mode: int | None = None, *,
        without_devinf: bool = False, stop_after: int | None = None) -> ClientSession:
    """test_issue_13_modes's ``run``; ``without_devinf``: the client's DevInf
    (its Put, and its Results of the server's Get) left out of every message; ``stop_after``: the client breaks
    off after that many answers (its session not completed)."""
    if not without_devinf and stop_after is None:
        return run_url(server, store, url, mode)
    session = ClientSession(store, url=server.base_url + url, user="test", password="secret", clock=Clock(),
                            modes={uri: mode for uri in store.datastores} if mode else None)
    request: Request | None = session.start()
    for n in range(60):
        assert request is not None
        body = request.body
        if without_devinf:
            msg = Message.from_bytes(body, request.content_type)
            commands = tuple(c for c in msg.body.commands if not isinstance(c, (Put, Results)))
            body = msg.replace(body=dataclasses.replace(msg.body, commands=commands)).to_bytes("wbxml")
        query = urlsplit(request.url).query
        sid = parse_qs(query).get("sessionid", [None])[0]
        response = server.handle(body, request.content_type, sid, query=query)
        assert response.http_status == 200
        if stop_after is not None and n + 1 == stop_after:
            return session
        request = session.receive(response.body, response.content_type)
        if request is None:
            assert session.ok, session.error
            return session
    raise AssertionError("the session did not end")



@pytest.fixture
def phone_pair(server: SyncServer, store: SQLiteStore) -> tuple[ClientStore, ClientStore]:
    """As test_issue_13_modes's pair (A holds 1, 2, 3, 5, synced; B holds 1,
    2, 3, 4, with 4 not synced yet; the server 1, 2, 3, 5), B a phone listing
    only SyncCaps 1 and 2."""
    from .test_issue_13_modes import make_pair

    return make_pair(server, store, b_caps=(1, 2))


MODES = [
    # (URL, the alert B gets, its Alert's status, what B receives, B afterwards, the server afterwards)
    ("?sync=3", 200, 200, {}, [1, 2, 3, 4], [1, 2, 3, 4, 5]),
    ("?sync=4", 201, 508, {}, [1, 2, 3, 4], [1, 2, 3, 4]),
    ("?sync=6", 201, 508, {"Delete": 4, "Add": 4}, [1, 2, 3, 5], [1, 2, 3, 5]),
    ("?sync=7", 201, 508, {}, [1, 2, 3, 4], [1, 2, 3, 4]),
    ("?sync=8", 201, 508, {"Delete": 4, "Add": 4}, [1, 2, 3, 5], [1, 2, 3, 5]),
    ("?sync=9", 201, 508, {"Delete": 4}, [], [1, 2, 3, 5]),
    ("?reset", 201, 508, {"Delete": 4}, [], [1, 2, 3, 5]),
    ("?sync=2", 201, 200, {"Add": 1}, [1, 2, 3, 4, 5], [1, 2, 3, 4, 5]),  # (no fallback needed)
    ("?sync=5", 204, 200, {"Add": 1}, [1, 2, 3, 4, 5], [1, 2, 3, 5]),  # (none possible: 204 as before)
]


@pytest.mark.parametrize(("url", "alert", "status", "received", "on_b", "server_after"), MODES,
                         ids=[m[0] for m in MODES])
def test_mode_for_a_phone(server: SyncServer, store: SQLiteStore, phone_pair: tuple[ClientStore, ClientStore],
                          caplog: pytest.LogCaptureFixture, url: str, alert: int, status: int,
                          received: dict[str, int], on_b: list[int], server_after: list[int]) -> None:
    a, b = phone_pair
    with caplog.at_level(logging.INFO, logger="syncml_codec.engine"):
        s = run(server, b, url)
    report = s.reports["./addressbook"]
    assert (report.mode, report.alert_status, report.received) == (alert, status, received)
    assert numbers(ab(b)) == on_b
    assert on_server(store) == server_after
    assert len(store.items("test", "Contacts")) == len(server_after)  # no duplicates
    if alert != {"?sync=2": 201, "?sync=5": 204}.get(url):  # the way taken is logged
        assert any("goes out as" in r.getMessage() for r in caplog.records)
    run(server, a)  # A follows the server
    assert numbers(ab(a)) == server_after
    s = run(server, b)  # B's next plain sync is a two-way one (the anchors were saved)
    assert s.reports["./addressbook"].mode == 200
    # a one-way sync leaves the other side's changes for it; after 9 B gets the server's data again
    final = [1, 2, 3, 4, 5] if url in ("?sync=3", "?sync=5") else server_after
    assert numbers(ab(b)) == final and on_server(store) == final
    assert len(store.items("test", "Contacts")) == len(final)


def test_slow_to_server_as_a_slow_sync_erases_the_server_data(server: SyncServer, store: SQLiteStore,
                                                              phone_pair: tuple[ClientStore, ClientStore]) -> None:
    """Mode 7 without SyncCap 4: every server item replaced by the client's
    copy (new GUIDs); mode 4 keeps the items equal to the client's."""
    _a, b = phone_pair
    before = {i.guid for i in store.items("test", "Contacts")}
    run(server, b, "?sync=7")
    assert not before & {i.guid for i in store.items("test", "Contacts")}


def test_refresh_from_client_as_a_slow_sync_keeps_what_matches(server: SyncServer, store: SQLiteStore,
                                                               phone_pair: tuple[ClientStore, ClientStore]) -> None:
    _a, b = phone_pair
    before = {i.guid for i in store.items("test", "Contacts")}
    run(server, b, "?sync=4")
    assert len(before & {i.guid for i in store.items("test", "Contacts")}) == 3


def test_a_client_asking_for_the_alert_gets_it(server: SyncServer, store: SQLiteStore,
                                               phone_pair: tuple[ClientStore, ClientStore]) -> None:
    """A client that asks for 205 itself understands it, whatever its DevInf lists."""
    _a, b = phone_pair
    s = run(server, b, "?sync=9", mode=AlertCode.REFRESH_FROM_SERVER)  # client 6: the client's mode
    assert s.reports["./addressbook"].mode == 205 and numbers(ab(b)) == [1, 2, 3, 5]


def test_the_stored_devinf_decides_without_one_in_the_session(server: SyncServer, store: SQLiteStore,
                                                              phone_pair: tuple[ClientStore, ClientStore]) -> None:
    """B's DevInf (SyncCaps 1, 2) is stored from its earlier sessions: a session without a Put still falls back."""
    _a, b = phone_pair
    s = run(server, b, "?sync=8", without_devinf=True)
    assert s.reports["./addressbook"].mode == 201 and numbers(ab(b)) == [1, 2, 3, 5]


def test_a_client_without_devinf_gets_the_alerts_as_before(server: SyncServer, store: SQLiteStore) -> None:
    """No DevInf (none in the session, none stored): its SyncCaps are not
    known, so the modes go out as their own alerts (205 for 8)."""
    from .test_issue_13_modes import device, vcard

    c = device("c")
    c.sync_caps = (1, 2)  # (never sent)
    c.datastores["./addressbook"].add(vcard(1))
    run(server, c, without_devinf=True)
    assert store.device("test", "test-c").devinf is None
    s = run(server, c, "?sync=8", without_devinf=True)
    assert s.reports["./addressbook"].mode == 205 and numbers(ab(c)) == [1]


def test_a_pending_refresh_from_server_as_a_slow_sync(server: SyncServer, store: SQLiteStore,
                                                      phone_pair: tuple[ClientStore, ClientStore]) -> None:
    """``syncml backup restore``'s pending refresh from server (205) reaches a
    phone as a slow sync: its items deleted, the server's sent; then cleared."""
    _a, b = phone_pair
    with store.transaction():
        store.set_pending_mode(store.device("test", "test-b"), "Contacts", AlertCode.REFRESH_FROM_SERVER)
    s = run(server, b)
    report = s.reports["./addressbook"]
    assert (report.mode, report.alert_status, report.received) == (201, 508, {"Delete": 4, "Add": 4})
    assert numbers(ab(b)) == [1, 2, 3, 5] and on_server(store) == [1, 2, 3, 5]
    assert store.pending_mode(store.device("test", "test-b"), "Contacts") is None


def test_a_broken_off_erase_erases_nothing_on_the_server(server: SyncServer, store: SQLiteStore,
                                                         phone_pair: tuple[ClientStore, ClientStore]) -> None:
    """A phone that stops after sending its items in an erase (mode 8 as a
    slow sync): the server's data untouched; its next sync (still ``sync=8``)
    is done from the start."""
    _a, b = phone_pair
    run(server, b, "?sync=8", stop_after=2)
    assert on_server(store) == [1, 2, 3, 5] and numbers(ab(b)) == [1, 2, 3, 4]
    s = run(server, b, "?sync=8")
    assert s.reports["./addressbook"].mode == 201
    assert numbers(ab(b)) == [1, 2, 3, 5] and on_server(store) == [1, 2, 3, 5]
    assert len(store.items("test", "Contacts")) == 4


def test_a_luid_too_long_to_delete_gets_an_item_status(server: SyncServer, store: SQLiteStore,
                                                       phone_pair: tuple[ClientStore, ClientStore],
                                                       caplog: pytest.LogCaptureFixture) -> None:
    from syncml_codec.engine._sync import MAX_ERASED_LUID

    _a, b = phone_pair
    ds = b.datastores["./addressbook"]
    long_luid = "x" * (MAX_ERASED_LUID + 1)
    ds.items[long_luid] = ds.items.pop(next(iter(ds.items)))
    with caplog.at_level(logging.WARNING, logger="syncml_codec.engine"):
        s = run(server, b, "?sync=9")
    report = s.reports["./addressbook"]
    assert sorted(report.statuses) == [200, 200, 200, 400]
    assert list(ab(b)) == [long_luid]  # kept on the phone: no Delete for it
    assert any("too long LUID" in r.getMessage() for r in caplog.records)
    assert on_server(store) == [1, 2, 3, 5]


@pytest.mark.parametrize(("url", "name"), [("?sync=8", "slow-to-client/erase-and-send"),
                                           ("?reset", "client-reset/erase"), ("?sync=4", "refresh-from-client/take"),
                                           ("?sync=3", "one-way-from-client/hold")])
def test_the_session_line_names_the_way_taken(server: SyncServer, phone_pair: tuple[ClientStore, ClientStore],
                                              caplog: pytest.LogCaptureFixture, url: str, name: str) -> None:
    _a, b = phone_pair
    with caplog.at_level(logging.INFO, logger="syncml_codec.engine"):
        run(server, b, url)
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("session end:")]
    assert f" Contacts={name} " in line


def test_a_large_item_in_chunks_is_deleted_once(make_server: Callable[..., SyncServer], store: SQLiteStore) -> None:
    """An item the phone sends in MoreData chunks (the server's MaxMsgSize is
    small) is one LUID to delete, kept when its last chunk comes."""
    from .test_issue_13_modes import device, vcard

    server = make_server(max_msg_size=4000)
    phone = device("p")
    phone.sync_caps = (1, 2)
    phone.datastores["./addressbook"].add(vcard(1))
    phone.datastores["./addressbook"].add(vcard(2, note="x" * 12000))
    run(server, phone)
    assert on_server(store) == [1, 2]
    phone.datastores["./addressbook"].add(vcard(3))
    s = run(server, phone, "?sync=9")
    report = s.reports["./addressbook"]
    assert (report.mode, report.received) == (201, {"Delete": 3})
    assert report.statuses == [200, 200, 200] and s.msg_id >= 6, s.msg_id  # (the large one in 3 messages or more)
    assert ab(phone) == {} and on_server(store) == [1, 2]
