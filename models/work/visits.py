"""Maintenance visits: opened when a unit's plan comes due, completed with a checklist that moves the plan on.

A unit has at most one open visit; intervals that come due while it is open join it. Completion checks the
checklist against the plan (every item of the visit, nothing else; measured values in the item's unit and
judged against its limits; evidence where the plan asks for it) and then, all at once: stores the results,
moves the schedules on from the completion date, closes the visit's work order, appends a `maintenance`
lifecycle record and opens one corrective work order for the items that failed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID, uuid4

from psycopg import sql
from pydantic import BaseModel

from models.access.tenancy import CURRENT_CONTRACT, TenantScope, Visibility
from models.db import Connection
from models.errors import BadRequest, Conflict
from models.lifecycle.ledger import append_record
from models.queries import Page, PageParams, fetch_one, fetch_page
from models.work.checklists import Outcome, VisitCompletion, judge_checklist
from models.work.history import Action, record_history
from models.work.orders import NewOrder, Source, Urgency, open_work_order_for, open_work_orders
from models.work.plans import PlanItem, load_plan
from models.work.schedules import advance_schedules
from models.work.work_orders import WorkOrderKind

__all__ = [
    "Visit",
    "VisitDetail",
    "complete_visit",
    "get_visit",
    "list_visits",
    "open_due_visits",
    "units_needing_visits",
]

# A phone's clock may run a little ahead of the server's; further ahead is a wrong clock, not a completion.
MAX_CLIENT_CLOCK_AHEAD = timedelta(minutes=5)


class Visit(BaseModel):
    """A stored visit."""

    id: UUID
    unit_id: str
    plan_code: str
    plan_version: str
    intervals: list[str]
    due_on: date
    work_order_id: UUID | None
    completed_at: datetime | None
    recorded_at: datetime | None
    completed_by: str | None
    created_at: datetime


class StoredResult(BaseModel):
    """One stored checklist result."""

    item_code: str
    outcome: Outcome
    value: float | None
    value_unit: str | None
    evidence: list[str] | None
    note: str | None


class VisitDetail(Visit):
    """A visit with the items it covers and, once completed, their results."""

    items: list[PlanItem]
    results: list[StoredResult]


_COLUMNS = sql.SQL(
    "v.id, v.unit_id, v.plan_code, v.plan_version, v.intervals, v.due_on, v.work_order_id, v.completed_at,"
    " v.recorded_at, v.completed_by, v.created_at"
)


def _visible(tenant: TenantScope) -> sql.Composable:
    """A crew sees the visits of its own work orders; a maintainer those of its units."""
    return sql.SQL(
        "{units} AND (v.work_order_id IS NULL AND {all}"
        " OR EXISTS (SELECT 1 FROM work_orders w WHERE w.id = v.work_order_id AND {orders}))"
    ).format(
        units=tenant.units_predicate("v.unit_id"),
        all=sql.SQL("TRUE" if tenant.visibility is Visibility.ALL else "FALSE"),
        orders=tenant.maintainer_predicate("w.maintainer_id", "w.crew_id"),
    )


_DUE = """
SELECT s.unit_id, p.plan_code, p.plan_version, array_agg(s.interval_code) AS due, min(s.next_due_on) AS due_on,
       v.id AS open_id, v.intervals AS open_intervals
FROM plan_schedules s JOIN unit_plans p ON p.unit_id = s.unit_id
LEFT JOIN maintenance_visits v ON v.unit_id = s.unit_id AND v.completed_at IS NULL
WHERE s.unit_id = ANY(%(units)s) AND s.next_due_on <= %(through)s
GROUP BY s.unit_id, p.plan_code, p.plan_version, v.id, v.intervals
"""


def open_due_visits(conn: Connection, *, unit_ids: list[str], through: date, now: datetime) -> list[Visit]:
    """Open (or extend) each unit's visit for every interval due by `through`, each new one with its work order.

    Returns the visits opened or extended; a unit with nothing new due is left alone, so repeating is harmless.
    """
    new: list[tuple[UUID, str, str, str, list[str], date]] = []
    extended: list[tuple[UUID, list[str], date]] = []
    for row in conn.execute(_DUE, {"units": unit_ids, "through": through}).fetchall():
        plan = load_plan(str(row["plan_code"]))
        due_codes, open_codes = row["due"], row["open_intervals"]
        assert isinstance(due_codes, list)
        due = {str(code) for code in due_codes}
        covered = {str(code) for code in open_codes} if isinstance(open_codes, list) else set()
        intervals = [i.code for i in plan.intervals if i.code in set(plan.cumulative(due)) | covered]
        due_on, open_id = row["due_on"], row["open_id"]
        assert isinstance(due_on, date)
        if isinstance(open_id, UUID):
            if set(intervals) != covered:
                extended.append((open_id, intervals, due_on))
        else:
            new.append((uuid4(), str(row["unit_id"]), plan.code, str(row["plan_version"]), intervals, due_on))
    visits = []
    if extended:
        query = sql.SQL(
            "UPDATE maintenance_visits v SET intervals = string_to_array(n.intervals, ','),"
            " due_on = least(v.due_on, n.due)"
            " FROM unnest(%(ids)s::uuid[], %(intervals)s::text[], %(dues)s::date[]) AS n(id, intervals, due)"
            " WHERE v.id = n.id RETURNING {}"
        ).format(_COLUMNS)
        params = {"ids": [e[0] for e in extended], "intervals": [",".join(e[1]) for e in extended],
                  "dues": [e[2] for e in extended]}  # fmt: skip
        visits += [Visit.model_validate(r) for r in conn.execute(query, params).fetchall()]
    if new:
        orders = open_work_orders(conn, orders=[_visit_order(*n) for n in new], now=now)
        query = sql.SQL(
            "INSERT INTO maintenance_visits AS v (id, unit_id, plan_code, plan_version, intervals, due_on,"
            " work_order_id, created_at)"
            " SELECT n.id, n.unit, n.code, n.version, string_to_array(n.intervals, ','), n.due, n.wo, %(now)s"
            " FROM unnest(%(ids)s::uuid[], %(units)s::text[], %(codes)s::text[], %(versions)s::text[],"
            " %(intervals)s::text[], %(dues)s::date[], %(orders)s::uuid[])"
            " AS n(id, unit, code, version, intervals, due, wo) RETURNING {}"
        ).format(_COLUMNS)
        params = {"now": now, "ids": [n[0] for n in new], "units": [n[1] for n in new], "codes": [n[2] for n in new],
                  "versions": [n[3] for n in new], "intervals": [",".join(n[4]) for n in new],
                  "dues": [n[5] for n in new], "orders": [orders.get(str(n[0])) for n in new]}  # fmt: skip
        visits += [Visit.model_validate(r) for r in conn.execute(query, params).fetchall()]
    return visits


def _visit_order(
    visit_id: UUID, unit_id: str, plan_code: str, plan_version: str, intervals: list[str], due_on: date
) -> NewOrder:
    """The routine work order of a new visit, due by the end of its due day (UTC)."""
    return NewOrder(
        unit_id=unit_id,
        source=Source.PLAN,
        source_ref=str(visit_id),
        kind=WorkOrderKind.PREVENTIVE,
        urgency=Urgency.ROUTINE,
        title=f"Maintenance visit ({', '.join(intervals)}) due {due_on.isoformat()}",
        evidence={"visit_id": str(visit_id), "plan": plan_code, "plan_version": plan_version, "intervals": intervals},
        due_at=datetime.combine(due_on + timedelta(days=1), time(0), tzinfo=UTC),
    )


def list_visits(
    conn: Connection, *, tenant: TenantScope, page: PageParams, unit_id: str | None = None, open_only: bool = False
) -> Page[Visit]:
    """Visits the tenant may see, soonest due first."""
    query = sql.SQL(
        "SELECT {} FROM maintenance_visits v WHERE {} AND (%(u)s::text IS NULL OR v.unit_id = %(u)s)"
        " AND (NOT %(open)s OR v.completed_at IS NULL) ORDER BY v.due_on, v.id"
    ).format(_COLUMNS, _visible(tenant))
    return fetch_page(conn, query, {"u": unit_id, "open": open_only}, model=Visit, page=page)


def _get(conn: Connection, tenant: TenantScope, visit_id: UUID, *, lock: bool = False) -> Visit:
    query = sql.SQL("SELECT {} FROM maintenance_visits v WHERE v.id = %(id)s AND {}{}").format(
        _COLUMNS, _visible(tenant), sql.SQL(" FOR UPDATE OF v" if lock else "")
    )
    return fetch_one(conn, query, {"id": visit_id}, model=Visit, what="visit")


def get_visit(conn: Connection, *, tenant: TenantScope, visit_id: UUID) -> VisitDetail:
    """A visit the tenant may see, with its checklist items and results, or NotFound."""
    visit = _get(conn, tenant, visit_id)
    items = list(load_plan(visit.plan_code).items_for(visit.intervals).values())
    rows = conn.execute(
        "SELECT item_code, outcome, value, value_unit, evidence, note FROM visit_item_results"
        " WHERE visit_id = %(id)s ORDER BY item_code",
        {"id": visit_id},
    ).fetchall()
    results = [StoredResult.model_validate(r) for r in rows]
    return VisitDetail(**visit.model_dump(), items=items, results=results)


def complete_visit(
    conn: Connection, *, tenant: TenantScope, visit_id: UUID, completion: VisitCompletion, actor: str, now: datetime
) -> VisitDetail:
    """Record the visit's checklist and move the plan on (a resend with the same idempotency key: no change)."""
    visit = _get(conn, tenant, visit_id, lock=True)
    if visit.completed_at is not None:
        row = conn.execute("SELECT idempotency_key FROM maintenance_visits WHERE id = %(id)s", {"id": visit_id})
        key = row.fetchone()
        if (
            completion.idempotency_key is not None
            and key is not None
            and key["idempotency_key"] == completion.idempotency_key
        ):
            return get_visit(conn, tenant=tenant, visit_id=visit_id)
        raise Conflict("this visit is already completed")
    if visit.work_order_id is not None:
        status = conn.execute(
            "SELECT status FROM work_orders WHERE id = %(id)s", {"id": visit.work_order_id}
        ).fetchone()
        if status is not None and status["status"] == "cancelled":
            raise Conflict("this visit's work order was cancelled")
    completed_at = completion.completed_at or now
    if completed_at > now + MAX_CLIENT_CLOCK_AHEAD:
        raise BadRequest("completed_at is in the future")
    plan = load_plan(visit.plan_code)
    judged = judge_checklist(plan.items_for(visit.intervals), completion.results)
    conn.execute(
        "UPDATE maintenance_visits SET completed_at = %(at)s, recorded_at = %(now)s, completed_by = %(actor)s,"
        " idempotency_key = %(key)s WHERE id = %(id)s",
        {"at": completed_at, "now": now, "actor": actor, "key": completion.idempotency_key, "id": visit_id},
    )
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO visit_item_results (visit_id, item_code, outcome, value, value_unit, evidence, note)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [(visit_id, r.item, str(o), r.value, r.unit, r.evidence or None, r.note) for r, o in judged],
        )
    advance_schedules(
        conn, unit_id=visit.unit_id, intervals=visit.intervals, done_on=completed_at.astimezone(UTC).date()
    )
    failed: list[dict[str, Any]] = [
        {"item": r.item, "text": plan.items_for(visit.intervals)[r.item].text, "value": r.value, "unit": r.unit}
        for r, o in judged
        if o is Outcome.FAIL
    ]
    record = {"visit_id": str(visit_id), "plan": plan.code, "plan_version": visit.plan_version,
              "intervals": visit.intervals, "items": len(judged), "failed": [f["item"] for f in failed]}  # fmt: skip
    # Recorded under the crew's still-open work order, which this completion then closes.
    append_record(conn, tenant=tenant, unit_id=visit.unit_id, kind="maintenance", occurred_at=completed_at,
                  data=record, actor=actor, work_order_id=visit.work_order_id)  # fmt: skip
    closed = conn.execute(
        "UPDATE work_orders w SET status = 'done', completed_at = %(at)s, version = w.version + 1,"
        " updated_at = clock_timestamp() FROM work_orders old WHERE w.id = %(id)s AND old.id = w.id"
        " AND w.status IN ('open', 'assigned', 'in_progress') RETURNING old.status, w.crew_id",
        {"id": visit.work_order_id, "at": completed_at},
    ).fetchone()
    if closed is not None and visit.work_order_id is not None:
        crew = closed["crew_id"] if isinstance(closed["crew_id"], UUID) else None
        record_history(conn, work_order_ids=[visit.work_order_id], action=Action.COMPLETED, actor=actor, at=now,
                       client_at=completion.completed_at, from_status=str(closed["status"]), to_status="done",
                       crew_id=crew, reason=f"visit {visit_id} completed with its checklist",
                       data={"visit_id": str(visit_id), "failed": [f["item"] for f in failed]})  # fmt: skip
    if failed:
        open_work_order_for(
            conn,
            tenant=TenantScope.internal(),
            unit_id=visit.unit_id,
            source=Source.VISIT,
            source_ref=str(visit_id),
            kind=WorkOrderKind.CORRECTIVE,
            urgency=Urgency.FAULT,
            title=f"{len(failed)} maintenance item(s) failed at the visit of {completed_at.date().isoformat()}",
            evidence={"visit_id": str(visit_id), "failed": failed},
            now=now,
        )
    return get_visit(conn, tenant=tenant, visit_id=visit_id)


def units_needing_visits(conn: Connection, *, through: date) -> tuple[list[str], int]:
    """Units due by `through` that no open visit covers, and how many more wait for a contract (nobody to send)."""
    rows = conn.execute(
        sql.SQL(
            "SELECT s.unit_id, bool_or(EXISTS (SELECT 1 FROM maintenance_contracts c WHERE c.unit_id = s.unit_id"
            " AND {})) AS contracted FROM plan_schedules s JOIN units u ON u.id = s.unit_id"
            " WHERE s.next_due_on <= %(t)s AND u.status <> 'decommissioned'"
            " AND NOT EXISTS (SELECT 1 FROM maintenance_visits v WHERE v.unit_id = s.unit_id AND v.completed_at IS NULL"
            " AND s.interval_code = ANY(v.intervals)) GROUP BY s.unit_id ORDER BY s.unit_id"
        ).format(CURRENT_CONTRACT),
        {"t": through},
    ).fetchall()
    return [str(r["unit_id"]) for r in rows if r["contracted"]], sum(1 for r in rows if not r["contracted"])
