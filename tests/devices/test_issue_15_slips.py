"""Issue 15 (largeobj, item 3): client slips that Synthesis tolerates, each
made from a recorded SyncEvolution session (``corpus/syncevolution/sessions``)
with the element taken out, replayed into our server.

* ``<Final/>`` missing on the last message of package 1, 3 or 5: we ask for
  the rest (Alert 222); a client that then only asks for our next message
  (Statuses and Alert 222, no Final) has ended its package, and the session
  goes on and completes (:meth:`ServerSession._event`);
* ``NumberOfChanges`` and the Add's ``Meta/Type`` missing: the items are
  stored all the same (the datastore's type; nothing to check).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from syncml_codec.engine.replay import Replayer, SessionReplay
from syncml_codec.model import Add, Alert, Message, Sync

from .recordings import SE_SESSIONS, Recording, new_server, se_recordings

COMBOS = ("xml-addressbook-vcard30-md5", "wbxml-addressbook-vcard30-md5")
pytestmark = pytest.mark.skipif(not SE_SESSIONS.is_dir(), reason="no SyncEvolution corpus")


def recording(name: str) -> Recording:
    return next(r for r in se_recordings() if r.name == name)


def _encoding(body: bytes) -> str:
    return "xml" if body.lstrip()[:1] == b"<" else "wbxml"


def _renumbered(body: bytes, shift: int) -> bytes:
    msg = Message.from_bytes(body)
    header = dataclasses.replace(msg.header, msg_id=str(int(msg.header.msg_id) + shift), _layout=None)
    return msg.replace(header=header).to_bytes(_encoding(body))


def _changed(body: bytes, change: Callable[[Message], Message]) -> bytes:
    """``body`` read, changed and written again in its encoding."""
    return change(Message.from_bytes(body)).to_bytes(_encoding(body))


def without_final(messages: tuple[bytes, ...], index: int) -> list[bytes]:
    """The session with message ``index`` sent without Final, followed by
    what such a client sends when we ask for more: only Alert 222, no Final
    (the later messages renumbered)."""
    slipped = messages[index]
    msg = Message.from_bytes(slipped)
    assert msg.body is not None and msg.final
    alone = msg.replace(header=dataclasses.replace(msg.header, msg_id=str(int(msg.header.msg_id) + 1), cred=None,
                                                   _layout=None),
                        body=dataclasses.replace(msg.body, final=False, _layout=None,
                                                 commands=(Alert(cmd_id="1", data="222"),)))
    no_final = msg.replace(body=dataclasses.replace(msg.body, final=False, _layout=None))
    return [*messages[:index], no_final.to_bytes(_encoding(slipped)), alone.to_bytes(_encoding(slipped)),
            *(_renumbered(b, 1) for b in messages[index + 1:])]


def answered(replay: SessionReplay) -> list[Message]:
    """The server's answers, the challenges left out."""
    out = []
    for ex in replay.exchanges:
        assert ex.reply is not None
        if not any(getattr(c, "data", None) == "401" for c in ex.reply.commands):
            out.append(ex.reply)
    return out


def asks_next(msg: Message) -> bool:
    return any(isinstance(c, Alert) and c.code == 222 for c in msg.commands)


@pytest.mark.parametrize("combo", COMBOS)
@pytest.mark.parametrize(("package", "index"), [(1, 0), (3, 1)])
def test_issue_15_first_sync_without_final(combo: str, package: int, index: int) -> None:
    """Device A's first (slow) sync with Final taken off package 1 or package 3."""
    rec = recording(combo)
    server = new_server()
    result = Replayer(server, user="test", password="secret").replay(without_final(rec.sessions[0], index))
    assert result.problems() == []
    answers = answered(result)
    assert asks_next(answers[index]) and not answers[index].final  # the rest, please
    after = answers[index + 1]  # the client only asked for our next message: its package is over
    assert not asks_next(after) and after.final
    if package == 1:  # (our Alert came with the first answer: package 2 ends with this one)
        assert any(isinstance(c, Alert) and c.code == 201 for c in answers[index].commands)
    else:
        assert any(isinstance(c, Sync) for c in after.commands)  # package 4
    assert answers[-1].final
    assert [s.outcome for s in server.store.sessions("test")] == ["ok"]
    assert len(server.store.items("test", "Contacts")) == 2


@pytest.mark.parametrize("combo", COMBOS)
def test_issue_15_map_without_final(combo: str) -> None:
    """Device B's first sync (it receives two Adds) with Final taken off its
    Map (package 5): asked for more, its Alert 222 ends the session; the map
    is kept (the next two-way session sends nothing again)."""
    rec = recording(combo)
    server = new_server()
    replayer = Replayer(server, user="test", password="secret")
    assert replayer.replay(rec.sessions[0]).problems() == []
    result = replayer.replay(without_final(rec.sessions[1], 2))
    assert result.problems() == []
    answers = answered(result)
    assert asks_next(answers[2]) and answers[3].final and not asks_next(answers[3])
    assert [s.outcome for s in server.store.sessions("test")] == ["ok", "ok"]
    device = server.store.device("test", f"se-client-{combo}-b")
    assert len(server.store.map_entries(device, "Contacts")) == 2


@pytest.mark.parametrize("combo", COMBOS)
def test_issue_15_sync_without_number_of_changes_or_type(combo: str) -> None:
    """Device A's first sync with NumberOfChanges and each Add's Meta/Type taken out."""
    rec = recording(combo)

    def bare(msg: Message) -> Message:
        commands = []
        for cmd in msg.commands:
            if isinstance(cmd, Sync):
                cmd = dataclasses.replace(cmd, number_of_changes=None, _layout=None, commands=tuple(
                    dataclasses.replace(c, meta=None, _layout=None) if isinstance(c, Add) else c
                    for c in cmd.commands))
            commands.append(cmd)
        assert msg.body is not None
        return msg.replace(body=dataclasses.replace(msg.body, commands=tuple(commands), _layout=None))

    messages = list(rec.sessions[0])
    messages[1] = _changed(messages[1], bare)
    server = new_server()
    result = Replayer(server, user="test", password="secret").replay(messages)
    assert result.problems() == []
    assert [s.outcome for s in server.store.sessions("test")] == ["ok"]
    assert len(server.store.items("test", "Contacts")) == 2
