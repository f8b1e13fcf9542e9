"""Issue 14 item 2, the IMAP back end's own side: a server that is down,
stalls or refuses the login; the fallbacks without CONDSTORE and MOVE; the
reader of imaplib's raw answers on hostile input."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from syncml_codec.errors import MailError, MailUnavailableError
from syncml_codec.mail import INBOX, ImapBackend, Limits, MessageRef
from syncml_codec.mail._imapparse import fetch_items, list_lines
from syncml_codec.mail.imap import _internaldate

from .conftest import empty_imap, imap_url

MSG = b"From: a@example.org\r\nSubject: Hi\r\nMessage-ID: <imap1@example.org>\r\n\r\nHello\r\n"


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A socket that accepts connections (the kernel's backlog) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    try:
        yield sock
    finally:
        sock.close()


def test_a_server_that_is_down(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there any more
    with pytest.raises(MailUnavailableError, match="unreachable"):
        ImapBackend("127.0.0.1", port, "u", "p", limits=Limits(timeout=5))


def test_a_server_that_never_answers_times_out(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    with pytest.raises(MailUnavailableError):
        ImapBackend("127.0.0.1", port, "u", "p", limits=Limits(timeout=0.3))


def test_a_wrong_password() -> None:
    url = imap_url()
    with pytest.raises(MailUnavailableError, match="login"):
        ImapBackend.from_url(url.rsplit("@", 1)[0] + "-wrong@" + url.rsplit("@", 1)[1])


@pytest.mark.parametrize("url", ["http://x/", "imap://", "mailto:a@b", "imap://h:99999", "imap://h:x"])
def test_not_an_imap_url(url: str) -> None:
    with pytest.raises(MailError, match="URL"):
        ImapBackend.from_url(url)


def test_without_condstore_and_move() -> None:
    box = ImapBackend.from_url(imap_url(), use_condstore=False, use_move=False)
    other = ImapBackend.from_url(imap_url())
    try:
        empty_imap(box)
        box.create_folder("Archive")
        a = box.add(INBOX, MSG)
        b = box.add(INBOX, MSG.replace(b"imap1", b"imap2"))
        snap = box.snapshot()
        assert all(state.modseq == 0 for state in snap.folders.values())
        other.set_flags(INBOX, a, {"read"})
        c = other.add(INBOX, MSG.replace(b"imap1", b"imap3"))
        changes = box.changes(snap)
        assert (changes.changed, changes.added) == ((MessageRef(INBOX, a),), (MessageRef(INBOX, c),))
        moved = box.move(INBOX, b, "Archive")  # COPY + \Deleted + UID EXPUNGE
        assert [m.uid for m in box.messages("Archive")] == [moved]
        assert {m.uid for m in box.messages(INBOX)} == {a, c}
        assert box.changes(changes.snapshot).moved == ((MessageRef(INBOX, b), MessageRef("Archive", moved)),)
    finally:
        other.close()
        box.close()


def test_condstore_skips_an_unchanged_folder() -> None:
    box = ImapBackend.from_url(imap_url())
    try:
        empty_imap(box)
        assert box.condstore
        box.add(INBOX, MSG)
        snap = box.snapshot()
        assert snap.folders[INBOX].modseq > 0
        again = box.snapshot(snap)
        assert again.folders[INBOX] is snap.folders[INBOX]  # reused: nothing was fetched
    finally:
        box.close()


def test_a_recreated_folder_new_uidvalidity_pairs_by_fingerprint() -> None:
    box = ImapBackend.from_url(imap_url())
    try:
        empty_imap(box)
        box.create_folder("Tmp")
        when = _internaldate(b"17-May-2024 08:30:00 +0000")
        uid = box.add("Tmp", MSG, {"read"}, when)
        snap = box.snapshot()
        box.delete_folder("Tmp")
        box.create_folder("Tmp")
        new_uid = box.add("Tmp", MSG, {"read"}, when)
        assert snap.folders["Tmp"].validity != box.snapshot().folders["Tmp"].validity
        changes = box.changes(snap)
        assert changes.moved == ((MessageRef("Tmp", uid), MessageRef("Tmp", new_uid)),)
        assert changes.added == changes.removed == changes.changed == ()
    finally:
        box.close()


# -- the reader of imaplib's answers ----------------------------------------------------
def test_fetch_items_with_literals_and_nesting() -> None:
    data = [(b'3 (UID 12 RFC822.SIZE 44 BODY[HEADER.FIELDS (MESSAGE-ID)] {17}', b"Message-ID: <x>\r\n"),
            b' FLAGS (\\Seen $Forwarded) INTERNALDATE "17-May-2024 08:30:00 +0200")',
            b'4 (UID 13 FLAGS () X-GM "a \\"quoted\\" \\\\ one")']
    first, second = fetch_items(data)
    assert first == {"UID": b"12", "RFC822.SIZE": b"44", "BODY[HEADER.FIELDS (MESSAGE-ID)]": b"Message-ID: <x>\r\n",
                     "FLAGS": [b"\\Seen", b"$Forwarded"], "INTERNALDATE": b"17-May-2024 08:30:00 +0200"}
    assert second == {"UID": b"13", "FLAGS": [], "X-GM": b'a "quoted" \\ one'}
    assert _internaldate(first["INTERNALDATE"]).isoformat() == "2024-05-17T08:30:00+02:00"


@pytest.mark.parametrize("data", [
    [b"1 (UID 5 FLAGS (\\Seen)"],  # a list not closed
    [b"1 (UID 5 BODY[] {3}"],  # a literal announced, not carried
    [b"1 (UID 5 FLAGS)"],  # an odd number of items
    [b"1 " + b"(" * 40 + b")" * 40],  # nested too deep
    [b"1 (UID 5 \x00\x01 )"],
])
def test_hostile_fetch_answers_are_mail_errors(data: list[object]) -> None:
    with pytest.raises(MailError):
        fetch_items(data)


def test_list_lines() -> None:
    lines = list_lines([b'(\\HasNoChildren) "." INBOX', (b"(\\Noselect) NIL {5}", b"a b.c"),
                        b'() "/" "Entw&APw-rfe"'])
    assert lines == [([b"\\HasNoChildren"], b".", b"INBOX"), ([b"\\Noselect"], None, b"a b.c"),
                     ([], b"/", b"Entw&APw-rfe")]
    with pytest.raises(MailError):
        list_lines([b'(\\HasNoChildren) "."'])


@pytest.mark.parametrize("value", [b"", b"garbage", b"31-Feb-2024 00:00:00 +0000", b"01-Foo-2024 00:00:00 +0000"])
def test_a_bad_internaldate_is_the_epoch(value: bytes) -> None:
    assert _internaldate(value).timestamp() == 0


# -- a scripted server: what a hostile or failing one sends --------------------------------
class ScriptedServer:
    """Answers each command by its name from *script* (untagged lines, then the tagged OK);
    a command whose answer is None gets the connection closed."""

    def __init__(self, script: dict[str, bytes | None]) -> None:
        self.script = {"CAPABILITY": b"* CAPABILITY IMAP4rev1 UIDPLUS\r\n", "LOGIN": b"",
                       "LIST": b'* LIST (\\Noselect) "." ""\r\n', "LOGOUT": b"* BYE\r\n"} | script
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        import threading

        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn, conn.makefile("rb") as lines:
            conn.sendall(b"* OK [CAPABILITY IMAP4rev1] scripted\r\n")
            for line in lines:
                tag, command = line.split()[:2]
                if command.upper() == b"UID":
                    command = line.split()[2]
                answer = self.script.get(command.decode().upper(), b"")
                if answer is None:
                    return
                conn.sendall(answer + tag + b" OK done\r\n")

    def close(self) -> None:
        self.sock.close()
        self.thread.join(timeout=10)


SELECT = b"* 1 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT 2] ok\r\n"


def test_a_literal_over_the_limit_is_refused_before_it_is_read() -> None:
    server = ScriptedServer({"EXAMINE": SELECT, "FETCH": b"* 1 FETCH (UID 1 BODY[] {999999999}\r\n"})
    try:
        box = ImapBackend("127.0.0.1", server.port, "u", "p", limits=Limits(max_message_bytes=1000, timeout=5))
        with pytest.raises(MailError, match="literal of 999999999 bytes"):
            box.fetch(INBOX, "1", headers_only=True)
        with pytest.raises(MailUnavailableError):  # closed: the literal is still in the stream
            box.messages(INBOX)
        box.close()
    finally:
        server.close()


def test_a_lying_size_does_not_let_a_big_message_through() -> None:
    server = ScriptedServer({"EXAMINE": SELECT, "FETCH": b"* 1 FETCH (UID 1 RFC822.SIZE 2000000)\r\n"})
    try:
        box = ImapBackend("127.0.0.1", server.port, "u", "p", limits=Limits(max_message_bytes=1000, timeout=5))
        with pytest.raises(MailError, match="over the limit"):
            box.fetch(INBOX, "1")
        box.close()
    finally:
        server.close()


def test_a_connection_dropped_mid_session() -> None:
    server = ScriptedServer({"EXAMINE": None})
    try:
        box = ImapBackend("127.0.0.1", server.port, "u", "p", limits=Limits(timeout=5))
        assert box.delimiter == "."
        with pytest.raises(MailUnavailableError):
            box.messages(INBOX)
        box.close()  # quietly, the connection being gone
    finally:
        server.close()


def test_too_many_messages_in_a_folder() -> None:
    server = ScriptedServer({"EXAMINE": b"* 5000001 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n"})
    try:
        box = ImapBackend("127.0.0.1", server.port, "u", "p", limits=Limits(max_messages=1000, timeout=5))
        with pytest.raises(MailError, match="more than 1000 messages"):
            box.messages(INBOX)
        box.close()
    finally:
        server.close()
