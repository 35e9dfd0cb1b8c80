"""The fleet board: the caller's units, offline first, filtered by site, model, maintainer, presence or status,
each with its active alarms by severity.

The board polls itself (htmx, every REFRESH_S) and the server answers with the board fragment only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from api.auth import Scope
from api.console.pages import PREFIX, is_fragment_request, page
from api.console.session import ConsoleUser, console_user
from api.deps import Conn
from models.errors import BadRequest
from models.monitoring import overview
from models.queries import MAX_OFFSET, PageParams
from models.registry.fleet_board import BoardFilter, fleet_board
from models.registry.units import UnitStatus

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Reader = Annotated[ConsoleUser, Depends(console_user(Scope.UNITS_READ))]
# Rows per page: a screenful on a desktop; the rest is one click (or a narrower filter) away.
PAGE_SIZE = 50
# How often the board refreshes itself: presence changes within minutes, and a poll costs a few queries.
REFRESH_S = 15
PRESENCE = {"online": True, "offline": False}
# A filter field is text in a query string ("" for "any"); this bounds it before it reaches SQL.
FilterText = Annotated[str, Query(max_length=100)]


def _uuid(text: str, what: str) -> UUID | None:
    if not text:
        return None
    try:
        return UUID(text)
    except ValueError:
        raise BadRequest(f"{what} is not an id") from None


@router.get("/fleet")
def board(
    request: Request,
    user: Reader,
    conn: Conn,
    q: FilterText = "",
    site: FilterText = "",
    model: FilterText = "",
    maintainer: FilterText = "",
    presence: FilterText = "",
    status: FilterText = "",
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> HTMLResponse:
    """The fleet board (the whole page, or only the board when htmx refreshes it)."""
    if presence not in ("", *PRESENCE) or status not in ("", *UnitStatus):
        raise BadRequest("unknown presence or status filter")
    board_filter = BoardFilter(
        search=q.strip() or None,
        site_id=_uuid(site, "site"),
        model_id=_uuid(model, "model"),
        maintainer_id=_uuid(maintainer, "maintainer"),
        online=PRESENCE.get(presence),
        status=UnitStatus(status) if status else None,
    )
    fragment = is_fragment_request(request)
    tenant = user.principal.tenant
    result = fleet_board(
        conn,
        tenant=tenant,
        page=PageParams(limit=PAGE_SIZE, offset=offset),
        board_filter=board_filter,
        facets=not fragment,  # the live refresh redraws the board, not the filter form
    )
    show_alarms = user.may(Scope.ALARMS_READ)
    page_ids = [unit.id for unit in result.units.items]
    context = {
        "user": user,
        "board": result,
        "show_alarms": show_alarms,
        "alarms": overview.active_alarms_by_unit(conn, tenant=tenant, unit_ids=page_ids) if show_alarms else {},
        "alarm_totals": overview.active_alarm_totals(conn, tenant=tenant) if show_alarms else None,
        "filters": {
            "q": q,
            "site": site,
            "model": model,
            "maintainer": maintainer,
            "presence": presence,
            "status": status,
        },
        "statuses": list(UnitStatus),
        "show_work": user.may(Scope.WORK_ORDERS_READ),
        "refresh_s": REFRESH_S,
        "updated": datetime.now(UTC),
    }
    return page(request, "_board.html" if fragment else "fleet.html", context)
