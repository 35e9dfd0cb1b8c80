"""`/units/{unit_id}/telemetry`: bucketed telemetry over a time window, as JSON or CSV."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from api.auth import Principal, Scope, require
from api.deps import Conn
from api.export import CSV_RESPONSE, ExportFormat, Format, export
from api.params import Paging, UnitIdPath
from models.queries import Page
from models.telemetry import windows
from models.telemetry.windows import Bucket, TelemetryBucket
from models.types import Timestamp

router = APIRouter(tags=["telemetry"])
Reader = Annotated[Principal, Depends(require(Scope.TELEMETRY_READ))]
# A day of 5-minute buckets: what a crew checking a unit looks at first.
DEFAULT_WINDOW = timedelta(hours=24)


@router.get("/units/{unit_id}/telemetry", response_model=Page[TelemetryBucket], responses=CSV_RESPONSE)
def telemetry_window(
    unit_id: UnitIdPath,
    conn: Conn,
    principal: Reader,
    page: Paging,
    since: Annotated[Timestamp | None, Query(description="window start (default: until minus 24 h)")] = None,
    until: Annotated[Timestamp | None, Query(description="window end (default: now)")] = None,
    bucket: Bucket = Bucket.FIVE_MINUTES,
    format: Format = ExportFormat.JSON,
) -> Response:
    """Aggregates per time bucket of the unit's telemetry in [since, until) (the last 24 h by default)."""
    until = until or datetime.now(UTC)
    since = since or until - DEFAULT_WINDOW
    window = windows.telemetry_window(
        conn, tenant=principal.tenant, unit_id=unit_id, since=since, until=until, bucket=bucket, page=page
    )
    return export(window, format, item=TelemetryBucket, name=f"{unit_id}-telemetry")
