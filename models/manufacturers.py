"""Manufacturers: who makes units (optionally the organisation whose keys act for them)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from models.db import Connection
from models.queries import Page, PageParams, fetch_one, fetch_page
from models.sqlerrors import translate_errors
from models.types import Name

__all__ = [
    "Manufacturer",
    "ManufacturerCreate",
    "create_manufacturer",
    "get_manufacturer",
    "get_manufacturer_by_name",
    "list_manufacturers",
]

_COLUMNS = "id, name, organization_id, created_at"


class ManufacturerCreate(BaseModel):
    """A new manufacturer."""

    model_config = ConfigDict(extra="forbid")
    name: Name
    organization_id: UUID | None = None


class Manufacturer(ManufacturerCreate):
    """A stored manufacturer."""

    model_config = ConfigDict(extra="ignore")
    id: UUID
    created_at: datetime


def create_manufacturer(conn: Connection, *, name: str, organization_id: UUID | None = None) -> Manufacturer:
    """Register a manufacturer; Conflict when the name is taken."""
    with translate_errors():
        query = f"INSERT INTO manufacturers (name, organization_id) VALUES (%(name)s, %(org)s) RETURNING {_COLUMNS}"
        params = {"name": name, "org": organization_id}
        return fetch_one(conn, query, params, model=Manufacturer, what="manufacturer")


def get_manufacturer(conn: Connection, *, manufacturer_id: UUID) -> Manufacturer:
    """One manufacturer, or NotFound."""
    query = f"SELECT {_COLUMNS} FROM manufacturers WHERE id = %(id)s"
    return fetch_one(conn, query, {"id": manufacturer_id}, model=Manufacturer, what="manufacturer")


def get_manufacturer_by_name(conn: Connection, *, name: str) -> Manufacturer:
    """The manufacturer with this name, or NotFound."""
    query = f"SELECT {_COLUMNS} FROM manufacturers WHERE name = %(name)s"
    return fetch_one(conn, query, {"name": name}, model=Manufacturer, what="manufacturer")


def list_manufacturers(conn: Connection, *, page: PageParams) -> Page[Manufacturer]:
    """Manufacturers by name."""
    query = f"SELECT {_COLUMNS} FROM manufacturers ORDER BY name, id"
    return fetch_page(conn, query, {}, model=Manufacturer, page=page)
