"""Telemetry and controller events: the idempotent bulk write path used by ingest.

Rows are keyed by (unit, device time) [+ code for events], so a redelivered message adds nothing. Rows are
built here from the decoded contract objects, column by name (the columns are the contract's signal names).
The fast path COPYs straight into the hypertable; only when that hits a duplicate does the batch go
through a staging table and `INSERT ... ON CONFLICT DO NOTHING` (about half the speed, measured in bench/).
Redelivery is rare (a crash or reconnect), so the common case runs at the raw COPY rate.

Conflicts: of several versions of one key, the first to arrive is kept (in message order, then batch order,
then what is already stored); every later version with different values is recorded in `ingest_conflicts`
with both versions. An identical repeat is silent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from msgspec.structs import astuple
from psycopg import sql
from psycopg.types.json import Jsonb

from models.db import Connection
from models.queries import identifiers
from models.telemetry.contract import DOOR_STATES, EVENT_CATALOGUE, EventMessage, TelemetrySample

__all__ = [
    "EVENT_COLUMNS",
    "TELEMETRY_COLUMNS",
    "TELEMETRY_TYPES",
    "ReceivedEvent",
    "ReceivedSamples",
    "Written",
    "copy_telemetry",
    "insert_events",
    "telemetry_rows",
]

_FIELDS: tuple[str, ...] = TelemetrySample.__struct_fields__
SIGNALS = tuple(name for name in _FIELDS if name != "ts")
TELEMETRY_COLUMNS = ("unit_id", "time", "received_at", *SIGNALS)
# Binary COPY needs the exact server type of each column (a signal the contract gains needs one here and a
# column in a migration; a test compares this with the table).
_SERVER_TYPES = {
    "unit_id": "text", "time": "timestamptz", "received_at": "timestamptz", "floor": "int2", "position_m": "float4",
    "direction": "int2", "speed_mps": "float4", "load_pct": "float4", "door_state": "int2",
    "motor_current_a": "float4", "motor_temp_c": "float4", "drive_temp_c": "float4", "vibration_x": "float4",
    "vibration_y": "float4", "vibration_z": "float4", "brake_engaged": "bool", "levelling_error_mm": "float4",
    "trip_count": "int8", "door_cycles": "int8", "energy_kwh": "float8", "standby_power_w": "float4",
    "extras": "jsonb", "door_open_s": "float4", "door_close_s": "float4", "door_reopens": "int2",
    "vibration_hf_rms": "float4", "stop_distance_mm": "float4",
}  # fmt: skip
TELEMETRY_TYPES = tuple(_SERVER_TYPES[column] for column in TELEMETRY_COLUMNS)
EVENT_COLUMNS = ("unit_id", "time", "received_at", "code", "category", "gb_code", "floor", "details")

if _FIELDS[0] != "ts":  # telemetry_rows slices the sample's tuple: the time first, then SIGNALS in order
    raise RuntimeError(f"TelemetrySample must start with ts, not {_FIELDS[0]!r}")
_DOOR = TELEMETRY_COLUMNS.index("door_state")
_EXTRAS = TELEMETRY_COLUMNS.index("extras")


@dataclass(frozen=True, slots=True)
class ReceivedSamples:
    """The telemetry of one message: its unit, when ingest received it, its samples."""

    unit_id: str
    received_at: datetime
    samples: Sequence[TelemetrySample]


@dataclass(frozen=True, slots=True)
class ReceivedEvent:
    """One controller event message of a unit."""

    unit_id: str
    received_at: datetime
    event: EventMessage


@dataclass(frozen=True, slots=True)
class Written:
    """What a write did: rows that were new, and later versions of a key that differed (recorded)."""

    new: int = 0
    conflicts: int = 0


def telemetry_rows(messages: Sequence[ReceivedSamples]) -> list[list[Any]]:
    """The telemetry rows of `messages`, in TELEMETRY_COLUMNS order, in arrival order."""
    # The hot loop of ingest (one pass per sample): the signals follow `ts` in field order, so a row is the
    # sample's tuple with the unit in front and received_at after the time, built by slicing, not per field.
    rows: list[list[Any]] = []
    append = rows.append
    for message in messages:
        unit_id, received_at = message.unit_id, message.received_at
        for sample in message.samples:
            values = astuple(sample)
            row = [unit_id, values[0], received_at, *values[1:]]
            if row[_DOOR] is not None:
                row[_DOOR] = DOOR_STATES[row[_DOOR]]
            if row[_EXTRAS] is not None:
                row[_EXTRAS] = Jsonb(row[_EXTRAS])
            append(row)
    return rows


_COPY = sql.SQL("COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)")
_STAGE = "telemetry_stage"
_COLUMN_LIST = identifiers(TELEMETRY_COLUMNS)
# `arrival` numbers the staged rows in COPY order, so "first to arrive" is a fact, not the planner's choice.
_CREATE_STAGE = sql.SQL(
    "CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE telemetry INCLUDING DEFAULTS,"
    " arrival bigint GENERATED ALWAYS AS IDENTITY) ON COMMIT DELETE ROWS"
).format(stage=sql.Identifier(_STAGE))
_MERGE_STAGE = sql.SQL(
    "INSERT INTO telemetry ({columns}) SELECT DISTINCT ON (unit_id, time) {columns} FROM {stage}"
    " ORDER BY unit_id, time, arrival ON CONFLICT DO NOTHING"
).format(columns=_COLUMN_LIST, stage=sql.Identifier(_STAGE))
# After the merge every staged key has a stored row: each staged version that differs from it is a conflict.
# Typed columns compare cheaply; the JSON of both versions is built only for the conflicts themselves.
_RECORD_CONFLICTS = sql.SQL(
    "INSERT INTO ingest_conflicts (kind, unit_id, time, kept, refused)"
    " SELECT 'telemetry', s.unit_id, s.time, to_jsonb(t) - 'received_at', to_jsonb(s) - 'received_at' - 'arrival'"
    " FROM {stage} s JOIN telemetry t ON t.unit_id = s.unit_id AND t.time = s.time"
    " WHERE ({stored}) IS DISTINCT FROM ({staged}) ON CONFLICT DO NOTHING"
).format(
    stage=sql.Identifier(_STAGE),
    stored=sql.SQL(", ").join(sql.Identifier("t", name) for name in SIGNALS),
    staged=sql.SQL(", ").join(sql.Identifier("s", name) for name in SIGNALS),
)


def _copy_rows(conn: Connection, table: str, rows: Sequence[Sequence[Any]]) -> None:
    statement = _COPY.format(table=sql.Identifier(table), columns=_COLUMN_LIST)
    with conn.cursor() as cur, cur.copy(statement) as copy:
        copy.set_types(TELEMETRY_TYPES)
        for row in rows:
            copy.write_row(row)


def copy_telemetry(conn: Connection, *, rows: Sequence[Sequence[Any]]) -> Written:
    """Write telemetry rows (from `telemetry_rows`) inside the caller's transaction; duplicates skipped."""
    if not rows:
        return Written()
    try:
        with conn.transaction():  # a savepoint inside the batch's transaction: a duplicate undoes only this
            _copy_rows(conn, "telemetry", rows)
        return Written(new=len(rows))
    except psycopg.errors.UniqueViolation:
        pass
    conn.execute(_CREATE_STAGE)
    _copy_rows(conn, _STAGE, rows)
    new = max(conn.execute(_MERGE_STAGE).rowcount, 0)
    conflicts = max(conn.execute(_RECORD_CONFLICTS).rowcount, 0)
    return Written(new=new, conflicts=conflicts)


_EVENTS = sql.SQL(
    "unnest(%(unit_id)s::text[], %(time)s::timestamptz[], %(received_at)s::timestamptz[], %(code)s::text[],"
    " %(category)s::text[], %(gb_code)s::int2[], %(floor)s::int2[], %(details)s::jsonb[]) WITH ORDINALITY"
    " AS v(unit_id, time, received_at, code, category, gb_code, floor, details, arrival)"
)
# Rows go in arrival order, so of two versions in one batch the first is the one kept.
_INSERT_EVENTS = sql.SQL(
    "INSERT INTO events ({columns}) SELECT {columns} FROM {events} ORDER BY arrival ON CONFLICT DO NOTHING"
).format(columns=identifiers(EVENT_COLUMNS), events=_EVENTS)
_EVENT_CONFLICTS = sql.SQL(
    "INSERT INTO ingest_conflicts (kind, unit_id, time, kept, refused)"
    " SELECT 'event', v.unit_id, v.time, jsonb_build_object('code', e.code, 'floor', e.floor, 'details', e.details),"
    "   jsonb_build_object('code', v.code, 'floor', v.floor, 'details', v.details)"
    " FROM {} JOIN events e ON e.unit_id = v.unit_id AND e.time = v.time AND e.code = v.code"
    " WHERE (e.floor, e.details) IS DISTINCT FROM (v.floor, v.details) ON CONFLICT DO NOTHING"
).format(_EVENTS)


def insert_events(conn: Connection, *, events: Sequence[ReceivedEvent]) -> Written:
    """Insert controller events inside the caller's transaction; redelivered ones skipped, conflicts recorded."""
    if not events:
        return Written()
    columns: dict[str, list[Any]] = {name: [] for name in EVENT_COLUMNS}
    for received in events:
        event, spec = received.event, EVENT_CATALOGUE[received.event.code]
        details = None if event.details is None else Jsonb(event.details)
        for name, value in zip(
            EVENT_COLUMNS,
            (
                received.unit_id,
                event.ts,
                received.received_at,
                event.code,
                spec.category.value,
                spec.gb_code,
                event.floor,
                details,
            ),
            strict=True,
        ):
            columns[name].append(value)  # fmt: skip
    new = max(conn.execute(_INSERT_EVENTS, columns).rowcount, 0)
    conflicts = max(conn.execute(_EVENT_CONFLICTS, columns).rowcount, 0)
    return Written(new=new, conflicts=conflicts)
