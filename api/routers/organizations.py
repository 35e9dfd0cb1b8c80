"""`/organizations`: the platform operator, manufacturers, maintainers, suppliers, regulators, owners."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, status

from api.auth import Principal, Scope, require
from api.deps import Conn
from api.params import Paging
from models.queries import Page
from models.registry import organizations
from models.registry.organizations import ORGANIZATIONS, Organization, OrganizationCreate, OrgKind

router = APIRouter(prefix="/organizations", tags=["organizations"])
Reader = Annotated[Principal, Depends(require(Scope.ORGANIZATIONS_READ))]
Writer = Annotated[Principal, Depends(require(Scope.ORGANIZATIONS_WRITE))]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_organization(body: OrganizationCreate, conn: Conn, _: Writer) -> Organization:
    """Register an organisation."""
    return organizations.create_organization(conn, name=body.name, kind=body.kind, region=body.region)


@router.get("")
def list_organizations(conn: Conn, _: Reader, page: Paging, kind: OrgKind | None = None) -> Page[Organization]:
    """Organisations by name."""
    return ORGANIZATIONS.list(conn, page=page, where={"kind": kind})


@router.get("/{organization_id}")
def get_organization(organization_id: UUID, conn: Conn, _: Reader) -> Organization:
    """One organisation."""
    return ORGANIZATIONS.get(conn, row_id=organization_id)
