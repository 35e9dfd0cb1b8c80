"""`/traceability`: recall impact (which units carry components from a batch or a supplier)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends

from api.auth import Principal, Scope, require
from api.deps import Conn
from api.params import Paging
from models.lifecycle import traceability
from models.lifecycle.traceability import BuildSlot
from models.queries import Page

router = APIRouter(prefix="/traceability", tags=["traceability"])
Reader = Annotated[Principal, Depends(require(Scope.TRACEABILITY_READ))]


@router.get("/recall")
def recall_impact(
    conn: Conn,
    principal: Reader,
    page: Paging,
    batch_id: UUID | None = None,
    supplier_id: UUID | None = None,
    include_removed: bool = False,
) -> Page[BuildSlot]:
    """The units (of those the caller sees) carrying components of a batch or supplier; by unit and position."""
    return traceability.recall_impact(
        conn,
        tenant=principal.tenant,
        page=page,
        batch_id=batch_id,
        supplier_id=supplier_id,
        include_removed=include_removed,
    )
