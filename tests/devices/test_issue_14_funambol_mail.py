"""Issue 14, item 5: the recorded Funambol Windows Mobile mail sync
(``pohly+funambol-cpp-client-api/test/testcases``) against our server and
our client.

* ``ex2.xml`` is the client's message 4 of a first (slow) sync of ``mail``
  with a Funambol server: Statuses for the server's Adds of two mails
  (``I/702-FUN-1``, ``I/701-FUN-1``: Funambol's server GUIDs carry the
  folder, ``I`` the inbox) and of two folder items (``ROOT/I``, ``ROOT/O``),
  and a Map giving the client's LUIDs, folder-prefixed too
  (``I/AAAAAIgAAD...=``; ``formats/email.py``: the ``<folderId>/`` prefix).
  The client's messages before it are not in the corpus: messages 1 and 2
  are built here the way that client sends them (Alert 200 for ``mail``,
  then an empty Sync after the server's Alert 201), and the three are
  replayed (:mod:`syncml_codec.engine.replay`) into our server with two
  mails in the account's Maildir.
* ``ex1.xml`` is the Funambol server's answer to a message 1: Status 212 for
  the header, 508 for the Alert, Alert 201 for ``mail``.  Our
  :class:`ClientSession` takes it as the answer to its own message 1.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from syncml_codec.engine import ClientSession, ClientStore, SyncServer
from syncml_codec.engine.replay import Replayer
from syncml_codec.formats import EmailObject
from syncml_codec.mail import INBOX, MaildirBackend, MaildirRoot, account_maildir
from syncml_codec.model import Alert, Map, Message, Status, Sync
from syncml_codec.store import SQLiteStore

from ..conftest import CORPUS
from ..engine.conftest import Clock, counter_random

CASES = CORPUS / "devices" / "pohly+funambol-cpp-client-api" / "test" / "testcases"
DEVICE = "fwm-359010997282EB514"
LUIDS = ("I/AAAAAIgAADwCAAAAAAAAAEsAAAA=", "I/AAAAAGEAAD4CAAAAAAAAAEwAAAA=")

pytestmark = pytest.mark.skipif(not (CASES / "ex2.xml").is_file(), reason="no Funambol client corpus")


def mail(n: int) -> bytes:
    return (f"From: sender{n}@example.org\r\nTo: fun@example.org\r\nSubject: funambol {n}\r\n"
            f"Message-ID: <fun{n}@example.org>\r\n\r\nbody {n}\r\n").encode()


def _header(msg_id: int) -> str:
    cred = base64.b64encode(b"test:secret").decode()
    return (f"<SyncHdr><VerDTD>1.1</VerDTD><VerProto>SyncML/1.1</VerProto><SessionID>1194365078</SessionID>"
            f"<MsgID>{msg_id}</MsgID><Target><LocURI>http://cagiva02.funambol.com:8080/funambol/ds</LocURI>"
            f"</Target><Source><LocURI>{DEVICE}</LocURI></Source>"
            + (f"<Cred><Meta><Type xmlns='syncml:metinf'>syncml:auth-basic</Type></Meta><Data>{cred}</Data></Cred>"
               if msg_id == 1 else "")
            + "<Meta><MaxMsgSize xmlns='syncml:metinf'>16000</MaxMsgSize></Meta></SyncHdr>")


#: the client's message 1: Alert 200 (two-way) for mail, anchors the server does not know
MESSAGE_1 = ("<SyncML>" + _header(1) + "<SyncBody><Alert><CmdID>1</CmdID><Data>200</Data><Item><Target><LocURI>mail"
             "</LocURI></Target><Source><LocURI>mail</LocURI></Source><Meta><Anchor xmlns='syncml:metinf'><Last>"
             "1194387440072</Last><Next>1194387440072</Next></Anchor><MaxObjSize xmlns='syncml:metinf'>2010000"
             "</MaxObjSize></Meta></Item></Alert><Final/></SyncBody></SyncML>").encode()
#: its message 3 (2 in our numbering): Statuses for the server's message 1, an empty slow-sync Sync
MESSAGE_2 = ("<SyncML>" + _header(3) + "<SyncBody><Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef>"
             "<Cmd>SyncHdr</Cmd><TargetRef>" + DEVICE + "</TargetRef><SourceRef>http://cagiva02.funambol.com:8080/"
             "funambol/ds</SourceRef><Data>200</Data></Status><Status><CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>3"
             "</CmdRef><Cmd>Alert</Cmd><TargetRef>mail</TargetRef><SourceRef>mail</SourceRef><Data>200</Data>"
             "</Status><Sync><CmdID>3</CmdID><Target><LocURI>mail</LocURI></Target><Source><LocURI>mail</LocURI>"
             "</Source><NumberOfChanges>0</NumberOfChanges></Sync><Final/></SyncBody></SyncML>").encode()


@pytest.fixture
def world(tmp_path: Path) -> tuple[SyncServer, SQLiteStore, MaildirBackend]:
    store = SQLiteStore(":memory:")
    store.add_user("test", "secret")
    box = MaildirBackend(account_maildir(tmp_path, "test"))
    for n in (1, 2):
        box.add(INBOX, mail(n))
    server = SyncServer(store, clock=Clock(), random_source=counter_random(), base_url="http://127.0.0.1:8080/sync",
                        mail=MaildirRoot(tmp_path))
    return server, store, box


def test_issue_14_funambol_mail_session_replays(world: tuple[SyncServer, SQLiteStore, MaildirBackend]) -> None:
    server, store, box = world
    replayer = Replayer(server, user="test", password="secret")
    result = replayer.replay([MESSAGE_1, MESSAGE_2, (CASES / "ex2.xml").read_bytes()])
    assert result.problems() == [] and not result.refused
    first, second, third = (ex.reply for ex in result.exchanges)
    assert first is not None and second is not None and third is not None
    # message 1: the unknown anchors ask for a slow sync, as the Funambol server did (ex1: 508, Alert 201)
    (alert_status,) = [s for s in first.commands if isinstance(s, Status) and s.cmd == "Alert"]
    assert int(alert_status.code or 0) == 508
    (alert,) = [c for c in first.commands if isinstance(c, Alert)]
    assert alert.data == "201"
    # message 2: our two mails as Adds, in the OMA DS email format
    (sync,) = [c for c in second.commands if isinstance(c, Sync)]
    adds = [c for c in sync.commands if c.TAG == "Add"]
    assert len(adds) == 2
    sent = sorted(EmailObject.parse(bytes(c.items[0].data or b"")).emailitem or b"" for c in adds)
    assert sent == sorted(mail(n) for n in (1, 2))
    # message 3 (ex2): every Status answered 200, the Map taken
    codes = {(s.cmd, int(s.code or 0)) for s in third.commands if isinstance(s, Status)}
    assert codes == {("SyncHdr", 200), ("Map", 200)}
    notes = [n for ex in result.exchanges for n in ex.notes]
    assert any(n.startswith("dropped the Status for Add") for n in notes)  # the folder items we never sent
    assert {n for n in notes if n.startswith("dropped the Map item")} == {
        "dropped the Map item for ROOT/I (our server sent no such Add)",
        "dropped the Map item for ROOT/O (our server sent no such Add)"}
    device = store.device("test", DEVICE)
    entries = store.map_entries(device, "Mail")
    guids = {item.guid for item in store.items("test", "Mail")}
    assert {e.guid for e in entries} == guids and len(guids) == 2
    assert sorted(str(e.luid) for e in entries) == sorted(LUIDS)  # the folder-prefixed LUIDs, kept as they came
    assert sorted(box.fetch(INBOX, m.uid) for m in box.messages(INBOX)) == [mail(1), mail(2)]  # the Maildir as it was


def test_issue_14_funambol_mail_luids_work_in_the_next_session(
        world: tuple[SyncServer, SQLiteStore, MaildirBackend]) -> None:
    """After the replay, the client marks one mail read under its ``I/...`` LUID: it reaches the Maildir."""
    server, store, box = world
    replayer = Replayer(server, user="test", password="secret")
    assert replayer.replay([MESSAGE_1, MESSAGE_2, (CASES / "ex2.xml").read_bytes()]).problems() == []
    anchors = {e.luid: e.guid for e in store.map_entries(store.device("test", DEVICE), "Mail")}
    message_1 = (MESSAGE_1.replace(b"<SessionID>1194365078", b"<SessionID>1194365079")
                 .replace(b"<Last>1194387440072</Last><Next>1194387440072</Next>",
                          b"<Last>1194387440072</Last><Next>1194387449999</Next>"))
    replace = ("<SyncML>" + _header(2).replace("<SessionID>1194365078", "<SessionID>1194365079")
               + "<SyncBody><Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd>"
               "<Data>200</Data></Status><Sync><CmdID>2</CmdID><Target><LocURI>mail</LocURI></Target><Source><LocURI>"
               "mail</LocURI></Source><Replace><CmdID>3</CmdID><Meta><Type xmlns='syncml:metinf'>"
               "application/vnd.omads-email+xml</Type></Meta><Item><Source><LocURI>" + LUIDS[0] + "</LocURI></Source>"
               "<Data>&lt;Email&gt;&lt;read&gt;true&lt;/read&gt;&lt;/Email&gt;</Data></Item></Replace></Sync>"
               "<Final/></SyncBody></SyncML>").encode()
    result = replayer.replay([message_1, replace])
    assert result.problems() == []
    reply = result.exchanges[-1].reply
    assert reply is not None
    codes = {(s.cmd, int(s.code or 0)) for s in reply.commands if isinstance(s, Status)}
    assert ("Replace", 200) in codes
    read = [m for m in box.messages(INBOX) if m.flags == {"read"}]
    assert len(read) == 1 and box.fetch(INBOX, read[0].uid) in (mail(1), mail(2))
    guid = anchors[LUIDS[0]]
    ref = store.get_item("test", "Mail", guid)
    assert ref is not None and b'"read"' in ref.data


def test_issue_14_our_client_answers_the_funambol_servers_alert() -> None:
    """ex1 as the answer to our ClientSession's message 1: it takes the 212,
    the 508 and the Alert 201, and sends its whole ``mail`` (a slow sync)
    to the RespURI, in the session and version of the server."""
    client = ClientStore(DEVICE)
    ds = client.add_datastore("mail", "mail", "application/vnd.omads-email+xml", "1.2")
    for n in (1, 2):
        ds.add(EmailObject.from_rfc822(mail(n)).serialize())
    session = ClientSession(client, url="http://cagiva02.funambol.com:8080/funambol/ds", user="test",
                            password="secret", auth_type="basic", encoding="xml", clock=Clock(),
                            session_id="1194365078")
    first = Message.from_bytes(session.start().body)
    (alert,) = [c for c in first.commands if isinstance(c, Alert)]
    recorded = (CASES / "ex1.xml").read_bytes()
    # the recorded answer names the Funambol client's Alert, its command 1: ours has another number
    assert recorded.count(b"<CmdRef>1</CmdRef>\n<Cmd>Alert</Cmd>") == 1
    recorded = recorded.replace(b"<CmdRef>1</CmdRef>\n<Cmd>Alert</Cmd>",
                                f"<CmdRef>{alert.cmd_id}</CmdRef>\n<Cmd>Alert</Cmd>".encode())
    request = session.receive(recorded, "application/vnd.syncml+xml")
    assert request is not None
    assert request.url == ("http://cagiva02.funambol.com:8080/funambol/ds;jsessionid="
                           "204D878B8DD6BFF324287B4B584D1672")
    answer = Message.from_bytes(request.body)
    assert answer.header.session_id == "1194365078" and answer.header.msg_id == "2"
    statuses = {(s.cmd, s.cmd_ref): int(s.code or 0) for s in answer.commands if isinstance(s, Status)}
    assert statuses == {("SyncHdr", "0"): 200, ("Alert", "3"): 200}
    (sync,) = [c for c in answer.commands if isinstance(c, Sync)]
    assert str(sync.target.loc_uri if sync.target else "") == "mail"
    adds = [c for c in sync.commands if c.TAG in ("Add", "Replace")]
    assert len(adds) == 2  # a slow sync sends everything
    assert not [c for c in answer.commands if isinstance(c, Map)]


def test_issue_14_funambol_corpus_files_are_what_the_tests_say() -> None:
    ex1 = Message.from_bytes((CASES / "ex1.xml").read_bytes())
    ex2 = Message.from_bytes((CASES / "ex2.xml").read_bytes())
    assert [c.TAG for c in ex1.commands] == ["Status", "Status", "Alert"]
    (map_cmd,) = [c for c in ex2.commands if isinstance(c, Map)]
    assert [str(i.source.loc_uri) for i in map_cmd.map_items or () if i.source] == [*LUIDS, "I", "O"]
    assert [str(i.target.loc_uri) for i in map_cmd.map_items or () if i.target] == \
        ["I/702-FUN-1", "I/701-FUN-1", "ROOT/I", "ROOT/O"]


def test_issue_14_funambol_map_as_recorded(world: tuple[SyncServer, SQLiteStore, MaildirBackend]) -> None:
    """ex2's Map as the client sent it, with its items for the folders ``ROOT/I`` and ``ROOT/O``
    our server never sent: the two mails are mapped (200 each) and the two folders get 404
    each, by TargetRef and SourceRef, instead of one 404 for the whole Map (issue 14 edges)."""
    server, store, _box = world
    replayer = Replayer(server, user="test", password="secret", maps_as_recorded=True)
    result = replayer.replay([MESSAGE_1, MESSAGE_2, (CASES / "ex2.xml").read_bytes()])
    third = result.exchanges[-1].reply
    assert third is not None
    statuses = [s for s in third.commands if isinstance(s, Status) and s.cmd == "Map"]
    codes = {s.target_refs[0]: int(s.code or 0) for s in statuses}
    assert codes.pop("ROOT/I") == 404 and codes.pop("ROOT/O") == 404
    guids = {item.guid for item in store.items("test", "Mail")}
    assert codes == dict.fromkeys(guids, 200) and len(guids) == 2
    assert {s.source_refs[0] for s in statuses if s.target_refs[0] in guids} == set(LUIDS)
    entries = store.map_entries(store.device("test", DEVICE), "Mail")
    assert sorted(str(e.luid) for e in entries) == sorted(LUIDS)
