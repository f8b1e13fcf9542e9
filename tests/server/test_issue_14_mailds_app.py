"""Issue 14: the Mail datastores as ``create_app`` (``SYNCML_MAILDIR_ROOT``)
and ``syncml serve --maildir-root`` set them up: our client session over
the WSGI app, the mail from the account's Maildir."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from wsgiref.util import setup_testing_defaults

import pytest

from syncml_codec.cli._main import main
from syncml_codec.engine import ClientSession, ClientStore
from syncml_codec.formats import EmailObject
from syncml_codec.mail import MaildirBackend, account_maildir
from syncml_codec.server import ConfigError, create_app

from ..engine.conftest import Clock
from .test_issue_12_app import database

MAIL = b"From: a@example.org\r\nSubject: hi\r\nMessage-ID: <1@example.org>\r\n\r\nhello\r\n"


def call(app: Any, url: str, body: bytes, content_type: str) -> bytes:
    parts = urlsplit(url)
    environ: dict[str, Any] = {"REQUEST_METHOD": "POST", "PATH_INFO": parts.path, "QUERY_STRING": parts.query,
                               "CONTENT_TYPE": content_type, "CONTENT_LENGTH": str(len(body)),
                               "wsgi.input": io.BytesIO(body), "HTTP_HOST": "127.0.0.1:8000"}
    setup_testing_defaults(environ)
    chunks = app(environ, lambda status, headers, exc_info=None: None)
    try:
        return b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()


def test_issue_14_create_app_serves_the_accounts_maildir(tmp_path: Path) -> None:
    root = tmp_path / "mail"
    root.mkdir()
    MaildirBackend(account_maildir(root, "test")).add("INBOX", MAIL, {"read"})
    app = create_app({"SYNCML_DB": database(tmp_path), "SYNCML_MAILDIR_ROOT": str(root),
                      "SYNCML_LOG_LEVEL": "warning"})
    try:
        client = ClientStore("test-app")
        client.add_datastore("./mail", "inbox", "application/vnd.omads-email+xml", "1.2")
        session = ClientSession(client, url="http://127.0.0.1:8000/sync", user="test", password="secret",
                                auth_type="basic", clock=Clock())
        request = session.start()
        for _ in range(20):
            answer = call(app, request.url, request.body, request.content_type)
            next_request = session.receive(answer)
            if next_request is None:
                break
            request = next_request
        assert session.ok
        (data,) = client.datastores["./mail"].items.values()
        obj = EmailObject.parse(data)
        assert obj.read is True and obj.emailitem == MAIL
    finally:
        app.close()


def test_issue_14_maildir_root_must_be_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ConfigError, match="SYNCML_MAILDIR_ROOT"):
        create_app({"SYNCML_DB": database(tmp_path), "SYNCML_MAILDIR_ROOT": str(tmp_path / "none")})
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--db", str(tmp_path / "x.db"), "--maildir-root", str(tmp_path / "none")])
    assert exit_.value.code == 2 and "--maildir-root" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    assert "--maildir-root" in capsys.readouterr().out
