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

from psycopg import sql
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict

from models.contracts import current_maintainer_id
from models.crews import crew_maintainer_id
from models.db import Connection
from models.errors import BadRequest, Conflict, NotFound
from models.queries import fetch_one
from models.sqlerrors import translate_errors
from models.tenancy import TenantScope, Visibility
from models.types import JsonObject, Text
from models.units import require_visible_unit
from models.work.dispatch import assign_crew, dispatch_work_order
from models.work_orders import WorkOrder, WorkOrderKind

__all__ = [
    "SLA",
    "CrewOverride",
    "Decline",
    "Sla",
    "Source",
    "Urgency",
    "WorkOrderDetail",
    "accept_work_order",
    "decline_work_order",
    "flag_sla_breaches",
    "get_work_order_detail",
    "open_work_order_for",
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

_COLUMNS = (
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


def get_work_order_detail(conn: Connection, *, scope: TenantScope, work_order_id: UUID) -> WorkOrderDetail:
    """One work order the scope may see, with the planning fields, or NotFound."""
    query = sql.SQL(f"SELECT {_COLUMNS} FROM work_orders WHERE id = %(id)s AND {{}}").format(
        scope.maintainer_predicate("maintainer_id", "crew_id")
    )
    return fetch_one(conn, query, {"id": work_order_id}, model=WorkOrderDetail, what="work order")


def open_work_order_for(
    conn: Connection,
    *,
    scope: TenantScope,
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
    require_visible_unit(conn, scope=scope, unit_id=unit_id)
    sla = SLA[urgency]
    if sla.within is not None:
        due_at = now + sla.within
    params = {"source": str(source), "ref": source_ref}
    existing = "SELECT id FROM work_orders WHERE source = %(source)s AND source_ref = %(ref)s"
    row = conn.execute(existing, params).fetchone()
    if row is None:
        maintainer_id = current_maintainer_id(conn, unit_id=unit_id)
        if maintainer_id is None:
            raise BadRequest(f"unit {unit_id} has no current maintenance contract")
        insert = (
            "INSERT INTO work_orders (unit_id, maintainer_id, kind, priority, title, source, source_ref, due_at,"
            " urgency, evidence, created_at, updated_at) VALUES (%(unit)s, %(m)s, %(kind)s, %(priority)s, %(title)s,"
            " %(source)s, %(ref)s, %(due)s, %(urgency)s, %(evidence)s, %(now)s, %(now)s)"
            " ON CONFLICT (source, source_ref) WHERE source_ref IS NOT NULL DO NOTHING RETURNING id"
        )
        values = {"unit": unit_id, "m": maintainer_id, "kind": str(kind), "priority": sla.priority, "title": title,
                  "due": due_at, "urgency": str(urgency), "evidence": Jsonb(evidence), "now": now}  # fmt: skip
        with translate_errors():
            created = conn.execute(insert, {**params, **values}).fetchone()
        if created is not None:
            new_id = created["id"]
            assert isinstance(new_id, UUID)
            dispatch_work_order(conn, work_order_id=new_id)
            return get_work_order_detail(conn, scope=TenantScope.internal(), work_order_id=new_id), True
        row = conn.execute(existing, params).fetchone()  # a concurrent run opened it between our two statements
        assert row is not None
    order_id = row["id"]
    assert isinstance(order_id, UUID)
    return get_work_order_detail(conn, scope=TenantScope.internal(), work_order_id=order_id), False


def _own_assigned(conn: Connection, scope: TenantScope, work_order_id: UUID) -> WorkOrderDetail:
    if scope.visibility is not Visibility.CREW:
        raise BadRequest("only the crew a work order is assigned to accepts or declines it")
    order = get_work_order_detail(conn, scope=scope, work_order_id=work_order_id)
    if order.status != "assigned":
        raise Conflict(f"a work order that is {order.status} cannot be accepted or declined")
    return order


def accept_work_order(conn: Connection, *, scope: TenantScope, work_order_id: UUID, now: datetime) -> WorkOrderDetail:
    """The assigned crew takes the work order (again: no change)."""
    order = _own_assigned(conn, scope, work_order_id)
    if order.accepted_at is not None:
        return order
    conn.execute(
        "UPDATE work_orders SET accepted_at = %(now)s, version = version + 1, updated_at = clock_timestamp()"
        " WHERE id = %(id)s",
        {"id": work_order_id, "now": now},
    )
    return get_work_order_detail(conn, scope=scope, work_order_id=work_order_id)


def decline_work_order(
    conn: Connection, *, scope: TenantScope, work_order_id: UUID, decline: Decline, now: datetime
) -> UUID | None:
    """The assigned crew gives the work order back; dispatch passes it to the next crew (returned, None: nobody)."""
    _own_assigned(conn, scope, work_order_id)
    conn.execute(
        "INSERT INTO work_order_declines (work_order_id, crew_id, declined_at, reason)"
        " VALUES (%(id)s, %(crew)s, %(now)s, %(reason)s) ON CONFLICT DO NOTHING",
        {"id": work_order_id, "crew": scope.crew_id, "now": now, "reason": decline.reason},
    )
    return dispatch_work_order(conn, work_order_id=work_order_id)


def override_crew(
    conn: Connection, *, scope: TenantScope, work_order_id: UUID, override: CrewOverride, actor: str
) -> WorkOrderDetail:
    """A person assigns another crew of the work order's maintainer, overriding dispatch (the reason is kept)."""
    order = get_work_order_detail(conn, scope=scope, work_order_id=work_order_id)
    if scope.visibility is Visibility.CREW:
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
    return get_work_order_detail(conn, scope=scope, work_order_id=work_order_id)


def flag_sla_breaches(conn: Connection, *, now: datetime) -> int:
    """Mark unfinished work orders past their due time as breaching their SLA; how many were newly flagged."""
    cur = conn.execute(
        "UPDATE work_orders SET sla_breached_at = %(now)s WHERE status IN ('open', 'assigned', 'in_progress')"
        " AND sla_breached_at IS NULL AND due_at < %(now)s",
        {"now": now},
    )
    return cur.rowcount
