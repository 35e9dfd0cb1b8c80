"""Fleet quality: reliability figures per model, component type, batch and supplier; batch alerts; the field
verification of corrective actions; energy classes per unit and month with drift alarms."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from time import perf_counter

from brain.quality.alerts import raise_alerts
from brain.quality.energy import run_energy
from brain.quality.reliability import compute_stats, lives_frame
from models.db import Connection
from models.quality.field import MAX_DOWNTIME
from models.quality.lives import (
    component_lives,
    group_labels,
    last_rolled_day,
    model_downtime,
    roll_up_counters,
    without_jit,
)
from models.quality.reliability import replace_stats, snapshot

__all__ = ["run", "timed_pass"]

log = logging.getLogger(__name__)

# Availability from fault events is judged over the last year: recent enough to describe the fleet as it is.
AVAILABILITY_WINDOW = timedelta(days=365)


def run(conn: Connection, *, now: datetime, counters_since: timedelta) -> None:
    """One scheduled pass (see timed_pass)."""
    timed_pass(conn, now=now, counters_since=counters_since)


def timed_pass(conn: Connection, *, now: datetime, counters_since: timedelta) -> dict[str, float]:
    """Fold new telemetry counters into daily readings, classify the months they touch, recompute the
    reliability snapshot as of `now`, then test every batch and verify corrective actions. A first pass reads
    counters from `counters_since` back. The seconds each stage took (also logged)."""
    clock = _Stages()
    without_jit(conn)
    last = last_rolled_day(conn)
    since = datetime.combine(last, time(), UTC) if last is not None else now - counters_since
    days = roll_up_counters(conn, since=since, until=now)
    clock.lap("counters")
    months, drifting = run_energy(conn, since=since.date(), now=now)
    clock.lap("energy")
    downtime = {
        str(row["model_id"]): _availability(row, AVAILABILITY_WINDOW)
        for row in model_downtime(conn, since=now - AVAILABILITY_WINDOW, until=now, max_down=MAX_DOWNTIME)
    }
    clock.lap("downtime")
    lives = lives_frame(component_lives(conn, as_of=now))
    clock.lap("lives")
    stats = compute_stats(lives, labels=group_labels(conn), now=now, downtime=downtime, previous=snapshot(conn))
    clock.lap("stats")
    replace_stats(conn, stats=stats)
    new = raise_alerts(conn, now=now)
    clock.lap("alerts")
    log.info(
        "quality: %d counter days, %d energy months (%d drifting), %d lives, %d reliability rows, %d new alert(s);"
        " seconds %s", days, months, drifting, lives.height, len(stats), len(new), clock,
    )  # fmt: skip
    return clock.seconds


class _Stages:
    """Seconds per stage of one pass, for the log line and the bench."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = perf_counter()

    def lap(self, stage: str) -> None:
        now = perf_counter()
        self.seconds[stage] = round(now - self._last, 3)
        self._last = now

    def __str__(self) -> str:
        return " ".join(f"{stage}={seconds}" for stage, seconds in self.seconds.items())


def _availability(row: dict[str, object], window: timedelta) -> dict[str, float | None]:
    """A model's fault downtime over `window` and the availability it leaves (None where no unit reports events)."""
    units, downtime = row["reporting_units"], float(row["downtime_hours"])  # type: ignore[arg-type]
    if not isinstance(units, int) or units == 0:
        return {"downtime_hours": None, "event_availability": None}
    return {"downtime_hours": downtime, "event_availability": 1.0 - downtime / (units * window / timedelta(hours=1))}
