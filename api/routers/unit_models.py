"""`/unit-models`: product lines (capacity, rated speed, drive type)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, status

from api.auth import Principal, Scope, require
from api.deps import Conn
from api.params import Paging
from models.queries import Page
from models.registry.unit_models import UNIT_MODELS, UnitModel, UnitModelCreate

router = APIRouter(prefix="/unit-models", tags=["catalog"])
Reader = Annotated[Principal, Depends(require(Scope.CATALOG_READ))]
Writer = Annotated[Principal, Depends(require(Scope.CATALOG_WRITE))]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_unit_model(body: UnitModelCreate, conn: Conn, _: Writer) -> UnitModel:
    """Register a product line."""
    return UNIT_MODELS.create(conn, body.model_dump())


@router.get("")
def list_unit_models(conn: Conn, _: Reader, page: Paging, manufacturer_id: UUID | None = None) -> Page[UnitModel]:
    """Product lines, optionally of one manufacturer."""
    return UNIT_MODELS.list(conn, page=page, where={"manufacturer_id": manufacturer_id})


@router.get("/{model_id}")
def get_unit_model(model_id: UUID, conn: Conn, _: Reader) -> UnitModel:
    """One product line."""
    return UNIT_MODELS.get(conn, row_id=model_id)
