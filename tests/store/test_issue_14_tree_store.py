"""Issue 14, item 3 in the store: an item's ``parent`` (the folder item that
contains it; "" the root), kept by add/replace (None keeps it: a move is a
replace with another parent under the same GUID), returned by
``items``/``get_item``; deleting a folder deletes what it contains (a
tombstone each); schema 10 migrates older items to the root."""

from __future__ import annotations

from typing import Any

from syncml_codec.store import SCHEMA_VERSION, open_store

from .conftest import rows

FOLDER = "application/vnd.omads-folder+xml"
FILE = "application/vnd.omads-file+xml"


def is_sqlite(store: Any) -> bool:
    return hasattr(store, "_db")


def test_issue_14_parent_kept_and_moved(store: Any) -> None:
    store.add_user("anna", "pw")
    top = store.add_item("anna", "Files", b"<Folder><name>top</name></Folder>", FOLDER)
    assert top.parent == ""
    inner = store.add_item("anna", "Files", b"<Folder><name>in</name></Folder>", FOLDER, parent=top.guid)
    f = store.add_item("anna", "Files", b"<File><name>f</name></File>", FILE, 5.0, parent=inner.guid)
    assert (inner.parent, f.parent) == (top.guid, inner.guid)
    assert store.get_item("anna", "Files", f.guid).parent == inner.guid
    assert {i.guid: i.parent for i in store.items("anna", "Files")} == {top.guid: "", inner.guid: top.guid,
                                                                        f.guid: inner.guid}
    assert store.item_parents("anna", "Files") == {top.guid: "", inner.guid: top.guid, f.guid: inner.guid}
    edited = store.replace_item("anna", "Files", f.guid, b"<File><name>g</name></File>", FILE)
    assert edited is not None and edited.parent == inner.guid  # None keeps it
    moved = store.replace_item("anna", "Files", f.guid, edited.data, FILE, parent=top.guid)
    assert moved is not None and moved.parent == top.guid and moved.rev > edited.rev and moved.guid == f.guid
    assert store.get_item("anna", "Files", f.guid).parent == top.guid
    to_root = store.replace_item("anna", "Files", f.guid, edited.data, FILE, parent="")
    assert to_root is not None and store.get_item("anna", "Files", f.guid).parent == ""
    # other datastores are untouched by all this (every item at the root)
    c = store.add_item("anna", "Contacts", b"BEGIN:VCARD\r\nEND:VCARD\r\n", "text/vcard")
    assert c.parent == "" and store.get_item("anna", "Contacts", c.guid).parent == ""


def test_issue_14_deleting_a_folder_deletes_what_it_holds(store: Any) -> None:
    store.add_user("anna", "pw")
    top = store.add_item("anna", "Files", b"<Folder><name>top</name></Folder>", FOLDER)
    inner = store.add_item("anna", "Files", b"<Folder><name>in</name></Folder>", FOLDER, parent=top.guid)
    deep = store.add_item("anna", "Files", b"<File><name>d</name></File>", FILE, parent=inner.guid)
    near = store.add_item("anna", "Files", b"<File><name>n</name></File>", FILE, parent=top.guid)
    other = store.add_item("anna", "Files", b"<File><name>o</name></File>", FILE)
    gone = store.delete_item("anna", "Files", top.guid, 9.0)
    assert gone is not None and gone.deleted and gone.guid == top.guid
    assert [i.guid for i in store.items("anna", "Files")] == [other.guid]
    dead = {i.guid: i for i in store.items("anna", "Files", include_deleted=True) if i.deleted}
    assert set(dead) == {top.guid, inner.guid, deep.guid, near.guid}
    assert all(i.data == b"" and i.modified == 9.0 for i in dead.values())
    assert dead[deep.guid].parent == inner.guid  # (a tombstone keeps its place: devices are told in order)
    assert store.item_parents("anna", "Files") == {other.guid: ""}
    assert store.delete_item("anna", "Files", top.guid) is None
    assert store.delete_item("anna", "Files", inner.guid) is None


def test_issue_14_schema_9_items_migrate_to_the_root(db_spec: str) -> None:
    store = open_store(db_spec)
    store.add_user("anna", "pw")
    store.add_item("anna", "Contacts", b"x", "text/plain")
    sqlite = is_sqlite(store)
    with store.transaction():
        if sqlite:  # (SQLite 3.35+ drops a column; the index on it first)
            for statement in ("DROP INDEX items_by_parent", "ALTER TABLE items DROP COLUMN parent",
                              "PRAGMA user_version=9"):
                store._exec(statement)
        else:
            for statement in ("DROP INDEX items_by_parent", "ALTER TABLE items DROP COLUMN parent",
                              "UPDATE schema_version SET version = 9"):
                store._exec(statement)
    store.close()
    again = open_store(db_spec)
    try:
        version = (again._db.execute("PRAGMA user_version").fetchone()[0] if sqlite
                   else rows(again, "schema_version")[0][0])
        assert version == SCHEMA_VERSION >= 10
        (old,) = again.items("anna", "Contacts")
        assert old.parent == "" and old.data == b"x"
        folder = again.add_item("anna", "Files", b"<Folder><name>a</name></Folder>", FOLDER)
        assert again.add_item("anna", "Files", b"<File/>", FILE, parent=folder.guid).parent == folder.guid
    finally:
        again.close()
