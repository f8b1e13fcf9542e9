"""Issue 14, item 4 on the Mail datastores: IceWarp's mail filters end to end
with our client session on an account's Maildir (and Dovecot): headers only
(the body fetched on request, ``<truncated>`` saying what is left out, no
message read whole to send heads), the last N days, up to N bytes, a filter
change (items leaving the window removed from the client, never from the
Maildir); a 5 MB attachment through MoreData under a 20 kB MaxMsgSize, both
ways, in both email formats, in XML and WBXML."""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from syncml_codec.engine import ClientSession, ClientStore, ServerLimits, SyncServer
from syncml_codec.filters import SIZE_EXT, MailFilter, fetch_filter
from syncml_codec.formats import EmailObject, LeftOut, Truncated
from syncml_codec.mail import MailBackend, MaildirBackend, account_maildir
from syncml_codec.mail.maildir import header_block
from syncml_codec.model import Filter
from syncml_codec.store import SQLiteStore

from .conftest import Clock, counter_random

EMI, RFC822 = "application/vnd.omads-email+xml", "message/rfc822"
NOW = datetime(2023, 11, 20, 12, 0, tzinfo=timezone.utc)


def message(n: int, body: str = "hello", *, attachment: bytes | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"] = f"sender{n}@example.org", "test@example.org"
    msg["Subject"], msg["Message-ID"] = f"message {n}", f"<m{n}@example.org>"
    msg["Date"] = "Tue, 14 Nov 2023 22:13:00 +0000"
    msg.set_content(f"{body} {n}\n")
    if attachment is not None:
        msg.add_attachment(attachment, maintype="application", subtype="octet-stream", filename=f"file{n}.bin")
    return bytes(msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")))


class Counting:
    """A back end that counts whole reads and header-block reads."""

    def __init__(self, inner: MailBackend) -> None:
        self.inner = inner
        self.whole = 0
        self.heads = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def fetch(self, folder: str, uid: str, *, headers_only: bool = False) -> bytes:
        if headers_only:
            self.heads += 1
        else:
            self.whole += 1
        return self.inner.fetch(folder, uid, headers_only=headers_only)


@pytest.fixture
def store(both_stores: Any) -> Any:
    return both_stores


@pytest.fixture
def box(tmp_path: Path) -> MaildirBackend:
    return MaildirBackend(account_maildir(tmp_path / "mail", "test"))


def server_on(store: Any, backend: Any, **kwargs: Any) -> SyncServer:
    return SyncServer(store, clock=Clock(), random_source=counter_random(), base_url="http://127.0.0.1:8080/sync",
                      mail=lambda user: backend, **kwargs)


def phone(name: str, ctype: str = EMI) -> ClientStore:
    client = ClientStore(f"test-{name}")
    client.add_datastore("./mail", "Mail", ctype, "1.2" if ctype == EMI else "1.0")
    return client


def run(server: SyncServer, client: ClientStore, flt: Filter[Any] | None = None, *, encoding: str = "wbxml",
        max_msg_size: int = 150000, max_obj_size: int = 4_000_000, max_messages: int = 60) -> ClientSession:
    session = ClientSession(client, url=server.base_url, user="test", password="secret", clock=Clock(),
                            encoding=encoding, max_msg_size=max_msg_size, max_obj_size=max_obj_size,
                            filters={"./mail": flt} if flt is not None else None)
    request = session.start()
    for _ in range(max_messages):
        sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
        response = server.handle(request.body, request.content_type, sid)
        assert response.http_status == 200
        following = session.receive(response.body, response.content_type)
        if following is None:
            assert session.ok, session.error
            return session
        request = following
    raise AssertionError("the session did not end")


def held(client: ClientStore) -> dict[str, bytes]:
    return client.datastores["./mail"].items


def by_subject(client: ClientStore) -> dict[str, EmailObject]:
    out = {}
    for data in held(client).values():
        obj = EmailObject.parse(data)
        out[str(obj.to_rfc822().message["Subject"])] = obj
    return out


def luid_of(client: ClientStore, subject: str) -> str:
    for luid, data in held(client).items():
        if EmailObject.parse(data).to_rfc822().message["Subject"] == subject:
            return luid
    raise KeyError(subject)


def _lf(data: bytes | None) -> bytes:
    return (data or b"").replace(b"\r\n", b"\n")


def stored(box: MailBackend, folder: str = "INBOX") -> list[bytes]:
    return sorted(_lf(box.fetch(folder, m.uid)) for m in box.messages(folder))


# -- headers only ---------------------------------------------------------------------------
def test_issue_14_mail_headers_only_then_fetch_whole(store: Any, box: MaildirBackend) -> None:
    """A headers-only first sync reads no message whole and tells the client what it lacks;
    the client fetches one whole by an INCLUSIVE ``&LUID;`` filter; a flag change behind the
    server's back reaches it as a truncated Replace and the device keeps the body it fetched."""
    plain, attached = message(1, "x" * 3000), message(2, attachment=os.urandom(5000))
    box.add("INBOX", plain, (), NOW - timedelta(days=1))
    box.add("INBOX", attached, {"read"}, NOW - timedelta(days=1))
    counting = Counting(box)
    server = server_on(store, counting)
    client = phone("heads")
    headers_only = MailFilter(headers_only=True).to_filter(NOW)
    session = run(server, client, headers_only)
    assert session.reports["./mail"].received == {"Add": 2}
    assert counting.whole == 0 and counting.heads >= 2  # no message read whole to send heads
    got = by_subject(client)
    for subject, raw in (("message 1", plain), ("message 2", attached)):
        obj = got[subject]
        head = header_block(raw)
        assert _lf(obj.emailitem) == _lf(head)
        assert obj.truncated is not None and obj.truncated.body is not None
        assert obj.truncated.body.size == len(raw) - len(head)
        assert (SIZE_EXT, (str(len(raw)),)) in obj.ext
    assert got["message 1"].truncated == Truncated(body=LeftOut(len(plain) - len(header_block(plain)), "text/plain"))
    assert got["message 2"].read is True and got["message 1"].read is False
    # the device fetches message 2 whole (its LUID in an INCLUSIVE filter): a Replace with the message
    luid = luid_of(client, "message 2")
    session = run(server, client, fetch_filter(luid))
    assert session.reports["./mail"].received == {"Replace": 1}
    obj = EmailObject.parse(held(client)[luid])
    assert obj.emailitem == attached and obj.truncated is None
    assert counting.whole == 1
    # a flag change behind the server's back: a truncated Replace; the device keeps the whole message
    (info,) = [m for m in box.messages("INBOX") if m.flags == {"read"}]
    box.set_flags("INBOX", info.uid, {"read", "flagged"})
    session = run(server, client, headers_only)
    assert session.reports["./mail"].received == {"Replace": 1}
    obj = EmailObject.parse(held(client)[luid])
    assert obj.flagged is True and obj.emailitem == attached and obj.truncated is None
    # nothing moves when nothing changed; the Maildir is as delivered
    assert run(server, client, headers_only).reports["./mail"].received == {}
    assert stored(box) == sorted(map(_lf, (plain, attached)))


def test_issue_14_mail_truncated_copy_changes_flags_only(store: Any, box: MaildirBackend) -> None:
    """The device marks a headers-only mail read and sends back the copy it holds (with
    ``<truncated>``, or in RFC 822 the header block): the flag reaches the Maildir, the message
    stays whole; a truncated copy is never stored as a new message."""
    raw = message(3, "body " * 500)
    uid = box.add("INBOX", raw, (), NOW)
    server = server_on(store, box)
    headers_only = MailFilter(headers_only=True).to_filter(NOW)
    emi, rfc = phone("t-emi"), phone("t-rfc", RFC822)
    run(server, emi, headers_only)
    run(server, rfc, MailFilter(headers_only=True).to_filter(NOW, RFC822))
    ((luid, data),) = held(emi).items()
    obj = EmailObject.parse(data)
    obj.read = True
    emi.datastores["./mail"].update(luid, obj.serialize())
    assert run(server, emi, headers_only).reports["./mail"].statuses == [200]
    (info,) = box.messages("INBOX")
    assert info.flags == {"read"} and box.fetch("INBOX", uid) == raw
    rfc_heads = MailFilter(headers_only=True).to_filter(NOW, RFC822)
    assert run(server, rfc, rfc_heads).reports["./mail"].received == {"Replace": 1}  # (the flag's new revision)
    ((luid, data),) = held(rfc).items()
    assert _lf(data) == _lf(header_block(raw))
    rfc.datastores["./mail"].update(luid, data)
    assert run(server, rfc, rfc_heads).reports["./mail"].statuses == [200]
    assert [_lf(box.fetch("INBOX", m.uid)) for m in box.messages("INBOX")] == [_lf(raw)]
    # a truncated object that matches nothing (a slow sync of another device's copy): 400, nothing stored
    other = phone("t-other")
    other.datastores["./mail"].add(obj.serialize().replace(b"message 3", b"message 99"))
    session = run(server, other)
    assert 400 in session.reports["./mail"].statuses
    assert len(box.messages("INBOX")) == 1


# -- last N days, up to N bytes, a filter change ------------------------------------------
def dated(box: MailBackend, days: Iterable[int]) -> dict[int, bytes]:
    out = {}
    for n, age in enumerate(days, start=1):
        out[age] = message(n)
        box.add("INBOX", out[age], (), NOW - timedelta(days=age, hours=1))
    return out


def subjects(client: ClientStore) -> list[str]:
    return sorted(by_subject(client))


def test_issue_14_mail_last_n_days_and_filter_change(store: Any, box: MaildirBackend) -> None:
    """Messages of the last 7 days; widened to 60 days the older one is added; narrowed again it
    is removed from the device, never from the Maildir; no filter: everything."""
    dated(box, (2, 30, 90))
    server = server_on(store, box)
    client = phone("days")
    run(server, client, MailFilter(days=7).to_filter(NOW))
    assert subjects(client) == ["message 1"]
    session = run(server, client, MailFilter(days=60).to_filter(NOW))
    assert session.reports["./mail"].received == {"Add": 1} and subjects(client) == ["message 1", "message 2"]
    session = run(server, client, MailFilter(days=7).to_filter(NOW))
    assert session.reports["./mail"].received == {"Delete": 1} and subjects(client) == ["message 1"]
    assert len(box.messages("INBOX")) == 3 and len(store.items("test", "Mail")) == 3
    session = run(server, client)  # no filter: the whole folder
    assert session.reports["./mail"].received == {"Add": 2} and len(held(client)) == 3
    # a device's own new mail outside the window stays on it and lands in the Maildir
    client.datastores["./mail"].add(EmailObject.from_rfc822(message(7), received=NOW - timedelta(days=400))
                                    .serialize())
    session = run(server, client, MailFilter(days=7).to_filter(NOW))
    assert len(box.messages("INBOX")) == 4 and "message 7" in subjects(client)


def test_issue_14_mail_up_to_n_bytes(store: Any, box: MaildirBackend) -> None:
    """Messages up to 10,000 bytes; with headers only the whole message's size counts, not the
    header block's; a message grown past the limit on the server leaves the device only."""
    small, big = message(1), message(2, "y" * 20000)
    box.add("INBOX", small, (), NOW)
    box.add("INBOX", big, (), NOW)
    server = server_on(store, box)
    client, heads = phone("size"), phone("size-heads")
    run(server, client, MailFilter(max_size=10_000).to_filter(NOW))
    assert subjects(client) == ["message 1"] and EmailObject.parse(next(iter(held(client).values()))).emailitem == small
    counting = Counting(box)
    run(server_on(store, counting), heads, MailFilter(headers_only=True, max_size=10_000).to_filter(NOW))
    assert subjects(heads) == ["message 1"] and counting.whole == 0
    session = run(server, client, MailFilter(max_size=30_000).to_filter(NOW))
    assert session.reports["./mail"].received == {"Add": 1}
    session = run(server, client, MailFilter(max_size=10_000).to_filter(NOW))
    assert session.reports["./mail"].received == {"Delete": 1} and subjects(client) == ["message 1"]
    assert stored(box) == sorted(map(_lf, (small, big)))


@pytest.fixture
def backend(mail_backend: MailBackend) -> MailBackend:
    return mail_backend


def test_issue_14_mail_filters_on_each_backend(backend: MailBackend) -> None:
    """Headers only plus the last 7 days on a Maildir and on Dovecot: the heads come from the
    back end's header reads, the fetch brings the message whole, the old one never comes."""
    store = SQLiteStore(":memory:")
    store.add_user("test", "secret")
    recent, old = message(1, "z" * 4000), message(2)
    backend.add("INBOX", recent, (), NOW - timedelta(days=1))
    backend.add("INBOX", old, (), NOW - timedelta(days=20))
    counting = Counting(backend)
    server = server_on(store, counting)
    client = phone("each")
    flt = MailFilter(headers_only=True, days=7).to_filter(NOW)
    run(server, client, flt)
    ((luid, data),) = held(client).items()
    obj = EmailObject.parse(data)
    assert _lf(obj.emailitem) == _lf(header_block(recent)) and obj.truncated is not None
    assert counting.whole == 0
    run(server, client, fetch_filter(luid))
    assert _lf(EmailObject.parse(held(client)[luid]).emailitem) == _lf(recent)
    assert len(backend.messages("INBOX")) == 2


# -- a 5 MB attachment through MoreData ------------------------------------------------------
@pytest.mark.parametrize("encoding", ["xml", "wbxml"])
@pytest.mark.parametrize("ctype", [EMI, RFC822])
def test_issue_14_mail_large_attachment_both_ways(box: MaildirBackend, ctype: str, encoding: str) -> None:
    """A 5 MB attachment under a 20 kB MaxMsgSize on both sides: delivered into the Maildir it
    reaches the device byte for byte; added on the device it lands in the Maildir byte for byte."""
    store = SQLiteStore(":memory:")
    store.add_user("test", "secret")
    big = message(1, attachment=os.urandom(5 * 1024 * 1024))
    limits = ServerLimits(max_obj_size=16 * 1024 * 1024, max_pending_size=32 * 1024 * 1024)
    server = server_on(store, box, max_msg_size=20_000, limits=limits)
    box.add("INBOX", big, (), NOW)
    client = phone(f"big-{encoding}", ctype)
    session = run(server, client, encoding=encoding, max_msg_size=20_000, max_obj_size=16 * 1024 * 1024,
                  max_messages=2000)
    assert session.msg_id > 100 and len(held(client)) == 1
    (data,) = held(client).values()
    assert (EmailObject.parse(data).emailitem if ctype == EMI else data) == big
    # the other way: the device's new mail with a 5 MB attachment
    sent = message(2, attachment=os.urandom(5 * 1024 * 1024))
    client.datastores["./mail"].add(EmailObject.from_rfc822(sent, read=True).serialize() if ctype == EMI else sent)
    session = run(server, client, encoding=encoding, max_msg_size=20_000, max_obj_size=16 * 1024 * 1024,
                  max_messages=2000)
    assert session.reports["./mail"].statuses == [201]
    assert sorted(box.fetch("INBOX", m.uid) for m in box.messages("INBOX")) == sorted((big, sent))


# -- the pieces ----------------------------------------------------------------------------
def test_issue_14_truncated_element_round_trip_and_bad_input() -> None:
    from syncml_codec.errors import FormatError
    from syncml_codec.filters import truncation

    t = Truncated(body=LeftOut(120, "text/plain"), attachments=(LeftOut(5000, "application/pdf", "a.pdf"),))
    obj = EmailObject.from_rfc822(b"Subject: x\r\n\r\n", read=True)
    obj.truncated = t
    again = EmailObject.parse(obj.serialize())
    assert again.truncated == t and again == obj
    assert b"</emailitem><truncated><attach><name>a.pdf</name>" in obj.serialize()
    for bad in (b"<truncated><body><type>x</type></body></truncated>", b"<truncated><foo/></truncated>",
                b"<truncated><body><size>-1</size></body></truncated>"):
        with pytest.raises(FormatError):
            EmailObject.parse(b"<Email>" + bad + b"</Email>")
    # what a field filter left out: the attachment by name, size and type; the text is whole
    raw = message(5, "text", attachment=b"\0" * 3000)
    from syncml_codec.filters import reduce_message

    reduced, cut = reduce_message(raw, attachments=False)
    assert cut
    (att,) = truncation(raw, reduced).attachments
    assert att.name == "file5.bin" and att.type == "application/octet-stream" and att.size >= 4000
    assert truncation(raw, reduced).body is None


def test_issue_14_size_filter_reads_the_whole_size() -> None:
    from syncml_codec.filters import ItemFilter
    from syncml_codec.formats import parse

    head = EmailObject.from_rfc822(b"Subject: x\r\n\r\n", ext=[(SIZE_EXT, ("50000",))]).serialize()
    item = parse(head, EMI)
    assert not ItemFilter.from_cgi("size&LE;10000").matches(item)
    assert ItemFilter.from_cgi("size&GE;50000").matches(item)


def test_issue_14_client_keeps_the_body_it_fetched() -> None:
    from syncml_codec.engine.client import _kept_whole

    whole = EmailObject.from_rfc822(message(1), read=False).serialize()
    heads = EmailObject.from_rfc822(header_block(message(1)), read=True, flagged=True)
    heads.truncated = Truncated(body=LeftOut(10))
    kept = EmailObject.parse(_kept_whole(whole, heads.serialize()))
    assert kept.emailitem == message(1) and kept.read is True and kept.flagged is True and kept.truncated is None
    flags_only = EmailObject.parse(_kept_whole(whole, b"<Email><read>true</read></Email>"))
    assert flags_only.emailitem == message(1) and flags_only.read is True
    other = EmailObject.from_rfc822(header_block(message(2)))
    other.truncated = Truncated(body=LeftOut(10))
    assert _kept_whole(whole, other.serialize()) == other.serialize()  # another message: replaced
    assert _kept_whole(b"not xml", b"<Email/>") == b"<Email/>"


def test_issue_14_maildir_header_reads_stop_at_the_blank_line(box: MaildirBackend) -> None:
    big = b"Subject: big\r\n\r\n" + b"x" * 200_000
    uid = box.add("INBOX", big)
    assert box.fetch("INBOX", uid, headers_only=True) == b"Subject: big\r\n\r\n"
    long_head = b"".join(b"X-H%d: %s\r\n" % (n, b"v" * 100) for n in range(400)) + b"\r\nbody\r\n"
    uid = box.add("INBOX", long_head)  # a header block longer than one read
    assert box.fetch("INBOX", uid, headers_only=True) == long_head[:-len(b"body\r\n")]
    no_body = b"Subject: none\r\n" * 3000
    uid = box.add("INBOX", no_body)
    assert box.fetch("INBOX", uid, headers_only=True) == no_body


def test_issue_14_mail_record_filters_read_what_they_name(store: Any, box: MaildirBackend) -> None:
    """A filter on the internal date, size or flags is tested on the references alone (no file
    read for a message not sent); one on a header reads header blocks only."""
    dated(box, (2, 30))
    counting = Counting(box)
    server = server_on(store, counting)
    client = phone("names")
    days = MailFilter(days=7, max_size=100_000).to_filter(NOW)
    run(server, client, days)
    assert subjects(client) == ["message 1"] and (counting.heads, counting.whole) == (0, 1)
    run(server, client, days)
    assert (counting.heads, counting.whole) == (0, 1)  # nothing to send: nothing read
    from .test_issue_14_filterds import cgi

    other = phone("names-subject")
    run(server, other, cgi("Subject&CON;message 2", ctype=EMI))
    assert subjects(other) == ["message 2"] and counting.heads >= 2 and counting.whole == 2
