"""`/units`: the registry of units, their build (what sits where) and the genealogy of each position."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict

from api.auth import Principal, Scope, require
from api.deps import Conn
from api.params import IfMatch, Paging, UnitIdPath, etag, if_match_versions
from models.lifecycle import traceability
from models.lifecycle.traceability import BuildSlot
from models.queries import Page
from models.registry import units
from models.registry.units import Installation, Unit, UnitCreate, UnitStatus, UnitUpdate
from models.types import PastTimestamp, Text

router = APIRouter(prefix="/units", tags=["units"])
Reader = Annotated[Principal, Depends(require(Scope.UNITS_READ))]
Writer = Annotated[Principal, Depends(require(Scope.UNITS_WRITE))]
PositionPath = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[^\x00]+$")]


class InstallBody(BaseModel):
    """Put a component in a position (the factory build, or a correction); part swaps go through part-replacements."""

    model_config = ConfigDict(extra="forbid")
    position: Text
    component_id: UUID
    installed_at: PastTimestamp


@router.post("", status_code=status.HTTP_201_CREATED)
def create_unit(body: UnitCreate, conn: Conn, principal: Writer, response: Response) -> Unit:
    """Register a unit of a model (a manufacturer: of its own make only)."""
    unit = units.create_unit(
        conn,
        unit_id=body.id,
        serial=body.serial,
        registration_code=body.registration_code,
        model_id=body.model_id,
        site_id=body.site_id,
        floors=body.floors,
        building=body.building,
        tenant=principal.tenant,
    )
    response.headers["ETag"] = etag(unit.version)
    return unit


@router.get("")
def list_units(
    conn: Conn,
    principal: Reader,
    page: Paging,
    unit_status: Annotated[UnitStatus | None, Query(alias="status")] = None,
    manufacturer_id: UUID | None = None,
    site_id: UUID | None = None,
) -> Page[Unit]:
    """The units the caller may see."""
    return units.list_units(
        conn, tenant=principal.tenant, page=page, status=unit_status, manufacturer_id=manufacturer_id, site_id=site_id
    )


@router.get("/{unit_id}")
def get_unit(unit_id: UnitIdPath, conn: Conn, principal: Reader, response: Response) -> Unit:
    """One unit, with its ETag."""
    unit = units.get_unit(conn, tenant=principal.tenant, unit_id=unit_id)
    response.headers["ETag"] = etag(unit.version)
    return unit


@router.patch("/{unit_id}")
def update_unit(
    unit_id: UnitIdPath, body: UnitUpdate, conn: Conn, principal: Writer, response: Response, if_match: IfMatch = None
) -> Unit:
    """Change a unit's registry data, as of the version If-Match names (428 without it, 412 when stale)."""
    expected = if_match_versions(if_match, what="unit")
    unit = units.update_unit(conn, tenant=principal.tenant, unit_id=unit_id, changes=body, expected_version=expected)
    response.headers["ETag"] = etag(unit.version)
    return unit


@router.post("/{unit_id}/components", status_code=status.HTTP_201_CREATED)
def install_component(unit_id: UnitIdPath, body: InstallBody, conn: Conn, principal: Writer) -> Installation:
    """Put a component in a position, closing whatever sat there."""
    return units.install_component(
        conn,
        tenant=principal.tenant,
        unit_id=unit_id,
        position=body.position,
        component_id=body.component_id,
        at=body.installed_at,
    )


@router.get("/{unit_id}/build")
def current_build(unit_id: UnitIdPath, conn: Conn, principal: Reader, page: Paging) -> Page[BuildSlot]:
    """What sits in the unit now, by position, with batch and supplier."""
    return traceability.current_build(conn, tenant=principal.tenant, unit_id=unit_id, page=page)


@router.get("/{unit_id}/positions/{position}/history")
def position_history(
    unit_id: UnitIdPath, position: PositionPath, conn: Conn, principal: Reader, page: Paging
) -> Page[BuildSlot]:
    """The genealogy of a position: every serial that ever sat there, oldest first."""
    return traceability.position_history(conn, tenant=principal.tenant, unit_id=unit_id, position=position, page=page)
