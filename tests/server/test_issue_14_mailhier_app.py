"""Issue 14 item 3 for Mail over HTTP: ``create_app(SYNCML_MAILDIR_ROOT=...)``
serves a client with hierarchical sync the account's whole folder tree, and a
message the client moves lands in the Maildir folder (XML, through the WSGI app)."""

from __future__ import annotations

from pathlib import Path

from syncml_codec.engine import ClientSession, ClientStore
from syncml_codec.mail import MaildirBackend, account_maildir
from syncml_codec.server import create_app

from ..engine.conftest import Clock
from .test_issue_12_app import database
from .test_issue_14_mailds_app import MAIL, call


def run(app: object, client: ClientStore) -> ClientSession:
    session = ClientSession(client, url="http://127.0.0.1:8000/sync", user="test", password="secret",
                            auth_type="basic", clock=Clock(), encoding="xml")
    request = session.start()
    for _ in range(20):
        following = session.receive(call(app, request.url, request.body, request.content_type))
        if following is None:
            break
        request = following
    assert session.ok, session.error
    return session


def test_issue_14_create_app_serves_the_mail_tree(tmp_path: Path) -> None:
    root = tmp_path / "mail"
    root.mkdir()
    box = MaildirBackend(account_maildir(root, "test"))
    box.create_folder("Archive/2024")
    box.add("INBOX", MAIL)
    app = create_app({"SYNCML_DB": database(tmp_path), "SYNCML_MAILDIR_ROOT": str(root),
                      "SYNCML_LOG_LEVEL": "warning"})
    try:
        client = ClientStore("test-tree")
        ds = client.add_datastore("./mail", "inbox", "application/vnd.omads-email+xml", "1.2", hierarchical=True)
        run(app, client)
        folders = {ds.path(luid): luid for luid, data in ds.items.items() if data.startswith(b"<Folder")}
        assert set(folders) == {"/INBOX", "/Archive", "/Archive/2024"}
        (mail,) = (luid for luid, data in ds.items.items() if not data.startswith(b"<Folder"))
        assert ds.parents[mail] == folders["/INBOX"]
        ds.update(mail, b"<Email><flagged>true</flagged></Email>")
        ds.move(mail, folders["/Archive/2024"])
        run(app, client)
        assert [m.flags for m in box.messages("Archive/2024")] == [frozenset({"flagged"})]
        assert box.messages("INBOX") == []
    finally:
        app.close()
