"""Connecting to the history store's database, and bringing its schema up to date.

SQLite: Python's sqlite3 opens transactions lazily and not for DDL, so the engine takes transaction control itself
(SQLAlchemy's documented recipe): every transaction starts with `BEGIN IMMEDIATE`, which also makes concurrent
writers queue instead of failing half-way. PostgreSQL: psycopg 3; a transaction-scoped advisory lock serialises
migrations and recordings of several agents sharing one store.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from runner.errors import HistoryError
from runner.history.schema import MIGRATIONS, SCHEMA_VERSION, schema_version

_ADVISORY_LOCK = 0x52454E4F  # any constant shared by every runner using the store ("RENO")
_SQLITE_BUSY_TIMEOUT_S = 30


def sqlite_url(path: Path) -> str:
    return URL.create("sqlite", database=str(path)).render_as_string()


def open_engine(url: str) -> sa.Engine:
    """An engine for `url` (`sqlite:///...`, `postgresql://...`); the SQLite file's directory is created."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return sa.create_engine(parsed.set(drivername="postgresql+psycopg"), pool_pre_ping=True)
    if parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(parsed, connect_args={"timeout": _SQLITE_BUSY_TIMEOUT_S})
    sa.event.listen(engine, "connect", _sqlite_connected)
    sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connected(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # no implicit BEGIN: _sqlite_begin issues it, for DDL too
    dbapi_connection.execute("PRAGMA foreign_keys = ON")


def _sqlite_begin(connection: sa.Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One transaction that no other runner writes in at the same time; rolled back on any error."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_ADVISORY_LOCK)))
        yield connection


def migrate(engine: sa.Engine) -> int:
    """Apply the migrations this store lacks, all in one transaction; returns the schema version."""
    with transaction(engine) as connection:
        current = _version(connection)
        if current > SCHEMA_VERSION:
            raise HistoryError(
                f"the history store has schema version {current}, newer than the {SCHEMA_VERSION} this runner "
                "knows; a newer renovate-runner wrote it. What to do: upgrade this runner, or point history at "
                "another store"
            )
        for migration in MIGRATIONS[current:]:
            migration(connection)
        if current < SCHEMA_VERSION:
            connection.execute(sa.delete(schema_version))
            connection.execute(sa.insert(schema_version).values(version=SCHEMA_VERSION))
    return SCHEMA_VERSION


def _version(connection: sa.Connection) -> int:
    schema_version.create(connection, checkfirst=True)
    return int(connection.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0)
