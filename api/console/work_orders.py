"""Work orders: the caller's queue by urgency, one work order, and the phone-size forms to start and complete it.

Completing goes through the same rules as the API (models.work_orders.update_work_order: a crew may only
start or finish its own orders, along TRANSITIONS, at the version it read); the checklist and notes become a
lifecycle record on the unit's chain, and a swapped part a part replacement, all in one transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api.auth import Scope
from api.console.pages import PREFIX, page, redirect
from api.console.session import ConsoleUser, console_user, verified_form
from api.deps import Conn
from models.access.tenancy import Visibility
from models.db import Connection
from models.errors import BadRequest
from models.lifecycle import ledger, part_replacements, traceability
from models.lifecycle.ledger import LifecycleKind
from models.lifecycle.part_replacements import PartReplacement
from models.queries import MAX_OFFSET, PageParams
from models.registry import units
from models.types import LongText
from models.work import crews, work_orders
from models.work.work_orders import WorkOrderKind, WorkOrderStatus, WorkOrderUpdate

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Reader = Annotated[ConsoleUser, Depends(console_user(Scope.WORK_ORDERS_READ))]
Updater = Annotated[ConsoleUser, Depends(verified_form(Scope.WORK_ORDERS_UPDATE))]
Version = Annotated[int, Form(ge=1)]
# A queue page: what fits a phone screen scrolled a few times.
PAGE_SIZE = 25
# Build positions offered for a part swap: a unit has about ten.
BUILD_LIMIT = 100
# Crews offered when assigning: a maintainer has a handful.
CREW_LIMIT = 200
# Statuses in which the crew can still be chosen (once work started, it stays with its crew).
ASSIGNABLE = frozenset({WorkOrderStatus.OPEN, WorkOrderStatus.ASSIGNED})
# The checks every visit records (ticked or not), kept on the unit's chain with the notes.
CHECKLIST: dict[str, str] = {
    "safety_circuits": "Safety circuits and emergency stop tested",
    "doors": "Doors, door locks and door contacts checked",
    "brake": "Brake checked",
    "levelling": "Levelling checked at several floors",
    "test_run": "Test run, empty and loaded",
}
# The record a completed work order leaves on the unit's chain.
RECORD_KIND: dict[WorkOrderKind, LifecycleKind] = {
    WorkOrderKind.CORRECTIVE: LifecycleKind.REPAIR,
    WorkOrderKind.PREVENTIVE: LifecycleKind.MAINTENANCE,
    WorkOrderKind.INSPECTION: LifecycleKind.INSPECTION,
    WorkOrderKind.MODERNIZATION: LifecycleKind.MODERNIZATION,
}


@router.get("/work-orders")
def queue(
    request: Request, user: Reader, conn: Conn, offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0
) -> HTMLResponse:
    """Open, assigned and in-progress work orders the caller may see, most urgent first."""
    orders = work_orders.work_queue(conn, tenant=user.principal.tenant, page=PageParams(limit=PAGE_SIZE, offset=offset))
    return page(request, "work_orders.html", {"user": user, "orders": orders})


@router.get("/work-orders/{work_order_id}")
def detail(request: Request, work_order_id: UUID, user: Reader, conn: Conn) -> HTMLResponse:
    """One work order with what its unit is and what sits in it, and the forms its status allows."""
    scope = user.principal.tenant
    order = work_orders.get_work_order(conn, tenant=scope, work_order_id=work_order_id)
    unit = units.get_unit(conn, tenant=scope, unit_id=order.unit_id)
    build = traceability.current_build(conn, tenant=scope, unit_id=order.unit_id, page=PageParams(limit=BUILD_LIMIT))
    # Planning (who does the work) is the maintainer's, not a crew's: the same rule update_work_order applies.
    may_assign = user.may(Scope.WORK_ORDERS_UPDATE) and scope.visibility is not Visibility.CREW
    teams = crews.list_crews(conn, tenant=scope, page=PageParams(limit=CREW_LIMIT)).items if may_assign else []
    context = {
        "user": user,
        "order": order,
        "unit": unit,
        "build": build.items,
        "checklist": CHECKLIST,
        "crews": [crew for crew in teams if crew.maintainer_id == order.maintainer_id],
        "may_assign": may_assign and order.status in ASSIGNABLE,
        "may_update": user.may(Scope.WORK_ORDERS_UPDATE),
        "may_complete": user.may(Scope.WORK_ORDERS_UPDATE) and user.may(Scope.LIFECYCLE_WRITE),
    }
    return page(request, "work_order.html", context)


@router.post("/work-orders/{work_order_id}/assign")
def assign(
    work_order_id: UUID, user: Updater, conn: Conn, version: Version, crew_id: Annotated[UUID, Form()]
) -> Response:
    """Give the work order to one of its maintainer's crews."""
    work_orders.update_work_order(
        conn,
        tenant=user.principal.tenant,
        work_order_id=work_order_id,
        changes=WorkOrderUpdate(crew_id=crew_id),
        expected_version=version,
        actor=user.principal.actor,
    )
    conn.commit()  # before the redirect, so the page it loads shows the change
    return redirect(f"{PREFIX}/work-orders/{work_order_id}")


def _move(conn: Connection, user: ConsoleUser, work_order_id: UUID, status: WorkOrderStatus, version: int) -> None:
    work_orders.update_work_order(
        conn,
        tenant=user.principal.tenant,
        work_order_id=work_order_id,
        changes=WorkOrderUpdate(status=status),
        expected_version=version,
        actor=user.principal.actor,
    )


@router.post("/work-orders/{work_order_id}/start")
def start(work_order_id: UUID, user: Updater, conn: Conn, version: Version) -> Response:
    """Start work on an assigned work order."""
    _move(conn, user, work_order_id, WorkOrderStatus.IN_PROGRESS, version)
    conn.commit()  # before the redirect, so the page it loads shows the change
    return redirect(f"{PREFIX}/work-orders/{work_order_id}")


@router.post("/work-orders/{work_order_id}/complete")
def complete(
    work_order_id: UUID,
    user: Updater,
    conn: Conn,
    version: Version,
    notes: Annotated[LongText, Form(min_length=1)],
    checklist: Annotated[list[str] | None, Form()] = None,
    part_position: Annotated[str, Form(max_length=100)] = "",
    installed_serial: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Finish the work: status done, the checklist and notes on the unit's chain, and the part swapped if any."""
    user.principal.ensure(Scope.LIFECYCLE_WRITE)
    ticked = set(checklist or ())
    if ticked - set(CHECKLIST):
        raise BadRequest("unknown checklist item")
    if bool(part_position) != bool(installed_serial.strip()):
        raise BadRequest("a part swap needs both the position and the serial of the part put in")
    now = datetime.now(UTC)
    with conn.transaction():  # all or nothing, whatever fails
        # Records first, under the still-open order (a crew writes only there), then the order is done.
        order = work_orders.get_work_order(conn, tenant=user.principal.tenant, work_order_id=work_order_id)
        if part_position:
            try:
                swap = PartReplacement(
                    position=part_position,
                    installed_serial=installed_serial.strip(),
                    occurred_at=now,
                    work_order_id=order.id,
                    reason=notes,
                )
            except ValidationError as exc:
                raise BadRequest(f"the part swap is not valid: {exc.errors()[0]['msg']}") from None
            part_replacements.replace_part(
                conn, tenant=user.principal.tenant, unit_id=order.unit_id, replacement=swap, actor=user.principal.actor
            )
        ledger.append_record(
            conn,
            tenant=user.principal.tenant,
            unit_id=order.unit_id,
            kind=RECORD_KIND[order.kind],
            occurred_at=now,
            data={"checklist": {key: key in ticked for key in CHECKLIST}, "notes": notes},
            actor=user.principal.actor,
            work_order_id=order.id,
        )
        _move(conn, user, work_order_id, WorkOrderStatus.DONE, version)
    conn.commit()  # before the redirect, so the page it loads shows the change
    return redirect(f"{PREFIX}/work-orders/{work_order_id}")
