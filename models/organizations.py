"""Organisations: the platform operator, manufacturers, maintenance companies, suppliers, regulators, owners."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from models.db import Connection
from models.queries import Page, PageParams, fetch_one, fetch_page
from models.sqlerrors import translate_errors
from models.types import Name

__all__ = [
    "OrgKind",
    "Organization",
    "OrganizationCreate",
    "create_organization",
    "get_organization",
    "get_organization_by_name",
    "list_organizations",
    "organization_kind",
]

_COLUMNS = "id, name, kind, created_at"


class OrgKind(StrEnum):
    """What an organisation is to the fleet."""

    PLATFORM = "platform"
    MANUFACTURER = "manufacturer"
    MAINTAINER = "maintainer"
    SUPPLIER = "supplier"
    REGULATOR = "regulator"
    OWNER = "owner"


class OrganizationCreate(BaseModel):
    """A new organisation."""

    model_config = ConfigDict(extra="forbid")
    name: Name
    kind: OrgKind


class Organization(OrganizationCreate):
    """A stored organisation."""

    model_config = ConfigDict(extra="ignore")
    id: UUID
    created_at: datetime


def create_organization(conn: Connection, *, name: str, kind: OrgKind | str) -> Organization:
    """Register an organisation; Conflict when the name is taken."""
    with translate_errors():
        query = f"INSERT INTO organizations (name, kind) VALUES (%(name)s, %(kind)s) RETURNING {_COLUMNS}"
        return fetch_one(conn, query, {"name": name, "kind": str(kind)}, model=Organization, what="organization")


def get_organization(conn: Connection, *, organization_id: UUID) -> Organization:
    """One organisation, or NotFound."""
    query = f"SELECT {_COLUMNS} FROM organizations WHERE id = %(id)s"
    return fetch_one(conn, query, {"id": organization_id}, model=Organization, what="organization")


def get_organization_by_name(conn: Connection, *, name: str) -> Organization:
    """The organisation with this name, or NotFound."""
    query = f"SELECT {_COLUMNS} FROM organizations WHERE name = %(name)s"
    return fetch_one(conn, query, {"name": name}, model=Organization, what="organization")


def organization_kind(conn: Connection, *, organization_id: UUID) -> OrgKind | None:
    """What the organisation is, or None when there is no such organisation."""
    row = conn.execute("SELECT kind FROM organizations WHERE id = %(id)s", {"id": organization_id}).fetchone()
    return None if row is None else OrgKind(str(row["kind"]))


def list_organizations(conn: Connection, *, page: PageParams, kind: OrgKind | None = None) -> Page[Organization]:
    """Organisations by name, optionally of one kind."""
    query = f"SELECT {_COLUMNS} FROM organizations WHERE %(kind)s::text IS NULL OR kind = %(kind)s ORDER BY name, id"
    return fetch_page(conn, query, {"kind": kind}, model=Organization, page=page)
