"""`/suppliers`: who produces component batches."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, status

from api.auth import Principal, Scope, require
from api.deps import Conn
from api.params import Paging
from models.queries import Page
from models.registry.parties import SUPPLIERS, PartyCreate, Supplier

router = APIRouter(prefix="/suppliers", tags=["catalog"])
Reader = Annotated[Principal, Depends(require(Scope.CATALOG_READ))]
Writer = Annotated[Principal, Depends(require(Scope.CATALOG_WRITE))]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_supplier(body: PartyCreate, conn: Conn, _: Writer) -> Supplier:
    """Register a supplier."""
    return SUPPLIERS.create(conn, body.model_dump())


@router.get("")
def list_suppliers(conn: Conn, _: Reader, page: Paging) -> Page[Supplier]:
    """Suppliers by name."""
    return SUPPLIERS.list(conn, page=page)


@router.get("/{supplier_id}")
def get_supplier(supplier_id: UUID, conn: Conn, _: Reader) -> Supplier:
    """One supplier."""
    return SUPPLIERS.get(conn, row_id=supplier_id)
