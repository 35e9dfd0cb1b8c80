"""Move telemetry past its hot age to the Parquet cold tier, and delete cold days past retention."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

from models.db import Connection
from models.telemetry.cold import cold_horizon, drop_cold_days, move_to_cold

__all__ = ["run"]

log = logging.getLogger(__name__)


def run(conn: Connection, *, now: datetime, root: Path, hot_for: timedelta, retention: timedelta) -> None:
    """Move each day older than `hot_for` (once rolled up) under `root`; drop cold days older than `retention`."""
    before = cold_horizon(conn, now=now, age=hot_for)
    for day in move_to_cold(conn, root=root, before=before, now=now) if before is not None else ():
        log.info("cold tier: %s moved, %d rows in %s (chunk %s dropped)", day.day, day.rows, day.path, day.chunk)
    dropped = drop_cold_days(root, older_than=now - retention)
    if dropped:
        log.info("cold tier: %d day(s) past retention deleted, through %s", len(dropped), dropped[-1])
