"""Fleet quality: reliability figures per model, component type, batch and supplier; batch alerts; the field
verification of corrective actions."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta

from brain.quality.alerts import raise_alerts
from brain.quality.reliability import compute_stats, lives_frame
from models.db import Connection
from models.quality.lives import component_lives, group_labels, last_rolled_day, roll_up_counters
from models.quality.reliability import replace_stats

__all__ = ["run"]

log = logging.getLogger(__name__)


def run(conn: Connection, *, now: datetime, counters_since: timedelta) -> None:
    """Fold new telemetry counters into daily readings, recompute the reliability snapshot as of `now`, then test
    every batch and verify corrective actions. A first pass reads counters from `counters_since` back."""
    last = last_rolled_day(conn)
    since = datetime.combine(last, time(), UTC) if last is not None else now - counters_since
    roll_up_counters(conn, since=since, until=now)
    lives = lives_frame(component_lives(conn, as_of=now))
    stats = compute_stats(lives, labels=group_labels(conn), now=now)
    replace_stats(conn, stats=stats)
    new = raise_alerts(conn, now=now)
    log.info("quality: %d lives, %d reliability rows, %d new alert(s)", lives.height, len(stats), len(new))
