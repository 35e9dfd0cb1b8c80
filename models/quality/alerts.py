"""Quality alerts: a batch whose hazard is significantly above its component type's fleet rate, with the units
that carry it (the recall impact), addressed to its supplier and the manufacturers whose units carry it.

The brain raises and refreshes alerts (one per batch, `raise_alert`); a manufacturer or the platform turns one
into a quality issue (models.quality.issues), which marks it `issued`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from psycopg import sql
from pydantic import BaseModel

from models.access.tenancy import TenantScope, Visibility
from models.db import Connection
from models.queries import Page, PageParams, fetch_one, fetch_page

__all__ = [
    "AffectedUnit",
    "AlertFigures",
    "AlertStatus",
    "QualityAlert",
    "get_alert",
    "list_affected_units",
    "list_alerts",
    "raise_alert",
]


class AlertStatus(StrEnum):
    """Open until someone turns it into a quality issue."""

    OPEN = "open"
    ISSUED = "issued"


class AlertFigures(BaseModel):
    """What the batch test found: the batch's failures and exposure against its type's fleet rate."""

    batch_id: UUID
    failures: int
    exposure_hours: float
    rate_per_mh: float
    fleet_rate_per_mh: float
    rate_ratio: float | None
    p_value: float
    affected_units: int


class QualityAlert(AlertFigures):
    """A stored alert, with its batch's lot, component type and supplier."""

    id: UUID
    status: AlertStatus
    raised_at: datetime
    updated_at: datetime
    lot: str
    component_type: str
    supplier_id: UUID
    supplier_name: str


class AffectedUnit(BaseModel):
    """A unit carrying a component of the batch now, down to its site: no owner, building or contract data."""

    unit_id: str
    position: str
    serial: str
    installed_at: datetime
    site_name: str | None
    city: str | None
    region: str | None
    model_name: str | None


_SELECT = sql.SQL("""
SELECT a.id, a.batch_id, a.status, a.raised_at, a.updated_at, a.failures, a.exposure_hours, a.rate_per_mh,
       a.fleet_rate_per_mh, a.rate_ratio, a.p_value, a.affected_units,
       b.lot, b.component_type, b.supplier_id, s.name AS supplier_name
FROM quality_alerts a JOIN component_batches b ON b.id = a.batch_id JOIN suppliers s ON s.id = b.supplier_id
""")


def _visible(tenant: TenantScope) -> sql.Composable:
    """A supplier sees its batches' alerts, a manufacturer those of batches in its units, the rest by units."""
    if tenant.visibility in (Visibility.ALL, Visibility.REGION, Visibility.SUPPLY):
        return tenant.suppliers_predicate("b.supplier_id")
    carriers = sql.SQL(
        "EXISTS (SELECT 1 FROM unit_components uc JOIN components c ON c.id = uc.component_id"
        " WHERE c.batch_id = a.batch_id AND {units})"
    )
    return carriers.format(units=tenant.units_predicate("uc.unit_id"))


def raise_alert(conn: Connection, *, figures: AlertFigures, now: datetime) -> bool:
    """Store the batch's alert or refresh its figures; True when it is new."""
    row = conn.execute(
        "INSERT INTO quality_alerts (batch_id, raised_at, updated_at, failures, exposure_hours, rate_per_mh,"
        " fleet_rate_per_mh, rate_ratio, p_value, affected_units) VALUES (%(batch_id)s, %(now)s, %(now)s,"
        " %(failures)s, %(exposure_hours)s, %(rate_per_mh)s, %(fleet_rate_per_mh)s, %(rate_ratio)s, %(p_value)s,"
        " %(affected_units)s) ON CONFLICT (batch_id) DO UPDATE SET updated_at = excluded.updated_at,"
        " failures = excluded.failures, exposure_hours = excluded.exposure_hours,"
        " rate_per_mh = excluded.rate_per_mh, fleet_rate_per_mh = excluded.fleet_rate_per_mh,"
        " rate_ratio = excluded.rate_ratio, p_value = excluded.p_value, affected_units = excluded.affected_units"
        " RETURNING (xmax = 0) AS inserted",
        {**figures.model_dump(), "now": now},
    ).fetchone()
    return bool(row and row["inserted"])


def list_alerts(
    conn: Connection, *, tenant: TenantScope, page: PageParams, status: AlertStatus | None = None
) -> Page[QualityAlert]:
    """The visible alerts, newest first."""
    query = sql.SQL(
        "{select} WHERE {visible} AND (%(status)s::text IS NULL OR a.status = %(status)s)"
        " ORDER BY a.raised_at DESC, a.id"
    ).format(select=_SELECT, visible=_visible(tenant))
    return fetch_page(conn, query, {"status": status}, model=QualityAlert, page=page)


def get_alert(conn: Connection, *, tenant: TenantScope, alert_id: UUID) -> QualityAlert:
    """One visible alert, or NotFound."""
    query = sql.SQL("{select} WHERE a.id = %(id)s AND {visible}").format(select=_SELECT, visible=_visible(tenant))
    return fetch_one(conn, query, {"id": alert_id}, model=QualityAlert, what="quality alert")


def list_affected_units(
    conn: Connection, *, tenant: TenantScope, alert_id: UUID, page: PageParams
) -> Page[AffectedUnit]:
    """The units (of those the tenant sees) carrying a component of the alert's batch now, by unit."""
    alert = get_alert(conn, tenant=tenant, alert_id=alert_id)
    query = sql.SQL(
        "SELECT uc.unit_id, uc.position, c.serial, uc.installed_at, s.name AS site_name, s.city, s.region,"
        " m.name AS model_name FROM unit_components uc JOIN components c ON c.id = uc.component_id"
        " JOIN units u ON u.id = uc.unit_id LEFT JOIN sites s ON s.id = u.site_id"
        " LEFT JOIN unit_models m ON m.id = u.model_id"
        " WHERE c.batch_id = %(batch)s AND uc.removed_at IS NULL AND {units} ORDER BY uc.unit_id, uc.position"
    ).format(units=tenant.units_predicate("uc.unit_id"))
    return fetch_page(conn, query, {"batch": alert.batch_id}, model=AffectedUnit, page=page)
