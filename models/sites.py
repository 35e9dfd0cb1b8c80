"""Sites: where units are installed (the building's address)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from models.db import Connection
from models.queries import Page, PageParams, fetch_one, fetch_page
from models.sqlerrors import translate_errors
from models.types import Name, Text

__all__ = ["Site", "SiteCreate", "create_site", "get_site", "get_site_by_name", "list_sites"]

_COLUMNS = "id, name, address, city, created_at"


class SiteCreate(BaseModel):
    """A new site."""

    model_config = ConfigDict(extra="forbid")
    name: Name
    address: Text | None = None
    city: Text | None = None


class Site(SiteCreate):
    """A stored site."""

    model_config = ConfigDict(extra="ignore")
    id: UUID
    created_at: datetime


def create_site(conn: Connection, *, name: str, address: str | None, city: str | None) -> Site:
    """Register a site."""
    query = f"INSERT INTO sites (name, address, city) VALUES (%(name)s, %(address)s, %(city)s) RETURNING {_COLUMNS}"
    with translate_errors():
        return fetch_one(conn, query, {"name": name, "address": address, "city": city}, model=Site, what="site")


def get_site(conn: Connection, *, site_id: UUID) -> Site:
    """One site, or NotFound."""
    return fetch_one(conn, f"SELECT {_COLUMNS} FROM sites WHERE id = %(id)s", {"id": site_id}, model=Site, what="site")


def get_site_by_name(conn: Connection, *, name: str, city: str | None) -> Site:
    """The site of this name in this city (the first by id: names are not unique), or NotFound."""
    query = (
        f"SELECT {_COLUMNS} FROM sites WHERE name = %(name)s AND city IS NOT DISTINCT FROM %(city)s ORDER BY id LIMIT 1"
    )
    return fetch_one(conn, query, {"name": name, "city": city}, model=Site, what="site")


def list_sites(conn: Connection, *, page: PageParams) -> Page[Site]:
    """Sites by city and name."""
    query = f"SELECT {_COLUMNS} FROM sites ORDER BY city NULLS LAST, name, id"
    return fetch_page(conn, query, {}, model=Site, page=page)
