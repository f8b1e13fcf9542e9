"""Issue 13, red team: what a hostile client (or a careless operator) sends
to what issue 13 added: URL parameters, the HMAC header, domains and the
access list, encrypted items, backups, modes 7/8 broken off.  Each test
failed before the fix it comes with (or pins a behaviour that held)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from syncml_codec.engine import ClientSession, ClientStore, SyncServer
from syncml_codec.engine._params import parse_params
from syncml_codec.model import Message, auth
from syncml_codec.store import SQLiteStore
from syncml_codec.store.backups import BackupArea

from .conftest import Clock, counter_random
from .helpers import ab, device, vcard

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


@pytest.mark.parametrize(("url", "expected"), [
    ("?a=1%26sync%3D9", {"unknown": (("a", "1&sync=9"),)}),        # encoded & and = do not separate
    ("?a=1%2C%23sync=9", {"unknown": (("a", "1,#sync=9"),)}),
    ("?sync%3D9", {"unknown": (("sync=9", ""),)}),
    ("?sync=1&sync=9", {"sync": 9}),                                # repeated: the last
    ("?sync=%2B9", {"invalid": (("sync", "+9"),)}),
    ("?sync=9%00", {"invalid": (("sync", "9\x00"),)}),
    ("?backup=%2e%2e%2fx", {"invalid": (("backup", "../x"),)}),
    ("?backup=a%2Fb", {"invalid": (("backup", "a/b"),)}),
    ("?backup=" + "a" * 41, {"invalid": (("backup", "a" * 41),)}),
    ("?reset=%00", {"invalid": (("reset", "\x00"),)}),
    ("?format=SIF%00", {"invalid": (("format", "SIF\x00"),)}),
])
def test_encoded_and_repeated_parameters(url: str, expected: dict[str, object]) -> None:
    from syncml_codec.engine._params import SyncParams

    assert parse_params("http://h/sync" + url) == SyncParams(**expected)  # type: ignore[arg-type]


def test_a_url_of_a_million_separators_keeps_32_parameters() -> None:
    params = parse_params("http://h/sync?" + ",#" * 1_000_000 + "&".join(f"p{i}=1" for i in range(100)))
    assert len(params.unknown) <= 32


def test_unicode_digits_in_the_query_or_locuri_do_not_break_the_session(store: SQLiteStore) -> None:
    server = server_with(store)
    dev = phone("u")
    s = run(server, dev, "http://127.0.0.1:8080/sync?sync=%C2%B2", query="sync=\u00b2")
    assert s.ok and len(store.items("test", "Contacts")) == 2


# -- the HMAC header -----------------------------------------------------------------
def _unsigned_first_message(name: str, padding: int = 0) -> bytes:
    body = ClientSession(phone(name), url="http://127.0.0.1:8080/sync", user="test", password="secret",
                         clock=Clock(), encoding="xml").start().body
    msg = Message.from_bytes(body)
    return msg.replace(header=dataclasses.replace(msg.header, cred=None)).to_bytes("xml") + b" " * padding


def _head_status(server: SyncServer, body: bytes, hmac: str) -> str:
    reply = Message.from_bytes(server.handle(body, XML, None, remote="192.0.2.7", headers={"x-syncml-hmac": hmac}).body)
    return str(reply.commands[0].data)  # type: ignore[attr-defined]


def test_a_wrong_hmac_over_a_big_body_hashes_the_body_once(store: SQLiteStore,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The server tries ~160 nonces; each must not hash the whole body again
    (a 1 MB message with a wrong MAC cost 160 MB of MD5 per request)."""
    server = server_with(store)
    body = _unsigned_first_message("big", padding=1_000_000)
    hashed: list[int] = []
    real = auth._md5
    monkeypatch.setattr(auth, "_md5", lambda data: hashed.append(len(data)) or real(data))
    assert _head_status(server, body, auth.hmac_header("test", "wrong", b"n", body)) == "401"
    assert sum(hashed) < 3 * len(body)
    hashed.clear()
    first = _head_status(server, body, 'algorithm=MD5, username="test", mac=' + "A" * 8000)
    assert first == "401" and sum(hashed) < 3 * len(body)


@pytest.mark.parametrize("value", ['algorithm=SHA1, username="test", mac=AAAA', "username=, mac=", ",,,,",
                                   'username="test", mac="AAAA', "\x00", 'username="' + '\\"' * 50_000 + '", mac=A',
                                   'username="test", mac=@@@@', 'username="test", mac=' + "=" * 9])
def test_a_malformed_hmac_header_is_refused_with_a_challenge(store: SQLiteStore, value: str) -> None:
    server = server_with(store)
    assert _head_status(server, _unsigned_first_message("m"), value) == "401"
    assert store.find_device("test", "test-m") is None


def test_an_hmac_replayed_on_another_worker_is_refused(store: SQLiteStore) -> None:
    """Two workers (two servers over one store): a MAC accepted by one is not accepted again by the other."""
    one, two = server_with(store), server_with(store)
    body = _unsigned_first_message("r")
    reply = Message.from_bytes(one.handle(body, XML, None, headers={}).body)
    chal = reply.commands[0].chal  # type: ignore[attr-defined]
    nonce = auth.nonce_from_text(chal.meta.next_nonce)
    header = auth.hmac_header("test", "secret", nonce, body)
    assert _head_status(one, body, header) == "212"
    assert _head_status(two, body, header) == "401"


def test_a_cred_and_an_hmac_the_cred_decides(store: SQLiteStore) -> None:
    server = server_with(store)
    body = ClientSession(phone("c"), url="http://127.0.0.1:8080/sync", user="test", password="wrong",
                         clock=Clock(), encoding="xml", auth_type="basic").start().body
    good = auth.hmac_header("test", "secret", b"", body)  # (over the empty nonce: refused anyway)
    assert _head_status(server, body, good) == "401"
    assert store.find_device("test", "test-c") is None


# -- the policy, schemes alternating -------------------------------------------------
def test_alternating_schemes_under_a_policy(store: SQLiteStore) -> None:
    """md5 policy: basic (re-challenged), md5 with a wrong password (a counted
    failure), basic again (rejected, not counted), then md5 with the right
    password still logs in; a login clears the strike."""
    from .test_issue_13_auth import first_status, start

    server = server_with(store, auth_policy="md5")
    dev = phone("alt", 1)
    assert first_status(server, start(dev, auth_type="basic")).data == "401"
    assert first_status(server, start(dev, password="wrong")).data == "401"
    assert first_status(server, start(dev, auth_type="basic")).data == "403"
    assert server.gate.account_failures._table["test"].failures == 1  # only the real guess
    assert run(server, dev).ok  # md5 with the right password: in (after its challenge)
    assert first_status(server, start(dev, auth_type="basic")).data == "401"  # the strike was cleared
    assert store.find_device("test", "test-alt") is not None


def test_a_basic_only_account_with_an_hmac_is_rechallenged_with_basic(store: SQLiteStore) -> None:
    """An scrypt account cannot check a MAC: the header is the wrong scheme (never compared)."""
    from .test_issue_13_auth import first_status

    store.add_user("old", "secret", basic_only=True)
    server = server_with(store)
    body = _unsigned_first_message("hb")
    first = first_status(server, body, {"x-syncml-hmac": auth.hmac_header("old", "secret", b"", body)})
    assert first.data == "401" and first.chal is not None and first.chal.meta.type == "syncml:auth-basic"
    assert first_status(server, body, {"x-syncml-hmac": auth.hmac_header("old", "secret", b"", body)}).data == "403"


# -- domains and the access list ----------------------------------------------------
@pytest.mark.parametrize(("account", "disabled"), [
    ("anna@example.org", "example.org."),
    ("anna@example.org", "EXAMPLE.Org"),
    ("anna@bücher.de", "xn--bcher-kva.de"),
    ("anna@bücher.de", "BÜCHER.DE."),
    ("anna@xn--bcher-kva.de", "bücher.de"),
    ("anna@example.org.", "example.org"),
])
def test_a_domain_disabled_in_another_spelling_is_disabled(account: str, disabled: str) -> None:
    store = SQLiteStore(":memory:")
    store.add_user(account, "secret")
    store.set_domain_disabled(disabled, True)
    server = server_with(store)
    s = run(server, phone("d"), user=account)
    assert not s.ok
    assert store.find_device(account, "test-d") is None and store.items(account, "Contacts") == []


@pytest.mark.parametrize(("account", "entry"), [
    ("anna@example.org", "@EXAMPLE.org."),
    ("anna@bücher.de", "@xn--bcher-kva.de"),
    ("anna@bücher.de", "anna@BÜCHER.de"),
])
def test_the_access_list_compares_domains_as_domains(account: str, entry: str) -> None:
    store = SQLiteStore(":memory:")
    store.add_user(account, "secret")
    assert run(server_with(store, allowed=[entry]), phone("a"), user=account).ok
    assert not run(server_with(store, allowed=["anna@other.org", "@bücher.example"]), phone("b"), user=account).ok


# -- encrypted items ------------------------------------------------------------------
def _send_items(server: SyncServer, user: str, items: list[tuple[str, bytes]], name: str = "e") -> list[str]:
    """The item statuses a client gets for ``items`` ((Meta Format, data)
    each) sent as Adds in its first Sync (its own items replaced by them)."""
    from syncml_codec.model import Add, Item, Meta, Source, Sync

    store = device(name)
    store.datastores["./addressbook"].add(vcard(0))
    s = ClientSession(store, url=server.base_url, user=user, password="secret", clock=Clock(), encoding="xml",
                      auth_type="basic")
    request = s.start()
    response = server.handle(request.body, request.content_type, None)
    request = s.receive(response.body, response.content_type)
    assert request is not None
    msg = Message.from_bytes(request.body)
    adds = tuple(Add(cmd_id=str(100 + n), meta=Meta(type="text/vcard", format=fmt or None),
                     items=(Item(source=Source(loc_uri=f"L{n}"), data=data.decode("ascii")),))
                 for n, (fmt, data) in enumerate(items))
    commands = [dataclasses.replace(c, commands=adds) if isinstance(c, Sync) else c for c in msg.commands]
    assert any(isinstance(c, Sync) for c in commands)
    body = msg.replace(body=dataclasses.replace(msg.body, commands=tuple(commands))).to_bytes("xml")
    sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
    reply = Message.from_bytes(server.handle(body, XML, sid).body)
    return [str(c.data) for c in reply.commands if getattr(c, "cmd", None) == "Add"]


def test_an_item_format_repeating_the_cipher_is_refused_without_decrypting(store: SQLiteStore,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """``des;des;...;b64`` made the server run DES over the item once per step
    (a hostile item of a few hundred layers: seconds to minutes of CPU each)."""
    from syncml_codec.formats import ItemKey, encode_item_data, item_encoding

    store.set_data_key("test", "k")
    key = ItemKey.from_password("k")
    layered = ";".join(["des"] * 40 + ["b64"])
    runs: list[int] = []
    real = item_encoding._decrypt
    monkeypatch.setattr(item_encoding, "_decrypt", lambda *a: runs.append(1) or real(*a))
    good = encode_item_data(vcard(5), "des;b64", key)
    onion = vcard(1)
    for _ in range(40):  # (what the hostile client computes once and sends again and again)
        onion = encode_item_data(onion, "des", key)
    statuses = _send_items(server_with(store), "test", [(layered, encode_item_data(onion, "b64")),
                                                        ("des;3des;b64", b"AAAAAAAAAAA="),
                                                        ("b64;" * 20 + "b64", b"QQ=="),
                                                        ("des;b64", good)])
    assert statuses[:3] == ["400", "400", "400"] and statuses[3] in ("200", "201")
    assert len(runs) == 1  # only the good item was decrypted
    assert [i.data for i in store.items("test", "Contacts")] == [vcard(5)]


@pytest.mark.parametrize("fmt", ["des;b64", "3des;b64"])
def test_truncated_or_broken_encrypted_items_get_a_status_not_a_crash(store: SQLiteStore, fmt: str) -> None:
    from syncml_codec.formats import ItemKey, encode_item_data

    store.set_data_key("test", "k")
    whole = encode_item_data(vcard(1), fmt, ItemKey.from_password("k"))
    other = encode_item_data(vcard(2), "3des;b64" if fmt == "des;b64" else "des;b64", ItemKey.from_password("k"))
    statuses = _send_items(server_with(store), "test", [
        (fmt, whole[:-4]), (fmt, whole[:-1]), (fmt, whole[:7]), (fmt, b"===="), (fmt, b""), (fmt, b"*" * 16),
        (fmt, other),  # the other cipher over the same key: does not decrypt
    ])
    assert len(statuses) == 7 and not {"200", "201"} & set(statuses)
    assert store.items("test", "Contacts") == []


def test_a_chunked_encrypted_item_is_decrypted_whole_or_refused(store: SQLiteStore) -> None:
    """An encrypted item in two chunks (MoreData): the cipher runs over the
    whole item once its chunks are together; a wrong key (or a truncated
    last chunk) gets a Status, nothing stored."""
    from syncml_codec.formats import ItemKey, encode_item_data
    from syncml_codec.model import Add, Item, Meta, Source, Sync

    store.set_data_key("test", "k")
    server = server_with(store)
    results = {}
    for case, key, cut in (("right", "k", 0), ("wrong", "other", 0), ("truncated", "k", 5)):
        dev = device(f"chunk-{case}")
        dev.datastores["./addressbook"].add(vcard(0))
        s = ClientSession(dev, url=server.base_url, user="test", password="secret", clock=Clock(), encoding="xml",
                          auth_type="basic")
        request = s.start()
        response = server.handle(request.body, request.content_type, None)
        request = s.receive(response.body, response.content_type)
        assert request is not None
        sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
        wire = encode_item_data(vcard(7, note="chunked " * 40), "des;b64", ItemKey.from_password(key)).decode()
        size = len(wire)
        wire = wire[:len(wire) - cut]
        half = len(wire) // 2
        statuses: list[str] = []
        msg = Message.from_bytes(request.body)
        for n, (part, more) in enumerate(((wire[:half], True), (wire[half:], False))):
            meta = Meta(type="text/vcard", format="des;b64", size=str(size) if more else None)
            add = Add(cmd_id=str(50 + n), meta=meta,
                      items=(Item(source=Source(loc_uri="C1"), data=part, more_data=more),))
            commands = [dataclasses.replace(c, commands=(add,)) if isinstance(c, Sync) else c for c in msg.commands]
            header = dataclasses.replace(msg.header, msg_id=str(int(msg.header.msg_id) + n))
            body = msg.replace(header=header, body=dataclasses.replace(msg.body, commands=tuple(commands),
                                                                       final=not more)).to_bytes("xml")
            reply = Message.from_bytes(server.handle(body, XML, sid).body)
            statuses += [str(c.data) for c in reply.commands if getattr(c, "cmd", None) == "Add"]
        results[case] = statuses
    assert results["right"][0] == "213" and results["right"][-1] in ("200", "201")
    assert results["wrong"][-1] == "415" and results["truncated"][-1] not in ("200", "201")
    stored = [i.data for i in store.items("test", "Contacts")]
    assert stored.count(vcard(7, note="chunked " * 40)) == 1 and len(stored) == 1


# -- backups ---------------------------------------------------------------------------
class _BrokeOff(Exception):
    pass


def _broken_backup(server: SyncServer, name: str, items: int = 4) -> None:
    """A backup session that sends its items, then never comes back."""
    from .test_issue_13_backup import run as backup_run

    area = server.backups
    assert area is not None
    before = sum(_partial_bytes(area))

    def between() -> None:
        if sum(_partial_bytes(area)) != before:  # the server has taken (some of) the items
            raise _BrokeOff

    with pytest.raises(_BrokeOff):
        backup_run(server, phone(name, items), "http://h/sync?backup=x", between=between)


def _partial_bytes(area: BackupArea, user: str = "test") -> list[int]:
    folder = area.account_dir(user) / ".partial"
    return sorted(p.stat().st_size for p in folder.iterdir()) if folder.exists() else []


def test_partial_files_of_evicted_backup_sessions_go_and_count(store: SQLiteStore, tmp_path: Path) -> None:
    """A device starting backup after backup and never finishing: each left
    a partial file for a day, not counted in the account's share (a disk
    filled by one account); now the dead ones go when the next backup
    starts, and the live ones count."""
    area = BackupArea(tmp_path / "b")
    server = server_with(store, backups=area)
    for _ in range(6):
        _broken_backup(server, "same")
    sizes = _partial_bytes(area)
    assert 1 <= len(sizes) <= 2  # the device's live sessions (sessions_per_device) only
    assert area.usage("test") == sum(sizes) > 0


def test_a_backup_grows_only_to_what_is_left_of_the_share(store: SQLiteStore, tmp_path: Path) -> None:
    """Live sessions' partial files count: a backup started while others run
    gets only what is left of the account's share (before, each session
    could write ``max_size``, whatever the share)."""
    from .test_issue_13_backup import run as backup_run

    area = BackupArea(tmp_path / "b", max_account_size=1000)
    server = server_with(store, backups=area)
    for n in range(2):  # two devices, each with a live backup session broken off
        _broken_backup(server, f"d{n}")
    left = 1000 - sum(_partial_bytes(area))
    assert 0 < left < 500
    session = backup_run(server, phone("last", 4), "http://h/sync?backup=x")
    assert 420 in session.reports["./addressbook"].statuses or session.reports["./addressbook"].alert_status == 420
    assert area.backups("test") == []  # no file: the backup did not fit
    assert sum(_partial_bytes(area)) <= 1000


# -- modes 7 and 8 broken off -------------------------------------------------------
def _broken_run(server: SyncServer, dev: ClientStore, url: str, after: int) -> None:
    """A session of ``dev`` with sync URL ``url`` that stops after the server answered ``after`` messages."""
    s = ClientSession(dev, url=url, user="test", password="secret", clock=Clock(), encoding="xml", max_msg_size=3000)
    request = s.start()
    for _ in range(after):
        sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
        response = server.handle(request.body, request.content_type, sid)
        nxt = s.receive(response.body, response.content_type)
        assert nxt is not None, "the session ended before it could break off"
        request = nxt


def _counts(store: SQLiteStore, dev: ClientStore) -> tuple[int, int, int, int]:
    server_items = [i.data for i in store.items("test", "Contacts")]
    client_items = list(ab(dev).values())
    return len(server_items), len(set(server_items)), len(client_items), len(set(client_items))


@pytest.mark.parametrize(("mode", "after"), [(7, 2), (7, 3), (8, 2), (8, 3), (8, 4)])
def test_mode_7_or_8_broken_off_erases_nothing_and_duplicates_nothing(store: SQLiteStore, mode: int,
                                                                       after: int) -> None:
    """Mode 7 added the client's items as copies and erased the server's at
    the end: broken off halfway, the server held both (and the next slow
    sync sent the originals back to the client: duplicates on both sides)."""
    server = server_with(store, max_msg_size=3000)  # (packages 3 and 4 in several messages)
    dev = phone("m", 12)
    assert run(server, dev).ok
    for n in range(12, 15):
        store.add_item("test", "Contacts", vcard(n), "text/vcard")  # server-only items
    dev.datastores["./addressbook"].add(vcard(20))  # a client-only item
    book = dev.datastores["./addressbook"]
    luid = next(k for k, v in book.items.items() if v == vcard(3))
    book.update(luid, vcard(3, note="changed on the phone"))  # and a changed one
    _broken_run(server, dev, f"http://127.0.0.1:8080/sync?sync={mode}", after)
    assert run(server, dev).ok  # the next normal sync (slow: the anchors were cleared)
    assert run(server, dev).ok
    n_server, distinct_server, n_client, distinct_client = _counts(store, dev)
    assert n_server == distinct_server and n_client == distinct_client  # nothing duplicated
    assert sorted(i.data for i in store.items("test", "Contacts")) == sorted(ab(dev).values())
    if mode == 7:  # nothing erased: the server's 15 and the client's new one (its version of the changed one)
        assert n_server == 16
    else:  # the server's 15 (the client erased its own data when it took Alert 205: that is mode 8)
        assert n_server == 15


# -- sessionid and parameters in later messages ----------------------------------------
def test_a_sessionid_in_the_locuri_naming_another_devices_session_is_refused(store: SQLiteStore) -> None:
    """The LocURI's ``sessionid`` is read when the HTTP URL has none: naming
    a running session of another device (or user) gets a refusal, nothing
    of that session changes."""
    store.add_user("bob", "secret")
    server = server_with(store)
    victim = phone("victim", 1)
    s = ClientSession(victim, url=server.base_url, user="test", password="secret", clock=Clock(), encoding="xml",
                      auth_type="basic")
    first = server.handle(s.start().body, XML, None)
    sid = first.session_id
    assert sid and server.sessions[sid] is not None
    before = store.load_live_session(sid)
    for user, name in (("test", "other"), ("bob", "bobs")):
        body = ClientSession(phone(name, 1), url=f"http://127.0.0.1:8080/sync?sessionid={sid}&sync=9&reset",
                             user=user, password="secret", clock=Clock(), encoding="xml",
                             auth_type="basic").start().body
        reply = server.handle(body, XML, None)
        assert reply.session_id != sid
        head = Message.from_bytes(reply.body).commands[0]
        assert head.data in ("401", "407")  # refused: device-differs / user-differs
    assert store.load_live_session(sid) == before
