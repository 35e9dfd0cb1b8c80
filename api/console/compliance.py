"""The regulator's compliance page (read-only): units with overdue statutory maintenance or inspection, and per
month and maintainer the entrapments per 1,000 units and rescues within the SLA, each with its CSV.

The tables and the CSV are the JSON routers' (`/regulation/...`, models.quality.field with the caller's
tenant: a regulator sees its region); the CSV is served under /console, where the session cookie reaches.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.auth import Scope
from api.console.pages import PREFIX, page
from api.console.session import ConsoleUser, console_user
from api.deps import Conn
from api.export import ExportFormat
from api.routers.regulation import entrapments as api_entrapments
from api.routers.regulation import overdue as api_overdue
from models.quality import field
from models.quality.field import RESCUE_SLA
from models.queries import MAX_LIMIT, MAX_OFFSET, PageParams

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Reader = Annotated[ConsoleUser, Depends(console_user(Scope.REGULATION_READ))]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
# Overdue units per page; a CSV download holds the most one API page may (X-Next-Offset says where to go on).
PAGE_SIZE = 50
# Entrapments are judged over the last year, month by month (a rate per month needs whole months to compare).
ENTRAPMENT_MONTHS = 12
MAX_MONTH_ROWS = 500


def _year(now: datetime) -> tuple[datetime, datetime]:
    """The first of the month ENTRAPMENT_MONTHS - 1 months back, to now: this month and the eleven before."""
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    for _ in range(ENTRAPMENT_MONTHS - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    return first, now


@router.get("/compliance")
def compliance_page(request: Request, user: Reader, conn: Conn, offset: Offset = 0) -> HTMLResponse:
    """Overdue units now, and the last year's entrapments and rescue times by maintainer."""
    tenant = user.principal.tenant
    now = datetime.now(UTC).replace(microsecond=0)
    since, until = _year(now)
    overdue = field.overdue_units(conn, tenant=tenant, now=now, page=PageParams(limit=PAGE_SIZE, offset=offset))
    months = field.entrapments_by_maintainer(
        conn, tenant=tenant, since=since, until=until, page=PageParams(limit=MAX_MONTH_ROWS)
    )
    context = {
        "user": user,
        "overdue": overdue,
        "months": months.items,
        "now": now,
        "since": since,
        "sla_minutes": int(RESCUE_SLA.total_seconds() // 60),
    }
    return page(request, "compliance.html", context)


@router.get("/compliance/overdue.csv")
def overdue_csv(user: Reader, conn: Conn, offset: Offset = 0) -> Response:
    """The overdue units now, as the API's CSV."""
    now = datetime.now(UTC).replace(microsecond=0)
    paging = PageParams(limit=MAX_LIMIT, offset=offset)
    return api_overdue(conn, user.principal, paging, at=now, format=ExportFormat.CSV)


@router.get("/compliance/entrapments.csv")
def entrapments_csv(user: Reader, conn: Conn, offset: Offset = 0) -> Response:
    """The last year's entrapments by month and maintainer, as the API's CSV."""
    since, until = _year(datetime.now(UTC).replace(microsecond=0))
    paging = PageParams(limit=MAX_LIMIT, offset=offset)
    return api_entrapments(conn, user.principal, paging, since=since, until=until, format=ExportFormat.CSV)
