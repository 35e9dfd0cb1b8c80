"""Reliability figures per model, component type, batch and supplier: the brain's latest snapshot, read by the API.

Every pass of the quality job replaces the whole snapshot in its transaction, so readers see one pass or the
other, never a mix. Rows carry no unit or customer data; who reads which rows is `TenantScope` business:
a supplier its own batches and supplier rows (and the component types' fleet rates it is compared against),
a manufacturer its own models and every supplier (to compare them), the platform and regulators everything.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from models.access.tenancy import TenantScope, Visibility
from models.db import Connection
from models.queries import Page, PageParams, fetch_one, fetch_page, identifiers

__all__ = ["GroupKind", "ReliabilityStat", "get_stat", "list_stats", "replace_stats", "snapshot"]


class GroupKind(StrEnum):
    """What a reliability row is about."""

    MODEL = "model"
    COMPONENT_TYPE = "component_type"
    BATCH = "batch"
    SUPPLIER = "supplier"


class ReliabilityStat(BaseModel):
    """Failures, exposure, rate with its 95 % interval, MTBF, MTTR, availability and a Weibull fit of one group.

    MTTR runs from the failure (the alarm that opened the repair's work order, else the order) to the order done;
    `mttr_verified_hours` to its verification where one was recorded. `availability` is MTBF / (MTBF + MTTR);
    for models, `event_availability` is one less the share of the last year their units spent between a fault
    event and the next back-to-normal (`downtime_hours`), where their units report events."""

    group_kind: GroupKind
    group_key: str
    label: str
    component_type: str | None = None
    batch_id: UUID | None = None
    supplier_id: UUID | None = None
    model_id: UUID | None = None
    manufacturer_id: UUID | None = None
    computed_at: datetime
    units: int
    lives: int
    failures: int
    exposure_hours: float
    rate_per_mh: float | None = None
    rate_lower: float | None = None
    rate_upper: float | None = None
    usage_unit: str | None = None
    usage: float | None = None
    usage_failures: int | None = None
    rate_per_m_usage: float | None = None
    usage_rate_lower: float | None = None
    usage_rate_upper: float | None = None
    mtbf_hours: float | None = None
    repairs: int | None = None
    mttr_hours: float | None = None
    mttr_verified_hours: float | None = None
    availability: float | None = None
    downtime_hours: float | None = None
    event_availability: float | None = None
    fleet_rate_per_mh: float | None = None
    rate_ratio: float | None = None
    p_value: float | None = None
    weibull_shape: float | None = None
    weibull_shape_lower: float | None = None
    weibull_shape_upper: float | None = None
    weibull_scale_hours: float | None = None
    weibull_scale_lower: float | None = None
    weibull_scale_upper: float | None = None
    probability_points: list[tuple[float, float]] = []
    weibull_fitted_at: datetime | None = None


_FIELDS = tuple(ReliabilityStat.model_fields)
_COLUMNS = identifiers(_FIELDS)


def snapshot(conn: Connection) -> list[ReliabilityStat]:
    """The whole current snapshot, for the quality job's next pass (platform-only: no tenant filter)."""
    rows = conn.execute(sql.SQL("SELECT {cols} FROM reliability_stats").format(cols=_COLUMNS)).fetchall()
    return [ReliabilityStat.model_validate(row) for row in rows]


def replace_stats(conn: Connection, *, stats: list[ReliabilityStat]) -> None:
    """Replace the snapshot with `stats` (in the caller's transaction)."""
    conn.execute("DELETE FROM reliability_stats")
    with conn.cursor() as cur, cur.copy(sql.SQL("COPY reliability_stats ({}) FROM STDIN").format(_COLUMNS)) as copy:
        for stat in stats:
            row: dict[str, Any] = stat.model_dump(mode="json")
            row["probability_points"] = Jsonb(row["probability_points"])
            copy.write_row([row[name] for name in _FIELDS])


def _visible(tenant: TenantScope) -> sql.Composable:
    """The rows a tenant reads: see the module docstring."""
    if tenant.visibility is Visibility.MAKE:
        return sql.SQL("(group_kind <> 'model' OR {})").format(tenant.manufacturers_predicate("manufacturer_id"))
    if tenant.visibility is Visibility.SUPPLY:
        return sql.SQL("(group_kind = 'component_type' OR {})").format(tenant.suppliers_predicate("supplier_id"))
    return tenant.suppliers_predicate("supplier_id")


def list_stats(
    conn: Connection,
    *,
    tenant: TenantScope,
    page: PageParams,
    group_kind: GroupKind,
    component_type: str | None = None,
    supplier_id: UUID | None = None,
) -> Page[ReliabilityStat]:
    """The visible rows of one kind, optionally of one component type or supplier, worst rate first."""
    query = sql.SQL(
        "SELECT {cols} FROM reliability_stats WHERE group_kind = %(kind)s AND {visible}"
        " AND (%(type)s::text IS NULL OR component_type = %(type)s)"
        " AND (%(supplier)s::uuid IS NULL OR supplier_id = %(supplier)s)"
        " ORDER BY rate_per_mh DESC NULLS LAST, label, group_key"
    ).format(cols=_COLUMNS, visible=_visible(tenant))
    params = {"kind": str(group_kind), "type": component_type, "supplier": supplier_id}
    return fetch_page(conn, query, params, model=ReliabilityStat, page=page)


def get_stat(conn: Connection, *, tenant: TenantScope, group_kind: GroupKind, group_key: str) -> ReliabilityStat:
    """One visible row, or NotFound."""
    query = sql.SQL(
        "SELECT {cols} FROM reliability_stats WHERE group_kind = %(kind)s AND group_key = %(key)s AND {visible}"
    ).format(cols=_COLUMNS, visible=_visible(tenant))
    params = {"kind": str(group_kind), "key": group_key}
    return fetch_one(conn, query, params, model=ReliabilityStat, what=f"{group_kind} reliability figure")
