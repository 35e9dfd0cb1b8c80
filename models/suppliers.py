"""Suppliers: who produces component batches."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from models.db import Connection
from models.queries import Page, PageParams, fetch_one, fetch_page
from models.sqlerrors import translate_errors
from models.types import Name

__all__ = ["Supplier", "SupplierCreate", "create_supplier", "get_supplier", "get_supplier_by_name", "list_suppliers"]

_COLUMNS = "id, name, organization_id, created_at"


class SupplierCreate(BaseModel):
    """A new supplier."""

    model_config = ConfigDict(extra="forbid")
    name: Name
    organization_id: UUID | None = None


class Supplier(SupplierCreate):
    """A stored supplier."""

    model_config = ConfigDict(extra="ignore")
    id: UUID
    created_at: datetime


def create_supplier(conn: Connection, *, name: str, organization_id: UUID | None = None) -> Supplier:
    """Register a supplier; Conflict when the name is taken."""
    with translate_errors():
        query = f"INSERT INTO suppliers (name, organization_id) VALUES (%(name)s, %(org)s) RETURNING {_COLUMNS}"
        params = {"name": name, "org": organization_id}
        return fetch_one(conn, query, params, model=Supplier, what="supplier")


def get_supplier(conn: Connection, *, supplier_id: UUID) -> Supplier:
    """One supplier, or NotFound."""
    query = f"SELECT {_COLUMNS} FROM suppliers WHERE id = %(id)s"
    return fetch_one(conn, query, {"id": supplier_id}, model=Supplier, what="supplier")


def get_supplier_by_name(conn: Connection, *, name: str) -> Supplier:
    """The supplier with this name, or NotFound."""
    query = f"SELECT {_COLUMNS} FROM suppliers WHERE name = %(name)s"
    return fetch_one(conn, query, {"name": name}, model=Supplier, what="supplier")


def list_suppliers(conn: Connection, *, page: PageParams) -> Page[Supplier]:
    """Suppliers by name."""
    query = f"SELECT {_COLUMNS} FROM suppliers ORDER BY name, id"
    return fetch_page(conn, query, {}, model=Supplier, page=page)
