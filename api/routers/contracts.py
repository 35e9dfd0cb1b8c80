"""`/contracts`: which maintainer holds a maintenance contract for which unit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from api.auth import Principal, Scope, require
from api.deps import Conn
from api.params import Paging
from models.queries import Page
from models.telemetry.contract import UNIT_ID_PATTERN
from models.work import contracts
from models.work.contracts import Contract, ContractCreate

router = APIRouter(prefix="/contracts", tags=["contracts"])
Reader = Annotated[Principal, Depends(require(Scope.CONTRACTS_READ))]
Writer = Annotated[Principal, Depends(require(Scope.CONTRACTS_WRITE))]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_contract(body: ContractCreate, conn: Conn, principal: Writer) -> Contract:
    """Give a maintainer a contract for a unit."""
    return contracts.create_contract(conn, tenant=principal.tenant, **body.model_dump())


@router.get("")
def list_contracts(
    conn: Conn,
    principal: Reader,
    page: Paging,
    unit_id: Annotated[str | None, Query(pattern=UNIT_ID_PATTERN)] = None,
) -> Page[Contract]:
    """Contracts the caller may see (a maintainer: its own)."""
    return contracts.list_contracts(conn, tenant=principal.tenant, page=page, unit_id=unit_id)
