"""Issue 10, protocol: credentials inside commands, answers in the client's
SyncML version (1.0, 1.1) with the DevInf of that version, and Alert 222
that never ends a session before the client's package is complete.

Messages are built with :mod:`syncml_codec.model` (1.0/1.1 phones are not
what our own client speaks), or read from the Ericsson 1.0 first message in
``../shared/corpus/devices``; everything goes through ``SyncServer.handle``."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from syncml_codec.devinf import DevInf
from syncml_codec.engine import SyncServer
from syncml_codec.model import (
    Add,
    Alert,
    Anchor,
    Command,
    Cred,
    Get,
    Item,
    Map,
    MapItem,
    Message,
    Meta,
    Results,
    Source,
    Status,
    StatusCode,
    Sync,
    SyncBody,
    SyncHdr,
    Target,
    auth,
)
from syncml_codec.store import SQLiteStore

from ..conftest import CORPUS

XML = "application/vnd.syncml+xml"
WBXML = "application/vnd.syncml+wbxml"
URL = "http://127.0.0.1:8080/sync"
DEVICE = "IMEI:350000000000001"
ERICSSON = CORPUS / "devices" / "devaspot+syncml" / "apps" / "simple_sync" / "test" / "example.xml1"
VCARD21 = b"BEGIN:VCARD\r\nVERSION:2.1\r\nN:Doe;Jane\r\nFN:Jane Doe\r\nTEL;WORK:+1-555-0100\r\nEND:VCARD\r\n"


# -- building a phone's messages ---------------------------------------------
def basic(user: str = "test", password: str = "secret") -> Cred:
    return Cred(meta=Meta(format="b64", type="syncml:auth-basic"), data=auth.basic_credential(user, password))


def md5(nonce: bytes, user: str = "test", password: str = "secret") -> Cred:
    return Cred(meta=Meta(format="b64", type="syncml:auth-md5"), data=auth.md5_digest(user, password, nonce))


class Phone:
    """A scripted SyncML 1.0/1.1/1.2 phone: builds its messages, posts them
    to the server (following our RespURI) and reads the answers."""

    def __init__(self, server: SyncServer, version: str = "1.1", encoding: str = "xml",
                 loc_name: str | None = None) -> None:
        self.server = server
        self.version = version
        self.encoding = encoding
        self.loc_name = loc_name
        self.msg_id = 0
        self.session: str | None = None
        self.target = URL
        self.last_body = b""

    def header(self, cred: Cred | None) -> SyncHdr:
        self.msg_id += 1
        return SyncHdr(ver_dtd=self.version, ver_proto=f"SyncML/{self.version}", session_id="7",
                       msg_id=str(self.msg_id), target=Target(loc_uri=self.target),
                       source=Source(loc_uri=DEVICE, loc_name=self.loc_name), cred=cred,
                       meta=Meta(max_msg_size="20000"))

    def send(self, *commands: Command, final: bool = True, cred: Cred | None = None) -> Message:
        msg = Message(header=self.header(cred), body=SyncBody(commands=commands, final=final))
        ctype = WBXML if self.encoding == "wbxml" else XML
        response = self.server.handle(msg.to_bytes(self.encoding), ctype, self.session)
        assert response.http_status == 200 and response.content_type == ctype
        self.last_body = response.body
        reply = Message.from_bytes(response.body, response.content_type)
        if response.session_id is not None:
            self.session = response.session_id
            assert reply.header.resp_uri
            self.target = reply.header.resp_uri
        return reply


def alert(cmd_id: str, code: int = 201, last: str | None = None, nxt: str = "1", cred: Cred | None = None,
          target: str = "./contacts", source: str = "./C/Telecom/PB") -> Alert:
    return Alert(cmd_id=cmd_id, cred=cred, data=str(code),
                 items=(Item(target=Target(loc_uri=target), source=Source(loc_uri=source),
                             meta=Meta(anchor=Anchor(last=last, next=nxt))),))


def next_please(cmd_id: str) -> Alert:
    return Alert(cmd_id=cmd_id, data="222", items=(Item(target=Target(loc_uri=URL), source=Source(loc_uri=DEVICE)),))


def statuses(reply: Message) -> list[Status]:
    return [c for c in reply.commands if isinstance(c, Status)]


def status_of(reply: Message, cmd_ref: str) -> Status:
    return next(s for s in statuses(reply) if s.cmd_ref == cmd_ref and s.cmd != "SyncHdr")


def head(reply: Message) -> Status:
    status = statuses(reply)[0]
    assert status.cmd == "SyncHdr"
    return status


def ack_all(reply: Message, first_id: int) -> list[Status]:
    """The phone's Statuses for every command of ``reply`` that wants one."""
    out: list[Status] = []
    n = first_id
    for cmd in reply.commands:
        if isinstance(cmd, (Status, Results)):
            continue
        out.append(Status.of(cmd_id=str(n), msg_ref=reply.header.msg_id, cmd_ref=cmd.cmd_id, cmd=cmd.TAG,
                             code=StatusCode.OK))
        n += 1
        if isinstance(cmd, Sync):
            for change in cmd.commands:
                out.append(Status.of(cmd_id=str(n), msg_ref=reply.header.msg_id, cmd_ref=change.cmd_id,
                                     cmd=change.TAG, code=StatusCode.ITEM_ADDED))
                n += 1
    return out


def session_phase(server: SyncServer, phone: Phone) -> str:
    assert phone.session is not None
    return server.sessions[phone.session].phase.value


@pytest.fixture
def contacts(store: SQLiteStore) -> list[str]:
    """Two contacts on the server for the phone to receive."""
    return [store.add_item("test", "Contacts", VCARD21.replace(b"Jane", name), "text/x-vcard").guid
            for name in (b"Ann", b"Bob")]


# -- 1.0 and 1.1 clients: their version, their DevInf ------------------------
@pytest.mark.parametrize(("version", "uri"), [("1.0", "./devinf10"), ("1.1", "./devinf11")])
@pytest.mark.parametrize("encoding", ["xml", "wbxml"])
def test_issue_10_old_client_is_answered_in_its_version(server: SyncServer, version: str, uri: str,
                                                        encoding: str) -> None:
    phone = Phone(server, version, encoding)
    reply = phone.send(Get(cmd_id="1", meta=Meta(type=f"application/vnd.syncml-devinf+{encoding}"),
                           items=(Item(target=Target(loc_uri=uri)),)),
                       alert("2"), cred=basic())
    assert (reply.header.ver_dtd, reply.header.ver_proto) == (version, f"SyncML/{version}")
    if encoding == "wbxml":  # the public ID of the SyncML 1.0 (0x0FD1) or 1.1 (0x0FD3) DTD
        assert phone.last_body[1:3] == (b"\x9f\x51" if version == "1.0" else b"\x9f\x53")
    else:
        assert f"//DTD SyncML {version}//EN".encode() in phone.last_body
    assert head(reply).data == "212" and status_of(reply, "1").data == "200"
    (results,) = [c for c in reply.commands if isinstance(c, Results)]
    assert results.items[0].source is not None and results.items[0].source.loc_uri == uri
    ours = DevInf.from_document(results.items[0].data)
    assert ours.version == version and ours.dev_typ == "server"
    # the device sent no DevInf: we ask for it under the URI of its version
    (get,) = [c for c in reply.commands if isinstance(c, Get)]
    assert get.items[0].target is not None and get.items[0].target.loc_uri == uri
    # nothing a 1.0 device does not know: no MaxObjSize (1.1), no UTC/SupportLargeObjs in DevInf 1.0
    assert reply.header.meta is not None
    assert (reply.header.meta.max_obj_size is None) == (version == "1.0")
    assert (ours.utc, ours.support_large_objs, ours.support_number_of_changes) == ((version != "1.0",) * 3)


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_issue_10_old_client_whole_session(server: SyncServer, store: SQLiteStore, contacts: list[str],
                                           version: str) -> None:
    """A slow sync of a 1.0/1.1 phone: every answer in its version, package
    4 without NumberOfChanges for 1.0, the Map acknowledged, the session done."""
    phone = Phone(server, version)
    reply = phone.send(alert("1"), cred=basic())
    assert status_of(reply, "1").data == "200" and reply.final
    reply = phone.send(*ack_all(reply, 1), Sync(cmd_id="9", target=Target(loc_uri="./contacts"),
                                               source=Source(loc_uri="./C/Telecom/PB")))
    assert reply.header.ver_dtd == version and reply.final
    (sync,) = [c for c in reply.commands if isinstance(c, Sync)]
    assert (sync.number_of_changes is None) == (version == "1.0")
    adds = [c for c in sync.commands if isinstance(c, Add)]
    assert len(adds) == 2
    maps = tuple(MapItem(target=Target(loc_uri=str(a.items[0].source.loc_uri)), source=Source(loc_uri=f"{n}"))
                 for n, a in enumerate(adds, 1) if a.items[0].source is not None)
    reply = phone.send(*ack_all(reply, 1), Map(cmd_id="20", target=Target(loc_uri="./contacts"),
                                               source=Source(loc_uri="./C/Telecom/PB"), map_items=maps))
    assert reply.header.ver_dtd == version and status_of(reply, "20").data == "200" and reply.final
    assert session_phase(server, phone) == "done"
    device = store.find_device("test", DEVICE)
    assert device is not None
    assert sorted(e.luid or "" for e in store.map_entries(device, "Contacts")) == ["1", "2"]


@pytest.mark.skipif(not ERICSSON.is_file(), reason="no device corpus")
def test_issue_10_ericsson_first_message(store: SQLiteStore, server: SyncServer) -> None:
    """The Ericsson phone's real SyncML 1.0 first message (basic d:d, its
    DevInf in a Put of ./devinf10): answered in 1.0, its DevInf kept, and a
    basic-friendly answer (no MD5 NextNonce for a 1.0 device)."""
    store.add_user("d", "d")
    response = server.handle(ERICSSON.read_bytes(), XML, None)
    reply = Message.from_bytes(response.body, response.content_type)
    assert (reply.header.ver_dtd, reply.header.ver_proto) == ("1.0", "SyncML/1.0")
    assert head(reply).data == "212" and head(reply).chal is None
    assert status_of(reply, "1").data == "200"  # the Put of ./devinf10
    assert not any(isinstance(c, Get) for c in reply.commands)  # it sent its DevInf: no Get
    device = store.find_device("d", "520327511080721")
    assert device is not None and device.devinf and DevInf.from_bytes(device.devinf).man == "Ericsson"


def test_issue_10_old_client_challenge_is_basic(server: SyncServer) -> None:
    """A 1.0 MD5 digest needs the plain password, which an MD5 account does
    not keep: a 1.0 phone is challenged with basic, and logs in with it."""
    phone = Phone(server, "1.0")
    reply = phone.send(alert("1"))
    assert head(reply).data == "407" and head(reply).chal is not None
    assert head(reply).chal.meta.type == "syncml:auth-basic"
    reply = phone.send(alert("1"), cred=basic())
    assert head(reply).data == "212"


# -- credentials inside a command ---------------------------------------------
@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_issue_10_basic_cred_only_in_alert(server: SyncServer, version: str) -> None:
    phone = Phone(server, version)
    reply = phone.send(alert("1", cred=basic()))
    assert head(reply).data == "212" and phone.session is not None
    assert status_of(reply, "1").data == "200"
    assert any(isinstance(c, Alert) and c.data == "201" for c in reply.commands)
    assert server.sessions[phone.session].user == "test"


def test_issue_10_md5_cred_only_in_alert(server: SyncServer, store: SQLiteStore) -> None:
    """MD5 in the Alert, the user in the SyncHdr LocName: the challenge's
    nonce is used up, and the NextNonce goes in both the header's and the
    Alert's Status; the next session logs in over it."""
    phone = Phone(server, "1.1", loc_name="test")
    reply = phone.send(alert("1"))
    assert head(reply).data == "407" and head(reply).chal is not None
    nonce = auth.nonce_from_text(head(reply).chal.meta.next_nonce or "")
    reply = phone.send(alert("1", cred=md5(nonce)))
    assert head(reply).data == "212" and status_of(reply, "1").data == "200"
    hdr_chal, alert_chal = head(reply).chal, status_of(reply, "1").chal
    assert hdr_chal is not None and alert_chal is not None
    assert hdr_chal.meta.next_nonce and hdr_chal.meta.next_nonce == alert_chal.meta.next_nonce
    # the same credential again (a replay) is refused: the nonce was used
    replay = Phone(server, "1.1", loc_name="test")
    refused = replay.send(alert("1", cred=md5(nonce)))
    assert head(refused).data == "401" and replay.session is None
    # the NextNonce works for the next session
    again = Phone(server, "1.1", loc_name="test")
    reply = again.send(alert("1", cred=md5(auth.nonce_from_text(hdr_chal.meta.next_nonce))))
    assert head(reply).data == "212"


def test_issue_10_wrong_cred_in_alert_is_refused_and_counted(server: SyncServer, store: SQLiteStore,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    """A wrong password in the Alert: 401 on the header and on the Alert,
    with a challenge, nothing written, a WARNING like the header's; five of
    them lock the account, so even the right password is refused then."""
    caplog.set_level(logging.INFO, logger="syncml_codec.engine")
    for n in range(1, 6):
        phone = Phone(server, "1.1")
        reply = phone.send(alert("1", cred=basic(password=f"guess{n}")))
        assert [(s.cmd, s.data) for s in statuses(reply)] == [("SyncHdr", "401"), ("Alert", "401")]
        assert head(reply).chal is not None and status_of(reply, "1").chal == head(reply).chal
        assert phone.session is None and reply.header.resp_uri is None
    assert store.find_device("test", DEVICE) is None
    failures = [r.getMessage() for r in caplog.records if r.getMessage().startswith("auth failure:")]
    assert len(failures) == 5 and "reason=wrong-credentials failures=5" in failures[-1]
    assert f'device="{DEVICE}"' in failures[0]
    reply = Phone(server, "1.1").send(alert("1", cred=basic()))
    assert head(reply).data == "401"
    assert "reason=locked-out" in caplog.records[-1].getMessage()


def test_issue_10_header_cred_wins(server: SyncServer) -> None:
    """A credential in the SyncHdr decides; a command's is only looked at without one."""
    reply = Phone(server, "1.1").send(alert("1", cred=basic(password="wrong")), cred=basic())
    assert head(reply).data == "212" and status_of(reply, "1").data == "200"


def test_issue_10_cred_in_a_command_inside_sync(server: SyncServer) -> None:
    """Packages 1 and 3 in one message, the Cred on the Sync only."""
    phone = Phone(server, "1.1")
    reply = phone.send(alert("1"), Sync(cmd_id="2", cred=basic(), target=Target(loc_uri="./contacts"),
                                        source=Source(loc_uri="./C/Telecom/PB")))
    assert head(reply).data == "212" and status_of(reply, "2").data == "200"


def test_issue_10_later_message_naming_another_user_in_a_command(server: SyncServer) -> None:
    """A session's later message whose command Cred names another user is refused like a header one."""
    phone = Phone(server, "1.1")
    phone.send(alert("1", cred=basic()))
    reply = phone.send(Sync(cmd_id="2", cred=basic("mallory", "x"), target=Target(loc_uri="./contacts")))
    assert head(reply).data == "401"


# -- Alert 222 never ends a session early ------------------------------------
def to_map_phase(server: SyncServer, version: str = "1.2") -> tuple[Phone, Message]:
    """A slow sync up to the end of package 4 (two Adds for the phone)."""
    phone = Phone(server, version)
    reply = phone.send(alert("1"), cred=basic())
    reply = phone.send(*ack_all(reply, 1), Sync(cmd_id="9", target=Target(loc_uri="./contacts"),
                                               source=Source(loc_uri="./C/Telecom/PB")))
    assert reply.final and session_phase(server, phone) == "map"
    return phone, reply


def map_for(reply: Message, cmd_id: str = "30") -> Map:
    (sync,) = [c for c in reply.commands if isinstance(c, Sync)]
    items = tuple(MapItem(target=Target(loc_uri=str(a.items[0].source.loc_uri)), source=Source(loc_uri=f"L{n}"))
                  for n, a in enumerate(sync.commands, 1) if isinstance(a, Add) and a.items[0].source is not None)
    return Map(cmd_id=cmd_id, target=Target(loc_uri="./contacts"), source=Source(loc_uri="./C/Telecom/PB"),
               map_items=items)


@pytest.mark.parametrize("version", ["1.1", "1.2"])
@pytest.mark.parametrize("final", [True, False])
def test_issue_10_alert_222_in_map_phase_waits_for_the_map(server: SyncServer, store: SQLiteStore,
                                                           contacts: list[str], version: str, final: bool) -> None:
    phone, package4 = to_map_phase(server, version)
    reply = phone.send(*ack_all(package4, 1), next_please("20"), final=final)
    # the statuses are taken, Alert 222 answered, and the rest asked for: no package 6 yet
    assert status_of(reply, "20").data == "200"
    assert not reply.final and any(isinstance(c, Alert) and c.data == "222" for c in reply.commands)
    assert session_phase(server, phone) == "map"
    device = store.find_device("test", DEVICE)
    assert device is not None and store.anchors(device, "Contacts").client_last is None  # nothing committed
    reply = phone.send(map_for(package4))
    assert head(reply).data == "200" and status_of(reply, "30").data == "200" and reply.final
    assert session_phase(server, phone) == "done"
    assert sorted(e.luid or "" for e in store.map_entries(device, "Contacts")) == ["L1", "L2"]
    assert store.anchors(device, "Contacts").client_last == "1"
    # the next session is a normal two-way sync, and a delete on the server reaches the phone by its LUID
    store.delete_item("test", "Contacts", contacts[0])
    later = Phone(server, version)
    reply = later.send(alert("1", code=200, last="1", nxt="2"), cred=basic())
    assert status_of(reply, "1").data == "200"
    reply = later.send(*ack_all(reply, 1), Sync(cmd_id="9", target=Target(loc_uri="./contacts"),
                                               source=Source(loc_uri="./C/Telecom/PB")))
    (sync,) = [c for c in reply.commands if isinstance(c, Sync)]
    assert [(c.TAG, str(c.items[0].target.loc_uri)) for c in sync.commands if c.items[0].target] == [("Delete", "L1")]


def test_issue_10_alert_222_after_the_map_ends_the_session(server: SyncServer, store: SQLiteStore,
                                                          contacts: list[str]) -> None:
    """Nothing awaited any more (the Map came in a message of its own):
    Alert 222 with Final is the end of package 5, as before."""
    phone, package4 = to_map_phase(server)
    reply = phone.send(*ack_all(package4, 1), map_for(package4), final=False)
    assert not reply.final and session_phase(server, phone) == "map"
    reply = phone.send(next_please("40"))
    assert reply.final and session_phase(server, phone) == "done"


def test_issue_10_alert_222_without_sync_does_not_skip_package_3(server: SyncServer, contacts: list[str]) -> None:
    """After package 2, a message with only Alert 222 and Final: the phone's
    Sync is still awaited, so no package 4 yet; it comes after the Sync."""
    phone = Phone(server, "1.1")
    reply = phone.send(alert("1"), cred=basic())
    reply = phone.send(*ack_all(reply, 1), next_please("5"))
    assert not reply.final and not any(isinstance(c, Sync) for c in reply.commands)
    assert any(isinstance(c, Alert) and c.data == "222" for c in reply.commands)
    assert session_phase(server, phone) == "client-mods"
    reply = phone.send(Sync(cmd_id="9", target=Target(loc_uri="./contacts"), source=Source(loc_uri="./C/Telecom/PB")))
    (sync,) = [c for c in reply.commands if isinstance(c, Sync)]
    assert len(sync.commands) == 2 and reply.final and session_phase(server, phone) == "map"


def test_issue_10_alert_222_in_package_4_gets_the_next_message(make_server: object, store: SQLiteStore) -> None:
    """Package 4 over several messages: Alert 222 (Final or not) gets the next one."""
    for n in range(30):
        store.add_item("test", "Contacts", VCARD21.replace(b"Jane", f"Person{n:03d}".encode()), "text/x-vcard")
    server = make_server(max_msg_size=4000)  # type: ignore[operator]
    phone = Phone(server, "1.1")
    reply = phone.send(alert("1"), cred=basic())
    reply = phone.send(*ack_all(reply, 1), Sync(cmd_id="9", target=Target(loc_uri="./contacts"),
                                               source=Source(loc_uri="./C/Telecom/PB")))
    received = 0
    for n in range(40):
        received += sum(len(c.commands) for c in reply.commands if isinstance(c, Sync))
        if reply.final:
            break
        reply = phone.send(*ack_all(reply, 1), next_please("50"), final=n % 2 == 0)
    assert received == 30 and session_phase(server, phone) == "map"


def test_issue_10_state_table_next_never_advances() -> None:
    from syncml_codec.engine._state import SERVER_TABLE, Event, ServerPhase

    for phase in ServerPhase:
        if (phase, Event.NEXT) in SERVER_TABLE:
            assert SERVER_TABLE[(phase, Event.NEXT)] is phase
    assert {p for p, e in SERVER_TABLE if e is Event.NEXT} == set(ServerPhase) - {ServerPhase.DONE}


def test_issue_10_md5_is_computed_over_the_session_version(server: SyncServer) -> None:
    """(Unchanged by the move into commands) a 1.1 digest is the 1.1 formula."""
    phone = Phone(server, "1.1", loc_name="test")
    nonce = auth.nonce_from_text(head(phone.send(alert("1"))).chal.meta.next_nonce or "")  # type: ignore[union-attr]
    cred = dataclasses.replace(md5(nonce), data=auth.md5_digest_10("test", "secret", nonce))
    assert head(phone.send(alert("1", cred=cred))).data == "401"

