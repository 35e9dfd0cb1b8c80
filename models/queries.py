"""Shared query helpers: one row or 404, pagination (limit/offset in, a page with the next offset out), and the
SET list of an UPDATE.

A query is a literal string or a `psycopg.sql` composition (`Query`): identifiers, fragments and column lists go
in with `sql.SQL("... {} ...").format(...)`, values as parameters; never an f-string or `+` (ruff S608 refuses
them, and `LiteralString` says so to a type checker that enforces it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Generic, LiteralString, TypeVar

from psycopg import sql
from pydantic import BaseModel, Field

from models.db import Connection
from models.errors import NotFound

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "MAX_OFFSET",
    "Page",
    "PageParams",
    "Query",
    "fetch_one",
    "fetch_page",
    "identifiers",
    "set_clause",
]

DEFAULT_LIMIT = 100
# One page must stay a quick query and a small response; exports page through with next_offset.
MAX_LIMIT = 1000
# Past this, offset paging is the wrong tool (and a huge offset is a full scan); narrow the filter instead.
MAX_OFFSET = 1_000_000

T = TypeVar("T", bound=BaseModel)


class PageParams(BaseModel):
    """Which slice of a list to return."""

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class Page(BaseModel, Generic[T]):
    """One slice of a list; `next_offset` is null on the last page."""

    items: list[T]
    limit: int
    offset: int
    next_offset: int | None


# What psycopg's execute accepts, minus bytes: a literal string or a composition (a bare Identifier or Literal
# is a fragment, not a query).
Query = LiteralString | sql.SQL | sql.Composed


def _composable(query: Query) -> sql.SQL | sql.Composed:
    return sql.SQL(query) if isinstance(query, str) else query


def identifiers(names: Iterable[str]) -> sql.Composed:
    """`names` as a comma-separated list of quoted identifiers (a column list)."""
    return sql.SQL(", ").join(map(sql.Identifier, names))


def set_clause(values: Mapping[str, object]) -> sql.Composed:
    """`name = %(name)s, ...` for each key of `values`: the keys as identifiers, the values left as parameters."""
    return sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(name), sql.Placeholder(name)) for name in values)


def fetch_one(conn: Connection, query: Query, params: Mapping[str, Any], *, model: type[T], what: str) -> T:
    """The single `model` row `query` returns, or NotFound naming `what`."""
    row = conn.execute(query, params).fetchone()
    if row is None:
        raise NotFound(f"no such {what}")
    return model.model_validate(row)


def fetch_page(
    conn: Connection,
    query: Query,
    params: Mapping[str, Any],
    *,
    model: type[T],
    page: PageParams,
) -> Page[T]:
    """Run `query` (ordered, without LIMIT/OFFSET) for one page of `model` rows."""
    paged = sql.SQL("{} LIMIT %(_limit)s OFFSET %(_offset)s").format(_composable(query))
    rows = conn.execute(paged, {**params, "_limit": page.limit + 1, "_offset": page.offset}).fetchall()
    items = [model.model_validate(row) for row in rows[: page.limit]]
    more = len(rows) > page.limit
    next_offset = page.offset + page.limit if more else None
    return Page[T](items=items, limit=page.limit, offset=page.offset, next_offset=next_offset)
