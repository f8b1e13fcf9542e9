"""Recorded client sessions of real devices, read from the corpus files
(file reading lives here, not in the engine), and the checks every replay
must pass."""

from __future__ import annotations

import base64
import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from syncml_codec.engine import SyncServer
from syncml_codec.engine._items import canonical_data, content_key
from syncml_codec.engine.replay import Replayer, SessionReplay, recorded_login
from syncml_codec.model import Add, Delete, Message, Replace, Status, Sync
from syncml_codec.store import SQLiteStore, canonical_datastore

from ..conftest import CORPUS
from ..engine.conftest import counter_random

DEVICES = CORPUS / "devices"
SE_SESSIONS = CORPUS / "syncevolution" / "sessions"
USER, PASSWORD = "test", "secret"  # the account of recordings without a readable password
_SYNCML = re.compile(rb"(?:<\?xml[^>]*\?>\s*)?<SyncML[\s>].*?</SyncML>", re.S)


@dataclass(frozen=True)
class Recording:
    """The client messages of one or more sessions of one device, in order.
    ``datastores``: the recorded server's datastore URIs -> ours, where the
    replay cannot infer them."""

    name: str
    sessions: tuple[tuple[bytes, ...], ...]
    datastores: dict[str, str] = field(default_factory=dict)
    #: what the recorded server held and sent (canonical datastore, data, type): put in our store first
    server_items: tuple[tuple[str, bytes, str], ...] = ()


def embedded_messages(text: bytes) -> list[bytes]:
    """Every SyncML document in a debug log, in order (both directions)."""
    return [m.group().strip() for m in _SYNCML.finditer(text)]


def server_items(messages: Iterable[bytes]) -> tuple[tuple[str, bytes, str], ...]:
    """The items of the Adds in the recorded server's Syncs (its answers in a log)."""
    out = []
    for body in messages:
        msg = Message.from_bytes(body, lenient=True)
        if not str(msg.header.source.loc_uri).startswith("http"):
            continue
        for sync in (c for c in msg.commands if isinstance(c, Sync)):
            canonical = canonical_datastore(str(sync.source.loc_uri)) if sync.source else None
            for add in (c for c in sync.commands if isinstance(c, Add)):
                for item in add.items or ():
                    meta = item.meta or add.meta
                    data = _item_data(item, meta.format if meta else None)
                    ctype = (item.meta.type if item.meta and item.meta.type else
                             add.meta.type if add.meta and add.meta.type else None)
                    if canonical and data is not None and ctype:
                        out.append((canonical, data, str(ctype)))
    return tuple(out)


def client_sessions(messages: Iterable[bytes]) -> tuple[tuple[bytes, ...], ...]:
    """The client's messages (SyncHdr Source not a URL) grouped by SessionID."""
    sessions: dict[str, list[bytes]] = {}
    for body in messages:
        header = Message.from_bytes(body, lenient=True).header
        if str(header.source.loc_uri).startswith("http"):
            continue  # the server's answer
        sessions.setdefault(str(header.session_id), []).append(body)
    return tuple(tuple(s) for s in sessions.values())


def without_inline_dtd(body: bytes) -> bytes:
    """The message after an internal DTD subset that the recording tool put
    in front of it (with a second XML declaration: not well-formed)."""
    return body[body.index(b"]>") + 2:].lstrip() if body.startswith(b"<?xml") and b"]>" in body else body


def _path(rel: str) -> Path:
    return DEVICES / rel


def device_recordings() -> list[Recording]:
    """The recorded client traffic in ``corpus/devices`` (see its README)."""
    funambol = "pohly+funambol-cpp-client-api/test/testcases"
    logs = "zijianhuang+SyncMLDotNet/TestCase"
    simple = "devaspot+syncml/apps/simple_sync/test"
    out = [
        # syncML1..8: the odd ones are the client's (Source fwm-...), the even ones the server's answers
        Recording("funambol-windows-mobile", (tuple(_path(f"{funambol}/syncML{n}.xml").read_bytes()
                                                    for n in (1, 3, 5, 7)),)),
    ]
    for name, rel in (("funambol-outlook-to-server", f"{logs}/FunambolOutlookExamples/AllToServer.txt"),
                      ("funambol-outlook-from-server", f"{logs}/FunambolOutlookExamples/AllFromServer.txt"),
                      ("funambol-outlook-plugin", f"{logs}/OLPluginFromLocalToServer.txt"),
                      ("funambol-java-demo", f"{logs}/Evaluate/SlowSync.log")):
        # the server's answers are in the log too: our store starts with what the recorded server sent
        messages = embedded_messages(_path(rel).read_bytes())
        out.append(Recording(name, client_sessions(messages), server_items=server_items(messages)))
    iphone = "devaspot+syncml/history"
    # ex2 is the iPhone's first message, ex1 message 2 of a later session (whose first message was the same)
    out.append(Recording("funambol-iphone", ((without_inline_dtd(_path(f"{iphone}/ex2.xml").read_bytes()),
                                              without_inline_dtd(_path(f"{iphone}/ex1.xml").read_bytes())),)))
    out += [
        Recording("sony-ericsson-k800i", ((_path("smn+txsyncml/txsyncml/tests/fixtures/"
                                                 "sony-ericsson-k800i-package1.xml").read_bytes(),),)),
        Recording("txsyncml-client-init", ((_path("smn+txsyncml/txsyncml/tests/fixtures/"
                                                  "client_sync_init.wbxml").read_bytes(),),)),
        Recording("ericsson-wbxml", ((_path(f"{simple}/example.wbxml").read_bytes(),),)),
        Recording("ericsson-xml", ((_path(f"{simple}/example.xml1").read_bytes(),),)),
        Recording("funambol-windows-client-wbxml", ((_path(f"{simple}/sample.wbxml").read_bytes(),),)),
        Recording("funambol-windows-client-xml", ((_path(f"{simple}/funambol_sample.xml").read_bytes(),),)),
        # the E7's DevInf was pasted from WBXML as text (invalid UTF-8): replayed without that Put;
        # ./k is the recorded server's name for the phone's contacts (./C:Contacts.cdb)
        Recording("nokia-e7", ((_without_put(_path(f"{simple}/putE7.xml").read_bytes()),),), {"./k": "contacts"}),
        Recording("syncevolution-funambol-init", ((_path("sailfishos+buteo-syncml/tests_meego/data/"
                                                         "syncml_init.txt").read_bytes().strip(),),)),
        # an HTTP request as recorded: the message is its body
        Recording("buteo-init-request", (tuple(embedded_messages(_path(
            "sailfishos+buteo-syncml/tests_meego/data/transport_initrequest.txt").read_bytes())),)),
    ]
    return out


def _without_put(body: bytes) -> bytes:
    start, end = body.index(b"<Put>"), body.index(b"</Put>") + len(b"</Put>")
    return body[:start] + body[end:]


def se_recordings() -> list[Recording]:
    """Each combo of ``corpus/syncevolution/sessions``: its five sessions in order."""
    out = []
    for combo in sorted(p for p in SE_SESSIONS.iterdir() if p.is_dir()) if SE_SESSIONS.is_dir() else ():
        sessions = []
        for step in sorted(p for p in combo.iterdir() if p.is_dir()):
            sessions.append(tuple(p.read_bytes() for p in sorted(step.glob("0*-request.*"))
                                  if p.suffix in (".xml", ".wbxml") and not p.name.endswith(".wbxml.xml")))
        out.append(Recording(combo.name, tuple(sessions)))
    return out


# -- running and checking ----------------------------------------------------


def _clock() -> Callable[[], float]:
    ticks = itertools.count(1_700_000_000)
    return lambda: float(next(ticks))


def new_server(user: str = USER, password: str = PASSWORD) -> SyncServer:
    """A server on an in-memory store with one account, a moving clock and
    a deterministic random source."""
    store = SQLiteStore(":memory:")
    store.add_user(user, password)
    return SyncServer(store, clock=_clock(), random_source=counter_random(), base_url="http://127.0.0.1:8080/sync")


def replay(recording: Recording) -> tuple[SyncServer, list[SessionReplay], list[str]]:
    """Replay every session of ``recording`` into a fresh server; the
    problems found (empty: all checks pass)."""
    login = recorded_login([m for s in recording.sessions for m in s]) or (_loc_name(recording) or USER, PASSWORD)
    server = new_server(*login)
    for canonical, data, ctype in recording.server_items:
        server.store.add_item(login[0], canonical, data, ctype)
    replayer = Replayer(server, user=login[0], password=login[1], datastores=recording.datastores)
    results, problems = [], []
    for n, session in enumerate(recording.sessions, 1):
        result = replayer.replay(session)
        results.append(result)
        problems += [f"session {n}: {p}" for p in [*result.problems(), *stored_problems(server, result)]]
    return server, results, problems


def _loc_name(recording: Recording) -> str | None:
    """The user an MD5 recording logs in as (its password is unknown: ours is used)."""
    try:
        first = Message.from_bytes(recording.sessions[0][0], lenient=True).header
    except ValueError:  # unreadable: the replay reports it
        return None
    return str(first.source.loc_name).strip() or None if first.source.loc_name else None


def _item_data(item: object, fmt: str | None) -> bytes | None:
    data = getattr(item, "data", None)
    if data is None:
        return None
    raw = data.encode() if isinstance(data, str) else data if isinstance(data, bytes) else None
    if raw is not None and fmt == "b64":
        raw = base64.b64decode(raw)
    return raw


def stored_problems(server: SyncServer, result: SessionReplay) -> list[str]:
    """The items of the client's Add/Replace (the last change of each LUID
    that the server answered with a 2xx Status) that the store does not
    hold (compared by content key: the store may keep another format)."""
    session = server.sessions.get(result.session_id or "")
    if session is None:
        return []
    wanted: dict[tuple[str, str], tuple[bytes, str] | None] = {}
    for ex in result.exchanges:
        if ex.sent_message is None or ex.reply is None:
            continue
        ok = {(s.cmd_ref, tuple(s.source_refs)) for s in ex.reply.commands
              if isinstance(s, Status) and s.code is not None and 200 <= int(s.code) < 300}
        for sync in (c for c in ex.sent_message.commands if isinstance(c, Sync)):
            canonical = canonical_datastore(str(sync.target.loc_uri)) if sync.target else None
            if canonical is None:
                continue
            for change in sync.commands:
                if not isinstance(change, (Add, Replace, Delete)):
                    continue
                for item in change.items or ():
                    luid = str(item.source.loc_uri) if item.source else ""
                    if (change.cmd_id, (luid,) if luid else ()) not in ok:
                        continue
                    if isinstance(change, Delete):
                        wanted[(canonical, luid)] = None
                        continue
                    meta = item.meta or change.meta
                    ctype = (item.meta.type if item.meta and item.meta.type else
                             change.meta.type if change.meta and change.meta.type else
                             sync.meta.type if sync.meta and sync.meta.type else "text/plain")
                    data = _item_data(item, meta.format if meta else None)
                    if data is not None:
                        wanted[(canonical, luid)] = (data, str(ctype))
    problems = []
    for (canonical, luid), sent in wanted.items():
        if sent is None:
            continue
        keys = {content_key(i.data, i.content_type) for i in server.store.items(session.user, canonical)}
        if content_key(*canonical_data(canonical, *sent)) not in keys:
            problems.append(f"{canonical} item {luid} ({sent[1]}) is not in the store as sent")
    return problems
