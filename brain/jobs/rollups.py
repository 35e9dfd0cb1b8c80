"""Keep the hourly and daily telemetry rollups current (incrementally, from their marks)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from models.db import Connection
from models.telemetry.rollups import refresh_rollups

__all__ = ["run"]

log = logging.getLogger(__name__)


def run(conn: Connection, *, now: datetime, lookback: timedelta) -> None:
    """Roll the hours and days completed since the last pass, re-rolling `lookback` before it for late data."""
    done = refresh_rollups(conn, now=now, lookback=lookback)
    if done.late_buckets or done.new_buckets or done.daily_buckets:
        log.info("rollups: %d new and %d late hourly bucket(s), %d daily bucket(s) from %s", done.new_buckets,
                 done.late_buckets, done.daily_buckets, done.daily_since)  # fmt: skip
