"""Crews: the field teams of a maintainer; a crew's key sees its own work orders and their units."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from psycopg import sql
from pydantic import BaseModel, ConfigDict

from models.db import Connection
from models.errors import BadRequest, NotFound
from models.queries import Page, PageParams, fetch_one, fetch_page
from models.sqlerrors import translate_errors
from models.tenancy import TenantScope, Visibility
from models.types import Name

__all__ = ["Crew", "CrewCreate", "create_crew", "get_crew", "list_crews"]

_COLUMNS = "id, maintainer_id, name, created_at"


class CrewCreate(BaseModel):
    """A new crew."""

    model_config = ConfigDict(extra="forbid")
    maintainer_id: UUID
    name: Name


class Crew(CrewCreate):
    """A stored crew."""

    model_config = ConfigDict(extra="ignore")
    id: UUID
    created_at: datetime


def _visible(scope: TenantScope) -> sql.Composable:
    match scope.visibility:
        case Visibility.ALL:
            return sql.SQL("TRUE")
        case Visibility.CONTRACT:
            return sql.SQL("maintainer_id = {}").format(sql.Literal(scope.organization_id))
        case Visibility.CREW:
            return sql.SQL("id = {}").format(sql.Literal(scope.crew_id))
        case _:
            return sql.SQL("FALSE")


def create_crew(conn: Connection, *, scope: TenantScope, maintainer_id: UUID, name: str) -> Crew:
    """Add a crew to a maintainer; a maintainer's scope may only add to itself (else NotFound)."""
    if scope.visibility is Visibility.CONTRACT and scope.organization_id != maintainer_id:
        raise NotFound("no such maintainer")
    kind = conn.execute("SELECT kind FROM organizations WHERE id = %(id)s", {"id": maintainer_id}).fetchone()
    if kind is not None and kind["kind"] != "maintainer":
        raise BadRequest("a crew belongs to an organisation of kind maintainer")
    query = f"INSERT INTO crews (maintainer_id, name) VALUES (%(m)s, %(name)s) RETURNING {_COLUMNS}"
    with translate_errors():
        return fetch_one(conn, query, {"m": maintainer_id, "name": name}, model=Crew, what="crew")


def get_crew(conn: Connection, *, scope: TenantScope, crew_id: UUID) -> Crew:
    """One crew the scope may see, or NotFound."""
    query = sql.SQL(f"SELECT {_COLUMNS} FROM crews WHERE id = %(id)s AND {{}}").format(_visible(scope))
    return fetch_one(conn, query, {"id": crew_id}, model=Crew, what="crew")


def list_crews(conn: Connection, *, scope: TenantScope, page: PageParams) -> Page[Crew]:
    """Crews the scope may see, by name."""
    query = sql.SQL(f"SELECT {_COLUMNS} FROM crews WHERE {{}} ORDER BY name, id").format(_visible(scope))
    return fetch_page(conn, query, {}, model=Crew, page=page)
