"""Degradation processes: which component wears, how fast, how it shows and how it ends.

Each process has an onset (hidden ground truth) and a time to failure. Between them a severity grows from 0 to
1 as ((t - onset) / ttf) ** shape: slow at first, faster near the end, which is how wear usually looks in
condition data. The physics (simulators/physics.py) turns severity into signals; at severity 1 the unit
fails with the process's event code and stays out of service until the component is replaced.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulators.rng import FloatArray

__all__ = ["DEFECTIVE_HAZARD_FACTOR", "ONSET_LOOKBACK_DAYS", "PROCESSES", "Process", "severity"]


@dataclass(frozen=True)
class Process:
    """One degradation process of one component type."""

    cause: str
    component_type: str
    # Onsets per component-year for a good batch (a defective batch multiplies it).
    onset_per_year: float
    ttf_days: tuple[float, float]
    shape: float
    # Event the controller raises at failure; None when the failure is only a tolerance being exceeded.
    failure_event: str | None
    repair_hours: tuple[float, float]


PROCESSES: tuple[Process, ...] = (
    Process("door_roller_wear", "door_rollers", 0.30, (8.0, 30.0), 1.6, "door_close_fault", (2.0, 6.0)),
    Process("brake_lining_wear", "brake", 0.10, (15.0, 50.0), 2.0, "unintended_car_movement", (6.0, 24.0)),
    Process("bearing_wear", "bearing", 0.12, (20.0, 70.0), 2.2, "motor_runtime_limiter", (8.0, 36.0)),
    Process("rope_stretch", "ropes", 0.08, (30.0, 90.0), 1.0, "out_of_service", (4.0, 12.0)),
    Process("drive_overheating", "drive", 0.15, (5.0, 25.0), 1.5, "no_restart", (2.0, 8.0)),
)

# Defective lots wear this many times as often: a handful of bad lots then explains most field failures.
DEFECTIVE_HAZARD_FACTOR = 8.0
# Onsets are drawn from this many days before the start, so a fleet starts with wear already under way.
ONSET_LOOKBACK_DAYS = 60.0


def severity(t: FloatArray, onset: FloatArray, ttf_s: FloatArray, shape: float) -> FloatArray:
    """Severity in [0, 1] at times `t` (seconds) of processes starting at `onset` lasting `ttf_s`."""
    # A process without onset has onset = +inf: the progress clips to 0 without a special case.
    return np.clip((t - onset) / ttf_s, 0.0, 1.0) ** shape
