"""Component lives: each stint of a component in a unit's position, as of a moment, with whether it ended in a
failure. The raw material of every reliability figure.

A life runs from its installation to its removal (or to `as_of` while the part still runs: right-censored). A
removal is a failure unless the part replacement that made it was done under a preventive or modernisation work
order: a part swapped on a schedule or for an upgrade did not fail. Its repair time is the work order's span.
Its usage (trips, door cycles) is the counters' growth between the first and last day of the life with a
reading (`unit_counter_days`, rolled up from telemetry by `roll_up_counters`): a life begun before the readings
counts from its first one.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from psycopg import sql
from pydantic import BaseModel

from models.db import Connection

__all__ = ["BatchTotals", "batch_totals", "component_lives", "group_labels", "last_rolled_day", "roll_up_counters"]

# Work order kinds whose part swaps are planned, not failures.
PLANNED_KINDS = ("preventive", "modernization")

# What every use needs: the life's batch, hours in service up to `as_of`, and whether it ended in a failure.
_CORE_COLUMNS = sql.SQL("""
uc.id AS life_id, uc.unit_id, c.component_type, c.batch_id, b.supplier_id, b.produced_on,
extract(epoch FROM least(coalesce(uc.removed_at, %(as_of)s), %(as_of)s) - uc.installed_at) / 3600.0 AS hours,
(uc.removed_at IS NOT NULL AND uc.removed_at <= %(as_of)s
 AND coalesce(NOT (w.kind = ANY(%(planned)s)), true)) AS failed,
(uc.removed_at IS NULL OR uc.removed_at > %(as_of)s) AS running
""")
_FROM = sql.SQL("""
FROM unit_components uc
JOIN components c ON c.id = uc.component_id
LEFT JOIN component_batches b ON b.id = c.batch_id
LEFT JOIN LATERAL (
    SELECT wo.kind, wo.created_at, wo.completed_at
    FROM lifecycle_records r JOIN work_orders wo ON wo.id = r.work_order_id
    WHERE r.unit_id = uc.unit_id AND r.kind = 'part_replacement' AND r.occurred_at = uc.removed_at
      AND r.data ->> 'position' = uc.position
    LIMIT 1
) w ON uc.removed_at IS NOT NULL AND uc.removed_at <= %(as_of)s
""")
_WHERE = sql.SQL("WHERE uc.installed_at < %(as_of)s")
# What the reliability figures add: the unit's model and hours, repair spans, and usage from the counters.
_LIVES = sql.SQL("""
SELECT {},
       u.model_id, coalesce(u.manufacturer_id, m.manufacturer_id) AS manufacturer_id,
       extract(epoch FROM w.completed_at - w.created_at) / 3600.0 AS repair_hours,
       extract(epoch FROM %(as_of)s - min(uc.installed_at) OVER (PARTITION BY uc.unit_id)) / 3600.0 AS unit_hours,
       c1.trip_count - c0.trip_count AS trips, c1.door_cycles - c0.door_cycles AS door_cycles
{}
JOIN units u ON u.id = uc.unit_id
LEFT JOIN unit_models m ON m.id = u.model_id
LEFT JOIN LATERAL (
    SELECT trip_count, door_cycles FROM unit_counter_days d
    WHERE d.unit_id = uc.unit_id AND d.day BETWEEN uc.installed_at::date AND least(uc.removed_at, %(as_of)s)::date
    ORDER BY d.day LIMIT 1
) c0 ON true
LEFT JOIN LATERAL (
    SELECT trip_count, door_cycles FROM unit_counter_days d
    WHERE d.unit_id = uc.unit_id AND d.day BETWEEN uc.installed_at::date AND least(uc.removed_at, %(as_of)s)::date
    ORDER BY d.day DESC LIMIT 1
) c1 ON true
{}
""").format(_CORE_COLUMNS, _FROM, _WHERE)


class BatchTotals(BaseModel):
    """A batch's failures and hours in service as of a moment, and the units carrying it now."""

    batch_id: UUID
    component_type: str
    supplier_id: UUID
    failures: int
    exposure_hours: float
    current_units: int
    produced_on: date | None


def component_lives(conn: Connection, *, as_of: datetime) -> list[dict[str, Any]]:
    """Every life begun before `as_of`: its ids, hours in service, failed, running, repair and unit hours."""
    return conn.execute(_LIVES, {"as_of": as_of, "planned": list(PLANNED_KINDS)}).fetchall()


def batch_totals(conn: Connection, *, as_of: datetime) -> list[BatchTotals]:
    """Per batch: failures and hours in service up to `as_of` (the cheap input of the batch alert test)."""
    query = sql.SQL(
        "SELECT batch_id, min(component_type) AS component_type, min(supplier_id::text)::uuid AS supplier_id,"
        " count(*) FILTER (WHERE failed) AS failures, coalesce(sum(hours), 0) AS exposure_hours,"
        " count(DISTINCT unit_id) FILTER (WHERE running) AS current_units, min(produced_on) AS produced_on"
        " FROM (SELECT {} {} {}) lives WHERE batch_id IS NOT NULL"
        " GROUP BY batch_id ORDER BY batch_id"
    ).format(_CORE_COLUMNS, _FROM, _WHERE)
    rows = conn.execute(query, {"as_of": as_of, "planned": list(PLANNED_KINDS)}).fetchall()
    return [BatchTotals.model_validate(row) for row in rows]


def group_labels(conn: Connection) -> dict[str, str]:
    """Readable names by id: unit models, batches (their lot), suppliers and component types."""
    rows = conn.execute(
        "SELECT id::text AS key, name AS label FROM unit_models UNION ALL SELECT id::text, lot FROM component_batches"
        " UNION ALL SELECT id::text, name FROM suppliers UNION ALL SELECT code, name FROM component_types"
    ).fetchall()
    return {str(row["key"]): str(row["label"]) for row in rows}


def roll_up_counters(conn: Connection, *, since: datetime, until: datetime) -> int:
    """Fold telemetry counters of [since, until) into per-day readings (UTC days); the days written."""
    cursor = conn.execute(
        "INSERT INTO unit_counter_days (unit_id, day, trip_count, door_cycles, energy_kwh)"
        " SELECT unit_id, (time AT TIME ZONE 'UTC')::date, max(trip_count), max(door_cycles), max(energy_kwh)"
        " FROM telemetry WHERE time >= %(since)s AND time < %(until)s"
        " AND num_nonnulls(trip_count, door_cycles, energy_kwh) > 0 GROUP BY 1, 2"
        " ON CONFLICT (unit_id, day) DO UPDATE SET trip_count = greatest(unit_counter_days.trip_count,"
        " excluded.trip_count), door_cycles = greatest(unit_counter_days.door_cycles, excluded.door_cycles),"
        " energy_kwh = greatest(unit_counter_days.energy_kwh, excluded.energy_kwh)",
        {"since": since, "until": until},
    )
    return cursor.rowcount


def last_rolled_day(conn: Connection) -> date | None:
    """The latest day with rolled-up counters (None before the first roll-up)."""
    row = conn.execute("SELECT max(day) AS day FROM unit_counter_days").fetchone()
    day = row["day"] if row else None
    return day if isinstance(day, date) else None
