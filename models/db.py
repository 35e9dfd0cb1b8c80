"""Connections to the liftbrain database (psycopg 3)."""

from __future__ import annotations

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

__all__ = [
    "DATA_REFUSED",
    "Connection",
    "DatabaseError",
    "Pool",
    "PoolTimeout",
    "connect",
    "create_database",
    "open_pool",
    "ping",
]

Connection = psycopg.Connection[dict[str, object]]
Pool = ConnectionPool[Connection]
DatabaseError = psycopg.Error
"""Anything the driver raises: the server refused, or the connection is gone."""
# Errors that mean "this data", not "this database right now": retrying the same rows cannot succeed.
DATA_REFUSED: tuple[type[psycopg.Error], ...] = (psycopg.DataError, psycopg.IntegrityError, psycopg.NotSupportedError)

# Fail fast when the server is gone instead of hanging a request or a batch.
CONNECT_TIMEOUT_S = 10
# A new pool waits this long for its first connections, so a service started before the database fails clearly.
POOL_OPEN_TIMEOUT_S = 30


def connect(dsn: str, *, autocommit: bool = False, application_name: str = "liftbrain") -> Connection:
    """One connection whose rows come back as dicts."""
    return psycopg.connect(
        dsn,
        autocommit=autocommit,
        row_factory=dict_row,
        connect_timeout=CONNECT_TIMEOUT_S,
        application_name=application_name,
    )


def open_pool(dsn: str, *, min_size: int = 1, max_size: int = 10, application_name: str = "liftbrain") -> Pool:
    """A connection pool whose connections return dict rows; opened before it is returned."""
    pool: Pool = ConnectionPool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        kwargs={"row_factory": dict_row, "connect_timeout": CONNECT_TIMEOUT_S, "application_name": application_name},
        open=False,
    )
    pool.open(wait=True, timeout=POOL_OPEN_TIMEOUT_S)
    return pool


def ping(conn: Connection) -> None:
    """Raise unless the server answers a trivial query."""
    conn.execute("SELECT 1")


def create_database(dsn: str, *, name: str, template: str | None = None) -> None:
    """Create database `name` (a copy of `template` when given) on the server of `dsn`, unless it exists."""
    with connect(dsn, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            query = sql.SQL("{} TEMPLATE {}").format(query, sql.Identifier(template))
        conn.execute(query)
