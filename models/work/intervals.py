"""On-demand intervals: a monitored unit with a good record may stretch its routine interval up to a ceiling;
poor health, recent faults, failed items or an overdue visit shrink it back. Every decision is recorded with
its reasons, and a person may override it (until a date, or until lifted).

The signals come through one function, `unit_signals`, computed today from fault events, visits and the
device's last contact; health scores (built by the detection jobs) join it there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from models.access.tenancy import TenantScope
from models.db import Connection
from models.errors import BadRequest
from models.queries import Page, PageParams, fetch_page
from models.registry.units import require_visible_unit
from models.types import Text
from models.work.plans import load_plan
from models.work.schedules import get_unit_plan, set_interval_days

__all__ = [
    "IntervalChange",
    "IntervalDecision",
    "IntervalOverride",
    "UnitSignals",
    "apply_changes",
    "decide_interval",
    "list_decisions",
    "override_interval",
    "review_intervals",
    "unit_signals",
]

# The record a stretch is judged on: one quarter, the statutory quarterly cycle.
LOOKBACK = timedelta(days=90)
# A unit is monitored when its device reported within a day (a silent gateway is no monitoring).
MONITORED_WITHIN = timedelta(hours=24)
# This many faults in the lookback mean the unit needs its statutory rhythm back; fewer only halve the stretch.
FAULTS_TO_SHRINK = 3
# A stretch needs a record: this many completed visits first.
MIN_VISITS_TO_STRETCH = 2
# A person may set anything up to a quarter (the on-demand pilots allow at most three months).
MAX_OVERRIDE_DAYS = 92


@dataclass(frozen=True)
class UnitSignals:
    """What an interval decision reads about one unit."""

    monitored: bool
    faults: int
    overdue_visits: int
    failed_items: int
    visits_done: int
    health: float | None = None  # filled once health scores exist


@dataclass(frozen=True)
class IntervalChange:
    """A decided change of a unit's routine interval."""

    unit_id: str
    interval_code: str
    previous_days: int
    days: int
    reasons: list[str]


class IntervalOverride(BaseModel):
    """A person's choice of a unit's routine interval."""

    model_config = ConfigDict(extra="forbid")
    days: Annotated[StrictInt, Field(ge=1, le=MAX_OVERRIDE_DAYS)]
    reason: Text
    until: date | None = None


class IntervalDecision(BaseModel):
    """A recorded decision."""

    id: int
    unit_id: str
    interval_code: str
    decided_at: datetime
    interval_days: int
    previous_days: int
    source: str
    actor: str
    reasons: list[str]
    until: date | None


_SIGNALS = """
SELECT p.unit_id, coalesce(u.last_seen >= %(monitored_since)s, false) AS monitored,
       coalesce(f.n, 0) AS faults, coalesce(o.n, 0) AS overdue_visits,
       coalesce(l.failed, 0) AS failed_items, coalesce(l.done, 0) AS visits_done
FROM unit_plans p JOIN units u ON u.id = p.unit_id
LEFT JOIN (SELECT unit_id, count(*) AS n FROM events WHERE category = 'fault' AND time > %(since)s
           AND time <= %(now)s GROUP BY unit_id) f ON f.unit_id = p.unit_id
LEFT JOIN (SELECT unit_id, count(*) AS n FROM maintenance_visits WHERE completed_at IS NULL AND due_on < %(today)s
           GROUP BY unit_id) o ON o.unit_id = p.unit_id
LEFT JOIN LATERAL (
    SELECT (SELECT count(*) FROM maintenance_visits d
            WHERE d.unit_id = p.unit_id AND d.completed_at IS NOT NULL) AS done,
           (SELECT count(*) FROM visit_item_results r WHERE r.outcome = 'fail' AND r.visit_id = (
                SELECT v.id FROM maintenance_visits v WHERE v.unit_id = p.unit_id AND v.completed_at IS NOT NULL
                ORDER BY v.completed_at DESC LIMIT 1)) AS failed
) l ON true
WHERE %(units)s::text[] IS NULL OR p.unit_id = ANY(%(units)s)
"""


def unit_signals(conn: Connection, *, now: datetime, unit_ids: list[str] | None = None) -> dict[str, UnitSignals]:
    """The signals of every planned unit (or of `unit_ids`) as of `now`."""
    params = {"now": now, "since": now - LOOKBACK, "monitored_since": now - MONITORED_WITHIN, "today": now.date(),
              "units": unit_ids}  # fmt: skip
    rows = conn.execute(_SIGNALS, params).fetchall()
    return {
        str(r["unit_id"]): UnitSignals(
            monitored=bool(r["monitored"]),
            faults=int(str(r["faults"])),
            overdue_visits=int(str(r["overdue_visits"])),
            failed_items=int(str(r["failed_items"])),
            visits_done=int(str(r["visits_done"])),
        )
        for r in rows
    }


def decide_interval(signals: UnitSignals, *, base_days: int, ceiling_days: int) -> tuple[int, list[str]]:
    """The routine interval a unit earns, with the reasons (base: the plan's statutory interval)."""
    shrink = []
    if not signals.monitored:
        shrink.append("not monitored: no data from the unit in the last 24 h")
    if signals.overdue_visits:
        shrink.append(f"{signals.overdue_visits} visit(s) overdue")
    if signals.faults >= FAULTS_TO_SHRINK:
        shrink.append(f"{signals.faults} faults in the last {LOOKBACK.days} days")
    if signals.failed_items:
        shrink.append(f"the last visit found {signals.failed_items} failed item(s)")
    if signals.visits_done < MIN_VISITS_TO_STRETCH:
        shrink.append(f"{signals.visits_done} visit(s) on record; a stretch needs {MIN_VISITS_TO_STRETCH}")
    if shrink:
        return base_days, shrink
    if signals.faults:
        halfway = (base_days + ceiling_days) // 2
        return halfway, [f"monitored with a clean record but {signals.faults} fault(s) in {LOOKBACK.days} days"]
    return ceiling_days, [f"monitored, no faults in {LOOKBACK.days} days, nothing overdue, last visit clean"]


_CURRENT = """
SELECT p.unit_id, p.plan_code, s.interval_code, s.interval_days, d.source, d.until
FROM unit_plans p JOIN plan_schedules s ON s.unit_id = p.unit_id AND s.interval_code = %(code)s
LEFT JOIN LATERAL (SELECT source, until FROM interval_decisions x WHERE x.unit_id = p.unit_id
                   ORDER BY decided_at DESC, id DESC LIMIT 1) d ON true
WHERE p.plan_code = %(plan)s AND (%(units)s::text[] IS NULL OR p.unit_id = ANY(%(units)s))
"""


def review_intervals(
    conn: Connection, *, now: datetime, ceiling_days: int, unit_ids: list[str] | None = None
) -> list[IntervalChange]:
    """The routine intervals that should change now (units under a person's override in force are left alone)."""
    signals = unit_signals(conn, now=now, unit_ids=unit_ids)
    plans = [str(r["plan_code"]) for r in conn.execute("SELECT DISTINCT plan_code FROM unit_plans").fetchall()]
    changes = []
    for plan_code in plans:
        routine = load_plan(plan_code).routine
        if routine is None:
            continue
        rows = conn.execute(_CURRENT, {"code": routine.code, "plan": plan_code, "units": unit_ids}).fetchall()
        for row in rows:
            until = row["until"]
            if row["source"] == "override" and (until is None or (isinstance(until, date) and until >= now.date())):
                continue
            unit_id, current = str(row["unit_id"]), int(str(row["interval_days"]))
            days, reasons = decide_interval(signals[unit_id], base_days=routine.days, ceiling_days=ceiling_days)
            if days != current:
                changes.append(IntervalChange(unit_id, routine.code, current, days, reasons))
    return changes


def _record(
    conn: Connection, changes: list[IntervalChange], *, source: str, actor: str, at: datetime, until: date | None
) -> None:
    conn.execute(
        "INSERT INTO interval_decisions (unit_id, interval_code, decided_at, interval_days, previous_days, source,"
        " actor, reasons, until) SELECT n.unit, n.code, %(at)s, n.days, n.previous, %(s)s, %(a)s, n.reasons, %(until)s"
        " FROM unnest(%(units)s::text[], %(codes)s::text[], %(days)s::int[], %(previous)s::int[], %(reasons)s::jsonb[])"
        " AS n(unit, code, days, previous, reasons)",
        {"at": at, "s": source, "a": actor, "until": until, "units": [c.unit_id for c in changes],
         "codes": [c.interval_code for c in changes], "days": [c.days for c in changes],
         "previous": [c.previous_days for c in changes], "reasons": [Jsonb(c.reasons) for c in changes]},
    )  # fmt: skip
    set_interval_days(conn, changes=[(c.unit_id, c.interval_code, c.days) for c in changes])


def apply_changes(conn: Connection, *, changes: list[IntervalChange], now: datetime) -> None:
    """Record automatic decisions and reschedule each interval from its last visit."""
    _record(conn, changes, source="auto", actor="planning", at=now, until=None)


def override_interval(
    conn: Connection, *, tenant: TenantScope, unit_id: str, override: IntervalOverride, actor: str, now: datetime
) -> IntervalDecision:
    """A person sets the unit's routine interval (kept until `until`, or until another decision lifts it)."""
    unit_plan = get_unit_plan(conn, tenant=tenant, unit_id=unit_id)
    routine = load_plan(unit_plan.plan_code).routine
    if routine is None:
        raise BadRequest(f"plan {unit_plan.plan_code} has no interval that may be stretched")
    if override.until is not None and override.until < now.date():
        raise BadRequest("until is in the past")
    current = next(s.interval_days for s in unit_plan.schedules if s.interval_code == routine.code)
    change = IntervalChange(unit_id, routine.code, current, override.days, [override.reason])
    _record(conn, [change], source="override", actor=actor, at=now, until=override.until)
    return list_decisions(conn, tenant=tenant, unit_id=unit_id, page=PageParams(limit=1)).items[0]


def list_decisions(conn: Connection, *, tenant: TenantScope, unit_id: str, page: PageParams) -> Page[IntervalDecision]:
    """A visible unit's interval decisions, newest first."""
    require_visible_unit(conn, tenant=tenant, unit_id=unit_id)
    query = (
        "SELECT id, unit_id, interval_code, decided_at, interval_days, previous_days, source, actor, reasons, until"
        " FROM interval_decisions WHERE unit_id = %(u)s ORDER BY decided_at DESC, id DESC"
    )
    params: dict[str, Any] = {"u": unit_id}
    return fetch_page(conn, query, params, model=IntervalDecision, page=page)
