"""Keep unit_features current: hourly windows of the last two hours, and every completed day not yet computed.

Raw telemetry is read in shards of units (one bulk COPY per shard) and turned into features with polars; a
shard that fails is redone unit by unit, so one unit's bad data costs only that unit's features.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from brain.detection.features import compute_features
from brain.units import for_each_unit
from models.db import Connection
from models.monitoring.features import active_units, last_complete_window, read_window, upsert_features

__all__ = ["SHARD_UNITS", "refresh_windows", "run"]

log = logging.getLogger(__name__)

# Units per bulk read: a day of 10 s samples of 200 units is ~1.7M rows, a few hundred MB in polars at most.
SHARD_UNITS = 200
# After an outage the job catches up at most this many days per run (older days wait for the next run).
MAX_CATCH_UP_DAYS = 7
# Recompute the current hour and the one before (late data arrives within the hour).
HOURLY_LOOKBACK = timedelta(hours=1)


def _start_of_day(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _start_of_hour(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _write(conn: Connection, units: Sequence[str], since: datetime, until: datetime, hours: int, now: datetime) -> int:
    window = read_window(conn, unit_ids=units, since=since, until=until)
    return upsert_features(conn, features=compute_features(window, window_hours=hours), computed_at=now)


def refresh_windows(
    conn: Connection, *, unit_ids: Sequence[str], since: datetime, until: datetime, window_hours: int, now: datetime
) -> int:
    """Compute and store the `window_hours` features of [since, until) for the units; return rows written."""
    written = 0
    for first in range(0, len(unit_ids), SHARD_UNITS):
        shard = unit_ids[first : first + SHARD_UNITS]
        try:
            with conn.transaction():
                written += _write(conn, shard, since, until, window_hours, now)
        except Exception:  # the shard's failure must not stop the fleet: retry unit by unit
            log.exception("features of a shard of %d units failed; retrying unit by unit", len(shard))

            def one(c: Connection, unit: str) -> None:
                _write(c, [unit], since, until, window_hours, now)

            for_each_unit(conn, shard, one, job="features")
    return written


def run(conn: Connection, *, now: datetime) -> None:
    """Refresh the last hours' hourly features and the daily features of days completed since the last run."""
    today = _start_of_day(now)
    units = [unit.unit_id for unit in active_units(conn, since=today - timedelta(days=MAX_CATCH_UP_DAYS))]
    if not units:
        return
    hour_from = _start_of_hour(now - HOURLY_LOOKBACK)
    hourly = refresh_windows(conn, unit_ids=units, since=hour_from, until=now, window_hours=1, now=now)
    last = last_complete_window(conn, window_hours=24)
    earliest = today - timedelta(days=MAX_CATCH_UP_DAYS)
    first_day = max(earliest, last + timedelta(days=1)) if last else earliest
    daily = 0
    if first_day < today:
        daily = refresh_windows(conn, unit_ids=units, since=first_day, until=today, window_hours=24, now=now)
    log.info("features of %d unit(s): %d hourly and %d daily rows", len(units), hourly, daily)
