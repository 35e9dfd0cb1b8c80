"""Work orders: alarm -> work order -> crew -> repair / part swap -> verification.

Versioned for optimistic concurrency: every change bumps `version`, which the API hands out as the ETag.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from psycopg import sql
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from models.access.tenancy import TenantScope, Visibility
from models.db import Connection
from models.errors import BadRequest, Conflict, ExpectedVersion, Forbidden, NotFound, check_version
from models.queries import Page, PageParams, fetch_one, fetch_page, set_clause
from models.registry.units import require_visible_unit
from models.sqlerrors import translate_errors
from models.types import JsonObject, LongText, Text, Timestamp, UnitId
from models.work.contracts import current_maintainer_id
from models.work.crews import crew_maintainer_id
from models.work.history import SYSTEM_ACTOR, Action, record_history

__all__ = [
    "ACTIVE_STATUSES",
    "CLOSED",
    "CREW_STATUSES",
    "TRANSITIONS",
    "WorkOrder",
    "WorkOrderCreate",
    "WorkOrderKind",
    "WorkOrderStatus",
    "WorkOrderUpdate",
    "create_work_order",
    "get_work_order",
    "list_work_orders",
    "require_open_crew_work_order",
    "require_unit_work_order",
    "update_work_order",
    "work_queue",
]

_COLUMNS = sql.SQL(
    "id, unit_id, maintainer_id, crew_id, kind, status, priority, title, description, source, source_ref,"
    " due_at, completed_at, verified_at, verification, version, created_at, updated_at"
)


class WorkOrderKind(StrEnum):
    """Why the work is done."""

    CORRECTIVE = "corrective"
    PREVENTIVE = "preventive"
    INSPECTION = "inspection"
    MODERNIZATION = "modernization"


class WorkOrderStatus(StrEnum):
    """Where the work order is in the loop."""

    OPEN = "open"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    VERIFIED = "verified"
    CANCELLED = "cancelled"


# A failed verification sends done work back to in_progress; verified and cancelled are final.
TRANSITIONS: dict[WorkOrderStatus, frozenset[WorkOrderStatus]] = {
    WorkOrderStatus.OPEN: frozenset({WorkOrderStatus.ASSIGNED, WorkOrderStatus.CANCELLED}),
    WorkOrderStatus.ASSIGNED: frozenset({WorkOrderStatus.OPEN, WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.CANCELLED}),
    WorkOrderStatus.IN_PROGRESS: frozenset({WorkOrderStatus.DONE, WorkOrderStatus.CANCELLED}),
    WorkOrderStatus.DONE: frozenset({WorkOrderStatus.VERIFIED, WorkOrderStatus.IN_PROGRESS}),
    WorkOrderStatus.VERIFIED: frozenset(),
    WorkOrderStatus.CANCELLED: frozenset(),
}
# The work is over; a crew keeps only read-only sight of these (models.tenancy.CREW_READ_GRACE).
CLOSED = frozenset({WorkOrderStatus.DONE, WorkOrderStatus.VERIFIED, WorkOrderStatus.CANCELLED})
# What a crew may do to its own open work orders: the work itself, not planning or verification.
CREW_STATUSES = frozenset({WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.DONE})
# When a work order reaches these statuses, the time is stamped in this column.
STAMPS = {WorkOrderStatus.DONE: "completed_at", WorkOrderStatus.VERIFIED: "verified_at"}

Priority = Annotated[StrictInt, Field(ge=1, le=5, description="1 is most urgent")]


class WorkOrderCreate(BaseModel):
    """A new work order; the maintainer defaults to the unit's current contract holder."""

    model_config = ConfigDict(extra="forbid")
    unit_id: UnitId
    kind: WorkOrderKind
    title: Text
    description: LongText | None = None
    priority: Priority = 3
    maintainer_id: UUID | None = None
    due_at: Timestamp | None = None
    source_ref: Text | None = Field(None, description="The alarm this work order answers, if any")


class WorkOrderUpdate(BaseModel):
    """Changes to a work order; status moves along TRANSITIONS."""

    model_config = ConfigDict(extra="forbid")
    status: WorkOrderStatus | None = None
    crew_id: UUID | None = None
    priority: Priority | None = None
    due_at: Timestamp | None = None
    verification: JsonObject | None = None


class WorkOrder(BaseModel):
    """A stored work order."""

    id: UUID
    unit_id: str
    maintainer_id: UUID
    crew_id: UUID | None
    kind: WorkOrderKind
    status: WorkOrderStatus
    priority: int
    title: str
    description: str | None
    source: str
    source_ref: str | None
    due_at: datetime | None
    completed_at: datetime | None
    verified_at: datetime | None
    verification: dict[str, Any] | None
    version: int
    created_at: datetime
    updated_at: datetime


def _visible(tenant: TenantScope) -> sql.Composable:
    return tenant.work_orders_predicate("id", "maintainer_id")


def create_work_order(
    conn: Connection, *, tenant: TenantScope, order: WorkOrderCreate, source: str = "manual", actor: str = SYSTEM_ACTOR
) -> WorkOrder:
    """Open a work order on a unit the tenant may see; a maintainer opens them only for itself."""
    require_visible_unit(conn, tenant=tenant, unit_id=order.unit_id)
    maintainer_id = order.maintainer_id
    if tenant.visibility is not Visibility.ALL:
        if maintainer_id not in (None, tenant.organization_id):
            raise NotFound("no such maintainer")
        maintainer_id = tenant.organization_id
    if maintainer_id is None:
        maintainer_id = current_maintainer_id(conn, tenant=tenant, unit_id=order.unit_id)
        if maintainer_id is None:
            raise BadRequest(f"unit {order.unit_id} has no current maintenance contract; name the maintainer")
    query = sql.SQL(
        "INSERT INTO work_orders (unit_id, maintainer_id, kind, priority, title, description, source, source_ref,"
        " due_at) VALUES (%(unit_id)s, %(maintainer_id)s, %(kind)s, %(priority)s, %(title)s, %(description)s,"
        " %(source)s, %(source_ref)s, %(due_at)s) RETURNING {}"
    ).format(_COLUMNS)
    params = {**order.model_dump(), "maintainer_id": maintainer_id, "kind": str(order.kind), "source": source}
    with translate_errors():
        created = fetch_one(conn, query, params, model=WorkOrder, what="work order")
    record_history(conn, work_order_ids=[created.id], action=Action.OPENED, actor=actor, to_status=created.status,
                   reason=created.title, data={"source": source, "kind": str(created.kind)})  # fmt: skip
    return created


def get_work_order(
    conn: Connection, *, tenant: TenantScope, work_order_id: UUID, for_update: bool = False
) -> WorkOrder:
    """One work order the tenant may see (locked for a change with `for_update`), or NotFound."""
    lock = sql.SQL(" FOR UPDATE") if for_update else sql.SQL("")
    query = sql.SQL("SELECT {} FROM work_orders WHERE id = %(id)s AND {}{}").format(_COLUMNS, _visible(tenant), lock)
    return fetch_one(conn, query, {"id": work_order_id}, model=WorkOrder, what="work order")


def require_unit_work_order(conn: Connection, *, tenant: TenantScope, work_order_id: UUID, unit_id: str) -> None:
    """NotFound unless the work order is visible to the tenant and belongs to the unit."""
    if get_work_order(conn, tenant=tenant, work_order_id=work_order_id).unit_id != unit_id:
        raise NotFound("no such work order on this unit")


def require_open_crew_work_order(
    conn: Connection, *, tenant: TenantScope, work_order_id: UUID | None, unit_id: str
) -> None:
    """For a crew: Forbidden unless it names one of its work orders on the unit that is still open."""
    if work_order_id is None:
        raise Forbidden("a crew records work under one of its work orders: name it (work_order_id)")
    order = get_work_order(conn, tenant=tenant, work_order_id=work_order_id)
    if order.unit_id != unit_id:
        raise NotFound("no such work order on this unit")
    if order.status in CLOSED:
        raise Forbidden(f"the work order is {order.status}; a crew has read-only access to it now")


def list_work_orders(
    conn: Connection,
    *,
    tenant: TenantScope,
    page: PageParams,
    unit_id: str | None = None,
    status: WorkOrderStatus | None = None,
) -> Page[WorkOrder]:
    """Work orders the tenant may see, newest first, optionally of one unit or status."""
    query = sql.SQL(
        "SELECT {} FROM work_orders WHERE {} AND (%(u)s::text IS NULL OR unit_id = %(u)s)"
        " AND (%(status)s::text IS NULL OR status = %(status)s) ORDER BY created_at DESC, id"
    ).format(_COLUMNS, _visible(tenant))
    return fetch_page(conn, query, {"u": unit_id, "status": status}, model=WorkOrder, page=page)


def _check_change(conn: Connection, tenant: TenantScope, current: WorkOrder, values: dict[str, Any]) -> None:
    if tenant.visibility is Visibility.CREW:
        if set(values) - {"status"} or values["status"] not in CREW_STATUSES:
            raise Forbidden("a crew may only start or finish its work orders")
        if current.status in CLOSED:
            raise Forbidden(f"the work order is {current.status}; a crew has read-only access to it now")
    status = values.get("status")
    if status is not None and status != current.status and status not in TRANSITIONS[current.status]:
        raise Conflict(f"a work order cannot go from {current.status} to {status}")
    crew_id = values.get("crew_id")
    if crew_id is not None and crew_maintainer_id(conn, crew_id=crew_id) != current.maintainer_id:
        raise NotFound("no such crew at this work order's maintainer")


def update_work_order(
    conn: Connection,
    *,
    tenant: TenantScope,
    work_order_id: UUID,
    changes: WorkOrderUpdate,
    expected_version: ExpectedVersion,
    actor: str = SYSTEM_ACTOR,
) -> WorkOrder:
    """Apply `changes`; PreconditionFailed when the work order moved on from `expected_version`."""
    values: dict[str, Any] = changes.model_dump(exclude_unset=True)
    if not values:
        raise BadRequest("nothing to change")
    # One read, under the row's lock: the version compared is the one the update applies to.
    current = get_work_order(conn, tenant=tenant, work_order_id=work_order_id, for_update=True)
    check_version(current.version, expected_version, what="work order")
    _check_change(conn, tenant, current, values)
    if values.get("crew_id") is not None and current.status is WorkOrderStatus.OPEN and "status" not in values:
        values["status"] = WorkOrderStatus.ASSIGNED
    if "verification" in values and values["verification"] is not None:
        values["verification"] = Jsonb(values["verification"])
    extra: sql.Composable = sql.SQL("")
    if values.get("status") in STAMPS:
        extra = sql.SQL(", {} = clock_timestamp()").format(sql.Identifier(STAMPS[values["status"]]))
    query = sql.SQL(
        "UPDATE work_orders SET {assignments}{extra}, version = version + 1, updated_at = clock_timestamp()"
        " WHERE id = %(_id)s RETURNING {columns}"
    ).format(assignments=set_clause(values), extra=extra, columns=_COLUMNS)
    params = {k: str(v) if isinstance(v, StrEnum) else v for k, v in values.items()}
    with translate_errors():
        row = conn.execute(query, {**params, "_id": work_order_id}).fetchone()
    updated = WorkOrder.model_validate(row)
    changed = {k: str(v) for k, v in changes.model_dump(exclude_unset=True, mode="json").items()}
    record_history(conn, work_order_ids=[work_order_id], action=Action.UPDATED, actor=actor,
                   from_status=current.status, to_status=updated.status, crew_id=updated.crew_id,
                   data={"changes": changed})  # fmt: skip
    return updated


# Still to be done: what a crew's queue holds.
ACTIVE_STATUSES = (WorkOrderStatus.OPEN, WorkOrderStatus.ASSIGNED, WorkOrderStatus.IN_PROGRESS)


def work_queue(conn: Connection, *, tenant: TenantScope, page: PageParams) -> Page[WorkOrder]:
    """Active work orders the tenant may see, most urgent first: priority, then due date, then age."""
    query = sql.SQL(
        "SELECT {} FROM work_orders WHERE {} AND status = ANY(%(active)s)"
        " ORDER BY priority, due_at NULLS LAST, created_at, id"
    ).format(_COLUMNS, _visible(tenant))
    active = [str(status) for status in ACTIVE_STATUSES]
    return fetch_page(conn, query, {"active": active}, model=WorkOrder, page=page)
