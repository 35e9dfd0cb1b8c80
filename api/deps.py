"""Request-scoped dependencies: the database connection (the request owns the transaction)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from models.db import Connection, Pool

__all__ = ["POOL_TIMEOUT_S", "Conn", "get_conn"]

# A request waits this long for a pooled connection, then answers 503: a client gets an answer well within
# the 2 s it may wait, and a queue of waiting requests cannot build up behind a busy database.
POOL_TIMEOUT_S = 1.0


def get_conn(request: Request) -> Iterator[Connection]:
    """A pooled connection in a transaction: committed when the route returns, rolled back when it raises."""
    pool: Pool = request.app.state.pool
    with pool.connection(timeout=POOL_TIMEOUT_S) as conn:
        yield conn


# scope="function": the commit runs when the route function returns, before the response is sent. With the
# default ("request") FastAPI sends the 2xx first and commits afterwards, so a client could read its own write
# as missing, or present a revoked key that still works.
Conn = Annotated[Connection, Depends(get_conn, scope="function")]
