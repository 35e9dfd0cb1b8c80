"""`/work-orders`: alarm -> work order -> crew -> repair -> verification, with ETags for concurrent edits."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status

from api.auth import Principal, Scope, require
from api.deps import Conn
from api.export import CSV_RESPONSE, ExportFormat, Format, export
from api.params import IfMatch, Paging, etag, if_match_versions
from models.queries import Page
from models.telemetry.contract import UNIT_ID_PATTERN
from models.work import work_orders
from models.work.history import HistoryEntry, work_order_history
from models.work.work_orders import WorkOrder, WorkOrderCreate, WorkOrderStatus, WorkOrderUpdate

router = APIRouter(prefix="/work-orders", tags=["work orders"])
Reader = Annotated[Principal, Depends(require(Scope.WORK_ORDERS_READ))]
Creator = Annotated[Principal, Depends(require(Scope.WORK_ORDERS_CREATE))]
Updater = Annotated[Principal, Depends(require(Scope.WORK_ORDERS_UPDATE))]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_work_order(body: WorkOrderCreate, conn: Conn, principal: Creator, response: Response) -> WorkOrder:
    """Open a work order on a unit (a maintainer: for itself)."""
    order = work_orders.create_work_order(conn, tenant=principal.tenant, order=body, actor=principal.actor)
    response.headers["ETag"] = etag(order.version)
    return order


@router.get("", response_model=Page[WorkOrder], responses=CSV_RESPONSE)
def list_work_orders(
    conn: Conn,
    principal: Reader,
    page: Paging,
    unit_id: Annotated[str | None, Query(pattern=UNIT_ID_PATTERN)] = None,
    order_status: Annotated[WorkOrderStatus | None, Query(alias="status")] = None,
    format: Format = ExportFormat.JSON,
) -> Response:
    """Work orders the caller may see (a crew: its own), newest first."""
    orders = work_orders.list_work_orders(
        conn, tenant=principal.tenant, page=page, unit_id=unit_id, status=order_status
    )
    return export(orders, format, item=WorkOrder, name="work-orders")


@router.get("/{work_order_id}")
def get_work_order(work_order_id: UUID, conn: Conn, principal: Reader, response: Response) -> WorkOrder:
    """One work order, with its ETag."""
    order = work_orders.get_work_order(conn, tenant=principal.tenant, work_order_id=work_order_id)
    response.headers["ETag"] = etag(order.version)
    return order


@router.patch("/{work_order_id}")
def update_work_order(
    work_order_id: UUID,
    body: WorkOrderUpdate,
    conn: Conn,
    principal: Updater,
    response: Response,
    if_match: IfMatch = None,
) -> WorkOrder:
    """Assign, progress or verify a work order, as of the version If-Match names (428 without, 412 if stale)."""
    expected = if_match_versions(if_match, what="work order")
    order = work_orders.update_work_order(
        conn,
        tenant=principal.tenant,
        work_order_id=work_order_id,
        changes=body,
        expected_version=expected,
        actor=principal.actor,
    )
    response.headers["ETag"] = etag(order.version)
    return order


@router.get("/{work_order_id}/history")
def get_history(work_order_id: UUID, conn: Conn, principal: Reader, page: Paging) -> Page[HistoryEntry]:
    """Every change of the work order, oldest first: who, when (server and client time) and why."""
    return work_order_history(conn, tenant=principal.tenant, work_order_id=work_order_id, page=page)
