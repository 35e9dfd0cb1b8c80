"""Maintenance KPIs per crew or per maintainer: response time, time to repair, first-time fix, SLA compliance,
and the visits (and their items) overdue now."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from enum import StrEnum
from uuid import UUID

from psycopg import sql
from pydantic import BaseModel

from models.access.tenancy import TenantScope
from models.db import Connection
from models.errors import BadRequest
from models.work.plans import load_plan

__all__ = ["FIRST_TIME_FIX_WINDOW", "Kpi", "KpiGroup", "kpis"]

# A repair counts as fixed first time when no corrective work order follows on the same unit within this window
# (a month: long enough for an intermittent fault to come back, short enough not to blame an unrelated one).
FIRST_TIME_FIX_WINDOW = timedelta(days=30)


class KpiGroup(StrEnum):
    """Whose figures."""

    CREW = "crew"
    MAINTAINER = "maintainer"


class Kpi(BaseModel):
    """One crew's or maintainer's figures over the work orders opened in the period."""

    group_id: UUID | None
    name: str | None
    orders: int
    completed: int
    response_minutes_p50: float | None
    repair_hours_p50: float | None
    first_time_fix_rate: float | None
    sla_compliance: float | None
    sla_breaches: int
    overdue_visits: int
    overdue_items: int


_FIGURES = """
SELECT {key} AS group_id, count(*) AS orders, count(w.completed_at) AS completed,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM w.accepted_at - w.created_at) / 60)
           AS response_minutes_p50,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM w.completed_at - w.created_at) / 3600)
           AS repair_hours_p50,
       -- fixed first time: never reopened by verification, and no other corrective order on the unit soon after
       count(*) FILTER (WHERE w.kind = 'corrective' AND w.completed_at IS NOT NULL AND w.reopened_count = 0
           AND NOT EXISTS (
           SELECT 1 FROM work_orders r WHERE r.unit_id = w.unit_id AND r.kind = 'corrective' AND r.id <> w.id
           AND r.created_at > w.completed_at AND r.created_at <= w.completed_at + %(window)s))::float
       / nullif(count(*) FILTER (WHERE w.kind = 'corrective' AND w.completed_at IS NOT NULL), 0) AS first_time_fix_rate,
       count(*) FILTER (WHERE w.completed_at <= w.due_at)::float
       / nullif(count(*) FILTER (WHERE w.due_at IS NOT NULL AND (w.completed_at IS NOT NULL OR w.due_at < %(now)s)),
                0) AS sla_compliance,
       count(*) FILTER (WHERE w.due_at < coalesce(w.completed_at, %(now)s)) AS sla_breaches
FROM work_orders w
WHERE w.created_at >= %(since)s AND w.created_at < %(until)s AND {visible}
GROUP BY 1
"""

_OVERDUE = """
SELECT {key} AS group_id, v.plan_code, v.intervals, count(*) AS visits
FROM maintenance_visits v JOIN work_orders w ON w.id = v.work_order_id
WHERE v.completed_at IS NULL AND v.due_on < %(today)s AND {visible}
GROUP BY 1, 2, 3
"""

_NAMES = {
    KpiGroup.CREW: "SELECT id, name FROM crews WHERE id = ANY(%(ids)s)",
    KpiGroup.MAINTAINER: "SELECT id, name FROM organizations WHERE id = ANY(%(ids)s)",
}


def kpis(
    conn: Connection, *, tenant: TenantScope, group: KpiGroup, since: datetime, until: datetime, today: date
) -> list[Kpi]:
    """Figures per crew or maintainer the tenant may see, over work orders opened in [since, until)."""
    if since >= until:
        raise BadRequest("since must be before until")
    key = sql.Identifier("w", "crew_id" if group is KpiGroup.CREW else "maintainer_id")
    visible = tenant.maintainer_predicate("w.maintainer_id", "w.crew_id")
    figures = conn.execute(
        sql.SQL(_FIGURES).format(key=key, visible=visible),
        {"since": since, "until": until, "now": until, "window": FIRST_TIME_FIX_WINDOW},
    ).fetchall()
    overdue_visits: dict[object, int] = defaultdict(int)
    overdue_items: dict[object, int] = defaultdict(int)
    for row in conn.execute(sql.SQL(_OVERDUE).format(key=key, visible=visible), {"today": today}).fetchall():
        count = int(str(row["visits"]))
        intervals = row["intervals"]
        assert isinstance(intervals, list)
        items = load_plan(str(row["plan_code"])).items_for([str(i) for i in intervals])
        overdue_visits[row["group_id"]] += count
        overdue_items[row["group_id"]] += count * len(items)
    empty = {"orders": 0, "completed": 0, "response_minutes_p50": None, "repair_hours_p50": None,
             "first_time_fix_rate": None, "sla_compliance": None, "sla_breaches": 0}  # fmt: skip
    by_group = {r["group_id"]: {**empty, **r} for r in figures}
    for group_id in overdue_visits.keys() - by_group.keys():
        by_group[group_id] = {**empty, "group_id": group_id}
    ids = [g for g in by_group if isinstance(g, UUID)]
    names = {r["id"]: r["name"] for r in conn.execute(_NAMES[group], {"ids": ids}).fetchall()}
    found = [
        Kpi.model_validate(
            {**row, "name": names.get(gid), "overdue_visits": overdue_visits[gid], "overdue_items": overdue_items[gid]}
        )
        for gid, row in by_group.items()
    ]
    return sorted(found, key=lambda k: (k.name or "", str(k.group_id)))
