"""Organisations: the platform operator, manufacturers, maintenance companies, suppliers, regulators, owners."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from models.catalogue import Catalogue
from models.db import Connection
from models.types import Name, Text

__all__ = [
    "ORGANIZATIONS",
    "OrgKind",
    "Organization",
    "OrganizationCreate",
    "create_organization",
    "get_organization_by_name",
    "organization_kind",
]


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
    region: Text | None = None  # a regulator's region: it oversees the units at the sites of that region


class Organization(OrganizationCreate):
    """A stored organisation."""

    model_config = ConfigDict(extra="ignore")
    id: UUID
    created_at: datetime


ORGANIZATIONS = Catalogue(
    table="organizations",
    columns=("id", "name", "kind", "region", "created_at"),
    model=Organization,
    what="organization",
    order_by=("name",),
    shared_because="who takes part (makes, maintainers, suppliers, regulators) is public; keys are not listed here",
)


def create_organization(conn: Connection, *, name: str, kind: OrgKind | str, region: str | None = None) -> Organization:
    """Register an organisation; Conflict when the name is taken."""
    return ORGANIZATIONS.create(conn, {"name": name, "kind": str(kind), "region": region})


def get_organization_by_name(conn: Connection, *, name: str) -> Organization:
    """The organisation with this name, or NotFound."""
    return ORGANIZATIONS.find(conn, {"name": name})


def organization_kind(conn: Connection, *, organization_id: UUID) -> OrgKind | None:
    """What the organisation is, or None when there is no such organisation."""
    row = conn.execute("SELECT kind FROM organizations WHERE id = %(id)s", {"id": organization_id}).fetchone()
    return None if row is None else OrgKind(str(row["kind"]))
