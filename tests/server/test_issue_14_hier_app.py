"""Issue 14, item 3 over HTTP: two of our client sessions sync a folder tree
of the Files datastore through the WSGI app (``create_app``), one with
``SupportHierarchicalSync`` and one without (the flat view)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from syncml_codec.engine import ClientSession, ClientStore
from syncml_codec.server import create_app
from syncml_codec.store import SQLiteStore

from ..engine.conftest import Clock
from .test_issue_12_app import database
from .test_issue_14_mailds_app import call

FILE = "application/vnd.omads-file+xml"


def sync(app: Any, client: ClientStore) -> ClientSession:
    session = ClientSession(client, url="http://127.0.0.1:8000/sync", user="test", password="secret",
                            auth_type="basic", clock=Clock())
    request = session.start()
    for _ in range(20):
        next_request = session.receive(call(app, request.url, request.body, request.content_type))
        if next_request is None:
            break
        request = next_request
    assert session.ok, session.error
    return session


def test_issue_14_a_folder_tree_over_http(tmp_path: Path) -> None:
    db = database(tmp_path)
    app = create_app({"SYNCML_DB": db, "SYNCML_LOG_LEVEL": "warning"})
    tree, flat = ClientStore("test-tree"), ClientStore("test-flat")
    files = tree.add_datastore("./files", "Files", FILE, "1.2", hierarchical=True)
    flat.add_datastore("./briefcase", "briefcase", FILE, "1.2")
    docs = files.add(b"<Folder><name>Docs</name></Folder>")
    work = files.add(b"<Folder><name>Work</name></Folder>", docs)
    report = files.add(b"<File><name>report.txt</name><body>q3</body></File>", work)
    assert sync(app, tree).reports["./files"].statuses == [201, 201, 201]
    files.move(report, docs)
    sync(app, tree)
    other = ClientStore("test-tree-2")
    copy = other.add_datastore("./files", "Files", FILE, "1.2", hierarchical=True)
    sync(app, other)
    assert sorted(copy.path(luid) for luid in copy.items) == ["/Docs", "/Docs/Work", "/Docs/report.txt"]
    sync(app, flat)
    assert list(flat.datastores["./briefcase"].items.values()) == [
        b"<File><name>report.txt</name><body>q3</body></File>"]
    store = SQLiteStore(db)
    try:
        by_guid = {i.guid: i for i in store.items("test", "Files")}
        (moved,) = [i for i in by_guid.values() if b"report.txt" in i.data]
        assert b"Docs" in by_guid[moved.parent].data
    finally:
        store.close()
