"""`/quality`: reliability figures, batch alerts with their affected units, and the quality plots."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response

from api.auth import Principal, Scope, require
from api.deps import Conn
from api.export import CSV_RESPONSE, ExportFormat, Format, export
from api.params import Paging
from api.plots import PlotFormat, RateBasis, pareto_chart, rate_chart, render, weibull_plot
from models.quality import alerts, field, reliability
from models.quality.alerts import AffectedUnit, AlertStatus, QualityAlert
from models.quality.field import FaultCost
from models.quality.reliability import GroupKind, ReliabilityStat
from models.queries import MAX_LIMIT, Page, PageParams
from models.types import Code, Timestamp

router = APIRouter(prefix="/quality", tags=["quality"])
Reader = Annotated[Principal, Depends(require(Scope.QUALITY_READ))]
PLOT_RESPONSE: dict[int | str, dict[str, object]] = {
    200: {"content": {"image/svg+xml": {}, "image/png": {}}, "description": "The plot"}
}


@router.get("/reliability", response_model=Page[ReliabilityStat], responses=CSV_RESPONSE)
def list_reliability(
    conn: Conn,
    principal: Reader,
    page: Paging,
    group: GroupKind = GroupKind.BATCH,
    component_type: Code | None = None,
    supplier_id: UUID | None = None,
    format: Format = ExportFormat.JSON,
) -> Response:
    """Failures, exposure, rate with interval, MTBF, MTTR, availability and Weibull fit per group, worst first."""
    stats = reliability.list_stats(
        conn, tenant=principal.tenant, page=page, group_kind=group, component_type=component_type,
        supplier_id=supplier_id,
    )  # fmt: skip
    return export(stats, format, item=ReliabilityStat, name=f"reliability-{group}")


@router.get("/reliability/{group}/{key:path}")
def get_reliability(group: GroupKind, key: str, conn: Conn, principal: Reader) -> ReliabilityStat:
    """One group's figures (a supplier's key is `<supplier id>/<component type>`)."""
    return reliability.get_stat(conn, tenant=principal.tenant, group_kind=group, group_key=key)


@router.get("/alerts")
def list_alerts(conn: Conn, principal: Reader, page: Paging, status: AlertStatus | None = None) -> Page[QualityAlert]:
    """Batches whose hazard is significantly above their component type's fleet rate, newest first."""
    return alerts.list_alerts(conn, tenant=principal.tenant, page=page, status=status)


@router.get("/alerts/{alert_id}")
def get_alert(alert_id: UUID, conn: Conn, principal: Reader) -> QualityAlert:
    """One alert with its figures."""
    return alerts.get_alert(conn, tenant=principal.tenant, alert_id=alert_id)


@router.get("/alerts/{alert_id}/affected-units", response_model=Page[AffectedUnit], responses=CSV_RESPONSE)
def affected_units(
    alert_id: UUID, conn: Conn, principal: Reader, page: Paging, format: Format = ExportFormat.JSON
) -> Response:
    """The recall impact: units (of those the caller sees) carrying the batch now, down to their site."""
    units = alerts.list_affected_units(conn, tenant=principal.tenant, alert_id=alert_id, page=page)
    return export(units, format, item=AffectedUnit, name=f"alert-{alert_id}-units")


@router.get("/plots/rates", responses=PLOT_RESPONSE)
def plot_rates(
    conn: Conn,
    principal: Reader,
    group: GroupKind = GroupKind.BATCH,
    component_type: Code | None = None,
    basis: RateBasis = RateBasis.HOURS,
    format: PlotFormat = PlotFormat.SVG,
) -> Response:
    """Failure rate by batch (or supplier, type, model) with 95 % intervals against the fleet rate; the supplier
    comparison is `group=supplier&component_type=...&basis=usage` (failures per million trips or door cycles)."""
    stats = reliability.list_stats(
        conn, tenant=principal.tenant, page=PageParams(limit=100), group_kind=group, component_type=component_type
    )
    title = f"Failure rate by {group}" + (f" ({component_type})" if component_type else "")
    return render(rate_chart(stats.items, title=title, basis=basis), format)


@router.get("/plots/weibull/{group}/{key:path}", responses=PLOT_RESPONSE)
def plot_weibull(
    group: GroupKind, key: str, conn: Conn, principal: Reader, format: PlotFormat = PlotFormat.SVG
) -> Response:
    """The group's Weibull probability plot: censoring-aware field points and the fitted line."""
    stat = reliability.get_stat(conn, tenant=principal.tenant, group_kind=group, group_key=key)
    return render(weibull_plot(stat), format)


@router.get("/pareto", response_model=Page[FaultCost], responses=CSV_RESPONSE)
def fault_pareto(
    conn: Conn,
    principal: Reader,
    page: Paging,
    since: Timestamp,
    until: Timestamp,
    model_id: UUID | None = None,
    format: Format = ExportFormat.JSON,
) -> Response:
    """Per model (of the caller's units), each fault code's count and downtime, costliest first."""
    costs = field.fault_pareto(conn, tenant=principal.tenant, since=since, until=until, page=page, model_id=model_id)
    return export(costs, format, item=FaultCost, name="fault-pareto")


@router.get("/plots/pareto", responses=PLOT_RESPONSE)
def plot_pareto(
    conn: Conn,
    principal: Reader,
    model_id: UUID,
    since: Timestamp,
    until: Timestamp,
    format: PlotFormat = PlotFormat.SVG,
) -> Response:
    """The model's fault Pareto: downtime by fault code with the cumulative share."""
    costs = field.fault_pareto(
        conn, tenant=principal.tenant, since=since, until=until, page=PageParams(limit=MAX_LIMIT), model_id=model_id
    )
    name = costs.items[0].model_name if costs.items else "no faults"
    return render(pareto_chart(costs.items, title=f"Fault Pareto: {name}"), format)
