"""Crews: the field teams of a maintainer; a crew's key sees its own work orders and their units."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from psycopg import sql
from pydantic import BaseModel, ConfigDict

from models.access.tenancy import TenantScope, Visibility
from models.db import Connection
from models.errors import BadRequest, NotFound
from models.queries import Page, PageParams, fetch_one, fetch_page
from models.registry.organizations import OrgKind, organization_kind
from models.sqlerrors import translate_errors
from models.types import Name

__all__ = ["Crew", "CrewCreate", "create_crew", "crew_maintainer_id", "get_crew", "list_crews"]

_COLUMNS = sql.SQL("id, maintainer_id, name, created_at")


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


def _visible(tenant: TenantScope) -> sql.Composable:
    return tenant.maintainer_predicate("maintainer_id", "id")


def create_crew(conn: Connection, *, tenant: TenantScope, maintainer_id: UUID, name: str) -> Crew:
    """Add a crew to a maintainer; a maintainer tenant may only add to itself (else NotFound)."""
    if tenant.visibility is Visibility.CONTRACT and tenant.organization_id != maintainer_id:
        raise NotFound("no such maintainer")
    kind = organization_kind(conn, organization_id=maintainer_id)
    if kind is not None and kind != OrgKind.MAINTAINER:
        raise BadRequest("a crew belongs to an organisation of kind maintainer")
    query = sql.SQL("INSERT INTO crews (maintainer_id, name) VALUES (%(m)s, %(name)s) RETURNING {}").format(_COLUMNS)
    with translate_errors():
        return fetch_one(conn, query, {"m": maintainer_id, "name": name}, model=Crew, what="crew")


def crew_maintainer_id(conn: Connection, *, crew_id: UUID) -> UUID | None:
    """The maintainer a crew belongs to, or None when there is no such crew (no tenant: for checks, not reads)."""
    row = conn.execute("SELECT maintainer_id FROM crews WHERE id = %(id)s", {"id": crew_id}).fetchone()
    if row is None:
        return None
    maintainer = row["maintainer_id"]
    assert isinstance(maintainer, UUID)
    return maintainer


def get_crew(conn: Connection, *, tenant: TenantScope, crew_id: UUID) -> Crew:
    """One crew the tenant may see, or NotFound."""
    query = sql.SQL("SELECT {} FROM crews WHERE id = %(id)s AND {}").format(_COLUMNS, _visible(tenant))
    return fetch_one(conn, query, {"id": crew_id}, model=Crew, what="crew")


def list_crews(conn: Connection, *, tenant: TenantScope, page: PageParams) -> Page[Crew]:
    """Crews the tenant may see, by name."""
    query = sql.SQL("SELECT {} FROM crews WHERE {} ORDER BY name, id").format(_COLUMNS, _visible(tenant))
    return fetch_page(conn, query, {}, model=Crew, page=page)
