"""Bucketed telemetry reads (TimescaleDB `time_bucket`): one row of aggregates per unit and bucket."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from psycopg import sql
from pydantic import BaseModel

from models.access.tenancy import TenantScope
from models.db import Connection
from models.errors import BadRequest
from models.queries import Page, PageParams, fetch_page
from models.registry.units import require_visible_unit

__all__ = ["MAX_BUCKETS", "Bucket", "TelemetryBucket", "telemetry_window"]

# A window is read whole by the database before paging; this bounds that work (a week of minutes is 10,080).
MAX_BUCKETS = 20_000


class Bucket(StrEnum):
    """The allowed bucket widths."""

    MINUTE = "1m"
    FIVE_MINUTES = "5m"
    FIFTEEN_MINUTES = "15m"
    HOUR = "1h"
    SIX_HOURS = "6h"
    DAY = "1d"


BUCKET_WIDTH: dict[Bucket, timedelta] = {
    Bucket.MINUTE: timedelta(minutes=1),
    Bucket.FIVE_MINUTES: timedelta(minutes=5),
    Bucket.FIFTEEN_MINUTES: timedelta(minutes=15),
    Bucket.HOUR: timedelta(hours=1),
    Bucket.SIX_HOURS: timedelta(hours=6),
    Bucket.DAY: timedelta(days=1),
}


class TelemetryBucket(BaseModel):
    """Aggregates of one bucket; counters are the increase within the bucket."""

    bucket: datetime
    samples: int
    speed_mps_avg: float | None
    speed_mps_max: float | None
    load_pct_avg: float | None
    motor_current_a_avg: float | None
    motor_current_a_max: float | None
    motor_temp_c_max: float | None
    drive_temp_c_max: float | None
    vibration_x_avg: float | None
    vibration_y_avg: float | None
    vibration_z_avg: float | None
    vibration_z_max: float | None
    levelling_error_mm_max: float | None
    trips: int | None
    door_cycles: int | None
    energy_kwh: float | None


def _finite(column: str) -> sql.Composable:
    # Ingest refuses NaN and Infinity, but one stored by another writer would poison every aggregate.
    return sql.SQL("CASE WHEN {col} IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE {col} END").format(
        col=sql.Identifier(column)
    )


_AGGREGATES = sql.SQL(", ").join(
    [
        sql.SQL("count(*) AS samples"),
        sql.SQL("avg({}) AS speed_mps_avg").format(_finite("speed_mps")),
        sql.SQL("max({}) AS speed_mps_max").format(_finite("speed_mps")),
        sql.SQL("avg({}) AS load_pct_avg").format(_finite("load_pct")),
        sql.SQL("avg({}) AS motor_current_a_avg").format(_finite("motor_current_a")),
        sql.SQL("max({}) AS motor_current_a_max").format(_finite("motor_current_a")),
        sql.SQL("max({}) AS motor_temp_c_max").format(_finite("motor_temp_c")),
        sql.SQL("max({}) AS drive_temp_c_max").format(_finite("drive_temp_c")),
        sql.SQL("avg({}) AS vibration_x_avg").format(_finite("vibration_x")),
        sql.SQL("avg({}) AS vibration_y_avg").format(_finite("vibration_y")),
        sql.SQL("avg({}) AS vibration_z_avg").format(_finite("vibration_z")),
        sql.SQL("max({}) AS vibration_z_max").format(_finite("vibration_z")),
        sql.SQL("max(abs({})) AS levelling_error_mm_max").format(_finite("levelling_error_mm")),
        sql.SQL("max(trip_count) - min(trip_count) AS trips"),
        sql.SQL("max(door_cycles) - min(door_cycles) AS door_cycles"),
        sql.SQL("max({}) - min({}) AS energy_kwh").format(_finite("energy_kwh"), _finite("energy_kwh")),
    ]
)


_QUERY = sql.SQL(
    "SELECT time_bucket(%(width)s, time) AS bucket, {} FROM telemetry"
    " WHERE unit_id = %(u)s AND time >= %(since)s AND time < %(until)s GROUP BY bucket ORDER BY bucket"
).format(_AGGREGATES)


def telemetry_window(
    conn: Connection,
    *,
    tenant: TenantScope,
    unit_id: str,
    since: datetime,
    until: datetime,
    bucket: Bucket,
    page: PageParams,
) -> Page[TelemetryBucket]:
    """Aggregates per bucket of the unit's telemetry in [since, until); empty buckets are left out."""
    if until <= since:
        raise BadRequest("until must be after since")
    width = BUCKET_WIDTH[bucket]
    if (until - since) / width > MAX_BUCKETS:
        raise BadRequest(f"the window spans more than {MAX_BUCKETS} buckets of {bucket}; use a wider bucket")
    require_visible_unit(conn, tenant=tenant, unit_id=unit_id)
    params = {"u": unit_id, "since": since, "until": until, "width": width}
    return fetch_page(conn, _QUERY, params, model=TelemetryBucket, page=page)
