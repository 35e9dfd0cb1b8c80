"""Fleet quality for manufacturers, suppliers, regulators and the platform: batch failure rates with their 95 %
intervals against the fleet, the supplier comparison, one batch with its Weibull plot, and the fault Pareto.

Figures come from the JSON routers' models functions with the caller's tenant (a supplier reads only its own
batches: another supplier's batch answers 404). Plots are the quality API's own plot routes, called with the
console caller's principal and served under /console (the browser's session cookie does not reach /quality).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.auth import Scope
from api.console.pages import PREFIX, SECURITY_HEADERS, page
from api.console.session import ConsoleUser, console_user
from api.deps import Conn
from api.plots import PlotFormat, RateBasis
from api.routers.quality import plot_pareto as api_pareto
from api.routers.quality import plot_rates as api_rates
from api.routers.quality import plot_weibull as api_weibull
from models.quality import field, reliability
from models.quality.reliability import GroupKind
from models.queries import MAX_OFFSET, PageParams
from models.types import Code, Timestamp

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Reader = Annotated[ConsoleUser, Depends(console_user(Scope.QUALITY_READ))]
# Batches per page, worst rate first; suppliers and Pareto rows are few enough for one page each.
PAGE_SIZE = 50
SUPPLIERS_SHOWN = 100
PARETO_ROWS = 30
# The Pareto covers the last quarter: long enough for rare faults to show, short enough to be about now.
PARETO_WINDOW = timedelta(days=90)
# Pareto plots drawn on the page: one per model, for the models with the most fault rows shown.
PARETO_PLOTS = 4


def _svg(response: Response) -> Response:
    """A plot with the console's CSP: nothing in it runs, even when opened on its own (the app adds nosniff)."""
    response.headers["Content-Security-Policy"] = SECURITY_HEADERS["Content-Security-Policy"]
    return response


@router.get("/quality")
def quality_page(
    request: Request, user: Reader, conn: Conn, offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0
) -> HTMLResponse:
    """Batches worst first, the supplier comparison and (for those who see units) the fault Pareto."""
    tenant = user.principal.tenant
    batches = reliability.list_stats(
        conn, tenant=tenant, page=PageParams(limit=PAGE_SIZE, offset=offset), group_kind=GroupKind.BATCH
    )
    suppliers = reliability.list_stats(
        conn, tenant=tenant, page=PageParams(limit=SUPPLIERS_SHOWN), group_kind=GroupKind.SUPPLIER
    ).items
    until = datetime.now(UTC).replace(microsecond=0)
    since = until - PARETO_WINDOW
    pareto = None
    if user.may(Scope.UNITS_READ):  # a supplier sees parts, not the units' fault history
        pareto = field.fault_pareto(conn, tenant=tenant, since=since, until=until, page=PageParams(limit=PARETO_ROWS))
    models = list(dict.fromkeys(cost.model_id for cost in pareto.items))[:PARETO_PLOTS] if pareto else []
    context = {
        "user": user,
        "batches": batches,
        "suppliers": suppliers,
        "types": sorted({s.component_type for s in suppliers if s.component_type}),
        "pareto": pareto,
        "pareto_models": models,
        "window": {"since": since.isoformat(), "until": until.isoformat()},
    }
    return page(request, "quality.html", context)


@router.get("/quality/batches/{batch_id}")
def batch_page(request: Request, batch_id: UUID, user: Reader, conn: Conn) -> HTMLResponse:
    """One batch's figures and Weibull plot (404 for a batch the caller's tenant does not cover)."""
    stat = reliability.get_stat(conn, tenant=user.principal.tenant, group_kind=GroupKind.BATCH, group_key=str(batch_id))
    return page(request, "batch.html", {"user": user, "stat": stat})


@router.get("/quality/plots/rates")
def plot_rates(
    user: Reader,
    conn: Conn,
    group: GroupKind = GroupKind.BATCH,
    component_type: Code | None = None,
    basis: RateBasis = RateBasis.HOURS,
) -> Response:
    """The quality API's rate plot (SVG) for the signed-in caller."""
    plot = api_rates(
        conn, user.principal, group=group, component_type=component_type, basis=basis, format=PlotFormat.SVG
    )
    return _svg(plot)


@router.get("/quality/plots/weibull/batch/{batch_id}")
def plot_weibull(batch_id: UUID, user: Reader, conn: Conn) -> Response:
    """The quality API's Weibull plot (SVG) of one batch."""
    return _svg(api_weibull(GroupKind.BATCH, str(batch_id), conn, user.principal, format=PlotFormat.SVG))


@router.get("/quality/plots/pareto")
def plot_pareto(user: Reader, conn: Conn, model_id: UUID, since: Timestamp, until: Timestamp) -> Response:
    """The quality API's fault Pareto plot (SVG) of one model over [since, until)."""
    return _svg(api_pareto(conn, user.principal, model_id=model_id, since=since, until=until, format=PlotFormat.SVG))
