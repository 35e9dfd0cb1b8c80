"""The quality job's energy pass: monthly usage and energy per unit from the daily counter readings, stored with
their classes, and the monthly drift verdicts. Platform-only: the job reads and writes every unit.

A month spans from the previous month's last reading (when that month has readings) to its own last reading, so
consecutive months add up to the counters' whole growth; a counter that went backwards (a replaced controller)
leaves that month without figures.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import polars as pl
from psycopg import sql

from models.db import Connection

__all__ = ["ENERGY_COLUMNS", "energy_history", "energy_month_inputs", "store_drift", "store_energy_months"]

# What brain.quality.energy adds to each month, stored as is.
ENERGY_COLUMNS = (
    "unit_id", "month", "hours", "trips", "energy_kwh", "standby_power_w", "running_kwh_per_trip",
    "specific_running_mwh", "usage_category", "daily_kwh", "running_class", "standby_class", "energy_class",
)  # fmt: skip

_INPUTS = """
WITH months AS (
    SELECT unit_id, date_trunc('month', day)::date AS month, min(day) AS first_day, max(day) AS last_day,
           min(trip_count) AS trips_first, max(trip_count) AS trips_last,
           min(energy_kwh) AS energy_first, max(energy_kwh) AS energy_last,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY standby_power_w) AS standby_power_w
    FROM unit_counter_days
    WHERE day >= %(from)s::date - interval '1 month' AND day <= %(until)s::date
    GROUP BY 1, 2
), spans AS (
    SELECT m.*, lag(m.month) OVER w = m.month - interval '1 month' AS joined,
           lag(m.last_day) OVER w AS prev_day, lag(m.trips_last) OVER w AS prev_trips,
           lag(m.energy_last) OVER w AS prev_energy
    FROM months m WINDOW w AS (PARTITION BY m.unit_id ORDER BY m.month)
)
SELECT s.unit_id, s.month,
       (s.last_day - CASE WHEN s.joined THEN s.prev_day ELSE s.first_day END) * 24.0::float8 AS hours,
       s.trips_last - CASE WHEN s.joined THEN s.prev_trips ELSE s.trips_first END AS trips,
       s.energy_last - CASE WHEN s.joined THEN s.prev_energy ELSE s.energy_first END AS energy_kwh,
       s.standby_power_w, m.capacity_kg::float8, u.floors::float8
FROM spans s JOIN units u ON u.id = s.unit_id LEFT JOIN unit_models m ON m.id = u.model_id
WHERE s.month >= %(from)s
  AND s.trips_last >= CASE WHEN s.joined THEN s.prev_trips ELSE s.trips_first END
  AND s.energy_last >= CASE WHEN s.joined THEN s.prev_energy ELSE s.energy_first END
"""
_INPUT_SCHEMA: dict[str, Any] = {
    "unit_id": pl.String, "month": pl.Date, "hours": pl.Float64, "trips": pl.Int64, "energy_kwh": pl.Float64,
    "standby_power_w": pl.Float64, "capacity_kg": pl.Float64, "floors": pl.Float64,
}  # fmt: skip


def energy_month_inputs(conn: Connection, *, since: date, until: datetime) -> pl.DataFrame:
    """Per unit and month from `since`'s month to `until`: hours spanned, trips, energy, median standby power,
    and the unit's rated load and floors."""
    start = since.replace(day=1)
    rows = conn.execute(_INPUTS, {"from": start, "until": until}).fetchall()
    return pl.DataFrame(rows, schema=_INPUT_SCHEMA) if rows else pl.DataFrame(schema=_INPUT_SCHEMA)


_COLUMNS = sql.SQL(", ").join(map(sql.Identifier, ENERGY_COLUMNS))
# The staging table takes the stored columns' types without their constraints (computed_at comes later).
_STAGE = sql.SQL(
    "CREATE TEMP TABLE energy_stage ON COMMIT DROP AS SELECT {cols} FROM unit_energy_months WITH NO DATA"
).format(cols=_COLUMNS)
_UPSERT = sql.SQL(
    "INSERT INTO unit_energy_months ({cols}, computed_at) SELECT {cols}, %(now)s FROM energy_stage"
    " ON CONFLICT (unit_id, month) DO UPDATE SET {updates}, computed_at = excluded.computed_at"
).format(
    cols=_COLUMNS,
    updates=sql.SQL(", ").join(
        sql.SQL("{0} = excluded.{0}").format(sql.Identifier(name)) for name in ENERGY_COLUMNS[2:]
    ),
)


def store_energy_months(conn: Connection, *, months: pl.DataFrame, now: datetime) -> int:
    """Insert or refresh the classified months (drift verdicts are kept); how many."""
    if months.is_empty():
        return 0
    conn.execute(_STAGE)
    with conn.cursor() as cur, cur.copy(sql.SQL("COPY energy_stage ({}) FROM STDIN").format(_COLUMNS)) as copy:
        for row in months.select(ENERGY_COLUMNS).iter_rows():
            copy.write_row(row)
    stored = conn.execute(_UPSERT, {"now": now}).rowcount
    conn.execute("DROP TABLE energy_stage")  # a caller may store again before its transaction ends
    return stored


def energy_history(conn: Connection, *, since: date, until: date, undecided_in: date) -> pl.DataFrame:
    """Classified months in [since, until] of the units whose month `undecided_in` has no drift verdict yet (a
    verdict is a drift flag, or a reason without one: too little history)."""
    rows = conn.execute(
        "SELECT h.unit_id, h.month, h.specific_running_mwh, h.standby_power_w, h.running_class, h.drift"
        " FROM unit_energy_months h WHERE h.month BETWEEN %(since)s AND %(until)s AND h.unit_id IN"
        " (SELECT unit_id FROM unit_energy_months WHERE month = %(month)s AND drift IS NULL AND drift_reason IS NULL)"
        " ORDER BY h.unit_id, h.month",
        {"since": since, "until": until, "month": undecided_in},
    ).fetchall()
    schema: dict[str, Any] = {
        "unit_id": pl.String, "month": pl.Date, "specific_running_mwh": pl.Float64, "standby_power_w": pl.Float64,
        "running_class": pl.String, "drift": pl.Boolean,
    }  # fmt: skip
    return pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)


def store_drift(conn: Connection, *, month: date, verdicts: pl.DataFrame) -> int:
    """Record each unit's drift verdict (columns unit_id, drift, drift_reason) for `month`; how many."""
    if verdicts.is_empty():
        return 0
    with conn.cursor() as cur:
        cur.executemany(
            "UPDATE unit_energy_months SET drift = %s, drift_reason = %s WHERE unit_id = %s AND month = %s",
            [(drift, reason, unit_id, month) for unit_id, drift, reason in verdicts.iter_rows()],
        )
    return verdicts.height
