"""Hourly and daily rollups of telemetry per unit, kept incrementally, so long windows never scan raw rows.

`telemetry_hourly` is rolled from raw rows, `telemetry_daily` from the hourly rows. Per numeric signal a bucket
keeps the samples with a value (`_n`), mean, min and max; per counter its min and max. That shape combines
exactly: a wider bucket's mean is the n-weighted mean, its min the min of mins, a counter's increase max - min,
the same as on raw rows. Each table has a mark (`telemetry_marks`): complete buckets before it. A refresh rolls
from the mark minus a lookback (late data inside it is re-rolled; an upsert makes a re-roll harmless) up to the
last complete bucket, never into days already moved to the cold tier (their raw rows are gone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from psycopg import sql

from models.db import Connection
from models.telemetry.marks import COLD_MARK, read_mark, set_mark

__all__ = [
    "COUNTERS",
    "DAILY",
    "HOURLY",
    "SIGNALS",
    "CounterDay",
    "Rollup",
    "RollupRun",
    "combined_aggregates",
    "counter_days",
    "raw_aggregates",
    "refresh_rollups",
]

# Numeric signals rolled up (position, floor, direction and door state are codes or places: a mean says nothing).
SIGNALS = (
    "speed_mps", "load_pct", "motor_current_a", "motor_temp_c", "drive_temp_c", "vibration_x", "vibration_y",
    "vibration_z", "levelling_error_mm", "standby_power_w", "door_open_s", "door_close_s", "door_reopens",
    "vibration_hf_rms", "stop_distance_mm",
)  # fmt: skip
# Integer columns: a float column may hold NaN/Infinity from another writer; these cannot.
_WHOLE = frozenset({"door_reopens"})
COUNTERS = ("trip_count", "door_cycles", "energy_kwh")
_FLOAT_COUNTERS = frozenset({"energy_kwh"})


@dataclass(frozen=True)
class Rollup:
    """One rollup table: its width, its mark's name, and what it is rolled from."""

    table: str
    width: timedelta
    mark: str


HOURLY = Rollup("telemetry_hourly", timedelta(hours=1), "rollup:hourly")
DAILY = Rollup("telemetry_daily", timedelta(days=1), "rollup:daily")
_NAMES = ("samples", *(f"{s}_{part}" for s in SIGNALS for part in ("n", "avg", "min", "max")),
          *(f"{c}_{part}" for c in COUNTERS for part in ("min", "max")))  # fmt: skip
_COLUMNS = sql.SQL(", ").join(map(sql.Identifier, _NAMES))


def _finite(column: str, *, whole: bool) -> sql.Composable:
    # Ingest refuses NaN and Infinity, but one stored by another writer would poison every aggregate.
    if whole:
        return sql.Identifier(column)
    return sql.SQL("CASE WHEN {0} IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE {0} END").format(
        sql.Identifier(column)
    )


def raw_aggregates() -> sql.Composed:
    """The rollup columns (`samples`, `<signal>_n|avg|min|max`, `<counter>_min|max`) over raw telemetry rows."""
    parts: list[sql.Composable] = [sql.SQL("count(*) AS samples")]
    for signal in SIGNALS:
        value = _finite(signal, whole=signal in _WHOLE)
        for part, function in (("n", "count"), ("avg", "avg"), ("min", "min"), ("max", "max")):
            parts.append(sql.SQL("{}({}) AS {}").format(sql.SQL(function), value, sql.Identifier(f"{signal}_{part}")))
    for counter in COUNTERS:
        value = _finite(counter, whole=counter not in _FLOAT_COUNTERS)
        for part in ("min", "max"):
            parts.append(sql.SQL("{}({}) AS {}").format(sql.SQL(part), value, sql.Identifier(f"{counter}_{part}")))
    return sql.SQL(", ").join(parts)


def combined_aggregates() -> sql.Composed:
    """The rollup columns of several rollup rows combined (n-weighted means, min of mins, max of maxes)."""
    parts: list[sql.Composable] = [sql.SQL("sum(samples)::int AS samples")]
    for signal in SIGNALS:
        n, avg = sql.Identifier(f"{signal}_n"), sql.Identifier(f"{signal}_avg")
        parts.append(sql.SQL("sum({n})::int AS {n}").format(n=n))
        parts.append(sql.SQL("sum({a} * {n}) / nullif(sum({n}), 0) AS {a}").format(a=avg, n=n))
        for part in ("min", "max"):
            column = sql.Identifier(f"{signal}_{part}")
            parts.append(sql.SQL("{}({}) AS {}").format(sql.SQL(part), column, column))
    for counter in COUNTERS:
        for part in ("min", "max"):
            column = sql.Identifier(f"{counter}_{part}")
            parts.append(sql.SQL("{}({}) AS {}").format(sql.SQL(part), column, column))
    return sql.SQL(", ").join(parts)


_ROLL = sql.SQL(
    "INSERT INTO {table} (unit_id, bucket, {columns})"
    " SELECT unit_id, time_bucket(%(width)s, {time}) AS bucket, {aggregates} FROM {source}"
    " WHERE {time} >= %(since)s AND {time} < %(until)s{late} GROUP BY 1, 2"
    " ON CONFLICT (unit_id, bucket) DO UPDATE SET ({columns}, rolled_at) = ({excluded}, now())"
)
# Only the (unit, hour) pairs that received rows since the last pass: a re-roll of the lookback costs a scan of
# its rows' keys, and aggregates only what changed.
_LATE = sql.SQL(
    " AND (unit_id, time_bucket(%(width)s, time)) IN (SELECT DISTINCT unit_id, time_bucket(%(width)s, time)"
    " FROM telemetry WHERE time >= %(since)s AND time < %(until)s AND received_at >= %(received_since)s)"
)
# Rows ingest received shortly before the last pass may not have been committed by then: they count as new.
COMMIT_MARGIN = timedelta(minutes=5)


def _roll(
    conn: Connection, rollup: Rollup, *, since: datetime, until: datetime, received_since: datetime | None = None
) -> int:
    """Upsert `rollup`'s buckets in [since, until) from its source (hourly: only the buckets with rows received
    since `received_since`, when given); the buckets written."""
    hourly = rollup is HOURLY
    query = _ROLL.format(
        table=sql.Identifier(rollup.table),
        columns=_COLUMNS,
        time=sql.Identifier("time" if hourly else "bucket"),
        aggregates=raw_aggregates() if hourly else combined_aggregates(),
        source=sql.Identifier("telemetry" if hourly else HOURLY.table),
        late=_LATE if hourly and received_since is not None else sql.SQL(""),
        excluded=sql.SQL(", ").join(sql.Identifier("excluded", name) for name in _NAMES),
    )
    params = {"width": rollup.width, "since": since, "until": until, "received_since": received_since}
    return max(conn.execute(query, params).rowcount, 0)


def _floor(at: datetime, width: timedelta) -> datetime:
    """`at` rounded down to a multiple of `width` since the epoch (time_bucket's alignment for hours and days)."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + (at - epoch) // width * width


@dataclass(frozen=True)
class RollupRun:
    """What one refresh rolled: hourly buckets re-rolled for late rows and rolled new, daily buckets rolled."""

    late_buckets: int
    new_buckets: int
    daily_since: datetime | None
    daily_buckets: int


def _first_raw(conn: Connection) -> datetime | None:
    row = conn.execute("SELECT min(time) AS first FROM telemetry").fetchone()
    first = row["first"] if row else None
    return first if isinstance(first, datetime) else None


def _roll_hours(conn: Connection, *, now: datetime, lookback: timedelta) -> tuple[int, int, datetime | None]:
    """Re-roll the lookback's hours that got late rows, roll the new complete hours; (late, new, first hour)."""
    mark, cold = read_mark(conn, HOURLY.mark), read_mark(conn, COLD_MARK)
    hour_until = _floor(now, HOURLY.width)
    first = _first_raw(conn) if mark is None else mark.until
    if first is None:
        return 0, 0, None
    # Days already cold have no raw rows left: a re-roll there would overwrite whole hours with late stragglers.
    bound = cold.until if cold else datetime.min.replace(tzinfo=UTC)
    new_since = max(_floor(first, HOURLY.width), bound)
    late = new = 0
    late_since = new_since
    if mark is not None:
        late_since = max(_floor(mark.until - lookback, HOURLY.width), bound)
        if late_since < mark.until:
            late = _roll(conn, HOURLY, since=late_since, until=mark.until, received_since=mark.at - COMMIT_MARGIN)
    if new_since < hour_until:
        new = _roll(conn, HOURLY, since=new_since, until=hour_until)
    set_mark(conn, HOURLY.mark, until=max(hour_until, mark.until if mark else hour_until), at=now)
    return late, new, min(late_since, new_since)


def refresh_rollups(conn: Connection, *, now: datetime, lookback: timedelta) -> RollupRun:
    """Roll complete hours (re-rolling those of the last `lookback` that got late rows), then the days they
    complete or changed; move the marks."""
    daily_mark = read_mark(conn, DAILY.mark)
    late, new, touched = _roll_hours(conn, now=now, lookback=lookback)
    rolled = read_mark(conn, HOURLY.mark)
    if touched is None or rolled is None:
        return RollupRun(late, new, None, 0)
    day_until = _floor(rolled.until, DAILY.width)
    daily_since = _floor(touched if daily_mark is None else min(daily_mark.until, touched), DAILY.width)
    daily = 0
    if daily_since < day_until:
        daily = _roll(conn, DAILY, since=daily_since, until=day_until)
        set_mark(conn, DAILY.mark, until=max(day_until, daily_mark.until if daily_mark else day_until), at=now)
    return RollupRun(late, new, daily_since, daily)


@dataclass(frozen=True)
class CounterDay:
    """A unit's counter readings at the end of a UTC day (the highest reading of the day)."""

    unit_id: str
    day: date
    trip_count: int | None
    door_cycles: int | None
    energy_kwh: float | None


def counter_days(
    conn: Connection, *, since: date, until: date, unit_ids: Sequence[str] | None = None
) -> list[CounterDay]:
    """Daily counter readings in [since, until) from the daily rollup (the brain's exposure: trips, door
    cycles, energy); days not rolled yet are absent."""
    units = sql.SQL("") if unit_ids is None else sql.SQL(" AND unit_id = ANY(%(units)s)")
    query = sql.SQL(
        "SELECT unit_id, (bucket AT TIME ZONE 'UTC')::date AS day, trip_count_max AS trip_count,"
        " door_cycles_max AS door_cycles, energy_kwh_max AS energy_kwh FROM telemetry_daily"
        " WHERE bucket >= %(since)s AND bucket < %(until)s{units} ORDER BY unit_id, bucket"
    ).format(units=units)
    params = {"since": _midnight(since), "until": _midnight(until), "units": list(unit_ids or ())}
    return [CounterDay(**row) for row in conn.execute(query, params).fetchall()]  # type: ignore[arg-type]


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
