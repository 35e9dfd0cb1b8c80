"""Energy performance as callers read it: each visible unit's latest classified month, a unit's months, and the
fleet's class counts. The quality job writes the months (models.quality.energy_rollup)."""

from __future__ import annotations

from datetime import date, datetime

from psycopg import sql
from pydantic import BaseModel

from models.access.tenancy import TenantScope
from models.db import Connection
from models.queries import Page, PageParams, fetch_page

__all__ = ["ClassCount", "EnergyMonth", "class_counts", "latest_months", "unit_months"]


class EnergyMonth(BaseModel):
    """One unit's month: usage, running energy per trip, standby power, ISO 25745-2 classes, and drift."""

    unit_id: str
    month: date
    hours: float
    trips: int
    energy_kwh: float
    standby_power_w: float | None
    running_kwh_per_trip: float | None
    specific_running_mwh: float | None
    usage_category: int | None
    daily_kwh: float | None
    running_class: str | None
    standby_class: str | None
    energy_class: str | None
    drift: bool | None
    drift_reason: str | None
    computed_at: datetime


class ClassCount(BaseModel):
    """How many visible units' latest months fall in one class of one kind (running, standby, total)."""

    kind: str
    energy_class: str
    units: int


_SELECT = sql.SQL(
    "SELECT unit_id, month, hours, trips, energy_kwh, standby_power_w, running_kwh_per_trip, specific_running_mwh,"
    " usage_category, daily_kwh, running_class, standby_class, energy_class, drift, drift_reason, computed_at"
    " FROM unit_energy_months"
)


def latest_months(
    conn: Connection,
    *,
    tenant: TenantScope,
    page: PageParams,
    energy_class: str | None = None,
    drifting: bool | None = None,
) -> Page[EnergyMonth]:
    """Each visible unit's latest classified month (optionally of one total class, or drifting), by unit."""
    query = sql.SQL(
        "SELECT * FROM (SELECT DISTINCT ON (unit_id) * FROM ({select} WHERE energy_class IS NOT NULL"
        " AND {units}) m ORDER BY unit_id, month DESC) l WHERE (%(class)s::text IS NULL OR l.energy_class = %(class)s)"
        " AND (%(drift)s::boolean IS NULL OR l.drift IS NOT DISTINCT FROM %(drift)s) ORDER BY l.unit_id"
    ).format(select=_SELECT, units=tenant.units_predicate("unit_id"))
    return fetch_page(conn, query, {"class": energy_class, "drift": drifting}, model=EnergyMonth, page=page)


def unit_months(conn: Connection, *, tenant: TenantScope, unit_id: str, page: PageParams) -> Page[EnergyMonth]:
    """One visible unit's months, newest first (empty for a unit the tenant does not see)."""
    query = sql.SQL("{select} WHERE unit_id = %(unit)s AND {units} ORDER BY month DESC").format(
        select=_SELECT, units=tenant.units_predicate("unit_id")
    )
    return fetch_page(conn, query, {"unit": unit_id}, model=EnergyMonth, page=page)


def class_counts(conn: Connection, *, tenant: TenantScope) -> list[ClassCount]:
    """Per kind (running, standby, total) and class: the visible units whose latest classified month is in it."""
    query = sql.SQL(
        "WITH latest AS (SELECT DISTINCT ON (unit_id) running_class, standby_class, energy_class"
        " FROM unit_energy_months WHERE energy_class IS NOT NULL AND {units} ORDER BY unit_id, month DESC)"
        " SELECT k.kind, k.energy_class, count(*) AS units FROM latest,"
        " LATERAL (VALUES ('running', running_class), ('standby', standby_class), ('total', energy_class))"
        " AS k(kind, energy_class) GROUP BY k.kind, k.energy_class ORDER BY k.kind, k.energy_class"
    ).format(units=tenant.units_predicate("unit_id"))
    return [ClassCount.model_validate(row) for row in conn.execute(query).fetchall()]
