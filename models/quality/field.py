"""Field views from events and the lifecycle record: the regulator's (entrapments and rescue times by maintainer,
overdue statutory maintenance and inspection) and the fault Pareto of each unit model.

Every query takes the caller's `TenantScope`: a regulator reads the units of its region, the platform all.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import UUID

from psycopg import sql
from pydantic import BaseModel

from models.access.tenancy import TenantScope
from models.db import Connection
from models.queries import Page, PageParams, fetch_page

__all__ = [
    "MAINTENANCE_INTERVAL",
    "RESCUE_SLA",
    "EntrapmentMonth",
    "FaultCost",
    "OverdueUnit",
    "entrapments_by_maintainer",
    "fault_pareto",
    "overdue_units",
]

# TSG T5002: statutory maintenance every 15 days; a periodic inspection every year.
MAINTENANCE_INTERVAL = timedelta(days=15)
INSPECTION_INTERVAL = timedelta(days=365)
# GB/T 18775 and most city rules: trapped passengers are to be freed within 30 minutes of the call.
RESCUE_SLA = timedelta(minutes=30)
# A fault's downtime runs to the unit's next back-to-normal event; past this it is an outage of another kind.
MAX_DOWNTIME = timedelta(days=3)


class EntrapmentMonth(BaseModel):
    """One maintainer's month: entrapments per 1,000 units under its contracts, and rescue-time compliance."""

    month: date
    maintainer_id: UUID
    maintainer_name: str
    units: int
    entrapments: int
    per_1000_units: float
    rescued_within_sla: int
    rescue_minutes_median: float | None


class OverdueUnit(BaseModel):
    """A unit in service whose statutory maintenance or inspection is late (never done counts as late)."""

    unit_id: str
    site_name: str | None
    maintainer_name: str | None
    last_maintenance_at: datetime | None
    last_inspection_at: datetime | None
    maintenance_overdue: bool
    inspection_overdue: bool


class FaultCost(BaseModel):
    """One fault code of one model: how often, and how many hours out of service it cost."""

    model_id: UUID
    model_name: str
    code: str
    faults: int
    units: int
    downtime_hours: float


_ENTRAPMENTS = """
WITH months AS (
    SELECT month FROM generate_series(date_trunc('month', %(since)s::timestamptz), %(until)s::timestamptz,
                                      interval '1 month') month
    WHERE month < %(until)s
), covered AS (
    SELECT m.month, c.maintainer_id, count(DISTINCT c.unit_id) AS units
    FROM months m JOIN maintenance_contracts c
      ON c.starts_on < m.month + interval '1 month' AND (c.ends_on IS NULL OR c.ends_on >= m.month)
    WHERE {units_c}
    GROUP BY m.month, c.maintainer_id
), trapped AS (
    SELECT date_trunc('month', e.time) AS month, c.maintainer_id,
           (SELECT min(b.time) FROM events b WHERE b.unit_id = e.unit_id AND b.code = 'back_to_normal'
             AND b.time > e.time AND b.time < e.time + %(max_down)s) - e.time AS rescue
    FROM events e JOIN maintenance_contracts c ON c.unit_id = e.unit_id
      AND c.starts_on <= e.time::date AND (c.ends_on IS NULL OR c.ends_on >= e.time::date)
    WHERE e.code = 'entrapment' AND e.time >= %(since)s AND e.time < %(until)s AND {units_e}
)
SELECT v.month::date AS month, v.maintainer_id, o.name AS maintainer_name, v.units,
       count(t.maintainer_id) AS entrapments,
       round((count(t.maintainer_id) * 1000.0 / v.units)::numeric, 2)::float AS per_1000_units,
       count(t.rescue) FILTER (WHERE t.rescue <= %(sla)s) AS rescued_within_sla,
       (percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t.rescue)) / 60.0) AS rescue_minutes_median
FROM covered v JOIN organizations o ON o.id = v.maintainer_id
LEFT JOIN trapped t ON t.month = v.month AND t.maintainer_id = v.maintainer_id
GROUP BY v.month, v.maintainer_id, o.name, v.units
ORDER BY v.month, per_1000_units DESC, o.name
"""


def entrapments_by_maintainer(
    conn: Connection, *, tenant: TenantScope, since: datetime, until: datetime, page: PageParams
) -> Page[EntrapmentMonth]:
    """Per month and maintainer: entrapments per 1,000 units under contract and rescues within RESCUE_SLA."""
    query = sql.SQL(_ENTRAPMENTS).format(
        units_c=tenant.units_predicate("c.unit_id"), units_e=tenant.units_predicate("e.unit_id")
    )
    params = {"since": since, "until": until, "max_down": MAX_DOWNTIME, "sla": RESCUE_SLA}
    return fetch_page(conn, query, params, model=EntrapmentMonth, page=page)


_OVERDUE = """
SELECT * FROM (
SELECT u.id AS unit_id, s.name AS site_name, o.name AS maintainer_name,
       m.at AS last_maintenance_at, i.at AS last_inspection_at,
       coalesce(m.at, '-infinity') < %(now)s - %(maintenance)s AS maintenance_overdue,
       coalesce(i.at, '-infinity') < %(now)s - %(inspection)s AS inspection_overdue
FROM units u
LEFT JOIN sites s ON s.id = u.site_id
LEFT JOIN maintenance_contracts c ON c.unit_id = u.id AND c.starts_on <= %(now)s::date
     AND (c.ends_on IS NULL OR c.ends_on >= %(now)s::date)
LEFT JOIN organizations o ON o.id = c.maintainer_id
LEFT JOIN LATERAL (SELECT max(occurred_at) AS at FROM lifecycle_records r
                   WHERE r.unit_id = u.id AND r.kind = 'maintenance' AND r.occurred_at <= %(now)s) m ON true
LEFT JOIN LATERAL (SELECT max(occurred_at) AS at FROM lifecycle_records r
                   WHERE r.unit_id = u.id AND r.kind = 'inspection' AND r.occurred_at <= %(now)s) i ON true
WHERE u.status IN ('installed', 'in_service') AND {units}
) late WHERE maintenance_overdue OR inspection_overdue
ORDER BY unit_id
"""


def overdue_units(conn: Connection, *, tenant: TenantScope, now: datetime, page: PageParams) -> Page[OverdueUnit]:
    """Units in service whose last maintenance or inspection record is older than its statutory interval."""
    query = sql.SQL(_OVERDUE).format(units=tenant.units_predicate("u.id"))
    params = {"now": now, "maintenance": MAINTENANCE_INTERVAL, "inspection": INSPECTION_INTERVAL}
    return fetch_page(conn, query, params, model=OverdueUnit, page=page)


_PARETO = """
SELECT u.model_id, m.name AS model_name, e.code, count(*) AS faults, count(DISTINCT e.unit_id) AS units,
       coalesce(sum(extract(epoch FROM (
           SELECT min(b.time) FROM events b WHERE b.unit_id = e.unit_id AND b.code = 'back_to_normal'
             AND b.time > e.time AND b.time < e.time + %(max_down)s) - e.time)), 0) / 3600.0 AS downtime_hours
FROM events e JOIN units u ON u.id = e.unit_id JOIN unit_models m ON m.id = u.model_id
WHERE e.category = 'fault' AND e.time >= %(since)s AND e.time < %(until)s
  AND (%(model)s::uuid IS NULL OR u.model_id = %(model)s) AND {units}
GROUP BY u.model_id, m.name, e.code
ORDER BY m.name, downtime_hours DESC, faults DESC, e.code
"""


def fault_pareto(
    conn: Connection,
    *,
    tenant: TenantScope,
    since: datetime,
    until: datetime,
    page: PageParams,
    model_id: UUID | None = None,
) -> Page[FaultCost]:
    """Per model, each fault code's count and downtime (to the next back-to-normal), costliest first."""
    query = sql.SQL(_PARETO).format(units=tenant.units_predicate("e.unit_id"))
    params = {"since": since, "until": until, "model": model_id, "max_down": MAX_DOWNTIME}
    return fetch_page(conn, query, params, model=FaultCost, page=page)
