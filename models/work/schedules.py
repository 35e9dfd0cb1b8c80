"""Each unit's plan and its schedule: when every interval of the plan is next due, moved on by completed visits."""

from __future__ import annotations

from datetime import date, timedelta

from psycopg import sql
from pydantic import BaseModel

from models.access.tenancy import TenantScope
from models.db import Connection
from models.errors import Conflict, NotFound
from models.registry.units import require_visible_unit
from models.sqlerrors import translate_errors
from models.work.plans import DEFAULT_PLAN_BY_DRIVE, load_plan

__all__ = [
    "Schedule",
    "UnitPlan",
    "advance_schedules",
    "assign_default_plans",
    "assign_plan",
    "get_unit_plan",
    "set_interval_days",
]


class Schedule(BaseModel):
    """One interval of a unit's plan: its current length and when it is next due."""

    interval_code: str
    interval_days: int
    last_done_on: date | None
    next_due_on: date


class UnitPlan(BaseModel):
    """The plan a unit follows and its schedules."""

    unit_id: str
    plan_code: str
    plan_version: str
    starts_on: date
    schedules: list[Schedule]


def _insert_schedules(conn: Connection, *, unit_ids: list[str], plan_code: str, starts_on: date) -> None:
    plan = load_plan(plan_code)
    rows = [(i.code, i.days, starts_on + timedelta(days=i.days)) for i in plan.intervals]
    conn.execute(
        "INSERT INTO plan_schedules (unit_id, interval_code, interval_days, next_due_on)"
        " SELECT u, i.code, i.days, i.due FROM unnest(%(units)s::text[]) AS u"
        " CROSS JOIN unnest(%(codes)s::text[], %(days)s::int[], %(dues)s::date[]) AS i(code, days, due)",
        {"units": unit_ids, "codes": [r[0] for r in rows], "days": [r[1] for r in rows], "dues": [r[2] for r in rows]},
    )


def assign_plan(conn: Connection, *, tenant: TenantScope, unit_id: str, plan_code: str, starts_on: date) -> UnitPlan:
    """Put a unit on a plan from `starts_on`: each interval first comes due one interval later."""
    require_visible_unit(conn, tenant=tenant, unit_id=unit_id)
    plan = load_plan(plan_code)
    with translate_errors():
        row = conn.execute(
            "INSERT INTO unit_plans (unit_id, plan_code, plan_version, starts_on) VALUES (%(u)s, %(c)s, %(v)s, %(s)s)"
            " ON CONFLICT (unit_id) DO NOTHING RETURNING unit_id",
            {"u": unit_id, "c": plan.code, "v": plan.version, "s": starts_on},
        ).fetchone()
    if row is None:
        raise Conflict(f"unit {unit_id} already has a maintenance plan")
    _insert_schedules(conn, unit_ids=[unit_id], plan_code=plan_code, starts_on=starts_on)
    return get_unit_plan(conn, tenant=tenant, unit_id=unit_id)


def assign_default_plans(conn: Connection, *, starts_on: date) -> int:
    """Give every unit in service without a plan the default plan of its drive type; how many got one."""
    assigned = 0
    for plan_code in sorted(set(DEFAULT_PLAN_BY_DRIVE.values())):
        drives = [d for d, c in DEFAULT_PLAN_BY_DRIVE.items() if c == plan_code]
        plan = load_plan(plan_code)
        rows = conn.execute(
            "INSERT INTO unit_plans (unit_id, plan_code, plan_version, starts_on)"
            " SELECT u.id, %(c)s, %(v)s, %(s)s FROM units u JOIN unit_models m ON m.id = u.model_id"
            " WHERE m.drive_type = ANY(%(drives)s) AND u.status IN ('installed', 'in_service', 'out_of_service')"
            " AND NOT EXISTS (SELECT 1 FROM unit_plans p WHERE p.unit_id = u.id)"
            " ON CONFLICT (unit_id) DO NOTHING RETURNING unit_id",
            {"c": plan.code, "v": plan.version, "s": starts_on, "drives": drives},
        ).fetchall()
        unit_ids = [str(r["unit_id"]) for r in rows]
        if unit_ids:
            _insert_schedules(conn, unit_ids=unit_ids, plan_code=plan_code, starts_on=starts_on)
        assigned += len(unit_ids)
    return assigned


def get_unit_plan(conn: Connection, *, tenant: TenantScope, unit_id: str) -> UnitPlan:
    """A visible unit's plan with its schedules, or NotFound."""
    require_visible_unit(conn, tenant=tenant, unit_id=unit_id)
    query = sql.SQL(
        "SELECT p.unit_id, p.plan_code, p.plan_version, p.starts_on, coalesce(jsonb_agg(jsonb_build_object("
        "'interval_code', s.interval_code, 'interval_days', s.interval_days, 'last_done_on', s.last_done_on,"
        " 'next_due_on', s.next_due_on) ORDER BY s.interval_days), '[]') AS schedules"
        " FROM unit_plans p LEFT JOIN plan_schedules s ON s.unit_id = p.unit_id WHERE p.unit_id = %(u)s"
        " GROUP BY p.unit_id"
    )
    row = conn.execute(query, {"u": unit_id}).fetchone()
    if row is None:
        raise NotFound(f"unit {unit_id} has no maintenance plan")
    return UnitPlan.model_validate(row)


def advance_schedules(conn: Connection, *, unit_id: str, intervals: list[str], done_on: date) -> None:
    """Move the given intervals on: each is next due one interval after `done_on`."""
    conn.execute(
        "UPDATE plan_schedules SET last_done_on = %(d)s, next_due_on = %(d)s::date + interval_days"
        " WHERE unit_id = %(u)s AND interval_code = ANY(%(i)s)",
        {"u": unit_id, "i": intervals, "d": done_on},
    )


def set_interval_days(conn: Connection, *, changes: list[tuple[str, str, int]]) -> None:
    """Change intervals' lengths, as (unit, interval, days); next due follows from the last visit or the start."""
    conn.execute(
        "UPDATE plan_schedules s SET interval_days = n.days,"
        " next_due_on = coalesce(s.last_done_on, p.starts_on) + n.days"
        " FROM unit_plans p, unnest(%(units)s::text[], %(codes)s::text[], %(days)s::int[]) AS n(unit, code, days)"
        " WHERE p.unit_id = s.unit_id AND s.unit_id = n.unit AND s.interval_code = n.code",
        {"units": [c[0] for c in changes], "codes": [c[1] for c in changes], "days": [c[2] for c in changes]},
    )
