"""Issue 13, item 10: datastore names are case-insensitive with IceWarp's
aliases, and an alias yields to an account folder of the same name
("Calendar is an alias of Events unless a folder named Calendar exists")."""

from __future__ import annotations

import pytest

from syncml_codec.store import canonical_datastore

NAMES = [
    # (name the client sends, the account's folders, the datastore)
    ("Calendar", (), "Events"),
    ("./CALENDAR", (), "Events"),
    ("calendar?sync=9", (), "Events"),
    ("Calendar", ("Calendar",), None),  # the folder's
    ("./calendar", ("CALENDAR", "Archive"), None),
    ("Calendar", ("Archive",), "Events"),
    ("Events", ("Events",), "Events"),  # a canonical name stays itself
    ("contacts", ("Contacts",), "Contacts"),
    ("Card", ("card",), None),
    ("addressbook", (), "Contacts"),
    ("Tasks", (), "Tasks"),
    ("Memo", (), "Notes"),
    ("Archive", ("Archive",), None),
]


@pytest.mark.parametrize(("name", "folders", "canonical"), NAMES)
def test_names_and_folders(name: str, folders: tuple[str, ...], canonical: str | None) -> None:
    assert canonical_datastore(name, folders=folders) == canonical
