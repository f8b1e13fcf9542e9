"""The store tests run on every store, as the wbxml tests run on both
implementations: the ``store`` fixture is parametrized over SQLite and
PostgreSQL (``db_spec`` gives the ``--db`` value of a fresh, empty database
for tests that open it more than once, in threads or processes).

PostgreSQL needs a server: its URL comes from ``SYNCML_TEST_POSTGRES`` (a
role that may create schemas in that database, e.g.
``postgresql://syncml:syncml@127.0.0.1/syncml_test``).  Unset, the
PostgreSQL half is skipped, unless ``SYNCML_CODEC_REQUIRE_POSTGRES=1``
(CI), where that is a failure.  Each test gets a schema of its own
(``search_path`` set in the URL), dropped after it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from syncml_codec.store import SQLiteStore, open_store

POSTGRES_URL = os.environ.get("SYNCML_TEST_POSTGRES", "")
REQUIRE_POSTGRES = os.environ.get("SYNCML_CODEC_REQUIRE_POSTGRES", "") not in ("", "0")

#: the tables both stores have (a store may have more)
TABLES = ("users", "devices", "items", "anchors", "maps", "device_formats", "sessions", "conflicts")


def postgres_url() -> str:
    """The test server's URL; skips (or fails, when required) without one."""
    if not POSTGRES_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("SYNCML_CODEC_REQUIRE_POSTGRES=1 but SYNCML_TEST_POSTGRES is not set")
        pytest.skip("no PostgreSQL server (set SYNCML_TEST_POSTGRES=postgresql://USER:PASSWORD@HOST/DATABASE)")
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required but psycopg does not import: {exc}")
        pytest.skip(f"psycopg is not installed ({exc}): pip install syncml-codec[postgresql]")
    return POSTGRES_URL


def with_schema(url: str, schema: str) -> str:
    """``url`` with ``search_path`` set to ``schema`` (libpq's ``options``)."""
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


@contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of a new empty schema on the test server, dropped afterwards."""
    import psycopg

    url = postgres_url()
    name = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    try:
        yield with_schema(url, name)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {name} CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_spec(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """What ``--db`` takes for a new empty database of each kind."""
    if request.param == "sqlite":
        yield str(tmp_path / "store.db")
    else:
        with postgres_schema() as url:
            yield url


@pytest.fixture
def store(db_spec: str) -> Iterator[Any]:
    """A store of each kind on a new empty database, closed after the test."""
    opened = open_store(db_spec)
    try:
        yield opened
    finally:
        opened.close()


def is_sqlite(store: object) -> bool:
    return isinstance(store, SQLiteStore)


def rows(store: Any, table: str) -> list[tuple[Any, ...]]:
    """Every row of ``table``, straight from the database."""
    if is_sqlite(store):
        return [tuple(r) for r in store._db.execute(f"SELECT * FROM {table}")]
    with store.transaction():
        return [tuple(r) for r in store._exec(f"SELECT * FROM {table}")]


def dump(store: Any) -> str:
    """Everything the database holds, as text (what a thief of it reads)."""
    if is_sqlite(store):
        return "\n".join(store._db.iterdump())
    with store.transaction():
        tables = [r[0] for r in store._exec("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")]
        return "\n".join(str(r[0]) for table in tables for r in store._exec(f"SELECT t::text FROM {table} t"))
