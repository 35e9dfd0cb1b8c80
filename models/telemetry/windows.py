"""Bucketed telemetry reads: one row of aggregates per bucket of a unit's window.

Whole hours and days come from the rollups (models/telemetry/rollups.py), so a month of hours reads 720 rollup
rows, not a month of samples; partial buckets at the window's edges and the hours not rolled yet come from raw
rows, in the hypertable or, before the cold tier's mark, in its Parquet files (models/telemetry/cold.py).
Every source yields the same rollup-shaped row, so the answer is the same whichever served a bucket.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from psycopg import sql
from pydantic import BaseModel

from models.access.tenancy import TenantScope
from models.db import Connection
from models.errors import BadRequest
from models.queries import Page, PageParams
from models.registry.units import require_visible_unit
from models.telemetry.cold import cold_buckets
from models.telemetry.marks import COLD_MARK, read_mark
from models.telemetry.rollups import DAILY, HOURLY, Rollup, combined_aggregates, raw_aggregates

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


def _bucket(row: dict[str, Any]) -> TelemetryBucket:
    """The API's view of one bucket in the rollup shape (models/telemetry/rollups.py)."""

    def increase(counter: str) -> Any:
        low, high = row[f"{counter}_min"], row[f"{counter}_max"]
        return None if low is None or high is None else high - low

    low, high = row["levelling_error_mm_min"], row["levelling_error_mm_max"]
    return TelemetryBucket(
        bucket=row["bucket"],
        samples=row["samples"],
        speed_mps_avg=row["speed_mps_avg"],
        speed_mps_max=row["speed_mps_max"],
        load_pct_avg=row["load_pct_avg"],
        motor_current_a_avg=row["motor_current_a_avg"],
        motor_current_a_max=row["motor_current_a_max"],
        motor_temp_c_max=row["motor_temp_c_max"],
        drive_temp_c_max=row["drive_temp_c_max"],
        vibration_x_avg=row["vibration_x_avg"],
        vibration_y_avg=row["vibration_y_avg"],
        vibration_z_avg=row["vibration_z_avg"],
        vibration_z_max=row["vibration_z_max"],
        levelling_error_mm_max=None if low is None or high is None else max(abs(low), abs(high)),
        trips=increase("trip_count"),
        door_cycles=increase("door_cycles"),
        energy_kwh=increase("energy_kwh"),
    )


# The rollup each width reads from; narrower buckets read raw rows.
_ROLLUP_FOR: dict[Bucket, Rollup] = {Bucket.HOUR: HOURLY, Bucket.SIX_HOURS: HOURLY, Bucket.DAY: DAILY}
_FROM_RAW = sql.SQL(
    "SELECT time_bucket(%(width)s, time) AS bucket, {} FROM telemetry"
    " WHERE unit_id = %(u)s AND time >= %(since)s AND time < %(until)s GROUP BY 1"
).format(raw_aggregates())
_FROM_ROLLUP = sql.SQL(
    "SELECT time_bucket(%(width)s, bucket) AS bucket, {aggregates} FROM {table}"
    " WHERE unit_id = %(u)s AND bucket >= %(since)s AND bucket < %(until)s GROUP BY 1"
)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _ceil(at: datetime, width: timedelta) -> datetime:
    return _EPOCH - (_EPOCH - at) // width * width


def _floor(at: datetime, width: timedelta) -> datetime:
    return _EPOCH + (at - _EPOCH) // width * width


def _raw(conn: Connection, unit_id: str, since: datetime, until: datetime, width: timedelta) -> list[dict[str, Any]]:
    """Buckets of raw rows in [since, until): the cold tier before its mark, the hypertable after it."""
    rows: list[dict[str, Any]] = []
    cold = read_mark(conn, COLD_MARK)
    split = since if cold is None else min(max(cold.until, since), until)
    if cold is not None and cold.location is not None and since < split:
        rows += cold_buckets(Path(cold.location), unit_id=unit_id, since=since, until=split, width=width)
    if split < until:
        params = {"u": unit_id, "since": split, "until": until, "width": width}
        rows += conn.execute(_FROM_RAW, params).fetchall()
    return rows


def _window_buckets(
    conn: Connection, *, unit_id: str, since: datetime, until: datetime, bucket: Bucket
) -> list[TelemetryBucket]:
    """Every bucket of the unit's telemetry in [since, until), in time order: whole buckets the rollups cover
    come from them, the rest (partial edges, the newest hours) from raw rows, hot or cold."""
    width = BUCKET_WIDTH[bucket]
    rollup = _ROLLUP_FOR.get(bucket)
    mark = None if rollup is None else read_mark(conn, rollup.mark)
    rows: list[dict[str, Any]] = []
    covered_since = covered_until = since
    if rollup is not None and mark is not None:
        covered_since = _ceil(since, width)
        covered_until = max(covered_since, _floor(min(until, mark.until), width))
    if covered_since < covered_until and rollup is not None:
        query = _FROM_ROLLUP.format(aggregates=combined_aggregates(), table=sql.Identifier(rollup.table))
        params = {"u": unit_id, "since": covered_since, "until": covered_until, "width": width}
        rows += conn.execute(query, params).fetchall()
    else:
        covered_since = covered_until = until
    if since < covered_since:
        rows += _raw(conn, unit_id, since, covered_since, width)
    if covered_until < until:
        rows += _raw(conn, unit_id, covered_until, until, width)
    return sorted((_bucket(row) for row in rows), key=lambda item: item.bucket)


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
    buckets = _window_buckets(conn, unit_id=unit_id, since=since, until=until, bucket=bucket)
    items = buckets[page.offset : page.offset + page.limit]
    more = len(buckets) > page.offset + page.limit
    return Page[TelemetryBucket](
        items=items, limit=page.limit, offset=page.offset, next_offset=page.offset + page.limit if more else None
    )
