"""Request-scoped dependencies: the database connection (the request owns the transaction)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from models.db import Connection, Pool

__all__ = ["Conn", "get_conn"]


def get_conn(request: Request) -> Iterator[Connection]:
    """A pooled connection in a transaction: committed when the request succeeds, rolled back otherwise."""
    pool: Pool = request.app.state.pool
    with pool.connection() as conn:
        yield conn


Conn = Annotated[Connection, Depends(get_conn)]
