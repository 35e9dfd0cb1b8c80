"""Synthetic telemetry for detection tests: a unit whose door rollers wear from a given day, or a healthy one.

Quick to build (numpy, no simulator run) and explicit about what it injects: door times and reopens grow with
wear as the simulator's physics has them; every other signal is noise around a per-unit level.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl

from models.db import Connection
from models.telemetry.presence import register_units, touch_last_seen
from models.telemetry.samples import copy_telemetry

START = datetime(2026, 3, 2, tzinfo=UTC)
PERIOD_S = 600
SAMPLES_PER_DAY = 86_400 // PERIOD_S


def unit_rows(
    unit_id: str, *, days: int, seed: int, wear_from_day: float | None = None, wear_days: float = 12.0
) -> list[tuple[Any, ...]]:
    """Telemetry rows (models.telemetry.TELEMETRY_COLUMNS order) of one unit, one sample every PERIOD_S."""
    rng = np.random.default_rng(seed)
    n = days * SAMPLES_PER_DAY
    t = np.arange(n) * PERIOD_S
    wear = np.zeros(n) if wear_from_day is None else np.clip((t / 86_400 - wear_from_day) / wear_days, 0, 1) ** 1.6
    moving = rng.random(n) < 0.2
    direction = np.where(moving, rng.choice([-1, 1], n), 0)
    load = rng.uniform(0, 80, n)
    trips = 100_000 + np.cumsum(rng.poisson(2.0, n))
    reopen = rng.random(n) < 0.05 + 0.8 * wear
    doors = 110_000 + np.cumsum(rng.poisson(2.0, n) + reopen)
    rows = []
    for i in range(n):
        at = START + timedelta(seconds=int(t[i]))
        door = (round(2.5 * (1 + 0.6 * wear[i]) * (1 + 0.04 * rng.normal()), 2),
                round(3.0 * (1 + 0.9 * wear[i]) * (1 + 0.04 * rng.normal()), 2), int(reopen[i]),
                round(0.02 * np.exp(0.1 * rng.normal()), 4), round(8.0 * (1 + 0.1 * rng.normal()), 1))  # fmt: skip
        current = 20.0 + 0.1 * direction[i] * (load[i] - 45) + rng.normal(0, 0.4) if moving[i] else 0.0
        rows.append((unit_id, at, at, 3, 9.0, int(direction[i]), 1.6 * direction[i], float(load[i]), 0, current,
                     45 + rng.normal(0, 0.5), 40 + rng.normal(0, 0.5), 0.06, 0.06, 0.12 * np.exp(0.1 * rng.normal()),
                     not moving[i], float(rng.normal(0, 1.5)), int(trips[i]), int(doors[i]),
                     5000 + 0.05 * float(trips[i] - trips[0]), 150 + rng.normal(0, 3), None, *door))  # fmt: skip
    return rows


def load_units(conn: Connection, units: dict[str, list[tuple[Any, ...]]]) -> None:
    """Register the units, write their telemetry and mark them seen at their last sample (as ingest does)."""
    register_units(conn, ids=set(units))
    for rows in units.values():
        copy_telemetry(conn, rows=rows)
    touch_last_seen(conn, seen={unit: rows[-1][1] for unit, rows in units.items() if rows})


def window_frame(rows: list[tuple[Any, ...]]) -> pl.DataFrame:
    """The frame models.monitoring.features.read_window returns, built from rows without a database."""
    names = ["unit_id", "time", "direction", "speed_mps", "load_pct", "motor_current_a", "motor_temp_c",
             "drive_temp_c", "vibration_z", "levelling_error_mm", "trip_count", "door_cycles", "energy_kwh",
             "standby_power_w", "door_open_s", "door_close_s", "vibration_hf", "stop_distance_mm"]  # fmt: skip
    picked = [(r[0], r[1], r[5], r[6], r[7], r[9], r[10], r[11], r[14], r[16], r[17], r[18], r[19], r[20],
               r[22], r[23], r[25], r[26]) for r in rows]  # fmt: skip
    return pl.DataFrame(picked, schema=names, orient="row").with_columns(pl.col("time").dt.cast_time_unit("us"))
