"""Layer 4: storage behind one protocol (:class:`Store`), on SQLite
(:class:`SQLiteStore`, the default: one file, no server) or PostgreSQL
(:class:`PostgresStore`, with the ``postgresql`` extra: ``pip install
syncml-codec[postgresql]``); :func:`open_store` opens either from a path or
URL, as ``--db`` and ``SYNCML_DB`` give them.  :mod:`.backups`: the files
of ``?backup`` sync sessions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import backups
from ._spec import database_path, display_database
from .base import (
    ALIASES,
    AUTH_POLICIES,
    DATASTORES,
    TREE_DATASTORES,
    Account,
    Anchors,
    Conflict,
    DatastoreState,
    Device,
    DeviceFormat,
    LiveSession,
    MapEntry,
    PushTarget,
    ResumePoint,
    SessionRecord,
    Store,
    StoredItem,
    account_domain,
    canonical_datastore,
    normal_domain,
)
from .sqlite import SCHEMA_VERSION, SQLiteStore

if TYPE_CHECKING:
    from .postgres import PostgresStore

__all__ = [
    "ALIASES",
    "AUTH_POLICIES",
    "DATASTORES",
    "SCHEMA_VERSION",
    "TREE_DATASTORES",
    "Account",
    "Anchors",
    "Conflict",
    "DatastoreState",
    "Device",
    "DeviceFormat",
    "LiveSession",
    "MapEntry",
    "PostgresStore",
    "PushTarget",
    "ResumePoint",
    "SQLiteStore",
    "SessionRecord",
    "Store",
    "StoredItem",
    "account_domain",
    "backups",
    "canonical_datastore",
    "database_path",
    "display_database",
    "normal_domain",
    "open_store",
]

def __getattr__(name: str) -> Any:
    # PostgresStore imports psycopg, which only the ``postgresql`` extra installs
    if name == "PostgresStore":
        from .postgres import PostgresStore

        return PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    # the lazy name too, so that dir() (and Sphinx's autodoc, which lists members by it) finds it
    return sorted({*globals(), "PostgresStore"})


def open_store(spec: str) -> SQLiteStore | PostgresStore:
    """The store ``spec`` names: a path, ``sqlite:///PATH`` or
    ``sqlite:///:memory:`` (:class:`SQLiteStore`), or ``postgresql://...``
    / ``postgres://...`` (:class:`PostgresStore`, a libpq URL).  Any other
    URL is a :class:`ValueError`; a database that cannot be opened raises
    what its driver raises (:class:`sqlite3.Error`; for PostgreSQL
    :class:`ConnectionError`), :class:`RuntimeError` for a newer schema
    or a missing psycopg.

    >>> open_store("sqlite:///:memory:").users()
    []
    """
    path = database_path(spec)
    if path is not None:
        return SQLiteStore(path)
    try:
        from .postgres import PostgresStore
    except ImportError as exc:
        raise RuntimeError(f"PostgreSQL needs psycopg ({exc}): pip install 'syncml-codec[postgresql]'") from exc
    return PostgresStore(spec)
