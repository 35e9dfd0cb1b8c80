"""Counter history for bench/quality.py, written straight into the database: daily readings (what earlier
passes of the quality job left in `unit_counter_days`) up to a cut, then raw telemetry samples after it, for the
timed pass to roll up.

Each unit runs at its simulated trips per day with a weekly swing (a closed form, so counters stay monotonic
without a running sum), its model's running energy per trip and standby power; the energy counter grows by
both. Standby readings carry STANDBY_NOISE, so low-use units' running energy (counter growth less standby) is
noisy: the confounder the drift test has to live with. DRIFT_SHARE of the units (a brake dragging) use
DRIFT_FACTOR times the running energy per trip from the start of the last complete month before the cut.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import numpy as np
from psycopg import sql

from models.db import Connection
from simulators.fleet import TRIPS_PER_JOURNEY, Fleet

__all__ = ["DRIFT_FACTOR", "drift_units", "write_counters"]

# Share of units whose running energy rises (brake drag) and by how much: the drift the energy pass should flag.
DRIFT_SHARE = 0.01
DRIFT_FACTOR = 1.4
# Day-to-day spread of a standby power reading (meter and auxiliary loads switching).
STANDBY_NOISE = 0.05
# Amplitude of the weekly traffic swing (weekends quieter), as a share of the mean.
WEEKLY_SWING = 0.4
# Raw samples per unit and hour after the cut (the timed pass probes the last one of each day).
SAMPLES_PER_HOUR = 4

# trips(d) = r * (d - s * 7 / 2pi * cos(2pi d / 7)) + c grows at r * (1 + s * sin(2pi d / 7)) >= r * (1 - s): monotonic.
_TRIPS = "u.rate * (d.x - %(swing)s * 7 / (2 * pi()) * cos(2 * pi() * d.x / 7)) + u.rate * 2"
_COUNTERS = sql.SQL("""
SELECT u.unit_id, d.x, t.trips, t.trips * 1.1 AS doors,
       u.standby_w * 24 * d.x / 1000 + u.kwh_per_trip * t.trips
       + CASE WHEN u.drift AND d.x > %(drift_from)s
              THEN (%(factor)s - 1) * u.kwh_per_trip * (t.trips - u.rate * (%(drift_from)s - %(swing)s * 7 / (2 * pi())
                   * cos(2 * pi() * %(drift_from)s / 7)) - u.rate * 2) ELSE 0 END AS energy,
       u.standby_w * (1 + %(noise)s * (random() * 2 - 1)) AS standby
FROM bench_rates u, LATERAL (SELECT {trips} AS trips) t
""").format(trips=sql.SQL(_TRIPS))
_DAYS = sql.SQL("""
INSERT INTO unit_counter_days (unit_id, day, trip_count, door_cycles, energy_kwh, standby_power_w)
SELECT c.unit_id, (%(start)s::date + c.x::int - 1), c.trips::bigint, c.doors::bigint, c.energy, c.standby
FROM generate_series(1, %(days)s) AS d(x), LATERAL ({counters}) c
""").format(counters=_COUNTERS)
_SAMPLES = sql.SQL("""
INSERT INTO telemetry (unit_id, time, received_at, direction, trip_count, door_cycles, energy_kwh, standby_power_w)
SELECT c.unit_id, %(start)s + c.x * interval '1 day', %(start)s + c.x * interval '1 day', 0, c.trips::bigint,
       c.doors::bigint, c.energy, c.standby::real
FROM generate_series(0, %(samples)s - 1) AS i(n), LATERAL (SELECT %(first)s + i.n * %(step)s AS x) d,
     LATERAL ({counters}) c
""").format(counters=_COUNTERS)


def drift_units(fleet: Fleet, *, seed: int) -> set[str]:
    """The units whose running energy drifts (DRIFT_SHARE of the fleet, drawn from `seed`)."""
    rng = np.random.default_rng(seed + 7)
    picked = rng.choice(fleet.size, size=max(1, round(fleet.size * DRIFT_SHARE)), replace=False)
    return {fleet.unit_ids[int(i)] for i in picked}


def _pg_seed(seed: int) -> float:
    """The fleet's seed as PostgreSQL's setseed() takes it (within [-1, 1])."""
    return (seed % 1000) / 1000.0


def _rates(conn: Connection, fleet: Fleet, drifting: set[str]) -> None:
    """Each unit's trips per day, running energy per trip and standby power, in a temporary table."""
    trips = fleet.journeys_per_day * TRIPS_PER_JOURNEY
    mean_trip_m = fleet.floors / 3.0 * fleet.floor_height_m
    kwh = fleet.running_mwh_per_kg_m * fleet.capacity_kg * mean_trip_m * 1e-6
    conn.execute(
        "CREATE TEMP TABLE bench_rates (unit_id text, rate float8, kwh_per_trip float8, standby_w float8, drift bool)"
    )
    data = io.StringIO()
    for i, unit_id in enumerate(fleet.unit_ids):
        data.write(f"{unit_id}\t{trips[i]}\t{kwh[i]}\t{fleet.standby_w[i]}\t{unit_id in drifting}\n")
    with conn.cursor() as cur, cur.copy("COPY bench_rates FROM STDIN") as copy:
        copy.write(data.getvalue())


def write_counters(conn: Connection, fleet: Fleet, *, start: datetime, cut: datetime, end: datetime,
                   drifting: set[str], drift_from: datetime) -> tuple[int, int]:  # fmt: skip
    """Daily readings for [start, cut), raw samples for [cut, end); the rows of each."""
    params = {
        "start": start, "swing": WEEKLY_SWING, "noise": STANDBY_NOISE, "factor": DRIFT_FACTOR,
        "drift_from": (drift_from - start) / timedelta(days=1),
    }  # fmt: skip
    with conn.transaction():
        conn.execute("SELECT setseed(%s)", (_pg_seed(fleet.seed),))  # the standby noise repeats per seed
        _rates(conn, fleet, drifting)
        days = conn.execute(_DAYS, {**params, "days": (cut - start).days}).rowcount
        samples = conn.execute(
            _SAMPLES,
            {**params, "first": (cut - start) / timedelta(days=1), "step": 1 / 24 / SAMPLES_PER_HOUR,
             "samples": int((end - cut) / timedelta(hours=1) * SAMPLES_PER_HOUR)},
        ).rowcount  # fmt: skip
        conn.execute("DROP TABLE bench_rates")
    return days, samples
