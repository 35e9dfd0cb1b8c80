"""`/crews`: a maintainer's field teams."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, status

from api.auth import Principal, Scope, require
from api.deps import Conn
from api.params import Paging
from models.queries import Page
from models.work import crews
from models.work.crews import Crew, CrewCreate

router = APIRouter(prefix="/crews", tags=["crews"])
Reader = Annotated[Principal, Depends(require(Scope.CREWS_READ))]
Writer = Annotated[Principal, Depends(require(Scope.CREWS_WRITE))]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_crew(body: CrewCreate, conn: Conn, principal: Writer) -> Crew:
    """Add a crew to a maintainer (a maintainer: to itself only)."""
    return crews.create_crew(conn, tenant=principal.tenant, maintainer_id=body.maintainer_id, name=body.name)


@router.get("")
def list_crews(conn: Conn, principal: Reader, page: Paging) -> Page[Crew]:
    """Crews the caller may see."""
    return crews.list_crews(conn, tenant=principal.tenant, page=page)


@router.get("/{crew_id}")
def get_crew(crew_id: UUID, conn: Conn, principal: Reader) -> Crew:
    """One crew."""
    return crews.get_crew(conn, tenant=principal.tenant, crew_id=crew_id)
