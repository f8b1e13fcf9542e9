"""What every command with ``--db`` shares: the default database, the
flag's help, and opening the store it names with a one-line error."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..store import database_path, display_database, open_store
from ._common import CommandError

if TYPE_CHECKING:
    from ..store import PostgresStore, SQLiteStore

__all__ = ["DB_HELP", "DEFAULT_DB", "_open_store"]

DEFAULT_DB = "syncml.db"


def _open_store(spec: str, must_exist: bool = False) -> SQLiteStore | PostgresStore:
    """The store ``--db`` names (a path, ``sqlite:///PATH`` or a PostgreSQL
    URL), or a :class:`CommandError` of one line that never shows the URL's
    password.  ``must_exist``: an SQLite file that is missing is an error,
    not created (a PostgreSQL database is there or unreachable)."""
    shown = display_database(spec)
    try:
        path = database_path(spec)
    except ValueError as exc:
        raise CommandError(f"{shown}: {exc}") from None
    if path is not None and path != ":memory:":
        if must_exist and not Path(path).is_file():
            raise CommandError(f"{shown}: no such database (syncml user add creates it)")
        parent = Path(path).resolve().parent
        if not parent.is_dir():
            raise CommandError(f"{shown}: folder {parent} does not exist")
    try:
        return open_store(spec)
    except Exception as exc:  # sqlite3.Error, a newer schema, a file that is no database, no server
        raise CommandError(f"{shown}: {exc}") from None


#: what ``--db`` takes, for every command that has it
DB_HELP = (f"the database: an SQLite file (a path or sqlite:///PATH; default ./{DEFAULT_DB}, created by "
           "'syncml user add' and 'syncml serve' if missing) or a PostgreSQL URL postgresql://USER:PASSWORD@HOST/DB "
           "(the postgresql extra; the password is never shown)")
