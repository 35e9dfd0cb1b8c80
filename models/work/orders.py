"""Work orders opened by the system: one per source object (alarm, due visit, failed item), with an SLA by urgency.

`open_work_order_for` is idempotent on (source, source_ref): however often a job runs, an alarm or a due visit
opens exactly one work order. Crews accept or decline what dispatch gave them; a decline re-dispatches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from psycopg import errors as pg
from psycopg import sql
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict

from models.access.tenancy import CURRENT_CONTRACT, TenantScope, Visibility
from models.db import Connection
from models.errors import BadRequest, Conflict, NotFound
from models.queries import fetch_one
from models.registry.units import require_visible_unit
from models.sqlerrors import translate_errors
from models.types import JsonObject, Text
from models.work.crews import crew_maintainer_id
from models.work.dispatch import assign_crew, dispatch_work_orders
from models.work.history import SYSTEM_ACTOR, Action, record_history
from models.work.work_orders import WorkOrder, WorkOrderKind

__all__ = [
    "SLA",
    "CrewOverride",
    "Decline",
    "NewOrder",
    "Sla",
    "Source",
    "Urgency",
    "WorkOrderDetail",
    "accept_work_order",
    "decline_work_order",
    "flag_sla_breaches",
    "get_work_order_detail",
    "open_work_order_for",
    "open_work_orders",
    "override_crew",
]


class Source(StrEnum):
    """What opened a work order; with `source_ref` it names the one object it answers."""

    MANUAL = "manual"
    ALARM = "alarm"
    PLAN = "plan"  # source_ref: the due visit's id
    VISIT = "visit"  # source_ref: the visit whose checklist found failed items


class Urgency(StrEnum):
    """How fast the work must be done."""

    ENTRAPMENT = "entrapment"
    CRITICAL = "critical"
    FAULT = "fault"
    ROUTINE = "routine"


@dataclass(frozen=True)
class Sla:
    """The priority an urgency gets and how long after opening the work must be done (None: by its due date)."""

    priority: int
    within: timedelta | None


# Entrapment rescue within 30 min and a critical fault within 4 h are what maintenance contracts and local rules
# commonly promise; an ordinary fault by the next day; routine visits by their statutory due date.
SLA: dict[Urgency, Sla] = {
    Urgency.ENTRAPMENT: Sla(1, timedelta(minutes=30)),
    Urgency.CRITICAL: Sla(2, timedelta(hours=4)),
    Urgency.FAULT: Sla(3, timedelta(hours=24)),
    Urgency.ROUTINE: Sla(4, None),
}

_COLUMNS = sql.SQL(
    "id, unit_id, maintainer_id, crew_id, kind, status, priority, title, description, source, source_ref,"
    " due_at, completed_at, verified_at, verification, version, created_at, updated_at,"
    " urgency, evidence, dispatch, accepted_at, sla_breached_at"
)


class WorkOrderDetail(WorkOrder):
    """A work order with its urgency, evidence, dispatch explanation, acceptance and SLA breach."""

    urgency: Urgency
    evidence: dict[str, Any] | None
    dispatch: dict[str, Any] | None
    accepted_at: datetime | None
    sla_breached_at: datetime | None


class Decline(BaseModel):
    """A crew declines the work order it was given."""

    model_config = ConfigDict(extra="forbid")
    reason: Text


class CrewOverride(BaseModel):
    """A person gives the work order to another crew of its maintainer."""

    model_config = ConfigDict(extra="forbid")
    crew_id: UUID
    reason: Text


def get_work_order_detail(conn: Connection, *, tenant: TenantScope, work_order_id: UUID) -> WorkOrderDetail:
    """One work order the tenant may see, with the planning fields, or NotFound."""
    query = sql.SQL("SELECT {} FROM work_orders WHERE id = %(id)s AND {}").format(
        _COLUMNS, tenant.maintainer_predicate("maintainer_id", "crew_id")
    )
    return fetch_one(conn, query, {"id": work_order_id}, model=WorkOrderDetail, what="work order")


@dataclass(frozen=True)
class NewOrder:
    """A work order to open for one source object."""

    unit_id: str
    source: Source
    source_ref: str
    kind: WorkOrderKind
    urgency: Urgency
    title: str
    evidence: dict[str, Any]
    due_at: datetime | None = None


def _due_at(order: NewOrder, now: datetime) -> datetime | None:
    within = SLA[order.urgency].within
    return order.due_at if within is None else now + within


_INSERT = sql.SQL("""
INSERT INTO work_orders (unit_id, maintainer_id, kind, priority, title, source, source_ref, due_at, urgency, evidence,
                         created_at, updated_at)
SELECT n.unit, c.maintainer_id, n.kind, n.priority, n.title, n.source, n.ref, n.due, n.urgency, n.evidence,
       %(now)s, %(now)s
FROM unnest(%(units)s::text[], %(kinds)s::text[], %(priorities)s::int[], %(titles)s::text[], %(sources)s::text[],
            %(refs)s::text[], %(dues)s::timestamptz[], %(urgencies)s::text[], %(evidence)s::jsonb[])
     AS n(unit, kind, priority, title, source, ref, due, urgency, evidence)
LEFT JOIN LATERAL (SELECT maintainer_id FROM maintenance_contracts m WHERE m.unit_id = n.unit AND {}
                   ORDER BY starts_on DESC LIMIT 1) c ON true
ON CONFLICT (source, source_ref) WHERE source_ref IS NOT NULL DO NOTHING
RETURNING id, source_ref
""").format(CURRENT_CONTRACT)


def open_work_orders(conn: Connection, *, orders: list[NewOrder], now: datetime) -> dict[str, UUID]:
    """Open and dispatch the work orders whose (source, source_ref) has none yet; the new ones by source_ref.

    Each goes to the unit's current contract holder, with the priority and due time of its urgency's SLA.
    """
    params = {
        "now": now,
        "units": [o.unit_id for o in orders],
        "kinds": [str(o.kind) for o in orders],
        "priorities": [SLA[o.urgency].priority for o in orders],
        "titles": [o.title for o in orders],
        "sources": [str(o.source) for o in orders],
        "refs": [o.source_ref for o in orders],
        "dues": [_due_at(o, now) for o in orders],
        "urgencies": [str(o.urgency) for o in orders],
        "evidence": [Jsonb(o.evidence) for o in orders],
    }
    with translate_errors():
        try:
            rows = conn.execute(_INSERT, params).fetchall()
        except pg.NotNullViolation as error:  # the contract lookup found no maintainer
            raise BadRequest("a unit has no current maintenance contract: nobody to send") from error
    opened = {str(r["source_ref"]): r["id"] for r in rows if isinstance(r["id"], UUID)}
    if opened:
        why = {o.source_ref: f"{o.source} {o.source_ref}: {o.title}" for o in orders}
        record_history(conn, work_order_ids=list(opened.values()), action=Action.OPENED, actor=SYSTEM_ACTOR, at=now,
                       to_status="open", reason=[why[ref] for ref in opened])  # fmt: skip
        dispatch_work_orders(conn, work_order_ids=list(opened.values()), at=now)
    return opened


def open_work_order_for(
    conn: Connection,
    *,
    tenant: TenantScope,
    unit_id: str,
    source: Source,
    source_ref: str,
    kind: WorkOrderKind,
    urgency: Urgency,
    title: str,
    evidence: JsonObject,
    now: datetime,
    due_at: datetime | None = None,
) -> tuple[WorkOrderDetail, bool]:
    """The one work order answering (source, source_ref), opened and dispatched if new; True when opened now."""
    require_visible_unit(conn, tenant=tenant, unit_id=unit_id)
    new = NewOrder(unit_id, source, source_ref, kind, urgency, title, evidence, due_at)
    opened = open_work_orders(conn, orders=[new], now=now)
    if source_ref in opened:
        return get_work_order_detail(conn, tenant=TenantScope.internal(), work_order_id=opened[source_ref]), True
    query = sql.SQL("SELECT {} FROM work_orders WHERE source = %(s)s AND source_ref = %(r)s").format(_COLUMNS)
    existing = fetch_one(conn, query, {"s": str(source), "r": source_ref}, model=WorkOrderDetail, what="work order")
    return existing, False


def _own_assigned(conn: Connection, tenant: TenantScope, work_order_id: UUID) -> WorkOrderDetail:
    if tenant.visibility is not Visibility.CREW:
        raise BadRequest("only the crew a work order is assigned to accepts or declines it")
    order = get_work_order_detail(conn, tenant=tenant, work_order_id=work_order_id)
    if order.status != "assigned":
        raise Conflict(f"a work order that is {order.status} cannot be accepted or declined")
    return order


def accept_work_order(
    conn: Connection, *, tenant: TenantScope, work_order_id: UUID, now: datetime, actor: str = SYSTEM_ACTOR
) -> WorkOrderDetail:
    """The assigned crew takes the work order (again: no change)."""
    order = _own_assigned(conn, tenant, work_order_id)
    if order.accepted_at is not None:
        return order
    conn.execute(
        "UPDATE work_orders SET accepted_at = %(now)s, version = version + 1, updated_at = clock_timestamp()"
        " WHERE id = %(id)s",
        {"id": work_order_id, "now": now},
    )
    record_history(conn, work_order_ids=[work_order_id], action=Action.ACCEPTED, actor=actor, at=now,
                   from_status=order.status, to_status=order.status, crew_id=order.crew_id)  # fmt: skip
    return get_work_order_detail(conn, tenant=tenant, work_order_id=work_order_id)


def decline_work_order(
    conn: Connection,
    *,
    tenant: TenantScope,
    work_order_id: UUID,
    decline: Decline,
    now: datetime,
    actor: str = SYSTEM_ACTOR,
) -> UUID | None:
    """The assigned crew gives the work order back; dispatch passes it to the next crew (returned, None: nobody)."""
    order = _own_assigned(conn, tenant, work_order_id)
    conn.execute(
        "INSERT INTO work_order_declines (work_order_id, crew_id, declined_at, reason)"
        " VALUES (%(id)s, %(crew)s, %(now)s, %(reason)s) ON CONFLICT DO NOTHING",
        {"id": work_order_id, "crew": tenant.crew_id, "now": now, "reason": decline.reason},
    )
    record_history(conn, work_order_ids=[work_order_id], action=Action.DECLINED, actor=actor, at=now,
                   reason=decline.reason, from_status=order.status, crew_id=order.crew_id)  # fmt: skip
    return dispatch_work_orders(conn, work_order_ids=[work_order_id], at=now)[work_order_id]


def override_crew(
    conn: Connection, *, tenant: TenantScope, work_order_id: UUID, override: CrewOverride, actor: str
) -> WorkOrderDetail:
    """A person assigns another crew of the work order's maintainer, overriding dispatch (the reason is kept)."""
    order = get_work_order_detail(conn, tenant=tenant, work_order_id=work_order_id)
    if tenant.visibility is Visibility.CREW:
        raise BadRequest("a crew cannot reassign work; decline it instead")
    if order.status not in ("open", "assigned"):
        raise Conflict(f"a work order that is {order.status} cannot be reassigned")
    if crew_maintainer_id(conn, crew_id=override.crew_id) != order.maintainer_id:
        raise NotFound("no such crew at this work order's maintainer")
    dispatch = {
        "override": {"by": actor, "reason": override.reason},
        "previous_crew": order.crew_id and str(order.crew_id),
    }
    assign_crew(conn, work_order_id=work_order_id, crew_id=override.crew_id, dispatch=dispatch)
    record_history(conn, work_order_ids=[work_order_id], action=Action.REASSIGNED, actor=actor,
                   reason=override.reason, from_status=order.status, to_status="assigned", crew_id=override.crew_id,
                   data={"previous_crew": dispatch["previous_crew"]})  # fmt: skip
    return get_work_order_detail(conn, tenant=tenant, work_order_id=work_order_id)


def flag_sla_breaches(conn: Connection, *, now: datetime) -> int:
    """Mark unfinished work orders past their due time as breaching their SLA; how many were newly flagged."""
    rows = conn.execute(
        "UPDATE work_orders SET sla_breached_at = %(now)s WHERE status IN ('open', 'assigned', 'in_progress')"
        " AND sla_breached_at IS NULL AND due_at < %(now)s RETURNING id",
        {"now": now},
    ).fetchall()
    breached = [r["id"] for r in rows if isinstance(r["id"], UUID)]
    record_history(conn, work_order_ids=breached, action=Action.SLA_BREACHED, actor=SYSTEM_ACTOR, at=now,
                   reason="past its due time and not finished")  # fmt: skip
    return len(breached)
