"""`/manufacturers`: who makes units."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, status

from api.auth import Principal, Scope, require
from api.deps import Conn
from api.params import Paging
from models.queries import Page
from models.registry.parties import MANUFACTURERS, Manufacturer, PartyCreate

router = APIRouter(prefix="/manufacturers", tags=["catalog"])
Reader = Annotated[Principal, Depends(require(Scope.CATALOG_READ))]
Writer = Annotated[Principal, Depends(require(Scope.CATALOG_WRITE))]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_manufacturer(body: PartyCreate, conn: Conn, _: Writer) -> Manufacturer:
    """Register a manufacturer."""
    return MANUFACTURERS.create(conn, body.model_dump())


@router.get("")
def list_manufacturers(conn: Conn, _: Reader, page: Paging) -> Page[Manufacturer]:
    """Manufacturers by name."""
    return MANUFACTURERS.list(conn, page=page)


@router.get("/{manufacturer_id}")
def get_manufacturer(manufacturer_id: UUID, conn: Conn, _: Reader) -> Manufacturer:
    """One manufacturer."""
    return MANUFACTURERS.get(conn, row_id=manufacturer_id)
