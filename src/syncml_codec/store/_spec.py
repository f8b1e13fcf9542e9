"""Where a store is: ``--db`` and ``SYNCML_DB`` take a path or a URL
(:func:`database_path`), and show it without its password
(:func:`display_database`)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

__all__ = ["database_path", "display_database"]

_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_POSTGRES = ("postgresql", "postgres")


def database_path(spec: str) -> str | None:
    """The SQLite file (or ``:memory:``) ``spec`` names, None for a
    PostgreSQL URL; :class:`ValueError` for any other URL.  A URL
    ``sqlite:///REST`` names the path REST as written, so an absolute path
    takes four slashes (as SQLAlchemy has it).

    >>> database_path("sync.db"), database_path("sqlite:///:memory:"), database_path("sqlite:////var/sync.db")
    ('sync.db', ':memory:', '/var/sync.db')
    >>> database_path("postgresql://syncml@db/syncml") is None
    True
    """
    match = _URL.match(spec)
    if match is None:
        return spec
    scheme = match.group(1).lower()
    if scheme in _POSTGRES:
        return None
    if scheme == "sqlite" and spec[len("sqlite://"):].startswith("/") and len(spec) > len("sqlite:///"):
        return spec[len("sqlite:///"):]
    raise ValueError("not a database URL this server knows (a path, sqlite:///PATH or "
                     "postgresql://USER@HOST/DATABASE)")


def display_database(spec: str) -> str:
    """``spec`` as logs and messages show it: a URL without its password.

    >>> display_database("postgresql://syncml:s3cret@db/syncml"), display_database("sync.db")
    ('postgresql://syncml@db/syncml', 'sync.db')
    """
    if _URL.match(spec) is None:
        return spec
    parts = urlsplit(spec)
    userinfo, at, hosts = parts.netloc.rpartition("@")
    netloc = f"{userinfo.split(':', 1)[0]}@{hosts}" if at else hosts
    query = "&".join(p for p in parts.query.split("&") if not p.lower().startswith("password="))
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
