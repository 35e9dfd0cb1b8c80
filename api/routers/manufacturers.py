"""`/manufacturers`: who makes units."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, status

from api.auth import Principal, Scope, require
from api.deps import Conn
from api.params import Paging
from models import manufacturers
from models.manufacturers import Manufacturer, ManufacturerCreate
from models.queries import Page

router = APIRouter(prefix="/manufacturers", tags=["catalog"])
Reader = Annotated[Principal, Depends(require(Scope.CATALOG_READ))]
Writer = Annotated[Principal, Depends(require(Scope.CATALOG_WRITE))]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_manufacturer(body: ManufacturerCreate, conn: Conn, _: Writer) -> Manufacturer:
    """Register a manufacturer."""
    return manufacturers.create_manufacturer(conn, name=body.name, organization_id=body.organization_id)


@router.get("")
def list_manufacturers(conn: Conn, _: Reader, page: Paging) -> Page[Manufacturer]:
    """Manufacturers by name."""
    return manufacturers.list_manufacturers(conn, page=page)


@router.get("/{manufacturer_id}")
def get_manufacturer(manufacturer_id: UUID, conn: Conn, _: Reader) -> Manufacturer:
    """One manufacturer."""
    return manufacturers.get_manufacturer(conn, manufacturer_id=manufacturer_id)
