"""The cold tier: telemetry past a configured age as Parquet (zstd) under `<data dir>/cold/telemetry/<day>/`.

The embedded TimescaleDB (Apache build) has no compression; a day's chunk of raw rows moves here instead, one
file per UTC day sorted by (unit_id, time), and the chunk is dropped only after the file's row count checked
out. The chunk is locked against writes while it moves, so a row cannot land in it between the copy and the
drop. A day moves only once the rollups cover it (their raw rows are gone afterwards). Readers find the tier
from its mark (`telemetry_marks`: everything before `until` lives under `location`), so the API and the brain
need no configuration to read it. Rows that arrive late for a day already moved wait in the hypertable until
the next move merges them into the day's file; until then reads of that day do not see them.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from psycopg import sql

from models.db import Connection
from models.telemetry.marks import COLD_MARK, read_mark, set_mark
from models.telemetry.rollups import COUNTERS, DAILY, SIGNALS
from models.telemetry.samples import TELEMETRY_COLUMNS, TELEMETRY_TYPES

__all__ = ["ColdDay", "cold_buckets", "cold_horizon", "drop_cold_days", "move_to_cold", "read_cold"]

FILE_NAME = "telemetry.parquet"
# A row group holds a few units' day (8,640 rows each at 10 s): a read of one unit decodes one or two groups.
ROW_GROUP_ROWS = 65_536
# Rows read from the database per slice of units: bounds the job's memory whatever the fleet's size.
SLICE_ROWS = 1_000_000
_POLARS = {
    "text": pl.String(), "timestamptz": pl.Int64(), "int2": pl.Int16(), "float4": pl.Float32(), "bool": pl.Int8(),
    "int8": pl.Int64(), "float8": pl.Float64(), "jsonb": pl.String(),
}  # fmt: skip
_TIMES = ("time", "received_at")
# As read from the database (CSV): times as epoch microseconds, booleans as 0/1, JSON as text.
_CSV_SCHEMA = {name: _POLARS[kind] for name, kind in zip(TELEMETRY_COLUMNS, TELEMETRY_TYPES, strict=True)}
_BOOLS = tuple(name for name, kind in zip(TELEMETRY_COLUMNS, TELEMETRY_TYPES, strict=True) if kind == "bool")


def _select_list() -> sql.Composed:
    parts: list[sql.Composable] = []
    for name, kind in zip(TELEMETRY_COLUMNS, TELEMETRY_TYPES, strict=True):
        column = sql.Identifier(name)
        if kind == "timestamptz":
            parts.append(sql.SQL("(extract(epoch FROM {0}) * 1000000)::bigint AS {0}").format(column))
        elif kind == "bool":
            parts.append(sql.SQL("{0}::int AS {0}").format(column))
        else:
            parts.append(column)
    return sql.SQL(", ").join(parts)


# In the file, received_at is kept as its lag behind `time` in milliseconds: a small number that compresses to
# about a byte, where a second timestamp costs three (bench/storage.py); sub-millisecond detail is dropped.
_LAG = "received_lag_ms"
_FILE_COLUMNS = [_LAG if name == "received_at" else name for name in TELEMETRY_COLUMNS]


def _typed(frame: pl.DataFrame) -> pl.DataFrame:
    """A frame read from the database (CSV shape) in the file's shape."""
    typed = frame.with_columns(
        *(pl.col(name).cast(pl.Datetime("us", "UTC")) for name in _TIMES),
        *(pl.col(name).cast(pl.Boolean) for name in _BOOLS),
    )
    lag = ((pl.col("received_at") - pl.col("time")).dt.total_microseconds() // 1000).alias(_LAG)
    return typed.with_columns(lag).select(_FILE_COLUMNS)


@dataclass(frozen=True)
class ColdDay:
    """One day moved to the cold tier: its file, the rows it holds, and the chunk dropped."""

    day: date
    path: Path
    rows: int
    chunk: str


def cold_horizon(conn: Connection, *, now: datetime, age: timedelta) -> datetime | None:
    """Data before this may move cold: older than `age` and rolled up daily (None before the first rollup)."""
    daily = read_mark(conn, DAILY.mark)
    return None if daily is None else min(now - age, daily.until)


def _read_slice(conn: Connection, chunk: sql.Composable, unit_ids: Sequence[str]) -> pl.DataFrame:
    query = sql.SQL("COPY (SELECT {} FROM {} WHERE unit_id = ANY({}) ORDER BY unit_id, time) TO STDOUT (FORMAT csv)")
    buffer = io.BytesIO()
    with conn.cursor() as cur, cur.copy(query.format(_select_list(), chunk, sql.Literal(list(unit_ids)))) as copy:
        for block in copy:
            buffer.write(block)
    data = buffer.getvalue()
    frame = pl.read_csv(data, schema=_CSV_SCHEMA, has_header=False) if data else pl.DataFrame(schema=_CSV_SCHEMA)
    return _typed(frame)


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_day(conn: Connection, chunk: sql.Composable, target: Path, *, rows: int) -> int:
    """Write the chunk's rows (merged with a file already there) to `target`; the rows the file holds."""
    units = [
        str(r["unit_id"]) for r in conn.execute(sql.SQL("SELECT DISTINCT unit_id FROM {} ORDER BY 1").format(chunk))
    ]
    per_slice = max(1, SLICE_ROWS * len(units) // max(rows, 1))
    staging = target.parent / ".staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    slices = []
    for start in range(0, len(units), per_slice):
        path = staging / f"{start:08d}.parquet"
        _read_slice(conn, chunk, units[start : start + per_slice]).write_parquet(path, compression="uncompressed")
        slices.append(path)
    frame = pl.scan_parquet(slices) if slices else _typed(pl.DataFrame(schema=_CSV_SCHEMA)).lazy()
    if target.exists():  # rows that came late for a day already cold: the file's version of a key wins
        frame = pl.concat([pl.scan_parquet(target), frame]).unique(["unit_id", "time"], keep="first")
        frame = frame.sort("unit_id", "time")
    expected = frame.select(pl.len()).collect().item()
    written = staging / FILE_NAME
    frame.sink_parquet(written, compression="zstd", row_group_size=ROW_GROUP_ROWS)
    _fsync(written)
    held = pl.scan_parquet(written).select(pl.len()).collect().item()
    if held != expected:
        raise RuntimeError(f"cold file {written} holds {held} rows, expected {expected}: chunk kept")
    written.replace(target)
    _fsync(target.parent)
    shutil.rmtree(staging)
    return int(held)


_CHUNKS = (
    "SELECT chunk_schema, chunk_name, range_start, range_end"
    " FROM timescaledb_information.chunks WHERE hypertable_name = 'telemetry' AND range_end <= %(before)s"
    " ORDER BY range_start"
)


def move_to_cold(conn: Connection, *, root: Path, before: datetime, now: datetime) -> list[ColdDay]:
    """Move every telemetry chunk that ends by `before` to a Parquet file per day under `root`; drop them."""
    moved = []
    mark = read_mark(conn, COLD_MARK)
    until = mark.until if mark else None
    for chunk in conn.execute(_CHUNKS, {"before": before}).fetchall():
        start, end = chunk["range_start"], chunk["range_end"]
        assert isinstance(start, datetime)
        assert isinstance(end, datetime)
        name = f"{chunk['chunk_schema']}.{chunk['chunk_name']}"
        table = sql.Identifier(str(chunk["chunk_schema"]), str(chunk["chunk_name"]))
        conn.execute(sql.SQL("LOCK TABLE {} IN SHARE MODE").format(table))
        row = conn.execute(sql.SQL("SELECT count(*) AS n FROM {}").format(table)).fetchone()
        rows = int(row["n"]) if row else 0  # type: ignore[call-overload]
        day = start.astimezone(UTC).date()
        target = root / day.isoformat() / FILE_NAME
        target.parent.mkdir(parents=True, exist_ok=True)
        held = _write_day(conn, table, target, rows=rows)
        conn.execute(
            "SELECT drop_chunks('telemetry', older_than => %(end)s, newer_than => %(start)s)",
            {"start": start, "end": end},
        )
        moved.append(ColdDay(day, target, held, name))
        until = end if until is None else max(until, end)
    if until is not None:
        set_mark(conn, COLD_MARK, until=until, at=now, location=str(root))
    return moved


def drop_cold_days(root: Path, *, older_than: datetime) -> list[date]:
    """Delete the cold days that end by `older_than` (retention applies to both tiers); the days deleted."""
    dropped = []
    for directory in sorted(root.glob("????-??-??")) if root.exists() else ():
        day = date.fromisoformat(directory.name)
        if datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1) <= older_than:
            shutil.rmtree(directory)
            dropped.append(day)
    return dropped


def _days(root: Path, since: datetime, until: datetime) -> list[Path]:
    first, last = since.astimezone(UTC).date(), (until - timedelta(microseconds=1)).astimezone(UTC).date()
    count = (last - first).days + 1
    paths = (root / (first + timedelta(days=i)).isoformat() / FILE_NAME for i in range(max(count, 0)))
    return [path for path in paths if path.exists()]


def read_cold(
    root: Path, *, since: datetime, until: datetime, unit_ids: Sequence[str], columns: Sequence[str] | None = None
) -> pl.DataFrame:
    """Cold rows of `unit_ids` in [since, until), ordered by unit and time (predicates pushed to the files)."""
    paths = _days(root, since, until)
    names = list(columns or TELEMETRY_COLUMNS)
    frame = pl.scan_parquet(paths) if paths else _typed(pl.DataFrame(schema=_CSV_SCHEMA)).lazy()
    received = (pl.col("time") + pl.duration(milliseconds=pl.col(_LAG))).alias("received_at")
    return (
        frame.filter(pl.col("unit_id").is_in(list(unit_ids)), pl.col("time") >= since, pl.col("time") < until)
        .sort("unit_id", "time")
        .with_columns(received)
        .select(names)
        .collect()
    )


def cold_buckets(
    root: Path, *, unit_id: str, since: datetime, until: datetime, width: timedelta
) -> list[dict[str, Any]]:
    """Buckets of `width` of one unit's cold rows in [since, until), in the rollup shape (as the SQL computes it)."""
    frame = read_cold(root, since=since, until=until, unit_ids=[unit_id], columns=["time", *SIGNALS, *COUNTERS])
    if frame.is_empty():
        return []
    floats = [name for name, dtype in frame.schema.items() if dtype in (pl.Float32, pl.Float64)]
    aggregates: list[pl.Expr] = [pl.len().cast(pl.Int64).alias("samples")]
    for signal in SIGNALS:
        value = pl.col(signal)
        aggregates += [
            value.count().cast(pl.Int64).alias(f"{signal}_n"),
            value.cast(pl.Float64).mean().alias(f"{signal}_avg"),
            value.min().alias(f"{signal}_min"),
            value.max().alias(f"{signal}_max"),
        ]
    for counter in COUNTERS:
        aggregates += [pl.col(counter).min().alias(f"{counter}_min"), pl.col(counter).max().alias(f"{counter}_max")]
    # Ingest refuses NaN, but one from another writer must not poison a bucket (the SQL drops them the same way).
    grouped = frame.with_columns(pl.col(floats).fill_nan(None)).group_by(
        pl.col("time").dt.truncate(width).alias("bucket")
    )
    return grouped.agg(aggregates).sort("bucket").to_dicts()
