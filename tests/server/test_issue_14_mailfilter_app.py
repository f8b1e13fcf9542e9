"""Issue 14, item 4 over HTTP: IceWarp's mail filters against ``create_app``
(``SYNCML_MAILDIR_ROOT``) with our client session through the WSGI app:
headers only, the body fetched on request, the last N days, a flag set on the
device reaching the Maildir file."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from syncml_codec.engine import ClientSession, ClientStore
from syncml_codec.filters import MailFilter, fetch_filter
from syncml_codec.formats import EmailObject
from syncml_codec.mail import MaildirBackend, account_maildir
from syncml_codec.mail.maildir import header_block
from syncml_codec.model import Filter
from syncml_codec.server import create_app

from ..engine.conftest import Clock
from .test_issue_12_app import database
from .test_issue_14_mailds_app import call

NOW = datetime(2023, 11, 20, 12, tzinfo=timezone.utc)


def mail(n: int, body: str) -> bytes:
    return (f"From: a{n}@example.org\r\nSubject: mail {n}\r\nMessage-ID: <{n}@example.org>\r\n\r\n{body}\r\n"
            .encode())


def session(app: Any, client: ClientStore, flt: Filter[Any], encoding: str) -> ClientSession:
    s = ClientSession(client, url="http://127.0.0.1:8000/sync", user="test", password="secret", auth_type="basic",
                      clock=Clock(), encoding=encoding, filters={"./mail": flt})
    request = s.start()
    for _ in range(30):
        following = s.receive(call(app, request.url, request.body, request.content_type))
        if following is None:
            break
        request = following
    assert s.ok, s.error
    return s


def test_issue_14_mail_filters_over_http(tmp_path: Path) -> None:
    root = tmp_path / "mail"
    root.mkdir()
    box = MaildirBackend(account_maildir(root, "test"))
    recent, old = mail(1, "a" * 5000), mail(2, "old")
    box.add("INBOX", recent, (), NOW - timedelta(days=2))
    box.add("INBOX", old, (), NOW - timedelta(days=40))
    app = create_app({"SYNCML_DB": database(tmp_path), "SYNCML_MAILDIR_ROOT": str(root),
                      "SYNCML_LOG_LEVEL": "warning"})
    try:
        client = ClientStore("test-app-filter")
        ds = client.add_datastore("./mail", "inbox", "application/vnd.omads-email+xml", "1.2")
        heads = MailFilter(headers_only=True, days=7).to_filter(NOW)
        assert session(app, client, heads, "xml").reports["./mail"].received == {"Add": 1}
        ((luid, data),) = ds.items.items()
        obj = EmailObject.parse(data)
        assert obj.emailitem == header_block(recent) and obj.truncated is not None
        # the body on request (WBXML this time), then a flag set on the device
        assert session(app, client, fetch_filter(luid), "wbxml").reports["./mail"].received == {"Replace": 1}
        assert EmailObject.parse(ds.items[luid]).emailitem == recent
        ds.update(luid, b"<Email><read>true</read></Email>")
        assert session(app, client, heads, "wbxml").reports["./mail"].statuses == [200]
        (info,) = [m for m in box.messages("INBOX") if box.fetch("INBOX", m.uid) == recent]
        assert info.flags == {"read"} and len(box.messages("INBOX")) == 2
    finally:
        app.close()
