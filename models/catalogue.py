"""Catalogue tables: reference data shared by every tenant (organisations, manufacturers, suppliers, sites,
unit models), read and written through one small repository instead of a copy of the same module per noun.

Tenant decision: a catalogue row holds no tenant data (names, addresses, ratings), so reads are not filtered by
tenant; who may read or write is the permission of the route (`catalog:read`...). Each catalogue states why it
is shared in `shared_because`, so the decision is written where the table is declared, not assumed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from uuid import UUID

from psycopg import sql
from pydantic import BaseModel

from models.db import Connection
from models.queries import Page, PageParams, fetch_one, fetch_page, identifiers
from models.sqlerrors import translate_errors

__all__ = ["Catalogue"]

T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True)
class Catalogue(Generic[T]):
    """One catalogue table: its columns, row model, the noun its errors use, and its list order."""

    table: str
    columns: tuple[str, ...]
    model: type[T]
    what: str
    order_by: tuple[str, ...]
    shared_because: str

    def _select(self) -> sql.Composed:
        return sql.SQL("SELECT {} FROM {}").format(self._columns(), sql.Identifier(self.table))

    def _columns(self) -> sql.Composed:
        return identifiers(self.columns)

    def create(self, conn: Connection, values: Mapping[str, Any]) -> T:
        """Insert one row; Conflict when a unique key is taken, BadRequest when a reference is missing."""
        names = identifiers(values)
        placeholders = sql.SQL(", ").join(map(sql.Placeholder, values))
        query = sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING {}").format(
            sql.Identifier(self.table), names, placeholders, self._columns()
        )
        with translate_errors():
            return fetch_one(conn, query, values, model=self.model, what=self.what)

    def get(self, conn: Connection, *, row_id: UUID) -> T:
        """The row with this id, or NotFound."""
        query = sql.SQL("{} WHERE id = %(id)s").format(self._select())
        return fetch_one(conn, query, {"id": row_id}, model=self.model, what=self.what)

    def find(self, conn: Connection, where: Mapping[str, Any]) -> T:
        """The first row (by id) whose columns equal `where` (None matches NULL), or NotFound."""
        conditions = [
            sql.SQL("{} IS NOT DISTINCT FROM {}").format(sql.Identifier(c), sql.Placeholder(c)) for c in where
        ]
        query = sql.SQL("{} WHERE {} ORDER BY id LIMIT 1").format(self._select(), sql.SQL(" AND ").join(conditions))
        return fetch_one(conn, query, where, model=self.model, what=self.what)

    def list(self, conn: Connection, *, page: PageParams, where: Mapping[str, Any] | None = None) -> Page[T]:
        """One page in catalogue order; each `where` value filters on equality, a None value does not filter."""
        filters = {column: value for column, value in (where or {}).items() if value is not None}
        conditions = [sql.SQL("TRUE")] + [
            sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder(c)) for c in filters
        ]
        order = sql.SQL(", ").join(sql.SQL(column) for column in self.order_by)
        query = sql.SQL("{} WHERE {} ORDER BY {}, id").format(self._select(), sql.SQL(" AND ").join(conditions), order)
        return fetch_page(conn, query, filters, model=self.model, page=page)
