"""Layer 4: storage behind one protocol (:class:`Store`), with the SQLite
implementation every deployment uses (:class:`SQLiteStore`)."""

from .base import (
    ALIASES,
    DATASTORES,
    Account,
    Anchors,
    Conflict,
    Device,
    DeviceFormat,
    MapEntry,
    SessionRecord,
    Store,
    StoredItem,
    canonical_datastore,
)
from .sqlite import SCHEMA_VERSION, SQLiteStore

__all__ = [
    "ALIASES",
    "DATASTORES",
    "SCHEMA_VERSION",
    "Account",
    "Anchors",
    "Conflict",
    "Device",
    "DeviceFormat",
    "MapEntry",
    "SQLiteStore",
    "SessionRecord",
    "Store",
    "StoredItem",
    "canonical_datastore",
]
