"""A unit's lifecycle: its hash-chained records, their verification, part replacements, and the merged timeline."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict

from api.auth import Principal, Scope, require
from api.deps import Conn
from api.export import CSV_RESPONSE, ExportFormat, Format, export
from api.params import Paging, UnitIdPath
from models.errors import BadRequest
from models.lifecycle import ledger, part_replacements, timeline
from models.lifecycle.ledger import ChainReport, LifecycleKind, LifecycleRecord
from models.lifecycle.part_replacements import PartReplacement
from models.lifecycle.timeline import TimelineSource
from models.queries import Page
from models.types import JsonObject, PastTimestamp, Timestamp

router = APIRouter(prefix="/units/{unit_id}", tags=["lifecycle"])
Reader = Annotated[Principal, Depends(require(Scope.LIFECYCLE_READ))]
Writer = Annotated[Principal, Depends(require(Scope.LIFECYCLE_WRITE))]


class RecordAppend(BaseModel):
    """A new lifecycle record; the actor is the calling key."""

    model_config = ConfigDict(extra="forbid")
    kind: LifecycleKind
    occurred_at: PastTimestamp
    data: JsonObject = {}
    work_order_id: UUID | None = None


@router.post("/records", status_code=status.HTTP_201_CREATED)
def append_record(unit_id: UnitIdPath, body: RecordAppend, conn: Conn, principal: Writer) -> LifecycleRecord:
    """Append a record to the unit's chain (part swaps go through /part-replacements, which also moves the build)."""
    if body.kind is LifecycleKind.PART_REPLACEMENT:
        raise BadRequest("record part replacements with POST /units/{unit_id}/part-replacements")
    return ledger.append_record(
        conn,
        tenant=principal.tenant,
        unit_id=unit_id,
        kind=body.kind,
        occurred_at=body.occurred_at,
        data=body.data,
        actor=principal.actor,
        work_order_id=body.work_order_id,
    )


@router.get("/records")
def list_records(
    unit_id: UnitIdPath, conn: Conn, principal: Reader, page: Paging, kind: LifecycleKind | None = None
) -> Page[LifecycleRecord]:
    """The unit's records in chain order, with their hashes."""
    return ledger.list_records(conn, tenant=principal.tenant, unit_id=unit_id, page=page, kind=kind)


@router.get("/records/verify")
def verify_chain(unit_id: UnitIdPath, conn: Conn, principal: Reader, request: Request) -> ChainReport:
    """Recompute the unit's hash chain and check it still holds the head of the latest signed checkpoint;
    report the first record that was altered or removed."""
    key: str | None = request.app.state.settings.checkpoint_public_key
    trusted = bytes.fromhex(key) if key else None
    return ledger.verify_chain(conn, tenant=principal.tenant, unit_id=unit_id, trusted_key=trusted)


@router.post("/part-replacements", status_code=status.HTTP_201_CREATED)
def replace_part(unit_id: UnitIdPath, body: PartReplacement, conn: Conn, principal: Writer) -> LifecycleRecord:
    """Swap the component in a position (removed serial -> installed serial) and record it on the chain."""
    return part_replacements.replace_part(
        conn, tenant=principal.tenant, unit_id=unit_id, replacement=body, actor=principal.actor
    )


@router.get("/lifecycle", response_model=Page[timeline.TimelineEntry], responses=CSV_RESPONSE)
def unit_timeline(
    unit_id: UnitIdPath,
    conn: Conn,
    principal: Reader,
    page: Paging,
    since: Annotated[Timestamp | None, Query()] = None,
    until: Annotated[Timestamp | None, Query()] = None,
    source: Annotated[list[TimelineSource] | None, Query(description="Only these sources (default all)")] = None,
    format: Format = ExportFormat.JSON,
) -> Response:
    """The unit's full timeline: records, events, work orders, build changes and status, oldest first."""
    entries = timeline.unit_timeline(
        conn,
        tenant=principal.tenant,
        unit_id=unit_id,
        page=page,
        since=since,
        until=until,
        sources=source or tuple(TimelineSource),
    )
    return export(entries, format, item=timeline.TimelineEntry, name=f"{unit_id}-lifecycle")
