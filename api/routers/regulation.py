"""`/regulation`: the regulator's view of its region (the platform sees all): entrapments and rescue times by
maintainer, and units with overdue statutory maintenance or inspection; JSON or CSV."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from api.auth import Principal, Scope, require
from api.deps import Conn
from api.export import CSV_RESPONSE, ExportFormat, Format, export
from api.params import Paging
from models.quality import field
from models.quality.field import EntrapmentMonth, OverdueUnit
from models.queries import Page
from models.types import Timestamp

router = APIRouter(prefix="/regulation", tags=["regulation"])
Reader = Annotated[Principal, Depends(require(Scope.REGULATION_READ))]


@router.get("/entrapments", response_model=Page[EntrapmentMonth], responses=CSV_RESPONSE)
def entrapments(
    conn: Conn, principal: Reader, page: Paging, since: Timestamp, until: Timestamp, format: Format = ExportFormat.JSON
) -> Response:
    """Per month and maintainer: entrapments per 1,000 units under contract, rescues within 30 minutes."""
    months = field.entrapments_by_maintainer(conn, tenant=principal.tenant, since=since, until=until, page=page)
    return export(months, format, item=EntrapmentMonth, name="entrapments-by-maintainer")


@router.get("/overdue", response_model=Page[OverdueUnit], responses=CSV_RESPONSE)
def overdue(conn: Conn, principal: Reader, page: Paging, at: Timestamp, format: Format = ExportFormat.JSON) -> Response:
    """Units in service whose statutory maintenance (15 days) or inspection (1 year) is overdue at `at`."""
    units = field.overdue_units(conn, tenant=principal.tenant, now=at, page=page)
    return export(units, format, item=OverdueUnit, name="overdue-units")
