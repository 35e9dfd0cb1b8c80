"""The unit page: identity and presence, health with its reasons, telemetry charts over a chosen window with its
controller events and alarms, the current build with each position's genealogy, the merged lifecycle timeline,
and the unit's work orders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from api.auth import Scope
from api.console.charts import Marker, Series, Span, line_chart
from api.console.pages import PREFIX, is_fragment_request, page
from api.console.session import ConsoleUser, console_user
from api.deps import Conn
from api.params import UnitIdPath
from models.db import Connection
from models.errors import BadRequest
from models.lifecycle import timeline, traceability
from models.lifecycle.timeline import TimelineSource
from models.monitoring import alarms, overview
from models.monitoring.alarms import Alarm
from models.queries import MAX_LIMIT, MAX_OFFSET, PageParams
from models.registry import units
from models.telemetry import windows
from models.telemetry.windows import Bucket, TelemetryBucket
from models.work import work_orders

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Reader = Annotated[ConsoleUser, Depends(console_user(Scope.UNITS_READ))]

# Window choices, each with the bucket that keeps a chart at a few hundred points at most.
WINDOWS: dict[str, tuple[timedelta, Bucket]] = {
    "6h": (timedelta(hours=6), Bucket.MINUTE),
    "24h": (timedelta(hours=24), Bucket.FIVE_MINUTES),
    "7d": (timedelta(days=7), Bucket.HOUR),
    "30d": (timedelta(days=30), Bucket.SIX_HOURS),
    "365d": (timedelta(days=365), Bucket.DAY),
}
DEFAULT_WINDOW = "24h"
# (title, [(line label, TelemetryBucket field)]): what a crew checks first on a unit.
CHARTS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Motor current (A)", (("average", "motor_current_a_avg"), ("peak", "motor_current_a_max"))),
    ("Temperature (°C)", (("motor peak", "motor_temp_c_max"), ("drive peak", "drive_temp_c_max"))),
    ("Vertical vibration (m/s², RMS)", (("average", "vibration_z_avg"), ("peak", "vibration_z_max"))),
    ("Levelling error (mm)", (("worst", "levelling_error_mm_max"),)),
    ("Trips per bucket", (("trips", "trips"),)),
)
# Timeline entries per page; events per chart (markers past this are counted, not drawn).
TIMELINE_PAGE = 50
CHART_EVENTS = 500
# Alarms drawn on the charts (and listed under them): the most recently seen in the window.
CHART_ALARMS = 100
# Build positions and work orders shown on the unit page: a unit has about ten positions and few open orders.
SECTION_LIMIT = 100


def _until(text: str) -> datetime:
    """The window's end from a form field (a datetime-local value is taken as UTC); now when empty."""
    if not text:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest("the window end is not a date and time") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _window_alarms(conn: Connection, user: ConsoleUser, unit_id: str, since: datetime, until: datetime) -> list[Alarm]:
    """The unit's alarms active at some time in [since, until), most recently seen first."""
    seen = alarms.list_alarms(
        conn, tenant=user.principal.tenant, page=PageParams(limit=CHART_ALARMS), unit_id=unit_id, since=since
    ).items
    return [alarm for alarm in seen if alarm.first_seen < until]


def _span(alarm: Alarm, until: datetime) -> Span:
    """An alarm as a band from first seen to cleared (to the window's end while it is active)."""
    label = f"{alarm.severity} {alarm.alarm_type} ({alarm.state}, seen {alarm.count}x)"
    return Span(alarm.first_seen, alarm.cleared_at or until, label, f"sev-{alarm.severity}")


def _charts(
    buckets: list[TelemetryBucket], markers: list[Marker], spans: list[Span], since: datetime, until: datetime
) -> list[Markup]:
    times = [b.bucket for b in buckets]
    rows = [b.model_dump() for b in buckets]
    return [
        line_chart(
            title,
            times,
            [Series(label, [row[field] for row in rows]) for label, field in lines],
            since=since,
            until=until,
            markers=markers,
            spans=spans,
        )
        for title, lines in CHARTS
    ]


@router.get("/units/{unit_id}")
def unit_page(
    request: Request,
    unit_id: UnitIdPath,
    user: Reader,
    conn: Conn,
    window: Annotated[str, Query(max_length=10)] = DEFAULT_WINDOW,
    until: Annotated[str, Query(max_length=40)] = "",
    life: bool = False,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> HTMLResponse:
    """One unit; the timeline covers the chart's window, or the whole life with `life=true`."""
    if window not in WINDOWS:
        raise BadRequest(f"window must be one of {', '.join(WINDOWS)}")
    scope = user.principal.tenant
    unit = units.get_unit(conn, tenant=scope, unit_id=unit_id)
    width, bucket = WINDOWS[window]
    end = _until(until)
    start = end - width
    context: dict[str, Any] = {
        "user": user,
        "unit": unit,
        "windows": list(WINDOWS),
        "params": {"window": window, "until": until, "life": "true" if life else ""},
        "since": start,
        "until": end,
        "charts": [],
        "build": None,
        "timeline": None,
        "orders": None,
        "health": None,
        "alarms": None,
    }
    # Health and alarms are monitoring: the roles that read alarms (not regulators, who read compliance).
    if user.may(Scope.ALARMS_READ):
        context["health"] = overview.current_health(conn, tenant=scope, unit_id=unit_id)
        context["alarms"] = _window_alarms(conn, user, unit_id, start, end)
    if user.may(Scope.TELEMETRY_READ):
        whole = PageParams(limit=MAX_LIMIT)
        buckets = windows.telemetry_window(
            conn, tenant=scope, unit_id=unit_id, since=start, until=end, bucket=bucket, page=whole
        ).items
        events = timeline.unit_timeline(
            conn,
            tenant=scope,
            unit_id=unit_id,
            page=PageParams(limit=CHART_EVENTS),
            since=start,
            until=end,
            sources=(TimelineSource.EVENT,),
        ).items
        spans = [_span(alarm, end) for alarm in context["alarms"] or ()]
        context["charts"] = _charts(buckets, [Marker(e.time, e.kind) for e in events], spans, start, end)
    if user.may(Scope.LIFECYCLE_READ):
        context["timeline"] = timeline.unit_timeline(
            conn,
            tenant=scope,
            unit_id=unit_id,
            page=PageParams(limit=TIMELINE_PAGE, offset=offset),
            since=None if life else start,
            until=None if life else end,
        )
    context["build"] = traceability.current_build(
        conn, tenant=scope, unit_id=unit_id, page=PageParams(limit=SECTION_LIMIT)
    ).items
    if user.may(Scope.WORK_ORDERS_READ):
        context["orders"] = work_orders.list_work_orders(
            conn, tenant=scope, page=PageParams(limit=SECTION_LIMIT), unit_id=unit_id
        ).items
    return page(request, "unit.html", context)


@router.get("/units/{unit_id}/positions/{position}")
def genealogy(
    request: Request,
    unit_id: UnitIdPath,
    position: Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[^\x00]+$")],
    user: Reader,
    conn: Conn,
) -> HTMLResponse:
    """Every component that ever sat in one position of the unit (a fragment for htmx, else a page)."""
    history = traceability.position_history(
        conn, tenant=user.principal.tenant, unit_id=unit_id, position=position, page=PageParams(limit=SECTION_LIMIT)
    ).items
    context = {"user": user, "unit_id": unit_id, "position": position, "history": history}
    return page(request, "_genealogy.html" if is_fragment_request(request) else "genealogy.html", context)
