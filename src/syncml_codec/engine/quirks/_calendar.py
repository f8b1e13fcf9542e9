"""Tasks and events in one calendar datastore (behaviour
``tasks-in-calendar``): the device's calendar is one database holding
VEVENTs and VTODOs, the server keeps them apart (Events and Tasks, so every
other client finds its tasks under Tasks).

:class:`CalendarWithTasks` is the store as the device's calendar datastore
sees it: its items are the Events and the Tasks of the account, an item it
adds goes to Tasks when it is a VTODO and to Events otherwise, and a
replace or delete goes to wherever the item is.  Everything else (maps,
anchors, conflicts: the device's calendar is one LUID space) is the store's
own, under the calendar's name.  GUIDs are unique across datastores, so a
GUID says where an item lives."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from ...store.base import Store, StoredItem

__all__ = ["CalendarWithTasks", "calendar_view", "is_task"]

_CALENDAR, _TASKS = "Events", "Tasks"


def is_task(data: bytes) -> bool:
    """Whether an item is a to-do (a VTODO and no VEVENT)."""
    upper = data.upper()
    return b"BEGIN:VTODO" in upper and b"BEGIN:VEVENT" not in upper


class CalendarWithTasks:
    """``store`` with ``Events`` meaning "Events and Tasks" for items."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def _where(self, user: str, guid: str) -> str:
        return _TASKS if self._store.get_item(user, _TASKS, guid) is not None else _CALENDAR

    def items(self, user: str, datastore: str, include_deleted: bool = False) -> list[StoredItem]:
        found = self._store.items(user, datastore, include_deleted)
        if datastore == _CALENDAR:
            found += self._store.items(user, _TASKS, include_deleted)
        return found

    def item_heads(self, user: str, datastore: str, include_deleted: bool = False) -> list[StoredItem]:
        found = self._store.item_heads(user, datastore, include_deleted)
        if datastore == _CALENDAR:
            found += self._store.item_heads(user, _TASKS, include_deleted)
        return found

    def item_head(self, user: str, datastore: str, guid: str) -> StoredItem | None:
        item = self._store.item_head(user, datastore, guid)
        if item is None and datastore == _CALENDAR:
            item = self._store.item_head(user, _TASKS, guid)
        return item

    def iter_items(self, user: str, datastore: str, include_deleted: bool = False) -> Iterator[StoredItem]:
        yield from self._store.iter_items(user, datastore, include_deleted)
        if datastore == _CALENDAR:
            yield from self._store.iter_items(user, _TASKS, include_deleted)

    def get_item(self, user: str, datastore: str, guid: str) -> StoredItem | None:
        item = self._store.get_item(user, datastore, guid)
        if item is None and datastore == _CALENDAR:
            item = self._store.get_item(user, _TASKS, guid)
        return item

    def add_item(self, user: str, datastore: str, data: bytes, content_type: str,
                 modified: float = 0.0) -> StoredItem:
        if datastore == _CALENDAR and is_task(data):
            datastore = _TASKS
        return self._store.add_item(user, datastore, data, content_type, modified)

    def replace_item(self, user: str, datastore: str, guid: str, data: bytes, content_type: str,
                     modified: float = 0.0) -> StoredItem | None:
        if datastore == _CALENDAR:
            datastore = self._where(user, guid)
        return self._store.replace_item(user, datastore, guid, data, content_type, modified)

    def delete_item(self, user: str, datastore: str, guid: str, modified: float = 0.0) -> StoredItem | None:
        if datastore == _CALENDAR:
            datastore = self._where(user, guid)
        return self._store.delete_item(user, datastore, guid, modified)


def calendar_view(store: Store) -> Store:
    """``store`` as a calendar datastore that carries tasks sees it."""
    return cast(Store, CalendarWithTasks(store))
