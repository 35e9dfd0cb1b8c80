"""`/maintenance`: plans, each unit's schedule and interval decisions, visits and their checklists, and the crew's
side of dispatch (accept, decline) with a person's override."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict

from api.auth import Principal, Scope, require
from api.deps import Conn
from api.export import CSV_RESPONSE, ExportFormat, Format, export
from api.params import Paging, UnitIdPath
from models.queries import Page
from models.telemetry.contract import UNIT_ID_PATTERN
from models.types import Code, Text, Timestamp
from models.work import dispatch, intervals, kpis, orders, plans, schedules, visits
from models.work.checklists import VisitCompletion
from models.work.completion import Completed, WorkCompletion, complete_work_order
from models.work.intervals import IntervalDecision, IntervalOverride
from models.work.kpis import Kpi, KpiGroup
from models.work.orders import CrewOverride, Decline, WorkOrderDetail
from models.work.plans import PlanDefinition
from models.work.schedules import UnitPlan
from models.work.visits import Visit, VisitDetail

router = APIRouter(prefix="/maintenance", tags=["maintenance"])
Reader = Annotated[Principal, Depends(require(Scope.MAINTENANCE_READ))]
Manager = Annotated[Principal, Depends(require(Scope.MAINTENANCE_MANAGE))]
OrderReader = Annotated[Principal, Depends(require(Scope.WORK_ORDERS_READ))]
Worker = Annotated[Principal, Depends(require(Scope.WORK_ORDERS_UPDATE))]
PlanCode = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
# KPIs cover the last month unless asked otherwise: the period maintenance contracts are usually reported on.
DEFAULT_KPI_PERIOD = timedelta(days=30)


class PlanAssignment(BaseModel):
    """Put a unit on a plan."""

    model_config = ConfigDict(extra="forbid")
    plan_code: Code
    starts_on: date


class CrewRegion(BaseModel):
    """Where a crew works (a site's city); null: anywhere."""

    model_config = ConfigDict(extra="forbid")
    region: Text | None


def _now() -> datetime:
    return datetime.now(UTC)


@router.get("/plans")
def list_plans(principal: Reader) -> list[PlanDefinition]:
    """Every plan shipped as data, with its intervals and items."""
    return [plans.load_plan(code) for code in plans.available_plans()]


@router.get("/plans/{plan_code}")
def get_plan(plan_code: PlanCode, principal: Reader) -> PlanDefinition:
    """One plan."""
    return plans.load_plan(plan_code)


@router.get("/units/{unit_id}/plan")
def get_unit_plan(unit_id: UnitIdPath, conn: Conn, principal: Reader) -> UnitPlan:
    """The unit's plan and when each of its intervals is next due."""
    return schedules.get_unit_plan(conn, tenant=principal.tenant, unit_id=unit_id)


@router.put("/units/{unit_id}/plan", status_code=status.HTTP_201_CREATED)
def assign_plan(unit_id: UnitIdPath, body: PlanAssignment, conn: Conn, principal: Manager) -> UnitPlan:
    """Put a unit without a plan on one (409 when it has one)."""
    return schedules.assign_plan(
        conn, tenant=principal.tenant, unit_id=unit_id, plan_code=body.plan_code, starts_on=body.starts_on
    )


@router.get("/units/{unit_id}/interval-decisions")
def list_interval_decisions(unit_id: UnitIdPath, conn: Conn, principal: Reader, page: Paging) -> Page[IntervalDecision]:
    """Every decision on the unit's routine interval, newest first, with its reasons."""
    return intervals.list_decisions(conn, tenant=principal.tenant, unit_id=unit_id, page=page)


@router.post("/units/{unit_id}/interval-override", status_code=status.HTTP_201_CREATED)
def override_interval(unit_id: UnitIdPath, body: IntervalOverride, conn: Conn, principal: Manager) -> IntervalDecision:
    """Set the unit's routine interval by hand (kept until `until`, or until lifted by another decision)."""
    return intervals.override_interval(
        conn, tenant=principal.tenant, unit_id=unit_id, override=body, actor=principal.actor, now=_now()
    )


@router.get("/visits", response_model=Page[Visit], responses=CSV_RESPONSE)
def list_visits(
    conn: Conn,
    principal: Reader,
    page: Paging,
    unit_id: Annotated[str | None, Query(pattern=UNIT_ID_PATTERN)] = None,
    open_only: Annotated[bool, Query(alias="open")] = False,
    format: Format = ExportFormat.JSON,
) -> Response:
    """Visits the caller may see (a crew: those of its work orders), soonest due first."""
    found = visits.list_visits(conn, tenant=principal.tenant, page=page, unit_id=unit_id, open_only=open_only)
    return export(found, format, item=Visit, name="visits")


@router.get("/visits/{visit_id}")
def get_visit(visit_id: UUID, conn: Conn, principal: Reader) -> VisitDetail:
    """A visit with the items it covers and, once completed, their results."""
    return visits.get_visit(conn, tenant=principal.tenant, visit_id=visit_id)


@router.post("/visits/{visit_id}/completion")
def complete_visit(visit_id: UUID, body: VisitCompletion, conn: Conn, principal: Worker) -> VisitDetail:
    """Complete a visit with its whole checklist; resending with the same idempotency key changes nothing."""
    return visits.complete_visit(
        conn, tenant=principal.tenant, visit_id=visit_id, completion=body, actor=principal.actor, now=_now()
    )


@router.get("/work-orders/{work_order_id}")
def get_work_order(work_order_id: UUID, conn: Conn, principal: OrderReader) -> WorkOrderDetail:
    """A work order with its urgency, evidence, dispatch explanation and SLA state."""
    return orders.get_work_order_detail(conn, tenant=principal.tenant, work_order_id=work_order_id)


@router.post("/work-orders/{work_order_id}/accept")
def accept_work_order(work_order_id: UUID, conn: Conn, principal: Worker) -> WorkOrderDetail:
    """The assigned crew takes the work order."""
    return orders.accept_work_order(
        conn, tenant=principal.tenant, work_order_id=work_order_id, now=_now(), actor=principal.actor
    )


@router.post("/work-orders/{work_order_id}/decline", status_code=status.HTTP_204_NO_CONTENT)
def decline_work_order(work_order_id: UUID, body: Decline, conn: Conn, principal: Worker) -> None:
    """The assigned crew gives the work order back; dispatch passes it to the next crew."""
    orders.decline_work_order(
        conn, tenant=principal.tenant, work_order_id=work_order_id, decline=body, now=_now(), actor=principal.actor
    )


@router.post("/work-orders/{work_order_id}/completion")
def complete(work_order_id: UUID, body: WorkCompletion, conn: Conn, principal: Worker) -> Completed:
    """Complete a work order with the parts used (each a part replacement and lifecycle record, all or nothing);
    resending with the same idempotency key changes nothing, another key is a 409."""
    return complete_work_order(
        conn, tenant=principal.tenant, work_order_id=work_order_id, completion=body, actor=principal.actor, now=_now()
    )


@router.put("/work-orders/{work_order_id}/crew")
def override_crew(work_order_id: UUID, body: CrewOverride, conn: Conn, principal: Manager) -> WorkOrderDetail:
    """Give the work order to another crew of its maintainer, overriding dispatch."""
    return orders.override_crew(
        conn, tenant=principal.tenant, work_order_id=work_order_id, override=body, actor=principal.actor
    )


@router.put("/crews/{crew_id}/region", status_code=status.HTTP_204_NO_CONTENT)
def set_crew_region(crew_id: UUID, body: CrewRegion, conn: Conn, principal: Manager) -> None:
    """Say where a crew works; dispatch prefers crews of the unit's region."""
    dispatch.set_crew_region(conn, tenant=principal.tenant, crew_id=crew_id, region=body.region)


@router.get("/kpis", response_model=Page[Kpi], responses=CSV_RESPONSE)
def get_kpis(
    conn: Conn,
    principal: Manager,
    group: KpiGroup = KpiGroup.CREW,
    since: Annotated[Timestamp | None, Query()] = None,
    until: Annotated[Timestamp | None, Query()] = None,
    format: Format = ExportFormat.JSON,
) -> Response:
    """Per crew or maintainer: response time, time to repair, first-time fix, SLA compliance, overdue visits."""
    until = until or _now()
    since = since or until - DEFAULT_KPI_PERIOD
    found = kpis.kpis(conn, tenant=principal.tenant, group=group, since=since, until=until, today=_now().date())
    page = Page[Kpi](items=found, limit=max(len(found), 1), offset=0, next_offset=None)
    return export(page, format, item=Kpi, name=f"kpis-{group}")
