"""Telemetry windows read in bulk for polars, and the unit_features table (features per unit and window).

A window is read with `COPY (SELECT ...) TO STDOUT (FORMAT csv)` parsed by polars' CSV reader: measured in
bench/detection.py against fetching rows through the cursor (`read_window_rows`), it is several times faster
because no Python object is built per value. Signals a device does not send come back null.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl
from psycopg import sql
from psycopg.rows import tuple_row

from models.db import Connection
from models.queries import identifiers
from models.telemetry.cold import read_cold
from models.telemetry.marks import COLD_MARK, read_mark

__all__ = [
    "FEATURE_COLUMNS",
    "WINDOW_COLUMNS",
    "ActiveUnit",
    "active_units",
    "last_complete_window",
    "read_features",
    "read_window",
    "read_window_rows",
    "upsert_features",
]

# Raw signals a feature pass needs.
# Times travel as epoch microseconds: unambiguous in CSV, and a plain integer cast for polars.
_EPOCH_US = sql.SQL("(extract(epoch FROM {}) * 1000000)::bigint")


def _epoch(column: str) -> sql.Composable:
    return _EPOCH_US.format(sql.Identifier(column))


# (frame name, column): every column is read as is, `time` as epoch microseconds.
_WINDOW_SELECT: tuple[tuple[str, str], ...] = (
    ("unit_id", "unit_id"),
    ("time", "time"),
    ("direction", "direction"),
    ("speed_mps", "speed_mps"),
    ("load_pct", "load_pct"),
    ("motor_current_a", "motor_current_a"),
    ("motor_temp_c", "motor_temp_c"),
    ("drive_temp_c", "drive_temp_c"),
    ("vibration_z", "vibration_z"),
    ("levelling_error_mm", "levelling_error_mm"),
    ("trip_count", "trip_count"),
    ("door_cycles", "door_cycles"),
    ("energy_kwh", "energy_kwh"),
    ("standby_power_w", "standby_power_w"),
    ("door_open_s", "door_open_s"),
    ("door_close_s", "door_close_s"),
    ("vibration_hf", "vibration_hf_rms"),
    ("stop_distance_mm", "stop_distance_mm"),
)
WINDOW_COLUMNS = tuple(name for name, _ in _WINDOW_SELECT)
_WINDOW_SCHEMA: dict[str, pl.DataType] = {
    name: pl.Utf8() if name == "unit_id" else pl.Int64() if name in ("time", "direction") else pl.Float64()
    for name in WINDOW_COLUMNS
}

# Feature columns of unit_features after the key (unit_id, window_start, window_hours) and `samples`.
FEATURE_COLUMNS = (
    "moving_share", "trips", "door_cycles", "reopen_rate", "door_open_s", "door_close_s", "levelling_mean_mm",
    "levelling_abs_p95_mm", "stop_distance_p50_mm", "vibration_z_p50", "vibration_z_p95", "vibration_hf_p50",
    "current_at_balance_a", "current_per_load_a", "motor_temp_rise_per_duty", "drive_over_motor_c",
    "energy_per_trip_kwh", "standby_power_w",
)  # fmt: skip
_KEY = ("unit_id", "window_start", "window_hours")
_ALL = (*_KEY, "samples", *FEATURE_COLUMNS)
_FEATURES_SCHEMA: dict[str, pl.DataType] = {
    "unit_id": pl.Utf8(),
    "window_start": pl.Int64(),
    "window_hours": pl.Int64(),
    "samples": pl.Int64(),
} | {name: pl.Float64() for name in FEATURE_COLUMNS}
_STORED_SCHEMA = _FEATURES_SCHEMA | {"window_start": pl.Datetime("us", "UTC")}


@dataclass(frozen=True)
class ActiveUnit:
    """A unit that reported recently, with its model family (None when the registry does not know it)."""

    unit_id: str
    family: str | None


def active_units(conn: Connection, *, since: datetime) -> list[ActiveUnit]:
    """Units seen by ingest at or after `since`, in id order."""
    with conn.cursor(row_factory=tuple_row) as cur:
        cur.execute("SELECT id, model_id::text FROM units WHERE last_seen >= %s ORDER BY id", (since,))
        return [ActiveUnit(unit_id, family) for unit_id, family in cur.fetchall()]


def _window_query(unit_ids: Sequence[str], since: datetime, until: datetime) -> sql.Composed:
    select = sql.SQL(", ").join(
        sql.SQL("{} AS {}").format(_epoch(column) if name == "time" else sql.Identifier(column), sql.Identifier(name))
        for name, column in _WINDOW_SELECT
    )
    return sql.SQL(
        "SELECT {} FROM telemetry WHERE unit_id = ANY({}) AND time >= {} AND time < {} ORDER BY unit_id, time"
    ).format(select, sql.Literal(list(unit_ids)), sql.Literal(since), sql.Literal(until))


def _copy_csv(conn: Connection, query: sql.Composable) -> bytes:
    buffer = io.BytesIO()
    with conn.cursor() as cur, cur.copy(sql.SQL("COPY ({}) TO STDOUT (FORMAT csv, HEADER)").format(query)) as copy:
        for block in copy:
            buffer.write(block)
    return buffer.getvalue()


def _typed(frame: pl.DataFrame, time_column: str) -> pl.DataFrame:
    # NaN never reaches the table through ingest, but one from another writer must not poison a percentile.
    floats = [name for name, dtype in frame.schema.items() if dtype == pl.Float64]
    return frame.with_columns(pl.col(floats).fill_nan(None), pl.col(time_column).cast(pl.Datetime("us", "UTC")))


def _cold_window(root: Path, unit_ids: Sequence[str], since: datetime, until: datetime) -> pl.DataFrame:
    """The window's rows from the cold tier, in the frame shape of the hypertable read."""
    names = {column: name for name, column in _WINDOW_SELECT if name != "time"}  # every other one is a column
    frame = read_cold(root, since=since, until=until, unit_ids=unit_ids, columns=["time", *names]).rename(names)
    return frame.select(
        pl.col(name) if name == "time" else pl.col(name).cast(_WINDOW_SCHEMA[name]) for name in WINDOW_COLUMNS
    )


def read_window(conn: Connection, *, unit_ids: Sequence[str], since: datetime, until: datetime) -> pl.DataFrame:
    """The raw signals of `unit_ids` in [since, until) as one frame (COPY to CSV, parsed by polars); the part
    before the cold tier's mark comes from its Parquet files."""
    cold = read_mark(conn, COLD_MARK)
    hot_since = since if cold is None else min(max(since, cold.until), until)
    frames = []
    if cold is not None and cold.location is not None and since < hot_since:
        frames.append(_cold_window(Path(cold.location), unit_ids, since, hot_since))
    data = _copy_csv(conn, _window_query(unit_ids, hot_since, until)) if hot_since < until else b""
    frame = pl.read_csv(data, schema=_WINDOW_SCHEMA) if data else pl.DataFrame(schema=_WINDOW_SCHEMA)
    frames.append(_typed(frame, "time"))
    return _typed(pl.concat(frames), "time") if len(frames) > 1 else frames[0]


def read_window_rows(conn: Connection, *, unit_ids: Sequence[str], since: datetime, until: datetime) -> pl.DataFrame:
    """The same frame as `read_window`, fetched row by row (the slower path, kept to measure against)."""
    with conn.cursor(row_factory=tuple_row) as cur:
        cur.execute(_window_query(unit_ids, since, until))
        rows = cur.fetchall()
    return _typed(pl.DataFrame(rows, schema=_WINDOW_SCHEMA, orient="row"), "time")


def upsert_features(conn: Connection, *, features: pl.DataFrame, computed_at: datetime) -> int:
    """Insert or replace feature rows (keyed by unit, window hours, window start); return how many were written."""
    if features.is_empty():
        return 0
    frame = features.select([pl.col(name).cast(dtype) for name, dtype in _STORED_SCHEMA.items()])
    columns = identifiers(_ALL)
    conn.execute(
        sql.SQL(
            "CREATE TEMP TABLE IF NOT EXISTS unit_features_stage ON COMMIT DELETE ROWS AS"
            " SELECT {} FROM unit_features WITH NO DATA"
        ).format(columns)
    )
    conn.execute("TRUNCATE unit_features_stage")
    with conn.cursor() as cur, cur.copy(sql.SQL("COPY unit_features_stage ({}) FROM STDIN").format(columns)) as copy:
        for row in frame.iter_rows():
            copy.write_row(row)
    updates = sql.SQL(", ").join(
        sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(name)) for name in ("samples", *FEATURE_COLUMNS)
    )
    cur = conn.execute(
        sql.SQL(
            "INSERT INTO unit_features ({c}, computed_at) SELECT {c}, {at} FROM unit_features_stage"
            " ON CONFLICT (unit_id, window_hours, window_start) DO UPDATE SET {u}, computed_at = {at}"
        ).format(c=columns, u=updates, at=sql.Literal(computed_at))
    )
    return max(cur.rowcount, 0)


def last_complete_window(conn: Connection, *, window_hours: int) -> datetime | None:
    """Start of the newest window whose features were computed after it ended (None before the first)."""
    with conn.cursor(row_factory=tuple_row) as cur:
        cur.execute(
            "SELECT max(window_start) FROM unit_features WHERE window_hours = %s"
            " AND computed_at >= window_start + make_interval(hours => %s)",
            (window_hours, window_hours),
        )
        row = cur.fetchone()
    return row[0] if row else None


def read_features(
    conn: Connection,
    *,
    window_hours: int,
    since: datetime,
    until: datetime,
    unit_ids: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Feature rows with window_start in [since, until), ordered by unit and window (optionally some units only)."""
    units = sql.SQL("") if unit_ids is None else sql.SQL(" AND unit_id = ANY({})").format(sql.Literal(list(unit_ids)))
    query = sql.SQL(
        "SELECT {c} FROM unit_features WHERE window_hours = {h} AND window_start >= {s} AND window_start < {u}{units}"
        " ORDER BY unit_id, window_start"
    ).format(
        c=sql.SQL(", ").join(
            sql.SQL("{} AS {}").format(_epoch(name), sql.Identifier(name))
            if name == "window_start"
            else sql.Identifier(name)
            for name in _ALL
        ),
        h=sql.Literal(window_hours),
        s=sql.Literal(since),
        u=sql.Literal(until),
        units=units,
    )
    data = _copy_csv(conn, query)
    frame = pl.read_csv(data, schema=_FEATURES_SCHEMA) if data else pl.DataFrame(schema=_FEATURES_SCHEMA)
    return _typed(frame, "window_start")
