"""Telemetry and controller events: the idempotent bulk write path used by ingest.

Rows are keyed by (unit, device time) [+ code for events], so a redelivered message adds nothing.
The fast path COPYs straight into the hypertable; only when that hits a duplicate does the batch go
through a staging table and `INSERT ... ON CONFLICT DO NOTHING` (about half the speed, measured in bench/).
Redelivery is rare (a crash or reconnect), so the common case runs at the raw COPY rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

__all__ = [
    "EVENT_COLUMNS",
    "TELEMETRY_COLUMNS",
    "TELEMETRY_TYPES",
    "EventRow",
    "TelemetryRow",
    "copy_telemetry",
    "insert_events",
]

TELEMETRY_COLUMNS = (
    "unit_id", "time", "received_at", "floor", "position_m", "direction", "speed_mps", "load_pct", "door_state",
    "motor_current_a", "motor_temp_c", "drive_temp_c", "vibration_x", "vibration_y", "vibration_z",
    "brake_engaged", "levelling_error_mm", "trip_count", "door_cycles", "energy_kwh", "standby_power_w", "extras",
)  # fmt: skip
# Binary COPY needs the exact server types, in column order.
TELEMETRY_TYPES = (
    "text", "timestamptz", "timestamptz", "int2", "float4", "int2", "float4", "float4", "int2",
    "float4", "float4", "float4", "float4", "float4", "float4",
    "bool", "float4", "int8", "int8", "float8", "float4", "jsonb",
)  # fmt: skip
EVENT_COLUMNS = ("unit_id", "time", "received_at", "code", "category", "gb_code", "floor", "details")

TelemetryRow = tuple[Any, ...]
"""One telemetry row in TELEMETRY_COLUMNS order (extras as Jsonb or None)."""
EventRow = tuple[str, datetime, datetime, str, str, int | None, int | None, Jsonb | None]

_COPY_TELEMETRY = sql.SQL("COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)")
_STAGE = "telemetry_stage"


def _copy_rows(conn: psycopg.Connection[Any], table: str, rows: Sequence[TelemetryRow]) -> None:
    statement = _COPY_TELEMETRY.format(
        table=sql.Identifier(table), columns=sql.SQL(", ").join(map(sql.Identifier, TELEMETRY_COLUMNS))
    )
    with conn.cursor() as cur, cur.copy(statement) as copy:
        copy.set_types(TELEMETRY_TYPES)
        for row in rows:
            copy.write_row(row)


def copy_telemetry(conn: psycopg.Connection[Any], rows: Sequence[TelemetryRow]) -> int:
    """Write telemetry rows inside the caller's transaction; return how many were new (duplicates skipped)."""
    if not rows:
        return 0
    try:
        with conn.transaction():  # a savepoint: a duplicate undoes only this attempt
            _copy_rows(conn, "telemetry", rows)
        return len(rows)
    except psycopg.errors.UniqueViolation:
        pass
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (LIKE telemetry INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
    _copy_rows(conn, _STAGE, rows)
    columns = ", ".join(TELEMETRY_COLUMNS)
    cursor = conn.execute(
        f"INSERT INTO telemetry ({columns}) SELECT DISTINCT ON (unit_id, time) {columns} FROM {_STAGE}"
        " ON CONFLICT DO NOTHING"
    )
    return max(cursor.rowcount, 0)


def insert_events(conn: psycopg.Connection[Any], rows: Sequence[EventRow]) -> int:
    """Insert controller events; return how many were new (redelivered ones are skipped)."""
    if not rows:
        return 0
    placeholders = ", ".join(["%s"] * len(EVENT_COLUMNS))
    inserted = 0
    with conn.cursor() as cur:
        # Events are a trickle next to telemetry; executemany keeps the per-row conflict count simple.
        cur.executemany(
            f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES ({placeholders}) ON CONFLICT DO NOTHING",
            rows,
            returning=False,
        )
        inserted = max(cur.rowcount, 0)
    return inserted
