"""`/quality/energy`: ISO 25745-2 energy classes per unit and month, drift, and the fleet's classes as a plot.

Energy figures are unit telemetry, so they are read with the telemetry scope (never a supplier's: it sees no
customer units) and filtered to the caller's units like any telemetry.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from api.auth import Principal, Scope, require
from api.deps import Conn
from api.export import CSV_RESPONSE, ExportFormat, Format, export
from api.params import Paging
from api.plots import PlotFormat, energy_class_chart, render
from api.routers.quality import PLOT_RESPONSE
from models.quality import energy
from models.quality.energy import EnergyMonth
from models.queries import Page
from models.registry.units import get_unit
from models.types import UnitId

router = APIRouter(prefix="/quality", tags=["quality"])
Reader = Annotated[Principal, Depends(require(Scope.TELEMETRY_READ))]
EnergyClass = Annotated[str, Query(pattern="^[A-G]$", description="a total energy class, A (best) to G")]


@router.get("/energy", response_model=Page[EnergyMonth], responses=CSV_RESPONSE)
def latest_energy(
    conn: Conn,
    principal: Reader,
    page: Paging,
    energy_class: EnergyClass | None = None,
    drift: bool | None = None,
    format: Format = ExportFormat.JSON,
) -> Response:
    """Each of the caller's units with its latest classified month: usage category, running energy per trip,
    standby power, running/standby/total class and drift against its own history."""
    months = energy.latest_months(conn, tenant=principal.tenant, page=page, energy_class=energy_class, drifting=drift)
    return export(months, format, item=EnergyMonth, name="energy-classes")


@router.get("/energy/units/{unit_id}", response_model=Page[EnergyMonth], responses=CSV_RESPONSE)
def unit_energy(
    unit_id: UnitId, conn: Conn, principal: Reader, page: Paging, format: Format = ExportFormat.JSON
) -> Response:
    """One unit's months, newest first: its energy class over time and every drift verdict."""
    get_unit(conn, tenant=principal.tenant, unit_id=unit_id)  # another tenant's unit: 404
    months = energy.unit_months(conn, tenant=principal.tenant, unit_id=unit_id, page=page)
    return export(months, format, item=EnergyMonth, name=f"energy-{unit_id}")


@router.get("/plots/energy", responses=PLOT_RESPONSE)
def plot_energy(conn: Conn, principal: Reader, format: PlotFormat = PlotFormat.SVG) -> Response:
    """The fleet's energy classes: units per class A-G, running, standby and total side by side."""
    return render(energy_class_chart(energy.class_counts(conn, tenant=principal.tenant)), format)
